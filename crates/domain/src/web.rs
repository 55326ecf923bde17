//! People signed in to the web interface: an identity with an optional local password and the
//! roles it holds beyond reviewing its own work, and their browser sessions.

use crate::{ClientRole, Id, Timestamp};

/// An identity allowed to sign in to the web interface.
#[derive(Clone, PartialEq, Eq)]
pub struct WebUser {
    pub identity_id: Id,
    /// argon2id PHC string; `None`: single sign-on only.
    pub password_hash: Option<String>,
    /// Roles beyond reviewing (`ORG_ADMIN`, `CERT_ADMIN`, `OPERATOR`, `REPORT_ADMIN`).
    pub roles: Vec<ClientRole>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl std::fmt::Debug for WebUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebUser")
            .field("identity_id", &self.identity_id)
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "[redacted]"),
            )
            .field("roles", &self.roles)
            .finish()
    }
}

/// A signed-in browser, as stored: the cookie's token is kept only as its SHA-256.
#[derive(Clone, PartialEq, Eq)]
pub struct WebSession {
    pub token_hash: String,
    pub identity_id: Id,
    /// The token every form of the session carries.
    pub csrf: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl std::fmt::Debug for WebSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSession")
            .field("identity_id", &self.identity_id)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

//! API clients: the credentials scripts and SDKs use, and the roles they carry.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Id, Timestamp};

/// What an API client may do. Checked in the core for every action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ClientRole {
    /// Everything.
    OrgAdmin,
    /// Everything about campaigns and certifications.
    CertAdmin,
    /// Creates campaigns and acts only on those it created.
    Operator,
    /// Reads campaigns and reports.
    ReportAdmin,
    /// A reviewer: sees and changes only what is assigned to its bound identity.
    User,
}

impl ClientRole {
    pub const ALL: [ClientRole; 5] = [
        Self::OrgAdmin,
        Self::CertAdmin,
        Self::Operator,
        Self::ReportAdmin,
        Self::User,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::OrgAdmin => "ORG_ADMIN",
            Self::CertAdmin => "CERT_ADMIN",
            Self::Operator => "OPERATOR",
            Self::ReportAdmin => "REPORT_ADMIN",
            Self::User => "USER",
        }
    }
}

impl fmt::Display for ClientRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ClientRole {
    /// A role list as stored: names joined by commas, e.g. `CERT_ADMIN,REPORT_ADMIN`.
    pub fn encode_list(roles: &[ClientRole]) -> String {
        roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Reads a stored role list back.
    pub fn decode_list(s: &str) -> Result<Vec<ClientRole>, InvalidClientRole> {
        s.split(',')
            .filter(|p| !p.is_empty())
            .map(str::parse)
            .collect()
    }
}

/// Why a string is not a [`ClientRole`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a role: expected ORG_ADMIN, CERT_ADMIN, OPERATOR, REPORT_ADMIN or USER")]
pub struct InvalidClientRole(pub String);

impl FromStr for ClientRole {
    type Err = InvalidClientRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let upper = s.trim().to_ascii_uppercase().replace('-', "_");
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == upper)
            .ok_or_else(|| InvalidClientRole(s.to_owned()))
    }
}

/// An API client as stored. The secret is only ever held as a hash.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiClient {
    pub id: Id,
    pub name: String,
    /// A PHC string (argon2id); never the secret itself.
    pub secret_hash: String,
    /// Sorted, without duplicates, never empty.
    pub roles: Vec<ClientRole>,
    /// The identity this client acts as, for reviewers.
    pub identity_id: Option<Id>,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

impl fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiClient")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("secret_hash", &"<redacted>")
            .field("roles", &self.roles)
            .field("identity_id", &self.identity_id)
            .field("created_at", &self.created_at)
            .field("revoked_at", &self.revoked_at)
            .finish()
    }
}

/// A key recert signs access tokens with (Ed25519). The newest unretired key signs; retired keys
/// still verify the tokens they signed until those expire.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey {
    /// The `kid` in token headers.
    pub kid: Id,
    /// The Ed25519 secret seed. Never logged; `Debug` hides it.
    pub private_key: [u8; 32],
    pub created_at: Timestamp,
    /// When it stopped signing (rotation); `None` for the current key.
    pub retired_at: Option<Timestamp>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("private_key", &"<redacted>")
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish()
    }
}

impl SigningKey {
    /// The seed as 64 hex characters, as stored.
    pub fn private_key_hex(&self) -> String {
        self.private_key
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Reads a stored seed back; `None` unless it is exactly 64 hex characters.
    pub fn parse_private_key_hex(s: &str) -> Option<[u8; 32]> {
        if s.len() != 64 || !s.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, b) in out.iter_mut().enumerate() {
            *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(out)
    }
}

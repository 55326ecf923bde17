//! Signing in to the web interface: identities with a local password (argon2id) or single
//! sign-on, browser sessions kept in the store (the cookie carries a random token, the store
//! only its SHA-256), and the principal a session speaks for.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use recert_domain::web::WebSession;
use recert_domain::{ClientRole, Clock, Duration, Id, Identity, Timestamp};
use recert_store::{Store, StoreError};
use sha2::{Digest, Sha256};

use crate::auth::Principal;

/// The shortest local password accepted.
pub const MIN_PASSWORD: usize = 12;

/// Why signing in or setting a password failed.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Wrong login or password; deliberately says no more.
    #[error("the name or password is not right")]
    BadCredentials,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new session: the cookie's token and the form token.
#[derive(Clone, PartialEq, Eq)]
pub struct NewSession {
    pub token: String,
    pub csrf: String,
    pub expires_at: Timestamp,
}

impl std::fmt::Debug for NewSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSession")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Who a session speaks for.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedIn {
    pub principal: Principal,
    pub identity: Identity,
    pub csrf: String,
    pub token_hash: String,
}

/// Fills `b` from the system's randomness.
pub fn random_fill(b: &mut [u8]) -> Result<(), StoreError> {
    getrandom::fill(b).map_err(|e| StoreError::Database(format!("no randomness: {e}")))
}

fn random_token() -> Result<String, StoreError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| StoreError::Database(format!("no randomness: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(b))
}

/// The SHA-256 of a session token, as stored.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Sessions and sign-in over one store.
#[derive(Debug, Clone)]
pub struct WebAuth {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    lifetime: Duration,
    decoy: Arc<String>,
    /// Bounds the argon2 checks running at once (each takes ~19 MiB and a core for tens of
    /// milliseconds): a flood of sign-ins queues instead of exhausting the machine.
    hashing: Arc<tokio::sync::Semaphore>,
    /// Cookies carry `Secure` whatever the request says (recert is reached over https).
    secure_cookies: bool,
}

impl WebAuth {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        lifetime: Duration,
    ) -> Result<Self, WebError> {
        let decoy = crate::clients::hash_secret("decoy password")
            .map_err(|e| WebError::Invalid(e.to_string()))?;
        Ok(WebAuth {
            store,
            clock,
            lifetime,
            decoy: Arc::new(decoy),
            hashing: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            )),
            secure_cookies: false,
        })
    }

    /// Marks every cookie `Secure` (the public address is https).
    pub fn with_secure_cookies(mut self, secure: bool) -> Self {
        self.secure_cookies = secure;
        self
    }

    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies
    }

    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// Checks a login (identity name or email) and password; opens a session.
    pub async fn login(&self, login: &str, password: &str) -> Result<NewSession, WebError> {
        let identity = self.store.identity_by_login(login).await?;
        // The same queries whether or not the person exists, so that timing does not tell.
        let probe = identity.as_ref().map_or(Id::from_bytes([0; 16]), |i| i.id);
        let user = self.store.web_user(probe).await?;
        let hash = user
            .as_ref()
            .and_then(|u| u.password_hash.clone())
            .unwrap_or_else(|| self.decoy.as_str().to_owned());
        let pw = password.to_owned();
        // argon2 takes tens of milliseconds: off the async threads, a few at a time. Unknown
        // people are checked against a decoy, so that the answer takes as long.
        let ok = {
            let _permit = self
                .hashing
                .acquire()
                .await
                .map_err(|e| WebError::Invalid(e.to_string()))?;
            tokio::task::spawn_blocking(move || verify(&hash, &pw))
                .await
                .unwrap_or(false)
        };
        match (identity, user.and_then(|u| u.password_hash)) {
            (Some(i), Some(_)) if ok => self.open(i.id).await,
            _ => Err(WebError::BadCredentials),
        }
    }

    /// Opens a session for an identity that proved who it is (a password, single sign-on).
    pub async fn open(&self, identity: Id) -> Result<NewSession, WebError> {
        let now = self.clock.now();
        let token = random_token()?;
        let csrf = random_token()?;
        let expires_at = now.plus(self.lifetime);
        self.store
            .create_web_session(&WebSession {
                token_hash: token_hash(&token),
                identity_id: identity,
                csrf: csrf.clone(),
                created_at: now,
                expires_at,
            })
            .await?;
        Ok(NewSession {
            token,
            csrf,
            expires_at,
        })
    }

    /// The session of a cookie token, with the principal it speaks for; `None` when unknown,
    /// expired, or its identity is gone or inactive.
    pub async fn session(&self, token: &str) -> Result<Option<SignedIn>, StoreError> {
        let now = self.clock.now();
        let hash = token_hash(token);
        let Some(s) = self.store.web_session(&hash, now).await? else {
            return Ok(None);
        };
        let Some(identity) = self.store.identity(s.identity_id).await? else {
            return Ok(None);
        };
        if !identity.active {
            return Ok(None);
        }
        let roles = self
            .store
            .web_user(identity.id)
            .await?
            .map(|u| u.roles)
            .unwrap_or_default();
        Ok(Some(SignedIn {
            principal: Principal {
                client_id: identity.id,
                name: identity.display_name.clone(),
                roles: if roles.is_empty() {
                    vec![ClientRole::User]
                } else {
                    roles
                },
                identity_id: Some(identity.id),
            },
            identity,
            csrf: s.csrf,
            token_hash: hash,
        }))
    }

    /// Ends a session (and sweeps expired ones).
    pub async fn logout(&self, token_hash: &str) -> Result<(), StoreError> {
        self.store
            .delete_web_session(token_hash, self.clock.now())
            .await
    }
}

fn verify(hash: &str, password: &str) -> bool {
    use argon2::{Argon2, PasswordHash, PasswordVerifier};
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Sets an identity's local password (and, when given, its roles in the web interface).
pub async fn set_password(
    store: &dyn Store,
    clock: &dyn Clock,
    identity: Id,
    password: &str,
    roles: Option<&[ClientRole]>,
) -> Result<(), WebError> {
    let password = password.trim_end_matches(['\r', '\n']);
    if password.chars().count() < MIN_PASSWORD {
        return Err(WebError::Invalid(format!(
            "the password must have at least {MIN_PASSWORD} characters"
        )));
    }
    if let Some(r) = roles
        && r.contains(&ClientRole::User)
    {
        return Err(WebError::Invalid(
            "USER is every signed-in person's role; give ORG_ADMIN, CERT_ADMIN, OPERATOR or \
             REPORT_ADMIN"
                .into(),
        ));
    }
    let hash =
        crate::clients::hash_secret(password).map_err(|e| WebError::Invalid(e.to_string()))?;
    if !store
        .set_web_user(identity, Some(&hash), roles, clock.now())
        .await?
    {
        return Err(WebError::Invalid(format!(
            "identity {identity} does not exist"
        )));
    }
    Ok(())
}

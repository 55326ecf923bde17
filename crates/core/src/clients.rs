//! API clients: creating one (with a secret shown once and stored only as an argon2id hash),
//! listing and revoking them, and checking a presented secret.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use recert_domain::{ApiClient, ClientRole, Clock, Id};
use recert_store::{Store, StoreError};

/// What to create.
#[derive(Debug, Clone)]
pub struct NewClient {
    /// A label for people; defaults to the roles.
    pub name: Option<String>,
    pub roles: Vec<ClientRole>,
    /// The identity the client acts as (required for `USER`).
    pub identity_id: Option<Id>,
}

/// A created client and its secret. The secret exists only here: it is not stored.
#[derive(Clone)]
pub struct CreatedClient {
    pub client: ApiClient,
    pub secret: String,
}

impl std::fmt::Debug for CreatedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedClient")
            .field("client", &self.client)
            .field("secret", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("at least one role is required (ORG_ADMIN, CERT_ADMIN, OPERATOR, REPORT_ADMIN, USER)")]
    NoRole,
    #[error("a USER client reviews as an identity: bind it to one with --identity ID")]
    UserWithoutIdentity,
    #[error("identity {0} does not exist")]
    UnknownIdentity(Id),
    #[error("API client {0} does not exist")]
    NotFound(Id),
    #[error("API client {0} is already revoked")]
    AlreadyRevoked(Id),
    #[error("cannot generate a secret: {0}")]
    Random(String),
    #[error("cannot hash the secret: {0}")]
    Hash(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn random_bytes<const N: usize>() -> Result<[u8; N], ClientError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| ClientError::Random(e.to_string()))?;
    Ok(buf)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hashes a secret with argon2id and a random salt (PHC string).
pub fn hash_secret(secret: &str) -> Result<String, ClientError> {
    let salt_bytes = random_bytes::<16>()?;
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| ClientError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ClientError::Hash(e.to_string()))
}

/// Checks a presented secret against the stored hash, in constant time.
pub fn verify_secret(client: &ApiClient, secret: &str) -> bool {
    PasswordHash::new(&client.secret_hash)
        .map(|h| {
            Argon2::default()
                .verify_password(secret.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

pub async fn create(
    store: &dyn Store,
    clock: &dyn Clock,
    new: NewClient,
) -> Result<CreatedClient, ClientError> {
    let mut roles = new.roles;
    roles.sort();
    roles.dedup();
    if roles.is_empty() {
        return Err(ClientError::NoRole);
    }
    if roles.contains(&ClientRole::User) && new.identity_id.is_none() {
        return Err(ClientError::UserWithoutIdentity);
    }
    if let Some(who) = new.identity_id
        && store.identity(who).await?.is_none()
    {
        return Err(ClientError::UnknownIdentity(who));
    }
    let secret = hex(&random_bytes::<32>()?);
    let id = Id::generate();
    let name = new.name.unwrap_or_else(|| {
        let r: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        r.join("+").to_ascii_lowercase()
    });
    let client = ApiClient {
        id,
        name,
        secret_hash: hash_secret(&secret)?,
        roles,
        identity_id: new.identity_id,
        created_at: clock.now(),
        revoked_at: None,
    };
    store.create_api_client(&client).await?;
    tracing::info!(client.id = %client.id, roles = ?client.roles, "API client created");
    Ok(CreatedClient { client, secret })
}

pub async fn list(store: &dyn Store) -> Result<Vec<ApiClient>, ClientError> {
    Ok(store.api_clients().await?)
}

pub async fn revoke(store: &dyn Store, clock: &dyn Clock, id: Id) -> Result<(), ClientError> {
    if store.revoke_api_client(id, clock.now()).await? {
        tracing::info!(client.id = %id, "API client revoked");
        return Ok(());
    }
    match store.api_client(id).await? {
        None => Err(ClientError::NotFound(id)),
        Some(_) => Err(ClientError::AlreadyRevoked(id)),
    }
}

//! Authentication: OAuth 2 client credentials in, signed access tokens out, and every request's
//! bearer token back to a [`Principal`]. Authorization is the principal's facets (`principal.rs`);
//! request rate limits are in `ratelimit.rs`.

pub mod jwt;
mod principal;
pub mod ratelimit;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use ed25519_dalek::VerifyingKey;
use recert_domain::{ApiClient, Clock, Duration, Id, SigningKey, Timestamp};
use recert_store::{Store, StoreError};

pub use principal::{
    CampaignCreator, CertAdmin, OrgAdmin, Principal, ReportReader, Reviewer, veza_role,
};

use crate::clients;

/// The scope every token carries, as SailPoint names full API access.
pub const SCOPE: &str = "sp:scopes:all";

/// How long a key set read from the store is trusted before it is read again, so that a key
/// rotated by another process takes over here too.
const KEY_REFRESH_MILLIS: i64 = 60_000;
/// A token naming an unknown key makes us re-read the keys, at most this often.
const UNKNOWN_KID_RELOAD_MILLIS: i64 = 1_000;
/// Verified tokens remembered; past this many the memory is cleared and refilled.
const VERIFIED_CACHE_SIZE: usize = 10_000;

/// What a verified token said, kept so that the next request with the same token skips the
/// signature check (SDKs send one token for hours). The client is still read on every request.
#[derive(Debug, Clone, Copy)]
struct Verified {
    client_id: Id,
    kid: Id,
    expires_millis: i64,
}

/// An OAuth 2 token request, whatever encoding it came in.
#[derive(Default, Clone)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRequest")
            .field("grant_type", &self.grant_type)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// A token granted.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub access_token: String,
    pub expires_in: i64,
    pub scope: &'static str,
    pub identity_id: Option<Id>,
    pub jti: Id,
}

/// OAuth 2 token endpoint errors (RFC 6749 §5.2). Why a client was refused is never said.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    #[error("invalid_client")]
    InvalidClient,
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    #[error("server_error")]
    Server,
}

impl OAuthError {
    /// The `error` code of the body.
    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::InvalidRequest(_) => "invalid_request",
            OAuthError::InvalidClient => "invalid_client",
            OAuthError::UnsupportedGrantType => "unsupported_grant_type",
            OAuthError::Server => "server_error",
        }
    }
}

/// Why a bearer token was refused (a 401), or that the store failed (a 500).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token")]
    Missing,
    #[error("{0}")]
    Token(#[from] jwt::TokenError),
    #[error("the client of this token is revoked or unknown")]
    ClientGone,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug)]
struct KeyRing {
    current: SigningKey,
    /// Each key that may verify, with when it was retired (`None` for the current key).
    verify: HashMap<Id, (VerifyingKey, Option<Timestamp>)>,
    loaded_at: Timestamp,
}

/// The client a verified token names, not yet read: it authenticates nobody until
/// [`principal_of`] has found the client present and unrevoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenClient(Id);

impl TokenClient {
    pub fn id(self) -> Id {
        self.0
    }
}

/// The principal of a token's client as read from the store: refused when the client is gone
/// or revoked, whatever the token says.
pub fn principal_of(client: Option<ApiClient>) -> Result<Principal, AuthError> {
    let client = client
        .filter(|c| c.revoked_at.is_none())
        .ok_or(AuthError::ClientGone)?;
    Ok(Principal {
        client_id: client.id,
        name: client.name,
        roles: client.roles,
        identity_id: client.identity_id,
    })
}

/// Issues and checks access tokens.
#[derive(Debug)]
pub struct Auth {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    token_lifetime: Duration,
    keys: RwLock<Arc<KeyRing>>,
    last_unknown_kid_reload: Mutex<Option<Timestamp>>,
    verified: Mutex<HashMap<String, Verified>>,
    /// A hash to verify against when the client is unknown, so that the answer takes as long
    /// as for a known client with a wrong secret.
    decoy_hash: String,
    /// Bounds the argon2 verifications running at once (each takes ~19 MiB and a core for tens
    /// of milliseconds), so a flood of token requests queues instead of exhausting the machine.
    hashing: tokio::sync::Semaphore,
}

fn random_seed() -> Result<[u8; 32], StoreError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| StoreError::Database(format!("no randomness: {e}")))?;
    Ok(seed)
}

fn new_key(now: Timestamp) -> Result<SigningKey, StoreError> {
    Ok(SigningKey {
        kid: Id::generate(),
        private_key: random_seed()?,
        created_at: now,
        retired_at: None,
    })
}

/// Retires the current signing key and makes a new one current. Tokens signed by the old key
/// stay valid until they expire.
pub async fn rotate_keys(store: &dyn Store, clock: &dyn Clock) -> Result<SigningKey, StoreError> {
    let key = new_key(clock.now())?;
    store.rotate_signing_key(&key).await?;
    tracing::info!(kid = %key.kid, "signing key rotated");
    Ok(key)
}

impl Auth {
    /// Loads the signing keys, creating the first one on first start.
    pub async fn start(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        token_lifetime: Duration,
    ) -> Result<Self, StoreError> {
        let candidate = new_key(clock.now())?;
        let current = store.ensure_signing_key(&candidate).await?;
        if current.kid == candidate.kid {
            tracing::info!(kid = %current.kid, "signing key created");
        }
        let decoy_hash =
            clients::hash_secret("decoy").map_err(|e| StoreError::Database(e.to_string()))?;
        let ring = Self::load(store.as_ref(), clock.now(), token_lifetime).await?;
        Ok(Auth {
            store,
            clock,
            token_lifetime,
            keys: RwLock::new(Arc::new(ring)),
            last_unknown_kid_reload: Mutex::new(None),
            verified: Mutex::new(HashMap::new()),
            decoy_hash,
            hashing: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            ),
        })
    }

    /// A key for `purpose` derived from the current signing key: the same in every process on
    /// one database, and replaced when the signing key is rotated.
    pub fn derived_key(&self, purpose: &str) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let ring = self.ring();
        let mut m = Hmac::<sha2::Sha256>::new_from_slice(&ring.current.private_key)
            .expect("HMAC takes keys of any length");
        m.update(purpose.as_bytes());
        m.finalize().into_bytes().into()
    }

    pub fn token_lifetime(&self) -> Duration {
        self.token_lifetime
    }

    async fn load(
        store: &dyn Store,
        now: Timestamp,
        lifetime: Duration,
    ) -> Result<KeyRing, StoreError> {
        let keys = store.signing_keys().await?;
        let current = keys
            .iter()
            .find(|k| k.retired_at.is_none())
            .cloned()
            .ok_or_else(|| StoreError::Database("no current signing key".into()))?;
        // A retired key verifies until every token it signed has expired.
        let verify = keys
            .iter()
            .filter(|k| k.retired_at.is_none_or(|r| r.plus(lifetime) > now))
            .map(|k| (k.kid, (jwt::verifying_key(k), k.retired_at)))
            .collect();
        Ok(KeyRing {
            current,
            verify,
            loaded_at: now,
        })
    }

    fn ring(&self) -> Arc<KeyRing> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    async fn reload(&self) -> Result<Arc<KeyRing>, StoreError> {
        let ring =
            Arc::new(Self::load(self.store.as_ref(), self.clock.now(), self.token_lifetime).await?);
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = ring.clone();
        Ok(ring)
    }

    /// The key ring, re-read when it is older than a minute.
    async fn fresh_ring(&self) -> Result<Arc<KeyRing>, StoreError> {
        let ring = self.ring();
        if self.clock.now().unix_millis() - ring.loaded_at.unix_millis() > KEY_REFRESH_MILLIS {
            return self.reload().await;
        }
        Ok(ring)
    }

    /// The client-credentials grant.
    pub async fn issue_token(&self, req: TokenRequest) -> Result<IssuedToken, OAuthError> {
        let grant = req
            .grant_type
            .ok_or_else(|| OAuthError::InvalidRequest("grant_type is required".into()))?;
        if grant != "client_credentials" {
            return Err(OAuthError::UnsupportedGrantType);
        }
        let (Some(client_id), Some(secret)) = (req.client_id, req.client_secret) else {
            return Err(OAuthError::InvalidRequest(
                "client_id and client_secret are required".into(),
            ));
        };
        let client = match Id::parse(&client_id) {
            Ok(id) => self.store.api_client(id).await.map_err(|e| {
                tracing::error!(error = %e, "token request: store failed");
                OAuthError::Server
            })?,
            Err(_) => None,
        };
        let client = self.check_secret(client, secret).await?;
        let ring = self.fresh_ring().await.map_err(|e| {
            tracing::error!(error = %e, "token request: cannot read signing keys");
            OAuthError::Server
        })?;
        let now = self.clock.now();
        let exp = now.plus(self.token_lifetime);
        let jti = Id::generate();
        let claims = jwt::Claims {
            iss: jwt::ISSUER.into(),
            sub: client.id.to_string(),
            iat: now.unix_millis() / 1000,
            exp: exp.unix_millis() / 1000,
            jti: jti.to_string(),
            scope: SCOPE.into(),
        };
        let token = jwt::sign(&claims, &ring.current);
        tracing::info!(client.id = %client.id, jti = %jti, "access token issued");
        Ok(IssuedToken {
            access_token: token,
            expires_in: self.token_lifetime.whole_seconds(),
            scope: SCOPE,
            identity_id: client.identity_id,
            jti,
        })
    }

    /// Verifies the secret off the async threads (argon2 is deliberately slow). Unknown and
    /// revoked clients cost the same as a wrong secret and get the same answer.
    async fn check_secret(
        &self,
        client: Option<ApiClient>,
        secret: String,
    ) -> Result<ApiClient, OAuthError> {
        let decoy = self.decoy_hash.clone();
        let _permit = self
            .hashing
            .acquire()
            .await
            .map_err(|_| OAuthError::Server)?;
        let (ok, client) = tokio::task::spawn_blocking(move || match client {
            Some(c) => (
                clients::verify_secret(&c, &secret) && c.revoked_at.is_none(),
                Some(c),
            ),
            None => {
                let stand_in = ApiClient {
                    id: Id::from_bytes([0; 16]),
                    name: String::new(),
                    secret_hash: decoy,
                    roles: vec![],
                    identity_id: None,
                    created_at: Timestamp::from_unix_millis(0),
                    revoked_at: None,
                };
                let _ = clients::verify_secret(&stand_in, &secret);
                (false, None)
            }
        })
        .await
        .map_err(|_| OAuthError::Server)?;
        match client {
            Some(c) if ok => Ok(c),
            _ => {
                tracing::info!("token request refused: invalid client");
                Err(OAuthError::InvalidClient)
            }
        }
    }

    /// Turns a bearer token into the principal it speaks for, reading the client afresh so that
    /// a revocation or a role change applies to the very next request.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, AuthError> {
        let client = self.verify_token(token).await?;
        self.principal(client).await
    }

    /// The principal of a verified token's client, read afresh.
    pub async fn principal(&self, client: TokenClient) -> Result<Principal, AuthError> {
        principal_of(self.store.api_client(client.id()).await?)
    }

    /// Checks a bearer token's signature, issuer, lifetime and key, without reading its client:
    /// the caller reads the client itself (with what else the request needs, in one round trip)
    /// and turns it into a principal with [`principal_of`].
    pub async fn verify_token(&self, token: &str) -> Result<TokenClient, AuthError> {
        self.verify(token).await.map(TokenClient)
    }

    /// Verifies a token (or finds it verified before) and answers its client id.
    async fn verify(&self, token: &str) -> Result<Id, AuthError> {
        let now = self.clock.now();
        let ring = self.fresh_ring().await?;
        let known = self
            .verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(token)
            .copied();
        if let Some(v) = known {
            if now.unix_millis() >= v.expires_millis {
                return Err(jwt::TokenError::Expired.into());
            }
            // A key dropped from the ring takes its tokens with it, remembered or not.
            if ring.verify.contains_key(&v.kid) {
                return Ok(v.client_id);
            }
        }
        let key_of = |ring: &KeyRing, kid: Id| ring.verify.get(&kid).map(|(k, _)| *k);
        let (ring, (kid, claims)) = match jwt::verify_with_kid(token, |kid| key_of(&ring, kid), now)
        {
            Err(jwt::TokenError::UnknownKey) if self.may_reload_for_unknown_kid(now) => {
                let ring = self.reload().await?;
                let verified = jwt::verify_with_kid(token, |kid| key_of(&ring, kid), now)?;
                (ring, verified)
            }
            other => (ring, other?),
        };
        // A leaked key must not mint tokens that outlive a rotation: recert issues tokens of
        // exactly the configured lifetime, and a retired key signed nothing after its
        // retirement (give or take the key refresh interval of other processes).
        if claims.exp - claims.iat > self.token_lifetime.whole_seconds() {
            return Err(jwt::TokenError::NotIssuedHere.into());
        }
        if let Some((_, Some(retired))) = ring.verify.get(&kid)
            && claims.iat.saturating_mul(1000) > retired.unix_millis() + KEY_REFRESH_MILLIS
        {
            return Err(jwt::TokenError::NotIssuedHere.into());
        }
        let client_id = Id::parse(&claims.sub).map_err(|_| jwt::TokenError::Malformed)?;
        let mut cache = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= VERIFIED_CACHE_SIZE {
            cache.clear();
        }
        cache.insert(
            token.to_owned(),
            Verified {
                client_id,
                kid,
                expires_millis: claims.exp.saturating_mul(1000),
            },
        );
        Ok(client_id)
    }

    fn may_reload_for_unknown_kid(&self, now: Timestamp) -> bool {
        let mut last = self
            .last_unknown_kid_reload
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match *last {
            Some(t) if now.unix_millis() - t.unix_millis() < UNKNOWN_KID_RELOAD_MILLIS => false,
            _ => {
                *last = Some(now);
                true
            }
        }
    }
}

//! Single sign-on with any OpenID Connect provider: the authorization code flow with PKCE
//! (S256), a `state` and a `nonce` per attempt, the ID token verified against the provider's
//! published keys (RS256, ES256 or EdDSA; issuer, audience, expiry, nonce), and the person
//! matched to an identity by email.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use recert_domain::{Clock, Identity, Timestamp};
use recert_store::Store;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

/// The provider and this client, as configured.
#[derive(Clone, PartialEq, Eq)]
pub struct OidcConfig {
    /// The issuer URL; discovery is read from `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Where the provider sends the browser back: `{public url}/login/sso/callback`.
    pub redirect_url: String,
    /// Shown on the sign-in button ("Sign in with ...").
    pub label: String,
}

impl std::fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("redirect_url", &self.redirect_url)
            .finish()
    }
}

/// Why a single sign-on failed. The texts are for logs and the page; they never carry tokens.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("the identity provider could not be reached or answered badly: {0}")]
    Provider(String),
    #[error("the sign-in answer is not valid: {0}")]
    Invalid(String),
    #[error("{0}")]
    NoIdentity(String),
    #[error(transparent)]
    Store(#[from] recert_store::StoreError),
}

/// What the browser carries between the start of a sign-in and its return (kept in a signed
/// cookie by the server).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attempt {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    pub next: String,
}

#[derive(Debug, Clone, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

#[derive(Debug, Clone)]
struct Provider {
    discovery: Discovery,
    keys: Vec<Value>,
    fetched: Timestamp,
}

fn random(n: usize) -> Result<String, OidcError> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).map_err(|e| OidcError::Provider(format!("no randomness: {e}")))?;
    Ok(B64.encode(b))
}

/// The PKCE challenge of a verifier (S256).
pub fn challenge(verifier: &str) -> String {
    B64.encode(Sha256::digest(verifier.as_bytes()))
}

/// Single sign-on against one provider.
#[derive(Debug, Clone)]
pub struct Oidc {
    config: OidcConfig,
    http: reqwest::Client,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    provider: Arc<Mutex<Option<Provider>>>,
}

/// Provider metadata and keys are read again after this long (keys rotate).
const REFRESH_MILLIS: i64 = 3_600_000;

impl Oidc {
    pub fn new(
        config: OidcConfig,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, OidcError> {
        let http = crate::http::client()
            .timeout(std::time::Duration::from_secs(10))
            .user_agent(concat!("recert/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| OidcError::Provider(e.to_string()))?;
        Ok(Oidc {
            config,
            http,
            store,
            clock,
            provider: Arc::new(Mutex::new(None)),
        })
    }

    pub fn label(&self) -> &str {
        &self.config.label
    }

    async fn get_json(&self, url: &str) -> Result<Value, OidcError> {
        let res = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| OidcError::Provider(e.to_string()))?;
        if !res.status().is_success() {
            return Err(OidcError::Provider(format!(
                "{url} answered {}",
                res.status()
            )));
        }
        res.json()
            .await
            .map_err(|e| OidcError::Provider(format!("{url}: {e}")))
    }

    /// The provider's metadata and keys, read on first use and refreshed hourly (or at once,
    /// when `refresh`: an unknown key id may be a rotation).
    async fn provider(&self, refresh: bool) -> Result<Provider, OidcError> {
        let mut cached = self.provider.lock().await;
        let now = self.clock.now();
        if let Some(p) = cached.as_ref()
            && !refresh
            && now.unix_millis() - p.fetched.unix_millis() < REFRESH_MILLIS
        {
            return Ok(p.clone());
        }
        let base = self.config.issuer.trim_end_matches('/');
        let d: Discovery = serde_json::from_value(
            self.get_json(&format!("{base}/.well-known/openid-configuration"))
                .await?,
        )
        .map_err(|e| OidcError::Provider(format!("discovery document: {e}")))?;
        if d.issuer.trim_end_matches('/') != base {
            return Err(OidcError::Provider(format!(
                "the discovery document names issuer {}, not the configured {}",
                d.issuer, self.config.issuer
            )));
        }
        let jwks = self.get_json(&d.jwks_uri).await?;
        let keys = jwks
            .get("keys")
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| OidcError::Provider("the JWKS has no keys".into()))?;
        let p = Provider {
            discovery: d,
            keys,
            fetched: now,
        };
        *cached = Some(p.clone());
        Ok(p)
    }

    /// Starts a sign-in: where to send the browser, and what it must bring back.
    pub async fn begin(&self, next: &str) -> Result<(String, Attempt), OidcError> {
        let p = self.provider(false).await?;
        let attempt = Attempt {
            state: random(24)?,
            nonce: random(24)?,
            verifier: random(48)?,
            next: next.to_owned(),
        };
        let mut url = reqwest::Url::parse(&p.discovery.authorization_endpoint)
            .map_err(|e| OidcError::Provider(format!("authorization_endpoint: {e}")))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.config.client_id)
            .append_pair("redirect_uri", &self.config.redirect_url)
            .append_pair("scope", "openid email profile")
            .append_pair("state", &attempt.state)
            .append_pair("nonce", &attempt.nonce)
            .append_pair("code_challenge", &challenge(&attempt.verifier))
            .append_pair("code_challenge_method", "S256");
        Ok((url.to_string(), attempt))
    }

    /// Finishes a sign-in: checks `state`, trades the code for tokens, verifies the ID token
    /// and finds the identity with its email.
    pub async fn finish(
        &self,
        attempt: &Attempt,
        state: &str,
        code: &str,
    ) -> Result<Identity, OidcError> {
        if state.is_empty() || !constant_eq(state, &attempt.state) {
            return Err(OidcError::Invalid(
                "the state does not match this browser's sign-in".into(),
            ));
        }
        let p = self.provider(false).await?;
        let res = self
            .http
            .post(&p.discovery.token_endpoint)
            .basic_auth(&self.config.client_id, Some(&self.config.client_secret))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", self.config.redirect_url.as_str()),
                ("client_id", self.config.client_id.as_str()),
                ("code_verifier", attempt.verifier.as_str()),
            ])
            .send()
            .await
            .map_err(|e| OidcError::Provider(e.to_string()))?;
        if !res.status().is_success() {
            return Err(OidcError::Provider(format!(
                "the token endpoint answered {}",
                res.status()
            )));
        }
        let body: Value = res
            .json()
            .await
            .map_err(|e| OidcError::Provider(format!("token answer: {e}")))?;
        let id_token = body
            .get("id_token")
            .and_then(Value::as_str)
            .ok_or_else(|| OidcError::Invalid("the token answer has no id_token".into()))?;
        let claims = match self.verify(id_token, &p, &attempt.nonce) {
            Err(OidcError::Invalid(m)) if m.starts_with("unknown key") => {
                let fresh = self.provider(true).await?;
                self.verify(id_token, &fresh, &attempt.nonce)?
            }
            other => other?,
        };
        let email = claims.get("email").and_then(Value::as_str).ok_or_else(|| {
            OidcError::NoIdentity("the identity provider did not give an email".into())
        })?;
        // Only an address the provider vouches for names a person here (a provider that lets
        // people edit their email would otherwise let anyone become anyone).
        let verified = matches!(claims.get("email_verified"), Some(Value::Bool(true)))
            || claims.get("email_verified").and_then(Value::as_str) == Some("true");
        if !verified {
            return Err(OidcError::NoIdentity(format!(
                "the identity provider has not verified the email {email}"
            )));
        }
        match self.store.identity_by_login(email).await? {
            Some(i)
                if i.email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(email)) =>
            {
                Ok(i)
            }
            _ => Err(OidcError::NoIdentity(format!(
                "no active identity has the email {email}"
            ))),
        }
    }

    /// Verifies an ID token's signature and claims; answers its claims.
    fn verify(&self, token: &str, p: &Provider, nonce: &str) -> Result<Value, OidcError> {
        let bad = |m: &str| OidcError::Invalid(m.to_owned());
        let mut parts = token.split('.');
        let (Some(h), Some(c), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("the ID token is not a JWS"));
        };
        let header: Value = B64
            .decode(h)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| bad("the ID token header is not JSON"))?;
        let sig = B64
            .decode(s)
            .map_err(|_| bad("the ID token signature is not base64url"))?;
        let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
        let kid = header.get("kid").and_then(Value::as_str);
        let kty = match alg {
            "RS256" => "RSA",
            "ES256" => "EC",
            "EdDSA" => "OKP",
            other => {
                return Err(bad(&format!(
                    "the ID token is signed with {other}; recert takes RS256, ES256 and EdDSA"
                )));
            }
        };
        // The keys that could have signed it: its kid when it names one, of the algorithm's
        // type, for signing, and of this algorithm when the key says.
        let candidates: Vec<&Value> = p
            .keys
            .iter()
            .filter(|k| {
                kid.is_none_or(|kid| k.get("kid").and_then(Value::as_str) == Some(kid))
                    && k.get("kty").and_then(Value::as_str) == Some(kty)
                    && k.get("use")
                        .and_then(Value::as_str)
                        .is_none_or(|u| u == "sig")
                    && k.get("alg")
                        .and_then(Value::as_str)
                        .is_none_or(|a| a == alg)
            })
            .collect();
        if candidates.is_empty() {
            return Err(bad(&format!("unknown key id {}", kid.unwrap_or("(none)"))));
        }
        let signed = format!("{h}.{c}");
        if !candidates
            .iter()
            .any(|key| verify_signature(alg, key, signed.as_bytes(), &sig).is_ok())
        {
            return Err(bad("the ID token signature is not valid"));
        }
        let claims: Value = B64
            .decode(c)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| bad("the ID token claims are not JSON"))?;
        let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
        if iss.trim_end_matches('/') != self.config.issuer.trim_end_matches('/') {
            return Err(bad(&format!("the ID token was issued by {iss}")));
        }
        let aud_ok = match claims.get("aud") {
            Some(Value::String(a)) => *a == self.config.client_id,
            Some(Value::Array(list)) => list
                .iter()
                .any(|a| a.as_str() == Some(self.config.client_id.as_str())),
            _ => false,
        };
        if !aud_ok {
            return Err(bad("the ID token is not meant for this client"));
        }
        let now = self.clock.now().unix_millis() / 1000;
        let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
        // A minute of leeway for clocks that differ.
        if exp + 60 < now {
            return Err(bad("the ID token has expired"));
        }
        if claims.get("nonce").and_then(Value::as_str) != Some(nonce) {
            return Err(bad("the ID token's nonce does not match this sign-in"));
        }
        Ok(claims)
    }
}

fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn jwk_bytes(key: &Value, field: &str) -> Result<Vec<u8>, OidcError> {
    key.get(field)
        .and_then(Value::as_str)
        .and_then(|v| B64.decode(v).ok())
        .ok_or_else(|| OidcError::Invalid(format!("the provider's key has no valid {field}")))
}

/// Checks a JWS signature with a JWK. Only asymmetric algorithms: `none` and HMAC are refused.
fn verify_signature(alg: &str, key: &Value, msg: &[u8], sig: &[u8]) -> Result<(), OidcError> {
    use ring::signature;
    let kty = key.get("kty").and_then(Value::as_str).unwrap_or("");
    let refused = || OidcError::Invalid("the ID token signature is not valid".into());
    match (alg, kty) {
        ("RS256", "RSA") => {
            let n = jwk_bytes(key, "n")?;
            let e = jwk_bytes(key, "e")?;
            signature::RsaPublicKeyComponents { n: &n, e: &e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, msg, sig)
                .map_err(|_| refused())
        }
        ("ES256", "EC") => {
            let x = jwk_bytes(key, "x")?;
            let y = jwk_bytes(key, "y")?;
            let mut point = vec![4u8];
            point.extend(x);
            point.extend(y);
            signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(msg, sig)
                .map_err(|_| refused())
        }
        ("EdDSA", "OKP") => {
            let x = jwk_bytes(key, "x")?;
            signature::UnparsedPublicKey::new(&signature::ED25519, x)
                .verify(msg, sig)
                .map_err(|_| refused())
        }
        (alg, kty) => Err(OidcError::Invalid(format!(
            "the ID token is signed with {alg} and a {kty} key; recert takes RS256, ES256 and \
             EdDSA"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_is_the_rfc_7636_example() {
        // RFC 7636, appendix B.
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn none_and_hmac_are_refused() {
        let key = serde_json::json!({"kty": "oct", "k": "c2VjcmV0"});
        for alg in ["none", "HS256"] {
            assert!(verify_signature(alg, &key, b"x", b"").is_err(), "{alg}");
        }
    }
}

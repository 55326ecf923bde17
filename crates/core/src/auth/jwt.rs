//! Access tokens: JWTs signed with Ed25519 (`alg: EdDSA`).
//!
//! Written here rather than taken from `jsonwebtoken`, whose only pure-Rust backend compiles RSA
//! and two NIST curves recert never uses. Accepting exactly one algorithm closes the classic
//! attacks by construction: `alg: none` and `HS256` keyed with the public key are both refused
//! before any key is looked at.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey as EdSigningKey, VerifyingKey};
use recert_domain::{Id, SigningKey, Timestamp};
use serde::{Deserialize, Serialize};

pub const ALGORITHM: &str = "EdDSA";
pub const ISSUER: &str = "recert";

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    kid: Option<String>,
}

/// What a token says. Roles are not in it: they are read from the client on every request, so a
/// change or a revocation takes effect at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    /// The API client id.
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub scope: String,
}

/// Why a token was refused. Detailed for logs and tests; callers see only a short reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("malformed token")]
    Malformed,
    /// The header's `alg` is kept for tests; it is never shown to the caller or logged, since
    /// the caller chose it.
    #[error("unsupported signing algorithm")]
    Algorithm(String),
    #[error("token signed by an unknown key")]
    UnknownKey,
    #[error("bad token signature")]
    Signature,
    #[error("token expired")]
    Expired,
    #[error("token issued by someone else")]
    Issuer,
    /// Well signed, but not as recert issues tokens (a longer lifetime, or signed by a retired
    /// key after its retirement): a sign of a leaked key.
    #[error("token not issued by this server")]
    NotIssuedHere,
}

/// Signs `claims` with `key`, naming the key in the header (`kid`).
pub fn sign(claims: &Claims, key: &SigningKey) -> String {
    let header = Header {
        alg: ALGORITHM.into(),
        typ: Some("JWT".into()),
        kid: Some(key.kid.to_string()),
    };
    // Both serialize infallibly: plain structs of strings and integers.
    let h = B64.encode(serde_json::to_vec(&header).unwrap_or_default());
    let c = B64.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signing_input = format!("{h}.{c}");
    let sig = EdSigningKey::from_bytes(&key.private_key).sign(signing_input.as_bytes());
    format!("{signing_input}.{}", B64.encode(sig.to_bytes()))
}

/// The public half of a signing key.
pub fn verifying_key(key: &SigningKey) -> VerifyingKey {
    EdSigningKey::from_bytes(&key.private_key).verifying_key()
}

/// Verifies a token: shape, algorithm, key, signature, issuer, expiry (with no leeway: recert
/// issued it with its own clock).
pub fn verify(
    token: &str,
    key_for: impl Fn(Id) -> Option<VerifyingKey>,
    now: Timestamp,
) -> Result<Claims, TokenError> {
    verify_with_kid(token, key_for, now).map(|(_, claims)| claims)
}

/// [`verify`], also answering which key signed the token.
pub fn verify_with_kid(
    token: &str,
    key_for: impl Fn(Id) -> Option<VerifyingKey>,
    now: Timestamp,
) -> Result<(Id, Claims), TokenError> {
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let header: Header = B64
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(TokenError::Malformed)?;
    if header.alg != ALGORITHM {
        return Err(TokenError::Algorithm(header.alg));
    }
    let kid = header
        .kid
        .as_deref()
        .and_then(|k| Id::parse(k).ok())
        .ok_or(TokenError::UnknownKey)?;
    let key = key_for(kid).ok_or(TokenError::UnknownKey)?;
    let sig_bytes: [u8; 64] = B64
        .decode(s)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(TokenError::Malformed)?;
    let signing_input = &token[..h.len() + 1 + c.len()];
    key.verify_strict(signing_input.as_bytes(), &Signature::from_bytes(&sig_bytes))
        .map_err(|_| TokenError::Signature)?;
    let claims: Claims = B64
        .decode(c)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(TokenError::Malformed)?;
    if claims.iss != ISSUER {
        return Err(TokenError::Issuer);
    }
    if now.unix_millis() >= claims.exp.saturating_mul(1000) {
        return Err(TokenError::Expired);
    }
    Ok((kid, claims))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> SigningKey {
        SigningKey {
            kid: Id::from_bytes([n; 16]),
            private_key: [n; 32],
            created_at: Timestamp::from_unix_millis(0),
            retired_at: None,
        }
    }

    fn claims(exp: i64) -> Claims {
        Claims {
            iss: ISSUER.into(),
            sub: "client".into(),
            iat: 0,
            exp,
            jti: "j".into(),
            scope: "sp:scopes:all".into(),
        }
    }

    fn keys(k: &SigningKey) -> impl Fn(Id) -> Option<VerifyingKey> + '_ {
        move |kid| (kid == k.kid).then(|| verifying_key(k))
    }

    #[test]
    fn signs_and_verifies() {
        let k = key(1);
        let t = sign(&claims(100), &k);
        let now = Timestamp::from_unix_millis(99_999);
        assert_eq!(verify(&t, keys(&k), now).unwrap(), claims(100));
        assert_eq!(
            verify(&t, keys(&k), Timestamp::from_unix_millis(100_000)),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn refuses_other_keys_algorithms_and_tampering() {
        let k = key(1);
        let now = Timestamp::from_unix_millis(0);
        let t = sign(&claims(100), &k);
        assert_eq!(verify(&t, keys(&key(2)), now), Err(TokenError::UnknownKey));
        // Same kid, different key material: the signature does not match.
        let mut impostor = key(3);
        impostor.kid = k.kid;
        assert_eq!(
            verify(&sign(&claims(100), &impostor), keys(&k), now),
            Err(TokenError::Signature)
        );
        let parts: Vec<&str> = t.split('.').collect();
        let forged_claims = B64
            .encode(br#"{"iss":"recert","sub":"admin","iat":0,"exp":999,"jti":"j","scope":"x"}"#);
        let forged = format!("{}.{forged_claims}.{}", parts[0], parts[2]);
        assert_eq!(verify(&forged, keys(&k), now), Err(TokenError::Signature));
        let none = format!("{}.{}.", B64.encode(br#"{"alg":"none"}"#), parts[1]);
        assert_eq!(
            verify(&none, keys(&k), now),
            Err(TokenError::Algorithm("none".into()))
        );
        let hs = format!(
            "{}.{}.{}",
            B64.encode(br#"{"alg":"HS256","kid":"x"}"#),
            parts[1],
            parts[2]
        );
        assert_eq!(
            verify(&hs, keys(&k), now),
            Err(TokenError::Algorithm("HS256".into()))
        );
        for junk in [
            "",
            "a.b",
            "a.b.c.d",
            "!!.!!.!!",
            &format!("{}.{}.AAAA", parts[0], parts[1]),
        ] {
            assert_eq!(
                verify(junk, keys(&k), now),
                Err(TokenError::Malformed),
                "{junk}"
            );
        }
        let mut other = claims(100);
        other.iss = "someone".into();
        assert_eq!(
            verify(&sign(&other, &k), keys(&k), now),
            Err(TokenError::Issuer)
        );
    }
}

//! Single sign-on against an OpenID Connect provider started inside the test: discovery, a
//! JWKS, an authorization endpoint and a token endpoint that checks the PKCE verifier and the
//! client secret, and ID tokens really signed (RS256 with a fixed test key, ES256 with a key
//! made at start). A tampered token, a wrong nonce, another audience and an unknown email are
//! refused.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64};
use common::{App, app_with_sso};
use recert_domain::Clock;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use serde_json::{Value, json};

/// A 2048-bit RSA key for this test only (PKCS#8, base64).
const TEST_RSA_KEY: &str = "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQC83DB4A+KoWO2QAE7ztbX1+J1mXZOoE+CMIiJbNi3rt+FSrNoakFfzJXOyX4GnhOd5TKD+/p/6n15gMHIOcEXkaeKc0H5JRczX2ljPTeSKnHulh79YCvD/c7veqPv0JgycauleVBWod16E/L6dSE0eWLlFNX8ETcWW9pch8wGt1YHYIE+IKcFLltQ81qZQl/K3VRF1XIFJYDgV/YxISLpINSiPYP05prlhlUjvdR3FfPIBV/HklDqQKuQyUHLoXB3iinUNN7Yzvt8wla/GGjs7inDfnnDDfUCEjuqvEwROdm7R1usn6+4TXhveJ6+XCnRpi2JTNlLg5pFPBY0VyABpAgMBAAECggEADOSyvGbLgQxn1Nu93XPWLdTgw13NGFLvErIRNWKVWlEt5VaJTKShFHzwkUi65xmy3HxHm3unpqpdp48hzOw2S/nnRNG+ZWM0sQx7i/+N2YwFrE8rAtLlvBLbIcAt9Jo/udKvXEdnnnOJH5F1CUjSgald+08ZJ6KQRED7yroL2cxVG6Fgk9JfoN2xhwXumu2C8qM5c8HcPOk68eMHmCRd8qFe6otKu9u2BZmoOKMR7N2ydxro1VvtilJgTzLOKnJvsd8+ZUQxuC2f+Ie1mF+wV8iRlmnhETw5kERzMDi8IzzptO8ePJC9W+onwAxxZ8+kyusmAcAeNxM8wqqoO+drHwKBgQDsvyWCfno+yanUWojdYaZgyiAZTAlkB8MFNVY0aSlqEwYqAW8+0q9gJ6u00PIIuaYJyyYQ3IBj8vgnVLKZPxNwkqbSfShu04hvS/QPyjsvp7wM4YkbDokKVPURFbpEsRUIa4Vl4cWkkDpUlCulYCCWIyzwMPH2ls3Ua9RvfnXXQwKBgQDMOBZ0ITbZzEfH7p4QI4xegh1hk295rOhwMsWGx6zJofbSxNxu92VAOTcvYXfiFCrJsCHXtXWx/+54TjRKvxjQ6/jdzRr/6LuN5QzX1TH1uM/UEqLEhVKmoMaxHhEVD5fMPHvGgDeNUzgqwl5LVRfHfUDXEjD8H+bL5ynkj5tg4wKBgHJRgq1WoXT8MBOoe/paktqd/433l3lD/jnfnXbFaQgdk5ZpBuzRE3pc7Z7sXlM0Qibsf78Ymq6ovodPcMZrHNn5FrEBWqrZXkJP7NRLFPVYC4g0x93W0Pm6OHQ9h6pvz/Y25T1jHeru8huxSLocht+4sJRzLgOiolV2lCgaapC9AoGAJ+LMf+H81I0Rd/si5AQNZmgDVQt2uk0LGN7RtYFKPhdkHcZVR1cKb4C9RoPC5mUJ9lpwQbEvS5Sw/s5HaFHqhuOPt8JXg6Pw/cW+vGjnWRa/gKwjHj7r5Z+BLxawP2zMOReXFS31q6SVU8SiphP4kP3lrBvhdVzFtw1vITTrJAECgYAXoylAGtDv0mOzNwirQdfDOtcaIiKxTDX68EsvyDH1G0RghKu7SDqhS3nppPefjKHLhn7gqdKvVkAOOaCNMzrL6qalmGfscdJxhVjA/1b5z3jHFUeMtVcslBP+4jOY8CJWsK4HsXHmyucYMkgyvLarWHvHCkOUWuVggI33z/g2KQ==";

const CLIENT_ID: &str = "recert-test";
const CLIENT_SECRET: &str = "provider-secret-for-tests";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mischief {
    None,
    TamperSignature,
    WrongNonce,
    OtherAudience,
    UnknownEmail,
    Unverified,
}

struct Provider {
    base: String,
    rsa: RsaKeyPair,
    ec: EcdsaKeyPair,
    use_ec: Mutex<bool>,
    mischief: Mutex<Mischief>,
    /// code -> (PKCE challenge, nonce)
    codes: Mutex<HashMap<String, (String, String)>>,
    /// The app's clock, for iat/exp.
    now: Mutex<i64>,
    email: String,
}

fn jwt(p: &Provider, claims: &Value) -> String {
    let ec = *p.use_ec.lock().unwrap();
    let header = if ec {
        json!({"alg": "ES256", "kid": "ec-1", "typ": "JWT"})
    } else {
        json!({"alg": "RS256", "kid": "rsa-1", "typ": "JWT"})
    };
    let signing = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    let rng = SystemRandom::new();
    let mut sig = if ec {
        p.ec.sign(&rng, signing.as_bytes())
            .unwrap()
            .as_ref()
            .to_vec()
    } else {
        let mut s = vec![0u8; p.rsa.public().modulus_len()];
        p.rsa
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &rng,
                signing.as_bytes(),
                &mut s,
            )
            .unwrap();
        s
    };
    if *p.mischief.lock().unwrap() == Mischief::TamperSignature {
        sig[7] ^= 0x01;
    }
    format!("{signing}.{}", B64.encode(sig))
}

async fn discovery(State(p): State<Arc<Provider>>) -> Response {
    axum::Json(json!({
        "issuer": p.base,
        "authorization_endpoint": format!("{}/authorize", p.base),
        "token_endpoint": format!("{}/token", p.base),
        "jwks_uri": format!("{}/jwks", p.base),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
    }))
    .into_response()
}

async fn jwks(State(p): State<Arc<Provider>>) -> Response {
    let rsa = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(p.rsa.public());
    let point = p.ec.public_key().as_ref();
    axum::Json(json!({"keys": [
        {"kty": "RSA", "kid": "rsa-1", "use": "sig", "alg": "RS256",
         "n": B64.encode(&rsa.n), "e": B64.encode(&rsa.e)},
        {"kty": "EC", "kid": "ec-1", "use": "sig", "alg": "ES256", "crv": "P-256",
         "x": B64.encode(&point[1..33]), "y": B64.encode(&point[33..65])},
    ]}))
    .into_response()
}

async fn authorize(
    State(p): State<Arc<Provider>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(q["scope"].split(' ').any(|s| s == "openid"));
    let code = format!("code-{}", p.codes.lock().unwrap().len());
    p.codes.lock().unwrap().insert(
        code.clone(),
        (q["code_challenge"].clone(), q["nonce"].clone()),
    );
    Redirect::to(&format!(
        "{}?code={code}&state={}",
        q["redirect_uri"], q["state"]
    ))
    .into_response()
}

async fn token(
    State(p): State<Arc<Provider>>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| STANDARD.decode(v).ok())
        .and_then(|v| String::from_utf8(v).ok());
    if basic.as_deref() != Some(&format!("{CLIENT_ID}:{CLIENT_SECRET}")) {
        return (StatusCode::UNAUTHORIZED, "bad client").into_response();
    }
    let Some((challenge, nonce)) = p.codes.lock().unwrap().remove(&f["code"]) else {
        return (StatusCode::BAD_REQUEST, "unknown code").into_response();
    };
    if recert_core::oidc::challenge(&f["code_verifier"]) != challenge {
        return (StatusCode::BAD_REQUEST, "PKCE verifier does not match").into_response();
    }
    let mischief = *p.mischief.lock().unwrap();
    let now = *p.now.lock().unwrap();
    let claims = json!({
        "iss": p.base,
        "sub": "user-1",
        "aud": if mischief == Mischief::OtherAudience { "someone-else" } else { CLIENT_ID },
        "iat": now,
        "exp": now + 300,
        "nonce": if mischief == Mischief::WrongNonce { "another" } else { nonce.as_str() },
        "email": if mischief == Mischief::UnknownEmail { "stranger@example.com" } else { p.email.as_str() },
    });
    let mut claims = claims;
    if mischief != Mischief::Unverified {
        claims["email_verified"] = json!(true);
    }
    axum::Json(json!({"access_token": "at", "token_type": "Bearer", "id_token": jwt(&p, &claims)}))
        .into_response()
}

async fn provider(email: &str) -> Arc<Provider> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let der = STANDARD.decode(TEST_RSA_KEY).unwrap();
    let rng = SystemRandom::new();
    let ec_der =
        EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let p = Arc::new(Provider {
        base,
        rsa: RsaKeyPair::from_pkcs8(&der).unwrap(),
        ec: EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            ec_der.as_ref(),
            &rng,
        )
        .unwrap(),
        use_ec: Mutex::new(false),
        mischief: Mutex::new(Mischief::None),
        codes: Mutex::new(HashMap::new()),
        now: Mutex::new(0),
        email: email.to_owned(),
    });
    let router = axum::Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/authorize", get(authorize))
        .route("/token", post(token))
        .with_state(p.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    p
}

/// Follows one sign-in through the browser's redirects; answers the final status, where it
/// went and the session cookie (if any).
async fn sign_in(app: &App) -> (StatusCode, String, Option<String>, String) {
    let http = recert_core::http::client()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = http
        .get(format!("{}/login/sso?next=%2Freviews", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let attempt = res.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(attempt.contains("HttpOnly") && attempt.contains("SameSite=Lax"));
    let attempt = attempt.split(';').next().unwrap().to_owned();
    let to_provider = res.headers()[LOCATION].to_str().unwrap().to_owned();
    let res = http.get(&to_provider).send().await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "the provider answers the code"
    );
    let back = res.headers()[LOCATION].to_str().unwrap().to_owned();
    let res = http
        .get(&back)
        .header(COOKIE, &attempt)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let location = res
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let session = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("recert_session=") && !v.starts_with("recert_session=;"));
    (status, location, session, res.text().await.unwrap())
}

async fn sso_app(email: &str) -> (App, Arc<Provider>) {
    let p = provider(email).await;
    let app = app_with_sso(recert_core::oidc::OidcConfig {
        issuer: p.base.clone(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        redirect_url: String::new(),
        label: "Test IdP".into(),
    })
    .await;
    *p.now.lock().unwrap() = app.clock.now().unix_millis() / 1000;
    (app, p)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_in_with_the_provider_and_lands_on_their_reviews() {
    let (app, p) = sso_app("bob.manager@example.com").await;
    let login = recert_core::http::client()
        .build()
        .unwrap()
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(login.contains("Sign in with Test IdP"), "{login}");
    for ec in [false, true] {
        *p.use_ec.lock().unwrap() = ec;
        let (status, to, session, body) = sign_in(&app).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        assert_eq!(to, "/reviews");
        let session = session.expect("a session cookie");
        assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"));
        let cookie = session.split(';').next().unwrap().to_owned();
        let page = recert_core::http::client()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(format!("{}/reviews", app.base))
            .header(COOKIE, cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.text().await.unwrap().contains("bob manager"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_or_foreign_tokens_are_refused() {
    let (app, p) = sso_app("bob.manager@example.com").await;
    for (m, says) in [
        (Mischief::TamperSignature, "could not be verified"),
        (Mischief::WrongNonce, "could not be verified"),
        (Mischief::OtherAudience, "could not be verified"),
        (
            Mischief::UnknownEmail,
            "no active identity has the email stranger@example.com",
        ),
    ] {
        *p.mischief.lock().unwrap() = m;
        let (status, _, session, body) = sign_in(&app).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{m:?}: {body}");
        assert!(session.is_none(), "{m:?}: no session");
        assert!(body.contains(says), "{m:?}: {body}");
    }
    // A callback without the browser's attempt cookie, or with a forged state.
    let http = recert_core::http::client().build().unwrap();
    let res = http
        .get(format!("{}/login/sso/callback?code=x&state=y", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

//! Tokens and authentication over real HTTP on a real port: the token endpoint in every
//! encoding the SDKs use, every route against every kind of caller, key rotation.

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use common::{App, app, assert_token_body, post_token};
use recert_core::clients;
use recert_domain::{ClientRole, Clock, Duration, Id, Timestamp};
use recert_store_conformance::fixture_id;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_endpoint_takes_form_multipart_query_and_basic() {
    let app = app(None).await;
    let c = app.client(ClientRole::CertAdmin);
    let url = format!("{}/oauth/token", app.base);
    let form = app.http.post(&url).form(&[
        ("grant_type", "client_credentials"),
        ("client_id", c.id.as_str()),
        ("client_secret", c.secret.as_str()),
    ]);
    let (s, h, body) = post_token(&app, form).await;
    assert_eq!(s, 200, "{body}");
    assert_token_body(&body);
    assert_eq!(h["cache-control"], "no-store");
    assert!(
        h["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert!(body.get("identity_id").is_none(), "unbound client: {body}");

    let multipart = reqwest::multipart::Form::new()
        .text("grant_type", "client_credentials")
        .text("client_id", c.id.clone())
        .text("client_secret", c.secret.clone());
    let (s, _, body) = post_token(&app, app.http.post(&url).multipart(multipart)).await;
    assert_eq!(s, 200, "{body}");
    assert_token_body(&body);

    let query = app.http.post(format!(
        "{url}?grant_type=client_credentials&client_id={}&client_secret={}",
        c.id, c.secret
    ));
    let (s, _, body) = post_token(&app, query).await;
    assert_eq!(s, 200, "{body}");

    let basic = app
        .http
        .post(&url)
        .basic_auth(&c.id, Some(&c.secret))
        .form(&[("grant_type", "client_credentials")]);
    let (s, _, body) = post_token(&app, basic).await;
    assert_eq!(s, 200, "{body}");

    let reviewer = app.client(ClientRole::User);
    let token = app.token_for(reviewer).await;
    let (s, _, body) = app.get("/oauth/info", Some(&token)).await;
    assert_eq!(s, 200);
    assert_eq!(body["identity_id"], fixture_id(1, 2).to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_endpoint_refuses_without_saying_why_a_client_failed() {
    let app = app(None).await;
    let c = app.client(ClientRole::OrgAdmin);
    let url = format!("{}/oauth/token", app.base);
    let ask = |id: &str, secret: &str, grant: &str| {
        app.http.post(&url).form(&[
            ("grant_type", grant.to_owned()),
            ("client_id", id.to_owned()),
            ("client_secret", secret.to_owned()),
        ])
    };
    let revoked = &app.revoked;
    clients::revoke(app.store.as_ref(), &app.clock, revoked.id.parse().unwrap())
        .await
        .unwrap();
    let mut bodies = Vec::new();
    for (id, secret) in [
        (c.id.as_str(), "wrong"),
        ("ffffffffffffffffffffffffffffffff", c.secret.as_str()),
        ("not-an-id", "x"),
        (revoked.id.as_str(), revoked.secret.as_str()),
    ] {
        let (s, h, body) = post_token(&app, ask(id, secret, "client_credentials")).await;
        assert_eq!(s, 401, "{id}: {body}");
        assert!(h.contains_key("www-authenticate"));
        bodies.push(body);
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "the answers must not differ: {bodies:?}"
    );
    assert_eq!(
        bodies[0],
        json!({"error": "invalid_client", "error_description": "invalid client"})
    );

    let (s, _, body) = post_token(&app, ask(&c.id, &c.secret, "password")).await;
    assert_eq!(
        (s, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unsupported_grant_type"))
    );
    let (s, _, body) = post_token(&app, app.http.post(&url).form(&[("client_id", &c.id)])).await;
    assert_eq!(
        (s, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    let (s, _, body) = post_token(
        &app,
        app.http
            .post(&url)
            .form(&[("grant_type", "client_credentials")]),
    )
    .await;
    assert_eq!(
        (s, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
}

/// A token signed by a key recert never had.
fn foreign_token(sub: &str) -> String {
    let key = recert_domain::SigningKey {
        kid: Id::generate(),
        private_key: [7; 32],
        created_at: Timestamp::from_unix_millis(0),
        retired_at: None,
    };
    let claims = recert_core::auth::jwt::Claims {
        iss: "recert".into(),
        sub: sub.into(),
        iat: 0,
        exp: 4_102_444_800,
        jti: "x".into(),
        scope: "sp:scopes:all".into(),
    };
    recert_core::auth::jwt::sign(&claims, &key)
}

/// The real token's header and claims, re-signed HS256 with the server's public key as the
/// HMAC secret: the algorithm-confusion attack.
async fn hs256_with_public_key(app: &App, real: &str) -> String {
    use hmac::{Hmac, Mac};
    let parts: Vec<&str> = real.split('.').collect();
    let header: Value = serde_json::from_slice(&B64.decode(parts[0]).unwrap()).unwrap();
    let kid: Id = header["kid"].as_str().unwrap().parse().unwrap();
    let key = app
        .store
        .signing_keys()
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.kid == kid)
        .unwrap();
    let public = recert_core::auth::jwt::verifying_key(&key).to_bytes();
    let h = B64.encode(json!({"alg": "HS256", "typ": "JWT", "kid": kid.to_string()}).to_string());
    let input = format!("{h}.{}", parts[1]);
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&public).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", B64.encode(mac.finalize().into_bytes()))
}

/// Every route that exists, with what each role gets. A later route adds a row.
struct Route {
    path: &'static str,
    /// The status each role gets, in the order of `ROLES`.
    by_role: [u16; 5],
}

const ROLES: [ClientRole; 5] = [
    ClientRole::OrgAdmin,
    ClientRole::CertAdmin,
    ClientRole::Operator,
    ClientRole::ReportAdmin,
    ClientRole::User,
];

const ROUTES: &[Route] = &[
    Route {
        path: "/oauth/info",
        by_role: [200, 200, 200, 200, 200],
    },
    // Campaigns are listed for the administrators and REPORT_ADMIN; an OPERATOR reaches only
    // the campaigns it created (so a campaign it did not create is not found).
    Route {
        path: "/v3/campaigns",
        by_role: [200, 200, 403, 200, 403],
    },
    Route {
        path: "/campaigns/v1",
        by_role: [200, 200, 403, 200, 403],
    },
    Route {
        path: "/v3/campaigns/0000000000000000000000000000abcd",
        by_role: [404, 404, 404, 404, 403],
    },
    // Templates and their schedules are for the administrators.
    Route {
        path: "/v3/campaign-templates",
        by_role: [200, 200, 403, 403, 403],
    },
    Route {
        path: "/campaign-templates/v1",
        by_role: [200, 200, 403, 403, 403],
    },
    Route {
        path: "/v3/campaign-templates/0000000000000000000000000000abcd/schedule",
        by_role: [404, 404, 403, 403, 403],
    },
    // Reports: the administrators and REPORT_ADMIN; an OPERATOR only on its own campaigns.
    Route {
        path: "/v3/campaigns/0000000000000000000000000000abcd/reports",
        by_role: [404, 404, 404, 404, 403],
    },
    Route {
        path: "/campaigns/v1/0000000000000000000000000000abcd/reports",
        by_role: [404, 404, 404, 404, 403],
    },
    Route {
        path: "/v3/campaigns/reports-configuration",
        by_role: [200, 200, 200, 200, 403],
    },
    Route {
        path: "/campaigns/v1/reports-configuration",
        by_role: [200, 200, 200, 200, 403],
    },
    Route {
        path: "/v3/reports/0000000000000000000000000000abcd?fileFormat=csv",
        by_role: [404, 404, 404, 404, 403],
    },
    Route {
        path: "/reports/v1/0000000000000000000000000000abcd",
        by_role: [404, 404, 404, 404, 403],
    },
    // The reviewer's API: admins and REPORT_ADMIN read every certification, a client bound to
    // an identity (the USER client here) its own; an OPERATOR without an identity reaches none.
    // Every route on a real certification, own and foreign, is in certifications.rs.
    Route {
        path: "/v3/certifications",
        by_role: [200, 200, 403, 200, 200],
    },
    Route {
        path: "/certifications/v1?reviewer-identity=me",
        by_role: [400, 400, 403, 400, 200],
    },
    Route {
        path: "/v3/certifications/0000000000000000000000000000abcd",
        by_role: [404, 404, 403, 404, 404],
    },
    Route {
        path: "/certifications/v1/0000000000000000000000000000abcd/access-review-items",
        by_role: [404, 404, 403, 404, 404],
    },
    Route {
        path: "/v3/certification-tasks",
        by_role: [200, 200, 403, 200, 200],
    },
    Route {
        path: "/certification-tasks/v1/0000000000000000000000000000abcd",
        by_role: [404, 404, 403, 404, 404],
    },
];

fn assert_401(what: &str, status: StatusCode, headers: &reqwest::header::HeaderMap, body: &Value) {
    assert_eq!(status, 401, "{what}: {body}");
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer"),
        "{what}"
    );
    assert!(body["error"].is_string(), "{what}: {body}");
    assert_eq!(body.as_object().unwrap().len(), 1, "{what}: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_against_every_kind_of_caller() {
    let app = app(None).await;
    let admin_token = app.token_for(app.client(ClientRole::OrgAdmin)).await;
    let revoked_token = app.token_for(&app.revoked).await;
    // Used once before the revocation, so that it is a token the server has verified before.
    assert_eq!(app.get("/oauth/info", Some(&revoked_token)).await.0, 200);
    clients::revoke(
        app.store.as_ref(),
        &app.clock,
        app.revoked.id.parse().unwrap(),
    )
    .await
    .unwrap();
    let parts: Vec<&str> = admin_token.split('.').collect();
    let alg_none = format!(
        "{}.{}.",
        B64.encode(r#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );
    let tampered = {
        let mut claims: Value = serde_json::from_slice(&B64.decode(parts[1]).unwrap()).unwrap();
        claims["sub"] = json!(app.client(ClientRole::User).id);
        format!(
            "{}.{}.{}",
            parts[0],
            B64.encode(claims.to_string()),
            parts[2]
        )
    };
    let bad_tokens: Vec<(&str, String)> = vec![
        ("malformed", "not.a.token".into()),
        ("garbage", "abc".into()),
        ("alg none", alg_none),
        (
            "HS256 keyed with the public key",
            hs256_with_public_key(&app, &admin_token).await,
        ),
        (
            "unknown signing key",
            foreign_token(&app.client(ClientRole::OrgAdmin).id),
        ),
        ("tampered claims", tampered),
        ("revoked client", revoked_token),
    ];
    let mut role_tokens = Vec::new();
    for role in ROLES {
        role_tokens.push((role, app.token_for(app.client(role)).await));
    }
    for route in ROUTES {
        let (s, h, body) = app.get(route.path, None).await;
        assert_401(&format!("{} without a token", route.path), s, &h, &body);
        for (what, token) in &bad_tokens {
            let (s, h, body) = app.get(route.path, Some(token)).await;
            assert_401(&format!("{} with {what}", route.path), s, &h, &body);
        }
        for ((role, token), want) in role_tokens.iter().zip(route.by_role) {
            let (s, _, body) = app.get(route.path, Some(token)).await;
            assert_eq!(s.as_u16(), want, "{} as {role}: {body}", route.path);
            if want == 403 {
                assert_eq!(body["detailCode"], "403 Forbidden");
                assert_eq!(body["trackingId"].as_str().unwrap().len(), 32);
                assert_eq!(body["messages"][0]["locale"], "en-US");
            }
        }
        // Expired: the same token, twelve hours and a second later.
        app.clock
            .advance(Duration::hours(12) + Duration::seconds(1));
        let (s, h, body) = app.get(route.path, Some(&role_tokens[0].1)).await;
        assert_401(
            &format!("{} with an expired token", route.path),
            s,
            &h,
            &body,
        );
        assert!(
            body["error"].as_str().unwrap().contains("expired"),
            "{body}"
        );
        app.clock
            .advance(-(Duration::hours(12) + Duration::seconds(1)));
    }
    // /oauth/info reports the caller as stored now.
    let (_, _, body) = app.get("/oauth/info", Some(&role_tokens[2].1)).await;
    assert_eq!(body["roles"], json!(["OPERATOR"]));
    assert_eq!(body["veza_roles"], json!(["operator"]));
    assert_eq!(body["identity_id"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotated_keys_keep_old_tokens_valid_and_sign_new_ones() {
    let app = app(None).await;
    let c = app.client(ClientRole::CertAdmin);
    let old = app.token_for(c).await;
    let kid_of = |t: &str| -> String {
        let h: Value =
            serde_json::from_slice(&B64.decode(t.split('.').next().unwrap()).unwrap()).unwrap();
        h["kid"].as_str().unwrap().to_owned()
    };
    let new_key = recert_core::auth::rotate_keys(app.store.as_ref(), &app.clock)
        .await
        .unwrap();
    // The server notices the rotation on its next key refresh.
    app.clock.advance(Duration::minutes(2));
    let fresh = app.token_for(c).await;
    assert_eq!(kid_of(&fresh), new_key.kid.to_string());
    assert_ne!(kid_of(&old), kid_of(&fresh));
    assert_eq!(
        app.get("/oauth/info", Some(&old)).await.0,
        200,
        "old key still verifies"
    );
    assert_eq!(app.get("/oauth/info", Some(&fresh)).await.0, 200);
    // Someone holding the retired key's seed cannot mint new tokens with it, nor can anyone
    // holding a key mint tokens that live longer than recert issues them.
    let keys = app.store.signing_keys().await.unwrap();
    let retired = keys.iter().find(|k| k.retired_at.is_some()).unwrap();
    let forge = |key: &recert_domain::SigningKey, iat: i64, exp: i64| {
        let claims = recert_core::auth::jwt::Claims {
            iss: "recert".into(),
            sub: c.id.clone(),
            iat,
            exp,
            jti: "forged".into(),
            scope: "sp:scopes:all".into(),
        };
        recert_core::auth::jwt::sign(&claims, key)
    };
    let now = app.clock.now().unix_millis() / 1000;
    let (s, _, body) = app
        .get("/oauth/info", Some(&forge(retired, now, now + 3600)))
        .await;
    assert_eq!(s, 401, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("not issued by this server"),
        "{body}"
    );
    let (s, _, body) = app
        .get("/oauth/info", Some(&forge(&new_key, now, now + 13 * 3600)))
        .await;
    assert_eq!(s, 401, "{body}");
    assert_eq!(
        app.get("/oauth/info", Some(&forge(&new_key, now, now + 3600)))
            .await
            .0,
        200
    );
    // Once every token of the old key has expired, so has the key.
    app.clock.advance(Duration::hours(12));
    assert_eq!(app.get("/oauth/info", Some(&old)).await.0, 401);
}

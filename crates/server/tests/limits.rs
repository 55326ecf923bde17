//! Rate limits, the Veza-dialect refusals, and refusals checked against SailPoint's
//! description, over real HTTP on a real port.

mod common;

use common::app;
use recert_core::auth::ratelimit::RateLimit;
use recert_domain::{ClientRole, Duration, Id, Timestamp};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_are_limited_independently_and_retry_after_is_honest() {
    let app = app(Some(RateLimit {
        requests: 3,
        window_millis: 6_000,
    }))
    .await;
    let a = app.token_for(app.client(ClientRole::CertAdmin)).await;
    let b = app.token_for(app.client(ClientRole::ReportAdmin)).await;
    for _ in 0..3 {
        assert_eq!(app.get("/oauth/info", Some(&a)).await.0, 200);
    }
    let (s, h, body) = app.get("/oauth/info", Some(&a)).await;
    assert_eq!(s, 429);
    assert_eq!(body, json!({"message": "Rate Limit Exceeded"}));
    let wait: i64 = h["retry-after"].to_str().unwrap().parse().unwrap();
    assert_eq!(wait, 2, "one request every 2 s after the burst");
    // Another client is not affected.
    assert_eq!(app.get("/oauth/info", Some(&b)).await.0, 200);
    // Just short of the wait: still refused; after it: let through.
    app.clock.advance(Duration::milliseconds(wait * 1000 - 1));
    assert_eq!(app.get("/oauth/info", Some(&a)).await.0, 429);
    app.clock.advance(Duration::milliseconds(1));
    assert_eq!(app.get("/oauth/info", Some(&a)).await.0, 200);
    // Token requests count against the caller's address, whatever client they name: guessing
    // at secrets is throttled, and spends nobody else's allowance.
    let url = format!("{}/oauth/token", app.base);
    let guess = || {
        app.http.post(&url).form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "ffffffffffffffffffffffffffffffff"),
            ("client_secret", "guess"),
        ])
    };
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(guess().send().await.unwrap().status().as_u16());
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    assert!(statuses.contains(&401), "{statuses:?}");
    assert_eq!(app.get("/oauth/info", Some(&b)).await.0, 200);
}

fn assert_veza_error(what: &str, status: StatusCode, body: &Value, want: u16, code: &str) {
    assert_eq!(status.as_u16(), want, "{what}: {body}");
    assert_eq!(body["code"], code, "{what}: {body}");
    assert!(body["message"].is_string(), "{what}: {body}");
    assert_eq!(body["details"], json!([]), "{what}: {body}");
    assert_eq!(
        body["request_id"].as_str().unwrap().len(),
        32,
        "{what}: {body}"
    );
    Timestamp::parse(body["timestamp"].as_str().unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn veza_routes_refuse_in_veza_shape_with_their_own_allowance() {
    let app = app(Some(RateLimit {
        requests: 2,
        window_millis: 10_000,
    }))
    .await;
    let probe = "/api/preview/awf/probe";
    let (s, _, body) = app.get(probe, None).await;
    assert_veza_error("no token", s, &body, 401, "Unauthenticated");
    let (s, _, body) = app.get(probe, Some("not.a.token")).await;
    assert_veza_error("bad token", s, &body, 401, "Unauthenticated");
    let c = app.client(ClientRole::CertAdmin);
    let token = app.token_for(c).await;
    // Spend the SailPoint allowance: Veza's is separate.
    for _ in 0..2 {
        assert_eq!(app.get("/oauth/info", Some(&token)).await.0, 200);
    }
    assert_eq!(app.get("/oauth/info", Some(&token)).await.0, 429);
    for _ in 0..2 {
        let (s, _, body) = app.get(probe, Some(&token)).await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(body["value"]["client_id"], c.id);
    }
    let (s, h, body) = app.get(probe, Some(&token)).await;
    assert_veza_error("over the limit", s, &body, 429, "ResourceExhausted");
    let wait: i64 = h["retry-after"].to_str().unwrap().parse().unwrap();
    app.clock.advance(Duration::seconds(wait));
    assert_eq!(app.get(probe, Some(&token)).await.0, 200);
}

/// The SailPoint-dialect refusals validate against SailPoint's description of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_validate_against_sailpoints_description() {
    let Some(spec) = recert_spec_check::sailpoint_spec() else {
        return;
    };
    let app = app(Some(RateLimit {
        requests: 1,
        window_millis: 60_000,
    }))
    .await;
    let (s, _, body) = app.get("/oauth/info", None).await;
    assert_eq!(s, 401);
    spec.check_response("get", "/certifications", 401, &body)
        .unwrap();
    let token = app.token_for(app.client(ClientRole::CertAdmin)).await;
    assert_eq!(app.get("/oauth/info", Some(&token)).await.0, 200);
    let (s, _, body) = app.get("/oauth/info", Some(&token)).await;
    assert_eq!(s, 429);
    spec.check_response("get", "/certifications", 429, &body)
        .unwrap();
    // The ErrorResponseDto bodies (400, 403, 404, 500), as the one helper builds them.
    let tracking = recert_server::TrackingId(Id::generate());
    for status in [400, 403, 404, 500] {
        let code = axum::http::StatusCode::from_u16(status).unwrap();
        let res = recert_server::error::sailpoint(code, tracking, "why it was refused");
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 16)
            .await
            .unwrap();
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        spec.check_response("get", "/certifications/{id}", status, &body)
            .unwrap_or_else(|e| panic!("{status}: {e:?}\n{body}"));
    }
}

//! Closing the loop over real HTTP: revoked access is delivered to a webhook receiver started
//! here (signature and idempotency key checked on arrival), retried when the receiver fails,
//! and the receiver reports back through the API.

mod common;

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use common::app_with;
use recert_core::webhook::{WebhookConfig, verify};
use recert_domain::{ClientRole, Clock, Duration};
use reqwest::Method;
use serde_json::{Value, json};

const SECRET: &str = "a-shared-secret-of-some-length";

#[derive(Default)]
struct Receiver {
    /// (idempotency key, body) of every delivery that arrived with a valid signature.
    got: Vec<(String, Value)>,
    bad_signatures: usize,
    /// Answer 503 to the first delivery of this key.
    fail_once: Option<String>,
}

async fn receiver(state: Arc<Mutex<Receiver>>) -> String {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move {
                let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
                let ts: i64 = h("x-recert-timestamp").parse().unwrap_or(0);
                let mut r = state.lock().unwrap();
                if !verify(SECRET.as_bytes(), ts, &body, h("x-recert-signature")) {
                    r.bad_signatures += 1;
                    return StatusCode::UNAUTHORIZED;
                }
                let key = h("idempotency-key").to_owned();
                if r.fail_once.as_deref() == Some(key.as_str()) {
                    r.fail_once = None;
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                r.got.push((key, serde_json::from_slice(&body).unwrap()));
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_access_is_delivered_signed_retried_and_reported() {
    let state = Arc::new(Mutex::new(Receiver::default()));
    let url = receiver(state.clone()).await;
    let app = app_with(
        None,
        Some(WebhookConfig {
            url,
            secret: SECRET.into(),
            timeout: std::time::Duration::from_secs(5),
        }),
    )
    .await;
    let token = app.token_for(app.client(ClientRole::CertAdmin)).await;
    let deadline = app.clock.now().plus(Duration::days(14)).to_string();
    let (s, _, k) = app
        .send(
            Method::POST,
            "/v3/campaigns",
            &token,
            Some(
                json!({"name": "Q2", "type": "MANAGER", "deadline": deadline,
                        "autoRevokeAllowed": true}),
            ),
        )
        .await;
    assert_eq!(s, 202, "{k}");
    let id = k["id"].as_str().unwrap().to_owned();
    let path = format!("/v3/campaigns/{id}");
    app.wait_for(&path, &token, |b| b["status"] == "STAGED")
        .await;
    app.send(Method::POST, &format!("{path}/activate"), &token, None)
        .await;
    app.wait_for(&path, &token, |b| b["status"] == "ACTIVE")
        .await;
    app.clock.advance(Duration::days(15));
    let token = app.token_for(app.client(ClientRole::CertAdmin)).await;
    let (s, _, _) = app
        .send(
            Method::POST,
            &format!("{path}/complete"),
            &token,
            Some(json!({"autoCompleteAction": "REVOKE"})),
        )
        .await;
    assert_eq!(s, 202);
    app.wait_for(&path, &token, |b| b["status"] == "COMPLETED")
        .await;

    let items_path = format!("/remediation/v1/campaigns/{id}/items");
    let (s, _, items) = app.get(&items_path, Some(&token)).await;
    assert_eq!(s, 200, "{items}");
    let items = items.as_array().unwrap().clone();
    assert_eq!(items.len(), 6);
    assert!(items.iter().all(|i| i["status"] == "OPEN"));
    assert!(
        items
            .iter()
            .all(|i| i["identityName"].is_string() && i["accessName"].is_string()),
        "{items:?}"
    );
    let flaky = items[0]["id"].as_str().unwrap().to_owned();
    state.lock().unwrap().fail_once = Some(flaky.clone());

    // One delivery run: five arrive, one is answered 503 and waits for its retry.
    assert!(app.remediation.enqueue_delivery().await.unwrap());
    for _ in 0..500 {
        if state.lock().unwrap().got.len() == 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    {
        let r = state.lock().unwrap();
        assert_eq!(r.got.len(), 5);
        assert_eq!(r.bad_signatures, 0);
        let (key, body) = &r.got[0];
        assert_eq!(
            body["id"],
            key.as_str(),
            "the idempotency key is the item's id"
        );
        assert_eq!(body["decision"], "REVOKE");
        assert_eq!(body["campaign"]["name"], "Q2");
        assert!(body["access"]["name"].is_string(), "{body}");
    }
    let (_, _, flaky_item) = app
        .get(&format!("/remediation/v1/items/{flaky}"), Some(&token))
        .await;
    assert_eq!(flaky_item["status"], "OPEN");
    assert_eq!(flaky_item["attempts"], 1);
    assert!(
        flaky_item["lastError"].as_str().unwrap().contains("503"),
        "{flaky_item}"
    );

    // Later, the retry goes through, under the same key.
    app.clock.advance(Duration::minutes(2));
    assert!(app.remediation.enqueue_delivery().await.unwrap());
    for _ in 0..500 {
        if state.lock().unwrap().got.len() == 6 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(state.lock().unwrap().got[5].0, flaky);
    for _ in 0..100 {
        let (_, _, now) = app.get(&items_path, Some(&token)).await;
        if now
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["status"] == "IN_PROGRESS")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    // The receiver reports back.
    let (s, _, done) = app
        .send(
            Method::POST,
            &format!("/remediation/v1/items/{flaky}"),
            &token,
            Some(json!({"status": "COMPLETED", "externalRef": "CHG-42"})),
        )
        .await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(done["status"], "COMPLETED");
    let (s, _, e) = app
        .send(
            Method::POST,
            &format!("/remediation/v1/items/{flaky}"),
            &token,
            Some(json!({"status": "DONE"})),
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        e["messages"][0]["text"]
            .as_str()
            .unwrap()
            .contains("'DONE'"),
        "{e}"
    );
    let user = app.token_for(app.client(ClientRole::User)).await;
    let (s, _, _) = app.get(&items_path, Some(&user)).await;
    assert_eq!(s, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remediation_scan_checks_the_items_against_the_grants() {
    let app = common::app(None).await;
    let token = app.token_for(app.client(ClientRole::CertAdmin)).await;
    let deadline = app.clock.now().plus(Duration::days(14)).to_string();
    let (_, _, k) = app
        .send(
            Method::POST,
            "/v3/campaigns",
            &token,
            Some(
                json!({"name": "Q3", "type": "MANAGER", "deadline": deadline,
                        "autoRevokeAllowed": true}),
            ),
        )
        .await;
    let id = k["id"].as_str().unwrap().to_owned();
    let path = format!("/v3/campaigns/{id}");
    let scan = format!("{path}/run-remediation-scan");
    app.wait_for(&path, &token, |b| b["status"] == "STAGED")
        .await;
    app.send(Method::POST, &format!("{path}/activate"), &token, None)
        .await;
    app.wait_for(&path, &token, |b| b["status"] == "ACTIVE")
        .await;
    app.clock.advance(Duration::days(15));
    let token = app.token_for(app.client(ClientRole::CertAdmin)).await;
    app.send(
        Method::POST,
        &format!("{path}/complete"),
        &token,
        Some(json!({"autoCompleteAction": "REVOKE"})),
    )
    .await;
    app.wait_for(&path, &token, |b| b["status"] == "COMPLETED")
        .await;
    let items_path = format!("/remediation/v1/campaigns/{id}/items");
    let (_, _, items) = app.get(&items_path, Some(&token)).await;
    let first = items[0]["id"].as_str().unwrap().to_owned();
    // The receiver says done, but the grant is still there: a scan reopens the item.
    app.send(
        Method::POST,
        &format!("/remediation/v1/items/{first}"),
        &token,
        Some(json!({"status": "COMPLETED"})),
    )
    .await;
    let (s, _, body) = app.send(Method::POST, &scan, &token, None).await;
    assert_eq!(s, 202, "{body}");
    if let Some(spec) = recert_spec_check::sailpoint_spec() {
        spec.check_response("post", "/campaigns/{id}/run-remediation-scan", 202, &body)
            .unwrap();
    }
    let (_, _, item) = app
        .get(&format!("/remediation/v1/items/{first}"), Some(&token))
        .await;
    assert_eq!(item["status"], "OPEN", "{item}");
    assert_eq!(item["lastError"], "the access is still present");
    let user = app.token_for(app.client(ClientRole::User)).await;
    let (s, _, _) = app.send(Method::POST, &scan, &user, None).await;
    assert_eq!(s, 403);
    let (s, _, _) = app
        .send(
            Method::POST,
            "/v3/campaigns/0000000000000000000000000000abcd/run-remediation-scan",
            &token,
            None,
        )
        .await;
    assert_eq!(s, 404);
}

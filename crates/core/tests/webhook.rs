//! Webhook deliveries over real HTTP: a small axum receiver on a free port checks the signature
//! the way a customer's would, and answers as a good, broken, missing or slow endpoint.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use recert_core::webhook::{
    Delivery, DeliveryOutcome, WebhookConfig, WebhookConfigError, WebhookSender, verify,
};
use recert_domain::{Id, ManualClock, Timestamp};
use serde_json::json;

const SECRET: &str = "correct horse battery staple";
/// 2026-01-01T00:00:00Z, the time on the test clock.
const NOW: i64 = 1_767_225_600;

#[derive(Debug, Clone, Default)]
struct Received(Arc<Mutex<Vec<(HeaderMap, Bytes)>>>);

/// Answers 204 only to a request signed with [`SECRET`] at a timestamp within 5 minutes.
async fn hook(State(received): State<Received>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let timestamp: Option<i64> = header("x-recert-timestamp").and_then(|t| t.parse().ok());
    let signed = match (timestamp, header("x-recert-signature")) {
        (Some(ts), Some(sig)) => {
            (NOW - ts).abs() <= 300 && verify(SECRET.as_bytes(), ts, &body, sig)
        }
        _ => false,
    };
    let keyed = header("idempotency-key").is_some_and(|k| Id::parse(k).is_ok());
    received.0.lock().unwrap().push((headers.clone(), body));
    if signed && keyed {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::UNAUTHORIZED
    }
}

async fn slow() -> StatusCode {
    tokio::time::sleep(Duration::from_secs(5)).await;
    StatusCode::OK
}

/// Starts the receiver; returns its base URL and what it has received.
async fn receiver() -> (String, Received) {
    let received = Received::default();
    let app = Router::new()
        .route("/hook", post(hook))
        .route(
            "/broken",
            post(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
        )
        .route(
            "/busy",
            post(|| async { (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "30")]) }),
        )
        .route(
            "/gone",
            post(|| async { (StatusCode::NOT_FOUND, "no such hook: ask the IAM team\n") }),
        )
        .route(
            "/moved",
            post(|| async { (StatusCode::PERMANENT_REDIRECT, [("location", "/hook")]) }),
        )
        .route("/slow", post(slow))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), received)
}

fn sender(url: String, timeout: Duration) -> WebhookSender {
    let clock = ManualClock::new(Timestamp::from_unix_millis(NOW * 1000));
    let config = WebhookConfig {
        url,
        secret: SECRET.to_owned(),
        timeout,
    };
    WebhookSender::new(config, Arc::new(clock)).unwrap()
}

fn delivery(id: Id) -> Delivery<'static> {
    let item = json!({ "item": id, "account": "jdoe", "entitlement": "GL-Approver" });
    Delivery::json(id, "remediation.requested", &item).unwrap()
}

fn assert_retry(outcome: DeliveryOutcome, expected: &str) {
    match outcome {
        DeliveryOutcome::Retry { reason } => {
            assert!(reason.contains(expected), "{reason:?} lacks {expected:?}");
            assert!(!reason.contains(SECRET));
        }
        other => panic!("expected a retry, got {other:?}"),
    }
}

#[tokio::test]
async fn a_signed_delivery_is_accepted_with_its_headers() {
    let (base, received) = receiver().await;
    let sender = sender(format!("{base}/hook"), Duration::from_secs(5));
    let id = Id::generate();
    let delivery = delivery(id);

    assert_eq!(
        sender.deliver(&delivery).await,
        DeliveryOutcome::Delivered { status: 204 }
    );
    // A retry of the same delivery carries the same key.
    assert_eq!(
        sender.deliver(&delivery).await,
        DeliveryOutcome::Delivered { status: 204 }
    );

    let received = received.0.lock().unwrap();
    assert_eq!(received.len(), 2);
    let (headers, body) = &received[0];
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["idempotency-key"], id.to_string());
    assert_eq!(received[1].0["idempotency-key"], id.to_string());
    assert_eq!(headers["x-recert-event"], "remediation.requested");
    assert_eq!(headers["x-recert-timestamp"], NOW.to_string());
    let signature = headers["x-recert-signature"].to_str().unwrap();
    assert!(signature.starts_with("sha256="), "{signature}");
    assert_eq!(signature.len(), 7 + 64);
    assert_eq!(&body[..], delivery.body());
    let sent: serde_json::Value = serde_json::from_slice(body).unwrap();
    assert_eq!(sent["account"], "jdoe");
}

#[tokio::test]
async fn a_tampered_body_or_timestamp_fails_verification() {
    let (base, received) = receiver().await;
    let sender = sender(format!("{base}/hook"), Duration::from_secs(5));
    sender.deliver(&delivery(Id::generate())).await;

    let received = received.0.lock().unwrap();
    let (headers, body) = &received[0];
    let signature = headers["x-recert-signature"].to_str().unwrap();
    let secret = SECRET.as_bytes();
    assert!(verify(secret, NOW, body, signature));

    let tampered = String::from_utf8(body.to_vec())
        .unwrap()
        .replace("jdoe", "admin");
    assert!(!verify(secret, NOW, tampered.as_bytes(), signature));
    assert!(!verify(secret, NOW + 1, body, signature), "replayed later");
    assert!(!verify(b"a guess", NOW, body, signature));
}

#[tokio::test]
async fn server_errors_and_throttling_are_retried() {
    let (base, _) = receiver().await;
    let broken = sender(format!("{base}/broken"), Duration::from_secs(5));
    assert_retry(broken.deliver(&delivery(Id::generate())).await, "500");

    let busy = sender(format!("{base}/busy"), Duration::from_secs(5));
    assert_retry(
        busy.deliver(&delivery(Id::generate())).await,
        "HTTP 429 Too Many Requests (Retry-After: 30)",
    );
}

#[tokio::test]
async fn a_client_error_is_rejected_with_the_answer() {
    let (base, _) = receiver().await;
    let gone = sender(format!("{base}/gone"), Duration::from_secs(5));
    assert_eq!(
        gone.deliver(&delivery(Id::generate())).await,
        DeliveryOutcome::Rejected {
            status: 404,
            reason: "HTTP 404 Not Found: no such hook: ask the IAM team".into(),
        }
    );

    // A redirect is not followed (it would drop the body): the URL needs fixing.
    let moved = sender(format!("{base}/moved"), Duration::from_secs(5));
    assert_eq!(
        moved.deliver(&delivery(Id::generate())).await,
        DeliveryOutcome::Rejected {
            status: 308,
            reason: "unexpected HTTP 308 Permanent Redirect; redirects are not followed".into(),
        }
    );

    // A receiver with another secret refuses the signature: also permanent.
    let clock = ManualClock::new(Timestamp::from_unix_millis(NOW * 1000));
    let config = WebhookConfig {
        url: format!("{base}/hook"),
        secret: "not the shared one".into(),
        timeout: Duration::from_secs(5),
    };
    let wrong = WebhookSender::new(config, Arc::new(clock)).unwrap();
    match wrong.deliver(&delivery(Id::generate())).await {
        DeliveryOutcome::Rejected {
            status: 401,
            reason,
        } => {
            assert!(!reason.contains("not the shared one"), "{reason}");
        }
        other => panic!("expected 401, got {other:?}"),
    }
}

#[tokio::test]
async fn a_slow_receiver_times_out_and_is_retried() {
    let (base, _) = receiver().await;
    let sender = sender(format!("{base}/slow"), Duration::from_millis(200));
    let started = std::time::Instant::now();
    assert_retry(
        sender.deliver(&delivery(Id::generate())).await,
        "timed out after 200ms",
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_refused_connection_is_retried() {
    // A port that was free a moment ago and has nobody listening now.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let sender = sender(format!("http://{addr}/hook"), Duration::from_secs(5));
    assert_retry(
        sender.deliver(&delivery(Id::generate())).await,
        "could not connect",
    );
}

#[test]
fn bad_configurations_are_refused_up_front() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_millis(0)));
    let config = |url: &str, secret: &str, timeout: Duration| WebhookConfig {
        url: url.into(),
        secret: secret.into(),
        timeout,
    };
    let second = Duration::from_secs(1);
    let error = |c: WebhookConfig| WebhookSender::new(c, clock.clone()).unwrap_err();

    assert!(
        WebhookSender::new(
            config("https://tickets.example/hook", SECRET, second),
            clock.clone()
        )
        .is_ok(),
        "https receivers are reached over TLS"
    );
    assert!(matches!(
        error(config("ftp://tickets.example/", SECRET, second)),
        WebhookConfigError::UnsupportedScheme(s) if s == "ftp"
    ));
    let invalid = error(config("tickets.example/hook", SECRET, second));
    assert_eq!(
        invalid.to_string(),
        "webhook url is not a valid URL: relative URL without a base"
    );
    assert_eq!(
        error(config("http://tickets.example/", "", second)),
        WebhookConfigError::EmptySecret
    );
    assert_eq!(
        error(config("http://tickets.example/", SECRET, Duration::ZERO)),
        WebhookConfigError::ZeroTimeout
    );
}

#[test]
fn the_secret_never_appears_in_debug_output() {
    let config = WebhookConfig {
        url: "http://hooks:url-password@tickets.example/hook".into(),
        secret: SECRET.into(),
        timeout: Duration::from_secs(1),
    };
    let shown = format!("{config:?} {config:#?}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(!shown.contains("url-password"), "{shown}");
    assert!(shown.contains("[redacted]"), "{shown}");
    assert!(shown.contains("tickets.example"), "{shown}");

    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_millis(0)));
    let sender = WebhookSender::new(config, clock).unwrap();
    let shown = format!("{sender:?} {sender:#?}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(!shown.contains("url-password"), "{shown}");
}

//! One structured log line per request, with a tracking id that error bodies repeat so a caller's
//! report can be matched to the log. The query string is never logged: it may carry credentials.

use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use recert_domain::Id;

/// The id of one request, 32 hex characters; also sent back as `X-Request-Id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackingId(pub Id);

pub(crate) async fn log_request(mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let tracking = TrackingId(Id::generate());
    req.extensions_mut().insert(tracking);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let mut res = next.run(req).await;
    let status = res.status().as_u16();
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    if let Ok(v) = HeaderValue::from_str(&tracking.0.to_string()) {
        res.headers_mut().insert("x-request-id", v);
    }
    if status >= 500 {
        tracing::error!(tracking_id = %tracking.0, %method, path, status, millis, "request");
    } else {
        tracing::info!(tracking_id = %tracking.0, %method, path, status, millis, "request");
    }
    res
}

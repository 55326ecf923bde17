//! Each dialect's error bodies, built in one place.
//!
//! SailPoint: 401 `{"error": ...}` with `WWW-Authenticate: Bearer`; 429 `{"message": "Rate Limit
//! Exceeded"}` with `Retry-After`; everything else an `ErrorResponseDto` carrying the request's
//! tracking id. A 5xx never carries details: they go to the log, once, with the tracking id.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::TrackingId;

/// An `ErrorResponseDto` (SailPoint's error body).
pub fn sailpoint(status: StatusCode, tracking: TrackingId, text: &str) -> Response {
    let detail = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error")
    );
    let body = json!({
        "detailCode": detail,
        "trackingId": tracking.0.to_string(),
        "messages": [{"locale": "en-US", "localeOrigin": "DEFAULT", "text": text}],
        "causes": [],
    });
    (status, Json(body)).into_response()
}

/// The 401 SailPoint's gateway answers.
pub fn sailpoint_unauthorized(reason: &str) -> Response {
    let mut res = (StatusCode::UNAUTHORIZED, Json(json!({ "error": reason }))).into_response();
    res.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"recert\", error=\"invalid_token\""),
    );
    res
}

/// The 429 answer, the same in every dialect but Veza's.
pub fn rate_limited(retry_after_secs: u64) -> Response {
    let mut res = (
        StatusCode::TOO_MANY_REQUESTS,
        Json(json!({ "message": "Rate Limit Exceeded" })),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

/// A failure of ours: logged once with the tracking id, answered without details.
pub fn sailpoint_internal(tracking: TrackingId, error: &dyn std::fmt::Display) -> Response {
    tracing::error!(tracking_id = %tracking.0, %error, "request failed");
    sailpoint(
        StatusCode::INTERNAL_SERVER_ERROR,
        tracking,
        "An internal error occurred; quote the tracking id when reporting it.",
    )
}

/// Veza's error body: `{"code", "message", "details": [], "request_id", "timestamp"}`, with the
/// code that goes with the status.
pub fn veza(
    status: StatusCode,
    tracking: TrackingId,
    now: recert_domain::Timestamp,
    message: &str,
) -> Response {
    let code = match status.as_u16() {
        400 => "InvalidArgument",
        401 => "Unauthenticated",
        403 => "PermissionDenied",
        404 => "NotFound",
        429 => "ResourceExhausted",
        _ => "Internal",
    };
    veza_code(status, code, tracking, now, message)
}

/// Veza's error body with an explicit code (`FailedPrecondition` shares 400 with
/// `InvalidArgument`).
pub fn veza_code(
    status: StatusCode,
    code: &str,
    tracking: TrackingId,
    now: recert_domain::Timestamp,
    message: &str,
) -> Response {
    let body = json!({
        "code": code,
        "message": message,
        "details": [],
        "request_id": tracking.0.to_string(),
        "timestamp": now.to_string(),
    });
    (status, Json(body)).into_response()
}

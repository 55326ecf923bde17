//! The one bearer extractor: a handler that takes a [`SailPointCaller`] only runs for a valid,
//! unrevoked token within its client's rate limit, and gets the [`Principal`] to ask the core
//! for what it may do.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use axum::response::Response;
use recert_core::auth::ratelimit::Dialect;
use recert_core::auth::{AuthError, Principal, TokenClient};

use crate::{AppState, TrackingId, error};

/// An authenticated caller of a SailPoint-dialect route.
#[derive(Debug, Clone)]
pub struct SailPointCaller {
    pub principal: Principal,
    pub tracking: TrackingId,
}

/// The bearer token of a request, if it has one.
fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The tracking id of a whole request (see [`tracking`]).
pub(crate) fn tracking_of(req: &axum::extract::Request) -> TrackingId {
    req.extensions()
        .get::<TrackingId>()
        .copied()
        .unwrap_or(TrackingId(recert_domain::Id::generate()))
}

pub(crate) fn tracking(parts: &Parts) -> TrackingId {
    parts
        .extensions
        .get::<TrackingId>()
        .copied()
        .unwrap_or(TrackingId(recert_domain::Id::generate()))
}

/// A SailPoint-dialect caller whose token is verified and within its client's rate limit, but
/// whose client is not read yet: for a handler that reads the client together with what it
/// needs (see `Certifications::get_for_token`) and refuses with [`sailpoint_refusal`].
#[derive(Debug, Clone, Copy)]
pub struct SailPointBearer {
    pub client: TokenClient,
    pub tracking: TrackingId,
}

/// The answer to a SailPoint-dialect caller that did not authenticate.
pub(crate) fn sailpoint_refusal(tracking: TrackingId, e: AuthError) -> Response {
    match e {
        AuthError::Store(e) => error::sailpoint_internal(tracking, &e),
        e => {
            tracing::info!(tracking_id = %tracking.0, reason = %e, "bearer token refused");
            error::sailpoint_unauthorized(&format!("Invalid token: {e}"))
        }
    }
}

impl FromRequestParts<AppState> for SailPointBearer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let tracking = tracking(parts);
        let Some(token) = bearer(parts) else {
            return Err(error::sailpoint_unauthorized(
                "Unauthorized: a bearer token is required",
            ));
        };
        let client = state
            .auth
            .verify_token(token)
            .await
            .map_err(|e| sailpoint_refusal(tracking, e))?;
        // The limit is kept per client id, which the verified token already names.
        if let Some(limiter) = &state.limiter
            && let Err(wait) = limiter.check(client.id(), Dialect::SailPoint, state.clock.now())
        {
            return Err(error::rate_limited(wait.0));
        }
        Ok(SailPointBearer { client, tracking })
    }
}

impl FromRequestParts<AppState> for SailPointCaller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let SailPointBearer { client, tracking } =
            SailPointBearer::from_request_parts(parts, state).await?;
        let principal = state
            .auth
            .principal(client)
            .await
            .map_err(|e| sailpoint_refusal(tracking, e))?;
        Ok(SailPointCaller {
            principal,
            tracking,
        })
    }
}

/// An authenticated caller of a Veza-dialect route: the same checks as [`SailPointCaller`], its
/// own rate-limit allowance, and Veza's error body for refusals.
#[derive(Debug, Clone)]
pub struct VezaCaller {
    pub principal: Principal,
    pub tracking: TrackingId,
}

impl FromRequestParts<AppState> for VezaCaller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        use axum::http::StatusCode;
        let tracking = tracking(parts);
        let now = state.clock.now();
        let refuse = |status, message: &str| error::veza(status, tracking, now, message);
        let Some(token) = bearer(parts) else {
            return Err(refuse(
                StatusCode::UNAUTHORIZED,
                "a bearer token is required",
            ));
        };
        let principal = match state.auth.authenticate(token).await {
            Ok(p) => p,
            Err(AuthError::Store(e)) => {
                tracing::error!(tracking_id = %tracking.0, error = %e, "request failed");
                return Err(refuse(StatusCode::INTERNAL_SERVER_ERROR, "internal error"));
            }
            Err(e) => {
                tracing::info!(tracking_id = %tracking.0, reason = %e, "bearer token refused");
                return Err(refuse(
                    StatusCode::UNAUTHORIZED,
                    &format!("invalid token: {e}"),
                ));
            }
        };
        if let Some(limiter) = &state.limiter
            && let Err(wait) = limiter.check(principal.client_id, Dialect::Veza, now)
        {
            let mut res = refuse(StatusCode::TOO_MANY_REQUESTS, "rate limit exceeded");
            if let Ok(v) = axum::http::HeaderValue::from_str(&wait.0.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return Err(res);
        }
        Ok(VezaCaller {
            principal,
            tracking,
        })
    }
}

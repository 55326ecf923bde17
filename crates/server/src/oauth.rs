//! `POST /oauth/token` (client credentials, as SailPoint serves it) and `GET /oauth/info`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use recert_core::auth::ratelimit::{Dialect, LimitKey};
use recert_core::auth::{OAuthError, TokenRequest, veza_role};
use serde_json::json;

use crate::caller::SailPointCaller;
use crate::{AppState, error};

const MAX_FORM_BYTES: usize = 64 * 1024;

fn oauth_error(e: &OAuthError) -> Response {
    let (status, description) = match e {
        OAuthError::InvalidRequest(why) => (StatusCode::BAD_REQUEST, why.clone()),
        OAuthError::InvalidClient => (StatusCode::UNAUTHORIZED, "invalid client".to_owned()),
        OAuthError::UnsupportedGrantType => (
            StatusCode::BAD_REQUEST,
            "only grant_type=client_credentials is supported".to_owned(),
        ),
        OAuthError::Server => (StatusCode::INTERNAL_SERVER_ERROR, "server error".to_owned()),
    };
    let mut res = (
        status,
        Json(json!({ "error": e.code(), "error_description": description })),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"recert\""),
        );
    }
    no_store(&mut res);
    res
}

fn no_store(res: &mut Response) {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// Client credentials from `Authorization: Basic` (RFC 6749 §2.3.1: each part form-encoded).
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, b64) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |s: &str| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
            .ok()
            .and_then(|v| v.into_iter().next().map(|(_, v)| v))
    };
    Some((unescape(id)?, unescape(secret)?))
}

/// Reads the parameters from the query string, then the body (form or multipart), then Basic
/// authentication; later sources win.
async fn read_params(req: Request) -> Result<HashMap<String, String>, OAuthError> {
    let bad = |why: &str| OAuthError::InvalidRequest(why.to_owned());
    let mut params: HashMap<String, String> = HashMap::new();
    if let Some(q) = req.uri().query() {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(q).map_err(|_| bad("malformed query string"))?;
        params.extend(pairs);
    }
    let basic = basic_credentials(req.headers());
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let body = axum::body::to_bytes(req.into_body(), MAX_FORM_BYTES)
            .await
            .map_err(|_| bad("the body is too large or unreadable"))?;
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&body).map_err(|_| bad("malformed form body"))?;
        params.extend(pairs);
    } else if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(req, &())
            .await
            .map_err(|_| bad("malformed multipart body"))?;
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|_| bad("malformed multipart body"))?
        {
            let Some(name) = field.name().map(str::to_owned) else {
                continue;
            };
            let value = field
                .text()
                .await
                .map_err(|_| bad("malformed multipart body"))?;
            params.insert(name, value);
        }
    }
    if let Some((id, secret)) = basic {
        params.insert("client_id".into(), id);
        params.insert("client_secret".into(), secret);
    }
    Ok(params)
}

pub(crate) async fn token(State(state): State<AppState>, req: Request) -> Response {
    // Counted against the network peer, not the client it names: naming someone else's client
    // must not spend that client's allowance.
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    if let (Some(limiter), Some(ip)) = (&state.limiter, peer)
        && let Err(wait) = limiter.check(LimitKey::Peer(ip), Dialect::OAuth, state.clock.now())
    {
        return error::rate_limited(wait.0);
    }
    let mut params = match read_params(req).await {
        Ok(p) => p,
        Err(e) => return oauth_error(&e),
    };
    let request = TokenRequest {
        grant_type: params.remove("grant_type"),
        client_id: params.remove("client_id"),
        client_secret: params.remove("client_secret"),
    };
    match state.auth.issue_token(request).await {
        Ok(t) => {
            let mut body = json!({
                "access_token": t.access_token,
                "token_type": "bearer",
                "expires_in": t.expires_in,
                "scope": t.scope,
                "jti": t.jti.to_string(),
            });
            if let Some(identity) = t.identity_id {
                body["identity_id"] = json!(identity.to_string());
            }
            let mut res = (StatusCode::OK, Json(body)).into_response();
            no_store(&mut res);
            res
        }
        Err(e) => oauth_error(&e),
    }
}

/// What the presented token speaks for.
pub(crate) async fn info(State(state): State<AppState>, caller: SailPointCaller) -> Response {
    let p = caller.principal;
    Json(json!({
        "client_id": p.client_id.to_string(),
        "client_name": p.name,
        "roles": p.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "veza_roles": p.roles.iter().map(|r| veza_role(*r)).collect::<Vec<_>>(),
        "identity_id": p.identity_id.map(|i| i.to_string()),
        "scope": recert_core::auth::SCOPE,
        "token_lifetime_seconds": state.auth.token_lifetime().whole_seconds(),
        "grant_types_supported": ["client_credentials"],
    }))
    .into_response()
}

//! Single sign-on: `/login/sso` sends the browser to the identity provider with a fresh
//! state, nonce and PKCE verifier (kept in a signed, short-lived cookie), and
//! `/login/sso/callback` finishes the sign-in through `core::oidc`.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use recert_core::oidc::Attempt;
use sha2::Sha256;

use super::{Flash, SESSION_COOKIE, cookie, local_path, over_tls, set_cookie};
use crate::AppState;
use crate::wire::query_map;

const ATTEMPT_COOKIE: &str = "recert_sso";

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/login/sso", get(start))
        .route("/login/sso/callback", get(callback))
}

fn key(state: &AppState) -> [u8; 32] {
    state.auth.derived_key("web sign-in attempt")
}

fn seal(state: &AppState, a: &Attempt) -> String {
    let body = serde_json::to_vec(a).unwrap_or_default();
    let mut m = Hmac::<Sha256>::new_from_slice(&key(state)).expect("any key length");
    m.update(&body);
    format!(
        "{}.{}",
        B64.encode(&body),
        B64.encode(m.finalize().into_bytes())
    )
}

fn open(state: &AppState, sealed: &str) -> Option<Attempt> {
    let (body, tag) = sealed.split_once('.')?;
    let body = B64.decode(body).ok()?;
    let tag = B64.decode(tag).ok()?;
    let mut m = Hmac::<Sha256>::new_from_slice(&key(state)).expect("any key length");
    m.update(&body);
    m.verify_slice(&tag).ok()?;
    serde_json::from_slice(&body).ok()
}

fn refused(state: &AppState, headers: &HeaderMap, status: StatusCode, text: &str) -> Response {
    super::login::form(
        state,
        headers,
        status,
        "/reviews",
        "",
        Some(Flash::error(text)),
    )
}

async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let Some(oidc) = &state.oidc else {
        return refused(
            &state,
            &headers,
            StatusCode::NOT_FOUND,
            "Single sign-on is not configured here.",
        );
    };
    let q = query_map(raw.as_deref());
    let next = q
        .get("next")
        .map(String::as_str)
        .and_then(local_path)
        .unwrap_or("/reviews");
    match oidc.begin(next).await {
        Ok((url, attempt)) => {
            let mut res = Redirect::to(&url).into_response();
            res.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(
                    ATTEMPT_COOKIE,
                    &seal(&state, &attempt),
                    600,
                    over_tls(&headers),
                ),
            );
            res
        }
        Err(e) => {
            tracing::warn!(error = %e, "single sign-on could not start");
            refused(
                &state,
                &headers,
                StatusCode::BAD_GATEWAY,
                "The identity provider cannot be reached right now; try again in a moment.",
            )
        }
    }
}

async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let Some(oidc) = &state.oidc else {
        return refused(
            &state,
            &headers,
            StatusCode::NOT_FOUND,
            "Single sign-on is not configured here.",
        );
    };
    let tls = over_tls(&headers) || state.web.secure_cookies();
    let q = query_map(raw.as_deref());
    if let Some(e) = q.get("error") {
        tracing::info!(error = %e, "the identity provider refused the sign-in");
        return refused(
            &state,
            &headers,
            StatusCode::UNAUTHORIZED,
            "The identity provider did not sign you in.",
        );
    }
    let Some(attempt) = cookie(&headers, ATTEMPT_COOKIE).and_then(|c| open(&state, &c)) else {
        return refused(
            &state,
            &headers,
            StatusCode::BAD_REQUEST,
            "This sign-in was not started here or took too long; start again.",
        );
    };
    let (code, st) = (
        q.get("code").map(String::as_str).unwrap_or(""),
        q.get("state").map(String::as_str).unwrap_or(""),
    );
    let identity = match oidc.finish(&attempt, st, code).await {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!(error = %e, "single sign-on refused");
            let text = match e {
                recert_core::oidc::OidcError::NoIdentity(m) => m,
                _ => "The sign-in could not be verified; start again.".into(),
            };
            return refused(&state, &headers, StatusCode::UNAUTHORIZED, &text);
        }
    };
    match state.web.open(identity.id).await {
        Ok(s) => {
            let next = local_path(&attempt.next).unwrap_or("/reviews");
            let mut res = Redirect::to(next).into_response();
            let h = res.headers_mut();
            h.append(
                header::SET_COOKIE,
                set_cookie(
                    SESSION_COOKIE,
                    &s.token,
                    state.web.lifetime().whole_seconds(),
                    tls,
                ),
            );
            h.append(header::SET_COOKIE, set_cookie(ATTEMPT_COOKIE, "", 0, tls));
            res
        }
        Err(e) => {
            tracing::error!(error = %e, "session could not be opened");
            refused(
                &state,
                &headers,
                StatusCode::INTERNAL_SERVER_ERROR,
                "recert could not sign you in; try again in a moment.",
            )
        }
    }
}

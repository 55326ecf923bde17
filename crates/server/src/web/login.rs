//! `/login` (name or email and password) and `/logout`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use recert_core::auth::ratelimit::{Dialect, LimitKey};
use recert_core::web::WebError;
use serde_json::json;

use super::{SESSION_COOKIE, Web, field, form_pairs, local_path, over_tls, render, set_cookie};
use crate::AppState;
use crate::wire::query_map;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(page).post(sign_in))
        .route("/logout", post(sign_out))
}

fn next_of(next: Option<&str>) -> String {
    next.and_then(local_path).unwrap_or("/reviews").to_owned()
}

/// The sign-in form's own CSRF token, before there is a session: the same random value in a
/// cookie and in the form (a cross-site form cannot read or set the cookie).
const LOGIN_COOKIE: &str = "recert_login";

fn login_token() -> Option<String> {
    let mut b = [0u8; 24];
    recert_core::web::random_fill(&mut b).ok()?;
    Some(base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        b,
    ))
}

/// The sign-in page with a fresh form token (and its cookie), a message when given.
pub(super) fn form(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    next: &str,
    login: &str,
    flash: Option<super::Flash>,
) -> Response {
    let Some(token) = login_token() else {
        return super::error_page(
            None,
            StatusCode::INTERNAL_SERVER_ERROR,
            "recert cannot show the sign-in form right now; try again in a moment.",
        );
    };
    let mut res = render(
        status,
        "login.html",
        None,
        json!({
            "next": next_of(Some(next)),
            "login": login,
            "sso": state.oidc.as_ref().map(|o| o.label()),
            "csrf": token,
        }),
        flash,
    );
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            LOGIN_COOKIE,
            &token,
            3600,
            over_tls(headers) || state.web.secure_cookies(),
        ),
    );
    res
}

async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = query_map(raw.as_deref());
    let next = q.get("next").map(String::as_str).unwrap_or("/reviews");
    form(&state, &headers, StatusCode::OK, next, "", None)
}

async fn sign_in(State(state): State<AppState>, req: axum::extract::Request) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0);
    let headers: HeaderMap = req.headers().clone();
    let body = axum::body::to_bytes(req.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let pairs = form_pairs(&body);
    let login = field(&pairs, "login").unwrap_or("").trim().to_owned();
    let password = field(&pairs, "password").unwrap_or("");
    let next = next_of(field(&pairs, "next"));
    let sent = field(&pairs, "csrf").unwrap_or("").to_owned();
    let again = |status, text: &str| {
        form(
            &state,
            &headers,
            status,
            &next,
            &login,
            Some(super::Flash::error(text)),
        )
    };
    let expected = super::cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !super::same(&expected, &sent) {
        return again(
            StatusCode::FORBIDDEN,
            "This sign-in form has expired or did not come from recert; try again.",
        );
    }
    // Guessing passwords costs the guesser: the same allowance per address as the token
    // endpoint.
    if let (Some(limiter), Some(addr)) = (&state.limiter, peer)
        && limiter
            .check(LimitKey::Peer(addr.ip()), Dialect::OAuth, state.clock.now())
            .is_err()
    {
        return again(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts from here; wait a little and try again.",
        );
    }
    if login.is_empty() || password.is_empty() {
        return again(
            StatusCode::BAD_REQUEST,
            "Give your name or email and your password.",
        );
    }
    // And per account name, from wherever the attempts come (the same answer whether or not
    // the account exists).
    if let Some(limiter) = &state.limiter
        && let Err(wait) =
            limiter.check(LimitKey::login(&login), Dialect::SignIn, state.clock.now())
    {
        tracing::info!(
            retry_after = wait.0,
            "web sign-in refused: too many attempts for one name"
        );
        return again(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts for this account; wait a few minutes and try again.",
        );
    }
    match state.web.login(&login, password).await {
        Ok(s) => {
            let mut res = Redirect::to(&next).into_response();
            let max_age = state.web.lifetime().whole_seconds();
            res.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(
                    SESSION_COOKIE,
                    &s.token,
                    max_age,
                    over_tls(&headers) || state.web.secure_cookies(),
                ),
            );
            res
        }
        Err(WebError::BadCredentials) => {
            tracing::info!("web sign-in refused");
            again(
                StatusCode::UNAUTHORIZED,
                "The name or password is not right.",
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "web sign-in failed");
            again(
                StatusCode::INTERNAL_SERVER_ERROR,
                "recert could not sign you in; try again in a moment.",
            )
        }
    }
}

async fn sign_out(State(state): State<AppState>, web: Web, body: Bytes) -> Response {
    let pairs = form_pairs(&body);
    if let Some(r) = web.csrf_refusal(field(&pairs, "csrf")) {
        return r;
    }
    if let Err(e) = state.web.logout(&web.signed.token_hash).await {
        tracing::error!(error = %e, "sign-out failed");
    }
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", 0, web.tls),
    );
    res
}

//! The web interface: pages rendered on the server from templates compiled into the binary
//! (auto-escaped), plain forms with post/redirect/get, a CSRF token in every form, and a small
//! script for keyboard shortcuts. Pages call the same core operations as the APIs, so every
//! rule and every refusal text is the same.

mod admin;
mod login;
mod reviews;
mod sso;

use std::sync::OnceLock;

use axum::Router;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use minijinja::Environment;
use recert_core::web::SignedIn;
use serde_json::{Value, json};

use crate::AppState;

pub(crate) const SESSION_COOKIE: &str = "recert_session";
const FLASH_COOKIE: &str = "recert_flash";

/// The web routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/reviews") }))
        .route("/assets/{file}", get(asset))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .merge(login::routes())
        .merge(reviews::routes())
        .merge(admin::routes())
        .merge(sso::routes())
}

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, src) in [
            ("base.html", include_str!("../../templates/base.html")),
            ("login.html", include_str!("../../templates/login.html")),
            ("reviews.html", include_str!("../../templates/reviews.html")),
            (
                "certification.html",
                include_str!("../../templates/certification.html"),
            ),
            (
                "sign_off.html",
                include_str!("../../templates/sign_off.html"),
            ),
            ("error.html", include_str!("../../templates/error.html")),
            (
                "admin_campaigns.html",
                include_str!("../../templates/admin_campaigns.html"),
            ),
            (
                "admin_new_campaign.html",
                include_str!("../../templates/admin_new_campaign.html"),
            ),
            (
                "admin_campaign.html",
                include_str!("../../templates/admin_campaign.html"),
            ),
        ] {
            // The templates are part of the binary; a broken one fails the tests at once.
            env.add_template(name, src)
                .unwrap_or_else(|e| panic!("template {name}: {e}"));
        }
        env
    })
}

/// Headers every page carries: no caching of personal pages, no framing, scripts from here only.
fn page_headers(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}

/// A flash message shown once on the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Flash {
    pub ok: bool,
    pub text: String,
}

impl Flash {
    pub fn ok(text: impl Into<String>) -> Self {
        Flash {
            ok: true,
            text: text.into(),
        }
    }

    pub fn error(text: impl Into<String>) -> Self {
        Flash {
            ok: false,
            text: text.into(),
        }
    }
}

/// Renders a page. `ctx` is an object; the signed-in person, the form token and a pending
/// flash message are added.
pub(crate) fn render(
    status: StatusCode,
    name: &str,
    who: Option<&Web>,
    mut ctx: Value,
    flash: Option<Flash>,
) -> Response {
    if let (Value::Object(o), Some(w)) = (&mut ctx, who) {
        o.insert(
            "me".into(),
            json!({
                "name": w.signed.identity.display_name,
                "admin": w.signed.principal.report_reader().is_some(),
            }),
        );
        o.insert("csrf".into(), json!(w.signed.csrf));
    }
    let pending = flash.or_else(|| who.and_then(|w| w.flash.clone()));
    if let (Value::Object(o), Some(f)) = (&mut ctx, &pending) {
        o.insert(
            "flash".into(),
            json!({"kind": if f.ok { "ok" } else { "error" }, "text": f.text}),
        );
    }
    let html = env()
        .get_template(name)
        .and_then(|t| t.render(&ctx))
        .unwrap_or_else(|e| {
            tracing::error!(template = name, error = %e, "page could not be rendered");
            "<!doctype html><title>Error</title><p>This page could not be shown.</p>".into()
        });
    let mut res = (status, html).into_response();
    page_headers(res.headers_mut());
    if who.is_some_and(|w| w.flash.is_some()) {
        res.headers_mut().append(
            header::SET_COOKIE,
            HeaderValue::from_static("recert_flash=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"),
        );
    }
    res
}

/// An error page (refusals show the core's text, as the APIs do).
pub(crate) fn error_page(who: Option<&Web>, status: StatusCode, message: &str) -> Response {
    let title = match status.as_u16() {
        403 => "Not yours to see",
        404 => "Not found",
        400 => "That did not work",
        _ => "Something went wrong",
    };
    render(
        status,
        "error.html",
        who,
        json!({"title": title, "message": message}),
        None,
    )
}

pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Whether the browser reached recert over TLS (directly or through a proxy that says so).
pub(crate) fn over_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Lax`, `Secure` over TLS.
pub(crate) fn set_cookie(name: &str, value: &str, max_age: i64, tls: bool) -> HeaderValue {
    let v = format!(
        "{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{}",
        if tls { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A redirect after a form (post/redirect/get), carrying a flash message.
pub(crate) fn redirect_with(to: &str, flash: Flash, tls: bool) -> Response {
    let mut res = Redirect::to(to).into_response();
    // A cookie holds about 4 KB: long refusals (many item ids) are cut, not dropped.
    let mut shown: String = flash.text.chars().take(600).collect();
    if shown.len() < flash.text.len() {
        shown.push('…');
    }
    let text: String = url_escape(&shown);
    let v = format!("{}:{text}", if flash.ok { "ok" } else { "error" });
    res.headers_mut()
        .append(header::SET_COOKIE, set_cookie(FLASH_COOKIE, &v, 60, tls));
    res
}

fn url_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn url_unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(h) = s.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(h, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Only a path on this site: `/` then anything but a second `/` or `\`, and no control
/// characters or spaces anywhere (browsers drop tabs and newlines from URLs, so `/\t/evil`
/// would become `//evil`).
pub(crate) fn local_path(next: &str) -> Option<&str> {
    let b = next.as_bytes();
    let ok = b.first() == Some(&b'/')
        && !matches!(b.get(1), Some(b'/') | Some(b'\\'))
        && !b.iter().any(|&c| c <= 0x20 || c == 0x7f || c == b'\\');
    ok.then_some(next)
}

/// A signed-in person on a page route; without a valid session the browser goes to `/login`.
#[derive(Debug, Clone)]
pub(crate) struct Web {
    pub signed: SignedIn,
    pub flash: Option<Flash>,
    pub tls: bool,
}

impl Web {
    pub fn principal(&self) -> &recert_core::auth::Principal {
        &self.signed.principal
    }

    /// Checks the form token of a POST: the refusal page when it is missing or wrong.
    pub fn csrf_refusal(&self, sent: Option<&str>) -> Option<Response> {
        let ok = sent.is_some_and(|s| same(s, &self.signed.csrf));
        (!ok).then(|| {
            error_page(
                Some(self),
                StatusCode::FORBIDDEN,
                "This form has expired or did not come from recert; reload the page and try again.",
            )
        })
    }
}

impl FromRequestParts<AppState> for Web {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let to_login = || {
            // Back to the page after signing in; a form's target is not a page.
            let next = match parts.method {
                axum::http::Method::GET => parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/"),
                _ => "/reviews",
            };
            Redirect::to(&format!("/login?next={}", url_escape(next))).into_response()
        };
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_login());
        };
        let signed = match state.web.session(&token).await {
            Ok(Some(s)) => s,
            Ok(None) => return Err(to_login()),
            Err(e) => {
                tracing::error!(error = %e, "session could not be read");
                return Err(error_page(
                    None,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "recert could not read your session; try again in a moment.",
                ));
            }
        };
        let flash = cookie(&parts.headers, FLASH_COOKIE).and_then(|v| {
            let (kind, text) = v.split_once(':')?;
            Some(Flash {
                ok: kind == "ok",
                text: url_unescape(text),
            })
        });
        Ok(Web {
            signed,
            flash,
            tls: over_tls(&parts.headers) || state.web.secure_cookies(),
        })
    }
}

/// Whether two tokens are equal, in time that does not depend on where they differ.
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A form's fields as name/value pairs (names may repeat).
pub(crate) type Pairs = Vec<(String, String)>;

/// A form posted to a page of one record (`id` from the path): its fields, once its CSRF token
/// is checked and the id read; otherwise the page to answer.
pub(crate) fn posted(
    web: &Web,
    body: &[u8],
    id: &str,
) -> Result<(Pairs, recert_domain::Id), Box<Response>> {
    let pairs = form_pairs(body);
    if let Some(r) = web.csrf_refusal(field(&pairs, "csrf")) {
        return Err(Box::new(r));
    }
    let id = recert_domain::Id::parse(id).map_err(|_| {
        Box::new(error_page(
            Some(web),
            StatusCode::NOT_FOUND,
            "There is no such page.",
        ))
    })?;
    Ok((pairs, id))
}

/// Reads a form body as name/value pairs (names may repeat: `item=..&item=..`).
pub(crate) fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).unwrap_or_default()
}

pub(crate) fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

async fn asset(Path(file): Path<String>) -> Response {
    let (body, kind): (&'static str, &'static str) = match file.as_str() {
        "app.css" => (
            include_str!("../../assets/app.css"),
            "text/css; charset=utf-8",
        ),
        "app.js" => (
            include_str!("../../assets/app.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        for name in [
            "base.html",
            "login.html",
            "reviews.html",
            "certification.html",
            "sign_off.html",
            "error.html",
            "admin_campaigns.html",
            "admin_new_campaign.html",
            "admin_campaign.html",
        ] {
            assert!(env().get_template(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn the_sign_in_page_renders_with_and_without_single_sign_on() {
        for sso in [None, Some("Example IdP")] {
            let html = env()
                .get_template("login.html")
                .unwrap()
                .render(json!({"next": "/reviews?a=1", "login": "", "sso": sso}))
                .unwrap();
            assert_eq!(html.contains("Sign in with Example IdP"), sso.is_some());
        }
    }

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path("/reviews/1"), Some("/reviews/1"));
        assert_eq!(local_path("//evil.example/x"), None);
        assert_eq!(local_path("https://evil.example"), None);
        assert_eq!(local_path("/\\evil"), None);
        assert_eq!(local_path("/\t/evil.example"), None);
        assert_eq!(local_path("/\n/evil.example"), None);
        assert_eq!(local_path("/ /evil.example"), None);
        assert_eq!(
            local_path("/reviews?next=%2F%2Fx"),
            Some("/reviews?next=%2F%2Fx")
        );
    }

    #[test]
    fn flash_text_survives_the_cookie() {
        let t = "3 items are undecided; “quotes” & <tags>";
        assert_eq!(url_unescape(&url_escape(t)), t);
    }

    #[test]
    fn markup_in_data_is_escaped() {
        let html = env()
            .get_template("error.html")
            .unwrap()
            .render(json!({"title": "x", "message": "<script>alert(1)</script>"}))
            .unwrap();
        assert!(!html.contains("<script>alert(1)"), "{html}");
        assert!(html.contains("&lt;script&gt;"));
    }
}

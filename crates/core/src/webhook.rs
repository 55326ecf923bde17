//! Signed webhooks: when access is revoked, recert POSTs the remediation item as JSON to a
//! configured URL so that a ticketing or provisioning system removes the access.
//!
//! # What a receiver gets
//!
//! ```text
//! POST <url>
//! Content-Type: application/json
//! Idempotency-Key: <32 hex characters, the same on every retry of one delivery>
//! X-Recert-Event: remediation.requested
//! X-Recert-Timestamp: <unix seconds when this attempt was sent>
//! X-Recert-Signature: sha256=<lowercase hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
//! ```
//!
//! A receiver should:
//!
//! 1. compute the HMAC over the timestamp header, a `.`, and the body bytes *exactly as received*
//!    (before any JSON parsing), and compare it in constant time;
//! 2. reject a timestamp more than a few minutes away from its own clock: the timestamp is inside
//!    the signed string, so a captured request cannot be replayed later with a fresh one;
//! 3. treat a repeated `Idempotency-Key` as already done (answer 2xx again): retries send it.
//!
//! Answer 2xx when done, 408/429/5xx to be retried later, any other 4xx to reject the delivery
//! for good. Redirects are not followed. Retry timing is the job runner's
//! ([`crate::jobs::backoff`]).
//!
//! ```
//! use recert_core::webhook::{sign, verify};
//!
//! let secret = b"shared secret";
//! let body = br#"{"item":"0190a1b2c3d4e5f60718293a4b5c6d7e"}"#;
//! let header = sign(secret, 1_767_225_600, body); // what recert sends
//!
//! // The receiver, with the two headers and the raw body:
//! let timestamp: i64 = "1767225600".parse().unwrap();
//! let now = 1_767_225_630;
//! assert!((now - timestamp).abs() <= 300, "stale: reject as a replay");
//! assert!(verify(secret, timestamp, body, &header));
//! assert!(!verify(secret, timestamp, br#"{"item":"forged"}"#, &header));
//! ```
//!
//! The same check in Python: `hmac.compare_digest("sha256=" + hmac.new(secret,
//! f"{ts}.".encode() + body, hashlib.sha256).hexdigest(), header)`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use recert_domain::{Clock, Id};
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Response, StatusCode, Url};
use sha2::Sha256;

/// Where and how to send webhooks.
#[derive(Clone)]
pub struct WebhookConfig {
    /// An `https://` (or, inside a trusted network, `http://`) URL.
    pub url: String,
    /// The shared HMAC key. Never logged: `Debug` redacts it.
    pub secret: String,
    /// For the whole attempt: connecting, sending, and reading the answer.
    pub timeout: Duration,
}

impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("url", &redact_url(&self.url))
            .field("secret", &"[redacted]")
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Why a [`WebhookConfig`] cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookConfigError {
    #[error("webhook url is not a valid URL: {0}")]
    InvalidUrl(String),
    #[error("webhook url must start with https:// or http://, not {0}://")]
    UnsupportedScheme(String),
    #[error("webhook secret is empty")]
    EmptySecret,
    #[error("webhook timeout must be more than zero")]
    ZeroTimeout,
    #[error("could not set up the HTTP client: {0}")]
    Client(String),
}

/// Why a [`Delivery`] cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an event name: use 1 to 100 letters, digits, '.', '_' or '-'")]
pub struct InvalidEvent(pub String);

/// One remediation item to send. `id` is the idempotency key: keep it across retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery<'a> {
    id: Id,
    event: &'a str,
    body: Vec<u8>,
}

impl<'a> Delivery<'a> {
    /// `body` is sent (and signed) byte for byte; it should be JSON.
    pub fn new(id: Id, event: &'a str, body: Vec<u8>) -> Result<Self, InvalidEvent> {
        let valid = (1..=100).contains(&event.len())
            && event
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !valid {
            return Err(InvalidEvent(event.to_owned()));
        }
        Ok(Delivery { id, event, body })
    }

    pub fn json(id: Id, event: &'a str, body: &serde_json::Value) -> Result<Self, InvalidEvent> {
        Self::new(id, event, body.to_string().into_bytes())
    }

    pub fn id(&self) -> Id {
        self.id
    }

    pub fn event(&self) -> &'a str {
        self.event
    }

    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// A 2xx answer.
    Delivered { status: u16 },
    /// Worth another attempt: no answer, a timeout, 408, 429 or 5xx.
    Retry { reason: String },
    /// The receiver refused it for good (any other status); the reason is for people.
    Rejected { status: u16, reason: String },
}

/// Sends signed deliveries to one URL, reusing one HTTP client (and its connections).
pub struct WebhookSender {
    client: reqwest::Client,
    url: Url,
    secret: Vec<u8>,
    timeout: Duration,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for WebhookSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSender")
            .field("url", &redact_url(self.url.as_str()))
            .field("secret", &"[redacted]")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl WebhookSender {
    /// Checks the configuration; the clock gives the signed timestamps.
    pub fn new(config: WebhookConfig, clock: Arc<dyn Clock>) -> Result<Self, WebhookConfigError> {
        // The URL itself is not repeated: it may hold a password.
        let url =
            Url::parse(&config.url).map_err(|e| WebhookConfigError::InvalidUrl(e.to_string()))?;
        match url.scheme() {
            "http" | "https" => {}
            other => return Err(WebhookConfigError::UnsupportedScheme(other.to_owned())),
        }
        if config.secret.is_empty() {
            return Err(WebhookConfigError::EmptySecret);
        }
        if config.timeout.is_zero() {
            return Err(WebhookConfigError::ZeroTimeout);
        }
        let client = crate::http::client()
            .timeout(config.timeout)
            // A redirected POST turns into a GET without the body: better to say so.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("recert/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| WebhookConfigError::Client(e.to_string()))?;
        Ok(WebhookSender {
            client,
            url,
            secret: config.secret.into_bytes(),
            timeout: config.timeout,
            clock,
        })
    }

    /// Makes one attempt. Never fails: every way it can go is a [`DeliveryOutcome`].
    pub async fn deliver(&self, delivery: &Delivery<'_>) -> DeliveryOutcome {
        let timestamp = self.clock.now().unix_millis().div_euclid(1000);
        let mut id = [0u8; 32];
        let request = self
            .client
            .post(self.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header("Idempotency-Key", delivery.id.encode(&mut id))
            .header("X-Recert-Event", delivery.event)
            .header("X-Recert-Timestamp", timestamp.to_string())
            .header(
                "X-Recert-Signature",
                sign(&self.secret, timestamp, &delivery.body),
            )
            .body(delivery.body.clone());
        match request.send().await {
            Ok(response) => classify(response).await,
            Err(e) => DeliveryOutcome::Retry {
                reason: describe_error(&e, self.timeout),
            },
        }
    }
}

/// The `X-Recert-Signature` value: `sha256=` and the lowercase hex HMAC-SHA256 of
/// `"<timestamp>.<body>"` under `secret`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, timestamp, body).finalize().into_bytes();
    let mut out = String::with_capacity(7 + 2 * tag.len());
    out.push_str("sha256=");
    for byte in tag {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    out
}

/// Whether `header_value` is the signature of `body` sent at `timestamp`; compares in constant
/// time. Checking that `timestamp` is recent is the caller's job.
pub fn verify(secret: &[u8], timestamp: i64, body: &[u8], header_value: &str) -> bool {
    let Some(hex) = header_value.strip_prefix("sha256=") else {
        return false;
    };
    let Some(tag) = decode_hex(hex.as_bytes()) else {
        return false;
    };
    mac(secret, timestamp, body).verify_slice(&tag).is_ok()
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

fn decode_hex(hex: &[u8]) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        (c as char).to_digit(16).map(|d| d as u8)
    }
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    hex.chunks_exact(2)
        .map(|pair| Some((nibble(pair[0])? << 4) | nibble(pair[1])?))
        .collect()
}

async fn classify(mut response: Response) -> DeliveryOutcome {
    let status = response.status();
    let code = status.as_u16();
    if status.is_success() {
        return DeliveryOutcome::Delivered { status: code };
    }
    if matches!(
        status,
        StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS
    ) || status.is_server_error()
    {
        let reason = match response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
        {
            Some(after) => format!("HTTP {status} (Retry-After: {})", excerpt(after, 40)),
            None => format!("HTTP {status}"),
        };
        return DeliveryOutcome::Retry { reason };
    }
    if !status.is_client_error() {
        return DeliveryOutcome::Rejected {
            status: code,
            reason: format!("unexpected HTTP {status}; redirects are not followed"),
        };
    }
    // Enough of the answer to say why, without reading a large body.
    let mut body = Vec::new();
    while body.len() < 1024 {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    let text = excerpt(&String::from_utf8_lossy(&body), 200);
    let reason = if text.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {text}")
    };
    DeliveryOutcome::Rejected {
        status: code,
        reason,
    }
}

/// At most `max` characters of `text` on one line.
fn excerpt(text: &str, max: usize) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(max)
        .collect()
}

/// The error without its URL (which may carry credentials), down to the root cause.
fn describe_error(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("timed out after {timeout:?}");
    }
    let mut cause: &dyn std::error::Error = e;
    while let Some(source) = cause.source() {
        cause = source;
    }
    let what = if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    format!("{what}: {cause}")
}

/// The URL with any password replaced, for messages and `Debug`.
fn redact_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("redacted"));
            parsed.to_string()
        }
        Ok(_) => url.to_owned(),
        Err(_) => "(not a URL)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_timestamp_dot_body_in_lowercase_hex() {
        // Computed independently: printf '1700000000.{}' | openssl dgst -sha256 -hmac key
        assert_eq!(
            sign(b"key", 1_700_000_000, b"{}"),
            "sha256=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
        );
    }

    #[test]
    fn verify_accepts_only_the_exact_signature() {
        let header = sign(b"key", 1_700_000_000, b"{}");
        assert!(verify(b"key", 1_700_000_000, b"{}", &header));
        assert!(verify(
            b"key",
            1_700_000_000,
            b"{}",
            &header.to_uppercase().replace("SHA256=", "sha256=")
        ));
        assert!(!verify(b"key", 1_700_000_001, b"{}", &header));
        assert!(!verify(b"other", 1_700_000_000, b"{}", &header));
        assert!(!verify(b"key", 1_700_000_000, b"{} ", &header));
        assert!(!verify(b"key", 1_700_000_000, b"{}", &header[7..]));
        assert!(!verify(
            b"key",
            1_700_000_000,
            b"{}",
            &header[..header.len() - 2]
        ));
        assert!(!verify(b"key", 1_700_000_000, b"{}", "sha256=zz"));
        assert!(!verify(b"key", 1_700_000_000, b"{}", ""));
    }

    #[test]
    fn event_names_are_header_safe() {
        let id = Id::from_bytes([7; 16]);
        assert!(Delivery::new(id, "remediation.requested", Vec::new()).is_ok());
        for bad in ["", "a b", "a\r\nX-Evil: 1", "é", &"x".repeat(101)] {
            assert!(Delivery::new(id, bad, Vec::new()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn excerpts_are_one_line_and_bounded() {
        assert_eq!(excerpt("  no such\n\thook  ", 200), "no such hook");
        assert_eq!(excerpt(&"é".repeat(300), 200).chars().count(), 200);
    }

    #[test]
    fn debug_hides_passwords_in_urls() {
        assert_eq!(
            redact_url("http://hook:s3cret@example.test/x"),
            "http://hook:redacted@example.test/x"
        );
        assert_eq!(redact_url("http://example.test/x"), "http://example.test/x");
    }
}

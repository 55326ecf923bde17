//! The dialect's paging: `page_size` (1..2000, default 100) and an opaque `page_token` that is
//! bound to the query it came from (what is listed, the filter, the page size, the caller) and
//! signed, so that a token from another query, or altered, is refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const DEFAULT_PAGE_SIZE: u32 = 100;
pub const MAX_PAGE_SIZE: u32 = 2000;

/// What a page of a listing starts after.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Position {
    /// Keyset: after this key.
    After(String),
    /// After this many entries.
    Offset(u64),
}

/// A page request, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub size: u32,
    /// `None` on the first page.
    pub position: Option<Position>,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Payload {
    /// The query the token belongs to (a digest of what is listed, filter, caller).
    q: String,
    s: u32,
    p: Position,
}

/// Signs and checks page tokens with a key only the servers hold.
#[derive(Clone)]
pub struct PageTokens {
    key: [u8; 32],
}

impl std::fmt::Debug for PageTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PageTokens")
    }
}

fn mac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    m.update(data);
    m.finalize().into_bytes()[..16].to_vec()
}

/// A digest naming one query: the listing, its parameters and the caller.
pub fn query_digest(parts: &[&str]) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(b"recert awf query").expect("any key length");
    for p in parts {
        m.update(&(p.len() as u64).to_be_bytes());
        m.update(p.as_bytes());
    }
    URL_SAFE_NO_PAD.encode(&m.finalize().into_bytes()[..12])
}

impl PageTokens {
    pub fn new(key: [u8; 32]) -> Self {
        PageTokens { key }
    }

    /// The token for the page after `position` of query `query` with pages of `size`.
    pub fn issue(&self, query: &str, size: u32, position: Position) -> String {
        let body = serde_json::to_vec(&Payload {
            q: query.to_owned(),
            s: size,
            p: position,
        })
        .unwrap_or_default();
        let tag = mac(&self.key, &body);
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&body),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// Checks `page_size` and `page_token` as sent for query `query`.
    pub fn request(
        &self,
        query: &str,
        page_size: Option<&str>,
        page_token: Option<&str>,
    ) -> Result<PageRequest, String> {
        let size = match page_size.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => match s.parse::<u32>() {
                Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Some(n),
                _ => {
                    return Err(format!(
                        "page_size must be a whole number from 1 to {MAX_PAGE_SIZE}; got '{s}'"
                    ));
                }
            },
        };
        let Some(token) = page_token.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(PageRequest {
                size: size.unwrap_or(DEFAULT_PAGE_SIZE),
                position: None,
            });
        };
        let bad = || {
            "page_token is not one this server issued for this query (same listing, filter, \
             page size and caller); start again without it"
                .to_owned()
        };
        let (body, tag) = token.split_once('.').ok_or_else(bad)?;
        let body = URL_SAFE_NO_PAD.decode(body).map_err(|_| bad())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| bad())?;
        if tag.len() != 16 {
            return Err(bad());
        }
        let mut m = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        m.update(&body);
        m.verify_truncated_left(&tag).map_err(|_| bad())?;
        let p: Payload = serde_json::from_slice(&body).map_err(|_| bad())?;
        if p.q != query || size.is_some_and(|s| s != p.s) {
            return Err(bad());
        }
        Ok(PageRequest {
            size: p.s,
            position: Some(p.p),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_tampering_and_other_queries() {
        let t = PageTokens::new([7; 32]);
        let q = query_digest(&["rows", "c1", "decision eq \"NONE\"", "client"]);
        let tok = t.issue(&q, 50, Position::After("abc".into()));
        let r = t.request(&q, None, Some(&tok)).unwrap();
        assert_eq!(r.size, 50);
        assert_eq!(r.position, Some(Position::After("abc".into())));
        assert_eq!(t.request(&q, Some("50"), Some(&tok)).unwrap().size, 50);
        assert!(t.request(&q, Some("20"), Some(&tok)).is_err(), "other size");
        let other = query_digest(&["rows", "c1", "", "client"]);
        assert!(t.request(&other, None, Some(&tok)).is_err(), "other query");
        let mut bytes = tok.clone().into_bytes();
        bytes[3] ^= 1;
        let altered = String::from_utf8(bytes).unwrap();
        assert!(t.request(&q, None, Some(&altered)).is_err(), "altered");
        assert!(t.request(&q, None, Some("garbage")).is_err());
        let elsewhere = PageTokens::new([8; 32]).issue(&q, 50, Position::Offset(100));
        assert!(t.request(&q, None, Some(&elsewhere)).is_err(), "other key");
    }

    #[test]
    fn page_sizes_are_checked() {
        let t = PageTokens::new([1; 32]);
        assert_eq!(t.request("q", None, None).unwrap().size, DEFAULT_PAGE_SIZE);
        assert_eq!(t.request("q", Some("2000"), None).unwrap().size, 2000);
        for bad in ["0", "2001", "-1", "ten", "1.5"] {
            let e = t.request("q", Some(bad), None).unwrap_err();
            assert!(e.contains("page_size"), "{bad}: {e}");
        }
    }
}

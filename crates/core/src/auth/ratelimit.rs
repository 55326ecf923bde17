//! Request rate limits per client and per API dialect: a generic cell rate algorithm (GCRA), one
//! timestamp per key, so checking costs a hash lookup under a short lock.
//!
//! By default 100 requests per 10 seconds (SailPoint's published gateway figure), allowed in a
//! burst, then one every 100 ms. The answer to a refused request says how many whole seconds to
//! wait; after waiting that long the next request is let through.

use std::collections::HashMap;
use std::sync::Mutex;

use recert_domain::{Id, Timestamp};

/// Who a request is counted against: an authenticated client, or, where there is none yet (the
/// token endpoint), the network peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitKey {
    Client(Id),
    Peer(std::net::IpAddr),
    /// The name a web sign-in was attempted for (a digest of it, case folded).
    Login([u8; 16]),
}

impl LimitKey {
    /// The key of sign-in attempts for `login`, whether or not such an account exists.
    pub fn login(login: &str) -> Self {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(login.trim().to_lowercase().as_bytes());
        let mut key = [0u8; 16];
        key.copy_from_slice(&digest[..16]);
        LimitKey::Login(key)
    }
}

impl From<Id> for LimitKey {
    fn from(id: Id) -> Self {
        LimitKey::Client(id)
    }
}

/// Past this many keys, keys whose allowance is full again are forgotten.
const PRUNE_AT: usize = 100_000;

/// The API a request came through; each has its own allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    OAuth,
    SailPoint,
    Veza,
    /// Web sign-in attempts per account name, under [`SIGN_IN_LIMIT`] whatever the limiter's
    /// own allowance: guessing one person's password from many addresses stays slow.
    SignIn,
}

/// Sign-in attempts for one account name: 10 in a burst, then one every 30 seconds.
pub const SIGN_IN_LIMIT: RateLimit = RateLimit {
    requests: 10,
    window_millis: 300_000,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub window_millis: i64,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            requests: 100,
            window_millis: 10_000,
        }
    }
}

/// Refused: retry after this many whole seconds (at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

#[derive(Debug)]
pub struct RateLimiter {
    limit: RateLimit,
    /// Per key, the theoretical arrival time of the next request, in milliseconds.
    tat: Mutex<HashMap<(LimitKey, Dialect), i128>>,
}

impl RateLimiter {
    pub fn new(limit: RateLimit) -> Self {
        RateLimiter {
            limit,
            tat: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request of `client` through `dialect` at `now`, or refuses it.
    pub fn check(
        &self,
        key: impl Into<LimitKey>,
        dialect: Dialect,
        now: Timestamp,
    ) -> Result<(), RetryAfter> {
        let key = key.into();
        let limit = match dialect {
            Dialect::SignIn => SIGN_IN_LIMIT,
            _ => self.limit,
        };
        // Time is kept in units of 1/requests of a millisecond, so that the emission interval
        // (window / requests) is a whole number of units. i128: milliseconds since 1970 times
        // up to u32::MAX requests does not fit in 64 bits.
        let requests = i128::from(limit.requests.max(1));
        let window = i128::from(limit.window_millis.max(1));
        let now_u = i128::from(now.unix_millis()) * requests;
        let interval = window;
        let tolerance = window * requests - interval;
        let mut map = self.tat.lock().unwrap_or_else(|e| e.into_inner());
        let tat = map
            .get(&(key, dialect))
            .copied()
            .unwrap_or(now_u)
            .max(now_u);
        if tat - now_u > tolerance {
            let wait_u = tat - tolerance - now_u;
            let wait_ms = (wait_u + requests - 1) / requests;
            let secs = ((wait_ms + 999) / 1000).max(1);
            return Err(RetryAfter(u64::try_from(secs).unwrap_or(u64::MAX)));
        }
        if map.len() >= PRUNE_AT {
            // A key whose theoretical arrival time has passed has its whole allowance back:
            // forgetting it changes nothing, and keeps random keys from growing the map.
            map.retain(|_, t| *t > now_u);
        }
        map.insert((key, dialect), tat + interval);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(1_700_000_000_000 + ms)
    }

    #[test]
    fn sign_in_attempts_per_account_have_their_own_allowance() {
        let l = RateLimiter::new(RateLimit::default());
        let bob = LimitKey::login("Bob@Example.com ");
        assert_eq!(bob, LimitKey::login("bob@example.com"));
        for i in 0..10 {
            assert_eq!(l.check(bob, Dialect::SignIn, at(0)), Ok(()), "attempt {i}");
        }
        assert_eq!(l.check(bob, Dialect::SignIn, at(0)), Err(RetryAfter(30)));
        // Another name, and the same name's API allowance, are untouched.
        assert!(
            l.check(LimitKey::login("ada"), Dialect::SignIn, at(0))
                .is_ok()
        );
        assert!(l.check(bob, Dialect::OAuth, at(0)).is_ok());
        assert!(l.check(bob, Dialect::SignIn, at(30_000)).is_ok());
        assert!(l.check(bob, Dialect::SignIn, at(30_000)).is_err());
    }

    #[test]
    fn allows_the_burst_then_refuses_with_an_honest_wait() {
        let l = RateLimiter::new(RateLimit::default());
        let a = Id::from_bytes([1; 16]);
        for i in 0..100 {
            assert_eq!(l.check(a, Dialect::SailPoint, at(0)), Ok(()), "request {i}");
        }
        let RetryAfter(secs) = l.check(a, Dialect::SailPoint, at(0)).unwrap_err();
        assert_eq!(secs, 1);
        // Waiting what it said lets the next request through.
        assert_eq!(
            l.check(a, Dialect::SailPoint, at(secs as i64 * 1000)),
            Ok(())
        );
        // A second refills ten requests (one every 100 ms), then it refuses again.
        for _ in 0..9 {
            assert!(l.check(a, Dialect::SailPoint, at(1000)).is_ok());
        }
        assert!(l.check(a, Dialect::SailPoint, at(1000)).is_err());
        assert!(l.check(a, Dialect::SailPoint, at(1100)).is_ok());
    }

    #[test]
    fn clients_and_dialects_are_limited_independently() {
        let l = RateLimiter::new(RateLimit {
            requests: 2,
            window_millis: 60_000,
        });
        let (a, b) = (Id::from_bytes([1; 16]), Id::from_bytes([2; 16]));
        assert!(l.check(a, Dialect::SailPoint, at(0)).is_ok());
        assert!(l.check(a, Dialect::SailPoint, at(0)).is_ok());
        let RetryAfter(wait) = l.check(a, Dialect::SailPoint, at(0)).unwrap_err();
        assert_eq!(wait, 30, "one request every 30 s after the burst");
        assert!(l.check(a, Dialect::SailPoint, at(29_999)).is_err());
        assert!(l.check(a, Dialect::SailPoint, at(30_000)).is_ok());
        assert!(l.check(b, Dialect::SailPoint, at(0)).is_ok());
        assert!(l.check(a, Dialect::Veza, at(0)).is_ok());
    }

    #[test]
    fn keys_with_a_full_allowance_are_forgotten() {
        let l = RateLimiter::new(RateLimit::default());
        for n in 0..(PRUNE_AT as u64 + 10) {
            let mut b = [0u8; 16];
            b[..8].copy_from_slice(&n.to_be_bytes());
            l.check(Id::from_bytes(b), Dialect::OAuth, at(0)).unwrap();
        }
        // Eleven seconds later every one of them is full again; the next check prunes.
        l.check(Id::from_bytes([9; 16]), Dialect::OAuth, at(11_000))
            .unwrap();
        let size = l.tat.lock().unwrap().len();
        assert!(size < 10, "{size} keys kept");
    }

    #[test]
    fn the_largest_limit_does_not_overflow() {
        let l = RateLimiter::new(RateLimit {
            requests: u32::MAX,
            window_millis: i64::from(u32::MAX),
        });
        let a = Id::from_bytes([1; 16]);
        for i in 0..1000 {
            assert!(l.check(a, Dialect::SailPoint, at(i)).is_ok());
        }
    }
}

//! The rate limiter's cost per request, measured on its own so that the figure does not drown in
//! HTTP noise. Each authenticated request pays exactly one `check`.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use recert_core::auth::ratelimit::{Dialect, RateLimit, RateLimiter};
use recert_domain::{Id, Timestamp};

const CLIENTS: u64 = 1_000;

fn client(n: u64) -> Id {
    let mut b = [0u8; 16];
    b[8..].copy_from_slice(&n.to_be_bytes());
    Id::from_bytes(b)
}

/// Runs `checks` checks on `threads` threads against one shared limiter; nanoseconds per check.
fn measure(threads: u64, checks: u64) -> f64 {
    // Large enough that nothing is refused: the cost of the allowed path is what requests pay.
    let limiter = Arc::new(RateLimiter::new(RateLimit {
        requests: u32::MAX,
        window_millis: 1_000,
    }));
    let clients: Vec<Id> = (0..CLIENTS).map(client).collect();
    let clients = Arc::new(clients);
    let per_thread = checks / threads;
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let limiter = limiter.clone();
            let clients = clients.clone();
            std::thread::spawn(move || {
                let mut refused = 0u64;
                for i in 0..per_thread {
                    let c = clients[((i + t * 7) % CLIENTS) as usize];
                    let now = Timestamp::from_unix_millis(1_800_000_000_000 + (i / 1_000) as i64);
                    if limiter.check(c, Dialect::SailPoint, now).is_err() {
                        refused += 1;
                    }
                }
                refused
            })
        })
        .collect();
    let refused: u64 = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    let elapsed = started.elapsed();
    assert_eq!(refused, 0, "the benchmark limit must not refuse");
    elapsed.as_nanos() as f64 / (per_thread * threads) as f64
}

pub(crate) fn run(checks: u64) -> Result<()> {
    anyhow::ensure!(checks >= 1_000, "--checks must be at least 1000");
    for threads in [1, 2] {
        let ns = measure(threads, checks);
        println!(
            "{}",
            serde_json::json!({"threads": threads, "checks": checks, "ns_per_check": (ns * 10.0).round() / 10.0})
        );
    }
    Ok(())
}

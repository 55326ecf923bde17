//! Randomness and ids for the demo organisation, hand-written so that a seed gives the same
//! organisation on every platform and with every version of every dependency.

use recert_domain::Id;

/// 2026-01-01T00:00:00Z: the demo ids claim to have been made from then on, so they look like
/// real UUIDv7s without depending on when the generator ran.
const BASE_MS: u64 = 1_767_225_600_000;

/// xoshiro256** (Blackman and Vigna), seeded through splitmix64 so that nearby seeds and
/// streams still start far apart.
#[derive(Debug, Clone)]
pub(super) struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator for one part of the work: each part draws from its own stream, so changing
    /// how much one part draws leaves the others as they were.
    pub(super) fn new(seed: u64, stream: u64) -> Self {
        let mut x = seed ^ stream.wrapping_mul(0xd1b5_4a32_d192_ed03);
        Rng {
            s: std::array::from_fn(|_| splitmix64(&mut x)),
        }
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A number in `0..n` (0 when `n` is 0). Multiply-shift rather than modulo: its bias is far
    /// below anything a demo can show and it costs no division.
    pub(super) fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// A number in `lo..=hi`.
    pub(super) fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// A number in `[0, 1)`.
    pub(super) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    pub(super) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// An index into `items` drawn in proportion to the weights.
    pub(super) fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        let mut r = self.below(total as usize) as u64;
        for (i, &w) in weights.iter().enumerate() {
            if r < u64::from(w) {
                return i;
            }
            r -= u64::from(w);
        }
        weights.len().saturating_sub(1)
    }

    /// About standard normal (Irwin-Hall: twelve uniforms), from additions only, so no
    /// platform-dependent libm call is involved.
    pub(super) fn normal(&mut self) -> f64 {
        let mut sum = 0.0;
        for _ in 0..12 {
            sum += self.unit();
        }
        sum - 6.0
    }
}

fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// e^x for |x| up to about 5, from basic arithmetic only: `f64::exp` comes from the platform's
/// libm, which may round differently elsewhere and so change the organisation.
pub(super) fn exp(x: f64) -> f64 {
    let y = x / 64.0;
    let mut r = 1.0 + y * (1.0 + y / 2.0 * (1.0 + y / 3.0 * (1.0 + y / 4.0 * (1.0 + y / 5.0))));
    for _ in 0..6 {
        r *= r;
    }
    r
}

/// Deterministic UUIDv7-shaped ids. The 48-bit timestamp and the 12-bit `rand_a` field together
/// hold a counter (RFC 9562, section 6.2, method 1), so every id sorts after the ones before it
/// however many are made per millisecond; the remaining 62 bits are random as in a real UUIDv7.
#[derive(Debug, Clone)]
pub(super) struct IdGen {
    counter: u64,
    rng: Rng,
}

impl IdGen {
    pub(super) fn new(seed: u64) -> Self {
        IdGen {
            counter: 0,
            rng: Rng::new(seed, 0x1d),
        }
    }

    pub(super) fn next_id(&mut self) -> Id {
        let c = self.counter;
        self.counter += 1;
        let ms = BASE_MS + (c >> 12);
        let mut b = [0u8; 16];
        b[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
        b[6] = 0x70 | ((c >> 8) & 0x0f) as u8;
        b[7] = c as u8;
        b[8..].copy_from_slice(&self.rng.next_u64().to_be_bytes());
        b[8] = 0x80 | (b[8] & 0x3f);
        Id::from_bytes(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_close_to_libm() {
        for x in [-3.0, -1.0, -0.25, 0.0, 0.5, 1.0, 2.0, 3.5] {
            let rel = (exp(x) - f64::exp(x)).abs() / f64::exp(x);
            assert!(rel < 1e-6, "exp({x}) off by {rel}");
        }
    }

    #[test]
    fn ids_are_v7_and_ascend() {
        let mut ids = IdGen::new(1);
        let mut prev = ids.next_id();
        for _ in 0..10_000 {
            let id = ids.next_id();
            let b = id.as_bytes();
            assert_eq!(b[6] >> 4, 7);
            assert_eq!(b[8] >> 6, 0b10);
            assert!(prev < id);
            prev = id;
        }
        // 2026-01-01 in milliseconds, hex-encoded.
        assert!(prev.to_string().starts_with("019b76da"));
    }

    #[test]
    fn streams_differ_and_repeat() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(5, 1).next_u64()).collect();
        assert!(a.iter().all(|&x| x == a[0]));
        assert_ne!(Rng::new(5, 1).next_u64(), Rng::new(5, 2).next_u64());
        assert_ne!(Rng::new(5, 1).next_u64(), Rng::new(6, 1).next_u64());
        let mut r = Rng::new(9, 9);
        for _ in 0..1000 {
            let x = r.range(4, 10);
            assert!((4..=10).contains(&x));
        }
    }
}

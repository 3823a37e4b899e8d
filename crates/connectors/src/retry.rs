//! How long a connector waits between attempts of a call the vendor may answer later.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::Utc;

/// How long to wait between attempts: Cvent's SDK guidance is 2 s doubling to 16 s, with jitter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    pub initial: Duration,
    pub max: Duration,
    /// Attempts in all, the first included.
    pub attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial: Duration::from_secs(2),
            max: Duration::from_secs(16),
            attempts: 5,
        }
    }
}

impl RetryPolicy {
    /// The delay before retry number `retry` (0-based), with ±50% jitter.
    pub(crate) fn delay(&self, retry: u32) -> Duration {
        let base = self
            .initial
            .saturating_mul(1u32 << retry.min(16))
            .min(self.max);
        let jitter = 0.5 + jitter_fraction();
        base.mul_f64(jitter)
    }
}

/// A fraction in [0, 1) that differs between calls, without a random-number dependency.
fn jitter_fraction() -> f64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = Utc::now().timestamp_subsec_nanos() as u64;
    let mut x = nanos ^ COUNTER.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
    x ^= x >> 33;
    x = x.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    x ^= x >> 33;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

//! How long a connector waits between attempts of a call the vendor may answer later, and
//! which failures are worth the wait: a vendor that does not answer at all gets one quick retry.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
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

/// How long to wait before the one more try a vendor that did not answer at all gets: a
/// refused connection or an unknown host is seldom a blip, and each try of the full patience
/// would keep a run silent for minutes.
const UNREACHABLE_RETRY: Duration = Duration::from_secs(1);

/// A wait between attempts, as told to whoever shows progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    /// What the last attempt met, e.g. "Cvent answered 503 Service Unavailable".
    pub reason: String,
    pub delay: Duration,
    /// The attempt waited for (the first retry is try 2), and how many there may be.
    pub attempt: u32,
    pub attempts: u32,
}

/// Told of every wait between attempts.
pub type WaitObserver = Arc<dyn Fn(Waiting) + Send + Sync>;

/// What an attempt that did not succeed met.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Failure {
    /// Nothing answered: the connection was refused or the host is unknown.
    Unreachable(String),
    /// Throttling, a server error, a timeout or a dropped connection: the vendor is there and
    /// may answer later.
    Answered(String),
}

impl Failure {
    /// The failure of a request that got no response. A timeout keeps the full patience: the
    /// vendor may be slow rather than gone.
    pub(crate) fn of_transport(error: &reqwest::Error, described: String) -> Failure {
        if error.is_connect() && !error.is_timeout() {
            Failure::Unreachable(described)
        } else {
            Failure::Answered(described)
        }
    }

    pub(crate) fn text(&self) -> &str {
        match self {
            Failure::Unreachable(text) | Failure::Answered(text) => text,
        }
    }
}

/// One connection's retrying: the policy, whether its vendor was found unreachable (so the
/// calls that follow fail at once instead of each waiting again), and who hears of the waits.
pub(crate) struct Retrier {
    policy: RetryPolicy,
    unreachable: AtomicBool,
    observer: RwLock<Option<WaitObserver>>,
}

impl std::fmt::Debug for Retrier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Retrier")
            .field("policy", &self.policy)
            .field("unreachable", &self.unreachable)
            .finish()
    }
}

impl Retrier {
    pub(crate) fn new(policy: RetryPolicy) -> Retrier {
        Retrier {
            policy,
            unreachable: AtomicBool::new(false),
            observer: RwLock::new(None),
        }
    }

    pub(crate) fn observe(&self, observer: Option<WaitObserver>) {
        *self.observer.write().unwrap_or_else(|p| p.into_inner()) = observer;
    }

    /// A call got an answer: the vendor is reachable again.
    pub(crate) fn reached(&self) {
        self.unreachable.store(false, Ordering::Relaxed);
    }

    /// After attempt `retry + 1` met `failure`: waits and returns true when another attempt is
    /// due, false when the call should give up. An unreachable vendor gets one quick retry,
    /// and none once this connection found it unreachable; anything else gets the policy's.
    pub(crate) async fn wait(&self, failure: &Failure, retry: u32) -> bool {
        let (delay, attempts) = match failure {
            Failure::Unreachable(_) => {
                if retry >= 1 || self.unreachable.load(Ordering::Relaxed) {
                    self.unreachable.store(true, Ordering::Relaxed);
                    return false;
                }
                (UNREACHABLE_RETRY.min(self.policy.max), 2)
            }
            Failure::Answered(_) => {
                if retry + 1 >= self.policy.attempts {
                    return false;
                }
                (self.policy.delay(retry), self.policy.attempts)
            }
        };
        let observer = self
            .observer
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(observer) = observer {
            observer(Waiting {
                reason: failure.text().to_string(),
                delay,
                attempt: retry + 2,
                attempts,
            });
        }
        tokio::time::sleep(delay).await;
        true
    }
}

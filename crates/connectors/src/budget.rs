//! One rate budget per vendor account, shared by every pull, write-back and follow-up that this
//! process makes with that account: a per-second leaky bucket and the daily quota.
//!
//! The vendor stays the judge: a "quota exhausted" answer from it marks the budget spent until
//! the reset time, and every caller of the account stops until then.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};

/// Limits of an account, as the vendor states them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub per_second: f64,
    pub burst: f64,
    /// `None` when the vendor sets no daily quota.
    pub daily_quota: Option<u64>,
}

impl Limits {
    /// What to assume before the vendor has said: the most restrictive published tier.
    pub const CAUTIOUS: Limits = Limits {
        per_second: 2.0,
        burst: 1.0,
        daily_quota: Some(1_000),
    };
}

#[derive(Debug)]
struct State {
    limits: Limits,
    bucket: f64,
    refilled_at: Instant,
    day: NaiveDate,
    used_today: u64,
    exhausted_until: Option<DateTime<Utc>>,
}

/// The budget of one account.
#[derive(Debug)]
pub struct RateBudget {
    state: Mutex<State>,
}

/// Why the budget refuses a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exhausted {
    pub resets_at: DateTime<Utc>,
}

fn registry() -> &'static Mutex<HashMap<String, Arc<RateBudget>>> {
    static BUDGETS: OnceLock<Mutex<HashMap<String, Arc<RateBudget>>>> = OnceLock::new();
    BUDGETS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Midnight UTC after `now`, when vendors reset daily quotas.
pub fn next_midnight_utc(now: DateTime<Utc>) -> DateTime<Utc> {
    let tomorrow = now.date_naive().succ_opt().unwrap_or(now.date_naive());
    tomorrow.and_time(chrono::NaiveTime::MIN).and_utc()
}

impl RateBudget {
    pub fn new(limits: Limits) -> RateBudget {
        let now = Utc::now();
        RateBudget {
            state: Mutex::new(State {
                limits,
                bucket: limits.burst,
                refilled_at: Instant::now(),
                day: now.date_naive(),
                used_today: 0,
                exhausted_until: None,
            }),
        }
    }

    /// The process-wide budget of an account (`vendor kind` + account identity).
    pub fn for_account(account: &str) -> Arc<RateBudget> {
        let mut budgets = registry().lock().unwrap_or_else(|p| p.into_inner());
        budgets
            .entry(account.to_string())
            .or_insert_with(|| Arc::new(RateBudget::new(Limits::CAUTIOUS)))
            .clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set_limits(&self, limits: Limits) {
        let mut state = self.lock();
        state.limits = limits;
        state.bucket = state.bucket.min(limits.burst);
    }

    pub fn limits(&self) -> Limits {
        self.lock().limits
    }

    /// Records the vendor's own count of today's calls.
    pub fn set_used_today(&self, used: u64) {
        self.lock().used_today = used;
    }

    pub fn used_today(&self) -> u64 {
        self.lock().used_today
    }

    /// Marks the quota spent until `resets_at`, as the vendor said.
    pub fn mark_exhausted(&self, resets_at: DateTime<Utc>) {
        self.lock().exhausted_until = Some(resets_at);
    }

    /// Waits for a slot in the per-second budget and counts the call against today's quota.
    pub async fn acquire(&self) -> Result<(), Exhausted> {
        loop {
            let wait = {
                let mut state = self.lock();
                let now = Utc::now();
                if state.day != now.date_naive() {
                    state.day = now.date_naive();
                    state.used_today = 0;
                }
                if let Some(until) = state.exhausted_until {
                    if until > now {
                        return Err(Exhausted { resets_at: until });
                    }
                    state.exhausted_until = None;
                }
                if state
                    .limits
                    .daily_quota
                    .is_some_and(|quota| state.used_today >= quota)
                {
                    return Err(Exhausted {
                        resets_at: next_midnight_utc(now),
                    });
                }
                let instant = Instant::now();
                let elapsed = instant.duration_since(state.refilled_at).as_secs_f64();
                state.refilled_at = instant;
                state.bucket =
                    (state.bucket + elapsed * state.limits.per_second).min(state.limits.burst);
                if state.bucket >= 1.0 {
                    state.bucket -= 1.0;
                    state.used_today += 1;
                    return Ok(());
                }
                Duration::from_secs_f64((1.0 - state.bucket) / state.limits.per_second.max(0.001))
            };
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn paces_calls_to_the_per_second_limit() {
        let budget = RateBudget::new(Limits {
            per_second: 20.0,
            burst: 1.0,
            daily_quota: None,
        });
        let started = Instant::now();
        for _ in 0..5 {
            budget.acquire().await.ok();
        }
        // One call at once, then one every 50 ms.
        assert!(
            started.elapsed() >= Duration::from_millis(190),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(budget.used_today(), 5);
    }

    #[tokio::test]
    async fn stops_at_the_daily_quota_and_when_marked() {
        let budget = RateBudget::new(Limits {
            per_second: 1000.0,
            burst: 10.0,
            daily_quota: Some(3),
        });
        for _ in 0..3 {
            assert!(budget.acquire().await.is_ok());
        }
        let refusal = budget.acquire().await;
        assert_eq!(
            refusal.map_err(|e| e.resets_at),
            Err(next_midnight_utc(Utc::now()))
        );
        let other = RateBudget::new(Limits::CAUTIOUS);
        let later = Utc::now() + chrono::Duration::hours(2);
        other.mark_exhausted(later);
        assert_eq!(other.acquire().await, Err(Exhausted { resets_at: later }));
    }

    #[test]
    fn accounts_share_one_budget() {
        let a = RateBudget::for_account("cvent-rest:client-a");
        let b = RateBudget::for_account("cvent-rest:client-a");
        let c = RateBudget::for_account("cvent-rest:client-c");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
    }
}

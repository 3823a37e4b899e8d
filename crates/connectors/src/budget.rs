//! One rate budget per vendor account, shared by every pull, write-back and follow-up that this
//! process makes with that account: a per-second leaky bucket and the daily quota.
//!
//! The vendor stays the judge: a "quota exhausted" answer from it marks the budget spent until
//! the reset time, and every caller of the account stops until then.
//!
//! Several processes spending one account (servers on one PostgreSQL workspace) install a
//! [`BudgetLedger`] once: from then on every call's slot is taken from the ledger — the bucket
//! and today's count kept outside the process, taken atomically per call — so that all of them
//! together stay within the vendor's limits. This crate knows no store; the ledger is whatever
//! the binary installs. Without one, the budget lives in this process's memory.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
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

/// What a ledger answers when asked for one call's slot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Take {
    /// The call may go; `used_today` counts it, with every other process's calls.
    Granted { used_today: u64 },
    /// The bucket is empty: ask again after this long.
    Wait(Duration),
    /// The day's quota is spent, or the vendor said so, until `resets_at`.
    Exhausted { resets_at: DateTime<Utc> },
}

/// Why a ledger could not answer; the budget then falls back to this process's memory.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the shared rate budget is unavailable: {0}")]
pub struct LedgerError(pub String);

/// A ledger's answer, some time later.
pub type LedgerFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, LedgerError>> + Send + 'a>>;

/// The budgets of accounts kept where several processes see them. Each method is one atomic
/// step on the account's row, so that concurrent callers never spend the same slot twice.
pub trait BudgetLedger: Send + Sync {
    /// Takes one call's slot of `account` under `limits`, or says why not.
    fn take<'a>(&'a self, account: &'a str, limits: Limits) -> LedgerFuture<'a, Take>;
    /// The vendor said the quota is spent until `resets_at`: every process stops until then.
    fn mark_exhausted<'a>(
        &'a self,
        account: &'a str,
        resets_at: DateTime<Utc>,
    ) -> LedgerFuture<'a, ()>;
    /// The vendor's own count of today's calls; a count lower than the ledger's is ignored.
    fn set_used_today<'a>(&'a self, account: &'a str, used: u64) -> LedgerFuture<'a, ()>;
}

static LEDGER: OnceLock<Box<dyn BudgetLedger>> = OnceLock::new();

/// Installs the ledger every account budget of this process takes its slots from. Once per
/// process: `false` when one was installed already (that one stays).
pub fn install_ledger(ledger: Box<dyn BudgetLedger>) -> bool {
    LEDGER.set(ledger).is_ok()
}

fn ledger() -> Option<&'static dyn BudgetLedger> {
    LEDGER.get().map(|ledger| ledger.as_ref())
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
    /// The account's key in the ledger; `None` for a budget of no account, kept in memory only.
    account: Option<String>,
    state: Mutex<State>,
    /// Held by the one caller of this process asking the ledger: the others queue here, in
    /// order, so the account's row is asked by one caller per process, not by every waiting one.
    ledger_turn: tokio::sync::Mutex<()>,
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
            account: None,
            ledger_turn: tokio::sync::Mutex::new(()),
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

    /// The process-wide budget of an account (`vendor kind` + account identity). Its slots come
    /// from the installed [`BudgetLedger`] when there is one.
    pub fn for_account(account: &str) -> Arc<RateBudget> {
        let mut budgets = registry().lock().unwrap_or_else(|p| p.into_inner());
        budgets
            .entry(account.to_string())
            .or_insert_with(|| {
                Arc::new(RateBudget {
                    account: Some(account.to_string()),
                    ..RateBudget::new(Limits::CAUTIOUS)
                })
            })
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

    /// Records the vendor's own count of today's calls (in the ledger too, in the background).
    pub fn set_used_today(&self, used: u64) {
        self.lock().used_today = used;
        if let (Some(ledger), Some(account)) = (ledger(), self.account.clone()) {
            spawn_ledger_write(async move { ledger.set_used_today(&account, used).await });
        }
    }

    /// Today's calls: this process's, or — with a ledger — every process's as of the last call.
    pub fn used_today(&self) -> u64 {
        self.lock().used_today
    }

    /// Marks the quota spent until `resets_at`, in this process only. The connectors, which
    /// heard it from the vendor, call [`RateBudget::vendor_exhausted`] instead.
    pub fn mark_exhausted(&self, resets_at: DateTime<Utc>) {
        self.lock().exhausted_until = Some(resets_at);
    }

    /// The vendor said the quota is spent until `resets_at`: this process stops, and so does
    /// every process sharing the ledger.
    pub async fn vendor_exhausted(&self, resets_at: DateTime<Utc>) {
        self.mark_exhausted(resets_at);
        if let (Some(ledger), Some(account)) = (ledger(), self.account.as_deref())
            && let Err(error) = ledger.mark_exhausted(account, resets_at).await
        {
            tracing::warn!(account, %error, %resets_at, "other processes were not told the quota is spent");
        }
    }

    /// Waits for a slot in the per-second budget and counts the call against today's quota:
    /// from the ledger when one is installed, else in this process's memory.
    pub async fn acquire(&self) -> Result<(), Exhausted> {
        let (Some(ledger), Some(account)) = (ledger(), self.account.as_deref()) else {
            return self.acquire_here().await;
        };
        let _turn = self.ledger_turn.lock().await;
        loop {
            let limits = {
                let state = self.lock();
                if let Some(until) = state.exhausted_until.filter(|until| *until > Utc::now()) {
                    return Err(Exhausted { resets_at: until });
                }
                state.limits
            };
            match ledger.take(account, limits).await {
                Ok(Take::Granted { used_today }) => {
                    self.lock().used_today = used_today;
                    return Ok(());
                }
                Ok(Take::Wait(wait)) => tokio::time::sleep(wait.max(MIN_LEDGER_WAIT)).await,
                Ok(Take::Exhausted { resets_at }) => return Err(Exhausted { resets_at }),
                Err(error) => {
                    // Better a call paced by this process alone than none: the vendor's own
                    // throttling still answers, and the retries wait it out.
                    tracing::warn!(account, %error, "pacing this call in this process only");
                    return self.acquire_here().await;
                }
            }
        }
    }

    /// The in-memory bucket and count.
    async fn acquire_here(&self) -> Result<(), Exhausted> {
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

/// The shortest pause between two asks of the ledger, so that waiting callers do not keep the
/// account's row busy.
const MIN_LEDGER_WAIT: Duration = Duration::from_millis(2);

/// Runs a ledger write that nobody waits for, when there is a runtime to run it on.
fn spawn_ledger_write(write: impl Future<Output = Result<(), LedgerError>> + Send + 'static) {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move {
            if let Err(error) = write.await {
                tracing::warn!(%error, "the vendor's count of today's calls was not shared");
            }
        });
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

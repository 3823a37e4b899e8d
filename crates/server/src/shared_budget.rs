//! The vendor rate budgets of a PostgreSQL workspace, shared by every server on it: the
//! store's `rate_budgets` rows installed as the connectors' [`BudgetLedger`].
//!
//! Without it each process would pace its calls by its own bucket, and N servers would spend N
//! times the vendor's rate. SQLite workspaces have one process and keep budgets in memory.

use std::time::Duration;

use chrono::{DateTime, Utc};
use connectors::budget::{BudgetLedger, LedgerError, LedgerFuture, Limits, Take};
use store::{Backend, BudgetLimits, Store, StoreError};

/// The store as the ledger of every account budget.
struct StoreLedger(Store);

fn ledger_error(error: StoreError) -> LedgerError {
    LedgerError(error.to_string())
}

/// What a slot the store answered means for the caller.
fn take_of(slot: store::BudgetSlot, limits: Limits) -> Take {
    if slot.granted {
        return Take::Granted {
            used_today: slot.used_today,
        };
    }
    if let Some(resets_at) = slot.exhausted_until {
        return Take::Exhausted { resets_at };
    }
    if limits
        .daily_quota
        .is_some_and(|quota| slot.used_today >= quota)
    {
        return Take::Exhausted {
            resets_at: slot.day_ends_at,
        };
    }
    // The bucket refills at the account's rate: the next token is this far away.
    let missing = (1.0 - slot.tokens).max(0.0);
    Take::Wait(Duration::from_secs_f64(
        missing / limits.per_second.max(0.001),
    ))
}

impl BudgetLedger for StoreLedger {
    fn take<'a>(&'a self, account: &'a str, limits: Limits) -> LedgerFuture<'a, Take> {
        Box::pin(async move {
            let slot = self
                .0
                .take_budget_slot(
                    account,
                    BudgetLimits {
                        per_second: limits.per_second,
                        burst: limits.burst,
                        daily_quota: limits.daily_quota,
                    },
                )
                .await
                .map_err(ledger_error)?;
            Ok(take_of(slot, limits))
        })
    }

    fn mark_exhausted<'a>(
        &'a self,
        account: &'a str,
        resets_at: DateTime<Utc>,
    ) -> LedgerFuture<'a, ()> {
        Box::pin(async move {
            self.0
                .mark_budget_exhausted(account, resets_at)
                .await
                .map_err(ledger_error)
        })
    }

    fn set_used_today<'a>(&'a self, account: &'a str, used: u64) -> LedgerFuture<'a, ()> {
        Box::pin(async move {
            self.0
                .set_budget_used_today(account, used)
                .await
                .map_err(ledger_error)
        })
    }
}

/// Makes every vendor call of this process take its slot from `store`'s shared budgets, when
/// `store` is PostgreSQL. Once per process; `true` when the budgets are now shared.
pub fn share_rate_budgets(store: &Store) -> bool {
    if store.backend() != Backend::Postgres {
        return false;
    }
    let installed = connectors::budget::install_ledger(Box::new(StoreLedger(store.clone())));
    if installed {
        tracing::info!("vendor rate budgets are shared with every process on this workspace");
    }
    installed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(granted: bool, tokens: f64, used_today: u64) -> store::BudgetSlot {
        store::BudgetSlot {
            granted,
            tokens,
            used_today,
            exhausted_until: None,
            day_ends_at: DateTime::from_timestamp(86_400, 0).unwrap_or_default(),
        }
    }

    const LIMITS: Limits = Limits {
        per_second: 10.0,
        burst: 10.0,
        daily_quota: Some(100),
    };

    #[test]
    fn a_refusal_waits_for_the_next_token_or_stops_at_the_quota() {
        assert_eq!(
            take_of(slot(true, 3.0, 7), LIMITS),
            Take::Granted { used_today: 7 }
        );
        let Take::Wait(wait) = take_of(slot(false, 0.5, 7), LIMITS) else {
            panic!("a refusal for the rate waits");
        };
        assert!((wait.as_secs_f64() - 0.05).abs() < 1e-6, "{wait:?}");
        assert_eq!(
            take_of(slot(false, 5.0, 100), LIMITS),
            Take::Exhausted {
                resets_at: DateTime::from_timestamp(86_400, 0).unwrap_or_default()
            }
        );
        let later = Utc::now() + chrono::Duration::hours(3);
        let spent = store::BudgetSlot {
            exhausted_until: Some(later),
            ..slot(false, 5.0, 3)
        };
        assert_eq!(take_of(spent, LIMITS), Take::Exhausted { resets_at: later });
    }
}

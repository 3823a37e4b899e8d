//! The connectors' account budgets once a server shares them through a PostgreSQL workspace:
//! calls are counted in the store, paced by the bucket every process shares, and a vendor's
//! "quota exhausted" stops the other processes too. One test in its own binary, because the
//! ledger is installed once per process.

mod support;

use std::time::{Duration, Instant};

use chrono::Utc;
use connectors::budget::{Limits, RateBudget};
use store::{BudgetLimits, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_budgets_are_taken_from_the_workspace_once_shared() {
    let Some((url, schema)) = support::postgres_schema("shared_budget").await else {
        return;
    };
    let store = Store::open_in_schema(&url, &schema).await.expect("store");
    assert!(
        server::share_rate_budgets(&store),
        "the ledger is installed"
    );
    // Another process on the same workspace.
    let other = Store::open_in_schema(&url, &schema).await.expect("store");
    let account = format!("cvent-rest:test:{schema}");
    let limits = Limits {
        per_second: 10.0,
        burst: 2.0,
        daily_quota: Some(1_000),
    };
    let budget = RateBudget::for_account(&account);
    budget.set_limits(limits);
    let other_limits = BudgetLimits {
        per_second: limits.per_second,
        burst: limits.burst,
        daily_quota: limits.daily_quota,
    };

    // The other process spends the burst; this one then waits for the bucket to refill.
    for _ in 0..2 {
        let slot = other
            .take_budget_slot(&account, other_limits)
            .await
            .expect("slot");
        assert!(slot.granted);
    }
    let started = Instant::now();
    for _ in 0..3 {
        budget.acquire().await.expect("a slot");
    }
    // Three tokens at ten a second, none left in the bucket.
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(budget.used_today(), 5, "every process's calls count");

    // The vendor said the quota is spent: the other process stops until the reset.
    let resets_at = Utc::now() + chrono::Duration::hours(1);
    budget.vendor_exhausted(resets_at).await;
    let refused = other
        .take_budget_slot(&account, other_limits)
        .await
        .expect("slot");
    assert!(!refused.granted);
    assert!(
        refused
            .exhausted_until
            .is_some_and(|until| until > Utc::now())
    );

    // Told by another process, this one stops too (its own memory knows nothing of it).
    let second_account = format!("{account}:second");
    let second = RateBudget::for_account(&second_account);
    other
        .mark_budget_exhausted(&second_account, resets_at)
        .await
        .expect("mark");
    let refusal = second.acquire().await.expect_err("the quota is spent");
    assert!((refusal.resets_at - resets_at).num_milliseconds().abs() < 5);

    other.close().await;
    store.close().await;
    support::drop_schema(&url, &schema).await;
}

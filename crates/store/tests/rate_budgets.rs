//! The shared rate budget's contract on PostgreSQL, with reopened stores standing for other
//! processes: concurrent takers never spend more than the bucket and the daily quota allow, a
//! vendor's "quota exhausted" stops every taker until its reset, and a SQLite workspace shares
//! nothing. (The cost of one take is measured by `cargo bench -p eventsync --bench workers`.)

use std::time::{Duration, Instant};

use chrono::Utc;
use store::{BudgetLimits, Store};

// The budget is shared on PostgreSQL only, so these tests do without the both-backends macro.
#[allow(unused_macros, unused_imports)]
mod support;

use support::{TestDatabase, on_postgres, on_sqlite};

const ACCOUNT: &str = "cvent-rest:http://127.0.0.1:1/ea:client";

async fn stores(db: &TestDatabase, count: usize) -> Vec<Store> {
    let mut stores = vec![db.store.clone()];
    for _ in 1..count {
        stores.push(db.reopen().await);
    }
    stores
}

/// Four processes, eight callers each, taking slots as fast as they can for `window`.
async fn grants_within(stores: &[Store], limits: BudgetLimits, window: Duration) -> u64 {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for store in stores {
        for _ in 0..8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut granted = 0u64;
                while started.elapsed() < window {
                    let slot = store
                        .take_budget_slot(ACCOUNT, limits)
                        .await
                        .expect("taking a slot");
                    if slot.granted {
                        granted += 1;
                    } else {
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                }
                granted
            }));
        }
    }
    let mut granted = 0;
    for task in tasks {
        granted += task.await.expect("a taker");
    }
    granted
}

#[tokio::test]
async fn concurrent_processes_together_stay_within_the_per_second_rate() {
    on_postgres(|db| async move {
        let stores = stores(&db, 4).await;
        let limits = BudgetLimits {
            per_second: 20.0,
            burst: 5.0,
            daily_quota: None,
        };
        let window = Duration::from_secs(2);
        let granted = grants_within(&stores, limits, window).await;
        // The burst at once, then the rate: 5 + 2 s × 20 (and a call's worth of timing slack).
        let bound = 5 + 40 + 1;
        assert!(granted <= bound, "{granted} calls granted, at most {bound}");
        assert!(granted >= 35, "{granted} calls granted: the budget starved");
    })
    .await;
}

#[tokio::test]
async fn concurrent_processes_together_spend_the_daily_quota_exactly() {
    on_postgres(|db| async move {
        let stores = stores(&db, 4).await;
        let limits = BudgetLimits {
            per_second: 10_000.0,
            burst: 10_000.0,
            daily_quota: Some(150),
        };
        let granted = grants_within(&stores, limits, Duration::from_millis(800)).await;
        assert_eq!(granted, 150);
        let refused = stores[3]
            .take_budget_slot(ACCOUNT, limits)
            .await
            .expect("taking a slot");
        assert!(!refused.granted);
        assert_eq!(refused.used_today, 150);
        assert!(refused.day_ends_at > Utc::now());
        assert!(refused.day_ends_at <= Utc::now() + chrono::Duration::days(1));
    })
    .await;
}

#[tokio::test]
async fn a_quota_the_vendor_says_is_spent_stops_every_process_until_its_reset() {
    on_postgres(|db| async move {
        let stores = stores(&db, 2).await;
        let limits = BudgetLimits {
            per_second: 100.0,
            burst: 10.0,
            daily_quota: Some(1_000),
        };
        assert!(
            stores[0]
                .take_budget_slot(ACCOUNT, limits)
                .await
                .expect("slot")
                .granted
        );
        let resets_at = Utc::now() + chrono::Duration::hours(2);
        stores[0]
            .mark_budget_exhausted(ACCOUNT, resets_at)
            .await
            .expect("marking");
        let refused = stores[1]
            .take_budget_slot(ACCOUNT, limits)
            .await
            .expect("slot");
        assert!(!refused.granted);
        let until = refused.exhausted_until.expect("the vendor's reset");
        assert!(
            (until - resets_at).num_milliseconds().abs() < 5,
            "{until} vs {resets_at}"
        );
        // The reset has come (as the vendor said it would): calls go again.
        stores[1]
            .mark_budget_exhausted(ACCOUNT, Utc::now() - chrono::Duration::seconds(1))
            .await
            .expect("marking");
        let again = stores[0]
            .take_budget_slot(ACCOUNT, limits)
            .await
            .expect("slot");
        assert!(again.granted);
        assert_eq!(again.exhausted_until, None);
    })
    .await;
}

#[tokio::test]
async fn the_vendor_s_count_of_today_s_calls_raises_the_shared_one_only() {
    on_postgres(|db| async move {
        let limits = BudgetLimits {
            per_second: 100.0,
            burst: 10.0,
            daily_quota: Some(1_000),
        };
        let store = &db.store;
        store
            .set_budget_used_today(ACCOUNT, 400)
            .await
            .expect("count");
        let slot = store.take_budget_slot(ACCOUNT, limits).await.expect("slot");
        assert!(slot.granted);
        assert_eq!(slot.used_today, 401);
        store
            .set_budget_used_today(ACCOUNT, 12)
            .await
            .expect("count");
        let slot = store.take_budget_slot(ACCOUNT, limits).await.expect("slot");
        assert_eq!(slot.used_today, 402);
    })
    .await;
}

#[tokio::test]
async fn every_granted_take_is_counted_once() {
    on_postgres(|db| async move {
        let limits = BudgetLimits {
            per_second: 1_000_000.0,
            burst: 1_000_000.0,
            daily_quota: None,
        };
        let takes: u32 = 200;
        for _ in 0..takes {
            let slot = db
                .store
                .take_budget_slot(ACCOUNT, limits)
                .await
                .expect("slot");
            assert!(slot.granted);
        }
        let slot = db
            .store
            .take_budget_slot(ACCOUNT, limits)
            .await
            .expect("slot");
        assert_eq!(slot.used_today, u64::from(takes) + 1);
    })
    .await;
}

#[tokio::test]
async fn a_sqlite_workspace_shares_no_budget() {
    on_sqlite(|db| async move {
        let limits = BudgetLimits {
            per_second: 1.0,
            burst: 1.0,
            daily_quota: None,
        };
        let refused = db.store.take_budget_slot(ACCOUNT, limits).await;
        let message = refused
            .expect_err("SQLite keeps budgets in memory")
            .to_string();
        assert!(message.contains("one process"), "{message}");
    })
    .await;
}

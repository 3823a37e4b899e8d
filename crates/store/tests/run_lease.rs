//! The run lease's contract — one run per connection across processes — run against SQLite (a
//! temporary file) and PostgreSQL (a schema of its own per test). Each reopened store stands
//! for another process.

use std::time::Duration;

use serde_json::json;
use std::collections::BTreeMap;

use store::{
    LeaseClaim, LeaseHolder, NewRun, PageCommit, RawJson, RunLease, Store, SyncState, Upsert,
};

mod support;

use support::{TestDatabase, on_both_backends, on_postgres, on_sqlite};

on_both_backends!(
    a_lease_is_refused_while_held_naming_its_run_and_free_once_released,
    a_renewed_lease_outlives_its_first_deadline,
    an_expired_lease_is_taken_over_and_its_run_marked_interrupted,
    the_lease_of_a_store_that_went_away_is_taken_at_once,
    of_stores_taking_one_lease_together_exactly_one_gets_it,
    a_holder_that_lost_its_lease_stores_nothing_more,
);

const CONNECTION: &str = "cvent";
const LONG: Duration = Duration::from_secs(60);

fn new_run(kind: &str) -> NewRun {
    NewRun {
        connection: CONNECTION.to_string(),
        kind: kind.to_string(),
        data_types: vec!["people".to_string()],
        cursor_before: json!({"people": null}),
    }
}

async fn take(store: &Store, duration: Duration) -> LeaseClaim {
    store
        .take_run_lease(CONNECTION, "sync", duration)
        .await
        .expect("taking the lease")
}

fn taken(claim: LeaseClaim) -> RunLease {
    match claim {
        LeaseClaim::Taken(lease) => lease,
        LeaseClaim::Held(holder) => panic!("the lease should be free: {holder}"),
    }
}

fn held(claim: LeaseClaim) -> LeaseHolder {
    match claim {
        LeaseClaim::Held(holder) => holder,
        LeaseClaim::Taken(lease) => panic!("the lease should be held, yet {lease:?} took it"),
    }
}

async fn a_lease_is_refused_while_held_naming_its_run_and_free_once_released(db: TestDatabase) {
    let first = &db.store;
    let second = db.reopen().await;
    let lease = taken(take(first, LONG).await);

    let before_run = held(take(&second, LONG).await);
    assert_eq!(before_run.kind, "sync");
    assert_eq!(before_run.run_id, None, "no run recorded yet");

    let run_id = first
        .with_lease(&lease)
        .start_run(&new_run("sync"))
        .await
        .unwrap();
    assert_eq!(first.leased_run(&lease).await.unwrap(), Some(run_id));
    let refused = held(take(&second, LONG).await);
    assert_eq!(refused.run_id, Some(run_id));
    let run = second.run(run_id).await.unwrap().unwrap();
    assert_eq!(refused.started_at, run.started_at);
    let message = refused.to_string();
    assert!(
        message.contains(&format!("run {run_id}"))
            && message.contains("sync")
            && message.contains(&format!("process {}", std::process::id())),
        "{message}"
    );
    assert_eq!(second.run_lease(CONNECTION).await.unwrap(), Some(refused));

    // Other connections have leases of their own.
    let other = second
        .take_run_lease("aventri", "preview", LONG)
        .await
        .unwrap();
    assert!(matches!(other, LeaseClaim::Taken(_)));

    first.release_run_lease(&lease).await.unwrap();
    assert_eq!(second.run_lease(CONNECTION).await.unwrap(), None);
    let next = taken(take(&second, LONG).await);
    assert_eq!(second.leased_run(&next).await.unwrap(), None);
    assert_eq!(
        second.run(run_id).await.unwrap().unwrap().status,
        "running",
        "a released lease marks nothing: its run finishes on its own"
    );
}

async fn a_renewed_lease_outlives_its_first_deadline(db: TestDatabase) {
    let first = &db.store;
    let second = db.reopen().await;
    let lease = taken(take(first, Duration::from_millis(400)).await);
    let run_id = first
        .with_lease(&lease)
        .start_run(&new_run("sync"))
        .await
        .unwrap();
    let heartbeat_before = first.run(run_id).await.unwrap().unwrap();
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(first.renew_run_lease(&lease, LONG).await.unwrap());
    }
    held(take(&second, LONG).await);
    assert_eq!(
        second.run(run_id).await.unwrap().unwrap(),
        heartbeat_before,
        "renewing leaves the run's record as it was, but for its heartbeat"
    );
}

async fn an_expired_lease_is_taken_over_and_its_run_marked_interrupted(db: TestDatabase) {
    // The first holder stays open but stops renewing, as a stalled process or one on another
    // host whose death nobody here can see.
    let first = &db.store;
    let second = db.reopen().await;
    let lease = taken(take(first, Duration::from_millis(300)).await);
    let run_id = first
        .with_lease(&lease)
        .start_run(&new_run("sync"))
        .await
        .unwrap();
    held(take(&second, LONG).await);
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(
        second.run_lease(CONNECTION).await.unwrap(),
        None,
        "a lease that ran out holds nothing"
    );

    let successor = taken(take(&second, LONG).await);
    let interrupted = second.run(run_id).await.unwrap().unwrap();
    assert_eq!(interrupted.status, "interrupted");
    assert!(interrupted.finished_at.is_some());
    assert!(
        interrupted
            .errors
            .iter()
            .any(|error| error.contains("stopped renewing its lease")),
        "{:?}",
        interrupted.errors
    );

    // The old holder can neither renew nor release what is now its successor's.
    assert!(!first.renew_run_lease(&lease, LONG).await.unwrap());
    first.release_run_lease(&lease).await.unwrap();
    assert_eq!(first.leased_run(&lease).await.unwrap(), None);
    let third = db.reopen().await;
    held(take(&third, LONG).await);
    assert!(second.renew_run_lease(&successor, LONG).await.unwrap());
}

async fn the_lease_of_a_store_that_went_away_is_taken_at_once(db: TestDatabase) {
    let first = db.reopen().await;
    let lease = taken(take(&first, LONG).await);
    let run_id = first
        .with_lease(&lease)
        .start_run(&new_run("preview"))
        .await
        .unwrap();
    // Gone without releasing, as a process killed mid-run (here: its store closed in this
    // process; another process on this host is judged by its process id).
    first.close().await;
    drop(first);

    let second = &db.store;
    taken(take(second, LONG).await);
    let run = second.run(run_id).await.unwrap().unwrap();
    assert_eq!(run.status, "interrupted");
}

async fn of_stores_taking_one_lease_together_exactly_one_gets_it(db: TestDatabase) {
    let mut stores = vec![db.store.clone()];
    for _ in 0..5 {
        stores.push(db.reopen().await);
    }
    let tasks: Vec<_> = stores
        .into_iter()
        .map(|store| {
            tokio::spawn(async move {
                let claim = take(&store, LONG).await;
                // A holder's store stays open: one that went away would leave its lease free.
                (claim, store)
            })
        })
        .collect();
    let mut claims = Vec::new();
    let mut open = Vec::new();
    for task in tasks {
        let (claim, store) = task.await.expect("a taking task");
        claims.push(claim);
        open.push(store);
    }
    let winners = claims
        .iter()
        .filter(|claim| matches!(claim, LeaseClaim::Taken(_)))
        .count();
    assert_eq!(winners, 1, "{claims:?}");
}

/// Regression: a holder that stalled past its lease and then woke up went on committing pages
/// over the work of the run that had taken its connection over.
async fn a_holder_that_lost_its_lease_stores_nothing_more(db: TestDatabase) {
    let first = &db.store;
    let second = db.reopen().await;
    let lease = taken(take(first, Duration::from_millis(200)).await);
    let stalled_run = first
        .with_lease(&lease)
        .start_run(&new_run("sync"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    taken(take(&second, LONG).await);

    let page = PageCommit {
        run_id: stalled_run,
        connection: CONNECTION.to_string(),
        data_type: "people".to_string(),
        upserts: vec![Upsert {
            external_id: "a1".to_string(),
            fields: RawJson::of(&json!({"email": "a1@example.com"})),
            raw: RawJson::of(&json!({"id": "a1"})),
        }],
        removals: vec![],
        feed: vec![],
        state: SyncState {
            cursor: Some("2026-05-01T10:00:00Z".to_string()),
            checkpoint: None,
            last_success_at: None,
            last_attempt_at: None,
            last_full_sync_at: None,
        },
        counts: BTreeMap::from([("create".to_string(), 1)]),
        api_calls: 1,
    };
    let refused = first.commit_page(&page).await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|error| error.to_string().contains("was interrupted")),
        "{refused:?}"
    );
    assert_eq!(second.count(CONNECTION, "people").await.unwrap(), 0);
    assert_eq!(second.state(CONNECTION, "people").await.unwrap(), None);
    assert!(
        first
            .add_run_progress(stalled_run, "people", &BTreeMap::new(), 1)
            .await
            .is_err()
    );
}

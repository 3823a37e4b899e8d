//! The store's contract, written once and run against SQLite (a temporary file) and PostgreSQL
//! (a schema of its own per test at `EVENTSYNC_TEST_POSTGRES`, default
//! `postgres://postgres@127.0.0.1:5432/test`).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Duration;

use serde_json::{Map, Value, json};
use store::{
    Backend, Checkpoint, NewRun, PageCommit, RunOutcome, Store, StoreError, StoredRecord,
    SyncState, VendorTotals,
};

mod support;

use support::{TestDatabase, on_both_backends, on_postgres, on_sqlite, unique_name};

on_both_backends!(
    opening_twice_applies_migrations_once_and_keeps_data,
    commit_page_writes_records_state_and_counts_together,
    a_commit_for_a_missing_run_leaves_records_state_and_counts_unchanged,
    a_constraint_violation_late_in_a_page_leaves_everything_unchanged,
    reapplying_a_page_changes_nothing,
    a_later_duplicate_in_one_page_wins,
    a_page_of_new_changed_and_unchanged_records_writes_each_as_it_should,
    a_page_after_one_that_did_not_land_writes_nothing,
    looks_up_a_thousand_records_at_once,
    removals_delete_only_the_named_records_of_the_stream,
    state_round_trips_with_and_without_checkpoint,
    totals_are_kept_beside_the_state_and_survive_its_commits,
    connection_facts_round_trip_and_are_replaced,
    runs_go_from_start_through_progress_to_finish_newest_first,
    finishing_rejects_unknown_statuses_and_runs,
    stale_runs_of_dead_stores_are_interrupted_live_ones_kept,
    export_pages_follow_external_id_byte_order,
    export_across_connections_never_splits_an_id_between_pages,
    concurrent_commits_from_two_stores_all_land,
    records_round_trip_unicode_numbers_and_nesting,
    a_store_opened_earlier_reads_records_another_wrote_since,
);

// ---------------------------------------------------------------------------------------------
// Builders

const CONNECTION: &str = "cvent-main";
const ATTENDEES: &str = "attendees";

fn record(external_id: &str, version: u64) -> StoredRecord {
    let fields = json!({
        "email": format!("{external_id}@example.com"),
        "first_name": "Ada",
        "last_name": format!("Lovelace {version}"),
        "status": "Accepted",
        "version": version,
    });
    let Value::Object(fields) = fields else {
        unreachable!("a JSON object literal")
    };
    StoredRecord {
        external_id: external_id.to_string(),
        fields,
        raw: store::RawJson::from_value(
            &json!({"id": external_id, "contact": {"lastName": format!("Lovelace {version}")}, "version": version}),
        ),
        updated_at: String::new(),
    }
}

fn ids(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|index| format!("att-{index:05}")).collect()
}

fn state(cursor: &str) -> SyncState {
    SyncState {
        cursor: Some(cursor.to_string()),
        checkpoint: None,
        last_success_at: Some("2026-05-01T10:00:00Z".to_string()),
        last_attempt_at: Some("2026-05-01T10:00:00Z".to_string()),
        last_full_sync_at: None,
    }
}

fn page(
    run_id: i64,
    upserts: Vec<StoredRecord>,
    removals: Vec<String>,
    cursor: &str,
) -> PageCommit {
    let created = upserts.len() as u64;
    PageCommit {
        run_id,
        connection: CONNECTION.to_string(),
        data_type: ATTENDEES.to_string(),
        upserts: upserts.into_iter().map(store::Upsert::from).collect(),
        removals,
        feed: Vec::new(),
        state: state(cursor),
        counts: BTreeMap::from([("create".to_string(), created)]),
        api_calls: 1,
    }
}

fn new_run(connection: &str) -> NewRun {
    NewRun {
        connection: connection.to_string(),
        kind: "sync".to_string(),
        data_types: vec![ATTENDEES.to_string(), "sessions".to_string()],
        cursor_before: json!({"attendees": null}),
    }
}

async fn start(store: &Store) -> i64 {
    store
        .start_run(&new_run(CONNECTION))
        .await
        .expect("starting a run")
}

/// Everything a failed commit must leave as it was.
#[derive(Debug)]
struct Snapshot {
    records: BTreeMap<String, StoredRecord>,
    state: Option<SyncState>,
    run: store::RunSummary,
}

/// Names the first difference instead of printing both snapshots whole.
fn assert_unchanged(before: &Snapshot, after: &Snapshot) {
    assert_eq!(after.state, before.state, "the stream's state changed");
    assert_eq!(after.run, before.run, "the run's counters changed");
    let before_ids: Vec<&String> = before.records.keys().collect();
    let after_ids: Vec<&String> = after.records.keys().collect();
    assert_eq!(after_ids, before_ids, "the set of stored records changed");
    for (id, record) in &before.records {
        assert_eq!(&after.records[id], record, "record {id} changed");
    }
}

async fn snapshot(store: &Store, run_id: i64) -> Snapshot {
    let mut records = BTreeMap::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .export_page(Some(CONNECTION), ATTENDEES, after.as_deref(), 64)
            .await
            .expect("exporting");
        let Some(last) = page.last() else { break };
        after = Some(last.external_id.clone());
        records.extend(
            page.into_iter()
                .map(|record| (record.external_id.clone(), record)),
        );
    }
    let state = store
        .state(CONNECTION, ATTENDEES)
        .await
        .expect("reading state");
    let run = store
        .run(run_id)
        .await
        .expect("reading the run")
        .expect("the run exists");
    Snapshot {
        records,
        state,
        run,
    }
}

// ---------------------------------------------------------------------------------------------
// Tests

async fn opening_twice_applies_migrations_once_and_keeps_data(db: TestDatabase) {
    let run_id = start(&db.store).await;
    db.store
        .commit_page(&page(
            run_id,
            vec![record("att-1", 1)],
            vec![],
            "2026-05-01T00:00:00Z",
        ))
        .await
        .expect("committing");
    let version = db.store.schema_version().await.expect("schema version");
    assert!(version >= 1);

    let again = db.reopen().await;
    let third = db.reopen().await;
    assert_eq!(again.schema_version().await.unwrap(), version);
    assert_eq!(third.schema_version().await.unwrap(), version);
    assert_eq!(again.count(CONNECTION, ATTENDEES).await.unwrap(), 1);
    assert_eq!(again.run(run_id).await.unwrap().unwrap().status, "running");
}

async fn commit_page_writes_records_state_and_counts_together(db: TestDatabase) {
    let store = &db.store;
    let run_id = start(store).await;
    assert_eq!(store.state(CONNECTION, ATTENDEES).await.unwrap(), None);

    let upserts: Vec<StoredRecord> = ids(0..200).iter().map(|id| record(id, 1)).collect();
    let mut commit = page(run_id, upserts, vec![], "2026-05-01T09:00:00Z");
    commit.counts = BTreeMap::from([("create".to_string(), 150), ("update".to_string(), 50)]);
    commit.api_calls = 2;
    store.commit_page(&commit).await.expect("committing");

    assert_eq!(store.count(CONNECTION, ATTENDEES).await.unwrap(), 200);
    assert_eq!(store.count(CONNECTION, "sessions").await.unwrap(), 0);
    assert_eq!(store.count("other-connection", ATTENDEES).await.unwrap(), 0);
    let stored = store
        .records(CONNECTION, ATTENDEES, &ids(7..8))
        .await
        .unwrap();
    let first = &stored["att-00007"];
    assert_eq!(first.fields, record("att-00007", 1).fields);
    assert_eq!(first.raw, record("att-00007", 1).raw);
    let written_at =
        chrono::DateTime::parse_from_rfc3339(&first.updated_at).expect("RFC 3339 updated_at");
    assert_eq!(
        written_at.offset().local_minus_utc(),
        0,
        "updated_at is UTC"
    );
    assert!(first.updated_at.ends_with('Z'));

    assert_eq!(
        store.state(CONNECTION, ATTENDEES).await.unwrap(),
        Some(state("2026-05-01T09:00:00Z"))
    );
    let run = store.run(run_id).await.unwrap().unwrap();
    assert_eq!(run.counts[ATTENDEES]["create"], 150);
    assert_eq!(run.counts[ATTENDEES]["update"], 50);
    assert_eq!(run.api_calls, 2);

    // A second page adds to the run's totals and moves the cursor.
    store
        .commit_page(&page(
            run_id,
            vec![record("att-99999", 1)],
            vec![],
            "2026-05-01T09:30:00Z",
        ))
        .await
        .unwrap();
    let run = store.run(run_id).await.unwrap().unwrap();
    assert_eq!(run.counts[ATTENDEES]["create"], 151);
    assert_eq!(run.api_calls, 3);
    assert_eq!(
        store
            .state(CONNECTION, ATTENDEES)
            .await
            .unwrap()
            .unwrap()
            .cursor
            .as_deref(),
        Some("2026-05-01T09:30:00Z")
    );
}

async fn a_commit_for_a_missing_run_leaves_records_state_and_counts_unchanged(db: TestDatabase) {
    let store = &db.store;
    let run_id = start(store).await;
    let first: Vec<StoredRecord> = ids(0..50).iter().map(|id| record(id, 1)).collect();
    store
        .commit_page(&page(run_id, first, vec![], "2026-05-01T01:00:00Z"))
        .await
        .unwrap();
    let before = snapshot(store, run_id).await;

    // The run is looked up last, after the page's records, removals and state were written, so
    // only a rollback can explain an unchanged store.
    let mut failing = page(
        run_id + 1000,
        ids(25..120).iter().map(|id| record(id, 2)).collect(),
        ids(0..10),
        "2026-05-01T02:00:00Z",
    );
    failing.state.checkpoint = Some(Checkpoint {
        mode: "full".into(),
        resume_token: Some("token-2".into()),
        started_at: "2026-05-01T01:59:00Z".into(),
    });
    let error = store
        .commit_page(&failing)
        .await
        .expect_err("a missing run fails the commit");
    assert!(
        matches!(&error, StoreError::Query(message) if message.contains("does not exist")),
        "{error}"
    );

    assert_unchanged(&before, &snapshot(store, run_id).await);
    // The store still works after the rollback.
    store
        .commit_page(&page(
            run_id,
            vec![record("att-00001", 3)],
            vec![],
            "2026-05-01T03:00:00Z",
        ))
        .await
        .unwrap();
}

async fn a_constraint_violation_late_in_a_page_leaves_everything_unchanged(db: TestDatabase) {
    let store = &db.store;
    let run_id = start(store).await;
    store
        .commit_page(&page(
            run_id,
            ids(0..20).iter().map(|id| record(id, 1)).collect(),
            vec![],
            "c1",
        ))
        .await
        .unwrap();
    let before = snapshot(store, run_id).await;

    // 150 good records (updates and inserts) and then one with an empty external id, which the
    // schema refuses; in SQLite it falls in the second multi-row statement.
    let mut upserts: Vec<StoredRecord> = ids(10..160).iter().map(|id| record(id, 2)).collect();
    upserts.push(record("", 2));
    upserts.extend(ids(160..200).iter().map(|id| record(id, 2)));
    let error = store
        .commit_page(&page(run_id, upserts, ids(0..5), "c2"))
        .await
        .expect_err("an empty external id violates a constraint");
    assert!(matches!(error, StoreError::Query(_)), "{error:?}");

    assert_unchanged(&before, &snapshot(store, run_id).await);
}

async fn reapplying_a_page_changes_nothing(db: TestDatabase) {
    let store = &db.store;
    let run_id = start(store).await;
    let upserts: Vec<StoredRecord> = ids(0..200).iter().map(|id| record(id, 1)).collect();
    let commit = page(run_id, upserts.clone(), vec![], "c1");
    store.commit_page(&commit).await.unwrap();
    let first = store
        .records(CONNECTION, ATTENDEES, &ids(0..200))
        .await
        .unwrap();

    tokio::time::sleep(Duration::from_millis(5)).await;
    store.commit_page(&commit).await.unwrap();
    let second = store
        .records(CONNECTION, ATTENDEES, &ids(0..200))
        .await
        .unwrap();
    assert_eq!(first, second, "same content, same updated_at");
    assert_eq!(store.count(CONNECTION, ATTENDEES).await.unwrap(), 200);

    // Changing one record moves only its updated_at.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let mut changed = upserts;
    changed[3] = record("att-00003", 2);
    store
        .commit_page(&page(run_id, changed, vec![], "c2"))
        .await
        .unwrap();
    let third = store
        .records(CONNECTION, ATTENDEES, &ids(0..200))
        .await
        .unwrap();
    for (id, record) in &third {
        if id == "att-00003" {
            assert!(
                record.updated_at > first[id].updated_at,
                "a changed record is re-stamped"
            );
            assert_eq!(record.fields["version"], json!(2));
        } else {
            assert_eq!(record, &first[id], "{id} did not change");
        }
    }
}

async fn a_later_duplicate_in_one_page_wins(db: TestDatabase) {
    let store = &db.store;
    let run_id = start(store).await;
    let upserts = vec![record("att-1", 1), record("att-2", 1), record("att-1", 5)];
    store
        .commit_page(&page(run_id, upserts, vec![], "c1"))
        .await
        .expect("duplicates are allowed");
    let stored = store
        .records(CONNECTION, ATTENDEES, &["att-1".to_string()])
        .await
        .unwrap();
    assert_eq!(stored["att-1"].fields["version"], json!(5));
    assert_eq!(store.count(CONNECTION, ATTENDEES).await.unwrap(), 2);
}

async fn a_page_of_new_changed_and_unchanged_records_writes_each_as_it_should(db: TestDatabase) {
    let store = &db.store;
    let run_id = start(store).await;
    let first: Vec<StoredRecord> = ids(0..100).iter().map(|id| record(id, 1)).collect();
    store
        .commit_page(&page(run_id, first, vec![], "c1"))
        .await
        .unwrap();
    let before = store
        .records(CONNECTION, ATTENDEES, &ids(0..100))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    // One statement's worth of rows: ten changed, forty unchanged and fifty new.
    let mixed: Vec<StoredRecord> = ids(50..150)
        .iter()
        .enumerate()
        .map(|(i, id)| record(id, if i < 10 { 2 } else { 1 }))
        .collect();
    store
        .commit_page(&page(run_id, mixed, vec![], "c2"))
        .await
        .unwrap();
    assert_eq!(store.count(CONNECTION, ATTENDEES).await.unwrap(), 150);
    let after = store
        .records(CONNECTION, ATTENDEES, &ids(0..150))
        .await
        .unwrap();
    for (index, id) in ids(0..150).iter().enumerate() {
        let record = &after[id];
        match index {
            50..60 => {
                assert_eq!(record.fields["version"], json!(2), "{id} changed");
                assert!(record.updated_at > before[id].updated_at, "{id} re-stamped");
            }
            0..100 => assert_eq!(record, &before[id], "{id} left alone"),
            _ => assert_eq!(record.fields["version"], json!(1), "{id} inserted"),
        }
    }
}

async fn a_page_after_one_that_did_not_land_writes_nothing(db: TestDatabase) {
    let store = &db.store;
    let run_id = start(store).await;
    let first = page(run_id, vec![record("att-1", 1)], vec![], "c1");
    let second = page(run_id, vec![record("att-2", 1)], vec![], "c2");
    let error = store
        .commit_page_after(&second, async { false })
        .await
        .expect_err("the page before it failed");
    assert!(error.to_string().contains("page before it"), "{error}");
    assert_eq!(store.count(CONNECTION, ATTENDEES).await.unwrap(), 0);
    assert_eq!(store.state(CONNECTION, ATTENDEES).await.unwrap(), None);
    // Waiting on a page that lands: written once it has.
    let (landed, signal) = tokio::sync::oneshot::channel();
    let (_, later) = tokio::join!(
        async {
            store.commit_page(&first).await.expect("first page");
            landed.send(true).unwrap();
        },
        store.commit_page_after(&second, async { signal.await.unwrap() })
    );
    later.expect("second page");
    assert_eq!(store.count(CONNECTION, ATTENDEES).await.unwrap(), 2);
    assert_eq!(
        store.state(CONNECTION, ATTENDEES).await.unwrap(),
        Some(state("c2"))
    );
}

async fn looks_up_a_thousand_records_at_once(db: TestDatabase) {
    let store = &db.store;
    let run_id = start(store).await;
    for chunk in ids(0..1200).chunks(200) {
        let upserts = chunk.iter().map(|id| record(id, 1)).collect();
        store
            .commit_page(&page(run_id, upserts, vec![], "c"))
            .await
            .unwrap();
    }
    // The same ids under another connection and another data type must not leak in.
    let mut elsewhere = page(
        run_id,
        ids(0..1000).iter().map(|id| record(id, 9)).collect(),
        vec![],
        "c",
    );
    elsewhere.connection = "bizzabo".to_string();
    store.commit_page(&elsewhere).await.unwrap();
    elsewhere.connection = CONNECTION.to_string();
    elsewhere.data_type = "sessions".to_string();
    store.commit_page(&elsewhere).await.unwrap();

    let mut wanted = ids(100..1100);
    wanted.extend(["missing-1".to_string(), "missing-2".to_string()]);
    let found = store.records(CONNECTION, ATTENDEES, &wanted).await.unwrap();
    assert_eq!(found.len(), 1000);
    assert!(
        ids(100..1100)
            .iter()
            .all(|id| found[id].fields["version"] == json!(1))
    );
    assert!(!found.contains_key("missing-1"));
    assert!(
        store
            .records(CONNECTION, ATTENDEES, &[])
            .await
            .unwrap()
            .is_empty()
    );

    let all: HashSet<String> = ids(0..1200).into_iter().collect();
    assert_eq!(
        store.external_ids(CONNECTION, ATTENDEES).await.unwrap(),
        all
    );
    assert_eq!(store.count(CONNECTION, ATTENDEES).await.unwrap(), 1200);
    assert_eq!(store.count("bizzabo", ATTENDEES).await.unwrap(), 1000);
}

async fn removals_delete_only_the_named_records_of_the_stream(db: TestDatabase) {
    let store = &db.store;
    let run_id = start(store).await;
    store
        .commit_page(&page(
            run_id,
            ids(0..10).iter().map(|id| record(id, 1)).collect(),
            vec![],
            "c",
        ))
        .await
        .unwrap();
    let mut other_stream = page(
        run_id,
        ids(0..10).iter().map(|id| record(id, 1)).collect(),
        vec![],
        "c",
    );
    other_stream.data_type = "sessions".to_string();
    store.commit_page(&other_stream).await.unwrap();

    // Removals apply after upserts, and unknown ids are no error.
    let removals = vec![
        "att-00002".to_string(),
        "att-00005".to_string(),
        "att-00010".to_string(),
        "never-stored".to_string(),
    ];
    store
        .commit_page(&page(
            run_id,
            vec![record("att-00010", 1), record("att-00011", 1)],
            removals,
            "c2",
        ))
        .await
        .unwrap();

    let remaining = store.external_ids(CONNECTION, ATTENDEES).await.unwrap();
    let mut expected: HashSet<String> = ids(0..10).into_iter().collect();
    expected.remove("att-00002");
    expected.remove("att-00005");
    expected.insert("att-00011".to_string());
    assert_eq!(remaining, expected);
    assert_eq!(
        store.count(CONNECTION, "sessions").await.unwrap(),
        10,
        "another stream is untouched"
    );
}

async fn connection_facts_round_trip_and_are_replaced(db: TestDatabase) {
    let store = &db.store;
    assert_eq!(store.connection_facts(CONNECTION).await.unwrap(), None);
    let first = serde_json::json!({"event_id": "e1", "per_second": 25.0, "daily_quota": 500000});
    store
        .set_connection_facts(CONNECTION, &first)
        .await
        .unwrap();
    assert_eq!(
        store.connection_facts(CONNECTION).await.unwrap(),
        Some(first)
    );
    let second = serde_json::json!({"event_id": "e1", "per_second": 2.0, "daily_quota": null});
    store
        .set_connection_facts(CONNECTION, &second)
        .await
        .unwrap();
    assert_eq!(
        store.connection_facts(CONNECTION).await.unwrap(),
        Some(second.clone())
    );
    assert_eq!(store.connection_facts("other").await.unwrap(), None);
    assert_eq!(
        db.reopen()
            .await
            .connection_facts(CONNECTION)
            .await
            .unwrap(),
        Some(second)
    );
}

async fn state_round_trips_with_and_without_checkpoint(db: TestDatabase) {
    let store = &db.store;
    let run_id = start(store).await;
    assert_eq!(store.state(CONNECTION, ATTENDEES).await.unwrap(), None);

    let with_checkpoint = SyncState {
        cursor: Some("2026-04-30T23:59:59.123Z".into()),
        checkpoint: Some(Checkpoint {
            mode: "incremental".into(),
            resume_token: Some("eyJwYWdlIjozfQ==".into()),
            started_at: "2026-05-01T08:00:00Z".into(),
        }),
        last_success_at: Some("2026-04-30T08:00:00Z".into()),
        last_attempt_at: Some("2026-05-01T08:00:00Z".into()),
        last_full_sync_at: Some("2026-04-01T00:00:00Z".into()),
    };
    let mut commit = page(run_id, vec![], vec![], "unused");
    commit.state = with_checkpoint.clone();
    store.commit_page(&commit).await.unwrap();
    assert_eq!(
        store.state(CONNECTION, ATTENDEES).await.unwrap(),
        Some(with_checkpoint.clone())
    );
    assert_eq!(store.state(CONNECTION, "sessions").await.unwrap(), None);

    // The next state replaces the stored one whole: the finished run clears its checkpoint.
    let finished = SyncState {
        cursor: Some("2026-05-01T07:59:00Z".into()),
        checkpoint: None,
        ..with_checkpoint.clone()
    };
    commit.state = finished.clone();
    store.commit_page(&commit).await.unwrap();
    assert_eq!(
        store.state(CONNECTION, ATTENDEES).await.unwrap(),
        Some(finished)
    );

    commit.state = SyncState::default();
    store.commit_page(&commit).await.unwrap();
    assert_eq!(
        store.state(CONNECTION, ATTENDEES).await.unwrap(),
        Some(SyncState::default())
    );
}

async fn totals_are_kept_beside_the_state_and_survive_its_commits(db: TestDatabase) {
    let store = &db.store;
    let run_id = start(store).await;
    assert_eq!(store.totals(CONNECTION, ATTENDEES).await.unwrap(), None);

    // Counted before the stream has a state: the state's row is made for them.
    let counted = VendorTotals {
        derived: 0,
        vendor_total: Some(1_000),
        left_out_by_status: Some(120),
        filtered: 7,
        rejected: 3,
        counted_at: "2026-05-01T10:00:00.000Z".into(),
        run_id,
    };
    store
        .set_totals(CONNECTION, ATTENDEES, &counted)
        .await
        .unwrap();
    assert_eq!(
        store.totals(CONNECTION, ATTENDEES).await.unwrap(),
        Some(counted.clone())
    );
    assert_eq!(
        store.state(CONNECTION, ATTENDEES).await.unwrap(),
        Some(SyncState::default())
    );

    // A page commit replaces the state whole but leaves the totals alone.
    store
        .commit_page(&page(
            run_id,
            vec![record("att-1", 1)],
            vec![],
            "2026-05-01T11:00:00Z",
        ))
        .await
        .unwrap();
    assert_eq!(
        store.totals(CONNECTION, ATTENDEES).await.unwrap(),
        Some(counted.clone())
    );
    assert_eq!(
        store.state(CONNECTION, ATTENDEES).await.unwrap(),
        Some(state("2026-05-01T11:00:00Z"))
    );

    // The next count replaces the last one; unknown figures stay unknown.
    let unknown = VendorTotals {
        derived: 0,
        vendor_total: None,
        left_out_by_status: None,
        filtered: 0,
        rejected: 0,
        counted_at: "2026-05-02T10:00:00.000Z".into(),
        run_id,
    };
    store
        .set_totals(CONNECTION, ATTENDEES, &unknown)
        .await
        .unwrap();
    assert_eq!(
        store.totals(CONNECTION, ATTENDEES).await.unwrap(),
        Some(unknown)
    );
    assert_eq!(store.totals(CONNECTION, "sessions").await.unwrap(), None);
    assert_eq!(store.totals("other", ATTENDEES).await.unwrap(), None);
    // They survive reopening (the migration added a column, not a cache).
    let reopened = db.reopen().await;
    assert!(
        reopened
            .totals(CONNECTION, ATTENDEES)
            .await
            .unwrap()
            .is_some()
    );
    reopened.close().await;
}

async fn runs_go_from_start_through_progress_to_finish_newest_first(db: TestDatabase) {
    let store = &db.store;
    let first = start(store).await;
    let other = store.start_run(&new_run("bizzabo")).await.unwrap();
    let preview = store
        .start_run(&NewRun {
            kind: "preview".into(),
            ..new_run(CONNECTION)
        })
        .await
        .unwrap();
    assert!(first < other && other < preview, "ids increase");

    let running = store.run(preview).await.unwrap().unwrap();
    assert_eq!(running.status, "running");
    assert_eq!(running.kind, "preview");
    assert_eq!(
        running.data_types,
        vec![ATTENDEES.to_string(), "sessions".to_string()]
    );
    assert_eq!(running.cursor_before, json!({"attendees": null}));
    assert_eq!(running.cursor_after, Value::Null);
    assert_eq!(running.finished_at, None);
    assert!(running.counts.is_empty());
    assert!(chrono::DateTime::parse_from_rfc3339(&running.started_at).is_ok());

    // A preview writes counters only.
    let counts = BTreeMap::from([("create".to_string(), 7), ("unchanged".to_string(), 3)]);
    store
        .add_run_progress(preview, ATTENDEES, &counts, 4)
        .await
        .unwrap();
    store
        .add_run_progress(preview, ATTENDEES, &counts, 1)
        .await
        .unwrap();
    store
        .add_run_progress(
            preview,
            "sessions",
            &BTreeMap::from([("update".to_string(), 2)]),
            1,
        )
        .await
        .unwrap();
    assert_eq!(store.count(CONNECTION, ATTENDEES).await.unwrap(), 0);
    let progressed = store.run(preview).await.unwrap().unwrap();
    assert_eq!(
        progressed.counts[ATTENDEES],
        BTreeMap::from([("create".to_string(), 14), ("unchanged".to_string(), 6)])
    );
    assert_eq!(progressed.counts["sessions"]["update"], 2);
    assert_eq!(progressed.api_calls, 6);
    store.heartbeat_run(preview).await.unwrap();

    let outcome = RunOutcome {
        status: "paused_quota".into(),
        cursor_after: json!({"attendees": "2026-05-01T00:00:00Z"}),
        errors: vec!["Cvent daily quota exhausted".into()],
        resets_at: Some("2026-05-02T00:00:00Z".into()),
    };
    store.finish_run(preview, &outcome).await.unwrap();
    let finished = store.run(preview).await.unwrap().unwrap();
    assert_eq!(finished.status, "paused_quota");
    assert_eq!(finished.cursor_after, outcome.cursor_after);
    assert_eq!(finished.errors, outcome.errors);
    assert_eq!(finished.resets_at, outcome.resets_at);
    let finished_at = finished.finished_at.clone().expect("finished_at is set");
    assert!(finished_at >= finished.started_at);
    assert_eq!(
        finished.counts, progressed.counts,
        "finishing keeps the counts"
    );

    let listed: Vec<i64> = store
        .runs(None, 10)
        .await
        .unwrap()
        .iter()
        .map(|run| run.id)
        .collect();
    assert_eq!(listed, vec![preview, other, first]);
    let mine: Vec<i64> = store
        .runs(Some(CONNECTION), 10)
        .await
        .unwrap()
        .iter()
        .map(|run| run.id)
        .collect();
    assert_eq!(mine, vec![preview, first]);
    let newest: Vec<i64> = store
        .runs(None, 2)
        .await
        .unwrap()
        .iter()
        .map(|run| run.id)
        .collect();
    assert_eq!(newest, vec![preview, other]);
    assert!(store.runs(Some("nobody"), 10).await.unwrap().is_empty());
    assert_eq!(
        store.runs(None, 10).await.unwrap()[0],
        finished,
        "listing and lookup agree"
    );
    assert_eq!(store.run(preview + 1000).await.unwrap(), None);
}

async fn finishing_rejects_unknown_statuses_and_runs(db: TestDatabase) {
    let store = &db.store;
    let run_id = start(store).await;
    let outcome = |status: &str| RunOutcome {
        status: status.into(),
        cursor_after: Value::Null,
        errors: vec![],
        resets_at: None,
    };
    let error = store
        .finish_run(run_id, &outcome("done"))
        .await
        .expect_err("unknown status");
    assert!(error.to_string().contains("succeeded, partial"), "{error}");
    assert_eq!(store.run(run_id).await.unwrap().unwrap().status, "running");

    for missing in [
        store.finish_run(run_id + 1000, &outcome("failed")).await,
        store
            .add_run_progress(run_id + 1000, ATTENDEES, &BTreeMap::new(), 1)
            .await,
        store.heartbeat_run(run_id + 1000).await,
    ] {
        let error = missing.expect_err("a missing run is an error");
        assert!(error.to_string().contains("does not exist"), "{error}");
    }
    for status in store::FINISHED_RUN_STATUSES {
        store.finish_run(run_id, &outcome(status)).await.unwrap();
        assert_eq!(&store.run(run_id).await.unwrap().unwrap().status, status);
    }
}

async fn stale_runs_of_dead_stores_are_interrupted_live_ones_kept(db: TestDatabase) {
    let store = &db.store;
    let own = start(store).await;
    let finished = start(store).await;
    store
        .finish_run(
            finished,
            &RunOutcome {
                status: "succeeded".into(),
                cursor_after: json!({}),
                errors: vec![],
                resets_at: None,
            },
        )
        .await
        .unwrap();

    // Another store (another process, in effect) starts a run and is still open: its run stays.
    let other = db.reopen().await;
    let others_run = start(&other).await;
    assert_eq!(store.interrupt_stale_runs().await.unwrap(), 0);
    assert_eq!(
        store.run(others_run).await.unwrap().unwrap().status,
        "running"
    );

    // It goes away without finishing its run, as a crashed process would.
    other.close().await;
    drop(other);
    let restarted = db.reopen().await;
    assert_eq!(restarted.interrupt_stale_runs().await.unwrap(), 1);
    let interrupted = restarted.run(others_run).await.unwrap().unwrap();
    assert_eq!(interrupted.status, "interrupted");
    assert!(interrupted.finished_at.is_some());
    assert!(
        interrupted
            .errors
            .iter()
            .any(|error| error.contains("stopped without finishing")),
        "{:?}",
        interrupted.errors
    );

    assert_eq!(
        restarted.run(own).await.unwrap().unwrap().status,
        "running",
        "the first store is alive"
    );
    assert_eq!(
        restarted.run(finished).await.unwrap().unwrap().status,
        "succeeded"
    );
    assert_eq!(
        restarted.interrupt_stale_runs().await.unwrap(),
        0,
        "already interrupted"
    );
}

async fn export_pages_follow_external_id_byte_order(db: TestDatabase) {
    let store = &db.store;
    let run_id = start(store).await;
    let names = [
        "b", "B", "a", "10", "9", "é", "Z", "aa", "a-1", "a_1", "ü", "1",
    ];
    let upserts = names.iter().map(|id| record(id, 1)).collect();
    store
        .commit_page(&page(run_id, upserts, vec![], "c"))
        .await
        .unwrap();
    let mut other = page(run_id, vec![record("0-elsewhere", 1)], vec![], "c");
    other.connection = "bizzabo".into();
    store.commit_page(&other).await.unwrap();

    let mut exported = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let batch = store
            .export_page(Some(CONNECTION), ATTENDEES, after.as_deref(), 5)
            .await
            .unwrap();
        assert!(batch.len() <= 5);
        let Some(last) = batch.last() else { break };
        after = Some(last.external_id.clone());
        exported.extend(batch.into_iter().map(|record| record.external_id));
        pages += 1;
    }
    let mut expected: Vec<String> = names.iter().map(|name| name.to_string()).collect();
    expected.sort(); // Rust orders strings by their UTF-8 bytes.
    assert_eq!(exported, expected);
    assert_eq!(pages, 3);
    assert!(
        store
            .export_page(Some(CONNECTION), ATTENDEES, None, 0)
            .await
            .unwrap()
            .is_empty()
    );
    let from_middle = store
        .export_page(Some(CONNECTION), ATTENDEES, Some("a"), 2)
        .await
        .unwrap();
    let from_middle: Vec<&str> = from_middle
        .iter()
        .map(|record| record.external_id.as_str())
        .collect();
    assert_eq!(from_middle, ["a-1", "a_1"]);
}

async fn export_across_connections_never_splits_an_id_between_pages(db: TestDatabase) {
    let store = &db.store;
    let run_id = start(store).await;
    // Ids 0..6 under connection A, 3..9 under B: ids 3, 4, 5 are held by both.
    for (connection, range) in [("conn-a", 0..6), ("conn-b", 3..9)] {
        let mut commit = page(
            run_id,
            ids(range).iter().map(|id| record(id, 1)).collect(),
            vec![],
            "c",
        );
        commit.connection = connection.into();
        store.commit_page(&commit).await.unwrap();
    }
    let mut exported: Vec<String> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        // A limit of 4 ends the first page in the middle of id 3's two copies.
        let batch = store
            .export_page(None, ATTENDEES, after.as_deref(), 4)
            .await
            .unwrap();
        let Some(last) = batch.last() else { break };
        after = Some(last.external_id.clone());
        exported.extend(batch.into_iter().map(|record| record.external_id));
    }
    let mut expected: Vec<String> = ids(0..6).into_iter().chain(ids(3..9)).collect();
    expected.sort();
    assert_eq!(exported, expected, "every copy of every id, in id order");
}

async fn concurrent_commits_from_two_stores_all_land(db: TestDatabase) {
    let second = db.reopen().await;
    let run_id = start(&db.store).await;
    let mut writers = Vec::new();
    for writer in 0..8usize {
        let store = if writer % 2 == 0 {
            db.store.clone()
        } else {
            second.clone()
        };
        writers.push(tokio::spawn(async move {
            for page_number in 0..5usize {
                let base = writer * 1000 + page_number * 100;
                let mut commit = page(
                    run_id,
                    ids(base..base + 100)
                        .iter()
                        .map(|id| record(id, 1))
                        .collect(),
                    vec![],
                    "c",
                );
                commit.data_type = format!("type-{writer}");
                commit.counts = BTreeMap::from([("create".to_string(), 100)]);
                store
                    .commit_page(&commit)
                    .await
                    .expect("a concurrent commit lands");
                store
                    .add_run_progress(
                        run_id,
                        "previewed",
                        &BTreeMap::from([("seen".to_string(), 1)]),
                        1,
                    )
                    .await
                    .expect("concurrent progress lands");
            }
        }));
    }
    for writer in writers {
        writer.await.expect("writer task");
    }
    for writer in 0..8 {
        assert_eq!(
            db.store
                .count(CONNECTION, &format!("type-{writer}"))
                .await
                .unwrap(),
            500
        );
    }
    let run = second.run(run_id).await.unwrap().unwrap();
    assert_eq!(run.api_calls, 80, "no increment was lost");
    assert_eq!(run.counts["previewed"]["seen"], 40);
    assert_eq!(
        run.counts
            .values()
            .filter_map(|actions| actions.get("create"))
            .sum::<u64>(),
        4000
    );
}

async fn records_round_trip_unicode_numbers_and_nesting(db: TestDatabase) {
    let store = &db.store;
    let run_id = start(store).await;
    let mut fields = Map::new();
    fields.insert("name".into(), json!("Zoë Ø'Brien \"quoted\" 😀 \\ back"));
    fields.insert("big".into(), json!(u64::MAX));
    fields.insert("negative".into(), json!(-42));
    fields.insert("fraction".into(), json!(0.1));
    fields.insert("flag".into(), json!(false));
    fields.insert("nothing".into(), Value::Null);
    fields.insert("tags".into(), json!(["vip", "speaker"]));
    let raw = json!({"deep": {"list": [1, {"x": [null, true]}], "empty": {}}, "text": "line\nbreak\ttab"});
    let original = StoredRecord {
        external_id: "ünï-çødé/1 ?&=".into(),
        fields,
        raw: store::RawJson::from_value(&raw),
        updated_at: String::new(),
    };
    store
        .commit_page(&page(run_id, vec![original.clone()], vec![], "c"))
        .await
        .unwrap();
    let stored = store
        .records(
            CONNECTION,
            ATTENDEES,
            std::slice::from_ref(&original.external_id),
        )
        .await
        .unwrap();
    let stored = &stored[&original.external_id];
    assert_eq!(stored.fields, original.fields);
    assert_eq!(stored.raw, original.raw);
    let exported = store
        .export_page(Some(CONNECTION), ATTENDEES, None, 10)
        .await
        .unwrap();
    assert_eq!(&exported[0], stored);
}

// ---------------------------------------------------------------------------------------------
// Opening errors (no database needed)

#[tokio::test]
async fn a_refused_postgres_url_explains_and_hides_its_password() {
    let error = Store::open("postgres://eventsync:hunter2-secret@127.0.0.1:1/events")
        .await
        .expect_err("nothing listens on port 1");
    let message = error.to_string();
    assert!(matches!(error, StoreError::Open { .. }), "{error:?}");
    assert!(!message.contains("hunter2-secret"), "{message}");
    assert!(
        !format!("{error:?}").contains("hunter2-secret"),
        "{error:?}"
    );
    assert!(
        message
            .starts_with("cannot open PostgreSQL at postgres://eventsync:***@127.0.0.1:1/events: "),
        "{message}"
    );
    assert!(
        message.contains("connection refused — is the server running? check --database"),
        "{message}"
    );
}

#[tokio::test]
async fn an_unsupported_url_is_refused_without_its_password() {
    let error = Store::open("mysql://root:topsecret@db/events")
        .await
        .expect_err("mysql is not supported");
    let message = error.to_string();
    assert!(!message.contains("topsecret"), "{message}");
    assert!(
        message.contains("unsupported kind of database"),
        "{message}"
    );
}

#[tokio::test]
async fn a_sqlite_file_in_a_missing_directory_says_what_to_check() {
    let path = std::env::temp_dir()
        .join(unique_name("no_such_dir"))
        .join("store.db");
    let error = Store::open(&path.display().to_string())
        .await
        .expect_err("the directory does not exist");
    let message = error.to_string();
    assert!(message.starts_with("cannot open SQLite at "), "{message}");
    assert!(message.contains("does the directory exist"), "{message}");
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_refused_untouched() {
    let path = std::env::temp_dir().join(format!("{}.db", unique_name("not_a_database")));
    let content = "this is a text file, not SQLite ".repeat(200);
    std::fs::write(&path, &content).unwrap();
    let error = Store::open(&path.display().to_string())
        .await
        .expect_err("not a database");
    let left = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(
        error.to_string().contains("eventsync SQLite file"),
        "{error}"
    );
    assert_eq!(left, content);
}

#[tokio::test]
async fn sqlite_urls_and_memory_databases_open() {
    let memory = Store::open("sqlite::memory:")
        .await
        .expect("in-memory store");
    let run_id = memory.start_run(&new_run(CONNECTION)).await.unwrap();
    memory
        .commit_page(&page(run_id, vec![record("att-1", 1)], vec![], "c"))
        .await
        .unwrap();
    // The in-memory database outlives idle periods and is shared by reads and writes.
    assert_eq!(memory.count(CONNECTION, ATTENDEES).await.unwrap(), 1);
    assert_eq!(memory.run(run_id).await.unwrap().unwrap().api_calls, 1);

    let path = std::env::temp_dir().join(format!("{}.db", unique_name("url_form")));
    let url = format!("sqlite://{}", path.display());
    let store = Store::open(&url).await.expect("sqlite:// URL");
    assert_eq!(store.backend(), Backend::Sqlite);
    store.close().await;
    assert!(path.exists(), "the file was created");
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.clone().into_os_string();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
}

#[tokio::test]
async fn open_in_schema_is_for_postgres_only() {
    let error = Store::open_in_schema("sqlite::memory:", "tenant_a")
        .await
        .expect_err("SQLite has no schemas");
    assert!(error.to_string().contains("PostgreSQL only"), "{error}");
}

#[test]
fn record_sets_compare_as_sets() {
    // Guards the helpers above: ids() yields distinct, ordered ids.
    let generated = ids(0..1000);
    let distinct: BTreeSet<&String> = generated.iter().collect();
    assert_eq!(distinct.len(), 1000);
    assert!(generated.windows(2).all(|pair| pair[0] < pair[1]));
}

/// In SQLite a stream's records are packed with a dictionary made from its first records
/// (`packing.rs`); a store opened before that dictionary existed finds it when it reads them.
async fn a_store_opened_earlier_reads_records_another_wrote_since(db: TestDatabase) {
    let earlier = db.reopen().await;
    let run_id = start(&db.store).await;
    let written: Vec<StoredRecord> = ids(0..300).iter().map(|id| record(id, 3)).collect();
    for chunk in written.chunks(150) {
        db.store
            .commit_page(&page(run_id, chunk.to_vec(), vec![], "c"))
            .await
            .unwrap();
    }
    for store in [&earlier, &db.store, &db.reopen().await] {
        let found = store
            .records(CONNECTION, ATTENDEES, &ids(0..300))
            .await
            .unwrap();
        assert_eq!(found.len(), 300);
        for expected in &written {
            let stored = &found[&expected.external_id];
            assert_eq!(stored.fields, expected.fields);
            assert_eq!(stored.raw, expected.raw);
        }
    }
}

/// Regression: of two `eventsync` commands started together on one SQLite file, one failed at
/// once with "database is locked" while opening it. Each child here is a process of its own (this
/// test binary again, running only this test), since SQLite's locks between processes are what
/// raced, and opens and closes the file over and over.
#[tokio::test]
async fn opening_one_sqlite_file_from_many_processes_at_once_never_fails() {
    const CHILD: &str = "EVENTSYNC_TEST_OPEN_CHILD";
    const START_AT: &str = "EVENTSYNC_TEST_OPEN_AT";
    let since_epoch = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("a clock after 1970")
    };
    if let Ok(url) = std::env::var(CHILD) {
        // All children open at one instant, as two commands started together do.
        let at: u128 = std::env::var(START_AT).unwrap().parse().unwrap();
        let wait = at.saturating_sub(since_epoch().as_micros());
        std::thread::sleep(Duration::from_micros(wait as u64));
        for _ in 0..10 {
            let store = Store::open(&url)
                .await
                .expect("opening from a child process");
            store.close().await;
        }
        return;
    }
    let test = "opening_one_sqlite_file_from_many_processes_at_once_never_fails";
    for _ in 0..10 {
        let path = std::env::temp_dir().join(format!("{}.db", unique_name("eventsync_opens")));
        let url = path.display().to_string();
        let at = (since_epoch() + Duration::from_millis(300)).as_micros();
        let children: Vec<_> = (0..6)
            .map(|_| {
                std::process::Command::new(std::env::current_exe().expect("this test binary"))
                    .args(["--exact", test, "--nocapture", "--test-threads", "1"])
                    .env(CHILD, &url)
                    .env(START_AT, at.to_string())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("start a child process")
            })
            .collect();
        let failures: Vec<String> = children
            .into_iter()
            .map(|child| child.wait_with_output().expect("a child process"))
            .filter(|output| !output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stderr).into_owned())
            .collect();
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{url}{suffix}"));
        }
        assert!(failures.is_empty(), "{failures:?}");
    }
}

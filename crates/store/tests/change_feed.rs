//! The change feed's contract on SQLite and PostgreSQL: every change a page or the API applies
//! is appended in the same transaction, in commit order; consumers move their checkpoint with
//! the outbox items they make, once each, even when several read at the same time.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};
use store::{
    Consumed, FeedAction, FeedChange, FeedEntry, FeedQuery, NewOutboxItem, NewRun, OutboxOperation,
    OutboxQuery, PageCommit, RawJson, StoredRecord, SyncState, Upsert,
};

mod support;

use support::{TestDatabase, on_both_backends, on_postgres, on_sqlite};

on_both_backends!(
    a_page_appends_its_changes_and_removals_in_order,
    changes_filter_by_type_connection_and_position,
    records_written_over_the_api_are_in_the_feed,
    a_consumer_stores_its_items_and_checkpoint_together,
    concurrent_consumers_never_read_the_same_change,
    concurrent_writers_leave_no_gap_behind_a_reader,
    destination_links_and_used_links,
    odd_values_come_back_from_the_feed_as_they_went_in,
);

const CONNECTION: &str = "cvent";

async fn run(store: &store::Store) -> i64 {
    store
        .start_run(&NewRun {
            connection: CONNECTION.to_string(),
            kind: "sync".to_string(),
            data_types: vec!["people".to_string()],
            cursor_before: json!({}),
        })
        .await
        .expect("starting a run")
}

fn fields(status: &str) -> RawJson {
    RawJson::of(&json!({"status": {"type": "text", "value": status}}))
}

fn page(run_id: i64, data_type: &str, ids: &[&str], removals: &[&str]) -> PageCommit {
    PageCommit {
        run_id,
        connection: CONNECTION.to_string(),
        data_type: data_type.to_string(),
        upserts: ids
            .iter()
            .map(|id| Upsert {
                external_id: id.to_string(),
                fields: fields("registered"),
                raw: RawJson::of(&json!({"id": id})),
            })
            .collect(),
        removals: removals.iter().map(|id| id.to_string()).collect(),
        feed: ids
            .iter()
            .map(|id| FeedEntry {
                external_id: id.to_string(),
                action: FeedAction::Create,
                before: None,
                after: Some(fields("registered")),
            })
            .collect(),
        state: SyncState::default(),
        counts: BTreeMap::new(),
        api_calls: 0,
    }
}

fn all() -> FeedQuery {
    FeedQuery {
        limit: 1000,
        ..FeedQuery::default()
    }
}

async fn a_page_appends_its_changes_and_removals_in_order(db: TestDatabase) {
    let store = db.store;
    let run_id = run(&store).await;
    store
        .commit_page(&page(run_id, "people", &["a", "b"], &[]))
        .await
        .unwrap();
    let mut update = page(run_id, "people", &["a"], &["b"]);
    update.feed = vec![FeedEntry {
        external_id: "a".into(),
        action: FeedAction::Cancel,
        before: Some(RawJson::of(
            &json!({"status": {"type": "text", "value": "registered"}}),
        )),
        after: Some(RawJson::of(
            &json!({"status": {"type": "text", "value": "cancelled"}}),
        )),
    }];
    store.commit_page(&update).await.unwrap();

    let changes = store.changes(&all()).await.unwrap();
    let seen: Vec<(&str, FeedAction)> = changes
        .iter()
        .map(|c| (c.external_id.as_str(), c.action))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("a", FeedAction::Create),
            ("b", FeedAction::Create),
            ("a", FeedAction::Cancel),
            ("b", FeedAction::Remove),
        ]
    );
    assert!(changes.windows(2).all(|w| w[0].position < w[1].position));
    assert!(changes.iter().all(|c| c.run_id == Some(run_id)));
    assert_eq!(
        changes[2].after,
        Some(json!({"status": {"type": "text", "value": "cancelled"}}))
    );
    assert_eq!(changes[3].before, None);
    assert_eq!(store.feed_position().await.unwrap(), changes[3].position);
}

async fn changes_filter_by_type_connection_and_position(db: TestDatabase) {
    let store = db.store;
    let run_id = run(&store).await;
    store
        .commit_page(&page(run_id, "people", &["p1", "p2"], &[]))
        .await
        .unwrap();
    store
        .commit_page(&page(run_id, "sessions", &["s1"], &[]))
        .await
        .unwrap();
    let sessions = store
        .changes(&FeedQuery {
            data_types: vec!["sessions".into()],
            ..all()
        })
        .await
        .unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].external_id, "s1");

    let everything = store.changes(&all()).await.unwrap();
    let after_first = store
        .changes(&FeedQuery {
            after: everything[0].position,
            limit: 1,
            ..all()
        })
        .await
        .unwrap();
    assert_eq!(after_first.len(), 1);
    assert_eq!(after_first[0].external_id, "p2");

    let elsewhere = store
        .changes(&FeedQuery {
            connection: Some("aventri".into()),
            ..all()
        })
        .await
        .unwrap();
    assert!(elsewhere.is_empty());
}

async fn records_written_over_the_api_are_in_the_feed(db: TestDatabase) {
    let store = db.store;
    let local = format!("{}reg-1", store::LOCAL_ID_PREFIX);
    let mut record = StoredRecord {
        external_id: local.clone(),
        fields: Map::from_iter([(
            "status".to_string(),
            json!({"type": "text", "value": "registered"}),
        )]),
        raw: RawJson::of(&json!({})),
        updated_at: String::new(),
    };
    store
        .save_local_record(CONNECTION, "session_registrations", &record)
        .await
        .unwrap();
    record.fields.insert(
        "status".into(),
        json!({"type": "text", "value": "cancelled"}),
    );
    store
        .save_local_record(CONNECTION, "session_registrations", &record)
        .await
        .unwrap();
    assert!(
        store
            .remove_local_record(CONNECTION, "session_registrations", &local)
            .await
            .unwrap()
    );
    let changes = store.changes(&all()).await.unwrap();
    let actions: Vec<FeedAction> = changes.iter().map(|c| c.action).collect();
    assert_eq!(
        actions,
        vec![FeedAction::Create, FeedAction::Update, FeedAction::Remove]
    );
    assert!(changes.iter().all(|c| c.run_id.is_none()));
    assert_eq!(
        changes[1].after.as_ref().unwrap()["status"]["value"],
        Value::from("cancelled")
    );
}

fn deliver(change: &FeedChange) -> NewOutboxItem {
    NewOutboxItem {
        connection: "imis".into(),
        operation: OutboxOperation::Deliver,
        session_id: None,
        attendee_id: change.external_id.clone(),
        payload: json!({"source": change.connection}),
        local: false,
    }
}

async fn a_consumer_stores_its_items_and_checkpoint_together(db: TestDatabase) {
    let store = db.store;
    let run_id = run(&store).await;
    store
        .commit_page(&page(run_id, "people", &["a", "b", "a"], &[]))
        .await
        .unwrap();
    let (read, stored) = store
        .consume_feed("imis", 100, &mut |changes: &[FeedChange]| Consumed {
            items: changes.iter().map(deliver).collect(),
            position: changes.last().map_or(0, |c| c.position),
        })
        .await
        .unwrap();
    // "a" twice: the second item is covered by the first, still pending.
    assert_eq!((read, stored), (3, 2));
    assert_eq!(
        store.feed_checkpoint("imis").await.unwrap(),
        store.feed_position().await.unwrap()
    );
    let again = store
        .consume_feed("imis", 100, &mut |_: &[FeedChange]| {
            panic!("nothing is left to read")
        })
        .await
        .unwrap();
    assert_eq!(again, (0, 0));
    let items = store
        .outbox(&OutboxQuery {
            limit: 100,
            ..OutboxQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(items.len(), 2);
    assert!(
        items
            .iter()
            .all(|i| i.operation == OutboxOperation::Deliver)
    );

    // A consumer that stops part-way keeps its place there.
    store
        .commit_page(&page(run_id, "people", &["c", "d"], &[]))
        .await
        .unwrap();
    let (read, _) = store
        .consume_feed("other", 100, &mut |changes: &[FeedChange]| Consumed {
            items: Vec::new(),
            position: changes[1].position,
        })
        .await
        .unwrap();
    assert_eq!(read, 5);
    let next = store
        .consume_feed("other", 100, &mut |changes: &[FeedChange]| {
            assert_eq!(changes[0].external_id, "a");
            Consumed {
                items: Vec::new(),
                position: changes.last().unwrap().position,
            }
        })
        .await
        .unwrap();
    assert_eq!(next.0, 3);
}

async fn concurrent_consumers_never_read_the_same_change(db: TestDatabase) {
    let store = db.store;
    let run_id = run(&store).await;
    let ids: Vec<String> = (0..200).map(|i| format!("p{i:03}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    store
        .commit_page(&page(run_id, "people", &refs, &[]))
        .await
        .unwrap();
    let mut workers = Vec::new();
    for _ in 0..4 {
        let store = store.clone();
        workers.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            loop {
                let mut batch = Vec::new();
                let (read, _) = store
                    .consume_feed("shared", 7, &mut |changes: &[FeedChange]| {
                        batch = changes.iter().map(|c| c.position).collect();
                        Consumed {
                            items: Vec::new(),
                            position: changes.last().map_or(0, |c| c.position),
                        }
                    })
                    .await
                    .unwrap();
                if read == 0 {
                    return seen;
                }
                seen.extend(batch);
            }
        }));
    }
    let mut all_seen = Vec::new();
    for worker in workers {
        all_seen.extend(worker.await.unwrap());
    }
    let unique: BTreeSet<i64> = all_seen.iter().copied().collect();
    assert_eq!(unique.len(), all_seen.len(), "no change read twice");
    assert_eq!(unique.len(), 200, "every change read");
}

async fn concurrent_writers_leave_no_gap_behind_a_reader(db: TestDatabase) {
    let store = db.store;
    let mut writers = Vec::new();
    for writer in 0..4 {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            let run_id = run(&store).await;
            for page_number in 0..15 {
                let ids: Vec<String> = (0..5)
                    .map(|i| format!("w{writer}-{page_number}-{i}"))
                    .collect();
                let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
                store
                    .commit_page(&page(run_id, "people", &refs, &[]))
                    .await
                    .unwrap();
            }
        }));
    }
    // A reader that follows the feed by position while the writers commit: positions it has
    // passed never fill in later.
    let reader = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut after = 0;
            let mut seen = 0;
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while seen < 300 && std::time::Instant::now() < deadline {
                let changes = store
                    .changes(&FeedQuery {
                        after,
                        limit: 50,
                        ..FeedQuery::default()
                    })
                    .await
                    .unwrap();
                for change in &changes {
                    assert!(change.position > after);
                    after = change.position;
                    seen += 1;
                }
                if changes.is_empty() {
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                }
            }
            seen
        })
    };
    for writer in writers {
        writer.await.unwrap();
    }
    assert_eq!(reader.await.unwrap(), 300, "the reader saw every change");
}

async fn destination_links_and_used_links(db: TestDatabase) {
    let store = db.store;
    assert!(
        store
            .destination_link("imis", CONNECTION, "a")
            .await
            .unwrap()
            .is_none()
    );
    store
        .set_destination_link("imis", CONNECTION, "a", Some("23051"), Some("17"))
        .await
        .unwrap();
    store
        .set_destination_link("imis", CONNECTION, "a", Some("23051"), None)
        .await
        .unwrap();
    let link = store
        .destination_link("imis", CONNECTION, "a")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(link.party_id.as_deref(), Some("23051"));
    assert_eq!(link.remote_id, None);

    let later = "2999-01-01T00:00:00.000000Z";
    assert!(store.use_link("site", "n1", later).await.unwrap());
    assert!(!store.use_link("site", "n1", later).await.unwrap());
    assert!(store.use_link("other", "n1", later).await.unwrap());
}

async fn odd_values_come_back_from_the_feed_as_they_went_in(db: TestDatabase) {
    let store = db.store;
    let run_id = run(&store).await;
    // Several scripts, an emoji, quotes and backslashes, and a megabyte of text.
    let odd = "Zoë Ørsted-Łukasz 李小龍 مريم 🎟️ \"quoted\" back\\slash";
    let huge = "ä".repeat(512 * 1024);
    let fields = RawJson::of(&json!({
        "first_name": {"type": "text", "value": odd},
        "notes": {"type": "text", "value": huge},
    }));
    let mut page = page(run_id, "people", &["ünïcode-id-✓"], &[]);
    page.upserts[0].fields = fields.clone();
    page.feed[0].after = Some(fields);
    store.commit_page(&page).await.unwrap();
    let changes = store.changes(&all()).await.unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].external_id, "ünïcode-id-✓");
    let after = changes[0].after.as_ref().unwrap();
    assert_eq!(after["first_name"]["value"], odd);
    assert_eq!(
        after["notes"]["value"].as_str().map(str::len),
        Some(huge.len())
    );
}

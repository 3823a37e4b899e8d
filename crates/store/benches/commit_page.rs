//! How many records per second `Store::commit_page` lands, in 200-record pages of Cvent-sized
//! attendees (about 1 KB of fields and raw JSON each): first as inserts, then as updates of every
//! record, then re-applying the same pages (nothing changes). SQLite runs on a temporary file;
//! PostgreSQL runs in a temporary schema when reachable.
//!
//! The inserts and updates carry their change feed entries as a sync's do (every field of a
//! create, the changed field before and after of an update); `STORE_BENCH_FEED=0` leaves them
//! out, to see what the feed costs. Re-applied pages carry none: a sync's diff finds nothing.
//!
//! Run: `cargo bench -p store --bench commit_page`. `STORE_BENCH_RECORDS` sets how many records
//! each pass writes (default 100000); `EVENTSYNC_TEST_POSTGRES` where PostgreSQL is (default
//! `postgres://postgres@127.0.0.1:5432/test`).

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::{Value, json};
use store::{FeedAction, FeedEntry, NewRun, PageCommit, RawJson, Store, StoredRecord, SyncState};

const PAGE_SIZE: usize = 200;

fn attendee(index: usize, version: u64) -> StoredRecord {
    let id = format!("7c1f5d2e-0a4b-4c39-9d0e-{index:012}");
    let Value::Object(fields) = json!({
        "external_id": id,
        "confirmation_number": format!("QJ7K{index:06}"),
        "first_name": "Ada",
        "last_name": format!("Lovelace {index}"),
        "email": format!("ada{index}@example.com"),
        "company": "Analytical Society",
        "title": "Mathematician",
        "status": "Accepted",
        "registration_type": "Attendee",
        "work_city": "London",
        "work_country": "GB",
        "work_phone": "+44 20 7946 0000",
        "checked_in": false,
        "registered_at": "2026-03-14T09:26:53Z",
        "version": version,
    }) else {
        unreachable!("an object literal")
    };
    let raw = json!({
        "id": id,
        "event": {"id": "b0e3c1a2-5d4f-4e6a-8b7c-9d0e1f2a3b4c"},
        "confirmationNumber": format!("QJ7K{index:06}"),
        "status": "Accepted",
        "contact": {
            "id": format!("4f6a8b2c-1d3e-4a5b-8c7d-{index:012}"),
            "firstName": "Ada",
            "lastName": format!("Lovelace {index}"),
            "email": format!("ada{index}@example.com"),
            "company": "Analytical Society",
            "title": "Mathematician",
            "workAddress": {"address1": "12 St James's Square", "city": "London", "countryCode": "GB"},
            "workPhone": "+44 20 7946 0000",
        },
        "registrationType": {"id": "rt-1", "name": "Attendee"},
        "created": "2026-03-14T09:26:53Z",
        "lastModified": format!("2026-05-01T10:{:02}:{:02}Z", (index / 60) % 60, index % 60),
        "version": version,
    });
    StoredRecord {
        external_id: id,
        fields,
        raw: store::RawJson::from_value(&raw),
        updated_at: String::new(),
    }
}

/// The feed entry a sync's diff makes for `record`: a create, or the version's change.
fn feed_entry(record: &store::Upsert, version: u64) -> FeedEntry {
    match version {
        1 => FeedEntry {
            external_id: record.external_id.clone(),
            action: FeedAction::Create,
            before: None,
            after: Some(record.fields.clone()),
        },
        _ => FeedEntry {
            external_id: record.external_id.clone(),
            action: FeedAction::Update,
            before: Some(RawJson::of(&json!({"version": version - 1}))),
            after: Some(RawJson::of(&json!({"version": version}))),
        },
    }
}

fn pages(run_id: i64, records: usize, version: u64, feed: bool) -> Vec<PageCommit> {
    (0..records)
        .step_by(PAGE_SIZE)
        .map(|start| {
            let upserts: Vec<store::Upsert> = (start..(start + PAGE_SIZE).min(records))
                .map(|index| attendee(index, version).into())
                .collect();
            let feed = if feed {
                upserts
                    .iter()
                    .map(|record| feed_entry(record, version))
                    .collect()
            } else {
                Vec::new()
            };
            (upserts, feed, start)
        })
        .map(|(upserts, feed, start)| PageCommit {
            run_id,
            connection: "cvent".into(),
            data_type: "attendees".into(),
            upserts,
            removals: vec![],
            feed,
            state: SyncState {
                cursor: Some(format!("2026-05-01T10:00:{start:06}Z")),
                ..SyncState::default()
            },
            counts: BTreeMap::from([("create".to_string(), PAGE_SIZE as u64)]),
            api_calls: 1,
        })
        .collect()
}

async fn bench(label: &str, store: &Store, records: usize) {
    let run_id = store
        .start_run(&NewRun {
            connection: "cvent".into(),
            kind: "sync".into(),
            data_types: vec!["attendees".into()],
            cursor_before: Value::Null,
        })
        .await
        .expect("starting the bench run");
    let feed = std::env::var("STORE_BENCH_FEED").map_or(true, |value| value != "0");
    for (pass, version, changes) in [
        ("insert", 1, feed),
        ("update", 2, feed),
        ("unchanged", 2, false),
    ] {
        let pages = pages(run_id, records, version, changes);
        let started = Instant::now();
        for page in &pages {
            store.commit_page(page).await.expect("committing a page");
        }
        let elapsed = started.elapsed();
        println!(
            "{label:<10} {pass:<9} {records:>7} records in {:>6.2} s = {:>8.0} records/s ({:.2} ms per {PAGE_SIZE}-record page)",
            elapsed.as_secs_f64(),
            records as f64 / elapsed.as_secs_f64(),
            elapsed.as_secs_f64() * 1000.0 / pages.len() as f64,
        );
    }
    assert_eq!(
        store.count("cvent", "attendees").await.expect("counting"),
        records as u64
    );
}

#[tokio::main]
async fn main() {
    let records: usize = std::env::var("STORE_BENCH_RECORDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(100_000);
    let unique = uuid::Uuid::new_v4().simple().to_string();

    let path = std::env::temp_dir().join(format!("eventsync_store_bench_{unique}.db"));
    let sqlite = Store::open(&path.display().to_string())
        .await
        .expect("opening SQLite");
    bench("sqlite", &sqlite, records).await;
    sqlite.close().await;
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.clone().into_os_string();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }

    let url = std::env::var("EVENTSYNC_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let schema = format!("store_bench_{unique}");
    match Store::open_in_schema(&url, &schema).await {
        Ok(postgres) => {
            bench("postgres", &postgres, records).await;
            postgres.close().await;
            use sqlx::Connection;
            let mut connection = sqlx::postgres::PgConnection::connect(&url)
                .await
                .expect("connecting");
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA \"{schema}\" CASCADE"
            )))
            .execute(&mut connection)
            .await
            .expect("dropping the bench schema");
        }
        Err(error) => println!("postgres   skipped: {error}"),
    }
}

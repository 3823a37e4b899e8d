//! The serve tables' contract — outbox, webhook inbox, API tokens, auto sync — run against
//! SQLite (a temporary file) and PostgreSQL (a schema of its own per test at
//! `EVENTSYNC_TEST_POSTGRES`, default `postgres://postgres@127.0.0.1:5432/test`).

use std::time::Duration;

use serde_json::json;
use store::{
    AutoSync, DeliveryOutcome, NewOutboxItem, NewRun, NewWebhook, OutboxOperation, OutboxQuery,
    OutboxStatus, RunOutcome, StoreError, TokenScope, WebhookOutcome, WebhookStatus,
};

mod support;

use support::{TestDatabase, on_both_backends, on_postgres, on_sqlite};

on_both_backends!(
    outbox_items_are_claimed_once_and_finish_with_their_outcome,
    an_expired_lease_is_claimed_again_and_the_old_worker_cannot_finish,
    retries_wait_for_their_time_and_local_items_are_never_claimed,
    outbox_lists_filter_and_page,
    webhooks_are_deduplicated_by_stub_in_any_case,
    webhook_processing_is_leased_and_finished_once,
    api_tokens_are_found_by_hash_until_revoked,
    api_tokens_keep_their_scope_and_live_names_are_unique,
    a_running_run_can_be_asked_to_stop_and_an_ended_one_cannot,
    a_failed_outbox_item_is_put_back_in_line_and_no_other,
    auto_sync_settings_are_replaced_per_stream,
    the_serve_tables_survive_a_reopen,
    released_claims_are_claimable_at_once,
    workspace_records_are_written_and_removed_outside_a_sync,
    a_key_lock_is_held_until_released,
);

// ---------------------------------------------------------------------------------------------
// Builders

const CONNECTION: &str = "cvent";

fn enroll(session: &str, attendee: &str) -> NewOutboxItem {
    NewOutboxItem {
        connection: CONNECTION.to_string(),
        operation: OutboxOperation::Enroll,
        session_id: Some(session.to_string()),
        attendee_id: attendee.to_string(),
        payload: json!({}),
        local: false,
    }
}

fn webhook(stub: &str) -> NewWebhook {
    NewWebhook {
        connection: CONNECTION.to_string(),
        message_stub: stub.to_string(),
        event_type: "InviteeOrGuestAccepted".to_string(),
        message_time: Some("2044-04-03T17:14:42.823Z".to_string()),
        body: json!({"eventType": "InviteeOrGuestAccepted", "messageStub": stub, "message": [{"inviteeStub": "A1"}]}),
    }
}

const LEASE: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------------
// Tests

async fn outbox_items_are_claimed_once_and_finish_with_their_outcome(db: TestDatabase) {
    let store = &db.store;
    let first = store.enqueue_outbox(&enroll("s1", "a1")).await.unwrap();
    let second = store.enqueue_outbox(&enroll("s1", "a2")).await.unwrap();
    assert_eq!(first.status, OutboxStatus::Pending);
    assert_eq!(first.attempts, 0);
    assert!(second.id > first.id);

    let claimed = store.claim_outbox(10, LEASE).await.unwrap();
    assert_eq!(
        claimed.iter().map(|item| item.id).collect::<Vec<_>>(),
        vec![first.id, second.id]
    );
    assert!(
        claimed
            .iter()
            .all(|item| item.status == OutboxStatus::Sending && item.attempts == 1)
    );
    assert!(
        store.claim_outbox(10, LEASE).await.unwrap().is_empty(),
        "claimed twice"
    );

    assert!(
        store
            .finish_outbox(first.id, &DeliveryOutcome::Sent)
            .await
            .unwrap()
    );
    let refusal = "Cvent refused the enrollment: the event has no modify-registration widget";
    let failed = DeliveryOutcome::Failed {
        reason: refusal.to_string(),
    };
    assert!(store.finish_outbox(second.id, &failed).await.unwrap());
    assert!(
        !store
            .finish_outbox(second.id, &DeliveryOutcome::Sent)
            .await
            .unwrap(),
        "a finished item was finished again"
    );

    let sent = store.outbox_item(first.id).await.unwrap().unwrap();
    assert_eq!(sent.status, OutboxStatus::Sent);
    assert!(sent.sent_at.is_some());
    let refused = store.outbox_item(second.id).await.unwrap().unwrap();
    assert_eq!(refused.status, OutboxStatus::Failed);
    assert_eq!(refused.last_error.as_deref(), Some(refusal));
    assert!(store.claim_outbox(10, LEASE).await.unwrap().is_empty());
    let counts = store.outbox_counts().await.unwrap();
    assert_eq!(counts.get("sent"), Some(&1));
    assert_eq!(counts.get("failed"), Some(&1));
}

async fn an_expired_lease_is_claimed_again_and_the_old_worker_cannot_finish(db: TestDatabase) {
    let item = db.store.enqueue_outbox(&enroll("s1", "a1")).await.unwrap();
    // A lease that is already over stands for a worker whose process died mid-delivery.
    let claimed = db.store.claim_outbox(1, Duration::ZERO).await.unwrap();
    assert_eq!(claimed.len(), 1);
    tokio::time::sleep(Duration::from_millis(5)).await;

    let other_process = db.reopen().await;
    let again = other_process.claim_outbox(10, LEASE).await.unwrap();
    assert_eq!(again.len(), 1, "an abandoned item must be claimed again");
    assert_eq!(again[0].id, item.id);
    assert_eq!(again[0].attempts, 2);

    assert!(
        !db.store
            .finish_outbox(item.id, &DeliveryOutcome::Sent)
            .await
            .unwrap(),
        "the worker that lost the lease must not record an outcome"
    );
    assert!(
        other_process
            .finish_outbox(item.id, &DeliveryOutcome::Sent)
            .await
            .unwrap()
    );
    other_process.close().await;
}

async fn retries_wait_for_their_time_and_local_items_are_never_claimed(db: TestDatabase) {
    let store = &db.store;
    let mut local = enroll("local-session", "a1");
    local.local = true;
    let local = store.enqueue_outbox(&local).await.unwrap();
    assert_eq!(local.status, OutboxStatus::Local);

    let item = store.enqueue_outbox(&enroll("s1", "a1")).await.unwrap();
    assert_eq!(store.claim_outbox(10, LEASE).await.unwrap().len(), 1);
    let later = DeliveryOutcome::Retry {
        reason: "Cvent answered 503".to_string(),
        at: "2999-01-01T00:00:00.000000Z".to_string(),
    };
    assert!(store.finish_outbox(item.id, &later).await.unwrap());
    assert!(
        store.claim_outbox(10, LEASE).await.unwrap().is_empty(),
        "retried too early"
    );
    let waiting = store.outbox_item(item.id).await.unwrap().unwrap();
    assert_eq!(waiting.status, OutboxStatus::Pending);
    assert_eq!(waiting.last_error.as_deref(), Some("Cvent answered 503"));

    let now = DeliveryOutcome::Retry {
        reason: "Cvent answered 503".to_string(),
        at: "2000-01-01T00:00:00.000000Z".to_string(),
    };
    let claimed = store.claim_outbox(10, LEASE).await.unwrap();
    assert!(claimed.is_empty());
    // Make it due by finishing a fresh claim with a past retry time.
    let second = store.enqueue_outbox(&enroll("s2", "a1")).await.unwrap();
    assert_eq!(
        store.claim_outbox(10, LEASE).await.unwrap()[0].id,
        second.id
    );
    assert!(store.finish_outbox(second.id, &now).await.unwrap());
    let due = store.claim_outbox(10, LEASE).await.unwrap();
    assert_eq!(
        due.iter().map(|item| item.id).collect::<Vec<_>>(),
        vec![second.id]
    );
    assert_eq!(due[0].attempts, 2);
}

async fn outbox_lists_filter_and_page(db: TestDatabase) {
    let store = &db.store;
    let mut ids = Vec::new();
    for attendee in ["a1", "a2", "a3"] {
        ids.push(
            store
                .enqueue_outbox(&enroll("s1", attendee))
                .await
                .unwrap()
                .id,
        );
    }
    let mut check_in = enroll("unused", "a9");
    check_in.operation = OutboxOperation::CheckIn;
    check_in.session_id = None;
    check_in.payload = json!({"checkIn": "2026-05-01T09:00:00Z"});
    let check_in = store.enqueue_outbox(&check_in).await.unwrap();
    assert_eq!(check_in.payload["checkIn"], "2026-05-01T09:00:00Z");

    let first_page = store
        .outbox(&OutboxQuery {
            limit: 2,
            ..OutboxQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        first_page.iter().map(|i| i.id).collect::<Vec<_>>(),
        ids[..2]
    );
    let second_page = store
        .outbox(&OutboxQuery {
            limit: 2,
            after_id: Some(ids[1]),
            ..OutboxQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        second_page.iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![ids[2], check_in.id]
    );

    let of_a2 = store
        .outbox(&OutboxQuery {
            session_id: Some("s1".into()),
            attendee_id: Some("a2".into()),
            limit: 10,
            ..OutboxQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(of_a2.len(), 1);
    assert_eq!(of_a2[0].attendee_id, "a2");
    let pending = store
        .outbox(&OutboxQuery {
            status: Some(OutboxStatus::Pending),
            connection: Some("another".into()),
            limit: 10,
            ..OutboxQuery::default()
        })
        .await
        .unwrap();
    assert!(pending.is_empty());
    assert_eq!(
        store.outbox_counts().await.unwrap().get("pending"),
        Some(&4)
    );
}

async fn webhooks_are_deduplicated_by_stub_in_any_case(db: TestDatabase) {
    let store = &db.store;
    let stub = "C8841527-B089-4B4A-9D8A-0A5B1E2F3C4D";
    let id = store.record_webhook(&webhook(stub)).await.unwrap();
    assert!(id.is_some());
    assert_eq!(store.record_webhook(&webhook(stub)).await.unwrap(), None);
    assert_eq!(
        store
            .record_webhook(&webhook(&stub.to_lowercase()))
            .await
            .unwrap(),
        None,
        "stubs differ only in case"
    );
    let mut other_connection = webhook(stub);
    other_connection.connection = "cvent-eu".into();
    assert!(
        store
            .record_webhook(&other_connection)
            .await
            .unwrap()
            .is_some()
    );
    let kept = store.webhooks(Some(CONNECTION), None, 10).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].message_stub, stub.to_lowercase());
    assert_eq!(kept[0].body["message"][0]["inviteeStub"], "A1");
    assert_eq!(kept[0].status, WebhookStatus::Pending);
}

async fn webhook_processing_is_leased_and_finished_once(db: TestDatabase) {
    let store = &db.store;
    let first = store
        .record_webhook(&webhook("stub-1"))
        .await
        .unwrap()
        .unwrap();
    let second = store
        .record_webhook(&webhook("stub-2"))
        .await
        .unwrap()
        .unwrap();
    let claimed = store.claim_webhooks(10, LEASE).await.unwrap();
    assert_eq!(
        claimed.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![first, second]
    );
    assert!(store.claim_webhooks(10, LEASE).await.unwrap().is_empty());
    assert!(
        store
            .finish_webhook(first, &WebhookOutcome::Done)
            .await
            .unwrap()
    );
    assert!(
        !store
            .finish_webhook(first, &WebhookOutcome::Done)
            .await
            .unwrap()
    );
    let retry = WebhookOutcome::Retry {
        reason: "Cvent unreachable".into(),
    };
    assert!(store.finish_webhook(second, &retry).await.unwrap());
    let again = store.claim_webhooks(10, LEASE).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 2);
    assert!(
        store
            .finish_webhook(second, &WebhookOutcome::Ignored)
            .await
            .unwrap()
    );
    let counts = store.webhook_counts().await.unwrap();
    assert_eq!(counts.get("done"), Some(&1));
    assert_eq!(counts.get("ignored"), Some(&1));
    let listed = store.webhooks(None, Some(first), 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].processed_at.is_some());
}

async fn api_tokens_are_found_by_hash_until_revoked(db: TestDatabase) {
    let store = &db.store;
    let token = store
        .add_api_token("check-in desk", "hash-one")
        .await
        .unwrap();
    assert_eq!(token.name, "check-in desk");
    assert!(
        store.add_api_token("again", "hash-one").await.is_err(),
        "hashes are unique"
    );
    assert_eq!(
        store
            .api_token_by_hash("hash-one")
            .await
            .unwrap()
            .map(|t| t.id),
        Some(token.id)
    );
    assert_eq!(store.api_token_by_hash("hash-two").await.unwrap(), None);
    assert!(store.revoke_api_token(token.id).await.unwrap());
    assert!(!store.revoke_api_token(token.id).await.unwrap());
    assert_eq!(store.api_token_by_hash("hash-one").await.unwrap(), None);
    let listed = store.api_tokens().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].revoked_at.is_some());
}

async fn api_tokens_keep_their_scope_and_live_names_are_unique(db: TestDatabase) {
    let store = &db.store;
    let desk = store
        .add_scoped_api_token("check-in desk", "hash-desk", TokenScope::Write)
        .await
        .unwrap();
    assert_eq!(desk.scope, TokenScope::Write);
    let found = store.api_token_by_hash("hash-desk").await.unwrap().unwrap();
    assert_eq!(found.scope, TokenScope::Write);
    assert_eq!(
        store.add_api_token("ops", "hash-ops").await.unwrap().scope,
        TokenScope::Admin,
        "a token without a scope may do everything, as before scopes"
    );
    let duplicate = store
        .add_scoped_api_token("check-in desk", "hash-other", TokenScope::Read)
        .await;
    assert!(
        matches!(&duplicate, Err(StoreError::Conflict(message)) if message.contains("'check-in desk'")),
        "{duplicate:?}"
    );
    assert_eq!(
        store.live_api_token("check-in desk").await.unwrap(),
        Some(desk.clone())
    );
    // Once revoked, the name is free for the token that replaces it.
    assert!(store.revoke_api_token(desk.id).await.unwrap());
    assert_eq!(store.live_api_token("check-in desk").await.unwrap(), None);
    let replacement = store
        .add_scoped_api_token("check-in desk", "hash-other", TokenScope::Read)
        .await
        .unwrap();
    assert_eq!(replacement.scope, TokenScope::Read);
    let listed = store.api_tokens().await.unwrap();
    let scopes: Vec<(&str, TokenScope, bool)> = listed
        .iter()
        .map(|t| (t.name.as_str(), t.scope, t.revoked_at.is_some()))
        .collect();
    assert_eq!(
        scopes,
        vec![
            ("check-in desk", TokenScope::Write, true),
            ("ops", TokenScope::Admin, false),
            ("check-in desk", TokenScope::Read, false),
        ]
    );
}

async fn a_running_run_can_be_asked_to_stop_and_an_ended_one_cannot(db: TestDatabase) {
    let store = &db.store;
    let run = |connection: &str| NewRun {
        connection: connection.to_string(),
        kind: "sync".to_string(),
        data_types: vec!["people".to_string()],
        cursor_before: json!({}),
    };
    let running = store.start_run(&run("cvent")).await.unwrap();
    let ended = store.start_run(&run("aventri")).await.unwrap();
    store
        .finish_run(
            ended,
            &RunOutcome {
                status: "succeeded".to_string(),
                cursor_after: json!({}),
                errors: Vec::new(),
                resets_at: None,
            },
        )
        .await
        .unwrap();
    assert!(!store.run_cancel_requested(running).await.unwrap());
    assert!(store.request_run_cancel(running).await.unwrap());
    assert!(store.run_cancel_requested(running).await.unwrap());
    assert!(
        store.request_run_cancel(running).await.unwrap(),
        "asking twice is no error"
    );
    assert!(!store.request_run_cancel(ended).await.unwrap());
    assert!(!store.run_cancel_requested(ended).await.unwrap());
    assert!(!store.request_run_cancel(ended + 100).await.unwrap());
    assert!(!store.run_cancel_requested(ended + 100).await.unwrap());
}

async fn a_failed_outbox_item_is_put_back_in_line_and_no_other(db: TestDatabase) {
    let store = &db.store;
    let failed = store.enqueue_outbox(&enroll("s1", "a1")).await.unwrap();
    let waiting = store.enqueue_outbox(&enroll("s1", "a2")).await.unwrap();
    let claimed = store.claim_outbox(1, LEASE).await.unwrap();
    assert_eq!(claimed[0].id, failed.id);
    store
        .finish_outbox(
            failed.id,
            &DeliveryOutcome::Failed {
                reason: "Cvent refused: session full".to_string(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        store.outbox_item(failed.id).await.unwrap().unwrap().status,
        OutboxStatus::Failed
    );
    let retried = store
        .retry_outbox(failed.id)
        .await
        .unwrap()
        .expect("retried");
    assert_eq!(retried.status, OutboxStatus::Pending);
    assert_eq!(retried.attempts, 0);
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    assert!(retried.next_attempt_at <= now, "due now");
    // Only a failed item goes back: a pending one, or one retried already, is left alone.
    assert_eq!(store.retry_outbox(failed.id).await.unwrap(), None);
    assert_eq!(store.retry_outbox(waiting.id).await.unwrap(), None);
    assert_eq!(store.retry_outbox(failed.id + 100).await.unwrap(), None);
    let due: Vec<i64> = store
        .claim_outbox(10, LEASE)
        .await
        .unwrap()
        .iter()
        .map(|item| item.id)
        .collect();
    assert!(due.contains(&failed.id), "claimed again: {due:?}");
}

async fn auto_sync_settings_are_replaced_per_stream(db: TestDatabase) {
    let store = &db.store;
    let setting = |data_type: &str, enabled: bool, interval_seconds: u32| AutoSync {
        connection: CONNECTION.to_string(),
        data_type: data_type.to_string(),
        enabled,
        interval_seconds,
        updated_at: String::new(),
    };
    store
        .set_auto_sync(&setting("people", true, 60))
        .await
        .unwrap();
    store
        .set_auto_sync(&setting("sessions", false, 900))
        .await
        .unwrap();
    let stored = store
        .set_auto_sync(&setting("people", false, 300))
        .await
        .unwrap();
    assert!(!stored.enabled);
    assert!(!stored.updated_at.is_empty());
    let all = store.auto_sync(Some(CONNECTION)).await.unwrap();
    assert_eq!(
        all.iter()
            .map(|s| (s.data_type.as_str(), s.enabled, s.interval_seconds))
            .collect::<Vec<_>>(),
        vec![("people", false, 300), ("sessions", false, 900)]
    );
    assert!(store.auto_sync(Some("other")).await.unwrap().is_empty());
    // 0 leaves the interval to the scheduler's account plan.
    let planned = store
        .set_auto_sync(&setting("people", true, 0))
        .await
        .unwrap();
    assert_eq!(planned.interval_seconds, 0);
}

async fn the_serve_tables_survive_a_reopen(db: TestDatabase) {
    let item = db.store.enqueue_outbox(&enroll("s1", "a1")).await.unwrap();
    db.store.record_webhook(&webhook("stub")).await.unwrap();
    let reopened = db.reopen().await;
    assert_eq!(reopened.outbox_item(item.id).await.unwrap(), Some(item));
    assert_eq!(reopened.webhooks(None, None, 10).await.unwrap().len(), 1);
    assert!(reopened.schema_version().await.unwrap() >= 2);
    reopened.close().await;
}

async fn released_claims_are_claimable_at_once(db: TestDatabase) {
    let item = db.store.enqueue_outbox(&enroll("s1", "a1")).await.unwrap();
    db.store.record_webhook(&webhook("stub")).await.unwrap();
    assert_eq!(db.store.claim_outbox(10, LEASE).await.unwrap().len(), 1);
    assert_eq!(db.store.claim_webhooks(10, LEASE).await.unwrap().len(), 1);
    let restarted = db.reopen().await;
    assert!(
        restarted.claim_outbox(10, LEASE).await.unwrap().is_empty(),
        "the lease holds"
    );
    assert_eq!(restarted.release_claims().await.unwrap(), 2);
    let again = restarted.claim_outbox(10, LEASE).await.unwrap();
    assert_eq!(
        again.iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![item.id]
    );
    assert_eq!(restarted.claim_webhooks(10, LEASE).await.unwrap().len(), 1);
    restarted.close().await;
}

async fn workspace_records_are_written_and_removed_outside_a_sync(db: TestDatabase) {
    let store = db.store;
    let record = |title: &str| store::StoredRecord {
        external_id: "local-s1".to_string(),
        fields: json!({"title": {"type": "text", "value": title}})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        raw: store::RawJson::from_value(&json!({"created_in": "workspace"})),
        updated_at: String::new(),
    };
    store
        .save_local_record(CONNECTION, "sessions", &record("Meet-up"))
        .await
        .unwrap();
    store
        .save_local_record(CONNECTION, "sessions", &record("Meet-up at six"))
        .await
        .unwrap();
    let found = store
        .records(CONNECTION, "sessions", &["local-s1".to_string()])
        .await
        .unwrap();
    assert_eq!(
        found["local-s1"].fields["title"],
        json!({"type": "text", "value": "Meet-up at six"})
    );
    assert_eq!(store.count(CONNECTION, "sessions").await.unwrap(), 1);
    // An imported record's id is refused: only a sync writes those.
    let mut imported = record("Keynote");
    imported.external_id = "0b4c2f6e-1d1e-4b5c-9a5e-1f2d3c4b5a69".to_string();
    assert!(matches!(
        store.save_local_record(CONNECTION, "sessions", &imported).await,
        Err(StoreError::Query(message)) if message.contains("imported")
    ));
    assert!(
        store
            .remove_local_record(CONNECTION, "sessions", "local-s1")
            .await
            .unwrap()
    );
    assert!(
        !store
            .remove_local_record(CONNECTION, "sessions", "local-s1")
            .await
            .unwrap()
    );
    assert_eq!(store.count(CONNECTION, "sessions").await.unwrap(), 0);
}

async fn a_key_lock_is_held_until_released(db: TestDatabase) {
    let store = db.store.clone();
    let other = db.reopen().await;
    let held = store.lock("seats/cvent/s1").await.unwrap();
    // Another key is free at once.
    let unrelated = tokio::time::timeout(Duration::from_secs(5), other.lock("seats/cvent/s2"))
        .await
        .expect("another key is not held")
        .unwrap();
    unrelated.release().await.unwrap();
    if store.backend() == store::Backend::Postgres {
        // Another process (another pool) waits for the key while it is held.
        let waiting = tokio::spawn({
            let other = other.clone();
            async move {
                other
                    .lock("seats/cvent/s1")
                    .await
                    .map(|lock| (std::time::Instant::now(), lock))
            }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!waiting.is_finished(), "the second holder waits");
        let released_at = std::time::Instant::now();
        held.release().await.unwrap();
        let (acquired_at, lock) = waiting.await.unwrap().unwrap();
        assert!(acquired_at >= released_at);
        lock.release().await.unwrap();
    } else {
        held.release().await.unwrap();
    }
    other.close().await;
}

/// Tokens made before scopes existed may do everything after the upgrade, and two live tokens
/// that shared a name are told apart by their id, so each can be revoked by name.
#[tokio::test]
async fn tokens_made_before_scopes_become_admin_with_names_made_unique() {
    use sqlx::Connection as _;
    let path = std::env::temp_dir().join(format!(
        "{}.db",
        support::unique_name("eventsync_tokens_before_scopes")
    ));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let mut connection = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::raw_sql(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )
    .execute(&mut connection)
    .await
    .unwrap();
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    for (version, file) in files.iter().take(8).enumerate() {
        sqlx::raw_sql(sqlx::AssertSqlSafe(std::fs::read_to_string(file).unwrap()))
            .execute(&mut connection)
            .await
            .unwrap();
        sqlx::query("INSERT INTO schema_migrations VALUES ($1, 'before scopes', '2026-01-01T00:00:00.000000Z')")
            .bind(version as i64 + 1)
            .execute(&mut connection)
            .await
            .unwrap();
    }
    sqlx::raw_sql(
        "INSERT INTO api_tokens (name, token_hash, created_at, revoked_at) VALUES
             ('desk', 'h1', '2026-01-01T00:00:00.000000Z', NULL),
             ('desk', 'h2', '2026-01-01T00:00:00.000000Z', NULL),
             ('desk', 'h3', '2026-01-01T00:00:00.000000Z', '2026-01-02T00:00:00.000000Z'),
             ('app', 'h4', '2026-01-01T00:00:00.000000Z', NULL)",
    )
    .execute(&mut connection)
    .await
    .unwrap();
    connection.close().await.unwrap();

    let store = store::Store::open(&path.display().to_string())
        .await
        .unwrap();
    let tokens = store.api_tokens().await.unwrap();
    let seen: Vec<(&str, TokenScope)> = tokens.iter().map(|t| (t.name.as_str(), t.scope)).collect();
    assert_eq!(
        seen,
        vec![
            ("desk", TokenScope::Admin),
            ("desk #2", TokenScope::Admin),
            ("desk", TokenScope::Admin),
            ("app", TokenScope::Admin),
        ]
    );
    assert_eq!(
        store.api_token_by_hash("h2").await.unwrap().unwrap().name,
        "desk #2"
    );
    store.close().await;
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.clone().into_os_string();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
}

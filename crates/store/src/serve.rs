//! What `eventsync serve` keeps beside the workspace: the outbox of writes to vendors, the inbox
//! of vendor webhooks, API bearer tokens (as hashes) and the auto-sync settings per stream.
//!
//! Both dialects run the same SQL (`$n` parameters, which SQLite also reads by number); only the
//! claim of due work differs, PostgreSQL skipping rows another process has locked. Delivery is
//! leased: a claimed item carries its worker's tag and a deadline, so an item whose process died
//! is claimed again once the lease runs out, and a worker that lost its lease cannot overwrite
//! the outcome of the worker that took over.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;

use crate::StoreError;
use crate::error::query_failed;

/// A write the workspace sends to a vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxOperation {
    /// Register an attendee to a session.
    Enroll,
    /// Remove an attendee from a session.
    Unenroll,
    /// Check an attendee in to the event.
    CheckIn,
    /// Bring a destination (the item's connection) in line with one workspace record, whatever
    /// happened to it: the destination reads the record as it is when the item is delivered.
    Deliver,
}

impl OutboxOperation {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxOperation::Enroll => "enroll",
            OutboxOperation::Unenroll => "unenroll",
            OutboxOperation::CheckIn => "check_in",
            OutboxOperation::Deliver => "deliver",
        }
    }

    pub fn parse(text: &str) -> Option<OutboxOperation> {
        match text {
            "enroll" => Some(OutboxOperation::Enroll),
            "unenroll" => Some(OutboxOperation::Unenroll),
            "check_in" => Some(OutboxOperation::CheckIn),
            "deliver" => Some(OutboxOperation::Deliver),
            _ => None,
        }
    }
}

/// Where an outbox item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Waiting for its (next) attempt.
    Pending,
    /// A worker holds it and is talking to the vendor.
    Sending,
    /// The vendor accepted it.
    Sent,
    /// The vendor refused it; `last_error` has the vendor's reason. Sent again only when
    /// someone asks ([`crate::Store::retry_outbox`]).
    Failed,
    /// Concerns a record created in the workspace: kept locally, never sent.
    Local,
}

impl OutboxStatus {
    pub const ALL: [OutboxStatus; 5] = [
        OutboxStatus::Pending,
        OutboxStatus::Sending,
        OutboxStatus::Sent,
        OutboxStatus::Failed,
        OutboxStatus::Local,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sending => "sending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Failed => "failed",
            OutboxStatus::Local => "local",
        }
    }

    pub fn parse(text: &str) -> Option<OutboxStatus> {
        match text {
            "pending" => Some(OutboxStatus::Pending),
            "sending" => Some(OutboxStatus::Sending),
            "sent" => Some(OutboxStatus::Sent),
            "failed" => Some(OutboxStatus::Failed),
            "local" => Some(OutboxStatus::Local),
            _ => None,
        }
    }
}

/// A write to store in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewOutboxItem {
    pub connection: String,
    pub operation: OutboxOperation,
    pub session_id: Option<String>,
    pub attendee_id: String,
    /// What the vendor call needs beyond the ids (the check-in time).
    pub payload: Value,
    /// Stored as [`OutboxStatus::Local`] and never delivered.
    pub local: bool,
}

/// A stored outbox item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxItem {
    pub id: i64,
    pub connection: String,
    pub operation: OutboxOperation,
    pub session_id: Option<String>,
    pub attendee_id: String,
    pub payload: Value,
    pub status: OutboxStatus,
    /// Delivery attempts begun so far.
    pub attempts: u32,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub sent_at: Option<String>,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryOutcome {
    Sent,
    /// Refused for good, with the vendor's reason.
    Failed {
        reason: String,
    },
    /// Try again at `at` (RFC 3339), keeping `reason` as the last error.
    Retry {
        reason: String,
        at: String,
    },
}

/// Which outbox items to list. Items come in id order, after `after_id`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutboxQuery {
    pub connection: Option<String>,
    pub status: Option<OutboxStatus>,
    pub session_id: Option<String>,
    pub attendee_id: Option<String>,
    pub after_id: Option<i64>,
    pub limit: u32,
}

/// A webhook delivery to keep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewWebhook {
    pub connection: String,
    /// The vendor's id of the delivery; compared case-insensitively (kept lowercased).
    pub message_stub: String,
    pub event_type: String,
    pub message_time: Option<String>,
    /// The whole envelope as received.
    pub body: Value,
}

/// Where a webhook delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookStatus {
    Pending,
    Processing,
    Done,
    /// An event type eventsync does not act on: recorded and acknowledged.
    Ignored,
    Failed,
}

impl WebhookStatus {
    pub const ALL: [WebhookStatus; 5] = [
        WebhookStatus::Pending,
        WebhookStatus::Processing,
        WebhookStatus::Done,
        WebhookStatus::Ignored,
        WebhookStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookStatus::Pending => "pending",
            WebhookStatus::Processing => "processing",
            WebhookStatus::Done => "done",
            WebhookStatus::Ignored => "ignored",
            WebhookStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<WebhookStatus> {
        match text {
            "pending" => Some(WebhookStatus::Pending),
            "processing" => Some(WebhookStatus::Processing),
            "done" => Some(WebhookStatus::Done),
            "ignored" => Some(WebhookStatus::Ignored),
            "failed" => Some(WebhookStatus::Failed),
            _ => None,
        }
    }
}

/// A stored webhook delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    pub id: i64,
    pub connection: String,
    pub message_stub: String,
    pub event_type: String,
    pub message_time: Option<String>,
    pub body: Value,
    pub status: WebhookStatus,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub received_at: String,
    pub processed_at: Option<String>,
}

/// How processing a webhook delivery ended.
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookOutcome {
    Done,
    Ignored,
    /// Try again later (the vendor could not be reached), keeping the reason.
    Retry {
        reason: String,
    },
    Failed {
        reason: String,
    },
}

/// What an API token may do. Each scope includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    /// Reads the workspace: every `GET` of workspace data.
    Read,
    /// Reads, and registers people to sessions and checks them in.
    Write,
    /// Everything: connections, runs, tokens, the outbox's retries, auto sync.
    Admin,
}

impl TokenScope {
    pub const ALL: [TokenScope; 3] = [TokenScope::Read, TokenScope::Write, TokenScope::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::Write => "write",
            TokenScope::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<TokenScope> {
        TokenScope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == text)
    }

    /// Whether a token of this scope may do what `needed` allows.
    pub fn allows(self, needed: TokenScope) -> bool {
        self >= needed
    }
}

impl std::fmt::Display for TokenScope {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// An API bearer token as stored: never the token itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub scope: TokenScope,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

pub(crate) const TOKEN_COLUMNS: &str = "id, name, scope, created_at, revoked_at";

/// Auto sync of one stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoSync {
    pub connection: String,
    pub data_type: String,
    pub enabled: bool,
    /// Seconds between runs as the user set them; 0: as the scheduler's account plan says.
    pub interval_seconds: u32,
    pub updated_at: String,
}

pub(crate) const OUTBOX_COLUMNS: &str = "id, connection, operation, session_id, attendee_id, \
     payload, status, attempts, next_attempt_at, last_error, created_at, updated_at, sent_at";

pub(crate) const WEBHOOK_COLUMNS: &str = "id, connection, message_stub, event_type, message_time, \
     body, status, attempts, last_error, received_at, processed_at";

pub(crate) fn lease_deadline(lease: Duration) -> String {
    let lease = chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
    crate::time::format(chrono::Utc::now() + lease)
}

pub(crate) fn corrupt(what: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {error}"))
}

fn count_u32(value: i64, what: &str) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| corrupt(what, format!("{value} is out of range")))
}

fn parse_value(text: &str, what: &str) -> Result<Value, StoreError> {
    serde_json::from_str(text).map_err(|error| corrupt(what, error))
}

pub(crate) fn decode_outbox<R: Row>(row: &R) -> Result<OutboxItem, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<String>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let failed = |error| query_failed("reading an outbox item", error);
    let id: i64 = row.try_get(0).map_err(failed)?;
    let what = format!("outbox item {id}");
    let operation: String = row.try_get(2).map_err(failed)?;
    let payload: String = row.try_get(5).map_err(failed)?;
    let status: String = row.try_get(6).map_err(failed)?;
    let attempts: i64 = row.try_get(7).map_err(failed)?;
    Ok(OutboxItem {
        id,
        connection: row.try_get(1).map_err(failed)?,
        operation: OutboxOperation::parse(&operation)
            .ok_or_else(|| corrupt(&what, format!("unknown operation {operation:?}")))?,
        session_id: row.try_get(3).map_err(failed)?,
        attendee_id: row.try_get(4).map_err(failed)?,
        payload: parse_value(&payload, &what)?,
        status: OutboxStatus::parse(&status)
            .ok_or_else(|| corrupt(&what, format!("unknown status {status:?}")))?,
        attempts: count_u32(attempts, &what)?,
        next_attempt_at: row.try_get(8).map_err(failed)?,
        last_error: row.try_get(9).map_err(failed)?,
        created_at: row.try_get(10).map_err(failed)?,
        updated_at: row.try_get(11).map_err(failed)?,
        sent_at: row.try_get(12).map_err(failed)?,
    })
}

pub(crate) fn decode_webhook<R: Row>(row: &R) -> Result<WebhookDelivery, StoreError>
where
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<String>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let failed = |error| query_failed("reading a webhook delivery", error);
    let id: i64 = row.try_get(0).map_err(failed)?;
    let what = format!("webhook delivery {id}");
    let body: String = row.try_get(5).map_err(failed)?;
    let status: String = row.try_get(6).map_err(failed)?;
    let attempts: i64 = row.try_get(7).map_err(failed)?;
    Ok(WebhookDelivery {
        id,
        connection: row.try_get(1).map_err(failed)?,
        message_stub: row.try_get(2).map_err(failed)?,
        event_type: row.try_get(3).map_err(failed)?,
        message_time: row.try_get(4).map_err(failed)?,
        body: parse_value(&body, &what)?,
        status: WebhookStatus::parse(&status)
            .ok_or_else(|| corrupt(&what, format!("unknown status {status:?}")))?,
        attempts: count_u32(attempts, &what)?,
        last_error: row.try_get(8).map_err(failed)?,
        received_at: row.try_get(9).map_err(failed)?,
        processed_at: row.try_get(10).map_err(failed)?,
    })
}

/// Implements the serve tables for one dialect, and the other queries whose SQL both dialects
/// share (a stream's vendor totals). `$write` and `$read` are the pools for writes and reads;
/// `$skip_locked` is appended to the claim's inner `SELECT`; `$json` casts a text parameter to
/// the dialect's JSON column type; `$feed_lock` orders change feed appends (empty on SQLite).
macro_rules! serve_tables {
    ($store:ty, $write:ident, $read:ident, $skip_locked:expr, $json:expr, $feed_lock:expr) => {
        impl $store {
            pub(crate) async fn save_local_record(
                &self,
                connection: &str,
                data_type: &str,
                record: &crate::StoredRecord,
            ) -> Result<(), crate::StoreError> {
                let operation = format!("storing workspace record {}", record.external_id);
                let failed = |error| crate::error::query_failed(&operation, error);
                let fields = crate::codec::fields_json(&record.fields);
                let now = crate::time::now();
                let mut transaction = self.$write.begin().await.map_err(failed)?;
                let created = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO records (connection, data_type, external_id, fields, raw, updated_at)
                     VALUES ($1, $2, $3, $4{json}, $5{json}, $6)
                     ON CONFLICT (connection, data_type, external_id) DO NOTHING",
                    json = $json
                )))
                .bind(connection)
                .bind(data_type)
                .bind(record.external_id.as_str())
                .bind(fields.as_str())
                .bind(record.raw.as_str())
                .bind(now.as_str())
                .execute(&mut *transaction)
                .await
                .map_err(failed)?
                .rows_affected()
                    == 1;
                if !created {
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "UPDATE records SET fields = $4{json}, raw = $5{json}, updated_at = $6
                         WHERE connection = $1 AND data_type = $2 AND external_id = $3",
                        json = $json
                    )))
                    .bind(connection)
                    .bind(data_type)
                    .bind(record.external_id.as_str())
                    .bind(fields.as_str())
                    .bind(record.raw.as_str())
                    .bind(now.as_str())
                    .execute(&mut *transaction)
                    .await
                    .map_err(failed)?;
                }
                let action = if created { "create" } else { "update" };
                crate::feed::append_feed!(
                    transaction,
                    $feed_lock,
                    connection,
                    data_type,
                    None::<i64>,
                    now.as_str(),
                    &[(record.external_id.as_str(), action, None, Some(fields.as_str()))]
                )
                .map_err(failed)?;
                transaction.commit().await.map_err(failed)
            }

            pub(crate) async fn remove_local_record(
                &self,
                connection: &str,
                data_type: &str,
                external_id: &str,
            ) -> Result<bool, crate::StoreError> {
                let operation = format!("removing workspace record {external_id}");
                let failed = |error| crate::error::query_failed(&operation, error);
                let mut transaction = self.$write.begin().await.map_err(failed)?;
                let removed = sqlx::query(
                    "DELETE FROM records
                     WHERE connection = $1 AND data_type = $2 AND external_id = $3",
                )
                .bind(connection)
                .bind(data_type)
                .bind(external_id)
                .execute(&mut *transaction)
                .await
                .map_err(failed)?
                .rows_affected()
                    == 1;
                if removed {
                    crate::feed::append_feed!(
                        transaction,
                        $feed_lock,
                        connection,
                        data_type,
                        None::<i64>,
                        crate::time::now().as_str(),
                        &[(external_id, "remove", None, None)]
                    )
                    .map_err(failed)?;
                }
                transaction.commit().await.map_err(failed)?;
                Ok(removed)
            }

            pub(crate) async fn enqueue_outbox(
                &self,
                item: &crate::serve::NewOutboxItem,
            ) -> Result<crate::serve::OutboxItem, crate::StoreError> {
                let now = crate::time::now();
                let status = if item.local {
                    crate::serve::OutboxStatus::Local
                } else {
                    crate::serve::OutboxStatus::Pending
                };
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO outbox (connection, operation, session_id, attendee_id, payload,
                                         status, next_attempt_at, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7)
                     RETURNING {}",
                    crate::serve::OUTBOX_COLUMNS
                )))
                .bind(item.connection.as_str())
                .bind(item.operation.as_str())
                .bind(item.session_id.as_deref())
                .bind(item.attendee_id.as_str())
                .bind(crate::codec::to_json(&item.payload))
                .bind(status.as_str())
                .bind(now.as_str())
                .fetch_one(&self.$write)
                .await
                .map_err(|error| crate::error::query_failed("storing an outbox item", error))?;
                crate::serve::decode_outbox(&row)
            }

            pub(crate) async fn claim_outbox(
                &self,
                owner: &str,
                limit: u32,
                lease: std::time::Duration,
            ) -> Result<Vec<crate::serve::OutboxItem>, crate::StoreError> {
                let now = crate::time::now();
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE outbox SET status = 'sending', lease_owner = $1, lease_until = $2,
                            attempts = attempts + 1, updated_at = $3
                     WHERE id IN (
                         SELECT id FROM outbox
                         WHERE (status = 'pending' AND next_attempt_at <= $3)
                            OR (status = 'sending' AND lease_until < $3)
                         ORDER BY id LIMIT $4 {})
                     RETURNING {}",
                    $skip_locked,
                    crate::serve::OUTBOX_COLUMNS
                )))
                .bind(owner)
                .bind(crate::serve::lease_deadline(lease))
                .bind(now.as_str())
                .bind(i64::from(limit))
                .fetch_all(&self.$write)
                .await
                .map_err(|error| crate::error::query_failed("claiming outbox items", error))?;
                let mut items = rows
                    .iter()
                    .map(crate::serve::decode_outbox)
                    .collect::<Result<Vec<_>, _>>()?;
                items.sort_by_key(|item| item.id);
                Ok(items)
            }

            pub(crate) async fn finish_outbox(
                &self,
                id: i64,
                owner: &str,
                outcome: &crate::serve::DeliveryOutcome,
            ) -> Result<bool, crate::StoreError> {
                use crate::serve::DeliveryOutcome;
                let now = crate::time::now();
                let (status, error, next_attempt_at, sent_at) = match outcome {
                    DeliveryOutcome::Sent => ("sent", None, now.clone(), Some(now.clone())),
                    DeliveryOutcome::Failed { reason } => {
                        ("failed", Some(reason.as_str()), now.clone(), None)
                    }
                    DeliveryOutcome::Retry { reason, at } => {
                        ("pending", Some(reason.as_str()), at.clone(), None)
                    }
                };
                let updated = sqlx::query(
                    "UPDATE outbox SET status = $1, last_error = $2, next_attempt_at = $3,
                            sent_at = $4, updated_at = $5, lease_owner = NULL, lease_until = NULL
                     WHERE id = $6 AND status = 'sending' AND lease_owner = $7",
                )
                .bind(status)
                .bind(error)
                .bind(next_attempt_at)
                .bind(sent_at)
                .bind(now.as_str())
                .bind(id)
                .bind(owner)
                .execute(&self.$write)
                .await
                .map_err(|error| {
                    crate::error::query_failed(format!("finishing outbox item {id}"), error)
                })?;
                Ok(updated.rows_affected() == 1)
            }

            pub(crate) async fn release_claims(&self) -> Result<u64, crate::StoreError> {
                let failed = |error| crate::error::query_failed("releasing claimed work", error);
                let outbox = sqlx::query(
                    "UPDATE outbox SET status = 'pending', lease_owner = NULL, lease_until = NULL
                     WHERE status = 'sending'",
                )
                .execute(&self.$write)
                .await
                .map_err(failed)?;
                let inbox = sqlx::query(
                    "UPDATE webhook_inbox SET status = 'pending', lease_owner = NULL,
                            lease_until = NULL
                     WHERE status = 'processing'",
                )
                .execute(&self.$write)
                .await
                .map_err(failed)?;
                Ok(outbox.rows_affected() + inbox.rows_affected())
            }

            pub(crate) async fn outbox(
                &self,
                query: &crate::serve::OutboxQuery,
            ) -> Result<Vec<crate::serve::OutboxItem>, crate::StoreError> {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {} FROM outbox
                     WHERE ($1 IS NULL OR connection = $1)
                       AND ($2 IS NULL OR status = $2)
                       AND ($3 IS NULL OR session_id = $3)
                       AND ($4 IS NULL OR attendee_id = $4)
                       AND id > $5
                     ORDER BY id LIMIT $6",
                    crate::serve::OUTBOX_COLUMNS
                )))
                .bind(query.connection.as_deref())
                .bind(query.status.map(crate::serve::OutboxStatus::as_str))
                .bind(query.session_id.as_deref())
                .bind(query.attendee_id.as_deref())
                .bind(query.after_id.unwrap_or(0))
                .bind(i64::from(query.limit))
                .fetch_all(&self.$read)
                .await
                .map_err(|error| crate::error::query_failed("listing the outbox", error))?;
                rows.iter().map(crate::serve::decode_outbox).collect()
            }

            pub(crate) async fn outbox_item(
                &self,
                id: i64,
            ) -> Result<Option<crate::serve::OutboxItem>, crate::StoreError> {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {} FROM outbox WHERE id = $1",
                    crate::serve::OUTBOX_COLUMNS
                )))
                .bind(id)
                .fetch_optional(&self.$read)
                .await
                .map_err(|error| {
                    crate::error::query_failed(format!("reading outbox item {id}"), error)
                })?;
                row.as_ref().map(crate::serve::decode_outbox).transpose()
            }

            pub(crate) async fn outbox_counts(
                &self,
            ) -> Result<std::collections::BTreeMap<String, u64>, crate::StoreError> {
                let rows = sqlx::query("SELECT status, COUNT(*) FROM outbox GROUP BY status")
                    .fetch_all(&self.$read)
                    .await
                    .map_err(|error| crate::error::query_failed("counting the outbox", error))?;
                let mut counts = std::collections::BTreeMap::new();
                for row in &rows {
                    let failed = |error| crate::error::query_failed("counting the outbox", error);
                    let status: String = row.try_get(0).map_err(failed)?;
                    let count: i64 = row.try_get(1).map_err(failed)?;
                    counts.insert(status, crate::codec::u64_from_count(count, "COUNT(*)")?);
                }
                Ok(counts)
            }

            pub(crate) async fn record_webhook(
                &self,
                webhook: &crate::serve::NewWebhook,
            ) -> Result<Option<i64>, crate::StoreError> {
                let id: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO webhook_inbox (connection, message_stub, event_type, message_time,
                                                body, status, received_at)
                     VALUES ($1, $2, $3, $4, $5, 'pending', $6)
                     ON CONFLICT (connection, message_stub) DO NOTHING
                     RETURNING id",
                )
                .bind(webhook.connection.as_str())
                .bind(webhook.message_stub.to_lowercase())
                .bind(webhook.event_type.as_str())
                .bind(webhook.message_time.as_deref())
                .bind(crate::codec::to_json(&webhook.body))
                .bind(crate::time::now())
                .fetch_optional(&self.$write)
                .await
                .map_err(|error| {
                    crate::error::query_failed("storing a webhook delivery", error)
                })?;
                Ok(id)
            }

            pub(crate) async fn claim_webhooks(
                &self,
                owner: &str,
                limit: u32,
                lease: std::time::Duration,
            ) -> Result<Vec<crate::serve::WebhookDelivery>, crate::StoreError> {
                let now = crate::time::now();
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE webhook_inbox SET status = 'processing', lease_owner = $1,
                            lease_until = $2, attempts = attempts + 1
                     WHERE id IN (
                         SELECT id FROM webhook_inbox
                         WHERE status = 'pending'
                            OR (status = 'processing' AND lease_until < $3)
                         ORDER BY id LIMIT $4 {})
                     RETURNING {}",
                    $skip_locked,
                    crate::serve::WEBHOOK_COLUMNS
                )))
                .bind(owner)
                .bind(crate::serve::lease_deadline(lease))
                .bind(now.as_str())
                .bind(i64::from(limit))
                .fetch_all(&self.$write)
                .await
                .map_err(|error| crate::error::query_failed("claiming webhook deliveries", error))?;
                let mut deliveries = rows
                    .iter()
                    .map(crate::serve::decode_webhook)
                    .collect::<Result<Vec<_>, _>>()?;
                deliveries.sort_by_key(|delivery| delivery.id);
                Ok(deliveries)
            }

            pub(crate) async fn finish_webhook(
                &self,
                id: i64,
                owner: &str,
                outcome: &crate::serve::WebhookOutcome,
            ) -> Result<bool, crate::StoreError> {
                use crate::serve::WebhookOutcome;
                let now = crate::time::now();
                let (status, error, processed_at) = match outcome {
                    WebhookOutcome::Done => ("done", None, Some(now.as_str())),
                    WebhookOutcome::Ignored => ("ignored", None, Some(now.as_str())),
                    WebhookOutcome::Retry { reason } => ("pending", Some(reason.as_str()), None),
                    WebhookOutcome::Failed { reason } => {
                        ("failed", Some(reason.as_str()), Some(now.as_str()))
                    }
                };
                let updated = sqlx::query(
                    "UPDATE webhook_inbox SET status = $1, last_error = $2, processed_at = $3,
                            lease_owner = NULL, lease_until = NULL
                     WHERE id = $4 AND status = 'processing' AND lease_owner = $5",
                )
                .bind(status)
                .bind(error)
                .bind(processed_at)
                .bind(id)
                .bind(owner)
                .execute(&self.$write)
                .await
                .map_err(|error| {
                    crate::error::query_failed(format!("finishing webhook delivery {id}"), error)
                })?;
                Ok(updated.rows_affected() == 1)
            }

            pub(crate) async fn webhooks(
                &self,
                connection: Option<&str>,
                after_id: Option<i64>,
                limit: u32,
            ) -> Result<Vec<crate::serve::WebhookDelivery>, crate::StoreError> {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {} FROM webhook_inbox
                     WHERE ($1 IS NULL OR connection = $1) AND id > $2
                     ORDER BY id LIMIT $3",
                    crate::serve::WEBHOOK_COLUMNS
                )))
                .bind(connection)
                .bind(after_id.unwrap_or(0))
                .bind(i64::from(limit))
                .fetch_all(&self.$read)
                .await
                .map_err(|error| crate::error::query_failed("listing webhook deliveries", error))?;
                rows.iter().map(crate::serve::decode_webhook).collect()
            }

            pub(crate) async fn webhook_counts(
                &self,
            ) -> Result<std::collections::BTreeMap<String, u64>, crate::StoreError> {
                let rows =
                    sqlx::query("SELECT status, COUNT(*) FROM webhook_inbox GROUP BY status")
                        .fetch_all(&self.$read)
                        .await
                        .map_err(|error| {
                            crate::error::query_failed("counting webhook deliveries", error)
                        })?;
                let mut counts = std::collections::BTreeMap::new();
                for row in &rows {
                    let failed =
                        |error| crate::error::query_failed("counting webhook deliveries", error);
                    let status: String = row.try_get(0).map_err(failed)?;
                    let count: i64 = row.try_get(1).map_err(failed)?;
                    counts.insert(status, crate::codec::u64_from_count(count, "COUNT(*)")?);
                }
                Ok(counts)
            }

            pub(crate) async fn add_api_token(
                &self,
                name: &str,
                token_hash: &str,
                scope: crate::serve::TokenScope,
            ) -> Result<crate::serve::ApiToken, crate::StoreError> {
                let stored = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO api_tokens (name, token_hash, scope, created_at)
                     VALUES ($1, $2, $3, $4) RETURNING {}",
                    crate::serve::TOKEN_COLUMNS
                )))
                .bind(name)
                .bind(token_hash)
                .bind(scope.as_str())
                .bind(crate::time::now())
                .fetch_one(&self.$write)
                .await;
                match stored {
                    Ok(row) => crate::serve::decode_token(&row),
                    Err(error)
                        if error
                            .as_database_error()
                            .is_some_and(|error| error.is_unique_violation())
                            && self.live_api_token(name).await?.is_some() =>
                    {
                        Err(crate::StoreError::Conflict(format!(
                            "a token named '{name}' exists already: choose another name, or \
                             revoke that one first"
                        )))
                    }
                    Err(error) => Err(crate::error::query_failed("storing an API token", error)),
                }
            }

            pub(crate) async fn live_api_token(
                &self,
                name: &str,
            ) -> Result<Option<crate::serve::ApiToken>, crate::StoreError> {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {} FROM api_tokens WHERE name = $1 AND revoked_at IS NULL",
                    crate::serve::TOKEN_COLUMNS
                )))
                .bind(name)
                .fetch_optional(&self.$read)
                .await
                .map_err(|error| crate::error::query_failed("looking up an API token", error))?;
                row.as_ref().map(crate::serve::decode_token).transpose()
            }

            pub(crate) async fn api_token_by_hash(
                &self,
                token_hash: &str,
            ) -> Result<Option<crate::serve::ApiToken>, crate::StoreError> {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
                    crate::serve::TOKEN_COLUMNS
                )))
                .bind(token_hash)
                .fetch_optional(&self.$read)
                .await
                .map_err(|error| crate::error::query_failed("looking up an API token", error))?;
                row.as_ref().map(crate::serve::decode_token).transpose()
            }

            pub(crate) async fn api_tokens(
                &self,
            ) -> Result<Vec<crate::serve::ApiToken>, crate::StoreError> {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {} FROM api_tokens ORDER BY id",
                    crate::serve::TOKEN_COLUMNS
                )))
                .fetch_all(&self.$read)
                .await
                .map_err(|error| crate::error::query_failed("listing API tokens", error))?;
                rows.iter().map(crate::serve::decode_token).collect()
            }

            pub(crate) async fn revoke_api_token(&self, id: i64) -> Result<bool, crate::StoreError> {
                let updated = sqlx::query(
                    "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                )
                .bind(crate::time::now())
                .bind(id)
                .execute(&self.$write)
                .await
                .map_err(|error| {
                    crate::error::query_failed(format!("revoking API token {id}"), error)
                })?;
                Ok(updated.rows_affected() == 1)
            }

            pub(crate) async fn retry_outbox(
                &self,
                id: i64,
            ) -> Result<Option<crate::serve::OutboxItem>, crate::StoreError> {
                let now = crate::time::now();
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $1,
                                       updated_at = $1, lease_owner = NULL, lease_until = NULL
                     WHERE id = $2 AND status = 'failed'
                     RETURNING {}",
                    crate::serve::OUTBOX_COLUMNS
                )))
                .bind(now.as_str())
                .bind(id)
                .fetch_optional(&self.$write)
                .await
                .map_err(|error| {
                    crate::error::query_failed(format!("retrying outbox item {id}"), error)
                })?;
                row.as_ref().map(crate::serve::decode_outbox).transpose()
            }

            pub(crate) async fn request_run_cancel(
                &self,
                run_id: i64,
            ) -> Result<bool, crate::StoreError> {
                let updated = sqlx::query(
                    "UPDATE runs SET cancel_requested_at = COALESCE(cancel_requested_at, $1)
                     WHERE id = $2 AND status = 'running'",
                )
                .bind(crate::time::now())
                .bind(run_id)
                .execute(&self.$write)
                .await
                .map_err(|error| {
                    crate::error::query_failed(format!("cancelling run {run_id}"), error)
                })?;
                Ok(updated.rows_affected() == 1)
            }

            pub(crate) async fn run_cancel_requested(
                &self,
                run_id: i64,
            ) -> Result<bool, crate::StoreError> {
                let requested: Option<Option<String>> = sqlx::query_scalar(
                    "SELECT cancel_requested_at FROM runs WHERE id = $1",
                )
                .bind(run_id)
                .fetch_optional(&self.$read)
                .await
                .map_err(|error| {
                    crate::error::query_failed(format!("reading run {run_id}"), error)
                })?;
                Ok(requested.flatten().is_some())
            }

            pub(crate) async fn auto_sync(
                &self,
                connection: Option<&str>,
            ) -> Result<Vec<crate::serve::AutoSync>, crate::StoreError> {
                let rows = sqlx::query(
                    "SELECT connection, data_type, enabled, interval_seconds, updated_at
                     FROM auto_sync WHERE ($1 IS NULL OR connection = $1)
                     ORDER BY connection, data_type",
                )
                .bind(connection)
                .fetch_all(&self.$read)
                .await
                .map_err(|error| {
                    crate::error::query_failed("reading auto-sync settings", error)
                })?;
                rows.iter().map(crate::serve::decode_auto_sync).collect()
            }

            pub(crate) async fn set_auto_sync(
                &self,
                setting: &crate::serve::AutoSync,
            ) -> Result<crate::serve::AutoSync, crate::StoreError> {
                let row = sqlx::query(
                    "INSERT INTO auto_sync (connection, data_type, enabled, interval_seconds,
                                            updated_at)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (connection, data_type) DO UPDATE SET
                         enabled = excluded.enabled,
                         interval_seconds = excluded.interval_seconds,
                         updated_at = excluded.updated_at
                     RETURNING connection, data_type, enabled, interval_seconds, updated_at",
                )
                .bind(setting.connection.as_str())
                .bind(setting.data_type.as_str())
                .bind(i64::from(setting.enabled))
                .bind(i64::from(setting.interval_seconds))
                .bind(crate::time::now())
                .fetch_one(&self.$write)
                .await
                .map_err(|error| {
                    crate::error::query_failed("writing an auto-sync setting", error)
                })?;
                crate::serve::decode_auto_sync(&row)
            }

            pub(crate) async fn set_totals(
                &self,
                connection: &str,
                data_type: &str,
                totals: &crate::VendorTotals,
            ) -> Result<(), crate::StoreError> {
                let failed = |error| {
                    crate::error::query_failed(
                        format!("writing the totals of {connection}/{data_type}"),
                        error,
                    )
                };
                let now = crate::time::now();
                sqlx::query(
                    "INSERT INTO sync_state (connection, data_type, totals, updated_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (connection, data_type) DO UPDATE SET totals = EXCLUDED.totals, updated_at = EXCLUDED.updated_at",
                )
                .bind(connection)
                .bind(data_type)
                .bind(crate::codec::to_json(totals))
                .bind(now.as_str())
                .execute(&self.$write)
                .await
                .map_err(failed)?;
                Ok(())
            }

            /// The stream's totals as stored (JSON text), if any.
            pub(crate) async fn totals(
                &self,
                connection: &str,
                data_type: &str,
            ) -> Result<Option<String>, crate::StoreError> {
                let failed = |error| {
                    crate::error::query_failed(
                        format!("reading the totals of {connection}/{data_type}"),
                        error,
                    )
                };
                let totals: Option<Option<String>> = sqlx::query_scalar(
                    "SELECT totals FROM sync_state WHERE connection = $1 AND data_type = $2",
                )
                .bind(connection)
                .bind(data_type)
                .fetch_optional(&self.$read)
                .await
                .map_err(failed)?;
                Ok(totals.flatten())
            }
        }
    };
}

pub(crate) use serve_tables;

pub(crate) fn decode_token<R: Row>(row: &R) -> Result<ApiToken, StoreError>
where
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<String>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let failed = |error| query_failed("reading an API token", error);
    let id: i64 = row.try_get(0).map_err(failed)?;
    let scope: String = row.try_get(2).map_err(failed)?;
    Ok(ApiToken {
        id,
        name: row.try_get(1).map_err(failed)?,
        scope: TokenScope::parse(&scope).ok_or_else(|| {
            corrupt(
                &format!("API token {id}"),
                format!("unknown scope {scope:?}"),
            )
        })?,
        created_at: row.try_get(3).map_err(failed)?,
        revoked_at: row.try_get(4).map_err(failed)?,
    })
}

pub(crate) fn decode_auto_sync<R: Row>(row: &R) -> Result<AutoSync, StoreError>
where
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let failed = |error| query_failed("reading an auto-sync setting", error);
    let connection: String = row.try_get(0).map_err(failed)?;
    let enabled: i64 = row.try_get(2).map_err(failed)?;
    let interval: i64 = row.try_get(3).map_err(failed)?;
    Ok(AutoSync {
        data_type: row.try_get(1).map_err(failed)?,
        enabled: enabled != 0,
        interval_seconds: count_u32(interval, &format!("auto sync of {connection}"))?,
        updated_at: row.try_get(4).map_err(failed)?,
        connection,
    })
}

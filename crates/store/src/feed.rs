//! The change feed: one durable, ordered list of every change the workspace applies — from a
//! sync, a webhook's sync, a CSV import or the API — that destinations and event apps read from
//! a position of their own.
//!
//! Entries are appended in the transaction that applies the change (`commit_page`, the local
//! record writes), so the feed never holds a change the workspace lacks, nor the reverse. A
//! consumer's checkpoint moves in the transaction that stores the outbox items it made of the
//! changes it read ([`crate::Store::consume_feed`]): a kill anywhere neither loses nor repeats
//! one. On PostgreSQL every append first takes one advisory lock held to commit, so positions
//! are handed out in commit order and a reader that saw position *n* never later finds a
//! smaller one appear.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;

use crate::StoreError;
use crate::error::query_failed;
use crate::model::RawJson;
use crate::serve::NewOutboxItem;
use crate::serve::corrupt;

/// The advisory lock key every PostgreSQL append takes ("feed" in ASCII).
pub(crate) const FEED_LOCK: i64 = 0x6665_6564;

/// The statement every PostgreSQL append runs first.
pub(crate) const PG_FEED_LOCK: &str = "SELECT pg_advisory_xact_lock($1)";

/// The most entries one call reads.
pub const MAX_FEED_PAGE: u32 = 1000;

/// What a change did to its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedAction {
    Create,
    Update,
    Cancel,
    Remove,
}

impl FeedAction {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedAction::Create => "create",
            FeedAction::Update => "update",
            FeedAction::Cancel => "cancel",
            FeedAction::Remove => "remove",
        }
    }

    pub fn parse(text: &str) -> Option<FeedAction> {
        match text {
            "create" => Some(FeedAction::Create),
            "update" => Some(FeedAction::Update),
            "cancel" => Some(FeedAction::Cancel),
            "remove" => Some(FeedAction::Remove),
            _ => None,
        }
    }
}

/// One change a page commit appends for one of its records. Removals need none: the store
/// appends theirs from the page's removals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedEntry {
    pub external_id: String,
    pub action: FeedAction,
    /// The changed fields' values before, as stored fields are written (type-tagged).
    pub before: Option<RawJson>,
    /// The changed fields' values after; every field for a create.
    pub after: Option<RawJson>,
}

/// One change as the feed serves it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedChange {
    pub position: i64,
    pub connection: String,
    pub data_type: String,
    pub external_id: String,
    pub action: FeedAction,
    pub before: Option<Value>,
    pub after: Option<Value>,
    /// The sync or import that applied it; `None` for a change made over the API.
    pub run_id: Option<i64>,
    /// RFC 3339 UTC: when it was committed.
    pub at: String,
}

/// Which changes a read returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedQuery {
    /// Only positions after this one.
    pub after: i64,
    /// Only these data types; all when empty.
    pub data_types: Vec<String>,
    /// Only this connection's changes.
    pub connection: Option<String>,
    /// At most this many (capped at [`MAX_FEED_PAGE`]).
    pub limit: u32,
}

/// What a consumer made of the changes it read: the outbox items to store, and the feed
/// position its checkpoint moves to with them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Consumed {
    pub items: Vec<NewOutboxItem>,
    pub position: i64,
}

/// A destination's memory of one workspace record (see the `destination_links` table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestinationLink {
    pub destination: String,
    pub connection: String,
    pub external_id: String,
    /// Who the record matched at the destination (an iMIS party id).
    pub party_id: Option<String>,
    /// What the destination made for it (an iMIS activity's SEQN).
    pub remote_id: Option<String>,
    pub updated_at: String,
}

pub(crate) fn decode_change<R: Row>(row: &R) -> Result<FeedChange, StoreError>
where
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<i64>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<String>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let failed = |error| query_failed("reading the change feed", error);
    let position: i64 = row.try_get(0).map_err(failed)?;
    let what = format!("change {position}");
    let action: String = row.try_get(4).map_err(failed)?;
    let json = |text: Option<String>| -> Result<Option<Value>, StoreError> {
        text.map(|text| {
            serde_json::from_str(&text).map_err(|error| corrupt(&what, error.to_string()))
        })
        .transpose()
    };
    Ok(FeedChange {
        position,
        connection: row.try_get(1).map_err(failed)?,
        data_type: row.try_get(2).map_err(failed)?,
        external_id: row.try_get(3).map_err(failed)?,
        action: FeedAction::parse(&action)
            .ok_or_else(|| corrupt(&what, format!("unknown action {action:?}")))?,
        before: json(row.try_get(5).map_err(failed)?)?,
        after: json(row.try_get(6).map_err(failed)?)?,
        run_id: row.try_get(7).map_err(failed)?,
        at: row.try_get(8).map_err(failed)?,
    })
}

pub(crate) fn decode_link<R: Row>(row: &R) -> Result<DestinationLink, StoreError>
where
    usize: sqlx::ColumnIndex<R>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<String>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let failed = |error| query_failed("reading a destination link", error);
    Ok(DestinationLink {
        destination: row.try_get(0).map_err(failed)?,
        connection: row.try_get(1).map_err(failed)?,
        external_id: row.try_get(2).map_err(failed)?,
        party_id: row.try_get(3).map_err(failed)?,
        remote_id: row.try_get(4).map_err(failed)?,
        updated_at: row.try_get(5).map_err(failed)?,
    })
}

/// Appends entries to the feed inside a transaction of either dialect. `$lock` is the SQL that
/// orders appends (PostgreSQL's advisory lock), or empty.
macro_rules! append_feed {
    ($transaction:expr, $lock:expr, $connection:expr, $data_type:expr, $run_id:expr, $now:expr, $entries:expr) => {{
        let entries: &[(&str, &str, Option<&str>, Option<&str>)] = $entries;
        let mut result: Result<(), sqlx::Error> = Ok(());
        if !entries.is_empty() {
            let lock: &str = $lock;
            if !lock.is_empty() {
                result = sqlx::query(sqlx::AssertSqlSafe(lock))
                    .bind(crate::feed::FEED_LOCK)
                    .execute(&mut *$transaction)
                    .await
                    .map(|_| ());
            }
            for chunk in entries.chunks(crate::feed::APPEND_ROWS_PER_STATEMENT) {
                if result.is_err() {
                    break;
                }
                // Only PostgreSQL orders appends with a lock, and only it numbers parameters.
                let mut statement = sqlx::query(sqlx::AssertSqlSafe(crate::feed::append_sql(
                    chunk.len(),
                    !lock.is_empty(),
                )));
                for (external_id, action, before, after) in chunk {
                    statement = statement
                        .bind($connection)
                        .bind($data_type)
                        .bind(*external_id)
                        .bind(*action)
                        .bind(*before)
                        .bind(*after)
                        .bind($run_id)
                        .bind($now);
                }
                result = statement.execute(&mut *$transaction).await.map(|_| ());
            }
        }
        result
    }};
}
pub(crate) use append_feed;

/// Rows one append statement writes: 8 parameters each, well within both dialects' limits.
pub(crate) const APPEND_ROWS_PER_STATEMENT: usize = 100;

/// `INSERT` of `rows` feed entries. PostgreSQL's parameters are numbered (`$1`…); SQLite's are
/// anonymous (`?`): SQLite finds a named or numbered parameter by searching the statement's
/// list of names, so binding a statement of thousands of them took most of a page's commit.
pub(crate) fn append_sql(rows: usize, numbered: bool) -> String {
    let mut sql = String::from(
        "INSERT INTO change_feed (connection, data_type, external_id, action, before, after, run_id, at) VALUES ",
    );
    for row in 0..rows {
        let first = row * 8;
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 1..=8 {
            if column > 1 {
                sql.push_str(", ");
            }
            if numbered {
                sql.push('$');
                sql.push_str(&(first + column).to_string());
            } else {
                sql.push('?');
            }
        }
        sql.push(')');
    }
    sql
}

/// The rows a page appends: its entries, then one `remove` per removal.
pub(crate) fn page_entries(
    page: &crate::PageCommit,
) -> Vec<(&str, &'static str, Option<&str>, Option<&str>)> {
    page.feed
        .iter()
        .map(|entry| {
            (
                entry.external_id.as_str(),
                entry.action.as_str(),
                entry.before.as_ref().map(RawJson::as_str),
                entry.after.as_ref().map(RawJson::as_str),
            )
        })
        .chain(page.removals.iter().map(|id| {
            (
                id.as_str(),
                FeedAction::Remove.as_str(),
                None::<&str>,
                None::<&str>,
            )
        }))
        .collect()
}

/// Implements the feed's reads, checkpoints and destination links for one dialect; the SQL is
/// the same on both. `$lock` is the statement that orders appends (empty on SQLite).
macro_rules! feed_tables {
    ($store:ty, $write:ident, $read:ident, $lock:expr) => {
        impl $store {
            pub(crate) async fn changes(
                &self,
                query: &crate::feed::FeedQuery,
            ) -> Result<Vec<crate::feed::FeedChange>, crate::StoreError> {
                let sql = crate::feed::changes_sql(query.data_types.len());
                let mut statement = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(query.after)
                    .bind(query.connection.as_deref())
                    .bind(i64::from(query.limit.clamp(1, crate::feed::MAX_FEED_PAGE)));
                for data_type in &query.data_types {
                    statement = statement.bind(data_type.as_str());
                }
                let rows = statement
                    .fetch_all(&self.$read)
                    .await
                    .map_err(|error| crate::error::query_failed("reading the change feed", error))?;
                rows.iter().map(crate::feed::decode_change).collect()
            }

            pub(crate) async fn feed_position(&self) -> Result<i64, crate::StoreError> {
                let row = sqlx::query("SELECT COALESCE(MAX(position), 0) FROM change_feed")
                    .fetch_one(&self.$read)
                    .await
                    .map_err(|error| {
                        crate::error::query_failed("reading the change feed's end", error)
                    })?;
                row.try_get::<i64, _>(0).map_err(|error| {
                    crate::error::query_failed("reading the change feed's end", error)
                })
            }

            pub(crate) async fn feed_checkpoint(
                &self,
                consumer: &str,
            ) -> Result<i64, crate::StoreError> {
                let failed = |error| {
                    crate::error::query_failed(format!("reading the feed checkpoint of {consumer}"), error)
                };
                let row = sqlx::query("SELECT position FROM feed_checkpoints WHERE consumer = $1")
                    .bind(consumer)
                    .fetch_optional(&self.$read)
                    .await
                    .map_err(failed)?;
                match row {
                    Some(row) => row.try_get::<i64, _>(0).map_err(failed),
                    None => Ok(0),
                }
            }

            pub(crate) async fn consume_feed(
                &self,
                consumer: &str,
                read: u32,
                decide: &mut (dyn FnMut(&[crate::feed::FeedChange]) -> crate::feed::Consumed + Send),
            ) -> Result<(usize, usize), crate::StoreError> {
                let operation = format!("reading the change feed for {consumer}");
                let failed = |error| crate::error::query_failed(&operation, error);
                let mut transaction = self.$write.begin().await.map_err(failed)?;
                // The checkpoint row is read under the transaction's write lock (SQLite's one
                // writer, PostgreSQL's row lock), so two workers never consume the same changes.
                sqlx::query(
                    "INSERT INTO feed_checkpoints (consumer, position, updated_at) VALUES ($1, 0, $2)
                     ON CONFLICT (consumer) DO NOTHING",
                )
                .bind(consumer)
                .bind(crate::time::now())
                .execute(&mut *transaction)
                .await
                .map_err(failed)?;
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT position FROM feed_checkpoints WHERE consumer = $1{}",
                    crate::feed::for_update($lock)
                )))
                .bind(consumer)
                .fetch_one(&mut *transaction)
                .await
                .map_err(failed)?;
                let from: i64 = row.try_get(0).map_err(failed)?;
                let rows = sqlx::query(
                    "SELECT position, connection, data_type, external_id, action, before, after,
                            run_id, at
                     FROM change_feed WHERE position > $1 ORDER BY position LIMIT $2",
                )
                .bind(from)
                .bind(i64::from(read.clamp(1, crate::feed::MAX_FEED_PAGE)))
                .fetch_all(&mut *transaction)
                .await
                .map_err(failed)?;
                let changes = rows
                    .iter()
                    .map(crate::feed::decode_change)
                    .collect::<Result<Vec<_>, _>>()?;
                if changes.is_empty() {
                    transaction.commit().await.map_err(failed)?;
                    return Ok((0, 0));
                }
                let consumed = decide(&changes);
                let now = crate::time::now();
                let mut enqueued = 0;
                for item in &consumed.items {
                    // An item for the same record still waiting covers this one: delivery reads
                    // the record as it is then.
                    let inserted = sqlx::query(
                        "INSERT INTO outbox (connection, operation, session_id, attendee_id, payload,
                                             status, next_attempt_at, created_at, updated_at)
                         SELECT $1, $2, $3, $4, $5, 'pending', $6, $6, $6
                         WHERE NOT EXISTS (
                             SELECT 1 FROM outbox
                             WHERE connection = $1 AND operation = $2 AND attendee_id = $4
                               AND payload = $5 AND status = 'pending')",
                    )
                    .bind(item.connection.as_str())
                    .bind(item.operation.as_str())
                    .bind(item.session_id.as_deref())
                    .bind(item.attendee_id.as_str())
                    .bind(item.payload.to_string())
                    .bind(now.as_str())
                    .execute(&mut *transaction)
                    .await
                    .map_err(failed)?;
                    enqueued += inserted.rows_affected() as usize;
                }
                let position = consumed
                    .position
                    .max(from)
                    .min(changes.last().map_or(from, |change| change.position));
                sqlx::query(
                    "UPDATE feed_checkpoints SET position = $2, updated_at = $3 WHERE consumer = $1",
                )
                .bind(consumer)
                .bind(position)
                .bind(now.as_str())
                .execute(&mut *transaction)
                .await
                .map_err(failed)?;
                transaction.commit().await.map_err(failed)?;
                Ok((changes.len(), enqueued))
            }

            pub(crate) async fn destination_link(
                &self,
                destination: &str,
                connection: &str,
                external_id: &str,
            ) -> Result<Option<crate::feed::DestinationLink>, crate::StoreError> {
                let row = sqlx::query(
                    "SELECT destination, connection, external_id, party_id, remote_id, updated_at
                     FROM destination_links
                     WHERE destination = $1 AND connection = $2 AND external_id = $3",
                )
                .bind(destination)
                .bind(connection)
                .bind(external_id)
                .fetch_optional(&self.$read)
                .await
                .map_err(|error| {
                    crate::error::query_failed(
                        format!("reading what {destination} holds for {external_id}"),
                        error,
                    )
                })?;
                row.as_ref().map(crate::feed::decode_link).transpose()
            }

            pub(crate) async fn set_destination_link(
                &self,
                destination: &str,
                connection: &str,
                external_id: &str,
                party_id: Option<&str>,
                remote_id: Option<&str>,
            ) -> Result<(), crate::StoreError> {
                sqlx::query(
                    "INSERT INTO destination_links
                         (destination, connection, external_id, party_id, remote_id, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (destination, connection, external_id) DO UPDATE SET
                         party_id = excluded.party_id, remote_id = excluded.remote_id,
                         updated_at = excluded.updated_at",
                )
                .bind(destination)
                .bind(connection)
                .bind(external_id)
                .bind(party_id)
                .bind(remote_id)
                .bind(crate::time::now())
                .execute(&self.$write)
                .await
                .map_err(|error| {
                    crate::error::query_failed(
                        format!("recording what {destination} holds for {external_id}"),
                        error,
                    )
                })?;
                Ok(())
            }

            pub(crate) async fn use_link(
                &self,
                site: &str,
                nonce: &str,
                expires_at: &str,
            ) -> Result<bool, crate::StoreError> {
                let now = crate::time::now();
                let failed = |error| crate::error::query_failed("recording a followed link", error);
                let mut transaction = self.$write.begin().await.map_err(failed)?;
                sqlx::query("DELETE FROM used_links WHERE expires_at < $1")
                    .bind(now.as_str())
                    .execute(&mut *transaction)
                    .await
                    .map_err(failed)?;
                let inserted = sqlx::query(
                    "INSERT INTO used_links (site, nonce, expires_at, used_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (site, nonce) DO NOTHING",
                )
                .bind(site)
                .bind(nonce)
                .bind(expires_at)
                .bind(now.as_str())
                .execute(&mut *transaction)
                .await
                .map_err(failed)?;
                transaction.commit().await.map_err(failed)?;
                Ok(inserted.rows_affected() == 1)
            }
        }
    };
}
pub(crate) use feed_tables;

/// The checkpoint read's row lock: PostgreSQL's `FOR UPDATE` where appends are locked, nothing on
/// SQLite (its one writer holds the database).
pub(crate) fn for_update(lock: &str) -> &'static str {
    if lock.is_empty() { "" } else { " FOR UPDATE" }
}

/// The feed read, with one numbered parameter per data type asked for (`$4`…).
pub(crate) fn changes_sql(data_types: usize) -> String {
    let mut sql = String::from(
        "SELECT position, connection, data_type, external_id, action, before, after, run_id, at
         FROM change_feed
         WHERE position > $1 AND ($2 IS NULL OR connection = $2)",
    );
    if data_types > 0 {
        let list: Vec<String> = (0..data_types).map(|i| format!("${}", i + 4)).collect();
        sql.push_str(&format!(" AND data_type IN ({})", list.join(", ")));
    }
    sql.push_str(" ORDER BY position LIMIT $3");
    sql
}

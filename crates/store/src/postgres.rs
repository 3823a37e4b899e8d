//! The PostgreSQL dialect, for several eventsync processes sharing one store.
//!
//! Ordinary `READ COMMITTED` transactions; upserts are `INSERT … ON CONFLICT DO UPDATE` over
//! `UNNEST`ed arrays, so a page is one statement whatever its size. JSON travels as text and is
//! kept as `jsonb`. Migrations run under a transaction-scoped advisory lock so that processes
//! starting together apply each migration once.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Postgres, Row, Transaction};

use crate::codec::{self, RecordRow, RunRow, StateRow};
use crate::error::{explain_open_failure, query_failed, redact_url};
use crate::migrations;
use crate::{NewRun, PageCommit, RunOutcome, RunSummary, StoreError, StoredRecord, SyncState};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
const MAX_CONNECTIONS: u32 = 8;

const RUN_COLUMNS: &str = "id, connection, kind, data_types::text, status, started_at, finished_at, \
     counts::text, api_calls, cursor_before::text, cursor_after::text, errors::text, resets_at";

#[derive(Debug, Clone)]
pub(crate) struct PostgresStore {
    pool: PgPool,
}

// Several processes claim work from one database: each skips the rows another has locked.
crate::serve::serve_tables!(
    PostgresStore,
    pool,
    pool,
    "FOR UPDATE SKIP LOCKED",
    "::jsonb",
    crate::feed::PG_FEED_LOCK
);

crate::feed::feed_tables!(PostgresStore, pool, pool, crate::feed::PG_FEED_LOCK);

// The lease row is locked while it is judged, so two processes never take over the same one.
crate::lease::lease_queries!(
    PostgresStore,
    pool,
    begin,
    "FOR UPDATE OF l",
    "::jsonb",
    "::text"
);

impl PostgresStore {
    /// Opens the database at `url`; with `schema`, creates it if needed and keeps every table in it.
    pub(crate) async fn open(url: &str, schema: Option<&str>) -> Result<PostgresStore, StoreError> {
        let open_failed = |reason: String| StoreError::Open {
            url: redact_url(url),
            reason,
        };
        let mut options = PgConnectOptions::from_str(url)
            .map_err(|error| open_failed(explain_open_failure(&error, url)))?
            .application_name("eventsync");
        if let Some(schema) = schema {
            check_schema_name(schema).map_err(open_failed)?;
            options = options.options([("search_path", schema)]);
        }

        // Connect once by hand: the pool retries a refused connection until its timeout and then
        // reports only that it timed out, which hides the cause.
        let mut probe = match tokio::time::timeout(CONNECT_TIMEOUT, options.connect()).await {
            Ok(Ok(connection)) => connection,
            Ok(Err(error)) => return Err(open_failed(explain_open_failure(&error, url))),
            Err(_) => {
                return Err(open_failed(explain_open_failure(
                    &sqlx::Error::PoolTimedOut,
                    url,
                )));
            }
        };
        if let Some(schema) = schema {
            sqlx::query(AssertSqlSafe(format!(
                "CREATE SCHEMA IF NOT EXISTS \"{schema}\""
            )))
            .execute(&mut probe)
            .await
            .map_err(|error| open_failed(explain_open_failure(&error, url)))?;
        }
        // Closing is a courtesy to the server; the connection is dropped either way.
        let _ = probe.close().await;

        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_lazy_with(options);
        let store = PostgresStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn begin(&self, operation: &str) -> Result<Transaction<'static, Postgres>, StoreError> {
        self.pool
            .begin()
            .await
            .map_err(|error| query_failed(operation, error))
    }

    /// Takes a transaction-scoped advisory lock on `key` within this schema, waiting for any
    /// other process (or task) that holds it; the lock goes with the returned transaction.
    pub(crate) async fn lock_key(
        &self,
        key: &str,
    ) -> Result<Transaction<'static, Postgres>, StoreError> {
        let operation = format!("locking {key}");
        let mut transaction = self.begin(&operation).await?;
        sqlx::query(
            "SELECT pg_advisory_xact_lock(hashtextextended('eventsync.' || current_schema() || '.' || $1, 0))",
        )
        .bind(key)
        .execute(&mut *transaction)
        .await
        .map_err(|error| query_failed(operation, error))?;
        Ok(transaction)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let failed = |error: sqlx::Error| StoreError::Migration(error.to_string());
        let mut transaction = self.pool.begin().await.map_err(failed)?;
        // One key per schema: processes migrating the same schema wait for each other.
        sqlx::query(
            "SELECT pg_advisory_xact_lock(hashtext('eventsync.migrations.' || current_schema()))",
        )
        .execute(&mut *transaction)
        .await
        .map_err(failed)?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
        )
        .execute(&mut *transaction)
        .await
        .map_err(failed)?;
        let applied: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
            .fetch_one(&mut *transaction)
            .await
            .map_err(failed)?;
        for migration in migrations::pending(applied.unwrap_or(0))? {
            sqlx::raw_sql(migration.postgres)
                .execute(&mut *transaction)
                .await
                .map_err(|error| {
                    StoreError::Migration(format!(
                        "migration {} ({}) failed: {error}",
                        migration.version, migration.name
                    ))
                })?;
            sqlx::query(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            )
            .bind(migration.version)
            .bind(migration.name)
            .bind(crate::time::now())
            .execute(&mut *transaction)
            .await
            .map_err(failed)?;
            tracing::info!(
                version = migration.version,
                name = migration.name,
                "applied PostgreSQL migration"
            );
        }
        transaction.commit().await.map_err(failed)
    }

    pub(crate) async fn schema_version(&self) -> Result<i64, StoreError> {
        let version: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
            .fetch_one(&self.pool)
            .await
            .map_err(|error| query_failed("reading the schema version", error))?;
        Ok(version.unwrap_or(0))
    }

    pub(crate) async fn records(
        &self,
        connection: &str,
        data_type: &str,
        external_ids: &[String],
    ) -> Result<HashMap<String, StoredRecord>, StoreError> {
        if external_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = sqlx::query(
            "SELECT external_id, fields::text, raw::text, updated_at FROM records
             WHERE connection = $1 AND data_type = $2 AND external_id = ANY($3)",
        )
        .bind(connection)
        .bind(data_type)
        .bind(external_ids)
        .fetch_all(&self.pool)
        .await
        .map_err(|error| {
            query_failed(format!("reading {connection}/{data_type} records"), error)
        })?;
        rows.iter()
            .map(|row| {
                let record = record_row(row)?.decode()?;
                Ok((record.external_id.clone(), record))
            })
            .collect()
    }

    pub(crate) async fn external_ids(
        &self,
        connection: &str,
        data_type: &str,
    ) -> Result<HashSet<String>, StoreError> {
        sqlx::query_scalar(
            "SELECT external_id FROM records WHERE connection = $1 AND data_type = $2",
        )
        .bind(connection)
        .bind(data_type)
        .fetch_all(&self.pool)
        .await
        .map(|ids: Vec<String>| ids.into_iter().collect())
        .map_err(|error| query_failed(format!("listing {connection}/{data_type} ids"), error))
    }

    pub(crate) async fn count(&self, connection: &str, data_type: &str) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM records WHERE connection = $1 AND data_type = $2",
        )
        .bind(connection)
        .bind(data_type)
        .fetch_one(&self.pool)
        .await
        .map_err(|error| query_failed(format!("counting {connection}/{data_type}"), error))?;
        codec::u64_from_count(count, "COUNT(*)")
    }

    pub(crate) async fn export_page(
        &self,
        connection: Option<&str>,
        data_type: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let failed = |error| query_failed(format!("exporting {data_type} records"), error);
        let rows = match connection {
            Some(connection) => sqlx::query(
                "SELECT external_id, fields::text, raw::text, updated_at FROM records
                 WHERE connection = $1 AND data_type = $2 AND external_id > $3
                 ORDER BY external_id LIMIT $4",
            )
            .bind(connection)
            .bind(data_type)
            .bind(after.unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(failed)?,
            None => {
                let mut rows = sqlx::query(
                    "SELECT external_id, fields::text, raw::text, updated_at, connection FROM records
                     WHERE data_type = $1 AND external_id > $2
                     ORDER BY external_id, connection LIMIT $3",
                )
                .bind(data_type)
                .bind(after.unwrap_or(""))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(failed)?;
                // `after` is an external id alone: finish the last id's connections on this page
                // so that the next page, which starts after that id, misses none.
                if rows.len() == limit as usize
                    && let Some(last) = rows.last()
                {
                    let last_id: String = last.try_get(0).map_err(failed)?;
                    let last_connection: String = last.try_get(4).map_err(failed)?;
                    let rest = sqlx::query(
                        "SELECT external_id, fields::text, raw::text, updated_at, connection
                         FROM records WHERE data_type = $1 AND external_id = $2 AND connection > $3
                         ORDER BY connection",
                    )
                    .bind(data_type)
                    .bind(last_id)
                    .bind(last_connection)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(failed)?;
                    rows.extend(rest);
                }
                rows
            }
        };
        rows.iter().map(|row| record_row(row)?.decode()).collect()
    }

    pub(crate) async fn commit_page_after(
        &self,
        page: &PageCommit,
        before: impl Future<Output = bool>,
    ) -> Result<(), StoreError> {
        if !before.await {
            return Err(codec::earlier_page_failed(page));
        }
        let operation = format!(
            "committing a page of {}/{} for run {}",
            page.connection, page.data_type, page.run_id
        );
        let failed = |error| query_failed(&operation, error);
        let now = crate::time::now();
        let upserts = codec::last_upsert_wins(&page.upserts);
        let mut transaction = self.begin(&operation).await?;

        if let Some(record) = upserts.iter().find(|record| holds_nul(record)) {
            // PostgreSQL would refuse the whole page with an unexplained encoding error.
            return Err(StoreError::Query(format!(
                "{operation}: record {:?} holds a NUL character (U+0000), which PostgreSQL cannot \
                 store; it should have been dropped before the store",
                record.external_id.escape_debug().to_string()
            )));
        }
        if !upserts.is_empty() {
            let external_ids: Vec<&str> = upserts
                .iter()
                .map(|record| record.external_id.as_str())
                .collect();
            let fields: Vec<&str> = upserts
                .iter()
                .map(|record| record.fields.as_str())
                .collect();
            let raws: Vec<&str> = upserts.iter().map(|record| record.raw.as_str()).collect();
            // Unchanged rows are left alone, `updated_at` included: applying a page twice
            // changes nothing.
            sqlx::query(
                "INSERT INTO records (connection, data_type, external_id, fields, raw, updated_at)
                 SELECT $1, $2, page.external_id, page.fields::jsonb, page.raw::jsonb, $3
                 FROM UNNEST($4::text[], $5::text[], $6::text[]) AS page (external_id, fields, raw)
                 ON CONFLICT (connection, data_type, external_id) DO UPDATE SET
                     fields = EXCLUDED.fields, raw = EXCLUDED.raw, updated_at = EXCLUDED.updated_at
                 WHERE records.fields IS DISTINCT FROM EXCLUDED.fields
                    OR records.raw IS DISTINCT FROM EXCLUDED.raw",
            )
            .bind(page.connection.as_str())
            .bind(page.data_type.as_str())
            .bind(now.as_str())
            .bind(external_ids)
            .bind(fields)
            .bind(raws)
            .execute(&mut *transaction)
            .await
            .map_err(failed)?;
        }

        if !page.removals.is_empty() {
            sqlx::query("DELETE FROM records WHERE connection = $1 AND data_type = $2 AND external_id = ANY($3)")
                .bind(page.connection.as_str())
                .bind(page.data_type.as_str())
                .bind(page.removals.as_slice())
                .execute(&mut *transaction)
                .await
                .map_err(failed)?;
        }

        crate::feed::append_feed!(
            transaction,
            crate::feed::PG_FEED_LOCK,
            page.connection.as_str(),
            page.data_type.as_str(),
            Some(page.run_id),
            now.as_str(),
            &crate::feed::page_entries(page)
        )
        .map_err(failed)?;

        let state = &page.state;
        sqlx::query(
            "INSERT INTO sync_state (connection, data_type, cursor, checkpoint, last_success_at,
                                     last_attempt_at, last_full_sync_at, updated_at)
             VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8)
             ON CONFLICT (connection, data_type) DO UPDATE SET
                 cursor = EXCLUDED.cursor, checkpoint = EXCLUDED.checkpoint,
                 last_success_at = EXCLUDED.last_success_at,
                 last_attempt_at = EXCLUDED.last_attempt_at,
                 last_full_sync_at = EXCLUDED.last_full_sync_at,
                 updated_at = EXCLUDED.updated_at",
        )
        .bind(page.connection.as_str())
        .bind(page.data_type.as_str())
        .bind(state.cursor.as_deref())
        .bind(state.checkpoint.as_ref().map(codec::to_json))
        .bind(state.last_success_at.as_deref())
        .bind(state.last_attempt_at.as_deref())
        .bind(state.last_full_sync_at.as_deref())
        .bind(now.as_str())
        .execute(&mut *transaction)
        .await
        .map_err(failed)?;

        add_progress(
            &mut transaction,
            page.run_id,
            &page.data_type,
            &page.counts,
            page.api_calls,
            &now,
        )
        .await
        .map_err(|error| match error {
            StoreError::Query(cause) => StoreError::Query(format!("{operation}: {cause}")),
            other => other,
        })?;
        transaction.commit().await.map_err(failed)
    }

    pub(crate) async fn connection_facts(
        &self,
        connection: &str,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let failed = |error| query_failed(format!("reading the facts of {connection}"), error);
        let row = sqlx::query("SELECT facts::text FROM connection_facts WHERE connection = $1")
            .bind(connection)
            .fetch_optional(&self.pool)
            .await
            .map_err(failed)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let text: String = row.try_get(0).map_err(failed)?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|error| StoreError::Corrupt(format!("facts of {connection}: {error}")))
    }

    pub(crate) async fn set_connection_facts(
        &self,
        connection: &str,
        facts: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let failed = |error| query_failed(format!("writing the facts of {connection}"), error);
        sqlx::query(
            "INSERT INTO connection_facts (connection, facts, updated_at) VALUES ($1, $2::jsonb, $3)
             ON CONFLICT (connection) DO UPDATE SET facts = excluded.facts, updated_at = excluded.updated_at",
        )
        .bind(connection)
        .bind(codec::to_json(facts))
        .bind(crate::time::now())
        .execute(&self.pool)
        .await
        .map_err(failed)?;
        Ok(())
    }

    pub(crate) async fn state(
        &self,
        connection: &str,
        data_type: &str,
    ) -> Result<Option<SyncState>, StoreError> {
        let failed = |error| {
            query_failed(
                format!("reading the state of {connection}/{data_type}"),
                error,
            )
        };
        let row = sqlx::query(
            "SELECT cursor, checkpoint::text, last_success_at, last_attempt_at, last_full_sync_at
             FROM sync_state WHERE connection = $1 AND data_type = $2",
        )
        .bind(connection)
        .bind(data_type)
        .fetch_optional(&self.pool)
        .await
        .map_err(failed)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let state = StateRow {
            cursor: row.try_get(0).map_err(failed)?,
            checkpoint: row.try_get(1).map_err(failed)?,
            last_success_at: row.try_get(2).map_err(failed)?,
            last_attempt_at: row.try_get(3).map_err(failed)?,
            last_full_sync_at: row.try_get(4).map_err(failed)?,
        };
        state.decode(connection, data_type).map(Some)
    }

    pub(crate) async fn start_run(
        &self,
        run: &NewRun,
        owner: &str,
        lease: Option<&crate::RunLease>,
    ) -> Result<i64, StoreError> {
        let operation = format!("starting a {} run of {}", run.kind, run.connection);
        // One statement: the run and its lease's note of it land together.
        sqlx::query_scalar(
            "WITH new_run AS (
                 INSERT INTO runs (connection, kind, data_types, status, started_at, counts,
                                   api_calls, cursor_before, cursor_after, errors, owner,
                                   heartbeat_at)
                 VALUES ($1, $2, $3::jsonb, 'running', $4, '{}', 0, $5::jsonb, 'null', '[]', $6, $4)
                 RETURNING id),
             noted AS (
                 UPDATE run_leases SET run_id = (SELECT id FROM new_run)
                 WHERE connection = $1 AND token = $7)
             SELECT id FROM new_run",
        )
        .bind(run.connection.as_str())
        .bind(run.kind.as_str())
        .bind(codec::to_json(&run.data_types))
        .bind(crate::time::now())
        .bind(codec::to_json(&run.cursor_before))
        .bind(owner)
        .bind(lease.map(|lease| lease.token.as_str()))
        .fetch_one(&self.pool)
        .await
        .map_err(|error| query_failed(&operation, error))
    }

    pub(crate) async fn add_run_progress(
        &self,
        run_id: i64,
        data_type: &str,
        counts: &BTreeMap<String, u64>,
        api_calls: u64,
    ) -> Result<(), StoreError> {
        let operation = format!("recording progress of run {run_id}");
        let now = crate::time::now();
        let mut transaction = self.begin(&operation).await?;
        add_progress(&mut transaction, run_id, data_type, counts, api_calls, &now).await?;
        transaction
            .commit()
            .await
            .map_err(|error| query_failed(&operation, error))
    }

    pub(crate) async fn heartbeat_run(&self, run_id: i64) -> Result<(), StoreError> {
        let updated = sqlx::query("UPDATE runs SET heartbeat_at = $2 WHERE id = $1")
            .bind(run_id)
            .bind(crate::time::now())
            .execute(&self.pool)
            .await
            .map_err(|error| {
                query_failed(format!("recording a heartbeat of run {run_id}"), error)
            })?;
        if updated.rows_affected() == 0 {
            return Err(codec::run_not_found(run_id, "record a heartbeat"));
        }
        Ok(())
    }

    pub(crate) async fn finish_run(
        &self,
        run_id: i64,
        outcome: &RunOutcome,
    ) -> Result<(), StoreError> {
        codec::check_finished_status(&outcome.status)?;
        let now = crate::time::now();
        let updated = sqlx::query(
            "UPDATE runs SET status = $2, finished_at = $3, heartbeat_at = $3,
                             cursor_after = $4::jsonb, errors = $5::jsonb, resets_at = $6
             WHERE id = $1",
        )
        .bind(run_id)
        .bind(outcome.status.as_str())
        .bind(now.as_str())
        .bind(codec::to_json(&outcome.cursor_after))
        .bind(codec::to_json(&outcome.errors))
        .bind(outcome.resets_at.as_deref())
        .execute(&self.pool)
        .await
        .map_err(|error| {
            query_failed(
                format!("finishing run {run_id} as {}", outcome.status),
                error,
            )
        })?;
        if updated.rows_affected() == 0 {
            return Err(codec::run_not_found(run_id, "finish the run"));
        }
        Ok(())
    }

    pub(crate) async fn runs(
        &self,
        connection: Option<&str>,
        limit: u32,
    ) -> Result<Vec<RunSummary>, StoreError> {
        let failed = |error| query_failed("listing runs", error);
        let rows = match connection {
            Some(connection) => sqlx::query(AssertSqlSafe(format!(
                "SELECT {RUN_COLUMNS} FROM runs WHERE connection = $1 ORDER BY id DESC LIMIT $2"
            )))
            .bind(connection)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(failed)?,
            None => sqlx::query(AssertSqlSafe(format!(
                "SELECT {RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT $1"
            )))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(failed)?,
        };
        rows.iter().map(|row| run_row(row)?.decode()).collect()
    }

    pub(crate) async fn run(&self, run_id: i64) -> Result<Option<RunSummary>, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE id = $1"
        )))
        .bind(run_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|error| query_failed(format!("reading run {run_id}"), error))?;
        row.map(|row| run_row(&row)?.decode()).transpose()
    }

    pub(crate) async fn interrupt_stale_runs(&self) -> Result<u64, StoreError> {
        let operation = "marking abandoned runs as interrupted";
        let failed = |error| query_failed(operation, error);
        let now_instant = chrono::Utc::now();
        let now = crate::time::format(now_instant);
        let mut transaction = self.begin(operation).await?;
        // SKIP LOCKED: a run whose row another process holds is being written, so it is alive.
        let running = sqlx::query(
            "SELECT id, owner, heartbeat_at, errors::text FROM runs
             WHERE status = 'running' FOR UPDATE SKIP LOCKED",
        )
        .fetch_all(&mut *transaction)
        .await
        .map_err(failed)?;
        let mut interrupted = 0;
        for row in &running {
            let id: i64 = row.try_get(0).map_err(failed)?;
            let owner: String = row.try_get(1).map_err(failed)?;
            let heartbeat_at: String = row.try_get(2).map_err(failed)?;
            let errors: String = row.try_get(3).map_err(failed)?;
            if !crate::owner::is_abandoned(&owner, &heartbeat_at, now_instant) {
                continue;
            }
            let errors = codec::append_interruption(&errors, id, &owner, &heartbeat_at)?;
            sqlx::query(
                "UPDATE runs SET status = 'interrupted', finished_at = $2, errors = $3::jsonb
                 WHERE id = $1 AND status = 'running'",
            )
            .bind(id)
            .bind(now.as_str())
            .bind(errors)
            .execute(&mut *transaction)
            .await
            .map_err(failed)?;
            interrupted += 1;
        }
        transaction.commit().await.map_err(failed)?;
        Ok(interrupted)
    }
}

/// Adds counts and API calls to a run and refreshes its heartbeat, holding the run's row lock
/// so that concurrent pages of one run add up.
async fn add_progress(
    transaction: &mut Transaction<'static, Postgres>,
    run_id: i64,
    data_type: &str,
    counts: &BTreeMap<String, u64>,
    api_calls: u64,
    now: &str,
) -> Result<(), StoreError> {
    let failed = |error| query_failed(format!("adding progress to run {run_id}"), error);
    let row =
        sqlx::query("SELECT counts::text, api_calls, status FROM runs WHERE id = $1 FOR UPDATE")
            .bind(run_id)
            .fetch_optional(&mut **transaction)
            .await
            .map_err(failed)?
            .ok_or_else(|| codec::run_not_found(run_id, "add progress"))?;
    codec::check_not_interrupted(run_id, &row.try_get::<String, _>(2).map_err(failed)?)?;
    let existing_counts: String = row.try_get(0).map_err(failed)?;
    let existing_calls: i64 = row.try_get(1).map_err(failed)?;
    sqlx::query(
        "UPDATE runs SET counts = $2::jsonb, api_calls = $3, heartbeat_at = $4 WHERE id = $1",
    )
    .bind(run_id)
    .bind(codec::add_counts(
        &existing_counts,
        run_id,
        data_type,
        counts,
    )?)
    .bind(codec::add_api_calls(existing_calls, api_calls))
    .bind(now)
    .execute(&mut **transaction)
    .await
    .map_err(failed)?;
    Ok(())
}

/// Schema names are spliced into SQL (identifiers cannot be bound), so only plain ones pass.
fn check_schema_name(schema: &str) -> Result<(), String> {
    let mut characters = schema.chars();
    let plain = characters
        .next()
        .is_some_and(|first| first.is_ascii_lowercase() || first == '_')
        && characters.all(|rest| rest.is_ascii_lowercase() || rest.is_ascii_digit() || rest == '_')
        && schema.len() <= 63;
    if plain {
        Ok(())
    } else {
        Err(format!(
            "schema name {schema:?} is not a plain identifier: use lowercase letters, digits and _ \
             (at most 63 characters)"
        ))
    }
}

fn record_row(row: &PgRow) -> Result<RecordRow, StoreError> {
    let failed = |error| query_failed("reading a record row", error);
    Ok(RecordRow {
        external_id: row.try_get(0).map_err(failed)?,
        fields: row.try_get(1).map_err(failed)?,
        raw: row.try_get(2).map_err(failed)?,
        updated_at: row.try_get(3).map_err(failed)?,
    })
}

fn run_row(row: &PgRow) -> Result<RunRow, StoreError> {
    let failed = |error| query_failed("reading a run row", error);
    Ok(RunRow {
        id: row.try_get(0).map_err(failed)?,
        connection: row.try_get(1).map_err(failed)?,
        kind: row.try_get(2).map_err(failed)?,
        data_types: row.try_get(3).map_err(failed)?,
        status: row.try_get(4).map_err(failed)?,
        started_at: row.try_get(5).map_err(failed)?,
        finished_at: row.try_get(6).map_err(failed)?,
        counts: row.try_get(7).map_err(failed)?,
        api_calls: row.try_get(8).map_err(failed)?,
        cursor_before: row.try_get(9).map_err(failed)?,
        cursor_after: row.try_get(10).map_err(failed)?,
        errors: row.try_get(11).map_err(failed)?,
        resets_at: row.try_get(12).map_err(failed)?,
    })
}

/// Whether a record holds a NUL character: in its id, or as a `\u0000` escape (after an odd run
/// of backslashes) in its JSON.
fn holds_nul(record: &crate::Upsert) -> bool {
    let escaped = |text: &str| {
        text.match_indices("\\u0000").any(|(at, _)| {
            text.as_bytes()[..at]
                .iter()
                .rev()
                .take_while(|byte| **byte == b'\\')
                .count()
                % 2
                == 0
        })
    };
    record.external_id.contains('\0')
        || escaped(record.fields.as_str())
        || escaped(record.raw.as_str())
}

#[cfg(test)]
mod tests {
    use super::{check_schema_name, holds_nul};
    use crate::{RawJson, Upsert};

    #[test]
    fn a_record_holding_a_nul_is_named_before_postgresql_refuses_the_page() {
        let upsert = |id: &str, raw: &str| Upsert {
            external_id: id.into(),
            fields: RawJson::from_text("{}".into()).expect("JSON"),
            raw: RawJson::from_text(raw.into()).expect("JSON"),
        };
        assert!(holds_nul(&upsert("a\0b", "{}")));
        assert!(holds_nul(&upsert("a", r#"{"n":"x\u0000"}"#)));
        assert!(holds_nul(&upsert("a", r#"{"n":"\\\u0000"}"#)));
        assert!(!holds_nul(&upsert("a", r#"{"n":"\\u0000"}"#)));
        assert!(!holds_nul(&upsert("a", r#"{"n":"x"}"#)));
    }

    #[test]
    fn only_plain_schema_names_are_spliced_into_sql() {
        assert!(check_schema_name("store_test_1a2b").is_ok());
        for bad in [
            "",
            "1abc",
            "Robert",
            "a\"; DROP TABLE runs; --",
            "a-b",
            &"x".repeat(64),
        ] {
            assert!(check_schema_name(bad).is_err(), "{bad:?}");
        }
    }
}

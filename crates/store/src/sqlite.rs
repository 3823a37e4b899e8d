//! The SQLite dialect: one file (or memory), one writer connection, a few readers.
//!
//! WAL lets readers run beside the writer; `synchronous=NORMAL` keeps commits durable across a
//! process crash (only an OS crash can lose the last commits). Every write transaction starts with
//! `BEGIN IMMEDIATE`, which takes the write lock up front: a deferred transaction that upgrades
//! later fails with `SQLITE_BUSY_SNAPSHOT` without waiting on the busy timeout. The writer pool
//! holds a single connection, so writers in this process queue instead of contending.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Row, Sqlite, Transaction};

use crate::codec::{self, RecordRow, RunRow, StateRow};
use crate::error::{explain_open_failure, query_failed, redact_url, sqlite_locked};
use crate::migrations;
use crate::packing;
use crate::{NewRun, PageCommit, RunOutcome, RunSummary, StoreError, StoredRecord, SyncState};

/// How long a writer waits for another process's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Rows per multi-row `INSERT`: 6 parameters each, far below SQLite's 32,766-parameter limit,
/// and large enough that a 200-record page costs two statements.
const UPSERT_ROWS_PER_STATEMENT: usize = 100;

/// The writer's page cache, in KiB (negative, as `PRAGMA cache_size` takes KiB): room for the
/// pages a sync's commit of a few thousand records dirties in an event of a hundred thousand.
/// With SQLite's default 2 MiB, such a commit spilt pages into the WAL before it ended, and
/// wrote some of them twice.
const WRITER_CACHE_KIB: &str = "-16384";

const READER_CONNECTIONS: u32 = 4;

const RUN_COLUMNS: &str = "id, connection, kind, data_types, status, started_at, finished_at, \
     counts, api_calls, cursor_before, cursor_after, errors, resets_at";

/// How often the checkpointer copies committed pages from the WAL into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

/// WAL frames (pages) beyond which the checkpointer waits for a moment without writers, so the
/// WAL starts over instead of growing: about 256 MiB at the default 4 KiB page.
const WAL_RESTART_FRAMES: i64 = 65_536;

#[derive(Debug, Clone)]
pub(crate) struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    /// `None` for an in-memory database, which has no WAL.
    checkpointer: Option<Arc<Checkpointer>>,
    dictionaries: Arc<Dictionaries>,
}

/// The stream dictionaries values in this database are packed with (see `packing`): loaded at
/// open, and again when a value names one that another process made since.
#[derive(Debug, Default)]
struct Dictionaries {
    by_id: std::sync::RwLock<HashMap<u32, Arc<packing::StreamDictionary>>>,
    /// The dictionary each (connection, data type) packs with: its latest.
    by_stream: std::sync::RwLock<HashMap<(String, String), u32>>,
}

impl Dictionaries {
    fn of_stream(
        &self,
        connection: &str,
        data_type: &str,
    ) -> Option<Arc<packing::StreamDictionary>> {
        let by_stream = self.by_stream.read().unwrap_or_else(|e| e.into_inner());
        let id = by_stream.get(&(connection.to_string(), data_type.to_string()))?;
        self.by_id
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    fn add(&self, id: u32, connection: String, data_type: String, bytes: Vec<u8>) {
        self.by_id
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(id)
            .or_insert_with(|| Arc::new(packing::StreamDictionary::new(id, bytes)));
        let mut by_stream = self.by_stream.write().unwrap_or_else(|e| e.into_inner());
        let latest = by_stream.entry((connection, data_type)).or_insert(id);
        *latest = (*latest).max(id);
    }

    /// Whether a row holds a value packed with a dictionary not loaded here.
    fn lacks_one_of(&self, rows: &[SqliteRow]) -> bool {
        let by_id = self.by_id.read().unwrap_or_else(|e| e.into_inner());
        rows.iter().any(|row| {
            [1, 2].into_iter().any(|index| {
                row.try_get_unchecked::<&[u8], _>(index)
                    .ok()
                    .and_then(packing::dictionary_of)
                    .is_some_and(|id| !by_id.contains_key(&id))
            })
        })
    }
}

/// Copies the WAL into the database file from its own connection, off the writer's path.
///
/// With SQLite's automatic checkpoints, the transaction that crosses the WAL's threshold copies
/// the pages and waits for them to reach the disk (`fsync`) before it returns: during a sync
/// that was a third of the time, with the writer — the one part that cannot run in parallel —
/// idle. Here the writer's connection never checkpoints and a task does it every
/// [`CHECKPOINT_EVERY`], so commits only append to the WAL. Durability is unchanged: a commit
/// is in the WAL when it returns, as before.
#[derive(Debug)]
struct Checkpointer {
    stop: tokio::sync::watch::Sender<bool>,
    task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Checkpointer {
    async fn start(options: SqliteConnectOptions) -> Result<Checkpointer, sqlx::Error> {
        let mut connection = options.connect().await?;
        let writeback = Writeback::open(options.get_filename());
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(CHECKPOINT_EVERY) => {}
                    _ = stopped.changed() => break,
                }
                checkpoint(&mut connection).await;
                writeback.start().await;
            }
            if *stopped.borrow() {
                // Closed: the last copy empties the WAL, and closing what is then the last
                // connection removes it and the shared-memory file, so the database file alone
                // is the whole workspace.
                if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(&mut connection)
                    .await
                {
                    tracing::warn!(%error, "the last SQLite checkpoint failed; the WAL keeps every commit");
                }
            } else {
                // Dropped unclosed: other connections may still be open, so copy what can be
                // copied without waiting for them.
                checkpoint(&mut connection).await;
            }
            let _ = connection.close().await;
        });
        Ok(Checkpointer {
            stop,
            task: std::sync::Mutex::new(Some(task)),
        })
    }

    /// Stops the task after a last checkpoint.
    async fn finish(&self) {
        let _ = self.stop.send(true);
        let task = self.task.lock().ok().and_then(|mut task| task.take());
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

// When the last store handle is dropped unclosed, the sender goes with it: the task sees the
// channel close, does a last checkpoint and ends.

/// Starts the disk writing the database file's pages that checkpoints copied, without waiting.
///
/// A checkpoint that runs beside a writer copies what it can but seldom reaches the WAL's end,
/// and only a checkpoint that does syncs the database file. The copied pages then wait in the
/// kernel's cache until the sync after a sync's last commit, which found hundreds of megabytes
/// to write: for 100,000 attendees, 0.7–1.0 s between the run's end and the process's. Asking
/// for the writing as pages are copied spreads it over the run. Linux only (`sync_file_range`);
/// elsewhere the last sync does it all, as before.
#[derive(Debug)]
struct Writeback(Option<Arc<std::fs::File>>);

impl Writeback {
    fn open(path: &std::path::Path) -> Writeback {
        Writeback(std::fs::File::open(path).ok().map(Arc::new))
    }

    async fn start(&self) {
        #[cfg(target_os = "linux")]
        if let Some(file) = self.0.clone() {
            let _ = tokio::task::spawn_blocking(move || {
                use std::os::fd::AsRawFd;
                // SAFETY: the descriptor is open for as long as `file` lives, and
                // `sync_file_range` reads no memory of ours; offset 0 and length 0 mean the
                // whole file. SYNC_FILE_RANGE_WRITE starts the writing and does not wait for it.
                unsafe {
                    libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
                }
            })
            .await;
        }
    }
}

/// Runs `attempt` again while SQLite answers that another connection holds a lock, for up to
/// [`BUSY_TIMEOUT`].
///
/// Opening a file sets its journal mode and reads the WAL's index, which another process may hold
/// for a moment: while it creates the file, or while its last connection closes (copying the WAL
/// into the file and removing it). There SQLite can answer `SQLITE_BUSY` at once rather than wait
/// on the busy timeout, so the wait is here.
async fn while_locked<T, F, Attempt>(mut attempt: Attempt) -> Result<T, sqlx::Error>
where
    Attempt: FnMut() -> F,
    F: std::future::Future<Output = Result<T, sqlx::Error>>,
{
    let deadline = tokio::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match attempt().await {
            Err(error) if sqlite_locked(&error) && tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            outcome => return outcome,
        }
    }
}

/// One checkpoint; failures are logged and left to the next one (the WAL keeps every commit).
async fn checkpoint(connection: &mut SqliteConnection) {
    let passive = sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(&mut *connection)
        .await;
    match passive {
        Ok((_, frames, _)) if frames > WAL_RESTART_FRAMES => {
            // Writers wait (up to the busy timeout) while the WAL is copied and restarted.
            if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(RESTART)")
                .execute(&mut *connection)
                .await
            {
                tracing::warn!(%error, "could not restart the SQLite WAL; it will be tried again");
            }
        }
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "SQLite checkpoint failed; it will be tried again"),
    }
}

crate::serve::serve_tables!(SqliteStore, writer, reader, "", "", "");

crate::feed::feed_tables!(SqliteStore, writer, reader, "");

// `BEGIN IMMEDIATE` takes the write lock first: two processes never read the same free lease.
crate::lease::lease_queries!(SqliteStore, writer, begin_write, "", "", "");

impl SqliteStore {
    pub(crate) async fn open(url: &str) -> Result<SqliteStore, StoreError> {
        let open_failed = |reason: String| StoreError::Open {
            url: redact_url(url),
            reason,
        };
        let (options, in_memory) = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|error| open_failed(explain_open_failure(&error, url)))?;
            (
                options,
                url.contains(":memory:") || url.contains("mode=memory"),
            )
        } else {
            (SqliteConnectOptions::new().filename(url), false)
        };
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            // A multi-row upsert inside a transaction keeps a statement journal, so that a
            // failing row undoes only its statement. In a file that is a temporary file created,
            // written (about 2.8 KB per record synced) and deleted for every page; in memory it
            // is a copy.
            .pragma("temp_store", "memory");

        // An in-memory database lives as long as a connection to it: keep exactly one, forever,
        // and let reads share it.
        let writer_options = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60));
        let writer_options = if in_memory {
            writer_options
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            writer_options
        };
        let writer_connect = options
            .clone()
            .pragma("wal_autocheckpoint", "0")
            .pragma("cache_size", WRITER_CACHE_KIB);
        let writer = while_locked(|| writer_options.clone().connect_with(writer_connect.clone()))
            .await
            .map_err(|error| open_failed(explain_open_failure(&error, url)))?;
        let reader = if in_memory {
            writer.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(READER_CONNECTIONS)
                .acquire_timeout(Duration::from_secs(60))
                .connect_lazy_with(options.clone())
        };
        let checkpointer = if in_memory {
            None
        } else {
            Some(Arc::new(
                while_locked(|| Checkpointer::start(options.clone()))
                    .await
                    .map_err(|error| open_failed(explain_open_failure(&error, url)))?,
            ))
        };
        let store = SqliteStore {
            writer,
            reader,
            checkpointer,
            dictionaries: Arc::default(),
        };
        store.migrate().await?;
        store.load_dictionaries().await?;
        Ok(store)
    }

    pub(crate) async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.finish().await;
        }
    }

    async fn begin_write(
        &self,
        operation: &str,
    ) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|error| query_failed(operation, error))
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let failed = |error: sqlx::Error| StoreError::Migration(error.to_string());
        // With nothing to apply, no write lock is taken: a command that only reads is not held
        // up by another process's write in progress.
        let applied: Result<Option<i64>, sqlx::Error> =
            sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
                .fetch_one(&self.writer)
                .await;
        if let Ok(applied) = applied
            && migrations::pending(applied.unwrap_or(0))?.is_empty()
        {
            return Ok(());
        }
        let mut transaction = self
            .writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(failed)?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
        )
        .execute(&mut *transaction)
        .await
        .map_err(failed)?;
        let applied: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
            .fetch_one(&mut *transaction)
            .await
            .map_err(failed)?;
        for migration in migrations::pending(applied.unwrap_or(0))? {
            sqlx::raw_sql(migration.sqlite)
                .execute(&mut *transaction)
                .await
                .map_err(|error| {
                    StoreError::Migration(format!(
                        "migration {} ({}) failed: {error}",
                        migration.version, migration.name
                    ))
                })?;
            sqlx::query(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
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
                "applied SQLite migration"
            );
        }
        transaction.commit().await.map_err(failed)
    }

    pub(crate) async fn schema_version(&self) -> Result<i64, StoreError> {
        let version: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
            .fetch_one(&self.reader)
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
        // One parameter holding a JSON array keeps the statement the same (and cached) for
        // any number of ids.
        let rows = sqlx::query(
            "SELECT external_id, fields, raw, updated_at FROM records
             WHERE connection = ?1 AND data_type = ?2
               AND external_id IN (SELECT value FROM json_each(?3))",
        )
        .bind(connection)
        .bind(data_type)
        .bind(codec::to_json(external_ids))
        .fetch_all(&self.reader)
        .await
        .map_err(|error| {
            query_failed(format!("reading {connection}/{data_type} records"), error)
        })?;
        Ok(self
            .decode_records(&rows)
            .await?
            .into_iter()
            .map(|record| (record.external_id.clone(), record))
            .collect())
    }

    pub(crate) async fn external_ids(
        &self,
        connection: &str,
        data_type: &str,
    ) -> Result<HashSet<String>, StoreError> {
        sqlx::query_scalar(
            "SELECT external_id FROM records WHERE connection = ?1 AND data_type = ?2",
        )
        .bind(connection)
        .bind(data_type)
        .fetch_all(&self.reader)
        .await
        .map(|ids: Vec<String>| ids.into_iter().collect())
        .map_err(|error| query_failed(format!("listing {connection}/{data_type} ids"), error))
    }

    pub(crate) async fn count(&self, connection: &str, data_type: &str) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM records WHERE connection = ?1 AND data_type = ?2",
        )
        .bind(connection)
        .bind(data_type)
        .fetch_one(&self.reader)
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
                "SELECT external_id, fields, raw, updated_at FROM records
                 WHERE connection = ?1 AND data_type = ?2 AND external_id > ?3
                 ORDER BY external_id LIMIT ?4",
            )
            .bind(connection)
            .bind(data_type)
            .bind(after.unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await
            .map_err(failed)?,
            None => {
                let mut rows = sqlx::query(
                    "SELECT external_id, fields, raw, updated_at, connection FROM records
                     WHERE data_type = ?1 AND external_id > ?2
                     ORDER BY external_id, connection LIMIT ?3",
                )
                .bind(data_type)
                .bind(after.unwrap_or(""))
                .bind(i64::from(limit))
                .fetch_all(&self.reader)
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
                        "SELECT external_id, fields, raw, updated_at, connection FROM records
                         WHERE data_type = ?1 AND external_id = ?2 AND connection > ?3
                         ORDER BY connection",
                    )
                    .bind(data_type)
                    .bind(last_id)
                    .bind(last_connection)
                    .fetch_all(&self.reader)
                    .await
                    .map_err(failed)?;
                    rows.extend(rest);
                }
                rows
            }
        };
        self.decode_records(&rows).await
    }

    /// Records from their rows, first loading the dictionaries another process made when a
    /// value was packed with one of them.
    async fn decode_records(&self, rows: &[SqliteRow]) -> Result<Vec<StoredRecord>, StoreError> {
        if self.dictionaries.lacks_one_of(rows) {
            self.load_dictionaries().await?;
        }
        let by_id = self
            .dictionaries
            .by_id
            .read()
            .unwrap_or_else(|e| e.into_inner());
        let find = |id: u32| by_id.get(&id).map(Arc::as_ref);
        rows.iter()
            .map(|row| record_row(row, find)?.decode())
            .collect()
    }

    async fn load_dictionaries(&self) -> Result<(), StoreError> {
        let rows: Vec<(i64, String, String, Vec<u8>)> = sqlx::query_as(
            "SELECT id, connection, data_type, bytes FROM packing_dictionaries ORDER BY id",
        )
        .fetch_all(&self.reader)
        .await
        .map_err(|error| query_failed("reading the packing dictionaries", error))?;
        for (id, connection, data_type, bytes) in rows {
            self.dictionaries
                .add(dictionary_id(id)?, connection, data_type, bytes);
        }
        Ok(())
    }

    /// The dictionary a stream's values are packed with: its own once it has one, made from
    /// the first [`packing::SAMPLE_RECORDS`] records a commit brings (`None` until then, and
    /// the built-in dictionary packs).
    async fn stream_dictionary(
        &self,
        connection: &str,
        data_type: &str,
        upserts: &[&crate::Upsert],
    ) -> Result<Option<Arc<packing::StreamDictionary>>, StoreError> {
        if let Some(known) = self.dictionaries.of_stream(connection, data_type) {
            return Ok(Some(known));
        }
        let samples: Vec<[&str; 2]> = upserts
            .iter()
            .take(packing::SAMPLE_RECORDS)
            .map(|record| [record.fields.as_str(), record.raw.as_str()])
            .collect();
        let Some(bytes) = packing::stream_dictionary(&samples) else {
            return Ok(None);
        };
        let operation = format!("storing the packing dictionary of {connection}/{data_type}");
        let failed = |error| query_failed(&operation, error);
        let mut transaction = self.begin_write(&operation).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO packing_dictionaries (connection, data_type, bytes, created_at)
             VALUES (?1, ?2, ?3, ?4) RETURNING id",
        )
        .bind(connection)
        .bind(data_type)
        .bind(&bytes)
        .bind(crate::time::now())
        .fetch_one(&mut *transaction)
        .await
        .map_err(failed)?;
        transaction.commit().await.map_err(failed)?;
        self.dictionaries.add(
            dictionary_id(id)?,
            connection.to_string(),
            data_type.to_string(),
            bytes,
        );
        Ok(self.dictionaries.of_stream(connection, data_type))
    }

    pub(crate) async fn commit_page_after(
        &self,
        page: &PageCommit,
        before: impl Future<Output = bool>,
    ) -> Result<(), StoreError> {
        let operation = format!(
            "committing a page of {}/{} for run {}",
            page.connection, page.data_type, page.run_id
        );
        let failed = |error| query_failed(&operation, error);
        let upserts = codec::last_upsert_wins(&page.upserts);
        let dictionary = self
            .stream_dictionary(&page.connection, &page.data_type, &upserts)
            .await?;
        let dictionary = dictionary.as_deref();
        // Packing is most of a page's CPU time outside SQLite: it runs while the page before
        // is still being written.
        let packed: Vec<(&str, Vec<u8>, Vec<u8>)> = upserts
            .iter()
            .map(|record| {
                (
                    record.external_id.as_str(),
                    packing::pack(record.fields.as_str(), dictionary),
                    packing::pack(record.raw.as_str(), dictionary),
                )
            })
            .collect();
        if !before.await {
            return Err(codec::earlier_page_failed(page));
        }
        let now = crate::time::now();
        let mut transaction = self.begin_write(&operation).await?;

        for chunk in packed.chunks(UPSERT_ROWS_PER_STATEMENT) {
            // Most rows are new: insert them first, which needs no statement journal. Only when
            // some of the ids were stored already does the upsert run, and it leaves the rows
            // just inserted alone (their content is what it would write).
            for write in [RowWrite::InsertNew, RowWrite::Upsert] {
                let mut statement = sqlx::query(AssertSqlSafe(upsert_sql(chunk.len(), write)));
                for (external_id, fields, raw) in chunk {
                    statement = statement
                        .bind(page.connection.as_str())
                        .bind(page.data_type.as_str())
                        .bind(*external_id)
                        .bind(fields.as_slice())
                        .bind(raw.as_slice())
                        .bind(now.as_str());
                }
                let inserted = statement
                    .execute(&mut *transaction)
                    .await
                    .map_err(failed)?
                    .rows_affected();
                if write == RowWrite::InsertNew && inserted == chunk.len() as u64 {
                    break;
                }
            }
        }

        if !page.removals.is_empty() {
            sqlx::query(
                "DELETE FROM records WHERE connection = ?1 AND data_type = ?2
                   AND external_id IN (SELECT value FROM json_each(?3))",
            )
            .bind(page.connection.as_str())
            .bind(page.data_type.as_str())
            .bind(codec::to_json(&page.removals))
            .execute(&mut *transaction)
            .await
            .map_err(failed)?;
        }

        crate::feed::append_feed!(
            transaction,
            "",
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
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (connection, data_type) DO UPDATE SET
                 cursor = excluded.cursor, checkpoint = excluded.checkpoint,
                 last_success_at = excluded.last_success_at,
                 last_attempt_at = excluded.last_attempt_at,
                 last_full_sync_at = excluded.last_full_sync_at,
                 updated_at = excluded.updated_at",
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
        let row = sqlx::query("SELECT facts FROM connection_facts WHERE connection = ?1")
            .bind(connection)
            .fetch_optional(&self.reader)
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
            "INSERT INTO connection_facts (connection, facts, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (connection) DO UPDATE SET facts = excluded.facts, updated_at = excluded.updated_at",
        )
        .bind(connection)
        .bind(codec::to_json(facts))
        .bind(crate::time::now())
        .execute(&self.writer)
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
            "SELECT cursor, checkpoint, last_success_at, last_attempt_at, last_full_sync_at
             FROM sync_state WHERE connection = ?1 AND data_type = ?2",
        )
        .bind(connection)
        .bind(data_type)
        .fetch_optional(&self.reader)
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
        let now = crate::time::now();
        let mut transaction = self.begin_write(&operation).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO runs (connection, kind, data_types, status, started_at, counts, api_calls,
                               cursor_before, cursor_after, errors, owner, heartbeat_at)
             VALUES (?1, ?2, ?3, 'running', ?4, '{}', 0, ?5, 'null', '[]', ?6, ?4)
             RETURNING id",
        )
        .bind(run.connection.as_str())
        .bind(run.kind.as_str())
        .bind(codec::to_json(&run.data_types))
        .bind(now.as_str())
        .bind(codec::to_json(&run.cursor_before))
        .bind(owner)
        .fetch_one(&mut *transaction)
        .await
        .map_err(|error| query_failed(&operation, error))?;
        if let Some(lease) = lease {
            sqlx::query("UPDATE run_leases SET run_id = ?3 WHERE connection = ?1 AND token = ?2")
                .bind(lease.connection.as_str())
                .bind(lease.token.as_str())
                .bind(id)
                .execute(&mut *transaction)
                .await
                .map_err(|error| query_failed(&operation, error))?;
        }
        transaction
            .commit()
            .await
            .map_err(|error| query_failed(&operation, error))?;
        Ok(id)
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
        let mut transaction = self.begin_write(&operation).await?;
        add_progress(&mut transaction, run_id, data_type, counts, api_calls, &now).await?;
        transaction
            .commit()
            .await
            .map_err(|error| query_failed(&operation, error))
    }

    pub(crate) async fn heartbeat_run(&self, run_id: i64) -> Result<(), StoreError> {
        let operation = format!("recording a heartbeat of run {run_id}");
        let mut transaction = self.begin_write(&operation).await?;
        let updated = sqlx::query("UPDATE runs SET heartbeat_at = ?2 WHERE id = ?1")
            .bind(run_id)
            .bind(crate::time::now())
            .execute(&mut *transaction)
            .await
            .map_err(|error| query_failed(&operation, error))?;
        if updated.rows_affected() == 0 {
            return Err(codec::run_not_found(run_id, "record a heartbeat"));
        }
        transaction
            .commit()
            .await
            .map_err(|error| query_failed(&operation, error))
    }

    pub(crate) async fn finish_run(
        &self,
        run_id: i64,
        outcome: &RunOutcome,
    ) -> Result<(), StoreError> {
        codec::check_finished_status(&outcome.status)?;
        let operation = format!("finishing run {run_id} as {}", outcome.status);
        let now = crate::time::now();
        let mut transaction = self.begin_write(&operation).await?;
        let updated = sqlx::query(
            "UPDATE runs SET status = ?2, finished_at = ?3, heartbeat_at = ?3, cursor_after = ?4,
                             errors = ?5, resets_at = ?6
             WHERE id = ?1",
        )
        .bind(run_id)
        .bind(outcome.status.as_str())
        .bind(now.as_str())
        .bind(codec::to_json(&outcome.cursor_after))
        .bind(codec::to_json(&outcome.errors))
        .bind(outcome.resets_at.as_deref())
        .execute(&mut *transaction)
        .await
        .map_err(|error| query_failed(&operation, error))?;
        if updated.rows_affected() == 0 {
            return Err(codec::run_not_found(run_id, "finish the run"));
        }
        transaction
            .commit()
            .await
            .map_err(|error| query_failed(&operation, error))
    }

    pub(crate) async fn runs(
        &self,
        connection: Option<&str>,
        limit: u32,
    ) -> Result<Vec<RunSummary>, StoreError> {
        let failed = |error| query_failed("listing runs", error);
        let rows = match connection {
            Some(connection) => sqlx::query(AssertSqlSafe(format!(
                "SELECT {RUN_COLUMNS} FROM runs WHERE connection = ?1 ORDER BY id DESC LIMIT ?2"
            )))
            .bind(connection)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await
            .map_err(failed)?,
            None => sqlx::query(AssertSqlSafe(format!(
                "SELECT {RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT ?1"
            )))
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await
            .map_err(failed)?,
        };
        rows.iter().map(|row| run_row(row)?.decode()).collect()
    }

    pub(crate) async fn run(&self, run_id: i64) -> Result<Option<RunSummary>, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1"
        )))
        .bind(run_id)
        .fetch_optional(&self.reader)
        .await
        .map_err(|error| query_failed(format!("reading run {run_id}"), error))?;
        row.map(|row| run_row(&row)?.decode()).transpose()
    }

    pub(crate) async fn interrupt_stale_runs(&self) -> Result<u64, StoreError> {
        let operation = "marking abandoned runs as interrupted";
        let failed = |error| query_failed(operation, error);
        let now_instant = chrono::Utc::now();
        let now = crate::time::format(now_instant);
        let mut transaction = self.begin_write(operation).await?;
        let running = sqlx::query(
            "SELECT id, owner, heartbeat_at, errors FROM runs WHERE status = 'running'",
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
                "UPDATE runs SET status = 'interrupted', finished_at = ?2, errors = ?3
                 WHERE id = ?1 AND status = 'running'",
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

/// Adds a page's counts and API calls to its run and refreshes the run's heartbeat.
async fn add_progress(
    transaction: &mut Transaction<'static, Sqlite>,
    run_id: i64,
    data_type: &str,
    counts: &BTreeMap<String, u64>,
    api_calls: u64,
    now: &str,
) -> Result<(), StoreError> {
    let failed = |error| query_failed(format!("adding progress to run {run_id}"), error);
    let row = sqlx::query("SELECT counts, api_calls, status FROM runs WHERE id = ?1")
        .bind(run_id)
        .fetch_optional(&mut **transaction)
        .await
        .map_err(failed)?
        .ok_or_else(|| codec::run_not_found(run_id, "add progress"))?;
    codec::check_not_interrupted(run_id, &row.try_get::<String, _>(2).map_err(failed)?)?;
    let existing_counts: String = row.try_get(0).map_err(failed)?;
    let existing_calls: i64 = row.try_get(1).map_err(failed)?;
    sqlx::query("UPDATE runs SET counts = ?2, api_calls = ?3, heartbeat_at = ?4 WHERE id = ?1")
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

/// How a statement writes a chunk of records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowWrite {
    /// Inserts the rows whose ids are not stored and leaves the others. With `OR FAIL` and no
    /// update, no row of it can make SQLite undo the ones before it (an error ends the whole
    /// transaction anyway), so it keeps no statement journal: a multi-row upsert copied every
    /// page it touched into one, about 5% of a sync's CPU time.
    InsertNew,
    /// Inserts or replaces every row. A row whose content is unchanged is left alone,
    /// `updated_at` included, so applying a page twice changes nothing.
    Upsert,
}

/// `INSERT … VALUES` for `rows` records, six anonymous `?` parameters a row: connection, data
/// type, external id, fields, raw record and time. Anonymous rather than numbered (`?NNN`)
/// parameters, because SQLite finds a numbered parameter's name by a linear search, which the
/// driver asks for every parameter it binds: quadratic in the rows of a statement.
fn upsert_sql(rows: usize, write: RowWrite) -> String {
    const ROW: &str = "(?, ?, ?, ?, ?, ?)";
    let mut sql = String::with_capacity(160 + rows * (ROW.len() + 1) + 300);
    sql.push_str(match write {
        RowWrite::InsertNew => "INSERT OR FAIL",
        RowWrite::Upsert => "INSERT",
    });
    sql.push_str(
        " INTO records (connection, data_type, external_id, fields, raw, updated_at) VALUES ",
    );
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        sql.push_str(ROW);
    }
    sql.push_str(match write {
        RowWrite::InsertNew => " ON CONFLICT (connection, data_type, external_id) DO NOTHING",
        RowWrite::Upsert => {
            " ON CONFLICT (connection, data_type, external_id) DO UPDATE SET
                 fields = excluded.fields, raw = excluded.raw, updated_at = excluded.updated_at
             WHERE records.fields IS NOT excluded.fields OR records.raw IS NOT excluded.raw"
        }
    });
    sql
}

/// A stored dictionary's id as packed values name it (4 bytes).
fn dictionary_id(id: i64) -> Result<u32, StoreError> {
    u32::try_from(id)
        .map_err(|_| StoreError::Corrupt(format!("packing dictionary id {id} is out of range")))
}

fn record_row<'d>(
    row: &SqliteRow,
    find: impl Fn(u32) -> Option<&'d packing::StreamDictionary> + Copy,
) -> Result<RecordRow, StoreError> {
    let failed = |error| query_failed("reading a record row", error);
    let external_id: String = row.try_get(0).map_err(failed)?;
    // Packed values are BLOBs and older rows TEXT: read the bytes either way.
    let json = |index: usize, what: &str| -> Result<String, StoreError> {
        let stored: Vec<u8> = row.try_get_unchecked(index).map_err(failed)?;
        packing::unpack(stored, find).map_err(|reason| {
            StoreError::Corrupt(format!("the {what} of record {external_id:?} {reason}"))
        })
    };
    Ok(RecordRow {
        fields: json(1, "fields")?,
        raw: json(2, "raw record")?,
        updated_at: row.try_get(3).map_err(failed)?,
        external_id: external_id.clone(),
    })
}

fn run_row(row: &SqliteRow) -> Result<RunRow, StoreError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsert_statement_has_six_anonymous_parameters_a_row() {
        for write in [RowWrite::InsertNew, RowWrite::Upsert] {
            let sql = upsert_sql(2, write);
            assert!(
                sql.contains("VALUES (?, ?, ?, ?, ?, ?),(?, ?, ?, ?, ?, ?) ON CONFLICT"),
                "{sql}"
            );
            // Regression guard: numbered parameters made binding quadratic in the rows.
            assert!(!upsert_sql(100, write).contains("?1"));
        }
        assert!(upsert_sql(1, RowWrite::InsertNew).starts_with("INSERT OR FAIL INTO records"));
    }

    fn attendees(data_type: &str, run_id: i64, range: std::ops::Range<usize>) -> PageCommit {
        let upserts = range
            .map(|i| crate::Upsert {
                external_id: format!("att-{i:05}"),
                fields: crate::RawJson::from_value(
                    &serde_json::json!({"email": format!("p{i}@example.com"), "company": "Acme"}),
                ),
                raw: crate::RawJson::from_value(
                    &serde_json::json!({"id": format!("att-{i:05}"), "event": {"id": "ev-1"}}),
                ),
            })
            .collect();
        PageCommit {
            run_id,
            connection: "cvent".to_string(),
            data_type: data_type.to_string(),
            upserts,
            removals: Vec::new(),
            feed: Vec::new(),
            state: SyncState::default(),
            counts: BTreeMap::new(),
            api_calls: 1,
        }
    }

    /// Which dictionary each stored value of a stream names (`None`: the built-in one).
    async fn dictionaries_named(store: &SqliteStore, data_type: &str) -> HashSet<Option<u32>> {
        let rows: Vec<(Vec<u8>, Vec<u8>)> =
            sqlx::query_as("SELECT fields, raw FROM records WHERE data_type = ?1")
                .bind(data_type)
                .fetch_all(&store.reader)
                .await
                .unwrap();
        rows.iter()
            .flat_map(|(fields, raw)| [fields, raw])
            .map(|value| packing::dictionary_of(value))
            .collect()
    }

    #[tokio::test]
    async fn a_stream_packs_with_one_dictionary_of_its_own_once_it_has_enough_records() {
        let dir =
            std::env::temp_dir().join(format!("eventsync-dictionaries-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = SqliteStore::open(dir.join("w.sqlite").to_str().unwrap())
            .await
            .unwrap();
        let run = NewRun {
            connection: "cvent".to_string(),
            kind: "sync".to_string(),
            data_types: vec!["people".to_string()],
            cursor_before: serde_json::json!({}),
        };
        let run_id = store.start_run(&run, "test", None).await.unwrap();
        let commit = |page: PageCommit| {
            let store = store.clone();
            async move {
                store
                    .commit_page_after(&page, async { true })
                    .await
                    .unwrap()
            }
        };

        // Too few records to say what they share: the built-in dictionary packs them.
        commit(attendees(
            "speakers",
            run_id,
            0..packing::SAMPLE_RECORDS - 1,
        ))
        .await;
        assert_eq!(
            dictionaries_named(&store, "speakers").await,
            HashSet::from([None])
        );

        // The first commit large enough makes the stream's dictionary; later ones reuse it.
        commit(attendees("people", run_id, 0..100)).await;
        commit(attendees("people", run_id, 100..300)).await;
        commit(attendees("sessions", run_id, 0..100)).await;
        let people = dictionaries_named(&store, "people").await;
        let sessions = dictionaries_named(&store, "sessions").await;
        assert_eq!(people.len(), 1, "{people:?}");
        assert_eq!(sessions.len(), 1, "{sessions:?}");
        assert!(!people.contains(&None) && people != sessions);
        let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM packing_dictionaries")
            .fetch_one(&store.reader)
            .await
            .unwrap();
        assert_eq!(stored, 2);
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}

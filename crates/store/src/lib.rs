//! The workspace store: records keyed by (connection, data type, external id), each stream's sync
//! state, and the ledger of runs — in one SQLite file (one process) or in PostgreSQL (several).
//!
//! The engine talks to [`Store`] only; it never sees SQL or a dialect. The invariant the store
//! exists for: a page's records, its stream's cursor and its run's counts land in one transaction
//! ([`Store::commit_page`]), so a crash never leaves a cursor ahead of the data it describes.
//!
//! Both dialects keep the same logical tables (`migrations/sqlite`, `migrations/postgres`) and
//! hold their SQL in their own module, run through runtime queries with binds: nothing needs a
//! database at build time.

mod budget;
mod codec;
mod error;
mod feed;
mod lease;
mod migrations;
mod model;
mod owner;
mod packing;
mod postgres;
mod serve;
mod sqlite;
mod time;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

pub use budget::{BudgetLimits, BudgetSlot};
pub use error::{StoreError, redact_url};
pub use feed::{
    Consumed, DestinationLink, FeedAction, FeedChange, FeedEntry, FeedQuery, MAX_FEED_PAGE,
};
pub use lease::{LeaseClaim, LeaseHolder, RunLease};
pub use model::{
    Checkpoint, FINISHED_RUN_STATUSES, NewRun, PageCommit, RUN_STATUS_INTERRUPTED,
    RUN_STATUS_RUNNING, RawJson, RunOutcome, RunSummary, StoredRecord, SyncState, Upsert,
    VendorTotals,
};
pub use owner::HEARTBEAT_STALE_AFTER;
pub use serve::{
    ApiToken, AutoSync, DeliveryOutcome, NewOutboxItem, NewWebhook, OutboxItem, OutboxOperation,
    OutboxQuery, OutboxStatus, TokenScope, WebhookDelivery, WebhookOutcome, WebhookStatus,
};

use postgres::PostgresStore;
use sqlite::SqliteStore;

/// How the external id of a record created in the workspace begins. Vendor ids never do
/// (Cvent's are UUIDs, Aventri's numbers), so the id alone tells such a record from an
/// imported one, and a sync's removal of outdated data passes it by.
pub const LOCAL_ID_PREFIX: &str = "local-";

/// Whether `external_id` names a record created in the workspace rather than imported.
pub fn is_local_id(external_id: &str) -> bool {
    external_id.starts_with(LOCAL_ID_PREFIX)
}

fn check_local(external_id: &str) -> Result<(), StoreError> {
    if is_local_id(external_id) {
        Ok(())
    } else {
        Err(StoreError::Query(format!(
            "'{external_id}' is an imported record's id: only records created in the workspace ({LOCAL_ID_PREFIX}…) are written outside a sync"
        )))
    }
}

/// A lock from [`Store::lock`]; dropping it releases it too.
#[derive(Debug)]
#[must_use = "the lock is released when dropped"]
pub struct KeyLock(Option<sqlx::Transaction<'static, sqlx::Postgres>>);

impl KeyLock {
    /// Releases the lock once what was decided under it is stored.
    pub async fn release(self) -> Result<(), StoreError> {
        match self.0 {
            Some(transaction) => transaction
                .commit()
                .await
                .map_err(|error| error::query_failed("releasing a lock", error)),
            None => Ok(()),
        }
    }
}

/// Which database a [`Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        })
    }
}

/// An open store. Cheap to clone; clones share the connections.
#[derive(Debug, Clone)]
pub struct Store {
    database: Database,
    /// Tags the runs this store starts, so that a run left `running` by a process that died can
    /// be told from one that is still going.
    instance: Arc<owner::Instance>,
    /// The run lease this handle's run is recorded under ([`Store::with_lease`]).
    lease: Option<Arc<LeaseSlot>>,
}

/// A lease a handle records its run under, and that run once recorded.
#[derive(Debug)]
struct LeaseSlot {
    lease: RunLease,
    run_id: std::sync::OnceLock<i64>,
}

#[derive(Debug, Clone)]
enum Database {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

/// Calls the same method on whichever dialect the store runs on.
macro_rules! dispatch {
    ($store:expr, $backend:ident => $call:expr) => {
        match &$store.database {
            Database::Sqlite($backend) => $call,
            Database::Postgres($backend) => $call,
        }
    };
}

impl Store {
    /// Opens the store at `url` — a SQLite file path, `sqlite://path`, `sqlite::memory:`, or
    /// `postgres://…` — and brings its schema up to date. A missing SQLite file is created (its
    /// directory must exist). Errors say what to fix and never show a password.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let database = if error::is_postgres_url(url) {
            Database::Postgres(PostgresStore::open(url, None).await?)
        } else if url.contains("://") && !url.starts_with("sqlite://") {
            return Err(StoreError::Open {
                url: redact_url(url),
                reason: "unsupported kind of database: use a SQLite file path, sqlite://PATH, \
                         sqlite::memory: or postgres://USER@HOST/DATABASE in --database"
                    .to_string(),
            });
        } else {
            Database::Sqlite(SqliteStore::open(url).await?)
        };
        Ok(Store::wrap(database, url))
    }

    /// Opens a PostgreSQL store whose tables live in `schema` (created if missing), for several
    /// workspaces in one database, or tests that must not see each other. `schema` must be a
    /// plain lowercase identifier.
    pub async fn open_in_schema(url: &str, schema: &str) -> Result<Store, StoreError> {
        if !error::is_postgres_url(url) {
            return Err(StoreError::Open {
                url: redact_url(url),
                reason: format!(
                    "schema {schema:?} applies to PostgreSQL only: give a postgres:// URL"
                ),
            });
        }
        let database = Database::Postgres(PostgresStore::open(url, Some(schema)).await?);
        Ok(Store::wrap(database, url))
    }

    fn wrap(database: Database, url: &str) -> Store {
        let store = Store {
            database,
            instance: Arc::new(owner::Instance::register()),
            lease: None,
        };
        tracing::info!(backend = %store.backend(), url = %redact_url(url), "opened store");
        store
    }

    pub fn backend(&self) -> Backend {
        match self.database {
            Database::Sqlite(_) => Backend::Sqlite,
            Database::Postgres(_) => Backend::Postgres,
        }
    }

    /// The schema version the database is at (the number of the last migration applied).
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        dispatch!(self, backend => backend.schema_version().await)
    }

    /// Closes every connection, waiting for those in use to come back. Later calls fail.
    pub async fn close(&self) {
        dispatch!(self, backend => backend.close().await)
    }

    /// Takes one call's slot in `account`'s shared rate budget (see `budget.rs`). PostgreSQL
    /// only: a SQLite workspace's one process keeps its budgets in memory.
    pub async fn take_budget_slot(
        &self,
        account: &str,
        limits: BudgetLimits,
    ) -> Result<BudgetSlot, StoreError> {
        match &self.database {
            Database::Postgres(postgres) => postgres.take_budget_slot(account, limits).await,
            Database::Sqlite(_) => Err(budget::not_shared(account)),
        }
    }

    /// Marks `account`'s shared budget spent until `resets_at`, as the vendor said.
    pub async fn mark_budget_exhausted(
        &self,
        account: &str,
        resets_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        match &self.database {
            Database::Postgres(postgres) => {
                postgres.mark_budget_exhausted(account, resets_at).await
            }
            Database::Sqlite(_) => Err(budget::not_shared(account)),
        }
    }

    /// Records the vendor's own count of `account`'s calls today, unless the shared count is
    /// higher already.
    pub async fn set_budget_used_today(&self, account: &str, used: u64) -> Result<(), StoreError> {
        match &self.database {
            Database::Postgres(postgres) => postgres.set_budget_used_today(account, used).await,
            Database::Sqlite(_) => Err(budget::not_shared(account)),
        }
    }

    /// The stored records among `external_ids`, keyed by external id; ids not stored are absent.
    pub async fn records(
        &self,
        connection: &str,
        data_type: &str,
        external_ids: &[String],
    ) -> Result<HashMap<String, StoredRecord>, StoreError> {
        dispatch!(self, backend => backend.records(connection, data_type, external_ids).await)
    }

    pub async fn external_ids(
        &self,
        connection: &str,
        data_type: &str,
    ) -> Result<HashSet<String>, StoreError> {
        dispatch!(self, backend => backend.external_ids(connection, data_type).await)
    }

    pub async fn count(&self, connection: &str, data_type: &str) -> Result<u64, StoreError> {
        dispatch!(self, backend => backend.count(connection, data_type).await)
    }

    /// Up to `limit` records of `data_type` ordered by external id (byte order), starting after
    /// `after` (exclusive) — for exports and comparisons. With `connection` `None` every
    /// connection's records come, ordered by external id then connection; a page then ends with
    /// all connections' copies of its last id, so it may hold a few more than `limit`.
    pub async fn export_page(
        &self,
        connection: Option<&str>,
        data_type: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        dispatch!(self, backend => backend.export_page(connection, data_type, after, limit).await)
    }

    /// In ONE transaction: upserts the page's records (a record whose content is unchanged keeps
    /// its `updated_at`), deletes its removals, replaces the stream's state, and adds its counts
    /// and API calls to the run. Either all of it lands or none. Fails, changing nothing, when
    /// the run does not exist.
    pub async fn commit_page(&self, page: &PageCommit) -> Result<(), StoreError> {
        self.commit_page_after(page, async { true }).await
    }

    /// [`Store::commit_page`], once `before` (the previous page's commit) says it landed; when
    /// it did not, nothing is written and the result is an error. What can be done ahead — for
    /// SQLite, packing the rows — is done while `before` is still running, so consecutive pages
    /// overlap: one is packed while the one before it is written.
    pub async fn commit_page_after(
        &self,
        page: &PageCommit,
        before: impl Future<Output = bool>,
    ) -> Result<(), StoreError> {
        dispatch!(self, backend => backend.commit_page_after(page, before).await)
    }

    /// What a connection has learnt about its vendor account, as its connector wrote it.
    pub async fn connection_facts(
        &self,
        connection: &str,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        dispatch!(self, backend => backend.connection_facts(connection).await)
    }

    /// Replaces what a connection has learnt about its vendor account.
    pub async fn set_connection_facts(
        &self,
        connection: &str,
        facts: &serde_json::Value,
    ) -> Result<(), StoreError> {
        dispatch!(self, backend => backend.set_connection_facts(connection, facts).await)
    }

    pub async fn state(
        &self,
        connection: &str,
        data_type: &str,
    ) -> Result<Option<SyncState>, StoreError> {
        dispatch!(self, backend => backend.state(connection, data_type).await)
    }

    /// Keeps what a full listing counted of a stream beside its sync state, replacing the
    /// previous count.
    pub async fn set_totals(
        &self,
        connection: &str,
        data_type: &str,
        totals: &VendorTotals,
    ) -> Result<(), StoreError> {
        dispatch!(self, backend => backend.set_totals(connection, data_type, totals).await)
    }

    /// What the last whole full listing of a stream counted, if one has.
    pub async fn totals(
        &self,
        connection: &str,
        data_type: &str,
    ) -> Result<Option<VendorTotals>, StoreError> {
        let text = dispatch!(self, backend => backend.totals(connection, data_type).await)?;
        text.map(|text| {
            serde_json::from_str(&text).map_err(|error| {
                StoreError::Corrupt(format!(
                    "the totals of {connection}/{data_type} are not totals: {error}"
                ))
            })
        })
        .transpose()
    }

    /// Records a new run as `running`, owned by this store, and returns its id. On a handle from
    /// [`Store::with_lease`], the lease names the run from the same transaction on.
    pub async fn start_run(&self, run: &NewRun) -> Result<i64, StoreError> {
        let lease = self.lease.as_deref().map(|slot| &slot.lease);
        let run_id =
            dispatch!(self, backend => backend.start_run(run, self.instance.tag(), lease).await)?;
        if let Some(slot) = &self.lease {
            // A lease covers one run: the engine records one per lease.
            let _ = slot.run_id.set(run_id);
        }
        Ok(run_id)
    }

    /// Adds to a run's counters without touching records (used by previews, which write nothing
    /// else). Also counts as a heartbeat.
    pub async fn add_run_progress(
        &self,
        run_id: i64,
        data_type: &str,
        counts: &BTreeMap<String, u64>,
        api_calls: u64,
    ) -> Result<(), StoreError> {
        dispatch!(self, backend => backend.add_run_progress(run_id, data_type, counts, api_calls).await)
    }

    /// Tells other processes the run is still going. [`Store::commit_page`] and
    /// [`Store::add_run_progress`] do this too; a run quiet for longer than
    /// [`HEARTBEAT_STALE_AFTER`] (waiting out a rate limit, say) should call it.
    pub async fn heartbeat_run(&self, run_id: i64) -> Result<(), StoreError> {
        dispatch!(self, backend => backend.heartbeat_run(run_id).await)
    }

    /// Ends a run with `outcome.status`, one of [`FINISHED_RUN_STATUSES`].
    pub async fn finish_run(&self, run_id: i64, outcome: &RunOutcome) -> Result<(), StoreError> {
        dispatch!(self, backend => backend.finish_run(run_id, outcome).await)
    }

    /// The newest `limit` runs, newest first, of one connection or all.
    pub async fn runs(
        &self,
        connection: Option<&str>,
        limit: u32,
    ) -> Result<Vec<RunSummary>, StoreError> {
        dispatch!(self, backend => backend.runs(connection, limit).await)
    }

    pub async fn run(&self, run_id: i64) -> Result<Option<RunSummary>, StoreError> {
        dispatch!(self, backend => backend.run(run_id).await)
    }

    /// Marks as `interrupted` the runs still `running` whose process died (called at startup),
    /// and returns how many. A run is left alone while its store is open in this process, while
    /// its process is alive on this host, and — for other hosts — until its heartbeat is older
    /// than [`HEARTBEAT_STALE_AFTER`].
    pub async fn interrupt_stale_runs(&self) -> Result<u64, StoreError> {
        dispatch!(self, backend => backend.interrupt_stale_runs().await)
    }

    // ---- run leases: one run per connection across processes (see `lease.rs`) ---------------

    /// Takes the connection's run lease for `duration` — unless another run holds it, whose
    /// holder comes back instead. A lease that ran out, or whose holder is known to be gone, is
    /// taken over, and the run it covered, if still `running`, is marked `interrupted`.
    pub async fn take_run_lease(
        &self,
        connection: &str,
        kind: &str,
        duration: std::time::Duration,
    ) -> Result<LeaseClaim, StoreError> {
        let holder = self.instance.tag();
        dispatch!(self, backend => backend.take_run_lease(connection, kind, holder, duration).await)
    }

    /// A handle on the same store whose [`Store::start_run`] records the run in `lease`.
    pub fn with_lease(&self, lease: &RunLease) -> Store {
        Store {
            lease: Some(Arc::new(LeaseSlot {
                lease: lease.clone(),
                run_id: std::sync::OnceLock::new(),
            })),
            ..self.clone()
        }
    }

    /// The run a handle from [`Store::with_lease`] (or a clone of it) has recorded, once it has.
    pub fn leased_run_id(&self) -> Option<i64> {
        self.lease
            .as_ref()
            .and_then(|slot| slot.run_id.get().copied())
    }

    /// Extends the lease by `duration` from now, with its run's heartbeat; `false` when the
    /// lease is no longer this holder's (it ran out and another process took it over).
    pub async fn renew_run_lease(
        &self,
        lease: &RunLease,
        duration: std::time::Duration,
    ) -> Result<bool, StoreError> {
        dispatch!(self, backend => backend.renew_run_lease(lease, duration).await)
    }

    /// Gives the lease back; a lease already taken over is left to its new holder.
    pub async fn release_run_lease(&self, lease: &RunLease) -> Result<(), StoreError> {
        dispatch!(self, backend => backend.release_run_lease(lease).await)
    }

    /// The run recorded under `lease`, once there is one (and while the lease is held).
    pub async fn leased_run(&self, lease: &RunLease) -> Result<Option<i64>, StoreError> {
        dispatch!(self, backend => backend.leased_run(lease).await)
    }

    /// Who holds the connection's run lease, if anyone does.
    pub async fn run_lease(&self, connection: &str) -> Result<Option<LeaseHolder>, StoreError> {
        dispatch!(self, backend => backend.run_lease(connection).await)
    }

    // ---- serve: outbox, webhook inbox, API tokens, auto sync ----------------------------------

    /// Stores a record created in the workspace rather than imported (its id starts with
    /// [`LOCAL_ID_PREFIX`]); syncs never send, change or remove it.
    pub async fn save_local_record(
        &self,
        connection: &str,
        data_type: &str,
        record: &StoredRecord,
    ) -> Result<(), StoreError> {
        check_local(&record.external_id)?;
        dispatch!(self, backend => backend.save_local_record(connection, data_type, record).await)
    }

    /// Removes a record created in the workspace; `false` when there was none.
    pub async fn remove_local_record(
        &self,
        connection: &str,
        data_type: &str,
        external_id: &str,
    ) -> Result<bool, StoreError> {
        check_local(external_id)?;
        dispatch!(self, backend => backend.remove_local_record(connection, data_type, external_id).await)
    }

    /// Changes from the feed, in order, after `query.after`.
    pub async fn changes(&self, query: &FeedQuery) -> Result<Vec<FeedChange>, StoreError> {
        dispatch!(self, backend => backend.changes(query).await)
    }

    /// The feed's last position (0 while it is empty).
    pub async fn feed_position(&self) -> Result<i64, StoreError> {
        dispatch!(self, backend => backend.feed_position().await)
    }

    /// How far `consumer` has read the feed (0 before its first read).
    pub async fn feed_checkpoint(&self, consumer: &str) -> Result<i64, StoreError> {
        dispatch!(self, backend => backend.feed_checkpoint(consumer).await)
    }

    /// Reads up to `read` changes after `consumer`'s checkpoint and, in one transaction, stores
    /// the outbox items `decide` makes of them and moves the checkpoint to the position it
    /// names (never past the last change read). An item for a record that already waits in the
    /// outbox as the same pending item is not stored twice. Two callers with the same consumer
    /// never read the same changes. Returns the changes read and the items stored.
    pub async fn consume_feed(
        &self,
        consumer: &str,
        read: u32,
        decide: &mut (dyn FnMut(&[FeedChange]) -> Consumed + Send),
    ) -> Result<(usize, usize), StoreError> {
        dispatch!(self, backend => backend.consume_feed(consumer, read, decide).await)
    }

    /// What `destination` holds for a workspace record, as last recorded.
    pub async fn destination_link(
        &self,
        destination: &str,
        connection: &str,
        external_id: &str,
    ) -> Result<Option<DestinationLink>, StoreError> {
        dispatch!(self, backend => backend.destination_link(destination, connection, external_id).await)
    }

    /// Records what `destination` holds for a workspace record (both `None`: nothing).
    pub async fn set_destination_link(
        &self,
        destination: &str,
        connection: &str,
        external_id: &str,
        party_id: Option<&str>,
        remote_id: Option<&str>,
    ) -> Result<(), StoreError> {
        dispatch!(self, backend => backend.set_destination_link(destination, connection, external_id, party_id, remote_id).await)
    }

    /// Records that the signed link `nonce` of `site` was followed; `false` when it had been
    /// already. Links past their expiry are forgotten as new ones are recorded.
    pub async fn use_link(
        &self,
        site: &str,
        nonce: &str,
        expires_at: &str,
    ) -> Result<bool, StoreError> {
        dispatch!(self, backend => backend.use_link(site, nonce, expires_at).await)
    }

    /// Waits until no other holder, in this process or another on the same database, has
    /// `key` locked, and holds it until the returned lock is released or dropped. A decision
    /// read from the store and written back under it (a seat in a session) is then made by
    /// one caller at a time. PostgreSQL: a transaction-scoped advisory lock. SQLite has one
    /// serving process and one writer, so its callers serialize in that process instead.
    pub async fn lock(&self, key: &str) -> Result<KeyLock, StoreError> {
        match &self.database {
            Database::Sqlite(_) => Ok(KeyLock(None)),
            Database::Postgres(backend) => backend.lock_key(key).await.map(|t| KeyLock(Some(t))),
        }
    }

    /// Stores a write for a vendor as `pending` (or `local`, never to be sent).
    pub async fn enqueue_outbox(&self, item: &NewOutboxItem) -> Result<OutboxItem, StoreError> {
        dispatch!(self, backend => backend.enqueue_outbox(item).await)
    }

    /// Takes up to `limit` due outbox items for this store's worker, in id order, leasing them
    /// for `lease`: items pending whose time has come, and items whose worker's lease ran out
    /// (its process died mid-delivery). Each claim counts as an attempt.
    pub async fn claim_outbox(
        &self,
        limit: u32,
        lease: std::time::Duration,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        dispatch!(self, backend => backend.claim_outbox(self.instance.tag(), limit, lease).await)
    }

    /// Records how delivering a claimed item ended. Returns `false`, changing nothing, when this
    /// store no longer holds the item's lease (another worker took it over).
    pub async fn finish_outbox(
        &self,
        id: i64,
        outcome: &DeliveryOutcome,
    ) -> Result<bool, StoreError> {
        dispatch!(self, backend => backend.finish_outbox(id, self.instance.tag(), outcome).await)
    }

    /// Makes every claimed outbox item and webhook delivery claimable again at once, and returns
    /// how many. Only for a store no other process works on — a SQLite file at the start of
    /// `serve` — where whatever is claimed was left by a process that died; elsewhere leases
    /// run out on their own.
    pub async fn release_claims(&self) -> Result<u64, StoreError> {
        dispatch!(self, backend => backend.release_claims().await)
    }

    pub async fn outbox(&self, query: &OutboxQuery) -> Result<Vec<OutboxItem>, StoreError> {
        if query.limit == 0 {
            return Ok(Vec::new());
        }
        dispatch!(self, backend => backend.outbox(query).await)
    }

    pub async fn outbox_item(&self, id: i64) -> Result<Option<OutboxItem>, StoreError> {
        dispatch!(self, backend => backend.outbox_item(id).await)
    }

    /// Outbox items per status (`pending`, `sending`, `sent`, `failed`, `local`).
    pub async fn outbox_counts(&self) -> Result<BTreeMap<String, u64>, StoreError> {
        dispatch!(self, backend => backend.outbox_counts().await)
    }

    /// Keeps a webhook delivery as `pending` and returns its id, or `None` when a delivery with
    /// the same message stub (in any letter case) was kept before.
    pub async fn record_webhook(&self, webhook: &NewWebhook) -> Result<Option<i64>, StoreError> {
        dispatch!(self, backend => backend.record_webhook(webhook).await)
    }

    /// Takes up to `limit` webhook deliveries to process, leased like [`Store::claim_outbox`].
    pub async fn claim_webhooks(
        &self,
        limit: u32,
        lease: std::time::Duration,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        dispatch!(self, backend => backend.claim_webhooks(self.instance.tag(), limit, lease).await)
    }

    /// Records how processing a claimed delivery ended; `false` when the lease was lost.
    pub async fn finish_webhook(
        &self,
        id: i64,
        outcome: &WebhookOutcome,
    ) -> Result<bool, StoreError> {
        dispatch!(self, backend => backend.finish_webhook(id, self.instance.tag(), outcome).await)
    }

    /// Webhook deliveries in id order after `after_id`, of one connection or all.
    pub async fn webhooks(
        &self,
        connection: Option<&str>,
        after_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        dispatch!(self, backend => backend.webhooks(connection, after_id, limit).await)
    }

    /// Webhook deliveries per status.
    pub async fn webhook_counts(&self) -> Result<BTreeMap<String, u64>, StoreError> {
        dispatch!(self, backend => backend.webhook_counts().await)
    }

    /// Keeps a new API token that may do everything ([`TokenScope::Admin`]) by its hash (the
    /// caller hashes; the token itself is never stored).
    pub async fn add_api_token(
        &self,
        name: &str,
        token_hash: &str,
    ) -> Result<ApiToken, StoreError> {
        self.add_scoped_api_token(name, token_hash, TokenScope::Admin)
            .await
    }

    /// Keeps a new API token of `scope` by its hash. A live token with the same name is a
    /// [`StoreError::Conflict`].
    pub async fn add_scoped_api_token(
        &self,
        name: &str,
        token_hash: &str,
        scope: TokenScope,
    ) -> Result<ApiToken, StoreError> {
        dispatch!(self, backend => backend.add_api_token(name, token_hash, scope).await)
    }

    /// The live (unrevoked) token named `name`.
    pub async fn live_api_token(&self, name: &str) -> Result<Option<ApiToken>, StoreError> {
        dispatch!(self, backend => backend.live_api_token(name).await)
    }

    /// The token with this hash, unless revoked.
    pub async fn api_token_by_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<ApiToken>, StoreError> {
        dispatch!(self, backend => backend.api_token_by_hash(token_hash).await)
    }

    pub async fn api_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        dispatch!(self, backend => backend.api_tokens().await)
    }

    /// Revokes a token; `false` when there is no such live token.
    pub async fn revoke_api_token(&self, id: i64) -> Result<bool, StoreError> {
        dispatch!(self, backend => backend.revoke_api_token(id).await)
    }

    /// Puts a failed outbox item back in line, due now, with its attempts counted afresh;
    /// `None` when there is no failed item `id`.
    pub async fn retry_outbox(&self, id: i64) -> Result<Option<OutboxItem>, StoreError> {
        dispatch!(self, backend => backend.retry_outbox(id).await)
    }

    /// Asks run `run_id` to stop between two pages, wherever it runs; `false` when it is not
    /// running (unknown, or ended).
    pub async fn request_run_cancel(&self, run_id: i64) -> Result<bool, StoreError> {
        dispatch!(self, backend => backend.request_run_cancel(run_id).await)
    }

    /// Whether someone asked run `run_id` to stop.
    pub async fn run_cancel_requested(&self, run_id: i64) -> Result<bool, StoreError> {
        dispatch!(self, backend => backend.run_cancel_requested(run_id).await)
    }

    /// The stored auto-sync settings, of one connection or all.
    pub async fn auto_sync(&self, connection: Option<&str>) -> Result<Vec<AutoSync>, StoreError> {
        dispatch!(self, backend => backend.auto_sync(connection).await)
    }

    /// Replaces one stream's auto-sync setting and returns it as stored. An interval of 0 leaves
    /// it to the scheduler's account plan.
    pub async fn set_auto_sync(&self, setting: &AutoSync) -> Result<AutoSync, StoreError> {
        dispatch!(self, backend => backend.set_auto_sync(setting).await)
    }
}

//! The watermark: changes the vendor makes while a listing runs, or while an interrupted one
//! waits to resume, reach the workspace with the next incremental sync — on SQLite and
//! PostgreSQL alike. Each test guards against the cursor that followed the newest modification
//! time seen, which left behind a change older than some record listed after it.

mod support;

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use engine::{Connection, Progress, RunKind, RunReport, RunStatus};
use pipeline::DataType;
use sandboxes::cvent_rest::{CventRestSandbox, SandboxConfig};
use serde_json::{Value, json};
use store::Store;

const PEOPLE: &[DataType] = &[DataType::People];

struct World {
    sandbox: CventRestSandbox,
    store: Store,
    connection: Connection,
    http: reqwest::Client,
    dir: PathBuf,
}

impl World {
    async fn run(&self) -> RunReport {
        support::run(&self.store, &self.connection, RunKind::Sync, PEOPLE).await
    }

    /// A sync that, once `after_records` have been listed, makes `changes` at the vendor — while
    /// the listing goes on.
    async fn run_changing(&self, after_records: u64, changes: &[(String, &str)]) -> RunReport {
        let pending = Mutex::new(Some(changes.to_vec()));
        let handle = tokio::runtime::Handle::current();
        let progress = |event: Progress| {
            let Progress::Page { records, total, .. } = event else {
                return;
            };
            if records < after_records || total.is_some_and(|t| records >= t) {
                return;
            }
            let Some(changes) = pending.lock().expect("changes").take() else {
                return;
            };
            // The listing waits while the vendor changes: the changes land mid-listing.
            tokio::task::block_in_place(|| {
                handle.block_on(async {
                    for (id, last_name) in &changes {
                        self.rename(id, last_name).await;
                    }
                })
            });
        };
        let report = engine::run(
            &self.store,
            &self.connection,
            &support::options(RunKind::Sync, PEOPLE),
            &progress,
        )
        .await
        .expect("run");
        assert!(
            pending.lock().expect("changes").is_none(),
            "the changes were made while the listing ran"
        );
        report
    }

    async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        support::cvent_control(&self.http, &self.sandbox, method, path, body).await
    }

    async fn rename(&self, id: &str, last_name: &str) {
        self.control(
            reqwest::Method::PATCH,
            &format!("/attendees/{id}"),
            json!({"contact": {"lastName": last_name}}),
        )
        .await;
    }

    /// The attendees' ids in the order the vendor lists them.
    async fn attendee_ids(&self) -> Vec<String> {
        support::cvent_list_all(&self.http, &self.sandbox, "/attendees")
            .await
            .iter()
            .filter_map(|a| a["id"].as_str().map(str::to_string))
            .collect()
    }

    /// The workspace equals the vendor: no attendee missing, none extra, none stale.
    async fn assert_equals_vendor(&self) {
        let vendor = support::cvent_list_all(&self.http, &self.sandbox, "/attendees").await;
        let workspace = support::workspace(&self.store, "cvent", DataType::People).await;
        let mut stale = Vec::new();
        let mut missing = Vec::new();
        for attendee in &vendor {
            let id = attendee["id"].as_str().expect("id");
            match workspace.get(id) {
                None => missing.push(id.to_string()),
                Some(person) => {
                    if person.get("last_name") != Some(&attendee["contact"]["lastName"]) {
                        stale.push(format!(
                            "{id}: workspace {:?}, vendor {}",
                            person.get("last_name"),
                            attendee["contact"]["lastName"]
                        ));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "missing: {missing:?}");
        assert!(stale.is_empty(), "stale: {stale:?}");
        assert_eq!(workspace.len(), vendor.len(), "nothing the vendor lacks");
    }

    async fn last_names(&self) -> HashMap<String, Value> {
        support::workspace(&self.store, "cvent", DataType::People)
            .await
            .into_iter()
            .map(|(id, fields)| (id, fields.get("last_name").cloned().unwrap_or_default()))
            .collect()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `scenario` on a SQLite workspace and on a PostgreSQL one (said plainly when skipped).
async fn on_both_stores<F, Fut>(attendees: u64, scenario: F)
where
    F: Fn(World) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let world = start(attendees, None).await;
    scenario(world).await;

    let url = support::postgres_url();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let schema = format!("eventsync_watermark_{}_{nanos}", std::process::id());
    let probe =
        tokio::time::timeout(Duration::from_secs(5), Store::open_in_schema(&url, &schema)).await;
    if !matches!(probe, Ok(Ok(_))) {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "skipped on PostgreSQL: not reachable at {url} (set EVENTSYNC_TEST_POSTGRES)"
        );
        return;
    }
    let world = start(attendees, Some((&url, &schema))).await;
    let outcome = tokio::spawn(scenario(world)).await;
    support::drop_schema(&url, &schema).await;
    if let Err(failure) = outcome {
        std::panic::resume_unwind(failure.into_panic());
    }
}

async fn start(attendees: u64, postgres: Option<(&str, &str)>) -> World {
    let sandbox = CventRestSandbox::start(SandboxConfig {
        attendees,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let dir = support::test_folder("watermark", sandbox.address().port());
    let store = match postgres {
        Some((url, schema)) => Store::open_in_schema(url, schema)
            .await
            .expect("postgres store"),
        None => support::sqlite_workspace(&dir).await,
    };
    let connection =
        support::cvent_connection(&sandbox, "[connections.data.people]\nstatuses = []\n");
    World {
        sandbox,
        store,
        connection,
        http: reqwest::Client::new(),
        dir,
    }
}

/// The shortest way the old cursor lost a change: a first full sync stops after its first
/// commits (here the quota runs out); at the vendor, one attendee already committed changes,
/// then one not yet listed; the sync resumes and two incremental syncs follow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_behind_an_interrupted_listing_is_not_lost() {
    on_both_stores(3_000, |mut world| async move {
        // Room for the tier and event lookups, the split of the listing (at most four ranges,
        // so its calls are known) and a few pages, then the quota runs out.
        world.connection.listing_concurrency = 4;
        let ids = world.attendee_ids().await;
        world
            .control(
                reqwest::Method::PUT,
                "/usage",
                json!({"used": 500_000 - 12}),
            )
            .await;
        let stopped = world.run().await;
        assert_eq!(stopped.status, RunStatus::PausedQuota);
        let committed = world.last_names().await;
        assert!(
            !committed.is_empty() && committed.len() < 3_000,
            "the run stopped part way: {} stored",
            committed.len()
        );
        let listed = ids
            .iter()
            .find(|id| committed.contains_key(*id))
            .expect("one stored");
        let unlisted = ids
            .iter()
            .find(|id| !committed.contains_key(*id))
            .expect("one left");

        world.rename(listed, "Committed-Then-Changed").await;
        world.rename(unlisted, "Changed-Before-Listed").await;

        world
            .control(reqwest::Method::PUT, "/usage", json!({"used": 0}))
            .await;
        support::budget_reset(&world.sandbox);
        let resumed = world.run().await;
        assert_eq!(resumed.status, RunStatus::Succeeded, "{:?}", resumed.errors);
        for _ in 0..2 {
            let incremental = world.run().await;
            assert_eq!(incremental.types["people"].mode, "incremental");
        }
        let names = world.last_names().await;
        assert_eq!(names[listed], json!("Committed-Then-Changed"));
        assert_eq!(names[unlisted], json!("Changed-Before-Listed"));
        world.assert_equals_vendor().await;
    })
    .await;
}

/// A full listing during which the vendor changes a record already listed, then one not yet
/// listed: the next incremental sync brings both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_made_while_a_full_listing_runs_reach_the_next_sync() {
    on_both_stores(3_000, |world| async move {
        let ids = world.attendee_ids().await;
        let changes = [
            (ids[5].clone(), "Listed-Then-Changed"),
            (ids[2_900].clone(), "Changed-Before-Listed"),
        ];
        let full = world.run_changing(400, &changes).await;
        assert_eq!(full.status, RunStatus::Succeeded, "{:?}", full.errors);
        assert_eq!(full.types["people"].mode, "full");
        let incremental = world.run().await;
        assert_eq!(incremental.types["people"].mode, "incremental");
        let names = world.last_names().await;
        assert_eq!(names[&ids[5]], json!("Listed-Then-Changed"));
        assert_eq!(names[&ids[2_900]], json!("Changed-Before-Listed"));
        world.assert_equals_vendor().await;
    })
    .await;
}

/// The same during an incremental listing of several pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_made_while_an_incremental_listing_runs_reach_the_next_sync() {
    on_both_stores(3_000, |world| async move {
        let ids = world.attendee_ids().await;
        let first = world.run().await;
        assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.errors);
        // Three pages of changes for the incremental listing to go through.
        for id in &ids[..600] {
            world.rename(id, "Renamed").await;
        }
        let changes = [
            (ids[3].clone(), "Listed-Then-Changed"),
            (ids[2_900].clone(), "Changed-Before-Listed"),
        ];
        let incremental = world.run_changing(200, &changes).await;
        assert_eq!(incremental.types["people"].mode, "incremental");
        assert_eq!(
            incremental.status,
            RunStatus::Succeeded,
            "{:?}",
            incremental.errors
        );
        let next = world.run().await;
        assert_eq!(next.types["people"].mode, "incremental");
        let names = world.last_names().await;
        assert_eq!(names[&ids[3]], json!("Listed-Then-Changed"));
        assert_eq!(names[&ids[2_900]], json!("Changed-Before-Listed"));
        world.assert_equals_vendor().await;
    })
    .await;
}

/// The cursor is a time on the vendor's clock, not this machine's: with the vendor's clock an
/// hour behind ours, a change made just after a listing began is still listed next time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watermark_follows_the_vendors_clock() {
    on_both_stores(600, |world| async move {
        let behind = chrono::Utc::now() - chrono::Duration::hours(1);
        world
            .control(
                reqwest::Method::PUT,
                "/clock",
                json!({"now": behind.to_rfc3339()}),
            )
            .await;
        let ids = world.attendee_ids().await;
        let changes = [(ids[1].clone(), "During-The-Listing")];
        let full = world.run_changing(200, &changes).await;
        assert_eq!(full.status, RunStatus::Succeeded, "{:?}", full.errors);
        let state = world
            .store
            .state("cvent", "people")
            .await
            .expect("state")
            .expect("saved");
        let cursor = chrono::DateTime::parse_from_rfc3339(state.cursor.as_deref().expect("cursor"))
            .expect("a time");
        let gap = cursor.with_timezone(&chrono::Utc) - behind;
        assert!(
            gap < chrono::Duration::zero(),
            "the watermark is on the vendor's clock, before the listing began: {gap}"
        );
        world.run().await;
        assert_eq!(
            world.last_names().await[&ids[1]],
            json!("During-The-Listing")
        );
        world.assert_equals_vendor().await;
    })
    .await;
}

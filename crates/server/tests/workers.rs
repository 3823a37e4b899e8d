//! Several servers on one PostgreSQL workspace, each store handle standing for a process: when
//! they tick at the same moment every due sync runs once, a server that decided "due" from a
//! read another server's run has since made stale stands down, and a sync a gone server left
//! `running` is resumed at the next tick of another.

mod support;

use std::path::Path;
use std::time::Duration;

use engine::Config;
use sandboxes::cvent_rest::{CventRestSandbox, SandboxConfig};
use server::runs::{RunRequest, SeenRun, Started, start_unless_ran_since};
use server::{AppState, Settings};
use store::{AutoSync, LeaseClaim, NewRun, RunSummary, Store};

const CONNECTIONS: [&str; 5] = ["cvent-1", "cvent-2", "cvent-3", "cvent-4", "cvent-5"];

fn config(sandbox: &CventRestSandbox, names: &[&str]) -> Config {
    let mut text = String::new();
    for name in names {
        text.push_str(&format!(
            "[[connections]]\nname = \"{name}\"\nkind = \"cvent-rest\"\nbase_url = \"{}\"\nevent_code = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"${{SECRET}}\"\ndata_types = [\"people\"]\n\n",
            sandbox.base_url(),
            sandbox.event_code(),
            sandbox.client_id()
        ));
    }
    let secret = sandbox.client_secret().to_string();
    Config::parse(&text, Path::new("eventsync.toml"), &move |name| {
        (name == "SECRET").then(|| secret.clone())
    })
    .expect("config")
}

/// `count` servers on the schema, with the scheduler left to the test's own ticks.
async fn servers(
    url: &str,
    schema: &str,
    sandbox: &CventRestSandbox,
    names: &[&str],
    count: usize,
) -> Vec<AppState> {
    let mut states = Vec::new();
    for _ in 0..count {
        let store = Store::open_in_schema(url, schema).await.expect("store");
        states.push(AppState::new(
            store,
            config(sandbox, names),
            Settings {
                report_dir: std::env::temp_dir().join(format!("eventsync-workers-{schema}")),
                scheduler: false,
                ..Settings::default()
            },
        ));
    }
    states
}

async fn enable_auto_sync(store: &Store, names: &[&str]) {
    for name in names {
        store
            .set_auto_sync(&AutoSync {
                connection: name.to_string(),
                data_type: "people".into(),
                enabled: true,
                interval_seconds: 3600,
                updated_at: String::new(),
            })
            .await
            .expect("auto sync");
    }
}

/// Every server ticks at once.
async fn tick_together(states: &[AppState]) {
    let now = chrono::Utc::now();
    let ticks: Vec<_> = states
        .iter()
        .cloned()
        .map(|state| tokio::spawn(async move { server::scheduler::tick(&state, now).await }))
        .collect();
    for tick in ticks {
        tick.await.expect("a tick's task").expect("tick");
    }
}

/// Every run, once none is going any more and no lease is held.
async fn settled_runs(store: &Store, names: &[&str]) -> Vec<RunSummary> {
    for _ in 0..1200 {
        let runs = store.runs(None, 1000).await.expect("runs");
        let mut leased = false;
        for name in names {
            leased |= store.run_lease(name).await.expect("lease").is_some();
        }
        if !leased && runs.iter().all(|run| run.status != "running") {
            return runs;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the runs did not end within a minute");
}

fn runs_of<'a>(runs: &'a [RunSummary], connection: &str) -> Vec<&'a RunSummary> {
    runs.iter()
        .filter(|run| run.connection == connection)
        .collect()
}

fn sync_request(connection: &str) -> RunRequest {
    RunRequest {
        connection: connection.to_string(),
        kind: engine::RunKind::Sync,
        data_types: vec![pipeline::DataType::People],
        full: false,
        notify: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_servers_ticking_together_run_each_due_sync_once() {
    let Some((url, schema)) = support::postgres_schema("workers_claim").await else {
        return;
    };
    let sandbox = CventRestSandbox::start(SandboxConfig {
        attendees: 120,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let states = servers(&url, &schema, &sandbox, &CONNECTIONS, 3).await;
    enable_auto_sync(&states[0].store, &CONNECTIONS).await;

    tick_together(&states).await;
    let runs = settled_runs(&states[0].store, &CONNECTIONS).await;
    assert_eq!(runs.len(), CONNECTIONS.len(), "{runs:#?}");
    for name in CONNECTIONS {
        let of = runs_of(&runs, name);
        assert_eq!(of.len(), 1, "{name}: {of:#?}");
        assert_eq!(of[0].status, "succeeded", "{name}: {:?}", of[0].errors);
    }

    // Nothing is due an interval later than an hour: ticking again starts nothing.
    tick_together(&states).await;
    let again = settled_runs(&states[0].store, &CONNECTIONS).await;
    assert_eq!(again.len(), CONNECTIONS.len());

    // Regression: a server that read the ledger before another's run was recorded found the
    // stream due, waited for the lease, and then ran the sync a second time.
    let stale = start_unless_ran_since(&states[2], sync_request("cvent-1"), None)
        .await
        .expect("start");
    assert!(
        matches!(&stale, Started::Busy(message) if message.contains("since its due time was read")),
        "{stale:?}"
    );
    // Regression: the tick saw another server's first run still going, found the stream due
    // (it had no state yet), and ran it again once that run had ended and freed the lease.
    let finished = runs_of(&again, "cvent-1")[0];
    let seen_going = SeenRun {
        id: finished.id,
        status: "running".into(),
    };
    let ended = start_unless_ran_since(&states[2], sync_request("cvent-1"), Some(seen_going))
        .await
        .expect("start");
    assert!(
        matches!(&ended, Started::Busy(message) if message.contains("(succeeded) since")),
        "{ended:?}"
    );
    let current = start_unless_ran_since(
        &states[2],
        sync_request("cvent-1"),
        Some(SeenRun::of(finished)),
    )
    .await
    .expect("start");
    assert!(matches!(current, Started::Run(_)), "{current:?}");
    let last = settled_runs(&states[0].store, &CONNECTIONS).await;
    assert_eq!(last.len(), CONNECTIONS.len() + 1);

    for state in &states {
        state.store.close().await;
    }
    support::drop_schema(&url, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_a_gone_server_left_running_is_resumed_at_another_s_next_tick() {
    let Some((url, schema)) = support::postgres_schema("workers_resume").await else {
        return;
    };
    let sandbox = CventRestSandbox::start(SandboxConfig {
        attendees: 120,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let names = ["cvent"];
    let states = servers(&url, &schema, &sandbox, &names, 1).await;
    enable_auto_sync(&states[0].store, &names).await;

    // A server that began a sync and went away without a word: its run stays `running`.
    let gone = Store::open_in_schema(&url, &schema).await.expect("store");
    let LeaseClaim::Taken(lease) = gone
        .take_run_lease("cvent", "sync", Duration::from_secs(600))
        .await
        .expect("lease")
    else {
        panic!("the lease is free");
    };
    let left = gone
        .with_lease(&lease)
        .start_run(&NewRun {
            connection: "cvent".into(),
            kind: "sync".into(),
            data_types: vec!["people".into()],
            cursor_before: serde_json::Value::Null,
        })
        .await
        .expect("run");
    // While its holder lives, the sync is not taken from it.
    tick_together(&states).await;
    let runs = states[0].store.runs(None, 10).await.expect("runs");
    assert_eq!(runs.len(), 1, "{runs:#?}");

    // Gone: its store is dropped, as a process's is when it dies.
    gone.close().await;
    drop(gone);
    tick_together(&states).await;
    let runs = settled_runs(&states[0].store, &names).await;
    assert_eq!(runs.len(), 2, "{runs:#?}");
    let resumed = runs.iter().find(|run| run.id != left).expect("a new run");
    assert_eq!(resumed.status, "succeeded", "{:?}", resumed.errors);
    let old = runs
        .iter()
        .find(|run| run.id == left)
        .expect("the left run");
    assert_eq!(old.status, "interrupted");
    let created = resumed.counts["people"].get("create").copied().unwrap_or(0);
    assert!(created > 0, "{:?}", resumed.counts);
    assert_eq!(
        states[0]
            .store
            .count("cvent", "people")
            .await
            .expect("count"),
        created
    );

    states[0].store.close().await;
    support::drop_schema(&url, &schema).await;
}

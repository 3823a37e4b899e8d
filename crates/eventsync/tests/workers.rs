//! `eventsync serve` workers as real processes on one PostgreSQL workspace: a worker killed with
//! SIGKILL mid-sync has its sync resumed by another within the run lease, ending equal to the
//! vendor; and three workers started together run every due sync once, within the vendor's
//! rate. Skipped (saying so) when no PostgreSQL server answers at `EVENTSYNC_TEST_POSTGRES`.

#[path = "support/workers.rs"]
mod workers;

use std::time::{Duration, Instant};

use workers::{
    Vendor, Workspace, missing_and_duplicated, postgres_answers, postgres_server, wait_for,
};

const BINARY: &str = env!("CARGO_BIN_EXE_eventsync");

/// The run lease the workers run with: a worker on another host would be taken over this long
/// after it died (on this host, a dead process's lease is free at once).
const LEASE_SECONDS: u64 = 10;

async fn postgres_or_skip() -> bool {
    let server = postgres_server();
    if postgres_answers(&server).await {
        return true;
    }
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "skipped: PostgreSQL not reachable at {server} (set EVENTSYNC_TEST_POSTGRES)"
    );
    false
}

fn id(run: &serde_json::Value) -> i64 {
    run["id"].as_i64().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_sync_is_taken_over_within_the_lease_and_ends_equal_to_the_vendor() {
    if !postgres_or_skip().await {
        return;
    }
    // Sixty pages of 200 at the Standard tier's 10 calls a second, split into ranges fetched
    // side by side: the listing lasts long enough to be killed in, and the worker that takes it
    // over resumes every range.
    let vendor = Vendor::start(
        BINARY,
        &[
            "--tier",
            "standard",
            "--attendees",
            "12000",
            "--latency",
            "400",
        ],
    );
    let connections = vec![("cvent".to_string(), vendor.text("event_code"))];
    let workspace = Workspace::new(BINARY, &vendor, "kill", &connections).await;
    let token = workspace.token();
    workspace.enable_auto_sync(&token, &connections).await;

    let mut first = workspace.serve(&token, true, Some(LEASE_SECONDS));
    let killed_run = wait_for(
        "the first worker's sync to commit people",
        Duration::from_secs(60),
        || async {
            let runs = first.api.runs().await;
            runs.first()
                .filter(|run| run["status"] == "running")
                .filter(|run| run["counts"]["people"]["create"].as_u64().unwrap_or(0) > 0)
                .map(id)
        },
    )
    .await;
    let second = workspace.serve(&token, true, Some(LEASE_SECONDS));
    first.process.kill();
    let killed_at = Instant::now();

    let resumed = wait_for(
        "another worker to take the sync over",
        Duration::from_secs(60),
        || async {
            let runs = second.api.runs().await;
            runs.first().filter(|run| id(run) != killed_run).map(id)
        },
    )
    .await;
    let taken_over_after = killed_at.elapsed();
    eprintln!(
        "the sync was taken over {:.1} s after the kill",
        taken_over_after.as_secs_f64()
    );
    assert!(
        taken_over_after < Duration::from_secs(LEASE_SECONDS),
        "taken over after {taken_over_after:?}, the lease is {LEASE_SECONDS} s"
    );

    let runs = wait_for(
        "the resumed sync to end",
        Duration::from_secs(120),
        || async {
            let runs = second.api.runs().await;
            runs.iter()
                .any(|run| id(run) == resumed && run["status"] != "running")
                .then_some(runs)
        },
    )
    .await;
    let status = |run_id: i64| {
        runs.iter()
            .find(|run| id(run) == run_id)
            .map(|run| run["status"].clone())
            .unwrap_or_default()
    };
    assert_eq!(status(resumed), "succeeded", "{runs:#?}");
    assert_eq!(status(killed_run), "interrupted", "{runs:#?}");
    assert_eq!(
        runs.len(),
        2,
        "one run killed, one that resumed it: {runs:#?}"
    );

    let (missing, duplicated) =
        missing_and_duplicated(&vendor.attendees().await, &workspace.people("cvent"));
    assert!(missing.is_empty(), "missing: {missing:?}");
    assert!(duplicated.is_empty(), "duplicated: {duplicated:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_started_together_run_each_due_sync_once_within_the_vendor_s_rate() {
    if !postgres_or_skip().await {
        return;
    }
    // The free tier: two calls a second for the whole account, whoever makes them.
    let vendor = Vendor::start(
        BINARY,
        &[
            "--tier",
            "free",
            "--events",
            "6",
            "--attendees",
            "100",
            "--latency",
            "50",
        ],
    );
    let connections: Vec<(String, String)> = vendor
        .event_codes()
        .into_iter()
        .enumerate()
        .map(|(index, code)| (format!("event-{index}"), code))
        .collect();
    assert_eq!(connections.len(), 6);
    let workspace = Workspace::new(BINARY, &vendor, "claim", &connections).await;
    let token = workspace.token();
    workspace.enable_auto_sync(&token, &connections).await;

    let workers: Vec<_> = (0..3)
        .map(|_| workspace.serve(&token, true, None))
        .collect();
    let runs = wait_for(
        "every due sync to end",
        Duration::from_secs(120),
        || async {
            let runs = workers[0].api.runs().await;
            (runs.len() >= connections.len() && runs.iter().all(|run| run["status"] != "running"))
                .then_some(runs)
        },
    )
    .await;
    // Another tick of every worker (they tick every 5 s) starts nothing more.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let after = workers[1].api.runs().await;
    assert_eq!(after.len(), connections.len(), "{after:#?}");
    for (name, _) in &connections {
        let of: Vec<_> = runs
            .iter()
            .filter(|run| run["connection"] == name.as_str())
            .collect();
        assert_eq!(of.len(), 1, "{name}: {of:#?}");
        assert_eq!(of[0]["status"], "succeeded", "{name}: {of:#?}");
    }
    let calls = vendor.calls().await;
    eprintln!("{calls:?}");
    // The account's two calls a second hold for the three workers together: three pacing
    // themselves alone would send up to three times that. A second of slack covers the time
    // between a slot's grant and the call's arrival at the vendor.
    let bound = 2.0 * calls.paced_span_seconds + 1.0 + 2.0;
    assert!(
        (calls.paced as f64) <= bound,
        "{} calls in {:.1} s: above the account's rate",
        calls.paced,
        calls.paced_span_seconds
    );
}

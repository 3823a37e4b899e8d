//! Several `eventsync serve` workers on one PostgreSQL workspace against one Cvent account: 50
//! events (one connection each, all due at once) on a sandbox with realistic latency, synced by
//! 1, 2 and 4 workers. Prints the wall time until every event is synced (the workers' start
//! included), the vendor's calls and throttled calls, and the calls a second against the tier's
//! rate — with the budget shared, never above it. Also the cost of one take of the shared
//! budget. `WORKERS_EVENTS`, `WORKERS_ATTENDEES` and `WORKERS_TIER` (free, standard, premium)
//! change the set-up.

#[path = "../tests/support/workers.rs"]
mod workers;

use std::time::{Duration, Instant};

use store::{BudgetLimits, Store};
use workers::{Vendor, Workspace, postgres_answers, postgres_server, wait_for};

const BINARY: &str = env!("CARGO_BIN_EXE_eventsync");

fn setting(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

/// The tier's calls a second, as the sandbox grants them.
fn tier_rate(tier: &str) -> f64 {
    match tier {
        "free" => 2.0,
        "premium" => 25.0,
        _ => 10.0,
    }
}

/// The mean and the 99th percentile of one take, on a schema of its own.
async fn take_cost(server: &str) -> (Duration, Duration) {
    let url = format!("{server}/test");
    let schema = format!("bench_budget_{}", std::process::id());
    let store = Store::open_in_schema(&url, &schema).await.expect("store");
    let limits = BudgetLimits {
        per_second: 1e9,
        burst: 1e9,
        daily_quota: None,
    };
    let mut times = Vec::new();
    for _ in 0..2_000 {
        let started = Instant::now();
        let slot = store
            .take_budget_slot("bench:account", limits)
            .await
            .expect("take");
        times.push(started.elapsed());
        assert!(slot.granted);
    }
    store.close().await;
    drop(store);
    {
        use sqlx::Connection as _;
        if let Ok(mut connection) = sqlx::postgres::PgConnection::connect(&url).await {
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE"
            )))
            .execute(&mut connection)
            .await;
        }
    }
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    times.sort();
    (mean, times[times.len() * 99 / 100])
}

async fn one_round(workers: usize, events: usize, attendees: &str, tier: &str) {
    let vendor = Vendor::start(
        BINARY,
        &[
            "--tier",
            tier,
            "--events",
            &events.to_string(),
            "--attendees",
            attendees,
            "--latency",
            "realistic",
        ],
    );
    let connections: Vec<(String, String)> = vendor
        .event_codes()
        .into_iter()
        .enumerate()
        .map(|(index, code)| (format!("event-{index}"), code))
        .collect();
    let workspace = Workspace::new(BINARY, &vendor, &format!("bench{workers}"), &connections).await;
    let token = workspace.token();
    workspace.enable_auto_sync(&token, &connections).await;
    let before = vendor.calls().await;

    let started = Instant::now();
    let servers: Vec<_> = (0..workers)
        .map(|_| workspace.serve(&token, true, None))
        .collect();
    let runs = wait_for("every event synced", Duration::from_secs(1800), || async {
        let runs = servers[0].api.runs().await;
        let done = runs
            .iter()
            .filter(|run| run["status"] == "succeeded")
            .count();
        let going = runs.iter().any(|run| run["status"] == "running");
        (done >= connections.len() && !going).then_some(runs)
    })
    .await;
    let wall = started.elapsed().as_secs_f64();
    let after = vendor.calls().await;
    let calls = after.total - before.total;
    let throttled = after.throttled - before.throttled;
    let rate = tier_rate(tier);
    let paced_rate = after.paced as f64 / after.paced_span_seconds.max(0.001);
    println!(
        "{workers} worker(s): {} events synced in {wall:.1} s by {} runs; {calls} vendor calls \
         ({throttled} throttled); the rate-limited ones ({}) at {paced_rate:.2} calls/s = \
         {:.2} × the tier's {rate} calls/s; calls ÷ tier rate = {:.1} s",
        connections.len(),
        runs.len(),
        after.paced,
        paced_rate / rate,
        calls as f64 / rate,
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let server = postgres_server();
        if !postgres_answers(&server).await {
            println!("skipped: no PostgreSQL server answers at {server}");
            return;
        }
        let (mean, p99) = take_cost(&server).await;
        println!(
            "one take of the shared budget: {:.3} ms mean, {:.3} ms at the 99th percentile",
            mean.as_secs_f64() * 1000.0,
            p99.as_secs_f64() * 1000.0
        );
        let events: usize = setting("WORKERS_EVENTS", "50").parse().unwrap_or(50);
        let attendees = setting("WORKERS_ATTENDEES", "200");
        let tier = setting("WORKERS_TIER", "standard");
        println!(
            "{events} events, {attendees} attendees on the first, tier {tier}, latency realistic"
        );
        for workers in [1, 2, 4] {
            one_round(workers, events, &attendees, &tier).await;
        }
    });
}

//! The account plan's soak: fifty events on one Standard-tier Cvent REST sandbox account, a
//! stretch of a day simulated on a virtual clock — the sandbox's (`PUT /_sandbox/clock`) and the
//! scheduler's (`tick_on` with a virtual `now`) — with changes arriving at the vendor all along,
//! every auto sync a real run over HTTP into a real store. The account's quota is never passed,
//! auto sync keeps to the plan's pace, and every change reaches the workspace within its event's
//! planned interval and one tick.
//!
//! Runs stamp the store with the real clock. The soak waits for every run a tick started before
//! it moves the virtual clock on, so it knows which tick each real stamp belongs to; the
//! scheduler reads the store's stamps through that map (`scheduler::Timeline`) and so sees every
//! run as started and ended at its tick's virtual time.
//!
//! The vendor's per-second limit is real time (10 calls a second on Standard), so a whole day's
//! 7,500 planned calls take over twelve minutes: by default the soak simulates the first two
//! hours of the day on SQLite and the first hour on PostgreSQL; `EVENTSYNC_SOAK_HOURS=24` runs
//! the whole day on both.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use connectors::RetryPolicy;
use engine::Config;
use reqwest::Method;
use sandboxes::cvent_rest::{CventRestSandbox, EventPlan, SandboxConfig, Tier};
use serde_json::{Value, json};
use server::scheduler::{self, AccountPlan, Timeline};
use server::{AppState, Settings};
use store::Store;

const EVENTS: usize = 50;
/// Virtual seconds between two ticks.
const STEP_SECONDS: i64 = 60;
/// Changes made at the vendor each virtual minute, to events drawn in turn.
const CHANGES_PER_STEP: usize = 2;
const DATA_TYPES: [&str; 2] = ["people", "sessions"];
const STANDARD_QUOTA: u64 = 15_000;

const FAST_RETRY: RetryPolicy = RetryPolicy {
    initial: Duration::from_millis(20),
    max: Duration::from_millis(500),
    attempts: 8,
};

fn connection_name(index: usize) -> String {
    format!("event-{index:02}")
}

fn config(sandbox: &CventRestSandbox) -> Config {
    let mut text = String::new();
    for (index, code) in sandbox.event_codes().iter().enumerate() {
        text.push_str(&format!(
            "[[connections]]\nname = \"{}\"\nkind = \"cvent-rest\"\nbase_url = \"{}\"\nevent_code = \"{code}\"\nclient_id = \"{}\"\nclient_secret = \"${{SECRET}}\"\ndata_types = [\"people\", \"sessions\"]\n\n",
            connection_name(index),
            sandbox.base_url(),
            sandbox.client_id()
        ));
    }
    let secret = sandbox.client_secret().to_string();
    Config::parse(&text, Path::new("eventsync.toml"), &move |name| {
        (name == "SECRET").then(|| secret.clone())
    })
    .expect("config")
}

/// A tick's start: the real instant and the virtual time.
type TickStart = (DateTime<Utc>, DateTime<Utc>);

/// Which virtual tick each real instant belongs to.
#[derive(Clone, Default)]
struct VirtualTime {
    ticks: Arc<Mutex<Vec<TickStart>>>,
}

impl VirtualTime {
    fn begin_tick(&self, at: DateTime<Utc>) {
        let mut ticks = self.ticks.lock().unwrap_or_else(|p| p.into_inner());
        ticks.push((Utc::now(), at));
    }

    fn of(&self, real: DateTime<Utc>) -> DateTime<Utc> {
        let ticks = self.ticks.lock().unwrap_or_else(|p| p.into_inner());
        let after = ticks.partition_point(|(started, _)| *started <= real);
        match after {
            0 => real,
            n => ticks[n - 1].1,
        }
    }
}

/// A change made at the vendor and not yet seen in the workspace.
struct Change {
    connection: String,
    attendee: String,
    marker: String,
    made_at: DateTime<Utc>,
}

#[derive(Default)]
struct EventFigures {
    people: u64,
    shortest_interval: u64,
    longest_interval: u64,
    changes: u64,
    max_staleness: i64,
}

async fn control(
    http: &reqwest::Client,
    sandbox: &CventRestSandbox,
    method: Method,
    path: &str,
    body: Value,
) -> Value {
    support::control(http, sandbox, method, path, body).await
}

/// The account's calls on `day`, as the vendor's `GET /usage` counts them (asking again while
/// the per-second limit refuses).
async fn vendor_usage(http: &reqwest::Client, sandbox: &CventRestSandbox, day: &str) -> u64 {
    for _ in 0..50 {
        let token: Value = http
            .post(format!("{}/oauth2/token", sandbox.base_url()))
            .basic_auth(sandbox.client_id(), Some(sandbox.client_secret()))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("token request")
            .json()
            .await
            .unwrap_or(Value::Null);
        let Some(bearer) = token["access_token"].as_str() else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        let usage: Value = http
            .get(format!(
                "{}/usage?after={day}&before={day}",
                sandbox.base_url()
            ))
            .bearer_auth(bearer)
            .send()
            .await
            .expect("usage")
            .json()
            .await
            .unwrap_or(Value::Null);
        if let Some(used) = usage["data"][0]["used"].as_u64() {
            return used;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the sandbox did not tell its usage");
}

async fn wait_for_runs(store: &Store) {
    loop {
        let runs = store.runs(None, 200).await.expect("runs");
        if runs
            .iter()
            .all(|run| run.status != store::RUN_STATUS_RUNNING)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The virtual hours to simulate: `EVENTSYNC_SOAK_HOURS`, else `default`.
fn soak_hours(default: i64) -> i64 {
    std::env::var("EVENTSYNC_SOAK_HOURS")
        .ok()
        .and_then(|hours| hours.parse().ok())
        .unwrap_or(default)
        .clamp(1, 24)
}

async fn soak(store: Store, label: &str, hours: i64) {
    let sandbox = CventRestSandbox::start(SandboxConfig {
        attendees: 400,
        more_events: EventPlan::varied(EVENTS - 1, 400, 18),
        tier: Tier::Standard,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    assert_eq!(sandbox.event_codes().len(), EVENTS);
    let http = reqwest::Client::new();
    let config = config(&sandbox);
    let connections = config.connections.clone();
    let dir = std::env::temp_dir().join(format!(
        "eventsync-plan-soak-{}-{}",
        std::process::id(),
        sandbox.address().port()
    ));
    let settings = Settings {
        report_dir: dir.join("reports"),
        retry: FAST_RETRY,
        scheduler: false,
        ..Settings::default()
    };
    let state = AppState::new(store.clone(), config, settings);
    let token = server::new_token();
    store
        .add_api_token("soak", &server::token_hash(&token))
        .await
        .expect("token");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listener");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let served = state.clone();
    let server_task = tokio::spawn(async move {
        server::serve(served, listener, std::future::pending())
            .await
            .expect("serve");
    });

    // Auto sync on, the interval left to the plan: one through the API, the rest in the store.
    let (status, answer) = support::call(
        &http,
        &token,
        Method::PUT,
        format!("{base}/v1/connections/event-00/data-types/people/auto-sync"),
        Some(json!({"enabled": true})),
    )
    .await;
    assert!(status.is_success(), "{answer}");
    assert_eq!(answer["planned"], true, "{answer}");
    for index in 0..EVENTS {
        for data_type in DATA_TYPES {
            store
                .set_auto_sync(&store::AutoSync {
                    connection: connection_name(index),
                    data_type: data_type.to_string(),
                    enabled: true,
                    interval_seconds: scheduler::PLANNED,
                    updated_at: String::new(),
                })
                .await
                .expect("auto sync");
        }
    }

    // The virtual day starts at the next midnight UTC, on the vendor's clock and the scheduler's.
    let day_start = (Utc::now() + chrono::Duration::days(1))
        .date_naive()
        .and_time(chrono::NaiveTime::MIN)
        .and_utc();
    let day = day_start.format("%Y-%m-%d").to_string();
    let virtual_time = VirtualTime::default();
    let mapped = virtual_time.clone();
    let timeline: Box<Timeline> = Box::new(move |real| mapped.of(real));
    let steps = hours * 3_600 / STEP_SECONDS;
    let end = day_start + chrono::Duration::seconds(steps * STEP_SECONDS);
    let began = Instant::now();
    let mut pending: Vec<Change> = Vec::new();
    let mut figures: BTreeMap<String, EventFigures> = BTreeMap::new();
    let mut attendees: HashMap<String, Vec<String>> = HashMap::new();
    let mut first_calls = 0;
    let mut plan_at_end: Option<AccountPlan> = None;
    let mut drawn = 0usize;
    let mut made = 0u64;
    let mut by_hand = 0;
    for step in 0..=steps {
        let now = day_start + chrono::Duration::seconds(step * STEP_SECONDS);
        control(
            &http,
            &sandbox,
            Method::PUT,
            "/clock",
            json!({"now": now.to_rfc3339()}),
        )
        .await;
        // Changes arrive from the second minute on, once the first syncs know the people, and
        // stop when the longest interval and a tick would no longer fit before the end, so that
        // every one is due to arrive within the soak.
        let longest = figures
            .values()
            .map(|e| e.longest_interval)
            .max()
            .unwrap_or(0) as i64;
        if step > 0 && now + chrono::Duration::seconds(longest + STEP_SECONDS) <= end {
            for _ in 0..CHANGES_PER_STEP {
                // Events in turn, a prime stride apart, each change to the next of its people.
                drawn += 1;
                let index = (drawn * 7) % EVENTS;
                let connection = connection_name(index);
                let Some(people) = attendees.get(&connection).filter(|p| !p.is_empty()) else {
                    continue;
                };
                let attendee = people[drawn % people.len()].clone();
                let marker = format!("Soak{step}x{drawn}");
                control(
                    &http,
                    &sandbox,
                    Method::PATCH,
                    &format!("/attendees/{attendee}"),
                    json!({"contact": {"firstName": marker}}),
                )
                .await;
                made += 1;
                pending.push(Change {
                    connection,
                    attendee,
                    marker,
                    made_at: now,
                });
            }
        }
        // Half way, someone syncs one event in full by hand: the plan counts its calls as it
        // counts webhook-driven runs, and auto sync spends that much less for the rest of the day.
        if step == steps / 2 {
            let (status, answer) = support::call(
                &http,
                &token,
                Method::POST,
                format!("{base}/v1/runs"),
                Some(json!({"connection": "event-00", "kind": "sync", "full": true})),
            )
            .await;
            assert!(status.is_success(), "{answer}");
            wait_for_runs(&store).await;
            let run = store
                .runs(Some("event-00"), 1)
                .await
                .expect("runs")
                .remove(0);
            assert_eq!(answer["run_id"].as_i64(), Some(run.id), "{answer}");
            by_hand = run.api_calls;
        }
        // The plan the tick follows, for the figures and the staleness bound.
        let plans = scheduler::account_plans(&store, &connections, now, timeline.as_ref())
            .await
            .expect("plans");
        assert_eq!(plans.len(), 1, "one account");
        let plan = plans.into_iter().next().expect("a plan");
        let spent: u64 = store
            .runs(None, 100_000)
            .await
            .expect("runs")
            .iter()
            .map(|run| run.api_calls)
            .sum();
        // (All of them are of the virtual day until its last tick, at the next midnight.)
        if step < steps {
            assert_eq!(
                plan.spent_today, spent,
                "{label}: the plan counts every run of the day, by hand or not"
            );
        }
        if step > 0 {
            for event in &plan.events {
                let entry = figures.entry(event.connection.clone()).or_default();
                entry.people = event.people;
                if entry.shortest_interval == 0 || event.interval_seconds < entry.shortest_interval
                {
                    entry.shortest_interval = event.interval_seconds;
                }
                entry.longest_interval = entry.longest_interval.max(event.interval_seconds);
            }
        }
        virtual_time.begin_tick(now);
        scheduler::tick_on(&state, now, timeline.as_ref())
            .await
            .expect("tick");
        wait_for_runs(&store).await;
        if step == 0 {
            first_calls = vendor_usage(&http, &sandbox, &day).await;
            for index in 0..EVENTS {
                let connection = connection_name(index);
                let mut ids: Vec<String> = store
                    .external_ids(&connection, "people")
                    .await
                    .expect("ids")
                    .into_iter()
                    .collect();
                ids.sort();
                ids.truncate(20);
                attendees.insert(connection, ids);
            }
        }
        // Which changes this tick's runs brought.
        let mut still = Vec::new();
        for change in pending.drain(..) {
            let found = store
                .records(
                    &change.connection,
                    "people",
                    std::slice::from_ref(&change.attendee),
                )
                .await
                .expect("records");
            let arrived = found
                .get(&change.attendee)
                .is_some_and(|record| record.fields["first_name"]["value"] == json!(change.marker));
            if arrived {
                let entry = figures.entry(change.connection.clone()).or_default();
                let staleness = (now - change.made_at).num_seconds();
                entry.changes += 1;
                entry.max_staleness = entry.max_staleness.max(staleness);
                let bound = entry.longest_interval as i64 + STEP_SECONDS;
                assert!(
                    staleness <= bound,
                    "{label}: {} of {} reached the workspace {staleness} s after the change, past its interval and a tick ({bound} s)",
                    change.attendee,
                    change.connection
                );
            } else {
                still.push(change);
            }
        }
        pending = still;
        plan_at_end = Some(plan);
    }
    let elapsed = began.elapsed();
    let used = vendor_usage(&http, &sandbox, &day).await;
    let plan = plan_at_end.expect("a plan");

    let runs = store.runs(None, 20_000).await.expect("runs");
    let run_calls: u64 = runs.iter().map(|run| run.api_calls).sum();
    let refused: Vec<_> = runs
        .iter()
        .filter(|run| {
            run.status != "succeeded" || run.errors.iter().any(|e| e.contains("Limit Exceeded"))
        })
        .collect();
    let calls = control(&http, &sandbox, Method::GET, "/calls", json!(null)).await;
    let throttled = calls["recent"].as_array().map_or(0, |recent| {
        recent.iter().filter(|call| call["status"] == 429).count()
    });

    println!(
        "account plan soak ({label}): {EVENTS} events on one Standard account, {hours} h of {day} in {:.0} s",
        elapsed.as_secs_f64()
    );
    println!(
        "  vendor calls used: {used} of the {STANDARD_QUOTA} quota ({first_calls} by the first syncs, {by_hand} by a full sync by hand); runs counted {run_calls} in {} runs; 429 answers: {throttled}",
        runs.len()
    );
    println!(
        "  plan at the end: budget {} a day, {} spent, pace {} a day, {} planned a day",
        plan.budget, plan.spent_today, plan.pace, plan.planned_calls_a_day
    );
    println!(
        "  changes made {made}, still on their way {}",
        pending.len()
    );
    println!(
        "  {:<9} {:>6} {:>14} {:>8} {:>14}",
        "event", "people", "interval (s)", "changes", "max stale (s)"
    );
    for (connection, event) in &figures {
        println!(
            "  {connection:<9} {:>6} {:>6}–{:<7} {:>8} {:>14}",
            event.people,
            event.shortest_interval,
            event.longest_interval,
            event.changes,
            event.max_staleness
        );
    }

    assert!(
        used <= STANDARD_QUOTA,
        "{label}: {used} calls passed the quota"
    );
    assert!(
        refused.is_empty(),
        "{label}: runs that did not succeed: {refused:#?}"
    );
    // Auto sync keeps to its pace: the first syncs and the run by hand, then at most the day's
    // budget spread evenly (and one sync of every event's data types for rounding up at the
    // window's end).
    let allowance = first_calls
        + by_hand
        + plan.budget * hours as u64 / 24
        + (EVENTS * DATA_TYPES.len()) as u64;
    assert!(
        used <= allowance,
        "{label}: {used} calls in {hours} h, more than the plan allows ({allowance})"
    );
    assert!(
        pending.is_empty(),
        "{label}: {} changes never arrived",
        pending.len()
    );
    assert!(made > 0 && figures.values().map(|e| e.changes).sum::<u64>() == made);

    // The data types tab shows the plan.
    let (status, data_types) = support::call(
        &http,
        &token,
        Method::GET,
        format!("{base}/v1/connections/event-07/data-types"),
        None,
    )
    .await;
    assert!(status.is_success(), "{data_types}");
    assert_eq!(
        data_types["account_plan"]["events"]
            .as_array()
            .map(Vec::len),
        Some(EVENTS)
    );
    assert_eq!(
        data_types["data"][0]["auto_sync"]["planned"], true,
        "{data_types}"
    );

    server_task.abort();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_events_share_a_standard_quota_for_a_day_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("eventsync-plan-soak-db-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let store = Store::open(&dir.join("workspace.sqlite").display().to_string())
        .await
        .expect("store");
    soak(store, "SQLite", soak_hours(2)).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_events_share_a_standard_quota_for_a_day_on_postgresql() {
    let Some((url, schema)) = support::postgres_schema("plan_soak").await else {
        return;
    };
    let store = Store::open_in_schema(&url, &schema).await.expect("store");
    let outcome = tokio::spawn(soak(store, "PostgreSQL", soak_hours(1))).await;
    support::drop_schema(&url, &schema).await;
    if let Err(failure) = outcome {
        std::panic::resume_unwind(failure.into_panic());
    }
}

//! The server over HTTP on port 0 against the Cvent REST sandbox, for what the workspace keeps
//! of its own: sessions created in it, auto sync that follows the vendor and stops a week after
//! the event, seats that two servers on one PostgreSQL database never oversell, and preview
//! reports that outlive the server.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use connectors::RetryPolicy;
use engine::Config;
use reqwest::{Method, StatusCode};
use sandboxes::cvent_rest::{CventRestSandbox, SandboxConfig};
use serde_json::{Value, json};
use server::{AppState, Settings};
use store::Store;

const FAST_RETRY: RetryPolicy = RetryPolicy {
    initial: Duration::from_millis(10),
    max: Duration::from_millis(80),
    attempts: 5,
};

/// One server of a workspace, and the sandbox it syncs from.
struct Server {
    base: String,
    state: AppState,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct World {
    sandbox: CventRestSandbox,
    store: Store,
    dir: PathBuf,
    token: String,
    http: reqwest::Client,
    tweak: fn(&mut Settings),
}

/// The sandbox's connection; sessions and registrations removed at the vendor leave the
/// workspace after a full sync.
fn config(sandbox: &CventRestSandbox) -> Config {
    let text = format!(
        "[[connections]]\nname = \"cvent\"\nkind = \"cvent-rest\"\nbase_url = \"{}\"\nevent_code = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"${{SECRET}}\"\ndata_types = [\"people\", \"sessions\", \"speakers\", \"session_registrations\"]\n\n[connections.data.sessions]\nremove_outdated = true\n\n[connections.data.session_registrations]\nremove_outdated = true\n",
        sandbox.base_url(),
        sandbox.event_code(),
        sandbox.client_id()
    );
    let secret = sandbox.client_secret().to_string();
    Config::parse(&text, Path::new("eventsync.toml"), &move |name| {
        (name == "SECRET").then(|| secret.clone())
    })
    .expect("config")
}

fn no_scheduler(_: &mut Settings) {}

impl World {
    /// A sandbox of `attendees` and a workspace in `store` (a fresh SQLite file when `None`).
    async fn start(attendees: u64, store: Option<Store>, tweak: fn(&mut Settings)) -> World {
        let sandbox = CventRestSandbox::start(SandboxConfig {
            attendees,
            ..SandboxConfig::default()
        })
        .await
        .expect("sandbox");
        let dir = std::env::temp_dir().join(format!(
            "eventsync-workspace-{}-{}",
            std::process::id(),
            sandbox.address().port()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let store = match store {
            Some(store) => store,
            None => Store::open(&dir.join("workspace.sqlite").display().to_string())
                .await
                .expect("store"),
        };
        let token = server::new_token();
        store
            .add_api_token("tests", &server::token_hash(&token))
            .await
            .expect("token");
        World {
            sandbox,
            store,
            dir,
            token,
            http: reqwest::Client::new(),
            tweak,
        }
    }

    /// Starts a server on `store` (a process of its own, as far as the workspace can tell).
    async fn serve(&self, store: Store) -> Server {
        let mut settings = Settings {
            report_dir: self.dir.join("reports"),
            retry: FAST_RETRY,
            poll: Duration::from_millis(50),
            lease: Duration::from_secs(2),
            scheduler: false,
            ..Settings::default()
        };
        (self.tweak)(&mut settings);
        let state = AppState::new(store, config(&self.sandbox), settings);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("listener");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let served = state.clone();
        let task = tokio::spawn(async move {
            server::serve(served, listener, std::future::pending())
                .await
                .expect("serve");
        });
        Server { base, state, task }
    }

    async fn call(
        &self,
        server: &Server,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let url = format!("{}{path}", server.base);
        support::call(&self.http, &self.token, method, url, body).await
    }

    async fn get(&self, server: &Server, path: &str) -> Value {
        let (status, body) = self.call(server, Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    async fn control(&self, method: Method, path: &str, body: Value) -> Value {
        support::control(&self.http, &self.sandbox, method, path, body).await
    }

    /// Starts a run through the API and waits for it to end.
    async fn run(&self, server: &Server, body: Value) -> Value {
        let (status, started) = self
            .call(server, Method::POST, "/v1/runs", Some(body))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{started}");
        let id = started["run_id"].as_i64().expect("run id");
        for _ in 0..800 {
            let run = self.get(server, &format!("/v1/runs/{id}")).await;
            if run["status"] != "running" {
                return run;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("run {id} did not end");
    }

    async fn sync(&self, server: &Server, data_types: &[&str], full: bool) -> Value {
        let run = self
            .run(
                server,
                json!({"connection": "cvent", "kind": "sync", "data_types": data_types, "full": full}),
            )
            .await;
        assert_eq!(run["status"], "succeeded", "{run}");
        run
    }

    async fn sandbox_calls(&self, endpoint: &str) -> u64 {
        let calls = self.control(Method::GET, "/calls", Value::Null).await;
        calls["byEndpoint"][endpoint].as_u64().unwrap_or(0)
    }

    async fn finish(self) {
        self.store.close().await;
        self.sandbox.stop().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|record| record["external_id"].as_str().expect("id").to_string())
        .collect()
}

async fn people(world: &World, server: &Server, count: usize) -> Vec<String> {
    let people = world
        .get(server, "/v1/people?status=active&limit=500")
        .await;
    ids(&people).into_iter().take(count).collect()
}

/// A session with no registrations, given `capacity` at the vendor and synced.
async fn empty_session(world: &World, server: &Server, capacity: u32) -> String {
    let sessions = world
        .get(server, "/v1/sessions?limit=500&include_hidden=true")
        .await;
    for id in ids(&sessions) {
        let registrations = world
            .get(server, &format!("/v1/sessions/{id}/registrations"))
            .await;
        if registrations["data"].as_array().is_some_and(Vec::is_empty) {
            world
                .control(
                    Method::PATCH,
                    &format!("/sessions/{id}"),
                    json!({"status": "Active", "capacityUnlimited": false, "capacity": capacity, "enableWaitlist": false}),
                )
                .await;
            world.sync(server, &["sessions"], false).await;
            return id;
        }
    }
    panic!("no session without registrations");
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .with_timezone(&Utc)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_created_in_the_workspace_stay_there_and_outlive_full_syncs() {
    let world = World::start(80, None, no_scheduler).await;
    let server = world.serve(world.store.clone()).await;
    world
        .sync(
            &server,
            &["people", "sessions", "speakers", "session_registrations"],
            false,
        )
        .await;
    let people = people(&world, &server, 3).await;

    // Bad input is refused with what to fix.
    let refusals = [
        (
            json!({"title": "Meet-up", "starts_at": "tomorrow", "ends_at": "2026-05-01T10:00:00Z"}),
            "starts_at",
        ),
        (
            json!({"title": " ", "starts_at": "2026-05-01T09:00:00Z", "ends_at": "2026-05-01T10:00:00Z"}),
            "title",
        ),
        (
            json!({"title": "Meet-up", "starts_at": "2026-05-01T11:00:00Z", "ends_at": "2026-05-01T10:00:00Z"}),
            "before",
        ),
        (
            json!({"title": "Meet-up", "starts_at": "2026-05-01T09:00:00Z"}),
            "ends_at",
        ),
    ];
    for (body, words) in refusals {
        let (status, answer) = world
            .call(&server, Method::POST, "/v1/sessions", Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(words), "{body}: {message}");
    }

    let (status, session) = world
        .call(
            &server,
            Method::POST,
            "/v1/sessions",
            Some(json!({"title": "Speakers' meet-up", "starts_at": "2026-05-01T18:00:00+02:00", "ends_at": "2026-05-01T17:00:00Z", "location": "Roof terrace", "capacity": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    let id = session["external_id"].as_str().expect("id").to_string();
    assert!(id.starts_with("local-"), "{id}");
    assert_eq!(session["starts_at"], "2026-05-01T16:00:00Z");
    assert_eq!(session["capacity"], 1);

    // Registering is recorded in the workspace only: no outbox item, no call to Cvent.
    let registrations_path = format!("/v1/sessions/{id}/registrations");
    let register = |person: &str| {
        world.call(
            &server,
            Method::POST,
            &registrations_path,
            Some(json!({"person_id": person})),
        )
    };
    let (status, registration) = register(&people[0]).await;
    assert_eq!(status, StatusCode::CREATED, "{registration}");
    assert_eq!(registration["state"], "local");
    let (status, answer) = register(&people[1]).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("session_full")),
        "{answer}"
    );
    let outbox = world.get(&server, "/v1/outbox").await;
    assert_eq!(outbox["data"], json!([]), "nothing for the vendor");
    let person_sessions = world
        .get(&server, &format!("/v1/people/{}/sessions", people[0]))
        .await;
    assert!(
        person_sessions["data"]
            .as_array()
            .expect("sessions")
            .iter()
            .any(|s| s["session"]["external_id"] == id.as_str()
                && s["registration"]["state"] == "local"),
        "{person_sessions}"
    );

    // A full sync that removes outdated data removes what Cvent deleted, and nothing local.
    let sessions = world.get(&server, "/v1/sessions?limit=500").await;
    let deleted = ids(&sessions)
        .into_iter()
        .find(|s| !s.starts_with("local-"))
        .expect("an imported session");
    world
        .control(Method::DELETE, &format!("/sessions/{deleted}"), Value::Null)
        .await;
    let run = world
        .sync(&server, &["sessions", "session_registrations"], true)
        .await;
    assert!(
        run["counts"]["sessions"]["remove"].as_u64() >= Some(1),
        "{run}"
    );
    let gone = world
        .get(
            &server,
            &format!("/v1/sessions?external_id={deleted}&include_hidden=true"),
        )
        .await;
    assert_eq!(gone["data"], json!([]), "Cvent's deleted session left");
    let kept = world
        .get(&server, &format!("/v1/sessions?external_id={id}"))
        .await;
    assert_eq!(kept["data"].as_array().map(Vec::len), Some(1), "{kept}");
    let registrations = world
        .get(&server, &format!("/v1/sessions/{id}/registrations"))
        .await;
    assert_eq!(
        registrations["data"].as_array().map(Vec::len),
        Some(1),
        "{registrations}"
    );

    // Unregistering frees the seat, still without a word to Cvent.
    let (status, answer) = world
        .call(
            &server,
            Method::DELETE,
            &format!("/v1/sessions/{id}/registrations/{}", people[0]),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");
    let (status, answer) = register(&people[1]).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(world.get(&server, "/v1/outbox").await["data"], json!([]));
    assert_eq!(
        world
            .sandbox_calls("POST /ea/sessions/{id}/enrollment/{attendeeId}")
            .await
            + world
                .sandbox_calls("DELETE /ea/sessions/{id}/enrollment/{attendeeId}")
                .await,
        0
    );
    drop(server);
    world.finish().await;
}

fn fast_scheduler(settings: &mut Settings) {
    settings.scheduler = true;
    settings.scheduler_tick = Duration::from_millis(100);
    settings.min_interval = Duration::from_secs(1);
}

/// How many runs the server has recorded, after any it is starting has been recorded.
async fn run_count(world: &World, server: &Server) -> usize {
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut count = 0;
    for _ in 0..200 {
        let runs = world.get(server, "/v1/runs?limit=500").await;
        let data = runs["data"].as_array().cloned().unwrap_or_default();
        count = data.len();
        if data.iter().all(|run| run["status"] != "running") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_sync_stops_a_week_after_the_event_ends_and_says_why() {
    let world = World::start(40, None, no_scheduler).await;
    // The event ended almost a week ago: an hour of auto sync is left.
    let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 3);
    let ended = now - chrono::Duration::days(7) + chrono::Duration::hours(1);
    world
        .control(
            Method::PATCH,
            &format!("/events/{}", world.sandbox.event_id()),
            json!({
                "start": (ended - chrono::Duration::days(2)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "end": ended.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            }),
        )
        .await;
    let server = world.serve(world.store.clone()).await;
    world.sync(&server, &["people"], false).await;
    let (status, answer) = world
        .call(
            &server,
            Method::PUT,
            "/v1/connections/cvent/data-types/people/auto-sync",
            Some(json!({"enabled": true, "interval_seconds": 60})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    // The data types say when auto sync stops, and why then.
    let data_types = world.get(&server, "/v1/connections/cvent/data-types").await;
    let end = &data_types["auto_sync_end"];
    assert_eq!(end["stopped"], false, "{data_types}");
    assert_eq!(at(end["event_end"].as_str().expect("end")), ended);
    let stops_at = at(end["stops_at"].as_str().expect("stops_at"));
    assert_eq!(stops_at, ended + chrono::Duration::days(7));
    let reason = end["reason"].as_str().expect("reason");
    assert!(
        reason.contains("auto sync stops on") && reason.contains("7 days after the event's end"),
        "{reason}"
    );

    // Half an hour from now the stream is due and auto sync still runs; two hours from now it
    // would be due again, but the week is over.
    let before = run_count(&world, &server).await;
    server::scheduler::tick(&server.state, now + chrono::Duration::minutes(30))
        .await
        .expect("tick");
    let after = run_count(&world, &server).await;
    assert_eq!(after, before + 1, "an auto sync started before the stop");
    server::scheduler::tick(&server.state, now + chrono::Duration::hours(2))
        .await
        .expect("tick");
    assert_eq!(
        run_count(&world, &server).await,
        after,
        "no auto sync starts after the stop"
    );
    drop(server);
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_catches_up_with_the_vendor_without_overlapping_or_piling_up_runs() {
    let world = World::start(60, None, fast_scheduler).await;
    let server = world.serve(world.store.clone()).await;
    world
        .sync(&server, &["people", "sessions", "speakers"], false)
        .await;
    let first_run = world.get(&server, "/v1/runs?limit=1").await["data"][0]["id"]
        .as_i64()
        .expect("run");
    // One second: shorter than the API accepts, as only a test would set it.
    world
        .store
        .set_auto_sync(&store::AutoSync {
            connection: "cvent".into(),
            data_type: "people".into(),
            enabled: true,
            interval_seconds: 1,
            updated_at: String::new(),
        })
        .await
        .expect("auto sync");

    // A change at the vendor reaches the workspace with no one asking.
    let person = people(&world, &server, 1).await.remove(0);
    world
        .control(
            Method::PATCH,
            &format!("/attendees/{person}"),
            json!({"contact": {"firstName": "Scheduled"}}),
        )
        .await;
    let mut caught_up = false;
    for _ in 0..200 {
        let found = world
            .get(&server, &format!("/v1/people?external_id={person}"))
            .await;
        if found["data"][0]["first_name"] == "Scheduled" {
            caught_up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(caught_up, "the workspace caught up with the change");

    // Cvent slows down so much that a run outlasts several intervals, then recovers.
    world
        .control(Method::PUT, "/faults", json!({"latencyMs": 1500}))
        .await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    world.control(Method::PUT, "/faults", json!({})).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    world
        .store
        .set_auto_sync(&store::AutoSync {
            connection: "cvent".into(),
            data_type: "people".into(),
            enabled: false,
            interval_seconds: 1,
            updated_at: String::new(),
        })
        .await
        .expect("auto sync off");
    let mut runs = Vec::new();
    for _ in 0..200 {
        let listed = world.get(&server, "/v1/runs?limit=500").await;
        runs = listed["data"].as_array().cloned().unwrap_or_default();
        if runs.iter().all(|run| run["status"] != "running") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut auto: Vec<&Value> = runs
        .iter()
        .filter(|run| run["id"].as_i64() > Some(first_run))
        .collect();
    auto.sort_by_key(|run| run["id"].as_i64());
    assert!(auto.len() >= 3, "auto syncs ran: {auto:#?}");
    let mut slow = 0;
    for pair in auto.windows(2) {
        let (before, after) = (pair[0], pair[1]);
        assert_eq!(before["status"], "succeeded", "{before}");
        let ended = at(before["finished_at"].as_str().expect("finished"));
        let began = at(after["started_at"].as_str().expect("started"));
        let duration = ended - at(before["started_at"].as_str().expect("started"));
        if duration > chrono::Duration::seconds(1) {
            slow += 1;
        }
        // Never overlapping, and a whole interval after the last run ended even when that run
        // outlasted several intervals: missed ticks are not made up for.
        assert!(
            began - ended >= chrono::Duration::milliseconds(900),
            "run {} began {} ms after run {} ended",
            after["id"],
            (began - ended).num_milliseconds(),
            before["id"]
        );
    }
    assert!(slow >= 1, "a run outlasted the interval: {auto:#?}");
    eprintln!(
        "{} auto syncs, {slow} of them slower than the interval",
        auto.len()
    );
    drop(server);
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preview_report_is_served_after_a_restart() {
    let world = World::start(30, None, no_scheduler).await;
    let server = world.serve(world.store.clone()).await;
    let run = world
        .run(
            &server,
            json!({"connection": "cvent", "kind": "preview", "data_types": ["people"]}),
        )
        .await;
    assert_eq!(run["status"], "succeeded", "{run}");
    let path = format!("/v1/runs/{}/report", run["id"]);
    let (status, before) = world.call(&server, Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{before}");
    let text = before.as_str().expect("CSV text");
    assert!(text.contains("\npeople,"), "{text}");
    drop(server);

    let restarted = world.serve(world.store.clone()).await;
    let (status, after) = world.call(&restarted, Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(after, before);
    drop(restarted);
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_database_never_sell_more_seats_than_a_session_has() {
    let Some((url, schema)) = support::postgres_schema("serve_seats").await else {
        return;
    };
    let first_store = Store::open_in_schema(&url, &schema)
        .await
        .expect("PostgreSQL store");
    let world = World::start(120, Some(first_store.clone()), no_scheduler).await;
    let first = world.serve(first_store).await;
    world
        .sync(
            &first,
            &["people", "sessions", "speakers", "session_registrations"],
            false,
        )
        .await;
    // The second server has its own connections, as another process would.
    let second_store = Store::open_in_schema(&url, &schema)
        .await
        .expect("second PostgreSQL store");
    let second = world.serve(second_store.clone()).await;
    const SEATS: usize = 3;
    let session = empty_session(&world, &first, SEATS as u32).await;
    let people = people(&world, &first, 16).await;
    assert_eq!(people.len(), 16);

    let path = format!("/v1/sessions/{session}/registrations");
    let attempts = people.iter().enumerate().map(|(index, person)| {
        let server = if index % 2 == 0 { &first } else { &second };
        world.call(
            server,
            Method::POST,
            &path,
            Some(json!({"person_id": person})),
        )
    });
    let answers = futures_join_all(attempts).await;
    let accepted = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::ACCEPTED)
        .count();
    for (status, answer) in &answers {
        assert!(
            *status == StatusCode::ACCEPTED
                || (*status == StatusCode::CONFLICT && answer["error"]["code"] == "session_full"),
            "{status}: {answer}"
        );
    }
    assert_eq!(accepted, SEATS, "{answers:?}");
    for server in [&first, &second] {
        let registrations = world
            .get(server, &format!("/v1/sessions/{session}/registrations"))
            .await;
        let taken = registrations["data"]
            .as_array()
            .expect("registrations")
            .iter()
            .filter(|r| r["state"] != "failed")
            .count();
        assert_eq!(taken, SEATS, "{registrations}");
    }
    drop((first, second));
    second_store.close().await;
    world.finish().await;
    support::drop_schema(&url, &schema).await;
}

/// Awaits every future at once, so the calls truly race; outputs in the futures' order.
async fn futures_join_all<F, T>(futures: impl Iterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = T>,
{
    use std::task::Poll;
    let mut pending: Vec<_> = futures.map(|future| Some(Box::pin(future))).collect();
    let mut done: Vec<Option<T>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|context| {
        let mut all = true;
        for (slot, future) in pending.iter_mut().enumerate() {
            if let Some(running) = future {
                match running.as_mut().poll(context) {
                    Poll::Ready(value) => {
                        done[slot] = Some(value);
                        *future = None;
                    }
                    Poll::Pending => all = false,
                }
            }
        }
        if all { Poll::Ready(()) } else { Poll::Pending }
    })
    .await;
    done.into_iter().flatten().collect()
}

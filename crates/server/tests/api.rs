//! The server over HTTP on port 0, with a fresh SQLite workspace synced from the Cvent REST
//! sandbox: authentication and JSON errors, workspace reads, registrations and check-ins sent
//! back through the outbox, webhooks, and a restart with work left behind.

mod support;

use std::path::Path;
use std::time::Duration;

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

const WEBHOOK_TOKEN: &str = "hook-secret-for-tests";

struct World {
    sandbox: CventRestSandbox,
    store: Store,
    config_text: String,
    dir: std::path::PathBuf,
    base: String,
    token: String,
    http: reqwest::Client,
    server: Option<tokio::task::JoinHandle<()>>,
}

fn config(sandbox: &CventRestSandbox) -> (String, Config) {
    let text = format!(
        "[[connections]]\nname = \"cvent\"\nkind = \"cvent-rest\"\nbase_url = \"{}\"\nevent_code = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"${{SECRET}}\"\ndata_types = [\"people\", \"sessions\", \"speakers\", \"session_registrations\", \"locations\", \"sponsor_levels\", \"sponsors\", \"air_requests\", \"hotel_requests\"]\nflights = true\nhotel_requests = true\n",
        sandbox.base_url(),
        sandbox.event_code(),
        sandbox.client_id()
    );
    let secret = sandbox.client_secret().to_string();
    let parsed = Config::parse(&text, Path::new("eventsync.toml"), &move |name| {
        (name == "SECRET").then(|| secret.clone())
    })
    .expect("config");
    (text, parsed)
}

fn settings(dir: &Path) -> Settings {
    Settings {
        webhook_token: Some(engine::Secret::new(WEBHOOK_TOKEN)),
        report_dir: dir.join("reports"),
        retry: FAST_RETRY,
        poll: Duration::from_millis(50),
        lease: Duration::from_secs(2),
        scheduler: false,
        ..Settings::default()
    }
}

impl World {
    async fn start(attendees: u64) -> World {
        World::start_in(attendees, None).await
    }

    /// A world whose workspace is the PostgreSQL schema `postgres` names (url, schema), or a
    /// SQLite file when it is `None`.
    async fn start_in(attendees: u64, postgres: Option<&(String, String)>) -> World {
        let sandbox = CventRestSandbox::start(SandboxConfig {
            attendees,
            ..SandboxConfig::default()
        })
        .await
        .expect("sandbox");
        let dir = std::env::temp_dir().join(format!(
            "eventsync-serve-{}-{}",
            std::process::id(),
            sandbox.address().port()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let store = match postgres {
            Some((url, schema)) => Store::open_in_schema(url, schema).await,
            None => Store::open(&dir.join("workspace.sqlite").display().to_string()).await,
        }
        .expect("store");
        let token = server::new_token();
        store
            .add_api_token("tests", &server::token_hash(&token))
            .await
            .expect("token");
        let (config_text, _) = config(&sandbox);
        let mut world = World {
            sandbox,
            store,
            config_text,
            dir,
            base: String::new(),
            token,
            http: reqwest::Client::new(),
            server: None,
        };
        world.serve(world.store.clone()).await;
        world
    }

    async fn serve(&mut self, store: Store) {
        let (_, parsed) = config(&self.sandbox);
        let state = AppState::new(store, parsed, settings(&self.dir));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("listener");
        self.base = format!("http://{}", listener.local_addr().expect("address"));
        self.server = Some(tokio::spawn(async move {
            server::serve(state, listener, std::future::pending())
                .await
                .expect("serve");
        }));
    }

    /// Stops the server as abruptly as a kill: its tasks are dropped mid-work.
    fn kill(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let url = format!("{}{path}", self.base);
        support::call(&self.http, &self.token, method, url, body).await
    }

    async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    async fn control(&self, method: Method, path: &str, body: Value) -> Value {
        support::control(&self.http, &self.sandbox, method, path, body).await
    }

    /// Starts a sync through the API and waits for it to finish.
    async fn sync(&self, data_types: &[&str]) -> Value {
        let (status, started) = self
            .call(
                Method::POST,
                "/v1/runs",
                Some(json!({"connection": "cvent", "kind": "sync", "data_types": data_types})),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{started}");
        let run_id = started["run_id"].as_i64().expect("run id");
        self.wait_for(&format!("run {run_id}"), || async move {
            let run = self.get(&format!("/v1/runs/{run_id}")).await;
            (run["status"] != "running").then_some(run)
        })
        .await
    }

    async fn wait_for<T, F, Fut>(&self, what: &str, mut probe: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        for _ in 0..400 {
            if let Some(value) = probe().await {
                return value;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("timed out waiting for {what}");
    }

    async fn outbox_item(&self, id: i64) -> Value {
        self.get(&format!("/v1/outbox/{id}")).await
    }

    async fn wait_outbox_done(&self, id: i64) -> Value {
        self.wait_for(&format!("outbox item {id}"), || async move {
            let item = self.outbox_item(id).await;
            matches!(item["status"].as_str(), Some("sent" | "failed")).then_some(item)
        })
        .await
    }

    async fn wait_for_person(&self, id: &str) {
        let path = format!("/v1/people?external_id={id}");
        let path = &path;
        self.wait_for(&format!("person {id} in the workspace"), || async move {
            let found = self.get(path).await;
            (found["data"].as_array().map(Vec::len) == Some(1)).then_some(())
        })
        .await;
    }

    async fn sandbox_calls(&self, endpoint: &str) -> u64 {
        let calls = self.control(Method::GET, "/calls", Value::Null).await;
        calls["byEndpoint"][endpoint].as_u64().unwrap_or(0)
    }

    async fn finish(mut self) {
        self.kill();
        self.store.close().await;
        self.sandbox.stop().await;
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = &self.config_text;
    }
}

/// A session of the workspace with no registrations and room for `capacity`, at the vendor too.
async fn empty_session(world: &World, capacity: u32) -> String {
    let sessions = world
        .get("/v1/sessions?limit=500&include_hidden=true")
        .await;
    for session in sessions["data"].as_array().expect("sessions") {
        let id = session["external_id"].as_str().expect("id");
        let registrations = world.get(&format!("/v1/sessions/{id}/registrations")).await;
        if registrations["data"].as_array().is_some_and(Vec::is_empty) {
            world
                .control(
                    Method::PATCH,
                    &format!("/sessions/{id}"),
                    json!({"status": "Active", "capacityUnlimited": false, "capacity": capacity, "enableWaitlist": false}),
                )
                .await;
            world.sync(&["sessions"]).await;
            return id.to_string();
        }
    }
    panic!("no session without registrations");
}

async fn people(world: &World, count: usize) -> Vec<String> {
    let people = world.get("/v1/people?status=active&limit=500").await;
    people["data"]
        .as_array()
        .expect("people")
        .iter()
        .take(count)
        .map(|p| p["external_id"].as_str().expect("id").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_wants_a_token_and_answers_errors_as_json() {
    let world = World::start(50).await;
    let health: Value = reqwest::get(format!("{}/healthz", world.base))
        .await
        .expect("healthz")
        .json()
        .await
        .expect("json");
    assert_eq!(health["status"], "ok");

    let anonymous = world
        .http
        .get(format!("{}/v1/people", world.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    let forged = world
        .http
        .get(format!("{}/v1/people", world.base))
        .bearer_auth("evs_not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);

    let cases: &[(Method, &str, Option<Value>, StatusCode, &str)] = &[
        (
            Method::GET,
            "/v1/people?limit=0",
            None,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            Method::GET,
            "/v1/people?shoe_size=42",
            None,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            Method::GET,
            "/v1/people?connection=nope",
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::GET,
            "/v1/runs/abc",
            None,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            Method::GET,
            "/v1/runs/999",
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::GET,
            "/v1/outbox?status=lost",
            None,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            Method::POST,
            "/v1/runs",
            Some(json!({"connection": "cvent", "kind": "dance"})),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            Method::POST,
            "/v1/runs",
            Some(json!({"connection": "cvent"})),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            Method::POST,
            "/v1/check-ins",
            Some(json!({"person_id": "nobody"})),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::PUT,
            "/v1/connections/cvent/data-types/people/auto-sync",
            Some(json!({"enabled": true, "interval_seconds": 5})),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            Method::GET,
            "/v1/nothing-here",
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::DELETE,
            "/v1/people",
            None,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let (got, answer) = world.call(method.clone(), path, body.clone()).await;
        assert_eq!(got, *status, "{method} {path}: {answer}");
        assert_eq!(answer["error"]["code"], *code, "{method} {path}: {answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }

    let oversized = "x".repeat(2 * 1024 * 1024);
    // A client of its own: the server closes the connection without reading the rest.
    let response = reqwest::Client::new()
        .post(format!("{}/v1/check-ins", world.base))
        .bearer_auth(&world.token)
        .json(&json!({"person_id": oversized}))
        .send()
        .await
        .expect("oversized request");
    let status = response.status();
    let answer: Value = response.json().await.expect("JSON error");
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert_eq!(answer["error"]["code"], "too_large");

    let connections = world.get("/v1/connections").await;
    let text = connections.to_string();
    assert!(text.contains("\"cvent\""));
    assert!(
        !text.contains(world.sandbox.client_secret()),
        "a secret was returned"
    );

    let document = world.get("/openapi.json").await;
    let answer = &document["paths"]["/v1/connections/{connection}/data-types"]["get"]["responses"]
        ["200"]["content"]["application/json"]["schema"];
    let data_type = resolved(
        &document,
        &resolved(&document, answer)["properties"]["data"]["items"],
    );
    let totals = resolved(&document, &data_type["properties"]["totals"]);
    assert!(
        totals["properties"]["vendor"].is_object(),
        "totals missing from the data types' schema: {data_type}"
    );
    world.finish().await;
}

/// `schema` itself, or the component its `$ref` names.
fn resolved<'a>(document: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.trim_start_matches("#/components/schemas/");
            &document["components"]["schemas"][name]
        }
        None => schema,
    }
}

/// The router and the document agree: every documented operation reaches a handler (the
/// fallbacks' answers would say "no such route" or `method_not_allowed`), and on every documented
/// path every other method is refused as the router's own fallback refuses it, so the router holds
/// no operation the document leaves out. Routes are only added through `OpenApiRouter::routes`,
/// which documents them, so no path can be missing either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_is_in_the_document_and_every_documented_operation_is_routed() {
    let world = World::start(5).await;
    let document = world.get("/openapi.json").await;
    let paths = document["paths"].as_object().expect("paths");
    assert!(paths.len() > 40, "{} paths", paths.len());
    let methods = ["get", "put", "post", "delete", "patch"];
    for (path, item) in paths {
        // An id no record has: the call reaches its handler and changes nothing.
        let concrete: String = path
            .split('/')
            .map(|part| {
                if part.starts_with('{') {
                    "999999"
                } else {
                    part
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for method in methods {
            let response = world
                .http
                .request(
                    method.to_uppercase().parse().expect("method"),
                    format!("{}{concrete}", world.base),
                )
                .bearer_auth(&world.token)
                .send()
                .await
                .expect("answer");
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let fallback = answer["error"]["code"] == "method_not_allowed"
                || answer["error"]["message"]
                    .as_str()
                    .is_some_and(|message| message.starts_with("no such route"));
            if item[method].is_object() {
                assert!(
                    !fallback,
                    "{method} {path} is documented but not routed: {status} {text}"
                );
            } else {
                assert!(
                    status == StatusCode::METHOD_NOT_ALLOWED && fallback,
                    "{method} {path} is routed but not documented: {status} {text}"
                );
            }
        }
    }
    world.finish().await;
}

/// Whether `text` is an RFC 3339 time in UTC to the second: `2026-05-01T09:00:00Z`.
fn to_the_second(text: &str) -> bool {
    text.len() == 20 && text.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(text).is_ok()
}

/// Regression: the API wrote times with microseconds here and milliseconds there, and left a
/// run's zero counts out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn times_are_shown_to_the_second_and_zero_counts_are_present() {
    let world = World::start(30).await;
    let run = world.sync(&["people", "sessions"]).await;
    for key in ["started_at", "finished_at"] {
        let at = run[key].as_str().unwrap_or_default();
        assert!(to_the_second(at), "run {key}: {at}");
    }
    // A first sync updates nothing: the zero is there all the same, for every action.
    for data_type in ["people", "sessions"] {
        let counts = &run["counts"][data_type];
        for action in [
            "create",
            "update",
            "unchanged",
            "cancel",
            "reject",
            "remove",
            "skipped",
            "filtered",
        ] {
            assert!(counts[action].is_u64(), "{data_type} {action}: {counts}");
        }
        assert_eq!(counts["update"], 0, "{counts}");
    }
    let listed = world.get("/v1/runs").await;
    assert_eq!(listed["data"][0]["counts"], run["counts"]);

    let data_types = world.get("/v1/connections/cvent/data-types").await;
    let people = data_types["data"]
        .as_array()
        .and_then(|types| types.iter().find(|t| t["data_type"] == "people"))
        .expect("people");
    for at in [&people["last_synced_at"], &people["totals"]["counted_at"]] {
        assert!(to_the_second(at.as_str().unwrap_or_default()), "{people}");
    }
    let sessions = world.get("/v1/sessions?include_hidden=true").await;
    let session = &sessions["data"][0];
    for key in ["starts_at", "ends_at"] {
        let at = session[key].as_str().unwrap_or_default();
        assert!(to_the_second(at), "session {key}: {at}");
    }
    // The filter takes the time as the list shows it.
    let starts_at = session["starts_at"].as_str().expect("starts_at");
    let id = session["external_id"].as_str().expect("id");
    let found = world
        .get(&format!(
            "/v1/sessions?include_hidden=true&starts_at={starts_at}&limit=500"
        ))
        .await;
    assert!(
        found["data"]
            .as_array()
            .expect("sessions")
            .iter()
            .any(|s| s["external_id"] == id),
        "{found}"
    );

    let person = people_of(&world).await;
    let (status, item) = world
        .call(
            Method::POST,
            "/v1/check-ins",
            Some(json!({"person_id": person, "at": "2026-05-01T09:00:00.250+02:00"})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{item}");
    assert_eq!(item["person_external_id"], person.as_str());
    for key in ["created_at", "updated_at", "next_attempt_at"] {
        let at = item[key].as_str().unwrap_or_default();
        assert!(to_the_second(at), "outbox {key}: {at}");
    }
    assert_eq!(item["payload"]["checkIn"], "2026-05-01T07:00:00Z");
    let tokens = world.get("/v1/tokens").await;
    assert!(to_the_second(
        tokens["data"][0]["created_at"].as_str().unwrap_or_default()
    ));

    // Every outbox and webhook status has its series, a zero included.
    let metrics = reqwest::get(format!("{}/metrics", world.base))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    for line in [
        "eventsync_outbox_items{status=\"failed\"} 0",
        "eventsync_outbox_items{status=\"local\"} 0",
        "eventsync_webhook_deliveries{status=\"done\"} 0",
    ] {
        assert!(metrics.contains(line), "missing {line} in\n{metrics}");
    }
    // When each synced stream last went through: just now for people, never for speakers.
    let synced_at = metrics
        .lines()
        .find_map(|line| {
            line.strip_prefix(
                "eventsync_last_successful_sync_timestamp_seconds{connection=\"cvent\",data_type=\"people\"} ",
            )
        })
        .and_then(|value| value.parse::<i64>().ok())
        .unwrap_or_else(|| panic!("no last sync for people in\n{metrics}"));
    let age = chrono::Utc::now().timestamp() - synced_at;
    assert!((0..120).contains(&age), "synced {age} s ago");
    assert!(
        !metrics.contains("data_type=\"speakers\"} "),
        "speakers never synced: {metrics}"
    );
    world.finish().await;
}

async fn people_of(world: &World) -> String {
    people(world, 1).await.remove(0)
}

/// Regression: sponsors, sponsor levels, locations and travel were synced but had no route.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_synced_data_type_is_listed_filtered_and_documented() {
    let world = World::start(60).await;
    let all = [
        "people",
        "sessions",
        "speakers",
        "session_registrations",
        "locations",
        "sponsor_levels",
        "sponsors",
        "air_requests",
        "hotel_requests",
    ];
    let run = world.sync(&all).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    let document = world.get("/openapi.json").await;
    for data_type in all {
        let path = format!("/v1/{}", data_type.replace('_', "-"));
        let stored = world.store.count("cvent", data_type).await.expect("count");
        let page = world.get(&format!("{path}?limit=500")).await;
        let records = page["data"].as_array().expect("a page");
        assert!(stored > 0, "the sandbox has {data_type}");
        assert_eq!(records.len() as u64, stored.min(500), "{path}");
        assert!(records.iter().all(|r| r["connection"] == "cvent"), "{path}");
        // Every field of the data type is a documented filter.
        let operation = &document["paths"][&path]["get"];
        let parameters: Vec<&str> = operation["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{path} is documented"))
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        for field in records[0].as_object().expect("a record").keys() {
            if field != "connection" && !field.starts_with("custom.") {
                assert!(parameters.contains(&field.as_str()), "{path}: {field}");
            }
        }
        // One filter: the first record's id finds it alone.
        let id = records[0]["external_id"].as_str().expect("id");
        let found = world.get(&format!("{path}?external_id={id}")).await;
        assert_eq!(found["data"].as_array().map(Vec::len), Some(1), "{path}");
    }
    let levels = world.get("/v1/sponsor-levels").await;
    let level = levels["data"][0]["external_id"].as_str().expect("a level");
    let sponsors = world
        .get(&format!("/v1/sponsors?level_external_id={level}&limit=500"))
        .await;
    assert!(
        sponsors["data"]
            .as_array()
            .expect("sponsors")
            .iter()
            .all(|s| s["level_external_id"] == level),
        "{sponsors}"
    );
    let (status, refused) = world
        .call(Method::GET, "/v1/sponsors?no_such_field=1", None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    // Regression: a value no record could hold, or a parameter given twice, was a silent empty
    // page; schemathesis found both.
    for query in [
        "/v1/people?status=null",
        "/v1/sessions?hidden=maybe",
        "/v1/sessions?capacity=ten",
        "/v1/people?status=active&status=active",
        "/v1/sponsors?name=",
    ] {
        let query = if query.ends_with('=') {
            format!("{query}{}", "n".repeat(257))
        } else {
            query.to_string()
        };
        let (status, refused) = world.call(Method::GET, &query, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {refused}");
    }
    let (status, refused) = world
        .call(Method::GET, "/v1/sponsors?include_hidden=true", None)
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "sponsors are never hidden: {refused}"
    );
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_may_do_what_its_scope_allows_and_tokens_are_managed_by_admins() {
    let world = World::start(20).await;
    world
        .sync(&["people", "sessions", "speakers", "session_registrations"])
        .await;
    let as_token = |token: String| {
        let world = &world;
        move |method: Method, path: &'static str, body: Option<Value>| {
            let token = token.clone();
            async move {
                let url = format!("{}{path}", world.base);
                support::call(&world.http, &token, method, url, body).await
            }
        }
    };
    // Tokens are made over the API by an admin, shown once.
    let (status, desk) = world
        .call(
            Method::POST,
            "/v1/tokens",
            Some(json!({"name": "check-in desk", "scope": "write"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{desk}");
    assert_eq!(desk["scope"], "write");
    let desk_secret = desk["token"].as_str().expect("the token").to_string();
    let (status, duplicate) = world
        .call(
            Method::POST,
            "/v1/tokens",
            Some(json!({"name": "check-in desk", "scope": "read"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{duplicate}");
    assert_eq!(duplicate["error"]["code"], "name_taken");
    let (status, bad) = world
        .call(
            Method::POST,
            "/v1/tokens",
            Some(json!({"name": "reports", "scope": "everything"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    let (_, reader) = world
        .call(
            Method::POST,
            "/v1/tokens",
            Some(json!({"name": "reports", "scope": "read"})),
        )
        .await;
    let reader_secret = reader["token"].as_str().expect("the token").to_string();
    let listed = world.get("/v1/tokens").await;
    let text = listed.to_string();
    assert!(!text.contains(&desk_secret) && !text.contains(&reader_secret));
    let names: Vec<&str> = listed["data"]
        .as_array()
        .expect("tokens")
        .iter()
        .map(|t| t["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["tests", "check-in desk", "reports"]);
    assert_eq!(listed["data"][0]["scope"], "admin");

    let person = people(&world, 1).await.remove(0);
    let read = as_token(reader_secret.clone());
    let write = as_token(desk_secret.clone());
    for path in ["/v1/people", "/v1/sessions", "/v1/check-ins", "/v1/changes"] {
        let (status, body) = read(Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "read {path}: {body}");
    }
    let check_in = json!({"person_id": person});
    let (status, refused) = read(Method::POST, "/v1/check-ins", Some(check_in.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(refused["error"]["code"], "insufficient_scope");
    let message = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("needs a token of scope write") && message.contains("'reports'"),
        "{message}"
    );
    let (status, body) = write(Method::POST, "/v1/check-ins", Some(check_in)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    // A write token starts no sync, reads no connection, run or token.
    let run = json!({"connection": "cvent", "kind": "sync"});
    for (method, path, body) in [
        (Method::POST, "/v1/runs", Some(run)),
        (Method::GET, "/v1/runs", None),
        (Method::GET, "/v1/connections", None),
        (Method::GET, "/v1/tokens", None),
        (Method::GET, "/v1/webhooks", None),
    ] {
        let (status, refused) = write(method.clone(), path, body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {refused}");
        let message = refused["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("scope admin"), "{message}");
    }
    // The document names each operation's scope.
    let document = world.get("/openapi.json").await;
    assert_eq!(
        document["paths"]["/v1/check-ins"]["post"]["x-required-scope"],
        "write"
    );
    assert_eq!(
        document["paths"]["/v1/people"]["get"]["x-required-scope"],
        "read"
    );
    assert_eq!(
        document["paths"]["/v1/tokens"]["get"]["x-required-scope"],
        "admin"
    );

    // A revoked token is refused from then on.
    let id = desk["id"].as_i64().expect("id");
    let (status, _) = world
        .call(Method::DELETE, &format!("/v1/tokens/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = write(Method::GET, "/v1/people", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, again) = world
        .call(Method::DELETE, &format!("/v1/tokens/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{again}");
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_are_checked_sent_and_refusals_kept_with_their_reason() {
    let world = World::start(200).await;
    let run = world
        .sync(&["people", "sessions", "speakers", "session_registrations"])
        .await;
    assert_eq!(run["status"], "succeeded", "{run}");
    // The data types carry the monitoring totals the sync's full listing counted.
    let data_types = world.get("/v1/connections/cvent/data-types").await;
    let people_type = data_types["data"]
        .as_array()
        .and_then(|types| types.iter().find(|t| t["data_type"] == "people"))
        .expect("people");
    let totals = &people_type["totals"];
    assert_eq!(totals["vendor"], 200, "{totals}");
    assert_eq!(totals["not_yet_synced"], 0, "{totals}");
    let session = empty_session(&world, 1).await;
    let people = people(&world, 3).await;

    // A seat left: the registration is stored, then sent to Cvent.
    let (status, item) = world
        .call(
            Method::POST,
            &format!("/v1/sessions/{session}/registrations"),
            Some(json!({"person_id": people[0]})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{item}");
    let sent = world.wait_outbox_done(item["id"].as_i64().unwrap()).await;
    assert_eq!(sent["status"], "sent", "{sent}");
    assert_eq!(
        world
            .sandbox_calls("POST /ea/sessions/{id}/enrollment/{attendeeId}")
            .await,
        1
    );

    // The same person again, and a second person for the one seat, are refused by the workspace.
    let (status, answer) = world
        .call(
            Method::POST,
            &format!("/v1/sessions/{session}/registrations"),
            Some(json!({"person_id": people[0]})),
        )
        .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_registered"))
    );
    let (status, answer) = world
        .call(
            Method::POST,
            &format!("/v1/sessions/{session}/registrations"),
            Some(json!({"person_id": people[1]})),
        )
        .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("session_full")),
        "{answer}"
    );

    // The registration reaches the workspace with the next sync of registrations.
    world.sync(&["session_registrations"]).await;
    let imported = world
        .get(&format!(
            "/v1/session-registrations?session_external_id={session}"
        ))
        .await;
    assert_eq!(
        imported["data"].as_array().map(Vec::len),
        Some(1),
        "{imported}"
    );
    let mine = world
        .get(&format!("/v1/people/{}/sessions", people[0]))
        .await;
    assert!(
        mine["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["session"]["external_id"] == session.as_str())
    );

    // Unregistering frees the seat at Cvent too.
    let (status, item) = world
        .call(
            Method::DELETE,
            &format!("/v1/sessions/{session}/registrations/{}", people[0]),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{item}");
    assert_eq!(
        world.wait_outbox_done(item["id"].as_i64().unwrap()).await["status"],
        "sent"
    );

    // Cvent refuses (its session is full though the workspace has room): the registration is
    // marked failed with Cvent's reason, not kept.
    world
        .control(
            Method::PATCH,
            &format!("/sessions/{session}"),
            json!({"capacity": 0}),
        )
        .await;
    let (status, item) = world
        .call(
            Method::POST,
            &format!("/v1/sessions/{session}/registrations"),
            Some(json!({"person_id": people[2]})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{item}");
    let refused = world.wait_outbox_done(item["id"].as_i64().unwrap()).await;
    assert_eq!(refused["status"], "failed");
    assert!(
        refused["last_error"]
            .as_str()
            .unwrap()
            .contains("at capacity"),
        "{refused}"
    );
    let registrations = world
        .get(&format!("/v1/sessions/{session}/registrations"))
        .await;
    let view = registrations["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["person_external_id"] == people[2].as_str())
        .expect("the refused registration is shown")
        .clone();
    assert_eq!(view["state"], "failed");
    assert!(view["reason"].as_str().unwrap().contains("at capacity"));
    let failed = world.get("/v1/outbox?status=failed").await;
    assert_eq!(failed["data"].as_array().map(Vec::len), Some(1));

    // Once Cvent has room, the refused write is sent again on request, and only then.
    world
        .control(
            Method::PATCH,
            &format!("/sessions/{session}"),
            json!({"capacity": 10}),
        )
        .await;
    let id = refused["id"].as_i64().unwrap();
    let (status, retried) = world
        .call(Method::POST, &format!("/v1/outbox/{id}/retry"), None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{retried}");
    assert_eq!(retried["status"], "pending");
    assert_eq!(retried["attempts"], 0);
    let sent = world.wait_outbox_done(id).await;
    assert_eq!(sent["status"], "sent", "{sent}");
    let (status, again) = world
        .call(Method::POST, &format!("/v1/outbox/{id}/retry"), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert_eq!(again["error"]["code"], "not_failed");
    let (status, _) = world
        .call(
            Method::POST,
            &format!("/v1/outbox/{}/retry", id + 1000),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    world.finish().await;
}

/// A run asked to stop stops at its next page boundary, ends `cancelled` with what it stored
/// kept, and the next sync goes on from there to the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_sync_is_cancelled_at_a_page_boundary_and_the_next_goes_on() {
    let world = World::start(1_500).await;
    world
        .control(
            Method::PUT,
            "/latency",
            json!({"page_ms": [300, 300], "object_ms": [0, 0]}),
        )
        .await;
    let (status, started) = world
        .call(
            Method::POST,
            "/v1/runs",
            Some(json!({"connection": "cvent", "kind": "sync", "data_types": ["people"]})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    let run_id = started["run_id"].as_i64().expect("run id");
    let (status, asked) = world
        .call(Method::POST, &format!("/v1/runs/{run_id}/cancel"), None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{asked}");
    assert_eq!(asked["cancel_requested"], true);
    let world_ref = &world;
    let run = world
        .wait_for(&format!("run {run_id} to stop"), || async move {
            let run = world_ref.get(&format!("/v1/runs/{run_id}")).await;
            (run["status"] != "running").then_some(run)
        })
        .await;
    assert_eq!(run["status"], "cancelled", "{run}");
    assert!(
        run["errors"].to_string().contains("cancelled on request"),
        "{run}"
    );
    let kept = world.store.count("cvent", "people").await.expect("count");
    let (status, ended) = world
        .call(Method::POST, &format!("/v1/runs/{run_id}/cancel"), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{ended}");
    let (status, _) = world
        .call(
            Method::POST,
            &format!("/v1/runs/{}/cancel", run_id + 1000),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    world
        .control(Method::PUT, "/latency", json!({"off": true}))
        .await;
    let next = world.sync(&["people"]).await;
    assert_eq!(next["status"], "succeeded", "{next}");
    let all = world.store.count("cvent", "people").await.expect("count");
    assert!(
        kept < all,
        "the cancelled run stopped early: {kept} of {all}"
    );
    // Nothing was left out: a full listing finds no one to create.
    let (status, started) = world
        .call(
            Method::POST,
            "/v1/runs",
            Some(json!({"connection": "cvent", "kind": "sync", "data_types": ["people"], "full": true})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    let full_id = started["run_id"].as_i64().expect("run id");
    let full = world
        .wait_for("the full sync", || async move {
            let run = world_ref.get(&format!("/v1/runs/{full_id}")).await;
            (run["status"] != "running").then_some(run)
        })
        .await;
    assert_eq!(full["status"], "succeeded", "{full}");
    assert_eq!(
        full["counts"]["people"]["create"].as_u64().unwrap_or(0),
        0,
        "{full}"
    );
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_ins_are_delivered_a_hundred_per_call() {
    let world = World::start(300).await;
    world.sync(&["people"]).await;
    let people = people(&world, 150).await;
    assert_eq!(people.len(), 150);
    // Stored while no worker runs, so that the batching is what the test sees.
    let mut world = world;
    world.kill();
    for person in &people {
        world
            .store
            .enqueue_outbox(&store::NewOutboxItem {
                connection: "cvent".into(),
                operation: store::OutboxOperation::CheckIn,
                session_id: None,
                attendee_id: person.clone(),
                payload: json!({"checkIn": "2026-05-01T09:00:00Z"}),
                local: false,
            })
            .await
            .expect("enqueue");
    }
    let (_, parsed) = config(&world.sandbox);
    let state = AppState::new(world.store.clone(), parsed, settings(&world.dir));
    assert_eq!(server::outbox::deliver_due(&state).await.unwrap(), 100);
    assert_eq!(server::outbox::deliver_due(&state).await.unwrap(), 50);
    assert_eq!(server::outbox::deliver_due(&state).await.unwrap(), 0);
    assert_eq!(
        world.sandbox_calls("POST /ea/events/{id}/check-in").await,
        2
    );
    // Cvent checks in only accepted attendees; the others come back refused, each with why.
    let items = world
        .store
        .outbox(&store::OutboxQuery {
            limit: 200,
            ..store::OutboxQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(items.len(), 150);
    let sent = items
        .iter()
        .filter(|i| i.status == store::OutboxStatus::Sent)
        .count();
    assert!(sent > 100, "{sent} sent");
    for item in items
        .iter()
        .filter(|i| i.status != store::OutboxStatus::Sent)
    {
        assert_eq!(item.status, store::OutboxStatus::Failed);
        let reason = item.last_error.as_deref().unwrap_or_default();
        assert!(reason.contains("cannot be checked in"), "{reason}");
    }
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_brings_a_vendor_registration_into_the_workspace() {
    let world = World::start(50).await;
    world
        .sync(&["people", "sessions", "speakers", "session_registrations"])
        .await;
    let added = world
        .control(Method::POST, "/attendees", json!({"status": "Accepted"}))
        .await;
    let attendee_id = added["id"].as_str().expect("new attendee id").to_string();
    let url = format!("{}/webhooks/cvent/cvent", world.base);

    let validation = world
        .http
        .get(&url)
        .header("authorization", WEBHOOK_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(validation.status(), StatusCode::OK);
    let wrong = world
        .http
        .post(&url)
        .header("authorization", "guess")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let malformed = world
        .http
        .post(&url)
        .header("authorization", WEBHOOK_TOKEN)
        .json(&json!({"eventType": "X"}))
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);

    let stub = "8A1F0C2E-6B1D-4C0B-9E55-3E2C1D0A9B77";
    let envelope = json!({
        "eventType": "InviteeOrGuestAccepted",
        "messageTime": "2044-04-03T17:14:42.823Z",
        "messageStub": stub,
        "message": [{"inviteeStub": attendee_id.to_uppercase(), "confirmationNumber": "", "eventStub": ""}]
    });
    let delivered: Value = world
        .http
        .post(&url)
        .header("authorization", WEBHOOK_TOKEN)
        .json(&envelope)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(delivered, json!({"received": true, "duplicate": false}));
    let mut again = envelope.clone();
    again["messageStub"] = json!(stub.to_lowercase());
    let repeated: Value = world
        .http
        .post(&url)
        .header("authorization", WEBHOOK_TOKEN)
        .json(&again)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(repeated["duplicate"], true);
    let unknown =
        json!({"eventType": "InviteeOrGuestEmailSent", "messageStub": "other-stub", "message": []});
    world
        .http
        .post(&url)
        .header("authorization", WEBHOOK_TOKEN)
        .json(&unknown)
        .send()
        .await
        .unwrap();

    world.wait_for_person(&attendee_id).await;
    let deliveries = world
        .wait_for("both deliveries processed", || async {
            let deliveries = world.get("/v1/webhooks").await;
            let data = deliveries["data"].as_array().cloned().unwrap_or_default();
            data.iter()
                .all(|d| d["status"] != "pending" && d["status"] != "processing")
                .then_some(data)
        })
        .await;
    let statuses: Vec<&str> = deliveries
        .iter()
        .filter_map(|d| d["status"].as_str())
        .collect();
    assert_eq!(statuses, vec!["done", "ignored"]);
    let metrics = world
        .http
        .get(format!("{}/metrics", world.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("eventsync_webhooks_duplicate_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("eventsync_webhook_latency_seconds_count 2"),
        "{metrics}"
    );
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_left_by_a_killed_server_is_done_once_after_a_restart() {
    let mut world = World::start(100).await;
    world
        .sync(&["people", "sessions", "speakers", "session_registrations"])
        .await;
    let session = empty_session(&world, 10).await;
    let people = people(&world, 3).await;
    world.kill();

    // Left behind: one registration claimed mid-delivery by the dead process, two never tried,
    // and a webhook never processed.
    let mut ids = Vec::new();
    for person in &people {
        let item = world
            .store
            .enqueue_outbox(&store::NewOutboxItem {
                connection: "cvent".into(),
                operation: store::OutboxOperation::Enroll,
                session_id: Some(session.clone()),
                attendee_id: person.clone(),
                payload: json!({}),
                local: false,
            })
            .await
            .unwrap();
        ids.push(item.id);
    }
    let dead = Store::open(&world.dir.join("workspace.sqlite").display().to_string())
        .await
        .unwrap();
    assert_eq!(
        dead.claim_outbox(1, Duration::from_secs(1))
            .await
            .unwrap()
            .len(),
        1
    );
    let added = world
        .control(Method::POST, "/attendees", json!({"status": "Accepted"}))
        .await;
    let new_attendee = added["id"].as_str().unwrap().to_string();
    world
        .store
        .record_webhook(&store::NewWebhook {
            connection: "cvent".into(),
            message_stub: "left-behind".into(),
            event_type: "InviteeOrGuestAccepted".into(),
            message_time: None,
            body: json!({"eventType": "InviteeOrGuestAccepted", "messageStub": "left-behind", "message": [{"inviteeStub": new_attendee}]}),
        })
        .await
        .unwrap();
    drop(dead);

    world.serve(world.store.clone()).await;
    for id in &ids {
        let item = world.wait_outbox_done(*id).await;
        assert_eq!(item["status"], "sent", "{item}");
    }
    let enrollments = world
        .sandbox_calls("POST /ea/sessions/{id}/enrollment/{attendeeId}")
        .await;
    assert_eq!(
        enrollments, 3,
        "each registration reaches Cvent once after the restart"
    );
    world.wait_for_person(&new_attendee).await;
    world.sync(&["session_registrations"]).await;
    let registrations = world
        .get(&format!(
            "/v1/session-registrations?session_external_id={session}"
        ))
        .await;
    assert_eq!(
        registrations["data"].as_array().map(Vec::len),
        Some(3),
        "{registrations}"
    );
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_at_the_vendor_reach_the_workspace_through_the_sandboxs_webhooks() {
    let world = World::start(50).await;
    world
        .sync(&["people", "sessions", "speakers", "session_registrations"])
        .await;
    let url = format!("{}/webhooks/cvent/cvent", world.base);

    // Cvent validates the endpoint before it sends anything: a wrong token is refused.
    let refused = world
        .http
        .put(format!("{}/webhooks", world.sandbox.control_url()))
        .json(&json!({"url": url, "token": "not-the-token"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    world
        .control(
            Method::PUT,
            "/webhooks",
            json!({"url": url, "token": WEBHOOK_TOKEN}),
        )
        .await;

    let started = std::time::Instant::now();
    let added = world
        .control(Method::POST, "/attendees", json!({"status": "Accepted"}))
        .await;
    let attendee_id = added["id"].as_str().expect("id").to_string();
    world.wait_for_person(&attendee_id).await;
    eprintln!(
        "a registration at the vendor reached the workspace in {:?}",
        started.elapsed()
    );

    let sessions = world.get("/v1/sessions?include_hidden=true&limit=1").await;
    let session_id = sessions["data"][0]["external_id"]
        .as_str()
        .expect("a session")
        .to_string();
    world
        .control(
            Method::PATCH,
            &format!("/sessions/{session_id}"),
            json!({"title": "Renamed at the vendor"}),
        )
        .await;
    world
        .wait_for("the renamed session", || {
            let path = format!("/v1/sessions?include_hidden=true&external_id={session_id}");
            let world = &world;
            async move {
                let found = world.get(&path).await;
                (found["data"][0]["title"] == "Renamed at the vendor").then_some(())
            }
        })
        .await;

    world
        .control(
            Method::POST,
            &format!("/attendees/{attendee_id}/cancel"),
            Value::Null,
        )
        .await;
    world
        .wait_for("the cancellation", || {
            let path = format!("/v1/people?external_id={attendee_id}");
            let world = &world;
            async move {
                let found = world.get(&path).await;
                (found["data"][0]["status"] == "cancelled").then_some(())
            }
        })
        .await;
    let sent = world.control(Method::GET, "/webhooks", Value::Null).await;
    assert_eq!(sent["delivered"], 3, "{sent}");
    assert_eq!(sent["failed"], 0);
    assert!(
        sent.get("token").is_none(),
        "the sandbox shows the webhook token"
    );
    world.finish().await;
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The report of `run`, asked for with `query` and an `Accept` header: status, content type, body.
async fn report(
    world: &World,
    run: i64,
    query: &str,
    accept: &str,
) -> (StatusCode, String, Vec<u8>) {
    let response = world
        .http
        .get(format!("{}/v1/runs/{run}/report{query}", world.base))
        .bearer_auth(&world.token)
        .header(reqwest::header::ACCEPT, accept)
        .send()
        .await
        .expect("report");
    let status = response.status();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (
        status,
        content_type,
        response.bytes().await.expect("body").to_vec(),
    )
}

/// Every row of a workbook's one sheet, the people's, as text.
fn workbook_rows(bytes: Vec<u8>) -> Vec<Vec<String>> {
    use calamine::{Data, Reader, Xlsx};
    let mut workbook: Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("an XLSX workbook");
    assert_eq!(workbook.sheet_names(), ["people"]);
    let range = workbook
        .worksheet_range("people")
        .expect("the people sheet");
    range
        .rows()
        .map(|row| {
            row.iter()
                .map(|cell| match cell {
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

/// A preview's report comes as CSV, or as a workbook with the same rows and columns when asked
/// with `?format=xlsx` or an `Accept` of the XLSX media type; other media types are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preview_report_comes_as_csv_or_xlsx() {
    let world = World::start(40).await;
    let (status, started) = world
        .call(
            Method::POST,
            "/v1/runs",
            Some(json!({"connection": "cvent", "kind": "preview", "data_types": ["people"]})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    let run = started["run_id"].as_i64().expect("run id");
    let world_ref = &world;
    world
        .wait_for("the preview", || async move {
            let answer = world_ref.get(&format!("/v1/runs/{run}")).await;
            (answer["status"] != "running").then_some(answer)
        })
        .await;

    let (status, content_type, csv) = report(&world, run, "", "text/csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let expected: Vec<Vec<String>> = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv.as_slice())
        .records()
        .map(|record| record.expect("record").iter().map(String::from).collect())
        .collect();
    assert!(
        expected.len() > 20,
        "a header and a row per accepted attendee"
    );
    assert_eq!(expected[0][..3], ["data_type", "action", "external_id"]);

    for (query, accept) in [
        ("?format=xlsx", "*/*"),
        ("", XLSX),
        (
            "",
            "application/json, application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;q=0.5",
        ),
    ] {
        let (status, content_type, body) = report(&world, run, query, accept).await;
        assert_eq!(status, StatusCode::OK, "{query} {accept}");
        assert_eq!(content_type, XLSX);
        // The people's sheet: the CSV's rows without the data_type column, with the columns
        // the rows fill (numbers and dates typed, so the record columns are compared by name).
        let rows = workbook_rows(body);
        assert_eq!(
            rows.len(),
            expected.len(),
            "{query} {accept}: the CSV's rows"
        );
        let filled: Vec<&String> = expected[0]
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(column, _)| {
                *column <= 4 || expected[1..].iter().any(|row| !row[*column].is_empty())
            })
            .map(|(_, heading)| heading)
            .collect();
        assert_eq!(
            rows[0].iter().collect::<Vec<_>>(),
            filled,
            "{query} {accept}"
        );
        for (row, csv_row) in rows[1..].iter().zip(&expected[1..]) {
            assert_eq!(row[..4], csv_row[1..5], "{query} {accept}");
        }
    }
    let (status, _, body) = report(&world, run, "", "application/json").await;
    assert_eq!(
        status,
        StatusCode::NOT_ACCEPTABLE,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let document = world.get("/openapi.json").await;
    assert!(
        document["paths"]["/v1/runs/{id}/report"]["get"]["responses"]["200"]["content"][XLSX]
            .is_object()
    );
    world.finish().await;
}

/// Runs `test` on a workspace in a PostgreSQL schema of its own, when a server answers.
async fn on_postgres<F, Fut>(attendees: u64, test: F)
where
    F: FnOnce(World) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let Some(postgres) = support::postgres_schema("serve_api").await else {
        return;
    };
    let world = World::start_in(attendees, Some(&postgres)).await;
    let outcome = tokio::spawn(test(world)).await;
    support::drop_schema(&postgres.0, &postgres.1).await;
    if let Err(failure) = outcome {
        std::panic::resume_unwind(failure.into_panic());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_characters_and_overlong_values_are_a_400_naming_the_field() {
    hostile_values_are_refused(World::start(10).await).await;
}

/// Regression: on PostgreSQL, which stores no NUL character and indexes no value of a few
/// kilobytes, such input reached the database and came back as a 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_characters_and_overlong_values_are_a_400_on_postgresql_too() {
    on_postgres(10, hostile_values_are_refused).await;
}

async fn hostile_values_are_refused(world: World) {
    let long = "p".repeat(3_000);
    let session = |title: &str| json!({"title": title, "starts_at": "2026-05-01T09:00:00Z", "ends_at": "2026-05-01T10:00:00Z"});
    let cases: Vec<(Method, &str, Option<Value>, &str)> = vec![
        (Method::GET, "/v1/people/%00/sessions", None, "id"),
        (Method::GET, "/v1/people?after=%00", None, "after"),
        (Method::GET, "/v1/sessions?after=a%00b", None, "after"),
        (Method::GET, "/v1/people?first_name=%00", None, "first_name"),
        (
            Method::GET,
            "/v1/check-ins?person_id=%00",
            None,
            "person_id",
        ),
        (
            Method::GET,
            "/v1/outbox?person_id=x&connection=%00",
            None,
            "connection",
        ),
        (
            Method::POST,
            "/v1/check-ins",
            Some(json!({"person_id": "p\u{0}"})),
            "person_id",
        ),
        (
            Method::POST,
            "/v1/check-ins",
            Some(json!({"person_id": long})),
            "person_id",
        ),
        (
            Method::POST,
            "/v1/sessions",
            Some(session("T\u{0}")),
            "title",
        ),
        (
            Method::POST,
            "/v1/sessions",
            Some(session(&"t".repeat(1_001))),
            "title",
        ),
        (
            Method::POST,
            "/v1/sessions/%00/registrations",
            Some(json!({"person_id": "p"})),
            "id",
        ),
        (
            Method::DELETE,
            "/v1/sessions/s/registrations/%00",
            None,
            "person_id",
        ),
        (
            Method::POST,
            "/v1/runs",
            Some(json!({"connection": "cvent", "kind": "sync", "data_types": ["people\u{0}"]})),
            "data_types",
        ),
        (
            Method::PUT,
            "/v1/connections/cvent/data-types/%00/auto-sync",
            Some(json!({"enabled": true, "interval_seconds": 600})),
            "data_type",
        ),
    ];
    // The document states the limits the server holds values to.
    let document = world.get("/openapi.json").await;
    let limits = [
        (
            "/components/schemas/CheckInBody/properties/person_id/maxLength",
            256,
        ),
        (
            "/components/schemas/NewSession/properties/title/maxLength",
            1_000,
        ),
        (
            "/components/schemas/NewSession/properties/description/maxLength",
            10_000,
        ),
        (
            "/components/schemas/WebhookEnvelope/properties/messageStub/maxLength",
            256,
        ),
        (
            "/paths/~1v1~1people~1{id}~1sessions/get/parameters/0/schema/maxLength",
            256,
        ),
    ];
    // The bodies are the components the routes' request bodies name.
    for (path, name) in [
        ("/v1/check-ins", "CheckInBody"),
        ("/v1/sessions", "NewSession"),
    ] {
        assert_eq!(
            document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
                ["$ref"],
            format!("#/components/schemas/{name}"),
            "{path}"
        );
    }
    for (pointer, limit) in limits {
        assert_eq!(document.pointer(pointer), Some(&json!(limit)), "{pointer}");
    }
    for (method, path, body, field) in cases {
        let (status, answer) = world.call(method.clone(), path, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path}: {answer}");
        assert_eq!(answer["error"]["code"], "invalid_request", "{path}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with(&format!("{field} ")),
            "{method} {path}: the message names {field}: {message}"
        );
    }

    let url = format!("{}/webhooks/cvent/cvent", world.base);
    let envelope = |event_type: &str, stub: &str, message: Value| {
        json!({"eventType": event_type, "messageTime": "2044-04-03T17:14:42.823Z",
               "messageStub": stub, "message": [message]})
    };
    let webhook_cases = [
        (
            url.clone(),
            envelope("Invitee\u{0}", "stub-1", json!({})),
            "eventType",
        ),
        (
            url.clone(),
            envelope("InviteeOrGuestAccepted", "stub\u{0}", json!({})),
            "messageStub",
        ),
        (
            url.clone(),
            envelope("InviteeOrGuestAccepted", &long, json!({})),
            "messageStub",
        ),
        (
            url.clone(),
            envelope(
                "InviteeOrGuestAccepted",
                "stub-2",
                json!({"contact": {"firstName": "A\u{0}"}}),
            ),
            "message.0.contact.firstName",
        ),
        (
            format!("{}/webhooks/cvent/%00", world.base),
            envelope("InviteeOrGuestAccepted", "stub-3", json!({})),
            "connection",
        ),
    ];
    for (url, body, field) in webhook_cases {
        let response = world
            .http
            .post(&url)
            .header("authorization", WEBHOOK_TOKEN)
            .json(&body)
            .send()
            .await
            .expect("webhook");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{field}");
        let answer: Value = response.json().await.expect("JSON error");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with(&format!("{field} ")), "{message}");
    }

    // Values within the limits still go through.
    let (status, _) = world
        .call(Method::GET, "/v1/people?after=someone", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let stub = "s".repeat(256);
    let accepted = world
        .http
        .post(&url)
        .header("authorization", WEBHOOK_TOKEN)
        .json(&envelope("SomethingElse", &stub, json!({"note": long})))
        .send()
        .await
        .expect("webhook");
    assert_eq!(accepted.status(), StatusCode::OK);
    let (status, created) = world
        .call(Method::POST, "/v1/sessions", Some(session("A title")))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_is_kept_without_its_sensitive_members() {
    webhook_bodies_keep_nothing_sensitive(World::start(10).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_is_kept_without_its_sensitive_members_on_postgresql_too() {
    on_postgres(10, webhook_bodies_keep_nothing_sensitive).await;
}

/// Regression: a webhook's date of birth, social security and passport numbers were kept as
/// sent in the inbox and shown by `GET /v1/webhooks`.
async fn webhook_bodies_keep_nothing_sensitive(world: World) {
    let url = format!("{}/webhooks/cvent/cvent", world.base);
    let envelope = json!({
        "eventType": "InviteeOrGuestAccepted",
        "messageTime": "2044-04-03T17:14:42.823Z",
        "messageStub": "5B0D4F7A-2C1E-4D3B-8A9F-6E5D4C3B2A10",
        "dateOfBirth": "1990-01-01",
        "message": [{
            "inviteeStub": "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0",
            "ssn": "123-45-6789",
            "contact": {
                "firstName": "Ada",
                "DateOfBirth": "1990-01-01",
                "socialSecurityNumber": "123-45-6789",
                "passportNumber": "X1234567",
                "passport": {"number": "X1234567", "country": "FR"}
            },
            "answers": [{"question": "diet", "value": "none", "date_of_birth": "x"}]
        }]
    });
    let delivered = world
        .http
        .post(&url)
        .header("authorization", WEBHOOK_TOKEN)
        .json(&envelope)
        .send()
        .await
        .expect("webhook");
    assert_eq!(delivered.status(), StatusCode::OK);
    let expected = json!({
        "eventType": "InviteeOrGuestAccepted",
        "messageTime": "2044-04-03T17:14:42.823Z",
        "messageStub": "5B0D4F7A-2C1E-4D3B-8A9F-6E5D4C3B2A10",
        "message": [{
            "inviteeStub": "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0",
            "contact": {"firstName": "Ada"},
            "answers": [{"question": "diet", "value": "none"}]
        }]
    });
    let stored = world
        .store
        .webhooks(Some("cvent"), None, 10)
        .await
        .expect("inbox");
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].body, expected,
        "the inbox keeps nothing sensitive"
    );
    let listed = world.get("/v1/webhooks").await;
    assert_eq!(
        listed["data"][0]["body"], expected,
        "nor does the API show it"
    );
    world.finish().await;
}

#[tokio::test]
async fn the_change_feed_pages_by_position_and_shows_what_changed() {
    let world = World::start(30).await;
    world.sync(&["people", "sessions"]).await;
    let people = world.get("/v1/people?limit=500").await["data"]
        .as_array()
        .unwrap()
        .len();
    let sessions = world
        .get("/v1/sessions?include_hidden=true&limit=500")
        .await["data"]
        .as_array()
        .unwrap()
        .len();

    // Paged by position to the end: every record once, as a create, in order.
    let mut after = 0;
    let mut seen = Vec::new();
    loop {
        let page = world
            .get(&format!("/v1/changes?after={after}&limit=7"))
            .await;
        for change in page["data"].as_array().unwrap() {
            assert!(change["position"].as_i64().unwrap() > after);
            assert_eq!(change["action"], "create");
            assert!(change["before"].is_null());
            assert_eq!(change["after"]["external_id"], change["external_id"]);
            seen.push(change["external_id"].as_str().unwrap().to_string());
        }
        match page["next"].as_i64() {
            Some(next) => after = next,
            None => break,
        }
    }
    assert_eq!(seen.len(), people + sessions);
    let only_sessions = world.get("/v1/changes?types=sessions&limit=1000").await;
    assert_eq!(only_sessions["data"].as_array().unwrap().len(), sessions);
    let end = only_sessions["position"].as_i64().unwrap();

    // A cancellation at the vendor: the status before and after.
    let person = world.get("/v1/people?status=active&limit=1").await["data"][0]["external_id"]
        .as_str()
        .unwrap()
        .to_string();
    world
        .control(
            Method::POST,
            &format!("/attendees/{person}/cancel"),
            Value::Null,
        )
        .await;
    world.sync(&["people"]).await;
    let latest = world
        .get(&format!("/v1/changes?after={end}&types=people"))
        .await;
    let changes = latest["data"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{latest}");
    assert_eq!(changes[0]["external_id"], person.as_str());
    assert_eq!(changes[0]["action"], "cancel");
    assert_eq!(changes[0]["before"]["status"], "active");
    assert_eq!(changes[0]["after"]["status"], "cancelled");
    assert!(changes[0]["run_id"].is_i64());

    // A session made over the API is in the feed too, with no run.
    let (status, created) = world
        .call(
            Method::POST,
            "/v1/sessions",
            Some(json!({"title": "Hallway track", "starts_at": "2027-03-02T09:00:00Z", "ends_at": "2027-03-02T10:00:00Z"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let local = world
        .get(&format!("/v1/changes?after={end}&types=sessions"))
        .await;
    assert_eq!(local["data"][0]["action"], "create");
    assert!(local["data"][0]["run_id"].is_null());
    assert_eq!(local["data"][0]["after"]["title"], "Hallway track");

    for bad in [
        "types=nobody",
        "after=-1",
        "limit=0",
        "limit=1001",
        "colour=red",
    ] {
        let (status, body) = world
            .call(Method::GET, &format!("/v1/changes?{bad}"), None)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(body["error"]["message"].is_string(), "{bad}: {body}");
    }
    world.finish().await;
}

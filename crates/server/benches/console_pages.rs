//! How long each console page takes to render with an event of 100,000 people: `eventsync
//! serve`, the Cvent REST sandbox and the client in one process, a SQLite workspace synced once
//! (people of every status, sessions, session registrations), then 100 people added and 100
//! cancelled at the vendor and a full preview, so the preview viewer pages through a report of
//! every record.
//! Each page is asked over HTTP with the console's sign-in cookie: 2 warm-ups, then 20 timed
//! requests, each checked to be a 200 with HTML. Then a server is started afresh on the same
//! workspace and reports 5 times, and only its first view of the report is timed (the first
//! page, then a search); last, the report's index is removed and the first view, which indexes
//! the report again, is timed once.
//!
//! Run: `cargo bench -p server --bench console_pages` (`CONSOLE_BENCH_ATTENDEES=10000` for a
//! smaller event, `CONSOLE_BENCH_REQUESTS=50` for more requests per page).

use std::time::{Duration, Instant};

use engine::Config;
use sandboxes::cvent_rest::{CventRestSandbox, SandboxConfig, Tier};
use serde_json::{Value, json};
use server::{AppState, Settings};
use store::Store;

const CONNECTION: &str = "cvent";
const WARM_UPS: usize = 2;
/// People added, and people cancelled, at the vendor between the sync and the preview.
const CHANGED: usize = 100;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

fn milliseconds(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// How many times the server is started afresh to time a first view.
const RESTARTS: usize = 5;

/// Serves `state` on a port of its own; its address.
async fn start_server(state: AppState) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listener");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(server::serve(state, listener, std::future::pending()));
    base
}

/// One console page asked for with the sign-in cookie, checked to be a 200 with HTML: how long
/// it took and its size.
async fn timed_page(http: &reqwest::Client, url: &str, cookie: &str) -> (Duration, usize) {
    let sent = Instant::now();
    let response = http
        .get(url)
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .expect("page");
    let status = response.status();
    let html = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    let body = response.text().await.expect("body");
    let elapsed = sent.elapsed();
    assert_eq!(status.as_u16(), 200, "GET {url}: {body}");
    assert!(html && body.contains("</html>"), "GET {url} is not HTML");
    assert!(
        !body.contains("No report for this run"),
        "GET {url} shows no report"
    );
    (elapsed, body.len())
}

/// A table line: the median, p90 and max of `times`, and the page's size (none when 0).
fn print_line(name: &str, path: &str, mut times: Vec<Duration>, size: usize) {
    times.sort();
    let size = match size {
        0 => "".to_string(),
        size => format!("{:.0}", size as f64 / 1024.0),
    };
    println!(
        "| {name} | `{path}` | {:.1} | {:.1} | {:.1} | {size} |",
        milliseconds(percentile(&times, 0.5)),
        milliseconds(percentile(&times, 0.9)),
        milliseconds(*times.last().expect("times")),
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(bench());
}

/// The API, as the benchmark's admin token.
struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    async fn get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("request");
        assert!(response.status().is_success(), "GET {path}: {response:?}");
        response.json().await.expect("json")
    }

    /// Starts a run and waits for its end; its id.
    async fn run(&self, kind: &str, full: bool) -> i64 {
        let started = Instant::now();
        let response = self
            .http
            .post(format!("{}/v1/runs", self.base))
            .bearer_auth(&self.token)
            .json(&json!({
                "connection": CONNECTION,
                "kind": kind,
                "data_types": ["people", "sessions", "session_registrations"],
                "full": full,
            }))
            .send()
            .await
            .expect("start");
        assert!(response.status().is_success(), "start {kind}: {response:?}");
        let id = response.json::<Value>().await.expect("json")["run_id"]
            .as_i64()
            .expect("run id");
        loop {
            let run = self.get(&format!("/v1/runs/{id}")).await;
            if run["status"] != "running" {
                assert_eq!(run["status"], "succeeded", "{kind} {id}: {run}");
                eprintln!(
                    "{kind} run {id}: {:.1} s, {}",
                    started.elapsed().as_secs_f64(),
                    run["counts"]
                );
                return id;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn bench() {
    let attendees = env_number("CONSOLE_BENCH_ATTENDEES", 100_000);
    let requests = env_number("CONSOLE_BENCH_REQUESTS", 20);

    let sandbox = CventRestSandbox::start(SandboxConfig {
        attendees: attendees as u64,
        tier: Tier::Unlimited,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let dir = std::env::temp_dir().join(format!("eventsync-console-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let store = Store::open(&dir.join("workspace.sqlite").display().to_string())
        .await
        .expect("store");
    let text = format!(
        "[[connections]]\nname = \"{CONNECTION}\"\nkind = \"cvent-rest\"\nbase_url = \"{}\"\nevent_code = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"${{SECRET}}\"\ndata_types = [\"people\", \"sessions\", \"session_registrations\"]\n[connections.data.people]\nstatuses = []\n",
        sandbox.base_url(),
        sandbox.event_code(),
        sandbox.client_id()
    );
    let secret = sandbox.client_secret().to_string();
    let config = Config::parse(
        &text,
        std::path::Path::new("eventsync.toml"),
        &move |name| (name == "SECRET").then(|| secret.clone()),
    )
    .expect("config");
    let token = server::new_token();
    store
        .add_api_token("console-bench", &server::token_hash(&token))
        .await
        .expect("token");
    // The console's mapping editor reads a data type's settings as the file has them.
    let config_file = dir.join("eventsync.toml");
    std::fs::write(&config_file, &text).expect("eventsync.toml");
    let settings = Settings {
        report_dir: dir.join("reports"),
        scheduler: false,
        config_path: Some(config_file),
        ..Settings::default()
    };
    let base = start_server(AppState::new(
        store.clone(),
        config.clone(),
        settings.clone(),
    ))
    .await;
    let client = Client {
        http: reqwest::Client::new(),
        base,
        token,
    };

    // The workspace filled once, then the vendor moves on and a full preview shows it all.
    client.run("sync", true).await;
    let control = sandbox.control_url();
    for _ in 0..CHANGED {
        let response = client
            .http
            .post(format!("{control}/attendees"))
            .send()
            .await
            .expect("add attendee");
        assert!(response.status().is_success(), "add: {response:?}");
    }
    let people = client.get(&format!("/v1/people?limit={CHANGED}")).await;
    let people = people["data"].as_array().expect("people");
    for person in people {
        let id = person["external_id"].as_str().expect("external id");
        let response = client
            .http
            .post(format!("{control}/attendees/{id}/cancel"))
            .send()
            .await
            .expect("cancel attendee");
        assert!(response.status().is_success(), "cancel: {response:?}");
    }
    let email = people
        .last()
        .and_then(|person| person["email"].as_str())
        .expect("an email")
        .to_string();
    let preview = client.run("preview", true).await;

    let encoded_email: String = form_urlencoded::byte_serialize(email.as_bytes()).collect();
    let pages = [
        ("connections", "/console/connections".to_string()),
        (
            "a connection's data types",
            format!("/console/connections/{CONNECTION}"),
        ),
        (
            "mapping editor of people",
            format!("/console/connections/{CONNECTION}/mapping/people"),
        ),
        ("runs", "/console/runs".to_string()),
        ("preview: first page", format!("/console/runs/{preview}")),
        (
            "preview: `?action=create`",
            format!("/console/runs/{preview}?action=create"),
        ),
        (
            "preview: `?q=<an email>`",
            format!("/console/runs/{preview}?q={encoded_email}"),
        ),
        (
            "preview: `?page=1000`",
            format!("/console/runs/{preview}?page=1000"),
        ),
        ("outbox", "/console/outbox".to_string()),
        ("webhooks", "/console/webhooks".to_string()),
    ];
    let cookie = format!("eventsync_console={}", client.token);
    println!("| page | path | median (ms) | p90 (ms) | max (ms) | HTML (KiB) |");
    println!("| --- | --- | ---: | ---: | ---: | ---: |");
    for (name, path) in &pages {
        let mut times = Vec::with_capacity(requests);
        let mut size = 0;
        for attempt in 0..WARM_UPS + requests {
            let (elapsed, bytes) =
                timed_page(&client.http, &format!("{}{path}", client.base), &cookie).await;
            size = bytes;
            if attempt >= WARM_UPS {
                times.push(elapsed);
            }
        }
        let shown = path
            .replace(&email, "<email>")
            .replace(&encoded_email, "<email>");
        print_line(name, &shown, times, size);
    }

    // A server started afresh on the same workspace and report folder: its first view of the
    // report, once per start, is all that is timed.
    let first_views = |path: String, restarts: usize| {
        let (store, config, settings) = (store.clone(), config.clone(), settings.clone());
        let (http, cookie) = (client.http.clone(), cookie.clone());
        async move {
            let mut times = Vec::with_capacity(restarts);
            for _ in 0..restarts {
                let base = start_server(AppState::new(
                    store.clone(),
                    config.clone(),
                    settings.clone(),
                ))
                .await;
                times.push(timed_page(&http, &format!("{base}{path}"), &cookie).await.0);
            }
            times
        }
    };
    let first_page = format!("/console/runs/{preview}");
    let times = first_views(first_page.clone(), RESTARTS).await;
    print_line("preview: first view after a restart", &first_page, times, 0);
    let searched = format!("/console/runs/{preview}?q={encoded_email}");
    let times = first_views(searched, RESTARTS).await;
    let shown = format!("/console/runs/{preview}?q=<email>");
    print_line("preview: first search after a restart", &shown, times, 0);
    // A report kept without an index (as an earlier version kept it) is indexed on its first
    // view; one such view.
    let index = engine::report::index_file(&settings.report_dir.join(format!("run-{preview}.csv")));
    std::fs::remove_file(&index).expect("the report's index");
    let times = first_views(first_page.clone(), 1).await;
    print_line(
        "preview: first view of a report kept without an index (1 view)",
        &first_page,
        times,
        0,
    );
    let report_bytes = std::fs::metadata(settings.report_dir.join(format!("run-{preview}.csv")))
        .map(|metadata| metadata.len())
        .unwrap_or_default();
    let index_bytes = std::fs::metadata(&index)
        .map(|metadata| metadata.len())
        .unwrap_or_default();
    eprintln!("report: {report_bytes} bytes; its index: {index_bytes} bytes");
    store.close().await;
    sandbox.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

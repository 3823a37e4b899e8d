//! From a registration at Cvent to its activity in iMIS, through `eventsync serve`: the Cvent
//! REST sandbox sends its registration webhook, serve syncs the person, the change feed makes
//! the outbox item, and the iMIS sandbox gets the activity. One process, loopback, a SQLite
//! workspace; registrations one after another, each timed from the moment Cvent records it
//! until the iMIS sandbox holds the activity.
//!
//! Run: `cargo bench -p server --bench imis_latency` (`IMIS_BENCH_REGISTRATIONS=100`).

use std::time::{Duration, Instant};

use engine::Config;
use reqwest::Method;
use sandboxes::cvent_rest::{CventRestSandbox, SandboxConfig};
use sandboxes::imis::ImisSandbox;
use serde_json::{Value, json};
use server::{AppState, Settings};
use store::Store;

const WEBHOOK_TOKEN: &str = "bench-webhook-token";

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(bench());
}

async fn bench() {
    let registrations: usize = std::env::var("IMIS_BENCH_REGISTRATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let cvent = CventRestSandbox::start(SandboxConfig {
        attendees: 200,
        ..SandboxConfig::default()
    })
    .await
    .expect("cvent sandbox");
    let imis = ImisSandbox::start(sandboxes::imis::SandboxConfig::default())
        .await
        .expect("imis sandbox");
    let dir = std::env::temp_dir().join(format!("eventsync-imis-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let store = Store::open(&dir.join("workspace.sqlite").display().to_string())
        .await
        .expect("store");
    let text = format!(
        r#"
[[connections]]
name = "cvent"
kind = "cvent-rest"
base_url = "{}"
event_code = "{}"
client_id = "{}"
client_secret = "${{SECRET}}"
data_types = ["people"]

[connections.imis]
destination = "association"
match = ["email"]

[[connections]]
name = "association"
kind = "imis"
site_url = "{}"
username = "{}"
password = "${{IMIS_PASSWORD}}"
"#,
        cvent.base_url(),
        cvent.event_code(),
        cvent.client_id(),
        imis.base_url(),
        imis.username(),
    );
    let secret = cvent.client_secret().to_string();
    let password = imis.password().to_string();
    let config = Config::parse(
        &text,
        std::path::Path::new("eventsync.toml"),
        &move |name| match name {
            "SECRET" => Some(secret.clone()),
            "IMIS_PASSWORD" => Some(password.clone()),
            _ => None,
        },
    )
    .expect("config");
    let settings = Settings {
        webhook_token: Some(engine::Secret::new(WEBHOOK_TOKEN)),
        report_dir: dir.join("reports"),
        poll: Duration::from_millis(20),
        scheduler: false,
        ..Settings::default()
    };
    // The first sync, before serving: the connection learns its event.
    let connection = config.connection("cvent").expect("connection").clone();
    engine::run(
        &store,
        &connection,
        &engine::RunOptions {
            kind: engine::RunKind::Sync,
            data_types: vec![pipeline::DataType::People],
            full: false,
            report: None,
            retry: Default::default(),
        },
        &|_| {},
    )
    .await
    .expect("first sync");
    let state = AppState::new(store.clone(), config, settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listener");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(server::serve(state, listener, std::future::pending()));
    let http = reqwest::Client::new();
    sandboxes::control(
        &http,
        &cvent.control_url(),
        Method::PUT,
        "/webhooks",
        &json!({"url": format!("{base}/webhooks/cvent/cvent"), "token": WEBHOOK_TOKEN}),
    )
    .await
    .expect("webhooks");
    // The first sync's people were delivered too: wait until the outbox is quiet.
    wait_quiet(&store).await;

    let activities = || async {
        sandboxes::control(
            &http,
            &imis.control_url(),
            Method::GET,
            "/activities",
            &Value::Null,
        )
        .await
        .expect("activities")
        .as_array()
        .map_or(0, Vec::len)
    };
    let mut latencies = Vec::new();
    for index in 0..registrations {
        let email = format!("member{index}@bench.example");
        sandboxes::control(
            &http,
            &imis.control_url(),
            Method::POST,
            "/parties",
            &json!({"first_name": "Bench", "last_name": format!("Member {index}"), "emails": [email], "is_member": true}),
        )
        .await
        .expect("party");
        let before = activities().await;
        let started = Instant::now();
        sandboxes::control(
            &http,
            &cvent.control_url(),
            Method::POST,
            "/attendees",
            &json!({"status": "Accepted", "contact": {"email": email}}),
        )
        .await
        .expect("registration");
        loop {
            if activities().await > before {
                latencies.push(started.elapsed());
                break;
            }
            if started.elapsed() > Duration::from_secs(30) {
                panic!("registration {index} reached no activity in 30 s");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "Cvent registration → iMIS activity, {} registrations one after another (loopback, SQLite):",
        latencies.len()
    );
    println!(
        "  p50 {:.0} ms   p90 {:.0} ms   p99 {:.0} ms   max {:.0} ms",
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.90)),
        ms(percentile(&latencies, 0.99)),
        ms(latencies[latencies.len() - 1]),
    );
}

/// Waits until nothing is pending or being sent in the outbox.
async fn wait_quiet(store: &Store) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let counts = store.outbox_counts().await.expect("outbox");
        let busy = counts.get("pending").copied().unwrap_or(0)
            + counts.get("sending").copied().unwrap_or(0);
        if busy == 0
            && store
                .feed_checkpoint("destination:association")
                .await
                .expect("checkpoint")
                == store.feed_position().await.expect("position")
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the outbox never went quiet: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

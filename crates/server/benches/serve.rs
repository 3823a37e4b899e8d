//! `eventsync serve` under load, in one process with the Cvent REST sandbox and a SQLite
//! workspace: webhook intake (deliveries accepted per second, latency to the acknowledgement,
//! and that every one is processed exactly once) and write-back latency (from the API call
//! registering a person to a session until Cvent has answered the enrollment).
//!
//! Run: `cargo bench -p server --bench serve` (`SERVE_BENCH_WEBHOOKS=20000`,
//! `SERVE_BENCH_CONCURRENCY=32`, `SERVE_BENCH_REGISTRATIONS=200` to change the load).

use std::sync::Arc;
use std::time::{Duration, Instant};

use engine::Config;
use sandboxes::cvent_rest::{CventRestSandbox, SandboxConfig};
use serde_json::{Value, json};
use server::{AppState, Settings};
use store::Store;

const WEBHOOK_TOKEN: &str = "bench-webhook-token";

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

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(bench());
}

async fn bench() {
    let webhooks = env_number("SERVE_BENCH_WEBHOOKS", 20_000);
    let concurrency = env_number("SERVE_BENCH_CONCURRENCY", 32);
    let registrations = env_number("SERVE_BENCH_REGISTRATIONS", 200);

    let sandbox = CventRestSandbox::start(SandboxConfig {
        attendees: 1_000,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let dir = std::env::temp_dir().join(format!("eventsync-serve-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let store = Store::open(&dir.join("workspace.sqlite").display().to_string())
        .await
        .expect("store");
    let text = format!(
        "[[connections]]\nname = \"cvent\"\nkind = \"cvent-rest\"\nbase_url = \"{}\"\nevent_code = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"${{SECRET}}\"\ndata_types = [\"people\", \"sessions\", \"speakers\", \"session_registrations\"]\n",
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
        .add_api_token("bench", &server::token_hash(&token))
        .await
        .expect("token");
    let settings = Settings {
        webhook_token: Some(engine::Secret::new(WEBHOOK_TOKEN)),
        report_dir: dir.join("reports"),
        poll: Duration::from_millis(20),
        scheduler: false,
        ..Settings::default()
    };
    let state = AppState::new(store.clone(), config, settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listener");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(server::serve(state, listener, std::future::pending()));
    let http = reqwest::Client::new();

    // Every session unlimited at the vendor, then the workspace filled.
    let control = sandbox.control_url();
    let sync = |types: Value| {
        let http = http.clone();
        let base = base.clone();
        let token = token.clone();
        async move {
            let started: Value = http
                .post(format!("{base}/v1/runs"))
                .bearer_auth(&token)
                .json(&json!({"connection": "cvent", "kind": "sync", "data_types": types}))
                .send()
                .await
                .expect("start")
                .json()
                .await
                .expect("json");
            let id = started["run_id"].as_i64().expect("run id");
            loop {
                let run: Value = http
                    .get(format!("{base}/v1/runs/{id}"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("run")
                    .json()
                    .await
                    .expect("json");
                if run["status"] != "running" {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    sync(json!([
        "people",
        "sessions",
        "speakers",
        "session_registrations"
    ]))
    .await;
    let sessions: Value = http
        .get(format!("{base}/v1/sessions?include_hidden=true&limit=500"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("sessions")
        .json()
        .await
        .expect("json");
    let session_ids: Vec<String> = sessions["data"]
        .as_array()
        .expect("sessions")
        .iter()
        .filter_map(|s| s["external_id"].as_str().map(str::to_string))
        .collect();
    for id in &session_ids {
        http.patch(format!("{control}/sessions/{id}"))
            .json(&json!({"status": "Active", "capacityUnlimited": true}))
            .send()
            .await
            .expect("patch session");
    }
    sync(json!(["sessions"])).await;

    // ---- webhook intake ----
    let url = Arc::new(format!("{base}/webhooks/cvent/cvent"));
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut clients = Vec::new();
    for _ in 0..concurrency {
        let http = http.clone();
        let url = url.clone();
        let next = next.clone();
        clients.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if index >= webhooks {
                    return latencies;
                }
                let envelope = json!({
                    "eventType": "InviteeOrGuestAccepted",
                    "messageTime": "2044-04-03T17:14:42.823Z",
                    "messageStub": format!("BENCH-{index:08}-{}", "A".repeat(24)),
                    "message": [{"inviteeStub": format!("{index:08X}"), "confirmationNumber": ""}],
                });
                let sent = Instant::now();
                let response = http
                    .post(url.as_str())
                    .header("authorization", WEBHOOK_TOKEN)
                    .json(&envelope)
                    .send()
                    .await
                    .expect("delivery");
                assert_eq!(response.status().as_u16(), 200);
                let _ = response.bytes().await;
                latencies.push(sent.elapsed());
            }
        }));
    }
    let mut latencies = Vec::new();
    for client in clients {
        latencies.extend(client.await.expect("client"));
    }
    let intake = started.elapsed();
    latencies.sort();
    let accepted_per_second = webhooks as f64 / intake.as_secs_f64();
    loop {
        let counts = store.webhook_counts().await.expect("counts");
        let finished = counts.get("done").copied().unwrap_or(0);
        if finished as usize == webhooks {
            break;
        }
        assert!(
            counts.get("failed").copied().unwrap_or(0) == 0,
            "deliveries failed: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let processed = started.elapsed();
    let rows = store.webhooks(None, None, u32::MAX).await.expect("rows");
    let once = rows.len() == webhooks
        && rows
            .iter()
            .all(|d| d.status == store::WebhookStatus::Done && d.attempts == 1);
    let runs = store.runs(Some("cvent"), 100_000).await.expect("runs");
    let webhook_runs = runs
        .iter()
        .filter(|r| r.data_types.iter().any(|t| t == "people"))
        .count()
        - 1;
    println!(
        "| webhook deliveries | concurrency | accepted/s | p50 (ms) | p99 (ms) | max (ms) | all processed after (s) | processed once | incremental syncs they caused |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |");
    println!(
        "| {webhooks} | {concurrency} | {accepted_per_second:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {webhook_runs} |",
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
        processed.as_secs_f64(),
        if once { "yes" } else { "NO" },
    );

    // ---- write-back latency ----
    let people: Value = http
        .get(format!("{base}/v1/people?limit=500"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("people")
        .json()
        .await
        .expect("json");
    let people: Vec<String> = people["data"]
        .as_array()
        .expect("people")
        .iter()
        .filter_map(|p| p["external_id"].as_str().map(str::to_string))
        .collect();
    let mut write_latencies = Vec::new();
    let mut pairs = session_ids
        .iter()
        .flat_map(|s| people.iter().map(move |p| (s.clone(), p.clone())));
    while write_latencies.len() < registrations {
        let Some((session, person)) = pairs.next() else {
            break;
        };
        let sent = Instant::now();
        let response = http
            .post(format!("{base}/v1/sessions/{session}/registrations"))
            .bearer_auth(&token)
            .json(&json!({"person_id": person}))
            .send()
            .await
            .expect("register");
        if response.status().as_u16() != 202 {
            continue;
        }
        let item: Value = response.json().await.expect("json");
        let id = item["id"].as_i64().expect("id");
        loop {
            let item = store.outbox_item(id).await.expect("item").expect("stored");
            match item.status {
                store::OutboxStatus::Sent => break,
                store::OutboxStatus::Failed => panic!("refused: {:?}", item.last_error),
                _ => tokio::time::sleep(Duration::from_micros(500)).await,
            }
        }
        write_latencies.push(sent.elapsed());
    }
    write_latencies.sort();
    println!();
    println!("| registrations | p50 (ms) | p99 (ms) | max (ms) |");
    println!("| ---: | ---: | ---: | ---: |");
    println!(
        "| {} | {:.2} | {:.2} | {:.2} |",
        write_latencies.len(),
        percentile(&write_latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&write_latencies, 0.99).as_secs_f64() * 1e3,
        write_latencies
            .last()
            .map_or(0.0, |d| d.as_secs_f64() * 1e3),
    );
    store.close().await;
    sandbox.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

//! What wraps every request, over HTTP: one access log line per request (method, path without
//! its query string, status, latency) and the request timeout's JSON 503.

mod support;

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use engine::Config;
use reqwest::{Method, StatusCode};
use sandboxes::cvent_rest::{CventRestSandbox, SandboxConfig};
use serde_json::json;
use server::{AppState, Settings};
use store::Store;

/// Log lines, kept for the test to read.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_request_is_logged_once_without_its_query_and_a_slow_one_times_out_as_json() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter("warn,eventsync::access=info")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let sandbox = CventRestSandbox::start(SandboxConfig {
        attendees: 5,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let text = format!(
        "[[connections]]\nname = \"cvent\"\nkind = \"cvent-rest\"\nbase_url = \"{}\"\nevent_code = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"${{SECRET}}\"\ndata_types = [\"people\"]\n",
        sandbox.base_url(),
        sandbox.event_code(),
        sandbox.client_id()
    );
    let secret = sandbox.client_secret().to_string();
    let config = Config::parse(&text, Path::new("eventsync.toml"), &move |name| {
        (name == "SECRET").then(|| secret.clone())
    })
    .expect("config");
    let dir = std::env::temp_dir().join(format!("eventsync-access-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let store = Store::open(&dir.join("workspace.sqlite").display().to_string())
        .await
        .expect("store");
    let token = server::new_token();
    store
        .add_api_token("tests", &server::token_hash(&token))
        .await
        .expect("token");
    let settings = Settings {
        report_dir: dir.join("reports"),
        scheduler: false,
        request_timeout: Duration::from_millis(500),
        ..Settings::default()
    };
    let state = AppState::new(store.clone(), config, settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listener");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let server = tokio::spawn(async move {
        let _ = server::serve(state, listener, std::future::pending()).await;
    });
    let http = reqwest::Client::new();

    let (status, body) = support::call(
        &http,
        &token,
        Method::GET,
        format!("{base}/v1/people?limit=5&after=secret-cursor"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A check that waits on a slow vendor outlasts the timeout: a JSON 503 says so.
    support::control(
        &http,
        &sandbox,
        Method::PUT,
        "/latency",
        json!({"page_ms": [2000, 2000], "object_ms": [2000, 2000]}),
    )
    .await;
    let (status, body) = support::call(
        &http,
        &token,
        Method::POST,
        format!("{base}/v1/connections/cvent/check"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "timeout", "{body}");
    let log = captured.text();
    let people: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("path=/v1/people"))
        .collect();
    assert_eq!(people.len(), 1, "one line per request:\n{log}");
    let line = people[0];
    for part in ["INFO", "method=GET", "status=200", "latency_ms="] {
        assert!(line.contains(part), "{part} missing from {line}");
    }
    assert!(
        !log.contains("secret-cursor") && !log.contains("limit=5"),
        "the query string stays out of the log:\n{log}"
    );
    assert!(
        log.lines()
            .any(|line| line.contains("path=/v1/connections/cvent/check")
                && line.contains("status=503")),
        "{log}"
    );

    server.abort();
    store.close().await;
    sandbox.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

//! The server beside another process on the same workspace, on SQLite and PostgreSQL: a run of
//! a connection whose lease another process holds is refused with a 409 naming that run, and a
//! webhook's run waits for it to end.

use std::path::Path;
use std::time::Duration;

use engine::Config;
use reqwest::{Method, StatusCode};
use sandboxes::cvent_rest::{CventRestSandbox, SandboxConfig};
use serde_json::{Value, json};
use server::{AppState, Settings};
use store::{LeaseClaim, NewRun, Store};

mod support;

const POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_another_process_holds_is_refused_with_409_naming_it_on_sqlite() {
    let path = std::env::temp_dir().join(format!(
        "eventsync-run-lease-{}.sqlite",
        uuid::Uuid::new_v4().simple()
    ));
    let url = path.display().to_string();
    refused_while_another_process_holds_the_connection(|| Store::open(&url)).await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{url}{suffix}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_another_process_holds_is_refused_with_409_naming_it_on_postgres() {
    let url = std::env::var("EVENTSYNC_TEST_POSTGRES").unwrap_or_else(|_| POSTGRES.to_string());
    let schema = format!("run_lease_{}", uuid::Uuid::new_v4().simple());
    if Store::open_in_schema(&url, &schema).await.is_err() {
        eprintln!("PostgreSQL at {url} is not reachable: test skipped");
        return;
    }
    refused_while_another_process_holds_the_connection(|| Store::open_in_schema(&url, &schema))
        .await;
    drop_schema(&url, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_run_waits_for_another_process_to_end_its_run_on_sqlite() {
    let path = std::env::temp_dir().join(format!(
        "eventsync-run-lease-{}.sqlite",
        uuid::Uuid::new_v4().simple()
    ));
    let url = path.display().to_string();
    waits_while_another_process_holds_the_connection(|| Store::open(&url)).await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{url}{suffix}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_run_waits_for_another_process_to_end_its_run_on_postgres() {
    let url = std::env::var("EVENTSYNC_TEST_POSTGRES").unwrap_or_else(|_| POSTGRES.to_string());
    let schema = format!("run_lease_{}", uuid::Uuid::new_v4().simple());
    if Store::open_in_schema(&url, &schema).await.is_err() {
        eprintln!("PostgreSQL at {url} is not reachable: test skipped");
        return;
    }
    waits_while_another_process_holds_the_connection(|| Store::open_in_schema(&url, &schema)).await;
    drop_schema(&url, &schema).await;
}

/// Regression: a webhook's run was refused while another process synced, and the delivery's
/// quick retries ran out.
async fn waits_while_another_process_holds_the_connection<F, Fut>(open: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Store, store::StoreError>>,
{
    let sandbox = CventRestSandbox::start(SandboxConfig {
        attendees: 50,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let served = open().await.expect("the server's store");
    let dir = std::env::temp_dir().join(format!(
        "eventsync-run-lease-reports-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let state = AppState::new(
        served.clone(),
        config(&sandbox),
        Settings {
            report_dir: dir.clone(),
            scheduler: false,
            ..Settings::default()
        },
    );
    let other = open().await.expect("another process's store");
    let LeaseClaim::Taken(lease) = other
        .take_run_lease("cvent", "sync", Duration::from_secs(60))
        .await
        .expect("taking the lease")
    else {
        panic!("the lease should be free");
    };
    let others_run = other
        .with_lease(&lease)
        .start_run(&NewRun {
            connection: "cvent".into(),
            kind: "sync".into(),
            data_types: vec!["people".into()],
            cursor_before: Value::Null,
        })
        .await
        .expect("the other run");

    let request = server::runs::RunRequest {
        connection: "cvent".into(),
        kind: engine::RunKind::Sync,
        data_types: vec![pipeline::DataType::People],
        full: false,
        notify: false,
    };
    let waiting = tokio::spawn(async move {
        let guard = server::runs::RunGate::default().claim("cvent").await;
        server::runs::run_held(&state, &request, guard).await
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!waiting.is_finished(), "the webhook's run waits");
    let runs = served.runs(Some("cvent"), 10).await.expect("runs");
    assert_eq!(runs.len(), 1, "only the other process's run");
    assert_eq!(runs[0].id, others_run);

    other.release_run_lease(&lease).await.expect("release");
    let report = tokio::time::timeout(Duration::from_secs(30), waiting)
        .await
        .expect("the run goes ahead once the lease is free")
        .expect("the run's task")
        .expect("the run");
    assert_eq!(
        report.status,
        engine::RunStatus::Succeeded,
        "{:?}",
        report.errors
    );
    assert_eq!(served.run_lease("cvent").await.expect("lease"), None);
    let _ = std::fs::remove_dir_all(dir);
}

async fn drop_schema(url: &str, schema: &str) {
    use sqlx::Connection as _;
    if let Ok(mut connection) = sqlx::PgConnection::connect(url).await {
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE"
        )))
        .execute(&mut connection)
        .await;
    }
}

async fn refused_while_another_process_holds_the_connection<F, Fut>(open: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Store, store::StoreError>>,
{
    let sandbox = CventRestSandbox::start(SandboxConfig {
        attendees: 50,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let served = open().await.expect("the server's store");
    let token = server::new_token();
    served
        .add_api_token("tests", &server::token_hash(&token))
        .await
        .expect("token");
    let dir = std::env::temp_dir().join(format!(
        "eventsync-run-lease-reports-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let state = AppState::new(
        served.clone(),
        config(&sandbox),
        Settings {
            report_dir: dir.clone(),
            scheduler: false,
            ..Settings::default()
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listener");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let server = tokio::spawn(async move {
        let _ = server::serve(state, listener, std::future::pending()).await;
    });
    let http = reqwest::Client::new();
    let start_sync = || {
        support::call(
            &http,
            &token,
            Method::POST,
            format!("{base}/v1/runs"),
            Some(json!({"connection": "cvent", "kind": "sync", "data_types": ["people"]})),
        )
    };

    // Another process (the CLI, another server) holds the connection with a run going.
    let other = open().await.expect("another process's store");
    let LeaseClaim::Taken(lease) = other
        .take_run_lease("cvent", "sync", Duration::from_secs(60))
        .await
        .expect("taking the lease")
    else {
        panic!("the lease should be free");
    };
    let others_run = other
        .with_lease(&lease)
        .start_run(&NewRun {
            connection: "cvent".into(),
            kind: "sync".into(),
            data_types: vec!["people".into()],
            cursor_before: Value::Null,
        })
        .await
        .expect("the other run");

    let (status, body) = start_sync().await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "run_in_progress");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&format!("a sync going: run {others_run}, started ")),
        "{message}"
    );
    assert_eq!(
        served.runs(Some("cvent"), 10).await.expect("runs").len(),
        1,
        "the refused run is not recorded"
    );

    // Once the other run is over, the server's run goes ahead and gives the lease back.
    other.release_run_lease(&lease).await.expect("release");
    let (status, body) = start_sync().await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let run_id = body["run_id"].as_i64().expect("run id");
    for _ in 0..400 {
        let run = served.run(run_id).await.expect("run").expect("recorded");
        if run.status != "running" && served.run_lease("cvent").await.expect("lease").is_none() {
            assert_eq!(run.status, "succeeded", "{:?}", run.errors);
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(served.run_lease("cvent").await.expect("lease"), None);
    server.abort();
    let _ = std::fs::remove_dir_all(dir);
}

fn config(sandbox: &CventRestSandbox) -> Config {
    let text = format!(
        "[[connections]]\nname = \"cvent\"\nkind = \"cvent-rest\"\nbase_url = \"{}\"\nevent_code = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"${{SECRET}}\"\ndata_types = [\"people\"]\n",
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

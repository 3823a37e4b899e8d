//! What the engine's end-to-end test files share: a test's folder and SQLite workspace, a Cvent
//! REST connection to a sandbox, quick retries, running a preview or a sync, reading a data type
//! back out of the workspace as an export shows it, and reading or driving the Cvent sandbox as
//! a test sees it.

// Each test file compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use connectors::RetryPolicy;
use engine::config::{Config, Connection};
use engine::{RunKind, RunOptions, RunReport};
use pipeline::DataType;
use sandboxes::cvent_rest::CventRestSandbox;
use serde_json::{Map, Value};
use store::Store;

/// A fresh folder for one test, named by its kind and its sandbox's port.
pub fn test_folder(kind: &str, port: u16) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("eventsync-{kind}-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A SQLite workspace in the test's folder.
pub async fn sqlite_workspace(dir: &Path) -> Store {
    Store::open(&dir.join("workspace.sqlite").display().to_string())
        .await
        .expect("store")
}

/// The connection `cvent` to the sandbox, with `settings` (TOML) after its credentials.
pub fn cvent_connection(sandbox: &CventRestSandbox, settings: &str) -> Connection {
    let text = format!(
        "[[connections]]\nname = \"cvent\"\nkind = \"cvent-rest\"\nbase_url = \"{}\"\nevent_code = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"${{SECRET}}\"\n{settings}",
        sandbox.base_url(),
        sandbox.event_code(),
        sandbox.client_id()
    );
    let secret = sandbox.client_secret().to_string();
    let config = Config::parse(&text, Path::new("eventsync.toml"), &move |name| {
        (name == "SECRET").then(|| secret.clone())
    })
    .expect("config");
    config.connection("cvent").expect("connection").clone()
}

/// Retries short enough that injected faults cost milliseconds.
pub const FAST_RETRY: RetryPolicy = RetryPolicy {
    initial: Duration::from_millis(10),
    max: Duration::from_millis(80),
    attempts: 8,
};

pub fn options(kind: RunKind, types: &[DataType]) -> RunOptions {
    RunOptions {
        kind,
        data_types: types.to_vec(),
        full: false,
        report: None,
        retry: FAST_RETRY,
    }
}

pub async fn run(
    store: &Store,
    connection: &Connection,
    kind: RunKind,
    types: &[DataType],
) -> RunReport {
    engine::run(store, connection, &options(kind, types), &|_| {})
        .await
        .expect("run")
}

/// Every record of the connection's data type, by external id, with the exported fields; a
/// record listed twice fails the test.
pub async fn workspace(
    store: &Store,
    connection: &str,
    data_type: DataType,
) -> HashMap<String, Map<String, Value>> {
    let mut out = HashMap::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .export_page(Some(connection), data_type.as_str(), after.as_deref(), 1000)
            .await
            .expect("export");
        if page.is_empty() {
            return out;
        }
        after = page.last().map(|r| r.external_id.clone());
        for record in &page {
            let fields = engine::run::export_fields(record);
            assert!(
                out.insert(record.external_id.clone(), fields).is_none(),
                "duplicate {}",
                record.external_id
            );
        }
    }
}

/// After a first, full sync of `data_type`: the vendor's total the listing counted is every
/// record it listed — created, or kept out by the status rule, filters or validation — and the
/// totals explain the whole difference with the workspace, leaving nothing "not yet synced".
pub async fn assert_first_sync_totals(
    store: &Store,
    connection: &str,
    report: &RunReport,
    data_type: DataType,
) {
    let counts = &report.types[data_type.as_str()].counts;
    let count = |action: &str| counts.get(action).copied().unwrap_or(0);
    let listed = count("create") + count("skipped") + count("filtered") + count("reject");
    let totals = engine::totals::of(store, connection, data_type.as_str())
        .await
        .expect("totals");
    assert_eq!(totals.vendor, Some(listed), "{data_type}: {totals:?}");
    assert_eq!(
        totals.left_out.by_status,
        Some(count("skipped")),
        "{data_type}"
    );
    assert_eq!(totals.left_out.by_filters, count("filtered"), "{data_type}");
    assert_eq!(totals.left_out.rejected, count("reject"), "{data_type}");
    assert_eq!(totals.workspace, count("create"), "{data_type}");
    assert_eq!(totals.not_yet_synced, Some(0), "{data_type}: {totals:?}");
    assert_eq!(
        totals.beyond_vendor_count,
        Some(0),
        "{data_type}: {totals:?}"
    );
}

/// A bearer token of the sandbox's client (every scope, sensitive fields included).
pub async fn cvent_bearer(http: &reqwest::Client, sandbox: &CventRestSandbox) -> String {
    let token: Value = http
        .post(format!("{}/oauth2/token", sandbox.base_url()))
        .basic_auth(sandbox.client_id(), Some(sandbox.client_secret()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token json");
    token["access_token"].as_str().expect("token").to_string()
}

/// Everything the Cvent sandbox lists at `path`, every page, waiting out throttling.
pub async fn cvent_list_all(
    http: &reqwest::Client,
    sandbox: &CventRestSandbox,
    path: &str,
) -> Vec<Value> {
    let bearer = cvent_bearer(http, sandbox).await;
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let query: Vec<(&str, String)> = match &next {
            Some(token) => vec![("token", token.clone())],
            None => vec![("limit", "200".into())],
        };
        let response = http
            .get(format!("{}{path}", sandbox.base_url()))
            .bearer_auth(&bearer)
            .query(&query)
            .send()
            .await
            .expect("page");
        if response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        let page: Value = response.json().await.expect("page json");
        out.extend(page["data"].as_array().cloned().unwrap_or_default());
        next = page["paging"]["nextToken"].as_str().map(str::to_string);
        if next.is_none() {
            return out;
        }
    }
}

/// A call to the Cvent sandbox's control API, which must succeed; its JSON answer.
pub async fn cvent_control(
    http: &reqwest::Client,
    sandbox: &CventRestSandbox,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> Value {
    sandboxes::control(http, &sandbox.control_url(), method, path, &body)
        .await
        .expect("control call")
}

/// Where the PostgreSQL tests connect; CI has a server there.
pub fn postgres_url() -> String {
    std::env::var("EVENTSYNC_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Drops a test's PostgreSQL schema, whatever it holds.
pub async fn drop_schema(url: &str, schema: &str) {
    use sqlx::Connection as _;
    if let Ok(mut connection) = sqlx::postgres::PgConnection::connect(url).await {
        let statement = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&mut connection)
            .await;
    }
}

/// Tells the process's rate budget of the sandbox's account that its day has turned, as the
/// client learns after a quota reset.
pub fn budget_reset(sandbox: &CventRestSandbox) {
    let key = format!("cvent-rest:{}:{}", sandbox.base_url(), sandbox.client_id());
    connectors::budget::RateBudget::for_account(&key)
        .mark_exhausted(chrono::Utc::now() - chrono::Duration::seconds(1));
}

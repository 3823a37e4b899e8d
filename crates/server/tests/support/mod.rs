//! What the server's API test files share: calling the API as a client does, driving the
//! Cvent sandbox through its control API, and a PostgreSQL schema of a test's own.

// Each test file compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use reqwest::{Method, StatusCode};
use sandboxes::cvent_rest::CventRestSandbox;
use serde_json::Value;

/// One API call with a bearer token: the status and the body, as JSON when it is JSON.
pub async fn call(
    http: &reqwest::Client,
    token: &str,
    method: Method,
    url: String,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = http.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let text = response.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A call to the Cvent sandbox's control API, which must succeed; its JSON answer.
pub async fn control(
    http: &reqwest::Client,
    sandbox: &CventRestSandbox,
    method: Method,
    path: &str,
    body: Value,
) -> Value {
    sandboxes::control(http, &sandbox.control_url(), method, path, &body)
        .await
        .expect("control call")
}

/// Where the PostgreSQL tests connect unless `EVENTSYNC_TEST_POSTGRES` says otherwise.
pub const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The test PostgreSQL database and a fresh schema name in it starting with `prefix`, or `None`
/// (saying so) when no server answers.
pub async fn postgres_schema(prefix: &str) -> Option<(String, String)> {
    use sqlx::Connection as _;
    let url =
        std::env::var("EVENTSYNC_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_POSTGRES.to_string());
    match sqlx::PgConnection::connect(&url).await {
        Ok(connection) => {
            let _ = connection.close().await;
        }
        Err(error) => {
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "skipped: PostgreSQL not reachable ({error}); set EVENTSYNC_TEST_POSTGRES"
            );
            return None;
        }
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    Some((url, format!("{prefix}_{}_{nanos}", std::process::id())))
}

pub async fn drop_schema(url: &str, schema: &str) {
    use sqlx::Connection as _;
    if let Ok(mut connection) = sqlx::PgConnection::connect(url).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
        )))
        .execute(&mut connection)
        .await;
        let _ = connection.close().await;
    }
}

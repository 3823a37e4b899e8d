//! What the server's API test files share: calling the API as a client does, and driving the
//! Cvent sandbox through its control API.

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

//! Local simulators of the vendor APIs eventsync talks to, faithful to their published contracts.
//!
//! Each vendor has one module. The sandboxes serve the demo, the tests and the benchmarks, and let
//! an integrator rehearse an event before touching a real account.

pub mod aventri;
pub mod clock;
pub mod cvent_rest;
pub mod cvent_soap;
pub mod imis;
pub mod latency;
pub mod python;
pub mod seeded;

/// One call to a sandbox's control API (`control_url` + `path`), as tests, benchmarks and the
/// demo drive the "vendor": its JSON answer (`null` for an empty one), or why it failed.
pub async fn control(
    http: &reqwest::Client,
    control_url: &str,
    method: reqwest::Method,
    path: &str,
    body: &serde_json::Value,
) -> Result<serde_json::Value, String> {
    let response = http
        .request(method, format!("{control_url}{path}"))
        .json(body)
        .send()
        .await
        .map_err(|error| format!("{path}: {error}"))?;
    let status = response.status();
    if !status.is_success() {
        let text = response.text().await.unwrap_or_default();
        return Err(format!("{path}: {status} {text}"));
    }
    Ok(response.json().await.unwrap_or(serde_json::Value::Null))
}

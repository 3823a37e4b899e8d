//! HTTP to Aventri's API v2: the access token, the per-minute budget, retries and what an
//! answer means (Aventri answers errors as `{"error": {…}}` objects, often with HTTP 200).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::budget::RateBudget;
use crate::clock::VendorClock;
use crate::retry::{Failure, Retrier};
use crate::{ConnectorError, RetryPolicy, WaitObserver};

/// How long a token is used: one client library documents ten minutes and treats a token with
/// less than one left as spent; others assume an hour. Nine minutes is safe for both, and an
/// auth error renews it early anyway.
const TOKEN_USE: chrono::Duration = chrono::Duration::minutes(9);

/// Where to send calls and how to sign in.
#[derive(Clone)]
pub struct Credentials {
    pub connection: String,
    /// `…/api/v2`, without a trailing slash.
    pub endpoint: String,
    pub account_id: String,
    pub key: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("connection", &self.connection)
            .field("endpoint", &self.endpoint)
            .field("account_id", &self.account_id)
            .field("key", &"<redacted>")
            .finish()
    }
}

/// What a call came back with, once retries and re-authorisation are done.
#[derive(Debug)]
pub enum Reply {
    /// A JSON answer that is not an error object: an array or a record.
    Data(Value),
    /// An error object; `field` is its first key (`data`, `eventid`, …) and `message` its text.
    Error { field: String, message: String },
    /// The API gateway failed (500, 502, 504): with APIv2, usually a response over 10 MB.
    Gateway(StatusCode),
}

#[derive(Debug, Clone)]
struct Token {
    value: String,
    renew_at: DateTime<Utc>,
}

/// The HTTP client of one Aventri connection.
pub struct Client {
    http: reqwest::Client,
    credentials: Credentials,
    token: Mutex<Option<Token>>,
    budget: Arc<RateBudget>,
    retry: Retrier,
    calls: AtomicU64,
    clock: VendorClock,
}

/// The first key and value of an error object, if `body` is one.
pub fn error_of(body: &Value) -> Option<(String, String)> {
    let error = body.get("error")?;
    match error {
        Value::Object(fields) => {
            let (field, message) = fields.iter().next()?;
            let message = match message {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            Some((field.clone(), message))
        }
        Value::String(text) => Some(("data".to_string(), text.clone())),
        other => Some(("data".to_string(), other.to_string())),
    }
}

/// What an answer's status and body say when they are an answer: data (a 2xx JSON body that is
/// no error object), an error object (whatever the status), or a gateway failure. `None` for
/// the rest — throttling and 503s to retry, other statuses without an error object.
pub fn reply_of(status: StatusCode, bytes: &[u8]) -> Option<Reply> {
    if matches!(status.as_u16(), 429 | 503) {
        return None;
    }
    if matches!(status.as_u16(), 500 | 502 | 504) {
        return Some(Reply::Gateway(status));
    }
    let body: Value = serde_json::from_slice(bytes).ok()?;
    if let Some((field, message)) = error_of(&body) {
        return Some(Reply::Error { field, message });
    }
    status.is_success().then_some(Reply::Data(body))
}

/// Whether an error object says the access token is no good.
fn is_auth_error(field: &str, message: &str) -> bool {
    field == "accesstoken" || message.to_ascii_lowercase().contains("accesstoken")
}

/// A transport failure, described with the endpoint but without the URL's query (it carries
/// the access token).
fn transport_failure(error: reqwest::Error, endpoint: &str, function: &str) -> Failure {
    let error = error.without_url();
    let described = if error.is_timeout() {
        format!("timed out calling Aventri {function}")
    } else if error.is_connect() {
        format!(
            "cannot connect to Aventri at {endpoint} for {function}: nothing answers there (check the connection's region or endpoint, and the network)"
        )
    } else {
        format!("calling Aventri {function} failed: {error}")
    };
    Failure::of_transport(&error, described)
}

/// How a throttled call is described; a call still throttled after every retry is `Throttled`.
const THROTTLED: &str = "Aventri answered 429 Too Many Requests";

impl Client {
    pub fn new(credentials: Credentials, budget: Arc<RateBudget>, retry: RetryPolicy) -> Client {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .user_agent(concat!("eventsync/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Client {
            http,
            credentials,
            token: Mutex::new(None),
            budget,
            retry: Retrier::new(retry),
            calls: AtomicU64::new(0),
            clock: VendorClock::default(),
        }
    }

    pub fn observe_waits(&self, observer: Option<WaitObserver>) {
        self.retry.observe(observer);
    }

    /// Calls made so far, token requests included (Aventri counts every request).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// The vendor's clock, as its answers state it.
    pub fn clock(&self) -> &VendorClock {
        &self.clock
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    async fn token(&self, force: bool) -> Result<String, ConnectorError> {
        let mut cached = self.token.lock().await;
        if !force
            && let Some(token) = cached.as_ref()
            && token.renew_at > Utc::now()
        {
            return Ok(token.value.clone());
        }
        let form = [
            ("accountid", self.credentials.account_id.as_str()),
            ("key", self.credentials.key.as_str()),
        ];
        let reply = self.send("global/authorize.json", &form, None).await?;
        let connection = &self.credentials.connection;
        match reply {
            Reply::Data(body) => {
                let Some(value) = body["accesstoken"].as_str().filter(|t| !t.is_empty()) else {
                    return Err(ConnectorError::Auth(format!(
                        "Aventri answered authorize without an accesstoken for connection '{connection}'"
                    )));
                };
                *cached = Some(Token {
                    value: value.to_string(),
                    renew_at: Utc::now() + TOKEN_USE,
                });
                Ok(value.to_string())
            }
            Reply::Error { message, .. } => Err(ConnectorError::Auth(format!(
                "Aventri rejected the account id or key ({message}): check account_id and key for connection '{connection}'"
            ))),
            Reply::Gateway(status) => Err(ConnectorError::Transient(format!(
                "Aventri's gateway answered {status} to authorize for connection '{connection}'"
            ))),
        }
    }

    /// Calls a function (`ereg/listAttendees.json`) with its parameters, adding the access
    /// token; re-authorises once on an auth error.
    pub async fn call(
        &self,
        function: &str,
        params: &[(&str, &str)],
    ) -> Result<Reply, ConnectorError> {
        let mut renewed = false;
        loop {
            let token = self.token(false).await?;
            let reply = self.send(function, params, Some(&token)).await?;
            match &reply {
                Reply::Error { field, message } if is_auth_error(field, message) => {
                    if renewed {
                        return Err(ConnectorError::Auth(format!(
                            "Aventri refused a fresh access token for connection '{}' ({message}): check that the API key is still active",
                            self.credentials.connection
                        )));
                    }
                    renewed = true;
                    self.token(true).await?;
                }
                _ => return Ok(reply),
            }
        }
    }

    /// One request under the budget, retrying throttling, dropped connections and 503s; gateway
    /// errors that mean "too large" go back to the caller, who can ask for less.
    async fn send(
        &self,
        function: &str,
        params: &[(&str, &str)],
        token: Option<&str>,
    ) -> Result<Reply, ConnectorError> {
        let url = format!("{}/{function}", self.credentials.endpoint);
        let mut query: Vec<(&str, &str)> = params.to_vec();
        if let Some(token) = token {
            query.push(("accesstoken", token));
        }
        let mut retry = 0;
        loop {
            self.budget
                .acquire()
                .await
                .map_err(|e| ConnectorError::QuotaExhausted {
                    resets_at: e
                        .resets_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                })?;
            self.calls.fetch_add(1, Ordering::Relaxed);
            let endpoint = &self.credentials.endpoint;
            let failure = match self.http.get(&url).query(&query).send().await {
                Ok(response) => {
                    self.clock.observe(response.headers());
                    self.retry.reached();
                    let status = response.status();
                    match response.bytes().await {
                        Ok(bytes) => match reply_of(status, &bytes) {
                            Some(reply) => return Ok(reply),
                            None => match status.as_u16() {
                                429 => Failure::Answered(THROTTLED.to_string()),
                                503 => Failure::Answered(format!("Aventri answered {status}")),
                                404 => {
                                    return Err(ConnectorError::Config(format!(
                                        "Aventri has no {function} at {}: check endpoint (…/api/v2) for connection '{}'",
                                        self.credentials.endpoint, self.credentials.connection
                                    )));
                                }
                                status => {
                                    return Err(ConnectorError::Rejected(format!(
                                        "Aventri answered {function} with {status} and no error object"
                                    )));
                                }
                            },
                        },
                        Err(error) => transport_failure(error, endpoint, function),
                    }
                }
                Err(error) => transport_failure(error, endpoint, function),
            };
            // The URL is not logged: it carries the access token.
            tracing::debug!(
                function,
                failure = failure.text(),
                retry,
                "an Aventri call failed"
            );
            if !self.retry.wait(&failure, retry).await {
                return Err(if failure.text() == THROTTLED {
                    ConnectorError::Throttled(format!(
                        "Aventri kept refusing {function} as too many requests (after {} attempts)",
                        retry + 1
                    ))
                } else {
                    ConnectorError::Transient(format!(
                        "{} (after {} attempts)",
                        failure.text(),
                        retry + 1
                    ))
                });
            }
            retry += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_objects_are_read_whatever_their_key() {
        let cases = [
            (
                json!({"error": {"data": "No attendees found"}}),
                Some(("data", "No attendees found")),
            ),
            (
                json!({"error": {"eventid": "No access"}}),
                Some(("eventid", "No access")),
            ),
            (json!({"error": "plain"}), Some(("data", "plain"))),
            (json!([{"attendeeid": "1"}]), None),
            (json!({"accesstoken": "x"}), None),
        ];
        for (body, expected) in cases {
            let found = error_of(&body);
            assert_eq!(
                found.as_ref().map(|(f, m)| (f.as_str(), m.as_str())),
                expected,
                "{body}"
            );
        }
        assert!(is_auth_error("accesstoken", "Invalid"));
        assert!(is_auth_error("data", "Invalid or expired accesstoken"));
        assert!(!is_auth_error("eventid", "No access"));
    }
}

//! HTTP to Cvent's Platform API: the OAuth2 token, the rate budget, retries and error meanings.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::Mutex;

use crate::budget::{RateBudget, next_midnight_utc};
use crate::clock::VendorClock;
use crate::retry::{Failure, Retrier};
use crate::{ConnectorError, RetryPolicy, WaitObserver};

#[derive(Debug, Clone)]
struct Token {
    value: String,
    /// When to stop using it: a little before it expires.
    renew_at: DateTime<Utc>,
}

/// Credentials and where to send them.
#[derive(Clone)]
pub struct Credentials {
    pub connection: String,
    pub base_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("connection", &self.connection)
            .field("base_url", &self.base_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

/// A response the caller has to interpret. The body stays as the bytes Cvent sent: a listing
/// reads its records out of them without building a JSON tree.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: bytes::Bytes,
}

impl Answer {
    /// The body as JSON; `null` when it is empty or not JSON (error bodies are not always).
    pub fn json(&self) -> Value {
        parse_body(&self.body)
    }
}

fn parse_body(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(bytes).unwrap_or(Value::Null)
    }
}

/// The HTTP client of one connection.
pub struct Client {
    http: reqwest::Client,
    credentials: Credentials,
    token: Mutex<Option<Token>>,
    budget: Arc<RateBudget>,
    retry: Retrier,
    calls: AtomicU64,
    clock: VendorClock,
}

/// Renew tokens five minutes (or a tenth of their life, if shorter) before they expire, so a page
/// never goes out with a dying token.
fn renew_at(expires_in: i64) -> DateTime<Utc> {
    let margin = (expires_in / 10).min(300);
    Utc::now() + chrono::Duration::seconds(expires_in - margin)
}

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

    pub fn budget(&self) -> &RateBudget {
        &self.budget
    }

    /// The vendor's clock, as its answers state it.
    pub fn clock(&self) -> &VendorClock {
        &self.clock
    }

    pub fn observe_waits(&self, observer: Option<WaitObserver>) {
        self.retry.observe(observer);
    }

    /// Metered calls made so far (token requests are not metered by Cvent).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    async fn bearer(&self, force: bool) -> Result<String, ConnectorError> {
        let mut cached = self.token.lock().await;
        if !force
            && let Some(token) = cached.as_ref()
            && token.renew_at > Utc::now()
        {
            return Ok(token.value.clone());
        }
        let token = self.request_token().await?;
        let value = token.value.clone();
        *cached = Some(token);
        Ok(value)
    }

    async fn request_token(&self) -> Result<Token, ConnectorError> {
        let credentials = &self.credentials;
        let mut form = vec![
            ("grant_type", "client_credentials".to_string()),
            ("client_id", credentials.client_id.clone()),
        ];
        if !credentials.scopes.is_empty() {
            form.push(("scope", credentials.scopes.join(" ")));
        }
        let mut retry = 0;
        loop {
            let sent = self
                .http
                .post(format!("{}/oauth2/token", credentials.base_url))
                .basic_auth(&credentials.client_id, Some(&credentials.client_secret))
                .form(&form)
                .send()
                .await;
            let outcome = match sent {
                Ok(response) => {
                    self.retry.reached();
                    let status = response.status();
                    let body: Value = response.json().await.unwrap_or(Value::Null);
                    if status.is_success() {
                        let value = body["access_token"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string();
                        let expires_in = body["expires_in"].as_i64().unwrap_or(3600);
                        if value.is_empty() {
                            return Err(ConnectorError::Auth(format!(
                                "Cvent answered the token request for connection '{}' without an access_token",
                                credentials.connection
                            )));
                        }
                        return Ok(Token {
                            value,
                            renew_at: renew_at(expires_in),
                        });
                    }
                    if status == StatusCode::BAD_REQUEST || status == StatusCode::UNAUTHORIZED {
                        let code = body["error"].as_str().unwrap_or("unknown_error");
                        let hint = match code {
                            "invalid_client" => "check client_id and client_secret",
                            "unauthorized_client" => {
                                "the application must be a machine-to-machine (client credentials) app"
                            }
                            _ => "check the connection's credentials and region",
                        };
                        return Err(ConnectorError::Auth(format!(
                            "Cvent rejected the client credentials ({code}): {hint} for connection '{}'",
                            credentials.connection
                        )));
                    }
                    if status == StatusCode::NOT_FOUND {
                        return Err(ConnectorError::Config(format!(
                            "no Cvent token endpoint at {}/oauth2/token: check region or base_url for connection '{}'",
                            credentials.base_url, credentials.connection
                        )));
                    }
                    Failure::Answered(format!("Cvent answered the token request with {status}"))
                }
                Err(error) => transport_failure(&error, &credentials.base_url),
            };
            if !self.retry.wait(&outcome, retry).await {
                return Err(ConnectorError::Transient(format!(
                    "could not get a Cvent token for connection '{}': {} (after {} attempts)",
                    credentials.connection,
                    outcome.text(),
                    retry + 1
                )));
            }
            retry += 1;
        }
    }

    /// Sends one request under the budget, retrying throttling, server errors and dropped
    /// connections, and renewing the token once on a 401.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Answer, ConnectorError> {
        let url = format!("{}{}", self.credentials.base_url, path);
        let mut retry = 0;
        let mut renewed = false;
        loop {
            let bearer = self.bearer(false).await?;
            self.budget
                .acquire()
                .await
                .map_err(|e| ConnectorError::QuotaExhausted {
                    resets_at: e
                        .resets_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                })?;
            self.calls.fetch_add(1, Ordering::Relaxed);
            let mut request = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(&bearer)
                .query(query);
            if let Some(body) = body {
                request = request.json(body);
            }
            let failure = match request.send().await {
                Ok(response) => {
                    self.clock.observe(response.headers());
                    self.retry.reached();
                    let status = response.status();
                    match response.bytes().await {
                        Ok(body) => match classify(status, &body) {
                            Verdict::Done => return Ok(Answer { status, body }),
                            Verdict::RenewToken if !renewed => {
                                renewed = true;
                                self.bearer(true).await?;
                                continue;
                            }
                            Verdict::RenewToken => {
                                return Err(ConnectorError::Auth(format!(
                                    "Cvent refused a fresh token for connection '{}': check that the application is still active",
                                    self.credentials.connection
                                )));
                            }
                            Verdict::QuotaExhausted => {
                                let resets_at = next_midnight_utc(Utc::now());
                                self.budget.vendor_exhausted(resets_at).await;
                                return Err(ConnectorError::QuotaExhausted {
                                    resets_at: resets_at
                                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                                });
                            }
                            Verdict::Retry(reason) => Failure::Answered(reason),
                        },
                        Err(error) => transport_failure(&error, &url),
                    }
                }
                Err(error) => transport_failure(&error, &url),
            };
            tracing::debug!(%url, failure = failure.text(), retry, "a Cvent call failed");
            if !self.retry.wait(&failure, retry).await {
                let message = format!("{} (after {} attempts)", failure.text(), retry + 1);
                return Err(if failure.text().contains(THROTTLED) {
                    ConnectorError::Throttled(message)
                } else {
                    ConnectorError::Transient(message)
                });
            }
            retry += 1;
        }
    }
}

enum Verdict {
    Done,
    RenewToken,
    QuotaExhausted,
    Retry(String),
}

/// Decides from status and body what a response means. Cvent sends both throttling and quota
/// exhaustion as 429; only the message tells them apart, and unknown messages mean throttling.
fn classify(status: StatusCode, body: &[u8]) -> Verdict {
    match status.as_u16() {
        401 => Verdict::RenewToken,
        429 if parse_body(body)["message"].as_str() == Some("Limit Exceeded") => {
            Verdict::QuotaExhausted
        }
        429 => Verdict::Retry(format!("Cvent answered {THROTTLED}")),
        500..=599 => Verdict::Retry(format!("Cvent answered {status}")),
        _ => Verdict::Done,
    }
}

/// How a throttled call is described; a call still throttled after every retry is `Throttled`.
const THROTTLED: &str = "429 Too Many Requests";

fn transport_failure(error: &reqwest::Error, url: &str) -> Failure {
    let described = if error.is_timeout() {
        format!("timed out talking to {url}")
    } else if error.is_connect() {
        format!(
            "cannot connect to {url}: nothing answers there (check the connection's region or base_url, and the network)"
        )
    } else {
        format!("connection to {url} failed: {error}")
    };
    Failure::of_transport(error, described)
}

/// The brief reason in a Cvent error body, with its details.
pub fn error_reason(body: &Value) -> String {
    let message = body["message"].as_str().unwrap_or("no message");
    let details: Vec<&str> = body["details"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["message"].as_str())
        .collect();
    if details.is_empty() {
        message.to_string()
    } else {
        format!("{message}: {}", details.join("; "))
    }
}

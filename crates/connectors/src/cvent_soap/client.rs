//! HTTP to Cvent's SOAP API: envelopes, Login and the move to `ServerURL`, the session header,
//! re-login on session faults, retries, the call quota and what each fault code means.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Mutex;

use super::xml::{self, API_NS, Element, SOAP_NS, escape};
use crate::budget::{RateBudget, next_midnight_utc};
use crate::clock::VendorClock;
use crate::retry::{Failure, Retrier};
use crate::{ConnectorError, RetryPolicy, WaitObserver};

/// Where and as whom to log in.
#[derive(Clone)]
pub struct Credentials {
    pub connection: String,
    /// The Login endpoint (`…/V200611.ASMX`).
    pub login_url: String,
    pub account_number: String,
    pub user_name: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("connection", &self.connection)
            .field("login_url", &self.login_url)
            .field("account_number", &self.account_number)
            .field("user_name", &self.user_name)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A SOAP fault: Cvent's numeric code (`CV20012`) and its faultstring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub code: String,
    pub text: String,
}

/// Why a call failed: a fault the caller may handle (a window too wide, a batch too big), or an
/// error that ends the operation.
#[derive(Debug, Clone, PartialEq)]
pub enum CallError {
    Fault(Fault),
    Stop(ConnectorError),
}

impl From<ConnectorError> for CallError {
    fn from(error: ConnectorError) -> Self {
        CallError::Stop(error)
    }
}

impl CallError {
    /// The error for a fault nobody handled.
    pub fn into_connector_error(self, operation: &str) -> ConnectorError {
        match self {
            CallError::Stop(error) => error,
            CallError::Fault(fault) => ConnectorError::Rejected(format!(
                "Cvent refused {operation} with fault {} ({})",
                fault.code, fault.text
            )),
        }
    }
}

#[derive(Debug, Clone)]
struct Session {
    server_url: String,
    header: String,
}

/// The SOAP client of one connection.
pub struct Client {
    http: reqwest::Client,
    credentials: Credentials,
    budget: Arc<RateBudget>,
    retry: Retrier,
    session: Mutex<Option<Session>>,
    /// Set when Cvent refused the login: every later call fails with it at once, since trying
    /// again would lock the account out.
    refused: std::sync::Mutex<Option<String>>,
    calls: AtomicU64,
    clock: VendorClock,
}

/// Session faults: the header is unknown, garbled or expired; a fresh Login fixes them.
fn is_session_fault(code: &str) -> bool {
    matches!(code, "CV10104" | "CV10105" | "CV10107")
}

/// Faults Cvent documents as server-side trouble, worth another attempt.
fn is_transient_fault(code: &str) -> bool {
    matches!(code, "CV10000" | "CV10001")
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
            budget,
            retry: Retrier::new(retry),
            session: Mutex::new(None),
            refused: std::sync::Mutex::new(None),
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

    /// Calls counted against the account's quota so far (Login is not).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    fn refusal(&self) -> Option<String> {
        self.refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Logs in and returns the session, or the refusal (remembered: never retried).
    async fn login(&self) -> Result<Session, ConnectorError> {
        if let Some(refusal) = self.refusal() {
            return Err(ConnectorError::Auth(refusal));
        }
        let c = &self.credentials;
        let inner = format!(
            "<AccountNumber>{}</AccountNumber><UserName>{}</UserName><Password>{}</Password>",
            escape(&c.account_number),
            escape(&c.user_name),
            escape(&c.password)
        );
        let body = self
            .send(&c.login_url, None, "Login", &inner)
            .await
            .map_err(|e| match e {
                Attempt::Stop(error) => error,
                Attempt::Retry(failure) => ConnectorError::Transient(failure.text().to_string()),
                Attempt::Fault(fault) => self.refuse(&fault.text),
            })?;
        let result = body.child("LoginResult").ok_or_else(|| {
            ConnectorError::Transient("Cvent's Login answer has no LoginResult".into())
        })?;
        let value = |name: &str| {
            result
                .attribute(name)
                .or_else(|| result.child_text(name))
                .unwrap_or_default()
                .to_string()
        };
        if !value("LoginSuccess").eq_ignore_ascii_case("true") {
            return Err(self.refuse(&value("ErrorMessage")));
        }
        let server_url = value("ServerURL");
        let header = value("CventSessionHeader");
        if header.is_empty() {
            return Err(ConnectorError::Transient(
                "Cvent's Login answer has no CventSessionHeader".into(),
            ));
        }
        Ok(Session {
            // An empty ServerURL leaves the session on the login host.
            server_url: if server_url.is_empty() {
                c.login_url.clone()
            } else {
                server_url
            },
            header,
        })
    }

    /// Remembers a refused login and says what to check.
    fn refuse(&self, cvent_said: &str) -> ConnectorError {
        let message = format!(
            "Cvent denied the login: check account number, user name and password, and that this machine's IP address is allowed for the API user (connection '{}'; Cvent said: \"{}\"). eventsync will not try again in this run, since repeated failures lock the account for 30 minutes",
            self.credentials.connection, cvent_said
        );
        *self.refused.lock().unwrap_or_else(|p| p.into_inner()) = Some(message.clone());
        ConnectorError::Auth(message)
    }

    async fn current_session(&self, renew: bool) -> Result<Session, ConnectorError> {
        let mut session = self.session.lock().await;
        if renew {
            *session = None;
        }
        if let Some(current) = session.as_ref() {
            return Ok(current.clone());
        }
        let fresh = self.login().await?;
        *session = Some(fresh.clone());
        Ok(fresh)
    }

    /// Calls an operation with the session: logs in first if needed, logs in again once on a
    /// session fault, retries server faults and dropped connections with backoff, and stops on
    /// the quota.
    pub async fn call(&self, operation: &str, inner: &str) -> Result<Element, CallError> {
        let mut renewed = false;
        let mut attempt = 0;
        loop {
            let session = self.current_session(false).await?;
            if let Err(exhausted) = self.budget.acquire().await {
                return Err(ConnectorError::QuotaExhausted {
                    resets_at: exhausted.resets_at.to_rfc3339(),
                }
                .into());
            }
            self.calls.fetch_add(1, Ordering::Relaxed);
            let outcome = self
                .send(&session.server_url, Some(&session.header), operation, inner)
                .await;
            let (failure, given_up) = match outcome {
                Ok(body) => return Ok(body),
                Err(Attempt::Fault(fault)) if is_session_fault(&fault.code) && !renewed => {
                    tracing::info!(code = %fault.code, "Cvent session ended; logging in again");
                    renewed = true;
                    self.current_session(true).await?;
                    continue;
                }
                Err(Attempt::Fault(fault)) if fault.code == "CV30100" => {
                    let resets_at = next_midnight_utc(chrono::Utc::now());
                    self.budget.vendor_exhausted(resets_at).await;
                    return Err(ConnectorError::QuotaExhausted {
                        resets_at: resets_at.to_rfc3339(),
                    }
                    .into());
                }
                Err(Attempt::Fault(fault)) if is_transient_fault(&fault.code) => (
                    Failure::Answered(format!(
                        "Cvent answered {operation} with fault {} ({})",
                        fault.code, fault.text
                    )),
                    CallError::Fault(fault),
                ),
                Err(Attempt::Fault(fault)) => return Err(CallError::Fault(fault)),
                Err(Attempt::Stop(error)) => return Err(CallError::Stop(error)),
                Err(Attempt::Retry(failure)) => {
                    let error = ConnectorError::Transient(format!(
                        "{} (after {} attempts)",
                        failure.text(),
                        attempt + 1
                    ));
                    (failure, CallError::Stop(error))
                }
            };
            tracing::info!(failure = failure.text(), operation, "a Cvent call failed");
            if !self.retry.wait(&failure, attempt).await {
                return Err(given_up);
            }
            attempt += 1;
        }
    }

    /// Posts one envelope; the Body's first element, or the fault.
    async fn send(
        &self,
        url: &str,
        session: Option<&str>,
        operation: &str,
        inner: &str,
    ) -> Result<Element, Attempt> {
        let header = session
            .map(|value| {
                format!(
                    "<soap:Header><CventSessionHeader xmlns=\"{API_NS}\"><CventSessionValue>{}</CventSessionValue></CventSessionHeader></soap:Header>",
                    escape(value)
                )
            })
            .unwrap_or_default();
        let envelope = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"{SOAP_NS}\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">{header}<soap:Body><{operation} xmlns=\"{API_NS}\">{inner}</{operation}></soap:Body></soap:Envelope>"
        );
        let response = self
            .http
            .post(url)
            .header("Content-Type", "text/xml; charset=utf-8")
            .header("SOAPAction", format!("\"{API_NS}/{operation}\""))
            .body(envelope)
            .send()
            .await
            .map_err(|e| {
                let described = if e.is_connect() && !e.is_timeout() {
                    format!(
                        "cannot connect to Cvent at {url}: nothing answers there (check the connection's host or base_url, and the network): {}",
                        plain(&e)
                    )
                } else {
                    format!("cannot reach Cvent at {url}: {}", plain(&e))
                };
                Attempt::Retry(Failure::of_transport(&e, described))
            })?;
        self.clock.observe(response.headers());
        self.retry.reached();
        let status = response.status();
        let text = response.text().await.map_err(|e| {
            Attempt::Retry(Failure::Answered(format!(
                "Cvent's answer to {operation} broke off: {}",
                plain(&e)
            )))
        })?;
        let body = xml::parse(&text)
            .ok()
            .and_then(|root| root.child("Body").and_then(|b| b.children.first()).cloned());
        match body {
            Some(fault) if fault.name == "Fault" => {
                let code = fault.child_text("faultcode").unwrap_or_default();
                // `q0:CV10105`: the number is what counts, whatever the prefix.
                let code = code.rsplit(':').next().unwrap_or(code).to_string();
                Err(Attempt::Fault(Fault {
                    code,
                    text: fault
                        .child_text("faultstring")
                        .unwrap_or_default()
                        .to_string(),
                }))
            }
            Some(body) if status.is_success() => Ok(body),
            _ if status.is_server_error() => Err(Attempt::Retry(Failure::Answered(format!(
                "Cvent answered {operation} with HTTP {status}"
            )))),
            _ => Err(Attempt::Stop(ConnectorError::Rejected(format!(
                "Cvent answered {operation} with HTTP {status} and no SOAP body"
            )))),
        }
    }
}

/// Why one attempt failed: a fault, something worth another attempt, or an end.
enum Attempt {
    Fault(Fault),
    Retry(Failure),
    Stop(ConnectorError),
}

/// An HTTP error without the URL's query, which never holds secrets here but keeps messages short.
fn plain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

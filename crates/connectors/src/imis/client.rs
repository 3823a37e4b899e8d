//! HTTP to one iMIS site: the bearer token, retries, and what an answer that is not a success
//! means.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;
use tokio::sync::Mutex;

use super::envelope::{field, integer, text, text_of, values_of};
use crate::retry::{Failure, Retrier};
use crate::{ConnectorError, RetryPolicy, WaitObserver};

/// The token lifetime assumed when iMIS does not state one: its usual twenty minutes.
const DEFAULT_TOKEN_SECONDS: i64 = 1_199;

/// How much of an error body that is not iMIS's JSON is kept in a message.
const SNIPPET_CHARS: usize = 300;

/// The longest `Retry-After` waited for; a vendor asking for more is reported as throttling.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// How a throttled call is described; a call still throttled after every retry is `Throttled`.
const THROTTLED: &str = "iMIS answered 429 Too Many Requests";

#[derive(Debug, Clone)]
struct Token {
    value: String,
    /// When to stop using it: a little before it expires.
    renew_at: Instant,
}

/// The longest a token is used, whatever lifetime iMIS states.
const MAX_TOKEN_SECONDS: i64 = 24 * 60 * 60;

/// When to renew a token that lives `expires_in` seconds: a minute before it expires, or half
/// way through its life when that life is shorter than two minutes.
fn renew_after(expires_in: i64) -> Duration {
    let lifetime = expires_in.clamp(0, MAX_TOKEN_SECONDS) as u64;
    let margin = (lifetime / 2).min(60);
    Duration::from_secs(lifetime - margin)
}

/// An answer the caller interprets: a success, or a refusal that retrying would not change.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub body: bytes::Bytes,
    /// What was asked, as messages name it: `GET /api/Party/23051`.
    pub action: String,
}

impl Answer {
    /// The body of a success as JSON (null when empty); the refusal otherwise.
    pub fn into_json(self) -> Result<Value, ConnectorError> {
        if !self.status.is_success() {
            return Err(self.refusal());
        }
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.body).map_err(|_| {
            ConnectorError::Rejected(format!(
                "iMIS answered {} with something other than JSON: {} (check that site_url is the iMIS site)",
                self.action,
                snippet(&self.body)
            ))
        })
    }

    pub fn is_not_found(&self) -> bool {
        self.status == StatusCode::NOT_FOUND
    }

    /// The error an answer that is no success stands for, with iMIS's own words.
    pub fn refusal(&self) -> ConnectorError {
        refusal(self.status, &self.body, &self.action)
    }
}

/// The error for a refused request: iMIS's messages verbatim, in the variant its status means.
pub(crate) fn refusal(status: StatusCode, body: &[u8], action: &str) -> ConnectorError {
    let message = error_message(body).unwrap_or_else(|| status.to_string());
    match status.as_u16() {
        404 => ConnectorError::NotFound(format!("iMIS answered {action} with 404: {message}")),
        403 => ConnectorError::Forbidden {
            scope: action.to_string(),
            message: format!("iMIS refused {action} (403): {message}"),
        },
        500..=599 => {
            ConnectorError::Transient(format!("iMIS answered {action} with {status}: {message}"))
        }
        _ => ConnectorError::Rejected(format!("iMIS refused {action} ({status}): {message}")),
    }
}

/// What an error body says: the messages of iMIS's `Errors` collection joined with "; ", the
/// `Message` of a framework error, an OAuth `error_description`, or else the body's own text,
/// trimmed and cut short. `None` for an empty body.
pub(crate) fn error_message(body: &[u8]) -> Option<String> {
    if let Ok(json) = serde_json::from_slice::<Value>(body)
        && let Some(message) = json_error_message(&json)
    {
        return Some(message);
    }
    let text = snippet(body);
    (!text.is_empty()).then_some(text)
}

fn json_error_message(json: &Value) -> Option<String> {
    if let Value::String(text) = json {
        let text = text.trim();
        return (!text.is_empty()).then(|| text.to_string());
    }
    let messages: Vec<String> = values_of(json, "Errors")
        .iter()
        .filter_map(|error| match error {
            Value::String(text) => Some(text.trim().to_string()),
            other => text_of(other, "Message"),
        })
        .filter(|message| !message.is_empty())
        .collect();
    if !messages.is_empty() {
        return Some(messages.join("; "));
    }
    let message = text_of(json, "Message")
        .or_else(|| text_of(json, "error_description"))
        .or_else(|| text_of(json, "error"))?;
    Some(match text_of(json, "ExceptionMessage") {
        Some(detail) if detail != message => format!("{message} {detail}"),
        _ => message,
    })
}

/// A body as text, trimmed and cut after `SNIPPET_CHARS` characters.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(SNIPPET_CHARS) {
        Some((cut, _)) => format!("{}…", text[..cut].trim_end()),
        None => text.to_string(),
    }
}

/// How long `Retry-After` asks to wait: seconds, or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.signed_duration_since(chrono::Utc::now());
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// The HTTP client of one iMIS connection.
pub(crate) struct Client {
    http: reqwest::Client,
    /// The site, its path ending in `/` so that joining keeps a virtual directory.
    site: Url,
    connection: String,
    username: String,
    password: String,
    token: Mutex<Option<Token>>,
    retry: Retrier,
    token_requests: AtomicU64,
    calls: AtomicU64,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("site", &self.site.as_str())
            .field("connection", &self.connection)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Why a request got no answer, described without its URL's query.
fn transport_failure(error: reqwest::Error, action: &str) -> Failure {
    let error = error.without_url();
    let described = if error.is_timeout() {
        format!("timed out waiting for iMIS to answer {action}")
    } else if error.is_connect() {
        format!(
            "cannot connect to iMIS for {action}: nothing answers there (check site_url and the network)"
        )
    } else {
        format!("calling iMIS {action} failed: {error}")
    };
    Failure::of_transport(&error, described)
}

impl Client {
    pub fn new(
        site: Url,
        connection: String,
        username: String,
        password: String,
        retry: RetryPolicy,
    ) -> Client {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .user_agent(concat!("eventsync/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Client {
            http,
            site,
            connection,
            username,
            password,
            token: Mutex::new(None),
            retry: Retrier::new(retry),
            token_requests: AtomicU64::new(0),
            calls: AtomicU64::new(0),
        }
    }

    pub fn connection(&self) -> &str {
        &self.connection
    }

    pub fn observe_waits(&self, observer: Option<WaitObserver>) {
        self.retry.observe(observer);
    }

    /// Token requests sent so far.
    pub fn token_requests(&self) -> u64 {
        self.token_requests.load(Ordering::Relaxed)
    }

    /// `/api` requests sent so far, retries included.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// The site's URL for `segments`, each one percent-encoded as a path segment.
    pub fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.site.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// A fresh token, replacing the cached one.
    pub async fn sign_in(&self) -> Result<(), ConnectorError> {
        let mut cached = self.token.lock().await;
        *cached = Some(self.request_token().await?);
        Ok(())
    }

    /// The token to send: the cached one while it is good and is not `stale` (the one a 401
    /// just refused), else a new one. Callers wait for each other, so a token refused by
    /// several calls at once is renewed once.
    async fn bearer(&self, stale: Option<&str>) -> Result<String, ConnectorError> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref()
            && token.renew_at > Instant::now()
            && stale != Some(token.value.as_str())
        {
            return Ok(token.value.clone());
        }
        let token = self.request_token().await?;
        let value = token.value.clone();
        *cached = Some(token);
        Ok(value)
    }

    async fn request_token(&self) -> Result<Token, ConnectorError> {
        let url = self.url(&["token"]);
        let action = "POST /token";
        let form = [
            ("grant_type", "password"),
            ("username", self.username.as_str()),
            ("password", self.password.as_str()),
        ];
        let connection = &self.connection;
        let mut retry = 0;
        loop {
            self.token_requests.fetch_add(1, Ordering::Relaxed);
            let sent = self
                .http
                .post(url.clone())
                .header(ACCEPT, "application/json")
                .form(&form)
                .send()
                .await;
            let (failure, wanted_wait) = match sent {
                Ok(response) => {
                    self.retry.reached();
                    let status = response.status();
                    let wanted_wait = retry_after(response.headers());
                    match response.bytes().await {
                        Ok(body) => match status.as_u16() {
                            200..=299 => return self.token_of(&body),
                            400 | 401 | 403 => {
                                let message =
                                    error_message(&body).unwrap_or_else(|| status.to_string());
                                return Err(ConnectorError::Auth(format!(
                                    "iMIS refused to sign in user '{}' for connection '{connection}': {message} (check the iMIS user name and password)",
                                    self.username
                                )));
                            }
                            404 => {
                                return Err(ConnectorError::Config(format!(
                                    "iMIS has no token endpoint at {url} for connection '{connection}': check site_url (the iMIS site, with its virtual directory if it has one)"
                                )));
                            }
                            429 => (Failure::Answered(THROTTLED.to_string()), wanted_wait),
                            500..=599 => (
                                Failure::Answered(format!("iMIS answered {action} with {status}")),
                                wanted_wait,
                            ),
                            _ => return Err(refusal(status, &body, action)),
                        },
                        Err(error) => (transport_failure(error, action), None),
                    }
                }
                Err(error) => (transport_failure(error, action), None),
            };
            if !self.wait(&failure, wanted_wait, retry).await {
                return Err(self.gave_up(&failure, retry, "could not sign in to iMIS: "));
            }
            retry += 1;
        }
    }

    fn token_of(&self, body: &[u8]) -> Result<Token, ConnectorError> {
        let connection = &self.connection;
        let Ok(json) = serde_json::from_slice::<Value>(body) else {
            return Err(ConnectorError::Config(format!(
                "iMIS answered the sign-in for connection '{connection}' with something other than JSON: {} (check that site_url is the iMIS site)",
                snippet(body)
            )));
        };
        let value = field(&json, "access_token")
            .and_then(text)
            .filter(|value| !value.is_empty());
        let Some(value) = value else {
            return Err(ConnectorError::Auth(format!(
                "iMIS answered the sign-in for connection '{connection}' without an access_token"
            )));
        };
        let expires_in = field(&json, "expires_in")
            .and_then(integer)
            .unwrap_or(DEFAULT_TOKEN_SECONDS);
        Ok(Token {
            value,
            renew_at: Instant::now() + renew_after(expires_in),
        })
    }

    /// Sends one `/api` request with the bearer token, retrying throttling, server errors and
    /// dropped connections, and renewing the token once on a 401. Answers anything else,
    /// success or refusal, for the caller to read.
    ///
    /// A `POST` creates, and iMIS has no idempotency key: it is sent again only when iMIS
    /// surely did not act on it (429, 503, or no connection made). After any other failure the
    /// caller hears of it and can look for what it created before trying again.
    pub async fn call(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Answer, ConnectorError> {
        let url = self.url(segments);
        let action = format!("{method} /{}", segments.join("/"));
        let repeatable = method != Method::POST;
        let mut retry = 0;
        let mut stale: Option<String> = None;
        loop {
            let bearer = self.bearer(stale.as_deref()).await?;
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(&bearer)
                .header(ACCEPT, "application/json")
                .query(query);
            if let Some(body) = body {
                request = request.json(body);
            }
            self.calls.fetch_add(1, Ordering::Relaxed);
            // Whether iMIS surely did not act on the request: it refused it for now (429, 503)
            // or no connection was made.
            let (failure, wanted_wait, not_acted_on) = match request.send().await {
                Ok(response) => {
                    self.retry.reached();
                    let status = response.status();
                    let wanted_wait = retry_after(response.headers());
                    match response.bytes().await {
                        Ok(body) => match status.as_u16() {
                            401 if stale.is_none() => {
                                tracing::debug!(%action, "iMIS refused the token; renewing it");
                                stale = Some(bearer);
                                continue;
                            }
                            401 => {
                                let message =
                                    error_message(&body).unwrap_or_else(|| status.to_string());
                                return Err(ConnectorError::Auth(format!(
                                    "iMIS refused a fresh token for {action} on connection '{}' ({message}): check the iMIS user name and password, and that the user may use the REST API",
                                    self.connection
                                )));
                            }
                            429 => (Failure::Answered(THROTTLED.to_string()), wanted_wait, true),
                            503 => (
                                Failure::Answered(format!("iMIS answered {action} with {status}")),
                                wanted_wait,
                                true,
                            ),
                            500..=599 if repeatable => (
                                Failure::Answered(format!("iMIS answered {action} with {status}")),
                                wanted_wait,
                                false,
                            ),
                            _ => {
                                return Ok(Answer {
                                    status,
                                    body,
                                    action,
                                });
                            }
                        },
                        Err(error) => (transport_failure(error, &action), None, false),
                    }
                }
                Err(error) => {
                    let failure = transport_failure(error, &action);
                    let unsent = matches!(failure, Failure::Unreachable(_));
                    (failure, None, unsent)
                }
            };
            tracing::debug!(%action, failure = failure.text(), retry, "an iMIS call failed");
            if !repeatable && !not_acted_on {
                return Err(ConnectorError::Transient(format!(
                    "{}; iMIS may have carried it out",
                    failure.text()
                )));
            }
            if !self.wait(&failure, wanted_wait, retry).await {
                return Err(self.gave_up(&failure, retry, ""));
            }
            retry += 1;
        }
    }

    /// Waits before another attempt with the shared backoff, and longer when iMIS asked for
    /// it with `Retry-After`; false when the call should give up.
    async fn wait(&self, failure: &Failure, wanted: Option<Duration>, retry: u32) -> bool {
        if wanted.is_some_and(|wanted| wanted > MAX_RETRY_AFTER) {
            return false;
        }
        let answered_at = Instant::now();
        if !self.retry.wait(failure, retry).await {
            return false;
        }
        if let Some(rest) = wanted.and_then(|wanted| wanted.checked_sub(answered_at.elapsed())) {
            tokio::time::sleep(rest).await;
        }
        true
    }

    fn gave_up(&self, failure: &Failure, retry: u32, prefix: &str) -> ConnectorError {
        let message = format!("{prefix}{} (after {} attempts)", failure.text(), retry + 1);
        if failure.text() == THROTTLED {
            ConnectorError::Throttled(message)
        } else {
            ConnectorError::Transient(message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_collections_are_joined_verbatim() {
        let body = br#"{"$type": "Asi.Soa.Core.DataContracts.ValidateResultsData, Asi.Contracts",
            "Errors": {"$type": "Asi.Soa.Core.DataContracts.ValidateResultDataCollection, Asi.Contracts",
            "$values": [
                {"$type": "Asi.Soa.Core.DataContracts.ValidateResultData, Asi.Contracts", "Message": "Activity type 'X' is not valid.", "ResultCode": "Error"},
                {"$type": "Asi.Soa.Core.DataContracts.ValidateResultData, Asi.Contracts", "Message": "Party '9' was not found."}
            ]}}"#;
        assert_eq!(
            error_message(body).as_deref(),
            Some("Activity type 'X' is not valid.; Party '9' was not found.")
        );
        let plain_array = br#"{"Errors": [{"message": "Bad."}]}"#;
        assert_eq!(error_message(plain_array).as_deref(), Some("Bad."));
    }

    #[test]
    fn other_error_shapes_are_read_too() {
        let cases: [(&[u8], Option<&str>); 7] = [
            (
                br#"{"Message":"Authorization has been denied for this request."}"#,
                Some("Authorization has been denied for this request."),
            ),
            (
                br#"{"error":"invalid_grant","error_description":"The user name or password is incorrect."}"#,
                Some("The user name or password is incorrect."),
            ),
            (br#"{"error":"unsupported_grant_type"}"#, Some("unsupported_grant_type")),
            (b"  Service Unavailable\r\n", Some("Service Unavailable")),
            (br#""quoted""#, Some("quoted")),
            (b"", None),
            (
                br#"{"Message":"An error has occurred.","ExceptionMessage":"Timeout expired."}"#,
                Some("An error has occurred. Timeout expired."),
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(
                error_message(body).as_deref(),
                expected,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn long_pages_are_cut_short() {
        let html = format!("<html><body>{}</body></html>", "é".repeat(1_000));
        let message = error_message(html.as_bytes()).expect("a message");
        assert_eq!(message.chars().count(), SNIPPET_CHARS + 1);
        assert!(message.starts_with("<html><body>é"));
        assert!(message.ends_with('…'));
    }

    #[test]
    fn statuses_choose_the_variant() {
        let errors = br#"{"Errors":{"$values":[{"Message":"The query '$/X' was not found."}]}}"#;
        let found = refusal(StatusCode::NOT_FOUND, errors, "GET /api/query");
        assert_eq!(
            found,
            ConnectorError::NotFound(
                "iMIS answered GET /api/query with 404: The query '$/X' was not found.".into()
            )
        );
        let forbidden = refusal(StatusCode::FORBIDDEN, errors, "GET /api/query");
        assert!(
            matches!(&forbidden, ConnectorError::Forbidden { message, .. } if message.ends_with("The query '$/X' was not found."))
        );
        let rejected = refusal(StatusCode::BAD_REQUEST, errors, "POST /api/Activity");
        assert!(matches!(rejected, ConnectorError::Rejected(_)));
        let conflict = refusal(StatusCode::CONFLICT, b"", "POST /api/Event");
        assert_eq!(
            conflict,
            ConnectorError::Rejected(
                "iMIS refused POST /api/Event (409 Conflict): 409 Conflict".into()
            )
        );
        let failed = refusal(
            StatusCode::BAD_GATEWAY,
            b"Bad gateway",
            "POST /api/Activity",
        );
        assert!(matches!(failed, ConnectorError::Transient(_)));
    }

    #[test]
    fn tokens_are_renewed_a_minute_early_or_half_way() {
        assert_eq!(renew_after(1_199), Duration::from_secs(1_139));
        assert_eq!(renew_after(120), Duration::from_secs(60));
        assert_eq!(renew_after(60), Duration::from_secs(30));
        assert_eq!(renew_after(1), Duration::from_secs(1));
        assert_eq!(renew_after(0), Duration::ZERO);
        assert_eq!(renew_after(-5), Duration::ZERO);
        assert_eq!(renew_after(i64::MAX), Duration::from_secs(86_340));
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_a_date() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(RETRY_AFTER, "3".parse().expect("header"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().expect("header"),
        );
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
        headers.insert(RETRY_AFTER, "soon".parse().expect("header"));
        assert_eq!(retry_after(&headers), None);
    }
}

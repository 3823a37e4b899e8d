//! Cvent's REST Platform API (`/ea`).
//!
//! - Auth: OAuth2 client credentials — HTTP Basic with the client id and secret, form
//!   `grant_type=client_credentials&client_id=…&scope=…`; the bearer token lasts `expires_in`
//!   seconds (3600) and is renewed 5 minutes early and once on a 401.
//! - Hosts: `na` → `https://api-platform.cvent.com/ea`, `eu` → `https://api-platform-eur.cvent.com/ea`,
//!   or an explicit `base_url`. The event code is resolved with `GET /events?filter=code eq '…'`.
//! - Paging: `limit=200` (the maximum) and `paging.nextToken` until it is absent; an empty last
//!   page and a missing `totalCount` are normal. Filters go through the `POST …/filter` endpoints,
//!   which accept longer filters than a query string.
//! - Answers: attendees are listed with `expand=answers.question`, so each answer holds its
//!   question's text and code, not its id alone.
//! - Incremental pulls: `lastModified ge '<cursor>'` — records at the boundary come back again and
//!   diff as unchanged, so nothing modified in the same millisecond as the cursor is ever missed.
//! - Travel (`event-travel/air-requests`, `…/hotel-requests`): one item per attendee holding
//!   their and their guests' requests, split into one record per request (`travel.rs`);
//!   incremental pulls ask `after` (exclusive, so a millisecond before the cursor); the only
//!   filter is `attendee.id eq` joined by `or`, 17 terms at most.
//! - Rate limits: per account by tier (`GET /usage/tier`); `429 Too Many Requests` is retried
//!   with backoff, `429 Limit Exceeded` stops the run until midnight UTC.
//! - Writes: session enrollment and check-in (`write.rs`); inviting a person to the event and
//!   reading their registration link (`invitees.rs`).

mod client;
mod defaults;
mod invitees;
mod ranges;
pub mod travel;
mod write;

use std::sync::Arc;

use pipeline::DataType;
use reqwest::{Method, StatusCode};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio::sync::OnceCell;

pub use crate::RetryPolicy;
pub use client::Credentials;
use client::{Client, error_reason};
pub use invitees::{INVITE_SCOPES, Invitee, InviteeContact};
pub use write::{CHECK_IN_BATCH, CheckIn, CheckInResult, WRITE_SCOPES};

use crate::budget::{Limits, RateBudget};
use crate::{
    CheckReport, ConnectorError, PullMode, PullSpec, StatusQuery, VendorPage, VendorRecord,
};

pub const KIND: &str = "cvent-rest";

pub const DATA_TYPES: &[DataType] = &[
    DataType::People,
    DataType::Speakers,
    DataType::Sessions,
    DataType::SessionRegistrations,
    DataType::Locations,
    DataType::Sponsors,
    DataType::SponsorLevels,
    DataType::AirRequests,
    DataType::HotelRequests,
];

/// Cvent's attendee statuses, spelt as the API sends them (`attendee-status.json`).
pub const ATTENDEE_STATUSES: &[&str] = &[
    "No Response",
    "Accepted",
    "Declined",
    "Visited",
    "Waitlisted",
    "Cancelled",
    "Pending Approval",
    "Denied Approval",
];

/// The attendee statuses imported unless the configuration says otherwise: people who are
/// coming.
pub const DEFAULT_ATTENDEE_STATUSES: &[&str] = &["Accepted"];

pub fn status_vocabulary(data_type: DataType) -> Option<crate::StatusVocabulary> {
    (data_type == DataType::People).then_some(crate::StatusVocabulary {
        valid: ATTENDEE_STATUSES,
        default: DEFAULT_ATTENDEE_STATUSES,
    })
}

pub fn status_path(data_type: DataType) -> Option<&'static str> {
    (data_type == DataType::People).then_some("status")
}

/// Attendees answer event questions in `answers[]` (`{question: {id, text, code, …}, value:
/// [text…]}`, the question expanded) and fill their contact's custom fields in
/// `contact.customFields[]` (`{id, name, value: [text…]}`).
const PEOPLE_ANSWERS: [pipeline::rules::labels::AnswerPaths; 2] = [
    pipeline::rules::labels::AnswerPaths {
        list: "answers",
        question_id: "question.id",
        question_text: "question.text",
        value: "value",
    },
    pipeline::rules::labels::AnswerPaths {
        list: "contact.customFields",
        question_id: "id",
        question_text: "name",
        value: "value",
    },
];

/// Where a data type's records keep answers that data labels can name.
pub fn answer_paths(data_type: DataType) -> &'static [pipeline::rules::labels::AnswerPaths] {
    match data_type {
        DataType::People => &PEOPLE_ANSWERS,
        _ => &[],
    }
}

const PEOPLE_QUESTION_ANSWERS: [crate::QuestionAnswers; 2] = [
    crate::QuestionAnswers {
        paths: PEOPLE_ANSWERS[0],
        keyed_by_id: false,
        labels: true,
    },
    crate::QuestionAnswers {
        paths: PEOPLE_ANSWERS[1],
        keyed_by_id: false,
        labels: true,
    },
];

/// Where a data type's records hold answers with their questions' texts: the answers data
/// labels can name.
pub fn question_answers(data_type: DataType) -> &'static [crate::QuestionAnswers] {
    match data_type {
        DataType::People => &PEOPLE_QUESTION_ANSWERS,
        _ => &[],
    }
}

/// The filter clause selecting statuses, `None` when every status is wanted. `not in` is not
/// part of Cvent's grammar, so excluded statuses become a conjunction of `ne`.
fn status_clause(data_type: DataType, statuses: &StatusQuery) -> Option<String> {
    let path = status_path(data_type)?;
    match statuses {
        StatusQuery::Any => None,
        StatusQuery::In(list) if list.is_empty() => None,
        StatusQuery::In(list) => Some(format!(
            "{path} in ({})",
            list.iter().map(|s| quote(s)).collect::<Vec<_>>().join(",")
        )),
        StatusQuery::NotIn(list) if list.is_empty() => None,
        StatusQuery::NotIn(list) => Some(
            list.iter()
                .map(|s| format!("{path} ne {}", quote(s)))
                .collect::<Vec<_>>()
                .join(" and "),
        ),
    }
}

/// The largest page Cvent serves.
pub const PAGE_SIZE: u32 = 200;

pub use defaults::default_mapping;

/// Where a Cvent account lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    NorthAmerica,
    Europe,
}

impl Region {
    pub fn parse(text: &str) -> Option<Region> {
        match text.to_ascii_lowercase().as_str() {
            "na" => Some(Region::NorthAmerica),
            "eu" => Some(Region::Europe),
            _ => None,
        }
    }

    pub fn base_url(self) -> &'static str {
        match self {
            Region::NorthAmerica => "https://api-platform.cvent.com/ea",
            Region::Europe => "https://api-platform-eur.cvent.com/ea",
        }
    }
}

/// A connection's settings.
#[derive(Debug, Clone)]
pub struct CventRestConfig {
    pub connection: String,
    pub base_url: String,
    pub event_code: String,
    pub client_id: String,
    pub client_secret: String,
    pub retry: RetryPolicy,
}

/// The account a connection uses, as its rate budget is keyed: one API client at one base URL,
/// whatever events it reads.
pub fn account_key(base_url: &str, client_id: &str) -> String {
    format!("{KIND}:{base_url}:{client_id}")
}

/// What a previous run learned about the account, so later runs need not ask again.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Facts {
    pub event_id: Option<String>,
    pub event_title: Option<String>,
    /// When the event starts (Cvent's `start`, RFC 3339): the account plan syncs events that are
    /// sooner more often.
    #[serde(default)]
    pub event_start: Option<String>,
    /// When the event ends (Cvent's `end`, RFC 3339): auto sync stops a week after it.
    #[serde(default)]
    pub event_end: Option<String>,
    /// When the event was created (RFC 3339): none of its records is older, so a full listing
    /// is split into ranges of creation time from there (`ranges.rs`).
    #[serde(default)]
    pub event_created: Option<String>,
    /// When the event was read (RFC 3339); re-read daily, since an event can be rescheduled.
    #[serde(default)]
    pub event_read_at: Option<String>,
    pub per_second: Option<f64>,
    pub burst: Option<f64>,
    pub daily_quota: Option<u64>,
    /// When the tier was read (RFC 3339); re-read daily, since tiers can switch back.
    pub tier_read_at: Option<String>,
}

/// Whether a fact read at `at` (RFC 3339) is less than a day old.
fn read_today(at: Option<&str>) -> bool {
    at.and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .is_some_and(|t| {
            chrono::Utc::now() - t.with_timezone(&chrono::Utc) < chrono::Duration::hours(24)
        })
}

/// The scope each data type needs.
pub fn scope_for(data_type: DataType) -> &'static str {
    match data_type {
        DataType::People => "event/attendees:read",
        DataType::Sessions | DataType::Locations => "event/sessions:read",
        DataType::Speakers => "event/speakers:read",
        DataType::SessionRegistrations => "event/session-enrollment:read",
        DataType::Sponsors => "exhibitor/exhibitors:read",
        DataType::SponsorLevels => "exhibitor/sponsorship-levels:read",
        DataType::AirRequests => "event/air-request:read",
        DataType::HotelRequests => "event/hotel-request:read",
    }
}

pub fn supports_incremental(data_type: DataType) -> bool {
    matches!(
        data_type,
        DataType::People
            | DataType::Sessions
            | DataType::Speakers
            | DataType::SessionRegistrations
            | DataType::AirRequests
            | DataType::HotelRequests
    )
}

/// Travel requests can be listed by the attendees they are filed under.
pub fn by_attendee(data_type: DataType) -> bool {
    travel::listing(data_type).is_some()
}

/// Quotes a filter value as Cvent's grammar wants: single quotes, or double quotes with `\"`
/// escapes when the value holds a single quote.
pub fn quote(value: &str) -> String {
    if value.contains('\'') {
        format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        format!("'{value}'")
    }
}

/// Read for data labels on people when the application has it; Cvent ignores a requested scope
/// the application lacks, so asking costs nothing without it.
const CUSTOM_FIELDS_SCOPE: &str = "event/custom-fields:read";

/// The scopes that reading `data_types` needs.
fn read_scopes(data_types: &[DataType]) -> Vec<String> {
    let mut scopes = vec!["event/events:read".to_string()];
    for data_type in data_types {
        let scope = scope_for(*data_type).to_string();
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    if data_types.contains(&DataType::People) {
        scopes.push(CUSTOM_FIELDS_SCOPE.to_string());
    }
    scopes
}

/// A Cvent REST connection.
pub struct CventRest {
    config: CventRestConfig,
    client: Client,
    facts: tokio::sync::Mutex<Facts>,
    event_id: OnceCell<String>,
    tier_loaded: OnceCell<()>,
}

impl CventRest {
    /// A read-only connector: it asks for the scopes reading `data_types` needs.
    pub fn new(
        config: CventRestConfig,
        data_types: &[DataType],
        facts: Facts,
    ) -> Result<CventRest, ConnectorError> {
        CventRest::with_scopes(config, read_scopes(data_types), facts)
    }

    /// A connector that may also write back (session enrollment, check-in) and invite people
    /// (`invite`): it asks for [`WRITE_SCOPES`] and [`INVITE_SCOPES`] besides the read scopes
    /// of `data_types`.
    pub fn for_writes(
        config: CventRestConfig,
        data_types: &[DataType],
        facts: Facts,
    ) -> Result<CventRest, ConnectorError> {
        let mut scopes = read_scopes(data_types);
        for scope in WRITE_SCOPES.iter().chain(INVITE_SCOPES) {
            if !scopes.iter().any(|held| held == scope) {
                scopes.push(scope.to_string());
            }
        }
        CventRest::with_scopes(config, scopes, facts)
    }

    fn with_scopes(
        config: CventRestConfig,
        scopes: Vec<String>,
        facts: Facts,
    ) -> Result<CventRest, ConnectorError> {
        if config.client_id.trim().is_empty() || config.client_secret.trim().is_empty() {
            return Err(ConnectorError::Config(format!(
                "connection '{}' needs client_id and client_secret",
                config.connection
            )));
        }
        if config.event_code.trim().is_empty() {
            return Err(ConnectorError::Config(format!(
                "connection '{}' needs an event_code",
                config.connection
            )));
        }
        let budget = RateBudget::for_account(&account_key(&config.base_url, &config.client_id));
        if let (Some(per_second), Some(burst)) = (facts.per_second, facts.burst) {
            budget.set_limits(Limits {
                per_second,
                burst,
                daily_quota: facts.daily_quota,
            });
        }
        let credentials = Credentials {
            connection: config.connection.clone(),
            base_url: config.base_url.trim_end_matches('/').to_string(),
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            scopes,
        };
        let client = Client::new(credentials, budget, config.retry);
        let event_id = OnceCell::new();
        if let Some(id) = &facts.event_id
            && read_today(facts.event_read_at.as_deref())
        {
            let _ = event_id.set(id.clone());
        }
        let tier_loaded = OnceCell::new();
        if read_today(facts.tier_read_at.as_deref()) && facts.per_second.is_some() {
            let _ = tier_loaded.set(());
        }
        Ok(CventRest {
            config,
            client,
            facts: tokio::sync::Mutex::new(facts),
            event_id,
            tier_loaded,
        })
    }

    /// The vendor's clock, as its answers state it.
    pub fn clock(&self) -> &crate::VendorClock {
        self.client.clock()
    }

    /// Tells `observer` of every wait between attempts of a call (`None`: no one).
    pub fn observe_waits(&self, observer: Option<crate::WaitObserver>) {
        self.client.observe_waits(observer);
    }

    pub fn calls(&self) -> u64 {
        self.client.calls()
    }

    /// The account's rate budget, shared by every connector of the account in this process.
    pub fn budget(&self) -> &RateBudget {
        self.client.budget()
    }

    /// What this connection has learned, for the next run.
    pub async fn facts(&self) -> Facts {
        self.facts.lock().await.clone()
    }

    async fn list_call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value, ConnectorError> {
        self.list_call_bytes(method, path, query, body)
            .await
            .map(|bytes| serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    /// A successful response's body as Cvent sent it, or the error it means.
    async fn list_call_bytes(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<bytes::Bytes, ConnectorError> {
        let answer = self.client.call(method, path, query, body).await?;
        let status = answer.status;
        match status {
            s if s.is_success() => Ok(answer.body),
            StatusCode::FORBIDDEN => Err(ConnectorError::Forbidden {
                scope: String::new(),
                message: format!("Cvent refused {path}: {}", error_reason(&answer.json())),
            }),
            StatusCode::NOT_FOUND => Err(ConnectorError::NotFound(format!("Cvent has no {path}"))),
            _ => Err(ConnectorError::Rejected(format!(
                "Cvent refused {path} ({status}): {}",
                error_reason(&answer.json())
            ))),
        }
    }

    /// Reads the account's tier once and sets the shared budget from it.
    async fn ensure_tier(&self) -> Result<(), ConnectorError> {
        self.tier_loaded
            .get_or_try_init(|| async {
                let tier = self
                    .list_call(Method::GET, "/usage/tier", &[], None)
                    .await?;
                let limits = Limits {
                    per_second: tier["rateLimit"]
                        .as_f64()
                        .unwrap_or(Limits::CAUTIOUS.per_second),
                    burst: tier["burstLimit"]
                        .as_f64()
                        .unwrap_or(Limits::CAUTIOUS.burst),
                    daily_quota: tier["quota"].as_u64(),
                };
                self.client.budget().set_limits(limits);
                let mut facts = self.facts.lock().await;
                facts.per_second = Some(limits.per_second);
                facts.burst = Some(limits.burst);
                facts.daily_quota = limits.daily_quota;
                facts.tier_read_at = Some(chrono::Utc::now().to_rfc3339());
                Ok(())
            })
            .await
            .map(|_| ())
    }

    /// The event's id, resolved from its code once.
    pub async fn event_id(&self) -> Result<String, ConnectorError> {
        self.event_id
            .get_or_try_init(|| async {
                let filter = format!("code eq {}", quote(&self.config.event_code));
                let page = self
                    .list_call(Method::GET, "/events", &[("filter", filter)], None)
                    .await?;
                let Some(event) = page["data"].as_array().and_then(|d| d.first()) else {
                    return Err(ConnectorError::Config(format!(
                        "Cvent has no event with code '{}' in this account: check event_code for connection '{}'",
                        self.config.event_code, self.config.connection
                    )));
                };
                let id = event["id"].as_str().unwrap_or_default().to_string();
                let mut facts = self.facts.lock().await;
                facts.event_id = Some(id.clone());
                facts.event_title = event["title"].as_str().map(str::to_string);
                let time = |field: &str| {
                    event[field]
                        .as_str()
                        .filter(|at| chrono::DateTime::parse_from_rfc3339(at).is_ok())
                        .map(str::to_string)
                };
                facts.event_start = time("start");
                facts.event_end = time("end");
                facts.event_created = time("created");
                facts.event_read_at = Some(chrono::Utc::now().to_rfc3339());
                Ok(id)
            })
            .await
            .cloned()
    }

    pub async fn check(&self, data_types: &[DataType]) -> CheckReport {
        let mut report = CheckReport::default();
        match self.ensure_tier().await {
            Ok(()) => {
                let limits = self.client.budget().limits();
                let quota = limits
                    .daily_quota
                    .map_or("no daily quota".to_string(), |q| format!("{q} calls a day"));
                report.pass(
                    "credentials",
                    format!("Cvent accepted client '{}'", self.config.client_id),
                );
                report.pass(
                    "API tier",
                    format!(
                        "{} calls a second, bursts of {}, {quota}",
                        limits.per_second, limits.burst
                    ),
                );
            }
            Err(error) => {
                report.fail("credentials", error.to_string());
                return report;
            }
        }
        match self.list_call(Method::GET, "/usage", &[], None).await {
            Ok(usage) => {
                let today = &usage["data"][0];
                let used = today["used"].as_u64().unwrap_or(0);
                let remaining = today["remaining"].as_u64().unwrap_or(0);
                self.client.budget().set_used_today(used);
                if remaining == 0 && today["total"].as_u64().is_some() {
                    let resets = crate::budget::next_midnight_utc(chrono::Utc::now());
                    report.fail(
                        "quota",
                        format!("the daily quota is used up until {}", resets.to_rfc3339()),
                    );
                } else {
                    report.pass(
                        "quota",
                        format!("{used} calls used today, {remaining} left"),
                    );
                }
            }
            Err(ConnectorError::QuotaExhausted { resets_at }) => {
                report.fail(
                    "quota",
                    format!("the daily quota is used up until {resets_at}"),
                );
                return report;
            }
            Err(error) => report.fail("quota", error.to_string()),
        }
        let event_id = match self.event_id().await {
            Ok(id) => {
                let title = self
                    .facts
                    .lock()
                    .await
                    .event_title
                    .clone()
                    .unwrap_or_default();
                report.pass(
                    "event",
                    format!("code '{}' is \"{title}\" ({id})", self.config.event_code),
                );
                id
            }
            Err(error) => {
                report.fail("event", error.to_string());
                return report;
            }
        };
        for data_type in data_types {
            let endpoint = Endpoint::for_type(*data_type, &event_id);
            let outcome = endpoint.fetch(self, None, Some(1), None).await;
            match outcome {
                Ok(_) => report.pass(data_type.as_str(), format!("readable ({})", scope_for(*data_type))),
                Err(ConnectorError::Forbidden { .. }) => report.fail(
                    data_type.as_str(),
                    format!(
                        "the application lacks scope {}: add it to the application in Cvent's developer portal",
                        scope_for(*data_type)
                    ),
                ),
                Err(error) => report.fail(data_type.as_str(), error.to_string()),
            }
        }
        report
    }

    /// What data labels can name: the event's questions (`GET /event-questions`) and the
    /// account's contact custom fields (`GET /custom-fields`, category `Contact`), every page of
    /// each: id, code and text. Without the custom-fields scope only the questions are listed.
    pub async fn questions(
        &self,
    ) -> Result<Vec<pipeline::rules::labels::Question>, ConnectorError> {
        self.ensure_tier().await?;
        let event_id = self.event_id().await?;
        let mut questions = Vec::new();
        let event_filter = format!("event.id eq {}", quote(&event_id));
        for item in self.list_all("/event-questions", &event_filter).await? {
            if let Some(id) = item["id"].as_str() {
                questions.push(pipeline::rules::labels::Question {
                    id: id.to_string(),
                    code: item["code"].as_str().map(str::to_string),
                    text: item["text"].as_str().unwrap_or_default().to_string(),
                });
            }
        }
        match self
            .list_all("/custom-fields", "category eq 'Contact'")
            .await
        {
            Ok(fields) => questions.extend(fields.iter().filter_map(|field| {
                Some(pipeline::rules::labels::Question {
                    id: field["id"].as_str()?.to_string(),
                    code: field["code"].as_str().map(str::to_string),
                    text: format!(
                        "{} (contact custom field)",
                        field["name"].as_str().unwrap_or_default()
                    ),
                })
            })),
            Err(ConnectorError::Forbidden { scope, .. }) => {
                tracing::warn!(%scope, "custom fields cannot be listed; labels can name event questions only");
            }
            Err(error) => return Err(error),
        }
        Ok(questions)
    }

    /// Every item of a small listing, following `nextToken`.
    async fn list_all(&self, path: &str, filter: &str) -> Result<Vec<Value>, ConnectorError> {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let query = match &token {
                Some(token) => vec![("token", token.clone())],
                None => vec![
                    ("limit", PAGE_SIZE.to_string()),
                    ("filter", filter.to_string()),
                ],
            };
            let mut page = self.list_call(Method::GET, path, &query, None).await?;
            if let Value::Array(data) = page["data"].take() {
                items.extend(data);
            }
            token = page["paging"]["nextToken"].as_str().map(str::to_string);
            if token.is_none() {
                return Ok(items);
            }
        }
    }

    /// Where and how a pull lists its data type, with the event and the statuses it asks for.
    async fn endpoint(&self, spec: &PullSpec) -> Result<Endpoint, ConnectorError> {
        // Two lookups a listing waits for, asked together: each costs the vendor's latency.
        let (tier, event_id) = tokio::join!(self.ensure_tier(), self.event_id());
        tier?;
        let event_id = event_id?;
        let mut endpoint = Endpoint::for_type(spec.data_type, &event_id);
        if let (Some(event_filter), Some(clause)) = (
            endpoint.event_filter.as_mut(),
            status_clause(spec.data_type, &spec.statuses),
        ) {
            event_filter.push_str(" and ");
            event_filter.push_str(&clause);
        }
        Ok(endpoint)
    }

    pub async fn pull(&self, spec: PullSpec) -> Result<Pull<'_>, ConnectorError> {
        let mut endpoint = self.endpoint(&spec).await?;
        let since = match (&spec.mode, supports_incremental(spec.data_type)) {
            (PullMode::ModifiedSince(since), true) => Some(since.clone()),
            _ => None,
        };
        let splittable = spec.mode == PullMode::Full && endpoint.by_created && spec.concurrency > 1;
        if splittable {
            match spec.resume_token.as_deref() {
                Some(token) if ranges::is_token(token) => {
                    if let Some(listing) = ranges::resume(self, &endpoint, token, spec.concurrency)
                    {
                        return Ok(Pull::Ranges(listing));
                    }
                }
                Some(_) => {}
                None => {
                    let started = std::time::Instant::now();
                    let first = endpoint.fetch(self, None, None, None).await?;
                    let took = started.elapsed();
                    let page = self.page_of(&endpoint, &first)?;
                    if let Some(listing) =
                        ranges::plan(self, &endpoint, &page, spec.concurrency, took).await?
                    {
                        return Ok(Pull::Ranges(listing));
                    }
                    return Ok(Pull::Pages(Pages {
                        connector: self,
                        endpoint,
                        since,
                        next_token: page.next_token.clone(),
                        started: true,
                        done: page.next_token.is_none(),
                        batches: std::collections::VecDeque::new(),
                        first: Some(page),
                    }));
                }
            }
        }
        let mut batches = match &spec.mode {
            PullMode::OfAttendees(ids) if by_attendee(spec.data_type) => {
                travel::attendee_filters(ids).into()
            }
            PullMode::OfAttendees(_) => {
                return Err(ConnectorError::Config(format!(
                    "Cvent cannot list {} by attendee",
                    spec.data_type
                )));
            }
            _ => std::collections::VecDeque::new(),
        };
        let mut done = false;
        if matches!(spec.mode, PullMode::OfAttendees(_)) {
            // Each batch is its own listing; no ids means nothing to list.
            endpoint.attendee_filter = batches.pop_front();
            done = endpoint.attendee_filter.is_none();
        }
        Ok(Pull::Pages(Pages {
            connector: self,
            endpoint,
            since,
            next_token: spec.resume_token,
            started: false,
            done,
            batches,
            first: None,
        }))
    }

    /// A page as Cvent sent it, its records split per request where the data type asks.
    fn page_of(&self, endpoint: &Endpoint, bytes: &[u8]) -> Result<VendorPage, ConnectorError> {
        let page: ListPage<'_> = serde_json::from_slice(bytes).map_err(|error| {
            ConnectorError::Transient(format!(
                "Cvent sent a page of {} that is not the JSON it documents: {error}",
                endpoint.path
            ))
        })?;
        let paging = page.paging.unwrap_or_default();
        let records = match endpoint.split {
            None => page
                .data
                .into_iter()
                .map(|raw| VendorRecord {
                    raw: raw.to_owned(),
                })
                .collect(),
            Some(details) => {
                let mut records = Vec::new();
                for item in page.data {
                    match travel::split(item, details) {
                        Ok(requests) => records.extend(requests),
                        // Passed on as it came: the engine rejects it with the vendor's text.
                        Err(reason) => {
                            tracing::warn!(%reason, path = %endpoint.path, "a travel item Cvent does not document");
                            records.push(VendorRecord {
                                raw: item.to_owned(),
                            });
                        }
                    }
                }
                records
            }
        };
        Ok(VendorPage {
            records,
            next_token: paging.next_token,
            total: paging.total_count.as_ref().and_then(Value::as_u64),
            plan: None,
        })
    }
}

impl CventRest {
    /// How many records of a data type with these statuses the event has: Cvent's
    /// `paging.totalCount` for a listing of one record per page, which costs one call. `None`
    /// when Cvent leaves the count blank, as its documentation warns it may.
    pub async fn count(
        &self,
        data_type: DataType,
        statuses: StatusQuery,
    ) -> Result<Option<u64>, ConnectorError> {
        let spec = PullSpec {
            data_type,
            mode: PullMode::Full,
            resume_token: None,
            statuses,
            concurrency: 1,
        };
        let endpoint = self.endpoint(&spec).await?;
        let bytes = endpoint.fetch(self, None, Some(1), None).await?;
        Ok(self.page_of(&endpoint, &bytes)?.total)
    }
}

/// Where and how one data type is listed.
#[derive(Debug, Clone)]
struct Endpoint {
    method: Method,
    path: String,
    /// The event filter for `POST …/filter` endpoints; `None` for event-scoped paths.
    event_filter: Option<String>,
    paged: bool,
    /// Incremental listings ask `after` (event-scoped listings that have it).
    window: bool,
    /// The member of each item holding the requests it is split into (travel).
    split: Option<&'static str>,
    /// A query-string filter on the attendees items are filed under (travel).
    attendee_filter: Option<String>,
    /// Whether the listing can be filtered by `created`, and so split into ranges of it.
    by_created: bool,
    /// A range of creation times, as filter clauses, that this listing is limited to.
    created_range: Option<String>,
    /// What each item shows whole instead of by id (`expand`).
    expand: Option<&'static str>,
}

impl Endpoint {
    fn for_type(data_type: DataType, event_id: &str) -> Endpoint {
        let filtered = |path: &str, by_created: bool| Endpoint {
            method: Method::POST,
            path: path.to_string(),
            event_filter: Some(format!("event.id eq {}", quote(event_id))),
            paged: true,
            window: false,
            split: None,
            attendee_filter: None,
            by_created,
            created_range: None,
            expand: None,
        };
        let scoped = |suffix: &str, paged: bool| Endpoint {
            method: Method::GET,
            path: format!("/events/{event_id}/{suffix}"),
            event_filter: None,
            paged,
            window: false,
            split: None,
            attendee_filter: None,
            by_created: false,
            created_range: None,
            expand: None,
        };
        if let Some((suffix, details)) = travel::listing(data_type) {
            return Endpoint {
                window: true,
                split: Some(details),
                ..scoped(suffix, true)
            };
        }
        match data_type {
            // The filters of attendees, sessions and enrollments take `created`; speakers' not.
            // Each answer with its question's text and code beside it, so the preview shows
            // which question an `answers.<n>` path answers (the expansion needs
            // event/events:read, which reading the event already does).
            DataType::People => Endpoint {
                expand: Some("answers.question"),
                ..filtered("/attendees/filter", true)
            },
            DataType::Sessions => filtered("/sessions/filter", true),
            DataType::Speakers => filtered("/speakers/filter", false),
            DataType::SessionRegistrations => filtered("/sessions/enrollment/filter", true),
            DataType::Locations => scoped("session-locations", true),
            DataType::Sponsors => scoped("exhibitors", true),
            DataType::SponsorLevels => scoped("sponsorship-levels", false),
            // Listed above, split per request.
            DataType::AirRequests | DataType::HotelRequests => scoped("event-travel", true),
        }
    }

    async fn fetch(
        &self,
        connector: &CventRest,
        token: Option<&str>,
        limit: Option<u32>,
        since: Option<&str>,
    ) -> Result<bytes::Bytes, ConnectorError> {
        let mut query: Vec<(&str, String)> = Vec::new();
        if self.paged {
            match token {
                // A token carries the whole query; Cvent ignores everything else.
                Some(token) => query.push(("token", token.to_string())),
                None => query.push(("limit", limit.unwrap_or(PAGE_SIZE).to_string())),
            }
        }
        if token.is_none() {
            if let (true, Some(since)) = (self.window, since) {
                query.push(("after", just_before(since)));
            }
            if let Some(filter) = &self.attendee_filter {
                query.push(("filter", filter.clone()));
            }
            if let Some(expand) = self.expand {
                query.push(("expand", expand.to_string()));
            }
        }
        let body = match (&self.event_filter, token) {
            (Some(event_filter), None) => {
                let mut filter = event_filter.clone();
                if let Some(since) = since {
                    filter = format!("{filter} and lastModified ge {}", quote(since));
                }
                if let Some(range) = &self.created_range {
                    filter = format!("{filter} and {range}");
                }
                Some(json!({ "filter": filter }))
            }
            (Some(_), Some(_)) => Some(json!({})),
            (None, _) => None,
        };
        let outcome = connector
            .list_call_bytes(self.method.clone(), &self.path, &query, body.as_ref())
            .await;
        match (outcome, token) {
            (Err(ConnectorError::Rejected(_)), Some(token)) => {
                Err(ConnectorError::ExpiredPageToken {
                    token: token.to_string(),
                })
            }
            (outcome, _) => outcome,
        }
    }
}

/// One listing in progress: page after page, or split into ranges of creation time.
pub enum Pull<'a> {
    Pages(Pages<'a>),
    Ranges(crate::partition::Partitioned<'a, ranges::Range>),
}

impl Pull<'_> {
    pub async fn next_page(&mut self) -> Result<Option<VendorPage>, ConnectorError> {
        match self {
            Pull::Pages(pages) => pages.next_page().await,
            Pull::Ranges(ranges) => ranges.next_page().await,
        }
    }
}

/// A listing read one page at a time.
pub struct Pages<'a> {
    connector: &'a CventRest,
    endpoint: Endpoint,
    since: Option<String>,
    next_token: Option<String>,
    started: bool,
    done: bool,
    /// Attendee filters still to list, one listing each, after the current one.
    batches: std::collections::VecDeque<String>,
    /// The first page, already fetched to learn the listing's size.
    first: Option<VendorPage>,
}

impl Pages<'_> {
    pub async fn next_page(&mut self) -> Result<Option<VendorPage>, ConnectorError> {
        if let Some(page) = self.first.take() {
            return Ok(Some(page));
        }
        if self.done || (self.started && self.next_token.is_none()) {
            match self.batches.pop_front() {
                Some(filter) if self.started => {
                    self.endpoint.attendee_filter = Some(filter);
                    self.started = false;
                    self.done = false;
                    self.next_token = None;
                }
                _ => return Ok(None),
            }
        }
        let bytes = self
            .endpoint
            .fetch(
                self.connector,
                self.next_token.as_deref(),
                None,
                self.since.as_deref(),
            )
            .await?;
        self.started = true;
        let page = self.connector.page_of(&self.endpoint, &bytes)?;
        self.next_token = page.next_token.clone();
        if page.next_token.is_none() {
            self.done = true;
        }
        Ok(Some(page))
    }
}

/// A page of a Cvent listing: the records are kept as the text Cvent sent.
#[derive(serde::Deserialize)]
struct ListPage<'a> {
    #[serde(borrow, default)]
    data: Vec<&'a RawValue>,
    #[serde(default)]
    paging: Option<Paging>,
}

#[derive(Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Paging {
    next_token: Option<String>,
    /// A number, or blank (`""`) on some of Cvent's listings: read leniently.
    total_count: Option<Value>,
}

/// The instant a millisecond before `cursor`, for Cvent's exclusive `after`: a request modified
/// in the cursor's own millisecond comes again and diffs as unchanged rather than being missed.
fn just_before(cursor: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(cursor) {
        Ok(at) => (at.with_timezone(&chrono::Utc) - chrono::Duration::milliseconds(1))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        Err(_) => cursor.to_string(),
    }
}

/// Builds a connector for a connection.
pub fn connect(
    config: CventRestConfig,
    data_types: &[DataType],
    facts: Facts,
) -> Result<Arc<CventRest>, ConnectorError> {
    CventRest::new(config, data_types, facts).map(Arc::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_values_are_quoted_as_cvent_expects() {
        assert_eq!(quote("abc"), "'abc'");
        assert_eq!(quote("O'Keenan"), "\"O'Keenan\"");
        assert_eq!(quote("a\"b'c"), "\"a\\\"b'c\"");
    }

    #[test]
    fn status_queries_become_filter_clauses() {
        let list = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // (data type, query, clause)
        let cases = [
            (DataType::People, StatusQuery::Any, None),
            (DataType::People, StatusQuery::In(Vec::new()), None),
            (
                DataType::People,
                StatusQuery::In(list(&["Accepted", "Pending Approval"])),
                Some("status in ('Accepted','Pending Approval')"),
            ),
            (
                DataType::People,
                StatusQuery::NotIn(list(&["Accepted", "Visited"])),
                Some("status ne 'Accepted' and status ne 'Visited'"),
            ),
            (
                DataType::Sessions,
                StatusQuery::In(list(&["Accepted"])),
                None,
            ),
        ];
        for (data_type, query, clause) in cases {
            assert_eq!(
                status_clause(data_type, &query).as_deref(),
                clause,
                "{data_type} {query:?}"
            );
        }
    }
}

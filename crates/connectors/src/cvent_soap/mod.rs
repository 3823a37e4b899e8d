//! Cvent's legacy SOAP API, V200611.
//!
//! - Auth: `Login` with account number, user name and password at the host's
//!   `…/V200611.ASMX`; every later call goes to the `ServerURL` it returns, with the
//!   `CventSessionHeader` in `http://api.cvent.com/2006-11`. Session faults (CV10104, CV10105,
//!   CV10107) log in again once. `LoginSuccess="false"` is reported and never retried: repeated
//!   failures lock the account for 30 minutes.
//! - Hosts: `production` → `https://api.cvent.com/soap/V200611.ASMX`, `eu` →
//!   `https://api-eur.cvent.com/SOAP/V200611.ASMX`, `sandbox` →
//!   `https://sandbox-api.cvent.com/soap/V200611.ASMX`, or an explicit `base_url`.
//! - Reads: `DescribeGlobal` once per run (batch size, record-set cap, the daily call quota and
//!   the object types), the event by `Search` on `EventCode`, then `Search` (full) or `GetUpdated`
//!   windows (incremental) for ids and `Retrieve` in batches of at most `MaxBatchSize`.
//!   GetUpdated windows are GMT and minute-granular, start two minutes before the cursor (changes
//!   take up to a minute to show) and span at most 30 days each, asked side by side; a window
//!   Cvent finds too big (CV20012, CV20014) is asked again as two halves.
//! - Data: participants are registrations with their contact (one `Retrieve Contact` per batch)
//!   under `contact`, and each `GuestDetail` as a person of its own (`guest = true`, `primaryid`
//!   the registration's id, the registration's `status`); sessions are the event's
//!   `ProductDetail` rows of type Session; presenters are the `Speaker` object type, when
//!   `DescribeGlobal` lists it; session registrations are the registrations' `OrderDetail` rows
//!   of type Session, with the registration under `registration`.
//! - Writes: `SessionRegAction` (Register / Unregister) per session, at most `MaxBatchSize`
//!   invitees a call; a partial failure is not a fault, so each item's `Success` is checked.
//! - Quota: 10,000 calls a day per account unless `DescribeGlobal.MaxAPICalls` says otherwise,
//!   counted in the shared rate budget; fault CV30100 stops the run until midnight GMT.
//!
//! Records are JSON with lower-case keys (see `xml::to_json`), so the preview shows paths such as
//! `orderdetail.0.productname`.

mod client;
mod defaults;
pub mod xml;

use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::Arc;

use chrono::{DateTime, Duration, DurationRound, Utc};
use pipeline::DataType;
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use crate::budget::{Limits, RateBudget};
use crate::partition::{FetchPage, Fetched, Partitioned};
use crate::{
    CheckReport, ConnectorError, ListingPlan, PullMode, PullSpec, RetryPolicy, VendorPage,
    VendorRecord,
};
use client::{CallError, Client};
pub use client::{Credentials, Fault};
pub use defaults::default_mapping;
use xml::{Element, SCHEMA_NS, escape};

pub const KIND: &str = "cvent-soap";

pub const DATA_TYPES: &[DataType] = &[
    DataType::People,
    DataType::Speakers,
    DataType::Sessions,
    DataType::SessionRegistrations,
];

/// The account a connection uses, as its rate budget is keyed.
pub fn account_key(login_url: &str, account_number: &str) -> String {
    format!("{KIND}:{login_url}:{account_number}")
}

/// The documented daily cap, assumed until `DescribeGlobal` says.
pub const DEFAULT_DAILY_CALLS: u64 = 10_000;
/// The batch size assumed until `DescribeGlobal` says.
pub const DEFAULT_BATCH: usize = 200;
/// How far before the cursor an incremental window starts: changes take up to a minute to show
/// in GetUpdated, and seconds are ignored.
const LAG_ALLOWANCE_MINUTES: i64 = 2;

/// Where a Cvent SOAP account lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    Production,
    Europe,
    Sandbox,
}

impl Host {
    pub fn parse(text: &str) -> Option<Host> {
        match text.to_ascii_lowercase().as_str() {
            "production" | "na" => Some(Host::Production),
            "eu" => Some(Host::Europe),
            "sandbox" => Some(Host::Sandbox),
            _ => None,
        }
    }

    pub fn login_url(self) -> &'static str {
        match self {
            Host::Production => "https://api.cvent.com/soap/V200611.ASMX",
            Host::Europe => "https://api-eur.cvent.com/SOAP/V200611.ASMX",
            Host::Sandbox => "https://sandbox-api.cvent.com/soap/V200611.ASMX",
        }
    }
}

/// Registration statuses (`InviteeStatus`), spelt as the API sends them.
pub const REGISTRATION_STATUSES: &[&str] = &[
    "No Response",
    "Accepted",
    "Declined",
    "Visited",
    "Waitlist",
    "Cancelled",
    "Pending Approval",
    "Denied Approval",
];

/// The statuses imported unless the configuration says otherwise: people who are coming, and
/// (seed rule) those who cancelled or declined, imported as cancelled.
pub const DEFAULT_REGISTRATION_STATUSES: &[&str] = &["Accepted", "Cancelled", "Declined"];

pub fn status_vocabulary(data_type: DataType) -> Option<crate::StatusVocabulary> {
    (data_type == DataType::People).then_some(crate::StatusVocabulary {
        valid: REGISTRATION_STATUSES,
        default: DEFAULT_REGISTRATION_STATUSES,
    })
}

/// Cvent SOAP lists every status (GetUpdated cannot filter), and the engine judges each record.
pub fn status_path(data_type: DataType) -> Option<&'static str> {
    (data_type == DataType::People).then_some("status")
}

pub fn supports_incremental(data_type: DataType) -> bool {
    matches!(data_type, DataType::People | DataType::SessionRegistrations)
}

/// A registration's answers are its `EventSurveyDetail` rows, each with the question's id and
/// text beside the `Answer` rows (`eventsurveydetail.<n>.answer.<m>.answertext`).
const SURVEY_ANSWERS: [crate::QuestionAnswers; 1] = [crate::QuestionAnswers {
    paths: pipeline::rules::labels::AnswerPaths {
        list: "eventsurveydetail",
        question_id: "questionid",
        question_text: "questiontext",
        value: "answer",
    },
    keyed_by_id: false,
    labels: false,
}];

/// Where a data type's records hold answers to the event's questions.
pub fn question_answers(data_type: DataType) -> &'static [crate::QuestionAnswers] {
    match data_type {
        DataType::People => &SURVEY_ANSWERS,
        _ => &[],
    }
}

/// A connection's settings.
#[derive(Debug, Clone)]
pub struct CventSoapConfig {
    pub credentials: Credentials,
    pub event_code: String,
    pub retry: RetryPolicy,
}

/// What a previous run learned about the account.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Facts {
    pub event_id: Option<String>,
    pub event_title: Option<String>,
    /// When the event ends (RFC 3339), read with its sessions: auto sync stops a week after it.
    #[serde(default)]
    pub event_end: Option<String>,
}

/// What `DescribeGlobal` says about the account.
#[derive(Debug, Clone, PartialEq)]
pub struct Global {
    pub max_batch_size: usize,
    pub max_record_set: u64,
    pub max_api_calls: u64,
    pub current_api_calls: u64,
    pub object_types: Vec<String>,
}

/// Register or unregister invitees for a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionRegAction {
    Register,
    Unregister,
}

impl SessionRegAction {
    fn as_str(self) -> &'static str {
        match self {
            SessionRegAction::Register => "Register",
            SessionRegAction::Unregister => "Unregister",
        }
    }
}

/// Cvent's answer for one invitee of a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemResult {
    pub invitee_id: String,
    /// `None` when Cvent reported `Success="true"`; otherwise its error code and description.
    pub error: Option<String>,
}

/// A Cvent SOAP connection.
pub struct CventSoap {
    config: CventSoapConfig,
    client: Client,
    facts: tokio::sync::Mutex<Facts>,
    global: OnceCell<Global>,
    event_id: OnceCell<String>,
}

impl CventSoap {
    pub fn new(config: CventSoapConfig, facts: Facts) -> Result<CventSoap, ConnectorError> {
        let c = &config.credentials;
        for (value, field) in [
            (&c.account_number, "account_number"),
            (&c.user_name, "user_name"),
            (&c.password, "password"),
            (&config.event_code, "event_code"),
        ] {
            if value.trim().is_empty() {
                return Err(ConnectorError::Config(format!(
                    "connection '{}' needs {field}",
                    c.connection
                )));
            }
        }
        let budget = RateBudget::for_account(&account_key(&c.login_url, &c.account_number));
        // SOAP has no per-second limit; the daily cap is what counts.
        budget.set_limits(Limits {
            per_second: 100.0,
            burst: 100.0,
            daily_quota: Some(DEFAULT_DAILY_CALLS),
        });
        let client = Client::new(config.credentials.clone(), budget, config.retry);
        let event_id = OnceCell::new();
        if let Some(id) = &facts.event_id {
            let _ = event_id.set(id.clone());
        }
        Ok(CventSoap {
            config,
            client,
            facts: tokio::sync::Mutex::new(facts),
            global: OnceCell::new(),
            event_id,
        })
    }

    /// The account's shared rate budget (daily quota and calls used).
    pub fn budget(&self) -> &RateBudget {
        self.client.budget()
    }

    /// The vendor's clock, as its answers state it.
    pub fn clock(&self) -> &crate::VendorClock {
        self.client.clock()
    }

    /// Calls counted against the daily quota.
    /// Tells `observer` of every wait between attempts of a call (`None`: no one).
    pub fn observe_waits(&self, observer: Option<crate::WaitObserver>) {
        self.client.observe_waits(observer);
    }

    pub fn calls(&self) -> u64 {
        self.client.calls()
    }

    pub async fn facts(&self) -> Facts {
        self.facts.lock().await.clone()
    }

    async fn call(&self, operation: &str, inner: &str) -> Result<Element, ConnectorError> {
        self.client
            .call(operation, inner)
            .await
            .map_err(|e| e.into_connector_error(operation))
    }

    /// `DescribeGlobal`, once per connection: limits, quota and object types.
    pub async fn global(&self) -> Result<&Global, ConnectorError> {
        self.global
            .get_or_try_init(|| async {
                let body = self.call("DescribeGlobal", "").await?;
                let result = body.child("DescribeGlobalResult").ok_or_else(|| {
                    ConnectorError::Transient("Cvent's DescribeGlobal answer has no result".into())
                })?;
                let number = |name: &str| {
                    result
                        .attribute(name)
                        .or_else(|| result.child_text(name))
                        .and_then(|v| v.trim().parse::<u64>().ok())
                };
                let global = Global {
                    max_batch_size: number("MaxBatchSize")
                        .filter(|n| *n > 0)
                        .map_or(DEFAULT_BATCH, |n| n as usize),
                    max_record_set: number("MaxRecordSet").unwrap_or(u64::MAX),
                    max_api_calls: number("MaxAPICalls").unwrap_or(DEFAULT_DAILY_CALLS),
                    current_api_calls: number("CurrentAPICalls").unwrap_or(0),
                    object_types: result
                        .child("CvObjectTypes")
                        .map(|t| {
                            t.children
                                .iter()
                                .map(|c| c.text.trim().to_string())
                                .collect()
                        })
                        .unwrap_or_default(),
                };
                let budget = self.client.budget();
                budget.set_limits(Limits {
                    daily_quota: Some(global.max_api_calls),
                    ..budget.limits()
                });
                budget.set_used_today(global.current_api_calls);
                Ok(global)
            })
            .await
    }

    /// The event's id, found by its code once.
    pub async fn event_id(&self) -> Result<String, ConnectorError> {
        self.event_id
            .get_or_try_init(|| async {
                let inner = search_body("Event", &[("EventCode", "Equals", &self.config.event_code)]);
                let body = self.call("Search", &inner).await?;
                let Some(id) = ids_of(&body).into_iter().next() else {
                    return Err(ConnectorError::Config(format!(
                        "Cvent has no event with code '{}' in this account: check event_code for connection '{}'",
                        self.config.event_code, self.config.credentials.connection
                    )));
                };
                self.facts.lock().await.event_id = Some(id.clone());
                Ok(id)
            })
            .await
            .cloned()
    }

    async fn batch_size(&self) -> Result<usize, ConnectorError> {
        Ok(self.global().await?.max_batch_size)
    }

    /// Retrieves objects by id in batches no larger than `MaxBatchSize`; a batch Cvent still finds
    /// too large (CV20021) is halved.
    async fn retrieve(
        &self,
        object_type: &str,
        ids: &[String],
    ) -> Result<Vec<Element>, ConnectorError> {
        let mut objects = Vec::with_capacity(ids.len());
        let mut size = self.batch_size().await?.max(1);
        let mut rest = ids;
        while !rest.is_empty() {
            let batch = &rest[..size.min(rest.len())];
            let mut inner =
                format!("<ObjectType>{object_type}</ObjectType><Ids xmlns=\"{SCHEMA_NS}\">");
            for id in batch {
                let _ = write!(inner, "<Id>{}</Id>", escape(id));
            }
            inner.push_str("</Ids>");
            match self.client.call("Retrieve", &inner).await {
                Ok(body) => {
                    if let Some(result) = body.child("RetrieveResult") {
                        objects.extend(result.children_named("CvObject").cloned());
                    }
                    rest = &rest[batch.len()..];
                }
                Err(CallError::Fault(fault)) if fault.code == "CV20021" && size > 1 => {
                    size /= 2;
                }
                Err(error) => return Err(error.into_connector_error("Retrieve")),
            }
        }
        Ok(objects)
    }

    /// Ids of objects of a type on the event (`Search` with `EventId Equals`).
    async fn search_event_ids(
        &self,
        object_type: &str,
        in_flight: usize,
    ) -> Result<Vec<String>, ConnectorError> {
        let event_id = self.event_id().await?;
        let inner = search_body(object_type, &[("EventId", "Equals", &event_id)]);
        match self.client.call("Search", &inner).await {
            Ok(body) => Ok(ids_of(&body)),
            Err(CallError::Fault(fault)) if fault.code == "CV20012" => {
                // More matches than the account's MaxRecordSet: walk GetUpdated windows since
                // the registrations began instead, which Cvent answers in pieces.
                let since = DateTime::<Utc>::from_timestamp(0, 0).unwrap_or_default();
                self.updated_ids(object_type, since, in_flight).await
            }
            Err(error) => Err(error.into_connector_error("Search")),
        }
    }

    /// Ids changed since `since` (RFC 3339), through GetUpdated windows of at most 30 days that
    /// start a little before it, asked up to `in_flight` at a time (each within the budget); a
    /// window Cvent refuses as too big is asked again as two halves.
    async fn updated_ids(
        &self,
        object_type: &str,
        since: DateTime<Utc>,
        in_flight: usize,
    ) -> Result<Vec<String>, ConnectorError> {
        use futures_util::StreamExt;
        let minute = Duration::minutes(1);
        let mut start = (since - Duration::minutes(LAG_ALLOWANCE_MINUTES))
            .duration_trunc(minute)
            .unwrap_or(since);
        // The longest window Cvent accepts is not published: 30 days, halved where refused.
        let span = Duration::days(30);
        // From the epoch, skip ahead to three years back: a full walk needs a start.
        if since.timestamp() == 0 {
            start = self.client.clock().now() - Duration::days(3 * 365);
        }
        let mut seen = HashSet::new();
        let mut ids = Vec::new();
        // Windows end a minute past the vendor's now; when the vendor's clock has moved on past
        // the last window by the time they are answered, the walk goes on from there.
        loop {
            let now = self.client.clock().now();
            let mut windows = Vec::new();
            let mut from = start;
            while from <= now {
                let until = (from + span).min(now + minute);
                windows.push((from, until));
                from = until;
                if from >= now {
                    break;
                }
            }
            let Some(&(_, last)) = windows.last() else {
                break;
            };
            let mut answers = futures_util::stream::iter(windows)
                .map(|(from, until)| self.window_ids(object_type, from, until))
                .buffered(in_flight.max(1));
            while let Some(answer) = answers.next().await {
                for id in answer? {
                    if seen.insert(id.clone()) {
                        ids.push(id);
                    }
                }
            }
            start = last;
            if start >= self.client.clock().now() {
                break;
            }
        }
        Ok(ids)
    }

    /// The ids GetUpdated names for `[from, until)`, as two halves where Cvent finds the window
    /// too big.
    fn window_ids<'b>(
        &'b self,
        object_type: &'b str,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Vec<String>, ConnectorError>> + Send + 'b>,
    > {
        Box::pin(async move {
            let inner = format!(
                "<ObjectType>{object_type}</ObjectType><StartDate>{}</StartDate><EndDate>{}</EndDate>",
                from.format("%Y-%m-%dT%H:%M:%S"),
                until.format("%Y-%m-%dT%H:%M:%S")
            );
            let minute = Duration::minutes(1);
            match self.client.call("GetUpdated", &inner).await {
                Ok(body) => Ok(ids_of(&body)),
                Err(CallError::Fault(fault))
                    if matches!(fault.code.as_str(), "CV20012" | "CV20014")
                        && until - from > minute =>
                {
                    let middle = (from + (until - from) / 2)
                        .duration_trunc(minute)
                        .unwrap_or(from)
                        .max(from + minute);
                    let (first, second) = tokio::join!(
                        self.window_ids(object_type, from, middle),
                        self.window_ids(object_type, middle, until)
                    );
                    let mut ids = first?;
                    ids.extend(second?);
                    Ok(ids)
                }
                Err(error) => Err(error.into_connector_error("GetUpdated")),
            }
        })
    }

    pub async fn check(&self, data_types: &[DataType]) -> CheckReport {
        let mut report = CheckReport::default();
        match self.global().await {
            Ok(global) => {
                report.pass(
                    "credentials",
                    format!(
                        "Cvent accepted user '{}' of account '{}'",
                        self.config.credentials.user_name, self.config.credentials.account_number
                    ),
                );
                let left = global
                    .max_api_calls
                    .saturating_sub(global.current_api_calls);
                if left == 0 {
                    report.fail(
                        "quota",
                        format!(
                            "all {} calls of today are used; the quota resets at midnight GMT",
                            global.max_api_calls
                        ),
                    );
                    return report;
                }
                report.pass(
                    "quota",
                    format!(
                        "{} of {} calls used today, {left} left; batches of {}",
                        global.current_api_calls, global.max_api_calls, global.max_batch_size
                    ),
                );
            }
            Err(error) => {
                report.fail("credentials", error.to_string());
                return report;
            }
        }
        let event_id = match self.event_id().await {
            Ok(id) => {
                report.pass(
                    "event",
                    format!("code '{}' is event {id}", self.config.event_code),
                );
                id
            }
            Err(error) => {
                report.fail("event", error.to_string());
                return report;
            }
        };
        for data_type in data_types {
            let outcome = match data_type {
                DataType::People | DataType::SessionRegistrations => self
                    .call(
                        "Search",
                        &search_body("Registration", &[("EventId", "Equals", &event_id)]),
                    )
                    .await
                    .map(|body| format!("{} registrations", ids_of(&body).len())),
                DataType::Sessions => self
                    .retrieve("Event", std::slice::from_ref(&event_id))
                    .await
                    .map(|events| {
                        format!(
                            "{} sessions",
                            events
                                .iter()
                                .map(session_rows)
                                .map(|s| s.len())
                                .sum::<usize>()
                        )
                    }),
                DataType::Speakers => self
                    .speakers_supported()
                    .await
                    .map(|()| "readable".to_string()),
                _ => Err(ConnectorError::Config(format!(
                    "Cvent SOAP has no {data_type}"
                ))),
            };
            match outcome {
                Ok(detail) => report.pass(data_type.as_str(), detail),
                Err(error) => report.fail(data_type.as_str(), error.to_string()),
            }
        }
        report
    }

    async fn speakers_supported(&self) -> Result<(), ConnectorError> {
        if self
            .global()
            .await?
            .object_types
            .iter()
            .any(|t| t == "Speaker")
        {
            Ok(())
        } else {
            Err(ConnectorError::Rejected(format!(
                "this Cvent account's SOAP API offers no Speaker object (DescribeGlobal does not list it): remove speakers from data_types of connection '{}'",
                self.config.credentials.connection
            )))
        }
    }

    pub async fn pull(&self, spec: PullSpec) -> Result<Pull<'_>, ConnectorError> {
        self.global().await?;
        self.event_id().await?;
        if spec.data_type == DataType::Speakers {
            self.speakers_supported().await?;
        }
        if !DATA_TYPES.contains(&spec.data_type) {
            return Err(ConnectorError::Config(format!(
                "Cvent SOAP has no {}: choose from people, speakers, sessions, session_registrations",
                spec.data_type
            )));
        }
        let offset = spec
            .resume_token
            .as_deref()
            .and_then(|t| t.parse::<usize>().ok())
            .unwrap_or(0);
        let split_token = spec
            .resume_token
            .filter(|token| Partitioned::<usize>::is_token(token));
        Ok(Pull {
            connector: self,
            data_type: spec.data_type,
            mode: spec.mode,
            ids: None,
            offset,
            done: false,
            concurrency: spec.concurrency,
            split_token,
            split: None,
        })
    }

    /// Registers or unregisters invitees (registration ids) for a session product, at most
    /// `MaxBatchSize` a call, and returns Cvent's answer for each, in order.
    pub async fn session_reg_action(
        &self,
        action: SessionRegAction,
        product_id: &str,
        invitee_ids: &[String],
    ) -> Result<Vec<ItemResult>, ConnectorError> {
        let size = self.batch_size().await?.max(1);
        let mut results = Vec::with_capacity(invitee_ids.len());
        for batch in invitee_ids.chunks(size) {
            let mut inner = format!(
                "<CvInvitees SessionRegActionType=\"{}\" ProductId=\"{}\" xmlns=\"{SCHEMA_NS}\">",
                action.as_str(),
                escape(product_id)
            );
            for (n, id) in batch.iter().enumerate() {
                let _ = write!(
                    inner,
                    "<CvInvitee Id=\"{}\" MessageId=\"{n}\" />",
                    escape(id)
                );
            }
            inner.push_str("</CvInvitees>");
            let body = self.call("SessionRegAction", &inner).await?;
            results.extend(item_results(&body, batch));
        }
        Ok(results)
    }
}

impl CventSoap {
    /// Checks invitees (registration ids) in to the event with `CheckIn`, at most
    /// `MaxBatchSize` a call, and returns Cvent's answer for each, in order.
    pub async fn check_in(
        &self,
        invitee_ids: &[String],
    ) -> Result<Vec<ItemResult>, ConnectorError> {
        let size = self.batch_size().await?.max(1);
        let event_id = self.event_id().await?;
        let mut results = Vec::with_capacity(invitee_ids.len());
        for batch in invitee_ids.chunks(size) {
            let mut inner = format!("<CvObjects xmlns=\"{SCHEMA_NS}\">");
            for (n, id) in batch.iter().enumerate() {
                let _ = write!(
                    inner,
                    "<CvObject Id=\"{}\" MessageId=\"{n}\" />",
                    escape(id)
                );
            }
            let _ = write!(
                inner,
                "</CvObjects><AttendeeType>Invitee</AttendeeType><ProductId>{}</ProductId>",
                escape(&event_id)
            );
            let body = self.call("CheckIn", &inner).await?;
            results.extend(item_results(&body, batch));
        }
        Ok(results)
    }
}

/// Per-item results matched to the invitees sent, by `ReferenceId` (our MessageId) or `Id`.
fn item_results(body: &Element, sent: &[String]) -> Vec<ItemResult> {
    let mut answered = Vec::new();
    collect_with_success(body, &mut answered);
    sent.iter()
        .enumerate()
        .map(|(n, id)| {
            let item = answered.iter().find(|e| {
                e.attribute("ReferenceId") == Some(n.to_string().as_str())
                    || e.attribute("Id")
                        .is_some_and(|v| v.eq_ignore_ascii_case(id))
            });
            let error = match item {
                None => Some("Cvent's answer does not mention this invitee".to_string()),
                Some(item)
                    if item
                        .attribute("Success")
                        .is_some_and(|s| s.eq_ignore_ascii_case("true")) =>
                {
                    None
                }
                Some(item) => Some(
                    item.child("Errors")
                        .map(|errors| {
                            errors
                                .children_named("Error")
                                .map(|e| {
                                    format!(
                                        "{} {}",
                                        e.attribute("Code").unwrap_or_default(),
                                        e.attribute("Description").unwrap_or_default()
                                    )
                                })
                                .collect::<Vec<_>>()
                                .join("; ")
                        })
                        .filter(|text| !text.is_empty())
                        .unwrap_or_else(|| "Cvent reported Success=\"false\"".to_string()),
                ),
            };
            ItemResult {
                invitee_id: id.clone(),
                error,
            }
        })
        .collect()
}

fn collect_with_success<'a>(element: &'a Element, found: &mut Vec<&'a Element>) {
    for child in &element.children {
        if child.attribute("Success").is_some() {
            found.push(child);
        } else {
            collect_with_success(child, found);
        }
    }
}

/// A Search request body with `AndSearch` filters of (field, operator, value).
fn search_body(object_type: &str, filters: &[(&str, &str, &str)]) -> String {
    let mut inner = format!(
        "<ObjectType>{object_type}</ObjectType><CvSearchObject SearchType=\"AndSearch\" xmlns=\"{SCHEMA_NS}\">"
    );
    for (field, operator, value) in filters {
        let _ = write!(
            inner,
            "<Filter><Field>{field}</Field><Operator>{operator}</Operator><Value>{}</Value></Filter>",
            escape(value)
        );
    }
    inner.push_str("</CvSearchObject>");
    inner
}

/// The `<Id>`s of a Search or GetUpdated answer.
fn ids_of(body: &Element) -> Vec<String> {
    body.children
        .first()
        .map(|result| {
            result
                .children_named("Id")
                .map(|id| id.text.trim().to_string())
                .filter(|id| !id.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// The session products of an event.
/// The event's end (Cvent's naive GMT `EventEndDate`) as RFC 3339.
fn event_end(event: &Element) -> Option<String> {
    event
        .attribute("EventEndDate")
        .or_else(|| event.child_text("EventEndDate"))
        .and_then(xml::gmt_to_rfc3339)
}

fn session_rows(event: &Element) -> Vec<&Element> {
    event
        .children_named("ProductDetail")
        .filter(|p| p.attribute("ProductType") == Some("Session"))
        .collect()
}

/// A listing in progress.
pub struct Pull<'a> {
    connector: &'a CventSoap,
    data_type: DataType,
    mode: PullMode,
    /// The ids to retrieve, found on the first page.
    ids: Option<Arc<Vec<String>>>,
    offset: usize,
    done: bool,
    /// Batches a full listing may retrieve side by side.
    concurrency: usize,
    /// The token of a split listing to resume, once the ids are known again.
    split_token: Option<String>,
    /// A full listing's batches, retrieved side by side.
    split: Option<Partitioned<'a, usize>>,
}

impl<'a> Pull<'a> {
    pub async fn next_page(&mut self) -> Result<Option<VendorPage>, ConnectorError> {
        if let Some(split) = self.split.as_mut() {
            return split.next_page().await;
        }
        if self.done {
            return Ok(None);
        }
        let connector = self.connector;
        if self.data_type == DataType::Sessions {
            self.done = true;
            let event_id = connector.event_id().await?;
            let events = connector
                .retrieve("Event", std::slice::from_ref(&event_id))
                .await?;
            if let Some(end) = events.first().and_then(event_end) {
                connector.facts.lock().await.event_end = Some(end);
            }
            let records: Vec<VendorRecord> = events
                .iter()
                .flat_map(session_rows)
                .map(|row| VendorRecord::from_value(&xml::to_json(row)))
                .collect();
            let total = records.len() as u64;
            return Ok(Some(VendorPage {
                records,
                next_token: None,
                total: Some(total),
                plan: None,
            }));
        }
        let object_type = match self.data_type {
            DataType::Speakers => "Speaker",
            _ => "Registration",
        };
        if self.ids.is_none() {
            let ids = match (&self.mode, supports_incremental(self.data_type)) {
                (PullMode::ModifiedSince(since), true) => {
                    let since = DateTime::parse_from_rfc3339(since)
                        .map(|t| t.with_timezone(&Utc))
                        .map_err(|_| {
                            ConnectorError::Config(format!(
                                "the saved cursor '{since}' is not a timestamp: run a full sync (--full)"
                            ))
                        })?;
                    connector
                        .updated_ids(object_type, since, self.concurrency)
                        .await?
                }
                _ => {
                    connector
                        .search_event_ids(object_type, self.concurrency)
                        .await?
                }
            };
            self.ids = Some(Arc::new(ids));
            if let Some(split) = self.split_batches(object_type).await? {
                return self.split.insert(split).next_page().await;
            }
        }
        let ids = self.ids.as_deref().map(Vec::as_slice).unwrap_or_default();
        let size = connector.batch_size().await?;
        let start = self.offset.min(ids.len());
        let batch = &ids[start..(start + size).min(ids.len())];
        let objects = if batch.is_empty() {
            Vec::new()
        } else {
            connector.retrieve(object_type, batch).await?
        };
        self.offset = start + batch.len();
        let total = Some(ids.len() as u64);
        let next_token = (self.offset < ids.len()).then(|| self.offset.to_string());
        self.done = next_token.is_none();
        let records = records_of(connector, self.data_type, objects).await?;
        Ok(Some(VendorPage {
            records,
            next_token,
            total,
            plan: None,
        }))
    }

    /// A full listing of more batches than one retrieves them side by side: each batch of the
    /// ids Search returned is a partition of one call. `None` for a listing that stays
    /// sequential.
    async fn split_batches(
        &mut self,
        object_type: &'static str,
    ) -> Result<Option<Partitioned<'a, usize>>, ConnectorError> {
        let Some(ids) = self.ids.clone() else {
            return Ok(None);
        };
        let size = self.connector.batch_size().await?.max(1);
        if self.mode != PullMode::Full || self.concurrency < 2 || ids.len() <= size {
            return Ok(None);
        }
        let connector = self.connector;
        let data_type = self.data_type;
        let total = Some(ids.len() as u64);
        let fetch: FetchPage<'a, usize> = Box::new(move |start: usize| {
            let ids = ids.clone();
            Box::pin(async move {
                let batch = &ids[start.min(ids.len())..(start + size).min(ids.len())];
                let objects = connector.retrieve(object_type, batch).await?;
                Ok(Fetched {
                    records: records_of(connector, data_type, objects).await?,
                    next: None,
                    total: None,
                })
            })
        });
        if let Some(token) = self.split_token.take() {
            return Ok(Partitioned::resume(&token, self.concurrency, fetch));
        }
        let len = self.ids.as_ref().map_or(0, |ids| ids.len());
        let batches: Vec<usize> = (self.offset..len).step_by(size).collect();
        let plan = ListingPlan {
            partitions: batches.len() as u32,
            extra_calls: 0,
        };
        Ok(Some(Partitioned::new(
            batches,
            self.concurrency,
            total,
            Some(plan),
            fetch,
        )))
    }
}

/// Retrieved objects as the data type's records: this event's only (GetUpdated reports every
/// event's changes), registrations with their contacts, session registrations one per row.
async fn records_of(
    connector: &CventSoap,
    data_type: DataType,
    objects: Vec<Element>,
) -> Result<Vec<VendorRecord>, ConnectorError> {
    let event_id = connector.event_id().await?;
    let objects: Vec<Element> = objects
        .into_iter()
        .filter(|o| {
            o.attribute("EventId")
                .is_none_or(|id| id.eq_ignore_ascii_case(&event_id))
        })
        .collect();
    Ok(match data_type {
        DataType::People => people(connector, objects).await?,
        DataType::SessionRegistrations => session_registrations(&objects),
        _ => objects
            .iter()
            .map(|o| VendorRecord::from_value(&xml::to_json(o)))
            .collect(),
    })
}

/// Registrations with their contacts, and their guests as people of their own.
async fn people(
    connector: &CventSoap,
    registrations: Vec<Element>,
) -> Result<Vec<VendorRecord>, ConnectorError> {
    let mut contact_ids: Vec<String> = Vec::new();
    for registration in &registrations {
        if let Some(id) = registration
            .attribute("ContactId")
            .filter(|id| !id.is_empty())
            && !contact_ids.iter().any(|c| c == id)
        {
            contact_ids.push(id.to_string());
        }
    }
    let contacts = if contact_ids.is_empty() {
        Vec::new()
    } else {
        connector.retrieve("Contact", &contact_ids).await?
    };
    let mut records = Vec::with_capacity(registrations.len() + registrations.len() / 8);
    for registration in &registrations {
        let mut raw = xml::to_json(registration);
        let contact = registration.attribute("ContactId").and_then(|id| {
            contacts.iter().find(|c| {
                c.attribute("Id")
                    .is_some_and(|v| v.eq_ignore_ascii_case(id))
            })
        });
        let guests = raw
            .as_object_mut()
            .and_then(|o| o.remove("guestdetail"))
            .and_then(|g| match g {
                Value::Array(list) => Some(list),
                _ => None,
            })
            .unwrap_or_default();
        if let Some(object) = raw.as_object_mut() {
            if let Some(contact) = contact {
                object.insert("contact".into(), xml::to_json(contact));
            }
            object.insert("guest".into(), json!(false));
            object.insert("primaryid".into(), json!(""));
        }
        for guest in guests {
            let mut guest_raw = guest;
            if let Some(object) = guest_raw.as_object_mut() {
                let id = object.get("guestid").cloned().unwrap_or(Value::Null);
                object.insert("id".into(), id);
                object.insert("status".into(), raw["status"].clone());
                object.insert("guest".into(), json!(true));
                object.insert("primaryid".into(), raw["id"].clone());
                object.insert("lastmodifieddate".into(), raw["lastmodifieddate"].clone());
            }
            records.push(VendorRecord::from_value(&guest_raw));
        }
        records.push(VendorRecord::from_value(&raw));
    }
    Ok(records)
}

/// Each registration's session orders, with the registration under `registration`.
fn session_registrations(registrations: &[Element]) -> Vec<VendorRecord> {
    let mut records = Vec::new();
    for registration in registrations {
        let summary = json!({
            "id": registration.attribute("Id").unwrap_or_default(),
            "contactid": registration.attribute("ContactId").unwrap_or_default(),
            "status": registration.attribute("Status").unwrap_or_default(),
        });
        for order in registration
            .children_named("OrderDetail")
            .filter(|o| o.attribute("ProductType") == Some("Session"))
        {
            let mut raw = xml::to_json(order);
            if let Some(object) = raw.as_object_mut() {
                object.insert("registration".into(), summary.clone());
            }
            records.push(VendorRecord::from_value(&raw));
        }
    }
    records
}

/// Builds a connector for a connection.
pub fn connect(config: CventSoapConfig, facts: Facts) -> Result<Arc<CventSoap>, ConnectorError> {
    CventSoap::new(config, facts).map(Arc::new)
}

//! Aventri's API v2 (`https://api-{na,emea,apac}.eventscloud.com/api/v2`, or an explicit
//! endpoint ending in `/api/v2`).
//!
//! - Auth: `global/authorize.json` with `accountid` and `key` gives an `accesstoken`, sent as a
//!   query parameter on every call (never logged: URLs are not logged and transport errors are
//!   stripped of them). Used for nine minutes, and renewed once on an error object about it.
//! - Answers: arrays on success, `{"error": {…}}` otherwise; a listing ends on the error object
//!   that means "no more results" (`No … found`), so every listing costs one call past its end.
//! - Paging: `offset` and `limit` (default 2,000); on a gateway error (500, 502, 504 — APIv2's
//!   answer to a response over 10 MB) the page is asked again at half the size.
//! - Rate limit: 400 requests per minute per requester, kept by the shared budget at 6.5 calls a
//!   second with bursts of 5 (at most 395 in any minute); 429s are retried with backoff.
//! - Data types: people, sponsors and schedule (session registrations) all come from
//!   `ereg/listAttendees.json` (with `fields`, or `getAttendee` per record when the account
//!   ignores `fields` and lists no category): registrations whose category is the sponsor category ("Sponsor") are
//!   sponsors, never people (seed 004). Sponsor levels are that category's subcategories
//!   (`ereg/listCategories.json`). Sessions (`ereg/listSessions.json`) get `sessionstart` and
//!   `sessionend`, composed from `sessiondate` with `starttime`/`endtime` at the event's UTC
//!   offset — absent when a time is missing, so such sessions are rejected as having no start
//!   or end. With a `ConcurrentSessionsTitle`, sessions flagged `in_slot` that share a start
//!   time get a master session of that title (`master-<date>-<time>`), and each points at it
//!   through `master_sessionid`.
//! - Incremental: `lastmodified-gt` on attendees, from the last sync's newest `lastmodified`
//!   less the modified-since overlap (a day by default: "only data modified up to a day since
//!   last sync"), converted to the event's local time. Sessions and speakers are listed in full.
//! - Dates: Aventri's `0000-00-00` and `0000-00-00 00:00:00` are read as empty.
//! - Photos: with a presenter or person photo endpoint (a URL with `{speakerid}` or
//!   `{attendeeid}`), each photo is fetched, checked to be an image no larger than 5 MB, and kept
//!   by reference as `photo.url` (`photo.error` says why one was refused). Files uploaded into an
//!   "Upload image"/"Upload file" question are checked the same way, as
//!   `responses.<question>.checked.url`: the column a mapping points `photo_url` at (seed 004).

mod client;
mod defaults;
mod stripes;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{FixedOffset, NaiveDateTime, TimeZone};
use pipeline::{DataType, Mapping};
use serde_json::{Value, json};

pub use client::Credentials;
use client::{Client, Reply};
pub use defaults::default_mapping;

use crate::budget::{Limits, RateBudget};
use crate::{
    CheckReport, ConnectorError, PullMode, PullSpec, RetryPolicy, VendorPage, VendorRecord,
};

pub const KIND: &str = "aventri";

pub const DATA_TYPES: &[DataType] = &[
    DataType::People,
    DataType::Speakers,
    DataType::Sessions,
    DataType::SessionRegistrations,
    DataType::Sponsors,
    DataType::SponsorLevels,
];

/// The page size asked for first: 2,000 full attendee records are about 2.5 MB, well inside the
/// 10 MB gateway limit (and a page size seen in working clients).
pub const PAGE_SIZE: u32 = 2_000;
/// The smallest page asked for after gateway errors.
const MIN_PAGE_SIZE: u32 = 10;
/// Photos larger than this are refused.
pub const MAX_PHOTO_BYTES: usize = 5 * 1024 * 1024;

/// The account a connection uses, as its rate budget is keyed.
pub fn account_key(endpoint: &str, account_id: &str) -> String {
    format!("{KIND}:{endpoint}:{account_id}")
}

/// The budget that keeps within 400 requests a minute: 5 at once, then 6.5 a second.
pub const LIMITS: Limits = Limits {
    per_second: 6.5,
    burst: 5.0,
    daily_quota: None,
};

/// Aventri's date-time format: event-local wall time without an offset.
const DATETIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// The columns asked of `listAttendees`: the standard attendee keys, contact fields, the
/// question responses and the session selections.
const ATTENDEE_FIELDS: &str = "attendeeid,parentid,name,fname,lname,email,company,title,phone,\
registrationstatus,testregistration,category,subcategory,approvalstatus,imiscontactid,language,\
created,lastmodified,checkindate,responses,sessions";

/// Where an Aventri account lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    NorthAmerica,
    Emea,
    Apac,
}

impl Region {
    pub fn parse(text: &str) -> Option<Region> {
        match text.to_ascii_lowercase().as_str() {
            "na" => Some(Region::NorthAmerica),
            "emea" => Some(Region::Emea),
            "apac" => Some(Region::Apac),
            _ => None,
        }
    }

    pub fn endpoint(self) -> &'static str {
        match self {
            Region::NorthAmerica => "https://api-na.eventscloud.com/api/v2",
            Region::Emea => "https://api-emea.eventscloud.com/api/v2",
            Region::Apac => "https://api-apac.eventscloud.com/api/v2",
        }
    }
}

/// A connection's settings.
#[derive(Debug, Clone)]
pub struct AventriConfig {
    pub connection: String,
    /// `…/api/v2`.
    pub endpoint: String,
    pub account_id: String,
    pub key: String,
    pub event_id: String,
    /// Registration statuses imported as active; the rest are imported as cancelled.
    pub active_statuses: Vec<String>,
    /// How far before the last sync's newest change an incremental sync looks again.
    pub modified_since_overlap: chrono::Duration,
    /// A URL with `{speakerid}`, where presenters' photos are.
    pub presenter_photo_endpoint: Option<String>,
    /// A URL with `{attendeeid}`, where people's photos are.
    pub person_photo_endpoint: Option<String>,
    /// The title of master sessions over concurrent sessions; `None` creates none.
    pub concurrent_sessions_title: Option<String>,
    /// The category whose registrations are sponsors.
    pub sponsor_category: String,
    /// The event's offset from UTC: Aventri's times are event-local.
    pub utc_offset: FixedOffset,
    pub page_size: u32,
    pub retry: RetryPolicy,
}

impl AventriConfig {
    pub const DEFAULT_ACTIVE_STATUSES: [&'static str; 2] = ["Confirmed", "Attended"];
}

/// Registration statuses seen in Aventri (none is documented publicly; the list is open, so
/// statuses outside it still import).
pub const REGISTRATION_STATUSES: &[&str] = &[
    "Confirmed",
    "Attended",
    "Cancelled",
    "Incomplete",
    "Pending",
    "Waitlisted",
    "Declined",
];

/// Every registration is imported unless `statuses` says otherwise: the active statuses decide
/// which count as active, the rest arrive as cancelled.
pub fn status_vocabulary(data_type: DataType) -> Option<crate::StatusVocabulary> {
    (data_type == DataType::People).then_some(crate::StatusVocabulary {
        valid: REGISTRATION_STATUSES,
        default: &[],
    })
}

/// Aventri has no status filter on `listAttendees`, so a status selection is judged by the
/// engine from this path.
pub fn status_path(data_type: DataType) -> Option<&'static str> {
    (data_type == DataType::People).then_some("registrationstatus")
}

/// Registrations keep their answers in `responses`, an object keyed by question id, each
/// holding the question's id, its name (the text asked) and the response.
const RESPONSES: [crate::QuestionAnswers; 1] = [crate::QuestionAnswers {
    paths: pipeline::rules::labels::AnswerPaths {
        list: "responses",
        question_id: "questionid",
        question_text: "name",
        value: "response",
    },
    keyed_by_id: true,
    labels: false,
}];

/// Where a data type's records hold answers to the event's questions: people and sponsors are
/// both registrations.
pub fn question_answers(data_type: DataType) -> &'static [crate::QuestionAnswers] {
    match data_type {
        DataType::People | DataType::Sponsors => &RESPONSES,
        _ => &[],
    }
}

pub fn supports_incremental(data_type: DataType) -> bool {
    matches!(
        data_type,
        DataType::People | DataType::Sponsors | DataType::SessionRegistrations
    )
}

/// An Aventri connection.
pub struct Aventri {
    config: AventriConfig,
    client: Client,
}

impl Aventri {
    pub fn new(config: AventriConfig) -> Result<Aventri, ConnectorError> {
        let connection = &config.connection;
        if config.account_id.trim().is_empty() || config.key.trim().is_empty() {
            return Err(ConnectorError::Config(format!(
                "connection '{connection}' needs account_id and key"
            )));
        }
        if config.event_id.trim().is_empty() {
            return Err(ConnectorError::Config(format!(
                "connection '{connection}' needs an event_id"
            )));
        }
        let budget = RateBudget::for_account(&account_key(&config.endpoint, &config.account_id));
        budget.set_limits(LIMITS);
        let credentials = Credentials {
            connection: config.connection.clone(),
            endpoint: config.endpoint.trim_end_matches('/').to_string(),
            account_id: config.account_id.clone(),
            key: config.key.clone(),
        };
        let client = Client::new(credentials, budget, config.retry);
        Ok(Aventri { config, client })
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

    pub fn default_mapping(&self, data_type: DataType) -> Mapping {
        defaults::default_mapping(data_type, &self.config.active_statuses)
    }

    /// A call whose error objects are failures (not "no results").
    async fn fetch(
        &self,
        function: &str,
        params: &[(&str, &str)],
    ) -> Result<Value, ConnectorError> {
        match self.client.call(function, params).await? {
            Reply::Data(body) => Ok(body),
            Reply::Error { field, message } => Err(self.refusal(function, &field, &message)),
            Reply::Gateway(status) => Err(ConnectorError::Transient(format!(
                "Aventri's gateway answered {function} with {status}"
            ))),
        }
    }

    /// What an error object means for this connection.
    fn refusal(&self, function: &str, field: &str, message: &str) -> ConnectorError {
        let connection = &self.config.connection;
        match field {
            "eventid" => ConnectorError::Forbidden {
                scope: format!("event {}", self.config.event_id),
                message: format!(
                    "Aventri refused event {} ({message}): check event_id for connection '{connection}', and that a non-master API key has been given this event in Settings > Account Settings > Integrations",
                    self.config.event_id
                ),
            },
            _ => {
                ConnectorError::Rejected(format!("Aventri refused {function} ({field}: {message})"))
            }
        }
    }

    pub async fn check(&self, data_types: &[DataType]) -> CheckReport {
        let mut report = CheckReport::default();
        let event = self
            .fetch("ereg/getEvent.json", &[("eventid", &self.config.event_id)])
            .await;
        match event {
            Ok(event) => {
                report.pass(
                    "credentials",
                    format!("Aventri accepted account {}", self.config.account_id),
                );
                report.pass(
                    "event",
                    format!(
                        "event {} is \"{}\"",
                        self.config.event_id,
                        event["name"].as_str().unwrap_or_default()
                    ),
                );
            }
            Err(error @ ConnectorError::Auth(_)) => {
                report.fail("credentials", error.to_string());
                return report;
            }
            Err(error) => {
                report.fail("event", error.to_string());
                return report;
            }
        }
        report.pass(
            "rate limit",
            "400 requests a minute per requester; eventsync keeps to 395",
        );
        for data_type in data_types {
            let source = Source::for_type(*data_type);
            let outcome = self.list_page(source, None, 0, 1).await;
            match outcome {
                Ok(_) => report.pass(
                    data_type.as_str(),
                    format!("readable ({})", source.function()),
                ),
                Err(error) => report.fail(data_type.as_str(), error.to_string()),
            }
        }
        report
    }

    /// One page of a listing: the records, or `None` past the end. Halves the page on gateway
    /// errors, and returns the page size that worked.
    async fn list_page(
        &self,
        source: Source,
        since: Option<&str>,
        offset: u64,
        limit: u32,
    ) -> Result<(Option<Vec<Value>>, u32), ConnectorError> {
        let mut limit = limit;
        loop {
            let offset_text = offset.to_string();
            let limit_text = limit.to_string();
            let mut params: Vec<(&str, &str)> = vec![
                ("eventid", &self.config.event_id),
                ("offset", &offset_text),
                ("limit", &limit_text),
            ];
            if source == Source::Attendees {
                params.push(("fields", ATTENDEE_FIELDS));
            }
            if let Some(since) = since {
                params.push(("lastmodified-gt", since));
            }
            let reply = self.client.call(source.function(), &params).await?;
            match self.listing_of(source, reply)? {
                Listing::Page(records) => return Ok((Some(records), limit)),
                Listing::End => return Ok((None, limit)),
                Listing::Gateway(status) if limit > MIN_PAGE_SIZE => {
                    let smaller = (limit / 2).max(MIN_PAGE_SIZE);
                    tracing::info!(function = source.function(), %status, limit, smaller, "Aventri's gateway failed; asking for smaller pages");
                    limit = smaller;
                }
                Listing::Gateway(status) => {
                    return Err(ConnectorError::Transient(format!(
                        "Aventri's gateway answered {} with {status} even for pages of {limit}",
                        source.function()
                    )));
                }
            }
        }
    }

    /// What a listing's answer says: a page of records, the end, or a gateway failure.
    fn listing_of(&self, source: Source, reply: Reply) -> Result<Listing, ConnectorError> {
        match reply {
            Reply::Data(Value::Array(records)) => Ok(Listing::Page(records)),
            Reply::Data(other) => Err(ConnectorError::Rejected(format!(
                "Aventri answered {} with {} instead of a list",
                source.function(),
                kind_of(&other)
            ))),
            Reply::Error { message, .. } if is_end_of_list(&message) => Ok(Listing::End),
            Reply::Error { field, message } => {
                Err(self.refusal(source.function(), &field, &message))
            }
            Reply::Gateway(status) => Ok(Listing::Gateway(status)),
        }
    }

    /// A listing answer of `data_type` (its HTTP status and body) as the page's records, `None`
    /// past the end: the steps [`Pull::next_page`] takes on what Aventri sent, without the
    /// calls it makes around them (`getAttendee` for summaries, photos). Reads any bytes.
    pub fn read_answer(
        &self,
        data_type: DataType,
        status: u16,
        body: &[u8],
    ) -> Result<Option<Vec<VendorRecord>>, ConnectorError> {
        let source = Source::for_type(data_type);
        let reply = reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|status| client::reply_of(status, body))
            .ok_or_else(|| {
                ConnectorError::Rejected(format!(
                    "Aventri answered {} with {status} and no error object",
                    source.function()
                ))
            })?;
        let raw = match self.listing_of(source, reply)? {
            Listing::Page(records) => records,
            Listing::End => return Ok(None),
            Listing::Gateway(status) => {
                return Err(ConnectorError::Transient(format!(
                    "Aventri's gateway answered {} with {status}",
                    source.function()
                )));
            }
        };
        let kept = match source {
            Source::Sessions => self.sessions_of(raw),
            Source::Categories => self.sponsor_levels(&raw),
            Source::Attendees | Source::Speakers => raw
                .into_iter()
                .filter_map(|mut record| self.keep(data_type, &mut record).then_some(record))
                .collect(),
        };
        Ok(Some(self.vendor_records(data_type, kept)))
    }

    /// A whole session listing, with Aventri's zero dates cleared, master sessions added and
    /// start and end composed.
    fn sessions_of(&self, mut all: Vec<Value>) -> Vec<Value> {
        all.iter_mut().for_each(clear_zero_dates);
        self.add_masters(&mut all);
        all.iter_mut().for_each(|s| self.compose_times(s));
        all
    }

    /// The sponsor category's subcategories, ranked in the order listed; a subcategory that is
    /// not an object is no level.
    fn sponsor_levels(&self, categories: &[Value]) -> Vec<Value> {
        categories
            .iter()
            .filter(|c| {
                c["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(&self.config.sponsor_category))
            })
            .flat_map(|c| c["subcategories"].as_array().cloned().unwrap_or_default())
            .filter(Value::is_object)
            .enumerate()
            .map(|(rank, mut level)| {
                level["rank"] = json!(rank + 1);
                level
            })
            .collect()
    }

    /// Clears an attendee's zero dates; whether the data type keeps it (sponsors are never
    /// people).
    fn keep(&self, data_type: DataType, record: &mut Value) -> bool {
        clear_zero_dates(record);
        match data_type {
            DataType::People | DataType::SessionRegistrations => !self.is_sponsor(record),
            DataType::Sponsors => self.is_sponsor(record),
            _ => true,
        }
    }

    /// The page's records as the engine takes them: session registrations one per selected
    /// session of each attendee.
    fn vendor_records(&self, data_type: DataType, kept: Vec<Value>) -> Vec<VendorRecord> {
        let mut records = Vec::with_capacity(kept.len());
        for record in kept {
            if data_type == DataType::SessionRegistrations {
                let attendee = record["attendeeid"].as_str().unwrap_or_default();
                for selection in record["sessions"].as_array().into_iter().flatten() {
                    let session = selection["sessionid"].as_str().unwrap_or_default();
                    records.push(VendorRecord::from_value(&json!({
                        "registrationid": format!("{attendee}-{session}"),
                        "attendeeid": attendee,
                        "sessionid": session,
                        "sessionkey": selection["sessionkey"],
                        "registrationstatus": record["registrationstatus"],
                        "lastmodified": record["lastmodified"],
                    })));
                }
                continue;
            }
            records.push(VendorRecord::from_value(&record));
        }
        records
    }

    pub async fn pull(&self, spec: PullSpec) -> Result<Pull<'_>, ConnectorError> {
        let since = match (&spec.mode, supports_incremental(spec.data_type)) {
            (PullMode::ModifiedSince(since), true) => Some(self.local_floor(since)?),
            _ => None,
        };
        let source = Source::for_type(spec.data_type);
        if let Some(split) = spec
            .resume_token
            .as_deref()
            .filter(|token| stripes::is_token(token))
            .and_then(|token| {
                stripes::resume(self, spec.data_type, source, token, spec.concurrency)
            })
        {
            return Ok(Pull {
                connector: self,
                data_type: spec.data_type,
                source,
                since,
                offset: 0,
                limit: self.config.page_size.max(MIN_PAGE_SIZE),
                done: false,
                concurrency: spec.concurrency,
                split: Some(split),
            });
        }
        let offset = match &spec.resume_token {
            Some(token) => token
                .parse::<u64>()
                .map_err(|_| ConnectorError::ExpiredPageToken {
                    token: token.clone(),
                })?,
            None => 0,
        };
        Ok(Pull {
            connector: self,
            data_type: spec.data_type,
            source,
            since,
            offset,
            limit: self.config.page_size.max(MIN_PAGE_SIZE),
            done: false,
            concurrency: spec.concurrency,
            split: None,
        })
    }

    /// The `lastmodified-gt` value for an RFC 3339 cursor: event-local, less the overlap.
    fn local_floor(&self, cursor: &str) -> Result<String, ConnectorError> {
        let at = chrono::DateTime::parse_from_rfc3339(cursor).map_err(|_| {
            ConnectorError::Config(format!(
                "the stored cursor '{cursor}' is not a timestamp: run a full sync (--full)"
            ))
        })?;
        let floor = at.with_timezone(&self.config.utc_offset) - self.config.modified_since_overlap;
        Ok(floor.naive_local().format(DATETIME_FORMAT).to_string())
    }

    /// An Aventri local date-time as RFC 3339, or `None` when unset or unreadable.
    fn instant(&self, local: &str) -> Option<String> {
        let naive = NaiveDateTime::parse_from_str(local.trim(), DATETIME_FORMAT).ok()?;
        let at = self
            .config
            .utc_offset
            .from_local_datetime(&naive)
            .single()?;
        Some(
            at.with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )
    }

    /// Sessions get RFC 3339 start and end from their date and times.
    fn compose_times(&self, session: &mut Value) {
        let date = session["sessiondate"]
            .as_str()
            .unwrap_or_default()
            .trim()
            .to_string();
        for (time_field, target) in [("starttime", "sessionstart"), ("endtime", "sessionend")] {
            let time = session[time_field].as_str().unwrap_or_default().trim();
            if date.is_empty() || time.is_empty() {
                continue;
            }
            let time = if time.len() == 5 {
                format!("{time}:00")
            } else {
                time.to_string()
            };
            if let Some(at) = self.instant(&format!("{date} {time}")) {
                session[target] = Value::String(at);
            }
        }
    }

    /// The photos of a page's records to fetch and check: the photo endpoint's (kept as
    /// `photo`) and every uploaded file of an "Upload image"/"Upload file" question (kept as
    /// `responses.<question>.checked`, which a mapping can read the URL from).
    fn photo_jobs(&self, records: &[Value], data_type: DataType) -> Vec<PhotoJob> {
        let (template, id_field) = match data_type {
            DataType::People => (self.config.person_photo_endpoint.as_deref(), "attendeeid"),
            DataType::Speakers => (self.config.presenter_photo_endpoint.as_deref(), "speakerid"),
            _ => return Vec::new(),
        };
        let mut jobs = Vec::new();
        for (index, record) in records.iter().enumerate() {
            if let (Some(template), Some(id)) = (template, record[id_field].as_str()) {
                jobs.push(PhotoJob {
                    record: index,
                    path: vec!["photo".to_string()],
                    url: template.replace(&format!("{{{id_field}}}"), id),
                });
            }
            let Some(responses) = record["responses"].as_object() else {
                continue;
            };
            for (question, answer) in responses {
                let upload = answer["type"]
                    .as_str()
                    .is_some_and(|t| t.to_ascii_lowercase().contains("upload"));
                let url = answer["response"].as_str().unwrap_or_default();
                if upload && (url.starts_with("https://") || url.starts_with("http://")) {
                    jobs.push(PhotoJob {
                        record: index,
                        path: vec![
                            "responses".to_string(),
                            question.clone(),
                            "checked".to_string(),
                        ],
                        url: url.to_string(),
                    });
                }
            }
        }
        jobs
    }

    /// Fetches and checks a page's photos, a few at a time, and writes what was found.
    async fn attach_photos(&self, records: &mut [Value], data_type: DataType) {
        let jobs = self.photo_jobs(records, data_type);
        let mut queue = jobs.into_iter();
        let mut running = tokio::task::JoinSet::new();
        loop {
            while running.len() < PHOTOS_AT_ONCE {
                let Some(job) = queue.next() else { break };
                let http = self.client.http().clone();
                running.spawn(async move {
                    let found = check_photo(&http, &job.url).await;
                    (job, found)
                });
            }
            let Some(finished) = running.join_next().await else {
                return;
            };
            let Ok((job, Some(found))) = finished else {
                continue;
            };
            let Some(mut target) = records.get_mut(job.record) else {
                continue;
            };
            for key in &job.path {
                if !target.is_object() {
                    break;
                }
                target = &mut target[key.as_str()];
            }
            if target.is_null() {
                *target = found;
            }
        }
    }

    fn is_sponsor(&self, attendee: &Value) -> bool {
        let category = &attendee["category"];
        let name = category["name"]
            .as_str()
            .or_else(|| category.as_str())
            .unwrap_or_default();
        name.eq_ignore_ascii_case(&self.config.sponsor_category)
    }

    /// Full records for attendees the account listed as summaries (it ignored `fields`). A
    /// summary may carry names, but without the category the sponsor rule cannot tell a
    /// sponsor from a person: a record lacking it is fetched whole.
    async fn complete(&self, attendee: Value) -> Result<Value, ConnectorError> {
        if !attendee["category"].is_null() {
            return Ok(attendee);
        }
        let Some(id) = attendee["attendeeid"].as_str() else {
            return Ok(attendee);
        };
        self.fetch(
            "ereg/getAttendee.json",
            &[("eventid", &self.config.event_id), ("attendeeid", id)],
        )
        .await
    }

    /// Master sessions over concurrent `in_slot` sessions, each child pointing at its master.
    fn add_masters(&self, sessions: &mut Vec<Value>) {
        let Some(title) = &self.config.concurrent_sessions_title else {
            return;
        };
        let mut slots: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
        for (index, session) in sessions.iter().enumerate() {
            let flagged = matches!(session["in_slot"].as_str(), Some("1" | "true" | "yes"));
            let date = session["sessiondate"].as_str().unwrap_or_default();
            let start = session["starttime"].as_str().unwrap_or_default();
            if flagged && !date.is_empty() && !start.is_empty() {
                slots
                    .entry((date.to_string(), start.to_string()))
                    .or_default()
                    .push(index);
            }
        }
        for ((date, start), members) in slots {
            if members.len() < 2 {
                continue;
            }
            let id = format!("master-{date}-{}", start.replace(':', ""));
            let end = members
                .iter()
                .filter_map(|&i| sessions[i]["endtime"].as_str())
                .max()
                .unwrap_or_default()
                .to_string();
            let modified = members
                .iter()
                .filter_map(|&i| sessions[i]["lastmodified"].as_str())
                .max()
                .unwrap_or_default()
                .to_string();
            for &member in &members {
                sessions[member]["master_sessionid"] = Value::String(id.clone());
            }
            sessions.push(json!({
                "sessionid": id,
                "name": title,
                "sessiondate": date,
                "starttime": start,
                "endtime": end,
                "in_slot": "0",
                "lastmodified": modified,
                "concurrent_sessionids": members.iter().map(|&i| sessions[i]["sessionid"].clone()).collect::<Vec<_>>(),
            }));
        }
    }
}

/// Photos fetched at the same time while a page is read.
const PHOTOS_AT_ONCE: usize = 8;

/// One photo to fetch, and where in which record of the page its check goes.
struct PhotoJob {
    record: usize,
    path: Vec<String>,
    url: String,
}

/// Fetches a photo and checks it: `{url, contenttype, bytes}` when it is an image no larger than
/// [`MAX_PHOTO_BYTES`], `{error}` otherwise, `None` when there is none (404).
async fn check_photo(http: &reqwest::Client, url: &str) -> Option<Value> {
    let response = match http.get(url).send().await {
        Ok(response) => response,
        Err(error) => {
            return Some(
                json!({"error": format!("cannot fetch the photo: {}", error.without_url())}),
            );
        }
    };
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return None;
    }
    if !response.status().is_success() {
        return Some(json!({"error": format!("the photo host answered {}", response.status())}));
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if !content_type.starts_with("image/") {
        return Some(json!({"error": format!("not an image ({content_type})")}));
    }
    let too_large = json!({"error": format!("larger than {MAX_PHOTO_BYTES} bytes")});
    if response
        .content_length()
        .is_some_and(|n| n as usize > MAX_PHOTO_BYTES)
    {
        return Some(too_large);
    }
    match response.bytes().await {
        Ok(bytes) if bytes.len() > MAX_PHOTO_BYTES => Some(too_large),
        Ok(bytes) => Some(json!({"url": url, "contenttype": content_type, "bytes": bytes.len()})),
        Err(error) => {
            Some(json!({"error": format!("the photo download failed: {}", error.without_url())}))
        }
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Object(_) => "an object",
        Value::String(_) => "text",
        Value::Null => "nothing",
        _ => "a scalar",
    }
}

/// The error object that ends a listing: "No attendees found", "No sessions found", ….
fn is_end_of_list(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.starts_with("no ") && lower.contains("found")
}

/// Replaces Aventri's zero dates with null, everywhere in a record.
fn clear_zero_dates(value: &mut Value) {
    match value {
        Value::String(text) if text.starts_with("0000-00-00") => *value = Value::Null,
        Value::Array(items) => items.iter_mut().for_each(clear_zero_dates),
        Value::Object(fields) => fields.values_mut().for_each(clear_zero_dates),
        _ => {}
    }
}

/// What a listing's answer says.
enum Listing {
    Page(Vec<Value>),
    End,
    Gateway(reqwest::StatusCode),
}

/// The Aventri function a data type is listed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Attendees,
    Sessions,
    Speakers,
    Categories,
}

impl Source {
    fn for_type(data_type: DataType) -> Source {
        match data_type {
            DataType::Sessions => Source::Sessions,
            DataType::Speakers => Source::Speakers,
            DataType::SponsorLevels => Source::Categories,
            _ => Source::Attendees,
        }
    }

    fn function(self) -> &'static str {
        match self {
            Source::Attendees => "ereg/listAttendees.json",
            Source::Sessions => "ereg/listSessions.json",
            Source::Speakers => "ereg/listSpeakers.json",
            Source::Categories => "ereg/listCategories.json",
        }
    }
}

/// One listing in progress; its resume token is the next offset.
pub struct Pull<'a> {
    connector: &'a Aventri,
    data_type: DataType,
    source: Source,
    since: Option<String>,
    offset: u64,
    limit: u32,
    done: bool,
    /// Calls a full listing may keep in flight.
    concurrency: usize,
    /// A full listing read in stripes side by side, once its first page showed it is long.
    split: Option<crate::partition::Partitioned<'a, stripes::Stripe>>,
}

impl Pull<'_> {
    pub async fn next_page(&mut self) -> Result<Option<VendorPage>, ConnectorError> {
        if let Some(split) = self.split.as_mut() {
            return split.next_page().await;
        }
        if self.done {
            return Ok(None);
        }
        let splittable = self.since.is_none()
            && self.offset == 0
            && self.concurrency > 1
            && matches!(self.source, Source::Attendees | Source::Speakers);
        let connector = self.connector;
        let mut raw = match self.source {
            // Sessions are read whole, so concurrent ones can be grouped under masters.
            Source::Sessions => {
                let mut all = Vec::new();
                while let (Some(page), limit) = connector
                    .list_page(self.source, None, self.offset, self.limit)
                    .await?
                {
                    self.limit = limit;
                    self.offset += page.len() as u64;
                    all.extend(page);
                }
                self.done = true;
                connector.sessions_of(all)
            }
            Source::Categories => {
                let categories = connector
                    .list_page(self.source, None, 0, self.limit)
                    .await?
                    .0
                    .unwrap_or_default();
                self.done = true;
                connector.sponsor_levels(&categories)
            }
            Source::Attendees | Source::Speakers => {
                let asked = self.limit;
                let started = std::time::Instant::now();
                let (page, limit) = connector
                    .list_page(self.source, self.since.as_deref(), self.offset, self.limit)
                    .await?;
                self.limit = limit;
                if let Some(page) = page.as_ref().filter(|page| {
                    splittable && limit == asked && page.len() as u64 == u64::from(limit)
                }) {
                    let records = connector
                        .records_of(self.data_type, self.source, page.clone())
                        .await?;
                    let split = stripes::split(
                        connector,
                        self.data_type,
                        self.source,
                        records,
                        limit,
                        self.concurrency,
                        started.elapsed(),
                    );
                    return self.split.insert(split).next_page().await;
                }
                match page {
                    Some(page) => {
                        self.offset += page.len() as u64;
                        page
                    }
                    None => {
                        self.done = true;
                        Vec::new()
                    }
                }
            }
        };
        let records = connector
            .records_of(self.data_type, self.source, std::mem::take(&mut raw))
            .await?;
        Ok(Some(VendorPage {
            records,
            next_token: (!self.done).then(|| self.offset.to_string()),
            total: None,
            plan: None,
        }))
    }
}

impl Aventri {
    /// A page of listed records as the data type's records: attendees listed in summary
    /// completed, records of other data types left out, photos attached.
    async fn records_of(
        &self,
        data_type: DataType,
        source: Source,
        raw: Vec<Value>,
    ) -> Result<Vec<VendorRecord>, ConnectorError> {
        let mut kept = Vec::with_capacity(raw.len());
        for mut record in raw {
            if source == Source::Attendees {
                record = self.complete(record).await?;
            }
            if self.keep(data_type, &mut record) {
                kept.push(record);
            }
        }
        self.attach_photos(&mut kept, data_type).await;
        Ok(self.vendor_records(data_type, kept))
    }
}

/// Reads a comma-separated status list, as the seed's "Active statuses" setting is written.
pub fn parse_statuses(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Builds a connector for a connection.
pub fn connect(config: AventriConfig) -> Result<Arc<Aventri>, ConnectorError> {
    Aventri::new(config).map(Arc::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connector(title: Option<&str>) -> Aventri {
        Aventri::new(AventriConfig {
            connection: "aventri".into(),
            endpoint: "http://127.0.0.1:9/api/v2".into(),
            account_id: "1".into(),
            key: "k".into(),
            event_id: "2".into(),
            active_statuses: parse_statuses("Confirmed, Attended"),
            modified_since_overlap: chrono::Duration::days(1),
            presenter_photo_endpoint: None,
            person_photo_endpoint: None,
            concurrent_sessions_title: title.map(str::to_string),
            sponsor_category: "Sponsor".into(),
            utc_offset: FixedOffset::east_opt(2 * 3600).expect("a valid offset"),
            page_size: PAGE_SIZE,
            retry: RetryPolicy::default(),
        })
        .expect("a valid configuration")
    }

    #[test]
    fn session_times_are_composed_at_the_event_offset() {
        let aventri = connector(None);
        let cases = [
            (
                json!({"sessiondate": "2027-10-12", "starttime": "09:00:00", "endtime": "10:00"}),
                Some("2027-10-12T07:00:00Z"),
                Some("2027-10-12T08:00:00Z"),
            ),
            (
                json!({"sessiondate": "2027-10-12", "starttime": "", "endtime": ""}),
                None,
                None,
            ),
            (
                json!({"sessiondate": "", "starttime": "09:00:00"}),
                None,
                None,
            ),
            (
                json!({"sessiondate": "2027-10-12", "starttime": "nine"}),
                None,
                None,
            ),
        ];
        for (mut session, start, end) in cases {
            aventri.compose_times(&mut session);
            assert_eq!(session["sessionstart"].as_str(), start, "{session}");
            assert_eq!(session["sessionend"].as_str(), end, "{session}");
        }
    }

    #[test]
    fn cursors_become_local_floors_a_day_earlier() {
        let aventri = connector(None);
        assert_eq!(
            aventri.local_floor("2026-11-02T10:00:00Z").ok().as_deref(),
            Some("2026-11-01 12:00:00")
        );
        assert!(aventri.local_floor("yesterday").is_err());
        assert_eq!(
            aventri.instant("2026-11-01 12:00:00").as_deref(),
            Some("2026-11-01T10:00:00Z")
        );
        assert_eq!(aventri.instant("0000-00-00 00:00:00"), None);
    }

    #[test]
    fn zero_dates_read_as_empty() {
        let mut record =
            json!({"checkindate": "0000-00-00 00:00:00", "x": ["0000-00-00"], "y": "2026-01-01"});
        clear_zero_dates(&mut record);
        assert_eq!(
            record,
            json!({"checkindate": null, "x": [null], "y": "2026-01-01"})
        );
    }

    #[test]
    fn concurrent_in_slot_sessions_get_one_master() {
        let session = |id: &str, start: &str, in_slot: &str| json!({"sessionid": id, "sessiondate": "2027-10-12", "starttime": start, "endtime": "11:00:00", "in_slot": in_slot, "lastmodified": "2026-01-01 00:00:00"});
        let mut sessions = vec![
            session("1", "10:00:00", "1"),
            session("2", "10:00:00", "1"),
            session("3", "10:00:00", "0"),
            session("4", "12:00:00", "1"),
        ];
        connector(None).add_masters(&mut sessions.clone());
        connector(Some("Choose a breakout")).add_masters(&mut sessions);
        assert_eq!(sessions.len(), 5);
        let master = &sessions[4];
        assert_eq!(master["name"], "Choose a breakout");
        assert_eq!(master["sessionid"], "master-2027-10-12-100000");
        assert_eq!(master["concurrent_sessionids"], json!(["1", "2"]));
        assert_eq!(sessions[0]["master_sessionid"], master["sessionid"]);
        assert!(sessions[2].get("master_sessionid").is_none());
        assert!(sessions[3].get("master_sessionid").is_none());
    }

    #[test]
    fn end_of_list_and_statuses() {
        assert!(is_end_of_list("No attendees found"));
        assert!(is_end_of_list("no sessions found"));
        assert!(!is_end_of_list("Invalid eventid"));
        assert_eq!(
            parse_statuses(" Confirmed,Attended ,,"),
            ["Confirmed", "Attended"]
        );
        assert_eq!(
            Region::parse("EMEA").map(Region::endpoint),
            Some("https://api-emea.eventscloud.com/api/v2")
        );
        assert_eq!(Region::parse("eu"), None);
    }

    #[test]
    fn a_sponsor_level_that_is_not_an_object_is_skipped_not_a_panic() {
        let body = br#"[{"name": "Sponsor", "subcategories": [7, {"name": "Gold"}, "Silver"]}]"#;
        let levels = connector(None)
            .read_answer(DataType::SponsorLevels, 200, body)
            .expect("read")
            .expect("a page");
        assert_eq!(levels.len(), 1);
        let level = levels[0].json();
        assert_eq!(level["name"], "Gold");
        assert_eq!(level["rank"], 1);
    }

    #[test]
    fn answers_are_read_as_pages_ends_and_refusals() {
        let aventri = connector(None);
        let people = |status, body: &[u8]| aventri.read_answer(DataType::People, status, body);
        let page = people(200, br#"[{"attendeeid": "1", "fname": "Ada"}, {"attendeeid": "2", "category": {"name": "Sponsor"}}, 3]"#)
            .expect("read")
            .expect("a page");
        assert_eq!(
            page.len(),
            2,
            "the sponsor is no person; a scalar is passed on"
        );
        assert!(matches!(
            people(200, br#"{"error": {"data": "No attendees found"}}"#),
            Ok(None)
        ));
        assert!(matches!(
            people(200, br#"{"a": 1}"#),
            Err(ConnectorError::Rejected(_))
        ));
        assert!(matches!(
            people(502, b""),
            Err(ConnectorError::Transient(_))
        ));
        assert!(matches!(
            people(200, b"\xff not JSON"),
            Err(ConnectorError::Rejected(_))
        ));
    }
}

//! Vendor connectors: one module per registration platform, all behind the same interface.
//!
//! A connector knows its vendor's auth, paging, filters and rate limits, and hands the engine
//! pages of raw vendor records; it knows nothing of mappings, the workspace or runs. The engine
//! drives every connector the same way through [`AnyConnector`], the registry of kinds.

pub mod aventri;
pub mod budget;
mod clock;
pub mod cvent_rest;
pub mod cvent_soap;
mod error;
pub mod imis;
pub mod partition;
mod retry;

pub use clock::VendorClock;
pub use error::ConnectorError;
pub use retry::{RetryPolicy, WaitObserver, Waiting};

use pipeline::{DataType, Mapping};
use serde_json::value::RawValue;

/// How a pull selects records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullMode {
    /// Every record of the data type for the event.
    Full,
    /// Records modified at or after this vendor timestamp.
    ModifiedSince(String),
    /// The records filed under these vendor attendee ids, whenever modified: the travel requests
    /// of people new to the workspace, which a listing of recent changes would not bring again.
    /// Only data types the kind lists in [`AnyConnector::by_attendee`] are asked this way.
    OfAttendees(Vec<String>),
}

/// One pull of one data type, possibly resuming a listing the vendor still remembers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullSpec {
    pub data_type: DataType,
    pub mode: PullMode,
    /// The vendor's token for the next page of an interrupted listing of the same query.
    pub resume_token: Option<String>,
    /// Which vendor statuses to list; a connector that cannot ask for them lists every record
    /// and the engine judges each one.
    pub statuses: StatusQuery,
    /// Calls a full listing may keep in flight at once, each within the account's rate budget;
    /// 1 lists one page at a time.
    pub concurrency: usize,
}

/// How a full listing was split to be fetched side by side ([`partition`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListingPlan {
    pub partitions: u32,
    /// Calls spent on planning whose records were not kept: the price of the split.
    pub extra_calls: u64,
}

/// The statuses a pull asks the vendor for, in the vendor's spellings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum StatusQuery {
    #[default]
    Any,
    /// Only records with one of these statuses.
    In(Vec<String>),
    /// Only records with none of these statuses.
    NotIn(Vec<String>),
}

/// A vendor's statuses for one data type: every valid spelling, and the ones imported when the
/// configuration says nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusVocabulary {
    pub valid: &'static [&'static str],
    pub default: &'static [&'static str],
}

/// The statuses a connector kind knows for a data type, when it has any; used to check a
/// configuration before any connector exists.
pub fn status_vocabulary(kind: &str, data_type: DataType) -> Option<StatusVocabulary> {
    match kind {
        cvent_rest::KIND => cvent_rest::status_vocabulary(data_type),
        cvent_soap::KIND => cvent_soap::status_vocabulary(data_type),
        aventri::KIND => aventri::status_vocabulary(data_type),
        _ => None,
    }
}

/// The workspace fields a kind's default mapping fills for a data type; used to check a
/// configuration before any connector exists.
pub fn default_targets(kind: &str, data_type: DataType) -> Vec<String> {
    let mapping = match kind {
        cvent_rest::KIND => cvent_rest::default_mapping(data_type),
        cvent_soap::KIND => cvent_soap::default_mapping(data_type),
        aventri::KIND => aventri::default_mapping(data_type, &[]),
        _ => Mapping::default(),
    };
    mapping.rules.into_iter().map(|rule| rule.target).collect()
}

/// A raw vendor record. Its modification time is not carried: the cursor is the listing's
/// watermark, never a time read from records (ARCHITECTURE.md, "The watermark").
#[derive(Debug, Clone)]
pub struct VendorRecord {
    /// The record as JSON text, kept as the vendor sent it where the vendor speaks JSON: the
    /// engine flattens it without building a tree and stores it verbatim.
    pub raw: Box<RawValue>,
}

impl VendorRecord {
    /// The record parsed into a JSON value, for code that inspects a few records.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.raw.get()).unwrap_or(serde_json::Value::Null)
    }

    /// A record a connector built as a JSON value (from XML, say).
    pub fn from_value(raw: &serde_json::Value) -> VendorRecord {
        VendorRecord {
            // Serializing a `Value` cannot fail: its keys are strings and its numbers finite.
            raw: serde_json::value::to_raw_value(raw).unwrap_or_else(|_| RawValue::NULL.to_owned()),
        }
    }
}

/// A list of answers in a vendor's records, with each question's id and text beside its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuestionAnswers {
    pub paths: pipeline::rules::labels::AnswerPaths,
    /// The list is an object keyed by question id (`responses.<id>`), not a list whose
    /// positions move when the vendor's form does.
    pub keyed_by_id: bool,
    /// Data labels can name these questions (their answers are found by question id).
    pub labels: bool,
}

/// One page as the vendor served it.
#[derive(Debug, Clone)]
pub struct VendorPage {
    pub records: Vec<VendorRecord>,
    /// Resumes the listing after this page; `None` on the last page.
    pub next_token: Option<String>,
    /// The vendor's total for the query, when it reports one.
    pub total: Option<u64>,
    /// With the first page of a listing this run split into partitions: how it was split.
    pub plan: Option<ListingPlan>,
}

/// The outcome of a connection check, one line per finding.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckReport {
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub ok: bool,
    pub subject: String,
    pub detail: String,
}

impl CheckReport {
    pub fn ok(&self) -> bool {
        self.findings.iter().all(|f| f.ok)
    }

    pub(crate) fn pass(&mut self, subject: &str, detail: impl Into<String>) {
        self.findings.push(Finding {
            ok: true,
            subject: subject.into(),
            detail: detail.into(),
        });
    }

    pub(crate) fn fail(&mut self, subject: &str, detail: impl Into<String>) {
        self.findings.push(Finding {
            ok: false,
            subject: subject.into(),
            detail: detail.into(),
        });
    }
}

/// Every connector kind eventsync has; the engine dispatches through this.
pub enum AnyConnector {
    CventRest(cvent_rest::CventRest),
    CventSoap(cvent_soap::CventSoap),
    Aventri(aventri::Aventri),
}

/// A listing in progress.
pub enum AnyPull<'a> {
    CventRest(cvent_rest::Pull<'a>),
    CventSoap(cvent_soap::Pull<'a>),
    Aventri(aventri::Pull<'a>),
}

impl AnyConnector {
    pub fn kind(&self) -> &'static str {
        match self {
            AnyConnector::CventRest(_) => cvent_rest::KIND,
            AnyConnector::CventSoap(_) => cvent_soap::KIND,
            AnyConnector::Aventri(_) => aventri::KIND,
        }
    }

    pub fn data_types(&self) -> &'static [DataType] {
        match self {
            AnyConnector::CventRest(_) => cvent_rest::DATA_TYPES,
            AnyConnector::CventSoap(_) => cvent_soap::DATA_TYPES,
            AnyConnector::Aventri(_) => aventri::DATA_TYPES,
        }
    }

    /// Whether the vendor can list only records modified since a time for this data type.
    pub fn supports_incremental(&self, data_type: DataType) -> bool {
        match self {
            AnyConnector::CventRest(_) => cvent_rest::supports_incremental(data_type),
            AnyConnector::CventSoap(_) => cvent_soap::supports_incremental(data_type),
            AnyConnector::Aventri(_) => aventri::supports_incremental(data_type),
        }
    }

    /// Whether the vendor can list a data type's records by the attendees they are filed under
    /// ([`PullMode::OfAttendees`]).
    pub fn by_attendee(&self, data_type: DataType) -> bool {
        match self {
            AnyConnector::CventRest(_) => cvent_rest::by_attendee(data_type),
            AnyConnector::CventSoap(_) | AnyConnector::Aventri(_) => false,
        }
    }

    /// The flattened vendor path of a data type's status, for the status rule; `None` when the
    /// data type has no status to select by.
    pub fn status_path(&self, data_type: DataType) -> Option<&'static str> {
        match self {
            AnyConnector::CventRest(_) => cvent_rest::status_path(data_type),
            AnyConnector::CventSoap(_) => cvent_soap::status_path(data_type),
            AnyConnector::Aventri(_) => aventri::status_path(data_type),
        }
    }

    /// Where a data type's records keep answers that data labels can name (event questions,
    /// custom fields); empty when the kind has none.
    pub fn answer_paths(
        &self,
        data_type: DataType,
    ) -> &'static [pipeline::rules::labels::AnswerPaths] {
        match self {
            AnyConnector::CventRest(_) => cvent_rest::answer_paths(data_type),
            AnyConnector::CventSoap(_) | AnyConnector::Aventri(_) => &[],
        }
    }

    /// The questions and custom fields data labels can name; empty for kinds without answer
    /// paths.
    pub async fn questions(
        &self,
    ) -> Result<Vec<pipeline::rules::labels::Question>, ConnectorError> {
        match self {
            AnyConnector::CventRest(connector) => connector.questions().await,
            AnyConnector::CventSoap(_) | AnyConnector::Aventri(_) => Ok(Vec::new()),
        }
    }

    /// Whether a listing asks the vendor for [`PullSpec::statuses`] only; otherwise it lists
    /// every record and the engine judges each one's status.
    pub fn lists_by_status(&self, data_type: DataType) -> bool {
        match self {
            AnyConnector::CventRest(_) => cvent_rest::status_path(data_type).is_some(),
            AnyConnector::CventSoap(_) | AnyConnector::Aventri(_) => false,
        }
    }

    /// How many records of a data type with these statuses the vendor has, asked as cheaply as
    /// the vendor allows; `None` when the vendor does not count them.
    pub async fn count(
        &self,
        data_type: DataType,
        statuses: StatusQuery,
    ) -> Result<Option<u64>, ConnectorError> {
        match self {
            AnyConnector::CventRest(connector) => connector.count(data_type, statuses).await,
            // Neither lists by status, so the engine sees every record and counts them itself.
            AnyConnector::CventSoap(_) | AnyConnector::Aventri(_) => Ok(None),
        }
    }

    pub fn default_mapping(&self, data_type: DataType) -> Mapping {
        match self {
            AnyConnector::CventRest(_) => cvent_rest::default_mapping(data_type),
            AnyConnector::CventSoap(_) => cvent_soap::default_mapping(data_type),
            AnyConnector::Aventri(connector) => connector.default_mapping(data_type),
        }
    }

    pub async fn check(&self, data_types: &[DataType]) -> CheckReport {
        match self {
            AnyConnector::CventRest(connector) => connector.check(data_types).await,
            AnyConnector::CventSoap(connector) => connector.check(data_types).await,
            AnyConnector::Aventri(connector) => connector.check(data_types).await,
        }
    }

    pub async fn pull(&self, spec: PullSpec) -> Result<AnyPull<'_>, ConnectorError> {
        match self {
            AnyConnector::CventRest(connector) => {
                Ok(AnyPull::CventRest(connector.pull(spec).await?))
            }
            AnyConnector::CventSoap(connector) => {
                Ok(AnyPull::CventSoap(connector.pull(spec).await?))
            }
            AnyConnector::Aventri(connector) => Ok(AnyPull::Aventri(connector.pull(spec).await?)),
        }
    }

    /// What the connection has learned about the vendor account (event id, limits), to be kept
    /// for the next run; the engine stores it without looking inside.
    pub async fn facts(&self) -> serde_json::Value {
        match self {
            AnyConnector::CventRest(connector) => {
                serde_json::to_value(connector.facts().await).unwrap_or_default()
            }
            AnyConnector::CventSoap(connector) => {
                serde_json::to_value(connector.facts().await).unwrap_or_default()
            }
            // Aventri's settings name the event by id, and its limits are fixed: nothing to learn.
            AnyConnector::Aventri(_) => serde_json::Value::Null,
        }
    }

    /// The vendor's time at `ours`, a moment of this machine's clock, as the vendor's answers
    /// state it (see [`VendorClock`]).
    pub fn vendor_time(
        &self,
        ours: chrono::DateTime<chrono::Utc>,
    ) -> chrono::DateTime<chrono::Utc> {
        match self {
            AnyConnector::CventRest(connector) => connector.clock().at(ours),
            AnyConnector::CventSoap(connector) => connector.clock().at(ours),
            AnyConnector::Aventri(connector) => connector.clock().at(ours),
        }
    }

    /// Tells `observer` of every wait between attempts of a call — what the vendor answered
    /// and for how long — so that a run can show why it is not moving; `None` stops telling.
    pub fn observe_waits(&self, observer: Option<WaitObserver>) {
        match self {
            AnyConnector::CventRest(connector) => connector.observe_waits(observer),
            AnyConnector::CventSoap(connector) => connector.observe_waits(observer),
            AnyConnector::Aventri(connector) => connector.observe_waits(observer),
        }
    }

    /// Vendor calls made through this connector so far.
    pub fn calls(&self) -> u64 {
        match self {
            AnyConnector::CventRest(connector) => connector.calls(),
            AnyConnector::CventSoap(connector) => connector.calls(),
            AnyConnector::Aventri(connector) => connector.calls(),
        }
    }
}

impl AnyPull<'_> {
    /// The next page, or `None` when the listing is complete.
    pub async fn next_page(&mut self) -> Result<Option<VendorPage>, ConnectorError> {
        match self {
            AnyPull::CventRest(pull) => pull.next_page().await,
            AnyPull::CventSoap(pull) => pull.next_page().await,
            AnyPull::Aventri(pull) => pull.next_page().await,
        }
    }
}

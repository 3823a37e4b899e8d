//! One run — a preview or a sync of some data types of one connection.
//!
//! A sync commits each page in one transaction together with its checkpoint (the vendor's token
//! for the next page and when the listing began), and moves the cursor only with the listing's
//! last page, to the vendor's time as the listing began less a margin (the watermark). Killed at
//! any point, the next run resumes from the last committed page; records are upserted by
//! external id, so a page seen twice changes nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::hash::BuildHasher;
use std::path::PathBuf;

use connectors::{
    AnyConnector, ConnectorError, PullMode, PullSpec, RetryPolicy, StatusQuery, VendorPage,
    VendorRecord,
};
use pipeline::{
    Action, ActionKind, DataType, FieldValue, Filter, Mapping, Record, RejectReason, Rejection,
    StatusSelection, StatusVerdict,
};
use serde_json::{Map, Value};
use store::{
    Checkpoint, NewRun, PageCommit, RawJson, RunOutcome, Store, StoreError, StoredRecord,
    SyncState, Upsert, VendorTotals,
};

use crate::config::{Connection, DataConfig};
use crate::connect::connect;
use crate::facts;
use crate::report::{ReportWriter, Row};
use crate::sensitive;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunKind {
    Preview,
    Sync,
}

impl RunKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Preview => "preview",
            RunKind::Sync => "sync",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Succeeded,
    /// Some data types failed; the others completed.
    Partial,
    /// The vendor's daily quota ran out; state is saved and the run resumes after the reset.
    PausedQuota,
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Succeeded => "succeeded",
            RunStatus::Partial => "partial",
            RunStatus::PausedQuota => "paused_quota",
            RunStatus::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub kind: RunKind,
    pub data_types: Vec<DataType>,
    /// Ignore cursors and list everything.
    pub full: bool,
    pub report: Option<PathBuf>,
    pub retry: RetryPolicy,
}

/// What happened to one data type.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TypeSummary {
    pub mode: String,
    pub counts: BTreeMap<String, u64>,
    pub api_calls: u64,
    pub vendor_total: Option<u64>,
    pub cursor_before: Option<String>,
    pub cursor_after: Option<String>,
    /// The first rejections, with their reasons.
    pub rejected: Vec<(String, String)>,
    /// Each data label: the field it fills and the question's id and text, or why it fills
    /// nothing.
    pub labels: Vec<String>,
    /// The first records stored with a value changed (a NUL character dropped), each naming the
    /// record and where; the count is under [`NUL_DROPPED`].
    pub warnings: Vec<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RunReport {
    pub run_id: i64,
    pub kind: &'static str,
    pub status: RunStatus,
    pub types: BTreeMap<String, TypeSummary>,
    pub api_calls: u64,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    pub resets_at: Option<String>,
    pub report_rows: Option<u64>,
    pub seconds: f64,
}

/// Progress, for bars and logs.
#[derive(Debug, Clone)]
pub enum Progress {
    Started {
        data_type: DataType,
        mode: &'static str,
    },
    Page {
        data_type: DataType,
        records: u64,
        total: Option<u64>,
    },
    Finished {
        data_type: DataType,
    },
    /// A vendor call waits before trying again: what the vendor answered, which try comes next
    /// ("Cvent answered 503 Service Unavailable (try 2 of 5)"), and the seconds of the wait.
    Waiting {
        data_type: DataType,
        reason: String,
        seconds: u64,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the report: {0}")]
    Report(#[from] std::io::Error),
}

/// How many rejections a summary keeps; the CSV report has them all.
const REJECTIONS_KEPT: usize = 20;

/// The count and report label of a record the status rule skipped.
pub const SKIPPED: &str = "skipped";
/// The count and report label of a record a filter left out.
pub const FILTERED: &str = "filtered";
/// The count of records whose vendor values held NUL characters, dropped before anything else
/// saw them (PostgreSQL can store none); each such record is counted by its action as well.
pub const NUL_DROPPED: &str = "nul_dropped";

pub async fn run(
    store: &Store,
    connection: &Connection,
    options: &RunOptions,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<RunReport, EngineError> {
    let started = std::time::Instant::now();
    let known = facts::load(store, &connection.name).await?;
    let connector = connect(
        connection,
        &options.data_types,
        known.clone(),
        options.retry,
    )?;
    let warnings = connection.warnings.clone();
    let mut mappings = HashMap::new();
    for data_type in &options.data_types {
        let mapping = connection
            .data
            .get(data_type)
            .and_then(|d| d.mapping.clone())
            .unwrap_or_else(|| connector.default_mapping(*data_type));
        mappings.insert(*data_type, mapping);
    }
    let mut cursor_before = Map::new();
    for data_type in &options.data_types {
        let state = store.state(&connection.name, data_type.as_str()).await?;
        cursor_before.insert(
            data_type.as_str().into(),
            state
                .and_then(|s| s.cursor)
                .map_or(Value::Null, Value::String),
        );
    }
    let run_id = store
        .start_run(&NewRun {
            connection: connection.name.clone(),
            kind: options.kind.as_str().into(),
            data_types: options
                .data_types
                .iter()
                .map(|t| t.as_str().to_string())
                .collect(),
            cursor_before: Value::Object(cursor_before),
        })
        .await?;
    let mut report = match &options.report {
        Some(path) => Some(ReportWriter::create(path)?),
        None => None,
    };
    let mut types = BTreeMap::new();
    let mut errors = Vec::new();
    let mut status = RunStatus::Succeeded;
    let mut resets_at = None;
    let mut created = CreatedInPreview {
        // People new in this run are followed by their travel requests, when travel runs too.
        track_travellers: options.data_types.iter().any(|t| connector.by_attendee(*t)),
        ..CreatedInPreview::for_connection(connection)
    };
    let no_settings = DataConfig::default();
    for data_type in &options.data_types {
        let settings = connection.data.get(data_type).unwrap_or(&no_settings);
        let mut job = TypeRun {
            store,
            connector: &connector,
            connection: &connection.name,
            run_id,
            kind: options.kind,
            data_type: *data_type,
            mapping: &mappings[data_type],
            statuses: &settings.statuses,
            status_path: connector.status_path(*data_type),
            filters: &settings.filters,
            remove_outdated: settings.remove_outdated,
            present: None,
            labels: &settings.labels,
            resolved_labels: Vec::new(),
            guests: settings.guests,
            report: report.as_mut(),
            created: &mut created,
            summary: TypeSummary::default(),
            batch: None,
            in_flight: VecDeque::new(),
            written: None,
            tally: None,
            watermark_margin: connection.watermark_margin,
        };
        let calls_before = connector.calls();
        let outcome = telling_waits(
            &connector,
            *data_type,
            progress,
            job.run(options.full, progress),
        )
        .await;
        // Whatever happened, the page commit still in flight lands before the run moves on.
        let outcome = match (outcome, job.land().await) {
            (Err(error), _) => Err(error),
            (Ok(()), Err(error)) => Err(TypeError::Store(error)),
            (Ok(()), Ok(())) => Ok(()),
        };
        let mut summary = job.summary;
        // Calls that no page booked — those of a listing that failed before its first page, the
        // refused one included — are the account's all the same.
        let unbooked = (connector.calls() - calls_before).saturating_sub(summary.api_calls);
        if unbooked > 0 {
            summary.api_calls += unbooked;
            let counted = store
                .add_run_progress(run_id, data_type.as_str(), &BTreeMap::new(), unbooked)
                .await;
            if let Err(error) = counted {
                tracing::warn!(%error, run_id, "could not count the run's last calls");
            }
        }
        match outcome {
            Ok(()) => {}
            Err(TypeError::Store(error)) => {
                finish(
                    store,
                    run_id,
                    RunStatus::Failed,
                    &types,
                    vec![error.to_string()],
                    None,
                )
                .await;
                return Err(EngineError::Store(error));
            }
            Err(TypeError::Report(error)) => return Err(EngineError::Report(error)),
            Err(TypeError::Vendor(ConnectorError::QuotaExhausted { resets_at: at })) => {
                let message =
                    format!("{data_type}: paused — the vendor's daily quota is used up until {at}");
                summary.error = Some(message.clone());
                errors.push(message);
                resets_at = Some(at);
                status = RunStatus::PausedQuota;
                types.insert(data_type.as_str().to_string(), summary);
                break;
            }
            Err(TypeError::Vendor(error)) => {
                let message = format!("{data_type}: {error}");
                summary.error = Some(message.clone());
                errors.push(message);
                status = RunStatus::Partial;
            }
        }
        progress(Progress::Finished {
            data_type: *data_type,
        });
        types.insert(data_type.as_str().to_string(), summary);
    }
    if status == RunStatus::Partial && types.values().all(|t| t.error.is_some()) {
        status = RunStatus::Failed;
    }
    if options.kind == RunKind::Sync {
        let learned = connector.facts().await;
        if learned != known {
            facts::save(store, &connection.name, &learned).await?;
        }
    }
    let report_rows = match report {
        Some(writer) => Some(writer.finish()?),
        None => None,
    };
    finish(
        store,
        run_id,
        status,
        &types,
        errors.clone(),
        resets_at.clone(),
    )
    .await;
    Ok(RunReport {
        run_id,
        kind: options.kind.as_str(),
        status,
        api_calls: connector.calls(),
        warnings: with_record_warnings(warnings, &types),
        types,
        errors,
        resets_at,
        report_rows,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Records that came from a file instead of a vendor listing, for [`run_records`].
pub(crate) struct FileRecords {
    /// The run ledger's name for the run: `import-preview` or `import`.
    pub run_kind: &'static str,
    pub kind: RunKind,
    pub data_type: DataType,
    /// The connection's mapping, with a rule per data label the file fills.
    pub mapping: Mapping,
    pub records: Vec<VendorRecord>,
    /// Rows that never became records, each with its reason (which names the line).
    pub malformed: Vec<String>,
    pub report: Option<PathBuf>,
}

/// Runs records read from a file through the same mapping, status rule, filters, validation,
/// reference checks and diff as a sync of `connection`, a page at a time, and — for
/// [`RunKind::Sync`] — stores them. A file is not the vendor: the stream's cursor, checkpoint
/// and totals stay as they are, and nothing is removed as outdated. No vendor call is made.
pub(crate) async fn run_records(
    store: &Store,
    connection: &Connection,
    file: FileRecords,
) -> Result<RunReport, EngineError> {
    let started = std::time::Instant::now();
    let data_type = file.data_type;
    // Built for what it knows of the kind (status path, modification path); never asked to call.
    let connector = connect(
        connection,
        &[data_type],
        Value::Null,
        RetryPolicy::default(),
    )?;
    let state = store
        .state(&connection.name, data_type.as_str())
        .await?
        .unwrap_or_default();
    let run_id = store
        .start_run(&NewRun {
            connection: connection.name.clone(),
            kind: file.run_kind.into(),
            data_types: vec![data_type.as_str().to_string()],
            cursor_before: Value::Object(Map::from_iter([(
                data_type.as_str().to_string(),
                state.cursor.clone().map_or(Value::Null, Value::String),
            )])),
        })
        .await?;
    let mut report = match &file.report {
        Some(path) => Some(ReportWriter::create(path)?),
        None => None,
    };
    let no_settings = DataConfig::default();
    let settings = connection.data.get(&data_type).unwrap_or(&no_settings);
    let mut created = CreatedInPreview::for_connection(connection);
    let mut job = TypeRun {
        store,
        connector: &connector,
        connection: &connection.name,
        run_id,
        kind: file.kind,
        data_type,
        mapping: &file.mapping,
        statuses: &settings.statuses,
        status_path: connector.status_path(data_type),
        filters: &settings.filters,
        remove_outdated: false,
        present: None,
        // The file's label columns are rules of `mapping`.
        labels: &[],
        resolved_labels: Vec::new(),
        // The same rules as a sync: a file's guest registrations are tagged and derived alike.
        guests: settings.guests,
        report: report.as_mut(),
        created: &mut created,
        summary: TypeSummary {
            mode: "file".into(),
            cursor_before: state.cursor.clone(),
            cursor_after: state.cursor.clone(),
            ..TypeSummary::default()
        },
        batch: None,
        in_flight: VecDeque::new(),
        written: None,
        tally: None,
        watermark_margin: connection.watermark_margin,
    };
    let outcome = job.run_file(file.records, &file.malformed, &state).await;
    let summary = job.summary;
    let mut types = BTreeMap::new();
    types.insert(data_type.as_str().to_string(), summary);
    if let Err(error) = outcome {
        let (message, error) = match error {
            TypeError::Store(error) => (error.to_string(), EngineError::Store(error)),
            TypeError::Report(error) => (
                format!("cannot write the report: {error}"),
                EngineError::Report(error),
            ),
            // Nothing here calls the vendor; should that change, its error is still reported.
            TypeError::Vendor(error) => (error.to_string(), EngineError::Config(error.to_string())),
        };
        finish(
            store,
            run_id,
            RunStatus::Failed,
            &types,
            vec![message],
            None,
        )
        .await;
        return Err(error);
    }
    let status = RunStatus::Succeeded;
    let report_rows = match report {
        Some(writer) => Some(writer.finish()?),
        None => None,
    };
    finish(store, run_id, status, &types, Vec::new(), None).await;
    Ok(RunReport {
        run_id,
        kind: file.run_kind,
        status,
        warnings: with_record_warnings(connection.warnings.clone(), &types),
        types,
        api_calls: 0,
        errors: Vec::new(),
        resets_at: None,
        report_rows,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// How many file records go through the pipeline and into the store at a time.
const FILE_PAGE: usize = 200;

/// Runs `work`, telling `progress` of each wait between a vendor call's attempts, so that a run
/// held up by an answer such as 503 says so instead of going quiet.
async fn telling_waits<T>(
    connector: &AnyConnector,
    data_type: DataType,
    progress: &(dyn Fn(Progress) + Send + Sync),
    work: impl std::future::Future<Output = T>,
) -> T {
    let (sender, mut waits) = tokio::sync::mpsc::unbounded_channel();
    connector.observe_waits(Some(std::sync::Arc::new(move |waiting| {
        let _ = sender.send(waiting);
    })));
    let mut work = std::pin::pin!(work);
    let outcome = loop {
        tokio::select! {
            outcome = &mut work => break outcome,
            Some(waiting) = waits.recv() => {
                let connectors::Waiting { reason, delay, attempt, attempts } = waiting;
                progress(Progress::Waiting {
                    data_type,
                    reason: format!("{reason} (try {attempt} of {attempts})"),
                    seconds: delay.as_secs_f64().ceil() as u64,
                });
            }
        }
    };
    connector.observe_waits(None);
    outcome
}

async fn finish(
    store: &Store,
    run_id: i64,
    status: RunStatus,
    types: &BTreeMap<String, TypeSummary>,
    errors: Vec<String>,
    resets_at: Option<String>,
) {
    let cursor_after: Map<String, Value> = types
        .iter()
        .map(|(t, s)| {
            (
                t.clone(),
                s.cursor_after.clone().map_or(Value::Null, Value::String),
            )
        })
        .collect();
    let outcome = RunOutcome {
        status: status.as_str().into(),
        cursor_after: Value::Object(cursor_after),
        errors,
        resets_at,
    };
    if let Err(error) = store.finish_run(run_id, &outcome).await {
        tracing::error!(%error, run_id, "could not record the end of the run");
    }
}

enum TypeError {
    Vendor(ConnectorError),
    Store(StoreError),
    Report(std::io::Error),
}

impl From<ConnectorError> for TypeError {
    fn from(error: ConnectorError) -> Self {
        TypeError::Vendor(error)
    }
}

impl From<StoreError> for TypeError {
    fn from(error: StoreError) -> Self {
        TypeError::Store(error)
    }
}

impl From<std::io::Error> for TypeError {
    fn from(error: std::io::Error) -> Self {
        TypeError::Report(error)
    }
}

/// What earlier data types of a run leave for later ones: the external ids a preview would
/// create (so later data types in the same preview can refer to them), the guests a preview
/// would store, and the people new to the workspace whose travel requests to follow.
#[derive(Default)]
struct CreatedInPreview {
    ids: HashMap<DataType, HashSet<String>>,
    /// People a preview would create or change who are guests, for the guest rules.
    guests: HashMap<String, pipeline::rules::guests::Guest>,
    track_travellers: bool,
    /// The vendor attendee ids that file the travel requests of people new in this run: a
    /// guest's are filed under their primary.
    travellers: BTreeSet<String>,
    /// The statuses imported, per data type that imports only some: a record pointing at one
    /// the workspace lacks (a declined attendee's session registration) is left out with it,
    /// not rejected.
    selected_statuses: HashMap<DataType, Vec<String>>,
    /// The data types with filters: a record pointing at one a filter left out is left out too.
    filtered_types: HashSet<DataType>,
    /// The records this run's rules left out, per data type, and the rule that did: what a
    /// record pointing at one of them is told.
    left_out: HashMap<DataType, HashMap<String, LeftOutBy>>,
}

/// The rule that kept a record out of the workspace.
#[derive(Debug, Clone)]
enum LeftOutBy {
    Status,
    /// A filter, with its explanation.
    Filter(String),
}

impl CreatedInPreview {
    /// Why a record pointing through `field` at `value`, a `target` the workspace lacks, is
    /// left out — naming the rule that kept `value` out: the one seen acting in this run, or,
    /// for a record this run did not list, the status rule (and the filters, when `target` has
    /// both) — with the report's label; `None` when no rule explains it (the reference is then
    /// rejected).
    fn left_out_by(
        &self,
        target: DataType,
        field: &str,
        value: &str,
    ) -> Option<(&'static str, String)> {
        let statuses = self.selected_statuses.get(&target);
        let status_reason = |statuses: &Vec<String>| {
            format!(
                "statuses to import: '{field}' refers to '{value}', not in the workspace; {target} are imported with status {} only",
                statuses.join(", ")
            )
        };
        match self.left_out.get(&target).and_then(|ids| ids.get(value)) {
            Some(LeftOutBy::Filter(explained)) => Some((
                FILTERED,
                format!(
                    "filters: '{field}' refers to '{value}', which a filter of {target} left out ({explained})"
                ),
            )),
            Some(LeftOutBy::Status) => statuses.map(|list| (SKIPPED, status_reason(list))),
            None => match (statuses, self.filtered_types.contains(&target)) {
                (Some(list), false) => Some((SKIPPED, status_reason(list))),
                (Some(list), true) => Some((
                    SKIPPED,
                    format!(
                        "statuses to import or filters: '{field}' refers to '{value}', not in the workspace; {target} are imported with status {} only, and only those their filters keep",
                        list.join(", ")
                    ),
                )),
                // Not seen in this run: a filter may have kept it out earlier, or the vendor
                // points at nothing; it is not guessed.
                (None, _) => None,
            },
        }
    }

    fn for_connection(connection: &Connection) -> CreatedInPreview {
        let selected_statuses = connection
            .data
            .iter()
            .filter(|(_, settings)| !settings.statuses.as_list().is_empty())
            .map(|(data_type, settings)| (*data_type, settings.statuses.as_list().to_vec()))
            .collect();
        let filtered_types = connection
            .data
            .iter()
            .filter(|(_, settings)| !settings.filters.is_empty())
            .map(|(data_type, _)| *data_type)
            .collect();
        CreatedInPreview {
            selected_statuses,
            filtered_types,
            ..CreatedInPreview::default()
        }
    }
}

struct TypeRun<'a> {
    store: &'a Store,
    connector: &'a AnyConnector,
    connection: &'a str,
    run_id: i64,
    kind: RunKind,
    data_type: DataType,
    mapping: &'a Mapping,
    /// The vendor statuses imported, and where a raw record holds its status.
    statuses: &'a StatusSelection,
    status_path: Option<&'static str>,
    filters: &'a [Filter],
    /// Whether records the vendor no longer has are removed after a complete full listing.
    remove_outdated: bool,
    /// The external ids the vendor listed in this run, kept while a complete full listing can
    /// tell which workspace records are outdated.
    present: Option<HashSet<String>>,
    labels: &'a [pipeline::rules::labels::Label],
    /// The labels matched to the vendor's questions, and where records keep their answers.
    resolved_labels: Vec<pipeline::rules::labels::ResolvedLabel>,
    /// The guest switches (session registrations).
    guests: pipeline::rules::guests::GuestOptions,
    report: Option<&'a mut ReportWriter>,
    created: &'a mut CreatedInPreview,
    summary: TypeSummary,
    /// Pages gathered for the next commit.
    batch: Option<Batch>,
    /// The commits of the last batches, oldest first, running while the next pages are
    /// fetched and mapped: at most [`BATCHES_IN_FLIGHT`].
    in_flight: VecDeque<InFlight>,
    /// When the workspace held none of the data type's records as the listing began: the ids
    /// this run has written since, as a Bloom filter. Only a page's ids the filter may hold are
    /// looked up in the store; on a first sync that is usually none, where each page used to
    /// cost a query that re-read the key index from the WAL.
    written: Option<Written>,
    /// What a sync's full listing has counted so far, while it is being seen whole in this run.
    tally: Option<Tally>,
    /// How far before a listing's start the next incremental listing asks from.
    watermark_margin: chrono::Duration,
}

/// What a sync's whole full listing counted, from which the stream's totals are worked out.
#[derive(Debug, Default)]
struct Tally {
    /// Records per action, as the run counts them.
    counts: BTreeMap<String, u64>,
    /// Records a filter left out or a rejection kept out that the workspace holds all the same
    /// (from an earlier sync): they are in the workspace's total, so they explain no difference.
    filtered_held: u64,
    rejected_held: u64,
    /// Records a rule derived from the listed ones (extra invitee registrations).
    derived: u64,
}

impl Tally {
    fn count(&self, action: &str) -> u64 {
        self.counts.get(action).copied().unwrap_or(0)
    }

    /// The totals of a listing of `listed` records after which the workspace holds `workspace`.
    /// `others` is `None` when the listing held every status, and otherwise the vendor's count
    /// of the statuses it left out (`Some(None)`: the vendor did not count them).
    fn totals(
        &self,
        listed: u64,
        workspace: u64,
        others: Option<Option<u64>>,
        run_id: i64,
        counted_at: String,
    ) -> VendorTotals {
        let admitted = self.count(ActionKind::Create.as_str())
            + self.count(ActionKind::Update.as_str())
            + self.count(ActionKind::Unchanged.as_str());
        let (vendor_total, left_out_by_status) = match others {
            // The engine saw every status and skipped those it did not import.
            None => (Some(listed), Some(self.count(SKIPPED))),
            Some(None) => (None, None),
            // The workspace records this listing did not return have a status outside the
            // selection (people who left it, kept up to date): they are among `others` but in
            // the workspace, so they are no part of what the status rule left out.
            Some(Some(others)) => {
                let held_outside = workspace.saturating_sub(admitted);
                (
                    Some(listed + others),
                    Some(others.saturating_sub(held_outside)),
                )
            }
        };
        VendorTotals {
            vendor_total,
            left_out_by_status,
            filtered: self.count(FILTERED).saturating_sub(self.filtered_held),
            rejected: self
                .count(ActionKind::Reject.as_str())
                .saturating_sub(self.rejected_held),
            derived: self.derived,
            counted_at,
            run_id,
        }
    }
}

/// The external ids written in this run, as a Bloom filter of fixed size: an id it has never
/// seen is surely not stored, one it answers for may be (about one in a thousand falsely at a
/// million ids, more beyond), which costs a lookup, never a wrong diff. Memory stays 4 MiB
/// however many records a run writes.
struct Written {
    bits: Vec<u64>,
    hasher: std::collections::hash_map::RandomState,
}

impl Written {
    /// 2^25 bits.
    const BITS: u64 = 1 << 25;
    fn new() -> Written {
        Written {
            bits: vec![0; (Self::BITS / 64) as usize],
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }

    /// The id's three bit positions, by double hashing from one 64-bit hash.
    fn positions(&self, id: &str) -> [usize; 3] {
        let hash = self.hasher.hash_one(id);
        let (first, step) = (hash & 0xffff_ffff, (hash >> 32) | 1);
        [0u64, 1, 2].map(|i| (first.wrapping_add(i.wrapping_mul(step)) % Self::BITS) as usize)
    }

    fn add(&mut self, id: &str) {
        for position in self.positions(id) {
            self.bits[position / 64] |= 1 << (position % 64);
        }
    }

    fn may_have(&self, id: &str) -> bool {
        self.positions(id)
            .into_iter()
            .all(|position| self.bits[position / 64] & (1 << (position % 64)) != 0)
    }
}

/// Records a sync gathers from consecutive pages into one commit (with the last page's
/// checkpoint). Each record written puts a new key at a random place in the key index, and a
/// commit writes every index page it touched: with commits of one 200-record page that was
/// about one page per record. With 4,000 records the index pages are shared, SQLite's
/// per-transaction work is paid once for twenty pages, and a sync of 100,000 attendees writes
/// about 40% fewer bytes.
const BATCH_RECORDS: usize = 4_000;

/// How long a batch gathers pages before it is written however few records it holds, so that
/// a slow listing still lands (and resumes) a page or so at a time.
const BATCH_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Batches a sync may have being written while the next one gathers.
const BATCHES_IN_FLIGHT: usize = 1;

/// Pages gathered into one commit, and the external ids they write.
struct Batch {
    commit: PageCommit,
    ids: HashSet<String>,
    gathering_since: std::time::Instant,
}

/// A commit in progress, and the external ids it writes.
struct InFlight {
    commit: tokio::task::JoinHandle<Result<(), StoreError>>,
    ids: HashSet<String>,
    /// Says whether the commit landed, for the next batch's commit to wait on.
    landed: Option<tokio::sync::oneshot::Receiver<bool>>,
}

impl InFlight {
    async fn land(self) -> Result<(), StoreError> {
        match self.commit.await {
            Ok(outcome) => outcome,
            Err(error) => Err(StoreError::Query(format!("a page commit stopped: {error}"))),
        }
    }
}

fn now() -> String {
    stamp(chrono::Utc::now())
}

/// A time as the store keeps it: RFC 3339 in UTC, to the millisecond.
fn stamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The cursor a listing that began at `began`, on the vendor's clock, leaves for the next
/// incremental listing; `None` when `began` is not a time (a checkpoint from elsewhere).
fn watermark(began: &str, margin: chrono::Duration) -> Option<String> {
    chrono::DateTime::parse_from_rfc3339(began)
        .ok()
        .map(|at| stamp(at.with_timezone(&chrono::Utc) - margin))
}

impl TypeRun<'_> {
    async fn run(
        &mut self,
        full: bool,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<(), TypeError> {
        let data_type = self.data_type;
        let state = self
            .store
            .state(self.connection, data_type.as_str())
            .await?
            .unwrap_or_default();
        let incremental =
            !full && self.connector.supports_incremental(data_type) && state.cursor.is_some();
        let mode = if incremental { "incremental" } else { "full" };
        self.summary.mode = mode.into();
        self.summary.cursor_before = state.cursor.clone();
        let pull_mode = match (&state.cursor, incremental) {
            (Some(cursor), true) => PullMode::ModifiedSince(cursor.clone()),
            _ => PullMode::Full,
        };
        // Resume an interrupted sync of the same kind where its last committed page left off.
        let resume = state
            .checkpoint
            .clone()
            .filter(|c| self.kind == RunKind::Sync && c.mode == mode);
        // The vendor's total is counted only from a sync's full listing seen whole in this run.
        let counting = self.kind == RunKind::Sync && !incremental && resume.is_none();
        // The watermark: the vendor's time as this listing began — for a resumed listing, as
        // the interrupted one began — read once the first answer has told the vendor's clock.
        let listing_began = chrono::Utc::now();
        let mut began = resume.as_ref().map(|c| c.started_at.clone());
        // A full listing asks only for the selected statuses, so excluded records cost no
        // calls; people the workspace already holds who left the selection since the last sync
        // come from a second, small listing of what changed. An incremental listing asks for
        // every change: it is as small, and it sees leavers in the same pages.
        let selected = match (self.statuses, self.status_path) {
            (StatusSelection::Only(list), Some(_)) if !incremental => Some(list.clone()),
            _ => None,
        };
        // Outdated records are known only from a listing of everything, seen whole in this run:
        // never from an incremental listing, nor one resumed from an earlier run's pages.
        if self.remove_outdated && !incremental && resume.is_none() {
            self.present = Some(HashSet::new());
        }
        progress(Progress::Started { data_type, mode });
        self.resolve_labels().await?;
        if let Some(list) = &selected {
            self.follow_leavers(&state, list).await?;
        }
        if incremental {
            self.follow_travellers(&state).await?;
        }
        if counting {
            self.tally = Some(Tally::default());
        }
        // The statuses the vendor leaves out of the listing, which it is asked to count.
        let left_to_vendor = selected
            .clone()
            .filter(|_| self.connector.lists_by_status(data_type));
        let mut spec = PullSpec {
            data_type,
            mode: pull_mode,
            resume_token: resume.and_then(|c| c.resume_token),
            statuses: selected.map_or(StatusQuery::Any, StatusQuery::In),
        };
        let mut seen = 0u64;
        if self
            .store
            .count(self.connection, data_type.as_str())
            .await?
            == 0
        {
            self.written = Some(Written::new());
        }
        let mut calls_before = self.connector.calls();
        let mut pull = self.connector.pull(spec.clone()).await?;
        let mut fetched = pull.next_page().await;
        loop {
            let page = match fetched {
                Ok(Some(page)) => page,
                Ok(None) => break,
                Err(ConnectorError::ExpiredPageToken { token }) if spec.resume_token.is_some() => {
                    tracing::info!(%token, %data_type, "the vendor forgot the resume token; listing again from the start");
                    spec.resume_token = None;
                    drop(pull);
                    pull = self.connector.pull(spec.clone()).await?;
                    fetched = pull.next_page().await;
                    continue;
                }
                Err(error) => return Err(error.into()),
            };
            let last = page.next_token.is_none();
            if page.total.is_some() {
                self.summary.vendor_total = page.total;
            }
            seen += page.records.len() as u64;
            let next_token = page.next_token.clone();
            // The next page is asked for while this one is mapped, so the vendor's time to answer
            // overlaps ours. Its outcome is looked at only after this page is committed: an
            // error there (quota, say) never costs the work already done.
            let Processed {
                upserts,
                mut counts,
            } = if last {
                fetched = Ok(None);
                self.process(page).await?
            } else {
                let (next, processed) = tokio::join!(pull.next_page(), self.process(page));
                fetched = next;
                processed?
            };
            let removals = if last {
                self.outdated().await?
            } else {
                Vec::new()
            };
            if !removals.is_empty() {
                counts.insert(
                    ActionKind::Remove.as_str().to_string(),
                    removals.len() as u64,
                );
            }
            let calls = self.connector.calls() - calls_before;
            calls_before += calls;
            self.summary.api_calls += calls;
            for (action, n) in &counts {
                *self.summary.counts.entry(action.clone()).or_default() += n;
                if let Some(tally) = self.tally.as_mut() {
                    *tally.counts.entry(action.clone()).or_default() += n;
                }
            }
            match self.kind {
                RunKind::Sync => {
                    let finished = now();
                    let began = began
                        .get_or_insert_with(|| stamp(self.connector.vendor_time(listing_began)))
                        .clone();
                    // Only a listing seen to its end moves the cursor, to where it began (less
                    // the margin): whatever changed while it ran is listed again next time.
                    let cursor = if last {
                        watermark(&began, self.watermark_margin).or_else(|| state.cursor.clone())
                    } else {
                        state.cursor.clone()
                    };
                    let commit = PageCommit {
                        run_id: self.run_id,
                        connection: self.connection.to_string(),
                        data_type: data_type.as_str().to_string(),
                        upserts,
                        removals,
                        state: SyncState {
                            cursor: cursor.clone(),
                            checkpoint: (!last).then(|| Checkpoint {
                                mode: mode.into(),
                                resume_token: next_token,
                                started_at: began,
                            }),
                            last_success_at: if last {
                                Some(finished.clone())
                            } else {
                                state.last_success_at.clone()
                            },
                            last_attempt_at: Some(finished.clone()),
                            last_full_sync_at: if last && !incremental {
                                Some(finished)
                            } else {
                                state.last_full_sync_at.clone()
                            },
                        },
                        counts,
                        api_calls: calls,
                    };
                    self.queue(commit).await?;
                    if last {
                        self.land().await?;
                        self.summary.cursor_after = cursor;
                    }
                }
                RunKind::Preview => {
                    self.store
                        .add_run_progress(self.run_id, data_type.as_str(), &counts, calls)
                        .await?;
                    if last {
                        self.summary.cursor_after = state.cursor.clone();
                    }
                }
            }
            progress(Progress::Page {
                data_type,
                records: seen,
                total: self.summary.vendor_total,
            });
        }
        if let Some(tally) = self.tally.take() {
            self.record_totals(&tally, seen, left_to_vendor).await?;
        }
        Ok(())
    }

    /// Keeps what this sync's whole full listing counted beside the stream's state: the
    /// vendor's total (the listing's size, plus — when the listing asked for the selected
    /// statuses only — the vendor's count of the others, one call) and what stayed out.
    async fn record_totals(
        &mut self,
        tally: &Tally,
        listed: u64,
        left_to_vendor: Option<Vec<String>>,
    ) -> Result<(), TypeError> {
        let data_type = self.data_type;
        let workspace = self
            .store
            .count(self.connection, data_type.as_str())
            .await?;
        let others = match left_to_vendor {
            None => None,
            Some(statuses) => {
                let calls_before = self.connector.calls();
                let counted = match self
                    .connector
                    .count(data_type, StatusQuery::NotIn(statuses))
                    .await
                {
                    Ok(counted) => counted,
                    // The sync itself is done: an unknown total is said so, never guessed.
                    Err(error) => {
                        tracing::warn!(%error, %data_type, "the vendor did not count the statuses left out");
                        None
                    }
                };
                let calls = self.connector.calls() - calls_before;
                self.summary.api_calls += calls;
                self.store
                    .add_run_progress(self.run_id, data_type.as_str(), &BTreeMap::new(), calls)
                    .await?;
                Some(counted)
            }
        };
        let totals = tally.totals(listed, workspace, others, self.run_id, now());
        self.store
            .set_totals(self.connection, data_type.as_str(), &totals)
            .await?;
        Ok(())
    }

    /// Runs a file's records a page at a time; malformed rows are counted and reported as
    /// rejections with their reasons. Stored pages keep the stream's state as it was.
    async fn run_file(
        &mut self,
        records: Vec<VendorRecord>,
        malformed: &[String],
        state: &SyncState,
    ) -> Result<(), TypeError> {
        let data_type = self.data_type;
        let reject = ActionKind::Reject.as_str();
        for reason in malformed {
            if self.summary.rejected.len() < REJECTIONS_KEPT {
                self.summary.rejected.push((String::new(), reason.clone()));
            }
            self.add_row(reject, "", String::new(), reason.clone(), Vec::new())?;
        }
        if !malformed.is_empty() {
            let counts = BTreeMap::from([(reject.to_string(), malformed.len() as u64)]);
            *self.summary.counts.entry(reject.to_string()).or_default() += malformed.len() as u64;
            self.store
                .add_run_progress(self.run_id, data_type.as_str(), &counts, 0)
                .await?;
        }
        let mut records = records.into_iter().peekable();
        while records.peek().is_some() {
            let page = VendorPage {
                records: records.by_ref().take(FILE_PAGE).collect(),
                next_token: None,
                total: None,
            };
            let Processed {
                upserts, counts, ..
            } = self.process(page).await?;
            self.apply_aside(upserts, counts, state, 0).await?;
        }
        Ok(())
    }

    /// Counts a page read aside from the stream's listing (a file, the leavers, new people's
    /// travel) and, in a sync, stores it with the stream's state unchanged.
    async fn apply_aside(
        &mut self,
        upserts: Vec<Upsert>,
        counts: BTreeMap<String, u64>,
        state: &SyncState,
        api_calls: u64,
    ) -> Result<(), StoreError> {
        for (action, n) in &counts {
            *self.summary.counts.entry(action.clone()).or_default() += n;
        }
        let data_type = self.data_type.as_str();
        match self.kind {
            RunKind::Sync => {
                self.store
                    .commit_page(&PageCommit {
                        run_id: self.run_id,
                        connection: self.connection.to_string(),
                        data_type: data_type.to_string(),
                        upserts,
                        removals: Vec::new(),
                        state: state.clone(),
                        counts,
                        api_calls,
                    })
                    .await
            }
            RunKind::Preview => {
                self.store
                    .add_run_progress(self.run_id, data_type, &counts, api_calls)
                    .await
            }
        }
    }

    /// Lists the records whose status is outside the selection and that changed since the last
    /// sync (all of them when there was none), so that people the workspace holds who left the
    /// selection — `Accepted` to `Cancelled` — are updated. Nothing else is kept from it, and
    /// the stream's state is left as it is: a killed run lists them again.
    async fn follow_leavers(
        &mut self,
        state: &SyncState,
        selected: &[String],
    ) -> Result<(), TypeError> {
        let data_type = self.data_type;
        if self
            .store
            .count(self.connection, data_type.as_str())
            .await?
            == 0
        {
            return Ok(());
        }
        let mode = match &state.cursor {
            // Removing outdated records needs every record the vendor has, leavers included.
            Some(cursor)
                if self.present.is_none() && self.connector.supports_incremental(data_type) =>
            {
                PullMode::ModifiedSince(cursor.clone())
            }
            _ => PullMode::Full,
        };
        let spec = PullSpec {
            data_type,
            mode,
            resume_token: None,
            statuses: StatusQuery::NotIn(selected.to_vec()),
        };
        self.list_aside(spec, state).await
    }

    /// A listing beside the main one (leavers, new people's travel): every page is processed
    /// and committed with the stream's state as it was, so the main listing's cursor and
    /// checkpoints are neither moved nor lost.
    async fn list_aside(&mut self, spec: PullSpec, state: &SyncState) -> Result<(), TypeError> {
        let mut calls_before = self.connector.calls();
        let mut pull = self.connector.pull(spec).await?;
        while let Some(page) = pull.next_page().await? {
            let Processed {
                upserts, counts, ..
            } = self.process(page).await?;
            let calls = self.connector.calls() - calls_before;
            calls_before += calls;
            self.summary.api_calls += calls;
            self.apply_aside(upserts, counts, state, calls).await?;
        }
        Ok(())
    }

    /// Lists the travel requests of people new to the workspace in this run, by the attendees
    /// Cvent files them under (in batches within Cvent's filter limit): they were rejected
    /// when their person was missing, and an incremental listing would not bring them again.
    /// Like the leavers' listing, it leaves the stream's state as it is.
    async fn follow_travellers(&mut self, state: &SyncState) -> Result<(), TypeError> {
        let data_type = self.data_type;
        if !self.connector.by_attendee(data_type) || self.created.travellers.is_empty() {
            return Ok(());
        }
        let attendees: Vec<String> = self.created.travellers.iter().cloned().collect();
        let spec = PullSpec {
            data_type,
            mode: PullMode::OfAttendees(attendees),
            resume_token: None,
            statuses: StatusQuery::Any,
        };
        self.list_aside(spec, state).await
    }

    /// Matches the data labels to the event's questions, once per run, and says in the summary
    /// what each fills.
    async fn resolve_labels(&mut self) -> Result<(), TypeError> {
        if self.labels.is_empty() {
            return Ok(());
        }
        let answers = !self.connector.answer_paths(self.data_type).is_empty();
        let questions = match answers {
            true => self.connector.questions().await?,
            false => Vec::new(),
        };
        for label in self.labels {
            match (answers, pipeline::rules::labels::resolve(label, &questions)) {
                (true, Some(resolved)) => {
                    self.summary.labels.push(format!(
                        "{} ← question {} \"{}\"",
                        resolved.target, resolved.question_id, resolved.question_text
                    ));
                    self.resolved_labels.push(resolved);
                }
                (true, None) => self.summary.labels.push(format!(
                    "{} ← '{}' is neither the id nor the code of a question or custom field of this event: it stays empty",
                    label.target(),
                    label.question
                )),
                (false, _) => self.summary.labels.push(format!(
                    "{} ← this connection's {} have no answers to questions: it stays empty",
                    label.target(),
                    self.data_type
                )),
            }
        }
        Ok(())
    }

    /// The workspace records the vendor did not list, once a complete full listing has been
    /// seen (empty otherwise), each reported as a removal.
    async fn outdated(&mut self) -> Result<Vec<String>, TypeError> {
        let Some(present) = self.present.take() else {
            return Ok(Vec::new());
        };
        let stored = self
            .store
            .external_ids(self.connection, self.data_type.as_str())
            .await?;
        let mut outdated: Vec<String> = stored
            .into_iter()
            // Records created in the workspace were never the vendor's to remove.
            .filter(|id| !present.contains(id) && !store::is_local_id(id))
            .collect();
        outdated.sort();
        for id in &outdated {
            self.add_row(
                ActionKind::Remove.as_str(),
                id,
                String::new(),
                "remove outdated data: the vendor no longer lists this record".to_string(),
                Vec::new(),
            )?;
        }
        Ok(outdated)
    }

    /// Adds a page to the batch being gathered, and sends the batch to be written once it holds
    /// [`BATCH_RECORDS`] records or has gathered for [`BATCH_WAIT`].
    async fn queue(&mut self, page: PageCommit) -> Result<(), StoreError> {
        let ids = page.upserts.iter().map(|r| r.external_id.clone());
        match self.batch.as_mut() {
            Some(batch) => {
                batch.ids.extend(ids);
                batch.commit.absorb(page);
            }
            None => {
                self.batch = Some(Batch {
                    ids: ids.collect(),
                    commit: page,
                    gathering_since: std::time::Instant::now(),
                })
            }
        }
        if self.batch.as_ref().is_some_and(|batch| {
            batch.commit.upserts.len() >= BATCH_RECORDS
                || batch.gathering_since.elapsed() >= BATCH_WAIT
        }) {
            self.send_batch();
            while self.in_flight.len() > BATCHES_IN_FLIGHT {
                if let Some(oldest) = self.in_flight.pop_front() {
                    oldest.land().await?;
                }
            }
        }
        Ok(())
    }

    /// Starts writing the batch gathered so far, if any. Batches are written in order, one at
    /// a time; each is written while the next pages are fetched and mapped, and packed while
    /// the one before it is written, which keeps both cores busy: the reading goes on while a
    /// write is held up by the disk, until the next batch is full.
    fn send_batch(&mut self) {
        let Some(Batch { commit, ids, .. }) = self.batch.take() else {
            return;
        };
        let before = self.in_flight.back_mut().and_then(|p| p.landed.take());
        let (landed, landed_signal) = tokio::sync::oneshot::channel();
        let store = self.store.clone();
        let handle = tokio::spawn(async move {
            let before = async move {
                match before {
                    Some(signal) => signal.await.unwrap_or(false),
                    None => true,
                }
            };
            let outcome = store.commit_page_after(&commit, before).await;
            let _ = landed.send(outcome.is_ok());
            outcome
        });
        self.in_flight.push_back(InFlight {
            commit: handle,
            ids,
            landed: Some(landed_signal),
        });
    }

    /// Writes the batch gathered so far and waits for every commit in flight.
    async fn land(&mut self) -> Result<(), StoreError> {
        self.send_batch();
        while let Some(pending) = self.in_flight.pop_front() {
            pending.land().await?;
        }
        Ok(())
    }

    /// Maps, validates and diffs one page; returns what to store and the counts per action.
    async fn process(&mut self, page: VendorPage) -> Result<Processed, TypeError> {
        let data_type = self.data_type;
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        let mut candidates: Vec<Candidate> = Vec::new();
        let mut rejections: Vec<Rejected> = Vec::new();
        // Records whose vendor status is not selected, by external id, with that status: the
        // diff loop keeps those the workspace already holds.
        let mut unselected: HashMap<String, Option<String>> = HashMap::new();
        // Records a filter left out, for the totals.
        let mut filtered_ids: Vec<String> = Vec::new();
        let mut nul_notes: Vec<(String, String)> = Vec::new();
        for VendorRecord { raw, .. } in page.records {
            let (raw, nul_paths) = drop_nul(raw);
            // Sensitive members are skipped unread as the record is flattened.
            let flattened = match pipeline::flatten_json(raw.get(), &sensitive::is_sensitive) {
                Ok(flattened) => flattened,
                Err(error) => {
                    let rejection = Rejection {
                        external_id: None,
                        reason: RejectReason::Malformed(format!(
                            "the vendor sent a record that is not valid JSON: {error}"
                        )),
                    };
                    rejections.push((rejection, Vec::new()));
                    continue;
                }
            };
            let flat = &flattened.flat;
            let paths: Vec<(String, String)> = if self.report.is_some() {
                flat.iter()
                    .map(|(path, value)| (path.to_string(), scalar_text(&value)))
                    .collect()
            } else {
                Vec::new()
            };
            let status = self
                .status_path
                .and_then(|path| flat.get(path))
                .map(|value| scalar_text(&value));
            let mut mapped = self.mapping.apply(flat, data_type);
            let answer_paths = self.connector.answer_paths(data_type);
            if !answer_paths.is_empty() {
                for label in &self.resolved_labels {
                    let answer = answer_paths.iter().find_map(|paths| {
                        pipeline::rules::labels::read_answer_in(flat, paths, &label.question_id)
                    });
                    match answer {
                        Some(answer) => {
                            mapped
                                .fields
                                .insert(label.target.clone(), FieldValue::Text(answer));
                        }
                        None => {
                            mapped.empty.insert(label.target.clone());
                        }
                    }
                }
            }
            if !nul_paths.is_empty() {
                let id = mapped.external_id.clone().unwrap_or_default();
                let note = self.note_nul(&id, &nul_paths);
                *counts.entry(NUL_DROPPED.to_string()).or_default() += 1;
                nul_notes.push((id, note));
            }
            let left_out = flattened.left_out;
            drop(flattened);
            let raw = if left_out == 0 {
                RawJson::from(raw)
            } else {
                sensitive::stripped(&raw)
            };
            if let (Some(present), Some(id)) = (self.present.as_mut(), &mapped.external_id) {
                present.insert(id.clone());
            }
            let empty = std::mem::take(&mut mapped.empty);
            let record = match pipeline::validate(mapped, data_type) {
                Ok(record) => record,
                Err(rejection) => {
                    rejections.push((rejection, paths));
                    continue;
                }
            };
            if !self.statuses.admits(status.as_deref()) {
                unselected.insert(record.external_id.clone(), status);
            } else {
                unselected.remove(&record.external_id);
                if let Some(failed) = pipeline::rules::filter::first_failed(self.filters, &record) {
                    let reason = pipeline::rules::filter::explain(failed, &record);
                    self.created.left_out.entry(data_type).or_default().insert(
                        record.external_id.clone(),
                        LeftOutBy::Filter(reason.clone()),
                    );
                    *counts.entry(FILTERED.to_string()).or_default() += 1;
                    if self.tally.is_some() {
                        filtered_ids.push(record.external_id.clone());
                    }
                    self.add_row(FILTERED, &record.external_id, String::new(), reason, paths)?;
                    continue;
                }
            }
            candidates.push((record, empty, raw, paths));
        }
        // A record listed twice in a page (the incremental boundary) counts once: the last wins.
        let mut positions: HashMap<String, usize> = HashMap::new();
        let mut unique = Vec::with_capacity(candidates.len());
        for candidate in candidates {
            match positions.get(&candidate.0.external_id) {
                Some(&index) => unique[index] = candidate,
                None => {
                    positions.insert(candidate.0.external_id.clone(), unique.len());
                    unique.push(candidate);
                }
            }
        }
        let mut notes: HashMap<String, String> = HashMap::new();
        let unique = self.apply_guest_rules(unique, &mut notes).await?;
        for (id, note) in nul_notes {
            notes
                .entry(id)
                .and_modify(|earlier| *earlier = format!("{earlier}; {note}"))
                .or_insert(note);
        }
        let (unique, referral_rejections, left_out) = self.check_references(unique).await?;
        rejections.extend(referral_rejections);
        for (external_id, label, reason, paths) in left_out {
            *counts.entry(label.to_string()).or_default() += 1;
            self.add_row(label, &external_id, String::new(), reason, paths)?;
        }
        if self.tally.is_some() {
            self.tally_held(&filtered_ids, &rejections).await?;
        }
        let ids: Vec<String> = unique.iter().map(|c| c.0.external_id.clone()).collect();
        // A record an earlier page is still gathering or writing must be read after that write
        // lands.
        if self
            .in_flight
            .iter()
            .map(|pending| &pending.ids)
            .chain(self.batch.as_ref().map(|batch| &batch.ids))
            .any(|written| ids.iter().any(|id| written.contains(id)))
        {
            self.land().await?;
        }
        let lookup: Vec<String> = match &self.written {
            Some(written) => ids
                .iter()
                .filter(|id| written.may_have(id))
                .cloned()
                .collect(),
            None => ids,
        };
        let existing = if lookup.is_empty() {
            HashMap::new()
        } else {
            self.store
                .records(self.connection, data_type.as_str(), &lookup)
                .await?
        };
        let mut upserts = Vec::new();
        for (record, empty, raw, paths) in unique {
            if let Some(status) = unselected.get(&record.external_id) {
                let held = existing.contains_key(&record.external_id);
                if let StatusVerdict::Skip(reason) = self.statuses.judge(status.as_deref(), held) {
                    self.created
                        .left_out
                        .entry(data_type)
                        .or_default()
                        .insert(record.external_id.clone(), LeftOutBy::Status);
                    *counts.entry(SKIPPED.to_string()).or_default() += 1;
                    self.add_row(
                        SKIPPED,
                        &record.external_id,
                        String::new(),
                        reason.to_string(),
                        paths,
                    )?;
                    continue;
                }
            }
            let previous = existing
                .get(&record.external_id)
                .map(|stored| to_record(data_type, stored));
            let action = pipeline::diff(&record, &empty, previous.as_ref());
            let kind = action.kind();
            if let Some(tally) = self.tally.as_mut()
                && pipeline::rules::guests::is_derived(&record.external_id)
            {
                tally.derived += 1;
            }
            *counts.entry(kind.as_str().to_string()).or_default() += 1;
            if kind == ActionKind::Create && self.kind == RunKind::Preview {
                self.created
                    .ids
                    .entry(data_type)
                    .or_default()
                    .insert(record.external_id.clone());
            }
            if data_type == DataType::People {
                self.remember_person(&record, kind, previous.as_ref());
            }
            if let Some(report) = self.report.as_deref_mut() {
                // Only a report names overwritten workspace edits: it maps the vendor's previous
                // record again, which a plain sync need not pay for.
                let edits = match existing.get(&record.external_id) {
                    Some(stored) if !action.changes().is_empty() => {
                        let last_raw = stored.raw.to_value();
                        let last_sent =
                            self.mapping.apply(&pipeline::flatten(&last_raw), data_type);
                        let edits = pipeline::rules::edits::overwritten(
                            action.changes(),
                            &last_sent.fields,
                        );
                        if edits.is_empty() {
                            String::new()
                        } else {
                            pipeline::rules::edits::describe(&edits)
                        }
                    }
                    _ => String::new(),
                };
                let reason = match notes.get(&record.external_id) {
                    Some(note) if edits.is_empty() => note.clone(),
                    Some(note) => format!("{note}; {edits}"),
                    None => edits,
                };
                report.add(&Row {
                    data_type: data_type.as_str().into(),
                    action: kind.as_str().into(),
                    external_id: record.external_id.clone(),
                    changes: describe_changes(&action),
                    reason,
                    paths,
                })?;
            }
            if !matches!(action, Action::Unchanged) {
                let merged = pipeline::merge(previous.as_ref(), &record, &empty);
                upserts.push(Upsert {
                    fields: RawJson::of(&merged.fields),
                    external_id: merged.external_id,
                    raw,
                });
            }
        }
        for (rejection, paths) in rejections {
            *counts
                .entry(ActionKind::Reject.as_str().to_string())
                .or_default() += 1;
            let id = rejection.external_id.clone().unwrap_or_default();
            let reason = rejection.reason.to_string();
            if self.summary.rejected.len() < REJECTIONS_KEPT {
                self.summary.rejected.push((id.clone(), reason.clone()));
            }
            if let Some(report) = self.report.as_deref_mut() {
                report.add(&Row {
                    data_type: data_type.as_str().into(),
                    action: ActionKind::Reject.as_str().into(),
                    external_id: id,
                    changes: String::new(),
                    reason,
                    paths,
                })?;
            }
        }
        if self.kind == RunKind::Sync
            && let Some(written) = self.written.as_mut()
        {
            for upsert in &upserts {
                written.add(&upsert.external_id);
            }
        }
        Ok(Processed { upserts, counts })
    }

    /// Counts the records left out of this page that the workspace holds from an earlier sync.
    async fn tally_held(
        &mut self,
        filtered: &[String],
        rejections: &[Rejected],
    ) -> Result<(), StoreError> {
        let rejected: Vec<String> = rejections
            .iter()
            .filter_map(|(rejection, _)| rejection.external_id.clone())
            .collect();
        let mut held = [0u64; 2];
        for (ids, held) in [filtered, rejected.as_slice()].into_iter().zip(&mut held) {
            if !ids.is_empty() {
                *held = self
                    .store
                    .records(self.connection, self.data_type.as_str(), ids)
                    .await?
                    .len() as u64;
            }
        }
        if let Some(tally) = self.tally.as_mut() {
            tally.filtered_held += held[0];
            tally.rejected_held += held[1];
        }
        Ok(())
    }

    /// Warns of a record whose NUL characters were dropped; returns the report's note for it.
    fn note_nul(&mut self, external_id: &str, paths: &[String]) -> String {
        let note = format!(
            "a NUL character, which the workspace cannot hold, was dropped from {}",
            paths.join(", ")
        );
        if self.summary.warnings.len() < REJECTIONS_KEPT {
            let data_type = self.data_type;
            self.summary
                .warnings
                .push(format!("{data_type} {external_id:?}: {note}"));
        }
        note
    }

    /// Adds a row to the report, when there is one.
    fn add_row(
        &mut self,
        action: &str,
        external_id: &str,
        changes: String,
        reason: String,
        paths: Vec<(String, String)>,
    ) -> std::io::Result<()> {
        match self.report.as_deref_mut() {
            Some(report) => report.add(&Row {
                data_type: self.data_type.as_str().into(),
                action: action.into(),
                external_id: external_id.into(),
                changes,
                reason,
                paths,
            }),
            None => Ok(()),
        }
    }

    /// Records must point at records the workspace has (`rules::references`): a session
    /// registration at its session and person, a travel request at its person. One that points
    /// at a record the status rule left out in this run is left out too, and says why.
    async fn check_references(
        &self,
        candidates: Vec<Candidate>,
    ) -> Result<(Vec<Candidate>, Vec<Rejected>, Vec<LeftOut>), StoreError> {
        let references = pipeline::rules::references::references(self.data_type);
        if references.is_empty() {
            return Ok((candidates, Vec::new(), Vec::new()));
        }
        let mut known: HashMap<DataType, HashSet<String>> = HashMap::new();
        for (field, target) in references {
            let ids: Vec<String> = candidates
                .iter()
                .filter_map(|c| {
                    c.0.fields
                        .get(*field)
                        .and_then(FieldValue::as_text)
                        .map(str::to_string)
                })
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            let found = self
                .store
                .records(self.connection, target.as_str(), &ids)
                .await?;
            let present = known.entry(*target).or_default();
            present.extend(found.into_keys());
            if let Some(created) = self.created.ids.get(target) {
                present.extend(ids.iter().filter(|id| created.contains(*id)).cloned());
            }
        }
        let is_known =
            |target: DataType, id: &str| known.get(&target).is_some_and(|ids| ids.contains(id));
        let mut kept = Vec::new();
        let mut rejected = Vec::new();
        let mut left_out = Vec::new();
        for candidate in candidates {
            match pipeline::rules::references::first_unknown(&candidate.0, &is_known) {
                Some(RejectReason::UnknownReference { field, value })
                    if let Some((label, reason)) = references
                        .iter()
                        .find(|(f, _)| *f == field)
                        .and_then(|(_, target)| {
                            self.created.left_out_by(*target, &field, &value)
                        }) =>
                {
                    left_out.push((candidate.0.external_id, label, reason, candidate.3));
                }
                Some(reason) => {
                    let rejection = Rejection {
                        external_id: Some(candidate.0.external_id.clone()),
                        reason,
                    };
                    rejected.push((rejection, candidate.3));
                }
                None => kept.push(candidate),
            }
        }
        Ok((kept, rejected, left_out))
    }

    /// The guest switches on session registrations (`rules::guests`): tags a guest's
    /// registrations and adds their primary's derived ones, noting for the report which rule
    /// did what.
    async fn apply_guest_rules(
        &mut self,
        candidates: Vec<Candidate>,
        notes: &mut HashMap<String, String>,
    ) -> Result<Vec<Candidate>, StoreError> {
        use pipeline::rules::guests::{self, Guest};
        if self.data_type != DataType::SessionRegistrations || !self.guests.any() {
            return Ok(candidates);
        }
        let person_ids: Vec<String> = candidates
            .iter()
            .filter_map(|c| {
                c.0.fields
                    .get("person_external_id")
                    .and_then(FieldValue::as_text)
                    .map(str::to_string)
            })
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let stored = self
            .store
            .records(self.connection, DataType::People.as_str(), &person_ids)
            .await?;
        let mut people: HashMap<String, Guest> = stored
            .values()
            .filter_map(|person| Guest::from_person(&to_record(DataType::People, person)))
            .map(|guest| (guest.external_id.clone(), guest))
            .collect();
        for id in &person_ids {
            if let Some(guest) = self.created.guests.get(id) {
                people.insert(id.clone(), guest.clone());
            }
        }
        let mut out = Vec::with_capacity(candidates.len());
        for (record, empty, raw, paths) in candidates {
            let guest = record
                .fields
                .get("person_external_id")
                .and_then(FieldValue::as_text)
                .and_then(|id| people.get(id));
            let outcome = guests::apply(self.guests, record, guest);
            if let Some(note) = &outcome.note {
                notes.insert(outcome.registration.external_id.clone(), note.to_string());
            }
            let derived = outcome.derived.map(|(derived, note)| {
                notes.insert(derived.external_id.clone(), note.to_string());
                if let Some(present) = self.present.as_mut() {
                    present.insert(derived.external_id.clone());
                }
                (derived, empty.clone(), raw.clone(), paths.clone())
            });
            out.push((outcome.registration, empty, raw, paths));
            out.extend(derived);
        }
        Ok(out)
    }

    /// Keeps what later data types of the run need to know about a person: a guest a preview
    /// would store, and the attendee filing the travel requests of a person new to the
    /// workspace.
    fn remember_person(&mut self, record: &Record, kind: ActionKind, previous: Option<&Record>) {
        let guest = record.fields.get("is_guest") == Some(&FieldValue::Bool(true));
        if self.kind == RunKind::Preview && guest {
            let merged = pipeline::merge(previous, record, &BTreeSet::new());
            if let Some(guest) = pipeline::rules::guests::Guest::from_person(&merged) {
                self.created.guests.insert(guest.external_id.clone(), guest);
            }
        }
        if self.created.track_travellers && kind == ActionKind::Create {
            let guest = pipeline::rules::guests::Guest::from_person(record);
            let holder =
                guest.map_or_else(|| record.external_id.clone(), |g| g.primary_external_id);
            self.created.travellers.insert(holder);
        }
    }
}

/// A valid record on its way to the diff: the record, the fields to leave alone, the raw vendor
/// record and its flattened paths for the report.
type Candidate = (Record, BTreeSet<String>, RawJson, Vec<(String, String)>);

/// What a page comes to: the records to store, the count per action, and the latest
/// modification time among its records.
struct Processed {
    upserts: Vec<Upsert>,
    counts: BTreeMap<String, u64>,
}

/// A rejection and the record's flattened paths for the report.
type Rejected = (Rejection, Vec<(String, String)>);

/// A record left out with what it refers to: its external id, the label of the rule that left
/// out what it refers to ([`SKIPPED`] or [`FILTERED`]), the reason and its paths.
type LeftOut = (String, &'static str, String, Vec<(String, String)>);

/// The run's warnings: the connection's, then each data type's about its records.
fn with_record_warnings(
    mut warnings: Vec<String>,
    types: &BTreeMap<String, TypeSummary>,
) -> Vec<String> {
    for summary in types.values() {
        warnings.extend(summary.warnings.iter().cloned());
    }
    warnings
}

/// The record without NUL characters, and the paths that held one. Every vendor's records come
/// through here as JSON text, so every store receives the same values.
fn drop_nul(
    raw: Box<serde_json::value::RawValue>,
) -> (Box<serde_json::value::RawValue>, Vec<String>) {
    match pipeline::drop_nul(raw.get(), &sensitive::is_sensitive) {
        Some(dropped) => match serde_json::value::RawValue::from_string(dropped.text) {
            Ok(cleaned) => (cleaned, dropped.paths),
            // Not valid JSON: the record is rejected as malformed on the way it came.
            Err(_) => (raw, Vec::new()),
        },
        None => (raw, Vec::new()),
    }
}

fn scalar_text(value: &pipeline::Scalar<'_>) -> String {
    match value {
        pipeline::Scalar::Null => String::new(),
        pipeline::Scalar::Bool(b) => b.to_string(),
        pipeline::Scalar::Number(n) => n.to_string(),
        pipeline::Scalar::Text(t) => t.to_string(),
    }
}

fn describe_changes(action: &Action) -> String {
    action
        .changes()
        .iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn to_record(data_type: DataType, stored: &StoredRecord) -> Record {
    Record {
        data_type,
        external_id: stored.external_id.clone(),
        fields: stored
            .fields
            .iter()
            .filter_map(|(k, v)| {
                serde_json::from_value::<FieldValue>(v.clone())
                    .ok()
                    .map(|v| (k.clone(), v))
            })
            .collect(),
    }
}

/// Whether an agenda export shows a stored record: sessions hidden because the vendor cancelled
/// them stay in the workspace (a later un-cancel restores them) but leave the agenda.
pub fn shown_in_agenda(data_type: DataType, stored: &StoredRecord) -> bool {
    data_type != DataType::Sessions
        || serde_json::from_value::<FieldValue>(
            stored.fields.get("hidden").cloned().unwrap_or(Value::Null),
        )
        .ok()
            != Some(FieldValue::Bool(true))
}

/// A stored record as an export shows it: plain JSON values under the workspace field names.
pub fn export_fields(stored: &StoredRecord) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert(
        "external_id".into(),
        Value::String(stored.external_id.clone()),
    );
    for (key, value) in &stored.fields {
        let plain = match serde_json::from_value::<FieldValue>(value.clone()) {
            Ok(FieldValue::Text(t)) | Ok(FieldValue::Timestamp(t)) => Value::String(t),
            Ok(FieldValue::Bool(b)) => Value::Bool(b),
            Ok(FieldValue::Integer(i)) => Value::from(i),
            Ok(FieldValue::Null) | Err(_) => Value::Null,
        };
        out.insert(key.clone(), plain);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_listing_counts_the_vendor_total_and_what_stayed_out() {
        let tally = |pairs: &[(&str, u64)], filtered_held: u64, rejected_held: u64| Tally {
            counts: pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            filtered_held,
            rejected_held,
            derived: 0,
        };
        // (tally, listed, workspace after, vendor's count of the other statuses,
        //  vendor total, left out by status, filtered, rejected)
        let cases = [
            // Every status listed: the engine's skips are the status rule's.
            (
                tally(
                    &[
                        ("create", 80),
                        ("skipped", 15),
                        ("filtered", 3),
                        ("reject", 2),
                    ],
                    0,
                    0,
                ),
                100,
                80,
                None,
                Some(100),
                Some(15),
                3,
                2,
            ),
            // A filtered and a rejected record the workspace held from before explain nothing.
            (
                tally(&[("unchanged", 80), ("filtered", 3), ("reject", 2)], 1, 1),
                85,
                82,
                None,
                Some(85),
                Some(0),
                2,
                1,
            ),
            // Selected statuses listed; the vendor counted 40 others, 5 of them held people
            // who left the selection.
            (
                tally(&[("create", 60)], 0, 0),
                60,
                65,
                Some(Some(40)),
                Some(100),
                Some(35),
                0,
                0,
            ),
            // The vendor left its count blank: the total is unknown.
            (
                tally(&[("create", 60)], 0, 0),
                60,
                60,
                Some(None),
                None,
                None,
                0,
                0,
            ),
        ];
        for (tally, listed, workspace, others, vendor, by_status, filtered, rejected) in cases {
            let totals = tally.totals(listed, workspace, others, 9, "t".into());
            assert_eq!(totals.vendor_total, vendor, "{tally:?}");
            assert_eq!(totals.left_out_by_status, by_status, "{tally:?}");
            assert_eq!(totals.filtered, filtered, "{tally:?}");
            assert_eq!(totals.rejected, rejected, "{tally:?}");
            assert_eq!(totals.run_id, 9);
        }
    }

    #[test]
    fn ids_written_in_the_run_are_always_looked_up_and_others_seldom() {
        let mut written = Written::new();
        let id = |i: u32| format!("77bf3149-cd90-4251-8cd5-{i:012}");
        for i in 0..100_000 {
            written.add(&id(i));
        }
        assert!((0..100_000).all(|i| written.may_have(&id(i))));
        let false_alarms = (100_000..200_000)
            .filter(|&i| written.may_have(&id(i)))
            .count();
        assert!(false_alarms < 10, "{false_alarms} of 100,000 unwritten ids");
    }

    #[test]
    fn hidden_sessions_leave_the_agenda() {
        let stored = |hidden: Option<bool>| StoredRecord {
            external_id: "s1".into(),
            fields: hidden
                .map(|h| {
                    let value = serde_json::to_value(FieldValue::Bool(h)).unwrap_or(Value::Null);
                    Map::from_iter([("hidden".to_string(), value)])
                })
                .unwrap_or_default(),
            raw: RawJson::from_value(&Value::Null),
            updated_at: String::new(),
        };
        // (data type, stored hidden flag, shown)
        let cases = [
            (DataType::Sessions, Some(true), false),
            (DataType::Sessions, Some(false), true),
            (DataType::Sessions, None, true),
            (DataType::People, Some(true), true),
        ];
        for (data_type, hidden, shown) in cases {
            assert_eq!(
                shown_in_agenda(data_type, &stored(hidden)),
                shown,
                "{data_type} {hidden:?}"
            );
        }
    }
}

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
    Checkpoint, FeedAction, FeedEntry, NewRun, PageCommit, RawJson, RunOutcome, Store, StoreError,
    StoredRecord, SyncState, Upsert, VendorTotals,
};

use crate::config::{Connection, DataConfig};
use crate::connect::connect;
use crate::facts;
use crate::report::{ReportWriter, Row};
use crate::sensitive;

mod commit;
mod listing;
mod process;
mod records;
mod references;
mod rejections;
mod tally;

use commit::*;
use process::*;
use references::*;
use tally::*;

pub use records::{export_fields, plain_fields, shown_in_agenda, to_record};
pub use rejections::{OTHER_REASONS, RejectionGroup};

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
    /// Parts a full listing was split into to be fetched side by side; 0 when it was not.
    pub partitions: u32,
    /// Calls the split cost whose records were not kept (counted in `api_calls` too).
    pub split_calls: u64,
    pub cursor_before: Option<String>,
    pub cursor_after: Option<String>,
    /// The rejections, those with one reason together (the first twenty reasons; the rest in
    /// one last group).
    pub rejected: Vec<RejectionGroup>,
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
    /// Someone asked the run to stop (`Store::request_run_cancel`); it stopped between two
    /// pages and is recorded `cancelled`.
    #[error(
        "run {run_id} was cancelled on request: it stopped between two pages, what it had \
         stored stays, and the next sync goes on from there"
    )]
    Cancelled { run_id: i64 },
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
            listing_concurrency: connection.listing_concurrency,
        };
        let calls_before = connector.calls();
        // Between two data types is a page boundary too: a run asked to stop starts no other.
        let outcome = match store.run_cancel_requested(run_id).await {
            Ok(true) => Err(TypeError::Cancelled),
            Ok(false) => {
                telling_waits(
                    &connector,
                    *data_type,
                    progress,
                    job.run(options.full, progress),
                )
                .await
            }
            Err(error) => Err(TypeError::Store(error)),
        };
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
                    RunStatus::Failed.as_str(),
                    &types,
                    vec![error.to_string()],
                    None,
                )
                .await;
                return Err(EngineError::Store(error));
            }
            Err(TypeError::Report(error)) => return Err(EngineError::Report(error)),
            Err(TypeError::Cancelled) => {
                let message = format!(
                    "{data_type}: cancelled on request after {} records",
                    summary.counts.values().sum::<u64>()
                );
                summary.error = Some(message.clone());
                errors.push(message);
                types.insert(data_type.as_str().to_string(), summary);
                if let Some(writer) = report {
                    writer.finish()?;
                }
                finish(store, run_id, CANCELLED, &types, errors, None).await;
                return Err(EngineError::Cancelled { run_id });
            }
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
        status.as_str(),
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
    /// Rows that never became records: each row's id where it had one, and its reason (which
    /// names the row).
    pub malformed: Vec<(String, String)>,
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
        listing_concurrency: 1,
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
            TypeError::Cancelled => (
                "cancelled on request".to_string(),
                EngineError::Cancelled { run_id },
            ),
        };
        finish(
            store,
            run_id,
            RunStatus::Failed.as_str(),
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
    finish(store, run_id, status.as_str(), &types, Vec::new(), None).await;
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

/// The status a run asked to stop ends with.
const CANCELLED: &str = "cancelled";

async fn finish(
    store: &Store,
    run_id: i64,
    status: &str,
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
        status: status.into(),
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
    /// The run was asked to stop; it stopped at a page boundary.
    Cancelled,
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
    /// Calls the main full listing may keep in flight.
    listing_concurrency: usize,
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

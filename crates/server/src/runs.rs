//! Starting previews and syncs from the server (API, scheduler, webhooks): at most one run per
//! connection at a time, so runs of the same stream never overlap. Across processes — several
//! servers on one PostgreSQL workspace, or the CLI beside a server — the connection's run lease
//! in the store decides (`engine::lease`); within this process a lock per connection comes
//! first, so that webhooks wait their turn here without asking the database.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use engine::lease::HeldLease;
use engine::{LeaseTiming, RunError, RunKind, RunOptions, RunReport};
use pipeline::DataType;
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::AppState;

/// One lock per connection.
#[derive(Default)]
pub struct RunGate {
    locks: std::sync::Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

impl RunGate {
    fn lock_of(&self, connection: &str) -> Arc<Mutex<()>> {
        self.locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(connection.to_string())
            .or_default()
            .clone()
    }

    /// The connection's lock if no run holds it.
    pub fn try_claim(&self, connection: &str) -> Option<OwnedMutexGuard<()>> {
        self.lock_of(connection).try_lock_owned().ok()
    }

    /// The connection's lock, waiting for a running run to end.
    pub async fn claim(&self, connection: &str) -> OwnedMutexGuard<()> {
        self.lock_of(connection).lock_owned().await
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub connection: String,
    pub kind: RunKind,
    pub data_types: Vec<DataType>,
    pub full: bool,
    /// Mail the summary to the data types' subscribers (runs caused by webhooks do not).
    pub notify: bool,
}

/// Runs `request` while holding `guard`, writing a CSV report for previews. When a run of
/// another process holds the connection, it waits for that run to end (or its lease to run
/// out), as it waited for `guard`: a webhook's changes are synced after the run in progress.
pub async fn run_held(
    state: &AppState,
    request: &RunRequest,
    guard: OwnedMutexGuard<()>,
) -> Result<RunReport, String> {
    known_connection(state, request)?;
    let timing = LeaseTiming::from_env();
    let held = loop {
        match engine::lease::take(&state.store, &request.connection, request.kind, timing).await {
            Ok(held) => break held,
            Err(RunError::InProgress(holder)) => {
                tracing::debug!(%holder, "waiting for another process's run to end");
                tokio::time::sleep(LEASE_POLL).await;
            }
            Err(error) => return Err(error.to_string()),
        }
    };
    let report = (request.kind == RunKind::Preview).then(|| report_path(state));
    run_with_report(state, request, guard, held, report).await
}

fn known_connection(state: &AppState, request: &RunRequest) -> Result<engine::Connection, String> {
    state
        .connection(&request.connection)
        .ok_or_else(|| format!("no connection named '{}'", request.connection))
}

/// Runs `request` while holding `_guard` and `held`, spooling a preview's report to `report`.
async fn run_with_report(
    state: &AppState,
    request: &RunRequest,
    _guard: OwnedMutexGuard<()>,
    held: HeldLease,
    report: Option<PathBuf>,
) -> Result<RunReport, String> {
    let connection = match known_connection(state, request) {
        Ok(connection) => connection,
        Err(reason) => {
            if let Err(error) = held.release().await {
                tracing::warn!(%error, "could not release a run lease; it runs out on its own");
            }
            return Err(reason);
        }
    };
    let options = RunOptions {
        kind: request.kind,
        data_types: request.data_types.clone(),
        full: request.full,
        report: report.clone(),
        retry: state.settings.retry,
    };
    let outcome = engine::lease::run_held(
        held,
        &connection,
        &options,
        &|_| {},
        LeaseTiming::from_env(),
    )
    .await;
    match outcome {
        Ok(run_report) => {
            if request.notify {
                mail_summary(state, &connection, &request.data_types, &run_report);
            }
            if let Some(spooled) = report {
                keep_report(state, run_report.run_id, spooled).await;
            }
            Ok(run_report)
        }
        Err(engine::RunError::Engine(engine::EngineError::Cancelled { run_id })) => {
            tracing::info!(connection = %request.connection, run_id, "the run stopped on request");
            if let Some(spooled) = report {
                keep_report(state, run_id, spooled).await;
            }
            Err(format!("run {run_id} was cancelled"))
        }
        Err(error) => Err(error.to_string()),
    }
}

/// Asks run `run_id` to stop at its next page boundary, wherever it runs (this server, another
/// one on the workspace, or the command line): the store carries the request and the run looks
/// at it between pages.
pub async fn cancel(state: &AppState, run_id: i64) -> Result<Cancel, store::StoreError> {
    let Some(run) = state.store.run(run_id).await? else {
        return Ok(Cancel::Unknown);
    };
    if run.status == store::RUN_STATUS_RUNNING && state.store.request_run_cancel(run_id).await? {
        return Ok(Cancel::Requested(run));
    }
    // Ended before or while asked: say how.
    Ok(match state.store.run(run_id).await? {
        Some(run) => Cancel::Ended(run),
        None => Cancel::Unknown,
    })
}

/// What [`cancel`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Cancel {
    /// The run was asked to stop; it is still `running` until its next page boundary.
    Requested(store::RunSummary),
    /// The run had ended already, with its status.
    Ended(store::RunSummary),
    Unknown,
}

/// Gives a finished preview's report its run's name, so that it is found again after a
/// restart. The file is linked under the new name, and the spool name goes a little later, so
/// a reader that has just been told the old name still opens it.
async fn keep_report(state: &AppState, run_id: i64, spooled: PathBuf) {
    let path = stored_report_path(state, run_id);
    let spooled_index = engine::report::index_file(&spooled);
    // The index first, so that the report is not found under its run's name without it.
    let _ = tokio::fs::hard_link(&spooled_index, engine::report::index_file(&path)).await;
    let kept = match tokio::fs::hard_link(&spooled, &path).await {
        Ok(()) => path,
        Err(error) => {
            tracing::warn!(%error, run_id, "the report keeps its spool name until the server restarts");
            spooled.clone()
        }
    };
    remember_report(state, run_id, kept.clone(), true);
    if kept != spooled {
        tokio::spawn(async move {
            tokio::time::sleep(SPOOL_NAME_GRACE).await;
            if let Err(error) = tokio::fs::remove_file(&spooled).await {
                tracing::warn!(%error, run_id, "the report's spool name stays behind");
            }
            let _ = tokio::fs::remove_file(&spooled_index).await;
        });
    }
}

/// How often a run waiting for another process's run asks for the connection's lease again.
const LEASE_POLL: Duration = Duration::from_secs(2);

/// How long a finished report keeps its spool name beside its run's name.
const SPOOL_NAME_GRACE: Duration = Duration::from_secs(10);

/// Records where run `run_id`'s report is; `replace` false keeps a place already recorded.
fn remember_report(state: &AppState, run_id: i64, path: PathBuf, replace: bool) {
    let mut reports = state
        .reports
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if replace {
        reports.insert(run_id, path);
    } else {
        reports.entry(run_id).or_insert(path);
    }
}

/// Where the report of run `run_id` is kept once the run has ended.
fn stored_report_path(state: &AppState, run_id: i64) -> PathBuf {
    state.settings.report_dir.join(format!("run-{run_id}.csv"))
}

/// The report of run `run_id`, if a preview wrote one: this process's, or one kept in the
/// report folder by an earlier server (the file outlives the process).
pub fn report_file(state: &AppState, run_id: i64) -> Option<PathBuf> {
    let known = state
        .reports
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&run_id)
        .cloned();
    known.or_else(|| {
        let path = stored_report_path(state, run_id);
        path.is_file().then_some(path)
    })
}

/// Where a preview spools its report while it runs (its run id is not known yet).
fn report_path(state: &AppState) -> PathBuf {
    state
        .settings
        .report_dir
        .join(format!("report-{}.csv", uuid::Uuid::new_v4().simple()))
}

/// What [`start`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    /// The run is going, with this id.
    Run(i64),
    /// Another run of the connection is going; the message names it.
    Busy(String),
}

/// Starts `request` in the background and returns the id of its run once the engine has
/// recorded it — or, when the connection already has a run going here or in another process,
/// which run that is.
pub async fn start(state: &AppState, request: RunRequest) -> Result<Started, String> {
    start_checked(state, request, None).await
}

/// A connection's latest run as the scheduler read it before deciding what is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRun {
    pub id: i64,
    pub status: String,
}

impl SeenRun {
    pub fn of(run: &store::RunSummary) -> SeenRun {
        SeenRun {
            id: run.id,
            status: run.status.clone(),
        }
    }
}

/// [`start`] for a run decided from what the store said a moment ago — the scheduler found it
/// due when `seen` was the connection's latest run (`None`: it had none). Once the connection's
/// lease is held, the latest run is read again: if another run was recorded since, or the one
/// seen going has ended (another server ran it while this one decided), the lease goes back and
/// nothing runs; the next tick decides again from what is stored.
pub async fn start_unless_ran_since(
    state: &AppState,
    request: RunRequest,
    seen: Option<SeenRun>,
) -> Result<Started, String> {
    start_checked(state, request, Some(seen)).await
}

/// Why the connection's latest run is no longer `seen`, if it is not.
async fn ran_since(
    state: &AppState,
    connection: &str,
    seen: Option<&SeenRun>,
) -> Result<Option<String>, store::StoreError> {
    let latest = state.store.runs(Some(connection), 1).await?;
    let unchanged = match (latest.first(), seen) {
        (None, None) => true,
        // Taking the lease of a run whose holder died marks that run interrupted: still the
        // run the tick saw, left mid-way.
        (Some(run), Some(seen)) => {
            run.id == seen.id
                && (run.status == seen.status
                    || (seen.status == store::RUN_STATUS_RUNNING
                        && run.status == store::RUN_STATUS_INTERRUPTED))
        }
        _ => false,
    };
    Ok((!unchanged).then(|| match latest.first() {
        Some(run) => format!(
            "connection '{connection}' has run {} ({}) since its due time was read; it is looked at again",
            run.id, run.status
        ),
        None => format!("connection '{connection}' changed since its due time was read"),
    }))
}

async fn start_checked(
    state: &AppState,
    request: RunRequest,
    seen: Option<Option<SeenRun>>,
) -> Result<Started, String> {
    let Some(guard) = state.runs.try_claim(&request.connection) else {
        let holder = state.store.run_lease(&request.connection).await;
        return Ok(Started::Busy(match holder {
            Ok(Some(holder)) => holder.to_string(),
            _ => format!(
                "connection '{}' has a run going; follow it in /v1/runs",
                request.connection
            ),
        }));
    };
    known_connection(state, &request)?;
    let held = match engine::lease::take(
        &state.store,
        &request.connection,
        request.kind,
        LeaseTiming::from_env(),
    )
    .await
    {
        Ok(held) => held,
        Err(RunError::InProgress(holder)) => return Ok(Started::Busy(holder.to_string())),
        Err(error) => return Err(error.to_string()),
    };
    if let Some(seen) = seen {
        let changed = ran_since(state, &request.connection, seen.as_ref()).await;
        if !matches!(changed, Ok(None)) {
            if let Err(error) = held.release().await {
                tracing::warn!(%error, "could not release a run lease; it runs out on its own");
            }
            return match changed {
                Ok(reason) => Ok(Started::Busy(reason.unwrap_or_default())),
                Err(error) => Err(error.to_string()),
            };
        }
    }
    let recorded = held.clone();
    let background = state.clone();
    let task_request = request.clone();
    // The report's place is known from the start, so that it is found as soon as the run ends.
    let report = (request.kind == RunKind::Preview).then(|| report_path(state));
    let task_report = report.clone();
    let task = tokio::spawn(async move {
        if let Err(error) =
            run_with_report(&background, &task_request, guard, held, task_report).await
        {
            tracing::warn!(connection = %task_request.connection, %error, "a run ended without a report");
        }
    });
    // The engine records the run before its first vendor call, under the lease.
    for _ in 0..200 {
        if let Some(run_id) = recorded.run_id() {
            if let Some(report) = report {
                remember_report(state, run_id, report, false);
            }
            return Ok(Started::Run(run_id));
        }
        if task.is_finished() {
            return Err(format!(
                "the run of '{}' ended before it was recorded; the server log has the reason",
                request.connection
            ));
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    Err("the run was not recorded within five seconds".to_string())
}

/// Mails the run's summary to the subscribers of its data types, in the background: a mail
/// server that is down costs a warning in the log, never the run.
fn mail_summary(
    state: &AppState,
    connection: &engine::Connection,
    data_types: &[DataType],
    report: &RunReport,
) {
    let Some(smtp) = state.config().smtp.clone() else {
        return;
    };
    let mut to: Vec<String> = data_types
        .iter()
        .filter_map(|data_type| connection.data.get(data_type))
        .flat_map(|data| data.subscribers.iter().cloned())
        .collect();
    to.sort();
    to.dedup();
    if to.is_empty() {
        return;
    }
    let state = state.clone();
    let name = connection.name.clone();
    let report = report.clone();
    tokio::spawn(async move {
        let quota = match state.writers.get(&state, &name).await {
            Ok(writer) => Some(crate::mailer::QuotaUse {
                used_today: writer.budget().used_today(),
                daily_quota: writer.budget().limits().daily_quota,
            }),
            Err(_) => None,
        };
        let (subject, body) = crate::mailer::summary(&name, &report, quota);
        if let Err(error) = crate::mailer::send(&smtp, &to, &subject, &body).await {
            tracing::warn!(connection = %name, %error, "the run summary was not mailed");
        }
    });
}

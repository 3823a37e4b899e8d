//! The scheduler's claim step, for several servers on one workspace: what each tick saw of every
//! connection's runs before it decided what is due, and the syncs a stopped server left mid-way.
//!
//! A sync whose process died (still `running`, nobody holding the connection's lease) or whose
//! lease was taken over (`interrupted`) is due at once for its auto-synced data types, so that
//! whichever server ticks next resumes it from its checkpoint within the lease time, not an
//! interval later. Starting it takes the lease over; the run it names is then marked
//! interrupted by the store.

use std::collections::BTreeMap;

use pipeline::DataType;
use store::{AutoSync, RUN_STATUS_INTERRUPTED, RUN_STATUS_RUNNING, RunSummary, StoreError};

use crate::AppState;
use crate::runs::SeenRun;

/// What a tick read of the connections' runs before deciding.
#[derive(Debug, Default)]
pub(crate) struct Claim {
    /// Each auto-synced connection's latest run when the tick began (`None`: none yet).
    seen: BTreeMap<String, Option<SeenRun>>,
    /// The auto-synced data types of syncs left mid-way, by connection.
    abandoned: BTreeMap<String, Vec<DataType>>,
}

impl Claim {
    /// Reads the latest run of every connection with auto sync on.
    pub(crate) async fn read(state: &AppState, settings: &[AutoSync]) -> Result<Claim, StoreError> {
        let mut claim = Claim::default();
        for setting in settings.iter().filter(|s| s.enabled) {
            if claim.seen.contains_key(&setting.connection) {
                continue;
            }
            let latest = state.store.runs(Some(&setting.connection), 1).await?;
            let latest = latest.into_iter().next();
            claim
                .seen
                .insert(setting.connection.clone(), latest.as_ref().map(SeenRun::of));
            let Some(run) = latest else {
                continue;
            };
            if !is_abandoned(state, &run).await? {
                continue;
            }
            let data_types: Vec<DataType> = settings
                .iter()
                .filter(|s| s.enabled && s.connection == run.connection)
                .filter(|s| run.data_types.contains(&s.data_type))
                .filter_map(|s| s.data_type.parse().ok())
                .collect();
            if !data_types.is_empty() {
                tracing::info!(connection = %run.connection, run_id = run.id, status = %run.status, "a sync left mid-way is due at once");
                claim.abandoned.insert(run.connection.clone(), data_types);
            }
        }
        Ok(claim)
    }

    /// Adds the abandoned syncs to `due`, except on connections whose auto sync has ended.
    pub(crate) fn add_abandoned(
        &self,
        due: &mut BTreeMap<String, Vec<DataType>>,
        ended: &BTreeMap<String, bool>,
    ) {
        for (connection, data_types) in &self.abandoned {
            if ended.get(connection) == Some(&true) {
                continue;
            }
            let entry = due.entry(connection.clone()).or_default();
            for data_type in data_types {
                if !entry.contains(data_type) {
                    entry.push(*data_type);
                }
            }
        }
    }

    /// The connection's latest run when the tick began.
    pub(crate) fn seen(&self, connection: &str) -> Option<SeenRun> {
        self.seen.get(connection).cloned().flatten()
    }
}

/// Whether `run` is a sync that stopped without ending: interrupted, or running with nobody
/// holding its connection's lease (its process is gone, or its lease ran out).
async fn is_abandoned(state: &AppState, run: &RunSummary) -> Result<bool, StoreError> {
    if run.kind != "sync" {
        return Ok(false);
    }
    match run.status.as_str() {
        RUN_STATUS_INTERRUPTED => Ok(true),
        RUN_STATUS_RUNNING => Ok(state.store.run_lease(&run.connection).await?.is_none()),
        _ => Ok(false),
    }
}

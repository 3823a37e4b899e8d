//! The values the store reads and writes: records, per-stream sync state and the run ledger.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// One workspace record of a connection's data type, as the pipeline produced it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRecord {
    /// The vendor's primary key for the record (an attendee id, a session id…).
    pub external_id: String,
    /// The mapped workspace fields.
    pub fields: Map<String, Value>,
    /// The vendor record as it was fetched, unknown fields included.
    pub raw: RawJson,
    /// RFC 3339 UTC. Set by the store when the record's content last changed; ignored on write.
    pub updated_at: String,
}

/// A vendor record's JSON text, stored as the vendor sent it: no parse into a tree and no
/// re-serialization on the way to the database, which for records of a few kilobytes is most of
/// what a sync would otherwise spend.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RawJson(Box<RawValue>);

impl RawJson {
    /// JSON text, checked to be JSON.
    pub fn from_text(text: String) -> Result<RawJson, serde_json::Error> {
        RawValue::from_string(text).map(RawJson)
    }

    pub fn from_value(value: &Value) -> RawJson {
        // Serializing a `Value` cannot fail: its keys are strings and its numbers finite.
        RawJson::of(value)
    }

    /// The JSON text of a value, written straight from it (`null` for the rare value serde_json
    /// cannot write, such as a map with non-string keys).
    pub fn of<T: Serialize + ?Sized>(value: &T) -> RawJson {
        RawJson(
            serde_json::value::to_raw_value(value).unwrap_or_else(|_| RawValue::NULL.to_owned()),
        )
    }

    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    pub fn to_value(&self) -> Value {
        serde_json::from_str(self.0.get()).unwrap_or(Value::Null)
    }
}

impl From<Box<RawValue>> for RawJson {
    fn from(raw: Box<RawValue>) -> RawJson {
        RawJson(raw)
    }
}

impl std::fmt::Debug for RawJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.get())
    }
}

impl std::fmt::Display for RawJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.get())
    }
}

/// Equal when they hold the same JSON, however it is spaced or ordered (PostgreSQL's `jsonb`
/// gives back its own spelling of what it was given).
impl PartialEq for RawJson {
    fn eq(&self, other: &RawJson) -> bool {
        self.as_str() == other.as_str() || self.to_value() == other.to_value()
    }
}

/// One record as a page writes it. Its fields are already JSON text, written straight from the
/// pipeline's values: building a `serde_json::Value` map per record only to write it out and
/// free it cost a sync about a tenth of its time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Upsert {
    /// The vendor's primary key for the record.
    pub external_id: String,
    /// The mapped workspace fields: one JSON object, each value with its type tag.
    pub fields: RawJson,
    /// The vendor record as it was fetched, unknown fields included.
    pub raw: RawJson,
}

impl From<StoredRecord> for Upsert {
    fn from(record: StoredRecord) -> Upsert {
        Upsert {
            fields: RawJson::of(&record.fields),
            external_id: record.external_id,
            raw: record.raw,
        }
    }
}

/// Everything one page of a sync writes. [`crate::Store::commit_page`] applies all of it in one
/// transaction, so the cursor never runs ahead of (or behind) the records it describes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageCommit {
    pub run_id: i64,
    pub connection: String,
    pub data_type: String,
    /// Records to insert or replace. When an id appears twice, the later record wins.
    pub upserts: Vec<Upsert>,
    /// External ids to delete, applied after the upserts.
    pub removals: Vec<String>,
    /// The stream's state once this page has landed; it replaces the stored state whole.
    pub state: SyncState,
    /// Action → number of records, e.g. `"create": 3`, added to the run's counts for `data_type`.
    pub counts: BTreeMap<String, u64>,
    /// Vendor API calls this page cost, added to the run's total.
    pub api_calls: u64,
    /// What the change feed gets for the upserts that change the workspace (removals add
    /// theirs), in order.
    #[serde(default)]
    pub feed: Vec<crate::feed::FeedEntry>,
}

impl PageCommit {
    /// Folds the next page of the same stream and run into this one, so that committing the
    /// result leaves the store as committing the two in order would: later records win, a
    /// record removed here and listed again there stays, counts and calls add up and the
    /// later state replaces this one.
    pub fn absorb(&mut self, later: PageCommit) {
        debug_assert_eq!(
            (self.run_id, &self.connection, &self.data_type),
            (later.run_id, &later.connection, &later.data_type),
            "pages of one stream and run"
        );
        if !self.removals.is_empty() {
            let listed: std::collections::HashSet<&str> = later
                .upserts
                .iter()
                .map(|r| r.external_id.as_str())
                .collect();
            self.removals.retain(|id| !listed.contains(id.as_str()));
        }
        self.upserts.extend(later.upserts);
        self.removals.extend(later.removals);
        self.feed.extend(later.feed);
        self.state = later.state;
        for (action, n) in later.counts {
            *self.counts.entry(action).or_default() += n;
        }
        self.api_calls += later.api_calls;
    }
}

/// Where a (connection, data type) stream stands.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncState {
    /// The watermark: the vendor's time, less a margin, as the last listing seen to its end
    /// began; the next incremental listing asks for what changed since.
    pub cursor: Option<String>,
    /// Set while a run is part-way through the stream; resuming starts from it.
    pub checkpoint: Option<Checkpoint>,
    pub last_success_at: Option<String>,
    pub last_attempt_at: Option<String>,
    pub last_full_sync_at: Option<String>,
}

/// What the vendor had of a stream when a sync's full listing last went through it whole, and
/// how many of the vendor's records stayed out of the workspace and why. Kept beside the
/// stream's sync state, so `status` can compare the vendor's total with the workspace's without
/// asking the vendor again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorTotals {
    /// The vendor's number of records of the data type; `None` when the vendor did not say.
    pub vendor_total: Option<u64>,
    /// Records the status rule kept out (statuses not imported, never held by the workspace);
    /// `None` when the vendor did not count them.
    pub left_out_by_status: Option<u64>,
    /// Records a filter kept out, the workspace not holding them.
    pub filtered: u64,
    /// Records rejected as invalid, the workspace not holding them.
    pub rejected: u64,
    /// Workspace records a rule derived from the listed ones (extra invitee registrations):
    /// in the workspace's total, never in the vendor's.
    #[serde(default)]
    pub derived: u64,
    /// RFC 3339 UTC: when the listing ended.
    pub counted_at: String,
    /// The run whose listing counted them.
    pub run_id: i64,
}

/// How far an unfinished run got through a stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// `"full"` or `"incremental"`.
    pub mode: String,
    /// The vendor's page token to continue from, if the vendor pages by token.
    pub resume_token: Option<String>,
    /// When the listing began, on the vendor's clock: the watermark the cursor moves to (less
    /// the margin) when the listing ends, however many runs it takes.
    pub started_at: String,
}

/// A run about to start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRun {
    pub connection: String,
    /// `"preview"` or `"sync"`.
    pub kind: String,
    pub data_types: Vec<String>,
    /// The streams' cursors as the run found them.
    pub cursor_before: Value,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOutcome {
    /// One of [`FINISHED_RUN_STATUSES`].
    pub status: String,
    pub cursor_after: Value,
    pub errors: Vec<String>,
    /// When a vendor quota resets, for `paused_quota` runs.
    pub resets_at: Option<String>,
}

/// A run as the ledger holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub id: i64,
    pub connection: String,
    pub kind: String,
    pub data_types: Vec<String>,
    /// [`RUN_STATUS_RUNNING`] until the run finishes, then one of [`FINISHED_RUN_STATUSES`].
    pub status: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// Data type → action → number of records.
    pub counts: BTreeMap<String, BTreeMap<String, u64>>,
    pub api_calls: u64,
    pub cursor_before: Value,
    /// `null` while the run is still going.
    pub cursor_after: Value,
    pub errors: Vec<String>,
    pub resets_at: Option<String>,
}

/// The status of a run that has not finished.
pub const RUN_STATUS_RUNNING: &str = "running";

/// The status a run that the store found abandoned ends with.
pub const RUN_STATUS_INTERRUPTED: &str = "interrupted";

/// The statuses [`crate::Store::finish_run`] accepts.
pub const FINISHED_RUN_STATUSES: &[&str] = &[
    "succeeded",
    "partial",
    "paused_quota",
    "failed",
    "cancelled",
    RUN_STATUS_INTERRUPTED,
];

#[cfg(test)]
mod tests {
    use super::*;

    fn page(upserts: &[(&str, u32)], removals: &[&str], cursor: &str, calls: u64) -> PageCommit {
        PageCommit {
            run_id: 7,
            connection: "cvent".into(),
            data_type: "people".into(),
            upserts: upserts
                .iter()
                .map(|(id, marker)| Upsert {
                    external_id: id.to_string(),
                    fields: RawJson::of(&serde_json::json!({ "marker": marker })),
                    raw: RawJson::of(&serde_json::json!({})),
                })
                .collect(),
            removals: removals.iter().map(|id| id.to_string()).collect(),
            feed: Vec::new(),
            state: SyncState {
                cursor: Some(cursor.into()),
                ..SyncState::default()
            },
            counts: BTreeMap::from([("create".to_string(), upserts.len() as u64)]),
            api_calls: calls,
        }
    }

    #[test]
    fn an_absorbed_page_adds_its_records_counts_and_calls_and_takes_over_the_state() {
        let mut batch = page(&[("a", 1), ("b", 1)], &["gone", "back"], "t1", 1);
        batch.absorb(page(&[("b", 2), ("back", 2)], &["c"], "t2", 2));
        let ids: Vec<&str> = batch
            .upserts
            .iter()
            .map(|u| u.external_id.as_str())
            .collect();
        assert_eq!(ids, ["a", "b", "b", "back"]);
        // Removed by the first page and listed by the second: the record stays.
        assert_eq!(batch.removals, ["gone", "c"]);
        assert_eq!(batch.state.cursor.as_deref(), Some("t2"));
        assert_eq!(batch.counts["create"], 4);
        assert_eq!(batch.api_calls, 3);
    }
}

//! Turning rows into the store's values and back; shared by both dialects, which keep JSON as
//! text on the wire (SQLite TEXT, PostgreSQL `jsonb` cast to and from `text`).

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use crate::{Checkpoint, RawJson, RunSummary, StoreError, StoredRecord, SyncState, Upsert};

/// A `records` row as both dialects select it.
pub(crate) struct RecordRow {
    pub external_id: String,
    pub fields: String,
    pub raw: String,
    pub updated_at: String,
}

impl RecordRow {
    pub(crate) fn decode(self) -> Result<StoredRecord, StoreError> {
        let fields = match parse_json(&self.fields, "record fields", &self.external_id)? {
            Value::Object(fields) => fields,
            other => {
                return Err(StoreError::Corrupt(format!(
                    "record {:?} has fields that are not a JSON object: {other}",
                    self.external_id
                )));
            }
        };
        let raw = RawJson::from_text(self.raw).map_err(|error| {
            StoreError::Corrupt(format!(
                "record {:?} has a raw record that is not JSON: {error}",
                self.external_id
            ))
        })?;
        Ok(StoredRecord {
            external_id: self.external_id,
            fields,
            raw,
            updated_at: self.updated_at,
        })
    }
}

/// A `sync_state` row.
pub(crate) struct StateRow {
    pub cursor: Option<String>,
    pub checkpoint: Option<String>,
    pub last_success_at: Option<String>,
    pub last_attempt_at: Option<String>,
    pub last_full_sync_at: Option<String>,
}

impl StateRow {
    pub(crate) fn decode(self, connection: &str, data_type: &str) -> Result<SyncState, StoreError> {
        let checkpoint = match self.checkpoint {
            None => None,
            Some(text) => Some(serde_json::from_str::<Checkpoint>(&text).map_err(|error| {
                StoreError::Corrupt(format!(
                    "the checkpoint of {connection}/{data_type} is not a checkpoint: {error}"
                ))
            })?),
        };
        Ok(SyncState {
            cursor: self.cursor,
            checkpoint,
            last_success_at: self.last_success_at,
            last_attempt_at: self.last_attempt_at,
            last_full_sync_at: self.last_full_sync_at,
        })
    }
}

/// A `runs` row.
pub(crate) struct RunRow {
    pub id: i64,
    pub connection: String,
    pub kind: String,
    pub data_types: String,
    pub status: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub counts: String,
    pub api_calls: i64,
    pub cursor_before: String,
    pub cursor_after: String,
    pub errors: String,
    pub resets_at: Option<String>,
}

impl RunRow {
    pub(crate) fn decode(self) -> Result<RunSummary, StoreError> {
        let id = self.id;
        let context = |column: &str| format!("run {id} {column}");
        Ok(RunSummary {
            id,
            data_types: parse_typed(&self.data_types, &context("data_types"))?,
            counts: parse_counts(&self.counts, id)?,
            api_calls: u64::try_from(self.api_calls).map_err(|_| {
                StoreError::Corrupt(format!(
                    "run {id} has negative api_calls {}",
                    self.api_calls
                ))
            })?,
            cursor_before: parse_typed(&self.cursor_before, &context("cursor_before"))?,
            cursor_after: parse_typed(&self.cursor_after, &context("cursor_after"))?,
            errors: parse_typed(&self.errors, &context("errors"))?,
            connection: self.connection,
            kind: self.kind,
            status: self.status,
            started_at: self.started_at,
            finished_at: self.finished_at,
            resets_at: self.resets_at,
        })
    }
}

pub(crate) type RunCounts = BTreeMap<String, BTreeMap<String, u64>>;

pub(crate) fn parse_counts(text: &str, run_id: i64) -> Result<RunCounts, StoreError> {
    parse_typed(text, &format!("run {run_id} counts"))
}

/// `existing` counts with `added` summed into `data_type`, as JSON text.
pub(crate) fn add_counts(
    existing: &str,
    run_id: i64,
    data_type: &str,
    added: &BTreeMap<String, u64>,
) -> Result<String, StoreError> {
    let mut counts = parse_counts(existing, run_id)?;
    let per_action = counts.entry(data_type.to_string()).or_default();
    for (action, number) in added {
        let total = per_action.entry(action.clone()).or_default();
        *total = total.saturating_add(*number);
    }
    Ok(to_json(&counts))
}

pub(crate) fn add_api_calls(existing: i64, added: u64) -> i64 {
    existing.saturating_add(i64::try_from(added).unwrap_or(i64::MAX))
}

pub(crate) fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    // The store's own types and `serde_json` values always serialize.
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_string())
}

pub(crate) fn fields_json(fields: &Map<String, Value>) -> String {
    to_json(fields)
}

fn parse_json(text: &str, what: &str, external_id: &str) -> Result<Value, StoreError> {
    serde_json::from_str(text).map_err(|error| {
        StoreError::Corrupt(format!(
            "{what} of {external_id:?} is not valid JSON: {error}"
        ))
    })
}

fn parse_typed<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|error| {
        StoreError::Corrupt(format!("{what} is not what the store wrote: {error}"))
    })
}

/// The page's upserts with later duplicates replacing earlier ones, first-seen order kept:
/// PostgreSQL refuses to touch one row twice in a statement, and SQLite would let the last win.
pub(crate) fn last_upsert_wins(upserts: &[Upsert]) -> Vec<&Upsert> {
    let mut position_of: HashMap<&str, usize> = HashMap::with_capacity(upserts.len());
    let mut unique: Vec<&Upsert> = Vec::with_capacity(upserts.len());
    for record in upserts {
        match position_of.get(record.external_id.as_str()) {
            Some(&position) => unique[position] = record,
            None => {
                position_of.insert(&record.external_id, unique.len());
                unique.push(record);
            }
        }
    }
    unique
}

/// The error of a page not written because the page before it was not.
pub(crate) fn earlier_page_failed(page: &crate::PageCommit) -> StoreError {
    StoreError::Query(format!(
        "a page of {}/{} for run {} was not written: the page before it was not",
        page.connection, page.data_type, page.run_id
    ))
}

pub(crate) fn u64_from_count(count: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(count).map_err(|_| StoreError::Corrupt(format!("{what} returned {count}")))
}

pub(crate) fn check_finished_status(status: &str) -> Result<(), StoreError> {
    if crate::FINISHED_RUN_STATUSES.contains(&status) {
        Ok(())
    } else {
        Err(StoreError::Query(format!(
            "cannot finish a run as {status:?}: the status must be one of {}",
            crate::FINISHED_RUN_STATUSES.join(", ")
        )))
    }
}

pub(crate) fn run_not_found(run_id: i64, operation: &str) -> StoreError {
    StoreError::Query(format!("cannot {operation}: run {run_id} does not exist"))
}

/// Refuses progress for a run marked interrupted: one whose connection another process took
/// over (its lease ran out while it stalled) must not write over its successor's work.
pub(crate) fn check_not_interrupted(run_id: i64, status: &str) -> Result<(), StoreError> {
    if status == crate::RUN_STATUS_INTERRUPTED {
        Err(StoreError::Query(format!(
            "run {run_id} was interrupted and stores nothing more: another process took its \
             connection over after its lease ran out"
        )))
    } else {
        Ok(())
    }
}

/// A run's `errors` with a note on why the store interrupted it.
pub(crate) fn append_interruption(
    errors: &str,
    run_id: i64,
    owner: &str,
    heartbeat_at: &str,
) -> Result<String, StoreError> {
    let mut errors: Vec<String> = parse_typed(errors, &format!("run {run_id} errors"))?;
    errors.push(format!(
        "interrupted: the process that ran it ({owner}) stopped without finishing it; \
         last heartbeat {heartbeat_at}"
    ));
    Ok(to_json(&errors))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, marker: i64) -> Upsert {
        Upsert {
            external_id: id.into(),
            fields: RawJson::of(&serde_json::json!({ "marker": marker })),
            raw: RawJson::from_value(&Value::Null),
        }
    }

    #[test]
    fn later_duplicates_replace_earlier_ones_in_place() {
        let upserts = [record("a", 1), record("b", 2), record("a", 3)];
        let unique = last_upsert_wins(&upserts);
        let seen: Vec<(&str, &str)> = unique
            .iter()
            .map(|r| (r.external_id.as_str(), r.fields.as_str()))
            .collect();
        assert_eq!(seen, [("a", r#"{"marker":3}"#), ("b", r#"{"marker":2}"#)]);
    }

    #[test]
    fn counts_add_up_per_data_type_and_action() {
        let first = add_counts(
            "{}",
            1,
            "attendees",
            &BTreeMap::from([("create".into(), 3)]),
        )
        .unwrap();
        let second = add_counts(
            &first,
            1,
            "attendees",
            &BTreeMap::from([("create".into(), 2), ("update".into(), 1)]),
        )
        .unwrap();
        let counts = parse_counts(&second, 1).unwrap();
        assert_eq!(counts["attendees"]["create"], 5);
        assert_eq!(counts["attendees"]["update"], 1);
    }

    #[test]
    fn unreadable_counts_are_reported_as_corrupt() {
        let error = parse_counts("{\"attendees\":{\"create\":-1}}", 9).unwrap_err();
        assert!(matches!(error, StoreError::Corrupt(_)), "{error:?}");
    }
}

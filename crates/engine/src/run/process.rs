//! One page through the pipeline: flatten, map, validate, the status rule and filters, the rules
//! between data types, and the diff against the workspace; what to store and the counts.

use super::*;

pub(super) use crate::report::Cells;

impl TypeRun<'_> {
    /// Maps, validates and diffs one page; returns what to store and the counts per action.
    pub(super) async fn process(&mut self, page: VendorPage) -> Result<Processed, TypeError> {
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
                    rejections.push((rejection, Cells::default()));
                    continue;
                }
            };
            let flat = &flattened.flat;
            let mut paths = Cells::default();
            if self.report.is_some() {
                paths.vendor = flat
                    .iter()
                    .map(|(path, value)| (path.to_string(), scalar_text(&value)))
                    .collect();
            }
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
            if self.report.is_some() {
                paths.fields = field_cells(&mapped.fields);
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
        let mut feed = Vec::new();
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
                // The record as the rules between data types left it (a guest's tag, say).
                let cells = Cells {
                    fields: field_cells(&record.fields),
                    ..paths
                };
                report.add(&Row {
                    data_type: data_type.as_str().into(),
                    action: kind.as_str().into(),
                    external_id: record.external_id.clone(),
                    changes: describe_changes(&action),
                    reason,
                    cells,
                })?;
            }
            if !matches!(action, Action::Unchanged) {
                let merged = pipeline::merge(previous.as_ref(), &record, &empty);
                let fields = RawJson::of(&merged.fields);
                feed.push(feed_entry(&merged.external_id, &action, &fields));
                upserts.push(Upsert {
                    fields,
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
            rejections::note(&mut self.summary.rejected, &id, &reason);
            if !id.is_empty() {
                // What a later data type's record pointing at this one is told.
                self.created
                    .left_out
                    .entry(data_type)
                    .or_default()
                    .insert(id.clone(), LeftOutBy::Rejected(reason.clone()));
            }
            if let Some(report) = self.report.as_deref_mut() {
                report.add(&Row {
                    data_type: data_type.as_str().into(),
                    action: ActionKind::Reject.as_str().into(),
                    external_id: id,
                    changes: String::new(),
                    reason,
                    cells: paths,
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
        Ok(Processed {
            upserts,
            feed,
            counts,
        })
    }

    /// Counts the records left out of this page that the workspace holds from an earlier sync.
    pub(super) async fn tally_held(
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
    pub(super) fn note_nul(&mut self, external_id: &str, paths: &[String]) -> String {
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
    pub(super) fn add_row(
        &mut self,
        action: &str,
        external_id: &str,
        changes: String,
        reason: String,
        cells: Cells,
    ) -> std::io::Result<()> {
        match self.report.as_deref_mut() {
            Some(report) => report.add(&Row {
                data_type: self.data_type.as_str().into(),
                action: action.into(),
                external_id: external_id.into(),
                changes,
                reason,
                cells,
            }),
            None => Ok(()),
        }
    }
}

/// What the change feed gets for a record the diff changes: every field of a create, the
/// changed fields' values before and after otherwise.
fn feed_entry(external_id: &str, action: &Action, fields: &RawJson) -> FeedEntry {
    let (kind, changes) = match action {
        Action::Update { changes } => (FeedAction::Update, changes.as_slice()),
        Action::Cancel { changes } => (FeedAction::Cancel, changes.as_slice()),
        Action::Create | Action::Unchanged => {
            return FeedEntry {
                external_id: external_id.to_string(),
                action: FeedAction::Create,
                before: None,
                after: Some(fields.clone()),
            };
        }
    };
    let side = |value: fn(&pipeline::Change) -> &Option<pipeline::FieldValue>| {
        let values: BTreeMap<&str, &Option<pipeline::FieldValue>> = changes
            .iter()
            .map(|change| (change.field.as_str(), value(change)))
            .collect();
        RawJson::of(&values)
    };
    FeedEntry {
        external_id: external_id.to_string(),
        action: kind,
        before: Some(side(|change| &change.old)),
        after: Some(side(|change| &change.new)),
    }
}

/// A valid record on its way to the diff: the record, the fields to leave alone, the raw vendor
/// record and its flattened paths for the report.
pub(super) type Candidate = (Record, BTreeSet<String>, RawJson, Cells);

/// What a page comes to: the records to store, what the change feed gets for them, and the
/// count per action.
pub(super) struct Processed {
    pub(super) upserts: Vec<Upsert>,
    pub(super) feed: Vec<FeedEntry>,
    pub(super) counts: BTreeMap<String, u64>,
}

/// A rejection and the record's flattened paths for the report.
pub(super) type Rejected = (Rejection, Cells);

/// A record left out with what it refers to: its external id, the label of the rule that left
/// out what it refers to ([`SKIPPED`] or [`FILTERED`]), the reason and its paths.
pub(super) type LeftOut = (String, &'static str, String, Cells);

/// The run's warnings: the connection's, then each data type's about its records.
pub(super) fn with_record_warnings(
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
pub(super) fn drop_nul(
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

/// A record's workspace values as the report shows them, `external_id` aside (a column of its
/// own).
pub(super) fn field_cells(fields: &BTreeMap<String, FieldValue>) -> Vec<(String, String)> {
    fields
        .iter()
        .filter(|(name, _)| name.as_str() != "external_id")
        .map(|(name, value)| {
            let text = match value {
                FieldValue::Text(text) | FieldValue::Timestamp(text) => text.clone(),
                FieldValue::Integer(number) => number.to_string(),
                FieldValue::Bool(flag) => flag.to_string(),
                FieldValue::Null => String::new(),
            };
            (name.clone(), text)
        })
        .collect()
}

pub(super) fn scalar_text(value: &pipeline::Scalar<'_>) -> String {
    match value {
        pipeline::Scalar::Null => String::new(),
        pipeline::Scalar::Bool(b) => b.to_string(),
        pipeline::Scalar::Number(n) => n.to_string(),
        pipeline::Scalar::Text(t) => t.to_string(),
    }
}

pub(super) fn describe_changes(action: &Action) -> String {
    action
        .changes()
        .iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

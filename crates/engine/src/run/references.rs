//! What one data type of a run leaves for the next ones, and the rules between data types:
//! references to records the workspace lacks (left out with the rule that kept those out, or
//! rejected), the guest switches on session registrations, and the people new in the run.

use super::*;

/// What earlier data types of a run leave for later ones: the external ids a preview would
/// create (so later data types in the same preview can refer to them), the guests a preview
/// would store, and the people new to the workspace whose travel requests to follow.
#[derive(Default)]
pub(super) struct CreatedInPreview {
    pub(super) ids: HashMap<DataType, HashSet<String>>,
    /// People a preview would create or change who are guests, for the guest rules.
    pub(super) guests: HashMap<String, pipeline::rules::guests::Guest>,
    pub(super) track_travellers: bool,
    /// The vendor attendee ids that file the travel requests of people new in this run: a
    /// guest's are filed under their primary.
    pub(super) travellers: BTreeSet<String>,
    /// The statuses imported, per data type that imports only some: a record pointing at one
    /// the workspace lacks (a declined attendee's session registration) is left out with it,
    /// not rejected.
    pub(super) selected_statuses: HashMap<DataType, Vec<String>>,
    /// The data types with filters: a record pointing at one a filter left out is left out too.
    pub(super) filtered_types: HashSet<DataType>,
    /// The records this run's rules left out, per data type, and the rule that did: what a
    /// record pointing at one of them is told.
    pub(super) left_out: HashMap<DataType, HashMap<String, LeftOutBy>>,
}

/// The rule that kept a record out of the workspace.
#[derive(Debug, Clone)]
pub(super) enum LeftOutBy {
    Status,
    /// A filter, with its explanation.
    Filter(String),
    /// Validation or a reference of its own, with the reason.
    Rejected(String),
}

impl CreatedInPreview {
    /// Why a record pointing through `field` at `value`, a `target` the workspace lacks, is
    /// left out — naming the rule that kept `value` out: the one seen acting in this run, or,
    /// for a record this run did not list, the status rule (and the filters, when `target` has
    /// both) — with the report's label; `None` when no rule explains it (the reference is then
    /// rejected).
    pub(super) fn left_out_by(
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
            // Rejected, not left out by a rule: the record pointing at it is rejected too, with
            // that reason as its cause (`rejected_cause`).
            Some(LeftOutBy::Rejected(_)) => None,
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

    /// Why this run rejected the `target` record `value`, if it did.
    pub(super) fn rejected_cause(&self, target: DataType, value: &str) -> Option<&str> {
        match self.left_out.get(&target).and_then(|ids| ids.get(value)) {
            Some(LeftOutBy::Rejected(reason)) => Some(reason),
            _ => None,
        }
    }

    pub(super) fn for_connection(connection: &Connection) -> CreatedInPreview {
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

impl TypeRun<'_> {
    /// Records must point at records the workspace has (`rules::references`): a session
    /// registration at its session and person, a travel request at its person. One that points
    /// at a record the status rule left out in this run is left out too, and says why.
    pub(super) async fn check_references(
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
                Some(RejectReason::UnknownReference { field, value })
                    if let Some((target, cause)) = references
                        .iter()
                        .find(|(f, _)| *f == field)
                        .and_then(|(_, target)| {
                            self.created
                                .rejected_cause(*target, &value)
                                .map(|cause| (target, cause))
                        }) =>
                {
                    let rejection = Rejection {
                        external_id: Some(candidate.0.external_id.clone()),
                        reason: RejectReason::RejectedReference {
                            field,
                            value,
                            target: singular(*target).to_string(),
                            cause: cause.to_string(),
                        },
                    };
                    rejected.push((rejection, candidate.3));
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
    pub(super) async fn apply_guest_rules(
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
    pub(super) fn remember_person(
        &mut self,
        record: &Record,
        kind: ActionKind,
        previous: Option<&Record>,
    ) {
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

/// A record of `data_type`, in words: "session", "person".
fn singular(data_type: DataType) -> &'static str {
    match data_type {
        DataType::People => "person",
        DataType::Sessions => "session",
        DataType::Speakers => "speaker",
        DataType::SessionRegistrations => "session registration",
        DataType::Locations => "location",
        DataType::Sponsors => "sponsor",
        DataType::SponsorLevels => "sponsor level",
        DataType::AirRequests => "air request",
        DataType::HotelRequests => "hotel request",
    }
}

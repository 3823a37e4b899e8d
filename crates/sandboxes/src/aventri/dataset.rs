//! The account's records: generated ones overlaid by every change made since the sandbox started.
//!
//! Attendees stay lazy (a `BTreeMap` of changed positions over the generator), so a hundred
//! thousand of them cost nothing until listed; sessions and speakers are few and held in full.

use std::collections::BTreeMap;

use serde_json::Value;

use super::generate::{GENERATED_UNTIL, Generator};

/// Which list a query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Attendees,
    Sessions,
    Speakers,
}

impl Kind {
    /// The id field of the kind's records.
    pub fn id_field(self) -> &'static str {
        match self {
            Kind::Attendees => "attendeeid",
            Kind::Sessions => "sessionid",
            Kind::Speakers => "speakerid",
        }
    }

    /// The plural Aventri uses in its "No … found" error.
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Attendees => "attendees",
            Kind::Sessions => "sessions",
            Kind::Speakers => "speakers",
        }
    }
}

/// Bounds on `lastmodified`, already normalised to `YYYY-MM-DD HH:MM:SS`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModifiedWindow {
    /// Strictly after (`lastmodified-gt`).
    pub after: Option<String>,
    /// At or after (legacy `modifiedfrom`).
    pub from: Option<String>,
    /// Strictly before (`lastmodified-lt`).
    pub before: Option<String>,
}

impl ModifiedWindow {
    fn admits(&self, modified: &str) -> bool {
        self.after.as_deref().is_none_or(|a| modified > a)
            && self.from.as_deref().is_none_or(|f| modified >= f)
            && self.before.as_deref().is_none_or(|b| modified < b)
    }

    /// Whether no generated record can match, so only changed ones need looking at.
    fn excludes_generated(&self) -> bool {
        self.after.as_deref().is_some_and(|a| a >= GENERATED_UNTIL)
            || self.from.as_deref().is_some_and(|f| f > GENERATED_UNTIL)
    }
}

pub struct Dataset {
    generator: Generator,
    /// Prefixed to uploaded files' paths: the sandbox's own origin.
    files_origin: String,
    attendee_end: u64,
    changed_attendees: BTreeMap<u64, Option<Value>>,
    sessions: Vec<Option<Value>>,
    speakers: Vec<Option<Value>>,
}

impl Dataset {
    pub fn new(generator: Generator, files_origin: String) -> Dataset {
        let sessions = (0..generator.session_count())
            .map(|j| Some(generator.session(j)))
            .collect();
        let speakers = (0..generator.speaker_count())
            .map(|k| Some(generator.speaker(k)))
            .collect();
        Dataset {
            attendee_end: generator.attendee_count(),
            generator,
            files_origin,
            changed_attendees: BTreeMap::new(),
            sessions,
            speakers,
        }
    }

    pub fn generator(&self) -> &Generator {
        &self.generator
    }

    pub fn attendee(&self, position: u64) -> Option<Value> {
        if position >= self.attendee_end {
            return None;
        }
        match self.changed_attendees.get(&position) {
            Some(changed) => changed.clone(),
            None => Some(self.generator.attendee(position, &self.files_origin)),
        }
    }

    fn held(&self, kind: Kind) -> &[Option<Value>] {
        match kind {
            Kind::Sessions => &self.sessions,
            Kind::Speakers => &self.speakers,
            Kind::Attendees => &[],
        }
    }

    fn held_mut(&mut self, kind: Kind) -> &mut Vec<Option<Value>> {
        match kind {
            Kind::Sessions => &mut self.sessions,
            _ => &mut self.speakers,
        }
    }

    fn position(&self, kind: Kind, id: &str) -> Option<u64> {
        match kind {
            Kind::Attendees => Generator::attendee_index(id),
            Kind::Sessions => Generator::session_index(id),
            Kind::Speakers => Generator::speaker_index(id),
        }
    }

    /// One record by id.
    pub fn get(&self, kind: Kind, id: &str) -> Option<Value> {
        let position = self.position(kind, id)?;
        match kind {
            Kind::Attendees => self.attendee(position),
            _ => self.held(kind).get(position as usize).cloned().flatten(),
        }
    }

    /// Records of a kind in id order within the window, skipping `offset`, at most `limit`.
    pub fn list(&self, kind: Kind, window: &ModifiedWindow, offset: u64, limit: u64) -> Vec<Value> {
        let admitted = |record: &Value| {
            record["lastmodified"]
                .as_str()
                .is_some_and(|m| window.admits(m))
        };
        let take = usize::try_from(limit).unwrap_or(usize::MAX);
        let skip = usize::try_from(offset).unwrap_or(usize::MAX);
        match kind {
            Kind::Attendees if window.excludes_generated() => self
                .changed_attendees
                .values()
                .flatten()
                .filter(|r| admitted(r))
                .skip(skip)
                .take(take)
                .cloned()
                .collect(),
            Kind::Attendees if *window == ModifiedWindow::default() => {
                // No filter: offset k is position k shifted by every deletion at or before it.
                let mut found = Vec::new();
                let mut position = offset;
                for deleted in self
                    .changed_attendees
                    .iter()
                    .filter(|(_, r)| r.is_none())
                    .map(|(p, _)| *p)
                {
                    if deleted <= position {
                        position += 1;
                    } else {
                        break;
                    }
                }
                while found.len() < take && position < self.attendee_end {
                    if let Some(record) = self.attendee(position) {
                        found.push(record);
                    }
                    position += 1;
                }
                found
            }
            Kind::Attendees => (0..self.attendee_end)
                .filter_map(|p| self.attendee(p))
                .filter(|r| admitted(r))
                .skip(skip)
                .take(take)
                .collect(),
            _ => self
                .held(kind)
                .iter()
                .flatten()
                .filter(|r| admitted(r))
                .skip(skip)
                .take(take)
                .cloned()
                .collect(),
        }
    }

    pub fn live_count(&self, kind: Kind) -> u64 {
        match kind {
            Kind::Attendees => {
                let deleted = self
                    .changed_attendees
                    .values()
                    .filter(|r| r.is_none())
                    .count() as u64;
                self.attendee_end - deleted
            }
            _ => self.held(kind).iter().flatten().count() as u64,
        }
    }

    /// Replaces a record (its `lastmodified` set by the caller); `false` if there is none.
    pub fn put(&mut self, kind: Kind, id: &str, record: Value) -> bool {
        let Some(position) = self.position(kind, id) else {
            return false;
        };
        match kind {
            Kind::Attendees => {
                if self.attendee(position).is_none() {
                    return false;
                }
                self.changed_attendees.insert(position, Some(record));
            }
            _ => match self.held_mut(kind).get_mut(position as usize) {
                Some(slot @ Some(_)) => *slot = Some(record),
                _ => return false,
            },
        }
        true
    }

    pub fn delete(&mut self, kind: Kind, id: &str) -> bool {
        let Some(position) = self.position(kind, id) else {
            return false;
        };
        match kind {
            Kind::Attendees => {
                if self.attendee(position).is_none() {
                    return false;
                }
                self.changed_attendees.insert(position, None);
            }
            _ => match self.held_mut(kind).get_mut(position as usize) {
                Some(slot @ Some(_)) => *slot = None,
                _ => return false,
            },
        }
        true
    }

    /// A new attendee: a generated template with the next id, `patch` merged over it.
    pub fn add_attendee(&mut self, modified: &str, patch: &Value) -> Value {
        let position = self.attendee_end;
        let mut record = self.generator.attendee(position, &self.files_origin);
        merge(&mut record, patch);
        record["attendeeid"] = Value::String(Generator::attendee_id(position));
        record["lastmodified"] = Value::String(modified.to_string());
        self.attendee_end += 1;
        self.changed_attendees
            .insert(position, Some(record.clone()));
        record
    }
}

/// Merges `patch` into `target`: objects key by key, anything else replaced.
pub fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                merge(target.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_skip_deleted_attendees() {
        let mut data = Dataset::new(Generator::new(1, 100), String::new());
        let all = data.list(Kind::Attendees, &ModifiedWindow::default(), 0, 1_000);
        assert_eq!(all.len(), 100);
        let third = all[3]["attendeeid"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(data.delete(Kind::Attendees, &third));
        let after = data.list(Kind::Attendees, &ModifiedWindow::default(), 0, 1_000);
        assert_eq!(after.len(), 99);
        for offset in [0, 2, 3, 4, 50, 98, 99, 120] {
            let page = data.list(Kind::Attendees, &ModifiedWindow::default(), offset, 7);
            let expected: Vec<&Value> = after.iter().skip(offset as usize).take(7).collect();
            assert_eq!(page.iter().collect::<Vec<_>>(), expected, "offset {offset}");
        }
    }

    #[test]
    fn windows_select_by_lastmodified() {
        let mut data = Dataset::new(Generator::new(1, 50), String::new());
        let changed = "2026-11-01 10:00:00";
        let id = Generator::attendee_id(7);
        let mut record = data.attendee(7).unwrap_or_default();
        record["lastmodified"] = Value::String(changed.into());
        assert!(data.put(Kind::Attendees, &id, record));
        let cases = [
            (
                ModifiedWindow {
                    after: Some(GENERATED_UNTIL.into()),
                    ..Default::default()
                },
                1,
            ),
            (
                ModifiedWindow {
                    after: Some(changed.into()),
                    ..Default::default()
                },
                0,
            ),
            (
                ModifiedWindow {
                    from: Some(changed.into()),
                    ..Default::default()
                },
                1,
            ),
            (
                ModifiedWindow {
                    before: Some(GENERATED_UNTIL.into()),
                    ..Default::default()
                },
                49,
            ),
        ];
        for (window, expected) in cases {
            assert_eq!(
                data.list(Kind::Attendees, &window, 0, 1_000).len(),
                expected,
                "{window:?}"
            );
        }
    }
}

//! The diff: what a validated vendor record does to the workspace's copy, field by field, and
//! the record to store afterwards.
//!
//! Only fields the incoming record carries are compared. A field it does not carry — left
//! alone because the vendor sent nothing (`empty`), or not mapped at all — keeps its workspace
//! value: a mapping that stops reading a field must not erase what earlier syncs stored. An
//! absent field and a `Null` one are the same thing, so clearing a field that was never set is
//! no change.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::schema::{CANCELLED, DataType, FieldType};
use crate::validate::Record;
use crate::value::FieldValue;

/// What a sync does to one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// The workspace has no such record.
    Create,
    Update {
        changes: Vec<Change>,
    },
    Unchanged,
    /// The record's status moves to `cancelled` (a person, a session registration); `changes`
    /// holds the status change and any other.
    Cancel {
        changes: Vec<Change>,
    },
}

impl Action {
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::Create => ActionKind::Create,
            Action::Update { .. } => ActionKind::Update,
            Action::Unchanged => ActionKind::Unchanged,
            Action::Cancel { .. } => ActionKind::Cancel,
        }
    }

    /// The field changes, empty for a create or an unchanged record.
    pub fn changes(&self) -> &[Change] {
        match self {
            Action::Update { changes } | Action::Cancel { changes } => changes,
            Action::Create | Action::Unchanged => &[],
        }
    }
}

/// The action labels of reports and run history. `Reject` and `Remove` are decided by the
/// engine (a rejected record; a record gone at the vendor), not by [`diff`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Create,
    Update,
    Unchanged,
    Cancel,
    Reject,
    Remove,
}

impl ActionKind {
    pub const ALL: [ActionKind; 6] = [
        ActionKind::Create,
        ActionKind::Update,
        ActionKind::Unchanged,
        ActionKind::Cancel,
        ActionKind::Reject,
        ActionKind::Remove,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Create => "create",
            ActionKind::Update => "update",
            ActionKind::Unchanged => "unchanged",
            ActionKind::Cancel => "cancel",
            ActionKind::Reject => "reject",
            ActionKind::Remove => "remove",
        }
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One field's change; `None` means no value. [`diff`] always sets `new` (it never removes a
/// field); `new: None` is for the engine's removals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub field: String,
    pub old: Option<FieldValue>,
    pub new: Option<FieldValue>,
}

impl fmt::Display for Change {
    /// `title: "Dr" → "Prof"`, as the terminal report prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn side(value: Option<&FieldValue>) -> String {
            match value {
                None | Some(FieldValue::Null) => "(empty)".to_string(),
                Some(FieldValue::Text(text)) => format!("{text:?}"),
                Some(value) => value.to_string(),
            }
        }
        write!(
            f,
            "{}: {} → {}",
            self.field,
            side(self.old.as_ref()),
            side(self.new.as_ref())
        )
    }
}

/// What storing `incoming` does to `existing` (the workspace's record with the same data type
/// and external id, if any). Fields in `empty` keep the existing value.
///
/// A record first seen already cancelled is a `Create`: there is nothing to cancel yet, and
/// whether to import cancelled records at all is the status rules' decision, made earlier.
pub fn diff(incoming: &Record, empty: &BTreeSet<String>, existing: Option<&Record>) -> Action {
    let Some(existing) = existing else {
        return Action::Create;
    };
    let mut changes: Vec<Change> = incoming
        .fields
        .iter()
        .filter(|(field, _)| !empty.contains(field.as_str()))
        .filter_map(|(field, new)| {
            let old = existing.fields.get(field);
            (!same(old, Some(new))).then(|| Change {
                field: field.clone(),
                old: old.cloned(),
                new: Some(new.clone()),
            })
        })
        .collect();
    if changes.is_empty() {
        return Action::Unchanged;
    }
    let data_type = incoming.data_type;
    changes.sort_by_key(|change| data_type.position(&change.field));
    if becomes_cancelled(data_type, &changes) {
        Action::Cancel { changes }
    } else {
        Action::Update { changes }
    }
}

/// The record to store: the existing record with the incoming fields laid over it, except
/// those in `empty`. For a new record, the incoming record itself.
pub fn merge(existing: Option<&Record>, incoming: &Record, empty: &BTreeSet<String>) -> Record {
    let mut fields = existing
        .map(|record| record.fields.clone())
        .unwrap_or_default();
    for (field, value) in &incoming.fields {
        if !empty.contains(field.as_str()) {
            fields.insert(field.clone(), value.clone());
        }
    }
    Record {
        data_type: incoming.data_type,
        external_id: incoming.external_id.clone(),
        fields,
    }
}

/// Equality where an absent value and `Null` are the same.
fn same(old: Option<&FieldValue>, new: Option<&FieldValue>) -> bool {
    let old = old.filter(|value| !value.is_null());
    let new = new.filter(|value| !value.is_null());
    old == new
}

fn becomes_cancelled(data_type: DataType, changes: &[Change]) -> bool {
    let has_cancelled_status = matches!(
        data_type.field_type("status"),
        Some(FieldType::Enum(allowed)) if allowed.contains(&CANCELLED)
    );
    has_cancelled_status
        && changes.iter().any(|change| {
            change.field == "status"
                && change.new.as_ref().and_then(FieldValue::as_text) == Some(CANCELLED)
        })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn text(value: &str) -> FieldValue {
        FieldValue::Text(value.to_string())
    }

    fn record(data_type: DataType, pairs: &[(&str, FieldValue)]) -> Record {
        let mut fields: BTreeMap<String, FieldValue> = pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.clone()))
            .collect();
        fields.insert("external_id".into(), text("x-1"));
        Record {
            data_type,
            external_id: "x-1".into(),
            fields,
        }
    }

    fn person(pairs: &[(&str, FieldValue)]) -> Record {
        let mut all = vec![
            ("status", text("active")),
            ("first_name", text("Ada")),
            ("last_name", text("Lovelace")),
        ];
        for (name, value) in pairs {
            all.retain(|(field, _)| field != name);
            all.push((name, value.clone()));
        }
        record(DataType::People, &all)
    }

    fn names(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    fn change(field: &str, old: Option<FieldValue>, new: Option<FieldValue>) -> Change {
        Change {
            field: field.into(),
            old,
            new,
        }
    }

    #[test]
    fn actions_for_incoming_against_existing() {
        /// (what the case shows, incoming, targets left alone, existing, expected action)
        type Case = (
            &'static str,
            Record,
            BTreeSet<String>,
            Option<Record>,
            Action,
        );
        let cases: Vec<Case> = vec![
            ("new record", person(&[]), names(&[]), None, Action::Create),
            (
                "new record already cancelled",
                person(&[("status", text("cancelled"))]),
                names(&[]),
                None,
                Action::Create,
            ),
            (
                "same values",
                person(&[]),
                names(&[]),
                Some(person(&[])),
                Action::Unchanged,
            ),
            (
                "a field changes",
                person(&[("title", text("Countess"))]),
                names(&[]),
                Some(person(&[("title", text("Mathematician"))])),
                Action::Update {
                    changes: vec![change(
                        "title",
                        Some(text("Mathematician")),
                        Some(text("Countess")),
                    )],
                },
            ),
            (
                "a field gets its first value",
                person(&[("email", text("ada@example.com"))]),
                names(&[]),
                Some(person(&[])),
                Action::Update {
                    changes: vec![change("email", None, Some(text("ada@example.com")))],
                },
            ),
            (
                "changes come in schema order, custom fields last",
                person(&[
                    ("custom.diet", text("Vegan")),
                    ("title", text("Countess")),
                    ("last_name", text("King")),
                ]),
                names(&[]),
                Some(person(&[])),
                Action::Update {
                    changes: vec![
                        change("last_name", Some(text("Lovelace")), Some(text("King"))),
                        change("title", None, Some(text("Countess"))),
                        change("custom.diet", None, Some(text("Vegan"))),
                    ],
                },
            ),
            (
                "import_empty: an empty vendor value clears the field",
                person(&[("phone", FieldValue::Null)]),
                names(&[]),
                Some(person(&[("phone", text("+44 20 7946 0000"))])),
                Action::Update {
                    changes: vec![change(
                        "phone",
                        Some(text("+44 20 7946 0000")),
                        Some(FieldValue::Null),
                    )],
                },
            ),
            (
                "import_empty: clearing a field that was never set is no change",
                person(&[("phone", FieldValue::Null)]),
                names(&[]),
                Some(person(&[])),
                Action::Unchanged,
            ),
            (
                "not import_empty: the field is left alone",
                person(&[]),
                names(&["phone"]),
                Some(person(&[("phone", text("+44 20 7946 0000"))])),
                Action::Unchanged,
            ),
            (
                "a field in empty is ignored even if the record carries it",
                person(&[("phone", text("new"))]),
                names(&["phone"]),
                Some(person(&[("phone", text("old"))])),
                Action::Unchanged,
            ),
            (
                "fields the incoming record does not map are kept",
                person(&[]),
                names(&[]),
                Some(person(&[("custom.legacy", text("kept"))])),
                Action::Unchanged,
            ),
            (
                "person cancels",
                person(&[("status", text("cancelled")), ("title", text("Countess"))]),
                names(&[]),
                Some(person(&[])),
                Action::Cancel {
                    changes: vec![
                        change("status", Some(text("active")), Some(text("cancelled"))),
                        change("title", None, Some(text("Countess"))),
                    ],
                },
            ),
            (
                "already cancelled person with another change is an update",
                person(&[("status", text("cancelled")), ("title", text("Countess"))]),
                names(&[]),
                Some(person(&[("status", text("cancelled"))])),
                Action::Update {
                    changes: vec![change("title", None, Some(text("Countess")))],
                },
            ),
            (
                "cancelled person comes back",
                person(&[]),
                names(&[]),
                Some(person(&[("status", text("cancelled"))])),
                Action::Update {
                    changes: vec![change(
                        "status",
                        Some(text("cancelled")),
                        Some(text("active")),
                    )],
                },
            ),
            (
                "session registration cancels",
                record(
                    DataType::SessionRegistrations,
                    &[("status", text("cancelled"))],
                ),
                names(&[]),
                Some(record(
                    DataType::SessionRegistrations,
                    &[("status", text("waitlisted"))],
                )),
                Action::Cancel {
                    changes: vec![change(
                        "status",
                        Some(text("waitlisted")),
                        Some(text("cancelled")),
                    )],
                },
            ),
            (
                "a session that becomes hidden is an update",
                record(DataType::Sessions, &[("hidden", FieldValue::Bool(true))]),
                names(&[]),
                Some(record(
                    DataType::Sessions,
                    &[("hidden", FieldValue::Bool(false))],
                )),
                Action::Update {
                    changes: vec![change(
                        "hidden",
                        Some(FieldValue::Bool(false)),
                        Some(FieldValue::Bool(true)),
                    )],
                },
            ),
            (
                "a custom field called status does not cancel",
                record(DataType::Sponsors, &[("custom.status", text("cancelled"))]),
                names(&[]),
                Some(record(DataType::Sponsors, &[])),
                Action::Update {
                    changes: vec![change("custom.status", None, Some(text("cancelled")))],
                },
            ),
            (
                "timestamps compare in their normalised form",
                record(
                    DataType::Sessions,
                    &[(
                        "starts_at",
                        FieldValue::Timestamp("2025-05-01T13:00:00.000Z".into()),
                    )],
                ),
                names(&[]),
                Some(record(
                    DataType::Sessions,
                    &[(
                        "starts_at",
                        FieldValue::Timestamp("2025-05-01T13:00:00.000Z".into()),
                    )],
                )),
                Action::Unchanged,
            ),
        ];
        for (name, incoming, empty, existing, expected) in cases {
            let action = diff(&incoming, &empty, existing.as_ref());
            assert_eq!(action.kind(), expected.kind(), "{name}");
            assert_eq!(action, expected, "{name}");
        }
    }

    #[test]
    fn merge_keeps_what_the_incoming_record_leaves_alone() {
        let existing = person(&[
            ("phone", text("old")),
            ("title", text("Mathematician")),
            ("custom.legacy", text("kept")),
        ]);
        let incoming = person(&[
            ("phone", text("new")),
            ("title", FieldValue::Null),
            ("email", text("a@b.c")),
        ]);
        let cases = [
            (
                "everything imported",
                names(&[]),
                person(&[
                    ("phone", text("new")),
                    ("title", FieldValue::Null),
                    ("email", text("a@b.c")),
                    ("custom.legacy", text("kept")),
                ]),
            ),
            (
                "phone left alone",
                names(&["phone"]),
                person(&[
                    ("phone", text("old")),
                    ("title", FieldValue::Null),
                    ("email", text("a@b.c")),
                    ("custom.legacy", text("kept")),
                ]),
            ),
        ];
        for (name, empty, expected) in cases {
            assert_eq!(
                merge(Some(&existing), &incoming, &empty),
                expected,
                "{name}"
            );
        }
        assert_eq!(merge(None, &incoming, &names(&[])), incoming);
    }

    #[test]
    fn action_kinds_have_stable_names() {
        let names: Vec<&str> = ActionKind::ALL.iter().map(|kind| kind.as_str()).collect();
        assert_eq!(
            names,
            [
                "create",
                "update",
                "unchanged",
                "cancel",
                "reject",
                "remove"
            ]
        );
        for kind in ActionKind::ALL {
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::json!(kind.as_str())
            );
            assert_eq!(kind.to_string(), kind.as_str());
        }
        let update = Action::Update {
            changes: vec![change("title", None, Some(text("Countess")))],
        };
        assert_eq!(
            serde_json::to_value(&update).unwrap(),
            serde_json::json!({
                "kind": "update",
                "changes": [{
                    "field": "title",
                    "old": null,
                    "new": {"type": "text", "value": "Countess"}
                }]
            })
        );
        assert_eq!(update.changes().len(), 1);
        assert!(Action::Create.changes().is_empty());
    }

    #[test]
    fn changes_print_old_and_new() {
        let cases = [
            (
                change("title", Some(text("Dr")), Some(text("Prof"))),
                r#"title: "Dr" → "Prof""#,
            ),
            (
                change("phone", Some(text("1")), Some(FieldValue::Null)),
                r#"phone: "1" → (empty)"#,
            ),
            (
                change("capacity", None, Some(FieldValue::Integer(150))),
                "capacity: (empty) → 150",
            ),
            (
                change(
                    "hidden",
                    Some(FieldValue::Bool(false)),
                    Some(FieldValue::Bool(true)),
                ),
                "hidden: false → true",
            ),
        ];
        for (change, printed) in cases {
            assert_eq!(change.to_string(), printed);
        }
    }

    /// A small deterministic generator (xorshift), so the property test needs no extra crate
    /// and a failure reproduces exactly.
    struct Random(u64);

    impl Random {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, bound: u64) -> u64 {
            self.next() % bound
        }
    }

    fn random_value(random: &mut Random) -> FieldValue {
        match random.below(6) {
            0 => FieldValue::Null,
            1 => FieldValue::Bool(random.below(2) == 0),
            2 => FieldValue::Integer(random.below(3) as i64),
            3 => FieldValue::Timestamp(format!("2025-05-0{}T09:00:00.000Z", random.below(3) + 1)),
            _ => text(["active", "cancelled", "a", "b"][random.below(4) as usize]),
        }
    }

    fn random_record(random: &mut Random, data_type: DataType) -> Record {
        const FIELDS: [&str; 6] = [
            "status",
            "first_name",
            "title",
            "phone",
            "custom.a",
            "custom.b",
        ];
        let mut pairs = Vec::new();
        for field in FIELDS {
            if random.below(3) != 0 {
                pairs.push((field, random_value(random)));
            }
        }
        record(data_type, &pairs)
    }

    #[test]
    fn storing_the_merge_leaves_nothing_to_do() {
        let mut random = Random(0x9E37_79B9_7F4A_7C15);
        let mut seen = BTreeSet::new();
        for _ in 0..5000 {
            let data_type = [DataType::People, DataType::Speakers][random.below(2) as usize];
            let incoming = random_record(&mut random, data_type);
            let existing = (random.below(4) != 0).then(|| random_record(&mut random, data_type));
            let empty: BTreeSet<String> = ["phone", "title", "custom.a"]
                .iter()
                .filter(|_| random.below(2) == 0)
                .map(|field| field.to_string())
                .collect();
            let action = diff(&incoming, &empty, existing.as_ref());
            seen.insert(action.kind());
            let stored = merge(existing.as_ref(), &incoming, &empty);
            assert_eq!(
                diff(&incoming, &empty, Some(&stored)),
                Action::Unchanged,
                "incoming {incoming:?}, empty {empty:?}, existing {existing:?}"
            );
            // Unchanged means storing would change nothing the workspace can tell apart.
            if let (Action::Unchanged, Some(existing)) = (&action, &existing) {
                for (field, value) in &stored.fields {
                    assert!(same(existing.fields.get(field), Some(value)), "{field}");
                }
            }
            // Every reported change is exactly what the merge stores.
            for change in action.changes() {
                assert_eq!(stored.fields.get(&change.field), change.new.as_ref());
            }
        }
        // The generator must reach every outcome, or the property proves little.
        let kinds: BTreeSet<ActionKind> = [
            ActionKind::Create,
            ActionKind::Update,
            ActionKind::Unchanged,
            ActionKind::Cancel,
        ]
        .into();
        assert_eq!(seen, kinds);
    }
}

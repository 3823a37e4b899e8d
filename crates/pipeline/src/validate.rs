//! Record validation: a mapped record becomes a [`Record`] the workspace can store, or a
//! [`Rejection`] whose reason the preview report shows next to it.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::mapping::Mapped;
use crate::schema::{DataType, FieldType, is_custom_field};
use crate::value::FieldValue;

/// A record ready to diff and store: every field typed as the schema says, every required
/// field present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub data_type: DataType,
    /// The vendor's id, which pairs this record with the workspace's copy.
    pub external_id: String,
    /// Field values by name, `external_id` included.
    pub fields: BTreeMap<String, FieldValue>,
}

/// A record that cannot be stored, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub struct Rejection {
    /// The vendor's id, when the record had a readable one.
    pub external_id: Option<String>,
    pub reason: RejectReason,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.external_id {
            Some(external_id) => write!(f, "record '{external_id}' rejected: {}", self.reason),
            None => write!(f, "record rejected: {}", self.reason),
        }
    }
}

/// Why a record was rejected, each with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum RejectReason {
    #[error(
        "required field '{field}' has no value: the vendor sent none, so check the mapping's \
         source for '{field}' and the record at the vendor"
    )]
    MissingRequired { field: String },
    #[error(
        "field '{field}' expects {expected}, but the vendor sent {found}: fix the value at the \
         vendor or translate it with a value map"
    )]
    WrongType {
        field: String,
        expected: String,
        found: String,
    },
    #[error(
        "field '{field}' must be one of {}, but the vendor sent \"{value}\": add \"{value}\" to \
         the value map for '{field}'",
        allowed.join(", ")
    )]
    NotAllowed {
        field: String,
        value: String,
        allowed: Vec<String>,
    },
    #[error(
        "field '{field}' refers to '{value}', which is not in the workspace: sync the data type \
         it refers to first, or check that the vendor record it points to still exists"
    )]
    UnknownReference { field: String, value: String },
    /// The record it refers to is in the same run, rejected: its reason is the cause.
    #[error(
        "field '{field}' refers to {target} '{value}', which was rejected itself ({cause}): \
         correct that record and this one follows"
    )]
    RejectedReference {
        field: String,
        value: String,
        target: String,
        cause: String,
    },
    #[error(
        "field '{field}' is not a field of this data type: only fields of the workspace schema \
         and custom.<name> fields can be stored"
    )]
    UnknownField { field: String },
    /// The record itself could not be read (not JSON, say); the message says what was wrong.
    #[error("{0}")]
    Malformed(String),
}

/// Checks a mapped record against the data type's schema, field by field in schema order then
/// custom fields, and reports the first problem.
///
/// Consumes the mapped record so its values move into the result; a caller that diffs keeps
/// the targets to leave alone first: `let empty = std::mem::take(&mut mapped.empty);`.
/// A required field left in `empty` is missing: a new record has no workspace value to keep.
pub fn validate(mapped: Mapped, data_type: DataType) -> Result<Record, Rejection> {
    let Mapped {
        external_id,
        fields,
        empty: _,
        problems,
    } = mapped;
    let reject = |reason: RejectReason| Rejection {
        external_id: external_id.clone(),
        reason,
    };
    for field in data_type.fields() {
        let name = field.name;
        if let Some(problem) = problems.get(name) {
            return Err(reject(RejectReason::WrongType {
                field: name.to_string(),
                expected: problem.expected.clone(),
                found: problem.found.clone(),
            }));
        }
        match fields.get(name) {
            None | Some(FieldValue::Null) if field.required => {
                return Err(reject(RejectReason::MissingRequired {
                    field: name.to_string(),
                }));
            }
            None => {}
            Some(value) => check_type(name, value, field.field_type).map_err(reject)?,
        }
    }
    for (name, problem) in &problems {
        if data_type.field(name).is_none() {
            return Err(reject(RejectReason::WrongType {
                field: name.clone(),
                expected: problem.expected.clone(),
                found: problem.found.clone(),
            }));
        }
    }
    for (name, value) in &fields {
        if data_type.field(name).is_some() {
            continue;
        }
        if !is_custom_field(name) {
            return Err(reject(RejectReason::UnknownField {
                field: name.clone(),
            }));
        }
        check_type(name, value, FieldType::Text).map_err(reject)?;
    }
    let external_id = match fields.get("external_id") {
        Some(FieldValue::Text(external_id)) => external_id.clone(),
        // The schema loop above rejected anything else: external_id is required text.
        _ => {
            return Err(reject(RejectReason::MissingRequired {
                field: "external_id".to_string(),
            }));
        }
    };
    Ok(Record {
        data_type,
        external_id,
        fields,
    })
}

/// Whether a value fits its field's type. `apply` only produces fitting values; this guards
/// records built or stored by other code.
fn check_type(name: &str, value: &FieldValue, field_type: FieldType) -> Result<(), RejectReason> {
    let fits = match (field_type, value) {
        (_, FieldValue::Null) => true,
        (FieldType::Enum(allowed), FieldValue::Text(text)) => {
            if allowed.contains(&text.as_str()) {
                true
            } else {
                return Err(RejectReason::NotAllowed {
                    field: name.to_string(),
                    value: text.clone(),
                    allowed: allowed.iter().map(|value| value.to_string()).collect(),
                });
            }
        }
        (FieldType::Text, FieldValue::Text(_))
        | (FieldType::Bool, FieldValue::Bool(_))
        | (FieldType::Integer, FieldValue::Integer(_))
        | (FieldType::Timestamp, FieldValue::Timestamp(_)) => true,
        _ => false,
    };
    if fits {
        Ok(())
    } else {
        Err(RejectReason::WrongType {
            field: name.to_string(),
            expected: field_type.expected(),
            found: format!("a {} value ({value})", value.type_name()),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::mapping::FieldProblem;

    fn text(value: &str) -> FieldValue {
        FieldValue::Text(value.to_string())
    }

    fn timestamp(value: &str) -> FieldValue {
        FieldValue::Timestamp(value.to_string())
    }

    fn session_fields() -> Vec<(&'static str, FieldValue)> {
        vec![
            ("external_id", text("s-1")),
            ("title", text("Keynote")),
            ("starts_at", timestamp("2025-05-01T13:00:00.000Z")),
            ("ends_at", timestamp("2025-05-01T14:00:00.000Z")),
            ("capacity", FieldValue::Integer(150)),
            ("custom.track", text("Main")),
        ]
    }

    fn mapped(pairs: Vec<(&str, FieldValue)>) -> Mapped {
        let fields: BTreeMap<String, FieldValue> = pairs
            .into_iter()
            .map(|(name, value)| (name.to_string(), value))
            .collect();
        Mapped {
            external_id: fields
                .get("external_id")
                .and_then(FieldValue::as_text)
                .map(str::to_string),
            fields,
            empty: BTreeSet::new(),
            problems: BTreeMap::new(),
        }
    }

    fn without(
        mut pairs: Vec<(&'static str, FieldValue)>,
        name: &str,
    ) -> Vec<(&'static str, FieldValue)> {
        pairs.retain(|(field, _)| *field != name);
        pairs
    }

    fn with(
        mut pairs: Vec<(&'static str, FieldValue)>,
        name: &'static str,
        value: FieldValue,
    ) -> Vec<(&'static str, FieldValue)> {
        pairs.retain(|(field, _)| *field != name);
        pairs.push((name, value));
        pairs
    }

    #[test]
    fn accepts_a_complete_record() {
        let record = validate(mapped(session_fields()), DataType::Sessions).unwrap();
        assert_eq!(record.data_type, DataType::Sessions);
        assert_eq!(record.external_id, "s-1");
        assert_eq!(record.fields.len(), session_fields().len());
        // Optional fields may be null; required ones may not (see the rejections below).
        let with_null = with(session_fields(), "capacity", FieldValue::Null);
        assert!(validate(mapped(with_null), DataType::Sessions).is_ok());
    }

    #[test]
    fn rejections_name_the_field_and_the_reason() {
        let mut with_problem = mapped(session_fields());
        with_problem.fields.remove("capacity");
        with_problem.problems.insert(
            "capacity".into(),
            FieldProblem {
                expected: "a whole number".into(),
                found: "\"lots\"".into(),
            },
        );
        let mut custom_problem = mapped(session_fields());
        custom_problem.problems.insert(
            "custom.track".into(),
            FieldProblem {
                expected: "text".into(),
                found: "x".into(),
            },
        );
        let mut missing_start_left_alone = mapped(without(session_fields(), "starts_at"));
        missing_start_left_alone.empty.insert("starts_at".into());
        let person = vec![
            ("external_id", text("p-1")),
            ("status", text("active")),
            ("first_name", text("Ada")),
            ("last_name", text("Lovelace")),
        ];
        let cases: Vec<(&str, DataType, Mapped, RejectReason)> = vec![
            (
                "session without a start time",
                DataType::Sessions,
                mapped(without(session_fields(), "starts_at")),
                RejectReason::MissingRequired {
                    field: "starts_at".into(),
                },
            ),
            (
                "required field left alone is still missing",
                DataType::Sessions,
                missing_start_left_alone,
                RejectReason::MissingRequired {
                    field: "starts_at".into(),
                },
            ),
            (
                "required field cleared",
                DataType::Sessions,
                mapped(with(session_fields(), "ends_at", FieldValue::Null)),
                RejectReason::MissingRequired {
                    field: "ends_at".into(),
                },
            ),
            (
                "no external id",
                DataType::Sessions,
                mapped(without(session_fields(), "external_id")),
                RejectReason::MissingRequired {
                    field: "external_id".into(),
                },
            ),
            (
                "value the mapping could not type",
                DataType::Sessions,
                with_problem,
                RejectReason::WrongType {
                    field: "capacity".into(),
                    expected: "a whole number".into(),
                    found: "\"lots\"".into(),
                },
            ),
            (
                "problem on a custom field",
                DataType::Sessions,
                custom_problem,
                RejectReason::WrongType {
                    field: "custom.track".into(),
                    expected: "text".into(),
                    found: "x".into(),
                },
            ),
            (
                "value of the wrong type built by hand",
                DataType::Sessions,
                mapped(with(session_fields(), "starts_at", text("tomorrow"))),
                RejectReason::WrongType {
                    field: "starts_at".into(),
                    expected: FieldType::Timestamp.expected(),
                    found: "a text value (tomorrow)".into(),
                },
            ),
            (
                "custom field that is not text",
                DataType::Sessions,
                mapped(with(
                    session_fields(),
                    "custom.track",
                    FieldValue::Integer(2),
                )),
                RejectReason::WrongType {
                    field: "custom.track".into(),
                    expected: "text".into(),
                    found: "a whole number value (2)".into(),
                },
            ),
            (
                "status outside the enum",
                DataType::People,
                mapped(with(person.clone(), "status", text("Pending"))),
                RejectReason::NotAllowed {
                    field: "status".into(),
                    value: "Pending".into(),
                    allowed: vec!["active".into(), "cancelled".into()],
                },
            ),
            (
                "field of another data type",
                DataType::People,
                mapped(with(person.clone(), "capacity", FieldValue::Integer(3))),
                RejectReason::UnknownField {
                    field: "capacity".into(),
                },
            ),
            (
                "the first problem in schema order wins",
                DataType::People,
                mapped(with(
                    without(person.clone(), "last_name"),
                    "status",
                    text("x"),
                )),
                RejectReason::NotAllowed {
                    field: "status".into(),
                    value: "x".into(),
                    allowed: vec!["active".into(), "cancelled".into()],
                },
            ),
        ];
        for (name, data_type, mapped, reason) in cases {
            let external_id = mapped.external_id.clone();
            assert_eq!(
                validate(mapped, data_type),
                Err(Rejection {
                    external_id,
                    reason
                }),
                "{name}"
            );
        }
    }

    #[test]
    fn reasons_read_as_sentences() {
        let cases = [
            (
                RejectReason::MissingRequired {
                    field: "starts_at".into(),
                },
                "required field 'starts_at' has no value: the vendor sent none, so check the \
                 mapping's source for 'starts_at' and the record at the vendor",
            ),
            (
                RejectReason::WrongType {
                    field: "capacity".into(),
                    expected: "a whole number".into(),
                    found: "\"lots\"".into(),
                },
                "field 'capacity' expects a whole number, but the vendor sent \"lots\": fix the \
                 value at the vendor or translate it with a value map",
            ),
            (
                RejectReason::NotAllowed {
                    field: "status".into(),
                    value: "Pending".into(),
                    allowed: vec!["active".into(), "cancelled".into()],
                },
                "field 'status' must be one of active, cancelled, but the vendor sent \
                 \"Pending\": add \"Pending\" to the value map for 'status'",
            ),
            (
                RejectReason::UnknownReference {
                    field: "session_external_id".into(),
                    value: "s-9".into(),
                },
                "field 'session_external_id' refers to 's-9', which is not in the workspace: sync \
                 the data type it refers to first, or check that the vendor record it points to \
                 still exists",
            ),
            (
                RejectReason::UnknownField {
                    field: "capacity".into(),
                },
                "field 'capacity' is not a field of this data type: only fields of the workspace \
                 schema and custom.<name> fields can be stored",
            ),
        ];
        for (reason, message) in cases {
            assert_eq!(reason.to_string(), message);
        }
        let rejection = Rejection {
            external_id: Some("s-1".into()),
            reason: RejectReason::MissingRequired {
                field: "ends_at".into(),
            },
        };
        assert!(
            rejection
                .to_string()
                .starts_with("record 's-1' rejected: required field 'ends_at'")
        );
        let anonymous = Rejection {
            external_id: None,
            ..rejection
        };
        assert!(
            anonymous
                .to_string()
                .starts_with("record rejected: required field")
        );
    }

    #[test]
    fn reasons_serialize_for_the_run_history() {
        let rejection = Rejection {
            external_id: Some("s-1".into()),
            reason: RejectReason::UnknownReference {
                field: "session_external_id".into(),
                value: "s-9".into(),
            },
        };
        let json = serde_json::to_value(&rejection).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "external_id": "s-1",
                "reason": {
                    "reason": "unknown_reference",
                    "field": "session_external_id",
                    "value": "s-9"
                }
            })
        );
        assert_eq!(
            serde_json::from_value::<Rejection>(json).unwrap(),
            rejection
        );
    }
}

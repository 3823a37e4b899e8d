//! Field mappings: which vendor path fills which workspace field, how vendor values are
//! translated (value maps) and typed, and the checks that keep a mapping syncable.
//!
//! A mapping is configuration (it lives in `eventsync.toml` and the XLSX export), so
//! [`Mapping::validate`] judges it once, when it is loaded, with errors naming what to fix;
//! [`Mapping::apply`] then runs on every record and never fails as a whole: a value that cannot be
//! typed becomes a per-field [`FieldProblem`], which validation turns into a rejected record.
//!
//! Empty vendor values — absent paths, `null`, text that is only whitespace, or a value map
//! result that is empty — never overwrite the workspace unless the rule says `import_empty`:
//! vendors routinely omit fields they did not change, and clearing a phone number because a
//! page came back partial would be data loss.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Number;

use crate::flatten::{Flat, Scalar};
use crate::schema::{DataType, FieldType};
use crate::value::FieldValue;

/// The rules of one data config, in the order the user wrote them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    pub rules: Vec<Rule>,
}

/// One vendor path feeding one workspace field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)] // A misspelt `import_empty` must not silently mean `false`.
pub struct Rule {
    /// A flattened vendor path, such as `contact.firstName` or `answers.0.value.0`.
    pub source: String,
    /// A workspace field of the data type, or `custom.<name>`.
    pub target: String,
    /// Whether an empty vendor value clears the workspace value (otherwise it is left alone).
    #[serde(default)]
    pub import_empty: bool,
    /// Translates vendor values before they are typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<ValueMap>,
}

impl Rule {
    /// A rule that leaves workspace values alone when the vendor sends nothing.
    pub fn new(source: impl Into<String>, target: impl Into<String>) -> Rule {
        Rule {
            source: source.into(),
            target: target.into(),
            import_empty: false,
            values: None,
        }
    }

    /// Lets an empty vendor value clear the workspace value.
    pub fn importing_empty(self) -> Rule {
        Rule {
            import_empty: true,
            ..self
        }
    }

    pub fn with_values(self, values: ValueMap) -> Rule {
        Rule {
            values: Some(values),
            ..self
        }
    }
}

/// Vendor value → workspace value, such as Cvent's attendee status (`Cancelled` and `Declined`
/// → `cancelled`, anything else → `active`).
///
/// Lookup: an exact key first, then a key equal ignoring case, then `default`; a value matching
/// nothing, with no default, passes through unchanged (and an enum field then rejects it,
/// naming the value to add). Mapping to `""` makes the value empty, which drops placeholders
/// such as `N/A`. In TOML: `values = { map = { Cancelled = "cancelled" }, default = "active" }`;
/// `map` is a table of its own so that a vendor value called `default` stays mappable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueMap {
    #[serde(default)]
    pub map: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

impl ValueMap {
    pub fn new<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        ValueMap {
            map: pairs
                .into_iter()
                .map(|(key, value)| (key.into(), value.into()))
                .collect(),
            default: None,
        }
    }

    pub fn with_default(self, default: impl Into<String>) -> Self {
        ValueMap {
            default: Some(default.into()),
            ..self
        }
    }

    /// The workspace value for a vendor value; see the type's documentation for the order.
    pub fn lookup<'v>(&'v self, vendor: &'v str) -> &'v str {
        if let Some(value) = self.map.get(vendor) {
            return value;
        }
        if let Some((_, value)) = self.map.iter().find(|(key, _)| eq_ignore_case(key, vendor)) {
            return value;
        }
        self.default.as_deref().unwrap_or(vendor)
    }

    /// Every value the map can produce must be storable in the target field, and no two keys
    /// may differ only in case while mapping to different values (which one wins for a third
    /// spelling would be arbitrary).
    fn check(&self, target: &str, field_type: FieldType) -> Result<(), MappingError> {
        for (index, (key, value)) in self.map.iter().enumerate() {
            if let Some((other_key, other_value)) =
                self.map
                    .iter()
                    .skip(index + 1)
                    .find(|(other_key, other_value)| {
                        eq_ignore_case(key, other_key) && value != *other_value
                    })
            {
                return Err(MappingError::AmbiguousValueMap {
                    target: target.to_string(),
                    first: (key.clone(), value.clone()),
                    second: (other_key.clone(), other_value.clone()),
                });
            }
        }
        for value in self.map.values().chain(self.default.iter()) {
            if is_blank(value) {
                continue;
            }
            let storable = match coerce(Scalar::Text(value), field_type) {
                Ok(FieldValue::Text(text)) => match field_type {
                    FieldType::Enum(allowed) => allowed.contains(&text.as_str()),
                    _ => true,
                },
                Ok(_) => true,
                Err(_) => false,
            };
            if !storable {
                return Err(MappingError::UnstorableValue {
                    target: target.to_string(),
                    value: value.clone(),
                    expected: field_type.expected(),
                });
            }
        }
        Ok(())
    }
}

/// Why a mapping cannot be used; each names the rule and what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error(
        "unknown workspace field '{target}' for {data_type}: valid fields are {}, or \
         custom.<name> with a name made of a-z, 0-9 and _",
        valid.join(", ")
    )]
    UnknownTarget {
        target: String,
        data_type: DataType,
        valid: Vec<&'static str>,
    },
    #[error("the rule for '{target}' has no source: give the vendor field path to read")]
    EmptySource { target: String },
    #[error(
        "'{target}' is mapped twice, from '{first_source}' and from '{second_source}': \
         keep one of the two rules"
    )]
    DuplicateTarget {
        target: String,
        first_source: String,
        second_source: String,
    },
    #[error(
        "protected mapping '{target}' cannot be removed: {data_type} sync depends on it; \
         map a vendor field to '{target}'"
    )]
    ProtectedUnmapped { target: String, data_type: DataType },
    #[error(
        "the value map for '{target}' produces \"{value}\", but '{target}' expects {expected}: \
         change that value in the map"
    )]
    UnstorableValue {
        target: String,
        value: String,
        expected: String,
    },
    #[error(
        "the value map for '{target}' has keys \"{}\" → \"{}\" and \"{}\" → \"{}\" that differ \
         only in case: keep one of them",
        first.0, first.1, second.0, second.1
    )]
    AmbiguousValueMap {
        target: String,
        first: (String, String),
        second: (String, String),
    },
}

/// Something in a mapping that works today but may break later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// The source picks a list element by position, and vendors reorder lists (answers,
    /// custom fields) between syncs, so the field may start reading another element.
    ListPosition { source: String, target: String },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::ListPosition { source, target } => write!(
                f,
                "'{target}' reads '{source}', which picks a list element by position; the vendor \
                 may reorder that list between syncs, so check the preview after each change to \
                 the vendor's form"
            ),
        }
    }
}

/// A vendor value that cannot be read as its field's type; validation rejects the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// What the field takes, finishing "expects …".
    pub expected: String,
    /// The vendor value, quoted as in messages.
    pub found: String,
}

/// One vendor record mapped onto a data type's fields. Every mapped target is in exactly one
/// of `fields`, `empty` and `problems`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapped {
    /// The `external_id` field's text, when it has one; kept apart so a rejection can say which
    /// record it is about.
    pub external_id: Option<String>,
    /// Typed values, `Null` where an empty vendor value is imported.
    pub fields: BTreeMap<String, FieldValue>,
    /// Targets whose vendor value was empty or absent under a rule that does not import empty
    /// values: leave the workspace value alone.
    pub empty: BTreeSet<String>,
    /// Targets whose vendor value could not be typed.
    pub problems: BTreeMap<String, FieldProblem>,
}

impl Mapping {
    /// Checks the mapping against the data type's schema: the first error found, or the
    /// warnings to show next to a usable mapping.
    pub fn validate(&self, data_type: DataType) -> Result<Vec<Warning>, MappingError> {
        let mut warnings = Vec::new();
        for (index, rule) in self.rules.iter().enumerate() {
            let Some(field_type) = data_type.field_type(&rule.target) else {
                return Err(MappingError::UnknownTarget {
                    target: rule.target.clone(),
                    data_type,
                    valid: data_type.fields().iter().map(|field| field.name).collect(),
                });
            };
            if rule.source.trim().is_empty() {
                return Err(MappingError::EmptySource {
                    target: rule.target.clone(),
                });
            }
            if let Some(earlier) = self.rules[..index]
                .iter()
                .find(|earlier| earlier.target == rule.target)
            {
                return Err(MappingError::DuplicateTarget {
                    target: rule.target.clone(),
                    first_source: earlier.source.clone(),
                    second_source: rule.source.clone(),
                });
            }
            if let Some(values) = &rule.values {
                values.check(&rule.target, field_type)?;
            }
            if has_list_position(&rule.source) {
                warnings.push(Warning::ListPosition {
                    source: rule.source.clone(),
                    target: rule.target.clone(),
                });
            }
        }
        for field in data_type.fields().iter().filter(|field| field.protected) {
            if !self.rules.iter().any(|rule| rule.target == field.name) {
                return Err(MappingError::ProtectedUnmapped {
                    target: field.name.to_string(),
                    data_type,
                });
            }
        }
        Ok(warnings)
    }

    /// Maps one flattened vendor record. Meant for a mapping [`Mapping::validate`] accepted;
    /// on any other, rules with an unknown target are skipped (there is nowhere to store their
    /// value) and, of two rules for one target, the first wins.
    pub fn apply(&self, flat: &Flat<'_>, data_type: DataType) -> Mapped {
        let mut mapped = Mapped::default();
        for rule in &self.rules {
            let Some(field_type) = data_type.field_type(&rule.target) else {
                continue;
            };
            let target = rule.target.as_str();
            if mapped.fields.contains_key(target)
                || mapped.empty.contains(target)
                || mapped.problems.contains_key(target)
            {
                continue;
            }
            match map_value(rule, flat.get(&rule.source), field_type) {
                Some(Ok(value)) => {
                    mapped.fields.insert(target.to_string(), value);
                }
                Some(Err(problem)) => {
                    mapped.problems.insert(target.to_string(), problem);
                }
                None if rule.import_empty => {
                    mapped.fields.insert(target.to_string(), FieldValue::Null);
                }
                None => {
                    mapped.empty.insert(target.to_string());
                }
            }
        }
        mapped.external_id = mapped
            .fields
            .get("external_id")
            .and_then(FieldValue::as_text)
            .map(str::to_string);
        mapped
    }
}

/// The typed value for one rule: `None` when the vendor value is empty.
fn map_value(
    rule: &Rule,
    vendor: Option<Scalar<'_>>,
    field_type: FieldType,
) -> Option<Result<FieldValue, FieldProblem>> {
    let vendor = match vendor {
        None | Some(Scalar::Null) => return None,
        Some(Scalar::Text(text)) if is_blank(text) => return None,
        Some(scalar) => scalar,
    };
    let Some(values) = &rule.values else {
        return Some(coerce(vendor, field_type));
    };
    let vendor_text: Cow<'_, str> = match vendor {
        Scalar::Text(text) => Cow::Borrowed(text),
        Scalar::Bool(true) => Cow::Borrowed("true"),
        Scalar::Bool(false) => Cow::Borrowed("false"),
        Scalar::Number(number) => Cow::Owned(number.to_string()),
        Scalar::Null => return None,
    };
    let translated = values.lookup(&vendor_text);
    if is_blank(translated) {
        return None;
    }
    Some(coerce(Scalar::Text(translated), field_type))
}

/// Types a non-empty vendor scalar for a field.
///
/// Lenient where vendors differ harmlessly: numbers and booleans sent as text (`"150"`,
/// `"true"`, `"Yes"`), whole numbers sent as `150.0`, enum values in any case. Strict where a
/// guess could store something wrong: timestamps need an explicit UTC offset, because a bare
/// local time means a different instant in every event's time zone; the connector, which knows
/// the event's zone, must add it.
pub(crate) fn coerce(
    vendor: Scalar<'_>,
    field_type: FieldType,
) -> Result<FieldValue, FieldProblem> {
    let problem = || FieldProblem {
        expected: field_type.expected(),
        found: vendor.to_string(),
    };
    match field_type {
        FieldType::Text => Ok(FieldValue::Text(scalar_text(vendor))),
        FieldType::Enum(allowed) => {
            let text = scalar_text(vendor);
            // Canonical spelling when it matches ignoring case; validation rejects the rest.
            Ok(FieldValue::Text(
                match allowed.iter().find(|value| eq_ignore_case(value, &text)) {
                    Some(value) => (*value).to_string(),
                    None => text,
                },
            ))
        }
        FieldType::Bool => match vendor {
            Scalar::Bool(value) => Ok(FieldValue::Bool(value)),
            Scalar::Number(number) => match number.as_i64() {
                Some(1) => Ok(FieldValue::Bool(true)),
                Some(0) => Ok(FieldValue::Bool(false)),
                _ => Err(problem()),
            },
            Scalar::Text(text) => parse_bool(text).map(FieldValue::Bool).ok_or_else(problem),
            Scalar::Null => Ok(FieldValue::Null),
        },
        FieldType::Integer => match vendor {
            Scalar::Number(number) => number_to_integer(number)
                .map(FieldValue::Integer)
                .ok_or_else(problem),
            Scalar::Text(text) => parse_integer(text.trim())
                .map(FieldValue::Integer)
                .ok_or_else(problem),
            Scalar::Bool(_) => Err(problem()),
            Scalar::Null => Ok(FieldValue::Null),
        },
        FieldType::Timestamp => match vendor {
            Scalar::Text(text) => DateTime::parse_from_rfc3339(text.trim())
                .map(|instant| {
                    FieldValue::Timestamp(
                        instant
                            .with_timezone(&Utc)
                            .to_rfc3339_opts(SecondsFormat::Millis, true),
                    )
                })
                .map_err(|_| problem()),
            Scalar::Null => Ok(FieldValue::Null),
            // Epoch numbers are ambiguous (seconds or milliseconds?): refuse to guess.
            Scalar::Number(_) | Scalar::Bool(_) => Err(problem()),
        },
    }
}

fn scalar_text(vendor: Scalar<'_>) -> String {
    match vendor {
        Scalar::Text(text) => text.to_string(),
        Scalar::Number(number) => number.to_string(),
        Scalar::Bool(value) => value.to_string(),
        Scalar::Null => String::new(),
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    const TRUE: &[&str] = &["true", "yes", "y", "1"];
    const FALSE: &[&str] = &["false", "no", "n", "0"];
    let text = text.trim();
    if TRUE.iter().any(|word| word.eq_ignore_ascii_case(text)) {
        Some(true)
    } else if FALSE.iter().any(|word| word.eq_ignore_ascii_case(text)) {
        Some(false)
    } else {
        None
    }
}

fn number_to_integer(number: &Number) -> Option<i64> {
    number
        .as_i64()
        .or_else(|| number.as_f64().and_then(float_to_integer))
}

fn parse_integer(text: &str) -> Option<i64> {
    text.parse::<i64>()
        .ok()
        .or_else(|| text.parse::<f64>().ok().and_then(float_to_integer))
}

/// A float that is exactly a whole number in range (`150.0`), never a rounded one.
fn float_to_integer(value: f64) -> Option<i64> {
    // 2^63 is exactly representable; every float below it in magnitude with no fraction fits.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (value.is_finite() && value.fract() == 0.0 && (-LIMIT..LIMIT).contains(&value))
        .then_some(value as i64)
}

fn is_blank(text: &str) -> bool {
    text.trim().is_empty()
}

/// Unicode case-insensitive equality without allocating.
fn eq_ignore_case(left: &str, right: &str) -> bool {
    left.chars()
        .flat_map(char::to_lowercase)
        .eq(right.chars().flat_map(char::to_lowercase))
}

/// Whether a path has an all-digit segment, i.e. picks a list element by position.
fn has_list_position(source: &str) -> bool {
    source
        .split('.')
        .any(|segment| !segment.is_empty() && segment.bytes().all(|byte| byte.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::fixtures;
    use crate::flatten::flatten;

    fn cvent_status() -> ValueMap {
        ValueMap::new([("Cancelled", "cancelled"), ("Declined", "cancelled")])
            .with_default("active")
    }

    /// The people mapping a Cvent REST connection starts from.
    fn cvent_people() -> Mapping {
        Mapping {
            rules: vec![
                Rule::new("id", "external_id"),
                Rule::new("status", "status").with_values(cvent_status()),
                Rule::new("contact.firstName", "first_name"),
                Rule::new("contact.lastName", "last_name"),
                Rule::new("contact.email", "email"),
                Rule::new("contact.company", "company"),
                Rule::new("contact.title", "title"),
                Rule::new("contact.mobilePhone", "phone"),
                Rule::new("registrationType.name", "registration_type"),
                Rule::new("guest", "is_guest"),
                Rule::new("primaryId", "primary_external_id"),
                Rule::new("contact.id", "contact_id"),
                Rule::new("contact._links.profilePicture.href", "photo_url"),
            ],
        }
    }

    fn with_rule(mut mapping: Mapping, rule: Rule) -> Mapping {
        mapping.rules.push(rule);
        mapping
    }

    fn without_target(mut mapping: Mapping, target: &str) -> Mapping {
        mapping.rules.retain(|rule| rule.target != target);
        mapping
    }

    #[test]
    fn validate_reports_errors_and_warnings() {
        let people_fields = DataType::People
            .fields()
            .iter()
            .map(|field| field.name)
            .collect();
        /// (what the case shows, data type, mapping, expected outcome)
        type Case = (
            &'static str,
            DataType,
            Mapping,
            Result<Vec<Warning>, MappingError>,
        );
        let cases: Vec<Case> = vec![
            (
                "the Cvent default",
                DataType::People,
                cvent_people(),
                Ok(vec![]),
            ),
            (
                "custom fields are valid targets",
                DataType::People,
                with_rule(
                    cvent_people(),
                    Rule::new("contact.customFields.0.value.0", "custom.diet"),
                ),
                Ok(vec![Warning::ListPosition {
                    source: "contact.customFields.0.value.0".into(),
                    target: "custom.diet".into(),
                }]),
            ),
            (
                "digits inside a segment are not a position",
                DataType::People,
                with_rule(cvent_people(), Rule::new("answers.q0.value", "custom.q0")),
                Ok(vec![]),
            ),
            (
                "unknown target",
                DataType::People,
                with_rule(cvent_people(), Rule::new("contact.nickname", "nickname")),
                Err(MappingError::UnknownTarget {
                    target: "nickname".into(),
                    data_type: DataType::People,
                    valid: people_fields,
                }),
            ),
            (
                "a custom name with capitals is unknown",
                DataType::People,
                with_rule(
                    cvent_people(),
                    Rule::new("answers.0.value.0", "custom.Diet"),
                ),
                Err(MappingError::UnknownTarget {
                    target: "custom.Diet".into(),
                    data_type: DataType::People,
                    valid: DataType::People
                        .fields()
                        .iter()
                        .map(|field| field.name)
                        .collect(),
                }),
            ),
            (
                "a field of another data type is unknown",
                DataType::People,
                with_rule(cvent_people(), Rule::new("capacity", "capacity")),
                Err(MappingError::UnknownTarget {
                    target: "capacity".into(),
                    data_type: DataType::People,
                    valid: DataType::People
                        .fields()
                        .iter()
                        .map(|field| field.name)
                        .collect(),
                }),
            ),
            (
                "empty source",
                DataType::People,
                with_rule(cvent_people(), Rule::new(" ", "company")),
                Err(MappingError::EmptySource {
                    target: "company".into(),
                }),
            ),
            (
                "same target twice",
                DataType::People,
                with_rule(cvent_people(), Rule::new("contact.workPhone", "phone")),
                Err(MappingError::DuplicateTarget {
                    target: "phone".into(),
                    first_source: "contact.mobilePhone".into(),
                    second_source: "contact.workPhone".into(),
                }),
            ),
            (
                "external id removed",
                DataType::People,
                without_target(cvent_people(), "external_id"),
                Err(MappingError::ProtectedUnmapped {
                    target: "external_id".into(),
                    data_type: DataType::People,
                }),
            ),
            (
                "contact id removed",
                DataType::People,
                without_target(cvent_people(), "contact_id"),
                Err(MappingError::ProtectedUnmapped {
                    target: "contact_id".into(),
                    data_type: DataType::People,
                }),
            ),
            (
                "an empty mapping misses the first protected field",
                DataType::SessionRegistrations,
                Mapping::default(),
                Err(MappingError::ProtectedUnmapped {
                    target: "external_id".into(),
                    data_type: DataType::SessionRegistrations,
                }),
            ),
            (
                "value map producing a status the workspace does not have",
                DataType::People,
                with_rule(
                    without_target(cvent_people(), "status"),
                    Rule::new("status", "status").with_values(
                        ValueMap::new([("Cancelled", "canceled")]).with_default("active"),
                    ),
                ),
                Err(MappingError::UnstorableValue {
                    target: "status".into(),
                    value: "canceled".into(),
                    expected: "one of active, cancelled".into(),
                }),
            ),
            (
                "value map default that is not a boolean",
                DataType::People,
                with_rule(
                    without_target(cvent_people(), "is_guest"),
                    Rule::new("guest", "is_guest")
                        .with_values(ValueMap::default().with_default("maybe")),
                ),
                Err(MappingError::UnstorableValue {
                    target: "is_guest".into(),
                    value: "maybe".into(),
                    expected: "true or false".into(),
                }),
            ),
            (
                "value map keys differing only in case",
                DataType::People,
                with_rule(
                    without_target(cvent_people(), "status"),
                    Rule::new("status", "status").with_values(ValueMap::new([
                        ("CANCELLED", "cancelled"),
                        ("Cancelled", "active"),
                    ])),
                ),
                Err(MappingError::AmbiguousValueMap {
                    target: "status".into(),
                    first: ("CANCELLED".into(), "cancelled".into()),
                    second: ("Cancelled".into(), "active".into()),
                }),
            ),
            (
                "value map keys differing only in case but agreeing, and mapping to empty",
                DataType::People,
                with_rule(
                    without_target(cvent_people(), "status"),
                    Rule::new("status", "status").with_values(ValueMap::new([
                        ("CANCELLED", "cancelled"),
                        ("Cancelled", "cancelled"),
                        ("Unknown", ""),
                    ])),
                ),
                Ok(vec![]),
            ),
            (
                "sessions with positions in two sources",
                DataType::Sessions,
                Mapping {
                    rules: vec![
                        Rule::new("id", "external_id"),
                        Rule::new("title", "title"),
                        Rule::new("schedule.0.start", "starts_at"),
                        Rule::new("schedule.0.end", "ends_at"),
                    ],
                },
                Ok(vec![
                    Warning::ListPosition {
                        source: "schedule.0.start".into(),
                        target: "starts_at".into(),
                    },
                    Warning::ListPosition {
                        source: "schedule.0.end".into(),
                        target: "ends_at".into(),
                    },
                ]),
            ),
        ];
        for (name, data_type, mapping, expected) in cases {
            assert_eq!(mapping.validate(data_type), expected, "{name}");
        }
    }

    #[test]
    fn mapping_messages_say_what_to_do() {
        let cases = [
            (
                without_target(cvent_people(), "external_id"),
                "protected mapping 'external_id' cannot be removed: people sync depends on it; \
                 map a vendor field to 'external_id'",
            ),
            (
                with_rule(cvent_people(), Rule::new("contact.nickname", "nickname")),
                "unknown workspace field 'nickname' for people: valid fields are external_id, \
                 status, first_name, last_name, email, company, title, phone, registration_type, \
                 is_guest, primary_external_id, contact_id, photo_url, or custom.<name> with a \
                 name made of a-z, 0-9 and _",
            ),
            (
                with_rule(cvent_people(), Rule::new("contact.workPhone", "phone")),
                "'phone' is mapped twice, from 'contact.mobilePhone' and from \
                 'contact.workPhone': keep one of the two rules",
            ),
        ];
        for (mapping, message) in cases {
            let error = mapping.validate(DataType::People).unwrap_err();
            assert_eq!(error.to_string(), message);
        }
        let warning = Warning::ListPosition {
            source: "answers.0.value.0".into(),
            target: "custom.tshirt".into(),
        };
        assert!(
            warning
                .to_string()
                .starts_with("'custom.tshirt' reads 'answers.0.value.0', which picks")
        );
    }

    #[test]
    fn value_map_lookup_order() {
        let map = ValueMap::new([
            ("Cancelled", "cancelled"),
            ("Declined", "cancelled"),
            ("declined", "active"),
            ("ÉTÉ", "summer"),
        ]);
        let with_default = map.clone().with_default("active");
        let cases = [
            (&map, "Cancelled", "cancelled"),
            (&map, "CANCELLED", "cancelled"),
            (&map, "cancelled", "cancelled"),
            // An exact key beats one that only matches ignoring case.
            (&map, "declined", "active"),
            (&map, "Declined", "cancelled"),
            (&map, "été", "summer"),
            (&map, "Accepted", "Accepted"),
            (&with_default, "Accepted", "active"),
            (&with_default, "Cancelled", "cancelled"),
            (&with_default, "", "active"),
        ];
        for (values, vendor, expected) in cases {
            assert_eq!(values.lookup(vendor), expected, "{vendor}");
        }
    }

    #[test]
    fn rules_read_from_configuration() {
        let cases: Vec<(Value, Result<Rule, &str>)> = vec![
            (
                json!({"source": "contact.email", "target": "email"}),
                Ok(Rule::new("contact.email", "email")),
            ),
            (
                json!({
                    "source": "status",
                    "target": "status",
                    "import_empty": true,
                    "values": {
                        "map": {"Cancelled": "cancelled", "Declined": "cancelled"},
                        "default": "active"
                    }
                }),
                Ok(Rule::new("status", "status")
                    .importing_empty()
                    .with_values(cvent_status())),
            ),
            (
                json!({"source": "a", "target": "b", "values": {"map": {"default": "x"}}}),
                Ok(Rule::new("a", "b").with_values(ValueMap::new([("default", "x")]))),
            ),
            (
                json!({"source": "a", "target": "b", "import_emtpy": true}),
                Err("unknown field `import_emtpy`"),
            ),
            (
                json!({"source": "a", "target": "b", "values": {"Cancelled": "cancelled"}}),
                Err("unknown field `Cancelled`"),
            ),
            (json!({"target": "b"}), Err("missing field `source`")),
        ];
        for (config, expected) in cases {
            let actual =
                serde_json::from_value::<Rule>(config.clone()).map_err(|error| error.to_string());
            match (actual, expected) {
                (Ok(rule), Ok(expected)) => {
                    assert_eq!(rule, expected, "{config}");
                    let written = serde_json::to_value(&rule).unwrap();
                    assert_eq!(serde_json::from_value::<Rule>(written).unwrap(), rule);
                }
                (Err(error), Err(expected)) => {
                    assert!(error.contains(expected), "{config}: {error}")
                }
                (actual, expected) => panic!("{config}: got {actual:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn coercion_per_type() {
        const COLOURS: &[&str] = &["red", "green"];
        let cases: Vec<(FieldType, Value, Result<FieldValue, &str>)> = vec![
            (
                FieldType::Text,
                json!("Ada"),
                Ok(FieldValue::Text("Ada".into())),
            ),
            (
                FieldType::Text,
                json!(" padded "),
                Ok(FieldValue::Text(" padded ".into())),
            ),
            (
                FieldType::Text,
                json!(12345),
                Ok(FieldValue::Text("12345".into())),
            ),
            (
                FieldType::Text,
                json!(1.5),
                Ok(FieldValue::Text("1.5".into())),
            ),
            (
                FieldType::Text,
                json!(true),
                Ok(FieldValue::Text("true".into())),
            ),
            (FieldType::Integer, json!(150), Ok(FieldValue::Integer(150))),
            (
                FieldType::Integer,
                json!("150"),
                Ok(FieldValue::Integer(150)),
            ),
            (
                FieldType::Integer,
                json!(" -7 "),
                Ok(FieldValue::Integer(-7)),
            ),
            (
                FieldType::Integer,
                json!(150.0),
                Ok(FieldValue::Integer(150)),
            ),
            (
                FieldType::Integer,
                json!("150.0"),
                Ok(FieldValue::Integer(150)),
            ),
            (FieldType::Integer, json!(1.5), Err("1.5")),
            (FieldType::Integer, json!("lots"), Err("\"lots\"")),
            (FieldType::Integer, json!("1e400"), Err("\"1e400\"")),
            (FieldType::Integer, json!(true), Err("true")),
            (FieldType::Integer, json!(1e19), Err("1e+19")),
            (
                FieldType::Integer,
                json!(i64::MAX),
                Ok(FieldValue::Integer(i64::MAX)),
            ),
            // Regression guard: 2^63 as a float must not saturate to i64::MAX.
            (
                FieldType::Integer,
                json!("9223372036854775808"),
                Err("\"9223372036854775808\""),
            ),
            (FieldType::Bool, json!(true), Ok(FieldValue::Bool(true))),
            (FieldType::Bool, json!("true"), Ok(FieldValue::Bool(true))),
            (FieldType::Bool, json!("Yes"), Ok(FieldValue::Bool(true))),
            (FieldType::Bool, json!("N"), Ok(FieldValue::Bool(false))),
            (
                FieldType::Bool,
                json!(" FALSE "),
                Ok(FieldValue::Bool(false)),
            ),
            (FieldType::Bool, json!(0), Ok(FieldValue::Bool(false))),
            (FieldType::Bool, json!(1), Ok(FieldValue::Bool(true))),
            (FieldType::Bool, json!(2), Err("2")),
            (FieldType::Bool, json!("maybe"), Err("\"maybe\"")),
            (
                FieldType::Timestamp,
                json!("2025-05-01T09:00:00-04:00"),
                Ok(FieldValue::Timestamp("2025-05-01T13:00:00.000Z".into())),
            ),
            (
                FieldType::Timestamp,
                json!("2025-05-01T09:00:00Z"),
                Ok(FieldValue::Timestamp("2025-05-01T09:00:00.000Z".into())),
            ),
            (
                FieldType::Timestamp,
                json!("2025-05-01T09:00:00.123456+02:00"),
                Ok(FieldValue::Timestamp("2025-05-01T07:00:00.123Z".into())),
            ),
            (
                FieldType::Timestamp,
                json!("2025-12-31T23:30:00-01:00"),
                Ok(FieldValue::Timestamp("2026-01-01T00:30:00.000Z".into())),
            ),
            (
                FieldType::Timestamp,
                json!("2025-05-01 09:00:00z"),
                Ok(FieldValue::Timestamp("2025-05-01T09:00:00.000Z".into())),
            ),
            (
                FieldType::Timestamp,
                json!("2025-05-01T09:00:00"),
                Err("\"2025-05-01T09:00:00\""),
            ),
            (
                FieldType::Timestamp,
                json!("2025-05-01"),
                Err("\"2025-05-01\""),
            ),
            (FieldType::Timestamp, json!("May 1st"), Err("\"May 1st\"")),
            (FieldType::Timestamp, json!(1746090000), Err("1746090000")),
            (
                FieldType::Enum(COLOURS),
                json!("red"),
                Ok(FieldValue::Text("red".into())),
            ),
            (
                FieldType::Enum(COLOURS),
                json!("GREEN"),
                Ok(FieldValue::Text("green".into())),
            ),
            // Not an error here: validation rejects it with the allowed values.
            (
                FieldType::Enum(COLOURS),
                json!("blue"),
                Ok(FieldValue::Text("blue".into())),
            ),
        ];
        for (field_type, vendor, expected) in cases {
            let flat = flatten(&vendor);
            let Some(scalar) = flat.get("") else {
                panic!("{vendor} is not a scalar");
            };
            let expected = expected.map_err(|found| FieldProblem {
                expected: field_type.expected(),
                found: found.to_string(),
            });
            assert_eq!(
                coerce(scalar, field_type),
                expected,
                "{field_type:?} {vendor}"
            );
        }
    }

    fn fields(pairs: &[(&str, FieldValue)]) -> BTreeMap<String, FieldValue> {
        pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.clone()))
            .collect()
    }

    fn names(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    fn text(value: &str) -> FieldValue {
        FieldValue::Text(value.to_string())
    }

    #[test]
    fn applies_the_cvent_people_mapping() {
        let record = fixtures::cvent_attendee();
        let flat = flatten(&record);
        let mapping = with_rule(
            with_rule(
                cvent_people(),
                Rule::new("contact.customFields.0.value.0", "custom.diet"),
            ),
            Rule::new("answers.1.value.1", "custom.second_topic"),
        );
        let mapped = mapping.apply(&flat, DataType::People);
        let expected = Mapped {
            external_id: Some("7c1f5d2e-0a4b-4c39-9d0e-3b2f4a6c8e01".into()),
            fields: fields(&[
                ("external_id", text("7c1f5d2e-0a4b-4c39-9d0e-3b2f4a6c8e01")),
                // "Accepted" is not in the map: the default applies.
                ("status", text("active")),
                ("first_name", text("Ada")),
                ("last_name", text("Lovelace")),
                ("email", text("ada@example.com")),
                ("company", text("Analytical Society")),
                ("title", text("Mathematician")),
                ("registration_type", text("Full Conference")),
                ("is_guest", FieldValue::Bool(false)),
                ("contact_id", text("4f6a8b2c-1d3e-4a5b-8c7d-9e0f1a2b3c4d")),
                ("photo_url", text("https://example.com/ada.jpg")),
                ("custom.diet", text("Vegetarian")),
                ("custom.second_topic", text("Poetry")),
            ]),
            // `mobilePhone` is "" and `primaryId` absent: both leave the workspace alone.
            empty: names(&["phone", "primary_external_id"]),
            problems: BTreeMap::new(),
        };
        assert_eq!(mapped, expected);
    }

    #[test]
    fn empty_vendor_values_per_import_empty() {
        let record = json!({
            "id": "a-1", "blank": "  ", "null": null, "text": "x", "na": "N/A", "zero": 0
        });
        let flat = flatten(&record);
        let drop_na = ValueMap::new([("N/A", "")]);
        // (source, import_empty, value map, expected value; None = left in `empty`)
        let cases: Vec<(&str, bool, Option<ValueMap>, Option<FieldValue>)> = vec![
            ("text", false, None, Some(text("x"))),
            ("text", true, None, Some(text("x"))),
            ("absent", false, None, None),
            ("absent", true, None, Some(FieldValue::Null)),
            ("null", false, None, None),
            ("null", true, None, Some(FieldValue::Null)),
            ("blank", false, None, None),
            ("blank", true, None, Some(FieldValue::Null)),
            ("na", false, Some(drop_na.clone()), None),
            ("na", true, Some(drop_na.clone()), Some(FieldValue::Null)),
            ("text", false, Some(drop_na.clone()), Some(text("x"))),
            // A zero is a value, not an empty one.
            ("zero", false, None, Some(text("0"))),
            // A default does not invent a value the vendor did not send.
            (
                "absent",
                false,
                Some(ValueMap::default().with_default("y")),
                None,
            ),
        ];
        for (source, import_empty, values, expected) in cases {
            let mut rule = Rule::new(source, "company");
            rule.import_empty = import_empty;
            rule.values = values;
            let mapping = Mapping {
                rules: vec![Rule::new("id", "external_id"), rule],
            };
            let mapped = mapping.apply(&flat, DataType::People);
            let label = format!("{source} import_empty={import_empty}");
            assert_eq!(mapped.fields.get("company"), expected.as_ref(), "{label}");
            assert_eq!(
                mapped.empty.contains("company"),
                expected.is_none(),
                "{label}"
            );
            assert!(mapped.problems.is_empty(), "{label}");
        }
    }

    fn cvent_sessions() -> Mapping {
        let hidden = ValueMap::new([("Active", "false")]).with_default("true");
        Mapping {
            rules: vec![
                Rule::new("id", "external_id"),
                Rule::new("title", "title"),
                Rule::new("code", "code"),
                Rule::new("description", "description").importing_empty(),
                Rule::new("start", "starts_at"),
                Rule::new("end", "ends_at"),
                Rule::new("location.name", "location"),
                Rule::new("capacity", "capacity"),
                Rule::new("status", "hidden").with_values(hidden),
            ],
        }
    }

    #[test]
    fn applies_types_to_a_cvent_session() {
        assert_eq!(cvent_sessions().validate(DataType::Sessions), Ok(vec![]));
        let record = fixtures::cvent_session();
        let mapped = cvent_sessions().apply(&flatten(&record), DataType::Sessions);
        let expected = Mapped {
            external_id: Some("s-101".into()),
            fields: fields(&[
                ("external_id", text("s-101")),
                ("title", text("Opening keynote")),
                ("code", text("KEY1")),
                ("description", FieldValue::Null),
                (
                    "starts_at",
                    FieldValue::Timestamp("2025-05-01T13:00:00.000Z".into()),
                ),
                (
                    "ends_at",
                    FieldValue::Timestamp("2025-05-01T14:00:00.000Z".into()),
                ),
                ("location", text("Hall A")),
                ("capacity", FieldValue::Integer(150)),
                ("hidden", FieldValue::Bool(false)),
            ]),
            empty: BTreeSet::new(),
            problems: BTreeMap::new(),
        };
        assert_eq!(mapped, expected);
    }

    #[test]
    fn untypeable_values_become_field_problems() {
        let mut record = fixtures::cvent_session();
        record["capacity"] = json!("lots");
        record["start"] = json!("2025-05-01 9am");
        record["status"] = json!("Cancelled");
        let mapped = cvent_sessions().apply(&flatten(&record), DataType::Sessions);
        let expected_problems = BTreeMap::from([
            (
                "capacity".to_string(),
                FieldProblem {
                    expected: "a whole number".into(),
                    found: "\"lots\"".into(),
                },
            ),
            (
                "starts_at".to_string(),
                FieldProblem {
                    expected: FieldType::Timestamp.expected(),
                    found: "\"2025-05-01 9am\"".into(),
                },
            ),
        ]);
        assert_eq!(mapped.problems, expected_problems);
        assert!(
            !mapped.fields.contains_key("capacity") && !mapped.fields.contains_key("starts_at")
        );
        assert_eq!(mapped.fields.get("hidden"), Some(&FieldValue::Bool(true)));
    }

    #[test]
    fn apply_on_an_unvalidated_mapping_skips_unknown_targets_and_keeps_the_first_rule() {
        let record = json!({"id": "1", "a": "first", "b": "second"});
        let mapping = Mapping {
            rules: vec![
                Rule::new("id", "external_id"),
                Rule::new("a", "no_such_field"),
                Rule::new("missing", "company"),
                Rule::new("b", "company"),
                Rule::new("a", "title"),
                Rule::new("b", "title"),
            ],
        };
        let mapped = mapping.apply(&flatten(&record), DataType::People);
        assert_eq!(
            mapped.fields,
            fields(&[("external_id", text("1")), ("title", text("first"))])
        );
        assert_eq!(mapped.empty, names(&["company"]));
    }

    #[test]
    fn external_id_from_a_number() {
        let mapping = Mapping {
            rules: vec![Rule::new("id", "external_id")],
        };
        let record = json!({"id": 4711});
        let mapped = mapping.apply(&flatten(&record), DataType::Sponsors);
        assert_eq!(mapped.external_id.as_deref(), Some("4711"));
    }
}

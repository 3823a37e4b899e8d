//! Filters on mapped fields: per data type, keep only the records whose workspace fields match
//! every condition (equals, one of, contains, is empty, each optionally negated).
//!
//! Filters run after mapping, on the values a record brings from the vendor, so they are written
//! with workspace field names and values (`registration_type`, `cancelled`), whatever the vendor.
//! Text is compared ignoring case and surrounding spaces: filters are typed by hand, and a
//! registration type spelt `vip` in one place and `VIP` in another is the same type. A field the
//! vendor left empty counts as empty.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::schema::DataType;
use crate::validate::Record;
use crate::value::FieldValue;

/// One condition on one workspace field. Exactly one of `equals`, `one_of`, `contains` and
/// `is_empty` is given; `not` turns the condition around.
///
/// In TOML: `{ field = "registration_type", one_of = ["VIP", "Speaker"] }`,
/// `{ field = "email", is_empty = true, not = true }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    pub field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_of: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_empty: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not: bool,
}

/// Why a filter cannot be used, naming what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error(
        "filter on '{field}': {data_type} has no such field; valid fields are {}, or custom.<name>",
        valid.join(", ")
    )]
    UnknownField {
        field: String,
        data_type: DataType,
        valid: Vec<&'static str>,
    },
    #[error(
        "filter on '{field}': give exactly one of equals, one_of, contains or is_empty = true \
         (found {found})"
    )]
    Tests { field: String, found: usize },
    #[error("filter on '{field}': one_of needs at least one value")]
    EmptyList { field: String },
}

impl Filter {
    /// Checks the filter against the data type's fields.
    pub fn validate(&self, data_type: DataType) -> Result<(), FilterError> {
        if data_type.field_type(&self.field).is_none() {
            return Err(FilterError::UnknownField {
                field: self.field.clone(),
                data_type,
                valid: data_type.fields().iter().map(|f| f.name).collect(),
            });
        }
        let found = usize::from(self.equals.is_some())
            + usize::from(self.one_of.is_some())
            + usize::from(self.contains.is_some())
            + usize::from(self.is_empty);
        if found != 1 {
            return Err(FilterError::Tests {
                field: self.field.clone(),
                found,
            });
        }
        if self.one_of.as_ref().is_some_and(Vec::is_empty) {
            return Err(FilterError::EmptyList {
                field: self.field.clone(),
            });
        }
        Ok(())
    }

    /// Whether the record's value for the field passes the condition.
    pub fn matches(&self, record: &Record) -> bool {
        let value = record.fields.get(&self.field).and_then(text_of);
        let value = value.as_deref().map(str::trim).unwrap_or_default();
        let same = |wanted: &str| eq_ignore_case(value, wanted.trim());
        let holds = if let Some(wanted) = &self.equals {
            same(wanted)
        } else if let Some(list) = &self.one_of {
            list.iter().any(|wanted| same(wanted))
        } else if let Some(needle) = &self.contains {
            value.to_lowercase().contains(&needle.trim().to_lowercase())
        } else {
            value.is_empty()
        };
        holds != self.not
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.field)?;
        if self.not {
            f.write_str(" not")?;
        }
        if let Some(wanted) = &self.equals {
            write!(f, " equals '{wanted}'")
        } else if let Some(list) = &self.one_of {
            write!(f, " one of '{}'", list.join("', '"))
        } else if let Some(needle) = &self.contains {
            write!(f, " contains '{needle}'")
        } else {
            f.write_str(" empty")
        }
    }
}

/// The first filter a record fails, if any.
pub fn first_failed<'f>(filters: &'f [Filter], record: &Record) -> Option<&'f Filter> {
    filters.iter().find(|filter| !filter.matches(record))
}

/// Why a record was filtered out, as the report says it.
pub fn explain(filter: &Filter, record: &Record) -> String {
    let found = record
        .fields
        .get(&filter.field)
        .and_then(text_of)
        .filter(|text| !text.trim().is_empty())
        .map_or("it is empty".to_string(), |text| format!("it is '{text}'"));
    format!("filter: keeps {filter}, but {found}")
}

fn text_of(value: &FieldValue) -> Option<String> {
    match value {
        FieldValue::Null => None,
        FieldValue::Text(text) | FieldValue::Timestamp(text) => Some(text.clone()),
        FieldValue::Bool(flag) => Some(flag.to_string()),
        FieldValue::Integer(number) => Some(number.to_string()),
    }
}

fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(fields: &[(&str, FieldValue)]) -> Record {
        Record {
            data_type: DataType::People,
            external_id: "p1".into(),
            fields: fields
                .iter()
                .map(|(name, value)| (name.to_string(), value.clone()))
                .collect(),
        }
    }

    fn text(value: &str) -> FieldValue {
        FieldValue::Text(value.into())
    }

    #[test]
    fn conditions_against_records() {
        let vip = person(&[
            ("registration_type", text("VIP")),
            ("company", text("Acme Corp")),
            ("is_guest", FieldValue::Bool(false)),
            ("email", FieldValue::Null),
        ]);
        let equals = |field: &str, value: &str| Filter {
            field: field.into(),
            equals: Some(value.into()),
            ..Filter::default()
        };
        let one_of = |field: &str, values: &[&str]| Filter {
            field: field.into(),
            one_of: Some(values.iter().map(|v| v.to_string()).collect()),
            ..Filter::default()
        };
        let contains = |field: &str, value: &str| Filter {
            field: field.into(),
            contains: Some(value.into()),
            ..Filter::default()
        };
        let empty = |field: &str| Filter {
            field: field.into(),
            is_empty: true,
            ..Filter::default()
        };
        let not = |filter: Filter| Filter {
            not: true,
            ..filter
        };
        // (filter, passes)
        let cases = [
            (equals("registration_type", "VIP"), true),
            (equals("registration_type", " vip "), true),
            (equals("registration_type", "Speaker"), false),
            (not(equals("registration_type", "Speaker")), true),
            (one_of("registration_type", &["Speaker", "vip"]), true),
            (one_of("registration_type", &["Speaker"]), false),
            (contains("company", "acme"), true),
            (contains("company", "Globex"), false),
            (not(contains("company", "acme")), false),
            (empty("email"), true),
            (empty("phone"), true),
            (empty("company"), false),
            (not(empty("email")), false),
            (equals("is_guest", "false"), true),
            (equals("custom.dietary", "Vegan"), false),
            (empty("custom.dietary"), true),
        ];
        for (filter, passes) in cases {
            assert_eq!(filter.validate(DataType::People), Ok(()), "{filter}");
            assert_eq!(filter.matches(&vip), passes, "{filter}");
        }
        let filters = [
            contains("company", "acme"),
            one_of("registration_type", &["Speaker", "Staff"]),
        ];
        let failed = first_failed(&filters, &vip).expect("the second filter fails");
        assert_eq!(
            explain(failed, &vip),
            "filter: keeps registration_type one of 'Speaker', 'Staff', but it is 'VIP'"
        );
        assert_eq!(
            explain(&not(empty("email")), &vip),
            "filter: keeps email not empty, but it is empty"
        );
        assert!(first_failed(&filters[..1], &vip).is_none());
    }

    #[test]
    fn bad_filters_say_what_to_fix() {
        let cases = [
            (
                Filter {
                    field: "colour".into(),
                    equals: Some("red".into()),
                    ..Filter::default()
                },
                "people has no such field",
            ),
            (
                Filter {
                    field: "company".into(),
                    ..Filter::default()
                },
                "give exactly one of equals, one_of, contains or is_empty = true (found 0)",
            ),
            (
                Filter {
                    field: "company".into(),
                    equals: Some("a".into()),
                    contains: Some("b".into()),
                    ..Filter::default()
                },
                "(found 2)",
            ),
            (
                Filter {
                    field: "company".into(),
                    one_of: Some(Vec::new()),
                    ..Filter::default()
                },
                "one_of needs at least one value",
            ),
        ];
        for (filter, words) in cases {
            let error = filter.validate(DataType::People).expect_err(words);
            assert!(error.to_string().contains(words), "{error}");
        }
    }

    #[test]
    fn filters_read_from_toml() {
        #[derive(Deserialize)]
        struct File {
            filters: Vec<Filter>,
        }
        let file: File = toml::from_str(
            r#"filters = [
                { field = "registration_type", one_of = ["VIP"] },
                { field = "email", is_empty = true, not = true },
            ]"#,
        )
        .expect("valid");
        assert_eq!(file.filters[1].to_string(), "email not empty");
        assert!(toml::from_str::<File>(r#"filters = [{ field = "a", equal = "b" }]"#).is_err());
    }
}

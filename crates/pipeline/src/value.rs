//! A workspace field's value once mapped and typed: what records hold and diffs compare.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A typed workspace value.
///
/// Serialized with an explicit type tag (`{"type": "timestamp", "value": "…"}`) so a stored
/// record reads back exactly: untagged, a timestamp would come back as text and every
/// unchanged session would diff as an update.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum FieldValue {
    Text(String),
    Bool(bool),
    Integer(i64),
    /// UTC, `YYYY-MM-DDTHH:MM:SS.sssZ`; the fixed form makes string equality instant equality.
    Timestamp(String),
    /// The vendor sent an empty value and the rule imports empty values: clear the field.
    Null,
}

impl FieldValue {
    pub fn is_null(&self) -> bool {
        matches!(self, FieldValue::Null)
    }

    /// The text of a `Text` value (enum values are text too).
    pub fn as_text(&self) -> Option<&str> {
        match self {
            FieldValue::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The name of the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            FieldValue::Text(_) => "text",
            FieldValue::Bool(_) => "true/false",
            FieldValue::Integer(_) => "whole number",
            FieldValue::Timestamp(_) => "timestamp",
            FieldValue::Null => "empty",
        }
    }
}

impl fmt::Display for FieldValue {
    /// The bare value, as a CSV cell or a console column shows it; `Null` is the empty string.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Text(text) | FieldValue::Timestamp(text) => f.write_str(text),
            FieldValue::Bool(value) => write!(f, "{value}"),
            FieldValue::Integer(value) => write!(f, "{value}"),
            FieldValue::Null => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_with_a_type_tag_and_reads_back_exactly() {
        let cases = [
            (
                FieldValue::Text("Ada".into()),
                r#"{"type":"text","value":"Ada"}"#,
                "Ada",
            ),
            (
                FieldValue::Bool(true),
                r#"{"type":"bool","value":true}"#,
                "true",
            ),
            (
                FieldValue::Integer(-150),
                r#"{"type":"integer","value":-150}"#,
                "-150",
            ),
            (
                FieldValue::Timestamp("2025-05-01T13:00:00.000Z".into()),
                r#"{"type":"timestamp","value":"2025-05-01T13:00:00.000Z"}"#,
                "2025-05-01T13:00:00.000Z",
            ),
            (FieldValue::Null, r#"{"type":"null"}"#, ""),
        ];
        for (value, json, display) in cases {
            assert_eq!(serde_json::to_string(&value).unwrap(), json);
            assert_eq!(serde_json::from_str::<FieldValue>(json).unwrap(), value);
            assert_eq!(value.to_string(), display);
        }
    }
}

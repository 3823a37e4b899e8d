//! Workspace-side edits: the vendor is the source of truth for what it sends, so a field edited
//! in the workspace is overwritten by the next sync that lists the record. The preview says so,
//! naming each field whose workspace value is not what the vendor last sent.
//!
//! A value counts as edited when the vendor's previous record, mapped as today, gave the field
//! another non-empty value. A field the vendor last left empty cannot be told apart from an
//! edit, so it is not named.

use crate::diff::Change;
use crate::value::FieldValue;

/// The changes that overwrite a workspace edit; `last_sent` is what the vendor's previous record
/// maps to (the workspace's copy of the vendor record, mapped again).
pub fn overwritten<'c>(
    changes: &'c [Change],
    last_sent: &std::collections::BTreeMap<String, FieldValue>,
) -> Vec<&'c Change> {
    changes
        .iter()
        .filter(|change| match last_sent.get(&change.field) {
            None | Some(FieldValue::Null) => false,
            Some(sent) => {
                change.old.as_ref().is_none_or(FieldValue::is_null)
                    || change.old.as_ref() != Some(sent)
            }
        })
        .collect()
}

/// The report's words for the overwritten edits.
pub fn describe(overwritten: &[&Change]) -> String {
    let fields: Vec<String> = overwritten
        .iter()
        .map(|change| change.to_string())
        .collect();
    format!(
        "workspace edits overwritten, the vendor is the source of truth: {}",
        fields.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn text(value: &str) -> Option<FieldValue> {
        Some(FieldValue::Text(value.into()))
    }

    #[test]
    fn edits_are_values_the_vendor_did_not_send() {
        let last_sent: BTreeMap<String, FieldValue> = [
            ("first_name", FieldValue::Text("Ada".into())),
            ("company", FieldValue::Text("Acme".into())),
            ("phone", FieldValue::Null),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let change = |field: &str, old: Option<FieldValue>, new: Option<FieldValue>| Change {
            field: field.into(),
            old,
            new,
        };
        // (change, overwrites a workspace edit)
        let cases = [
            // The workspace says "Adah" but the vendor last sent "Ada": edited.
            (change("first_name", text("Adah"), text("Ada")), true),
            // The vendor itself moved on from what it last sent: no edit.
            (change("company", text("Acme"), text("Globex")), false),
            // Cleared in the workspace: edited.
            (change("company", None, text("Acme")), true),
            // The vendor last sent nothing: cannot tell, not named.
            (change("phone", text("555"), text("556")), false),
            (change("title", text("Dr"), text("Prof")), false),
        ];
        for (change, edited) in cases {
            let label = change.to_string();
            let changes = [change];
            assert_eq!(
                overwritten(&changes, &last_sent).len(),
                usize::from(edited),
                "{label}"
            );
        }
        let changes = [change("first_name", text("Adah"), text("Ada"))];
        assert_eq!(
            describe(&overwritten(&changes, &last_sent)),
            "workspace edits overwritten, the vendor is the source of truth: first_name: \"Adah\" → \"Ada\""
        );
    }
}

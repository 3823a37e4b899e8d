//! References between data types: a session registration points at a session and a person, a
//! travel request at the person who travels. A record whose reference the workspace does not
//! hold is rejected ("unknown reference"), never stored dangling; the engine looks the ids up
//! and this rule decides.

use crate::schema::DataType;
use crate::validate::{Record, RejectReason};
use crate::value::FieldValue;

/// The fields of `data_type` that hold another data type's external id.
pub fn references(data_type: DataType) -> &'static [(&'static str, DataType)] {
    match data_type {
        DataType::SessionRegistrations => &[
            ("session_external_id", DataType::Sessions),
            ("person_external_id", DataType::People),
        ],
        DataType::AirRequests | DataType::HotelRequests => {
            &[("person_external_id", DataType::People)]
        }
        _ => &[],
    }
}

/// The first reference of `record` that `known` says the workspace lacks, as a rejection reason.
pub fn first_unknown(
    record: &Record,
    known: &dyn Fn(DataType, &str) -> bool,
) -> Option<RejectReason> {
    references(record.data_type)
        .iter()
        .find_map(|(field, target)| {
            let value = record
                .fields
                .get(*field)
                .and_then(FieldValue::as_text)
                .unwrap_or_default();
            (!known(*target, value)).then(|| RejectReason::UnknownReference {
                field: field.to_string(),
                value: value.to_string(),
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(data_type: DataType, fields: &[(&str, &str)]) -> Record {
        Record {
            data_type,
            external_id: "r".into(),
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), FieldValue::Text(v.to_string())))
                .collect(),
        }
    }

    #[test]
    fn records_pointing_at_what_the_workspace_lacks_are_rejected() {
        let known = |data_type: DataType, id: &str| {
            matches!(
                (data_type, id),
                (DataType::People, "p-1") | (DataType::Sessions, "s-1")
            )
        };
        // (record, the field and value rejected, if any)
        let cases = [
            (
                record(
                    DataType::SessionRegistrations,
                    &[
                        ("session_external_id", "s-1"),
                        ("person_external_id", "p-1"),
                    ],
                ),
                None,
            ),
            (
                record(
                    DataType::SessionRegistrations,
                    &[
                        ("session_external_id", "s-9"),
                        ("person_external_id", "p-9"),
                    ],
                ),
                Some(("session_external_id", "s-9")),
            ),
            (
                record(DataType::AirRequests, &[("person_external_id", "p-1")]),
                None,
            ),
            (
                record(DataType::AirRequests, &[("person_external_id", "g-7")]),
                Some(("person_external_id", "g-7")),
            ),
            (
                record(DataType::HotelRequests, &[("person_external_id", "g-7")]),
                Some(("person_external_id", "g-7")),
            ),
            (
                record(DataType::HotelRequests, &[]),
                Some(("person_external_id", "")),
            ),
            (record(DataType::People, &[]), None),
        ];
        for (record, expected) in cases {
            let reason = first_unknown(&record, &known);
            let expected = expected.map(|(field, value)| RejectReason::UnknownReference {
                field: field.into(),
                value: value.into(),
            });
            assert_eq!(reason, expected, "{:?}", record.fields);
        }
        let reason = first_unknown(
            &record(DataType::AirRequests, &[("person_external_id", "g-7")]),
            &known,
        )
        .map(|r| r.to_string())
        .unwrap_or_default();
        assert!(
            reason.starts_with(
                "field 'person_external_id' refers to 'g-7', which is not in the workspace"
            ),
            "{reason}"
        );
    }
}

//! Properties of the Cvent sandbox's filter grammar: any text is parsed or refused without a
//! panic, a filter that parses evaluates over generated attendees, and any value quoted by the
//! grammar's rules reads back as written.

use std::sync::LazyLock;

use proptest::prelude::*;
use sandboxes::cvent_rest::filter::{Filter, Filterable};
use sandboxes::cvent_rest::generate::Generator;
use sandboxes::cvent_rest::wire::Attendee;

static ATTENDEES: LazyLock<Vec<Attendee>> = LazyLock::new(|| {
    let generator = Generator::new(7, 8);
    (0..8).map(|index| generator.attendee(index)).collect()
});

/// Filters assembled from the grammar's words, fields and values, in any order.
fn filter_like_text() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        Just("id"),
        Just("'event.id'"),
        Just("lastModified"),
        Just("checkedIn"),
        Just("customField.x"),
        Just("eq"),
        Just("ne"),
        Just("ge"),
        Just("lt"),
        Just("sw"),
        Just("contains"),
        Just("in"),
        Just("is"),
        Just("not"),
        Just("null"),
        Just("empty"),
        Just("and"),
        Just("OR"),
        Just("("),
        Just(")"),
        Just(","),
        Just("'a''b'"),
        Just("\"x\\\"y\""),
        Just("'2024-01-02T03:04:05Z'"),
        Just("'2024-01-02'"),
        Just("true"),
        Just("-1.5e3"),
        Just("'\u{ff10}'"),
        Just("'"),
    ];
    prop_oneof![
        any::<String>(),
        prop::collection::vec(word, 0..12).prop_map(|words| words.join(" ")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_text_is_parsed_or_refused_without_a_panic(text in filter_like_text()) {
        if let Ok(filter) = Filter::parse(&text, Attendee::FILTER_FIELDS) {
            for attendee in ATTENDEES.iter() {
                let _ = filter.matches(attendee);
            }
            for field in filter.fields() {
                prop_assert!(filter.mentions(field));
                let _ = filter.lower_bound(field);
            }
        }
    }

    #[test]
    fn quoted_values_read_back_as_written(value in any::<String>(), double in any::<bool>()) {
        let quoted = if double {
            format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
        } else {
            format!("'{}'", value.replace('\'', "''"))
        };
        let filter = Filter::parse(&format!("id eq {quoted}"), Attendee::FILTER_FIELDS)
            .map_err(|error| TestCaseError::fail(format!("{quoted}: {error}")))?;
        prop_assert_eq!(filter.required_equal("id"), Some(value.as_str()));
        for attendee in ATTENDEES.iter() {
            prop_assert_eq!(filter.matches(attendee), attendee.id.eq_ignore_ascii_case(&value));
        }
    }
}

//! The Cvent sandbox's filter grammar on any text: parsed against the attendee fields and, when
//! it parses, evaluated over generated attendees.
#![no_main]

use std::sync::LazyLock;

use sandboxes::cvent_rest::filter::{Filter, Filterable};
use sandboxes::cvent_rest::generate::Generator;
use sandboxes::cvent_rest::wire::Attendee;

static ATTENDEES: LazyLock<Vec<Attendee>> = LazyLock::new(|| {
    let generator = Generator::new(7, 40);
    (0..40).map(|index| generator.attendee(index)).collect()
});

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(filter) = Filter::parse(text, Attendee::FILTER_FIELDS) else {
        return;
    };
    for attendee in ATTENDEES.iter() {
        let _ = filter.matches(attendee);
    }
    for field in filter.fields() {
        assert!(filter.mentions(field));
        let _ = filter.required_equal(field);
        let _ = filter.lower_bound(field);
    }
});

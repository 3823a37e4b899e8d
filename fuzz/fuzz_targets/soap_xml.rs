//! The Cvent SOAP reader on any bytes: an answer parsed, and every element of it made a record.
#![no_main]

use connectors::cvent_soap::xml;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(root) = xml::parse(text) else {
        return;
    };
    let mut elements = vec![&root];
    while let Some(element) = elements.pop() {
        let record = xml::to_json(element);
        assert!(record.is_object(), "an element is a record");
        for (_, value) in &element.attributes {
            let _ = xml::gmt_to_rfc3339(value);
        }
        elements.extend(&element.children);
    }
});

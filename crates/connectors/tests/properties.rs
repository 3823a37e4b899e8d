//! Properties of the connectors' readers of vendor bytes: the Cvent SOAP XML reader and
//! Aventri's listing answers never panic on any input, and the XML reader gives back every
//! attribute value it was sent.

use std::sync::LazyLock;

use chrono::{DateTime, FixedOffset, NaiveDateTime};
use connectors::RetryPolicy;
use connectors::aventri::{Aventri, AventriConfig, DATA_TYPES, PAGE_SIZE, parse_statuses};
use connectors::cvent_soap::xml;
use proptest::prelude::*;

/// Text made mostly of XML's punctuation, so that arbitrary input reaches deep into the reader.
fn xml_like_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[<>/=\"' a-zA-Z:&;#x0-9!\\[\\]\u{e9}\u{ff10}\\-T]{0,80}",
        "<a( [a-z]{1,3}=\"[^\"<&]{0,24}\")*( ?/>|>[^<]{0,12}</a>)",
    ]
}

/// One connector for every case: building its HTTP client costs more than a case.
static AVENTRI: LazyLock<Aventri> = LazyLock::new(|| {
    Aventri::new(AventriConfig {
        connection: "aventri".into(),
        endpoint: "http://127.0.0.1:9/api/v2".into(),
        account_id: "1".into(),
        key: "k".into(),
        event_id: "2".into(),
        active_statuses: parse_statuses("Confirmed, Attended"),
        modified_since_overlap: chrono::Duration::days(1),
        presenter_photo_endpoint: None,
        person_photo_endpoint: None,
        concurrent_sessions_title: Some("Concurrent sessions".into()),
        sponsor_category: "Sponsor".into(),
        utc_offset: FixedOffset::east_opt(2 * 3600).expect("a valid offset"),
        page_size: PAGE_SIZE,
        retry: RetryPolicy::default(),
    })
    .expect("a valid configuration")
});

/// Aventri-shaped answers: lists of records whose fields are the ones the connector reads.
fn aventri_body() -> impl Strategy<Value = Vec<u8>> {
    let text = prop_oneof![
        any::<String>(),
        Just("0000-00-00 00:00:00".to_string()),
        Just("2026-05-18 12:37:18".to_string()),
        Just("Sponsor".to_string()),
        Just("1".to_string()),
        "[0-9: -]{0,20}",
    ];
    let field = prop_oneof![
        Just("attendeeid"),
        Just("sessionid"),
        Just("sessiondate"),
        Just("starttime"),
        Just("endtime"),
        Just("in_slot"),
        Just("lastmodified"),
        Just("category"),
        Just("name"),
        Just("subcategories"),
        Just("sessions"),
        Just("responses"),
    ];
    let value = prop_oneof![
        text.clone().prop_map(serde_json::Value::String),
        any::<i32>().prop_map(serde_json::Value::from),
        Just(serde_json::Value::Null),
        prop::collection::vec(text.prop_map(serde_json::Value::String), 0..3)
            .prop_map(serde_json::Value::Array),
    ];
    let record = prop::collection::btree_map(field, value, 0..8).prop_map(|fields| {
        serde_json::Value::Object(fields.into_iter().map(|(k, v)| (k.into(), v)).collect())
    });
    prop_oneof![
        any::<Vec<u8>>(),
        prop::collection::vec(record, 0..6)
            .prop_map(|records| serde_json::Value::Array(records).to_string().into_bytes()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_text_is_read_by_the_soap_reader_without_a_panic(text in xml_like_text()) {
        if let Ok(root) = xml::parse(&text) {
            let mut elements = vec![&root];
            while let Some(element) = elements.pop() {
                prop_assert!(xml::to_json(element).is_object());
                elements.extend(&element.children);
            }
        }
    }

    #[test]
    fn attribute_values_come_back_as_sent(values in prop::collection::vec("[^\t\n\r]{0,24}", 1..6)) {
        let attributes: String = values
            .iter()
            .enumerate()
            .map(|(index, value)| format!(" A{index}=\"{}\"", xml::escape(value)))
            .collect();
        let root = xml::parse(&format!("<CvObject{attributes} />")).expect("parses");
        for (index, value) in values.iter().enumerate() {
            prop_assert_eq!(root.attribute(&format!("A{index}")), Some(value.as_str()));
            let record = xml::to_json(&root);
            let kept = record[format!("a{index}")].as_str().unwrap_or_default().to_string();
            // A value is kept as sent unless it is one of Cvent's naive GMT timestamps.
            prop_assert!(kept == *value || xml::gmt_to_rfc3339(value).as_deref() == Some(&kept));
        }
    }

    #[test]
    fn naive_timestamps_become_the_same_instant_in_utc(
        seconds in 0_i64..4_102_444_800,
        millis in 0_u32..1000,
        tail in "[^Z+\\-]{0,3}",
    ) {
        let at = DateTime::from_timestamp(seconds, millis * 1_000_000).expect("in range");
        let text = at.naive_utc().format("%Y-%m-%dT%H:%M:%S%.3f").to_string();
        let converted = xml::gmt_to_rfc3339(&text).expect("a naive timestamp");
        prop_assert_eq!(DateTime::parse_from_rfc3339(&converted).expect("RFC 3339"), at);
        // Whatever follows the seconds, multi-byte or not, is no panic.
        let _ = xml::gmt_to_rfc3339(&format!("{}{tail}", &text[..18]));
        prop_assert!(NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f").is_ok());
    }

    #[test]
    fn any_aventri_answer_is_read_without_a_panic(
        selector in any::<u8>(),
        status in prop_oneof![Just(200_u16), Just(400), Just(404), Just(502), 100_u16..600],
        body in aventri_body(),
    ) {
        let data_type = DATA_TYPES[usize::from(selector) % DATA_TYPES.len()];
        if let Ok(Some(records)) = AVENTRI.read_answer(data_type, status, &body) {
            prop_assert!((200..300).contains(&status));
            for record in records {
                let _ = record.json();
            }
        }
    }
}

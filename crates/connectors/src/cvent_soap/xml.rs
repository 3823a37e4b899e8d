//! Cvent SOAP answers as element trees (namespaces resolved), and Cvent objects as JSON records:
//! attributes become lower-case keys, repeated `*Detail` children lists under their lower-case name.

pub use soap_xml::{API_NS, Element, SCHEMA_NS, SOAP_NS, XmlError, escape, parse};

/// A Cvent object as a JSON record: attributes as lower-case keys (so the preview shows paths
/// such as `orderdetail.0.productname`), repeated children as lists under their lower-case name,
/// `xsi:type` left out. Cvent's zone-less timestamps are GMT and become RFC 3339 (`…Z`).
pub fn to_json(element: &Element) -> serde_json::Value {
    let mut object = serde_json::Map::new();
    for (name, value) in &element.attributes {
        if name == "type" {
            continue;
        }
        object.insert(
            name.to_ascii_lowercase(),
            serde_json::Value::String(gmt_to_rfc3339(value).unwrap_or_else(|| value.clone())),
        );
    }
    for child in &element.children {
        let entry = object
            .entry(child.name.to_ascii_lowercase())
            .or_insert_with(|| serde_json::Value::Array(Vec::new()));
        if let serde_json::Value::Array(list) = entry {
            list.push(to_json(child));
        }
    }
    serde_json::Value::Object(object)
}

/// `2019-01-15T09:45:45.173` (Cvent's naive GMT) as `2019-01-15T09:45:45.173Z`; `None` for
/// anything else.
pub fn gmt_to_rfc3339(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    // Byte 19 may fall inside a multi-byte character (`…T09:00:0０`), so the tail is read as
    // bytes: `+` and `-` are ASCII and never part of another character's encoding.
    let looks_like_time = bytes.get(4) == Some(&b'-')
        && bytes.get(10) == Some(&b'T')
        && !text.ends_with('Z')
        && bytes
            .get(19..)
            .is_some_and(|tail| !tail.iter().any(|b| matches!(b, b'+' | b'-')));
    if !looks_like_time {
        return None;
    }
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| {
            t.and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cvent_objects_become_records() {
        let text = format!(
            r#"<RetrieveResult xmlns="{SCHEMA_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><CvObject xsi:type="Registration" Id="R1" Status="Accepted" CancelledDate="" LastModifiedDate="2019-01-15T09:45:45.173"><OrderDetail ProductName="Keynote &amp; Q&amp;A" /><OrderDetail ProductName="Lunch" /><GuestDetail GuestId="G1" /></CvObject></RetrieveResult>"#
        );
        let root = parse(&text).expect("parses");
        let object = root.child("CvObject").expect("object");
        assert_eq!(object.namespace.as_deref(), Some(SCHEMA_NS));
        let record = to_json(object);
        assert_eq!(record["id"], "R1");
        assert_eq!(record["cancelleddate"], "", "empty values stay empty");
        assert_eq!(record["lastmodifieddate"], "2019-01-15T09:45:45.173Z");
        assert_eq!(record["orderdetail"][0]["productname"], "Keynote & Q&A");
        assert_eq!(record["orderdetail"][1]["productname"], "Lunch");
        assert_eq!(
            record["guestdetail"][0]["guestid"], "G1",
            "one child is still a list"
        );
        assert!(record.get("type").is_none());
    }

    #[test]
    fn a_multi_byte_character_at_byte_19_is_not_a_panic() {
        // A company named like a timestamp, its last digit full-width: byte 19 falls inside it.
        let cases = [
            "2024-05-01T09:00:0\u{ff10}",
            "2024-05-01T09:00:\u{ff10}0",
            "2024-05-01T09:00:00\u{e9}",
            "2024-05-01T09:00:0\u{1f600}",
        ];
        for text in cases {
            assert_eq!(gmt_to_rfc3339(text), None, "{text}");
        }
        let record = to_json(&Element {
            attributes: vec![("Company".into(), cases[0].into())],
            ..Element::default()
        });
        assert_eq!(record["company"], cases[0], "kept as the vendor sent it");
    }

    #[test]
    fn only_naive_timestamps_are_converted() {
        let cases = [
            ("2019-01-15T09:45:45.173", Some("2019-01-15T09:45:45.173Z")),
            ("2019-01-15T09:45:45", Some("2019-01-15T09:45:45.000Z")),
            ("2019-01-15T09:45:45Z", None),
            ("2019-01-15T09:45:45+02:00", None),
            ("Accepted", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(gmt_to_rfc3339(text).as_deref(), expected, "{text}");
        }
    }
}

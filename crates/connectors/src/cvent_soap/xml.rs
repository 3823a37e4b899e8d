//! Cvent SOAP answers as element trees (namespaces resolved), and Cvent objects as JSON records:
//! attributes become lower-case keys, repeated `*Detail` children lists under their lower-case name.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

/// The namespace of operations, their wrappers and the session header.
pub const API_NS: &str = "http://api.cvent.com/2006-11";
/// The namespace of results, ids, search objects and Cvent objects.
pub const SCHEMA_NS: &str = "http://schemas.cvent.com/api/2006-11";
pub const SOAP_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";

/// One XML element: its local name, namespace, attributes (by local name), children and text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Element {
    pub name: String,
    pub namespace: Option<String>,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The trimmed text of a child element, if present.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim())
    }
}

/// Why a request body is not a SOAP envelope the service understands.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct XmlError(pub String);

/// Parses a document into its root element.
pub fn parse(text: &str) -> Result<Element, XmlError> {
    let mut reader = NsReader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    loop {
        let (resolved, event) = reader
            .read_resolved_event()
            .map_err(|e| XmlError(format!("malformed XML: {e}")))?;
        let namespace = match resolved {
            ResolveResult::Bound(ns) => Some(AsRef::<str>::as_ref(&ns).to_string()),
            _ => None,
        };
        match event {
            Event::Start(start) => stack.push(element_of(&start, namespace)?),
            Event::Empty(start) => {
                let element = element_of(&start, namespace)?;
                if stack.is_empty() {
                    return Ok(element);
                }
                attach(&mut stack, element)?;
            }
            Event::End(_) => {
                let element = stack
                    .pop()
                    .ok_or_else(|| XmlError("an end tag without a start".into()))?;
                if stack.is_empty() {
                    return Ok(element);
                }
                attach(&mut stack, element)?;
            }
            Event::Text(text) => {
                if let Some(top) = stack.last_mut() {
                    top.text
                        .push_str(&text.xml_content(quick_xml::XmlVersion::Implicit1_0));
                }
            }
            Event::CData(data) => {
                if let Some(top) = stack.last_mut() {
                    top.text
                        .push_str(&data.xml_content(quick_xml::XmlVersion::Implicit1_0));
                }
            }
            Event::GeneralRef(reference) => {
                if let Some(top) = stack.last_mut() {
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        _ => quick_xml::escape::resolve_predefined_entity(&reference)
                            .map(str::to_string)
                            .ok_or_else(|| XmlError(format!("unknown entity &{};", &*reference)))?,
                    };
                    top.text.push_str(&resolved);
                }
            }
            Event::Eof => return Err(XmlError("the document ends before its root closes".into())),
            _ => {}
        }
    }
}

fn element_of(
    start: &quick_xml::events::BytesStart<'_>,
    namespace: Option<String>,
) -> Result<Element, XmlError> {
    let mut element = Element {
        name: AsRef::<str>::as_ref(&start.local_name()).to_string(),
        namespace,
        ..Element::default()
    };
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| XmlError(format!("malformed attribute: {e}")))?;
        let key = attribute.key;
        if key.as_namespace_binding().is_some() {
            continue;
        }
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| XmlError(format!("malformed attribute value: {e}")))?;
        element.attributes.push((
            AsRef::<str>::as_ref(&key.local_name()).to_string(),
            value.into_owned(),
        ));
    }
    Ok(element)
}

fn attach(stack: &mut [Element], element: Element) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(parent) => {
            parent.children.push(element);
            Ok(())
        }
        None => Err(XmlError("more than one root element".into())),
    }
}

/// Escapes text for an attribute value or element content.
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(text)
}

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

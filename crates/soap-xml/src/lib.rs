//! A small element tree for SOAP envelopes: a document parsed with its namespaces resolved into
//! elements that keep their attributes by local name, and the escaping of text written back.
//! Cvent's V200611 service puts every scalar in an attribute, so this is all either side of that
//! conversation needs: the connector reads answers with it, the sandbox reads requests.

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

/// Why a document is not the XML it claims to be.
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

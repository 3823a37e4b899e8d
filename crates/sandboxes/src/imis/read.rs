//! Reading what clients send: JSON whose every object carries `$type` (iMIS deserialises by it,
//! so an object without one is a 400), activities as `GenericEntityData` with the legacy column
//! names, and events as `EventData` with their functions.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::dataset::{
    ACTIVITY_PROPERTIES, ACTIVITY_TYPE, Event, EventFunction, PARTY_ID, PropertyKind,
    PropertyValue, activity_property,
};
use super::wire;

/// The longest `EventId` and `EventFunctionCode` iMIS stores.
pub const EVENT_ID_MAX_CHARS: usize = 10;
pub const FUNCTION_CODE_MAX_CHARS: usize = 20;

/// Why a body was refused: a 400 with this message and result code.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    pub message: String,
    pub result_code: &'static str,
}

fn invalid(message: impl Into<String>) -> Invalid {
    Invalid {
        message: message.into(),
        result_code: "Invalid",
    }
}

fn required(message: impl Into<String>) -> Invalid {
    Invalid {
        message: message.into(),
        result_code: "Required",
    }
}

/// Parses a body and checks that every object in it carries a `$type`.
pub fn typed_json(body: &[u8]) -> Result<Value, Invalid> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(required("The request body is empty."));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|error| invalid(format!("The request body is not valid JSON: {error}.")))?;
    let mut path = String::new();
    check_types(&value, &mut path)?;
    Ok(value)
}

/// Walks every object and array, `path` naming where it is (`Properties.$values[2]`).
fn check_types(value: &Value, path: &mut String) -> Result<(), Invalid> {
    match value {
        Value::Object(object) => {
            if !object.get("$type").is_some_and(Value::is_string) {
                let place = if path.is_empty() { "the body" } else { path };
                return Err(invalid(format!(
                    "The object at {place} has no $type: every object must name its type in $type."
                )));
            }
            for (key, member) in object {
                let length = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                check_types(member, path)?;
                path.truncate(length);
            }
            Ok(())
        }
        Value::Array(items) => {
            for (position, item) in items.iter().enumerate() {
                let length = path.len();
                path.push_str(&format!("[{position}]"));
                check_types(item, path)?;
                path.truncate(length);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The .NET type an object names, without its assembly (`Asi.Soa.…GenericEntityData`).
fn type_name(object: &Map<String, Value>) -> &str {
    object
        .get("$type")
        .and_then(Value::as_str)
        .and_then(|full| full.split(',').next())
        .unwrap_or("")
        .trim()
}

/// Checks that `value` is an object of the type `expected` names (a full `$type`).
fn object_of<'a>(
    value: &'a Value,
    expected: &str,
    place: &str,
) -> Result<&'a Map<String, Value>, Invalid> {
    let wanted = expected.split(',').next().unwrap_or(expected).trim();
    let object = value
        .as_object()
        .ok_or_else(|| invalid(format!("{place} must be an object of type {wanted}.")))?;
    if type_name(object) != wanted {
        return Err(invalid(format!(
            "{place} has $type '{}', where {wanted} is expected.",
            type_name(object)
        )));
    }
    Ok(object)
}

/// A collection's items: `{"$type", "$values": [..]}`.
fn collection<'a>(value: &'a Value, place: &str) -> Result<&'a [Value], Invalid> {
    value
        .get("$values")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .ok_or_else(|| invalid(format!("{place} must be a collection with $values.")))
}

/// A scalar as sent: plain, or wrapped as `{"$type": "System.…", "$value": …}`.
fn unwrapped<'a>(value: &'a Value, place: &str) -> Result<&'a Value, Invalid> {
    match value {
        Value::Object(object) => object
            .get("$value")
            .ok_or_else(|| invalid(format!("{place} must be a value, not an object."))),
        other => Ok(other),
    }
}

/// An optional text member of an object (absent or null: `None`).
fn text_member(object: &Map<String, Value>, name: &str) -> Result<Option<String>, Invalid> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => match unwrapped(value, name)? {
            Value::Null => Ok(None),
            Value::String(text) => Ok(Some(text.clone())),
            _ => Err(invalid(format!("{name} must be text."))),
        },
    }
}

fn date_member(
    object: &Map<String, Value>,
    name: &str,
) -> Result<Option<chrono::NaiveDateTime>, Invalid> {
    match text_member(object, name)? {
        None => Ok(None),
        Some(text) if text.trim().is_empty() => Ok(None),
        Some(text) => wire::parse_date(&text).map(Some).ok_or_else(|| {
            invalid(format!(
                "{name} '{text}' is not a date and time like 2026-03-02T09:00:00."
            ))
        }),
    }
}

/// One Activity property's value, checked against its kind; `None` when it sets nothing.
fn property_value(
    name: &str,
    kind: PropertyKind,
    value: &Value,
) -> Result<Option<PropertyValue>, Invalid> {
    let value = unwrapped(value, &format!("The value of {name}"))?;
    if value.is_null() {
        return Ok(None);
    }
    match kind {
        PropertyKind::Sequence => Ok(None),
        PropertyKind::Text { max_chars } => {
            let Value::String(text) = value else {
                return Err(invalid(format!("The value of {name} must be text.")));
            };
            if let Some(max) = max_chars
                && text.chars().count() > max
            {
                return Err(invalid(format!(
                    "The value of {name} is longer than {max} characters."
                )));
            }
            Ok(Some(PropertyValue::Text(text.clone())))
        }
        PropertyKind::Decimal => {
            let number = match value {
                Value::Number(number) => number.as_f64(),
                Value::String(text) if text.trim().is_empty() => return Ok(None),
                Value::String(text) => text.trim().parse::<f64>().ok(),
                _ => None,
            };
            match number.filter(|n| n.is_finite()) {
                Some(number) => Ok(Some(PropertyValue::Decimal(number))),
                None => Err(invalid(format!(
                    "The value of {name} must be a decimal number."
                ))),
            }
        }
        PropertyKind::Date => {
            let Value::String(text) = value else {
                return Err(invalid(format!("The value of {name} must be a date.")));
            };
            if text.trim().is_empty() {
                return Ok(None);
            }
            wire::parse_date(text)
                .map(|at| Some(PropertyValue::Date(at)))
                .ok_or_else(|| {
                    invalid(format!(
                        "The value of {name} '{text}' is not a date and time like 2026-03-02T09:00:00."
                    ))
                })
        }
    }
}

/// An activity as sent: its properties by position in `ACTIVITY_PROPERTIES`, `PartyId` and
/// `ACTIVITY_TYPE` present (the dataset checks that they exist).
pub fn activity(body: &Value) -> Result<BTreeMap<usize, PropertyValue>, Invalid> {
    let entity = object_of(body, wire::GENERIC_ENTITY, "The body")?;
    if let Some(name) = text_member(entity, "EntityTypeName")?
        && !name.eq_ignore_ascii_case("Activity")
    {
        return Err(invalid(format!("EntityTypeName '{name}' is not Activity.")));
    }
    let parent_id = match entity.get("PrimaryParentIdentity") {
        None | Some(Value::Null) => None,
        Some(identity) => {
            let identity = object_of(identity, wire::IDENTITY, "PrimaryParentIdentity")?;
            match identity.get("IdentityElements") {
                None | Some(Value::Null) => None,
                Some(elements) => collection(elements, "PrimaryParentIdentity.IdentityElements")?
                    .first()
                    .and_then(Value::as_str)
                    .map(str::to_string),
            }
        }
    };
    let Some(listed) = entity.get("Properties") else {
        return Err(required("Properties are required."));
    };
    object_of(listed, wire::GENERIC_PROPERTIES, "Properties")?;
    let mut values = BTreeMap::new();
    for (position, item) in collection(listed, "Properties")?.iter().enumerate() {
        let place = format!("Properties.$values[{position}]");
        let item = object_of(item, wire::GENERIC_PROPERTY, &place)?;
        let name =
            text_member(item, "Name")?.ok_or_else(|| required(format!("{place} has no Name.")))?;
        let column = activity_property(&name)
            .ok_or_else(|| invalid(format!("'{name}' is not a property of Activity.")))?;
        let property = ACTIVITY_PROPERTIES[column];
        let value = item.get("Value").unwrap_or(&Value::Null);
        if let Some(value) = property_value(&name, property.kind, value)? {
            match values.get(&column) {
                Some(earlier) if *earlier != value => {
                    return Err(invalid(format!(
                        "{} is given twice with different values.",
                        property.name
                    )));
                }
                _ => {
                    values.insert(column, value);
                }
            }
        }
    }
    match (values.get(&PARTY_ID), parent_id) {
        (Some(PropertyValue::Text(party)), Some(parent))
            if !party.eq_ignore_ascii_case(&parent) =>
        {
            return Err(invalid(format!(
                "PartyId '{party}' differs from PrimaryParentIdentity '{parent}'."
            )));
        }
        (None, Some(parent)) => {
            values.insert(PARTY_ID, PropertyValue::Text(parent));
        }
        _ => {}
    }
    if !values.contains_key(&PARTY_ID) {
        return Err(required("PartyId is required."));
    }
    if !values.contains_key(&ACTIVITY_TYPE) {
        return Err(required("ACTIVITY_TYPE is required."));
    }
    Ok(values)
}

/// An event as sent, with its functions checked against the `EVENTID/CODE` rule.
pub fn event(body: &Value) -> Result<Event, Invalid> {
    let data = object_of(body, wire::EVENT, "The body")?;
    let event_id = text_member(data, "EventId")?
        .map(|id| id.trim().to_string())
        .filter(|id| !id.is_empty())
        .ok_or_else(|| required("EventId is required."))?;
    if event_id.chars().count() > EVENT_ID_MAX_CHARS {
        return Err(invalid(format!(
            "EventId '{event_id}' is longer than {EVENT_ID_MAX_CHARS} characters."
        )));
    }
    if event_id.contains('/') {
        return Err(invalid(format!(
            "EventId '{event_id}' may not contain '/'."
        )));
    }
    let mut event = Event {
        event_code: text_member(data, "EventCode")?
            .filter(|code| !code.trim().is_empty())
            .unwrap_or_else(|| event_id.clone()),
        event_id,
        name: text_member(data, "Name")?.unwrap_or_default(),
        description: text_member(data, "Description")?.unwrap_or_default(),
        start: date_member(data, "StartDateTime")?,
        end: date_member(data, "EndDateTime")?,
        status: text_member(data, "Status")?.unwrap_or_else(|| "A".into()),
        functions: Vec::new(),
    };
    let listed = match data.get("Functions") {
        None | Some(Value::Null) => &[][..],
        Some(functions) => collection(functions, "Functions")?,
    };
    for (position, item) in listed.iter().enumerate() {
        let place = format!("Functions.$values[{position}]");
        let item = object_of(item, wire::EVENT_FUNCTION, &place)?;
        let code = text_member(item, "EventFunctionCode")?
            .map(|code| code.trim().to_string())
            .filter(|code| !code.is_empty())
            .ok_or_else(|| required(format!("EventFunctionCode is required in {place}.")))?;
        if code.chars().count() > FUNCTION_CODE_MAX_CHARS {
            return Err(invalid(format!(
                "EventFunctionCode '{code}' is longer than {FUNCTION_CODE_MAX_CHARS} characters."
            )));
        }
        let expected_id = format!("{}/{code}", event.event_id);
        match text_member(item, "EventFunctionId")? {
            Some(id) if id.trim().eq_ignore_ascii_case(&expected_id) => {}
            Some(id) => {
                return Err(invalid(format!(
                    "EventFunctionId '{id}' must be '{expected_id}' (EventId/EventFunctionCode)."
                )));
            }
            None => {
                return Err(required(format!(
                    "EventFunctionId is required in {place} ('{expected_id}')."
                )));
            }
        }
        if event
            .functions
            .iter()
            .any(|function| function.code.eq_ignore_ascii_case(&code))
        {
            return Err(invalid(format!(
                "EventFunctionCode '{code}' is given twice."
            )));
        }
        event.functions.push(EventFunction {
            code,
            name: text_member(item, "Name")?.unwrap_or_default(),
            description: text_member(item, "Description")?.unwrap_or_default(),
            start: date_member(item, "StartDateTime")?,
            end: date_member(item, "EndDateTime")?,
            status: text_member(item, "Status")?.unwrap_or_else(|| "A".into()),
        });
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn activity_body(properties: Value) -> Value {
        json!({
            "$type": wire::GENERIC_ENTITY,
            "EntityTypeName": "Activity",
            "Properties": {"$type": wire::GENERIC_PROPERTIES, "$values": properties},
        })
    }

    fn prop(name: &str, value: Value) -> Value {
        json!({"$type": wire::GENERIC_PROPERTY, "Name": name, "Value": value})
    }

    #[test]
    fn every_object_needs_its_type() {
        let body = br#"{"$type": "X", "Properties": {"$values": [{"$type": "Y"}]}}"#;
        let refused = typed_json(body).expect_err("refused");
        assert!(refused.message.contains("$type"), "{}", refused.message);
        assert!(
            refused.message.contains("Properties"),
            "{}",
            refused.message
        );
        assert!(typed_json(b"").is_err());
        assert!(typed_json(b"{").is_err());
        assert!(typed_json(br#"{"$type": "X", "list": [1, "a", null]}"#).is_ok());
    }

    #[test]
    fn activities_take_legacy_names_and_typed_values() {
        let body = activity_body(json!([
            prop("activity_type", json!("EVENT")),
            prop("ID", json!("10001")),
            prop("UNITS", json!({"$type": "System.Decimal", "$value": 2})),
            prop("TRANSACTION_DATE", json!("2026-03-02T09:00:00")),
            prop("SEQN", json!({"$type": "System.Int32", "$value": 99})),
        ]));
        let values = activity(&body).expect("reads");
        assert_eq!(
            values.get(&PARTY_ID),
            Some(&PropertyValue::Text("10001".into()))
        );
        assert_eq!(values.get(&8), Some(&PropertyValue::Decimal(2.0)));
        assert!(!values.contains_key(&0), "SEQN is the sandbox's to give");
        let unknown = activity_body(json!([prop("ActivityType", json!("EVENT"))]));
        assert!(activity(&unknown).is_err());
        let long = activity_body(json!([
            prop("ACTIVITY_TYPE", json!("EVENT")),
            prop("PartyId", json!("1")),
            prop("UF_1", json!("x".repeat(256))),
        ]));
        assert!(activity(&long).is_err());
        let offset_date = activity_body(json!([
            prop("ACTIVITY_TYPE", json!("EVENT")),
            prop("PartyId", json!("1")),
            prop("UF_6", json!("2026-03-02T09:00:00Z")),
        ]));
        assert!(activity(&offset_date).is_err());
    }

    #[test]
    fn event_functions_follow_the_id_rule() {
        let body = |function_id: &str, code: &str| {
            json!({
                "$type": wire::EVENT,
                "EventId": "ANNCONF",
                "Functions": {"$type": wire::EVENT_FUNCTIONS, "$values": [{
                    "$type": wire::EVENT_FUNCTION,
                    "EventFunctionId": function_id,
                    "EventFunctionCode": code,
                }]},
            })
        };
        let read = event(&body("ANNCONF/KEYNOTE", "KEYNOTE")).expect("reads");
        assert_eq!(read.event_code, "ANNCONF");
        assert_eq!(read.status, "A");
        let wrong = event(&body("OTHER/KEYNOTE", "KEYNOTE")).expect_err("refused");
        assert!(wrong.message.contains("EventFunctionId"));
        let long_code = "K".repeat(21);
        let long = event(&body(&format!("ANNCONF/{long_code}"), &long_code)).expect_err("refused");
        assert!(long.message.contains("EventFunctionCode"));
    }

    proptest::proptest! {
        /// Whatever a client sends, the readers answer or refuse it without a panic.
        #[test]
        fn any_body_is_read_or_refused(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
            if let Ok(value) = typed_json(&bytes) {
                let _ = activity(&value);
                let _ = event(&value);
            }
        }

        #[test]
        fn any_typed_json_is_read_or_refused(text in r#"\{("\$type":"[A-Za-z.]{0,12}",)?("[A-Za-z$]{1,8}":("[^"\\]{0,8}"|[0-9]{1,3}|null|\[\]|\{"\$type":"x"\}),){0,4}"z":1\}"#) {
            if let Ok(value) = typed_json(text.as_bytes()) {
                let _ = activity(&value);
                let _ = event(&value);
            }
        }
    }
}

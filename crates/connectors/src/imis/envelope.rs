//! iMIS's .NET envelope: every object tagged with a `$type`, collections as `{"$values": […]}`,
//! typed scalars as `{"$type": "System.Int32", "$value": 42}`.
//!
//! Reading is lenient, as answers differ between iMIS versions: a collection may come as a
//! plain array, a scalar plain or wrapped, a number as a string, and names in any case.
//! Writing is strict: iMIS picks the class to read from `$type`, so every object sent carries
//! one.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

pub(crate) const GENERIC_ENTITY: &str =
    "Asi.Soa.Core.DataContracts.GenericEntityData, Asi.Contracts";
pub(crate) const GENERIC_PROPERTY: &str =
    "Asi.Soa.Core.DataContracts.GenericPropertyData, Asi.Contracts";
pub(crate) const GENERIC_PROPERTIES: &str =
    "Asi.Soa.Core.DataContracts.GenericPropertyDataCollection, Asi.Contracts";
pub(crate) const IDENTITY: &str = "Asi.Soa.Core.DataContracts.IdentityData, Asi.Contracts";
pub(crate) const STRING_COLLECTION: &str =
    "System.Collections.ObjectModel.Collection`1[[System.String, mscorlib]], mscorlib";
pub(crate) const EVENT: &str = "Asi.Soa.Events.DataContracts.EventData, Asi.Contracts";
pub(crate) const EVENT_FUNCTION: &str =
    "Asi.Soa.Events.DataContracts.EventFunctionData, Asi.Contracts";
pub(crate) const EVENT_FUNCTIONS: &str =
    "Asi.Soa.Events.DataContracts.EventFunctionDataCollection, Asi.Contracts";

/// The member `name` of an object, matched exactly first and then ignoring case.
pub(crate) fn field<'a>(object: &'a Value, name: &str) -> Option<&'a Value> {
    let members = object.as_object()?;
    members.get(name).or_else(|| {
        members
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    })
}

/// The items of a collection: the `$values` of an envelope, or a plain array. Anything else
/// (null, a missing member, a scalar) holds no items.
pub(crate) fn values(collection: &Value) -> &[Value] {
    match collection {
        Value::Array(items) => items,
        Value::Object(_) => match field(collection, "$values") {
            Some(Value::Array(items)) => items,
            _ => &[],
        },
        _ => &[],
    }
}

/// The items of the collection held in member `name`.
pub(crate) fn values_of<'a>(object: &'a Value, name: &str) -> &'a [Value] {
    field(object, name).map(values).unwrap_or(&[])
}

/// A scalar without its wrapper: `{"$type": …, "$value": v}` becomes `v`.
pub(crate) fn unwrap(value: &Value) -> &Value {
    match value {
        Value::Object(_) => field(value, "$value").unwrap_or(value),
        other => other,
    }
}

/// A scalar as text: strings as they are, numbers and booleans as written. `None` for null and
/// for what is no scalar (an object or an array).
pub(crate) fn text(value: &Value) -> Option<String> {
    match unwrap(value) {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// The text of member `name`, when it holds a non-empty scalar.
pub(crate) fn text_of(object: &Value, name: &str) -> Option<String> {
    field(object, name)
        .and_then(text)
        .filter(|text| !text.is_empty())
}

/// A scalar as a whole number: a JSON integer, an integral decimal, or a string holding one.
pub(crate) fn integer(value: &Value) -> Option<i64> {
    match unwrap(value) {
        Value::Number(number) => number.as_i64().or_else(|| {
            number
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        Value::String(text) => {
            let text = text.trim();
            text.parse::<i64>().ok().or_else(|| {
                text.parse::<f64>()
                    .ok()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                    .map(|f| f as i64)
            })
        }
        _ => None,
    }
}

/// A scalar as a flag: a JSON boolean, `"true"`/`"false"` in any case, or 1/0.
pub(crate) fn boolean(value: &Value) -> Option<bool> {
    match unwrap(value) {
        Value::Bool(flag) => Some(*flag),
        Value::Number(number) => match number.as_i64() {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        },
        Value::String(text) => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// The value of the `{Name, Value}` entry called `name` in a property collection (an entity's
/// `Properties`, a party's `AdditionalAttributes`), names compared ignoring case.
pub(crate) fn property<'a>(collection: &'a Value, name: &str) -> Option<&'a Value> {
    values(collection).iter().find_map(|entry| {
        let entry_name = field(entry, "Name").and_then(text)?;
        entry_name
            .eq_ignore_ascii_case(name)
            .then(|| field(entry, "Value").unwrap_or(&Value::Null))
    })
}

/// Every property of a collection as text, under its upper-case name; null values and what is
/// no scalar are left out.
pub(crate) fn property_texts(collection: &Value) -> BTreeMap<String, String> {
    let mut texts = BTreeMap::new();
    for entry in values(collection) {
        let Some(name) = field(entry, "Name").and_then(text) else {
            continue;
        };
        if let Some(value) = field(entry, "Value").and_then(text) {
            texts.insert(name.to_ascii_uppercase(), value);
        }
    }
    texts
}

/// A collection envelope of type `type_name` around `items`.
pub(crate) fn collection(type_name: &str, items: Vec<Value>) -> Value {
    json!({ "$type": type_name, "$values": items })
}

/// A typed scalar, such as `typed("System.Int32", json!(42))`.
#[cfg(test)]
pub(crate) fn typed(type_name: &str, value: Value) -> Value {
    json!({ "$type": type_name, "$value": value })
}

/// One `{Name, Value}` entry of a property collection.
pub(crate) fn generic_property(name: &str, value: Value) -> Value {
    json!({ "$type": GENERIC_PROPERTY, "Name": name, "Value": value })
}

/// An identity: the entity type and its key's parts (a party's id, an activity's SEQN).
pub(crate) fn identity(entity_type: &str, elements: &[&str]) -> Value {
    let elements = elements.iter().map(|e| json!(e)).collect();
    json!({
        "$type": IDENTITY,
        "EntityTypeName": entity_type,
        "IdentityElements": collection(STRING_COLLECTION, elements),
    })
}

/// A generic business object of `entity_type`, filed under `parent` (its entity type and id)
/// when it has one, with `properties` in the order given.
pub(crate) fn generic_entity(
    entity_type: &str,
    parent: Option<(&str, &str)>,
    properties: Vec<(&str, Value)>,
) -> Value {
    let mut entity = Map::new();
    entity.insert("$type".into(), json!(GENERIC_ENTITY));
    entity.insert("EntityTypeName".into(), json!(entity_type));
    if let Some((parent_type, parent_id)) = parent {
        entity.insert("PrimaryParentEntityTypeName".into(), json!(parent_type));
        entity.insert(
            "PrimaryParentIdentity".into(),
            identity(parent_type, &[parent_id]),
        );
    }
    let properties = properties
        .into_iter()
        .map(|(name, value)| generic_property(name, value))
        .collect();
    entity.insert(
        "Properties".into(),
        collection(GENERIC_PROPERTIES, properties),
    );
    Value::Object(entity)
}

/// The first element of an entity's `Identity`, such as an activity's SEQN.
pub(crate) fn identity_element(entity: &Value) -> Option<&Value> {
    let identity = field(entity, "Identity")?;
    values_of(identity, "IdentityElements").first()
}

/// Whether every object in `value`, however deep, carries a `$type`, as iMIS needs of a body.
#[cfg(test)]
pub(crate) fn typed_throughout(value: &Value) -> bool {
    match value {
        Value::Object(members) => {
            members.contains_key("$type") && members.values().all(typed_throughout)
        }
        Value::Array(items) => items.iter().all(typed_throughout),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collections_are_read_with_or_without_their_envelope() {
        let wrapped = json!({"$type": "List", "$values": [1, 2]});
        let plain = json!([1, 2]);
        let lower = json!({"$VALUES": [1, 2]});
        for collection in [&wrapped, &plain, &lower] {
            assert_eq!(values(collection), &[json!(1), json!(2)], "{collection}");
        }
        for nothing in [json!(null), json!({"$type": "List"}), json!("x"), json!(3)] {
            assert!(values(&nothing).is_empty(), "{nothing}");
        }
        assert!(values_of(&json!({}), "Emails").is_empty());
        assert_eq!(values_of(&json!({"emails": [1]}), "Emails"), &[json!(1)]);
    }

    #[test]
    fn scalars_are_read_plain_or_wrapped() {
        let cases = [
            (json!("A"), Some("A")),
            (json!({"$type": "System.String", "$value": "A"}), Some("A")),
            (json!(42), Some("42")),
            (typed("System.Int32", json!(42)), Some("42")),
            (typed("System.Decimal", json!(2.5)), Some("2.5")),
            (typed("System.Boolean", json!(true)), Some("true")),
            (json!(null), None),
            (typed("System.String", json!(null)), None),
            (json!({"$type": "PersonNameData", "FirstName": "A"}), None),
            (json!([1]), None),
        ];
        for (value, expected) in cases {
            assert_eq!(text(&value).as_deref(), expected, "{value}");
        }
    }

    #[test]
    fn numbers_and_flags_may_come_as_strings() {
        assert_eq!(integer(&json!(7)), Some(7));
        assert_eq!(integer(&json!("7")), Some(7));
        assert_eq!(integer(&json!(" 7 ")), Some(7));
        assert_eq!(integer(&json!(7.0)), Some(7));
        assert_eq!(integer(&json!("7.0")), Some(7));
        assert_eq!(integer(&typed("System.Int32", json!("12"))), Some(12));
        assert_eq!(integer(&json!(7.5)), None);
        assert_eq!(integer(&json!("seven")), None);
        assert_eq!(integer(&json!(true)), None);

        assert_eq!(boolean(&typed("System.Boolean", json!(true))), Some(true));
        assert_eq!(boolean(&json!("False")), Some(false));
        assert_eq!(boolean(&json!(1)), Some(true));
        assert_eq!(boolean(&json!("0")), Some(false));
        assert_eq!(boolean(&json!("maybe")), None);
        assert_eq!(boolean(&json!(null)), None);
    }

    #[test]
    fn members_and_properties_are_found_ignoring_case() {
        let party = json!({"PartyId": "1", "personname": {"FIRSTNAME": "Ada"}});
        assert_eq!(text_of(&party, "partyid").as_deref(), Some("1"));
        let name = field(&party, "PersonName").expect("person name");
        assert_eq!(text_of(name, "FirstName").as_deref(), Some("Ada"));
        assert_eq!(text_of(&json!({"Name": ""}), "Name"), None);

        let properties = json!({"$type": GENERIC_PROPERTIES, "$values": [
            {"$type": GENERIC_PROPERTY, "Name": "SEQN", "Value": typed("System.Int32", json!(9))},
            {"$type": GENERIC_PROPERTY, "Name": "uf_1", "Value": "key"},
            {"$type": GENERIC_PROPERTY, "Name": "NOTE", "Value": null},
            {"$type": GENERIC_PROPERTY, "Name": "Nested", "Value": {"$type": "X", "A": 1}},
            {"$type": GENERIC_PROPERTY, "Value": "nameless"},
        ]});
        assert_eq!(property(&properties, "seqn").and_then(integer), Some(9));
        assert_eq!(property(&properties, "note"), Some(&Value::Null));
        assert_eq!(property(&properties, "Missing"), None);
        let texts = property_texts(&properties);
        assert_eq!(
            texts.into_iter().collect::<Vec<_>>(),
            vec![
                ("SEQN".to_string(), "9".to_string()),
                ("UF_1".to_string(), "key".to_string()),
            ]
        );
    }

    #[test]
    fn written_entities_carry_a_type_on_every_object() {
        let entity = generic_entity(
            "Activity",
            Some(("Party", "23051")),
            vec![
                ("ACTIVITY_TYPE", json!("EVENT")),
                ("UNITS", typed("System.Decimal", json!(1))),
            ],
        );
        assert!(typed_throughout(&entity), "{entity:#}");
        assert_eq!(entity["$type"], GENERIC_ENTITY);
        assert_eq!(entity["PrimaryParentEntityTypeName"], "Party");
        let parent = &entity["PrimaryParentIdentity"];
        assert_eq!(parent["$type"], IDENTITY);
        assert_eq!(parent["IdentityElements"]["$type"], STRING_COLLECTION);
        assert_eq!(parent["IdentityElements"]["$values"], json!(["23051"]));
        let properties = &entity["Properties"];
        assert_eq!(properties["$type"], GENERIC_PROPERTIES);
        assert_eq!(
            property(properties, "ACTIVITY_TYPE")
                .and_then(text)
                .as_deref(),
            Some("EVENT")
        );
        assert_eq!(properties["$values"][1]["Value"]["$type"], "System.Decimal");

        let orphan = generic_entity("Thing", None, vec![]);
        assert!(typed_throughout(&orphan));
        assert!(field(&orphan, "PrimaryParentIdentity").is_none());
        assert!(!typed_throughout(&json!({"$type": "A", "B": {"C": 1}})));
    }

    #[test]
    fn an_identity_element_is_read_from_a_created_entity() {
        let created = json!({"Identity": identity("Activity", &["812"])});
        assert_eq!(identity_element(&created).and_then(integer), Some(812));
        assert_eq!(identity_element(&json!({})), None);
    }
}

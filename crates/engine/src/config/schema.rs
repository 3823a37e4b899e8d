//! The JSON schema of `eventsync.toml` (`eventsync config schema`), for editors (Taplo, Even
//! Better TOML) and for people.
//!
//! It is derived from the types the loader deserializes the file into — `RawConfig`, the
//! common `RawConnection` fields, each kind's `Raw` fields, `RawDataConfig`, `[smtp]` and
//! `[connections.imis]` — so a key the loader learns appears here with it. Two parts are
//! composed by hand from what the loader checks after deserializing: a connection's fields
//! depend on its `kind` (one `oneOf` branch per kind, each closed with `additionalProperties:
//! false`, as the kind's parser rejects unknown fields), and `[connections.data.<type>]` lists
//! the kind's data types, with each type's vendor statuses as an enum. The mapping, filter and
//! label shapes are mirrors of the pipeline's types, held to them by the tests below.

use std::collections::BTreeMap;

use pipeline::DataType;
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value, json};

use super::{KINDS, RawConfig, RawConnection, RawDataConfig};

/// The whole schema, as `eventsync config schema` prints it.
pub fn document() -> Value {
    let generator = SchemaSettings::draft07()
        .with(|settings| settings.inline_subschemas = true)
        .into_generator();
    let mut schema = generator.into_root_schema_for::<RawConfig>().to_value();
    drop_nulls(&mut schema);
    unwrap_lines(&mut schema);
    schema
}

/// One setting of the file: its place as a TOML path, its default and its meaning, for
/// `eventsync config schema --list`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Setting {
    /// Where it goes (`connections[kind=cvent-rest].data.people.statuses`).
    pub key: String,
    /// Its value when not given, if the schema names one.
    pub default: Option<Value>,
    /// Whether the table it belongs to must have it.
    pub required: bool,
    pub meaning: String,
}

/// Every setting of the schema, in the schema's order.
pub fn settings(schema: &Value) -> Vec<Setting> {
    let mut found = Vec::new();
    walk(schema, "", &mut found);
    found
}

fn walk(schema: &Value, key: &str, found: &mut Vec<Setting>) {
    let required = |name: &str| {
        schema
            .get("required")
            .and_then(Value::as_array)
            .is_some_and(|list| list.iter().any(|r| r == name))
    };
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            let path = if key.is_empty() {
                name.clone()
            } else {
                format!("{key}.{name}")
            };
            found.push(Setting {
                key: path.clone(),
                default: property.get("default").cloned(),
                required: required(name),
                meaning: property
                    .get("description")
                    .or_else(|| property.get("title"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            });
            walk(property, &path, found);
        }
    }
    if let Some(items) = schema.get("items") {
        walk(items, &format!("{key}[]"), found);
    }
    if let Some(branches) = schema.get("oneOf").and_then(Value::as_array) {
        for branch in branches {
            let kind = branch
                .pointer("/properties/kind/const")
                .and_then(Value::as_str);
            // Other branches (a filter's one test) only narrow the properties listed already.
            if let Some(kind) = kind {
                walk(
                    branch,
                    &format!("{}[kind={kind}]", key.trim_end_matches("[]")),
                    found,
                );
            }
        }
    }
}

/// `connections`: an array of connections, each one of the kinds.
pub(crate) fn connections(generator: &mut SchemaGenerator) -> Schema {
    let common = object_of(generator.subschema_for::<RawConnection>());
    let data_config = object_of(generator.subschema_for::<RawDataConfig>());
    let branches: Vec<Value> = KINDS
        .iter()
        .map(|kind| {
            let own = object_of(match *kind {
                connectors::cvent_rest::KIND => generator.subschema_for::<super::cvent_rest::Raw>(),
                connectors::cvent_soap::KIND => generator.subschema_for::<super::cvent_soap::Raw>(),
                connectors::aventri::KIND => generator.subschema_for::<super::aventri::Raw>(),
                _ => generator.subschema_for::<super::imis::Raw>(),
            });
            Value::Object(connection_of_kind(kind, &common, &own, &data_config))
        })
        .collect();
    let mut schema = Schema::default();
    schema.insert("type".into(), json!("array"));
    schema.insert("items".into(), json!({ "oneOf": branches }));
    schema.insert("default".into(), json!([]));
    schema
}

/// One `oneOf` branch: the common fields that apply to `kind`, its own fields, and its data
/// types.
fn connection_of_kind(
    kind: &str,
    common: &Map<String, Value>,
    own: &Map<String, Value>,
    data_config: &Map<String, Value>,
) -> Map<String, Value> {
    let data_types = super::VendorSettings::data_types_of_kind(kind);
    let mut properties = common
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(description) = properties.get_mut("kind").and_then(Value::as_object_mut) {
        description.insert("const".into(), json!(kind));
        description.insert("enum".into(), json!([kind]));
    }
    let travel: Vec<&str> = data_types
        .iter()
        .filter_map(|t| super::Travel::switch_for(*t))
        .collect();
    properties.retain(|name, _| match name.as_str() {
        "flights" | "hotel_requests" => travel.contains(&name.as_str()),
        // An iMIS site is fed from the workspace: it has no data types and feeds nothing.
        "data_types" | "imis" => !data_types.is_empty(),
        _ => true,
    });
    if let Some(items) = properties
        .get_mut("data_types")
        .and_then(|p| p.get_mut("items"))
        .and_then(Value::as_object_mut)
    {
        let names: Vec<&str> = data_types.iter().map(|t| t.as_str()).collect();
        items.insert("enum".into(), json!(names));
    }
    if !data_types.is_empty() {
        let per_type: Map<String, Value> = data_types
            .iter()
            .map(|t| {
                (
                    t.as_str().to_string(),
                    Value::Object(data_config_of(kind, *t, data_config)),
                )
            })
            .collect();
        properties.insert(
            "data".into(),
            json!({
                "description": "Settings per data type, [connections.data.<type>]; a type not listed imports with the connector's default mapping and the vendor's default statuses.",
                "type": "object",
                "properties": per_type,
                "additionalProperties": false,
            }),
        );
    }
    if let Some(own_properties) = own.get("properties").and_then(Value::as_object) {
        for (name, property) in own_properties {
            properties.insert(name.clone(), property.clone());
        }
    }
    // The loader takes the old snake_case spelling of Aventri's ConcurrentSessionsTitle too.
    if let Some(title) = properties.get("ConcurrentSessionsTitle").cloned() {
        let mut alias = title;
        if let Some(alias) = alias.as_object_mut() {
            alias.insert(
                "description".into(),
                json!("The same as ConcurrentSessionsTitle, in snake case."),
            );
        }
        properties.insert("concurrent_sessions_title".into(), alias);
    }
    let mut required = vec![json!("name"), json!("kind")];
    if let Some(own_required) = own.get("required").and_then(Value::as_array) {
        required.extend(own_required.iter().cloned());
    }
    let mut branch = Map::new();
    for key in ["title", "description"] {
        if let Some(value) = own.get(key) {
            branch.insert(key.into(), value.clone());
        }
    }
    branch.insert("type".into(), json!("object"));
    branch.insert("properties".into(), Value::Object(properties));
    branch.insert("required".into(), Value::Array(required));
    if let Some(all_of) = own.get("allOf") {
        branch.insert("allOf".into(), all_of.clone());
    }
    branch.insert("additionalProperties".into(), json!(false));
    branch
}

/// `[connections.data.<type>]` for one data type of one kind: its statuses, and the guest
/// switches on session registrations only.
fn data_config_of(
    kind: &str,
    data_type: DataType,
    data_config: &Map<String, Value>,
) -> Map<String, Value> {
    let mut schema = data_config.clone();
    schema.insert(
        "title".into(),
        json!(format!("{data_type} of a {kind} connection")),
    );
    let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
        return schema;
    };
    if data_type != DataType::SessionRegistrations {
        properties.remove("extra_invitee_registrations");
        properties.remove("guest_enrollment_tags");
    }
    match connectors::status_vocabulary(kind, data_type) {
        Some(vocabulary) if !vocabulary.valid.is_empty() => {
            if let Some(statuses) = properties
                .get_mut("statuses")
                .and_then(Value::as_object_mut)
            {
                statuses.insert("items".into(), json!({ "enum": vocabulary.valid }));
                statuses.insert("uniqueItems".into(), json!(true));
                statuses.insert("default".into(), json!(vocabulary.default));
            }
        }
        _ => {
            properties.remove("statuses");
        }
    }
    schema
}

fn object_of(schema: Schema) -> Map<String, Value> {
    match schema.to_value() {
        Value::Object(object) => object,
        _ => Map::new(),
    }
}

/// Doc comments are wrapped at 100 columns; editors wrap descriptions themselves, so a single
/// line break becomes a space and only paragraph breaks stay.
fn unwrap_lines(schema: &mut Value) {
    match schema {
        Value::Object(object) => {
            for (key, value) in object.iter_mut() {
                match value {
                    Value::String(text) if key == "description" || key == "title" => {
                        *text = text
                            .split("\n\n")
                            .map(|paragraph| paragraph.split('\n').collect::<Vec<_>>().join(" "))
                            .collect::<Vec<_>>()
                            .join("\n\n");
                    }
                    _ => unwrap_lines(value),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(unwrap_lines),
        _ => {}
    }
}

/// TOML has no null: an optional key is one left out, so `null` is taken out of every type.
fn drop_nulls(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else {
        if let Some(items) = schema.as_array_mut() {
            items.iter_mut().for_each(drop_nulls);
        }
        return;
    };
    if let Some(Value::Array(types)) = object.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let only = types.remove(0);
            object.insert("type".into(), only);
        }
    }
    for key in ["anyOf", "oneOf"] {
        let Some(Value::Array(branches)) = object.get_mut(key) else {
            continue;
        };
        branches.retain(|b| b != &json!({ "type": "null" }));
        if branches.len() == 1 {
            let Some(Value::Object(only)) = branches.pop() else {
                continue;
            };
            object.remove(key);
            for (name, value) in only {
                object.entry(name).or_insert(value);
            }
        }
    }
    for value in object.values_mut() {
        drop_nulls(value);
    }
}

/// A mapping rule, as `pipeline::Rule` reads it.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "A mapping rule")]
#[allow(dead_code)]
pub(crate) struct RuleSchema {
    /// A flattened vendor path, such as contact.firstName or answers.0.value.0 (a list
    /// position works, with a warning: vendors may reorder lists).
    source: String,
    /// A workspace field of the data type, or custom.<name>.
    target: String,
    /// Whether an empty vendor value clears the workspace value (otherwise it is left alone).
    #[serde(default)]
    import_empty: bool,
    values: Option<ValueMapSchema>,
}

/// A value map, as `pipeline::ValueMap` reads it.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "A value map",
    description = "Vendor value → workspace value: an exact key, then a key equal ignoring case, then default; a value matching nothing, with no default, passes through."
)]
#[allow(dead_code)]
pub(crate) struct ValueMapSchema {
    /// Vendor values and the workspace values they become.
    #[serde(default)]
    map: BTreeMap<String, String>,
    /// The workspace value for a vendor value the map does not name.
    default: Option<String>,
}

/// A filter, as `pipeline::Filter` reads it.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "A filter",
    description = "A condition on a mapped workspace field: exactly one of equals, one_of, contains or is_empty = true; not turns it around. Text compares ignoring case.",
    extend("oneOf" = [
        { "required": ["equals"] },
        { "required": ["one_of"] },
        { "required": ["contains"] },
        { "required": ["is_empty"], "properties": { "is_empty": { "const": true } } }
    ])
)]
#[allow(dead_code)]
pub(crate) struct FilterSchema {
    /// A workspace field of the data type, or custom.<name>.
    field: String,
    /// The field equals this value.
    equals: Option<String>,
    /// The field equals one of these values.
    #[schemars(length(min = 1))]
    one_of: Option<Vec<String>>,
    /// The field contains this text.
    contains: Option<String>,
    /// The field is empty.
    #[serde(default)]
    is_empty: bool,
    /// Turns the condition around.
    #[serde(default)]
    not: bool,
}

/// A data label, as `pipeline::rules::labels::Label` reads it.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "A data label")]
#[allow(dead_code)]
pub(crate) struct LabelSchema {
    /// The question's (or contact custom field's) id or code.
    #[schemars(length(min = 1))]
    question: String,
    /// The workspace field filled is custom.<name>.
    #[schemars(regex(pattern = r"^[a-z0-9_]+$"))]
    name: String,
}

/// A mail address, `name@host` or `Name <name@host>`.
#[derive(JsonSchema)]
#[allow(dead_code)]
pub(crate) struct Address(#[schemars(regex(pattern = r"@"))] String);

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::Config;

    fn validator() -> jsonschema::Validator {
        jsonschema::draft7::new(&document()).expect("the schema is a valid draft 7 schema")
    }

    /// The configuration files of the repository, and the README's ```toml blocks that are
    /// whole files (they have a `[[connections]]` or `database`).
    fn examples() -> Vec<(String, String)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut found = Vec::new();
        let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
        for (index, block) in readme.split("```toml\n").skip(1).enumerate() {
            let block = block.split("```").next().unwrap_or_default();
            // A block that leaves a connection's fields to an earlier one ("as above") is a
            // fragment, not a file.
            let whole = block.contains("[[connections]]") || block.starts_with("database");
            if whole && !block.contains("as above") {
                found.push((
                    format!("README.md, toml block {}", index + 1),
                    block.to_string(),
                ));
            }
        }
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().to_string();
                if path.is_dir() {
                    if !name.starts_with('.') && name != "target" && !name.starts_with("eventsync-")
                    {
                        stack.push(path);
                    }
                } else if name.ends_with(".toml")
                    && name != "Cargo.toml"
                    && !name.starts_with("rust")
                    && let Ok(text) = std::fs::read_to_string(&path)
                    && text.contains("[[connections]]")
                {
                    found.push((path.display().to_string(), text));
                }
            }
        }
        found
    }

    fn env(_: &str) -> Option<String> {
        Some("0123456789abcdef0123456789".to_string())
    }

    fn as_json(text: &str) -> Value {
        let table: toml::Table = toml::from_str(text).expect("TOML");
        serde_json::to_value(table).expect("JSON")
    }

    #[test]
    fn every_example_loads_and_matches_the_schema() {
        let validator = validator();
        let examples = examples();
        assert!(
            examples.len() >= 5,
            "the README's examples are found: {}",
            examples.len()
        );
        for (name, text) in examples {
            let loaded = Config::parse(&text, Path::new("eventsync.toml"), &env);
            assert!(loaded.is_ok(), "{name} loads: {:?}", loaded.err());
            let errors: Vec<String> = validator
                .iter_errors(&as_json(&text))
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{name} matches the schema: {errors:#?}");
        }
    }

    const CVENT: &str = "[[connections]]\nname = \"c\"\nkind = \"cvent-rest\"\nregion = \"na\"\nevent_code = \"E\"\nclient_id = \"i\"\nclient_secret = \"${S}\"\n";
    const SOAP: &str = "[[connections]]\nname = \"s\"\nkind = \"cvent-soap\"\nhost = \"sandbox\"\naccount_number = \"A\"\nuser_name = \"u\"\npassword = \"${S}\"\nevent_code = \"E\"\n";
    const AVENTRI: &str = "[[connections]]\nname = \"a\"\nkind = \"aventri\"\nregion = \"emea\"\naccount_id = \"1\"\nkey = \"${S}\"\nevent_id = \"2\"\n";
    const IMIS: &str = "[[connections]]\nname = \"m\"\nkind = \"imis\"\nsite_url = \"https://members.example.org/imis\"\nusername = \"u\"\npassword = \"${S}\"\n";

    /// The loader and the schema agree, key by key: what one accepts the other does, and what
    /// one refuses as unknown or malformed the other refuses.
    #[test]
    fn the_loader_and_the_schema_agree() {
        let validator = validator();
        let smtp = "[smtp]\nhost = \"h\"\nfrom = \"a@example.org\"\n";
        let cases: Vec<(String, bool)> = vec![
            (format!("{CVENT}flights = true\nhotel_requests = true\nwatermark_margin_seconds = 10\nlisting_concurrency = 64\ndata_types = [\"people\", \"air_requests\"]\nclient_secret_file = \"Cargo.toml\"").replace("client_secret = \"${S}\"\n", ""), true),
            (format!("{CVENT}base_url = \"https://x/ea\""), true),
            (format!("{CVENT}clientid = \"x\""), false),
            (format!("{CVENT}client_secret_file = \"x\""), false),
            (CVENT.replace("event_code = \"E\"\n", ""), false),
            (CVENT.replace("region = \"na\"\n", ""), false),
            (format!("{CVENT}listing_concurrency = 0"), false),
            (format!("{CVENT}listing_concurrency = 65"), false),
            (format!("{CVENT}flights = \"yes\""), false),
            (format!("{CVENT}data_types = [\"attendees\"]"), false),
            (format!("{CVENT}[connections.data.people]\nstatuses = [\"Accepted\", \"Visited\"]\nfilters = [{{ field = \"email\", is_empty = true, not = true }}]\nlabels = [{{ question = \"DIET\", name = \"diet\" }}]\nremove_outdated = true\nmapping = [{{ source = \"id\", target = \"external_id\" }}, {{ source = \"status\", target = \"status\", import_empty = true, values = {{ map = {{ a = \"active\" }}, default = \"cancelled\" }} }}, {{ source = \"f\", target = \"first_name\" }}, {{ source = \"l\", target = \"last_name\" }}, {{ source = \"c\", target = \"contact_id\" }}]"), true),
            (format!("{CVENT}[connections.data.people]\nstatuses = [\"Registered\"]"), false),
            (format!("{CVENT}[connections.data.people]\nfilters = [{{ field = \"email\" }}]"), false),
            (format!("{CVENT}[connections.data.people]\nfilters = [{{ field = \"email\", equal = \"x\" }}]"), false),
            (format!("{CVENT}[connections.data.people]\nmapping = [{{ source = \"id\", target = \"external_id\", importempty = true }}]"), false),
            (format!("{CVENT}[connections.data.people]\nlabels = [{{ question = \"q\", name = \"Bad Name\" }}]"), false),
            (format!("{CVENT}[connections.data.people]\nguest_enrollment_tags = true"), false),
            (format!("{CVENT}[connections.data.session_registrations]\nguest_enrollment_tags = true\nextra_invitee_registrations = true"), true),
            (format!("{CVENT}[connections.data.session_registrations]\nstatuses = [\"Accepted\"]"), false),
            (format!("{CVENT}[connections.data.attendees]\nremove_outdated = true"), false),
            (format!("{CVENT}[connections.data.people]\nsubscribers = [\"ops@example.org\"]\n{smtp}"), true),
            (format!("{smtp}port = 2525\ntls = \"none\"\nusername = \"u\"\npassword = \"${{S}}\""), true),
            (format!("{smtp}tls = \"ssl\""), false),
            (format!("{smtp}password = \"${{S}}\""), false),
            (format!("{smtp}helo = \"x\""), false),
            ("databse = \"x\"".to_string(), false),
            (SOAP.to_string(), true),
            (format!("{SOAP}flights = true"), false),
            (format!("{SOAP}client_id = \"x\""), false),
            (format!("{SOAP}[connections.data.people]\nstatuses = [\"Accepted\"]"), true),
            (AVENTRI.to_string(), true),
            (format!("{AVENTRI}active_statuses = \"Confirmed\"\nmodified_since_overlap_hours = 2\npresenter_photo_endpoint = \"https://x/{{speakerid}}.jpg\"\nperson_photo_endpoint = \"https://x/{{attendeeid}}.jpg\"\nConcurrentSessionsTitle = \"t\"\nsponsor_category = \"S\"\nutc_offset = \"+02:00\""), true),
            (format!("{AVENTRI}concurrent_sessions_title = \"t\""), true),
            (format!("{AVENTRI}presenter_photo_endpoint = \"https://x/photo.jpg\""), false),
            (format!("{AVENTRI}utc_offset = \"2\""), false),
            (format!("{AVENTRI}region = \"asia\"").replace("region = \"emea\"\n", ""), false),
            (IMIS.to_string(), true),
            (format!("{IMIS}query_service = \"iqa\"\nlink_secret = \"${{S}}\""), true),
            (format!("{IMIS}query_service = \"soap\""), false),
            (format!("{IMIS}data_types = [\"people\"]"), false),
            (format!("{IMIS}{SOAP}[connections.imis]\ndestination = \"m\"\nactivity_type = \"EVENT\"\nproduct_code = \"P\"\ndescription = \"d\"\nkey_field = \"UF_2\"\nid_field = \"custom.imis_id\"\nmatch = [\"id\", \"email\"]\neligibility_query = \"$/Q\""), true),
            (format!("{IMIS}{SOAP}[connections.imis]\ndestination = \"m\"\nkey_field = \"UF_4\""), false),
            (format!("{IMIS}{SOAP}[connections.imis]\ndestination = \"m\"\nmatch = [\"phone\"]"), false),
            (format!("{IMIS}{SOAP}[connections.imis]\ndestination = \"m\"\neligibility_query = \"Members\""), false),
            (format!("{IMIS}{SOAP}[connections.imis]\ndestination = \"m\"\nsite = \"x\""), false),
            (format!("{CVENT}kind = \"eventbrite\"").replace("kind = \"cvent-rest\"\n", ""), false),
        ];
        // Beside Cargo.toml, which stands for a secret's file.
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("eventsync.toml");
        for (text, valid) in cases {
            let loaded = Config::parse(&text, &path, &env);
            assert_eq!(
                loaded.is_ok(),
                valid,
                "the loader on:\n{text}\n{:?}",
                loaded.err()
            );
            let errors: Vec<String> = validator
                .iter_errors(&as_json(&text))
                .map(|e| e.to_string())
                .collect();
            assert_eq!(
                errors.is_empty(),
                valid,
                "the schema on:\n{text}\n{errors:#?}"
            );
        }
    }

    /// The mirrors of the pipeline's mapping, filter and label types name the same keys.
    #[test]
    fn the_mirrors_name_the_pipelines_keys() {
        let schema = document();
        let data = |kind: &str| {
            schema["properties"]["connections"]["items"]["oneOf"]
                .as_array()
                .and_then(|branches| {
                    branches
                        .iter()
                        .find(|b| b["properties"]["kind"]["const"] == kind)
                })
                .map(|branch| branch["properties"]["data"]["properties"]["people"].clone())
                .expect("cvent-rest people")
        };
        let people = data("cvent-rest");
        let keys = |value: &Value| -> Vec<String> {
            let mut keys: Vec<String> = value
                .as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default();
            keys.sort();
            keys
        };
        let rule = pipeline::Rule::new("a", "b")
            .importing_empty()
            .with_values(pipeline::ValueMap::new([("x", "y")]).with_default("z"));
        let cases = [
            (
                serde_json::to_value(&rule).expect("rule"),
                &people["properties"]["mapping"]["items"]["properties"],
            ),
            (
                serde_json::to_value(rule.values.as_ref()).expect("values"),
                &people["properties"]["mapping"]["items"]["properties"]["values"]["properties"],
            ),
            (
                serde_json::to_value(pipeline::Filter {
                    field: "f".into(),
                    equals: Some("e".into()),
                    one_of: Some(vec!["o".into()]),
                    contains: Some("c".into()),
                    is_empty: true,
                    not: true,
                })
                .expect("filter"),
                &people["properties"]["filters"]["items"]["properties"],
            ),
            (
                serde_json::to_value(pipeline::rules::labels::Label {
                    question: "q".into(),
                    name: "n".into(),
                })
                .expect("label"),
                &people["properties"]["labels"]["items"]["properties"],
            ),
        ];
        for (value, properties) in cases {
            assert_eq!(keys(&value), keys(properties), "{value}");
        }
    }

    #[test]
    fn it_is_made_for_editors() {
        let schema = document();
        assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
        assert_eq!(schema["title"], "eventsync.toml");
        assert_eq!(schema["additionalProperties"], false);
        assert_eq!(
            schema["properties"]["database"]["default"],
            "eventsync.sqlite"
        );
        let listed = settings(&schema);
        for (key, default) in [
            (
                "connections[kind=cvent-rest].watermark_margin_seconds",
                json!(300),
            ),
            (
                "connections[kind=cvent-rest].listing_concurrency",
                json!(16),
            ),
            (
                "connections[kind=cvent-rest].data.people.statuses",
                json!(["Accepted"]),
            ),
            (
                "connections[kind=aventri].modified_since_overlap_hours",
                json!(24),
            ),
            (
                "connections[kind=cvent-rest].imis.activity_type",
                json!("EVENT"),
            ),
            ("smtp.tls", json!("starttls")),
        ] {
            let setting = listed
                .iter()
                .find(|s| s.key == key)
                .unwrap_or_else(|| panic!("{key} is listed"));
            assert_eq!(setting.default, Some(default), "{key}");
        }
        for setting in &listed {
            assert!(
                !setting.meaning.is_empty(),
                "{} says what it is",
                setting.key
            );
        }
        for kind in KINDS {
            assert!(
                listed
                    .iter()
                    .any(|s| s.key == format!("connections[kind={kind}].name")),
                "{kind} is a branch"
            );
        }
        let text = serde_json::to_string(&schema).expect("text");
        assert!(!text.contains("\"null\""), "TOML has no null");
        assert_eq!(
            text,
            serde_json::to_string(&document()).expect("again"),
            "stable"
        );
    }
}

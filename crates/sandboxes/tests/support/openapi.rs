//! Cvent's OpenAPI 3.0 document as a response validator for the conformance tests.
//!
//! The document is the vendor's, kept outside the project (`../shared/vendor-apis/`). It is read
//! once, never validated as a whole (it has definition errors of Cvent's making), and its schemas
//! are converted to JSON Schema draft 4, the dialect OpenAPI 3.0's Schema Object is an extended
//! subset of (boolean `exclusiveMinimum`, siblings of `$ref` ignored).
//!
//! # What the conversion changes, and why
//!
//! * Annotations are dropped: `example`, `x-*`, `discriminator`, `readOnly`, `writeOnly`, `xml`,
//!   `externalDocs`, `deprecated`. Only JSON Schema keywords are kept, so no vendor keyword can be
//!   misread as a draft-4 one (for example an `id` changing the base URI).
//! * `nullable: true` becomes "or null" (`type: [T, "null"]`, `null` added to an `enum`); without
//!   it, null is refused, as OpenAPI 3.0 says.
//! * `format` is kept for `uuid`, checked strictly (8-4-4-4-12 hex digits), and `date-time`,
//!   which must be an RFC 3339 date-time with its zone (`Z` or an offset): the spec calls these
//!   "zoned" and Cvent's generated SDKs validate them so, refusing a bare local time even where
//!   the spec's own `example` is one. The other formats (`email`, `uri`, `url`, `date`) are
//!   annotations here: Cvent's examples do not always obey them, and no SDK checks them.
//!
//! # Neutralised definition errors (each is Cvent's, and each would fail every correct body)
//!
//! * `required` entries naming a property the schema does not define, neither in its own
//!   `properties` nor in any `allOf`/`anyOf`/`oneOf` member, are dropped. In the April 2026 document
//!   these are `session` (and its `allOf/0`) requiring `"event.id"` — a dotted path, not a
//!   property name, so no object with an `event: {id}` could satisfy it — and `bulk-job` /
//!   `bulk-job-with-data` requiring `name`, `mode`, `ttl`, which are defined nowhere. Schemas whose
//!   `additionalProperties` is itself a schema are left alone: any name is legitimate there.
//!   [`OpenApi::neutralised`] lists every entry dropped.
//! * `oneOf` becomes `anyOf`. Cvent's `oneOf`s (custom-field `details`, bulk item `data`) list
//!   open object alternatives with no required or discriminating property, so any object matches
//!   several of them and "exactly one" can never hold; "at least one" keeps the check meaningful.
//!   `$ref`s into a `oneOf` member (`…/details/oneOf/0`) are rewritten to match.
//!
//! # Beyond validation
//!
//! Cvent's schemas are open (no `additionalProperties: false`), so a misspelt optional field
//! validates. [`OpenApi::undeclared_properties`] lists the members of a body that its schema
//! names nowhere; the conformance tests treat those as mismatches, since a simulator built from
//! this document has no reason to send a field it does not define.

use std::collections::{BTreeSet, HashMap};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Map, Value, json};

/// File name of Cvent's document inside the vendor-specs directory.
pub const SPEC_FILE: &str = "cvent-rest-openapi.yaml";
/// Environment variable naming the directory that holds the vendor specs.
pub const SPEC_DIR_ENV: &str = "EVENTSYNC_VENDOR_SPECS";

/// JSON Schema keywords carried over from an OpenAPI Schema Object unchanged. Everything else
/// except the structural keywords handled in [`convert_schema`] is an annotation and dropped.
const KEPT_KEYWORDS: &[&str] = &[
    "title",
    "description",
    "default",
    "type",
    "enum",
    "required",
    "multipleOf",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "maxProperties",
    "minProperties",
];

/// Where the Cvent document is looked for: `$EVENTSYNC_VENDOR_SPECS/cvent-rest-openapi.yaml` (or
/// `$EVENTSYNC_VENDOR_SPECS/vendor-apis/…`, so the variable may also name `shared/` itself), else
/// `shared/vendor-apis/` beside the project root.
pub fn spec_path() -> PathBuf {
    match std::env::var_os(SPEC_DIR_ENV) {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            let direct = dir.join(SPEC_FILE);
            let nested = dir.join("vendor-apis").join(SPEC_FILE);
            if !direct.exists() && nested.exists() {
                nested
            } else {
                direct
            }
        }
        None => {
            // `<manifest>/../../../shared`, spelt without `..` so the skip message reads well:
            // crates/sandboxes → crates → the project root → the directory holding it.
            let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
            let beside_project = manifest.ancestors().nth(3).unwrap_or(manifest);
            beside_project.join("shared/vendor-apis").join(SPEC_FILE)
        }
    }
}

/// The document, loaded once per test binary; `None` (after saying so) when it is absent, so the
/// calling test can return early and pass. A document that exists but does not load panics.
pub fn spec_or_skip() -> Option<&'static OpenApi> {
    static SPEC: OnceLock<Option<OpenApi>> = OnceLock::new();
    let path = spec_path();
    let spec = SPEC.get_or_init(|| {
        if !path.exists() {
            return None;
        }
        Some(OpenApi::load(&path).unwrap_or_else(|err| panic!("{err}")))
    });
    if spec.is_none() {
        // Written straight to stderr rather than through `eprintln!`, which the test harness
        // captures: a skip should be visible in a normal `cargo test` run.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: Cvent OpenAPI spec not found at {} (set {SPEC_DIR_ENV} or place ../shared \
             beside the project)",
            path.display()
        );
    }
    spec.as_ref()
}

/// Cvent's OpenAPI document, with its schemas converted for validation.
pub struct OpenApi {
    /// The document as written, only re-encoded as JSON.
    document: Value,
    /// `{"components": {"schemas": …}}` with every schema converted and neutralised; the
    /// `$ref`s of converted schemas resolve against it.
    converted: Value,
    /// Every `required` entry dropped, as `"<schema pointer>: <name>"`.
    neutralised: Vec<String>,
    /// Compiled validators by "METHOD path status".
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

impl OpenApi {
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
        Self::from_yaml(&text).map_err(|err| format!("{}: {err}", path.display()))
    }

    pub fn from_yaml(text: &str) -> Result<Self, String> {
        let yaml: serde_yaml::Value =
            serde_yaml::from_str(text).map_err(|err| format!("not YAML: {err}"))?;
        let document = yaml_to_json(yaml)?;
        let schemas = document
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .ok_or("the document has no components.schemas")?;
        let converted_schemas: Map<String, Value> = schemas
            .iter()
            .map(|(name, schema)| (name.clone(), convert_schema(schema)))
            .collect();
        let mut converted = json!({ "components": { "schemas": converted_schemas } });
        // Resolution needs the whole converted set while each schema is edited, so it reads a
        // snapshot; dropping `required` entries never changes which properties are defined.
        let lookup = converted.clone();
        let mut neutralised = Vec::new();
        if let Some(schemas) = converted.pointer_mut("/components/schemas") {
            let schemas = schemas.as_object_mut().expect("built as an object above");
            for (name, schema) in schemas.iter_mut() {
                let at = format!("#/components/schemas/{}", escape_pointer(name));
                drop_undefined_required(schema, &lookup, &at, &mut neutralised);
            }
        }
        Ok(Self {
            document,
            converted,
            neutralised,
            validators: Mutex::new(HashMap::new()),
        })
    }

    /// Every `required` entry the loader dropped as a definition error.
    pub fn neutralised(&self) -> &[String] {
        &self.neutralised
    }

    /// The operation object for `method` on `path_template` (as written in `paths`, e.g.
    /// `/attendees/{id}`).
    pub fn operation(&self, path_template: &str, method: &str) -> Option<&Value> {
        let path_item = self.resolve(self.document.get("paths")?.get(path_template)?)?;
        self.resolve(path_item.get(method.to_ascii_lowercase())?)
    }

    /// The response object the spec declares for `status`: the exact code, else its `NXX`
    /// range, else `default`, with `$ref`s to `components.responses` followed.
    pub fn response(&self, path_template: &str, method: &str, status: u16) -> Option<&Value> {
        let responses = self.operation(path_template, method)?.get("responses")?;
        let declared = responses
            .get(status.to_string())
            .or_else(|| responses.get(format!("{}XX", status / 100)))
            .or_else(|| responses.get("default"))?;
        self.resolve(declared)
    }

    /// The statuses the spec lists for an operation, as written (`"200"`, `"default"`).
    pub fn declared_statuses(&self, path_template: &str, method: &str) -> Vec<String> {
        self.operation(path_template, method)
            .and_then(|operation| operation.get("responses"))
            .and_then(Value::as_object)
            .map(|responses| responses.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The OpenAPI schema of the JSON body the spec declares for this response, as written in
    /// the document (a top-level `$ref` to `components.schemas` is left for the validator to
    /// follow). `None` when the response is undeclared or has no JSON body (a 204).
    pub fn response_schema(&self, path_template: &str, method: &str, status: u16) -> Option<Value> {
        let response = self.response(path_template, method, status)?;
        let schema = json_media(response.get("content")?)?.get("schema")?;
        Some(schema.clone())
    }

    /// The OpenAPI schema of the operation's JSON request body, as written in the document.
    pub fn request_schema(&self, path_template: &str, method: &str) -> Option<Value> {
        let body = self.resolve(self.operation(path_template, method)?.get("requestBody")?)?;
        let schema = json_media(body.get("content")?)?.get("schema")?;
        Some(schema.clone())
    }

    /// Checks `body` against the schema declared for (path, method, status). Each error names
    /// the JSON pointer of the offending value in `body` and the schema keyword it broke.
    pub fn validate(
        &self,
        path_template: &str,
        method: &str,
        status: u16,
        body: &Value,
    ) -> Result<(), Vec<String>> {
        let validator = self
            .validator(path_template, method, status)
            .map_err(|err| vec![err])?;
        self.check(&validator, body)
    }

    /// The compiled validator for the JSON body declared for (path, method, status), built once.
    pub fn validator(
        &self,
        path_template: &str,
        method: &str,
        status: u16,
    ) -> Result<Arc<jsonschema::Validator>, String> {
        let method = method.to_ascii_uppercase();
        let key = format!("{method} {path_template} {status}");
        let mut cache = self.validators.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(validator) = cache.get(&key) {
            return Ok(Arc::clone(validator));
        }
        let Some(schema) = self.response_schema(path_template, &method, status) else {
            let declared = self.declared_statuses(path_template, &method);
            return Err(format!(
                "the spec declares no JSON body for {key} (declared statuses: {})",
                if declared.is_empty() {
                    "none; is the path template right?".to_owned()
                } else {
                    declared.join(", ")
                }
            ));
        };
        let validator = Arc::new(self.compile(&schema)?);
        cache.insert(key, Arc::clone(&validator));
        Ok(validator)
    }

    /// Every (path template, method, status) whose response the spec gives a JSON body.
    pub fn json_responses(&self) -> Vec<(String, String, u16)> {
        let mut found = Vec::new();
        let paths = self.document.get("paths").and_then(Value::as_object);
        for (path, item) in paths.into_iter().flatten() {
            let Some(item) = self.resolve(item).and_then(Value::as_object) else {
                continue;
            };
            for method in item.keys() {
                for status in self.declared_statuses(path, method) {
                    let Ok(status) = status.parse::<u16>() else {
                        continue;
                    };
                    if self.response_schema(path, method, status).is_some() {
                        found.push((path.clone(), method.to_ascii_uppercase(), status));
                    }
                }
            }
        }
        found
    }

    /// Whether `components.schemas.<schema>` defines `property`, in its own `properties` or
    /// through its `allOf`/`anyOf` members.
    pub fn defines_property(&self, schema: &str, property: &str) -> bool {
        let pointer = format!("/components/schemas/{}", escape_pointer(schema));
        self.converted
            .pointer(&pointer)
            .and_then(|schema| defined_properties(schema, &self.converted, 0))
            .is_some_and(|names| names.contains(property))
    }

    /// The JSON pointers of object members in `body` that the declared schema does not name
    /// anywhere (its `properties`, or those of its `allOf`/`anyOf`/`oneOf` members). Cvent's
    /// schemas are open, so these are not validation errors, but in a simulator each is a field
    /// Cvent does not document — often a misspelling of one it does.
    pub fn undeclared_properties(
        &self,
        path_template: &str,
        method: &str,
        status: u16,
        body: &Value,
    ) -> Vec<String> {
        let Some(schema) = self.response_schema(path_template, method, status) else {
            return Vec::new();
        };
        let mut found = Vec::new();
        self.collect_undeclared(&convert_schema(&schema), body, "", 0, &mut found);
        // A member declared by two `anyOf` alternatives is visited twice.
        found.sort();
        found.dedup();
        found
    }

    fn collect_undeclared(
        &self,
        schema: &Value,
        instance: &Value,
        at: &str,
        depth: usize,
        found: &mut Vec<String>,
    ) {
        if depth > 64 {
            return;
        }
        // Every schema `instance` must satisfy here: `schema` and, through `$ref`s, the members
        // of its `allOf`/`anyOf` (an `anyOf` member counts as declaring, to stay lenient).
        let mut members = Vec::new();
        self.flatten(schema, 0, &mut members);
        match instance {
            Value::Object(object) => {
                for (name, value) in object {
                    let at = format!("{at}/{}", escape_pointer(name));
                    let declaring: Vec<&Value> = members
                        .iter()
                        .filter_map(|member| member.get("properties")?.get(name))
                        .collect();
                    let open: Vec<&Value> = members
                        .iter()
                        .filter_map(|member| member.get("additionalProperties"))
                        .filter(|extra| extra.is_object() || **extra == Value::Bool(true))
                        .collect();
                    if declaring.is_empty() && open.is_empty() {
                        found.push(at);
                        continue;
                    }
                    for sub in declaring.into_iter().chain(open).filter(|s| s.is_object()) {
                        self.collect_undeclared(sub, value, &at, depth + 1, found);
                    }
                }
            }
            Value::Array(items) => {
                for member in &members {
                    if let Some(item_schema) = member.get("items") {
                        for (index, item) in items.iter().enumerate() {
                            let at = format!("{at}/{index}");
                            self.collect_undeclared(item_schema, item, &at, depth + 1, found);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// `schema` with its `$ref`s followed and its `allOf`/`anyOf` members spread out.
    fn flatten<'a>(&'a self, schema: &'a Value, depth: usize, out: &mut Vec<&'a Value>) {
        if depth > 32 {
            return;
        }
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let target = reference
                .strip_prefix('#')
                .and_then(|pointer| self.converted.pointer(pointer));
            if let Some(target) = target {
                self.flatten(target, depth + 1, out);
            }
            return;
        }
        out.push(schema);
        for keyword in ["allOf", "anyOf"] {
            for member in schema
                .get(keyword)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                self.flatten(member, depth + 1, out);
            }
        }
    }

    /// Checks `instance` against an OpenAPI schema taken from this document (for example a
    /// [`request_schema`](Self::request_schema)).
    pub fn validate_against(&self, schema: &Value, instance: &Value) -> Result<(), Vec<String>> {
        self.check(&self.compile(schema).map_err(|err| vec![err])?, instance)
    }

    fn check(
        &self,
        validator: &jsonschema::Validator,
        instance: &Value,
    ) -> Result<(), Vec<String>> {
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|error| {
                let pointer = error.instance_path().as_str();
                let pointer = if pointer.is_empty() {
                    "(root)"
                } else {
                    pointer
                };
                // The keyword's place in the document (`#/components/schemas/attendee/…`), with
                // the `/allOf/0` that `compile` wraps around an inline schema taken off.
                let keyword = error.schema_path().as_str();
                let keyword = keyword.strip_prefix("/allOf/0").unwrap_or(keyword);
                // The crate shortens long enums ("or 6 other candidates"); the report should
                // say exactly what the spec allows.
                let allowed = match self.converted.pointer(keyword) {
                    Some(Value::Array(values)) if keyword.ends_with("/enum") => format!(
                        " (allowed: {})",
                        values
                            .iter()
                            .map(Value::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    _ => String::new(),
                };
                format!("{pointer}: {error}{allowed} [schema #{keyword}]")
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Builds a draft-4 validator for one OpenAPI schema, embedded in a document that carries the
    /// converted components so that its `#/components/schemas/…` references resolve.
    fn compile(&self, schema: &Value) -> Result<jsonschema::Validator, String> {
        let mut schema = convert_schema(schema);
        // An inline response schema can have definition errors too; what it drops is not
        // recorded in `neutralised`, which describes the shared components.
        drop_undefined_required(&mut schema, &self.converted, "#", &mut Vec::new());
        let root = json!({
            "allOf": [schema],
            "components": self.converted["components"],
        });
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .should_validate_formats(true)
            .with_format("uuid", is_uuid)
            .with_format("date-time", is_zoned_date_time)
            .build(&root)
            .map_err(|err| format!("the schema does not compile: {err}"))
    }

    /// Follows `$ref` chains inside the raw document.
    fn resolve<'a>(&'a self, mut value: &'a Value) -> Option<&'a Value> {
        for _ in 0..32 {
            match value.get("$ref").and_then(Value::as_str) {
                Some(reference) => value = self.document.pointer(reference.strip_prefix('#')?)?,
                None => return Some(value),
            }
        }
        None
    }
}

/// The `application/json` entry of a `content` map (or a `+json` / parameterised variant).
fn json_media(content: &Value) -> Option<&Value> {
    let content = content.as_object()?;
    content.get("application/json").or_else(|| {
        content.iter().find_map(|(media, value)| {
            let essence = media.split(';').next().unwrap_or_default().trim();
            (essence == "application/json" || essence.ends_with("+json")).then_some(value)
        })
    })
}

/// A strict UUID: 8-4-4-4-12 hexadecimal digits, as Cvent writes identifiers.
pub fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(index, ch)| match index {
            8 | 13 | 18 | 23 => ch == '-',
            _ => ch.is_ascii_hexdigit(),
        })
}

/// An RFC 3339 date-time with its zone (`2023-05-19T00:00:00Z`, `…+02:00`), as Cvent's SDKs
/// require of `format: date-time`; a local time without zone is refused.
pub fn is_zoned_date_time(text: &str) -> bool {
    text.as_bytes().get(10).is_some_and(|b| *b == b'T')
        && chrono::DateTime::parse_from_rfc3339(text).is_ok()
}

/// Converts one OpenAPI 3.0 Schema Object into JSON Schema draft 4 (see the module docs).
pub fn convert_schema(schema: &Value) -> Value {
    let Some(object) = schema.as_object() else {
        // `true`/`false` only occur as `additionalProperties`, where draft 4 allows them.
        return schema.clone();
    };
    if let Some(reference) = object.get("$ref") {
        // OpenAPI 3.0 ignores the siblings of `$ref`. Cvent points into the members of a
        // `oneOf` (`…/details/oneOf/0`), which the conversion renames `anyOf` with the same
        // indices (no schema here has both, the only case where they would shift).
        let reference = reference
            .as_str()
            .map(|reference| Value::String(reference.replace("/oneOf/", "/anyOf/")))
            .unwrap_or_else(|| reference.clone());
        return json!({ "$ref": reference });
    }
    let mut out = Map::new();
    let mut all_of = Vec::new();
    let mut any_of_groups: Vec<Vec<Value>> = Vec::new();
    for (keyword, value) in object {
        match keyword.as_str() {
            "properties" => {
                let properties = value
                    .as_object()
                    .map(|properties| {
                        properties
                            .iter()
                            .map(|(name, schema)| (name.clone(), convert_schema(schema)))
                            .collect::<Map<_, _>>()
                    })
                    .unwrap_or_default();
                out.insert(keyword.clone(), Value::Object(properties));
            }
            "items" | "not" | "additionalProperties" => {
                out.insert(keyword.clone(), convert_schema(value));
            }
            "allOf" | "anyOf" | "oneOf" => {
                let members: Vec<Value> = value
                    .as_array()
                    .map(|members| members.iter().map(convert_schema).collect())
                    .unwrap_or_default();
                if keyword == "allOf" {
                    all_of.extend(members);
                } else {
                    // `oneOf` → `anyOf`: see "Neutralised definition errors" in the module docs.
                    any_of_groups.push(members);
                }
            }
            "format" if value == "uuid" || value == "date-time" => {
                out.insert(keyword.clone(), value.clone());
            }
            kept if KEPT_KEYWORDS.contains(&kept) => {
                out.insert(keyword.clone(), value.clone());
            }
            // `example`, `x-*`, `discriminator`, `readOnly`, `writeOnly`, `xml`,
            // `externalDocs`, `deprecated`, `nullable` (applied below), unchecked formats.
            _ => {}
        }
    }
    // A schema with both `anyOf` and (converted) `oneOf` must satisfy each group: the first
    // stays `anyOf`, the others become conjuncts.
    let mut any_of_groups = any_of_groups.into_iter();
    if let Some(first) = any_of_groups.next() {
        out.insert("anyOf".into(), Value::Array(first));
    }
    all_of.extend(any_of_groups.map(|group| json!({ "anyOf": group })));
    if !all_of.is_empty() {
        out.insert("allOf".into(), Value::Array(all_of));
    }
    if object.get("nullable") == Some(&Value::Bool(true)) {
        allow_null(out)
    } else {
        Value::Object(out)
    }
}

/// Applies OpenAPI's `nullable: true` to an already converted schema.
fn allow_null(mut schema: Map<String, Value>) -> Value {
    if let Some(Value::Array(values)) = schema.get_mut("enum")
        && !values.contains(&Value::Null)
    {
        values.push(Value::Null);
    }
    match schema.get_mut("type") {
        Some(Value::String(single)) => {
            let single = std::mem::take(single);
            schema.insert("type".into(), json!([single, "null"]));
            Value::Object(schema)
        }
        Some(Value::Array(types)) => {
            if !types.contains(&json!("null")) {
                types.push(json!("null"));
            }
            Value::Object(schema)
        }
        // No `type` to widen (an `allOf` of references, say): null or the schema itself.
        _ => json!({ "anyOf": [{ "type": "null" }, Value::Object(schema)] }),
    }
}

/// Drops, in `schema` and every schema nested in it, the `required` entries that name no
/// property the schema defines (see the module docs), recording each as `"<pointer>: <name>"`.
fn drop_undefined_required(
    schema: &mut Value,
    lookup: &Value,
    at: &str,
    dropped: &mut Vec<String>,
) {
    let Some(object) = schema.as_object() else {
        return;
    };
    if object.contains_key("$ref") {
        return;
    }
    if let Some(defined) = defined_properties(schema, lookup, 0)
        && let Some(Value::Array(required)) = schema.get_mut("required")
    {
        required.retain(|name| {
            let keep = name.as_str().is_none_or(|name| defined.contains(name));
            if !keep {
                dropped.push(format!("{at}: {name}"));
            }
            keep
        });
        if required.is_empty()
            && let Some(object) = schema.as_object_mut()
        {
            // Draft 4 requires a non-empty `required` array.
            object.remove("required");
        }
    }
    let object = schema.as_object_mut().expect("checked above");
    for (keyword, value) in object.iter_mut() {
        match keyword.as_str() {
            "properties" => {
                if let Some(properties) = value.as_object_mut() {
                    for (name, property) in properties.iter_mut() {
                        let at = format!("{at}/properties/{}", escape_pointer(name));
                        drop_undefined_required(property, lookup, &at, dropped);
                    }
                }
            }
            "items" | "not" | "additionalProperties" => {
                drop_undefined_required(value, lookup, &format!("{at}/{keyword}"), dropped);
            }
            "allOf" | "anyOf" => {
                if let Some(members) = value.as_array_mut() {
                    for (index, member) in members.iter_mut().enumerate() {
                        let at = format!("{at}/{keyword}/{index}");
                        drop_undefined_required(member, lookup, &at, dropped);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The property names a converted schema defines, through its own `properties` and its
/// `allOf`/`anyOf` members (following `$ref`s in `lookup`). `None` when that cannot be said: an
/// `additionalProperties` schema (a map, where any name is legitimate) or an unresolvable `$ref`.
fn defined_properties(schema: &Value, lookup: &Value, depth: usize) -> Option<BTreeSet<String>> {
    if depth > 32 {
        return None;
    }
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let target = lookup.pointer(reference.strip_prefix('#')?)?;
        return defined_properties(target, lookup, depth + 1);
    }
    if schema
        .get("additionalProperties")
        .is_some_and(Value::is_object)
    {
        return None;
    }
    let mut names: BTreeSet<String> = schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|properties| properties.keys().cloned().collect())
        .unwrap_or_default();
    for keyword in ["allOf", "anyOf"] {
        for member in schema
            .get(keyword)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            names.extend(defined_properties(member, lookup, depth + 1)?);
        }
    }
    Some(names)
}

/// Escapes a name for use as one JSON-pointer segment.
fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Re-encodes YAML as JSON. Mapping keys become strings (YAML allows `200:` unquoted).
fn yaml_to_json(yaml: serde_yaml::Value) -> Result<Value, String> {
    Ok(match yaml {
        serde_yaml::Value::Null => Value::Null,
        serde_yaml::Value::Bool(value) => Value::Bool(value),
        serde_yaml::Value::Number(number) => {
            if let Some(value) = number.as_i64() {
                json!(value)
            } else if let Some(value) = number.as_u64() {
                json!(value)
            } else {
                let value = number.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(value)
                    .map(Value::Number)
                    .ok_or_else(|| format!("{value} has no JSON form"))?
            }
        }
        serde_yaml::Value::String(value) => Value::String(value),
        serde_yaml::Value::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(yaml_to_json)
                .collect::<Result<_, _>>()?,
        ),
        serde_yaml::Value::Mapping(mapping) => {
            let mut object = Map::new();
            for (key, value) in mapping {
                let key = match key {
                    serde_yaml::Value::String(key) => key,
                    serde_yaml::Value::Number(number) => number.to_string(),
                    serde_yaml::Value::Bool(value) => value.to_string(),
                    other => return Err(format!("unsupported mapping key {other:?}")),
                };
                object.insert(key, yaml_to_json(value)?);
            }
            Value::Object(object)
        }
        serde_yaml::Value::Tagged(tagged) => yaml_to_json(tagged.value)?,
    })
}

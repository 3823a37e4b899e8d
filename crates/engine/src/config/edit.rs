//! Edits of `eventsync.toml` made from outside the file (the REST API, `eventsync secrets
//! rotate`): add, replace or remove a connection, set one data type's settings, and seal every
//! stored secret under a new key.
//!
//! Every edit goes through `toml_edit`, so the rest of the file — comments, layout, other
//! connections, `[smtp]` — stays as it was, and a key that is replaced keeps the comment beside
//! it. The edited text is written to a temporary file beside the configuration and loaded with
//! the normal loader; only if that succeeds does it replace the file (a rename, so the file is
//! always whole). A refused edit returns the loader's error and leaves the file untouched.
//! Edits in one process run one at a time, so two requests never lose each other's change.
//!
//! Secrets are write-only here: a value set for one of a kind's secret fields is stored
//! encrypted (`config::secrets`), unless it is a `${NAME}` reference, which holds no secret;
//! the views this module gives never carry them, only whether each is set.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value as Json, json};
use toml_edit::{ArrayOfTables, DocumentMut, InlineTable, Item, Table, TableLike, Value};

use super::secrets::{self, SecretKey};
use super::{Config, ConfigError};

/// Why an edit was not made. The file is unchanged in every case.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EditError {
    /// The edit would make a configuration the loader refuses (its error), or the request
    /// itself is malformed.
    #[error("{0}")]
    Invalid(ConfigError),
    #[error("no connection named '{0}' in the configuration")]
    NotFound(String),
    #[error("a connection named '{0}' exists already: edit it, or choose another name")]
    Exists(String),
    /// A secret was given but no key to encrypt it with is configured.
    #[error("{0}")]
    NoKey(String),
    /// The configuration file could not be read or written.
    #[error("{0}")]
    File(String),
}

impl From<ConfigError> for EditError {
    fn from(error: ConfigError) -> Self {
        EditError::Invalid(error)
    }
}

/// Held while a file is read, edited and replaced.
static EDITS: Mutex<()> = Mutex::new(());

/// Adds a connection; `settings` are its keys as in `[[connections]]` (`name`, `kind`, the
/// kind's fields, `data_types`, `data`, `imis`…). Returns the configuration as loaded.
pub fn add_connection(
    path: &Path,
    settings: &Map<String, Json>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, EditError> {
    let _guard = EDITS.lock().unwrap_or_else(|p| p.into_inner());
    let mut document = read(path)?;
    let name = required_text(settings, "name")?;
    let kind = required_text(settings, "kind")?;
    if connection_index(&document, &name).is_some() {
        return Err(EditError::Exists(name));
    }
    let mut table = Table::new();
    set_keys(&mut table, settings, &kind, &[], env)?;
    match document
        .entry("connections")
        .or_insert_with(|| Item::ArrayOfTables(ArrayOfTables::new()))
    {
        Item::ArrayOfTables(connections) => connections.push(table),
        _ => return Err(not_an_array_of_tables()),
    }
    commit(path, &document.to_string(), env)
}

/// Replaces a connection's settings with `settings`: keys not given are removed, except its
/// secrets (kept unless given; `null` removes one) and `data` (kept unless given).
pub fn replace_connection(
    path: &Path,
    name: &str,
    settings: &Map<String, Json>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, EditError> {
    let _guard = EDITS.lock().unwrap_or_else(|p| p.into_inner());
    let mut document = read(path)?;
    if let Some(given) = settings.get("name")
        && given.as_str() != Some(name)
    {
        return Err(EditError::Invalid(ConfigError(format!(
            "name: a connection keeps its name ('{name}'); add a new connection instead"
        ))));
    }
    let table = connection_mut(&mut document, name)?;
    let kind = match settings.get("kind") {
        Some(kind) => kind
            .as_str()
            .ok_or_else(|| invalid("kind: give the kind as text"))?
            .to_string(),
        None => table
            .get("kind")
            .and_then(Item::as_str)
            .unwrap_or_default()
            .to_string(),
    };
    let secret_fields = super::secret_fields(&kind);
    let kept: Vec<String> = table
        .iter()
        .map(|(key, _)| key.to_string())
        .filter(|key| {
            !settings.contains_key(key)
                && !["name", "data"].contains(&key.as_str())
                && !secret_fields.contains(&key.as_str())
        })
        .collect();
    for key in kept {
        table.remove(&key);
    }
    let mut settings = settings.clone();
    settings.insert("name".into(), json!(name));
    set_keys(table, &settings, &kind, &[], env)?;
    commit(path, &document.to_string(), env)
}

/// Removes a connection.
pub fn remove_connection(
    path: &Path,
    name: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, EditError> {
    let _guard = EDITS.lock().unwrap_or_else(|p| p.into_inner());
    let mut document = read(path)?;
    let index =
        connection_index(&document, name).ok_or_else(|| EditError::NotFound(name.to_string()))?;
    if let Some(Item::ArrayOfTables(connections)) = document.get_mut("connections") {
        connections.remove(index);
    }
    commit(path, &document.to_string(), env)
}

/// Replaces `[connections.data.<data_type>]` of a connection with `settings` (`statuses`,
/// `filters`, `mapping`, `labels`, `remove_outdated`, `subscribers`, the guest switches).
pub fn set_data(
    path: &Path,
    name: &str,
    data_type: &str,
    settings: &Map<String, Json>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, EditError> {
    let _guard = EDITS.lock().unwrap_or_else(|p| p.into_inner());
    let mut document = read(path)?;
    let connection = connection_mut(&mut document, name)?;
    let data = connection.entry("data").or_insert_with(|| {
        let mut data = Table::new();
        data.set_implicit(true);
        Item::Table(data)
    });
    let inline = data.is_inline_table();
    let data = data
        .as_table_like_mut()
        .ok_or_else(|| invalid("data: must be a table"))?;
    if data.get(data_type).is_none() {
        data.insert(
            data_type,
            if inline {
                Item::Value(Value::InlineTable(InlineTable::new()))
            } else {
                Item::Table(Table::new())
            },
        );
    }
    let table = data
        .get_mut(data_type)
        .and_then(Item::as_table_like_mut)
        .ok_or_else(|| invalid(&format!("data.{data_type}: must be a table")))?;
    let stale: Vec<String> = table
        .iter()
        .map(|(key, _)| key.to_string())
        .filter(|key| !settings.contains_key(key))
        .collect();
    for key in stale {
        table.remove(&key);
    }
    set_keys(table, settings, "", &[], env)?;
    commit(path, &document.to_string(), env)
}

/// A connection's settings as the file has them (`${NAME}` references unexpanded), each secret
/// shown only as `{"set": true}` or `{"set": false}`.
pub fn connection_view(path: &Path, name: &str) -> Result<Json, EditError> {
    let connection = file_connection(path, name)?;
    let kind = connection
        .get("kind")
        .and_then(toml::Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut view = Map::new();
    for (key, value) in connection {
        view.insert(key, serde_json::to_value(value).unwrap_or(Json::Null));
    }
    for field in super::secret_fields(&kind) {
        let set = view.contains_key(*field);
        if set || !field.ends_with("_file") {
            view.insert(field.to_string(), json!({ "set": set }));
        }
    }
    // An unset secret given by file instead is not "unset".
    for field in super::secret_fields(&kind) {
        if let Some(base) = field.strip_suffix("_file")
            && view.get(*field).is_some_and(|v| v["set"] == true)
        {
            view.remove(base);
        }
    }
    Ok(Json::Object(view))
}

/// `[connections.data.<data_type>]` as the file has it; `{}` when the file gives none.
pub fn data_view(path: &Path, name: &str, data_type: &str) -> Result<Json, EditError> {
    let connection = file_connection(path, name)?;
    let data = connection
        .get("data")
        .and_then(|data| data.get(data_type))
        .cloned()
        .unwrap_or_else(|| toml::Value::Table(toml::Table::new()));
    Ok(serde_json::to_value(data).unwrap_or_else(|_| json!({})))
}

/// Seals every encrypted secret of the file again under `new`, opening each with the key
/// `env` names; returns how many there were and the configuration as loaded with the new key.
pub fn rotate(
    path: &Path,
    new: &SecretKey,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(usize, Config), EditError> {
    let _guard = EDITS.lock().unwrap_or_else(|p| p.into_inner());
    let mut document = read(path)?;
    let mut sealed = Vec::new();
    collect_sealed(document.as_item_mut(), "", &mut sealed);
    let old = match sealed.is_empty() {
        true => None,
        false => SecretKey::from_env(env)?,
    };
    let mut count = 0;
    for (setting, value) in sealed {
        let old = old.as_ref().ok_or_else(|| {
            EditError::NoKey(format!(
                "{setting} is encrypted, but no secret key is configured to open it: set {} or {} to the current key",
                secrets::KEY_VARIABLE,
                secrets::KEY_FILE_VARIABLE
            ))
        })?;
        let plain = old.open(value.as_str().unwrap_or_default()).ok_or_else(|| {
            EditError::NoKey(format!(
                "{setting} cannot be decrypted with the configured key ({} or {}): it was encrypted with another one",
                secrets::KEY_VARIABLE,
                secrets::KEY_FILE_VARIABLE
            ))
        })?;
        let decor = value.decor().clone();
        *value = Value::from(new.seal(&plain));
        *value.decor_mut() = decor;
        count += 1;
    }
    let new_text = new.to_base64();
    let with_new_key = move |name: &str| match name {
        secrets::KEY_VARIABLE => Some(new_text.clone()),
        secrets::KEY_FILE_VARIABLE => None,
        other => env(other),
    };
    let config = commit(path, &document.to_string(), &with_new_key)?;
    Ok((count, config))
}

/// Every string value of the document that is sealed, with the place it is at.
fn collect_sealed<'d>(item: &'d mut Item, at: &str, found: &mut Vec<(String, &'d mut Value)>) {
    match item {
        Item::Value(value) => collect_in_value(value, at, found),
        Item::Table(table) => {
            for (key, item) in table.iter_mut() {
                collect_sealed(item, &join(at, &key), found);
            }
        }
        Item::ArrayOfTables(tables) => {
            for (index, table) in tables.iter_mut().enumerate() {
                let name = table
                    .get("name")
                    .and_then(Item::as_str)
                    .map(|name| format!("{at}['{name}']"))
                    .unwrap_or_else(|| format!("{at}[{index}]"));
                for (key, item) in table.iter_mut() {
                    collect_sealed(item, &join(&name, &key), found);
                }
            }
        }
        Item::None => {}
    }
}

fn collect_in_value<'d>(value: &'d mut Value, at: &str, found: &mut Vec<(String, &'d mut Value)>) {
    match value {
        Value::String(text) if secrets::is_sealed(text.value()) => {
            found.push((at.to_string(), value));
        }
        Value::Array(array) => {
            for (index, value) in array.iter_mut().enumerate() {
                collect_in_value(value, &format!("{at}[{index}]"), found);
            }
        }
        Value::InlineTable(table) => {
            for (key, value) in table.iter_mut() {
                collect_in_value(value, &join(at, &key), found);
            }
        }
        _ => {}
    }
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}

fn invalid(message: &str) -> EditError {
    EditError::Invalid(ConfigError(message.to_string()))
}

fn not_an_array_of_tables() -> EditError {
    invalid("eventsync.toml: connections must be written as [[connections]] tables to be edited")
}

fn required_text(settings: &Map<String, Json>, key: &str) -> Result<String, EditError> {
    settings
        .get(key)
        .and_then(Json::as_str)
        .filter(|text| !text.trim().is_empty())
        .map(str::to_string)
        .ok_or_else(|| invalid(&format!("{key}: required, as text")))
}

fn read(path: &Path) -> Result<DocumentMut, EditError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| EditError::File(format!("cannot read {}: {e}", path.display())))?;
    text.parse()
        .map_err(|e| EditError::Invalid(ConfigError(format!("{}: {e}", path.display()))))
}

fn connection_index(document: &DocumentMut, name: &str) -> Option<usize> {
    document
        .get("connections")
        .and_then(Item::as_array_of_tables)?
        .iter()
        .position(|table| table.get("name").and_then(Item::as_str) == Some(name))
}

fn connection_mut<'d>(
    document: &'d mut DocumentMut,
    name: &str,
) -> Result<&'d mut Table, EditError> {
    let index =
        connection_index(document, name).ok_or_else(|| EditError::NotFound(name.to_string()))?;
    document
        .get_mut("connections")
        .and_then(Item::as_array_of_tables_mut)
        .and_then(|connections| connections.get_mut(index))
        .ok_or_else(|| EditError::NotFound(name.to_string()))
}

/// The connection's table as plain TOML values.
fn file_connection(path: &Path, name: &str) -> Result<toml::Table, EditError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| EditError::File(format!("cannot read {}: {e}", path.display())))?;
    let file: toml::Table = toml::from_str(&text)
        .map_err(|e| EditError::Invalid(ConfigError(format!("{}: {e}", path.display()))))?;
    file.get("connections")
        .and_then(toml::Value::as_array)
        .and_then(|connections| {
            connections.iter().find_map(|c| {
                let table = c.as_table()?;
                (table.get("name").and_then(toml::Value::as_str) == Some(name))
                    .then(|| table.clone())
            })
        })
        .ok_or_else(|| EditError::NotFound(name.to_string()))
}

/// Sets `settings` on `table`, sealing the secret fields of `kind`; a key that already exists
/// keeps its comment. `null` removes a key.
fn set_keys(
    table: &mut dyn TableLike,
    settings: &Map<String, Json>,
    kind: &str,
    at: &[&str],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), EditError> {
    let secret_fields = super::secret_fields(kind);
    let mut key_for_secrets: Option<SecretKey> = None;
    // A connection reads best with its name and kind first, as the README writes them.
    let first = ["name", "kind"];
    let ordered = first
        .iter()
        .filter_map(|key| settings.get_key_value(*key))
        .chain(
            settings
                .iter()
                .filter(|(key, _)| !first.contains(&key.as_str())),
        );
    for (key, value) in ordered {
        let place = at
            .iter()
            .copied()
            .chain([key.as_str()])
            .collect::<Vec<_>>()
            .join(".");
        if value.is_null() {
            table.remove(key);
            continue;
        }
        if secret_fields.contains(&key.as_str()) {
            // One of `x` and `x_file`: setting one drops the other.
            let other = match key.strip_suffix("_file") {
                Some(base) => base.to_string(),
                None => format!("{key}_file"),
            };
            if !settings.contains_key(&other) {
                table.remove(&other);
            }
        }
        let item = if secret_fields.contains(&key.as_str()) && !key.ends_with("_file") {
            let text = value
                .as_str()
                .ok_or_else(|| invalid(&format!("{place}: give the secret as text")))?;
            let stored = if is_reference(text) || secrets::is_sealed(text) {
                text.to_string()
            } else {
                if key_for_secrets.is_none() {
                    key_for_secrets = Some(SecretKey::from_env(env)?.ok_or_else(|| {
                        EditError::NoKey(format!(
                            "{place}: secrets set here are stored encrypted, and no secret key is configured: set {} (32 bytes, base64) or {} for the server",
                            secrets::KEY_VARIABLE,
                            secrets::KEY_FILE_VARIABLE
                        ))
                    })?);
                }
                key_for_secrets
                    .as_ref()
                    .map(|k| k.seal(text))
                    .unwrap_or_default()
            };
            Item::Value(Value::from(stored))
        } else if at.is_empty() && (key == "data" || key == "imis") {
            let Json::Object(fields) = value else {
                return Err(invalid(&format!(
                    "{place}: must be a table (a JSON object)"
                )));
            };
            let mut sub = Table::new();
            if key == "data" {
                sub.set_implicit(true);
                for (data_type, settings) in fields {
                    let Json::Object(settings) = settings else {
                        return Err(invalid(&format!(
                            "data.{data_type}: must be a table (a JSON object)"
                        )));
                    };
                    let mut data_table = Table::new();
                    set_keys(&mut data_table, settings, "", &["data", data_type], env)?;
                    sub.insert(data_type, Item::Table(data_table));
                }
            } else {
                set_keys(&mut sub, fields, "", &["imis"], env)?;
            }
            Item::Table(sub)
        } else {
            Item::Value(to_value(value, &place)?)
        };
        match (table.get_mut(key), item) {
            (Some(Item::Value(old)), Item::Value(mut new)) => {
                *new.decor_mut() = old.decor().clone();
                *old = new;
            }
            (_, item) => {
                table.insert(key, item);
            }
        }
    }
    Ok(())
}

/// `${NAME}` alone: a reference to the environment, which holds no secret itself.
fn is_reference(text: &str) -> bool {
    text.strip_prefix("${")
        .and_then(|rest| rest.strip_suffix('}'))
        .is_some_and(|name| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// A JSON value as a TOML one; lists of tables are written one table a line.
fn to_value(value: &Json, place: &str) -> Result<Value, EditError> {
    Ok(match value {
        Json::Null => return Err(invalid(&format!("{place}: TOML has no null"))),
        Json::Bool(flag) => Value::from(*flag),
        Json::Number(number) => match (number.as_i64(), number.as_f64()) {
            (Some(integer), _) => Value::from(integer),
            (None, Some(float)) => Value::from(float),
            _ => return Err(invalid(&format!("{place}: {number} is too large"))),
        },
        Json::String(text) => Value::from(text.as_str()),
        Json::Array(items) => {
            let mut array = toml_edit::Array::new();
            let tables = items.iter().any(Json::is_object);
            for (index, item) in items.iter().enumerate() {
                let value = to_value(item, &format!("{place}[{index}]"))?;
                if tables {
                    array.push_formatted(value.decorated("\n    ", ""));
                } else {
                    array.push(value);
                }
            }
            if tables {
                array.set_trailing("\n");
                array.set_trailing_comma(true);
            }
            Value::Array(array)
        }
        Json::Object(fields) => {
            let mut table = InlineTable::new();
            for (key, item) in fields {
                if item.is_null() {
                    continue;
                }
                table.insert(key, to_value(item, &format!("{place}.{key}"))?);
            }
            Value::InlineTable(table)
        }
    })
}

/// Loads `text` as the configuration at `path` would be loaded, from a temporary file beside
/// it, and only then puts it in place.
fn commit(
    path: &Path,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, EditError> {
    static EDIT_NUMBER: AtomicU64 = AtomicU64::new(0);
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().to_string())
        .unwrap_or_else(|| "eventsync.toml".to_string());
    let temporary: PathBuf = path.with_file_name(format!(
        ".{file_name}.{}.{}.edit",
        std::process::id(),
        EDIT_NUMBER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&temporary, text)
        .map_err(|e| EditError::File(format!("cannot write {}: {e}", temporary.display())))?;
    if let Ok(metadata) = std::fs::metadata(path) {
        // A file naming secrets is often readable by its owner only: the new one is too.
        let _ = std::fs::set_permissions(&temporary, metadata.permissions());
    }
    let loaded = Config::load_with(&temporary, env).map_err(|error| {
        let _ = std::fs::remove_file(&temporary);
        EditError::Invalid(ConfigError(error.0.replace(
            &temporary.display().to_string(),
            &path.display().to_string(),
        )))
    })?;
    std::fs::rename(&temporary, path).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        EditError::File(format!("cannot replace {}: {e}", path.display()))
    })?;
    Ok(Config {
        path: path.to_path_buf(),
        ..loaded
    })
}

#[cfg(test)]
mod tests;

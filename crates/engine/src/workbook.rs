//! One connection's configuration as an XLSX workbook (`eventsync config export --xlsx` and
//! `eventsync config import --xlsx`): a `connection` sheet with the vendor settings other than
//! secrets, and one sheet per data type the connection's kind can sync, holding its switches
//! (synced, statuses, remove_outdated, subscribers, and the guest switches of session
//! registrations), its mapping, filters and labels. The travel switches (`flights`,
//! `hotel_requests`) are connection settings.
//!
//! A workbook holds the *effective* configuration — the connector's default mapping and the
//! vendor's default statuses written out where eventsync.toml gives none — so that a user sees
//! what a run does and can edit it. An import compares effective with effective: an unmodified
//! export changes nothing, and only what differs is written back, through `toml_edit`, so the
//! file's comments and layout, its secrets and everything a workbook does not hold (`database`,
//! `[smtp]`, other connections) stay as they were. The rewritten file is validated exactly as
//! `eventsync.toml` is on load before anything is written.
//!
//! Secrets (`client_secret`, `password`, `key` and their `_file` forms) are never written, not
//! even as `${NAME}` references or file paths, and a workbook that holds one is refused. Other
//! settings are written as eventsync.toml has them, with `${NAME}` references unexpanded.

mod apply;
mod changes;
mod read;
mod write;

use std::path::{Path, PathBuf};

use pipeline::rules::guests::GuestOptions;
use pipeline::rules::labels::Label;
use pipeline::{DataType, Filter, Mapping, StatusSelection};

use crate::config::{Config, ConfigError, Connection, DataConfig, SYNC_ORDER};

pub use changes::Change;

/// The name of the sheet with the connection's own settings.
pub const CONNECTION_SHEET: &str = "connection";

/// One connection's configuration as a workbook holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionBook {
    pub name: String,
    pub kind: String,
    /// The vendor settings other than secrets, as eventsync.toml writes them.
    pub settings: Vec<(String, toml::Value)>,
    /// Secret fields of the kind, named on the sheet (without a value) so the user knows they
    /// stay in eventsync.toml.
    pub secret_fields: Vec<String>,
    /// Every data type the kind can sync, in sync order.
    pub types: Vec<TypeBook>,
}

/// One data type's effective configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeBook {
    pub data_type: DataType,
    /// Whether the connection syncs this data type (it is in `data_types`).
    pub synced: bool,
    /// `None` when the vendor has no statuses for this data type.
    pub statuses: Option<StatusSelection>,
    pub remove_outdated: bool,
    pub subscribers: Vec<String>,
    /// The guest switches; `None` for data types other than session registrations.
    pub guests: Option<GuestOptions>,
    pub mapping: Mapping,
    pub filters: Vec<Filter>,
    pub labels: Vec<Label>,
}

/// Why a workbook could not be written, read or imported, naming what to fix.
#[derive(Debug, thiserror::Error)]
pub enum WorkbookError {
    #[error("{path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("sheet '{sheet}', row {row}, column {column}: {problem}")]
    Cell {
        sheet: String,
        row: u32,
        column: String,
        problem: String,
    },
    #[error("sheet '{sheet}': {problem}")]
    Sheet { sheet: String, problem: String },
    #[error("the workbook would make {path} invalid: {error}")]
    Invalid { path: PathBuf, error: ConfigError },
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl WorkbookError {
    fn file(path: &Path, reason: impl std::fmt::Display) -> WorkbookError {
        WorkbookError::File {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        }
    }
}

impl ConnectionBook {
    /// The connection's effective configuration; `text` is eventsync.toml as written, where the
    /// vendor settings are read unexpanded.
    pub fn from_config(connection: &Connection, text: &str) -> Result<ConnectionBook, ConfigError> {
        let secret_fields = connection.vendor.secret_fields();
        let settings = raw_connection(text, &connection.name)?
            .into_iter()
            .filter(|(key, _)| {
                !matches!(key.as_str(), "name" | "kind" | "data_types" | "data")
                    && !secret_fields.contains(&key.as_str())
            })
            .collect();
        let types = SYNC_ORDER
            .iter()
            .filter(|data_type| connection.vendor.data_types().contains(data_type))
            .map(|data_type| TypeBook::effective(connection, *data_type))
            .collect();
        Ok(ConnectionBook {
            name: connection.name.clone(),
            kind: connection.kind().to_string(),
            settings,
            secret_fields: secret_fields
                .iter()
                .filter(|field| !field.ends_with("_file"))
                .map(|field| field.to_string())
                .collect(),
            types,
        })
    }
}

impl TypeBook {
    fn effective(connection: &Connection, data_type: DataType) -> TypeBook {
        let configured = connection.data.get(&data_type);
        let data = configured.cloned().unwrap_or_else(|| DataConfig {
            statuses: connection.default_statuses(data_type),
            ..DataConfig::default()
        });
        let has_statuses = connectors::status_vocabulary(connection.kind(), data_type).is_some();
        TypeBook {
            data_type,
            synced: connection.data_types.contains(&data_type),
            statuses: has_statuses.then_some(data.statuses),
            remove_outdated: data.remove_outdated,
            subscribers: data.subscribers,
            guests: (data_type == DataType::SessionRegistrations).then_some(data.guests),
            mapping: data
                .mapping
                .unwrap_or_else(|| connection.vendor.default_mapping(data_type)),
            filters: data.filters,
            labels: data.labels,
        }
    }
}

/// The fields of the connection called `name`, as the file writes them.
fn raw_connection(text: &str, name: &str) -> Result<toml::Table, ConfigError> {
    let table: toml::Table =
        toml::from_str(text).map_err(|e| ConfigError(format!("eventsync.toml: {e}")))?;
    table
        .get("connections")
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(toml::Value::as_table)
        .find(|connection| connection.get("name").and_then(toml::Value::as_str) == Some(name))
        .cloned()
        .ok_or_else(|| ConfigError(format!("no connection named '{name}'")))
}

fn read_text(path: &Path) -> Result<String, WorkbookError> {
    std::fs::read_to_string(path).map_err(|e| WorkbookError::file(path, e))
}

/// Writes the configuration of `connection` to the workbook at `target`.
pub fn export(config: &Config, connection: &str, target: &Path) -> Result<(), WorkbookError> {
    let text = read_text(&config.path)?;
    let book = ConnectionBook::from_config(config.connection(connection)?, &text)?;
    write::write(&book, target)
}

/// What importing a workbook would do: the changes, and eventsync.toml with them.
#[derive(Debug, Clone)]
pub struct ImportPlan {
    pub changes: Vec<Change>,
    /// eventsync.toml as it would be written; validated.
    pub text: String,
    /// Warnings about the configuration as it would be.
    pub warnings: Vec<String>,
}

/// Reads the workbook at `source` for `connection`, validates it and works out what changes,
/// without writing anything. `env` expands `${NAME}` as loading the file does.
pub fn plan_import(
    config: &Config,
    connection: &str,
    source: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ImportPlan, WorkbookError> {
    let text = read_text(&config.path)?;
    let current = config.connection(connection)?;
    let before = ConnectionBook::from_config(current, &text)?;
    let after = read::read(source, &before)?;
    let changes = changes::between(&before, &after);
    let text = if changes.is_empty() {
        text
    } else {
        apply::rewrite(&text, &before, &after)?
    };
    let parsed =
        Config::parse(&text, &config.path, env).map_err(|error| WorkbookError::Invalid {
            path: config.path.clone(),
            error,
        })?;
    let warnings = parsed.connection(connection)?.warnings.clone();
    Ok(ImportPlan {
        changes,
        text,
        warnings,
    })
}

/// Writes the planned eventsync.toml over `path`, through a temporary file beside it so that a
/// crash leaves the old file or the new one, never half of one. Nothing is written when
/// nothing changes.
pub fn apply(plan: &ImportPlan, path: &Path) -> Result<(), WorkbookError> {
    if plan.changes.is_empty() {
        return Ok(());
    }
    let temporary = path.with_extension(format!("toml.{}.tmp", std::process::id()));
    std::fs::write(&temporary, &plan.text).map_err(|e| WorkbookError::file(&temporary, e))?;
    if let Ok(metadata) = std::fs::metadata(path) {
        // The file may be readable by its owner only, as a file naming secrets should be.
        let _ = std::fs::set_permissions(&temporary, metadata.permissions());
    }
    std::fs::rename(&temporary, path).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        WorkbookError::file(path, e)
    })
}

#[cfg(test)]
mod tests;

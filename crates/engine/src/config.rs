//! `eventsync.toml`: connections, their credentials (by reference) and their data configs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pipeline::{DataType, Mapping};
use serde::Deserialize;

/// A secret value: never printed, logged or serialized.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the one place that sends it to the vendor.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// What is wrong with a configuration, said so that the user knows what to fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// The whole file.
#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub database: Option<String>,
    pub connections: Vec<Connection>,
}

/// One vendor account and event.
#[derive(Debug, Clone)]
pub struct Connection {
    pub name: String,
    pub kind: String,
    pub base_url: String,
    pub event_code: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// Data types to sync, in the order they are synced.
    pub data_types: Vec<DataType>,
    pub data: BTreeMap<DataType, DataConfig>,
    /// Warnings about the configuration that do not stop a run.
    pub warnings: Vec<String>,
}

/// The settings of one data type of one connection.
#[derive(Debug, Clone, Default)]
pub struct DataConfig {
    /// `None` uses the connector's default mapping.
    pub mapping: Option<Mapping>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    database: Option<String>,
    #[serde(default)]
    connections: Vec<RawConnection>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConnection {
    name: String,
    kind: String,
    region: Option<String>,
    base_url: Option<String>,
    event_code: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    client_secret_file: Option<PathBuf>,
    data_types: Option<Vec<String>>,
    #[serde(default)]
    data: BTreeMap<String, RawDataConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDataConfig {
    mapping: Option<Vec<pipeline::Rule>>,
}

/// The order data types are synced in, so that references resolve: places and levels before what
/// points at them, sessions and people before their registrations.
pub const SYNC_ORDER: [DataType; 7] = [
    DataType::Locations,
    DataType::SponsorLevels,
    DataType::Sponsors,
    DataType::Sessions,
    DataType::Speakers,
    DataType::People,
    DataType::SessionRegistrations,
];

/// Replaces `${NAME}` with the environment variable's value.
fn expand(
    value: &str,
    what: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, ConfigError> {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(ConfigError(format!("{what}: unclosed '${{' in the value")));
        };
        let name = &after[..end];
        match env(name) {
            Some(found) => out.push_str(&found),
            None => {
                return Err(ConfigError(format!(
                    "{what} refers to ${{{name}}}, which is not set: export {name} before running eventsync"
                )));
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError(format!(
                "cannot read {}: {e} (pass --config FILE, or run `eventsync demo` to write an example)",
                path.display()
            ))
        })?;
        Config::parse(&text, path, &|name| std::env::var(name).ok())
    }

    pub fn parse(
        text: &str,
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| ConfigError(format!("{}: {e}", path.display())))?;
        let base_dir = path.parent().unwrap_or(Path::new("."));
        let mut connections = Vec::new();
        for connection in raw.connections {
            if connections
                .iter()
                .any(|c: &Connection| c.name == connection.name)
            {
                return Err(ConfigError(format!(
                    "two connections are named '{}': names must be unique",
                    connection.name
                )));
            }
            connections.push(Connection::from_raw(connection, base_dir, env)?);
        }
        Ok(Config {
            path: path.to_path_buf(),
            database: raw.database,
            connections,
        })
    }

    pub fn connection(&self, name: &str) -> Result<&Connection, ConfigError> {
        self.connections
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| {
                let names: Vec<&str> = self.connections.iter().map(|c| c.name.as_str()).collect();
                ConfigError(format!(
                    "no connection named '{name}' in {}; configured: {}",
                    self.path.display(),
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                ))
            })
    }
}

impl Connection {
    fn from_raw(
        raw: RawConnection,
        base_dir: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Connection, ConfigError> {
        let name = raw.name;
        let what = |field: &str| format!("connection '{name}': {field}");
        if raw.kind != connectors::cvent_rest::KIND {
            return Err(ConfigError(format!(
                "connection '{name}': kind '{}' is not one eventsync knows; known kinds: {}",
                raw.kind,
                connectors::cvent_rest::KIND
            )));
        }
        let base_url = match (raw.base_url, raw.region) {
            (Some(url), _) => expand(&url, &what("base_url"), env)?,
            (None, Some(region)) => connectors::cvent_rest::Region::parse(&region)
                .map(|r| r.base_url().to_string())
                .ok_or_else(|| {
                    ConfigError(format!(
                        "{}: '{region}' is not a region; use na or eu",
                        what("region")
                    ))
                })?,
            (None, None) => {
                return Err(ConfigError(format!(
                    "connection '{name}' needs region = \"na\" or \"eu\", or a base_url"
                )));
            }
        };
        let required = |value: Option<String>, field: &str| -> Result<String, ConfigError> {
            let value =
                value.ok_or_else(|| ConfigError(format!("connection '{name}' needs {field}")))?;
            expand(&value, &what(field), env)
        };
        let event_code = required(raw.event_code, "event_code")?;
        let client_id = required(raw.client_id, "client_id")?;
        let mut warnings = Vec::new();
        let client_secret = match (raw.client_secret, raw.client_secret_file) {
            (Some(value), None) => {
                if !value.contains("${") {
                    warnings.push(format!(
                        "connection '{name}': client_secret is written in the file; prefer client_secret = \"${{ENV_VAR}}\" or client_secret_file"
                    ));
                }
                Secret::new(expand(&value, &what("client_secret"), env)?)
            }
            (None, Some(file)) => {
                let file = if file.is_absolute() {
                    file
                } else {
                    base_dir.join(file)
                };
                let text = std::fs::read_to_string(&file).map_err(|e| {
                    ConfigError(format!(
                        "{}: cannot read {}: {e}",
                        what("client_secret_file"),
                        file.display()
                    ))
                })?;
                Secret::new(text.trim().to_string())
            }
            (Some(_), Some(_)) => {
                return Err(ConfigError(format!(
                    "connection '{name}': give client_secret or client_secret_file, not both"
                )));
            }
            (None, None) => {
                return Err(ConfigError(format!(
                    "connection '{name}' needs client_secret (\"${{ENV_VAR}}\") or client_secret_file"
                )));
            }
        };
        let supported = connectors::cvent_rest::DATA_TYPES;
        let data_types = match raw.data_types {
            None => SYNC_ORDER
                .iter()
                .copied()
                .filter(|t| supported.contains(t))
                .collect(),
            Some(names) => parse_data_types(&names, supported, &name)?,
        };
        let mut data = BTreeMap::new();
        for (type_name, raw_data) in raw.data {
            let data_type: DataType = type_name.parse().map_err(|_| {
                ConfigError(format!(
                    "connection '{name}': [data.{type_name}] is not a data type; known: {}",
                    names_of(supported)
                ))
            })?;
            let mapping = raw_data.mapping.map(|rules| Mapping { rules });
            if let Some(mapping) = &mapping {
                let found = mapping.validate(data_type).map_err(|e| {
                    ConfigError(format!("connection '{name}', mapping of {data_type}: {e}"))
                })?;
                warnings.extend(
                    found
                        .iter()
                        .map(|w| format!("connection '{name}', mapping of {data_type}: {w}")),
                );
            }
            data.insert(data_type, DataConfig { mapping });
        }
        Ok(Connection {
            name,
            kind: raw.kind,
            base_url,
            event_code,
            client_id,
            client_secret,
            data_types,
            data,
            warnings,
        })
    }
}

fn names_of(types: &[DataType]) -> String {
    types
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses data type names and puts them in sync order.
pub fn parse_data_types(
    names: &[String],
    supported: &[DataType],
    connection: &str,
) -> Result<Vec<DataType>, ConfigError> {
    let mut chosen = Vec::new();
    for name in names {
        let data_type: DataType = name.trim().parse().map_err(|_| {
            ConfigError(format!(
                "'{name}' is not a data type connection '{connection}' has; choose from: {}",
                names_of(supported)
            ))
        })?;
        if !supported.contains(&data_type) {
            return Err(ConfigError(format!(
                "connection '{connection}' cannot sync {data_type}; choose from: {}",
                names_of(supported)
            )));
        }
        chosen.push(data_type);
    }
    Ok(SYNC_ORDER
        .iter()
        .copied()
        .filter(|t| chosen.contains(t))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "CVENT_SECRET").then(|| "s3cret".to_string())
    }

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("eventsync.toml"), &env)
    }

    const GOOD: &str = r#"
        [[connections]]
        name = "cvent"
        kind = "cvent-rest"
        region = "eu"
        event_code = "ABC"
        client_id = "id"
        client_secret = "${CVENT_SECRET}"
        data_types = ["session_registrations", "people"]
    "#;

    #[test]
    fn a_good_file() {
        let config = parse(GOOD).expect("valid");
        let connection = config.connection("cvent").expect("present");
        assert_eq!(connection.base_url, "https://api-platform-eur.cvent.com/ea");
        assert_eq!(connection.client_secret.expose(), "s3cret");
        assert_eq!(format!("{:?}", connection.client_secret), "Secret(***)");
        assert_eq!(
            connection.data_types,
            [DataType::People, DataType::SessionRegistrations]
        );
        assert!(connection.warnings.is_empty());
    }

    #[test]
    fn bad_files_say_what_to_fix() {
        let cases = [
            (
                GOOD.replace("${CVENT_SECRET}", "${MISSING}"),
                "export MISSING",
            ),
            (GOOD.replace("eu", "asia"), "use na or eu"),
            (GOOD.replace("cvent-rest", "eventbrite"), "known kinds"),
            (GOOD.replace("\"people\"", "\"attendees\""), "choose from"),
            (GOOD.replace("event_code = \"ABC\"", ""), "needs event_code"),
            (
                format!(
                    "{GOOD}\n[connections.data.people]\nmapping = [{{ source = \"id\", target = \"nope\" }}]"
                ),
                "nope",
            ),
            (format!("{GOOD}{GOOD}"), "unique"),
        ];
        for (text, expected) in cases {
            let error = parse(&text).expect_err(expected);
            assert!(
                error.0.contains(expected),
                "{error} should mention {expected}"
            );
            assert!(
                !error.0.contains("s3cret"),
                "secrets never appear in errors"
            );
        }
        assert!(parse("").expect("empty is valid").connection("x").is_err());
    }

    #[test]
    fn inline_secrets_work_with_a_warning() {
        let config = parse(&GOOD.replace("${CVENT_SECRET}", "plain")).expect("valid");
        assert_eq!(config.connections[0].warnings.len(), 1);
    }
}

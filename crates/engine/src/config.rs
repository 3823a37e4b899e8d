//! `eventsync.toml`: connections, their credentials (by reference) and their data configs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pipeline::{DataType, Filter, Mapping, StatusSelection};
use schemars::JsonSchema;
use serde::Deserialize;

mod aventri;
mod cvent_rest;
mod cvent_soap;
pub mod edit;
mod imis;
mod mail;
pub mod schema;
pub mod secrets;

pub use aventri::AventriSettings;
pub use cvent_rest::CventRestSettings;
pub use cvent_soap::CventSoapSettings;
pub use imis::{ImisFeed, ImisSettings, MatchBy, QueryService};
pub use mail::{Smtp, SmtpTls};

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
    /// Where run summaries are mailed from (`[smtp]`), if anywhere.
    pub smtp: Option<Smtp>,
}

/// One vendor account and event.
#[derive(Debug, Clone)]
pub struct Connection {
    pub name: String,
    /// Where the vendor is and how to sign in: the fields of the connection's `kind`.
    pub vendor: VendorSettings,
    /// Data types to sync, in the order they are synced.
    pub data_types: Vec<DataType>,
    /// The travel switches: `flights` syncs `air_requests`, `hotel_requests` syncs
    /// `hotel_requests`; off, those types are never pulled.
    pub travel: Travel,
    pub data: BTreeMap<DataType, DataConfig>,
    /// How far before a listing's start, on the vendor's clock, the next incremental listing
    /// asks from: room for the vendor's clock and for changes it commits late (ARCHITECTURE.md,
    /// "The watermark").
    pub watermark_margin: chrono::Duration,
    /// Calls a full listing may keep in flight at once, within the account's rate budget.
    pub listing_concurrency: usize,
    /// How this connection's registrations reach an iMIS site, if they do.
    pub imis: Option<ImisFeed>,
    /// Warnings about the configuration that do not stop a run.
    pub warnings: Vec<String>,
}

/// The watermark margin when the configuration names none.
pub const DEFAULT_WATERMARK_MARGIN_SECONDS: u32 = 300;

/// Calls a full listing keeps in flight when the configuration names no number: enough for
/// Cvent's Premium rate (25 calls a second) at about 600 ms an answer.
pub const DEFAULT_LISTING_CONCURRENCY: usize = 16;

/// The most calls in flight a connection may ask for.
pub const MAX_LISTING_CONCURRENCY: usize = 64;

/// The vendor-specific settings of a connection, one variant per `kind`; each vendor's module
/// under `config/` owns its fields, their parsing and their secrets.
#[derive(Debug, Clone)]
pub enum VendorSettings {
    CventRest(CventRestSettings),
    CventSoap(CventSoapSettings),
    Aventri(AventriSettings),
    /// An association's iMIS: a destination fed from the workspace, with no data types of its
    /// own to sync.
    Imis(ImisSettings),
}

/// Every `kind` a connection can have.
pub const KINDS: &[&str] = &[
    connectors::cvent_rest::KIND,
    connectors::cvent_soap::KIND,
    connectors::aventri::KIND,
    connectors::imis::KIND,
];

impl VendorSettings {
    /// Reads the vendor fields of a connection of `kind`; unknown fields are errors.
    fn parse(
        kind: &str,
        fields: toml::Table,
        context: &mut Context<'_>,
    ) -> Result<VendorSettings, ConfigError> {
        match kind {
            connectors::cvent_rest::KIND => {
                cvent_rest::parse(fields, context).map(VendorSettings::CventRest)
            }
            connectors::cvent_soap::KIND => {
                cvent_soap::parse(fields, context).map(VendorSettings::CventSoap)
            }
            connectors::aventri::KIND => {
                aventri::parse(fields, context).map(VendorSettings::Aventri)
            }
            connectors::imis::KIND => imis::parse(fields, context).map(VendorSettings::Imis),
            _ => Err(ConfigError(format!(
                "connection '{}': kind '{kind}' is not one eventsync knows; known kinds: {}",
                context.connection,
                KINDS.join(", ")
            ))),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            VendorSettings::CventRest(_) => connectors::cvent_rest::KIND,
            VendorSettings::CventSoap(_) => connectors::cvent_soap::KIND,
            VendorSettings::Aventri(_) => connectors::aventri::KIND,
            VendorSettings::Imis(_) => connectors::imis::KIND,
        }
    }

    /// The fields of this kind that hold or point at a secret; they are never exported.
    pub fn secret_fields(&self) -> &'static [&'static str] {
        secret_fields(self.kind())
    }

    /// The mapping a data type uses when its data config gives none.
    pub fn default_mapping(&self, data_type: DataType) -> Mapping {
        match self {
            VendorSettings::CventRest(_) => connectors::cvent_rest::default_mapping(data_type),
            VendorSettings::CventSoap(_) => connectors::cvent_soap::default_mapping(data_type),
            VendorSettings::Aventri(settings) => {
                connectors::aventri::default_mapping(data_type, &settings.active_statuses)
            }
            VendorSettings::Imis(_) => Mapping { rules: Vec::new() },
        }
    }

    /// Where a data type's records hold answers to the vendor's questions, with each question's
    /// id and text beside the answer; empty when they hold none.
    pub fn question_answers(&self, data_type: DataType) -> &'static [connectors::QuestionAnswers] {
        match self {
            VendorSettings::CventRest(_) => connectors::cvent_rest::question_answers(data_type),
            VendorSettings::CventSoap(_) => connectors::cvent_soap::question_answers(data_type),
            VendorSettings::Aventri(_) => connectors::aventri::question_answers(data_type),
            VendorSettings::Imis(_) => &[],
        }
    }

    /// The data types this kind of connection can sync.
    pub fn data_types(&self) -> &'static [DataType] {
        VendorSettings::data_types_of_kind(self.kind())
    }

    /// The data types a connection of `kind` can sync; none for an unknown kind.
    pub fn data_types_of_kind(kind: &str) -> &'static [DataType] {
        match kind {
            connectors::cvent_rest::KIND => connectors::cvent_rest::DATA_TYPES,
            connectors::cvent_soap::KIND => connectors::cvent_soap::DATA_TYPES,
            connectors::aventri::KIND => connectors::aventri::DATA_TYPES,
            _ => &[],
        }
    }
}

/// The fields of a `kind` that hold or point at a secret (inline or `_file`).
pub fn secret_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        connectors::cvent_rest::KIND => cvent_rest::SECRET_FIELDS,
        connectors::cvent_soap::KIND => cvent_soap::SECRET_FIELDS,
        connectors::aventri::KIND => aventri::SECRET_FIELDS,
        connectors::imis::KIND => imis::SECRET_FIELDS,
        _ => &[],
    }
}

/// The travel switches of a connection, both off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Travel {
    pub flights: bool,
    pub hotel_requests: bool,
}

impl Travel {
    /// The switch that turns a data type on, for the travel types.
    pub fn switch_for(data_type: DataType) -> Option<&'static str> {
        match data_type {
            DataType::AirRequests => Some("flights"),
            DataType::HotelRequests => Some("hotel_requests"),
            _ => None,
        }
    }

    /// Whether the switches let `data_type` be synced (every non-travel type is).
    pub fn allows(self, data_type: DataType) -> bool {
        match data_type {
            DataType::AirRequests => self.flights,
            DataType::HotelRequests => self.hotel_requests,
            _ => true,
        }
    }
}

impl Connection {
    pub fn kind(&self) -> &'static str {
        self.vendor.kind()
    }

    /// The vendor statuses a data type imports when its data config names none.
    pub fn default_statuses(&self, data_type: DataType) -> StatusSelection {
        default_statuses(connectors::status_vocabulary(self.kind(), data_type))
    }

    /// The data types this connection can sync: its kind's, less travel types switched off.
    pub fn available_types(&self) -> Vec<DataType> {
        self.vendor
            .data_types()
            .iter()
            .copied()
            .filter(|t| self.travel.allows(*t))
            .collect()
    }

    /// Reads data type names given on the command line, in sync order; a travel type whose
    /// switch is off is refused with the switch to turn on.
    pub fn parse_types(&self, names: &[String]) -> Result<Vec<DataType>, ConfigError> {
        check_travel_names(names, self.vendor.data_types(), self.travel, &self.name)?;
        parse_data_types(names, &self.available_types(), &self.name)
    }
}

/// Checks one subscriber address, `what` saying where it was found.
pub(crate) fn check_subscriber(address: &str, what: &str) -> Result<(), ConfigError> {
    mail::check_address(address, what)
}

/// A travel type named while its switch is off: the error names the switch.
fn check_travel_names(
    names: &[String],
    supported: &[DataType],
    travel: Travel,
    connection: &str,
) -> Result<(), ConfigError> {
    for name in names {
        if let Ok(data_type) = name.trim().parse::<DataType>()
            && supported.contains(&data_type)
            && !travel.allows(data_type)
            && let Some(switch) = Travel::switch_for(data_type)
        {
            return Err(ConfigError(format!(
                "connection '{connection}' does not sync {data_type}: set {switch} = true on the connection to turn it on"
            )));
        }
    }
    Ok(())
}

/// What a vendor's settings parser needs: the connection's name for messages, the folder that
/// relative file paths start from, the environment for `${NAME}`, and somewhere for warnings.
pub(crate) struct Context<'a> {
    pub connection: &'a str,
    base_dir: &'a Path,
    env: &'a dyn Fn(&str) -> Option<String>,
    pub warnings: &'a mut Vec<String>,
}

impl Context<'_> {
    /// `connection 'x': field`, the start of a message about one field.
    pub fn what(&self, field: &str) -> String {
        format!("connection '{}': {field}", self.connection)
    }

    /// A field's value with `${NAME}` references expanded.
    pub fn expand(&self, value: &str, field: &str) -> Result<String, ConfigError> {
        expand(value, &self.what(field), self.env)
    }

    /// A field the kind cannot do without.
    pub fn required(&self, value: Option<String>, field: &str) -> Result<String, ConfigError> {
        let value = value.ok_or_else(|| {
            ConfigError(format!("connection '{}' needs {field}", self.connection))
        })?;
        self.expand(&value, field)
    }

    /// A secret given either inline as `field` (best as `"${ENV_VAR}"`) or as the path of a file
    /// in `field_file`; an inline literal works but draws a warning.
    pub fn secret(
        &mut self,
        inline: Option<String>,
        file: Option<PathBuf>,
        field: &str,
    ) -> Result<Secret, ConfigError> {
        let name = self.connection;
        match (inline, file) {
            (Some(value), None) if secrets::is_sealed(&value) => Ok(Secret::new(secrets::open(
                &value,
                &self.what(field),
                self.env,
            )?)),
            (Some(value), None) => {
                if !value.contains("${") {
                    self.warnings.push(format!(
                        "connection '{name}': {field} is written in the file; prefer {field} = \"${{ENV_VAR}}\", {field}_file, or setting it over the API, which stores it encrypted"
                    ));
                }
                Ok(Secret::new(self.expand(&value, field)?))
            }
            (None, Some(file)) => {
                let file = if file.is_absolute() {
                    file
                } else {
                    self.base_dir.join(file)
                };
                let text = std::fs::read_to_string(&file).map_err(|e| {
                    ConfigError(format!(
                        "{}: cannot read {}: {e}",
                        self.what(&format!("{field}_file")),
                        file.display()
                    ))
                })?;
                Ok(Secret::new(text.trim().to_string()))
            }
            (Some(_), Some(_)) => Err(ConfigError(format!(
                "connection '{name}': give {field} or {field}_file, not both"
            ))),
            (None, None) => Err(ConfigError(format!(
                "connection '{name}' needs {field} (\"${{ENV_VAR}}\") or {field}_file"
            ))),
        }
    }
}

/// The settings of one data type of one connection.
#[derive(Debug, Clone, Default)]
pub struct DataConfig {
    /// `None` uses the connector's default mapping.
    pub mapping: Option<Mapping>,
    /// The vendor statuses imported (`statuses = [...]`); the vendor's default when not given,
    /// every status for an empty list.
    pub statuses: StatusSelection,
    /// Conditions on mapped fields a record must all meet to be imported.
    pub filters: Vec<Filter>,
    /// Remove workspace records the vendor no longer has, after a complete full listing.
    pub remove_outdated: bool,
    /// Questions whose answers fill `custom.<name>` fields, found by question id or code.
    pub labels: Vec<pipeline::rules::labels::Label>,
    /// Addresses that receive a summary of each run of this data type (`serve` mails them).
    pub subscribers: Vec<String>,
    /// The guest switches, set on `session_registrations` only.
    pub guests: pipeline::rules::guests::GuestOptions,
}

/// The whole file as it is read: every key eventsync accepts is a field of this type or of the
/// types it holds, and `eventsync config schema` is derived from them (`config/schema.rs`).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "eventsync.toml",
    description = "The configuration of eventsync: the workspace, the mail server run summaries go through, and the connections to vendor accounts and iMIS sites."
)]
pub(crate) struct RawConfig {
    /// The workspace: a SQLite file, relative to this file, or postgres://user@host/db.
    /// `--database` overrides it; without either, eventsync.sqlite beside this file.
    #[schemars(extend("default" = "eventsync.sqlite"))]
    database: Option<String>,
    smtp: Option<mail::RawSmtp>,
    /// One vendor account and event each, or an iMIS site; `name` is what commands take.
    #[serde(default)]
    #[schemars(schema_with = "schema::connections")]
    connections: Vec<RawConnection>,
}

/// The fields every connection has; the rest belong to its kind, which rejects what it does not
/// know (so a misspelt field is an error, not silently ignored).
#[derive(Deserialize, JsonSchema)]
pub(crate) struct RawConnection {
    /// The connection's name in commands (`eventsync sync <name>`), unique in the file.
    name: String,
    /// The vendor: which of the kinds' fields the connection takes.
    kind: String,
    /// The data types to sync; they run in reference order whatever the order given. Travel
    /// types only when their switch (flights, hotel_requests) is on.
    #[schemars(extend("default" = "every data type the kind has"))]
    data_types: Option<Vec<String>>,
    /// Sync air_requests: each flight request attached to the person who travels (a guest's to
    /// the guest). Off, they are never pulled. Needs the scope event/air-request:read.
    #[serde(default)]
    flights: bool,
    /// Sync hotel_requests, each attached to the person who stays. Off, they are never pulled.
    /// Needs the scope event/hotel-request:read.
    #[serde(default)]
    hotel_requests: bool,
    /// An incremental sync asks for changes from this long before the last listing began, on
    /// the vendor's clock, so that changes the vendor stamps late are never skipped.
    #[serde(default = "default_watermark_margin")]
    watermark_margin_seconds: u32,
    /// Calls a full listing keeps in flight at once, each still within the account's rate
    /// limit: a large listing is split into parts fetched side by side. 1 lists page by page.
    #[serde(default = "default_listing_concurrency")]
    #[schemars(range(min = 1, max = 64))]
    listing_concurrency: usize,
    /// Settings per data type, `[connections.data.<type>]`.
    #[serde(default)]
    #[schemars(skip)]
    data: BTreeMap<String, RawDataConfig>,
    imis: Option<imis::RawFeed>,
    #[serde(flatten)]
    #[schemars(skip)]
    vendor: toml::Table,
}

fn default_watermark_margin() -> u32 {
    DEFAULT_WATERMARK_MARGIN_SECONDS
}

fn default_listing_concurrency() -> usize {
    DEFAULT_LISTING_CONCURRENCY
}

/// The settings of one data type of one connection, `[connections.data.<type>]`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDataConfig {
    /// Rules from vendor paths to workspace fields; replaces the connector's default mapping
    /// whole. Sensitive fields (date of birth, passport and national id numbers) are never
    /// fetched: a rule that names them is a warning.
    #[schemars(
        with = "Option<Vec<schema::RuleSchema>>",
        extend("default" = "the connector's default mapping")
    )]
    mapping: Option<Vec<pipeline::Rule>>,
    /// The vendor statuses to import, spelt exactly as the vendor does; [] imports every
    /// status. Records already imported that leave the list are still updated.
    statuses: Option<Vec<String>>,
    /// Conditions on mapped fields that must all hold; records left out are counted as
    /// "filtered".
    #[serde(default)]
    #[schemars(with = "Vec<schema::FilterSchema>")]
    filters: Vec<Filter>,
    /// Remove workspace records the vendor no longer has, after a complete full sync only
    /// (the first, or `sync --full`); previews list them first.
    #[serde(default)]
    remove_outdated: bool,
    /// Data labels: the answer to an event question, or a contact custom field's value, found
    /// by its id or code wherever it sits in the record, fills custom.<name>.
    #[serde(default)]
    #[schemars(with = "Vec<schema::LabelSchema>")]
    labels: Vec<pipeline::rules::labels::Label>,
    /// Addresses mailed a summary of every run `eventsync serve` starts; needs [smtp].
    #[serde(default)]
    #[schemars(with = "Vec<schema::Address>")]
    subscribers: Vec<String>,
    /// session_registrations only: a guest's primary is registered to every session the guest
    /// is (a derived registration `extra-invitee:<guest registration id>`).
    #[serde(default)]
    extra_invitee_registrations: bool,
    /// session_registrations only: a guest's registrations, and those derived from them, carry
    /// guest_tag = the guest's name.
    #[serde(default)]
    guest_enrollment_tags: bool,
}

/// The order data types are synced in, so that references resolve: places and levels before what
/// points at them, sessions and people before their registrations.
pub const SYNC_ORDER: [DataType; 9] = [
    DataType::Locations,
    DataType::SponsorLevels,
    DataType::Sponsors,
    DataType::Sessions,
    DataType::Speakers,
    DataType::People,
    DataType::SessionRegistrations,
    DataType::AirRequests,
    DataType::HotelRequests,
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
        Config::load_with(path, &|name| std::env::var(name).ok())
    }

    /// Loads the file with `env` standing for the environment (`${NAME}`, the secret key).
    pub fn load_with(
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError(format!(
                "cannot read {}: {e} (pass --config FILE, or run `eventsync demo` to write an example)",
                path.display()
            ))
        })?;
        Config::parse(&text, path, env)
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
        for connection in &connections {
            let Some(feed) = &connection.imis else {
                continue;
            };
            match connections.iter().find(|c| c.name == feed.destination) {
                Some(site) if matches!(site.vendor, VendorSettings::Imis(_)) => {}
                Some(other) => {
                    return Err(ConfigError(format!(
                        "connection '{}', imis.destination: '{}' is a {} connection, not an iMIS site (kind = \"imis\")",
                        connection.name,
                        feed.destination,
                        other.kind()
                    )));
                }
                None => {
                    return Err(ConfigError(format!(
                        "connection '{}', imis.destination: no connection is named '{}'; add one with kind = \"imis\"",
                        connection.name, feed.destination
                    )));
                }
            }
        }
        let smtp = raw.smtp.map(|smtp| smtp.parse(base_dir, env)).transpose()?;
        if smtp.is_none()
            && let Some(connection) = connections
                .iter()
                .find(|c| c.data.values().any(|d| !d.subscribers.is_empty()))
        {
            return Err(ConfigError(format!(
                "connection '{}' has subscribers but there is no [smtp] section to send their summaries through",
                connection.name
            )));
        }
        Ok(Config {
            path: path.to_path_buf(),
            database: raw.database,
            connections,
            smtp,
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
        let mut warnings = Vec::new();
        let mut context = Context {
            connection: &name,
            base_dir,
            env,
            warnings: &mut warnings,
        };
        let vendor = VendorSettings::parse(&raw.kind, raw.vendor, &mut context)?;
        let imis = match raw.imis {
            Some(_) if matches!(vendor, VendorSettings::Imis(_)) => {
                return Err(ConfigError(format!(
                    "connection '{name}' is an iMIS site: [connections.imis] belongs on the connection whose registrations feed it"
                )));
            }
            Some(feed) => Some(feed.parse(&name)?),
            None => None,
        };
        if matches!(vendor, VendorSettings::Imis(_)) && raw.data_types.is_some() {
            return Err(ConfigError(format!(
                "connection '{name}' is an iMIS site, fed from the workspace: it has no data types to sync; remove data_types"
            )));
        }
        if !(1..=MAX_LISTING_CONCURRENCY).contains(&raw.listing_concurrency) {
            return Err(ConfigError(format!(
                "connection '{name}': listing_concurrency is {}; it must be from 1 (one page at a time) to {MAX_LISTING_CONCURRENCY}",
                raw.listing_concurrency
            )));
        }
        let travel = Travel {
            flights: raw.flights,
            hotel_requests: raw.hotel_requests,
        };
        for (on, data_type) in [
            (travel.flights, DataType::AirRequests),
            (travel.hotel_requests, DataType::HotelRequests),
        ] {
            if on && !vendor.data_types().contains(&data_type) {
                return Err(ConfigError(format!(
                    "connection '{name}': {} connections have no {data_type}; remove {}",
                    raw.kind,
                    Travel::switch_for(data_type).unwrap_or_default()
                )));
            }
        }
        let supported: Vec<DataType> = vendor
            .data_types()
            .iter()
            .copied()
            .filter(|t| travel.allows(*t))
            .collect();
        let supported = supported.as_slice();
        let data_types = match raw.data_types {
            None => SYNC_ORDER
                .iter()
                .copied()
                .filter(|t| supported.contains(t))
                .collect(),
            Some(names) => {
                check_travel_names(&names, vendor.data_types(), travel, &name)?;
                parse_data_types(&names, supported, &name)?
            }
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
                for rule in &mapping.rules {
                    if crate::sensitive::names_sensitive(&rule.source) {
                        warnings.push(format!(
                            "connection '{name}', mapping of {data_type}: '{}' → '{}' names a sensitive field; eventsync never fetches, stores or reports it, so '{}' stays empty",
                            rule.source, rule.target, rule.target
                        ));
                    }
                }
            }
            let statuses = match (
                raw_data.statuses,
                connectors::status_vocabulary(&raw.kind, data_type),
            ) {
                (None, vocabulary) => default_statuses(vocabulary),
                (Some(list), Some(vocabulary)) => StatusSelection::parse(&list, vocabulary.valid)
                    .map_err(|e| {
                    ConfigError(format!("connection '{name}', statuses of {data_type}: {e}"))
                })?,
                (Some(_), None) => {
                    return Err(ConfigError(format!(
                        "connection '{name}': {data_type} has no vendor status to select by; \
                         remove statuses from [connections.data.{data_type}]"
                    )));
                }
            };
            pipeline::rules::labels::validate(&raw_data.labels).map_err(|e| {
                ConfigError(format!("connection '{name}', labels of {data_type}: {e}"))
            })?;
            if let Some(clash) = raw_data.labels.iter().find(|label| {
                mapping
                    .as_ref()
                    .is_some_and(|m| m.rules.iter().any(|r| r.target == label.target()))
            }) {
                return Err(ConfigError(format!(
                    "connection '{name}', {data_type}: {} is filled both by a label and by the mapping; keep one",
                    clash.target()
                )));
            }
            for filter in &raw_data.filters {
                filter
                    .validate(data_type)
                    .map_err(|e| ConfigError(format!("connection '{name}', {data_type}: {e}")))?;
                let mapped = match &mapping {
                    Some(mapping) => mapping.rules.iter().any(|r| r.target == filter.field),
                    None => {
                        connectors::default_targets(&raw.kind, data_type).contains(&filter.field)
                    }
                };
                if !mapped {
                    warnings.push(format!(
                        "connection '{name}', filter of {data_type} on '{}': no mapping fills that field, so it is always empty",
                        filter.field
                    ));
                }
            }
            let guests = pipeline::rules::guests::GuestOptions {
                extra_invitee_registrations: raw_data.extra_invitee_registrations,
                guest_enrollment_tags: raw_data.guest_enrollment_tags,
            };
            if guests.any() && data_type != DataType::SessionRegistrations {
                return Err(ConfigError(format!(
                    "connection '{name}': extra_invitee_registrations and guest_enrollment_tags                      belong in [connections.data.session_registrations], not {data_type}"
                )));
            }
            for address in &raw_data.subscribers {
                mail::check_address(
                    address,
                    &format!("connection '{name}', subscribers of {data_type}"),
                )?;
            }
            data.insert(
                data_type,
                DataConfig {
                    mapping,
                    statuses,
                    filters: raw_data.filters,
                    remove_outdated: raw_data.remove_outdated,
                    labels: raw_data.labels,
                    subscribers: raw_data.subscribers,
                    guests,
                },
            );
        }
        // Data types with vendor statuses select the vendor's default ones when not configured.
        for data_type in &data_types {
            if !data.contains_key(data_type) {
                let vocabulary = connectors::status_vocabulary(&raw.kind, *data_type);
                data.insert(
                    *data_type,
                    DataConfig {
                        statuses: default_statuses(vocabulary),
                        ..DataConfig::default()
                    },
                );
            }
        }
        Ok(Connection {
            name,
            vendor,
            data_types,
            travel,
            data,
            watermark_margin: chrono::Duration::seconds(i64::from(raw.watermark_margin_seconds)),
            listing_concurrency: raw.listing_concurrency,
            imis,
            warnings,
        })
    }
}

fn default_statuses(vocabulary: Option<connectors::StatusVocabulary>) -> StatusSelection {
    match vocabulary {
        Some(vocabulary) if !vocabulary.default.is_empty() => {
            StatusSelection::Only(vocabulary.default.iter().map(|s| s.to_string()).collect())
        }
        _ => StatusSelection::All,
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
        let cvent = match &connection.vendor {
            VendorSettings::CventRest(settings) => settings,
            #[allow(unreachable_patterns)]
            other => panic!("expected cvent-rest, got {}", other.kind()),
        };
        assert_eq!(cvent.base_url, "https://api-platform-eur.cvent.com/ea");
        assert_eq!(cvent.client_secret.expose(), "s3cret");
        assert_eq!(format!("{:?}", cvent.client_secret), "Secret(***)");
        assert_eq!(
            connection.data_types,
            [DataType::People, DataType::SessionRegistrations]
        );
        assert!(connection.warnings.is_empty());
        assert_eq!(
            connection.data[&DataType::People].statuses,
            StatusSelection::Only(vec!["Accepted".to_string()]),
            "people default to Accepted attendees"
        );
    }

    /// The README's complete, annotated file stays valid and uses every data type setting.
    #[test]
    fn the_readme_example_is_valid() {
        let readme = include_str!("../../../README.md");
        let start = readme
            .find("<!-- complete-config")
            .and_then(|at| readme[at..].find("```toml\n").map(|found| at + found + 8))
            .expect("the README has the complete example");
        let length = readme[start..].find("```").expect("the example ends");
        let example = &readme[start..start + length];
        let config = Config::parse(example, Path::new("eventsync.toml"), &|name| {
            (name == "CVENT_CLIENT_SECRET").then(|| "s3cret".to_string())
        })
        .expect("the README example parses");
        let people = &config.connections[0].data[&DataType::People];
        assert_eq!(people.statuses.as_list(), ["Accepted", "Visited"]);
        assert_eq!(people.filters.len(), 2);
        assert!(config.connections[0].data[&DataType::Sessions].remove_outdated);
        assert_eq!(people.subscribers, ["ops@example.org"]);
        assert!(config.smtp.is_some(), "the example has [smtp]");
        let cvent = &config.connections[0];
        assert!(cvent.travel.flights && !cvent.travel.hotel_requests);
        assert!(cvent.data_types.contains(&DataType::AirRequests));
        let guests = cvent.data[&DataType::SessionRegistrations].guests;
        assert!(guests.extra_invitee_registrations && guests.guest_enrollment_tags);
        // Every data type setting, travel switch and [smtp] key of Cvent REST is shown.
        let schema = schema::document();
        for setting in schema::settings(&schema) {
            let key = setting
                .key
                .strip_prefix("connections[kind=cvent-rest].data.session_registrations.")
                .or_else(|| {
                    [
                        "connections[kind=cvent-rest].flights",
                        "connections[kind=cvent-rest].hotel_requests",
                    ]
                    .contains(&setting.key.as_str())
                    .then(|| {
                        setting
                            .key
                            .trim_start_matches("connections[kind=cvent-rest].")
                    })
                })
                .or_else(|| setting.key.strip_prefix("smtp."));
            let Some(key) = key else { continue };
            if key.contains(['.', '[']) || key.ends_with("_file") {
                continue;
            }
            assert!(
                example.contains(&format!("{key} =")) || example.contains(&format!("# {key} =")),
                "{key} is in the example"
            );
        }
    }

    #[test]
    fn statuses_and_filters_per_data_type() {
        let with = |block: &str| parse(&format!("{GOOD}\n[connections.data.people]\n{block}"));
        // (settings, expected statuses, expected filter count)
        let cases = [
            ("", vec!["Accepted"], 0),
            ("statuses = []", vec![], 0),
            (
                "statuses = [\"Accepted\", \"Pending Approval\"]",
                vec!["Accepted", "Pending Approval"],
                0,
            ),
            (
                "filters = [{ field = \"registration_type\", one_of = [\"VIP\"] }]",
                vec!["Accepted"],
                1,
            ),
        ];
        for (block, statuses, filters) in cases {
            let config = with(block).expect(block);
            let people = &config.connections[0].data[&DataType::People];
            assert_eq!(people.statuses.as_list(), statuses, "{block}");
            assert_eq!(people.filters.len(), filters, "{block}");
        }
        let errors = [
            ("statuses = [\"accepted\"]", "did you mean 'Accepted'?"),
            (
                "statuses = [\"Registered\"]",
                "No Response, Accepted, Declined, Visited, Waitlisted, Cancelled, Pending Approval, Denied Approval",
            ),
            (
                "filters = [{ field = \"colour\", equals = \"red\" }]",
                "people has no such field",
            ),
            ("filters = [{ field = \"company\" }]", "give exactly one of"),
        ];
        for (block, words) in errors {
            let error = with(block).expect_err(block);
            assert!(error.0.contains(words), "{error} should say {words}");
        }
        let error = parse(&format!(
            "{GOOD}\n[connections.data.session_registrations]\nstatuses = [\"Accepted\"]"
        ))
        .expect_err("no statuses for registrations");
        assert!(error.0.contains("no vendor status"), "{error}");
        let config =
            with("filters = [{ field = \"custom.diet\", equals = \"vegan\" }]").expect("valid");
        assert!(
            config.connections[0].warnings[0].contains("no mapping fills that field"),
            "{:?}",
            config.connections[0].warnings
        );
    }

    #[test]
    fn filters_are_checked_against_the_kinds_own_default_mapping() {
        let aventri = |field: &str| {
            format!(
                "[[connections]]\nname = \"a\"\nkind = \"aventri\"\nregion = \"emea\"\naccount_id = \"1\"\nkey = \"${{CVENT_SECRET}}\"\nevent_id = \"2\"\n[connections.data.people]\nfilters = [{{ field = \"{field}\", one_of = [\"VIP\"] }}]\n"
            )
        };
        // Aventri's people map `category.name` to registration_type; nothing fills `phone`.
        let mapped = parse(&aventri("registration_type")).expect("valid");
        assert!(
            mapped.connections[0].warnings.is_empty(),
            "{:?}",
            mapped.connections[0].warnings
        );
        let unmapped = parse(&aventri("phone")).expect("valid");
        assert!(unmapped.connections[0].warnings[0].contains("no mapping fills that field"));
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
            // A misspelt vendor field is an error, not silently ignored.
            (
                GOOD.replace("client_id = ", "clientid = "),
                "unknown field `clientid`",
            ),
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
    fn travel_and_guest_switches() {
        let base = GOOD.replace("data_types = [\"session_registrations\", \"people\"]", "");
        // (connection fields, data blocks, synced data types or the error's words)
        type Case<'a> = (&'a str, &'a str, Result<&'a [DataType], &'a str>);
        let cases: [Case<'_>; 7] = [
            (
                "",
                "",
                Ok(&[DataType::People, DataType::SessionRegistrations]),
            ),
            (
                "flights = true",
                "",
                Ok(&[
                    DataType::People,
                    DataType::SessionRegistrations,
                    DataType::AirRequests,
                ]),
            ),
            (
                "flights = true\nhotel_requests = true",
                "",
                Ok(&[
                    DataType::People,
                    DataType::SessionRegistrations,
                    DataType::AirRequests,
                    DataType::HotelRequests,
                ]),
            ),
            (
                "data_types = [\"hotel_requests\", \"people\"]",
                "",
                Err("set hotel_requests = true on the connection"),
            ),
            (
                "",
                "[connections.data.session_registrations]\nextra_invitee_registrations = true\nguest_enrollment_tags = true",
                Ok(&[DataType::People, DataType::SessionRegistrations]),
            ),
            (
                "",
                "[connections.data.people]\nguest_enrollment_tags = true",
                Err("belong in [connections.data.session_registrations]"),
            ),
            ("flights = \"yes\"", "", Err("invalid type")),
        ];
        for (fields, blocks, expected) in cases {
            let text = base.replace(
                "client_secret = \"${CVENT_SECRET}\"",
                &format!("client_secret = \"${{CVENT_SECRET}}\"\n{fields}"),
            ) + "\n"
                + blocks;
            match (parse(&text), expected) {
                (Ok(config), Ok(types)) => {
                    let connection = &config.connections[0];
                    let synced: Vec<DataType> = connection
                        .data_types
                        .iter()
                        .copied()
                        .filter(|t| {
                            !matches!(
                                t,
                                DataType::Locations
                                    | DataType::SponsorLevels
                                    | DataType::Sponsors
                                    | DataType::Sessions
                                    | DataType::Speakers
                            )
                        })
                        .collect();
                    assert_eq!(synced, types, "{fields} {blocks}");
                }
                (Err(error), Err(words)) => {
                    assert!(error.0.contains(words), "{error} should say {words}")
                }
                (outcome, _) => panic!("{fields} {blocks}: unexpected {outcome:?}"),
            }
        }
        let both = parse(&format!(
            "{GOOD}\n[connections.data.session_registrations]\nextra_invitee_registrations = true\nguest_enrollment_tags = true"
        ))
        .expect("valid");
        let guests = both.connections[0].data[&DataType::SessionRegistrations].guests;
        assert!(guests.extra_invitee_registrations && guests.guest_enrollment_tags);
        let connection = &both.connections[0];
        let error = connection
            .parse_types(&["air_requests".to_string()])
            .expect_err("flights are off");
        assert!(error.0.contains("set flights = true"), "{error}");
        let soap = "[[connections]]\nname = \"s\"\nkind = \"cvent-soap\"\nhost = \"sandbox\"\naccount_number = \"A\"\nuser_name = \"u\"\npassword = \"${CVENT_SECRET}\"\nevent_code = \"E\"\nflights = true\n";
        let error = parse(soap).expect_err("SOAP has no air requests");
        assert!(error.0.contains("have no air_requests"), "{error}");
    }

    #[test]
    fn inline_secrets_work_with_a_warning() {
        let config = parse(&GOOD.replace("${CVENT_SECRET}", "plain")).expect("valid");
        assert_eq!(config.connections[0].warnings.len(), 1);
    }
}

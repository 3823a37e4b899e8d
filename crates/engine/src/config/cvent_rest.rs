//! The settings of a `kind = "cvent-rest"` connection: host, event code and OAuth2 client.

use schemars::JsonSchema;
use serde::Deserialize;

use super::{ConfigError, Context, Secret};

/// Where the Cvent REST account is and how to sign in to it.
#[derive(Debug, Clone)]
pub struct CventRestSettings {
    pub base_url: String,
    pub event_code: String,
    pub client_id: String,
    pub client_secret: Secret,
}

/// The fields that hold or point at the secret: never exported, never read from a workbook.
pub(crate) const SECRET_FIELDS: &[&str] = &["client_secret", "client_secret_file"];

/// The fields of a `kind = "cvent-rest"` connection.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "A Cvent REST connection",
    extend(
        "allOf" = [
            { "anyOf": [{ "required": ["region"] }, { "required": ["base_url"] }] },
            { "anyOf": [{ "required": ["client_secret"] }, { "required": ["client_secret_file"] }] },
            { "not": { "required": ["client_secret", "client_secret_file"] } }
        ],
        "required" = ["event_code", "client_id"]
    )
)]
pub(super) struct Raw {
    /// The account's region (case is ignored); or give base_url.
    #[schemars(extend("enum" = ["na", "eu"]))]
    region: Option<String>,
    /// The API's base URL, such as https://api-platform.cvent.com/ea; wins over region.
    base_url: Option<String>,
    /// The event's code, as Cvent shows it.
    event_code: Option<String>,
    /// The OAuth2 client id.
    client_id: Option<String>,
    /// The OAuth2 client secret: best "${ENV_VAR}"; "enc:v1:…" is a value encrypted with
    /// EVENTSYNC_SECRET_KEY. Never printed or exported. Or give client_secret_file.
    client_secret: Option<String>,
    /// A file holding the client secret, relative to this file.
    client_secret_file: Option<std::path::PathBuf>,
}

pub(super) fn parse(
    fields: toml::Table,
    context: &mut Context<'_>,
) -> Result<CventRestSettings, ConfigError> {
    let raw: Raw = fields
        .try_into()
        .map_err(|e| ConfigError(format!("connection '{}': {e}", context.connection)))?;
    let base_url = match (raw.base_url, raw.region) {
        (Some(url), _) => context.expand(&url, "base_url")?,
        (None, Some(region)) => connectors::cvent_rest::Region::parse(&region)
            .map(|r| r.base_url().to_string())
            .ok_or_else(|| {
                ConfigError(format!(
                    "{}: '{region}' is not a region; use na or eu",
                    context.what("region")
                ))
            })?,
        (None, None) => {
            return Err(ConfigError(format!(
                "connection '{}' needs region = \"na\" or \"eu\", or a base_url",
                context.connection
            )));
        }
    };
    Ok(CventRestSettings {
        base_url,
        event_code: context.required(raw.event_code, "event_code")?,
        client_id: context.required(raw.client_id, "client_id")?,
        client_secret: context.secret(
            raw.client_secret,
            raw.client_secret_file,
            "client_secret",
        )?,
    })
}

//! The settings of a `kind = "aventri"` connection, as Aventri's credentials page lists them:
//! endpoint (region or explicit `…/api/v2`), account id, key, event id, active statuses,
//! modified-since behaviour, presenter and person photo endpoints, `ConcurrentSessionsTitle`.

use schemars::JsonSchema;
use serde::Deserialize;

use super::{ConfigError, Context, Secret};

/// Where the Aventri account is, how to sign in, and how its data is read.
#[derive(Debug, Clone)]
pub struct AventriSettings {
    pub endpoint: String,
    pub account_id: String,
    pub key: Secret,
    pub event_id: String,
    pub active_statuses: Vec<String>,
    /// Hours an incremental sync looks back before the last sync's newest change.
    pub modified_since_overlap_hours: u32,
    pub presenter_photo_endpoint: Option<String>,
    pub person_photo_endpoint: Option<String>,
    pub concurrent_sessions_title: Option<String>,
    pub sponsor_category: String,
    /// The event's offset from UTC, such as `+02:00`: Aventri's times are event-local.
    pub utc_offset: chrono::FixedOffset,
}

/// The fields that hold or point at the secret: never exported, never read from a workbook.
pub(crate) const SECRET_FIELDS: &[&str] = &["key", "key_file"];

/// The fields of a `kind = "aventri"` connection.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "An Aventri (API v2) connection",
    extend(
        "allOf" = [
            { "anyOf": [{ "required": ["region"] }, { "required": ["endpoint"] }] },
            { "anyOf": [{ "required": ["key"] }, { "required": ["key_file"] }] },
            { "not": { "required": ["key", "key_file"] } }
        ],
        "required" = ["account_id", "event_id"]
    )
)]
pub(super) struct Raw {
    /// The account's region (case is ignored); or give endpoint.
    #[schemars(extend("enum" = ["na", "emea", "apac"]))]
    region: Option<String>,
    /// The API's address, ending in /api/v2; wins over region.
    #[schemars(regex(pattern = r"/api/v2/?$"))]
    endpoint: Option<String>,
    /// The Aventri account id.
    account_id: Option<String>,
    /// The account's API key: best "${ENV_VAR}"; "enc:v1:…" is a value encrypted with
    /// EVENTSYNC_SECRET_KEY. Never printed or logged. Or give key_file.
    key: Option<String>,
    /// A file holding the API key, relative to this file.
    key_file: Option<std::path::PathBuf>,
    /// The event's id.
    event_id: Option<String>,
    /// Registration statuses that import as active, comma separated; others import as
    /// cancelled.
    #[schemars(extend("default" = "Confirmed,Attended"))]
    active_statuses: Option<String>,
    /// Hours an incremental sync looks back before the last sync's newest change.
    #[schemars(extend("default" = 24))]
    modified_since_overlap_hours: Option<u32>,
    /// A URL with {speakerid} where the id goes: presenter photos are fetched and checked.
    #[schemars(regex(pattern = r"\{speakerid\}"))]
    presenter_photo_endpoint: Option<String>,
    /// A URL with {attendeeid} where the id goes: attendee photos are fetched and checked.
    #[schemars(regex(pattern = r"\{attendeeid\}"))]
    person_photo_endpoint: Option<String>,
    /// The title of master sessions made for in_slot sessions that start together.
    #[serde(
        rename = "ConcurrentSessionsTitle",
        alias = "concurrent_sessions_title"
    )]
    concurrent_sessions_title: Option<String>,
    /// The registration category whose registrations become sponsors, not people; their
    /// subcategory is the sponsorship level.
    #[schemars(extend("default" = "Sponsor"))]
    sponsor_category: Option<String>,
    /// The event's offset from UTC (+HH:MM, -HH:MM or Z): Aventri's times are event-local.
    #[schemars(
        regex(pattern = r"^\s*(Z|[+-][0-9]+:[0-9]+)\s*$"),
        extend("default" = "+00:00")
    )]
    utc_offset: Option<String>,
}

pub(super) fn parse(
    fields: toml::Table,
    context: &mut Context<'_>,
) -> Result<AventriSettings, ConfigError> {
    let raw: Raw = fields
        .try_into()
        .map_err(|e| ConfigError(format!("connection '{}': {e}", context.connection)))?;
    let endpoint = match (raw.endpoint, raw.region) {
        (Some(url), _) => {
            let url = context.expand(&url, "endpoint")?;
            let url = url.trim_end_matches('/').to_string();
            if !url.ends_with("/api/v2") {
                return Err(ConfigError(format!(
                    "{}: '{url}' must end in /api/v2, such as https://api-na.eventscloud.com/api/v2",
                    context.what("endpoint")
                )));
            }
            url
        }
        (None, Some(region)) => connectors::aventri::Region::parse(&region)
            .map(|r| r.endpoint().to_string())
            .ok_or_else(|| {
                ConfigError(format!(
                    "{}: '{region}' is not a region; use na, emea or apac",
                    context.what("region")
                ))
            })?,
        (None, None) => {
            return Err(ConfigError(format!(
                "connection '{}' needs region = \"na\", \"emea\" or \"apac\", or an endpoint ending in /api/v2",
                context.connection
            )));
        }
    };
    let active_statuses = match raw.active_statuses {
        Some(text) => {
            let statuses = connectors::aventri::parse_statuses(&text);
            if statuses.is_empty() {
                return Err(ConfigError(format!(
                    "{}: name at least one status, comma separated, such as \"Confirmed,Attended\"",
                    context.what("active_statuses")
                )));
            }
            statuses
        }
        None => connectors::aventri::AventriConfig::DEFAULT_ACTIVE_STATUSES
            .iter()
            .map(|s| s.to_string())
            .collect(),
    };
    let template = |value: Option<String>, field: &str, placeholder: &str| match value {
        Some(url) if !url.contains(placeholder) => Err(ConfigError(format!(
            "{}: the URL must contain {placeholder} where the id goes",
            context.what(field)
        ))),
        other => Ok(other),
    };
    let presenter_photo_endpoint = template(
        raw.presenter_photo_endpoint,
        "presenter_photo_endpoint",
        "{speakerid}",
    )?;
    let person_photo_endpoint = template(
        raw.person_photo_endpoint,
        "person_photo_endpoint",
        "{attendeeid}",
    )?;
    let utc_offset = match raw.utc_offset {
        None => chrono::FixedOffset::east_opt(0),
        Some(text) => parse_offset(&text),
    }
    .ok_or_else(|| {
        ConfigError(format!(
            "{}: write the event's offset from UTC as +HH:MM or -HH:MM, such as +02:00",
            context.what("utc_offset")
        ))
    })?;
    Ok(AventriSettings {
        endpoint,
        account_id: context.required(raw.account_id, "account_id")?,
        key: context.secret(raw.key, raw.key_file, "key")?,
        event_id: context.required(raw.event_id, "event_id")?,
        active_statuses,
        modified_since_overlap_hours: raw.modified_since_overlap_hours.unwrap_or(24),
        presenter_photo_endpoint,
        person_photo_endpoint,
        concurrent_sessions_title: raw
            .concurrent_sessions_title
            .filter(|t| !t.trim().is_empty()),
        sponsor_category: raw
            .sponsor_category
            .unwrap_or_else(|| "Sponsor".to_string()),
        utc_offset,
    })
}

/// `+HH:MM`, `-HH:MM` or `Z`.
fn parse_offset(text: &str) -> Option<chrono::FixedOffset> {
    let text = text.trim();
    if text == "Z" {
        return chrono::FixedOffset::east_opt(0);
    }
    let (sign, rest) = match text.split_at_checked(1)? {
        ("+", rest) => (1, rest),
        ("-", rest) => (-1, rest),
        _ => return None,
    };
    let (hours, minutes) = rest.split_once(':')?;
    let seconds = hours.parse::<i32>().ok()? * 3600 + minutes.parse::<i32>().ok()? * 60;
    chrono::FixedOffset::east_opt(sign * seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets() {
        let cases = [
            ("+02:00", Some(7200)),
            ("-05:30", Some(-19800)),
            ("Z", Some(0)),
            ("2", None),
            ("+2", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(
                parse_offset(text).map(|o| o.local_minus_utc()),
                expected,
                "{text}"
            );
        }
    }
}

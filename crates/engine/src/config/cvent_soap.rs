//! The settings of a `kind = "cvent-soap"` connection: host, account, API user and event code.

use schemars::JsonSchema;
use serde::Deserialize;

use super::{ConfigError, Context, Secret};

/// Where the Cvent SOAP account is and how to log in to it.
#[derive(Debug, Clone)]
pub struct CventSoapSettings {
    /// The Login endpoint (`…/V200611.ASMX`).
    pub base_url: String,
    pub account_number: String,
    pub user_name: String,
    pub password: Secret,
    pub event_code: String,
}

/// The fields that hold or point at the secret: never exported, never read from a workbook.
pub(crate) const SECRET_FIELDS: &[&str] = &["password", "password_file"];

/// The fields of a `kind = "cvent-soap"` connection.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "A Cvent SOAP (V200611) connection",
    extend(
        "allOf" = [
            { "anyOf": [{ "required": ["host"] }, { "required": ["base_url"] }] },
            { "anyOf": [{ "required": ["password"] }, { "required": ["password_file"] }] },
            { "not": { "required": ["password", "password_file"] } }
        ],
        "required" = ["account_number", "user_name", "event_code"]
    )
)]
pub(super) struct Raw {
    /// Cvent's SOAP host (case is ignored; na is production); or give base_url.
    #[schemars(extend("enum" = ["production", "na", "eu", "sandbox"]))]
    host: Option<String>,
    /// The Login endpoint, such as https://api.cvent.com/soap/V200611.ASMX; wins over host.
    base_url: Option<String>,
    /// The Cvent account number.
    account_number: Option<String>,
    /// The API user; Cvent must allow this machine's IP address for it.
    user_name: Option<String>,
    /// The API user's password: best "${ENV_VAR}"; "enc:v1:…" is a value encrypted with
    /// EVENTSYNC_SECRET_KEY. Never printed or exported. Or give password_file.
    password: Option<String>,
    /// A file holding the password, relative to this file.
    password_file: Option<std::path::PathBuf>,
    /// The event's code.
    event_code: Option<String>,
}

pub(super) fn parse(
    fields: toml::Table,
    context: &mut Context<'_>,
) -> Result<CventSoapSettings, ConfigError> {
    let raw: Raw = fields
        .try_into()
        .map_err(|e| ConfigError(format!("connection '{}': {e}", context.connection)))?;
    let base_url = match (raw.base_url, raw.host) {
        (Some(url), _) => context.expand(&url, "base_url")?,
        (None, Some(host)) => connectors::cvent_soap::Host::parse(&host)
            .map(|h| h.login_url().to_string())
            .ok_or_else(|| {
                ConfigError(format!(
                    "{}: '{host}' is not a Cvent SOAP host; use production, eu or sandbox",
                    context.what("host")
                ))
            })?,
        (None, None) => {
            return Err(ConfigError(format!(
                "connection '{}' needs host = \"production\", \"eu\" or \"sandbox\", or a base_url",
                context.connection
            )));
        }
    };
    Ok(CventSoapSettings {
        base_url,
        account_number: context.required(raw.account_number, "account_number")?,
        user_name: context.required(raw.user_name, "user_name")?,
        password: context.secret(raw.password, raw.password_file, "password")?,
        event_code: context.required(raw.event_code, "event_code")?,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{Config, VendorSettings};

    const SOAP: &str = r#"
        [[connections]]
        name = "cvent"
        kind = "cvent-soap"
        host = "eu"
        account_number = "ACME01"
        user_name = "api.user"
        password = "${CVENT_PASSWORD}"
        event_code = "CONF27"
    "#;

    fn parse(text: &str) -> Result<Config, crate::ConfigError> {
        Config::parse(text, Path::new("eventsync.toml"), &|name| {
            (name == "CVENT_PASSWORD").then(|| "pa55".to_string())
        })
    }

    #[test]
    fn a_soap_connection() {
        let config = parse(SOAP).expect("valid");
        let connection = config.connection("cvent").expect("present");
        assert_eq!(connection.kind(), "cvent-soap");
        let VendorSettings::CventSoap(settings) = &connection.vendor else {
            panic!("a cvent-soap connection");
        };
        assert_eq!(
            settings.base_url,
            "https://api-eur.cvent.com/SOAP/V200611.ASMX"
        );
        assert_eq!(settings.password.expose(), "pa55");
        assert_eq!(
            connection.data_types.len(),
            4,
            "people, speakers, sessions, registrations"
        );
    }

    #[test]
    fn bad_soap_connections_say_what_to_fix() {
        let cases = [
            (
                SOAP.replace("\"eu\"", "\"asia\""),
                "use production, eu or sandbox",
            ),
            (
                SOAP.replace("user_name = \"api.user\"", ""),
                "needs user_name",
            ),
            (
                SOAP.replace("password = ", "pasword = "),
                "unknown field `pasword`",
            ),
            (
                SOAP.replace("\"CONF27\"", "\"CONF27\"\nclient_id = \"x\""),
                "unknown field `client_id`",
            ),
            (
                format!("{SOAP}data_types = [\"sponsors\"]\n"),
                "cannot sync sponsors",
            ),
        ];
        for (text, expected) in cases {
            let error = parse(&text).expect_err(expected);
            assert!(
                error.0.contains(expected),
                "{error} should mention {expected}"
            );
            assert!(!error.0.contains("pa55"), "the password never appears");
        }
    }
}

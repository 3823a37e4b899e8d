//! iMIS in `eventsync.toml`: a `kind = "imis"` connection is the association's site (a
//! destination fed from the workspace, never synced from), and a source connection's
//! `[connections.imis]` table says how its registrations reach it.
//!
//! ```toml
//! [[connections]]
//! name = "association"
//! kind = "imis"
//! site_url = "https://members.example.org/imis"   # with its virtual directory, if any
//! username = "eventsync"
//! password = "${IMIS_PASSWORD}"
//! query_service = "query"          # "query" (/api/query, iMIS EMS and Cloud) or "iqa" (2017)
//! link_secret = "${REGISTER_LINK_SECRET}"  # signs the website's registration links
//!
//! [[connections]]
//! name = "cvent"
//! kind = "cvent-rest"
//! # …
//! [connections.imis]
//! destination = "association"
//! activity_type = "EVENT"          # a LegacyActivityType code
//! product_code = "ANNCONF"         # the event code when absent
//! description = "{first_name} {last_name} registered for {event}"
//! key_field = "UF_1"               # where eventsync's key for the person is written
//! id_field = "custom.imis_id"      # the workspace field that carries an iMIS id, if any
//! match = ["id", "email"]          # how a person finds their party, in order
//! eligibility_query = "$/Events/Cvent/Eligible members"
//! ```

use schemars::JsonSchema;
use serde::Deserialize;

use super::{ConfigError, Context, Secret};

pub use connectors::imis::QueryService;

/// Where the iMIS site is and how to sign in to it.
#[derive(Debug, Clone)]
pub struct ImisSettings {
    pub site_url: String,
    pub username: String,
    pub password: Secret,
    /// Which service runs saved queries: the Query service or IQA.
    pub query_service: QueryService,
    /// The key registration links from the association's website are signed with.
    pub link_secret: Option<Secret>,
}

/// The fields that hold or point at a secret: never exported, never read from a workbook.
pub(crate) const SECRET_FIELDS: &[&str] = &[
    "password",
    "password_file",
    "link_secret",
    "link_secret_file",
];

/// The fields of a `kind = "imis"` connection: an association's iMIS site, a destination fed
/// from the workspace, with no data types of its own.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "An iMIS site",
    extend(
        "allOf" = [
            { "anyOf": [{ "required": ["password"] }, { "required": ["password_file"] }] },
            { "not": { "required": ["password", "password_file"] } },
            { "not": { "required": ["link_secret", "link_secret_file"] } }
        ],
        "required" = ["site_url", "username"]
    )
)]
pub(super) struct Raw {
    /// The iMIS site, with its virtual directory if any, without /api or /token, such as
    /// https://members.example.org/imis.
    #[schemars(regex(pattern = r"^\s*https?://[^/\s]+"))]
    site_url: Option<String>,
    /// The iMIS user eventsync signs in as.
    username: Option<String>,
    /// That user's password: best "${ENV_VAR}"; "enc:v1:…" is a value encrypted with
    /// EVENTSYNC_SECRET_KEY. Never printed. Or give password_file.
    password: Option<String>,
    /// A file holding the password, relative to this file.
    password_file: Option<std::path::PathBuf>,
    /// How saved queries run: query (/api/query, iMIS EMS and Cloud) or iqa (/api/iqa, iMIS
    /// 2017).
    #[schemars(extend("enum" = ["query", "iqa"], "default" = "query"))]
    query_service: Option<String>,
    /// The key (16 characters or more) the association's website signs registration links
    /// with; without it /register is off. As "${ENV_VAR}" or "enc:v1:…", or give
    /// link_secret_file.
    link_secret: Option<String>,
    /// A file holding the link key, relative to this file.
    link_secret_file: Option<std::path::PathBuf>,
}

pub(super) fn parse(
    fields: toml::Table,
    context: &mut Context<'_>,
) -> Result<ImisSettings, ConfigError> {
    let raw: Raw = fields
        .try_into()
        .map_err(|e| ConfigError(format!("connection '{}': {e}", context.connection)))?;
    let site_url = context.required(raw.site_url, "site_url")?;
    let site_url = context.expand(&site_url, "site_url")?;
    let parsed = reqwest_url(&site_url).ok_or_else(|| {
        ConfigError(format!(
            "{}: '{site_url}' is not an http(s) URL; give the iMIS site, such as https://members.example.org/imis",
            context.what("site_url")
        ))
    })?;
    if parsed.ends_with("/api") || parsed.ends_with("/token") {
        return Err(ConfigError(format!(
            "{}: give the site itself, without /api or /token: eventsync adds them",
            context.what("site_url")
        )));
    }
    let query_service = match raw.query_service.as_deref() {
        None | Some("query") => QueryService::Query,
        Some("iqa") => QueryService::Iqa,
        Some(other) => {
            return Err(ConfigError(format!(
                "{}: '{other}' is not one; use \"query\" (iMIS EMS and Cloud) or \"iqa\" (iMIS 2017)",
                context.what("query_service")
            )));
        }
    };
    let link_secret = match (&raw.link_secret, &raw.link_secret_file) {
        (None, None) => None,
        _ => {
            let secret = context.secret(raw.link_secret, raw.link_secret_file, "link_secret")?;
            if secret.expose().len() < 16 {
                return Err(ConfigError(format!(
                    "{}: use at least 16 characters (32 random ones are best)",
                    context.what("link_secret")
                )));
            }
            Some(secret)
        }
    };
    Ok(ImisSettings {
        site_url: parsed,
        username: context.required(raw.username, "username")?,
        password: context.secret(raw.password, raw.password_file, "password")?,
        query_service,
        link_secret,
    })
}

/// The URL without a trailing slash, if it is an http(s) URL with a host.
fn reqwest_url(text: &str) -> Option<String> {
    let trimmed = text.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))?;
    let host = rest.split('/').next().unwrap_or_default();
    (!host.is_empty() && !trimmed.contains(char::is_whitespace)).then(|| trimmed.to_string())
}

/// How a person is matched with an iMIS party.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MatchBy {
    /// The iMIS id the person's `id_field` carries.
    Id,
    /// The person's email, which exactly one party must have.
    Email,
}

/// How a source connection's registrations reach an iMIS site (`[connections.imis]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImisFeed {
    /// The `kind = "imis"` connection.
    pub destination: String,
    pub activity_type: String,
    /// The activity's `PRODUCT_CODE`; the connection's event code when `None`.
    pub product_code: Option<String>,
    /// The activity's `DESCRIPTION`, with `{first_name}`, `{last_name}`, `{email}`, `{event}`
    /// and `{external_id}` filled in.
    pub description: String,
    /// The user field (`UF_1`…`UF_3`) eventsync writes its key for the person into.
    pub key_field: String,
    /// The workspace field of people that carries an iMIS id.
    pub id_field: Option<String>,
    pub match_order: Vec<MatchBy>,
    /// The saved query that says who may register, and prefills their registration.
    pub eligibility_query: Option<String>,
}

pub const DEFAULT_ACTIVITY_TYPE: &str = "EVENT";
pub const DEFAULT_DESCRIPTION: &str = "{first_name} {last_name} registered for {event}";
pub const DEFAULT_KEY_FIELD: &str = "UF_1";

/// `[connections.imis]`: how this connection's registrations reach an iMIS site as activities.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "The iMIS feed of a connection")]
pub(super) struct RawFeed {
    /// The `kind = "imis"` connection this connection's registrations reach.
    destination: String,
    /// The iMIS activity type (a LegacyActivityType code) of each registration's activity.
    #[schemars(extend("default" = DEFAULT_ACTIVITY_TYPE))]
    activity_type: Option<String>,
    /// The activity's PRODUCT_CODE, and the iMIS event id of `eventsync imis import-event`
    /// (10 characters at most); the connection's event code when not given.
    product_code: Option<String>,
    /// The activity's DESCRIPTION; {first_name}, {last_name}, {email}, {external_id} and
    /// {event} are filled in.
    #[schemars(extend("default" = DEFAULT_DESCRIPTION))]
    description: Option<String>,
    /// The activity's user field that carries eventsync's key for the person (case is
    /// ignored).
    #[schemars(extend("enum" = ["UF_1", "UF_2", "UF_3"], "default" = DEFAULT_KEY_FIELD))]
    key_field: Option<String>,
    /// The people field that carries an iMIS id (such as custom.imis_id), for matching by id.
    id_field: Option<String>,
    /// How a person finds their iMIS party, in order: ["id", "email"] with id_field, else
    /// ["email"]. Two parties with one email are refused, never guessed.
    #[serde(rename = "match")]
    #[schemars(length(min = 1))]
    match_order: Option<Vec<MatchBy>>,
    /// A saved query ($/…) taking an iMIS id or email: no row means not eligible; its columns
    /// prefill the registration. Without it, everyone the association knows may register.
    #[schemars(regex(pattern = r"^\$/"))]
    eligibility_query: Option<String>,
}

impl RawFeed {
    pub(super) fn parse(self, connection: &str) -> Result<ImisFeed, ConfigError> {
        let what = |field: &str| format!("connection '{connection}', imis.{field}");
        let key_field = self
            .key_field
            .unwrap_or_else(|| DEFAULT_KEY_FIELD.to_string())
            .to_ascii_uppercase();
        if !["UF_1", "UF_2", "UF_3"].contains(&key_field.as_str()) {
            return Err(ConfigError(format!(
                "{}: '{key_field}' is not a text user field of an activity; use UF_1, UF_2 or UF_3",
                what("key_field")
            )));
        }
        let match_order = self.match_order.unwrap_or_else(|| match self.id_field {
            Some(_) => vec![MatchBy::Id, MatchBy::Email],
            None => vec![MatchBy::Email],
        });
        if match_order.is_empty() {
            return Err(ConfigError(format!(
                "{}: name at least one of \"id\" and \"email\"",
                what("match")
            )));
        }
        if match_order.contains(&MatchBy::Id) && self.id_field.is_none() {
            return Err(ConfigError(format!(
                "{}: matching by \"id\" needs id_field, the people field that carries the iMIS id (such as \"custom.imis_id\"); or use match = [\"email\"]",
                what("match")
            )));
        }
        if let Some(field) = &self.id_field
            && pipeline::DataType::People.field_type(field).is_none()
        {
            return Err(ConfigError(format!(
                "{}: '{field}' is not a field of people",
                what("id_field")
            )));
        }
        if let Some(query) = &self.eligibility_query
            && !query.starts_with("$/")
        {
            return Err(ConfigError(format!(
                "{}: '{query}' is not a saved query's path; it starts with $/, such as \"$/Events/Cvent/Eligible members\"",
                what("eligibility_query")
            )));
        }
        let activity_type = self
            .activity_type
            .unwrap_or_else(|| DEFAULT_ACTIVITY_TYPE.to_string());
        if activity_type.trim().is_empty() {
            return Err(ConfigError(format!(
                "{}: must not be empty",
                what("activity_type")
            )));
        }
        Ok(ImisFeed {
            destination: self.destination,
            activity_type,
            product_code: self.product_code.filter(|code| !code.trim().is_empty()),
            description: self
                .description
                .unwrap_or_else(|| DEFAULT_DESCRIPTION.to_string()),
            key_field,
            id_field: self.id_field,
            match_order,
            eligibility_query: self.eligibility_query,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{Config, MatchBy, QueryService, VendorSettings};

    const SITE: &str = r#"
        [[connections]]
        name = "association"
        kind = "imis"
        site_url = "https://members.example.org/imis/"
        username = "eventsync"
        password = "${IMIS_PASSWORD}"
        link_secret = "${LINK_SECRET}"
    "#;

    const SOURCE: &str = r#"
        [[connections]]
        name = "cvent"
        kind = "cvent-soap"
        host = "eu"
        account_number = "ACME01"
        user_name = "api.user"
        password = "${CVENT_PASSWORD}"
        event_code = "CONF27"
    "#;

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(text, Path::new("eventsync.toml"), &|name| match name {
            "LINK_SECRET" => Some("0123456789abcdef0123".to_string()),
            _ => Some("secret".to_string()),
        })
        .map_err(|error| error.0)
    }

    #[test]
    fn a_site_and_a_feed_are_read_with_their_defaults() {
        let config = parse(&format!(
            "{SITE}{SOURCE}\n[connections.imis]\ndestination = \"association\"\n"
        ))
        .unwrap();
        let VendorSettings::Imis(site) = &config.connection("association").unwrap().vendor else {
            panic!("an iMIS site");
        };
        assert_eq!(site.site_url, "https://members.example.org/imis");
        assert_eq!(site.query_service, QueryService::Query);
        assert!(site.link_secret.is_some());
        assert!(
            config
                .connection("association")
                .unwrap()
                .data_types
                .is_empty()
        );
        let feed = config.connection("cvent").unwrap().imis.clone().unwrap();
        assert_eq!(feed.activity_type, "EVENT");
        assert_eq!(feed.key_field, "UF_1");
        assert_eq!(feed.match_order, vec![MatchBy::Email]);
        assert_eq!(feed.product_code, None);
    }

    #[test]
    fn mistakes_name_what_to_fix() {
        let feed = |lines: &str| format!("{SITE}{SOURCE}\n[connections.imis]\n{lines}\n");
        let cases = [
            (
                feed("destination = \"nowhere\""),
                "no connection is named 'nowhere'",
            ),
            (feed("destination = \"cvent\""), "not an iMIS site"),
            (
                feed("destination = \"association\"\nkey_field = \"UF_4\""),
                "use UF_1, UF_2 or UF_3",
            ),
            (
                feed("destination = \"association\"\nmatch = [\"id\"]"),
                "needs id_field",
            ),
            (
                feed("destination = \"association\"\nid_field = \"imis\""),
                "is not a field of people",
            ),
            (
                feed("destination = \"association\"\neligibility_query = \"Members\""),
                "starts with $/",
            ),
            (
                feed("destination = \"association\"\nmatch = [\"phone\"]"),
                "unknown variant",
            ),
            (
                SITE.replace("/imis/", "/imis/api"),
                "without /api or /token",
            ),
            (SITE.replace("https://", "ftp://"), "not an http(s) URL"),
            (
                SITE.replace("query_service", "x").replace(
                    "link_secret = \"${LINK_SECRET}\"",
                    "query_service = \"soap\"",
                ),
                "use \"query\"",
            ),
            (
                SITE.replace("\"${LINK_SECRET}\"", "\"${SHORT}\""),
                "at least 16 characters",
            ),
            (
                format!("{SITE}data_types = [\"people\"]\n"),
                "has no data types to sync",
            ),
        ];
        for (text, expected) in cases {
            let text = text.replace("${SHORT}", "short");
            let error = parse(&text).expect_err(expected);
            assert!(error.contains(expected), "{expected}: {error}");
        }
    }
}

//! `[smtp]`: where run summaries are mailed from, and the subscriber addresses of a data config.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Deserialize;

use super::{ConfigError, Secret, expand};

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same host or network.
    None,
}

/// The mail server run summaries go through.
#[derive(Debug, Clone)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// The sender, e.g. `eventsync <eventsync@example.org>`.
    pub from: String,
}

/// `[smtp]`: the mail server run summaries (and refusal digests) go through.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "The mail server",
    extend(
        "not" = { "required": ["password", "password_file"] },
        "dependencies" = { "password": ["username"], "password_file": ["username"] }
    )
)]
pub(super) struct RawSmtp {
    /// The mail server's host name; ${ENV_VAR} is expanded.
    host: String,
    /// The mail server's port: 587 for starttls, 465 for tls, 25 for none when not given.
    #[schemars(extend("default" = 587))]
    port: Option<u16>,
    /// starttls, tls (from the first byte) or none (a relay on the same host or network only).
    #[schemars(extend("enum" = ["starttls", "tls", "none"], "default" = "starttls"))]
    tls: Option<String>,
    /// The SMTP login; ${ENV_VAR} is expanded.
    username: Option<String>,
    /// The SMTP password: best "${ENV_VAR}"; "enc:v1:…" is a value encrypted with
    /// EVENTSYNC_SECRET_KEY. Needs username; never printed. Or give password_file.
    password: Option<String>,
    /// A file holding the SMTP password, relative to this file.
    password_file: Option<PathBuf>,
    /// The sender, such as eventsync <eventsync@example.org>.
    from: String,
}

impl RawSmtp {
    pub(super) fn parse(
        self,
        base_dir: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Smtp, ConfigError> {
        let tls = match self.tls.as_deref().unwrap_or("starttls") {
            "starttls" => SmtpTls::StartTls,
            "tls" => SmtpTls::Tls,
            "none" => SmtpTls::None,
            other => {
                return Err(ConfigError(format!(
                    "smtp: tls = \"{other}\" is not one of \"starttls\", \"tls\", \"none\""
                )));
            }
        };
        let port = self.port.unwrap_or(match tls {
            SmtpTls::Tls => 465,
            SmtpTls::StartTls => 587,
            SmtpTls::None => 25,
        });
        let password = match (self.password, self.password_file) {
            (Some(value), None) if super::secrets::is_sealed(&value) => Some(Secret::new(
                super::secrets::open(&value, "smtp: password", env)?,
            )),
            (Some(value), None) => Some(Secret::new(expand(&value, "smtp: password", env)?)),
            (None, Some(file)) => {
                let file = if file.is_absolute() {
                    file
                } else {
                    base_dir.join(file)
                };
                let text = std::fs::read_to_string(&file).map_err(|e| {
                    ConfigError(format!(
                        "smtp: cannot read password_file {}: {e}",
                        file.display()
                    ))
                })?;
                Some(Secret::new(text.trim().to_string()))
            }
            (Some(_), Some(_)) => {
                return Err(ConfigError(
                    "smtp: give password or password_file, not both".to_string(),
                ));
            }
            (None, None) => None,
        };
        if password.is_some() && self.username.is_none() {
            return Err(ConfigError("smtp: a password needs a username".to_string()));
        }
        check_address(&self.from, "smtp: from")?;
        Ok(Smtp {
            host: expand(&self.host, "smtp: host", env)?,
            port,
            tls,
            username: self
                .username
                .map(|name| expand(&name, "smtp: username", env))
                .transpose()?,
            password,
            from: self.from,
        })
    }
}

/// A plausible mail address (`name@host`, optionally as `Name <name@host>`); the mail server
/// has the last word.
pub(super) fn check_address(address: &str, what: &str) -> Result<(), ConfigError> {
    let bare = match (address.find('<'), address.rfind('>')) {
        (Some(open), Some(close)) if open < close => &address[open + 1..close],
        _ => address,
    };
    let plausible = bare.split_once('@').is_some_and(|(local, host)| {
        !local.is_empty() && (host.contains('.') || host == "localhost")
    }) && !bare.contains(char::is_whitespace);
    if plausible {
        Ok(())
    } else {
        Err(ConfigError(format!(
            "{what}: '{address}' is not a mail address such as ops@example.org"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked() {
        for good in ["ops@example.org", "Ops <ops@example.org>", "root@localhost"] {
            assert!(check_address(good, "x").is_ok(), "{good}");
        }
        for bad in ["", "ops", "@example.org", "ops@", "o ps@example.org"] {
            assert!(check_address(bad, "x").is_err(), "{bad}");
        }
    }
}

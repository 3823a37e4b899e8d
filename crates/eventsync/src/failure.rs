//! How a command that failed says so: a line of prose on stderr, or under `--json` the body the
//! API answers an error with, `{"error": {"code": …, "message": …}}`, as one line on stderr.
//! Stdout carries results only, so a program reading it never has to tell an answer from a
//! complaint; the exit code is the same either way (`exit.rs`).

use std::fmt;

use serde_json::Value;

use crate::exit;

/// A refusal the command line names with one of the API's error codes, where the engine's
/// error alone would not say which: a connection that is not configured is `not_found`, as
/// `GET /v1/connections/{name}` answers, not just a configuration mistake. Exits with USAGE,
/// as every mistake on the command line does.
#[derive(Debug)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    pub fn not_found(message: impl Into<String>) -> Refusal {
        Refusal {
            code: "not_found",
            message: message.into(),
        }
    }

    pub fn name_taken(message: impl Into<String>) -> Refusal {
        Refusal {
            code: "name_taken",
            message: message.into(),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Refusal {}

/// A failed command: its exit code, the API's code for the same failure, and what to do.
#[derive(Debug, PartialEq)]
pub struct Failure {
    pub exit: u8,
    pub code: &'static str,
    pub message: String,
}

impl Failure {
    pub fn of(error: &anyhow::Error) -> Failure {
        let exit = exit::code_for(error);
        Failure {
            exit,
            code: api_code(error, exit),
            message: format!("{error:#}"),
        }
    }

    /// A command line clap refused: an unknown option, a missing argument, a value out of range.
    pub fn usage(error: &clap::Error) -> Failure {
        Failure {
            exit: exit::USAGE,
            code: "invalid_request",
            message: usage_message(&error.render().to_string()),
        }
    }

    /// The API's error body.
    /// The API's error body, `server::error::ErrorAnswer`.
    pub fn json(&self) -> Value {
        serde_json::to_value(server::error::ErrorAnswer::new(
            self.code,
            self.message.as_str(),
        ))
        .unwrap_or(Value::Null)
    }

    /// Writes the failure to stderr: JSON on one line, or `error: …` for people. A stderr that
    /// is closed leaves the exit code to tell.
    pub fn print(&self, json: bool) {
        use std::io::Write;

        let mut stderr = std::io::stderr().lock();
        let _ = if json {
            writeln!(stderr, "{}", self.json())
        } else {
            writeln!(stderr, "error: {}", self.message)
        };
    }
}

/// The API's code for a failure: the one its route answers for the same cause, found anywhere in
/// the error's chain; otherwise `invalid_request` for a mistake to fix (exit 2) and `internal`
/// for the rest, as the API answers a failure of its own.
fn api_code(error: &anyhow::Error, exit_code: u8) -> &'static str {
    use destinations::imis::meeting::MeetingError;

    for cause in error.chain() {
        if let Some(refusal) = cause.downcast_ref::<Refusal>() {
            return refusal.code;
        }
        if let Some(engine::RunError::InProgress(_)) = cause.downcast_ref::<engine::RunError>() {
            return "run_in_progress";
        }
        if let Some(meeting) = cause.downcast_ref::<MeetingError>() {
            return match meeting {
                MeetingError::Config(_) => "invalid_request",
                MeetingError::NotSynced { .. } => "not_synced",
                MeetingError::Imis { .. } => "imis_error",
                MeetingError::Store(_) => "internal",
            };
        }
        if cause.downcast_ref::<connectors::ConnectorError>().is_some() {
            return "unavailable";
        }
    }
    if exit_code == exit::USAGE {
        "invalid_request"
    } else {
        "internal"
    }
}

/// Clap's explanation on one line: what is wrong, its tip and the usage it expected, without
/// the `error:` prefix and the pointer to `--help`.
fn usage_message(rendered: &str) -> String {
    let mut text = String::new();
    for line in rendered
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("For more information"))
    {
        if !text.is_empty() {
            // A list clap announces with a colon goes on after it.
            text.push_str(if text.ends_with(':') { " " } else { "; " });
        }
        text.push_str(line);
    }
    text.strip_prefix("error: ").unwrap_or(&text).to_string()
}

/// Whether the command line asks for JSON: `--json` before any `--` that ends the options.
pub fn json_requested(args: &[std::ffi::OsString]) -> bool {
    args.iter()
        .skip(1)
        .take_while(|arg| *arg != "--")
        .any(|arg| arg == "--json")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn clap_usage_becomes_one_line_naming_the_mistake_and_the_usage() {
        let rendered = "error: unexpected argument '--typo' found\n\n  tip: to pass '--typo' as a value, use '-- --typo'\n\nUsage: eventsync runs [OPTIONS]\n\nFor more information, try '--help'.\n";
        assert_eq!(
            usage_message(rendered),
            "unexpected argument '--typo' found; tip: to pass '--typo' as a value, use '-- --typo'; Usage: eventsync runs [OPTIONS]"
        );
        let missing = "error: the following required arguments were not provided:\n  <VENDOR>\n\nUsage: eventsync simulate <VENDOR>\n";
        assert_eq!(
            usage_message(missing),
            "the following required arguments were not provided: <VENDOR>; Usage: eventsync simulate <VENDOR>"
        );
    }

    #[test]
    fn json_is_asked_for_only_among_the_options() {
        let args = |list: &[&str]| -> Vec<std::ffi::OsString> {
            list.iter().map(std::ffi::OsString::from).collect()
        };
        assert!(json_requested(&args(&["eventsync", "runs", "--json"])));
        assert!(json_requested(&args(&["eventsync", "--json", "runs"])));
        assert!(!json_requested(&args(&["eventsync", "runs"])));
        assert!(!json_requested(&args(&["eventsync", "--", "--json"])));
        assert!(!json_requested(&args(&["eventsync", "--json-ish"])));
    }

    #[test]
    fn codes_are_the_apis_and_exit_codes_are_unchanged() {
        let config: anyhow::Error = engine::ConfigError("bad".into()).into();
        let failure = Failure::of(&config);
        assert_eq!(
            (failure.exit, failure.code),
            (exit::USAGE, "invalid_request")
        );

        let missing: anyhow::Error = Refusal::not_found("no connection named 'x'").into();
        let failure = Failure::of(&missing);
        assert_eq!((failure.exit, failure.code), (exit::USAGE, "not_found"));

        let other = anyhow::anyhow!("the disk is full");
        let failure = Failure::of(&other);
        assert_eq!((failure.exit, failure.code), (exit::FAILURE, "internal"));
        assert_eq!(
            failure.json(),
            json!({"error": {"code": "internal", "message": "the disk is full"}})
        );
    }
}

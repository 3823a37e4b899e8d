//! What can go wrong in the store, and how a database URL is shown without its password.

/// A store failure. Every message says what happened and, where the cause is likely the
/// caller's setup, what to change.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or reached. `url` never carries a password.
    #[error("cannot open {} at {url}: {reason}", backend_label(.url))]
    Open { url: String, reason: String },
    /// The schema could not be brought up to date.
    #[error("cannot update the database schema: {0}")]
    Migration(String),
    /// A read or write failed, or a request was invalid; the message names the operation.
    #[error("{0}")]
    Query(String),
    /// A name that must be unique is taken; the message names it and what to do.
    #[error("{0}")]
    Conflict(String),
    /// The database holds something the store did not write (unparseable JSON, a negative count).
    #[error("the database holds unexpected data: {0}")]
    Corrupt(String),
}

fn backend_label(url: &str) -> &'static str {
    if is_postgres_url(url) {
        "PostgreSQL"
    } else {
        "SQLite"
    }
}

pub(crate) fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// `url` with any password replaced by `***`, both in the user-info part
/// (`postgres://user:secret@host`) and in a `password=` parameter.
pub fn redact_url(url: &str) -> String {
    let mut redacted = String::with_capacity(url.len());
    let rest = match user_info_password(url) {
        Some(password) => {
            redacted.push_str(&url[..password.start]);
            redacted.push_str("***");
            &url[password.end..]
        }
        None => url,
    };
    redacted.push_str(&redact_password_parameters(rest));
    redacted
}

/// Where the password of `scheme://user:password@host` lies. The user info is taken to run to
/// the *last* `@`, so that a password with an unescaped `/`, `?`, `#` or `@` is still found:
/// an `@` later in the URL can only make more of it hidden, never less.
fn user_info_password(url: &str) -> Option<std::ops::Range<usize>> {
    let after_scheme = url.find("://")? + 3;
    let at = after_scheme + url[after_scheme..].rfind('@')?;
    let colon = after_scheme + url[after_scheme..at].find(':')?;
    Some(colon + 1..at)
}

/// Replaces the value of every `password=` key (in a query string or a `key=value` list).
fn redact_password_parameters(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut remaining = text;
    while let Some(found) = find_ascii_case_insensitive(remaining, "password=") {
        let value_start = found + "password=".len();
        out.push_str(&remaining[..value_start]);
        out.push_str("***");
        let value = &remaining[value_start..];
        let value_end = value.find(['&', ' ', '#']).unwrap_or(value.len());
        remaining = &value[value_end..];
    }
    out.push_str(remaining);
    out
}

fn find_ascii_case_insensitive(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The passwords a URL carries, raw and percent-decoded, so that a driver message quoting one
/// can be scrubbed too.
pub(crate) fn passwords_in(url: &str) -> Vec<String> {
    let mut passwords = Vec::new();
    if let Some(password) = user_info_password(url) {
        passwords.push(url[password].to_string());
    }
    let mut remaining = url;
    while let Some(found) = find_ascii_case_insensitive(remaining, "password=") {
        let value = &remaining[found + "password=".len()..];
        let value_end = value.find(['&', ' ', '#']).unwrap_or(value.len());
        passwords.push(value[..value_end].to_string());
        remaining = &value[value_end..];
    }
    let decoded: Vec<String> = passwords.iter().map(|p| percent_decode(p)).collect();
    passwords.extend(decoded);
    // Very short passwords would mangle ordinary words if scrubbed from free text.
    passwords.retain(|password| password.len() >= 3);
    passwords.sort();
    passwords.dedup();
    passwords
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = match bytes.get(index..index + 3) {
            Some([b'%', high, low]) => hex_value(*high).zip(hex_value(*low)),
            _ => None,
        };
        match escaped {
            Some((high, low)) => {
                decoded.push(high * 16 + low);
                index += 3;
            }
            None => {
                decoded.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn hex_value(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|value| value as u8)
}

/// `message` with every password of `url` replaced by `***`.
pub(crate) fn scrub(message: &str, url: &str) -> String {
    passwords_in(url)
        .iter()
        .fold(message.to_string(), |text, password| {
            text.replace(password.as_str(), "***")
        })
}

/// Why opening failed, in words that point at the fix.
pub(crate) fn explain_open_failure(error: &sqlx::Error, url: &str) -> String {
    let postgres = is_postgres_url(url);
    let reason = match error {
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused — is the server running? check --database".to_string()
        }
        sqlx::Error::Io(io) => format!("{io} — check the host and port in --database"),
        sqlx::Error::PoolTimedOut => {
            "timed out while connecting — is the host reachable and the port right? check --database"
                .to_string()
        }
        sqlx::Error::Tls(tls) => format!(
            "{tls} — this build has no TLS support: connect without sslmode=require/verify-* \
             (over a private network or an SSH tunnel)"
        ),
        sqlx::Error::Configuration(configuration) => {
            format!("{configuration} — check the --database value")
        }
        sqlx::Error::Database(database) if postgres => {
            let hint = match database.code().as_deref() {
                Some("28P01" | "28000") => " — check the user name and password in --database",
                Some("3D000") => " — create the database first, or check its name in --database",
                Some("42501") => " — the user may not create tables here: grant it rights on the schema",
                Some("53300") => " — the server has no free connections: try again or raise max_connections",
                _ => "",
            };
            format!("{}{hint}", database.message())
        }
        sqlx::Error::Database(database) => {
            let hint = match sqlite_primary_code(database.as_ref()) {
                Some(14) => " — does the directory exist, and may this process write there? check --database",
                Some(26) => " — --database must point at an eventsync SQLite file (or a path to create one)",
                Some(8) => " — the file or its directory is read-only: eventsync needs to write there",
                Some(5 | 6) => " — another process holds the database locked; stop it or wait",
                Some(11) => " — the file is damaged: restore it from a backup",
                _ => "",
            };
            format!("{}{hint}", database.message())
        }
        other => other.to_string(),
    };
    scrub(&reason, url)
}

/// Whether SQLite answered `SQLITE_BUSY` or `SQLITE_LOCKED`: another connection holds a lock.
pub(crate) fn sqlite_locked(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(database) => {
            database
                .try_downcast_ref::<sqlx::sqlite::SqliteError>()
                .is_some()
                && matches!(sqlite_primary_code(database.as_ref()), Some(5 | 6))
        }
        _ => false,
    }
}

/// SQLite's primary result code; extended codes keep it in the low byte.
fn sqlite_primary_code(error: &dyn sqlx::error::DatabaseError) -> Option<i32> {
    error
        .code()
        .and_then(|code| code.parse::<i32>().ok())
        .map(|code| code & 0xff)
}

/// A failed read or write, named by what the store was doing: `"{operation}: {cause}"`.
pub(crate) fn query_failed(operation: impl std::fmt::Display, error: sqlx::Error) -> StoreError {
    let cause = match &error {
        sqlx::Error::Database(database) => {
            let hint = if sqlite_locked(&error) {
                " — another process kept the SQLite file locked; only one eventsync process \
                 should write to a SQLite store (use PostgreSQL to run several)"
            } else {
                ""
            };
            format!("{}{hint}", database.message())
        }
        sqlx::Error::PoolTimedOut => {
            "no database connection became free in time — the database is overloaded or unreachable"
                .to_string()
        }
        other => other.to_string(),
    };
    StoreError::Query(format!("{operation}: {cause}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_in_user_info_and_parameters() {
        let cases = [
            (
                "postgres://app:s3cret@db.example:5432/events",
                "postgres://app:***@db.example:5432/events",
            ),
            ("postgres://app@db/events", "postgres://app@db/events"),
            ("postgresql://:pw@db", "postgresql://:***@db"),
            (
                "postgres://app:p%40ss@db/events?sslmode=disable&password=other",
                "postgres://app:***@db/events?sslmode=disable&password=***",
            ),
            ("/var/lib/eventsync/store.db", "/var/lib/eventsync/store.db"),
            ("sqlite::memory:", "sqlite::memory:"),
            (
                "host=db PASSWORD=x user=app",
                "host=db PASSWORD=*** user=app",
            ),
        ];
        for (url, expected) in cases {
            assert_eq!(redact_url(url), expected, "redacting {url}");
        }
    }

    #[test]
    fn scrubs_raw_and_decoded_passwords_from_messages() {
        let url = "postgres://app:p%40ssword@db/events";
        let message = "login as app with p@ssword or p%40ssword failed";
        assert_eq!(scrub(message, url), "login as app with *** or *** failed");
    }

    #[test]
    fn open_error_names_the_backend() {
        let error = StoreError::Open {
            url: redact_url("postgres://app:secret@localhost:1/events"),
            reason: "connection refused".into(),
        };
        assert_eq!(
            error.to_string(),
            "cannot open PostgreSQL at postgres://app:***@localhost:1/events: connection refused"
        );
    }
}

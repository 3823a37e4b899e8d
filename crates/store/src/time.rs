//! The store's timestamps: RFC 3339 UTC with microseconds, fixed width so that text order is
//! time order in both SQLite and PostgreSQL.

use chrono::{DateTime, SecondsFormat, Utc};

pub(crate) fn now() -> String {
    format(Utc::now())
}

pub(crate) fn format(instant: DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(SecondsFormat::Micros, true)
}

//! The one way the API, `--json` and exports write a time: RFC 3339 in UTC to the second, with
//! `Z` (`2026-05-01T09:00:00Z`). The store keeps microseconds so that text order is time order;
//! callers see seconds.

use chrono::{DateTime, SecondsFormat, Utc};

/// `stamp` (any RFC 3339 time) in UTC to the second; text that is not such a time comes back
/// as it was.
pub fn seconds(stamp: &str) -> String {
    match DateTime::parse_from_rfc3339(stamp) {
        Ok(at) => format(at.with_timezone(&Utc)),
        Err(_) => stamp.to_string(),
    }
}

/// An instant in UTC to the second.
pub fn format(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_to_the_second_in_utc() {
        assert_eq!(
            seconds("2026-11-28T19:49:00.318421Z"),
            "2026-11-28T19:49:00Z"
        );
        assert_eq!(
            seconds("2026-11-28T21:49:00.9+02:00"),
            "2026-11-28T19:49:00Z"
        );
        assert_eq!(seconds("2026-11-28T19:49:00Z"), "2026-11-28T19:49:00Z");
        assert_eq!(seconds("not a time"), "not a time");
    }
}

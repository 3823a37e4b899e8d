//! The vendor's clock, as its answers state it.
//!
//! Every HTTP answer carries the server's time in its `Date` header (RFC 9110 §6.6.1). A
//! listing's watermark is a time on the vendor's clock — the clock that stamps `lastModified` —
//! so the engine asks here what the vendor's time was at a moment of ours. The offset is read
//! from the latest answer; `Date` has whole seconds and arrives after the vendor wrote it, so the
//! estimate runs up to a second or so behind the vendor, which errs on the safe side: an earlier
//! watermark lists a record twice, never skips one. Until an answer carried a `Date`, or when
//! the vendor sends none, the vendor's time is taken to be ours.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};
use reqwest::header::{DATE, HeaderMap};

/// No offset has been read yet.
const UNKNOWN: i64 = i64::MIN;

#[derive(Debug)]
pub struct VendorClock {
    /// The vendor's time less ours, in milliseconds, from the latest `Date` read.
    offset_millis: AtomicI64,
}

impl Default for VendorClock {
    fn default() -> VendorClock {
        VendorClock {
            offset_millis: AtomicI64::new(UNKNOWN),
        }
    }
}

impl VendorClock {
    /// Reads the vendor's time from an answer's headers, just received.
    pub fn observe(&self, headers: &HeaderMap) {
        let Some(stated) = headers
            .get(DATE)
            .and_then(|value| value.to_str().ok())
            .and_then(parse_http_date)
        else {
            return;
        };
        let offset = (stated - Utc::now()).num_milliseconds();
        self.offset_millis.store(offset, Ordering::Relaxed);
    }

    /// The vendor's time at `ours`, a moment of this machine's clock.
    pub fn at(&self, ours: DateTime<Utc>) -> DateTime<Utc> {
        match self.offset_millis.load(Ordering::Relaxed) {
            UNKNOWN => ours,
            offset => ours + chrono::Duration::milliseconds(offset),
        }
    }

    /// The vendor's time now.
    pub fn now(&self) -> DateTime<Utc> {
        self.at(Utc::now())
    }
}

/// An HTTP date in its preferred form, `Sun, 06 Nov 1994 08:49:37 GMT`.
fn parse_http_date(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(text.trim())
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(date: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(DATE, HeaderValue::from_str(date).expect("a header value"));
        headers
    }

    #[test]
    fn the_vendors_time_follows_its_date_header() {
        let clock = VendorClock::default();
        let ours = Utc::now();
        assert_eq!(clock.at(ours), ours, "no answer yet: our time");
        let ahead = Utc::now() + chrono::Duration::hours(3);
        clock.observe(&headers(
            &ahead.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
        ));
        let vendor = clock.now();
        let gap = (vendor - ahead).num_milliseconds();
        assert!(
            (-1_500..=500).contains(&gap),
            "the vendor's clock, to the second: {gap} ms"
        );
    }

    #[test]
    fn a_missing_or_unreadable_date_changes_nothing() {
        let clock = VendorClock::default();
        clock.observe(&HeaderMap::new());
        clock.observe(&headers("yesterday at noon"));
        let ours = Utc::now();
        assert_eq!(clock.at(ours), ours);
    }
}

//! A clock that tests and the control API can move: real time plus a settable offset.

use std::sync::atomic::{AtomicI64, Ordering};

use axum::http::HeaderValue;
use axum::http::header::DATE;
use axum::response::Response;
use chrono::{DateTime, Utc};

/// Wall-clock time shifted by an offset in milliseconds.
#[derive(Debug, Default)]
pub struct Clock {
    offset_millis: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(self.offset_millis.load(Ordering::Relaxed))
    }

    /// Makes `now()` return `at` from this instant on (time keeps running from there).
    pub fn set(&self, at: DateTime<Utc>) {
        let offset = (at - Utc::now()).num_milliseconds();
        self.offset_millis.store(offset, Ordering::Relaxed);
    }

    pub fn advance(&self, by: chrono::Duration) {
        self.offset_millis
            .fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }

    /// Writes this clock's time into an answer's `Date` header, as an HTTP server states its
    /// time (RFC 9110 §6.6.1), so a client reads the vendor's clock, moved or not.
    pub fn stamp(&self, response: &mut Response) {
        let text = self.now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        if let Ok(value) = HeaderValue::from_str(&text) {
            response.headers_mut().insert(DATE, value);
        }
    }
}

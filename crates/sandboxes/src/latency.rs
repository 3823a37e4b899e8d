//! How long a sandbox takes to answer, as a real vendor does: a page of a listing in hundreds of
//! milliseconds, a single record or call in less, token calls at once.
//!
//! Each sandbox holds one [`LatencyControl`], off unless its config or `PUT /_sandbox/latency`
//! turns it on. A request waits *after* it has been admitted by the rate limiter and *without*
//! holding any of the sandbox's locks, so concurrent requests overlap their waits as they would
//! against a vendor: ten requests at once take about one latency, not ten.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::seeded;

/// Per-kind answer times, each drawn uniformly from an inclusive `[min, max]` range of
/// milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Latency {
    /// A page of a listing.
    pub page_ms: [u64; 2],
    /// A single record, a write, or any other call that is not a listing.
    pub object_ms: [u64; 2],
}

/// What kind of call a request is, for the time it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    Page,
    Object,
    /// Token and login calls: answered at once, as vendors' identity endpoints are fast.
    Token,
}

impl Latency {
    /// What Cvent and Aventri answer in from afar: 300–800 ms for a page, 80–250 ms for the rest.
    pub fn realistic() -> Latency {
        Latency {
            page_ms: [300, 800],
            object_ms: [80, 250],
        }
    }

    /// The same time for every page and every other call (benchmarks).
    pub fn fixed(delay: Duration) -> Latency {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        Latency {
            page_ms: [ms, ms],
            object_ms: [ms, ms],
        }
    }

    /// Pages between `min` and `max` milliseconds; other calls take a third of that, as a
    /// single record is about a third of a page's time in the realistic defaults.
    pub fn pages(min: u64, max: u64) -> Latency {
        let (min, max) = (min.min(max), min.max(max));
        Latency {
            page_ms: [min, max],
            object_ms: [min / 3, max / 3],
        }
    }

    /// Reads the command line's spelling: `realistic`, `off` (`None`), `<ms>` or `<min>-<max>`
    /// (milliseconds for a page; other calls a third of it).
    pub fn parse(text: &str) -> Result<Option<Latency>, String> {
        let text = text.trim();
        let number = |part: &str| {
            part.trim().parse::<u64>().map_err(|_| {
                format!("latency must be realistic, off, <ms> or <min>-<max>, got '{text}'")
            })
        };
        match text {
            "realistic" => Ok(Some(Latency::realistic())),
            "off" => Ok(None),
            _ => match text.split_once('-') {
                Some((min, max)) => Ok(Some(Latency::pages(number(min)?, number(max)?))),
                None => {
                    let ms = number(text)?;
                    Ok(Some(Latency::pages(ms, ms)))
                }
            },
        }
    }

    /// The time one call of `kind` takes, for a roll of the dice.
    pub fn delay(&self, kind: CallKind, roll: u64) -> Duration {
        let [min, max] = match kind {
            CallKind::Page => self.page_ms,
            CallKind::Object => self.object_ms,
            CallKind::Token => return Duration::ZERO,
        };
        let (min, max) = (min.min(max), min.max(max));
        let span = max - min;
        let ms = min + if span == 0 { 0 } else { roll % (span + 1) };
        Duration::from_millis(ms)
    }

    /// A short description for a startup listing.
    pub fn describe(latency: Option<&Latency>) -> String {
        match latency {
            None => "off".to_string(),
            Some(latency) => format!(
                "pages {}–{} ms, other calls {}–{} ms",
                latency.page_ms[0], latency.page_ms[1], latency.object_ms[0], latency.object_ms[1]
            ),
        }
    }
}

/// A sandbox's current latency and its dice.
#[derive(Debug, Default)]
pub struct LatencyControl {
    current: RwLock<Option<Latency>>,
    rolls: AtomicU64,
}

impl LatencyControl {
    pub fn new(latency: Option<Latency>) -> LatencyControl {
        LatencyControl {
            current: RwLock::new(latency),
            rolls: AtomicU64::new(0),
        }
    }

    pub fn get(&self) -> Option<Latency> {
        *self.current.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set(&self, latency: Option<Latency>) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = latency;
    }

    /// The time the next call of `kind` takes; zero when latency is off. Drawn from a counter,
    /// so a run's sequence of delays is repeatable.
    pub fn next_delay(&self, kind: CallKind) -> Duration {
        match self.get() {
            None => Duration::ZERO,
            Some(latency) => {
                let roll = seeded::mix(self.rolls.fetch_add(1, Ordering::Relaxed));
                latency.delay(kind, roll)
            }
        }
    }

    /// Waits as long as a call of `kind` takes. The caller must hold no lock: the read lock on
    /// the setting is released before the wait begins.
    pub async fn wait(&self, kind: CallKind) {
        let delay = self.next_delay(kind);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }
}

/// The body `PUT /_sandbox/latency` takes: the two ranges, or `{"off": true}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum LatencyChange {
    Off { off: bool },
    On(Latency),
}

/// `GET`/`PUT /_sandbox/latency`, the same for every sandbox.
pub(crate) fn router(control: Arc<LatencyControl>) -> Router {
    Router::new()
        .route("/_sandbox/latency", get(show).put(change))
        .with_state(control)
}

fn shown(latency: Option<Latency>) -> Response {
    match latency {
        Some(latency) => axum::Json(latency).into_response(),
        None => axum::Json(json!({"off": true})).into_response(),
    }
}

async fn show(State(control): State<Arc<LatencyControl>>) -> Response {
    shown(control.get())
}

async fn change(State(control): State<Arc<LatencyControl>>, body: axum::body::Bytes) -> Response {
    let latency = match serde_json::from_slice::<LatencyChange>(&body) {
        Ok(LatencyChange::Off { off: true }) => None,
        Ok(LatencyChange::On(latency)) => Some(latency),
        Ok(LatencyChange::Off { off: false }) | Err(_) => {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({
                    "error": "the body must be {\"page_ms\":[min,max],\"object_ms\":[min,max]} or {\"off\":true}"
                })),
            )
                .into_response();
        }
    };
    control.set(latency);
    shown(latency)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_in_their_ranges() {
        let latency = Latency::realistic();
        for roll in (0..10_000u64).map(seeded::mix) {
            let page = latency.delay(CallKind::Page, roll).as_millis();
            assert!((300..=800).contains(&page), "{page}");
            let object = latency.delay(CallKind::Object, roll).as_millis();
            assert!((80..=250).contains(&object), "{object}");
            assert_eq!(latency.delay(CallKind::Token, roll), Duration::ZERO);
        }
        let fixed = Latency::fixed(Duration::from_millis(200));
        assert_eq!(
            fixed.delay(CallKind::Page, 12345),
            Duration::from_millis(200)
        );
    }

    #[test]
    fn the_command_line_spellings() {
        assert_eq!(Latency::parse("off"), Ok(None));
        assert_eq!(Latency::parse("realistic"), Ok(Some(Latency::realistic())));
        assert_eq!(
            Latency::parse("300"),
            Ok(Some(Latency {
                page_ms: [300, 300],
                object_ms: [100, 100]
            }))
        );
        assert_eq!(
            Latency::parse("600-300"),
            Ok(Some(Latency {
                page_ms: [300, 600],
                object_ms: [100, 200]
            }))
        );
        assert!(Latency::parse("fast").is_err());
        assert!(Latency::parse("1-x").is_err());
    }

    #[test]
    fn off_waits_for_nothing() {
        let control = LatencyControl::new(None);
        assert_eq!(control.next_delay(CallKind::Page), Duration::ZERO);
        control.set(Some(Latency::fixed(Duration::from_millis(5))));
        assert_eq!(control.next_delay(CallKind::Page), Duration::from_millis(5));
    }
}

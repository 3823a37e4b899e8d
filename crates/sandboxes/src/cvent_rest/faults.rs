//! Injected faults, set through the control API: errors, latency, paging quirks, dropped connections.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::seeded;

/// What the sandbox does wrong on purpose. All rates are fractions of `/ea` requests, 0.0–1.0.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Faults {
    /// Fraction of requests answered with a 5xx error (500, 502, 503 or 504 in turn).
    pub server_error_rate: f64,
    /// Latency added to every request, in milliseconds.
    pub latency_ms: u64,
    /// Every listing ends with an extra empty page, as Cvent does when results divide evenly.
    pub trailing_empty_page: bool,
    /// Omit `paging.totalCount`, which Cvent "may return blank".
    pub blank_total_count: bool,
    /// Fraction of requests whose connection is dropped after the status line, mid-body.
    pub drop_connection_rate: f64,
    /// Listings include sensitive contact fields (date of birth, passport, national ids, NPI)
    /// even for tokens without `event/contacts:read-sensitive`, as an API client misconfigured
    /// on the vendor's side would: what a client does with data it never asked for.
    pub sensitive_without_scope: bool,
}

/// What to do to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Injection {
    None,
    ServerError(u16),
    DropConnection,
}

/// Decides injections deterministically from a request counter, so a test run is repeatable.
#[derive(Debug, Default)]
pub struct FaultDice {
    rolls: AtomicU64,
}

impl FaultDice {
    pub fn roll(&self, faults: &Faults) -> Injection {
        if faults.server_error_rate <= 0.0 && faults.drop_connection_rate <= 0.0 {
            return Injection::None;
        }
        let roll = self.rolls.fetch_add(1, Ordering::Relaxed);
        let fraction = (seeded::mix(roll) >> 11) as f64 / (1u64 << 53) as f64;
        if fraction < faults.server_error_rate {
            const CODES: [u16; 4] = [500, 502, 503, 504];
            Injection::ServerError(CODES[(roll % 4) as usize])
        } else if fraction < faults.server_error_rate + faults.drop_connection_rate {
            Injection::DropConnection
        } else {
            Injection::None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_honoured_roughly() {
        let dice = FaultDice::default();
        let faults = Faults {
            server_error_rate: 0.1,
            drop_connection_rate: 0.05,
            ..Faults::default()
        };
        let rolls: Vec<Injection> = (0..10_000).map(|_| dice.roll(&faults)).collect();
        let errors = rolls
            .iter()
            .filter(|i| matches!(i, Injection::ServerError(_)))
            .count();
        let drops = rolls
            .iter()
            .filter(|i| **i == Injection::DropConnection)
            .count();
        assert!((800..1200).contains(&errors), "{errors} server errors");
        assert!((350..650).contains(&drops), "{drops} drops");
        assert_eq!(
            FaultDice::default().roll(&Faults::default()),
            Injection::None
        );
    }
}

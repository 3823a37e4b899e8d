//! The soak at full size: 50,000 Cvent attendees, the first full sync killed with SIGKILL 20
//! times while the vendor fails 5% of calls, drops 3% of connections and changes records
//! between and during runs; then two incremental syncs and a comparison of the whole workspace
//! with the vendor, on SQLite and on PostgreSQL (when a server answers at
//! `EVENTSYNC_TEST_POSTGRES`). `SOAK_ATTENDEES`, `SOAK_KILLS` and `SOAK_LATENCY_MS` change the
//! size. Exits non-zero unless every comparison is 0 missing, 0 duplicated, 0 stale, 0 extra.

#[path = "../tests/support/soak.rs"]
mod soak;

use std::time::Duration;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let attendees = setting("SOAK_ATTENDEES", 50_000);
    let kills = setting("SOAK_KILLS", 20) as u32;
    let latency_ms = setting("SOAK_LATENCY_MS", 20);
    let mut stores = vec![("SQLite", None)];
    let server = soak::postgres_server();
    if soak::postgres_answers(&server) {
        stores.push(("PostgreSQL", Some(server)));
    } else {
        println!("PostgreSQL: skipped, no server answers at {server}");
    }
    let mut exact = true;
    for (name, postgres) in stores {
        let plan = soak::Plan {
            attendees,
            kills,
            postgres,
            latency_ms,
            change_every: Duration::from_millis(25),
            seed: 50_000,
        };
        let outcome = soak::run(env!("CARGO_BIN_EXE_eventsync"), &plan);
        println!("{name}: {}", outcome.summary());
        for (what, ids) in [
            ("missing", &outcome.missing),
            ("duplicated", &outcome.duplicated),
            ("stale", &outcome.stale),
            ("extra", &outcome.extra),
        ] {
            for id in ids.iter().take(5) {
                println!("  {what}: {id}");
            }
        }
        exact &= outcome.is_exact();
    }
    if !exact {
        std::process::exit(1);
    }
}

//! The soak at a size CI runs: a first full sync killed with SIGKILL five times while the
//! vendor fails 5% of calls, drops 3% of connections and changes, cancels and adds attendees
//! between and during runs; then two incremental syncs; then the whole workspace equals the
//! vendor — on SQLite and on PostgreSQL. `cargo bench -p eventsync --bench soak` runs it at
//! 50,000 attendees with 20 kills.

#[path = "support/soak.rs"]
mod soak;

use std::time::Duration;

const BINARY: &str = env!("CARGO_BIN_EXE_eventsync");

fn plan(postgres: Option<String>) -> soak::Plan {
    soak::Plan {
        attendees: 3_000,
        kills: 5,
        postgres,
        latency_ms: 40,
        change_every: Duration::from_millis(40),
        seed: 7,
    }
}

fn check(outcome: &soak::Outcome, kills: u32) {
    eprintln!("soak: {}", outcome.summary());
    assert_eq!(
        outcome.kills_mid_listing, kills,
        "every kill landed mid-listing"
    );
    assert!(
        outcome.edits > 0 && outcome.cancellations > 0 && outcome.additions > 0,
        "the vendor changed records during the runs: {}",
        outcome.summary()
    );
    assert!(outcome.missing.is_empty(), "missing: {:?}", outcome.missing);
    assert!(
        outcome.duplicated.is_empty(),
        "duplicated: {:?}",
        outcome.duplicated
    );
    assert!(outcome.stale.is_empty(), "stale: {:?}", outcome.stale);
    assert!(outcome.extra.is_empty(), "extra: {:?}", outcome.extra);
    assert!(outcome.is_exact());
}

#[test]
fn a_killed_first_sync_with_vendor_changes_ends_equal_to_the_vendor_on_sqlite() {
    let plan = plan(None);
    check(&soak::run(BINARY, &plan), plan.kills);
}

#[test]
fn a_killed_first_sync_with_vendor_changes_ends_equal_to_the_vendor_on_postgresql() {
    let server = soak::postgres_server();
    if !soak::postgres_answers(&server) {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: PostgreSQL not reachable at {server} (set EVENTSYNC_TEST_POSTGRES)"
        );
        return;
    }
    let plan = plan(Some(server));
    check(&soak::run(BINARY, &plan), plan.kills);
}

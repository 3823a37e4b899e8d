//! End-to-end sync speed: `eventsync sync` pulling people from the Cvent sandbox (its own
//! process, unlimited tier) into a fresh SQLite workspace — records per second, peak memory of
//! the eventsync process, and vendor calls against the minimum ⌈N/200⌉; then an incremental
//! sync with nothing changed.
//!
//! Run: `cargo bench -p eventsync --bench sync_throughput` (set `SYNC_BENCH_SIZES=100000,1000000`
//! to choose the event sizes).

mod support;

use support::{Sandbox, sync_people};

fn main() {
    let sizes: Vec<u64> = std::env::var("SYNC_BENCH_SIZES")
        .unwrap_or_else(|_| "100000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    println!(
        "| attendees | full sync (s) | records/s | peak RSS (MiB) | list calls | minimum ⌈N/200⌉ | no-change incremental: calls | time (s) |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for attendees in sizes {
        let sandbox = Sandbox::start(attendees);
        let dir = std::env::temp_dir().join(format!(
            "eventsync-sync-bench-{attendees}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("bench dir");
        let config = format!(
            "[[connections]]\nname = \"cvent\"\nkind = \"cvent-rest\"\nbase_url = \"{}\"\nevent_code = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"${{CVENT_SECRET}}\"\n\n# Every attendee status, so the workspace holds every attendee.\n[connections.data.people]\nstatuses = []\n",
            sandbox.text("base_url"),
            sandbox.text("event_code"),
            sandbox.text("client_id")
        );
        std::fs::write(dir.join("eventsync.toml"), config).expect("config");

        let full = sync_people(
            &dir,
            "cvent",
            ("CVENT_SECRET", &sandbox.text("client_secret")),
        );
        let people = &full.report["types"]["people"];
        assert_eq!(
            people["counts"]["create"].as_u64(),
            Some(attendees),
            "every attendee created"
        );
        let calls = people["api_calls"].as_u64().unwrap_or(0);
        let quiet = sync_people(
            &dir,
            "cvent",
            ("CVENT_SECRET", &sandbox.text("client_secret")),
        );
        let quiet_calls = quiet.report["types"]["people"]["api_calls"]
            .as_u64()
            .unwrap_or(0);
        println!(
            "| {attendees} | {:.1} | {:.0} | {:.0} | {calls} | {} | {quiet_calls} | {:.2} |",
            full.seconds,
            attendees as f64 / full.seconds,
            full.peak_mib,
            attendees.div_ceil(200),
            quiet.seconds,
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

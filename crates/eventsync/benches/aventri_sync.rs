//! Aventri sync speed: `eventsync sync` pulling people from the Aventri sandbox (its own
//! process, Aventri's published 400 requests a minute in force) into a fresh SQLite workspace —
//! records per second, peak memory of the eventsync process, and calls against the minimum the
//! page size allows; then an incremental sync with nothing changed.
//!
//! Run: `cargo bench -p eventsync --bench aventri_sync` (set `AVENTRI_BENCH_SIZES=10000,100000`
//! to choose the event sizes).

mod support;

use support::{Sandbox, sync_people};

/// The connector's page size (`connectors::aventri::PAGE_SIZE`).
const PAGE: u64 = 2_000;

fn main() {
    let sizes: Vec<u64> = std::env::var("AVENTRI_BENCH_SIZES")
        .unwrap_or_else(|_| "10000,100000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    println!(
        "| registrations | people | full sync (s) | records/s | peak RSS (MiB) | calls | minimum | no-change incremental: calls | time (s) |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for attendees in sizes {
        let sandbox = Sandbox::start_with(&["aventri", "--attendees", &attendees.to_string()]);
        let dir = std::env::temp_dir().join(format!(
            "eventsync-aventri-bench-{attendees}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("bench dir");
        let config = format!(
            "[[connections]]\nname = \"aventri\"\nkind = \"aventri\"\nendpoint = \"{}\"\naccount_id = \"{}\"\nkey = \"${{AVENTRI_KEY}}\"\nevent_id = \"{}\"\n",
            sandbox.text("endpoint"),
            sandbox.text("account_id"),
            sandbox.text("event_id"),
        );
        std::fs::write(dir.join("eventsync.toml"), config).expect("config");

        let full = sync_people(&dir, "aventri", ("AVENTRI_KEY", &sandbox.text("key")));
        let people = &full.report["types"]["people"];
        let created = people["counts"]["create"].as_u64().unwrap_or(0);
        let calls = people["api_calls"].as_u64().unwrap_or(0);
        let quiet = sync_people(&dir, "aventri", ("AVENTRI_KEY", &sandbox.text("key")));
        let quiet_calls = quiet.report["types"]["people"]["api_calls"]
            .as_u64()
            .unwrap_or(0);
        // Every registration is listed (sponsors are filtered out after listing): the pages,
        // the "No attendees found" call that ends the listing, and the token request.
        let minimum = attendees.div_ceil(PAGE) + 2;
        println!(
            "| {attendees} | {created} | {:.1} | {:.0} | {:.0} | {calls} | {minimum} | {quiet_calls} | {:.2} |",
            full.seconds,
            attendees as f64 / full.seconds,
            full.peak_mib,
            quiet.seconds,
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! End-to-end sync speed against the Cvent SOAP sandbox (its own process): `eventsync sync` of
//! people into a fresh SQLite workspace — records per second, peak memory of the eventsync
//! process, and calls against the minimum that `MaxBatchSize` allows; then an incremental sync
//! after 100 changes at the vendor, and one with nothing changed.
//!
//! Run: `cargo bench -p eventsync --bench soap_sync` (set `SOAP_BENCH_SIZES=10000,100000` to
//! choose the event sizes).

mod support;

use serde_json::json;
use support::{Sandbox, sync_people};

/// Changes `count` registrations at the vendor through the control API.
fn change(sandbox: &Sandbox, count: usize) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let http = reqwest::Client::new();
        for n in 0..count {
            let response = http
                .post(format!("{}/registrations", sandbox.text("control_url")))
                .json(&json!({"Status": "Accepted", "Company": format!("Bench {n}")}))
                .send()
                .await
                .expect("control call");
            assert!(response.status().is_success());
        }
    });
}

fn main() {
    let sizes: Vec<u64> = std::env::var("SOAP_BENCH_SIZES")
        .unwrap_or_else(|_| "10000,100000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    println!(
        "| registrations | people | full sync (s) | records/s | peak RSS (MiB) | calls | minimum | after 100 changes: calls | time (s) | no change: calls | time (s) |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for registrations in sizes {
        let sandbox =
            Sandbox::start_with(&["cvent-soap", "--attendees", &registrations.to_string()]);
        let dir = std::env::temp_dir().join(format!(
            "eventsync-soap-bench-{registrations}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("bench dir");
        let config = format!(
            "[[connections]]\nname = \"cvent\"\nkind = \"cvent-soap\"\nbase_url = \"{}\"\naccount_number = \"{}\"\nuser_name = \"{}\"\npassword = \"${{SOAP_PASSWORD}}\"\nevent_code = \"{}\"\n\n# Every registration status, so the workspace holds every registration and guest.\n[connections.data.people]\nstatuses = []\n",
            sandbox.text("base_url"),
            sandbox.text("account_number"),
            sandbox.text("user_name"),
            sandbox.text("event_code")
        );
        std::fs::write(dir.join("eventsync.toml"), config).expect("config");

        let full = sync_people(&dir, "cvent", ("SOAP_PASSWORD", &sandbox.text("password")));
        let people = &full.report["types"]["people"];
        let created = people["counts"]["create"].as_u64().unwrap_or(0);
        assert!(
            created >= registrations,
            "every registration created: {people}"
        );
        let calls = people["api_calls"].as_u64().unwrap_or(0);
        // DescribeGlobal, the event's Search, the registrations' Search, then one Retrieve of
        // registrations and one of their contacts per batch of 200.
        let minimum = 3 + 2 * registrations.div_ceil(200);
        change(&sandbox, 100);
        let changed = sync_people(&dir, "cvent", ("SOAP_PASSWORD", &sandbox.text("password")));
        let changed_calls = changed.report["types"]["people"]["api_calls"]
            .as_u64()
            .unwrap_or(0);
        let quiet = sync_people(&dir, "cvent", ("SOAP_PASSWORD", &sandbox.text("password")));
        let quiet_calls = quiet.report["types"]["people"]["api_calls"]
            .as_u64()
            .unwrap_or(0);
        println!(
            "| {registrations} | {created} | {:.1} | {:.0} | {:.0} | {calls} | {minimum} | {changed_calls} | {:.2} | {quiet_calls} | {:.2} |",
            full.seconds,
            created as f64 / full.seconds,
            full.peak_mib,
            changed.seconds,
            quiet.seconds,
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

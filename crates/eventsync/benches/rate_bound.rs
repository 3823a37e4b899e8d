//! Full syncs at real latency against the vendor's rate bound: `eventsync sync` of people from
//! each sandbox (its own process, answers delayed as a real API's are — `--latency realistic`,
//! 300–800 ms a page) into a fresh SQLite workspace, page by page (`listing_concurrency = 1`)
//! and split into parts fetched side by side (the default, 16). The rate bound is the least
//! time the vendor allows for the calls made: calls ÷ the calls a second its limit admits
//! (Cvent REST: the tier's; Aventri: 400 a minute). Cvent SOAP sets no rate, so its bound is the
//! latency's: calls × the mean page latency ÷ the calls in flight.
//!
//! Run: `cargo bench -p eventsync --bench rate_bound` (`RATE_BENCH_ATTENDEES=20000` sets the
//! event size; `RATE_BENCH_VENDORS=cvent-rest-standard,cvent-rest-premium,aventri,cvent-soap`
//! which cases run; `RATE_BENCH_CONCURRENCY=1,16` the calls in flight each runs with).

mod support;

use support::{Sandbox, sync_people};

/// The mean of `--latency realistic`'s page latency, 300–800 ms.
const MEAN_PAGE_SECONDS: f64 = 0.55;

struct Case {
    name: &'static str,
    simulate: Vec<String>,
    /// Calls a second the vendor admits; `None` when it sets no rate.
    per_second: Option<f64>,
}

fn config(case: &Case, sandbox: &Sandbox, concurrency: usize) -> (String, (String, String)) {
    let common = format!("listing_concurrency = {concurrency}\n");
    match case.name {
        "aventri" => (
            format!(
                "[[connections]]\nname = \"bench\"\nkind = \"aventri\"\nendpoint = \"{}\"\naccount_id = \"{}\"\nkey = \"${{BENCH_SECRET}}\"\nevent_id = \"{}\"\n{common}",
                sandbox.text("endpoint"),
                sandbox.text("account_id"),
                sandbox.text("event_id"),
            ),
            ("BENCH_SECRET".into(), sandbox.text("key")),
        ),
        "cvent-soap" => (
            format!(
                "[[connections]]\nname = \"bench\"\nkind = \"cvent-soap\"\nbase_url = \"{}\"\naccount_number = \"{}\"\nuser_name = \"{}\"\npassword = \"${{BENCH_SECRET}}\"\nevent_code = \"{}\"\n{common}\n[connections.data.people]\nstatuses = []\n",
                sandbox.text("base_url"),
                sandbox.text("account_number"),
                sandbox.text("user_name"),
                sandbox.text("event_code"),
            ),
            ("BENCH_SECRET".into(), sandbox.text("password")),
        ),
        _ => (
            format!(
                "[[connections]]\nname = \"bench\"\nkind = \"cvent-rest\"\nbase_url = \"{}\"\nevent_code = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"${{BENCH_SECRET}}\"\n{common}\n[connections.data.people]\nstatuses = []\n",
                sandbox.text("base_url"),
                sandbox.text("event_code"),
                sandbox.text("client_id"),
            ),
            ("BENCH_SECRET".into(), sandbox.text("client_secret")),
        ),
    }
}

fn main() {
    let attendees: u64 = std::env::var("RATE_BENCH_ATTENDEES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let wanted = std::env::var("RATE_BENCH_VENDORS").unwrap_or_else(|_| {
        "cvent-rest-standard,cvent-rest-premium,aventri,cvent-soap".to_string()
    });
    let concurrencies: Vec<usize> = std::env::var("RATE_BENCH_CONCURRENCY")
        .unwrap_or_else(|_| "1,16".to_string())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    let n = attendees.to_string();
    let cases = [
        Case {
            name: "cvent-rest-standard",
            simulate: vec!["cvent-rest".into(), "--tier".into(), "standard".into()],
            per_second: Some(10.0),
        },
        Case {
            name: "cvent-rest-premium",
            simulate: vec!["cvent-rest".into(), "--tier".into(), "premium".into()],
            per_second: Some(25.0),
        },
        Case {
            name: "aventri",
            simulate: vec!["aventri".into()],
            per_second: Some(400.0 / 60.0),
        },
        Case {
            name: "cvent-soap",
            simulate: vec!["cvent-soap".into()],
            per_second: None,
        },
    ];
    println!(
        "| vendor | attendees | calls in flight | people | wall (s) | records/s | calls | split: parts, extra calls | bound (s) | wall ÷ bound |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for case in cases
        .iter()
        .filter(|c| wanted.split(',').any(|w| w == c.name))
    {
        for &concurrency in &concurrencies {
            let mut args: Vec<&str> = case.simulate.iter().map(String::as_str).collect();
            args.extend(["--attendees", &n, "--latency", "realistic"]);
            let sandbox = Sandbox::start_with(&args);
            let dir = std::env::temp_dir().join(format!(
                "eventsync-rate-bench-{}-{concurrency}-{}",
                case.name,
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("bench dir");
            let (text, secret) = config(case, &sandbox, concurrency);
            std::fs::write(dir.join("eventsync.toml"), text).expect("config");
            let run = sync_people(&dir, "bench", (&secret.0, &secret.1));
            let people = &run.report["types"]["people"];
            let created = people["counts"]["create"].as_u64().unwrap_or(0);
            let calls = people["api_calls"].as_u64().unwrap_or(0);
            let bound = match case.per_second {
                Some(rate) => calls as f64 / rate,
                None => calls as f64 * MEAN_PAGE_SECONDS / concurrency as f64,
            };
            println!(
                "| {} | {attendees} | {concurrency} | {created} | {:.1} | {:.0} | {calls} | {}, {} | {:.1} | {:.2} |",
                case.name,
                run.seconds,
                created as f64 / run.seconds,
                people["partitions"].as_u64().unwrap_or(0),
                people["split_calls"].as_u64().unwrap_or(0),
                bound,
                run.seconds / bound,
            );
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

//! How fast the Cvent REST sandbox serves attendees, and its peak memory, measured on the
//! `eventsync simulate` binary in its own process.
//!
//! Run: `cargo bench -p eventsync --bench sandbox_serve` (set `SANDBOX_BENCH_SIZES=100000,1000000`
//! to choose the event sizes).

mod support;

use std::time::Instant;

use serde_json::Value;
use support::Sandbox;

/// The value of `"nextToken":"…"` without parsing the page, so the client costs little CPU.
fn next_token(page: &[u8]) -> Option<String> {
    let marker = b"\"nextToken\":\"";
    let start = page.windows(marker.len()).position(|w| w == marker)? + marker.len();
    let end = page[start..].iter().position(|b| *b == b'"')? + start;
    Some(String::from_utf8_lossy(&page[start..end]).into_owned())
}

fn main() {
    let sizes: Vec<u64> = std::env::var("SANDBOX_BENCH_SIZES")
        .unwrap_or_else(|_| "100000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    println!(
        "| attendees | pages | seconds | pages/s | attendees/s | incremental query (ms) | sandbox peak RSS (MiB) |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for attendees in sizes {
        runtime.block_on(measure(attendees));
    }
}

async fn measure(attendees: u64) {
    let sandbox = Sandbox::start(attendees);
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{}/oauth2/token", sandbox.text("base_url")))
        .basic_auth(
            sandbox.text("client_id"),
            Some(&sandbox.text("client_secret")),
        )
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", sandbox.text("client_id").as_str()),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token JSON");
    let bearer = token["access_token"]
        .as_str()
        .expect("access_token")
        .to_string();
    let filter = format!("event.id eq '{}'", sandbox.text("event_id"));

    let started = Instant::now();
    let mut pages = 0u64;
    let mut next: Option<String> = None;
    loop {
        let request = http
            .get(format!("{}/attendees", sandbox.text("base_url")))
            .bearer_auth(&bearer);
        let request = match &next {
            Some(token) => request.query(&[("token", token.as_str())]),
            None => request.query(&[("filter", filter.as_str()), ("limit", "200")]),
        };
        let body = request
            .send()
            .await
            .expect("page")
            .bytes()
            .await
            .expect("page body");
        pages += 1;
        next = next_token(&body);
        if next.is_none() {
            break;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(pages, attendees.div_ceil(200), "one page per 200 attendees");

    // An incremental query after one change: the sandbox looks at changes only.
    let page: Value = http
        .get(format!("{}/attendees", sandbox.text("base_url")))
        .bearer_auth(&bearer)
        .query(&[("limit", "1")])
        .send()
        .await
        .expect("one attendee")
        .json()
        .await
        .expect("JSON");
    let id = page["data"][0]["id"].as_str().expect("id").to_string();
    let since = chrono_now();
    http.post(format!(
        "{}/attendees/{id}/cancel",
        sandbox.text("control_url")
    ))
    .send()
    .await
    .expect("cancel");
    let incremental = Instant::now();
    let changed: Value = http
        .get(format!("{}/attendees", sandbox.text("base_url")))
        .bearer_auth(&bearer)
        .query(&[
            (
                "filter",
                format!("{filter} and lastModified ge '{since}'").as_str(),
            ),
            ("limit", "200"),
        ])
        .send()
        .await
        .expect("incremental")
        .json()
        .await
        .expect("JSON");
    let incremental_ms = incremental.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(changed["data"].as_array().map(Vec::len), Some(1));

    println!(
        "| {attendees} | {pages} | {seconds:.2} | {:.0} | {:.0} | {incremental_ms:.1} | {:.1} |",
        pages as f64 / seconds,
        attendees as f64 / seconds,
        sandbox.peak_memory_mib(),
    );
}

fn chrono_now() -> String {
    (chrono::Utc::now() - chrono::Duration::seconds(1))
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

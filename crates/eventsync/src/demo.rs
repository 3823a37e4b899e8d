//! `eventsync demo`: a guided tour on the built-in Cvent sandbox that needs no setup.

use anyhow::{Context, bail};
use clap::Args;
use sandboxes::cvent_rest::{CventRestSandbox, SandboxConfig};
use serde_json::Value;

#[derive(Args)]
pub struct DemoArgs {
    /// Attendees the sandbox event has.
    #[arg(long, default_value_t = 3_000)]
    attendees: u64,
    /// Keep the sandbox running after the tour, until Ctrl-C.
    #[arg(long)]
    keep_running: bool,
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let config = SandboxConfig {
        attendees: args.attendees,
        ..SandboxConfig::default()
    };
    let sandbox = CventRestSandbox::start(config)
        .await
        .context("starting the Cvent sandbox")?;
    println!("1. Started a Cvent REST sandbox at {}", sandbox.base_url());
    println!("   It behaves like Cvent's Platform API: OAuth2, paging, filters, rate limits.");

    let http = reqwest::Client::new();
    let base = sandbox.base_url();
    let token: Value = http
        .post(format!("{base}/oauth2/token"))
        .basic_auth(sandbox.client_id(), Some(sandbox.client_secret()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", sandbox.client_id()),
        ])
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let Some(bearer) = token["access_token"].as_str().map(str::to_string) else {
        bail!("the sandbox answered the token request without an access_token");
    };
    println!(
        "2. Signed in with client credentials: a bearer token valid for {} s",
        token["expires_in"]
    );

    let filter = format!("code eq '{}'", sandbox.event_code());
    let events: Value = http
        .get(format!("{base}/events"))
        .bearer_auth(&bearer)
        .query(&[("filter", filter.as_str())])
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let event = &events["data"][0];
    println!(
        "3. Event code {} is \"{}\" ({} to {})",
        sandbox.event_code(),
        event["title"].as_str().unwrap_or("?"),
        event["start"].as_str().unwrap_or("?"),
        event["end"].as_str().unwrap_or("?"),
    );

    let event_filter = format!("event.id eq '{}'", sandbox.event_id());
    let mut pages = 0;
    let mut attendees = 0;
    let mut statuses = std::collections::BTreeMap::<String, u64>::new();
    let mut next: Option<String> = None;
    loop {
        let mut request = http.get(format!("{base}/attendees")).bearer_auth(&bearer);
        request = match &next {
            Some(token) => request.query(&[("token", token.as_str())]),
            None => request.query(&[("filter", event_filter.as_str()), ("limit", "200")]),
        };
        let page: Value = request.send().await?.error_for_status()?.json().await?;
        pages += 1;
        for attendee in page["data"].as_array().into_iter().flatten() {
            attendees += 1;
            let status = attendee["status"].as_str().unwrap_or("?").to_string();
            *statuses.entry(status).or_default() += 1;
        }
        next = page["paging"]["nextToken"].as_str().map(str::to_string);
        if next.is_none() {
            break;
        }
    }
    println!("4. Listed {attendees} attendees in {pages} pages of up to 200:");
    for (status, count) in &statuses {
        println!("     {status:<17} {count}");
    }

    let usage: Value = http
        .get(format!("{base}/usage"))
        .bearer_auth(&bearer)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let today = &usage["data"][0];
    println!(
        "5. The account has used {} of its {} calls today.",
        today["used"], today["total"]
    );
    println!();
    println!("Run your own sandbox with: cargo run --release -- simulate cvent-rest --json");
    if args.keep_running {
        println!("The sandbox keeps running at {base}; press Ctrl-C to stop.");
        tokio::signal::ctrl_c().await?;
    }
    Ok(())
}

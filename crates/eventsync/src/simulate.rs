//! `eventsync simulate <vendor>`: serves a vendor sandbox until interrupted.

use std::net::SocketAddr;

use anyhow::Context;
use clap::{Args, ValueEnum};
use sandboxes::cvent_rest::{CventRestSandbox, EventPlan, SandboxConfig, Tier};
use sandboxes::latency::Latency;
use sandboxes::{aventri, imis};

#[derive(Args)]
pub struct SimulateArgs {
    /// Which vendor API to simulate.
    vendor: Vendor,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// Attendees to generate for the event.
    #[arg(long, default_value_t = 1_000)]
    attendees: u64,
    /// Live events on the account, the main one included; the others get between a quarter of
    /// --attendees and all of them, and varied dates (Cvent REST only).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    events: u16,
    /// Parties (people, members and non-members) to generate (iMIS only).
    #[arg(long, default_value_t = 500)]
    parties: u64,
    /// The site's virtual directory, such as `/imis`; an empty one serves the site at the root
    /// (iMIS only).
    #[arg(long, default_value = "/imis")]
    virtual_directory: String,
    /// Seed of the data generator: the same seed gives the same data.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The account's API usage tier, which sets its rate limits and daily quota (Cvent only).
    #[arg(long, value_enum, default_value_t = TierArg::Premium)]
    tier: TierArg,
    /// How long answers take: `realistic` (a page 300–800 ms, other calls 80–250 ms), `off`,
    /// `<ms>` or `<min>-<max>` for a page (other calls take a third of it). Token and login
    /// calls are answered at once, and so are throttled ones.
    #[arg(long, default_value = "off", value_parser = parse_latency)]
    latency: LatencyArg,
    /// Print one JSON line with what a connection needs (for Cvent REST base_url, client_id,
    /// client_secret and event_code; for Cvent SOAP base_url, account_number, user_name,
    /// password and event_code; for Aventri endpoint, account_id, key and event_id; for iMIS
    /// base_url, username and password).
    #[arg(long)]
    json: bool,
}

/// `--latency` as read: `None` for off.
#[derive(Clone, Copy)]
struct LatencyArg(Option<Latency>);

fn parse_latency(text: &str) -> Result<LatencyArg, String> {
    Latency::parse(text).map(LatencyArg)
}

#[derive(Clone, Copy, ValueEnum)]
enum Vendor {
    /// Cvent's REST Platform API (`/ea`).
    CventRest,
    /// Aventri's API v2 (`/api/v2`).
    Aventri,
    /// Cvent's legacy SOAP API (V200611).
    CventSoap,
    /// ASI iMIS's REST API (`/token`, `/api`) under a virtual directory.
    Imis,
}

#[derive(Clone, Copy, ValueEnum)]
enum TierArg {
    Free,
    Standard,
    Premium,
    /// No quota and no practical rate limit (not a Cvent tier; for benchmarks).
    Unlimited,
}

impl From<TierArg> for Tier {
    fn from(tier: TierArg) -> Tier {
        match tier {
            TierArg::Free => Tier::Free,
            TierArg::Standard => Tier::Standard,
            TierArg::Premium => Tier::Premium,
            TierArg::Unlimited => Tier::Unlimited,
        }
    }
}

pub async fn run(args: SimulateArgs) -> anyhow::Result<()> {
    match args.vendor {
        Vendor::Aventri => run_aventri(args).await,
        Vendor::CventSoap => run_cvent_soap(args).await,
        Vendor::CventRest => run_cvent_rest(args).await,
        Vendor::Imis => run_imis(args).await,
    }
}

/// Says where a sandbox listens — one JSON line with its credentials, or a short listing that
/// keeps the secret back — then waits for Ctrl-C.
async fn announce(
    json: bool,
    title: &str,
    line: serde_json::Value,
    rows: &[(&str, String)],
) -> anyhow::Result<()> {
    if json {
        println!("{line}");
    } else {
        println!("{title} listening");
        let width = rows.iter().map(|(label, _)| label.len()).max().unwrap_or(0);
        for (label, value) in rows {
            println!("  {label:<width$}  {value}");
        }
        println!("Press Ctrl-C to stop.");
    }
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")
}

async fn run_cvent_rest(args: SimulateArgs) -> anyhow::Result<()> {
    let config = SandboxConfig {
        attendees: args.attendees,
        more_events: EventPlan::varied(usize::from(args.events) - 1, args.attendees, args.seed),
        seed: args.seed,
        tier: args.tier.into(),
        latency: args.latency.0,
        ..SandboxConfig::default()
    };
    let bind = SocketAddr::new(args.host, args.port);
    let sandbox = CventRestSandbox::start_on(config, bind)
        .await
        .with_context(|| format!("could not listen on {bind}: choose another --port"))?;
    let line = serde_json::json!({
        "base_url": sandbox.base_url(),
        "client_id": sandbox.client_id(),
        "client_secret": sandbox.client_secret(),
        "event_code": sandbox.event_code(),
        "event_id": sandbox.event_id(),
        "event_codes": sandbox.event_codes(),
        "control_url": sandbox.control_url(),
    });
    let rows = [
        ("base URL", sandbox.base_url().to_string()),
        ("client id", sandbox.client_id().to_string()),
        ("client secret", "(shown with --json)".to_string()),
        ("event code", sandbox.event_code().to_string()),
        ("event codes", sandbox.event_codes().join(" ")),
        ("control API", sandbox.control_url().to_string()),
        ("latency", Latency::describe(args.latency.0.as_ref())),
    ];
    announce(args.json, "Cvent REST sandbox", line, &rows).await?;
    sandbox.stop().await;
    Ok(())
}

async fn run_aventri(args: SimulateArgs) -> anyhow::Result<()> {
    let config = aventri::SandboxConfig {
        attendees: args.attendees,
        seed: args.seed,
        latency: args.latency.0,
        ..aventri::SandboxConfig::default()
    };
    let bind = SocketAddr::new(args.host, args.port);
    let sandbox = aventri::AventriSandbox::start_on(config, bind)
        .await
        .with_context(|| format!("could not listen on {bind}: choose another --port"))?;
    let line = serde_json::json!({
        "endpoint": sandbox.endpoint(),
        "account_id": sandbox.account_id(),
        "key": sandbox.master_key(),
        "limited_key": sandbox.limited_key(),
        "event_id": sandbox.event_id(),
        "presenter_photo_endpoint": sandbox.presenter_photo_endpoint(),
        "control_url": sandbox.control_url(),
    });
    let rows = [
        ("endpoint", sandbox.endpoint().to_string()),
        ("account id", sandbox.account_id().to_string()),
        ("key", "(shown with --json)".to_string()),
        ("event id", sandbox.event_id().to_string()),
        ("control API", sandbox.control_url().to_string()),
        ("latency", Latency::describe(args.latency.0.as_ref())),
    ];
    announce(args.json, "Aventri sandbox", line, &rows).await?;
    sandbox.stop().await;
    Ok(())
}

async fn run_cvent_soap(args: SimulateArgs) -> anyhow::Result<()> {
    let config = sandboxes::cvent_soap::SoapSandboxConfig {
        attendees: args.attendees,
        seed: args.seed,
        latency: args.latency.0,
        ..sandboxes::cvent_soap::SoapSandboxConfig::default()
    };
    let bind = SocketAddr::new(args.host, args.port);
    let sandbox = sandboxes::cvent_soap::CventSoapSandbox::start_on(config, bind)
        .await
        .with_context(|| format!("could not listen on {bind}: choose another --port"))?;
    let line = serde_json::json!({
        "base_url": sandbox.base_url(),
        "account_number": sandbox.account_number(),
        "user_name": sandbox.user_name(),
        "password": sandbox.password(),
        "event_code": sandbox.event_code(),
        "event_id": sandbox.event_id(),
        "control_url": sandbox.control_url(),
    });
    let rows = [
        ("base URL", sandbox.base_url().to_string()),
        ("account number", sandbox.account_number().to_string()),
        ("user name", sandbox.user_name().to_string()),
        ("password", "(shown with --json)".to_string()),
        ("event code", sandbox.event_code().to_string()),
        ("control API", sandbox.control_url().to_string()),
        ("latency", Latency::describe(args.latency.0.as_ref())),
    ];
    announce(args.json, "Cvent SOAP sandbox", line, &rows).await?;
    sandbox.stop().await;
    Ok(())
}

async fn run_imis(args: SimulateArgs) -> anyhow::Result<()> {
    let config = imis::SandboxConfig {
        parties: args.parties,
        seed: args.seed,
        virtual_directory: args.virtual_directory.clone(),
        latency: args.latency.0,
        ..imis::SandboxConfig::default()
    };
    let bind = SocketAddr::new(args.host, args.port);
    let sandbox = imis::ImisSandbox::start_on(config, bind)
        .await
        .with_context(|| {
            format!(
                "could not start the iMIS sandbox on {bind} with virtual directory '{}': \
                 choose another --port or --virtual-directory",
                args.virtual_directory
            )
        })?;
    let line = serde_json::json!({
        "base_url": sandbox.base_url(),
        "username": sandbox.username(),
        "password": sandbox.password(),
        "control_url": sandbox.control_url(),
    });
    let rows = [
        ("site URL", sandbox.base_url()),
        ("user name", sandbox.username().to_string()),
        ("password", "(shown with --json)".to_string()),
        ("parties", args.parties.to_string()),
        ("control API", sandbox.control_url()),
        ("latency", Latency::describe(args.latency.0.as_ref())),
    ];
    announce(args.json, "iMIS sandbox", line, &rows).await?;
    sandbox.stop().await;
    Ok(())
}

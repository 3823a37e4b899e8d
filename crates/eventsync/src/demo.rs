//! `eventsync demo`: the whole job on the built-in Cvent sandbox, with no setup — check, preview,
//! sync, changes at the "vendor", then an incremental sync — explained step by step.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use engine::{Config, RunKind, RunOptions};
use sandboxes::cvent_rest::{CventRestSandbox, SandboxConfig};
use serde_json::{Value, json};

use crate::commands::print_report;
use crate::exit;

#[derive(Args)]
pub struct DemoArgs {
    /// Attendees the sandbox event has.
    #[arg(long, default_value_t = 3_000)]
    attendees: u64,
    /// Where the demo writes its configuration, workspace and report.
    #[arg(long, default_value = "eventsync-demo")]
    dir: PathBuf,
    /// Keep the sandbox running after the demo, until Ctrl-C.
    #[arg(long)]
    keep_running: bool,
}

const CONNECTION: &str = "cvent-sandbox";

fn write_config(dir: &Path, sandbox: &CventRestSandbox) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let secret = dir.join("cvent-client-secret");
    std::fs::write(&secret, sandbox.client_secret()).context("writing the demo secret file")?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600))?;
    }
    let config = dir.join("eventsync.toml");
    let text = format!(
        r#"# Written by `eventsync demo`. A real Cvent connection looks the same, with
# region = "na" (or "eu") instead of base_url, and your own event code and client.
database = "workspace.sqlite"

[[connections]]
name = "{CONNECTION}"
kind = "cvent-rest"
base_url = "{base_url}"
event_code = "{event_code}"
client_id = "{client_id}"
# Secrets are given by reference: client_secret = "${{ENV_VAR}}", or a file like this one.
client_secret_file = "cvent-client-secret"
data_types = ["people", "sessions", "speakers", "session_registrations", "locations", "sponsors", "sponsor_levels"]
"#,
        base_url = sandbox.base_url(),
        event_code = sandbox.event_code(),
        client_id = sandbox.client_id(),
    );
    std::fs::write(&config, text).context("writing the demo configuration")?;
    Ok(config)
}

async fn control(
    http: &reqwest::Client,
    sandbox: &CventRestSandbox,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let response = http
        .request(method, format!("{}{path}", sandbox.control_url()))
        .json(&body)
        .send()
        .await?
        .error_for_status()?;
    Ok(response.json().await.unwrap_or(Value::Null))
}

pub async fn run(args: DemoArgs) -> anyhow::Result<u8> {
    let sandbox = CventRestSandbox::start(SandboxConfig {
        attendees: args.attendees,
        ..SandboxConfig::default()
    })
    .await
    .context("starting the Cvent sandbox")?;
    println!("eventsync demo — a Cvent event synced into a local workspace\n");
    println!(
        "1. A Cvent REST sandbox is running at {} with {} attendees.",
        sandbox.base_url(),
        args.attendees
    );
    println!(
        "   It follows Cvent's published API: OAuth2, paging, filters, rate limits, error bodies."
    );

    let _ = std::fs::remove_file(args.dir.join("workspace.sqlite"));
    let _ = std::fs::remove_file(args.dir.join("workspace.sqlite-wal"));
    let _ = std::fs::remove_file(args.dir.join("workspace.sqlite-shm"));
    let config_path = write_config(&args.dir, &sandbox)?;
    let config = Config::load(&config_path)?;
    let connection = config.connection(CONNECTION)?.clone();
    let database = args.dir.join("workspace.sqlite");
    let store = store::Store::open(&database.display().to_string()).await?;
    println!(
        "2. Wrote {} and opened the workspace {}.",
        config_path.display(),
        database.display()
    );

    println!("\n3. Checking the connection:");
    let connector = engine::connect(
        &connection,
        &connection.data_types,
        Default::default(),
        Default::default(),
    )?;
    let check = connector.check(&connection.data_types).await;
    for finding in &check.findings {
        println!(
            "   {} {:<22} {}",
            if finding.ok { "ok  " } else { "FAIL" },
            finding.subject,
            finding.detail
        );
    }
    drop(connector);

    let report_path = args.dir.join("preview.csv");
    let mut options = RunOptions {
        kind: RunKind::Preview,
        data_types: connection.data_types.clone(),
        full: false,
        report: Some(report_path.clone()),
        retry: Default::default(),
    };
    println!("\n4. Preview: the same pipeline as a sync, but nothing is written.");
    let preview = engine::run(&store, &connection, &options, &|_| {}).await?;
    print_report(&preview, CONNECTION, Some(&report_path));

    println!("\n5. Sync: the changes the preview showed are applied, page by page.");
    options.kind = RunKind::Sync;
    options.report = None;
    let first = engine::run(&store, &connection, &options, &|_| {}).await?;
    print_report(&first, CONNECTION, None);

    println!(
        "\n6. Meanwhile, at the vendor: two cancellations, a new company name, two new registrations."
    );
    let http = reqwest::Client::new();
    let people = store
        .export_page(Some(CONNECTION), "people", None, 10)
        .await?;
    let active: Vec<_> = people
        .iter()
        .filter(|p| {
            p.fields
                .get("status")
                .and_then(|s| s.get("value"))
                .and_then(Value::as_str)
                == Some("active")
        })
        .collect();
    for person in active.iter().take(2) {
        control(
            &http,
            &sandbox,
            reqwest::Method::POST,
            &format!("/attendees/{}/cancel", person.external_id),
            json!({}),
        )
        .await?;
        println!("   cancelled {}", person.external_id);
    }
    if let Some(person) = active.get(2) {
        control(
            &http,
            &sandbox,
            reqwest::Method::PATCH,
            &format!("/attendees/{}", person.external_id),
            json!({"contact": {"company": "Renamed Corp"}}),
        )
        .await?;
        println!("   renamed the company of {}", person.external_id);
    }
    for _ in 0..2 {
        let added = control(
            &http,
            &sandbox,
            reqwest::Method::POST,
            "/attendees",
            json!({"status": "Accepted"}),
        )
        .await?;
        println!("   registered {}", added["id"].as_str().unwrap_or("?"));
    }

    println!("\n7. Incremental sync: only what changed since the last cursor is asked for.");
    let second = engine::run(&store, &connection, &options, &|_| {}).await?;
    print_report(&second, CONNECTION, None);

    println!(
        "\nWhat to try next (the workspace stays in {}):",
        args.dir.display()
    );
    for command in ["status", "export people --format csv", "runs"] {
        println!(
            "   cargo run --release -- --config {} {command}",
            config_path.display()
        );
    }
    println!(
        "   The preview report is {}: one row per record, every Cvent field as a column.",
        report_path.display()
    );
    if args.keep_running {
        println!(
            "\nThe sandbox keeps running at {}; press Ctrl-C to stop.",
            sandbox.base_url()
        );
        tokio::signal::ctrl_c().await?;
    }
    let ok = [&preview, &first, &second]
        .iter()
        .all(|r| r.status == engine::RunStatus::Succeeded);
    Ok(if ok { exit::SUCCESS } else { exit::PARTIAL })
}

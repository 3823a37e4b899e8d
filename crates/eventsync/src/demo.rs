//! `eventsync demo`: the whole job on a built-in vendor sandbox, with no setup — check, preview,
//! sync, changes at the "vendor", then an incremental sync — explained step by step. The walk is
//! the same for every vendor; `DemoSandbox` holds what differs (the sandbox, its configuration and
//! how the demo changes data there).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};
use engine::{Config, RunKind, RunOptions};
use sandboxes::aventri::{self, AventriSandbox};
use sandboxes::cvent_rest::{CventRestSandbox, SandboxConfig};
use sandboxes::cvent_soap::{CventSoapSandbox, SoapSandboxConfig};
use serde_json::{Value, json};

use crate::commands::print_report;
use crate::exit;

mod imis;

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
    /// Which vendor's sandbox the demo syncs from.
    #[arg(long, value_enum, default_value_t = DemoVendor::CventRest)]
    vendor: DemoVendor,
    /// Replace a configuration and workspace that --dir holds already.
    #[arg(long)]
    force: bool,
}

/// What the demo writes in its folder, and so replaces when it is run there again.
const DEMO_FILES: [&str; 8] = [
    "eventsync.toml",
    "workspace.sqlite",
    "workspace.sqlite-wal",
    "workspace.sqlite-shm",
    "preview.csv",
    "cvent-client-secret",
    "cvent-soap-password",
    "aventri-key",
];

/// Refuses to write over a configuration or workspace the folder holds, unless forced: a demo
/// run in the folder of a real setup would otherwise replace it without a word.
fn refuse_to_replace(dir: &Path, force: bool) -> anyhow::Result<()> {
    let present: Vec<String> = DEMO_FILES
        .iter()
        .map(|name| dir.join(name))
        .filter(|path| path.exists())
        .map(|path| path.display().to_string())
        .collect();
    let holds_setup = ["eventsync.toml", "workspace.sqlite"]
        .iter()
        .any(|name| dir.join(name).exists());
    if force || !holds_setup {
        return Ok(());
    }
    Err(engine::ConfigError(format!(
        "{} holds a configuration or workspace already; the demo would replace {}. Pass --force \
         to replace them, or choose another --dir",
        dir.display(),
        present.join(", ")
    ))
    .into())
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DemoVendor {
    /// Cvent's REST Platform API.
    CventRest,
    /// Cvent's legacy SOAP API.
    CventSoap,
    /// Aventri's API v2.
    Aventri,
    /// An association on iMIS: a Cvent REST event's registrations as iMIS activities, the
    /// meeting imported, and a member registering through a signed link.
    Imis,
}

/// The running sandbox of the chosen vendor.
enum DemoSandbox {
    CventRest(CventRestSandbox),
    CventSoap(CventSoapSandbox),
    Aventri(AventriSandbox),
}

impl DemoSandbox {
    async fn start(vendor: DemoVendor, attendees: u64) -> anyhow::Result<DemoSandbox> {
        Ok(match vendor {
            DemoVendor::CventRest => DemoSandbox::CventRest(
                CventRestSandbox::start(SandboxConfig {
                    attendees,
                    ..SandboxConfig::default()
                })
                .await
                .context("starting the Cvent sandbox")?,
            ),
            DemoVendor::CventSoap => DemoSandbox::CventSoap(
                CventSoapSandbox::start(SoapSandboxConfig {
                    attendees,
                    ..SoapSandboxConfig::default()
                })
                .await
                .context("starting the Cvent SOAP sandbox")?,
            ),
            DemoVendor::Aventri => DemoSandbox::Aventri(
                AventriSandbox::start(aventri::SandboxConfig {
                    attendees,
                    ..aventri::SandboxConfig::default()
                })
                .await
                .context("starting the Aventri sandbox")?,
            ),
            DemoVendor::Imis => anyhow::bail!("the iMIS demo starts its own sandboxes"),
        })
    }

    fn connection(&self) -> &'static str {
        match self {
            DemoSandbox::CventRest(_) => "cvent-sandbox",
            DemoSandbox::CventSoap(_) => "cvent-soap-sandbox",
            DemoSandbox::Aventri(_) => "aventri-sandbox",
        }
    }

    /// The vendor, as the walk-through names it.
    fn vendor(&self) -> &'static str {
        match self {
            DemoSandbox::CventRest(_) | DemoSandbox::CventSoap(_) => "Cvent",
            DemoSandbox::Aventri(_) => "Aventri",
        }
    }

    fn url(&self) -> String {
        match self {
            DemoSandbox::CventRest(sandbox) => sandbox.base_url(),
            DemoSandbox::CventSoap(sandbox) => sandbox.base_url(),
            DemoSandbox::Aventri(sandbox) => sandbox.endpoint(),
        }
    }

    fn control_url(&self) -> String {
        match self {
            DemoSandbox::CventRest(sandbox) => sandbox.control_url(),
            DemoSandbox::CventSoap(sandbox) => sandbox.control_url(),
            DemoSandbox::Aventri(sandbox) => sandbox.control_url(),
        }
    }

    fn introduce(&self, attendees: u64) {
        match self {
            DemoSandbox::CventRest(sandbox) => {
                println!(
                    "1. A Cvent REST sandbox is running at {} with {attendees} attendees.",
                    sandbox.base_url()
                );
                println!(
                    "   It follows Cvent's published API: OAuth2, paging, filters, rate limits, error bodies."
                );
            }
            DemoSandbox::CventSoap(sandbox) => {
                println!(
                    "1. A Cvent SOAP sandbox is running at {} with {attendees} registrations.",
                    sandbox.base_url()
                );
                println!(
                    "   It follows Cvent's V200611 API: Login and ServerURL, Search, Retrieve in batches, GetUpdated, fault codes, the daily call quota."
                );
            }
            DemoSandbox::Aventri(sandbox) => {
                println!(
                    "1. An Aventri sandbox is running at {} with {attendees} registrations.",
                    sandbox.endpoint()
                );
                println!(
                    "   It follows Aventri's API v2: authorize and accesstoken, offset paging to the \"No attendees found\" error, 400 calls a minute, the gateway's 10 MB limit."
                );
                println!(
                    "   Registrations of the Sponsor category become sponsors; sessions without times are rejected, saying so."
                );
            }
        }
    }

    fn write_config(&self, dir: &Path) -> anyhow::Result<PathBuf> {
        match self {
            DemoSandbox::CventRest(sandbox) => write_config(dir, self.connection(), sandbox),
            DemoSandbox::CventSoap(sandbox) => write_soap_config(dir, self.connection(), sandbox),
            DemoSandbox::Aventri(sandbox) => write_aventri_config(dir, self.connection(), sandbox),
        }
    }

    /// Two cancellations, a new company name and two new registrations at the vendor.
    async fn make_changes(
        &self,
        http: &reqwest::Client,
        people: &[store::StoredRecord],
    ) -> anyhow::Result<()> {
        let value = |person: &store::StoredRecord, field: &str| {
            person
                .fields
                .get(field)
                .and_then(|s| s.get("value"))
                .cloned()
                .unwrap_or(Value::Null)
        };
        let active: Vec<_> = people
            .iter()
            .filter(|p| {
                value(p, "status") == json!("active") && value(p, "is_guest") != json!(true)
            })
            .collect();
        let url = self.control_url();
        for person in active.iter().take(2) {
            let (method, path, body) = self.request(Change::Cancel, &person.external_id);
            control(http, &url, method, &path, body).await?;
            println!("   cancelled {}", person.external_id);
        }
        if let Some(person) = active.get(2) {
            let (method, path, body) = self.request(Change::Rename, &person.external_id);
            control(http, &url, method, &path, body).await?;
            println!("   renamed the company of {}", person.external_id);
        }
        for _ in 0..2 {
            let (method, path, body) = self.request(Change::Add, "");
            let added = control(http, &url, method, &path, body).await?;
            let id = added["id"]
                .as_str()
                .or_else(|| added["Id"].as_str())
                .or_else(|| added["attendeeid"].as_str());
            println!("   registered {}", id.unwrap_or("?"));
        }
        Ok(())
    }

    /// The control API call that makes a change at this vendor.
    fn request(&self, change: Change, id: &str) -> (reqwest::Method, String, Value) {
        use reqwest::Method;
        match (self, change) {
            (DemoSandbox::CventRest(_), Change::Cancel) => {
                (Method::POST, format!("/attendees/{id}/cancel"), json!({}))
            }
            (DemoSandbox::CventRest(_), Change::Rename) => (
                Method::PATCH,
                format!("/attendees/{id}"),
                json!({"contact": {"company": "Renamed Corp"}}),
            ),
            (DemoSandbox::CventRest(_), Change::Add) => (
                Method::POST,
                "/attendees".into(),
                json!({"status": "Accepted"}),
            ),
            (DemoSandbox::CventSoap(_), Change::Cancel) => (
                Method::PATCH,
                format!("/registrations/{id}"),
                json!({"Status": "Cancelled"}),
            ),
            (DemoSandbox::CventSoap(_), Change::Rename) => (
                Method::PATCH,
                format!("/registrations/{id}"),
                json!({"Company": "Renamed Corp"}),
            ),
            (DemoSandbox::CventSoap(_), Change::Add) => (
                Method::POST,
                "/registrations".into(),
                json!({"Status": "Accepted"}),
            ),
            (DemoSandbox::Aventri(_), Change::Cancel) => {
                (Method::POST, format!("/attendees/{id}/cancel"), json!({}))
            }
            (DemoSandbox::Aventri(_), Change::Rename) => (
                Method::PATCH,
                format!("/attendees/{id}"),
                json!({"company": "Renamed Corp"}),
            ),
            (DemoSandbox::Aventri(_), Change::Add) => (
                Method::POST,
                "/attendees".into(),
                json!({
                    "registrationstatus": "Confirmed",
                    "category": {"categoryid": "1", "name": "Attendee"},
                }),
            ),
        }
    }
}

/// The changes the demo makes at the vendor between the two syncs.
#[derive(Clone, Copy)]
enum Change {
    Cancel,
    Rename,
    Add,
}

fn write_soap_config(
    dir: &Path,
    connection: &str,
    sandbox: &CventSoapSandbox,
) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let secret = dir.join("cvent-soap-password");
    std::fs::write(&secret, sandbox.password()).context("writing the demo password file")?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600))?;
    }
    let config = dir.join("eventsync.toml");
    let text = format!(
        r#"# Written by `eventsync demo --vendor cvent-soap`. A real Cvent SOAP connection looks the
# same, with host = "production" (or "eu", "sandbox") instead of base_url, and your own account
# number, API user and event code.
database = "workspace.sqlite"

[[connections]]
name = "{connection}"
kind = "cvent-soap"
base_url = "{base_url}"
account_number = "{account}"
user_name = "{user}"
# Secrets are given by reference: password = "${{ENV_VAR}}", or a file like this one.
password_file = "cvent-soap-password"
event_code = "{event_code}"
data_types = ["people", "sessions", "speakers", "session_registrations"]
"#,
        base_url = sandbox.base_url(),
        account = sandbox.account_number(),
        user = sandbox.user_name(),
        event_code = sandbox.event_code(),
    );
    std::fs::write(&config, text).context("writing the demo configuration")?;
    Ok(config)
}

fn write_aventri_config(
    dir: &Path,
    connection: &str,
    sandbox: &AventriSandbox,
) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let secret = dir.join("aventri-key");
    std::fs::write(&secret, sandbox.master_key()).context("writing the demo key file")?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600))?;
    }
    let config = dir.join("eventsync.toml");
    let text = format!(
        r#"# Written by `eventsync demo --vendor aventri`. A real Aventri connection looks the same,
# with region = "na" (or "emea", "apac") instead of endpoint, and your own account id, key and
# event id.
database = "workspace.sqlite"

[[connections]]
name = "{connection}"
kind = "aventri"
endpoint = "{endpoint}"
account_id = "{account}"
# Secrets are given by reference: key = "${{ENV_VAR}}", or a file like this one.
key_file = "aventri-key"
event_id = "{event_id}"
active_statuses = "Confirmed,Attended"
presenter_photo_endpoint = "{photos}"
ConcurrentSessionsTitle = "Choose a breakout"
data_types = ["people", "sessions", "speakers", "session_registrations", "sponsors", "sponsor_levels"]
"#,
        endpoint = sandbox.endpoint(),
        account = sandbox.account_id(),
        event_id = sandbox.event_id(),
        photos = sandbox.presenter_photo_endpoint(),
    );
    std::fs::write(&config, text).context("writing the demo configuration")?;
    Ok(config)
}

fn write_config(
    dir: &Path,
    connection: &str,
    sandbox: &CventRestSandbox,
) -> anyhow::Result<PathBuf> {
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
name = "{connection}"
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
    control_url: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let response = http
        .request(method, format!("{control_url}{path}"))
        .json(&body)
        .send()
        .await?
        .error_for_status()?;
    Ok(response.json().await.unwrap_or(Value::Null))
}

pub async fn run(args: DemoArgs) -> anyhow::Result<u8> {
    if args.vendor == DemoVendor::Imis {
        return imis::run(&args).await;
    }
    refuse_to_replace(&args.dir, args.force)?;
    let sandbox = DemoSandbox::start(args.vendor, args.attendees).await?;
    let connection_name = sandbox.connection();
    let article = if sandbox.vendor().starts_with('A') {
        "an"
    } else {
        "a"
    };
    println!(
        "eventsync demo — {article} {} event synced into a local workspace\n",
        sandbox.vendor()
    );
    sandbox.introduce(args.attendees);

    let _ = std::fs::remove_file(args.dir.join("workspace.sqlite"));
    let _ = std::fs::remove_file(args.dir.join("workspace.sqlite-wal"));
    let _ = std::fs::remove_file(args.dir.join("workspace.sqlite-shm"));
    let config_path = sandbox.write_config(&args.dir)?;
    let config = Config::load(&config_path)?;
    let connection = config.connection(connection_name)?.clone();
    let database = args.dir.join("workspace.sqlite");
    let store = store::Store::open(&database.display().to_string()).await?;
    println!(
        "2. Wrote {} and opened the workspace {}.",
        config_path.display(),
        database.display()
    );
    let outcome = walk(&args, &sandbox, &connection, &config_path, &store).await;
    // Whatever happened, the workspace is left whole in its one file (see `Global::close_stores`).
    store.close().await;
    outcome
}

/// Steps 3 to 7 of the demo, on the opened workspace.
async fn walk(
    args: &DemoArgs,
    sandbox: &DemoSandbox,
    connection: &engine::Connection,
    config_path: &Path,
    store: &store::Store,
) -> anyhow::Result<u8> {
    let connection_name = sandbox.connection();

    println!("\n3. Checking the connection:");
    let connector = engine::connect(
        connection,
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
    let preview = engine::run(store, connection, &options, &|_| {}).await?;
    crate::commands::split_report(Some(&report_path), preview.report_rows)?;
    print_report(&preview, connection_name, Some(&report_path));

    println!("\n5. Sync: the changes the preview showed are applied, page by page.");
    options.kind = RunKind::Sync;
    options.report = None;
    let first = engine::run(store, connection, &options, &|_| {}).await?;
    print_report(&first, connection_name, None);

    println!(
        "\n6. Meanwhile, at the vendor: two cancellations, a new company name, two new registrations."
    );
    let http = reqwest::Client::new();
    let people = store
        .export_page(Some(connection_name), "people", None, 20)
        .await?;
    sandbox.make_changes(&http, &people).await?;

    println!("\n7. Incremental sync: only what changed since the last cursor is asked for.");
    let second = engine::run(store, connection, &options, &|_| {}).await?;
    print_report(&second, connection_name, None);

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
        "   The preview report is {} (every data type) and {} (one per data type): one row \
         per record, its workspace values beside every {} field as a column.",
        report_path.display(),
        engine::report::type_file(&report_path, "<data type>").display(),
        sandbox.vendor()
    );
    println!(
        "   The console: `cargo run --release -- --config {config} token create \"me\" --scope admin`, \
         then `cargo run --release -- --config {config} serve` and sign in at http://127.0.0.1:8080/ \
         with the token (`demo --keep-running` keeps the sandbox up for its Preview and Sync).",
        config = config_path.display()
    );
    if args.keep_running {
        println!(
            "\nThe sandbox keeps running at {}; press Ctrl-C to stop.",
            sandbox.url()
        );
        tokio::signal::ctrl_c().await?;
    }
    let ok = [&preview, &first, &second]
        .iter()
        .all(|r| r.status == engine::RunStatus::Succeeded);
    Ok(if ok { exit::SUCCESS } else { exit::PARTIAL })
}

//! `eventsync demo --vendor imis`: an association on iMIS, with no setup. The Cvent REST and
//! iMIS sandboxes run in this process beside `eventsync serve`; the walk-through checks the iMIS
//! site, syncs the event, lets the change feed record every registered member as an activity,
//! imports the meeting, registers a member through a signed link as the association's website
//! would make it (Cvent's prefilled page, then Submit), cancels them, and shows a non-member the
//! refusal.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use reqwest::Method;
use sandboxes::cvent_rest::{CventRestSandbox, SandboxConfig};
use sandboxes::imis::ImisSandbox;
use serde_json::{Value, json};

use super::DemoArgs;
use crate::exit;

/// The workspace's connections, as the demo's configuration names them.
const CVENT: &str = "cvent-sandbox";
const SITE: &str = "association";
const WEBHOOK_TOKEN: &str = "demo-webhook-token";

pub async fn run(args: &DemoArgs) -> anyhow::Result<u8> {
    super::refuse_to_replace(&args.dir, args.force)?;
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("creating {}", args.dir.display()))?;
    println!("eventsync demo — an association on iMIS, fed from a Cvent event\n");
    let attendees = args.attendees.min(500);
    let cvent = CventRestSandbox::start(SandboxConfig {
        attendees,
        ..SandboxConfig::default()
    })
    .await
    .context("starting the Cvent sandbox")?;
    let imis = ImisSandbox::start(sandboxes::imis::SandboxConfig::default())
        .await
        .context("starting the iMIS sandbox")?;
    println!(
        "1. Started two sandboxes on this machine:\n   Cvent REST  {} ({attendees} attendees)\n   iMIS        {} (user {}, the association's members)",
        cvent.base_url(),
        imis.base_url(),
        imis.username()
    );

    for name in [
        "workspace.sqlite",
        "workspace.sqlite-wal",
        "workspace.sqlite-shm",
    ] {
        let _ = std::fs::remove_file(args.dir.join(name));
    }
    let config_path = write_config(&args.dir, &cvent, &imis)?;
    let config = engine::Config::load(&config_path)?;
    let database = args.dir.join("workspace.sqlite");
    let store = store::Store::open(&database.display().to_string()).await?;
    println!(
        "2. Wrote {} and opened the workspace.",
        config_path.display()
    );
    let outcome = walk(&config, &store, &cvent, &imis).await;
    store.close().await;
    outcome?;
    println!(
        "\nWhat to try next (the workspace stays in {}):\n   cargo run --release -- --config {cfg} changes --types people --limit 20\n   cargo run --release -- --config {cfg} outbox --status failed\n   cargo run --release -- --config {cfg} imis import-event {CVENT}\n   docs/registration-links.md: how the association's website makes registration links",
        args.dir.display(),
        cfg = config_path.display()
    );
    Ok(exit::SUCCESS)
}

async fn walk(
    config: &engine::Config,
    store: &store::Store,
    cvent: &CventRestSandbox,
    imis: &ImisSandbox,
) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let site = config.connection(SITE)?;
    let report = destinations::check_connection(config, site, Value::Null, Default::default())
        .await
        .map_err(engine::ConfigError)?;
    println!("3. eventsync check {SITE}:");
    for finding in &report.findings {
        let mark = if finding.ok { "ok  " } else { "FAIL" };
        println!("     {mark} {:<34} {}", finding.subject, finding.detail);
    }

    let source = config.connection(CVENT)?.clone();
    let summary = engine::run(
        store,
        &source,
        &engine::RunOptions {
            kind: engine::RunKind::Sync,
            data_types: source.data_types.clone(),
            full: false,
            report: None,
            retry: Default::default(),
        },
        &|_| {},
    )
    .await?;
    let people = registered_people(store).await?;
    println!(
        "4. Synced the Cvent event: {} registered people, {} calls.",
        people.len(),
        summary.api_calls
    );

    // The association knows most of them; one email is on two iMIS records.
    let known = people.len().saturating_sub(people.len() / 10);
    for (index, email) in people.iter().take(known).enumerate() {
        add_party(&http, imis, &format!("Member{index}"), email, true).await?;
    }
    if let Some(twice) = people.first() {
        add_party(&http, imis, "Duplicate", twice, true).await?;
    }
    println!(
        "5. In iMIS: {known} of them are parties (one email on two parties); {} are unknown there.",
        people.len() - known
    );

    let settings = server::Settings {
        webhook_token: Some(engine::Secret::new(WEBHOOK_TOKEN)),
        report_dir: std::env::temp_dir().join("eventsync-demo-reports"),
        poll: Duration::from_millis(50),
        scheduler: false,
        ..server::Settings::default()
    };
    let state = server::AppState::new(store.clone(), config.clone(), settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let serving = tokio::spawn(server::serve(state, listener, std::future::pending()));
    sandboxes::control(
        &http,
        &cvent.control_url(),
        Method::PUT,
        "/webhooks",
        &json!({"url": format!("{base}/webhooks/cvent/{CVENT}"), "token": WEBHOOK_TOKEN}),
    )
    .await
    .map_err(anyhow::Error::msg)?;
    let outbox = wait_for_outbox(store).await?;
    println!(
        "6. eventsync serve at {base} read the change feed and delivered to iMIS: {} activities, {} refused.",
        activities(&http, imis).await?.len(),
        outbox.get("failed").copied().unwrap_or(0)
    );
    for reason in refusals(store, 2).await? {
        println!("     refused: {reason}");
    }

    let import = destinations::imis::meeting::MeetingImport::new(config, CVENT, Default::default())
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    let plan = import
        .plan(store)
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    import
        .apply(&plan)
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    println!(
        "7. eventsync imis import-event {CVENT} --apply: iMIS event {} with {} functions (its sessions).",
        plan.event_id,
        plan.functions.len()
    );

    // A member the event has never seen registers from the association's website.
    let member = add_party(&http, imis, "Grace", "grace.hopper@members.example", true).await?;
    let link = signed_link(&base, &member, link_secret(config)?);
    let response = http.get(&link).send().await?;
    let page = response
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
        .with_context(|| format!("the registration link answered {}", response.status()))?;
    let form = http.get(&page).send().await?.text().await?;
    println!(
        "8. A member signed in on the association's website follows a signed link:\n     {}…\n   eventsync asks iMIS, invites her at Cvent and sends her to her registration page:\n     {page}\n   prefilled: {}",
        &link[..link.find('?').unwrap_or(link.len())],
        prefilled(&form).join(", ")
    );
    let before = activities(&http, imis).await?.len();
    let submitted = Instant::now();
    let fields: Vec<(String, String)> = inputs(&form);
    http.post(&page).form(&fields).send().await?;
    wait_for(|| async { Ok(activities(&http, imis).await?.len() > before) }).await?;
    println!(
        "9. She clicks Submit. Cvent's webhook reached serve, the sync stored her, and iMIS has her activity {:.2} s after the click.",
        submitted.elapsed().as_secs_f64()
    );

    let attendee = cvent_attendee(store, "grace.hopper@members.example").await?;
    sandboxes::control(
        &http,
        &cvent.control_url(),
        Method::POST,
        &format!("/attendees/{attendee}/cancel"),
        &Value::Null,
    )
    .await
    .map_err(anyhow::Error::msg)?;
    wait_for(|| async { Ok(activities(&http, imis).await?.len() == before) }).await?;
    println!(
        "10. She cancels at Cvent: the webhook, the sync, and her activity is gone from iMIS."
    );

    let outsider = add_party(&http, imis, "Nomember", "not.a.member@example.org", false).await?;
    let refused = http
        .get(signed_link(&base, &outsider, link_secret(config)?))
        .send()
        .await?;
    let status = refused.status();
    let text = refused.text().await?;
    println!("11. A non-member's link: {status}, \"{}\"", heading(&text));
    let replayed = http.get(&link).send().await?.status();
    println!("12. The first link followed again: {replayed} (a link works once).");
    serving.abort();
    Ok(())
}

fn write_config(
    dir: &Path,
    cvent: &CventRestSandbox,
    imis: &ImisSandbox,
) -> anyhow::Result<std::path::PathBuf> {
    let secret_file = dir.join("cvent-client-secret");
    std::fs::write(&secret_file, cvent.client_secret())?;
    std::fs::write(dir.join("imis-password"), imis.password())?;
    std::fs::write(dir.join("register-link-secret"), demo_link_secret())?;
    let text = format!(
        r#"# Written by `eventsync demo --vendor imis`. A real setup looks the same, with your Cvent
# credentials and your iMIS site; secrets stay in files or environment variables.
database = "workspace.sqlite"

[[connections]]
name = "{CVENT}"
kind = "cvent-rest"
base_url = "{cvent_url}"
event_code = "{event_code}"
client_id = "{client_id}"
client_secret_file = "cvent-client-secret"
data_types = ["sessions", "people"]

# Registered people become activities on their iMIS party; cancelled ones lose them.
[connections.imis]
destination = "{SITE}"
activity_type = "EVENT"
product_code = "DEMO27"   # the iMIS event id: 10 characters at most
match = ["email"]
eligibility_query = "$/Events/Cvent/Eligible members"

[[connections]]
name = "{SITE}"
kind = "imis"
site_url = "{site_url}"
username = "{username}"
password_file = "imis-password"
link_secret_file = "register-link-secret"
"#,
        cvent_url = cvent.base_url(),
        event_code = cvent.event_code(),
        client_id = cvent.client_id(),
        site_url = imis.base_url(),
        username = imis.username(),
    );
    let path = dir.join("eventsync.toml");
    std::fs::write(&path, text)?;
    Ok(path)
}

/// A fresh secret for the demo's links: the demo's own website is this process.
fn demo_link_secret() -> String {
    format!("demo-{}", uuid::Uuid::new_v4().simple())
}

fn link_secret(config: &engine::Config) -> anyhow::Result<&str> {
    match &config.connection(SITE)?.vendor {
        engine::VendorSettings::Imis(settings) => settings
            .link_secret
            .as_ref()
            .map(|secret| secret.expose())
            .context("the demo's iMIS site has no link_secret"),
        _ => anyhow::bail!("'{SITE}' is not an iMIS site"),
    }
}

/// A registration link as docs/registration-links.md tells a website to make one, good for
/// 15 minutes.
fn signed_link(base: &str, member: &str, secret: &str) -> String {
    server::registration_link(
        base,
        CVENT,
        member,
        secret,
        chrono::Utc::now().timestamp() + 15 * 60,
        &uuid::Uuid::new_v4().simple().to_string(),
    )
}

async fn add_party(
    http: &reqwest::Client,
    imis: &ImisSandbox,
    first_name: &str,
    email: &str,
    member: bool,
) -> anyhow::Result<String> {
    let party = sandboxes::control(
        http,
        &imis.control_url(),
        Method::POST,
        "/parties",
        &json!({"first_name": first_name, "last_name": "Example", "emails": [email], "is_member": member, "company": "Example Society", "title": "Member"}),
    )
    .await
    .map_err(anyhow::Error::msg)?;
    party["id"]
        .as_str()
        .map(str::to_string)
        .context("the iMIS sandbox gave the party no id")
}

async fn activities(http: &reqwest::Client, imis: &ImisSandbox) -> anyhow::Result<Vec<Value>> {
    let all = sandboxes::control(
        http,
        &imis.control_url(),
        Method::GET,
        "/activities",
        &Value::Null,
    )
    .await
    .map_err(anyhow::Error::msg)?;
    Ok(all.as_array().cloned().unwrap_or_default())
}

/// The emails of the workspace's registered people.
async fn registered_people(store: &store::Store) -> anyhow::Result<Vec<String>> {
    let mut emails = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .export_page(Some(CVENT), "people", after.as_deref(), 1000)
            .await?;
        let Some(last) = page.last() else {
            return Ok(emails);
        };
        after = Some(last.external_id.clone());
        for record in &page {
            let fields = engine::run::export_fields(record);
            if fields["status"] == "active"
                && let Some(email) = fields["email"].as_str()
            {
                emails.push(email.to_string());
            }
        }
    }
}

/// The workspace's person with this email (the id Cvent gave them).
async fn cvent_attendee(store: &store::Store, email: &str) -> anyhow::Result<String> {
    let mut after: Option<String> = None;
    loop {
        let page = store
            .export_page(Some(CVENT), "people", after.as_deref(), 1000)
            .await?;
        let Some(last) = page.last() else {
            anyhow::bail!("the workspace holds nobody with the email {email}");
        };
        after = Some(last.external_id.clone());
        if let Some(record) = page
            .iter()
            .find(|record| engine::run::export_fields(record)["email"].as_str() == Some(email))
        {
            return Ok(record.external_id.clone());
        }
    }
}

/// Waits until the feed is read and the outbox has nothing left to send; its counts.
async fn wait_for_outbox(
    store: &store::Store,
) -> anyhow::Result<std::collections::BTreeMap<String, u64>> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let counts = store.outbox_counts().await?;
        let busy = counts.get("pending").copied().unwrap_or(0)
            + counts.get("sending").copied().unwrap_or(0);
        let read = store
            .feed_checkpoint(&format!("destination:{SITE}"))
            .await?
            == store.feed_position().await?;
        if busy == 0 && read && !counts.is_empty() {
            return Ok(counts);
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the outbox was still busy after two minutes: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The first reasons iMIS deliveries were refused for, one per kind.
async fn refusals(store: &store::Store, kinds: usize) -> anyhow::Result<Vec<String>> {
    let failed = store
        .outbox(&store::OutboxQuery {
            status: Some(store::OutboxStatus::Failed),
            limit: 500,
            ..store::OutboxQuery::default()
        })
        .await?;
    let mut shown: Vec<String> = Vec::new();
    for reason in failed.iter().filter_map(|item| item.last_error.clone()) {
        let kind = reason.split(':').next().unwrap_or_default().to_string();
        if shown.len() < kinds && !shown.iter().any(|s| s.starts_with(&kind)) {
            shown.push(reason);
        }
    }
    Ok(shown)
}

/// Polls `done` every 20 ms for up to 30 s; how long it took.
async fn wait_for<F, Fut>(done: F) -> anyhow::Result<Duration>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<bool>>,
{
    let started = Instant::now();
    while !done().await? {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30),
            "nothing happened within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(started.elapsed())
}

/// The `name=value` pairs of a page's inputs.
fn inputs(page: &str) -> Vec<(String, String)> {
    page.split("<input")
        .skip(1)
        .filter_map(|tag| {
            let attribute = |name: &str| {
                let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
                let end = tag[start..].find('"')? + start;
                Some(unescape(&tag[start..end]))
            };
            Some((attribute("name")?, attribute("value").unwrap_or_default()))
        })
        .collect()
}

/// The prefilled inputs, for the walk-through.
fn prefilled(page: &str) -> Vec<String> {
    inputs(page)
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| format!("{name} = {value}"))
        .collect()
}

/// A page's first heading.
fn heading(page: &str) -> String {
    let start = page
        .find("<h1")
        .and_then(|at| page[at..].find('>').map(|end| at + end + 1));
    let text = start
        .and_then(|start| {
            page[start..]
                .find("</h1>")
                .map(|end| &page[start..start + end])
        })
        .unwrap_or_default();
    unescape(text)
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

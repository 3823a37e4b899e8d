//! The console, as an event manager uses it, in a real browser: sign in with a token, check the
//! connections (one right, one with a wrong secret), preview, filter the preview, apply it, see
//! the run and the vendor-against-workspace totals, turn auto sync on, retry a registration the
//! vendor refused, read the webhooks — and a read-only token kept out.
//!
//! Real parts only: the `eventsync` binary serving as a child process on a SQLite workspace, the
//! Cvent REST sandbox over HTTP on loopback, and headless Chromium (Debian's, installed with apt
//! when missing; the test is skipped, saying why, when it cannot be had). A screenshot of every
//! page is kept under `target/test-artifacts/console/`.

mod support;

#[path = "support/browser.rs"]
mod browser;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use reqwest::Method;
use sandboxes::cvent_rest::{CventRestSandbox, SandboxConfig};
use serde_json::{Value, json};
use support::{Process, start};

use browser::{Browser, Page};

const BINARY: &str = env!("CARGO_BIN_EXE_eventsync");
const WEBHOOK_TOKEN: &str = "console-browser-webhook-token";
const ATTENDEES: u64 = 120;
/// The key secrets typed into the console are stored under (32 bytes, base64).
const SECRET_KEY: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";

/// A folder with `eventsync.toml` and its workspace, beside the Cvent sandbox.
struct Desk {
    dir: PathBuf,
    cvent: CventRestSandbox,
    http: reqwest::Client,
}

impl Drop for Desk {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct Server {
    _process: Process,
    base: String,
}

impl Desk {
    async fn start() -> Desk {
        let cvent = CventRestSandbox::start(SandboxConfig {
            attendees: ATTENDEES,
            ..SandboxConfig::default()
        })
        .await
        .expect("the Cvent REST sandbox");
        let dir = std::env::temp_dir().join(format!("eventsync-console-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("the workspace folder");
        let config = format!(
            r#"[[connections]]
name = "cvent-old-secret"
kind = "cvent-rest"
base_url = "{url}"
event_code = "{code}"
client_id = "{client}"
client_secret = "a secret that was rotated"
data_types = ["people"]
"#,
            url = cvent.base_url(),
            code = cvent.event_code(),
            client = cvent.client_id(),
        );
        std::fs::write(dir.join("eventsync.toml"), config).expect("the configuration");
        Desk {
            dir,
            cvent,
            http: reqwest::Client::new(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BINARY);
        command
            .current_dir(&self.dir)
            .env("CVENT_SECRET", self.cvent.client_secret())
            .env("EVENTSYNC_WEBHOOK_TOKEN", WEBHOOK_TOKEN)
            .env("EVENTSYNC_SECRET_KEY", SECRET_KEY)
            .env_remove("EVENTSYNC_CONFIG")
            .env_remove("EVENTSYNC_DATABASE")
            .args(args);
        command
    }

    async fn eventsync(&self, args: &[&str]) -> Output {
        let mut command = self.command(args);
        let what = args.join(" ");
        let output = tokio::task::spawn_blocking(move || command.output())
            .await
            .expect("the command's thread")
            .expect("eventsync runs");
        assert!(
            output.status.success(),
            "eventsync {what}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    async fn token(&self, name: &str, scope: &str) -> String {
        let created = self
            .eventsync(&["--json", "token", "create", name, "--scope", scope])
            .await;
        let created: Value = serde_json::from_slice(&created.stdout).expect("the token's JSON");
        created["token"].as_str().expect("a token").to_string()
    }

    async fn serve(&self) -> Server {
        let mut command = self.command(&[
            "--json",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--no-scheduler",
        ]);
        let (process, info) = tokio::task::spawn_blocking(move || start(&mut command))
            .await
            .expect("the server's start");
        let base = info["listening"].as_str().expect("listening").to_string();
        Server {
            _process: process,
            base,
        }
    }

    /// Points Cvent's webhooks at the server's `cvent` connection (which must exist: Cvent
    /// checks the address answers).
    async fn point_webhooks(&self, server: &Server) {
        self.control(
            Method::PUT,
            "/webhooks",
            json!({"url": format!("{}/webhooks/cvent/cvent", server.base), "token": WEBHOOK_TOKEN}),
        )
        .await;
    }

    async fn control(&self, method: Method, path: &str, body: Value) -> Value {
        sandboxes::control(&self.http, &self.cvent.control_url(), method, path, &body)
            .await
            .expect("a Cvent control call")
    }

    async fn api(
        &self,
        server: &Server,
        token: &str,
        method: Method,
        path: &str,
        body: Value,
    ) -> Value {
        let mut request = self
            .http
            .request(method, format!("{}{path}", server.base))
            .bearer_auth(token);
        if !body.is_null() {
            request = request.json(&body);
        }
        let answer = request.send().await.expect("an API call");
        answer.json().await.unwrap_or(Value::Null)
    }
}

fn artefacts() -> PathBuf {
    let dir = sandboxes::python::target_dir().join("test-artifacts/console");
    std::fs::create_dir_all(&dir).expect("the artefacts folder");
    dir
}

/// Takes a screenshot named after its step, and notes how long the page took to load.
async fn shot(page: &mut Page, shots: &mut Vec<String>, name: &str) {
    let path = artefacts().join(format!("{name}.png"));
    page.screenshot(&path).await.expect("a screenshot");
    shots.push(name.to_string());
}

async fn open(page: &mut Page, url: &str, selector: &str) -> String {
    page.open(url).await.expect("the page opens");
    page.wait_for(selector).await.expect("the expected page");
    page.text().await.expect("the page's text")
}

/// Clicks, then waits for the next page (not the one clicked on) to show `selector`.
async fn click(page: &mut Page, target: &str, selector: &str) -> String {
    page.evaluate("window.__left = true")
        .await
        .expect("the page answers");
    page.click(target).await.expect("something to click");
    let expression = format!(
        "window.__left === undefined && document.readyState === 'complete' && document.querySelector({}) !== null",
        json!(selector)
    );
    page.wait_until(selector, &expression)
        .await
        .expect("the next page");
    page.text().await.expect("the page's text")
}

/// Waits until the run page the browser shows has finished (it refreshes itself meanwhile).
async fn wait_for_run(page: &mut Page) -> String {
    let started = Instant::now();
    loop {
        let text = page.text().await.unwrap_or_default();
        if text.contains("Ended") && !text.contains("still running") && !text.is_empty() {
            return text;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the run did not end within a minute: {text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_manager_runs_the_integration_from_the_console() {
    let chromium = match browser::find_or_install() {
        Ok(chromium) => chromium,
        Err(why) => {
            println!("SKIPPED: no headless browser for the console test: {why}");
            return;
        }
    };
    let desk = Desk::start().await;
    let admin = desk.token("event manager", "admin").await;
    let reader = desk.token("reporting", "read").await;
    let server = desk.serve().await;
    let mut browser = Browser::launch(&chromium).await.expect("chromium starts");
    let page = browser.page();
    page.resize(1280, 900).await.expect("a laptop's screen");
    let mut shots = Vec::new();
    let base = server.base.clone();

    // Signed out, every page leads to the sign-in; a wrong token is refused, saying so.
    let text = open(page, &format!("{base}/"), "#token").await;
    assert!(text.contains("Sign in with an API token"), "{text}");
    shot(page, &mut shots, "01-sign-in").await;
    page.type_into("#token", "evs_not_a_token_of_this_server")
        .await
        .unwrap();
    let text = click(page, "button[type=submit]", "#sign-in-error").await;
    assert!(text.contains("does not know that token"), "{text}");
    shot(page, &mut shots, "02-sign-in-refused").await;
    page.type_into("#token", &admin).await.unwrap();
    let text = click(page, "button[type=submit]", "table").await;
    assert!(text.contains("Connections"), "{text}");
    assert!(text.contains("cvent-old-secret"), "{text}");
    shot(page, &mut shots, "03-connections").await;

    // Adding the Cvent connection: a wrong data type is refused with the loader's words and
    // nothing is written; then it is added, its secret stored encrypted.
    let before = std::fs::read_to_string(desk.dir.join("eventsync.toml")).unwrap();
    page.type_into("#new-name", "cvent").await.unwrap();
    page.type_into("#new-base-url", &desk.cvent.base_url())
        .await
        .unwrap();
    page.type_into("#new-region", "").await.unwrap();
    page.type_into("#new-event", desk.cvent.event_code())
        .await
        .unwrap();
    page.type_into("#new-client", desk.cvent.client_id())
        .await
        .unwrap();
    page.type_into("#new-secret", desk.cvent.client_secret())
        .await
        .unwrap();
    page.type_into(
        "#new-types",
        "people, sessions, session_registrations, guests",
    )
    .await
    .unwrap();
    let text = click(page, "#add button[type=submit]", "#add-error").await;
    assert!(
        text.contains("guests"),
        "the refused data type is named: {text}"
    );
    assert_eq!(
        std::fs::read_to_string(desk.dir.join("eventsync.toml")).unwrap(),
        before,
        "a refused connection writes nothing"
    );
    assert_eq!(
        page.input_value("new-name").await.unwrap(),
        "cvent",
        "the refused form keeps what was typed"
    );
    shot(page, &mut shots, "03b-connection-refused").await;
    page.type_into("#new-secret", desk.cvent.client_secret())
        .await
        .unwrap();
    page.type_into("#new-types", "people, sessions, session_registrations")
        .await
        .unwrap();
    let text = click(page, "#add button[type=submit]", "[role=status]").await;
    assert!(text.contains("Connection cvent added"), "{text}");
    shot(page, &mut shots, "03c-connection-added").await;
    desk.point_webhooks(&server).await;
    let file = std::fs::read_to_string(desk.dir.join("eventsync.toml")).unwrap();
    assert!(
        !file.contains(desk.cvent.client_secret()),
        "the secret is not kept in plain text: {file}"
    );
    assert!(file.contains("enc:v1:"), "{file}");
    let text = open(page, &format!("{base}/console/connections"), "table").await;
    assert!(text.contains("cvent-old-secret"), "{text}");

    // The keyboard reaches the content first: Tab shows the skip link.
    page.press("Tab", 9).await.unwrap();
    let focused = page
        .evaluate("document.activeElement ? document.activeElement.className : ''")
        .await
        .unwrap();
    assert_eq!(focused, "skip", "the first Tab goes to the skip link");

    // Checks: the right secret passes, the rotated one is named with Cvent's own words.
    let text = click(
        page,
        "form[action='/console/connections/cvent/check'] button",
        "[role=status]",
    )
    .await;
    assert!(text.contains("Everything answered as it should"), "{text}");
    shot(page, &mut shots, "04-check").await;
    let text = open(page, &format!("{base}/console/connections"), "table").await;
    assert!(text.contains("cvent"), "{text}");
    let text = click(
        page,
        "form[action='/console/connections/cvent-old-secret/check'] button",
        "[role=status]",
    )
    .await;
    assert!(text.contains("The check found a problem"), "{text}");
    assert!(
        text.contains("invalid_client") && text.contains("client_secret"),
        "{text}"
    );
    shot(page, &mut shots, "05-check-failed").await;

    // The data types tab before any sync, then a preview of everything.
    let text = open(page, &format!("{base}/console/connections/cvent"), "table").await;
    assert!(text.contains("never"), "nothing synced yet: {text}");
    assert!(text.contains("Recommended interval"), "{text}");
    shot(page, &mut shots, "06-data-types").await;
    click(page, "form[action='/console/runs'] button", "dl").await;
    let text = wait_for_run(page).await;
    assert!(text.contains("preview of cvent"), "{text}");
    page.wait_for("#report").await.unwrap();
    let text = page.text().await.unwrap();
    assert!(text.contains("What would change"), "{text}");
    assert!(text.contains("records match"), "{text}");
    shot(page, &mut shots, "07-preview").await;
    let url = page.url().await.unwrap();
    let run_id = url
        .rsplit('/')
        .next()
        .and_then(|id| id.split(['?', '#']).next())
        .unwrap_or_default()
        .to_string();
    let run = desk
        .api(
            &server,
            &admin,
            Method::GET,
            &format!("/v1/runs/{run_id}"),
            Value::Null,
        )
        .await;
    let creates = run["counts"]["people"]["create"]
        .as_u64()
        .unwrap_or_else(|| panic!("the preview counts the people it would create: {run}"));
    assert!(creates > 0 && creates <= ATTENDEES, "{run}");

    // Filtered to the people it would create: every row shown says create.
    page.evaluate("document.getElementById('data_type').value = 'people'; document.getElementById('action').value = 'create'; true")
        .await
        .unwrap();
    let text = click(page, "form.filters button", "#report").await;
    assert!(
        text.contains(&format!("{creates} records match")),
        "every accepted attendee would be created: {text}"
    );
    let actions = page
        .evaluate("Array.from(document.querySelectorAll('#changes tbody td:nth-child(2)')).map(c => c.innerText.trim()).filter(a => a !== 'create').length")
        .await
        .unwrap();
    assert_eq!(actions, json!(0), "only creates are shown");
    shot(page, &mut shots, "08-preview-filtered").await;
    let preview_page = page.url().await.unwrap();

    // The mapping editor: the vendor paths the preview saw are offered; the company goes to a
    // custom field; a field the data type does not have is refused, saying so.
    let text = open(
        page,
        &format!("{base}/console/connections/cvent/mapping/people"),
        "#rules",
    )
    .await;
    assert!(text.contains("default mapping"), "{text}");
    assert!(
        text.contains("vendor paths seen in the last preview"),
        "{text}"
    );
    // An answer's path is shown with the sandbox's question text, read from the preview.
    assert!(
        text.contains("Do you have any dietary restrictions?"),
        "{text}"
    );
    let offered = page
        .evaluate("Array.from(document.querySelectorAll('#paths option')).some(o => o.value.startsWith('answers.') && o.label.includes('Do you have any dietary restrictions?'))")
        .await
        .unwrap();
    assert_eq!(
        offered,
        json!(true),
        "an answer's path is offered with its question"
    );
    page.evaluate("document.querySelector('#questions').scrollIntoView()")
        .await
        .unwrap();
    shot(page, &mut shots, "08a-mapping-questions").await;
    let blank = page
        .evaluate("document.querySelectorAll('#rules tbody tr').length - 3")
        .await
        .unwrap()
        .as_u64()
        .expect("rows");
    page.type_into(&format!("input[name=source_{blank}]"), "contact.company")
        .await
        .unwrap();
    page.type_into(&format!("input[name=target_{blank}]"), "employer_name")
        .await
        .unwrap();
    let text = click(page, "#mapping-form button[type=submit]", "#mapping-error").await;
    assert!(
        text.contains("employer_name"),
        "the unknown field is named: {text}"
    );
    shot(page, &mut shots, "08b-mapping-refused").await;
    page.type_into(&format!("input[name=target_{blank}]"), "custom.employer")
        .await
        .unwrap();
    let text = click(page, "#mapping-form button[type=submit]", "[role=status]").await;
    assert!(text.contains("Saved"), "{text}");
    shot(page, &mut shots, "08c-mapping-saved").await;
    open(page, &preview_page, "#report").await;

    // Apply: the sync runs, and the data types tab shows the vendor's total against ours.
    click(page, "form[action='/console/runs'] button", "dl").await;
    let text = wait_for_run(page).await;
    assert!(text.contains("sync of cvent"), "{text}");
    assert!(text.contains("succeeded"), "{text}");
    let synced = desk
        .api(
            &server,
            &admin,
            Method::GET,
            "/v1/people?connection=cvent&limit=5",
            Value::Null,
        )
        .await;
    assert!(
        synced["data"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|person| person["custom.employer"].is_string()),
        "the edited mapping filled the custom field: {synced}; the run: {text}"
    );
    shot(page, &mut shots, "09-sync-run").await;
    let text = open(page, &format!("{base}/console/connections/cvent"), "table").await;
    assert!(
        text.contains(&format!("at the vendor, {creates} here")),
        "{text}"
    );
    shot(page, &mut shots, "10-totals").await;
    let text = click(
        page,
        "button[aria-label='Turn auto sync of people on']",
        "[role=status]",
    )
    .await;
    assert!(text.contains("Auto sync of people is on"), "{text}");
    assert!(text.contains("Turn off"), "{text}");
    shot(page, &mut shots, "11-auto-sync-on").await;
    let text = open(page, &format!("{base}/console/runs"), "table").await;
    assert!(text.contains("preview") && text.contains("sync"), "{text}");
    shot(page, &mut shots, "12-runs").await;

    // Cvent refuses a registration (the session is full there): it fails with Cvent's reason,
    // and once Cvent has room, Retry sends it.
    let sessions = desk
        .api(
            &server,
            &admin,
            Method::GET,
            "/v1/sessions?connection=cvent",
            Value::Null,
        )
        .await;
    let session = sessions["data"][0]["external_id"]
        .as_str()
        .expect("a synced session")
        .to_string();
    let people = desk
        .api(
            &server,
            &admin,
            Method::GET,
            "/v1/people?connection=cvent&limit=200",
            Value::Null,
        )
        .await;
    // Someone not on the session yet.
    let registered = desk
        .api(
            &server,
            &admin,
            Method::GET,
            &format!("/v1/sessions/{session}/registrations?connection=cvent&limit=500"),
            Value::Null,
        )
        .await
        .to_string();
    let person = people["data"]
        .as_array()
        .expect("people")
        .iter()
        .filter_map(|p| p["external_id"].as_str())
        .find(|id| !registered.contains(id))
        .expect("a person not on the session")
        .to_string();
    desk.control(
        Method::PATCH,
        &format!("/sessions/{session}"),
        json!({"capacity": 0, "capacityUnlimited": false, "enableWaitlist": false}),
    )
    .await;
    let item = desk
        .api(
            &server,
            &admin,
            Method::POST,
            &format!("/v1/sessions/{session}/registrations"),
            json!({"person_id": person, "connection": "cvent"}),
        )
        .await;
    let id = item["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("an outbox item: {item}"));
    let started = Instant::now();
    loop {
        let item = desk
            .api(
                &server,
                &admin,
                Method::GET,
                &format!("/v1/outbox/{id}"),
                Value::Null,
            )
            .await;
        if item["status"] == "failed" {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{item}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let text = open(
        page,
        &format!("{base}/console/outbox?status=failed"),
        "table",
    )
    .await;
    assert!(text.contains("capacity"), "Cvent's reason is shown: {text}");
    shot(page, &mut shots, "13-outbox-failed").await;
    desk.control(
        Method::PATCH,
        &format!("/sessions/{session}"),
        json!({"capacity": 100_000}),
    )
    .await;
    let text = click(
        page,
        &format!("button[aria-label='Retry item {id}']"),
        "[role=status]",
    )
    .await;
    assert!(
        text.contains(&format!("Item {id} will be sent again")),
        "{text}"
    );
    let started = Instant::now();
    loop {
        let text = open(page, &format!("{base}/console/outbox?status=sent"), "main").await;
        if text.contains(&person) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shot(page, &mut shots, "14-outbox-retried").await;

    // A change at Cvent arrives as a webhook.
    let attendee = desk
        .api(
            &server,
            &admin,
            Method::GET,
            "/v1/people?connection=cvent&limit=2",
            Value::Null,
        )
        .await["data"][1]["external_id"]
        .as_str()
        .expect("a person")
        .to_string();
    desk.control(
        Method::PATCH,
        &format!("/attendees/{attendee}"),
        json!({"contact": {"company": "Renamed at Cvent Ltd"}}),
    )
    .await;
    let started = Instant::now();
    loop {
        let text = open(page, &format!("{base}/console/webhooks"), "main").await;
        if text.contains("cvent") && !text.contains("No webhook has arrived yet") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shot(page, &mut shots, "15-webhooks").await;

    // The configuration workbook: downloaded, uploaded as it is (nothing to change), and a file
    // that is no workbook refused, saying so.
    let workbook = desk.dir.join("cvent.xlsx");
    let downloaded = desk
        .http
        .get(format!("{base}/console/connections/cvent/workbook"))
        .header("Cookie", format!("eventsync_console={admin}"))
        .send()
        .await
        .expect("the workbook download");
    assert!(downloaded.status().is_success(), "{downloaded:?}");
    std::fs::write(&workbook, downloaded.bytes().await.unwrap()).unwrap();
    open(
        page,
        &format!("{base}/console/connections/cvent"),
        "#workbook-form",
    )
    .await;
    page.choose_file("#workbook-file", &workbook).await.unwrap();
    let text = click(page, "#workbook-form button[type=submit]", "[role=status]").await;
    assert!(text.contains("nothing to change"), "{text}");
    shot(page, &mut shots, "15b-workbook-unchanged").await;
    open(
        page,
        &format!("{base}/console/connections/cvent"),
        "#workbook-form",
    )
    .await;
    page.choose_file("#workbook-file", &desk.dir.join("eventsync.toml"))
        .await
        .unwrap();
    let text = click(
        page,
        "#workbook-form button[type=submit]",
        "#workbook-error",
    )
    .await;
    assert!(text.contains("not a workbook"), "{text}");
    shot(page, &mut shots, "15c-workbook-refused").await;

    // A slow sync is cancelled from its page: it stops at the next page boundary.
    desk.control(
        Method::PUT,
        "/latency",
        json!({"page_ms": [1500, 1500], "object_ms": [0, 0]}),
    )
    .await;
    open(page, &format!("{base}/console/connections/cvent"), "table").await;
    click(page, "button[aria-label^='Sync all']", "dl").await;
    let text = page.text().await.unwrap();
    assert!(text.contains("still running"), "{text}");
    shot(page, &mut shots, "15d-run-running").await;
    click(page, "form[action$='/cancel'] button", "dl").await;
    let text = wait_for_run(page).await;
    assert!(text.contains("cancelled"), "{text}");
    shot(page, &mut shots, "15e-run-cancelled").await;
    desk.control(Method::PUT, "/latency", json!({"off": true}))
        .await;

    // On a tablet the data types still read, the table scrolling sideways within its frame.
    page.resize(820, 1180).await.unwrap();
    open(page, &format!("{base}/console/connections/cvent"), "table").await;
    let overflow = page
        .evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        .await
        .unwrap();
    assert_eq!(
        overflow,
        json!(true),
        "the page itself does not scroll sideways"
    );
    shot(page, &mut shots, "16-data-types-tablet").await;
    page.resize(1280, 900).await.unwrap();

    // A read-only token (an event app's) signs in, but the console's pages, which manage
    // connections and runs, say which scope they need rather than show anything.
    click(page, ".sign-out button", "#token").await;
    page.type_into("#token", &reader).await.unwrap();
    let text = click(page, "button[type=submit]", "[role=alert]").await;
    assert!(text.contains("Not allowed"), "{text}");
    assert!(text.contains("admin"), "the scope needed is named: {text}");
    let status = desk
        .http
        .post(format!("{base}/v1/runs"))
        .bearer_auth(&reader)
        .json(&json!({"connection": "cvent", "kind": "sync"}))
        .send()
        .await
        .expect("an API call")
        .status();
    assert_eq!(
        status,
        reqwest::StatusCode::FORBIDDEN,
        "a read token starts no sync"
    );
    shot(page, &mut shots, "17-read-only-refused").await;

    println!(
        "screenshots in {}: {}",
        artefacts().display(),
        shots.join(", ")
    );
}

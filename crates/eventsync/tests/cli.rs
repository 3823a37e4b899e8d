//! The `eventsync` binary as a user runs it: a sandbox in its own process, the CLI against it,
//! and a sync killed mid-run that the next run finishes without duplicates or gaps.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BINARY: &str = env!("CARGO_BIN_EXE_eventsync");

struct Sandbox {
    child: Child,
    info: Value,
}

impl Sandbox {
    fn start(attendees: u64) -> Sandbox {
        let mut child = Command::new(BINARY)
            .args([
                "simulate",
                "cvent-rest",
                "--json",
                "--attendees",
                &attendees.to_string(),
            ])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the sandbox");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read");
        let info = serde_json::from_str(&line).expect("one JSON line");
        Sandbox { child, info }
    }

    fn text(&self, key: &str) -> String {
        self.info[key].as_str().expect(key).to_string()
    }

    fn control(&self, method: &str, path: &str, body: Value) {
        let url = format!("{}{path}", self.text("control_url"));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let response = reqwest::Client::new()
                .request(method.parse().expect("method"), url)
                .json(&body)
                .send()
                .await
                .expect("control call");
            assert!(response.status().is_success());
        });
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Workdir {
    path: PathBuf,
}

impl Workdir {
    fn new(name: &str, sandbox: &Sandbox) -> Workdir {
        let path =
            std::env::temp_dir().join(format!("eventsync-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("workdir");
        let config = format!(
            "[[connections]]\nname = \"cvent\"\nkind = \"cvent-rest\"\nbase_url = \"{}\"\nevent_code = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"${{CVENT_SECRET}}\"\n\n# Every attendee status, so the workspace holds every attendee.\n[connections.data.people]\nstatuses = []\n",
            sandbox.text("base_url"),
            sandbox.text("event_code"),
            sandbox.text("client_id")
        );
        std::fs::write(path.join("eventsync.toml"), config).expect("config");
        Workdir { path }
    }

    fn command(&self, sandbox: &Sandbox, args: &[&str]) -> Command {
        let mut command = Command::new(BINARY);
        command
            .current_dir(&self.path)
            .env("CVENT_SECRET", sandbox.text("client_secret"))
            .env_remove("EVENTSYNC_CONFIG")
            .env_remove("EVENTSYNC_DATABASE")
            .args(args);
        command
    }

    fn run(&self, sandbox: &Sandbox, args: &[&str]) -> Output {
        self.command(sandbox, args).output().expect("run eventsync")
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

fn stdout_json(output: &Output) -> Value {
    let text = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {text}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn exported_ids(workdir: &Workdir, sandbox: &Sandbox) -> Vec<String> {
    let output = workdir.run(sandbox, &["export", "people", "--format", "json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout_json(&output)
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|p| p["external_id"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn a_sync_killed_mid_run_is_finished_by_the_next_without_duplicates_or_gaps() {
    let sandbox = Sandbox::start(20_000);
    // Slow every call a little so the kill lands in the middle of the listing.
    sandbox.control("PUT", "/faults", json!({"latencyMs": 25}));
    let workdir = Workdir::new("kill", &sandbox);
    let mut sync = workdir
        .command(&sandbox, &["sync", "cvent", "--types", "people"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sync");
    let started = Instant::now();
    // Wait until some pages are committed, then kill without warning.
    loop {
        std::thread::sleep(Duration::from_millis(200));
        let status = workdir.run(&sandbox, &["--json", "status"]);
        let rows = stdout_json(&status);
        let people = rows
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["data_type"] == "people");
        let records = people.and_then(|r| r["records"].as_u64()).unwrap_or(0);
        if records >= 2_000 || started.elapsed() > Duration::from_secs(60) {
            break;
        }
    }
    sync.kill().expect("kill -9");
    sync.wait().expect("reap");
    let partial = exported_ids(&workdir, &sandbox);
    assert!(
        !partial.is_empty() && partial.len() < 20_000,
        "killed mid-run: {} records",
        partial.len()
    );

    sandbox.control("PUT", "/faults", json!({}));
    let output = workdir.run(&sandbox, &["--json", "sync", "cvent", "--types", "people"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = stdout_json(&output);
    let created = report["types"]["people"]["counts"]["create"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(
        created as usize,
        20_000 - partial.len(),
        "the second run creates only what was missing"
    );

    let ids = exported_ids(&workdir, &sandbox);
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(ids.len(), 20_000, "no gaps");
    assert_eq!(unique.len(), 20_000, "no duplicates");

    let runs = stdout_json(&workdir.run(&sandbox, &["--json", "runs"]));
    let statuses: Vec<&str> = runs
        .as_array()
        .expect("runs")
        .iter()
        .filter_map(|r| r["status"].as_str())
        .collect();
    assert_eq!(
        statuses,
        ["succeeded", "interrupted"],
        "newest first; the killed run is marked"
    );
}

#[test]
fn commands_explain_what_is_wrong_and_exit_with_documented_codes() {
    let sandbox = Sandbox::start(50);
    let workdir = Workdir::new("errors", &sandbox);

    let missing = workdir.run(&sandbox, &["sync", "nope"]);
    assert_eq!(missing.status.code(), Some(2), "a configuration mistake");
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no connection named 'nope'"));

    let mut wrong = workdir.command(&sandbox, &["check", "cvent"]);
    wrong.env("CVENT_SECRET", "not-the-secret");
    let wrong = wrong.output().expect("check");
    assert_eq!(wrong.status.code(), Some(4), "the check found problems");
    let text = String::from_utf8_lossy(&wrong.stdout);
    assert!(
        text.contains("invalid_client") && text.contains("client_secret"),
        "{text}"
    );
    assert!(
        !text.contains("not-the-secret"),
        "the secret is never printed"
    );

    let unset = workdir
        .command(&sandbox, &["check", "cvent"])
        .env_remove("CVENT_SECRET")
        .output()
        .expect("check");
    assert_eq!(unset.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unset.stderr).contains("export CVENT_SECRET"));

    let good = workdir.run(&sandbox, &["check", "cvent"]);
    assert_eq!(
        good.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&good.stdout)
    );

    let preview = workdir.run(
        &sandbox,
        &["--json", "preview", "cvent", "--report", "preview.csv"],
    );
    assert_eq!(preview.status.code(), Some(0));
    assert_eq!(
        stdout_json(&preview)["types"]["people"]["counts"]["create"],
        50
    );
    assert!(workdir.path.join("preview.csv").exists());
    let export = workdir.run(&sandbox, &["export", "people", "--format", "csv"]);
    assert_eq!(
        String::from_utf8_lossy(&export.stdout).lines().count(),
        1,
        "a preview writes nothing: header only"
    );

    let sync = workdir.run(&sandbox, &["sync", "cvent"]);
    assert_eq!(sync.status.code(), Some(0));
    let export = workdir.run(&sandbox, &["export", "people", "--format", "csv"]);
    let csv = String::from_utf8_lossy(&export.stdout).to_string();
    assert_eq!(csv.lines().count(), 51);
    assert!(
        csv.lines()
            .next()
            .is_some_and(|h| h.starts_with("external_id,status,first_name,last_name,email"))
    );

    sandbox.control("PUT", "/usage", json!({"used": 500_000}));
    let paused = workdir.run(&sandbox, &["sync", "cvent", "--types", "people"]);
    assert_eq!(paused.status.code(), Some(3), "paused for quota");
    assert!(String::from_utf8_lossy(&paused.stdout).contains("quota"));
}

#[test]
fn the_demo_walks_through_cvent_soap_too() {
    let dir = std::env::temp_dir().join(format!("eventsync-demo-soap-{}", std::process::id()));
    let output = Command::new(BINARY)
        .args([
            "demo",
            "--vendor",
            "cvent-soap",
            "--attendees",
            "300",
            "--dir",
        ])
        .arg(&dir)
        .output()
        .expect("run the demo");
    let text = String::from_utf8_lossy(&output.stdout);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("Cvent SOAP sandbox is running"), "{text}");
    assert!(
        text.contains("people                 incremental"),
        "the second sync is incremental: {text}"
    );
}

#[test]
fn the_soap_sandbox_prints_what_a_connection_needs() {
    let mut child = Command::new(BINARY)
        .args(["simulate", "cvent-soap", "--json", "--attendees", "5"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the sandbox");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    let _ = child.kill();
    let _ = child.wait();
    let info: Value = serde_json::from_str(&line).expect("one JSON line");
    for key in [
        "base_url",
        "account_number",
        "user_name",
        "password",
        "event_code",
    ] {
        assert!(
            info[key].as_str().is_some_and(|v| !v.is_empty()),
            "{key}: {info}"
        );
    }
}

#[test]
fn the_demo_walks_through_aventri_too() {
    let dir = std::env::temp_dir().join(format!("eventsync-demo-aventri-{}", std::process::id()));
    let output = Command::new(BINARY)
        .args(["demo", "--vendor", "aventri", "--attendees", "300", "--dir"])
        .arg(&dir)
        .output()
        .expect("run the demo");
    let text = String::from_utf8_lossy(&output.stdout);
    let key = std::fs::read_to_string(dir.join("aventri-key")).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("Aventri sandbox is running"), "{text}");
    assert!(
        text.contains("people                 incremental"),
        "the second sync is incremental: {text}"
    );
    assert!(
        !key.is_empty() && !text.contains(&key),
        "the key is never printed"
    );
}

#[test]
fn the_aventri_sandbox_prints_what_a_connection_needs() {
    let mut child = Command::new(BINARY)
        .args(["simulate", "aventri", "--json", "--attendees", "5"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the sandbox");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    let _ = child.kill();
    let _ = child.wait();
    let info: Value = serde_json::from_str(&line).expect("one JSON line");
    for key in ["endpoint", "account_id", "key", "event_id"] {
        assert!(
            info[key].as_str().is_some_and(|v| !v.is_empty()),
            "{key}: {info}"
        );
    }
}

#[test]
fn status_says_why_auto_sync_stopped_after_the_event() {
    let sandbox = Sandbox::start(20);
    // The event ended ten days ago: auto sync stopped three days ago.
    let ended = chrono::Utc::now() - chrono::Duration::days(10);
    let time =
        |at: chrono::DateTime<chrono::Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    sandbox.control(
        "PATCH",
        &format!("/events/{}", sandbox.text("event_id")),
        json!({"start": time(ended - chrono::Duration::days(2)), "end": time(ended)}),
    );
    let workdir = Workdir::new("auto-sync-end", &sandbox);
    let synced = workdir.run(&sandbox, &["sync", "cvent", "--types", "people"]);
    assert!(
        synced.status.success(),
        "{}",
        String::from_utf8_lossy(&synced.stderr)
    );
    // Auto sync turned on, as the server's API stores it.
    let database = workdir.path.join("eventsync.sqlite").display().to_string();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            let store = store::Store::open(&database).await.expect("workspace");
            store
                .set_auto_sync(&store::AutoSync {
                    connection: "cvent".into(),
                    data_type: "people".into(),
                    enabled: true,
                    interval_seconds: 300,
                    updated_at: String::new(),
                })
                .await
                .expect("auto sync");
            store.close().await;
        });

    let status = workdir.run(&sandbox, &["status"]);
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(
        text.contains("cvent: auto sync stopped on")
            && text.contains("7 days after the event's end date"),
        "{text}"
    );
    let status = stdout_json(&workdir.run(&sandbox, &["status", "--json"]));
    let people = status
        .as_array()
        .expect("rows")
        .iter()
        .find(|row| row["data_type"] == "people")
        .expect("people");
    assert_eq!(people["auto_sync"]["enabled"], true, "{people}");
    assert_eq!(people["auto_sync"]["end"]["stopped"], true, "{people}");
}

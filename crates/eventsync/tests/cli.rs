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

impl Sandbox {
    /// A control API answer, such as the call log.
    fn get(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.text("control_url"));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            reqwest::get(url)
                .await
                .expect("control call")
                .json()
                .await
                .expect("control JSON")
        })
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
        Workdir::with_people(
            name,
            sandbox,
            "# Every attendee status, so the workspace holds every attendee.\nstatuses = []\n",
        )
    }

    /// A workdir whose configuration gives the people data type these settings.
    fn with_people(name: &str, sandbox: &Sandbox, people: &str) -> Workdir {
        let path =
            std::env::temp_dir().join(format!("eventsync-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("workdir");
        let config = format!(
            "[[connections]]\nname = \"cvent\"\nkind = \"cvent-rest\"\nbase_url = \"{}\"\nevent_code = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"${{CVENT_SECRET}}\"\n\n[connections.data.people]\n{people}",
            sandbox.text("base_url"),
            sandbox.text("event_code"),
            sandbox.text("client_id")
        );
        std::fs::write(path.join("eventsync.toml"), config).expect("config");
        Workdir { path }
    }

    /// The same workdir with the connection's listings page by page, not split.
    fn page_by_page(self) -> Workdir {
        let file = self.path.join("eventsync.toml");
        let config = std::fs::read_to_string(&file).expect("config");
        let config = config.replacen(
            "\n\n[connections.data.people]",
            "\nlisting_concurrency = 1\n\n[connections.data.people]",
            1,
        );
        std::fs::write(&file, config).expect("config");
        self
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

    /// Runs eventsync and fails the test, with its error output, unless it succeeded.
    fn succeed(&self, sandbox: &Sandbox, args: &[&str]) -> Output {
        let output = self.run(sandbox, args);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
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

/// Waits until `status` counts at least `records` people (a minute at most): a sync running
/// beside the test has committed that far.
fn wait_for_people(workdir: &Workdir, sandbox: &Sandbox, records: u64) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(200));
        let status = stdout_json(&workdir.run(sandbox, &["--json", "status"]));
        let people = status
            .as_array()
            .into_iter()
            .flatten()
            .find(|row| row["data_type"] == "people")
            .and_then(|row| row["records"].as_u64())
            .unwrap_or(0);
        if people >= records {
            return;
        }
    }
}

fn exported_ids(workdir: &Workdir, sandbox: &Sandbox) -> Vec<String> {
    let output = workdir.succeed(sandbox, &["export", "people", "--format", "json"]);
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
    // Wait until some pages are committed, then kill without warning.
    wait_for_people(&workdir, &sandbox, 2_000);
    sync.kill().expect("kill -9");
    sync.wait().expect("reap");
    let partial = exported_ids(&workdir, &sandbox);
    assert!(
        !partial.is_empty() && partial.len() < 20_000,
        "killed mid-run: {} records",
        partial.len()
    );

    sandbox.control("PUT", "/faults", json!({}));
    let output = workdir.succeed(&sandbox, &["--json", "sync", "cvent", "--types", "people"]);
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
    // The API's vocabulary: times to the second, every action counted, zeros included.
    let newest = &runs[0];
    let started = newest["started_at"].as_str().expect("started_at");
    assert!(started.len() == 20 && started.ends_with('Z'), "{started}");
    assert_eq!(newest["counts"]["people"]["remove"], 0, "{newest}");
    let status = stdout_json(&workdir.run(&sandbox, &["--json", "status"]));
    let people = status
        .as_array()
        .into_iter()
        .flatten()
        .find(|row| row["data_type"] == "people")
        .expect("people's status");
    let synced = people["last_synced_at"].as_str().expect("last_synced_at");
    assert!(synced.len() == 20 && synced.ends_with('Z'), "{synced}");
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
    assert!(
        !workdir.path.join("preview.csv.index").exists(),
        "the server's index of a report is not left beside the user's file"
    );
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
    workdir.succeed(&sandbox, &["sync", "cvent", "--types", "people"]);
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
    assert_eq!(people["auto_sync_end"]["stopped"], true, "{people}");
}

/// Copies a workbook cell by cell, as a person editing it in a spreadsheet would leave it,
/// with `edit` deciding each text cell's new value from its sheet, the row's first two cells
/// and the cell itself.
fn edit_workbook(
    source: &std::path::Path,
    target: &std::path::Path,
    edit: impl Fn(&str, &[String], &str) -> Option<String>,
) {
    use calamine::{Data, Reader, Xlsx, open_workbook};
    let mut workbook: Xlsx<_> = open_workbook(source).expect("open the workbook");
    let mut copy = rust_xlsxwriter::Workbook::new();
    for name in workbook.sheet_names() {
        let range = workbook.worksheet_range(&name).expect("sheet");
        let sheet = copy.add_worksheet();
        sheet.set_name(&name).expect("name");
        for (row, cells) in range.rows().enumerate() {
            let texts: Vec<String> = cells.iter().map(|c| c.to_string()).collect();
            for (column, cell) in cells.iter().enumerate() {
                let (row, column) = (row as u32, column as u16);
                match cell {
                    Data::String(text) => {
                        let value = edit(&name, &texts, text).unwrap_or_else(|| text.clone());
                        sheet.write_string(row, column, value).expect("cell");
                    }
                    Data::Bool(flag) => {
                        sheet.write_boolean(row, column, *flag).expect("cell");
                    }
                    Data::Float(number) => {
                        sheet.write_number(row, column, *number).expect("cell");
                    }
                    Data::Empty => {}
                    other => {
                        panic!("an exported workbook holds text, flags and numbers: {other:?}")
                    }
                }
            }
        }
    }
    copy.save(target).expect("save the edited workbook");
}

/// The rows of a report workbook's people sheet, as text.
fn report_rows(path: &std::path::Path) -> Vec<Vec<String>> {
    use calamine::{Reader, Xlsx, open_workbook};
    let mut workbook: Xlsx<_> = open_workbook(path).expect("open the report");
    let range = workbook.worksheet_range("people").expect("people sheet");
    range
        .rows()
        .map(|row| row.iter().map(|cell| cell.to_string()).collect())
        .collect()
}

/// The configuration leaves as a workbook and comes back edited: the import shows the edited
/// mapping, writes it only when asked (keeping the file's comments and secret reference), and
/// the next preview maps with it — its XLSX report names the field the new mapping changes.
#[test]
fn a_mapping_edited_in_the_exported_workbook_is_imported_and_used() {
    let sandbox = Sandbox::start(60);
    let workdir = Workdir::new("workbook", &sandbox);
    let config_path = workdir.path.join("eventsync.toml");
    let original = std::fs::read_to_string(&config_path).expect("config");
    let run = |args: &[&str]| {
        let output = workdir.run(&sandbox, args);
        assert!(
            output.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).to_string()
    };
    run(&["sync", "cvent", "--types", "people"]);

    run(&["config", "export", "cvent", "--xlsx", "config.xlsx"]);
    let exported = workdir.path.join("config.xlsx");
    let bytes = std::fs::read(&exported).expect("workbook");
    let secret = sandbox.text("client_secret");
    assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()));
    let unchanged = run(&["config", "import", "cvent", "--xlsx", "config.xlsx"]);
    assert!(unchanged.contains("nothing to change"), "{unchanged}");

    // Company now comes from the attendee's title.
    edit_workbook(
        &exported,
        &workdir.path.join("edited.xlsx"),
        |sheet, row, cell| {
            (sheet == "people"
                && row.get(1).map(String::as_str) == Some("company")
                && cell == "contact.company")
                .then(|| "contact.title".to_string())
        },
    );
    let shown = run(&["config", "import", "cvent", "--xlsx", "edited.xlsx"]);
    assert!(
        shown.contains("people: mapping of company: from 'contact.company' → from 'contact.title'"),
        "{shown}"
    );
    assert!(shown.contains("Nothing was written"), "{shown}");
    assert_eq!(
        std::fs::read_to_string(&config_path).expect("config"),
        original
    );

    let applied = stdout_json(&workdir.run(
        &sandbox,
        &[
            "--json",
            "config",
            "import",
            "cvent",
            "--xlsx",
            "edited.xlsx",
            "--apply",
        ],
    ));
    assert_eq!(applied["applied"], true, "{applied}");
    assert_eq!(
        applied["changes"].as_array().map(Vec::len),
        Some(1),
        "{applied}"
    );
    let rewritten = std::fs::read_to_string(&config_path).expect("config");
    assert!(rewritten.contains("# Every attendee status"), "{rewritten}");
    assert!(rewritten.contains("client_secret = \"${CVENT_SECRET}\""));
    assert!(
        rewritten.contains("source = \"contact.title\", target = \"company\""),
        "{rewritten}"
    );

    let preview = stdout_json(&workdir.run(
        &sandbox,
        &[
            "--json",
            "preview",
            "cvent",
            "--types",
            "people",
            "--full",
            "--report",
            "preview.xlsx",
        ],
    ));
    let updates = preview["types"]["people"]["counts"]["update"]
        .as_u64()
        .unwrap_or(0);
    assert!(updates > 0, "{preview}");
    let rows = report_rows(&workdir.path.join("preview.xlsx"));
    assert_eq!(
        rows[0][..4],
        ["action", "external_id", "changed_fields", "reason"]
    );
    assert_eq!(
        rows.len() as u64 - 1,
        preview["report_rows"].as_u64().expect("rows")
    );
    let updated: Vec<&Vec<String>> = rows.iter().filter(|row| row[0] == "update").collect();
    assert_eq!(updated.len() as u64, updates);
    assert!(
        updated.iter().all(|row| row[2].contains("company")),
        "every update is the company the new mapping fills: {updated:?}"
    );

    // A broken workbook is refused with the cell to fix, and the file stays as it is.
    edit_workbook(
        &exported,
        &workdir.path.join("broken.xlsx"),
        |sheet, row, cell| {
            (sheet == "people"
                && row.first().map(String::as_str) == Some("contact.company")
                && cell == "company")
                .then(|| "compnay".to_string())
        },
    );
    let refused = workdir.run(
        &sandbox,
        &[
            "config",
            "import",
            "cvent",
            "--xlsx",
            "broken.xlsx",
            "--apply",
        ],
    );
    assert_eq!(refused.status.code(), Some(2));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("sheet 'people', row")
            && message.contains("column B (target): unknown workspace field 'compnay'"),
        "{message}"
    );
    assert_eq!(
        std::fs::read_to_string(&config_path).expect("config"),
        rewritten
    );
}

#[test]
fn status_compares_the_vendor_total_with_the_workspace_and_explains_the_difference() {
    const ATTENDEES: u64 = 400;
    let sandbox = Sandbox::start(ATTENDEES);
    let workdir = Workdir::with_people(
        "totals",
        &sandbox,
        "statuses = [\"Accepted\"]\nfilters = [{ field = \"first_name\", contains = \"a\", not = true }]\n",
    );
    let people = |status: &Value| -> Value {
        status
            .as_array()
            .expect("rows")
            .iter()
            .find(|row| row["data_type"] == "people")
            .expect("people")["totals"]
            .clone()
    };

    // Before any sync the vendor's total is unknown, and said so.
    let before = workdir.run(&sandbox, &["status", "--json"]);
    let totals = people(&stdout_json(&before));
    assert_eq!(totals["vendor"], Value::Null, "{totals}");
    assert!(
        totals["explanation"]
            .as_str()
            .is_some_and(|e| e.starts_with("vendor total unknown")),
        "{totals}"
    );

    workdir.succeed(&sandbox, &["sync", "cvent", "--types", "people"]);

    let after = workdir.run(&sandbox, &["status", "--json"]);
    let totals = people(&stdout_json(&after));
    let count = |value: &Value| {
        value
            .as_u64()
            .unwrap_or_else(|| panic!("a count: {totals}"))
    };
    let workspace = count(&totals["workspace"]);
    let by_status = count(&totals["left_out"]["by_status"]);
    let by_filters = count(&totals["left_out"]["by_filters"]);
    let rejected = count(&totals["left_out"]["rejected"]);
    // Cvent's count of the attendees outside the selection plus the selected ones listed.
    assert_eq!(count(&totals["vendor"]), ATTENDEES, "{totals}");
    assert_eq!(workspace, exported_ids(&workdir, &sandbox).len() as u64);
    assert!(by_status > 0 && by_filters > 0 && workspace > 0, "{totals}");
    // Everything the vendor has is in the workspace or explained: nothing is left to sync.
    assert_eq!(
        workspace + by_status + by_filters + rejected,
        ATTENDEES,
        "{totals}"
    );
    assert_eq!(count(&totals["not_yet_synced"]), 0, "{totals}");

    let text = workdir.run(&sandbox, &["status"]);
    let text = String::from_utf8_lossy(&text.stdout);
    let expected = format!(
        "workspace {workspace}: {} fewer — {by_status} left out by the status rule, {by_filters} left out by filters",
        ATTENDEES - workspace
    );
    assert!(text.contains(&expected), "{expected}\nin\n{text}");
}

/// `eventsync export people | head`: the commands that print data end quietly when the reader
/// goes away, killed by SIGPIPE like other tools, rather than panicking or reporting an error.
#[cfg(unix)]
#[test]
fn data_commands_end_quietly_when_their_reader_goes_away() {
    use std::os::unix::process::ExitStatusExt;

    let sandbox = Sandbox::start(300);
    let workdir = Workdir::new("closed-stdout", &sandbox);
    workdir.succeed(&sandbox, &["sync", "cvent", "--types", "people"]);
    let commands: [&[&str]; 5] = [
        &["status"],
        &["runs"],
        &["export", "people", "--format", "csv"],
        &["export", "people", "--format", "json"],
        &["config", "schema"],
    ];
    for args in commands {
        // A pipe whose reading end is closed before the command starts: its first write fails.
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let output = workdir
            .command(&sandbox, args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .expect("run eventsync");
        assert_eq!(
            output.status.signal(),
            Some(libc::SIGPIPE),
            "{args:?}: {:?}, stderr: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            output.stderr.is_empty(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn import_previews_a_csv_export_first_and_stores_it_only_when_asked() {
    let sandbox = Sandbox::start(10);
    let workdir = Workdir::with_people(
        "import",
        &sandbox,
        "statuses = [\"Accepted\"]\nlabels = [{ question = \"reg_Diet\", name = \"dietary\" }]\n",
    );
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/registrations.csv"
    );
    let secret = sandbox.text("client_secret");
    let check_quiet = |output: &Output| {
        for stream in [&output.stdout, &output.stderr] {
            assert!(
                !String::from_utf8_lossy(stream).contains(&secret),
                "the secret leaked"
            );
        }
    };

    // Without --apply: the preview only, every rule's verdict in the report, nothing stored.
    let preview = workdir.run(
        &sandbox,
        &[
            "import",
            "cvent",
            "--types",
            "people",
            "--csv",
            fixture,
            "--report",
            "preview.csv",
        ],
    );
    check_quiet(&preview);
    assert!(
        preview.status.success(),
        "{}",
        String::from_utf8_lossy(&preview.stderr)
    );
    let text = String::from_utf8_lossy(&preview.stdout);
    for expected in [
        "registrations.csv: 5 rows",
        "column \"email\": workspace field email ← vendor path contact.email",
        "column \"reg_Diet\": data label dietary (question reg_Diet) → custom.dietary",
        "column \"Badge Printed\": matches no vendor path",
        "Import preview of 'cvent'",
        "row 4: has 8 cells, the heading row has 7",
        "t-005: row 6: required field 'last_name' has no value: column 'contact.lastName' is empty",
        "Nothing was written. Run the same command with --apply",
    ] {
        assert!(text.contains(expected), "{expected}\nin\n{text}");
    }
    let report = std::fs::read_to_string(workdir.path.join("preview.csv")).expect("report");
    assert!(
        report.contains(
            "skipped,t-004,,statuses to import: status 'Cancelled' is not among Accepted"
        ),
        "{report}"
    );
    assert!(exported_ids(&workdir, &sandbox).is_empty());

    // With --apply: the preview again, then the import.
    let applied = workdir.run(
        &sandbox,
        &["import", "cvent", "--csv", fixture, "--apply", "--json"],
    );
    check_quiet(&applied);
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let outcomes = stdout_json(&applied);
    let kinds: Vec<&str> = outcomes
        .as_array()
        .expect("outcomes")
        .iter()
        .map(|o| o["run"]["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(kinds, ["import-preview", "import"]);
    let counts = &outcomes[1]["run"]["types"]["people"]["counts"];
    // Every action counted, zeros included, as the API counts a run's.
    assert_eq!(
        counts,
        &json!({"create": 2, "update": 0, "unchanged": 0, "cancel": 0, "remove": 0,
                "reject": 2, "skipped": 1, "filtered": 0})
    );
    let mut ids = exported_ids(&workdir, &sandbox);
    ids.sort();
    assert_eq!(ids, ["t-001", "t-002"]);
    let people = workdir.run(&sandbox, &["export", "people", "--format", "json"]);
    let people = stdout_json(&people);
    assert_eq!(people[0]["custom.dietary"], "Vegan", "{people}");

    // A file that is not there is the user's to fix.
    let missing = workdir.run(&sandbox, &["import", "cvent", "--csv", "nowhere.csv"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read nowhere.csv"));
}

/// A folder of its own, with no configuration in it, removed after the test.
struct EmptyDir(PathBuf);

impl EmptyDir {
    fn new(name: &str) -> EmptyDir {
        let path =
            std::env::temp_dir().join(format!("eventsync-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("folder");
        EmptyDir(path)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(BINARY)
            .current_dir(&self.0)
            .env_remove("EVENTSYNC_CONFIG")
            .env_remove("EVENTSYNC_DATABASE")
            .args(args)
            .output()
            .expect("run eventsync")
    }
}

impl Drop for EmptyDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Regression: `runs`, `export`, `outbox` and `token create` went on without a configuration
/// that failed to load and opened a new, empty `eventsync.sqlite` — a token created so was stored
/// where `serve` never looked.
#[test]
fn a_configuration_that_fails_to_load_stops_every_command() {
    let sandbox = Sandbox::start(5);
    let workdir = Workdir::with_people("broken-config", &sandbox, "statuses = []\n");
    std::fs::write(
        workdir.path.join("eventsync.toml"),
        "database = \"elsewhere.sqlite\"\n".to_string()
            + &std::fs::read_to_string(workdir.path.join("eventsync.toml")).expect("config"),
    )
    .expect("config");
    let commands: [&[&str]; 6] = [
        &["runs"],
        &["export", "people"],
        &["outbox"],
        &["token", "create", "desk", "--scope", "read"],
        &["status"],
        &["serve", "--listen", "127.0.0.1:0"],
    ];
    for args in commands {
        // The secret's variable is unset: the configuration cannot be loaded.
        let output = workdir
            .command(&sandbox, args)
            .env_remove("CVENT_SECRET")
            .output()
            .expect("run eventsync");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("CVENT_SECRET"), "{args:?}: {stderr}");
    }
    let typo = workdir.path.join("typo.toml");
    std::fs::write(&typo, "[[connections]\nname = \"cvent\"\n").expect("config");
    let typo = typo.display().to_string();
    for args in commands {
        let output = workdir.run(&sandbox, &[&["--config", typo.as_str()], args].concat());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("typo.toml"), "{args:?}: {stderr}");
    }
    for file in ["eventsync.sqlite", "elsewhere.sqlite"] {
        assert!(
            !workdir.path.join(file).exists(),
            "no workspace was made up: {file}"
        );
    }

    // Without any configuration: --database names the workspace, and is enough; a --config
    // given but missing is a mistake all the same, and nothing at all is one too.
    let empty = EmptyDir::new("no-config");
    let alone = empty.run(&[
        "--database",
        "alone.sqlite",
        "token",
        "create",
        "desk",
        "--scope",
        "read",
    ]);
    assert!(
        alone.status.success(),
        "{}",
        String::from_utf8_lossy(&alone.stderr)
    );
    let listed = empty.run(&["--database", "alone.sqlite", "--json", "runs"]);
    assert!(listed.status.success());
    assert_eq!(stdout_json(&listed), json!([]));
    let missing = empty.run(&[
        "--config",
        "gone.toml",
        "--database",
        "alone.sqlite",
        "runs",
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("gone.toml"));
    let nothing = empty.run(&["runs"]);
    assert_eq!(nothing.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&nothing.stderr);
    assert!(
        stderr.contains("eventsync.toml") && stderr.contains("--database"),
        "{stderr}"
    );
    assert!(!empty.0.join("eventsync.sqlite").exists());
}

/// Tokens are made with a scope, listed without their secret, refused a name a live token has
/// (exit 2, naming it), and revoked by name or id.
#[test]
fn tokens_are_created_with_a_scope_listed_and_revoked_by_name_or_id() {
    let empty = EmptyDir::new("tokens");
    let token = |args: &[&str]| {
        empty.run(&[&["--database", "tokens.sqlite", "--json", "token"], args].concat())
    };
    let created = token(&["create", "check-in desk", "--scope", "write"]);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let created = stdout_json(&created);
    assert_eq!(created["name"], "check-in desk");
    assert_eq!(created["scope"], "write");
    let secret = created["token"].as_str().expect("the token, once");
    assert!(secret.starts_with("evs_"), "{created}");

    let again = token(&["create", "check-in desk", "--scope", "read"]);
    assert_eq!(again.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains("'check-in desk' exists already"),
        "{stderr}"
    );
    let unscoped = token(&["create", "reports"]);
    assert_eq!(unscoped.status.code(), Some(2), "--scope is required");
    let wrong = token(&["create", "reports", "--scope", "everything"]);
    assert_eq!(wrong.status.code(), Some(2));

    let ops = stdout_json(&token(&["create", "ops", "--scope", "admin"]));
    let listed = stdout_json(&token(&["list"]));
    let listed = listed.as_array().expect("a list");
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["scope"], "write");
    assert_eq!(listed[1]["name"], "ops");
    let text = serde_json::to_string(listed).expect("JSON");
    assert!(!text.contains(secret), "a secret was listed");
    let created_at = listed[0]["created_at"].as_str().expect("created_at");
    assert!(
        created_at.ends_with('Z') && created_at.len() == 20,
        "to the second: {created_at}"
    );

    let revoked = token(&["revoke", "check-in desk"]);
    assert!(revoked.status.success());
    assert_eq!(stdout_json(&revoked)["revoked"], created["id"]);
    let twice = token(&["revoke", "check-in desk"]);
    assert_eq!(twice.status.code(), Some(2));
    let by_id = token(&["revoke", &ops["id"].to_string()]);
    assert!(by_id.status.success());
    let listed = stdout_json(&token(&["list"]));
    assert!(
        listed
            .as_array()
            .expect("a list")
            .iter()
            .all(|t| t["revoked_at"].is_string()),
        "{listed}"
    );
    // The name is free again once its token is revoked.
    assert!(
        token(&["create", "check-in desk", "--scope", "read"])
            .status
            .success()
    );
}

/// Regression: `outbox --json` named an item's person `attendee_id` and its session
/// `session_id`, with microseconds, where the API says `person_external_id` and
/// `session_external_id`, to the second.
#[test]
fn outbox_json_uses_the_apis_names_and_times() {
    let empty = EmptyDir::new("outbox-json");
    let path = empty.0.join("outbox.sqlite");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let store = store::Store::open(&path.display().to_string())
            .await
            .expect("workspace");
        store
            .enqueue_outbox(&store::NewOutboxItem {
                connection: "cvent".to_string(),
                operation: store::OutboxOperation::Enroll,
                session_id: Some("s-1".to_string()),
                attendee_id: "p-1".to_string(),
                payload: json!({}),
                local: false,
            })
            .await
            .expect("an item");
        store.close().await;
    });
    let output = empty.run(&["--database", "outbox.sqlite", "--json", "outbox"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let items = stdout_json(&output);
    let item = &items[0];
    assert_eq!(item["person_external_id"], "p-1", "{item}");
    assert_eq!(item["session_external_id"], "s-1", "{item}");
    assert!(item.get("attendee_id").is_none(), "{item}");
    let created_at = item["created_at"].as_str().expect("created_at");
    assert!(
        created_at.len() == 20 && created_at.ends_with('Z'),
        "{created_at}"
    );
}

/// Regression: `demo --dir` wrote over the configuration and workspace of the folder it was
/// pointed at without a word.
#[test]
fn the_demo_does_not_replace_a_configuration_unless_forced() {
    let empty = EmptyDir::new("demo-over");
    let config = empty.0.join("eventsync.toml");
    std::fs::write(&config, "# mine\n").expect("config");
    std::fs::write(empty.0.join("workspace.sqlite"), "mine").expect("workspace");
    let dir = empty.0.display().to_string();
    let refused = empty.run(&["demo", "--attendees", "20", "--dir", &dir]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    for expected in ["eventsync.toml", "workspace.sqlite", "--force"] {
        assert!(stderr.contains(expected), "{expected} in {stderr}");
    }
    assert_eq!(
        std::fs::read_to_string(&config).expect("config"),
        "# mine\n"
    );
    assert!(refused.stdout.is_empty(), "no sandbox was started");

    let forced = empty.run(&["demo", "--attendees", "20", "--dir", &dir, "--force"]);
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    assert_ne!(
        std::fs::read_to_string(&config).expect("config"),
        "# mine\n"
    );
    // Its last words lead to the console, with the token it needs.
    let said = String::from_utf8_lossy(&forced.stdout);
    assert!(
        said.contains("token create \"me\" --scope admin")
            && said.contains("http://127.0.0.1:8080/"),
        "{said}"
    );
}

/// Regression: every command left `-wal` and `-shm` files beside the workspace, so a copy of
/// the workspace file alone lost what the WAL still held.
#[test]
fn every_command_leaves_the_workspace_whole_in_its_one_file() {
    let sandbox = Sandbox::start(300);
    let workdir = Workdir::new("whole-file", &sandbox);
    let leftovers = |after: &str| {
        for suffix in ["-wal", "-shm"] {
            let path = workdir.path.join(format!("eventsync.sqlite{suffix}"));
            assert!(!path.exists(), "{} left after {after}", path.display());
        }
    };
    workdir.succeed(&sandbox, &["sync", "cvent", "--types", "people"]);
    leftovers("sync");
    let commands: [&[&str]; 6] = [
        &["status"],
        &["runs"],
        &["export", "people"],
        &["outbox"],
        &["token", "create", "desk", "--scope", "read"],
        &["preview", "cvent", "--types", "people"],
    ];
    for args in commands {
        workdir.succeed(&sandbox, args);
        leftovers(&args.join(" "));
    }
    // A command that fails after opening the workspace closes it all the same.
    let failed = workdir.run(
        &sandbox,
        &["preview", "cvent", "--report", "no-such-folder/report.csv"],
    );
    assert_eq!(failed.status.code(), Some(1));
    leftovers("a failed preview");

    let copy = EmptyDir::new("whole-file-copy");
    std::fs::copy(
        workdir.path.join("eventsync.sqlite"),
        copy.0.join("copy.sqlite"),
    )
    .expect("copy the workspace file");
    let exported = copy.run(&["--database", "copy.sqlite", "export", "people"]);
    assert!(exported.status.success());
    assert_eq!(
        stdout_json(&exported).as_array().map(Vec::len),
        Some(300),
        "the copied file holds every record"
    );
    let runs = stdout_json(&copy.run(&["--database", "copy.sqlite", "--json", "runs"]));
    let sync = runs
        .as_array()
        .into_iter()
        .flatten()
        .find(|run| run["kind"] == "sync");
    assert_eq!(
        sync.map(|run| &run["counts"]["people"]["create"]),
        Some(&json!(300)),
        "and the runs: {runs}"
    );
}

/// Regression: the call Cvent refused for quota ("Limit Exceeded") was missing from the run's
/// call count in the run history, so `runs` showed fewer calls than the account was charged.
#[test]
fn a_run_paused_for_quota_counts_every_call_the_vendor_answered() {
    let sandbox = Sandbox::start(3_000);
    // The quota runs out at each call in turn: a lookup, a listing's first page, a later page.
    for room in 1..=7 {
        let workdir = Workdir::new(&format!("quota-calls-{room}"), &sandbox);
        sandbox.control("DELETE", "/calls", json!({}));
        sandbox.control("PUT", "/usage", json!({"used": 500_000 - room}));
        let paused = workdir.run(&sandbox, &["--json", "sync", "cvent"]);
        assert_eq!(
            paused.status.code(),
            Some(3),
            "{room}: {}",
            String::from_utf8_lossy(&paused.stderr)
        );
        let report = stdout_json(&paused);
        // Token requests are not metered; every other call is, the refused one included.
        let log = sandbox.get("/calls");
        let metered: u64 = log["byEndpoint"]
            .as_object()
            .expect("calls by endpoint")
            .iter()
            .filter(|(endpoint, _)| !endpoint.ends_with("/oauth2/token"))
            .filter_map(|(_, calls)| calls.as_u64())
            .sum();
        let refused = log["recent"]
            .as_array()
            .expect("recent calls")
            .iter()
            .filter(|call| call["status"] == 429)
            .count();
        assert_eq!(refused, 1, "{room}: one call was refused for quota: {log}");
        assert_eq!(report["api_calls"], metered, "{room}: the run's report");
        let runs = stdout_json(&workdir.run(&sandbox, &["--json", "runs"]));
        assert_eq!(
            runs[0]["api_calls"], metered,
            "{room}: the run history: {runs}\n{log}"
        );
        let by_type: u64 = report["types"]
            .as_object()
            .expect("types")
            .values()
            .filter_map(|summary| summary["api_calls"].as_u64())
            .sum();
        assert_eq!(by_type, metered, "{room}: the data types' calls: {report}");
    }
}

/// Regression: a sync against a vendor that does not answer at all (connection refused) retried
/// every call for minutes in silence. It ends after one quick retry, saying where it could not
/// connect.
#[test]
fn a_sync_against_an_unreachable_vendor_ends_soon_naming_the_host() {
    let sandbox = Sandbox::start(5);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("address").port();
    drop(closed);
    let workdir = Workdir::new("unreachable", &sandbox);
    let config = std::fs::read_to_string(workdir.path.join("eventsync.toml")).expect("config");
    std::fs::write(
        workdir.path.join("eventsync.toml"),
        config.replace(
            &sandbox.text("base_url"),
            &format!("http://127.0.0.1:{port}/ea"),
        ),
    )
    .expect("config");
    let started = Instant::now();
    let output = workdir.run(&sandbox, &["sync", "cvent"]);
    let elapsed = started.elapsed();
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("cannot connect to http://127.0.0.1:{port}/ea")),
        "{text}"
    );
    // Before, five tries per call and per data type took minutes (214 s); now one quick retry.
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
}

/// The people created over every run in the ledger.
fn people_created_in_all_runs(workdir: &Workdir, sandbox: &Sandbox) -> u64 {
    let runs = stdout_json(&workdir.succeed(sandbox, &["--json", "runs"]));
    runs.as_array()
        .expect("runs")
        .iter()
        .filter_map(|run| run["counts"]["people"]["create"].as_u64())
        .sum()
}

/// Sends `signal` (`STOP`, `KILL`) to a child process.
fn signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal}");
}

/// Regression: two `eventsync sync` of one connection ran side by side, both listing the vendor
/// and both reporting every record as created.
#[test]
fn two_syncs_of_one_connection_started_together_run_once_and_the_other_is_refused_naming_it() {
    let sandbox = Sandbox::start(20_000);
    let workdir = Workdir::new("together", &sandbox);
    let start = || {
        workdir
            .command(&sandbox, &["--json", "sync", "cvent", "--types", "people"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sync")
    };
    let (first, second) = (start(), start());
    let outputs = [
        first.wait_with_output().expect("first sync"),
        second.wait_with_output().expect("second sync"),
    ];
    let (synced, refused): (Vec<&Output>, Vec<&Output>) =
        outputs.iter().partition(|output| output.status.success());
    assert_eq!(
        (synced.len(), refused.len()),
        (1, 1),
        "exactly one syncs: {:?}",
        outputs
            .iter()
            .map(|o| String::from_utf8_lossy(&o.stderr).to_string())
            .collect::<Vec<_>>()
    );
    let report = stdout_json(synced[0]);
    let run_id = report["run_id"].as_i64().expect("run id");
    assert_eq!(report["types"]["people"]["counts"]["create"], 20_000);

    let refusal = String::from_utf8_lossy(&refused[0].stderr);
    assert_eq!(refused[0].status.code(), Some(5), "{refusal}");
    assert!(
        refusal.contains(&format!("a sync going: run {run_id}, started "))
            && refusal.contains("by process ")
            && refusal.contains(" on host "),
        "the refusal names the run, its kind, its start and its process: {refusal}"
    );

    assert_eq!(
        people_created_in_all_runs(&workdir, &sandbox),
        20_000,
        "the vendor's records are created once, not twice"
    );
    let ids = exported_ids(&workdir, &sandbox);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 20_000);
    assert_eq!(ids.len(), 20_000);
}

/// A holder that stops renewing (stalled, or dead on another host) keeps the connection only
/// until its lease runs out; the run that takes over marks the stalled one interrupted.
#[test]
fn a_stalled_sync_loses_its_connection_when_its_lease_runs_out_and_is_marked_interrupted() {
    const LEASE_SECONDS: &str = "3";
    let sandbox = Sandbox::start(20_000);
    sandbox.control("PUT", "/faults", json!({"latencyMs": 25}));
    // Page by page: a split listing has pages fetched ahead, so it is nearly always committing.
    let workdir = Workdir::new("stalled", &sandbox).page_by_page();
    let mut stalled = workdir
        .command(&sandbox, &["sync", "cvent", "--types", "people"])
        .env("EVENTSYNC_RUN_LEASE_SECONDS", LEASE_SECONDS)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sync");
    wait_for_people(&workdir, &sandbox, 2_000);
    // Slow vendor calls make the process wait on one when it is stopped, rather than hold
    // SQLite's write lock in a commit (which would stall every writer, lease or not).
    sandbox.control("PUT", "/faults", json!({"latencyMs": 1500}));
    std::thread::sleep(Duration::from_millis(400));
    signal(&stalled, "STOP");
    let runs = stdout_json(&workdir.succeed(&sandbox, &["--json", "runs"]));
    let stalled_run = runs[0]["id"].as_i64().expect("the stalled run");
    assert_eq!(runs[0]["status"], "running");

    // Its lease has not run out yet: a second run is refused, naming it.
    let refused = workdir
        .command(&sandbox, &["sync", "cvent", "--types", "people"])
        .env("EVENTSYNC_RUN_LEASE_SECONDS", LEASE_SECONDS)
        .output()
        .expect("run sync");
    let refusal = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(5), "{refusal}");
    assert!(refusal.contains(&format!("run {stalled_run}")), "{refusal}");

    // Once it has run out, the next run takes the connection over and finishes the work.
    std::thread::sleep(Duration::from_secs(4));
    sandbox.control("PUT", "/faults", json!({}));
    let partial = exported_ids(&workdir, &sandbox).len();
    let output = workdir.succeed(&sandbox, &["--json", "sync", "cvent", "--types", "people"]);
    let report = stdout_json(&output);
    assert_eq!(
        report["types"]["people"]["counts"]["create"].as_u64(),
        Some(20_000 - partial as u64)
    );
    signal(&stalled, "KILL");
    stalled.wait().expect("reap");

    let runs = stdout_json(&workdir.succeed(&sandbox, &["--json", "runs"]));
    let statuses: Vec<&str> = runs
        .as_array()
        .expect("runs")
        .iter()
        .filter_map(|run| run["status"].as_str())
        .collect();
    assert_eq!(statuses, ["succeeded", "interrupted"], "newest first");
    assert_eq!(runs[1]["id"].as_i64(), Some(stalled_run));
    let errors = runs[1]["errors"].to_string();
    assert!(errors.contains("stopped renewing its lease"), "{errors}");
    let ids = exported_ids(&workdir, &sandbox);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 20_000);
    assert_eq!(ids.len(), 20_000);
}

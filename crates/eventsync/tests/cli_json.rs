//! `--json` is one vocabulary with the API's, failures included: every command that takes it,
//! made to fail, prints the API's error body — `{"error": {"code", "message"}}` on one line of
//! stderr, nothing on stdout — with the exit code it had before; and what the commands print
//! when they succeed uses the API's names, with times to the second.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use support::Process;

const BINARY: &str = env!("CARGO_BIN_EXE_eventsync");

/// A folder of its own for one test, removed afterwards.
struct Folder(PathBuf);

impl Folder {
    fn new(name: &str) -> Folder {
        let path =
            std::env::temp_dir().join(format!("eventsync-cli-json-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("folder");
        Folder(path)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }

    fn run(&self, args: &[&str]) -> Output {
        eventsync(&self.0, args)
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn eventsync(dir: &Path, args: &[&str]) -> Output {
    Command::new(BINARY)
        .current_dir(dir)
        .env_remove("EVENTSYNC_CONFIG")
        .env_remove("EVENTSYNC_DATABASE")
        .env_remove("EVENTSYNC_LOG")
        .env_remove("EVENTSYNC_SECRET_KEY")
        .env_remove("EVENTSYNC_SECRET_KEY_FILE")
        .args(args)
        .output()
        .expect("run eventsync")
}

/// Asserts that `output` is a failure told as the API tells one: the exit code, nothing on
/// stdout, and on stderr one line holding only `{"error": {"code", "message"}}` whose message
/// names each of `names`.
fn assert_json_error(args: &[&str], output: &Output, exit: i32, code: &str, names: &[&str]) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(exit), "{args:?}: {stderr}");
    assert!(stdout.is_empty(), "{args:?}: stdout holds {stdout:?}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: one line: {stderr}");
    let body: Value = serde_json::from_str(stderr.trim())
        .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {stderr}"));
    let object = body.as_object().expect("an object");
    assert_eq!(object.len(), 1, "{args:?}: only `error`: {body}");
    let error = body["error"].as_object().expect("error");
    assert_eq!(error.len(), 2, "{args:?}: code and message: {body}");
    assert_eq!(body["error"]["code"], code, "{args:?}: {body}");
    let message = body["error"]["message"].as_str().expect("message");
    for name in names {
        assert!(message.contains(name), "{args:?}: names {name}: {message}");
    }
}

/// Every command that reads the configuration, as a user mistypes or misplaces none of its
/// other words.
const CONFIGURED: [&[&str]; 16] = [
    &["check", "cvent"],
    &["preview", "cvent"],
    &["sync", "cvent"],
    &["status"],
    &["import", "cvent", "--csv", "people.csv"],
    &["export", "people"],
    &["runs"],
    &["serve", "--listen", "127.0.0.1:0"],
    &["outbox"],
    &["changes"],
    &["imis", "import-event", "cvent"],
    &["token", "list"],
    &["token", "create", "desk", "--scope", "read"],
    &["token", "revoke", "desk"],
    &["config", "export", "cvent", "--xlsx", "cvent.xlsx"],
    &["config", "import", "cvent", "--xlsx", "cvent.xlsx"],
];

#[test]
fn a_missing_or_broken_configuration_is_a_json_error_for_every_command() {
    let folder = Folder::new("config");
    for args in CONFIGURED {
        let output = folder.run(&[&["--json"], args].concat());
        assert_json_error(args, &output, 2, "invalid_request", &["eventsync.toml"]);
    }

    let typo = folder.path("typo.toml");
    std::fs::write(&typo, "[[connections]\nname = \"cvent\"\n").expect("config");
    for args in CONFIGURED {
        let output = folder.run(&[&["--config", typo.as_str(), "--json"], args].concat());
        assert_json_error(args, &output, 2, "invalid_request", &["typo.toml"]);
    }
    let output = folder.run(&[
        "--config",
        &typo,
        "secrets",
        "rotate",
        "--new-key-file",
        &folder.path("new.key"),
        "--json",
    ]);
    assert_json_error(&["secrets"], &output, 2, "invalid_request", &["typo.toml"]);

    // An unset ${VAR} in an otherwise good file names the variable.
    let unset = folder.path("unset.toml");
    std::fs::write(
        &unset,
        "[[connections]]\nname = \"cvent\"\nkind = \"cvent-rest\"\nbase_url = \"http://127.0.0.1:9/ea\"\n\
         event_code = \"E\"\nclient_id = \"c\"\nclient_secret = \"${CLI_JSON_UNSET_SECRET}\"\n",
    )
    .expect("config");
    let output = folder.run(&["--config", &unset, "--json", "sync", "cvent"]);
    assert_json_error(
        &["sync"],
        &output,
        2,
        "invalid_request",
        &["CLI_JSON_UNSET_SECRET"],
    );
    assert!(!folder.0.join("eventsync.sqlite").exists(), "no workspace");
}

#[test]
fn a_command_line_clap_refuses_is_a_json_error_when_json_is_asked_for() {
    let folder = Folder::new("usage");
    let cases: [(&[&str], &[&str]); 7] = [
        (&["--json", "runs", "--limit", "many"], &["--limit", "many"]),
        (&["runs", "--typo", "--json"], &["--typo", "eventsync runs"]),
        (&["--json", "token", "create", "desk"], &["--scope"]),
        (
            &["--json", "simulate", "nowhere"],
            &["nowhere", "cvent-rest"],
        ),
        (&["--json", "sync"], &["<CONNECTION>"]),
        (&["--json", "token"], &["create", "revoke"]),
        (&["--json", "launch"], &["launch"]),
    ];
    for (args, names) in cases {
        let output = folder.run(args);
        assert_json_error(args, &output, 2, "invalid_request", names);
    }
    // Without --json the same mistake is explained for people, with the same exit code.
    let prose = folder.run(&["runs", "--typo"]);
    assert_eq!(prose.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&prose.stderr).starts_with("error: unexpected argument"));
    // Help is still help.
    let help = folder.run(&["--json", "runs", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("Usage: eventsync runs"));
}

/// The workspace's own refusals, with the API's codes for them: a token name taken is
/// `name_taken`, a token or a connection that is not there `not_found`, a value out of range
/// `invalid_request`, a database that cannot be reached `internal` (exit 1).
#[test]
fn refusals_carry_the_apis_codes() {
    let folder = Folder::new("refusals");
    let database = ["--json", "--database", "workspace.sqlite"];
    let with_database = |args: &[&str]| folder.run(&[&database[..], args].concat());

    let created = with_database(&["token", "create", "desk", "--scope", "read"]);
    assert!(created.status.success(), "{created:?}");
    let again = &["token", "create", "desk", "--scope", "read"];
    assert_json_error(again, &with_database(again), 2, "name_taken", &["desk"]);
    let revoke = &["token", "revoke", "nobody"];
    assert_json_error(revoke, &with_database(revoke), 2, "not_found", &["nobody"]);
    let revoke_id = &["token", "revoke", "4242"];
    assert_json_error(
        revoke_id,
        &with_database(revoke_id),
        2,
        "not_found",
        &["4242"],
    );

    let invalid: [(&[&str], &[&str]); 4] = [
        (&["export", "nothing"], &["'nothing' is not a data type"]),
        (&["outbox", "--status", "lost"], &["--status lost"]),
        (&["changes", "--limit", "0"], &["--limit"]),
        (&["changes", "--types", "nothing"], &["'nothing'"]),
    ];
    for (args, names) in invalid {
        assert_json_error(args, &with_database(args), 2, "invalid_request", names);
    }

    // Nothing listens on the port of a listener just closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("address").port();
    drop(closed);
    let url = format!("postgres://postgres@127.0.0.1:{port}/nowhere");
    for args in [&["runs"][..], &["outbox"], &["changes"], &["token", "list"]] {
        let output = folder.run(&[&["--json", "--database", url.as_str()], args].concat());
        assert_json_error(
            args,
            &output,
            1,
            "internal",
            &[&format!("127.0.0.1:{port}")],
        );
    }

    let existing = folder.path("demo");
    std::fs::create_dir_all(&existing).expect("folder");
    std::fs::write(folder.0.join("demo/eventsync.toml"), "").expect("config");
    let demo = &["--json", "demo", "--dir", existing.as_str()];
    assert_json_error(demo, &folder.run(demo), 2, "invalid_request", &["--force"]);
}

/// A Cvent REST sandbox in its own process, and a folder whose configuration points at it.
struct Event {
    _sandbox: Process,
    folder: Folder,
    info: Value,
}

impl Event {
    fn new(name: &str) -> Event {
        let (sandbox, info) = support::start(Command::new(BINARY).args([
            "simulate",
            "cvent-rest",
            "--json",
            "--attendees",
            "5",
        ]));
        let folder = Folder::new(name);
        let text = |key: &str| info[key].as_str().expect(key).to_string();
        let config = format!(
            "[[connections]]\nname = \"cvent\"\nkind = \"cvent-rest\"\nbase_url = \"{}\"\n\
             event_code = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"${{CLI_JSON_SECRET}}\"\n\n\
             [connections.data.people]\nstatuses = []\n",
            text("base_url"),
            text("event_code"),
            text("client_id"),
        );
        std::fs::write(folder.0.join("eventsync.toml"), config).expect("config");
        Event {
            _sandbox: sandbox,
            folder,
            info,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BINARY);
        command
            .current_dir(&self.folder.0)
            .env_remove("EVENTSYNC_CONFIG")
            .env_remove("EVENTSYNC_DATABASE")
            .env_remove("EVENTSYNC_LOG")
            .env(
                "CLI_JSON_SECRET",
                self.info["client_secret"].as_str().expect("secret"),
            )
            .args(args);
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run eventsync")
    }

    fn succeed(&self, args: &[&str]) -> Value {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {stdout}"))
    }
}

fn assert_to_the_second(what: &str, at: &Value) {
    let text = at.as_str().unwrap_or_else(|| panic!("{what}: {at}"));
    assert!(
        text.len() == 20
            && text.ends_with('Z')
            && chrono::DateTime::parse_from_rfc3339(text).is_ok(),
        "{what} to the second: {text}"
    );
}

#[test]
fn a_connection_that_is_not_configured_is_not_found_for_every_command_that_names_one() {
    let event = Event::new("unknown");
    let commands: [&[&str]; 7] = [
        &["check", "nope"],
        &["preview", "nope"],
        &["sync", "nope"],
        &["import", "nope", "--csv", "people.csv"],
        &["imis", "import-event", "nope"],
        &["config", "export", "nope", "--xlsx", "nope.xlsx"],
        &["config", "import", "nope", "--xlsx", "nope.xlsx"],
    ];
    for args in commands {
        let output = event.run(&[&["--json"], args].concat());
        assert_json_error(
            args,
            &output,
            2,
            "not_found",
            &["no connection named 'nope'", "cvent"],
        );
    }

    // A connection that is there, asked for what it does not sync, is a mistake to fix.
    let types = &["--json", "preview", "cvent", "--types", "sessions,nothing"];
    assert_json_error(types, &event.run(types), 2, "invalid_request", &["nothing"]);
    // The import's file is the user's to fix, as a configuration is.
    let missing = &["--json", "import", "cvent", "--csv", "missing.csv"];
    assert_json_error(
        missing,
        &event.run(missing),
        2,
        "invalid_request",
        &["missing.csv"],
    );
    // An iMIS import for a connection without an iMIS site says what to set.
    let imis = &["--json", "imis", "import-event", "cvent"];
    assert_json_error(imis, &event.run(imis), 2, "invalid_request", &["imis"]);

    // The port the sandbox has is taken: serve and simulate say so.
    let taken = event.info["base_url"]
        .as_str()
        .and_then(|url| url.strip_prefix("http://"))
        .and_then(|rest| rest.split('/').next())
        .expect("address")
        .to_string();
    let serve = &[
        "--json",
        "serve",
        "--listen",
        taken.as_str(),
        "--no-scheduler",
    ];
    assert_json_error(serve, &event.run(serve), 1, "internal", &[&taken, "port"]);
    let port = taken.rsplit(':').next().expect("port");
    let simulate = &["simulate", "cvent-rest", "--json", "--port", port];
    assert_json_error(simulate, &event.run(simulate), 1, "internal", &["--port"]);
}

/// What the commands print once they succeed: the API's names, zero counts present, times to
/// the second — a preview's counts as `GET /v1/runs/{id}` counts, the change feed's times as
/// `GET /v1/changes` gives them, the export's fields as the records routes show them.
#[test]
fn results_use_the_apis_names_zero_counts_and_seconds() {
    let event = Event::new("results");
    let preview = event.succeed(&["--json", "preview", "cvent"]);
    let counts = &preview["types"]["people"]["counts"];
    assert_eq!(counts["create"], 5, "{preview}");
    for action in [
        "update",
        "unchanged",
        "cancel",
        "remove",
        "reject",
        "skipped",
        "filtered",
    ] {
        assert_eq!(counts[action], 0, "{action} counted: {counts}");
    }

    event.succeed(&["--json", "sync", "cvent"]);
    let changes = event.run(&["--json", "changes", "--limit", "2"]);
    assert!(changes.status.success());
    let lines: Vec<Value> = String::from_utf8_lossy(&changes.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 2);
    for change in &lines {
        for name in [
            "position",
            "connection",
            "data_type",
            "external_id",
            "action",
            "before",
            "after",
            "run_id",
        ] {
            assert!(change.get(name).is_some(), "{name}: {change}");
        }
        assert_to_the_second("a change's at", &change["at"]);
    }

    let status = event.succeed(&["--json", "status"]);
    let people = status
        .as_array()
        .expect("rows")
        .iter()
        .find(|row| row["data_type"] == "people")
        .expect("people")
        .clone();
    assert_to_the_second("last_synced_at", &people["last_synced_at"]);
    if !people["totals"]["counted_at"].is_null() {
        assert_to_the_second("totals.counted_at", &people["totals"]["counted_at"]);
    }

    let exported = event.succeed(&["export", "people", "--format", "json"]);
    let person = &exported[0];
    assert!(person["external_id"].is_string(), "{person}");
    for (name, value) in person.as_object().expect("fields") {
        if let Some(text) = value.as_str()
            && chrono::DateTime::parse_from_rfc3339(text).is_ok()
        {
            assert_to_the_second(name, value);
        }
    }
}

/// A vendor that does not answer fails the check and the run, which are results all the same:
/// the check's findings and the run's report (recorded in the workspace, as the API lists it)
/// come on stdout with exit 4 and 1, naming the address, and stderr holds nothing.
#[test]
fn an_unreachable_vendor_is_reported_in_the_results_with_their_exit_codes() {
    let folder = Folder::new("unreachable");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("address").port();
    drop(closed);
    let address = format!("http://127.0.0.1:{port}/ea");
    std::fs::write(
        folder.0.join("eventsync.toml"),
        format!(
            "[[connections]]\nname = \"cvent\"\nkind = \"cvent-rest\"\nbase_url = \"{address}\"\n\
             event_code = \"E\"\nclient_id = \"c\"\nclient_secret = \"${{CLI_JSON_SECRET}}\"\n\n\
             [connections.data.people]\nstatuses = []\n"
        ),
    )
    .expect("config");
    let run = |args: &[&str]| {
        Command::new(BINARY)
            .current_dir(&folder.0)
            .env_remove("EVENTSYNC_CONFIG")
            .env_remove("EVENTSYNC_DATABASE")
            .env_remove("EVENTSYNC_LOG")
            .env("CLI_JSON_SECRET", "secret")
            .args(args)
            .output()
            .expect("run eventsync")
    };
    let parsed = |args: &[&str], output: &Output| -> Value {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    };

    let args = &["--json", "check", "cvent"];
    let check = run(args);
    assert_eq!(check.status.code(), Some(4), "{args:?}");
    let check = parsed(args, &check);
    assert_eq!(check["ok"], false, "{check}");
    assert!(check["findings"].to_string().contains(&address), "{check}");

    // What the command logs on the way is a JSON object a line as well.
    let logged = Command::new(BINARY)
        .current_dir(&folder.0)
        .env_remove("EVENTSYNC_CONFIG")
        .env_remove("EVENTSYNC_DATABASE")
        .env("EVENTSYNC_LOG", "debug")
        .env("CLI_JSON_SECRET", "secret")
        .args(["--json", "check", "cvent"])
        .output()
        .expect("run eventsync");
    let stderr = String::from_utf8_lossy(&logged.stderr);
    assert!(stderr.lines().count() > 0, "debug logs something");
    for line in stderr.lines() {
        let entry: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line}"));
        assert!(entry["level"].is_string(), "{line}");
    }

    for kind in ["preview", "sync"] {
        let args = &["--json", kind, "cvent"];
        let output = run(args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let report = parsed(args, &output);
        assert_eq!(report["status"], "failed", "{report}");
        assert!(report["errors"].to_string().contains(&address), "{report}");
        assert_eq!(report["types"]["people"]["counts"]["create"], 0, "{report}");
    }
    let runs = run(&["--json", "runs"]);
    let runs = parsed(&["runs"], &runs);
    assert_eq!(runs[0]["status"], "failed", "{runs}");
}

//! `eventsync imis import-event` as a user runs it: the Cvent REST and iMIS sandboxes in their
//! own processes, the binary syncing the sessions, previewing the event, applying it, and
//! finding it unchanged on the next run; the exit codes of what goes wrong.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_eventsync");

/// A sandbox started with `eventsync simulate <vendor> --json`.
struct Sandbox {
    child: Child,
    info: Value,
}

impl Sandbox {
    fn start(args: &[&str]) -> Sandbox {
        let mut child = Command::new(BINARY)
            .arg("simulate")
            .args(args)
            .arg("--json")
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

    /// A control API answer.
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
    cvent_secret: String,
    imis_password: String,
}

impl Workdir {
    /// `cvent` feeds the iMIS site `association`; `other` is the same event with no
    /// `[connections.imis]`.
    fn new(name: &str, cvent: &Sandbox, imis: &Sandbox) -> Workdir {
        let path =
            std::env::temp_dir().join(format!("eventsync-cli-imis-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("workdir");
        let cvent_settings = format!(
            "kind = \"cvent-rest\"\nbase_url = \"{}\"\nevent_code = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"${{CVENT_SECRET}}\"\ndata_types = [\"sessions\"]\n",
            cvent.text("base_url"),
            cvent.text("event_code"),
            cvent.text("client_id"),
        );
        let config = format!(
            "[[connections]]\nname = \"cvent\"\n{cvent_settings}\n[connections.imis]\ndestination = \"association\"\nproduct_code = \"ANNCONF\"\nmatch = [\"email\"]\n\n\
             [[connections]]\nname = \"other\"\n{cvent_settings}\n\
             [[connections]]\nname = \"association\"\nkind = \"imis\"\nsite_url = \"{}\"\nusername = \"{}\"\npassword = \"${{IMIS_PASSWORD}}\"\n",
            imis.text("base_url"),
            imis.text("username"),
        );
        std::fs::write(path.join("eventsync.toml"), config).expect("config");
        Workdir {
            path,
            cvent_secret: cvent.text("client_secret"),
            imis_password: imis.text("password"),
        }
    }

    fn run_with_password(&self, password: &str, args: &[&str]) -> Output {
        Command::new(BINARY)
            .current_dir(&self.path)
            .env("CVENT_SECRET", &self.cvent_secret)
            .env("IMIS_PASSWORD", password)
            .env_remove("EVENTSYNC_CONFIG")
            .env_remove("EVENTSYNC_DATABASE")
            .args(args)
            .output()
            .expect("run eventsync")
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with_password(&self.imis_password, args)
    }

    /// Runs eventsync and fails the test, with its error output, unless it succeeded.
    fn succeed(&self, args: &[&str]) -> Output {
        let output = self.run(args);
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

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout_json(output: &Output) -> Value {
    let text = stdout(output);
    serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {text}\nstderr: {}", stderr(output)))
}

#[test]
fn import_event_previews_applies_and_then_finds_nothing_to_write() {
    let cvent = Sandbox::start(&["cvent-rest", "--attendees", "100"]);
    let imis = Sandbox::start(&["imis", "--parties", "0"]);
    let workdir = Workdir::new("import-event", &cvent, &imis);
    let import = ["imis", "import-event", "cvent"];

    // Before a sync the workspace has nothing to import: a failure that says what to do.
    let unsynced = workdir.run(&import);
    assert_eq!(unsynced.status.code(), Some(1), "{}", stderr(&unsynced));
    assert!(
        stderr(&unsynced).contains("sync cvent first"),
        "{}",
        stderr(&unsynced)
    );

    workdir.succeed(&["sync", "cvent"]);
    let sessions = stdout_json(&workdir.succeed(&[
        "export",
        "sessions",
        "--connection",
        "cvent",
        "--format",
        "json",
    ]));
    let shown = sessions.as_array().expect("sessions").len();
    assert!(shown > 0);

    // The preview writes nothing and says how to apply.
    let preview = workdir.succeed(&import);
    let text = stdout(&preview);
    assert!(
        text.contains("iMIS event ANNCONF on site 'association', from connection 'cvent': create"),
        "{text}"
    );
    assert!(
        text.contains(&format!("functions: {shown} to create")),
        "{text}"
    );
    assert!(text.contains("dates are written in UTC"), "{text}");
    assert!(
        text.contains("eventsync imis import-event cvent --apply"),
        "{text}"
    );
    assert_eq!(imis.get("/events"), Value::Array(Vec::new()));

    // Applied: the plan and what was done, as JSON.
    let applied =
        stdout_json(&workdir.succeed(&["--json", "imis", "import-event", "cvent", "--apply"]));
    assert_eq!(applied["plan"]["action"], "create", "{applied}");
    assert_eq!(applied["plan"]["counts"]["create"], shown);
    assert_eq!(applied["outcome"]["event"], "create");
    assert_eq!(applied["outcome"]["functions_created"], shown);
    let events = imis.get("/events");
    let events = events.as_array().expect("events");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["event_id"], "ANNCONF");
    let functions = events[0]["functions"].as_array().expect("functions");
    assert_eq!(functions.len(), shown);
    for function in functions {
        let code = function["code"].as_str().expect("code");
        assert_eq!(function["function_id"], format!("ANNCONF/{code}"));
    }

    // Run again, everything is unchanged and nothing is written, whether applied or not.
    let again = stdout(&workdir.succeed(&import));
    assert!(again.contains(": unchanged"), "{again}");
    assert!(again.contains("nothing to write"), "{again}");
    let applied_again = stdout(&workdir.succeed(&["imis", "import-event", "cvent", "--apply"]));
    assert!(
        applied_again.contains("nothing was written"),
        "{applied_again}"
    );
    assert_eq!(imis.get("/events").as_array().map(Vec::len), Some(1));
    let json = stdout_json(&workdir.succeed(&["--json", "imis", "import-event", "cvent"]));
    assert_eq!(json["plan"]["action"], "unchanged");
    assert_eq!(json["plan"]["counts"]["unchanged"], shown);
    assert_eq!(json["outcome"], Value::Null);
}

#[test]
fn import_event_exits_with_the_documented_codes() {
    let cvent = Sandbox::start(&["cvent-rest", "--attendees", "50"]);
    let imis = Sandbox::start(&["imis", "--parties", "0"]);
    let workdir = Workdir::new("exit-codes", &cvent, &imis);

    // No [connections.imis]: a configuration mistake, with what to add.
    let no_feed = workdir.run(&["imis", "import-event", "other"]);
    assert_eq!(no_feed.status.code(), Some(2), "{}", stderr(&no_feed));
    assert!(
        stderr(&no_feed).contains("has no [connections.imis]"),
        "{}",
        stderr(&no_feed)
    );
    assert!(
        stderr(&no_feed).contains("destination = \"association\""),
        "{}",
        stderr(&no_feed)
    );

    let unknown = workdir.run(&["imis", "import-event", "nope"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("no connection named 'nope'"));

    // iMIS refusing the sign-in is the vendor's error: a failure naming the site.
    workdir.succeed(&["sync", "cvent"]);
    let refused = workdir.run_with_password("wrong", &["imis", "import-event", "cvent"]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("iMIS site 'association'"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(imis.get("/events"), Value::Array(Vec::new()));
}

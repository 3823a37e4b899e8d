//! schemathesis (PyPI) against the running server's `/openapi.json`: generated requests, valid and
//! not, to every operation; no answer may be a 5xx, and every answer must match the document
//! (status code, content type, headers, body schema).
//!
//! The test installs schemathesis into a virtual environment under the target folder the first
//! time (pip caches the download), starts `eventsync simulate cvent-rest` and `eventsync serve`
//! on port 0 with a fresh SQLite workspace synced from it, and runs `st run` with a bearer
//! token. Without python3 (with venv and pip) it says plainly that it skipped, and why.

mod support;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;
use support::start;

const BINARY: &str = env!("CARGO_BIN_EXE_eventsync");

/// The schemathesis release the checks were written against.
const SCHEMATHESIS: &str = "schemathesis==4.32.5";

/// Test cases per operation: enough to reach every parameter and body shape, small enough to
/// keep the whole run around a minute on two cores. `EVENTSYNC_SCHEMATHESIS_EXAMPLES` and
/// `EVENTSYNC_SCHEMATHESIS_SEED` change them for a longer hunt by hand.
const MAX_EXAMPLES: &str = "30";
const SEED: &str = "20261128";

fn skip(reason: &str) {
    let _ = writeln!(std::io::stderr(), "skipped: {reason}");
}

/// The `st` command of a virtual environment holding schemathesis, installed on first use; or
/// why it cannot be had here.
fn schemathesis() -> Result<PathBuf, String> {
    let venv = sandboxes::python::target_dir().join("schemathesis-venv");
    sandboxes::python::venv_with(&venv, SCHEMATHESIS).map(|bin| bin.join("st"))
}

/// A working folder with the sandbox's connection configured and synced once, and a token.
struct Workspace {
    dir: PathBuf,
    sandbox: Value,
    token: String,
}

impl Workspace {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BINARY);
        command
            .current_dir(&self.dir)
            .env(
                "CVENT_SECRET",
                self.sandbox["client_secret"].as_str().unwrap_or_default(),
            )
            .env_remove("EVENTSYNC_CONFIG")
            .env_remove("EVENTSYNC_DATABASE")
            .args(args);
        command
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn workspace(sandbox: Value) -> Workspace {
    let dir = std::env::temp_dir().join(format!("eventsync-schemathesis-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("workdir");
    let text = |key: &str| sandbox[key].as_str().expect(key).to_string();
    let config = format!(
        "[[connections]]\nname = \"cvent\"\nkind = \"cvent-rest\"\nbase_url = \"{}\"\nevent_code = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"${{CVENT_SECRET}}\"\ndata_types = [\"people\", \"sessions\", \"speakers\", \"session_registrations\"]\n",
        text("base_url"),
        text("event_code"),
        text("client_id")
    );
    std::fs::write(dir.join("eventsync.toml"), config).expect("config");
    let mut workspace = Workspace {
        dir,
        sandbox,
        token: String::new(),
    };
    let synced = workspace
        .command(&["sync", "cvent"])
        .output()
        .expect("sync");
    assert!(
        synced.status.success(),
        "{}",
        String::from_utf8_lossy(&synced.stderr)
    );
    let created = workspace
        .command(&[
            "token",
            "create",
            "schemathesis",
            "--scope",
            "admin",
            "--json",
        ])
        .output()
        .expect("token create");
    let created: Value = serde_json::from_slice(&created.stdout).expect("token JSON");
    workspace.token = created["token"].as_str().expect("token").to_string();
    workspace
}

/// The first id a workspace list gives.
async fn first_id(base: &str, token: &str, path: &str) -> String {
    let list: Value = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("list JSON");
    list["data"][0]["external_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{path} is empty: {list}"))
        .to_string()
}

/// Real ids for the operations that need an existing record, so that their bodies and query
/// parameters are tried on something other than a 404.
async fn write_config(workspace: &Workspace, base: &str) {
    let person = first_id(base, &workspace.token, "/v1/people?limit=1").await;
    let session = first_id(base, &workspace.token, "/v1/sessions?limit=1").await;
    // A token of its own to revoke, so that the one the run calls with stays good.
    let spare: Value = reqwest::Client::new()
        .post(format!("{base}/v1/tokens"))
        .bearer_auth(&workspace.token)
        .json(&serde_json::json!({"name": "revoked by schemathesis", "scope": "read"}))
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token JSON");
    let spare = spare["id"].as_i64().expect("token id");
    let config = format!(
        "[[operations]]\ninclude-name = \"GET /v1/people/{{id}}/sessions\"\nparameters = {{ id = \"{person}\" }}\n\n\
         [[operations]]\ninclude-name = \"GET /v1/sessions/{{id}}/registrations\"\nparameters = {{ id = \"{session}\" }}\n\n\
         [[operations]]\ninclude-name = \"POST /v1/sessions/{{id}}/registrations\"\nparameters = {{ id = \"{session}\" }}\n\n\
         [[operations]]\ninclude-name = \"DELETE /v1/sessions/{{id}}/registrations/{{person_id}}\"\nparameters = {{ id = \"{session}\", person_id = \"{person}\" }}\n\n\
         [[operations]]\ninclude-name = \"POST /v1/connections/{{connection}}/check\"\nparameters = {{ connection = \"cvent\" }}\n\n\
         [[operations]]\ninclude-name = \"GET /v1/connections/{{connection}}/data-types\"\nparameters = {{ connection = \"cvent\" }}\n\n\
         [[operations]]\ninclude-name = \"PUT /v1/connections/{{connection}}/data-types/{{data_type}}/auto-sync\"\nparameters = {{ connection = \"cvent\", data_type = \"people\" }}\n\n\
         [[operations]]\ninclude-name = \"DELETE /v1/tokens/{{id}}\"\nparameters = {{ id = {spare} }}\n"
    );
    std::fs::write(workspace.dir.join("schemathesis.toml"), config).expect("schemathesis.toml");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_matches_the_openapi_document_and_none_is_a_server_error() {
    let st = match schemathesis() {
        Ok(st) => st,
        Err(reason) => return skip(&reason),
    };
    let (_sandbox, sandbox) =
        start(Command::new(BINARY).args(["simulate", "cvent-rest", "--json", "--attendees", "60"]));
    let workspace = workspace(sandbox);
    let (_server, info) = start(&mut workspace.command(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--json",
        "--no-scheduler",
    ]));
    let base = info["listening"].as_str().expect("listening").to_string();
    write_config(&workspace, &base).await;
    let report = workspace.dir.join("schemathesis-report");
    let mut command = Command::new(&st);
    command
        .current_dir(&workspace.dir)
        .env("SCHEMATHESIS_HOOKS", "")
        .env("NO_COLOR", "1")
        .args([
            "run",
            &format!("{base}/openapi.json"),
            "--header",
            &format!("Authorization: Bearer {}", workspace.token),
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection",
            "--max-examples",
            &std::env::var("EVENTSYNC_SCHEMATHESIS_EXAMPLES").unwrap_or(MAX_EXAMPLES.into()),
            "--seed",
            &std::env::var("EVENTSYNC_SCHEMATHESIS_SEED").unwrap_or(SEED.into()),
            "--workers",
            "2",
            "--request-timeout",
            "20",
            "--no-shrink",
            "--report-dir",
        ])
        .arg(&report)
        .stdin(Stdio::null());
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("schemathesis task")
        .expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let _ = writeln!(std::io::stderr(), "{stdout}");
    assert!(
        output.status.success(),
        "schemathesis found answers that break the document or are server errors:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

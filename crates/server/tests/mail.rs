//! Run summaries, and digests of the deliveries a destination refused, reach a real SMTP server
//! on loopback: aiosmtpd (PyPI) started by the test,
//! storing what it receives in a maildir, installed from PyPI into a virtual environment on
//! first use. Skips, saying so, when python3 (with venv) is missing or PyPI cannot be reached.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use engine::Config;
use sandboxes::cvent_rest::{CventRestSandbox, SandboxConfig};
use serde_json::{Value, json};
use server::{AppState, Settings};
use store::Store;

struct SmtpServer {
    child: Child,
    maildir: PathBuf,
    port: u16,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.maildir);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// aiosmtpd, pinned; installed into a virtual environment under the target folder.
const AIOSMTPD: &str = "aiosmtpd==1.4.6";

/// Starts aiosmtpd, or says why not.
async fn start_smtp() -> Option<SmtpServer> {
    let venv = sandboxes::python::target_dir().join("aiosmtpd-venv");
    let python = match sandboxes::python::venv_with(&venv, AIOSMTPD) {
        Ok(bin) => bin.join("python"),
        Err(reason) => {
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "skipped: {reason}");
            return None;
        }
    };
    let port = free_port();
    let maildir =
        std::env::temp_dir().join(format!("eventsync-maildir-{}-{port}", std::process::id()));
    let child = Command::new(python)
        .args([
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
            "-c",
            "aiosmtpd.handlers.Mailbox",
        ])
        .arg(&maildir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start aiosmtpd");
    let server = SmtpServer {
        child,
        maildir,
        port,
    };
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some(server);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("aiosmtpd did not start listening on port {port}");
}

/// The messages in the maildir.
fn received(maildir: &Path) -> Vec<String> {
    let mut messages = Vec::new();
    for folder in ["new", "cur"] {
        if let Ok(entries) = std::fs::read_dir(maildir.join(folder)) {
            for entry in entries.flatten() {
                if let Ok(text) = std::fs::read_to_string(entry.path()) {
                    messages.push(text);
                }
            }
        }
    }
    messages
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_mails_its_summary_to_the_subscribers() {
    let Some(smtp) = start_smtp().await else {
        return;
    };
    let sandbox = CventRestSandbox::start(SandboxConfig {
        attendees: 40,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let dir = std::env::temp_dir().join(format!("eventsync-mail-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let store = Store::open(&dir.join("workspace.sqlite").display().to_string())
        .await
        .expect("store");
    let text = format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nfrom = \"eventsync <eventsync@example.org>\"\n\n[[connections]]\nname = \"cvent\"\nkind = \"cvent-rest\"\nbase_url = \"{}\"\nevent_code = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"${{SECRET}}\"\ndata_types = [\"people\"]\n\n[connections.data.people]\nsubscribers = [\"ops@example.org\", \"desk@example.org\"]\n",
        smtp.port,
        sandbox.base_url(),
        sandbox.event_code(),
        sandbox.client_id()
    );
    let secret = sandbox.client_secret().to_string();
    let config = Config::parse(&text, Path::new("eventsync.toml"), &move |name| {
        (name == "SECRET").then(|| secret.clone())
    })
    .expect("config");
    let token = server::new_token();
    store
        .add_api_token("mail", &server::token_hash(&token))
        .await
        .expect("token");
    let settings = Settings {
        report_dir: dir.join("reports"),
        scheduler: false,
        ..Settings::default()
    };
    let state = AppState::new(store.clone(), config, settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listener");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let server = tokio::spawn(server::serve(state, listener, std::future::pending()));

    let started: Value = reqwest::Client::new()
        .post(format!("{base}/v1/runs"))
        .bearer_auth(&token)
        .json(&json!({"connection": "cvent", "kind": "sync"}))
        .send()
        .await
        .expect("start")
        .json()
        .await
        .expect("json");
    let run_id = started["run_id"].as_i64().expect("run id");

    let mut messages = Vec::new();
    for _ in 0..400 {
        messages = received(&smtp.maildir);
        if !messages.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(messages.len(), 1, "one summary for both subscribers");
    let message = &messages[0];
    let run = store.run(run_id).await.expect("run").expect("stored");
    let created = run.counts["people"]["create"];
    for expected in [
        format!("Subject: eventsync: sync of 'cvent' succeeded (run {run_id})"),
        "To: desk@example.org, ops@example.org".to_string(),
        format!("people: {created} create"),
        "Quota used today:".to_string(),
    ] {
        assert!(
            message.contains(&expected),
            "missing {expected:?} in\n{message}"
        );
    }
    assert!(
        !message.contains(sandbox.client_secret()),
        "a secret was mailed"
    );
    server.abort();
    store.close().await;
    sandbox.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_imis_refused_are_mailed_to_the_people_subscribers() {
    let Some(smtp) = start_smtp().await else {
        return;
    };
    let sandbox = CventRestSandbox::start(SandboxConfig {
        attendees: 10,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    // A site that knows nobody: every registered person is refused.
    let imis = sandboxes::imis::ImisSandbox::start(sandboxes::imis::SandboxConfig {
        parties: 0,
        ..Default::default()
    })
    .await
    .expect("iMIS sandbox");
    let dir = std::env::temp_dir().join(format!("eventsync-mail-imis-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let store = Store::open(&dir.join("workspace.sqlite").display().to_string())
        .await
        .expect("store");
    let text = format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nfrom = \"eventsync <eventsync@example.org>\"\n\n[[connections]]\nname = \"cvent\"\nkind = \"cvent-rest\"\nbase_url = \"{}\"\nevent_code = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"${{SECRET}}\"\ndata_types = [\"people\"]\n\n[connections.imis]\ndestination = \"association\"\n\n[connections.data.people]\nsubscribers = [\"membership@example.org\"]\n\n[[connections]]\nname = \"association\"\nkind = \"imis\"\nsite_url = \"{}\"\nusername = \"{}\"\npassword = \"${{IMIS_PASSWORD}}\"\n",
        smtp.port,
        sandbox.base_url(),
        sandbox.event_code(),
        sandbox.client_id(),
        imis.base_url(),
        imis.username(),
    );
    let secret = sandbox.client_secret().to_string();
    let password = imis.password().to_string();
    let config = Config::parse(
        &text,
        Path::new("eventsync.toml"),
        &move |name| match name {
            "SECRET" => Some(secret.clone()),
            "IMIS_PASSWORD" => Some(password.clone()),
            _ => None,
        },
    )
    .expect("config");
    let token = server::new_token();
    store
        .add_api_token("mail", &server::token_hash(&token))
        .await
        .expect("token");
    let settings = Settings {
        report_dir: dir.join("reports"),
        scheduler: false,
        poll: Duration::from_millis(50),
        refusal_digest: Duration::from_millis(300),
        ..Settings::default()
    };
    let state = AppState::new(store.clone(), config, settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listener");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let server = tokio::spawn(server::serve(state, listener, std::future::pending()));
    reqwest::Client::new()
        .post(format!("{base}/v1/runs"))
        .bearer_auth(&token)
        .json(&json!({"connection": "cvent", "kind": "sync"}))
        .send()
        .await
        .expect("start");

    let mut digest = None;
    for _ in 0..400 {
        digest = received(&smtp.maildir)
            .into_iter()
            .find(|message| message.contains("not delivered to association"));
        if digest.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let digest = digest.expect("a digest of the refused deliveries");
    for expected in [
        "To: membership@example.org",
        "no iMIS party has the email",
        "eventsync outbox --status failed",
    ] {
        assert!(
            digest.contains(expected),
            "missing {expected:?} in\n{digest}"
        );
    }
    assert!(
        !digest.contains(sandbox.client_secret()),
        "a secret was mailed"
    );
    server.abort();
    store.close().await;
    sandbox.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

//! `eventsync serve` as it runs in production, killed with SIGKILL while registrations wait in
//! its outbox and webhooks wait in its inbox, then started again: everything is delivered, each
//! registration reaches Cvent once, and the webhooks' attendees reach the workspace.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use support::{Process, start};

const BINARY: &str = env!("CARGO_BIN_EXE_eventsync");
const WEBHOOK_TOKEN: &str = "kill-test-webhook-token";

struct Setup {
    dir: PathBuf,
    sandbox_info: Value,
    http: reqwest::Client,
}

impl Setup {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BINARY);
        command
            .current_dir(&self.dir)
            .env("CVENT_SECRET", self.sandbox("client_secret"))
            .env("EVENTSYNC_WEBHOOK_TOKEN", WEBHOOK_TOKEN)
            .env_remove("EVENTSYNC_CONFIG")
            .env_remove("EVENTSYNC_DATABASE")
            .args(args);
        command
    }

    fn sandbox(&self, key: &str) -> String {
        self.sandbox_info[key].as_str().expect(key).to_string()
    }

    async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let response = self
            .http
            .request(method, format!("{}{path}", self.sandbox("control_url")))
            .json(&body)
            .send()
            .await
            .expect("control call");
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("API call");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(reqwest::Method::GET, path, None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    async fn webhook(&self, envelope: &Value) -> u16 {
        self.http
            .post(format!("{}/webhooks/cvent/cvent", self.base))
            .header("authorization", WEBHOOK_TOKEN)
            .json(envelope)
            .send()
            .await
            .expect("webhook")
            .status()
            .as_u16()
    }
}

async fn wait_until<F, Fut>(what: &str, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..600 {
        if probe().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

fn serve(setup: &Setup, token: &str) -> (Process, Api) {
    let (process, info) = start(&mut setup.command(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--json",
        "--no-scheduler",
    ]));
    let base = info["listening"].as_str().expect("listening").to_string();
    let api = Api {
        base,
        token: token.to_string(),
        http: reqwest::Client::new(),
    };
    (process, api)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_delivers_its_outbox_and_inbox_exactly_once_after_a_restart() {
    let (_sandbox, sandbox_info) = start(Command::new(BINARY).args([
        "simulate",
        "cvent-rest",
        "--json",
        "--attendees",
        "100",
    ]));
    let dir = std::env::temp_dir().join(format!("eventsync-serve-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("workdir");
    let setup = Setup {
        dir,
        sandbox_info,
        http: reqwest::Client::new(),
    };
    let config = format!(
        "[[connections]]\nname = \"cvent\"\nkind = \"cvent-rest\"\nbase_url = \"{}\"\nevent_code = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"${{CVENT_SECRET}}\"\ndata_types = [\"people\", \"sessions\", \"speakers\", \"session_registrations\"]\n",
        setup.sandbox("base_url"),
        setup.sandbox("event_code"),
        setup.sandbox("client_id")
    );
    std::fs::write(setup.dir.join("eventsync.toml"), config).expect("config");
    let synced = setup.command(&["sync", "cvent"]).output().expect("sync");
    assert!(
        synced.status.success(),
        "{}",
        String::from_utf8_lossy(&synced.stderr)
    );
    let created = setup
        .command(&["token", "create", "kill test", "--scope", "admin", "--json"])
        .output()
        .expect("token create");
    let created: Value = serde_json::from_slice(&created.stdout).expect("token JSON");
    let token = created["token"].as_str().expect("token").to_string();

    // Slow Cvent down so that the kill lands before the outbox is through.
    setup
        .control(reqwest::Method::PUT, "/faults", json!({"latencyMs": 400}))
        .await;
    let (first, api) = serve(&setup, &token);

    let sessions = api.get("/v1/sessions?include_hidden=true&limit=500").await;
    let mut session = None;
    for candidate in sessions["data"].as_array().expect("sessions") {
        let id = candidate["external_id"].as_str().expect("id");
        let roomy = candidate["capacity"]
            .as_u64()
            .is_none_or(|capacity| capacity >= 4);
        let registrations = api.get(&format!("/v1/sessions/{id}/registrations")).await;
        if roomy && registrations["data"].as_array().is_some_and(Vec::is_empty) {
            session = Some(id.to_string());
            break;
        }
    }
    let session = session.expect("a session without registrations");
    setup
        .control(
            reqwest::Method::PATCH,
            &format!("/sessions/{session}"),
            json!({"status": "Active", "capacityUnlimited": true}),
        )
        .await;
    let people = api.get("/v1/people?limit=4").await;
    let people: Vec<String> = people["data"]
        .as_array()
        .expect("people")
        .iter()
        .map(|p| p["external_id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(people.len(), 4);
    for person in &people {
        let (status, body) = api
            .call(
                reqwest::Method::POST,
                &format!("/v1/sessions/{session}/registrations"),
                Some(json!({"person_id": person})),
            )
            .await;
        assert_eq!(status, 202, "{body}");
    }
    let mut newcomers = Vec::new();
    for index in 0..2 {
        let added = setup
            .control(
                reqwest::Method::POST,
                "/attendees",
                json!({"status": "Accepted"}),
            )
            .await;
        let id = added["id"].as_str().expect("id").to_string();
        let envelope = json!({
            "eventType": "InviteeOrGuestAccepted",
            "messageTime": "",
            "messageStub": format!("8A1F0C2E-6B1D-4C0B-9E55-00000000000{index}"),
            "message": [{"inviteeStub": id.to_uppercase()}],
        });
        assert_eq!(api.webhook(&envelope).await, 200);
        newcomers.push(id);
    }
    drop(first); // SIGKILL

    let workspace = setup.dir.join("eventsync.sqlite").display().to_string();
    let left = store::Store::open(&workspace).await.expect("workspace");
    let outbox = left.outbox_counts().await.expect("outbox");
    let unsent =
        outbox.get("pending").copied().unwrap_or(0) + outbox.get("sending").copied().unwrap_or(0);
    assert!(
        unsent >= 1,
        "the kill came too late to leave work behind: {outbox:?}"
    );
    left.close().await;
    eprintln!("left behind by the kill: outbox {outbox:?}");

    setup
        .control(reqwest::Method::PUT, "/faults", json!({}))
        .await;
    let (_second, api) = serve(&setup, &token);
    wait_until("every registration sent", || async {
        let sent = api.get("/v1/outbox?status=sent").await;
        sent["data"].as_array().map(Vec::len) == Some(4)
    })
    .await;
    wait_until("both webhooks processed", || async {
        let deliveries = api.get("/v1/webhooks").await;
        let data = deliveries["data"].as_array().cloned().unwrap_or_default();
        data.len() == 2 && data.iter().all(|d| d["status"] == "done")
    })
    .await;
    for id in &newcomers {
        let found = api.get(&format!("/v1/people?external_id={id}")).await;
        assert_eq!(
            found["data"].as_array().map(Vec::len),
            Some(1),
            "{id} missing"
        );
    }

    // Each registration is at Cvent exactly once.
    let synced = setup
        .command(&["sync", "cvent", "--types", "session_registrations"])
        .output()
        .expect("sync");
    assert!(
        synced.status.success(),
        "{}",
        String::from_utf8_lossy(&synced.stderr)
    );
    let registrations = api
        .get(&format!(
            "/v1/session-registrations?session_external_id={session}&limit=500"
        ))
        .await;
    let mut registered: Vec<String> = registrations["data"]
        .as_array()
        .expect("registrations")
        .iter()
        .filter(|r| r["status"] == "registered")
        .map(|r| {
            r["person_external_id"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    registered.sort();
    let mut expected = people.clone();
    expected.sort();
    assert_eq!(registered, expected);
    let outbox = api.get("/v1/outbox?limit=500").await;
    for item in outbox["data"].as_array().expect("items") {
        assert_eq!(item["status"], "sent", "{item}");
    }
}

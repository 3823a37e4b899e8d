//! `POST /v1/connections/{connection}/imis/import-event` over HTTP on loopback: the server on a
//! fresh SQLite workspace synced from the Cvent REST sandbox, the iMIS sandbox as the site. The
//! plan, then the event applied once and found unchanged after; the refusals as JSON errors.

mod support;

use std::path::Path;
use std::time::Duration;

use connectors::RetryPolicy;
use engine::{Config, RunKind, RunOptions};
use pipeline::DataType;
use reqwest::{Method, StatusCode};
use sandboxes::cvent_rest::{self, CventRestSandbox};
use sandboxes::imis::{self, ImisSandbox};
use serde_json::{Value, json};
use server::{AppState, Settings};
use store::Store;

const FAST_RETRY: RetryPolicy = RetryPolicy {
    initial: Duration::from_millis(10),
    max: Duration::from_millis(80),
    attempts: 4,
};

struct World {
    _cvent: CventRestSandbox,
    imis: ImisSandbox,
    config: Config,
    store: Store,
    dir: std::path::PathBuf,
    base: String,
    token: String,
    http: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
}

/// `cvent` feeds the site `association` as event `ANNCONF`; `plain` has no `[connections.imis]`.
fn config(cvent: &CventRestSandbox, imis: &ImisSandbox) -> Config {
    let rest = |name: &str, feed: &str| {
        format!(
            "[[connections]]\nname = \"{name}\"\nkind = \"cvent-rest\"\nbase_url = \"{}\"\nevent_code = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"${{CVENT_SECRET}}\"\ndata_types = [\"sessions\"]\n{feed}",
            cvent.base_url(),
            cvent.event_code(),
            cvent.client_id(),
        )
    };
    let text = [
        rest(
            "cvent",
            "[connections.imis]\ndestination = \"association\"\nproduct_code = \"ANNCONF\"\nmatch = [\"email\"]\n",
        ),
        rest("plain", ""),
        format!(
            "[[connections]]\nname = \"association\"\nkind = \"imis\"\nsite_url = \"{}\"\nusername = \"{}\"\npassword = \"${{IMIS_PASSWORD}}\"\n",
            imis.base_url(),
            imis.username()
        ),
    ]
    .join("\n");
    let secrets = [
        ("CVENT_SECRET", cvent.client_secret().to_string()),
        ("IMIS_PASSWORD", imis.password().to_string()),
    ];
    Config::parse(&text, Path::new("eventsync.toml"), &move |name| {
        secrets
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.clone())
    })
    .expect("config")
}

impl World {
    async fn start() -> World {
        let cvent = CventRestSandbox::start(cvent_rest::SandboxConfig {
            attendees: 60,
            ..cvent_rest::SandboxConfig::default()
        })
        .await
        .expect("Cvent sandbox");
        let imis = ImisSandbox::start(imis::SandboxConfig {
            parties: 0,
            ..imis::SandboxConfig::default()
        })
        .await
        .expect("iMIS sandbox");
        let dir = std::env::temp_dir().join(format!(
            "eventsync-imis-import-event-{}-{}",
            std::process::id(),
            cvent.address().port()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let store = Store::open(&dir.join("workspace.sqlite").display().to_string())
            .await
            .expect("store");
        let token = server::new_token();
        store
            .add_api_token("tests", &server::token_hash(&token))
            .await
            .expect("token");
        let settings = Settings {
            report_dir: dir.join("reports"),
            retry: FAST_RETRY,
            poll: Duration::from_millis(50),
            scheduler: false,
            ..Settings::default()
        };
        let config = config(&cvent, &imis);
        let state = AppState::new(store.clone(), config.clone(), settings);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("listener");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let server = tokio::spawn(async move {
            server::serve(state, listener, std::future::pending())
                .await
                .expect("serve");
        });
        World {
            _cvent: cvent,
            imis,
            config,
            store,
            dir,
            base,
            token,
            http: reqwest::Client::new(),
            server,
        }
    }

    async fn sync(&self) {
        let report = engine::run(
            &self.store,
            self.config.connection("cvent").expect("connection"),
            &RunOptions {
                kind: RunKind::Sync,
                data_types: vec![DataType::Sessions],
                full: false,
                report: None,
                retry: FAST_RETRY,
            },
            &|_| {},
        )
        .await
        .expect("sync");
        assert!(report.errors.is_empty(), "{:?}", report.errors);
    }

    async fn import_event(&self, connection: &str, body: Option<Value>) -> (StatusCode, Value) {
        support::call(
            &self.http,
            &self.token,
            Method::POST,
            format!(
                "{}/v1/connections/{connection}/imis/import-event",
                self.base
            ),
            body,
        )
        .await
    }

    async fn imis_events(&self) -> Vec<Value> {
        sandboxes::control(
            &self.http,
            &self.imis.control_url(),
            Method::GET,
            "/events",
            &Value::Null,
        )
        .await
        .expect("iMIS control call")
        .as_array()
        .cloned()
        .expect("events")
    }

    async fn finish(self) {
        self.server.abort();
        self.store.close().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_is_planned_applied_once_and_then_unchanged() {
    let world = World::start().await;

    let (status, answer) = world.import_event("cvent", None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["error"]["code"], "not_synced");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("sync cvent first"),
        "{answer}"
    );

    world.sync().await;
    let (status, answer) = world.import_event("cvent", None).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let functions = answer["plan"]["functions"]
        .as_array()
        .expect("functions")
        .len();
    assert!(functions > 0);
    assert_eq!(answer["plan"]["event_id"], "ANNCONF");
    assert_eq!(answer["plan"]["action"], "create");
    assert_eq!(answer["plan"]["counts"]["create"], functions);
    assert_eq!(answer["outcome"], Value::Null);
    assert!(
        world.imis_events().await.is_empty(),
        "a plan writes nothing"
    );

    let (status, answer) = world
        .import_event("cvent", Some(json!({"apply": true})))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["outcome"]["event"], "create");
    assert_eq!(answer["outcome"]["functions_created"], functions);
    let events = world.imis_events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0]["functions"].as_array().map(Vec::len),
        Some(functions)
    );

    let (status, answer) = world
        .import_event("cvent", Some(json!({"apply": true})))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["plan"]["action"], "unchanged");
    assert_eq!(answer["plan"]["counts"]["unchanged"], functions);
    assert_eq!(answer["outcome"]["event"], "unchanged");
    assert_eq!(world.imis_events().await.len(), 1);

    let (status, answer) = world
        .import_event("cvent", Some(json!({"apply": false})))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["outcome"], Value::Null);
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_json_errors_that_say_what_to_do() {
    let world = World::start().await;

    let (status, answer) = world.import_event("plain", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("has no [connections.imis]"),
        "{answer}"
    );

    let (status, answer) = world.import_event("nope", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");

    let (status, answer) = world
        .import_event("cvent", Some(json!({"apply": "yes"})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let (status, answer) = world
        .import_event("cvent", Some(json!({"apply": true, "force": true})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(world.imis_events().await.is_empty());

    let (_, document) = support::call(
        &world.http,
        &world.token,
        Method::GET,
        format!("{}/openapi.json", world.base),
        None,
    )
    .await;
    let path = &document["paths"]["/v1/connections/{connection}/imis/import-event"]["post"];
    assert!(path["responses"]["200"].is_object(), "{path}");
    assert!(path["responses"]["502"].is_object(), "{path}");
    world.finish().await;
}

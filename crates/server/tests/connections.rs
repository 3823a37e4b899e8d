//! Connections edited over HTTP: added, read, replaced and removed in the configuration file,
//! with the file's comments kept, refused edits leaving it untouched, secrets stored encrypted
//! and never answered, and the running server using each edit at once.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use engine::Config;
use engine::config::secrets::{KEY_VARIABLE, SecretKey};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use server::{AppState, Settings};
use store::Store;

const FILE: &str = r#"# The spring conference.
[[connections]]
name = "cvent"
kind = "cvent-rest"
base_url = "http://127.0.0.1:9/ea"   # nothing is called in this test
event_code = "SPRING27"              # the event's code
client_id = "client"
client_secret = "${TEST_CVENT_SECRET}"
data_types = ["people", "sessions"]
"#;

struct Server {
    base: String,
    token: String,
    http: reqwest::Client,
    path: PathBuf,
    state: AppState,
}

impl Server {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        support::call(
            &self.http,
            &self.token,
            method,
            format!("{}{path}", self.base),
            body,
        )
        .await
    }

    fn file(&self) -> String {
        std::fs::read_to_string(&self.path).expect("the configuration")
    }
}

async fn start() -> Server {
    let dir = std::env::temp_dir().join(format!("eventsync-connections-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("folder");
    let path = dir.join("eventsync.toml");
    std::fs::write(&path, FILE).expect("write");
    let store = Store::open(&dir.join("workspace.sqlite").display().to_string())
        .await
        .expect("store");
    let token = server::new_token();
    store
        .add_api_token("connections test", &server::token_hash(&token))
        .await
        .expect("token");
    let settings = Settings {
        report_dir: dir.join("reports"),
        scheduler: false,
        poll: Duration::from_millis(50),
        config_path: Some(path.clone()),
        ..Settings::default()
    };
    let config = Config::load(&path).expect("the configuration loads");
    let state = AppState::new(store, config, settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listener");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let served = state.clone();
    tokio::spawn(async move {
        server::serve(served, listener, std::future::pending())
            .await
            .expect("serve");
    });
    Server {
        base,
        token,
        http: reqwest::Client::new(),
        path,
        state,
    }
}

/// One test, so that the environment it sets is read by nothing running beside it.
#[tokio::test]
async fn connections_are_edited_over_the_api() {
    let key = SecretKey::generate();
    // SAFETY: the only test of this binary sets them before starting anything that reads the
    // environment.
    unsafe {
        std::env::set_var(KEY_VARIABLE, key.to_base64());
        std::env::set_var("TEST_CVENT_SECRET", "from-env");
    }
    let server = start().await;

    // A connection is read with its secret shown as set, never as its value or reference.
    let (status, cvent) = server
        .call(Method::GET, "/v1/connections/cvent", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{cvent}");
    assert_eq!(cvent["client_secret"], json!({ "set": true }));
    assert_eq!(cvent["event_code"], "SPRING27");
    assert!(!cvent.to_string().contains("TEST_CVENT_SECRET"), "{cvent}");

    // Added with a password: stored encrypted, answered as set, used by the server at once.
    let soap = json!({
        "name": "soap",
        "kind": "cvent-soap",
        "host": "sandbox",
        "account_number": "ACME01",
        "user_name": "api",
        "password": "pa55word",
        "event_code": "CONF27",
        "data_types": ["people", "sessions"],
    });
    let (status, added) = server
        .call(Method::POST, "/v1/connections", Some(soap.clone()))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(added["password"], json!({ "set": true }));
    assert!(!added.to_string().contains("pa55word"), "{added}");
    let text = server.file();
    assert!(
        !text.contains("pa55word"),
        "never stored in plain text:\n{text}"
    );
    assert!(text.contains("password = \"enc:v1:"), "{text}");
    assert!(
        text.contains("# the event's code"),
        "comments stay:\n{text}"
    );
    let (status, listed) = server.call(Method::GET, "/v1/connections", None).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let names: Vec<&str> = listed["data"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["cvent", "soap"],
        "the server runs on the edited file"
    );
    assert!(server.state.config().connection("soap").is_ok());

    let (status, again) = server
        .call(Method::POST, "/v1/connections", Some(soap.clone()))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert_eq!(again["error"]["code"], "connection_exists");

    // An edit the loader refuses is its error, and the file stays as it was.
    let before = server.file();
    let (status, refused) = server
        .call(
            Method::PUT,
            "/v1/connections/soap/data/people",
            Some(json!({ "statuses": ["Registered"] })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["error"]["code"], "invalid_request");
    let message = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("statuses of people"), "{message}");
    assert_eq!(server.file(), before);
    let (status, refused) = server
        .call(
            Method::POST,
            "/v1/connections",
            Some(json!({ "name": "x", "kind": "cvent-soap", "hots": "sandbox" })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("unknown field `hots`")),
        "{refused}"
    );
    assert_eq!(server.file(), before);

    // Data settings are set whole and read back.
    let people = json!({
        "statuses": ["Accepted"],
        "remove_outdated": true,
        "filters": [{ "field": "email", "is_empty": true, "not": true }],
    });
    let (status, set) = server
        .call(
            Method::PUT,
            "/v1/connections/soap/data/people",
            Some(people.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(set, people);
    let (status, read) = server
        .call(Method::GET, "/v1/connections/soap/data/people", None)
        .await;
    assert_eq!((status, &read), (StatusCode::OK, &people));
    let soap_now = server.state.config();
    let data = &soap_now.connection("soap").expect("soap").data[&pipeline::DataType::People];
    assert!(data.remove_outdated && data.filters.len() == 1);
    let (status, missing) = server
        .call(Method::GET, "/v1/connections/soap/data/sponsors", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");

    // Replaced without the password: the stored one is kept.
    let mut changed = soap.clone();
    changed["event_code"] = json!("CONF28");
    changed.as_object_mut().expect("object").remove("password");
    let (status, replaced) = server
        .call(Method::PUT, "/v1/connections/soap", Some(changed))
        .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["event_code"], "CONF28");
    assert_eq!(replaced["password"], json!({ "set": true }));
    assert!(server.file().contains("password = \"enc:v1:"));

    // Removed: gone from the file and from the server.
    let (status, _) = server
        .call(Method::DELETE, "/v1/connections/soap", None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, gone) = server.call(Method::GET, "/v1/connections/soap", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{gone}");
    assert_eq!(gone["error"]["code"], "not_found");
    assert!(server.state.config().connection("soap").is_err());
    assert!(!server.file().contains("soap"));
    assert!(server.file().contains("# the event's code"));

    // Behind the bearer check, and in the OpenAPI document.
    let unauthenticated = server
        .http
        .get(format!("{}/v1/connections/cvent", server.base))
        .send()
        .await
        .expect("request");
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);
    let document: Value = server
        .http
        .get(format!("{}/openapi.json", server.base))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON");
    let paths = &document["paths"];
    assert!(
        paths["/v1/connections"]["get"].is_object() && paths["/v1/connections"]["post"].is_object()
    );
    for method in ["get", "put", "delete"] {
        assert!(
            paths["/v1/connections/{connection}"][method].is_object(),
            "{method}"
        );
    }
    for method in ["get", "put"] {
        assert!(
            paths["/v1/connections/{connection}/data/{data_type}"][method].is_object(),
            "{method}"
        );
    }
}

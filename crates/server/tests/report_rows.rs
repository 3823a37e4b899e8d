//! `GET /v1/runs/{id}/report/rows` over HTTP: a preview of the Cvent REST sandbox's people,
//! paged, filtered and searched from the report's index, the same rows the CSV report holds; a
//! report kept without an index is indexed when first asked for; bad parameters are 400s.

mod support;

use std::path::Path;
use std::time::Duration;

use engine::Config;
use reqwest::{Method, StatusCode};
use sandboxes::cvent_rest::{CventRestSandbox, SandboxConfig};
use serde_json::{Value, json};
use server::{AppState, Settings};
use store::Store;

struct World {
    sandbox: CventRestSandbox,
    dir: std::path::PathBuf,
    base: String,
    token: String,
    http: reqwest::Client,
}

impl World {
    async fn start() -> World {
        let sandbox = CventRestSandbox::start(SandboxConfig {
            attendees: 120,
            ..SandboxConfig::default()
        })
        .await
        .expect("sandbox");
        let dir = std::env::temp_dir().join(format!(
            "eventsync-report-rows-{}-{}",
            std::process::id(),
            sandbox.address().port()
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
        let text = format!(
            "[[connections]]\nname = \"cvent\"\nkind = \"cvent-rest\"\nbase_url = \"{}\"\nevent_code = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"${{SECRET}}\"\ndata_types = [\"people\"]\n[connections.data.people]\nstatuses = []\n",
            sandbox.base_url(),
            sandbox.event_code(),
            sandbox.client_id()
        );
        let secret = sandbox.client_secret().to_string();
        let config = Config::parse(&text, Path::new("eventsync.toml"), &move |name| {
            (name == "SECRET").then(|| secret.clone())
        })
        .expect("config");
        let settings = Settings {
            report_dir: dir.join("reports"),
            scheduler: false,
            ..Settings::default()
        };
        let state = AppState::new(store, config, settings);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("listener");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(server::serve(state, listener, std::future::pending()));
        World {
            sandbox,
            dir,
            base,
            token,
            http: reqwest::Client::new(),
        }
    }

    async fn call(&self, path: &str) -> (StatusCode, Value) {
        let url = format!("{}{path}", self.base);
        support::call(&self.http, &self.token, Method::GET, url, None).await
    }

    async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    /// Starts a preview of the people and waits for its end; its id.
    async fn preview(&self) -> i64 {
        let (status, started) = support::call(
            &self.http,
            &self.token,
            Method::POST,
            format!("{}/v1/runs", self.base),
            Some(json!({"connection": "cvent", "kind": "preview", "data_types": ["people"]})),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{started}");
        let run = started["run_id"].as_i64().expect("run id");
        for _ in 0..600 {
            let answer = self.get(&format!("/v1/runs/{run}")).await;
            if answer["status"] != "running" {
                assert_eq!(answer["status"], "succeeded", "{answer}");
                return run;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the preview did not end");
    }

    /// The report's CSV rows, header first.
    async fn csv(&self, run: i64) -> Vec<Vec<String>> {
        let response = self
            .http
            .get(format!("{}/v1/runs/{run}/report", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("report");
        let bytes = response.bytes().await.expect("body");
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(bytes.as_ref())
            .records()
            .map(|record| record.expect("record").iter().map(String::from).collect())
            .collect()
    }
}

fn rows(answer: &Value) -> Vec<Vec<String>> {
    answer["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| {
            row.as_array()
                .expect("a row")
                .iter()
                .map(|value| value.as_str().expect("text").to_string())
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reports_rows_are_paged_filtered_and_searched() {
    let world = World::start().await;
    let run = world.preview().await;
    let csv = world.csv(run).await;
    let (header, all) = (&csv[0], &csv[1..]);
    assert!(all.len() >= 100, "a row per attendee: {}", all.len());

    let first = world.get(&format!("/v1/runs/{run}/report/rows")).await;
    assert_eq!(first["run_id"], run);
    assert_eq!(&first["columns"], &json!(header));
    assert_eq!(first["matched"], all.len());
    assert_eq!((&first["offset"], &first["limit"]), (&json!(0), &json!(50)));
    assert_eq!(rows(&first), all[..50]);
    assert_eq!(first["data_types"], json!(["people"]));

    let last = world
        .get(&format!("/v1/runs/{run}/report/rows?offset=100&limit=500"))
        .await;
    assert_eq!(rows(&last), all[100..]);

    let action = first["actions"][0].as_str().expect("an action");
    let of_action: Vec<&Vec<String>> = all.iter().filter(|row| row[1] == action).collect();
    let filtered = world
        .get(&format!(
            "/v1/runs/{run}/report/rows?action={action}&data_type=people&limit=5"
        ))
        .await;
    assert_eq!(filtered["matched"], of_action.len());
    assert_eq!(rows(&filtered).iter().collect::<Vec<_>>(), of_action[..5]);

    // An email as a user would type it, in another case, finds its person's row alone.
    let email_at = header
        .iter()
        .position(|heading| heading == "workspace.email")
        .expect("an email column");
    let person = &all[7];
    let typed = format!(" {} ", person[email_at].to_uppercase());
    let query: String = form_urlencoded::byte_serialize(typed.as_bytes()).collect();
    let found = world
        .get(&format!("/v1/runs/{run}/report/rows?q={query}"))
        .await;
    assert_eq!(found["matched"], 1, "{found}");
    assert_eq!(rows(&found), std::slice::from_ref(person));
    let nothing = world
        .get(&format!(
            "/v1/runs/{run}/report/rows?q={query}&action=no-such-action"
        ))
        .await;
    assert_eq!(
        (&nothing["matched"], &nothing["rows"]),
        (&json!(0), &json!([]))
    );

    // A report kept before reports had an index is indexed the first time it is asked for.
    let index = world.dir.join(format!("reports/run-{run}.csv.index"));
    assert!(
        index.is_file(),
        "the preview's index is kept with its report"
    );
    std::fs::remove_file(&index).expect("remove the index");
    let again = world
        .get(&format!("/v1/runs/{run}/report/rows?q={query}"))
        .await;
    assert_eq!(again, found);
    assert!(index.is_file(), "the index is written again");

    for refused in [
        "limit=0",
        "limit=501",
        "limit=all",
        "offset=-1",
        "q=a%09b",
        "page=2",
        "q=a&q=b",
    ] {
        let (status, body) = world
            .call(&format!("/v1/runs/{run}/report/rows?{refused}"))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}: {body}");
        assert_eq!(
            body["error"]["code"], "invalid_request",
            "{refused}: {body}"
        );
    }
    let (status, _) = world.call("/v1/runs/999/report/rows").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = world.call("/v1/runs/x/report/rows").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let document = world.get("/openapi.json").await;
    let operation = &document["paths"]["/v1/runs/{id}/report/rows"]["get"];
    let parameters: Vec<&str> = operation["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter_map(|parameter| parameter["name"].as_str())
        .collect();
    assert_eq!(
        parameters,
        ["id", "action", "data_type", "q", "offset", "limit"]
    );
    world.sandbox.stop().await;
    let _ = std::fs::remove_dir_all(&world.dir);
}

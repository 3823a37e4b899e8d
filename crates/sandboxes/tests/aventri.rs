//! The Aventri sandbox over real HTTP: auth, paging to the "no more results" error object, keys
//! limited to some events, the per-minute limit, the gateway's size limit and the control API.

use reqwest::StatusCode;
use sandboxes::aventri::{AventriSandbox, SandboxConfig, Settings};
use serde_json::{Value, json};

struct Harness {
    sandbox: AventriSandbox,
    http: reqwest::Client,
}

impl Harness {
    async fn start(attendees: u64) -> Harness {
        let sandbox = AventriSandbox::start(SandboxConfig {
            attendees,
            ..SandboxConfig::default()
        })
        .await
        .expect("sandbox starts");
        Harness {
            sandbox,
            http: reqwest::Client::new(),
        }
    }

    async fn call(&self, function: &str, query: &[(&str, &str)]) -> (StatusCode, Value) {
        let response = self
            .http
            .get(format!("{}/{function}", self.sandbox.endpoint()))
            .query(query)
            .send()
            .await
            .expect("request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn token_for(&self, key: &str) -> (StatusCode, Value) {
        self.call(
            "global/authorize.json",
            &[("accountid", self.sandbox.account_id()), ("key", key)],
        )
        .await
    }

    async fn token(&self) -> String {
        let (_, body) = self.token_for(self.sandbox.master_key()).await;
        body["accesstoken"].as_str().expect("a token").to_string()
    }

    async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let response = self
            .http
            .request(method, format!("{}{path}", self.sandbox.control_url()))
            .json(&body)
            .send()
            .await
            .expect("control request");
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }
}

#[tokio::test]
async fn listings_page_by_offset_and_end_on_the_error_object() {
    let harness = Harness::start(250).await;
    let token = harness.token().await;
    let event = harness.sandbox.event_id();
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let offset_text = offset.to_string();
        let (status, body) = harness
            .call(
                "ereg/listAttendees.json",
                &[
                    ("accesstoken", &token),
                    ("eventid", &event),
                    ("offset", &offset_text),
                    ("limit", "100"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let Some(page) = body.as_array() else {
            assert_eq!(body, json!({"error": {"data": "No attendees found"}}));
            break;
        };
        // Summaries unless fields are asked for.
        assert_eq!(page[0].as_object().map(|o| o.len()), Some(5), "{}", page[0]);
        seen.extend(page.iter().map(|a| a["attendeeid"].clone()));
        offset += page.len();
    }
    assert_eq!(seen.len(), 250);
    let (_, fields) = harness
        .call(
            "ereg/listAttendees.json",
            &[
                ("accesstoken", &token),
                ("eventid", &event),
                ("limit", "2"),
                ("fields", "fname,category,checkindate"),
            ],
        )
        .await;
    let first = &fields[0];
    assert!(first["attendeeid"].is_string() && first["fname"].is_string());
    assert!(first["category"]["name"].is_string());
    assert!(first["email"].is_null(), "only the columns asked for");
    let (_, bad) = harness
        .call(
            "ereg/listAttendees.json",
            &[("accesstoken", &token), ("eventid", &event), ("limit", "x")],
        )
        .await;
    assert!(bad["error"]["limit"].is_string(), "{bad}");
}

#[tokio::test]
async fn keys_tokens_and_events_are_checked() {
    let harness = Harness::start(10).await;
    let (status, bad) = harness.token_for("wrong").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "logical errors come with 200 by default"
    );
    assert!(bad["error"]["key"].is_string(), "{bad}");
    let event = harness.sandbox.event_id();
    let (_, limited) = harness.token_for(harness.sandbox.limited_key()).await;
    let limited = limited["accesstoken"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (_, refused) = harness
        .call(
            "ereg/getEvent.json",
            &[("accesstoken", &limited), ("eventid", &event)],
        )
        .await;
    assert!(
        refused["error"]["eventid"]
            .as_str()
            .is_some_and(|m| m.contains("does not have access")),
        "{refused}"
    );
    let token = harness.token().await;
    let (_, found) = harness
        .call(
            "ereg/getEvent.json",
            &[("accesstoken", &token), ("eventid", &event)],
        )
        .await;
    assert_eq!(found["eventid"], json!(event));
    harness
        .control(reqwest::Method::POST, "/tokens/expire", json!({}))
        .await;
    let (_, expired) = harness
        .call(
            "ereg/getEvent.json",
            &[("accesstoken", &token), ("eventid", &event)],
        )
        .await;
    assert!(expired["error"]["accesstoken"].is_string(), "{expired}");
    // Switched to 400, the same error object comes with a client-error status.
    let settings = Settings {
        logical_error_status: 400,
        ..Settings::default()
    };
    harness
        .control(reqwest::Method::PUT, "/settings", json!(settings))
        .await;
    let (status, _) = harness
        .call(
            "ereg/getEvent.json",
            &[("accesstoken", &token), ("eventid", &event)],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_minute_limit_the_gateway_limit_and_queued_faults() {
    let harness = Harness::start(300).await;
    let token = harness.token().await;
    let event = harness.sandbox.event_id();
    let settings = Settings {
        requests_per_minute: 3,
        max_response_bytes: 20_000,
        ..Settings::default()
    };
    harness.sandbox.set_settings(settings);
    let query = [
        ("accesstoken", token.as_str()),
        ("eventid", event.as_str()),
        ("fields", "fname,lname,responses,sessions,category"),
    ];
    let (status, _) = harness.call("ereg/listAttendees.json", &query).await;
    assert_eq!(
        status,
        StatusCode::BAD_GATEWAY,
        "300 full records exceed 20 kB"
    );
    let (status, page) = harness
        .call(
            "ereg/listAttendees.json",
            &[query[0], query[1], query[2], ("limit", "10")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page.as_array().map(Vec::len), Some(10));
    let (status, throttled) = harness.call("ereg/getEvent.json", &query[..2]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{throttled}");
    harness
        .control(
            reqwest::Method::PUT,
            "/clock",
            json!({"advanceSeconds": 61}),
        )
        .await;
    harness
        .control(reqwest::Method::PUT, "/faults", json!({"next": [504]}))
        .await;
    let (status, _) = harness.call("ereg/getEvent.json", &query[..2]).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    let (status, _) = harness.call("ereg/getEvent.json", &query[..2]).await;
    assert_eq!(status, StatusCode::OK);
    let calls = harness
        .control(reqwest::Method::GET, "/calls", json!(null))
        .await;
    assert!(
        !calls.to_string().contains(&token),
        "the call log never holds the token"
    );
}

#[tokio::test]
async fn changes_move_lastmodified_and_filters_see_only_them() {
    let harness = Harness::start(50).await;
    let token = harness.token().await;
    let event = harness.sandbox.event_id();
    let id = "40000007";
    let changed = harness
        .control(
            reqwest::Method::PATCH,
            &format!("/attendees/{id}"),
            json!({"lname": "Changed"}),
        )
        .await;
    let cancelled = harness
        .control(
            reqwest::Method::POST,
            "/attendees/40000009/cancel",
            json!({}),
        )
        .await;
    assert_eq!(cancelled["registrationstatus"], "Cancelled");
    let added = harness
        .control(reqwest::Method::POST, "/attendees", json!({"fname": "New"}))
        .await;
    assert_eq!(added["attendeeid"], "40000050");
    let since = "2026-06-01 00:00:00";
    let (_, page) = harness
        .call(
            "ereg/listAttendees.json",
            &[
                ("accesstoken", &token),
                ("eventid", &event),
                ("lastmodified-gt", since),
                ("fields", "lname,fname"),
            ],
        )
        .await;
    let ids: Vec<&str> = page
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["attendeeid"].as_str())
        .collect();
    assert_eq!(ids, ["40000007", "40000009", "40000050"]);
    assert_eq!(page[0]["lname"], changed["lname"]);
    let (_, after_all) = harness
        .call(
            "ereg/listAttendees.json",
            &[
                ("accesstoken", &token),
                ("eventid", &event),
                ("lastmodified-gt", "2099-01-01"),
            ],
        )
        .await;
    assert_eq!(after_all, json!({"error": {"data": "No attendees found"}}));
    let (_, bad_date) = harness
        .call(
            "ereg/listAttendees.json",
            &[
                ("accesstoken", &token),
                ("eventid", &event),
                ("lastmodified-gt", "yesterday"),
            ],
        )
        .await;
    assert!(bad_date["error"]["lastmodified-gt"].is_string());
    let (_, sessions) = harness
        .call(
            "ereg/listSessions.json",
            &[("accesstoken", &token), ("eventid", &event)],
        )
        .await;
    let session = &sessions[0];
    for field in [
        "sessionid",
        "sessionkey",
        "name",
        "sessiondate",
        "starttime",
        "endtime",
    ] {
        assert!(session[field].is_string(), "{field}: {session}");
    }
    let (_, wrong_key) = harness
        .call(
            "ereg/getSession.json",
            &[
                ("accesstoken", &token),
                ("eventid", &event),
                (
                    "sessionid",
                    session["sessionid"].as_str().unwrap_or_default(),
                ),
                ("sessionkey", "nope"),
            ],
        )
        .await;
    assert!(wrong_key["error"]["sessionkey"].is_string());
    let photo = harness
        .http
        .get(
            harness
                .sandbox
                .presenter_photo_endpoint()
                .replace("{speakerid}", "700000"),
        )
        .send()
        .await
        .expect("photo");
    assert_eq!(photo.status(), StatusCode::OK);
    assert_eq!(
        photo
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("image/jpeg")
    );
}

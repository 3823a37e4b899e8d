//! The Cvent REST sandbox over real HTTP: paging, filters, both 429s, tokens, scopes, enrollment
//! capacity, check-in results, determinism and every fault knob.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use sandboxes::cvent_rest::{CventRestSandbox, SandboxConfig, Tier};
use serde_json::{Value, json};

struct Harness {
    sandbox: CventRestSandbox,
    http: reqwest::Client,
    bearer: String,
}

impl Harness {
    async fn start(config: SandboxConfig) -> Harness {
        let sandbox = CventRestSandbox::start(config)
            .await
            .expect("sandbox starts");
        let http = reqwest::Client::new();
        let mut harness = Harness {
            sandbox,
            http,
            bearer: String::new(),
        };
        harness.bearer = harness.token(None).await;
        harness
    }

    async fn with_attendees(attendees: u64) -> Harness {
        Harness::start(SandboxConfig {
            attendees,
            ..SandboxConfig::default()
        })
        .await
    }

    async fn token(&self, scope: Option<&str>) -> String {
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", self.sandbox.client_id()),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        let response = self
            .http
            .post(format!("{}/oauth2/token", self.sandbox.base_url()))
            .basic_auth(self.sandbox.client_id(), Some(self.sandbox.client_secret()))
            .form(&form)
            .send()
            .await
            .expect("token request");
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("token JSON");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.sandbox.base_url(), path)
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> (StatusCode, Value) {
        let response = self
            .http
            .get(self.url(path))
            .bearer_auth(&self.bearer)
            .query(query)
            .send()
            .await
            .expect("request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.bearer);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let response = self
            .http
            .request(method, format!("{}{}", self.sandbox.control_url(), path))
            .json(&body)
            .send()
            .await
            .expect("control request");
        assert!(
            response.status().is_success(),
            "control {path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }

    /// Every page of a listing: (pages, records, totalCount of the first page).
    async fn list_all(&self, path: &str, query: &[(&str, &str)]) -> (Vec<Value>, Vec<Value>) {
        let (status, first) = self.get(path, query).await;
        assert_eq!(status, StatusCode::OK, "{first}");
        let mut pages = vec![first];
        while let Some(next) = pages
            .last()
            .and_then(|p| p["paging"]["nextToken"].as_str())
            .map(str::to_string)
        {
            let (status, page) = self.get(path, &[("token", &next)]).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            pages.push(page);
        }
        let records = pages
            .iter()
            .flat_map(|p| p["data"].as_array().cloned().unwrap_or_default())
            .collect();
        (pages, records)
    }

    fn event_filter(&self) -> String {
        format!("event.id eq '{}'", self.sandbox.event_id())
    }
}

#[tokio::test]
async fn pages_divide_evenly_without_an_empty_last_page() {
    let harness = Harness::with_attendees(400).await;
    let filter = harness.event_filter();
    let (pages, records) = harness
        .list_all("/attendees", &[("filter", &filter), ("limit", "200")])
        .await;
    assert_eq!(
        pages.len(),
        2,
        "400 attendees at 200 a page are exactly two pages"
    );
    assert_eq!(records.len(), 400);
    assert_eq!(pages[0]["paging"]["totalCount"], 400);
    assert!(pages[1]["paging"].get("nextToken").is_none());
    let ids: std::collections::HashSet<_> = records.iter().map(|r| r["id"].clone()).collect();
    assert_eq!(ids.len(), 400, "no attendee twice");

    let (pages, records) = harness.list_all("/attendees", &[("limit", "133")]).await;
    assert_eq!(pages.len(), 4);
    assert_eq!(records.len(), 400);
    assert_eq!(pages[0]["paging"]["limit"], 133);
}

#[tokio::test]
async fn a_page_token_overrides_other_parameters() {
    let harness = Harness::with_attendees(50).await;
    let (_, first) = harness.get("/attendees", &[("limit", "20")]).await;
    let next = first["paging"]["nextToken"]
        .as_str()
        .expect("next token")
        .to_string();
    let (status, second) = harness
        .get(
            "/attendees",
            &[
                ("token", &next),
                ("limit", "5"),
                ("filter", "status eq 'Declined'"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(second["data"].as_array().map(Vec::len), Some(20));
    assert_eq!(second["paging"]["limit"], 20);
}

#[tokio::test]
async fn paging_parameters_are_validated() {
    let harness = Harness::with_attendees(10).await;
    for limit in ["0", "201", "abc", "-1"] {
        let (status, body) = harness.get("/attendees", &[("limit", limit)]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "limit {limit}");
        assert_eq!(body["code"], 400);
    }
    let (status, _) = harness.get("/attendees", &[("limit", "200")]).await;
    assert_eq!(status, StatusCode::OK);
    let unknown = uuid::Uuid::new_v4().to_string();
    let (status, _) = harness.get("/attendees", &[("token", &unknown)]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn filters_select_exactly_and_bad_filters_are_refused() {
    let harness = Harness::with_attendees(600).await;
    let (_, everyone) = harness.list_all("/attendees", &[("limit", "200")]).await;
    let accepted = everyone
        .iter()
        .filter(|a| a["status"] == "Accepted")
        .count();
    let filter = format!("{} and status eq 'Accepted'", harness.event_filter());
    let (pages, selected) = harness
        .list_all("/attendees", &[("filter", &filter), ("limit", "200")])
        .await;
    assert!(
        accepted > 0 && accepted < 600,
        "a realistic mix of statuses"
    );
    assert_eq!(selected.len(), accepted);
    assert_eq!(pages[0]["paging"]["totalCount"], accepted);

    // The long-filter endpoint takes the same grammar in a body.
    let some: Vec<String> = everyone
        .iter()
        .take(3)
        .map(|a| format!("'{}'", a["id"].as_str().unwrap_or("")))
        .collect();
    let body =
        json!({ "filter": format!("id in ({}) or status eq \"No Response\"", some.join(",")) });
    let (status, page) = harness
        .send(
            reqwest::Method::POST,
            "/attendees/filter?limit=200",
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let expected = everyone
        .iter()
        .enumerate()
        .filter(|(i, a)| *i < 3 || a["status"] == "No Response")
        .count();
    assert_eq!(page["paging"]["totalCount"], expected);

    for bad in [
        "status eq",
        "status eq 'Accepted",
        "bogusField eq 'x'",
        "status xx 'Accepted'",
        "(status eq 'Accepted'",
        "status eq 'Accepted' and",
    ] {
        let (status, body) = harness.get("/attendees", &[("filter", bad)]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(body["code"], 400, "{bad}");
        assert!(
            body["details"][0]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{bad}: {body}"
        );
    }
}

#[tokio::test]
async fn throttling_and_quota_exhaustion_are_told_apart() {
    let harness = Harness::start(SandboxConfig {
        attendees: 10,
        tier: Tier::Free,
        ..SandboxConfig::default()
    })
    .await;
    // Five calls at once against a burst of one: one gets through, the rest are throttled.
    let calls = (0..5).map(|_| harness.get("/usage/tier", &[]));
    let answers = futures_util::future::join_all(calls).await;
    let admitted = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::OK)
        .count();
    let throttled: Vec<&Value> = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::TOO_MANY_REQUESTS)
        .map(|(_, body)| body)
        .collect();
    assert!(admitted >= 1 && !throttled.is_empty(), "{answers:?}");
    for body in &throttled {
        assert_eq!(**body, json!({"code": 429, "message": "Too Many Requests"}));
    }

    tokio::time::sleep(Duration::from_millis(600)).await;
    let (_, usage) = harness.get("/usage", &[]).await;
    assert_eq!(
        usage["data"][0]["used"].as_u64(),
        Some(admitted as u64 + 1),
        "throttled calls are not counted"
    );
    assert_eq!(usage["data"][0]["total"], 1000);

    harness
        .control(reqwest::Method::PUT, "/usage", json!({"used": 1000}))
        .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (status, body) = harness.get("/attendees", &[]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body, json!({"code": 429, "message": "Limit Exceeded"}));

    // The quota resets at midnight UTC. The midnight chosen is at least a day away, so that the
    // token (an hour's life) has expired whatever the time of day the test runs.
    let later = (chrono::Utc::now() + chrono::Duration::days(2)).date_naive();
    let midnight = format!("{later}T00:00:01Z");
    harness
        .control(reqwest::Method::PUT, "/clock", json!({"now": midnight}))
        .await;
    let (status, _) = harness.get("/usage/tier", &[]).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a day later the token has expired too"
    );
    let mut harness = harness;
    harness.bearer = harness.token(None).await;
    let (status, _) = harness.get("/usage/tier", &[]).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn tokens_expire_and_unknown_tokens_are_refused() {
    let harness = Harness::start(SandboxConfig {
        attendees: 5,
        token_ttl: Duration::from_secs(1),
        ..SandboxConfig::default()
    })
    .await;
    let (status, _) = harness.get("/attendees", &[]).await;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (status, body) = harness.get("/attendees", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, json!({"code": 401, "message": "Unauthorized"}));

    let response = harness
        .http
        .get(harness.url("/attendees"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_client_credentials_get_oauth_errors() {
    let harness = Harness::with_attendees(5).await;
    let response = harness
        .http
        .post(harness.url("/oauth2/token"))
        .basic_auth(harness.sandbox.client_id(), Some("wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn a_token_without_the_route_scope_is_forbidden() {
    let mut harness = Harness::with_attendees(5).await;
    harness.bearer = harness.token(Some("event/events:read")).await;
    let (status, _) = harness.get("/events", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = harness.get("/attendees", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body, json!({"code": 403, "message": "Access Forbidden"}));
}

#[tokio::test]
async fn sensitive_contact_fields_need_their_scope() {
    let mut harness = Harness::with_attendees(20).await;
    let (_, page) = harness.get("/attendees", &[]).await;
    let with_scope = page["data"]
        .as_array()
        .expect("data")
        .iter()
        .any(|a| a["contact"].get("dateOfBirth").is_some());
    assert!(with_scope, "the generated data carries sensitive fields");
    harness.bearer = harness
        .token(Some("event/attendees:read event/events:read"))
        .await;
    let (_, page) = harness.get("/attendees", &[]).await;
    for attendee in page["data"].as_array().expect("data") {
        let contact = &attendee["contact"];
        for field in [
            "dateOfBirth",
            "passportNumber",
            "passport",
            "socialSecurityNumber",
            "nationalIdentificationNumber",
        ] {
            assert!(
                contact.get(field).is_none(),
                "{field} returned without the sensitive scope"
            );
        }
    }
}

#[tokio::test]
async fn enrollment_honours_capacity_and_waitlist() {
    let harness = Harness::with_attendees(200).await;
    let (_, sessions) = harness.list_all("/sessions", &[("limit", "200")]).await;
    let session = sessions
        .iter()
        .find(|s| s["status"] == "Active")
        .expect("an active session");
    let session_id = session["id"].as_str().expect("id").to_string();
    let (_, enrollments) = harness
        .list_all("/sessions/enrollment", &[("limit", "200")])
        .await;
    let registered: Vec<&Value> = enrollments
        .iter()
        .filter(|e| e["session"]["id"] == session["id"] && e["status"] == "Registered")
        .collect();
    let enrolled: std::collections::HashSet<&Value> =
        registered.iter().map(|e| &e["attendee"]["id"]).collect();
    let (_, attendees) = harness
        .list_all(
            "/attendees",
            &[("limit", "200"), ("filter", "status eq 'Accepted'")],
        )
        .await;
    let mut free = attendees
        .iter()
        .filter(|a| !enrolled.contains(&a["id"]))
        .map(|a| a["id"].as_str().unwrap_or("").to_string());
    let first = free.next().expect("an attendee to enroll");
    let second = free.next().expect("another attendee");

    // Full, no waitlist: refused.
    let capacity = registered.len().max(1);
    harness
        .control(
            reqwest::Method::PATCH,
            &format!("/sessions/{session_id}"),
            json!({"capacity": capacity, "capacityUnlimited": false, "enableWaitlist": false}),
        )
        .await;
    if registered.is_empty() {
        let (status, _) = harness
            .send(
                reqwest::Method::POST,
                &format!("/sessions/{session_id}/enrollment/{second}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    let (status, body) = harness
        .send(
            reqwest::Method::POST,
            &format!("/sessions/{session_id}/enrollment/{first}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // Full with a waitlist: waitlisted.
    harness
        .control(
            reqwest::Method::PATCH,
            &format!("/sessions/{session_id}"),
            json!({"enableWaitlist": true}),
        )
        .await;
    let (status, _) = harness
        .send(
            reqwest::Method::POST,
            &format!("/sessions/{session_id}/enrollment/{first}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let filter = format!("attendee.id eq '{first}' and session.id eq '{session_id}'");
    let (_, page) = harness
        .get("/sessions/enrollment", &[("filter", &filter)])
        .await;
    assert_eq!(page["data"][0]["status"], "Waitlisted");

    // Unenrolling cancels; a second unenroll finds nothing.
    let path = format!("/sessions/{session_id}/enrollment/{first}");
    let (status, _) = harness.send(reqwest::Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = harness.send(reqwest::Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let unknown = uuid::Uuid::new_v4();
    let (status, _) = harness
        .send(
            reqwest::Method::POST,
            &format!("/sessions/{session_id}/enrollment/{unknown}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn check_in_answers_each_attendee_with_its_own_status() {
    let harness = Harness::with_attendees(100).await;
    let (_, attendees) = harness.list_all("/attendees", &[("limit", "200")]).await;
    let accepted = attendees
        .iter()
        .find(|a| a["status"] == "Accepted")
        .expect("accepted");
    let declined = attendees
        .iter()
        .find(|a| a["status"] == "Declined" || a["status"] == "Cancelled")
        .expect("declined or cancelled");
    let event = harness.sandbox.event_id().to_string();
    let body = json!([
        {"id": accepted["id"], "checkIn": "2026-05-01T09:00:00Z", "device": "Desk 1"},
        {"id": uuid::Uuid::new_v4().to_string(), "checkIn": "2026-05-01T09:00:00Z"},
        {"id": declined["id"], "checkIn": "2026-05-01T09:00:00Z"},
    ]);
    let (status, results) = harness
        .send(
            reqwest::Method::POST,
            &format!("/events/{event}/check-in"),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::MULTI_STATUS);
    let statuses: Vec<&Value> = results
        .as_array()
        .expect("array")
        .iter()
        .map(|r| &r["status"])
        .collect();
    assert_eq!(statuses, [&json!(200), &json!(404), &json!(400)]);
    let (_, attendee) = harness
        .get(
            &format!("/attendees/{}", accepted["id"].as_str().unwrap_or("")),
            &[],
        )
        .await;
    assert_eq!(attendee["checkedIn"], true);

    let too_many: Vec<Value> = (0..101)
        .map(|_| json!({"id": accepted["id"], "checkIn": "2026-05-01T09:00:00Z"}))
        .collect();
    let (status, _) = harness
        .send(
            reqwest::Method::POST,
            &format!("/events/{event}/check-in"),
            Some(Value::Array(too_many)),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "at most 100 per call");

    let path = format!(
        "/events/{event}/check-in/{}",
        accepted["id"].as_str().unwrap_or("")
    );
    let (status, _) = harness.send(reqwest::Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn status_changes_follow_the_allowed_transitions() {
    let harness = Harness::with_attendees(100).await;
    let (_, attendees) = harness
        .list_all(
            "/attendees",
            &[("limit", "200"), ("filter", "status eq 'Accepted'")],
        )
        .await;
    let attendee = &attendees[0];
    let id = attendee["id"].as_str().expect("id");
    let update = |status: &str| json!({"event": attendee["event"], "contact": {"id": attendee["contact"]["id"]}, "status": status});
    let (status, body) = harness
        .send(
            reqwest::Method::PUT,
            &format!("/attendees/{id}"),
            Some(update("Cancelled")),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "Cancelled");
    assert!(body["lastModified"].as_str() > attendee["lastModified"].as_str());
    let (status, _) = harness
        .send(
            reqwest::Method::PUT,
            &format!("/attendees/{id}"),
            Some(update("Declined")),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "Cancelled cannot become Declined"
    );
    let (status, _) = harness
        .send(
            reqwest::Method::PUT,
            &format!("/attendees/{id}"),
            Some(json!({"status": "Accepted"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "event and contact are required"
    );
}

#[tokio::test]
async fn changes_move_last_modified_and_incremental_queries_see_only_them() {
    let harness = Harness::with_attendees(2_000).await;
    let (_, page) = harness.get("/attendees", &[("limit", "5")]).await;
    let target = page["data"][3]["id"].as_str().expect("id").to_string();
    let before_change = chrono::Utc::now() - chrono::Duration::seconds(1);
    harness
        .control(
            reqwest::Method::POST,
            &format!("/attendees/{target}/cancel"),
            json!({}),
        )
        .await;
    harness
        .control(
            reqwest::Method::PATCH,
            &format!(
                "/attendees/{}",
                page["data"][1]["id"].as_str().unwrap_or("")
            ),
            json!({"contact": {"company": "Changed Inc."}}),
        )
        .await;
    let added = harness
        .control(
            reqwest::Method::POST,
            "/attendees",
            json!({"status": "Accepted"}),
        )
        .await;
    let deleted = page["data"][0]["id"].as_str().expect("id").to_string();
    harness
        .control(
            reqwest::Method::DELETE,
            &format!("/attendees/{deleted}"),
            json!({}),
        )
        .await;

    let since = before_change.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    let filter = format!("{} and lastModified ge '{since}'", harness.event_filter());
    let (pages, changed) = harness
        .list_all("/attendees", &[("filter", &filter), ("limit", "200")])
        .await;
    assert_eq!(pages.len(), 1);
    let ids: Vec<&str> = changed.iter().filter_map(|a| a["id"].as_str()).collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!(ids.contains(&target.as_str()));
    assert!(ids.contains(&added["id"].as_str().unwrap_or("")));
    assert!(
        changed
            .iter()
            .any(|a| a["contact"]["company"] == "Changed Inc.")
    );
    let (status, _) = harness.get(&format!("/attendees/{deleted}"), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, all) = harness.get("/attendees", &[("limit", "1")]).await;
    assert_eq!(all["paging"]["totalCount"], 2_000, "one added, one deleted");
}

#[tokio::test]
async fn the_same_seed_gives_the_same_data() {
    let first = Harness::start(SandboxConfig {
        attendees: 300,
        seed: 42,
        ..SandboxConfig::default()
    })
    .await;
    let second = Harness::start(SandboxConfig {
        attendees: 300,
        seed: 42,
        ..SandboxConfig::default()
    })
    .await;
    let other = Harness::start(SandboxConfig {
        attendees: 300,
        seed: 43,
        ..SandboxConfig::default()
    })
    .await;
    for path in [
        "/attendees",
        "/sessions",
        "/speakers",
        "/sessions/enrollment",
        "/events",
    ] {
        let (_, a) = first.list_all(path, &[("limit", "200")]).await;
        let (_, b) = second.list_all(path, &[("limit", "200")]).await;
        let (_, c) = other.list_all(path, &[("limit", "200")]).await;
        assert_eq!(a, b, "{path} differs for the same seed");
        assert_ne!(a, c, "{path} is the same for another seed");
    }
    assert_eq!(first.sandbox.event_code(), second.sandbox.event_code());
}

#[tokio::test]
async fn fault_knobs_each_do_what_they_say() {
    let harness = Harness::with_attendees(400).await;
    let set = |faults: Value| harness.control(reqwest::Method::PUT, "/faults", faults);

    set(json!({"serverErrorRate": 1.0})).await;
    let (status, body) = harness.get("/attendees", &[]).await;
    assert!(status.is_server_error(), "{status}");
    assert_eq!(body["code"], status.as_u16());

    set(json!({"latencyMs": 300})).await;
    let started = Instant::now();
    let (status, _) = harness.get("/attendees", &[("limit", "1")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300));

    set(json!({"trailingEmptyPage": true})).await;
    let (pages, records) = harness.list_all("/attendees", &[("limit", "200")]).await;
    assert_eq!(pages.len(), 3, "two full pages, then an empty one");
    assert_eq!(pages[2]["data"], json!([]));
    assert_eq!(records.len(), 400);

    set(json!({"blankTotalCount": true})).await;
    let (_, page) = harness.get("/attendees", &[]).await;
    assert!(page["paging"].get("totalCount").is_none());

    set(json!({"dropConnectionRate": 1.0})).await;
    let outcome = harness
        .http
        .get(harness.url("/attendees"))
        .bearer_auth(&harness.bearer)
        .send()
        .await;
    let failed = match outcome {
        Err(_) => true,
        Ok(response) => response.bytes().await.is_err(),
    };
    assert!(failed, "the connection is cut mid-response");

    set(json!({})).await;
    let calls = harness
        .control(reqwest::Method::GET, "/calls", Value::Null)
        .await;
    assert!(
        calls["byEndpoint"]["GET /ea/attendees"]
            .as_u64()
            .unwrap_or(0)
            >= 6
    );
}

#[tokio::test]
async fn travel_filters_follow_cvents_limits() {
    let harness = Harness::with_attendees(300).await;
    let event = harness.sandbox.event_id().to_string();
    let path = format!("/events/{event}/event-travel/air-requests");
    let (_, requests) = harness.list_all(&path, &[("limit", "200")]).await;
    assert!(!requests.is_empty());
    let id = requests[0]["attendee"]["id"]
        .as_str()
        .expect("attendee id")
        .to_string();
    let (status, page) = harness
        .get(&path, &[("filter", &format!("attendee.id eq '{id}'"))])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["data"].as_array().map(Vec::len), Some(1));
    let eighteen: Vec<String> = (0..18)
        .map(|_| format!("attendee.id eq '{}'", uuid::Uuid::new_v4()))
        .collect();
    let (status, _) = harness
        .get(&path, &[("filter", &eighteen.join(" or "))])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "at most 17 terms");
    let (status, _) = harness
        .get(
            &path,
            &[(
                "filter",
                &format!("attendee.id eq '{id}' and attendee.id ne 'x'"),
            )],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "only 'or' combines terms");
}

/// Seventeen `attendee.id` terms are the most a travel filter takes: the seventeenth is
/// accepted, the eighteenth refused with Cvent's error body; `after` keeps only items with a
/// request modified since.
#[tokio::test]
async fn travel_filters_take_seventeen_terms_and_after_keeps_recent_items() {
    let harness = Harness::with_attendees(600).await;
    let event = harness.sandbox.event_id().to_string();
    for kind in ["air-requests", "hotel-requests"] {
        let path = format!("/events/{event}/event-travel/{kind}");
        let (_, items) = harness.list_all(&path, &[("limit", "200")]).await;
        assert!(items.len() > 17, "{kind}: {} items", items.len());
        let ids: Vec<String> = items
            .iter()
            .filter_map(|item| item["attendee"]["id"].as_str().map(str::to_string))
            .collect();
        let terms = |n: usize| {
            ids[..n]
                .iter()
                .map(|id| format!("attendee.id eq '{id}'"))
                .collect::<Vec<_>>()
                .join(" or ")
        };
        let (status, page) = harness
            .get(&path, &[("filter", &terms(17)), ("limit", "200")])
            .await;
        assert_eq!(status, StatusCode::OK, "{kind}: 17 terms");
        assert_eq!(page["data"].as_array().map(Vec::len), Some(17), "{kind}");
        let (status, body) = harness.get(&path, &[("filter", &terms(18))]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{kind}: 18 terms");
        assert_eq!(body["code"], 400);
        assert_eq!(body["message"], "Bad Request");
        assert!(
            body["details"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("at most 17 terms")),
            "{body}"
        );
        let (status, _) = harness
            .get(
                &path,
                &[("filter", &format!("attendee.id co '{}'", ids[0]))],
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{kind}: only eq and ne");
        // Items whose newest request changed after the median time.
        let details = if kind == "air-requests" {
            "airRequestDetails"
        } else {
            "hotelRequestDetails"
        };
        let newest = |item: &Value| {
            item[details]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d["lastModified"].as_str().map(str::to_string))
                .max()
                .unwrap_or_default()
        };
        let mut times: Vec<String> = items.iter().map(newest).collect();
        times.sort();
        let middle = times[times.len() / 2].clone();
        let (_, recent) = harness
            .list_all(&path, &[("limit", "200"), ("after", middle.as_str())])
            .await;
        let expected = items.iter().filter(|item| newest(item) > middle).count();
        assert_eq!(recent.len(), expected, "{kind} after {middle}");
        assert!(recent.iter().all(|item| newest(item) > middle));
    }
}

#[tokio::test]
async fn asking_from_the_newest_modification_returns_exactly_the_records_at_it() {
    let harness = Harness::with_attendees(3_000).await;
    let (_, everyone) = harness.list_all("/attendees", &[("limit", "200")]).await;
    let newest = everyone
        .iter()
        .filter_map(|a| a["lastModified"].as_str())
        .max()
        .expect("timestamps")
        .to_string();
    let at_newest = everyone
        .iter()
        .filter(|a| a["lastModified"] == newest.as_str())
        .count();
    // Once the sandbox has found its newest generated records, the same query looks at those alone.
    for _ in 0..2 {
        let filter = format!("lastModified ge '{newest}'");
        let (_, records) = harness
            .list_all("/attendees", &[("filter", &filter), ("limit", "200")])
            .await;
        assert_eq!(records.len(), at_newest);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let (_, enrollments) = harness
        .list_all("/sessions/enrollment", &[("limit", "200")])
        .await;
    let newest = enrollments
        .iter()
        .filter_map(|e| e["lastModified"].as_str())
        .max()
        .expect("timestamps")
        .to_string();
    let expected = enrollments
        .iter()
        .filter(|e| e["lastModified"] == newest.as_str())
        .count();
    let filter = format!("lastModified ge '{newest}'");
    let (_, records) = harness
        .list_all(
            "/sessions/enrollment",
            &[("filter", &filter), ("limit", "200")],
        )
        .await;
    assert_eq!(records.len(), expected);
}

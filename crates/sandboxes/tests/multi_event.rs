//! Several live events on one Cvent REST sandbox account: each event's listings hold its own
//! attendees, changes land in the event they were made to (webhooks name it), and one token
//! store, limiter and quota serve them all.

use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use sandboxes::cvent_rest::{CventRestSandbox, EventPlan, SandboxConfig, Tier};
use serde_json::{Value, json};

struct Account {
    sandbox: CventRestSandbox,
    http: reqwest::Client,
    bearer: String,
}

impl Account {
    async fn start(tier: Tier) -> Account {
        let sandbox = CventRestSandbox::start(SandboxConfig {
            attendees: 120,
            more_events: vec![
                EventPlan {
                    attendees: 80,
                    starts_in_days: 3,
                    length_days: 2,
                },
                EventPlan {
                    attendees: 30,
                    starts_in_days: -1,
                    length_days: 1,
                },
            ],
            tier,
            ..SandboxConfig::default()
        })
        .await
        .expect("sandbox starts");
        let http = reqwest::Client::new();
        let response = http
            .post(format!("{}/oauth2/token", sandbox.base_url()))
            .basic_auth(sandbox.client_id(), Some(sandbox.client_secret()))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("token request");
        let body: Value = response.json().await.expect("token JSON");
        let bearer = body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string();
        Account {
            sandbox,
            http,
            bearer,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.sandbox.base_url()))
            .bearer_auth(&self.bearer);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Every record of a filtered listing, following page tokens; and the first totalCount.
    async fn filtered(&self, path: &str, filter: &str) -> (Vec<Value>, u64) {
        let (status, first) = self
            .call(
                Method::POST,
                &format!("{path}/filter?limit=37"),
                Some(json!({ "filter": filter })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{first}");
        let total = first["paging"]["totalCount"].as_u64().unwrap_or(0);
        let mut records = first["data"].as_array().cloned().unwrap_or_default();
        let mut next = first["paging"]["nextToken"].as_str().map(str::to_string);
        while let Some(token) = next {
            let (status, page) = self
                .call(Method::GET, &format!("{path}?token={token}"), None)
                .await;
            assert_eq!(status, StatusCode::OK, "{page}");
            records.extend(page["data"].as_array().cloned().unwrap_or_default());
            next = page["paging"]["nextToken"].as_str().map(str::to_string);
        }
        (records, total)
    }

    async fn control(&self, method: Method, path: &str, body: Value) -> Value {
        sandboxes::control(&self.http, &self.sandbox.control_url(), method, path, &body)
            .await
            .expect("control call")
    }
}

fn ids(records: &[Value]) -> HashSet<String> {
    records
        .iter()
        .map(|record| record["id"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn event_ids_of(records: &[Value]) -> HashSet<String> {
    records
        .iter()
        .map(|record| {
            record["event"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn each_event_lists_its_own_attendees_sessions_enrollments_and_travel() {
    let account = Account::start(Tier::Unlimited).await;
    let codes = account.sandbox.event_codes();
    let event_ids = account.sandbox.event_ids();
    assert_eq!(codes.len(), 3);
    assert_eq!(
        codes[0],
        account.sandbox.event_code(),
        "the main event first"
    );
    assert_eq!(event_ids[0], account.sandbox.event_id());
    assert_eq!(
        codes.iter().collect::<HashSet<_>>().len(),
        3,
        "codes differ"
    );

    let (status, events) = account.call(Method::GET, "/events?limit=200", None).await;
    assert_eq!(status, StatusCode::OK);
    let listed: HashSet<String> = events["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|event| event["code"].as_str().unwrap_or_default().to_string())
        .collect();
    for code in &codes {
        assert!(listed.contains(code), "GET /events lists {code}");
    }
    let (further, _) = account
        .filtered("/events", &format!("code eq '{}'", codes[1]))
        .await;
    assert_eq!(ids(&further), HashSet::from([event_ids[1].clone()]));

    let mut seen = HashSet::new();
    for (event_id, expected) in event_ids.iter().zip([120_u64, 80, 30]) {
        let filter = format!("event.id eq '{event_id}'");
        let (attendees, total) = account.filtered("/attendees", &filter).await;
        assert_eq!(attendees.len() as u64, expected, "attendees of {event_id}");
        assert_eq!(total, expected, "totalCount of {event_id}");
        assert_eq!(event_ids_of(&attendees), HashSet::from([event_id.clone()]));
        let attendee_ids = ids(&attendees);
        assert!(attendee_ids.is_disjoint(&seen), "no attendee in two events");
        seen.extend(attendee_ids.iter().cloned());

        let (sessions, _) = account.filtered("/sessions", &filter).await;
        assert!(!sessions.is_empty(), "sessions of {event_id}");
        assert_eq!(event_ids_of(&sessions), HashSet::from([event_id.clone()]));
        let session_ids = ids(&sessions);

        let (enrollments, _) = account.filtered("/sessions/enrollment", &filter).await;
        assert!(!enrollments.is_empty(), "enrollments of {event_id}");
        for enrollment in &enrollments {
            assert_eq!(enrollment["event"]["id"], json!(event_id));
            let attendee = enrollment["attendee"]["id"].as_str().unwrap_or_default();
            assert!(attendee_ids.contains(attendee), "{enrollment}");
            let session = enrollment["session"]["id"].as_str().unwrap_or_default();
            assert!(session_ids.contains(session), "{enrollment}");
        }

        let (status, hotels) = account
            .call(
                Method::GET,
                &format!("/events/{event_id}/event-travel/hotel-requests?limit=200"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{hotels}");
        for request in hotels["data"].as_array().into_iter().flatten() {
            let attendee = request["attendee"]["id"].as_str().unwrap_or_default();
            assert!(attendee_ids.contains(attendee), "{request}");
        }

        let (status, rooms) = account
            .call(
                Method::GET,
                &format!("/events/{event_id}/session-locations"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{rooms}");
        assert!(!rooms["data"].as_array().is_none_or(Vec::is_empty));
    }

    let (everyone, total) = account
        .filtered("/attendees", "lastModified ge '2000-01-01T00:00:00Z'")
        .await;
    assert_eq!(total, 230, "the account lists every event's attendees");
    assert_eq!(ids(&everyone), seen);

    let further_attendee = account
        .filtered("/attendees", &format!("event.id eq '{}'", event_ids[2]))
        .await
        .0[0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (status, single) = account
        .call(Method::GET, &format!("/attendees/{further_attendee}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(single["event"]["id"], json!(event_ids[2]));

    let info = account.control(Method::GET, "/info", json!(null)).await;
    assert_eq!(info["events"][1]["code"], json!(codes[1]));
    assert_eq!(info["events"][1]["attendees"], json!(80));
}

#[tokio::test]
async fn a_change_to_one_event_shows_in_that_events_incremental_listing_only() {
    let account = Account::start(Tier::Unlimited).await;
    let codes = account.sandbox.event_codes();
    let event_ids = account.sandbox.event_ids();
    let before = account.control(Method::GET, "/info", json!(null)).await["now"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    account
        .control(Method::PUT, "/clock", json!({"advanceSeconds": 5}))
        .await;
    let second = format!("event.id eq '{}'", event_ids[1]);
    let (attendees, _) = account.filtered("/attendees", &second).await;
    let accepted = attendees
        .iter()
        .find(|a| a["status"] == "Accepted")
        .expect("an accepted attendee in the second event");
    let changed = accepted["id"].as_str().unwrap_or_default().to_string();
    account
        .control(
            Method::POST,
            &format!("/attendees/{changed}/cancel"),
            json!(null),
        )
        .await;
    let added = account
        .control(
            Method::POST,
            &format!("/attendees?event={}", codes[1]),
            json!({}),
        )
        .await;
    assert_eq!(added["event"]["id"], json!(event_ids[1]));
    let added = added["id"].as_str().unwrap_or_default().to_string();

    let since = |event: &str| format!("event.id eq '{event}' and lastModified ge '{before}'");
    let (second_changes, _) = account.filtered("/attendees", &since(&event_ids[1])).await;
    assert_eq!(
        ids(&second_changes),
        HashSet::from([changed.clone(), added.clone()])
    );
    for event in [&event_ids[0], &event_ids[2]] {
        let (changes, total) = account.filtered("/attendees", &since(event)).await;
        assert!(changes.is_empty(), "{event}: {changes:?}");
        assert_eq!(total, 0);
    }
    let (second_all, total) = account.filtered("/attendees", &second).await;
    assert_eq!(total, 81, "the added attendee joins the second event");
    assert!(ids(&second_all).contains(&added));

    let unknown = sandboxes::control(
        &account.http,
        &account.sandbox.control_url(),
        Method::POST,
        "/attendees?event=NOSUCHCODE",
        &json!({}),
    )
    .await;
    assert!(unknown.is_err_and(|e| e.contains("404")));
}

#[tokio::test]
async fn every_event_spends_the_same_quota() {
    let account = Account::start(Tier::Standard).await;
    let event_ids = account.sandbox.event_ids();
    let used = |usage: &Value| usage["data"][0]["used"].as_u64().unwrap_or(u64::MAX);
    let (_, usage) = account.call(Method::GET, "/usage", None).await;
    let start = used(&usage);
    // Four listings of each further event: with both usage calls, within the Standard burst.
    for event_id in &event_ids[1..] {
        for _ in 0..4 {
            let filter = format!("event.id eq '{event_id}'");
            let (status, _) = account
                .call(
                    Method::POST,
                    "/attendees/filter?limit=5",
                    Some(json!({ "filter": filter })),
                )
                .await;
            assert_eq!(status, StatusCode::OK);
        }
    }
    let (_, usage) = account.call(Method::GET, "/usage", None).await;
    assert_eq!(used(&usage), start + 9, "eight listings and one usage call");
    // One quota: the last call of the day goes to one event, and the next event is refused.
    // (First a second for the per-second rate to refill, so that only the quota can refuse.)
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    account
        .control(
            Method::PUT,
            "/usage",
            json!({"used": Tier::Standard.daily_quota() - 1}),
        )
        .await;
    let locations = |event: &str| format!("/events/{event}/session-locations");
    let (status, _) = account
        .call(Method::GET, &locations(&event_ids[1]), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = account
        .call(Method::GET, &locations(&event_ids[2]), None)
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["message"], json!("Limit Exceeded"));
}

#[tokio::test]
async fn webhooks_name_the_event_the_change_was_made_to() {
    let account = Account::start(Tier::Unlimited).await;
    let event_ids = account.sandbox.event_ids();
    // A receiver that answers Cvent's validation GET and passes every POSTed envelope on.
    let (sender, mut received) = tokio::sync::mpsc::unbounded_channel::<Value>();
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::get(|| async { "ok" }).post(move |axum::Json(body): axum::Json<Value>| {
            let sender = sender.clone();
            async move {
                let _ = sender.send(body);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("receiver binds");
    let hook = format!("http://{}/hook", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, receiver).await;
    });
    account
        .control(
            Method::PUT,
            "/webhooks",
            json!({"url": hook, "token": "hook-token"}),
        )
        .await;

    let third = format!("event.id eq '{}'", event_ids[2]);
    let (attendees, _) = account.filtered("/attendees", &third).await;
    let accepted = attendees
        .iter()
        .find(|a| a["status"] == "Accepted")
        .expect("an accepted attendee in the third event");
    let id = accepted["id"].as_str().unwrap_or_default();
    account
        .control(Method::POST, &format!("/attendees/{id}/cancel"), json!({}))
        .await;
    let envelope = tokio::time::timeout(std::time::Duration::from_secs(10), received.recv())
        .await
        .expect("a webhook within ten seconds")
        .expect("an envelope");
    assert_eq!(envelope["eventType"], json!("InviteeOrGuestCancelled"));
    assert_eq!(
        envelope["message"][0]["eventStub"],
        json!(event_ids[2].to_uppercase())
    );
    assert_eq!(
        envelope["message"][0]["inviteeStub"],
        json!(id.to_uppercase())
    );
}

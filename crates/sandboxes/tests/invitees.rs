//! Invitees at the Cvent REST sandbox over real HTTP: contacts created and matched by email,
//! attendees invited or registered with one 207 item each, and the registration page their
//! `webLinks` open, whose Submit registers once, shows in incremental listings and sends one
//! webhook.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use sandboxes::cvent_rest::{CventRestSandbox, EventPlan, SandboxConfig};
use serde_json::{Value, json};
use tokio::sync::mpsc;

struct Harness {
    sandbox: CventRestSandbox,
    http: reqwest::Client,
    bearer: String,
}

impl Harness {
    async fn start() -> Harness {
        Harness::with(SandboxConfig {
            attendees: 200,
            ..SandboxConfig::default()
        })
        .await
    }

    async fn with(config: SandboxConfig) -> Harness {
        let sandbox = CventRestSandbox::start(config)
            .await
            .expect("sandbox starts");
        let mut harness = Harness {
            sandbox,
            http: reqwest::Client::new(),
            bearer: String::new(),
        };
        harness.bearer = harness.token(None).await;
        harness
    }

    async fn token(&self, scope: Option<&str>) -> String {
        let mut form = vec![("grant_type", "client_credentials")];
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
        body["access_token"].as_str().expect("a token").to_string()
    }

    /// An `/ea` call with the harness's token.
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.call_as(&self.bearer, method, path, body).await
    }

    async fn call_as(
        &self,
        bearer: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.sandbox.base_url()))
            .bearer_auth(bearer);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn control(&self, method: Method, path: &str, body: Value) -> Value {
        sandboxes::control(&self.http, &self.sandbox.control_url(), method, path, &body)
            .await
            .expect("control call")
    }

    /// Creates one contact and returns it as Cvent answered.
    async fn create_contact(&self, contact: Value) -> Value {
        let (status, items) = self
            .call(Method::POST, "/contacts", Some(json!([contact])))
            .await;
        assert_eq!(status, StatusCode::MULTI_STATUS, "{items}");
        assert_eq!(items[0]["status"], 201, "{items}");
        items[0]["data"].clone()
    }

    /// Invites a contact to the main event and returns the new attendee's id.
    async fn invite(&self, contact_id: &str) -> String {
        let invite = json!([{
            "event": {"id": self.sandbox.event_id()},
            "contact": {"id": contact_id},
            "status": "No Response",
        }]);
        let (status, items) = self.call(Method::POST, "/attendees", Some(invite)).await;
        assert_eq!(status, StatusCode::MULTI_STATUS, "{items}");
        assert_eq!(items[0]["status"], 201, "{items}");
        items[0]["data"]["id"]
            .as_str()
            .expect("the new attendee's id")
            .to_string()
    }

    /// A new person, invited: their attendee record.
    async fn new_invitee(&self, email: &str) -> Value {
        let contact = self
            .create_contact(json!({
                "firstName": "Ada",
                "lastName": "Lovelace",
                "email": email,
                "company": "Analytical Engines & Co",
                "title": "Countess",
            }))
            .await;
        let id = self
            .invite(contact["id"].as_str().expect("contact id"))
            .await;
        let (status, attendee) = self
            .call(Method::GET, &format!("/attendees/{id}"), None)
            .await;
        assert_eq!(status, StatusCode::OK);
        attendee
    }

    async fn attendee(&self, id: &str) -> Value {
        let (status, attendee) = self
            .call(Method::GET, &format!("/attendees/{id}"), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{attendee}");
        attendee
    }

    /// The main event's attendees matching `filter` besides the event.
    async fn listed(&self, filter: &str) -> Vec<Value> {
        let filter = format!("event.id eq '{}' and {filter}", self.sandbox.event_id());
        let (status, page) = self
            .call(
                Method::POST,
                "/attendees/filter?limit=200",
                Some(json!({ "filter": filter })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        page["data"].as_array().cloned().unwrap_or_default()
    }

    /// The sandbox clock, a minute on: what happens next is after it.
    async fn a_minute_later(&self) -> String {
        self.control(Method::PUT, "/clock", json!({"advanceSeconds": 60}))
            .await["now"]
            .as_str()
            .expect("the sandbox's now")
            .to_string()
    }

    async fn page(
        &self,
        method: Method,
        link: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, String) {
        let mut request = self.http.request(method.clone(), link);
        if method == Method::POST {
            request = request.form(form);
        }
        let response = request.send().await.expect("page request");
        let status = response.status();
        let html_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|kind| kind.starts_with("text/html"));
        assert!(html_type, "{link} answers HTML");
        (status, response.text().await.unwrap_or_default())
    }
}

fn accept_link(attendee: &Value) -> String {
    attendee["webLinks"]["acceptRegistration"]
        .as_str()
        .expect("an acceptRegistration link")
        .to_string()
}

/// A receiver of the sandbox's webhooks: it answers Cvent's validation GET and passes on every
/// envelope POSTed to it.
async fn webhook_receiver(harness: &Harness) -> mpsc::UnboundedReceiver<Value> {
    let (sender, received) = mpsc::unbounded_channel::<Value>();
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
    harness
        .control(
            Method::PUT,
            "/webhooks",
            json!({"url": hook, "token": "hook-token"}),
        )
        .await;
    received
}

#[tokio::test]
async fn an_invitee_carries_the_contact_and_links_to_the_registration_page() {
    let harness = Harness::start().await;
    let attendee = harness.new_invitee("ada@example.org").await;
    assert_eq!(attendee["status"], "No Response");
    assert_eq!(attendee["invitedBy"], "API Invited");
    assert_eq!(attendee["event"]["id"], harness.sandbox.event_id());
    let contact = &attendee["contact"];
    assert_eq!(contact["firstName"], "Ada");
    assert_eq!(contact["lastName"], "Lovelace");
    assert_eq!(contact["email"], "ada@example.org");
    assert_eq!(contact["company"], "Analytical Engines & Co");
    assert_eq!(contact["title"], "Countess");
    assert!(attendee.get("registeredAt").is_none(), "not registered yet");

    let origin = format!("http://{}", harness.sandbox.address());
    let accept = accept_link(&attendee);
    let decline = attendee["webLinks"]["declineRegistration"]
        .as_str()
        .expect("a declineRegistration link");
    let code = harness.sandbox.event_code();
    let token = accept
        .strip_prefix(&format!("{origin}/r/{code}?i="))
        .expect("the link is the sandbox's page for the event");
    assert_eq!(decline, format!("{origin}/r/{code}/decline?i={token}"));
    let id = attendee["id"].as_str().expect("id");
    for hidden in [id.to_string(), id.replace('-', "")] {
        assert!(
            !token.to_ascii_lowercase().contains(&hidden[..8]),
            "{token} shows the attendee id"
        );
    }

    // The attendee is listed like any other, links included.
    let listed = harness.listed("contact.email eq 'ADA@example.org'").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["webLinks"], attendee["webLinks"]);
}

#[tokio::test]
async fn contacts_are_matched_by_email_and_upserts_reach_their_attendees() {
    let harness = Harness::start().await;
    let attendee = harness.new_invitee("grace@example.org").await;
    let contact_id = attendee["contact"]["id"].as_str().expect("contact id");

    let again = json!([{"firstName": "Grace", "lastName": "Hopper", "email": "GRACE@example.org"}]);
    let (status, items) = harness
        .call(Method::POST, "/contacts", Some(again.clone()))
        .await;
    assert_eq!(status, StatusCode::MULTI_STATUS);
    assert_eq!(items[0]["status"], 409, "{items}");
    assert_eq!(items[0]["data"]["code"], 409);

    let (status, items) = harness
        .call(Method::POST, "/contacts?upsert=true", Some(again))
        .await;
    assert_eq!(status, StatusCode::MULTI_STATUS);
    assert_eq!(items[0]["status"], 200, "{items}");
    assert_eq!(items[0]["data"]["id"], contact_id, "the same contact");
    assert_eq!(items[0]["data"]["firstName"], "Grace");
    assert_eq!(
        items[0]["data"]["title"], "Countess",
        "fields not sent stay"
    );

    let id = attendee["id"].as_str().expect("id");
    let updated = harness.attendee(id).await;
    assert_eq!(updated["contact"]["firstName"], "Grace");
    assert_eq!(
        updated["attendeeLastModified"], attendee["attendeeLastModified"],
        "a contact change is not an attendee change"
    );

    // A generated attendee's email matches their contact too.
    let generated = harness.listed("status eq 'Accepted'").await;
    let email = generated[0]["contact"]["email"].as_str().expect("email");
    let (_, items) = harness
        .call(
            Method::POST,
            "/contacts?upsert=true",
            Some(json!([{ "email": email }])),
        )
        .await;
    assert_eq!(items[0]["status"], 200, "{items}");
    assert_eq!(items[0]["data"]["id"], generated[0]["contact"]["id"]);

    let (status, _) = harness
        .call(Method::POST, "/contacts", Some(json!([{"email": "x@y"}])))
        .await;
    assert_eq!(
        status,
        StatusCode::MULTI_STATUS,
        "a bad contact is its item's refusal"
    );
    let eleven: Vec<Value> = (0..11)
        .map(|n| json!({"email": format!("person{n}@example.org")}))
        .collect();
    let (status, body) = harness
        .call(Method::POST, "/contacts", Some(json!(eleven)))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "ten contacts a call at most"
    );
    assert_eq!(body["code"], 400);
}

#[tokio::test]
async fn each_invitation_fails_or_succeeds_alone() {
    let harness = Harness::with(SandboxConfig {
        attendees: 200,
        more_events: vec![EventPlan {
            attendees: 50,
            starts_in_days: 10,
            length_days: 1,
        }],
        ..SandboxConfig::default()
    })
    .await;
    let event = harness.sandbox.event_id().to_string();
    let further = harness.sandbox.event_ids()[1].clone();
    let contact = harness
        .create_contact(
            json!({"firstName": "Alan", "lastName": "Turing", "email": "alan@example.org"}),
        )
        .await;
    let contact_id = contact["id"].as_str().expect("contact id");
    let generated = harness.listed("status eq 'Accepted'").await;
    let generated_contact = generated[0]["contact"]["id"].as_str().expect("contact id");
    let items = json!([
        {"contact": {"id": contact_id}},
        {"event": {"id": "00000000-0000-4000-8000-000000000000"}, "contact": {"id": contact_id}},
        {"event": {"id": event}, "contact": {"id": "00000000-0000-4000-8000-000000000001"}},
        {"event": {"id": event}},
        {"event": {"id": event}, "contact": {"id": contact_id}, "status": "Declined"},
        {"event": {"id": event}, "contact": {"id": contact_id}},
        {"event": {"id": event}, "contact": {"id": contact_id}},
        {"event": {"id": event}, "contact": {"id": generated_contact}},
        {"event": {"id": further}, "contact": {"id": generated_contact}},
    ]);
    let (status, answers) = harness.call(Method::POST, "/attendees", Some(items)).await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{answers}");
    let statuses: Vec<u64> = answers
        .as_array()
        .expect("one answer per item")
        .iter()
        .map(|answer| answer["status"].as_u64().unwrap_or_default())
        .collect();
    assert_eq!(statuses, [400, 404, 404, 400, 400, 201, 409, 409, 201]);
    assert_eq!(answers[0]["data"]["target"], "event.id");
    assert_eq!(answers[0]["message"], "event.id is required");
    assert_eq!(answers[3]["data"]["target"], "contact.id");
    assert_eq!(answers[6]["data"]["code"], 409);
    assert_eq!(answers[6]["request"]["data"]["contact"]["id"], contact_id);
    // A generated person invited to another event of the account is that event's attendee.
    let invited = answers[8]["data"]["id"].as_str().expect("id");
    let attendee = harness.attendee(invited).await;
    assert_eq!(attendee["event"]["id"], further);
    assert_eq!(
        attendee["contact"]["email"],
        generated[0]["contact"]["email"]
    );

    // Per-call limits and malformed bodies fail the call.
    let many: Vec<Value> = (0..101)
        .map(|_| json!({"event": {"id": event}, "contact": {"id": contact_id}}))
        .collect();
    for body in [json!(many), json!([]), json!({"event": {"id": event}})] {
        let (status, answer) = harness.call(Method::POST, "/attendees", Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer["message"], "Bad Request");
    }
}

#[tokio::test]
async fn registering_needs_an_admission_item_and_one_attendee_a_call() {
    let harness = Harness::start().await;
    let event = harness.sandbox.event_id().to_string();
    let contact = harness
        .create_contact(
            json!({"firstName": "Emmy", "lastName": "Noether", "email": "emmy@example.org"}),
        )
        .await;
    let contact_id = contact["id"].as_str().expect("contact id");
    let register = |admission: Option<&str>| {
        let mut item =
            json!({"event": {"id": event}, "contact": {"id": contact_id}, "status": "Accepted"});
        if let Some(admission) = admission {
            item["admissionItem"] = json!({ "id": admission });
        }
        json!([item])
    };
    let (_, answers) = harness
        .call(Method::POST, "/attendees", Some(register(None)))
        .await;
    assert_eq!(answers[0]["status"], 400);
    assert_eq!(answers[0]["data"]["target"], "admissionItem.id");

    let two = json!([register(None)[0], {"event": {"id": event}, "contact": {"id": contact_id}}]);
    let (status, _) = harness.call(Method::POST, "/attendees", Some(two)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a registration goes alone");

    let registered = harness.listed("status eq 'Accepted'").await;
    let admission = registered[0]["admissionItem"]["id"].as_str().expect("id");
    let (_, answers) = harness
        .call(Method::POST, "/attendees", Some(register(Some(admission))))
        .await;
    assert_eq!(answers[0]["status"], 201, "{answers}");
    let attendee = harness
        .attendee(answers[0]["data"]["id"].as_str().expect("id"))
        .await;
    assert_eq!(attendee["status"], "Accepted");
    assert_eq!(attendee["responseMethod"], "API-Responded");
    assert_eq!(attendee["admissionItem"]["id"], admission);
    assert!(attendee["registeredAt"].is_string());
    assert!(attendee["confirmationNumber"].is_string());
}

#[tokio::test]
async fn submitting_the_page_registers_once_for_listings_and_webhooks() {
    let harness = Harness::start().await;
    let mut webhooks = webhook_receiver(&harness).await;
    let attendee = harness.new_invitee("hedy@example.org").await;
    let id = attendee["id"].as_str().expect("id").to_string();
    let link = accept_link(&attendee);

    let (status, html) = harness.page(Method::GET, &link, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let (_, event) = harness
        .call(
            Method::GET,
            &format!("/events/{}", harness.sandbox.event_id()),
            None,
        )
        .await;
    let title = event["title"].as_str().expect("event title");
    assert!(html.contains(&format!("<title>{title}</title>")), "{html}");
    for value in [
        "Ada",
        "Lovelace",
        "hedy@example.org",
        "Analytical Engines &amp; Co",
        "Countess",
    ] {
        assert!(
            html.contains(&format!("value=\"{value}\"")),
            "{value} in {html}"
        );
    }
    assert!(html.contains("id=\"submit\""), "{html}");
    assert!(html.contains(&format!("action=\"{link}\"")), "{html}");

    let since = harness.a_minute_later().await;
    let changed = format!("lastModified ge '{since}'");
    assert!(
        harness.listed(&changed).await.is_empty(),
        "nothing changed yet"
    );

    let (status, html) = harness.page(Method::POST, &link, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"confirmation\""), "{html}");

    let registered = harness.attendee(&id).await;
    assert_eq!(registered["status"], "Accepted");
    assert_eq!(registered["responseMethod"], "Self-Responded");
    for stamp in [
        "registeredAt",
        "registrationLastModified",
        "attendeeLastModified",
        "lastModified",
    ] {
        let at = registered[stamp].as_str().unwrap_or_default();
        assert!(at >= since.as_str(), "{stamp} {at} is before {since}");
    }
    assert!(registered["confirmationNumber"].is_string());
    assert!(registered["admissionItem"]["id"].is_string());
    assert_eq!(
        registered["contact"]["firstName"], "Ada",
        "the prefilled values stay"
    );

    for filter in [
        changed.clone(),
        format!("registrationLastModified ge '{since}'"),
        format!("attendeeLastModified ge '{since}'"),
    ] {
        let listed = harness.listed(&filter).await;
        let ids: Vec<&str> = listed.iter().filter_map(|a| a["id"].as_str()).collect();
        assert_eq!(ids, [id.as_str()], "{filter}");
    }

    let envelope = tokio::time::timeout(Duration::from_secs(10), webhooks.recv())
        .await
        .expect("a webhook within ten seconds")
        .expect("an envelope");
    assert_eq!(envelope["eventType"], "InviteeOrGuestAccepted");
    assert_eq!(envelope["message"][0]["inviteeStub"], id.to_uppercase());
    assert_eq!(envelope["message"][0]["responseMethod"], "Self-Responded");

    // A second Submit changes nothing and sends nothing.
    let (status, html) = harness.page(Method::POST, &link, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"confirmation\""), "{html}");
    assert_eq!(harness.attendee(&id).await, registered);
    let second = tokio::time::timeout(Duration::from_secs(1), webhooks.recv()).await;
    assert!(second.is_err(), "a second webhook: {second:?}");
    let hooks = harness.control(Method::GET, "/webhooks", json!({})).await;
    assert_eq!(hooks["delivered"], 1);
}

#[tokio::test]
async fn edits_on_the_form_are_saved_to_the_contact() {
    let harness = Harness::start().await;
    let attendee = harness.new_invitee("mary@example.org").await;
    let link = accept_link(&attendee);
    let (status, html) = harness
        .page(Method::POST, &link, &[("firstName", " ")])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("id=\"error\""), "{html}");
    let id = attendee["id"].as_str().expect("id");
    assert_eq!(harness.attendee(id).await["status"], "No Response");

    let form = [
        ("firstName", "Mary"),
        ("lastName", "Somerville"),
        ("email", "someone-else@example.org"),
        ("company", ""),
        ("title", "Polymath"),
    ];
    let (status, _) = harness.page(Method::POST, &link, &form).await;
    assert_eq!(status, StatusCode::OK);
    let registered = harness.attendee(id).await;
    assert_eq!(registered["status"], "Accepted");
    let contact = &registered["contact"];
    assert_eq!(contact["firstName"], "Mary");
    assert_eq!(contact["lastName"], "Somerville");
    assert_eq!(
        contact["email"], "mary@example.org",
        "the email is not edited"
    );
    assert!(
        contact.get("company").is_none(),
        "an emptied field is cleared"
    );
    assert_eq!(contact["title"], "Polymath");
}

#[tokio::test]
async fn the_decline_link_declines() {
    let harness = Harness::start().await;
    let attendee = harness.new_invitee("ida@example.org").await;
    let link = attendee["webLinks"]["declineRegistration"]
        .as_str()
        .expect("a decline link")
        .to_string();
    let (status, html) = harness.page(Method::GET, &link, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"submit\""), "{html}");
    let (status, html) = harness.page(Method::POST, &link, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"confirmation\""), "{html}");
    let declined = harness.attendee(attendee["id"].as_str().expect("id")).await;
    assert_eq!(declined["status"], "Declined");
    assert_eq!(declined["responseMethod"], "Self-Responded");
}

#[tokio::test]
async fn unknown_or_tampered_links_are_not_found() {
    let harness = Harness::with(SandboxConfig {
        attendees: 100,
        more_events: vec![EventPlan {
            attendees: 20,
            starts_in_days: 5,
            length_days: 1,
        }],
        ..SandboxConfig::default()
    })
    .await;
    let attendee = harness.new_invitee("joan@example.org").await;
    let link = accept_link(&attendee);
    let (token_start, token) = link.split_at(link.len() - 22);
    let mut tampered: Vec<char> = token.chars().collect();
    tampered[5] = if tampered[5] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    let code = harness.sandbox.event_code();
    let other_code = &harness.sandbox.event_codes()[1];
    let origin = format!("http://{}", harness.sandbox.address());
    for wrong in [
        format!("{token_start}{tampered}"),
        link.replace(&format!("/r/{code}?"), &format!("/r/{other_code}?")),
        format!("{origin}/r/{code}"),
        format!("{origin}/r/{code}?i="),
    ] {
        for method in [Method::GET, Method::POST] {
            let (status, html) = harness.page(method.clone(), &wrong, &[]).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {wrong}");
            assert!(html.contains("id=\"not-found\""), "{html}");
        }
    }
    let id = attendee["id"].as_str().expect("id");
    assert_eq!(harness.attendee(id).await["status"], "No Response");
}

#[tokio::test]
async fn writes_need_their_scopes() {
    let harness = Harness::start().await;
    let reader = harness
        .token(Some("event/attendees:read event/contacts:read"))
        .await;
    for path in ["/attendees", "/contacts"] {
        let (status, body) = harness
            .call_as(&reader, Method::POST, path, Some(json!([])))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(body, json!({"code": 403, "message": "Access Forbidden"}));
    }
}

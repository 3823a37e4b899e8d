//! Conformance of the Cvent REST sandbox to Cvent's official OpenAPI document.
//!
//! The first group of tests checks the validator itself on hand-written bodies; the rest start a
//! sandbox, make real HTTP calls and validate every body against the schema the document declares
//! for that (path, method, status). The document lives outside the project (see
//! `support/openapi.rs`); when it is absent every test says so and passes.

#[path = "support/openapi.rs"]
mod openapi;

use std::fmt::Display;

use openapi::OpenApi;
use reqwest::{Method, StatusCode};
use sandboxes::cvent_rest::{CventRestSandbox, SandboxConfig};
use serde_json::{Value, json};

/// How many validation errors a failure message shows before summarising the rest.
const ERRORS_SHOWN: usize = 25;

// ---------------------------------------------------------------------------------------------
// The validator, on hand-written bodies.
// ---------------------------------------------------------------------------------------------

/// A small attendee page in Cvent's documented shape (fields from the spec's own examples).
fn attendee_page() -> Value {
    json!({
        "paging": {
            "currentToken": "90c5f062-0000-4000-8000-000000000001",
            "nextToken": "3b2359a7-0000-4000-8000-000000000002",
            "limit": 2,
            "totalCount": 3,
            "_links": {
                "self": { "href": "?token=90c5f062-0000-4000-8000-000000000001" },
                "next": { "href": "?token=3b2359a7-0000-4000-8000-000000000002" }
            }
        },
        "data": [
            {
                "id": "0a955598-376e-43d4-a796-91d6d5f41e3f",
                "event": { "id": "ea66a709-2a93-4fa0-8b83-cf4f62df9dc3" },
                "confirmationNumber": "VNNDLJ6DKVK",
                "contact": {
                    "id": "06da38f9-12da-4cb6-a581-7a5954f8e0e2",
                    "firstName": "Henry",
                    "lastName": "Potterfield",
                    "email": "h.potterfield@test.com",
                    "company": "Cvent Inc.",
                    "optOut": { "optedOut": false },
                    "deleted": false
                },
                "checkedIn": false,
                "guest": false,
                "status": "Accepted",
                "registeredAt": "2018-01-13T02:00:00Z",
                "invitedBy": "Planner-Invited",
                "responseMethod": "Self-Responded",
                "visibility": "Private",
                "created": "2017-01-02T02:00:00Z",
                "lastModified": "2019-02-12T03:00:00Z"
            },
            {
                "id": "1ffa56d9-9f60-4b8c-8b3b-3451de21293c",
                "event": { "id": "ea66a709-2a93-4fa0-8b83-cf4f62df9dc3" },
                "status": "Cancelled"
            }
        ]
    })
}

fn errors_of(result: Result<(), Vec<String>>) -> Vec<String> {
    result.err().unwrap_or_default()
}

#[test]
fn validator_accepts_a_valid_attendee_page() {
    let Some(spec) = openapi::spec_or_skip() else {
        return;
    };
    let result = spec.validate("/attendees", "GET", 200, &attendee_page());
    assert!(result.is_ok(), "{}", describe(&errors_of(result)));
}

#[test]
fn validator_rejects_a_misspelt_enum_value() {
    let Some(spec) = openapi::spec_or_skip() else {
        return;
    };
    let mut page = attendee_page();
    page["data"][1]["status"] = json!("Canceled");
    let errors = errors_of(spec.validate("/attendees", "GET", 200, &page));
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("/data/1/status:") && e.contains("Canceled")),
        "{errors:#?}"
    );
}

#[test]
fn validator_rejects_a_missing_required_field() {
    let Some(spec) = openapi::spec_or_skip() else {
        return;
    };
    let mut page = attendee_page();
    page["paging"].as_object_mut().unwrap().remove("_links");
    let errors = errors_of(spec.validate("/attendees", "GET", 200, &page));
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("/paging:") && e.contains("_links")),
        "{errors:#?}"
    );
}

#[test]
fn validator_rejects_a_wrong_type() {
    let Some(spec) = openapi::spec_or_skip() else {
        return;
    };
    let mut page = attendee_page();
    page["data"][0]["checkedIn"] = json!("yes");
    page["paging"]["totalCount"] = json!("3");
    let errors = errors_of(spec.validate("/attendees", "GET", 200, &page));
    assert!(
        errors.iter().any(|e| e.starts_with("/data/0/checkedIn:")),
        "{errors:#?}"
    );
    assert!(
        errors.iter().any(|e| e.starts_with("/paging/totalCount:")),
        "{errors:#?}"
    );
}

#[test]
fn validator_rejects_null_where_not_nullable() {
    let Some(spec) = openapi::spec_or_skip() else {
        return;
    };
    let mut page = attendee_page();
    page["data"][0]["confirmationNumber"] = Value::Null;
    let errors = errors_of(spec.validate("/attendees", "GET", 200, &page));
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("/data/0/confirmationNumber:")),
        "{errors:#?}"
    );
}

#[test]
fn validator_checks_uuid_and_zoned_date_time_formats_but_not_email() {
    let Some(spec) = openapi::spec_or_skip() else {
        return;
    };
    let mut page = attendee_page();
    page["data"][0]["registeredAt"] = json!("2018-01-13T02:00:00.000+02:00");
    page["data"][0]["contact"]["email"] = json!("not-an-address");
    assert!(spec.validate("/attendees", "GET", 200, &page).is_ok());

    // A date-time without its zone is what Cvent's TypeScript SDK refuses.
    for unzoned in ["2018-01-13T02:00:00", "2018-01-13", "13/01/2018"] {
        page["data"][0]["registeredAt"] = json!(unzoned);
        let errors = errors_of(spec.validate("/attendees", "GET", 200, &page));
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with("/data/0/registeredAt:") && e.contains("date-time")),
            "{unzoned}: {errors:#?}"
        );
    }
    page["data"][0]["registeredAt"] = json!("2018-01-13T02:00:00Z");

    page["data"][1]["id"] = json!("1ffa56d99f604b8c8b3b3451de21293c");
    let errors = errors_of(spec.validate("/attendees", "GET", 200, &page));
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("/data/1/id:") && e.contains("uuid")),
        "{errors:#?}"
    );
}

#[test]
fn validator_checks_error_bodies() {
    let Some(spec) = openapi::spec_or_skip() else {
        return;
    };
    let good = json!({ "code": 404, "message": "Not found" });
    assert!(spec.validate("/attendees/{id}", "GET", 404, &good).is_ok());
    let errors = errors_of(spec.validate(
        "/attendees/{id}",
        "GET",
        404,
        &json!({ "error": "not_found" }),
    ));
    assert!(errors.iter().any(|e| e.contains("\"code\"")), "{errors:#?}");
    assert!(
        errors.iter().any(|e| e.contains("\"message\"")),
        "{errors:#?}"
    );
}

#[test]
fn validator_neutralises_required_entries_naming_no_property() {
    let Some(spec) = openapi::spec_or_skip() else {
        return;
    };
    // `session` requires "event.id", a dotted path no object can have as a key.
    assert!(
        spec.neutralised()
            .iter()
            .any(|entry| entry == "#/components/schemas/session: \"event.id\""),
        "{:#?}",
        spec.neutralised()
    );
    let session = json!({
        "id": "04ca6ae2-0dc3-487b-953e-86d6abbdf7d3",
        "event": { "id": "0a955598-376e-43d4-a796-91d6d5f41e3f" },
        "title": "Day 1 Keynote Session",
        "start": "2020-02-03T13:00:00.000Z",
        "end": "2020-02-03T14:00:00.000Z",
        "status": "Active"
    });
    let result = spec.validate("/sessions/{id}", "GET", 200, &session);
    assert!(result.is_ok(), "{}", describe(&errors_of(result)));
    // The real requirements still hold.
    let mut untitled = session.clone();
    untitled.as_object_mut().unwrap().remove("title");
    let errors = errors_of(spec.validate("/sessions/{id}", "GET", 200, &untitled));
    assert!(
        errors.iter().any(|e| e.contains("\"title\"")),
        "{errors:#?}"
    );
}

#[test]
fn validator_accepts_custom_field_details_that_fit_several_alternatives() {
    let Some(spec) = openapi::spec_or_skip() else {
        return;
    };
    // Every `details` alternative is an open object, so a choice list fits all four; Cvent's
    // `oneOf` would refuse it.
    let page = json!({
        "paging": { "_links": { "self": { "href": "?token=x" } } },
        "data": [{
            "id": "bbed8ead-41ab-4b9c-b85c-a424fe1bbbfc",
            "category": "Contact",
            "name": "Favourite colour",
            "code": "FAVORITE_COLOR_CODE",
            "type": "Choice - Single Answer",
            "details": { "choices": [{ "text": "Blue" }] }
        }]
    });
    let result = spec.validate("/custom-fields", "GET", 200, &page);
    assert!(result.is_ok(), "{}", describe(&errors_of(result)));
}

#[test]
fn undeclared_properties_are_listed() {
    let Some(spec) = openapi::spec_or_skip() else {
        return;
    };
    let mut page = attendee_page();
    assert_eq!(
        spec.undeclared_properties("/attendees", "GET", 200, &page),
        Vec::<String>::new()
    );
    // Misspellings of documented fields, at three depths; the audit fields come through `allOf`.
    page["paging"]["total_count"] = json!(3);
    page["data"][0]["checkInTime"] = json!("2018-01-13T02:00:00Z");
    page["data"][0]["contact"]["emailAddress"] = json!("h@test.com");
    assert_eq!(
        spec.undeclared_properties("/attendees", "GET", 200, &page),
        [
            "/data/0/checkInTime",
            "/data/0/contact/emailAddress",
            "/paging/total_count"
        ]
    );
    // The fact behind `Live::accepted_undeclared`: secure fields are the Contacts API's.
    assert!(spec.defines_property("contact", "socialSecurityNumber"));
    assert!(!spec.defines_property("attendee-contact-info.json", "socialSecurityNumber"));
    assert!(spec.defines_property("attendee-contact-info.json", "email"));
}

#[test]
fn every_declared_response_schema_compiles() {
    let Some(spec) = openapi::spec_or_skip() else {
        return;
    };
    // Proves every `$ref` of every converted response schema resolves, including those into
    // `oneOf` members the conversion renamed.
    let responses = spec.json_responses();
    assert!(
        responses.len() > 100,
        "only {} JSON responses found",
        responses.len()
    );
    let broken: Vec<String> = responses
        .iter()
        .filter_map(|(path, method, status)| {
            let built = spec.validator(path, method, *status);
            built
                .err()
                .map(|err| format!("{method} {path} {status}: {err}"))
        })
        .collect();
    assert!(broken.is_empty(), "{broken:#?}");
}

#[test]
fn response_schema_follows_references_and_default_responses() {
    // A document of our own, so that `default`, `nullable` and chained `$ref`s are exercised
    // whether or not Cvent's document uses them.
    let spec = OpenApi::from_yaml(
        r##"
openapi: 3.0.2
paths:
  /things/{id}:
    $ref: '#/components/x-path-items/thing'
components:
  x-path-items:
    thing:
      get:
        responses:
          200:
            description: unquoted status key, as YAML allows
            content:
              application/json; charset=utf-8:
                schema: { $ref: '#/components/schemas/thing' }
          204: { description: no body }
          default: { $ref: '#/components/responses/Error' }
  responses:
    Error:
      $ref: '#/components/responses/ErrorBase'
    ErrorBase:
      description: error
      content:
        application/json:
          schema: { $ref: '#/components/schemas/error' }
  schemas:
    thing:
      type: object
      required: [id, note]
      properties:
        id: { type: string, format: uuid, example: not-a-uuid, readOnly: true }
        note: { type: string, nullable: true, x-vendor: ignored }
        colour: { type: string, enum: [Red, Blue], nullable: true }
        when: { type: string, format: date }
    error:
      type: object
      required: [code, message]
      properties:
        code: { type: integer }
        message: { type: string }
"##,
    )
    .expect("the test document loads");

    assert_eq!(
        spec.response_schema("/things/{id}", "GET", 200),
        Some(json!({ "$ref": "#/components/schemas/thing" }))
    );
    assert_eq!(spec.response_schema("/things/{id}", "get", 204), None);
    assert_eq!(
        spec.response_schema("/things/{id}", "get", 418),
        Some(json!({ "$ref": "#/components/schemas/error" }))
    );
    assert_eq!(spec.response_schema("/nothing", "get", 200), None);

    let id = "04ca6ae2-0dc3-487b-953e-86d6abbdf7d3";
    for body in [
        json!({ "id": id, "note": null, "colour": null }),
        json!({ "id": id, "note": "x", "colour": "Red", "when": "whenever" }),
    ] {
        let result = spec.validate("/things/{id}", "get", 200, &body);
        assert!(result.is_ok(), "{body}: {}", describe(&errors_of(result)));
    }
    let errors = errors_of(spec.validate(
        "/things/{id}",
        "get",
        200,
        &json!({ "id": "x", "note": 1, "colour": "Green" }),
    ));
    for pointer in ["/id:", "/note:", "/colour:"] {
        assert!(
            errors.iter().any(|e| e.starts_with(pointer)),
            "{pointer} in {errors:#?}"
        );
    }
    assert!(
        spec.validate("/things/{id}", "get", 503, &json!({ "code": 503 }))
            .is_err()
    );
    assert!(
        spec.validate("/things/{id}", "get", 204, &json!({}))
            .is_err()
    );
}

// ---------------------------------------------------------------------------------------------
// The live sandbox.
// ---------------------------------------------------------------------------------------------

/// A running sandbox with a bearer token for all of its scopes.
struct Live {
    spec: &'static OpenApi,
    // Held so the server keeps running for the test's lifetime.
    _sandbox: CventRestSandbox,
    http: reqwest::Client,
    base: String,
    client_id: String,
    client_secret: String,
    event_id: String,
    event_code: String,
    token: String,
    /// Every mismatch found so far; a test reports them all at once at the end.
    failures: Vec<String>,
}

/// One HTTP exchange, kept whole for checks and failure messages.
struct Reply {
    status: u16,
    content_type: Option<String>,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
}

impl Live {
    /// Starts a sandbox (300 attendees, seed 7) and obtains a token; `None` when the spec is
    /// absent and the test is skipped.
    async fn start() -> Option<Self> {
        let spec = openapi::spec_or_skip()?;
        let sandbox = CventRestSandbox::start(SandboxConfig {
            attendees: 300,
            seed: 7,
            ..Default::default()
        })
        .await
        .expect("the Cvent sandbox starts");
        let mut live = Self {
            spec,
            base: sandbox.base_url(),
            client_id: sandbox.client_id().to_owned(),
            client_secret: sandbox.client_secret().to_owned(),
            event_id: sandbox.event_id().to_owned(),
            event_code: sandbox.event_code().to_owned(),
            _sandbox: sandbox,
            http: reqwest::Client::new(),
            token: String::new(),
            failures: Vec::new(),
        };
        let reply = live.request_token(None, &live.client_secret.clone()).await;
        assert_eq!(reply.status, 200, "token request failed: {}", reply.text);
        live.token = reply.json()["access_token"]
            .as_str()
            .expect("the token response has an access_token")
            .to_owned();
        Some(live)
    }

    /// `POST /oauth2/token` with Basic credentials and, optionally, a `scope` form field.
    async fn request_token(&self, scope: Option<&str>, secret: &str) -> Reply {
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.as_str()),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        let request = self
            .http
            .post(format!("{}/oauth2/token", self.base))
            .basic_auth(&self.client_id, Some(secret))
            .form(&form);
        read(request.send().await).await
    }

    /// A request with the test's bearer token (or `token` when given).
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
        token: Option<&str>,
    ) -> Reply {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token.unwrap_or(&self.token));
        if !query.is_empty() {
            request = request.query(query);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        read(request.send().await).await
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Reply {
        self.call(Method::GET, path, query, None, None).await
    }

    async fn post(&self, path: &str, query: &[(&str, &str)], body: &Value) -> Reply {
        self.call(Method::POST, path, query, Some(body), None).await
    }

    /// Records a mismatch unless `reply` has the expected status, a JSON content type and a
    /// body valid against the spec's schema for (template, method, status). Returns the body.
    fn conforms(&mut self, template: &str, method: &str, expected: u16, reply: &Reply) -> Value {
        let what = format!("{method} {template} → {expected}");
        if reply.status != expected {
            self.failures.push(format!(
                "{what}: got status {} with body {}",
                reply.status,
                clip(&reply.text)
            ));
            return reply.json();
        }
        let json_type = reply
            .content_type
            .as_deref()
            .is_some_and(|kind| kind.starts_with("application/json"));
        if !json_type {
            self.failures.push(format!(
                "{what}: Content-Type is {:?}, the spec declares application/json",
                reply.content_type
            ));
        }
        let body: Value = match serde_json::from_str(&reply.text) {
            Ok(body) => body,
            Err(err) => {
                self.failures.push(format!(
                    "{what}: body is not JSON ({err}): {}",
                    clip(&reply.text)
                ));
                return Value::Null;
            }
        };
        if let Err(errors) = self.spec.validate(template, method, expected, &body) {
            self.failures
                .push(format!("{what}:\n{}", describe(&errors)));
        }
        // Open schemas accept any extra member, so a misspelt optional field would pass
        // validation unnoticed; a faithful simulator sends only fields Cvent documents.
        let undeclared: Vec<String> = self
            .spec
            .undeclared_properties(template, method, expected, &body)
            .into_iter()
            .filter(|pointer| !self.accepted_undeclared(template, pointer))
            .collect();
        if !undeclared.is_empty() {
            self.failures.push(format!(
                "{what}: members the spec does not define anywhere in this response:\n{}",
                describe(&by_shape(&undeclared))
            ));
        }
        body
    }

    /// Undeclared members the sandbox sends on purpose. An attendee's embedded `contact`
    /// (`attendee-contact-info.json`) may carry fields of the spec's full `contact` schema, the
    /// Contacts API's: the sandbox serves the secure ones (`dateOfBirth`, `passportNumber`, …)
    /// to tokens holding `event/contacts:read-sensitive`, as Cvent documents for contacts.
    fn accepted_undeclared(&self, template: &str, pointer: &str) -> bool {
        let mut segments = pointer.rsplit('/');
        let (Some(name), Some(parent)) = (segments.next(), segments.next()) else {
            return false;
        };
        if !template.starts_with("/attendees") {
            return false;
        }
        if parent == "contact" {
            return self.spec.defines_property("contact", name);
        }
        // `expand=answers.question` shows an answer's question whole, as the event question
        // it refers to (`event-question.json`), where the answer's schema names only its id.
        parent == "question"
            && pointer.contains("/answers/")
            && self.spec.defines_property("event-question.json", name)
    }

    /// Like [`conforms`](Self::conforms) for a list, also recording a failure when the list is
    /// empty: a schema check of no items proves nothing. Returns the items.
    fn conforms_with_items(&mut self, template: &str, method: &str, reply: &Reply) -> Vec<Value> {
        let body = self.conforms(template, method, 200, reply);
        let items = body["data"].as_array().cloned().unwrap_or_default();
        if reply.status == 200 && items.is_empty() {
            self.note(format!(
                "{method} {template} → 200: `data` is empty, so no item was checked"
            ));
        }
        items
    }

    /// Records a mismatch unless `reply` is the bodiless status the spec declares.
    fn conforms_without_body(
        &mut self,
        template: &str,
        method: &str,
        expected: u16,
        reply: &Reply,
    ) {
        let what = format!("{method} {template} → {expected}");
        if reply.status != expected {
            self.failures.push(format!(
                "{what}: got status {} with body {}",
                reply.status,
                clip(&reply.text)
            ));
        } else if self.spec.response(template, method, expected).is_none() {
            self.failures
                .push(format!("{what}: the spec does not declare this status"));
        } else if self
            .spec
            .response_schema(template, method, expected)
            .is_some()
        {
            self.failures
                .push(format!("{what}: the spec declares a body for this status"));
        } else if !reply.text.is_empty() {
            self.failures.push(format!(
                "{what}: the spec declares no body, got {}",
                clip(&reply.text)
            ));
        }
    }

    /// Records a mismatch that no schema expresses (a wrong value, or data the test needed).
    fn note(&mut self, failure: impl Display) {
        self.failures.push(failure.to_string());
    }

    /// Panics with every mismatch recorded, if any.
    fn finish(self) {
        assert!(
            self.failures.is_empty(),
            "{} mismatch(es) with Cvent's OpenAPI document:\n\n{}",
            self.failures.len(),
            self.failures.join("\n\n")
        );
    }

    fn event_filter(&self) -> String {
        format!("event.id eq '{}'", self.event_id)
    }

    /// The attendees of the sandbox's event with `status` (first page, up to 200).
    async fn attendees_with_status(&mut self, status: &str) -> Vec<Value> {
        let filter = format!("{} and status eq '{status}'", self.event_filter());
        let reply = self
            .get("/attendees", &[("filter", &filter), ("limit", "200")])
            .await;
        self.conforms_with_items("/attendees", "GET", &reply)
    }
}

async fn read(sent: reqwest::Result<reqwest::Response>) -> Reply {
    let response = sent.expect("the sandbox answers");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let text = response.text().await.expect("the body reads");
    Reply {
        status,
        content_type,
        text,
    }
}

/// The errors as a bulleted list, cut after [`ERRORS_SHOWN`].
fn describe(errors: &[String]) -> String {
    let mut lines: Vec<String> = errors
        .iter()
        .take(ERRORS_SHOWN)
        .map(|error| format!("  - {error}"))
        .collect();
    if errors.len() > ERRORS_SHOWN {
        lines.push(format!("  … and {} more", errors.len() - ERRORS_SHOWN));
    }
    lines.join("\n")
}

/// Pointers grouped by shape, array indices as `*`: `/data/*/contact/npi (×18)`.
fn by_shape(pointers: &[String]) -> Vec<String> {
    let mut shapes: Vec<(String, usize)> = Vec::new();
    for pointer in pointers {
        let shape = pointer
            .split('/')
            .map(|segment| {
                let index = !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit());
                if index { "*" } else { segment }
            })
            .collect::<Vec<_>>()
            .join("/");
        match shapes.iter_mut().find(|(known, _)| *known == shape) {
            Some((_, count)) => *count += 1,
            None => shapes.push((shape, 1)),
        }
    }
    shapes
        .into_iter()
        .map(|(shape, count)| format!("{shape} (×{count})"))
        .collect()
}

fn clip(text: &str) -> String {
    const MAX: usize = 400;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

fn first_id(items: &[Value]) -> Option<String> {
    items.first()?["id"].as_str().map(str::to_owned)
}

#[tokio::test]
async fn token_endpoint_conforms() {
    let Some(mut live) = Live::start().await else {
        return;
    };
    let reply = live.request_token(None, &live.client_secret.clone()).await;
    let body = live.conforms("/oauth2/token", "POST", 200, &reply);
    if body["token_type"] != "Bearer" {
        live.note(format!(
            "token_type is {}, expected \"Bearer\"",
            body["token_type"]
        ));
    }

    let reply = live.request_token(None, "not-the-secret").await;
    let body = live.conforms("/oauth2/token", "POST", 400, &reply);
    if body["error"] != "invalid_client" {
        live.note(format!(
            "a wrong secret gives error {}, expected \"invalid_client\"",
            body["error"]
        ));
    }
    live.finish();
}

#[tokio::test]
async fn events_conform() {
    let Some(mut live) = Live::start().await else {
        return;
    };
    let reply = live.get("/events", &[]).await;
    live.conforms_with_items("/events", "GET", &reply);

    let filter = json!({ "filter": format!("code eq '{}'", live.event_code) });
    let reply = live.post("/events/filter", &[], &filter).await;
    let events = live.conforms_with_items("/events/filter", "POST", &reply);
    if first_id(&events).as_deref() != Some(live.event_id.as_str()) {
        live.note(format!(
            "POST /events/filter by code did not return the sandbox's event {}",
            live.event_id
        ));
    }

    let reply = live.get(&format!("/events/{}", live.event_id), &[]).await;
    live.conforms("/events/{id}", "GET", 200, &reply);
    live.finish();
}

#[tokio::test]
async fn attendee_pages_conform() {
    let Some(mut live) = Live::start().await else {
        return;
    };
    let filter = live.event_filter();
    let mut reply = live
        .get("/attendees", &[("filter", &filter), ("limit", "200")])
        .await;
    let mut seen = 0;
    // 300 attendees at 200 a page is two pages (three if the last is the empty one Cvent allows).
    for _ in 0..5 {
        let page = live.conforms("/attendees", "GET", 200, &reply);
        seen += page["data"].as_array().map_or(0, Vec::len);
        let Some(next) = page["paging"]["nextToken"].as_str().map(str::to_owned) else {
            break;
        };
        reply = live.get("/attendees", &[("token", &next)]).await;
    }
    if seen < 300 {
        live.note(format!(
            "paging through the event's attendees gave {seen}, expected 300"
        ));
    }
    live.finish();
}

#[tokio::test]
async fn attendee_filter_and_read_conform() {
    let Some(mut live) = Live::start().await else {
        return;
    };
    let body = json!({ "filter": live.event_filter() });
    let reply = live
        .post("/attendees/filter", &[("limit", "50")], &body)
        .await;
    let attendees = live.conforms_with_items("/attendees/filter", "POST", &reply);
    let Some(id) = first_id(&attendees) else {
        live.note("POST /attendees/filter returned no attendee to read");
        return live.finish();
    };
    let reply = live.get(&format!("/attendees/{id}"), &[]).await;
    live.conforms("/attendees/{id}", "GET", 200, &reply);
    live.finish();
}

#[tokio::test]
async fn attendee_update_conforms() {
    let Some(mut live) = Live::start().await else {
        return;
    };
    let accepted = live.attendees_with_status("Accepted").await;
    let Some(attendee) = accepted.first() else {
        live.note("the sandbox has no Accepted attendee to cancel");
        return live.finish();
    };
    let id = attendee["id"].as_str().unwrap_or_default().to_owned();
    let update = json!({
        "event": { "id": live.event_id },
        "contact": { "id": attendee["contact"]["id"] },
        "status": "Cancelled",
    });
    // The request itself must be what the spec asks for, or a refusal proves nothing.
    let request_schema = live
        .spec
        .request_schema("/attendees/{id}", "PUT")
        .expect("the spec declares PUT /attendees/{id}'s body");
    if let Err(errors) = live.spec.validate_against(&request_schema, &update) {
        panic!(
            "the test's own PUT body breaks the spec:\n{}",
            describe(&errors)
        );
    }
    let path = format!("/attendees/{id}");
    let reply = live
        .call(Method::PUT, &path, &[], Some(&update), None)
        .await;
    let body = live.conforms("/attendees/{id}", "PUT", 200, &reply);
    if reply.status == 200 && body["status"] != "Cancelled" {
        live.note(format!(
            "PUT {path} answered status {}, expected \"Cancelled\"",
            body["status"]
        ));
    }
    live.finish();
}

#[tokio::test]
async fn sessions_conform() {
    let Some(mut live) = Live::start().await else {
        return;
    };
    let filter = live.event_filter();
    let reply = live.get("/sessions", &[("filter", &filter)]).await;
    live.conforms_with_items("/sessions", "GET", &reply);
    let reply = live
        .post("/sessions/filter", &[], &json!({ "filter": filter }))
        .await;
    live.conforms_with_items("/sessions/filter", "POST", &reply);
    live.finish();
}

#[tokio::test]
async fn speakers_conform() {
    let Some(mut live) = Live::start().await else {
        return;
    };
    let reply = live.get("/speakers", &[]).await;
    live.conforms_with_items("/speakers", "GET", &reply);
    let filter = json!({ "filter": live.event_filter() });
    let reply = live.post("/speakers/filter", &[], &filter).await;
    live.conforms_with_items("/speakers/filter", "POST", &reply);
    live.finish();
}

#[tokio::test]
async fn event_resources_conform() {
    let Some(mut live) = Live::start().await else {
        return;
    };
    let event = live.event_id.clone();
    for (template, suffix) in [
        ("/events/{id}/session-locations", "session-locations"),
        ("/events/{id}/sponsorship-levels", "sponsorship-levels"),
        ("/events/{id}/exhibitors", "exhibitors"),
        (
            "/events/{id}/event-travel/air-requests",
            "event-travel/air-requests",
        ),
        (
            "/events/{id}/event-travel/hotel-requests",
            "event-travel/hotel-requests",
        ),
    ] {
        let reply = live.get(&format!("/events/{event}/{suffix}"), &[]).await;
        live.conforms_with_items(template, "GET", &reply);
    }
    live.finish();
}

#[tokio::test]
async fn custom_fields_and_event_questions_conform() {
    let Some(mut live) = Live::start().await else {
        return;
    };
    // The spec makes `filter` required here, with exactly one `category`.
    for category in ["Contact", "Event", "Session"] {
        let filter = format!("category eq '{category}'");
        let reply = live.get("/custom-fields", &[("filter", &filter)]).await;
        live.conforms("/custom-fields", "GET", 200, &reply);
    }
    let filter = live.event_filter();
    let reply = live.get("/event-questions", &[("filter", &filter)]).await;
    live.conforms_with_items("/event-questions", "GET", &reply);
    live.finish();
}

#[tokio::test]
async fn attendee_answers_expand_their_questions() {
    let Some(mut live) = Live::start().await else {
        return;
    };
    let filter = live.event_filter();
    let reply = live.get("/event-questions", &[("filter", &filter)]).await;
    let questions = live.conforms_with_items("/event-questions", "GET", &reply);
    let query = [
        ("filter", filter.as_str()),
        ("limit", "50"),
        ("expand", "answers.question"),
    ];
    let reply = live.get("/attendees", &query).await;
    let attendees = live.conforms_with_items("/attendees", "GET", &reply);
    let answers: Vec<&Value> = attendees
        .iter()
        .flat_map(|attendee| attendee["answers"].as_array().into_iter().flatten())
        .collect();
    if answers.is_empty() {
        live.note("no attendee of the first page answered a question");
    }
    for answer in answers {
        let id = &answer["question"]["id"];
        match questions.iter().find(|question| &question["id"] == id) {
            Some(question) if &answer["question"] == question => {}
            _ => live.note(format!(
                "expand=answers.question shows question {id} as {}, not as /event-questions lists it",
                answer["question"]
            )),
        }
    }
    let body = json!({ "filter": live.event_filter() });
    let reply = live.post("/attendees/filter", &query[1..], &body).await;
    let attendees = live.conforms_with_items("/attendees/filter", "POST", &reply);
    if let Some(id) = first_id(&attendees) {
        let reply = live
            .get(
                &format!("/attendees/{id}"),
                &[("expand", "answers.question")],
            )
            .await;
        live.conforms("/attendees/{id}", "GET", 200, &reply);
    }
    // Without the expansion an answer names its question by id alone, as the schema has it.
    let reply = live.get("/attendees", &query[..2]).await;
    for attendee in live.conforms_with_items("/attendees", "GET", &reply) {
        for answer in attendee["answers"].as_array().into_iter().flatten() {
            if answer["question"].as_object().map(|q| q.len()) != Some(1) {
                live.note(format!(
                    "an unexpanded answer's question is {}",
                    answer["question"]
                ));
            }
        }
    }
    let reply = live.get("/attendees", &[("expand", "answers.text")]).await;
    if reply.status != 400 {
        live.note(format!(
            "expand=answers.text (not in the spec's enum) gave {}, expected 400",
            reply.status
        ));
    }
    live.finish();
}

#[tokio::test]
async fn session_enrollment_conforms() {
    let Some(mut live) = Live::start().await else {
        return;
    };
    let filter = live.event_filter();
    let reply = live
        .get("/sessions/enrollment", &[("filter", &filter)])
        .await;
    live.conforms_with_items("/sessions/enrollment", "GET", &reply);
    let body = json!({ "filter": filter });
    let reply = live.post("/sessions/enrollment/filter", &[], &body).await;
    live.conforms_with_items("/sessions/enrollment/filter", "POST", &reply);

    let reply = live.get("/sessions", &[("filter", &filter)]).await;
    let sessions = live.conforms_with_items("/sessions", "GET", &reply);
    let accepted = live.attendees_with_status("Accepted").await;
    let (Some(session), Some(attendee)) = (first_id(&sessions), first_id(&accepted)) else {
        live.note("the sandbox has no session or no Accepted attendee to enroll");
        return live.finish();
    };
    let path = format!("/sessions/{session}/enrollment/{attendee}");
    let template = "/sessions/{id}/enrollment/{attendeeId}";
    let reply = live.call(Method::POST, &path, &[], None, None).await;
    live.conforms_without_body(template, "POST", 204, &reply);
    let reply = live.call(Method::DELETE, &path, &[], None, None).await;
    live.conforms_without_body(template, "DELETE", 204, &reply);
    live.finish();
}

#[tokio::test]
async fn event_check_in_conforms() {
    let Some(mut live) = Live::start().await else {
        return;
    };
    let accepted = live.attendees_with_status("Accepted").await;
    let Some(attendee) = first_id(&accepted) else {
        live.note("the sandbox has no Accepted attendee to check in");
        return live.finish();
    };
    let event = live.event_id.clone();
    let check_ins = json!([{ "id": attendee, "checkIn": "2026-01-01T10:00:00Z" }]);
    let request_schema = live
        .spec
        .request_schema("/events/{id}/check-in", "POST")
        .expect("the spec declares POST /events/{id}/check-in's body");
    if let Err(errors) = live.spec.validate_against(&request_schema, &check_ins) {
        panic!(
            "the test's own check-in body breaks the spec:\n{}",
            describe(&errors)
        );
    }
    let reply = live
        .post(&format!("/events/{event}/check-in"), &[], &check_ins)
        .await;
    live.conforms("/events/{id}/check-in", "POST", 207, &reply);

    let path = format!("/events/{event}/check-in/{attendee}");
    let reply = live.call(Method::DELETE, &path, &[], None, None).await;
    live.conforms_without_body("/events/{id}/check-in/{attendeeId}", "DELETE", 204, &reply);
    live.finish();
}

/// An invitation's 207 answer, with a refused item, and the invited attendee with its
/// `webLinks`. The contact it names is made with Cvent's createContacts, which the document's
/// subset leaves out, so that answer is not checked here.
#[tokio::test]
async fn attendee_invitations_conform() {
    let Some(mut live) = Live::start().await else {
        return;
    };
    let contact = json!([{
        "firstName": "Ada",
        "lastName": "Lovelace",
        "email": "ada@example.org",
        "company": "Analytical Engines",
        "title": "Countess",
    }]);
    let reply = live.post("/contacts", &[], &contact).await;
    let contact_id = reply.json()[0]["data"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let invite = json!({
        "event": { "id": live.event_id },
        "contact": { "id": contact_id },
        "status": "No Response",
    });
    let request_schema = live
        .spec
        .request_schema("/attendees", "POST")
        .expect("the spec declares POST /attendees's body");
    if let Err(errors) = live
        .spec
        .validate_against(&request_schema, &json!([invite]))
    {
        panic!(
            "the test's own invitation breaks the spec:\n{}",
            describe(&errors)
        );
    }
    let without_event = json!({ "contact": { "id": contact_id } });
    let reply = live
        .post("/attendees", &[], &json!([invite, without_event]))
        .await;
    let body = live.conforms("/attendees", "POST", 207, &reply);
    let statuses: Vec<Option<u64>> = [0, 1].map(|i| body[i]["status"].as_u64()).into();
    if statuses != [Some(201), Some(400)] {
        live.note(format!(
            "POST /attendees → 207: item statuses {statuses:?}, expected [201, 400]"
        ));
    }
    let Some(id) = body[0]["data"]["id"].as_str().map(str::to_owned) else {
        live.note("POST /attendees → 207: the invitation has no id");
        return live.finish();
    };
    let reply = live.get(&format!("/attendees/{id}"), &[]).await;
    let attendee = live.conforms("/attendees/{id}", "GET", 200, &reply);
    if attendee["webLinks"]["acceptRegistration"]
        .as_str()
        .is_none()
    {
        live.note("GET /attendees/{id} → 200: the invitee has no webLinks.acceptRegistration");
    }
    live.finish();
}

#[tokio::test]
async fn usage_conforms() {
    let Some(mut live) = Live::start().await else {
        return;
    };
    let reply = live.get("/usage", &[]).await;
    live.conforms_with_items("/usage", "GET", &reply);
    let reply = live.get("/usage/tier", &[]).await;
    live.conforms("/usage/tier", "GET", 200, &reply);
    live.finish();
}

#[tokio::test]
async fn error_bodies_conform() {
    let Some(mut live) = Live::start().await else {
        return;
    };
    let filter = live.event_filter();

    let reply = live
        .call(
            Method::GET,
            "/attendees",
            &[("filter", &filter)],
            None,
            Some("not-a-token"),
        )
        .await;
    live.conforms(
        "/attendees",
        "GET",
        StatusCode::UNAUTHORIZED.as_u16(),
        &reply,
    );

    // A token asked for with only the events scope may not read attendees.
    let secret = live.client_secret.clone();
    let scoped = live.request_token(Some("event/events:read"), &secret).await;
    let scoped = live.conforms("/oauth2/token", "POST", 200, &scoped);
    if let Some(events_only) = scoped["access_token"].as_str() {
        let reply = live
            .call(
                Method::GET,
                "/attendees",
                &[("filter", &filter)],
                None,
                Some(events_only),
            )
            .await;
        live.conforms("/attendees", "GET", StatusCode::FORBIDDEN.as_u16(), &reply);
    }

    let unknown = "00000000-0000-4000-8000-000000000000";
    let reply = live.get(&format!("/attendees/{unknown}"), &[]).await;
    live.conforms(
        "/attendees/{id}",
        "GET",
        StatusCode::NOT_FOUND.as_u16(),
        &reply,
    );

    let reply = live
        .get("/attendees", &[("filter", "status equals 'Accepted'")])
        .await;
    live.conforms(
        "/attendees",
        "GET",
        StatusCode::BAD_REQUEST.as_u16(),
        &reply,
    );

    let reply = live
        .get("/attendees", &[("filter", &filter), ("limit", "500")])
        .await;
    live.conforms(
        "/attendees",
        "GET",
        StatusCode::BAD_REQUEST.as_u16(),
        &reply,
    );
    live.finish();
}

// ---------------------------------------------------------------------------------------------
// Regressions: where the sandbox once strayed from the spec.
// ---------------------------------------------------------------------------------------------

/// Travel dates once went out as local times without a zone (`2023-05-19T00:00:00`), copied
/// from the spec's examples; the schema declares zoned UTC date-times, and Cvent's TypeScript
/// SDK refused every travel page. The validator checks `date-time`; this also checks that the
/// dates are there to be checked, and are midnights in UTC.
#[tokio::test]
async fn travel_dates_are_zoned_utc_date_times() {
    let Some(mut live) = Live::start().await else {
        return;
    };
    let event = live.event_id.clone();
    let mut dates = Vec::new();
    for (template, suffix, details, fields) in [
        (
            "/events/{id}/event-travel/air-requests",
            "event-travel/air-requests",
            "airRequestDetails",
            &["/outgoingLeg/date", "/incomingLeg/date"][..],
        ),
        (
            "/events/{id}/event-travel/hotel-requests",
            "event-travel/hotel-requests",
            "hotelRequestDetails",
            &["/checkinDate", "/checkoutDate"][..],
        ),
    ] {
        let reply = live
            .get(&format!("/events/{event}/{suffix}"), &[("limit", "200")])
            .await;
        for item in live.conforms_with_items(template, "GET", &reply) {
            for detail in item[details].as_array().into_iter().flatten() {
                for field in fields {
                    dates.extend(detail.pointer(field).cloned());
                }
                for rate in detail["hotelRoomRates"].as_array().into_iter().flatten() {
                    dates.extend(rate.get("roomNight").cloned());
                }
            }
        }
    }
    if dates.is_empty() {
        live.note("no travel request carried a date, so none was checked");
    }
    for date in &dates {
        let zoned_midnight = date
            .as_str()
            .is_some_and(|d| d.len() == 20 && d.ends_with("T00:00:00Z"));
        if !zoned_midnight {
            live.note(format!(
                "travel date {date} is not a UTC midnight like 2023-05-19T00:00:00Z"
            ));
        }
    }
    live.finish();
}

/// A check-in item whose `id` is empty, not a string, or missing is that item's failure in the
/// 207 multi-status answer; the other items are still checked in.
#[tokio::test]
async fn check_in_items_without_a_string_id_fail_alone() {
    let Some(mut live) = Live::start().await else {
        return;
    };
    let accepted = live.attendees_with_status("Accepted").await;
    let Some(attendee) = first_id(&accepted) else {
        live.note("the sandbox has no Accepted attendee to check in");
        return live.finish();
    };
    let at = "2026-01-01T10:00:00Z";
    let check_ins = json!([
        { "id": "", "checkIn": at },
        { "id": 42, "checkIn": at },
        { "id": null, "checkIn": at },
        { "checkIn": at },
        "not an object",
        { "id": "not-a-known-attendee", "checkIn": at },
        { "id": attendee, "checkIn": at },
    ]);
    let event = live.event_id.clone();
    let reply = live
        .post(&format!("/events/{event}/check-in"), &[], &check_ins)
        .await;
    let body = live.conforms("/events/{id}/check-in", "POST", 207, &reply);
    let statuses: Vec<u64> = body
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| item["status"].as_u64().unwrap_or(0))
        .collect();
    if reply.status == 207 && statuses != [400, 400, 400, 400, 400, 404, 200] {
        live.note(format!(
            "per-item statuses {statuses:?}, expected [400, 400, 400, 400, 400, 404, 200]"
        ));
    }
    for (index, item) in body.as_array().into_iter().flatten().enumerate().take(6) {
        let message = item["data"]["message"].as_str().unwrap_or_default();
        if item["data"]["code"] != item["status"] || message.is_empty() {
            live.note(format!(
                "item {index}'s data is not an error with code and message: {item}"
            ));
        }
    }
    live.finish();
}

/// The sort fields the spec lists for travel requests, and `relevance` for sessions, are
/// accepted; a field it does not list is a 400.
#[tokio::test]
async fn documented_sort_fields_are_accepted() {
    let Some(mut live) = Live::start().await else {
        return;
    };
    let event = live.event_id.clone();
    for (template, suffix, details) in [
        (
            "/events/{id}/event-travel/air-requests",
            "event-travel/air-requests",
            "airRequestDetails",
        ),
        (
            "/events/{id}/event-travel/hotel-requests",
            "event-travel/hotel-requests",
            "hotelRequestDetails",
        ),
    ] {
        let path = format!("/events/{event}/{suffix}");
        for field in ["requesterFirstName", "requesterLastName", "lastModified"] {
            for direction in ["ASC", "DESC"] {
                let sort = format!("{details}.{field}:{direction}");
                let query = [("sort", sort.as_str()), ("limit", "200")];
                let reply = live.get(&path, &query).await;
                let items = live.conforms_with_items(template, "GET", &reply);
                // Names sort by the first request, the time by the newest.
                let keys: Vec<String> = items
                    .iter()
                    .map(|item| {
                        let requests = item[details].as_array().cloned().unwrap_or_default();
                        let key = match field {
                            "lastModified" => requests
                                .iter()
                                .filter_map(|r| r["lastModified"].as_str())
                                .max()
                                .map(str::to_owned),
                            _ => requests
                                .first()
                                .and_then(|r| r[field].as_str())
                                .map(str::to_owned),
                        };
                        key.unwrap_or_default().to_lowercase()
                    })
                    .collect();
                let mut expected = keys.clone();
                expected.sort();
                if direction == "DESC" {
                    expected.reverse();
                }
                if keys != expected {
                    live.note(format!("GET {path}?sort={sort} is not in that order"));
                }
            }
        }
        let reply = live.get(&path, &[("sort", "attendee.id:ASC")]).await;
        live.conforms(template, "GET", 400, &reply);
    }
    let filter = live.event_filter();
    let reply = live
        .get(
            "/sessions",
            &[("filter", &filter), ("sort", "relevance:DESC")],
        )
        .await;
    live.conforms_with_items("/sessions", "GET", &reply);
    let body = json!({ "filter": format!("{filter} and title match 'session'") });
    let reply = live
        .post(
            "/sessions/filter",
            &[("sort", "relevance:DESC,start:ASC")],
            &body,
        )
        .await;
    live.conforms("/sessions/filter", "POST", 200, &reply);
    live.finish();
}

/// Filters the spec's rules refuse, which the sandbox once answered with data: each is a 400
/// in Cvent's error shape, and its lawful neighbour is a 200.
#[tokio::test]
async fn filters_outside_the_documented_rules_are_refused() {
    let Some(mut live) = Live::start().await else {
        return;
    };
    let event = live.event_id.clone();
    let title_word = live.get(&format!("/events/{event}"), &[]).await.json()["title"]
        .as_str()
        .and_then(|title| title.split_whitespace().find(|w| w.chars().count() >= 3))
        .map(str::to_owned)
        .unwrap_or_else(|| "Conference".to_owned());
    let title_word: String = title_word.chars().take(15).collect();
    let two_letters: String = title_word.chars().take(2).collect();
    // (template, filter refused, a lawful filter)
    let cases = [
        (
            "/custom-fields",
            None,
            Some("category eq 'Contact'".to_owned()),
        ),
        (
            "/custom-fields",
            Some("category eq 'Contact' or category eq 'Event'".to_owned()),
            Some("category eq 'Event'".to_owned()),
        ),
        (
            "/custom-fields",
            Some("code eq 'FAVORITE_COLOR_CODE'".to_owned()),
            Some("category eq 'Contact' and code eq 'FAVORITE_COLOR_CODE'".to_owned()),
        ),
        (
            "/events",
            Some(format!("title contains '{two_letters}'")),
            Some(format!("title contains '{title_word}'")),
        ),
        (
            "/attendees",
            Some(format!("event.id sw '{}'", &event[..8])),
            Some(format!("event.id eq '{event}'")),
        ),
    ];
    for (template, refused, lawful) in cases {
        let query: Vec<(&str, &str)> = refused.iter().map(|f| ("filter", f.as_str())).collect();
        let reply = live.get(template, &query).await;
        let body = live.conforms(template, "GET", 400, &reply);
        if reply.status == 400 && body["details"][0]["message"].as_str().is_none() {
            live.note(format!(
                "GET {template} with {refused:?}: the 400 does not say why: {body}"
            ));
        }
        let query: Vec<(&str, &str)> = lawful.iter().map(|f| ("filter", f.as_str())).collect();
        let reply = live.get(template, &query).await;
        live.conforms(template, "GET", 200, &reply);
    }
    let reply = live
        .post(
            "/attendees/filter",
            &[],
            &json!({ "filter": format!("event.id sw '{}'", &event[..8]) }),
        )
        .await;
    live.conforms("/attendees/filter", "POST", 400, &reply);
    live.finish();
}

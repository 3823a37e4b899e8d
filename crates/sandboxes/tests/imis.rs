//! The iMIS sandbox over real HTTP: the token and the virtual directory, bearer tokens and their
//! expiry, Party by id and by email, paging, Activity, Event, saved queries in both shapes,
//! faults, the call log and the seed.

use reqwest::header::{HeaderMap, RETRY_AFTER, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use sandboxes::imis::{ImisSandbox, SandboxConfig, wire};
use serde_json::{Value, json};

struct Site {
    sandbox: ImisSandbox,
    http: reqwest::Client,
}

/// An answer: status, headers and the body as text (JSON or not).
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    /// The first error message of the `ValidateResultsData` envelope.
    fn error_message(&self) -> String {
        let body = self.json();
        assert_eq!(body["$type"], wire::VALIDATE_RESULTS, "{}", self.text);
        body["Errors"]["$values"][0]["Message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

impl Site {
    async fn start() -> Site {
        Site::start_with(SandboxConfig::default()).await
    }

    async fn start_with(config: SandboxConfig) -> Site {
        Site {
            sandbox: ImisSandbox::start(config).await.expect("sandbox starts"),
            http: reqwest::Client::new(),
        }
    }

    async fn token_call(&self, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}/token", self.sandbox.base_url()))
            .form(form)
            .send()
            .await
            .expect("token request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn token(&self) -> String {
        let (status, body) = self
            .token_call(&[
                ("grant_type", "password"),
                ("username", self.sandbox.username()),
                ("password", self.sandbox.password()),
            ])
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["access_token"].as_str().expect("a token").to_string()
    }

    /// A call under the site (`path` starts with `/api/`), with a token when one is given.
    async fn call(
        &self,
        method: Method,
        token: Option<&str>,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Answer {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.sandbox.base_url()))
            .query(query);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("request");
        Answer {
            status: response.status(),
            headers: response.headers().clone(),
            text: response.text().await.unwrap_or_default(),
        }
    }

    async fn get(&self, token: &str, path: &str, query: &[(&str, &str)]) -> Answer {
        self.call(Method::GET, Some(token), path, query, None).await
    }

    async fn post(&self, token: &str, path: &str, body: &Value) -> Answer {
        self.call(Method::POST, Some(token), path, &[], Some(body))
            .await
    }

    async fn control(&self, method: Method, path: &str, body: Value) -> Value {
        sandboxes::control(&self.http, &self.sandbox.control_url(), method, path, &body)
            .await
            .expect("control call")
    }

    async fn add_party(&self, party: Value) -> String {
        let added = self.control(Method::POST, "/parties", party).await;
        added["id"].as_str().expect("an id").to_string()
    }
}

/// The values of a `PagedResult`.
fn items(page: &Value) -> Vec<Value> {
    page["Items"]["$values"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// A `GenericEntityData`'s property value by name, unwrapped from `$value`.
fn property(entity: &Value, name: &str) -> Value {
    let found = entity["Properties"]["$values"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|property| property["Name"] == name)
        .map(|property| property["Value"].clone())
        .unwrap_or(Value::Null);
    match found.get("$value") {
        Some(value) => value.clone(),
        None => found,
    }
}

fn generic_property(name: &str, value: Value) -> Value {
    json!({"$type": wire::GENERIC_PROPERTY, "Name": name, "Value": value})
}

fn activity_body(party_id: &str, properties: Vec<Value>) -> Value {
    json!({
        "$type": wire::GENERIC_ENTITY,
        "EntityTypeName": "Activity",
        "PrimaryParentEntityTypeName": "Party",
        "PrimaryParentIdentity": {
            "$type": wire::IDENTITY,
            "EntityTypeName": "Party",
            "IdentityElements": {"$type": wire::IDENTITY_ELEMENTS, "$values": [party_id]},
        },
        "Properties": {"$type": wire::GENERIC_PROPERTIES, "$values": properties},
    })
}

fn event_registration(party_id: &str, key: &str) -> Value {
    activity_body(
        party_id,
        vec![
            generic_property("ACTIVITY_TYPE", json!("EVENT")),
            generic_property("PartyId", json!(party_id)),
            generic_property("PRODUCT_CODE", json!("ANNCONF")),
            generic_property("DESCRIPTION", json!("Annual conference")),
            generic_property("TRANSACTION_DATE", json!("2026-03-02T09:00:00")),
            generic_property("UNITS", json!({"$type": "System.Decimal", "$value": 1})),
            generic_property("UF_1", json!(key)),
        ],
    )
}

#[tokio::test]
async fn the_token_takes_its_form_keys_in_any_case_and_refuses_bad_credentials() {
    let site = Site::start().await;
    let (status, body) = site
        .token_call(&[
            ("grant_type", "password"),
            ("username", "manager"),
            ("password", "sandbox"),
        ])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["access_token"].as_str().is_some_and(|t| t.len() >= 32));
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 1199);
    assert_eq!(body["userName"], "manager");
    for stamp in [".issued", ".expires"] {
        let text = body[stamp].as_str().expect("a time");
        assert!(
            chrono::DateTime::parse_from_rfc2822(text).is_ok(),
            "{stamp} {text}"
        );
    }

    let (status, body) = site
        .token_call(&[
            ("Grant_type", "password"),
            ("Username", "MANAGER"),
            ("Password", "sandbox"),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["userName"], "MANAGER");

    let (status, body) = site
        .token_call(&[
            ("grant_type", "password"),
            ("username", "manager"),
            ("password", "wrong"),
        ])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": "invalid_grant", "error_description": "The user name or password is incorrect."})
    );

    let (status, body) = site
        .token_call(&[("grant_type", "client_credentials")])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn the_site_lives_under_its_virtual_directory_or_at_the_root() {
    let site = Site::start().await;
    let root = format!("http://{}", site.sandbox.address());
    assert_eq!(site.sandbox.base_url(), format!("{root}/imis"));
    let form = [
        ("grant_type", "password"),
        ("username", "manager"),
        ("password", "sandbox"),
    ];
    let outside = site
        .http
        .post(format!("{root}/token"))
        .form(&form)
        .send()
        .await
        .expect("request");
    assert_eq!(outside.status(), StatusCode::NOT_FOUND);
    // IIS matches paths without regard to case.
    let shouted = site
        .http
        .post(format!("{root}/IMIS/Token"))
        .form(&form)
        .send()
        .await
        .expect("request");
    assert_eq!(shouted.status(), StatusCode::OK);
    let token = site.token().await;
    let party = site.get(&token, "/api/party/10001", &[]).await;
    assert_eq!(party.status, StatusCode::OK, "{}", party.text);

    let at_root = Site::start_with(SandboxConfig {
        virtual_directory: String::new(),
        ..SandboxConfig::default()
    })
    .await;
    assert_eq!(
        at_root.sandbox.base_url(),
        format!("http://{}", at_root.sandbox.address())
    );
    let token = at_root.token().await;
    let party = at_root.get(&token, "/api/Party/10001", &[]).await;
    assert_eq!(party.status, StatusCode::OK, "{}", party.text);

    let deeper = Site::start_with(SandboxConfig {
        virtual_directory: "/Asi.Scheduler_SDKDemo".into(),
        ..SandboxConfig::default()
    })
    .await;
    assert!(
        deeper
            .sandbox
            .base_url()
            .ends_with("/Asi.Scheduler_SDKDemo")
    );
    deeper.token().await;

    let refused = ImisSandbox::start(SandboxConfig {
        virtual_directory: "/not a path".into(),
        ..SandboxConfig::default()
    })
    .await;
    assert!(refused.is_err());
}

#[tokio::test]
async fn api_calls_need_a_live_bearer_token() {
    let site = Site::start().await;
    let denied = |answer: &Answer| {
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text);
        assert_eq!(
            answer.headers.get(WWW_AUTHENTICATE).map(|v| v.as_bytes()),
            Some(&b"Bearer"[..])
        );
        assert_eq!(
            answer.json(),
            json!({"Message": "Authorization has been denied for this request."})
        );
    };
    denied(
        &site
            .call(Method::GET, None, "/api/Party/10001", &[], None)
            .await,
    );
    denied(&site.get("not-a-token", "/api/Party/10001", &[]).await);

    let token = site.token().await;
    assert_eq!(
        site.get(&token, "/api/Party/10001", &[]).await.status,
        StatusCode::OK
    );
    site.control(Method::PUT, "/faults", json!({"expire_tokens": true}))
        .await;
    denied(&site.get(&token, "/api/Party/10001", &[]).await);

    // A token lives its lifetime on the sandbox clock.
    let token = site.token().await;
    site.control(Method::PUT, "/clock", json!({"advance_seconds": 1100}))
        .await;
    assert_eq!(
        site.get(&token, "/api/Party/10001", &[]).await.status,
        StatusCode::OK
    );
    site.control(Method::PUT, "/clock", json!({"advance_seconds": 100}))
        .await;
    denied(&site.get(&token, "/api/Party/10001", &[]).await);

    let faults = site
        .control(Method::PUT, "/faults", json!({"token_lifetime_seconds": 0}))
        .await;
    assert_eq!(faults["token_lifetime_seconds"], 0);
    let (_, body) = site
        .token_call(&[
            ("grant_type", "password"),
            ("username", "manager"),
            ("password", "sandbox"),
        ])
        .await;
    assert_eq!(body["expires_in"], 0);
    let short_lived = body["access_token"].as_str().expect("a token");
    denied(&site.get(short_lived, "/api/Party/10001", &[]).await);
}

#[tokio::test]
async fn a_party_by_id_is_person_data() {
    let site = Site::start().await;
    let token = site.token().await;
    let answer = site.get(&token, "/api/Party/10001", &[]).await;
    assert_eq!(answer.status, StatusCode::OK);
    let person = answer.json();
    assert_eq!(person["$type"], wire::PERSON);
    assert_eq!(person["PartyId"], "10001");
    assert_eq!(person["Id"], "10001");
    let first = person["PersonName"]["FirstName"].as_str().expect("a name");
    let last = person["PersonName"]["LastName"].as_str().expect("a name");
    assert_eq!(person["Name"], format!("{first} {last}"));
    assert_eq!(person["PersonName"]["FullName"], person["Name"]);
    assert_eq!(person["PersonName"]["$type"], wire::PERSON_NAME);
    let email = &person["Emails"]["$values"][0];
    assert_eq!(email["$type"], wire::EMAIL);
    assert_eq!(email["EmailType"], "_Email");
    assert_eq!(email["IsPrimary"], true);
    assert!(email["Address"].as_str().is_some_and(|a| a.contains('@')));
    assert_eq!(person["Status"]["PartyStatusId"], "A");
    assert_eq!(person["Status"]["Name"], "Active");
    assert_eq!(person["Phones"]["$values"], json!([]));
    assert_eq!(person["Addresses"]["$values"], json!([]));
    assert_eq!(
        person["PrimaryOrganization"]["$type"],
        wire::PRIMARY_ORGANIZATION
    );
    let attributes = &person["AdditionalAttributes"]["$values"];
    assert_eq!(attributes[0]["Name"], "IsMember");
    assert_eq!(attributes[0]["Value"]["$type"], "System.Boolean");
    assert!(attributes[0]["Value"]["$value"].is_boolean());
    assert_eq!(attributes[1]["Name"], "CustomerTypeCode");
    assert!(attributes[1]["Value"].is_string());
    assert_eq!(attributes[2]["Name"], "Title");

    let missing = site.get(&token, "/api/Party/99999", &[]).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.error_message().contains("not found"));
}

#[tokio::test]
async fn parties_are_found_by_email_in_every_spelling_and_may_share_one() {
    let site = Site::start().await;
    let token = site.token().await;
    let person = site.get(&token, "/api/Party/10001", &[]).await.json();
    let email = person["Emails"]["$values"][0]["Address"]
        .as_str()
        .expect("an email")
        .to_string();
    let ids = |page: &Value| -> Vec<String> {
        items(page)
            .iter()
            .map(|party| party["PartyId"].as_str().unwrap_or_default().to_string())
            .collect()
    };

    let by_eq = site
        .get(
            &token,
            "/api/Party",
            &[("Email", &format!("eq:{}", email.to_uppercase()))],
        )
        .await;
    assert_eq!(by_eq.status, StatusCode::OK, "{}", by_eq.text);
    let page = by_eq.json();
    assert_eq!(page["Count"], 1);
    assert_eq!(ids(&page), ["10001"]);
    assert_eq!(items(&page)[0]["$type"], wire::PERSON);

    let bare = site.get(&token, "/api/Party", &[("email", &email)]).await;
    assert_eq!(ids(&bare.json()), ["10001"]);

    let local = email.split('@').next().unwrap_or_default();
    let starts = site
        .get(
            &token,
            "/api/Party",
            &[("Email", &format!("startsWith:{local}@"))],
        )
        .await;
    assert!(ids(&starts.json()).contains(&"10001".to_string()));

    let twin = site
        .add_party(json!({"first_name": "Twin", "last_name": "Record", "emails": [email]}))
        .await;
    let both = site
        .get(&token, "/api/Party", &[("Email", &format!("eq:{email}"))])
        .await
        .json();
    assert_eq!(both["Count"], 2);
    assert_eq!(ids(&both), ["10001".to_string(), twin]);

    let nobody = site
        .get(
            &token,
            "/api/Party",
            &[("Email", "eq:nobody@nowhere.example")],
        )
        .await
        .json();
    assert_eq!(nobody["Count"], 0);
    assert_eq!(nobody["TotalCount"], 0);
    assert_eq!(nobody["HasNext"], false);

    let unknown = site
        .get(&token, "/api/Party", &[("Colour", "eq:blue")])
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(unknown.error_message().contains("Colour"));
}

#[tokio::test]
async fn listings_page_by_limit_and_offset_to_the_last_page() {
    let site = Site::start_with(SandboxConfig {
        parties: 250,
        ..SandboxConfig::default()
    })
    .await;
    let token = site.token().await;
    let first = site
        .get(&token, "/api/Party", &[("limit", "100")])
        .await
        .json();
    assert_eq!(
        first["$type"],
        "Asi.Soa.Core.DataContracts.PagedResult`1[[Asi.Soa.Membership.DataContracts.PartyData, Asi.Contracts]], Asi.Contracts"
    );
    assert_eq!(
        first["Items"]["$type"],
        "System.Collections.Generic.List`1[[Asi.Soa.Membership.DataContracts.PartyData, Asi.Contracts]], mscorlib"
    );
    assert_eq!(first["Offset"], 0);
    assert_eq!(first["Limit"], 100);
    assert_eq!(first["Count"], 100);
    assert_eq!(first["TotalCount"], 250);
    assert_eq!(first["NextPageLink"], Value::Null);
    assert_eq!(first["HasNext"], true);
    assert_eq!(first["NextOffset"], 100);

    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let offset_text = offset.to_string();
        let page = site
            .get(
                &token,
                "/api/Party",
                &[("limit", "100"), ("offset", &offset_text)],
            )
            .await
            .json();
        seen.extend(items(&page).iter().map(|p| p["PartyId"].clone()));
        if page["HasNext"] == false {
            assert_eq!(page["NextOffset"], 0);
            assert_eq!(page["Count"], 50);
            break;
        }
        offset = page["NextOffset"].as_u64().expect("a next offset");
    }
    assert_eq!(seen.len(), 250);
    seen.dedup();
    assert_eq!(seen.len(), 250);

    let clamped = site
        .get(&token, "/api/Party", &[("limit", "1000")])
        .await
        .json();
    assert_eq!(clamped["Limit"], 500);
    assert_eq!(clamped["Count"], 250);
    assert_eq!(clamped["HasNext"], false);
    let default = site.get(&token, "/api/Party", &[]).await.json();
    assert_eq!(default["Limit"], 100);
    let past = site
        .get(&token, "/api/Party", &[("offset", "900")])
        .await
        .json();
    assert_eq!(past["Count"], 0);
    assert_eq!(past["HasNext"], false);
    let wrong = site.get(&token, "/api/Party", &[("limit", "ten")]).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn activities_are_created_listed_read_and_deleted() {
    let site = Site::start().await;
    let token = site.token().await;
    let created = site
        .post(
            &token,
            "/api/Activity",
            &event_registration("10001", "reg-1"),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let activity = created.json();
    assert_eq!(activity["$type"], wire::GENERIC_ENTITY);
    assert_eq!(activity["EntityTypeName"], "Activity");
    assert_eq!(activity["Identity"]["$type"], wire::IDENTITY);
    assert_eq!(activity["Identity"]["EntityTypeName"], "Activity");
    let seqn_text = activity["Identity"]["IdentityElements"]["$values"][0]
        .as_str()
        .expect("an identity")
        .to_string();
    let seqn_property = activity["Properties"]["$values"]
        .as_array()
        .and_then(|values| values.iter().find(|p| p["Name"] == "SEQN"))
        .expect("a SEQN property");
    assert_eq!(seqn_property["Value"]["$type"], "System.Int32");
    assert_eq!(
        seqn_property["Value"]["$value"].to_string(),
        seqn_text,
        "SEQN and Identity agree"
    );
    assert_eq!(property(&activity, "PartyId"), "10001");
    assert_eq!(
        property(&activity, "TRANSACTION_DATE"),
        "2026-03-02T09:00:00"
    );
    assert_eq!(property(&activity, "UNITS"), json!(1.0));

    let other = site
        .post(
            &token,
            "/api/Activity",
            &event_registration("10002", "reg-2"),
        )
        .await
        .json();
    let other_seqn = property(&other, "SEQN").as_u64().expect("a SEQN");
    assert!(other_seqn > seqn_text.parse::<u64>().expect("a number"));

    let listed = site
        .get(
            &token,
            "/api/Activity",
            &[
                ("partyid", "eq:10001"),
                ("ACTIVITY_TYPE", "eq:EVENT"),
                ("Product_Code", "eq:ANNCONF"),
                ("UF_1", "eq:reg-1"),
            ],
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let listed = listed.json();
    assert_eq!(listed["Count"], 1);
    assert_eq!(items(&listed)[0], activity);
    let by_type = site
        .get(&token, "/api/Activity", &[("ACTIVITY_TYPE", "EVENT")])
        .await
        .json();
    assert_eq!(by_type["Count"], 2);
    let by_date = site
        .get(
            &token,
            "/api/Activity",
            &[
                ("TRANSACTION_DATE", "eq:2026-03-02T09:00:00"),
                ("ID", "10002"),
            ],
        )
        .await
        .json();
    assert_eq!(by_date["Count"], 1);

    let path = format!("/api/Activity/{seqn_text}");
    let read = site.get(&token, &path, &[]).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.json(), activity);

    let deleted = site
        .call(Method::DELETE, Some(&token), &path, &[], None)
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert!(deleted.text.is_empty());
    let again = site
        .call(Method::DELETE, Some(&token), &path, &[], None)
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert!(again.error_message().contains("not found"));
    assert_eq!(
        site.get(&token, &path, &[]).await.status,
        StatusCode::NOT_FOUND
    );
    let left = site.control(Method::GET, "/activities", json!(null)).await;
    assert_eq!(left.as_array().map(Vec::len), Some(1));
    assert_eq!(left[0]["properties"]["UF_1"], "reg-2");
}

#[tokio::test]
async fn an_object_without_its_type_is_refused() {
    let site = Site::start().await;
    let token = site.token().await;
    let mut body = event_registration("10001", "reg-1");
    if let Some(object) = body["Properties"]["$values"][1].as_object_mut() {
        object.remove("$type");
    }
    let refused = site.post(&token, "/api/Activity", &body).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let message = refused.error_message();
    assert!(message.contains("$type"), "{message}");
    assert!(message.contains("Properties.$values[1]"), "{message}");

    let mut body = event_registration("10001", "reg-1");
    if let Some(object) = body["PrimaryParentIdentity"]["IdentityElements"].as_object_mut() {
        object.remove("$type");
    }
    let refused = site.post(&token, "/api/Activity", &body).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.error_message().contains("$type"));

    let stored = site.control(Method::GET, "/activities", json!(null)).await;
    assert_eq!(stored, json!([]));
}

#[tokio::test]
async fn activities_need_a_known_type_an_existing_party_and_known_properties() {
    let site = Site::start().await;
    let token = site.token().await;
    let types = site
        .get(&token, "/api/LegacyActivityType", &[("limit", "500")])
        .await
        .json();
    let codes: Vec<Value> = items(&types)
        .iter()
        .map(|kind| property(kind, "Code"))
        .collect();
    assert_eq!(codes, [json!("EVENT"), json!("MEETING"), json!("CALL")]);
    assert_eq!(items(&types)[0]["EntityTypeName"], "LegacyActivityType");
    let event = site
        .get(&token, "/api/LegacyActivityType", &[("Code", "eq:EVENT")])
        .await
        .json();
    assert_eq!(event["Count"], 1);
    assert!(property(&items(&event)[0], "Description").is_string());
    let none = site
        .get(&token, "/api/LegacyActivityType", &[("Code", "eq:NOPE")])
        .await
        .json();
    assert_eq!(none["Count"], 0);

    let webinar = activity_body(
        "10001",
        vec![
            generic_property("ACTIVITY_TYPE", json!("WEBINAR")),
            generic_property("PartyId", json!("10001")),
        ],
    );
    let refused = site.post(&token, "/api/Activity", &webinar).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.error_message(),
        "Activity type 'WEBINAR' is not valid."
    );
    site.control(
        Method::PUT,
        "/activity-types",
        json!([
            {"code": "EVENT", "description": "Event"},
            {"code": "WEBINAR", "description": "Webinar"},
        ]),
    )
    .await;
    let accepted = site.post(&token, "/api/Activity", &webinar).await;
    assert_eq!(accepted.status, StatusCode::CREATED, "{}", accepted.text);

    let stranger = site
        .post(&token, "/api/Activity", &event_registration("99999", "x"))
        .await;
    assert_eq!(stranger.status, StatusCode::BAD_REQUEST);
    assert_eq!(stranger.error_message(), "Party '99999' was not found.");

    let camel = activity_body(
        "10001",
        vec![
            generic_property("ActivityType", json!("EVENT")),
            generic_property("PartyId", json!("10001")),
        ],
    );
    let refused = site.post(&token, "/api/Activity", &camel).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.error_message().contains("ActivityType"));

    let long = activity_body(
        "10001",
        vec![
            generic_property("ACTIVITY_TYPE", json!("EVENT")),
            generic_property("PartyId", json!("10001")),
            generic_property("UF_2", json!("x".repeat(256))),
        ],
    );
    let refused = site.post(&token, "/api/Activity", &long).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.error_message().contains("UF_2"));
}

fn event_body(event_id: &str, name: &str, functions: &[(&str, &str)]) -> Value {
    let functions: Vec<Value> = functions
        .iter()
        .map(|(function_id, code)| {
            json!({
                "$type": "Asi.Soa.Events.DataContracts.EventFunctionData, Asi.Contracts",
                "EventFunctionId": function_id,
                "EventFunctionCode": code,
                "Name": format!("Session {code}"),
                "StartDateTime": "2026-03-02T09:00:00",
                "EndDateTime": "2026-03-02T10:30:00",
                "Status": "A",
            })
        })
        .collect();
    json!({
        "$type": "Asi.Soa.Events.DataContracts.EventData, Asi.Contracts",
        "EventId": event_id,
        "EventCode": event_id,
        "Name": name,
        "Description": "From the registration platform",
        "StartDateTime": "2026-03-02T08:00:00",
        "EndDateTime": "2026-03-04T17:00:00",
        "Status": "A",
        "Functions": {
            "$type": "Asi.Soa.Events.DataContracts.EventFunctionDataCollection, Asi.Contracts",
            "$values": functions,
        },
    })
}

#[tokio::test]
async fn events_are_created_read_and_replaced_with_their_functions() {
    let site = Site::start().await;
    let token = site.token().await;
    assert_eq!(
        site.control(Method::GET, "/events", json!(null)).await,
        json!([])
    );
    let body = event_body(
        "ANNCONF",
        "Annual Conference",
        &[("ANNCONF/KEYNOTE", "KEYNOTE")],
    );
    let created = site.post(&token, "/api/Event", &body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let read = site.get(&token, "/api/Event/ANNCONF", &[]).await;
    assert_eq!(read.status, StatusCode::OK);
    let event = read.json();
    assert_eq!(event, created.json());
    assert_eq!(event["$type"], wire::EVENT);
    assert_eq!(event["EventId"], "ANNCONF");
    assert_eq!(event["EventCode"], "ANNCONF");
    assert_eq!(event["Name"], "Annual Conference");
    assert_eq!(event["StartDateTime"], "2026-03-02T08:00:00");
    assert_eq!(event["Status"], "A");
    let function = &event["Functions"]["$values"][0];
    assert_eq!(function["$type"], wire::EVENT_FUNCTION);
    assert_eq!(function["EventFunctionId"], "ANNCONF/KEYNOTE");
    assert_eq!(function["EventFunctionCode"], "KEYNOTE");
    assert_eq!(function["EndDateTime"], "2026-03-02T10:30:00");

    let twice = site.post(&token, "/api/Event", &body).await;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST);
    assert!(twice.error_message().contains("ANNCONF"));

    let replacement = event_body(
        "ANNCONF",
        "Annual Conference 2026",
        &[("ANNCONF/KEYNOTE", "KEYNOTE"), ("ANNCONF/BREAK", "BREAK")],
    );
    let replaced = site
        .call(
            Method::PUT,
            Some(&token),
            "/api/Event/ANNCONF",
            &[],
            Some(&replacement),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
    let event = site.get(&token, "/api/Event/ANNCONF", &[]).await.json();
    assert_eq!(event["Name"], "Annual Conference 2026");
    assert_eq!(
        event["Functions"]["$values"][1]["EventFunctionId"],
        "ANNCONF/BREAK"
    );
    let missing = site
        .call(
            Method::PUT,
            Some(&token),
            "/api/Event/NOPE",
            &[],
            Some(&event_body("NOPE", "Nope", &[])),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        site.get(&token, "/api/Event/NOPE", &[]).await.status,
        StatusCode::NOT_FOUND
    );

    let refusals = [
        (event_body("ANNUALCONF26", "Too long", &[]), "EventId"),
        (
            event_body(
                "SHORT",
                "Long code",
                &[("SHORT/ABCDEFGHIJKLMNOPQRSTU", "ABCDEFGHIJKLMNOPQRSTU")],
            ),
            "EventFunctionCode",
        ),
        (
            event_body("SHORT", "Wrong id", &[("OTHER/KEYNOTE", "KEYNOTE")]),
            "EventFunctionId",
        ),
    ];
    for (body, field) in refusals {
        let refused = site.post(&token, "/api/Event", &body).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{field}");
        let message = refused.error_message();
        assert!(message.contains(field), "{field}: {message}");
    }
    let mut untyped = event_body("SHORT", "Untyped function", &[("SHORT/A", "A")]);
    if let Some(function) = untyped["Functions"]["$values"][0].as_object_mut() {
        function.remove("$type");
    }
    let refused = site.post(&token, "/api/Event", &untyped).await;
    assert!(refused.error_message().contains("$type"));

    let stored = site.control(Method::GET, "/events", json!(null)).await;
    assert_eq!(stored.as_array().map(Vec::len), Some(1));
    assert_eq!(stored[0]["functions"][1]["function_id"], "ANNCONF/BREAK");
}

#[tokio::test]
async fn saved_queries_answer_as_flat_rows_and_as_iqa_entities() {
    let site = Site::start().await;
    let token = site.token().await;
    let member = site
        .add_party(json!({
            "first_name": "Mara", "last_name": "Member", "emails": ["mara@query.example"],
            "company": "Litware Labs", "title": "Director", "is_member": true
        }))
        .await;
    let guest = site
        .add_party(json!({
            "first_name": "Gil", "last_name": "Guest", "emails": ["gil@query.example"]
        }))
        .await;
    let eligible = "$/Events/Cvent/Eligible members";

    let flat = site
        .get(
            &token,
            "/api/query",
            &[
                ("QueryName", eligible),
                ("parameter", "eq:mara@query.example"),
            ],
        )
        .await;
    assert_eq!(flat.status, StatusCode::OK, "{}", flat.text);
    let flat = flat.json();
    assert_eq!(flat["$type"], wire::UNTYPED_PAGED_RESULT);
    assert_eq!(flat["Count"], 1);
    assert_eq!(
        items(&flat)[0],
        json!({
            "$type": "System.Dynamic.ExpandoObject, System.Core",
            "ImisId": member, "FirstName": "Mara", "LastName": "Member",
            "Email": "mara@query.example", "Company": "Litware Labs", "Title": "Director",
            "MemberType": "M",
        })
    );
    let by_id = site
        .get(
            &token,
            "/api/query",
            &[
                ("queryname", "$/events/cvent/ELIGIBLE MEMBERS"),
                ("parameter", &format!("eq:{member}")),
            ],
        )
        .await
        .json();
    assert_eq!(by_id["Count"], 1);

    let not_eligible = site
        .get(
            &token,
            "/api/query",
            &[
                ("QueryName", eligible),
                ("parameter", "eq:gil@query.example"),
            ],
        )
        .await
        .json();
    assert_eq!(not_eligible["Count"], 0);
    let everyone = site
        .get(
            &token,
            "/api/query",
            &[
                ("QueryName", "$/Events/Cvent/Everyone"),
                ("parameter", "gil@query.example"),
            ],
        )
        .await
        .json();
    assert_eq!(items(&everyone)[0]["ImisId"], guest.as_str());

    let iqa = site
        .get(
            &token,
            "/api/iqa",
            &[
                ("QueryName", eligible),
                ("parameter", "eq:mara@query.example"),
            ],
        )
        .await;
    assert_eq!(iqa.status, StatusCode::OK, "{}", iqa.text);
    let iqa = iqa.json();
    assert_eq!(
        iqa["$type"],
        "Asi.Soa.Core.DataContracts.PagedResult`1[[Asi.Soa.Core.DataContracts.GenericEntityData, Asi.Contracts]], Asi.Contracts"
    );
    let row = &items(&iqa)[0];
    assert_eq!(row["$type"], wire::GENERIC_ENTITY);
    assert!(
        row["EntityTypeName"]
            .as_str()
            .is_some_and(|name| name.parse::<u32>().is_ok())
    );
    assert_eq!(property(row, "ResultRow"), "1");
    assert_eq!(property(row, "ImisId"), member.as_str());
    assert_eq!(property(row, "Email"), "mara@query.example");

    let unknown = site
        .get(
            &token,
            "/api/query",
            &[("QueryName", "$/Nowhere"), ("parameter", "eq:x")],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(
        unknown.error_message(),
        "The query '$/Nowhere' was not found."
    );
    let closed = site
        .get(
            &token,
            "/api/iqa",
            &[
                ("QueryName", "$/Events/Cvent/Not for REST"),
                ("parameter", "eq:x"),
            ],
        )
        .await;
    assert_eq!(closed.status, StatusCode::FORBIDDEN);
    assert_eq!(
        closed.error_message(),
        "The query '$/Events/Cvent/Not for REST' is not available through the REST API."
    );
    let without = site
        .get(&token, "/api/query", &[("QueryName", eligible)])
        .await;
    assert_eq!(without.status, StatusCode::BAD_REQUEST);

    // A query of some customer types, with no parameter and two columns.
    site.control(
        Method::PUT,
        "/queries",
        json!({
            "name": "$/Events/Cvent/Students", "parameter": "none",
            "condition": {"customer_types": ["STU"]}, "columns": ["ImisId", "MemberType"]
        }),
    )
    .await;
    let students = site
        .get(
            &token,
            "/api/query",
            &[("QueryName", "$/Events/Cvent/Students"), ("limit", "500")],
        )
        .await
        .json();
    let rows = items(&students);
    assert!(!rows.is_empty());
    for row in &rows {
        assert_eq!(row["MemberType"], "STU");
        assert_eq!(row.as_object().map(|o| o.len()), Some(3), "{row}");
    }
    let parties = site
        .get(&token, "/api/Party", &[("limit", "500")])
        .await
        .json();
    let student_count = items(&parties)
        .iter()
        .filter(|party| party["AdditionalAttributes"]["$values"][1]["Value"] == "STU")
        .count();
    assert_eq!(rows.len(), student_count);
}

#[tokio::test]
async fn faults_answer_503_in_plain_text_and_429_with_retry_after() {
    let site = Site::start().await;
    let token = site.token().await;
    site.control(
        Method::PUT,
        "/faults",
        json!({"next": [503, 429], "retry_after_seconds": 7}),
    )
    .await;
    // The token endpoint is not behind the faults.
    let fresh = site.token().await;
    let unavailable = site.get(&fresh, "/api/Party/10001", &[]).await;
    assert_eq!(unavailable.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(unavailable.text, "Service Unavailable");
    assert!(
        unavailable
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/plain"))
    );
    let throttled = site.get(&token, "/api/Party/10001", &[]).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        throttled.headers.get(RETRY_AFTER).map(|v| v.as_bytes()),
        Some(&b"7"[..])
    );
    assert_eq!(
        site.get(&token, "/api/Party/10001", &[]).await.status,
        StatusCode::OK
    );
    let refused = sandboxes::control(
        &site.http,
        &site.sandbox.control_url(),
        Method::PUT,
        "/faults",
        &json!({"next": [404]}),
    )
    .await;
    assert!(refused.is_err());
}

#[tokio::test]
async fn the_call_log_keeps_every_call_in_order() {
    let site = Site::start().await;
    let token = site.token().await;
    site.control(Method::DELETE, "/calls", json!(null)).await;
    site.get(&token, "/api/Party", &[("Email", "eq:x@y.example")])
        .await;
    site.get(&token, "/api/Party/99999", &[]).await;
    site.post(&token, "/api/Activity", &event_registration("10001", "k"))
        .await;
    let log = site.control(Method::GET, "/calls", json!(null)).await;
    assert_eq!(log["total"], 3);
    assert_eq!(
        log["calls"],
        json!([
            {"method": "GET", "path": "/imis/api/Party?Email=eq%3Ax%40y.example", "status": 200},
            {"method": "GET", "path": "/imis/api/Party/99999", "status": 404},
            {"method": "POST", "path": "/imis/api/Activity", "status": 201},
        ])
    );
}

#[tokio::test]
async fn the_same_seed_gives_the_same_data() {
    async fn everyone(seed: u64) -> Value {
        let site = Site::start_with(SandboxConfig {
            seed,
            parties: 300,
            ..SandboxConfig::default()
        })
        .await;
        let token = site.token().await;
        site.get(&token, "/api/Party", &[("limit", "500")])
            .await
            .json()
    }
    let first = everyone(5).await;
    assert_eq!(first["Count"], 300);
    assert_eq!(first, everyone(5).await);
    assert_ne!(first, everyone(6).await);
    let members = items(&first)
        .iter()
        .filter(|party| party["AdditionalAttributes"]["$values"][0]["Value"]["$value"] == true)
        .count();
    assert!((100..250).contains(&members), "{members} members");
}

#[tokio::test]
async fn the_control_api_adds_parties_and_resets_the_site() {
    let site = Site::start().await;
    let token = site.token().await;
    let added = site
        .control(
            Method::POST,
            "/parties",
            json!({"id": "30001", "first_name": "Ann", "last_name": "Added",
                   "emails": ["ann@added.example", "ann.home@added.example"],
                   "is_member": true, "member_type": "LIFE"}),
        )
        .await;
    assert_eq!(added["id"], "30001");
    let conflict = sandboxes::control(
        &site.http,
        &site.sandbox.control_url(),
        Method::POST,
        "/parties",
        &json!({"id": "30001", "first_name": "Again"}),
    )
    .await;
    assert!(conflict.is_err_and(|error| error.contains("409")));
    let next = site.add_party(json!({"last_name": "Next"})).await;
    assert_eq!(next, "30002");
    let shown = site
        .control(Method::GET, "/parties/30001", json!(null))
        .await;
    assert_eq!(shown["member_type"], "LIFE");
    let person = site.get(&token, "/api/Party/30001", &[]).await.json();
    assert_eq!(person["Emails"]["$values"][1]["IsPrimary"], false);
    assert_eq!(
        person["AdditionalAttributes"]["$values"][1]["Value"],
        "LIFE"
    );

    site.post(&token, "/api/Activity", &event_registration("30001", "k"))
        .await;
    site.control(Method::POST, "/reset", json!(null)).await;
    assert_eq!(
        site.get(&token, "/api/Party/30001", &[]).await.status,
        StatusCode::NOT_FOUND,
        "issued tokens outlive a reset; added parties do not"
    );
    assert_eq!(
        site.control(Method::GET, "/activities", json!(null)).await,
        json!([])
    );
    let info = site.control(Method::GET, "/info", json!(null)).await;
    assert_eq!(info["parties"], 500);
    assert_eq!(info["site_url"], site.sandbox.base_url());
}

#[tokio::test]
async fn answers_take_the_latency_set_and_faults_none() {
    let site = Site::start().await;
    let token = site.token().await;
    let latency = json!({"page_ms": [150, 150], "object_ms": [150, 150]});
    let shown = site.control(Method::PUT, "/latency", latency.clone()).await;
    assert_eq!(shown, latency);
    let started = std::time::Instant::now();
    let answer = site.get(&token, "/api/Party/10001", &[]).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(started.elapsed() >= std::time::Duration::from_millis(150));
    site.control(Method::PUT, "/latency", json!({"off": true}))
        .await;
    assert_eq!(
        site.control(Method::GET, "/latency", json!(null)).await,
        json!({"off": true})
    );
}

#[tokio::test]
async fn saved_queries_are_checked_before_any_is_saved() {
    let site = Site::start().await;
    let put = |body: Value| {
        let http = site.http.clone();
        let url = site.sandbox.control_url();
        async move { sandboxes::control(&http, &url, Method::PUT, "/queries", &body).await }
    };
    let refused = put(json!([
        {"name": "$/Events/Cvent/Fine"},
        {"name": "Events/No root"},
    ]))
    .await;
    assert!(refused.is_err_and(|error| error.contains("must start with $/")));
    let typo = put(json!([{"name": "$/Q", "colums": ["ImisId"]}])).await;
    assert!(typo.is_err_and(|error| error.contains("colums")));
    let listed = site.control(Method::GET, "/queries", json!(null)).await;
    let names: Vec<&str> = listed
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|query| query["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "$/Events/Cvent/Eligible members",
            "$/Events/Cvent/Everyone",
            "$/Events/Cvent/Not for REST",
        ]
    );
    let saved = put(json!([
        {"name": "$/Events/Cvent/Everyone", "rest_enabled": false},
        {"name": "$/Events/Cvent/Gold", "condition": {"customer_types": ["LIFE"]}},
    ]))
    .await
    .expect("saved");
    assert_eq!(saved.as_array().map(Vec::len), Some(4));
    assert_eq!(saved[1]["rest_enabled"], false);
}

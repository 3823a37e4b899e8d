//! The iMIS client against the iMIS sandbox over HTTP: signing in beneath a virtual directory,
//! token renewal, parties, activities, events, saved queries, paging, refusals and retries.

use std::time::{Duration, Instant};

use connectors::imis::{
    EventSaved, Imis, ImisConfig, ImisEvent, ImisFunction, NewActivity, QueryService, SavedQuery,
};
use connectors::{ConnectorError, RetryPolicy};
use reqwest::Method;
use sandboxes::imis::{ImisSandbox, SandboxConfig};
use serde_json::{Value, json};

const FAST_RETRY: RetryPolicy = RetryPolicy {
    initial: Duration::from_millis(5),
    max: Duration::from_millis(20),
    attempts: 4,
};

const ELIGIBLE_MEMBERS: &str = "$/Events/Cvent/Eligible members";

async fn sandbox() -> ImisSandbox {
    ImisSandbox::start(SandboxConfig {
        parties: 40,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts")
}

fn config(sandbox: &ImisSandbox) -> ImisConfig {
    ImisConfig {
        connection: "association".into(),
        site_url: sandbox.base_url(),
        username: sandbox.username().into(),
        password: sandbox.password().into(),
        retry: FAST_RETRY,
    }
}

fn client(sandbox: &ImisSandbox) -> Imis {
    Imis::new(config(sandbox)).expect("a good site URL")
}

async fn control(sandbox: &ImisSandbox, method: Method, path: &str, body: Value) -> Value {
    sandboxes::control(
        &reqwest::Client::new(),
        &sandbox.control_url(),
        method,
        path,
        &body,
    )
    .await
    .expect("control call")
}

/// The calls the site answered: method, path and status.
async fn calls(sandbox: &ImisSandbox) -> Vec<(String, String, u16)> {
    let log = control(sandbox, Method::GET, "/calls", Value::Null).await;
    log["calls"]
        .as_array()
        .expect("calls")
        .iter()
        .map(|call| {
            (
                call["method"].as_str().unwrap_or_default().to_string(),
                call["path"].as_str().unwrap_or_default().to_string(),
                call["status"].as_u64().unwrap_or_default() as u16,
            )
        })
        .collect()
}

async fn token_calls(sandbox: &ImisSandbox) -> usize {
    calls(sandbox)
        .await
        .iter()
        .filter(|(_, path, _)| path.to_ascii_lowercase().ends_with("/token"))
        .count()
}

async fn set_faults(sandbox: &ImisSandbox, faults: Value) {
    control(sandbox, Method::PUT, "/faults", faults).await;
}

async fn add_party(sandbox: &ImisSandbox, party: Value) {
    control(sandbox, Method::POST, "/parties", party).await;
}

fn activity(party_id: &str, key: &str) -> NewActivity {
    NewActivity {
        party_id: party_id.into(),
        activity_type: "EVENT".into(),
        product_code: "ANNUAL26".into(),
        description: "Annual Conference 2026".into(),
        transaction_date: Some("2026-03-02T09:00:00".into()),
        key_field: "UF_1".into(),
        key: key.into(),
    }
}

#[tokio::test]
async fn signs_in_beneath_the_virtual_directory() {
    let sandbox = sandbox().await;
    assert!(
        sandbox.base_url().ends_with("/imis"),
        "{}",
        sandbox.base_url()
    );
    client(&sandbox).sign_in().await.expect("signs in");

    let mut with_slash = config(&sandbox);
    with_slash.site_url = format!("{}/", sandbox.base_url());
    let imis = Imis::new(with_slash).expect("a good site URL");
    let first = sandbox.party_ids()[0].clone();
    let party = imis.party(&first).await.expect("reads a party");
    assert_eq!(party.map(|p| p.id), Some(first.clone()));

    let paths: Vec<String> = calls(&sandbox).await.into_iter().map(|c| c.1).collect();
    assert_eq!(
        paths,
        [
            "/imis/token".to_string(),
            "/imis/token".to_string(),
            format!("/imis/api/Party/{first}"),
        ]
    );
}

#[tokio::test]
async fn a_wrong_password_is_an_auth_error_with_imis_words() {
    let sandbox = sandbox().await;
    let mut wrong = config(&sandbox);
    wrong.password = "not-the-password".into();
    let error = Imis::new(wrong)
        .expect("a good site URL")
        .sign_in()
        .await
        .expect_err("refused");
    let ConnectorError::Auth(message) = &error else {
        panic!("not an auth error: {error:?}");
    };
    assert!(
        message.contains("The user name or password is incorrect."),
        "{message}"
    );
    assert!(message.contains("association"), "{message}");
    assert!(!message.contains("not-the-password"), "{message}");
}

#[tokio::test]
async fn an_expired_token_is_renewed_with_one_more_sign_in() {
    let sandbox = sandbox().await;
    let imis = client(&sandbox);
    let id = sandbox.party_ids()[0].clone();
    imis.party(&id).await.expect("first read");
    set_faults(&sandbox, json!({"expire_tokens": true})).await;
    let party = imis.party(&id).await.expect("read after expiry");
    assert!(party.is_some());

    assert_eq!(token_calls(&sandbox).await, 2);
    let party = format!("/imis/api/Party/{id}");
    let seen: Vec<(String, u16)> = calls(&sandbox)
        .await
        .into_iter()
        .map(|call| (call.1, call.2))
        .collect();
    assert_eq!(
        seen,
        [
            ("/imis/token".to_string(), 200),
            (party.clone(), 200),
            (party.clone(), 401),
            ("/imis/token".to_string(), 200),
            (party, 200),
        ]
    );
    assert_eq!(imis.token_requests(), 2);
}

#[tokio::test]
async fn a_token_is_renewed_before_it_runs_out() {
    let sandbox = sandbox().await;
    set_faults(&sandbox, json!({"token_lifetime_seconds": 2})).await;
    let imis = client(&sandbox);
    let id = sandbox.party_ids()[0].clone();
    imis.party(&id).await.expect("first read");
    // A two-second token is used for one second only.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    imis.party(&id).await.expect("second read");

    assert_eq!(token_calls(&sandbox).await, 2);
    assert!(
        calls(&sandbox).await.iter().all(|call| call.2 != 401),
        "the token was renewed before iMIS refused it"
    );
}

#[tokio::test]
async fn a_fresh_token_refused_again_is_an_auth_error() {
    let sandbox = sandbox().await;
    // Every token iMIS issues is already spent.
    set_faults(&sandbox, json!({"token_lifetime_seconds": 0})).await;
    let imis = client(&sandbox);
    let error = imis
        .party(&sandbox.party_ids()[0])
        .await
        .expect_err("refused");
    let ConnectorError::Auth(message) = &error else {
        panic!("not an auth error: {error:?}");
    };
    assert!(message.contains("user name and password"), "{message}");
    assert!(
        message.contains("Authorization has been denied for this request."),
        "{message}"
    );
    let api_calls: Vec<u16> = calls(&sandbox)
        .await
        .iter()
        .filter(|call| call.1.contains("/api/"))
        .map(|call| call.2)
        .collect();
    assert_eq!(api_calls, [401, 401]);
    assert_eq!(token_calls(&sandbox).await, 2);
}

#[tokio::test]
async fn parties_are_found_by_id_and_by_email() {
    let sandbox = sandbox().await;
    add_party(
        &sandbox,
        json!({"id": "23051", "first_name": "Ada", "last_name": "Lovelace",
               "emails": ["ada@engines.example", "ada@home.example"], "company": "Analytical Engines",
               "title": "Countess", "is_member": true, "member_type": "M"}),
    )
    .await;
    add_party(
        &sandbox,
        json!({"id": "23052", "first_name": "Augusta", "last_name": "King",
               "emails": ["ADA@Engines.example"], "is_member": false}),
    )
    .await;
    let imis = client(&sandbox);

    let ada = imis.party("23051").await.expect("reads").expect("a party");
    assert_eq!(ada.id, "23051");
    assert_eq!(ada.first_name.as_deref(), Some("Ada"));
    assert_eq!(ada.last_name.as_deref(), Some("Lovelace"));
    assert_eq!(ada.emails, ["ada@engines.example", "ada@home.example"]);
    assert_eq!(ada.company.as_deref(), Some("Analytical Engines"));
    assert_eq!(ada.title.as_deref(), Some("Countess"));
    assert_eq!(ada.is_member, Some(true));
    assert_eq!(ada.member_type.as_deref(), Some("M"));
    assert_eq!(imis.party("99999999").await.expect("reads"), None);

    let mut sharing: Vec<String> = imis
        .parties_by_email("Ada@engines.example")
        .await
        .expect("lists")
        .into_iter()
        .map(|party| party.id)
        .collect();
    sharing.sort();
    assert_eq!(sharing, ["23051", "23052"]);
    let second = imis
        .parties_by_email("ada@home.example")
        .await
        .expect("lists");
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].is_member, Some(true));
    // Whole addresses only: a prefix matches nobody.
    assert!(
        imis.parties_by_email("ada@engines")
            .await
            .expect("lists")
            .is_empty()
    );
}

#[tokio::test]
async fn an_activity_is_created_found_and_deleted() {
    let sandbox = sandbox().await;
    let imis = client(&sandbox);
    let party_id = sandbox.party_ids()[0].clone();
    assert!(imis.activity_type_exists("EVENT").await.expect("looks up"));
    assert!(imis.activity_type_exists("event").await.expect("looks up"));
    assert!(!imis.activity_type_exists("NOPE").await.expect("looks up"));

    let seqn = imis
        .create_activity(&activity(&party_id, "cvent:att-1"))
        .await
        .expect("creates");
    let found = imis
        .find_activities(&[("PartyId", &party_id), ("UF_1", "cvent:att-1")])
        .await
        .expect("finds");
    assert_eq!(found.len(), 1);
    let found = &found[0];
    assert_eq!(found.seqn, seqn);
    assert_eq!(found.party_id.as_deref(), Some(party_id.as_str()));
    assert_eq!(found.activity_type.as_deref(), Some("EVENT"));
    assert_eq!(found.product_code.as_deref(), Some("ANNUAL26"));
    assert_eq!(
        found.properties.get("DESCRIPTION").map(String::as_str),
        Some("Annual Conference 2026")
    );
    assert!(
        found
            .properties
            .get("TRANSACTION_DATE")
            .is_some_and(|date| date.starts_with("2026-03-02T09:00")),
        "{:?}",
        found.properties
    );
    let other_key = imis
        .find_activities(&[("PartyId", &party_id), ("UF_1", "cvent:att-2")])
        .await
        .expect("finds");
    assert!(other_key.is_empty());

    assert!(imis.delete_activity(seqn).await.expect("deletes"));
    assert!(!imis.delete_activity(seqn).await.expect("deletes again"));
    let control_view = control(&sandbox, Method::GET, "/activities", Value::Null).await;
    assert_eq!(control_view, json!([]));
}

#[tokio::test]
async fn a_refused_activity_carries_imis_message() {
    let sandbox = sandbox().await;
    let imis = client(&sandbox);
    let party_id = sandbox.party_ids()[0].clone();

    let mut unknown_type = activity(&party_id, "k");
    unknown_type.activity_type = "NOPE".into();
    let error = imis
        .create_activity(&unknown_type)
        .await
        .expect_err("refused");
    let ConnectorError::Rejected(message) = &error else {
        panic!("not a rejection: {error:?}");
    };
    assert!(
        message.ends_with(": Activity type 'NOPE' is not valid."),
        "{message}"
    );

    let error = imis
        .create_activity(&activity("99999999", "k"))
        .await
        .expect_err("refused");
    assert!(
        matches!(&error, ConnectorError::Rejected(m) if m.ends_with(": Party '99999999' was not found.")),
        "{error:?}"
    );
}

#[tokio::test]
async fn unavailable_and_throttled_calls_are_retried() {
    let sandbox = sandbox().await;
    let imis = client(&sandbox);
    let id = sandbox.party_ids()[0].clone();
    imis.sign_in().await.expect("signs in");

    set_faults(&sandbox, json!({"next": [503, 502]})).await;
    assert!(
        imis.party(&id)
            .await
            .expect("read after 503 and 502")
            .is_some()
    );

    set_faults(&sandbox, json!({"next": [429], "retry_after_seconds": 1})).await;
    let started = Instant::now();
    assert!(imis.party(&id).await.expect("read after 429").is_some());
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not waited for"
    );

    let statuses: Vec<u16> = calls(&sandbox).await.iter().map(|c| c.2).collect();
    assert_eq!(statuses, [200, 503, 502, 200, 429, 200]);
}

#[tokio::test]
async fn calls_that_stay_unavailable_give_up() {
    let sandbox = sandbox().await;
    let imis = client(&sandbox);
    let id = sandbox.party_ids()[0].clone();

    set_faults(&sandbox, json!({"next": [503, 503, 503, 503]})).await;
    let error = imis.party(&id).await.expect_err("gives up");
    assert!(
        matches!(&error, ConnectorError::Transient(m) if m.contains("503") && m.contains("after 4 attempts")),
        "{error:?}"
    );

    set_faults(
        &sandbox,
        json!({"next": [429, 429, 429, 429], "retry_after_seconds": 0}),
    )
    .await;
    let error = imis.party(&id).await.expect_err("gives up");
    assert!(matches!(error, ConnectorError::Throttled(_)), "{error:?}");
}

#[tokio::test]
async fn a_create_is_repeated_only_when_imis_surely_did_not_act() {
    let sandbox = sandbox().await;
    let imis = client(&sandbox);
    let party_id = sandbox.party_ids()[0].clone();
    imis.sign_in().await.expect("signs in");

    // A 503 means the request was not carried out: it is sent again.
    set_faults(&sandbox, json!({"next": [503]})).await;
    imis.create_activity(&activity(&party_id, "after-503"))
        .await
        .expect("created on the second attempt");

    // A 500 may have come after the work was done: the caller hears of it.
    set_faults(&sandbox, json!({"next": [500]})).await;
    let error = imis
        .create_activity(&activity(&party_id, "after-500"))
        .await
        .expect_err("not repeated");
    assert!(matches!(error, ConnectorError::Transient(_)), "{error:?}");

    let posts: Vec<u16> = calls(&sandbox)
        .await
        .iter()
        .filter(|call| call.0 == "POST" && call.1.contains("/api/"))
        .map(|call| call.2)
        .collect();
    assert_eq!(posts, [503, 201, 500]);
    let activities = control(&sandbox, Method::GET, "/activities", Value::Null).await;
    assert_eq!(activities.as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn listings_follow_every_page() {
    let sandbox = sandbox().await;
    let imis = client(&sandbox).with_page_size(5);
    let party_id = sandbox.party_ids()[1].clone();
    for index in 0..12 {
        imis.create_activity(&activity(&party_id, &format!("key-{index}")))
            .await
            .expect("creates");
    }
    let found = imis
        .find_activities(&[("PartyId", &party_id), ("ACTIVITY_TYPE", "EVENT")])
        .await
        .expect("lists");
    let mut keys: Vec<String> = found
        .iter()
        .filter_map(|activity| activity.properties.get("UF_1").cloned())
        .collect();
    keys.sort();
    let mut expected: Vec<String> = (0..12).map(|index| format!("key-{index}")).collect();
    expected.sort();
    assert_eq!(keys, expected);

    let pages: Vec<String> = calls(&sandbox)
        .await
        .into_iter()
        .filter(|call| call.0 == "GET" && call.1.contains("/api/Activity?"))
        .map(|call| call.1)
        .collect();
    assert_eq!(pages.len(), 3, "{pages:?}");
    assert!(pages[2].contains("offset=10"), "{pages:?}");
}

fn annual_event() -> ImisEvent {
    ImisEvent {
        id: "ANNUAL26".into(),
        name: "Annual Conference 2026".into(),
        description: Some("Three days in Leeds".into()),
        start: Some("2026-03-02T09:00:00".into()),
        end: Some("2026-03-04T17:00:00".into()),
        functions: vec![
            ImisFunction {
                code: "KEYNOTE".into(),
                name: "Opening keynote".into(),
                description: None,
                start: Some("2026-03-02T09:00:00".into()),
                end: Some("2026-03-02T10:00:00".into()),
            },
            ImisFunction {
                code: "DINNER".into(),
                name: "Conference dinner".into(),
                description: Some("Black tie".into()),
                start: Some("2026-03-03T19:00:00".into()),
                end: Some("2026-03-03T22:00:00".into()),
            },
        ],
    }
}

#[tokio::test]
async fn an_event_is_created_then_left_alone_then_updated() {
    let sandbox = sandbox().await;
    let imis = client(&sandbox);
    assert_eq!(imis.event("ANNUAL26").await.expect("reads"), None);

    let mut event = annual_event();
    assert_eq!(
        imis.save_event(&event).await.expect("saves"),
        EventSaved::Created
    );
    let held = imis.event("ANNUAL26").await.expect("reads").expect("held");
    assert_eq!(held, event);
    let shown = control(&sandbox, Method::GET, "/events", Value::Null).await;
    let function_ids: Vec<&str> = shown[0]["functions"]
        .as_array()
        .expect("functions")
        .iter()
        .filter_map(|f| f["function_id"].as_str())
        .collect();
    assert_eq!(function_ids, ["ANNUAL26/KEYNOTE", "ANNUAL26/DINNER"]);

    assert_eq!(
        imis.save_event(&event).await.expect("saves"),
        EventSaved::Unchanged
    );
    let writes = calls(&sandbox)
        .await
        .iter()
        .filter(|call| call.0 != "GET")
        .count();
    assert_eq!(writes, 2, "a token and the creation: nothing for Unchanged");

    event.functions[0].name = "Keynote: the analytical engine".into();
    event.functions.push(ImisFunction {
        code: "CLOSING".into(),
        name: "Closing remarks".into(),
        description: None,
        start: Some("2026-03-04T16:00:00".into()),
        end: Some("2026-03-04T17:00:00".into()),
    });
    assert_eq!(
        imis.save_event(&event).await.expect("saves"),
        EventSaved::Updated
    );
    let held = imis.event("ANNUAL26").await.expect("reads").expect("held");
    assert_eq!(held, event);
    assert_eq!(
        imis.save_event(&event).await.expect("saves"),
        EventSaved::Unchanged
    );
}

#[tokio::test]
async fn an_event_imis_refuses_carries_its_message() {
    let sandbox = sandbox().await;
    let imis = client(&sandbox);
    let mut event = annual_event();
    event.id = "ANNUAL2026CONF".into();
    let error = imis.save_event(&event).await.expect_err("refused");
    assert!(
        matches!(&error, ConnectorError::Rejected(m) if m.contains("EventId 'ANNUAL2026CONF'")),
        "{error:?}"
    );
}

#[tokio::test]
async fn saved_queries_give_rows_through_both_services() {
    let sandbox = sandbox().await;
    add_party(
        &sandbox,
        json!({"id": "30001", "first_name": "Grace", "last_name": "Hopper",
               "emails": ["grace@navy.example"], "company": "Navy", "is_member": true, "member_type": "M"}),
    )
    .await;
    add_party(
        &sandbox,
        json!({"id": "30002", "first_name": "Alan", "last_name": "Turing",
               "emails": ["alan@bletchley.example"], "is_member": false}),
    )
    .await;
    let imis = client(&sandbox);
    let query = SavedQuery {
        name: ELIGIBLE_MEMBERS.into(),
        service: QueryService::Query,
    };
    let iqa = SavedQuery {
        name: ELIGIBLE_MEMBERS.into(),
        service: QueryService::Iqa,
    };
    imis.check_query(&query)
        .await
        .expect("runs through the Query service");
    imis.check_query(&iqa).await.expect("runs through IQA");

    let rows = imis.run_query(&query, "30001").await.expect("runs");
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.get("ImisId").map(String::as_str), Some("30001"));
    assert_eq!(row.get("FirstName").map(String::as_str), Some("Grace"));
    assert_eq!(
        row.get("Email").map(String::as_str),
        Some("grace@navy.example")
    );
    assert!(!row.contains_key("$type"));
    let by_email = imis
        .run_query(&query, "GRACE@navy.example")
        .await
        .expect("runs");
    assert_eq!(by_email, rows);
    assert_eq!(imis.run_query(&iqa, "30001").await.expect("runs"), rows);

    // Not a member: not eligible.
    assert!(
        imis.run_query(&query, "30002")
            .await
            .expect("runs")
            .is_empty()
    );
    assert!(
        imis.run_query(&iqa, "30002")
            .await
            .expect("runs")
            .is_empty()
    );
}

#[tokio::test]
async fn query_rows_are_read_over_every_page() {
    let sandbox = sandbox().await;
    control(
        &sandbox,
        Method::PUT,
        "/queries",
        json!({"name": "$/Events/Cvent/All parties", "parameter": "none"}),
    )
    .await;
    let imis = client(&sandbox).with_page_size(15);
    for service in [QueryService::Query, QueryService::Iqa] {
        let query = SavedQuery {
            name: "$/Events/Cvent/All parties".into(),
            service,
        };
        let rows = imis.run_query(&query, "").await.expect("runs");
        let ids: Vec<String> = rows
            .iter()
            .filter_map(|row| row.get("ImisId").cloned())
            .collect();
        assert_eq!(ids, sandbox.party_ids(), "{service:?}");
    }
}

#[tokio::test]
async fn unknown_and_unavailable_queries_carry_imis_message() {
    let sandbox = sandbox().await;
    let imis = client(&sandbox);
    for service in [QueryService::Query, QueryService::Iqa] {
        let unknown = SavedQuery {
            name: "$/Events/Cvent/No such query".into(),
            service,
        };
        let error = imis.check_query(&unknown).await.expect_err("unknown");
        assert!(
            matches!(&error, ConnectorError::NotFound(m) if m.ends_with(": The query '$/Events/Cvent/No such query' was not found.")),
            "{error:?}"
        );
        let hidden = SavedQuery {
            name: "$/Events/Cvent/Not for REST".into(),
            service,
        };
        let error = imis.check_query(&hidden).await.expect_err("not for REST");
        assert!(
            matches!(&error, ConnectorError::Forbidden { message, .. } if message.ends_with(": The query '$/Events/Cvent/Not for REST' is not available through the REST API.")),
            "{error:?}"
        );
        let error = imis
            .run_query(&hidden, "30001")
            .await
            .expect_err("not for REST");
        assert!(
            matches!(error, ConnectorError::Forbidden { .. }),
            "{error:?}"
        );
    }
}

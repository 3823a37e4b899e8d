//! Inviting people through the Cvent REST connector, against the sandbox over HTTP: a new person
//! becomes one invitee, found again by email; their link opens the registration page with their
//! details; Cvent's refusals and a missing scope surface as variants with Cvent's words.

use std::time::Duration;

use connectors::ConnectorError;
use connectors::cvent_rest::{
    CventRest, CventRestConfig, Facts, InviteeContact, RetryPolicy, WRITE_SCOPES,
};
use pipeline::DataType;
use sandboxes::cvent_rest::{CventRestSandbox, SandboxConfig};
use serde_json::Value;

const FAST_RETRY: RetryPolicy = RetryPolicy {
    initial: Duration::from_millis(10),
    max: Duration::from_millis(80),
    attempts: 5,
};

async fn start_with(config: SandboxConfig) -> (CventRestSandbox, CventRest) {
    let sandbox = CventRestSandbox::start(config).await.expect("sandbox");
    let config = CventRestConfig {
        connection: "cvent".into(),
        base_url: sandbox.base_url(),
        event_code: sandbox.event_code().to_string(),
        client_id: sandbox.client_id().to_string(),
        client_secret: sandbox.client_secret().to_string(),
        retry: FAST_RETRY,
    };
    let connector =
        CventRest::for_writes(config, &[DataType::People], Facts::default()).expect("connector");
    (sandbox, connector)
}

async fn start() -> (CventRestSandbox, CventRest) {
    start_with(SandboxConfig {
        attendees: 300,
        ..SandboxConfig::default()
    })
    .await
}

fn ada() -> InviteeContact {
    InviteeContact {
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        email: "ada@example.org".into(),
        company: Some("Analytical Engines".into()),
        title: Some("Countess".into()),
    }
}

/// The event's attendees, through the connector's own listing.
async fn people(connector: &CventRest) -> Vec<Value> {
    let mut pull = connector
        .pull(connectors::PullSpec {
            data_type: DataType::People,
            mode: connectors::PullMode::Full,
            resume_token: None,
            statuses: connectors::StatusQuery::Any,
            concurrency: 1,
        })
        .await
        .expect("pull");
    let mut records = Vec::new();
    while let Some(page) = pull.next_page().await.expect("page") {
        records.extend(
            page.records
                .into_iter()
                .map(|record| serde_json::from_str(record.raw.get()).expect("JSON record")),
        );
    }
    records
}

fn with_email<'a>(people: &'a [Value], email: &str) -> Vec<&'a Value> {
    people
        .iter()
        .filter(|person| {
            person["contact"]["email"]
                .as_str()
                .is_some_and(|found| found.eq_ignore_ascii_case(email))
        })
        .collect()
}

#[tokio::test]
async fn a_new_person_is_invited_once_and_found_again_by_email() {
    let (sandbox, connector) = start().await;
    let invited = connector.invite(&ada()).await.expect("invite");
    assert!(invited.created);
    assert_eq!(invited.status, "No Response");
    let page = format!("http://{}/r/{}?i=", sandbox.address(), sandbox.event_code());
    assert!(
        invited.accept_link.starts_with(&page),
        "{}",
        invited.accept_link
    );

    let shouting = InviteeContact {
        email: "  ADA@Example.org ".into(),
        ..ada()
    };
    let again = connector.invite(&shouting).await.expect("invite again");
    assert!(!again.created, "the event already has her");
    assert_eq!(again.attendee_id, invited.attendee_id);
    assert_eq!(again.accept_link, invited.accept_link);

    let people = people(&connector).await;
    let held = with_email(&people, "ada@example.org");
    assert_eq!(held.len(), 1, "the sandbox holds one attendee for her");
    let contact = &held[0]["contact"];
    assert_eq!(held[0]["id"], invited.attendee_id.as_str());
    assert_eq!(contact["firstName"], "Ada");
    assert_eq!(contact["lastName"], "Lovelace");
    assert_eq!(contact["company"], "Analytical Engines");
    assert_eq!(contact["title"], "Countess");
}

#[tokio::test]
async fn the_link_opens_the_registration_page_with_the_persons_details() {
    let (_sandbox, connector) = start().await;
    let invited = connector.invite(&ada()).await.expect("invite");
    let http = reqwest::Client::new();
    let response = http
        .get(&invited.accept_link)
        .send()
        .await
        .expect("the page");
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let html = response.text().await.expect("HTML");
    for value in [
        "Ada",
        "Lovelace",
        "ada@example.org",
        "Analytical Engines",
        "Countess",
    ] {
        assert!(
            html.contains(&format!("value=\"{value}\"")),
            "{value} in {html}"
        );
    }
    assert!(html.contains("id=\"submit\""), "{html}");

    let submitted = http
        .post(&invited.accept_link)
        .form(&[("firstName", "Ada")])
        .send()
        .await
        .expect("submit");
    assert_eq!(submitted.status(), reqwest::StatusCode::OK);
    let registered = connector.invite(&ada()).await.expect("invite after");
    assert!(!registered.created);
    assert_eq!(registered.status, "Accepted");
}

#[tokio::test]
async fn cvents_refusal_is_surfaced_in_its_own_words() {
    let (_sandbox, connector) = start().await;
    let long_name = InviteeContact {
        first_name: "A".repeat(31),
        ..ada()
    };
    match connector.invite(&long_name).await {
        Err(ConnectorError::Rejected(message)) => assert!(
            message.contains("(400): firstName is longer than 30 characters"),
            "{message}"
        ),
        other => panic!("expected Cvent's refusal, got {other:?}"),
    }
    let no_email = InviteeContact {
        email: "x@y".into(),
        ..ada()
    };
    match connector.invite(&no_email).await {
        Err(ConnectorError::Rejected(message)) => assert!(
            message.contains("'x@y' is not an email address of 6 to 80 characters"),
            "{message}"
        ),
        other => panic!("expected Cvent's refusal, got {other:?}"),
    }
    let people = people(&connector).await;
    assert!(with_email(&people, "x@y").is_empty(), "nobody was invited");
}

#[tokio::test]
async fn someone_without_a_registration_link_is_not_found() {
    let (_sandbox, connector) = start().await;
    // The sandbox's generated attendees carry no webLinks; an attendee Cvent sends so is
    // reported, never invited a second time.
    let listed = people(&connector).await;
    let generated = listed
        .iter()
        .find(|person| person["guest"] == false)
        .expect("a generated attendee");
    let email = generated["contact"]["email"].as_str().expect("email");
    let person = InviteeContact {
        email: email.to_string(),
        ..ada()
    };
    match connector.invite(&person).await {
        Err(ConnectorError::NotFound(message)) => {
            let id = generated["id"].as_str().unwrap_or_default();
            assert!(message.contains(id), "{message}");
            assert!(message.contains("webLinks.acceptRegistration"), "{message}");
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
    let after = people(&connector).await;
    assert_eq!(with_email(&after, email).len(), 1, "nobody was added");
}

#[tokio::test]
async fn a_missing_scope_is_forbidden_naming_it() {
    let scopes = [
        "event/events:read",
        "event/attendees:read",
        "event/contacts:write",
    ]
    .iter()
    .chain(
        WRITE_SCOPES
            .iter()
            .filter(|s| **s != "event/attendees:write"),
    )
    .map(|scope| scope.to_string())
    .collect();
    let (_sandbox, connector) = start_with(SandboxConfig {
        attendees: 50,
        scopes,
        ..SandboxConfig::default()
    })
    .await;
    match connector.invite(&ada()).await {
        Err(ConnectorError::Forbidden { scope, message }) => {
            assert_eq!(scope, "event/attendees:write");
            assert!(message.contains("event/attendees:write"), "{message}");
        }
        other => panic!("expected Forbidden, got {other:?}"),
    }
}

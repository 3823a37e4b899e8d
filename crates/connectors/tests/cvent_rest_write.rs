//! Write-back to the Cvent REST sandbox over HTTP: session enrollment and event check-in, with
//! Cvent's refusals surfacing as variants and reasons.

use std::time::Duration;

use connectors::ConnectorError;
use connectors::cvent_rest::{CheckIn, CventRest, CventRestConfig, Facts, RetryPolicy};
use pipeline::DataType;
use sandboxes::cvent_rest::{CventRestSandbox, SandboxConfig};
use serde_json::{Value, json};

const FAST_RETRY: RetryPolicy = RetryPolicy {
    initial: Duration::from_millis(10),
    max: Duration::from_millis(80),
    attempts: 5,
};

async fn start() -> (CventRestSandbox, CventRest) {
    let sandbox = CventRestSandbox::start(SandboxConfig {
        attendees: 300,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let config = CventRestConfig {
        connection: "cvent".into(),
        base_url: sandbox.base_url(),
        event_code: sandbox.event_code().to_string(),
        client_id: sandbox.client_id().to_string(),
        client_secret: sandbox.client_secret().to_string(),
        retry: FAST_RETRY,
    };
    let connector = CventRest::for_writes(
        config,
        &[
            DataType::People,
            DataType::Sessions,
            DataType::SessionRegistrations,
        ],
        Facts::default(),
    )
    .expect("connector");
    (sandbox, connector)
}

/// Every record of a listing, through the connector's own paging.
async fn all(connector: &CventRest, data_type: DataType) -> Vec<Value> {
    let mut pull = connector
        .pull(connectors::PullSpec {
            data_type,
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

fn registration_status(enrollments: &[Value], session: &str, attendee: &str) -> Option<String> {
    enrollments
        .iter()
        .find(|e| e["session"]["id"] == session && e["attendee"]["id"] == attendee)
        .and_then(|e| e["status"].as_str())
        .map(str::to_string)
}

async fn patch_session(sandbox: &CventRestSandbox, id: &str, patch: Value) {
    let response = reqwest::Client::new()
        .patch(format!("{}/sessions/{id}", sandbox.control_url()))
        .json(&patch)
        .send()
        .await
        .expect("sandbox control");
    assert!(response.status().is_success(), "{}", response.status());
}

#[tokio::test]
async fn enrollment_registers_once_and_unenrollment_cancels() {
    let (sandbox, connector) = start().await;
    let sessions = all(&connector, DataType::Sessions).await;
    let people = all(&connector, DataType::People).await;
    let session = sessions
        .iter()
        .find(|s| s["status"] == "Active")
        .expect("an active session");
    let session_id = session["id"].as_str().unwrap().to_string();
    patch_session(&sandbox, &session_id, json!({"capacityUnlimited": true})).await;
    let attendee_id = people[0]["id"].as_str().expect("an attendee").to_string();
    // The generated data may have registered this attendee already: start from unregistered.
    let _ = connector.unenroll(&session_id, &attendee_id).await;

    connector
        .enroll(&session_id, &attendee_id)
        .await
        .expect("enroll");
    // The same enrollment again changes nothing at Cvent: a redelivery is harmless.
    connector
        .enroll(&session_id, &attendee_id)
        .await
        .expect("enroll again");
    let enrollments = all(&connector, DataType::SessionRegistrations).await;
    assert_eq!(
        registration_status(&enrollments, &session_id, &attendee_id).as_deref(),
        Some("Registered")
    );
    let registrations = enrollments
        .iter()
        .filter(|e| {
            e["session"]["id"] == session_id.as_str() && e["attendee"]["id"] == attendee_id.as_str()
        })
        .count();
    assert_eq!(registrations, 1);

    connector
        .unenroll(&session_id, &attendee_id)
        .await
        .expect("unenroll");
    let enrollments = all(&connector, DataType::SessionRegistrations).await;
    assert_eq!(
        registration_status(&enrollments, &session_id, &attendee_id).as_deref(),
        Some("Cancelled")
    );
    assert!(matches!(
        connector.unenroll(&session_id, &attendee_id).await,
        Err(ConnectorError::NotFound(_))
    ));
    sandbox.stop().await;
}

#[tokio::test]
async fn a_full_session_refuses_with_cvents_reason() {
    let (sandbox, connector) = start().await;
    let sessions = all(&connector, DataType::Sessions).await;
    let people = all(&connector, DataType::People).await;
    let session_id = sessions
        .iter()
        .find(|s| s["status"] == "Active")
        .and_then(|s| s["id"].as_str())
        .expect("an active session")
        .to_string();
    patch_session(
        &sandbox,
        &session_id,
        json!({"capacityUnlimited": false, "capacity": 0, "enableWaitlist": false}),
    )
    .await;
    let attendee_id = people[0]["id"].as_str().unwrap();
    match connector.enroll(&session_id, attendee_id).await {
        Err(ConnectorError::Rejected(reason)) => {
            assert!(reason.contains("at capacity"), "{reason}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    sandbox.stop().await;
}

#[tokio::test]
async fn check_ins_go_in_batches_of_a_hundred_with_a_result_each() {
    let (sandbox, connector) = start().await;
    let people = all(&connector, DataType::People).await;
    let eligible: Vec<&Value> = people
        .iter()
        .filter(|p| matches!(p["status"].as_str(), Some("Accepted" | "Visited")))
        .take(150)
        .collect();
    assert_eq!(
        eligible.len(),
        150,
        "the sandbox has enough accepted attendees"
    );
    let refused = people
        .iter()
        .find(|p| p["status"] == "Cancelled")
        .expect("a cancelled attendee");
    let mut check_ins: Vec<CheckIn> = eligible
        .iter()
        .map(|p| CheckIn {
            attendee_id: p["id"].as_str().unwrap().to_string(),
            at: "2026-05-01T09:00:00Z".into(),
        })
        .collect();
    check_ins.push(CheckIn {
        attendee_id: refused["id"].as_str().unwrap().to_string(),
        at: "2026-05-01T09:00:00Z".into(),
    });
    let calls_before = check_in_calls(&sandbox).await;
    let results = connector.check_in(&check_ins).await.expect("check-in");
    assert_eq!(results.len(), 151);
    assert!(results[..150].iter().all(|r| r.refusal.is_none()));
    let refusal = results[150].refusal.as_deref().unwrap_or_default();
    assert!(refusal.contains("Cancelled"), "{refusal}");
    assert_eq!(check_in_calls(&sandbox).await - calls_before, 2);

    let attendee = connector
        .fetch_one("attendees", &check_ins[0].attendee_id)
        .await
        .expect("fetch")
        .expect("the attendee exists");
    assert_eq!(attendee["checkedIn"], true);
    assert_eq!(
        connector
            .fetch_one("attendees", "no-such-id")
            .await
            .unwrap(),
        None
    );
    sandbox.stop().await;
}

async fn check_in_calls(sandbox: &CventRestSandbox) -> u64 {
    let calls: Value = reqwest::get(format!("{}/calls", sandbox.control_url()))
        .await
        .expect("call log")
        .json()
        .await
        .expect("call log JSON");
    calls["byEndpoint"]["POST /ea/events/{id}/check-in"]
        .as_u64()
        .unwrap_or(0)
}

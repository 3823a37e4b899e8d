//! The Cvent SOAP connector against the SOAP sandbox over HTTP: Login and refusals, paging by
//! `MaxBatchSize`, session expiry, the quota, faults, GetUpdated windows and SessionRegAction.

use std::time::Duration;

use connectors::cvent_soap::{Credentials, CventSoap, CventSoapConfig, SessionRegAction};
use connectors::{ConnectorError, PullMode, PullSpec, RetryPolicy, StatusQuery, VendorRecord};
use pipeline::DataType;
use sandboxes::cvent_soap::{CventSoapSandbox, SoapSandboxConfig};
use serde_json::json;

const FAST: RetryPolicy = RetryPolicy {
    initial: Duration::from_millis(5),
    max: Duration::from_millis(20),
    attempts: 3,
};

fn connector(sandbox: &CventSoapSandbox, password: &str) -> CventSoap {
    CventSoap::new(
        CventSoapConfig {
            credentials: Credentials {
                connection: "cvent".into(),
                login_url: sandbox.base_url(),
                account_number: sandbox.account_number().into(),
                user_name: sandbox.user_name().into(),
                password: password.into(),
            },
            event_code: sandbox.event_code(),
            retry: FAST,
        },
        Default::default(),
    )
    .expect("connector")
}

fn spec(data_type: DataType, mode: PullMode) -> PullSpec {
    PullSpec {
        data_type,
        mode,
        resume_token: None,
        statuses: StatusQuery::Any,
        concurrency: 1,
    }
}

/// Every page of a pull, and how many records each had.
async fn pull_all(
    connector: &CventSoap,
    spec: PullSpec,
) -> Result<(Vec<VendorRecord>, Vec<usize>), ConnectorError> {
    let mut pull = connector.pull(spec).await?;
    let mut records = Vec::new();
    let mut pages = Vec::new();
    while let Some(page) = pull.next_page().await? {
        pages.push(page.records.len());
        records.extend(page.records);
    }
    Ok((records, pages))
}

async fn control(
    sandbox: &CventSoapSandbox,
    method: reqwest::Method,
    path: &str,
    body: serde_json::Value,
) {
    let response = reqwest::Client::new()
        .request(method, format!("{}{path}", sandbox.control_url()))
        .json(&body)
        .send()
        .await
        .expect("control call");
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
}

#[tokio::test]
async fn a_refused_login_is_explained_and_never_retried() {
    let sandbox = CventSoapSandbox::start(SoapSandboxConfig::default())
        .await
        .expect("sandbox");
    let connector = connector(&sandbox, "wrong");
    let report = connector.check(&[DataType::People]).await;
    assert!(!report.ok());
    let detail = &report.findings[0].detail;
    assert!(
        detail.contains("Cvent denied the login: check account number, user name and password, and that this machine's IP address is allowed for the API user")
            && detail.contains("Access is denied."),
        "{detail}"
    );
    for _ in 0..3 {
        let again = connector.pull(spec(DataType::People, PullMode::Full)).await;
        assert!(matches!(again, Err(ConnectorError::Auth(_))));
    }
    assert_eq!(
        sandbox.calls("Login"),
        1,
        "one refused Login, never repeated"
    );
    assert!(!detail.contains("wrong"), "the password never appears");
}

#[tokio::test]
async fn people_come_in_batches_of_max_batch_size_with_contacts_and_guests() {
    let sandbox = CventSoapSandbox::start(SoapSandboxConfig {
        attendees: 450,
        max_batch_size: 100,
        ..SoapSandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let connector = connector(&sandbox, sandbox.password());
    let (records, pages) = pull_all(&connector, spec(DataType::People, PullMode::Full))
        .await
        .expect("pulled");
    let registrations = sandbox.registrations();
    let guests: usize = registrations
        .iter()
        .map(|r| r.children_named("GuestDetail").count())
        .sum();
    assert!(guests > 0);
    assert_eq!(records.len(), 450 + guests);
    assert_eq!(
        pages.len(),
        5,
        "450 registrations in batches of 100: {pages:?}"
    );
    assert_eq!(
        sandbox.calls("Retrieve"),
        10,
        "registrations and contacts per batch"
    );
    assert_eq!(
        sandbox.calls("Search"),
        2,
        "the event, then its registrations"
    );
    assert_eq!(sandbox.calls("DescribeGlobal"), 1);
    assert_eq!(connector.calls(), 13, "Login is not counted");

    let first = registrations[0].attribute("Id").unwrap_or_default();
    let record = records
        .iter()
        .find(|r| r.json()["id"] == first)
        .expect("the first registration");
    assert_eq!(
        record.json()["contact"]["id"],
        registrations[0].attribute("ContactId").unwrap_or_default()
    );
    assert_eq!(record.json()["orderdetail"][0]["producttype"], "Event");
    let guest = records
        .iter()
        .find(|r| r.json()["guest"] == true)
        .expect("a guest");
    let primary = records
        .iter()
        .find(|r| r.json()["id"] == guest.json()["primaryid"])
        .expect("the guest's registration");
    assert_eq!(guest.json()["status"], primary.json()["status"]);
}

#[tokio::test]
async fn sessions_speakers_and_session_registrations() {
    let sandbox = CventSoapSandbox::start(SoapSandboxConfig {
        attendees: 40,
        ..SoapSandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let connector = connector(&sandbox, sandbox.password());
    let (sessions, _) = pull_all(&connector, spec(DataType::Sessions, PullMode::Full))
        .await
        .expect("sessions");
    assert_eq!(sessions.len(), sandbox.sessions().len());
    assert!(sessions.iter().any(|s| s.json()["status"] == "Cancelled"));
    let (speakers, _) = pull_all(&connector, spec(DataType::Speakers, PullMode::Full))
        .await
        .expect("speakers");
    assert_eq!(speakers.len(), 18);
    let (orders, _) = pull_all(
        &connector,
        spec(DataType::SessionRegistrations, PullMode::Full),
    )
    .await
    .expect("registrations");
    let expected: usize = sandbox
        .registrations()
        .iter()
        .map(|r| {
            r.children_named("OrderDetail")
                .filter(|o| o.attribute("ProductType") == Some("Session"))
                .count()
        })
        .sum();
    assert_eq!(orders.len(), expected);
    assert!(
        orders
            .iter()
            .all(|o| o.json()["registration"]["id"].is_string())
    );
}

#[tokio::test]
async fn an_expired_session_logs_in_again_and_server_faults_are_retried() {
    let sandbox = CventSoapSandbox::start(SoapSandboxConfig {
        attendees: 300,
        ..SoapSandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let connector = connector(&sandbox, sandbox.password());
    let mut pull = connector
        .pull(spec(DataType::People, PullMode::Full))
        .await
        .expect("pull");
    let first = pull.next_page().await.expect("page").expect("a page");
    assert_eq!(
        first
            .records
            .iter()
            .filter(|r| r.json()["guest"] == false)
            .count(),
        200
    );
    sandbox.expire_sessions();
    control(
        &sandbox,
        reqwest::Method::PUT,
        "/faults",
        json!({"next": [{"operation": "Retrieve", "code": "CV10000", "times": 1}]}),
    )
    .await;
    let second = pull.next_page().await.expect("page").expect("a page");
    assert_eq!(
        second
            .records
            .iter()
            .filter(|r| r.json()["guest"] == false)
            .count(),
        100
    );
    assert!(pull.next_page().await.expect("end").is_none());
    assert_eq!(sandbox.calls("Login"), 2, "one more Login after the expiry");
}

#[tokio::test]
async fn the_daily_quota_stops_the_pull() {
    let sandbox = CventSoapSandbox::start(SoapSandboxConfig {
        attendees: 10,
        max_api_calls: 50,
        ..SoapSandboxConfig::default()
    })
    .await
    .expect("sandbox");
    control(
        &sandbox,
        reqwest::Method::PUT,
        "/usage",
        json!({"used": 47}),
    )
    .await;
    let connector = connector(&sandbox, sandbox.password());
    // DescribeGlobal (48) says 2 calls are left: the event search (49) and one more (50).
    let outcome = pull_all(&connector, spec(DataType::People, PullMode::Full)).await;
    assert!(
        matches!(outcome, Err(ConnectorError::QuotaExhausted { .. })),
        "{outcome:?}"
    );
    assert_eq!(
        sandbox.calls("Retrieve"),
        0,
        "stopped by the budget before Cvent had to refuse"
    );
}

#[tokio::test]
async fn too_many_results_fall_back_to_get_updated_windows() {
    let sandbox = CventSoapSandbox::start(SoapSandboxConfig {
        attendees: 120,
        max_record_set: 100,
        ..SoapSandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let connector = connector(&sandbox, sandbox.password());
    let (records, _) = pull_all(
        &connector,
        spec(DataType::SessionRegistrations, PullMode::Full),
    )
    .await
    .expect("pulled through GetUpdated");
    let registrations: std::collections::HashSet<String> = records
        .iter()
        .filter_map(|r| r.json()["registration"]["id"].as_str().map(str::to_string))
        .collect();
    let expected = sandbox
        .registrations()
        .iter()
        .filter(|r| {
            r.children_named("OrderDetail")
                .any(|o| o.attribute("ProductType") == Some("Session"))
        })
        .count();
    assert_eq!(registrations.len(), expected);
    assert!(sandbox.calls("GetUpdated") > 1);
}

#[tokio::test]
async fn incremental_pulls_find_changes_through_get_updated() {
    let sandbox = CventSoapSandbox::start(SoapSandboxConfig {
        attendees: 80,
        ..SoapSandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let connector = connector(&sandbox, sandbox.password());
    let id = sandbox.registrations()[3]
        .attribute("Id")
        .unwrap_or_default()
        .to_string();
    let cursor = chrono::Utc::now().to_rfc3339();
    control(
        &sandbox,
        reqwest::Method::PATCH,
        &format!("/registrations/{id}"),
        json!({"Status": "Cancelled"}),
    )
    .await;
    let (records, _) = pull_all(
        &connector,
        spec(DataType::People, PullMode::ModifiedSince(cursor)),
    )
    .await
    .expect("pulled");
    assert_eq!(
        records
            .iter()
            .filter(|r| r.json()["guest"] == false)
            .count(),
        1
    );
    let changed = records
        .iter()
        .find(|r| r.json()["id"] == id.as_str())
        .expect("the change");
    assert_eq!(changed.json()["status"], "Cancelled");
    assert_eq!(sandbox.calls("GetUpdated"), 1);
}

#[tokio::test]
async fn session_reg_action_checks_every_item() {
    let sandbox = CventSoapSandbox::start(SoapSandboxConfig {
        attendees: 10,
        ..SoapSandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let connector = connector(&sandbox, sandbox.password());
    let registrations = sandbox.registrations();
    let ids: Vec<String> = registrations[..3]
        .iter()
        .map(|r| r.attribute("Id").unwrap_or_default().to_string())
        .collect();
    let product = sandbox
        .sessions()
        .into_iter()
        .find(|s| s.attribute("Status") == Some("OpenForRegistration"))
        .and_then(|s| s.attribute("ProductId").map(str::to_string))
        .expect("an open session");
    control(
        &sandbox,
        reqwest::Method::PUT,
        "/faults",
        json!({"failInvitees": [ids[1]]}),
    )
    .await;
    let results = connector
        .session_reg_action(SessionRegAction::Register, &product, &ids)
        .await
        .expect("answered");
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| r.error.is_some())
        .map(|r| r.invitee_id.as_str())
        .collect();
    assert_eq!(failed, [ids[1].as_str()]);
    assert!(
        results[1]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("CV10000"))
    );
    // Registering again changes nothing: the order row is updated, never duplicated.
    connector
        .session_reg_action(SessionRegAction::Register, &product, &ids[..1])
        .await
        .expect("answered");
    let rows = sandbox
        .registration(&ids[0])
        .map(|r| {
            r.children_named("OrderDetail")
                .filter(|o| o.attribute("ProductId") == Some(product.as_str()))
                .count()
        })
        .unwrap_or_default();
    assert_eq!(rows, 1);
}

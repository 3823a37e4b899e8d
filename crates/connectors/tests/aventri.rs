//! The Aventri connector against the Aventri sandbox over HTTP: paging to the end-of-list error
//! object, token expiry, gateway errors, accounts that ignore `fields`, the per-minute limit,
//! and refused keys and events.

use std::time::Duration;

use chrono::FixedOffset;
use connectors::aventri::{Aventri, AventriConfig};
use connectors::{ConnectorError, PullMode, PullSpec, RetryPolicy, StatusQuery, VendorRecord};
use pipeline::DataType;
use sandboxes::aventri::{AventriSandbox, SandboxConfig, Settings};
use serde_json::Value;

const FAST_RETRY: RetryPolicy = RetryPolicy {
    initial: Duration::from_millis(5),
    max: Duration::from_millis(20),
    attempts: 4,
};

async fn sandbox(attendees: u64) -> AventriSandbox {
    AventriSandbox::start(SandboxConfig {
        attendees,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts")
}

fn config(sandbox: &AventriSandbox) -> AventriConfig {
    AventriConfig {
        connection: "aventri".into(),
        endpoint: sandbox.endpoint(),
        account_id: sandbox.account_id().into(),
        key: sandbox.master_key().into(),
        event_id: sandbox.event_id(),
        active_statuses: vec!["Confirmed".into(), "Attended".into()],
        modified_since_overlap: chrono::Duration::days(1),
        presenter_photo_endpoint: None,
        person_photo_endpoint: None,
        concurrent_sessions_title: None,
        sponsor_category: "Sponsor".into(),
        utc_offset: FixedOffset::east_opt(0).expect("UTC"),
        page_size: 500,
        retry: FAST_RETRY,
    }
}

/// Every record of a full pull, and the number of pages it took.
async fn pull_all(
    connector: &Aventri,
    data_type: DataType,
) -> Result<(Vec<VendorRecord>, usize), ConnectorError> {
    let mut pull = connector
        .pull(PullSpec {
            data_type,
            mode: PullMode::Full,
            resume_token: None,
            statuses: StatusQuery::Any,
            concurrency: 1,
        })
        .await?;
    let mut records = Vec::new();
    let mut pages = 0;
    while let Some(page) = pull.next_page().await? {
        pages += 1;
        records.extend(page.records);
        if page.next_token.is_none() {
            break;
        }
    }
    Ok((records, pages))
}

async fn calls_to(sandbox: &AventriSandbox, function: &str) -> u64 {
    let calls: Value = reqwest::get(format!("{}/calls", sandbox.control_url()))
        .await
        .expect("calls")
        .json()
        .await
        .expect("calls json");
    calls["byEndpoint"][format!("GET /api/v2/{function}")]
        .as_u64()
        .unwrap_or(0)
}

#[tokio::test]
async fn people_and_sponsors_split_one_listing_and_paging_ends_on_the_error_object() {
    let sandbox = sandbox(1_200).await;
    let connector = Aventri::new(config(&sandbox)).expect("connector");
    let (people, pages) = pull_all(&connector, DataType::People)
        .await
        .expect("people");
    // 1,200 attendees in pages of 500, then the "No attendees found" call.
    assert_eq!(pages, 4);
    assert_eq!(calls_to(&sandbox, "ereg/listAttendees.json").await, 4);
    let (sponsors, _) = pull_all(&connector, DataType::Sponsors)
        .await
        .expect("sponsors");
    assert!(!sponsors.is_empty());
    assert_eq!(people.len() + sponsors.len(), 1_200);
    assert!(
        people
            .iter()
            .all(|p| p.json()["category"]["name"] != "Sponsor")
    );
    assert!(
        sponsors
            .iter()
            .all(|p| p.json()["category"]["name"] == "Sponsor")
    );
    // Zero dates are read as empty.
    assert!(
        people
            .iter()
            .all(|p| p.json()["checkindate"] != "0000-00-00 00:00:00")
    );
    // Uploaded profile pictures are fetched and checked, and their URL kept by reference.
    let checked: Vec<Value> = people
        .iter()
        .map(|p| p.json()["responses"]["4712"]["checked"].clone())
        .filter(|c| !c.is_null())
        .collect();
    assert!(!checked.is_empty());
    assert!(checked.iter().all(|c| c["contenttype"] == "image/jpeg"
        && c["url"].as_str().is_some_and(|u| u.ends_with(".jpg"))));
    let (levels, _) = pull_all(&connector, DataType::SponsorLevels)
        .await
        .expect("levels");
    let names: Vec<String> = levels
        .iter()
        .filter_map(|l| l.json()["name"].as_str().map(str::to_string))
        .collect();
    assert_eq!(names, ["Gold", "Silver", "Bronze"]);
}

#[tokio::test]
async fn an_expired_token_is_renewed_once_and_gateway_errors_shrink_the_page() {
    let sandbox = sandbox(300).await;
    let connector = Aventri::new(config(&sandbox)).expect("connector");
    let mut pull = connector
        .pull(PullSpec {
            data_type: DataType::People,
            mode: PullMode::Full,
            resume_token: None,
            statuses: StatusQuery::Any,
            concurrency: 1,
        })
        .await
        .expect("pull");
    sandbox.set_settings(Settings {
        max_response_bytes: 60_000,
        ..Settings::default()
    });
    let first = pull.next_page().await.expect("first page").expect("a page");
    assert!(!first.records.is_empty());
    sandbox.expire_tokens();
    let mut seen = first.records.len();
    while let Some(page) = pull.next_page().await.expect("page after expiry") {
        seen += page.records.len();
        if page.next_token.is_none() {
            break;
        }
    }
    let (_, sponsors) = (
        0,
        pull_all(&connector, DataType::Sponsors)
            .await
            .expect("sponsors")
            .0,
    );
    assert_eq!(seen + sponsors.len(), 300, "every attendee once");
    assert_eq!(calls_to(&sandbox, "global/authorize.json").await, 2);
}

#[tokio::test]
async fn an_account_that_ignores_fields_is_read_record_by_record() {
    let sandbox = sandbox(30).await;
    sandbox.set_settings(Settings {
        fields_parameter: false,
        ..Settings::default()
    });
    let connector = Aventri::new(config(&sandbox)).expect("connector");
    let (people, _) = pull_all(&connector, DataType::People)
        .await
        .expect("people");
    assert!(people.iter().all(|p| p.json()["fname"].is_string()));
    assert_eq!(calls_to(&sandbox, "ereg/getAttendee.json").await, 30);
}

#[tokio::test]
async fn the_minute_limit_keys_and_events_are_told_apart() {
    let sandbox = sandbox(20).await;
    sandbox.set_settings(Settings {
        requests_per_minute: 2,
        ..Settings::default()
    });
    let connector = Aventri::new(config(&sandbox)).expect("connector");
    let throttled = pull_all(&connector, DataType::People).await.map(|_| ());
    assert!(
        matches!(throttled, Err(ConnectorError::Throttled(_))),
        "{throttled:?}"
    );
    sandbox.set_settings(Settings::default());

    let mut wrong_key = config(&sandbox);
    wrong_key.key = "not-the-key".into();
    let refused = pull_all(
        &Aventri::new(wrong_key).expect("connector"),
        DataType::People,
    )
    .await
    .map(|_| ());
    match refused {
        Err(ConnectorError::Auth(message)) => {
            assert!(message.contains("check account_id and key"), "{message}");
            assert!(!message.contains("not-the-key"), "the key is never shown");
        }
        other => panic!("expected an auth error, got {other:?}"),
    }

    let mut limited = config(&sandbox);
    limited.key = sandbox.limited_key().into();
    let forbidden = pull_all(&Aventri::new(limited).expect("connector"), DataType::People)
        .await
        .map(|_| ());
    match forbidden {
        Err(ConnectorError::Forbidden { message, .. }) => {
            assert!(message.contains("non-master API key"), "{message}");
        }
        other => panic!("expected forbidden, got {other:?}"),
    }
    let report = Aventri::new(config(&sandbox))
        .expect("connector")
        .check(&[DataType::People, DataType::Sessions])
        .await;
    assert!(report.ok(), "{report:?}");
}

/// Server errors (503) are the vendor answering: each is retried with the policy's patience,
/// and every wait is told — what the vendor answered and which try comes next.
#[tokio::test]
async fn answers_of_503_keep_being_retried_and_each_wait_is_told() {
    let sandbox = sandbox(30).await;
    reqwest::Client::new()
        .put(format!("{}/faults", sandbox.control_url()))
        .json(&serde_json::json!({"next": [503, 503, 503]}))
        .send()
        .await
        .expect("faults")
        .error_for_status()
        .expect("faults set");
    let connector = Aventri::new(config(&sandbox)).expect("connector");
    let waits = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let told = waits.clone();
    connector.observe_waits(Some(std::sync::Arc::new(move |waiting| {
        told.lock().expect("waits").push(waiting);
    })));
    let (people, _) = pull_all(&connector, DataType::People)
        .await
        .expect("people, after the retries");
    assert!(!people.is_empty());
    let waits = waits.lock().expect("waits").clone();
    let tries: Vec<u32> = waits.iter().map(|w| w.attempt).collect();
    assert_eq!(tries, [2, 3, 4], "{waits:?}");
    assert!(
        waits
            .iter()
            .all(|w| w.reason == "Aventri answered 503 Service Unavailable" && w.attempts == 4),
        "{waits:?}"
    );
}

/// Regression: a vendor that does not answer at all (connection refused) was tried with the
/// full patience for every call, minutes in silence. It gets one quick retry, and a later call
/// of the same connection none.
#[tokio::test]
async fn an_unreachable_vendor_fails_fast_and_names_where() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("address").port();
    drop(closed);
    let mut settings = AventriConfig {
        endpoint: format!("http://127.0.0.1:{port}/api/v2"),
        ..config(&sandbox(1).await)
    };
    settings.retry = RetryPolicy {
        initial: Duration::from_secs(2),
        max: Duration::from_secs(16),
        attempts: 5,
    };
    let connector = Aventri::new(settings).expect("connector");
    let waits = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let told = waits.clone();
    connector.observe_waits(Some(std::sync::Arc::new(move |waiting| {
        told.lock().expect("waits").push(waiting);
    })));
    for data_type in [DataType::People, DataType::Sessions] {
        let error = pull_all(&connector, data_type)
            .await
            .expect_err("nothing answers");
        let message = error.to_string();
        assert!(
            message.contains(&format!("127.0.0.1:{port}")) && message.contains("cannot connect"),
            "{message}"
        );
    }
    let waits = waits.lock().expect("waits").clone();
    assert_eq!(
        waits.len(),
        1,
        "one quick retry, and none for the second listing: {waits:?}"
    );
    assert_eq!((waits[0].attempt, waits[0].attempts), (2, 2));
}

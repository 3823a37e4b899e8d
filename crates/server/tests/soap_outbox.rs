//! Write-back to Cvent SOAP through the outbox: session registrations go out with
//! SessionRegAction once each, a refused item keeps Cvent's reason, and check-ins go out with
//! CheckIn — against the SOAP sandbox over HTTP.

use std::path::Path;
use std::time::Duration;

use connectors::RetryPolicy;
use engine::Config;
use sandboxes::cvent_soap::{CventSoapSandbox, SoapSandboxConfig};
use serde_json::json;
use server::{AppState, Settings};
use store::{NewOutboxItem, OutboxOperation, OutboxQuery, OutboxStatus, Store};

const FAST_RETRY: RetryPolicy = RetryPolicy {
    initial: Duration::from_millis(10),
    max: Duration::from_millis(80),
    attempts: 3,
};

fn item(operation: OutboxOperation, session_id: Option<&str>, attendee_id: &str) -> NewOutboxItem {
    NewOutboxItem {
        connection: "cvent".into(),
        operation,
        session_id: session_id.map(str::to_string),
        attendee_id: attendee_id.to_string(),
        payload: json!({}),
        local: false,
    }
}

#[tokio::test]
async fn session_registrations_and_check_ins_reach_cvent_soap_once() {
    let sandbox = CventSoapSandbox::start(SoapSandboxConfig {
        attendees: 20,
        ..SoapSandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let dir = std::env::temp_dir().join(format!("eventsync-soap-outbox-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let store = Store::open(&dir.join("workspace.sqlite").display().to_string())
        .await
        .expect("store");
    let text = format!(
        "[[connections]]\nname = \"cvent\"\nkind = \"cvent-soap\"\nbase_url = \"{}\"\naccount_number = \"{}\"\nuser_name = \"{}\"\npassword = \"${{P}}\"\nevent_code = \"{}\"\n",
        sandbox.base_url(),
        sandbox.account_number(),
        sandbox.user_name(),
        sandbox.event_code()
    );
    let password = sandbox.password().to_string();
    let config = Config::parse(&text, Path::new("eventsync.toml"), &move |name| {
        (name == "P").then(|| password.clone())
    })
    .expect("config");
    let state = AppState::new(
        store.clone(),
        config,
        Settings {
            report_dir: dir.join("reports"),
            retry: FAST_RETRY,
            scheduler: false,
            ..Settings::default()
        },
    );

    let registrations = sandbox.registrations();
    let id = |n: usize| {
        registrations[n]
            .attribute("Id")
            .unwrap_or_default()
            .to_string()
    };
    let sessions = sandbox.sessions();
    let open = sessions
        .iter()
        .find(|s| {
            s.attribute("Status") == Some("OpenForRegistration")
                && !registrations[0]
                    .children_named("OrderDetail")
                    .any(|o| o.attribute("ProductId") == s.attribute("ProductId"))
        })
        .and_then(|s| s.attribute("ProductId"))
        .expect("an open session")
        .to_string();
    let cancelled = sessions
        .iter()
        .find(|s| s.attribute("Status") == Some("Cancelled"))
        .and_then(|s| s.attribute("ProductId"))
        .expect("a cancelled session")
        .to_string();
    store
        .enqueue_outbox(&item(OutboxOperation::Enroll, Some(&open), &id(0)))
        .await
        .expect("enqueue");
    store
        .enqueue_outbox(&item(OutboxOperation::Enroll, Some(&cancelled), &id(1)))
        .await
        .expect("enqueue");
    for n in 2..5 {
        store
            .enqueue_outbox(&item(OutboxOperation::CheckIn, None, &id(n)))
            .await
            .expect("enqueue");
    }
    assert_eq!(
        server::outbox::deliver_due(&state)
            .await
            .expect("delivered"),
        5
    );
    assert_eq!(
        server::outbox::deliver_due(&state)
            .await
            .expect("nothing left"),
        0
    );

    let items = store
        .outbox(&OutboxQuery {
            limit: 10,
            ..OutboxQuery::default()
        })
        .await
        .expect("outbox");
    let status_of = |attendee: &str| {
        items
            .iter()
            .find(|i| i.attendee_id == attendee)
            .map(|i| (i.status, i.last_error.clone().unwrap_or_default()))
            .expect("item")
    };
    assert_eq!(status_of(&id(0)).0, OutboxStatus::Sent);
    let (refused, reason) = status_of(&id(1));
    assert_eq!(refused, OutboxStatus::Failed);
    assert!(
        reason.contains("cancelled"),
        "Cvent's reason is kept: {reason}"
    );
    for n in 2..5 {
        assert_eq!(status_of(&id(n)).0, OutboxStatus::Sent);
        let participant = sandbox
            .registration(&id(n))
            .and_then(|r| r.attribute("Participant").map(str::to_string));
        assert_eq!(participant.as_deref(), Some("true"));
    }
    assert_eq!(
        sandbox.calls("SessionRegAction"),
        2,
        "one call per registration item"
    );
    assert_eq!(sandbox.calls("CheckIn"), 1, "the check-ins in one call");
    let rows = sandbox
        .registration(&id(0))
        .map(|r| {
            r.children_named("OrderDetail")
                .filter(|o| {
                    o.attribute("ProductId") == Some(open.as_str())
                        && o.attribute("Action") == Some("Registered")
                })
                .count()
        })
        .unwrap_or_default();
    assert_eq!(rows, 1, "registered exactly once");
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

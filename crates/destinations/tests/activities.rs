//! People synced from the Cvent REST sandbox reach the iMIS sandbox as activities, through the
//! change feed and the outbox: exactly one per registered person, none once cancelled, no
//! duplicate when an item is delivered again or its link was lost, and a clear refusal when no
//! party or two parties match. Runs on SQLite and on PostgreSQL.

use std::collections::HashMap;
use std::time::Duration;

use destinations::Destination;
use engine::config::Config;
use pipeline::DataType;
use reqwest::Method;
use serde_json::{Value, json};
use store::{DeliveryOutcome, OutboxItem, OutboxOperation, OutboxQuery, OutboxStatus, Store};

mod support;

use support::{FAST_RETRY, Sandboxes};

/// The sandboxes and a configuration syncing people, matched by email, into iMIS.
struct Setup {
    sandboxes: Sandboxes,
    config: Config,
}

impl std::ops::Deref for Setup {
    type Target = Sandboxes;

    fn deref(&self) -> &Sandboxes {
        &self.sandboxes
    }
}

async fn setup(attendees: u64) -> Setup {
    let sandboxes = Sandboxes::start(attendees).await;
    let config = sandboxes.config(r#"["people"]"#, r#"product_code = "ANNCONF""#);
    Setup { sandboxes, config }
}

impl Setup {
    async fn sync(&self, store: &Store) {
        self.sandboxes
            .sync(store, &self.config, &[DataType::People])
            .await;
    }

    /// The iMIS sandbox's activities: SEQN → (party, key).
    async fn activities(&self) -> HashMap<i64, (String, String)> {
        let all = self
            .imis_control(Method::GET, "/activities", Value::Null)
            .await;
        all.as_array()
            .unwrap()
            .iter()
            .map(|activity| {
                let property = |name: &str| {
                    activity["properties"][name]
                        .as_str()
                        .map(str::to_string)
                        .or_else(|| activity["properties"][name].as_i64().map(|n| n.to_string()))
                        .unwrap_or_default()
                };
                (
                    activity["seqn"].as_i64().unwrap(),
                    (property("PartyId"), property("UF_1")),
                )
            })
            .collect()
    }
}

fn destination(setup: &Setup) -> Destination {
    let mut found = destinations::destinations(&setup.config, FAST_RETRY).expect("destinations");
    assert_eq!(found.len(), 1);
    found.remove(0)
}

/// Reads the feed, then delivers every due item the way the outbox worker does; returns the
/// outcomes by person.
async fn deliver_all(store: &Store, destination: &Destination) -> HashMap<String, DeliveryOutcome> {
    destinations::follow_feed(store, std::slice::from_ref(destination))
        .await
        .expect("feed");
    let mut outcomes = HashMap::new();
    loop {
        let items = store
            .claim_outbox(100, Duration::from_secs(30))
            .await
            .expect("claim");
        if items.is_empty() {
            return outcomes;
        }
        for item in items {
            let outcome = outcome(destination.deliver(store, &item).await);
            store
                .finish_outbox(item.id, &outcome)
                .await
                .expect("finish");
            outcomes.insert(item.attendee_id.clone(), outcome);
        }
    }
}

fn outcome(result: Result<String, connectors::ConnectorError>) -> DeliveryOutcome {
    match result {
        Ok(_) => DeliveryOutcome::Sent,
        Err(error) => DeliveryOutcome::Failed {
            reason: error.to_string(),
        },
    }
}

async fn people(store: &Store) -> Vec<(String, String, String)> {
    let page = store
        .export_page(Some("cvent"), "people", None, 1000)
        .await
        .unwrap();
    page.iter()
        .map(|record| {
            let fields = engine::run::export_fields(record);
            (
                record.external_id.clone(),
                fields["email"].as_str().unwrap_or_default().to_string(),
                fields["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn registered_people_get_exactly_one_activity(store: Store) {
    let setup = setup(12).await;
    let destination = destination(&setup);
    setup.sync(&store).await;
    let people = people(&store).await;
    let count = people.len();
    assert!(count >= 6, "the sandbox's registered attendees: {count}");
    // Parties for all but the last two people; the second to last shares an email with two.
    let mut party_of = HashMap::new();
    for (index, (id, email, _)) in people.iter().enumerate().take(count - 2) {
        let party = setup
            .imis_control(
                Method::POST,
                "/parties",
                json!({"first_name": "P", "last_name": format!("{index}"), "emails": [email], "is_member": true}),
            )
            .await;
        party_of.insert(id.clone(), party["id"].as_str().unwrap().to_string());
    }
    let (shared_id, shared_email, _) = &people[count - 2];
    for twin in ["A", "B"] {
        setup
            .imis_control(
                Method::POST,
                "/parties",
                json!({"first_name": twin, "last_name": "Twin", "emails": [shared_email]}),
            )
            .await;
    }

    let outcomes = deliver_all(&store, &destination).await;
    assert_eq!(outcomes.len(), count, "one item per person");
    let activities = setup.activities().await;
    assert_eq!(activities.len(), count - 2, "{activities:?}");
    for (id, party) in &party_of {
        let key = destinations::imis::person_key("cvent", id);
        let on_party: Vec<_> = activities
            .values()
            .filter(|(p, k)| p == party && *k == key)
            .collect();
        assert_eq!(on_party.len(), 1, "person {id}");
        assert_eq!(outcomes[id], DeliveryOutcome::Sent);
    }
    match &outcomes[shared_id] {
        DeliveryOutcome::Failed { reason } => {
            assert!(reason.contains("2 iMIS parties have the email"), "{reason}");
            assert!(reason.contains("does not guess"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    match &outcomes[&people[count - 1].0] {
        DeliveryOutcome::Failed { reason } => {
            assert!(reason.contains("no iMIS party has the email"), "{reason}");
        }
        other => panic!("{other:?}"),
    }

    // Cancelled at Cvent: the next sync's change removes the activity.
    let (cancelled, _, _) = &people[0];
    setup
        .cvent_control(
            Method::POST,
            &format!("/attendees/{cancelled}/cancel"),
            Value::Null,
        )
        .await;
    setup.sync(&store).await;
    let outcomes = deliver_all(&store, &destination).await;
    assert_eq!(outcomes.get(cancelled), Some(&DeliveryOutcome::Sent));
    let activities = setup.activities().await;
    assert_eq!(activities.len(), count - 3);
    let key = destinations::imis::person_key("cvent", cancelled);
    assert!(activities.values().all(|(_, k)| *k != key));
    let link = store
        .destination_link("association", "cvent", cancelled)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(link.remote_id, None);

    // Nothing changed: nothing more to deliver.
    setup.sync(&store).await;
    assert!(deliver_all(&store, &destination).await.is_empty());
}

async fn redelivery_and_a_lost_link_make_no_duplicate(store: Store) {
    let setup = setup(3).await;
    let destination = destination(&setup);
    setup.sync(&store).await;
    for (index, (_, email, _)) in people(&store).await.iter().enumerate() {
        setup
            .imis_control(
                Method::POST,
                "/parties",
                json!({"first_name": "P", "last_name": format!("{index}"), "emails": [email]}),
            )
            .await;
    }
    deliver_all(&store, &destination).await;
    assert_eq!(setup.activities().await.len(), 3);

    // The same person delivered again, as after a kill between iMIS's answer and the finish;
    // then with the workspace's link forgotten, as after a kill before it was recorded.
    let (person, _, _) = people(&store).await.remove(0);
    let item = OutboxItem {
        id: 0,
        connection: "association".into(),
        operation: OutboxOperation::Deliver,
        session_id: None,
        attendee_id: person.clone(),
        payload: json!({"source": "cvent"}),
        status: OutboxStatus::Sending,
        attempts: 2,
        next_attempt_at: String::new(),
        last_error: None,
        created_at: String::new(),
        updated_at: String::new(),
        sent_at: None,
    };
    let done = destination.deliver(&store, &item).await.expect("again");
    assert!(done.contains("kept"), "{done}");
    store
        .set_destination_link("association", "cvent", &person, None, None)
        .await
        .unwrap();
    let done = destination.deliver(&store, &item).await.expect("link lost");
    assert!(done.contains("kept"), "{done}");
    assert_eq!(setup.activities().await.len(), 3);

    // A duplicate made by hand in iMIS with eventsync's key is removed: one is left.
    let party = store
        .destination_link("association", "cvent", &person)
        .await
        .unwrap()
        .unwrap()
        .party_id
        .unwrap();
    let client = engine::imis_client(setup.config.connection("association").unwrap(), FAST_RETRY)
        .unwrap()
        .unwrap();
    client
        .create_activity(&connectors::imis::NewActivity {
            party_id: party,
            activity_type: "EVENT".into(),
            product_code: "ANNCONF".into(),
            description: "made by hand".into(),
            transaction_date: None,
            key_field: "UF_1".into(),
            key: destinations::imis::person_key("cvent", &person),
        })
        .await
        .unwrap();
    assert_eq!(setup.activities().await.len(), 4);
    destination.deliver(&store, &item).await.expect("duplicate");
    assert_eq!(setup.activities().await.len(), 3);

    // Items waiting for the same person are stored once.
    let pending = store
        .outbox(&OutboxQuery {
            status: Some(OutboxStatus::Pending),
            limit: 100,
            ..OutboxQuery::default()
        })
        .await
        .unwrap();
    assert!(pending.is_empty());
}

async fn sqlite_store(name: &str) -> (Store, std::path::PathBuf) {
    let path = std::env::temp_dir().join(format!(
        "eventsync-destinations-{name}-{}.sqlite",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    let store = Store::open(&path.display().to_string())
        .await
        .expect("store");
    (store, path)
}

async fn postgres_store(name: &str) -> Option<(Store, String)> {
    let url = std::env::var("EVENTSYNC_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("destinations_{name}_{}", std::process::id());
    match Store::open_in_schema(&url, &schema).await {
        Ok(store) => Some((store, schema)),
        Err(error) => {
            eprintln!("SKIPPED on PostgreSQL: no server at {url} ({error})");
            None
        }
    }
}

async fn drop_schema(store: Store, schema: &str) {
    use sqlx::Connection as _;
    store.close().await;
    let url = std::env::var("EVENTSYNC_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    if let Ok(mut connection) = sqlx::postgres::PgConnection::connect(&url).await {
        let statement = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&mut connection)
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_registered_people_get_exactly_one_activity() {
    let (store, path) = sqlite_store("one").await;
    registered_people_get_exactly_one_activity(store).await;
    let _ = std::fs::remove_file(path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_redelivery_and_a_lost_link_make_no_duplicate() {
    let (store, path) = sqlite_store("again").await;
    redelivery_and_a_lost_link_make_no_duplicate(store).await;
    let _ = std::fs::remove_file(path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_registered_people_get_exactly_one_activity() {
    let Some((store, schema)) = postgres_store("one").await else {
        return;
    };
    registered_people_get_exactly_one_activity(store.clone()).await;
    drop_schema(store, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_redelivery_and_a_lost_link_make_no_duplicate() {
    let Some((store, schema)) = postgres_store("again").await else {
        return;
    };
    redelivery_and_a_lost_link_make_no_duplicate(store.clone()).await;
    drop_schema(store, &schema).await;
}

#[tokio::test]
async fn check_names_what_the_site_lacks() {
    let setup = setup(3).await;
    let site = setup.config.connection("association").unwrap();
    let findings = |report: connectors::CheckReport| -> Vec<(bool, String, String)> {
        report
            .findings
            .into_iter()
            .map(|f| (f.ok, f.subject, f.detail))
            .collect()
    };
    let report = destinations::check_connection(&setup.config, site, Value::Null, FAST_RETRY)
        .await
        .unwrap();
    assert!(report.ok(), "{:?}", findings(report));

    // The activity type gone from iMIS, a query that may not run through REST, a wrong password.
    setup
        .imis_control(
            Method::PUT,
            "/activity-types",
            json!([{"code": "CALL", "description": "Call"}]),
        )
        .await;
    let mut config = setup.config.clone();
    for connection in &mut config.connections {
        if let Some(feed) = connection.imis.as_mut() {
            feed.eligibility_query = Some("$/Events/Cvent/Not for REST".into());
        }
    }
    let report = destinations::check_connection(&config, site, Value::Null, FAST_RETRY)
        .await
        .unwrap();
    let found = findings(report);
    assert!(
        found.iter().any(|(ok, subject, detail)| !ok
            && subject == "cvent: activity type"
            && detail.contains("iMIS has no activity type EVENT")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|(ok, subject, detail)| !ok
            && subject == "cvent: eligibility query"
            && detail.contains("not available through the REST API")),
        "{found:?}"
    );

    let mut wrong = site.clone();
    if let engine::VendorSettings::Imis(settings) = &mut wrong.vendor {
        settings.password = engine::Secret::new("not-the-password");
    }
    let report = destinations::check_connection(&setup.config, &wrong, Value::Null, FAST_RETRY)
        .await
        .unwrap();
    let found = findings(report);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(!found[0].0 && found[0].1 == "sign-in", "{found:?}");
    assert!(found[0].2.contains("incorrect"), "{found:?}");
}

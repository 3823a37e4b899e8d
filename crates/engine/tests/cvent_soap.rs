//! End to end: the engine syncing from the Cvent SOAP sandbox over HTTP into a fresh SQLite
//! workspace — 10,000 people equal to the sandbox's data, an incremental run after changes and a
//! write-back, the preview's rows for the seed rules, and a quota pause.

mod support;

use support::FAST_RETRY;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use connectors::AnyConnector;
use connectors::cvent_soap::SessionRegAction;
use engine::{Config, Connection, RunKind, RunOptions, RunReport, RunStatus};
use pipeline::DataType;
use sandboxes::cvent_soap::{CventSoapSandbox, Element, SoapSandboxConfig};
use serde_json::{Value, json};
use store::Store;

const ALL: &[DataType] = &[
    DataType::Sessions,
    DataType::Speakers,
    DataType::People,
    DataType::SessionRegistrations,
];

/// The statuses imported by default, and how the seed rule maps them.
fn expected_status(cvent: &str) -> Option<&'static str> {
    match cvent {
        "Accepted" => Some("active"),
        "Cancelled" | "Declined" => Some("cancelled"),
        _ => None,
    }
}

struct World {
    sandbox: CventSoapSandbox,
    store: Store,
    connection: Connection,
    dir: PathBuf,
}

impl World {
    async fn start(config: SoapSandboxConfig) -> World {
        World::start_with(config, "").await
    }

    /// With more TOML after the connection's fields (data type settings).
    async fn start_with(config: SoapSandboxConfig, more: &str) -> World {
        World::start_in(config, more, None).await
    }

    /// With its workspace in this PostgreSQL schema, when given.
    async fn start_in(config: SoapSandboxConfig, more: &str, schema: Option<&str>) -> World {
        let sandbox = CventSoapSandbox::start(config).await.expect("sandbox");
        let dir = support::test_folder("soap-e2e", sandbox.address().port());
        let store = match schema {
            Some(schema) => Store::open_in_schema(&support::postgres_url(), schema)
                .await
                .expect("postgres store"),
            None => support::sqlite_workspace(&dir).await,
        };
        let text = format!(
            "[[connections]]\nname = \"cvent\"\nkind = \"cvent-soap\"\nbase_url = \"{}\"\naccount_number = \"{}\"\nuser_name = \"{}\"\npassword = \"${{SOAP_PASSWORD}}\"\nevent_code = \"{}\"\n{more}",
            sandbox.base_url(),
            sandbox.account_number(),
            sandbox.user_name(),
            sandbox.event_code()
        );
        let password = sandbox.password().to_string();
        let config = Config::parse(&text, Path::new("eventsync.toml"), &move |name| {
            (name == "SOAP_PASSWORD").then(|| password.clone())
        })
        .expect("config");
        let connection = config.connection("cvent").expect("connection").clone();
        World {
            sandbox,
            store,
            connection,
            dir,
        }
    }

    fn options(&self, kind: RunKind, types: &[DataType]) -> RunOptions {
        support::options(kind, types)
    }

    async fn run(&self, kind: RunKind, types: &[DataType]) -> RunReport {
        support::run(&self.store, &self.connection, kind, types).await
    }

    async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let url = self.sandbox.control_url();
        sandboxes::control(&reqwest::Client::new(), &url, method, path, &body)
            .await
            .expect("control call")
    }

    async fn workspace(
        &self,
        data_type: DataType,
    ) -> HashMap<String, serde_json::Map<String, Value>> {
        support::workspace(&self.store, "cvent", data_type).await
    }

    /// Every imported registration and guest is a person with the sandbox's values, and nobody
    /// else is.
    async fn assert_people_exact(&self) {
        let workspace = self.workspace(DataType::People).await;
        let mut expected = 0;
        for registration in self.sandbox.registrations() {
            let attribute =
                |name: &str| registration.attribute(name).unwrap_or_default().to_string();
            let Some(status) = expected_status(&attribute("Status")) else {
                continue;
            };
            expected += 1;
            let id = attribute("Id");
            let person = workspace
                .get(&id)
                .unwrap_or_else(|| panic!("registration {id} missing"));
            let fields = [
                ("status", json!(status)),
                ("first_name", json!(attribute("FirstName"))),
                ("last_name", json!(attribute("LastName"))),
                ("email", json!(attribute("EmailAddress"))),
                ("company", json!(attribute("Company"))),
                ("contact_id", json!(attribute("ContactId"))),
                ("registration_type", json!(attribute("RegistrationType"))),
                ("is_guest", json!(false)),
            ];
            for (field, value) in fields {
                assert_eq!(
                    person.get(field).cloned().unwrap_or(Value::Null),
                    value,
                    "{id}: {field}"
                );
            }
            for guest in registration.children_named("GuestDetail") {
                expected += 1;
                let guest_id = guest.attribute("GuestId").unwrap_or_default();
                let person = workspace
                    .get(guest_id)
                    .unwrap_or_else(|| panic!("guest {guest_id} missing"));
                assert_eq!(person["is_guest"], json!(true));
                assert_eq!(person["primary_external_id"], json!(id));
                assert_eq!(person["status"], json!(status));
                assert_eq!(
                    person["first_name"],
                    json!(guest.attribute("FirstName").unwrap_or_default())
                );
            }
        }
        assert_eq!(
            workspace.len(),
            expected,
            "one person per imported registration and guest"
        );
    }

    /// Session orders of imported people, keyed by order id, with their workspace status.
    fn expected_orders(&self) -> HashMap<String, (String, String, &'static str)> {
        let mut orders = HashMap::new();
        for registration in self.sandbox.registrations() {
            if expected_status(registration.attribute("Status").unwrap_or_default()).is_none() {
                continue;
            }
            for order in session_orders(&registration) {
                let status = match order.attribute("Action") {
                    Some("Registered") => "registered",
                    _ => "cancelled",
                };
                orders.insert(
                    order
                        .attribute("OrderDetailId")
                        .unwrap_or_default()
                        .to_string(),
                    (
                        order.attribute("ProductId").unwrap_or_default().to_string(),
                        registration.attribute("Id").unwrap_or_default().to_string(),
                        status,
                    ),
                );
            }
        }
        orders
    }

    async fn assert_session_registrations_exact(&self) {
        let workspace = self.workspace(DataType::SessionRegistrations).await;
        let expected = self.expected_orders();
        assert_eq!(workspace.len(), expected.len());
        for (id, (session, person, status)) in expected {
            let stored = workspace
                .get(&id)
                .unwrap_or_else(|| panic!("order {id} missing"));
            assert_eq!(stored["session_external_id"], json!(session));
            assert_eq!(stored["person_external_id"], json!(person));
            assert_eq!(stored["status"], json!(status), "{id}");
        }
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn session_orders(registration: &Element) -> impl Iterator<Item = &Element> {
    registration
        .children_named("OrderDetail")
        .filter(|o| o.attribute("ProductType") == Some("Session"))
}

fn count(report: &RunReport, data_type: DataType, action: &str) -> u64 {
    report
        .types
        .get(data_type.as_str())
        .and_then(|t| t.counts.get(action))
        .copied()
        .unwrap_or(0)
}

#[tokio::test]
async fn ten_thousand_people_then_changes_and_a_write_back() {
    let world = World::start(SoapSandboxConfig {
        attendees: 10_000,
        seed: 3,
        ..SoapSandboxConfig::default()
    })
    .await;
    let first = world.run(RunKind::Sync, ALL).await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.errors);
    world.assert_people_exact().await;
    world.assert_session_registrations_exact().await;
    // The SOAP listing's size is the vendor's total: registrations and their guests, every
    // status, those not imported counted as left out by the status rule.
    for data_type in [DataType::People, DataType::Sessions] {
        support::assert_first_sync_totals(&world.store, "cvent", &first, data_type).await;
    }
    let sessions = world.workspace(DataType::Sessions).await;
    assert_eq!(sessions.len(), world.sandbox.sessions().len());
    for session in world.sandbox.sessions() {
        let stored = &sessions[session.attribute("ProductId").unwrap_or_default()];
        let hidden = session.attribute("Status") == Some("Cancelled");
        assert_eq!(
            stored["hidden"],
            json!(hidden),
            "seed rule: inactive sessions are hidden"
        );
    }
    assert_eq!(world.workspace(DataType::Speakers).await.len(), 18);
    // The event's end is learnt with its sessions, for the scheduler (the sandbox's event lasts
    // three days).
    let facts = world
        .store
        .connection_facts("cvent")
        .await
        .unwrap()
        .unwrap_or_default();
    let start = world.sandbox.registrations()[0]
        .attribute("EventStartDate")
        .map(|start| format!("{start}Z"))
        .expect("EventStartDate");
    let start = chrono::DateTime::parse_from_rfc3339(&start).expect("start");
    let end = chrono::DateTime::parse_from_rfc3339(facts["event_end"].as_str().expect("event_end"))
        .expect("RFC 3339");
    assert_eq!(end - start, chrono::Duration::days(3), "{facts}");
    // 10,000 registrations in batches of 200: 50 Retrieve calls each for registrations and
    // contacts (people) and 50 for registrations (session registrations), plus the Searches.
    assert_eq!(
        world.sandbox.calls("Retrieve"),
        150 + 1 + 1,
        "and the event and presenters"
    );

    // Changes at the vendor: a cancellation, a new last name, a new registration and a session
    // registration written back through SessionRegAction.
    let registrations = world.sandbox.registrations();
    let accepted: Vec<&Element> = registrations
        .iter()
        .filter(|r| r.attribute("Status") == Some("Accepted"))
        .take(3)
        .collect();
    let id = |r: &Element| r.attribute("Id").unwrap_or_default().to_string();
    world
        .control(
            reqwest::Method::PATCH,
            &format!("/registrations/{}", id(accepted[0])),
            json!({"Status": "Cancelled"}),
        )
        .await;
    world
        .control(
            reqwest::Method::PATCH,
            &format!("/registrations/{}", id(accepted[1])),
            json!({"LastName": "Okafor"}),
        )
        .await;
    let added = world
        .control(
            reqwest::Method::POST,
            "/registrations",
            json!({"Status": "Accepted", "FirstName": "New"}),
        )
        .await;
    let product = world
        .sandbox
        .sessions()
        .into_iter()
        .find(|s| {
            s.attribute("Status") == Some("OpenForRegistration")
                && !session_orders(accepted[2])
                    .any(|o| o.attribute("ProductId") == s.attribute("ProductId"))
        })
        .and_then(|s| s.attribute("ProductId").map(str::to_string))
        .expect("a session the third person is not in");
    let connector =
        engine::connect(&world.connection, ALL, Value::Null, FAST_RETRY).expect("connector");
    let AnyConnector::CventSoap(soap) = &connector else {
        panic!("a cvent-soap connector");
    };
    let results = soap
        .session_reg_action(SessionRegAction::Register, &product, &[id(accepted[2])])
        .await
        .expect("written back");
    assert_eq!(results[0].error, None);

    let retrieved_before = world.sandbox.calls("Retrieve");
    let second = world.run(RunKind::Sync, ALL).await;
    assert_eq!(second.status, RunStatus::Succeeded, "{:?}", second.errors);
    assert_eq!(second.types["people"].mode, "incremental");
    let guests_of_new = added["GuestDetail"].as_array().map_or(0, Vec::len) as u64;
    assert_eq!(
        count(&second, DataType::People, "create"),
        1 + guests_of_new
    );
    assert_eq!(
        count(&second, DataType::People, "cancel") + count(&second, DataType::People, "update"),
        2
    );
    world.assert_people_exact().await;
    world.assert_session_registrations_exact().await;
    let orders = world.workspace(DataType::SessionRegistrations).await;
    let written: Vec<_> = orders
        .values()
        .filter(|o| {
            o["session_external_id"] == json!(product)
                && o["person_external_id"] == json!(id(accepted[2]))
        })
        .collect();
    assert_eq!(written.len(), 1, "the write-back arrives exactly once");
    assert_eq!(written[0]["status"], json!("registered"));
    assert_eq!(
        world.sandbox.calls("Retrieve") - retrieved_before,
        1 + 1 + 1 + 1 + 1,
        "incremental retrieves the changes only: registrations and contacts for people, \
         registrations for session registrations, the event and the presenters"
    );
}

#[tokio::test]
async fn the_preview_shows_the_seed_rules_with_flattened_paths() {
    let world = World::start(SoapSandboxConfig {
        attendees: 400,
        ..SoapSandboxConfig::default()
    })
    .await;
    let first = world.run(RunKind::Sync, ALL).await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.errors);
    // At the vendor: one cancellation, one decline, one session made inactive.
    let accepted: Vec<String> = world
        .sandbox
        .registrations()
        .iter()
        .filter(|r| r.attribute("Status") == Some("Accepted"))
        .take(2)
        .map(|r| r.attribute("Id").unwrap_or_default().to_string())
        .collect();
    for (id, status) in accepted.iter().zip(["Cancelled", "Declined"]) {
        world
            .control(
                reqwest::Method::PATCH,
                &format!("/registrations/{id}"),
                json!({"Status": status}),
            )
            .await;
    }
    let open = world
        .sandbox
        .sessions()
        .into_iter()
        .find(|s| s.attribute("Status") == Some("OpenForRegistration"))
        .and_then(|s| s.attribute("ProductId").map(str::to_string))
        .expect("an open session");
    world
        .control(
            reqwest::Method::PATCH,
            &format!("/sessions/{open}"),
            json!({"Status": "Cancelled"}),
        )
        .await;

    let report_path = world.dir.join("preview.csv");
    let mut options = world.options(RunKind::Preview, ALL);
    options.report = Some(report_path.clone());
    let preview = engine::run(&world.store, &world.connection, &options, &|_| {})
        .await
        .expect("preview");
    assert_eq!(preview.status, RunStatus::Succeeded, "{:?}", preview.errors);
    // Their guests share their status, so they are cancelled too.
    let guests: usize = accepted
        .iter()
        .filter_map(|id| world.sandbox.registration(id))
        .map(|r| r.children_named("GuestDetail").count())
        .sum();
    assert_eq!(
        count(&preview, DataType::People, "cancel"),
        2 + guests as u64
    );
    let mut reader = csv::Reader::from_path(&report_path).expect("report");
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    for path in [
        "orderdetail.0.productname",
        "eventsurveydetail.0.answer.0.answertext",
        "contact.mobilephone",
    ] {
        assert!(header.iter().any(|h| h == path), "{path} in {header:?}");
    }
    let column = |name: &str| header.iter().position(|h| h == name).expect(name);
    let (data_type, external_id, changes, status) = (
        column("data_type"),
        column("external_id"),
        column("changed_fields"),
        column("status"),
    );
    let mut seen = std::collections::BTreeSet::new();
    for row in reader.records() {
        let row = row.expect("row");
        match (&row[data_type], &row[status]) {
            ("people", cvent @ ("Cancelled" | "Declined"))
                if accepted.contains(&row[external_id].to_string()) =>
            {
                assert!(
                    row[changes].contains("status") && row[changes].contains("cancelled"),
                    "{row:?}"
                );
                seen.insert(cvent.to_string());
            }
            ("sessions", "Cancelled") if row[external_id] == open => {
                assert!(
                    row[changes].contains("hidden") && row[changes].contains("true"),
                    "{row:?}"
                );
                seen.insert("hidden session".to_string());
            }
            _ => {}
        }
    }
    assert_eq!(
        seen,
        ["Cancelled", "Declined", "hidden session"]
            .map(String::from)
            .into()
    );

    // The protected mappings: a people mapping without `status` is refused.
    let text = "[[connections]]\nname = \"cvent\"\nkind = \"cvent-soap\"\nhost = \"sandbox\"\naccount_number = \"A\"\nuser_name = \"u\"\npassword = \"${P}\"\nevent_code = \"E\"\n[connections.data.people]\nmapping = [{ source = \"id\", target = \"external_id\" }, { source = \"firstname\", target = \"first_name\" }, { source = \"lastname\", target = \"last_name\" }]\n";
    let error = Config::parse(text, Path::new("eventsync.toml"), &|_| Some("p".into()))
        .expect_err("status is protected");
    assert!(error.0.contains("status"), "{error}");
}

#[tokio::test]
async fn a_spent_quota_pauses_the_run() {
    let world = World::start(SoapSandboxConfig {
        attendees: 500,
        max_api_calls: 100,
        ..SoapSandboxConfig::default()
    })
    .await;
    world
        .control(reqwest::Method::PUT, "/usage", json!({"used": 96}))
        .await;
    let paused = world.run(RunKind::Sync, &[DataType::People]).await;
    assert_eq!(paused.status, RunStatus::PausedQuota, "{:?}", paused.errors);
    assert!(paused.resets_at.is_some());
}

#[tokio::test]
async fn outdated_people_are_removed_after_a_full_listing_when_asked() {
    let world = World::start_with(
        SoapSandboxConfig {
            attendees: 150,
            ..SoapSandboxConfig::default()
        },
        "[connections.data.people]\nremove_outdated = true\n",
    )
    .await;
    let first = world.run(RunKind::Sync, &[DataType::People]).await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.errors);
    let gone = world
        .sandbox
        .registrations()
        .into_iter()
        .find(|r| r.attribute("Status") == Some("Accepted"))
        .expect("an accepted registration");
    let id = gone.attribute("Id").unwrap_or_default().to_string();
    world
        .control(
            reqwest::Method::DELETE,
            &format!("/registrations/{id}"),
            Value::Null,
        )
        .await;
    let mut options = world.options(RunKind::Sync, &[DataType::People]);
    options.full = true;
    let full = engine::run(&world.store, &world.connection, &options, &|_| {})
        .await
        .expect("full sync");
    assert_eq!(full.status, RunStatus::Succeeded, "{:?}", full.errors);
    let guests = gone.children_named("GuestDetail").count() as u64;
    assert_eq!(count(&full, DataType::People, "remove"), 1 + guests);
    assert!(!world.workspace(DataType::People).await.contains_key(&id));
    world.assert_people_exact().await;
}

/// Regression: a value shaped like a timestamp with a multi-byte character where its seconds
/// end was sliced at byte 19 by the SOAP reader, and the sync panicked.
#[tokio::test]
async fn a_company_named_like_a_timestamp_with_a_full_width_digit_syncs() {
    let world = World::start(SoapSandboxConfig {
        attendees: 20,
        ..SoapSandboxConfig::default()
    })
    .await;
    company_like_a_timestamp(world).await;
}

#[tokio::test]
async fn the_same_multi_byte_company_on_postgresql() {
    let url = support::postgres_url();
    let schema = format!("eventsync_soap_multibyte_{}", std::process::id());
    let probe = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        Store::open_in_schema(&url, &schema),
    )
    .await;
    if !matches!(probe, Ok(Ok(_))) {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: PostgreSQL not reachable at {url} (set EVENTSYNC_TEST_POSTGRES)"
        );
        return;
    }
    let config = SoapSandboxConfig {
        attendees: 20,
        ..SoapSandboxConfig::default()
    };
    let world = World::start_in(config, "", Some(&schema)).await;
    let outcome = tokio::spawn(company_like_a_timestamp(world)).await;
    support::drop_schema(&url, &schema).await;
    if let Err(failure) = outcome {
        std::panic::resume_unwind(failure.into_panic());
    }
}

async fn company_like_a_timestamp(world: World) {
    let company = "2024-05-01T09:00:0\u{ff10}";
    let id = world
        .sandbox
        .registrations()
        .into_iter()
        .find(|r| r.attribute("Status") == Some("Accepted"))
        .and_then(|r| r.attribute("Id").map(str::to_string))
        .expect("an accepted registration");
    world
        .control(
            reqwest::Method::PATCH,
            &format!("/registrations/{id}"),
            json!({"Company": company}),
        )
        .await;
    let report = world.run(RunKind::Sync, &[DataType::People]).await;
    assert_eq!(report.status, RunStatus::Succeeded, "{:?}", report.errors);
    let people = world.workspace(DataType::People).await;
    assert_eq!(people[&id]["company"], json!(company), "kept as sent");
    world.assert_people_exact().await;
}

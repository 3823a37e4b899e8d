//! End to end: the engine syncing from the Aventri sandbox over HTTP into a real SQLite
//! workspace — 10,000 registrations checked field by field, the seed's rules (active statuses,
//! sponsors routed out of people, sessions without times rejected, master sessions over
//! concurrent ones) in the preview report, and an incremental sync after changes.

mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use engine::{Config, Connection, RunKind, RunOptions, RunReport, RunStatus};
use pipeline::DataType;
use sandboxes::aventri::{AventriSandbox, SandboxConfig, Settings};
use serde_json::{Value, json};
use store::Store;

struct World {
    sandbox: AventriSandbox,
    store: Store,
    connection: Connection,
    http: reqwest::Client,
    dir: PathBuf,
}

impl World {
    async fn start(attendees: u64) -> World {
        let sandbox = AventriSandbox::start(SandboxConfig {
            attendees,
            ..SandboxConfig::default()
        })
        .await
        .expect("sandbox");
        let dir = support::test_folder("aventri-e2e", sandbox.address().port());
        let store = support::sqlite_workspace(&dir).await;
        let text = format!(
            "[[connections]]\nname = \"aventri\"\nkind = \"aventri\"\nendpoint = \"{}\"\naccount_id = \"{}\"\nkey = \"${{AVENTRI_KEY}}\"\nevent_id = \"{}\"\nactive_statuses = \"Confirmed,Attended\"\npresenter_photo_endpoint = \"{}\"\nConcurrentSessionsTitle = \"Breakouts\"\n",
            sandbox.endpoint(),
            sandbox.account_id(),
            sandbox.event_id(),
            sandbox.presenter_photo_endpoint(),
        );
        let key = sandbox.master_key().to_string();
        let config = Config::parse(&text, Path::new("eventsync.toml"), &move |name| {
            (name == "AVENTRI_KEY").then(|| key.clone())
        })
        .expect("config");
        let connection = config.connection("aventri").expect("connection").clone();
        World {
            sandbox,
            store,
            connection,
            http: reqwest::Client::new(),
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
        sandboxes::control(&self.http, &url, method, path, &body)
            .await
            .expect("control call")
    }

    /// Every attendee, full records, read the way any Aventri client would.
    async fn vendor_attendees(&self) -> Vec<Value> {
        let token: Value = self
            .http
            .get(format!("{}/global/authorize.json", self.sandbox.endpoint()))
            .query(&[
                ("accountid", self.sandbox.account_id()),
                ("key", self.sandbox.master_key()),
            ])
            .send()
            .await
            .expect("authorize")
            .json()
            .await
            .expect("token");
        let token = token["accesstoken"].as_str().expect("token").to_string();
        let event = self.sandbox.event_id();
        let mut out = Vec::new();
        loop {
            let offset = out.len().to_string();
            let page: Value = self
                .http
                .get(format!("{}/ereg/listAttendees.json", self.sandbox.endpoint()))
                .query(&[
                    ("accesstoken", token.as_str()),
                    ("eventid", event.as_str()),
                    ("offset", offset.as_str()),
                    ("limit", "2000"),
                    ("fields", "fname,lname,email,company,registrationstatus,category,subcategory,sessions"),
                ])
                .send()
                .await
                .expect("page")
                .json()
                .await
                .expect("page json");
            match page.as_array() {
                Some(records) => out.extend(records.iter().cloned()),
                None => return out,
            }
        }
    }

    /// API calls the sandbox has answered so far, by its own log (photo files are not API
    /// calls).
    async fn calls(&self) -> u64 {
        let log = self
            .control(reqwest::Method::GET, "/calls", Value::Null)
            .await;
        log["byEndpoint"]
            .as_object()
            .expect("calls by endpoint")
            .iter()
            .filter(|(endpoint, _)| endpoint.starts_with("GET /api/v2/"))
            .filter_map(|(_, calls)| calls.as_u64())
            .sum()
    }

    async fn workspace(
        &self,
        data_type: DataType,
    ) -> HashMap<String, serde_json::Map<String, Value>> {
        support::workspace(&self.store, "aventri", data_type).await
    }

    /// People equal the non-sponsor attendees and sponsors the sponsor ones, field by field.
    async fn assert_exact(&self) {
        let vendor = self.vendor_attendees().await;
        let people = self.workspace(DataType::People).await;
        let sponsors = self.workspace(DataType::Sponsors).await;
        let sessions = self.workspace(DataType::Sessions).await;
        let is_sponsor = |a: &Value| a["category"]["name"] == "Sponsor";
        assert_eq!(
            people.len(),
            vendor.iter().filter(|a| !is_sponsor(a)).count()
        );
        assert_eq!(
            sponsors.len(),
            vendor.iter().filter(|a| is_sponsor(a)).count()
        );
        let mut schedule = Vec::new();
        for attendee in &vendor {
            let id = attendee["attendeeid"].as_str().expect("id");
            if is_sponsor(attendee) {
                let sponsor = &sponsors[id];
                assert_eq!(sponsor["name"], attendee["company"], "{id}");
                assert_eq!(
                    sponsor["level_external_id"],
                    attendee["subcategory"]["subcategoryid"]
                );
                assert!(!people.contains_key(id), "sponsor {id} is not a person");
                continue;
            }
            // Selections of a rejected (unscheduled) session are rejected with it.
            for selection in attendee["sessions"].as_array().into_iter().flatten() {
                let session = selection["sessionid"].as_str().unwrap_or_default();
                if sessions.contains_key(session) {
                    schedule.push(format!("{id}-{session}"));
                }
            }
            let person = people
                .get(id)
                .unwrap_or_else(|| panic!("attendee {id} missing"));
            let status = match attendee["registrationstatus"].as_str() {
                Some("Confirmed" | "Attended") => "active",
                _ => "cancelled",
            };
            let expected = [
                ("status", json!(status)),
                ("first_name", attendee["fname"].clone()),
                ("last_name", attendee["lname"].clone()),
                ("email", attendee["email"].clone()),
                ("company", attendee["company"].clone()),
                ("registration_type", attendee["category"]["name"].clone()),
            ];
            for (field, value) in expected {
                assert_eq!(
                    person.get(field).cloned().unwrap_or(Value::Null),
                    value,
                    "{id}: {field}"
                );
            }
        }
        let stored = self.workspace(DataType::SessionRegistrations).await;
        let missing: Vec<&String> = schedule
            .iter()
            .filter(|id| !stored.contains_key(*id))
            .take(5)
            .collect();
        assert_eq!(stored.len(), schedule.len(), "missing: {missing:?}");
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
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
async fn a_full_sync_of_10_000_registrations_equals_the_sandbox_and_incremental_keeps_it_so() {
    let world = World::start(10_000).await;
    let all = world.connection.data_types.clone();
    let first = world.run(RunKind::Sync, &all).await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.errors);
    world.assert_exact().await;
    // 10,000 attendees in pages of 2,000 and the end-of-list call; the token was asked for
    // by the first data type synced. The first page came back full, so the rest was read in
    // stripes side by side, each ending on its own end-of-list answer.
    let people = &first.types["people"];
    assert!(people.partitions >= 3, "{people:?}");
    assert!(
        people.api_calls <= 5 + u64::from(people.partitions),
        "{people:?}"
    );
    let levels = world.workspace(DataType::SponsorLevels).await;
    assert_eq!(levels.len(), 3);

    // Sessions: those without a time are rejected with that reason; concurrent breakouts get
    // a master session titled by ConcurrentSessionsTitle.
    let sessions = world.workspace(DataType::Sessions).await;
    let rejected = count(&first, DataType::Sessions, "reject");
    assert_eq!(rejected, 8, "every 25th of 200 sessions has no times");
    // Aventri reports no total: a whole listing's size is the vendor's, rejections explained.
    for data_type in [DataType::People, DataType::Sessions, DataType::Sponsors] {
        support::assert_first_sync_totals(&world.store, "aventri", &first, data_type).await;
    }
    let masters: Vec<_> = sessions
        .iter()
        .filter(|(id, _)| id.starts_with("master-"))
        .collect();
    assert!(!masters.is_empty());
    assert!(masters.iter().all(|(_, s)| s["title"] == "Breakouts"));
    let children = sessions
        .values()
        .filter(|s| s.get("master_external_id").is_some_and(|m| m.is_string()))
        .count();
    assert!(children >= masters.len() * 2);
    let speakers = world.workspace(DataType::Speakers).await;
    assert!(
        speakers
            .values()
            .all(|s| s["photo_url"].as_str().is_some_and(|u| u.ends_with(".jpg")))
    );

    // Changes at the vendor, then an incremental sync.
    let vendor = world.vendor_attendees().await;
    let confirmed: Vec<&str> = vendor
        .iter()
        .filter(|a| a["registrationstatus"] == "Confirmed" && a["category"]["name"] == "Attendee")
        .filter_map(|a| a["attendeeid"].as_str())
        .take(3)
        .collect();
    world
        .control(
            reqwest::Method::POST,
            &format!("/attendees/{}/cancel", confirmed[0]),
            json!({}),
        )
        .await;
    world
        .control(
            reqwest::Method::PATCH,
            &format!("/attendees/{}", confirmed[1]),
            json!({"lname": "Changed"}),
        )
        .await;
    world
        .control(
            reqwest::Method::POST,
            "/attendees",
            json!({"registrationstatus": "Confirmed", "category": {"categoryid": "1", "name": "Attendee"}}),
        )
        .await;
    world
        .control(
            reqwest::Method::POST,
            "/attendees",
            json!({"category": {"categoryid": "3", "name": "Sponsor"}, "subcategory": {"subcategoryid": "31", "name": "Gold"}}),
        )
        .await;
    let types = [
        DataType::Sponsors,
        DataType::People,
        DataType::SessionRegistrations,
    ];
    let second = world.run(RunKind::Sync, &types).await;
    assert_eq!(second.status, RunStatus::Succeeded, "{:?}", second.errors);
    assert_eq!(second.types["people"].mode, "incremental");
    assert_eq!(count(&second, DataType::People, "cancel"), 1);
    assert_eq!(count(&second, DataType::People, "update"), 1);
    assert_eq!(count(&second, DataType::People, "create"), 1);
    assert_eq!(count(&second, DataType::Sponsors, "create"), 1);
    assert!(
        second.types["people"].api_calls <= 3,
        "changes only: {}",
        second.types["people"].api_calls
    );
    world.assert_exact().await;
}

#[tokio::test]
async fn the_preview_report_shows_each_seed_rule() {
    // 1,300 registrations make 26 sessions, the 25th of which has no times.
    let world = World::start(1_300).await;
    let report_path = world.dir.join("preview.csv");
    let mut options = world.options(RunKind::Preview, &world.connection.data_types.clone());
    options.report = Some(report_path.clone());
    let preview = engine::run(&world.store, &world.connection, &options, &|_| {})
        .await
        .expect("preview");
    assert_eq!(
        world.store.count("aventri", "people").await.expect("count"),
        0
    );
    let csv = std::fs::read_to_string(&report_path).expect("report");
    let header = csv.lines().next().expect("header");
    for column in [
        "registrationstatus",
        "category.name",
        "responses.4712.response",
        "sessionstart",
    ] {
        assert!(header.contains(column), "{column} in {header}");
    }
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert!(
        rows.iter()
            .any(|r| r.starts_with("sessions,reject") && r.contains("starts_at")),
        "a session without times is rejected, saying so"
    );
    assert!(rows.iter().any(|r| r.starts_with("sponsors,create")));
    let sessions: Vec<&&str> = rows.iter().filter(|r| r.starts_with("sessions")).collect();
    assert!(
        sessions.iter().any(|r| r.contains("Breakouts")),
        "{sessions:#?}"
    );
    // Registrations outside the active statuses are still imported (as cancelled, which the
    // full sync's field-by-field check confirms), never dropped.
    assert!(
        rows.iter()
            .any(|r| r.starts_with("people,create") && r.contains(",Cancelled,")),
        "a cancelled registration is in the preview"
    );
    assert!(
        !rows
            .iter()
            .any(|r| r.starts_with("people,") && r.contains(",Sponsor,")),
        "sponsor registrations are never people"
    );
    assert!(
        !csv.contains(world.sandbox.master_key()),
        "the key never reaches the report"
    );
    assert_eq!(preview.report_rows, Some(rows.len() as u64));
}

/// Regression: an account whose `listAttendees` ignores `fields` and answers summaries with
/// names but no category had every sponsor imported as a person, since a record with a first
/// name was never fetched whole — and the sponsor rule reads the category.
#[tokio::test]
async fn sponsors_stay_sponsors_when_the_listing_is_a_summary_with_names() {
    let world = World::start(20).await;
    for _ in 0..2 {
        world
            .control(
                reqwest::Method::POST,
                "/attendees",
                json!({"category": {"categoryid": "3", "name": "Sponsor"}, "subcategory": {"subcategoryid": "31", "name": "Gold"}}),
            )
            .await;
    }
    let vendor = world.vendor_attendees().await;
    let sponsors = vendor
        .iter()
        .filter(|a| a["category"]["name"] == "Sponsor")
        .count();
    assert!(sponsors >= 2);
    world.sandbox.set_settings(Settings {
        fields_parameter: false,
        summary_names: true,
        ..Settings::default()
    });
    let calls = world.calls().await;
    let report = world
        .run(RunKind::Sync, &[DataType::Sponsors, DataType::People])
        .await;
    assert_eq!(report.status, RunStatus::Succeeded, "{:?}", report.errors);
    assert_eq!(
        count(&report, DataType::Sponsors, "create"),
        sponsors as u64
    );
    assert_eq!(
        count(&report, DataType::People, "create"),
        (vendor.len() - sponsors) as u64
    );
    // Per data type: one page, the end-of-list call and each of the 22 records fetched whole;
    // the token once. The vendor's own log agrees.
    let vendor_calls = world.calls().await - calls;

    assert_eq!(report.types["people"].api_calls, 24);
    assert_eq!(report.api_calls, 49);
    assert_eq!(report.api_calls, vendor_calls);
    // Read back with the whole records the default settings list, field by field.
    world.sandbox.set_settings(Settings::default());
    world.assert_exact().await;
}

/// A run held up by the vendor's server errors says so: each wait reaches the progress callback
/// with the data type, what the vendor answered and the try that comes next.
#[tokio::test]
async fn waits_for_a_vendor_answering_503_reach_the_progress_line() {
    let world = World::start(50).await;
    world
        .control(reqwest::Method::PUT, "/faults", json!({"next": [503, 503]}))
        .await;
    let waits = std::sync::Mutex::new(Vec::new());
    let progress = |event: engine::Progress| {
        if let engine::Progress::Waiting {
            data_type, reason, ..
        } = event
        {
            waits.lock().expect("waits").push((data_type, reason));
        }
    };
    let options = world.options(RunKind::Sync, &[DataType::People]);
    let report = engine::run(&world.store, &world.connection, &options, &progress)
        .await
        .expect("run");
    assert_eq!(report.status, RunStatus::Succeeded, "{:?}", report.errors);
    let waits = waits.into_inner().expect("waits");
    let attempts = support::FAST_RETRY.attempts;
    assert_eq!(
        waits,
        [2, 3]
            .map(|next| (
                DataType::People,
                format!("Aventri answered 503 Service Unavailable (try {next} of {attempts})")
            ))
            .to_vec()
    );
}

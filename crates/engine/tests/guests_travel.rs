//! End to end against the Cvent REST sandbox: the guest switches on session registrations
//! (extra invitee registrations, guest enrollment tags) and the travel switches (flight and
//! hotel requests attached to people), through the engine into a real SQLite workspace.

mod support;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use engine::{Connection, RunKind, RunReport};
use pipeline::DataType;
use sandboxes::cvent_rest::{CventRestSandbox, SandboxConfig};
use serde_json::{Value, json};
use store::Store;

struct World {
    sandbox: CventRestSandbox,
    store: Store,
    connection: Connection,
    http: reqwest::Client,
    dir: PathBuf,
}

impl World {
    /// A sandbox of `attendees` and a connection with `settings` (TOML) after its credentials.
    async fn start(attendees: u64, settings: &str) -> World {
        let sandbox = CventRestSandbox::start(SandboxConfig {
            attendees,
            ..SandboxConfig::default()
        })
        .await
        .expect("sandbox");
        let dir = support::test_folder("guests", sandbox.address().port());
        let store = support::sqlite_workspace(&dir).await;
        let connection = support::cvent_connection(&sandbox, settings);
        World {
            sandbox,
            store,
            connection,
            http: reqwest::Client::new(),
            dir,
        }
    }

    async fn run(&self, kind: RunKind, types: &[DataType]) -> RunReport {
        support::run(&self.store, &self.connection, kind, types).await
    }

    /// A run that writes its CSV report; returns the report and its rows.
    async fn run_reported(
        &self,
        kind: RunKind,
        types: &[DataType],
    ) -> (RunReport, Vec<HashMap<String, String>>) {
        let path = self.dir.join(format!("report-{}.csv", rand_suffix()));
        let mut options = support::options(kind, types);
        options.report = Some(path.clone());
        let report = engine::run(&self.store, &self.connection, &options, &|_| {})
            .await
            .expect("run");
        let mut reader = csv::Reader::from_path(&path).expect("report");
        let headers = reader.headers().expect("headers").clone();
        let rows = reader
            .records()
            .map(|row| {
                let row = row.expect("row");
                headers
                    .iter()
                    .zip(row.iter())
                    .map(|(h, v)| (h.to_string(), v.to_string()))
                    .collect()
            })
            .collect();
        (report, rows)
    }

    async fn workspace(
        &self,
        data_type: DataType,
    ) -> HashMap<String, serde_json::Map<String, Value>> {
        support::workspace(&self.store, "cvent", data_type).await
    }

    async fn bearer(&self) -> String {
        support::cvent_bearer(&self.http, &self.sandbox).await
    }

    /// Everything the sandbox lists at `path`.
    /// Everything the sandbox lists at `path`, with a token that may read sensitive fields.
    async fn vendor_all(&self, path: &str) -> Vec<Value> {
        support::cvent_list_all(&self.http, &self.sandbox, path).await
    }

    async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        support::cvent_control(&self.http, &self.sandbox, method, path, body).await
    }

    /// The targets of the logged calls to a route.
    async fn logged_targets(&self, route: &str) -> Vec<String> {
        let calls = self
            .control(reqwest::Method::GET, "/calls", Value::Null)
            .await;
        calls["recent"]
            .as_array()
            .expect("log")
            .iter()
            .filter(|c| c["route"] == route)
            .filter_map(|c| c["target"].as_str().map(str::to_string))
            .collect()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

fn count(report: &RunReport, data_type: DataType, action: &str) -> u64 {
    report
        .types
        .get(data_type.as_str())
        .and_then(|t| t.counts.get(action))
        .copied()
        .unwrap_or(0)
}

fn text<'a>(record: &'a serde_json::Map<String, Value>, field: &str) -> &'a str {
    record
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The guests of the vendor's attendees: guest id → (primary id, "First Last").
fn guests_of(attendees: &[Value]) -> HashMap<String, (String, String)> {
    attendees
        .iter()
        .filter(|a| a["guest"] == json!(true))
        .filter_map(|a| {
            let name = format!(
                "{} {}",
                a["contact"]["firstName"].as_str().unwrap_or_default(),
                a["contact"]["lastName"].as_str().unwrap_or_default()
            );
            Some((
                a["id"].as_str()?.to_string(),
                (
                    a["primaryId"].as_str()?.to_string(),
                    name.trim().to_string(),
                ),
            ))
        })
        .collect()
}

const REGISTRATION_TYPES: [DataType; 3] = [
    DataType::Sessions,
    DataType::People,
    DataType::SessionRegistrations,
];

/// With both switches on, each guest registration is tagged with the guest's name and has a
/// derived registration of the primary, same session and status, tagged too; the preview
/// report says which rule made or changed each; the primary's derived registration is
/// cancelled when the guest's is, and a re-sync changes nothing.
#[tokio::test]
async fn guests_registrations_are_tagged_and_registered_to_their_primaries() {
    let world = World::start(
        400,
        "[connections.data.people]\nstatuses = []\n\
         [connections.data.session_registrations]\n\
         extra_invitee_registrations = true\nguest_enrollment_tags = true\n",
    )
    .await;
    let attendees = world.vendor_all("/attendees").await;
    let guests = guests_of(&attendees);
    assert!(guests.len() >= 20, "{} guests", guests.len());
    let enrollments = world.vendor_all("/sessions/enrollment").await;
    let guest_enrollments: Vec<&Value> = enrollments
        .iter()
        .filter(|e| {
            e["attendee"]["id"]
                .as_str()
                .is_some_and(|id| guests.contains_key(id))
        })
        .collect();
    assert!(guest_enrollments.len() >= 10, "{}", guest_enrollments.len());

    // The preview names each rule's doing; the sync stores exactly that.
    world.run(RunKind::Sync, &REGISTRATION_TYPES[..2]).await;
    let (preview, rows) = world
        .run_reported(RunKind::Preview, &REGISTRATION_TYPES[2..])
        .await;
    let reason_of: HashMap<&str, &str> = rows
        .iter()
        .filter(|r| r["data_type"] == "session_registrations")
        .map(|r| (r["external_id"].as_str(), r["reason"].as_str()))
        .collect();
    for enrollment in &guest_enrollments {
        let id = enrollment["id"].as_str().expect("id");
        let guest = enrollment["attendee"]["id"].as_str().expect("guest");
        let (primary, name) = &guests[guest];
        assert_eq!(
            reason_of.get(id).copied(),
            Some(format!("guest enrollment tags: tagged with the guest's name '{name}'").as_str())
        );
        let derived = format!("extra-invitee:{id}");
        assert_eq!(
            reason_of.get(derived.as_str()).copied(),
            Some(
                format!(
                    "extra invitee registrations: '{primary}' is registered because their guest \
                     '{guest}' is (registration '{id}')"
                )
                .as_str()
            )
        );
    }
    let vendor_total = enrollments.len() as u64;
    assert_eq!(
        count(&preview, DataType::SessionRegistrations, "create"),
        vendor_total + guest_enrollments.len() as u64
    );

    let sync = world.run(RunKind::Sync, &REGISTRATION_TYPES[2..]).await;
    assert_eq!(
        count(&sync, DataType::SessionRegistrations, "create"),
        vendor_total + guest_enrollments.len() as u64
    );
    let registrations = world.workspace(DataType::SessionRegistrations).await;
    assert_eq!(
        registrations.len() as u64,
        vendor_total + guest_enrollments.len() as u64
    );
    for enrollment in &enrollments {
        let id = enrollment["id"].as_str().expect("id");
        let person = enrollment["attendee"]["id"].as_str().expect("attendee");
        let stored = &registrations[id];
        assert_eq!(text(stored, "person_external_id"), person);
        assert_eq!(text(stored, "via_guest_external_id"), "");
        match guests.get(person) {
            None => assert_eq!(text(stored, "guest_tag"), "", "{id}: not a guest's"),
            Some((primary, name)) => {
                assert_eq!(text(stored, "guest_tag"), name);
                let derived = &registrations[&format!("extra-invitee:{id}")];
                assert_eq!(text(derived, "person_external_id"), primary);
                assert_eq!(text(derived, "via_guest_external_id"), person);
                assert_eq!(text(derived, "guest_tag"), name);
                assert_eq!(
                    text(derived, "session_external_id"),
                    enrollment["session"]["id"].as_str().unwrap_or_default()
                );
                assert_eq!(text(derived, "status"), text(stored, "status"));
            }
        }
    }

    // A guest leaves a session at the vendor: the primary's derived registration is cancelled.
    let leaving = guest_enrollments
        .iter()
        .find(|e| e["status"] == "Registered")
        .expect("a registered guest");
    let (session, guest, id) = (
        leaving["session"]["id"].as_str().expect("session"),
        leaving["attendee"]["id"].as_str().expect("guest"),
        leaving["id"].as_str().expect("id"),
    );
    let response = world
        .http
        .delete(format!(
            "{}/sessions/{session}/enrollment/{guest}",
            world.sandbox.base_url()
        ))
        .bearer_auth(world.bearer().await)
        .send()
        .await
        .expect("unenroll");
    assert_eq!(response.status(), reqwest::StatusCode::NO_CONTENT);
    let after = world.run(RunKind::Sync, &REGISTRATION_TYPES[2..]).await;
    assert_eq!(count(&after, DataType::SessionRegistrations, "cancel"), 2);
    let registrations = world.workspace(DataType::SessionRegistrations).await;
    assert_eq!(text(&registrations[id], "status"), "cancelled");
    assert_eq!(
        text(&registrations[&format!("extra-invitee:{id}")], "status"),
        "cancelled"
    );
    // Seen again, nothing changes: derived ids are the same on every sync.
    let full = engine::run(
        &world.store,
        &world.connection,
        &engine::RunOptions {
            full: true,
            ..support::options(RunKind::Sync, &REGISTRATION_TYPES[2..])
        },
        &|_| {},
    )
    .await
    .expect("run");
    assert_eq!(count(&full, DataType::SessionRegistrations, "create"), 0);
    assert_eq!(count(&full, DataType::SessionRegistrations, "update"), 0);
    // Monitoring totals name the derived registrations rather than leave them unexplained.
    let totals = engine::totals::of(&world.store, "cvent", "session_registrations")
        .await
        .expect("totals");
    assert_eq!(totals.vendor, Some(vendor_total));
    assert_eq!(totals.left_out.derived, guest_enrollments.len() as u64);
    assert_eq!(
        totals.beyond_vendor_count,
        Some(0),
        "{}",
        totals.explanation
    );
    assert_eq!(totals.not_yet_synced, Some(0), "{}", totals.explanation);
    assert!(
        totals
            .explanation
            .contains("derived from guests' registrations"),
        "{}",
        totals.explanation
    );
}

/// Each switch alone: tags without derived registrations, or derived registrations without
/// tags; with neither, guests' registrations are stored as the vendor sent them.
#[tokio::test]
async fn each_guest_switch_works_alone() {
    // (switches, guest registrations tagged, derived registrations made)
    let cases = [
        ("guest_enrollment_tags = true", true, false),
        ("extra_invitee_registrations = true", false, true),
        ("", false, false),
    ];
    for (switches, tagged, derived) in cases {
        let world = World::start(
            250,
            &format!(
                "[connections.data.people]\nstatuses = []\n\
                 [connections.data.session_registrations]\n{switches}\n"
            ),
        )
        .await;
        world.run(RunKind::Sync, &REGISTRATION_TYPES).await;
        let guests = guests_of(&world.vendor_all("/attendees").await);
        let registrations = world.workspace(DataType::SessionRegistrations).await;
        let of_guests: Vec<_> = registrations
            .values()
            .filter(|r| guests.contains_key(text(r, "person_external_id")))
            .collect();
        assert!(!of_guests.is_empty(), "{switches}");
        assert!(
            of_guests
                .iter()
                .all(|r| text(r, "guest_tag").is_empty() != tagged),
            "{switches}"
        );
        let made = registrations
            .keys()
            .filter(|id| id.starts_with("extra-invitee:"))
            .count();
        assert_eq!(made > 0, derived, "{switches}: {made} derived");
        if derived {
            assert_eq!(made, of_guests.len(), "{switches}");
        }
    }
}

/// The requests Cvent lists, one per request: (request id, person it is for, requester type,
/// status).
fn vendor_requests(
    items: &[Value],
    details: &str,
    id_key: &str,
) -> HashMap<String, (String, String, String)> {
    let mut out = HashMap::new();
    for item in items {
        let attendee = item["attendee"]["id"].as_str().unwrap_or_default();
        for detail in item[details].as_array().into_iter().flatten() {
            let requester = detail["requesterType"].as_str().unwrap_or_default();
            let person = if requester == "Guest" {
                detail["requesterId"].as_str().unwrap_or_default()
            } else {
                attendee
            };
            out.insert(
                detail[id_key].as_str().unwrap_or_default().to_string(),
                (
                    person.to_string(),
                    requester.to_string(),
                    detail["status"]
                        .as_str()
                        .unwrap_or_default()
                        .to_ascii_lowercase(),
                ),
            );
        }
    }
    out
}

const TRAVEL_TYPES: [DataType; 3] = [
    DataType::People,
    DataType::AirRequests,
    DataType::HotelRequests,
];

/// With both travel switches on, every flight and hotel request is stored once, attached to the
/// person who travels (a guest's to the guest), with no sensitive field anywhere; requests of
/// people the status rule left out are left out with them (skipped, saying why) and come in once
/// those people do, listed by attendee in batches of at most 17.
#[tokio::test]
async fn travel_requests_attach_to_people_and_follow_new_people() {
    let world = World::start(1_000, "flights = true\nhotel_requests = true\n").await;
    assert!(world.connection.data_types.contains(&DataType::AirRequests));
    assert!(
        world
            .connection
            .data_types
            .contains(&DataType::HotelRequests)
    );
    world
        .control(
            reqwest::Method::PUT,
            "/faults",
            json!({"sensitiveWithoutScope": true}),
        )
        .await;
    let event = world.sandbox.event_id().to_string();
    let air_items = world
        .vendor_all(&format!("/events/{event}/event-travel/air-requests"))
        .await;
    let hotel_items = world
        .vendor_all(&format!("/events/{event}/event-travel/hotel-requests"))
        .await;
    assert!(
        air_items
            .iter()
            .any(|i| i.to_string().contains("dateOfBirth")),
        "the sandbox sends dates of birth"
    );
    let air = vendor_requests(&air_items, "airRequestDetails", "airRequestId");
    let hotel = vendor_requests(&hotel_items, "hotelRequestDetails", "hotelRequestId");
    assert!(
        air.values().any(|(_, kind, _)| kind == "Guest"),
        "guests fly too"
    );
    assert!(hotel.values().any(|(_, kind, _)| kind == "Guest"));

    // People default to Accepted attendees: the requests of the others are left out with them.
    let (first, rows) = world.run_reported(RunKind::Sync, &TRAVEL_TYPES).await;
    let people: HashSet<String> = world
        .workspace(DataType::People)
        .await
        .into_keys()
        .collect();
    for (data_type, vendor) in [
        (DataType::AirRequests, &air),
        (DataType::HotelRequests, &hotel),
    ] {
        let stored = world.workspace(data_type).await;
        let expected: HashSet<&String> = vendor
            .iter()
            .filter(|(_, (person, _, _))| people.contains(person))
            .map(|(id, _)| id)
            .collect();
        assert_eq!(
            stored.keys().collect::<HashSet<_>>(),
            expected,
            "{data_type}"
        );
        for (id, record) in &stored {
            let (person, requester, status) = &vendor[id];
            assert_eq!(text(record, "person_external_id"), person);
            let kind = match requester.as_str() {
                "Guest" => "guest",
                "Contact" => "attendee",
                _ => "other",
            };
            assert_eq!(text(record, "requester_type"), kind);
            assert_eq!(text(record, "status"), status);
        }
        let left_out = (vendor.len() - expected.len()) as u64;
        assert!(
            left_out > 0,
            "{data_type}: some travellers are not imported"
        );
        assert_eq!(count(&first, data_type, "reject"), 0, "{data_type}");
        assert_eq!(
            count(&first, data_type, engine::run::SKIPPED),
            left_out,
            "{data_type}"
        );
        let reasons: Vec<&str> = rows
            .iter()
            .filter(|r| r["data_type"] == data_type.as_str() && r["action"] == "skipped")
            .map(|r| r["reason"].as_str())
            .collect();
        assert_eq!(reasons.len() as u64, left_out);
        assert!(reasons.iter().all(|r| {
            r.starts_with("statuses to import: 'person_external_id' refers to")
                && r.ends_with("people are imported with status Accepted only")
        }));
    }
    let air_stored = world.workspace(DataType::AirRequests).await;
    let some = air_stored.values().next().expect("a flight");
    assert!(!text(some, "outbound_origin").is_empty() && !text(some, "return_date").is_empty());
    // Nothing sensitive reaches the workspace, raw copies included.
    for data_type in [DataType::AirRequests, DataType::HotelRequests] {
        let ids: Vec<String> = world.workspace(data_type).await.into_keys().collect();
        let records = world
            .store
            .records("cvent", data_type.as_str(), &ids)
            .await
            .expect("records");
        for record in records.values() {
            let raw = record.raw.to_value().to_string();
            for field in ["dateOfBirth", "knownTravelerNumber", "redressNumber"] {
                assert!(
                    !raw.contains(field),
                    "{data_type} {}: {field}",
                    record.external_id
                );
            }
        }
    }

    // Attendees left out become Accepted: the next incremental run imports them and brings
    // their requests, asked by attendee within Cvent's filter limit.
    let left_out: Vec<String> = air
        .values()
        .chain(hotel.values())
        .filter(|(person, kind, _)| kind == "Contact" && !people.contains(person))
        .map(|(person, _, _)| person.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    assert!(left_out.len() > 17, "{} people to follow", left_out.len());
    for id in &left_out {
        world
            .control(
                reqwest::Method::PATCH,
                &format!("/attendees/{id}"),
                json!({"status": "Accepted"}),
            )
            .await;
    }
    world
        .control(reqwest::Method::DELETE, "/calls", Value::Null)
        .await;
    let second = world.run(RunKind::Sync, &TRAVEL_TYPES).await;
    assert_eq!(second.types["air_requests"].mode, "incremental");
    let people: HashSet<String> = world
        .workspace(DataType::People)
        .await
        .into_keys()
        .collect();
    for (data_type, vendor) in [
        (DataType::AirRequests, &air),
        (DataType::HotelRequests, &hotel),
    ] {
        let stored = world.workspace(data_type).await;
        for (id, (person, kind, _)) in vendor.iter() {
            if kind == "Contact" && left_out.contains(person) {
                assert!(stored.contains_key(id), "{data_type} {id} of {person}");
            }
            assert_eq!(
                stored.contains_key(id),
                people.contains(person),
                "{data_type} {id}"
            );
        }
    }
    let route = "/ea/events/{id}/event-travel/air-requests";
    let filtered: Vec<String> = world
        .logged_targets(route)
        .await
        .into_iter()
        .filter(|t| t.contains("filter="))
        .collect();
    assert!(filtered.len() >= 2, "{filtered:?}");
    for target in &filtered {
        let query = target.split_once('?').map(|(_, q)| q).unwrap_or_default();
        let filter: String = url_filter(query);
        let terms = filter.matches("attendee.id eq").count();
        assert!((1..=17).contains(&terms), "{filter}");
        assert!(!filter.contains(" and "), "{filter}");
    }
}

/// The `filter` parameter of a logged query string, decoded.
fn url_filter(query: &str) -> String {
    reqwest::Url::parse(&format!("http://x/?{query}"))
        .ok()
        .and_then(|url| {
            url.query_pairs()
                .find(|(k, _)| k == "filter")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default()
}

/// With the travel switches off, the connection does not list travel types, refuses them by
/// name with the switch to turn on, and a sync never calls the travel endpoints.
#[tokio::test]
async fn travel_is_never_pulled_when_switched_off() {
    let world = World::start(150, "").await;
    assert!(!world.connection.data_types.contains(&DataType::AirRequests));
    assert!(
        !world
            .connection
            .data_types
            .contains(&DataType::HotelRequests)
    );
    let error = world
        .connection
        .parse_types(&["hotel_requests".to_string()])
        .expect_err("off");
    assert!(error.0.contains("set hotel_requests = true"), "{error}");
    world
        .run(RunKind::Sync, &world.connection.data_types.clone())
        .await;
    let calls = world
        .control(reqwest::Method::GET, "/calls", Value::Null)
        .await;
    let endpoints = calls["byEndpoint"].as_object().expect("counts");
    assert!(!endpoints.is_empty());
    assert!(
        endpoints.keys().all(|k| !k.contains("event-travel")),
        "{endpoints:?}"
    );
}

//! The Cvent REST sandbox's event, synced into a SQLite workspace, reaches the iMIS sandbox as
//! one Event with the shown sessions as its Functions: previewed, created, found unchanged on
//! the next run, and brought up to date when a session is renamed at Cvent. An event id iMIS
//! cannot take, and a connection not yet synced, are refused with what to do.

use std::collections::HashMap;
use std::path::PathBuf;

use destinations::imis::meeting::{Action, MeetingError, MeetingImport};
use engine::config::Config;
use pipeline::DataType;
use reqwest::Method;
use serde_json::{Value, json};
use store::Store;

mod support;

use support::{FAST_RETRY, Sandboxes};

/// The sandboxes and a folder for the test's workspace.
struct Setup {
    sandboxes: Sandboxes,
    folder: PathBuf,
}

impl std::ops::Deref for Setup {
    type Target = Sandboxes;

    fn deref(&self) -> &Sandboxes {
        &self.sandboxes
    }
}

async fn setup(name: &str) -> Setup {
    let sandboxes = Sandboxes::start(100).await;
    let folder = std::env::temp_dir().join(format!(
        "eventsync-meeting-{name}-{}-{}",
        std::process::id(),
        sandboxes.cvent.address().port()
    ));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).expect("test folder");
    Setup { sandboxes, folder }
}

impl Setup {
    /// The configuration, with `feed` as the Cvent connection's `[connections.imis]` lines.
    fn config(&self, feed: &str) -> Config {
        self.sandboxes.config(r#"["sessions"]"#, feed)
    }

    async fn workspace(&self) -> Store {
        Store::open(&self.folder.join("workspace.sqlite").display().to_string())
            .await
            .expect("store")
    }

    async fn sync(&self, store: &Store, config: &Config) {
        self.sandboxes
            .sync(store, config, &[DataType::Sessions])
            .await;
    }

    async fn imis_events(&self) -> Vec<Value> {
        self.imis_control(Method::GET, "/events", Value::Null)
            .await
            .as_array()
            .cloned()
            .expect("a list of events")
    }
}

/// The workspace's sessions: external id → (code, title, starts_at, hidden).
async fn sessions(store: &Store) -> HashMap<String, (String, String, String, bool)> {
    let page = store
        .export_page(Some("cvent"), "sessions", None, 10_000)
        .await
        .expect("sessions");
    page.iter()
        .map(|record| {
            let fields = engine::run::export_fields(record);
            let text = |name: &str| fields[name].as_str().unwrap_or_default().to_string();
            (
                record.external_id.clone(),
                (
                    text("code"),
                    text("title"),
                    text("starts_at"),
                    fields["hidden"] == json!(true),
                ),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_reaches_imis_once_and_follows_a_renamed_session() {
    let setup = setup("create").await;
    let config = setup.config(r#"product_code = "annconf""#);
    let store = setup.workspace().await;

    // One session cancelled at Cvent before the first sync: it stays out of iMIS.
    let listed = setup.cvent_control(Method::GET, "/info", Value::Null).await;
    assert!(
        listed["sessions"].as_u64().unwrap_or_default() >= 3,
        "{listed}"
    );
    setup.sync(&store, &config).await;
    let synced = sessions(&store).await;
    let mut ids: Vec<&String> = synced.keys().collect();
    ids.sort();
    let cancelled = ids[0].clone();
    let renamed = ids[1].clone();
    setup
        .cvent_control(
            Method::PATCH,
            &format!("/sessions/{cancelled}"),
            json!({"status": "Cancelled"}),
        )
        .await;
    setup.sync(&store, &config).await;
    let synced = sessions(&store).await;
    assert!(synced[&cancelled].3, "the cancelled session is hidden");
    let hidden = synced.values().filter(|session| session.3).count();
    let shown = synced.len() - hidden;

    let import = MeetingImport::new(&config, "cvent", FAST_RETRY).expect("import");
    assert_eq!(import.event_id(), "ANNCONF");
    let plan = import.plan(&store).await.expect("plan");
    assert_eq!(plan.action, Action::Create);
    assert_eq!(plan.site, "association");
    assert_eq!(plan.functions.len(), shown);
    assert_eq!(plan.counts.create, shown);
    assert_eq!(plan.left_out.hidden, hidden);
    assert!(plan.kept_in_imis.is_empty());
    // Cvent gives the event's times in UTC: the plan says the dates are UTC.
    assert_eq!(plan.dates.from, "utc");
    assert_eq!(plan.dates.utc_offset, "+00:00");
    assert!(plan.dates.note.contains("UTC"), "{}", plan.dates.note);
    assert_ne!(plan.event.name, "ANNCONF", "the facts name the event");
    assert!(plan.event.start.is_some() && plan.event.end.is_some());
    assert!(
        plan.functions
            .iter()
            .all(|function| function.session_external_id != cancelled)
    );
    // Nothing is written by a plan.
    assert!(setup.imis_events().await.is_empty());

    let outcome = import.apply(&plan).await.expect("apply");
    assert_eq!(outcome.event, Action::Create);
    assert_eq!(outcome.functions_created, shown);

    let again = import.plan(&store).await.expect("plan again");
    assert!(again.is_unchanged(), "{again:#?}");
    assert_eq!(again.counts.unchanged, shown);
    assert_eq!((again.counts.create, again.counts.update), (0, 0));
    let outcome = import.apply(&again).await.expect("apply again");
    assert_eq!(outcome.event, Action::Unchanged);

    // Renamed at Cvent: one function to update, naming the field.
    setup
        .cvent_control(
            Method::PATCH,
            &format!("/sessions/{renamed}"),
            json!({"title": "Renamed at Cvent"}),
        )
        .await;
    setup.sync(&store, &config).await;
    let plan = import.plan(&store).await.expect("plan after the rename");
    assert_eq!(plan.action, Action::Update);
    assert!(plan.changes.is_empty(), "{:?}", plan.changes);
    assert_eq!(
        (
            plan.counts.create,
            plan.counts.update,
            plan.counts.unchanged
        ),
        (0, 1, shown - 1)
    );
    let updated: Vec<_> = plan
        .functions
        .iter()
        .filter(|function| function.action == Action::Update)
        .collect();
    assert_eq!(updated[0].session_external_id, renamed);
    assert_eq!(updated[0].changes, ["name"]);
    let outcome = import.apply(&plan).await.expect("apply the rename");
    assert_eq!(outcome.event, Action::Update);
    assert_eq!(outcome.functions_updated, 1);

    // iMIS holds one event, its functions the shown sessions, ids EVENTID/CODE.
    let events = setup.imis_events().await;
    assert_eq!(events.len(), 1, "{events:#?}");
    let event = &events[0];
    assert_eq!(event["event_id"], "ANNCONF");
    assert_eq!(event["name"], json!(plan.event.name));
    let functions = event["functions"].as_array().expect("functions");
    assert_eq!(functions.len(), shown);
    let session_of: HashMap<&str, &str> = plan
        .functions
        .iter()
        .map(|function| {
            (
                function.code.as_str(),
                function.session_external_id.as_str(),
            )
        })
        .collect();
    for function in functions {
        let code = function["code"].as_str().expect("code");
        assert_eq!(function["function_id"], format!("ANNCONF/{code}"));
        let session = &synced[session_of[code]];
        // The sandbox's sessions have codes that fit, so each function keeps its session's.
        assert_eq!(code, session.0.to_ascii_uppercase());
        // The workspace's UTC start, written without its offset.
        assert_eq!(
            function["start"].as_str().map(str::to_string),
            Some(session.2[..19].to_string())
        );
        if session_of[code] == renamed {
            assert_eq!(function["name"], "Renamed at Cvent");
        } else {
            assert_eq!(function["name"], json!(session.1));
        }
    }
    let last = import.plan(&store).await.expect("the last plan");
    assert!(last.is_unchanged());
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_id_imis_cannot_take_is_refused_naming_product_code() {
    let setup = setup("long-id").await;
    // The sandbox's event codes are 11 characters, one more than iMIS takes.
    assert!(setup.cvent.event_code().len() > 10);
    let config = setup.config("");
    let error = MeetingImport::new(&config, "cvent", FAST_RETRY)
        .err()
        .expect("refused");
    let message = error.to_string();
    assert!(matches!(error, MeetingError::Config(_)), "{error:?}");
    assert!(message.contains("product_code"), "{message}");
    assert!(message.contains("[connections.imis]"), "{message}");
    assert!(message.contains("at most 10"), "{message}");
    assert!(
        message.contains(&setup.cvent.event_code().to_ascii_uppercase()),
        "{message}"
    );

    let config = setup.config(r#"product_code = "ANN/CONF""#);
    let message = MeetingImport::new(&config, "cvent", FAST_RETRY)
        .err()
        .expect("refused")
        .to_string();
    assert!(message.contains("characters iMIS cannot take"), "{message}");
    assert!(message.contains("product_code = \"ANNCONF\""), "{message}");

    // The site itself has no event to import.
    let message = MeetingImport::new(&config, "association", FAST_RETRY)
        .err()
        .expect("refused")
        .to_string();
    assert!(message.contains("iMIS site itself"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_not_yet_synced_is_told_to_sync_first() {
    let setup = setup("unsynced").await;
    let config = setup.config(r#"product_code = "ANNCONF""#);
    let store = setup.workspace().await;
    let import = MeetingImport::new(&config, "cvent", FAST_RETRY).expect("import");
    let error = import.plan(&store).await.expect_err("refused");
    assert!(matches!(error, MeetingError::NotSynced { .. }), "{error:?}");
    assert!(error.to_string().contains("sync cvent first"), "{error}");
    assert!(setup.imis_events().await.is_empty());
    store.close().await;
}

//! A run's summary of rejections: records rejected for one reason are one line with their count
//! and an example, and a record pointing at a record the same run rejected names that
//! rejection as its cause — not "sync the data type first", which the run has just done.
//! Aventri's sandbox has sessions without times (rejected) that people registered to.

mod support;

use std::path::Path;

use engine::{Config, RunKind};
use pipeline::DataType;
use sandboxes::aventri::{AventriSandbox, SandboxConfig};

#[tokio::test]
async fn registrations_to_a_rejected_session_are_grouped_under_the_sessions_rejection() {
    let sandbox = AventriSandbox::start(SandboxConfig {
        attendees: 3_000,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let dir = support::test_folder("rejection-causes", sandbox.address().port());
    let store = support::sqlite_workspace(&dir).await;
    let text = format!(
        "[[connections]]\nname = \"aventri\"\nkind = \"aventri\"\nendpoint = \"{}\"\n\
         account_id = \"{}\"\nkey = \"${{AVENTRI_KEY}}\"\nevent_id = \"{}\"\n",
        sandbox.endpoint(),
        sandbox.account_id(),
        sandbox.event_id(),
    );
    let key = sandbox.master_key().to_string();
    let config = Config::parse(&text, Path::new("eventsync.toml"), &move |name| {
        (name == "AVENTRI_KEY").then(|| key.clone())
    })
    .expect("config");
    let connection = config.connection("aventri").expect("connection");
    let types = [
        DataType::People,
        DataType::Sessions,
        DataType::SessionRegistrations,
    ];
    for kind in [RunKind::Preview, RunKind::Sync] {
        let report = support::run(&store, connection, kind, &types).await;

        let sessions = &report.types["sessions"];
        let rejected_sessions = sessions.counts.get("reject").copied().unwrap_or(0);
        assert!(
            rejected_sessions > 0,
            "the sandbox has sessions without times"
        );
        // Both sessions are rejected for one reason: one line, counting them.
        assert_eq!(sessions.rejected.len(), 1, "{:?}", sessions.rejected);
        let session_group = &sessions.rejected[0];
        assert_eq!(session_group.count, rejected_sessions);
        assert!(
            session_group.reason.contains("'starts_at' has no value"),
            "{}",
            session_group.reason
        );

        let registrations = &report.types["session_registrations"];
        let rejected = registrations.counts.get("reject").copied().unwrap_or(0);
        assert!(
            rejected > 20,
            "more than the summary used to list: {rejected}"
        );
        // One line per rejected session, its registrations counted, with one as the example.
        assert_eq!(
            registrations.rejected.len() as u64,
            rejected_sessions,
            "{:#?}",
            registrations.rejected
        );
        assert_eq!(
            registrations.rejected.iter().map(|g| g.count).sum::<u64>(),
            rejected
        );
        for group in &registrations.rejected {
            let session = group
                .example
                .rsplit('-')
                .next()
                .expect("an Aventri registration id ends in its session's");
            assert!(
                group.reason.starts_with(&format!(
                    "field 'session_external_id' refers to session '{session}', which was \
                     rejected itself (required field 'starts_at' has no value"
                )),
                "{}",
                group.reason
            );
            assert!(
                group
                    .reason
                    .ends_with("): correct that record and this one follows"),
                "{}",
                group.reason
            );
            assert!(
                !group.reason.contains("sync the data type"),
                "{}",
                group.reason
            );
            assert_eq!(
                group.to_string(),
                format!(
                    "{} records, such as {}: {}",
                    group.count, group.example, group.reason
                )
            );
        }
    }
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

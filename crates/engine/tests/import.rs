//! Test import from a CSV export, one table row per rule: the connection's settings and a CSV
//! file go in; the preview's report lines and the workspace records after `--apply` come out.
//! The file never reaches a vendor, so the connection points at a closed port.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use engine::Config;
use engine::import::{ImportOptions, import};
use pipeline::DataType;
use serde_json::{Value, json};
use store::Store;

mod support;

/// One rule's case.
struct Case {
    rule: &'static str,
    /// TOML under `[connections.data.people]`.
    settings: &'static str,
    csv: &'static str,
    /// The preview report's lines: (action, external id, a part of the reason).
    report: &'static [(&'static str, &'static str, &'static str)],
    /// The workspace after applying: external id → the fields checked.
    workspace: Value,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            rule: "mapping: vendor paths become workspace fields, statuses through the value map",
            settings: "statuses = []\n",
            csv: "id,status,contact.firstName,contact.lastName,contact.email\n\
                  p1,Accepted,Ada,Lovelace,ada@example.com\n\
                  p2,Cancelled,Bob,Babbage,bob@example.com\n",
            report: &[("create", "p1", ""), ("create", "p2", "")],
            workspace: json!({
                "p1": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "status": "active"},
                "p2": {"first_name": "Bob", "status": "cancelled"},
            }),
        },
        Case {
            rule: "status rule: a status not imported is skipped, saying which statuses are",
            settings: "statuses = [\"Accepted\"]\n",
            csv: "id,status,contact.firstName,contact.lastName,contact.email\n\
                  p1,Accepted,Ada,Lovelace,ada@example.com\n\
                  p2,Declined,Bob,Babbage,bob@example.com\n",
            report: &[
                ("create", "p1", ""),
                (
                    "skipped",
                    "p2",
                    "statuses to import: status 'Declined' is not among Accepted",
                ),
            ],
            workspace: json!({"p1": {"first_name": "Ada"}}),
        },
        Case {
            rule: "filters: a record failing a condition is filtered, naming the condition",
            settings: "statuses = []\nfilters = [{ field = \"email\", contains = \"@example.com\" }]\n",
            csv: "id,status,contact.firstName,contact.lastName,contact.email\n\
                  p1,Accepted,Ada,Lovelace,ada@example.com\n\
                  p2,Accepted,Bob,Babbage,bob@elsewhere.org\n",
            report: &[
                ("filtered", "p2", "filter: keeps email contains"),
                ("create", "p1", ""),
            ],
            workspace: json!({"p1": {"email": "ada@example.com"}}),
        },
        Case {
            rule: "validation: a row without a required field is rejected naming its row and column",
            settings: "statuses = []\n",
            csv: "id,status,contact.firstName,contact.lastName,contact.email\n\
                  p1,Accepted,Ada,Lovelace,ada@example.com\n\
                  p2,Accepted,,Babbage,bob@example.com\n",
            report: &[
                (
                    "reject",
                    "p2",
                    "row 3: required field 'first_name' has no value: column 'contact.firstName' is empty on this row",
                ),
                ("create", "p1", ""),
            ],
            workspace: json!({"p1": {"first_name": "Ada"}}),
        },
        Case {
            rule: "data labels: a column headed by a label's question id fills custom.<name>",
            settings: "statuses = []\nlabels = [{ question = \"reg_Diet\", name = \"dietary\" }]\n",
            csv: "id,status,contact.firstName,contact.lastName,reg_Diet\n\
                  p1,Accepted,Ada,Lovelace,Vegan\n",
            report: &[("create", "p1", "")],
            workspace: json!({"p1": {"custom.dietary": "Vegan", "first_name": "Ada"}}),
        },
        Case {
            rule: "headings: workspace field names stand for the mapping's vendor paths",
            settings: "statuses = []\n",
            csv: "external_id,status,first_name,last_name,email,Badge printed\n\
                  p1,Accepted,Ada,Lovelace,ada@example.com,yes\n",
            report: &[("create", "p1", "")],
            workspace: json!({"p1": {"first_name": "Ada", "email": "ada@example.com"}}),
        },
        Case {
            rule: "malformed rows: rejected with their row, the rest go on",
            settings: "statuses = []\n",
            csv: "id,status,contact.firstName,contact.lastName,contact.email\n\
                  p1,Accepted,Ada,Lovelace,ada@example.com\n\
                  p2,Accepted,Bob,Babbage,bob@example.com,surplus\n\
                  p3,Accepted,Cy,Clarke,cy@example.com\n",
            report: &[
                ("reject", "", "row 3: has 6 cells, the heading row has 5"),
                ("create", "p1", ""),
                ("create", "p3", ""),
            ],
            workspace: json!({"p1": {"first_name": "Ada"}, "p3": {"first_name": "Cy"}}),
        },
    ]
}

fn dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("eventsync-import-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn connection(settings: &str) -> engine::Connection {
    let text = format!(
        "[[connections]]\nname = \"cvent\"\nkind = \"cvent-rest\"\nbase_url = \"http://127.0.0.1:9/ea\"\n\
         event_code = \"EV1\"\nclient_id = \"id\"\nclient_secret = \"${{SECRET}}\"\n\
         [connections.data.people]\n{settings}"
    );
    let config = Config::parse(&text, Path::new("eventsync.toml"), &|name| {
        (name == "SECRET").then(|| "never-used".to_string())
    })
    .expect("config");
    config.connection("cvent").expect("connection").clone()
}

/// The report's lines as (action, external id, reason).
fn report_lines(path: &Path) -> Vec<(String, String, String)> {
    let mut reader = csv::Reader::from_path(path).expect("report");
    reader
        .records()
        .map(|row| {
            let row = row.expect("row");
            (row[1].to_string(), row[2].to_string(), row[4].to_string())
        })
        .collect()
}

#[tokio::test]
async fn each_rule_shows_in_the_preview_and_the_import_stores_what_it_admits() {
    for (index, case) in cases().into_iter().enumerate() {
        let dir = dir(&index.to_string());
        let store = Store::open(&dir.join("workspace.sqlite").display().to_string())
            .await
            .expect("store");
        let connection = connection(case.settings);
        let csv = dir.join("registrations.csv");
        std::fs::write(&csv, case.csv).expect("csv");
        let report = dir.join("preview.csv");
        let mut options = ImportOptions {
            data_type: DataType::People,
            csv,
            report: Some(report.clone()),
            apply: false,
        };

        let preview = import(&store, &connection, &options)
            .await
            .expect(case.rule);
        assert_eq!(preview.run.kind, "import-preview", "{}", case.rule);
        let lines = report_lines(&report);
        assert_eq!(lines.len(), case.report.len(), "{}: {lines:?}", case.rule);
        for ((action, id, reason), expected) in lines.iter().zip(case.report) {
            assert_eq!(
                (action.as_str(), id.as_str()),
                (expected.0, expected.1),
                "{}",
                case.rule
            );
            assert!(reason.contains(expected.2), "{}: {reason}", case.rule);
        }
        assert_eq!(
            store.count("cvent", "people").await.expect("count"),
            0,
            "{}: a preview writes nothing",
            case.rule
        );

        options.apply = true;
        options.report = None;
        let applied = import(&store, &connection, &options)
            .await
            .expect(case.rule);
        assert_eq!(applied.run.kind, "import", "{}", case.rule);
        let workspace = support::workspace(&store, "cvent", DataType::People).await;
        let expected = case.workspace.as_object().expect("object");
        let ids: BTreeMap<&String, ()> = workspace.keys().map(|id| (id, ())).collect();
        assert_eq!(
            ids.keys().map(|id| id.as_str()).collect::<Vec<_>>(),
            expected.keys().map(String::as_str).collect::<Vec<_>>(),
            "{}",
            case.rule
        );
        for (id, fields) in expected {
            for (field, value) in fields.as_object().expect("fields") {
                assert_eq!(
                    workspace[id].get(field),
                    Some(value),
                    "{}: {id}.{field}",
                    case.rule
                );
            }
        }
        // What the file stored is in the change feed, as the import's own changes.
        let feed = store
            .changes(&store::FeedQuery {
                limit: 1000,
                ..store::FeedQuery::default()
            })
            .await
            .expect("feed");
        assert_eq!(feed.len(), workspace.len(), "{}", case.rule);
        assert!(
            feed.iter()
                .all(|change| change.run_id == Some(applied.run.run_id)
                    && change.action == store::FeedAction::Create
                    && workspace.contains_key(&change.external_id)),
            "{}: {feed:?}",
            case.rule
        );
        // A file is not the vendor: the stream's cursor and totals are untouched.
        let state = store
            .state("cvent", "people")
            .await
            .expect("state")
            .unwrap_or_default();
        assert_eq!(state.cursor, None, "{}", case.rule);
        assert_eq!(store.totals("cvent", "people").await.expect("totals"), None);
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[tokio::test]
async fn a_file_whose_headings_match_nothing_is_refused_saying_what_to_name_them() {
    let dir = dir("unmatched");
    let store = Store::open(&dir.join("workspace.sqlite").display().to_string())
        .await
        .expect("store");
    let csv = dir.join("other.csv");
    std::fs::write(&csv, "Name,Ticket\nAda,VIP\n").expect("csv");
    let options = ImportOptions {
        data_type: DataType::People,
        csv,
        report: None,
        apply: true,
    };
    let error = import(&store, &connection("statuses = []\n"), &options)
        .await
        .expect_err("nothing matches")
        .to_string();
    assert!(
        error.contains("no column heading matches") && error.contains("Name, Ticket"),
        "{error}"
    );
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

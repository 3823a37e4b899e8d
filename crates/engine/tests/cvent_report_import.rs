//! A test import of a registration report as Cvent exports it — human headings, question texts
//! as headings, no attendee ids — through a Cvent REST connection to the sandbox, which answers
//! the one question the import asks (the texts of the data labels' questions).

use std::path::{Path, PathBuf};

use engine::import::{ImportOptions, ImportReport, import};
use pipeline::DataType;
use sandboxes::cvent_rest::{CventRestSandbox, SandboxConfig};
use store::Store;

mod support;

const REPORT: &str = "tests/fixtures/cvent-registration-report.csv";

const SETTINGS: &str = "[connections.data.people]\nstatuses = []\nlabels = [\
    { question = \"DIET\", name = \"dietary\" }, { question = \"TSHIRT\", name = \"tshirt\" }]\n";

async fn run(
    store: &Store,
    connection: &engine::Connection,
    csv: &Path,
    report: Option<PathBuf>,
    apply: bool,
) -> ImportReport {
    import(
        store,
        connection,
        &ImportOptions {
            data_type: DataType::People,
            csv: csv.to_path_buf(),
            report,
            apply,
        },
    )
    .await
    .expect("import")
}

/// The preview report's lines as (action, external id, reason).
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
async fn a_cvent_registration_report_imports_by_its_headings_and_again_without_duplicates() {
    let sandbox = CventRestSandbox::start(SandboxConfig {
        attendees: 5,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let dir = support::test_folder("cvent-report", sandbox.address().port());
    let store = support::sqlite_workspace(&dir).await;
    let connection = support::cvent_connection(&sandbox, SETTINGS);
    let csv = Path::new(env!("CARGO_MANIFEST_DIR")).join(REPORT);

    // The preview: how each heading was read, and what each row would do.
    let preview_report = dir.join("preview.csv");
    let preview = run(
        &store,
        &connection,
        &csv,
        Some(preview_report.clone()),
        false,
    )
    .await;
    assert!(preview.warnings.is_empty(), "{:?}", preview.warnings);
    let matched: Vec<(&str, Option<&str>)> = preview
        .columns
        .iter()
        .map(|c| (c.heading.as_str(), c.path.as_deref()))
        .collect();
    assert_eq!(
        matched,
        [
            ("Confirmation Number", None),
            ("Registration Status", Some("status")),
            ("Registration Type", Some("registrationType.name")),
            ("First Name", Some("contact.firstName")),
            ("Last Name", Some("contact.lastName")),
            ("Email Address", Some("contact.email")),
            ("Company Name", Some("contact.company")),
            ("Title", Some("contact.title")),
            ("Mobile Phone", Some("contact.mobilePhone")),
            ("Contact ID", Some("contact.id")),
            ("Registration Date", None),
            (
                "Do you have any dietary restrictions?",
                Some("labels.dietary")
            ),
            ("Registrant Survey - T-shirt size", Some("labels.tshirt")),
            ("Badge Printed", None),
        ]
    );
    assert_eq!(preview.rows, 5);
    assert_eq!(
        preview.ids_made, 4,
        "every row with a confirmation number or email"
    );
    let lines = report_lines(&preview_report);
    // The row with neither id, confirmation number nor email is rejected, in the file's terms;
    // the rest go on.
    let rejected: Vec<&(String, String, String)> =
        lines.iter().filter(|line| line.0 == "reject").collect();
    assert_eq!(rejected.len(), 1, "{lines:?}");
    let reason = &rejected[0].2;
    assert_eq!(
        reason,
        "row 5: has no id: the file has no id column, and it has neither a confirmation number \
         nor an email to make one from; fill 'Confirmation Number' or 'Email Address'"
    );
    assert!(!reason.contains("vendor"), "{reason}");
    let mut created: Vec<&str> = lines
        .iter()
        .filter(|line| line.0 == "create")
        .map(|line| line.1.as_str())
        .collect();
    created.sort();
    assert_eq!(
        created,
        [
            "file-confirmation-KD82MZQ0PLT",
            "file-confirmation-T7XJ3K9LM2W",
            "file-confirmation-VQNB3XNFS5X",
            "file-email-bob.babbage@example.com",
        ]
    );
    assert_eq!(store.count("cvent", "people").await.expect("count"), 0);

    // The import stores what the preview showed.
    let applied = run(&store, &connection, &csv, None, true).await;
    assert_eq!(applied.run.types["people"].counts.get("create"), Some(&4));
    let workspace = support::workspace(&store, "cvent", DataType::People).await;
    let ada = &workspace["file-confirmation-T7XJ3K9LM2W"];
    for (field, value) in [
        ("first_name", "Ada"),
        ("last_name", "Lovelace"),
        ("email", "ada.lovelace@example.com"),
        ("company", "Analytical Engines Ltd"),
        ("title", "Director, Research"),
        ("phone", "+44 20 7946 0018"),
        ("registration_type", "Attendee"),
        ("contact_id", "8f7c1d2e-5a6b-4c3d-9e8f-0a1b2c3d4e5f"),
        ("status", "active"),
        ("custom.dietary", "Vegan"),
        ("custom.tshirt", "M"),
    ] {
        assert_eq!(ada[field], value, "{field}");
    }
    assert_eq!(
        workspace["file-confirmation-KD82MZQ0PLT"]["status"],
        "cancelled"
    );
    assert_eq!(
        workspace["file-email-bob.babbage@example.com"]["custom.dietary"],
        "Gluten-free"
    );

    // The same file again: the same ids, so nothing new — the records are unchanged.
    let again = run(&store, &connection, &csv, None, true).await;
    let counts = &again.run.types["people"].counts;
    assert_eq!(counts.get("create"), None, "{counts:?}");
    assert_eq!(counts.get("unchanged"), Some(&4), "{counts:?}");
    assert_eq!(store.count("cvent", "people").await.expect("count"), 4);

    // A corrected file: the row's record is updated, not doubled.
    let corrected = dir.join("corrected.csv");
    let text = std::fs::read_to_string(&csv).expect("fixture");
    std::fs::write(
        &corrected,
        text.replace("\"Director, Research\"", "\"Head of Research\""),
    )
    .expect("corrected");
    let update = run(&store, &connection, &corrected, None, true).await;
    let counts = &update.run.types["people"].counts;
    assert_eq!(counts.get("update"), Some(&1), "{counts:?}");
    assert_eq!(store.count("cvent", "people").await.expect("count"), 4);
    let workspace = support::workspace(&store, "cvent", DataType::People).await;
    assert_eq!(
        workspace["file-confirmation-T7XJ3K9LM2W"]["title"],
        "Head of Research"
    );
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Without an answer from the vendor, label columns are still matched by question id, code and
/// name, and the import says the question texts were not read.
#[tokio::test]
async fn without_the_vendor_labels_match_by_code_and_the_import_says_so() {
    let dir = std::env::temp_dir().join(format!("eventsync-report-offline-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let store = support::sqlite_workspace(&dir).await;
    let text = format!(
        "[[connections]]\nname = \"cvent\"\nkind = \"cvent-rest\"\nbase_url = \"http://127.0.0.1:9/ea\"\n\
         event_code = \"EV1\"\nclient_id = \"id\"\nclient_secret = \"${{SECRET}}\"\n{SETTINGS}"
    );
    let config = engine::Config::parse(&text, Path::new("eventsync.toml"), &|name| {
        (name == "SECRET").then(|| "never-used".to_string())
    })
    .expect("config");
    let connection = config.connection("cvent").expect("connection");
    let csv = dir.join("report.csv");
    std::fs::write(
        &csv,
        "Email Address,Registration Status,First Name,Last Name,DIET,Do you have any dietary restrictions?\n\
         ada@example.com,Accepted,Ada,Lovelace,Vegan,Vegan\n",
    )
    .expect("csv");
    let outcome = run(&store, connection, &csv, None, true).await;
    assert_eq!(outcome.warnings.len(), 1, "{:?}", outcome.warnings);
    assert!(
        outcome.warnings[0].contains("could not be read from connection 'cvent'"),
        "{:?}",
        outcome.warnings
    );
    assert_eq!(outcome.columns[4].path.as_deref(), Some("labels.dietary"));
    assert_eq!(outcome.columns[5].path, None);
    assert_eq!(
        outcome.run.types["people"].counts.get("create"),
        Some(&1),
        "{:?}",
        outcome.run.types["people"]
    );
    let workspace = support::workspace(&store, "cvent", DataType::People).await;
    assert_eq!(
        workspace["file-email-ada@example.com"]["custom.dietary"],
        "Vegan"
    );
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

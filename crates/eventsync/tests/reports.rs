//! What `preview --report` writes, read back as a user would open it: a CSV of every data type
//! with a file per data type beside it, or a workbook with a sheet per data type — each with its
//! own columns, the workspace values beside the vendor paths, numbers and dates (the engine's
//! report tests read the filters from the sheets' XML). And
//! the Aventri demo's summary: rejections alike counted on one line, naming their cause.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use calamine::{Data, Reader, Xlsx, open_workbook};
use sandboxes::cvent_rest::{CventRestSandbox, SandboxConfig};

const BINARY: &str = env!("CARGO_BIN_EXE_eventsync");

fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("eventsync-reports-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("folder");
    dir
}

fn eventsync(dir: &Path, args: &[&str], secret: &str) -> Output {
    let output = Command::new(BINARY)
        .current_dir(dir)
        .env_remove("EVENTSYNC_CONFIG")
        .env_remove("EVENTSYNC_DATABASE")
        .env("CVENT_SECRET", secret)
        .args(args)
        .output()
        .expect("eventsync");
    assert!(
        output.status.success(),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn headings(path: &Path) -> Vec<String> {
    let mut reader = csv::Reader::from_path(path).expect("csv");
    reader
        .headers()
        .expect("headings")
        .iter()
        .map(String::from)
        .collect()
}

// The sandbox serves on the test's runtime while the test waits for the command: two threads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preview_report_is_a_table_per_data_type_as_csv_files_or_sheets() {
    let sandbox = CventRestSandbox::start(SandboxConfig {
        attendees: 60,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let dir = folder("preview");
    std::fs::write(
        dir.join("eventsync.toml"),
        format!(
            "database = \"workspace.sqlite\"\n[[connections]]\nname = \"cvent\"\nkind = \"cvent-rest\"\n\
             base_url = \"{}\"\nevent_code = \"{}\"\nclient_id = \"{}\"\n\
             client_secret = \"${{CVENT_SECRET}}\"\ndata_types = [\"people\", \"sessions\"]\n\
             [connections.data.people]\nstatuses = []\n\
             labels = [{{ question = \"YEARS_EXP\", name = \"years\" }}]\n",
            sandbox.base_url(),
            sandbox.event_code(),
            sandbox.client_id()
        ),
    )
    .expect("config");
    let secret = sandbox.client_secret().to_string();

    // CSV: every data type in preview.csv, and each alone beside it with its own columns.
    let output = eventsync(
        &dir,
        &["preview", "cvent", "--report", "preview.csv"],
        &secret,
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("preview.people.csv (people alone)"), "{text}");
    let whole = headings(&dir.join("preview.csv"));
    assert_eq!(whole[..3], ["data_type", "action", "external_id"]);
    let people = headings(&dir.join("preview.people.csv"));
    let sessions = headings(&dir.join("preview.sessions.csv"));
    assert_eq!(
        people[..4],
        ["action", "external_id", "changed_fields", "reason"]
    );
    // The workspace values come before the vendor paths, in the field order.
    assert_eq!(people[4..6], ["workspace.status", "workspace.first_name"]);
    assert!(people.contains(&"workspace.custom.years".to_string()));
    assert!(people.contains(&"contact.firstName".to_string()));
    assert!(
        !people.contains(&"workspace.starts_at".to_string())
            && !people.contains(&"start".to_string()),
        "a session's columns in the people file: {people:?}"
    );
    assert!(sessions.contains(&"workspace.starts_at".to_string()));
    assert!(
        !sessions.contains(&"contact.firstName".to_string()),
        "a person's column in the sessions file"
    );
    let rows = csv::Reader::from_path(dir.join("preview.people.csv"))
        .expect("people")
        .records()
        .count();
    assert_eq!(rows, 60);

    // XLSX: a sheet per data type, with numbers and dates as such.
    eventsync(
        &dir,
        &["preview", "cvent", "--report", "preview.xlsx"],
        &secret,
    );
    let path = dir.join("preview.xlsx");
    let mut workbook: Xlsx<_> = open_workbook(&path).expect("workbook");
    // In the order the data types ran: sessions before the people registered to them.
    assert_eq!(workbook.sheet_names(), ["sessions", "people"]);
    let sheet = workbook.worksheet_range("sessions").expect("sessions");
    let header: Vec<String> = sheet
        .rows()
        .next()
        .expect("header")
        .iter()
        .map(|c| c.to_string())
        .collect();
    let at = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name} in {header:?}"))
    };
    let first = sheet.rows().nth(1).expect("a session");
    assert!(
        matches!(first[at("start")], Data::DateTime(_)),
        "{:?}",
        first[at("start")]
    );
    assert!(
        matches!(first[at("workspace.starts_at")], Data::DateTime(_)),
        "{:?}",
        first[at("workspace.starts_at")]
    );
    assert!(
        sheet
            .rows()
            .skip(1)
            .any(|row| matches!(row[at("workspace.capacity")], Data::Float(_))),
        "capacities are numbers"
    );
    assert!(matches!(first[at("external_id")], Data::String(_)));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_aventri_demo_counts_alike_rejections_on_one_line_naming_their_cause() {
    let dir = folder("aventri-demo");
    let output = eventsync(
        &dir,
        &[
            "demo",
            "--vendor",
            "aventri",
            "--dir",
            &dir.join("demo").display().to_string(),
        ],
        "",
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let rejected: Vec<&str> = text
        .lines()
        .filter(|line| line.trim_start().starts_with("rejected "))
        .collect();
    assert!(!rejected.is_empty(), "{text}");
    // Three runs, two rejected sessions and their registrations: a few lines, not dozens.
    assert!(rejected.len() <= 12, "{}", rejected.join("\n"));
    assert!(
        rejected
            .iter()
            .any(|line| line.contains("records, such as")
                && line.contains("which was rejected itself")),
        "{}",
        rejected.join("\n")
    );
    assert!(
        !text.contains("sync the data type it refers to first"),
        "{text}"
    );
    assert!(text.contains("preview.sessions.csv"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

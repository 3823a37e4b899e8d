//! `eventsync export --format csv` holds every field the JSON export holds: the data type's
//! fields, then each `custom.*` field any record has, in one order, a record without one leaving
//! its cell empty.

use std::path::{Path, PathBuf};
use std::process::Command;

use engine::import::{ImportOptions, import};
use pipeline::DataType;
use serde_json::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_eventsync");

fn folder() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("eventsync-export-csv-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("folder");
    dir
}

/// People with custom fields, stored by a test import (which needs no vendor).
async fn workspace_with_custom_fields(dir: &Path) -> PathBuf {
    let database = dir.join("workspace.sqlite");
    let store = store::Store::open(&database.display().to_string())
        .await
        .expect("store");
    let config = engine::Config::parse(
        "[[connections]]\nname = \"cvent\"\nkind = \"cvent-rest\"\n\
         base_url = \"http://127.0.0.1:9/ea\"\nevent_code = \"EV1\"\nclient_id = \"id\"\n\
         client_secret = \"unused\"\n[connections.data.people]\nstatuses = []\n\
         labels = [{ question = \"DIET\", name = \"dietary\" }, { question = \"TSHIRT\", name = \"tshirt\" }, \
         { question = \"ARRIVAL\", name = \"arrival\" }]\n",
        Path::new("eventsync.toml"),
        &|_| None,
    )
    .expect("config");
    let connection = config.connection("cvent").expect("connection");
    let csv = dir.join("people.csv");
    std::fs::write(
        &csv,
        "Attendee ID,Registration Status,First Name,Last Name,Email Address,DIET,TSHIRT,ARRIVAL\n\
         p-1,Accepted,Ada,Lovelace,ada@example.com,Vegan,,\n\
         p-2,Accepted,Grace,Hopper,grace@example.org,,L,\n\
         p-3,Accepted,Alan,Turing,alan@example.net,,,\"2027-03-01, late\"\n",
    )
    .expect("csv");
    let options = ImportOptions {
        data_type: DataType::People,
        csv,
        report: None,
        apply: true,
    };
    let imported = import(&store, connection, &options).await.expect("import");
    assert_eq!(imported.run.types["people"].counts.get("create"), Some(&3));
    store.close().await;
    database
}

fn export(database: &Path, format: &str) -> Vec<u8> {
    let output = Command::new(BINARY)
        .current_dir(database.parent().expect("folder"))
        .env_remove("EVENTSYNC_CONFIG")
        .env_remove("EVENTSYNC_DATABASE")
        .args([
            "--database",
            &database.display().to_string(),
            "export",
            "people",
            "--format",
            format,
        ])
        .output()
        .expect("eventsync");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

#[tokio::test]
async fn the_csv_export_holds_every_field_of_the_json_export() {
    let dir = folder();
    let database = workspace_with_custom_fields(&dir).await;
    let json: Value = serde_json::from_slice(&export(&database, "json")).expect("json");
    let csv_bytes = export(&database, "csv");
    let mut reader = csv::Reader::from_reader(csv_bytes.as_slice());
    let headings: Vec<String> = reader
        .headers()
        .expect("headings")
        .iter()
        .map(String::from)
        .collect();
    // The data type's fields in schema order, then the custom fields of every record, sorted.
    let schema: Vec<&str> = DataType::People.fields().iter().map(|f| f.name).collect();
    assert_eq!(&headings[..schema.len()], schema.as_slice());
    assert_eq!(
        &headings[schema.len()..],
        ["custom.arrival", "custom.dietary", "custom.tshirt"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let people = json.as_array().expect("people");
    assert_eq!(rows.len(), people.len());
    for (row, person) in rows.iter().zip(people) {
        let person = person.as_object().expect("person");
        // Every field the JSON export has is in the CSV, with the same value.
        for (field, value) in person {
            let column = headings
                .iter()
                .position(|h| h == field)
                .unwrap_or_else(|| panic!("the CSV lacks {field}"));
            let expected = match value {
                Value::String(text) => text.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            assert_eq!(
                &row[column], expected,
                "{field} of {}",
                person["external_id"]
            );
        }
        // A custom field the record does not have is an empty cell.
        for (column, heading) in headings.iter().enumerate() {
            if !person.contains_key(heading) {
                assert_eq!(&row[column], "", "{heading} of {}", person["external_id"]);
            }
        }
    }
    let grace = rows.iter().find(|row| &row[0] == "p-2").expect("p-2");
    let tshirt = headings
        .iter()
        .position(|h| h == "custom.tshirt")
        .expect("column");
    assert_eq!(&grace[tshirt], "L");
    let alan = rows.iter().find(|row| &row[0] == "p-3").expect("p-3");
    let arrival = headings
        .iter()
        .position(|h| h == "custom.arrival")
        .expect("column");
    assert_eq!(&alan[arrival], "2027-03-01, late");
    let _ = std::fs::remove_dir_all(&dir);
}

//! The report's tables read back: CSV files with the csv reader, workbooks with calamine and,
//! for what calamine does not show (the autofilter), from the sheet's XML.

use std::io::Read;

use calamine::{Data, Reader, Xlsx, open_workbook};

use super::*;

fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("eventsync-report-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("folder");
    dir
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// A preview's rows: two people, one session and a rejected session registration.
fn rows() -> Vec<Row> {
    let row = |data_type: &str,
               action: &str,
               id: &str,
               fields: &[(&str, &str)],
               vendor: &[(&str, &str)]| Row {
        data_type: data_type.into(),
        action: action.into(),
        external_id: id.into(),
        changes: String::new(),
        reason: String::new(),
        cells: Cells {
            vendor: pairs(vendor),
            fields: pairs(fields),
        },
    };
    vec![
        row(
            "people",
            "create",
            "p-1",
            &[("last_name", "Lovelace"), ("first_name", "Ada")],
            &[
                ("id", "p-1"),
                ("contact.firstName", "Ada"),
                ("contact.lastName", "Lovelace"),
                ("registeredAt", "2026-03-01T09:05:00Z"),
            ],
        ),
        row(
            "people",
            "create",
            "p-2",
            &[("first_name", "=HYPERLINK(\"x\")"), ("custom.years", "12")],
            &[
                ("id", "p-2"),
                ("contact.firstName", "=HYPERLINK(\"x\")"),
                ("answers.0.value.0", "12"),
                ("contact.workAddress.postalCode", "02134"),
            ],
        ),
        row(
            "sessions",
            "create",
            "s-1",
            &[("title", "Keynote"), ("capacity", "250")],
            &[
                ("id", "s-1"),
                ("title", "Keynote"),
                ("capacity", "250"),
                ("start", "2026-03-02"),
            ],
        ),
        Row {
            reason: "field 'session_external_id' refers to session 's-9', which was rejected"
                .into(),
            ..row(
                "session_registrations",
                "reject",
                "r-1",
                &[("session_external_id", "s-9")],
                &[("id", "r-1"), ("session.id", "s-9")],
            )
        },
    ]
}

fn write(target: &Path) -> u64 {
    let mut writer = ReportWriter::create(target).expect("create");
    for row in rows() {
        writer.add(&row).expect("add");
    }
    writer.finish().expect("finish")
}

fn read_csv(path: &Path) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .expect("csv")
        .records()
        .map(|r| r.expect("record").iter().map(String::from).collect())
        .collect()
}

#[test]
fn a_csv_report_is_the_whole_table_and_a_file_per_data_type_beside_it() {
    let dir = folder("csv");
    let target = dir.join("preview.csv");
    assert_eq!(write(&target), 4);
    let files = split_by_type(&target).expect("split");
    assert_eq!(
        files,
        [
            dir.join("preview.people.csv"),
            dir.join("preview.sessions.csv"),
            dir.join("preview.session_registrations.csv"),
        ]
    );

    let people = read_csv(&dir.join("preview.people.csv"));
    assert_eq!(
        people[0],
        [
            "action",
            "external_id",
            "changed_fields",
            "reason",
            // Workspace values in the data type's field order, custom fields last.
            "workspace.first_name",
            "workspace.last_name",
            "workspace.custom.years",
            // Then the vendor paths, sorted.
            "answers.0.value.0",
            "contact.firstName",
            "contact.lastName",
            "contact.workAddress.postalCode",
            "id",
            "registeredAt",
        ]
    );
    assert_eq!(
        people[1],
        [
            "create",
            "p-1",
            "",
            "",
            "Ada",
            "Lovelace",
            "",
            "",
            "Ada",
            "Lovelace",
            "",
            "p-1",
            "2026-03-01T09:05:00Z"
        ]
    );
    assert_eq!(people.len(), 3);
    // Each table has only its own columns.
    let sessions = read_csv(&dir.join("preview.sessions.csv"));
    assert_eq!(
        sessions[0][4..],
        [
            "workspace.title",
            "workspace.capacity",
            "capacity",
            "id",
            "start",
            "title"
        ]
    );
    let registrations = read_csv(&dir.join("preview.session_registrations.csv"));
    assert_eq!(registrations.len(), 2);
    assert_eq!(registrations[1][0], "reject");

    // The whole table: a data_type column, then the union of the columns.
    let whole = read_csv(&target);
    assert_eq!(whole.len(), 5);
    assert_eq!(
        whole[0][..5],
        [
            "data_type",
            "action",
            "external_id",
            "changed_fields",
            "reason"
        ]
    );
    assert!(whole[0].contains(&"workspace.session_external_id".to_string()));
    assert!(whole[0].contains(&"session.id".to_string()));
    let types: Vec<&str> = whole[1..].iter().map(|row| row[0].as_str()).collect();
    assert_eq!(
        types,
        ["people", "people", "sessions", "session_registrations"]
    );
    // No spool is left behind; the index is beside the whole table.
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("folder")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "preview.csv",
            "preview.csv.index",
            "preview.people.csv",
            "preview.session_registrations.csv",
            "preview.sessions.csv"
        ]
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// The autofilter's range in a workbook's sheet, from its XML.
fn autofilter(path: &Path, sheet: usize) -> Option<String> {
    let file = std::fs::File::open(path).expect("workbook");
    let mut archive = zip::ZipArchive::new(file).expect("zip");
    let mut xml = String::new();
    archive
        .by_name(&format!("xl/worksheets/sheet{}.xml", sheet + 1))
        .expect("sheet")
        .read_to_string(&mut xml)
        .expect("xml");
    let start = xml.find("<autoFilter ref=\"")? + "<autoFilter ref=\"".len();
    let end = xml[start..].find('"')? + start;
    Some(xml[start..end].to_string())
}

/// Days from Excel's epoch to a date, the number a date cell holds.
fn serial(year: i32, month: u32, day: u32) -> f64 {
    let epoch = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).expect("epoch");
    let date = chrono::NaiveDate::from_ymd_opt(year, month, day).expect("date");
    (date - epoch).num_days() as f64
}

fn check_workbook(path: &Path) {
    let mut workbook: Xlsx<_> = open_workbook(path).expect("open");
    assert_eq!(
        workbook.sheet_names(),
        ["people", "sessions", "session_registrations"],
        "{}",
        path.display()
    );
    let people = workbook.worksheet_range("people").expect("people");
    let header: Vec<String> = people
        .rows()
        .next()
        .expect("header")
        .iter()
        .map(|c| c.to_string())
        .collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    assert_eq!(
        header[..5],
        [
            "action",
            "external_id",
            "changed_fields",
            "reason",
            "workspace.first_name"
        ]
    );
    assert!(!header.contains(&"data_type".to_string()));
    assert!(
        !header.contains(&"capacity".to_string()),
        "a session's column"
    );
    let ada = people.rows().nth(1).expect("ada");
    let grace = people.rows().nth(2).expect("second");
    assert_eq!(ada[column("external_id")], Data::String("p-1".into()));
    // A time is a date cell holding the day and the fraction of it.
    match &ada[column("registeredAt")] {
        Data::DateTime(time) => {
            let expected = serial(2026, 3, 1) + (9.0 * 60.0 + 5.0) / (24.0 * 60.0);
            assert!((time.as_f64() - expected).abs() < 1e-6, "{time:?}");
        }
        other => panic!("registeredAt: {other:?}"),
    }
    // Numbers are numbers, in the vendor's columns and the workspace's; a postal code with a
    // leading zero and a formula stay text.
    assert_eq!(grace[column("answers.0.value.0")], Data::Float(12.0));
    assert_eq!(grace[column("workspace.custom.years")], Data::Float(12.0));
    assert_eq!(
        grace[column("contact.workAddress.postalCode")],
        Data::String("02134".into())
    );
    assert_eq!(
        grace[column("contact.firstName")],
        Data::String("=HYPERLINK(\"x\")".into())
    );
    let sessions = workbook.worksheet_range("sessions").expect("sessions");
    let header: Vec<String> = sessions
        .rows()
        .next()
        .expect("header")
        .iter()
        .map(|c| c.to_string())
        .collect();
    let keynote = sessions.rows().nth(1).expect("keynote");
    let at = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    assert_eq!(keynote[at("capacity")], Data::Float(250.0));
    assert_eq!(keynote[at("workspace.capacity")], Data::Float(250.0));
    match &keynote[at("start")] {
        Data::DateTime(date) => assert_eq!(date.as_f64(), serial(2026, 3, 2)),
        other => panic!("start: {other:?}"),
    }
    assert_eq!(
        header.len(),
        10,
        "the session sheet has only its own columns: {header:?}"
    );
    // Every sheet filters its header and rows.
    assert_eq!(autofilter(path, 0).as_deref(), Some("A1:M3"));
    assert_eq!(autofilter(path, 1).as_deref(), Some("A1:J2"));
    assert_eq!(autofilter(path, 2).as_deref(), Some("A1:G2"));
}

#[test]
fn an_xlsx_report_is_a_sheet_per_data_type_with_typed_cells_and_filters() {
    let dir = folder("xlsx");
    assert_eq!(write(&dir.join("preview.XLSX")), 4);
    check_workbook(&dir.join("preview.XLSX"));
    // The server's conversion of the whole CSV table makes the same workbook.
    assert_eq!(write(&dir.join("preview.csv")), 4);
    assert_eq!(
        csv_to_xlsx(&dir.join("preview.csv"), &dir.join("converted.xlsx")).expect("convert"),
        4
    );
    check_workbook(&dir.join("converted.xlsx"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_report_without_rows_is_its_header() {
    let dir = folder("empty");
    let writer = ReportWriter::create(&dir.join("preview.xlsx")).expect("create");
    assert_eq!(writer.finish().expect("finish"), 0);
    let workbook: Xlsx<_> = open_workbook(dir.join("preview.xlsx")).expect("open");
    assert_eq!(workbook.sheet_names(), ["report"]);
    let writer = ReportWriter::create(&dir.join("preview.csv")).expect("create");
    assert_eq!(writer.finish().expect("finish"), 0);
    assert_eq!(
        read_csv(&dir.join("preview.csv")),
        [[
            "data_type",
            "action",
            "external_id",
            "changed_fields",
            "reason"
        ]]
    );
    std::fs::remove_dir_all(&dir).ok();
}

//! A report's index written beside it, read back: pages, filters and searches from the index
//! agree with reading the whole report.

use super::super::{Cells, ReportWriter, Row};
use super::*;

fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("eventsync-index-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("folder");
    dir
}

fn row(data_type: &str, action: &str, id: &str, reason: &str, fields: &[(&str, &str)]) -> Row {
    let pairs = |items: &[(&str, &str)]| {
        items
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    Row {
        data_type: data_type.into(),
        action: action.into(),
        external_id: id.into(),
        changes: String::new(),
        reason: reason.into(),
        cells: Cells {
            vendor: pairs(&[("id", id), ("registrationType", "Vendor-Only")]),
            fields: pairs(fields),
        },
    }
}

/// 107 people with a quoted line break and doubled quotes in their reason, then sessions
/// whose titles lower-case beyond ASCII.
fn rows() -> Vec<Row> {
    let mut rows: Vec<Row> = (0..107)
        .map(|n| {
            row(
                "people",
                if n % 2 == 0 { "create" } else { "update" },
                &format!("p{n}"),
                "line one\nline \"two\"",
                &[("email", &format!("Person{n}@Example.org"))],
            )
        })
        .collect();
    rows.push(row("sessions", "create", "s1", "ÉCOLE", &[]));
    rows.push(row("sessions", "update", "s2", "Zoë SCHMIDT", &[]));
    rows.push(row("sessions", "update", "s3", "\u{212A}ELVIN", &[]));
    rows.push(row("sessions", "rejected", "s4", "a\u{1f}b", &[]));
    rows
}

fn write(target: &Path) {
    let mut writer = ReportWriter::create(target).expect("create");
    for row in rows() {
        writer.add(&row).expect("add");
    }
    writer.finish().expect("finish");
}

fn whole(report: &Path) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .from_path(report)
        .expect("csv")
        .records()
        .map(|r| r.expect("record").iter().map(String::from).collect())
        .collect()
}

fn query(text: &str) -> Query<'_> {
    Query {
        text,
        limit: usize::MAX,
        ..Query::default()
    }
}

#[test]
fn a_page_read_at_its_rows_places_is_the_page_of_the_whole_report() {
    let dir = folder("pages");
    let report = dir.join("preview.csv");
    write(&report);
    let all = whole(&report);
    let index = ReportIndex::open(&report).expect("read").expect("an index");
    assert_eq!(index.rows(), all.len());
    assert_eq!(index.headings[..3], ["data_type", "action", "external_id"]);
    assert_eq!(index.actions, ["create", "update", "rejected"]);
    assert_eq!(index.data_types, ["people", "sessions"]);

    let page = |query: Query| {
        let found = index.find(&query).expect("find");
        (
            index.read_rows(&report, &found.rows).expect("rows"),
            found.matched,
        )
    };
    let (rows, matched) = page(Query {
        offset: 100,
        limit: 50,
        ..Query::default()
    });
    assert_eq!(matched, 111);
    assert_eq!(rows, all[100..]);
    assert_eq!(rows[0][4], "line one\nline \"two\"");

    let (rows, matched) = page(Query {
        action: Some("update"),
        offset: 50,
        limit: 5,
        ..Query::default()
    });
    let updates: Vec<&Vec<String>> = all.iter().filter(|row| row[1] == "update").collect();
    assert_eq!(matched, updates.len());
    assert_eq!(rows.iter().collect::<Vec<_>>(), updates[50..55]);

    let (rows, matched) = page(Query {
        action: Some("update"),
        data_type: Some("sessions"),
        limit: 50,
        ..Query::default()
    });
    assert_eq!((matched, rows.len()), (2, 2));
    assert_eq!(rows[1][2], "s3");
    for (action, data_type) in [(Some("remove"), None), (None, Some("speakers"))] {
        let found = index
            .find(&Query {
                action,
                data_type,
                limit: 50,
                ..Query::default()
            })
            .expect("find");
        assert_eq!((found.matched, found.rows.len()), (0, 0));
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// What a user types finds what the table shows, in any case, within one value: a search is the
/// same as asking each value of the fixed columns and the workspace fields, lower-cased, whether
/// it holds the text.
#[test]
fn a_search_finds_text_in_any_value_in_any_case() {
    let dir = folder("search");
    let report = dir.join("preview.csv");
    write(&report);
    let all = whole(&report);
    let index = ReportIndex::open(&report).expect("read").expect("an index");
    let search = |text: &str| index.find(&query(text)).expect("find");
    let searched: Vec<usize> = (0..index.headings.len())
        .filter(|&at| at < 5 || index.headings[at].starts_with("workspace."))
        .collect();
    let by_reading = |text: &str| {
        let needle = text.to_lowercase();
        all.iter()
            .enumerate()
            .filter(|(_, row)| {
                searched
                    .iter()
                    .any(|&at| row[at].to_lowercase().contains(&needle))
            })
            .map(|(at, _)| at)
            .collect::<Vec<_>>()
    };
    for text in [
        "person7@example.org",
        "PERSON1",
        "LINE \"TWO\"",
        "line one\nline",
        "école",
        "schmidt",
        "Zoë",
        "kelvin",
        "p10",
        "update",
        "sessions",
    ] {
        let found = search(text);
        assert_eq!(found.rows, by_reading(text), "{text}");
        assert_eq!(found.matched, found.rows.len(), "{text}");
    }
    assert_eq!(search("person7@").matched, 1);
    assert_eq!(
        search("PERSON1").matched,
        18,
        "person1 and person10 to person107"
    );
    assert_eq!(
        search("create,p1").matched,
        0,
        "a match never spans two values"
    );
    assert_eq!(
        search("createp1").matched,
        0,
        "a match never spans two values"
    );
    assert_eq!(search("a b").rows, [110], "U+001F in a value is a space");
    assert_eq!(
        search("vendor-only").matched,
        0,
        "vendor paths are not searched"
    );

    let found = index
        .find(&Query {
            action: Some("create"),
            text: "PERSON1",
            offset: 2,
            limit: 3,
            ..Query::default()
        })
        .expect("find");
    // person10, 12, 14, … 106: the creates among the 18.
    assert_eq!(found.matched, 9);
    assert_eq!(found.rows, [14, 16, 18]);
    std::fs::remove_dir_all(&dir).ok();
}

/// A report written before reports had an index gets the same index by reading it once; an
/// index that is not whole, or was written for another report, is not used.
#[test]
fn an_index_is_built_for_a_report_without_one_and_a_wrong_one_is_not_used() {
    let dir = folder("build");
    let report = dir.join("preview.csv");
    write(&report);
    let written = std::fs::read(index_file(&report)).expect("the index");
    std::fs::remove_file(index_file(&report)).expect("remove");
    assert!(ReportIndex::open(&report).expect("read").is_none());
    build(&report).expect("build");
    assert_eq!(std::fs::read(index_file(&report)).expect("built"), written);

    std::fs::write(index_file(&report), &written[..written.len() - 3]).expect("cut");
    assert!(ReportIndex::open(&report).expect("read").is_none());
    std::fs::write(index_file(&report), &written).expect("whole");
    assert!(ReportIndex::open(&report).expect("read").is_some());
    let mut longer = std::fs::read(&report).expect("report");
    longer.extend_from_slice(b"people,create,p-late,,\n");
    std::fs::write(&report, longer).expect("another report");
    assert!(ReportIndex::open(&report).expect("read").is_none());

    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .expect("folder")
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_report_without_rows_has_an_empty_index() {
    let dir = folder("empty");
    let report = dir.join("preview.csv");
    ReportWriter::create(&report)
        .expect("create")
        .finish()
        .expect("finish");
    let index = ReportIndex::open(&report).expect("read").expect("an index");
    assert_eq!(index.rows(), 0);
    assert_eq!(index.find(&query("x")).expect("find").matched, 0);
    assert_eq!(index.find(&query("")).expect("find").matched, 0);
    std::fs::remove_dir_all(&dir).ok();
}

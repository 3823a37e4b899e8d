//! Round trips through real XLSX files: export, import, the changes shown, the file rewritten.

use std::io::Read;
use std::path::{Path, PathBuf};

use pipeline::{DataType, Filter, Rule, StatusSelection};

use super::*;

const SECRET: &str = "s3cret-value-never-exported";

fn env(name: &str) -> Option<String> {
    (name == "CVENT_SECRET").then(|| SECRET.to_string())
}

const CONFIG: &str = r#"# The team's eventsync file.
database = "workspace.sqlite"

[[connections]]
name = "cvent"
kind = "cvent-rest"
region = "eu"
event_code = "CONF27"
client_id = "id-123"
client_secret = "${CVENT_SECRET}"
data_types = ["people", "sessions"]

# VIPs only, and their diet from question Q7.
[connections.data.people]
statuses = ["Accepted", "Visited"]
filters = [{ field = "registration_type", one_of = ["VIP", "Speaker, keynote"] }]
labels = [{ question = "Q7", name = "diet" }]
mapping = [
    { source = "id", target = "external_id" },
    { source = "status", target = "status", values = { map = { Cancelled = "cancelled", Declined = "cancelled" }, default = "active" } },
    { source = "contact.firstName", target = "first_name" },
    { source = "contact.lastName", target = "last_name" },
    { source = "contact.email", target = "email", import_empty = true },
    { source = "contact.company", target = "company" },
    { source = "registrationType.name", target = "registration_type" },
    { source = "contact.id", target = "contact_id" },
]

[connections.data.sessions]
remove_outdated = true

[[connections]]
name = "other"
kind = "cvent-soap"
host = "eu"
account_number = "ACME01"
user_name = "api.user"
password_file = "soap-password.txt"
event_code = "CONF27"
"#;

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let path =
            std::env::temp_dir().join(format!("eventsync-workbook-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("dir");
        std::fs::write(path.join("soap-password.txt"), "pa55word-from-file").expect("password");
        Dir(path)
    }

    fn config(&self, text: &str) -> Config {
        let path = self.0.join("eventsync.toml");
        std::fs::write(&path, text).expect("config");
        Config::parse(text, &path, &env).expect("valid config")
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn book(config: &Config, name: &str) -> ConnectionBook {
    let text = std::fs::read_to_string(&config.path).expect("text");
    ConnectionBook::from_config(config.connection(name).expect("connection"), &text).expect("book")
}

fn type_book(book: &mut ConnectionBook, data_type: DataType) -> &mut TypeBook {
    book.types
        .iter_mut()
        .find(|t| t.data_type == data_type)
        .expect("data type")
}

/// Every file inside the XLSX, decompressed.
fn unzipped(path: &Path) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).expect("open")).expect("zip");
    let mut all = Vec::new();
    for index in 0..archive.len() {
        archive
            .by_index(index)
            .expect("entry")
            .read_to_end(&mut all)
            .expect("read");
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[test]
fn an_unmodified_export_imports_as_no_change_for_every_kind() {
    let dir = Dir::new("round-trip");
    let aventri = "[[connections]]\nname = \"a\"\nkind = \"aventri\"\nregion = \"emea\"\naccount_id = \"1\"\nkey = \"${CVENT_SECRET}\"\nevent_id = \"2\"\nmodified_since_overlap_hours = 6\n";
    for (text, name) in [(CONFIG, "cvent"), (CONFIG, "other"), (aventri, "a")] {
        let config = dir.config(text);
        let workbook = dir.0.join(format!("{name}.xlsx"));
        export(&config, name, &workbook).expect("export");
        let plan = plan_import(&config, name, &workbook, &env).expect("import");
        assert_eq!(plan.changes, vec![], "{name}: nothing changed");
        assert_eq!(plan.text, text, "{name}: the file is left as it was");
        apply(&plan, &config.path).expect("apply");
        assert_eq!(std::fs::read_to_string(&config.path).expect("read"), text);
        // What the workbook holds is what eventsync.toml means.
        let reread = read::read(&workbook, &book(&config, name)).expect("read back");
        assert_eq!(reread, book(&config, name), "{name}: lossless");
    }
}

#[test]
fn secrets_and_their_references_never_reach_the_workbook() {
    let dir = Dir::new("secrets");
    let config = dir.config(CONFIG);
    for name in ["cvent", "other"] {
        let workbook = dir.0.join(format!("{name}.xlsx"));
        export(&config, name, &workbook).expect("export");
        let bytes = std::fs::read(&workbook).expect("bytes");
        let inside = unzipped(&workbook);
        assert!(
            contains(&inside, "CONF27"),
            "the unzipped text is searchable"
        );
        for needle in [
            SECRET,
            "CVENT_SECRET",
            "pa55word-from-file",
            "soap-password.txt",
        ] {
            assert!(!contains(&bytes, needle), "{needle} in the file's bytes");
            assert!(!contains(&inside, needle), "{needle} inside the workbook");
        }
    }
    // A secret typed into the workbook is refused, not imported.
    let mut edited = book(&config, "cvent");
    edited.settings.push((
        "client_secret".to_string(),
        toml::Value::String("typed".into()),
    ));
    let workbook = dir.0.join("typed.xlsx");
    write::write(&edited, &workbook).expect("write");
    let error = plan_import(&config, "cvent", &workbook, &env).expect_err("secret refused");
    let message = error.to_string();
    assert!(
        message.contains("sheet 'connection', row") && message.contains("secrets are never read"),
        "{message}"
    );
}

#[test]
fn edits_are_shown_then_written_keeping_comments_and_secrets() {
    let dir = Dir::new("edits");
    let config = dir.config(CONFIG);
    let mut edited = book(&config, "cvent");
    edited.settings.retain(|(key, _)| key != "region");
    edited.settings.push((
        "base_url".to_string(),
        toml::Value::String("https://cvent.example/ea".into()),
    ));
    let people = type_book(&mut edited, DataType::People);
    people.mapping.rules[5].source = "contact.companyName".to_string();
    people
        .mapping
        .rules
        .push(Rule::new("contact.title", "custom.job_title").importing_empty());
    people.filters.push(Filter {
        field: "company".to_string(),
        is_empty: true,
        not: true,
        ..Filter::default()
    });
    people.statuses = Some(StatusSelection::All);
    people.labels.clear();
    type_book(&mut edited, DataType::Speakers).synced = true;
    let workbook = dir.0.join("edited.xlsx");
    write::write(&edited, &workbook).expect("write");

    let plan = plan_import(&config, "cvent", &workbook, &env).expect("plan");
    let shown: Vec<String> = plan.changes.iter().map(ToString::to_string).collect();
    let expected = [
        "connection: removed region: \"eu\"",
        "connection: added base_url: \"https://cvent.example/ea\"",
        "speakers: synced: no → yes",
        "people: statuses: Accepted, Visited → every status",
        "people: mapping of company: from 'contact.company' → from 'contact.companyName'",
        "people: added mapping of custom.job_title: from 'contact.title', importing empty values",
        "people: added filter: company not empty",
        "people: removed label diet: question 'Q7'",
    ];
    assert_eq!(shown, expected);
    assert_eq!(
        std::fs::read_to_string(&config.path).expect("read"),
        CONFIG,
        "a plan writes nothing"
    );

    apply(&plan, &config.path).expect("apply");
    let text = std::fs::read_to_string(&config.path).expect("read");
    for kept in [
        "# The team's eventsync file.",
        "# VIPs only, and their diet from question Q7.",
        "client_secret = \"${CVENT_SECRET}\"",
        "password_file = \"soap-password.txt\"",
        "database = \"workspace.sqlite\"",
    ] {
        assert!(text.contains(kept), "{kept} kept in:\n{text}");
    }
    let rewritten = Config::parse(&text, &config.path, &env).expect("valid");
    let people = &rewritten.connection("cvent").expect("cvent").data[&DataType::People];
    let mapping = people.mapping.as_ref().expect("mapping");
    assert_eq!(mapping.rules[5].source, "contact.companyName");
    assert_eq!(people.statuses, StatusSelection::All);
    assert!(people.labels.is_empty());
    assert_eq!(people.filters.len(), 2);
    assert_eq!(
        rewritten.connection("cvent").expect("cvent").data_types,
        [DataType::Sessions, DataType::Speakers, DataType::People]
    );
    // The new file and the workbook now agree.
    let again = plan_import(&rewritten, "cvent", &workbook, &env).expect("plan again");
    assert_eq!(again.changes, vec![]);
}

/// The guest switches are settings of the session_registrations sheet and the travel
/// switches settings of the connection sheet: both round-trip, and an edit is written back.
#[test]
fn guest_and_travel_switches_round_trip() {
    let dir = Dir::new("switches");
    let text = CONFIG.replace(
        "data_types = [\"people\", \"sessions\"]",
        "data_types = [\"people\", \"sessions\", \"air_requests\"]\nflights = true",
    )
    .replace(
        "[[connections]]\nname = \"other\"",
        "[connections.data.session_registrations]\nguest_enrollment_tags = true\n\n[[connections]]\nname = \"other\"",
    );
    let config = dir.config(&text);
    let mut edited = book(&config, "cvent");
    assert!(
        edited
            .settings
            .contains(&("flights".to_string(), toml::Value::Boolean(true)))
    );
    assert_eq!(type_book(&mut edited, DataType::People).guests, None);
    let registrations = type_book(&mut edited, DataType::SessionRegistrations);
    assert_eq!(
        registrations.guests,
        Some(pipeline::rules::guests::GuestOptions {
            extra_invitee_registrations: false,
            guest_enrollment_tags: true,
        })
    );
    let unmodified = dir.0.join("unmodified.xlsx");
    write::write(&edited, &unmodified).expect("write");
    let plan = plan_import(&config, "cvent", &unmodified, &env).expect("plan");
    assert_eq!(plan.changes, vec![]);

    if let Some(guests) = type_book(&mut edited, DataType::SessionRegistrations)
        .guests
        .as_mut()
    {
        guests.extra_invitee_registrations = true;
    }
    edited
        .settings
        .push(("hotel_requests".to_string(), toml::Value::Boolean(true)));
    type_book(&mut edited, DataType::HotelRequests).synced = true;
    let workbook = dir.0.join("edited.xlsx");
    write::write(&edited, &workbook).expect("write");
    let plan = plan_import(&config, "cvent", &workbook, &env).expect("plan");
    let shown: Vec<String> = plan.changes.iter().map(ToString::to_string).collect();
    assert!(
        shown.contains(&"session_registrations: extra_invitee_registrations: no → yes".to_string()),
        "{shown:?}"
    );
    apply(&plan, &config.path).expect("apply");
    let rewritten = Config::parse(
        &std::fs::read_to_string(&config.path).expect("read"),
        &config.path,
        &env,
    )
    .expect("valid");
    let cvent = rewritten.connection("cvent").expect("cvent");
    let guests = cvent.data[&DataType::SessionRegistrations].guests;
    assert!(guests.extra_invitee_registrations && guests.guest_enrollment_tags);
    assert!(cvent.travel.flights && cvent.travel.hotel_requests);
    assert!(cvent.data_types.contains(&DataType::HotelRequests));
}

/// A change made to an exported workbook.
type Edit = dyn Fn(&mut ConnectionBook);

#[test]
fn bad_workbooks_name_the_sheet_row_and_column_to_fix() {
    let dir = Dir::new("errors");
    let config = dir.config(CONFIG);
    let cases: Vec<(Box<Edit>, &str)> = vec![
        (
            Box::new(|book| {
                type_book(book, DataType::People).mapping.rules[2].target = "nope".into()
            }),
            "sheet 'people', row 12, column B (target): unknown workspace field 'nope'",
        ),
        (
            Box::new(|book| type_book(book, DataType::People).mapping.rules[3].source = " ".into()),
            "sheet 'people', row 13, column A (source): the rule for 'last_name' has no source",
        ),
        (
            Box::new(|book| {
                type_book(book, DataType::People).statuses =
                    Some(StatusSelection::Only(vec!["accepted".into()]))
            }),
            "sheet 'people', row 4, column B (value): ",
        ),
        (
            Box::new(|book| {
                type_book(book, DataType::People)
                    .mapping
                    .rules
                    .retain(|r| r.target != "external_id")
            }),
            "sheet 'people', row 9, column A: protected mapping 'external_id'",
        ),
        (
            Box::new(|book| type_book(book, DataType::People).filters[0].field = "colour".into()),
            "sheet 'people', row 21, column A (field): filter on 'colour'",
        ),
        (
            Box::new(|book| {
                type_book(book, DataType::People).subscribers = vec!["not an address".into()]
            }),
            "sheet 'people', row 6, column B (value):",
        ),
        (
            Box::new(|book| book.name = "another".into()),
            "sheet 'connection', row 2, column B (value): this workbook is for name 'another'",
        ),
    ];
    for (edit, expected) in cases {
        let mut edited = book(&config, "cvent");
        edit(&mut edited);
        let workbook = dir.0.join("bad.xlsx");
        write::write(&edited, &workbook).expect("write");
        let error = plan_import(&config, "cvent", &workbook, &env).expect_err(expected);
        assert!(
            error.to_string().contains(expected),
            "{error}\nshould say: {expected}"
        );
    }

    // A hand-made workbook: a yes/no cell that is neither, and a sheet eventsync does not read.
    let workbook = dir.0.join("hand.xlsx");
    let mut hand = rust_xlsxwriter::Workbook::new();
    let sheet = hand.add_worksheet();
    sheet.set_name("connection").expect("name");
    for (row, (key, value)) in [
        ("setting", "value"),
        ("name", "cvent"),
        ("kind", "cvent-rest"),
    ]
    .into_iter()
    .enumerate()
    {
        sheet.write_string(row as u32, 0, key).expect("cell");
        sheet.write_string(row as u32, 1, value).expect("cell");
    }
    hand.add_worksheet().set_name("attendees").expect("name");
    hand.save(&workbook).expect("save");
    let error = plan_import(&config, "cvent", &workbook, &env).expect_err("unknown sheet");
    assert!(
        error
            .to_string()
            .contains("sheet 'attendees': not a sheet eventsync reads"),
        "{error}"
    );
    write::write(&book(&config, "cvent"), &workbook).expect("write");
    // Rewrite the people sheet's `synced` value as text a person might type.
    let text = read_back_and_replace(&workbook, "people", "synced", "maybe");
    let error = plan_import(&config, "cvent", &text, &env).expect_err("maybe");
    assert!(
        error
            .to_string()
            .contains("sheet 'people', row 3, column B (value): 'maybe' is not yes or no"),
        "{error}"
    );
}

/// Copies a workbook, cell by cell, with the value next to `setting` on `sheet` replaced.
fn read_back_and_replace(path: &Path, sheet: &str, setting: &str, value: &str) -> PathBuf {
    use calamine::{Data, Reader, Xlsx, open_workbook};
    let mut source: Xlsx<_> = open_workbook(path).expect("open");
    let mut copy = rust_xlsxwriter::Workbook::new();
    for name in source.sheet_names() {
        let range = source.worksheet_range(&name).expect("range");
        let target = copy.add_worksheet();
        target.set_name(&name).expect("name");
        let mut replace_next = false;
        for (row, cells) in range.rows().enumerate() {
            for (column, cell) in cells.iter().enumerate() {
                let (row, column) = (row as u32, column as u16);
                if replace_next && column == 1 {
                    target.write_string(row, column, value).expect("cell");
                    replace_next = false;
                    continue;
                }
                match cell {
                    Data::String(text) => {
                        replace_next = name == sheet && column == 0 && text == setting;
                        target.write_string(row, column, text).expect("cell")
                    }
                    Data::Bool(flag) => target.write_boolean(row, column, *flag).expect("cell"),
                    Data::Float(number) => target.write_number(row, column, *number).expect("cell"),
                    _ => target,
                };
            }
        }
    }
    let copied = path.with_extension("edited.xlsx");
    copy.save(&copied).expect("save");
    copied
}

//! Test import: a CSV export of the vendor's registration report, run through the same mapping,
//! rules, validation and diff as a sync of the connection, before registration opens.
//!
//! Each column heading is matched, ignoring case and surrounding spaces, in this order:
//!
//! 1. a vendor field path the connection's mapping reads (`contact.email`, `answers.0.value.0`):
//!    the cell is the record's value at that path;
//! 2. a data label of the data type — its question id or code (`reg_FirstName`), its name
//!    (`dietary`) or its field (`custom.dietary`): the cell fills `custom.<name>`;
//! 3. a workspace field the mapping fills (`email`, `external_id`): the cell is the value at the
//!    path of the first mapping rule filling it.
//!
//! Other columns are listed as ignored. Each row becomes one vendor record built from its cells
//! (dotted paths become nested objects, numeric parts list positions), so the status rule,
//! filters and validation see it exactly as they see a listed record. A row with more or fewer
//! cells than the heading row, or that is not UTF-8, is rejected with its line number and the
//! rest go on. A preview writes nothing but its run record; applying stores the records and
//! leaves the stream's sync state (cursor, checkpoint, vendor totals) as it was, since a file is
//! not the vendor. No vendor call is made.

use std::path::{Path, PathBuf};

use connectors::VendorRecord;
use pipeline::rules::labels::Label;
use pipeline::{DataType, Mapping, Rule};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::config::Connection;
use crate::connect::connect;
use crate::run::{self, EngineError, FileRecords, RunKind, RunReport};

/// Where a file's cells go when they fill a data label: `labels.<name>` in the built record,
/// which a rule added to the mapping carries to `custom.<name>`.
const LABEL_PATH_PREFIX: &str = "labels.";

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Unusable { path: PathBuf, reason: String },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// What to import, and whether to store it.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub data_type: DataType,
    pub csv: PathBuf,
    pub report: Option<PathBuf>,
    /// `false`: a preview that writes nothing but its run record.
    pub apply: bool,
}

/// How one column heading was understood.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnMatch {
    pub heading: String,
    /// The vendor path the cells are placed at, or `None` when the column is ignored.
    pub path: Option<String>,
    /// In words: what the heading matched, or why it matched nothing.
    pub matched: String,
}

/// An import's outcome: the run (a preview or the import itself) and how the columns were read.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub columns: Vec<ColumnMatch>,
    /// Rows read, malformed ones included.
    pub rows: u64,
    pub run: RunReport,
}

/// The rows of a CSV file, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvTable {
    pub headings: Vec<String>,
    /// Each well-formed row with its line number.
    pub rows: Vec<(u64, Vec<String>)>,
    /// Each malformed row's reason, naming its line.
    pub malformed: Vec<String>,
}

/// Reads a CSV file whose first row holds the column headings.
pub fn read_csv(path: &Path) -> Result<CsvTable, ImportError> {
    let file = std::fs::File::open(path).map_err(|source| ImportError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_csv(file).map_err(|reason| ImportError::Unusable {
        path: path.to_path_buf(),
        reason,
    })
}

/// Parses CSV text; `Err` when there is no usable heading row.
pub fn parse_csv(input: impl std::io::Read) -> Result<CsvTable, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut records = reader.byte_records();
    let headings = match records.next() {
        None => {
            return Err("the file is empty: its first row must hold the column headings".into());
        }
        Some(Err(error)) => return Err(format!("the heading row cannot be read: {error}")),
        Some(Ok(row)) => csv::StringRecord::from_byte_record(row).map_err(|_| {
            "the heading row is not UTF-8 text: save the file as UTF-8 CSV".to_string()
        })?,
    };
    let mut headings: Vec<String> = headings.iter().map(|h| h.trim().to_string()).collect();
    if let Some(first) = headings.first_mut() {
        // A byte-order mark, as spreadsheet programs write.
        *first = first.trim_start_matches('\u{feff}').to_string();
    }
    if headings.iter().all(String::is_empty) {
        return Err("the first row holds no column headings".into());
    }
    let mut rows = Vec::new();
    let mut malformed = Vec::new();
    for row in records {
        match row {
            Err(error) => {
                let line = error.position().map_or(0, |p| p.line());
                malformed.push(format!("line {line}: cannot be read as CSV: {error}"));
            }
            Ok(row) => {
                let line = row.position().map_or(0, |p| p.line());
                if row.len() != headings.len() {
                    malformed.push(format!(
                        "line {line}: has {} cells, the heading row has {}: check for a missing or extra separator",
                        row.len(),
                        headings.len()
                    ));
                    continue;
                }
                match csv::StringRecord::from_byte_record(row) {
                    Ok(row) => rows.push((line, row.iter().map(str::to_string).collect())),
                    Err(_) => malformed.push(format!(
                        "line {line}: is not UTF-8 text: save the file as UTF-8 CSV"
                    )),
                }
            }
        }
    }
    Ok(CsvTable {
        headings,
        rows,
        malformed,
    })
}

/// Matches each heading to a vendor path, in the order the module documents.
pub fn match_columns(headings: &[String], mapping: &Mapping, labels: &[Label]) -> Vec<ColumnMatch> {
    let same = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
    let mut taken: Vec<String> = Vec::new();
    let mut columns = Vec::with_capacity(headings.len());
    for heading in headings {
        let found = if heading.is_empty() {
            Err("the column has no heading".to_string())
        } else if let Some(rule) = mapping.rules.iter().find(|r| same(&r.source, heading)) {
            Ok((
                rule.source.clone(),
                format!("vendor path {} → {}", rule.source, rule.target),
            ))
        } else if let Some(label) = labels.iter().find(|l| {
            same(&l.question, heading) || same(&l.name, heading) || same(&l.target(), heading)
        }) {
            Ok((
                format!("{LABEL_PATH_PREFIX}{}", label.name),
                format!(
                    "data label {} (question {}) → {}",
                    label.name,
                    label.question,
                    label.target()
                ),
            ))
        } else if let Some(rule) = mapping.rules.iter().find(|r| same(&r.target, heading)) {
            Ok((
                rule.source.clone(),
                format!(
                    "workspace field {} ← vendor path {}",
                    rule.target, rule.source
                ),
            ))
        } else {
            Err("matches no vendor path of the mapping, data label or mapped workspace field: ignored".to_string())
        };
        let column = match found {
            Ok((path, _)) if taken.contains(&path) => ColumnMatch {
                heading: heading.clone(),
                path: None,
                matched: format!("an earlier column already fills {path}: ignored"),
            },
            Ok((path, matched)) => {
                taken.push(path.clone());
                ColumnMatch {
                    heading: heading.clone(),
                    path: Some(path),
                    matched,
                }
            }
            Err(matched) => ColumnMatch {
                heading: heading.clone(),
                path: None,
                matched,
            },
        };
        columns.push(column);
    }
    columns
}

/// Places `value` at a dotted `path` in `root`: objects for names, lists for numeric parts.
/// `Err` when the path runs into a value another column already placed.
pub fn place(root: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let parts: Vec<&str> = path.split('.').collect();
    let mut node = root;
    for (index, part) in parts.iter().enumerate() {
        let last = index + 1 == parts.len();
        let next_is_position = parts
            .get(index + 1)
            .is_some_and(|p| p.parse::<usize>().is_ok());
        let empty = || {
            if next_is_position {
                Value::Array(Vec::new())
            } else {
                Value::Object(Map::new())
            }
        };
        node = match (node, part.parse::<usize>()) {
            (Value::Array(items), Ok(position)) => {
                if items.len() <= position {
                    items.resize(position + 1, Value::Null);
                }
                let slot = &mut items[position];
                if last {
                    *slot = value;
                    return Ok(());
                }
                if slot.is_null() {
                    *slot = empty();
                }
                slot
            }
            (Value::Object(members), _) => {
                if last {
                    members.insert(part.to_string(), value);
                    return Ok(());
                }
                members.entry(part.to_string()).or_insert_with(empty)
            }
            _ => return Err(format!("{path} runs into a value another column placed")),
        };
    }
    Ok(())
}

/// One row's vendor record, or why it cannot be one.
fn record_of(line: u64, cells: &[String], columns: &[ColumnMatch]) -> Result<VendorRecord, String> {
    let mut record = Value::Object(Map::new());
    for (cell, column) in cells.iter().zip(columns) {
        if let Some(path) = &column.path {
            place(&mut record, path, Value::String(cell.clone()))
                .map_err(|reason| format!("line {line}: {reason}"))?;
        }
    }
    Ok(VendorRecord::from_value(&record))
}

/// Reads the file and runs its rows as the connection's `data_type`: a preview, or — with
/// `apply` — the import itself.
pub async fn import(
    store: &store::Store,
    connection: &Connection,
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let data_type = options.data_type;
    let table = read_csv(&options.csv)?;
    let settings = connection.data.get(&data_type);
    let mut mapping = match settings.and_then(|s| s.mapping.clone()) {
        Some(mapping) => mapping,
        None => connect(connection, &[data_type], Value::Null, Default::default())?
            .default_mapping(data_type),
    };
    let labels = settings.map(|s| s.labels.as_slice()).unwrap_or_default();
    let columns = match_columns(&table.headings, &mapping, labels);
    if columns.iter().all(|c| c.path.is_none()) {
        return Err(ImportError::Unusable {
            path: options.csv.clone(),
            reason: format!(
                "no column heading matches a vendor path of connection '{}''s {data_type} mapping \
                 (such as {}), a data label or a mapped workspace field; the headings are: {}",
                connection.name,
                mapping
                    .rules
                    .iter()
                    .take(3)
                    .map(|r| r.source.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                table.headings.join(", ")
            ),
        });
    }
    for label in labels {
        let source = format!("{LABEL_PATH_PREFIX}{}", label.name);
        if columns
            .iter()
            .any(|c| c.path.as_deref() == Some(source.as_str()))
        {
            mapping.rules.push(Rule::new(source, label.target()));
        }
    }
    let mut malformed = table.malformed;
    let mut records = Vec::with_capacity(table.rows.len());
    for (line, cells) in &table.rows {
        match record_of(*line, cells, &columns) {
            Ok(record) => records.push(record),
            Err(reason) => malformed.push(reason),
        }
    }
    let rows = (records.len() + malformed.len()) as u64;
    let (kind, run_kind) = if options.apply {
        (RunKind::Sync, "import")
    } else {
        (RunKind::Preview, "import-preview")
    };
    let run = run::run_records(
        store,
        connection,
        FileRecords {
            run_kind,
            kind,
            data_type,
            mapping,
            records,
            malformed,
            report: options.report.clone(),
        },
    )
    .await?;
    Ok(ImportReport { columns, rows, run })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_with_the_wrong_number_of_cells_or_bad_text_are_named_by_line() {
        let text = b"\xef\xbb\xbfid,contact.email\n\
                     a1,ada@example.com\n\
                     a2,bob@example.com,extra\n\
                     a3\n\
                     \"a4\",\"multi\nline@example.com\"\n\
                     a5,\xff\xfe\n\
                     a6,eve@example.com\n";
        let table = parse_csv(&text[..]).unwrap();
        assert_eq!(table.headings, ["id", "contact.email"]);
        let ids: Vec<(u64, &str)> = table
            .rows
            .iter()
            .map(|(line, cells)| (*line, cells[0].as_str()))
            .collect();
        assert_eq!(ids, [(2, "a1"), (5, "a4"), (8, "a6")]);
        assert_eq!(
            table.malformed,
            [
                "line 3: has 3 cells, the heading row has 2: check for a missing or extra separator",
                "line 4: has 1 cells, the heading row has 2: check for a missing or extra separator",
                "line 7: is not UTF-8 text: save the file as UTF-8 CSV",
            ]
        );
        assert!(parse_csv(&b""[..]).is_err());
        assert!(parse_csv(&b",,\n1,2,3\n"[..]).is_err());
    }

    #[test]
    fn headings_match_paths_then_labels_then_workspace_fields() {
        let mapping = Mapping {
            rules: vec![
                Rule::new("id", "external_id"),
                Rule::new("contact.email", "email"),
                Rule::new("contact.firstName", "first_name"),
            ],
        };
        let labels = [Label {
            question: "reg_Diet".into(),
            name: "dietary".into(),
        }];
        // (heading, path, what it matched)
        let cases = [
            (
                "Contact.Email",
                Some("contact.email"),
                "vendor path contact.email → email",
            ),
            (
                "reg_diet",
                Some("labels.dietary"),
                "data label dietary (question reg_Diet) → custom.dietary",
            ),
            (
                "first_name",
                Some("contact.firstName"),
                "workspace field first_name ← vendor path contact.firstName",
            ),
            (
                "external_id",
                Some("id"),
                "workspace field external_id ← vendor path id",
            ),
            (
                "email",
                None,
                "an earlier column already fills contact.email: ignored",
            ),
            (
                "Badge Printed",
                None,
                "matches no vendor path of the mapping, data label or mapped workspace field: ignored",
            ),
            ("", None, "the column has no heading"),
        ];
        let headings: Vec<String> = cases.iter().map(|c| c.0.to_string()).collect();
        let columns = match_columns(&headings, &mapping, &labels);
        for ((heading, path, matched), column) in cases.iter().zip(&columns) {
            assert_eq!(column.heading, *heading);
            assert_eq!(column.path.as_deref(), *path, "{heading}");
            assert_eq!(column.matched, *matched, "{heading}");
        }
    }

    #[test]
    fn dotted_paths_become_nested_records() {
        let mut record = Value::Object(Map::new());
        // (path, value)
        let cells = [
            ("id", "a1"),
            ("contact.email", "ada@example.com"),
            ("contact.firstName", "Ada"),
            ("answers.1.value.0", "Vegan"),
            ("answers.1.question.id", "q-diet"),
        ];
        for (path, value) in cells {
            place(&mut record, path, Value::String(value.into())).unwrap();
        }
        assert_eq!(
            record,
            serde_json::json!({
                "id": "a1",
                "contact": {"email": "ada@example.com", "firstName": "Ada"},
                "answers": [null, {"value": ["Vegan"], "question": {"id": "q-diet"}}],
            })
        );
        assert!(place(&mut record, "id.more", Value::Null).is_err());
    }
}

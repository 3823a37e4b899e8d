//! Test import: a CSV export of the vendor's registration report, run through the same mapping,
//! rules, validation and diff as a sync of the connection, before registration opens.
//!
//! The file's headings are matched to what the mapping reads (`columns`: vendor paths, data
//! labels and their question texts, the headings of Cvent's registration report, workspace
//! fields), ignoring case, spaces and punctuation; other columns are listed as ignored. Each row
//! becomes one vendor record built from its cells (`rows`: dotted paths become nested objects,
//! numeric parts list positions; a row without an id takes one made from its confirmation
//! number or email), so the status rule, filters and validation see it exactly as they see a
//! listed record. A row that cannot be a record — more or fewer cells than the heading row, not
//! UTF-8, no id to be had, a value validation refuses — is rejected naming its row and column,
//! and the rest go on. A preview writes nothing but its run record; applying stores the records
//! and leaves the stream's sync state (cursor, checkpoint, vendor totals) as it was, since a
//! file is not the vendor. The one vendor call is for the texts of the data labels' questions,
//! when the data type has labels and the vendor keeps answers to questions; without an answer,
//! headings are matched without them, saying so.

mod columns;
mod rows;

pub use columns::{ColumnMatch, REPORT_HEADINGS, match_columns, normalized};
pub use rows::RowPlace;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pipeline::rules::labels::Label;
use pipeline::{DataType, Rule};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::config::Connection;
use crate::connect::connect;
use crate::run::{self, EngineError, FileRecords, RunKind, RunReport};
use columns::LABEL_PATH_PREFIX;
use rows::RowReader;

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

/// An import's outcome: the run (a preview or the import itself) and how the columns were read.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub columns: Vec<ColumnMatch>,
    /// Rows read, malformed ones included.
    pub rows: u64,
    /// Rows given an id made from their confirmation number or email.
    pub ids_made: u64,
    /// What the reader should know about how the file was read (question texts unavailable).
    pub warnings: Vec<String>,
    pub run: RunReport,
}

/// The rows of a CSV file, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvTable {
    pub headings: Vec<String>,
    /// Each well-formed row with its place in the file.
    pub rows: Vec<(RowPlace, Vec<String>)>,
    /// Each malformed row's reason, naming its row.
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
        *first = first.trim_start_matches('\u{feff}').trim().to_string();
    }
    if headings.iter().all(String::is_empty) {
        return Err("the first row holds no column headings".into());
    }
    let mut rows = Vec::new();
    let mut malformed = Vec::new();
    for row in records {
        match row {
            Err(error) => {
                let place = error
                    .position()
                    .map_or(RowPlace { row: 0, line: 0 }, |p| RowPlace {
                        row: p.record() + 1,
                        line: p.line(),
                    });
                malformed.push(format!("{place}: cannot be read as CSV: {error}"));
            }
            Ok(row) => {
                let place = row
                    .position()
                    .map_or(RowPlace { row: 0, line: 0 }, |p| RowPlace {
                        row: p.record() + 1,
                        line: p.line(),
                    });
                if row.len() != headings.len() {
                    malformed.push(format!(
                        "{place}: has {} cells, the heading row has {}: check for a missing or extra separator",
                        row.len(),
                        headings.len()
                    ));
                    continue;
                }
                match csv::StringRecord::from_byte_record(row) {
                    Ok(row) => rows.push((place, row.iter().map(str::to_string).collect())),
                    Err(_) => malformed.push(format!(
                        "{place}: is not UTF-8 text: save the file as UTF-8 CSV"
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

/// The texts of the questions the data labels name, by label name, as the vendor words them;
/// a warning instead when the vendor cannot say.
async fn question_texts(
    store: &store::Store,
    connection: &Connection,
    data_type: DataType,
    labels: &[Label],
) -> (BTreeMap<String, String>, Option<String>) {
    if labels.is_empty() {
        return (BTreeMap::new(), None);
    }
    let facts = crate::facts::load(store, &connection.name)
        .await
        .unwrap_or(Value::Null);
    let connector = match connect(connection, &[data_type], facts, Default::default()) {
        Ok(connector) => connector,
        Err(error) => return (BTreeMap::new(), Some(error.to_string())),
    };
    if connector.answer_paths(data_type).is_empty() {
        return (BTreeMap::new(), None);
    }
    match connector.questions().await {
        Ok(questions) => {
            let texts = labels
                .iter()
                .filter_map(|label| {
                    pipeline::rules::labels::resolve(label, &questions)
                        .map(|resolved| (label.name.clone(), resolved.question_text))
                })
                .collect();
            (texts, None)
        }
        Err(error) => (
            BTreeMap::new(),
            Some(format!(
                "the questions' texts could not be read from connection '{}' ({error}): columns \
                 were matched to data labels by question id, code and name only",
                connection.name
            )),
        ),
    }
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
    let (texts, texts_warning) = question_texts(store, connection, data_type, labels).await;
    let columns = match_columns(&table.headings, &mapping, labels, &texts);
    if columns.iter().all(|c| c.path.is_none()) {
        return Err(ImportError::Unusable {
            path: options.csv.clone(),
            reason: format!(
                "no column heading matches what connection '{}' reads for {data_type}: head the \
                 columns with a registration report's headings (First Name, Email Address, \
                 Registration Status…), vendor paths (such as {}), data labels or workspace \
                 fields; the file's headings are: {}",
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
    let mut malformed: Vec<(String, String)> = table
        .malformed
        .into_iter()
        .map(|reason| (String::new(), reason))
        .collect();
    let mut records = Vec::with_capacity(table.rows.len());
    let reader = RowReader::new(&columns, &mapping, data_type);
    let mut ids_made = 0;
    for (place, cells) in &table.rows {
        match reader.record(*place, cells) {
            Ok((record, made)) => {
                ids_made += u64::from(made);
                records.push(record);
            }
            Err(rejected) => malformed.push(rejected),
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
    Ok(ImportReport {
        columns,
        rows,
        ids_made,
        warnings: texts_warning.into_iter().collect(),
        run,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_with_the_wrong_number_of_cells_or_bad_text_are_named_by_row() {
        let text = b"\xef\xbb\xbfid,contact.email\n\
                     a1,ada@example.com\n\
                     a2,bob@example.com,extra\n\
                     a3\n\
                     \"a4\",\"multi\nline@example.com\"\n\
                     a5,\xff\xfe\n\
                     a6,eve@example.com\n";
        let table = parse_csv(&text[..]).unwrap();
        assert_eq!(table.headings, ["id", "contact.email"]);
        let ids: Vec<(String, &str)> = table
            .rows
            .iter()
            .map(|(place, cells)| (place.to_string(), cells[0].as_str()))
            .collect();
        assert_eq!(
            ids,
            [
                ("row 2".to_string(), "a1"),
                ("row 5".to_string(), "a4"),
                // The cell before holds a line break: the row is one line further down.
                ("row 7 (line 8)".to_string(), "a6")
            ]
        );
        assert_eq!(
            table.malformed,
            [
                "row 3: has 3 cells, the heading row has 2: check for a missing or extra separator",
                "row 4: has 1 cells, the heading row has 2: check for a missing or extra separator",
                "row 6 (line 7): is not UTF-8 text: save the file as UTF-8 CSV",
            ]
        );
        assert!(parse_csv(&b""[..]).is_err());
        assert!(parse_csv(&b",,\n1,2,3\n"[..]).is_err());
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

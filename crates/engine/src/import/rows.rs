//! A file's rows as vendor records: each row's cells placed at their columns' paths, an id made
//! for a row that has none, and what validation would reject said in the file's terms (the row,
//! the column's heading) rather than the vendor's.
//!
//! A row without an id takes one made from its confirmation number (`file-confirmation-<number>`),
//! else from its email (`file-email-<address in lower case>`): the same row gets the same id on
//! every import, so importing a file again updates the records it made instead of adding more.

use connectors::VendorRecord;
use pipeline::{DataType, Mapping, RejectReason};
use serde_json::{Map, Value};

use super::columns::{ColumnMatch, REPORT_HEADINGS, is_confirmation_heading, normalized};

/// Where a row is in the file: its row as a spreadsheet numbers it (the heading row is row 1),
/// and its first line, which differs once a cell holds a line break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowPlace {
    pub row: u64,
    pub line: u64,
}

impl std::fmt::Display for RowPlace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.row == self.line {
            write!(f, "row {}", self.row)
        } else {
            write!(f, "row {} (line {})", self.row, self.line)
        }
    }
}

/// How the rows of one file become records: the columns, and the columns an id is made from.
pub(super) struct RowReader<'a> {
    columns: &'a [ColumnMatch],
    mapping: &'a Mapping,
    data_type: DataType,
    /// The path the mapping reads the external id from.
    id_path: Option<&'a str>,
    confirmation: Option<usize>,
    email: Option<usize>,
}

impl<'a> RowReader<'a> {
    pub(super) fn new(
        columns: &'a [ColumnMatch],
        mapping: &'a Mapping,
        data_type: DataType,
    ) -> RowReader<'a> {
        let source_of = |target: &str| {
            mapping
                .rules
                .iter()
                .find(|rule| rule.target == target)
                .map(|rule| rule.source.as_str())
        };
        let column_of = |path: Option<&str>| {
            path.and_then(|path| {
                columns
                    .iter()
                    .position(|column| column.path.as_deref() == Some(path))
            })
        };
        RowReader {
            columns,
            mapping,
            data_type,
            id_path: source_of("external_id"),
            confirmation: columns
                .iter()
                .position(|column| is_confirmation_heading(&column.heading)),
            email: column_of(source_of("email")),
        }
    }

    /// The row's vendor record and whether its id was made, or — when the row cannot be
    /// imported — its id (if it has one) and why, naming the row.
    pub(super) fn record(
        &self,
        place: RowPlace,
        cells: &[String],
    ) -> Result<(VendorRecord, bool), (String, String)> {
        let fail = |id: &str, reason: String| (id.to_string(), format!("{place}: {reason}"));
        let mut record = Value::Object(Map::new());
        for (cell, column) in cells.iter().zip(self.columns) {
            if let Some(path) = &column.path {
                super::place(&mut record, path, Value::String(cell.clone()))
                    .map_err(|reason| fail("", reason))?;
            }
        }
        let (id, made) = match self.id_path {
            None => (String::new(), false),
            Some(id_path) => match text_at(&record, id_path) {
                Some(id) => (id.to_string(), false),
                None => {
                    let id = self
                        .made_id(cells)
                        .ok_or_else(|| fail("", self.why_no_id()))?;
                    super::place(&mut record, id_path, Value::String(id.clone()))
                        .map_err(|reason| fail("", reason))?;
                    (id, true)
                }
            },
        };
        self.check(&record).map_err(|reason| fail(&id, reason))?;
        Ok((VendorRecord::from_value(&record), made))
    }

    /// The id made from the row's confirmation number, else its email.
    fn made_id(&self, cells: &[String]) -> Option<String> {
        let cell = |column: Option<usize>| {
            column
                .and_then(|index| cells.get(index))
                .map(|cell| cell.trim())
                .filter(|cell| !cell.is_empty())
        };
        if let Some(number) = cell(self.confirmation) {
            return Some(format!("file-confirmation-{number}"));
        }
        cell(self.email).map(|email| format!("file-email-{}", email.to_lowercase()))
    }

    fn why_no_id(&self) -> String {
        let id_column = self
            .id_path
            .and_then(|path| self.heading_of(path))
            .map_or("the file has no id column".to_string(), |heading| {
                format!("its '{heading}' is empty")
            });
        let mut fill: Vec<String> = Vec::new();
        for column in [self.confirmation, self.email].into_iter().flatten() {
            fill.push(format!("'{}'", self.columns[column].heading));
        }
        let what = match fill.as_slice() {
            [] => "add a column of confirmation numbers or emails".to_string(),
            _ => format!("fill {}", fill.join(" or ")),
        };
        format!(
            "has no id: {id_column}, and it has neither a confirmation number nor an email to make \
             one from; {what}"
        )
    }

    /// The heading of the column that fills `path`.
    fn heading_of(&self, path: &str) -> Option<&str> {
        self.columns
            .iter()
            .find(|column| column.path.as_deref() == Some(path))
            .map(|column| column.heading.as_str())
    }

    /// The columns that fill `field` through the mapping, as a reader of the file knows them.
    fn columns_of(&self, field: &str) -> Option<String> {
        let headings: Vec<String> = self
            .mapping
            .rules
            .iter()
            .filter(|rule| rule.target == field)
            .filter_map(|rule| self.heading_of(&rule.source))
            .map(|heading| format!("'{heading}'"))
            .collect();
        (!headings.is_empty()).then(|| headings.join(" and "))
    }

    /// The headings a column filling `field` may have: the registration report's, the vendor
    /// path's and the field's own, each once.
    fn headings_for(&self, field: &str) -> String {
        let mut headings: Vec<&str> = Vec::new();
        if let Some(rule) = self.mapping.rules.iter().find(|rule| rule.target == field) {
            if let Some((names, _)) = REPORT_HEADINGS
                .iter()
                .find(|(_, paths)| paths.contains(&rule.source.as_str()))
            {
                headings.push(names[0]);
            }
            headings.push(&rule.source);
        }
        headings.push(field);
        let mut seen: Vec<String> = Vec::new();
        headings.retain(|heading| {
            let key = normalized(heading);
            let new = !seen.contains(&key);
            seen.push(key);
            new
        });
        let quoted: Vec<String> = headings.iter().map(|h| format!("'{h}'")).collect();
        match quoted.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        }
    }

    /// What validation would say of the record, in the file's terms; a sync's run rejects the
    /// same records, and this names the column to correct.
    fn check(&self, record: &Value) -> Result<(), String> {
        let mapped = self
            .mapping
            .apply(&pipeline::flatten(record), self.data_type);
        let Err(rejection) = pipeline::validate(mapped, self.data_type) else {
            return Ok(());
        };
        let column = |field: &str| match self.columns_of(field) {
            Some(headings) => format!("column {headings}"),
            None => format!("the column filling '{field}'"),
        };
        Err(match rejection.reason {
            RejectReason::MissingRequired { field } => match self.columns_of(&field) {
                Some(headings) => format!(
                    "required field '{field}' has no value: column {headings} is empty on this row"
                ),
                None => format!(
                    "required field '{field}' has no value: no column of the file fills it; \
                     add a column headed {}",
                    self.headings_for(&field)
                ),
            },
            RejectReason::WrongType {
                field,
                expected,
                found,
            } => format!(
                "{} holds {found}, and '{field}' expects {expected}: correct the cell, or \
                 translate it with a value map",
                column(&field)
            ),
            RejectReason::NotAllowed {
                field,
                value,
                allowed,
            } => format!(
                "{} gives '{field}' \"{value}\", which is not one of {}: correct the cell, or \
                 add \"{value}\" to the value map for '{field}'",
                column(&field),
                allowed.join(", ")
            ),
            RejectReason::UnknownField { field } => format!(
                "the mapping fills '{field}', which is not a field of {}: correct the mapping",
                self.data_type
            ),
            other => other.to_string(),
        })
    }
}

/// The record's text at `path`, unless blank.
fn text_at<'r>(record: &'r Value, path: &str) -> Option<&'r str> {
    let mut node = record;
    for part in path.split('.') {
        node = match (node, part.parse::<usize>()) {
            (Value::Array(items), Ok(position)) => items.get(position)?,
            (Value::Object(members), _) => members.get(part)?,
            _ => return None,
        };
    }
    node.as_str().filter(|text| !text.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use pipeline::{Rule, ValueMap};

    use super::super::columns::match_columns;
    use super::*;

    fn mapping() -> Mapping {
        Mapping {
            rules: vec![
                Rule::new("id", "external_id"),
                Rule::new("status", "status").with_values(
                    ValueMap::new([("Cancelled", "cancelled")]).with_default("active"),
                ),
                Rule::new("contact.firstName", "first_name"),
                Rule::new("contact.lastName", "last_name"),
                Rule::new("contact.email", "email"),
            ],
        }
    }

    /// The row's record, or why it is rejected.
    fn reader_outcome(headings: &[&str], cells: &[&str]) -> Result<Value, String> {
        // Every row is an accepted registration.
        let headings: Vec<String> = headings
            .iter()
            .map(|h| h.to_string())
            .chain(["Registration Status".to_string()])
            .collect();
        let mapping = mapping();
        let columns = match_columns(&headings, &mapping, &[], &BTreeMap::new());
        let reader = RowReader::new(&columns, &mapping, DataType::People);
        let cells: Vec<String> = cells
            .iter()
            .map(|c| c.to_string())
            .chain(["Accepted".to_string()])
            .collect();
        reader
            .record(RowPlace { row: 4, line: 5 }, &cells)
            .map(|(record, _)| record.json())
            .map_err(|(_, reason)| reason)
    }

    #[test]
    fn a_row_without_an_id_takes_one_from_its_confirmation_number_else_its_email() {
        let headings = [
            "Attendee ID",
            "First Name",
            "Last Name",
            "Email Address",
            "Confirmation Number",
        ];
        // (cells, the id)
        let cases = [
            (["a-1", "Ada", "Lovelace", "ada@example.com", "T7X"], "a-1"),
            (
                ["", "Ada", "Lovelace", "ada@example.com", " T7X "],
                "file-confirmation-T7X",
            ),
            (
                ["", "Ada", "Lovelace", "Ada@Example.com", ""],
                "file-email-ada@example.com",
            ),
        ];
        for (cells, id) in cases {
            let record = reader_outcome(&headings, &cells).expect("a record");
            assert_eq!(record["id"], id, "{cells:?}");
        }
        let error = reader_outcome(&headings, &["", "Ada", "Lovelace", "", ""])
            .expect_err("no id, confirmation number or email");
        assert_eq!(
            error,
            "row 4 (line 5): has no id: its 'Attendee ID' is empty, and it has neither a \
             confirmation number nor an email to make one from; fill 'Confirmation Number' or \
             'Email Address'"
        );
        let error = reader_outcome(&["First Name", "Last Name"], &["Ada", "Lovelace"])
            .expect_err("no id column");
        assert!(
            error.starts_with("row 4 (line 5): has no id: the file has no id column")
                && error.ends_with("add a column of confirmation numbers or emails"),
            "{error}"
        );
    }

    #[test]
    fn what_validation_rejects_names_the_row_and_the_column() {
        let error = reader_outcome(
            &["Attendee ID", "First Name", "Last Name"],
            &["a-1", "", "Lovelace"],
        )
        .expect_err("no first name");
        assert_eq!(
            error,
            "row 4 (line 5): required field 'first_name' has no value: column 'First Name' is \
             empty on this row"
        );
        let error = reader_outcome(&["Attendee ID", "First Name"], &["a-1", "Ada"])
            .expect_err("no last name column");
        assert_eq!(
            error,
            "row 4 (line 5): required field 'last_name' has no value: no column of the file \
             fills it; add a column headed 'Last Name' or 'contact.lastName'"
        );
        assert!(!error.contains("vendor"));
    }

    #[test]
    fn rows_are_named_as_a_spreadsheet_numbers_them() {
        assert_eq!(RowPlace { row: 3, line: 3 }.to_string(), "row 3");
        assert_eq!(RowPlace { row: 3, line: 4 }.to_string(), "row 3 (line 4)");
    }
}

//! Reads a configuration workbook back with `calamine` and validates it cell by cell, each
//! error naming the sheet, row and column to fix; the whole file is then validated as
//! eventsync.toml is on load (in [`super::plan_import`]).

use std::collections::HashMap;
use std::path::Path;

use calamine::{Data, Reader, Xlsx, open_workbook};
use pipeline::rules::labels::{self, Label, LabelError};
use pipeline::{DataType, Filter, Mapping, MappingError, Rule, StatusSelection, ValueMap};

use super::write::{
    ALL_STATUSES, FILTER_COLUMNS, FILTERS, LABEL_COLUMNS, LABELS, MAPPING, MAPPING_COLUMNS,
    SETTING_COLUMNS, SETTINGS,
};
use super::{CONNECTION_SHEET, ConnectionBook, TypeBook, WorkbookError};

/// Reads the workbook at `path` as a new version of `current`, which says the connection, its
/// kind and the data types to expect.
pub(super) fn read(path: &Path, current: &ConnectionBook) -> Result<ConnectionBook, WorkbookError> {
    let mut workbook: Xlsx<_> = open_workbook(path).map_err(|e| {
        WorkbookError::file(
            path,
            format!("cannot be read as an XLSX workbook ({e}); export one with `eventsync config export`"),
        )
    })?;
    let expected: Vec<&str> = std::iter::once(CONNECTION_SHEET)
        .chain(current.types.iter().map(|t| t.data_type.as_str()))
        .collect();
    for name in workbook.sheet_names() {
        if !expected.contains(&name.as_str()) {
            return Err(WorkbookError::Sheet {
                sheet: name,
                problem: format!(
                    "not a sheet eventsync reads; a '{}' connection's workbook has: {}",
                    current.kind,
                    expected.join(", ")
                ),
            });
        }
    }
    let mut grid = |name: &str| -> Result<Grid, WorkbookError> {
        let range = workbook
            .worksheet_range(name)
            .map_err(|_| WorkbookError::Sheet {
                sheet: name.to_string(),
                problem: "missing: add it back from a fresh `eventsync config export`".to_string(),
            })?;
        Ok(Grid::new(name, &range))
    };
    let connection = grid(CONNECTION_SHEET)?;
    let settings = read_connection(&connection, current)?;
    let mut types = Vec::new();
    for type_book in &current.types {
        let sheet = grid(type_book.data_type.as_str())?;
        types.push(read_type(&sheet, type_book, &current.kind)?);
    }
    Ok(ConnectionBook {
        name: current.name.clone(),
        kind: current.kind.clone(),
        settings,
        secret_fields: current.secret_fields.clone(),
        types,
    })
}

/// A sheet's cells with their place in the sheet, for messages.
struct Grid {
    sheet: String,
    /// Absolute row and column of the first cell.
    origin: (u32, u32),
    rows: Vec<Vec<Data>>,
}

impl Grid {
    fn new(sheet: &str, range: &calamine::Range<Data>) -> Grid {
        Grid {
            sheet: sheet.to_string(),
            origin: range.start().unwrap_or((0, 0)),
            rows: range.rows().map(<[Data]>::to_vec).collect(),
        }
    }

    fn error(&self, row: usize, column: usize, header: &str, problem: String) -> WorkbookError {
        let column = self.origin.1 as usize + column;
        let letter = column_letter(column);
        WorkbookError::Cell {
            sheet: self.sheet.clone(),
            row: self.origin.0 + row as u32 + 1,
            column: if header.is_empty() {
                letter
            } else {
                format!("{letter} ({header})")
            },
            problem,
        }
    }

    fn sheet_error(&self, problem: String) -> WorkbookError {
        WorkbookError::Sheet {
            sheet: self.sheet.clone(),
            problem,
        }
    }

    fn is_blank(&self, row: usize) -> bool {
        self.rows[row].iter().all(|cell| text(cell).is_none())
    }
}

/// `A`, `B`, … `Z`, `AA`, … for a zero-based column.
fn column_letter(mut column: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (column % 26) as u8);
        if column < 26 {
            break;
        }
        column = column / 26 - 1;
    }
    letters.iter().rev().map(|&b| b as char).collect()
}

/// A cell as text; `None` when empty.
fn text(cell: &Data) -> Option<String> {
    match cell {
        Data::Empty => None,
        Data::String(text) if text.is_empty() => None,
        Data::String(text) | Data::DateTimeIso(text) | Data::DurationIso(text) => {
            Some(text.clone())
        }
        Data::Int(number) => Some(number.to_string()),
        Data::Float(number) if number.fract() == 0.0 && number.abs() < 1e15 => {
            Some(format!("{}", *number as i64))
        }
        Data::Float(number) => Some(number.to_string()),
        Data::Bool(flag) => Some(if *flag { "TRUE" } else { "FALSE" }.to_string()),
        other => Some(other.to_string()),
    }
}

/// A yes/no cell: Excel's TRUE/FALSE, or yes/no, true/false, 1/0 typed as text; empty is no.
fn flag(cell: &Data) -> Result<bool, String> {
    match cell {
        Data::Bool(flag) => Ok(*flag),
        Data::Empty => Ok(false),
        _ => match text(cell).map(|t| t.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("no") | Some("false") | Some("0") => Ok(false),
            Some("yes") | Some("true") | Some("1") => Ok(true),
            Some(other) => Err(format!("'{other}' is not yes or no: write TRUE or FALSE")),
        },
    }
}

/// A list cell: one item per line, surrounding spaces and empty lines left out.
fn lines(cell: &Data) -> Vec<String> {
    text(cell)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_string)
        .collect()
}

/// One entry row of a section, its cells by header name.
struct Entry<'g> {
    row: usize,
    cells: HashMap<&'static str, (usize, &'g Data)>,
}

impl<'g> Entry<'g> {
    fn cell(&self, name: &str) -> &'g Data {
        self.cells
            .get(name)
            .map(|(_, cell)| *cell)
            .unwrap_or(&Data::Empty)
    }

    fn text(&self, name: &str) -> Option<String> {
        text(self.cell(name))
    }

    fn error(&self, grid: &Grid, name: &str, problem: String) -> WorkbookError {
        let column = self.cells.get(name).map(|(column, _)| *column).unwrap_or(0);
        grid.error(self.row, column, name, problem)
    }

    fn flag(&self, grid: &Grid, name: &str) -> Result<bool, WorkbookError> {
        flag(self.cell(name)).map_err(|problem| self.error(grid, name, problem))
    }
}

/// A table of rows under a header: the `connection` sheet, or one section of a type sheet.
struct Table<'g> {
    /// The header's row, for messages about the section as a whole.
    header_row: usize,
    entries: Vec<Entry<'g>>,
}

/// Reads the rows `from..to` of `grid` as a header naming `columns` and its entries; blank rows
/// are skipped. `required` columns must be in the header.
fn table<'g>(
    grid: &'g Grid,
    from: usize,
    to: usize,
    columns: &[&'static str],
    required: &[&str],
) -> Result<Table<'g>, WorkbookError> {
    let Some(header_row) = (from..to).find(|row| !grid.is_blank(*row)) else {
        return Err(grid.sheet_error(format!(
            "a header row is missing under row {}: write {}",
            grid.origin.0 as usize + from,
            columns.join(", ")
        )));
    };
    let mut positions: Vec<(usize, &'static str)> = Vec::new();
    for (column, cell) in grid.rows[header_row].iter().enumerate() {
        let Some(name) = text(cell) else { continue };
        let name = name.trim().to_ascii_lowercase();
        let Some(known) = columns.iter().find(|known| **known == name) else {
            return Err(grid.error(
                header_row,
                column,
                "",
                format!(
                    "'{name}' is not a column here; the columns are {}",
                    columns.join(", ")
                ),
            ));
        };
        positions.push((column, known));
    }
    for name in required {
        if !positions.iter().any(|(_, known)| known == name) {
            return Err(grid.error(
                header_row,
                0,
                "",
                format!(
                    "the header needs a '{name}' column ({})",
                    columns.join(", ")
                ),
            ));
        }
    }
    let mut entries = Vec::new();
    for row in header_row + 1..to {
        if grid.is_blank(row) {
            continue;
        }
        for (column, cell) in grid.rows[row].iter().enumerate() {
            if text(cell).is_some() && !positions.iter().any(|(known, _)| *known == column) {
                return Err(grid.error(
                    row,
                    column,
                    "",
                    "a value outside the table's columns: move it under a header or delete it"
                        .to_string(),
                ));
            }
        }
        let cells = positions
            .iter()
            .map(|(column, name)| (*name, (*column, &grid.rows[row][*column])))
            .collect();
        entries.push(Entry { row, cells });
    }
    Ok(Table {
        header_row,
        entries,
    })
}

fn read_connection(
    grid: &Grid,
    current: &ConnectionBook,
) -> Result<Vec<(String, toml::Value)>, WorkbookError> {
    let table = table(
        grid,
        0,
        grid.rows.len(),
        &SETTING_COLUMNS,
        &["setting", "value"],
    )?;
    let mut settings: Vec<(String, toml::Value)> = Vec::new();
    for entry in &table.entries {
        let Some(key) = entry.text("setting").map(|k| k.trim().to_string()) else {
            return Err(entry.error(grid, "setting", "name the setting".to_string()));
        };
        let value = entry.cell("value");
        match key.as_str() {
            "name" | "kind" => {
                let expected = if key == "name" {
                    &current.name
                } else {
                    &current.kind
                };
                if text(value).as_deref() != Some(expected.as_str()) {
                    return Err(entry.error(
                        grid,
                        "value",
                        format!(
                            "this workbook is for {key} '{}', not '{expected}': import it into the connection it was exported from",
                            text(value).unwrap_or_default()
                        ),
                    ));
                }
            }
            _ if current
                .secret_fields
                .iter()
                .any(|secret| key == *secret || key == format!("{secret}_file")) =>
            {
                if text(value).is_some() {
                    return Err(entry.error(
                        grid,
                        "value",
                        format!("secrets are never read from a workbook: clear this cell and set {key} in eventsync.toml"),
                    ));
                }
            }
            _ => {
                if settings.iter().any(|(known, _)| *known == key) {
                    return Err(entry.error(grid, "setting", format!("'{key}' is given twice")));
                }
                let before = current
                    .settings
                    .iter()
                    .find(|(known, _)| *known == key)
                    .map(|(_, v)| v);
                if let Some(value) = setting_value(value, before)
                    .map_err(|problem| entry.error(grid, "value", problem))?
                {
                    settings.push((key, value));
                }
            }
        }
    }
    Ok(settings)
}

/// A setting's cell as a TOML value of the type the setting had; `None` for an empty cell
/// (the setting is removed).
fn setting_value(cell: &Data, before: Option<&toml::Value>) -> Result<Option<toml::Value>, String> {
    let Some(written) = text(cell) else {
        return Ok(None);
    };
    let value = match (before, cell) {
        (Some(toml::Value::String(_)), _) => toml::Value::String(written),
        (Some(toml::Value::Boolean(_)), _) | (None, Data::Bool(_)) => {
            toml::Value::Boolean(flag(cell)?)
        }
        (Some(toml::Value::Integer(_)), _) | (None, Data::Int(_) | Data::Float(_)) => {
            match written.trim().parse::<i64>() {
                Ok(number) => toml::Value::Integer(number),
                Err(_) if before.is_none() => toml::Value::String(written),
                Err(_) => return Err(format!("'{written}' is not a whole number")),
            }
        }
        (Some(toml::Value::Float(_)), _) => written
            .trim()
            .parse::<f64>()
            .map(toml::Value::Float)
            .map_err(|_| format!("'{written}' is not a number"))?,
        (Some(_), _) => {
            let parsed: toml::Table = toml::from_str(&format!("value = {written}"))
                .map_err(|e| format!("'{written}' is not a TOML value: {e}"))?;
            parsed
                .get("value")
                .cloned()
                .ok_or_else(|| format!("'{written}' is not a TOML value"))?
        }
        (None, _) => toml::Value::String(written),
    };
    Ok(Some(value))
}

/// Where each section of a type sheet starts: its title's row.
fn sections(grid: &Grid) -> Result<HashMap<&'static str, usize>, WorkbookError> {
    let titles = [SETTINGS, MAPPING, FILTERS, LABELS];
    let mut found = HashMap::new();
    for (row, cells) in grid.rows.iter().enumerate() {
        let filled: Vec<(usize, String)> = cells
            .iter()
            .enumerate()
            .filter_map(|(column, cell)| text(cell).map(|t| (column, t)))
            .collect();
        let [(column, title)] = filled.as_slice() else {
            continue;
        };
        if let Some(known) = titles
            .iter()
            .find(|known| known.eq_ignore_ascii_case(title.trim()))
            && found.insert(*known, row).is_some()
        {
            return Err(grid.error(row, *column, "", format!("a second '{known}' section")));
        }
    }
    for title in titles {
        if !found.contains_key(title) {
            return Err(grid.sheet_error(format!(
                "the '{title}' section is missing: a row with just '{title}' in column A, then its header"
            )));
        }
    }
    Ok(found)
}

fn read_type(grid: &Grid, current: &TypeBook, kind: &str) -> Result<TypeBook, WorkbookError> {
    let starts = sections(grid)?;
    let mut ordered: Vec<(usize, &str)> = starts.iter().map(|(k, v)| (*v, *k)).collect();
    ordered.sort();
    if let Some(first) = ordered.first()
        && let Some(row) = (0..first.0).find(|row| !grid.is_blank(*row))
    {
        return Err(grid.error(
            row,
            0,
            "",
            "a value above the first section: move it into a section or delete it".to_string(),
        ));
    }
    let span = |title: &str| {
        let start = starts[title];
        let end = ordered
            .iter()
            .map(|(row, _)| *row)
            .find(|row| *row > start)
            .unwrap_or(grid.rows.len());
        (start + 1, end)
    };
    let data_type = current.data_type;
    let mut book = TypeBook {
        data_type,
        synced: false,
        statuses: None,
        remove_outdated: false,
        subscribers: Vec::new(),
        guests: current.guests.map(|_| Default::default()),
        mapping: Mapping::default(),
        filters: Vec::new(),
        labels: Vec::new(),
    };
    let (from, to) = span(SETTINGS);
    read_settings(
        grid,
        table(grid, from, to, &SETTING_COLUMNS, &["setting", "value"])?,
        current,
        kind,
        &mut book,
    )?;
    let (from, to) = span(MAPPING);
    book.mapping = read_mapping(
        grid,
        table(grid, from, to, &MAPPING_COLUMNS, &["source", "target"])?,
        data_type,
    )?;
    let (from, to) = span(FILTERS);
    book.filters = read_filters(
        grid,
        table(grid, from, to, &FILTER_COLUMNS, &["field"])?,
        data_type,
    )?;
    let (from, to) = span(LABELS);
    book.labels = read_labels(
        grid,
        table(grid, from, to, &LABEL_COLUMNS, &["question", "name"])?,
    )?;
    Ok(book)
}

fn read_settings(
    grid: &Grid,
    table: Table<'_>,
    current: &TypeBook,
    kind: &str,
    book: &mut TypeBook,
) -> Result<(), WorkbookError> {
    let data_type = current.data_type;
    let vocabulary = connectors::status_vocabulary(kind, data_type);
    // A row left out keeps the default, as a setting left out of eventsync.toml does.
    book.statuses = vocabulary.map(|v| default_selection(v.default));
    let mut seen: Vec<String> = Vec::new();
    for entry in &table.entries {
        let Some(key) = entry.text("setting").map(|k| k.trim().to_string()) else {
            return Err(entry.error(grid, "setting", "name the setting".to_string()));
        };
        if seen.contains(&key) {
            return Err(entry.error(grid, "setting", format!("'{key}' is given twice")));
        }
        seen.push(key.clone());
        match key.as_str() {
            "synced" => book.synced = entry.flag(grid, "value")?,
            "remove_outdated" => book.remove_outdated = entry.flag(grid, "value")?,
            "extra_invitee_registrations" | "guest_enrollment_tags" => {
                let Some(guests) = book.guests.as_mut() else {
                    return Err(entry.error(
                        grid,
                        "setting",
                        format!("{key} is a setting of session_registrations, not {data_type}: delete this row"),
                    ));
                };
                let on = entry.flag(grid, "value")?;
                if key == "extra_invitee_registrations" {
                    guests.extra_invitee_registrations = on;
                } else {
                    guests.guest_enrollment_tags = on;
                }
            }
            "subscribers" => {
                let addresses = lines(entry.cell("value"));
                for address in &addresses {
                    crate::config::check_subscriber(address, "subscriber")
                        .map_err(|e| entry.error(grid, "value", e.0))?;
                }
                book.subscribers = addresses;
            }
            "statuses" => {
                let Some(vocabulary) = vocabulary else {
                    return Err(entry.error(
                        grid,
                        "setting",
                        format!("{data_type} has no vendor status to select by: delete this row"),
                    ));
                };
                let list = lines(entry.cell("value"));
                book.statuses = Some(match list.as_slice() {
                    [] => default_selection(vocabulary.default),
                    [all] if all.eq_ignore_ascii_case(ALL_STATUSES) => StatusSelection::All,
                    _ => StatusSelection::parse(&list, vocabulary.valid)
                        .map_err(|e| entry.error(grid, "value", e.to_string()))?,
                });
            }
            other => {
                return Err(entry.error(
                    grid,
                    "setting",
                    format!("'{other}' is not a setting of a data type; the settings are synced, statuses, remove_outdated, subscribers, and for session_registrations extra_invitee_registrations and guest_enrollment_tags"),
                ));
            }
        }
    }
    if !seen.iter().any(|key| key == "synced") {
        return Err(grid.error(
            table.header_row,
            0,
            "",
            "the Settings section needs a 'synced' row (TRUE or FALSE)".to_string(),
        ));
    }
    Ok(())
}

fn default_selection(default: &[&str]) -> StatusSelection {
    if default.is_empty() {
        StatusSelection::All
    } else {
        StatusSelection::Only(default.iter().map(|s| s.to_string()).collect())
    }
}

fn read_mapping(
    grid: &Grid,
    table: Table<'_>,
    data_type: DataType,
) -> Result<Mapping, WorkbookError> {
    let mut rules = Vec::new();
    for entry in &table.entries {
        let values = match entry.text("values") {
            None => None,
            Some(written) => {
                Some(value_map(&written).map_err(|problem| entry.error(grid, "values", problem))?)
            }
        };
        rules.push(Rule {
            source: entry.text("source").unwrap_or_default(),
            target: entry.text("target").unwrap_or_default().trim().to_string(),
            import_empty: entry.flag(grid, "import_empty")?,
            values,
        });
    }
    let mapping = Mapping { rules };
    if let Err(error) = mapping.validate(data_type) {
        let (target, column, nth) = match &error {
            MappingError::UnknownTarget { target, .. } => (target, "target", 0),
            MappingError::EmptySource { target } => (target, "source", 0),
            MappingError::DuplicateTarget { target, .. } => (target, "target", 1),
            MappingError::UnstorableValue { target, .. }
            | MappingError::AmbiguousValueMap { target, .. } => (target, "values", 0),
            MappingError::ProtectedUnmapped { .. } => {
                return Err(grid.error(table.header_row, 0, "", error.to_string()));
            }
        };
        let entry = table
            .entries
            .iter()
            .zip(&mapping.rules)
            .filter(|(_, rule)| rule.target == *target)
            .nth(nth)
            .map(|(entry, _)| entry);
        return Err(match entry {
            Some(entry) => entry.error(grid, column, error.to_string()),
            None => grid.error(table.header_row, 0, "", error.to_string()),
        });
    }
    Ok(mapping)
}

/// A value map written as eventsync.toml writes it: `{ map = { A = "a" }, default = "b" }`.
fn value_map(written: &str) -> Result<ValueMap, String> {
    #[derive(serde::Deserialize)]
    struct Holder {
        values: ValueMap,
    }
    toml::from_str::<Holder>(&format!("values = {written}"))
        .map(|holder| holder.values)
        .map_err(|e| {
            format!(
                "write the value map as in eventsync.toml, such as {{ map = {{ Cancelled = \"cancelled\" }}, default = \"active\" }}: {}",
                e.message()
            )
        })
}

fn read_filters(
    grid: &Grid,
    table: Table<'_>,
    data_type: DataType,
) -> Result<Vec<Filter>, WorkbookError> {
    let mut filters = Vec::new();
    for entry in &table.entries {
        let one_of = lines(entry.cell("one_of"));
        let filter = Filter {
            field: entry.text("field").unwrap_or_default().trim().to_string(),
            equals: entry.text("equals"),
            one_of: (!one_of.is_empty()).then_some(one_of),
            contains: entry.text("contains"),
            is_empty: entry.flag(grid, "is_empty")?,
            not: entry.flag(grid, "not")?,
        };
        filter
            .validate(data_type)
            .map_err(|e| entry.error(grid, "field", e.to_string()))?;
        filters.push(filter);
    }
    Ok(filters)
}

fn read_labels(grid: &Grid, table: Table<'_>) -> Result<Vec<Label>, WorkbookError> {
    let mut found: Vec<Label> = Vec::new();
    for entry in &table.entries {
        let label = Label {
            question: entry
                .text("question")
                .unwrap_or_default()
                .trim()
                .to_string(),
            name: entry.text("name").unwrap_or_default().trim().to_string(),
        };
        found.push(label);
        if let Err(error) = labels::validate(&found) {
            let column = match error {
                LabelError::NoQuestion { .. } => "question",
                LabelError::BadName { .. } | LabelError::Duplicate { .. } => "name",
            };
            return Err(entry.error(grid, column, error.to_string()));
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::column_letter;

    #[test]
    fn column_letters() {
        for (column, letter) in [
            (0, "A"),
            (1, "B"),
            (25, "Z"),
            (26, "AA"),
            (27, "AB"),
            (701, "ZZ"),
            (702, "AAA"),
        ] {
            assert_eq!(column_letter(column), letter);
        }
    }
}

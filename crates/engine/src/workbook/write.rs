//! Writes a [`ConnectionBook`] as a workbook with `rust_xlsxwriter`.
//!
//! Layout, which [`super::read`] reads back: the `connection` sheet is a `setting | value | note`
//! table; a data type's sheet has titled sections (`Settings`, `Mapping`, `Filters`, `Labels`),
//! each a header row and one row per entry, separated by a blank row. Lists in one cell (statuses,
//! subscribers, `one_of`) are one item per line; a rule's value map is the inline TOML table
//! eventsync.toml uses.

use std::path::Path;

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::{CONNECTION_SHEET, ConnectionBook, TypeBook, WorkbookError};

pub(super) const SETTINGS: &str = "Settings";
pub(super) const MAPPING: &str = "Mapping";
pub(super) const FILTERS: &str = "Filters";
pub(super) const LABELS: &str = "Labels";

/// The cell text that selects every vendor status (an empty list in eventsync.toml).
pub(super) const ALL_STATUSES: &str = "all";

pub(super) const MAPPING_COLUMNS: [&str; 4] = ["source", "target", "import_empty", "values"];
pub(super) const FILTER_COLUMNS: [&str; 6] =
    ["field", "equals", "one_of", "contains", "is_empty", "not"];
pub(super) const LABEL_COLUMNS: [&str; 2] = ["question", "name"];
pub(super) const SETTING_COLUMNS: [&str; 3] = ["setting", "value", "note"];

pub(super) fn write(book: &ConnectionBook, target: &Path) -> Result<(), WorkbookError> {
    let mut workbook = Workbook::new();
    let failed = |e: XlsxError| WorkbookError::file(target, e);
    connection_sheet(workbook.add_worksheet(), book).map_err(failed)?;
    for type_book in &book.types {
        type_sheet(workbook.add_worksheet(), type_book).map_err(failed)?;
    }
    workbook.save(target).map_err(failed)
}

/// Writes rows top to bottom, so that each section simply follows the last.
struct Cursor<'a> {
    sheet: &'a mut Worksheet,
    row: u32,
    bold: Format,
}

/// A cell's value.
enum Cell<'a> {
    Text(&'a str),
    Flag(bool),
    Number(f64),
}

impl Cursor<'_> {
    fn row(&mut self, cells: &[Cell<'_>]) -> Result<(), XlsxError> {
        for (column, cell) in (0u16..).zip(cells) {
            match cell {
                Cell::Text(text) => self.sheet.write_string(self.row, column, *text)?,
                Cell::Flag(flag) => self.sheet.write_boolean(self.row, column, *flag)?,
                Cell::Number(number) => self.sheet.write_number(self.row, column, *number)?,
            };
        }
        self.row += 1;
        Ok(())
    }

    fn bold_row(&mut self, names: &[&str]) -> Result<(), XlsxError> {
        for (column, name) in (0u16..).zip(names) {
            self.sheet
                .write_string_with_format(self.row, column, *name, &self.bold)?;
        }
        self.row += 1;
        Ok(())
    }

    /// A section: its title, its header, and a blank row after its entries (written by the
    /// caller).
    fn section(&mut self, title: &str, columns: &[&str]) -> Result<(), XlsxError> {
        if self.row > 0 {
            self.row += 1;
        }
        self.bold_row(&[title])?;
        self.bold_row(columns)
    }
}

fn cursor(sheet: &mut Worksheet) -> Cursor<'_> {
    Cursor {
        sheet,
        row: 0,
        bold: Format::new().set_bold(),
    }
}

fn connection_sheet(sheet: &mut Worksheet, book: &ConnectionBook) -> Result<(), XlsxError> {
    sheet.set_name(CONNECTION_SHEET)?;
    sheet.set_column_width(0, 28)?;
    sheet.set_column_width(1, 48)?;
    sheet.set_column_width(2, 60)?;
    let mut rows = cursor(sheet);
    rows.bold_row(&SETTING_COLUMNS)?;
    rows.row(&[
        Cell::Text("name"),
        Cell::Text(&book.name),
        Cell::Text("which connection of eventsync.toml this workbook is for"),
    ])?;
    rows.row(&[
        Cell::Text("kind"),
        Cell::Text(&book.kind),
        Cell::Text("cannot be changed by an import"),
    ])?;
    for (key, value) in &book.settings {
        let text;
        let cell = match value {
            toml::Value::String(value) => Cell::Text(value),
            toml::Value::Boolean(flag) => Cell::Flag(*flag),
            // Settings are small counts (hours, sizes), exact in a float.
            toml::Value::Integer(number) => Cell::Number(*number as f64),
            toml::Value::Float(number) => Cell::Number(*number),
            other => {
                text = other.to_string();
                Cell::Text(&text)
            }
        };
        rows.row(&[Cell::Text(key), cell])?;
    }
    for field in &book.secret_fields {
        rows.row(&[
            Cell::Text(field),
            Cell::Text(""),
            Cell::Text("a secret: it stays in eventsync.toml, never exported or imported"),
        ])?;
    }
    Ok(())
}

fn type_sheet(sheet: &mut Worksheet, book: &TypeBook) -> Result<(), XlsxError> {
    sheet.set_name(book.data_type.as_str())?;
    for (column, width) in [
        (0u16, 36.0),
        (1, 32.0),
        (2, 24.0),
        (3, 48.0),
        (4, 12.0),
        (5, 8.0),
    ] {
        sheet.set_column_width(column, width)?;
    }
    let mut rows = cursor(sheet);
    rows.section(SETTINGS, &SETTING_COLUMNS)?;
    rows.row(&[
        Cell::Text("synced"),
        Cell::Flag(book.synced),
        Cell::Text("whether syncs and previews run this data type"),
    ])?;
    if let Some(statuses) = &book.statuses {
        let list = match statuses.as_list() {
            [] => ALL_STATUSES.to_string(),
            names => names.join("\n"),
        };
        rows.row(&[
            Cell::Text("statuses"),
            Cell::Text(&list),
            Cell::Text("vendor statuses imported, one per line; all for every status; empty for the vendor's default"),
        ])?;
    }
    rows.row(&[
        Cell::Text("remove_outdated"),
        Cell::Flag(book.remove_outdated),
        Cell::Text("remove records the vendor no longer has, after a complete full listing"),
    ])?;
    rows.row(&[
        Cell::Text("subscribers"),
        Cell::Text(&book.subscribers.join("\n")),
        Cell::Text("addresses mailed a summary of each run, one per line"),
    ])?;
    if let Some(guests) = &book.guests {
        rows.row(&[
            Cell::Text("extra_invitee_registrations"),
            Cell::Flag(guests.extra_invitee_registrations),
            Cell::Text("register each guest's primary to the guest's sessions"),
        ])?;
        rows.row(&[
            Cell::Text("guest_enrollment_tags"),
            Cell::Flag(guests.guest_enrollment_tags),
            Cell::Text("tag a guest's registrations with the guest's name (guest_tag)"),
        ])?;
    }

    rows.section(MAPPING, &MAPPING_COLUMNS)?;
    for rule in &book.mapping.rules {
        let values = rule
            .values
            .as_ref()
            .and_then(|values| toml::Value::try_from(values).ok())
            .map(|values| values.to_string())
            .unwrap_or_default();
        rows.row(&[
            Cell::Text(&rule.source),
            Cell::Text(&rule.target),
            Cell::Flag(rule.import_empty),
            Cell::Text(&values),
        ])?;
    }

    rows.section(FILTERS, &FILTER_COLUMNS)?;
    for filter in &book.filters {
        let one_of = filter.one_of.as_ref().map(|list| list.join("\n"));
        rows.row(&[
            Cell::Text(&filter.field),
            Cell::Text(filter.equals.as_deref().unwrap_or("")),
            Cell::Text(one_of.as_deref().unwrap_or("")),
            Cell::Text(filter.contains.as_deref().unwrap_or("")),
            Cell::Flag(filter.is_empty),
            Cell::Flag(filter.not),
        ])?;
    }

    rows.section(LABELS, &LABEL_COLUMNS)?;
    for label in &book.labels {
        rows.row(&[Cell::Text(&label.question), Cell::Text(&label.name)])?;
    }
    Ok(())
}

//! Report rows written into an XLSX workbook a row at a time, in rust_xlsxwriter's
//! constant-memory mode: each finished row goes to a temporary file, so a million-row report
//! costs no more memory than a ten-row one.
//!
//! Excel's limits decide the rest: a sheet holds 1,048,576 rows, so a longer report goes on in
//! `report 2`, `report 3`, … each with the header again; a cell holds 32,767 characters, so a
//! longer value is cut there (the CSV report keeps it whole); 16,384 columns at most.

use std::io;
use std::path::{Path, PathBuf};

use rust_xlsxwriter::{Format, Workbook, XlsxError};

/// Rows in one sheet, the header's included.
const SHEET_ROWS: u32 = 1_048_576;
const MAX_COLUMNS: usize = 16_384;
/// Characters in one cell, counted in UTF-16 units as Excel does.
const CELL_UNITS: usize = 32_767;

/// Whether a report at `path` is a workbook: it ends in `.xlsx`.
pub fn is_xlsx(path: &Path) -> bool {
    path.extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("xlsx"))
}

/// A header and rows, written to an XLSX file when finished.
pub struct XlsxTable {
    workbook: Workbook,
    target: PathBuf,
    header: Vec<String>,
    bold: Format,
    sheets: usize,
    /// The next row to write in the current sheet.
    row: u32,
}

fn failed(error: XlsxError) -> io::Error {
    io::Error::other(error)
}

impl XlsxTable {
    pub fn create(target: &Path, header: Vec<String>) -> io::Result<XlsxTable> {
        if header.len() > MAX_COLUMNS {
            return Err(io::Error::other(format!(
                "the report has {} columns and an XLSX sheet holds {MAX_COLUMNS}: write it as CSV",
                header.len()
            )));
        }
        let mut workbook = Workbook::new();
        // Rows wait on the report's own disk, not in a temporary directory that may be memory.
        if let Some(folder) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
            workbook.set_tempdir(folder).map_err(failed)?;
        }
        let mut table = XlsxTable {
            workbook,
            target: target.to_path_buf(),
            header,
            bold: Format::new().set_bold(),
            sheets: 0,
            row: 0,
        };
        table.next_sheet()?;
        Ok(table)
    }

    fn next_sheet(&mut self) -> io::Result<()> {
        let name = match self.sheets {
            0 => "report".to_string(),
            n => format!("report {}", n + 1),
        };
        let sheet = self
            .workbook
            .add_worksheet_with_constant_memory()
            .map_err(failed)?;
        sheet.set_name(name).map_err(failed)?;
        for (column, name) in (0u16..).zip(&self.header) {
            sheet
                .write_string_with_format(0, column, cell(name), &self.bold)
                .map_err(failed)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(failed)?;
        self.sheets += 1;
        self.row = 1;
        Ok(())
    }

    pub fn write_row(&mut self, values: &[String]) -> io::Result<()> {
        if self.row >= SHEET_ROWS {
            self.next_sheet()?;
        }
        let sheet = self
            .workbook
            .worksheet_from_index(self.sheets - 1)
            .map_err(failed)?;
        for (column, value) in (0u16..).zip(values) {
            if !value.is_empty() {
                // Text always, never a formula: vendor values are data, whatever they start with.
                sheet
                    .write_string(self.row, column, cell(value))
                    .map_err(failed)?;
            }
        }
        self.row += 1;
        Ok(())
    }

    pub fn finish(mut self) -> io::Result<()> {
        self.workbook.save(&self.target).map_err(failed)
    }
}

/// `value` cut to what one cell holds.
fn cell(value: &str) -> &str {
    let mut units = 0;
    for (at, character) in value.char_indices() {
        units += character.len_utf16();
        if units > CELL_UNITS {
            return &value[..at];
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut_to_what_a_cell_holds() {
        assert_eq!(cell("short"), "short");
        let long = "é".repeat(CELL_UNITS + 10);
        assert_eq!(cell(&long).chars().count(), CELL_UNITS);
        // A character outside the basic plane takes two units and is never split.
        let wide = "😀".repeat(CELL_UNITS);
        assert_eq!(cell(&wide).chars().count(), CELL_UNITS / 2);
    }
}

//! Report tables written into an XLSX workbook a row at a time, in rust_xlsxwriter's
//! constant-memory mode: each sheet's finished rows go to a temporary file, so a million-row
//! report costs no more memory than a ten-row one, whatever the number of sheets.
//!
//! Each sheet has its header frozen and an autofilter over its rows. In the record columns
//! (after action, external id, changed fields and reason, which stay text) a value is written as
//! what it is ([`typed`]): a number that reads back the same, a date (`2026-03-01`) or a time
//! (`2026-03-01T09:00:00`, with `Z` or no offset — a time at another offset stays text, which
//! keeps the offset), else text; a formula never, whatever a value starts with.
//!
//! Excel's limits decide the rest: a sheet holds 1,048,576 rows, so a longer table goes on in
//! `people 2`, `people 3`, … each with the header again; a cell holds 32,767 characters, so a
//! longer value is cut there (the CSV report keeps it whole); 16,384 columns at most.

use std::io;
use std::path::{Path, PathBuf};

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};

use super::FIXED_COLUMNS;

/// Rows in one sheet, the header's included.
const SHEET_ROWS: u32 = 1_048_576;
const MAX_COLUMNS: usize = 16_384;
/// Characters in one cell, counted in UTF-16 units as Excel does.
const CELL_UNITS: usize = 32_767;
/// Characters in a sheet's name.
const SHEET_NAME_CHARS: usize = 31;

/// Whether a report at `path` is a workbook: it ends in `.xlsx`.
pub fn is_xlsx(path: &Path) -> bool {
    path.extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("xlsx"))
}

/// A report value as a cell holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Typed<'a> {
    Number(f64),
    /// Year, month, day.
    Date(u16, u8, u8),
    /// Year, month, day, hour, minute, second, millisecond.
    DateTime(u16, u8, u8, u16, u8, u8, u16),
    Text(&'a str),
}

/// What a report value is: a number when it is written as one and reads back the same (no
/// leading zero, at most 15 digits, no trailing zero after a decimal point — so `02134` and
/// `1.50` stay text, as do ids too long for a double); a date or a time in ISO 8601 form
/// (`2026-03-01`, `2026-03-01T09:00:00`, `2026-03-01 09:00:00.250Z`) without an offset or at
/// UTC; else text.
pub fn typed(value: &str) -> Typed<'_> {
    if let Some(number) = number(value) {
        return Typed::Number(number);
    }
    date_time(value).unwrap_or(Typed::Text(value))
}

fn number(value: &str) -> Option<f64> {
    let digits = value.strip_prefix('-').unwrap_or(value);
    let (whole, fraction) = match digits.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (digits, None),
    };
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || (whole.len() > 1 && whole.starts_with('0')) {
        return None;
    }
    if let Some(fraction) = fraction
        && (!all_digits(fraction) || fraction.ends_with('0'))
    {
        return None;
    }
    let significant = whole.trim_start_matches('0').len() + fraction.map_or(0, str::len);
    if significant > 15 {
        return None;
    }
    value.parse().ok()
}

fn date_time(value: &str) -> Option<Typed<'_>> {
    let bytes = value.as_bytes();
    let part = |from: usize, to: usize| -> Option<u16> {
        let text = value.get(from..to)?;
        text.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| text.parse().ok())?
    };
    if bytes.len() < 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let (year, month, day) = (part(0, 4)?, part(5, 7)?, part(8, 10)?);
    let month = u8::try_from(month).ok()?;
    let day = u8::try_from(day).ok()?;
    // Excel's dates run from 1900 on.
    if year < 1900 {
        return None;
    }
    ExcelDateTime::from_ymd(year, month, day).ok()?;
    if bytes.len() == 10 {
        return Some(Typed::Date(year, month, day));
    }
    if !matches!(bytes[10], b'T' | b' ') || bytes.len() < 19 || bytes[13] != b':' {
        return None;
    }
    let (hour, minute) = (part(11, 13)?, u8::try_from(part(14, 16)?).ok()?);
    if bytes[16] != b':' {
        return None;
    }
    let second = u8::try_from(part(17, 19)?).ok()?;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut rest = &value[19..];
    let mut milli = 0u16;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let padded = format!("{:0<3}", &fraction[..digits.min(3)]);
        milli = padded.parse().ok()?;
        rest = &fraction[digits..];
    }
    if !matches!(rest, "" | "Z" | "+00:00" | "-00:00" | "+0000") {
        return None;
    }
    ExcelDateTime::from_ymd(year, month, day)
        .ok()?
        .and_hms_milli(hour, minute, second, milli)
        .ok()?;
    Some(Typed::DateTime(
        year, month, day, hour, minute, second, milli,
    ))
}

/// Sheets of header and rows, written to an XLSX file when finished.
pub struct XlsxBook {
    workbook: Workbook,
    target: PathBuf,
    sheets: Vec<Sheet>,
    bold: Format,
    date: Format,
    date_time: Format,
}

/// One table: the sheets it spans, its header, and where its next row goes.
struct Sheet {
    name: String,
    header: Vec<String>,
    /// Indexes in the workbook of the table's sheets, the current one last.
    parts: Vec<usize>,
    /// The next row to write in the current sheet.
    row: u32,
}

fn failed(error: XlsxError) -> io::Error {
    io::Error::other(error)
}

impl XlsxBook {
    pub fn create(target: &Path) -> io::Result<XlsxBook> {
        let mut workbook = Workbook::new();
        // Rows wait on the report's own disk, not in a temporary directory that may be memory.
        if let Some(folder) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
            workbook.set_tempdir(folder).map_err(failed)?;
        }
        Ok(XlsxBook {
            workbook,
            target: target.to_path_buf(),
            sheets: Vec::new(),
            bold: Format::new().set_bold(),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            date_time: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
        })
    }

    /// Adds a table named `name` (a sheet's name, cut to what Excel allows); returns its index
    /// for [`XlsxBook::write_row`].
    pub fn add_sheet(&mut self, name: &str, header: Vec<String>) -> io::Result<usize> {
        if header.len() > MAX_COLUMNS {
            return Err(io::Error::other(format!(
                "the report's {name} have {} columns and an XLSX sheet holds {MAX_COLUMNS}: \
                 write it as CSV",
                header.len()
            )));
        }
        let name: String = name
            .chars()
            .map(|c| match c {
                '[' | ']' | ':' | '*' | '?' | '/' | '\\' => '_',
                other => other,
            })
            .take(SHEET_NAME_CHARS - 3)
            .collect();
        self.sheets.push(Sheet {
            name,
            header,
            parts: Vec::new(),
            row: 0,
        });
        let index = self.sheets.len() - 1;
        self.next_part(index)?;
        Ok(index)
    }

    /// Starts `sheet`'s next part: a worksheet with the header.
    fn next_part(&mut self, sheet: usize) -> io::Result<()> {
        self.close_part(sheet)?;
        let table = &mut self.sheets[sheet];
        let name = match table.parts.len() {
            0 => table.name.clone(),
            n => format!("{} {}", table.name, n + 1),
        };
        let worksheet = self
            .workbook
            .add_worksheet_with_constant_memory()
            .map_err(failed)?;
        worksheet.set_name(name).map_err(failed)?;
        for (column, heading) in (0u16..).zip(&table.header) {
            worksheet
                .write_string_with_format(0, column, cell(heading), &self.bold)
                .map_err(failed)?;
        }
        worksheet.set_freeze_panes(1, 0).map_err(failed)?;
        let index = self.workbook.worksheets().len() - 1;
        table.parts.push(index);
        table.row = 1;
        Ok(())
    }

    /// Puts the autofilter over the rows `sheet`'s current part holds.
    fn close_part(&mut self, sheet: usize) -> io::Result<()> {
        let table = &self.sheets[sheet];
        let (Some(&part), Some(last_column)) =
            (table.parts.last(), table.header.len().checked_sub(1))
        else {
            return Ok(());
        };
        let last_row = table.row.saturating_sub(1);
        let worksheet = self.workbook.worksheet_from_index(part).map_err(failed)?;
        worksheet
            .autofilter(0, 0, last_row, last_column as u16)
            .map_err(failed)?;
        Ok(())
    }

    pub fn write_row(&mut self, sheet: usize, values: &[String]) -> io::Result<()> {
        if self.sheets[sheet].row >= SHEET_ROWS {
            self.next_part(sheet)?;
        }
        let table = &self.sheets[sheet];
        let row = table.row;
        let part = *table.parts.last().unwrap_or(&0);
        let fixed = table
            .header
            .iter()
            .take_while(|heading| {
                heading.as_str() == "data_type" || FIXED_COLUMNS.contains(&heading.as_str())
            })
            .count();
        let worksheet = self.workbook.worksheet_from_index(part).map_err(failed)?;
        for (column, value) in (0u16..).zip(values) {
            if value.is_empty() {
                continue;
            }
            let kind = match usize::from(column) < fixed {
                true => Typed::Text(value),
                false => typed(value),
            };
            match kind {
                Typed::Number(number) => worksheet.write_number(row, column, number),
                Typed::Date(year, month, day) => {
                    let date = ExcelDateTime::from_ymd(year, month, day).map_err(failed)?;
                    worksheet.write_datetime_with_format(row, column, &date, &self.date)
                }
                Typed::DateTime(year, month, day, hour, minute, second, milli) => {
                    let time = ExcelDateTime::from_ymd(year, month, day)
                        .and_then(|date| date.and_hms_milli(hour, minute, second, milli))
                        .map_err(failed)?;
                    worksheet.write_datetime_with_format(row, column, &time, &self.date_time)
                }
                // Text always, never a formula: vendor values are data.
                Typed::Text(text) => worksheet.write_string(row, column, cell(text)),
            }
            .map_err(failed)?;
        }
        self.sheets[sheet].row += 1;
        Ok(())
    }

    pub fn finish(mut self) -> io::Result<()> {
        for sheet in 0..self.sheets.len() {
            self.close_part(sheet)?;
        }
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

    #[test]
    fn values_are_numbers_and_dates_only_when_they_read_back_the_same() {
        // (value, what it is written as)
        let cases = [
            ("42", Typed::Number(42.0)),
            ("-3.25", Typed::Number(-3.25)),
            ("0", Typed::Number(0.0)),
            ("0.5", Typed::Number(0.5)),
            ("02134", Typed::Text("02134")),
            ("1.50", Typed::Text("1.50")),
            ("1e5", Typed::Text("1e5")),
            ("1234567890123456789", Typed::Text("1234567890123456789")),
            ("+44 20 7946 0018", Typed::Text("+44 20 7946 0018")),
            ("", Typed::Text("")),
            ("2026-03-01", Typed::Date(2026, 3, 1)),
            (
                "2026-03-01T09:05:07Z",
                Typed::DateTime(2026, 3, 1, 9, 5, 7, 0),
            ),
            (
                "2026-03-01 09:05:07.25",
                Typed::DateTime(2026, 3, 1, 9, 5, 7, 250),
            ),
            (
                "2026-03-01T09:05:07.123456+00:00",
                Typed::DateTime(2026, 3, 1, 9, 5, 7, 123),
            ),
            (
                "2026-03-01T09:05:07-05:00",
                Typed::Text("2026-03-01T09:05:07-05:00"),
            ),
            ("2026-02-30", Typed::Text("2026-02-30")),
            ("2026-03-01T25:00:00", Typed::Text("2026-03-01T25:00:00")),
            ("1850-01-01", Typed::Text("1850-01-01")),
            ("2026-03-01 and on", Typed::Text("2026-03-01 and on")),
        ];
        for (value, expected) in cases {
            assert_eq!(typed(value), expected, "{value}");
        }
    }
}

//! The run report: one row per record — action, external id, changed fields, reason — then the
//! record's mapped workspace values (`workspace.<field>` columns, in the data type's field
//! order) beside every flattened vendor path it has (sorted), one table per data type, each
//! with only the columns its own records fill.
//!
//! - A CSV report (`preview.csv`) holds every row of every data type in one table — a
//!   `data_type` column first, the union of the columns after —, the file the server keeps per
//!   run and answers `GET /v1/runs/{id}/report` from. [`split_by_type`] then writes each data
//!   type's table on its own beside it, `preview.<data type>.csv`, as the command line does.
//!   Its index, `preview.csv.index` (`index`), says where each row starts, its action and data
//!   type, and holds its values lower-cased to search: a reader pages, filters and searches the
//!   report without reading it whole.
//! - An XLSX report (`.xlsx`) is one workbook with a sheet per data type, the header row frozen
//!   and filtering on; numbers and dates in the record columns are written as numbers and
//!   dates (`xlsx`), and a sheet longer than Excel's 1,048,576 rows goes on in `people 2`, ….
//!   [`csv_to_xlsx`] turns the one-table CSV into the same workbook.
//!
//! Columns are only known once every record has been seen, so rows are spooled to a temporary
//! file per data type as they come and the tables are written at the end, a row at a time;
//! memory stays flat at any size.

mod index;
mod xlsx;

pub use index::{Found, Query, ReportIndex, build as build_index, index_file};
pub use xlsx::{Typed, is_xlsx, typed};

use index::IndexWriter;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The columns every table starts with; the one-table CSV has `data_type` before them.
pub const FIXED_COLUMNS: [&str; 4] = ["action", "external_id", "changed_fields", "reason"];

/// The heading of a workspace field's column: `workspace.first_name`.
pub const WORKSPACE_PREFIX: &str = "workspace.";

/// What one record shows besides its action and reason: its vendor paths and its mapped
/// workspace values, each as text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cells {
    /// Flattened vendor paths and their values.
    pub vendor: Vec<(String, String)>,
    /// Workspace fields and their values, without `external_id` (a column of its own).
    pub fields: Vec<(String, String)>,
}

impl From<Vec<(String, String)>> for Cells {
    fn from(vendor: Vec<(String, String)>) -> Cells {
        Cells {
            vendor,
            fields: Vec::new(),
        }
    }
}

/// One record's line in the report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub data_type: String,
    pub action: String,
    pub external_id: String,
    pub changes: String,
    pub reason: String,
    pub cells: Cells,
}

/// The file of `data_type`'s table beside a CSV report at `target`: `preview.people.csv`.
pub fn type_file(target: &Path, data_type: &str) -> PathBuf {
    let stem = target
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default();
    let extension = target
        .extension()
        .map(|extension| extension.to_string_lossy().into_owned())
        .unwrap_or_else(|| "csv".to_string());
    target.with_file_name(format!("{stem}.{data_type}.{extension}"))
}

/// One data type's rows waiting on disk, and the columns they fill.
struct Spool {
    path: PathBuf,
    writer: BufWriter<File>,
    fields: BTreeSet<String>,
    vendor: BTreeSet<String>,
    /// Where each field sorts: the data type's field order, then custom fields.
    field_order: fn(&str) -> usize,
}

impl Spool {
    /// The workspace columns in the data type's field order, then the vendor paths, sorted.
    fn columns(&self) -> (Vec<String>, Vec<String>) {
        let mut fields: Vec<String> = self.fields.iter().cloned().collect();
        fields.sort_by_key(|name| (self.field_order)(name));
        (fields, self.vendor.iter().cloned().collect())
    }
}

/// Where each field of a data type sorts, by its name.
fn field_order(data_type: &str) -> fn(&str) -> usize {
    use pipeline::DataType;
    match data_type.parse::<DataType>() {
        Ok(DataType::People) => |name| DataType::People.position(name),
        Ok(DataType::Speakers) => |name| DataType::Speakers.position(name),
        Ok(DataType::Sessions) => |name| DataType::Sessions.position(name),
        Ok(DataType::SessionRegistrations) => |name| DataType::SessionRegistrations.position(name),
        Ok(DataType::Locations) => |name| DataType::Locations.position(name),
        Ok(DataType::Sponsors) => |name| DataType::Sponsors.position(name),
        Ok(DataType::SponsorLevels) => |name| DataType::SponsorLevels.position(name),
        Ok(DataType::AirRequests) => |name| DataType::AirRequests.position(name),
        Ok(DataType::HotelRequests) => |name| DataType::HotelRequests.position(name),
        Err(_) => |_| 0,
    }
}

/// Collects rows for a report.
pub struct ReportWriter {
    target: PathBuf,
    /// Each data type's spool, in the order the data types came.
    spools: Vec<(String, Spool)>,
    rows: u64,
}

impl ReportWriter {
    pub fn create(target: &Path) -> std::io::Result<ReportWriter> {
        // The report's folder must take files: say so now, not after the run.
        let probe = spool_path(target, "probe");
        File::create(&probe)?;
        let _ = std::fs::remove_file(&probe);
        Ok(ReportWriter {
            target: target.to_path_buf(),
            spools: Vec::new(),
            rows: 0,
        })
    }

    pub fn add(&mut self, row: &Row) -> std::io::Result<()> {
        let at = match self.spools.iter().position(|(t, _)| *t == row.data_type) {
            Some(at) => at,
            None => {
                let path = spool_path(&self.target, &row.data_type);
                let writer = BufWriter::new(File::create(&path)?);
                self.spools.push((
                    row.data_type.clone(),
                    Spool {
                        path,
                        writer,
                        fields: BTreeSet::new(),
                        vendor: BTreeSet::new(),
                        field_order: field_order(&row.data_type),
                    },
                ));
                self.spools.len() - 1
            }
        };
        let spool = &mut self.spools[at].1;
        for (path, _) in &row.cells.vendor {
            if !spool.vendor.contains(path) {
                spool.vendor.insert(path.clone());
            }
        }
        for (field, _) in &row.cells.fields {
            if !spool.fields.contains(field) {
                spool.fields.insert(field.clone());
            }
        }
        serde_json::to_writer(&mut spool.writer, row)?;
        spool.writer.write_all(b"\n")?;
        self.rows += 1;
        Ok(())
    }

    /// Writes the report and removes the spools; returns the number of rows.
    pub fn finish(mut self) -> std::io::Result<u64> {
        for (_, spool) in &mut self.spools {
            spool.writer.flush()?;
        }
        if is_xlsx(&self.target) {
            self.write_workbook()?;
        } else {
            self.write_csv()?;
        }
        Ok(self.rows)
    }

    fn write_workbook(&self) -> std::io::Result<()> {
        let mut book = xlsx::XlsxBook::create(&self.target)?;
        if self.spools.is_empty() {
            book.add_sheet("report", FIXED_COLUMNS.map(String::from).to_vec())?;
        }
        for (data_type, spool) in &self.spools {
            let (fields, vendor) = spool.columns();
            let sheet = book.add_sheet(data_type, header(&fields, &vendor, false))?;
            for row in spooled(spool)? {
                book.write_row(sheet, &values(row?, &fields, &vendor, false))?;
            }
        }
        book.finish()
    }

    fn write_csv(&self) -> std::io::Result<()> {
        let mut all_fields: Vec<String> = Vec::new();
        let mut all_vendor = BTreeSet::new();
        for (_, spool) in &self.spools {
            let (fields, vendor) = spool.columns();
            for field in fields {
                if !all_fields.contains(&field) {
                    all_fields.push(field);
                }
            }
            all_vendor.extend(vendor);
        }
        let all_vendor: Vec<String> = all_vendor.into_iter().collect();
        // Each record is handed on whole (the writer flushed after it), so the count of bytes
        // handed on is where the next one starts.
        let mut whole = csv::Writer::from_writer(Counted {
            inner: BufWriter::new(File::create(&self.target)?),
            written: 0,
        });
        let headings = header(&all_fields, &all_vendor, true);
        whole.write_record(&headings)?;
        whole.flush()?;
        let mut index = IndexWriter::create(&self.target, &headings)?;
        for (_, spool) in &self.spools {
            for row in spooled(spool)? {
                let start = whole.get_ref().written;
                let values = values(row?, &all_fields, &all_vendor, true);
                whole.write_record(&values)?;
                whole.flush()?;
                index.add(start, &values)?;
            }
        }
        let mut counted = whole.into_inner().map_err(|error| error.into_error())?;
        counted.inner.flush()?;
        index.finish(counted.written)
    }
}

impl Drop for ReportWriter {
    fn drop(&mut self) {
        for (_, spool) in &self.spools {
            let _ = std::fs::remove_file(&spool.path);
        }
    }
}

/// A writer that counts the bytes it is handed. Its `flush` leaves `inner` alone: the CSV
/// writer flushes after every record, and the file is flushed once at the end.
struct Counted<W> {
    inner: W,
    written: u64,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(bytes)?;
        self.written += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn spool_path(target: &Path, data_type: &str) -> PathBuf {
    target.with_extension(format!("{data_type}-{}.tmp", std::process::id()))
}

/// The rows of a spool, read back a line at a time.
fn spooled(spool: &Spool) -> std::io::Result<impl Iterator<Item = std::io::Result<Row>>> {
    let lines = BufReader::new(File::open(&spool.path)?).lines();
    Ok(lines.map(|line| Ok(serde_json::from_str(&line?)?)))
}

/// A table's header: (`data_type`,) the fixed columns, the workspace fields, the vendor paths.
fn header(fields: &[String], vendor: &[String], with_type: bool) -> Vec<String> {
    let mut header: Vec<String> = Vec::new();
    if with_type {
        header.push("data_type".to_string());
    }
    header.extend(FIXED_COLUMNS.map(String::from));
    header.extend(fields.iter().map(|f| format!("{WORKSPACE_PREFIX}{f}")));
    header.extend(vendor.iter().cloned());
    header
}

/// A row's values under [`header`]'s columns.
fn values(row: Row, fields: &[String], vendor: &[String], with_type: bool) -> Vec<String> {
    let mut values = Vec::with_capacity(FIXED_COLUMNS.len() + 1 + fields.len() + vendor.len());
    if with_type {
        values.push(row.data_type);
    }
    values.extend([row.action, row.external_id, row.changes, row.reason]);
    let mut own: BTreeMap<String, String> = row.cells.fields.into_iter().collect();
    values.extend(fields.iter().map(|f| own.remove(f).unwrap_or_default()));
    // Sorted like the columns, so one merge pass places every value.
    let mut sorted = row.cells.vendor;
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut cursor = sorted.into_iter().peekable();
    for column in vendor {
        while cursor.peek().is_some_and(|(path, _)| path < column) {
            cursor.next();
        }
        match cursor.peek() {
            Some((path, _)) if path == column => {
                values.push(cursor.next().map(|(_, v)| v).unwrap_or_default());
            }
            _ => values.push(String::new()),
        }
    }
    values
}

/// How a one-table CSV report divides into a table per data type: each data type, in the order
/// its rows come, with the columns its rows fill (the fixed columns always).
struct Division {
    header: Vec<String>,
    /// Whether the first column is `data_type`; a report without it is one table, `report`.
    typed: bool,
    tables: Vec<(String, Vec<usize>)>,
}

impl Division {
    fn of(csv: &Path) -> std::io::Result<Division> {
        let mut records = read_table(csv)?.into_records();
        let header: Vec<String> = match records.next() {
            Some(record) => record?.iter().map(String::from).collect(),
            None => Vec::new(),
        };
        let typed = header.first().map(String::as_str) == Some("data_type");
        let first_value = usize::from(typed);
        let fixed_end = (first_value + FIXED_COLUMNS.len()).min(header.len());
        let mut filled: Vec<(String, Vec<bool>)> = Vec::new();
        for record in records {
            let record = record?;
            let data_type = Division::data_type_of(typed, &record).to_string();
            let at = match filled.iter().position(|(t, _)| *t == data_type) {
                Some(at) => at,
                None => {
                    filled.push((data_type, vec![false; header.len()]));
                    filled.len() - 1
                }
            };
            for (column, value) in record.iter().enumerate().skip(fixed_end) {
                if !value.is_empty()
                    && let Some(slot) = filled[at].1.get_mut(column)
                {
                    *slot = true;
                }
            }
        }
        let tables = filled
            .into_iter()
            .map(|(data_type, filled)| {
                let mut columns: Vec<usize> = (first_value..header.len())
                    .filter(|&column| column < fixed_end || filled[column])
                    .collect();
                // The whole table has the workspace columns of every data type; each table
                // has its own in its data type's field order.
                let order = field_order(&data_type);
                let workspace = |column: &usize| {
                    header[*column]
                        .strip_prefix(WORKSPACE_PREFIX)
                        .filter(|_| *column >= fixed_end)
                };
                let mut own: Vec<usize> = columns
                    .iter()
                    .copied()
                    .filter(|c| workspace(c).is_some())
                    .collect();
                own.sort_by_key(|column| workspace(column).map(order));
                let mut own = own.into_iter();
                for column in columns.iter_mut() {
                    if workspace(column).is_some() {
                        *column = own.next().unwrap_or(*column);
                    }
                }
                (data_type, columns)
            })
            .collect();
        Ok(Division {
            header,
            typed,
            tables,
        })
    }

    fn data_type_of(typed: bool, record: &csv::StringRecord) -> &str {
        match typed {
            true => record.get(0).unwrap_or_default(),
            false => "report",
        }
    }

    /// Hands each row, as its table's values, to `each` with the table's index.
    fn each_row(
        &self,
        csv: &Path,
        mut each: impl FnMut(usize, Vec<String>) -> std::io::Result<()>,
    ) -> std::io::Result<u64> {
        let mut rows = 0;
        for record in read_table(csv)?.into_records().skip(1) {
            let record = record?;
            let data_type = Division::data_type_of(self.typed, &record);
            if let Some(table) = self.tables.iter().position(|(t, _)| t == data_type) {
                let values = self.tables[table]
                    .1
                    .iter()
                    .map(|&c| record.get(c).unwrap_or_default().to_string())
                    .collect();
                each(table, values)?;
                rows += 1;
            }
        }
        Ok(rows)
    }

    fn headings(&self, table: usize) -> Vec<String> {
        self.tables[table]
            .1
            .iter()
            .map(|&c| self.header[c].clone())
            .collect()
    }
}

fn read_table(csv: &Path) -> std::io::Result<csv::Reader<File>> {
    Ok(csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(csv)?)
}

/// Writes the one-table CSV report at `csv` again as a workbook at `xlsx` — a sheet per data
/// type with the columns its rows fill — a row at a time; returns the number of rows. The
/// server keeps one CSV per run and answers either format from it.
pub fn csv_to_xlsx(csv: &Path, xlsx: &Path) -> std::io::Result<u64> {
    let division = Division::of(csv)?;
    let mut book = xlsx::XlsxBook::create(xlsx)?;
    for (table, (data_type, _)) in division.tables.iter().enumerate() {
        book.add_sheet(data_type, division.headings(table))?;
    }
    if division.tables.is_empty() {
        let skip = usize::from(division.typed);
        book.add_sheet(
            "report",
            division.header.iter().skip(skip).cloned().collect(),
        )?;
    }
    let rows = division.each_row(csv, |table, values| book.write_row(table, &values))?;
    book.finish()?;
    Ok(rows)
}

/// Writes each data type's rows of the one-table CSV report at `csv` into a file of its own
/// beside it ([`type_file`]: `preview.people.csv`), with the columns its rows fill, a row at a
/// time; returns the files written. The command line does this after a run that wrote a CSV
/// report; the server keeps the one table.
pub fn split_by_type(csv: &Path) -> std::io::Result<Vec<PathBuf>> {
    let division = Division::of(csv)?;
    let mut files = Vec::new();
    let mut writers = Vec::new();
    for (table, (data_type, _)) in division.tables.iter().enumerate() {
        let path = type_file(csv, data_type);
        let mut writer = csv::Writer::from_path(&path)?;
        writer.write_record(division.headings(table))?;
        writers.push(writer);
        files.push(path);
    }
    division.each_row(
        csv,
        |table, values| Ok(writers[table].write_record(values)?),
    )?;
    for writer in &mut writers {
        writer.flush()?;
    }
    Ok(files)
}

#[cfg(test)]
mod tests;

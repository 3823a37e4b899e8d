//! The run report: one row per record (action, external id, changed fields, reason) plus every
//! flattened vendor path as a column, written as CSV, or as an XLSX workbook when the report's
//! file name ends in `.xlsx`.
//!
//! Columns are only known once every record has been seen, so rows are spooled to a temporary
//! file as they come and the report is written at the end; memory stays flat at any size.

mod xlsx;

pub use xlsx::is_xlsx;

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One record's line in the report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub data_type: String,
    pub action: String,
    pub external_id: String,
    pub changes: String,
    pub reason: String,
    /// Flattened vendor paths and their values.
    pub paths: Vec<(String, String)>,
}

/// Collects rows for a CSV report.
pub struct ReportWriter {
    target: PathBuf,
    spool_path: PathBuf,
    spool: BufWriter<File>,
    paths: BTreeSet<String>,
    rows: u64,
}

impl ReportWriter {
    pub fn create(target: &Path) -> std::io::Result<ReportWriter> {
        let spool_path = target.with_extension(format!("rows-{}.tmp", std::process::id()));
        let spool = BufWriter::new(File::create(&spool_path)?);
        Ok(ReportWriter {
            target: target.to_path_buf(),
            spool_path,
            spool,
            paths: BTreeSet::new(),
            rows: 0,
        })
    }

    pub fn add(&mut self, row: &Row) -> std::io::Result<()> {
        for (path, _) in &row.paths {
            if !self.paths.contains(path) {
                self.paths.insert(path.clone());
            }
        }
        serde_json::to_writer(&mut self.spool, row)?;
        self.spool.write_all(b"\n")?;
        self.rows += 1;
        Ok(())
    }

    /// Writes the report and removes the spool; returns the number of rows.
    pub fn finish(mut self) -> std::io::Result<u64> {
        self.spool.flush()?;
        let columns: Vec<String> = self.paths.iter().cloned().collect();
        let mut header: Vec<String> = [
            "data_type",
            "action",
            "external_id",
            "changed_fields",
            "reason",
        ]
        .map(String::from)
        .to_vec();
        header.extend(columns.iter().cloned());
        let mut table = Table::create(&self.target, header)?;
        let spool = BufReader::new(File::open(&self.spool_path)?);
        for line in spool.lines() {
            let row: Row = serde_json::from_str(&line?)?;
            let mut values = vec![
                row.data_type,
                row.action,
                row.external_id,
                row.changes,
                row.reason,
            ];
            // Sorted like the columns, so one merge pass places every value.
            let mut sorted = row.paths;
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            let mut cursor = sorted.into_iter().peekable();
            for column in &columns {
                match cursor.peek() {
                    Some((path, _)) if path == column => {
                        values.push(cursor.next().map(|(_, v)| v).unwrap_or_default());
                    }
                    _ => values.push(String::new()),
                }
            }
            table.write_row(&values)?;
        }
        table.finish()?;
        let _ = std::fs::remove_file(&self.spool_path);
        Ok(self.rows)
    }
}

/// Where the report's rows go: CSV or XLSX, by the file's extension.
enum Table {
    Csv(Box<csv::Writer<File>>),
    Xlsx(Box<xlsx::XlsxTable>),
}

impl Table {
    fn create(target: &Path, header: Vec<String>) -> std::io::Result<Table> {
        if is_xlsx(target) {
            return Ok(Table::Xlsx(Box::new(xlsx::XlsxTable::create(
                target, header,
            )?)));
        }
        let mut csv = csv::Writer::from_path(target)?;
        csv.write_record(&header)?;
        Ok(Table::Csv(Box::new(csv)))
    }

    fn write_row(&mut self, values: &[String]) -> std::io::Result<()> {
        match self {
            Table::Csv(csv) => Ok(csv.write_record(values)?),
            Table::Xlsx(xlsx) => xlsx.write_row(values),
        }
    }

    fn finish(self) -> std::io::Result<()> {
        match self {
            Table::Csv(mut csv) => csv.flush(),
            Table::Xlsx(xlsx) => xlsx.finish(),
        }
    }
}

/// Writes the CSV report at `csv` again as a workbook at `xlsx`, a row at a time; returns the
/// number of rows under the header. The server keeps one report per run and answers either
/// format from it.
pub fn csv_to_xlsx(csv: &Path, xlsx: &Path) -> std::io::Result<u64> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(csv)?;
    let mut records = reader.records();
    let header = match records.next() {
        Some(record) => record?.iter().map(String::from).collect(),
        None => Vec::new(),
    };
    let mut table = xlsx::XlsxTable::create(xlsx, header)?;
    let mut rows = 0;
    for record in records {
        let values: Vec<String> = record?.iter().map(String::from).collect();
        table.write_row(&values)?;
        rows += 1;
    }
    table.finish()?;
    Ok(rows)
}

impl Drop for ReportWriter {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.spool_path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_the_union_of_paths() {
        let dir = std::env::temp_dir().join(format!("eventsync-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok();
        let target = dir.join("report.csv");
        let mut writer = ReportWriter::create(&target).expect("create");
        let row = |id: &str, paths: &[(&str, &str)]| Row {
            data_type: "people".into(),
            action: "create".into(),
            external_id: id.into(),
            changes: String::new(),
            reason: String::new(),
            paths: paths
                .iter()
                .map(|(p, v)| (p.to_string(), v.to_string()))
                .collect(),
        };
        writer
            .add(&row("a", &[("id", "a"), ("contact.firstName", "Ada")]))
            .expect("add");
        writer
            .add(&row("b", &[("id", "b"), ("answers.0.value.0", "x,y")]))
            .expect("add");
        assert_eq!(writer.finish().expect("finish"), 2);
        let text = std::fs::read_to_string(&target).expect("read");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "data_type,action,external_id,changed_fields,reason,answers.0.value.0,contact.firstName,id"
        );
        assert_eq!(lines[1], "people,create,a,,,,Ada,a");
        assert_eq!(lines[2], "people,create,b,,,\"x,y\",,b");
        std::fs::remove_dir_all(&dir).ok();
    }

    /// The same rows and columns as the CSV, read back with calamine; converting the CSV gives
    /// the same workbook content.
    #[test]
    fn an_xlsx_report_holds_the_csv_rows() {
        use calamine::{Data, Reader, Xlsx, open_workbook};
        let dir = std::env::temp_dir().join(format!("eventsync-report-x-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok();
        let rows = |target: &Path| {
            let mut writer = ReportWriter::create(target).expect("create");
            for index in 0..3 {
                writer
                    .add(&Row {
                        data_type: "people".into(),
                        action: "create".into(),
                        external_id: format!("id-{index}"),
                        changes: String::new(),
                        reason: String::new(),
                        paths: vec![
                            ("contact.firstName".into(), "=HYPERLINK(\"x\")".into()),
                            (format!("answers.{index}.value"), "x,y".into()),
                        ],
                    })
                    .expect("add");
            }
            writer.finish().expect("finish")
        };
        assert_eq!(rows(&dir.join("report.XLSX")), 3);
        assert_eq!(rows(&dir.join("report.csv")), 3);
        csv_to_xlsx(&dir.join("report.csv"), &dir.join("converted.xlsx")).expect("convert");
        let expected = std::fs::read_to_string(dir.join("report.csv")).expect("csv");
        let expected: Vec<Vec<String>> = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(expected.as_bytes())
            .records()
            .map(|r| r.expect("record").iter().map(String::from).collect())
            .collect();
        for name in ["report.XLSX", "converted.xlsx"] {
            let mut workbook: Xlsx<_> = open_workbook(dir.join(name)).expect("open");
            assert_eq!(workbook.sheet_names(), ["report"]);
            let range = workbook.worksheet_range("report").expect("sheet");
            let read: Vec<Vec<String>> = range
                .rows()
                .map(|row| {
                    row.iter()
                        .map(|cell| match cell {
                            Data::String(text) => text.clone(),
                            Data::Empty => String::new(),
                            other => panic!("only text cells: {other:?}"),
                        })
                        .collect()
                })
                .collect();
            assert_eq!(read.len(), 4, "{name}: header and three rows");
            assert_eq!(
                read[0][..6],
                [
                    "data_type",
                    "action",
                    "external_id",
                    "changed_fields",
                    "reason",
                    "answers.0.value"
                ]
            );
            assert_eq!(read[1][2], "id-0");
            assert_eq!(
                read[1][8], "=HYPERLINK(\"x\")",
                "{name}: a formula stays text"
            );
            assert_eq!(read[1..], expected[1..], "{name}");
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}

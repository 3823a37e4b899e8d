//! The run report: one row per record (action, external id, changed fields, reason) plus every
//! flattened vendor path as a column, written as CSV.
//!
//! Columns are only known once every record has been seen, so rows are spooled to a temporary
//! file as they come and the CSV is written at the end; memory stays flat at any size.

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

    /// Writes the CSV and removes the spool; returns the number of rows.
    pub fn finish(mut self) -> std::io::Result<u64> {
        self.spool.flush()?;
        let columns: Vec<String> = self.paths.iter().cloned().collect();
        let mut csv = csv::Writer::from_path(&self.target)?;
        let mut header = vec![
            "data_type",
            "action",
            "external_id",
            "changed_fields",
            "reason",
        ];
        header.extend(columns.iter().map(String::as_str));
        csv.write_record(&header)?;
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
            csv.write_record(&values)?;
        }
        csv.flush()?;
        drop(csv);
        let _ = std::fs::remove_file(&self.spool_path);
        Ok(self.rows)
    }
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
}

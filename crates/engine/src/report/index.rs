//! A CSV report's index, `<report>.index` beside it: where each row starts in the report, its
//! action and data type, and a lower-cased copy of its values to search. With it a reader pages,
//! filters and searches a report of any size without reading the report: a page reads the
//! index's row table and then only its own rows' bytes; a search reads the search text, which is
//! a fraction of the report.
//!
//! A search looks in what a user reads and types: the data type, the action, the external id,
//! the changes, the reason and the mapped workspace fields (names, emails, companies, ids, …),
//! each row's distinct values once. The vendor paths beside them — most of a report's bytes,
//! and what the workspace fields are mapped from — are not searched.
//!
//! The file, written once and then only read:
//!
//! ```text
//! rows × 24 bytes   each row: its first byte in the report (u64), its search text's first byte
//!                   (u64, from the start of the text), its action and data type (u32 each, as
//!                   positions in the trailer's lists); little-endian
//! text              each row's searched values, lower-cased, each followed by U+001F
//! trailer           JSON: the report's length, the row count, the text's length, the headings,
//!                   the actions and the data types in the order their first rows come
//! 8 bytes           the trailer's length (u64)
//! 8 bytes           `MAGIC`
//! ```
//!
//! [`IndexWriter`] writes it as the report's rows are written; [`build`] writes it for a report
//! that has none (one reading of the report). A value's text never holds U+001F (it becomes a
//! space), and a searched text holds no control character, so a match never spans two values.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{FIXED_COLUMNS, WORKSPACE_PREFIX};

/// The index's last 8 bytes: its kind and format version.
const MAGIC: &[u8; 8] = b"ESRIDX01";
const ROW_BYTES: usize = 24;
/// Ends every value in the search text.
const SEPARATOR: u8 = 0x1f;

/// The index of the CSV report at `report`: `preview.csv.index`.
pub fn index_file(report: &Path) -> PathBuf {
    let mut name = report.as_os_str().to_owned();
    name.push(".index");
    PathBuf::from(name)
}

#[derive(Debug, Serialize, Deserialize)]
struct Trailer {
    report_bytes: u64,
    rows: u64,
    text_bytes: u64,
    headings: Vec<String>,
    actions: Vec<String>,
    data_types: Vec<String>,
}

/// Writes a report's index as its rows are written, a row at a time: the row table goes to the
/// index's temporary file, the search text to a second one appended at the end. The index takes
/// its name only when whole, so a reader never sees part of one.
pub(crate) struct IndexWriter {
    path: PathBuf,
    partial: PathBuf,
    text_path: PathBuf,
    rows: BufWriter<File>,
    text: BufWriter<File>,
    text_bytes: u64,
    row_count: u64,
    headings: Vec<String>,
    action_at: Option<usize>,
    type_at: Option<usize>,
    /// The columns searched: `data_type`, the fixed columns and the workspace fields.
    searched: Vec<usize>,
    actions: Vec<String>,
    data_types: Vec<String>,
    lowered: String,
}

impl IndexWriter {
    /// An index for the report at `report`, whose columns are `headings`.
    pub(crate) fn create(report: &Path, headings: &[String]) -> std::io::Result<IndexWriter> {
        let path = index_file(report);
        let unique = format!(
            "{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|since| since.as_nanos())
                .unwrap_or_default()
        );
        let partial = path.with_extension(format!("index-{unique}.tmp"));
        let text_path = path.with_extension(format!("text-{unique}.tmp"));
        let column = |name: &str| headings.iter().position(|h| h == name);
        let searched = headings
            .iter()
            .enumerate()
            .filter(|(_, heading)| {
                *heading == "data_type"
                    || FIXED_COLUMNS.contains(&heading.as_str())
                    || heading.starts_with(WORKSPACE_PREFIX)
            })
            .map(|(at, _)| at)
            .collect();
        Ok(IndexWriter {
            rows: BufWriter::new(File::create(&partial)?),
            text: BufWriter::new(File::create(&text_path)?),
            path,
            partial,
            text_path,
            text_bytes: 0,
            row_count: 0,
            headings: headings.to_vec(),
            action_at: column("action"),
            type_at: column("data_type"),
            searched,
            actions: Vec::new(),
            data_types: Vec::new(),
            lowered: String::new(),
        })
    }

    /// Adds the row that starts at byte `start` of the report, with its values in column order.
    pub(crate) fn add<S: AsRef<str>>(&mut self, start: u64, values: &[S]) -> std::io::Result<()> {
        let field = |at: Option<usize>| at.and_then(|at| values.get(at)).map_or("", |v| v.as_ref());
        let action = position_of(&mut self.actions, field(self.action_at));
        let data_type = position_of(&mut self.data_types, field(self.type_at));
        let mut row = [0u8; ROW_BYTES];
        row[..8].copy_from_slice(&start.to_le_bytes());
        row[8..16].copy_from_slice(&self.text_bytes.to_le_bytes());
        row[16..20].copy_from_slice(&action.to_le_bytes());
        row[20..].copy_from_slice(&data_type.to_le_bytes());
        self.rows.write_all(&row)?;
        // A value a row holds twice (its id as its external id and as a workspace field) is
        // searched once.
        let mut distinct: Vec<&str> = self
            .searched
            .iter()
            .filter_map(|&at| values.get(at).map(AsRef::as_ref))
            .filter(|value| !value.is_empty())
            .collect();
        distinct.sort_unstable();
        distinct.dedup();
        for value in distinct {
            lower_into(value, &mut self.lowered);
            self.text.write_all(self.lowered.as_bytes())?;
            self.text.write_all(&[SEPARATOR])?;
            self.text_bytes += self.lowered.len() as u64 + 1;
        }
        self.row_count += 1;
        Ok(())
    }

    /// Finishes the index of a report `report_bytes` long and gives it its name.
    pub(crate) fn finish(mut self, report_bytes: u64) -> std::io::Result<()> {
        self.text.flush()?;
        let mut text = File::open(&self.text_path)?;
        std::io::copy(&mut text, &mut self.rows)?;
        let trailer = serde_json::to_vec(&Trailer {
            report_bytes,
            rows: self.row_count,
            text_bytes: self.text_bytes,
            headings: std::mem::take(&mut self.headings),
            actions: std::mem::take(&mut self.actions),
            data_types: std::mem::take(&mut self.data_types),
        })?;
        self.rows.write_all(&trailer)?;
        self.rows.write_all(&(trailer.len() as u64).to_le_bytes())?;
        self.rows.write_all(MAGIC)?;
        self.rows.flush()?;
        std::fs::rename(&self.partial, &self.path)
    }
}

impl Drop for IndexWriter {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.text_path);
        let _ = std::fs::remove_file(&self.partial);
    }
}

/// `value` lower-cased into `into`, U+001F made a space.
fn lower_into(value: &str, into: &mut String) {
    into.clear();
    if value.is_ascii() {
        into.push_str(value);
        into.make_ascii_lowercase();
    } else {
        into.extend(value.chars().flat_map(char::to_lowercase));
    }
    if into.as_bytes().contains(&SEPARATOR) {
        *into = into.replace(char::from(SEPARATOR), " ");
    }
}

/// `value`'s place in `values`, added at the end when new.
fn position_of(values: &mut Vec<String>, value: &str) -> u32 {
    match values.iter().position(|known| known == value) {
        Some(at) => at as u32,
        None => {
            values.push(value.to_string());
            (values.len() - 1) as u32
        }
    }
}

/// Writes the index of the CSV report at `report`, reading the report once: for a report written
/// before reports had one.
pub fn build(report: &Path) -> std::io::Result<()> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(BufReader::new(File::open(report)?));
    let mut record = csv::StringRecord::new();
    let headings: Vec<String> = match reader.read_record(&mut record)? {
        true => record.iter().map(String::from).collect(),
        false => Vec::new(),
    };
    let mut index = IndexWriter::create(report, &headings)?;
    loop {
        let start = reader.position().byte();
        if !reader.read_record(&mut record)? {
            break;
        }
        let values: Vec<&str> = record.iter().collect();
        index.add(start, &values)?;
    }
    index.finish(reader.position().byte())
}

/// Which rows a reader asks for: a row passes when it has the action and data type named (any,
/// when `None`) and one of its values holds `text` (any row, when empty) in any case; `limit`
/// of the rows that pass are given, from the `offset`th.
#[derive(Debug, Clone, Default)]
pub struct Query<'a> {
    pub action: Option<&'a str>,
    pub data_type: Option<&'a str>,
    pub text: &'a str,
    pub offset: usize,
    pub limit: usize,
}

/// The rows a [`Query`] asked for, as row numbers, and how many rows pass it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub rows: Vec<usize>,
    pub matched: usize,
}

/// A report's index as read: the row table and the trailer, the search text left on disk until
/// a search asks for it.
#[derive(Debug)]
pub struct ReportIndex {
    path: PathBuf,
    report_bytes: u64,
    /// Each row's first byte in the report.
    starts: Vec<u64>,
    /// Each row's search text's first byte.
    text_starts: Vec<u64>,
    /// Each row's action and data type, as positions in `actions` and `data_types`.
    kinds: Vec<(u32, u32)>,
    text_bytes: u64,
    pub headings: Vec<String>,
    pub actions: Vec<String>,
    pub data_types: Vec<String>,
}

impl ReportIndex {
    /// The index of the CSV report at `report`; `None` when there is none, or the one there was
    /// not written for this report (another length) or is not whole.
    pub fn open(report: &Path) -> std::io::Result<Option<ReportIndex>> {
        let report_bytes = std::fs::metadata(report)?.len();
        let path = index_file(report);
        let mut file = match File::open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error),
        };
        let length = file.metadata()?.len();
        if length < 16 {
            return Ok(None);
        }
        let mut tail = [0u8; 16];
        file.seek(SeekFrom::Start(length - 16))?;
        file.read_exact(&mut tail)?;
        if &tail[8..] != MAGIC {
            return Ok(None);
        }
        let trailer_bytes = u64::from_le_bytes(tail[..8].try_into().unwrap_or_default());
        let Some(trailer_at) = (length - 16).checked_sub(trailer_bytes) else {
            return Ok(None);
        };
        let mut trailer = vec![0; trailer_bytes as usize];
        file.seek(SeekFrom::Start(trailer_at))?;
        file.read_exact(&mut trailer)?;
        let Ok(trailer) = serde_json::from_slice::<Trailer>(&trailer) else {
            return Ok(None);
        };
        let table_bytes = trailer.rows.saturating_mul(ROW_BYTES as u64);
        if trailer.report_bytes != report_bytes
            || table_bytes.checked_add(trailer.text_bytes) != Some(trailer_at)
        {
            return Ok(None);
        }
        let mut table = vec![0; table_bytes as usize];
        file.seek(SeekFrom::Start(0))?;
        file.read_exact(&mut table)?;
        let rows = trailer.rows as usize;
        let mut index = ReportIndex {
            path,
            report_bytes,
            starts: Vec::with_capacity(rows),
            text_starts: Vec::with_capacity(rows),
            kinds: Vec::with_capacity(rows),
            text_bytes: trailer.text_bytes,
            headings: trailer.headings,
            actions: trailer.actions,
            data_types: trailer.data_types,
        };
        let number = |bytes: &[u8]| u64::from_le_bytes(bytes.try_into().unwrap_or_default());
        let small = |bytes: &[u8]| u32::from_le_bytes(bytes.try_into().unwrap_or_default());
        for row in table.chunks_exact(ROW_BYTES) {
            index.starts.push(number(&row[..8]));
            index.text_starts.push(number(&row[8..16]));
            index.kinds.push((small(&row[16..20]), small(&row[20..])));
        }
        let in_order = |places: &[u64], end: u64| {
            places.windows(2).all(|pair| pair[0] <= pair[1])
                && places.last().is_none_or(|&last| last <= end)
        };
        if !in_order(&index.starts, report_bytes) || !in_order(&index.text_starts, index.text_bytes)
        {
            return Ok(None);
        }
        Ok(Some(index))
    }

    /// How many rows the report has.
    pub fn rows(&self) -> usize {
        self.starts.len()
    }

    /// Where row `row` is in the report: its first byte and the byte after its last.
    pub fn place(&self, row: usize) -> (u64, u64) {
        let end = self
            .starts
            .get(row + 1)
            .copied()
            .unwrap_or(self.report_bytes);
        (self.starts[row], end)
    }

    /// The rows `query` asks for. Only a search reads the search text.
    pub fn find(&self, query: &Query) -> std::io::Result<Found> {
        let mut found = Found {
            rows: Vec::new(),
            matched: 0,
        };
        let wanted = |values: &[String], chosen: Option<&str>| match chosen {
            None => Some(None),
            Some(chosen) => values
                .iter()
                .position(|value| value == chosen)
                .map(|at| Some(at as u32)),
        };
        // A filter naming a value no row has matches nothing.
        let (Some(action), Some(data_type)) = (
            wanted(&self.actions, query.action),
            wanted(&self.data_types, query.data_type),
        ) else {
            return Ok(found);
        };
        let passes = |row: usize| {
            let (row_action, row_type) = self.kinds[row];
            action.is_none_or(|action| action == row_action)
                && data_type.is_none_or(|data_type| data_type == row_type)
        };
        let mut take = |row: usize| {
            if found.matched >= query.offset && found.rows.len() < query.limit {
                found.rows.push(row);
            }
            found.matched += 1;
        };
        let needle: String = query.text.chars().flat_map(char::to_lowercase).collect();
        if needle.is_empty() {
            (0..self.rows()).filter(|&row| passes(row)).for_each(take);
            return Ok(found);
        }
        let text = self.text()?;
        let finder = memchr::memmem::Finder::new(needle.as_bytes());
        let mut from = 0;
        while let Some(at) = finder.find(&text[from..]) {
            let hit = (from + at) as u64;
            // The row holding the hit: the last one starting at or before it.
            let row = self.text_starts.partition_point(|&start| start <= hit) - 1;
            if passes(row) {
                take(row);
            }
            // The rest of the row need not be searched.
            from = match self.text_starts.get(row + 1) {
                Some(&next) => next as usize,
                None => break,
            };
        }
        Ok(found)
    }

    /// The search text, read whole.
    fn text(&self) -> std::io::Result<Vec<u8>> {
        let mut file = File::open(&self.path)?;
        let table_bytes = (self.rows() * ROW_BYTES) as u64;
        file.seek(SeekFrom::Start(table_bytes))?;
        let mut text = vec![0; self.text_bytes as usize];
        file.read_exact(&mut text)?;
        Ok(text)
    }

    /// Rows `rows` of the CSV report at `report`, each read on its own at its place.
    pub fn read_rows(&self, report: &Path, rows: &[usize]) -> std::io::Result<Vec<Vec<String>>> {
        let mut file = File::open(report)?;
        let mut bytes = Vec::new();
        let mut record = csv::StringRecord::new();
        let mut read = Vec::with_capacity(rows.len());
        for &row in rows {
            let (start, end) = self.place(row);
            bytes.resize((end - start) as usize, 0);
            file.seek(SeekFrom::Start(start))?;
            file.read_exact(&mut bytes)?;
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(bytes.as_slice());
            reader.read_record(&mut record)?;
            read.push(record.iter().map(String::from).collect());
        }
        Ok(read)
    }
}

#[cfg(test)]
mod tests;

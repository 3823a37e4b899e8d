//! Runs: the list, starting one from a button, and one run's page — its counts per action and,
//! for a preview, the report as a filterable, paged table of what would change (old → new, and
//! why a record is left out), with "Apply" to sync what was previewed and the downloads.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::Form;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{Api, Failure, Ranged, query, segment};
use super::connections::run_button;
use super::layout::{self, Section, notice, number, text, when};

/// Rows of a report one page shows.
const PAGE: usize = 50;

pub(crate) async fn list(
    api: Api,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Html<String>, Failure> {
    let connection = params.get("connection").map(String::as_str).unwrap_or("");
    let runs = api
        .get(&format!(
            "/v1/runs{}",
            query(&[("connection", connection), ("limit", "50")])
        ))
        .await?;
    let runs = runs["data"].as_array().cloned().unwrap_or_default();
    let body = html! {
        h1 { "Runs" }
        (notice(params.get("notice").map(String::as_str)))
        @if runs.is_empty() {
            p { "No runs yet. Start one from a connection's data types." }
        } @else {
            div.table-wrap {
                table {
                    thead { tr {
                        th.num scope="col" { "Run" } th scope="col" { "Connection" } th scope="col" { "Kind" }
                        th scope="col" { "Status" } th scope="col" { "Started" } th scope="col" { "Ended" }
                        th scope="col" { "Records" }
                    } }
                    tbody {
                        @for run in &runs {
                            tr {
                                td.num { a href={ "/console/runs/" (run["id"]) } { (run["id"]) } }
                                td { (text(&run["connection"])) }
                                td { (text(&run["kind"])) }
                                td { (status(&run["status"])) }
                                td { (when(&run["started_at"])) }
                                td { (when(&run["finished_at"])) }
                                td { (totals_line(&run["counts"])) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page("Runs", Section::Runs, body))
}

fn status(value: &Value) -> Markup {
    let status = value.as_str().unwrap_or("unknown");
    html! { span class={ "badge " (status) } { (status.replace('_', " ")) } }
}

/// Counts per action over every data type of a run, e.g. "12 create · 3 update".
fn action_totals(counts: &Value) -> BTreeMap<String, u64> {
    let mut totals = BTreeMap::new();
    if let Some(types) = counts.as_object() {
        for actions in types.values() {
            for (action, count) in actions.as_object().into_iter().flatten() {
                *totals.entry(action.clone()).or_default() += count.as_u64().unwrap_or(0);
            }
        }
    }
    totals
}

fn totals_line(counts: &Value) -> String {
    let totals = action_totals(counts);
    if totals.is_empty() {
        return "—".into();
    }
    totals
        .iter()
        .map(|(action, count)| format!("{} {action}", number(*count)))
        .collect::<Vec<_>>()
        .join(" · ")
}

#[derive(Deserialize)]
pub(crate) struct StartForm {
    connection: String,
    kind: String,
    data_types: String,
    #[serde(default)]
    full: Option<String>,
}

pub(crate) async fn start(api: Api, Form(form): Form<StartForm>) -> Result<Response, Failure> {
    let data_types: Vec<&str> = form
        .data_types
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    let started = api
        .post(
            "/v1/runs",
            json!({
                "connection": form.connection,
                "kind": form.kind,
                "data_types": data_types,
                "full": form.full.is_some(),
            }),
        )
        .await?;
    let id = started["run_id"].as_i64().unwrap_or_default();
    Ok(Redirect::to(&format!("/console/runs/{id}")).into_response())
}

#[derive(Deserialize, Default, Clone)]
pub(crate) struct ViewerQuery {
    #[serde(default)]
    action: String,
    #[serde(default)]
    data_type: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: usize,
}

pub(crate) async fn show(
    api: Api,
    Path(id): Path<u64>,
    Query(viewer): Query<ViewerQuery>,
) -> Result<Html<String>, Failure> {
    let run = api.get(&format!("/v1/runs/{id}")).await?;
    let running = run["status"].as_str() == Some("running");
    let preview = run["kind"].as_str() == Some("preview");
    let connection = run["connection"].as_str().unwrap_or_default();
    let data_types: Vec<&str> = run["data_types"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let report = if preview && !running {
        let finished_at = run["finished_at"].as_str().unwrap_or_default();
        Some(view(&api, id, finished_at, &viewer).await)
    } else {
        None
    };
    let body = html! {
        h1 { "Run " (id) ": " (text(&run["kind"])) " of " (connection) }
        dl.card {
            dt { "Status" } dd { (status(&run["status"])) }
            dt { "Data types" } dd { (data_types.join(", ")) }
            dt { "Started" } dd { (when(&run["started_at"])) }
            dt { "Ended" } dd { @if running { "still running: this page refreshes itself" } @else { (when(&run["finished_at"])) } }
            dt { "Vendor calls" } dd { (text(&run["api_calls"])) }
        }
        @if running {
            form.inline method="post" action={ "/console/runs/" (id) "/cancel" } {
                button.secondary type="submit" { "Cancel this run" }
            }
        }
        h2 { "Records per action" }
        (counts_table(&run["counts"]))
        @if let Some(errors) = run["errors"].as_array().filter(|e| !e.is_empty()) {
            h2 { "Errors" }
            ul { @for error in errors { li.error { (text(error)) } } }
        }
        @if preview && !running {
            div.actions {
                (run_button(connection, "sync", &data_types, "Apply: sync these data types"))
                a.button.secondary href={ "/console/runs/" (id) "/report?format=csv" } download { "Download CSV" }
                a.button.secondary href={ "/console/runs/" (id) "/report?format=xlsx" } download { "Download XLSX" }
            }
        }
        @match report {
            Some(Ok(filtered)) => { (viewer_table(id, filtered, &viewer)) }
            Some(Err(failure)) => { p.muted { "No report for this run: " (failure.message) } }
            None => {}
        }
        p { a href={ "/console/runs" (query(&[("connection", connection)])) } { "All runs of " (connection) } }
    };
    let page = layout::page(&format!("Run {id}"), Section::Runs, body);
    Ok(if running {
        layout::refreshing(page, 2)
    } else {
        page
    })
}

fn counts_table(counts: &Value) -> Markup {
    let Some(types) = counts.as_object().filter(|t| !t.is_empty()) else {
        return html! { p.muted { "No records yet." } };
    };
    let actions: Vec<String> = action_totals(counts).into_keys().collect();
    html! {
        div.table-wrap {
            table {
                thead { tr { th scope="col" { "Data type" } @for action in &actions { th.num scope="col" { (action) } } } }
                tbody {
                    @for (data_type, by_action) in types {
                        tr {
                            th scope="row" { (data_type) }
                            @for action in &actions { td.num { (number(by_action[action].as_u64().unwrap_or(0))) } }
                        }
                    }
                }
            }
        }
    }
}

/// The report's rows that pass the filters, one page of them, with the number that passed.
struct Filtered {
    headings: Vec<String>,
    rows: Vec<Vec<String>>,
    matched: usize,
    actions: Vec<String>,
    data_types: Vec<String>,
}

/// Where each row of a report starts and what its action and data type are, from one reading of
/// the whole report. A page is then cut from the report's bytes at its rows' places, so neither
/// the first page nor the thousandth reads the rows before it; only a text search looks at every
/// row again. An ended run's report never changes, so the index is kept for the next request.
struct ReportIndex {
    headings: Vec<String>,
    /// Each row's first byte, then the end of the last row.
    starts: Vec<usize>,
    /// Each row's action and data type, as positions in `actions` and `data_types`.
    kinds: Vec<(u16, u16)>,
    actions: Vec<String>,
    data_types: Vec<String>,
}

/// Which report an index was read from: a run, as it ended, and the report's length.
#[derive(Clone, PartialEq, Eq)]
struct ReportKey {
    run: u64,
    finished_at: String,
    length: usize,
}

/// How many reports' indexes are kept (a few MiB each for 100,000 records).
const INDEXES_KEPT: usize = 4;

/// The indexes of the reports viewed last, the latest last.
static INDEXES: Mutex<Vec<(ReportKey, Arc<ReportIndex>)>> = Mutex::new(Vec::new());

/// The page of `report` that `viewer` asks for, off the async workers: the index is read (the
/// first time) and a text search made on the blocking pool.
async fn view_report(
    key: ReportKey,
    report: Bytes,
    viewer: ViewerQuery,
) -> Result<Filtered, csv::Error> {
    let viewed = tokio::task::spawn_blocking(move || {
        let index = report_index(key, &report)?;
        filter_report(&report, &index, &viewer)
    })
    .await;
    viewed.unwrap_or_else(|error| Err(csv::Error::from(std::io::Error::other(error))))
}

/// The page of a run's report `viewer` asks for. The report's length comes first, with its
/// first byte: when its index is kept and no text is searched, only the bytes of the page's rows
/// are asked for; otherwise the whole report, which the index is read from (the first time).
async fn view(
    api: &Api,
    run: u64,
    finished_at: &str,
    viewer: &ViewerQuery,
) -> Result<Result<Filtered, csv::Error>, Failure> {
    let path = format!("/v1/runs/{run}/report");
    let whole = match api.range(&path, 0, 0).await? {
        Ranged::Whole(bytes) => bytes,
        Ranged::Part { total, .. } => {
            let key = ReportKey {
                run,
                finished_at: finished_at.to_string(),
                length: total,
            };
            if viewer.q.trim().is_empty()
                && let Some(index) = kept_index(&key)
            {
                return page_by_range(api, &path, &index, viewer).await.map(Ok);
            }
            api.bytes(&path).await?.1
        }
    };
    let key = ReportKey {
        run,
        finished_at: finished_at.to_string(),
        length: whole.len(),
    };
    Ok(view_report(key, whole, viewer.clone()).await)
}

/// A page without a text search, from the index and the bytes of its rows alone.
async fn page_by_range(
    api: &Api,
    path: &str,
    index: &ReportIndex,
    viewer: &ViewerQuery,
) -> Result<Filtered, Failure> {
    let (rows, matched) = index.page(viewer);
    let mut filtered = Filtered {
        headings: index.headings.clone(),
        rows: Vec::new(),
        matched,
        actions: index.actions.clone(),
        data_types: index.data_types.clone(),
    };
    let (Some(&first), Some(&last)) = (rows.first(), rows.last()) else {
        return Ok(filtered);
    };
    let (start, end) = (index.starts[first], index.starts[last + 1]);
    let bytes = match api.range(path, start, end - 1).await? {
        Ranged::Part { bytes, .. } => bytes,
        Ranged::Whole(bytes) => bytes.slice(start..end),
    };
    for row in rows {
        match index.row_at(&bytes, start, row) {
            Ok(values) => filtered.rows.push(values),
            Err(error) => {
                return Err(Failure {
                    status: axum::http::StatusCode::BAD_GATEWAY,
                    message: format!("the report could not be read: {error}"),
                });
            }
        }
    }
    Ok(filtered)
}

/// The index kept for `key`, if it is.
fn kept_index(key: &ReportKey) -> Option<Arc<ReportIndex>> {
    INDEXES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .find(|(kept, _)| kept == key)
        .map(|(_, index)| index.clone())
}

fn report_index(key: ReportKey, report: &[u8]) -> Result<Arc<ReportIndex>, csv::Error> {
    let kept = |indexes: &mut Vec<(ReportKey, Arc<ReportIndex>)>| {
        indexes
            .iter()
            .position(|(kept, _)| *kept == key)
            .map(|at| indexes.remove(at))
    };
    let mut indexes = INDEXES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (key, index) = match kept(&mut indexes) {
        Some(found) => found,
        None => {
            drop(indexes);
            let index = Arc::new(ReportIndex::read(report)?);
            indexes = INDEXES
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            kept(&mut indexes);
            (key, index)
        }
    };
    if indexes.len() >= INDEXES_KEPT {
        indexes.remove(0);
    }
    indexes.push((key, index.clone()));
    Ok(index)
}

impl ReportIndex {
    fn read(report: &[u8]) -> Result<ReportIndex, csv::Error> {
        let mut reader = csv::Reader::from_reader(report);
        let headings: Vec<String> = reader.headers()?.iter().map(String::from).collect();
        let column = |name: &str| headings.iter().position(|h| h == name);
        let (action_at, type_at) = (column("action"), column("data_type"));
        let mut index = ReportIndex {
            headings: headings.clone(),
            starts: Vec::new(),
            kinds: Vec::new(),
            actions: Vec::new(),
            data_types: Vec::new(),
        };
        let mut record = csv::ByteRecord::new();
        loop {
            let start = reader.position().byte() as usize;
            if !reader.read_byte_record(&mut record)? {
                index.starts.push(report.len());
                return Ok(index);
            }
            let field = |at: Option<usize>| at.and_then(|at| record.get(at)).unwrap_or_default();
            let action = position_of(&mut index.actions, field(action_at));
            let data_type = position_of(&mut index.data_types, field(type_at));
            index.starts.push(start);
            index.kinds.push((action, data_type));
        }
    }

    /// The row `row` of `report`, read on its own from where it starts.
    fn row(&self, report: &[u8], row: usize) -> Result<Vec<String>, csv::Error> {
        self.row_at(report, 0, row)
    }

    /// The row `row`, from `bytes`: the report's bytes from `base` on.
    fn row_at(&self, bytes: &[u8], base: usize, row: usize) -> Result<Vec<String>, csv::Error> {
        let (start, end) = (self.starts[row] - base, self.starts[row + 1] - base);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(&bytes[start..end]);
        let mut record = csv::StringRecord::new();
        reader.read_record(&mut record)?;
        Ok(record.iter().map(String::from).collect())
    }
}

impl ReportIndex {
    /// Without a text search: the rows of the page `viewer` asks for, and how many rows match.
    fn page(&self, viewer: &ViewerQuery) -> (Vec<usize>, usize) {
        let wanted = |values: &[String], chosen: &str| {
            if chosen.is_empty() {
                Some(None)
            } else {
                values
                    .iter()
                    .position(|value| value == chosen)
                    .map(|at| Some(at as u16))
            }
        };
        let (Some(action), Some(data_type)) = (
            wanted(&self.actions, &viewer.action),
            wanted(&self.data_types, &viewer.data_type),
        ) else {
            return (Vec::new(), 0);
        };
        let skip = viewer.page * PAGE;
        let mut rows = Vec::new();
        let mut matched = 0;
        for (row, &(row_action, row_type)) in self.kinds.iter().enumerate() {
            if action.is_some_and(|action| action != row_action)
                || data_type.is_some_and(|data_type| data_type != row_type)
            {
                continue;
            }
            if matched >= skip && rows.len() < PAGE {
                rows.push(row);
            }
            matched += 1;
        }
        (rows, matched)
    }
}

/// `value`'s place in `values`, added at the end when new.
fn position_of(values: &mut Vec<String>, value: &[u8]) -> u16 {
    let value = String::from_utf8_lossy(value);
    match values.iter().position(|known| *known == value) {
        Some(at) => at as u16,
        None => {
            values.push(value.into_owned());
            (values.len() - 1) as u16
        }
    }
}

/// The characters beyond ASCII whose lower case holds an ASCII letter: KELVIN SIGN (k) and
/// LATIN CAPITAL LETTER I WITH DOT ABOVE (i and a combining dot).
const LOWERED_TO_ASCII: [char; 2] = ['\u{212A}', '\u{130}'];

/// Whether a row's CSV text may hold a field containing `needle` (already lower case), said
/// without reading its fields. The CSV holds each field's text as it is (but for a doubled
/// quote), and an ASCII needle found in a lower-cased field comes from ASCII letters of that
/// field (but for [`LOWERED_TO_ASCII`]), which ASCII lower-casing of the whole row finds too.
/// Needles with a quote or beyond ASCII are left to the field-by-field check.
fn may_contain(raw: &[u8], needle: &str, lowered: &mut Vec<u8>) -> bool {
    if !needle.is_ascii() || needle.contains('"') {
        return true;
    }
    lowered.clear();
    lowered.extend_from_slice(raw);
    lowered.make_ascii_lowercase();
    match std::str::from_utf8(lowered) {
        Ok(text) => {
            text.contains(needle)
                || (!raw.is_ascii() && LOWERED_TO_ASCII.iter().any(|&c| text.contains(c)))
        }
        Err(_) => true,
    }
}

fn filter_report(
    report: &[u8],
    index: &ReportIndex,
    viewer: &ViewerQuery,
) -> Result<Filtered, csv::Error> {
    // A filter naming a value no row has (`None`) matches nothing.
    let wanted = |values: &[String], chosen: &str| {
        if chosen.is_empty() {
            Some(None)
        } else {
            values
                .iter()
                .position(|value| value == chosen)
                .map(|at| Some(at as u16))
        }
    };
    let needle = viewer.q.trim().to_lowercase();
    let skip = viewer.page * PAGE;
    let mut filtered = Filtered {
        headings: index.headings.clone(),
        rows: Vec::new(),
        matched: 0,
        actions: index.actions.clone(),
        data_types: index.data_types.clone(),
    };
    let (Some(action), Some(data_type)) = (
        wanted(&index.actions, &viewer.action),
        wanted(&index.data_types, &viewer.data_type),
    ) else {
        return Ok(filtered);
    };
    let mut lowered = Vec::new();
    for (row, &(row_action, row_type)) in index.kinds.iter().enumerate() {
        if action.is_some_and(|action| action != row_action)
            || data_type.is_some_and(|data_type| data_type != row_type)
        {
            continue;
        }
        let shown = filtered.matched >= skip && filtered.rows.len() < PAGE;
        if !needle.is_empty() {
            let raw = &report[index.starts[row]..index.starts[row + 1]];
            if !may_contain(raw, &needle, &mut lowered) {
                continue;
            }
            let values = index.row(report, row)?;
            if !values
                .iter()
                .any(|value| value.to_lowercase().contains(&needle))
            {
                continue;
            }
            if shown {
                filtered.rows.push(values);
            }
        } else if shown {
            filtered.rows.push(index.row(report, row)?);
        }
        filtered.matched += 1;
    }
    Ok(filtered)
}

fn viewer_table(id: u64, filtered: Result<Filtered, csv::Error>, viewer: &ViewerQuery) -> Markup {
    let filtered = match filtered {
        Ok(filtered) => filtered,
        Err(error) => return html! { p.error { "The report could not be read: " (error) } },
    };
    let column = |name: &str| filtered.headings.iter().position(|h| h == name);
    let shown = [
        "data_type",
        "action",
        "external_id",
        "changed_fields",
        "reason",
    ];
    let at: Vec<Option<usize>> = shown.iter().map(|name| column(name)).collect();
    let pages = filtered.matched.div_ceil(PAGE).max(1);
    let link = |page: usize| {
        format!(
            "/console/runs/{id}{}#report",
            query(&[
                ("action", &viewer.action),
                ("data_type", &viewer.data_type),
                ("q", &viewer.q),
                ("page", &page.to_string()),
            ])
        )
    };
    html! {
        h2 #report { "What would change" }
        form.filters method="get" action={ "/console/runs/" (id) "#report" } {
            div {
                label for="action" { "Action" }
                select #action name="action" {
                    option value="" { "every action" }
                    @for action in &filtered.actions {
                        option value=(action) selected[*action == viewer.action] { (action) }
                    }
                }
            }
            div {
                label for="data_type" { "Data type" }
                select #data_type name="data_type" {
                    option value="" { "every data type" }
                    @for data_type in &filtered.data_types {
                        option value=(data_type) selected[*data_type == viewer.data_type] { (data_type) }
                    }
                }
            }
            div {
                label for="q" { "Contains" }
                input #q type="search" name="q" value=(viewer.q) placeholder="an id, a name, a reason";
            }
            div { button type="submit" { "Filter" } }
        }
        p.muted role="status" { (number(filtered.matched as u64)) " records match; page " (viewer.page + 1) " of " (pages) "." }
        div.table-wrap {
            table #changes {
                thead { tr {
                    th scope="col" { "Data type" } th scope="col" { "Action" } th scope="col" { "Record" }
                    th scope="col" { "Changes (old → new)" } th scope="col" { "Reason" }
                } }
                tbody {
                    @for row in &filtered.rows {
                        @let cell = |i: usize| at[i].and_then(|at| row.get(at)).map(String::as_str).unwrap_or_default();
                        tr {
                            td { (cell(0)) }
                            td { span class={ "badge " (cell(1)) } { (cell(1)) } }
                            td { code { (cell(2)) } }
                            td { (changes(cell(3))) }
                            td { (cell(4)) }
                        }
                    }
                }
            }
        }
        nav.pager aria-label="Report pages" {
            @if viewer.page > 0 { a href=(link(viewer.page - 1)) rel="prev" { "← Previous" } }
            @if viewer.page + 1 < pages { a href=(link(viewer.page + 1)) rel="next" { "Next →" } }
        }
    }
}

/// "field: old → new; …" with the old value struck and the new one marked.
fn changes(described: &str) -> Markup {
    html! {
        @for change in described.split("; ").filter(|c| !c.is_empty()) {
            @match change.split_once(" → ") {
                Some((before, after)) => {
                    @let (field, old) = before.split_once(": ").unwrap_or(("", before));
                    div { @if !field.is_empty() { strong { (field) } ": " } del { (old) } span.arrow { " → " } ins { (after) } }
                }
                None => { div { (change) } }
            }
        }
    }
}

/// Asks a running run to stop at its next page boundary; what it stored stays.
pub(crate) async fn cancel(api: Api, Path(id): Path<u64>) -> Result<Response, Failure> {
    api.post(&format!("/v1/runs/{id}/cancel"), json!({}))
        .await?;
    Ok(Redirect::to(&format!("/console/runs/{id}")).into_response())
}

#[derive(Deserialize)]
pub(crate) struct DownloadQuery {
    format: Option<String>,
}

/// The report as the API serves it, downloaded with the console's sign-in.
pub(crate) async fn download(
    api: Api,
    Path(id): Path<u64>,
    Query(download): Query<DownloadQuery>,
) -> Result<Response, Failure> {
    let format = download.format.unwrap_or_else(|| "csv".into());
    let (headers, bytes) = api
        .bytes(&format!(
            "/v1/runs/{id}/report{}",
            query(&[("format", &format)])
        ))
        .await?;
    let mut response = super::api::download(&headers, bytes);
    if !response.headers().contains_key(header::CONTENT_DISPOSITION) {
        let value = format!("attachment; filename=\"run-{id}.{}\"", segment(&format));
        if let Ok(value) = value.parse() {
            response
                .headers_mut()
                .insert(header::CONTENT_DISPOSITION, value);
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "data_type,action,external_id,changed_fields,reason,email\n\
        people,create,a1,,,\"a@x.org\"\n\
        people,update,a2,email: a@x → b@x,,b@x\n\
        people,rejected,a3,,email is not an address,nope\n";

    fn filter_report(report: &[u8], viewer: &ViewerQuery) -> Result<Filtered, csv::Error> {
        super::filter_report(report, &ReportIndex::read(report)?, viewer)
    }

    #[test]
    fn a_page_read_from_its_rows_bytes_alone_is_the_page_read_from_the_whole() {
        let report = REPORT.as_bytes();
        let index = ReportIndex::read(report).unwrap();
        for viewer in [
            ViewerQuery::default(),
            ViewerQuery {
                action: "update".into(),
                ..ViewerQuery::default()
            },
            ViewerQuery {
                action: "nothing like it".into(),
                ..ViewerQuery::default()
            },
        ] {
            let whole = filter_report(report, &viewer).unwrap();
            let (rows, matched) = index.page(&viewer);
            assert_eq!(matched, whole.matched);
            let from_parts: Vec<Vec<String>> = rows
                .iter()
                .map(|&row| {
                    let (start, end) = (index.starts[row], index.starts[row + 1]);
                    index.row_at(&report[start..end], start, row).unwrap()
                })
                .collect();
            assert_eq!(from_parts, whole.rows);
        }
    }

    #[test]
    fn the_viewer_filters_by_action_and_text_and_pages() {
        let all = filter_report(REPORT.as_bytes(), &ViewerQuery::default()).unwrap();
        assert_eq!(all.matched, 3);
        assert_eq!(all.actions, ["create", "update", "rejected"]);
        let updates = filter_report(
            REPORT.as_bytes(),
            &ViewerQuery {
                action: "update".into(),
                ..ViewerQuery::default()
            },
        )
        .unwrap();
        assert_eq!(updates.matched, 1);
        assert_eq!(updates.rows[0][2], "a2");
        let found = filter_report(
            REPORT.as_bytes(),
            &ViewerQuery {
                q: "NOT AN ADDRESS".into(),
                ..ViewerQuery::default()
            },
        )
        .unwrap();
        assert_eq!(found.rows[0][2], "a3");
        let beyond = filter_report(
            REPORT.as_bytes(),
            &ViewerQuery {
                page: 1,
                ..ViewerQuery::default()
            },
        )
        .unwrap();
        assert_eq!((beyond.matched, beyond.rows.len()), (3, 0));
    }

    /// Rows are cut from the report at their places: a quoted line break or quote inside a
    /// field must not move the next row, and a search must still find text the CSV writes
    /// differently (a doubled quote) or that only matches once lower-cased beyond ASCII.
    #[test]
    fn rows_are_found_at_their_places_and_searched_field_by_field() {
        let mut report = String::from("data_type,action,external_id,reason\n");
        for n in 0..(PAGE * 2 + 7) {
            report.push_str(&format!(
                "people,{},p{n},\"line one\nline \"\"two\"\"\"\n",
                if n % 2 == 0 { "create" } else { "update" }
            ));
        }
        report.push_str("sessions,create,s1,ÉCOLE\n");
        report.push_str("sessions,update,s2,Zoë SCHMIDT\n");
        report.push_str("sessions,update,s3,\u{212A}ELVIN\n");
        let bytes = report.as_bytes();
        let index = ReportIndex::read(bytes).unwrap();
        assert_eq!(index.kinds.len(), PAGE * 2 + 10);
        assert_eq!(index.actions, ["create", "update"]);
        assert_eq!(index.data_types, ["people", "sessions"]);
        let last = filter_report(
            bytes,
            &ViewerQuery {
                page: 2,
                ..ViewerQuery::default()
            },
        )
        .unwrap();
        assert_eq!(last.matched, PAGE * 2 + 10);
        assert_eq!(last.rows.len(), 10);
        assert_eq!(last.rows[0][2], format!("p{}", PAGE * 2));
        assert_eq!(last.rows[0][3], "line one\nline \"two\"");
        let updates = filter_report(
            bytes,
            &ViewerQuery {
                action: "update".into(),
                page: 1,
                ..ViewerQuery::default()
            },
        )
        .unwrap();
        assert_eq!(updates.matched, PAGE + 5);
        assert_eq!(updates.rows[0][2], format!("p{}", PAGE * 2 + 1));
        let search = |q: &str| {
            filter_report(
                bytes,
                &ViewerQuery {
                    q: q.into(),
                    ..ViewerQuery::default()
                },
            )
            .unwrap()
            .matched
        };
        assert_eq!(search("LINE \"TWO\""), PAGE * 2 + 7);
        assert_eq!(search("école"), 1);
        assert_eq!(search("P99"), 1);
        assert_eq!(search("schmidt"), 1);
        assert_eq!(search("kelvin"), 1);
        assert_eq!(search("create,p1"), 0, "a match never spans two fields");
        let none = filter_report(
            bytes,
            &ViewerQuery {
                action: "remove".into(),
                ..ViewerQuery::default()
            },
        )
        .unwrap();
        assert_eq!((none.matched, none.actions.len()), (0, 2));
    }

    /// The search's shortcut over a whole row holds only while no other character's lower
    /// case brings in an ASCII letter.
    #[test]
    fn only_the_listed_characters_lower_case_to_ascii() {
        let found: Vec<char> = (0x80..=0x10FFFF)
            .filter_map(char::from_u32)
            .filter(|c| c.to_lowercase().any(|lower| lower.is_ascii()))
            .collect();
        assert_eq!(
            found,
            LOWERED_TO_ASCII.iter().rev().copied().collect::<Vec<_>>()
        );
    }

    #[test]
    fn changes_show_old_and_new() {
        let markup = changes("email: a@x → b@x; note").into_string();
        assert!(markup.contains("<del>a@x</del>"), "{markup}");
        assert!(markup.contains("<ins>b@x</ins>"), "{markup}");
        assert!(markup.contains("<div>note</div>"), "{markup}");
    }
}

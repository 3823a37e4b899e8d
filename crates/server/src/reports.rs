//! `GET /v1/runs/{id}/report`: a preview's report as CSV or as an XLSX workbook, chosen by
//! `?format=` or else by the `Accept` header.
//!
//! The engine writes one CSV per run holding every data type's rows (a `data_type` column
//! first, then the union of the columns; the engine's per-type files beside it are not kept),
//! and that is the CSV served. A workbook is made from it on request — a sheet per data type
//! with the columns its rows fill, numbers and dates typed, each sheet filtered — a row at a
//! time (constant memory), in a temporary file removed once sent.
//!
//! `GET /v1/runs/{id}/report/rows`: a page of the report's rows as JSON, filtered by action and
//! data type and searched for a text, answered from the report's index (`engine::report`'s
//! `preview.csv.index`) and the page's own rows; a report kept without an index gets one the
//! first time it is asked for.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use axum::Json;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use engine::report::ReportIndex;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorAnswer};

/// The media type of an XLSX workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const CSV: &str = "text/csv";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Xlsx,
}

/// The format asked for: `format` when given, else the first of the `Accept` header's types
/// that the route serves; CSV when neither says.
fn format(query: Option<&str>, headers: &HeaderMap) -> ApiResult<Format> {
    match query {
        Some("csv") => return Ok(Format::Csv),
        Some("xlsx") => return Ok(Format::Xlsx),
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "format '{other}' is not csv or xlsx"
            )));
        }
        None => {}
    }
    let Some(accept) = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
    else {
        return Ok(Format::Csv);
    };
    let types: Vec<&str> = accept
        .split(',')
        .filter_map(|part| part.split(';').next())
        .map(str::trim)
        .collect();
    for media_type in &types {
        match *media_type {
            XLSX => return Ok(Format::Xlsx),
            CSV | "text/*" | "*/*" => return Ok(Format::Csv),
            _ => {}
        }
    }
    if types.iter().all(|t| t.is_empty()) {
        return Ok(Format::Csv);
    }
    Err(ApiError::new(
        StatusCode::NOT_ACCEPTABLE,
        "format_unavailable",
        format!("the report is served as {CSV} or {XLSX}, not {accept}"),
    ))
}

pub(crate) async fn run_report(
    state: &AppState,
    id: i64,
    query: Option<&str>,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let format = format(query, headers)?;
    let path = ended_report(state, id).await?;
    if format == Format::Csv
        && let Some(range) = headers
            .get(header::RANGE)
            .and_then(|value| value.to_str().ok())
            .and_then(byte_range)
    {
        return csv_part(&path, range).await;
    }
    let (body, content_type, extension) = match format {
        Format::Csv => (
            tokio::fs::read(&path)
                .await
                .map_err(|error| ApiError::internal("reading the report", error))?,
            "text/csv; charset=utf-8",
            "csv",
        ),
        Format::Xlsx => (workbook(path).await?, XLSX, "xlsx"),
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"run-{id}.{extension}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// The report of run `id`, once the run has ended.
async fn ended_report(state: &AppState, id: i64) -> ApiResult<PathBuf> {
    if let Some(run) = state.store.run(id).await?
        && run.status == store::RUN_STATUS_RUNNING
    {
        return Err(ApiError::conflict(
            "run_in_progress",
            format!("run {id} is still going: its report is ready when it ends"),
        ));
    }
    crate::runs::report_file(state, id).ok_or_else(|| {
        ApiError::not_found(format!(
            "no report for run {id}: reports exist for previews started through the server"
        ))
    })
}

/// Rows a page of `/report/rows` gives unless `limit` says.
const ROWS_DEFAULT: usize = 50;
/// The most rows a page of `/report/rows` gives.
pub const ROWS_MAX: usize = 500;

/// What `/report/rows` was asked for.
#[derive(Debug, Default, PartialEq)]
struct RowsQuery {
    action: Option<String>,
    data_type: Option<String>,
    q: String,
    offset: usize,
    limit: usize,
}

impl RowsQuery {
    fn parse(params: &HashMap<String, String>) -> ApiResult<RowsQuery> {
        let mut query = RowsQuery {
            limit: ROWS_DEFAULT,
            ..RowsQuery::default()
        };
        let chosen = |value: &str| Some(value.to_string()).filter(|value| !value.is_empty());
        for (name, value) in params {
            match name.as_str() {
                "action" => query.action = chosen(value),
                "data_type" => query.data_type = chosen(value),
                "q" => {
                    if value.chars().any(char::is_control) {
                        return Err(ApiError::invalid(
                            "q holds a control character (a tab, a line break, …); search for text on one line",
                        ));
                    }
                    query.q = value.trim().to_string();
                }
                "offset" => {
                    query.offset = value.parse().map_err(|_| {
                        ApiError::invalid(format!(
                            "offset must be a number of rows from 0, not '{value}'"
                        ))
                    })?;
                }
                "limit" => {
                    query.limit = value
                        .parse()
                        .ok()
                        .filter(|limit| (1..=ROWS_MAX).contains(limit))
                        .ok_or_else(|| {
                            ApiError::invalid(format!(
                                "limit must be a number from 1 to {ROWS_MAX}, not '{value}'"
                            ))
                        })?;
                }
                other => {
                    return Err(ApiError::invalid(format!(
                        "'{other}' is not a parameter of the report's rows (action, data_type, q, offset, limit)"
                    )));
                }
            }
        }
        Ok(query)
    }
}

/// A page of a report's rows, as `/report/rows` answers.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReportRows {
    run_id: i64,
    /// The report's columns: `data_type`, `action`, `external_id`, `changed_fields`, `reason`,
    /// the workspace fields (`workspace.<field>`), then the vendor paths.
    columns: Vec<String>,
    /// The page's rows, each a value per column (empty when the record has none).
    rows: Vec<Vec<String>>,
    /// How many rows pass the filters and the search, on every page.
    matched: usize,
    offset: usize,
    limit: usize,
    /// The report's actions, in the order their first rows come.
    actions: Vec<String>,
    /// The report's data types, in the order their first rows come.
    data_types: Vec<String>,
}

/// `GET /v1/runs/{id}/report/rows`.
#[utoipa::path(
    get,
    path = "/v1/runs/{id}/report/rows",
    summary = "A page of a preview's report, filtered and searched",
    description = "The report's rows as JSON, a page at a time: those of one action and one data type when `action` and `data_type` say, and of them those with a value holding `q` (in any case; a value is a cell of the CSV report: an id, a name, an email, a change, a reason). `matched` counts the rows that pass, so a reader pages with `offset` and `limit`. Answered from the report's index, without reading the report: a report kept by an earlier version gets its index the first time it is asked for.",
    params(
        ("id" = i64, Path, description = "a positive number", minimum = 1),
        ("action" = Option<String>, Query, description = "only rows of this action (create, update, cancel, rejected, …); a value no row has matches none"),
        ("data_type" = Option<String>, Query, description = "only rows of this data type; a value no row has matches none"),
        ("q" = Option<String>, Query, description = "only rows with a value holding this text, in any case; no control characters; leading and trailing spaces are ignored"),
        ("offset" = Option<u64>, Query, description = "rows that pass to skip first; 0 when not given", minimum = 0),
        ("limit" = Option<u32>, Query, description = "rows to give at most; 50 when not given", minimum = 1, maximum = 500),
    ),
    responses(
        (status = 200, description = "the page", body = ReportRows),
        (status = 400, description = "a parameter out of its range, a `q` with a control character, or a parameter the route does not take", body = ErrorAnswer),
        (status = 404, description = "the run wrote no report", body = ErrorAnswer),
        (status = 409, description = "the run is still going: its report is ready when it ends", body = ErrorAnswer),
        (status = 500, description = "the report or its index could not be read", body = ErrorAnswer),
    )
)]
pub(crate) async fn report_rows(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<ReportRows>> {
    let id =
        id.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| {
            ApiError::invalid(format!("'{id}' is not a run id (a positive number)"))
        })?;
    let query = RowsQuery::parse(&params)?;
    let path = ended_report(&state, id).await?;
    let page = tokio::task::spawn_blocking(move || rows_page(&path, &query)).await;
    match page {
        Ok(Ok(mut page)) => {
            page.run_id = id;
            Ok(Json(page))
        }
        Ok(Err(error)) => Err(ApiError::internal("reading the report", error)),
        Err(error) => Err(ApiError::internal("reading the report", error)),
    }
}

/// The page of the CSV report at `report` that `query` asks for, from its index (written now
/// when the report has none).
fn rows_page(report: &Path, query: &RowsQuery) -> std::io::Result<ReportRows> {
    let index = match ReportIndex::open(report)? {
        Some(index) => index,
        None => {
            tracing::info!(report = %report.display(), "indexing a report kept without an index");
            engine::report::build_index(report)?;
            ReportIndex::open(report)?
                .ok_or_else(|| std::io::Error::other("the report's new index could not be read"))?
        }
    };
    let found = index.find(&engine::report::Query {
        action: query.action.as_deref(),
        data_type: query.data_type.as_deref(),
        text: &query.q,
        offset: query.offset,
        limit: query.limit,
    })?;
    let rows = index.read_rows(report, &found.rows)?;
    Ok(ReportRows {
        run_id: 0,
        columns: index.headings,
        rows,
        matched: found.matched,
        offset: query.offset,
        limit: query.limit,
        actions: index.actions,
        data_types: index.data_types,
    })
}

/// `bytes=first-last` or `bytes=first-`: one range, the only kind the report is asked for in
/// (the console reads a page of rows at their places). Anything else is answered whole.
fn byte_range(value: &str) -> Option<(u64, Option<u64>)> {
    let (first, last) = value.strip_prefix("bytes=")?.split_once('-')?;
    let first = first.trim().parse().ok()?;
    let last = match last.trim() {
        "" => None,
        last => Some(last.parse().ok()?),
    };
    (last.is_none_or(|last| last >= first)).then_some((first, last))
}

/// Part of the CSV report: a 206 with its place in the whole, or a 416 past its end.
async fn csv_part(
    path: &std::path::Path,
    (first, last): (u64, Option<u64>),
) -> ApiResult<Response> {
    let path = path.to_path_buf();
    let read = tokio::task::spawn_blocking(move || -> std::io::Result<_> {
        use std::io::{Read, Seek};
        let mut file = std::fs::File::open(&path)?;
        let total = file.metadata()?.len();
        if first >= total {
            return Ok((total, None));
        }
        let last = last.map_or(total - 1, |last| last.min(total - 1));
        file.seek(std::io::SeekFrom::Start(first))?;
        let mut part = Vec::with_capacity((last - first + 1) as usize);
        file.take(last - first + 1).read_to_end(&mut part)?;
        Ok((total, Some((last, part))))
    })
    .await
    .map_err(|error| ApiError::internal("reading the report", error))?
    .map_err(|error| ApiError::internal("reading the report", error))?;
    Ok(match read {
        (total, None) => (
            StatusCode::RANGE_NOT_SATISFIABLE,
            [(header::CONTENT_RANGE, format!("bytes */{total}"))],
        )
            .into_response(),
        (total, Some((last, part))) => (
            StatusCode::PARTIAL_CONTENT,
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_RANGE,
                    format!("bytes {first}-{last}/{total}"),
                ),
                (header::ACCEPT_RANGES, "bytes".to_string()),
            ],
            part,
        )
            .into_response(),
    })
}

/// The CSV report at `csv` as a workbook's bytes.
async fn workbook(csv: PathBuf) -> ApiResult<Vec<u8>> {
    let xlsx = csv.with_extension(format!("{}.xlsx", uuid::Uuid::new_v4().simple()));
    let target = xlsx.clone();
    let converted =
        tokio::task::spawn_blocking(move || engine::report::csv_to_xlsx(&csv, &target)).await;
    let bytes = match converted {
        Ok(Ok(_)) => tokio::fs::read(&xlsx).await,
        Ok(Err(error)) => Err(error),
        Err(error) => Err(std::io::Error::other(error)),
    };
    let _ = tokio::fs::remove_file(&xlsx).await;
    bytes.map_err(|error| ApiError::internal("writing the report as XLSX", error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_comes_from_the_query_then_the_accept_header() {
        let accept = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT, value.parse().expect("header"));
            headers
        };
        let none = HeaderMap::new();
        assert_eq!(format(None, &none).ok(), Some(Format::Csv));
        assert_eq!(format(Some("xlsx"), &accept(CSV)).ok(), Some(Format::Xlsx));
        assert_eq!(format(Some("csv"), &accept(XLSX)).ok(), Some(Format::Csv));
        assert_eq!(format(None, &accept(XLSX)).ok(), Some(Format::Xlsx));
        assert_eq!(
            format(None, &accept(&format!("application/json, {XLSX};q=0.9"))).ok(),
            Some(Format::Xlsx)
        );
        assert_eq!(format(None, &accept("*/*")).ok(), Some(Format::Csv));
        assert!(format(None, &accept("application/json")).is_err());
        assert!(format(Some("pdf"), &none).is_err());
    }

    #[test]
    fn one_byte_range_is_read_and_anything_else_is_not() {
        assert_eq!(byte_range("bytes=0-0"), Some((0, Some(0))));
        assert_eq!(byte_range("bytes=10-"), Some((10, None)));
        assert_eq!(byte_range("bytes=5-4"), None);
        assert_eq!(byte_range("bytes=0-1,5-6"), None);
        assert_eq!(byte_range("items=0-1"), None);
        // Past what a file can be, or not a number: answered whole, never a panic.
        assert_eq!(byte_range("bytes=99999999999999999999999-"), None);
        assert_eq!(byte_range("bytes=-5"), None);
        assert_eq!(byte_range("bytes=0-\u{0}"), None);
        assert_eq!(byte_range("bytes=٣-٤"), None);
    }

    #[test]
    fn the_rows_query_is_read_and_checked() {
        let parse = |pairs: &[(&str, &str)]| {
            let params = pairs
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect();
            RowsQuery::parse(&params)
        };
        assert_eq!(
            parse(&[]).ok(),
            Some(RowsQuery {
                limit: ROWS_DEFAULT,
                ..RowsQuery::default()
            })
        );
        assert_eq!(
            parse(&[
                ("action", "update"),
                ("data_type", ""),
                ("q", "  Ada@Example.org "),
                ("offset", "100"),
                ("limit", "500"),
            ])
            .ok(),
            Some(RowsQuery {
                action: Some("update".into()),
                data_type: None,
                q: "Ada@Example.org".into(),
                offset: 100,
                limit: 500,
            })
        );
        for refused in [
            ("limit", "0"),
            ("limit", "501"),
            ("limit", "ten"),
            ("offset", "-1"),
            ("offset", "99999999999999999999999"),
            ("q", "a\tb"),
            ("page", "2"),
        ] {
            let error = parse(&[refused]).expect_err("refused");
            assert_eq!(error.status, StatusCode::BAD_REQUEST, "{refused:?}");
        }
    }

    #[tokio::test]
    async fn a_range_of_the_report_is_its_bytes_with_their_place() {
        let path = std::env::temp_dir().join(format!("eventsync-range-{}.csv", std::process::id()));
        std::fs::write(&path, "action,id\ncreate,1\n").expect("a report");
        let part = csv_part(&path, (11, Some(18))).await.expect("a part");
        assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(part.headers()[header::CONTENT_RANGE], "bytes 11-18/19");
        let body = axum::body::to_bytes(part.into_body(), 100)
            .await
            .expect("the body");
        assert_eq!(&body[..], b"reate,1\n");
        let past = csv_part(&path, (19, None)).await.expect("an answer");
        assert_eq!(past.status(), StatusCode::RANGE_NOT_SATISFIABLE);
        assert_eq!(past.headers()[header::CONTENT_RANGE], "bytes */19");
        let _ = std::fs::remove_file(&path);
    }
}

//! `GET /v1/runs/{id}/report`: a preview's report as CSV or as an XLSX workbook, chosen by
//! `?format=` or else by the `Accept` header.
//!
//! The engine writes one CSV per run holding every data type's rows (a `data_type` column
//! first, then the union of the columns; the engine's per-type files beside it are not kept),
//! and that is the CSV served. A workbook is made from it on request — a sheet per data type
//! with the columns its rows fill, numbers and dates typed, each sheet filtered — a row at a
//! time (constant memory), in a temporary file removed once sent.

use std::path::PathBuf;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::error::{ApiError, ApiResult};

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
    if let Some(run) = state.store.run(id).await?
        && run.status == store::RUN_STATUS_RUNNING
    {
        return Err(ApiError::conflict(
            "run_in_progress",
            format!("run {id} is still going: its report is ready when it ends"),
        ));
    }
    let path = crate::runs::report_file(state, id).ok_or_else(|| {
        ApiError::not_found(format!(
            "no report for run {id}: reports exist for previews started through the server"
        ))
    })?;
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

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
}

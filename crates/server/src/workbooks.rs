//! One connection's configuration as an XLSX workbook over the API, as `eventsync config
//! export` and `config import` make and read it: `GET` writes it (never secrets), `POST` with
//! a workbook in the body shows what it changes and, with `?apply=true`, writes the changes into
//! `eventsync.toml` (comments and secrets kept) and runs on the new configuration at once.

use std::collections::HashMap;
use std::path::PathBuf;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use engine::workbook::{self, WorkbookError};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::{ApiError, ApiResult};

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/v1/connections/{connection}/workbook",
        get(export).post(import),
    )
}

/// A file of this process's own in the temporary folder, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        Scratch(std::env::temp_dir().join(format!(
            "eventsync-workbook-{}.xlsx",
            uuid::Uuid::new_v4().simple()
        )))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn api_error(error: WorkbookError, upload: &std::path::Path) -> ApiError {
    match error {
        WorkbookError::File { path, reason } if path == upload => ApiError::invalid(format!(
            "the file sent is not a workbook eventsync can read: {reason}"
        )),
        WorkbookError::File { path, reason } => ApiError::internal(
            "the configuration file",
            format!("{}: {reason}", path.display()),
        ),
        WorkbookError::Config(error) if error.0.contains("no connection") => {
            ApiError::not_found(error.0)
        }
        other => ApiError::invalid(other.to_string()),
    }
}

async fn export(
    State(state): State<AppState>,
    Path(connection): Path<String>,
) -> ApiResult<Response> {
    if state.connection(&connection).is_none() {
        return Err(ApiError::not_found(format!(
            "no connection named '{connection}'"
        )));
    }
    let config = state.config();
    let name = connection.clone();
    let bytes = tokio::task::spawn_blocking(move || {
        let scratch = Scratch::new();
        workbook::export(&config, &name, &scratch.0)
            .map_err(|error| api_error(error, &scratch.0))?;
        std::fs::read(&scratch.0)
            .map_err(|error| ApiError::internal("reading the workbook written", error))
    })
    .await
    .map_err(|error| ApiError::internal("writing the workbook", error))??;
    let file = format!(
        "attachment; filename=\"{}.xlsx\"",
        connection.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_")
    );
    Ok((
        [
            (header::CONTENT_TYPE, XLSX.to_string()),
            (header::CONTENT_DISPOSITION, file),
        ],
        bytes,
    )
        .into_response())
}

async fn import(
    State(state): State<AppState>,
    Path(connection): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let body = body.map_err(|rejection| {
        ApiError::new(rejection.status(), "invalid_request", rejection.body_text())
    })?;
    let apply = match query.get("apply").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "apply is 'true' or 'false', not '{other}'"
            )));
        }
    };
    if let Some(unknown) = query.keys().find(|key| *key != "apply") {
        return Err(ApiError::invalid(format!(
            "unknown query parameter '{unknown}': only apply is taken"
        )));
    }
    if state.connection(&connection).is_none() {
        return Err(ApiError::not_found(format!(
            "no connection named '{connection}'"
        )));
    }
    if state.settings.config_path.is_none() {
        return Err(ApiError::conflict(
            "no_config_file",
            "this server was started without a configuration file, so it cannot be changed here",
        ));
    }
    let config = state.config();
    let name = connection.clone();
    let (answer, reloaded) = tokio::task::spawn_blocking(move || {
        let scratch = Scratch::new();
        std::fs::write(&scratch.0, &body)
            .map_err(|error| ApiError::internal("keeping the workbook sent", error))?;
        let environment = |name: &str| std::env::var(name).ok();
        let plan = workbook::plan_import(&config, &name, &scratch.0, &environment)
            .map_err(|error| api_error(error, &scratch.0))?;
        let mut reloaded = None;
        if apply && !plan.changes.is_empty() {
            workbook::apply(&plan, &config.path).map_err(|error| api_error(error, &scratch.0))?;
            reloaded = Some(
                engine::Config::parse(&plan.text, &config.path, &environment)
                    .map_err(|error| ApiError::invalid(error.0))?,
            );
        }
        let answer = json!({
            "connection": name,
            "changes": plan.changes.iter().map(|change| json!({
                "change": change.to_string(),
                "detail": change,
            })).collect::<Vec<_>>(),
            "applied": reloaded.is_some(),
            "warnings": plan.warnings,
        });
        Ok::<_, ApiError>((answer, reloaded))
    })
    .await
    .map_err(|error| ApiError::internal("reading the workbook", error))??;
    if let Some(config) = reloaded {
        state.replace_config(config);
    }
    Ok(Json(answer))
}

/// Adds these routes to the OpenAPI document.
pub(crate) fn openapi(document: &mut Value) {
    let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let connection = json!({"name": "connection", "in": "path", "required": true, "schema": {"type": "string", "maxLength": crate::input::IDENTIFIER_MAX}});
    let common = |mut responses: Value| {
        responses["401"] = error("no valid bearer token");
        responses["403"] = error(
            "the caller's address is not allowed, or the token's scope does not allow this operation",
        );
        responses["404"] = error("no such connection");
        if responses.get("400").is_none() {
            responses["400"] =
                error("a name in the path is longer than allowed or holds a NUL character");
        }
        responses
    };
    let item = json!({
        "get": {
            "summary": "The connection's configuration as an XLSX workbook: a connection sheet (never secrets) and a sheet per data type",
            "parameters": [connection],
            "responses": common(json!({
                "200": {"description": "the workbook", "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}
            }))
        },
        "post": {
            "summary": "What a workbook (edited or not) changes in the connection's configuration; with apply=true, writes it",
            "parameters": [connection, {"name": "apply", "in": "query", "required": false, "schema": {"type": "string", "enum": ["true", "false"]}}],
            "requestBody": {"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
            "responses": common(json!({
                "200": {"description": "the changes, whether they were written, and warnings", "content": {"application/json": {"schema": {
                    "type": "object",
                    "required": ["connection", "changes", "applied", "warnings"],
                    "properties": {
                        "connection": {"type": "string"},
                        "changes": {"type": "array", "items": {"type": "object"}},
                        "applied": {"type": "boolean"},
                        "warnings": {"type": "array", "items": {"type": "string"}}
                    }
                }}}},
                "400": error("the file is not a workbook eventsync reads, or it would make a configuration eventsync refuses (the reason, with sheet, row and column)"),
                "409": error("the server has no configuration file")
            }))
        }
    });
    if let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) {
        paths.insert("/v1/connections/{connection}/workbook".into(), item);
    }
}

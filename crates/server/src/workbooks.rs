//! One connection's configuration as an XLSX workbook over the API, as `eventsync config
//! export` and `config import` make and read it: `GET` writes it (never secrets), `POST` with
//! a workbook in the body shows what it changes and, with `?apply=true`, writes the changes into
//! `eventsync.toml` (comments and secrets kept) and runs on the new configuration at once.

use std::collections::HashMap;
use std::path::PathBuf;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use engine::workbook::{self, WorkbookError};
use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{ObjectBuilder, Type};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorAnswer};

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(export, import))
}

/// What a workbook changes in the connection's configuration.
#[derive(Serialize, ToSchema)]
#[schema(as = WorkbookImport)]
pub(crate) struct ImportAnswer {
    connection: String,
    changes: Vec<Change>,
    /// Whether the changes were written.
    applied: bool,
    warnings: Vec<String>,
}

/// One change: in words, and as `engine::workbook` describes it.
#[derive(Serialize, ToSchema)]
#[schema(as = WorkbookChange)]
pub(crate) struct Change {
    change: String,
    detail: Value,
}

/// `apply`, read by [`import`] from the query by hand to name what is wrong with it.
struct ApplyParam;

impl IntoParams for ApplyParam {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            ParameterBuilder::new()
                .name("apply")
                .parameter_in(ParameterIn::Query)
                .description(Some("write the changes (false)"))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some(["true", "false"])),
                ))
                .build(),
        ]
    }
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

#[utoipa::path(
    get,
    path = "/v1/connections/{connection}/workbook",
    summary = "The connection's configuration as an XLSX workbook: a connection sheet (never secrets) and a sheet per data type",
    params(("connection" = String, Path, description = "an id")),
    responses(
        (status = 200, description = "the workbook", body = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 404, description = "no such connection", body = ErrorAnswer),
    )
)]
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

#[utoipa::path(
    post,
    path = "/v1/connections/{connection}/workbook",
    summary = "What a workbook (edited or not) changes in the connection's configuration; with apply=true, writes it",
    params(
        ("connection" = String, Path, description = "an id"),
        ApplyParam,
    ),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 200, description = "the changes, whether they were written, and warnings", body = ImportAnswer),
        (status = 400, description = "the file is not a workbook eventsync reads, or it would make a configuration eventsync refuses (the reason, with sheet, row and column)", body = ErrorAnswer),
        (status = 404, description = "no such connection", body = ErrorAnswer),
        (status = 409, description = "the server has no configuration file", body = ErrorAnswer),
    )
)]
async fn import(
    State(state): State<AppState>,
    Path(connection): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<ImportAnswer>> {
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
        let answer = ImportAnswer {
            connection: name,
            changes: plan
                .changes
                .iter()
                .map(|change| Change {
                    change: change.to_string(),
                    detail: serde_json::to_value(change).unwrap_or(Value::Null),
                })
                .collect(),
            applied: reloaded.is_some(),
            warnings: plan.warnings,
        };
        Ok::<_, ApiError>((answer, reloaded))
    })
    .await
    .map_err(|error| ApiError::internal("reading the workbook", error))??;
    if let Some(config) = reloaded {
        state.replace_config(config);
    }
    Ok(Json(answer))
}

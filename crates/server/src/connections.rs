//! Connections edited over the API: add, read, replace and remove a connection of
//! `eventsync.toml`, and read or set one data type's settings.
//!
//! Every edit is made by `engine::config::edit` — through `toml_edit`, loaded with the normal
//! loader from a temporary file before it replaces the configuration — and the server then
//! runs on the configuration as loaded. Secrets are write-only: a secret sent here is stored
//! encrypted under `EVENTSYNC_SECRET_KEY` (or `EVENTSYNC_SECRET_KEY_FILE`), and answers only
//! say whether each is set (`"client_secret": {"set": true}`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use engine::config::edit::{self, EditError};
use serde_json::{Map, Value, json};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorAnswer};
use crate::openapi::literal_schema;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_connection))
        .routes(routes!(
            get_connection,
            replace_connection,
            remove_connection
        ))
        .routes(routes!(get_data, set_data))
        .routes(routes!(mapping_in_use))
        .merge(crate::workbooks::router())
}

// Written out: a free-form TOML-shaped object; `eventsync config schema` describes its keys.
/// A connection's keys as a client sends them.
pub(crate) struct ConnectionSettings;

impl PartialSchema for ConnectionSettings {
    fn schema() -> RefOr<Schema> {
        literal_schema(json!({
            "type": "object",
            "description": "A connection's keys as in [[connections]] of eventsync.toml (name, kind, the kind's fields, data_types, data, imis…); `eventsync config schema` describes them. A secret given (client_secret, password, key, link_secret) is stored encrypted unless it is a ${NAME} reference; null removes a key.",
            "additionalProperties": true
        }))
    }
}

impl ToSchema for ConnectionSettings {}

// Written out: a free-form TOML-shaped object; `eventsync config schema` describes its keys.
/// A connection as `engine::config::edit::connection_view` shows it.
pub(crate) struct ConnectionShown;

impl PartialSchema for ConnectionShown {
    fn schema() -> RefOr<Schema> {
        literal_schema(json!({
            "type": "object",
            "description": "The connection as eventsync.toml has it (${NAME} references unexpanded); each secret is shown as {\"set\": true|false}, never its value.",
            "additionalProperties": true
        }))
    }
}

impl ToSchema for ConnectionShown {}

// Written out: a free-form TOML-shaped object; `eventsync config schema` describes its keys.
/// One data type's settings, as sent and as `engine::config::edit::data_view` shows them.
pub(crate) struct DataSettings;

impl PartialSchema for DataSettings {
    fn schema() -> RefOr<Schema> {
        literal_schema(json!({
            "type": "object",
            "description": "[connections.data.<type>]: statuses, filters, mapping, labels, remove_outdated, subscribers, and on session_registrations the guest switches.",
            "additionalProperties": true
        }))
    }
}

impl ToSchema for DataSettings {}

/// The answer of [`mapping_in_use`], written out beside it: its rules and answers are the
/// mapping crate's and the connectors' values.
pub(crate) struct MappingInUse;

impl PartialSchema for MappingInUse {
    fn schema() -> RefOr<Schema> {
        literal_schema(json!({
            "type": "object",
            "required": ["default", "rules", "fields", "answers"],
            "properties": {
                "default": {"type": "boolean"},
                "rules": {"type": "array", "items": {"type": "object"}},
                "fields": {"type": "array", "items": {"type": "object"}},
                "answers": {
                    "type": "array",
                    "description": "Where the data type's vendor records hold answers to questions: the list's path, and within each answer the paths of the question's id, the question's text and the value; keyed_by_id when the list is keyed by question id rather than by position; labels when data labels can name its questions",
                    "items": {"type": "object", "properties": {
                        "list": {"type": "string"},
                        "question_id": {"type": "string"},
                        "question_text": {"type": "string"},
                        "value": {"type": "string"},
                        "keyed_by_id": {"type": "boolean"},
                        "labels": {"type": "boolean"}
                    }}
                }
            }
        }))
    }
}

impl ToSchema for MappingInUse {}

/// Where the configuration is, or why it cannot be edited.
fn config_path(state: &AppState) -> ApiResult<std::path::PathBuf> {
    state.settings.config_path.clone().ok_or_else(|| {
        ApiError::conflict(
            "no_config_file",
            "this server was started without a configuration file, so connections cannot be edited here",
        )
    })
}

fn environment(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn api_error(error: EditError) -> ApiError {
    match error {
        EditError::Invalid(error) => ApiError::invalid(error.0),
        EditError::NotFound(name) => {
            ApiError::not_found(format!("no connection named '{name}' in the configuration"))
        }
        error @ EditError::Exists(_) => ApiError::conflict("connection_exists", error.to_string()),
        EditError::NoKey(message) => ApiError::conflict("no_secret_key", message),
        EditError::File(message) => ApiError::internal("the configuration file", message),
    }
}

fn object(body: Result<Bytes, BytesRejection>) -> ApiResult<Map<String, Value>> {
    match crate::routes::json_body::<Value>(body)? {
        Value::Object(fields) => Ok(fields),
        _ => Err(ApiError::invalid(
            "the body must be a JSON object of settings",
        )),
    }
}

/// Runs an edit off the async threads (it reads and writes the file), then puts the new
/// configuration in place.
async fn apply<T: Send + 'static>(
    state: &AppState,
    edit: impl FnOnce(&std::path::Path) -> Result<(T, engine::Config), EditError> + Send + 'static,
) -> ApiResult<T> {
    let path = config_path(state)?;
    let (answer, config) = tokio::task::spawn_blocking(move || edit(&path))
        .await
        .map_err(|error| ApiError::internal("editing the configuration", error))?
        .map_err(api_error)?;
    state.replace_config(config);
    Ok(answer)
}

async fn view(state: &AppState, connection: String) -> ApiResult<Value> {
    let path = config_path(state)?;
    tokio::task::spawn_blocking(move || edit::connection_view(&path, &connection))
        .await
        .map_err(|error| ApiError::internal("reading the configuration", error))?
        .map_err(api_error)
}

#[utoipa::path(
    post,
    path = "/v1/connections",
    summary = "Adds a connection to eventsync.toml, checked as loading the file checks it",
    request_body = ConnectionSettings,
    responses(
        (status = 201, description = "the connection as stored, secrets shown as set or not", body = ConnectionShown),
        (status = 400, description = "the configuration would not load: the loader's message", body = ErrorAnswer),
        (status = 409, description = "a connection has that name, no secret key is configured, or the server has no configuration file", body = ErrorAnswer),
    )
)]
async fn add_connection(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let settings = object(body)?;
    let name = apply(&state, move |path| {
        let config = edit::add_connection(path, &settings, &environment)?;
        let name = settings
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        Ok((name, config))
    })
    .await?;
    Ok((StatusCode::CREATED, Json(view(&state, name).await?)))
}

#[utoipa::path(
    get,
    path = "/v1/connections/{connection}",
    summary = "A connection's settings, secrets shown only as set or not",
    params(("connection" = String, Path, description = "an id")),
    responses(
        (status = 200, description = "the connection", body = ConnectionShown),
        (status = 404, description = "no such connection", body = ErrorAnswer),
        (status = 409, description = "the server has no configuration file", body = ErrorAnswer),
    )
)]
async fn get_connection(
    State(state): State<AppState>,
    UrlPath(connection): UrlPath<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(view(&state, connection).await?))
}

#[utoipa::path(
    put,
    path = "/v1/connections/{connection}",
    summary = "Replaces a connection's settings; secrets and data are kept unless given",
    params(("connection" = String, Path, description = "an id")),
    request_body = ConnectionSettings,
    responses(
        (status = 200, description = "the connection as stored", body = ConnectionShown),
        (status = 400, description = "the edit would make a configuration eventsync refuses (the loader's message), or the body is malformed", body = ErrorAnswer),
        (status = 404, description = "no such connection", body = ErrorAnswer),
        (status = 409, description = "no secret key is configured to store a secret with, or the server has no configuration file", body = ErrorAnswer),
    )
)]
async fn replace_connection(
    State(state): State<AppState>,
    UrlPath(connection): UrlPath<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let settings = object(body)?;
    let name = connection.clone();
    apply(&state, move |path| {
        edit::replace_connection(path, &name, &settings, &environment).map(|c| ((), c))
    })
    .await?;
    Ok(Json(view(&state, connection).await?))
}

#[utoipa::path(
    delete,
    path = "/v1/connections/{connection}",
    summary = "Removes a connection from eventsync.toml",
    params(("connection" = String, Path, description = "an id")),
    responses(
        (status = 204, description = "removed"),
        (status = 400, description = "the configuration would not load without it (an iMIS feed names it)", body = ErrorAnswer),
        (status = 404, description = "no such connection", body = ErrorAnswer),
        (status = 409, description = "the server has no configuration file", body = ErrorAnswer),
    )
)]
async fn remove_connection(
    State(state): State<AppState>,
    UrlPath(connection): UrlPath<String>,
) -> ApiResult<StatusCode> {
    apply(&state, move |path| {
        edit::remove_connection(path, &connection, &environment).map(|c| ((), c))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/v1/connections/{connection}/data/{data_type}",
    summary = "One data type's settings as eventsync.toml gives them ({} when it gives none)",
    params(
        ("connection" = String, Path, description = "an id"),
        ("data_type" = String, Path, description = "an id"),
    ),
    responses(
        (status = 200, description = "the data type's settings", body = DataSettings),
        (status = 404, description = "no such connection or data type", body = ErrorAnswer),
        (status = 409, description = "the server has no configuration file", body = ErrorAnswer),
    )
)]
async fn get_data(
    State(state): State<AppState>,
    UrlPath((connection, data_type)): UrlPath<(String, String)>,
) -> ApiResult<Json<Value>> {
    let path = config_path(&state)?;
    let known = state.connection(&connection).is_some_and(|c| {
        c.vendor
            .data_types()
            .iter()
            .any(|t| t.as_str() == data_type)
    });
    if state.connection(&connection).is_some() && !known {
        return Err(ApiError::not_found(format!(
            "connection '{connection}' has no data type '{data_type}'"
        )));
    }
    let data = tokio::task::spawn_blocking(move || edit::data_view(&path, &connection, &data_type))
        .await
        .map_err(|error| ApiError::internal("reading the configuration", error))?
        .map_err(api_error)?;
    Ok(Json(data))
}

#[utoipa::path(
    put,
    path = "/v1/connections/{connection}/data/{data_type}",
    summary = "Replaces one data type's settings, checked as loading the file checks them",
    params(
        ("connection" = String, Path, description = "an id"),
        ("data_type" = String, Path, description = "an id"),
    ),
    request_body = DataSettings,
    responses(
        (status = 200, description = "the data type's settings as stored", body = DataSettings),
        (status = 400, description = "the edit would make a configuration eventsync refuses (the loader's message), or the body is malformed", body = ErrorAnswer),
        (status = 404, description = "no such connection or data type", body = ErrorAnswer),
        (status = 409, description = "no secret key is configured to store a secret with, or the server has no configuration file", body = ErrorAnswer),
    )
)]
async fn set_data(
    State(state): State<AppState>,
    UrlPath((connection, data_type)): UrlPath<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let settings = object(body)?;
    let data = apply(&state, move |path| {
        let config = edit::set_data(path, &connection, &data_type, &settings, &environment)?;
        let data = edit::data_view(path, &connection, &data_type)?;
        Ok((data, config))
    })
    .await?;
    Ok(Json(data))
}

/// The mapping a data type runs with now: the configured one, or the connector's default, with
/// the workspace fields it may fill and where its vendor records hold answers to questions.
#[utoipa::path(
    get,
    path = "/v1/connections/{connection}/data/{data_type}/mapping",
    summary = "The mapping a data type runs with: the configured one or the connector's default, and the workspace fields it may fill",
    params(
        ("connection" = String, Path, description = "an id"),
        ("data_type" = String, Path, description = "an id"),
    ),
    responses(
        (status = 200, description = "the mapping in use", body = MappingInUse),
        (status = 404, description = "no such connection or data type", body = ErrorAnswer),
    )
)]
async fn mapping_in_use(
    State(state): State<AppState>,
    UrlPath((connection, data_type)): UrlPath<(String, String)>,
) -> ApiResult<Json<Value>> {
    let found = state
        .connection(&connection)
        .ok_or_else(|| ApiError::not_found(format!("no connection named '{connection}'")))?;
    let parsed: pipeline::DataType = data_type
        .parse()
        .map_err(|_| ApiError::not_found(format!("no data type '{data_type}'")))?;
    if !found.vendor.data_types().contains(&parsed) {
        return Err(ApiError::not_found(format!(
            "connection '{connection}' has no data type '{data_type}'"
        )));
    }
    let configured = found
        .data
        .get(&parsed)
        .and_then(|data| data.mapping.clone());
    let default = configured.is_none();
    let mapping = configured.unwrap_or_else(|| found.vendor.default_mapping(parsed));
    Ok(Json(json!({
        "default": default,
        "rules": mapping.rules,
        "fields": parsed
            .fields()
            .iter()
            .map(|field| json!({"name": field.name, "required": field.required, "protected": field.protected}))
            .collect::<Vec<_>>(),
        "answers": found
            .vendor
            .question_answers(parsed)
            .iter()
            .map(|answers| json!({
                "list": answers.paths.list,
                "question_id": answers.paths.question_id,
                "question_text": answers.paths.question_text,
                "value": answers.paths.value,
                "keyed_by_id": answers.keyed_by_id,
                "labels": answers.labels,
            }))
            .collect::<Vec<_>>(),
    })))
}

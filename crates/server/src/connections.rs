//! Connections edited over the API: add, read, replace and remove a connection of
//! `eventsync.toml`, and read or set one data type's settings.
//!
//! Every edit is made by `engine::config::edit` — through `toml_edit`, loaded with the normal
//! loader from a temporary file before it replaces the configuration — and the server then
//! runs on the configuration as loaded. Secrets are write-only: a secret sent here is stored
//! encrypted under `EVENTSYNC_SECRET_KEY` (or `EVENTSYNC_SECRET_KEY_FILE`), and answers only
//! say whether each is set (`"client_secret": {"set": true}`).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use engine::config::edit::{self, EditError};
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::error::{ApiError, ApiResult};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/connections", post(add_connection))
        .route(
            "/v1/connections/{connection}",
            get(get_connection)
                .put(replace_connection)
                .delete(remove_connection),
        )
        .route(
            "/v1/connections/{connection}/data/{data_type}",
            get(get_data).put(set_data),
        )
        .route(
            "/v1/connections/{connection}/data/{data_type}/mapping",
            get(mapping_in_use),
        )
        .merge(crate::workbooks::router())
}

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

async fn get_connection(
    State(state): State<AppState>,
    UrlPath(connection): UrlPath<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(view(&state, connection).await?))
}

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
/// the workspace fields it may fill.
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
    })))
}

/// Adds these routes to the OpenAPI document.
pub(crate) fn openapi(document: &mut Value) {
    let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let settings = json!({
        "type": "object",
        "description": "A connection's keys as in [[connections]] of eventsync.toml (name, kind, the kind's fields, data_types, data, imis…); `eventsync config schema` describes them. A secret given (client_secret, password, key, link_secret) is stored encrypted unless it is a ${NAME} reference; null removes a key.",
        "additionalProperties": true
    });
    let shown = json!({
        "type": "object",
        "description": "The connection as eventsync.toml has it (${NAME} references unexpanded); each secret is shown as {\"set\": true|false}, never its value.",
        "additionalProperties": true
    });
    let data = json!({
        "type": "object",
        "description": "[connections.data.<type>]: statuses, filters, mapping, labels, remove_outdated, subscribers, and on session_registrations the guest switches.",
        "additionalProperties": true
    });
    let connection = json!({"name": "connection", "in": "path", "required": true, "schema": {"type": "string", "maxLength": crate::input::IDENTIFIER_MAX}});
    let data_type = json!({"name": "data_type", "in": "path", "required": true, "schema": {"type": "string", "maxLength": crate::input::IDENTIFIER_MAX}});
    let body = |schema: &Value| json!({"required": true, "content": {"application/json": {"schema": schema}}});
    let answer = |description: &str, schema: &Value| json!({"description": description, "content": {"application/json": {"schema": schema}}});
    let edited = |ok: Value| {
        json!({
            "200": ok,
            "400": error("the edit would make a configuration eventsync refuses (the loader's message), or the body is malformed"),
            "404": error("no such connection"),
            "409": error("no secret key is configured to store a secret with, or the server has no configuration file")
        })
    };
    let mut paths = json!({
        "/v1/connections": {
            "post": {
                "summary": "Adds a connection to eventsync.toml, checked as loading the file checks it",
                "requestBody": body(&settings),
                "responses": {
                    "201": answer("the connection as stored, secrets shown as set or not", &shown),
                    "400": error("the configuration would not load: the loader's message"),
                    "409": error("a connection has that name, no secret key is configured, or the server has no configuration file")
                }
            }
        },
        "/v1/connections/{connection}": {
            "get": {
                "summary": "A connection's settings, secrets shown only as set or not",
                "parameters": [connection],
                "responses": {
                    "200": answer("the connection", &shown),
                    "404": error("no such connection"),
                    "409": error("the server has no configuration file")
                }
            },
            "put": {
                "summary": "Replaces a connection's settings; secrets and data are kept unless given",
                "parameters": [connection],
                "requestBody": body(&settings),
                "responses": edited(answer("the connection as stored", &shown))
            },
            "delete": {
                "summary": "Removes a connection from eventsync.toml",
                "parameters": [connection],
                "responses": {
                    "204": {"description": "removed"},
                    "400": error("the configuration would not load without it (an iMIS feed names it)"),
                    "404": error("no such connection"),
                    "409": error("the server has no configuration file")
                }
            }
        },
        "/v1/connections/{connection}/data/{data_type}/mapping": {
            "get": {
                "summary": "The mapping a data type runs with: the configured one or the connector's default, and the workspace fields it may fill",
                "parameters": [connection, data_type],
                "responses": {
                    "200": answer("the mapping in use", &json!({
                        "type": "object",
                        "required": ["default", "rules", "fields"],
                        "properties": {
                            "default": {"type": "boolean"},
                            "rules": {"type": "array", "items": {"type": "object"}},
                            "fields": {"type": "array", "items": {"type": "object"}}
                        }
                    })),
                    "404": error("no such connection or data type")
                }
            }
        },
        "/v1/connections/{connection}/data/{data_type}": {
            "get": {
                "summary": "One data type's settings as eventsync.toml gives them ({} when it gives none)",
                "parameters": [connection, data_type],
                "responses": {
                    "200": answer("the data type's settings", &data),
                    "404": error("no such connection or data type"),
                    "409": error("the server has no configuration file")
                }
            },
            "put": {
                "summary": "Replaces one data type's settings, checked as loading the file checks them",
                "parameters": [connection, data_type],
                "requestBody": body(&data),
                "responses": edited(answer("the data type's settings as stored", &data))
            }
        }
    });
    // Every operation sits behind the bearer check and the token's scope.
    for item in paths
        .as_object_mut()
        .into_iter()
        .flat_map(|p| p.values_mut())
    {
        for operation in item
            .as_object_mut()
            .into_iter()
            .flat_map(|o| o.values_mut())
        {
            operation["responses"]["401"] = error("no valid bearer token");
            if operation["responses"].get("400").is_none() {
                operation["responses"]["400"] =
                    error("a name in the path is longer than allowed or holds a NUL character");
            }
            operation["responses"]["403"] = error(
                "the caller's address is not allowed, or the token's scope does not allow this operation (`x-required-scope`)",
            );
        }
    }
    let Some(existing) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    if let Value::Object(paths) = paths {
        for (path, operations) in paths {
            let item = existing.entry(path).or_insert_with(|| json!({}));
            if let (Some(item), Value::Object(operations)) = (item.as_object_mut(), operations) {
                item.extend(operations);
            }
        }
    }
}

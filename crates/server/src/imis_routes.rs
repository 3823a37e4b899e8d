//! `POST /v1/connections/{connection}/imis/import-event`: the connection's event as an iMIS
//! Event with its sessions as Functions, read from the workspace (`destinations`' meeting
//! import). With `{"apply": false}` (or no body) the plan only; with `{"apply": true}` the plan,
//! then what saving it did.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use destinations::imis::meeting::{MeetingError, MeetingImport};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::routes::json_body;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportEventRequest {
    #[serde(default)]
    apply: bool,
}

pub(crate) async fn import_event(
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let request: ImportEventRequest = match &body {
        Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => ImportEventRequest::default(),
        _ => json_body(body)?,
    };
    if state.connection(&name).is_none() {
        return Err(ApiError::not_found(format!("no connection named '{name}'")));
    }
    let import =
        MeetingImport::new(&state.config(), &name, state.settings.retry).map_err(api_error)?;
    let plan = import.plan(&state.store).await.map_err(api_error)?;
    let outcome = if request.apply {
        Some(import.apply(&plan).await.map_err(api_error)?)
    } else {
        None
    };
    Ok(Json(json!({"plan": plan, "outcome": outcome})))
}

fn api_error(error: MeetingError) -> ApiError {
    match error {
        MeetingError::Config(message) => ApiError::invalid(message),
        MeetingError::NotSynced { .. } => ApiError::conflict("not_synced", error.to_string()),
        MeetingError::Imis { .. } => {
            tracing::warn!(%error, "iMIS event import failed");
            ApiError::new(StatusCode::BAD_GATEWAY, "imis_error", error.to_string())
        }
        MeetingError::Store(error) => error.into(),
    }
}

/// The route in the OpenAPI document.
pub(crate) fn openapi_path() -> Value {
    let error = |description: &str| {
        json!({
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        })
    };
    let text_or_null = json!({"type": ["string", "null"]});
    let action = json!({"type": "string", "enum": ["create", "update", "unchanged"]});
    let fields = json!({"type": "array", "items": {"type": "string", "enum": ["name", "description", "start", "end"]}});
    let function = json!({
        "type": "object",
        "required": ["code", "function_id", "session_external_id", "name", "action", "changes"],
        "properties": {
            "code": {"type": "string", "maxLength": 20},
            "function_id": {"type": "string", "description": "EVENTID/CODE"},
            "session_external_id": {"type": "string"},
            "name": {"type": "string"},
            "description": text_or_null,
            "start": text_or_null,
            "end": text_or_null,
            "action": action,
            "changes": fields,
            "code_note": {"type": ["string", "null"], "description": "why the code is not the session's own"}
        }
    });
    let plan = json!({
        "type": "object",
        "required": ["connection", "site", "event_id", "action", "event", "changes", "dates", "functions", "kept_in_imis", "left_out", "counts", "warnings"],
        "properties": {
            "connection": {"type": "string"},
            "site": {"type": "string", "description": "the iMIS site's connection"},
            "event_id": {"type": "string", "maxLength": 10},
            "action": action,
            "event": {"type": "object", "properties": {
                "name": {"type": "string"},
                "description": text_or_null,
                "start": text_or_null,
                "end": text_or_null
            }},
            "changes": fields,
            "dates": {"type": "object", "required": ["utc_offset", "from", "note"], "properties": {
                "utc_offset": {"type": "string"},
                "from": {"type": "string", "enum": ["connection", "event", "utc"]},
                "note": {"type": "string"}
            }},
            "functions": {"type": "array", "items": function},
            "kept_in_imis": {"type": "array", "items": {"type": "object", "properties": {
                "code": {"type": "string"},
                "function_id": {"type": "string"},
                "name": {"type": "string"}
            }}},
            "left_out": {"type": "object", "properties": {"hidden": {"type": "integer", "minimum": 0}}},
            "counts": {"type": "object", "properties": {
                "create": {"type": "integer", "minimum": 0},
                "update": {"type": "integer", "minimum": 0},
                "unchanged": {"type": "integer", "minimum": 0},
                "kept_in_imis": {"type": "integer", "minimum": 0}
            }},
            "warnings": {"type": "array", "items": {"type": "string"}}
        }
    });
    let outcome = json!({
        "type": ["object", "null"],
        "properties": {
            "event": action,
            "functions_created": {"type": "integer", "minimum": 0},
            "functions_updated": {"type": "integer", "minimum": 0}
        }
    });
    json!({"post": {
        "summary": "Previews the connection's event as an iMIS Event with its sessions as Functions, read from the workspace; with apply, creates or updates it in the iMIS site its [connections.imis] names",
        "parameters": [{"name": "connection", "in": "path", "required": true, "schema": {"type": "string"}, "description": "the source connection"}],
        "requestBody": {"required": false, "content": {"application/json": {"schema": {
            "type": "object",
            "additionalProperties": false,
            "properties": {"apply": {"type": "boolean", "default": false}}
        }}}},
        "responses": {
            "200": {"description": "the plan, and what applying it did (null unless applied)", "content": {"application/json": {"schema": {
                "type": "object",
                "required": ["plan", "outcome"],
                "properties": {"plan": plan, "outcome": outcome}
            }}}},
            "400": error("the request is malformed, or the connection has no [connections.imis] or an event id iMIS cannot take; the message says what to set"),
            "401": error("no valid bearer token"),
            "403": error("the caller's address is not allowed"),
            "404": error("no such connection or route"),
            "409": error("the workspace holds nothing of the connection's event yet: sync it first"),
            "502": error("iMIS refused or did not answer; the message says how")
        }
    }})
}

//! `POST /v1/connections/{connection}/imis/import-event`: the connection's event as an iMIS
//! Event with its sessions as Functions, read from the workspace (`destinations`' meeting
//! import). With `{"apply": false}` (or no body) the plan only; with `{"apply": true}` the plan,
//! then what saving it did.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use destinations::imis::meeting::{MeetingError, MeetingImport, MeetingOutcome, MeetingPlan};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorAnswer};
use crate::openapi::literal_schema;
use crate::routes::json_body;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImportEventRequest {
    /// Create or update the event in iMIS; without it, the plan only.
    #[serde(default)]
    apply: bool,
}

/// The plan, and what applying it did (`null` unless applied).
#[derive(Serialize)]
pub(crate) struct ImportAnswer {
    plan: MeetingPlan,
    outcome: Option<MeetingOutcome>,
}

#[utoipa::path(
    post,
    path = "/v1/connections/{connection}/imis/import-event",
    summary = "Previews the connection's event as an iMIS Event with its sessions as Functions, read from the workspace; with apply, creates or updates it in the iMIS site its [connections.imis] names",
    params(("connection" = String, Path, description = "the source connection")),
    request_body(content = Option<ImportEventRequest>, description = "optional: no body is the plan only"),
    responses(
        (status = 200, description = "the plan, and what applying it did (null unless applied)", body = ImportAnswer),
        (status = 400, description = "the request is malformed, or the connection has no [connections.imis] or an event id iMIS cannot take; the message says what to set", body = ErrorAnswer),
        (status = 409, description = "the workspace holds nothing of the connection's event yet: sync it first", body = ErrorAnswer),
        (status = 502, description = "iMIS refused or did not answer; the message says how", body = ErrorAnswer),
    )
)]
pub(crate) async fn import_event(
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<ImportAnswer>> {
    let request: ImportEventRequest = match &body {
        Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => ImportEventRequest::default(),
        // `null`, as the document allows, is no body too.
        _ => json_body::<Option<ImportEventRequest>>(body)?.unwrap_or_default(),
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
    Ok(Json(ImportAnswer { plan, outcome }))
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

/// The schema of the answer, written out: the plan and the outcome are `destinations`' types.
impl PartialSchema for ImportAnswer {
    fn schema() -> RefOr<Schema> {
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
        literal_schema(json!({
            "type": "object",
            "required": ["plan", "outcome"],
            "properties": {"plan": plan, "outcome": outcome}
        }))
    }
}

impl ToSchema for ImportAnswer {
    fn name() -> std::borrow::Cow<'static, str> {
        "ImisImport".into()
    }
}

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
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorAnswer};
use crate::routes::json_body;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImportEventRequest {
    /// Create or update the event in iMIS; without it, the plan only.
    #[serde(default)]
    apply: bool,
}

/// The plan, and what applying it did (`null` unless applied).
#[derive(Serialize, ToSchema)]
#[schema(as = ImisImport)]
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

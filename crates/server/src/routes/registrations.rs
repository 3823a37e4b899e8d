//! Registrations and check-ins as the app sees and makes them: a session's registrations and a
//! person's sessions — imported ones overlaid by the app's writes still on their way — and the
//! writes themselves, checked against the session's capacity under a lock and stored in the
//! outbox before anything is sent.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pipeline::DataType;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use store::{NewOutboxItem, OutboxItem, OutboxOperation, OutboxQuery, OutboxStatus, StoredRecord};
use utoipa::openapi::{ObjectBuilder, Schema, Type};
use utoipa::{IntoParams, ToSchema};

use super::outbox::OutboxItemView;
use super::records::{Record, list_records, record_json};
use super::{MAX_LIMIT, Page, json_body, page_limit, query_params, workspace_connection};
use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorAnswer};

/// One person's registration to a session as the app sees it: imported from the vendor, or
/// written from the app and on its way (or refused).
#[derive(Debug, Clone)]
struct RegistrationView {
    person_id: String,
    session_id: String,
    /// `registered`, `waitlisted`, `pending`, `sent`, `failed`, `local`.
    state: String,
    reason: Option<String>,
    outbox_id: Option<i64>,
}

impl RegistrationView {
    fn counts_as_registered(&self) -> bool {
        matches!(
            self.state.as_str(),
            "registered" | "waitlisted" | "pending" | "sending" | "sent" | "local"
        )
    }

    fn shown(&self, connection: &str) -> Registration {
        Registration {
            connection: connection.to_string(),
            person_external_id: self.person_id.clone(),
            session_external_id: self.session_id.clone(),
            state: self.state.clone(),
            reason: self.reason.clone(),
            outbox_id: self.outbox_id,
        }
    }
}

/// A registration as the API shows it.
#[derive(Serialize, ToSchema)]
pub(crate) struct Registration {
    connection: String,
    person_external_id: String,
    session_external_id: String,
    #[schema(schema_with = registration_states)]
    state: String,
    reason: Option<String>,
    outbox_id: Option<i64>,
}

fn registration_states() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some([
            "registered",
            "waitlisted",
            "pending",
            "sending",
            "sent",
            "failed",
            "local",
        ]))
        .into()
}

/// One of a person's sessions: their registration, and the session when the workspace has it.
#[derive(Serialize, ToSchema)]
pub(super) struct PersonSession {
    registration: Registration,
    #[schema(value_type = Option<Record>)]
    session: Option<Value>,
}

/// Every registration of the connection matching `session` and/or `person`, imported ones
/// overlaid by the app's later writes.
async fn registrations(
    state: &AppState,
    connection: &str,
    session: Option<&str>,
    person: Option<&str>,
) -> ApiResult<Vec<RegistrationView>> {
    let mut filters = BTreeMap::new();
    if let Some(session) = session {
        filters.insert("session_external_id".to_string(), session.to_string());
    }
    if let Some(person) = person {
        filters.insert("person_external_id".to_string(), person.to_string());
    }
    let mut views: BTreeMap<(String, String), RegistrationView> = BTreeMap::new();
    let mut after = None;
    loop {
        let listing = list_records(
            state,
            connection,
            DataType::SessionRegistrations,
            &filters,
            after,
            MAX_LIMIT,
            &|_| true,
        )
        .await?;
        for record in &listing.data {
            let status = record["status"].as_str().unwrap_or("registered");
            if status == pipeline::CANCELLED {
                continue;
            }
            let person_id = record["person_external_id"].as_str().unwrap_or_default();
            let session_id = record["session_external_id"].as_str().unwrap_or_default();
            // A registration to a workspace session lives in the workspace only.
            let local = record["external_id"]
                .as_str()
                .is_some_and(store::is_local_id);
            views.insert(
                (session_id.to_string(), person_id.to_string()),
                RegistrationView {
                    person_id: person_id.to_string(),
                    session_id: session_id.to_string(),
                    state: if local { "local" } else { status }.to_string(),
                    reason: None,
                    outbox_id: None,
                },
            );
        }
        match listing.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut after_id = None;
    loop {
        let items = state
            .store
            .outbox(&OutboxQuery {
                connection: Some(connection.to_string()),
                session_id: session.map(str::to_string),
                attendee_id: person.map(str::to_string),
                after_id,
                limit: 1000,
                ..OutboxQuery::default()
            })
            .await?;
        for item in &items {
            apply_write(&mut views, item);
        }
        match items.last() {
            Some(last) if items.len() == 1000 => after_id = Some(last.id),
            _ => break,
        }
    }
    Ok(views.into_values().collect())
}

/// Lays an app write over the registrations, in the order the writes were made.
fn apply_write(views: &mut BTreeMap<(String, String), RegistrationView>, item: &OutboxItem) {
    let Some(session_id) = item.session_id.clone() else {
        return;
    };
    let key = (session_id.clone(), item.attendee_id.clone());
    match item.operation {
        OutboxOperation::Enroll => {
            views.insert(
                key,
                RegistrationView {
                    person_id: item.attendee_id.clone(),
                    session_id,
                    state: item.status.as_str().to_string(),
                    reason: item.last_error.clone(),
                    outbox_id: Some(item.id),
                },
            );
        }
        // A refused unenrollment leaves the registration as it was.
        OutboxOperation::Unenroll if item.status != OutboxStatus::Failed => {
            views.remove(&key);
        }
        _ => {}
    }
}

#[utoipa::path(
    get,
    path = "/v1/sessions/{id}/registrations",
    summary = "A session's registrations: imported, and written from the app with their delivery state",
    params(("id" = String, Path, description = "an id"), ConnectionQuery),
    responses((status = 200, description = "the registrations", body = Page<Registration, String>))
)]
pub(super) async fn session_registrations(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<Page<Registration, String>>> {
    let query: ConnectionQuery = query_params(params)?;
    let connection = workspace_connection(&state, query.connection.as_deref())?;
    find_record(&state, &connection, DataType::Sessions, &session_id).await?;
    let views = registrations(&state, &connection, Some(&session_id), None).await?;
    Ok(Json(Page {
        data: views.iter().map(|v| v.shown(&connection)).collect(),
        next: None,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct ConnectionQuery {
    /// The connection.
    connection: Option<String>,
}

#[utoipa::path(
    get,
    path = "/v1/people/{id}/sessions",
    summary = "A person's sessions, with the state of their registration",
    params(("id" = String, Path, description = "an id"), ConnectionQuery),
    responses((status = 200, description = "the sessions", body = Page<PersonSession, String>))
)]
pub(super) async fn person_sessions(
    State(state): State<AppState>,
    Path(person_id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<Page<PersonSession, String>>> {
    let query: ConnectionQuery = query_params(params)?;
    let connection = workspace_connection(&state, query.connection.as_deref())?;
    find_record(&state, &connection, DataType::People, &person_id).await?;
    let views = registrations(&state, &connection, None, Some(&person_id)).await?;
    let ids: Vec<String> = views.iter().map(|v| v.session_id.clone()).collect();
    let sessions = state
        .store
        .records(&connection, DataType::Sessions.as_str(), &ids)
        .await?;
    let data = views
        .iter()
        .filter(|view| view.counts_as_registered() || view.state == "failed")
        .map(|view| PersonSession {
            registration: view.shown(&connection),
            session: sessions
                .get(&view.session_id)
                .map(|s| record_json(&connection, s)),
        })
        .collect();
    Ok(Json(Page { data, next: None }))
}

async fn find_record(
    state: &AppState,
    connection: &str,
    data_type: DataType,
    id: &str,
) -> ApiResult<StoredRecord> {
    let mut found = state
        .store
        .records(connection, data_type.as_str(), &[id.to_string()])
        .await?;
    found.remove(id).ok_or_else(|| {
        ApiError::not_found(format!(
            "the workspace has no {} '{id}' in connection '{connection}'",
            match data_type {
                DataType::People => "person",
                DataType::Sessions => "session",
                _ => data_type.as_str(),
            }
        ))
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RegisterBody {
    person_id: String,
    connection: Option<String>,
}

#[utoipa::path(
    post,
    path = "/v1/sessions/{id}/registrations",
    summary = "Registers a person, checked against the session's capacity, and sends it to the vendor",
    params(("id" = String, Path, description = "an id")),
    request_body = RegisterBody,
    responses(
        (status = 202, description = "stored in the outbox; the worker sends it to the vendor", body = OutboxItemView),
        (status = 201, description = "registered to a session created in the workspace: recorded there only, nothing is sent", body = Registration),
        (status = 409, description = "already registered, or the session is full", body = ErrorAnswer),
    )
)]
pub(super) async fn register(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body: RegisterBody = json_body(body)?;
    let connection = workspace_connection(&state, body.connection.as_deref())?;
    // One registration decision at a time, so that two callers cannot both take the last seat:
    // in this process, and (on PostgreSQL) across every process serving the workspace.
    let _decision = state.registration_lock.lock().await;
    let seats = state
        .store
        .lock(&format!("seats/{connection}/{session_id}"))
        .await?;
    let session = find_record(&state, &connection, DataType::Sessions, &session_id).await?;
    find_record(&state, &connection, DataType::People, &body.person_id).await?;
    let views = registrations(&state, &connection, Some(&session_id), None).await?;
    if views
        .iter()
        .any(|v| v.person_id == body.person_id && v.counts_as_registered())
    {
        return Err(ApiError::conflict(
            "already_registered",
            format!(
                "'{}' is already registered to session '{session_id}'",
                body.person_id
            ),
        ));
    }
    let taken = views.iter().filter(|v| v.counts_as_registered()).count() as u64;
    let shown = record_json(&connection, &session);
    if let Some(capacity) = shown["capacity"].as_u64()
        && taken >= capacity
    {
        return Err(ApiError::conflict(
            "session_full",
            format!("session '{session_id}' is full: {taken} of {capacity} seats taken"),
        ));
    }
    if store::is_local_id(&session_id) {
        let response =
            crate::local::register(&state, &connection, &session_id, &body.person_id).await?;
        seats.release().await?;
        return Ok(response);
    }
    let item = state
        .store
        .enqueue_outbox(&NewOutboxItem {
            connection,
            operation: OutboxOperation::Enroll,
            session_id: Some(session_id),
            attendee_id: body.person_id,
            payload: json!({}),
            local: false,
        })
        .await?;
    // Released only once the registration is stored, so the next decision counts it.
    seats.release().await?;
    state.wake_outbox.notify_one();
    Ok((StatusCode::ACCEPTED, Json(OutboxItemView::from(&item))).into_response())
}

#[utoipa::path(
    delete,
    path = "/v1/sessions/{id}/registrations/{person_id}",
    summary = "Unregisters a person and sends it to the vendor (from a session created in the workspace: removed there, nothing is sent)",
    params(
        ("id" = String, Path, description = "an id"),
        ("person_id" = String, Path, description = "an id"),
        ConnectionQuery,
    ),
    responses(
        (status = 202, description = "stored in the outbox; the worker sends it to the vendor", body = OutboxItemView),
        (status = 204, description = "removed from a session created in the workspace"),
    )
)]
pub(super) async fn unregister(
    State(state): State<AppState>,
    Path((session_id, person_id)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let query: ConnectionQuery = query_params(params)?;
    let connection = workspace_connection(&state, query.connection.as_deref())?;
    let _decision = state.registration_lock.lock().await;
    let views = registrations(&state, &connection, Some(&session_id), Some(&person_id)).await?;
    if !views.iter().any(|v| v.counts_as_registered()) {
        return Err(ApiError::not_found(format!(
            "'{person_id}' is not registered to session '{session_id}'"
        )));
    }
    if store::is_local_id(&session_id) {
        return crate::local::unregister(&state, &connection, &session_id, &person_id).await;
    }
    let item = state
        .store
        .enqueue_outbox(&NewOutboxItem {
            connection,
            operation: OutboxOperation::Unenroll,
            session_id: Some(session_id),
            attendee_id: person_id,
            payload: json!({}),
            local: false,
        })
        .await?;
    state.wake_outbox.notify_one();
    Ok((StatusCode::ACCEPTED, Json(OutboxItemView::from(&item))).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CheckInBody {
    person_id: String,
    connection: Option<String>,
    /// RFC 3339; now when absent.
    #[schema(format = DateTime)]
    at: Option<String>,
}

#[utoipa::path(
    post,
    path = "/v1/check-ins",
    summary = "Checks a person in; sent to the vendor in batches of up to 100",
    request_body = CheckInBody,
    responses((status = 202, description = "stored in the outbox; the worker sends it to the vendor", body = OutboxItemView))
)]
pub(super) async fn check_in(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body: CheckInBody = json_body(body)?;
    let connection = workspace_connection(&state, body.connection.as_deref())?;
    find_record(&state, &connection, DataType::People, &body.person_id).await?;
    let at = match &body.at {
        Some(text) => chrono::DateTime::parse_from_rfc3339(text)
            .map_err(|_| {
                ApiError::invalid(format!(
                    "at '{text}' is not an RFC 3339 time such as 2026-05-01T09:00:00Z"
                ))
            })?
            .with_timezone(&chrono::Utc),
        None => chrono::Utc::now(),
    };
    let item = state
        .store
        .enqueue_outbox(&NewOutboxItem {
            connection,
            operation: OutboxOperation::CheckIn,
            session_id: None,
            attendee_id: body.person_id,
            payload: json!({"checkIn": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)}),
            local: false,
        })
        .await?;
    state.wake_outbox.notify_one();
    Ok((StatusCode::ACCEPTED, Json(OutboxItemView::from(&item))).into_response())
}

/// What the check-ins list takes.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct CheckInParams {
    /// The connection.
    connection: Option<String>,
    /// One person's.
    person_id: Option<String>,
    /// The `next` of the previous page.
    after: Option<i64>,
    /// How many (100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

#[utoipa::path(
    get,
    path = "/v1/check-ins",
    summary = "Check-ins written from the app, with their delivery state",
    params(CheckInParams),
    responses((status = 200, description = "the check-ins", body = Page<OutboxItemView, i64>))
)]
pub(super) async fn list_check_ins(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<Page<OutboxItemView, i64>>> {
    let query: CheckInParams = query_params(params)?;
    let limit = page_limit(query.limit)?;
    let mut data = Vec::new();
    let mut after_id = query.after;
    let mut next = None;
    'pages: loop {
        let items = state
            .store
            .outbox(&OutboxQuery {
                connection: query.connection.clone(),
                attendee_id: query.person_id.clone(),
                after_id,
                limit: 1000,
                ..OutboxQuery::default()
            })
            .await?;
        for item in &items {
            after_id = Some(item.id);
            if item.operation == OutboxOperation::CheckIn {
                data.push(OutboxItemView::from(item));
                if data.len() == limit as usize {
                    next = Some(item.id);
                    break 'pages;
                }
            }
        }
        if items.len() < 1000 {
            break;
        }
    }
    Ok(Json(Page { data, next }))
}

//! Sessions created in the workspace rather than imported (a meet-up the organiser adds in the
//! app, say), and registrations to them. Their ids start with [`store::LOCAL_ID_PREFIX`], which
//! no vendor id does: nothing about them is ever sent to the vendor (a registration is recorded
//! in the workspace only, with no outbox item), and a sync's removal of outdated data passes
//! them by, so they outlive every sync.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use pipeline::{DataType, FieldValue};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use store::{RawJson, StoredRecord};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::routes::records::Record;

/// What `POST /v1/sessions` takes.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewSession {
    connection: Option<String>,
    #[schema(min_length = 1, pattern = r"\S")]
    title: String,
    #[schema(format = DateTime)]
    starts_at: String,
    #[schema(format = DateTime)]
    ends_at: String,
    code: Option<String>,
    description: Option<String>,
    location: Option<String>,
    #[schema(maximum = 4294967295_u64)]
    capacity: Option<u32>,
    #[serde(default)]
    hidden: bool,
}

/// A time from the caller, in the workspace's stored form (UTC, milliseconds).
fn timestamp(field: &str, text: &str) -> ApiResult<String> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| {
            at.with_timezone(&Utc)
                .to_rfc3339_opts(SecondsFormat::Millis, true)
        })
        .map_err(|_| {
            ApiError::invalid(format!(
                "{field} '{text}' is not an RFC 3339 time such as 2026-05-01T09:00:00Z"
            ))
        })
}

/// The session's workspace fields, each with its type tag as syncs store them.
fn session_fields(id: &str, session: &NewSession) -> ApiResult<Map<String, Value>> {
    let title = session.title.trim();
    if title.is_empty() {
        return Err(ApiError::invalid("title must not be empty"));
    }
    let starts_at = timestamp("starts_at", &session.starts_at)?;
    let ends_at = timestamp("ends_at", &session.ends_at)?;
    if ends_at < starts_at {
        return Err(ApiError::invalid(format!(
            "ends_at ({ends_at}) is before starts_at ({starts_at})"
        )));
    }
    let mut values = vec![
        ("external_id", FieldValue::Text(id.to_string())),
        ("title", FieldValue::Text(title.to_string())),
        ("starts_at", FieldValue::Timestamp(starts_at)),
        ("ends_at", FieldValue::Timestamp(ends_at)),
        ("hidden", FieldValue::Bool(session.hidden)),
    ];
    let texts = [
        ("code", &session.code),
        ("description", &session.description),
        ("location", &session.location),
    ];
    for (name, text) in texts {
        if let Some(text) = text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            values.push((name, FieldValue::Text(text.to_string())));
        }
    }
    if let Some(capacity) = session.capacity {
        values.push(("capacity", FieldValue::Integer(i64::from(capacity))));
    }
    Ok(stored_fields(values))
}

fn stored_fields(values: Vec<(&str, FieldValue)>) -> Map<String, Value> {
    values
        .into_iter()
        .map(|(name, value)| {
            let stored = serde_json::to_value(&value).unwrap_or(Value::Null);
            (name.to_string(), stored)
        })
        .collect()
}

/// `POST /v1/sessions`: creates a session in the workspace only.
#[utoipa::path(
    post,
    path = "/v1/sessions",
    summary = "Creates a session in the workspace only: never sent to the vendor, never removed by a sync; registrations to it stay in the workspace",
    request_body = NewSession,
    responses((status = 201, description = "the session, with its workspace id (local-…)", body = Record,
        headers(("Location" = String, description = "the session's place in the list"))))
)]
pub(crate) async fn create_session(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let session: NewSession = crate::routes::json_body(body)?;
    let connection = crate::routes::workspace_connection(&state, session.connection.as_deref())?;
    let id = format!(
        "{}{}",
        store::LOCAL_ID_PREFIX,
        uuid::Uuid::new_v4().simple()
    );
    let fields = session_fields(&id, &session)?;
    let record = StoredRecord {
        external_id: id.clone(),
        raw: RawJson::from_value(&json!({"created_in": "workspace"})),
        fields,
        updated_at: String::new(),
    };
    state
        .store
        .save_local_record(&connection, DataType::Sessions.as_str(), &record)
        .await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/v1/sessions?external_id={id}"))],
        Json(crate::routes::record_json(&connection, &record)),
    )
        .into_response())
}

/// The id of a person's registration to a workspace session: the same pair, the same id, so a
/// registration can be found and removed without a search.
fn registration_id(session_id: &str, person_id: &str) -> String {
    let digest = Sha256::new()
        .chain_update(session_id.as_bytes())
        .chain_update([0])
        .chain_update(person_id.as_bytes())
        .finalize();
    format!(
        "{}reg-{}",
        store::LOCAL_ID_PREFIX,
        hex::encode(&digest[..16])
    )
}

fn registration_json(connection: &str, session_id: &str, person_id: &str) -> Value {
    json!({
        "connection": connection,
        "person_external_id": person_id,
        "session_external_id": session_id,
        "state": "local",
        "reason": null,
        "outbox_id": null,
    })
}

/// Registers a person to a workspace session (capacity already checked): a workspace record,
/// nothing for the vendor.
pub(crate) async fn register(
    state: &AppState,
    connection: &str,
    session_id: &str,
    person_id: &str,
) -> ApiResult<Response> {
    let id = registration_id(session_id, person_id);
    let record = StoredRecord {
        external_id: id.clone(),
        fields: stored_fields(vec![
            ("external_id", FieldValue::Text(id)),
            (
                "session_external_id",
                FieldValue::Text(session_id.to_string()),
            ),
            (
                "person_external_id",
                FieldValue::Text(person_id.to_string()),
            ),
            ("status", FieldValue::Text("registered".to_string())),
        ]),
        raw: RawJson::from_value(&json!({"created_in": "workspace"})),
        updated_at: String::new(),
    };
    state
        .store
        .save_local_record(connection, DataType::SessionRegistrations.as_str(), &record)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(registration_json(connection, session_id, person_id)),
    )
        .into_response())
}

/// Removes a person's registration to a workspace session.
pub(crate) async fn unregister(
    state: &AppState,
    connection: &str,
    session_id: &str,
    person_id: &str,
) -> ApiResult<Response> {
    let removed = state
        .store
        .remove_local_record(
            connection,
            DataType::SessionRegistrations.as_str(),
            &registration_id(session_id, person_id),
        )
        .await?;
    if !removed {
        return Err(ApiError::not_found(format!(
            "'{person_id}' is not registered to session '{session_id}'"
        )));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(starts_at: &str, ends_at: &str) -> NewSession {
        NewSession {
            connection: None,
            title: "Meet-up".into(),
            starts_at: starts_at.into(),
            ends_at: ends_at.into(),
            code: None,
            description: Some("  ".into()),
            location: Some("Hall B".into()),
            capacity: Some(2),
            hidden: false,
        }
    }

    #[test]
    fn a_session_is_stored_as_syncs_store_them() {
        let fields = session_fields(
            "local-1",
            &session("2026-05-01T11:00:00+02:00", "2026-05-01T10:00:00Z"),
        )
        .expect("valid");
        assert_eq!(
            fields["starts_at"],
            json!({"type": "timestamp", "value": "2026-05-01T09:00:00.000Z"})
        );
        assert_eq!(fields["capacity"], json!({"type": "integer", "value": 2}));
        assert!(
            !fields.contains_key("description"),
            "blank text is left out"
        );
        let wrong = [
            ("2026-05-01", "2026-05-01T10:00:00Z", "starts_at"),
            ("2026-05-01T10:00:00Z", "2026-05-01T09:00:00Z", "is before"),
        ];
        for (starts_at, ends_at, words) in wrong {
            let error = session_fields("local-1", &session(starts_at, ends_at)).expect_err(words);
            assert!(error.message.contains(words), "{}", error.message);
        }
    }

    #[test]
    fn registration_ids_are_local_and_stable() {
        let id = registration_id("local-a", "p1");
        assert!(store::is_local_id(&id));
        assert_eq!(id, registration_id("local-a", "p1"));
        assert_ne!(id, registration_id("local-a", "p2"));
        assert_ne!(
            registration_id("local-ab", "c"),
            registration_id("local-a", "bc")
        );
    }
}

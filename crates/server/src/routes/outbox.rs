//! The outbox (writes to vendors and their state, and a refused write sent again) and the
//! webhook deliveries received, over the API. `eventsync outbox --json` shows items as
//! [`outbox_json`] does.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use store::{OutboxItem, OutboxQuery, OutboxStatus, WebhookDelivery};

use super::{page_limit, parse_id, query_params};
use crate::AppState;
use crate::error::{ApiError, ApiResult};

pub fn outbox_json(item: &OutboxItem) -> Value {
    let seconds = |at: &str| crate::time::seconds(at);
    json!({
        "id": item.id,
        "connection": item.connection,
        "operation": item.operation,
        "session_external_id": item.session_id,
        "person_external_id": item.attendee_id,
        "payload": item.payload,
        "status": item.status,
        "attempts": item.attempts,
        "next_attempt_at": seconds(&item.next_attempt_at),
        "last_error": item.last_error,
        "created_at": seconds(&item.created_at),
        "updated_at": seconds(&item.updated_at),
        "sent_at": item.sent_at.as_deref().map(seconds),
    })
}

/// A webhook delivery as the API shows it.
fn webhook_json(delivery: &WebhookDelivery) -> Value {
    let seconds = |at: &str| crate::time::seconds(at);
    json!({
        "id": delivery.id,
        "connection": delivery.connection,
        "message_stub": delivery.message_stub,
        "event_type": delivery.event_type,
        "message_time": delivery.message_time.as_deref().map(seconds),
        "body": delivery.body,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "last_error": delivery.last_error,
        "received_at": seconds(&delivery.received_at),
        "processed_at": delivery.processed_at.as_deref().map(seconds),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OutboxParams {
    pub connection: Option<String>,
    pub status: Option<String>,
    pub person_id: Option<String>,
    pub after: Option<i64>,
    pub limit: Option<u32>,
}

pub(super) async fn list_outbox(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let query: OutboxParams = query_params(params)?;
    let status = match query.status.as_deref() {
        None => None,
        Some(text) => Some(OutboxStatus::parse(text).ok_or_else(|| {
            ApiError::invalid(format!(
                "status '{text}' is not one of pending, sending, sent, failed, local"
            ))
        })?),
    };
    let limit = page_limit(query.limit)?;
    let items = state
        .store
        .outbox(&OutboxQuery {
            connection: query.connection,
            status,
            attendee_id: query.person_id,
            after_id: query.after,
            limit,
            ..OutboxQuery::default()
        })
        .await?;
    let next = (items.len() == limit as usize)
        .then(|| items.last().map(|item| item.id))
        .flatten();
    let data: Vec<Value> = items.iter().map(outbox_json).collect();
    Ok(Json(json!({"data": data, "next": next})))
}

pub(super) async fn get_outbox_item(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = parse_id(&id, "outbox item")?;
    let item = state
        .store
        .outbox_item(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no outbox item {id}")))?;
    Ok(Json(outbox_json(&item)))
}

/// `POST /v1/outbox/{id}/retry`: a failed item goes back in line, due now, and the outbox
/// worker is woken to send it.
pub(super) async fn retry_outbox_item(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_id(&id, "outbox item")?;
    match state.store.retry_outbox(id).await? {
        Some(item) => {
            state.wake_outbox.notify_one();
            Ok((StatusCode::ACCEPTED, Json(outbox_json(&item))).into_response())
        }
        None => match state.store.outbox_item(id).await? {
            Some(item) => Err(ApiError::conflict(
                "not_failed",
                format!(
                    "outbox item {id} is {}, not failed: only a refused write is retried",
                    item.status.as_str()
                ),
            )),
            None => Err(ApiError::not_found(format!("no outbox item {id}"))),
        },
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookParams {
    connection: Option<String>,
    after: Option<i64>,
    limit: Option<u32>,
}

pub(super) async fn list_webhooks(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let query: WebhookParams = query_params(params)?;
    let limit = page_limit(query.limit)?;
    let deliveries = state
        .store
        .webhooks(query.connection.as_deref(), query.after, limit)
        .await?;
    let next = (deliveries.len() == limit as usize)
        .then(|| deliveries.last().map(|d| d.id))
        .flatten();
    let data: Vec<Value> = deliveries.iter().map(webhook_json).collect();
    Ok(Json(json!({"data": data, "next": next})))
}

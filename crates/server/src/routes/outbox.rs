//! The outbox (writes to vendors and their state, and a refused write sent again) and the
//! webhook deliveries received, over the API. `eventsync outbox --json` shows items as
//! [`outbox_json`] does.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use store::{
    OutboxItem, OutboxOperation, OutboxQuery, OutboxStatus, WebhookDelivery, WebhookStatus,
};
use utoipa::openapi::{ObjectBuilder, Schema, Type};
use utoipa::{IntoParams, ToSchema};

use super::{Page, page_limit, parse_id, query_params};
use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorAnswer};

/// An outbox item as the API and `eventsync outbox --json` show it.
pub fn outbox_json(item: &OutboxItem) -> Value {
    json!(OutboxItemView::from(item))
}

/// A write to a vendor and its state; `OutboxItem` in the document.
#[derive(Serialize, ToSchema)]
#[schema(as = OutboxItem)]
pub(crate) struct OutboxItemView {
    id: i64,
    connection: String,
    #[schema(schema_with = operations)]
    operation: OutboxOperation,
    session_external_id: Option<String>,
    person_external_id: String,
    payload: Value,
    #[schema(schema_with = statuses)]
    status: OutboxStatus,
    attempts: u32,
    next_attempt_at: String,
    last_error: Option<String>,
    created_at: String,
    updated_at: String,
    sent_at: Option<String>,
}

fn operations() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["enroll", "unenroll", "check_in"]))
        .into()
}

/// An outbox item's states.
pub(super) fn statuses() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["pending", "sending", "sent", "failed", "local"]))
        .into()
}

impl From<&OutboxItem> for OutboxItemView {
    fn from(item: &OutboxItem) -> OutboxItemView {
        let seconds = |at: &str| crate::time::seconds(at);
        OutboxItemView {
            id: item.id,
            connection: item.connection.clone(),
            operation: item.operation,
            session_external_id: item.session_id.clone(),
            person_external_id: item.attendee_id.clone(),
            payload: item.payload.clone(),
            status: item.status,
            attempts: item.attempts,
            next_attempt_at: seconds(&item.next_attempt_at),
            last_error: item.last_error.clone(),
            created_at: seconds(&item.created_at),
            updated_at: seconds(&item.updated_at),
            sent_at: item.sent_at.as_deref().map(seconds),
        }
    }
}

/// A webhook delivery as the API shows it: the envelope as kept, and how processing went.
#[derive(Serialize, ToSchema)]
pub(super) struct WebhookDeliveryView {
    id: i64,
    connection: String,
    message_stub: String,
    event_type: String,
    message_time: Option<String>,
    /// The envelope as received, without its sensitive members.
    body: Value,
    #[schema(value_type = String)]
    status: WebhookStatus,
    attempts: u32,
    last_error: Option<String>,
    received_at: String,
    processed_at: Option<String>,
}

impl From<&WebhookDelivery> for WebhookDeliveryView {
    fn from(delivery: &WebhookDelivery) -> WebhookDeliveryView {
        let seconds = |at: &str| crate::time::seconds(at);
        WebhookDeliveryView {
            id: delivery.id,
            connection: delivery.connection.clone(),
            message_stub: delivery.message_stub.clone(),
            event_type: delivery.event_type.clone(),
            message_time: delivery.message_time.as_deref().map(seconds),
            body: delivery.body.clone(),
            status: delivery.status,
            attempts: delivery.attempts,
            last_error: delivery.last_error.clone(),
            received_at: seconds(&delivery.received_at),
            processed_at: delivery.processed_at.as_deref().map(seconds),
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct OutboxParams {
    /// The connection.
    pub connection: Option<String>,
    /// Only this state.
    #[param(schema_with = statuses)]
    pub status: Option<String>,
    /// One person's.
    pub person_id: Option<String>,
    /// The `next` of the previous page.
    pub after: Option<i64>,
    /// How many (100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

#[utoipa::path(
    get,
    path = "/v1/outbox",
    summary = "Writes to vendors and their state",
    params(OutboxParams),
    responses((status = 200, description = "the items", body = Page<OutboxItemView, i64>))
)]
pub(super) async fn list_outbox(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<Page<OutboxItemView, i64>>> {
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
    Ok(Json(Page {
        data: items.iter().map(OutboxItemView::from).collect(),
        next,
    }))
}

#[utoipa::path(
    get,
    path = "/v1/outbox/{id}",
    summary = "One write to a vendor",
    params(("id" = i64, Path, description = "a positive number", minimum = 1)),
    responses((status = 200, description = "the item", body = OutboxItemView))
)]
pub(super) async fn get_outbox_item(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<OutboxItemView>> {
    let id = parse_id(&id, "outbox item")?;
    let item = state
        .store
        .outbox_item(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no outbox item {id}")))?;
    Ok(Json(OutboxItemView::from(&item)))
}

/// `POST /v1/outbox/{id}/retry`: a failed item goes back in line, due now, and the outbox
/// worker is woken to send it.
#[utoipa::path(
    post,
    path = "/v1/outbox/{id}/retry",
    summary = "Sends a refused (failed) write again: it becomes pending, due now, with its attempts counted afresh",
    params(("id" = i64, Path, description = "a positive number", minimum = 1)),
    responses(
        (status = 202, description = "back in line", body = OutboxItemView),
        (status = 409, description = "the item is not failed", body = ErrorAnswer),
    )
)]
pub(super) async fn retry_outbox_item(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_id(&id, "outbox item")?;
    match state.store.retry_outbox(id).await? {
        Some(item) => {
            state.wake_outbox.notify_one();
            Ok((StatusCode::ACCEPTED, Json(OutboxItemView::from(&item))).into_response())
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct WebhookParams {
    /// The connection.
    connection: Option<String>,
    /// The `next` of the previous page.
    after: Option<i64>,
    /// How many (100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

#[utoipa::path(
    get,
    path = "/v1/webhooks",
    summary = "Webhook deliveries received and how their processing went",
    params(WebhookParams),
    responses((status = 200, description = "the deliveries", body = Page<WebhookDeliveryView, i64>))
)]
pub(super) async fn list_webhooks(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<Page<WebhookDeliveryView, i64>>> {
    let query: WebhookParams = query_params(params)?;
    let limit = page_limit(query.limit)?;
    let deliveries = state
        .store
        .webhooks(query.connection.as_deref(), query.after, limit)
        .await?;
    let next = (deliveries.len() == limit as usize)
        .then(|| deliveries.last().map(|d| d.id))
        .flatten();
    Ok(Json(Page {
        data: deliveries.iter().map(WebhookDeliveryView::from).collect(),
        next,
    }))
}

//! Cvent webhooks in: the validation `GET`, the `POST` intake (persist, acknowledge, de-duplicate
//! by `messageStub`) and the processor that brings the workspace up to date.
//!
//! The envelope is `{eventType, messageTime, messageStub, message[]}`; Cvent authenticates with a
//! static token in `Authorization`. A body is checked (`input::check_body`) and its sensitive
//! members cut (`engine::sensitive`) before it is kept.
//! Processing is coalesced: the deliveries waiting at one moment are turned into one incremental
//! sync per connection of the data types they touch (attendee events → people and session
//! registrations, session events → sessions, speaker events → speakers). An incremental pull
//! fetches exactly the records changed since the stream's cursor, so a burst of webhooks costs a
//! few calls instead of one fetch each, and a record is never written past the pipeline's
//! mapping, validation and diff. Deletions need a full listing of
//! the (small) session or speaker stream, since an incremental one cannot show an absence.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use engine::{RunKind, RunStatus};
use pipeline::DataType;
use serde_json::{Value, json};
use store::{NewWebhook, WebhookDelivery, WebhookOutcome};

use serde::Serialize;
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorAnswer};
use crate::openapi::literal_schema;
use crate::runs::{RunRequest, run_held};
use crate::security::secrets_match;

/// Deliveries processed together.
const CLAIM_BATCH: u32 = 500;

/// After this many failed processing attempts a delivery is set aside as failed.
const MAX_ATTEMPTS: u32 = 5;

/// What an event type asks of the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaction {
    pub data_types: Vec<DataType>,
    /// A deletion: list the stream in full so the record's absence is seen.
    pub full: bool,
}

/// The reaction to a Cvent event type, or `None` for types eventsync does not act on.
pub fn reaction(event_type: &str) -> Option<Reaction> {
    let (data_types, full) = match event_type {
        "InviteeOrGuestAccepted" | "InviteeOrGuestCancelled" | "InviteeSubstitutedInAnEvent" => (
            vec![DataType::People, DataType::SessionRegistrations],
            false,
        ),
        "SessionCreated" | "SessionUpdated" => (vec![DataType::Sessions], false),
        "SessionDeleted" => (vec![DataType::Sessions], true),
        "SpeakerCreated" | "SpeakerUpdated" => (vec![DataType::Speakers], false),
        "SpeakerDeleted" => (vec![DataType::Speakers], true),
        _ => return None,
    };
    Some(Reaction { data_types, full })
}

fn authorize(state: &AppState, connection: &str, headers: &HeaderMap) -> ApiResult<()> {
    if state.connection(connection).is_none() {
        return Err(ApiError::not_found(format!(
            "no connection named '{connection}'"
        )));
    }
    let Some(expected) = &state.settings.webhook_token else {
        return Err(ApiError::forbidden(
            "webhooks are off: start the server with a webhook token (EVENTSYNC_WEBHOOK_TOKEN)",
        ));
    };
    let presented = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if !secrets_match(presented.trim(), expected.expose()) {
        return Err(ApiError::unauthorized(
            "the Authorization header does not carry this server's webhook token",
        ));
    }
    Ok(())
}

/// The answer to Cvent's validation call.
#[derive(Serialize, ToSchema)]
pub struct Validated {
    ok: bool,
}

/// The answer to a delivery: stored, or known already by its message stub.
#[derive(Serialize, ToSchema)]
pub struct Received {
    received: bool,
    duplicate: bool,
}

/// A Cvent webhook envelope, as [`read_envelope`] reads it; the body is kept whole.
pub struct WebhookEnvelope;

impl PartialSchema for WebhookEnvelope {
    fn schema() -> RefOr<Schema> {
        literal_schema(json!({
            "type": "object",
            "required": ["eventType", "messageStub", "message"],
            "properties": {
                "eventType": {"type": "string"},
                "messageTime": {"type": "string"},
                "messageStub": {"type": "string"},
                "message": {"type": "array", "items": {"type": "object"}}
            }
        }))
    }
}

impl ToSchema for WebhookEnvelope {}

/// Cvent's validation call when a webhook is set up.
#[utoipa::path(
    get,
    path = "/webhooks/cvent/{connection}",
    summary = "Cvent's validation call",
    security(("webhook" = [])),
    params(("connection" = String, Path, description = "an id")),
    responses(
        (status = 200, description = "acknowledged", body = Validated),
        (status = 400, description = "a NUL character or an overlong value in the path", body = ErrorAnswer),
        (status = 401, description = "the Authorization header does not carry the webhook token", body = ErrorAnswer),
        (status = 403, description = "webhooks are off, or the caller's address is not allowed", body = ErrorAnswer),
        (status = 404, description = "no such connection", body = ErrorAnswer),
    )
)]
pub async fn validate(
    State(state): State<AppState>,
    Path(connection): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<Validated>> {
    authorize(&state, &connection, &headers)?;
    Ok(Json(Validated { ok: true }))
}

/// A checked envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub event_type: String,
    pub message_stub: String,
    pub message_time: Option<String>,
}

/// Reads the parts of an envelope the intake needs; the whole body is kept as sent.
pub fn read_envelope(body: &Value) -> Result<Envelope, String> {
    let Some(object) = body.as_object() else {
        return Err(
            "the body must be a JSON object {eventType, messageTime, messageStub, message[]}"
                .into(),
        );
    };
    let text = |field: &str| {
        object
            .get(field)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_string)
    };
    let event_type = text("eventType").ok_or("eventType is missing or empty")?;
    let message_stub = text("messageStub").ok_or("messageStub is missing or empty")?;
    match object.get("message") {
        Some(Value::Array(_)) => {}
        _ => return Err("message must be an array of messages".into()),
    }
    Ok(Envelope {
        event_type,
        message_stub,
        // Empty strings mean "no data" in Cvent's messages.
        message_time: text("messageTime"),
    })
}

/// Persists a delivery and acknowledges it; processing happens in the background.
#[utoipa::path(
    post,
    path = "/webhooks/cvent/{connection}",
    summary = "A Cvent webhook delivery",
    security(("webhook" = [])),
    params(("connection" = String, Path, description = "an id")),
    request_body = WebhookEnvelope,
    responses(
        (status = 200, description = "acknowledged", body = Received),
        (status = 400, description = "not a Cvent webhook envelope, or a NUL character or an overlong envelope field in it", body = ErrorAnswer),
        (status = 401, description = "the Authorization header does not carry the webhook token", body = ErrorAnswer),
        (status = 403, description = "webhooks are off, or the caller's address is not allowed", body = ErrorAnswer),
        (status = 404, description = "no such connection", body = ErrorAnswer),
        (status = 413, description = "the body is too large", body = ErrorAnswer),
    )
)]
pub async fn receive(
    State(state): State<AppState>,
    Path(connection): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Received>> {
    authorize(&state, &connection, &headers)?;
    let mut body: Value = serde_json::from_slice(&body)
        .map_err(|error| ApiError::invalid(format!("the body is not JSON: {error}")))?;
    crate::input::check_body(&body)?;
    // Nothing sensitive is ever kept, whichever way it came: the inbox holds the message
    // without those members, cut by the rules a sync cuts them by.
    engine::sensitive::strip(&mut body);
    let envelope = read_envelope(&body).map_err(ApiError::invalid)?;
    let id = state
        .store
        .record_webhook(&NewWebhook {
            connection,
            message_stub: envelope.message_stub,
            event_type: envelope.event_type,
            message_time: envelope.message_time,
            body,
        })
        .await?;
    match id {
        Some(_) => {
            state
                .metrics
                .webhooks_received
                .fetch_add(1, Ordering::Relaxed);
            state.wake_webhooks.notify_one();
        }
        None => {
            state
                .metrics
                .webhooks_duplicate
                .fetch_add(1, Ordering::Relaxed);
        }
    }
    Ok(Json(Received {
        received: true,
        duplicate: id.is_none(),
    }))
}

/// Processes deliveries until the task is aborted.
pub async fn process(state: AppState) {
    loop {
        let processed = match process_due(&state).await {
            Ok(count) => count,
            Err(error) => {
                tracing::warn!(%error, "the webhook processor could not read the inbox");
                0
            }
        };
        if processed == 0 {
            let _ = tokio::time::timeout(state.settings.poll, state.wake_webhooks.notified()).await;
        }
    }
}

/// Claims the waiting deliveries and processes them together; returns how many were claimed.
pub async fn process_due(state: &AppState) -> Result<usize, store::StoreError> {
    let deliveries = state
        .store
        .claim_webhooks(CLAIM_BATCH, state.settings.lease)
        .await?;
    let claimed = deliveries.len();
    // Connection → (data types, full) and the deliveries that asked for them.
    let mut work: BTreeMap<String, (BTreeSet<DataType>, bool, Vec<WebhookDelivery>)> =
        BTreeMap::new();
    for delivery in deliveries {
        let configured = state
            .connection(&delivery.connection)
            .map(|c| c.data_types.clone())
            .unwrap_or_default();
        match reaction(&delivery.event_type) {
            Some(reaction) => {
                let entry = work.entry(delivery.connection.clone()).or_default();
                entry.0.extend(
                    reaction
                        .data_types
                        .into_iter()
                        .filter(|data_type| configured.contains(data_type)),
                );
                entry.1 |= reaction.full;
                entry.2.push(delivery);
            }
            None => {
                tracing::info!(event_type = %delivery.event_type, "recorded a webhook eventsync does not act on");
                finish(state, &delivery, WebhookOutcome::Ignored).await?;
            }
        }
    }
    for (connection, (data_types, full, deliveries)) in work {
        if data_types.is_empty() {
            for delivery in &deliveries {
                finish(state, delivery, WebhookOutcome::Ignored).await?;
            }
            continue;
        }
        // Keep the configured sync order (references before the records that use them).
        let configured = state
            .connection(&connection)
            .map(|c| c.data_types.clone())
            .unwrap_or_default();
        let request = RunRequest {
            connection: connection.clone(),
            kind: RunKind::Sync,
            data_types: configured
                .into_iter()
                .filter(|data_type| data_types.contains(data_type))
                .collect(),
            full,
            notify: false,
        };
        let guard = state.runs.claim(&connection).await;
        let outcome = match run_held(state, &request, guard).await {
            Ok(report) if matches!(report.status, RunStatus::Succeeded | RunStatus::Partial) => {
                WebhookOutcome::Done
            }
            Ok(report) => WebhookOutcome::Retry {
                reason: format!(
                    "run {} ended {}: {}",
                    report.run_id,
                    report.status.as_str(),
                    report.errors.join("; ")
                ),
            },
            Err(reason) => WebhookOutcome::Retry { reason },
        };
        for delivery in &deliveries {
            let outcome = match &outcome {
                WebhookOutcome::Retry { reason } if delivery.attempts >= MAX_ATTEMPTS => {
                    WebhookOutcome::Failed {
                        reason: format!("gave up after {} attempts: {reason}", delivery.attempts),
                    }
                }
                other => other.clone(),
            };
            finish(state, delivery, outcome).await?;
        }
    }
    Ok(claimed)
}

async fn finish(
    state: &AppState,
    delivery: &WebhookDelivery,
    outcome: WebhookOutcome,
) -> Result<(), store::StoreError> {
    let done = matches!(outcome, WebhookOutcome::Done | WebhookOutcome::Ignored);
    if state.store.finish_webhook(delivery.id, &outcome).await?
        && done
        && let Ok(received) = chrono::DateTime::parse_from_rfc3339(&delivery.received_at)
    {
        let seconds = (chrono::Utc::now() - received.with_timezone(&chrono::Utc))
            .num_microseconds()
            .unwrap_or(0) as f64
            / 1e6;
        state.metrics.observe_webhook_latency(seconds);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_map_to_the_streams_they_change() {
        type Expected = Option<(&'static [DataType], bool)>;
        let cases: &[(&str, Expected)] = &[
            (
                "InviteeOrGuestAccepted",
                Some((&[DataType::People, DataType::SessionRegistrations], false)),
            ),
            (
                "InviteeOrGuestCancelled",
                Some((&[DataType::People, DataType::SessionRegistrations], false)),
            ),
            ("SessionUpdated", Some((&[DataType::Sessions], false))),
            ("SessionDeleted", Some((&[DataType::Sessions], true))),
            ("SpeakerCreated", Some((&[DataType::Speakers], false))),
            ("InviteeOrGuestEmailSent", None),
            ("SomethingNew", None),
        ];
        for (event_type, expected) in cases {
            let got = reaction(event_type);
            let expected = expected.map(|(types, full)| Reaction {
                data_types: types.to_vec(),
                full,
            });
            assert_eq!(got, expected, "{event_type}");
        }
    }

    #[test]
    fn envelopes_are_checked_and_empty_strings_mean_no_data() {
        let good = json!({"eventType": "SessionUpdated", "messageTime": "", "messageStub": "AB-1", "message": [{}, {}]});
        assert_eq!(
            read_envelope(&good),
            Ok(Envelope {
                event_type: "SessionUpdated".into(),
                message_stub: "AB-1".into(),
                message_time: None,
            })
        );
        let cases = [
            (json!([]), "JSON object"),
            (json!({"messageStub": "x", "message": []}), "eventType"),
            (
                json!({"eventType": "X", "messageStub": "", "message": []}),
                "messageStub",
            ),
            (
                json!({"eventType": "X", "messageStub": "s", "message": {}}),
                "message must be an array",
            ),
        ];
        for (body, expected) in cases {
            let error = read_envelope(&body).unwrap_err();
            assert!(error.contains(expected), "{body}: {error}");
        }
    }
}

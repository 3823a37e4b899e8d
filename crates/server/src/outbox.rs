//! The outbox worker: delivers the workspace's writes to the vendor under the account's rate
//! budget, with retries and backoff, and records each outcome.
//!
//! Exactly once: an item is stored before anything is sent, claimed with a lease, and finished
//! only by the worker holding the lease. A process killed between the vendor call and the
//! finish leaves the item claimed; once the lease runs out it is sent again, which Cvent makes
//! harmless — an enrollment that exists answers 204, a check-in at the same time sets the same
//! time, and an unenrollment Cvent no longer finds after an earlier attempt counts as done. Cvent
//! SOAP's SessionRegAction answers `Success="true"` for a registration that exists already.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use connectors::ConnectorError;
use connectors::cvent_rest::{CheckIn, CheckInResult, CventRest, CventRestConfig};
use connectors::cvent_soap::{CventSoap, CventSoapConfig, SessionRegAction};
use engine::VendorSettings;
use store::{DeliveryOutcome, OutboxItem, OutboxOperation};
use tokio::sync::Mutex;

use crate::AppState;

/// Items a worker claims at once: up to one check-in call's worth.
const CLAIM_BATCH: u32 = 100;

/// After this many attempts an item that keeps failing for transient reasons is given up.
const MAX_ATTEMPTS: u32 = 12;

/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(600);

/// One write-capable connector per connection, built on first use.
#[derive(Default)]
pub struct Writers {
    by_connection: Mutex<HashMap<String, Arc<Writer>>>,
}

/// The connector that writes back for a connection, by vendor.
pub(crate) enum Writer {
    CventRest(CventRest),
    CventSoap(CventSoap),
}

impl Writer {
    /// The account's shared rate budget, for the quota gauge.
    pub(crate) fn budget(&self) -> &connectors::budget::RateBudget {
        match self {
            Writer::CventRest(writer) => writer.budget(),
            Writer::CventSoap(writer) => writer.budget(),
        }
    }

    async fn enroll(&self, session_id: &str, attendee_id: &str) -> Result<(), ConnectorError> {
        match self {
            Writer::CventRest(writer) => writer.enroll(session_id, attendee_id).await,
            Writer::CventSoap(writer) => {
                soap_item(writer, SessionRegAction::Register, session_id, attendee_id).await
            }
        }
    }

    async fn unenroll(&self, session_id: &str, attendee_id: &str) -> Result<(), ConnectorError> {
        match self {
            Writer::CventRest(writer) => writer.unenroll(session_id, attendee_id).await,
            Writer::CventSoap(writer) => {
                soap_item(
                    writer,
                    SessionRegAction::Unregister,
                    session_id,
                    attendee_id,
                )
                .await
            }
        }
    }

    async fn check_in(&self, check_ins: &[CheckIn]) -> Result<Vec<CheckInResult>, ConnectorError> {
        match self {
            Writer::CventRest(writer) => writer.check_in(check_ins).await,
            // SOAP's CheckIn takes no time: Cvent records when the call arrives.
            Writer::CventSoap(writer) => {
                let ids: Vec<String> = check_ins.iter().map(|c| c.attendee_id.clone()).collect();
                Ok(writer
                    .check_in(&ids)
                    .await?
                    .into_iter()
                    .map(|item| CheckInResult {
                        attendee_id: item.invitee_id,
                        refusal: item.error,
                    })
                    .collect())
            }
        }
    }
}

/// One SessionRegAction item; Cvent's per-item refusal becomes a final `Rejected`.
async fn soap_item(
    writer: &CventSoap,
    action: SessionRegAction,
    session_id: &str,
    attendee_id: &str,
) -> Result<(), ConnectorError> {
    let results = writer
        .session_reg_action(action, session_id, &[attendee_id.to_string()])
        .await?;
    match results.into_iter().next().and_then(|r| r.error) {
        None => Ok(()),
        Some(reason) => Err(ConnectorError::Rejected(format!(
            "Cvent refused it: {reason}"
        ))),
    }
}

/// Why a connection cannot write back.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WriterError {
    #[error("no connection named '{0}' in the configuration")]
    UnknownConnection(String),
    #[error("{0}")]
    Connector(String),
}

impl Writers {
    pub(crate) async fn get(
        &self,
        state: &AppState,
        connection_name: &str,
    ) -> Result<Arc<Writer>, WriterError> {
        let mut writers = self.by_connection.lock().await;
        if let Some(writer) = writers.get(connection_name) {
            return Ok(writer.clone());
        }
        let connection = state
            .connection(connection_name)
            .ok_or_else(|| WriterError::UnknownConnection(connection_name.to_string()))?;
        // What earlier syncs learned, in the connector's own shape.
        let learned = state
            .store
            .connection_facts(connection_name)
            .await
            .map_err(|error| WriterError::Connector(error.to_string()))?;
        // Cvent REST and SOAP write back; a connection of another kind has no writer.
        #[allow(unreachable_patterns)]
        let writer = match &connection.vendor {
            VendorSettings::CventSoap(settings) => CventSoap::new(
                CventSoapConfig {
                    credentials: connectors::cvent_soap::Credentials {
                        connection: connection.name.clone(),
                        login_url: settings.base_url.clone(),
                        account_number: settings.account_number.clone(),
                        user_name: settings.user_name.clone(),
                        password: settings.password.expose().to_string(),
                    },
                    event_code: settings.event_code.clone(),
                    retry: state.settings.retry,
                },
                learned
                    .clone()
                    .and_then(|facts| serde_json::from_value(facts).ok())
                    .unwrap_or_default(),
            )
            .map(Writer::CventSoap)
            .map_err(|error| WriterError::Connector(error.to_string()))?,
            VendorSettings::CventRest(settings) => CventRest::for_writes(
                CventRestConfig {
                    connection: connection.name.clone(),
                    base_url: settings.base_url.clone(),
                    event_code: settings.event_code.clone(),
                    client_id: settings.client_id.clone(),
                    client_secret: settings.client_secret.expose().to_string(),
                    retry: state.settings.retry,
                },
                &connection.data_types,
                learned
                    .and_then(|facts| serde_json::from_value(facts).ok())
                    .unwrap_or_default(),
            )
            .map(Writer::CventRest)
            .map_err(|error| WriterError::Connector(error.to_string()))?,
            _ => {
                return Err(WriterError::Connector(format!(
                    "connection '{connection_name}' ({}) cannot write back to its vendor",
                    connection.kind()
                )));
            }
        };
        let writer = Arc::new(writer);
        writers.insert(connection_name.to_string(), writer.clone());
        Ok(writer)
    }
}

/// Delivers due items until the task is aborted.
pub async fn work(state: AppState) {
    loop {
        let delivered = match deliver_due(&state).await {
            Ok(count) => count,
            Err(error) => {
                tracing::warn!(%error, "the outbox worker could not read the outbox");
                0
            }
        };
        if delivered == 0 {
            // Woken early when the API stores a new item.
            let _ = tokio::time::timeout(state.settings.poll, state.wake_outbox.notified()).await;
        }
    }
}

/// Claims and delivers one batch of due items; returns how many were claimed.
pub async fn deliver_due(state: &AppState) -> Result<usize, store::StoreError> {
    let items = state
        .store
        .claim_outbox(CLAIM_BATCH, state.settings.lease)
        .await?;
    let claimed = items.len();
    let mut check_ins: HashMap<String, Vec<OutboxItem>> = HashMap::new();
    for item in items {
        match item.operation {
            OutboxOperation::CheckIn => check_ins
                .entry(item.connection.clone())
                .or_default()
                .push(item),
            OutboxOperation::Enroll | OutboxOperation::Unenroll => {
                let outcome = deliver_enrollment(state, &item).await;
                finish(state, &item, outcome).await?;
            }
            OutboxOperation::Deliver => {
                let outcome = deliver_to_destination(state, &item).await;
                finish(state, &item, outcome).await?;
            }
        }
    }
    for (connection, items) in check_ins {
        let outcomes = deliver_check_ins(state, &connection, &items).await;
        for (item, outcome) in items.iter().zip(outcomes) {
            finish(state, item, outcome).await?;
        }
    }
    Ok(claimed)
}

async fn deliver_enrollment(state: &AppState, item: &OutboxItem) -> DeliveryOutcome {
    let writer = match state.writers.get(state, &item.connection).await {
        Ok(writer) => writer,
        Err(error) => return retry_or_give_up(item, error.to_string()),
    };
    let Some(session_id) = item.session_id.as_deref() else {
        return DeliveryOutcome::Failed {
            reason: "the item names no session".to_string(),
        };
    };
    let result = match item.operation {
        OutboxOperation::Enroll => writer.enroll(session_id, &item.attendee_id).await,
        _ => writer.unenroll(session_id, &item.attendee_id).await,
    };
    match result {
        Ok(()) => DeliveryOutcome::Sent,
        // An earlier attempt may have removed it before its process died.
        Err(ConnectorError::NotFound(_))
            if item.operation == OutboxOperation::Unenroll && item.attempts > 1 =>
        {
            DeliveryOutcome::Sent
        }
        Err(error) => outcome_of(item, error),
    }
}

/// Brings a destination in line with the workspace record an item names.
async fn deliver_to_destination(state: &AppState, item: &OutboxItem) -> DeliveryOutcome {
    let all = state.destinations();
    let destinations = match all.as_ref() {
        Ok(destinations) => destinations,
        Err(error) => return retry_or_give_up(item, error.clone()),
    };
    let Some(destination) = destinations.iter().find(|d| d.name() == item.connection) else {
        return DeliveryOutcome::Failed {
            reason: format!(
                "no destination named '{}' is configured, or no connection feeds it",
                item.connection
            ),
        };
    };
    match destination.deliver(&state.store, item).await {
        Ok(done) => {
            tracing::info!(id = item.id, destination = %item.connection, person = %item.attendee_id, %done, "delivered");
            DeliveryOutcome::Sent
        }
        Err(error) => {
            let outcome = outcome_of(item, error);
            if let DeliveryOutcome::Failed { reason } = &outcome {
                crate::feed::note_refusal(state, item, reason);
            }
            outcome
        }
    }
}

async fn deliver_check_ins(
    state: &AppState,
    connection: &str,
    items: &[OutboxItem],
) -> Vec<DeliveryOutcome> {
    let writer = match state.writers.get(state, connection).await {
        Ok(writer) => writer,
        Err(error) => {
            return items
                .iter()
                .map(|item| retry_or_give_up(item, error.to_string()))
                .collect();
        }
    };
    let check_ins: Vec<CheckIn> = items
        .iter()
        .map(|item| CheckIn {
            attendee_id: item.attendee_id.clone(),
            at: item.payload["checkIn"]
                .as_str()
                .unwrap_or(&item.created_at)
                .to_string(),
        })
        .collect();
    match writer.check_in(&check_ins).await {
        Ok(results) => results
            .into_iter()
            .map(|result| match result.refusal {
                None => DeliveryOutcome::Sent,
                Some(reason) => DeliveryOutcome::Failed { reason },
            })
            .collect(),
        Err(error) => items
            .iter()
            .map(|item| outcome_of(item, error.clone()))
            .collect(),
    }
}

/// What a connector error means for an item: refusals are final, the rest is tried again.
fn outcome_of(item: &OutboxItem, error: ConnectorError) -> DeliveryOutcome {
    match error {
        ConnectorError::Rejected(reason) | ConnectorError::NotFound(reason) => {
            DeliveryOutcome::Failed { reason }
        }
        ConnectorError::Forbidden { message, .. } => DeliveryOutcome::Failed { reason: message },
        ConnectorError::QuotaExhausted { resets_at } => DeliveryOutcome::Retry {
            reason: format!("the vendor's daily quota is used up until {resets_at}"),
            at: store_time(&resets_at),
        },
        other => retry_or_give_up(item, other.to_string()),
    }
}

fn retry_or_give_up(item: &OutboxItem, reason: String) -> DeliveryOutcome {
    if item.attempts >= MAX_ATTEMPTS {
        return DeliveryOutcome::Failed {
            reason: format!("gave up after {} attempts: {reason}", item.attempts),
        };
    }
    let at = chrono::Utc::now()
        + chrono::Duration::from_std(backoff(item.attempts)).unwrap_or(chrono::Duration::zero());
    DeliveryOutcome::Retry {
        reason,
        at: at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    }
}

/// An RFC 3339 time in the store's fixed-width form, so that it compares as text.
fn store_time(text: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|time| {
            time.with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        })
        .unwrap_or_else(|_| text.to_string())
}

/// The wait after attempt number `attempts` (1-based): 2 s doubling, at most [`MAX_BACKOFF`].
pub fn backoff(attempts: u32) -> Duration {
    Duration::from_secs(1u64 << attempts.clamp(1, 16)).min(MAX_BACKOFF)
}

async fn finish(
    state: &AppState,
    item: &OutboxItem,
    outcome: DeliveryOutcome,
) -> Result<(), store::StoreError> {
    let counter = match &outcome {
        DeliveryOutcome::Sent => &state.metrics.outbox_sent,
        DeliveryOutcome::Failed { reason } => {
            tracing::warn!(id = item.id, %reason, "the vendor refused an outbox item");
            &state.metrics.outbox_failed
        }
        DeliveryOutcome::Retry { reason, at } => {
            tracing::info!(id = item.id, %reason, %at, "an outbox item will be tried again");
            &state.metrics.outbox_retried
        }
    };
    if state.store.finish_outbox(item.id, &outcome).await? {
        counter.fetch_add(1, Ordering::Relaxed);
    } else {
        tracing::warn!(id = item.id, "another worker took this outbox item over");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let waits: Vec<u64> = [1, 2, 3, 5, 9, 10, 40]
            .iter()
            .map(|a| backoff(*a).as_secs())
            .collect();
        assert_eq!(waits, vec![2, 4, 8, 32, 512, 600, 600]);
    }

    fn item(attempts: u32) -> OutboxItem {
        OutboxItem {
            id: 1,
            connection: "cvent".into(),
            operation: OutboxOperation::Enroll,
            session_id: Some("s".into()),
            attendee_id: "a".into(),
            payload: serde_json::json!({}),
            status: store::OutboxStatus::Sending,
            attempts,
            next_attempt_at: String::new(),
            last_error: None,
            created_at: String::new(),
            updated_at: String::new(),
            sent_at: None,
        }
    }

    #[test]
    fn refusals_are_final_and_outages_are_retried() {
        let cases = [
            (ConnectorError::Rejected("no widget".into()), "failed"),
            (ConnectorError::NotFound("no session".into()), "failed"),
            (ConnectorError::Transient("503".into()), "retry"),
            (ConnectorError::Throttled("429".into()), "retry"),
            (
                ConnectorError::QuotaExhausted {
                    resets_at: "2026-01-02T00:00:00Z".into(),
                },
                "retry",
            ),
        ];
        for (error, expected) in cases {
            let outcome = outcome_of(&item(1), error.clone());
            let kind = match &outcome {
                DeliveryOutcome::Sent => "sent",
                DeliveryOutcome::Failed { .. } => "failed",
                DeliveryOutcome::Retry { .. } => "retry",
            };
            assert_eq!(kind, expected, "{error:?}");
        }
        assert!(matches!(
            outcome_of(&item(MAX_ATTEMPTS), ConnectorError::Transient("503".into())),
            DeliveryOutcome::Failed { reason } if reason.starts_with("gave up after 12 attempts")
        ));
        match outcome_of(
            &item(1),
            ConnectorError::QuotaExhausted {
                resets_at: "2026-01-02T00:00:00Z".into(),
            },
        ) {
            DeliveryOutcome::Retry { at, .. } => assert_eq!(at, "2026-01-02T00:00:00.000000Z"),
            other => panic!("{other:?}"),
        }
    }
}

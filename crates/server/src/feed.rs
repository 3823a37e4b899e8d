//! The feed worker: keeps every destination's outbox items up to date with the change feed,
//! and wakes the outbox worker when it stores some. It also mails, now and then, the
//! deliveries destinations refused (no matching party, two parties with one email…) to the
//! subscribers of the people they are about, so that someone fixes them.

use std::time::Duration;

use crate::AppState;

/// How often the worker looks for changes past the destinations' checkpoints: a read of two
/// numbers, so a registration reaches its destination well within a second of being stored.
const LOOK_EVERY: Duration = Duration::from_millis(100);

/// Follows the feed until the task is aborted.
pub async fn work(state: AppState) {
    let destinations = match state.destinations().as_ref() {
        Ok(destinations) if destinations.is_empty() => return,
        Ok(destinations) => destinations.clone(),
        Err(error) => {
            tracing::error!(%error, "the destinations could not be set up; nothing is delivered to them");
            return;
        }
    };
    let mut last_digest = tokio::time::Instant::now();
    loop {
        if last_digest.elapsed() >= state.settings.refusal_digest {
            last_digest = tokio::time::Instant::now();
            mail_refusals(&state);
        }
        match behind(&state, &destinations).await {
            Ok(true) => match destinations::follow_feed(&state.store, &destinations).await {
                Ok(0) => {}
                Ok(stored) => {
                    tracing::debug!(stored, "outbox items made from the change feed");
                    state.wake_outbox.notify_one();
                }
                Err(error) => tracing::warn!(%error, "the change feed could not be read"),
            },
            Ok(false) => {}
            Err(error) => tracing::warn!(%error, "the change feed could not be read"),
        }
        tokio::time::sleep(LOOK_EVERY).await;
    }
}

/// Whether some destination has changes left to read: two reads, no write.
async fn behind(
    state: &AppState,
    destinations: &[destinations::Destination],
) -> Result<bool, store::StoreError> {
    let end = state.store.feed_position().await?;
    for destination in destinations {
        if state.store.feed_checkpoint(&destination.consumer()).await? < end {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A delivery a destination refused, for the next digest.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    pub site: String,
    pub source: String,
    pub person: String,
    pub reason: String,
}

/// Keeps a refused delivery for the next digest, if someone would receive it.
pub(crate) fn note_refusal(state: &AppState, item: &store::OutboxItem, reason: &str) {
    if state.config().smtp.is_none() {
        return;
    }
    let source = item.payload["source"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if let Ok(mut refusals) = state.refusals.lock() {
        refusals.push(Refusal {
            site: item.connection.clone(),
            source,
            person: item.attendee_id.clone(),
            reason: reason.to_string(),
        });
    }
}

/// Mails the refusals kept since the last digest, one message per source connection, to the
/// subscribers of its people; in the background, as run summaries are.
fn mail_refusals(state: &AppState) {
    let Some(smtp) = state.config().smtp.clone() else {
        return;
    };
    let refusals = match state.refusals.lock() {
        Ok(mut refusals) => std::mem::take(&mut *refusals),
        Err(_) => return,
    };
    let mut by_source: std::collections::BTreeMap<String, Vec<Refusal>> = Default::default();
    for refusal in refusals {
        by_source
            .entry(refusal.source.clone())
            .or_default()
            .push(refusal);
    }
    for (source, refusals) in by_source {
        let to: Vec<String> = state
            .connection(&source)
            .and_then(|connection| {
                connection
                    .data
                    .get(&pipeline::DataType::People)
                    .map(|data| data.subscribers.clone())
            })
            .unwrap_or_default();
        if to.is_empty() {
            continue;
        }
        let (subject, body) = crate::mailer::refusals(&source, &refusals);
        let smtp = smtp.clone();
        tokio::spawn(async move {
            if let Err(error) = crate::mailer::send(&smtp, &to, &subject, &body).await {
                tracing::warn!(connection = %source, %error, "the refused deliveries were not mailed");
            }
        });
    }
}

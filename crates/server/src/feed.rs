//! The feed worker: keeps every destination's outbox items up to date with the change feed,
//! and wakes the outbox worker when it stores some.

use std::time::Duration;

use crate::AppState;

/// How often the worker looks for changes past the destinations' checkpoints: a read of two
/// numbers, so a registration reaches its destination well within a second of being stored.
const LOOK_EVERY: Duration = Duration::from_millis(100);

/// Follows the feed until the task is aborted.
pub async fn work(state: AppState) {
    let destinations = match state.destinations.as_ref() {
        Ok(destinations) if destinations.is_empty() => return,
        Ok(destinations) => destinations.clone(),
        Err(error) => {
            tracing::error!(%error, "the destinations could not be set up; nothing is delivered to them");
            return;
        }
    };
    loop {
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

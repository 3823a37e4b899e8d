//! The destinations a configuration names and the one loop that feeds them: each reads the
//! change feed from its own checkpoint and stores, with the checkpoint's move, an outbox item
//! per record it must bring in line.

use std::sync::Arc;

use connectors::{ConnectorError, RetryPolicy};
use engine::config::{Config, VendorSettings};
use store::{Consumed, FeedChange, NewOutboxItem, OutboxItem, Store, StoreError};

use crate::imis::ImisDestination;

/// Changes one read of the feed takes at most, per destination.
const FEED_BATCH: u32 = 500;

/// A system fed from the workspace, by kind.
#[derive(Clone)]
pub enum Destination {
    Imis(Arc<ImisDestination>),
}

/// Every destination the configuration has, with the source connections that feed it; a
/// destination nothing feeds is left out. An error names the connection whose settings are
/// wrong.
pub fn destinations(config: &Config, retry: RetryPolicy) -> Result<Vec<Destination>, String> {
    let mut found = Vec::new();
    for connection in &config.connections {
        if let VendorSettings::Imis(_) = &connection.vendor {
            let sources: Vec<_> = config
                .connections
                .iter()
                .filter(|source| {
                    source
                        .imis
                        .as_ref()
                        .is_some_and(|feed| feed.destination == connection.name)
                })
                .collect();
            if sources.is_empty() {
                continue;
            }
            let destination = ImisDestination::new(connection, &sources, retry)
                .map_err(|error| format!("connection '{}': {error}", connection.name))?;
            found.push(Destination::Imis(Arc::new(destination)));
        }
    }
    Ok(found)
}

impl Destination {
    /// The destination's connection name: its outbox items carry it.
    pub fn name(&self) -> &str {
        match self {
            Destination::Imis(imis) => imis.name(),
        }
    }

    /// The feed consumer this destination reads as.
    pub fn consumer(&self) -> String {
        format!("destination:{}", self.name())
    }

    /// The outbox items a run of changes calls for: one per record to bring in line.
    pub fn items_for(&self, changes: &[FeedChange]) -> Vec<NewOutboxItem> {
        match self {
            Destination::Imis(imis) => imis.items_for(changes),
        }
    }

    /// Brings the destination in line with the record an item names, as the workspace holds
    /// it now. Refusals (no matching party, a value the destination rejects) are
    /// `ConnectorError::Rejected`, final; the rest may be tried again.
    pub async fn deliver(
        &self,
        store: &Store,
        item: &OutboxItem,
    ) -> Result<String, ConnectorError> {
        match self {
            Destination::Imis(imis) => imis.deliver(store, item).await,
        }
    }
}

/// Reads the feed once for every destination; returns the outbox items stored.
pub async fn follow_feed(store: &Store, destinations: &[Destination]) -> Result<usize, StoreError> {
    let mut stored = 0;
    for destination in destinations {
        loop {
            let (read, items) = store
                .consume_feed(
                    &destination.consumer(),
                    FEED_BATCH,
                    &mut |changes: &[FeedChange]| Consumed {
                        items: destination.items_for(changes),
                        position: changes.last().map_or(0, |change| change.position),
                    },
                )
                .await?;
            stored += items;
            if read < FEED_BATCH as usize {
                break;
            }
        }
    }
    Ok(stored)
}

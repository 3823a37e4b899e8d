//! What a connection learned about its vendor account (event id, tier), kept between runs so a
//! run with nothing to do costs one call per data type.

use store::{Store, StoreError, SyncState};

/// Facts live in the sync-state table under this pseudo data type.
const FACTS: &str = "_connection";

pub async fn load(
    store: &Store,
    connection: &str,
) -> Result<connectors::cvent_rest::Facts, StoreError> {
    let state = store.state(connection, FACTS).await?;
    Ok(state
        .and_then(|s| s.cursor)
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default())
}

pub async fn save(
    store: &Store,
    run_id: i64,
    connection: &str,
    facts: &connectors::cvent_rest::Facts,
) -> Result<(), StoreError> {
    let json = serde_json::to_string(facts).unwrap_or_default();
    store
        .commit_page(&store::PageCommit {
            run_id,
            connection: connection.to_string(),
            data_type: FACTS.to_string(),
            upserts: Vec::new(),
            removals: Vec::new(),
            state: SyncState {
                cursor: Some(json),
                ..SyncState::default()
            },
            counts: Default::default(),
            api_calls: 0,
        })
        .await
}

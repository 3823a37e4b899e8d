//! What a connection learned about its vendor account (event id, tier), kept between runs so a
//! run with nothing to do costs one call per data type.

use store::{Store, StoreError};

pub async fn load(
    store: &Store,
    connection: &str,
) -> Result<connectors::cvent_rest::Facts, StoreError> {
    Ok(store
        .connection_facts(connection)
        .await?
        .and_then(|facts| serde_json::from_value(facts).ok())
        .unwrap_or_default())
}

pub async fn save(
    store: &Store,
    connection: &str,
    facts: &connectors::cvent_rest::Facts,
) -> Result<(), StoreError> {
    let facts = serde_json::to_value(facts).unwrap_or_default();
    store.set_connection_facts(connection, &facts).await
}

//! What a connection learned about its vendor account (event id, tier), kept between runs so a
//! run with nothing to do costs one call per data type.

//!
//! The facts are the connector's own JSON; the engine keeps them without looking inside.

use serde_json::Value;
use store::{Store, StoreError};

/// The facts saved by the last sync, or `Null`.
pub async fn load(store: &Store, connection: &str) -> Result<Value, StoreError> {
    Ok(store
        .connection_facts(connection)
        .await?
        .unwrap_or(Value::Null))
}

pub async fn save(store: &Store, connection: &str, facts: &Value) -> Result<(), StoreError> {
    store.set_connection_facts(connection, facts).await
}

//! The change feed as its readers see it (`GET /v1/changes`, `eventsync changes`): each change
//! with its fields' values plain, as records are exported.

use serde_json::{Map, Value, json};
use store::FeedChange;

use crate::run::plain_fields;

/// One change as JSON: position, connection, data type, external id, action, the changed
/// fields before and after (plain values; a create has every field after, a removal neither),
/// the run that applied it (`null` for the API) and when.
pub fn change_json(change: &FeedChange) -> Value {
    let side = |values: &Option<Value>| match values {
        Some(Value::Object(fields)) => Value::Object(plain_fields(fields)),
        _ => Value::Null,
    };
    json!({
        "position": change.position,
        "connection": change.connection,
        "data_type": change.data_type,
        "external_id": change.external_id,
        "action": change.action.as_str(),
        "before": side(&change.before),
        "after": side(&change.after),
        "run_id": change.run_id,
        "at": change.at,
    })
}

/// The names of the fields a change touched, in order.
pub fn changed_fields(change: &FeedChange) -> Vec<String> {
    let names = |values: &Option<Value>| -> Vec<String> {
        values
            .as_ref()
            .and_then(Value::as_object)
            .map(|fields: &Map<String, Value>| fields.keys().cloned().collect())
            .unwrap_or_default()
    };
    let mut fields = names(&change.after);
    for name in names(&change.before) {
        if !fields.contains(&name) {
            fields.push(name);
        }
    }
    fields
}

//! The change feed as its readers see it (`GET /v1/changes`, `eventsync changes`): each change
//! with its fields' values plain, as records are exported.

use serde::Serialize;
use serde_json::{Map, Value, json};
use store::FeedChange;
use utoipa::ToSchema;

use crate::run::plain_fields;

/// One change as its readers see it: position, connection, data type, external id, action, the
/// changed fields before and after (plain values; a create has every field after, a removal
/// neither), the run that applied it (`null` for the API) and when, to the second as every time
/// the API and the command line show. `Change` in the OpenAPI document.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = Change)]
pub struct ShownChange {
    pub position: i64,
    pub connection: String,
    pub data_type: String,
    pub external_id: String,
    #[schema(schema_with = change_actions)]
    pub action: &'static str,
    #[schema(value_type = Option<Object>)]
    pub before: Option<Map<String, Value>>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<Map<String, Value>>,
    pub run_id: Option<i64>,
    #[schema(format = DateTime)]
    pub at: String,
}

fn change_actions() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(["create", "update", "cancel", "remove"]))
        .build()
}

impl From<&FeedChange> for ShownChange {
    fn from(change: &FeedChange) -> Self {
        let side = |values: &Option<Value>| match values {
            Some(Value::Object(fields)) => Some(plain_fields(fields)),
            _ => None,
        };
        ShownChange {
            position: change.position,
            connection: change.connection.clone(),
            data_type: change.data_type.clone(),
            external_id: change.external_id.clone(),
            action: change.action.as_str(),
            before: side(&change.before),
            after: side(&change.after),
            run_id: change.run_id,
            at: to_the_second(&change.at),
        }
    }
}

/// One change as JSON ([`ShownChange`]).
pub fn change_json(change: &FeedChange) -> Value {
    json!(ShownChange::from(change))
}

/// An RFC 3339 time in UTC to the second; text that is not one is shown as it is.
fn to_the_second(stamp: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(stamp).map_or_else(
        |_| stamp.to_string(),
        |at| {
            at.with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        },
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: the feed showed the store's microseconds where every other time is to the
    /// second.
    #[test]
    fn a_change_is_timed_to_the_second() {
        let change = FeedChange {
            position: 1,
            connection: "cvent".into(),
            data_type: "people".into(),
            external_id: "p-1".into(),
            action: store::FeedAction::Create,
            before: None,
            after: None,
            run_id: None,
            at: "2026-05-01T09:30:15.123456Z".into(),
        };
        assert_eq!(change_json(&change)["at"], "2026-05-01T09:30:15Z");
    }
}

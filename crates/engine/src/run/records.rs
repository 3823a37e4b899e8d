//! Stored records as the engine and exports read them.

use super::*;

pub fn to_record(data_type: DataType, stored: &StoredRecord) -> Record {
    Record {
        data_type,
        external_id: stored.external_id.clone(),
        fields: stored
            .fields
            .iter()
            .filter_map(|(k, v)| {
                serde_json::from_value::<FieldValue>(v.clone())
                    .ok()
                    .map(|v| (k.clone(), v))
            })
            .collect(),
    }
}

/// Whether an agenda export shows a stored record: sessions hidden because the vendor cancelled
/// them stay in the workspace (a later un-cancel restores them) but leave the agenda.
pub fn shown_in_agenda(data_type: DataType, stored: &StoredRecord) -> bool {
    data_type != DataType::Sessions
        || serde_json::from_value::<FieldValue>(
            stored.fields.get("hidden").cloned().unwrap_or(Value::Null),
        )
        .ok()
            != Some(FieldValue::Bool(true))
}

/// A stored record as an export shows it: plain JSON values under the workspace field names.
pub fn export_fields(stored: &StoredRecord) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert(
        "external_id".into(),
        Value::String(stored.external_id.clone()),
    );
    out.extend(plain_fields(&stored.fields));
    out
}

/// Stored fields (each value with its type tag) as plain JSON values: text and timestamps as
/// strings, numbers, booleans, `null`.
pub fn plain_fields(fields: &Map<String, Value>) -> Map<String, Value> {
    fields
        .iter()
        .map(|(key, value)| {
            let plain = match serde_json::from_value::<FieldValue>(value.clone()) {
                Ok(FieldValue::Text(t)) | Ok(FieldValue::Timestamp(t)) => Value::String(t),
                Ok(FieldValue::Bool(b)) => Value::Bool(b),
                Ok(FieldValue::Integer(i)) => Value::from(i),
                Ok(FieldValue::Null) | Err(_) => Value::Null,
            };
            (key.clone(), plain)
        })
        .collect()
}

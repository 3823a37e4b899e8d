//! Writes an imported workbook's changes into eventsync.toml with `toml_edit`: only the keys
//! that differ are set or removed, so comments, layout, secrets and everything else stay.

use serde::Serialize;
use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, TableLike, Value};

use super::{ConnectionBook, TypeBook, WorkbookError};
use crate::config::ConfigError;

/// `text` with the connection's configuration changed from `before` to `after`.
pub(super) fn rewrite(
    text: &str,
    before: &ConnectionBook,
    after: &ConnectionBook,
) -> Result<String, WorkbookError> {
    let mut document: DocumentMut = text
        .parse()
        .map_err(|e| ConfigError(format!("eventsync.toml: {e}")))?;
    let connection = connection_table(&mut document, &after.name)?;
    for (key, value) in &after.settings {
        let old = before
            .settings
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v);
        if old != Some(value) {
            connection.insert(key, Item::Value(edit_value(value)?));
        }
    }
    for (key, _) in &before.settings {
        if !after.settings.iter().any(|(k, _)| k == key) {
            connection.remove(key);
        }
    }
    let synced = |book: &ConnectionBook| -> Vec<&'static str> {
        book.types
            .iter()
            .filter(|t| t.synced)
            .map(|t| t.data_type.as_str())
            .collect()
    };
    if synced(before) != synced(after) {
        let names: Array = synced(after).into_iter().collect();
        connection.insert("data_types", toml_edit::value(names));
    }
    for (old, new) in before.types.iter().zip(&after.types) {
        write_data_config(connection, old, new)?;
    }
    Ok(document.to_string())
}

/// The `[[connections]]` table named `name`.
fn connection_table<'d>(
    document: &'d mut DocumentMut,
    name: &str,
) -> Result<&'d mut Table, WorkbookError> {
    document
        .get_mut("connections")
        .and_then(Item::as_array_of_tables_mut)
        .and_then(|connections| {
            connections
                .iter_mut()
                .find(|table| table.get("name").and_then(Item::as_str) == Some(name))
        })
        .ok_or_else(|| {
            WorkbookError::Config(ConfigError(format!(
                "eventsync.toml has no [[connections]] table named '{name}' to import into"
            )))
        })
}

/// Sets the keys of `[connections.data.<type>]` that differ between `old` and `new`.
fn write_data_config(
    connection: &mut Table,
    old: &TypeBook,
    new: &TypeBook,
) -> Result<(), WorkbookError> {
    let statuses_changed = old.statuses != new.statuses;
    let mapping_changed = !same_items(&old.mapping.rules, &new.mapping.rules);
    let filters_changed = !same_items(&old.filters, &new.filters);
    let labels_changed = !same_items(&old.labels, &new.labels);
    if !(statuses_changed
        || mapping_changed
        || filters_changed
        || labels_changed
        || old.remove_outdated != new.remove_outdated
        || old.subscribers != new.subscribers
        || old.guests != new.guests)
    {
        return Ok(());
    }
    let data = data_table(connection, new.data_type.as_str())?;
    if statuses_changed && let Some(statuses) = &new.statuses {
        let list: Array = statuses.as_list().iter().map(String::as_str).collect();
        data.insert("statuses", toml_edit::value(list));
    }
    if old.remove_outdated != new.remove_outdated {
        data.insert("remove_outdated", toml_edit::value(new.remove_outdated));
    }
    if old.subscribers != new.subscribers {
        set_list(data, "subscribers", &new.subscribers)?;
    }
    if let (Some(before), Some(after)) = (old.guests, new.guests) {
        if before.extra_invitee_registrations != after.extra_invitee_registrations {
            data.insert(
                "extra_invitee_registrations",
                toml_edit::value(after.extra_invitee_registrations),
            );
        }
        if before.guest_enrollment_tags != after.guest_enrollment_tags {
            data.insert(
                "guest_enrollment_tags",
                toml_edit::value(after.guest_enrollment_tags),
            );
        }
    }
    if mapping_changed {
        set_list(data, "mapping", &new.mapping.rules)?;
    }
    if filters_changed {
        set_list(data, "filters", &new.filters)?;
    }
    if labels_changed {
        set_list(data, "labels", &new.labels)?;
    }
    Ok(())
}

/// The same items, whatever their order.
fn same_items<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x)) && b.iter().all(|x| a.contains(x))
}

/// `[connections.data.<type>]`, created when the file has none.
fn data_table<'t>(
    connection: &'t mut Table,
    data_type: &str,
) -> Result<&'t mut dyn TableLike, WorkbookError> {
    let not_a_table = || {
        WorkbookError::Config(ConfigError(format!(
            "eventsync.toml: data.{data_type} of connection must be a table"
        )))
    };
    let data = connection.entry("data").or_insert_with(|| {
        let mut data = Table::new();
        data.set_implicit(true);
        Item::Table(data)
    });
    // Inside `data = { … }` only inline tables may go.
    let inline = data.is_inline_table();
    let data = data.as_table_like_mut().ok_or_else(not_a_table)?;
    if data.get(data_type).is_none() {
        let table = if inline {
            Item::Value(Value::InlineTable(InlineTable::new()))
        } else {
            Item::Table(Table::new())
        };
        data.insert(data_type, table);
    }
    data.get_mut(data_type)
        .and_then(Item::as_table_like_mut)
        .ok_or_else(not_a_table)
}

/// Sets `key` to `items`, one per line, or removes it when there are none.
fn set_list<T: Serialize>(
    table: &mut dyn TableLike,
    key: &str,
    items: &[T],
) -> Result<(), WorkbookError> {
    if items.is_empty() {
        table.remove(key);
        return Ok(());
    }
    let mut array = Array::new();
    for item in items {
        let value = toml::Value::try_from(item)
            .map_err(|e| ConfigError(format!("{key}: cannot be written as TOML: {e}")))?;
        array.push_formatted(edit_value(&without_false_flags(value))?.decorated("\n    ", ""));
    }
    array.set_trailing("\n");
    array.set_trailing_comma(true);
    table.insert(key, toml_edit::value(array));
    Ok(())
}

/// Leaves out `key = false` entries of a table, which are the defaults and only clutter a line.
fn without_false_flags(value: toml::Value) -> toml::Value {
    match value {
        toml::Value::Table(table) => toml::Value::Table(
            table
                .into_iter()
                .filter(|(_, v)| v.as_bool() != Some(false))
                .collect(),
        ),
        other => other,
    }
}

/// A `toml` value as a `toml_edit` one, through its inline TOML text.
fn edit_value(value: &toml::Value) -> Result<Value, WorkbookError> {
    value
        .to_string()
        .parse::<Value>()
        .map_err(|e| WorkbookError::Config(ConfigError(format!("cannot write {value}: {e}"))))
}

//! What an import changes: the differences between two [`ConnectionBook`]s, one line each,
//! by setting, by mapped field, by filter and by label.

use std::fmt;

use pipeline::rules::labels::Label;
use pipeline::{Filter, Rule, StatusSelection};

use super::{CONNECTION_SHEET, ConnectionBook, TypeBook};

/// One difference, as the import's preview shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// `connection` or a data type.
    pub sheet: String,
    /// What changed: a setting's name, `mapping of <field>`, `filter`, `label <name>`.
    pub item: String,
    /// `None` when added.
    pub before: Option<String>,
    /// `None` when removed.
    pub after: Option<String>,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Change {
            sheet,
            item,
            before,
            after,
        } = self;
        match (before, after) {
            (None, Some(after)) => write!(f, "{sheet}: added {item}: {after}"),
            (Some(before), None) => write!(f, "{sheet}: removed {item}: {before}"),
            (Some(before), Some(after)) => write!(f, "{sheet}: {item}: {before} → {after}"),
            (None, None) => write!(f, "{sheet}: {item}"),
        }
    }
}

/// Every difference from `before` to `after`, connection settings first, then data types in
/// sync order.
pub(super) fn between(before: &ConnectionBook, after: &ConnectionBook) -> Vec<Change> {
    let mut changes = Vec::new();
    keyed(
        &mut changes,
        CONNECTION_SHEET,
        &before.settings,
        &after.settings,
        |(key, _)| key.clone(),
        |(_, value)| value.to_string(),
    );
    for (old, new) in before.types.iter().zip(&after.types) {
        type_changes(&mut changes, old, new);
    }
    changes
}

fn type_changes(changes: &mut Vec<Change>, old: &TypeBook, new: &TypeBook) {
    let sheet = old.data_type.as_str();
    let mut setting = |item: &str, before: String, after: String| {
        if before != after {
            changes.push(Change {
                sheet: sheet.to_string(),
                item: item.to_string(),
                before: Some(before),
                after: Some(after),
            });
        }
    };
    setting("synced", yes_no(old.synced), yes_no(new.synced));
    if let (Some(before), Some(after)) = (&old.statuses, &new.statuses) {
        setting("statuses", statuses(before), statuses(after));
    }
    setting(
        "remove_outdated",
        yes_no(old.remove_outdated),
        yes_no(new.remove_outdated),
    );
    setting(
        "subscribers",
        list_or_none(&old.subscribers),
        list_or_none(&new.subscribers),
    );
    if let (Some(before), Some(after)) = (old.guests, new.guests) {
        setting(
            "extra_invitee_registrations",
            yes_no(before.extra_invitee_registrations),
            yes_no(after.extra_invitee_registrations),
        );
        setting(
            "guest_enrollment_tags",
            yes_no(before.guest_enrollment_tags),
            yes_no(after.guest_enrollment_tags),
        );
    }
    keyed(
        changes,
        sheet,
        &old.mapping.rules,
        &new.mapping.rules,
        |rule: &Rule| format!("mapping of {}", rule.target),
        describe_rule,
    );
    // Filters all hold at once, so their order means nothing; one reads as added, removed.
    for filter in old.filters.iter().filter(|f| !new.filters.contains(f)) {
        changes.push(filter_change(sheet, Some(filter), None));
    }
    for filter in new.filters.iter().filter(|f| !old.filters.contains(f)) {
        changes.push(filter_change(sheet, None, Some(filter)));
    }
    keyed(
        changes,
        sheet,
        &old.labels,
        &new.labels,
        |label: &Label| format!("label {}", label.name),
        |label| format!("question '{}'", label.question),
    );
}

/// Differences between two lists of items known by a key: added, removed and changed items.
/// Order alone is no change: settings are a table, rules fill distinct fields.
fn keyed<T>(
    changes: &mut Vec<Change>,
    sheet: &str,
    before: &[T],
    after: &[T],
    key: impl Fn(&T) -> String,
    describe: impl Fn(&T) -> String,
) {
    for old in before {
        let found = after.iter().find(|new| key(new) == key(old));
        let (old_text, new_text) = (describe(old), found.map(&describe));
        if new_text.as_ref() != Some(&old_text) {
            changes.push(Change {
                sheet: sheet.to_string(),
                item: key(old),
                before: Some(old_text),
                after: new_text,
            });
        }
    }
    for new in after {
        if !before.iter().any(|old| key(old) == key(new)) {
            changes.push(Change {
                sheet: sheet.to_string(),
                item: key(new),
                before: None,
                after: Some(describe(new)),
            });
        }
    }
}

fn filter_change(sheet: &str, before: Option<&Filter>, after: Option<&Filter>) -> Change {
    Change {
        sheet: sheet.to_string(),
        item: "filter".to_string(),
        before: before.map(Filter::to_string),
        after: after.map(Filter::to_string),
    }
}

fn describe_rule(rule: &Rule) -> String {
    let mut text = format!("from '{}'", rule.source);
    if rule.import_empty {
        text.push_str(", importing empty values");
    }
    if let Some(values) = rule
        .values
        .as_ref()
        .and_then(|values| toml::Value::try_from(values).ok())
    {
        text.push_str(&format!(", values {values}"));
    }
    text
}

fn statuses(selection: &StatusSelection) -> String {
    match selection.as_list() {
        [] => "every status".to_string(),
        list => list.join(", "),
    }
}

fn yes_no(flag: bool) -> String {
    if flag { "yes" } else { "no" }.to_string()
}

fn list_or_none(list: &[String]) -> String {
    if list.is_empty() {
        "none".to_string()
    } else {
        list.join(", ")
    }
}

//! The rules Cvent's spec sets on a listing's filter beyond the grammar: which operators each
//! field takes (`GET /attendees`, `GET /custom-fields`), the length of an event title's
//! `contains` value, and the custom-field listing's one required `category`.
//!
//! The grammar accepts every operator on every field; these tables narrow that per endpoint,
//! as the filter descriptions in the spec list them. `in` is the grammar's list of `eq`s (the
//! spec's filter guide writes `customField.{id} in ('a','b')`), so it is taken wherever `eq` is.
//! Endpoints without a table here keep the grammar's leniency.

use super::super::listing::Collection;
use super::{Filter, FilterError, Term};

const EQUALITY: &[&str] = &["eq", "ne"];
const ORDERED: &[&str] = &["eq", "ne", "lt", "le", "gt", "ge"];
const STARTS_WITH: &[&str] = &["eq", "ne", "sw"];
const PRESENCE: &[&str] = &[
    "eq",
    "ne",
    "is null",
    "is not null",
    "is empty",
    "is not empty",
];

/// `GET /attendees` (and `POST /attendees/filter`, which refers to it).
const ATTENDEE_OPERATORS: &OperatorTable = &[
    ("event.id", EQUALITY),
    ("id", EQUALITY),
    ("confirmationNumber", EQUALITY),
    ("checkedIn", EQUALITY),
    ("checkIn", ORDERED),
    ("checkOut", ORDERED),
    ("registrationPath.id", EQUALITY),
    ("invitationList.id", EQUALITY),
    ("registrationType.id", PRESENCE),
    ("referenceId", EQUALITY),
    ("externalReference.type", &["eq"]),
    ("externalReference.id", &["eq"]),
    ("externalReference.referenceId", &["eq"]),
    ("note", EQUALITY),
    ("guest", EQUALITY),
    ("group.leader", EQUALITY),
    ("group.id", EQUALITY),
    ("unsubscribed", EQUALITY),
    ("registeredAt", ORDERED),
    ("registrationLastModified", ORDERED),
    ("invitedBy", EQUALITY),
    ("responseMethod", EQUALITY),
    ("status", EQUALITY),
    ("lastModified", ORDERED),
    ("created", ORDERED),
    ("contact.id", EQUALITY),
    ("visibility", EQUALITY),
    ("contact.title", STARTS_WITH),
    ("contact.company", STARTS_WITH),
    ("contact.firstName", STARTS_WITH),
    ("contact.lastName", STARTS_WITH),
    ("answers.question.*", EQUALITY),
    ("contact.email", STARTS_WITH),
    ("attendeeLastModified", ORDERED),
    ("appointmentGroup.id", EQUALITY),
    ("contact.deleted", EQUALITY),
    ("primaryId", EQUALITY),
    ("deletedGuest", EQUALITY),
];

/// `GET /custom-fields`: `category (eq)` is required, one category at a time.
const CUSTOM_FIELD_OPERATORS: &OperatorTable = &[
    ("id", EQUALITY),
    ("category", &["eq"]),
    ("lastModified", ORDERED),
    ("code", EQUALITY),
];

/// `GET /events`: "Contains filters must be between 3 and 15 characters."
const EVENT_TITLE_CONTAINS: std::ops::RangeInclusive<usize> = 3..=15;

/// Checks `filter` (absent when the request had none) against the rules of the listing of
/// `collection`; the error's message says which rule and what to send instead.
pub fn check(collection: Collection, filter: Option<&Filter>) -> Result<(), FilterError> {
    match collection {
        Collection::Attendees => filter.map_or(Ok(()), |f| operators(f, ATTENDEE_OPERATORS)),
        Collection::CustomFields => custom_fields(filter),
        Collection::Events => filter.map_or(Ok(()), event_title_contains),
        _ => Ok(()),
    }
}

fn unsupported(message: String) -> FilterError {
    FilterError::Unsupported(message)
}

/// An endpoint's operators per field (a trailing `*` accepts any suffix).
type OperatorTable = [(&'static str, &'static [&'static str])];

fn operators(filter: &Filter, table: &OperatorTable) -> Result<(), FilterError> {
    for term in filter.terms() {
        let Some(allowed) = allowed_operators(table, term.field) else {
            continue;
        };
        let taken =
            allowed.contains(&term.operator) || (term.operator == "in" && allowed.contains(&"eq"));
        if !taken {
            return Err(unsupported(format!(
                "'{}' does not support the operator '{}'; it supports {}",
                term.field,
                term.operator,
                allowed.join(", ")
            )));
        }
    }
    Ok(())
}

fn allowed_operators(table: &OperatorTable, field: &str) -> Option<&'static [&'static str]> {
    table.iter().find_map(|(name, allowed)| {
        let matches = match name.strip_suffix('*') {
            Some(prefix) => field.len() > prefix.len() && field.starts_with(prefix),
            None => *name == field,
        };
        matches.then_some(*allowed)
    })
}

fn custom_fields(filter: Option<&Filter>) -> Result<(), FilterError> {
    const REQUIRED: &str = "a filter with one category is required, e.g. category eq 'Contact'";
    let Some(filter) = filter else {
        return Err(unsupported(REQUIRED.to_owned()));
    };
    operators(filter, CUSTOM_FIELD_OPERATORS)?;
    let categories: Vec<Term<'_>> = filter
        .terms()
        .into_iter()
        .filter(|term| term.field == "category")
        .collect();
    match categories.as_slice() {
        [] => Err(unsupported(REQUIRED.to_owned())),
        [one] if !one.under_or => Ok(()),
        _ => Err(unsupported(
            "one category can be provided at a time: list each category with its own request"
                .to_owned(),
        )),
    }
}

fn event_title_contains(filter: &Filter) -> Result<(), FilterError> {
    for term in filter.terms() {
        if term.field != "title" || term.operator != "contains" {
            continue;
        }
        let length = term.value.map_or(0, |value| value.chars().count());
        if !EVENT_TITLE_CONTAINS.contains(&length) {
            return Err(unsupported(format!(
                "title contains takes {} to {} characters, got {length}",
                EVENT_TITLE_CONTAINS.start(),
                EVENT_TITLE_CONTAINS.end()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cvent_rest::filter::Filterable;
    use crate::cvent_rest::wire::{Attendee, CustomField, Event};

    fn checked<T: Filterable>(collection: Collection, text: &str) -> Result<(), String> {
        let filter = Filter::parse(text, T::FILTER_FIELDS).map_err(|e| e.to_string())?;
        check(collection, Some(&filter)).map_err(|e| e.to_string())
    }

    /// (filter, refused with a message containing this, or accepted when `None`).
    #[test]
    fn attendee_fields_take_only_their_documented_operators() {
        let cases: &[(&str, Option<&str>)] = &[
            ("event.id eq 'e'", None),
            ("event.id ne 'e' and status eq 'Accepted'", None),
            (
                "event.id sw 'e'",
                Some("'event.id' does not support the operator 'sw'"),
            ),
            ("event.id eq 'e' and contact.lastName sw 'Lo'", None),
            (
                "contact.lastName contains 'Lo'",
                Some("supports eq, ne, sw"),
            ),
            ("lastModified ge '2024-01-01T00:00:00Z'", None),
            (
                "status gt 'A'",
                Some("'status' does not support the operator 'gt'"),
            ),
            ("id in ('a','b') or status eq 'No Response'", None),
            ("registrationType.id is null", None),
            ("registrationType.id is empty or guest eq true", None),
            (
                "guest is null",
                Some("'guest' does not support the operator 'is null'"),
            ),
            ("answers.question.q1 eq 'x'", None),
            ("answers.question.q1 sw 'x'", Some("supports eq, ne")),
            ("externalReference.type ne 'Marketo'", Some("supports eq")),
        ];
        for (text, expected) in cases {
            let result = checked::<Attendee>(Collection::Attendees, text);
            match expected {
                None => assert_eq!(result, Ok(()), "{text}"),
                Some(part) => assert!(
                    result.as_ref().is_err_and(|m| m.contains(part)),
                    "{text}: {result:?}"
                ),
            }
        }
    }

    #[test]
    fn custom_fields_need_exactly_one_category_not_joined_by_or() {
        assert!(check(Collection::CustomFields, None).is_err());
        let cases: &[(&str, bool)] = &[
            ("category eq 'Contact'", true),
            ("category eq 'Event' and code eq 'X'", true),
            (
                "(category eq 'Event') and lastModified gt '2021-03-19T11:30:37.909Z'",
                true,
            ),
            ("code eq 'X'", false),
            ("category eq 'Event' or category eq 'Contact'", false),
            ("category eq 'Event' and category eq 'Contact'", false),
            ("category eq 'Event' or code eq 'X'", false),
            ("category ne 'Event'", false),
            ("category in ('Event')", true),
        ];
        for (text, accepted) in cases {
            let result = checked::<CustomField>(Collection::CustomFields, text);
            assert_eq!(result.is_ok(), *accepted, "{text}: {result:?}");
        }
    }

    #[test]
    fn event_title_contains_takes_three_to_fifteen_characters() {
        for (text, accepted) in [
            ("title contains 'Su'", false),
            ("title contains 'Sum'", true),
            ("title co 'Summit 2027 Lisb'", false),
            ("title contains 'Summit 2027 Lis'", true),
            ("title eq 'Su'", true),
            ("code eq 'X' or title contains ''", false),
        ] {
            let result = checked::<Event>(Collection::Events, text);
            assert_eq!(result.is_ok(), accepted, "{text}: {result:?}");
        }
    }

    #[test]
    fn other_listings_keep_the_grammars_leniency() {
        let filter = Filter::parse("title sw 'a'", &["title"]).expect("parses");
        assert_eq!(check(Collection::Sessions, Some(&filter)), Ok(()));
        assert_eq!(check(Collection::Attendees, None), Ok(()));
    }
}

//! iMIS's JSON shapes: the .NET type names every object carries as `$type`, and the writers of
//! parties, activities, activity types, events, saved query rows, `PagedResult`s and the
//! `ValidateResultsData` error envelope.

use chrono::NaiveDateTime;
use serde_json::{Value, json};

use super::dataset::{
    ACTIVITY_PROPERTIES, Activity, ActivityType, Event, EventFunction, Party, PropertyValue,
};
use super::filter::Paging;
use super::query::{Column, SavedQuery};

pub const GENERIC_ENTITY: &str = "Asi.Soa.Core.DataContracts.GenericEntityData, Asi.Contracts";
pub const GENERIC_PROPERTY: &str = "Asi.Soa.Core.DataContracts.GenericPropertyData, Asi.Contracts";
pub const GENERIC_PROPERTIES: &str =
    "Asi.Soa.Core.DataContracts.GenericPropertyDataCollection, Asi.Contracts";
pub const IDENTITY: &str = "Asi.Soa.Core.DataContracts.IdentityData, Asi.Contracts";
pub const IDENTITY_ELEMENTS: &str =
    "System.Collections.ObjectModel.Collection`1[[System.String, mscorlib]], mscorlib";
pub const PARTY: &str = "Asi.Soa.Membership.DataContracts.PartyData, Asi.Contracts";
pub const PERSON: &str = "Asi.Soa.Membership.DataContracts.PersonData, Asi.Contracts";
pub const PERSON_NAME: &str = "Asi.Soa.Membership.DataContracts.PersonNameData, Asi.Contracts";
pub const EMAILS: &str = "Asi.Soa.Membership.DataContracts.EmailDataCollection, Asi.Contracts";
pub const EMAIL: &str = "Asi.Soa.Membership.DataContracts.EmailData, Asi.Contracts";
pub const PHONES: &str = "Asi.Soa.Membership.DataContracts.PhoneDataCollection, Asi.Contracts";
pub const ADDRESSES: &str =
    "Asi.Soa.Membership.DataContracts.FullAddressDataCollection, Asi.Contracts";
pub const PRIMARY_ORGANIZATION: &str =
    "Asi.Soa.Membership.DataContracts.PrimaryOrganizationInformationData, Asi.Contracts";
pub const PARTY_STATUS: &str = "Asi.Soa.Membership.DataContracts.PartyStatusData, Asi.Contracts";
pub const EVENT: &str = "Asi.Soa.Events.DataContracts.EventData, Asi.Contracts";
pub const EVENT_FUNCTION: &str = "Asi.Soa.Events.DataContracts.EventFunctionData, Asi.Contracts";
pub const EVENT_FUNCTIONS: &str =
    "Asi.Soa.Events.DataContracts.EventFunctionDataCollection, Asi.Contracts";
pub const VALIDATE_RESULTS: &str = "Asi.Soa.Core.DataContracts.ValidateResultsData, Asi.Contracts";
pub const VALIDATION_RESULTS: &str =
    "Asi.Soa.Core.DataContracts.ValidationResultCollection, Asi.Contracts";
pub const VALIDATION_RESULT: &str =
    "Asi.Soa.Core.DataContracts.ValidationResultData, Asi.Contracts";
/// The Query service's untyped result and its rows.
pub const UNTYPED_PAGED_RESULT: &str = "Asi.Soa.Core.DataContracts.PagedResult, Asi.Contracts";
pub const OBJECT_LIST: &str =
    "System.Collections.Generic.List`1[[System.Object, mscorlib]], mscorlib";
pub const EXPANDO: &str = "System.Dynamic.ExpandoObject, System.Core";

/// Dates as iMIS writes them: site-local, no offset, fractions of a second only when there
/// are some.
pub const DATE_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.f";

pub fn date(at: &NaiveDateTime) -> String {
    at.format(DATE_FORMAT).to_string()
}

/// Reads a date as iMIS takes one: `2026-03-02T09:00:00` (fractions of a second allowed) or a
/// bare `2026-03-02`; never with an offset, since the site's dates are local.
pub fn parse_date(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M"))
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|day| day.and_hms_opt(0, 0, 0))
        })
}

/// A typed scalar: `{"$type": "System.Int32", "$value": 42}`.
pub fn typed(type_name: &str, value: Value) -> Value {
    json!({"$type": type_name, "$value": value})
}

/// A `GenericPropertyData`.
pub fn property(name: &str, value: Value) -> Value {
    json!({"$type": GENERIC_PROPERTY, "Name": name, "Value": value})
}

fn properties(values: Vec<Value>) -> Value {
    json!({"$type": GENERIC_PROPERTIES, "$values": values})
}

/// An `IdentityData` naming one entity.
pub fn identity(entity: &str, id: &str) -> Value {
    json!({
        "$type": IDENTITY,
        "EntityTypeName": entity,
        "IdentityElements": {"$type": IDENTITY_ELEMENTS, "$values": [id]},
    })
}

/// A `PagedResult` of `element` (a full .NET type name): one page of `total` items.
pub fn paged(element: &str, items: Vec<Value>, paging: Paging, total: usize) -> Value {
    paged_as(
        &format!("Asi.Soa.Core.DataContracts.PagedResult`1[[{element}]], Asi.Contracts"),
        &format!("System.Collections.Generic.List`1[[{element}]], mscorlib"),
        items,
        paging,
        total,
    )
}

/// A `PagedResult` with the given type names (the Query service's is untyped).
pub fn paged_as(
    result_type: &str,
    list_type: &str,
    items: Vec<Value>,
    paging: Paging,
    total: usize,
) -> Value {
    let count = items.len();
    let has_next = paging.offset.saturating_add(count) < total && count > 0;
    json!({
        "$type": result_type,
        "Items": {"$type": list_type, "$values": items},
        "Offset": paging.offset,
        "Limit": paging.limit,
        "Count": count,
        "TotalCount": total,
        "NextPageLink": null,
        "HasNext": has_next,
        "NextOffset": if has_next { paging.offset + count } else { 0 },
    })
}

/// The error envelope: one `ValidationResultData` with `message` and `result_code`.
pub fn errors(message: &str, result_code: &str) -> Value {
    json!({
        "$type": VALIDATE_RESULTS,
        "Errors": {
            "$type": VALIDATION_RESULTS,
            "$values": [{
                "$type": VALIDATION_RESULT,
                "Message": message,
                "ResultCode": result_code,
            }],
        },
    })
}

/// A party as `PersonData`.
pub fn person(party: &Party) -> Value {
    let emails: Vec<Value> = party
        .emails
        .iter()
        .enumerate()
        .map(|(position, address)| {
            json!({
                "$type": EMAIL,
                "Address": address,
                "EmailType": "_Email",
                "IsPrimary": position == 0,
            })
        })
        .collect();
    let full_name = party.full_name();
    json!({
        "$type": PERSON,
        "PartyId": party.id,
        "Id": party.id,
        "Name": full_name,
        "PersonName": {
            "$type": PERSON_NAME,
            "FirstName": party.first_name,
            "LastName": party.last_name,
            "FullName": full_name,
        },
        "Emails": {"$type": EMAILS, "$values": emails},
        "Phones": {"$type": PHONES, "$values": []},
        "Addresses": {"$type": ADDRESSES, "$values": []},
        "PrimaryOrganization": {
            "$type": PRIMARY_ORGANIZATION,
            "Name": party.company.clone().unwrap_or_default(),
            "OrganizationPartyId": "",
        },
        "Status": {"$type": PARTY_STATUS, "PartyStatusId": "A", "Name": "Active"},
        "AdditionalAttributes": properties(vec![
            property("IsMember", typed("System.Boolean", json!(party.is_member))),
            property("CustomerTypeCode", json!(party.member_type)),
            property("Title", json!(party.title.clone().unwrap_or_default())),
        ]),
    })
}

/// A `LegacyActivityType` as `GenericEntityData`.
pub fn activity_type(kind: &ActivityType) -> Value {
    json!({
        "$type": GENERIC_ENTITY,
        "EntityTypeName": "LegacyActivityType",
        "Identity": identity("LegacyActivityType", &kind.code),
        "Properties": properties(vec![
            property("Code", json!(kind.code)),
            property("Description", json!(kind.description)),
        ]),
    })
}

/// A property value as iMIS writes it: text and dates plain, decimals typed.
fn property_value(value: &PropertyValue) -> Value {
    match value {
        PropertyValue::Text(text) => json!(text),
        PropertyValue::Decimal(number) => typed("System.Decimal", json!(number)),
        PropertyValue::Date(at) => json!(date(at)),
    }
}

/// An activity as `GenericEntityData`, with its `Identity` and `SEQN`.
pub fn activity(activity: &Activity) -> Value {
    let seqn = activity.seqn.to_string();
    let mut values = vec![property(
        "SEQN",
        typed("System.Int32", json!(activity.seqn)),
    )];
    values.extend(activity.values.iter().filter_map(|(position, value)| {
        ACTIVITY_PROPERTIES
            .get(*position)
            .map(|column| property(column.name, property_value(value)))
    }));
    json!({
        "$type": GENERIC_ENTITY,
        "EntityTypeName": "Activity",
        "PrimaryParentEntityTypeName": "Party",
        "Identity": identity("Activity", &seqn),
        "PrimaryParentIdentity": identity("Party", &activity.party_id()),
        "Properties": properties(values),
    })
}

fn optional_date(at: &Option<NaiveDateTime>) -> Value {
    at.as_ref().map_or(Value::Null, |at| json!(date(at)))
}

fn event_function(event: &Event, function: &EventFunction) -> Value {
    json!({
        "$type": EVENT_FUNCTION,
        "EventFunctionId": event.function_id(function),
        "EventFunctionCode": function.code,
        "Name": function.name,
        "Description": function.description,
        "StartDateTime": optional_date(&function.start),
        "EndDateTime": optional_date(&function.end),
        "Status": function.status,
    })
}

/// An event as `EventData`.
pub fn event(event: &Event) -> Value {
    let functions: Vec<Value> = event
        .functions
        .iter()
        .map(|function| event_function(event, function))
        .collect();
    json!({
        "$type": EVENT,
        "EventId": event.event_id,
        "EventCode": event.event_code,
        "Name": event.name,
        "Description": event.description,
        "StartDateTime": optional_date(&event.start),
        "EndDateTime": optional_date(&event.end),
        "Status": event.status,
        "Functions": {"$type": EVENT_FUNCTIONS, "$values": functions},
    })
}

/// A Query service row: a flat object of the query's columns.
pub fn query_row(query: &SavedQuery, party: &Party) -> Value {
    let mut row = serde_json::Map::new();
    row.insert("$type".into(), json!(EXPANDO));
    for column in &query.columns {
        row.insert(column.name().into(), json!(column.value(party)));
    }
    Value::Object(row)
}

/// An IQA row: `GenericEntityData` whose properties are `ResultRow` (counted from 1 across the
/// whole result) and the query's columns. Its `EntityTypeName` is a number, as IQA gives; here
/// the count of the query's columns.
pub fn iqa_row(query: &SavedQuery, party: &Party, result_row: usize) -> Value {
    let mut values = vec![property("ResultRow", json!(result_row.to_string()))];
    values.extend(
        query
            .columns
            .iter()
            .map(|column: &Column| property(column.name(), json!(column.value(party)))),
    );
    json!({
        "$type": GENERIC_ENTITY,
        "EntityTypeName": query.columns.len().to_string(),
        "Properties": properties(values),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_and_write_site_local() {
        let at = parse_date("2026-03-02T09:00:00").expect("a date");
        assert_eq!(date(&at), "2026-03-02T09:00:00");
        let day = parse_date("2026-03-02").expect("a day");
        assert_eq!(date(&day), "2026-03-02T00:00:00");
        let fraction = parse_date("2026-03-02T09:00:00.25").expect("with a fraction");
        assert_eq!(date(&fraction), "2026-03-02T09:00:00.250");
        assert_eq!(parse_date("2026-03-02T09:00:00Z"), None);
        assert_eq!(parse_date("2026-03-02T09:00:00+01:00"), None);
        assert_eq!(parse_date("March 2nd"), None);
    }

    #[test]
    fn the_last_page_has_no_next_offset() {
        let page = |offset, count, total| {
            let paging = Paging { offset, limit: 2 };
            paged(GENERIC_ENTITY, vec![json!({}); count], paging, total)
        };
        let first = page(0, 2, 3);
        assert_eq!(first["HasNext"], true);
        assert_eq!(first["NextOffset"], 2);
        let last = page(2, 1, 3);
        assert_eq!(last["HasNext"], false);
        assert_eq!(last["NextOffset"], 0);
        assert_eq!(
            last["$type"],
            "Asi.Soa.Core.DataContracts.PagedResult`1[[Asi.Soa.Core.DataContracts.GenericEntityData, Asi.Contracts]], Asi.Contracts"
        );
    }
}

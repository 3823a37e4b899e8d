//! Cvent's travel listings (`GET /events/{id}/event-travel/air-requests` and `…/hotel-requests`).
//!
//! Cvent files each request under the registered attendee: one listing item per attendee,
//! `{attendee: {id}, airRequestDetails: [...]}`, whose details are the attendee's own request and
//! those of their guests (`requesterType: Guest`, `requesterId` the guest's id) or of anyone else
//! they asked for (`Unknown`). The workspace keeps one record per request, so each item is split:
//! a record is the request's own JSON text with two members put first — the item's `attendee`,
//! verbatim, and `person: {id}`, the person who travels (the guest for a guest's request, the
//! attendee otherwise). The request's members stay as Cvent sent them.
//!
//! Filters on these endpoints are narrow: only `attendee.id eq|ne`, combined only with `or`, at
//! most [`MAX_FILTER_TERMS`] terms; [`attendee_filters`] batches ids to fit.

use pipeline::DataType;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::quote;
use crate::VendorRecord;

/// The most `attendee.id` terms Cvent accepts in one travel filter.
pub const MAX_FILTER_TERMS: usize = 17;

/// The listing path under `/events/{id}/` and the member holding each item's requests.
pub(super) fn listing(data_type: DataType) -> Option<(&'static str, &'static str)> {
    match data_type {
        DataType::AirRequests => Some(("event-travel/air-requests", "airRequestDetails")),
        DataType::HotelRequests => Some(("event-travel/hotel-requests", "hotelRequestDetails")),
        _ => None,
    }
}

/// Filters that together select the items of `attendee_ids`, each within Cvent's limit:
/// `attendee.id eq 'a' or attendee.id eq 'b' …`, at most [`MAX_FILTER_TERMS`] ids apiece.
pub fn attendee_filters(attendee_ids: &[String]) -> Vec<String> {
    attendee_ids
        .chunks(MAX_FILTER_TERMS)
        .map(|batch| {
            batch
                .iter()
                .map(|id| format!("attendee.id eq {}", quote(id)))
                .collect::<Vec<_>>()
                .join(" or ")
        })
        .collect()
}

#[derive(Deserialize)]
struct IdOnly {
    id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Requester {
    requester_type: Option<String>,
    requester_id: Option<String>,
}

/// Splits one listing item into its requests, one record each; an item that is not the JSON
/// Cvent documents yields the reason, which the engine reports as a rejection.
pub(super) fn split(item: &RawValue, details_key: &str) -> Result<Vec<VendorRecord>, String> {
    let members: BTreeMap<String, &RawValue> =
        serde_json::from_str(item.get()).map_err(|e| format!("not a JSON object: {e}"))?;
    let attendee = members.get("attendee").ok_or("the item has no attendee")?;
    let attendee_id = serde_json::from_str::<IdOnly>(attendee.get())
        .ok()
        .and_then(|a| a.id)
        .ok_or("the item's attendee has no id")?;
    let details: Vec<&RawValue> = match members.get(details_key) {
        None => Vec::new(),
        Some(list) => serde_json::from_str::<Option<Vec<&RawValue>>>(list.get())
            .map_err(|e| format!("{details_key} is not a list: {e}"))?
            .unwrap_or_default(),
    };
    details
        .into_iter()
        .map(|detail| request_record(detail, attendee, &attendee_id))
        .collect()
}

/// One request as a record: `attendee` and `person` first, then the request's own members.
fn request_record(
    detail: &RawValue,
    attendee: &RawValue,
    attendee_id: &str,
) -> Result<VendorRecord, String> {
    let text = detail.get().trim();
    let Some(rest) = text.strip_prefix('{') else {
        return Err(format!("a request is not a JSON object: {text}"));
    };
    let requester: Requester =
        serde_json::from_str(text).map_err(|e| format!("a request cannot be read: {e}"))?;
    let person = match (requester.requester_type.as_deref(), requester.requester_id) {
        (Some("Guest"), Some(guest_id)) if !guest_id.is_empty() => guest_id,
        _ => attendee_id.to_string(),
    };
    let person = serde_json::to_string(&person).map_err(|e| e.to_string())?;
    let separator = if rest.trim_start().starts_with('}') {
        ""
    } else {
        ","
    };
    let joined = format!(
        "{{\"attendee\":{},\"person\":{{\"id\":{person}}}{separator}{rest}",
        attendee.get()
    );
    let raw = RawValue::from_string(joined).map_err(|e| e.to_string())?;
    Ok(VendorRecord { raw })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_string()).expect("valid JSON")
    }

    #[test]
    fn items_split_into_one_record_per_request() {
        let item = raw(r#"{"attendee":{"id":"a-1"},"airRequestDetails":[
                {"airRequestId":"r-1","requesterType":"Contact","requesterId":"c-1","status":"SUBMITTED"},
                {"airRequestId":"r-2","requesterType":"Guest","requesterId":"g-1"},
                {"airRequestId":"r-3","requesterType":"Unknown"},
                {}]}"#);
        let records = split(&item, "airRequestDetails").expect("valid item");
        let json: Vec<serde_json::Value> = records.iter().map(VendorRecord::json).collect();
        // (request id, person)
        let expected = [
            (Some("r-1"), "a-1"),
            (Some("r-2"), "g-1"),
            (Some("r-3"), "a-1"),
            (None, "a-1"),
        ];
        assert_eq!(json.len(), expected.len());
        for (record, (id, person)) in json.iter().zip(expected) {
            assert_eq!(record["airRequestId"].as_str(), id, "{record}");
            assert_eq!(record["person"]["id"], person, "{record}");
            assert_eq!(record["attendee"]["id"], "a-1", "{record}");
        }
        assert_eq!(json[0]["status"], "SUBMITTED");
        // The request's members keep Cvent's text, escapes included.
        let escaped = raw(
            r#"{"attendee":{"id":"a"},"hotelRequestDetails":[{"hotelName":"Caf\u00e9 \"Inn\""}]}"#,
        );
        let records = split(&escaped, "hotelRequestDetails").expect("valid item");
        assert!(
            records[0]
                .raw
                .get()
                .ends_with(r#","hotelName":"Caf\u00e9 \"Inn\""}"#),
            "{}",
            records[0].raw.get()
        );
        assert_eq!(records[0].json()["hotelName"], "Café \"Inn\"");
    }

    #[test]
    fn items_cvent_does_not_document_say_why() {
        // (item, words of the reason)
        let cases = [
            ("[]", "not a JSON object"),
            (r#"{"airRequestDetails":[]}"#, "no attendee"),
            (r#"{"attendee":{}}"#, "attendee has no id"),
            (
                r#"{"attendee":{"id":"a"},"airRequestDetails":{}}"#,
                "is not a list",
            ),
            (
                r#"{"attendee":{"id":"a"},"airRequestDetails":[1]}"#,
                "not a JSON object",
            ),
        ];
        for (item, words) in cases {
            let error = split(&raw(item), "airRequestDetails").expect_err(item);
            assert!(error.contains(words), "{item}: {error}");
        }
        let empty = split(&raw(r#"{"attendee":{"id":"a"}}"#), "airRequestDetails");
        assert_eq!(empty.map(|r| r.len()), Ok(0));
    }

    #[test]
    fn attendee_filters_keep_within_cvents_limit() {
        let ids: Vec<String> = (0..40).map(|i| format!("id-{i}")).collect();
        let filters = attendee_filters(&ids);
        assert_eq!(filters.len(), 3);
        let terms = |filter: &str| filter.matches("attendee.id eq").count();
        assert_eq!(
            filters.iter().map(|f| terms(f)).collect::<Vec<_>>(),
            [17, 17, 6]
        );
        assert!(filters.iter().all(|f| !f.contains(" and ")));
        assert_eq!(
            attendee_filters(&ids[..2]),
            ["attendee.id eq 'id-0' or attendee.id eq 'id-1'"]
        );
        assert!(attendee_filters(&[]).is_empty());
    }
}

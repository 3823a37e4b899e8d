//! iMIS lists as `PagedResult`s: `Items` with `HasNext` and `NextOffset`, asked for with
//! `limit` and `offset`.

use reqwest::Method;
use serde_json::Value;

use super::client::Client;
use super::envelope::{boolean, field, integer, values_of};
use crate::ConnectorError;

/// The most items iMIS gives in one page.
pub const MAX_PAGE_SIZE: u32 = 500;

/// Where a listing goes after a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    Done,
    At(u64),
    /// The page points back at or before its own offset: following it would never end.
    Backwards(i64),
}

/// Where the listing goes after `page`, asked at `offset` and holding `received` items. It ends
/// on an empty page, on `HasNext` false, on `NextOffset` 0, and on an answer that is no
/// `PagedResult` (a plain array is the whole list).
pub(crate) fn next_after(page: &Value, offset: u64, received: usize) -> Next {
    if received == 0 || !page.is_object() {
        return Next::Done;
    }
    let has_next = field(page, "HasNext").and_then(boolean);
    if has_next == Some(false) {
        return Next::Done;
    }
    match field(page, "NextOffset").and_then(integer) {
        Some(0) => Next::Done,
        Some(next) if next > 0 && next as u64 > offset => Next::At(next as u64),
        Some(next) => Next::Backwards(next),
        None if has_next == Some(true) => Next::At(offset + received as u64),
        None => Next::Done,
    }
}

/// The items of one page: its `Items` collection, or the answer itself when it is an array.
pub(crate) fn items(page: Value) -> Vec<Value> {
    match page {
        Value::Array(items) => items,
        page => values_of(&page, "Items").to_vec(),
    }
}

/// One page of a listing at `offset`, and where the listing goes next.
pub(crate) async fn page(
    client: &Client,
    segments: &[&str],
    query: &[(&str, String)],
    offset: u64,
    limit: u32,
) -> Result<(Vec<Value>, Next), ConnectorError> {
    let mut query = query.to_vec();
    query.push(("limit", limit.to_string()));
    query.push(("offset", offset.to_string()));
    let page = client
        .call(Method::GET, segments, &query, None)
        .await?
        .into_json()?;
    let received = match &page {
        Value::Array(items) => items.len(),
        page => values_of(page, "Items").len(),
    };
    let next = next_after(&page, offset, received);
    Ok((items(page), next))
}

/// Every item of a listing, page after page.
pub(crate) async fn all(
    client: &Client,
    segments: &[&str],
    query: &[(&str, String)],
    limit: u32,
) -> Result<Vec<Value>, ConnectorError> {
    let limit = limit.clamp(1, MAX_PAGE_SIZE);
    let mut everything = Vec::new();
    let mut offset = 0;
    loop {
        let (items, next) = page(client, segments, query, offset, limit).await?;
        everything.extend(items);
        match next {
            Next::Done => return Ok(everything),
            Next::At(next) => offset = next,
            Next::Backwards(next) => {
                return Err(ConnectorError::Transient(format!(
                    "iMIS listed GET /{} at offset {offset} and pointed the next page at offset {next}: stopped rather than read the same pages again",
                    segments.join("/")
                )));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paged(has_next: Value, next_offset: Value) -> Value {
        json!({
            "$type": "Asi.Soa.Core.DataContracts.PagedResult, Asi.Contracts",
            "Items": {"$type": "List", "$values": [1, 2]},
            "Offset": 0, "Limit": 2, "Count": 2, "TotalCount": 10,
            "HasNext": has_next, "NextOffset": next_offset,
        })
    }

    #[test]
    fn a_listing_follows_next_offset_while_there_is_more() {
        assert_eq!(next_after(&paged(json!(true), json!(2)), 0, 2), Next::At(2));
        assert_eq!(
            next_after(
                &paged(
                    json!({"$type": "System.Boolean", "$value": true}),
                    json!("4")
                ),
                2,
                2
            ),
            Next::At(4)
        );
        // Without NextOffset, the next page starts after this one.
        assert_eq!(
            next_after(&paged(json!(true), json!(null)), 4, 2),
            Next::At(6)
        );
    }

    #[test]
    fn a_listing_ends_on_the_last_or_an_empty_page() {
        assert_eq!(next_after(&paged(json!(false), json!(0)), 8, 2), Next::Done);
        assert_eq!(
            next_after(&paged(json!(false), json!(10)), 8, 2),
            Next::Done
        );
        assert_eq!(next_after(&paged(json!(true), json!(0)), 8, 2), Next::Done);
        assert_eq!(next_after(&paged(json!(true), json!(10)), 8, 0), Next::Done);
        assert_eq!(
            next_after(&paged(json!(null), json!(null)), 0, 2),
            Next::Done
        );
        assert_eq!(next_after(&json!([1, 2]), 0, 2), Next::Done);
    }

    #[test]
    fn a_page_pointing_back_is_caught() {
        assert_eq!(
            next_after(&paged(json!(true), json!(4)), 4, 2),
            Next::Backwards(4)
        );
        assert_eq!(
            next_after(&paged(json!(true), json!(2)), 4, 2),
            Next::Backwards(2)
        );
        assert_eq!(
            next_after(&paged(json!(true), json!(-1)), 4, 2),
            Next::Backwards(-1)
        );
    }

    #[test]
    fn items_come_from_the_envelope_or_a_plain_array() {
        assert_eq!(
            items(paged(json!(false), json!(0))),
            vec![json!(1), json!(2)]
        );
        assert_eq!(items(json!([3])), vec![json!(3)]);
        assert!(items(json!({"Items": null})).is_empty());
    }
}

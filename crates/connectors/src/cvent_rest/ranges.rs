//! A full Cvent listing split into ranges of creation time, fetched side by side.
//!
//! `created` never changes, unlike `lastModified`, so a record belongs to one range for the
//! whole listing, however often it is edited meanwhile: ranges that tile time — the first open
//! below, the last open above — list every record once. The listing's first page tells its size
//! (`paging.totalCount`); a small listing simply goes on page by page. A larger one is cut where
//! the creation times of that first page's records fall at equal steps — registrations gather
//! as an event nears, so cuts of equal time would leave most records in the last ranges. Where
//! that page's times cannot tell (all the same, none readable), the time from the event's
//! creation to now is cut evenly. The listing's own first page is not kept — its records come
//! again in the ranges — and is reported as the split's price, with the number of ranges.
//!
//! How many ranges are fetched at once: enough that the ranges' calls, one at a time each, keep
//! the account's rate busy at the latency the first call showed (with room for slower answers),
//! and never more than the configured concurrency. How many ranges: half again as many as the
//! rate and latency call for, so that the fullest range — its pages one after another — ends
//! well before the listing would at the rate; the fullest are fetched first
//! ([`Partitioned`]). Each range ends on a page that is not full, so more ranges cost calls: a
//! range is meant to hold at least [`PAGES_PER_RANGE`] pages.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{CventRest, Endpoint, PAGE_SIZE, quote};
use crate::partition::{FetchPage, Fetched, Partitioned};
use crate::{ConnectorError, ListingPlan, VendorPage};

/// A listing of fewer pages than this is not split: its calls would barely overlap.
const SMALLEST_SPLIT_PAGES: u64 = 6;

/// How many more in flight than the rate times the first call's latency: answers vary (a page
/// in 300 to 800 ms is common), and with as many in flight as the first answer's time asked for,
/// a first answer at the quick end left the rate a fifth unused (8.2 calls a second of the
/// Standard tier's 10 over 50,000 attendees).
const LATENCY_ROOM: f64 = 2.5;

/// Ranges per call the rate and latency call for: more ranges than calls, so the fullest does
/// not hold the end. A range's pages come one after another, so a range of a twentieth of the
/// listing takes a twentieth of its pages' latency; ranges cut from a sample of 200 creation
/// times hold up to about twice their share.
const RANGES_PER_CALL: f64 = 1.5;

/// The fewest pages a range is meant to hold: each range but one ends on a page that is not
/// full, about half a call more than listing page by page would take.
const PAGES_PER_RANGE: u64 = 4;

/// One range of creation time and how far its listing has come.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Range {
    /// `created ge` this instant; `None` for the first range.
    #[serde(default)]
    from: Option<String>,
    /// `created lt` this instant; `None` for the last range.
    #[serde(default)]
    until: Option<String>,
    /// Cvent's token for the range's next page; `None` before its first.
    #[serde(default)]
    token: Option<String>,
}

impl Range {
    fn clause(&self) -> Option<String> {
        let from = self
            .from
            .as_deref()
            .map(|at| format!("created ge {}", quote(at)));
        let until = self
            .until
            .as_deref()
            .map(|at| format!("created lt {}", quote(at)));
        match (from, until) {
            (Some(from), Some(until)) => Some(format!("{from} and {until}")),
            (one, other) => one.or(other),
        }
    }
}

/// Whether a resume token is a split listing's.
pub fn is_token(token: &str) -> bool {
    Partitioned::<Range>::is_token(token)
}

/// Resumes a split listing from its token.
pub fn resume<'a>(
    connector: &'a CventRest,
    endpoint: &Endpoint,
    token: &str,
    concurrency: usize,
) -> Option<Partitioned<'a, Range>> {
    Partitioned::resume(token, concurrency, fetcher(connector, endpoint))
}

/// Fetches a range's next page. A token Cvent no longer knows lists the range again from its
/// start: its records already handed on come again and diff as unchanged.
fn fetcher<'a>(connector: &'a CventRest, endpoint: &Endpoint) -> FetchPage<'a, Range> {
    let endpoint = endpoint.clone();
    Box::new(move |range: Range| {
        let mut endpoint = endpoint.clone();
        endpoint.created_range = range.clause();
        Box::pin(async move {
            let bytes = match endpoint
                .fetch(connector, range.token.as_deref(), None, None)
                .await
            {
                Err(ConnectorError::ExpiredPageToken { token }) => {
                    tracing::info!(%token, path = %endpoint.path, "Cvent forgot a range's page token; listing the range again");
                    endpoint.fetch(connector, None, None, None).await?
                }
                outcome => outcome?,
            };
            let page = connector.page_of(&endpoint, &bytes)?;
            Ok(fetched(&range, page))
        })
    })
}

fn fetched(range: &Range, page: VendorPage) -> Fetched<Range> {
    Fetched {
        total: page.total,
        next: page.next_token.map(|token| Range {
            token: Some(token),
            ..range.clone()
        }),
        records: page.records,
    }
}

/// Splits a full listing whose first page is `first` (fetched in `took`), or `None` when it is
/// small enough to go on page by page.
pub async fn plan<'a>(
    connector: &'a CventRest,
    endpoint: &Endpoint,
    first: &VendorPage,
    concurrency: usize,
    took: Duration,
) -> Result<Option<Partitioned<'a, Range>>, ConnectorError> {
    let Some(total) = first.total else {
        return Ok(None);
    };
    let pages = total.div_ceil(u64::from(PAGE_SIZE));
    if first.next_token.is_none() || pages < SMALLEST_SPLIT_PAGES || concurrency < 2 {
        return Ok(None);
    }
    let per_second = connector.budget().limits().per_second;
    let wanted = (per_second * took.as_secs_f64() * LATENCY_ROOM).ceil() as usize;
    let in_flight = wanted.clamp(2, concurrency);
    let ranges = ((wanted.clamp(2, 2 * concurrency) as f64 * RANGES_PER_CALL).ceil() as u64)
        .min(pages / PAGES_PER_RANGE) as usize;
    if ranges < 2 {
        return Ok(None);
    }
    let now = connector.clock().at(Utc::now());
    let mut cuts = sample_cuts(first, ranges);
    if cuts.is_empty() {
        let created = connector
            .facts
            .lock()
            .await
            .event_created
            .as_deref()
            .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
            .map(|at| at.with_timezone(&Utc))
            .filter(|at| *at < now)
            .unwrap_or(now - chrono::Duration::days(365));
        cuts = even_cuts(created, now, ranges);
    }
    let partitions = tile(&cuts);
    let plan = ListingPlan {
        partitions: partitions.len() as u32,
        extra_calls: 1,
    };
    tracing::info!(path = %endpoint.path, total, ranges = plan.partitions, in_flight, "a full listing split into ranges of creation time");
    Ok(Some(Partitioned::new(
        partitions,
        in_flight,
        Some(total),
        Some(plan),
        fetcher(connector, endpoint),
    )))
}

/// The creation times at which `page`'s records fall into `ranges` groups of equal size, as
/// the inner cuts (distinct, in order); empty when the page cannot tell.
fn sample_cuts(page: &VendorPage, ranges: usize) -> Vec<String> {
    #[derive(Deserialize)]
    struct Created {
        created: Option<String>,
    }
    let mut times: Vec<DateTime<Utc>> = page
        .records
        .iter()
        .filter_map(|record| {
            serde_json::from_str::<Created>(record.raw.get())
                .ok()?
                .created
        })
        .filter_map(|at| bound(Some(&at)))
        .collect();
    times.sort();
    if times.len() < ranges * 2 {
        return Vec::new();
    }
    let mut cuts: Vec<String> = (1..ranges)
        .map(|i| stamp(times[i * times.len() / ranges]))
        .collect();
    cuts.dedup();
    cuts
}

/// Ranges that tile all of time at `cuts`: the first open below, the last open above.
fn tile(cuts: &[String]) -> Vec<Range> {
    let mut bounds: Vec<Option<String>> = vec![None];
    bounds.extend(cuts.iter().cloned().map(Some));
    bounds.push(None);
    bounds
        .windows(2)
        .map(|pair| Range {
            from: pair[0].clone(),
            until: pair[1].clone(),
            token: None,
        })
        .collect()
}

fn bound(at: Option<&str>) -> Option<DateTime<Utc>> {
    at.and_then(|at| DateTime::parse_from_rfc3339(at).ok())
        .map(|at| at.with_timezone(&Utc))
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The inner cuts of `parts` ranges of equal time from `start` to `end`.
fn even_cuts(start: DateTime<Utc>, end: DateTime<Utc>, parts: usize) -> Vec<String> {
    let parts = parts.max(1);
    let step = (end - start) / parts as i32;
    let mut cuts: Vec<String> = (1..parts).map(|i| stamp(start + step * i as i32)).collect();
    cuts.dedup();
    cuts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_tile_time_at_the_cuts() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let cuts = even_cuts(at("2026-01-01T00:00:00Z"), at("2026-01-05T00:00:00Z"), 4);
        assert_eq!(
            cuts,
            [
                "2026-01-02T00:00:00.000Z",
                "2026-01-03T00:00:00.000Z",
                "2026-01-04T00:00:00.000Z"
            ]
        );
        let ranges = tile(&cuts);
        assert_eq!(ranges.len(), 4);
        assert_eq!(ranges[0].from, None);
        assert_eq!(ranges[3].until, None);
        for pair in ranges.windows(2) {
            assert_eq!(pair[0].until, pair[1].from, "no gap, no overlap");
        }
        assert_eq!(
            ranges[1].clause().as_deref(),
            Some("created ge '2026-01-02T00:00:00.000Z' and created lt '2026-01-03T00:00:00.000Z'")
        );
        assert_eq!(
            ranges[0].clause().as_deref(),
            Some("created lt '2026-01-02T00:00:00.000Z'")
        );
    }

    #[test]
    fn cuts_follow_where_the_sample_gathers() {
        // Most records created on the last day: the cuts gather there too.
        let record = |at: &str| {
            crate::VendorRecord::from_value(&serde_json::json!({"id": at, "created": at}))
        };
        let mut records = vec![
            record("2026-01-01T00:00:00Z"),
            record("2026-01-02T00:00:00Z"),
        ];
        for minute in 0..18 {
            records.push(record(&format!("2026-01-09T10:{minute:02}:00Z")));
        }
        let page = VendorPage {
            records,
            next_token: None,
            total: None,
            plan: None,
        };
        let cuts = sample_cuts(&page, 4);
        assert_eq!(cuts.len(), 3);
        assert!(
            cuts.iter().all(|cut| cut.starts_with("2026-01-09")),
            "{cuts:?}"
        );
        // Too few records to tell, or identical times: no cuts from the sample.
        assert!(sample_cuts(&page, 11).is_empty());
        let same = VendorPage {
            records: (0..20).map(|_| record("2026-01-09T10:00:00Z")).collect(),
            ..page
        };
        assert_eq!(sample_cuts(&same, 4).len(), 1);
    }
}

//! A full Cvent listing split into ranges of creation time, fetched side by side.
//!
//! `created` never changes, unlike `lastModified`, so a record belongs to one range for the
//! whole listing, however often it is edited meanwhile: ranges that tile time — the first open
//! below, the last open above — list every record once. The listing's first page tells its size
//! (`paging.totalCount`); a small listing simply goes on page by page. A larger one is cut into
//! ranges of equal time between the event's creation and now, and each range's first page both
//! starts it and counts it; a range holding far more than its share is cut again (its first page
//! is then not kept), so skewed registrations — most of them in the last weeks — still give
//! ranges of about the same size. The calls whose records are not kept — the listing's own first
//! page and the first pages of ranges cut again — are the split's price, reported with the run.
//!
//! How many ranges: enough that the ranges' calls, one at a time each, keep the account's rate
//! busy at the latency the first call showed (with room for slower answers), and never more
//! than the configured concurrency.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::{CventRest, Endpoint, PAGE_SIZE, quote};
use crate::partition::{FetchPage, Fetched, Partitioned};
use crate::{ConnectorError, ListingPlan, VendorPage};

/// A listing of fewer pages than this is not split: its calls would barely overlap.
const SMALLEST_SPLIT_PAGES: u64 = 6;

/// How many more in flight than the rate times the latency, for answers slower than the first.
const LATENCY_ROOM: f64 = 1.5;

/// A range cut again when it holds this many times its share.
const CUT_AGAIN_ABOVE: f64 = 1.5;

/// Rounds of cutting: a range is cut again at most this many times over.
const ROUNDS: usize = 3;

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
    let ranges = wanted.clamp(2, concurrency).min((pages / 2) as usize);
    if ranges < 2 {
        return Ok(None);
    }
    let share = total.div_ceil(ranges as u64).max(u64::from(PAGE_SIZE));
    let now = connector.clock().at(Utc::now());
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
    let mut cuts = even_cuts(None, None, created, now, ranges);
    let fetch = fetcher(connector, endpoint);
    let mut kept: Vec<(Range, Fetched<Range>)> = Vec::new();
    // The listing's own first page is not kept: its records come again in the ranges.
    let mut extra_calls = 1;
    for round in 0..ROUNDS {
        let mut answers = futures_util::stream::iter(cuts.into_iter().map(|range| {
            let call = fetch(range.clone());
            async move { (range, call.await) }
        }))
        .buffer_unordered(concurrency);
        let mut again = Vec::new();
        while let Some((range, outcome)) = answers.next().await {
            let page = outcome?;
            // A range far over its share is cut again, its first page set aside.
            let parts = page
                .total
                .filter(|count| *count as f64 > share as f64 * CUT_AGAIN_ABOVE)
                .filter(|_| round + 1 < ROUNDS && page.next.is_some())
                .map_or(1, |count| count.div_ceil(share) as usize);
            let from = bound(range.from.as_deref()).unwrap_or(created);
            let until = bound(range.until.as_deref()).unwrap_or(now);
            if parts > 1 && until - from > chrono::Duration::milliseconds(parts as i64 * 2) {
                extra_calls += 1;
                again.extend(even_cuts(range.from, range.until, from, until, parts));
            } else {
                kept.push((range, page));
            }
        }
        if again.is_empty() {
            break;
        }
        cuts = again;
    }
    kept.sort_by(|(a, _), (b, _)| a.from.cmp(&b.from));
    let plan = ListingPlan {
        partitions: kept.len() as u32,
        extra_calls,
    };
    tracing::info!(path = %endpoint.path, total, partitions = plan.partitions, extra_calls, "a full listing split into ranges of creation time");
    Ok(Some(Partitioned::started(
        kept,
        concurrency,
        Some(total),
        Some(plan),
        fetch,
    )))
}

fn bound(at: Option<&str>) -> Option<DateTime<Utc>> {
    at.and_then(|at| DateTime::parse_from_rfc3339(at).ok())
        .map(|at| at.with_timezone(&Utc))
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `parts` ranges of equal time from `start` to `end`, the first from `lower` and the last to
/// `upper` (`None`: unbounded), so that together they cover what the range they cut covered.
fn even_cuts(
    lower: Option<String>,
    upper: Option<String>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    parts: usize,
) -> Vec<Range> {
    let parts = parts.max(1);
    let step = (end - start) / parts as i32;
    let inner: Vec<String> = (1..parts).map(|i| stamp(start + step * i as i32)).collect();
    (0..parts)
        .map(|i| Range {
            from: if i == 0 {
                lower.clone()
            } else {
                Some(inner[i - 1].clone())
            },
            until: if i + 1 == parts {
                upper.clone()
            } else {
                Some(inner[i].clone())
            },
            token: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_tile_the_range_they_cut() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let cuts = even_cuts(
            None,
            None,
            at("2026-01-01T00:00:00Z"),
            at("2026-01-05T00:00:00Z"),
            4,
        );
        assert_eq!(cuts.len(), 4);
        assert_eq!(cuts[0].from, None);
        assert_eq!(cuts[3].until, None);
        for pair in cuts.windows(2) {
            assert_eq!(pair[0].until, pair[1].from, "no gap, no overlap");
        }
        assert_eq!(cuts[1].from.as_deref(), Some("2026-01-02T00:00:00.000Z"));
        let again = even_cuts(
            cuts[1].from.clone(),
            cuts[1].until.clone(),
            at("2026-01-02T00:00:00Z"),
            at("2026-01-03T00:00:00Z"),
            2,
        );
        assert_eq!(again[0].from, cuts[1].from);
        assert_eq!(again[1].until, cuts[1].until);
        assert_eq!(again[0].until, again[1].from);
        assert_eq!(
            again[0].clause().as_deref(),
            Some("created ge '2026-01-02T00:00:00.000Z' and created lt '2026-01-02T12:00:00.000Z'")
        );
        assert_eq!(
            cuts[0].clause().as_deref(),
            Some("created lt '2026-01-02T00:00:00.000Z'")
        );
    }
}

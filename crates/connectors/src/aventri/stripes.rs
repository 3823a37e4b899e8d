//! A full Aventri listing read in stripes of offsets, side by side.
//!
//! Aventri pages by `offset` and `limit` and never says how many records a listing holds: the
//! end is an answer that no records were found. So a long listing — one whose first page came
//! back full — is dealt out in stripes: with `k` stripes and pages of `limit`, stripe `i` reads
//! the pages at offsets `limit·(1 + i)`, `limit·(1 + i + k)`, … until a page comes back short or
//! empty. Each stripe is a partition of [`crate::partition`], so a killed run resumes every
//! stripe where its last page handed on left it. A page the gateway refuses is read again in
//! smaller pieces within the stripe's own range of offsets, so the stripes never overlap.
//!
//! The price: each stripe ends on one answer with no records, where a listing read page by page
//! ends on one such answer in all.

use std::time::Duration;

use pipeline::DataType;
use serde::{Deserialize, Serialize};

use super::{Aventri, LIMITS, Source};
use crate::ListingPlan;
use crate::VendorRecord;
use crate::partition::{FetchPage, Fetched, Partitioned};

/// How many more in flight than the rate times the first call's latency: answers vary (a page
/// in 300 to 800 ms is common), and with as many in flight as the first answer's time asked for,
/// a first answer at the quick end left the rate a fifth unused (8.2 calls a second of the
/// Standard tier's 10 over 50,000 attendees).
const LATENCY_ROOM: f64 = 2.5;

/// Where a stripe's listing has come: within the range of offsets `[end - len, end)` it reads
/// now, from `offset`, in pages of `limit`; then `stride` further on (never, when 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stripe {
    offset: u64,
    end: u64,
    len: u64,
    stride: u64,
    limit: u32,
}

impl Stripe {
    /// The stripe's state after a page of `read` records asked with `asked` and answered with
    /// pages of `limit` from now on; `None` when the listing ended in it or the stripe is done.
    fn after(&self, read: u64, asked: u32, limit: u32) -> Option<Stripe> {
        if read < u64::from(asked) {
            return None;
        }
        let offset = self.offset + read;
        if offset < self.end {
            return Some(Stripe {
                offset,
                limit,
                ..self.clone()
            });
        }
        (self.stride > 0).then(|| {
            let start = self.end - self.len + self.stride;
            Stripe {
                offset: start,
                end: start + self.len,
                limit,
                ..self.clone()
            }
        })
    }
}

/// Whether a resume token is a striped listing's.
pub fn is_token(token: &str) -> bool {
    Partitioned::<Stripe>::is_token(token)
}

/// Resumes a striped listing from its token.
pub fn resume<'a>(
    connector: &'a Aventri,
    data_type: DataType,
    source: Source,
    token: &str,
    concurrency: usize,
) -> Option<Partitioned<'a, Stripe>> {
    Partitioned::resume(token, concurrency, fetcher(connector, data_type, source))
}

/// Deals out the rest of a listing whose first page, of `limit` records, came back full
/// (`records`, fetched in `took`).
pub fn split(
    connector: &Aventri,
    data_type: DataType,
    source: Source,
    records: Vec<VendorRecord>,
    limit: u32,
    concurrency: usize,
    took: Duration,
) -> Partitioned<'_, Stripe> {
    let wanted = (LIMITS.per_second * took.as_secs_f64() * LATENCY_ROOM).ceil() as usize;
    let stripes = wanted.clamp(2, concurrency.max(2));
    let len = u64::from(limit);
    let first = Stripe {
        offset: 0,
        end: len,
        len,
        stride: 0,
        limit,
    };
    let partitions = vec![(
        first,
        Fetched {
            records,
            next: None,
            total: None,
        },
    )];
    let stride = len * stripes as u64;
    let rest: Vec<Stripe> = (0..stripes as u64)
        .map(|i| Stripe {
            offset: len * (1 + i),
            end: len * (2 + i),
            len,
            stride,
            limit,
        })
        .collect();
    tracing::info!(
        function = source.function(),
        stripes,
        limit,
        "a full listing read in stripes of offsets"
    );
    let fetch = fetcher(connector, data_type, source);
    let mut listing = Partitioned::started(
        partitions,
        concurrency,
        None,
        Some(ListingPlan {
            partitions: stripes as u32 + 1,
            extra_calls: 0,
        }),
        fetch,
    );
    listing.add(rest);
    listing
}

fn fetcher(connector: &Aventri, data_type: DataType, source: Source) -> FetchPage<'_, Stripe> {
    Box::new(move |stripe: Stripe| {
        Box::pin(async move {
            let asked = stripe.limit.min((stripe.end - stripe.offset).max(1) as u32);
            let (page, limit) = connector
                .list_page(source, None, stripe.offset, asked)
                .await?;
            let Some(page) = page else {
                return Ok(Fetched {
                    records: Vec::new(),
                    next: None,
                    total: None,
                });
            };
            // A smaller page after a gateway failure asks the rest of the range in pieces of it.
            let read = page.len() as u64;
            let next_limit = if limit < asked { limit } else { stripe.limit };
            let next = stripe.after(read, limit, next_limit);
            let records = connector.records_of(data_type, source, page).await?;
            Ok(Fetched {
                records,
                next,
                total: None,
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stripe_reads_its_ranges_and_stops_at_a_short_page() {
        let stripe = Stripe {
            offset: 200,
            end: 300,
            len: 100,
            stride: 300,
            limit: 100,
        };
        // A full page: on to the stripe's next range, three ranges further.
        let next = stripe.after(100, 100, 100).expect("more");
        assert_eq!((next.offset, next.end), (500, 600));
        // Pages halved by the gateway: the rest of the same range first.
        let halved = stripe.after(50, 50, 50).expect("more");
        assert_eq!((halved.offset, halved.end, halved.limit), (250, 300, 50));
        let next = halved.after(50, 50, 50).expect("more");
        assert_eq!((next.offset, next.end), (500, 600));
        // A short page ends the listing.
        assert_eq!(stripe.after(99, 100, 100), None);
        // The first page's stripe has no further ranges.
        let first = Stripe {
            offset: 0,
            end: 100,
            len: 100,
            stride: 0,
            limit: 100,
        };
        assert_eq!(first.after(100, 100, 100), None);
    }
}

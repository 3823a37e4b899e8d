//! A listing split into partitions that are fetched side by side.
//!
//! A vendor answers a page in hundreds of milliseconds but allows several calls a second; one
//! listing asks for one page at a time, so it runs at the vendor's latency, not at its rate. A
//! connector that can split a listing into independent parts (ranges of creation time, offsets,
//! batches of ids) hands them to [`Partitioned`], which keeps up to `concurrency` calls in flight
//! — each still waiting for the account's rate budget — and gives the engine one page at a time,
//! as a plain listing would.
//!
//! Each partition fetches its pages in order, one call at a time. A page is handed on with a
//! resume token naming, for every partition, where its listing goes on after the pages already
//! handed on: a run killed anywhere resumes every partition from the last page the engine
//! committed, and pages fetched ahead but not handed on are simply fetched again. Only the last
//! page of the last partition carries no token, so the engine's rule "the cursor moves with the
//! listing's last page" holds for the listing as a whole.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{ConnectorError, ListingPlan, VendorPage, VendorRecord};

/// What one call of a partition brought back.
pub struct Fetched<S> {
    pub records: Vec<VendorRecord>,
    /// Where the partition goes on; `None` when this was its last page.
    pub next: Option<S>,
    /// The vendor's count of the partition's records, when the page carried one.
    pub total: Option<u64>,
}

type Call<'a, S> =
    Pin<Box<dyn Future<Output = (usize, Result<Fetched<S>, ConnectorError>)> + Send + 'a>>;

/// Fetches a partition's page from its state.
pub type FetchPage<'a, S> = Box<
    dyn Fn(S) -> Pin<Box<dyn Future<Output = Result<Fetched<S>, ConnectorError>> + Send + 'a>>
        + Send
        + Sync
        + 'a,
>;

/// The resume token of a partitioned listing: each partition's state after its last page
/// handed on (`None` once handed on whole), and what the plan found.
#[derive(Serialize, serde::Deserialize)]
struct Token<S> {
    partitions: Vec<Option<S>>,
    total: Option<u64>,
}

/// A partitioned listing in progress.
pub struct Partitioned<'a, S> {
    fetch: FetchPage<'a, S>,
    /// Per partition, where a resumed listing would start it: the state after its last page
    /// handed on; `None` once every page of it has been.
    resume: Vec<Option<S>>,
    /// Per partition, the records it has left to fetch, where the vendor counted them.
    left: Vec<Option<u64>>,
    /// Partitions with a page to fetch and no call in flight, in the order they became so.
    waiting: VecDeque<(usize, S)>,
    in_flight: FuturesUnordered<Call<'a, S>>,
    /// Pages fetched and not yet handed on, in the order they arrived (per partition, in order).
    ready: VecDeque<(usize, Fetched<S>)>,
    concurrency: usize,
    total: Option<u64>,
    /// Told with the first page handed on, when this run planned the partitions.
    plan: Option<ListingPlan>,
}

impl<'a, S> Partitioned<'a, S>
where
    S: Clone + Send + Serialize + DeserializeOwned + 'a,
{
    /// A listing of `partitions`, each from its first state.
    pub fn new(
        partitions: Vec<S>,
        concurrency: usize,
        total: Option<u64>,
        plan: Option<ListingPlan>,
        fetch: FetchPage<'a, S>,
    ) -> Self {
        Self::resumed(
            partitions.into_iter().map(Some).collect(),
            concurrency,
            total,
            plan,
            fetch,
        )
    }

    fn resumed(
        partitions: Vec<Option<S>>,
        concurrency: usize,
        total: Option<u64>,
        plan: Option<ListingPlan>,
        fetch: FetchPage<'a, S>,
    ) -> Self {
        let waiting = partitions
            .iter()
            .enumerate()
            .filter_map(|(index, state)| Some((index, state.clone()?)))
            .collect();
        Partitioned {
            fetch,
            left: vec![None; partitions.len()],
            resume: partitions,
            waiting,
            in_flight: FuturesUnordered::new(),
            ready: VecDeque::new(),
            concurrency: concurrency.max(1),
            total,
            plan,
        }
    }

    /// A listing of partitions whose first pages were fetched while planning it: each
    /// partition's first state, and the page that state brought.
    pub fn started(
        partitions: Vec<(S, Fetched<S>)>,
        concurrency: usize,
        total: Option<u64>,
        plan: Option<ListingPlan>,
        fetch: FetchPage<'a, S>,
    ) -> Self {
        let mut listing = Self::resumed(Vec::new(), concurrency, total, plan, fetch);
        for (index, (first, page)) in partitions.into_iter().enumerate() {
            listing.resume.push(Some(first));
            listing.left.push(None);
            if let Some(next) = &page.next {
                listing.waiting.push_back((index, next.clone()));
            }
            listing.ready.push_back((index, page));
        }
        listing
    }

    /// Adds partitions to the listing, each from its first state.
    pub fn add(&mut self, partitions: Vec<S>) {
        for state in partitions {
            self.waiting.push_back((self.resume.len(), state.clone()));
            self.resume.push(Some(state));
            self.left.push(None);
        }
    }

    /// The listing a resume token describes, or `None` when the token is not one of ours (a
    /// vendor's own token, from a listing that was not partitioned).
    pub fn resume(token: &str, concurrency: usize, fetch: FetchPage<'a, S>) -> Option<Self> {
        let token: Token<S> = serde_json::from_str(token).ok()?;
        Some(Self::resumed(
            token.partitions,
            concurrency,
            token.total,
            None,
            fetch,
        ))
    }

    /// Whether `token` resumes a partitioned listing.
    pub fn is_token(token: &str) -> bool {
        serde_json::from_str::<Token<S>>(token).is_ok()
    }

    /// Starts calls for waiting partitions while there is room: `concurrency` calls in flight,
    /// and no more pages fetched ahead than that, so memory stays bounded.
    ///
    /// The partition with the most records left goes first, and one not yet counted before any:
    /// a partition's pages come one after another, so the fullest one sets when the listing
    /// ends, and should never wait behind smaller ones. Among equals, the longest waiting.
    fn start_calls(&mut self) {
        while self.in_flight.len() < self.concurrency
            && self.ready.len() + self.in_flight.len() < 2 * self.concurrency
        {
            let left = |index: usize| self.left[index].unwrap_or(u64::MAX);
            let mut fullest: Option<(usize, u64)> = None;
            for (at, (index, _)) in self.waiting.iter().enumerate() {
                if fullest.is_none_or(|(_, most)| left(*index) > most) {
                    fullest = Some((at, left(*index)));
                }
            }
            let Some((index, state)) = fullest.and_then(|(at, _)| self.waiting.remove(at)) else {
                break;
            };
            let call = (self.fetch)(state);
            self.in_flight
                .push(Box::pin(async move { (index, call.await) }));
        }
    }

    fn token(&self) -> String {
        let token = Token {
            partitions: self.resume.clone(),
            total: self.total,
        };
        // A token of strings, numbers and options always serializes.
        serde_json::to_string(&token).unwrap_or_default()
    }

    /// The next page, or `None` once every partition has been handed on whole.
    pub async fn next_page(&mut self) -> Result<Option<VendorPage>, ConnectorError> {
        loop {
            self.start_calls();
            if let Some((index, fetched)) = self.ready.pop_front() {
                self.resume[index] = fetched.next;
                let finished =
                    self.ready.is_empty() && self.in_flight.is_empty() && self.waiting.is_empty();
                return Ok(Some(VendorPage {
                    records: fetched.records,
                    next_token: (!finished).then(|| self.token()),
                    total: self.total,
                    plan: self.plan.take(),
                }));
            }
            match self.in_flight.next().await {
                None => return Ok(None),
                Some((index, Ok(fetched))) => {
                    let read = fetched.records.len() as u64;
                    let left = &mut self.left[index];
                    *left = match (*left, fetched.total) {
                        (Some(left), _) | (None, Some(left)) => Some(left.saturating_sub(read)),
                        (None, None) => None,
                    };
                    if let Some(next) = &fetched.next {
                        self.waiting.push_back((index, next.clone()));
                    }
                    self.ready.push_back((index, fetched));
                }
                Some((_, Err(error))) => return Err(error),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// Partition `p` holds records `p*100 .. p*100 + sizes[p]`, served 3 per page by offset.
    fn listing<'a>(
        sizes: &'a [u64],
        in_flight: Arc<AtomicUsize>,
        most: Arc<AtomicUsize>,
    ) -> FetchPage<'a, (usize, u64)> {
        Box::new(move |(partition, offset): (usize, u64)| {
            let in_flight = in_flight.clone();
            let most = most.clone();
            Box::pin(async move {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5 + (partition as u64 * 7) % 11)).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                let end = (offset + 3).min(sizes[partition]);
                let records = (offset..end)
                    .map(|i| {
                        VendorRecord::from_value(&serde_json::json!(partition as u64 * 100 + i))
                    })
                    .collect();
                Ok(Fetched {
                    records,
                    next: (end < sizes[partition]).then_some((partition, end)),
                    total: None,
                })
            })
        })
    }

    fn ids(page: &VendorPage) -> Vec<u64> {
        page.records
            .iter()
            .map(|r| r.json().as_u64().unwrap())
            .collect()
    }

    #[tokio::test]
    async fn every_record_comes_once_and_only_the_last_page_ends_the_listing() {
        let sizes = [10, 0, 7, 25, 1];
        let in_flight = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let partitions = (0..sizes.len()).map(|p| (p, 0)).collect();
        let mut listing = Partitioned::new(
            partitions,
            3,
            Some(43),
            None,
            listing(&sizes, in_flight, most.clone()),
        );
        let mut seen = Vec::new();
        let mut ended = false;
        while let Some(page) = listing.next_page().await.unwrap() {
            assert!(!ended, "a page after the one without a token");
            assert_eq!(page.total, Some(43));
            seen.extend(ids(&page));
            ended = page.next_token.is_none();
        }
        assert!(ended);
        seen.sort();
        let expected: Vec<u64> = sizes
            .iter()
            .enumerate()
            .flat_map(|(p, &n)| (0..n).map(move |i| p as u64 * 100 + i))
            .collect();
        assert_eq!(seen, expected);
        assert_eq!(
            most.load(Ordering::SeqCst),
            3,
            "calls side by side, no more"
        );
    }

    #[tokio::test]
    async fn the_partition_with_the_most_records_left_is_fetched_first() {
        // Partition `p` holds `sizes[p]` records, served 3 a page, each page with its count.
        let sizes = [6u64, 30, 9];
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = order.clone();
        let fetch: FetchPage<'_, (usize, u64)> = Box::new(move |(partition, offset)| {
            seen.lock().unwrap().push(partition);
            Box::pin(async move {
                let end = (offset + 3).min(sizes[partition]);
                Ok(Fetched {
                    records: (offset..end)
                        .map(|i| VendorRecord::from_value(&serde_json::json!(i)))
                        .collect(),
                    next: (end < sizes[partition]).then_some((partition, end)),
                    total: Some(sizes[partition]),
                })
            })
        });
        let partitions = (0..sizes.len()).map(|p| (p, 0)).collect();
        let mut listing = Partitioned::new(partitions, 1, None, None, fetch);
        while listing.next_page().await.unwrap().is_some() {}
        let order = order.lock().unwrap().clone();
        // Each partition's first page in turn (none counted yet), then the fullest until it has
        // no more left than the next, and so on.
        assert_eq!(&order[..3], &[0, 1, 2]);
        assert!(
            order[3..10].iter().all(|&p| p == 1),
            "the fullest first: {order:?}"
        );
        assert_eq!(order.len(), 15);
    }

    #[tokio::test]
    async fn a_listing_resumed_from_any_token_misses_nothing() {
        let sizes = [10, 4, 7, 25];
        let partitions: Vec<(usize, u64)> = (0..sizes.len()).map(|p| (p, 0)).collect();
        let counter = || Arc::new(AtomicUsize::new(0));
        // Stop after each number of pages in turn, resume from that page's token, and check
        // that what was handed on before and after covers every record.
        for stop in 1..15 {
            let mut listing = Partitioned::new(
                partitions.clone(),
                2,
                None,
                None,
                listing(&sizes, counter(), counter()),
            );
            let mut seen = Vec::new();
            let mut token = None;
            for _ in 0..stop {
                let page = listing.next_page().await.unwrap().unwrap();
                seen.extend(ids(&page));
                token = page.next_token;
            }
            if let Some(token) = token {
                let mut rest =
                    Partitioned::resume(&token, 2, listing_fn(&sizes)).expect("our token");
                while let Some(page) = rest.next_page().await.unwrap() {
                    seen.extend(ids(&page));
                }
            }
            seen.sort();
            seen.dedup();
            assert_eq!(seen.len(), 46, "stopped after {stop} pages");
        }
        assert!(
            Partitioned::<(usize, u64)>::resume("a1b2-vendor-token", 2, listing_fn(&sizes))
                .is_none()
        );
    }

    fn listing_fn(sizes: &[u64]) -> FetchPage<'_, (usize, u64)> {
        listing(
            sizes,
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
        )
    }

    #[tokio::test]
    async fn an_error_in_one_partition_stops_the_listing() {
        let fetch: FetchPage<'_, u32> = Box::new(|state: u32| {
            Box::pin(async move {
                if state == 2 {
                    Err(ConnectorError::Transient("boom".into()))
                } else {
                    Ok(Fetched {
                        records: Vec::new(),
                        next: None,
                        total: None,
                    })
                }
            })
        });
        let mut listing = Partitioned::new(vec![1, 2, 3], 3, None, None, fetch);
        let mut outcome = Ok(None);
        for _ in 0..3 {
            outcome = listing.next_page().await.map(|page| page.map(|_| ()));
            if outcome.is_err() {
                break;
            }
        }
        assert!(matches!(outcome, Err(ConnectorError::Transient(_))));
    }
}

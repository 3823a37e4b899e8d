//! Page commits: consecutive pages gathered into one transaction with the last one's checkpoint,
//! written one at a time while the next pages are read, and the ids a run has written.

use super::*;

/// The external ids written in this run, as a Bloom filter of fixed size: an id it has never
/// seen is surely not stored, one it answers for may be (about one in a thousand falsely at a
/// million ids, more beyond), which costs a lookup, never a wrong diff. Memory stays 4 MiB
/// however many records a run writes.
pub(super) struct Written {
    bits: Vec<u64>,
    hasher: std::collections::hash_map::RandomState,
}

impl Written {
    /// 2^25 bits.
    const BITS: u64 = 1 << 25;
    pub(super) fn new() -> Written {
        Written {
            bits: vec![0; (Self::BITS / 64) as usize],
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }

    /// The id's three bit positions, by double hashing from one 64-bit hash.
    fn positions(&self, id: &str) -> [usize; 3] {
        let hash = self.hasher.hash_one(id);
        let (first, step) = (hash & 0xffff_ffff, (hash >> 32) | 1);
        [0u64, 1, 2].map(|i| (first.wrapping_add(i.wrapping_mul(step)) % Self::BITS) as usize)
    }

    pub(super) fn add(&mut self, id: &str) {
        for position in self.positions(id) {
            self.bits[position / 64] |= 1 << (position % 64);
        }
    }

    pub(super) fn may_have(&self, id: &str) -> bool {
        self.positions(id)
            .into_iter()
            .all(|position| self.bits[position / 64] & (1 << (position % 64)) != 0)
    }
}

/// Records a sync gathers from consecutive pages into one commit (with the last page's
/// checkpoint). Each record written puts a new key at a random place in the key index, and a
/// commit writes every index page it touched: with commits of one 200-record page that was
/// about one page per record. With 4,000 records the index pages are shared, SQLite's
/// per-transaction work is paid once for twenty pages, and a sync of 100,000 attendees writes
/// about 40% fewer bytes.
pub(super) const BATCH_RECORDS: usize = 4_000;

/// How long a batch gathers pages before it is written however few records it holds, so that
/// a slow listing still lands (and resumes) a page or so at a time.
pub(super) const BATCH_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Batches a sync may have being written while the next one gathers.
pub(super) const BATCHES_IN_FLIGHT: usize = 1;

/// Pages gathered into one commit, and the external ids they write.
pub(super) struct Batch {
    pub(super) commit: PageCommit,
    pub(super) ids: HashSet<String>,
    pub(super) gathering_since: std::time::Instant,
}

/// A commit in progress, and the external ids it writes.
pub(super) struct InFlight {
    pub(super) commit: tokio::task::JoinHandle<Result<(), StoreError>>,
    pub(super) ids: HashSet<String>,
    /// Says whether the commit landed, for the next batch's commit to wait on.
    pub(super) landed: Option<tokio::sync::oneshot::Receiver<bool>>,
}

impl InFlight {
    pub(super) async fn land(self) -> Result<(), StoreError> {
        match self.commit.await {
            Ok(outcome) => outcome,
            Err(error) => Err(StoreError::Query(format!("a page commit stopped: {error}"))),
        }
    }
}

impl TypeRun<'_> {
    /// Adds a page to the batch being gathered, and sends the batch to be written once it holds
    /// [`BATCH_RECORDS`] records or has gathered for [`BATCH_WAIT`].
    pub(super) async fn queue(&mut self, page: PageCommit) -> Result<(), StoreError> {
        let ids = page.upserts.iter().map(|r| r.external_id.clone());
        match self.batch.as_mut() {
            Some(batch) => {
                batch.ids.extend(ids);
                batch.commit.absorb(page);
            }
            None => {
                self.batch = Some(Batch {
                    ids: ids.collect(),
                    commit: page,
                    gathering_since: std::time::Instant::now(),
                })
            }
        }
        if self.batch.as_ref().is_some_and(|batch| {
            batch.commit.upserts.len() >= BATCH_RECORDS
                || batch.gathering_since.elapsed() >= BATCH_WAIT
        }) {
            self.send_batch();
            while self.in_flight.len() > BATCHES_IN_FLIGHT {
                if let Some(oldest) = self.in_flight.pop_front() {
                    oldest.land().await?;
                }
            }
        }
        Ok(())
    }

    /// Starts writing the batch gathered so far, if any. Batches are written in order, one at
    /// a time; each is written while the next pages are fetched and mapped, and packed while
    /// the one before it is written, which keeps both cores busy: the reading goes on while a
    /// write is held up by the disk, until the next batch is full.
    pub(super) fn send_batch(&mut self) {
        let Some(Batch { commit, ids, .. }) = self.batch.take() else {
            return;
        };
        let before = self.in_flight.back_mut().and_then(|p| p.landed.take());
        let (landed, landed_signal) = tokio::sync::oneshot::channel();
        let store = self.store.clone();
        let handle = tokio::spawn(async move {
            let before = async move {
                match before {
                    Some(signal) => signal.await.unwrap_or(false),
                    None => true,
                }
            };
            let outcome = store.commit_page_after(&commit, before).await;
            let _ = landed.send(outcome.is_ok());
            outcome
        });
        self.in_flight.push_back(InFlight {
            commit: handle,
            ids,
            landed: Some(landed_signal),
        });
    }

    /// Writes the batch gathered so far and waits for every commit in flight.
    pub(super) async fn land(&mut self) -> Result<(), StoreError> {
        self.send_batch();
        while let Some(pending) = self.in_flight.pop_front() {
            pending.land().await?;
        }
        Ok(())
    }
}

//! What a sync's whole full listing counts, from which the stream's vendor totals are worked out.

use super::*;

/// What a sync's whole full listing counted, from which the stream's totals are worked out.
#[derive(Debug, Default)]
pub(super) struct Tally {
    /// Records per action, as the run counts them.
    pub(super) counts: BTreeMap<String, u64>,
    /// Records a filter left out or a rejection kept out that the workspace holds all the same
    /// (from an earlier sync): they are in the workspace's total, so they explain no difference.
    pub(super) filtered_held: u64,
    pub(super) rejected_held: u64,
    /// Records a rule derived from the listed ones (extra invitee registrations).
    pub(super) derived: u64,
}

impl Tally {
    pub(super) fn count(&self, action: &str) -> u64 {
        self.counts.get(action).copied().unwrap_or(0)
    }

    /// The totals of a listing of `listed` records after which the workspace holds `workspace`.
    /// `others` is `None` when the listing held every status, and otherwise the vendor's count
    /// of the statuses it left out (`Some(None)`: the vendor did not count them).
    pub(super) fn totals(
        &self,
        listed: u64,
        workspace: u64,
        others: Option<Option<u64>>,
        run_id: i64,
        counted_at: String,
    ) -> VendorTotals {
        let admitted = self.count(ActionKind::Create.as_str())
            + self.count(ActionKind::Update.as_str())
            + self.count(ActionKind::Unchanged.as_str());
        let (vendor_total, left_out_by_status) = match others {
            // The engine saw every status and skipped those it did not import.
            None => (Some(listed), Some(self.count(SKIPPED))),
            Some(None) => (None, None),
            // The workspace records this listing did not return have a status outside the
            // selection (people who left it, kept up to date): they are among `others` but in
            // the workspace, so they are no part of what the status rule left out.
            Some(Some(others)) => {
                let held_outside = workspace.saturating_sub(admitted);
                (
                    Some(listed + others),
                    Some(others.saturating_sub(held_outside)),
                )
            }
        };
        VendorTotals {
            vendor_total,
            left_out_by_status,
            filtered: self.count(FILTERED).saturating_sub(self.filtered_held),
            rejected: self
                .count(ActionKind::Reject.as_str())
                .saturating_sub(self.rejected_held),
            derived: self.derived,
            counted_at,
            run_id,
        }
    }
}

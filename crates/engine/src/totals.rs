//! Monitoring totals: the vendor's number of records of a data type against the workspace's, and
//! the difference explained — records the status rule left out, records filters left out,
//! records rejected as invalid, and the rest, not yet synced.
//!
//! The vendor's side is what a sync's full listing counted when it last went through the data
//! type whole (kept by the store beside the stream's state); the workspace's side is counted now.
//! Nothing here asks the vendor, so `status` works offline and costs no quota. When the vendor's
//! total is unknown the comparison says so rather than guess.

use serde::Serialize;
use store::{Store, StoreError, VendorTotals};
use utoipa::ToSchema;

/// One data type's totals, compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Totals {
    /// The vendor's number of records, when known.
    pub vendor: Option<u64>,
    /// The workspace's number of records now.
    pub workspace: u64,
    /// When the vendor's side was counted, and by which run; `None` before the first sync that
    /// listed everything.
    pub counted_at: Option<String>,
    pub counted_by_run: Option<i64>,
    /// What kept vendor records out of the workspace, as the counting listing found it.
    pub left_out: LeftOut,
    /// Vendor records the workspace should hold but does not: the difference the counts above
    /// do not explain. `None` when the vendor's total is unknown.
    pub not_yet_synced: Option<u64>,
    /// Workspace records beyond what the vendor's count explains: synced after the count, or
    /// no longer listed by the vendor. `None` when the vendor's total is unknown.
    pub beyond_vendor_count: Option<u64>,
    /// The comparison in one plain sentence.
    pub explanation: String,
}

/// Vendor records kept out of the workspace, and why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = TotalsLeftOut)]
pub struct LeftOut {
    /// By the status rule (a status not imported); `None` when the vendor did not count them.
    pub by_status: Option<u64>,
    pub by_filters: u64,
    pub rejected: u64,
    /// Not left out but added: workspace records a rule derived from the vendor's (extra
    /// invitee registrations), which the vendor's total does not hold.
    pub derived: u64,
}

/// The totals of one data type of a connection.
pub async fn of(store: &Store, connection: &str, data_type: &str) -> Result<Totals, StoreError> {
    let workspace = store.count(connection, data_type).await?;
    let counted = store.totals(connection, data_type).await?;
    Ok(compare(workspace, counted.as_ref()))
}

/// Compares the workspace's total with what the vendor's listing counted.
pub fn compare(workspace: u64, counted: Option<&VendorTotals>) -> Totals {
    let Some(counted) = counted else {
        return Totals {
            vendor: None,
            workspace,
            counted_at: None,
            counted_by_run: None,
            left_out: LeftOut::default(),
            not_yet_synced: None,
            beyond_vendor_count: None,
            explanation: format!(
                "vendor total unknown: no sync has listed this data type whole yet (a full sync \
                 counts it); the workspace holds {workspace}"
            ),
        };
    };
    let left_out = LeftOut {
        by_status: counted.left_out_by_status,
        by_filters: counted.filtered,
        rejected: counted.rejected,
        derived: counted.derived,
    };
    let mut totals = Totals {
        vendor: counted.vendor_total,
        workspace,
        counted_at: Some(counted.counted_at.clone()),
        counted_by_run: Some(counted.run_id),
        left_out,
        not_yet_synced: None,
        beyond_vendor_count: None,
        explanation: String::new(),
    };
    let Some(vendor) = counted.vendor_total else {
        totals.explanation = format!(
            "vendor total unknown: the vendor did not count its records when run {} listed them \
             at {}; the workspace holds {workspace}",
            counted.run_id, counted.counted_at
        );
        return totals;
    };
    let explained = totals.left_out.by_status.unwrap_or(0)
        + totals.left_out.by_filters
        + totals.left_out.rejected;
    let expected = vendor.saturating_sub(explained) + totals.left_out.derived;
    totals.not_yet_synced = Some(expected.saturating_sub(workspace));
    totals.beyond_vendor_count = Some(workspace.saturating_sub(expected));
    totals.explanation = explain(&totals, vendor);
    totals
}

/// "vendor 1000 (at …), workspace 700: 300 fewer — 250 left out by status, …".
fn explain(totals: &Totals, vendor: u64) -> String {
    let workspace = totals.workspace;
    let mut parts = Vec::new();
    match totals.left_out.by_status {
        Some(0) => {}
        Some(n) => parts.push(format!("{n} left out by the status rule")),
        None => parts.push("those left out by the status rule uncounted".to_string()),
    }
    if totals.left_out.by_filters > 0 {
        parts.push(format!(
            "{} left out by filters",
            totals.left_out.by_filters
        ));
    }
    if totals.left_out.rejected > 0 {
        parts.push(format!("{} rejected", totals.left_out.rejected));
    }
    if totals.left_out.derived > 0 {
        parts.push(format!(
            "{} derived from guests' registrations (extra invitee registrations)",
            totals.left_out.derived
        ));
    }
    if let Some(n) = totals.not_yet_synced.filter(|n| *n > 0) {
        parts.push(format!("{n} not yet synced"));
    }
    if let Some(n) = totals.beyond_vendor_count.filter(|n| *n > 0) {
        parts.push(format!(
            "{n} more in the workspace than the vendor's count explains (synced since, or no \
             longer listed by the vendor)"
        ));
    }
    let at = totals.counted_at.as_deref().unwrap_or("");
    let head = format!("vendor {vendor} (counted {at}), workspace {workspace}");
    let gap = match vendor.cmp(&workspace) {
        std::cmp::Ordering::Greater => format!("{} fewer", vendor - workspace),
        std::cmp::Ordering::Less => format!("{} more", workspace - vendor),
        std::cmp::Ordering::Equal => "the same".to_string(),
    };
    if parts.is_empty() {
        format!("{head}: {gap}")
    } else {
        format!("{head}: {gap} — {}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counted(
        vendor: Option<u64>,
        by_status: Option<u64>,
        filtered: u64,
        rejected: u64,
    ) -> VendorTotals {
        VendorTotals {
            vendor_total: vendor,
            left_out_by_status: by_status,
            filtered,
            rejected,
            derived: 0,
            counted_at: "2026-05-01T10:00:00.000Z".into(),
            run_id: 7,
        }
    }

    /// Registrations derived from guests' are in the workspace's total but not the vendor's:
    /// they are named, not taken for records synced since.
    #[test]
    fn derived_registrations_are_explained() {
        let mut with_derived = counted(Some(100), Some(0), 0, 0);
        with_derived.derived = 12;
        let totals = compare(112, Some(&with_derived));
        assert_eq!(totals.beyond_vendor_count, Some(0));
        assert_eq!(totals.not_yet_synced, Some(0));
        assert_eq!(
            totals.explanation,
            "vendor 100 (counted 2026-05-01T10:00:00.000Z), workspace 112: 12 more — 12 derived \
             from guests' registrations (extra invitee registrations)"
        );
    }

    #[test]
    fn the_difference_is_explained_and_the_rest_is_not_yet_synced() {
        // (workspace, counted, not yet synced, beyond the count, explanation)
        let cases = [
            (
                700,
                Some(counted(Some(1000), Some(250), 30, 5)),
                Some(15),
                Some(0),
                "vendor 1000 (counted 2026-05-01T10:00:00.000Z), workspace 700: 300 fewer — \
                 250 left out by the status rule, 30 left out by filters, 5 rejected, 15 not yet synced",
            ),
            (
                715,
                Some(counted(Some(1000), Some(250), 30, 5)),
                Some(0),
                Some(0),
                "vendor 1000 (counted 2026-05-01T10:00:00.000Z), workspace 715: 285 fewer — \
                 250 left out by the status rule, 30 left out by filters, 5 rejected",
            ),
            (
                12,
                Some(counted(Some(10), Some(0), 0, 0)),
                Some(0),
                Some(2),
                "vendor 10 (counted 2026-05-01T10:00:00.000Z), workspace 12: 2 more — 2 more in \
                 the workspace than the vendor's count explains (synced since, or no longer \
                 listed by the vendor)",
            ),
            (
                10,
                Some(counted(Some(10), Some(0), 0, 0)),
                Some(0),
                Some(0),
                "vendor 10 (counted 2026-05-01T10:00:00.000Z), workspace 10: the same",
            ),
            (
                3,
                Some(counted(None, None, 1, 0)),
                None,
                None,
                "vendor total unknown: the vendor did not count its records when run 7 listed \
                 them at 2026-05-01T10:00:00.000Z; the workspace holds 3",
            ),
            (
                3,
                None,
                None,
                None,
                "vendor total unknown: no sync has listed this data type whole yet (a full sync \
                 counts it); the workspace holds 3",
            ),
        ];
        for (workspace, counted, not_yet, beyond, explanation) in cases {
            let totals = compare(workspace, counted.as_ref());
            assert_eq!(totals.not_yet_synced, not_yet, "{counted:?}");
            assert_eq!(totals.beyond_vendor_count, beyond, "{counted:?}");
            assert_eq!(totals.explanation, explanation);
            assert_eq!(totals.workspace, workspace);
        }
    }
}

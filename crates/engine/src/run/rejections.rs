//! Rejections as a run's summary tells them: records rejected for the same reason are one line,
//! with their number and one of them as the example, so that a hundred registrations pointing
//! at one rejected session read as one problem. The report keeps every rejection on its own row.

use serde::Serialize;

/// Records of one data type rejected for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectionGroup {
    pub reason: String,
    pub count: u64,
    /// The external id of the first record rejected for it (empty for a record without one).
    pub example: String,
}

/// As a summary line after "rejected": `r-1: <reason>` for one record, `142 records, such as
/// r-1: <reason>` for several.
impl std::fmt::Display for RejectionGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.count, self.example.is_empty()) {
            (1, true) => write!(f, "{}", self.reason),
            (1, false) => write!(f, "{}: {}", self.example, self.reason),
            (count, true) => write!(f, "{count} records: {}", self.reason),
            (count, false) => write!(
                f,
                "{count} records, such as {}: {}",
                self.example, self.reason
            ),
        }
    }
}

/// How many distinct reasons a summary names; rejections for others are counted in one last
/// group that sends the reader to the report.
pub const REASONS_KEPT: usize = 20;

/// The reason of the last group, which counts the rejections whose reasons were not kept.
pub const OTHER_REASONS: &str = "other reasons: see the report's reason column";

/// Counts a rejection of `external_id` for `reason` in `groups`.
pub fn note(groups: &mut Vec<RejectionGroup>, external_id: &str, reason: &str) {
    if let Some(group) = groups.iter_mut().find(|group| group.reason == reason) {
        group.count += 1;
        return;
    }
    if groups.len() < REASONS_KEPT {
        groups.push(RejectionGroup {
            reason: reason.to_string(),
            count: 1,
            example: external_id.to_string(),
        });
        return;
    }
    match groups
        .iter_mut()
        .find(|group| group.reason == OTHER_REASONS)
    {
        Some(other) => other.count += 1,
        None => groups.push(RejectionGroup {
            reason: OTHER_REASONS.to_string(),
            count: 1,
            example: external_id.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alike_rejections_are_one_group_with_their_count_and_first_record() {
        let mut groups = Vec::new();
        for (id, reason) in [
            ("r-1", "refers to session 's-9', which was rejected itself"),
            ("r-2", "refers to session 's-8', which was rejected itself"),
            ("r-3", "refers to session 's-9', which was rejected itself"),
            ("r-4", "refers to session 's-9', which was rejected itself"),
        ] {
            note(&mut groups, id, reason);
        }
        assert_eq!(
            groups,
            [
                RejectionGroup {
                    reason: "refers to session 's-9', which was rejected itself".into(),
                    count: 3,
                    example: "r-1".into(),
                },
                RejectionGroup {
                    reason: "refers to session 's-8', which was rejected itself".into(),
                    count: 1,
                    example: "r-2".into(),
                },
            ]
        );
    }

    #[test]
    fn a_group_reads_as_its_count_an_example_and_the_reason() {
        let group = |count, example: &str| {
            RejectionGroup {
                reason: "no start time".into(),
                count,
                example: example.into(),
            }
            .to_string()
        };
        assert_eq!(group(1, "s-1"), "s-1: no start time");
        assert_eq!(group(1, ""), "no start time");
        assert_eq!(group(3, "s-1"), "3 records, such as s-1: no start time");
        assert_eq!(group(3, ""), "3 records: no start time");
    }

    #[test]
    fn past_the_kept_reasons_the_rest_are_counted_together() {
        let mut groups = Vec::new();
        for index in 0..REASONS_KEPT + 5 {
            note(
                &mut groups,
                &format!("r-{index}"),
                &format!("reason {index}"),
            );
        }
        note(&mut groups, "r-0", "reason 0");
        assert_eq!(groups.len(), REASONS_KEPT + 1);
        assert_eq!(groups[0].count, 2);
        let other = groups.last().expect("other");
        assert_eq!(
            (other.reason.as_str(), other.count, other.example.as_str()),
            (OTHER_REASONS, 5, "r-20")
        );
    }
}

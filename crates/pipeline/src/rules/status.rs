//! Which vendor statuses a data type imports, such as Cvent attendees that are `Accepted`.
//!
//! The selection is written with the vendor's exact spellings. A record whose status is outside
//! it is skipped — unless the workspace already holds it: a person imported while `Accepted`
//! who is then `Cancelled` at the vendor must still be updated, or the workspace would go on
//! showing them as coming.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The vendor statuses a data type imports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusSelection {
    /// Every status (an empty list in the configuration).
    #[default]
    All,
    /// Only these vendor spellings; never empty.
    Only(Vec<String>),
}

/// What the status rule does with one vendor record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusVerdict {
    /// The status is selected: the record goes on to the diff.
    Import,
    /// The status is not selected but the workspace holds the record: it goes on to the diff so
    /// that the workspace learns of the change (a cancellation, say).
    FollowUp,
    /// The status is not selected and the workspace does not hold the record.
    Skip(StatusSkipped),
}

/// Why a record was skipped, as the report says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSkipped {
    /// The vendor's status, empty when the record has none.
    pub status: String,
    pub selected: Vec<String>,
}

impl fmt::Display for StatusSkipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = if self.status.is_empty() {
            "no status".to_string()
        } else {
            format!("status '{}'", self.status)
        };
        write!(
            f,
            "statuses to import: {status} is not among {}",
            self.selected.join(", ")
        )
    }
}

/// A configured status the vendor does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{given}' is not a status the vendor uses{}; valid statuses are {}, spelt exactly so",
    suggestion.as_ref().map(|s| format!(" (did you mean '{s}'?)")).unwrap_or_default(),
    valid.join(", ")
)]
pub struct UnknownStatus {
    pub given: String,
    pub suggestion: Option<String>,
    pub valid: Vec<String>,
}

impl StatusSelection {
    /// Reads a configured list against the vendor's spellings: an empty list selects every
    /// status; each entry must be one of `valid` exactly (a near miss is named in the error).
    pub fn parse(list: &[String], valid: &[&str]) -> Result<StatusSelection, UnknownStatus> {
        let mut chosen: Vec<String> = Vec::new();
        for given in list {
            if !valid.contains(&given.as_str()) {
                let squeeze = |text: &str| {
                    text.chars()
                        .filter(|c| c.is_alphanumeric())
                        .flat_map(char::to_lowercase)
                        .collect::<String>()
                };
                return Err(UnknownStatus {
                    given: given.clone(),
                    suggestion: valid
                        .iter()
                        .find(|v| squeeze(v) == squeeze(given))
                        .map(|v| v.to_string()),
                    valid: valid.iter().map(|v| v.to_string()).collect(),
                });
            }
            if !chosen.contains(given) {
                chosen.push(given.clone());
            }
        }
        Ok(if chosen.is_empty() {
            StatusSelection::All
        } else {
            StatusSelection::Only(chosen)
        })
    }

    /// The configured list: empty for every status.
    pub fn as_list(&self) -> &[String] {
        match self {
            StatusSelection::All => &[],
            StatusSelection::Only(list) => list,
        }
    }

    pub fn admits(&self, status: Option<&str>) -> bool {
        match self {
            StatusSelection::All => true,
            StatusSelection::Only(list) => status.is_some_and(|s| list.iter().any(|l| l == s)),
        }
    }

    /// The rule applied to one record: its vendor status and whether the workspace holds it.
    pub fn judge(&self, status: Option<&str>, in_workspace: bool) -> StatusVerdict {
        if self.admits(status) {
            StatusVerdict::Import
        } else if in_workspace {
            StatusVerdict::FollowUp
        } else {
            StatusVerdict::Skip(StatusSkipped {
                status: status.unwrap_or_default().to_string(),
                selected: self.as_list().to_vec(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &[&str] = &["Accepted", "Cancelled", "Pending Approval", "No Response"];

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parsing_a_configured_list() {
        // (configured, expected selection or the error's words)
        let cases: &[(&[&str], Result<StatusSelection, &str>)] = &[
            (&[], Ok(StatusSelection::All)),
            (
                &["Accepted"],
                Ok(StatusSelection::Only(list(&["Accepted"]))),
            ),
            (
                &["Accepted", "Pending Approval", "Accepted"],
                Ok(StatusSelection::Only(list(&[
                    "Accepted",
                    "Pending Approval",
                ]))),
            ),
            (&["accepted"], Err("did you mean 'Accepted'?")),
            (
                &["PendingApproval"],
                Err("did you mean 'Pending Approval'?"),
            ),
            (
                &["Registered"],
                Err("valid statuses are Accepted, Cancelled, Pending Approval, No Response"),
            ),
        ];
        for (configured, expected) in cases {
            let parsed = StatusSelection::parse(&list(configured), VALID);
            match (parsed, expected) {
                (Ok(selection), Ok(expected)) => assert_eq!(&selection, expected),
                (Err(error), Err(words)) => {
                    let message = error.to_string();
                    assert!(message.contains(words), "{message} should say {words}");
                    assert!(message.contains(&format!("'{}'", configured[0])));
                }
                (outcome, _) => panic!("{configured:?}: unexpected {outcome:?}"),
            }
        }
    }

    #[test]
    fn judging_records() {
        let accepted = StatusSelection::Only(list(&["Accepted"]));
        let skip = |status: &str| {
            StatusVerdict::Skip(StatusSkipped {
                status: status.to_string(),
                selected: list(&["Accepted"]),
            })
        };
        // (selection, vendor status, in the workspace, verdict)
        let cases = [
            (&accepted, Some("Accepted"), false, StatusVerdict::Import),
            (&accepted, Some("Accepted"), true, StatusVerdict::Import),
            (&accepted, Some("Cancelled"), true, StatusVerdict::FollowUp),
            (&accepted, Some("Cancelled"), false, skip("Cancelled")),
            (&accepted, Some("accepted"), false, skip("accepted")),
            (&accepted, None, false, skip("")),
            (
                &StatusSelection::All,
                Some("Declined"),
                false,
                StatusVerdict::Import,
            ),
            (&StatusSelection::All, None, false, StatusVerdict::Import),
        ];
        for (selection, status, in_workspace, verdict) in cases {
            assert_eq!(
                selection.judge(status, in_workspace),
                verdict,
                "{selection:?} {status:?} {in_workspace}"
            );
        }
        let reason = StatusSkipped {
            status: "Cancelled".into(),
            selected: list(&["Accepted", "Visited"]),
        };
        assert_eq!(
            reason.to_string(),
            "statuses to import: status 'Cancelled' is not among Accepted, Visited"
        );
    }
}

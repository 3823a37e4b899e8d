//! How a file's column headings are understood. Headings are compared ignoring case, spaces and
//! punctuation (`First Name`, `first_name` and `FIRSTNAME` are one heading), in this order:
//!
//! 1. a vendor field path the connection's mapping reads (`contact.email`, `answers.0.value.0`);
//! 2. a data label of the data type: its question id or code (`reg_FirstName`), its name
//!    (`dietary`), its field (`custom.dietary`) or its question's text as the vendor words it
//!    (`Do you have any dietary restrictions?`, also after a category, `Custom Detail - State`);
//! 3. a workspace field the mapping fills (`email`, `first_name`, `external_id`), which stands
//!    for the path of the first rule filling it;
//! 4. a heading of Cvent's registration report (`Email Address`, `Registration Status`), which
//!    stands for the vendor path the mapping reads for it ([`REPORT_HEADINGS`]).
//!
//! The first stage that matches decides, and a path filled by an earlier column is not filled
//! again. The confirmation number is recognised on its own ([`is_confirmation_heading`]): it
//! makes the id of a row that has none, whether or not the mapping reads it.

use std::collections::BTreeMap;

use pipeline::Mapping;
use pipeline::rules::labels::Label;
use serde::Serialize;

/// Where a file's cells go when they fill a data label: `labels.<name>` in the built record,
/// which a rule added to the mapping carries to `custom.<name>`.
pub(super) const LABEL_PATH_PREFIX: &str = "labels.";

/// How one column heading was understood.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnMatch {
    pub heading: String,
    /// The vendor path the cells are placed at, or `None` when the column is ignored.
    pub path: Option<String>,
    /// In words: what the heading matched, or why it matched nothing.
    pub matched: String,
}

/// Headings of Cvent's registration report (and its older invitee list), each with the vendor
/// paths it stands for: Cvent REST's attendee paths first, then the SOAP API's lower-case
/// attribute names. A heading is used for the first of its paths the mapping reads, so the same
/// report fits either kind of Cvent connection and a mapping of one's own.
pub const REPORT_HEADINGS: &[(&[&str], &[&str])] = &[
    (
        &[
            "Attendee ID",
            "Attendee Stub",
            "Invitee ID",
            "Invitee Stub",
            "Registration ID",
        ],
        &["id"],
    ),
    (
        &["Contact ID", "Contact Stub"],
        &["contact.id", "contactid"],
    ),
    (
        &["First Name", "Given Name"],
        &["contact.firstName", "firstname"],
    ),
    (
        &["Last Name", "Surname", "Family Name"],
        &["contact.lastName", "lastname"],
    ),
    (&["Middle Name"], &["contact.middleName", "middlename"]),
    (
        &["Nickname", "Badge Name"],
        &["contact.nickname", "nickname"],
    ),
    (&["Prefix", "Salutation"], &["contact.prefix", "prefix"]),
    (
        &["Email Address", "Email", "E-mail Address", "Primary Email"],
        &["contact.email", "emailaddress"],
    ),
    (
        &["CC Email Address", "CC Email"],
        &["contact.ccEmail", "ccemailaddress"],
    ),
    (
        &["Company Name", "Company", "Organization", "Organisation"],
        &["contact.company", "company"],
    ),
    (&["Title", "Job Title"], &["contact.title", "title"]),
    (&["Designation"], &["contact.designation", "designation"]),
    (
        &["Mobile Phone", "Mobile", "Cell Phone", "Mobile Number"],
        &["contact.mobilePhone", "contact.mobilephone", "mobilephone"],
    ),
    (
        &["Work Phone", "Business Phone"],
        &["contact.workPhone", "contact.workphone", "workphone"],
    ),
    (&["Home Phone"], &["contact.homePhone", "contact.homephone"]),
    (
        &[
            "Registration Status",
            "Attendee Status",
            "Invitee Status",
            "Status",
        ],
        &["status"],
    ),
    (
        &["Registration Type", "Attendee Type"],
        &["registrationType.name", "registrationtype"],
    ),
    (
        &["Registration Type Code"],
        &["registrationType.code", "registrationtypecode"],
    ),
    (&["Registration Path"], &["registrationPath.name"]),
    (&["Admission Item"], &["admissionItem.name"]),
    (
        &["Registration Date", "Registered On"],
        &["registeredAt", "registrationdate"],
    ),
    (
        &["Last Modified Date", "Last Modified"],
        &["lastModified", "lastmodifieddate"],
    ),
    (
        &["Cancellation Date", "Cancelled Date"],
        &["registrationCancelledAt", "cancelleddate"],
    ),
    (&["Reference ID"], &["referenceId", "referenceid"]),
    (
        &["Confirmation Number", "Confirmation No", "Confirmation #"],
        &["confirmationNumber", "confirmationnumber"],
    ),
    (&["Guest", "Is Guest"], &["guest"]),
    (
        &[
            "Primary Attendee ID",
            "Primary Invitee ID",
            "Primary Registrant ID",
            "Primary ID",
        ],
        &["primaryId", "primaryid"],
    ),
    (&["Group Leader"], &["group.leader", "groupleader"]),
    (&["Checked In", "Attended"], &["checkedIn", "participant"]),
    (&["Check-In Date", "Check In Time"], &["checkIn"]),
    (
        &["Profile Picture", "Profile Photo", "Photo"],
        &["contact._links.profilePicture.href"],
    ),
];

/// `text` with everything but letters and digits left out, in lower case: what headings are
/// compared by.
pub fn normalized(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether `heading` names a registration's confirmation number.
pub fn is_confirmation_heading(heading: &str) -> bool {
    let heading = normalized(heading);
    ["confirmationnumber", "confirmationno", "confirmation"]
        .iter()
        .any(|name| heading == *name)
}

/// Whether `heading` is a question's `text`, alone or after a category (`Custom Detail - State`).
fn is_question_text(heading: &str, text: &str) -> bool {
    let text = normalized(text);
    if text.is_empty() {
        return false;
    }
    normalized(heading) == text
        || heading
            .match_indices(" - ")
            .any(|(at, separator)| normalized(&heading[at + separator.len()..]) == text)
}

/// Matches each heading to a vendor path, in the order the module documents. `question_texts`
/// holds each label's question text by label name, where the vendor told it.
pub fn match_columns(
    headings: &[String],
    mapping: &Mapping,
    labels: &[Label],
    question_texts: &BTreeMap<String, String>,
) -> Vec<ColumnMatch> {
    let same = |a: &str, b: &str| {
        let a = normalized(a);
        !a.is_empty() && a == normalized(b)
    };
    let reads = |path: &str| mapping.rules.iter().find(|rule| rule.source == path);
    let mut taken: Vec<String> = Vec::new();
    let mut columns = Vec::with_capacity(headings.len());
    for heading in headings {
        let report_heading = REPORT_HEADINGS
            .iter()
            .find(|(names, _)| names.iter().any(|name| same(name, heading)));
        let found = if heading.trim().is_empty() {
            Err("the column has no heading".to_string())
        } else if let Some(rule) = mapping
            .rules
            .iter()
            .find(|r| r.source.trim().eq_ignore_ascii_case(heading.trim()))
            .or_else(|| mapping.rules.iter().find(|r| same(&r.source, heading)))
        {
            Ok((
                rule.source.clone(),
                format!("vendor path {} → {}", rule.source, rule.target),
            ))
        } else if let Some(label) = labels.iter().find(|l| {
            same(&l.question, heading) || same(&l.name, heading) || same(&l.target(), heading)
        }) {
            Ok(label_match(label, None))
        } else if let Some((label, text)) = labels.iter().find_map(|label| {
            question_texts
                .get(&label.name)
                .filter(|text| is_question_text(heading, text))
                .map(|text| (label, text))
        }) {
            Ok(label_match(label, Some(text)))
        } else if let Some(rule) = mapping.rules.iter().find(|r| same(&r.target, heading)) {
            Ok((
                rule.source.clone(),
                format!(
                    "workspace field {} ← vendor path {}",
                    rule.target, rule.source
                ),
            ))
        } else if let Some((_, paths)) = report_heading
            && let Some(rule) = paths.iter().find_map(|path| reads(path))
        {
            Ok((
                rule.source.clone(),
                format!(
                    "registration report heading → vendor path {} → {}",
                    rule.source, rule.target
                ),
            ))
        } else if is_confirmation_heading(heading) {
            Err("the confirmation number: makes the id of a row that has none".to_string())
        } else if let Some((_, paths)) = report_heading {
            Err(format!(
                "a registration report heading for {}, which the mapping does not read: ignored",
                paths.join(" or ")
            ))
        } else {
            Err(
                "matches no vendor path of the mapping, data label, registration report heading \
                 or mapped workspace field: ignored"
                    .to_string(),
            )
        };
        let column = match found {
            Ok((path, _)) if taken.contains(&path) => ColumnMatch {
                heading: heading.clone(),
                path: None,
                matched: format!("an earlier column already fills {path}: ignored"),
            },
            Ok((path, matched)) => {
                taken.push(path.clone());
                ColumnMatch {
                    heading: heading.clone(),
                    path: Some(path),
                    matched,
                }
            }
            Err(matched) => ColumnMatch {
                heading: heading.clone(),
                path: None,
                matched,
            },
        };
        columns.push(column);
    }
    columns
}

fn label_match(label: &Label, text: Option<&String>) -> (String, String) {
    let by = match text {
        Some(text) => format!("question \"{text}\""),
        None => format!("question {}", label.question),
    };
    (
        format!("{LABEL_PATH_PREFIX}{}", label.name),
        format!("data label {} ({by}) → {}", label.name, label.target()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipeline::Rule;

    #[test]
    fn headings_compare_ignoring_case_spaces_and_punctuation() {
        assert_eq!(normalized("First Name"), "firstname");
        assert_eq!(normalized(" first_name "), "firstname");
        assert_eq!(normalized("E-mail Address:"), "emailaddress");
        assert_eq!(normalized("Confirmation #"), "confirmation");
        assert!(is_confirmation_heading("Confirmation Number"));
        assert!(is_confirmation_heading("confirmation_no"));
        assert!(!is_confirmation_heading("Confirmation Date"));
        assert!(!is_question_text(
            "Custom Detail - State",
            "State / Province?"
        ));
        assert!(is_question_text("Custom Detail - State", "State"));
        assert!(is_question_text(
            "do you have any dietary restrictions",
            "Do you have any dietary restrictions?"
        ));
        assert!(!is_question_text("Anything", ""));
    }

    #[test]
    fn headings_match_paths_then_labels_then_workspace_fields_then_report_headings() {
        let mapping = Mapping {
            rules: vec![
                Rule::new("id", "external_id"),
                Rule::new("contact.email", "email"),
                Rule::new("contact.firstName", "first_name"),
                Rule::new("contact.lastName", "last_name"),
                Rule::new("registrationType.name", "registration_type"),
                Rule::new("contact.company", "company"),
            ],
        };
        let labels = [
            Label {
                question: "reg_Diet".into(),
                name: "dietary".into(),
            },
            Label {
                question: "0F58F054".into(),
                name: "state".into(),
            },
        ];
        let texts = BTreeMap::from([
            (
                "dietary".to_string(),
                "Do you have any dietary restrictions?".to_string(),
            ),
            ("state".to_string(), "State".to_string()),
        ]);
        // (heading, path, what it matched)
        let cases = [
            (
                "Contact.Email",
                Some("contact.email"),
                "vendor path contact.email → email",
            ),
            (
                "reg_diet",
                Some("labels.dietary"),
                "data label dietary (question reg_Diet) → custom.dietary",
            ),
            (
                "Custom Detail - State",
                Some("labels.state"),
                "data label state (question \"State\") → custom.state",
            ),
            (
                "First Name",
                Some("contact.firstName"),
                "workspace field first_name ← vendor path contact.firstName",
            ),
            (
                "Surname",
                Some("contact.lastName"),
                "registration report heading → vendor path contact.lastName → last_name",
            ),
            (
                "Registration Type",
                Some("registrationType.name"),
                "workspace field registration_type ← vendor path registrationType.name",
            ),
            (
                "Company Name",
                Some("contact.company"),
                "registration report heading → vendor path contact.company → company",
            ),
            (
                "External ID",
                Some("id"),
                "workspace field external_id ← vendor path id",
            ),
            (
                "Email Address",
                None,
                "an earlier column already fills contact.email: ignored",
            ),
            (
                "Confirmation Number",
                None,
                "the confirmation number: makes the id of a row that has none",
            ),
            (
                "Work Phone",
                None,
                "a registration report heading for contact.workPhone or contact.workphone or workphone, which the mapping does not read: ignored",
            ),
            (
                "Badge Printed",
                None,
                "matches no vendor path of the mapping, data label, registration report heading or mapped workspace field: ignored",
            ),
            ("", None, "the column has no heading"),
        ];
        let headings: Vec<String> = cases.iter().map(|c| c.0.to_string()).collect();
        let columns = match_columns(&headings, &mapping, &labels, &texts);
        for ((heading, path, matched), column) in cases.iter().zip(&columns) {
            assert_eq!(column.heading, *heading);
            assert_eq!(column.path.as_deref(), *path, "{heading}");
            assert_eq!(column.matched, *matched, "{heading}");
        }
        // A Cvent SOAP mapping reads lower-case attribute names: the same report fits it.
        let soap = Mapping {
            rules: vec![
                Rule::new("id", "external_id"),
                Rule::new("emailaddress", "email"),
                Rule::new("firstname", "first_name"),
                Rule::new("registrationtype", "registration_type"),
            ],
        };
        let headings = ["Email Address", "First Name", "Registration Type"].map(String::from);
        let paths: Vec<Option<String>> = match_columns(&headings, &soap, &[], &BTreeMap::new())
            .into_iter()
            .map(|c| c.path)
            .collect();
        assert_eq!(
            paths,
            [
                Some("emailaddress".to_string()),
                Some("firstname".to_string()),
                Some("registrationtype".to_string())
            ]
        );
    }
}

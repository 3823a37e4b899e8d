//! Who may register for a source connection's event from the association's website, and what
//! their Cvent registration is filled in with.
//!
//! The website names the member signed in by their iMIS id or their email. With an
//! `eligibility_query` (a saved query taking either as its one parameter), a row for them means
//! they may register, and the row's columns named like Cvent's registrant fields prefill the
//! registration (see [`prefill_from_row`]); no row means they may not. Without one, everyone
//! the association knows may register, prefilled from their iMIS party. Two records for one
//! person, or a record lacking a name or an email, are refusals that say what the association
//! must fix: a registration is never made for a guessed person.

use std::collections::BTreeSet;

use connectors::ConnectorError;
use connectors::imis::{Imis, Party, QueryRow, QueryService, SavedQuery};
use engine::config::ImisFeed;

/// The member the website signed in, as it names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Member {
    /// An iMIS id (`PartyId`).
    Id(String),
    Email(String),
}

impl Member {
    /// An email when the text holds an `@`, else an iMIS id; `None` when it is blank.
    pub fn parse(text: &str) -> Option<Member> {
        let text = text.trim();
        if text.is_empty() {
            None
        } else if text.contains('@') {
            Some(Member::Email(text.to_string()))
        } else {
            Some(Member::Id(text.to_string()))
        }
    }

    /// The text a saved query takes as its parameter.
    pub fn as_str(&self) -> &str {
        match self {
            Member::Id(text) | Member::Email(text) => text,
        }
    }
}

/// What a registration is filled in with: Cvent's registrant fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefill {
    /// The member's iMIS id, when their record gave it.
    pub imis_id: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub company: Option<String>,
    pub title: Option<String>,
}

/// Registrant fields as far as one source gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartialPrefill {
    pub imis_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub company: Option<String>,
    pub title: Option<String>,
}

impl PartialPrefill {
    /// Fills what this one lacks from `other`.
    fn or(self, other: PartialPrefill) -> PartialPrefill {
        PartialPrefill {
            imis_id: self.imis_id.or(other.imis_id),
            first_name: self.first_name.or(other.first_name),
            last_name: self.last_name.or(other.last_name),
            email: self.email.or(other.email),
            company: self.company.or(other.company),
            title: self.title.or(other.title),
        }
    }

    fn is_complete(&self) -> bool {
        self.first_name.is_some() && self.last_name.is_some() && self.email.is_some()
    }

    /// Who the record is: its iMIS id, else its email (in lower case).
    fn identity(&self) -> Option<String> {
        self.imis_id
            .clone()
            .or_else(|| self.email.as_ref().map(|email| email.to_lowercase()))
    }

    /// The complete prefill, or the names of the fields still missing.
    fn complete(self) -> Result<Prefill, Vec<&'static str>> {
        match (self.first_name, self.last_name, self.email) {
            (Some(first_name), Some(last_name), Some(email)) => Ok(Prefill {
                imis_id: self.imis_id,
                first_name,
                last_name,
                email,
                company: self.company,
                title: self.title,
            }),
            (first_name, last_name, email) => Err([
                (first_name.is_none(), "first name"),
                (last_name.is_none(), "last name"),
                (email.is_none(), "email"),
            ]
            .into_iter()
            .filter_map(|(missing, name)| missing.then_some(name))
            .collect()),
        }
    }
}

/// Whether the member may register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Eligible(Prefill),
    /// The association does not let them register for this event (`message` says so, for the
    /// member).
    NotEligible {
        message: String,
    },
    /// The association's records do not say who they are, or lack what a registration needs:
    /// `message` is for the member, `detail` for the log (it may name other people's ids).
    Refused {
        message: String,
        detail: String,
    },
}

/// Registrant fields from a query row: its columns named like Cvent's registrant fields, in
/// any letter case and with or without spaces, `_` or `-` (`FirstName`, `first_name`,
/// `First Name`): `FirstName`, `LastName`, `Email` (or `EmailAddress`), `Company` (or
/// `Organization`), `Title`, and `ImisId` (or `Id`, `PartyId`). Empty values count as absent.
pub fn prefill_from_row(row: &QueryRow) -> PartialPrefill {
    let mut prefill = PartialPrefill::default();
    for (column, value) in row {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let key: String = column
            .chars()
            .filter(|c| !matches!(c, ' ' | '_' | '-'))
            .flat_map(char::to_lowercase)
            .collect();
        let slot = match key.as_str() {
            "imisid" | "id" | "partyid" => &mut prefill.imis_id,
            "firstname" => &mut prefill.first_name,
            "lastname" => &mut prefill.last_name,
            "email" | "emailaddress" => &mut prefill.email,
            "company" | "organization" => &mut prefill.company,
            "title" => &mut prefill.title,
            _ => continue,
        };
        // A column named twice (ImisId and Id) keeps the first in column order.
        if slot.is_none() {
            *slot = Some(value.to_string());
        }
    }
    prefill
}

/// Registrant fields from an iMIS party.
pub fn prefill_from_party(party: &Party) -> PartialPrefill {
    let text = |value: &Option<String>| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_string)
    };
    PartialPrefill {
        imis_id: Some(party.id.clone()),
        first_name: text(&party.first_name),
        last_name: text(&party.last_name),
        email: text(&party.emails.first().cloned()),
        company: text(&party.company),
        title: text(&party.title),
    }
}

/// Decides whether `member` may register for the event of the source connection whose feed is
/// `feed`, asking the site `client` (whose saved queries run through `query_service`).
pub async fn decide(
    client: &Imis,
    query_service: QueryService,
    feed: &ImisFeed,
    member: &Member,
) -> Result<Decision, ConnectorError> {
    let found = match &feed.eligibility_query {
        Some(query) => {
            let query = SavedQuery {
                name: query.clone(),
                service: query_service,
            };
            let rows = client.run_query(&query, member.as_str()).await?;
            if rows.is_empty() {
                return Ok(Decision::NotEligible {
                    message: "The association's list of who may register for this event does not include you.".to_string(),
                });
            }
            let records: Vec<PartialPrefill> = rows.iter().map(prefill_from_row).collect();
            match one_person(records, member, &format!("the saved query {}", query.name)) {
                Ok(record) => fill_from_party(client, record, member).await?,
                Err(refusal) => return Ok(*refusal),
            }
        }
        None => match member {
            Member::Id(id) => match client.party(id).await? {
                Some(party) => prefill_from_party(&party),
                None => return Ok(unknown()),
            },
            Member::Email(email) => {
                let parties = client.parties_by_email(email).await?;
                if parties.is_empty() {
                    return Ok(unknown());
                }
                let records = parties.iter().map(prefill_from_party).collect();
                match one_person(records, member, "iMIS") {
                    Ok(record) => record,
                    Err(refusal) => return Ok(*refusal),
                }
            }
        },
    };
    // The address the member signed in with is the one Cvent and iMIS will match them by.
    let found = match member {
        Member::Email(email) => PartialPrefill {
            email: Some(email.clone()),
            ..found
        },
        Member::Id(_) => found,
    };
    Ok(match found.complete() {
        Ok(prefill) => Decision::Eligible(prefill),
        Err(missing) => {
            let missing = list(&missing);
            Decision::Refused {
                message: format!(
                    "Your record at the association has no {missing}, which the registration needs. Please ask the association to complete it."
                ),
                detail: format!("the iMIS record of {} has no {missing}", member.as_str()),
            }
        }
    })
}

fn unknown() -> Decision {
    Decision::NotEligible {
        message:
            "You are not known to the association, so you cannot register for this event here."
                .to_string(),
    }
}

/// The one person `records` describe; several people (told apart by iMIS id, else by email)
/// are a refusal.
fn one_person(
    records: Vec<PartialPrefill>,
    member: &Member,
    source: &str,
) -> Result<PartialPrefill, Box<Decision>> {
    let people: BTreeSet<String> = records
        .iter()
        .filter_map(PartialPrefill::identity)
        .collect();
    if people.len() > 1 {
        return Err(Box::new(Decision::Refused {
            message: "The association has more than one record for you, so it cannot tell which one registers. Please ask the association to merge them.".to_string(),
            detail: format!(
                "{} records for {} in {source} ({}): eventsync does not guess; merge them in iMIS",
                people.len(),
                member.as_str(),
                people.into_iter().collect::<Vec<_>>().join(", ")
            ),
        }));
    }
    // Rows of one person (a query joining several lines per party) may each hold part of them.
    Ok(records
        .into_iter()
        .reduce(PartialPrefill::or)
        .unwrap_or_default())
}

/// A query row lacking a name or an email, filled from the member's party where the row or the
/// website gave their iMIS id.
async fn fill_from_party(
    client: &Imis,
    record: PartialPrefill,
    member: &Member,
) -> Result<PartialPrefill, ConnectorError> {
    if record.is_complete() {
        return Ok(record);
    }
    let id = match (&record.imis_id, member) {
        (Some(id), _) | (None, Member::Id(id)) => id.clone(),
        (None, Member::Email(_)) => return Ok(record),
    };
    Ok(match client.party(&id).await? {
        Some(party) => record.or(prefill_from_party(&party)),
        None => record,
    })
}

/// "a", "a and b", "a, b and c".
fn list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(columns: &[(&str, &str)]) -> QueryRow {
        columns
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    #[test]
    fn columns_named_like_registrant_fields_prefill_in_any_case() {
        let cases = [
            row(&[
                ("ImisId", "23051"),
                ("FirstName", "Ada"),
                ("LastName", "Lovelace"),
                ("Email", "ada@example.org"),
                ("Company", "Analytical Engines"),
                ("Title", "Countess"),
                ("MemberType", "M"),
            ]),
            row(&[
                ("imisid", "23051"),
                ("FIRSTNAME", "Ada"),
                ("lastName", "Lovelace"),
                ("EMAIL", "ada@example.org"),
                ("company", "Analytical Engines"),
                ("TITLE", "Countess"),
            ]),
            row(&[
                ("Id", "23051"),
                ("First Name", "Ada"),
                ("last_name", "Lovelace"),
                ("Email-Address", "ada@example.org"),
                ("Organization", "Analytical Engines"),
                ("Title", " Countess "),
            ]),
        ];
        for columns in cases {
            assert_eq!(
                prefill_from_row(&columns),
                PartialPrefill {
                    imis_id: Some("23051".into()),
                    first_name: Some("Ada".into()),
                    last_name: Some("Lovelace".into()),
                    email: Some("ada@example.org".into()),
                    company: Some("Analytical Engines".into()),
                    title: Some("Countess".into()),
                },
                "{columns:?}"
            );
        }
    }

    #[test]
    fn empty_and_unknown_columns_leave_fields_absent() {
        let prefill = prefill_from_row(&row(&[
            ("FirstName", "Ada"),
            ("LastName", "  "),
            ("Email", ""),
            ("Nickname", "Countess"),
        ]));
        assert_eq!(
            prefill,
            PartialPrefill {
                first_name: Some("Ada".into()),
                ..PartialPrefill::default()
            }
        );
        assert_eq!(
            prefill.complete(),
            Err(vec!["last name", "email"]),
            "what is missing is named"
        );
    }

    #[test]
    fn a_field_named_twice_keeps_the_first_column() {
        // BTreeMap order: "Id" comes before "ImisId".
        let prefill = prefill_from_row(&row(&[("ImisId", "2"), ("Id", "1")]));
        assert_eq!(prefill.imis_id.as_deref(), Some("1"));
    }

    #[test]
    fn members_are_ids_or_emails() {
        assert_eq!(Member::parse(" 23051 "), Some(Member::Id("23051".into())));
        assert_eq!(
            Member::parse("ada@example.org"),
            Some(Member::Email("ada@example.org".into()))
        );
        assert_eq!(Member::parse("  "), None);
    }

    #[test]
    fn rows_of_one_person_merge_and_rows_of_two_are_refused() {
        let ada = Member::Email("ada@example.org".into());
        let merged = one_person(
            vec![
                prefill_from_row(&row(&[("Id", "1"), ("FirstName", "Ada")])),
                prefill_from_row(&row(&[("Id", "1"), ("LastName", "Lovelace")])),
            ],
            &ada,
            "q",
        )
        .expect("one person");
        assert_eq!(merged.first_name.as_deref(), Some("Ada"));
        assert_eq!(merged.last_name.as_deref(), Some("Lovelace"));

        let refused = one_person(
            vec![
                prefill_from_row(&row(&[("Id", "1")])),
                prefill_from_row(&row(&[("Id", "2")])),
            ],
            &ada,
            "q",
        )
        .expect_err("two people");
        let Decision::Refused { message, detail } = *refused else {
            panic!("{refused:?}");
        };
        assert!(message.contains("more than one record"), "{message}");
        assert!(!message.contains('1'), "no ids for the member: {message}");
        assert!(detail.contains("1, 2"), "{detail}");
    }

    #[test]
    fn missing_fields_are_listed_in_plain_words() {
        assert_eq!(list(&["email"]), "email");
        assert_eq!(list(&["last name", "email"]), "last name and email");
        assert_eq!(
            list(&["first name", "last name", "email"]),
            "first name, last name and email"
        );
    }
}

//! Parties (iMIS contacts), looked up by id or by email to match registrants.

use reqwest::Method;
use serde_json::Value;

use super::Imis;
use super::envelope::{boolean, field, property, text, text_of, values_of};
use super::paging;
use crate::ConnectorError;

/// A person or organization in iMIS, as far as matching registrants needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    /// The iMIS id (`PartyId`).
    pub id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub full_name: Option<String>,
    /// Every address, the primary first.
    pub emails: Vec<String>,
    /// The primary organization's name.
    pub company: Option<String>,
    pub title: Option<String>,
    pub is_member: Option<bool>,
    /// The customer type code (`CustomerTypeCode`), such as `M` or `NM`.
    pub member_type: Option<String>,
}

impl Party {
    /// A party from iMIS's `PersonData` (or any `PartyData`); `None` when it names no id.
    pub(crate) fn from_wire(party: &Value) -> Option<Party> {
        let id = text_of(party, "PartyId").or_else(|| text_of(party, "Id"))?;
        let person_name = field(party, "PersonName").unwrap_or(&Value::Null);
        let attributes = field(party, "AdditionalAttributes").unwrap_or(&Value::Null);
        let attribute = |name: &str| {
            property(attributes, name)
                .and_then(text)
                .filter(|text| !text.is_empty())
        };
        let is_member = ["IsMember", "IsMemberRecord"]
            .iter()
            .find_map(|name| property(attributes, name).and_then(boolean));
        Some(Party {
            id,
            first_name: text_of(person_name, "FirstName"),
            last_name: text_of(person_name, "LastName"),
            full_name: text_of(person_name, "FullName").or_else(|| text_of(party, "Name")),
            emails: emails(party),
            company: field(party, "PrimaryOrganization")
                .and_then(|organization| text_of(organization, "Name")),
            title: attribute("Title"),
            is_member,
            member_type: attribute("CustomerTypeCode"),
        })
    }

    /// Whether `email` is one of the party's addresses, ignoring case.
    pub fn has_email(&self, email: &str) -> bool {
        let email = email.trim();
        self.emails
            .iter()
            .any(|address| address.eq_ignore_ascii_case(email))
    }
}

/// A party's addresses, the primary first, each once.
fn emails(party: &Value) -> Vec<String> {
    let mut entries: Vec<(bool, String)> = values_of(party, "Emails")
        .iter()
        .filter_map(|email| {
            let address = text_of(email, "Address")?.trim().to_string();
            let primary = field(email, "IsPrimary").and_then(boolean) == Some(true);
            (!address.is_empty()).then_some((primary, address))
        })
        .collect();
    entries.sort_by_key(|(primary, _)| !primary);
    let mut addresses: Vec<String> = Vec::new();
    for (_, address) in entries {
        if !addresses.iter().any(|a| a.eq_ignore_ascii_case(&address)) {
            addresses.push(address);
        }
    }
    addresses
}

impl Imis {
    /// The party with iMIS id `id`; `None` when iMIS has none.
    pub async fn party(&self, id: &str) -> Result<Option<Party>, ConnectorError> {
        let answer = self
            .client
            .call(Method::GET, &["api", "Party", id], &[], None)
            .await?;
        if answer.is_not_found() {
            return Ok(None);
        }
        let action = answer.action.clone();
        let party = answer.into_json()?;
        match Party::from_wire(&party) {
            Some(party) => Ok(Some(party)),
            None if party.is_object() => {
                // An answer for the id asked, without the id repeated in it.
                let mut named = party;
                if let Value::Object(members) = &mut named {
                    members.insert("PartyId".into(), Value::String(id.to_string()));
                }
                Ok(Party::from_wire(&named))
            }
            None => Err(ConnectorError::Rejected(format!(
                "iMIS answered {action} with something other than a party"
            ))),
        }
    }

    /// The parties with `email` as one of their addresses, compared whole and ignoring case.
    /// Several parties may share an address.
    pub async fn parties_by_email(&self, email: &str) -> Result<Vec<Party>, ConnectorError> {
        let email = email.trim();
        if email.is_empty() {
            return Ok(Vec::new());
        }
        let query = [("Email", format!("eq:{email}"))];
        let found = paging::all(&self.client, &["api", "Party"], &query, self.page_size).await?;
        Ok(found
            .iter()
            .filter_map(Party::from_wire)
            // iMIS may match on another address than the ones it lists (a user name); a party
            // listing its addresses must hold this one.
            .filter(|party| party.emails.is_empty() || party.has_email(email))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn person() -> Value {
        json!({
            "$type": "Asi.Soa.Membership.DataContracts.PersonData, Asi.Contracts",
            "PartyId": "23051",
            "Id": "23051",
            "Name": "Ada Lovelace",
            "PersonName": {
                "$type": "Asi.Soa.Membership.DataContracts.PersonNameData, Asi.Contracts",
                "FirstName": "Ada", "LastName": "Lovelace", "FullName": "Ms. Ada Lovelace"
            },
            "Emails": {"$type": "Asi.Soa.Membership.DataContracts.EmailDataCollection, Asi.Contracts", "$values": [
                {"$type": "Asi.Soa.Membership.DataContracts.EmailData, Asi.Contracts", "Address": "ada@home.org", "EmailType": "_Home Email", "IsPrimary": false},
                {"$type": "Asi.Soa.Membership.DataContracts.EmailData, Asi.Contracts", "Address": "Ada@Work.org", "EmailType": "_Business Email", "IsPrimary": true},
                {"$type": "Asi.Soa.Membership.DataContracts.EmailData, Asi.Contracts", "Address": "ada@work.org", "EmailType": "Address"}
            ]},
            "PrimaryOrganization": {"$type": "Asi.Soa.Membership.DataContracts.PrimaryOrganizationInformationData, Asi.Contracts", "Name": "Analytical Engines", "OrganizationPartyId": "100"},
            "Status": {"$type": "Asi.Soa.Membership.DataContracts.PartyStatusData, Asi.Contracts", "PartyStatusId": "A"},
            "AdditionalAttributes": {"$type": "Asi.Soa.Core.DataContracts.GenericPropertyDataCollection, Asi.Contracts", "$values": [
                {"$type": "Asi.Soa.Core.DataContracts.GenericPropertyData, Asi.Contracts", "Name": "IsMember", "Value": {"$type": "System.Boolean", "$value": true}},
                {"$type": "Asi.Soa.Core.DataContracts.GenericPropertyData, Asi.Contracts", "Name": "CustomerTypeCode", "Value": "M"},
                {"$type": "Asi.Soa.Core.DataContracts.GenericPropertyData, Asi.Contracts", "Name": "Title", "Value": "Countess"}
            ]}
        })
    }

    #[test]
    fn a_person_is_read_from_person_data() {
        let party = Party::from_wire(&person()).expect("a party");
        assert_eq!(
            party,
            Party {
                id: "23051".into(),
                first_name: Some("Ada".into()),
                last_name: Some("Lovelace".into()),
                full_name: Some("Ms. Ada Lovelace".into()),
                emails: vec!["Ada@Work.org".into(), "ada@home.org".into()],
                company: Some("Analytical Engines".into()),
                title: Some("Countess".into()),
                is_member: Some(true),
                member_type: Some("M".into()),
            }
        );
        assert!(party.has_email(" ADA@home.org "));
        assert!(!party.has_email("ada@home"));
    }

    #[test]
    fn a_sparse_party_reads_as_far_as_it_goes() {
        let party = Party::from_wire(&json!({
            "id": 7,
            "name": "Engines Ltd",
            "additionalattributes": [{"name": "ismember", "value": "false"}],
        }))
        .expect("a party");
        assert_eq!(party.id, "7");
        assert_eq!(party.full_name.as_deref(), Some("Engines Ltd"));
        assert_eq!(party.is_member, Some(false));
        assert!(party.emails.is_empty());
        assert_eq!(party.company, None);
        assert_eq!(Party::from_wire(&json!({"Name": "no id"})), None);
        assert_eq!(Party::from_wire(&json!("23051")), None);
    }
}

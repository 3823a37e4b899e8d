//! Invitees: a person added to the connection's event as an invitee, with their contact details,
//! and the link to their own registration page (`webLinks.acceptRegistration`), which Cvent
//! fills in with those details so that they only confirm.
//!
//! 1. `POST /attendees/filter` with `event.id eq … and contact.email eq …` (both documented
//!    attendee filters): someone the event already has is returned as found, whatever their
//!    status, emails compared without regard to letter case.
//! 2. Otherwise `POST /contacts?upsert=true` (Cvent's createContacts, up to 10 a call, 207):
//!    an attendee names its address-book contact by id only, and Cvent matches contacts by
//!    email, the account's default match key, so a person already in the address book keeps
//!    their contact (updated with the details sent) and a new person gets one.
//! 3. `POST /attendees` with `{event.id, contact.id, status: "No Response"}`: Cvent's invite,
//!    answered 207 with one item. If Cvent refuses it, the event is looked at once more (someone
//!    may have invited the same person meanwhile); otherwise the refusal is `Rejected`, with
//!    Cvent's message as it sent it.
//! 4. `GET /attendees/{id}` for the link.
//!
//! Every call goes through the connection's client: its token, the account's rate budget (set
//! from the account's tier, read with the event) and retries. A missing scope
//! ([`INVITE_SCOPES`]) is `Forbidden` naming it.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::client::error_reason;
use super::{CventRest, quote};
use crate::ConnectorError;

/// What inviting needs: finding the person at the event, creating their contact, inviting them.
pub const INVITE_SCOPES: &[&str] = &[
    READ_ATTENDEES_SCOPE,
    WRITE_CONTACTS_SCOPE,
    WRITE_ATTENDEES_SCOPE,
];

const READ_ATTENDEES_SCOPE: &str = "event/attendees:read";
const WRITE_CONTACTS_SCOPE: &str = "event/contacts:write";
const WRITE_ATTENDEES_SCOPE: &str = "event/attendees:write";

/// The person to invite, as their registration page should show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteeContact {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub company: Option<String>,
    pub title: Option<String>,
}

/// A person at the connection's event, and where they register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitee {
    pub attendee_id: String,
    /// Cvent's attendee status (`No Response` for a new invitee; `Accepted` for someone
    /// already registered).
    pub status: String,
    /// Their registration page, with their details filled in (`webLinks.acceptRegistration`).
    pub accept_link: String,
    /// False when the event already had this person.
    pub created: bool,
}

impl CventRest {
    /// The person as an attendee of the connection's event: the one the event already has with
    /// that email, or a new invitee (with their contact created or updated first).
    pub async fn invite(&self, person: &InviteeContact) -> Result<Invitee, ConnectorError> {
        // A person waits on these calls: the account's own rate, read with the event (once a
        // day, as a listing does), paces them rather than the cautious one of an unknown tier.
        let (tier, event_id) = tokio::join!(self.ensure_tier(), self.event_id());
        tier?;
        let event_id = event_id?;
        if let Some(found) = self.attendee_by_email(&event_id, &person.email).await? {
            return self.invitee(found, false).await;
        }
        let contact_id = self.upsert_contact(person).await?;
        let attendee_id = match self.add_invitee(&event_id, &contact_id, person).await {
            Ok(attendee_id) => attendee_id,
            Err(refusal @ ConnectorError::Rejected(_)) => {
                return match self.attendee_by_email(&event_id, &person.email).await? {
                    Some(found) => self.invitee(found, false).await,
                    None => Err(refusal),
                };
            }
            Err(other) => return Err(other),
        };
        let path = format!("/attendees/{attendee_id}");
        let attendee = self
            .invite_call(Method::GET, &path, &[], None, READ_ATTENDEES_SCOPE)
            .await?;
        self.invitee(attendee, true).await
    }

    /// The event's attendee with this email, if any; a primary before a guest.
    async fn attendee_by_email(
        &self,
        event_id: &str,
        email: &str,
    ) -> Result<Option<Value>, ConnectorError> {
        let email = email.trim();
        let filter = format!(
            "event.id eq {} and contact.email eq {}",
            quote(event_id),
            quote(email)
        );
        let page = self
            .invite_call(
                Method::POST,
                "/attendees/filter",
                &[("limit", super::PAGE_SIZE.to_string())],
                Some(&json!({ "filter": filter })),
                READ_ATTENDEES_SCOPE,
            )
            .await?;
        let mut matching: Vec<Value> = page["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|attendee| {
                attendee["contact"]["email"]
                    .as_str()
                    .is_some_and(|found| found.trim().eq_ignore_ascii_case(email))
            })
            .cloned()
            .collect();
        matching.sort_by_key(|attendee| attendee["guest"].as_bool() == Some(true));
        Ok(matching.into_iter().next())
    }

    /// The id of the person's contact, created or (matched by email) updated.
    async fn upsert_contact(&self, person: &InviteeContact) -> Result<String, ConnectorError> {
        let mut contact = json!({
            "firstName": person.first_name,
            "lastName": person.last_name,
            "email": person.email.trim(),
        });
        let optional = [("company", &person.company), ("title", &person.title)];
        for (field, value) in optional {
            if let Some(value) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                contact[field] = json!(value);
            }
        }
        let answer = self
            .invite_call(
                Method::POST,
                "/contacts",
                &[("upsert", "true".to_string())],
                Some(&json!([contact])),
                WRITE_CONTACTS_SCOPE,
            )
            .await?;
        let what = format!("the contact of {}", person.email.trim());
        let data = accepted_item(&answer, &what)?;
        created_id(data, &what)
    }

    /// Invites a contact to the event; returns the new attendee's id.
    async fn add_invitee(
        &self,
        event_id: &str,
        contact_id: &str,
        person: &InviteeContact,
    ) -> Result<String, ConnectorError> {
        let invite = json!([{
            "event": { "id": event_id },
            "contact": { "id": contact_id },
            "status": "No Response",
        }]);
        let answer = self
            .invite_call(
                Method::POST,
                "/attendees",
                &[],
                Some(&invite),
                WRITE_ATTENDEES_SCOPE,
            )
            .await?;
        let what = format!("the invitation of {}", person.email.trim());
        let data = accepted_item(&answer, &what)?;
        created_id(data, &what)
    }

    /// An attendee record as an [`Invitee`], read again by id if a listing left its link out.
    async fn invitee(&self, attendee: Value, created: bool) -> Result<Invitee, ConnectorError> {
        let attendee_id = attendee["id"].as_str().unwrap_or_default().to_string();
        if attendee_id.is_empty() {
            return Err(ConnectorError::Rejected(
                "Cvent sent an attendee without an id".to_string(),
            ));
        }
        let attendee = if accept_link(&attendee).is_some() || created {
            attendee
        } else {
            let path = format!("/attendees/{attendee_id}");
            self.invite_call(Method::GET, &path, &[], None, READ_ATTENDEES_SCOPE)
                .await?
        };
        let Some(accept_link) = accept_link(&attendee) else {
            return Err(ConnectorError::NotFound(format!(
                "Cvent gave attendee {attendee_id} of event '{}' no registration link (webLinks.acceptRegistration)",
                self.config.event_code
            )));
        };
        Ok(Invitee {
            attendee_id,
            status: attendee["status"].as_str().unwrap_or_default().to_string(),
            accept_link: accept_link.to_string(),
            created,
        })
    }

    /// One call of the invite flow: its answer's JSON, or the error it means, a refused scope
    /// named.
    async fn invite_call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        scope: &'static str,
    ) -> Result<Value, ConnectorError> {
        let answer = self.client.call(method.clone(), path, query, body).await?;
        let (status, body) = (answer.status, answer.json());
        match status {
            s if s.is_success() => Ok(body),
            StatusCode::FORBIDDEN => Err(ConnectorError::Forbidden {
                scope: scope.to_string(),
                message: format!(
                    "Cvent refused {method} {path} ({}): connection '{}' needs the scope {scope}; add it to the API application in Cvent",
                    error_reason(&body),
                    self.config.connection
                ),
            }),
            StatusCode::NOT_FOUND => Err(ConnectorError::NotFound(format!(
                "Cvent has no {path}: {}",
                error_reason(&body)
            ))),
            _ => Err(ConnectorError::Rejected(format!(
                "Cvent refused {method} {path} ({status}): {}",
                error_reason(&body)
            ))),
        }
    }
}

fn accept_link(attendee: &Value) -> Option<&str> {
    attendee["webLinks"]["acceptRegistration"]
        .as_str()
        .filter(|link| !link.is_empty())
}

/// The `data` of the one item of a 207 answer, or Cvent's refusal of it, its message as sent.
fn accepted_item<'a>(answer: &'a Value, what: &str) -> Result<&'a Value, ConnectorError> {
    let Some(item) = answer.as_array().and_then(|items| items.first()) else {
        return Err(ConnectorError::Rejected(format!(
            "Cvent answered {what} without a result"
        )));
    };
    match item["status"].as_u64() {
        Some(200..=299) => Ok(&item["data"]),
        status => {
            let message = item["message"]
                .as_str()
                .or_else(|| item["data"]["message"].as_str())
                .unwrap_or("no message");
            let status = status.map_or_else(|| "no status".to_string(), |s| s.to_string());
            Err(ConnectorError::Rejected(format!(
                "Cvent refused {what} ({status}): {message}"
            )))
        }
    }
}

fn created_id(data: &Value, what: &str) -> Result<String, ConnectorError> {
    data["id"]
        .as_str()
        .filter(|id| !id.is_empty())
        .map(str::to_string)
        .ok_or_else(|| ConnectorError::Rejected(format!("Cvent accepted {what} without an id")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_status_items_are_read_as_success_or_cvents_refusal() {
        let created = json!([{"data": {"id": "a1"}, "status": 201}]);
        let data = accepted_item(&created, "the invitation").map(|data| created_id(data, "it"));
        assert_eq!(data.ok().and_then(Result::ok).as_deref(), Some("a1"));

        let refused = json!([{
            "data": {"code": 409, "message": "contact 'c' is already an attendee"},
            "status": 409,
            "message": "contact 'c' is already an attendee",
        }]);
        let error = accepted_item(&refused, "the invitation of a@b.org").err();
        assert_eq!(
            error.map(|e| e.to_string()).as_deref(),
            Some(
                "Cvent refused the invitation of a@b.org (409): contact 'c' is already an attendee"
            )
        );

        let only_data = json!([{"data": {"code": 400, "message": "bad"}, "status": 400}]);
        let error = accepted_item(&only_data, "it").err().map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.ends_with("(400): bad")));

        for empty in [json!([]), json!({}), Value::Null] {
            assert!(matches!(
                accepted_item(&empty, "it"),
                Err(ConnectorError::Rejected(_))
            ));
        }
        let no_id = json!([{"data": {}, "status": 201}]);
        let data = accepted_item(&no_id, "it").map(|data| created_id(data, "it"));
        assert!(matches!(data, Ok(Err(ConnectorError::Rejected(_)))));
    }
}

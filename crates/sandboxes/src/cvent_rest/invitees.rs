//! Adding people to an event: `POST /ea/attendees` (createAttendee) and the contacts it refers
//! to, `POST /ea/contacts` (createContacts).
//!
//! Cvent adds people in two ways, told apart by the status sent (the request body's description
//! in the spec): an **invite** (`No Response`, the default; `event.id` and `contact.id`
//! required, `invitationList.id` optional; up to 100 a call) and a **registration** (`Accepted`
//! or `Pending Approval`; `admissionItem.id` required too; one a call). Both answer 207 with one
//! item per attendee sent, in order: `{data: {id}, status: 201}`, or the item's refusal
//! `{data: error-response, status, message, request}` — one bad item never fails the others. A
//! body that is not a JSON array, or breaks a per-call limit, is the whole call's 400.
//!
//! An attendee names its address-book contact by id only, so a new person's contact is created
//! first with `POST /contacts`, Cvent's createContacts (in Cvent's full document, outside the
//! subset the project keeps): an array of contacts, at most 10 a call, answered 207 with the
//! contact itself (and its new `id`) per item. Contacts are matched by email, the account's
//! default match key: with `upsert=true` an existing contact takes the fields sent and is
//! answered 200; without, it is that item's 409.
//!
//! Where Cvent's documents say nothing, the sandbox chooses, and says so here: a contact already
//! an attendee of the event is that item's 409; an unknown event or contact is a 404 and a
//! non-live event a 400; an invitee is `invitedBy: API Invited` with `responseMethod:
//! No Response`, a registration `No Invitation` and `API-Responded` (unless the body names a
//! documented response method) with a confirmation number. Every attendee created here carries
//! `webLinks` to the sandbox's registration page (see `registration`).

// Handlers return ready axum responses as their errors; boxing them would only add noise.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Shared;
use super::auth::{Grant, SENSITIVE_SCOPE, SENSITIVE_WRITE_SCOPE};
use super::dataset::{Dataset, timestamp};
use super::generate::API_USER;
use super::routes::bad_request;
use super::wire::{
    ATTENDEE_VISIBILITIES, Attendee, Contact, IdName, IdRef, Lookup, RESPONSE_METHODS,
    attendee_status,
};

/// Cvent invites at most this many attendees a call.
pub const INVITE_BATCH: usize = 100;

/// Cvent creates at most this many contacts a call.
pub const CONTACT_BATCH: usize = 10;

/// The statuses an attendee can be added with (`attendee-add-status.json`).
const ADD_STATUSES: &[&str] = &[
    attendee_status::NO_RESPONSE,
    attendee_status::ACCEPTED,
    attendee_status::PENDING_APPROVAL,
];

/// Why one item of a bulk call failed.
struct Refusal {
    status: u16,
    target: &'static str,
    message: String,
}

impl Refusal {
    fn new(status: u16, target: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            target,
            message: message.into(),
        }
    }

    /// The item of the 207 answer: the spec's error response as `data`, and the request sent.
    fn answer(&self, sent: &Value) -> Value {
        json!({
            "data": {"code": self.status, "message": self.message, "target": self.target},
            "status": self.status,
            "message": self.message,
            "request": {"operation": "POST", "data": sent},
        })
    }
}

/// A 207 Multi-Status answer.
fn multi_status(items: Vec<Value>) -> Response {
    (StatusCode::MULTI_STATUS, axum::Json(items)).into_response()
}

/// A bulk body: a non-empty JSON array of at most `limit` items.
fn bulk_items(body: &Bytes, what: &str, limit: usize) -> Result<Vec<Value>, Response> {
    let Ok(items) = serde_json::from_slice::<Vec<Value>>(body) else {
        return Err(bad_request(
            "body",
            &format!("the body must be a JSON array of {what}"),
        ));
    };
    if items.is_empty() || items.len() > limit {
        return Err(bad_request(
            "body",
            &format!(
                "between 1 and {limit} {what} can be added per call, got {}",
                items.len()
            ),
        ));
    }
    Ok(items)
}

fn text_at<'a>(item: &'a Value, pointer: &str) -> Option<&'a str> {
    item.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|text| !text.is_empty())
}

// ---- attendees ---------------------------------------------------------------------------------

pub(super) async fn create_attendees(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let items = match bulk_items(&body, "attendees", INVITE_BATCH) {
        Ok(items) => items,
        Err(response) => return response,
    };
    let registrations = items
        .iter()
        .filter(|item| {
            matches!(
                item["status"].as_str(),
                Some(attendee_status::ACCEPTED | attendee_status::PENDING_APPROVAL)
            )
        })
        .count();
    if registrations > 0 && items.len() > 1 {
        return bad_request(
            "body",
            &format!(
                "when registering, one attendee per call is supported, got {}",
                items.len()
            ),
        );
    }
    let now = timestamp(shared.clock.now());
    let mut answers = Vec::with_capacity(items.len());
    let mut accepted = Vec::new();
    {
        let mut data = shared.write_data();
        for item in &items {
            match add_attendee(&shared, &mut data, item, &now) {
                Ok(attendee) => {
                    answers.push(
                        json!({"data": {"id": attendee.id}, "status": 201, "message": "Created"}),
                    );
                    if attendee.status == attendee_status::ACCEPTED {
                        accepted.push(attendee);
                    }
                }
                Err(refusal) => answers.push(refusal.answer(item)),
            }
        }
    }
    for attendee in &accepted {
        super::control::emit_attendee(&shared, attendee, &now);
    }
    multi_status(answers)
}

/// One attendee of a `POST /attendees` call, added or refused.
fn add_attendee(
    shared: &Shared,
    data: &mut Dataset,
    item: &Value,
    now: &str,
) -> Result<Attendee, Refusal> {
    if !item.is_object() {
        return Err(Refusal::new(
            400,
            "body",
            "each attendee must be a JSON object",
        ));
    }
    let status = match &item["status"] {
        Value::Null => attendee_status::NO_RESPONSE,
        Value::String(status) if ADD_STATUSES.contains(&status.as_str()) => status.as_str(),
        other => {
            return Err(Refusal::new(
                400,
                "status",
                format!(
                    "{other} is not a status an attendee can be added with: 'No Response' invites, 'Accepted' or 'Pending Approval' registers"
                ),
            ));
        }
    };
    let registering = status != attendee_status::NO_RESPONSE;
    let Some(event_id) = text_at(item, "/event/id") else {
        return Err(Refusal::new(400, "event.id", "event.id is required"));
    };
    let Some(event) = data.events.find(event_id) else {
        return Err(Refusal::new(
            404,
            "event.id",
            format!("event '{event_id}' was not found"),
        ));
    };
    let (event_id, event_title) = (event.id.clone(), event.title.clone());
    let Some(part) = data.part_of_event(&event_id) else {
        return Err(Refusal::new(
            400,
            "event.id",
            format!(
                "event '{event_title}' takes no attendees: its status is {}",
                event.status.as_deref().unwrap_or("unknown")
            ),
        ));
    };
    let Some(contact_id) = text_at(item, "/contact/id") else {
        return Err(Refusal::new(
            400,
            "contact.id",
            "contact.id is required: create the contact first (POST /contacts)",
        ));
    };
    let Some(contact) = data.contact(contact_id) else {
        return Err(Refusal::new(
            404,
            "contact.id",
            format!("contact '{contact_id}' was not found"),
        ));
    };
    if data.attendee_of_contact(part, &contact.id).is_some() {
        return Err(Refusal::new(
            409,
            "contact.id",
            format!(
                "contact '{}' is already an attendee of event '{event_title}'",
                contact.id
            ),
        ));
    }
    let Some(generator) = data.part_generator(part) else {
        return Err(Refusal::new(404, "event.id", "Not found"));
    };
    let (admission_item, registration_type) = if registering {
        let Some(admission_id) = text_at(item, "/admissionItem/id") else {
            return Err(Refusal::new(
                400,
                "admissionItem.id",
                "admissionItem.id is required when registering",
            ));
        };
        let Some(admission_item) = generator
            .admission_items()
            .into_iter()
            .find(|known| known.id.eq_ignore_ascii_case(admission_id))
        else {
            return Err(Refusal::new(
                400,
                "admissionItem.id",
                format!("'{admission_id}' is not an admission item of event '{event_title}'"),
            ));
        };
        let registration_type = match text_at(item, "/registrationType/id") {
            None => None,
            Some(type_id) => {
                let known = generator
                    .registration_types()
                    .into_iter()
                    .find(|known| known.id.eq_ignore_ascii_case(type_id));
                let Some(known) = known else {
                    return Err(Refusal::new(
                        400,
                        "registrationType.id",
                        format!("'{type_id}' is not a registration type of event '{event_title}'"),
                    ));
                };
                Some(Lookup {
                    id: known.id,
                    code: known.code.map(Into::into),
                    name: known.name.map(Into::into),
                })
            }
        };
        (Some(admission_item), registration_type)
    } else {
        (None, None)
    };
    let reference_id = optional_text(item, "referenceId", 100)?;
    let note = optional_text(item, "note", 300)?;
    let visibility = match optional_text(item, "visibility", 10)? {
        Some(visibility) if !ATTENDEE_VISIBILITIES.contains(&visibility.as_str()) => {
            return Err(Refusal::new(
                400,
                "visibility",
                format!("'{visibility}' is not Private or Public"),
            ));
        }
        visibility => visibility,
    };
    let response_method = if registering {
        match optional_text(item, "responseMethod", 60)? {
            Some(method) if RESPONSE_METHODS.contains(&method.as_str()) => method,
            Some(method) => {
                return Err(Refusal::new(
                    400,
                    "responseMethod",
                    format!("'{method}' is not a response method"),
                ));
            }
            None => "API-Responded".to_string(),
        }
    } else {
        "No Response".to_string()
    };
    let position = data.part_end(part);
    let Some(template) = data.template_attendee(position) else {
        return Err(Refusal::new(404, "event.id", "Not found"));
    };
    let (token, web_links) = super::registration::new_links(shared, part);
    let registered_at = registering.then(|| now.to_string());
    let attendee = Attendee {
        id: template.id,
        event: IdRef::new(event_id),
        confirmation_number: template.confirmation_number.filter(|_| registering),
        contact,
        checked_in: Some(false),
        invitation_list: text_at(item, "/invitationList/id").map(|id| IdName {
            id: id.to_string(),
            name: None,
        }),
        web_links: Some(web_links),
        registration_type,
        reference_id,
        note: note.map(Into::into),
        unsubscribed: Some(false),
        status: status.to_string(),
        registered_at: registered_at.clone(),
        registration_last_modified: registered_at,
        invited_by: Some(
            if registering {
                "No Invitation"
            } else {
                "API Invited"
            }
            .into(),
        ),
        response_method: Some(response_method.into()),
        admission_item,
        visibility: visibility.map(Into::into),
        test_record: Some(false),
        attendee_last_modified: Some(now.to_string()),
        created: now.to_string(),
        created_by: Some(API_USER.into()),
        last_modified: now.to_string(),
        last_modified_by: Some(API_USER.into()),
        ..Attendee::default()
    };
    data.add_invitee(part, attendee.clone(), token, now);
    Ok(attendee)
}

/// An optional string member of at most `max` characters.
fn optional_text(item: &Value, field: &'static str, max: usize) -> Result<Option<String>, Refusal> {
    match &item[field] {
        Value::Null => Ok(None),
        Value::String(text) if text.chars().count() <= max => Ok(Some(text.clone())),
        Value::String(_) => Err(Refusal::new(
            400,
            field,
            format!("{field} is longer than {max} characters"),
        )),
        _ => Err(Refusal::new(
            400,
            field,
            format!("{field} must be a string"),
        )),
    }
}

// ---- contacts ----------------------------------------------------------------------------------

/// The contact fields a create checks, with their longest length in the spec's `contact`.
const CONTACT_LENGTHS: &[(&str, usize)] = &[
    ("firstName", 30),
    ("lastName", 50),
    ("middleName", 30),
    ("nickname", 30),
    ("company", 100),
    ("designation", 30),
    ("title", 100),
];

/// Members of a sent contact that the account, not the sender, decides.
const CONTACT_OWN_FIELDS: &[&str] = &[
    "id",
    "created",
    "createdBy",
    "lastModified",
    "lastModifiedBy",
];

pub(super) async fn create_contacts(
    State(shared): State<Arc<Shared>>,
    grant: Option<axum::Extension<Grant>>,
    Query(params): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let upsert = match params.get("upsert").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return bad_request(
                "upsert",
                &format!("upsert must be true or false, got '{other}'"),
            );
        }
    };
    let items = match bulk_items(&body, "contacts", CONTACT_BATCH) {
        Ok(items) => items,
        Err(response) => return response,
    };
    let grant = grant.as_deref();
    let writes_sensitive = grant.is_some_and(|g| g.has(SENSITIVE_WRITE_SCOPE));
    let reads_sensitive = grant.is_some_and(|g| g.has(SENSITIVE_SCOPE));
    let now = timestamp(shared.clock.now());
    let mut data = shared.write_data();
    let answers = items
        .iter()
        .map(|item| {
            match create_contact(&shared, &mut data, item, upsert, writes_sensitive, &now) {
                Ok((status, mut contact)) => {
                    if !reads_sensitive {
                        contact.strip_sensitive();
                    }
                    json!({"data": contact, "status": status})
                }
                Err(refusal) => refusal.answer(item),
            }
        })
        .collect();
    drop(data);
    multi_status(answers)
}

/// One contact of a `POST /contacts` call: created (201), updated by an upsert (200) or refused.
fn create_contact(
    shared: &Shared,
    data: &mut Dataset,
    item: &Value,
    upsert: bool,
    writes_sensitive: bool,
    now: &str,
) -> Result<(u16, Contact), Refusal> {
    let Some(fields) = item.as_object() else {
        return Err(Refusal::new(
            400,
            "body",
            "each contact must be a JSON object",
        ));
    };
    let mut sent: Contact = serde_json::from_value(item.clone())
        .map_err(|error| Refusal::new(400, "body", format!("not a contact: {error}")))?;
    if !writes_sensitive {
        sent.strip_sensitive();
    }
    for (field, max) in CONTACT_LENGTHS {
        if let Some(text) = fields.get(*field).and_then(Value::as_str)
            && text.chars().count() > *max
        {
            return Err(Refusal::new(
                400,
                "body",
                format!("{field} is longer than {max} characters"),
            ));
        }
    }
    if let Some(email) = &sent.email
        && !plausible_email(email)
    {
        return Err(Refusal::new(
            400,
            "email",
            format!("'{email}' is not an email address of 6 to 80 characters"),
        ));
    }
    let existing = sent
        .email
        .as_deref()
        .and_then(|email| data.contact_by_email(email));
    match existing {
        Some(_) if !upsert => Err(Refusal::new(
            409,
            "email",
            format!(
                "a contact with email '{}' already exists; send upsert=true to update it",
                sent.email.as_deref().unwrap_or_default()
            ),
        )),
        Some(existing) => {
            let mut merged = serde_json::to_value(&existing).unwrap_or_default();
            if let (Some(target), Value::Object(patch)) = (
                merged.as_object_mut(),
                serde_json::to_value(&sent).unwrap_or_default(),
            ) {
                for (key, value) in patch {
                    if !CONTACT_OWN_FIELDS.contains(&key.as_str()) {
                        target.insert(key, value);
                    }
                }
            }
            let mut updated: Contact = serde_json::from_value(merged).unwrap_or(existing);
            updated.last_modified = Some(now.to_string());
            updated.last_modified_by = Some(API_USER.into());
            data.update_contact(updated.clone(), now);
            Ok((200, updated))
        }
        None => {
            let number = data.created_contact_count();
            let seed = shared.config.seed;
            let id = crate::seeded::uuid_v4(
                crate::seeded::draw(seed, number, CONTACT_ID_HIGH),
                crate::seeded::draw(seed, number, CONTACT_ID_LOW),
            );
            let contact = Contact {
                id: id.to_string(),
                deleted: Some(false),
                created: Some(now.to_string()),
                created_by: Some(API_USER.into()),
                last_modified: Some(now.to_string()),
                last_modified_by: Some(API_USER.into()),
                ..sent
            };
            data.create_contact(contact.clone());
            Ok((201, contact))
        }
    }
}

/// Fields of the seeded draws behind created contacts' ids.
const CONTACT_ID_HIGH: u64 = 0xC0_47AC_0001;
const CONTACT_ID_LOW: u64 = 0xC0_47AC_0002;

/// An email address as the spec's `contact.email` bounds it: 6 to 80 characters, one `@` with
/// text on both sides, no spaces.
fn plausible_email(email: &str) -> bool {
    let length = email.chars().count();
    let parts: Vec<&str> = email.split('@').collect();
    (6..=80).contains(&length)
        && parts.len() == 2
        && parts.iter().all(|part| !part.is_empty())
        && !email.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_bounded_as_the_spec_bounds_them() {
        assert!(plausible_email("ada@example.org"));
        assert!(!plausible_email("a@b.c"), "shorter than 6");
        assert!(!plausible_email("no-at-sign.example.org"));
        assert!(!plausible_email("two@@example.org"));
        assert!(!plausible_email("space @example.org"));
        assert!(!plausible_email(&format!("{}@example.org", "a".repeat(80))));
    }

    #[test]
    fn a_refusal_is_an_error_response_with_the_request() {
        let sent = json!({"contact": {"id": "c"}});
        let answer = Refusal::new(400, "event.id", "event.id is required").answer(&sent);
        assert_eq!(answer["status"], 400);
        assert_eq!(answer["data"]["code"], 400);
        assert_eq!(answer["data"]["target"], "event.id");
        assert_eq!(answer["message"], "event.id is required");
        assert_eq!(answer["request"]["data"], sent);
    }
}

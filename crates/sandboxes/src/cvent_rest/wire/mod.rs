//! Cvent Platform API (`/ea`) JSON wire types, spelled exactly as the official OpenAPI spec's schemas.
//!
//! Field names, nesting and enum spellings follow `components.schemas` of Cvent's public spec
//! (`cvent/rest-sdks`, `cvent-public-spec/openapi.yaml`). Enum-valued fields are `String`s so the
//! sandbox's control API can set any value, including wrong ones on purpose; the valid spellings are
//! in the `*_STATUSES` / `*_TYPES` constants next to each type.
//!
//! Record types (events, attendees, sessions, ...) carry `#[serde(default)]`: the sandbox also
//! reads them from request bodies, where Cvent accepts partial objects and checks the fields each
//! operation needs itself. Request-only types (`CheckInRequestItem`) are strict, so a missing
//! required field is a deserialisation error the server turns into a 400.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::cvent_rest::filter::{FieldValue, Filterable};

// ---------------------------------------------------------------------------------------------
// Enum spellings
// ---------------------------------------------------------------------------------------------

/// `attendee-status.json`. Title Case with spaces; `Cancelled` has two Ls.
pub mod attendee_status {
    pub const NO_RESPONSE: &str = "No Response";
    pub const ACCEPTED: &str = "Accepted";
    pub const DECLINED: &str = "Declined";
    pub const VISITED: &str = "Visited";
    pub const WAITLISTED: &str = "Waitlisted";
    pub const CANCELLED: &str = "Cancelled";
    pub const PENDING_APPROVAL: &str = "Pending Approval";
    pub const DENIED_APPROVAL: &str = "Denied Approval";
}

pub const ATTENDEE_STATUSES: &[&str] = &[
    attendee_status::NO_RESPONSE,
    attendee_status::ACCEPTED,
    attendee_status::DECLINED,
    attendee_status::VISITED,
    attendee_status::WAITLISTED,
    attendee_status::CANCELLED,
    attendee_status::PENDING_APPROVAL,
    attendee_status::DENIED_APPROVAL,
];

/// `session-status.json`.
pub mod session_status {
    pub const ACTIVE: &str = "Active";
    pub const CANCELLED: &str = "Cancelled";
    pub const CLOSED: &str = "Closed";
}

pub const SESSION_STATUSES: &[&str] = &[
    session_status::ACTIVE,
    session_status::CANCELLED,
    session_status::CLOSED,
];

/// `session-enrollment-status.json`.
pub mod enrollment_status {
    pub const REGISTERED: &str = "Registered";
    pub const WAITLISTED: &str = "Waitlisted";
    pub const CANCELLED: &str = "Cancelled";
}

pub const ENROLLMENT_STATUSES: &[&str] = &[
    enrollment_status::REGISTERED,
    enrollment_status::WAITLISTED,
    enrollment_status::CANCELLED,
];

/// `travel-request-status.json`, shared by air and hotel requests (UPPER_SNAKE, unlike attendees).
pub mod travel_status {
    pub const SUBMITTED: &str = "SUBMITTED";
    pub const PROCESSING: &str = "PROCESSING";
    pub const APPROVED: &str = "APPROVED";
    pub const RESERVED: &str = "RESERVED";
    pub const DENIED: &str = "DENIED";
    pub const NOT_AVAILABLE: &str = "NOT_AVAILABLE";
    pub const CANCELLED: &str = "CANCELLED";
    pub const PENDING: &str = "PENDING";
    pub const TICKETED: &str = "TICKETED";
    pub const WAITLISTED: &str = "WAITLISTED";
}

pub const TRAVEL_REQUEST_STATUSES: &[&str] = &[
    travel_status::SUBMITTED,
    travel_status::PROCESSING,
    travel_status::APPROVED,
    travel_status::RESERVED,
    travel_status::DENIED,
    travel_status::NOT_AVAILABLE,
    travel_status::CANCELLED,
    travel_status::PENDING,
    travel_status::TICKETED,
    travel_status::WAITLISTED,
];

/// `registration-status.json`: an event's `status`.
pub const EVENT_STATUSES: &[&str] = &[
    "Active",
    "Cancelled",
    "Closed",
    "Completed",
    "Deleted",
    "NoRegistrationRequired",
    "Pending",
    "Processing",
];

/// `event-status.json`: an event's `eventStatus`.
pub const EVENT_LIFECYCLE_STATUSES: &[&str] = &[
    "Upcoming",
    "Ongoing",
    "Completed",
    "Cancelled",
    "Deleted",
    "Processing",
    "Archived",
];

/// `event-format.json`.
pub const EVENT_FORMATS: &[&str] = &["In-person", "Virtual", "Hybrid"];

/// `event-type.json1`.
pub const EVENT_TYPES: &[&str] = &[
    "Celebration",
    "Conference",
    "CventEssentials",
    "CventWebinar",
    "Dinner",
    "Forum",
    "FundraiserBenefit",
    "Holiday",
    "IncentiveTrip",
    "Meeting",
    "OtherGeneral",
    "PoliticalEvent",
    "Reunion",
    "SaveTheDate",
    "Seminar",
    "SimpleEvent",
    "SportsEvent",
    "TradeShow",
    "TrainingSession",
    "Webinar",
];

/// `event-security-level.json`.
pub const REGISTRATION_SECURITY_LEVELS: &[&str] = &["Private", "Public", "Public and Private"];

/// `gender.json` (contacts) and `gender.json1` (travel requests) share these spellings.
pub const GENDERS: &[&str] = &["Male", "Female", "Non-binary", "Rather not say"];

/// `address-type.json`.
pub const ADDRESS_TYPES: &[&str] = &["Home", "Work"];

/// `attendee-visibility.json`. A speaker's `visibility` is a boolean instead.
pub const ATTENDEE_VISIBILITIES: &[&str] = &["Private", "Public"];

/// `attendee-invited-by.json`.
pub const INVITED_BY: &[&str] = &[
    "Planner-Invited",
    "No Invitation",
    "Guest-Invited",
    "Alternate Campaign",
    "Weblink",
    "Import",
    "Historical Import",
    "API Invited",
];

/// `attendee-response-method.json`.
pub const RESPONSE_METHODS: &[&str] = &[
    "Administrator Responded",
    "Administrator Responded Widget",
    "API-Responded",
    "Appointments Event Website",
    "Cvent Salesforce App",
    "Cvent Salesforce App - Campaign Page",
    "Cvent Salesforce App - Contact Page",
    "Cvent Salesforce App - Event Page",
    "Cvent Salesforce App - Lead Page",
    "Cvent Salesforce App - Person Account Page",
    "Cvent Salesforce App - Recommendation Widget",
    "External Registration",
    "Group Leader Responded",
    "Group Leader Responded Widget",
    "Historical Import",
    "Imported",
    "No Response",
    "On-site Responded",
    "Planner-Imported",
    "Planner-Responded",
    "Post Event",
    "Self-Responded",
    "Self-Responded Mobile",
    "Self-Responded Widget",
];

/// `external-reference-type.json`.
pub const EXTERNAL_REFERENCE_TYPES: &[&str] = &["Cvent Salesforce App", "Marketo"];

/// `custom-field-category.json`.
pub const CUSTOM_FIELD_CATEGORIES: &[&str] = &[
    "Contact",
    "Session",
    "Event",
    "Survey",
    "Campaign",
    "Rfp",
    "Appointment",
    "Resource",
    "User",
    "Abstract",
    "Budget Item",
];

/// `custom-field-type.json1`: the type of a custom field definition.
pub const CUSTOM_FIELD_TYPES: &[&str] = &[
    "Open Ended Text - Date/Time",
    "Open Ended Text - One Line",
    "Open Ended Text - Comment Box",
    "Choice - Single Answer",
    "Choice - Multiple Answers",
    "Auto-Increment",
];

/// The `type` of a custom field *value* embedded in a record (`custom-field.json3`), a different
/// list from the definition's type.
pub const CUSTOM_FIELD_VALUE_TYPES: &[&str] = &[
    "AutoIncrement",
    "ConsentQuestion",
    "Currency",
    "Decimal",
    "Date",
    "DateTime",
    "Email",
    "FileUpload",
    "FreeText",
    "General",
    "MultiChoice",
    "MultiSelect",
    "Number",
    "OpenEndedDateTime",
    "OpenEndedText",
    "SingleChoice",
    "SingleSelect",
    "USPhoneNumber",
    "Unknown",
];

/// `display-in-data-tag.json`.
pub const DISPLAY_IN_DATA_TAG: &[&str] = &["Yes", "No", "Only when answered"];

/// `question-type.json3`.
pub const QUESTION_TYPES: &[&str] = &[
    "SingleChoice",
    "MultiChoice",
    "OpenEndedDateTime",
    "OpenEndedTextOneLine",
    "OpenEndedTextCommentBox",
    "OpenEndedNumeric",
    "FileUpload",
    "MatrixSinglePerRow",
    "MatrixMultiPerRow",
];

/// `air-requester-type.json`.
pub const AIR_REQUESTER_TYPES: &[&str] = &["Contact", "Guest", "Unknown"];

/// A hotel request's `requesterType` (no `Unknown`, unlike air).
pub const HOTEL_REQUESTER_TYPES: &[&str] = &["Contact", "Guest"];

pub const SEAT_TYPES: &[&str] = &["Aisle", "Window"];

pub const TICKET_TYPES: &[&str] = &["Economy/Coach", "Business", "FirstClass"];

pub const AGE_CATEGORIES: &[&str] = &["Adult", "Senior", "Child", "Infant"];

pub const REQUESTER_SUFFIXES: &[&str] = &["II", "III", "IV", "V", "Sr.", "Jr."];

/// The OAuth error codes of `POST /oauth2/token`'s 400 body.
pub const OAUTH_ERRORS: &[&str] = &[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
];

/// The contact fields [`Contact::strip_sensitive`] removes, as spelled on the wire. They sit on the
/// spec's `contact` schema (`GET /contacts/{id}`); the attendee's embedded `attendee-contact-info.json`
/// does not list them, but neither forbids extra properties.
pub const SENSITIVE_CONTACT_FIELDS: &[&str] = &[
    "dateOfBirth",
    "passportNumber",
    "passport",
    "socialSecurityNumber",
    "nationalIdentificationNumber",
    "npi",
];

// ---------------------------------------------------------------------------------------------
// Small shared shapes
// ---------------------------------------------------------------------------------------------

/// Text that is most often an entry of the generator's static tables (a name, a city, an enum
/// spelling): borrowing it instead of copying saves dozens of allocations per attendee on the
/// serving path. Deserialised text is owned; build one with `.into()` from a `&'static str` or a
/// `String`.
pub type Text = Cow<'static, str>;

/// `{"id": ...}`: a reference to another record (`uuid.json`, `event.json6`, ...).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct IdRef {
    pub id: String,
}

impl IdRef {
    pub fn new(id: impl Into<String>) -> Self {
        IdRef { id: id.into() }
    }
}

/// `{"id", "name"}` (`id-name.json`, `category-id-name.json`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct IdName {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Text>,
}

/// `{"id", "code", "name"}` (`lookup.json`): registration type, registration path, admission item.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct Lookup {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Text>,
}

/// `link.json`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct Link {
    pub href: String,
}

impl Link {
    pub fn new(href: impl Into<String>) -> Self {
        Link { href: href.into() }
    }
}

/// `address.json` / `venue-address.json` / `hotel-address.json`. Latitude and longitude are left
/// out: the contact variant types them as integers, the venue variant as numbers.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct Address {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address2: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address3: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region_code: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_code: Option<Text>,
}

/// `contact-links.json` (and the speaker's `links`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct ContactLinks {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub twitter_url: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facebook_url: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linked_in_url: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_picture: Option<Link>,
}

/// A custom field's value inline on a record (`custom-field.json3`): `value` is always a list.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct CustomFieldValue {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Text>,
    pub value: Vec<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<u32>,
    /// One of [`CUSTOM_FIELD_VALUE_TYPES`].
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub value_type: Option<Text>,
}

/// An attendee's answer to an event question (`attendee-answer.json`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct Answer {
    pub question: QuestionRef,
    pub value: Vec<Text>,
}

/// The question an answer refers to: `{"id"}` as stored, or the whole event question when a
/// listing asks `expand=answers.question` ("the expanded entity is retrieved and displayed
/// inline"). Only the id is ever read from a request body.
#[derive(Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default)]
pub struct QuestionRef {
    pub id: String,
    #[serde(skip)]
    pub expanded: Option<std::sync::Arc<EventQuestion>>,
}

impl QuestionRef {
    pub fn new(id: impl Into<String>) -> Self {
        QuestionRef {
            id: id.into(),
            expanded: None,
        }
    }
}

impl Serialize for QuestionRef {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.expanded {
            Some(question) => question.serialize(serializer),
            None => IdRef::new(self.id.as_str()).serialize(serializer),
        }
    }
}

/// Values of the custom field `id` among `fields`, for `customField.{id}` filters.
fn custom_field_values<'a>(fields: &'a [CustomFieldValue], id: &str) -> FieldValue<'a> {
    match fields
        .iter()
        .find(|field| field.id.eq_ignore_ascii_case(id))
    {
        Some(field) => FieldValue::List(field.value.iter().map(|value| text(value)).collect()),
        None => FieldValue::Null,
    }
}

fn text(value: &str) -> FieldValue<'_> {
    FieldValue::Text(Cow::Borrowed(value))
}

fn opt_text<S: std::ops::Deref<Target = str>>(value: &Option<S>) -> FieldValue<'_> {
    match value {
        Some(value) => text(value),
        None => FieldValue::Null,
    }
}

fn opt_bool(value: Option<bool>) -> FieldValue<'static> {
    value.map_or(FieldValue::Null, FieldValue::Bool)
}

fn opt_number(value: Option<u32>) -> FieldValue<'static> {
    value.map_or(FieldValue::Null, |number| {
        FieldValue::Number(f64::from(number))
    })
}

/// The list of `pick(element)` over `items`, or `Null` when there are none, so `is empty` and
/// `is null` agree on an absent list.
fn list_of<'a, T>(items: &'a [T], pick: impl Fn(&'a T) -> FieldValue<'a>) -> FieldValue<'a> {
    if items.is_empty() {
        FieldValue::Null
    } else {
        FieldValue::List(items.iter().map(pick).collect())
    }
}

mod attendees;
mod envelopes;
mod events;
mod questions;
mod sessions;
mod sponsors;
mod travel;

pub use attendees::*;
pub use envelopes::*;
pub use events::*;
pub use questions::*;
pub use sessions::*;
pub use sponsors::*;
pub use travel::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_identifier_fields_serialize_under_their_wire_names() {
        let event = Event {
            is_virtual: Some(false),
            event_type: "Conference".into(),
            ..Event::default()
        };
        let json = serde_json::to_value(&event).unwrap_or_default();
        assert_eq!(json["virtual"], serde_json::json!(false));
        assert_eq!(json["type"], serde_json::json!("Conference"));
        assert!(json.get("languages").is_some(), "required even when empty");
        assert!(json.get("planners").is_some(), "required even when empty");

        let paging = Paging {
            links: PagingLinks {
                self_link: Some(Link::new("?token=a")),
                ..PagingLinks::default()
            },
            ..Paging::default()
        };
        let json = serde_json::to_value(&paging).unwrap_or_default();
        assert_eq!(
            json["_links"]["self"]["href"],
            serde_json::json!("?token=a")
        );

        let detail = HotelRequestDetail {
            is_ada_accessible: Some(true),
            ..HotelRequestDetail::default()
        };
        let json = serde_json::to_value(&detail).unwrap_or_default();
        assert_eq!(json["isADAAccessible"], serde_json::json!(true));
    }

    #[test]
    fn unlimited_usage_tier_sends_null_quota() {
        let tier = UsageTier {
            name: "Unlimited".into(),
            quota: None,
            burst_limit: 25,
            rate_limit: 25,
            switch_back_plan: None,
        };
        let json = serde_json::to_value(&tier).unwrap_or_default();
        assert_eq!(json["quota"], serde_json::Value::Null);
        assert!(
            json.as_object()
                .is_some_and(|object| object.contains_key("quota"))
        );
    }

    #[test]
    fn check_in_items_require_id_and_check_in() {
        let missing = serde_json::from_str::<CheckInRequestItem>(r#"{"id":"a"}"#);
        assert!(missing.is_err());
        let item: Result<CheckInRequestItem, _> =
            serde_json::from_str(r#"{"id":"a","checkIn":"2026-01-01T00:00:00Z","device":"kiosk"}"#);
        assert_eq!(
            item.ok().and_then(|item| item.device),
            Some("kiosk".to_string())
        );
    }

    #[test]
    fn strip_sensitive_clears_every_sensitive_field() {
        let mut contact = Contact {
            id: "c".into(),
            date_of_birth: Some("1980-01-01".into()),
            passport_number: Some("X1".into()),
            passport: Some(Passport {
                number: Some("X1".into()),
                ..Passport::default()
            }),
            social_security_number: Some("900-00-0000".into()),
            national_identification_number: Some("N1".into()),
            npi: Some("1234567890".into()),
            email: Some("a@b.example".into()),
            ..Contact::default()
        };
        assert!(contact.has_sensitive());
        contact.strip_sensitive();
        assert!(!contact.has_sensitive());
        assert_eq!(contact.email.as_deref(), Some("a@b.example"));
        let json = serde_json::to_value(&contact).unwrap_or_default();
        for field in SENSITIVE_CONTACT_FIELDS {
            assert!(json.get(field).is_none(), "{field} survived");
        }
    }

    #[test]
    fn attendee_fields_resolve_answers_and_nested_paths() {
        let attendee = Attendee {
            id: "a".into(),
            contact: Contact {
                id: "c".into(),
                email: Some("x@y.example".into()),
                ..Contact::default()
            },
            answers: vec![Answer {
                question: QuestionRef::new("q1"),
                value: vec!["Vegan".into(), "Nuts".into()],
            }],
            status: attendee_status::ACCEPTED.into(),
            ..Attendee::default()
        };
        assert_eq!(
            attendee.field("contact.email"),
            FieldValue::Text(Cow::Borrowed("x@y.example"))
        );
        assert_eq!(
            attendee.field("answers.question.q1"),
            FieldValue::List(vec![text("Vegan"), text("Nuts")])
        );
        assert_eq!(attendee.field("answers.question.q2"), FieldValue::Null);
        assert_eq!(attendee.field("registrationType.id"), FieldValue::Null);
        assert_eq!(attendee.field("guest"), FieldValue::Bool(false));
        assert_eq!(attendee.field("status"), text("Accepted"));
    }

    #[test]
    fn every_listed_filter_field_is_answered() {
        // A listed field that falls through to the catch-all would silently never match.
        fn check<T: Filterable>(record: &T, skip_null: &[&str]) {
            for field in T::FILTER_FIELDS {
                let path = field.replace('*', "x");
                if skip_null.contains(field) {
                    continue;
                }
                assert_ne!(record.field(&path), FieldValue::Null, "{path} unanswered");
            }
        }
        let enrollment = Enrollment {
            id: "e".into(),
            session: IdRef::new("s"),
            event: IdRef::new("v"),
            attendee: IdRef::new("a"),
            status: "Registered".into(),
            created: "t".into(),
            last_modified: "t".into(),
            ..Enrollment::default()
        };
        check(&enrollment, &[]);
        let question = EventQuestion {
            id: "q".into(),
            event: IdRef::new("v"),
            code: Some("C".into()),
            tag: Some("T".into()),
            created: Some("t".into()),
            last_modified: Some("t".into()),
            ..EventQuestion::default()
        };
        check(&question, &[]);
    }
}

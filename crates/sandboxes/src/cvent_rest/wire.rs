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
    pub question: IdRef,
    pub value: Vec<Text>,
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

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

/// `venue.json`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Venue {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

/// `planner.json2` (subset): an event's planner.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Planner {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    pub first_name: String,
    pub last_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_phone: Option<String>,
}

/// `stakeholder.json` (subset).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Stakeholder {
    pub first_name: String,
    pub last_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_phone: Option<String>,
}

/// `event-links.json`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct EventLinks {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invitation: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agenda: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration: Option<Link>,
}

/// `event`: `title`, `format`, `planners`, `timezone`, `languages` and `type` are required, and
/// Cvent's own SDK rejects an event without them.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Event {
    pub id: String,
    pub title: String,
    pub code: String,
    #[serde(rename = "virtual", skip_serializing_if = "Option::is_none")]
    pub is_virtual: Option<bool>,
    /// One of [`EVENT_FORMATS`].
    pub format: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub start: String,
    pub end: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close_after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive_after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launch_after: Option<String>,
    pub timezone: String,
    /// At most one (`maxItems: 1`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub venues: Vec<Venue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub show_venue_location: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_locale: Option<String>,
    pub languages: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// One of [`REGISTRATION_SECURITY_LEVELS`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_security_level: Option<String>,
    /// One of [`EVENT_STATUSES`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// One of [`EVENT_LIFECYCLE_STATUSES`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub planning_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_mode: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    /// Required, at most one (`maxItems: 1`).
    pub planners: Vec<Planner>,
    /// At most one (`maxItems: 1`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stakeholders: Vec<Stakeholder>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub custom_fields: Vec<CustomFieldValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<Lookup>,
    /// One of [`EVENT_TYPES`].
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(rename = "_links", skip_serializing_if = "Option::is_none")]
    pub links: Option<EventLinks>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meeting_request_id: Option<String>,
    pub created: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    pub last_modified: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<String>,
}

impl Filterable for Event {
    const FILTER_FIELDS: &'static [&'static str] = &[
        "id",
        "start",
        "end",
        "status",
        "eventStatus",
        "format",
        "title",
        "code",
        "description",
        "launchAfter",
        "created",
        "lastModified",
        "closeAfter",
        "archiveAfter",
        "capacity",
        "stakeholder.firstName",
        "stakeholder.lastName",
        "stakeholder.email",
        "stakeholder.company",
        "stakeholder.title",
        "stakeholder.workPhone",
        "note",
        "virtual",
        "planner.firstName",
        "planner.lastName",
        "planner.email",
        "venue.address.city",
        "venue.address.region",
        "venue.address.regionCode",
        "venue.address.country",
        "venue.address.countryCode",
        "customField.*",
    ];

    fn field(&self, path: &str) -> FieldValue<'_> {
        let venue_address = |pick: fn(&Address) -> &Option<Text>| {
            list_of(&self.venues, move |venue: &Venue| {
                venue
                    .address
                    .as_ref()
                    .map_or(FieldValue::Null, |address| opt_text(pick(address)))
            })
        };
        match path {
            "id" => text(&self.id),
            "start" => text(&self.start),
            "end" => text(&self.end),
            "status" => opt_text(&self.status),
            "eventStatus" => opt_text(&self.event_status),
            "format" => text(&self.format),
            "title" => text(&self.title),
            "code" => text(&self.code),
            "description" => opt_text(&self.description),
            "launchAfter" => opt_text(&self.launch_after),
            "created" => text(&self.created),
            "lastModified" => text(&self.last_modified),
            "closeAfter" => opt_text(&self.close_after),
            "archiveAfter" => opt_text(&self.archive_after),
            "capacity" => opt_number(self.capacity),
            "stakeholder.firstName" => list_of(&self.stakeholders, |s| text(&s.first_name)),
            "stakeholder.lastName" => list_of(&self.stakeholders, |s| text(&s.last_name)),
            "stakeholder.email" => list_of(&self.stakeholders, |s| opt_text(&s.email)),
            "stakeholder.company" => list_of(&self.stakeholders, |s| opt_text(&s.company)),
            "stakeholder.title" => list_of(&self.stakeholders, |s| opt_text(&s.title)),
            "stakeholder.workPhone" => list_of(&self.stakeholders, |s| opt_text(&s.work_phone)),
            "note" => opt_text(&self.note),
            "virtual" => opt_bool(self.is_virtual),
            "planner.firstName" => list_of(&self.planners, |p| text(&p.first_name)),
            "planner.lastName" => list_of(&self.planners, |p| text(&p.last_name)),
            "planner.email" => list_of(&self.planners, |p| opt_text(&p.email)),
            "venue.address.city" => venue_address(|a| &a.city),
            "venue.address.region" => venue_address(|a| &a.region),
            "venue.address.regionCode" => venue_address(|a| &a.region_code),
            "venue.address.country" => venue_address(|a| &a.country),
            "venue.address.countryCode" => venue_address(|a| &a.country_code),
            _ => match path.strip_prefix("customField.") {
                Some(id) => custom_field_values(&self.custom_fields, id),
                None => FieldValue::Null,
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Contacts and attendees
// ---------------------------------------------------------------------------------------------

/// `attendee-contact-type.json`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct ContactType {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Text>,
}

/// `opt-out.json`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct OptOut {
    pub opted_out: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// `passport.json`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct Passport {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
}

/// A contact: the spec's `contact` schema, which is also what an attendee embeds
/// (`attendee-contact-info.json`, the same fields minus the sensitive ones).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Contact {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cc_email: Option<String>,
    /// One of [`GENDERS`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub designation: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<Text>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub contact_type: Option<ContactType>,
    /// One of [`ADDRESS_TYPES`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_address_type: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub home_address: Option<Address>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub home_phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_address: Option<Address>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_fax: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobile_phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opt_out: Option<OptOut>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub custom_fields: Vec<CustomFieldValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pronouns: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headline: Option<String>,
    #[serde(rename = "_links", skip_serializing_if = "Option::is_none")]
    pub links: Option<ContactLinks>,
    /// Sensitive: `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    /// Sensitive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passport_number: Option<String>,
    /// Sensitive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passport: Option<Passport>,
    /// Sensitive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub social_security_number: Option<String>,
    /// Sensitive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub national_identification_number: Option<String>,
    /// Sensitive: US National Provider Identifier, exactly 10 digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub npi: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<Text>,
}

impl Contact {
    /// Removes the fields only a token with [`super::auth::SENSITIVE_SCOPE`] may read
    /// ([`SENSITIVE_CONTACT_FIELDS`]).
    pub fn strip_sensitive(&mut self) {
        self.date_of_birth = None;
        self.passport_number = None;
        self.passport = None;
        self.social_security_number = None;
        self.national_identification_number = None;
        self.npi = None;
    }

    /// Whether any sensitive field is present.
    pub fn has_sensitive(&self) -> bool {
        self.date_of_birth.is_some()
            || self.passport_number.is_some()
            || self.passport.is_some()
            || self.social_security_number.is_some()
            || self.national_identification_number.is_some()
            || self.npi.is_some()
    }
}

/// `attendee-group.json`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct AttendeeGroup {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leader: Option<bool>,
}

/// `external-reference.json`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct ExternalReference {
    /// One of [`EXTERNAL_REFERENCE_TYPES`].
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub reference_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_id: Option<String>,
}

/// `attendee-web-links.json`: the links with which an invitee accepts or declines. The sandbox
/// gives them to the attendees created through it (not to generated ones, whose data must not
/// depend on the port the sandbox listens on).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct WebLinks {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accept_registration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decline_registration: Option<String>,
}

/// `attendee`: one person's registration record for one event.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Attendee {
    pub id: String,
    pub event: IdRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmation_number: Option<String>,
    pub contact: Contact,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checked_in: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_in: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_out: Option<String>,
    /// Seconds between check-in and check-out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_path: Option<Lookup>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invitation_list: Option<IdName>,
    /// The invitee's own links to the registration page; see [`WebLinks`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_links: Option<WebLinks>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_type: Option<Lookup>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub external_references: Vec<ExternalReference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
    pub guest: bool,
    pub deleted_guest: bool,
    /// For a guest, the id of the attendee who brought them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<AttendeeGroup>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub administrator: Option<IdRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsubscribed: Option<bool>,
    /// One of [`ATTENDEE_STATUSES`].
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registered_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_last_modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_cancelled_at: Option<String>,
    /// One of [`INVITED_BY`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invited_by: Option<Text>,
    /// One of [`RESPONSE_METHODS`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_method: Option<Text>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub answers: Vec<Answer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admission_item: Option<Lookup>,
    /// One of [`ATTENDEE_VISIBILITIES`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_record: Option<bool>,
    /// Changes only when a field outside `contact.*` changes; `last_modified` follows both.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attendee_last_modified: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub appointment_groups: Vec<IdRef>,
    pub created: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<Text>,
    pub last_modified: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<Text>,
}

impl Filterable for Attendee {
    const FILTER_FIELDS: &'static [&'static str] = &[
        "event.id",
        "id",
        "confirmationNumber",
        "checkedIn",
        "checkIn",
        "checkOut",
        "registrationPath.id",
        "invitationList.id",
        "registrationType.id",
        "referenceId",
        "externalReference.type",
        "externalReference.id",
        "externalReference.referenceId",
        "note",
        "guest",
        "group.leader",
        "group.id",
        "unsubscribed",
        "registeredAt",
        "registrationLastModified",
        "invitedBy",
        "responseMethod",
        "status",
        "lastModified",
        "created",
        "contact.id",
        "visibility",
        "contact.title",
        "contact.company",
        "contact.firstName",
        "contact.lastName",
        "answers.question.*",
        "contact.email",
        "attendeeLastModified",
        "appointmentGroup.id",
        "contact.deleted",
        "primaryId",
        "deletedGuest",
    ];

    fn field(&self, path: &str) -> FieldValue<'_> {
        fn lookup_id(lookup: &Option<Lookup>) -> FieldValue<'_> {
            match lookup {
                Some(lookup) => text_or_null(&lookup.id),
                None => FieldValue::Null,
            }
        }
        match path {
            "event.id" => text(&self.event.id),
            "id" => text(&self.id),
            "confirmationNumber" => opt_text(&self.confirmation_number),
            "checkedIn" => opt_bool(self.checked_in),
            "checkIn" => opt_text(&self.check_in),
            "checkOut" => opt_text(&self.check_out),
            "registrationPath.id" => lookup_id(&self.registration_path),
            "invitationList.id" => self
                .invitation_list
                .as_ref()
                .map_or(FieldValue::Null, |list| text_or_null(&list.id)),
            "registrationType.id" => lookup_id(&self.registration_type),
            "referenceId" => opt_text(&self.reference_id),
            "externalReference.type" => {
                list_of(&self.external_references, |r| opt_text(&r.reference_type))
            }
            "externalReference.id" => list_of(&self.external_references, |r| opt_text(&r.id)),
            "externalReference.referenceId" => {
                list_of(&self.external_references, |r| opt_text(&r.reference_id))
            }
            "note" => opt_text(&self.note),
            "guest" => FieldValue::Bool(self.guest),
            "group.leader" => opt_bool(self.group.as_ref().and_then(|group| group.leader)),
            "group.id" => self
                .group
                .as_ref()
                .map_or(FieldValue::Null, |group| opt_text(&group.id)),
            "unsubscribed" => opt_bool(self.unsubscribed),
            "registeredAt" => opt_text(&self.registered_at),
            "registrationLastModified" => opt_text(&self.registration_last_modified),
            "invitedBy" => opt_text(&self.invited_by),
            "responseMethod" => opt_text(&self.response_method),
            "status" => text(&self.status),
            "lastModified" => text(&self.last_modified),
            "created" => text(&self.created),
            "contact.id" => text(&self.contact.id),
            "visibility" => opt_text(&self.visibility),
            "contact.title" => opt_text(&self.contact.title),
            "contact.company" => opt_text(&self.contact.company),
            "contact.firstName" => opt_text(&self.contact.first_name),
            "contact.lastName" => opt_text(&self.contact.last_name),
            "contact.email" => opt_text(&self.contact.email),
            "attendeeLastModified" => opt_text(&self.attendee_last_modified),
            "appointmentGroup.id" => list_of(&self.appointment_groups, |group| text(&group.id)),
            "contact.deleted" => opt_bool(self.contact.deleted),
            "primaryId" => opt_text(&self.primary_id),
            "deletedGuest" => FieldValue::Bool(self.deleted_guest),
            _ => match path.strip_prefix("answers.question.") {
                Some(question_id) => self
                    .answers
                    .iter()
                    .find(|answer| answer.question.id.eq_ignore_ascii_case(question_id))
                    .map_or(FieldValue::Null, |answer| {
                        FieldValue::List(answer.value.iter().map(|value| text(value)).collect())
                    }),
                None => FieldValue::Null,
            },
        }
    }
}

/// An empty id reads as absent, so `registrationType.id is null` holds for a lookup without one.
fn text_or_null(value: &str) -> FieldValue<'_> {
    if value.is_empty() {
        FieldValue::Null
    } else {
        text(value)
    }
}

// ---------------------------------------------------------------------------------------------
// Sessions, locations, speakers, enrollment
// ---------------------------------------------------------------------------------------------

/// `location.json2`: the location reference on a session.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct LocationRef {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `session`: required `title`, `start`, `end`, `event`, `status` (the spec also lists a literal
/// `event.id`, which is the nested id).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Session {
    pub id: String,
    #[serde(rename = "virtual", skip_serializing_if = "Option::is_none")]
    pub is_virtual: Option<bool>,
    pub event: IdRef,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<IdName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<LocationRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub start: String,
    pub end: String,
    /// One of [`SESSION_STATUSES`].
    pub status: String,
    /// `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automatically_opens_on: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automatically_closes_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_waitlist: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waitlist_capacity: Option<u32>,
    /// Absent when `capacity_unlimited` is true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity_unlimited: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_on_agenda: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub featured: Option<bool>,
    /// Admission item ids.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub admission_items: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_for_registration: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_for_attendee_hub: Option<bool>,
    /// Registration type ids allowed to enroll; empty means all.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub registration_types: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presentation_type: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_tag_code: Option<Text>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub custom_fields: Vec<CustomFieldValue>,
    /// Segment ids.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<u32>,
    /// Included sessions are part of every registration and list only participants, not registrants.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub included_session: Option<bool>,
    pub created: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<Text>,
    pub last_modified: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<Text>,
}

impl Filterable for Session {
    const FILTER_FIELDS: &'static [&'static str] = &[
        "id",
        "status",
        "event.id",
        "title",
        "code",
        "category.id",
        "category.name",
        "start",
        "end",
        "description",
        "capacity",
        "location.id",
        "location.name",
        "location.code",
        "includedSession",
        "enableWaitlist",
        "featured",
        "openForRegistration",
        "openForAttendeeHub",
        "virtual",
        "created",
        "lastModified",
        "registrationTypes",
        "customField.*",
        "group.id",
        "admissionItems",
        "segments",
    ];

    fn field(&self, path: &str) -> FieldValue<'_> {
        match path {
            "id" => text(&self.id),
            "status" => text(&self.status),
            "event.id" => text(&self.event.id),
            "title" => text(&self.title),
            "code" => opt_text(&self.code),
            "category.id" => self
                .category
                .as_ref()
                .map_or(FieldValue::Null, |c| text(&c.id)),
            "category.name" => self
                .category
                .as_ref()
                .map_or(FieldValue::Null, |c| opt_text(&c.name)),
            "start" => text(&self.start),
            "end" => text(&self.end),
            "description" => opt_text(&self.description),
            "capacity" => opt_number(self.capacity),
            "location.id" => self
                .location
                .as_ref()
                .map_or(FieldValue::Null, |l| text(&l.id)),
            "location.name" => self
                .location
                .as_ref()
                .map_or(FieldValue::Null, |l| opt_text(&l.name)),
            "location.code" => self
                .location
                .as_ref()
                .map_or(FieldValue::Null, |l| opt_text(&l.code)),
            "includedSession" => opt_bool(self.included_session),
            "enableWaitlist" => opt_bool(self.enable_waitlist),
            "featured" => opt_bool(self.featured),
            "openForRegistration" => opt_bool(self.open_for_registration),
            "openForAttendeeHub" => opt_bool(self.open_for_attendee_hub),
            "virtual" => opt_bool(self.is_virtual),
            "created" => text(&self.created),
            "lastModified" => text(&self.last_modified),
            "registrationTypes" => list_of(&self.registration_types, |id| text(id)),
            "admissionItems" => list_of(&self.admission_items, |id| text(id)),
            "segments" => list_of(&self.segments, |id| text(id)),
            // Sessions are generated without agenda groups.
            "group.id" => FieldValue::Null,
            _ => match path.strip_prefix("customField.") {
                Some(id) => custom_field_values(&self.custom_fields, id),
                None => FieldValue::Null,
            },
        }
    }
}

/// `session-location` (`GET /events/{id}/session-locations`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct SessionLocation {
    pub id: String,
    pub code: String,
    pub name: String,
}

impl Filterable for SessionLocation {
    /// The spec documents no `filter` parameter for session locations.
    const FILTER_FIELDS: &'static [&'static str] = &[];

    // Answered anyway, for sorting and for callers that look fields up directly.
    fn field(&self, path: &str) -> FieldValue<'_> {
        match path {
            "id" => text(&self.id),
            "code" => text(&self.code),
            "name" => text(&self.name),
            _ => FieldValue::Null,
        }
    }
}

/// `session-category` (`GET /session-categories`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct SessionCategory {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `existing-speaker-category` (`GET /speaker-categories`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct SpeakerCategory {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

/// `existing-speaker`: required `firstName`, `lastName`, `event`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Speaker {
    pub id: String,
    pub event: IdRef,
    pub first_name: String,
    pub last_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub designation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<IdName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links: Option<ContactLinks>,
    /// A boolean here, unlike an attendee's `Private|Public`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visibility: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub biography: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal_note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub featured: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<IdRef>,
    pub created: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<Text>,
    pub last_modified: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<Text>,
}

impl Filterable for Speaker {
    const FILTER_FIELDS: &'static [&'static str] = &[
        "category.id",
        "category.name",
        "code",
        "company",
        "contact.id",
        "email",
        "event.id",
        "featured",
        "firstName",
        "id",
        "lastModified",
        "lastName",
        "title",
        "visibility",
    ];

    fn field(&self, path: &str) -> FieldValue<'_> {
        match path {
            "category.id" => self
                .category
                .as_ref()
                .map_or(FieldValue::Null, |c| text(&c.id)),
            "category.name" => self
                .category
                .as_ref()
                .map_or(FieldValue::Null, |c| opt_text(&c.name)),
            "code" => opt_text(&self.code),
            "company" => opt_text(&self.company),
            "contact.id" => self
                .contact
                .as_ref()
                .map_or(FieldValue::Null, |c| text(&c.id)),
            "email" => opt_text(&self.email),
            "event.id" => text(&self.event.id),
            "featured" => opt_bool(self.featured),
            "firstName" => text(&self.first_name),
            "id" => text(&self.id),
            "lastModified" => text(&self.last_modified),
            "lastName" => text(&self.last_name),
            "title" => opt_text(&self.title),
            "visibility" => opt_bool(self.visibility),
            _ => FieldValue::Null,
        }
    }
}

/// `session-speaker.json` (`GET /sessions/{id}/speakers`): `id` is the speaker's.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct SessionSpeaker {
    pub id: String,
    pub session: IdRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<IdName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<u32>,
}

/// `speaker-session.json` (`GET /speakers/{id}/sessions`): `id` is the session's.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct SpeakerSession {
    pub id: String,
    pub speaker: IdRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<IdName>,
}

/// `sessions-enrollment.json`: one attendee's registration for one optional session.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct Enrollment {
    pub id: String,
    pub session: IdRef,
    pub event: IdRef,
    pub attendee: IdRef,
    pub deleted: bool,
    /// One of [`ENROLLMENT_STATUSES`].
    pub status: String,
    pub created: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<Text>,
    pub last_modified: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<Text>,
}

impl Filterable for Enrollment {
    const FILTER_FIELDS: &'static [&'static str] = &[
        "id",
        "event.id",
        "attendee.id",
        "session.id",
        "status",
        "deleted",
        "created",
        "lastModified",
    ];

    fn field(&self, path: &str) -> FieldValue<'_> {
        match path {
            "id" => text(&self.id),
            "event.id" => text(&self.event.id),
            "attendee.id" => text(&self.attendee.id),
            "session.id" => text(&self.session.id),
            "status" => text(&self.status),
            "deleted" => FieldValue::Bool(self.deleted),
            "created" => text(&self.created),
            "lastModified" => text(&self.last_modified),
            _ => FieldValue::Null,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Registration types, sponsors, exhibitors
// ---------------------------------------------------------------------------------------------

/// `registration-type-response` (`GET /events/{id}/registration-types`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct RegistrationType {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub open_for_registration: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<IdRef>,
}

/// `existing-sponsorship-level`: required `event`, `name`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct SponsorshipLevel {
    pub id: String,
    pub event: IdRef,
    pub name: String,
    /// 0 is the top level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<String>,
}

/// `exhibitor-address.json`: a flatter address than contacts use.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct ExhibitorAddress {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address2: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// `contact-links.json2`: the exhibitor variant, with Instagram.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct ExhibitorLinks {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub twitter_url: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facebook_url: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linked_in_url: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instagram_url: Option<Link>,
}

/// `existing-exhibitor.json` / `exhibitor-response`: required `event`, `name`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct Exhibitor {
    pub id: String,
    pub event: IdRef,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    /// The booth.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<ExhibitorAddress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobile_phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_links: Option<ExhibitorLinks>,
    pub deleted: bool,
    pub hidden: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_sponsor: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub featured: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sponsorship_level: Option<IdRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_logo_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub banner_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<String>,
}

impl Filterable for Exhibitor {
    const FILTER_FIELDS: &'static [&'static str] = &["hidden", "deleted", "id"];

    fn field(&self, path: &str) -> FieldValue<'_> {
        match path {
            "hidden" => FieldValue::Bool(self.hidden),
            "deleted" => FieldValue::Bool(self.deleted),
            "id" => text(&self.id),
            _ => FieldValue::Null,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Custom fields and event questions
// ---------------------------------------------------------------------------------------------

/// `choice.json4`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct Choice {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub text: String,
}

/// A custom field's `details`, in the shape of the spec's choice alternative (the others hold
/// text limits and date formats). The spec's `oneOf` lists open objects with no required property,
/// so strictly no value can match exactly one of them; validators read it as `anyOf`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct CustomFieldDetails {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
    /// One of `Dropdown`, `Vertical`, `Horizontal`, `MultiSelectBox`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer_format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum: Option<i64>,
}

/// `existing-custom-field`: required `category`, `name`, `code`, `type`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct CustomField {
    pub id: String,
    /// One of [`CUSTOM_FIELD_CATEGORIES`].
    pub category: String,
    pub name: String,
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// One of [`CUSTOM_FIELD_TYPES`].
    #[serde(rename = "type")]
    pub field_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<CustomFieldDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help_text: Option<String>,
    /// One of [`DISPLAY_IN_DATA_TAG`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_in_data_tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent_field: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<String>,
}

impl Filterable for CustomField {
    const FILTER_FIELDS: &'static [&'static str] = &["id", "category", "lastModified", "code"];

    fn field(&self, path: &str) -> FieldValue<'_> {
        match path {
            "id" => text(&self.id),
            "category" => text(&self.category),
            "lastModified" => opt_text(&self.last_modified),
            "code" => text(&self.code),
            _ => FieldValue::Null,
        }
    }
}

/// `event-question.json`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct EventQuestion {
    pub id: String,
    pub event: IdRef,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<IdRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admission_item: Option<IdRef>,
    /// One of [`QUESTION_TYPES`].
    #[serde(rename = "type")]
    pub question_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal_note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<String>,
}

impl Filterable for EventQuestion {
    const FILTER_FIELDS: &'static [&'static str] =
        &["event.id", "id", "code", "tag", "created", "lastModified"];

    fn field(&self, path: &str) -> FieldValue<'_> {
        match path {
            "event.id" => text(&self.event.id),
            "id" => text(&self.id),
            "code" => opt_text(&self.code),
            "tag" => opt_text(&self.tag),
            "created" => opt_text(&self.created),
            "lastModified" => opt_text(&self.last_modified),
            _ => FieldValue::Null,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Travel
// ---------------------------------------------------------------------------------------------

/// `leg-detail.json`: `date` a zoned UTC date-time at midnight (`2023-05-19T00:00:00Z`), as the
/// spec declares it; `time` a part of day (`Morning`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct Leg {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
}

/// `airline-preference.json`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct AirlinePreference {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub airline_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rewards_code: Option<String>,
}

/// `air-request.json`: one traveller's request.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct AirRequestDetail {
    pub air_request_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requester_id: Option<String>,
    /// One of [`AIR_REQUESTER_TYPES`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requester_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requester_first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requester_middle_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requester_last_name: Option<String>,
    /// One of [`REQUESTER_SUFFIXES`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requester_suffix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// Sensitive travel document number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redress_number: Option<String>,
    /// Sensitive travel document number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known_traveler_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outgoing_leg: Option<Leg>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incoming_leg: Option<Leg>,
    /// One of [`SEAT_TYPES`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seat_type: Option<String>,
    /// One of [`TICKET_TYPES`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub food_preference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub special_request: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub airline_preference: Vec<AirlinePreference>,
    /// One of [`AGE_CATEGORIES`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_category: Option<String>,
    /// One of [`TRAVEL_REQUEST_STATUSES`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Sensitive: `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    /// One of [`GENDERS`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub planner_memo: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub air_request_answers: Vec<Answer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<String>,
}

/// `air-reservation-detail.json`: an attendee's air requests (`GET /events/{id}/event-travel/air-requests`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct AirRequest {
    pub attendee: IdRef,
    pub air_request_details: Vec<AirRequestDetail>,
}

impl AirRequest {
    /// The newest modification time among the requests.
    pub fn last_modified(&self) -> Option<String> {
        self.air_request_details
            .iter()
            .filter_map(|d| d.last_modified.clone())
            .max()
    }

    /// Removes the traveller's date of birth and travel document numbers, which Cvent guards like
    /// the contact's sensitive fields.
    pub fn strip_sensitive(&mut self) {
        for detail in &mut self.air_request_details {
            detail.date_of_birth = None;
            detail.redress_number = None;
            detail.known_traveler_number = None;
        }
    }
}

/// Sort fields of `GET /events/{id}/event-travel/air-requests`, as the spec lists them.
pub const AIR_REQUEST_SORT: &[&str] = &[
    "airRequestDetails.requesterFirstName",
    "airRequestDetails.requesterLastName",
    "airRequestDetails.lastModified",
];

/// Sort fields of `GET /events/{id}/event-travel/hotel-requests`, as the spec lists them.
pub const HOTEL_REQUEST_SORT: &[&str] = &[
    "hotelRequestDetails.requesterFirstName",
    "hotelRequestDetails.requesterLastName",
    "hotelRequestDetails.lastModified",
];

/// The value a travel item sorts by on a `…Details.*` field: an item lists several requests, so
/// names come from the first (the registered attendee's own, ahead of their guests') and
/// `lastModified` is the newest of them, the time the item last changed.
fn travel_sort_value<'a, D>(
    details: &'a [D],
    field: &str,
    names: impl Fn(&'a D) -> (&'a Option<String>, &'a Option<String>),
    modified: impl Fn(&'a D) -> &'a Option<String>,
) -> FieldValue<'a> {
    match field {
        "requesterFirstName" => details
            .first()
            .map_or(FieldValue::Null, |d| opt_text(names(d).0)),
        "requesterLastName" => details
            .first()
            .map_or(FieldValue::Null, |d| opt_text(names(d).1)),
        "lastModified" => details
            .iter()
            .filter_map(|d| modified(d).as_deref())
            .max()
            .map_or(FieldValue::Null, text),
        _ => FieldValue::Null,
    }
}

impl Filterable for AirRequest {
    const FILTER_FIELDS: &'static [&'static str] = &["attendee.id"];

    fn field(&self, path: &str) -> FieldValue<'_> {
        match path {
            "attendee.id" => text(&self.attendee.id),
            _ => match path.strip_prefix("airRequestDetails.") {
                Some(field) => travel_sort_value(
                    &self.air_request_details,
                    field,
                    |d| (&d.requester_first_name, &d.requester_last_name),
                    |d| &d.last_modified,
                ),
                None => FieldValue::Null,
            },
        }
    }
}

/// `hotel-room-rate.json`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct HotelRoomRate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room_night: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room_rate: Option<f64>,
}

/// `hotel-request.json`: one traveller's room request.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct HotelRequestDetail {
    pub hotel_request_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requester_id: Option<String>,
    /// One of [`HOTEL_REQUESTER_TYPES`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requester_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requester_first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requester_last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hotel_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hotel_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub special_request: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rewards_code: Option<String>,
    /// A zoned UTC date-time at midnight (`2023-05-19T00:00:00Z`), as the spec declares it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkin_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkout_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smoking: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled: Option<bool>,
    /// One of [`TRAVEL_REQUEST_STATUSES`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmation_number: Option<String>,
    #[serde(rename = "isADAAccessible", skip_serializing_if = "Option::is_none")]
    pub is_ada_accessible: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_room: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roommate_leader: Option<bool>,
    /// One of [`GENDERS`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_amount: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub planner_memo: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hotel_address: Option<Address>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hotel_room_rates: Vec<HotelRoomRate>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hotel_request_answers: Vec<Answer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<String>,
}

/// `hotel-reservation-detail.json`: an attendee's hotel requests.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct HotelRequest {
    pub attendee: IdRef,
    pub hotel_request_details: Vec<HotelRequestDetail>,
}

impl HotelRequest {
    /// The newest modification time among the requests.
    pub fn last_modified(&self) -> Option<String> {
        self.hotel_request_details
            .iter()
            .filter_map(|d| d.last_modified.clone())
            .max()
    }
}

impl Filterable for HotelRequest {
    const FILTER_FIELDS: &'static [&'static str] = &["attendee.id"];

    fn field(&self, path: &str) -> FieldValue<'_> {
        match path {
            "attendee.id" => text(&self.attendee.id),
            _ => match path.strip_prefix("hotelRequestDetails.") {
                Some(field) => travel_sort_value(
                    &self.hotel_request_details,
                    field,
                    |d| (&d.requester_first_name, &d.requester_last_name),
                    |d| &d.last_modified,
                ),
                None => FieldValue::Null,
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Usage
// ---------------------------------------------------------------------------------------------

/// `usage.json`: one UTC day of the account's API calls (`GET /usage`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct Usage {
    pub used: u64,
    pub remaining: u64,
    pub total: u64,
    /// `YYYY-MM-DD`.
    pub date: String,
}

/// `switch-back-target-usage-plan.json`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct SwitchBackPlan {
    pub name: String,
    pub time: String,
}

/// `public-usage-plan` (`GET /usage/tier`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct UsageTier {
    pub name: String,
    /// Calls per UTC day. Cvent sends `null` for an unlimited tier (although the spec does not mark
    /// the field nullable), so `None` is serialised as `null`, not left out.
    pub quota: Option<u64>,
    pub burst_limit: u32,
    pub rate_limit: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub switch_back_plan: Option<SwitchBackPlan>,
}

// ---------------------------------------------------------------------------------------------
// Envelopes, errors, auth, batch writes
// ---------------------------------------------------------------------------------------------

/// `pagination-links.json`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct PagingLinks {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<Link>,
    #[serde(rename = "self", skip_serializing_if = "Option::is_none")]
    pub self_link: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prev: Option<Link>,
}

/// `paging.json`: `_links` is required; `nextToken` is absent on the last page.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct Paging {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_count: Option<u64>,
    #[serde(rename = "_links")]
    pub links: PagingLinks,
}

/// The `*-paginated-response` wrappers: `{"paging": …, "data": […]}`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Page<T> {
    pub paging: Paging,
    pub data: Vec<T>,
}

/// `error-response`: the body of every 4xx/5xx except the token endpoint's.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct ErrorBody {
    /// The HTTP status, repeated.
    pub code: u16,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<ErrorBody>>,
}

impl ErrorBody {
    pub fn new(code: u16, message: impl Into<String>) -> Self {
        ErrorBody {
            code,
            message: message.into(),
            target: None,
            details: None,
        }
    }
}

/// The token endpoint's 400 body, OAuth-style (not `error-response`). `error` is one of
/// [`OAUTH_ERRORS`].
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct OAuthError {
    pub error: String,
    pub error_description: String,
}

/// `POST /oauth2/token`'s 200 body (snake_case, as OAuth specifies).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: u64,
}

/// One element of the `POST /events/{id}/check-in` and `/sessions/{id}/check-in` bodies
/// (`checkin.json`): `id` (the attendee) and `checkIn` are required.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CheckInRequestItem {
    pub id: String,
    pub check_in: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_out: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<u64>,
}

/// One element of a 207 Multi-Status array (`BulkResponseItem`): `data` is the created object or
/// an `error-response`; `request` is sent only when processing failed.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct MultiStatusItem {
    pub data: serde_json::Value,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<serde_json::Value>,
}

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
                question: IdRef::new("q1"),
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

//! Sessions, their locations and categories, speakers, and session enrollment.

use super::*;

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

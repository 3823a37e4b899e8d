//! The workspace schema: the data types a connection syncs and, per data type, the fields the
//! workspace stores, their types, which are required and which mappings are protected.
//!
//! The schema is static data: mapping validation, type coercion, record validation and the diff
//! all read it, and none of them may disagree about a field's name or type. Besides the fields
//! listed here, every data type accepts custom text fields named `custom.<name>` (`[a-z0-9_]+`),
//! which is where vendor custom questions and fields land (data labels).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use self::FieldType::{Bool, Integer, Text, Timestamp};

/// What a connection can sync into the workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataType {
    People,
    Speakers,
    Sessions,
    SessionRegistrations,
    Locations,
    Sponsors,
    SponsorLevels,
    /// Flight requests, each attached to the person who travels.
    AirRequests,
    /// Hotel room requests, each attached to the person who stays.
    HotelRequests,
}

/// A string that names no data type; `Display` lists the names that do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown data type '{name}': expected one of {}", DataType::names().join(", "))]
pub struct UnknownDataType {
    pub name: String,
}

impl DataType {
    /// Every data type, in the order reports list them.
    pub const ALL: [DataType; 9] = [
        DataType::People,
        DataType::Speakers,
        DataType::Sessions,
        DataType::SessionRegistrations,
        DataType::Locations,
        DataType::Sponsors,
        DataType::SponsorLevels,
        DataType::AirRequests,
        DataType::HotelRequests,
    ];

    /// The snake_case name used in configuration files, reports and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            DataType::People => "people",
            DataType::Speakers => "speakers",
            DataType::Sessions => "sessions",
            DataType::SessionRegistrations => "session_registrations",
            DataType::Locations => "locations",
            DataType::Sponsors => "sponsors",
            DataType::SponsorLevels => "sponsor_levels",
            DataType::AirRequests => "air_requests",
            DataType::HotelRequests => "hotel_requests",
        }
    }

    fn names() -> Vec<&'static str> {
        DataType::ALL
            .iter()
            .map(|data_type| data_type.as_str())
            .collect()
    }

    /// The workspace fields of this data type, in the order reports show them. Custom fields
    /// (`custom.<name>`) are not listed: any valid name is accepted.
    pub fn fields(self) -> &'static [Field] {
        match self {
            DataType::People => PEOPLE,
            DataType::Speakers => SPEAKERS,
            DataType::Sessions => SESSIONS,
            DataType::SessionRegistrations => SESSION_REGISTRATIONS,
            DataType::Locations => LOCATIONS,
            DataType::Sponsors => SPONSORS,
            DataType::SponsorLevels => SPONSOR_LEVELS,
            DataType::AirRequests => AIR_REQUESTS,
            DataType::HotelRequests => HOTEL_REQUESTS,
        }
    }

    /// The schema entry for a listed field; `None` for custom fields and unknown names.
    pub fn field(self, name: &str) -> Option<&'static Field> {
        self.fields().iter().find(|field| field.name == name)
    }

    /// The type of a target a mapping may write: a listed field or a custom field.
    pub fn field_type(self, name: &str) -> Option<FieldType> {
        match self.field(name) {
            Some(field) => Some(field.field_type),
            None if is_custom_field(name) => Some(FieldType::Text),
            None => None,
        }
    }

    /// Where a field sorts in reports: listed fields in schema order, then custom fields.
    pub fn position(self, name: &str) -> usize {
        self.fields()
            .iter()
            .position(|field| field.name == name)
            .unwrap_or(self.fields().len())
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DataType {
    type Err = UnknownDataType;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        DataType::ALL
            .into_iter()
            .find(|data_type| data_type.as_str() == name)
            .ok_or_else(|| UnknownDataType {
                name: name.to_string(),
            })
    }
}

/// The prefix of custom field names.
pub const CUSTOM_PREFIX: &str = "custom.";

/// Whether `name` is a custom field: `custom.` followed by one or more of `[a-z0-9_]`.
pub fn is_custom_field(name: &str) -> bool {
    name.strip_prefix(CUSTOM_PREFIX).is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_')
    })
}

/// The type a workspace field holds; vendor values are coerced to it by the mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Text,
    Bool,
    Integer,
    /// RFC 3339 on the way in, stored in UTC as `YYYY-MM-DDTHH:MM:SS.sssZ`.
    Timestamp,
    /// Text restricted to these values (lower-case, snake_case).
    Enum(&'static [&'static str]),
}

impl FieldType {
    /// What a value of this type looks like, finishing "expects …" in messages.
    pub fn expected(self) -> String {
        match self {
            FieldType::Text => "text".to_string(),
            FieldType::Bool => "true or false".to_string(),
            FieldType::Integer => "a whole number".to_string(),
            FieldType::Timestamp => {
                "an RFC 3339 timestamp with a UTC offset, such as 2025-05-01T09:00:00Z".to_string()
            }
            FieldType::Enum(allowed) => format!("one of {}", allowed.join(", ")),
        }
    }
}

/// One workspace field of a data type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub field_type: FieldType,
    /// A record without a value here is rejected.
    pub required: bool,
    /// Sync depends on this mapping, so a mapping without a rule for it is refused.
    pub protected: bool,
}

impl Field {
    const fn new(name: &'static str, field_type: FieldType) -> Field {
        Field {
            name,
            field_type,
            required: false,
            protected: false,
        }
    }

    const fn required(self) -> Field {
        Field {
            required: true,
            ..self
        }
    }

    const fn protected(self) -> Field {
        Field {
            protected: true,
            ..self
        }
    }
}

/// The `status` values of people.
pub const PERSON_STATUSES: &[&str] = &["active", "cancelled"];
/// The `status` values of session registrations.
pub const REGISTRATION_STATUSES: &[&str] = &["registered", "waitlisted", "cancelled"];
/// The `status` values of air and hotel requests: the vendor's request states, lower-case.
pub const TRAVEL_STATUSES: &[&str] = &[
    "submitted",
    "processing",
    "approved",
    "reserved",
    "denied",
    "not_available",
    "cancelled",
    "pending",
    "ticketed",
    "waitlisted",
];
/// Who a travel request is for: the registered person, one of their guests, or someone else
/// travelling on their request.
pub const REQUESTER_TYPES: &[&str] = &["attendee", "guest", "other"];
/// The status value that makes a diff a cancellation rather than an update.
pub const CANCELLED: &str = "cancelled";

const EXTERNAL_ID: Field = Field::new("external_id", Text).required().protected();

const PEOPLE: &[Field] = &[
    EXTERNAL_ID,
    Field::new("status", FieldType::Enum(PERSON_STATUSES))
        .required()
        .protected(),
    Field::new("first_name", Text).required().protected(),
    Field::new("last_name", Text).required().protected(),
    Field::new("email", Text),
    Field::new("company", Text),
    Field::new("title", Text),
    Field::new("phone", Text),
    Field::new("registration_type", Text),
    Field::new("is_guest", Bool),
    Field::new("primary_external_id", Text),
    // The vendor contact id joins session registrations to people, hence protected.
    Field::new("contact_id", Text).protected(),
    Field::new("photo_url", Text),
];

const SPEAKERS: &[Field] = &[
    EXTERNAL_ID,
    Field::new("first_name", Text).required().protected(),
    Field::new("last_name", Text).required().protected(),
    Field::new("email", Text),
    Field::new("company", Text),
    Field::new("title", Text),
    Field::new("bio", Text),
    Field::new("photo_url", Text),
];

const SESSIONS: &[Field] = &[
    EXTERNAL_ID,
    Field::new("title", Text).required(),
    Field::new("code", Text),
    Field::new("description", Text),
    Field::new("starts_at", Timestamp).required(),
    Field::new("ends_at", Timestamp).required(),
    Field::new("location", Text),
    Field::new("capacity", Integer),
    Field::new("hidden", Bool),
    // Part of a slot of concurrent sessions (Aventri's `in_slot`).
    Field::new("in_slot", Bool),
    // The master session over a slot of concurrent sessions.
    Field::new("master_external_id", Text),
];

const SESSION_REGISTRATIONS: &[Field] = &[
    EXTERNAL_ID,
    Field::new("session_external_id", Text)
        .required()
        .protected(),
    Field::new("person_external_id", Text)
        .required()
        .protected(),
    Field::new("status", FieldType::Enum(REGISTRATION_STATUSES))
        .required()
        .protected(),
    // Guest enrollment tags: the guest's name on a guest's registrations and on those derived
    // from them (see `rules::guests`).
    Field::new("guest_tag", Text),
    // Extra invitee registrations: set on a primary's registration derived from their guest's,
    // to the guest's person; empty on registrations the vendor sent.
    Field::new("via_guest_external_id", Text),
];

const LOCATIONS: &[Field] = &[
    EXTERNAL_ID,
    Field::new("name", Text).required(),
    Field::new("code", Text),
];

const SPONSORS: &[Field] = &[
    EXTERNAL_ID,
    Field::new("name", Text).required(),
    Field::new("level_external_id", Text),
    Field::new("website", Text),
    Field::new("description", Text),
    Field::new("logo_url", Text),
];

const SPONSOR_LEVELS: &[Field] = &[
    EXTERNAL_ID,
    Field::new("name", Text).required(),
    Field::new("rank", Integer),
];

// Travel dates are the vendor's local dates and times, without an offset, so they are text.
const AIR_REQUESTS: &[Field] = &[
    EXTERNAL_ID,
    // The person who travels: travel requests are attached to people, hence protected.
    Field::new("person_external_id", Text)
        .required()
        .protected(),
    Field::new("requester_type", FieldType::Enum(REQUESTER_TYPES)),
    Field::new("first_name", Text),
    Field::new("last_name", Text),
    Field::new("status", FieldType::Enum(TRAVEL_STATUSES)),
    Field::new("outbound_origin", Text),
    Field::new("outbound_destination", Text),
    Field::new("outbound_date", Text),
    Field::new("outbound_time", Text),
    Field::new("return_origin", Text),
    Field::new("return_destination", Text),
    Field::new("return_date", Text),
    Field::new("return_time", Text),
    Field::new("seat_type", Text),
    Field::new("ticket_type", Text),
];

const HOTEL_REQUESTS: &[Field] = &[
    EXTERNAL_ID,
    Field::new("person_external_id", Text)
        .required()
        .protected(),
    Field::new("requester_type", FieldType::Enum(REQUESTER_TYPES)),
    Field::new("first_name", Text),
    Field::new("last_name", Text),
    Field::new("status", FieldType::Enum(TRAVEL_STATUSES)),
    Field::new("hotel_name", Text),
    Field::new("hotel_code", Text),
    Field::new("room_name", Text),
    Field::new("room_code", Text),
    Field::new("quantity", Integer),
    Field::new("checkin_date", Text),
    Field::new("checkout_date", Text),
    Field::new("cancelled", Bool),
    Field::new("confirmation_number", Text),
    Field::new("share_room", Bool),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_type_names_round_trip() {
        let cases = [
            (DataType::People, "people"),
            (DataType::Speakers, "speakers"),
            (DataType::Sessions, "sessions"),
            (DataType::SessionRegistrations, "session_registrations"),
            (DataType::Locations, "locations"),
            (DataType::Sponsors, "sponsors"),
            (DataType::SponsorLevels, "sponsor_levels"),
            (DataType::AirRequests, "air_requests"),
            (DataType::HotelRequests, "hotel_requests"),
        ];
        assert_eq!(cases.len(), DataType::ALL.len());
        for (data_type, name) in cases {
            assert_eq!(data_type.as_str(), name);
            assert_eq!(data_type.to_string(), name);
            assert_eq!(name.parse::<DataType>(), Ok(data_type));
            // Serde and FromStr must agree: configs and the CLI use the same names.
            let json = serde_json::to_string(&data_type).unwrap();
            assert_eq!(json, format!("\"{name}\""));
            assert_eq!(serde_json::from_str::<DataType>(&json).unwrap(), data_type);
        }
    }

    #[test]
    fn unknown_data_type_lists_the_valid_names() {
        let error = "attendees".parse::<DataType>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown data type 'attendees': expected one of people, speakers, sessions, \
             session_registrations, locations, sponsors, sponsor_levels, air_requests, \
             hotel_requests"
        );
    }

    #[test]
    fn every_data_type_requires_and_protects_its_external_id() {
        for data_type in DataType::ALL {
            let field = data_type.field("external_id").unwrap();
            assert!(field.required && field.protected, "{data_type}");
            assert_eq!(data_type.position("external_id"), 0, "{data_type}");
        }
    }

    #[test]
    fn field_names_are_unique_per_data_type() {
        for data_type in DataType::ALL {
            let mut names: Vec<_> = data_type.fields().iter().map(|field| field.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), data_type.fields().len(), "{data_type}");
        }
    }

    #[test]
    fn required_and_protected_fields_per_data_type() {
        let cases: [(DataType, &[&str], &[&str]); 9] = [
            (
                DataType::People,
                &["external_id", "status", "first_name", "last_name"],
                &[
                    "external_id",
                    "status",
                    "first_name",
                    "last_name",
                    "contact_id",
                ],
            ),
            (
                DataType::Speakers,
                &["external_id", "first_name", "last_name"],
                &["external_id", "first_name", "last_name"],
            ),
            (
                DataType::Sessions,
                &["external_id", "title", "starts_at", "ends_at"],
                &["external_id"],
            ),
            (
                DataType::SessionRegistrations,
                &[
                    "external_id",
                    "session_external_id",
                    "person_external_id",
                    "status",
                ],
                &[
                    "external_id",
                    "session_external_id",
                    "person_external_id",
                    "status",
                ],
            ),
            (
                DataType::Locations,
                &["external_id", "name"],
                &["external_id"],
            ),
            (
                DataType::Sponsors,
                &["external_id", "name"],
                &["external_id"],
            ),
            (
                DataType::SponsorLevels,
                &["external_id", "name"],
                &["external_id"],
            ),
            (
                DataType::AirRequests,
                &["external_id", "person_external_id"],
                &["external_id", "person_external_id"],
            ),
            (
                DataType::HotelRequests,
                &["external_id", "person_external_id"],
                &["external_id", "person_external_id"],
            ),
        ];
        for (data_type, required, protected) in cases {
            let fields = data_type.fields().iter();
            let actual_required: Vec<_> = fields
                .clone()
                .filter(|field| field.required)
                .map(|field| field.name)
                .collect();
            let actual_protected: Vec<_> = fields
                .filter(|field| field.protected)
                .map(|field| field.name)
                .collect();
            assert_eq!(actual_required, required, "{data_type}");
            assert_eq!(actual_protected, protected, "{data_type}");
        }
    }

    #[test]
    fn field_types_include_custom_fields() {
        let cases = [
            (DataType::Sessions, "capacity", Some(FieldType::Integer)),
            (DataType::Sessions, "starts_at", Some(FieldType::Timestamp)),
            (DataType::People, "is_guest", Some(FieldType::Bool)),
            (
                DataType::People,
                "status",
                Some(FieldType::Enum(PERSON_STATUSES)),
            ),
            (
                DataType::People,
                "custom.dietary_needs",
                Some(FieldType::Text),
            ),
            (
                DataType::SponsorLevels,
                "custom.tier2",
                Some(FieldType::Text),
            ),
            (DataType::People, "custom.", None),
            (DataType::People, "custom.Diet", None),
            (DataType::People, "custom.diet.vegan", None),
            (DataType::People, "custom.diet-needs", None),
            (DataType::People, "capacity", None),
            (DataType::People, "firstName", None),
        ];
        for (data_type, name, expected) in cases {
            assert_eq!(data_type.field_type(name), expected, "{data_type}.{name}");
        }
    }
}

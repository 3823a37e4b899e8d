//! Air and hotel requests.

use super::*;

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

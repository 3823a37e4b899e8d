//! The mapping each data type starts with: Cvent field paths to workspace fields.

use pipeline::{DataType, Mapping, Rule, ValueMap};

/// Cvent's travel request statuses (UPPER_SNAKE) in the workspace's spelling.
const TRAVEL_STATUS: [(&str, &str); 10] = [
    ("SUBMITTED", "submitted"),
    ("PROCESSING", "processing"),
    ("APPROVED", "approved"),
    ("RESERVED", "reserved"),
    ("DENIED", "denied"),
    ("NOT_AVAILABLE", "not_available"),
    ("CANCELLED", "cancelled"),
    ("PENDING", "pending"),
    ("TICKETED", "ticketed"),
    ("WAITLISTED", "waitlisted"),
];

/// Who a request is for: Cvent's `Unknown` is someone the attendee asked for who is not their
/// guest.
const REQUESTER_TYPE: [(&str, &str); 3] = [
    ("Contact", "attendee"),
    ("Guest", "guest"),
    ("Unknown", "other"),
];

/// Cvent attendee statuses that end a registration.
const PERSON_STATUS: [(&str, &str); 2] = [("Cancelled", "cancelled"), ("Declined", "cancelled")];

pub fn default_mapping(data_type: DataType) -> Mapping {
    let rule = Rule::new;
    let rules = match data_type {
        DataType::People => vec![
            rule("id", "external_id"),
            rule("status", "status")
                .with_values(ValueMap::new(PERSON_STATUS).with_default("active")),
            rule("contact.firstName", "first_name"),
            rule("contact.lastName", "last_name"),
            rule("contact.email", "email"),
            rule("contact.company", "company"),
            rule("contact.title", "title"),
            rule("contact.mobilePhone", "phone"),
            rule("registrationType.name", "registration_type"),
            rule("guest", "is_guest"),
            rule("primaryId", "primary_external_id").importing_empty(),
            rule("contact.id", "contact_id"),
            rule("contact._links.profilePicture.href", "photo_url"),
        ],
        DataType::Sessions => vec![
            rule("id", "external_id"),
            rule("title", "title"),
            rule("code", "code"),
            rule("description", "description"),
            rule("start", "starts_at"),
            rule("end", "ends_at"),
            rule("location.name", "location"),
            rule("capacity", "capacity"),
            // Cancelled sessions stay in the workspace, hidden from the agenda.
            rule("status", "hidden")
                .with_values(ValueMap::new([("Cancelled", "true")]).with_default("false")),
        ],
        DataType::Speakers => vec![
            rule("id", "external_id"),
            rule("firstName", "first_name"),
            rule("lastName", "last_name"),
            rule("email", "email"),
            rule("company", "company"),
            rule("title", "title"),
            rule("biography", "bio"),
            rule("links.profilePicture.href", "photo_url"),
        ],
        DataType::SessionRegistrations => vec![
            rule("id", "external_id"),
            rule("session.id", "session_external_id"),
            rule("attendee.id", "person_external_id"),
            rule("status", "status").with_values(ValueMap::new([
                ("Registered", "registered"),
                ("Waitlisted", "waitlisted"),
                ("Cancelled", "cancelled"),
            ])),
        ],
        DataType::Locations => vec![
            rule("id", "external_id"),
            rule("name", "name"),
            rule("code", "code"),
        ],
        DataType::Sponsors => vec![
            rule("id", "external_id"),
            rule("name", "name"),
            rule("sponsorshipLevel.id", "level_external_id"),
            rule("website", "website"),
            rule("description", "description"),
            rule("profileLogoUrl", "logo_url"),
        ],
        DataType::SponsorLevels => vec![
            rule("id", "external_id"),
            rule("name", "name"),
            rule("rank", "rank"),
        ],
        // `person.id` is put in each request by the connector: who travels (travel.rs).
        DataType::AirRequests => vec![
            rule("airRequestId", "external_id"),
            rule("person.id", "person_external_id"),
            rule("requesterType", "requester_type").with_values(ValueMap::new(REQUESTER_TYPE)),
            rule("requesterFirstName", "first_name"),
            rule("requesterLastName", "last_name"),
            rule("status", "status").with_values(ValueMap::new(TRAVEL_STATUS)),
            rule("outgoingLeg.origin", "outbound_origin"),
            rule("outgoingLeg.destination", "outbound_destination"),
            rule("outgoingLeg.date", "outbound_date"),
            rule("outgoingLeg.time", "outbound_time"),
            rule("incomingLeg.origin", "return_origin"),
            rule("incomingLeg.destination", "return_destination"),
            rule("incomingLeg.date", "return_date"),
            rule("incomingLeg.time", "return_time"),
            rule("seatType", "seat_type"),
            rule("ticketType", "ticket_type"),
        ],
        DataType::HotelRequests => vec![
            rule("hotelRequestId", "external_id"),
            rule("person.id", "person_external_id"),
            rule("requesterType", "requester_type").with_values(ValueMap::new(REQUESTER_TYPE)),
            rule("requesterFirstName", "first_name"),
            rule("requesterLastName", "last_name"),
            rule("status", "status").with_values(ValueMap::new(TRAVEL_STATUS)),
            rule("hotelName", "hotel_name"),
            rule("hotelCode", "hotel_code"),
            rule("roomName", "room_name"),
            rule("roomCode", "room_code"),
            rule("quantity", "quantity"),
            rule("checkinDate", "checkin_date"),
            rule("checkoutDate", "checkout_date"),
            rule("cancelled", "cancelled"),
            rule("confirmationNumber", "confirmation_number"),
            rule("shareRoom", "share_room"),
        ],
    };
    Mapping { rules }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipeline::{ActionKind, FieldValue, diff, flatten, merge, validate};
    use serde_json::json;

    /// Maps a vendor record with the default mapping; panics on a rejection (a test fixture).
    fn map(data_type: DataType, vendor: serde_json::Value) -> pipeline::Record {
        let mut mapped = default_mapping(data_type).apply(&flatten(&vendor), data_type);
        mapped.empty.clear();
        validate(mapped, data_type).expect("valid fixture")
    }

    /// A person who is cancelled or declined at Cvent is kept with status `cancelled`, never
    /// removed; a cancelled session is kept, hidden from the agenda.
    #[test]
    fn vendor_statuses_become_workspace_statuses() {
        let person = |status: &str| {
            json!({"id": "a1", "status": status,
                   "contact": {"id": "c1", "firstName": "Ada", "lastName": "Lovelace"}})
        };
        let coming = map(DataType::People, person("Accepted"));
        let stored = merge(None, &coming, &Default::default());
        // (Cvent attendee status, workspace status, action on a person stored as active)
        let people = [
            ("Accepted", "active", ActionKind::Unchanged),
            ("Visited", "active", ActionKind::Unchanged),
            ("No Response", "active", ActionKind::Unchanged),
            ("Waitlisted", "active", ActionKind::Unchanged),
            ("Pending Approval", "active", ActionKind::Unchanged),
            ("Denied Approval", "active", ActionKind::Unchanged),
            ("Cancelled", "cancelled", ActionKind::Cancel),
            ("Declined", "cancelled", ActionKind::Cancel),
        ];
        for (vendor, workspace, action) in people {
            let record = map(DataType::People, person(vendor));
            assert_eq!(
                record.fields["status"],
                FieldValue::Text(workspace.into()),
                "{vendor}"
            );
            assert_eq!(
                diff(&record, &Default::default(), Some(&stored)).kind(),
                action,
                "{vendor}"
            );
        }
        // (Cvent session status, hidden)
        let sessions = [("Active", false), ("Closed", false), ("Cancelled", true)];
        for (vendor, hidden) in sessions {
            let record = map(
                DataType::Sessions,
                json!({"id": "s1", "title": "Keynote", "status": vendor,
                       "start": "2026-05-01T09:00:00Z", "end": "2026-05-01T10:00:00Z"}),
            );
            assert_eq!(
                record.fields["hidden"],
                FieldValue::Bool(hidden),
                "{vendor}"
            );
        }
    }

    /// Travel requests as Cvent lists them, through the split and the default mapping: one
    /// workspace record per request, attached to the person who travels, statuses in the
    /// workspace's spelling, a cancelled request a cancellation.
    #[test]
    fn travel_items_become_one_record_per_request() {
        use serde_json::value::RawValue;
        let item = |text: &str| RawValue::from_string(text.to_string()).expect("JSON");
        let air = item(
            r#"{"attendee":{"id":"a-1"},"airRequestDetails":[
                {"airRequestId":"f-1","requesterId":"c-1","requesterType":"Contact",
                 "requesterFirstName":"Ada","requesterLastName":"Byron","status":"TICKETED",
                 "outgoingLeg":{"origin":"LHR","destination":"JFK","date":"2026-05-01T00:00:00","time":"Morning"},
                 "incomingLeg":{"origin":"JFK","destination":"LHR","date":"2026-05-04T00:00:00"},
                 "seatType":"Aisle","ticketType":"Business","dateOfBirth":"1990-01-01"},
                {"airRequestId":"f-2","requesterId":"g-1","requesterType":"Guest",
                 "requesterFirstName":"Ann","status":"NOT_AVAILABLE"},
                {"airRequestId":"f-3","requesterType":"Unknown","status":"SUBMITTED"}]}"#,
        );
        let hotel = item(
            r#"{"attendee":{"id":"a-1"},"hotelRequestDetails":[
                {"hotelRequestId":"h-1","requesterId":"g-1","requesterType":"Guest",
                 "hotelName":"Harbour Inn","roomCode":"DBL","quantity":1,
                 "checkinDate":"2026-04-30T00:00:00","checkoutDate":"2026-05-04T00:00:00",
                 "cancelled":true,"status":"CANCELLED","shareRoom":false}]}"#,
        );
        // (data type, item, the member holding requests, expected (id, fields) per request)
        type Expected = Vec<(&'static str, Vec<(&'static str, FieldValue)>)>;
        let t = |v: &str| FieldValue::Text(v.into());
        let cases: Vec<(DataType, &RawValue, &str, Expected)> = vec![
            (
                DataType::AirRequests,
                &air,
                "airRequestDetails",
                vec![
                    (
                        "f-1",
                        vec![
                            ("person_external_id", t("a-1")),
                            ("requester_type", t("attendee")),
                            ("first_name", t("Ada")),
                            ("status", t("ticketed")),
                            ("outbound_origin", t("LHR")),
                            ("outbound_date", t("2026-05-01T00:00:00")),
                            ("outbound_time", t("Morning")),
                            ("return_destination", t("LHR")),
                            ("seat_type", t("Aisle")),
                            ("ticket_type", t("Business")),
                        ],
                    ),
                    (
                        "f-2",
                        vec![
                            ("person_external_id", t("g-1")),
                            ("requester_type", t("guest")),
                            ("status", t("not_available")),
                        ],
                    ),
                    (
                        "f-3",
                        vec![
                            ("person_external_id", t("a-1")),
                            ("requester_type", t("other")),
                            ("status", t("submitted")),
                        ],
                    ),
                ],
            ),
            (
                DataType::HotelRequests,
                &hotel,
                "hotelRequestDetails",
                vec![(
                    "h-1",
                    vec![
                        ("person_external_id", t("g-1")),
                        ("requester_type", t("guest")),
                        ("hotel_name", t("Harbour Inn")),
                        ("room_code", t("DBL")),
                        ("quantity", FieldValue::Integer(1)),
                        ("checkin_date", t("2026-04-30T00:00:00")),
                        ("cancelled", FieldValue::Bool(true)),
                        ("status", t("cancelled")),
                        ("share_room", FieldValue::Bool(false)),
                    ],
                )],
            ),
        ];
        for (data_type, item, details, expected) in cases {
            let records = super::super::travel::split(item, details).expect("valid item");
            assert_eq!(records.len(), expected.len(), "{data_type}");
            for (record, (id, fields)) in records.iter().zip(expected) {
                let record = map(data_type, record.json());
                assert_eq!(record.external_id, id);
                for (field, value) in fields {
                    assert_eq!(record.fields.get(field), Some(&value), "{id}.{field}");
                }
            }
        }
        // A cancelled hotel request cancels the stored one.
        let records = super::super::travel::split(&hotel, "hotelRequestDetails").expect("valid");
        let cancelled = map(DataType::HotelRequests, records[0].json());
        let mut reserved = cancelled.clone();
        reserved
            .fields
            .insert("status".into(), FieldValue::Text("reserved".into()));
        let stored = merge(None, &reserved, &Default::default());
        assert_eq!(
            diff(&cancelled, &Default::default(), Some(&stored)).kind(),
            ActionKind::Cancel
        );
    }

    #[test]
    fn every_default_mapping_is_valid() {
        for data_type in super::super::DATA_TYPES {
            let mapping = default_mapping(*data_type);
            assert_eq!(
                mapping.validate(*data_type).map(|w| w.len()),
                Ok(0),
                "{data_type}"
            );
        }
    }
}

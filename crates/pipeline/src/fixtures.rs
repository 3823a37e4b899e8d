//! Vendor records shaped as the vendors send them, shared by the tests of every step.

use serde_json::{Value, json};

/// One attendee as Cvent's REST API returns it from `GET /ea/attendees`, with a nested contact,
/// custom fields and answers whose values are lists, and a few nulls and empty lists.
pub fn cvent_attendee() -> Value {
    json!({
        "id": "7c1f5d2e-0a4b-4c39-9d0e-3b2f4a6c8e01",
        "event": {"id": "b0e3c1a2-5d4f-4e6a-8b7c-9d0e1f2a3b4c"},
        "confirmationNumber": "QJ7K2M9XW4",
        "contact": {
            "id": "4f6a8b2c-1d3e-4a5b-8c7d-9e0f1a2b3c4d",
            "firstName": "Ada",
            "lastName": "Lovelace",
            "email": "ada@example.com",
            "company": "Analytical Society",
            "title": "Mathematician",
            "type": {"id": "ct-1", "name": "Attendee"},
            "primaryAddressType": "Work",
            "workAddress": {
                "address1": "12 St James's Square",
                "city": "London",
                "postalCode": "SW1Y 4JH",
                "countryCode": "GB"
            },
            "workPhone": "+44 20 7946 0000",
            "mobilePhone": "",
            "customFields": [
                {"id": "cf-diet", "name": "Dietary needs", "value": ["Vegetarian"], "order": 1},
                {"id": "cf-langs", "name": "Languages", "value": ["Rust", "Python"], "order": 2},
                {"id": "cf-empty", "name": "Nothing chosen", "value": [], "order": 3}
            ],
            "_links": {"profilePicture": {"href": "https://example.com/ada.jpg"}},
            "created": "2025-01-10T08:00:00Z",
            "lastModified": "2025-02-01T10:15:30.250Z"
        },
        "checkedIn": false,
        "duration": 5400,
        "registrationType": {"id": "rt-1", "code": "FULL", "name": "Full Conference"},
        "externalReferences": [],
        "note": null,
        "guest": false,
        "deletedGuest": false,
        "status": "Accepted",
        "registeredAt": "2025-01-10T08:05:00Z",
        "answers": [
            {"question": {"id": "q-tshirt"}, "value": ["M"]},
            {"question": {"id": "q-topics"}, "value": ["Analytical engines", "Poetry"]}
        ],
        "appointmentGroups": [],
        "created": "2025-01-10T08:05:00Z",
        "lastModified": "2025-02-01T10:15:30.250Z"
    })
}

/// One session as Cvent's REST API returns it, with a capacity sent as text.
pub fn cvent_session() -> Value {
    json!({
        "id": "s-101",
        "title": "Opening keynote",
        "code": "KEY1",
        "description": "",
        "start": "2025-05-01T09:00:00-04:00",
        "end": "2025-05-01T10:00:00-04:00",
        "location": {"id": "loc-1", "name": "Hall A"},
        "capacity": "150",
        "status": "Active",
        "openForRegistration": true
    })
}

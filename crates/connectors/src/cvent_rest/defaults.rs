//! The mapping each data type starts with: Cvent field paths to workspace fields.

use pipeline::{DataType, Mapping, Rule, ValueMap};

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

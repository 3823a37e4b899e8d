//! The mapping each data type starts with: Aventri field paths to workspace fields.

use pipeline::{DataType, Mapping, Rule, ValueMap};

/// The default mapping; `active_statuses` are the registration statuses imported as active
/// (every other status is imported as cancelled).
pub fn default_mapping(data_type: DataType, active_statuses: &[String]) -> Mapping {
    let rule = Rule::new;
    let active = |yes: &str, no: &str| {
        ValueMap::new(active_statuses.iter().map(|s| (s.clone(), yes.to_string()))).with_default(no)
    };
    let rules = match data_type {
        DataType::People => vec![
            rule("attendeeid", "external_id"),
            rule("registrationstatus", "status").with_values(active("active", "cancelled")),
            rule("fname", "first_name"),
            rule("lname", "last_name"),
            rule("email", "email"),
            rule("company", "company"),
            rule("title", "title"),
            rule("category.name", "registration_type"),
            // Aventri's group leader; "0" means the registration has none.
            rule("parentid", "primary_external_id")
                .with_values(ValueMap::new([("0", "")]))
                .importing_empty(),
            // Registrations have no separate contact id; the attendee id joins schedules.
            rule("attendeeid", "contact_id"),
            rule("photo.url", "photo_url"),
        ],
        DataType::Sessions => vec![
            rule("sessionid", "external_id"),
            rule("name", "title"),
            rule("sessionkey", "code"),
            rule("description", "description"),
            rule("sessionstart", "starts_at"),
            rule("sessionend", "ends_at"),
            rule("location", "location"),
            rule("capacity", "capacity"),
            rule("hidden", "hidden").with_values(ValueMap::new([("1", "true"), ("0", "false")])),
            rule("in_slot", "in_slot").with_values(ValueMap::new([("1", "true"), ("0", "false")])),
            rule("master_sessionid", "master_external_id").importing_empty(),
        ],
        DataType::Speakers => vec![
            rule("speakerid", "external_id"),
            rule("fname", "first_name"),
            rule("lname", "last_name"),
            rule("email", "email"),
            rule("company", "company"),
            rule("title", "title"),
            rule("biography", "bio"),
            rule("photo.url", "photo_url"),
        ],
        DataType::SessionRegistrations => vec![
            rule("registrationid", "external_id"),
            rule("sessionid", "session_external_id"),
            rule("attendeeid", "person_external_id"),
            rule("registrationstatus", "status").with_values(active("registered", "cancelled")),
        ],
        DataType::Sponsors => vec![
            rule("attendeeid", "external_id"),
            rule("company", "name"),
            rule("subcategory.subcategoryid", "level_external_id"),
        ],
        DataType::SponsorLevels => vec![
            rule("subcategoryid", "external_id"),
            rule("name", "name"),
            rule("rank", "rank"),
        ],
        // Aventri has no locations or travel requests to list.
        DataType::Locations | DataType::AirRequests | DataType::HotelRequests => Vec::new(),
    };
    Mapping { rules }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_mapping_is_valid() {
        let statuses = ["Confirmed".to_string(), "Attended".to_string()];
        for data_type in super::super::DATA_TYPES {
            let mapping = default_mapping(*data_type, &statuses);
            assert_eq!(
                mapping.validate(*data_type).map(|w| w.len()),
                Ok(0),
                "{data_type}"
            );
        }
    }
}

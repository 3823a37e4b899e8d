//! The mapping each data type starts with: Cvent SOAP record paths (lower-case attribute names)
//! to workspace fields.

use pipeline::{DataType, Mapping, Rule, ValueMap};

/// Registration statuses that end a participation (seed rule: Cancelled or Declined → cancelled).
const PERSON_STATUS: [(&str, &str); 2] = [("Cancelled", "cancelled"), ("Declined", "cancelled")];

pub fn default_mapping(data_type: DataType) -> Mapping {
    let rule = Rule::new;
    let rules = match data_type {
        DataType::People => vec![
            rule("id", "external_id"),
            rule("status", "status")
                .with_values(ValueMap::new(PERSON_STATUS).with_default("active")),
            rule("firstname", "first_name"),
            rule("lastname", "last_name"),
            rule("emailaddress", "email"),
            rule("company", "company"),
            rule("title", "title"),
            rule("contact.mobilephone", "phone"),
            rule("registrationtype", "registration_type"),
            rule("guest", "is_guest"),
            rule("primaryid", "primary_external_id").importing_empty(),
            rule("contactid", "contact_id"),
        ],
        DataType::Sessions => vec![
            rule("productid", "external_id"),
            rule("productname", "title"),
            rule("productcode", "code"),
            rule("productdescription", "description"),
            rule("starttime", "starts_at"),
            rule("endtime", "ends_at"),
            rule("sessionlocationname", "location"),
            rule("capacity", "capacity"),
            // Seed rule: an inactive (cancelled) session stays, hidden from the agenda.
            rule("status", "hidden")
                .with_values(ValueMap::new([("Cancelled", "true")]).with_default("false")),
        ],
        DataType::Speakers => vec![
            rule("id", "external_id"),
            rule("firstname", "first_name"),
            rule("lastname", "last_name"),
            rule("emailaddress", "email"),
            rule("company", "company"),
            rule("title", "title"),
            rule("biography", "bio"),
        ],
        DataType::SessionRegistrations => vec![
            rule("orderdetailid", "external_id"),
            rule("productid", "session_external_id"),
            rule("registration.id", "person_external_id"),
            rule("action", "status").with_values(ValueMap::new([
                ("Registered", "registered"),
                ("Unregistered", "cancelled"),
                ("Cancelled", "cancelled"),
                ("Waitlisted", "waitlisted"),
            ])),
        ],
        DataType::Locations
        | DataType::Sponsors
        | DataType::SponsorLevels
        | DataType::AirRequests
        | DataType::HotelRequests => Vec::new(),
    };
    Mapping { rules }
}

#[cfg(test)]
mod tests {
    use super::*;

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

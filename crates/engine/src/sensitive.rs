//! Fields that never leave the vendor: date of birth, passport, social security and national
//! identification numbers, NPI. They are cut from every raw record before anything else sees it,
//! so they reach neither the workspace, the raw copy, the report nor a log.

use serde_json::Value;

/// Field names (the last segment of a vendor path) that are always removed, compared ignoring
/// case and separators so that `date_of_birth`, `dateOfBirth` and `DateOfBirth` all match.
const SENSITIVE: &[&str] = &[
    "dateofbirth",
    "birthdate",
    "passport",
    "passportnumber",
    "passportcountry",
    "passportcountrycode",
    "socialsecuritynumber",
    "ssn",
    "nationalidentificationnumber",
    "nationalid",
    "npi",
];

fn is_sensitive(key: &str) -> bool {
    // Compared without allocating: this runs on every key of every record.
    let mut normalised = [0u8; 32];
    let mut length = 0;
    for byte in key.bytes().filter(u8::is_ascii_alphanumeric) {
        if length == normalised.len() {
            return false;
        }
        normalised[length] = byte.to_ascii_lowercase();
        length += 1;
    }
    let normalised = &normalised[..length];
    SENSITIVE.iter().any(|name| name.as_bytes() == normalised)
}

/// Removes sensitive fields anywhere in the record; returns how many were removed.
pub fn strip(record: &mut Value) -> usize {
    match record {
        Value::Object(map) => {
            let before = map.len();
            map.retain(|key, _| !is_sensitive(key));
            let mut removed = before - map.len();
            for value in map.values_mut() {
                removed += strip(value);
            }
            removed
        }
        Value::Array(items) => items.iter_mut().map(strip).sum(),
        _ => 0,
    }
}

/// Whether a mapping source names a sensitive field (a configuration warning).
pub fn names_sensitive(path: &str) -> bool {
    path.split('.').any(is_sensitive)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn removes_every_sensitive_field_at_any_depth() {
        let mut record = json!({
            "id": "a",
            "contact": {"firstName": "Ada", "dateOfBirth": "1990-01-01", "passportNumber": "X1",
                        "passport": {"number": "X1", "country": "FR"}, "socialSecurityNumber": "1",
                        "nationalIdentificationNumber": "2", "npi": "3"},
            "airRequestDetails": [{"dateOfBirth": "1990-01-01", "seatType": "Aisle"}],
        });
        assert_eq!(strip(&mut record), 7);
        assert_eq!(
            record,
            json!({"id": "a", "contact": {"firstName": "Ada"}, "airRequestDetails": [{"seatType": "Aisle"}]})
        );
        assert!(names_sensitive("contact.dateOfBirth"));
        assert!(names_sensitive("contact.passport.number"));
        assert!(!names_sensitive("contact.firstName"));
    }
}

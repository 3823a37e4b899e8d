//! Fields that never leave the vendor: date of birth, passport, social security and national
//! identification numbers, NPI, and the travel document numbers of flight requests (TSA known
//! traveller and redress numbers). They are cut from every raw record before anything else sees it,
//! so they reach neither the workspace, the raw copy, the report nor a log.

use serde_json::Value;
use serde_json::value::RawValue;
use store::RawJson;

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
    "knowntravelernumber",
    "redressnumber",
];

/// Whether a key names a sensitive field.
pub fn is_sensitive(key: &str) -> bool {
    // This runs on every key of every record: most keys are ruled out by their first letter
    // or their length before anything is compared, and nothing allocates.
    let Some(first) = key.bytes().find(u8::is_ascii_alphanumeric) else {
        return false;
    };
    if !matches!(
        first.to_ascii_lowercase(),
        b'b' | b'd' | b'k' | b'n' | b'p' | b'r' | b's'
    ) || key.len() < 3
    {
        return false;
    }
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

/// The record's JSON without its sensitive fields, for storing when some were found.
pub fn stripped(raw: &RawValue) -> RawJson {
    if let Some(text) = pipeline::cut_members(raw.get(), &is_sensitive)
        && let Ok(json) = RawJson::from_text(text)
    {
        return json;
    }
    let mut value: Value = serde_json::from_str(raw.get()).unwrap_or(Value::Null);
    strip(&mut value);
    RawJson::from_value(&value)
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
            "airRequestDetails": [{"dateOfBirth": "1990-01-01", "seatType": "Aisle",
                                   "knownTravelerNumber": "1", "redressNumber": "2"}],
        });
        assert_eq!(strip(&mut record), 9);
        assert_eq!(
            record,
            json!({"id": "a", "contact": {"firstName": "Ada"}, "airRequestDetails": [{"seatType": "Aisle"}]})
        );
        assert!(names_sensitive("contact.dateOfBirth"));
        assert!(names_sensitive("contact.passport.number"));
        assert!(!names_sensitive("contact.firstName"));
        for name in SENSITIVE {
            assert!(is_sensitive(name), "{name}");
            assert!(is_sensitive(&name.to_uppercase()), "{name}");
            assert!(is_sensitive(&format!("_{name}")), "{name}");
        }
        for key in [
            "id",
            "status",
            "npx",
            "passports",
            "d",
            "",
            "__",
            "nationalIdNumber",
        ] {
            assert!(!is_sensitive(key), "{key}");
        }
    }
}

//! Guests' session registrations, two switches that can be on together:
//!
//! - **Extra invitee registrations**: a guest's registration to a session also registers their
//!   primary — the person who brought them — to that session, so the primary's agenda shows
//!   it. The derived registration is a workspace record of its own: its external id is the
//!   guest registration's with [`EXTRA_INVITEE_PREFIX`] in front (the same on every sync, so a
//!   re-sync finds it again), its person is the primary, its `via_guest_external_id` the guest,
//!   and its status always the guest registration's, so it is cancelled when the guest's is.
//!   When the guest's registration is removed (remove outdated data), so is the derived one.
//! - **Guest enrollment tags**: a guest's registrations carry `guest_tag`, the guest's name
//!   (first and last name, as the workspace has them), and so do the registrations derived from
//!   them; an agenda can then show a primary the sessions of each of their guests by tag.
//!
//! Both only touch registrations of people the workspace knows as guests (`is_guest` with a
//! `primary_external_id`). The rules are pure: the engine hands them the registration and what
//! the workspace holds about its person, and reports the notes they return on the record's row.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::schema::DataType;
use crate::validate::Record;
use crate::value::FieldValue;

/// The external id prefix of registrations derived by extra invitee registrations.
pub const EXTRA_INVITEE_PREFIX: &str = "extra-invitee:";

/// The two switches, both off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuestOptions {
    pub extra_invitee_registrations: bool,
    pub guest_enrollment_tags: bool,
}

impl GuestOptions {
    pub fn any(self) -> bool {
        self.extra_invitee_registrations || self.guest_enrollment_tags
    }
}

/// What the workspace knows about a registration's person, when that person is a guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guest {
    /// The guest's person external id.
    pub external_id: String,
    /// The person who brought the guest.
    pub primary_external_id: String,
    /// First and last name, for the tag.
    pub name: String,
}

impl Guest {
    /// Reads a stored person's fields: a guest with a primary, or `None`.
    pub fn from_person(person: &Record) -> Option<Guest> {
        let text = |name: &str| {
            person
                .fields
                .get(name)
                .and_then(FieldValue::as_text)
                .map(str::trim)
                .unwrap_or_default()
                .to_string()
        };
        let is_guest = person.fields.get("is_guest") == Some(&FieldValue::Bool(true));
        let primary = text("primary_external_id");
        if !is_guest || primary.is_empty() {
            return None;
        }
        let name = [text("first_name"), text("last_name")]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        Some(Guest {
            external_id: person.external_id.clone(),
            primary_external_id: primary,
            name,
        })
    }
}

/// Which rule did something to a record, and what, as the report's reason says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuestNote {
    Tagged {
        guest: String,
    },
    Derived {
        guest: String,
        primary: String,
        from: String,
    },
}

impl fmt::Display for GuestNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GuestNote::Tagged { guest } => {
                write!(
                    f,
                    "guest enrollment tags: tagged with the guest's name '{guest}'"
                )
            }
            GuestNote::Derived {
                guest,
                primary,
                from,
            } => write!(
                f,
                "extra invitee registrations: '{primary}' is registered because their guest \
                 '{guest}' is (registration '{from}')"
            ),
        }
    }
}

/// What the rules make of one registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestOutcome {
    /// The vendor's registration, tagged when the tags are on.
    pub registration: Record,
    pub note: Option<GuestNote>,
    /// The primary's registration derived from it, when extra invitee registrations are on.
    pub derived: Option<(Record, GuestNote)>,
}

/// Whether an external id is that of a registration derived by extra invitee registrations.
pub fn is_derived(external_id: &str) -> bool {
    external_id.starts_with(EXTRA_INVITEE_PREFIX)
}

/// The external id of the registration derived from a guest's registration.
pub fn derived_id(guest_registration: &str) -> String {
    format!("{EXTRA_INVITEE_PREFIX}{guest_registration}")
}

/// Applies the switches to one registration whose person is `guest` (`None` when the person is
/// not a guest, which leaves the registration as it is).
pub fn apply(options: GuestOptions, registration: Record, guest: Option<&Guest>) -> GuestOutcome {
    let Some(guest) = guest.filter(|_| options.any()) else {
        return GuestOutcome {
            registration,
            note: None,
            derived: None,
        };
    };
    let mut registration = registration;
    let mut note = None;
    if options.guest_enrollment_tags && !guest.name.is_empty() {
        registration
            .fields
            .insert("guest_tag".into(), FieldValue::Text(guest.name.clone()));
        note = Some(GuestNote::Tagged {
            guest: guest.name.clone(),
        });
    }
    let derived = options.extra_invitee_registrations.then(|| {
        let mut fields = registration.fields.clone();
        let external_id = derived_id(&registration.external_id);
        fields.insert("external_id".into(), FieldValue::Text(external_id.clone()));
        fields.insert(
            "person_external_id".into(),
            FieldValue::Text(guest.primary_external_id.clone()),
        );
        fields.insert(
            "via_guest_external_id".into(),
            FieldValue::Text(guest.external_id.clone()),
        );
        let record = Record {
            data_type: DataType::SessionRegistrations,
            external_id,
            fields,
        };
        let why = GuestNote::Derived {
            guest: guest.external_id.clone(),
            primary: guest.primary_external_id.clone(),
            from: registration.external_id.clone(),
        };
        (record, why)
    });
    GuestOutcome {
        registration,
        note,
        derived,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(data_type: DataType, id: &str, fields: &[(&str, FieldValue)]) -> Record {
        let mut all: std::collections::BTreeMap<String, FieldValue> = fields
            .iter()
            .map(|(name, value)| (name.to_string(), value.clone()))
            .collect();
        all.insert("external_id".into(), text(id));
        Record {
            data_type,
            external_id: id.into(),
            fields: all,
        }
    }

    fn text(value: &str) -> FieldValue {
        FieldValue::Text(value.into())
    }

    fn registration(id: &str, person: &str, status: &str) -> Record {
        record(
            DataType::SessionRegistrations,
            id,
            &[
                ("session_external_id", text("s-1")),
                ("person_external_id", text(person)),
                ("status", text(status)),
            ],
        )
    }

    fn person(id: &str, guest: bool, primary: &str, first: &str, last: &str) -> Record {
        record(
            DataType::People,
            id,
            &[
                ("is_guest", FieldValue::Bool(guest)),
                ("primary_external_id", text(primary)),
                ("first_name", text(first)),
                ("last_name", text(last)),
            ],
        )
    }

    const OFF: GuestOptions = GuestOptions {
        extra_invitee_registrations: false,
        guest_enrollment_tags: false,
    };
    const EXTRA: GuestOptions = GuestOptions {
        extra_invitee_registrations: true,
        guest_enrollment_tags: false,
    };
    const TAGS: GuestOptions = GuestOptions {
        extra_invitee_registrations: false,
        guest_enrollment_tags: true,
    };
    const BOTH: GuestOptions = GuestOptions {
        extra_invitee_registrations: true,
        guest_enrollment_tags: true,
    };

    #[test]
    fn guests_are_read_from_stored_people() {
        // (person, guest read from it)
        let cases = [
            (
                person("g-1", true, "p-1", "Ada", "Lovelace"),
                Some(("p-1", "Ada Lovelace")),
            ),
            (
                person("g-2", true, "p-1", " ", "Byron"),
                Some(("p-1", "Byron")),
            ),
            (person("p-1", false, "", "Ann", "Smith"), None),
            // A guest whose primary the vendor does not name cannot be linked.
            (person("g-3", true, "", "Ann", "Smith"), None),
            (record(DataType::People, "x", &[]), None),
        ];
        for (person, expected) in cases {
            let guest = Guest::from_person(&person);
            assert_eq!(
                guest
                    .as_ref()
                    .map(|g| (g.primary_external_id.as_str(), g.name.as_str())),
                expected,
                "{}",
                person.external_id
            );
        }
    }

    /// The table: registration, whose person is (or is not) a guest, and the switches →
    /// the guest tag on the registration, the derived record's (id, person, via, tag, status),
    /// and the report's notes.
    #[test]
    fn switches_against_registrations() {
        let ada = Guest::from_person(&person("g-1", true, "p-1", "Ada", "Lovelace"));
        let derived = |status: &str, tag: Option<&str>| {
            Some((
                "extra-invitee:r-1".to_string(),
                "p-1".to_string(),
                "g-1".to_string(),
                tag.map(str::to_string),
                status.to_string(),
            ))
        };
        let tagged = "guest enrollment tags: tagged with the guest's name 'Ada Lovelace'";
        let extra = "extra invitee registrations: 'p-1' is registered because their guest 'g-1' \
                     is (registration 'r-1')";
        type Expected = (
            Option<&'static str>,
            Option<(String, String, String, Option<String>, String)>,
            Option<&'static str>,
            Option<&'static str>,
        );
        let cases: Vec<(GuestOptions, &str, Option<&Guest>, Expected)> = vec![
            (OFF, "registered", ada.as_ref(), (None, None, None, None)),
            (BOTH, "registered", None, (None, None, None, None)),
            (
                TAGS,
                "registered",
                ada.as_ref(),
                (Some("Ada Lovelace"), None, Some(tagged), None),
            ),
            (
                EXTRA,
                "registered",
                ada.as_ref(),
                (None, derived("registered", None), None, Some(extra)),
            ),
            (
                BOTH,
                "waitlisted",
                ada.as_ref(),
                (
                    Some("Ada Lovelace"),
                    derived("waitlisted", Some("Ada Lovelace")),
                    Some(tagged),
                    Some(extra),
                ),
            ),
            // The guest's registration is cancelled: so is the primary's derived one.
            (
                EXTRA,
                "cancelled",
                ada.as_ref(),
                (None, derived("cancelled", None), None, Some(extra)),
            ),
        ];
        for (options, status, guest, (tag, derived, note, derived_note)) in cases {
            let outcome = apply(options, registration("r-1", "g-1", status), guest);
            let what = format!("{options:?} {status} {guest:?}");
            assert_eq!(
                outcome.registration.fields.get("guest_tag"),
                tag.map(text).as_ref(),
                "{what}"
            );
            assert_eq!(outcome.registration.external_id, "r-1", "{what}");
            assert_eq!(
                outcome.registration.fields["person_external_id"],
                text("g-1"),
                "{what}: the guest's own registration keeps its person"
            );
            assert_eq!(
                outcome.note.as_ref().map(ToString::to_string).as_deref(),
                note,
                "{what}"
            );
            let got = outcome.derived.as_ref().map(|(record, _)| {
                let field = |name: &str| {
                    record
                        .fields
                        .get(name)
                        .and_then(FieldValue::as_text)
                        .map(str::to_string)
                };
                assert_eq!(field("external_id"), Some(record.external_id.clone()));
                assert_eq!(field("session_external_id").as_deref(), Some("s-1"));
                (
                    record.external_id.clone(),
                    field("person_external_id").unwrap_or_default(),
                    field("via_guest_external_id").unwrap_or_default(),
                    field("guest_tag"),
                    field("status").unwrap_or_default(),
                )
            });
            assert_eq!(got, derived, "{what}");
            assert_eq!(
                outcome
                    .derived
                    .as_ref()
                    .map(|(_, note)| note.to_string())
                    .as_deref(),
                derived_note,
                "{what}"
            );
        }
    }

    #[test]
    fn derived_ids_are_stable() {
        assert_eq!(derived_id("r-1"), "extra-invitee:r-1");
        assert_eq!(derived_id("a::b"), derived_id("a::b"));
        assert!(is_derived(&derived_id("r-1")) && !is_derived("r-1"));
    }
}

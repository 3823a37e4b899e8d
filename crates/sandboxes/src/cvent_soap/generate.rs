//! Seeded, lazy Cvent SOAP account data: registration *i*, its contact, guests, session orders
//! and survey answers are a pure function of (seed, *i*), so any number of attendees costs no
//! memory and the same seed always yields the same data.
//!
//! Ids carry their index ([`crate::seeded::indexed_uuid`]), so a Retrieve finds a record without
//! a table. Records are [`Element`]s: scalars as attributes (empty values as `""`), `*Detail`
//! collections as repeated children, exactly the shape Retrieve serves.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use super::xml::Element;
use crate::seeded::{draw, indexed_uuid, pick, uuid_index};

// Keys of the id permutations, one per kind of record so ids of different kinds never collide.
const KEY_EVENT: u64 = 0x51_4A_0E;
const KEY_REGISTRATION: u64 = 0x2E_61_57;
const KEY_CONTACT: u64 = 0x0C_07_AC;
const KEY_GUEST: u64 = 0x6E_E5_71;
const KEY_SESSION: u64 = 0x5E_55_10;
const KEY_SPEAKER: u64 = 0x5B_EA_CE;
const KEY_ORDER: u64 = 0x0D_E7_A1;

/// Sessions (session products) of the event, and its presenters.
pub const SESSIONS: u64 = 30;
pub const SPEAKERS: u64 = 18;

/// The naive timestamps Cvent's SOAP API writes: no zone, milliseconds (GMT in this sandbox).
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.naive_utc().format("%Y-%m-%dT%H:%M:%S%.3f").to_string()
}

/// Reads a Cvent timestamp (naive, seconds optional fraction) or an RFC 3339 one, as GMT.
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%m/%d/%Y",
        "%Y-%m-%d",
    ] {
        if let Ok(at) = NaiveDateTime::parse_from_str(text, format) {
            return Some(at.and_utc());
        }
        if let Ok(day) = NaiveDate::parse_from_str(text, format) {
            return Some(day.and_time(chrono::NaiveTime::MIN).and_utc());
        }
    }
    None
}

/// When the generated account was created, and the moment of its data snapshot: every generated
/// timestamp lies between the two, so later changes are always newer.
pub fn created_at() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(2025, 9, 1)
        .and_then(|d| d.and_hms_opt(8, 0, 0))
        .map(|t| t.and_utc())
        .unwrap_or_default()
}

pub fn snapshot_at() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(2026, 1, 15)
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .map(|t| t.and_utc())
        .unwrap_or_default()
}

/// The event is held well after the snapshot, so it is upcoming whenever the sandbox runs.
fn event_start() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(2027, 5, 10)
        .and_then(|d| d.and_hms_opt(9, 0, 0))
        .map(|t| t.and_utc())
        .unwrap_or_default()
}

const FIRST_NAMES: &[&str] = &[
    "Amelia", "Ben", "Chloé", "Dmitri", "Elena", "Farah", "Gus", "Hana", "Ivan", "Jules", "Kofi",
    "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Víctor",
    "Wen", "Yusuf", "Zoë",
];
const LAST_NAMES: &[&str] = &[
    "Abbott",
    "Brennan",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fischer",
    "García",
    "Haddad",
    "Ito",
    "Jansen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "O'Keenan",
    "Petrov",
    "Quist",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Underwood",
    "Varga",
    "Weber",
    "Yilmaz",
    "Zhou",
];
const COMPANIES: &[(&str, &str)] = &[
    ("Northwind Health", "northwind.example"),
    ("Blue Harbor Credit Union", "blueharbor.example"),
    ("Cedar & Pine Architects", "cedarpine.example"),
    ("Helix Biolabs", "helix.example"),
    ("Meridian Logistics", "meridian.example"),
    ("Orchid Hotels", "orchid.example"),
    ("Quantum Freight", "qfreight.example"),
    ("Summit Legal LLP", "summitlegal.example"),
];
const TITLES: &[&str] = &[
    "Director of Events",
    "Program Manager",
    "CEO",
    "Marketing Lead",
    "Engineer",
    "Membership Coordinator",
    "",
];
/// Every status a SOAP registration can have, weighted so most are Accepted.
const STATUS_MIX: &[(&str, u64)] = &[
    ("Accepted", 80),
    ("Cancelled", 6),
    ("Declined", 3),
    ("Waitlist", 3),
    ("No Response", 2),
    ("Visited", 2),
    ("Pending Approval", 2),
    ("Denied Approval", 2),
];
const REGISTRATION_TYPES: &[(&str, &str)] = &[
    ("Attendee", "ATT"),
    ("Member", "MEM"),
    ("Exhibitor", "EXH"),
    ("Press", "PRS"),
];
const RESPONSE_METHODS: &[&str] = &["Self-Responded", "Planner-Responded", "Imported"];
const DIETS: &[&str] = &[
    "None",
    "Vegetarian",
    "Vegan",
    "Gluten free",
    "Halal",
    "Kosher",
];
const INTERESTS: &[&str] = &["AI", "Policy", "Finance", "Wellbeing", "Sustainability"];
const SESSION_TOPICS: &[&str] = &[
    "Opening Keynote",
    "Data Privacy in Practice",
    "Scaling Member Programs",
    "Hybrid Events that Work",
    "Budgeting for Growth",
    "Accessible Venues",
    "The Future of Certification",
    "Sponsor Showcase",
    "Networking Lunch",
    "Closing Keynote",
];
const ROOMS: &[&str] = &[
    "Hall A", "Hall B", "Room 101", "Room 102", "Terrace", "Ballroom",
];
const MEMBER_LEVELS: &[&str] = &["Gold", "Silver", "Student"];

/// Picks from a weighted table with a roll.
fn weighted(table: &[(&'static str, u64)], roll: u64) -> &'static str {
    let total: u64 = table.iter().map(|(_, w)| w).sum();
    let mut point = roll % total.max(1);
    for (value, weight) in table {
        if point < *weight {
            return value;
        }
        point -= weight;
    }
    table.first().map_or("", |(v, _)| v)
}

/// Builds an element from attribute pairs.
pub fn element(name: &str, attributes: &[(&str, String)]) -> Element {
    Element {
        name: name.to_string(),
        attributes: attributes
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        ..Element::default()
    }
}

/// The seeded account: small tables plus the formulas for everything proportional to attendees.
#[derive(Debug, Clone)]
pub struct Generator {
    pub seed: u64,
    pub attendees: u64,
    pub event_id: String,
    pub event_code: String,
}

impl Generator {
    pub fn new(seed: u64, attendees: u64) -> Generator {
        let event_id = indexed_uuid(0, KEY_EVENT ^ seed, draw(seed, 0, 1)).to_string();
        let alphabet = b"23456789BCDFGHJKLMNPQRSTVWXYZ";
        let event_code: String = (0..10)
            .map(|i| char::from(pick(alphabet, draw(seed, 0, 100 + i))))
            .collect();
        Generator {
            seed,
            attendees,
            event_id,
            event_code,
        }
    }

    fn id(&self, key: u64, index: u64) -> String {
        indexed_uuid(index, key ^ self.seed, draw(self.seed, index, key)).to_string()
    }

    /// The index an id of this kind carries, if this generator made it.
    fn index_of(&self, key: u64, id: &str) -> Option<u64> {
        let index = uuid_index(id, key ^ self.seed)?;
        (self.id(key, index).eq_ignore_ascii_case(id)).then_some(index)
    }

    pub fn registration_id(&self, index: u64) -> String {
        self.id(KEY_REGISTRATION, index)
    }

    pub fn registration_index(&self, id: &str) -> Option<u64> {
        self.index_of(KEY_REGISTRATION, id)
    }

    pub fn contact_id(&self, index: u64) -> String {
        self.id(KEY_CONTACT, index)
    }

    pub fn contact_index(&self, id: &str) -> Option<u64> {
        self.index_of(KEY_CONTACT, id)
    }

    pub fn session_id(&self, index: u64) -> String {
        self.id(KEY_SESSION, index)
    }

    pub fn speaker_id(&self, index: u64) -> String {
        self.id(KEY_SPEAKER, index)
    }

    pub fn order_detail_id(&self, registration: u64, session: u64) -> String {
        self.id(KEY_ORDER, registration * SESSIONS + session)
    }

    /// A time between the account's creation and the snapshot, drawn for (index, field).
    fn time_between(
        &self,
        index: u64,
        field: u64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> DateTime<Utc> {
        let span = (to - from).num_milliseconds().max(1) as u64;
        from + chrono::Duration::milliseconds((draw(self.seed, index, field) % span) as i64)
    }

    pub fn event(&self) -> Element {
        let start = event_start();
        let mut event = element(
            "Event",
            &[
                ("Id", self.event_id.clone()),
                ("EventCode", self.event_code.clone()),
                ("EventTitle", "Annual Members Conference".into()),
                ("EventStartDate", timestamp(start)),
                ("EventEndDate", timestamp(start + chrono::Duration::days(3))),
                ("EventStatus", "Active".into()),
                ("Timezone", "GMT".into()),
                ("Location", "Lisbon Congress Centre".into()),
                ("City", "Lisbon".into()),
                ("Country", "Portugal".into()),
                ("LastModifiedDate", timestamp(created_at())),
            ],
        );
        event.children = (0..SESSIONS).map(|j| self.session(j)).collect();
        event
    }

    /// Session product `j` of the event, as an `Event/ProductDetail` row.
    pub fn session(&self, j: u64) -> Element {
        let day = j / 10;
        let slot = j % 10;
        let start = event_start()
            + chrono::Duration::days(day as i64)
            + chrono::Duration::minutes(slot as i64 * 45);
        let status = self.session_status(j);
        element(
            "ProductDetail",
            &[
                ("ProductId", self.session_id(j)),
                (
                    "ProductName",
                    format!("{} ({})", pick(SESSION_TOPICS, j), j + 1),
                ),
                ("ProductCode", format!("S{:03}", j + 1)),
                ("ProductType", "Session".into()),
                (
                    "ProductDescription",
                    format!("Session {} of the conference programme.", j + 1),
                ),
                ("StartTime", timestamp(start)),
                ("EndTime", timestamp(start + chrono::Duration::minutes(40))),
                ("Status", status.into()),
                ("Capacity", (100 + draw(self.seed, j, 7) % 400).to_string()),
                ("SessionLocationName", pick(ROOMS, j).into()),
                ("SessionLocationCode", format!("R{}", j % 6 + 1)),
            ],
        )
    }

    pub fn speaker(&self, k: u64) -> Element {
        let first = pick(FIRST_NAMES, draw(self.seed, k, 201));
        let last = pick(LAST_NAMES, draw(self.seed, k, 202));
        let (company, domain) = pick(COMPANIES, draw(self.seed, k, 203));
        let mut speaker = element(
            "Speaker",
            &[
                ("Id", self.speaker_id(k)),
                ("EventId", self.event_id.clone()),
                ("FirstName", first.into()),
                ("LastName", last.into()),
                (
                    "EmailAddress",
                    format!("{}.{}.s{k}@{domain}", ascii(first), ascii(last)),
                ),
                ("Company", company.into()),
                ("Title", pick(TITLES, draw(self.seed, k, 204)).into()),
                (
                    "Biography",
                    format!("{first} {last} works at {company} and speaks on member programmes."),
                ),
                (
                    "LastModifiedDate",
                    timestamp(self.time_between(k, 205, created_at(), snapshot_at())),
                ),
            ],
        );
        speaker.children.push(element(
            "SessionDetail",
            &[("ProductId", self.session_id(k % SESSIONS))],
        ));
        speaker
    }

    /// When registration `i` was made and last modified, without building it: GetUpdated
    /// windows look only at this.
    pub fn registration_times(&self, i: u64) -> (DateTime<Utc>, DateTime<Utc>) {
        let registered = self.time_between(i, 5, created_at(), snapshot_at());
        (
            registered,
            self.time_between(i, 6, registered, snapshot_at()),
        )
    }

    /// Registration `i` of the event, with its session orders, survey answers and guest.
    pub fn registration(&self, i: u64) -> Element {
        let seed = self.seed;
        let first = pick(FIRST_NAMES, draw(seed, i, 1));
        let last = pick(LAST_NAMES, draw(seed, i, 2));
        let (company, domain) = pick(COMPANIES, draw(seed, i, 3));
        let status = weighted(STATUS_MIX, draw(seed, i, 4));
        let (registered, modified) = self.registration_times(i);
        let (registration_type, type_code) = pick(REGISTRATION_TYPES, draw(seed, i, 7));
        let cancelled = matches!(status, "Cancelled" | "Declined");
        let mut registration = element(
            "Registration",
            &[
                ("Id", self.registration_id(i)),
                ("InviteeId", self.registration_id(i)),
                ("ContactId", self.contact_id(i)),
                ("SourceId", format!("M{:07}", i + 1)),
                ("FirstName", first.into()),
                ("LastName", last.into()),
                ("Company", company.into()),
                ("Title", pick(TITLES, draw(seed, i, 8)).into()),
                (
                    "EmailAddress",
                    format!("{}.{}.{i}@{domain}", ascii(first), ascii(last)),
                ),
                ("EventId", self.event_id.clone()),
                ("EventCode", self.event_code.clone()),
                ("EventTitle", "Annual Members Conference".into()),
                ("EventStartDate", timestamp(event_start())),
                ("Status", status.into()),
                ("RegistrationDate", timestamp(registered)),
                (
                    "CancelledDate",
                    if cancelled {
                        timestamp(modified)
                    } else {
                        String::new()
                    },
                ),
                ("LastModifiedDate", timestamp(modified)),
                ("ModifiedBy", "api.integration".into()),
                (
                    "ResponseMethod",
                    pick(RESPONSE_METHODS, draw(seed, i, 9)).into(),
                ),
                (
                    "ConfirmationNumber",
                    format!("{:08}", draw(seed, i, 10) % 100_000_000),
                ),
                ("RegistrationType", registration_type.into()),
                ("RegistrationTypeCode", type_code.into()),
                ("Participant", (status == "Visited").to_string()),
                ("IsTestRegistrant", "false".into()),
            ],
        );
        // The event admission first, then up to four sessions.
        registration.children.push(element(
            "OrderDetail",
            &[
                ("OrderDetailId", self.order_detail_id(i, SESSIONS + 1)),
                ("ProductId", self.event_id.clone()),
                ("ProductName", "Conference admission".into()),
                ("ProductCode", "ADM".into()),
                ("ProductType", "Event".into()),
                ("Action", "Registered".into()),
                ("ActionDate", timestamp(registered)),
                ("Quantity", "1".into()),
                ("Participant", "false".into()),
            ],
        ));
        let sessions = draw(seed, i, 11) % 5;
        let step = 1 + draw(seed, i, 12) % 7;
        let mut chosen = Vec::new();
        for slot in 0..sessions {
            let j = (i + slot * step) % SESSIONS;
            if chosen.contains(&j) || self.session_status(j) == "Cancelled" {
                continue;
            }
            chosen.push(j);
            let action = if draw(seed, i, 20 + slot).is_multiple_of(10) {
                "Unregistered"
            } else {
                "Registered"
            };
            registration
                .children
                .push(self.session_order(i, j, action, registered));
        }
        let diet = pick(DIETS, draw(seed, i, 13));
        let mut diet_question = element(
            "EventSurveyDetail",
            &[
                ("QuestionId", self.id(KEY_EVENT, 1_000)),
                ("QuestionCode", "DIET".into()),
                ("QuestionText", "Dietary requirements".into()),
                ("SurveyType", "Registration".into()),
            ],
        );
        diet_question
            .children
            .push(element("Answer", &[("AnswerText", diet.into())]));
        registration.children.push(diet_question);
        let mut interests = element(
            "EventSurveyDetail",
            &[
                ("QuestionId", self.id(KEY_EVENT, 1_001)),
                ("QuestionCode", "INTERESTS".into()),
                ("QuestionText", "Topics of interest".into()),
                ("SurveyType", "Registration".into()),
            ],
        );
        for n in 0..draw(seed, i, 14) % 4 {
            interests.children.push(element(
                "Answer",
                &[("AnswerText", pick(INTERESTS, i + n).into())],
            ));
        }
        registration.children.push(interests);
        if draw(seed, i, 15).is_multiple_of(10) {
            let guest_first = pick(FIRST_NAMES, draw(seed, i, 16));
            registration.children.push(element(
                "GuestDetail",
                &[
                    ("GuestId", self.id(KEY_GUEST, i)),
                    ("FirstName", guest_first.into()),
                    ("LastName", last.into()),
                    ("Company", company.into()),
                    ("Title", String::new()),
                    (
                        "EmailAddress",
                        format!("{}.{}.g{i}@{domain}", ascii(guest_first), ascii(last)),
                    ),
                    ("RegistrationType", "Guest".into()),
                    ("Participant", "false".into()),
                    (
                        "ConfirmationNumber",
                        format!("{:08}", draw(seed, i, 17) % 100_000_000),
                    ),
                ],
            ));
        }
        registration
    }

    pub fn session_status(&self, j: u64) -> &'static str {
        if j % 13 == 5 {
            "Cancelled"
        } else if j % 7 == 3 {
            "ClosedForRegistration"
        } else {
            "OpenForRegistration"
        }
    }

    /// The `OrderDetail` row of registration `i` for session `j`.
    pub fn session_order(&self, i: u64, j: u64, action: &str, at: DateTime<Utc>) -> Element {
        let session = self.session(j);
        let copy = |name: &str| session.attribute(name).unwrap_or_default().to_string();
        element(
            "OrderDetail",
            &[
                ("OrderDetailId", self.order_detail_id(i, j)),
                ("ProductId", copy("ProductId")),
                ("ProductName", copy("ProductName")),
                ("ProductCode", copy("ProductCode")),
                ("ProductType", "Session".into()),
                ("StartTime", copy("StartTime")),
                ("EndTime", copy("EndTime")),
                ("Action", action.into()),
                ("ActionDate", timestamp(at)),
                ("Quantity", "1".into()),
                ("Participant", "false".into()),
            ],
        )
    }

    /// The session index of a session product id.
    pub fn session_index(&self, id: &str) -> Option<u64> {
        self.index_of(KEY_SESSION, id).filter(|j| *j < SESSIONS)
    }

    pub fn speaker_index(&self, id: &str) -> Option<u64> {
        self.index_of(KEY_SPEAKER, id).filter(|k| *k < SPEAKERS)
    }

    /// Contact `i`, the person behind registration `i`, with 0, 1 or 2 custom fields.
    pub fn contact(&self, i: u64) -> Element {
        let registration = self.registration(i);
        let copy = |name: &str| registration.attribute(name).unwrap_or_default().to_string();
        let mut contact = element(
            "Contact",
            &[
                ("Id", self.contact_id(i)),
                ("SourceId", copy("SourceId")),
                ("FirstName", copy("FirstName")),
                ("LastName", copy("LastName")),
                ("EmailAddress", copy("EmailAddress")),
                ("Company", copy("Company")),
                ("Title", copy("Title")),
                ("Active", "true".into()),
                (
                    "MobilePhone",
                    format!("+1 555 {:04}", draw(self.seed, i, 30) % 10_000),
                ),
                ("WorkCity", "Lisbon".into()),
                ("WorkCountryCode", "PT".into()),
                ("CreatedDate", copy("RegistrationDate")),
                ("LastModifiedDate", copy("RegistrationDate")),
            ],
        );
        let fields = i % 3;
        if fields >= 1 {
            contact.children.push(element(
                "CustomFieldDetail",
                &[
                    ("FieldName", "Member level".into()),
                    ("FieldType", "Choice".into()),
                    (
                        "FieldValue",
                        pick(MEMBER_LEVELS, draw(self.seed, i, 31)).into(),
                    ),
                    ("FieldId", self.id(KEY_EVENT, 2_000)),
                ],
            ));
        }
        if fields == 2 {
            contact.children.push(element(
                "CustomFieldDetail",
                &[
                    ("FieldName", "Member number".into()),
                    ("FieldType", "Text".into()),
                    ("FieldValue", format!("{:06}", i + 1)),
                    ("FieldId", self.id(KEY_EVENT, 2_001)),
                ],
            ));
        }
        contact
    }
}

/// A name as it may appear in an email address.
fn ascii(name: &str) -> String {
    name.chars()
        .filter_map(|c| match c {
            'é' => Some('e'),
            'ë' => Some('e'),
            'í' => Some('i'),
            'ó' => Some('o'),
            c if c.is_ascii_alphabetic() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_records_and_ids_round_trip() {
        let a = Generator::new(7, 100);
        let b = Generator::new(7, 100);
        assert_eq!(a.registration(42), b.registration(42));
        assert_ne!(a.registration(42), a.registration(43));
        let id = a.registration_id(42);
        assert_eq!(a.registration_index(&id), Some(42));
        assert_eq!(a.registration_index(&a.contact_id(42)), None);
        assert_eq!(a.session_index(&a.session_id(3)), Some(3));
    }

    #[test]
    fn timestamps_are_ordered_and_naive() {
        let generator = Generator::new(1, 10);
        for i in 0..200 {
            let registration = generator.registration(i);
            let registered = registration
                .attribute("RegistrationDate")
                .unwrap_or_default();
            let modified = registration
                .attribute("LastModifiedDate")
                .unwrap_or_default();
            assert!(registered <= modified, "{registered} {modified}");
            assert!(!modified.ends_with('Z'));
            assert!(parse_timestamp(modified).is_some_and(|t| t <= snapshot_at()));
            assert_eq!(
                parse_timestamp(modified),
                Some(generator.registration_times(i).1),
                "GetUpdated reads the same time without building the record"
            );
        }
    }

    #[test]
    fn every_status_and_shape_appears() {
        let generator = Generator::new(1, 2_000);
        let statuses: std::collections::BTreeSet<String> = (0..2_000)
            .filter_map(|i| {
                generator
                    .registration(i)
                    .attribute("Status")
                    .map(str::to_string)
            })
            .collect();
        assert_eq!(statuses.len(), STATUS_MIX.len(), "{statuses:?}");
        let guests = (0..200)
            .filter(|i| generator.registration(*i).child("GuestDetail").is_some())
            .count();
        assert!(guests > 5, "{guests}");
        let fields: std::collections::BTreeSet<usize> = (0..3)
            .map(|i| generator.contact(i).children.len())
            .collect();
        assert_eq!(fields, [0, 1, 2].into());
    }
}

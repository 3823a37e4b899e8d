//! Seeded, lazy Aventri data: attendee *i* is a pure function of (seed, *i*), shaped as APIv2's
//! `ereg` JSON (string values throughout, `0000-00-00 00:00:00` for unset dates).
//!
//! Ids are numeric strings, as Aventri's are, and carry their index (`base + i`), so a lookup
//! needs no table. Attendees whose category is `Sponsor` stand for sponsors (Aventri has no
//! sponsor endpoint; the sponsorship level is the attendee's subcategory).

use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde_json::{Value, json};

use crate::seeded::{draw, pick};

/// Aventri's spelling of an unset date-time.
pub const NULL_DATETIME: &str = "0000-00-00 00:00:00";
/// The format of every Aventri date-time: event-local wall time, no offset.
pub const DATETIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// Generated records were all last modified before this instant; anything later is a change.
pub const GENERATED_UNTIL: &str = "2026-06-01 00:00:00";

/// Registration statuses with their weight in a hundred attendees. `Attended` is not an APIv2
/// status anyone has documented (attendance is usually `checkindate`); the sandbox sends it
/// because eventsync's default active statuses (`Confirmed,Attended`) name it.
const STATUSES: [(&str, u64); 7] = [
    ("Confirmed", 78),
    ("Attended", 6),
    ("Cancelled", 5),
    ("Incomplete", 4),
    ("Pending", 3),
    ("Waitlisted", 2),
    ("Declined", 2),
];

/// Attendee categories: id, name, weight in a hundred.
pub const CATEGORIES: [(&str, &str, u64); 5] = [
    ("1", "Attendee", 80),
    ("2", "VIP", 6),
    ("3", "Sponsor", 3),
    ("4", "Press", 5),
    ("5", "Staff", 6),
];

/// Subcategories of the `Sponsor` category: the sponsorship levels.
pub const SPONSOR_LEVELS: [(&str, &str); 3] = [("31", "Gold"), ("32", "Silver"), ("33", "Bronze")];

/// The question whose answer is an uploaded profile picture (an "Upload image" field).
pub const PHOTO_QUESTION_ID: &str = "4712";
/// A free-text question.
pub const DIET_QUESTION_ID: &str = "4711";

const FIRST_NAMES: [&str; 24] = [
    "Ada", "Bruno", "Chloé", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi",
    "Lars", "Maya", "Nikhil", "Olga", "Pedro", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Viktor",
    "Wen", "Yara",
];
const LAST_NAMES: [&str; 24] = [
    "Adeyemi",
    "Berger",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fischer",
    "García",
    "Haddad",
    "Ibsen",
    "Jovanović",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "O'Brien",
    "Petrov",
    "Quinlan",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Ulrich",
    "Varga",
    "Wright",
    "Zhang",
];
const COMPANIES: [&str; 10] = [
    "Northwind",
    "Contoso",
    "Globex",
    "Initech",
    "Umbrella Health",
    "Stark Logistics",
    "Wayne Foods",
    "Acme Labs",
    "Hooli",
    "Vandelay Imports",
];
const TITLES: [&str; 8] = [
    "Director",
    "Engineer",
    "Analyst",
    "Nurse",
    "Professor",
    "Manager",
    "Consultant",
    "Researcher",
];
const DIETS: [&str; 5] = ["", "Vegetarian", "Vegan", "Gluten-free", "Halal"];
const TOPICS: [&str; 12] = [
    "Care pathways",
    "Data at scale",
    "Member engagement",
    "Clinical AI",
    "Funding models",
    "Open standards",
    "Workforce wellbeing",
    "Remote monitoring",
    "Policy update",
    "Case studies",
    "Research methods",
    "Community health",
];
const ROOMS: [&str; 6] = [
    "Hall A",
    "Hall B",
    "Room 101",
    "Room 102",
    "Room 201",
    "Auditorium",
];
/// Session start times; sessions in the same slot on the same day run concurrently.
const SLOTS: [(&str, &str); 5] = [
    ("09:00:00", "10:00:00"),
    ("10:30:00", "11:30:00"),
    ("13:00:00", "14:00:00"),
    ("14:30:00", "15:30:00"),
    ("16:00:00", "17:00:00"),
];
const EVENT_DAYS: u64 = 3;

/// First attendee id; attendee *i* is `ATTENDEE_BASE + i`.
const ATTENDEE_BASE: u64 = 40_000_000;
const SESSION_BASE: u64 = 500_000;
const SPEAKER_BASE: u64 = 700_000;

/// Field numbers for [`draw`], one per independent choice.
mod field {
    pub const FIRST: u64 = 1;
    pub const LAST: u64 = 2;
    pub const COMPANY: u64 = 3;
    pub const TITLE: u64 = 4;
    pub const STATUS: u64 = 5;
    pub const CATEGORY: u64 = 6;
    pub const LEVEL: u64 = 7;
    pub const MODIFIED: u64 = 8;
    pub const DIET: u64 = 9;
    pub const PHOTO: u64 = 10;
    pub const SCHEDULE: u64 = 11;
    pub const IMIS: u64 = 12;
    pub const KEY: u64 = 13;
    pub const TOPIC: u64 = 14;
    pub const ROOM: u64 = 15;
    pub const CAPACITY: u64 = 16;
    pub const SPEAKER_KIND: u64 = 1 << 20;
    pub const SESSION_KIND: u64 = 2 << 20;
}

/// The generator of one sandbox account.
#[derive(Debug, Clone)]
pub struct Generator {
    seed: u64,
    attendees: u64,
    sessions: u64,
    speakers: u64,
}

fn weighted<'a>(table: &[(&'a str, u64)], roll: u64) -> &'a str {
    let total: u64 = table.iter().map(|(_, weight)| weight).sum();
    let mut left = roll % total.max(1);
    for (value, weight) in table {
        if left < *weight {
            return value;
        }
        left -= weight;
    }
    table[0].0
}

fn format(at: NaiveDateTime) -> String {
    at.format(DATETIME_FORMAT).to_string()
}

/// The event's first day.
fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 10, 12).unwrap_or_default()
}

/// The instant generated modifications count back from.
fn generated_until() -> NaiveDateTime {
    NaiveDateTime::parse_from_str(GENERATED_UNTIL, DATETIME_FORMAT).unwrap_or_default()
}

impl Generator {
    pub fn new(seed: u64, attendees: u64) -> Generator {
        let sessions = (attendees / 50).clamp(20, 400);
        Generator {
            seed,
            attendees,
            sessions,
            speakers: sessions / 2,
        }
    }

    pub fn attendee_count(&self) -> u64 {
        self.attendees
    }

    pub fn session_count(&self) -> u64 {
        self.sessions
    }

    pub fn speaker_count(&self) -> u64 {
        self.speakers
    }

    /// The id of the account's event: numeric, derived from the seed.
    pub fn event_id(&self) -> String {
        (100_000 + self.seed % 800_000).to_string()
    }

    /// Another event of the same account, so non-master keys have something else to see.
    pub fn other_event_id(&self) -> String {
        (100_000 + self.seed % 800_000 + 1).to_string()
    }

    pub fn event(&self) -> Value {
        let start = first_day();
        let end = start + Duration::days(EVENT_DAYS as i64 - 1);
        json!({
            "eventid": self.event_id(),
            "name": "Annual Health Data Congress",
            "code": format!("AHDC{}", self.seed % 100),
            "startdate": start.format("%Y-%m-%d").to_string(),
            "enddate": end.format("%Y-%m-%d").to_string(),
            "starttime": "08:00:00",
            "endtime": "18:00:00",
            "status": "Live",
            "lastmodified": format(generated_until() - Duration::days(30)),
        })
    }

    pub fn attendee_id(index: u64) -> String {
        (ATTENDEE_BASE + index).to_string()
    }

    /// The index an attendee id carries, if it is one.
    pub fn attendee_index(id: &str) -> Option<u64> {
        id.parse::<u64>().ok()?.checked_sub(ATTENDEE_BASE)
    }

    pub fn session_id(index: u64) -> String {
        (SESSION_BASE + index).to_string()
    }

    pub fn session_index(id: &str) -> Option<u64> {
        id.parse::<u64>().ok()?.checked_sub(SESSION_BASE)
    }

    pub fn speaker_id(index: u64) -> String {
        (SPEAKER_BASE + index).to_string()
    }

    pub fn speaker_index(id: &str) -> Option<u64> {
        id.parse::<u64>().ok()?.checked_sub(SPEAKER_BASE)
    }

    fn roll(&self, index: u64, field: u64) -> u64 {
        draw(self.seed, index, field)
    }

    fn modified(&self, index: u64, field: u64) -> NaiveDateTime {
        // Spread over the 90 days before `GENERATED_UNTIL`, at whole seconds.
        let back = (self.roll(index, field) % (90 * 86_400)) as i64 + 1;
        generated_until() - Duration::seconds(back)
    }

    /// The full attendee record, as `getAttendee` returns it. `files_origin` is prefixed to the
    /// uploaded photo's path (the sandbox's own address).
    pub fn attendee(&self, index: u64, files_origin: &str) -> Value {
        let first = pick(&FIRST_NAMES, self.roll(index, field::FIRST));
        let last = pick(&LAST_NAMES, self.roll(index, field::LAST));
        let company = pick(&COMPANIES, self.roll(index, field::COMPANY));
        let status = weighted(&STATUSES, self.roll(index, field::STATUS));
        let category_table: Vec<(&str, u64)> =
            CATEGORIES.iter().map(|(_, name, w)| (*name, *w)).collect();
        let category_name = weighted(&category_table, self.roll(index, field::CATEGORY));
        let category_id = CATEGORIES
            .iter()
            .find(|(_, name, _)| *name == category_name)
            .map_or("1", |(id, _, _)| id);
        let subcategory = if category_name == "Sponsor" {
            let (id, name) = pick(&SPONSOR_LEVELS, self.roll(index, field::LEVEL));
            json!({"subcategoryid": id, "name": name})
        } else {
            json!({"subcategoryid": "0", "name": ""})
        };
        let modified = self.modified(index, field::MODIFIED);
        let created = modified - Duration::days(3);
        let checkin = if status == "Attended" {
            format(first_day().and_hms_opt(8, 30, 0).unwrap_or_default())
        } else {
            NULL_DATETIME.to_string()
        };
        // Every fortieth registration is a guest of the one before it.
        let parent = if index % 40 == 39 {
            Generator::attendee_id(index - 1)
        } else {
            "0".to_string()
        };
        let photo = if self.roll(index, field::PHOTO).is_multiple_of(3) {
            format!(
                "{files_origin}/files/uploads/{}.jpg",
                Generator::attendee_id(index)
            )
        } else {
            String::new()
        };
        let imis = match self.roll(index, field::IMIS) % 10 {
            0..=2 => (100_000 + self.roll(index, field::IMIS) % 900_000).to_string(),
            _ => String::new(),
        };
        let schedule_roll = self.roll(index, field::SCHEDULE);
        let picks = schedule_roll % 4;
        let mut sessions: Vec<u64> = (0..picks)
            .map(|n| (schedule_roll >> (8 * (n + 1))) % self.sessions)
            .collect();
        sessions.sort_unstable();
        sessions.dedup();
        let sessions: Vec<Value> = sessions
            .into_iter()
            .map(|s| {
                json!({
                    "sessionid": Generator::session_id(s),
                    "sessionkey": self.session_key(s),
                })
            })
            .collect();
        let id = Generator::attendee_id(index);
        json!({
            "attendeeid": id,
            "parentid": parent,
            "name": format!("{first} {last}"),
            "fname": first,
            "lname": last,
            "email": format!("{}.{}.{index}@example.org", ascii_lower(first), ascii_lower(last)),
            "company": company,
            "title": pick(&TITLES, self.roll(index, field::TITLE)),
            "registrationstatus": status,
            "testregistration": "0",
            "category": {"categoryid": category_id, "name": category_name},
            "subcategory": subcategory,
            "approvalstatus": if status == "Pending" { "Pending" } else { "Approved" },
            "imiscontactid": imis,
            "language": "eng",
            "created": format(created),
            "createdby": "0",
            "lastmodified": format(modified),
            "modifiedby": "0",
            "checkindate": checkin,
            "responses": {
                DIET_QUESTION_ID: {
                    "questionid": DIET_QUESTION_ID,
                    "name": "Dietary requirements",
                    "type": "Text",
                    "response": pick(&DIETS, self.roll(index, field::DIET)),
                },
                PHOTO_QUESTION_ID: {
                    "questionid": PHOTO_QUESTION_ID,
                    "name": "Profile picture",
                    "type": "Upload image",
                    "response": photo,
                },
            },
            "sessions": sessions,
        })
    }

    fn session_key(&self, index: u64) -> String {
        format!(
            "{:08x}",
            self.roll(index | field::SESSION_KIND, field::KEY) as u32
        )
    }

    /// Session *j*; every twenty-fifth has no start and end time, as happens when an organiser
    /// has not scheduled it yet.
    pub fn session(&self, index: u64) -> Value {
        let key = index | field::SESSION_KIND;
        let day = first_day() + Duration::days((index % EVENT_DAYS) as i64);
        let (start, end) = SLOTS[((index / EVENT_DAYS) % SLOTS.len() as u64) as usize];
        let unscheduled = index % 25 == 24;
        let topic = pick(&TOPICS, self.roll(key, field::TOPIC));
        // Keynotes (the first slot) run alone; later slots hold concurrent breakouts.
        let breakout = !(index / EVENT_DAYS).is_multiple_of(SLOTS.len() as u64);
        json!({
            "sessionid": Generator::session_id(index),
            "sessionkey": self.session_key(index),
            "name": format!("{topic} #{}", index + 1),
            "description": format!("A session on {}.", topic.to_lowercase()),
            "sessiondate": day.format("%Y-%m-%d").to_string(),
            "starttime": if unscheduled { "" } else { start },
            "endtime": if unscheduled { "" } else { end },
            "location": pick(&ROOMS, self.roll(key, field::ROOM)),
            "capacity": (40 + self.roll(key, field::CAPACITY) % 200).to_string(),
            "in_slot": if breakout { "1" } else { "0" },
            "hidden": "0",
            "lastmodified": format(self.modified(key, field::MODIFIED)),
        })
    }

    /// Speaker *k*: every speaker has a photo at the speaker photo endpoint.
    pub fn speaker(&self, index: u64) -> Value {
        let key = index | field::SPEAKER_KIND;
        let first = pick(&FIRST_NAMES, self.roll(key, field::FIRST));
        let last = pick(&LAST_NAMES, self.roll(key, field::LAST));
        let session = index * 2 % self.sessions.max(1);
        json!({
            "speakerid": Generator::speaker_id(index),
            "fname": first,
            "lname": last,
            "email": format!("{}.{}.speaker{index}@example.org", ascii_lower(first), ascii_lower(last)),
            "company": pick(&COMPANIES, self.roll(key, field::COMPANY)),
            "title": pick(&TITLES, self.roll(key, field::TITLE)),
            "biography": format!("{first} {last} works on {}.", pick(&TOPICS, self.roll(key, field::TOPIC)).to_lowercase()),
            "sessions": [{"sessionid": Generator::session_id(session), "sessionkey": self.session_key(session)}],
            "lastmodified": format(self.modified(key, field::MODIFIED)),
        })
    }

    /// `listCategories`: the event's registration categories with their subcategories.
    pub fn categories(&self) -> Value {
        CATEGORIES
            .iter()
            .map(|(id, name, _)| {
                let subcategories: Vec<Value> = if *name == "Sponsor" {
                    SPONSOR_LEVELS
                        .iter()
                        .map(
                            |(sub_id, sub_name)| json!({"subcategoryid": sub_id, "name": sub_name}),
                        )
                        .collect()
                } else {
                    Vec::new()
                };
                json!({"categoryid": id, "name": name, "subcategories": subcategories})
            })
            .collect()
    }
}

fn ascii_lower(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_stable_and_carry_their_index() {
        let generator = Generator::new(7, 1_000);
        assert_eq!(
            generator.attendee(5, "http://x"),
            generator.attendee(5, "http://x")
        );
        assert_ne!(
            generator.attendee(5, "http://x"),
            generator.attendee(6, "http://x")
        );
        let id = Generator::attendee_id(123);
        assert_eq!(Generator::attendee_index(&id), Some(123));
        assert_eq!(Generator::attendee_index("12"), None);
        assert_eq!(Generator::attendee_index("abc"), None);
        assert_eq!(Generator::session_index(&Generator::session_id(4)), Some(4));
        assert_eq!(Generator::speaker_index(&Generator::speaker_id(9)), Some(9));
    }

    #[test]
    fn the_mix_has_what_the_tests_need() {
        let generator = Generator::new(3, 2_000);
        let people: Vec<Value> = (0..2_000).map(|i| generator.attendee(i, "")).collect();
        let count = |f: &dyn Fn(&Value) -> bool| people.iter().filter(|p| f(p)).count();
        assert!(count(&|p| p["category"]["name"] == "Sponsor") > 10);
        assert!(count(&|p| p["registrationstatus"] == "Cancelled") > 10);
        assert!(count(&|p| p["registrationstatus"] == "Attended") > 10);
        assert!(count(&|p| p["checkindate"] == NULL_DATETIME) > 1_000);
        assert!(
            people
                .iter()
                .all(|p| p["lastmodified"].as_str() < Some(GENERATED_UNTIL))
        );
        let sessions: Vec<Value> = (0..generator.session_count())
            .map(|j| generator.session(j))
            .collect();
        assert!(sessions.iter().any(|s| s["starttime"] == ""));
        assert!(sessions.iter().any(|s| s["in_slot"] == "1"));
    }
}

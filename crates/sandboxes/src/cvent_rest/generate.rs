//! Seeded, deterministic Cvent account data, computed lazily: any attendee from (seed, index) alone.
//!
//! Nothing proportional to the attendee count is stored. A [`Generator`] holds the seed, the
//! counts and small tables (ids of questions, registration types, sessions, ...); an attendee, its
//! session enrollments and its travel requests are pure functions of (seed, index), so a sandbox of
//! a million attendees costs a few kilobytes and serves any page in O(page size).
//!
//! Three properties are built in rather than checked after the fact:
//!
//! * **Invertible ids.** Attendee, contact, session, speaker and enrollment ids are version-4 UUIDs
//!   whose low half is the record's index under a keyed permutation ([`crate::seeded::indexed_uuid`])
//!   and whose high half is a 60-bit check drawn from that index, so
//!   [`Generator::attendee_position`] maps an id back to its index in O(1) and rejects ids it did
//!   not make.
//! * **Capacity.** Attendee `i` enrolls in slots `j < k(i) ≤ 4` of the optional, not-cancelled
//!   sessions at positions `(i + j·step) mod E`. The attendees that can land on a position are
//!   therefore four residue classes mod `E`, whose sizes are known in closed form; a session's
//!   capacity is at least that bound, so no session is ever over-registered. A few sessions are
//!   made exactly full instead: their registrants are counted by walking just those residue
//!   classes (O(N/E) each), and the extra enrollees rolled for them are `Waitlisted`.
//! * **Time.** Every audit timestamp lies between the event's creation and
//!   [`Generator::latest_generated_timestamp`], and each record's later fields are drawn between
//!   its earlier ones and that bound, so the order holds without checks.
//!
//! Guests: attendee `i` is a guest of `i - 1` when `i` rolls "guest" and `i - 1` does not, and
//! `i - 1` registered; so a primary always has a lower index, is never a guest, and the link is
//! found without looking further back.

use crate::cvent_rest::wire::{
    Address, AirRequest, AirRequestDetail, AirlinePreference, Answer, Attendee, Choice, Contact,
    ContactLinks, ContactType, CustomField, CustomFieldDetails, CustomFieldValue, Enrollment,
    Event, EventLinks, EventQuestion, Exhibitor, ExhibitorAddress, ExhibitorLinks,
    ExternalReference, HotelRequest, HotelRequestDetail, HotelRoomRate, IdName, IdRef, Leg, Link,
    LocationRef, Lookup, OptOut, Passport, Planner, QuestionRef, RegistrationType, Session,
    SessionCategory, SessionLocation, SessionSpeaker, Speaker, SpeakerCategory, SpeakerSession,
    SponsorshipLevel, Stakeholder, Text, Venue, attendee_status, enrollment_status, session_status,
    travel_status,
};
use crate::seeded::{draw, indexed_uuid, mix, unscramble62};

// ---------------------------------------------------------------------------------------------
// Time: milliseconds since the Unix epoch, formatted by hand because formatting runs several
// times per attendee on the serving path.
// ---------------------------------------------------------------------------------------------

const SECOND: i64 = 1_000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
const fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = if year >= 0 { year } else { year - 399 } / 400;
    let year_of_era = year - era * 400;
    let month_index = (month as i64 + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day as i64 - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
const fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month, day)
}

fn push_padded(out: &mut String, value: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut remaining = value;
    let mut used = 0;
    while remaining > 0 || used == 0 {
        digits[19 - used] = b'0' + (remaining % 10) as u8;
        remaining /= 10;
        used += 1;
    }
    let shown = used.max(width.min(20));
    // Only ASCII digits were written, so this never falls back.
    out.push_str(std::str::from_utf8(&digits[20 - shown..]).unwrap_or_default());
}

/// `"00"` to `"99"`, so a timestamp is written two digits per step.
const DIGIT_PAIRS: [u8; 200] = {
    let mut pairs = [0u8; 200];
    let mut value = 0;
    while value < 100 {
        pairs[2 * value] = b'0' + (value / 10) as u8;
        pairs[2 * value + 1] = b'0' + (value % 10) as u8;
        value += 1;
    }
    pairs
};

/// Writes the last two decimal digits of `value` into `out[at..at + 2]`.
fn write_pair(out: &mut [u8], at: usize, value: u64) {
    let pair = (value % 100) as usize * 2;
    out[at..at + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
}

/// `YYYY-MM-DDTHH:MM:SS.sssZ` into a fixed buffer: one allocation per timestamp.
fn timestamp_bytes(ms: i64) -> [u8; 24] {
    let mut out = *b"0000-00-00T00:00:00.000Z";
    let (year, month, day) = civil_from_days(ms.div_euclid(DAY));
    let year = year.clamp(0, 9_999) as u64;
    let in_day = ms.rem_euclid(DAY) as u64;
    let millis = in_day % SECOND as u64;
    write_pair(&mut out, 0, year / 100);
    write_pair(&mut out, 2, year);
    write_pair(&mut out, 5, u64::from(month));
    write_pair(&mut out, 8, u64::from(day));
    write_pair(&mut out, 11, in_day / HOUR as u64);
    write_pair(&mut out, 14, in_day / MINUTE as u64 % 60);
    write_pair(&mut out, 17, in_day / SECOND as u64 % 60);
    out[20] = b'0' + (millis / 100) as u8;
    write_pair(&mut out, 21, millis);
    out
}

fn push_date(out: &mut String, ms: i64) {
    let bytes = timestamp_bytes(ms);
    out.push_str(std::str::from_utf8(&bytes[..10]).unwrap_or_default());
}

/// Cvent's audit timestamp spelling, `YYYY-MM-DDTHH:MM:SS.sssZ` (UTC, milliseconds).
pub fn format_timestamp(ms: i64) -> String {
    let bytes = timestamp_bytes(ms);
    // Only ASCII was written, so this never falls back.
    std::str::from_utf8(&bytes).unwrap_or_default().to_owned()
}

/// `YYYY-MM-DD`.
fn format_date(ms: i64) -> String {
    let mut out = String::with_capacity(10);
    push_date(&mut out, ms);
    out
}

/// A travel date: midnight UTC, zoned (`2023-05-19T00:00:00Z`). The spec declares these fields
/// `date-time`, "the ISO 8601 zoned date time (in UTC)"; its examples leave the zone out, but a
/// client validating the declared format (Cvent's TypeScript SDK does) refuses a bare local time.
fn format_travel_date(ms: i64) -> String {
    let mut out = String::with_capacity(20);
    push_date(&mut out, ms);
    out.push_str("T00:00:00Z");
    out
}

/// A point `fraction` of the way from `from` to `to` (never past `to`).
fn between(from: i64, to: i64, fraction: f64) -> i64 {
    if to <= from {
        return from;
    }
    from + ((to - from) as f64 * fraction.clamp(0.0, 1.0)) as i64
}

// ---------------------------------------------------------------------------------------------
// Random streams and ids
// ---------------------------------------------------------------------------------------------

/// A SplitMix64 stream for one record's fields. Values that other records need (an attendee's
/// status, its family name) come from their own `draw`s instead, so they can be recomputed alone.
struct Rolls(u64);

impl Rolls {
    fn new(seed: u64) -> Self {
        Rolls(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `0..bound` (modulo bias is far below anything a test could see).
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }

    fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.index(items.len())]
    }

    /// A value from `(value, weight)` pairs.
    fn weighted<T: Copy>(&mut self, table: &[(T, u32)]) -> T {
        let total: u64 = table.iter().map(|(_, weight)| u64::from(*weight)).sum();
        let mut roll = self.below(total);
        for &(value, weight) in table {
            if roll < u64::from(weight) {
                return value;
            }
            roll -= u64::from(weight);
        }
        table[table.len() - 1].0
    }
}

/// Id namespaces: each kind of record permutes its indexes under its own key.
mod ns {
    pub const ATTENDEE: u64 = 1;
    pub const CONTACT: u64 = 2;
    pub const ENROLLMENT: u64 = 3;
    pub const SESSION: u64 = 4;
    pub const SPEAKER: u64 = 5;
    pub const AIR: u64 = 6;
    pub const HOTEL: u64 = 7;
    pub const EVENT: u64 = 8;
    pub const QUESTION: u64 = 9;
    pub const CUSTOM_FIELD: u64 = 10;
    pub const REGISTRATION_TYPE: u64 = 11;
    pub const REGISTRATION_PATH: u64 = 12;
    pub const ADMISSION_ITEM: u64 = 13;
    pub const CONTACT_TYPE: u64 = 14;
    pub const LOCATION: u64 = 15;
    pub const SPONSORSHIP_LEVEL: u64 = 16;
    pub const EXHIBITOR: u64 = 17;
    pub const SESSION_CATEGORY: u64 = 18;
    pub const SPEAKER_CATEGORY: u64 = 19;
    pub const MISC: u64 = 20;
    pub const SPEAKER_CONTACT: u64 = 21;
    pub const CHOICE: u64 = 22;
    pub const CONFIRMATION: u64 = 23;
}

/// `draw` field numbers for values other records recompute.
mod field {
    pub const SETUP: u64 = 0x5E70;
    pub const CORE: u64 = 0xC0DE;
    pub const GUEST: u64 = 0x6E57;
    pub const FAMILY: u64 = 0xFA31;
    pub const CITY: u64 = 0xC17E;
    pub const IDENTITY: u64 = 0x1D3A;
    pub const PROFILE: u64 = 0x960F;
    pub const WAITLIST: u64 = 0x3A17;
    pub const DROP: u64 = 0xD809;
    pub const ENROLLMENT_TIME: u64 = 0xE771;
    pub const AIR: u64 = 0xA14A;
    pub const HOTEL: u64 = 0x4073;
    pub const SESSION: u64 = 0x5E55;
    pub const SPEAKER: u64 = 0x59EA;
    pub const FULL: u64 = 0xF011;
    pub const CHECK: u64 = 0xC4EC;
    pub const EVENT: u64 = 0xE7E7;
    pub const MISC: u64 = 0x3155;
    pub const FURTHER_EVENT: u64 = 0xF0E7;
}

/// Odd multipliers for the confirmation-number permutation.
const MULTIPLIER_A: u64 = 0xD1B5_4A32_D192_ED03;
const MULTIPLIER_B: u64 = 0xAEF1_7502_108E_F2D9;

fn namespace_keys(seed: u64, namespace: u64) -> (u64, u64) {
    (
        mix(seed ^ namespace.wrapping_mul(0x9FB2_1C65_1E98_DF25)),
        mix(seed.rotate_left(23) ^ namespace.wrapping_mul(0xC2B2_AE3D_27D4_EB4F)),
    )
}

fn uuid_string(id: uuid::Uuid) -> String {
    let mut buffer = [0u8; uuid::fmt::Hyphenated::LENGTH];
    id.hyphenated().encode_lower(&mut buffer).to_owned()
}

/// Cvent's code alphabet: digits and consonants, so no code spells a word (`WRN3DBTCMX9`).
const CODE_ALPHABET: &[u8; 29] = b"23456789BCDFGHJKLMNPQRSTVWXYZ";

fn code_from(mut value: u64, length: usize) -> String {
    let mut out = String::with_capacity(length);
    for _ in 0..length {
        out.push(char::from(CODE_ALPHABET[(value % 29) as usize]));
        value /= 29;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Static tables
// ---------------------------------------------------------------------------------------------

const FEMALE: &str = "Female";
const MALE: &str = "Male";
/// Names given to people of any gender; their gender is drawn from every spelling.
const ANY: &str = "";

#[rustfmt::skip]
const FIRST_NAMES: &[(&str, &str)] = &[
    ("Olivia", FEMALE), ("Emma", FEMALE), ("Ava", FEMALE), ("Sophia", FEMALE),
    ("Isabella", FEMALE), ("Mia", FEMALE), ("Amelia", FEMALE), ("Harper", FEMALE),
    ("Evelyn", FEMALE), ("Abigail", FEMALE), ("Emily", FEMALE), ("Charlotte", FEMALE),
    ("Madison", FEMALE), ("Elizabeth", FEMALE), ("Sofia", FEMALE), ("Ella", FEMALE),
    ("Scarlett", FEMALE), ("Grace", FEMALE), ("Chloe", FEMALE), ("Victoria", FEMALE),
    ("Aria", FEMALE), ("Lily", FEMALE), ("Zoe", FEMALE), ("Hannah", FEMALE), ("Nora", FEMALE),
    ("Priya", FEMALE), ("Aisha", FEMALE), ("Mei", FEMALE), ("Yuki", FEMALE), ("Fatima", FEMALE),
    ("Ana", FEMALE), ("Lucía", FEMALE), ("Ingrid", FEMALE), ("Freya", FEMALE), ("Amara", FEMALE),
    ("Chiara", FEMALE), ("Leila", FEMALE), ("Naomi", FEMALE), ("Rosa", FEMALE), ("Keiko", FEMALE),
    ("Ximena", FEMALE), ("Anika", FEMALE), ("Siobhan", FEMALE), ("Margaret", FEMALE),
    ("Linda", FEMALE), ("Susan", FEMALE), ("Karen", FEMALE), ("Zoë", FEMALE), ("Mary-Kate", FEMALE),
    ("Liam", MALE), ("Noah", MALE), ("William", MALE), ("James", MALE), ("Oliver", MALE),
    ("Benjamin", MALE), ("Elijah", MALE), ("Lucas", MALE), ("Mason", MALE), ("Logan", MALE),
    ("Alexander", MALE), ("Ethan", MALE), ("Jacob", MALE), ("Michael", MALE), ("Daniel", MALE),
    ("Henry", MALE), ("Jackson", MALE), ("Sebastian", MALE), ("Aiden", MALE), ("Matthew", MALE),
    ("Samuel", MALE), ("David", MALE), ("Joseph", MALE), ("Carter", MALE), ("Owen", MALE),
    ("Wyatt", MALE), ("John", MALE), ("Luke", MALE), ("Gabriel", MALE), ("Anthony", MALE),
    ("Raj", MALE), ("Arjun", MALE), ("Wei", MALE), ("Hiroshi", MALE), ("Omar", MALE),
    ("Mateo", MALE), ("Diego", MALE), ("Lars", MALE), ("Kwame", MALE), ("Tariq", MALE),
    ("Jonas", MALE), ("Marco", MALE), ("Pierre", MALE), ("Dmitri", MALE), ("Seán", MALE),
    ("Robert", MALE), ("Thomas", MALE), ("Charles", MALE), ("Kenji", MALE), ("André", MALE),
    ("Alex", ANY), ("Jordan", ANY), ("Taylor", ANY), ("Morgan", ANY), ("Casey", ANY),
    ("Jamie", ANY), ("Robin", ANY), ("Sam", ANY), ("Quinn", ANY), ("Riley", ANY),
];

/// Includes apostrophes, hyphens, spaces and accents on purpose: filters, sorting and CSV
/// mapping all meet them in real registrant lists.
#[rustfmt::skip]
const LAST_NAMES: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Patel", "Shah", "Kim", "Chen",
    "Wang", "Singh", "Kumar", "Tanaka", "Suzuki", "Sato", "Müller", "Schmidt", "Fischer",
    "Rossi", "Russo", "Dubois", "Lefèvre", "Silva", "Santos", "Oliveira", "Kowalski", "Nowak",
    "Jensen", "Hansen", "Larsen", "Andersson", "Johansson", "Okafor", "Mensah", "Adeyemi",
    "O'Brien", "O'Keenan", "McDonald", "MacLeod", "Fitzgerald", "Murphy", "Kelly", "Sullivan",
    "Walsh", "Byrne", "Smith-Jones", "García-López", "Van der Berg", "De Luca", "St. Clair",
    "Ivanov", "Petrov", "Cohen", "Levi", "Haddad", "Khan", "Ali", "Hussain", "Ahmed", "Potterfield",
];

/// Fictional organisations; `.example` domains (RFC 2606) so no generated address can reach
/// anyone, even if a sync engine under test sends mail.
const COMPANIES: &[(&str, &str)] = &[
    ("Northwind Traders", "northwindtraders.example"),
    ("Contoso Ltd.", "contoso.example"),
    ("Fabrikam, Inc.", "fabrikam.example"),
    ("Adventure Works Cycles", "adventure-works.example"),
    ("Tailspin Toys", "tailspintoys.example"),
    ("Wide World Importers", "wideworldimporters.example"),
    ("Litware, Inc.", "litwareinc.example"),
    ("Proseware, Inc.", "proseware.example"),
    ("Woodgrove Bank", "woodgrovebank.example"),
    ("Alpine Ski House", "alpineskihouse.example"),
    ("Coho Winery", "cohowinery.example"),
    ("Fourth Coffee", "fourthcoffee.example"),
    ("Humongous Insurance", "humongousinsurance.example"),
    ("Lamna Healthcare Company", "lamnahealthcare.example"),
    ("Margie's Travel", "margiestravel.example"),
    ("Trey Research", "treyresearch.example"),
    ("Wingtip Toys", "wingtiptoys.example"),
    ("Blue Yonder Airlines", "blueyonderairlines.example"),
    ("City Power & Light", "cpandl.example"),
    ("Consolidated Messenger", "consolidatedmessenger.example"),
    ("Graphic Design Institute", "graphicdesigninstitute.example"),
    ("VanArsdel, Ltd.", "vanarsdel.example"),
    ("Relecloud", "relecloud.example"),
    ("Bellows College", "bellowscollege.example"),
    ("Best For You Organics", "bestforyouorganics.example"),
    ("A. Datum Corporation", "adatum.example"),
    ("Southridge Video", "southridgevideo.example"),
    ("Lucerne Publishing", "lucernepublishing.example"),
    ("Bluefin Analytics", "bluefinanalytics.example"),
    ("Cedar Ridge Medical Group", "cedarridgemedical.example"),
    ("Harborview Logistics", "harborviewlogistics.example"),
    ("Ironclad Security", "ironcladsecurity.example"),
    ("Juniper Lane Consulting", "juniperlane.example"),
    ("Keystone Mutual", "keystonemutual.example"),
    ("Lakeshore University", "lakeshore.example"),
    ("Meridian Capital Partners", "meridiancapital.example"),
    ("Northstar Pharmaceuticals", "northstarpharma.example"),
    ("Oakmont Engineering", "oakmonteng.example"),
    ("Pinnacle Software", "pinnaclesoftware.example"),
    ("Quantum Leap Robotics", "quantumleaprobotics.example"),
    ("Redwood Energy", "redwoodenergy.example"),
    ("Silverline Telecom", "silverlinetelecom.example"),
    ("Summit Health Partners", "summithealth.example"),
    ("Tidewater Foods", "tidewaterfoods.example"),
    ("Union Square Media", "unionsquaremedia.example"),
    ("Vertex Biosciences", "vertexbio.example"),
    ("Westbrook Hospitality", "westbrookhospitality.example"),
    ("Yellowstone Outfitters", "yellowstoneoutfitters.example"),
    ("Zenith Aerospace", "zenithaerospace.example"),
    ("Brightwater Nonprofit Alliance", "brightwater.example"),
    ("Copperfield Legal LLP", "copperfieldlegal.example"),
    ("Driftwood Design Studio", "driftwooddesign.example"),
    ("Evergreen Credit Union", "evergreencu.example"),
    ("Foxglove Marketing", "foxglovemarketing.example"),
    ("Granite State Manufacturing", "granitestatemfg.example"),
];

/// Where guests' personal addresses live.
const PERSONAL_DOMAINS: &[&str] = &["mail.example", "inbox.example", "post.example"];

#[rustfmt::skip]
const TITLES: &[&str] = &[
    "Event Planner", "Marketing Manager", "Director of Marketing", "VP of Sales",
    "Chief Executive Officer", "Chief Technology Officer", "Software Engineer",
    "Senior Software Engineer", "Product Manager", "Data Scientist", "Account Executive",
    "Customer Success Manager", "Operations Manager", "HR Business Partner", "Financial Analyst",
    "Controller", "IT Director", "Solutions Architect", "Registered Nurse", "Physician",
    "Research Scientist", "Professor", "Graduate Student", "Office Manager",
    "Procurement Specialist", "Communications Director", "Program Manager", "Business Analyst",
    "UX Designer", "Sales Engineer", "Membership Coordinator", "Executive Director",
    "General Counsel", "Head of Partnerships", "Chief Financial Officer", "Regional Sales Manager",
    "Clinical Research Coordinator", "Pharmacist", "Security Analyst", "Founder",
];

/// Middle names are usually given as an initial.
#[rustfmt::skip]
const INITIALS: &[&str] = &[
    "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P", "Q", "R", "S",
    "T", "U", "V", "W", "X", "Y", "Z",
];
const DESIGNATIONS: &[&str] = &["PhD", "MBA", "CPA", "MD", "RN", "CMP", "PMP", "JD"];
const PRONOUNS: &[&str] = &["she/her", "he/him", "they/them"];
const NOTES: &[&str] = &[
    "Requested wheelchair-accessible seating.",
    "Arriving late on day one.",
    "Board member - seat at the front.",
    "Needs an invoice for the company's accounts payable.",
    "Prefers contact by email only.",
];

/// A home or office city: name, region, region code, postal code stem, random postal digits,
/// country, country code, phone prefix, nearest airport.
struct City {
    name: &'static str,
    region: &'static str,
    region_code: &'static str,
    postal_stem: &'static str,
    postal_digits: u32,
    country: &'static str,
    country_code: &'static str,
    phone_prefix: &'static str,
    airport: &'static str,
}

// A table-row constructor: positional arguments keep each city on one line of `CITIES`.
#[allow(clippy::too_many_arguments)]
const fn city(
    name: &'static str,
    region: &'static str,
    region_code: &'static str,
    postal_stem: &'static str,
    postal_digits: u32,
    country: &'static str,
    country_code: &'static str,
    phone_prefix: &'static str,
    airport: &'static str,
) -> City {
    City {
        name,
        region,
        region_code,
        postal_stem,
        postal_digits,
        country,
        country_code,
        phone_prefix,
        airport,
    }
}

const US: &str = "United States";
#[rustfmt::skip]
const CITIES: &[City] = &[
    city("New York", "New York", "NY", "100", 2, US, "US", "+1 212-555-", "JFK"),
    city("Chicago", "Illinois", "IL", "606", 2, US, "US", "+1 312-555-", "ORD"),
    city("San Francisco", "California", "CA", "941", 2, US, "US", "+1 415-555-", "SFO"),
    city("Austin", "Texas", "TX", "787", 2, US, "US", "+1 512-555-", "AUS"),
    city("Seattle", "Washington", "WA", "981", 2, US, "US", "+1 206-555-", "SEA"),
    city("Boston", "Massachusetts", "MA", "021", 2, US, "US", "+1 617-555-", "BOS"),
    city("Denver", "Colorado", "CO", "802", 2, US, "US", "+1 303-555-", "DEN"),
    city("Atlanta", "Georgia", "GA", "303", 2, US, "US", "+1 404-555-", "ATL"),
    city("Miami", "Florida", "FL", "331", 2, US, "US", "+1 305-555-", "MIA"),
    city("Los Angeles", "California", "CA", "900", 2, US, "US", "+1 213-555-", "LAX"),
    city("Washington", "District of Columbia", "DC", "200", 2, US, "US", "+1 202-555-", "DCA"),
    city("Philadelphia", "Pennsylvania", "PA", "191", 2, US, "US", "+1 215-555-", "PHL"),
    city("Minneapolis", "Minnesota", "MN", "554", 2, US, "US", "+1 612-555-", "MSP"),
    city("Phoenix", "Arizona", "AZ", "850", 2, US, "US", "+1 602-555-", "PHX"),
    city("Nashville", "Tennessee", "TN", "372", 2, US, "US", "+1 615-555-", "BNA"),
    city("Portland", "Oregon", "OR", "972", 2, US, "US", "+1 503-555-", "PDX"),
    city("Raleigh", "North Carolina", "NC", "276", 2, US, "US", "+1 919-555-", "RDU"),
    city("Dallas", "Texas", "TX", "752", 2, US, "US", "+1 214-555-", "DFW"),
    city("Salt Lake City", "Utah", "UT", "841", 2, US, "US", "+1 801-555-", "SLC"),
    city("Columbus", "Ohio", "OH", "432", 2, US, "US", "+1 614-555-", "CMH"),
    city("London", "England", "ENG", "EC2A 4NE", 0, "United Kingdom", "GB", "+44 20 7946 ", "LHR"),
    city("Toronto", "Ontario", "ON", "M5V 2T6", 0, "Canada", "CA", "+1 416-555-", "YYZ"),
    city("Berlin", "Berlin", "BE", "101", 2, "Germany", "DE", "+49 30 5557", "BER"),
    city("Sydney", "New South Wales", "NSW", "20", 2, "Australia", "AU", "+61 2 5550 ", "SYD"),
    city("Mexico City", "Ciudad de México", "CMX", "066", 2, "Mexico", "MX", "+52 55 5555 ", "MEX"),
    city("Paris", "Île-de-France", "IDF", "750", 2, "France", "FR", "+33 1 5555 ", "CDG"),
];

#[rustfmt::skip]
const STREETS: &[&str] = &[
    "Main Street", "Oak Avenue", "Market Street", "Broadway", "Park Avenue", "Elm Street",
    "Pine Street", "Maple Drive", "Cedar Lane", "Washington Boulevard", "Lake Shore Drive",
    "Mission Street", "Congress Avenue", "Peachtree Street", "Commonwealth Avenue", "Harbor Way",
    "Riverside Drive", "Sunset Boulevard", "Industrial Parkway", "Technology Drive",
    "Innovation Way", "University Avenue", "Church Street", "High Street", "King Street",
];

/// A venue: where the event is held, with its city (index into [`CITIES`]), timezone, the UTC
/// hour its first session starts (9:00 local in the event's season), locale, currency and hotels.
struct VenueRow {
    name: &'static str,
    address1: &'static str,
    postal_code: &'static str,
    city: usize,
    timezone: &'static str,
    first_hour_utc: i64,
    locale: &'static str,
    currency: &'static str,
    phone: &'static str,
    hotels: [(&'static str, &'static str, &'static str); 3],
}

const VENUES: &[VenueRow] = &[
    VenueRow {
        name: "Jacob K. Javits Convention Center",
        address1: "429 11th Avenue",
        postal_code: "10001",
        city: 0,
        timezone: "America/New_York",
        first_hour_utc: 13,
        locale: "en-US",
        currency: "USD",
        phone: "212-555-0100",
        hotels: [
            ("The Midtown Grand Hotel", "MIDGRD", "301 W 42nd Street"),
            ("Hudson Yards Suites", "HYSUIT", "55 Hudson Yards"),
            ("Times Square Garden Inn", "TSQGIN", "1568 Broadway"),
        ],
    },
    VenueRow {
        name: "McCormick Place",
        address1: "2301 S Lake Shore Drive",
        postal_code: "60616",
        city: 1,
        timezone: "America/Chicago",
        first_hour_utc: 14,
        locale: "en-US",
        currency: "USD",
        phone: "312-555-0100",
        hotels: [
            (
                "Lakeshore Grand Chicago",
                "LKGRND",
                "2233 S Martin Luther King Dr",
            ),
            ("Magnificent Mile Suites", "MAGMIL", "540 N Michigan Avenue"),
            ("South Loop Inn & Suites", "SLOOPI", "1 E 8th Street"),
        ],
    },
    VenueRow {
        name: "Moscone Center",
        address1: "747 Howard Street",
        postal_code: "94103",
        city: 2,
        timezone: "America/Los_Angeles",
        first_hour_utc: 16,
        locale: "en-US",
        currency: "USD",
        phone: "415-555-0100",
        hotels: [
            ("Union Square Plaza Hotel", "UNSQPL", "480 Sutter Street"),
            ("SoMa Suites", "SOMAST", "888 Howard Street"),
            ("Embarcadero Bay Inn", "EMBBAY", "5 Embarcadero Center"),
        ],
    },
    VenueRow {
        name: "Austin Convention Center",
        address1: "500 E Cesar Chavez Street",
        postal_code: "78701",
        city: 3,
        timezone: "America/Chicago",
        first_hour_utc: 14,
        locale: "en-US",
        currency: "USD",
        phone: "512-555-0100",
        hotels: [
            ("Congress Avenue Grand", "CONGRD", "111 Congress Avenue"),
            ("Rainey Street Lofts", "RAINEY", "90 Rainey Street"),
            ("Lady Bird Lake Inn", "LBLINN", "20 N I-35 Frontage Road"),
        ],
    },
    VenueRow {
        name: "Boston Convention and Exhibition Center",
        address1: "415 Summer Street",
        postal_code: "02210",
        city: 5,
        timezone: "America/New_York",
        first_hour_utc: 13,
        locale: "en-US",
        currency: "USD",
        phone: "617-555-0100",
        hotels: [
            ("Seaport Harbor Hotel", "SEAHBR", "1 Seaport Lane"),
            ("Back Bay Commons", "BBCOMM", "39 Dalton Street"),
            ("Fort Point Suites", "FTPTST", "425 Summer Street"),
        ],
    },
    VenueRow {
        name: "ExCeL London",
        address1: "1 Western Gateway",
        postal_code: "E16 1XL",
        city: 20,
        timezone: "Europe/London",
        first_hour_utc: 9,
        locale: "en-GB",
        currency: "GBP",
        phone: "20 7946 0100",
        hotels: [
            ("Royal Victoria Dock Hotel", "RVDOCK", "2 Festoon Way"),
            ("Canary Wharf Suites", "CWSUIT", "22 Hertsmere Road"),
            ("Thames Barrier Inn", "THBINN", "15 Boxley Street"),
        ],
    },
    VenueRow {
        name: "Metro Toronto Convention Centre",
        address1: "255 Front Street West",
        postal_code: "M5V 2W6",
        city: 21,
        timezone: "America/Toronto",
        first_hour_utc: 13,
        locale: "en-CA",
        currency: "CAD",
        phone: "416-555-0100",
        hotels: [
            ("Harbourfront Grand", "HFGRND", "249 Queens Quay West"),
            (
                "Entertainment District Suites",
                "EDSUIT",
                "311 King Street West",
            ),
            ("Union Station Inn", "USTINN", "100 Front Street West"),
        ],
    },
];

const HOTEL_ROOMS: &[(&str, &str, f64)] = &[
    ("King Room", "KNG", 229.0),
    ("Double Queen Room", "DQQ", 249.0),
    ("Junior Suite", "JRS", 389.0),
];

/// Event title, organiser, organiser's domain.
const EVENT_TITLES: &[(&str, &str, &str)] = &[
    (
        "Northwind Customer Summit",
        "Northwind Traders",
        "northwindtraders.example",
    ),
    (
        "Contoso Partner Conference",
        "Contoso Ltd.",
        "contoso.example",
    ),
    (
        "Fabrikam Developer Days",
        "Fabrikam, Inc.",
        "fabrikam.example",
    ),
    (
        "Global Health Innovation Forum",
        "Lamna Healthcare Company",
        "lamnahealthcare.example",
    ),
    (
        "Annual Members Meeting & Expo",
        "Brightwater Nonprofit Alliance",
        "brightwater.example",
    ),
    (
        "Future of Work Conference",
        "Juniper Lane Consulting",
        "juniperlane.example",
    ),
    (
        "Data + AI World Tour",
        "Bluefin Analytics",
        "bluefinanalytics.example",
    ),
    (
        "Association Leadership Summit",
        "Keystone Mutual",
        "keystonemutual.example",
    ),
    (
        "National Nursing Education Conference",
        "Summit Health Partners",
        "summithealth.example",
    ),
    (
        "FinTech Connect",
        "Meridian Capital Partners",
        "meridiancapital.example",
    ),
];

/// Planners: first name, last name, Cvent user name (what `createdBy`/`lastModifiedBy` show).
const PLANNERS: &[(&str, &str, &str)] = &[
    ("Maria", "Reyes", "mreyes"),
    ("Takeshi", "Nakamura", "tnakamura"),
    ("Hannah", "Porter", "hporter"),
    ("Devon", "Brooks", "dbrooks"),
];

/// The audit user of records changed through the API.
pub const API_USER: &str = "api.integration";

/// Registration types: code, name, description, admission item, path.
struct RegistrationTypeRow {
    code: &'static str,
    name: &'static str,
    description: &'static str,
    admission_item: usize,
    path: usize,
}

/// How primaries spread over [`REGISTRATION_TYPES`] (guests are all `GST`).
const REGISTRATION_TYPE_MIX: &[(usize, u32)] = &[(0, 70), (1, 8), (2, 5), (3, 9), (4, 8)];

const GUEST_TYPE: usize = 5;
#[rustfmt::skip]
const REGISTRATION_TYPES: &[RegistrationTypeRow] = &[
    RegistrationTypeRow { code: "GEN", name: "General Attendee", description: "Full conference access.", admission_item: 0, path: 0 },
    RegistrationTypeRow { code: "VIP", name: "VIP", description: "Full access plus the VIP reception.", admission_item: 0, path: 1 },
    RegistrationTypeRow { code: "SPK", name: "Speaker", description: "Presenters and panelists.", admission_item: 0, path: 1 },
    RegistrationTypeRow { code: "EXH", name: "Exhibitor", description: "Exhibit hall staff.", admission_item: 1, path: 2 },
    RegistrationTypeRow { code: "STU", name: "Student", description: "Full-time students with ID.", admission_item: 0, path: 0 },
    RegistrationTypeRow { code: "GST", name: "Guest", description: "Guests of registered attendees.", admission_item: 2, path: 0 },
];

const REGISTRATION_PATHS: &[(&str, &str)] = &[
    ("STD", "Standard Registration"),
    ("VIP", "VIP Registration"),
    ("EXH", "Exhibitor Registration"),
];

const ADMISSION_ITEMS: &[(&str, &str)] = &[
    ("FULL", "Full Conference Pass"),
    ("EXPO", "Exhibit Hall Pass"),
    ("GUEST", "Guest Pass"),
];

const CONTACT_TYPES: &[&str] = &["Attendee", "VIP Member", "Partner", "Press", "Employee"];

/// Attendee status mix for primaries, per thousand.
const STATUS_MIX: &[(&str, u32)] = &[
    (attendee_status::ACCEPTED, 700),
    (attendee_status::NO_RESPONSE, 80),
    (attendee_status::DECLINED, 50),
    (attendee_status::CANCELLED, 60),
    (attendee_status::WAITLISTED, 30),
    (attendee_status::PENDING_APPROVAL, 30),
    (attendee_status::VISITED, 40),
    (attendee_status::DENIED_APPROVAL, 10),
];

const INVITED_BY_MIX: &[(&str, u32)] = &[
    ("Weblink", 45),
    ("Planner-Invited", 30),
    ("Import", 10),
    ("API Invited", 8),
    ("No Invitation", 5),
    ("Historical Import", 2),
];

/// How invitees who never registered were invited.
const INVITED_ONLY_MIX: &[(&str, u32)] = &[
    ("Planner-Invited", 60),
    ("Import", 20),
    ("API Invited", 15),
    ("Historical Import", 5),
];

const RESPONSE_METHOD_MIX: &[(&str, u32)] = &[
    ("Self-Responded", 55),
    ("Self-Responded Mobile", 15),
    ("Planner-Responded", 12),
    ("API-Responded", 8),
    ("Self-Responded Widget", 5),
    ("Group Leader Responded", 5),
];

/// What an event question asks and how attendees answer it.
#[derive(Clone, Copy)]
enum AnswerKind {
    One(&'static [&'static str]),
    Many(&'static [&'static str]),
    ArrivalDate,
    Number(u64),
    Text(&'static [&'static str]),
}

struct QuestionRow {
    text: &'static str,
    code: &'static str,
    question_type: &'static str,
    kind: AnswerKind,
    answered_percent: u64,
    asked_of_guests: bool,
}

const QUESTIONS: &[QuestionRow] = &[
    QuestionRow {
        text: "Do you have any dietary restrictions?",
        code: "DIET",
        question_type: "SingleChoice",
        kind: AnswerKind::One(&[
            "None",
            "Vegetarian",
            "Vegan",
            "Gluten-free",
            "Halal",
            "Kosher",
            "Nut allergy",
        ]),
        answered_percent: 100,
        asked_of_guests: true,
    },
    QuestionRow {
        text: "T-shirt size",
        code: "TSHIRT",
        question_type: "SingleChoice",
        kind: AnswerKind::One(&["XS", "S", "M", "L", "XL", "XXL"]),
        answered_percent: 95,
        asked_of_guests: true,
    },
    QuestionRow {
        text: "Which topics interest you most?",
        code: "TOPICS",
        question_type: "MultiChoice",
        kind: AnswerKind::Many(&[
            "AI & Automation",
            "Data Privacy",
            "Cloud Infrastructure",
            "Customer Experience",
            "Leadership",
            "Sustainability",
        ]),
        answered_percent: 80,
        asked_of_guests: false,
    },
    QuestionRow {
        text: "Expected arrival date",
        code: "ARRIVAL",
        question_type: "OpenEndedDateTime",
        kind: AnswerKind::ArrivalDate,
        answered_percent: 50,
        asked_of_guests: false,
    },
    QuestionRow {
        text: "Years of industry experience",
        code: "YEARS_EXP",
        question_type: "OpenEndedNumeric",
        kind: AnswerKind::Number(35),
        answered_percent: 70,
        asked_of_guests: false,
    },
    QuestionRow {
        text: "Anything else we should know?",
        code: "COMMENTS",
        question_type: "OpenEndedTextCommentBox",
        kind: AnswerKind::Text(&[
            "Please seat me near an exit.",
            "I will need a receipt for reimbursement.",
            "Looking forward to the networking reception!",
            "First time attending - any tips welcome.",
        ]),
        answered_percent: 15,
        asked_of_guests: false,
    },
    QuestionRow {
        text: "How did you hear about this event?",
        code: "REFERRAL",
        question_type: "SingleChoice",
        kind: AnswerKind::One(&[
            "Email invitation",
            "Colleague",
            "Social media",
            "Website",
            "Previous attendee",
        ]),
        answered_percent: 90,
        asked_of_guests: false,
    },
];

/// Custom field definitions: category, name, code, definition type, value type, choices, active.
struct CustomFieldRow {
    category: &'static str,
    name: &'static str,
    code: &'static str,
    field_type: &'static str,
    value_type: &'static str,
    choices: &'static [&'static str],
    required: bool,
    active: bool,
}

const MEMBERSHIP_FIELD: usize = 0;
const INDUSTRY_FIELD: usize = 1;
const MEMBER_ID_FIELD: usize = 2;
const INTERESTS_FIELD: usize = 3;
const TRACK_FIELD: usize = 5;
const COST_CENTER_FIELD: usize = 6;
const MEMBER_LEVELS: &[&str] = &[
    "Member",
    "Non-Member",
    "Student Member",
    "Fellow",
    "Lifetime Member",
];

#[rustfmt::skip]
const CUSTOM_FIELDS: &[CustomFieldRow] = &[
    CustomFieldRow { category: "Contact", name: "Membership Level", code: "MEMBERSHIP_LEVEL", field_type: "Choice - Single Answer", value_type: "SingleChoice", choices: MEMBER_LEVELS, required: true, active: true },
    CustomFieldRow { category: "Contact", name: "Industry", code: "INDUSTRY", field_type: "Choice - Single Answer", value_type: "SingleChoice", choices: &["Technology", "Healthcare", "Financial Services", "Education", "Government", "Manufacturing", "Retail", "Nonprofit"], required: false, active: true },
    CustomFieldRow { category: "Contact", name: "Member ID", code: "MEMBER_ID", field_type: "Open Ended Text - One Line", value_type: "OpenEndedText", choices: &[], required: false, active: true },
    CustomFieldRow { category: "Contact", name: "Areas of Interest", code: "AREAS_OF_INTEREST", field_type: "Choice - Multiple Answers", value_type: "MultiChoice", choices: &["Networking", "Continuing Education", "Certification", "Vendor Discovery", "Speaking Opportunities"], required: false, active: true },
    CustomFieldRow { category: "Contact", name: "Badge Color (legacy)", code: "BADGE_COLOR", field_type: "Choice - Single Answer", value_type: "SingleChoice", choices: &["Blue", "Green", "Red"], required: false, active: false },
    CustomFieldRow { category: "Session", name: "Track", code: "TRACK", field_type: "Choice - Single Answer", value_type: "SingleChoice", choices: &["Product", "Engineering", "Leadership", "Customer Success", "Data & AI", "Operations"], required: false, active: true },
    CustomFieldRow { category: "Event", name: "Cost Center", code: "COST_CENTER", field_type: "Open Ended Text - One Line", value_type: "OpenEndedText", choices: &[], required: false, active: true },
];

/// Session categories: name, code prefix, description. Keynotes and networking are included
/// sessions (everyone attends, nobody enrolls).
const SESSION_CATEGORIES: &[(&str, &str, &str)] = &[
    ("Keynote", "KEY", "Main-stage sessions for all attendees."),
    ("Breakout", "BRK", "Concurrent talks on a single topic."),
    ("Workshop", "WKS", "Hands-on sessions with limited seating."),
    (
        "Panel",
        "PNL",
        "Moderated discussions with several speakers.",
    ),
    ("Networking", "NET", "Receptions and meetups."),
];
const KEYNOTE: usize = 0;
const BREAKOUT: usize = 1;
const WORKSHOP: usize = 2;
const PANEL: usize = 3;
const NETWORKING: usize = 4;

#[rustfmt::skip]
const SESSION_TOPICS: &[&str] = &[
    "Event Data Integration", "Customer Journey Analytics", "Zero-Trust Security",
    "Hybrid Event Production", "Attendee Engagement", "Sponsorship ROI", "Membership Growth",
    "Data Privacy by Design", "Generative AI in Practice", "Cloud Cost Optimization",
    "Accessible Event Design", "Sustainable Supply Chains", "Revenue Operations",
    "Incident Response", "Clinical Data Standards", "Product-Led Growth",
    "Mobile App Strategy", "Community Building", "Pricing Experiments", "Workforce Planning",
    "API Design", "Observability", "Change Management", "Board Governance",
    "Real-Time Dashboards", "Marketing Automation", "Partner Ecosystems", "Digital Badging",
];
const TITLE_PATTERNS: &[(&str, &str)] = &[
    ("Introduction to ", ""),
    ("Advanced ", ""),
    ("", ": Lessons Learned"),
    ("The Future of ", ""),
    ("", " in 45 Minutes"),
    ("Deep Dive: ", ""),
    ("", " at Scale"),
    ("Hands-on ", " Lab"),
];
const KEYNOTE_TITLES: &[&str] = &["Opening Keynote", "Day 2 Keynote", "Closing Keynote"];
const NETWORKING_TITLES: &[&str] = &["Welcome Reception", "VIP Reception", "Closing Reception"];
const SESSION_BLURBS: &[&str] = &[
    "Practitioners share what worked, what failed and what they would do differently.",
    "Bring a laptop; exercises start from a clean project.",
    "Case studies from three organisations of different sizes.",
    "Includes a live demo and open Q&A.",
    "Aimed at teams just getting started.",
];

const FANCY_ROOMS: &[(&str, &str)] = &[
    ("Grand Ballroom", "GBR"),
    ("Ballroom A", "BRA"),
    ("Ballroom B", "BRB"),
    ("Ballroom C", "BRC"),
    ("Hall A", "HALLA"),
    ("Hall B", "HALLB"),
    ("Auditorium", "AUD"),
    ("Summit Room", "SUMMIT"),
    ("Harbor Room", "HARBOR"),
    ("Skyline Terrace", "SKYLINE"),
    ("Innovation Lab", "LAB"),
];

/// Speaker categories: name, active.
const SPEAKER_CATEGORIES: &[(&str, bool)] = &[
    ("Keynote Speaker", true),
    ("Presenter", true),
    ("Panelist", true),
    ("Moderator", true),
    ("Past Speaker", false),
];
const SPEAKER_CATEGORY_MIX: &[(usize, u32)] = &[(0, 10), (1, 60), (2, 20), (3, 10)];
const SPEAKER_BIO_TAILS: &[&str] = &[
    "A frequent speaker on building teams that ship.",
    "Previously led platform work at two start-ups.",
    "Author of a popular newsletter on the industry.",
    "Mentors early-career professionals through a nonprofit program.",
];

/// Sponsorship levels, top first (`rank` 0).
const SPONSORSHIP_LEVELS: &[&str] = &["Platinum", "Gold", "Silver", "Bronze", "Media Partner"];
/// How many exhibitors get each level, in order; the rest are plain exhibitors.
const SPONSORS_PER_LEVEL: &[usize] = &[2, 3, 5, 6, 2];

const AIRLINES: &[&str] = &[
    "Blue Yonder Airlines",
    "Northwind Air",
    "Contoso Airways",
    "Tailspin Air",
];
const SEAT_TYPES: &[(&str, u32)] = &[("Aisle", 55), ("Window", 45)];
const TICKET_TYPES: &[(&str, u32)] = &[("Economy/Coach", 80), ("Business", 17), ("FirstClass", 3)];
const PARTS_OF_DAY: &[&str] = &["Morning", "Afternoon", "Evening"];
const FOOD_PREFERENCES: &[&str] = &[
    "Vegetarian meal",
    "Vegan meal",
    "Gluten-free meal",
    "Kosher meal",
];
const AIR_STATUS_MIX: &[(&str, u32)] = &[
    (travel_status::TICKETED, 35),
    (travel_status::APPROVED, 15),
    (travel_status::SUBMITTED, 20),
    (travel_status::PROCESSING, 8),
    (travel_status::RESERVED, 8),
    (travel_status::PENDING, 6),
    (travel_status::WAITLISTED, 3),
    (travel_status::DENIED, 2),
    (travel_status::NOT_AVAILABLE, 2),
    (travel_status::CANCELLED, 1),
];
const HOTEL_STATUS_MIX: &[(&str, u32)] = &[
    (travel_status::RESERVED, 45),
    (travel_status::APPROVED, 15),
    (travel_status::SUBMITTED, 15),
    (travel_status::PENDING, 10),
    (travel_status::PROCESSING, 5),
    (travel_status::WAITLISTED, 4),
    (travel_status::CANCELLED, 4),
    (travel_status::DENIED, 1),
    (travel_status::NOT_AVAILABLE, 1),
];

/// Event days, and hour-long session slots per day.
const EVENT_DAYS: i64 = 3;
const SLOTS_PER_DAY: u64 = 8;
const SLOTS: u64 = EVENT_DAYS as u64 * SLOTS_PER_DAY;
/// Most optional sessions an attendee enrolls in.
const MAX_ENROLLMENTS: usize = 4;

// ---------------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------------

/// The fixed instants every generated timestamp is placed between.
#[derive(Clone, Copy, Debug)]
struct Timeline {
    event_created: i64,
    /// Registration opens.
    launch: i64,
    /// No generated audit timestamp is later.
    latest: i64,
    /// Midnight UTC of the event's first day.
    first_day: i64,
}

/// One session's precomputed shape (everything but its strings).
#[derive(Clone, Debug)]
struct SessionPlan {
    id: String,
    category: usize,
    status: &'static str,
    slot: u64,
    location: u64,
    /// Position among enrollable sessions, for optional sessions that are not cancelled.
    enrollable: Option<u64>,
    full: bool,
    capacity: Option<u32>,
    enable_waitlist: bool,
    waitlist_capacity: Option<u32>,
}

/// The per-attendee facts other records depend on, computed without allocating.
#[derive(Clone, Copy, Debug)]
struct Core {
    status: &'static str,
    guest: bool,
    created: i64,
    registered_at: Option<i64>,
    registration_modified: Option<i64>,
    cancelled_at: Option<i64>,
    attendee_modified: i64,
    registration_type: usize,
    enrollment_slots: usize,
}

impl Core {
    fn registered(&self) -> bool {
        self.registered_at.is_some()
    }
}

/// Who an attendee is: indexes into the name, city, company and title tables.
#[derive(Clone, Copy, Debug)]
struct Identity {
    first: usize,
    last: usize,
    gender: &'static str,
    city: usize,
    company: Option<usize>,
    title: Option<usize>,
    birth_day: i64,
}

/// One attendee's enrollments: `(session index, status)` for its first `len` slots.
struct EnrollmentPlan {
    slots: [(usize, &'static str); MAX_ENROLLMENTS],
    len: usize,
}

/// Deterministic, lazily computed data for one Cvent account with one main event.
#[derive(Clone, Debug)]
pub struct Generator {
    seed: u64,
    attendee_count: u64,
    timeline: Timeline,
    venue: usize,
    title: usize,
    event_id: String,
    previous_event_id: String,
    event_code: String,
    previous_event_code: String,
    registration_type_ids: Vec<String>,
    registration_path_ids: Vec<String>,
    admission_item_ids: Vec<String>,
    contact_type_ids: Vec<String>,
    question_ids: Vec<String>,
    custom_field_ids: Vec<String>,
    invitation_list_id: String,
    session_category_ids: Vec<String>,
    speaker_category_ids: Vec<String>,
    arrival_dates: [String; 2],
    sessions: Vec<SessionPlan>,
    /// Session indexes of the enrollable sessions, by enrollable position.
    enrollable: Vec<usize>,
    /// Distance between an attendee's enrollment slots, in enrollable positions.
    enrollment_step: u64,
    location_count: u64,
    speaker_count: u64,
    /// Days from the event's start to its end (sessions still fill the first three).
    event_days: i64,
}

/// The lookups a registration carries besides its status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    pub registration_type: Lookup,
    pub registration_path: Lookup,
    pub admission_item: Lookup,
}

/// When a further event of the account takes place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Midnight UTC of its first day, in milliseconds since the Unix epoch.
    pub first_day_ms: i64,
    /// How many days it lasts (at least one).
    pub days: i64,
}

impl Generator {
    pub fn new(seed: u64, attendee_count: u64) -> Self {
        Self::build(seed, attendee_count, None)
    }

    /// The `number`th further live event of the same account (1 is the first after the main
    /// one): its own ids, attendees, sessions and speakers, drawn from a seed derived from this
    /// generator's and `number`, held on `schedule`. Custom fields and contact types belong to
    /// the account, not the event, so it keeps this generator's ids for them.
    pub fn further_event(&self, number: u64, attendee_count: u64, schedule: Schedule) -> Self {
        let seed = draw(self.seed, number, field::FURTHER_EVENT);
        let mut generator = Self::build(seed, attendee_count, Some(schedule));
        generator.custom_field_ids = self.custom_field_ids.clone();
        generator.contact_type_ids = self.contact_type_ids.clone();
        generator
    }

    fn build(seed: u64, attendee_count: u64, schedule: Option<Schedule>) -> Self {
        let mut setup = Rolls::new(draw(seed, 0, field::SETUP));
        // A fixed instant in early January 2026, so the data reads as a snapshot taken then.
        let latest = days_from_civil(2026, 1, 5) * DAY
            + setup.below(21) as i64 * DAY
            + setup.below(DAY as u64) as i64;
        let event_created =
            latest - (150 + setup.below(60) as i64) * DAY - setup.below(DAY as u64) as i64;
        let launch = event_created + (5 + setup.below(10) as i64) * DAY;
        // The event itself is well over a year after the snapshot, so it is still upcoming when
        // someone rehearses against the sandbox, and the scheduler has a future end date.
        let first_day = latest.div_euclid(DAY) * DAY + (420 + setup.below(35) as i64) * DAY;
        let first_day = schedule.map_or(first_day, |schedule| schedule.first_day_ms);
        let timeline = Timeline {
            event_created,
            launch,
            latest,
            first_day,
        };
        let venue = setup.index(VENUES.len());
        let title = setup.index(EVENT_TITLES.len());

        let id = |namespace: u64, index: u64| make_id(seed, namespace, index);
        let ids = |namespace: u64, count: usize| -> Vec<String> {
            (0..count as u64)
                .map(|index| make_id(seed, namespace, index))
                .collect()
        };
        let session_count = (attendee_count / 40).clamp(20, 2_000);
        let location_count = session_count.div_ceil(SLOTS).max(4);
        let arrival_dates = [format_date(first_day - DAY), format_date(first_day)];
        let mut generator = Generator {
            seed,
            attendee_count,
            timeline,
            venue,
            title,
            event_id: id(ns::EVENT, 0),
            previous_event_id: id(ns::EVENT, 1),
            event_code: code_from(draw(seed, 0, field::EVENT), 11),
            previous_event_code: code_from(draw(seed, 1, field::EVENT), 11),
            registration_type_ids: ids(ns::REGISTRATION_TYPE, REGISTRATION_TYPES.len()),
            registration_path_ids: ids(ns::REGISTRATION_PATH, REGISTRATION_PATHS.len()),
            admission_item_ids: ids(ns::ADMISSION_ITEM, ADMISSION_ITEMS.len()),
            contact_type_ids: ids(ns::CONTACT_TYPE, CONTACT_TYPES.len()),
            question_ids: ids(ns::QUESTION, QUESTIONS.len()),
            custom_field_ids: ids(ns::CUSTOM_FIELD, CUSTOM_FIELDS.len()),
            invitation_list_id: id(ns::MISC, 0),
            session_category_ids: ids(ns::SESSION_CATEGORY, SESSION_CATEGORIES.len()),
            speaker_category_ids: ids(ns::SPEAKER_CATEGORY, SPEAKER_CATEGORIES.len()),
            arrival_dates,
            sessions: Vec::new(),
            enrollable: Vec::new(),
            enrollment_step: 1,
            location_count,
            speaker_count: (session_count * 3 / 5).clamp(8, 1_200),
            event_days: schedule.map_or(EVENT_DAYS, |schedule| schedule.days.max(1)),
        };
        generator.plan_sessions(session_count);
        generator
    }

    /// Lays out sessions over the event's slots and rooms, then sizes them (see the module docs).
    fn plan_sessions(&mut self, session_count: u64) {
        let mut sessions = Vec::with_capacity(session_count as usize);
        let mut enrollable = Vec::new();
        for index in 0..session_count {
            let mut rolls = Rolls::new(draw(self.seed, index, field::SESSION));
            let location = index % self.location_count;
            let slot = (index / self.location_count) % SLOTS;
            let hour = slot % SLOTS_PER_DAY;
            let category = if location == 0 && hour == 0 {
                KEYNOTE
            } else if location == 1 && hour == SLOTS_PER_DAY - 1 {
                NETWORKING
            } else {
                rolls.weighted(&[(BREAKOUT, 55), (WORKSHOP, 20), (PANEL, 25)])
            };
            let status = match (category, rolls.below(100)) {
                (KEYNOTE, _) => session_status::ACTIVE,
                (_, 0..4) => session_status::CANCELLED,
                (_, 4..10) => session_status::CLOSED,
                _ => session_status::ACTIVE,
            };
            let included = matches!(category, KEYNOTE | NETWORKING);
            let position = (!included && status != session_status::CANCELLED).then(|| {
                enrollable.push(index as usize);
                enrollable.len() as u64 - 1
            });
            sessions.push(SessionPlan {
                id: make_id(self.seed, ns::SESSION, index),
                category,
                status,
                slot,
                location,
                enrollable: position,
                full: false,
                capacity: None,
                enable_waitlist: false,
                waitlist_capacity: None,
            });
        }
        self.enrollment_step = (enrollable.len() as u64 / MAX_ENROLLMENTS as u64).max(1);
        self.sessions = sessions;
        self.enrollable = enrollable;

        // Mark a few sessions full first: whether an enrollment is waitlisted depends on it.
        let mut any_full = false;
        for position in 0..self.enrollable.len() {
            let session = self.enrollable[position];
            let full = draw(self.seed, session as u64, field::FULL) % 100 < 4;
            self.sessions[session].full = full;
            any_full |= full;
        }
        if !any_full && !self.enrollable.is_empty() {
            let position =
                (draw(self.seed, 0, field::FULL) % self.enrollable.len() as u64) as usize;
            let session = self.enrollable[position];
            self.sessions[session].full = true;
        }
        for position in 0..self.enrollable.len() {
            let session = self.enrollable[position];
            if !self.sessions[session].full {
                continue;
            }
            let (registered, waitlisted) = self.count_enrollments(position as u64);
            let plan = &mut self.sessions[session];
            if registered == 0 {
                // Nobody to fill it with (a tiny sandbox): size it like any other session, which
                // also covers the enrollments that would have been waitlisted.
                plan.full = false;
            } else {
                plan.capacity = Some(saturate(registered));
                plan.enable_waitlist = true;
                plan.waitlist_capacity = Some(saturate(
                    waitlisted + 5 + draw(self.seed, session as u64, field::FULL + 1) % 20,
                ));
            }
        }
        for session in 0..self.sessions.len() {
            let mut rolls = Rolls::new(draw(self.seed, session as u64, field::SESSION + 1));
            let plan = &self.sessions[session];
            if plan.full {
                continue;
            }
            let (capacity, enable_waitlist, waitlist_capacity) = match plan.enrollable {
                _ if matches!(plan.category, KEYNOTE | NETWORKING) => (None, false, None),
                Some(_) if rolls.chance(12) => (None, false, None),
                Some(position) => {
                    let bound = self.enrollment_bound(position);
                    // Headroom from none to double, rounded up to a multiple of 5.
                    let headroom = bound * rolls.below(100) / 100;
                    let capacity = (bound + headroom).max(10).div_ceil(5) * 5;
                    let waitlist = rolls.chance(30);
                    (
                        Some(saturate(capacity)),
                        waitlist,
                        waitlist.then(|| 10 + rolls.below(50) as u32),
                    )
                }
                None => (Some(50 + 10 * rolls.below(16) as u32), false, None),
            };
            let plan = &mut self.sessions[session];
            plan.capacity = capacity;
            plan.enable_waitlist = enable_waitlist;
            plan.waitlist_capacity = waitlist_capacity;
        }
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn attendee_count(&self) -> u64 {
        self.attendee_count
    }

    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    pub fn speaker_count(&self) -> usize {
        self.speaker_count as usize
    }

    /// No generated audit timestamp is later than this (so a `lastModified ge X` filter with X
    /// above it can skip all generated records).
    pub fn latest_generated_timestamp(&self) -> String {
        format_timestamp(self.timeline.latest)
    }

    /// The main event's creation; no generated audit timestamp of its records is earlier.
    pub fn event_created_timestamp(&self) -> String {
        format_timestamp(self.timeline.event_created)
    }

    // ---- ids --------------------------------------------------------------------------------

    /// The id of the attendee at `index`, without generating the rest of the record.
    pub fn attendee_id(&self, index: u64) -> String {
        make_id(self.seed, ns::ATTENDEE, index)
    }

    /// The contact id of the attendee at `index`.
    pub fn contact_id(&self, index: u64) -> String {
        make_id(self.seed, ns::CONTACT, index)
    }

    /// The index an attendee id was generated for (any letter case), or `None` for ids this
    /// generator did not make. Indexes at or past [`attendee_count`](Self::attendee_count) are
    /// returned too: the sandbox adds attendees there from the same templates.
    pub fn attendee_position(&self, id: &str) -> Option<u64> {
        decode_id(self.seed, ns::ATTENDEE, id)
    }

    /// The attendee index a contact id belongs to.
    pub fn contact_position(&self, id: &str) -> Option<u64> {
        decode_id(self.seed, ns::CONTACT, id)
    }

    /// The attendee index and slot of a generated enrollment id.
    pub fn enrollment_position(&self, id: &str) -> Option<(u64, usize)> {
        let packed = decode_id(self.seed, ns::ENROLLMENT, id)?;
        Some((
            packed / MAX_ENROLLMENTS as u64,
            (packed % MAX_ENROLLMENTS as u64) as usize,
        ))
    }

    /// The index of a generated session id in [`sessions`](Self::sessions).
    pub fn session_position(&self, id: &str) -> Option<usize> {
        let index = decode_id(self.seed, ns::SESSION, id)?;
        (index < self.sessions.len() as u64).then_some(index as usize)
    }

    /// The index of a generated speaker id in [`speakers`](Self::speakers).
    pub fn speaker_position(&self, id: &str) -> Option<usize> {
        let index = decode_id(self.seed, ns::SPEAKER, id)?;
        (index < self.speaker_count).then_some(index as usize)
    }

    // ---- events -----------------------------------------------------------------------------

    /// The account's events: `[0]` is the synced event, `[1]` its previous edition (completed,
    /// no attendees), so `event.id` filters have something to exclude.
    pub fn events(&self) -> Vec<Event> {
        vec![self.main_event(), self.previous_event()]
    }

    /// The synced event (`events()[0]`).
    pub fn event(&self) -> Event {
        self.main_event()
    }

    fn event_start(&self) -> i64 {
        self.timeline.first_day + VENUES[self.venue].first_hour_utc * HOUR
    }

    fn event_end(&self) -> i64 {
        // The last day's closing reception ends at 20:30 local.
        self.timeline.first_day
            + (self.event_days - 1) * DAY
            + (VENUES[self.venue].first_hour_utc + SLOTS_PER_DAY as i64 - 1) * HOUR
            + 90 * MINUTE
    }

    fn planner(&self, index: usize) -> (&'static str, &'static str, &'static str) {
        PLANNERS[(draw(self.seed, index as u64, field::EVENT + 1) % PLANNERS.len() as u64) as usize]
    }

    fn build_event(
        &self,
        id: &str,
        code: &str,
        year_offset: i64,
        created: i64,
        last_modified: i64,
        live: bool,
    ) -> Event {
        let venue = &VENUES[self.venue];
        let city = &CITIES[venue.city];
        let (title, organiser, domain) = EVENT_TITLES[self.title];
        let shift = year_offset * 364 * DAY;
        let start = self.event_start() + shift;
        let end = self.event_end() + shift;
        let (year, _, _) = civil_from_days(start.div_euclid(DAY));
        let (planner_first, planner_last, planner_user) = self.planner(0);
        let (stakeholder_first, stakeholder_last, _) = self.planner(1);
        let links = |page: &str| {
            Some(Link::new(format!(
                "https://web.cvent-sandbox.example/event/{id}/{page}"
            )))
        };
        let capacity = (self.attendee_count * 11 / 10).div_ceil(100).max(1) * 100;
        Event {
            id: id.to_owned(),
            title: format!("{title} {year}"),
            code: code.to_owned(),
            is_virtual: Some(false),
            format: if self.seed.is_multiple_of(3) {
                "Hybrid"
            } else {
                "In-person"
            }
            .to_owned(),
            description: Some(format!(
                "Three days of keynotes, breakouts and workshops hosted by {organiser} at {}, {}.",
                venue.name, city.name
            )),
            start: format_timestamp(start),
            end: format_timestamp(end),
            close_after: Some(format_timestamp(start - DAY)),
            archive_after: Some(format_timestamp(end + 90 * DAY)),
            launch_after: Some(format_timestamp(self.timeline.launch + shift)),
            timezone: venue.timezone.to_owned(),
            venues: vec![Venue {
                name: venue.name.to_owned(),
                address: Some(Address {
                    address1: Some(venue.address1.to_owned()),
                    city: Some(city.name.into()),
                    region: Some(city.region.into()),
                    region_code: Some(city.region_code.into()),
                    postal_code: Some(venue.postal_code.to_owned()),
                    country: Some(city.country.into()),
                    country_code: Some(city.country_code.into()),
                    ..Address::default()
                }),
            }],
            show_venue_location: Some(true),
            phone: Some(venue.phone.to_owned()),
            note: None,
            default_locale: Some(venue.locale.to_owned()),
            languages: vec![venue.locale.to_owned()],
            currency: Some(venue.currency.to_owned()),
            registration_security_level: Some("Public".to_owned()),
            status: Some(if live { "Active" } else { "Completed" }.to_owned()),
            event_status: Some(if live { "Upcoming" } else { "Archived" }.to_owned()),
            planning_status: None,
            test_mode: Some(false),
            capacity: Some(saturate(capacity)),
            planners: vec![Planner {
                prefix: None,
                first_name: planner_first.to_owned(),
                last_name: planner_last.to_owned(),
                company: Some(organiser.to_owned()),
                title: Some("Senior Event Manager".to_owned()),
                email: Some(format!("{planner_user}@{domain}")),
                work_phone: Some(format!("{}0142", city.phone_prefix)),
            }],
            stakeholders: vec![Stakeholder {
                first_name: stakeholder_first.to_owned(),
                last_name: stakeholder_last.to_owned(),
                company: Some(organiser.to_owned()),
                title: Some("VP of Marketing".to_owned()),
                email: Some(format!(
                    "{}.{}@{domain}",
                    stakeholder_first.to_ascii_lowercase(),
                    stakeholder_last.to_ascii_lowercase()
                )),
                work_phone: None,
            }],
            custom_fields: vec![CustomFieldValue {
                id: self.custom_field_ids[COST_CENTER_FIELD].clone(),
                name: Some(CUSTOM_FIELDS[COST_CENTER_FIELD].name.into()),
                value: vec![format!("CC-{}", 4_100 + self.seed % 900).into()],
                order: Some(1),
                value_type: Some(CUSTOM_FIELDS[COST_CENTER_FIELD].value_type.into()),
            }],
            category: Some(Lookup {
                id: make_id(self.seed, ns::MISC, 1),
                code: Some("CONF".into()),
                name: Some("Conference".into()),
            }),
            event_type: "Conference".to_owned(),
            links: Some(EventLinks {
                invitation: links("invitation"),
                agenda: links("agenda"),
                summary: links("summary"),
                registration: links("register"),
            }),
            meeting_request_id: None,
            created: format_timestamp(created),
            created_by: Some(planner_user.to_owned()),
            last_modified: format_timestamp(last_modified),
            last_modified_by: Some(planner_user.to_owned()),
        }
    }

    fn main_event(&self) -> Event {
        let timeline = self.timeline;
        let last_modified = between(timeline.launch, timeline.latest, 0.8);
        self.build_event(
            &self.event_id,
            &self.event_code,
            0,
            timeline.event_created,
            last_modified,
            true,
        )
    }

    fn previous_event(&self) -> Event {
        let shift = 364 * DAY;
        let created = self.timeline.event_created - shift;
        // Closed out a month after it ended, long before this edition's snapshot.
        let last_modified = (self.event_end() - shift + 30 * DAY).min(self.timeline.latest);
        self.build_event(
            &self.previous_event_id,
            &self.previous_event_code,
            -1,
            created,
            last_modified,
            false,
        )
    }

    // ---- attendees --------------------------------------------------------------------------

    fn guest_candidate(&self, index: u64) -> bool {
        draw(self.seed, index, field::GUEST) % 100 < 14
    }

    /// Whether `index` is a guest, and so whose: see the module docs.
    fn primary_of(&self, index: u64) -> Option<Core> {
        if index == 0 || !self.guest_candidate(index) || self.guest_candidate(index - 1) {
            return None;
        }
        let primary = self.base_core(index - 1);
        matches!(
            primary.status,
            attendee_status::ACCEPTED
                | attendee_status::CANCELLED
                | attendee_status::WAITLISTED
                | attendee_status::PENDING_APPROVAL
        )
        .then_some(primary)
    }

    fn core(&self, index: u64) -> Core {
        match self.primary_of(index) {
            Some(primary) => self.guest_core(index, &primary),
            None => self.base_core(index),
        }
    }

    /// An attendee's status and timeline as if it were nobody's guest.
    fn base_core(&self, index: u64) -> Core {
        let Timeline { launch, latest, .. } = self.timeline;
        let mut rolls = Rolls::new(draw(self.seed, index, field::CORE));
        let status = rolls.weighted(STATUS_MIX);
        // Registrations pick up as the event nears: created = launch + span·√u.
        let created = between(launch, latest - MINUTE, rolls.unit().sqrt());
        let registered = matches!(
            status,
            attendee_status::ACCEPTED
                | attendee_status::CANCELLED
                | attendee_status::WAITLISTED
                | attendee_status::PENDING_APPROVAL
                | attendee_status::DENIED_APPROVAL
        );
        let registration_type = rolls.weighted(REGISTRATION_TYPE_MIX);
        let (registered_at, registration_modified, cancelled_at, attendee_modified) = if registered
        {
            let registered_at = if rolls.chance(60) {
                // Registered straight from the invitation or website.
                (created + 5 * SECOND + rolls.below(10 * MINUTE as u64) as i64).min(latest)
            } else {
                between(created, latest, rolls.unit() * 0.3)
            };
            let mut modified = if rolls.chance(25) {
                between(registered_at, latest, rolls.unit())
            } else {
                registered_at
            };
            let cancelled_at = (status == attendee_status::CANCELLED)
                .then(|| between(registered_at, latest, rolls.unit()));
            if let Some(cancelled_at) = cancelled_at {
                modified = modified.max(cancelled_at);
            }
            (Some(registered_at), Some(modified), cancelled_at, modified)
        } else {
            let responded = match status {
                attendee_status::DECLINED => between(created, latest, rolls.unit() * 0.2),
                _ if rolls.chance(20) => between(created, latest, rolls.unit()),
                _ => created,
            };
            (None, None, None, responded)
        };
        let enrollment_slots = if matches!(
            status,
            attendee_status::ACCEPTED | attendee_status::CANCELLED
        ) {
            rolls.weighted(&[(0, 15), (1, 25), (2, 30), (3, 20), (4, 10)])
        } else {
            0
        };
        Core {
            status,
            guest: false,
            created,
            registered_at,
            registration_modified,
            cancelled_at,
            attendee_modified,
            registration_type,
            enrollment_slots,
        }
    }

    /// A guest registers with its primary and shares the primary's status.
    fn guest_core(&self, index: u64, primary: &Core) -> Core {
        let latest = self.timeline.latest;
        let mut rolls = Rolls::new(draw(self.seed, index, field::CORE));
        let primary_registered = primary.registered_at.unwrap_or(primary.created);
        let created =
            (primary_registered + SECOND + rolls.below(2 * MINUTE as u64) as i64).min(latest);
        let registration_modified = primary
            .registration_modified
            .unwrap_or(created)
            .max(created);
        let cancelled_at = primary.cancelled_at.map(|at| at.max(created));
        let modified = registration_modified.max(cancelled_at.unwrap_or(created));
        let enrollment_slots = if matches!(
            primary.status,
            attendee_status::ACCEPTED | attendee_status::CANCELLED
        ) {
            rolls.weighted(&[(0, 40), (1, 35), (2, 25)])
        } else {
            0
        };
        Core {
            status: primary.status,
            guest: true,
            created,
            registered_at: Some(created),
            registration_modified: Some(registration_modified),
            cancelled_at,
            attendee_modified: modified,
            registration_type: GUEST_TYPE,
            enrollment_slots,
        }
    }

    fn family_name(&self, index: u64) -> usize {
        (draw(self.seed, index, field::FAMILY) % LAST_NAMES.len() as u64) as usize
    }

    fn home_city(&self, index: u64) -> usize {
        // Four in five live in the United States (the first 20 rows).
        let roll = draw(self.seed, index, field::CITY);
        if roll % 100 < 80 {
            ((roll >> 8) % 20) as usize
        } else {
            (20 + (roll >> 8) % (CITIES.len() as u64 - 20)) as usize
        }
    }

    fn identity(&self, index: u64, guest: bool) -> Identity {
        let mut rolls = Rolls::new(draw(self.seed, index, field::IDENTITY));
        let first = rolls.index(FIRST_NAMES.len());
        let gender = match FIRST_NAMES[first].1 {
            ANY => rolls.pick(&["Female", "Male", "Non-binary", "Rather not say"]),
            // A few people decline to say, whatever their name suggests.
            _ if rolls.chance(2) => "Rather not say",
            gender => gender,
        };
        // Most guests are family: same surname, same city.
        let household = guest && rolls.chance(60);
        let (last, city) = if household {
            (self.family_name(index - 1), self.home_city(index - 1))
        } else {
            (self.family_name(index), self.home_city(index))
        };
        let (company, title) = if guest && rolls.chance(60) {
            (None, None)
        } else {
            (
                Some(rolls.index(COMPANIES.len())),
                Some(rolls.index(TITLES.len())),
            )
        };
        // Born 1955–2003.
        let birth_day = days_from_civil(1955, 1, 1) + rolls.below(49 * 365) as i64;
        Identity {
            first,
            last,
            gender,
            city,
            company,
            title,
            birth_day,
        }
    }

    /// When the attendee at `index` was created, in milliseconds since 1970, without the cost
    /// of generating the whole attendee.
    pub fn attendee_created(&self, index: u64) -> i64 {
        self.core(index).created
    }

    /// The attendee at `index` (0 ≤ index < [`attendee_count`](Self::attendee_count)); O(1).
    pub fn attendee(&self, index: u64) -> Attendee {
        let core = self.core(index);
        let identity = self.identity(index, core.guest);
        let mut rolls = Rolls::new(draw(self.seed, index, field::PROFILE));
        let latest = self.timeline.latest;

        // Only an invitee can leave an invitation unanswered or decline it; only a website
        // visitor can be `Visited` without registering.
        let invited_by = match core.status {
            _ if core.guest => "Guest-Invited",
            attendee_status::NO_RESPONSE | attendee_status::DECLINED => {
                rolls.weighted(INVITED_ONLY_MIX)
            }
            attendee_status::VISITED => rolls.weighted(&[("Weblink", 70), ("No Invitation", 30)]),
            _ => rolls.weighted(INVITED_BY_MIX),
        };
        let response_method = match core.status {
            attendee_status::NO_RESPONSE | attendee_status::VISITED => "No Response",
            _ if core.guest => "Self-Responded",
            _ => rolls.weighted(RESPONSE_METHOD_MIX),
        };
        let audit_user = if invited_by == "API Invited" {
            API_USER
        } else {
            PLANNERS[rolls.index(PLANNERS.len())].2
        };

        // The contact usually predates this registration; it may have changed since.
        let contact_created = between(self.timeline.event_created, core.created, rolls.unit());
        let contact_modified = if rolls.chance(30) {
            between(contact_created, latest, rolls.unit())
        } else {
            contact_created
        };
        let contact = self.contact(
            index,
            &identity,
            &mut rolls,
            contact_created,
            contact_modified,
            audit_user,
        );

        let registration = core
            .registered()
            .then(|| &REGISTRATION_TYPES[core.registration_type]);
        let lookup =
            |ids: &[String], position: usize, (code, name): (&'static str, &'static str)| Lookup {
                id: ids[position].clone(),
                code: Some(code.into()),
                name: Some(name.into()),
            };
        let answers = if core.registered() {
            self.answers(core.guest, &mut rolls)
        } else {
            Vec::new()
        };
        let reference_id = match invited_by {
            "API Invited" => Some(prefixed_number("CRM-", rolls.below(1_000_000), 6)),
            "Import" | "Historical Import" => {
                Some(prefixed_number("IMP-", rolls.below(100_000), 5))
            }
            _ => None,
        };
        let external_references = if !core.guest && rolls.chance(6) {
            vec![ExternalReference {
                reference_type: Some("Cvent Salesforce App".to_owned()),
                id: Some(salesforce_id("003", rolls.next())),
                reference_id: Some(salesforce_id("00Q", rolls.next())),
            }]
        } else {
            Vec::new()
        };
        let attendee_modified = core.attendee_modified;
        Attendee {
            id: self.attendee_id(index),
            event: IdRef {
                id: self.event_id.clone(),
            },
            confirmation_number: Some(self.confirmation_number(index)),
            contact,
            checked_in: Some(false),
            check_in: None,
            check_out: None,
            duration: None,
            registration_path: registration.map(|row| {
                lookup(
                    &self.registration_path_ids,
                    row.path,
                    REGISTRATION_PATHS[row.path],
                )
            }),
            invitation_list: (invited_by == "Planner-Invited").then(|| IdName {
                id: self.invitation_list_id.clone(),
                name: Some("Customer Invite List".into()),
            }),
            web_links: None,
            registration_type: registration.map(|row| {
                lookup(
                    &self.registration_type_ids,
                    core.registration_type,
                    (row.code, row.name),
                )
            }),
            reference_id,
            external_references,
            note: rolls.chance(4).then(|| rolls.pick(NOTES).into()),
            guest: core.guest,
            deleted_guest: false,
            primary_id: core.guest.then(|| self.attendee_id(index - 1)),
            group: None,
            administrator: None,
            unsubscribed: Some(rolls.chance(2)),
            status: core.status.to_owned(),
            registered_at: core.registered_at.map(format_timestamp),
            registration_last_modified: core.registration_modified.map(format_timestamp),
            registration_cancelled_at: core.cancelled_at.map(format_timestamp),
            invited_by: Some(invited_by.into()),
            response_method: Some(response_method.into()),
            answers,
            admission_item: registration.map(|row| {
                lookup(
                    &self.admission_item_ids,
                    row.admission_item,
                    ADMISSION_ITEMS[row.admission_item],
                )
            }),
            visibility: Some(
                if rolls.chance(70) {
                    "Public"
                } else {
                    "Private"
                }
                .into(),
            ),
            test_record: Some(false),
            attendee_last_modified: Some(format_timestamp(attendee_modified)),
            appointment_groups: Vec::new(),
            created: format_timestamp(core.created),
            created_by: Some(audit_user.into()),
            last_modified: format_timestamp(attendee_modified.max(contact_modified)),
            last_modified_by: Some(audit_user.into()),
        }
    }

    fn contact(
        &self,
        index: u64,
        identity: &Identity,
        rolls: &mut Rolls,
        created: i64,
        modified: i64,
        audit_user: &'static str,
    ) -> Contact {
        let first = FIRST_NAMES[identity.first].0;
        let last = LAST_NAMES[identity.last];
        let city = &CITIES[identity.city];
        let domain = match identity.company {
            Some(company) => COMPANIES[company].1,
            None => rolls.pick(PERSONAL_DOMAINS),
        };
        // Unique per attendee because the index is part of it.
        let mut email = String::with_capacity(64);
        push_email_part(&mut email, first);
        email.push('.');
        push_email_part(&mut email, last);
        push_padded(&mut email, index + 1, 1);
        email.push('@');
        email.push_str(domain);

        let us = city.country_code == "US";
        let passport_number = rolls.chance(70).then(|| {
            if us {
                prefixed_number("5", rolls.below(100_000_000), 8)
            } else {
                let mut number = String::with_capacity(9);
                number.push(char::from(b'A' + rolls.below(26) as u8));
                push_padded(&mut number, rolls.below(100_000_000), 8);
                number
            }
        });
        let contact_type = if rolls.chance(85) {
            0
        } else {
            1 + rolls.index(CONTACT_TYPES.len() - 1)
        };
        Contact {
            id: self.contact_id(index),
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            middle_name: rolls.chance(25).then(|| rolls.pick(INITIALS).into()),
            nickname: None,
            prefix: rolls.chance(15).then(|| {
                match identity.gender {
                    _ if rolls.chance(50) => "Dr.",
                    "Female" => "Ms.",
                    "Male" => "Mr.",
                    _ => "Mx.",
                }
                .into()
            }),
            email: Some(email),
            cc_email: None,
            gender: Some(identity.gender.into()),
            company: identity.company.map(|company| COMPANIES[company].0.into()),
            designation: rolls.chance(10).then(|| rolls.pick(DESIGNATIONS).into()),
            title: identity.title.map(|title| TITLES[title].into()),
            contact_type: Some(ContactType {
                id: self.contact_type_ids[contact_type].clone(),
                name: Some(CONTACT_TYPES[contact_type].into()),
            }),
            primary_address_type: Some("Work".into()),
            home_address: None,
            home_phone: None,
            work_address: Some(Address {
                address1: Some({
                    let mut line = String::with_capacity(32);
                    push_padded(&mut line, 1 + rolls.below(9_999), 1);
                    line.push(' ');
                    line.push_str(rolls.pick(STREETS));
                    line
                }),
                address2: rolls
                    .chance(30)
                    .then(|| prefixed_number("Suite ", 100 + rolls.below(1_900), 1)),
                address3: None,
                city: Some(city.name.into()),
                region: Some(city.region.into()),
                region_code: Some(city.region_code.into()),
                postal_code: Some(postal_code(city, rolls)),
                country: Some(city.country.into()),
                country_code: Some(city.country_code.into()),
            }),
            work_phone: rolls.chance(90).then(|| phone(city, rolls)),
            work_fax: None,
            mobile_phone: rolls.chance(70).then(|| phone(city, rolls)),
            opt_out: Some(OptOut {
                opted_out: rolls.chance(3),
                date: None,
                by: None,
            }),
            custom_fields: self.contact_custom_fields(rolls),
            source_id: None,
            deleted: Some(false),
            pronouns: rolls.chance(20).then(|| rolls.pick(PRONOUNS).into()),
            headline: None,
            links: rolls.chance(35).then(|| ContactLinks {
                linked_in_url: Some(Link::new({
                    let mut url = String::with_capacity(56);
                    url.push_str("https://www.linkedin.com/in/");
                    push_email_part(&mut url, first);
                    url.push('-');
                    push_email_part(&mut url, last);
                    url.push('-');
                    push_padded(&mut url, index + 1, 1);
                    url
                })),
                ..ContactLinks::default()
            }),
            date_of_birth: Some(format_date(identity.birth_day * DAY)),
            passport: passport_number.as_ref().map(|number| Passport {
                number: Some(number.clone()),
                country: Some(city.country.to_owned()),
                country_code: Some(city.country_code.to_owned()),
            }),
            passport_number,
            // 9xx area numbers are never issued: realistic shape, never a real person's.
            social_security_number: us.then(|| {
                let mut ssn = String::with_capacity(11);
                push_padded(&mut ssn, 900 + rolls.below(100), 3);
                ssn.push('-');
                push_padded(&mut ssn, 1 + rolls.below(99), 2);
                ssn.push('-');
                push_padded(&mut ssn, 1 + rolls.below(9_999), 4);
                ssn
            }),
            national_identification_number: (!us).then(|| {
                let mut number = String::with_capacity(12);
                number.push_str(city.country_code);
                push_padded(&mut number, rolls.below(100_000_000), 8);
                number.push(char::from(b'A' + rolls.below(26) as u8));
                number
            }),
            npi: rolls
                .chance(20)
                .then(|| prefixed_number("1", rolls.below(1_000_000_000), 9)),
            created: Some(format_timestamp(created)),
            created_by: Some(audit_user.into()),
            last_modified: Some(format_timestamp(modified)),
            last_modified_by: Some(audit_user.into()),
        }
    }

    fn custom_value(&self, field_index: usize, value: Vec<Text>) -> CustomFieldValue {
        let row = &CUSTOM_FIELDS[field_index];
        CustomFieldValue {
            id: self.custom_field_ids[field_index].clone(),
            name: Some(row.name.into()),
            value,
            order: Some(field_index as u32 + 1),
            value_type: Some(row.value_type.into()),
        }
    }

    fn contact_custom_fields(&self, rolls: &mut Rolls) -> Vec<CustomFieldValue> {
        let mut fields = Vec::with_capacity(4);
        let level = rolls.weighted(&[(0, 50), (1, 30), (2, 8), (3, 8), (4, 4)]);
        fields.push(self.custom_value(MEMBERSHIP_FIELD, vec![MEMBER_LEVELS[level].into()]));
        if rolls.chance(80) {
            let industry = rolls.pick(CUSTOM_FIELDS[INDUSTRY_FIELD].choices);
            fields.push(self.custom_value(INDUSTRY_FIELD, vec![industry.into()]));
        }
        if level != 1 {
            let member_id = prefixed_number("M-", rolls.below(1_000_000), 6);
            fields.push(self.custom_value(MEMBER_ID_FIELD, vec![member_id.into()]));
        }
        if rolls.chance(50) {
            let choices = CUSTOM_FIELDS[INTERESTS_FIELD].choices;
            let count = 1 + rolls.index(2);
            let values = pick_several(rolls, choices, count);
            fields.push(self.custom_value(INTERESTS_FIELD, values));
        }
        fields
    }

    fn answers(&self, guest: bool, rolls: &mut Rolls) -> Vec<Answer> {
        let mut answers = Vec::with_capacity(QUESTIONS.len());
        for (position, question) in QUESTIONS.iter().enumerate() {
            if (guest && !question.asked_of_guests) || !rolls.chance(question.answered_percent) {
                continue;
            }
            let value = match question.kind {
                AnswerKind::One(choices) | AnswerKind::Text(choices) => {
                    vec![rolls.pick(choices).into()]
                }
                AnswerKind::Many(choices) => {
                    let count = 1 + rolls.index(3);
                    pick_several(rolls, choices, count)
                }
                AnswerKind::ArrivalDate => vec![self.arrival_dates[rolls.index(2)].clone().into()],
                AnswerKind::Number(most) => {
                    let mut number = String::with_capacity(2);
                    push_padded(&mut number, rolls.below(most + 1), 1);
                    vec![number.into()]
                }
            };
            answers.push(Answer {
                question: QuestionRef::new(self.question_ids[position].clone()),
                value,
            });
        }
        answers
    }

    /// The attendee's confirmation number: 11 characters of Cvent's code alphabet, distinct for
    /// every index below 2^53 (a keyed permutation of the index, written in base 29).
    fn confirmation_number(&self, index: u64) -> String {
        const MASK: u64 = (1 << 53) - 1;
        let (key_a, key_b) = namespace_keys(self.seed, ns::CONFIRMATION);
        let mut x = (index ^ key_a) & MASK;
        x = x.wrapping_mul(MULTIPLIER_A) & MASK;
        x ^= x >> 27;
        x = x.wrapping_add(key_b) & MASK;
        x = x.wrapping_mul(MULTIPLIER_B) & MASK;
        x ^= x >> 26;
        code_from(x, 11)
    }

    // ---- enrollments ------------------------------------------------------------------------

    /// How many slots an attendee can use: never more than there are enrollable sessions.
    fn max_slots(&self) -> usize {
        MAX_ENROLLMENTS.min(self.enrollable.len())
    }

    fn enrollment_plan(&self, index: u64, core: &Core) -> EnrollmentPlan {
        let mut plan = EnrollmentPlan {
            slots: [(0, enrollment_status::REGISTERED); MAX_ENROLLMENTS],
            len: 0,
        };
        let count = self.enrollable.len() as u64;
        for slot in 0..core.enrollment_slots.min(self.max_slots()) {
            let position = (index + slot as u64 * self.enrollment_step) % count;
            let session = self.enrollable[position as usize];
            let status = if core.status == attendee_status::CANCELLED {
                enrollment_status::CANCELLED
            } else if self.sessions[session].full
                && draw(self.seed, index, field::WAITLIST + slot as u64) % 100 < 12
            {
                enrollment_status::WAITLISTED
            } else if draw(self.seed, index, field::DROP + slot as u64) % 100 < 4 {
                // Dropped this session but kept the registration.
                enrollment_status::CANCELLED
            } else {
                enrollment_status::REGISTERED
            };
            plan.slots[slot] = (session, status);
            plan.len = slot + 1;
        }
        plan
    }

    /// The session enrollments of the attendee at `attendee_index`; O(1), at most four.
    pub fn enrollments(&self, attendee_index: u64) -> Vec<Enrollment> {
        if attendee_index >= self.attendee_count {
            return Vec::new();
        }
        let core = self.core(attendee_index);
        let plan = self.enrollment_plan(attendee_index, &core);
        if plan.len == 0 {
            return Vec::new();
        }
        let latest = self.timeline.latest;
        let attendee_id = self.attendee_id(attendee_index);
        let registered_at = core.registered_at.unwrap_or(core.created);
        let mut enrollments = Vec::with_capacity(plan.len);
        for (slot, &(session, status)) in plan.slots[..plan.len].iter().enumerate() {
            let mut rolls = Rolls::new(draw(
                self.seed,
                attendee_index,
                field::ENROLLMENT_TIME + slot as u64,
            ));
            let until = core.cancelled_at.unwrap_or(latest);
            let created = between(registered_at, until, rolls.unit() * 0.25);
            let last_modified = match (status, core.cancelled_at) {
                (enrollment_status::CANCELLED, Some(cancelled_at)) => cancelled_at,
                (enrollment_status::CANCELLED, None) => between(created, latest, rolls.unit()),
                _ if rolls.chance(15) => between(created, latest, rolls.unit()),
                _ => created,
            };
            let audit_user = PLANNERS[rolls.index(PLANNERS.len())].2;
            enrollments.push(Enrollment {
                id: make_id(
                    self.seed,
                    ns::ENROLLMENT,
                    attendee_index * MAX_ENROLLMENTS as u64 + slot as u64,
                ),
                session: IdRef {
                    id: self.sessions[session].id.clone(),
                },
                event: IdRef {
                    id: self.event_id.clone(),
                },
                attendee: IdRef {
                    id: attendee_id.clone(),
                },
                deleted: false,
                status: status.to_owned(),
                created: format_timestamp(created),
                created_by: Some(audit_user.into()),
                last_modified: format_timestamp(last_modified),
                last_modified_by: Some(audit_user.into()),
            });
        }
        enrollments
    }

    /// The attendees whose slot `slot` can land on enrollable position `position` form one
    /// residue class mod E; the first member of that class.
    fn first_with_slot_at(&self, position: u64, slot: usize) -> u64 {
        let count = self.enrollable.len() as u64;
        let offset = (slot as u64 * self.enrollment_step) % count;
        (position + count - offset) % count
    }

    /// An upper bound on the enrollments of the session at enrollable `position`, in closed
    /// form: the sizes of the residue classes that can reach it.
    fn enrollment_bound(&self, position: u64) -> u64 {
        let count = self.enrollable.len() as u64;
        (0..self.max_slots())
            .map(|slot| {
                let first = self.first_with_slot_at(position, slot);
                if first < self.attendee_count {
                    (self.attendee_count - 1 - first) / count + 1
                } else {
                    0
                }
            })
            .sum()
    }

    /// Registered and waitlisted enrollments of the session at enrollable `position`, by walking
    /// the residue classes that can reach it: O(N / E).
    fn count_enrollments(&self, position: u64) -> (u64, u64) {
        let count = self.enrollable.len() as u64;
        let (mut registered, mut waitlisted) = (0, 0);
        for slot in 0..self.max_slots() {
            let mut index = self.first_with_slot_at(position, slot);
            while index < self.attendee_count {
                let core = self.core(index);
                if core.enrollment_slots > slot {
                    match self.enrollment_plan(index, &core).slots[slot].1 {
                        enrollment_status::REGISTERED => registered += 1,
                        enrollment_status::WAITLISTED => waitlisted += 1,
                        _ => {}
                    }
                }
                index += count;
            }
        }
        (registered, waitlisted)
    }

    /// Generated `Registered` enrollments of the session at `session_index` (0 for sessions
    /// nobody enrolls in: included, cancelled or unknown). O(N / sessions).
    pub fn registered_count(&self, session_index: usize) -> u64 {
        match self
            .sessions
            .get(session_index)
            .and_then(|plan| plan.enrollable)
        {
            Some(position) => self.count_enrollments(position).0,
            None => 0,
        }
    }

    // ---- sessions, locations, speakers ------------------------------------------------------

    /// The main event's sessions: `clamp(N / 40, 20, 2000)` of them over three days.
    pub fn sessions(&self) -> Vec<Session> {
        (0..self.sessions.len())
            .filter_map(|index| self.session(index))
            .collect()
    }

    /// The session at `index` (`None` past [`session_count`](Self::session_count)).
    pub fn session(&self, index: usize) -> Option<Session> {
        let plan = self.sessions.get(index)?;
        let mut rolls = Rolls::new(draw(self.seed, index as u64, field::SESSION + 2));
        let (category_name, code_prefix, _) = SESSION_CATEGORIES[plan.category];
        let day = plan.slot / SLOTS_PER_DAY;
        let hour = plan.slot % SLOTS_PER_DAY;
        let start = self.timeline.first_day
            + day as i64 * DAY
            + (VENUES[self.venue].first_hour_utc + hour as i64) * HOUR;
        let minutes = match plan.category {
            BREAKOUT => 45,
            NETWORKING => 90,
            _ => 60,
        };
        let title = match plan.category {
            KEYNOTE => KEYNOTE_TITLES[(day as usize).min(KEYNOTE_TITLES.len() - 1)].to_owned(),
            NETWORKING => {
                NETWORKING_TITLES[(day as usize).min(NETWORKING_TITLES.len() - 1)].to_owned()
            }
            _ => {
                let topic = rolls.pick(SESSION_TOPICS);
                let (before, after) = match plan.category {
                    PANEL => ("Panel: ", ""),
                    _ => rolls.pick(TITLE_PATTERNS),
                };
                format!("{before}{topic}{after}")
            }
        };
        let description = format!("{title}. {}", rolls.pick(SESSION_BLURBS));
        let created = between(
            self.timeline.event_created,
            self.timeline.latest,
            rolls.unit() * 0.5,
        );
        let last_modified = between(created, self.timeline.latest, rolls.unit());
        let included = matches!(plan.category, KEYNOTE | NETWORKING);
        let active = plan.status == session_status::ACTIVE;
        let location = self.location(plan.location);
        let audit_user = self.planner(0).2;
        Some(Session {
            id: plan.id.clone(),
            is_virtual: Some(false),
            event: IdRef {
                id: self.event_id.clone(),
            },
            title,
            code: Some({
                let mut code = String::with_capacity(8);
                code.push_str(code_prefix);
                code.push('-');
                push_padded(&mut code, index as u64 + 1, 4);
                code
            }),
            category: Some(IdName {
                id: self.session_category_ids[plan.category].clone(),
                name: Some(category_name.into()),
            }),
            location: Some(LocationRef {
                id: location.id,
                code: Some(location.code),
                name: Some(location.name),
            }),
            description: Some(description),
            start: format_timestamp(start),
            end: format_timestamp(start + minutes * MINUTE),
            status: plan.status.to_owned(),
            automatically_opens_on: None,
            automatically_closes_on: (!included)
                .then(|| format_date(self.timeline.first_day - DAY)),
            enable_waitlist: Some(plan.enable_waitlist),
            waitlist_capacity: plan.waitlist_capacity,
            capacity: plan.capacity,
            capacity_unlimited: Some(plan.capacity.is_none()),
            timezone: Some(VENUES[self.venue].timezone.into()),
            display_on_agenda: Some(plan.status != session_status::CANCELLED),
            featured: Some(plan.category == KEYNOTE || rolls.chance(5)),
            admission_items: if plan.category == WORKSHOP {
                vec![self.admission_item_ids[0].clone()]
            } else {
                Vec::new()
            },
            open_for_registration: Some(active && !included),
            open_for_attendee_hub: Some(plan.status != session_status::CANCELLED),
            // The VIP reception is for VIPs and speakers; every other session is open to all.
            registration_types: if plan.category == NETWORKING && day == 1 {
                vec![
                    self.registration_type_ids[1].clone(),
                    self.registration_type_ids[2].clone(),
                ]
            } else {
                Vec::new()
            },
            presentation_type: Some(
                match plan.category {
                    WORKSHOP => "Hands-on Lab",
                    PANEL => "Panel Discussion",
                    NETWORKING => "Reception",
                    _ => "Presentation",
                }
                .into(),
            ),
            data_tag_code: Some(
                if included {
                    "Included Session"
                } else {
                    "Optional Session"
                }
                .into(),
            ),
            custom_fields: if included {
                Vec::new()
            } else {
                vec![self.custom_value(
                    TRACK_FIELD,
                    vec![rolls.pick(CUSTOM_FIELDS[TRACK_FIELD].choices).into()],
                )]
            },
            segments: Vec::new(),
            order: Some(index as u32 + 1),
            included_session: Some(included),
            created: format_timestamp(created),
            created_by: Some(audit_user.into()),
            last_modified: format_timestamp(last_modified),
            last_modified_by: Some(audit_user.into()),
        })
    }

    fn location(&self, index: u64) -> SessionLocation {
        let (name, code) = match FANCY_ROOMS.get(index as usize) {
            Some(&(name, code)) => (name.to_owned(), code.to_owned()),
            None => {
                let number = 101 + index - FANCY_ROOMS.len() as u64;
                (
                    prefixed_number("Meeting Room ", number, 1),
                    prefixed_number("MR", number, 1),
                )
            }
        };
        SessionLocation {
            id: make_id(self.seed, ns::LOCATION, index),
            code,
            name,
        }
    }

    /// The rooms sessions are held in: `max(4, ceil(sessions / 24))`, so no room hosts two
    /// sessions in one slot.
    pub fn session_locations(&self) -> Vec<SessionLocation> {
        (0..self.location_count)
            .map(|index| self.location(index))
            .collect()
    }

    pub fn session_categories(&self) -> Vec<SessionCategory> {
        SESSION_CATEGORIES
            .iter()
            .enumerate()
            .map(|(index, &(name, _, description))| SessionCategory {
                id: self.session_category_ids[index].clone(),
                name: name.to_owned(),
                description: Some(description.to_owned()),
            })
            .collect()
    }

    pub fn speaker_categories(&self) -> Vec<SpeakerCategory> {
        SPEAKER_CATEGORIES
            .iter()
            .enumerate()
            .map(|(index, &(name, active))| SpeakerCategory {
                id: self.speaker_category_ids[index].clone(),
                name: Some(name.to_owned()),
                active: Some(active),
            })
            .collect()
    }

    /// Speaker indexes of a session: none for receptions and for some others, one for keynotes,
    /// three for panels, one or two otherwise.
    fn session_speaker_indexes(&self, session: usize) -> Vec<u64> {
        let Some(plan) = self.sessions.get(session) else {
            return Vec::new();
        };
        let roll = draw(self.seed, session as u64, field::SPEAKER);
        let count = match plan.category {
            NETWORKING => 0,
            KEYNOTE => 1,
            PANEL => 3,
            _ if roll % 100 < 15 => 0,
            _ => 1 + (roll >> 8) % 2,
        };
        let stride = self.speaker_count / 3 + 1;
        (0..count)
            .map(|slot| (session as u64 + slot * stride) % self.speaker_count)
            .collect()
    }

    fn speaker_category(&self, speaker: u64) -> usize {
        let mut rolls = Rolls::new(draw(self.seed, speaker, field::SPEAKER + 1));
        rolls.weighted(SPEAKER_CATEGORY_MIX)
    }

    fn speaker_category_ref(&self, speaker: u64) -> IdName {
        let category = self.speaker_category(speaker);
        IdName {
            id: self.speaker_category_ids[category].clone(),
            name: Some(SPEAKER_CATEGORIES[category].0.into()),
        }
    }

    /// The speakers of a session (`GET /sessions/{id}/speakers`).
    pub fn session_speakers(&self, session_index: usize) -> Vec<SessionSpeaker> {
        let Some(plan) = self.sessions.get(session_index) else {
            return Vec::new();
        };
        self.session_speaker_indexes(session_index)
            .into_iter()
            .enumerate()
            .map(|(order, speaker)| SessionSpeaker {
                id: make_id(self.seed, ns::SPEAKER, speaker),
                session: IdRef {
                    id: plan.id.clone(),
                },
                category: Some(self.speaker_category_ref(speaker)),
                order: Some(order as u32 + 1),
            })
            .collect()
    }

    /// The sessions a speaker presents (`GET /speakers/{id}/sessions`); scans the sessions.
    pub fn speaker_sessions(&self, speaker_index: usize) -> Vec<SpeakerSession> {
        let speaker = speaker_index as u64;
        let speaker_id = make_id(self.seed, ns::SPEAKER, speaker);
        (0..self.sessions.len())
            .filter(|&session| self.session_speaker_indexes(session).contains(&speaker))
            .map(|session| SpeakerSession {
                id: self.sessions[session].id.clone(),
                speaker: IdRef {
                    id: speaker_id.clone(),
                },
                category: Some(self.speaker_category_ref(speaker)),
            })
            .collect()
    }

    /// The event's speakers: about three for every five sessions (8 to 1,200).
    pub fn speakers(&self) -> Vec<Speaker> {
        (0..self.speaker_count as usize)
            .filter_map(|index| self.speaker(index))
            .collect()
    }

    /// The speaker at `index` (`None` past [`speaker_count`](Self::speaker_count)).
    pub fn speaker(&self, index: usize) -> Option<Speaker> {
        let speaker = index as u64;
        if speaker >= self.speaker_count {
            return None;
        }
        let mut rolls = Rolls::new(draw(self.seed, speaker, field::SPEAKER + 2));
        let (first, _) = FIRST_NAMES[rolls.index(FIRST_NAMES.len())];
        let last = LAST_NAMES[rolls.index(LAST_NAMES.len())];
        let (company, domain) = rolls.pick(COMPANIES);
        let title = rolls.pick(TITLES);
        let id = make_id(self.seed, ns::SPEAKER, speaker);
        let mut email = String::with_capacity(48);
        push_email_part(&mut email, first);
        email.push('.');
        push_email_part(&mut email, last);
        email.push('@');
        email.push_str(domain);
        let mut code = String::with_capacity(24);
        if let Some(initial) = first.chars().next() {
            push_email_part(&mut code, &initial.to_string());
        }
        push_email_part(&mut code, last);
        code.truncate(20);
        push_padded(&mut code, speaker + 1, 1);
        let category = self.speaker_category(speaker);
        let created = between(
            self.timeline.event_created,
            self.timeline.latest,
            rolls.unit() * 0.6,
        );
        let last_modified = between(created, self.timeline.latest, rolls.unit());
        let audit_user = self.planner(0).2;
        Some(Speaker {
            event: IdRef {
                id: self.event_id.clone(),
            },
            first_name: first.to_owned(),
            last_name: last.to_owned(),
            code: Some(code),
            email: Some(email),
            prefix: rolls.chance(25).then(|| "Dr.".to_owned()),
            designation: rolls.chance(20).then(|| rolls.pick(DESIGNATIONS).into()),
            company: Some(company.to_owned()),
            title: Some(title.to_owned()),
            category: Some(IdName {
                id: self.speaker_category_ids[category].clone(),
                name: Some(SPEAKER_CATEGORIES[category].0.into()),
            }),
            links: Some(ContactLinks {
                profile_picture: Some(Link::new(format!(
                    "https://images.cvent-sandbox.example/speakers/{id}.jpg"
                ))),
                linked_in_url: rolls.chance(50).then(|| {
                    let mut url = String::from("https://www.linkedin.com/in/");
                    push_email_part(&mut url, first);
                    url.push('-');
                    push_email_part(&mut url, last);
                    Link::new(url)
                }),
                ..ContactLinks::default()
            }),
            visibility: Some(rolls.chance(90)),
            biography: Some(format!(
                "{first} {last} is {title} at {company}. {}",
                rolls.pick(SPEAKER_BIO_TAILS)
            )),
            internal_note: rolls
                .chance(10)
                .then(|| "Needs a lapel microphone.".to_owned()),
            featured: Some(category == 0),
            order: Some(saturate(speaker + 1).min(32_767)),
            contact: Some(IdRef {
                id: make_id(self.seed, ns::SPEAKER_CONTACT, speaker),
            }),
            created: format_timestamp(created),
            created_by: Some(audit_user.into()),
            last_modified: format_timestamp(last_modified),
            last_modified_by: Some(audit_user.into()),
            id,
        })
    }

    // ---- registration types, sponsors, exhibitors ---------------------------------------------

    pub fn registration_types(&self) -> Vec<RegistrationType> {
        REGISTRATION_TYPES
            .iter()
            .enumerate()
            .map(|(index, row)| RegistrationType {
                id: self.registration_type_ids[index].clone(),
                name: Some(row.name.to_owned()),
                code: Some(row.code.to_owned()),
                description: Some(row.description.to_owned()),
                // Speakers are registered by planners, not on the website.
                open_for_registration: row.code != "SPK",
                event: Some(IdRef {
                    id: self.event_id.clone(),
                }),
            })
            .collect()
    }

    /// The event's admission items, the full conference pass first.
    pub fn admission_items(&self) -> Vec<Lookup> {
        ADMISSION_ITEMS
            .iter()
            .zip(&self.admission_item_ids)
            .map(|((code, name), id)| Lookup {
                id: id.clone(),
                code: Some((*code).into()),
                name: Some((*name).into()),
            })
            .collect()
    }

    /// What a person registering on the event's website gets: the general registration type,
    /// with its path and admission item.
    pub fn website_registration(&self) -> Registration {
        let row = &REGISTRATION_TYPES[0];
        let lookup = |id: &String, (code, name): (&'static str, &'static str)| Lookup {
            id: id.clone(),
            code: Some(code.into()),
            name: Some(name.into()),
        };
        Registration {
            registration_type: lookup(&self.registration_type_ids[0], (row.code, row.name)),
            registration_path: lookup(
                &self.registration_path_ids[row.path],
                REGISTRATION_PATHS[row.path],
            ),
            admission_item: lookup(
                &self.admission_item_ids[row.admission_item],
                ADMISSION_ITEMS[row.admission_item],
            ),
        }
    }

    fn setup_times(&self, index: u64, namespace: u64) -> (String, String) {
        let mut rolls = Rolls::new(draw(self.seed, index, field::MISC ^ (namespace << 16)));
        let created = between(
            self.timeline.event_created,
            self.timeline.launch,
            rolls.unit(),
        );
        let modified = between(created, self.timeline.latest, rolls.unit() * 0.5);
        (format_timestamp(created), format_timestamp(modified))
    }

    /// Platinum (rank 0) down to Media Partner.
    pub fn sponsorship_levels(&self) -> Vec<SponsorshipLevel> {
        let audit_user = self.planner(0).2;
        SPONSORSHIP_LEVELS
            .iter()
            .enumerate()
            .map(|(rank, name)| {
                let (created, modified) = self.setup_times(rank as u64, ns::SPONSORSHIP_LEVEL);
                SponsorshipLevel {
                    id: make_id(self.seed, ns::SPONSORSHIP_LEVEL, rank as u64),
                    event: IdRef {
                        id: self.event_id.clone(),
                    },
                    name: (*name).to_owned(),
                    rank: Some(rank as u32),
                    created: Some(created),
                    created_by: Some(audit_user.to_owned()),
                    last_modified: Some(modified),
                    last_modified_by: Some(audit_user.to_owned()),
                }
            })
            .collect()
    }

    /// Exhibitors (12 to 55, one per tenth of the sessions); the first 18 sponsor at the levels of
    /// [`sponsorship_levels`](Self::sponsorship_levels); the last one is deleted.
    pub fn exhibitors(&self) -> Vec<Exhibitor> {
        let count = (self.sessions.len() / 10).clamp(12, COMPANIES.len());
        let offset = (self.seed % COMPANIES.len() as u64) as usize;
        let audit_user = self.planner(0).2;
        let city = &CITIES[VENUES[self.venue].city];
        (0..count)
            .map(|index| {
                let mut rolls = Rolls::new(draw(self.seed, index as u64, field::MISC + 1));
                let (name, domain) = COMPANIES[(offset + index) % COMPANIES.len()];
                let mut level = None;
                let mut before = 0;
                for (rank, &sponsors) in SPONSORS_PER_LEVEL.iter().enumerate() {
                    if index < before + sponsors {
                        level = Some(rank);
                        break;
                    }
                    before += sponsors;
                }
                let id = make_id(self.seed, ns::EXHIBITOR, index as u64);
                let (created, modified) = self.setup_times(index as u64, ns::EXHIBITOR);
                Exhibitor {
                    event: IdRef {
                        id: self.event_id.clone(),
                    },
                    name: name.to_owned(),
                    description: Some(format!(
                        "{name} showcases its latest products and services."
                    )),
                    code: Some(prefixed_number("EXH", index as u64 + 1, 3)),
                    source_id: None,
                    location: Some(prefixed_number("Booth ", 100 + index as u64, 1)),
                    address: Some(ExhibitorAddress {
                        address1: Some(
                            prefixed_number("", 1 + rolls.below(999), 1)
                                + " "
                                + rolls.pick(STREETS),
                        ),
                        address2: None,
                        city: Some(city.name.to_owned()),
                        region: Some(city.region.to_owned()),
                        postal_code: Some(postal_code(city, &mut rolls)),
                        country: Some(city.country.to_owned()),
                    }),
                    email: Some(format!("info@{domain}")),
                    mobile_phone: None,
                    work_phone: Some(phone(city, &mut rolls)),
                    website: Some(format!("https://www.{domain}")),
                    contact_links: Some(ExhibitorLinks {
                        linked_in_url: Some(Link::new(format!(
                            "https://www.linkedin.com/company/{}",
                            domain.trim_end_matches(".example")
                        ))),
                        ..ExhibitorLinks::default()
                    }),
                    deleted: index + 1 == count,
                    hidden: rolls.chance(5),
                    event_sponsor: Some(matches!(level, Some(0 | 1))),
                    featured: Some(level == Some(0)),
                    sponsorship_level: level.map(|rank| IdRef {
                        id: make_id(self.seed, ns::SPONSORSHIP_LEVEL, rank as u64),
                    }),
                    profile_logo_url: Some(format!(
                        "https://images.cvent-sandbox.example/exhibitors/{id}/logo.png"
                    )),
                    banner_url: None,
                    created: Some(created),
                    created_by: Some(audit_user.to_owned()),
                    last_modified: Some(modified),
                    last_modified_by: Some(audit_user.to_owned()),
                    id,
                }
            })
            .collect()
    }

    // ---- custom fields and questions ----------------------------------------------------------

    /// Contact, session and event custom fields (one inactive).
    pub fn custom_fields(&self) -> Vec<CustomField> {
        let audit_user = self.planner(0).2;
        CUSTOM_FIELDS
            .iter()
            .enumerate()
            .map(|(index, row)| {
                let (created, modified) = self.setup_times(index as u64, ns::CUSTOM_FIELD);
                CustomField {
                    id: self.custom_field_ids[index].clone(),
                    category: row.category.to_owned(),
                    name: row.name.to_owned(),
                    code: row.code.to_owned(),
                    required: Some(row.required),
                    field_type: row.field_type.to_owned(),
                    details: (!row.choices.is_empty()).then(|| CustomFieldDetails {
                        choices: row
                            .choices
                            .iter()
                            .enumerate()
                            .map(|(choice, text)| Choice {
                                id: Some(make_id(
                                    self.seed,
                                    ns::CHOICE,
                                    (index * 64 + choice) as u64,
                                )),
                                text: (*text).to_owned(),
                            })
                            .collect(),
                        display_type: Some(
                            if row.value_type == "MultiChoice" {
                                "Vertical"
                            } else {
                                "Dropdown"
                            }
                            .to_owned(),
                        ),
                        ..CustomFieldDetails::default()
                    }),
                    order: Some(index as u32 + 1),
                    help_text: None,
                    display_in_data_tag: Some("Only when answered".to_owned()),
                    consent_field: Some(false),
                    active: Some(row.active),
                    created: Some(created),
                    created_by: Some(audit_user.to_owned()),
                    last_modified: Some(modified),
                    last_modified_by: Some(audit_user.to_owned()),
                }
            })
            .collect()
    }

    /// The registration questions attendees' `answers` refer to.
    pub fn event_questions(&self) -> Vec<EventQuestion> {
        let audit_user = self.planner(0).2;
        QUESTIONS
            .iter()
            .enumerate()
            .map(|(index, row)| {
                let (created, modified) = self.setup_times(index as u64, ns::QUESTION);
                EventQuestion {
                    id: self.question_ids[index].clone(),
                    event: IdRef {
                        id: self.event_id.clone(),
                    },
                    text: row.text.to_owned(),
                    code: Some(row.code.to_owned()),
                    tag: Some("All Admission Items".to_owned()),
                    session: None,
                    admission_item: None,
                    question_type: row.question_type.to_owned(),
                    internal_note: None,
                    created: Some(created),
                    created_by: Some(audit_user.to_owned()),
                    last_modified: Some(modified),
                    last_modified_by: Some(audit_user.to_owned()),
                }
            })
            .collect()
    }

    // ---- travel -------------------------------------------------------------------------------

    /// Registered attendees who may still travel: not cancelled, not refused.
    fn travelling(&self, index: u64) -> Option<Core> {
        if index >= self.attendee_count {
            return None;
        }
        let core = self.core(index);
        matches!(
            core.status,
            attendee_status::ACCEPTED
                | attendee_status::PENDING_APPROVAL
                | attendee_status::WAITLISTED
        )
        .then_some(core)
    }

    /// The air requests filed under an attendee, as Cvent lists them: the attendee's own and
    /// their guest's (`requesterType: Guest`, `requesterId` the guest's attendee id). A guest
    /// has no item of its own; an item with no request is not listed.
    pub fn air_request(&self, attendee_index: u64) -> Option<AirRequest> {
        if attendee_index >= self.attendee_count || self.primary_of(attendee_index).is_some() {
            return None;
        }
        let details: Vec<AirRequestDetail> = self
            .filed_with(attendee_index)
            .filter_map(|index| self.air_detail(index))
            .collect();
        (!details.is_empty()).then(|| AirRequest {
            attendee: IdRef {
                id: self.attendee_id(attendee_index),
            },
            air_request_details: details,
        })
    }

    /// The hotel requests filed under an attendee: the attendee's own and their guest's.
    pub fn hotel_request(&self, attendee_index: u64) -> Option<HotelRequest> {
        if attendee_index >= self.attendee_count || self.primary_of(attendee_index).is_some() {
            return None;
        }
        let details: Vec<HotelRequestDetail> = self
            .filed_with(attendee_index)
            .filter_map(|index| self.hotel_detail(index))
            .collect();
        (!details.is_empty()).then(|| HotelRequest {
            attendee: IdRef {
                id: self.attendee_id(attendee_index),
            },
            hotel_request_details: details,
        })
    }

    /// A primary and, when the next attendee is their guest, that guest: whose travel requests
    /// Cvent files under the primary.
    pub fn filed_with(&self, primary: u64) -> impl Iterator<Item = u64> + '_ {
        let guest = primary + 1;
        std::iter::once(primary).chain(
            (guest < self.attendee_count && self.primary_of(guest).is_some()).then_some(guest),
        )
    }

    /// Who requested a traveller's request: a guest by their attendee id, anyone else by their
    /// contact id.
    fn requester(&self, index: u64, guest: bool) -> (String, &'static str) {
        if guest {
            (self.attendee_id(index), "Guest")
        } else {
            (self.contact_id(index), "Contact")
        }
    }

    /// One traveller's air request, for about 15% of non-cancelled attendees (18% of those who
    /// registered and are not cancelled, and none for those who live in the venue's city).
    fn air_detail(&self, attendee_index: u64) -> Option<AirRequestDetail> {
        let core = self.travelling(attendee_index)?;
        let mut rolls = Rolls::new(draw(self.seed, attendee_index, field::AIR));
        if !rolls.chance(18) {
            return None;
        }
        let identity = self.identity(attendee_index, core.guest);
        let venue = &VENUES[self.venue];
        let home = &CITIES[identity.city];
        let destination = CITIES[venue.city].airport;
        if home.airport == destination {
            return None;
        }
        let first = FIRST_NAMES[identity.first].0;
        let last = LAST_NAMES[identity.last];
        let registered_at = core.registered_at.unwrap_or(core.created);
        let created = between(registered_at, self.timeline.latest, rolls.unit() * 0.3);
        let modified = between(created, self.timeline.latest, rolls.unit());
        let depart = self.timeline.first_day - if rolls.chance(70) { DAY } else { 0 };
        let back = self.timeline.first_day
            + (EVENT_DAYS - 1) * DAY
            + if rolls.chance(60) { DAY } else { 0 };
        let age = (self.timeline.first_day / DAY - identity.birth_day) / 365;
        let status = rolls.weighted(AIR_STATUS_MIX);
        let audit_user = self.planner(0).2;
        let us = home.country_code == "US";
        let (requester_id, requester_type) = self.requester(attendee_index, core.guest);
        Some(AirRequestDetail {
            air_request_id: make_id(self.seed, ns::AIR, attendee_index),
            requester_id: Some(requester_id),
            requester_type: Some(requester_type.to_owned()),
            requester_first_name: Some(first.to_owned()),
            requester_middle_name: None,
            requester_last_name: Some(last.to_owned()),
            requester_suffix: None,
            full_name: Some(format!("{first} {last}")),
            redress_number: None,
            known_traveler_number: (us && rolls.chance(30)).then(|| {
                let mut number = String::with_capacity(9);
                push_padded(&mut number, rolls.below(1_000_000_000), 9);
                number
            }),
            outgoing_leg: Some(Leg {
                origin: Some(home.airport.to_owned()),
                destination: Some(destination.to_owned()),
                date: Some(format_travel_date(depart)),
                time: Some(rolls.pick(PARTS_OF_DAY).to_owned()),
            }),
            incoming_leg: Some(Leg {
                origin: Some(destination.to_owned()),
                destination: Some(home.airport.to_owned()),
                date: Some(format_travel_date(back)),
                time: Some(rolls.pick(PARTS_OF_DAY).to_owned()),
            }),
            seat_type: Some(rolls.weighted(SEAT_TYPES).to_owned()),
            ticket_type: Some(rolls.weighted(TICKET_TYPES).to_owned()),
            food_preference: rolls
                .chance(15)
                .then(|| rolls.pick(FOOD_PREFERENCES).to_owned()),
            special_request: None,
            airline_preference: if rolls.chance(40) {
                vec![AirlinePreference {
                    airline_name: Some(rolls.pick(AIRLINES).to_owned()),
                    rewards_code: Some(code_from(rolls.next(), 8)),
                }]
            } else {
                Vec::new()
            },
            age_category: Some(if age >= 65 { "Senior" } else { "Adult" }.to_owned()),
            status: Some(status.to_owned()),
            date_of_birth: Some(format_date(identity.birth_day * DAY)),
            gender: Some(identity.gender.to_owned()),
            planner_memo: None,
            air_request_answers: Vec::new(),
            created: Some(format_timestamp(created)),
            created_by: Some(audit_user.to_owned()),
            last_modified: Some(format_timestamp(modified)),
            last_modified_by: Some(audit_user.to_owned()),
        })
    }

    /// One traveller's hotel request, for about 25% of non-cancelled attendees (30% of those who
    /// registered and are not cancelled).
    fn hotel_detail(&self, attendee_index: u64) -> Option<HotelRequestDetail> {
        let core = self.travelling(attendee_index)?;
        let mut rolls = Rolls::new(draw(self.seed, attendee_index, field::HOTEL));
        if !rolls.chance(30) {
            return None;
        }
        let identity = self.identity(attendee_index, core.guest);
        let venue = &VENUES[self.venue];
        let city = &CITIES[venue.city];
        let (hotel_name, hotel_code, hotel_address) = rolls.pick(&venue.hotels);
        let (room_name, room_code, base_rate) = rolls.pick(HOTEL_ROOMS);
        let checkin = self.timeline.first_day - if rolls.chance(70) { DAY } else { 0 };
        let checkout = self.timeline.first_day + EVENT_DAYS * DAY;
        let nights = ((checkout - checkin) / DAY) as usize;
        let status = rolls.weighted(HOTEL_STATUS_MIX);
        let rates: Vec<HotelRoomRate> = (0..nights)
            .map(|night| HotelRoomRate {
                room_night: Some(format_travel_date(checkin + night as i64 * DAY)),
                room_rate: Some(base_rate),
            })
            .collect();
        let registered_at = core.registered_at.unwrap_or(core.created);
        let created = between(registered_at, self.timeline.latest, rolls.unit() * 0.3);
        let modified = between(created, self.timeline.latest, rolls.unit());
        let audit_user = self.planner(0).2;
        let (requester_id, requester_type) = self.requester(attendee_index, core.guest);
        Some(HotelRequestDetail {
            hotel_request_id: make_id(self.seed, ns::HOTEL, attendee_index),
            requester_id: Some(requester_id),
            requester_type: Some(requester_type.to_owned()),
            requester_first_name: Some(FIRST_NAMES[identity.first].0.to_owned()),
            requester_last_name: Some(LAST_NAMES[identity.last].to_owned()),
            hotel_name: Some(hotel_name.to_owned()),
            hotel_code: Some(hotel_code.to_owned()),
            room_name: Some(room_name.to_owned()),
            room_code: Some(room_code.to_owned()),
            quantity: Some(1),
            special_request: rolls
                .chance(10)
                .then(|| "High floor, away from the elevator.".to_owned()),
            rewards_code: None,
            checkin_date: Some(format_travel_date(checkin)),
            checkout_date: Some(format_travel_date(checkout)),
            smoking: Some(false),
            cancelled: Some(status == travel_status::CANCELLED),
            status: Some(status.to_owned()),
            confirmation_number: (status == travel_status::RESERVED)
                .then(|| code_from(rolls.next(), 10)),
            is_ada_accessible: Some(rolls.chance(3)),
            share_room: Some(rolls.chance(10)),
            roommate_leader: None,
            gender: Some(identity.gender.to_owned()),
            total_amount: Some(base_rate * nights as f64),
            currency_code: Some(venue.currency.to_owned()),
            planner_memo: None,
            hotel_address: Some(Address {
                address1: Some(hotel_address.to_owned()),
                city: Some(city.name.into()),
                region: Some(city.region.into()),
                region_code: Some(city.region_code.into()),
                postal_code: Some(venue.postal_code.to_owned()),
                country: Some(city.country.into()),
                country_code: Some(city.country_code.into()),
                ..Address::default()
            }),
            hotel_room_rates: rates,
            hotel_request_answers: Vec::new(),
            created: Some(format_timestamp(created)),
            created_by: Some(audit_user.to_owned()),
            last_modified: Some(format_timestamp(modified)),
            last_modified_by: Some(audit_user.to_owned()),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

/// The random-looking half of an id: it doubles as the check that an id was generated here.
fn id_high(seed: u64, namespace: u64, index: u64) -> u64 {
    (draw(seed, index, field::CHECK ^ (namespace << 20)) & !0xF000) | 0x4000
}

/// A v4 UUID carrying `index` (scrambled under the namespace's key) in its low half.
fn make_id(seed: u64, namespace: u64, index: u64) -> String {
    let key = namespace_keys(seed, namespace).0;
    uuid_string(indexed_uuid(index, key, id_high(seed, namespace, index)))
}

/// The index [`make_id`] put in `id`, if this seed and namespace made it (any letter case).
fn decode_id(seed: u64, namespace: u64, id: &str) -> Option<u64> {
    let (high, low) = uuid::Uuid::try_parse(id).ok()?.as_u64_pair();
    let index = unscramble62(low, namespace_keys(seed, namespace).0);
    // The high half is 60 random bits: a foreign id passes this by chance once in 2^60.
    (low >> 62 == 2 && high == id_high(seed, namespace, index)).then_some(index)
}

fn saturate(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

fn prefixed_number(prefix: &str, number: u64, width: usize) -> String {
    let mut out = String::with_capacity(prefix.len() + width.max(6));
    out.push_str(prefix);
    push_padded(&mut out, number, width);
    out
}

/// Lower-case ASCII letters and digits of a name, accents folded (`Müller` → `muller`).
fn push_email_part(out: &mut String, name: &str) {
    for character in name.chars() {
        let folded = match character {
            'a'..='z' | '0'..='9' => character,
            'A'..='Z' => character.to_ascii_lowercase(),
            'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => 'a',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ò' | 'ó' | 'ô' | 'ö' | 'õ' | 'ø' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            _ => continue,
        };
        out.push(folded);
    }
}

fn phone(city: &City, rolls: &mut Rolls) -> String {
    let mut number = String::with_capacity(city.phone_prefix.len() + 4);
    number.push_str(city.phone_prefix);
    push_padded(&mut number, rolls.below(10_000), 4);
    number
}

fn postal_code(city: &City, rolls: &mut Rolls) -> String {
    let mut code = String::with_capacity(city.postal_stem.len() + 2);
    code.push_str(city.postal_stem);
    if city.postal_digits > 0 {
        push_padded(
            &mut code,
            rolls.below(10u64.pow(city.postal_digits)),
            city.postal_digits as usize,
        );
    }
    code
}

/// An 18-character Salesforce-style record id with the given key prefix.
fn salesforce_id(prefix: &str, roll: u64) -> String {
    let mut id = String::with_capacity(18);
    id.push_str(prefix);
    id.push_str(&code_from(roll, 15));
    id
}

/// `count` distinct choices, in the table's order.
fn pick_several(rolls: &mut Rolls, choices: &[&'static str], count: usize) -> Vec<Text> {
    let count = count.min(choices.len());
    let start = rolls.index(choices.len());
    let mut picked: Vec<usize> = (0..count)
        .map(|offset| (start + offset * 2) % choices.len())
        .collect();
    picked.sort_unstable();
    picked.dedup();
    picked
        .into_iter()
        .map(|choice| Text::Borrowed(choices[choice]))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;
    use crate::cvent_rest::wire;

    fn json<T: serde::Serialize>(value: &T) -> String {
        serde_json::to_string(value).unwrap_or_default()
    }

    fn is_timestamp(text: &str) -> bool {
        let bytes = text.as_bytes();
        bytes.len() == 24
            && bytes.iter().enumerate().all(|(at, &byte)| match at {
                4 | 7 => byte == b'-',
                10 => byte == b'T',
                13 | 16 => byte == b':',
                19 => byte == b'.',
                23 => byte == b'Z',
                _ => byte.is_ascii_digit(),
            })
    }

    #[test]
    fn timestamps_are_formatted_like_chrono() {
        let mut rolls = Rolls::new(42);
        for _ in 0..10_000 {
            // 1970 to about 2100.
            let ms = rolls.below(4_102_444_800_000) as i64;
            let expected = chrono::DateTime::from_timestamp_millis(ms)
                .map(|at| at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
                .unwrap_or_default();
            assert_eq!(format_timestamp(ms), expected);
            assert_eq!(format_date(ms), expected[..10]);
        }
        assert_eq!(days_from_civil(2026, 1, 5), 20_458);
        assert_eq!(civil_from_days(20_458), (2026, 1, 5));
    }

    #[test]
    fn same_seed_gives_identical_data_and_other_seeds_differ() {
        let one = Generator::new(11, 3_000);
        let same = Generator::new(11, 3_000);
        let other = Generator::new(12, 3_000);
        assert_eq!(json(&one.events()), json(&same.events()));
        assert_eq!(json(&one.sessions()), json(&same.sessions()));
        assert_eq!(json(&one.speakers()), json(&same.speakers()));
        assert_eq!(json(&one.exhibitors()), json(&same.exhibitors()));
        assert_eq!(json(&one.custom_fields()), json(&same.custom_fields()));
        assert_eq!(json(&one.event_questions()), json(&same.event_questions()));
        for index in (0..3_000).step_by(7) {
            assert_eq!(json(&one.attendee(index)), json(&same.attendee(index)));
            assert_eq!(
                json(&one.enrollments(index)),
                json(&same.enrollments(index))
            );
            assert_eq!(
                json(&one.air_request(index)),
                json(&same.air_request(index))
            );
            assert_eq!(
                json(&one.hotel_request(index)),
                json(&same.hotel_request(index))
            );
            assert_ne!(json(&one.attendee(index)), json(&other.attendee(index)));
        }
        assert_ne!(one.event().code, other.event().code);
        assert_ne!(one.event().id, other.event().id);
        assert_ne!(json(&one.sessions()), json(&other.sessions()));
        assert_eq!(
            one.latest_generated_timestamp(),
            same.latest_generated_timestamp()
        );
        // A record does not depend on which others were generated first.
        let late = Generator::new(11, 3_000).attendee(2_999);
        assert_eq!(json(&late), json(&one.attendee(2_999)));
    }

    #[test]
    fn event_code_and_confirmation_numbers_use_cvent_spelling() {
        let generator = Generator::new(5, 100);
        let code = generator.event().code;
        assert_eq!(code.len(), 11);
        assert!(
            code.bytes().all(|byte| CODE_ALPHABET.contains(&byte)),
            "{code}"
        );
        assert_ne!(code, generator.events()[1].code);
        let confirmation = generator
            .attendee(3)
            .confirmation_number
            .unwrap_or_default();
        assert_eq!(confirmation.len(), 11);
        assert!(
            confirmation
                .bytes()
                .all(|byte| CODE_ALPHABET.contains(&byte))
        );
    }

    #[test]
    fn ids_map_back_to_their_index() {
        let generator = Generator::new(99, 1_000_000);
        for index in [0, 1, 2, 17, 999, 123_456, 999_999, 1_000_000, (1 << 40) + 3] {
            let attendee_id = generator.attendee_id(index);
            assert_eq!(generator.attendee_position(&attendee_id), Some(index));
            assert_eq!(
                generator.attendee_position(&attendee_id.to_ascii_uppercase()),
                Some(index)
            );
            assert_eq!(
                generator.contact_position(&generator.contact_id(index)),
                Some(index)
            );
            // Ids of one kind are not ids of another.
            assert_eq!(generator.contact_position(&attendee_id), None);
            assert_eq!(
                generator.attendee_position(&generator.contact_id(index)),
                None
            );
            assert_eq!(Generator::new(98, 10).attendee_position(&attendee_id), None);
            let parsed = uuid::Uuid::parse_str(&attendee_id).map(|id| id.get_version_num());
            assert_eq!(parsed.ok(), Some(4));
        }
        for (slot, enrollment) in generator.enrollments(4_242).iter().enumerate() {
            assert_eq!(
                generator.enrollment_position(&enrollment.id),
                Some((4_242, slot))
            );
        }
        for (index, session) in generator.sessions().iter().enumerate() {
            assert_eq!(generator.session_position(&session.id), Some(index));
        }
        for (index, speaker) in generator.speakers().iter().enumerate().step_by(50) {
            assert_eq!(generator.speaker_position(&speaker.id), Some(index));
        }
        for junk in [
            "",
            "not-a-uuid",
            "00000000-0000-4000-8000-000000000000",
            &uuid::Uuid::new_v4().to_string(),
        ] {
            assert_eq!(generator.attendee_position(junk), None, "{junk}");
        }
    }

    #[test]
    fn guests_follow_a_registered_primary_with_a_lower_index() {
        let generator = Generator::new(3, 10_000);
        let attendees: Vec<Attendee> = (0..10_000).map(|index| generator.attendee(index)).collect();
        let mut guests = 0;
        for (index, attendee) in attendees.iter().enumerate() {
            if !attendee.guest {
                assert_eq!(attendee.primary_id, None);
                continue;
            }
            guests += 1;
            let primary_id = attendee.primary_id.as_deref().unwrap_or_default();
            let primary = generator
                .attendee_position(primary_id)
                .map(|position| &attendees[position as usize]);
            let Some(primary) = primary else {
                panic!("guest {index} points at {primary_id}, which is no attendee");
            };
            assert!(generator.attendee_position(primary_id) < Some(index as u64));
            assert!(!primary.guest, "guest {index}'s primary is a guest");
            assert_eq!(
                attendee.status, primary.status,
                "guests share their primary's status"
            );
            assert!(primary.registered_at.is_some());
            assert_ne!(
                attendee.contact.id, primary.contact.id,
                "a guest has a contact of its own"
            );
            assert_ne!(attendee.contact.email, primary.contact.email);
            assert_eq!(attendee.invited_by.as_deref(), Some("Guest-Invited"));
            assert_eq!(
                attendee
                    .registration_type
                    .as_ref()
                    .and_then(|t| t.code.as_deref()),
                Some("GST")
            );
        }
        assert!((800..=1_200).contains(&guests), "{guests} guests in 10,000");
    }

    #[test]
    fn ids_emails_and_confirmation_numbers_are_unique() {
        let generator = Generator::new(8, 10_000);
        let mut seen: HashSet<String> = HashSet::new();
        let mut emails = HashSet::new();
        let mut confirmations = HashSet::new();
        let mut enrollment_ids = HashSet::new();
        for index in 0..10_000 {
            let attendee = generator.attendee(index);
            assert!(
                seen.insert(attendee.id.clone()),
                "attendee id {}",
                attendee.id
            );
            assert!(
                seen.insert(attendee.contact.id.clone()),
                "contact id {}",
                attendee.contact.id
            );
            let email = attendee.contact.email.clone().unwrap_or_default();
            assert!(
                email.len() >= 6 && email.len() <= 80 && email.contains('@'),
                "{email}"
            );
            assert!(email.is_ascii(), "{email}");
            assert!(emails.insert(email.to_ascii_lowercase()), "email {email}");
            assert!(confirmations.insert(attendee.confirmation_number.clone()));
            for enrollment in generator.enrollments(index) {
                assert!(uuid::Uuid::parse_str(&enrollment.id).is_ok());
                assert!(enrollment_ids.insert(enrollment.id));
            }
        }
        let sessions = generator.sessions();
        let session_ids: HashSet<&str> = sessions.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(session_ids.len(), sessions.len());
    }

    /// Counts generated Registered enrollments per session id.
    fn registered_per_session(generator: &Generator) -> HashMap<String, u64> {
        let mut counts = HashMap::new();
        for index in 0..generator.attendee_count() {
            for enrollment in generator.enrollments(index) {
                if enrollment.status == enrollment_status::REGISTERED && !enrollment.deleted {
                    *counts.entry(enrollment.session.id).or_default() += 1;
                }
            }
        }
        counts
    }

    fn assert_capacity_holds(generator: &Generator) -> (usize, u64) {
        let counts = registered_per_session(generator);
        let mut full_sessions = 0;
        let mut waitlisted = 0;
        for (index, session) in generator.sessions().iter().enumerate() {
            let registered = counts.get(&session.id).copied().unwrap_or(0);
            assert_eq!(
                generator.registered_count(index),
                registered,
                "session {index}"
            );
            if let Some(capacity) = session.capacity {
                assert!(
                    registered <= u64::from(capacity),
                    "N={}: session {index} has {registered} registered for {capacity} seats",
                    generator.attendee_count()
                );
            } else {
                assert_eq!(session.capacity_unlimited, Some(true));
            }
            if generator.sessions[index].full {
                assert_eq!(
                    session.capacity,
                    Some(saturate(registered)),
                    "a full session is exactly full"
                );
                assert_eq!(session.enable_waitlist, Some(true));
                full_sessions += 1;
            }
            if session.included_session == Some(true) || session.status == session_status::CANCELLED
            {
                assert_eq!(
                    registered, 0,
                    "nobody enrolls in included or cancelled sessions"
                );
            }
        }
        for index in 0..generator.attendee_count() {
            for enrollment in generator.enrollments(index) {
                if enrollment.status == enrollment_status::WAITLISTED {
                    waitlisted += 1;
                    let position = generator
                        .session_position(&enrollment.session.id)
                        .unwrap_or(usize::MAX);
                    assert!(
                        generator
                            .sessions
                            .get(position)
                            .is_some_and(|plan| plan.full)
                    );
                }
            }
        }
        (full_sessions, waitlisted)
    }

    #[test]
    fn registered_enrollments_never_exceed_capacity_for_1_to_500_attendees() {
        for attendees in 1..=500 {
            assert_capacity_holds(&Generator::new(attendees * 7 + 1, attendees));
        }
    }

    #[test]
    fn registered_enrollments_never_exceed_capacity_at_100_000_attendees() {
        let generator = Generator::new(2_026, 100_000);
        assert_eq!(generator.session_count(), 2_000);
        let (full_sessions, waitlisted) = assert_capacity_holds(&generator);
        assert!(full_sessions >= 20, "{full_sessions} full sessions");
        assert!(waitlisted > 0, "full sessions have waitlisted extras");
    }

    #[test]
    fn timestamps_are_ordered_and_bounded() {
        let generator = Generator::new(21, 5_000);
        let latest = generator.latest_generated_timestamp();
        let floor = generator.event_created_timestamp();
        assert!(latest.starts_with("2026-01-"), "{latest}");
        let within = |text: &str, what: &str| {
            assert!(is_timestamp(text), "{what}: {text}");
            assert!(
                text >= floor.as_str() && text <= latest.as_str(),
                "{what}: {text} outside {floor}..{latest}"
            );
        };
        for index in 0..5_000 {
            let attendee = generator.attendee(index);
            within(&attendee.created, "created");
            within(&attendee.last_modified, "lastModified");
            let attendee_modified = attendee.attendee_last_modified.clone().unwrap_or_default();
            within(&attendee_modified, "attendeeLastModified");
            assert!(
                attendee.created <= attendee_modified
                    && attendee_modified <= attendee.last_modified
            );
            if let Some(registered_at) = &attendee.registered_at {
                within(registered_at, "registeredAt");
                let modified = attendee
                    .registration_last_modified
                    .clone()
                    .unwrap_or_default();
                assert!(attendee.created <= *registered_at && *registered_at <= modified);
                assert!(modified <= attendee_modified);
            }
            if let Some(cancelled_at) = &attendee.registration_cancelled_at {
                assert_eq!(attendee.status, attendee_status::CANCELLED);
                assert!(
                    attendee
                        .registered_at
                        .as_ref()
                        .is_some_and(|at| at <= cancelled_at)
                );
                assert!(*cancelled_at <= attendee_modified);
            }
            let contact_created = attendee.contact.created.clone().unwrap_or_default();
            let contact_modified = attendee.contact.last_modified.clone().unwrap_or_default();
            within(&contact_created, "contact.created");
            assert!(contact_created <= attendee.created && contact_created <= contact_modified);
            assert!(contact_modified <= attendee.last_modified);
            for enrollment in generator.enrollments(index) {
                within(&enrollment.created, "enrollment.created");
                within(&enrollment.last_modified, "enrollment.lastModified");
                assert!(enrollment.created <= enrollment.last_modified);
                assert!(
                    attendee
                        .registered_at
                        .as_ref()
                        .is_some_and(|at| *at <= enrollment.created)
                );
            }
            if let Some(request) = generator.air_request(index) {
                for detail in &request.air_request_details {
                    let created = detail.created.clone().unwrap_or_default();
                    let modified = detail.last_modified.clone().unwrap_or_default();
                    within(&created, "air created");
                    assert!(created <= modified && modified <= latest);
                }
            }
        }
        let event = generator.event();
        within(&event.created, "event.created");
        within(&event.last_modified, "event.lastModified");
        assert!(
            event.start > latest,
            "the event is upcoming at the snapshot"
        );
        assert!(event.start < event.end);
        for session in generator.sessions() {
            within(&session.created, "session.created");
            within(&session.last_modified, "session.lastModified");
            assert!(
                is_timestamp(&session.start) && session.start.ends_with(":00:00.000Z"),
                "{}",
                session.start
            );
            assert!(
                session.start >= event.start
                    && session.end <= event.end
                    && session.start < session.end
            );
        }
        for speaker in generator.speakers() {
            within(&speaker.last_modified, "speaker.lastModified");
        }
        for question in generator.event_questions() {
            within(
                question.last_modified.as_deref().unwrap_or_default(),
                "question.lastModified",
            );
        }
        for field in generator.custom_fields() {
            within(
                field.last_modified.as_deref().unwrap_or_default(),
                "customField.lastModified",
            );
        }
        let previous = &generator.events()[1];
        assert!(previous.last_modified <= latest && previous.end < event.start);
    }

    #[test]
    fn enum_values_are_spelled_as_the_spec_says() {
        let generator = Generator::new(4, 4_000);
        let check = |allowed: &[&str], value: Option<&str>, what: &str| {
            if let Some(value) = value {
                assert!(allowed.contains(&value), "{what}: {value:?}");
            }
        };
        let mut statuses = HashSet::new();
        for index in 0..4_000 {
            let attendee = generator.attendee(index);
            statuses.insert(attendee.status.clone());
            check(wire::ATTENDEE_STATUSES, Some(&attendee.status), "status");
            check(
                wire::INVITED_BY,
                attendee.invited_by.as_deref(),
                "invitedBy",
            );
            check(
                wire::RESPONSE_METHODS,
                attendee.response_method.as_deref(),
                "responseMethod",
            );
            check(
                wire::ATTENDEE_VISIBILITIES,
                attendee.visibility.as_deref(),
                "visibility",
            );
            check(wire::GENDERS, attendee.contact.gender.as_deref(), "gender");
            check(
                wire::ADDRESS_TYPES,
                attendee.contact.primary_address_type.as_deref(),
                "primaryAddressType",
            );
            for reference in &attendee.external_references {
                check(
                    wire::EXTERNAL_REFERENCE_TYPES,
                    reference.reference_type.as_deref(),
                    "externalReference.type",
                );
            }
            for field in &attendee.contact.custom_fields {
                check(
                    wire::CUSTOM_FIELD_VALUE_TYPES,
                    field.value_type.as_deref(),
                    "customFields.type",
                );
            }
            for enrollment in generator.enrollments(index) {
                check(
                    wire::ENROLLMENT_STATUSES,
                    Some(&enrollment.status),
                    "enrollment status",
                );
            }
            if let Some(request) = generator.air_request(index) {
                for detail in &request.air_request_details {
                    check(
                        wire::TRAVEL_REQUEST_STATUSES,
                        detail.status.as_deref(),
                        "air status",
                    );
                    check(
                        wire::AIR_REQUESTER_TYPES,
                        detail.requester_type.as_deref(),
                        "requesterType",
                    );
                    check(wire::SEAT_TYPES, detail.seat_type.as_deref(), "seatType");
                    check(
                        wire::TICKET_TYPES,
                        detail.ticket_type.as_deref(),
                        "ticketType",
                    );
                    check(
                        wire::AGE_CATEGORIES,
                        detail.age_category.as_deref(),
                        "ageCategory",
                    );
                    check(wire::GENDERS, detail.gender.as_deref(), "air gender");
                }
            }
            if let Some(request) = generator.hotel_request(index) {
                for detail in &request.hotel_request_details {
                    check(
                        wire::TRAVEL_REQUEST_STATUSES,
                        detail.status.as_deref(),
                        "hotel status",
                    );
                    check(
                        wire::HOTEL_REQUESTER_TYPES,
                        detail.requester_type.as_deref(),
                        "requesterType",
                    );
                }
            }
        }
        assert_eq!(
            statuses.len(),
            wire::ATTENDEE_STATUSES.len(),
            "every status occurs: {statuses:?}"
        );
        for session in generator.sessions() {
            check(
                wire::SESSION_STATUSES,
                Some(&session.status),
                "session status",
            );
        }
        for event in generator.events() {
            check(wire::EVENT_FORMATS, Some(&event.format), "format");
            check(wire::EVENT_TYPES, Some(&event.event_type), "type");
            check(
                wire::EVENT_STATUSES,
                event.status.as_deref(),
                "event status",
            );
            check(
                wire::EVENT_LIFECYCLE_STATUSES,
                event.event_status.as_deref(),
                "eventStatus",
            );
            check(
                wire::REGISTRATION_SECURITY_LEVELS,
                event.registration_security_level.as_deref(),
                "security",
            );
        }
        for field in generator.custom_fields() {
            check(
                wire::CUSTOM_FIELD_CATEGORIES,
                Some(&field.category),
                "category",
            );
            check(
                wire::CUSTOM_FIELD_TYPES,
                Some(&field.field_type),
                "custom field type",
            );
            check(
                wire::DISPLAY_IN_DATA_TAG,
                field.display_in_data_tag.as_deref(),
                "displayInDataTag",
            );
        }
        for question in generator.event_questions() {
            check(
                wire::QUESTION_TYPES,
                Some(&question.question_type),
                "question type",
            );
        }
    }

    #[test]
    fn answers_custom_fields_and_lookups_use_defined_ids() {
        let generator = Generator::new(6, 2_000);
        let questions: HashSet<String> = generator
            .event_questions()
            .into_iter()
            .map(|q| q.id)
            .collect();
        let contact_fields: HashSet<String> = generator
            .custom_fields()
            .into_iter()
            .filter(|field| field.category == "Contact" && field.active == Some(true))
            .map(|field| field.id)
            .collect();
        let registration_types: HashMap<String, String> = generator
            .registration_types()
            .into_iter()
            .map(|t| (t.id, t.code.unwrap_or_default()))
            .collect();
        let event_id = generator.event().id;
        let mut answered = 0;
        for index in 0..2_000 {
            let attendee = generator.attendee(index);
            assert_eq!(attendee.event.id, event_id);
            for answer in &attendee.answers {
                assert!(questions.contains(&answer.question.id));
                assert!(!answer.value.is_empty());
                answered += 1;
            }
            for field in &attendee.contact.custom_fields {
                assert!(contact_fields.contains(&field.id), "{}", field.id);
            }
            if let Some(registration_type) = &attendee.registration_type {
                let code = registration_types.get(&registration_type.id);
                assert_eq!(code.map(String::as_str), registration_type.code.as_deref());
            } else {
                assert!(
                    attendee.registered_at.is_none(),
                    "registrants have a registration type"
                );
            }
        }
        assert!(answered > 5_000, "{answered}");
        let session_fields: HashSet<String> = generator
            .custom_fields()
            .into_iter()
            .filter(|f| f.category == "Session")
            .map(|f| f.id)
            .collect();
        let locations: HashSet<String> = generator
            .session_locations()
            .into_iter()
            .map(|l| l.id)
            .collect();
        for session in generator.sessions() {
            assert!(
                session
                    .custom_fields
                    .iter()
                    .all(|field| session_fields.contains(&field.id))
            );
            assert!(
                session
                    .location
                    .as_ref()
                    .is_some_and(|location| locations.contains(&location.id))
            );
            assert!(
                session
                    .registration_types
                    .iter()
                    .all(|id| registration_types.contains_key(id))
            );
        }
    }

    #[test]
    fn status_mix_and_travel_ratios_are_realistic() {
        let attendees = 20_000;
        let generator = Generator::new(31, attendees);
        let mut statuses: HashMap<String, u64> = HashMap::new();
        let (mut not_cancelled, mut air, mut hotel, mut enrollments) = (0, 0, 0, 0);
        for index in 0..attendees {
            let attendee = generator.attendee(index);
            if attendee.status != attendee_status::CANCELLED {
                not_cancelled += 1;
            }
            *statuses.entry(attendee.status).or_default() += 1;
            air += generator
                .air_request(index)
                .map_or(0, |r| r.air_request_details.len() as u64);
            hotel += generator
                .hotel_request(index)
                .map_or(0, |r| r.hotel_request_details.len() as u64);
            enrollments += generator.enrollments(index).len() as u64;
        }
        let share = |status: &str| statuses.get(status).copied().unwrap_or(0) * 100 / attendees;
        assert!(
            (60..=80).contains(&share(attendee_status::ACCEPTED)),
            "{statuses:?}"
        );
        assert!(share(attendee_status::CANCELLED) >= 3, "{statuses:?}");
        let air_share = air * 100 / not_cancelled;
        let hotel_share = hotel * 100 / not_cancelled;
        assert!((10..=20).contains(&air_share), "air {air_share}%");
        assert!((20..=30).contains(&hotel_share), "hotel {hotel_share}%");
        assert!(
            (1..=3).contains(&(enrollments / attendees)),
            "{enrollments} enrollments"
        );
    }

    #[test]
    fn sensitive_fields_are_filled_and_can_be_stripped() {
        let generator = Generator::new(13, 500);
        let mut with_passport = 0;
        let mut with_npi = 0;
        for index in 0..500 {
            let mut attendee = generator.attendee(index);
            let contact = &attendee.contact;
            assert!(contact.date_of_birth.is_some());
            assert!(
                contact.social_security_number.is_some()
                    != contact.national_identification_number.is_some()
            );
            assert!(
                contact
                    .social_security_number
                    .as_ref()
                    .is_none_or(|ssn| ssn.len() == 11 && ssn.starts_with('9'))
            );
            assert!(contact.npi.as_ref().is_none_or(|npi| npi.len() == 10));
            with_passport += usize::from(contact.passport.is_some());
            with_npi += usize::from(contact.npi.is_some());
            attendee.contact.strip_sensitive();
            let text = json(&attendee);
            for field in wire::SENSITIVE_CONTACT_FIELDS {
                assert!(
                    !text.contains(&format!("\"{field}\"")),
                    "{field} left after stripping"
                );
            }
            if let Some(mut request) = generator.air_request(index) {
                assert!(
                    request
                        .air_request_details
                        .iter()
                        .all(|d| d.date_of_birth.is_some())
                );
                request.strip_sensitive();
                assert!(!json(&request).contains("dateOfBirth"));
            }
        }
        assert!(
            with_passport > 250 && with_npi > 50,
            "{with_passport} passports, {with_npi} NPIs"
        );
    }

    #[test]
    fn sessions_fill_the_event_days_without_double_booking_rooms() {
        for attendees in [0, 1_000, 80_000] {
            let generator = Generator::new(17, attendees);
            let sessions = generator.sessions();
            let expected = (attendees / 40).clamp(20, 2_000) as usize;
            assert_eq!(sessions.len(), expected);
            let mut booked = HashSet::new();
            let mut statuses = HashMap::new();
            for session in &sessions {
                let room = session
                    .location
                    .as_ref()
                    .map(|l| l.id.clone())
                    .unwrap_or_default();
                assert!(
                    booked.insert((room, session.start.clone())),
                    "room booked twice"
                );
                *statuses.entry(session.status.as_str()).or_insert(0) += 1;
            }
            assert!(
                statuses.get(session_status::ACTIVE).copied().unwrap_or(0) > sessions.len() / 2
            );
            if attendees == 80_000 {
                assert!(
                    statuses.contains_key(session_status::CANCELLED)
                        && statuses.contains_key(session_status::CLOSED)
                );
                assert!(sessions.iter().any(
                    |s| s.capacity_unlimited == Some(true) && s.included_session == Some(false)
                ));
                assert!(sessions.iter().any(|s| s.enable_waitlist == Some(true)));
            }
        }
    }

    #[test]
    fn speakers_sponsors_and_exhibitors_hang_together() {
        let generator = Generator::new(23, 10_000);
        let speakers = generator.speakers();
        assert_eq!(speakers.len(), 150);
        let categories: HashSet<String> = generator
            .speaker_categories()
            .into_iter()
            .map(|c| c.id)
            .collect();
        for speaker in &speakers {
            assert!(
                speaker
                    .category
                    .as_ref()
                    .is_some_and(|c| categories.contains(&c.id))
            );
            let href = speaker
                .links
                .as_ref()
                .and_then(|l| l.profile_picture.as_ref())
                .map(|l| l.href.as_str());
            assert!(href.is_some_and(|href| href.starts_with("https://")));
            assert!(
                speaker.first_name.chars().count() <= 30 && speaker.last_name.chars().count() <= 50
            );
        }
        let mut presented = 0;
        for session in 0..generator.session_count() {
            for link in generator.session_speakers(session) {
                let speaker = generator.speaker_position(&link.id).unwrap_or(usize::MAX);
                assert!(speaker < speakers.len());
                assert!(
                    generator
                        .speaker_sessions(speaker)
                        .iter()
                        .any(|s| s.id == link.session.id)
                );
                presented += 1;
            }
        }
        assert!(presented > generator.session_count() / 2);
        let levels: HashSet<String> = generator
            .sponsorship_levels()
            .into_iter()
            .map(|l| l.id)
            .collect();
        let exhibitors = generator.exhibitors();
        assert!(exhibitors.len() >= 12);
        for exhibitor in &exhibitors {
            if let Some(level) = &exhibitor.sponsorship_level {
                assert!(levels.contains(&level.id));
            }
        }
        assert!(
            exhibitors
                .iter()
                .filter(|e| e.sponsorship_level.is_some())
                .count()
                >= 10
        );
    }

    /// Cvent files a guest's travel requests under their primary, naming the guest as the
    /// requester; guests have no listing item of their own.
    #[test]
    fn guests_travel_requests_are_filed_under_their_primary() {
        let generator = Generator::new(7, 3_000);
        let (mut guest_air, mut guest_hotel) = (0, 0);
        for index in 0..3_000 {
            let attendee = generator.attendee(index);
            if attendee.guest {
                assert!(generator.air_request(index).is_none(), "guest {index}");
                assert!(generator.hotel_request(index).is_none(), "guest {index}");
                continue;
            }
            let air = generator.air_request(index);
            let hotel = generator.hotel_request(index);
            for request in air.iter() {
                assert_eq!(request.attendee.id, attendee.id);
                for detail in &request.air_request_details {
                    if detail.requester_type.as_deref() == Some("Guest") {
                        let guest = generator.attendee(index + 1);
                        assert!(guest.guest);
                        assert_eq!(detail.requester_id.as_deref(), Some(guest.id.as_str()));
                        assert_eq!(guest.primary_id.as_deref(), Some(attendee.id.as_str()));
                        guest_air += 1;
                    } else {
                        assert_eq!(
                            detail.requester_id.as_deref(),
                            Some(attendee.contact.id.as_str())
                        );
                    }
                }
            }
            for request in hotel.iter() {
                for detail in &request.hotel_request_details {
                    guest_hotel += usize::from(detail.requester_type.as_deref() == Some("Guest"));
                }
            }
        }
        assert!(
            guest_air >= 5 && guest_hotel >= 5,
            "{guest_air} {guest_hotel}"
        );
    }

    #[test]
    fn records_beyond_the_count_are_templates_without_enrollments_or_travel() {
        let generator = Generator::new(1, 10);
        assert!(generator.enrollments(10).is_empty());
        assert!(generator.air_request(10).is_none() && generator.hotel_request(10).is_none());
        let template = generator.attendee(10);
        assert_eq!(generator.attendee_position(&template.id), Some(10));
    }
}

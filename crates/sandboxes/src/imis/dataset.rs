//! The site's data: parties, activity types, activities, events and saved queries, as plain
//! records (`wire` writes them in iMIS's shapes, `read` reads them from what clients send).

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::generate;
use super::query::SavedQuery;
use super::wire;

/// A person, as the sandbox keeps it; `wire::person` writes it as `PersonData`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Party {
    /// The iMIS id, a numeric string such as `"10001"`.
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    /// The first is the primary one.
    pub emails: Vec<String>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub is_member: bool,
    /// The `CustomerTypeCode`: `M`, `STU`, `LIFE` for members, `NM`, `STAFF` for the others.
    pub member_type: String,
}

impl Party {
    pub fn full_name(&self) -> String {
        match (self.first_name.is_empty(), self.last_name.is_empty()) {
            (false, false) => format!("{} {}", self.first_name, self.last_name),
            (false, true) => self.first_name.clone(),
            _ => self.last_name.clone(),
        }
    }

    pub fn primary_email(&self) -> &str {
        self.emails.first().map(String::as_str).unwrap_or("")
    }
}

/// A party as `POST /_sandbox/parties` takes it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewParty {
    pub id: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub emails: Vec<String>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub is_member: bool,
    pub member_type: Option<String>,
}

/// A `LegacyActivityType`: the codes an activity's `ACTIVITY_TYPE` may take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityType {
    pub code: String,
    pub description: String,
}

impl ActivityType {
    pub fn defaults() -> Vec<ActivityType> {
        [
            ("EVENT", "Event registration"),
            ("MEETING", "Meeting"),
            ("CALL", "Phone call"),
        ]
        .into_iter()
        .map(|(code, description)| ActivityType {
            code: code.into(),
            description: description.into(),
        })
        .collect()
    }
}

/// What an Activity property holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyKind {
    /// `SEQN`, the sandbox's to give.
    Sequence,
    Text {
        max_chars: Option<usize>,
    },
    Decimal,
    Date,
}

/// One property of the `Activity` business object: a column of iMIS's legacy Activity table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActivityProperty {
    pub name: &'static str,
    pub kind: PropertyKind,
}

const fn property(name: &'static str, kind: PropertyKind) -> ActivityProperty {
    ActivityProperty { name, kind }
}

const TEXT: PropertyKind = PropertyKind::Text { max_chars: None };
const USER_TEXT: PropertyKind = PropertyKind::Text {
    max_chars: Some(255),
};

/// The properties `POST /api/Activity` accepts, in the order answers list them.
pub const ACTIVITY_PROPERTIES: [ActivityProperty; 23] = [
    property("SEQN", PropertyKind::Sequence),
    property("PartyId", TEXT),
    property("ACTIVITY_TYPE", TEXT),
    property("PRODUCT_CODE", TEXT),
    property("DESCRIPTION", TEXT),
    property("TRANSACTION_DATE", PropertyKind::Date),
    property("EFFECTIVE_DATE", PropertyKind::Date),
    property("THRU_DATE", PropertyKind::Date),
    property("UNITS", PropertyKind::Decimal),
    property("AMOUNT", PropertyKind::Decimal),
    property("CATEGORY", TEXT),
    property("SOURCE_CODE", TEXT),
    property("NOTE", TEXT),
    property("OTHER_CODE", TEXT),
    property("UF_1", USER_TEXT),
    property("UF_2", USER_TEXT),
    property("UF_3", USER_TEXT),
    property("UF_4", PropertyKind::Decimal),
    property("UF_5", PropertyKind::Decimal),
    property("UF_6", PropertyKind::Date),
    property("UF_7", PropertyKind::Date),
    property("CO_ID", TEXT),
    property("MEMBER_TYPE", TEXT),
];

/// Positions in [`ACTIVITY_PROPERTIES`] of the properties the sandbox reads itself.
pub const SEQN: usize = 0;
pub const PARTY_ID: usize = 1;
pub const ACTIVITY_TYPE: usize = 2;

/// The position of an Activity property named `name` without regard to case; `ID` is
/// `PartyId`, as the legacy column is named.
pub fn activity_property(name: &str) -> Option<usize> {
    if name.eq_ignore_ascii_case("ID") {
        return Some(PARTY_ID);
    }
    ACTIVITY_PROPERTIES
        .iter()
        .position(|property| property.name.eq_ignore_ascii_case(name))
}

/// A property's value, as read and checked.
#[derive(Debug, Clone, PartialEq)]
pub enum PropertyValue {
    Text(String),
    Decimal(f64),
    Date(NaiveDateTime),
}

impl PropertyValue {
    /// The value as text, as filters compare it.
    pub fn text(&self) -> String {
        match self {
            PropertyValue::Text(text) => text.clone(),
            PropertyValue::Decimal(number) => number.to_string(),
            PropertyValue::Date(at) => wire::date(at),
        }
    }

    /// The value as the control API shows it.
    fn plain_json(&self) -> Value {
        match self {
            PropertyValue::Text(text) => json!(text),
            PropertyValue::Decimal(number) => json!(number),
            PropertyValue::Date(at) => json!(wire::date(at)),
        }
    }
}

/// An activity: its `SEQN` and the properties set, by position in [`ACTIVITY_PROPERTIES`]
/// (`PartyId` and `ACTIVITY_TYPE` always among them).
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub seqn: u64,
    pub values: BTreeMap<usize, PropertyValue>,
}

impl Activity {
    pub fn party_id(&self) -> String {
        self.values
            .get(&PARTY_ID)
            .map(PropertyValue::text)
            .unwrap_or_default()
    }

    /// The text of the property at `position`; `SEQN` is the sequence number.
    pub fn value_text(&self, position: usize) -> Option<String> {
        if position == SEQN {
            return Some(self.seqn.to_string());
        }
        self.values.get(&position).map(PropertyValue::text)
    }

    /// `{"seqn", "properties": {NAME: value}}`, as `GET /_sandbox/activities` lists it.
    pub fn control_json(&self) -> Value {
        let properties: serde_json::Map<String, Value> = self
            .values
            .iter()
            .filter_map(|(position, value)| {
                ACTIVITY_PROPERTIES
                    .get(*position)
                    .map(|property| (property.name.to_string(), value.plain_json()))
            })
            .collect();
        json!({"seqn": self.seqn, "properties": properties})
    }
}

/// An event's function (a session or a registration option).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventFunction {
    pub code: String,
    pub name: String,
    pub description: String,
    #[serde(serialize_with = "serialize_date")]
    pub start: Option<NaiveDateTime>,
    #[serde(serialize_with = "serialize_date")]
    pub end: Option<NaiveDateTime>,
    pub status: String,
}

/// An event, as the sandbox keeps it; `wire::event` writes it as `EventData`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub event_id: String,
    pub event_code: String,
    pub name: String,
    pub description: String,
    #[serde(serialize_with = "serialize_date")]
    pub start: Option<NaiveDateTime>,
    #[serde(serialize_with = "serialize_date")]
    pub end: Option<NaiveDateTime>,
    pub status: String,
    pub functions: Vec<EventFunction>,
}

impl Event {
    /// `EVENTID/FUNCTIONCODE`, the id iMIS gives a function.
    pub fn function_id(&self, function: &EventFunction) -> String {
        format!("{}/{}", self.event_id, function.code)
    }

    /// The event as `GET /_sandbox/events` lists it: the fields above, each function with its
    /// `function_id` too.
    pub fn control_json(&self) -> Value {
        let mut shown = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Some(functions) = shown["functions"].as_array_mut() {
            for (function, record) in functions.iter_mut().zip(&self.functions) {
                function["function_id"] = json!(self.function_id(record));
            }
        }
        shown
    }
}

fn serialize_date<S: serde::Serializer>(
    at: &Option<NaiveDateTime>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => serializer.serialize_str(&wire::date(at)),
        None => serializer.serialize_none(),
    }
}

/// Ids compare as iMIS lists them: numeric ids by value (shorter first), others after, case
/// aside.
fn party_key(id: &str) -> (usize, String) {
    (id.len(), id.to_ascii_uppercase())
}

/// Why the dataset refused a change.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    Invalid(String),
    Conflict(String),
    NotFound(String),
}

/// Everything the site holds.
#[derive(Debug, Clone)]
pub struct Dataset {
    parties: BTreeMap<(usize, String), Party>,
    activity_types: Vec<ActivityType>,
    activities: BTreeMap<u64, Activity>,
    next_seqn: u64,
    /// By upper-case event id.
    events: BTreeMap<String, Event>,
    queries: Vec<SavedQuery>,
}

impl Dataset {
    /// The seeded state: `parties` generated people, the default activity types and queries.
    pub fn seeded(seed: u64, parties: u64) -> Dataset {
        Dataset {
            parties: generate::parties(seed, parties)
                .into_iter()
                .map(|party| (party_key(&party.id), party))
                .collect(),
            activity_types: ActivityType::defaults(),
            activities: BTreeMap::new(),
            next_seqn: 1,
            events: BTreeMap::new(),
            queries: SavedQuery::defaults(),
        }
    }

    /// Every party, in id order.
    pub fn parties(&self) -> impl Iterator<Item = &Party> {
        self.parties.values()
    }

    pub fn party(&self, id: &str) -> Option<&Party> {
        self.parties.get(&party_key(id.trim()))
    }

    pub fn party_count(&self) -> usize {
        self.parties.len()
    }

    /// The next free numeric id: one past the largest.
    fn next_party_id(&self) -> String {
        let largest = self
            .parties
            .values()
            .filter_map(|party| party.id.parse::<u64>().ok())
            .max()
            .unwrap_or(generate::FIRST_PARTY_ID - 1);
        (largest + 1).to_string()
    }

    /// Adds a party; an email another party has is allowed.
    pub fn add_party(&mut self, new: NewParty) -> Result<Party, Refusal> {
        let id = match new.id {
            Some(id) => {
                let id = id.trim().to_string();
                let valid = !id.is_empty()
                    && id.len() <= 10
                    && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
                if !valid {
                    return Err(Refusal::Invalid(format!(
                        "the id '{id}' must be 1 to 10 letters, digits or '-'"
                    )));
                }
                if self.party(&id).is_some() {
                    return Err(Refusal::Conflict(format!("party {id} exists")));
                }
                id
            }
            None => self.next_party_id(),
        };
        let emails: Vec<String> = new
            .emails
            .iter()
            .map(|email| email.trim().to_string())
            .filter(|email| !email.is_empty())
            .collect();
        let member_type = new
            .member_type
            .map(|code| code.trim().to_string())
            .filter(|code| !code.is_empty())
            .unwrap_or_else(|| if new.is_member { "M" } else { "NM" }.to_string());
        let party = Party {
            id,
            first_name: new.first_name.trim().to_string(),
            last_name: new.last_name.trim().to_string(),
            emails,
            company: new.company.filter(|c| !c.trim().is_empty()),
            title: new.title.filter(|t| !t.trim().is_empty()),
            is_member: new.is_member,
            member_type,
        };
        self.parties.insert(party_key(&party.id), party.clone());
        Ok(party)
    }

    pub fn activity_types(&self) -> &[ActivityType] {
        &self.activity_types
    }

    pub fn activity_type(&self, code: &str) -> Option<&ActivityType> {
        self.activity_types
            .iter()
            .find(|kind| kind.code.eq_ignore_ascii_case(code.trim()))
    }

    /// Replaces the activity types; codes must be given and distinct.
    pub fn set_activity_types(&mut self, kinds: Vec<ActivityType>) -> Result<(), Refusal> {
        let mut seen = std::collections::HashSet::new();
        for kind in &kinds {
            if kind.code.trim().is_empty() {
                return Err(Refusal::Invalid("every activity type needs a code".into()));
            }
            if !seen.insert(kind.code.trim().to_ascii_uppercase()) {
                return Err(Refusal::Invalid(format!(
                    "the code '{}' is given twice",
                    kind.code
                )));
            }
        }
        self.activity_types = kinds
            .into_iter()
            .map(|kind| ActivityType {
                code: kind.code.trim().to_string(),
                description: kind.description,
            })
            .collect();
        Ok(())
    }

    /// Every activity, by `SEQN`.
    pub fn activities(&self) -> impl Iterator<Item = &Activity> {
        self.activities.values()
    }

    pub fn activity(&self, seqn: u64) -> Option<&Activity> {
        self.activities.get(&seqn)
    }

    /// Stores a new activity under the next `SEQN`.
    pub fn insert_activity(&mut self, values: BTreeMap<usize, PropertyValue>) -> Activity {
        let activity = Activity {
            seqn: self.next_seqn,
            values,
        };
        self.next_seqn += 1;
        self.activities.insert(activity.seqn, activity.clone());
        activity
    }

    /// Replaces an activity's properties; `None` when there is no such activity.
    pub fn replace_activity(
        &mut self,
        seqn: u64,
        values: BTreeMap<usize, PropertyValue>,
    ) -> Option<Activity> {
        let activity = self.activities.get_mut(&seqn)?;
        activity.values = values;
        Some(activity.clone())
    }

    pub fn remove_activity(&mut self, seqn: u64) -> bool {
        self.activities.remove(&seqn).is_some()
    }

    /// Every event, by id.
    pub fn events(&self) -> impl Iterator<Item = &Event> {
        self.events.values()
    }

    pub fn event(&self, id: &str) -> Option<&Event> {
        self.events.get(&id.trim().to_ascii_uppercase())
    }

    pub fn insert_event(&mut self, event: Event) -> Result<(), Refusal> {
        let key = event.event_id.to_ascii_uppercase();
        if self.events.contains_key(&key) {
            return Err(Refusal::Conflict(format!(
                "Event '{}' already exists.",
                event.event_id
            )));
        }
        self.events.insert(key, event);
        Ok(())
    }

    pub fn replace_event(&mut self, event: Event) -> Result<(), Refusal> {
        let key = event.event_id.to_ascii_uppercase();
        match self.events.get_mut(&key) {
            Some(stored) => {
                *stored = event;
                Ok(())
            }
            None => Err(Refusal::NotFound(format!(
                "Event '{}' was not found.",
                event.event_id
            ))),
        }
    }

    pub fn remove_event(&mut self, id: &str) -> bool {
        self.events
            .remove(&id.trim().to_ascii_uppercase())
            .is_some()
    }

    pub fn queries(&self) -> &[SavedQuery] {
        &self.queries
    }

    /// The saved query named `name` without regard to case.
    pub fn query(&self, name: &str) -> Option<&SavedQuery> {
        self.queries
            .iter()
            .find(|query| query.name.eq_ignore_ascii_case(name.trim()))
    }

    /// Adds a saved query, or replaces the one of the same name.
    pub fn put_query(&mut self, mut query: SavedQuery) -> Result<(), Refusal> {
        query.check().map_err(Refusal::Invalid)?;
        query.name = query.name.trim().to_string();
        match self
            .queries
            .iter_mut()
            .find(|stored| stored.name.eq_ignore_ascii_case(&query.name))
        {
            Some(stored) => *stored = query,
            None => self.queries.push(query),
        }
        Ok(())
    }
}

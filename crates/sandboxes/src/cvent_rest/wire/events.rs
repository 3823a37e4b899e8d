//! Events: the event, its venues, planners, stakeholders and links.

use super::*;

/// `venue.json`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Venue {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

/// `planner.json2` (subset): an event's planner.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Planner {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    pub first_name: String,
    pub last_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_phone: Option<String>,
}

/// `stakeholder.json` (subset).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Stakeholder {
    pub first_name: String,
    pub last_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_phone: Option<String>,
}

/// `event-links.json`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct EventLinks {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invitation: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agenda: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration: Option<Link>,
}

/// `event`: `title`, `format`, `planners`, `timezone`, `languages` and `type` are required, and
/// Cvent's own SDK rejects an event without them.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Event {
    pub id: String,
    pub title: String,
    pub code: String,
    #[serde(rename = "virtual", skip_serializing_if = "Option::is_none")]
    pub is_virtual: Option<bool>,
    /// One of [`EVENT_FORMATS`].
    pub format: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub start: String,
    pub end: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close_after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive_after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launch_after: Option<String>,
    pub timezone: String,
    /// At most one (`maxItems: 1`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub venues: Vec<Venue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub show_venue_location: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_locale: Option<String>,
    pub languages: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// One of [`REGISTRATION_SECURITY_LEVELS`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_security_level: Option<String>,
    /// One of [`EVENT_STATUSES`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// One of [`EVENT_LIFECYCLE_STATUSES`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub planning_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_mode: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    /// Required, at most one (`maxItems: 1`).
    pub planners: Vec<Planner>,
    /// At most one (`maxItems: 1`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stakeholders: Vec<Stakeholder>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub custom_fields: Vec<CustomFieldValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<Lookup>,
    /// One of [`EVENT_TYPES`].
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(rename = "_links", skip_serializing_if = "Option::is_none")]
    pub links: Option<EventLinks>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meeting_request_id: Option<String>,
    pub created: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    pub last_modified: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<String>,
}

impl Filterable for Event {
    const FILTER_FIELDS: &'static [&'static str] = &[
        "id",
        "start",
        "end",
        "status",
        "eventStatus",
        "format",
        "title",
        "code",
        "description",
        "launchAfter",
        "created",
        "lastModified",
        "closeAfter",
        "archiveAfter",
        "capacity",
        "stakeholder.firstName",
        "stakeholder.lastName",
        "stakeholder.email",
        "stakeholder.company",
        "stakeholder.title",
        "stakeholder.workPhone",
        "note",
        "virtual",
        "planner.firstName",
        "planner.lastName",
        "planner.email",
        "venue.address.city",
        "venue.address.region",
        "venue.address.regionCode",
        "venue.address.country",
        "venue.address.countryCode",
        "customField.*",
    ];

    fn field(&self, path: &str) -> FieldValue<'_> {
        let venue_address = |pick: fn(&Address) -> &Option<Text>| {
            list_of(&self.venues, move |venue: &Venue| {
                venue
                    .address
                    .as_ref()
                    .map_or(FieldValue::Null, |address| opt_text(pick(address)))
            })
        };
        match path {
            "id" => text(&self.id),
            "start" => text(&self.start),
            "end" => text(&self.end),
            "status" => opt_text(&self.status),
            "eventStatus" => opt_text(&self.event_status),
            "format" => text(&self.format),
            "title" => text(&self.title),
            "code" => text(&self.code),
            "description" => opt_text(&self.description),
            "launchAfter" => opt_text(&self.launch_after),
            "created" => text(&self.created),
            "lastModified" => text(&self.last_modified),
            "closeAfter" => opt_text(&self.close_after),
            "archiveAfter" => opt_text(&self.archive_after),
            "capacity" => opt_number(self.capacity),
            "stakeholder.firstName" => list_of(&self.stakeholders, |s| text(&s.first_name)),
            "stakeholder.lastName" => list_of(&self.stakeholders, |s| text(&s.last_name)),
            "stakeholder.email" => list_of(&self.stakeholders, |s| opt_text(&s.email)),
            "stakeholder.company" => list_of(&self.stakeholders, |s| opt_text(&s.company)),
            "stakeholder.title" => list_of(&self.stakeholders, |s| opt_text(&s.title)),
            "stakeholder.workPhone" => list_of(&self.stakeholders, |s| opt_text(&s.work_phone)),
            "note" => opt_text(&self.note),
            "virtual" => opt_bool(self.is_virtual),
            "planner.firstName" => list_of(&self.planners, |p| text(&p.first_name)),
            "planner.lastName" => list_of(&self.planners, |p| text(&p.last_name)),
            "planner.email" => list_of(&self.planners, |p| opt_text(&p.email)),
            "venue.address.city" => venue_address(|a| &a.city),
            "venue.address.region" => venue_address(|a| &a.region),
            "venue.address.regionCode" => venue_address(|a| &a.region_code),
            "venue.address.country" => venue_address(|a| &a.country),
            "venue.address.countryCode" => venue_address(|a| &a.country_code),
            _ => match path.strip_prefix("customField.") {
                Some(id) => custom_field_values(&self.custom_fields, id),
                None => FieldValue::Null,
            },
        }
    }
}

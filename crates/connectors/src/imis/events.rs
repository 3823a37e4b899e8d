//! The event and its functions (sessions) in iMIS, created or brought up to date from the
//! registration platform's.

use chrono::NaiveDateTime;
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::Imis;
use super::envelope::{
    EVENT, EVENT_FUNCTION, EVENT_FUNCTIONS, collection, field, text_of, values, values_of,
};
use crate::ConnectorError;

/// An event as eventsync writes it to iMIS. Dates are iMIS local time, `YYYY-MM-DDTHH:MM:SS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImisEvent {
    /// `EventId`, at most 10 characters in iMIS; also written as its `EventCode`.
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub functions: Vec<ImisFunction>,
}

/// One function (session) of an event; its iMIS id is `EVENTID/CODE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImisFunction {
    /// `EventFunctionCode`, at most 20 characters in iMIS.
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
}

/// What [`Imis::save_event`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventSaved {
    Created,
    Updated,
    /// iMIS held the event as it is: nothing was written.
    Unchanged,
}

impl ImisEvent {
    /// An event from iMIS's `EventData`; `None` when it names no id.
    pub(crate) fn from_wire(event: &Value) -> Option<ImisEvent> {
        let id = text_of(event, "EventId").or_else(|| text_of(event, "EventCode"))?;
        let functions = values_of(event, "Functions")
            .iter()
            .filter_map(ImisFunction::from_wire)
            .collect();
        Some(ImisEvent {
            id,
            name: text_of(event, "Name").unwrap_or_default(),
            description: text_of(event, "Description"),
            start: text_of(event, "StartDateTime"),
            end: text_of(event, "EndDateTime"),
            functions,
        })
    }

    /// The `EventData` that creates the event.
    pub(crate) fn to_wire(&self) -> Value {
        let mut event = Map::new();
        put(&mut event, "$type", Some(json!(EVENT)));
        put(&mut event, "EventId", Some(json!(self.id)));
        put(&mut event, "EventCode", Some(json!(self.id)));
        self.write_own_members(&mut event);
        let functions = self
            .functions
            .iter()
            .map(|function| function.to_wire(&self.id, Map::new()))
            .collect();
        put(
            &mut event,
            "Functions",
            Some(collection(EVENT_FUNCTIONS, functions)),
        );
        Value::Object(event)
    }

    /// The `EventData` that replaces `existing`: what iMIS holds, with the members eventsync
    /// writes set from this event. Functions iMIS holds that this event does not list are kept,
    /// for they may hold registrations.
    pub(crate) fn merged_into(&self, existing: &Value) -> Value {
        let mut event = existing.as_object().cloned().unwrap_or_default();
        if !event.contains_key("$type") {
            put(&mut event, "$type", Some(json!(EVENT)));
        }
        put(&mut event, "EventId", Some(json!(self.id)));
        self.write_own_members(&mut event);

        let held = field(existing, "Functions").unwrap_or(&Value::Null);
        let mut functions: Vec<Value> = values(held).to_vec();
        for function in &self.functions {
            let position = functions.iter().position(|existing| {
                ImisFunction::from_wire(existing)
                    .is_some_and(|existing| existing.code.eq_ignore_ascii_case(&function.code))
            });
            match position {
                Some(position) => {
                    let members = functions[position].as_object().cloned().unwrap_or_default();
                    functions[position] = function.to_wire(&self.id, members);
                }
                None => functions.push(function.to_wire(&self.id, Map::new())),
            }
        }
        let functions_type = field(held, "$type")
            .and_then(Value::as_str)
            .unwrap_or(EVENT_FUNCTIONS);
        put(
            &mut event,
            "Functions",
            Some(collection(functions_type, functions)),
        );
        Value::Object(event)
    }

    fn write_own_members(&self, event: &mut Map<String, Value>) {
        put(event, "Name", Some(json!(self.name)));
        put(
            event,
            "Description",
            Some(json!(description(&self.description))),
        );
        put(event, "StartDateTime", date(&self.start));
        put(event, "EndDateTime", date(&self.end));
    }

    /// Whether iMIS's `held` says all that this event says: the same name, description and
    /// dates, and each function alike. Functions only iMIS holds do not count.
    pub(crate) fn is_held_by(&self, held: &ImisEvent) -> bool {
        self.name.trim() == held.name.trim()
            && same_text(&self.description, &held.description)
            && same_date(&self.start, &held.start)
            && same_date(&self.end, &held.end)
            && self.functions.iter().all(|function| {
                held.functions.iter().any(|held| {
                    held.code.eq_ignore_ascii_case(&function.code) && function.is_like(held)
                })
            })
    }
}

impl ImisFunction {
    fn from_wire(function: &Value) -> Option<ImisFunction> {
        let code = text_of(function, "EventFunctionCode").or_else(|| {
            let id = text_of(function, "EventFunctionId")?;
            let (_, code) = id.rsplit_once('/')?;
            (!code.is_empty()).then(|| code.to_string())
        })?;
        Some(ImisFunction {
            code,
            name: text_of(function, "Name").unwrap_or_default(),
            description: text_of(function, "Description"),
            start: text_of(function, "StartDateTime"),
            end: text_of(function, "EndDateTime"),
        })
    }

    /// `EventFunctionData` for the event `event_id`, over the members iMIS already holds.
    fn to_wire(&self, event_id: &str, mut members: Map<String, Value>) -> Value {
        if !members.contains_key("$type") {
            put(&mut members, "$type", Some(json!(EVENT_FUNCTION)));
        }
        let id = format!("{event_id}/{}", self.code);
        put(&mut members, "EventFunctionId", Some(json!(id)));
        put(&mut members, "EventFunctionCode", Some(json!(self.code)));
        put(&mut members, "Name", Some(json!(self.name)));
        put(
            &mut members,
            "Description",
            Some(json!(description(&self.description))),
        );
        put(&mut members, "StartDateTime", date(&self.start));
        put(&mut members, "EndDateTime", date(&self.end));
        Value::Object(members)
    }

    fn is_like(&self, held: &ImisFunction) -> bool {
        self.name.trim() == held.name.trim()
            && same_text(&self.description, &held.description)
            && same_date(&self.start, &held.start)
            && same_date(&self.end, &held.end)
    }
}

/// Sets member `name`, replacing it in whatever case iMIS spelt it; `None` removes it.
fn put(members: &mut Map<String, Value>, name: &str, value: Option<Value>) {
    members.retain(|key, _| !key.eq_ignore_ascii_case(name));
    if let Some(value) = value {
        members.insert(name.into(), value);
    }
}

/// A description as written: none is empty, which iMIS reads back as none.
fn description(description: &Option<String>) -> &str {
    description.as_deref().unwrap_or_default()
}

/// A date as written; none (or a blank one) leaves the member out.
fn date(date: &Option<String>) -> Option<Value> {
    let date = date.as_deref()?.trim();
    (!date.is_empty()).then(|| json!(date))
}

/// Texts alike once trimmed, absent and empty being the same (iMIS reads an empty text back
/// as none).
pub fn same_text(ours: &Option<String>, held: &Option<String>) -> bool {
    let ours = ours.as_deref().map(str::trim).unwrap_or_default();
    let held = held.as_deref().map(str::trim).unwrap_or_default();
    ours == held
}

/// Dates alike as moments of local time, however precisely written (`09:00` is `09:00:00.000`).
pub fn same_date(ours: &Option<String>, held: &Option<String>) -> bool {
    match (local_time(ours), local_time(held)) {
        (Some(ours), Some(held)) => ours == held,
        _ => same_text(ours, held),
    }
}

fn local_time(date: &Option<String>) -> Option<NaiveDateTime> {
    let date = date.as_deref()?.trim();
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(date, format).ok())
    .or_else(|| {
        chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .ok()
            .and_then(|day| day.and_hms_opt(0, 0, 0))
    })
}

impl Imis {
    /// The event `id`; `None` when iMIS has none.
    pub async fn event(&self, id: &str) -> Result<Option<ImisEvent>, ConnectorError> {
        let Some(held) = self.event_data(id).await? else {
            return Ok(None);
        };
        Ok(ImisEvent::from_wire(&held).or_else(|| {
            // An answer for the id asked, without the id repeated in it.
            let mut named = held.as_object()?.clone();
            named.insert("EventId".into(), json!(id));
            ImisEvent::from_wire(&Value::Object(named))
        }))
    }

    /// The `EventData` iMIS holds for `id`, as it sent it.
    async fn event_data(&self, id: &str) -> Result<Option<Value>, ConnectorError> {
        if id.trim().is_empty() {
            return Ok(None);
        }
        let answer = self
            .client
            .call(Method::GET, &["api", "Event", id], &[], None)
            .await?;
        if answer.is_not_found() {
            return Ok(None);
        }
        Ok(Some(answer.into_json()?))
    }

    /// Creates the event, or brings the one iMIS holds up to date; writes nothing when iMIS
    /// holds it as it is.
    pub async fn save_event(&self, event: &ImisEvent) -> Result<EventSaved, ConnectorError> {
        if event.id.trim().is_empty() {
            return Err(ConnectorError::Config(format!(
                "the event '{}' has no iMIS event id",
                event.name
            )));
        }
        let Some(held) = self.event_data(&event.id).await? else {
            let body = event.to_wire();
            self.client
                .call(Method::POST, &["api", "Event"], &[], Some(&body))
                .await?
                .into_json()?;
            return Ok(EventSaved::Created);
        };
        if ImisEvent::from_wire(&held).is_some_and(|held| event.is_held_by(&held)) {
            return Ok(EventSaved::Unchanged);
        }
        let body = event.merged_into(&held);
        self.client
            .call(Method::PUT, &["api", "Event", &event.id], &[], Some(&body))
            .await?
            .into_json()?;
        Ok(EventSaved::Updated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imis::envelope::typed_throughout;

    fn event() -> ImisEvent {
        ImisEvent {
            id: "ANNUAL26".into(),
            name: "Annual Conference 2026".into(),
            description: Some("Three days".into()),
            start: Some("2026-03-02T09:00:00".into()),
            end: Some("2026-03-04T17:00:00".into()),
            functions: vec![ImisFunction {
                code: "KEYNOTE".into(),
                name: "Opening keynote".into(),
                description: None,
                start: Some("2026-03-02T09:00:00".into()),
                end: Some("2026-03-02T10:00:00".into()),
            }],
        }
    }

    #[test]
    fn a_new_event_is_written_as_event_data() {
        let wire = event().to_wire();
        assert!(typed_throughout(&wire), "{wire:#}");
        assert_eq!(wire["$type"], EVENT);
        assert_eq!(wire["EventId"], "ANNUAL26");
        assert_eq!(wire["EventCode"], "ANNUAL26");
        assert_eq!(wire["StartDateTime"], "2026-03-02T09:00:00");
        let function = &wire["Functions"]["$values"][0];
        assert_eq!(function["$type"], EVENT_FUNCTION);
        assert_eq!(function["EventFunctionId"], "ANNUAL26/KEYNOTE");
        assert_eq!(function["EventFunctionCode"], "KEYNOTE");
        assert_eq!(function["Description"], "");
        // The empty description written for none reads as none again.
        assert_eq!(ImisEvent::from_wire(&wire), Some(event()));
    }

    #[test]
    fn an_event_is_held_whatever_the_spelling_of_its_dates() {
        let ours = event();
        let mut held = event();
        held.start = Some("2026-03-02T09:00:00.000".into());
        held.functions[0].code = "keynote".into();
        held.functions[0].end = Some("2026-03-02T10:00".into());
        held.functions[0].description = Some(String::new());
        held.functions.push(ImisFunction {
            code: "EXTRA".into(),
            name: "Added in iMIS".into(),
            description: None,
            start: None,
            end: None,
        });
        assert!(ours.is_held_by(&held));

        let mut renamed = event();
        renamed.functions[0].name = "Keynote".into();
        assert!(!renamed.is_held_by(&held));
        let mut moved = event();
        moved.end = Some("2026-03-05T17:00:00".into());
        assert!(!moved.is_held_by(&held));
        let mut more = event();
        more.functions.push(ImisFunction {
            code: "CLOSING".into(),
            name: "Closing".into(),
            description: None,
            start: None,
            end: None,
        });
        assert!(!more.is_held_by(&held));
    }

    #[test]
    fn an_update_keeps_what_eventsync_does_not_write() {
        let held = json!({
            "$type": EVENT,
            "EventId": "ANNUAL26",
            "EventCode": "ANNUAL26",
            "Name": "Old name",
            "Status": "A",
            "Location": {"$type": "Asi.Soa.Membership.DataContracts.AddressData, Asi.Contracts", "CityName": "Leeds"},
            "Functions": {"$type": "Held.FunctionCollection, Asi.Contracts", "$values": [
                {"$type": EVENT_FUNCTION, "EventFunctionId": "ANNUAL26/KEYNOTE", "EventFunctionCode": "KEYNOTE",
                 "Name": "Old keynote", "Status": "A", "StartDateTime": "2026-01-01T00:00:00"},
                {"$type": EVENT_FUNCTION, "EventFunctionId": "ANNUAL26/DINNER", "EventFunctionCode": "DINNER", "Name": "Dinner"}
            ]}
        });
        let mut ours = event();
        ours.functions[0].start = None;
        let merged = ours.merged_into(&held);
        assert!(typed_throughout(&merged), "{merged:#}");
        assert_eq!(merged["Status"], "A");
        assert_eq!(merged["Location"]["CityName"], "Leeds");
        assert_eq!(merged["Name"], "Annual Conference 2026");
        assert_eq!(
            merged["Functions"]["$type"],
            "Held.FunctionCollection, Asi.Contracts"
        );
        let functions = merged["Functions"]["$values"]
            .as_array()
            .expect("functions");
        assert_eq!(functions.len(), 2);
        assert_eq!(functions[0]["Name"], "Opening keynote");
        assert_eq!(functions[0]["Status"], "A");
        assert!(functions[0].get("StartDateTime").is_none());
        assert_eq!(functions[1]["EventFunctionCode"], "DINNER");
        let read = ImisEvent::from_wire(&merged).expect("an event");
        assert!(ours.is_held_by(&read));
    }

    #[test]
    fn functions_are_read_by_code_or_by_id() {
        let held = json!({"EventId": "E1", "Functions": [
            {"EventFunctionId": "E1/LUNCH", "Name": "Lunch"},
            {"EventFunctionId": "E1", "Name": "No code"},
            {"EventFunctionCode": "BREAK", "Name": "Break"}
        ]});
        let event = ImisEvent::from_wire(&held).expect("an event");
        let codes: Vec<&str> = event.functions.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(codes, ["LUNCH", "BREAK"]);
        assert_eq!(ImisEvent::from_wire(&json!({"Name": "no id"})), None);
    }
}

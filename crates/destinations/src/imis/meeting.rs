//! The registration platform's event in iMIS: the event becomes an iMIS Event and each of its
//! sessions one of the Event's Functions (`EVENTID/CODE`), previewed before anything is written.
//!
//! - **From the workspace, not the vendor.** The event's title and dates are what the source
//!   connection's syncs learnt about it (its facts), the functions its synced sessions. Sessions
//!   hidden from the agenda (cancelled at the vendor) are left out and counted. A connection with
//!   neither has not been synced yet.
//! - **Ids iMIS takes.** The event id is the feed's `product_code`, else the connection's event
//!   code, upper-cased: at most 10 letters, digits, `-` or `_`, or a refusal that says to set
//!   `product_code`. A function's code is its session's code, upper-cased, where that fits (at
//!   most 20 of the same characters); else `S` and 16 hex digits of a hash of the session's id,
//!   the same on every run. Where sessions share a code, the one with the smallest id keeps it
//!   and the others take their derived code, so every code is once in the event.
//! - **Site-local dates.** iMIS keeps `YYYY-MM-DDTHH:MM:SS` with no offset, read as the site's
//!   local time; the workspace keeps moments in UTC. They are written at the event's own offset
//!   where the connection knows it (Aventri's `utc_offset`, or the offset the vendor wrote the
//!   event's start or end with), else in UTC, and the plan says which.
//! - **What the workspace does not know, iMIS keeps.** The event's description is never in
//!   the workspace, so the one iMIS holds stays; so do its name and dates when the facts lack
//!   them. Functions iMIS has that no session matches are kept (they may hold registrations)
//!   and listed as such.
//! - **Preview, then apply.** [`MeetingImport::plan`] reads the event iMIS holds and says, for
//!   the event and each function, create, update (naming the fields) or unchanged;
//!   [`MeetingImport::apply`] saves the planned event with `Imis::save_event`. Run again, it
//!   finds everything unchanged and writes nothing.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, FixedOffset, Offset, Utc};
use connectors::imis::{EventSaved, Imis, ImisEvent, ImisFunction, same_date, same_text};
use connectors::{ConnectorError, RetryPolicy};
use engine::config::{Config, Connection, ImisFeed, VendorSettings};
use pipeline::DataType;
use serde::Serialize;
use serde_json::{Map, Value};
use store::{Store, StoreError};
use utoipa::ToSchema;

/// The longest `EventId` iMIS stores.
pub const EVENT_ID_MAX_CHARS: usize = 10;
/// The longest `EventFunctionCode` iMIS stores.
pub const FUNCTION_CODE_MAX_CHARS: usize = 20;

/// Sessions read from the workspace per page.
const PAGE: u32 = 1000;

/// Why an import cannot be planned or applied.
#[derive(Debug, thiserror::Error)]
pub enum MeetingError {
    /// The configuration does not allow the import; the message says what to set.
    #[error("{0}")]
    Config(String),
    /// The workspace holds nothing of the connection's event yet.
    #[error(
        "the workspace holds no sessions and nothing about the event of connection \
         '{connection}': sync {connection} first (eventsync sync {connection})"
    )]
    NotSynced { connection: String },
    /// iMIS refused or failed a call.
    #[error("iMIS site '{site}': {error}")]
    Imis {
        site: String,
        #[source]
        error: ConnectorError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the plan does to the event or to one function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ImisAction)]
pub enum Action {
    Create,
    Update,
    Unchanged,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Unchanged => "unchanged",
        }
    }
}

/// The offset dates are written at, and why that one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = ImisSiteTime)]
pub struct SiteTime {
    /// Such as `+02:00`.
    pub utc_offset: String,
    /// `connection` (its settings), `event` (the vendor's times for the event) or `utc` (none
    /// known).
    pub from: &'static str,
    /// For people: which offset, and what it means in iMIS.
    pub note: String,
}

/// The event as it goes to iMIS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = ImisPlannedEvent)]
pub struct PlannedEvent {
    pub name: String,
    pub description: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
}

/// One session as an iMIS function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = ImisFunction)]
pub struct PlannedFunction {
    #[schema(max_length = 20)]
    pub code: String,
    /// `EVENTID/CODE`.
    pub function_id: String,
    pub session_external_id: String,
    pub name: String,
    pub description: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub action: Action,
    /// For an update, the fields iMIS holds otherwise: `name`, `description`, `start`, `end`.
    pub changes: Vec<&'static str>,
    /// Why the code is not the session's own, when it is not.
    pub code_note: Option<String>,
}

/// A function iMIS holds that no session of the workspace matches: left as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = ImisKeptFunction)]
pub struct KeptFunction {
    pub code: String,
    pub function_id: String,
    pub name: String,
}

/// Sessions of the workspace that do not become functions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = ImisLeftOut)]
pub struct LeftOut {
    /// Hidden from the agenda: cancelled at the vendor.
    pub hidden: usize,
}

/// How many functions each action touches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = ImisFunctionCounts)]
pub struct FunctionCounts {
    pub create: usize,
    pub update: usize,
    pub unchanged: usize,
    pub kept_in_imis: usize,
}

/// What importing the event would do, found before anything is written.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = ImisMeetingPlan)]
pub struct MeetingPlan {
    /// The source connection.
    pub connection: String,
    /// The iMIS site's connection.
    pub site: String,
    #[schema(max_length = 10)]
    pub event_id: String,
    pub action: Action,
    pub event: PlannedEvent,
    /// For an update, the event's own fields iMIS holds otherwise.
    pub changes: Vec<&'static str>,
    pub dates: SiteTime,
    pub functions: Vec<PlannedFunction>,
    pub kept_in_imis: Vec<KeptFunction>,
    pub left_out: LeftOut,
    pub counts: FunctionCounts,
    /// Things in the workspace the import could not use as they are.
    pub warnings: Vec<String>,
    /// The event to save.
    #[serde(skip)]
    imis_event: ImisEvent,
}

impl MeetingPlan {
    /// Whether applying the plan would write nothing.
    pub fn is_unchanged(&self) -> bool {
        self.action == Action::Unchanged
    }
}

/// What applying a plan did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = ImisMeetingOutcome)]
pub struct MeetingOutcome {
    /// `create`, `update` or `unchanged`, as iMIS was found when saving.
    pub event: Action,
    pub functions_created: usize,
    pub functions_updated: usize,
}

/// The import of one source connection's event into the iMIS site its feed names.
pub struct MeetingImport {
    source: Connection,
    site: String,
    event_id: String,
    client: Imis,
}

impl MeetingImport {
    /// The import for `connection`, checked against the configuration: the connection must
    /// have a `[connections.imis]` table, and an event id iMIS can take.
    pub fn new(
        config: &Config,
        connection: &str,
        retry: RetryPolicy,
    ) -> Result<MeetingImport, MeetingError> {
        let source = config
            .connection(connection)
            .map_err(|error| MeetingError::Config(error.0))?;
        if let VendorSettings::Imis(_) = source.vendor {
            return Err(MeetingError::Config(format!(
                "connection '{connection}' is the iMIS site itself: import the event of the \
                 connection whose [connections.imis] names it"
            )));
        }
        let Some(feed) = &source.imis else {
            return Err(MeetingError::Config(missing_feed(config, connection)));
        };
        let site = config
            .connection(&feed.destination)
            .map_err(|error| MeetingError::Config(error.0))?;
        let client = match engine::imis_client(site, retry) {
            Some(Ok(client)) => client,
            Some(Err(error)) => {
                return Err(MeetingError::Config(format!(
                    "connection '{}': {error}",
                    site.name
                )));
            }
            None => {
                return Err(MeetingError::Config(format!(
                    "connection '{connection}', imis.destination: '{}' is not an iMIS site \
                     (kind = \"imis\")",
                    site.name
                )));
            }
        };
        let event_id = event_id(source, feed)?;
        Ok(MeetingImport {
            source: source.clone(),
            site: site.name.clone(),
            event_id,
            client,
        })
    }

    pub fn event_id(&self) -> &str {
        &self.event_id
    }

    /// What the import would do: the event built from the workspace, compared with the one
    /// iMIS holds. Writes nothing.
    pub async fn plan(&self, store: &Store) -> Result<MeetingPlan, MeetingError> {
        let facts = store
            .connection_facts(&self.source.name)
            .await?
            .unwrap_or(Value::Null);
        let sessions = sessions_of(store, &self.source.name).await?;
        if sessions.is_empty() && !knows_event(&facts) {
            return Err(MeetingError::NotSynced {
                connection: self.source.name.clone(),
            });
        }
        let dates = site_time(&self.source, &facts);
        let built = build(&self.event_id, &facts, &sessions, &dates);
        let held = self
            .client
            .event(&self.event_id)
            .await
            .map_err(|error| self.imis_error(error))?;
        Ok(compare(
            built,
            held.as_ref(),
            &self.source.name,
            &self.site,
            dates,
        ))
    }

    /// Saves the planned event: created when iMIS has none, brought up to date otherwise,
    /// functions only iMIS has kept.
    pub async fn apply(&self, plan: &MeetingPlan) -> Result<MeetingOutcome, MeetingError> {
        let saved = self
            .client
            .save_event(&plan.imis_event)
            .await
            .map_err(|error| self.imis_error(error))?;
        Ok(match saved {
            EventSaved::Created => MeetingOutcome {
                event: Action::Create,
                functions_created: plan.functions.len(),
                functions_updated: 0,
            },
            EventSaved::Updated => MeetingOutcome {
                event: Action::Update,
                functions_created: plan.counts.create,
                functions_updated: plan.counts.update,
            },
            EventSaved::Unchanged => MeetingOutcome {
                event: Action::Unchanged,
                functions_created: 0,
                functions_updated: 0,
            },
        })
    }

    fn imis_error(&self, error: ConnectorError) -> MeetingError {
        MeetingError::Imis {
            site: self.site.clone(),
            error,
        }
    }
}

/// The message for a connection without `[connections.imis]`, naming a site to put in it.
fn missing_feed(config: &Config, connection: &str) -> String {
    let site = config
        .connections
        .iter()
        .find(|candidate| matches!(candidate.vendor, VendorSettings::Imis(_)))
        .map_or("association", |site| site.name.as_str());
    format!(
        "connection '{connection}' has no [connections.imis]: add one after its settings naming \
         the iMIS site, such as\n\n[connections.imis]\ndestination = \"{site}\"\n\
         product_code = \"ANNCONF\"   # the iMIS event id: at most 10 letters and digits\n\
         match = [\"email\"]         # how registrants find their iMIS party"
    )
}

/// The iMIS event id: the feed's product code, else the connection's event code, upper-cased.
fn event_id(source: &Connection, feed: &ImisFeed) -> Result<String, MeetingError> {
    let (id, from) = match &feed.product_code {
        Some(code) => (code.trim(), "its product_code"),
        None => (
            engine::event_code(source).unwrap_or_default().trim(),
            "its event code",
        ),
    };
    let id = id.to_ascii_uppercase();
    let problem = if id.is_empty() {
        Some("is empty".to_string())
    } else if id.chars().count() > EVENT_ID_MAX_CHARS {
        Some(format!(
            "is {} characters long; iMIS takes at most {EVENT_ID_MAX_CHARS}",
            id.chars().count()
        ))
    } else if !id.chars().all(code_character) {
        Some("has characters iMIS cannot take in an event id".to_string())
    } else {
        None
    };
    match problem {
        None => Ok(id),
        Some(problem) => Err(MeetingError::Config(format!(
            "connection '{}': the iMIS event id '{id}' (from {from}) {problem}: set product_code \
             in [connections.imis] to at most {EVENT_ID_MAX_CHARS} letters and digits, such as \
             product_code = \"{}\"",
            source.name,
            suggested_id(&id)
        ))),
    }
}

/// An event id to suggest for one iMIS refuses: its letters and digits, at most ten.
fn suggested_id(id: &str) -> String {
    let suggested: String = id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(EVENT_ID_MAX_CHARS)
        .collect();
    if suggested.is_empty() {
        "ANNCONF".to_string()
    } else {
        suggested
    }
}

/// A character iMIS takes in an event id or function code.
fn code_character(character: char) -> bool {
    character.is_ascii_uppercase() || character.is_ascii_digit() || matches!(character, '-' | '_')
}

/// A session of the workspace, with the fields the import reads.
#[derive(Debug, Clone, PartialEq)]
struct Session {
    external_id: String,
    title: String,
    code: Option<String>,
    description: Option<String>,
    starts_at: Option<String>,
    ends_at: Option<String>,
    hidden: bool,
}

impl Session {
    fn from_fields(fields: &Map<String, Value>) -> Option<Session> {
        let text = |name: &str| {
            fields
                .get(name)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|text| !text.is_empty())
                .map(str::to_string)
        };
        Some(Session {
            external_id: text("external_id")?,
            title: text("title").unwrap_or_default(),
            code: text("code"),
            description: text("description"),
            starts_at: text("starts_at"),
            ends_at: text("ends_at"),
            hidden: fields.get("hidden").and_then(Value::as_bool) == Some(true),
        })
    }
}

/// Every session of the connection the workspace holds, by external id.
async fn sessions_of(store: &Store, connection: &str) -> Result<Vec<Session>, StoreError> {
    let mut sessions = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .export_page(
                Some(connection),
                DataType::Sessions.as_str(),
                after.as_deref(),
                PAGE,
            )
            .await?;
        let Some(last) = page.last() else {
            return Ok(sessions);
        };
        after = Some(last.external_id.clone());
        sessions.extend(
            page.iter()
                .filter_map(|record| Session::from_fields(&engine::run::export_fields(record))),
        );
    }
}

/// Whether the facts say anything about the event.
fn knows_event(facts: &Value) -> bool {
    ["event_title", "event_start", "event_end"]
        .iter()
        .any(|name| fact(facts, name).is_some())
}

fn fact<'a>(facts: &'a Value, name: &str) -> Option<&'a str> {
    facts
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|text| !text.is_empty())
}

/// The offset the event's dates are written at.
fn site_time(source: &Connection, facts: &Value) -> SiteTime {
    if let VendorSettings::Aventri(settings) = &source.vendor {
        return SiteTime {
            utc_offset: settings.utc_offset.to_string(),
            from: "connection",
            note: format!(
                "dates are written at UTC{}, the event's offset (utc_offset of connection '{}')",
                settings.utc_offset, source.name
            ),
        };
    }
    let written = ["event_start", "event_end"]
        .iter()
        .filter_map(|name| fact(facts, name))
        .find_map(stated_offset);
    match written {
        Some(offset) => SiteTime {
            utc_offset: offset.to_string(),
            from: "event",
            note: format!(
                "dates are written at UTC{offset}, the offset the vendor gives the event's times"
            ),
        },
        None => SiteTime {
            utc_offset: "+00:00".to_string(),
            from: "utc",
            note: "dates are written in UTC: the workspace does not know the event's offset \
                   from UTC, and iMIS shows them as the site's local time"
                .to_string(),
        },
    }
}

/// The offset an RFC 3339 time is written with, when it states one (`Z` states none: it is
/// how vendors write UTC whatever the event's place).
fn stated_offset(text: &str) -> Option<FixedOffset> {
    if text.ends_with(['Z', 'z']) {
        return None;
    }
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|at| *at.offset())
}

/// A moment of the workspace as iMIS's local time at `offset`; `None` when it is not one.
fn site_local(text: Option<&str>, offset: FixedOffset) -> Option<String> {
    let at = DateTime::parse_from_rfc3339(text?.trim()).ok()?;
    Some(
        at.with_timezone(&offset)
            .format("%Y-%m-%dT%H:%M:%S")
            .to_string(),
    )
}

/// The event built from the workspace, before it is compared with iMIS.
#[derive(Debug, Clone, PartialEq)]
struct Built {
    event: ImisEvent,
    /// Per function, the session it comes from and why its code is not the session's own.
    origins: Vec<(String, Option<String>)>,
    /// Whether the facts named the event, and gave its start and end.
    named: bool,
    left_out: LeftOut,
    warnings: Vec<String>,
}

fn build(event_id: &str, facts: &Value, sessions: &[Session], dates: &SiteTime) -> Built {
    let offset = dates
        .utc_offset
        .parse::<FixedOffset>()
        .unwrap_or_else(|_| Utc.fix());
    let mut warnings = Vec::new();
    let shown: Vec<&Session> = sessions.iter().filter(|session| !session.hidden).collect();
    let left_out = LeftOut {
        hidden: sessions.len() - shown.len(),
    };
    let codes = function_codes(&shown);
    let mut functions = Vec::with_capacity(shown.len());
    let mut origins = Vec::with_capacity(shown.len());
    for (session, (code, note)) in shown.iter().zip(codes) {
        let start = site_local(session.starts_at.as_deref(), offset);
        let end = site_local(session.ends_at.as_deref(), offset);
        if start.is_none() || end.is_none() {
            warnings.push(format!(
                "session {} has no start or end the workspace can read; its function goes without it",
                session.external_id
            ));
        }
        let name = if session.title.is_empty() {
            warnings.push(format!(
                "session {} has no title; its function is named by its code",
                session.external_id
            ));
            code.clone()
        } else {
            session.title.clone()
        };
        functions.push(ImisFunction {
            code,
            name,
            description: session.description.clone(),
            start,
            end,
        });
        origins.push((session.external_id.clone(), note));
    }
    // In the order of the agenda, as iMIS lists them and the preview shows them.
    let mut agenda: Vec<(ImisFunction, (String, Option<String>))> =
        functions.into_iter().zip(origins).collect();
    agenda.sort_by(|(a, _), (b, _)| (&a.start, &a.code).cmp(&(&b.start, &b.code)));
    let (functions, origins): (Vec<_>, Vec<_>) = agenda.into_iter().unzip();
    let start = site_local(fact(facts, "event_start"), offset).or_else(|| {
        functions
            .iter()
            .filter_map(|function| function.start.clone())
            .min()
    });
    let end = site_local(fact(facts, "event_end"), offset).or_else(|| {
        functions
            .iter()
            .filter_map(|function| function.end.clone())
            .max()
    });
    let title = fact(facts, "event_title");
    Built {
        event: ImisEvent {
            id: event_id.to_string(),
            name: title.unwrap_or(event_id).to_string(),
            description: None,
            start,
            end,
            functions,
        },
        origins,
        named: title.is_some(),
        left_out,
        warnings,
    }
}

/// Each session's function code, in the sessions' order, with why it is not the session's
/// own code when it is not.
fn function_codes(sessions: &[&Session]) -> Vec<(String, Option<String>)> {
    // Sessions come ordered by external id; sorted here too, so that who keeps a shared code
    // does not depend on the caller.
    let mut order: Vec<usize> = (0..sessions.len()).collect();
    order.sort_by(|a, b| sessions[*a].external_id.cmp(&sessions[*b].external_id));
    let own: Vec<Result<String, String>> = sessions
        .iter()
        .map(|session| own_code(session.code.as_deref()))
        .collect();
    let mut taken: HashSet<String> = HashSet::new();
    let mut kept_by: BTreeMap<String, usize> = BTreeMap::new();
    let mut codes: Vec<Option<(String, Option<String>)>> = vec![None; sessions.len()];
    // Own codes first, so that a derived code never takes one a session has.
    for &index in &order {
        if let Ok(code) = &own[index]
            && taken.insert(code.clone())
        {
            kept_by.insert(code.clone(), index);
            codes[index] = Some((code.clone(), None));
        }
    }
    for &index in &order {
        if codes[index].is_some() {
            continue;
        }
        let session = sessions[index];
        let note = match &own[index] {
            Ok(code) => {
                let keeper = kept_by
                    .get(code)
                    .map_or("", |&keeper| sessions[keeper].external_id.as_str());
                format!("its code '{code}' is session {keeper}'s too")
            }
            Err(reason) => reason.clone(),
        };
        let mut salt = 0u32;
        let code = loop {
            let candidate = derived_code(&session.external_id, salt);
            if taken.insert(candidate.clone()) {
                break candidate;
            }
            salt += 1;
        };
        codes[index] = Some((code, Some(format!("{note}: derived from its id"))));
    }
    codes
        .into_iter()
        .map(|code| code.unwrap_or_default())
        .collect()
}

/// A session's own code as iMIS takes it, or why it cannot be one.
fn own_code(code: Option<&str>) -> Result<String, String> {
    let Some(code) = code.map(str::trim).filter(|code| !code.is_empty()) else {
        return Err("it has no code".to_string());
    };
    let upper = code.to_ascii_uppercase();
    if upper.chars().count() > FUNCTION_CODE_MAX_CHARS {
        return Err(format!(
            "its code '{code}' is longer than {FUNCTION_CODE_MAX_CHARS} characters"
        ));
    }
    if !upper.chars().all(code_character) {
        return Err(format!(
            "its code '{code}' has characters other than letters, digits, '-' and '_'"
        ));
    }
    Ok(upper)
}

/// `S` and 16 hex digits of a hash of the session's id (FNV-1a, which is the same on every
/// machine and release); `salt` above 0 for the rare id whose code another already took.
fn derived_code(external_id: &str, salt: u32) -> String {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET_BASIS;
    let salted = (salt > 0).then(|| format!("#{salt}"));
    for byte in external_id
        .bytes()
        .chain(salted.iter().flat_map(|salt| salt.bytes()))
    {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(PRIME);
    }
    format!("S{hash:016X}")
}

/// The plan: the built event against what iMIS holds.
fn compare(
    mut built: Built,
    held: Option<&ImisEvent>,
    connection: &str,
    site: &str,
    dates: SiteTime,
) -> MeetingPlan {
    if let Some(held) = held {
        // What the workspace does not know stays as iMIS has it.
        built.event.description = held.description.clone();
        if !built.named && !held.name.trim().is_empty() {
            built.event.name = held.name.clone();
        }
        if built.event.start.is_none() {
            built.event.start = held.start.clone();
        }
        if built.event.end.is_none() {
            built.event.end = held.end.clone();
        }
    }
    let event = &built.event;
    let mut counts = FunctionCounts::default();
    let functions: Vec<PlannedFunction> = event
        .functions
        .iter()
        .zip(&built.origins)
        .map(|(function, (session, code_note))| {
            let held_function = held.and_then(|held| {
                held.functions
                    .iter()
                    .find(|candidate| candidate.code.eq_ignore_ascii_case(&function.code))
            });
            let (action, changes) = match held_function {
                None => (Action::Create, Vec::new()),
                Some(held_function) => {
                    let changes = function_changes(function, held_function);
                    if changes.is_empty() {
                        (Action::Unchanged, changes)
                    } else {
                        (Action::Update, changes)
                    }
                }
            };
            match action {
                Action::Create => counts.create += 1,
                Action::Update => counts.update += 1,
                Action::Unchanged => counts.unchanged += 1,
            }
            PlannedFunction {
                code: function.code.clone(),
                function_id: format!("{}/{}", event.id, function.code),
                session_external_id: session.clone(),
                name: function.name.clone(),
                description: function.description.clone(),
                start: function.start.clone(),
                end: function.end.clone(),
                action,
                changes,
                code_note: code_note.clone(),
            }
        })
        .collect();
    let kept_in_imis: Vec<KeptFunction> = held
        .map(|held| {
            held.functions
                .iter()
                .filter(|held_function| {
                    !event
                        .functions
                        .iter()
                        .any(|ours| ours.code.eq_ignore_ascii_case(&held_function.code))
                })
                .map(|held_function| KeptFunction {
                    code: held_function.code.clone(),
                    function_id: format!("{}/{}", event.id, held_function.code),
                    name: held_function.name.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    counts.kept_in_imis = kept_in_imis.len();
    let (action, changes) = match held {
        None => (Action::Create, Vec::new()),
        Some(held) => {
            let changes = event_changes(event, held);
            if changes.is_empty() && counts.create == 0 && counts.update == 0 {
                (Action::Unchanged, changes)
            } else {
                (Action::Update, changes)
            }
        }
    };
    MeetingPlan {
        connection: connection.to_string(),
        site: site.to_string(),
        event_id: event.id.clone(),
        action,
        event: PlannedEvent {
            name: event.name.clone(),
            description: event.description.clone(),
            start: event.start.clone(),
            end: event.end.clone(),
        },
        changes,
        dates,
        functions,
        kept_in_imis,
        left_out: built.left_out,
        counts,
        warnings: built.warnings,
        imis_event: built.event,
    }
}

/// The event's own fields iMIS holds otherwise, compared as `Imis::save_event` compares them.
fn event_changes(ours: &ImisEvent, held: &ImisEvent) -> Vec<&'static str> {
    fields_that_differ(
        (&ours.name, &ours.description, &ours.start, &ours.end),
        (&held.name, &held.description, &held.start, &held.end),
    )
}

fn function_changes(ours: &ImisFunction, held: &ImisFunction) -> Vec<&'static str> {
    fields_that_differ(
        (&ours.name, &ours.description, &ours.start, &ours.end),
        (&held.name, &held.description, &held.start, &held.end),
    )
}

type Fields<'a> = (
    &'a String,
    &'a Option<String>,
    &'a Option<String>,
    &'a Option<String>,
);

fn fields_that_differ(ours: Fields<'_>, held: Fields<'_>) -> Vec<&'static str> {
    let mut changes = Vec::new();
    if ours.0.trim() != held.0.trim() {
        changes.push("name");
    }
    if !same_text(ours.1, held.1) {
        changes.push("description");
    }
    if !same_date(ours.2, held.2) {
        changes.push("start");
    }
    if !same_date(ours.3, held.3) {
        changes.push("end");
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn session(id: &str, code: Option<&str>) -> Session {
        Session {
            external_id: id.into(),
            title: format!("Session {id}"),
            code: code.map(str::to_string),
            description: None,
            starts_at: Some("2026-03-02T14:00:00.000Z".into()),
            ends_at: Some("2026-03-02T15:00:00.000Z".into()),
            hidden: false,
        }
    }

    fn utc() -> SiteTime {
        SiteTime {
            utc_offset: "+00:00".into(),
            from: "utc",
            note: String::new(),
        }
    }

    #[test]
    fn codes_are_the_sessions_own_where_they_fit_and_derived_the_same_way_otherwise() {
        let sessions = [
            session("b", Some("ws-1")),
            session("a", Some("WS-1")),
            session("c", Some("a code far longer than twenty")),
            session("d", Some("café")),
            session("e", None),
            session("f", Some("KEY_2")),
        ];
        let refs: Vec<&Session> = sessions.iter().collect();
        let codes = function_codes(&refs);
        // "a" sorts first and keeps the shared code; "b" takes its derived one.
        assert_eq!(codes[1], ("WS-1".to_string(), None));
        assert_eq!(codes[0].0, derived_code("b", 0));
        assert!(
            codes[0]
                .1
                .as_deref()
                .unwrap_or_default()
                .contains("session a's too")
        );
        assert_eq!(codes[2].0, derived_code("c", 0));
        assert_eq!(codes[3].0, derived_code("d", 0));
        assert_eq!(codes[4].0, derived_code("e", 0));
        assert_eq!(codes[5], ("KEY_2".to_string(), None));
        let unique: HashSet<&String> = codes.iter().map(|(code, _)| code).collect();
        assert_eq!(unique.len(), codes.len());
        for (code, _) in &codes {
            assert!(code.len() <= FUNCTION_CODE_MAX_CHARS, "{code}");
            assert!(code.chars().all(code_character), "{code}");
        }
        // The same on every run, whatever order the sessions come in.
        let reversed: Vec<&Session> = sessions.iter().rev().collect();
        let again = function_codes(&reversed);
        assert_eq!(again[4], codes[1]);
        // FNV-1a of "e", worked out by hand: the code does not depend on the platform.
        let hash = (0xcbf2_9ce4_8422_2325u64 ^ u64::from(b'e')).wrapping_mul(0x0000_0100_0000_01b3);
        assert_eq!(derived_code("e", 0), format!("S{hash:016X}"));
    }

    #[test]
    fn a_derived_code_never_takes_a_sessions_own() {
        let taken = derived_code("x", 0);
        let sessions = [session("x", None), session("y", Some(&taken))];
        let refs: Vec<&Session> = sessions.iter().collect();
        let codes = function_codes(&refs);
        assert_eq!(codes[1].0, taken);
        assert_eq!(codes[0].0, derived_code("x", 1));
    }

    #[test]
    fn dates_are_written_at_the_events_offset_as_site_local_time() {
        let offset = FixedOffset::east_opt(-5 * 3600).expect("an offset");
        assert_eq!(
            site_local(Some("2026-03-02T14:00:00.000Z"), offset).as_deref(),
            Some("2026-03-02T09:00:00")
        );
        assert_eq!(
            site_local(Some("2026-03-02T14:00:00.000Z"), Utc.fix()).as_deref(),
            Some("2026-03-02T14:00:00")
        );
        assert_eq!(site_local(Some("not a time"), offset), None);
        assert_eq!(site_local(None, offset), None);
        assert_eq!(stated_offset("2026-03-02T14:00:00Z"), None);
        assert_eq!(stated_offset("2026-03-02T09:00:00-05:00"), Some(offset));
        assert_eq!(stated_offset("garbage"), None);
    }

    #[test]
    fn the_event_comes_from_the_facts_and_its_shown_sessions() {
        let mut hidden = session("h", Some("GONE"));
        hidden.hidden = true;
        let sessions = [session("a", Some("KEY")), hidden];
        let facts = json!({
            "event_title": "Annual Conference",
            "event_start": "2026-03-02T09:00:00-05:00",
            "event_end": "2026-03-04T17:00:00-05:00"
        });
        let dates = SiteTime {
            utc_offset: "-05:00".into(),
            from: "event",
            note: String::new(),
        };
        let built = build("ANNCONF", &facts, &sessions, &dates);
        assert_eq!(built.event.name, "Annual Conference");
        assert_eq!(built.event.start.as_deref(), Some("2026-03-02T09:00:00"));
        assert_eq!(built.event.end.as_deref(), Some("2026-03-04T17:00:00"));
        assert_eq!(built.left_out.hidden, 1);
        assert_eq!(built.event.functions.len(), 1);
        assert_eq!(built.event.functions[0].code, "KEY");
        assert_eq!(
            built.event.functions[0].start.as_deref(),
            Some("2026-03-02T09:00:00")
        );

        // Without facts, the sessions give the dates and the id names the event.
        let built = build("ANNCONF", &Value::Null, &sessions, &utc());
        assert_eq!(built.event.name, "ANNCONF");
        assert_eq!(built.event.start.as_deref(), Some("2026-03-02T14:00:00"));
        assert!(!built.named);
    }

    #[test]
    fn the_plan_says_what_changes_and_keeps_what_only_imis_has() {
        let sessions = [session("a", Some("KEY")), session("b", Some("LUNCH"))];
        let facts = json!({"event_title": "Annual Conference"});
        let built = build("ANNCONF", &facts, &sessions, &utc());

        let created = compare(built.clone(), None, "cvent", "association", utc());
        assert_eq!(created.action, Action::Create);
        assert_eq!(created.counts.create, 2);
        assert_eq!(created.functions[0].function_id, "ANNCONF/KEY");

        let mut held = built.event.clone();
        held.description = Some("Written in iMIS".into());
        held.functions[1].name = "Old lunch".into();
        held.functions[0].start = Some("2026-03-02T14:00:00.000".into());
        held.functions.push(ImisFunction {
            code: "dinner".into(),
            name: "Dinner".into(),
            description: None,
            start: None,
            end: None,
        });
        let updated = compare(built.clone(), Some(&held), "cvent", "association", utc());
        assert_eq!(updated.action, Action::Update);
        assert!(updated.changes.is_empty(), "{:?}", updated.changes);
        assert_eq!(
            updated.event.description.as_deref(),
            Some("Written in iMIS")
        );
        assert_eq!(updated.functions[0].action, Action::Unchanged);
        assert_eq!(updated.functions[1].action, Action::Update);
        assert_eq!(updated.functions[1].changes, ["name"]);
        assert_eq!(updated.kept_in_imis.len(), 1);
        assert_eq!(updated.kept_in_imis[0].function_id, "ANNCONF/dinner");
        assert_eq!(
            (
                updated.counts.update,
                updated.counts.unchanged,
                updated.counts.kept_in_imis
            ),
            (1, 1, 1)
        );

        held.functions[1].name = "Session b".into();
        let unchanged = compare(built, Some(&held), "cvent", "association", utc());
        assert!(unchanged.is_unchanged());
        assert_eq!(unchanged.counts.unchanged, 2);
    }
}

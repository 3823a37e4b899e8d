//! Paged listings as Cvent serves them: `limit` 1–200, UUIDv4 page tokens bound to the original
//! query, `paging.nextToken` absent on the last page, `totalCount`, filters, `after`/`before`, sort.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::dataset::{Dataset, Lazy, Modified, Newest, timestamp};
use super::faults::Faults;
use super::filter::{FieldValue, Filter, Filterable};
use super::wire::{
    Attendee, CustomField, Enrollment, Event, EventQuestion, Exhibitor, Session, SessionLocation,
    Speaker,
};

/// Where a listing stands: a record position, and an item within it (enrollments and travel
/// requests are listed per attendee).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub record: u64,
    pub item: u32,
}

/// What is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    Events,
    Attendees,
    Sessions,
    Speakers,
    Enrollments,
    SessionLocations,
    Exhibitors,
    CustomFields,
    EventQuestions,
    AirRequests,
    HotelRequests,
}

/// One listing request, fixed when its first page is asked for.
#[derive(Debug)]
pub struct Query {
    pub collection: Collection,
    pub filter: Option<Filter>,
    /// Records modified after (exclusive) and before (exclusive) these instants.
    pub after: Option<String>,
    pub before: Option<String>,
    pub limit: usize,
    /// Sort keys with `true` for descending.
    pub sort: Vec<(String, bool)>,
    /// Whether sensitive contact fields may be returned.
    pub sensitive: bool,
    /// Whether each answer's question is shown whole (`expand=answers.question`).
    pub expand_questions: bool,
}

/// Where a listing stands: its query and the position its next page starts at.
#[derive(Debug, Clone)]
pub struct Cursor {
    query: Arc<Query>,
    position: Position,
    /// For sorted listings, every matching position in order, and the offset reached.
    order: Option<Arc<Vec<Position>>>,
    total: Option<u64>,
    /// The page after the last one, served empty when that fault is on.
    trailing: bool,
}

/// Issued page tokens.
#[derive(Debug, Default)]
pub struct Pages {
    cursors: HashMap<Uuid, Cursor>,
}

/// One page, serialized.
pub struct Page {
    pub body: Vec<u8>,
}

/// Errors a listing answers with 400.
#[derive(Debug, Clone, PartialEq)]
pub struct BadListing(pub String);

/// Parses `after`/`before` query values into Cvent's timestamp spelling for comparisons.
pub fn parse_instant(text: &str) -> Result<String, BadListing> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(timestamp(at.with_timezone(&Utc)));
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(timestamp(date.and_time(chrono::NaiveTime::MIN).and_utc()));
    }
    Err(BadListing(format!(
        "'{text}' is not an ISO 8601 date-time such as 2017-01-02T02:00:00Z"
    )))
}

pub fn parse_limit(limit: Option<&str>) -> Result<usize, BadListing> {
    match limit {
        None => Ok(100),
        Some(text) => match text.parse::<usize>() {
            Ok(limit @ 1..=200) => Ok(limit),
            _ => Err(BadListing(format!(
                "limit must be an integer between 1 and 200, got '{text}'"
            ))),
        },
    }
}

/// A page generated from a cursor, not yet given tokens: the records' JSON, the cursor with its
/// total known, and the cursor of the page after it.
pub struct Rendered {
    data: Vec<u8>,
    cursor: Cursor,
    next: Option<Cursor>,
}

/// The cursor of a first page: what `query` asks for, from its start.
pub fn first_cursor(dataset: &Dataset, query: Query, event_scope: Option<&str>) -> Cursor {
    let query = Arc::new(query);
    let order =
        (!query.sort.is_empty()).then(|| Arc::new(sorted_positions(dataset, &query, event_scope)));
    Cursor {
        query,
        position: Position::default(),
        order,
        total: None,
        trailing: false,
    }
}

/// Generates the page at `cursor`. This is the costly part of serving a page (walking and
/// counting the records); it needs no lock on the issued tokens, so pages are generated side by
/// side as Cvent serves them.
pub fn render(
    dataset: &Dataset,
    mut cursor: Cursor,
    faults: &Faults,
    event_scope: Option<&str>,
) -> Rendered {
    let query = cursor.query.clone();
    let mut data = Vec::with_capacity(query.limit * 3072);
    let mut next = None;
    if !cursor.trailing {
        let resume = collect(dataset, &query, &cursor, event_scope, &mut data);
        if cursor.total.is_none() {
            cursor.total = Some(count_matches(
                dataset,
                &query,
                cursor.order.as_deref(),
                event_scope,
            ));
        }
        next = match resume {
            Some(position) => Some(Cursor {
                position,
                ..cursor.clone()
            }),
            None if faults.trailing_empty_page => Some(Cursor {
                trailing: true,
                ..cursor.clone()
            }),
            None => None,
        };
    }
    Rendered { data, cursor, next }
}

impl Pages {
    /// The cursor behind `token`; `None` when the token is unknown.
    pub fn cursor(&self, token: &str) -> Option<(Uuid, Cursor)> {
        let token = Uuid::parse_str(token).ok()?;
        Some((token, self.cursors.get(&token)?.clone()))
    }

    /// Gives a rendered page its tokens — `token` for itself (a new one for a first page) and a
    /// new one for the page after it — and writes it out.
    pub fn issue(&mut self, token: Option<Uuid>, rendered: Rendered, faults: &Faults) -> Page {
        let Rendered { data, cursor, next } = rendered;
        let token = token.unwrap_or_else(Uuid::new_v4);
        let query = cursor.query.clone();
        let next_token = next.map(|next_cursor| {
            let next_token = Uuid::new_v4();
            self.cursors.insert(next_token, next_cursor);
            next_token
        });
        self.cursors.insert(token, cursor.clone());
        let paging = PagingOut {
            current_token: token.to_string(),
            next_token: next_token.map(|t| t.to_string()),
            limit: query.limit,
            total_count: if faults.blank_total_count {
                None
            } else {
                cursor.total
            },
            links: LinksOut {
                self_link: Href {
                    href: format!("?token={token}"),
                },
                next: next_token.map(|t| Href {
                    href: format!("?token={t}"),
                }),
            },
        };
        let mut body = Vec::with_capacity(data.len() + 512);
        body.extend_from_slice(b"{\"paging\":");
        // Serializing plain structs into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut body, &paging);
        body.extend_from_slice(b",\"data\":[");
        body.extend_from_slice(&data);
        body.extend_from_slice(b"]}");
        Page { body }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PagingOut {
    current_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
    limit: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_count: Option<u64>,
    #[serde(rename = "_links")]
    links: LinksOut,
}

#[derive(Serialize)]
struct LinksOut {
    #[serde(rename = "self")]
    self_link: Href,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<Href>,
}

#[derive(Serialize)]
struct Href {
    href: String,
}

/// Whether a record passes the query's time window and filter.
fn admits<T: Filterable>(query: &Query, record: &T, modified: Option<&str>) -> bool {
    if let Some(modified) = modified {
        if query
            .after
            .as_deref()
            .is_some_and(|after| modified <= after)
        {
            return false;
        }
        if query
            .before
            .as_deref()
            .is_some_and(|before| modified >= before)
        {
            return false;
        }
    }
    query
        .filter
        .as_ref()
        .is_none_or(|filter| filter.matches(record))
}

/// The earliest modification time any match can have, when the query implies one.
fn modified_floor(query: &Query) -> Option<String> {
    let from_filter = query
        .filter
        .as_ref()
        .and_then(|f| f.lower_bound("lastModified"))
        .and_then(|bound| parse_instant(bound).ok());
    match (from_filter, query.after.clone()) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Calls `visit` for every matching item at or after `from`, in position order, until it
/// returns `false`. This is the one place that knows how each collection is laid out.
fn walk(
    dataset: &Dataset,
    query: &Query,
    from: Position,
    event_scope: Option<&str>,
    visit: &mut dyn FnMut(Position, &dyn Emit) -> bool,
) {
    // Generated records are all older than this; a query that only wants newer ones needs to
    // look at changed records alone, which keeps incremental pulls cheap at any size.
    let floor = modified_floor(query);
    let changes_only = floor
        .as_deref()
        .is_some_and(|floor| floor > dataset.latest_generated());
    let main_event = dataset.main_event_id();
    let scoped_out = event_scope.is_some_and(|event| !event.eq_ignore_ascii_case(main_event));
    // The events whose attendees can match: the path's, or the one the filter insists on.
    let required_event = event_scope.or_else(|| {
        query
            .filter
            .as_ref()
            .and_then(|filter| filter.required_equal("event.id"))
    });
    let parts = dataset
        .parts_for(required_event)
        .into_iter()
        .filter(|part| *part >= Dataset::part_of(from.record));
    match query.collection {
        Collection::Events => walk_held(
            dataset.events.len(),
            from,
            |p| dataset.events.get(p),
            query,
            visit,
        ),
        Collection::Sessions => walk_held(
            dataset.sessions.len(),
            from,
            |p| dataset.sessions.get(p),
            query,
            visit,
        ),
        Collection::Speakers => walk_held(
            dataset.speakers.len(),
            from,
            |p| dataset.speakers.get(p),
            query,
            visit,
        ),
        Collection::SessionLocations => {
            let part = event_scope.and_then(|event| dataset.part_of_event(event));
            if let Some(part) = part {
                walk_slice(dataset.locations(part), from, query, visit)
            }
        }
        Collection::Exhibitors if !scoped_out => {
            walk_slice(&dataset.exhibitors, from, query, visit)
        }
        Collection::CustomFields => walk_slice(&dataset.custom_fields, from, query, visit),
        Collection::EventQuestions => walk_slice(&dataset.event_questions, from, query, visit),
        Collection::Attendees => {
            for part in parts {
                let start = from.record.max(Dataset::part_start(part));
                if !walk_attendees(dataset, query, floor.as_deref(), start, part, visit) {
                    return;
                }
            }
        }
        Collection::Enrollments => {
            for part in parts {
                let start = if from.record >= Dataset::part_start(part) {
                    from
                } else {
                    Position {
                        record: Dataset::part_start(part),
                        item: 0,
                    }
                };
                if !walk_enrollments(dataset, query, floor.as_deref(), start, part, visit) {
                    return;
                }
            }
        }
        Collection::AirRequests | Collection::HotelRequests if !changes_only => {
            // Travel is listed per event, under the event's path.
            let Some(part) = event_scope.and_then(|event| dataset.part_of_event(event)) else {
                return;
            };
            let start = from.record.max(Dataset::part_start(part));
            for position in start..dataset.part_end(part) {
                let at = Position {
                    record: position,
                    item: 0,
                };
                // An item counts as modified when any of its requests was: `after` and `before`
                // look at the newest.
                let keep_going = if query.collection == Collection::AirRequests {
                    match dataset.air_request(position) {
                        Some(mut request)
                            if admits(query, &request, request.last_modified().as_deref()) =>
                        {
                            if !query.sensitive {
                                request.strip_sensitive();
                            }
                            visit(at, &Json(&request))
                        }
                        _ => true,
                    }
                } else {
                    match dataset.hotel_request(position) {
                        Some(request)
                            if admits(query, &request, request.last_modified().as_deref()) =>
                        {
                            visit(at, &Json(&request))
                        }
                        _ => true,
                    }
                };
                if !keep_going {
                    return;
                }
            }
        }
        _ => {}
    }
}

/// Walks one event's attendees from `start`; `false` when `visit` asked to stop.
fn walk_attendees(
    dataset: &Dataset,
    query: &Query,
    floor: Option<&str>,
    start: u64,
    part: usize,
    visit: &mut dyn FnMut(Position, &dyn Emit) -> bool,
) -> bool {
    let narrow = floor.and_then(|f| dataset.positions_modified_since(Lazy::Attendees, f, start));
    let created = CreatedWindow::of(query);
    // A walk that skips records does not tell how new the part's records are.
    let narrow_used = narrow.is_some() || created.is_some();
    let positions: Box<dyn Iterator<Item = u64>> = match narrow {
        Some(positions) => Box::new(positions.into_iter()),
        None => Box::new(start..dataset.part_end(part)),
    };
    let mut coverage = Coverage::new(dataset, Lazy::Attendees, start, narrow_used);
    let questions = query.expand_questions.then(|| questions_by_id(dataset));
    for position in positions {
        if let Some(window) = &created
            && dataset
                .generated_created(position)
                .is_some_and(|at| !window.holds(at))
        {
            continue;
        }
        if let Some(attendee) = dataset.attendee(position) {
            if coverage.wants(position) && dataset.is_generated(position) {
                coverage.seen.offer(attendee.last_modified(), position);
            }
            coverage.reached(position);
            if !admits(query, attendee.as_ref(), Some(attendee.last_modified())) {
                continue;
            }
            let mut attendee = attendee;
            if !query.sensitive {
                attendee.to_mut().contact.strip_sensitive();
            }
            if let Some(questions) = &questions {
                expand_questions(attendee.to_mut(), questions);
            }
            if !visit(
                Position {
                    record: position,
                    item: 0,
                },
                &Json(attendee.as_ref()),
            ) {
                coverage.finish(dataset);
                return false;
            }
        } else {
            coverage.reached(position);
        }
    }
    coverage.finish(dataset);
    true
}

/// Every event question by id, shared by the answers that expand it.
pub fn questions_by_id(dataset: &Dataset) -> HashMap<String, Arc<EventQuestion>> {
    dataset
        .event_questions
        .iter()
        .map(|question| (question.id.clone(), Arc::new(question.clone())))
        .collect()
}

/// Shows each answer's question whole, as `expand=answers.question` asks; an answer to a
/// question the event no longer has keeps its bare id.
pub fn expand_questions(attendee: &mut Attendee, questions: &HashMap<String, Arc<EventQuestion>>) {
    for answer in &mut attendee.answers {
        answer.question.expanded = questions.get(&answer.question.id).cloned();
    }
}

/// The creation times a query's matches must fall within, from its `created` bounds, widened by
/// a second each way (the filter compares the written time, which may drop the milliseconds): a
/// generated attendee outside them is passed over without being generated (a listing split by
/// creation time otherwise generated every attendee for every range). The filter still decides.
struct CreatedWindow {
    from: Option<i64>,
    until: Option<i64>,
}

impl CreatedWindow {
    fn of(query: &Query) -> Option<CreatedWindow> {
        let filter = query.filter.as_ref()?;
        let instant = |raw: &str| {
            DateTime::parse_from_rfc3339(raw)
                .ok()
                .map(|at| at.timestamp_millis())
        };
        let window = CreatedWindow {
            from: filter
                .lower_bound("created")
                .and_then(instant)
                .map(|at| at - 1_000),
            until: filter
                .upper_bound("created")
                .and_then(instant)
                .map(|at| at + 1_000),
        };
        (window.from.is_some() || window.until.is_some()).then_some(window)
    }

    fn holds(&self, at: i64) -> bool {
        self.from.is_none_or(|from| at >= from) && self.until.is_none_or(|until| at <= until)
    }
}

/// Walks one event's enrollments from `from`; `false` when `visit` asked to stop.
fn walk_enrollments(
    dataset: &Dataset,
    query: &Query,
    floor: Option<&str>,
    from: Position,
    part: usize,
    visit: &mut dyn FnMut(Position, &dyn Emit) -> bool,
) -> bool {
    let narrow =
        floor.and_then(|f| dataset.positions_modified_since(Lazy::Enrollments, f, from.record));
    let narrow_used = narrow.is_some();
    let positions: Box<dyn Iterator<Item = u64>> = match narrow {
        Some(positions) => Box::new(positions.into_iter()),
        None => Box::new(from.record..dataset.part_end(part)),
    };
    let mut coverage = Coverage::new(dataset, Lazy::Enrollments, from.record, narrow_used);
    for position in positions {
        let enrollments = dataset.enrollments(position);
        if coverage.wants(position) && dataset.enrollments_generated(position) {
            for enrollment in enrollments.iter() {
                coverage.seen.offer(enrollment.last_modified(), position);
            }
        }
        coverage.reached(position);
        let skip = if position == from.record {
            from.item as usize
        } else {
            0
        };
        for (item, enrollment) in enrollments.iter().enumerate().skip(skip) {
            if !admits(query, enrollment, Some(enrollment.last_modified())) {
                continue;
            }
            let at = Position {
                record: position,
                item: item as u32,
            };
            if !visit(at, &Json(enrollment)) {
                coverage.finish(dataset);
                return false;
            }
        }
    }
    coverage.finish(dataset);
    true
}

/// Learns, while an in-order walk goes by, the newest generated modification time of a lazy
/// collection, so later queries from that time on can skip straight to it.
struct Coverage {
    lazy: Lazy,
    start: Option<u64>,
    until: u64,
    seen: Newest,
}

impl Coverage {
    fn new(dataset: &Dataset, lazy: Lazy, from: u64, narrow: bool) -> Coverage {
        let start = if narrow {
            None
        } else {
            dataset.coverage_start(lazy, from)
        };
        Coverage {
            lazy,
            start,
            until: start.unwrap_or(0),
            seen: Newest::default(),
        }
    }

    fn wants(&self, position: u64) -> bool {
        self.start.is_some_and(|start| position >= start)
    }

    fn reached(&mut self, position: u64) {
        if self.wants(position) {
            self.until = position + 1;
        }
    }

    fn finish(&self, dataset: &Dataset) {
        if let Some(start) = self.start {
            dataset.extend_coverage(self.lazy, start, self.until, &self.seen);
        }
    }
}

fn walk_held<'a, T: Filterable + Serialize + MaybeModified + 'a>(
    len: u64,
    from: Position,
    get: impl Fn(u64) -> Option<&'a T>,
    query: &Query,
    visit: &mut dyn FnMut(Position, &dyn Emit) -> bool,
) {
    for position in from.record..len {
        if let Some(record) = get(position)
            && admits(query, record, record.modified())
            && !visit(
                Position {
                    record: position,
                    item: 0,
                },
                &Json(record),
            )
        {
            return;
        }
    }
}

fn walk_slice<T: Filterable + Serialize + MaybeModified>(
    records: &[T],
    from: Position,
    query: &Query,
    visit: &mut dyn FnMut(Position, &dyn Emit) -> bool,
) {
    walk_held(
        records.len() as u64,
        from,
        |p| records.get(p as usize),
        query,
        visit,
    );
}

/// Records whose modification time `after`/`before` apply to.
pub trait MaybeModified {
    fn modified(&self) -> Option<&str>;
}

macro_rules! always_modified {
    ($($record:ty),*) => {$(
        impl MaybeModified for $record {
            fn modified(&self) -> Option<&str> {
                Some(self.last_modified())
            }
        }
    )*};
}
always_modified!(Event, Attendee, Session, Speaker, Enrollment);

macro_rules! sometimes_modified {
    ($($record:ty),*) => {$(
        impl MaybeModified for $record {
            fn modified(&self) -> Option<&str> {
                self.last_modified.as_deref()
            }
        }
    )*};
}
sometimes_modified!(Exhibitor, CustomField, EventQuestion);

impl MaybeModified for SessionLocation {
    fn modified(&self) -> Option<&str> {
        None
    }
}

/// A record that can be written into a page and sorted on.
trait Emit {
    fn write(&self, out: &mut Vec<u8>);
    fn sort_key(&self, field: &str) -> String;
}

struct Json<'a, T>(&'a T);

impl<T: Serialize + Filterable> Emit for Json<'_, T> {
    fn write(&self, out: &mut Vec<u8>) {
        // Writing a derived Serialize into a Vec cannot fail.
        let _ = sonic_rs::to_writer(out, self.0);
    }

    fn sort_key(&self, field: &str) -> String {
        match self.0.field(field) {
            FieldValue::Text(text) => text.to_lowercase(),
            FieldValue::Number(n) => format!("{n:020.6}"),
            FieldValue::Bool(b) => b.to_string(),
            FieldValue::List(_) | FieldValue::Null => String::new(),
        }
    }
}

/// Writes the page into `data`; returns where the next page starts (`None` when nothing
/// matches after this page).
fn collect(
    dataset: &Dataset,
    query: &Query,
    cursor: &Cursor,
    event_scope: Option<&str>,
    data: &mut Vec<u8>,
) -> Option<Position> {
    let mut written = 0;
    let mut resume = None;
    if let Some(order) = &cursor.order {
        let start = cursor.position.record as usize;
        for (offset, position) in order.iter().enumerate().skip(start) {
            if written == query.limit {
                resume = Some(Position {
                    record: offset as u64,
                    item: 0,
                });
                break;
            }
            let mut emitted = false;
            walk(dataset, query, *position, event_scope, &mut |at, record| {
                if at == *position {
                    if written > 0 {
                        data.push(b',');
                    }
                    record.write(data);
                    emitted = true;
                }
                false
            });
            if emitted {
                written += 1;
            }
        }
        return resume;
    }
    walk(
        dataset,
        query,
        cursor.position,
        event_scope,
        &mut |at, record| {
            if written == query.limit {
                // Looking one match ahead tells whether a next page exists, so none is announced
                // when the results divide evenly; the next page starts right here.
                resume = Some(at);
                return false;
            }
            if written > 0 {
                data.push(b',');
            }
            record.write(data);
            written += 1;
            true
        },
    );
    resume
}

fn count_matches(
    dataset: &Dataset,
    query: &Query,
    order: Option<&Vec<Position>>,
    event_scope: Option<&str>,
) -> u64 {
    if let Some(order) = order {
        return order.len() as u64;
    }
    let unconstrained = query.filter.is_none() && query.after.is_none() && query.before.is_none();
    if unconstrained && query.collection == Collection::Attendees {
        return dataset.live_attendee_count();
    }
    let mut count = 0;
    walk(
        dataset,
        query,
        Position::default(),
        event_scope,
        &mut |_, _| {
            count += 1;
            true
        },
    );
    count
}

/// Every position `query` matches under `event_scope` (the path's event), in its sort order.
fn sorted_positions(dataset: &Dataset, query: &Query, event_scope: Option<&str>) -> Vec<Position> {
    let mut keyed: Vec<(Vec<String>, Position)> = Vec::new();
    walk(
        dataset,
        query,
        Position::default(),
        event_scope,
        &mut |at, record| {
            let keys = query
                .sort
                .iter()
                .map(|(field, _)| record.sort_key(field))
                .collect();
            keyed.push((keys, at));
            true
        },
    );
    keyed.sort_by(|(a, pa), (b, pb)| {
        for (index, (_, descending)) in query.sort.iter().enumerate() {
            let ordering = a[index].cmp(&b[index]);
            let ordering = if *descending {
                ordering.reverse()
            } else {
                ordering
            };
            if ordering.is_ne() {
                return ordering;
            }
        }
        pa.cmp(pb)
    });
    keyed.into_iter().map(|(_, position)| position).collect()
}

/// Parses `sort=field:ASC,field2:DESC` against the fields an endpoint can sort on.
pub fn parse_sort(text: Option<&str>, allowed: &[&str]) -> Result<Vec<(String, bool)>, BadListing> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    text.split(',')
        .map(|part| {
            let (field, direction) = part.trim().split_once(':').unwrap_or((part.trim(), "ASC"));
            if !allowed.contains(&field) {
                return Err(BadListing(format!(
                    "cannot sort on '{field}'; sortable fields: {}",
                    allowed.join(", ")
                )));
            }
            match direction.to_ascii_uppercase().as_str() {
                "ASC" => Ok((field.to_string(), false)),
                "DESC" => Ok((field.to_string(), true)),
                other => Err(BadListing(format!(
                    "sort direction must be ASC or DESC, got '{other}'"
                ))),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::generate::Generator;
    use super::*;

    fn both<T: Serialize>(value: &T) -> (String, String) {
        let mut sonic = Vec::new();
        sonic_rs::to_writer(&mut sonic, value).unwrap();
        (
            String::from_utf8(sonic).unwrap(),
            serde_json::to_string(value).unwrap(),
        )
    }

    /// Records are written with sonic-rs for speed; a client must see what serde_json would
    /// have written, byte for byte.
    #[test]
    fn records_are_written_as_serde_json_writes_them() {
        let generator = Generator::new(17, 2_000);
        for index in 0..2_000 {
            let (sonic, serde) = both(&generator.attendee(index));
            assert_eq!(sonic, serde, "attendee {index}");
        }
        let (sonic, serde) = both(&generator.sessions());
        assert_eq!(sonic, serde);
        let (sonic, serde) = both(&generator.speakers());
        assert_eq!(sonic, serde);
        let (sonic, serde) = both(&generator.events());
        assert_eq!(sonic, serde);
        let awkward = (
            "quote \" backslash \\ slash / tab \t newline \n bell \u{7} del \u{7f}",
            "é ü 中文 😀 \u{2028}",
            [0.1_f64, 1e21, -0.0, 12.5],
            (u64::MAX, i64::MIN),
        );
        let (sonic, serde) = both(&awkward);
        assert_eq!(sonic, serde);
    }
}

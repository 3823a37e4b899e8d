//! The sandbox account's data: generated records, overlaid by every change made since start.
//!
//! Attendees and their session enrollments are generated on demand from the seed, so a million of
//! them cost no memory; only records that were changed, added or deleted are stored. Sessions,
//! speakers and the other small collections are held whole.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::generate::Generator;
use super::wire::{
    AirRequest, Attendee, CustomField, Enrollment, Event, EventQuestion, Exhibitor, HotelRequest,
    Session, SessionLocation, Speaker, SponsorshipLevel,
};

/// Cvent's timestamp spelling: UTC with milliseconds.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A record that carries its own modification time.
pub trait Modified {
    fn last_modified(&self) -> &str;
    fn touch(&mut self, at: &str);
    fn id(&self) -> &str;
}

macro_rules! modified {
    ($($record:ty),*) => {$(
        impl Modified for $record {
            fn last_modified(&self) -> &str {
                &self.last_modified
            }
            fn touch(&mut self, at: &str) {
                self.last_modified = at.to_string();
            }
            fn id(&self) -> &str {
                &self.id
            }
        }
    )*};
}
modified!(Event, Attendee, Session, Speaker, Enrollment);

/// A collection held whole; deleted records leave a hole so positions stay stable for paging.
#[derive(Debug, Clone, Default)]
pub struct Held<T> {
    records: Vec<Option<T>>,
}

impl<T> Held<T> {
    pub fn new(records: Vec<T>) -> Self {
        Held {
            records: records.into_iter().map(Some).collect(),
        }
    }

    pub fn len(&self) -> u64 {
        self.records.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn get(&self, position: u64) -> Option<&T> {
        self.records.get(position as usize).and_then(Option::as_ref)
    }

    pub fn live(&self) -> impl Iterator<Item = &T> {
        self.records.iter().flatten()
    }

    pub fn push(&mut self, record: T) {
        self.records.push(Some(record));
    }

    fn slot(&mut self, position: u64) -> Option<&mut Option<T>> {
        self.records.get_mut(position as usize)
    }
}

impl<T: Modified> Held<T> {
    pub fn position_of(&self, id: &str) -> Option<u64> {
        self.records
            .iter()
            .position(|r| r.as_ref().is_some_and(|r| r.id().eq_ignore_ascii_case(id)))
            .map(|p| p as u64)
    }

    pub fn find(&self, id: &str) -> Option<&T> {
        self.position_of(id).and_then(|p| self.get(p))
    }

    pub fn replace(&mut self, position: u64, record: T) {
        if let Some(slot) = self.slot(position) {
            *slot = Some(record);
        }
    }

    pub fn delete(&mut self, position: u64) {
        if let Some(slot) = self.slot(position) {
            *slot = None;
        }
    }
}

/// Everything the account holds.
#[derive(Debug)]
pub struct Dataset {
    generator: Generator,
    pub events: Held<Event>,
    pub sessions: Held<Session>,
    pub speakers: Held<Speaker>,
    pub locations: Vec<SessionLocation>,
    pub sponsorship_levels: Vec<SponsorshipLevel>,
    pub exhibitors: Vec<Exhibitor>,
    pub custom_fields: Vec<CustomField>,
    pub event_questions: Vec<EventQuestion>,
    /// Attendee positions past the generated ones are additions.
    attendee_count: u64,
    /// Changed (`Some`) or deleted (`None`) attendees by position.
    attendee_changes: BTreeMap<u64, Option<Attendee>>,
    added_attendee_ids: HashMap<String, u64>,
    /// Replaced enrollment lists by attendee position.
    enrollment_changes: BTreeMap<u64, Vec<Enrollment>>,
    /// Registered enrollments per session id, computed on the first enrollment write.
    registered: Option<HashMap<String, u64>>,
    latest_generated: String,
    /// The newest generated modification times, learnt while listings walk the records.
    extent: Mutex<Extent>,
}

/// For each lazily generated collection, its newest modification time and the attendee
/// positions that carry it. Once a listing has walked every generated record, a query for
/// records modified at or after that time (what a client asks after a complete sync) looks at
/// a handful of positions, not every record.
#[derive(Debug, Default)]
struct Extent {
    attendees: Coverage,
    enrollments: Coverage,
}

/// How far in-order walks have covered the generated records, and the newest seen so far.
#[derive(Debug, Default)]
struct Coverage {
    /// Every generated position below this has been offered.
    covered: u64,
    newest: Newest,
}

/// The newest modification time seen, and where.
#[derive(Debug, Default, Clone)]
pub struct Newest {
    at: String,
    positions: Vec<u64>,
}

impl Newest {
    pub fn offer(&mut self, modified: &str, position: u64) {
        match modified.cmp(self.at.as_str()) {
            std::cmp::Ordering::Greater => {
                self.at = modified.to_string();
                self.positions = vec![position];
            }
            std::cmp::Ordering::Equal if self.positions.last() != Some(&position) => {
                self.positions.push(position)
            }
            _ => {}
        }
    }
}

/// Which lazily generated collection a query walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lazy {
    Attendees,
    Enrollments,
}

impl Dataset {
    pub fn new(generator: Generator) -> Self {
        Dataset {
            events: Held::new(generator.events()),
            sessions: Held::new(generator.sessions()),
            speakers: Held::new(generator.speakers()),
            locations: generator.session_locations(),
            sponsorship_levels: generator.sponsorship_levels(),
            exhibitors: generator.exhibitors(),
            custom_fields: generator.custom_fields(),
            event_questions: generator.event_questions(),
            attendee_count: generator.attendee_count(),
            attendee_changes: BTreeMap::new(),
            added_attendee_ids: HashMap::new(),
            enrollment_changes: BTreeMap::new(),
            registered: None,
            latest_generated: generator.latest_generated_timestamp(),
            extent: Mutex::new(Extent::default()),
            generator,
        }
    }

    /// The positions a query for records modified at or after `floor` must look at, from
    /// `from` on, when that is fewer than all of them; `None` means walk everything.
    /// Where a walk starting at `from` should begin offering generated timestamps so that the
    /// covered prefix grows: the end of that prefix, if the walk starts at or just before it and
    /// the collection is not yet fully covered.
    pub fn coverage_start(&self, lazy: Lazy, from: u64) -> Option<u64> {
        let extent = self.extent.lock().unwrap_or_else(|p| p.into_inner());
        let coverage = match lazy {
            Lazy::Attendees => &extent.attendees,
            Lazy::Enrollments => &extent.enrollments,
        };
        let covered = coverage.covered;
        ((covered == from || covered == from + 1) && covered < self.generator.attendee_count())
            .then_some(covered)
    }

    /// Records that a walk offered every generated position in `from..until` into `seen`.
    pub fn extend_coverage(&self, lazy: Lazy, from: u64, until: u64, seen: &Newest) {
        let mut extent = self.extent.lock().unwrap_or_else(|p| p.into_inner());
        let coverage = match lazy {
            Lazy::Attendees => &mut extent.attendees,
            Lazy::Enrollments => &mut extent.enrollments,
        };
        if coverage.covered != from || until <= from {
            return;
        }
        for position in &seen.positions {
            coverage.newest.offer(&seen.at, *position);
        }
        coverage.covered = until.min(self.generator.attendee_count());
    }

    /// Whether the record at `position` is still the generated one.
    pub fn is_generated(&self, position: u64) -> bool {
        position < self.generator.attendee_count() && !self.attendee_changes.contains_key(&position)
    }

    /// Whether the enrollments at `position` are still the generated ones.
    pub fn enrollments_generated(&self, position: u64) -> bool {
        self.is_generated(position) && !self.enrollment_changes.contains_key(&position)
    }

    pub fn positions_modified_since(&self, lazy: Lazy, floor: &str, from: u64) -> Option<Vec<u64>> {
        let changed: Vec<u64> = match lazy {
            Lazy::Attendees => self.changed_attendee_positions(from).collect(),
            Lazy::Enrollments => self.changed_enrollment_positions(from).collect(),
        };
        if floor > self.latest_generated.as_str() {
            return Some(changed);
        }
        let extent = self.extent.lock().unwrap_or_else(|p| p.into_inner());
        let coverage = match lazy {
            Lazy::Attendees => &extent.attendees,
            Lazy::Enrollments => &extent.enrollments,
        };
        if coverage.covered < self.generator.attendee_count() {
            return None;
        }
        let newest = &coverage.newest;
        match floor.cmp(newest.at.as_str()) {
            std::cmp::Ordering::Greater => Some(changed),
            std::cmp::Ordering::Equal => {
                let mut positions: BTreeSet<u64> = changed.into_iter().collect();
                positions.extend(newest.positions.iter().copied().filter(|p| *p >= from));
                Some(positions.into_iter().collect())
            }
            std::cmp::Ordering::Less => None,
        }
    }

    pub fn generator(&self) -> &Generator {
        &self.generator
    }

    /// No generated record was modified after this; only changes can match a later time.
    pub fn latest_generated(&self) -> &str {
        &self.latest_generated
    }

    pub fn main_event_id(&self) -> String {
        self.generator.event().id
    }

    // ---- attendees -------------------------------------------------------------------------

    /// One past the last attendee position.
    pub fn attendee_end(&self) -> u64 {
        self.attendee_count
    }

    pub fn attendee(&self, position: u64) -> Option<Cow<'_, Attendee>> {
        match self.attendee_changes.get(&position) {
            Some(Some(changed)) => Some(Cow::Borrowed(changed)),
            Some(None) => None,
            None if position < self.generator.attendee_count() => {
                Some(Cow::Owned(self.generator.attendee(position)))
            }
            None => None,
        }
    }

    /// Positions of attendees changed since start, from `from` on.
    pub fn changed_attendee_positions(&self, from: u64) -> impl Iterator<Item = u64> + '_ {
        self.attendee_changes
            .range(from..)
            .map(|(position, _)| *position)
    }

    pub fn attendee_position(&self, id: &str) -> Option<u64> {
        let lowered = id.to_ascii_lowercase();
        if let Some(position) = self.added_attendee_ids.get(&lowered) {
            return Some(*position);
        }
        let position = self.generator.attendee_position(&lowered)?;
        let record = self.attendee(position)?;
        record.id.eq_ignore_ascii_case(id).then_some(position)
    }

    pub fn attendee_by_id(&self, id: &str) -> Option<(u64, Cow<'_, Attendee>)> {
        let position = self.attendee_position(id)?;
        Some((position, self.attendee(position)?))
    }

    pub fn live_attendee_count(&self) -> u64 {
        let deleted = self
            .attendee_changes
            .values()
            .filter(|c| c.is_none())
            .count() as u64;
        self.attendee_count - deleted
    }

    /// Stores a changed attendee, moving its `lastModified` to `at`.
    pub fn put_attendee(&mut self, position: u64, mut attendee: Attendee, at: &str) {
        attendee.touch(at);
        self.attendee_changes.insert(position, Some(attendee));
    }

    /// Adds an attendee at the end; returns its position.
    pub fn add_attendee(&mut self, mut attendee: Attendee, at: &str) -> u64 {
        let position = self.attendee_count;
        self.attendee_count += 1;
        attendee.touch(at);
        self.added_attendee_ids
            .insert(attendee.id.to_ascii_lowercase(), position);
        self.attendee_changes.insert(position, Some(attendee));
        position
    }

    pub fn delete_attendee(&mut self, position: u64) {
        self.attendee_changes.insert(position, None);
        self.enrollment_changes.insert(position, Vec::new());
        self.registered = None;
    }

    /// A fresh attendee for the given position, from the generator's template.
    pub fn template_attendee(&self, position: u64) -> Attendee {
        self.generator.attendee(position)
    }

    // ---- enrollments -----------------------------------------------------------------------

    pub fn enrollments(&self, attendee_position: u64) -> Cow<'_, [Enrollment]> {
        if let Some(changed) = self.enrollment_changes.get(&attendee_position) {
            return Cow::Borrowed(changed.as_slice());
        }
        if attendee_position < self.generator.attendee_count()
            && !matches!(self.attendee_changes.get(&attendee_position), Some(None))
        {
            Cow::Owned(self.generator.enrollments(attendee_position))
        } else {
            Cow::Borrowed(&[])
        }
    }

    pub fn changed_enrollment_positions(&self, from: u64) -> impl Iterator<Item = u64> + '_ {
        self.enrollment_changes
            .range(from..)
            .map(|(position, _)| *position)
    }

    pub fn set_enrollments(&mut self, attendee_position: u64, enrollments: Vec<Enrollment>) {
        self.registered = None;
        self.enrollment_changes
            .insert(attendee_position, enrollments);
    }

    /// Registered enrollments of a session, counted over every attendee once and then cached.
    pub fn registered_count(&mut self, session_id: &str) -> u64 {
        if self.registered.is_none() {
            let mut counts: HashMap<String, u64> = HashMap::new();
            for position in 0..self.attendee_count {
                for enrollment in self.enrollments(position).iter() {
                    if enrollment.status == "Registered" && !enrollment.deleted {
                        *counts
                            .entry(enrollment.session.id.to_ascii_lowercase())
                            .or_default() += 1;
                    }
                }
            }
            self.registered = Some(counts);
        }
        self.registered
            .as_ref()
            .and_then(|counts| counts.get(&session_id.to_ascii_lowercase()).copied())
            .unwrap_or(0)
    }

    // ---- travel ----------------------------------------------------------------------------

    /// The air requests filed under an attendee, less those of a guest deleted since.
    pub fn air_request(&self, attendee_position: u64) -> Option<AirRequest> {
        let mut request = self
            .live_generated(attendee_position)
            .then(|| self.generator.air_request(attendee_position))
            .flatten()?;
        if !self.live_generated(attendee_position + 1) {
            request
                .air_request_details
                .retain(|d| d.requester_type.as_deref() != Some("Guest"));
        }
        (!request.air_request_details.is_empty()).then_some(request)
    }

    /// The hotel requests filed under an attendee, less those of a guest deleted since.
    pub fn hotel_request(&self, attendee_position: u64) -> Option<HotelRequest> {
        let mut request = self
            .live_generated(attendee_position)
            .then(|| self.generator.hotel_request(attendee_position))
            .flatten()?;
        if !self.live_generated(attendee_position + 1) {
            request
                .hotel_request_details
                .retain(|d| d.requester_type.as_deref() != Some("Guest"));
        }
        (!request.hotel_request_details.is_empty()).then_some(request)
    }

    fn live_generated(&self, position: u64) -> bool {
        position < self.generator.attendee_count()
            && !matches!(self.attendee_changes.get(&position), Some(None))
    }
}

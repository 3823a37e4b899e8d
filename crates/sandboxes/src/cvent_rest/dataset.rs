//! The sandbox account's data: generated records, overlaid by every change made since start.
//!
//! Attendees and their session enrollments are generated on demand from the seed, so a million of
//! them cost no memory; only records that were changed, added or deleted are stored. Sessions,
//! speakers and the other small collections are held whole. Each live event's lazy records are
//! one `part`; contacts created through the API, and the registration links given out, are in
//! `contacts`.

mod contacts;
mod part;

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use super::generate::Generator;
use super::wire::{
    AirRequest, Attendee, CustomField, Enrollment, Event, EventQuestion, Exhibitor, HotelRequest,
    Session, SessionLocation, Speaker, SponsorshipLevel,
};
use part::{Extent, Part, join, split};
pub use part::{Newest, PART_SHIFT};

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

/// Everything the account holds: its events, and for each live event one `Part` of lazily
/// generated attendees and enrollments.
///
/// An attendee's *position* is global across the account: the event's part number in the high
/// bits ([`PART_SHIFT`]) and the attendee's index within the event below them, so positions of
/// one event are contiguous, every event's come after the previous one's, and a listing walks
/// the account in one ascending order.
#[derive(Debug)]
pub struct Dataset {
    pub events: Held<Event>,
    /// Every event's sessions, the main event's first.
    pub sessions: Held<Session>,
    /// Every event's speakers, the main event's first.
    pub speakers: Held<Speaker>,
    pub sponsorship_levels: Vec<SponsorshipLevel>,
    pub exhibitors: Vec<Exhibitor>,
    pub custom_fields: Vec<CustomField>,
    /// Every event's registration questions, the main event's first.
    pub event_questions: Vec<EventQuestion>,
    parts: Vec<Part>,
    /// Added attendees' ids (lower case) and positions.
    added_attendee_ids: HashMap<String, u64>,
    /// Registered enrollments per session id, computed on the first enrollment write.
    registered: Option<HashMap<String, u64>>,
    /// The newest of the parts' `latest_generated`.
    latest_generated: String,
    /// Created contacts and the registration links given out.
    book: contacts::AddressBook,
}

/// Which lazily generated collection a query walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lazy {
    Attendees,
    Enrollments,
}

impl Dataset {
    /// The account of `main` (its event and the previous edition) and of `further` live events.
    pub fn new(main: Generator, further: Vec<Generator>) -> Self {
        let mut events = main.events();
        let mut sessions = main.sessions();
        let mut speakers = main.speakers();
        let mut event_questions = main.event_questions();
        for generator in &further {
            events.push(generator.event());
            sessions.extend(generator.sessions());
            speakers.extend(generator.speakers());
            event_questions.extend(generator.event_questions());
        }
        let sponsorship_levels = main.sponsorship_levels();
        let exhibitors = main.exhibitors();
        let custom_fields = main.custom_fields();
        let parts: Vec<Part> = std::iter::once(main)
            .chain(further)
            .map(Part::new)
            .collect();
        let latest_generated = parts
            .iter()
            .map(|part| part.latest_generated.clone())
            .max()
            .unwrap_or_default();
        Dataset {
            events: Held::new(events),
            sessions: Held::new(sessions),
            speakers: Held::new(speakers),
            sponsorship_levels,
            exhibitors,
            custom_fields,
            event_questions,
            parts,
            added_attendee_ids: HashMap::new(),
            registered: None,
            latest_generated,
            book: contacts::AddressBook::default(),
        }
    }

    fn part(&self, position: u64) -> Option<(&Part, u64)> {
        let (part, local) = split(position);
        self.parts.get(part).map(|p| (p, local))
    }

    // ---- events and their parts ------------------------------------------------------------

    /// How many live events have attendees here (the main one and the further ones).
    pub fn part_count(&self) -> usize {
        self.parts.len()
    }

    /// The event whose attendees a part holds.
    pub fn part_event_id(&self, part: usize) -> Option<&str> {
        self.parts.get(part).map(|p| p.event_id.as_str())
    }

    /// The part holding an event's attendees (`None` for an event without any, such as the
    /// previous edition, or an unknown one).
    pub fn part_of_event(&self, event_id: &str) -> Option<usize> {
        self.parts
            .iter()
            .position(|part| part.event_id.eq_ignore_ascii_case(event_id))
    }

    /// The parts a listing must walk: the one event's when it is fixed (by the path or by an
    /// `event.id eq` the filter requires), else all of them, in ascending order.
    pub fn parts_for(&self, event_id: Option<&str>) -> Vec<usize> {
        match event_id {
            Some(event_id) => self.part_of_event(event_id).into_iter().collect(),
            None => (0..self.parts.len()).collect(),
        }
    }

    /// The part a global position falls in.
    pub fn part_of(position: u64) -> usize {
        split(position).0
    }

    /// The first global position of a part.
    pub fn part_start(part: usize) -> u64 {
        join(part, 0)
    }

    /// One past the last attendee position of a part.
    pub fn part_end(&self, part: usize) -> u64 {
        self.parts
            .get(part)
            .map_or(join(part, 0), |p| join(part, p.attendee_count))
    }

    /// The session rooms of an event with attendees here.
    pub fn locations(&self, part: usize) -> &[SessionLocation] {
        self.parts.get(part).map_or(&[], |p| p.locations.as_slice())
    }

    // ---- coverage of generated timestamps --------------------------------------------------

    fn extent(&self, part: usize) -> Option<std::sync::MutexGuard<'_, Extent>> {
        self.parts.get(part).map(|p| {
            p.extent
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        })
    }

    /// Where a walk starting at `from` should begin offering generated timestamps so that the
    /// covered prefix of its part grows: the end of that prefix, if the walk starts at or just
    /// before it and the part is not yet fully covered.
    pub fn coverage_start(&self, lazy: Lazy, from: u64) -> Option<u64> {
        let (part, local) = split(from);
        let generated = self.parts.get(part)?.generator.attendee_count();
        let extent = self.extent(part)?;
        let covered = extent.coverage(lazy).covered;
        ((covered == local || covered == local + 1) && covered < generated)
            .then_some(join(part, covered))
    }

    /// Records that a walk offered every generated position in `from..until` (one part) into
    /// `seen`.
    pub fn extend_coverage(&self, lazy: Lazy, from: u64, until: u64, seen: &Newest) {
        let (part, local_from) = split(from);
        let local_until = until.saturating_sub(join(part, 0));
        let Some(generated) = self.parts.get(part).map(|p| p.generator.attendee_count()) else {
            return;
        };
        let Some(mut extent) = self.extent(part) else {
            return;
        };
        let coverage = extent.coverage_mut(lazy);
        if coverage.covered != local_from || local_until <= local_from {
            return;
        }
        for position in &seen.positions {
            coverage.newest.offer(&seen.at, *position);
        }
        coverage.covered = local_until.min(generated);
    }

    /// Whether the record at `position` is still the generated one.
    pub fn is_generated(&self, position: u64) -> bool {
        self.part(position).is_some_and(|(part, local)| {
            local < part.generator.attendee_count() && !part.attendee_changes.contains_key(&local)
        })
    }

    /// When the attendee at `position` was created (milliseconds since 1970), where it is still
    /// the generated one; `None` for a changed, added or removed attendee.
    pub fn generated_created(&self, position: u64) -> Option<i64> {
        let (part, local) = self.part(position)?;
        self.is_generated(position)
            .then(|| part.generator.attendee_created(local))
    }

    /// Whether the enrollments at `position` are still the generated ones.
    pub fn enrollments_generated(&self, position: u64) -> bool {
        self.is_generated(position)
            && self
                .part(position)
                .is_some_and(|(part, local)| !part.enrollment_changes.contains_key(&local))
    }

    /// The positions of `from`'s part a query for records modified at or after `floor` must
    /// look at, from `from` on, when that is fewer than all of them; `None` means walk the part.
    pub fn positions_modified_since(&self, lazy: Lazy, floor: &str, from: u64) -> Option<Vec<u64>> {
        let (index, local) = split(from);
        let part = self.parts.get(index)?;
        let changed: Vec<u64> = match lazy {
            Lazy::Attendees => part
                .attendee_changes
                .range(local..)
                .map(|(position, _)| join(index, *position))
                .collect(),
            Lazy::Enrollments => part
                .enrollment_changes
                .range(local..)
                .map(|(position, _)| join(index, *position))
                .collect(),
        };
        if floor > part.latest_generated.as_str() {
            return Some(changed);
        }
        let extent = self.extent(index)?;
        let coverage = extent.coverage(lazy);
        if coverage.covered < part.generator.attendee_count() {
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

    /// The main event's generator.
    pub fn generator(&self) -> &Generator {
        &self.parts[0].generator
    }

    /// The generator of the event whose attendees a part holds.
    pub fn part_generator(&self, part: usize) -> Option<&Generator> {
        self.parts.get(part).map(|p| &p.generator)
    }

    /// No generated record of any event was modified after this; only changes can match a
    /// later time.
    pub fn latest_generated(&self) -> &str {
        &self.latest_generated
    }

    pub fn main_event_id(&self) -> &str {
        &self.parts[0].event_id
    }

    // ---- attendees -------------------------------------------------------------------------

    pub fn attendee(&self, position: u64) -> Option<Cow<'_, Attendee>> {
        let (part, local) = self.part(position)?;
        part.attendee(local)
    }

    pub fn attendee_position(&self, id: &str) -> Option<u64> {
        let lowered = id.to_ascii_lowercase();
        if let Some(position) = self.added_attendee_ids.get(&lowered) {
            return Some(*position);
        }
        self.parts.iter().enumerate().find_map(|(index, part)| {
            let local = part.generator.attendee_position(&lowered)?;
            let record = part.attendee(local)?;
            record
                .id
                .eq_ignore_ascii_case(id)
                .then_some(join(index, local))
        })
    }

    pub fn attendee_by_id(&self, id: &str) -> Option<(u64, Cow<'_, Attendee>)> {
        let position = self.attendee_position(id)?;
        Some((position, self.attendee(position)?))
    }

    /// Live attendees of every event.
    pub fn live_attendee_count(&self) -> u64 {
        (0..self.parts.len())
            .map(|part| self.live_attendees_of(part))
            .sum()
    }

    /// Live attendees of one event's part.
    pub fn live_attendees_of(&self, part: usize) -> u64 {
        self.parts.get(part).map_or(0, |part| {
            let deleted = part
                .attendee_changes
                .values()
                .filter(|c| c.is_none())
                .count() as u64;
            part.attendee_count - deleted
        })
    }

    /// Stores a changed attendee, moving its `lastModified` to `at`.
    pub fn put_attendee(&mut self, position: u64, mut attendee: Attendee, at: &str) {
        let (part, local) = split(position);
        if let Some(part) = self.parts.get_mut(part) {
            attendee.touch(at);
            part.attendee_changes.insert(local, Some(attendee));
        }
    }

    /// Adds an attendee at the end of an event's part; returns its position.
    pub fn add_attendee(&mut self, part: usize, mut attendee: Attendee, at: &str) -> Option<u64> {
        let store = self.parts.get_mut(part)?;
        let local = store.attendee_count;
        store.attendee_count += 1;
        attendee.touch(at);
        let position = join(part, local);
        self.added_attendee_ids
            .insert(attendee.id.to_ascii_lowercase(), position);
        store.attendee_changes.insert(local, Some(attendee));
        Some(position)
    }

    pub fn delete_attendee(&mut self, position: u64) {
        let (part, local) = split(position);
        if let Some(part) = self.parts.get_mut(part) {
            part.attendee_changes.insert(local, None);
            part.enrollment_changes.insert(local, Vec::new());
        }
        self.registered = None;
    }

    /// A fresh attendee for the given position, from its event generator's template.
    pub fn template_attendee(&self, position: u64) -> Option<Attendee> {
        let (part, local) = self.part(position)?;
        Some(part.generator.attendee(local))
    }

    // ---- enrollments -----------------------------------------------------------------------

    pub fn enrollments(&self, attendee_position: u64) -> Cow<'_, [Enrollment]> {
        let Some((part, local)) = self.part(attendee_position) else {
            return Cow::Borrowed(&[]);
        };
        if let Some(changed) = part.enrollment_changes.get(&local) {
            return Cow::Borrowed(changed.as_slice());
        }
        if part.live_generated(local) {
            Cow::Owned(part.generator.enrollments(local))
        } else {
            Cow::Borrowed(&[])
        }
    }

    pub fn set_enrollments(&mut self, attendee_position: u64, enrollments: Vec<Enrollment>) {
        self.registered = None;
        let (part, local) = split(attendee_position);
        if let Some(part) = self.parts.get_mut(part) {
            part.enrollment_changes.insert(local, enrollments);
        }
    }

    /// Registered enrollments of a session, counted over every attendee once and then cached.
    pub fn registered_count(&mut self, session_id: &str) -> u64 {
        if self.registered.is_none() {
            let mut counts: HashMap<String, u64> = HashMap::new();
            for part in 0..self.parts.len() {
                for position in Self::part_start(part)..self.part_end(part) {
                    for enrollment in self.enrollments(position).iter() {
                        if enrollment.status == "Registered" && !enrollment.deleted {
                            *counts
                                .entry(enrollment.session.id.to_ascii_lowercase())
                                .or_default() += 1;
                        }
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
        let (part, local) = self.part(attendee_position)?;
        let mut request = part
            .live_generated(local)
            .then(|| part.generator.air_request(local))
            .flatten()?;
        if !part.live_generated(local + 1) {
            request
                .air_request_details
                .retain(|d| d.requester_type.as_deref() != Some("Guest"));
        }
        (!request.air_request_details.is_empty()).then_some(request)
    }

    /// The hotel requests filed under an attendee, less those of a guest deleted since.
    pub fn hotel_request(&self, attendee_position: u64) -> Option<HotelRequest> {
        let (part, local) = self.part(attendee_position)?;
        let mut request = part
            .live_generated(local)
            .then(|| part.generator.hotel_request(local))
            .flatten()?;
        if !part.live_generated(local + 1) {
            request
                .hotel_request_details
                .retain(|d| d.requester_type.as_deref() != Some("Guest"));
        }
        (!request.hotel_request_details.is_empty()).then_some(request)
    }
}

//! One live event's share of the sandbox account: its lazily generated attendees and
//! enrollments, overlaid by their changes, and what listings have learnt of their timestamps.
//!
//! Positions inside a part are local to its event; [`join`] and [`split`] convert to and from
//! the account-wide positions listings page by.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Mutex;

use super::super::generate::Generator;
use super::super::wire::{Attendee, Enrollment, SessionLocation};
use super::Lazy;

/// Where the event number sits in a global attendee position: 2^40 attendees per event is more
/// than any sandbox serves.
pub const PART_SHIFT: u32 = 40;
const LOCAL_MASK: u64 = (1 << PART_SHIFT) - 1;

pub(super) fn split(position: u64) -> (usize, u64) {
    ((position >> PART_SHIFT) as usize, position & LOCAL_MASK)
}

pub(super) fn join(part: usize, local: u64) -> u64 {
    ((part as u64) << PART_SHIFT) | local
}

/// One live event's lazily generated attendees and enrollments, overlaid by their changes.
/// Positions here are local to the event.
#[derive(Debug)]
pub(super) struct Part {
    pub(super) generator: Generator,
    pub(super) event_id: String,
    pub(super) locations: Vec<SessionLocation>,
    /// Attendee positions past the generated ones are additions.
    pub(super) attendee_count: u64,
    /// Changed (`Some`) or deleted (`None`) attendees by position.
    pub(super) attendee_changes: BTreeMap<u64, Option<Attendee>>,
    /// Replaced enrollment lists by attendee position.
    pub(super) enrollment_changes: BTreeMap<u64, Vec<Enrollment>>,
    pub(super) latest_generated: String,
    /// The newest generated modification times, learnt while listings walk the records.
    pub(super) extent: Mutex<Extent>,
}

impl Part {
    pub(super) fn new(generator: Generator) -> Part {
        Part {
            event_id: generator.event().id,
            locations: generator.session_locations(),
            attendee_count: generator.attendee_count(),
            attendee_changes: BTreeMap::new(),
            enrollment_changes: BTreeMap::new(),
            latest_generated: generator.latest_generated_timestamp(),
            extent: Mutex::new(Extent::default()),
            generator,
        }
    }

    pub(super) fn attendee(&self, local: u64) -> Option<Cow<'_, Attendee>> {
        match self.attendee_changes.get(&local) {
            Some(Some(changed)) => Some(Cow::Borrowed(changed)),
            Some(None) => None,
            None if local < self.generator.attendee_count() => {
                Some(Cow::Owned(self.generator.attendee(local)))
            }
            None => None,
        }
    }

    pub(super) fn live_generated(&self, local: u64) -> bool {
        local < self.generator.attendee_count()
            && !matches!(self.attendee_changes.get(&local), Some(None))
    }
}

/// For each lazily generated collection, its newest modification time and the attendee
/// positions that carry it. Once a listing has walked every generated record, a query for
/// records modified at or after that time (what a client asks after a complete sync) looks at
/// a handful of positions, not every record.
#[derive(Debug, Default)]
pub(super) struct Extent {
    attendees: Coverage,
    enrollments: Coverage,
}

/// How far in-order walks have covered the generated records, and the newest seen so far.
#[derive(Debug, Default)]
pub(super) struct Coverage {
    /// Every generated position below this has been offered.
    pub(super) covered: u64,
    pub(super) newest: Newest,
}

/// The newest modification time seen, and where.
#[derive(Debug, Default, Clone)]
pub struct Newest {
    pub(super) at: String,
    pub(super) positions: Vec<u64>,
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

impl Extent {
    pub(super) fn coverage(&self, lazy: Lazy) -> &Coverage {
        match lazy {
            Lazy::Attendees => &self.attendees,
            Lazy::Enrollments => &self.enrollments,
        }
    }

    pub(super) fn coverage_mut(&mut self, lazy: Lazy) -> &mut Coverage {
        match lazy {
            Lazy::Attendees => &mut self.attendees,
            Lazy::Enrollments => &mut self.enrollments,
        }
    }
}

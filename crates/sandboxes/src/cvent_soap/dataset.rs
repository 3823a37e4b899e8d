//! The account's data: the generated records overlaid by every change made since start (control
//! API or write calls), so queries about changes look at the changes only.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::generate::{self, Generator, SESSIONS, SPEAKERS, parse_timestamp, timestamp};
use super::xml::Element;

/// The object types this account serves, as `DescribeGlobal` lists them. `Speaker` is the
/// sandbox's documented default for presenters: the public material does not confirm the name.
pub const OBJECT_TYPES: &[&str] = &["Event", "Registration", "Contact", "Speaker"];

pub struct Dataset {
    pub generator: Generator,
    /// Registrations changed, added (index ≥ generated count) or deleted (`None`) since start.
    registrations: BTreeMap<u64, Option<Element>>,
    contacts: BTreeMap<u64, Element>,
    /// Registrations in all, generated and added.
    count: u64,
    event: Element,
    speakers: Vec<Element>,
}

impl Dataset {
    pub fn new(generator: Generator) -> Dataset {
        let event = generator.event();
        let speakers = (0..SPEAKERS).map(|k| generator.speaker(k)).collect();
        Dataset {
            count: generator.attendees,
            generator,
            registrations: BTreeMap::new(),
            contacts: BTreeMap::new(),
            event,
            speakers,
        }
    }

    pub fn event(&self) -> &Element {
        &self.event
    }

    pub fn event_mut(&mut self) -> &mut Element {
        &mut self.event
    }

    pub fn speakers(&self) -> &[Element] {
        &self.speakers
    }

    pub fn speakers_mut(&mut self) -> &mut [Element] {
        &mut self.speakers
    }

    /// Registration positions ever handed out (some may be deleted).
    pub fn registration_count(&self) -> u64 {
        self.count
    }

    pub fn registration(&self, index: u64) -> Option<Element> {
        match self.registrations.get(&index) {
            Some(changed) => changed.clone(),
            None if index < self.generator.attendees => Some(self.generator.registration(index)),
            None => None,
        }
    }

    pub fn registration_by_id(&self, id: &str) -> Option<(u64, Element)> {
        let index = self.generator.registration_index(id)?;
        self.registration(index).map(|r| (index, r))
    }

    pub fn contact(&self, index: u64) -> Option<Element> {
        match self.contacts.get(&index) {
            Some(changed) => Some(changed.clone()),
            None if index < self.count => Some(self.generator.contact(index)),
            None => None,
        }
    }

    pub fn contact_by_id(&self, id: &str) -> Option<Element> {
        self.contact(self.generator.contact_index(id)?)
    }

    /// Whether a registration position holds a registration (the fast path of Search).
    pub fn exists(&self, index: u64) -> bool {
        match self.registrations.get(&index) {
            Some(changed) => changed.is_some(),
            None => index < self.generator.attendees,
        }
    }

    /// Stores a changed registration, stamping its `LastModifiedDate`.
    pub fn put_registration(&mut self, index: u64, mut registration: Element, now: DateTime<Utc>) {
        set(&mut registration, "LastModifiedDate", &timestamp(now));
        self.registrations.insert(index, Some(registration));
        self.count = self.count.max(index + 1);
    }

    pub fn put_contact(&mut self, index: u64, mut contact: Element, now: DateTime<Utc>) {
        set(&mut contact, "LastModifiedDate", &timestamp(now));
        self.contacts.insert(index, contact);
    }

    pub fn delete_registration(&mut self, index: u64) -> bool {
        let existed = self.exists(index);
        self.registrations.insert(index, None);
        existed
    }

    /// A new registration at the next position: a generated one with `fields` set over it.
    pub fn add_registration(&mut self, fields: &[(String, String)], now: DateTime<Utc>) -> Element {
        let index = self.count;
        let mut registration = self.generator.registration(index);
        set(&mut registration, "RegistrationDate", &timestamp(now));
        for (name, value) in fields {
            set(&mut registration, name, value);
        }
        self.put_registration(index, registration.clone(), now);
        let contact = self.generator.contact(index);
        self.put_contact(index, contact, now);
        set(&mut registration, "LastModifiedDate", &timestamp(now));
        registration
    }

    /// Registration positions modified within `[from, to]` (whole minutes), oldest data first.
    pub fn registrations_updated(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<u64> {
        let mut found = Vec::new();
        let in_window = |element: &Element| {
            element
                .attribute("LastModifiedDate")
                .and_then(parse_timestamp)
                .is_some_and(|at| at >= from && at < to)
        };
        // Generated records all lie between the account's creation and the snapshot; walk them
        // only when the window overlaps that span, and read their times without building them.
        // The naive timestamps keep milliseconds, so compare at that precision.
        if from <= generate::snapshot_at() && to > generate::created_at() {
            for index in 0..self.generator.attendees {
                if self.registrations.contains_key(&index) {
                    continue;
                }
                let (_, modified) = self.generator.registration_times(index);
                if modified >= from && modified < to {
                    found.push(index);
                }
            }
        }
        for (index, changed) in &self.registrations {
            if changed.as_ref().is_some_and(in_window) {
                found.push(*index);
            }
        }
        found.sort_unstable();
        found
    }

    /// The session product `ProductDetail` with this id.
    pub fn session(&self, id: &str) -> Option<&Element> {
        self.event
            .children_named("ProductDetail")
            .find(|p| p.attribute("ProductId") == Some(id))
    }

    pub fn session_index(&self, id: &str) -> Option<u64> {
        self.generator.session_index(id).filter(|j| *j < SESSIONS)
    }
}

/// Sets an attribute, adding it when absent.
pub fn set(element: &mut Element, name: &str, value: &str) {
    match element.attributes.iter_mut().find(|(k, _)| k == name) {
        Some((_, v)) => *v = value.to_string(),
        None => element
            .attributes
            .push((name.to_string(), value.to_string())),
    }
}

//! The account's address book, as far as the sandbox keeps one, and the registration links it
//! gave out.
//!
//! A generated contact is not stored: it lives in the generated attendee that embeds it, found
//! from its id without a table. Contacts created through `POST /contacts` are stored here, with
//! the attendees created for them (each embeds a copy, kept equal on every change) and an index
//! by email, the account's default match key. Finding a generated contact by email walks the
//! attendees, as an upsert of a new person must: it costs a pass over the account, which only
//! contact creation pays.

use std::collections::HashMap;

use super::super::wire::{Attendee, Contact};
use super::Dataset;
use super::part::join;

/// Created contacts, who embeds them, and registration links.
#[derive(Debug, Default)]
pub(super) struct AddressBook {
    /// Created contacts by lower-case id.
    created: HashMap<String, Contact>,
    /// Created contacts' lower-case ids by lower-case email.
    by_email: HashMap<String, String>,
    /// Positions of the attendees created for a contact (by lower-case contact id).
    attendees: HashMap<String, Vec<u64>>,
    /// Attendee positions by registration link token.
    links: HashMap<String, u64>,
}

impl Dataset {
    /// The contact with this id: a created one, or one a live attendee embeds.
    pub fn contact(&self, id: &str) -> Option<Contact> {
        if let Some(contact) = self.book.created.get(&id.to_ascii_lowercase()) {
            return Some(contact.clone());
        }
        let position = self.generated_owner(id)?;
        Some(self.attendee(position)?.contact.clone())
    }

    /// The contact whose email is `email`, compared without regard to letter case.
    pub fn contact_by_email(&self, email: &str) -> Option<Contact> {
        let wanted = email.trim();
        if let Some(id) = self.book.by_email.get(&wanted.to_ascii_lowercase()) {
            return self.book.created.get(id).cloned();
        }
        (0..self.part_count())
            .flat_map(|part| Self::part_start(part)..self.part_end(part))
            .filter_map(|position| self.attendee(position))
            .find(|attendee| {
                attendee
                    .contact
                    .email
                    .as_deref()
                    .is_some_and(|email| email.trim().eq_ignore_ascii_case(wanted))
            })
            .map(|attendee| attendee.contact.clone())
    }

    /// How many contacts were created so far (each new one's id is drawn from this count).
    pub fn created_contact_count(&self) -> u64 {
        self.book.created.len() as u64
    }

    /// Stores a new contact.
    pub fn create_contact(&mut self, contact: Contact) {
        let id = contact.id.to_ascii_lowercase();
        if let Some(email) = &contact.email {
            self.book
                .by_email
                .insert(email.trim().to_ascii_lowercase(), id.clone());
        }
        self.book.created.insert(id, contact);
    }

    /// Replaces a contact, and its copy in every attendee embedding it (moving their
    /// `lastModified`, not their `attendeeLastModified`: only `contact.*` changed).
    pub fn update_contact(&mut self, contact: Contact, at: &str) {
        let id = contact.id.to_ascii_lowercase();
        if let Some(previous) = self.book.created.get(&id) {
            if let Some(email) = &previous.email {
                self.book
                    .by_email
                    .remove(&email.trim().to_ascii_lowercase());
            }
            if let Some(email) = &contact.email {
                self.book
                    .by_email
                    .insert(email.trim().to_ascii_lowercase(), id.clone());
            }
            self.book.created.insert(id.clone(), contact.clone());
        }
        let mut positions = self.book.attendees.get(&id).cloned().unwrap_or_default();
        if let Some(owner) = self.generated_owner(&id)
            && !positions.contains(&owner)
        {
            positions.push(owner);
        }
        for position in positions {
            if let Some(attendee) = self.attendee(position) {
                let mut attendee = attendee.into_owned();
                attendee.contact = contact.clone();
                self.put_attendee(position, attendee, at);
            }
        }
    }

    /// The attendee of the event with attendee part `part` whose contact is `contact_id`.
    pub fn attendee_of_contact(&self, part: usize, contact_id: &str) -> Option<u64> {
        let owner = self
            .generated_owner(contact_id)
            .filter(|position| Self::part_of(*position) == part);
        owner.or_else(|| {
            self.book
                .attendees
                .get(&contact_id.to_ascii_lowercase())?
                .iter()
                .copied()
                .find(|position| {
                    Self::part_of(*position) == part && self.attendee(*position).is_some()
                })
        })
    }

    /// Adds an attendee created for a contact, reachable through its registration link `token`;
    /// returns its position.
    pub fn add_invitee(
        &mut self,
        part: usize,
        attendee: Attendee,
        token: String,
        at: &str,
    ) -> Option<u64> {
        let contact_id = attendee.contact.id.to_ascii_lowercase();
        let position = self.add_attendee(part, attendee, at)?;
        self.book
            .attendees
            .entry(contact_id)
            .or_default()
            .push(position);
        self.book.links.insert(token, position);
        Some(position)
    }

    /// Makes the attendee at `position` reachable through the registration link `token`.
    pub fn link_registration(&mut self, token: String, position: u64) {
        self.book.links.insert(token, position);
    }

    /// The position of the attendee a registration link token was given to.
    pub fn registration_link(&self, token: &str) -> Option<u64> {
        self.book.links.get(token).copied()
    }

    /// The position of the live attendee that embeds a contact of the generated kind: the one
    /// the contact's id was generated for.
    fn generated_owner(&self, contact_id: &str) -> Option<u64> {
        self.parts.iter().enumerate().find_map(|(index, part)| {
            let local = part.generator.contact_position(contact_id)?;
            let attendee = part.attendee(local)?;
            attendee
                .contact
                .id
                .eq_ignore_ascii_case(contact_id)
                .then_some(join(index, local))
        })
    }
}

//! The pure core of a sync: flatten a vendor record into dotted paths, map them onto a data
//! type's workspace fields, validate the result, and diff it against the workspace's copy.
//!
//! ```text
//! serde_json::Value ─flatten─► Flat ─Mapping::apply─► Mapped ─validate─► Record ─diff─► Action
//!                                                                   └──► Rejection
//! ```
//!
//! **Invariant:** this crate does no I/O. Connectors hand it vendor JSON, the engine hands it
//! the workspace's record; everything here is a function of its arguments, so every rule is
//! tested with tables of data.
//!
//! ```
//! use std::collections::BTreeSet;
//!
//! use pipeline::{Action, DataType, Mapping, Rule, ValueMap, diff, flatten, merge, validate};
//!
//! let status = ValueMap::new([("Cancelled", "cancelled")]).with_default("active");
//! let mapping = Mapping {
//!     rules: vec![
//!         Rule::new("id", "external_id"),
//!         Rule::new("status", "status").with_values(status),
//!         Rule::new("contact.firstName", "first_name"),
//!         Rule::new("contact.lastName", "last_name"),
//!         Rule::new("contact.id", "contact_id"),
//!         Rule::new("contact.email", "email"),
//!     ],
//! };
//! assert!(mapping.validate(DataType::People)?.is_empty());
//!
//! let vendor = serde_json::json!({
//!     "id": "a-1",
//!     "status": "Accepted",
//!     "contact": {"id": "c-1", "firstName": "Ada", "lastName": "Lovelace"}
//! });
//! let mut mapped = mapping.apply(&flatten(&vendor), DataType::People);
//! let empty = std::mem::take(&mut mapped.empty); // `email` was absent: leave it alone
//! let record = validate(mapped, DataType::People)?;
//!
//! assert_eq!(diff(&record, &empty, None), Action::Create);
//! let stored = merge(None, &record, &empty);
//! assert_eq!(diff(&record, &empty, Some(&stored)), Action::Unchanged);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cut;
mod diff;
mod flatten;
mod mapping;
pub mod rules;
mod schema;
mod validate;
mod value;

#[cfg(test)]
mod fixtures;

pub use cut::{NulDropped, cut_members, drop_nul};
pub use diff::{Action, ActionKind, Change, diff, merge};
pub use flatten::{Flat, FlatJson, Scalar, flatten, flatten_json};
pub use mapping::{FieldProblem, Mapped, Mapping, MappingError, Rule, ValueMap, Warning};
pub use rules::filter::{Filter, FilterError};
pub use rules::status::{StatusSelection, StatusSkipped, StatusVerdict, UnknownStatus};
pub use schema::{
    CANCELLED, CUSTOM_PREFIX, DataType, Field, FieldType, PERSON_STATUSES, REGISTRATION_STATUSES,
    REQUESTER_TYPES, TRAVEL_STATUSES, UnknownDataType, is_custom_field,
};
pub use validate::{Record, RejectReason, Rejection, validate};
pub use value::FieldValue;

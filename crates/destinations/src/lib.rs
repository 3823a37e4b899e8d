//! The systems the workspace feeds: each reads the change feed from a checkpoint of its own,
//! turns the changes it cares about into outbox items (in the transaction that moves its
//! checkpoint), and brings itself in line with the workspace when an item is delivered.
//!
//! A destination is a module behind [`Destination`]; the feed worker and the outbox know only
//! that. Adding one (an event app's API, a CRM) adds a module and a variant here, never a
//! change to the engine or the store.

pub mod check;
pub mod feed;
pub mod imis;

pub use check::check_connection;
pub use feed::{Destination, destinations, follow_feed};

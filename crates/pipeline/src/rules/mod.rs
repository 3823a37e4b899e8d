//! The integration rules that decide, per record, whether a vendor record reaches the diff at
//! all: which vendor statuses are imported ([`status`]) and the per-data-type filters on mapped
//! fields ([`filter`]); data labels ([`labels`]), which fill `custom.<name>` from a
//! question's answer found by the question's id; and the guest switches ([`guests`]), which tag
//! guests' session registrations and register primaries to their guests' sessions; and
//! [`references`], which rejects records pointing at what the workspace lacks. All are pure: the engine hands them what it knows and reports their
//! verdicts, so every rule is tested with tables of data.

pub mod edits;
pub mod filter;
pub mod guests;
pub mod labels;
pub mod references;
pub mod status;

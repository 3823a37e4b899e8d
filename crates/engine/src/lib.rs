//! Runs previews and syncs: a connector's pages go through flatten → map → validate → diff and,
//! for a sync, into the store one transaction per page.
//!
//! The engine is vendor-neutral: it talks to vendors only through `connectors::AnyConnector`, and
//! to the workspace only through `store::Store`.

pub mod changes;
pub mod config;
mod connect;
mod facts;
pub mod import;
pub mod lease;
pub mod report;
pub mod run;
pub mod sensitive;
pub mod totals;
pub mod workbook;

pub use config::{Config, ConfigError, Connection, Secret, VendorSettings};
pub use connect::{account_key, connect, event_code, imis_client};
pub use lease::{LeaseTiming, RunError};
pub use run::{EngineError, Progress, RunKind, RunOptions, RunReport, RunStatus, TypeSummary, run};

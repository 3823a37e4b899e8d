//! Exit codes, the same for every command.

pub const SUCCESS: u8 = 0;
/// Something failed: the vendor, the database, the network.
pub const FAILURE: u8 = 1;
/// The command line or the configuration is wrong; the message says what to fix.
pub const USAGE: u8 = 2;
/// The vendor's daily quota ran out; state is saved and the next run resumes.
pub const PAUSED: u8 = 3;
/// Partly done: some data types failed, or a check found problems.
pub const PARTIAL: u8 = 4;
/// Another preview or sync of the connection is going (in this or another process); the
/// message names its run. Nothing was done: try again once it has ended.
pub const BUSY: u8 = 5;

pub const HELP: &str = "Exit codes: 0 success, 1 failure, 2 bad usage or configuration, \
3 paused until the vendor's daily quota resets, 4 partly done (some data types failed, or a check found problems), \
5 another run of the connection is going.";

/// Configuration mistakes, a configuration workbook's included, and refusals of what the command
/// line named exit with USAGE; a run refused because another holds its connection with BUSY;
/// everything else with FAILURE.
pub fn code_for(error: &anyhow::Error) -> u8 {
    if let Some(engine::RunError::InProgress(_)) = error.downcast_ref::<engine::RunError>() {
        BUSY
    } else if error.downcast_ref::<engine::ConfigError>().is_some()
        || error.downcast_ref::<crate::failure::Refusal>().is_some()
        || error
            .downcast_ref::<engine::workbook::WorkbookError>()
            .is_some()
    {
        USAGE
    } else {
        FAILURE
    }
}

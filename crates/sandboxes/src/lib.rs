//! Local simulators of the vendor APIs eventsync talks to, faithful to their published contracts.
//!
//! Each vendor has one module. The sandboxes serve the demo, the tests and the benchmarks, and let
//! an integrator rehearse an event before touching a real account.

pub mod aventri;
pub mod clock;
pub mod cvent_rest;
pub mod cvent_soap;
pub mod python;
pub mod seeded;

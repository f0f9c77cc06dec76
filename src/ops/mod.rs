//! Operations around the checks: run records.

pub mod runs;

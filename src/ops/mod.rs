//! Operations around the checks: locks and run records.

pub mod lock;
pub mod runs;

//! Operations around the checks: locks, run records, health.

pub mod health;
pub mod lock;
pub mod runs;

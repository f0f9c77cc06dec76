//! Operations around the checks: locks, run records, health, metrics and pings.

pub mod alert_mail;
pub mod alerts;
pub mod explain;
pub mod export;
pub mod health;
pub mod lock;
pub mod metrics;
pub mod purge;
pub mod resend;
pub mod runs;
pub mod stats;

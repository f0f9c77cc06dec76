//! The checks: one folder each (its SQL in `query.rs`, its pure rule in `rule.rs`, what it says
//! of its alerts in `present.rs`, its settings in `settings.rs`, its wiring in `mod.rs`), one
//! [`check::Check`] trait, and one registry ([`registry`]) — the only place that lists them.

pub mod budget;
pub mod check;
pub mod contracts;
pub mod deadlines;
pub mod registry;
pub mod run;
pub mod runner;
pub mod settings;
pub mod stages;
pub mod stale_work;
pub mod start_dates;
pub mod task_reminders;
pub mod tasks;

//! The stale-work check's settings.

use crate::checks::settings::{Configure, Input};
use crate::keyspec::KeySpec;
use anyhow::Result;

/// Its keys (`config show`, the man page and the example configuration list them).
pub const KEYS: &[KeySpec] = &[
    KeySpec::check(
        "stale_work.days",
        "14",
        "(recommended) a task in progress (EN_COURS) not modified for this many days is stale: its assignee is told once per staleness (modifying the task re-arms it), its project's responsable gets a weekly summary; check stale-work",
    ),
    KeySpec::check(
        "stale_work.blocked_days",
        "7",
        "(recommended) a blocked task (BLOQUEE) not modified for this many days is stale, said as blocked (WARNING); check stale-work",
    ),
];

/// Its settings after the profile is applied.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Settings {
    /// Days without a change after which a task in progress is stale.
    pub days: u32,
    /// Days without a change after which a blocked task is stale.
    pub blocked_days: u32,
}

impl Configure for Settings {
    /// The reference has no such check.
    fn reference() -> Settings {
        Settings {
            days: 14,
            blocked_days: 7,
        }
    }

    fn configure(input: &Input<'_>) -> Result<Settings> {
        Ok(Settings {
            days: input.range("stale_work.days", 1, 366)?,
            blocked_days: input.range("stale_work.blocked_days", 1, 366)?,
        })
    }
}

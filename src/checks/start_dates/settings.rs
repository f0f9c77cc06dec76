//! The start-dates check's settings.

use crate::checks::settings::{Configure, Input};
use crate::keyspec::KeySpec;
use anyhow::Result;

/// Its keys (`config show`, the man page and the example configuration list them).
pub const KEYS: &[KeySpec] = &[
    KeySpec::check(
        "start_dates.remind_after_days",
        "3",
        "(recommended) a stage or task still not started this many days after its planned start is said again, once (open days when calendar.business_days lists start-dates); 0: said once only; check start-dates",
    ),
    KeySpec::check(
        "start_dates.lookback_days",
        "14",
        "(recommended) planned starts older than this many days are not reported (a first run would otherwise report every stage and task that never started, however old); check start-dates",
    ),
];

/// Its settings after the profile is applied.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Settings {
    /// Days after the planned start of the second alert; 0: none.
    pub remind_after_days: u32,
    /// Planned starts this many days ago at most are reported.
    pub lookback_days: u32,
}

impl Configure for Settings {
    /// The reference has no such check: nothing to report.
    fn reference() -> Settings {
        Settings {
            remind_after_days: 0,
            lookback_days: 0,
        }
    }

    fn configure(input: &Input<'_>) -> Result<Settings> {
        let lookback_days = input.range("start_dates.lookback_days", 1, 366)?;
        let remind_after_days = input.range("start_dates.remind_after_days", 0, 60)?;
        if remind_after_days >= lookback_days {
            anyhow::bail!(
                "start_dates.remind_after_days = {remind_after_days} must be below start_dates.lookback_days = {lookback_days} (the second alert would never come)"
            );
        }
        Ok(Settings {
            remind_after_days,
            lookback_days,
        })
    }
}

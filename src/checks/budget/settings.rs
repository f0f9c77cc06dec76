//! The budget check's settings: its keys and what they become once the profile is applied.

use crate::checks::settings::{Configure, Input};
use crate::keyspec::KeySpec;
use anyhow::{bail, Result};

/// Its keys (`config show`, the man page and the example configuration list them).
pub const KEYS: &[KeySpec] = &[
    KeySpec::check(
        "recommended.budget_thresholds",
        "true",
        "(recommended §3.2.6) alert once per (project, threshold, planned budget) when consumption reaches budget.thresholds",
    ),
    KeySpec::check(
        "budget.thresholds",
        "[75, 90]",
        "(recommended) consumption percentages that alert once: the highest is BUDGET_CRITIQUE, the others BUDGET_ATTENTION (WARNING)",
    ),
];

/// Its settings after the profile is applied.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Settings {
    /// Consumption thresholds in percent, ascending (empty: none, as the reference).
    pub thresholds: Vec<u32>,
}

impl Configure for Settings {
    fn reference() -> Settings {
        Settings {
            thresholds: Vec::new(),
        }
    }

    fn configure(input: &Input<'_>) -> Result<Settings> {
        let mut thresholds = Vec::new();
        if input.flag("recommended.budget_thresholds")? {
            thresholds = input.days("budget.thresholds", 99)?;
            if thresholds.contains(&0) {
                bail!("budget.thresholds: percentages must be between 1 and 99 (above 100 % is BUDGET_DEPASSE)");
            }
            thresholds.sort_unstable();
        }
        Ok(Settings { thresholds })
    }
}

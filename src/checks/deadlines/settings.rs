//! The deadlines check's settings: its keys and what they become once the profile is applied.

use crate::checks::settings::{Configure, Input};
use crate::keyspec::KeySpec;
use anyhow::{bail, Result};

/// Its keys (`config show`, the man page and the example configuration list them).
pub const KEYS: &[KeySpec] = &[
    KeySpec::check(
        "recommended.deadline_day_alert",
        "true",
        "(recommended §3.2.2) add the J-0 milestone (ECHEANCE_J0, DANGER) on the deadline day",
    ),
    KeySpec::check(
        "deadlines.milestones",
        "[7, 3, 1]",
        "(recommended) days before the project deadline that alert; 7, 3 and 1 keep the reference texts and types",
    ),
    KeySpec::check(
        "deadlines.team_milestones",
        "[7]",
        "(recommended) milestones whose alert also goes to the whole project team",
    ),
];

/// Its settings after the profile is applied.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Settings {
    /// Milestones, in days before the deadline, largest first (0 = the deadline day).
    pub milestones: Vec<u32>,
    /// Milestones whose alert also reaches the whole team.
    pub team_milestones: Vec<u32>,
}

impl Configure for Settings {
    fn reference() -> Settings {
        Settings {
            milestones: vec![7, 3, 1],
            team_milestones: vec![7],
        }
    }

    fn configure(input: &Input<'_>) -> Result<Settings> {
        let mut milestones = input.days("deadlines.milestones", 365)?;
        milestones.retain(|d| *d > 0);
        if input.flag("recommended.deadline_day_alert")? {
            milestones.push(0);
        }
        if milestones.is_empty() {
            bail!("deadlines.milestones: at least one milestone is needed");
        }
        Ok(Settings {
            milestones,
            team_milestones: input.days("deadlines.team_milestones", 365)?,
        })
    }
}

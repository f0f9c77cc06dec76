//! The task-reminders check's settings: its keys and what they become once the profile is applied.

use crate::checks::settings::{Configure, Input};
use crate::keyspec::KeySpec;
use anyhow::{bail, Result};

/// Its keys (`config show`, the man page and the example configuration list them).
pub const KEYS: &[KeySpec] = &[
    KeySpec::check(
        "task_reminders.milestones",
        "[1, 0]",
        "(recommended) days before an open task's due date that remind its assignee (1: due tomorrow, 0: due today), once per (task, due date, milestone), with catch-up; check task-reminders",
    ),
];

/// Its settings after the profile is applied.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Settings {
    /// Reminders, in days before an open task's due date, largest first.
    pub milestones: Vec<u32>,
}

impl Configure for Settings {
    fn reference() -> Settings {
        Settings {
            milestones: Vec::new(),
        }
    }

    fn configure(input: &Input<'_>) -> Result<Settings> {
        let milestones = input.days("task_reminders.milestones", 30)?;
        if milestones.is_empty() {
            bail!("task_reminders.milestones: at least one milestone is needed (0: the due day)");
        }
        Ok(Settings { milestones })
    }
}

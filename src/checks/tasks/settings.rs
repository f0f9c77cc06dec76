//! The tasks check's settings: its keys and what they become once the profile is applied.

use crate::checks::settings::{Configure, Input};
use crate::keyspec::KeySpec;
use anyhow::Result;

/// Its keys (`config show`, the man page and the example configuration list them).
pub const KEYS: &[KeySpec] = &[
    KeySpec::check(
        "recommended.module_tasks",
        "true",
        "(recommended §3.2.5) overdue module tasks (core_tachemodule: A_FAIRE, EN_COURS, EN_PAUSE) alert like stage tasks",
    ),
    KeySpec::check(
        "recommended.skip_closed_project_tasks",
        "true",
        "(recommended §3.2.5) tasks of TERMINE, ARCHIVE or SUSPENDU projects do not alert",
    ),
];

/// Its settings after the profile is applied.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Settings {
    /// Module tasks are checked like stage tasks.
    pub module_tasks: bool,
    /// Tasks of TERMINE, ARCHIVE or SUSPENDU projects are skipped.
    pub skip_closed_projects: bool,
}

impl Configure for Settings {
    fn reference() -> Settings {
        Settings {
            module_tasks: false,
            skip_closed_projects: false,
        }
    }

    fn configure(input: &Input<'_>) -> Result<Settings> {
        Ok(Settings {
            module_tasks: input.flag("recommended.module_tasks")?,
            skip_closed_projects: input.flag("recommended.skip_closed_project_tasks")?,
        })
    }
}

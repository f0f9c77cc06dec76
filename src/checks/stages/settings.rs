//! The stages check's settings: its keys and what they become once the profile is applied.

use crate::checks::settings::{Configure, Input};
use crate::keyspec::KeySpec;
use anyhow::Result;

/// Its keys (`config show`, the man page and the example configuration list them).
pub const KEYS: &[KeySpec] = &[
    KeySpec::check(
        "recommended.stage_labels",
        "true",
        "(recommended §3.2.8) stage-delay titles and messages name the stage type's label (Développement), not its code",
    ),
];

/// Its settings after the profile is applied.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Settings {
    /// Titles and messages name the stage type's label, not its code.
    pub labels: bool,
}

impl Configure for Settings {
    fn reference() -> Settings {
        Settings { labels: false }
    }

    fn configure(input: &Input<'_>) -> Result<Settings> {
        Ok(Settings {
            labels: input.flag("recommended.stage_labels")?,
        })
    }
}

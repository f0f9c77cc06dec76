//! The contracts check's settings: its keys and what they become once the profile is applied.

use crate::checks::settings::{Configure, Input};
use crate::keyspec::KeySpec;
use anyhow::Result;

/// Its keys (`config show`, the man page and the example configuration list them).
pub const KEYS: &[KeySpec] = &[
    KeySpec::check(
        "recommended.contract_active_superusers",
        "true",
        "(recommended §3.2.7) the contract check's \"administrateur\" recipients are active superusers only",
    ),
    KeySpec::check(
        "recommended.contract_expired_lookback",
        "true",
        "(recommended §3.2.7) an expired contract alerts once per (contract, end date), only within contracts.expired_lookback_days",
    ),
    KeySpec::check(
        "recommended.contract_renewal_covers",
        "true",
        "(recommended §3.2.7) a contract followed by a newer contract of the same project and type is neither expiring nor expired",
    ),
    KeySpec::check(
        "contracts.milestones",
        "[30]",
        "(recommended) days before a contract's end that alert (CONTRAT_EXPIRATION), with catch-up",
    ),
    KeySpec::check(
        "contracts.expired_lookback_days",
        "30",
        "(recommended) an expired contract alerts only this many days after its end at most",
    ),
];

/// Its settings after the profile is applied.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Settings {
    /// Milestones in days before the end, largest first.
    pub milestones: Vec<u32>,
    /// The check's "administrateur" is an active superuser.
    pub active_superusers: bool,
    /// Expired contracts alert once per end date within this many days; `None`: once ever,
    /// whatever the age (the reference).
    pub expired_lookback_days: Option<u32>,
    /// A contract followed by a newer one of the same project and type is not reported.
    pub renewal_covers: bool,
}

impl Configure for Settings {
    fn reference() -> Settings {
        Settings {
            milestones: vec![30],
            active_superusers: false,
            expired_lookback_days: None,
            renewal_covers: false,
        }
    }

    fn configure(input: &Input<'_>) -> Result<Settings> {
        let expired_lookback_days = if input.flag("recommended.contract_expired_lookback")? {
            Some(input.range("contracts.expired_lookback_days", 1, 3660)?)
        } else {
            None
        };
        let milestones = input.days("contracts.milestones", 365)?;
        Ok(Settings {
            milestones,
            active_superusers: input.flag("recommended.contract_active_superusers")?,
            expired_lookback_days,
            renewal_covers: input.flag("recommended.contract_renewal_covers")?,
        })
    }
}

//! The checks: one folder each (its SQL in `query.rs`, its pure rule in `rule.rs`, its wiring in
//! `mod.rs`), one [`Check`] trait, and one registry — the only place that lists them. The CLI
//! values, `check all`, `checks.enabled`, `health.checks`, purge and the mail labels all derive
//! from [`CheckName`].

pub mod budget;
pub mod contracts;
pub mod deadlines;
pub mod runner;
pub mod stages;
pub mod task_reminders;
pub mod tasks;

pub use runner::{exit_code, run, run_all, AlertLine, Options, Report, Run, Settings};

use crate::db::Db;
use crate::source::Probe;
use anyhow::Result;

/// What a check is: the tables it reads, the rows it would lose without a trace, how it selects,
/// pages and evaluates its candidates, and how its alerts are presented in mail.
pub trait Check: Sync {
    /// The web application's tables it reads (a clear error names the first one missing).
    fn tables(&self) -> &'static [&'static str];

    /// Rows its joins or filters would drop silently: counted and logged instead.
    fn probes(&self, db: &Db) -> Vec<Probe>;

    /// Selects its candidates and evaluates them page by page through `run` (which de-duplicates
    /// against what was recorded, writes and counts); returns the number of candidates the
    /// reference reports (entities of the check's kind in scope, due or not).
    fn execute(&self, db: &mut Db, run: &mut Run<'_>) -> Result<i64>;

    /// How mail presents its alerts: a template rendered with `code` (an alert type) that says
    /// the type's label and what to do about it (`label: …`, `advice: …` lines), nothing for a
    /// type that is not its own. Sites override it as `labels/NAME.txt` in mail.templates_dir.
    fn mail_labels(&self) -> &'static str;

    /// The alert types it writes (`type_alerte`, `type_notification`); `<n>` stands for a
    /// number (ECHEANCE_J<n>: one per milestone configured).
    fn alert_types(&self) -> &'static [&'static str];

    /// The label of a stage type code, for checks that alert about stages.
    fn stage_type_label(&self, _code: &str) -> Option<String> {
        None
    }

    /// Whether its ledger keys record decisions for the life of an entity (a budget threshold
    /// per planned budget): `sigov purge` never deletes them.
    fn ledger_kept_forever(&self) -> bool {
        false
    }

    /// Whether the reference (the Django commands) had it: the reference profile runs only those.
    fn in_reference(&self) -> bool {
        true
    }
}

/// Defines [`CheckName`] and the registry from one line per check:
/// `doc, Variant => module::Type` where `module::NAME` is its name.
macro_rules! registry {
    ($( #[doc = $doc:literal] $variant:ident => $module:ident :: $ty:ident, )+) => {
        /// A check, by name: the single list of checks.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum CheckName {
            $( #[doc = $doc] $variant, )+
        }

        impl CheckName {
            /// Every check, in the order `check all` runs them (the reference's first).
            pub const ALL: &'static [CheckName] = &[$(CheckName::$variant,)+];

            /// Its name on the command line, in run records, ledger keys and metrics.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(CheckName::$variant => $module::NAME,)+
                }
            }

            /// What it is, in one line (`sigov check --help`).
            pub fn about(self) -> &'static str {
                match self {
                    $(CheckName::$variant => $doc.trim(),)+
                }
            }

            /// The check itself.
            pub fn check(self) -> &'static dyn Check {
                match self {
                    $(CheckName::$variant => &$module::$ty,)+
                }
            }
        }
    };
}

registry! {
    /// Project deadlines: J-7, J-3, J-1 (J-0 in the recommended profile) and overdue projects
    Deadlines => deadlines::Deadlines,
    /// Stages in progress past their planned end (core_notificationetape, RETARD_ETAPE)
    Stages => stages::Stages,
    /// Open tasks past their due date (TACHES_EN_RETARD; module tasks in the recommended profile)
    Tasks => tasks::Tasks,
    /// Spending above the planned budget (BUDGET_DEPASSE; 75 %/90 % thresholds in the recommended profile)
    Budget => budget::Budget,
    /// Maintenance contracts 30 days before their end and expired (CONTRAT_EXPIRATION, CONTRAT_EXPIRE)
    Contracts => contracts::Contracts,
    /// Open tasks due soon, to their assignee: due tomorrow, due today (TACHE_ECHEANCE; not in the reference)
    TaskReminders => task_reminders::TaskReminders,
}

/// Every alert type the checks write (`<n>` stands for a number: ECHEANCE_J<n>).
pub fn alert_types() -> Vec<&'static str> {
    CheckName::ALL
        .iter()
        .flat_map(|c| c.check().alert_types().iter().copied())
        .collect()
}

impl CheckName {
    /// The checks of the reference, in its order: `checks.enabled` and `health.checks` by default.
    pub fn reference() -> Vec<CheckName> {
        CheckName::ALL
            .iter()
            .copied()
            .filter(|c| c.check().in_reference())
            .collect()
    }

    /// The checks whose ledger keys `sigov purge` keeps forever.
    pub fn ledger_kept_forever() -> Vec<CheckName> {
        CheckName::ALL
            .iter()
            .copied()
            .filter(|c| c.check().ledger_kept_forever())
            .collect()
    }
}

impl std::fmt::Display for CheckName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for CheckName {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        CheckName::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = CheckName::ALL.iter().map(|c| c.as_str()).collect();
                anyhow::anyhow!("unknown check `{s}` (known: {})", known.join(", "))
            })
    }
}

impl serde::Serialize for CheckName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for CheckName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.trim().parse().map_err(serde::de::Error::custom)
    }
}

impl clap::ValueEnum for CheckName {
    fn value_variants<'a>() -> &'a [Self] {
        CheckName::ALL
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()).help(self.about()))
    }
}

/// The checks' presentation of their alerts in mail (their label templates): what the mail
/// renderer is given (it knows no check).
#[derive(Debug, Clone, Copy, Default)]
pub struct Registry;

impl crate::mail::Labels for Registry {
    fn label_templates(&self) -> Vec<(String, &'static str)> {
        CheckName::ALL
            .iter()
            .map(|c| (format!("labels/{c}.txt"), c.check().mail_labels()))
            .collect()
    }
    fn stage_type_label(&self, code: &str) -> Option<String> {
        CheckName::ALL
            .iter()
            .find_map(|c| c.check().stage_type_label(code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_kebab_case_and_parse_back() {
        let mut seen = std::collections::HashSet::new();
        for c in CheckName::ALL {
            let n = c.as_str();
            assert!(seen.insert(n), "{n} twice");
            assert!(
                n.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{n}"
            );
            assert_eq!(n.parse::<CheckName>().unwrap(), *c);
            assert!(!c.about().is_empty());
            assert!(!c.check().tables().is_empty());
        }
        assert!("all".parse::<CheckName>().is_err());
    }

    #[test]
    fn the_reference_has_the_five_checks_in_its_order() {
        let names: Vec<&str> = CheckName::reference().iter().map(|c| c.as_str()).collect();
        assert_eq!(
            names,
            ["deadlines", "stages", "tasks", "budget", "contracts"]
        );
        assert_eq!(CheckName::ledger_kept_forever(), [CheckName::Budget]);
    }
}

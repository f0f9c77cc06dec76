//! The registry: the one list of checks, from which their names, the CLI values, `check all`,
//! `checks.enabled`, each check's settings ([`Sections`]) and every lookup by name or alert
//! type derive.

use super::check::Check;
use super::run::{Execute, Run};
use super::settings::{Configure, Input};
use crate::db::Db;
use anyhow::Result;

/// Defines [`CheckName`] and the registry from one line per check:
/// `doc, Variant => module::Type` where `module::NAME` is its name.
macro_rules! registry {
    ($( #[doc = $doc:literal] $variant:ident => $module:ident :: $ty:ident, )+) => {
        $( use super::$module; )+

        /// Each check's own settings (the profile applied), one field per check.
        #[derive(Debug, Clone, PartialEq, serde::Serialize)]
        pub struct Sections {
            $( pub $module: <$module::$ty as Execute>::Settings, )+
        }

        impl Sections {
            /// What the reference (the Django commands) does.
            pub fn reference() -> Sections {
                Sections { $( $module: Configure::reference(), )+ }
            }

            /// The recommended profile's settings of every check, from the configuration.
            pub fn configure(input: &Input<'_>) -> Result<Sections> {
                Ok(Sections { $( $module: Configure::configure(input)?, )+ })
            }
        }

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

            /// Runs the check with its own settings of `sections` (see [`Execute`]).
            pub fn execute(self, db: &mut Db, run: &mut Run<'_>, sections: &Sections) -> Result<i64> {
                match self {
                    $(CheckName::$variant => $module::$ty.execute(db, run, &sections.$module),)+
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
    /// Stages and tasks whose planned start passed while they have not started (ETAPE_NON_DEMARREE, TACHE_NON_DEMARREE; not in the reference)
    StartDates => start_dates::StartDates,
    /// Open tasks nobody updated for long, to their assignee, with a weekly summary to the responsable (TACHE_INACTIVE, TACHES_INACTIVES; not in the reference)
    StaleWork => stale_work::StaleWork,
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
    fn rule_label(&self, alert_type: &str, context: &serde_json::Value) -> String {
        rule_label(alert_type, context)
    }
    fn samples(&self, today: chrono::NaiveDate) -> Vec<crate::mail::settings::Sample> {
        CheckName::ALL
            .iter()
            .flat_map(|c| c.check().samples(today))
            .collect()
    }
}

/// The check that writes `alert_type` (a `<n>` of its types stands for digits).
pub fn owner(alert_type: &str) -> Option<CheckName> {
    CheckName::ALL.iter().copied().find(|c| {
        c.check()
            .alert_types()
            .iter()
            .any(|pattern| matches_type(pattern, alert_type))
    })
}

/// Whether `alert_type` is one of `pattern` (`ECHEANCE_J<n>`: ECHEANCE_J7).
pub fn matches_type(pattern: &str, alert_type: &str) -> bool {
    match pattern.split_once("<n>") {
        Some((head, tail)) => alert_type
            .strip_prefix(head)
            .and_then(|rest| rest.strip_suffix(tail))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())),
        None => pattern == alert_type,
    }
}

/// The rule behind an alert type, for the mail's footer; a type no check writes (the web
/// application's own) is said in words.
pub fn rule_label(alert_type: &str, context: &serde_json::Value) -> String {
    match owner(alert_type) {
        Some(c) => c.check().rule_label(alert_type, context),
        None => alert_type.to_lowercase().replace('_', " "),
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
    fn every_alert_type_fits_both_type_columns() {
        // core_alerteprojet.type_alerte is varchar(30), core_notificationetape.type_notification
        // varchar(20): a type of 20 characters at most fits either (a milestone up to 365 days).
        for c in CheckName::ALL {
            for t in c.check().alert_types() {
                let t = t.replace("<n>", "365");
                assert!(t.len() <= 20, "{c}: {t} is {} characters", t.len());
                assert!(owner(&t) == Some(*c), "{t} is not found back as {c}'s");
            }
        }
        assert!(matches_type("ECHEANCE_J<n>", "ECHEANCE_J7"));
        assert!(!matches_type("ECHEANCE_J<n>", "ECHEANCE_JX"));
        assert!(!matches_type("ECHEANCE_J<n>", "ECHEANCE_J"));
        assert_eq!(owner("TYPE_DE_DJANGO"), None);
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

//! `sigov check budget`: projects in progress spending above their planned budget (and, in the
//! recommended profile, reaching a threshold of it).

pub mod present;
mod query;
pub mod rule;
pub mod settings;

use super::check::Check;
use super::check::{CalendarUse, Escalation, Facts, Sample};
use super::run::{Execute, Run, PROJECTS};
use crate::db::Db;
use crate::source::{self, Probe};
use anyhow::Result;

pub use rule::CHECK as NAME;

pub struct Budget;

impl Check for Budget {
    fn tables(&self) -> &'static [&'static str] {
        &[
            "core_statutprojet",
            "core_projet",
            "core_affectation",
            "core_utilisateur",
            "core_lignebudget",
            "core_alerteprojet",
        ]
    }

    fn probes(&self, db: &Db) -> Vec<Probe> {
        query::probes(db)
    }

    fn mail_labels(&self) -> &'static str {
        include_str!("labels.txt")
    }

    fn alert_types(&self) -> &'static [&'static str] {
        &["BUDGET_DEPASSE", "BUDGET_ATTENTION", "BUDGET_CRITIQUE"]
    }

    /// A threshold alert is once per planned budget, however old.
    fn ledger_kept_forever(&self) -> bool {
        true
    }

    fn keys(&self) -> &'static [crate::keyspec::KeySpec] {
        settings::KEYS
    }

    fn rule_label(&self, alert_type: &str, _: &serde_json::Value) -> String {
        present::rule_label(alert_type)
    }

    fn explain(&self, alert_type: &str, facts: &mut Facts<'_>) -> String {
        present::explain(alert_type, facts)
    }

    fn samples(&self, _: chrono::NaiveDate) -> Vec<Sample> {
        present::samples()
    }

    fn colour(&self) -> &'static str {
        "#1b7c83"
    }

    fn calendar(&self) -> CalendarUse {
        CalendarUse {
            repeating: true,
            milestones: false,
            business_days: false,
        }
    }

    fn escalation(&self) -> Option<Escalation> {
        use crate::rules::Audience::{Createur, Responsable, Superusers};
        Some(Escalation {
            audiences: &[Responsable, Createur, Superusers],
            from: "its first BUDGET_DEPASSE alert within the ladder's reach; once per rung and planned budget",
        })
    }
}

impl Execute for Budget {
    type Settings = settings::Settings;

    fn execute(&self, db: &mut Db, run: &mut Run<'_>, set: &settings::Settings) -> Result<i64> {
        let (rules, today) = (run.rules(), run.today());
        let supers = source::superusers_for(db, rules, rule::CHECK)?;
        let en_cours = source::en_cours(db)?;
        let min = rule::min_percent(set);
        let src = query::budget_candidates(db, en_cours, min, run.page_size())?;
        let spec = rule::seen_spec(rules, today);
        run.pages(
            db,
            src.pager,
            &spec,
            PROJECTS,
            query::budget_page,
            |c, seen| rule::evaluate(c, &supers, rules, set, today, seen),
        )?;
        if src.not_positive > 0 {
            log::info!(
                "{NAME}: {} project(s) in progress have a planned budget ≤ 0; skipped",
                src.not_positive
            );
        }
        run.skip_n("budget_not_positive", src.not_positive.max(0) as u64);
        Ok(src.total)
    }
}

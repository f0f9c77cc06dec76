//! `sigov check tasks`: open stage tasks (and, in the recommended profile, module tasks) past
//! their due date.

pub mod present;
pub mod query;
pub mod rule;
pub mod settings;

use super::check::Check;
use super::check::{CalendarUse, Escalation, Facts};
use super::run::{Execute, Run};
use crate::db::Db;
use crate::source::Probe;
use anyhow::Result;

pub use rule::CHECK as NAME;

pub struct Tasks;

/// The tables the task checks read (this one and the reminders).
pub const TABLES: &[&str] = &[
    "core_statutprojet",
    "core_projet",
    "core_affectation",
    "core_utilisateur",
    "core_etapeprojet",
    "core_tacheetape",
    "core_moduleprojet",
    "core_tachemodule",
    "core_alerteprojet",
];

impl Check for Tasks {
    fn tables(&self) -> &'static [&'static str] {
        TABLES
    }

    fn probes(&self, db: &Db) -> Vec<Probe> {
        query::probes(db)
    }

    fn mail_labels(&self) -> &'static str {
        include_str!("labels.txt")
    }

    fn alert_types(&self) -> &'static [&'static str] {
        &["TACHES_EN_RETARD"]
    }

    fn keys(&self) -> &'static [crate::keyspec::KeySpec] {
        settings::KEYS
    }

    fn rule_label(&self, _: &str, _: &serde_json::Value) -> String {
        "tâche en retard".to_owned()
    }

    fn explain(&self, _: &str, facts: &mut Facts<'_>) -> String {
        present::explain(facts)
    }

    fn colour(&self) -> &'static str {
        "#9a6700"
    }

    fn calendar(&self) -> CalendarUse {
        CalendarUse {
            repeating: true,
            milestones: false,
            business_days: true,
        }
    }

    fn escalation(&self) -> Option<Escalation> {
        use crate::rules::Audience::{Responsable, Superusers, Team};
        Some(Escalation {
            audiences: &[Responsable, Team, Superusers],
            from: "the task's due date",
        })
    }
}

impl Execute for Tasks {
    type Settings = settings::Settings;

    fn execute(&self, db: &mut Db, run: &mut Run<'_>, set: &settings::Settings) -> Result<i64> {
        let (rules, today) = (run.rules(), run.today());
        let supers = crate::source::superusers_for(db, rules, rule::CHECK)?;
        let spec = rule::seen_spec(rules, today);
        let mut total = 0;
        for kind in query::TaskKind::checked(set.module_tasks) {
            let size = run.page_size();
            let (cands, open) = query::task_candidates(db, run.teams(), today, *kind, size)?;
            total += open;
            run.candidates(db, cands, &spec, |c, seen| {
                rule::evaluate(c, &supers, rules, set, today, seen)
            })?;
        }
        Ok(total)
    }
}

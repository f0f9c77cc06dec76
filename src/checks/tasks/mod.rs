//! `sigov check tasks`: open stage tasks (and, in the recommended profile, module tasks) past
//! their due date.

pub mod query;
pub mod rule;

use super::runner::Run;
use super::Check;
use crate::db::Db;
use crate::source::Probe;
use anyhow::Result;

pub const NAME: &str = "tasks";

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

    fn execute(&self, db: &mut Db, run: &mut Run<'_>) -> Result<i64> {
        let (rules, today) = (run.rules(), run.today());
        let supers = crate::source::superusers_for(db, rules, rule::CHECK)?;
        let spec = rule::seen_spec(rules, today);
        let mut total = 0;
        for kind in query::TaskKind::checked(rules.module_tasks) {
            let (pager, open) = query::task_candidates(db, today, *kind, run.page_size())?;
            total += open;
            let cols = ("projet_id", "tache_id");
            run.pages(db, pager, &spec, cols, query::task_page, |c, seen| {
                rule::evaluate(c, &supers, rules, today, seen)
            })?;
        }
        Ok(total)
    }

    fn mail_labels(&self) -> &'static str {
        include_str!("labels.txt")
    }

    fn alert_types(&self) -> &'static [&'static str] {
        &["TACHES_EN_RETARD"]
    }
}

//! `sigov check task-reminders`: open tasks (stage and module tasks) whose due date is near,
//! reminded to their assignee before they are late — "due tomorrow", "due today" by default.
//! Not one of the reference's checks: off unless listed in `checks.enabled`, never run by the
//! reference profile.

pub mod present;
mod query;
pub mod rule;
pub mod settings;

use super::check::Check;
use super::check::{CalendarUse, Facts, Sample};
use super::run::{Execute, Run};
use crate::db::Db;
use crate::source::Probe;
use anyhow::Result;

pub use rule::CHECK as NAME;

pub struct TaskReminders;

impl Check for TaskReminders {
    fn tables(&self) -> &'static [&'static str] {
        super::tasks::TABLES
    }

    fn probes(&self, db: &Db) -> Vec<Probe> {
        super::tasks::query::probes(db)
    }

    fn mail_labels(&self) -> &'static str {
        include_str!("labels.txt")
    }

    fn alert_types(&self) -> &'static [&'static str] {
        &["TACHE_ECHEANCE"]
    }

    fn in_reference(&self) -> bool {
        false
    }

    fn keys(&self) -> &'static [crate::keyspec::KeySpec] {
        settings::KEYS
    }

    fn rule_label(&self, _: &str, context: &serde_json::Value) -> String {
        present::rule_label(context)
    }

    fn explain(&self, _: &str, facts: &mut Facts<'_>) -> String {
        present::explain(facts)
    }

    fn samples(&self, today: chrono::NaiveDate) -> Vec<Sample> {
        present::samples(today)
    }

    fn colour(&self) -> &'static str {
        "#4c51bf"
    }

    fn calendar(&self) -> CalendarUse {
        CalendarUse {
            repeating: false,
            milestones: true,
            business_days: true,
        }
    }

    fn schedule(&self) -> &'static str {
        "30 7 * * 1-5"
    }
}

impl Execute for TaskReminders {
    type Settings = settings::Settings;

    fn execute(&self, db: &mut Db, run: &mut Run<'_>, set: &settings::Settings) -> Result<i64> {
        let (rules, today) = (run.rules(), run.today());
        let window = rule::window(rules, set, today);
        let spec = rule::seen_spec(rules, set, today);
        let mut total = 0;
        for kind in super::tasks::query::TaskKind::checked(true) {
            let size = run.page_size();
            let (cands, open) = query::candidates(db, run.teams(), *kind, window, size)?;
            total += open;
            run.candidates(db, cands, &spec, |c, seen| {
                rule::evaluate(c, rules, set, today, seen)
            })?;
        }
        Ok(total)
    }
}

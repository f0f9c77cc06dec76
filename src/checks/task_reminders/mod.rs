//! `sigov check task-reminders`: open tasks (stage and module tasks) whose due date is near,
//! reminded to their assignee before they are late — "due tomorrow", "due today" by default.
//! Not one of the reference's checks: off unless listed in `checks.enabled`, never run by the
//! reference profile.

mod query;
pub mod rule;

use super::runner::Run;
use super::Check;
use crate::db::Db;
use crate::source::Probe;
use anyhow::Result;

pub const NAME: &str = "task-reminders";

pub struct TaskReminders;

impl Check for TaskReminders {
    fn tables(&self) -> &'static [&'static str] {
        super::tasks::TABLES
    }

    fn probes(&self, db: &Db) -> Vec<Probe> {
        super::tasks::query::probes(db)
    }

    fn execute(&self, db: &mut Db, run: &mut Run<'_>) -> Result<i64> {
        let (rules, today) = (run.rules(), run.today());
        let window = rule::window(rules, today);
        let spec = rule::seen_spec(rules, today);
        let mut total = 0;
        for kind in super::tasks::query::TaskKind::checked(true) {
            let (pager, open) = query::candidates(db, *kind, window, run.page_size())?;
            total += open;
            let cols = ("projet_id", "tache_id");
            run.pages(
                db,
                pager,
                &spec,
                cols,
                super::tasks::query::task_page,
                |c, seen| rule::evaluate(c, rules, today, seen),
            )?;
        }
        Ok(total)
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
}

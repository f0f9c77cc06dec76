//! `sigov check start-dates`: stages and stage tasks of projects in progress whose planned
//! start has passed while they have not started (not in the reference).

pub mod present;
mod query;
pub mod rule;
pub mod settings;

use super::check::{CalendarUse, Check, Facts, Sample};
use super::run::{Execute, Run};
use crate::db::Db;
use crate::source::Probe;
use anyhow::Result;

pub use rule::CHECK as NAME;

pub struct StartDates;

impl Check for StartDates {
    fn tables(&self) -> &'static [&'static str] {
        &[
            "core_statutprojet",
            "core_projet",
            "core_affectation",
            "core_utilisateur",
            "core_etapeprojet",
            "core_typeetape",
            "core_tacheetape",
            "core_alerteprojet",
        ]
    }

    fn probes(&self, db: &Db) -> Vec<Probe> {
        query::probes(db)
    }

    fn keys(&self) -> &'static [crate::keyspec::KeySpec] {
        settings::KEYS
    }

    fn mail_labels(&self) -> &'static str {
        include_str!("labels.txt")
    }

    fn alert_types(&self) -> &'static [&'static str] {
        &[rule::STAGE, rule::TASK]
    }

    fn rule_label(&self, alert_type: &str, context: &serde_json::Value) -> String {
        present::rule_label(alert_type, context)
    }

    fn explain(&self, alert_type: &str, facts: &mut Facts<'_>) -> String {
        present::explain(alert_type, facts)
    }

    fn samples(&self, today: chrono::NaiveDate) -> Vec<Sample> {
        present::samples(today)
    }

    fn colour(&self) -> &'static str {
        "#0e7490"
    }

    fn calendar(&self) -> CalendarUse {
        CalendarUse {
            repeating: false,
            milestones: false,
            business_days: true,
        }
    }

    fn schedule(&self) -> &'static str {
        "30 7 * * 1-5"
    }

    fn in_reference(&self) -> bool {
        false
    }
}

impl Execute for StartDates {
    type Settings = settings::Settings;

    fn execute(&self, db: &mut Db, run: &mut Run<'_>, set: &settings::Settings) -> Result<i64> {
        let (rules, today) = (run.rules(), run.today());
        let en_cours = crate::source::en_cours(db)?;
        let window = (rule::earliest(set, today), today);
        let spec = rule::seen_spec(set, today);
        // The alert rows' entity column, and the candidates' column of the ledger's entity.
        let cols = ("projet_id", "item_id");
        let pager = query::stages(db, en_cours, window, run.page_size())?;
        let mut total = pager.rows;
        run.pages(db, pager, &spec, cols, query::stage_page, |c, seen| {
            rule::evaluate(c, rules, set, today, seen)
        })?;
        let pager = query::tasks(db, en_cours, window, run.page_size())?;
        total += pager.rows;
        run.pages(db, pager, &spec, cols, query::task_page, |c, seen| {
            rule::evaluate(c, rules, set, today, seen)
        })?;
        Ok(total)
    }
}

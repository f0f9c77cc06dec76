//! `sigov check stale-work`: open tasks of projects in progress nobody has updated for long,
//! to their assignee, and a weekly summary to the project's responsable (not in the reference).

pub mod present;
mod query;
pub mod rule;
pub mod settings;

use super::check::{Check, Facts, Sample};
use super::run::{Execute, Run};
use crate::db::Db;
use crate::source::Probe;
use anyhow::Result;

pub use rule::CHECK as NAME;

pub struct StaleWork;

impl Check for StaleWork {
    fn tables(&self) -> &'static [&'static str] {
        &[
            "core_statutprojet",
            "core_projet",
            "core_affectation",
            "core_utilisateur",
            "core_etapeprojet",
            "core_tacheetape",
            "core_alerteprojet",
        ]
    }

    fn probes(&self, _: &Db) -> Vec<Probe> {
        query::probes()
    }

    fn keys(&self) -> &'static [crate::keyspec::KeySpec] {
        settings::KEYS
    }

    fn mail_labels(&self) -> &'static str {
        include_str!("labels.txt")
    }

    fn alert_types(&self) -> &'static [&'static str] {
        &[rule::TASK, rule::SUMMARY]
    }

    fn rule_label(&self, alert_type: &str, _: &serde_json::Value) -> String {
        present::rule_label(alert_type)
    }

    fn explain(&self, alert_type: &str, facts: &mut Facts<'_>) -> String {
        present::explain(alert_type, facts)
    }

    fn samples(&self, today: chrono::NaiveDate) -> Vec<Sample> {
        present::samples(today)
    }

    fn colour(&self) -> &'static str {
        "#6e7781"
    }

    fn schedule(&self) -> &'static str {
        "45 7 * * 1-5"
    }

    fn in_reference(&self) -> bool {
        false
    }
}

impl Execute for StaleWork {
    type Settings = settings::Settings;

    fn execute(&self, db: &mut Db, run: &mut Run<'_>, set: &settings::Settings) -> Result<i64> {
        let (rules, today) = (run.rules(), run.today());
        let en_cours = crate::source::en_cours(db)?;
        // Modified on a local day at least `days` before today: before the next day began.
        let cutoff = |days: u32| {
            let day = today - chrono::Duration::days(i64::from(days) - 1);
            run.day_start_utc(day)
        };
        let cutoffs = (cutoff(set.days), cutoff(set.blocked_days));
        let pager = query::candidates(db, en_cours, cutoffs, run.page_size())?;
        let total = pager.rows;
        let spec = rule::seen_spec();
        // The alert rows' entity column, and the candidates' column of the ledger's entity.
        let cols = ("projet_id", "item_id");
        run.pages(db, pager, &spec, cols, query::page, |c, seen| {
            rule::evaluate(c, rules, set, today, seen)
        })?;
        Ok(total)
    }
}

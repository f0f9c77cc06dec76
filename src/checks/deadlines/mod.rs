//! `sigov check deadlines`: projects in progress reaching a milestone before their deadline, or
//! past it.

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

pub struct Deadlines;

impl Check for Deadlines {
    fn tables(&self) -> &'static [&'static str] {
        &[
            "core_statutprojet",
            "core_projet",
            "core_affectation",
            "core_utilisateur",
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
        &["ECHEANCE_J<n>", "ECHEANCE_DEPASSEE"]
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

    fn samples(&self, today: chrono::NaiveDate) -> Vec<Sample> {
        present::samples(today)
    }

    fn colour(&self) -> &'static str {
        "#0969da"
    }

    fn calendar(&self) -> CalendarUse {
        CalendarUse {
            repeating: true,
            milestones: true,
            business_days: true,
        }
    }

    fn escalation(&self) -> Option<Escalation> {
        use crate::rules::Audience::{Createur, Responsable, Superusers, Team};
        Some(Escalation {
            audiences: &[Responsable, Createur, Team, Superusers],
            from: "the project's end date",
        })
    }
}

impl Execute for Deadlines {
    type Settings = settings::Settings;

    fn execute(&self, db: &mut Db, run: &mut Run<'_>, set: &settings::Settings) -> Result<i64> {
        let (rules, today) = (run.rules(), run.today());
        let supers = source::superusers_for(db, rules, rule::CHECK)?;
        let en_cours = source::en_cours(db)?;
        let horizon = rule::horizon(rules, set, today);
        let (total, pager) = query::deadline_candidates(db, en_cours, horizon, run.page_size())?;
        let spec = rule::seen_spec(rules, set, today);
        run.pages(
            db,
            pager,
            &spec,
            PROJECTS,
            query::deadline_page,
            |c, seen| rule::evaluate(c, &supers, rules, set, today, seen),
        )?;
        Ok(total)
    }
}

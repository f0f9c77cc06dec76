//! `sigov check stages`: stages in progress past their planned end, in `core_notificationetape`.

pub mod present;
mod query;
pub mod rule;
pub mod settings;

use super::check::Check;
use super::check::{CalendarUse, Escalation, Facts, Sample};
use super::run::{Execute, Run};
use crate::db::Db;
use crate::source::Probe;
use anyhow::Result;

pub use rule::CHECK as NAME;

pub struct Stages;

impl Check for Stages {
    fn tables(&self) -> &'static [&'static str] {
        &[
            "core_statutprojet",
            "core_projet",
            "core_affectation",
            "core_utilisateur",
            "core_etapeprojet",
            "core_typeetape",
            "core_notificationetape",
        ]
    }

    fn probes(&self, db: &Db) -> Vec<Probe> {
        query::probes(db)
    }

    fn mail_labels(&self) -> &'static str {
        include_str!("labels.txt")
    }

    fn alert_types(&self) -> &'static [&'static str] {
        &["RETARD_ETAPE"]
    }

    fn stage_type_label(&self, code: &str) -> Option<String> {
        Some(rule::type_label(code).to_owned())
    }

    fn keys(&self) -> &'static [crate::keyspec::KeySpec] {
        settings::KEYS
    }

    fn rule_label(&self, _: &str, _: &serde_json::Value) -> String {
        "étape en retard".to_owned()
    }

    fn explain(&self, _: &str, facts: &mut Facts<'_>) -> String {
        present::explain(facts)
    }

    fn samples(&self, today: chrono::NaiveDate) -> Vec<Sample> {
        present::samples(today)
    }

    fn colour(&self) -> &'static str {
        "#8250df"
    }

    fn calendar(&self) -> CalendarUse {
        CalendarUse {
            repeating: true,
            milestones: false,
            business_days: true,
        }
    }

    fn escalation(&self) -> Option<Escalation> {
        use crate::rules::Audience::{Createur, Responsable, Superusers};
        Some(Escalation {
            audiences: &[Responsable, Createur, Superusers],
            from: "the stage's planned end",
        })
    }
}

impl Execute for Stages {
    type Settings = settings::Settings;

    fn execute(&self, db: &mut Db, run: &mut Run<'_>, set: &settings::Settings) -> Result<i64> {
        let (rules, today) = (run.rules(), run.today());
        let supers = crate::source::superusers_for(db, rules, rule::CHECK)?;
        let (total, pager) = query::stage_candidates(db, today, run.page_size())?;
        let spec = rule::seen_spec(rules, today);
        let cols = ("etape_id", "etape_id");
        run.pages(db, pager, &spec, cols, query::stage_page, |c, seen| {
            rule::evaluate(c, &supers, rules, set, today, seen)
        })?;
        Ok(total)
    }
}

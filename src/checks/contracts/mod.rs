//! `sigov check contracts`: maintenance contracts near their end, and expired.

pub mod present;
mod query;
pub mod rule;
pub mod settings;

use super::check::Check;
use super::check::{CalendarUse, Facts};
use super::run::{Execute, Run};
use crate::db::Db;
use crate::source::Probe;
use anyhow::Result;

pub use rule::CHECK as NAME;

pub struct Contracts;

impl Check for Contracts {
    fn tables(&self) -> &'static [&'static str] {
        &[
            "core_statutprojet",
            "core_projet",
            "core_affectation",
            "core_utilisateur",
            "core_contratgarantie",
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
        &["CONTRAT_EXPIRATION", "CONTRAT_EXPIRE"]
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

    fn colour(&self) -> &'static str {
        "#1a7f37"
    }

    fn calendar(&self) -> CalendarUse {
        CalendarUse {
            repeating: false,
            milestones: true,
            business_days: true,
        }
    }
}

impl Execute for Contracts {
    type Settings = settings::Settings;

    fn execute(&self, db: &mut Db, run: &mut Run<'_>, set: &settings::Settings) -> Result<i64> {
        let (rules, today) = (run.rules(), run.today());
        let src = query::contract_candidates(
            db,
            today,
            rule::horizon(rules, set, today),
            rule::expired_since(set, today),
            run.page_size(),
        )?;
        let spec = rule::seen_spec(rules, set, today);
        let supers = &src.superusers;
        let cols = ("projet_id", "contrat_id");
        run.pages(
            db,
            src.pager,
            &spec,
            cols,
            query::contract_page,
            |c, seen| rule::evaluate(c, supers, rules, set, today, seen),
        )?;
        Ok(src.active + src.expired)
    }
}

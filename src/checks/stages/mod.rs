//! `sigov check stages`: stages in progress past their planned end, in `core_notificationetape`.

mod query;
pub mod rule;

use super::runner::Run;
use super::Check;
use crate::db::Db;
use crate::source::Probe;
use anyhow::Result;

pub const NAME: &str = "stages";

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

    fn execute(&self, db: &mut Db, run: &mut Run<'_>) -> Result<i64> {
        let (rules, today) = (run.rules(), run.today());
        let supers = crate::source::superusers_for(db, rules, rule::CHECK)?;
        let (total, pager) = query::stage_candidates(db, today, run.page_size())?;
        let spec = rule::seen_spec(rules, today);
        let cols = ("etape_id", "etape_id");
        run.pages(db, pager, &spec, cols, query::stage_page, |c, seen| {
            rule::evaluate(c, &supers, rules, today, seen)
        })?;
        Ok(total)
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
}

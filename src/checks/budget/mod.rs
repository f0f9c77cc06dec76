//! `sigov check budget`: projects in progress spending above their planned budget (and, in the
//! recommended profile, reaching a threshold of it).

mod query;
pub mod rule;

use super::runner::{Run, PROJECTS};
use super::Check;
use crate::db::Db;
use crate::source::{self, Probe};
use anyhow::Result;

pub const NAME: &str = "budget";

pub struct Budget;

impl Check for Budget {
    fn tables(&self) -> &'static [&'static str] {
        &[
            "core_statutprojet",
            "core_projet",
            "core_affectation",
            "core_utilisateur",
            "core_lignebudget",
            "core_alerteprojet",
        ]
    }

    fn probes(&self, db: &Db) -> Vec<Probe> {
        query::probes(db)
    }

    fn execute(&self, db: &mut Db, run: &mut Run<'_>) -> Result<i64> {
        let (rules, today) = (run.rules(), run.today());
        let supers = source::superusers_for(db, rules, rule::CHECK)?;
        let en_cours = source::en_cours(db)?;
        let min = rule::min_percent(rules);
        let src = query::budget_candidates(db, en_cours, min, run.page_size())?;
        let spec = rule::seen_spec(rules, today);
        run.pages(
            db,
            src.pager,
            &spec,
            PROJECTS,
            query::budget_page,
            |c, seen| rule::evaluate(c, &supers, rules, today, seen),
        )?;
        if src.not_positive > 0 {
            log::info!(
                "{NAME}: {} project(s) in progress have a planned budget ≤ 0; skipped",
                src.not_positive
            );
        }
        run.skip_n("budget_not_positive", src.not_positive.max(0) as u64);
        Ok(src.total)
    }

    fn mail_labels(&self) -> &'static str {
        include_str!("labels.txt")
    }

    fn alert_types(&self) -> &'static [&'static str] {
        &["BUDGET_DEPASSE", "BUDGET_ATTENTION", "BUDGET_CRITIQUE"]
    }

    /// A threshold alert is once per planned budget, however old.
    fn ledger_kept_forever(&self) -> bool {
        true
    }
}

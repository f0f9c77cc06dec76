//! `sigov check deadlines`: projects in progress reaching a milestone before their deadline, or
//! past it.

mod query;
pub mod rule;

use super::runner::{Run, PROJECTS};
use super::Check;
use crate::db::Db;
use crate::source::{self, Probe};
use anyhow::Result;

pub const NAME: &str = "deadlines";

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

    fn execute(&self, db: &mut Db, run: &mut Run<'_>) -> Result<i64> {
        let (rules, today) = (run.rules(), run.today());
        let supers = source::superusers_for(db, rules, rule::CHECK)?;
        let en_cours = source::en_cours(db)?;
        let horizon = rule::horizon(rules, today);
        let (total, pager) = query::deadline_candidates(db, en_cours, horizon, run.page_size())?;
        let spec = rule::seen_spec(rules, today);
        run.pages(
            db,
            pager,
            &spec,
            PROJECTS,
            query::deadline_page,
            |c, seen| rule::evaluate(c, &supers, rules, today, seen),
        )?;
        Ok(total)
    }

    fn mail_labels(&self) -> &'static str {
        include_str!("labels.txt")
    }

    fn alert_types(&self) -> &'static [&'static str] {
        &["ECHEANCE_J<n>", "ECHEANCE_DEPASSEE"]
    }
}

//! `sigov check contracts`: maintenance contracts near their end, and expired.

mod query;
pub mod rule;

use super::runner::Run;
use super::Check;
use crate::db::Db;
use crate::source::Probe;
use anyhow::Result;

pub const NAME: &str = "contracts";

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

    fn execute(&self, db: &mut Db, run: &mut Run<'_>) -> Result<i64> {
        let (rules, today) = (run.rules(), run.today());
        let src = query::contract_candidates(
            db,
            today,
            rule::horizon(rules, today),
            rule::expired_since(rules, today),
            run.page_size(),
        )?;
        let spec = rule::seen_spec(rules, today);
        let supers = &src.superusers;
        let cols = ("projet_id", "contrat_id");
        run.pages(
            db,
            src.pager,
            &spec,
            cols,
            query::contract_page,
            |c, seen| rule::evaluate(c, supers, rules, today, seen),
        )?;
        Ok(src.active + src.expired)
    }

    fn mail_labels(&self) -> &'static str {
        include_str!("labels.txt")
    }

    fn alert_types(&self) -> &'static [&'static str] {
        &["CONTRAT_EXPIRATION", "CONTRAT_EXPIRE"]
    }
}

//! The budget check's SQL: projects in progress whose spending reaches a threshold, summed exactly in cents by the database.

use super::rule::Candidate;
use crate::db::text::Lossy;
use crate::db::{Db, Val};
use crate::source::{self, OptPerson, Pager, Probe, ProjectCols, TeamCache};
use anyhow::{Context, Result};
use diesel::sql_types::{BigInt, Text};
use diesel::QueryableByName;

#[derive(QueryableByName)]
struct BudgetRow {
    #[diesel(embed)]
    proj: ProjectCols,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    devise: String,
    #[diesel(sql_type = BigInt)]
    budget_cents: i64,
    #[diesel(sql_type = BigInt)]
    spent_cents: i64,
    #[diesel(embed)]
    createur: OptPerson,
}

#[derive(QueryableByName)]
struct BudgetCounts {
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = BigInt)]
    not_positive: i64,
}

/// Budget candidates: projects in progress whose lines add up to at least `min_percent` % of
/// a positive planned budget, summed exactly in cents by the database.
pub struct BudgetSource {
    pub total: i64,
    pub pager: Pager,
    /// Projects in progress with a planned budget ≤ 0 (skipped, counted).
    pub not_positive: i64,
}

pub fn budget_candidates(
    db: &mut Db,
    en_cours: i64,
    min_percent: u32,
    size: u32,
) -> Result<BudgetSource> {
    let counts: Vec<BudgetCounts> = db
        .load(
            &format!(
                "SELECT COUNT(*) AS n, {} AS not_positive FROM core_projet WHERE statut_id = ?",
                db.int("COALESCE(SUM(CASE WHEN budget_previsionnel <= 0 THEN 1 ELSE 0 END), 0)")
            ),
            &[Val::Int(en_cours)],
        )
        .context("cannot count projects in progress")?;
    let (total, not_positive) = counts
        .first()
        .map(|c| (c.n, c.not_positive))
        .unwrap_or((0, 0));
    let spent = format!(
        "(SELECT l.projet_id AS projet_id, {} AS spent FROM core_lignebudget l GROUP BY l.projet_id)",
        db.int("SUM(ROUND(l.montant * 100))")
    );
    let budget = db.cents("p.budget_previsionnel");
    let cols = format!(
        "{proj}, p.devise AS devise, {budget} AS budget_cents, {sp} AS spent_cents, {pc}",
        proj = source::project_cols(),
        sp = db.int("COALESCE(b.spent, 0)"),
        pc = source::person_cols(db, "u"),
    );
    let pager = source::materialize(
        db,
        &cols,
        &format!(
            "FROM core_projet p LEFT JOIN {spent} b ON b.projet_id = p.id \
             LEFT JOIN core_statutprojet s ON s.id = p.statut_id \
             LEFT JOIN core_utilisateur u ON u.id = p.createur_id \
             WHERE p.statut_id = ? AND p.budget_previsionnel > 0 AND COALESCE(b.spent, 0) * 100 >= ? * {budget}"
        ),
        "p.date_creation DESC, p.id",
        &[Val::Int(en_cours), Val::Int(i64::from(min_percent))],
        size,
    )?;
    Ok(BudgetSource {
        total,
        pager,
        not_positive,
    })
}

/// One page of budget candidates with the project's createur and responsable (the run's [`TeamCache`]).
pub fn budget_page(db: &mut Db, page: (i64, i64), teams: &mut TeamCache) -> Result<Vec<Candidate>> {
    let rows: Vec<BudgetRow> = source::page_rows(db, page, "budget candidates")?;
    teams.load(db, rows.iter().map(|r| r.proj.projet_id.as_str()))?;
    Ok(rows
        .into_iter()
        .map(|r| Candidate {
            responsable: teams.responsable(db, &r.proj.projet_id),
            projet: r.proj.info(),
            devise: r.devise,
            budget_cents: r.budget_cents,
            spent_cents: r.spent_cents,
            createur: r.createur.person(),
        })
        .collect())
}
/// Projects without a status, budget lines whose amount is not a number.
pub fn probes(db: &Db) -> Vec<Probe> {
    vec![
        source::integrity::project_without_status(),
        Probe {
            reason: "budget_line_bad_amount",
            what: "core_lignebudget rows whose montant is NULL or not a number (not added up)",
            from: "core_lignebudget x".to_owned(),
            cond: db.not_a_number_sql("x.montant"),
        },
    ]
}

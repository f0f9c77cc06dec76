//! The stage check's SQL: stages in progress past their planned end, page by page with the project's createur and responsable.

use super::rule::Candidate;
use crate::db::text::{Lossy, LossyOpt};
use crate::db::{Db, Mark, Val};
use crate::source::{self, OptPerson, Pager, Probe, ProjectCols, TeamCache};
use anyhow::{Context, Result};
use chrono::NaiveDate;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::QueryableByName;

#[derive(QueryableByName)]
struct StageRow {
    #[diesel(embed)]
    proj: ProjectCols,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    etape_id: String,
    #[diesel(sql_type = BigInt)]
    ordre: i64,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    type_code: String,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    date_fin: Option<String>,
    #[diesel(embed)]
    createur: OptPerson,
}

/// Stages in progress, unfinished, planned to end before `today`, whatever the project's
/// status. Returns the reference's count of stages in progress, and the pages.
pub fn stage_candidates(db: &mut Db, today: NaiveDate, size: u32) -> Result<(i64, Pager)> {
    let open =
        "e.statut = 'EN_COURS' AND e.date_fin_reelle IS NULL AND e.date_fin_prevue IS NOT NULL";
    let total = db
        .count(
            &format!("SELECT COUNT(*) AS n FROM core_etapeprojet e WHERE {open}"),
            &[],
        )
        .context("cannot count stages in progress")?;
    let cols = format!(
        "{proj}, e.id AS etape_id, {ordre} AS ordre, COALESCE(t.nom, '') AS type_code, {df} AS date_fin, {pc}",
        proj = source::project_cols(),
        ordre = db.int("e.ordre"),
        df = db.text("e.date_fin_prevue"),
        pc = source::person_cols(db, "u"),
    );
    let pager = source::materialize(
        db,
        &cols,
        &format!(
            "FROM core_etapeprojet e {j} core_projet p ON p.id = e.projet_id \
             LEFT JOIN core_typeetape t ON t.id = e.type_etape_id \
             LEFT JOIN core_statutprojet s ON s.id = p.statut_id \
             LEFT JOIN core_utilisateur u ON u.id = p.createur_id \
             WHERE {open} AND e.date_fin_prevue < {d}",
            j = db.ordered_join(),
            d = db.mark(Mark::Date)
        ),
        "p.id, e.ordre, e.id",
        &[Val::Text(today.to_string())],
        size,
    )?;
    Ok((total, pager))
}

/// One page of stage candidates with the project's createur and responsable (the run's [`TeamCache`]).
pub fn stage_page(db: &mut Db, page: (i64, i64), teams: &mut TeamCache) -> Result<Vec<Candidate>> {
    let rows: Vec<StageRow> = source::page_rows(db, page, "stage candidates")?;
    teams.load(db, rows.iter().map(|r| r.proj.projet_id.as_str()))?;
    Ok(rows
        .into_iter()
        .map(|r| Candidate {
            responsable: teams.responsable(db, &r.proj.projet_id),
            projet: r.proj.info(),
            etape_id: r.etape_id,
            ordre: r.ordre,
            type_code: r.type_code,
            date_fin_prevue: r.date_fin.unwrap_or_default(),
            createur: r.createur.person(),
        })
        .collect())
}
/// Projects without a status, assignments without a user, planned ends that are not dates.
pub fn probes(db: &Db) -> Vec<Probe> {
    let mut p = vec![
        source::integrity::project_without_status(),
        source::integrity::assignment_without_user(),
    ];
    p.extend(source::integrity::not_a_date(
        db,
        "core_etapeprojet",
        "date_fin_prevue",
        "core_etapeprojet rows whose date_fin_prevue is text that is not a date (YYYY-MM-DD)",
    ));
    p
}

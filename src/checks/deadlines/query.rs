//! The deadline check's SQL: projects in progress with a deadline, page by page with their createur and team.

use super::rule::Candidate;
use crate::db::text::{Lossy, LossyOpt};
use crate::db::{Db, Mark, Val};
use crate::source::{self, OptPerson, Pager, Probe, ProjectCols, TeamCache};
use anyhow::{Context, Result};
use chrono::NaiveDate;
use diesel::sql_types::{Nullable, Text};
use diesel::QueryableByName;

#[derive(QueryableByName)]
struct DeadlineRow {
    #[diesel(embed)]
    proj: ProjectCols,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    date_fin: Option<String>,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    createur_id: String,
    #[diesel(embed)]
    createur: OptPerson,
}

/// Deadline candidates: projects in progress with a `date_fin` up to `horizon` (overdue ones
/// included). Returns the reference's count of projects in progress with a date, and the pages.
pub fn deadline_candidates(
    db: &mut Db,
    en_cours: i64,
    horizon: NaiveDate,
    size: u32,
) -> Result<(i64, Pager)> {
    let total = db
        .count(
            "SELECT COUNT(*) AS n FROM core_projet WHERE statut_id = ? AND date_fin IS NOT NULL",
            &[Val::Int(en_cours)],
        )
        .context("cannot count projects in progress")?;
    let cols = format!(
        "{proj}, {df} AS date_fin, p.createur_id AS createur_id, {pc}",
        proj = source::project_cols(),
        df = db.text("p.date_fin"),
        pc = source::person_cols(db, "u"),
    );
    let pager = source::materialize(
        db,
        &cols,
        &format!(
            "FROM core_projet p LEFT JOIN core_statutprojet s ON s.id = p.statut_id \
             LEFT JOIN core_utilisateur u ON u.id = p.createur_id \
             WHERE p.statut_id = ? AND p.date_fin IS NOT NULL AND p.date_fin <= {}",
            db.mark(Mark::Date)
        ),
        "p.date_creation DESC, p.id",
        &[Val::Int(en_cours), Val::Text(horizon.to_string())],
        size,
    )?;
    Ok((total, pager))
}

/// One page of deadline candidates with their createur and active team (the run's
/// [`TeamCache`]).
pub fn deadline_page(
    db: &mut Db,
    page: (i64, i64),
    teams: &mut TeamCache,
) -> Result<Vec<Candidate>> {
    let rows: Vec<DeadlineRow> = source::page_rows(db, page, "deadline candidates")?;
    teams.load(db, rows.iter().map(|r| r.proj.projet_id.as_str()))?;
    Ok(rows
        .into_iter()
        .map(|r| Candidate {
            team: teams.team(db, &r.proj.projet_id).to_vec(),
            projet: r.proj.info(),
            date_fin: r.date_fin.unwrap_or_default(),
            createur_id: r.createur_id,
            createur: r.createur.person(),
        })
        .collect())
}
/// Projects without a status, assignments without a user, deadlines that are not dates.
pub fn probes(db: &Db) -> Vec<Probe> {
    let mut p = vec![
        source::integrity::project_without_status(),
        source::integrity::assignment_without_user(),
    ];
    p.extend(source::integrity::not_a_date(
        db,
        "core_projet",
        "date_fin",
        "core_projet rows whose date_fin is text that is not a date (YYYY-MM-DD)",
    ));
    p
}

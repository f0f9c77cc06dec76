//! The start-dates check's SQL: stages and stage tasks of projects in progress whose planned
//! start is within the look-back and not after today, not started, page by page with the
//! project's team.

use super::rule::{Candidate, Item};
use crate::db::text::{Lossy, LossyOpt};
use crate::db::{Db, Mark, Val};
use crate::source::{self, OptPerson, Pager, Probe, ProjectCols, TeamCache};
use anyhow::Result;
use chrono::NaiveDate;
use diesel::sql_types::{Nullable, Text};
use diesel::QueryableByName;

#[derive(QueryableByName)]
struct StageRow {
    #[diesel(embed)]
    proj: ProjectCols,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    item_id: String,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    nom: String,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    debut: Option<String>,
}

#[derive(QueryableByName)]
struct TaskRow {
    #[diesel(embed)]
    proj: ProjectCols,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    item_id: String,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    nom: String,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    debut: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    assignee_id: Option<String>,
    #[diesel(embed)]
    assignee: OptPerson,
}

/// Stages not started (`A_VENIR`, no `date_debut_reelle`) of projects in status `en_cours`,
/// planned to start from `window.0` to `window.1`.
pub fn stages(
    db: &mut Db,
    en_cours: i64,
    window: (NaiveDate, NaiveDate),
    size: u32,
) -> Result<Pager> {
    let cols = format!(
        "{proj}, {id} AS item_id, COALESCE(ty.nom, '') AS nom, {debut} AS debut",
        proj = source::project_cols(),
        id = db.text("e.id"),
        debut = db.text("e.date_debut_prevue"),
    );
    let from = format!(
        "FROM core_etapeprojet e {j} core_projet p ON p.id = e.projet_id \
         LEFT JOIN core_typeetape ty ON ty.id = e.type_etape_id \
         LEFT JOIN core_statutprojet s ON s.id = p.statut_id \
         WHERE e.statut = 'A_VENIR' AND e.date_debut_reelle IS NULL",
        j = db.ordered_join(),
    );
    planned_within(
        db,
        (&cols, &from, "e.date_debut_prevue", "e.id"),
        en_cours,
        window,
        size,
    )
}

/// Stage tasks not started (`A_FAIRE`, no `date_debut_reelle`) of projects in status
/// `en_cours`, planned to start from `window.0` to `window.1`, with their assignee.
pub fn tasks(
    db: &mut Db,
    en_cours: i64,
    window: (NaiveDate, NaiveDate),
    size: u32,
) -> Result<Pager> {
    let cols = format!(
        "{proj}, {id} AS item_id, t.nom AS nom, {debut} AS debut, t.responsable_id AS assignee_id, {pc}",
        proj = source::project_cols(),
        id = db.text("t.id"),
        debut = db.text("t.date_debut"),
        pc = source::person_cols(db, "u"),
    );
    let from = format!(
        "FROM core_tacheetape t {j} core_etapeprojet e ON e.id = t.etape_id \
         {j} core_projet p ON p.id = e.projet_id \
         LEFT JOIN core_statutprojet s ON s.id = p.statut_id \
         LEFT JOIN core_utilisateur u ON u.id = t.responsable_id \
         WHERE t.statut = 'A_FAIRE' AND t.date_debut_reelle IS NULL",
        j = db.ordered_join(),
    );
    planned_within(
        db,
        (&cols, &from, "t.date_debut", "t.id"),
        en_cours,
        window,
        size,
    )
}

/// The rows of `from` (its joins name the project `p`) whose planned start `start` is within
/// `window`, of projects in status `en_cours`, in start order.
fn planned_within(
    db: &mut Db,
    (cols, from, start, id): (&str, &str, &str, &str),
    en_cours: i64,
    window: (NaiveDate, NaiveDate),
    size: u32,
) -> Result<Pager> {
    let d = db.mark(Mark::Date);
    source::materialize(
        db,
        cols,
        &format!("{from} AND {start} >= {d} AND {start} <= {d} AND p.statut_id = ?"),
        &format!("{start}, {id}"),
        &[
            Val::Text(window.0.to_string()),
            Val::Text(window.1.to_string()),
            Val::Int(en_cours),
        ],
        size,
    )
}

/// One page of stage candidates with their project's team.
pub fn stage_page(db: &mut Db, page: (i64, i64), teams: &mut TeamCache) -> Result<Vec<Candidate>> {
    let rows: Vec<StageRow> = source::page_rows(db, page, "stages not started")?;
    teams.load(db, rows.iter().map(|r| r.proj.projet_id.as_str()))?;
    Ok(rows
        .into_iter()
        .map(|r| Candidate {
            team: teams.team(db, &r.proj.projet_id),
            projet: r.proj.info(),
            id: r.item_id,
            item: Item::Stage { type_code: r.nom },
            debut: r.debut.unwrap_or_default(),
        })
        .collect())
}

/// One page of task candidates with their project's team.
pub fn task_page(db: &mut Db, page: (i64, i64), teams: &mut TeamCache) -> Result<Vec<Candidate>> {
    let rows: Vec<TaskRow> = source::page_rows(db, page, "tasks not started")?;
    teams.load(db, rows.iter().map(|r| r.proj.projet_id.as_str()))?;
    Ok(rows
        .into_iter()
        .map(|r| Candidate {
            team: teams.team(db, &r.proj.projet_id),
            projet: r.proj.info(),
            id: r.item_id,
            item: Item::Task {
                nom: r.nom,
                assignee_id: r.assignee_id,
                assignee: r.assignee.person(),
            },
            debut: r.debut.unwrap_or_default(),
        })
        .collect())
}

/// Projects without a status, assignments without a user, planned starts that are not dates.
pub fn probes(db: &Db) -> Vec<Probe> {
    let mut p = vec![
        source::integrity::project_without_status(),
        source::integrity::assignment_without_user(),
    ];
    p.extend(source::integrity::not_a_date(
        db,
        "core_etapeprojet",
        "date_debut_prevue",
        "core_etapeprojet rows whose date_debut_prevue is text that is not a date (YYYY-MM-DD)",
    ));
    p.extend(source::integrity::not_a_date(
        db,
        "core_tacheetape",
        "date_debut",
        "core_tacheetape rows whose date_debut is text that is not a date (YYYY-MM-DD)",
    ));
    p
}

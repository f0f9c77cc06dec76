//! The stale-work check's SQL: open stage tasks of projects in progress not modified since a
//! cutoff (one for tasks in progress, one for blocked tasks), ordered by project with each
//! project's figures, page by page with the project's team.

use super::rule::{Candidate, BLOCKED, IN_PROGRESS};
use crate::db::text::{Lossy, LossyOpt};
use crate::db::{Db, Mark, Val};
use crate::source::{self, OptPerson, Pager, Probe, ProjectCols, TeamCache};
use anyhow::Result;
use chrono::NaiveDateTime;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::QueryableByName;

#[derive(QueryableByName)]
struct TaskRow {
    #[diesel(embed)]
    proj: ProjectCols,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    item_id: String,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    nom: String,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    statut: String,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    modifie: Option<String>,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    raison: String,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    assignee_id: Option<String>,
    #[diesel(embed)]
    assignee: OptPerson,
    #[diesel(sql_type = BigInt)]
    stale_n: i64,
    #[diesel(sql_type = BigInt)]
    blocked_n: i64,
    #[diesel(sql_type = BigInt)]
    rank_n: i64,
}

/// Tasks in progress modified before `cutoffs.0`, blocked tasks modified before `cutoffs.1`
/// (UTC instants), of projects in status `en_cours`; each with its project's count of such
/// tasks, of blocked ones, and its rank among them (the least recently modified first).
pub fn candidates(
    db: &mut Db,
    en_cours: i64,
    cutoffs: (NaiveDateTime, NaiveDateTime),
    size: u32,
) -> Result<Pager> {
    let blocked = format!("CASE WHEN t.statut = '{BLOCKED}' THEN 1 ELSE 0 END");
    let cols = format!(
        "{proj}, {id} AS item_id, t.nom AS nom, t.statut AS statut, {modifie} AS modifie, \
         t.raison_blocage AS raison, t.responsable_id AS assignee_id, {pc}, \
         {stale} AS stale_n, {blocked_n} AS blocked_n, {rank} AS rank_n",
        proj = source::project_cols(),
        id = db.text("t.id"),
        modifie = db.text("t.date_modification"),
        pc = source::person_cols(db, "u"),
        stale = db.int("COUNT(*) OVER (PARTITION BY p.id)"),
        blocked_n = db.int(&format!("SUM({blocked}) OVER (PARTITION BY p.id)")),
        rank = db.int("ROW_NUMBER() OVER (PARTITION BY p.id ORDER BY t.date_modification, t.id)"),
    );
    let at = db.mark(Mark::AppStamp);
    source::materialize(
        db,
        &cols,
        &format!(
            "FROM core_tacheetape t {j} core_etapeprojet e ON e.id = t.etape_id \
             {j} core_projet p ON p.id = e.projet_id \
             LEFT JOIN core_statutprojet s ON s.id = p.statut_id \
             LEFT JOIN core_utilisateur u ON u.id = t.responsable_id \
             WHERE p.statut_id = ? AND ((t.statut = '{IN_PROGRESS}' AND t.date_modification < {at}) \
             OR (t.statut = '{BLOCKED}' AND t.date_modification < {at}))",
            j = db.ordered_join(),
        ),
        "p.id, t.date_modification, t.id",
        &[
            Val::Int(en_cours),
            Val::Text(crate::clock::format_datetime(cutoffs.0)),
            Val::Text(crate::clock::format_datetime(cutoffs.1)),
        ],
        size,
    )
}

/// One page of candidates with their project's team.
pub fn page(db: &mut Db, page: (i64, i64), teams: &mut TeamCache) -> Result<Vec<Candidate>> {
    let rows: Vec<TaskRow> = source::page_rows(db, page, "stale tasks")?;
    teams.load(db, rows.iter().map(|r| r.proj.projet_id.as_str()))?;
    Ok(rows
        .into_iter()
        .map(|r| Candidate {
            team: teams.team(db, &r.proj.projet_id),
            projet: r.proj.info(),
            id: r.item_id,
            nom: r.nom,
            statut: r.statut,
            modifie: r.modifie.unwrap_or_default(),
            raison_blocage: r.raison,
            assignee_id: r.assignee_id,
            assignee: r.assignee.person(),
            stale_in_project: r.stale_n,
            blocked_in_project: r.blocked_n,
            first_in_project: r.rank_n == 1,
        })
        .collect())
}

/// Projects without a status, assignments without a user, tasks without a stage.
pub fn probes() -> Vec<Probe> {
    vec![
        source::integrity::project_without_status(),
        source::integrity::assignment_without_user(),
        Probe {
            reason: "task_without_stage",
            what: "core_tacheetape rows whose etape_id has no core_etapeprojet row",
            from: "core_tacheetape x LEFT JOIN core_etapeprojet e ON e.id = x.etape_id".to_owned(),
            cond: "e.id IS NULL".to_owned(),
        },
    ]
}

//! The task check's SQL: open stage and module tasks past their due date, page by page with their project's team.

use super::rule::{Candidate, MODULE_TASK_OPEN, STAGE_TASK_OPEN};
use crate::db::text::{Lossy, LossyOpt};
use crate::db::{Db, Mark, Val};
use crate::source::{self, OptPerson, Pager, Probe, ProjectCols, TeamCache};
use anyhow::Result;
use chrono::NaiveDate;
use diesel::sql_types::{BigInt, Nullable, Text};

/// A task candidate, read by position: the candidate table's columns in order (its row number
/// first; see [`select`]). Tens of thousands a run: by name,
/// each of the assignee's columns was looked up past every column before it.
#[derive(diesel::Queryable)]
struct TaskRow {
    _n: i64,
    proj: ProjectCols,
    #[diesel(deserialize_as = Lossy)]
    tache_id: String,
    #[diesel(deserialize_as = LossyOpt)]
    module_nom: Option<String>,
    #[diesel(deserialize_as = Lossy)]
    nom: String,
    #[diesel(deserialize_as = LossyOpt)]
    date_fin: Option<String>,
    #[diesel(deserialize_as = LossyOpt)]
    assignee_id: Option<String>,
    assignee: OptPerson,
}
crate::db::reused::positional!(
    TaskRow,
    (
        BigInt,
        source::ProjectSql,
        Text,
        Nullable<Text>,
        Text,
        Nullable<Text>,
        Nullable<Text>,
        source::PersonSql
    )
);

fn in_list(vals: &[&str]) -> String {
    vals.iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The two kinds of tasks: those of stages, those of modules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    Stage,
    Module,
}

impl TaskKind {
    /// The kinds a run checks: stage tasks, and module tasks when `modules`.
    pub fn checked(modules: bool) -> &'static [TaskKind] {
        if modules {
            &[TaskKind::Stage, TaskKind::Module]
        } else {
            &[TaskKind::Stage]
        }
    }

    /// (joins from the task `t` to its project `p`, module name). `j`: [`Db::ordered_join`],
    /// so that each task's stage (module) and project are read by primary key.
    fn parts(self, j: &str) -> (String, &'static str) {
        match self {
            TaskKind::Stage => (
                format!("{j} core_etapeprojet e ON e.id = t.etape_id {j} core_projet p ON p.id = e.projet_id"),
                "NULL",
            ),
            TaskKind::Module => (
                format!("{j} core_moduleprojet m ON m.id = t.module_id {j} core_projet p ON p.id = m.projet_id"),
                "m.nom",
            ),
        }
    }

    /// The condition that keeps the open tasks, on the task table's alias `a`.
    fn open(self, a: &str) -> String {
        let open = match self {
            TaskKind::Stage => STAGE_TASK_OPEN,
            TaskKind::Module => MODULE_TASK_OPEN,
        };
        format!(
            "{a}.statut IN ({}) AND {a}.date_fin IS NOT NULL",
            in_list(open)
        )
    }

    fn table(self) -> &'static str {
        match self {
            TaskKind::Stage => "core_tacheetape",
            TaskKind::Module => "core_tachemodule",
        }
    }
}

/// The statement that counts the open tasks of `kind` (the reference's total): a narrow scan,
/// run once for the checks of a run ([`crate::checks::Run::count_once`]).
pub fn open_tasks_sql(kind: TaskKind) -> String {
    format!(
        "SELECT COUNT(*) AS n FROM {} x WHERE {}",
        kind.table(),
        kind.open("x")
    )
}

/// Open tasks of `kind` past their due date, whatever the project's status (the rule decides).
pub fn task_candidates(db: &mut Db, today: NaiveDate, kind: TaskKind, size: u32) -> Result<Pager> {
    select(
        db,
        kind,
        &format!("t.date_fin < {}", db.mark(Mark::Date)),
        &[Val::Text(today.to_string())],
        size,
    )
}

/// Open tasks of `kind` whose due date meets `due` (a condition on `t.date_fin` with `vals`),
/// with their project and assignee, materialized for paging in creation order (newest first).
/// The tasks `due` keeps are joined to their stage (module), project and assignee by primary
/// key; the count of open tasks is a narrow scan of its own ([`open_tasks_sql`]). (That count as
/// a window over a derived table of every open task made the server materialize all of them as
/// wide rows and sort them again, on disk: 0.9 s a run at 5,000 projects, where the narrow
/// count takes 0.07 s; joining back to the task table by id instead cost 180,000 random reads
/// at 50,000 projects.)
pub fn select(db: &mut Db, kind: TaskKind, due: &str, vals: &[Val], size: u32) -> Result<Pager> {
    let j = db.ordered_join();
    let (joins, module) = kind.parts(j);
    let cols = format!(
        "{proj}, {tid} AS tache_id, {module} AS module_nom, t.nom AS nom, {df} AS date_fin, \
         t.responsable_id AS assignee_id, {pc}",
        proj = source::project_cols(),
        tid = db.text("t.id"),
        df = db.text("t.date_fin"),
        pc = source::person_cols(db, "u"),
    );
    source::materialize(
        db,
        &cols,
        &format!(
            "FROM {table} t {joins} \
             LEFT JOIN core_statutprojet s ON s.id = p.statut_id \
             LEFT JOIN core_utilisateur u ON u.id = t.responsable_id \
             WHERE {open} AND {due}",
            table = kind.table(),
            open = kind.open("t"),
        ),
        "t.date_creation DESC, t.id",
        vals,
        size,
    )
}

/// One page of task candidates with their project's active team (shared by the tasks of one
/// project, and with the run's other checks: [`TeamCache`]). One statement, and one for the
/// teams not yet read.
pub fn task_page(db: &mut Db, page: (i64, i64), teams: &mut TeamCache) -> Result<Vec<Candidate>> {
    let rows: Vec<TaskRow> = source::page_rows_positional(db, page, "task candidates")?;
    teams.load(db, rows.iter().map(|r| r.proj.projet_id.as_str()))?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let team = teams.team(db, &r.proj.projet_id);
            Candidate {
                projet: r.proj.info(),
                projet_statut: r.proj.projet_statut,
                tache_id: r.tache_id,
                module: r.module_nom,
                nom: r.nom,
                date_fin: r.date_fin.unwrap_or_default(),
                assignee_id: r.assignee_id,
                assignee: r.assignee.person(),
                team,
            }
        })
        .collect())
}
/// Projects without a status, assignments without a user, tasks without a stage, due dates
/// that are not dates.
pub fn probes(db: &Db) -> Vec<Probe> {
    let mut p = vec![
        source::integrity::project_without_status(),
        source::integrity::assignment_without_user(),
        Probe {
            reason: "task_without_stage",
            what: "core_tacheetape rows whose etape_id has no core_etapeprojet row",
            from: "core_tacheetape x LEFT JOIN core_etapeprojet e ON e.id = x.etape_id".to_owned(),
            cond: "e.id IS NULL".to_owned(),
        },
    ];
    p.extend(source::integrity::not_a_date(
        db,
        "core_tacheetape",
        "date_fin",
        "core_tacheetape rows whose date_fin is text that is not a date (YYYY-MM-DD)",
    ));
    p.extend(source::integrity::not_a_date(
        db,
        "core_tachemodule",
        "date_fin",
        "core_tachemodule rows whose date_fin is text that is not a date (YYYY-MM-DD)",
    ));
    p
}

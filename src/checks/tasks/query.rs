//! The task check's SQL: open stage and module tasks past their due date, page by page with their project's team.

use super::rule::{Candidate, MODULE_TASK_OPEN, STAGE_TASK_OPEN};
use crate::checks::run::Candidates;
use crate::db::text::{Lossy, LossyOpt};
use crate::db::{Db, Mark, Val};
use crate::rules::Person;
use crate::source::{self, OptPerson, Pager, Probe, ProjectCols, TeamCache};
use anyhow::{Context, Result};
use chrono::NaiveDate;
use diesel::sql_types::{BigInt, Nullable, Text};
use std::rc::Rc;

/// A task candidate, read by position: the candidate table's columns in order (its row number
/// first, the count of open tasks last; see [`select`]). Tens of thousands a run: by name,
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
    _open_total: i64,
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
        source::PersonSql,
        BigInt
    )
);

fn in_list(vals: &[&str]) -> String {
    vals.iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Open tasks with a due date, of table alias `x`.
fn open_filter(x: &str, statuses: &[&str]) -> String {
    format!(
        "{x}.statut IN ({}) AND {x}.date_fin IS NOT NULL",
        in_list(statuses)
    )
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

    /// (joins from the task `t` to its project `p`, module name, open filter on alias `x`).
    /// `j`: [`Db::ordered_join`], so that each task's stage (module) and project are read by
    /// primary key.
    fn parts(self, j: &str) -> (String, &'static str, String) {
        match self {
            TaskKind::Stage => (
                format!("{j} core_etapeprojet e ON e.id = t.etape_id {j} core_projet p ON p.id = e.projet_id"),
                "NULL",
                self.open("x"),
            ),
            TaskKind::Module => (
                format!("{j} core_moduleprojet m ON m.id = t.module_id {j} core_projet p ON p.id = m.projet_id"),
                "m.nom",
                self.open("x"),
            ),
        }
    }

    /// Its open filter on alias `x`.
    fn open(self, x: &str) -> String {
        match self {
            TaskKind::Stage => open_filter(x, STAGE_TASK_OPEN),
            TaskKind::Module => open_filter(x, MODULE_TASK_OPEN),
        }
    }

    fn table(self) -> &'static str {
        match self {
            TaskKind::Stage => "core_tacheetape",
            TaskKind::Module => "core_tachemodule",
        }
    }

    /// The task's column that names its stage (module).
    fn parent(self) -> &'static str {
        match self {
            TaskKind::Stage => "etape_id",
            TaskKind::Module => "module_id",
        }
    }
}

/// The reference's count of open tasks of `kind`, when no candidate carried it (see
/// [`select`]).
fn open_tasks(db: &mut Db, kind: TaskKind) -> Result<i64> {
    let (_, _, open) = kind.parts("JOIN");
    db.count(
        &format!("SELECT COUNT(*) AS n FROM {} x WHERE {open}", kind.table()),
        &[],
    )
    .context("cannot count open tasks")
}

/// Open tasks of `kind` past their due date, whatever the project's status (the rule decides),
/// and the count of open tasks of `kind` (the reference's total; see [`select`]).
pub fn task_candidates(
    db: &mut Db,
    teams: &mut TeamCache,
    today: NaiveDate,
    kind: TaskKind,
    size: u32,
) -> Result<(Candidates<Candidate>, i64)> {
    select(
        db,
        teams,
        kind,
        &format!("t.date_fin < {}", db.mark(Mark::Date)),
        &[Val::Text(today.to_string())],
        size,
    )
}

/// Open tasks of `kind` whose due date meets `due` (a condition on `t.date_fin` with `vals`),
/// with their project and assignee, in creation order (newest first); and the count of open
/// tasks of `kind`. Joined here when the run holds the directory ([`held`]); otherwise by the
/// server ([`materialized`]).
pub fn select(
    db: &mut Db,
    teams: &mut TeamCache,
    kind: TaskKind,
    due: &str,
    vals: &[Val],
    size: u32,
) -> Result<(Candidates<Candidate>, i64)> {
    if teams.held(db)? {
        return held(db, teams, kind, due, vals);
    }
    let (pager, open) = materialized(db, kind, due, vals, size)?;
    let cols = ("projet_id", "tache_id");
    Ok((
        Candidates::Table {
            pager,
            cols,
            load: task_page,
        },
        open,
    ))
}

/// A task of the narrow scan ([`held`]): every column NULL but for the due tasks.
#[derive(diesel::Queryable)]
struct ScanRow {
    #[diesel(deserialize_as = LossyOpt)]
    tache_id: Option<String>,
    #[diesel(deserialize_as = LossyOpt)]
    parent: Option<String>,
    #[diesel(deserialize_as = LossyOpt)]
    nom: Option<String>,
    #[diesel(deserialize_as = LossyOpt)]
    date_fin: Option<String>,
    #[diesel(deserialize_as = LossyOpt)]
    assignee_id: Option<String>,
    #[diesel(deserialize_as = LossyOpt)]
    created: Option<String>,
}
crate::db::reused::positional!(
    ScanRow,
    (
        Nullable<Text>,
        Nullable<Text>,
        Nullable<Text>,
        Nullable<Text>,
        Nullable<Text>,
        Nullable<Text>
    )
);

/// [`select`] joined here: one narrow scan of the open tasks of `kind`, every column NULL but
/// for those `due` keeps (their count is the open tasks'), each due task joined to its stage
/// (module), project and assignee in the run's [`source::Directory`], as the server's joins
/// would (a task whose stage or project does not exist is no candidate), then sorted in the
/// candidate table's order as the server would sort it ([`crate::db::IdKeys::order_text`]).
/// At 5,000 projects: about 0.05 s of the server's time, where the candidate table took 0.35 s.
fn held(
    db: &mut Db,
    teams: &mut TeamCache,
    kind: TaskKind,
    due: &str,
    vals: &[Val],
) -> Result<(Candidates<Candidate>, i64)> {
    let when = |x: &str| format!("CASE WHEN {due} THEN {x} END");
    // Not sorted by the server: with the task's name among its columns, MariaDB sorted every
    // open task and read each again by its row id (0.22 s, against 0.04 s for the scan).
    let sql = format!(
        "SELECT {tid}, {parent}, {nom}, {df}, {resp}, {created} FROM {table} t WHERE {open}",
        created = when(&db.text("t.date_creation")),
        tid = when(&db.text("t.id")),
        parent = when(&db.text(&format!("t.{}", kind.parent()))),
        nom = when("t.nom"),
        df = when(&db.text("t.date_fin")),
        resp = when(&db.text("t.responsable_id")),
        table = kind.table(),
        open = kind.open("t"),
    );
    let binds: Vec<Val> = (0..6).flat_map(|_| vals.iter().cloned()).collect();
    let dir = &mut teams.dir;
    dir.projects(db)?;
    dir.users(db)?;
    match kind {
        TaskKind::Stage => {
            dir.stages(db)?;
        }
        TaskKind::Module => {
            dir.modules(db)?;
        }
    }
    let mut open = 0i64;
    // In chunks: a Vec grown by doubling would hold one and a half times its rows while it
    // moves them.
    let mut held: Vec<Vec<Held>> = Vec::new();
    let teams = &*teams;
    let keys = db.id_keys();
    db.each_positional(&sql, &binds, |r: ScanRow| {
        open += 1;
        let (Some(tache_id), Some(parent)) = (r.tache_id, r.parent) else {
            return;
        };
        let Some((project, module)) = teams.dir.parent(keys, kind == TaskKind::Module, &parent)
        else {
            return;
        };
        if held.last().is_none_or(|c| c.len() == HELD_CHUNK) {
            held.push(Vec::with_capacity(HELD_CHUNK));
        }
        let Some(chunk) = held.last_mut() else {
            return;
        };
        let assignee = r
            .assignee_id
            .as_deref()
            .and_then(|a| teams.dir.user(keys, a));
        let team = teams.team_of(keys, &project.info.id);
        chunk.push(Held::new(
            [
                Some(tache_id.as_str()),
                Some(r.nom.as_deref().unwrap_or_default()),
                Some(r.date_fin.as_deref().unwrap_or_default()),
                r.assignee_id.as_deref(),
                r.created.as_deref(),
            ],
            (module, assignee, project, team),
        ));
    })
    .with_context(|| format!("cannot read {}", kind.table()))?;
    // The candidate table's order: newest first, then by id (a module task's is a number).
    let len = held.iter().map(Vec::len).sum();
    let mut all = Vec::with_capacity(len);
    for chunk in held {
        all.extend(chunk);
    }
    let id_order = |a: &str, b: &str| match (a.parse::<i64>(), b.parse::<i64>()) {
        (Ok(x), Ok(y)) if kind == TaskKind::Module => x.cmp(&y),
        _ => keys.order_text(Some(a), Some(b)),
    };
    all.sort_by(|a, b| {
        keys.order_text(b.part(Held::CREATED), a.part(Held::CREATED))
            .then_with(|| id_order(a.id(), b.id()))
    });
    log::debug!(
        "{}: {len} due of {open} open tasks, joined in memory",
        kind.table()
    );
    Ok((
        Candidates::Held {
            len,
            rows: Box::new(all.into_iter().map(Held::candidate)),
            ids: |c| (c.projet.id.as_str(), c.tache_id.as_str()),
        },
        open,
    ))
}

/// Due tasks per chunk of [`held`]'s buffer.
const HELD_CHUNK: usize = 1024;

/// A due task as [`held`] keeps it until its page: its own text in one allocation (its id,
/// name, due date, assignee's id and creation time, one after the other), and what it shares
/// with the tasks of its project. About a third of a [`Candidate`]'s size, and one allocation
/// where there were five.
struct Held {
    text: Box<str>,
    /// Where each part of `text` ends.
    ends: [u32; 5],
    /// Bit `i`: part `i` was read (not NULL).
    present: u8,
    module: Option<Rc<str>>,
    assignee: Option<Rc<Person>>,
    project: Rc<source::directory::Project>,
    team: source::Team,
}

type Shared = (
    Option<Rc<str>>,
    Option<Rc<Person>>,
    Rc<source::directory::Project>,
    source::Team,
);

impl Held {
    const ID: usize = 0;
    const NOM: usize = 1;
    const DUE: usize = 2;
    const ASSIGNEE: usize = 3;
    const CREATED: usize = 4;

    fn new(parts: [Option<&str>; 5], (module, assignee, project, team): Shared) -> Held {
        let mut text = String::with_capacity(parts.iter().flatten().map(|p| p.len()).sum());
        let mut ends = [0u32; 5];
        let mut present = 0u8;
        for (i, p) in parts.iter().enumerate() {
            if let Some(p) = p {
                text.push_str(p);
                present |= 1 << i;
            }
            ends[i] = u32::try_from(text.len()).unwrap_or(u32::MAX);
        }
        Held {
            text: text.into_boxed_str(),
            ends,
            present,
            module,
            assignee,
            project,
            team,
        }
    }

    /// Part `i` of the text; `None` when it was NULL.
    fn part(&self, i: usize) -> Option<&str> {
        if self.present & (1 << i) == 0 {
            return None;
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.text.get(start..self.ends[i] as usize)
    }

    fn id(&self) -> &str {
        self.part(Held::ID).unwrap_or_default()
    }

    fn candidate(self) -> Candidate {
        let owned = |i| self.part(i).map(str::to_owned);
        Candidate {
            projet: self.project.info.clone(),
            projet_statut: self.project.statut.clone(),
            tache_id: self.id().to_owned(),
            module: self.module.as_deref().map(str::to_owned),
            nom: owned(Held::NOM).unwrap_or_default(),
            date_fin: owned(Held::DUE).unwrap_or_default(),
            assignee_id: owned(Held::ASSIGNEE),
            assignee: self.assignee.as_deref().cloned(),
            team: self.team.clone(),
        }
    }
}

/// [`select`] joined by the server, materialized for paging. One scan of the task table gives both: a derived
/// table `t` of the open tasks, with the few columns a candidate needs and their count, is read
/// first; the tasks `due` keeps are joined to their stage (module), project and assignee by
/// primary key. (Joining back to the task table by id instead cost 180,000 random reads at
/// 50,000 projects: 12.3–13.6 s against 8.2 s.) With no candidate to carry the count, it is
/// counted apart.
fn materialized(
    db: &mut Db,
    kind: TaskKind,
    due: &str,
    vals: &[Val],
    size: u32,
) -> Result<(Pager, i64)> {
    let j = db.ordered_join();
    let (joins, module, open) = kind.parts(j);
    let cols = format!(
        "{proj}, {tid} AS tache_id, {module} AS module_nom, t.nom AS nom, {df} AS date_fin, \
         t.responsable_id AS assignee_id, {pc}, t.open_total AS open_total",
        proj = source::project_cols(),
        tid = db.text("t.id"),
        df = db.text("t.date_fin"),
        pc = source::person_cols(db, "u"),
    );
    let pager = source::materialize(
        db,
        &cols,
        &format!(
            "FROM (SELECT x.id AS id, x.{parent} AS {parent}, x.nom AS nom, x.date_fin AS date_fin, \
             x.date_creation AS date_creation, x.responsable_id AS responsable_id, \
             COUNT(*) OVER () AS open_total FROM {table} x WHERE {open}) t {joins} \
             LEFT JOIN core_statutprojet s ON s.id = p.statut_id \
             LEFT JOIN core_utilisateur u ON u.id = t.responsable_id \
             WHERE {due}",
            table = kind.table(),
            parent = kind.parent(),
        ),
        "t.date_creation DESC, t.id",
        vals,
        size,
    )?;
    let open_total = if pager.rows > 0 {
        db.count(
            &format!("SELECT MAX(open_total) AS n FROM {}", source::CAND),
            &[],
        )
        .context("cannot count open tasks")?
    } else {
        open_tasks(db, kind)?
    };
    Ok((pager, open_total))
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

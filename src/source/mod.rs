//! Read-only, set-based queries on the web application's tables, returning plain structs.
//! Dates are read as text so that zero or corrupt values become counted skips, not errors.

use crate::clock::Clock;
use crate::db::text::{Lossy, LossyOpt};
use crate::db::{Db, Val};
use crate::rules::{
    budget, contracts, deadlines, stages, statut_label, tasks, Person, ProjectInfo, Seen, SeenSpec,
    Target,
};
use anyhow::{Context, Result};
use chrono::NaiveDate;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::QueryableByName;
use std::collections::HashMap;

/// The domain tables every check needs; a clear error names the first one missing, and tells a
/// table that cannot be read (a missing SELECT grant: MySQL hides such tables from
/// `information_schema`) from one that does not exist.
pub fn ensure_domain_tables(db: &mut Db, tables: &[&str]) -> Result<()> {
    for t in tables {
        if let Err(e) = db.count(&format!("SELECT COUNT(*) AS n FROM {t} WHERE 1 = 0"), &[]) {
            let msg = crate::db::one_line(&e.to_string());
            let missing = msg.contains("doesn't exist") || msg.contains("no such table");
            if missing {
                anyhow::bail!(
                    "table `{t}` is missing in `{}`: is this the SI-Gouvernance database? (`sigov demo` creates a demo one)",
                    db.url().redacted()
                );
            }
            anyhow::bail!(
                "cannot read table `{t}` in `{}`: {msg} (MySQL: GRANT SELECT ON {t}; see the README's least-privilege grants)",
                db.url().redacted()
            );
        }
    }
    Ok(())
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// The id of a project status by code (`EN_COURS`), if the row exists.
pub fn statut_id(db: &mut Db, code: &str) -> Result<Option<i64>> {
    let rows: Vec<IdRow> = db
        .load(
            "SELECT id FROM core_statutprojet WHERE nom = ?",
            &[code.into()],
        )
        .context("cannot read core_statutprojet")?;
    match rows.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.id)),
        many => anyhow::bail!(
            "core_statutprojet has {} rows named `{code}` (ids {}): the web application keeps this name unique; remove the duplicate before checking (sigov will not guess which one the projects use)",
            many.len(),
            many.iter().map(|r| r.id.to_string()).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// Person columns, prefixed by `p_`, selected from alias `u`.
fn person_cols(db: &Db, alias: &str) -> String {
    format!(
        "{a}.id AS p_id, {a}.username AS p_username, {a}.first_name AS p_first, {a}.last_name AS p_last, \
         {a}.email AS p_email, {} AS p_super, {} AS p_active, {} AS p_statut",
        db.flag(&format!("{alias}.is_superuser")),
        db.flag(&format!("{alias}.is_active")),
        db.flag(&format!("{alias}.statut_actif")),
        a = alias
    )
}

/// The project columns every candidate carries (`p` = core_projet, `s` = its status).
fn project_cols() -> &'static str {
    "p.id AS projet_id, p.nom AS projet_nom, p.client AS projet_client, COALESCE(s.nom, '') AS projet_statut"
}

#[derive(QueryableByName)]
struct ProjectCols {
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    projet_id: String,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    projet_nom: String,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    projet_client: String,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    projet_statut: String,
}

impl ProjectCols {
    fn info(&self) -> ProjectInfo {
        ProjectInfo {
            id: self.projet_id.clone(),
            nom: self.projet_nom.clone(),
            client: self.projet_client.clone(),
            statut: statut_label(&self.projet_statut),
        }
    }
}

/// A person from a LEFT JOIN: absent when the referenced user does not exist.
#[derive(QueryableByName)]
struct OptPerson {
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    p_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    p_username: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    p_first: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    p_last: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    p_email: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    p_super: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    p_active: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    p_statut: Option<i64>,
}

impl OptPerson {
    fn person(self) -> Option<Person> {
        match (self.p_id, self.p_username) {
            (Some(id), Some(username)) => Some(Person {
                id,
                username,
                first_name: self.p_first.unwrap_or_default(),
                last_name: self.p_last.unwrap_or_default(),
                email: self.p_email.unwrap_or_default(),
                is_superuser: self.p_super.unwrap_or(0) != 0,
                is_active: self.p_active.unwrap_or(0) != 0,
                statut_actif: self.p_statut.unwrap_or(0) != 0,
            }),
            _ => None,
        }
    }
}

#[derive(QueryableByName)]
struct MemberRow {
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    projet_id: String,
    #[diesel(sql_type = BigInt)]
    resp: i64,
    #[diesel(embed)]
    person: OptPerson,
}

type Teams = HashMap<String, Vec<(bool, Person)>>;

/// Active affectations (`date_fin IS NULL`) of the projects that `projects` (a SELECT of
/// distinct project ids named `id`) returns, in affectation-id order; only the responsables
/// when `only_resp`. One statement; the projects are a derived table joined once (MariaDB
/// plans `IN (subquery)` over the task table three times slower).
fn teams(db: &mut Db, projects: &str, vals: &[Val], only_resp: bool) -> Result<Teams> {
    let sql = format!(
        "SELECT a.projet_id AS projet_id, {resp} AS resp, {pc} \
         FROM ({projects}) x JOIN core_affectation a ON a.projet_id = x.id \
         JOIN core_utilisateur u ON u.id = a.utilisateur_id WHERE a.date_fin IS NULL {only} \
         ORDER BY a.projet_id, a.id",
        resp = db.flag("a.est_responsable_principal"),
        pc = person_cols(db, "u"),
        only = if only_resp {
            "AND a.est_responsable_principal <> 0"
        } else {
            ""
        },
    );
    let rows: Vec<MemberRow> = db.load(&sql, vals).context("cannot read project teams")?;
    let mut teams: Teams = HashMap::new();
    for m in rows {
        if let Some(p) = m.person.person() {
            teams.entry(m.projet_id).or_default().push((m.resp != 0, p));
        }
    }
    Ok(teams)
}

/// The temporary table that holds a check's candidates, numbered `n` in the check's order.
/// It lives in the connection (MySQL: the server; SQLite: a temporary file), so sigov holds
/// one page at a time whatever the data size.
const CAND: &str = "sigov_cand";

/// A check's candidates, materialized once (a consistent snapshot), read page by page.
#[derive(Debug, Clone, Copy)]
pub struct Pager {
    /// Candidates in the table.
    pub rows: i64,
    size: i64,
    next: i64,
}

impl Pager {
    /// The next page as `(after, upto)` row numbers, or `None` when every page was read.
    pub fn next_page(&mut self) -> Option<(i64, i64)> {
        if self.next >= self.rows {
            return None;
        }
        let r = (self.next, (self.next + self.size).min(self.rows));
        self.next = r.1;
        Some(r)
    }
}

/// The rows of one page, and which of their columns name the entities the check's
/// de-duplication reads back (see [`seen`]).
#[derive(Debug, Clone, Copy)]
pub struct Scope {
    pub page: (i64, i64),
    /// The `sigov_cand` column matching the alert table's entity column (`projet_id` for
    /// core_alerteprojet, `etape_id` for core_notificationetape).
    pub rows_col: &'static str,
    /// The `sigov_cand` column matching `sigov_alert_ledger.entity_id`.
    pub ledger_col: &'static str,
}

/// Drops the candidate table (a no-op when there is none).
pub fn drop_candidates(db: &mut Db) -> Result<()> {
    let sql = match db.backend() {
        crate::db::Backend::Mysql => format!("DROP TEMPORARY TABLE IF EXISTS {CAND}"),
        crate::db::Backend::Sqlite => format!("DROP TABLE IF EXISTS temp.{CAND}"),
    };
    db.batch(&sql).context("cannot drop the candidate table")?;
    Ok(())
}

/// Materializes `SELECT cols FROM … WHERE …` (`from_where`) in `sigov_cand`, numbered by
/// `order`, indexed by number. Four statements.
fn materialize(
    db: &mut Db,
    cols: &str,
    from_where: &str,
    order: &str,
    vals: &[Val],
    size: u32,
) -> Result<Pager> {
    drop_candidates(db)?;
    db.execute(
        &format!(
            "CREATE TEMPORARY TABLE {CAND} AS SELECT ROW_NUMBER() OVER (ORDER BY {order}) AS n, {cols} {from_where}"
        ),
        vals,
    )
    .context("cannot select the candidates (MySQL: the user needs CREATE TEMPORARY TABLES)")?;
    let index = match db.backend() {
        crate::db::Backend::Mysql => format!("ALTER TABLE {CAND} ADD PRIMARY KEY (n)"),
        crate::db::Backend::Sqlite => format!("CREATE UNIQUE INDEX temp.{CAND}_n ON {CAND} (n)"),
    };
    db.batch(&index).context("cannot index the candidates")?;
    let rows = db
        .count(&format!("SELECT COUNT(*) AS n FROM {CAND}"), &[])
        .context("cannot count the candidates")?;
    Ok(Pager {
        rows,
        size: i64::from(size.max(1)),
        next: 0,
    })
}

/// The rows of one page, in order.
fn page_rows<R: crate::db::LoadRow>(db: &mut Db, page: (i64, i64), what: &str) -> Result<Vec<R>> {
    db.load(
        &format!("SELECT * FROM {CAND} WHERE n > ? AND n <= ? ORDER BY n"),
        &[Val::Int(page.0), Val::Int(page.1)],
    )
    .with_context(|| format!("cannot read {what}"))
}

/// The active teams of the projects of one page (see [`teams`]).
fn page_teams(db: &mut Db, page: (i64, i64), only_resp: bool) -> Result<Teams> {
    teams(
        db,
        &format!("SELECT DISTINCT projet_id AS id FROM {CAND} WHERE n > ? AND n <= ?"),
        &[Val::Int(page.0), Val::Int(page.1)],
        only_resp,
    )
}

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
        proj = project_cols(),
        df = db.text("p.date_fin"),
        pc = person_cols(db, "u"),
    );
    let pager = materialize(
        db,
        &cols,
        "FROM core_projet p LEFT JOIN core_statutprojet s ON s.id = p.statut_id \
         LEFT JOIN core_utilisateur u ON u.id = p.createur_id \
         WHERE p.statut_id = ? AND p.date_fin IS NOT NULL AND p.date_fin <= ?",
        "p.date_creation DESC, p.id",
        &[Val::Int(en_cours), Val::Text(horizon.to_string())],
        size,
    )?;
    Ok((total, pager))
}

/// One page of deadline candidates with their createur and active team. Two statements.
pub fn deadline_page(db: &mut Db, page: (i64, i64)) -> Result<Vec<deadlines::Candidate>> {
    let rows: Vec<DeadlineRow> = page_rows(db, page, "deadline candidates")?;
    let mut teams = page_teams(db, page, false)?;
    Ok(rows
        .into_iter()
        .map(|r| deadlines::Candidate {
            team: teams.remove(&r.proj.projet_id).unwrap_or_default(),
            projet: r.proj.info(),
            date_fin: r.date_fin.unwrap_or_default(),
            createur_id: r.createur_id,
            createur: r.createur.person(),
        })
        .collect())
}

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
        proj = project_cols(),
        ordre = db.int("e.ordre"),
        df = db.text("e.date_fin_prevue"),
        pc = person_cols(db, "u"),
    );
    let pager = materialize(
        db,
        &cols,
        &format!(
            "FROM core_etapeprojet e JOIN core_projet p ON p.id = e.projet_id \
             LEFT JOIN core_typeetape t ON t.id = e.type_etape_id \
             LEFT JOIN core_statutprojet s ON s.id = p.statut_id \
             LEFT JOIN core_utilisateur u ON u.id = p.createur_id \
             WHERE {open} AND e.date_fin_prevue < ?"
        ),
        "p.id, e.ordre, e.id",
        &[Val::Text(today.to_string())],
        size,
    )?;
    Ok((total, pager))
}

/// One page of stage candidates with the project's createur and responsable. Two statements.
pub fn stage_page(db: &mut Db, page: (i64, i64)) -> Result<Vec<stages::Candidate>> {
    let rows: Vec<StageRow> = page_rows(db, page, "stage candidates")?;
    let teams = page_teams(db, page, true)?;
    Ok(rows
        .into_iter()
        .map(|r| stages::Candidate {
            responsable: first(&teams, &r.proj.projet_id),
            projet: r.proj.info(),
            etape_id: r.etape_id,
            ordre: r.ordre,
            type_code: r.type_code,
            date_fin_prevue: r.date_fin.unwrap_or_default(),
            createur: r.createur.person(),
        })
        .collect())
}

/// The responsable principal of a project from a responsables-only team map.
fn first(teams: &Teams, projet: &str) -> Option<Person> {
    teams
        .get(projet)
        .and_then(|t| deadlines::responsable(t))
        .cloned()
}

#[derive(QueryableByName)]
struct TaskRow {
    #[diesel(embed)]
    proj: ProjectCols,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    tache_id: String,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    module_nom: Option<String>,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    nom: String,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    date_fin: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    assignee_id: Option<String>,
    #[diesel(embed)]
    assignee: OptPerson,
}

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
    /// (tables with the project as `p`, module name, open filter)
    fn parts(self) -> (&'static str, &'static str, String) {
        match self {
            TaskKind::Stage => (
                "core_tacheetape t JOIN core_etapeprojet e ON e.id = t.etape_id JOIN core_projet p ON p.id = e.projet_id",
                "NULL",
                format!("t.statut IN ({}) AND t.date_fin IS NOT NULL", in_list(tasks::STAGE_TASK_OPEN)),
            ),
            TaskKind::Module => (
                "core_tachemodule t JOIN core_moduleprojet m ON m.id = t.module_id JOIN core_projet p ON p.id = m.projet_id",
                "m.nom",
                format!("t.statut IN ({}) AND t.date_fin IS NOT NULL", in_list(tasks::MODULE_TASK_OPEN)),
            ),
        }
    }

    fn table(self) -> &'static str {
        match self {
            TaskKind::Stage => "core_tacheetape",
            TaskKind::Module => "core_tachemodule",
        }
    }
}

/// The reference's count of open tasks (stage tasks; module tasks too when `modules`).
pub fn task_total(db: &mut Db, modules: bool) -> Result<i64> {
    let mut total = 0;
    for kind in [TaskKind::Stage, TaskKind::Module] {
        if kind == TaskKind::Module && !modules {
            break;
        }
        let (_, _, open) = kind.parts();
        total += db
            .count(
                &format!("SELECT COUNT(*) AS n FROM {} t WHERE {open}", kind.table()),
                &[],
            )
            .context("cannot count open tasks")?;
    }
    Ok(total)
}

/// Open tasks of `kind` past their due date, whatever the project's status (the rule decides).
pub fn task_candidates(db: &mut Db, today: NaiveDate, kind: TaskKind, size: u32) -> Result<Pager> {
    let (from, module, open) = kind.parts();
    let cols = format!(
        "{proj}, {tid} AS tache_id, {module} AS module_nom, t.nom AS nom, {df} AS date_fin, \
         t.responsable_id AS assignee_id, {pc}",
        proj = project_cols(),
        tid = db.text("t.id"),
        df = db.text("t.date_fin"),
        pc = person_cols(db, "u"),
    );
    materialize(
        db,
        &cols,
        &format!(
            "FROM {from} LEFT JOIN core_statutprojet s ON s.id = p.statut_id \
             LEFT JOIN core_utilisateur u ON u.id = t.responsable_id \
             WHERE {open} AND t.date_fin < ?"
        ),
        "t.date_creation DESC, t.id",
        &[Val::Text(today.to_string())],
        size,
    )
}

/// One page of task candidates with their project's active team (shared by the tasks of one
/// project). Two statements.
pub fn task_page(db: &mut Db, page: (i64, i64)) -> Result<Vec<tasks::Candidate>> {
    let rows: Vec<TaskRow> = page_rows(db, page, "task candidates")?;
    let mut teams = page_teams(db, page, false)?;
    let mut shared: HashMap<String, std::rc::Rc<Vec<(bool, Person)>>> = HashMap::new();
    Ok(rows
        .into_iter()
        .map(|r| {
            let team = shared
                .entry(r.proj.projet_id.clone())
                .or_insert_with(|| {
                    std::rc::Rc::new(teams.remove(&r.proj.projet_id).unwrap_or_default())
                })
                .clone();
            tasks::Candidate {
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
        proj = project_cols(),
        sp = db.int("COALESCE(b.spent, 0)"),
        pc = person_cols(db, "u"),
    );
    let pager = materialize(
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

/// One page of budget candidates with the project's createur and responsable. Two statements.
pub fn budget_page(db: &mut Db, page: (i64, i64)) -> Result<Vec<budget::Candidate>> {
    let rows: Vec<BudgetRow> = page_rows(db, page, "budget candidates")?;
    let teams = page_teams(db, page, true)?;
    Ok(rows
        .into_iter()
        .map(|r| budget::Candidate {
            responsable: first(&teams, &r.proj.projet_id),
            projet: r.proj.info(),
            devise: r.devise,
            budget_cents: r.budget_cents,
            spent_cents: r.spent_cents,
            createur: r.createur.person(),
        })
        .collect())
}

#[derive(QueryableByName)]
struct ContractRow {
    #[diesel(embed)]
    proj: ProjectCols,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    contrat_id: String,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    type_garantie: String,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    date_debut: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    date_fin: Option<String>,
    #[diesel(sql_type = BigInt)]
    renewed: i64,
}

#[derive(QueryableByName)]
struct ContractCounts {
    #[diesel(sql_type = BigInt)]
    active: i64,
    #[diesel(sql_type = BigInt)]
    expired: i64,
}

#[derive(QueryableByName)]
struct PersonRow {
    #[diesel(embed)]
    person: OptPerson,
}

/// Contract candidates and every superuser.
pub struct ContractSource {
    pub pager: Pager,
    pub active: i64,
    pub expired: i64,
    pub superusers: Vec<Person>,
}

/// Contracts active today ending by `horizon`, and contracts ended before today (since
/// `expired_since` when given); active ones first, each pass by `date_debut` descending.
pub fn contract_candidates(
    db: &mut Db,
    today: NaiveDate,
    horizon: NaiveDate,
    expired_since: Option<NaiveDate>,
    size: u32,
) -> Result<ContractSource> {
    let t = Val::Text(today.to_string());
    let counts: Vec<ContractCounts> = db
        .load(
            &format!(
                "SELECT {} AS active, {} AS expired FROM core_contratgarantie",
                db.int("COALESCE(SUM(CASE WHEN date_debut <= ? AND date_fin >= ? THEN 1 ELSE 0 END), 0)"),
                db.int("COALESCE(SUM(CASE WHEN date_fin < ? THEN 1 ELSE 0 END), 0)"),
            ),
            &[t.clone(), t.clone(), t.clone()],
        )
        .context("cannot count contracts")?;
    let (active, expired) = counts
        .first()
        .map(|c| (c.active, c.expired))
        .unwrap_or((0, 0));
    let since = expired_since.map(|d| d.to_string());
    let filter = format!(
        "((c.date_debut <= ? AND c.date_fin >= ? AND c.date_fin <= ?) OR (c.date_fin < ?{}))",
        if since.is_some() {
            " AND c.date_fin >= ?"
        } else {
            ""
        }
    );
    let mut vals = vec![
        t.clone(),
        t.clone(),
        t.clone(),
        Val::Text(horizon.to_string()),
        t.clone(),
    ];
    if let Some(s) = since {
        vals.push(Val::Text(s));
    }
    let renewed = db.flag(
        "(SELECT COUNT(*) FROM core_contratgarantie n WHERE n.projet_id = c.projet_id \
          AND n.type_garantie = c.type_garantie AND n.id <> c.id AND n.date_fin > c.date_fin \
          AND n.date_debut >= c.date_debut)",
    );
    let cols = format!(
        "{proj}, {cid} AS contrat_id, c.type_garantie AS type_garantie, {dd} AS date_debut, \
         {df} AS date_fin, {renewed} AS renewed",
        proj = project_cols(),
        cid = db.text("c.id"),
        dd = db.text("c.date_debut"),
        df = db.text("c.date_fin"),
    );
    let pager = materialize(
        db,
        &cols,
        &format!(
            "FROM core_contratgarantie c JOIN core_projet p ON p.id = c.projet_id \
             LEFT JOIN core_statutprojet s ON s.id = p.statut_id WHERE {filter}"
        ),
        "(CASE WHEN c.date_fin < ? THEN 1 ELSE 0 END), c.date_debut DESC, c.id",
        &vals,
        size,
    )?;
    let supers: Vec<PersonRow> = db
        .load(
            &format!(
                "SELECT {} FROM core_utilisateur u WHERE u.is_superuser <> 0 ORDER BY u.id",
                person_cols(db, "u")
            ),
            &[],
        )
        .context("cannot read superusers")?;
    Ok(ContractSource {
        pager,
        active,
        expired,
        superusers: supers
            .into_iter()
            .filter_map(|p| p.person.person())
            .collect(),
    })
}

/// One page of contract candidates with the project's responsable. Two statements.
pub fn contract_page(db: &mut Db, page: (i64, i64)) -> Result<Vec<contracts::Candidate>> {
    let rows: Vec<ContractRow> = page_rows(db, page, "contract candidates")?;
    let teams = page_teams(db, page, true)?;
    Ok(rows
        .into_iter()
        .map(|r| contracts::Candidate {
            responsable: first(&teams, &r.proj.projet_id),
            projet: r.proj.info(),
            contrat_id: r.contrat_id,
            type_garantie: r.type_garantie,
            date_debut: r.date_debut.unwrap_or_default(),
            date_fin: r.date_fin.unwrap_or_default(),
            renewed: r.renewed != 0,
        })
        .collect())
}

#[derive(QueryableByName)]
struct ExistingRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    destinataire_id: String,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    entity_id: String,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    typ: String,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    date_creation: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    donnees_contexte: Option<String>,
}

#[derive(QueryableByName)]
struct KeyRow {
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    alert_key: String,
}

/// What was already recorded for a check: alert rows of its types since `spec.since` (any
/// writer: Django, the web application or sigov), and the check's ledger keys since then, of
/// the entities of one page of candidates. Two statements.
pub fn seen(db: &mut Db, clock: &Clock, spec: &SeenSpec, scope: Scope) -> Result<Seen> {
    // The page's entities first, then the table through its entity index: `CROSS JOIN` fixes
    // that order on SQLite (which has no statistics), and the unary `+` keeps SQLite from
    // walking the type or date index instead (MySQL ignores it). Otherwise each page would
    // read every recent row of the check.
    let page = |col: &str| {
        format!("(SELECT DISTINCT {col} AS id FROM {CAND} WHERE n > ? AND n <= ?) pg CROSS JOIN")
    };
    let page_vals = || vec![Val::Int(scope.page.0), Val::Int(scope.page.1)];
    let mut seen = Seen::default();
    if !spec.types.is_empty() {
        let marks = vec!["?"; spec.types.len()].join(", ");
        let (typ, entity) = match spec.target {
            Target::Alerte => ("type_alerte", "projet_id"),
            Target::NotificationEtape => ("type_notification", "etape_id"),
        };
        let mut vals = page_vals();
        let mut sql = format!(
            "SELECT a.id AS id, a.destinataire_id AS destinataire_id, a.{entity} AS entity_id, a.{typ} AS typ, \
             {dc} AS date_creation, a.donnees_contexte AS donnees_contexte \
             FROM {pg} {table} a ON a.{entity} = pg.id WHERE +a.{typ} IN ({marks})",
            dc = db.text("a.date_creation"),
            pg = page(scope.rows_col),
            table = spec.target.table(),
        );
        vals.extend(spec.types.iter().map(|t| Val::Text(t.clone())));
        if let Some(since) = spec.since {
            sql.push_str(" AND a.date_creation >= ?");
            vals.push(Val::Text(crate::clock::format_datetime(
                clock.local_day_start_utc(since),
            )));
        }
        let rows: Vec<ExistingRow> = db
            .load(&sql, &vals)
            .with_context(|| format!("cannot read existing rows of {}", spec.target.table()))?;
        for r in rows {
            let created = r
                .date_creation
                .as_deref()
                .and_then(crate::clock::parse_stored_datetime)
                .map(|c| clock.local_date(c));
            let ctx = r
                .donnees_contexte
                .as_deref()
                .and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok())
                .filter(serde_json::Value::is_object);
            let Some(ctx) = ctx else {
                // Decide from what can be read: recipient, project (or stage), type, day.
                seen.unreadable
                    .insert((r.destinataire_id, r.entity_id, r.typ, created));
                seen.unreadable_ids.push(r.id);
                continue;
            };
            let Some(ent) = (spec.entity)(&r.entity_id, &ctx) else {
                continue;
            };
            for d in (spec.discriminators)(&r.typ, &ctx) {
                seen.once
                    .insert((r.destinataire_id.clone(), ent.clone(), r.typ.clone(), d));
            }
            if let Some(created) = created {
                seen.daily.insert((r.destinataire_id, ent, r.typ, created));
            }
        }
    }
    let mut vals = page_vals();
    let mut sql = format!(
        "SELECT k.alert_key AS alert_key FROM {pg} sigov_alert_ledger k ON k.entity_id = pg.id \
         WHERE k.check_name = ?",
        pg = page(scope.ledger_col)
    );
    vals.push(spec.check.into());
    if let Some(since) = spec.since {
        sql.push_str(" AND (+k.business_date >= ?");
        vals.push(Val::Text(since.to_string()));
        if !spec.keys_of_any_date.is_empty() {
            let marks = vec!["?"; spec.keys_of_any_date.len()].join(", ");
            sql.push_str(&format!(" OR k.alert_type IN ({marks})"));
            vals.extend(spec.keys_of_any_date.iter().map(|t| Val::from(*t)));
        }
        sql.push(')');
    }
    let keys: Vec<KeyRow> = db
        .load(&sql, &vals)
        .context("cannot read the alert ledger")?;
    seen.keys = keys.into_iter().map(|k| k.alert_key).collect();
    Ok(seen)
}

/// Rows that would drop out of a check's joins or filters without a trace: counted and
/// logged with their table and the first id, instead of vanishing. One statement per check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The skip reason, as counted.
    pub reason: &'static str,
    /// What it means, for the log line (names the table).
    pub what: &'static str,
    pub n: i64,
    pub first_id: Option<String>,
}

#[derive(QueryableByName)]
struct FindingRow {
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    reason: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    first_id: Option<String>,
}

/// (reason, what, FROM with the table as alias `x`, condition) of each kind of lost row.
type Probe = (&'static str, &'static str, String, String);

fn malformed_date(db: &Db, col: &str) -> Option<String> {
    // MySQL's DATE columns hold dates (zero dates are counted where they are read); SQLite
    // holds whatever was stored: text in another format is left out by every date filter.
    match db.backend() {
        crate::db::Backend::Sqlite => Some(format!(
            "{col} IS NOT NULL AND (typeof({col}) <> 'text' OR {col} NOT GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*')"
        )),
        _ => None,
    }
}

fn probes(db: &Db, check: &str) -> Vec<Probe> {
    let status = (
        "project_without_status",
        "core_projet rows whose statut_id has no core_statutprojet row (never in progress)",
        "core_projet x LEFT JOIN core_statutprojet s ON s.id = x.statut_id".to_owned(),
        "s.id IS NULL".to_owned(),
    );
    let team = (
        "assignment_without_user",
        "active core_affectation rows whose utilisateur_id has no core_utilisateur row (not in the team)",
        "core_affectation x LEFT JOIN core_utilisateur u ON u.id = x.utilisateur_id".to_owned(),
        "x.date_fin IS NULL AND u.id IS NULL".to_owned(),
    );
    let mut out: Vec<Probe> = match check {
        "deadlines" | "stages" => vec![status, team],
        "tasks" => vec![
            status,
            team,
            (
                "task_without_stage",
                "core_tacheetape rows whose etape_id has no core_etapeprojet row",
                "core_tacheetape x LEFT JOIN core_etapeprojet e ON e.id = x.etape_id".to_owned(),
                "e.id IS NULL".to_owned(),
            ),
        ],
        "budget" => vec![
            status,
            (
                "budget_line_bad_amount",
                "core_lignebudget rows whose montant is NULL or not a number (not added up)",
                "core_lignebudget x".to_owned(),
                match db.backend() {
                    crate::db::Backend::Sqlite => {
                        "x.montant IS NULL OR typeof(x.montant) NOT IN ('integer', 'real')"
                            .to_owned()
                    }
                    _ => "x.montant IS NULL".to_owned(),
                },
            ),
        ],
        "contracts" => vec![(
            "contract_without_project",
            "core_contratgarantie rows whose projet_id has no core_projet row",
            "core_contratgarantie x LEFT JOIN core_projet p ON p.id = x.projet_id".to_owned(),
            "p.id IS NULL".to_owned(),
        )],
        _ => Vec::new(),
    };
    let dates: &[(&str, &str, &str)] = match check {
        "deadlines" => &[(
            "core_projet",
            "date_fin",
            "core_projet rows whose date_fin is text that is not a date (YYYY-MM-DD)",
        )],
        "stages" => &[(
            "core_etapeprojet",
            "date_fin_prevue",
            "core_etapeprojet rows whose date_fin_prevue is text that is not a date (YYYY-MM-DD)",
        )],
        "tasks" => &[
            (
                "core_tacheetape",
                "date_fin",
                "core_tacheetape rows whose date_fin is text that is not a date (YYYY-MM-DD)",
            ),
            (
                "core_tachemodule",
                "date_fin",
                "core_tachemodule rows whose date_fin is text that is not a date (YYYY-MM-DD)",
            ),
        ],
        "contracts" => &[(
            "core_contratgarantie",
            "date_fin",
            "core_contratgarantie rows whose date_fin is text that is not a date (YYYY-MM-DD)",
        )],
        _ => &[],
    };
    for (table, col, what) in dates {
        if let Some(cond) = malformed_date(db, &format!("x.{col}")) {
            out.push(("date_not_a_date", what, format!("{table} x"), cond));
        }
    }
    out
}

/// What `check` would lose without a trace (see [`Finding`]); only kinds found.
pub fn integrity(db: &mut Db, check: &str) -> Result<Vec<Finding>> {
    let probes = probes(db, check);
    if probes.is_empty() {
        return Ok(Vec::new());
    }
    let sql = probes
        .iter()
        .enumerate()
        .map(|(i, (_, _, from, cond))| {
            format!(
                "SELECT '{i}' AS reason, COUNT(*) AS n, MIN({}) AS first_id FROM {from} WHERE {cond}",
                db.text("x.id")
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let rows: Vec<FindingRow> = db
        .load(&sql, &[])
        .context("cannot check the integrity of the rows the check reads")?;
    Ok(rows
        .into_iter()
        .filter(|r| r.n > 0)
        .filter_map(|r| {
            let (reason, what, _, _) = probes.get(r.reason.parse::<usize>().ok()?)?;
            Some(Finding {
                reason,
                what,
                n: r.n,
                first_id: r.first_id,
            })
        })
        .collect())
}

//! Read-only, set-based queries on the web application's tables, returning plain structs.
//! Dates are read as text so that zero or corrupt values become counted skips, not errors.

use crate::clock::Clock;
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

/// The domain tables every check needs; a clear error names the first one missing.
pub fn ensure_domain_tables(db: &mut Db, tables: &[&str]) -> Result<()> {
    for t in tables {
        if !db.table_exists(t)? {
            anyhow::bail!(
                "table `{t}` is missing in `{}`: is this the SI-Gouvernance database? (`sigov demo` creates a demo one)",
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
    Ok(rows.first().map(|r| r.id))
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
    #[diesel(sql_type = Text)]
    projet_id: String,
    #[diesel(sql_type = Text)]
    projet_nom: String,
    #[diesel(sql_type = Text)]
    projet_client: String,
    #[diesel(sql_type = Text)]
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
    #[diesel(sql_type = Nullable<Text>)]
    p_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    p_username: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    p_first: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    p_last: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
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
    #[diesel(sql_type = Text)]
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

/// Candidates with the number the reference's `📊` line shows.
pub struct Loaded<C> {
    pub total: i64,
    pub candidates: Vec<C>,
}

#[derive(QueryableByName)]
struct DeadlineRow {
    #[diesel(embed)]
    proj: ProjectCols,
    #[diesel(sql_type = Nullable<Text>)]
    date_fin: Option<String>,
    #[diesel(sql_type = Text)]
    createur_id: String,
    #[diesel(embed)]
    createur: OptPerson,
}

/// Deadline candidates: projects in progress with a `date_fin` up to `horizon` (overdue ones
/// included), with their createur and active team. Three statements whatever the data size.
pub fn deadline_candidates(
    db: &mut Db,
    en_cours: i64,
    horizon: NaiveDate,
) -> Result<Loaded<deadlines::Candidate>> {
    let total = db
        .count(
            "SELECT COUNT(*) AS n FROM core_projet WHERE statut_id = ? AND date_fin IS NOT NULL",
            &[Val::Int(en_cours)],
        )
        .context("cannot count projects in progress")?;
    let vals = [Val::Int(en_cours), Val::Text(horizon.to_string())];
    let filter = "p.statut_id = ? AND p.date_fin IS NOT NULL AND p.date_fin <= ?";
    let sql = format!(
        "SELECT {proj}, {df} AS date_fin, p.createur_id AS createur_id, {pc} \
         FROM core_projet p LEFT JOIN core_statutprojet s ON s.id = p.statut_id \
         LEFT JOIN core_utilisateur u ON u.id = p.createur_id \
         WHERE {filter} ORDER BY p.date_creation DESC, p.id",
        proj = project_cols(),
        df = db.text("p.date_fin"),
        pc = person_cols(db, "u"),
    );
    let rows: Vec<DeadlineRow> = db
        .load(&sql, &vals)
        .context("cannot read deadline candidates")?;
    let mut teams = teams(
        db,
        &format!("SELECT p.id AS id FROM core_projet p WHERE {filter}"),
        &vals,
        false,
    )?;
    let candidates = rows
        .into_iter()
        .map(|r| deadlines::Candidate {
            team: teams.remove(&r.proj.projet_id).unwrap_or_default(),
            projet: r.proj.info(),
            date_fin: r.date_fin.unwrap_or_default(),
            createur_id: r.createur_id,
            createur: r.createur.person(),
        })
        .collect();
    Ok(Loaded { total, candidates })
}

#[derive(QueryableByName)]
struct StageRow {
    #[diesel(embed)]
    proj: ProjectCols,
    #[diesel(sql_type = Text)]
    etape_id: String,
    #[diesel(sql_type = BigInt)]
    ordre: i64,
    #[diesel(sql_type = Text)]
    type_code: String,
    #[diesel(sql_type = Nullable<Text>)]
    date_fin: Option<String>,
    #[diesel(embed)]
    createur: OptPerson,
}

/// Stages in progress, unfinished, planned to end before `today`, whatever the project's
/// status, with the project's createur and responsable. Three statements.
pub fn stage_candidates(db: &mut Db, today: NaiveDate) -> Result<Loaded<stages::Candidate>> {
    let open =
        "e.statut = 'EN_COURS' AND e.date_fin_reelle IS NULL AND e.date_fin_prevue IS NOT NULL";
    let total = db
        .count(
            &format!("SELECT COUNT(*) AS n FROM core_etapeprojet e WHERE {open}"),
            &[],
        )
        .context("cannot count stages in progress")?;
    let vals = [Val::Text(today.to_string())];
    let sql = format!(
        "SELECT {proj}, e.id AS etape_id, {ordre} AS ordre, COALESCE(t.nom, '') AS type_code, {df} AS date_fin, {pc} \
         FROM core_etapeprojet e JOIN core_projet p ON p.id = e.projet_id \
         LEFT JOIN core_typeetape t ON t.id = e.type_etape_id \
         LEFT JOIN core_statutprojet s ON s.id = p.statut_id \
         LEFT JOIN core_utilisateur u ON u.id = p.createur_id \
         WHERE {open} AND e.date_fin_prevue < ? ORDER BY p.id, e.ordre",
        proj = project_cols(),
        ordre = db.int("e.ordre"),
        df = db.text("e.date_fin_prevue"),
        pc = person_cols(db, "u"),
    );
    let rows: Vec<StageRow> = db
        .load(&sql, &vals)
        .context("cannot read stage candidates")?;
    let teams = teams(
        db,
        &format!(
            "SELECT DISTINCT e.projet_id AS id FROM core_etapeprojet e WHERE {open} AND e.date_fin_prevue < ?"
        ),
        &vals,
        true,
    )?;
    let candidates = rows
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
        .collect();
    Ok(Loaded { total, candidates })
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
    #[diesel(sql_type = Text)]
    tache_id: String,
    #[diesel(sql_type = Nullable<Text>)]
    module_nom: Option<String>,
    #[diesel(sql_type = Text)]
    nom: String,
    #[diesel(sql_type = Nullable<Text>)]
    date_fin: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
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

/// Open tasks past their due date (stage tasks; module tasks too when `modules`), whatever the
/// project's status (the rule decides), with the project's active team. Three statements for
/// stage tasks, three more for module tasks.
pub fn task_candidates(
    db: &mut Db,
    today: NaiveDate,
    modules: bool,
) -> Result<Loaded<tasks::Candidate>> {
    let stage_open = format!(
        "t.statut IN ({}) AND t.date_fin IS NOT NULL",
        in_list(tasks::STAGE_TASK_OPEN)
    );
    let module_open = format!(
        "t.statut IN ({}) AND t.date_fin IS NOT NULL",
        in_list(tasks::MODULE_TASK_OPEN)
    );
    let mut total = db
        .count(
            &format!("SELECT COUNT(*) AS n FROM core_tacheetape t WHERE {stage_open}"),
            &[],
        )
        .context("cannot count open tasks")?;
    if modules {
        total += db
            .count(
                &format!("SELECT COUNT(*) AS n FROM core_tachemodule t WHERE {module_open}"),
                &[],
            )
            .context("cannot count open module tasks")?;
    }
    let vals = [Val::Text(today.to_string())];
    let mut candidates = Vec::new();
    // (tables with the project as p, module name, open filter, the distinct project ids)
    let kinds: &[(&str, &str, String, &str)] = &[
        (
            "core_tacheetape t JOIN core_etapeprojet e ON e.id = t.etape_id JOIN core_projet p ON p.id = e.projet_id",
            "NULL",
            stage_open,
            "SELECT DISTINCT e.projet_id AS id FROM core_tacheetape t JOIN core_etapeprojet e ON e.id = t.etape_id",
        ),
        (
            "core_tachemodule t JOIN core_moduleprojet m ON m.id = t.module_id JOIN core_projet p ON p.id = m.projet_id",
            "m.nom",
            module_open,
            "SELECT DISTINCT m.projet_id AS id FROM core_tachemodule t JOIN core_moduleprojet m ON m.id = t.module_id",
        ),
    ];
    for (i, (from, module, open, projects)) in kinds.iter().enumerate() {
        if i == 1 && !modules {
            break;
        }
        let sql = format!(
            "SELECT {proj}, {tid} AS tache_id, {module} AS module_nom, t.nom AS nom, {df} AS date_fin, \
             t.responsable_id AS assignee_id, {pc} \
             FROM {from} LEFT JOIN core_statutprojet s ON s.id = p.statut_id \
             LEFT JOIN core_utilisateur u ON u.id = t.responsable_id \
             WHERE {open} AND t.date_fin < ? ORDER BY t.date_creation DESC, t.id",
            proj = project_cols(),
            tid = db.text("t.id"),
            df = db.text("t.date_fin"),
            pc = person_cols(db, "u"),
        );
        let rows: Vec<TaskRow> = db
            .load(&sql, &vals)
            .context("cannot read task candidates")?;
        let mut teams = teams(
            db,
            &format!("{projects} WHERE {open} AND t.date_fin < ?"),
            &vals,
            false,
        )?;
        // Teams are shared by the tasks of one project.
        let mut shared: HashMap<String, std::rc::Rc<Vec<(bool, Person)>>> = HashMap::new();
        for r in rows {
            let team = shared
                .entry(r.proj.projet_id.clone())
                .or_insert_with(|| {
                    std::rc::Rc::new(teams.remove(&r.proj.projet_id).unwrap_or_default())
                })
                .clone();
            candidates.push(tasks::Candidate {
                projet: r.proj.info(),
                projet_statut: r.proj.projet_statut,
                tache_id: r.tache_id,
                module: r.module_nom,
                nom: r.nom,
                date_fin: r.date_fin.unwrap_or_default(),
                assignee_id: r.assignee_id,
                assignee: r.assignee.person(),
                team,
            });
        }
    }
    Ok(Loaded { total, candidates })
}

#[derive(QueryableByName)]
struct BudgetRow {
    #[diesel(embed)]
    proj: ProjectCols,
    #[diesel(sql_type = Text)]
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
/// a positive planned budget, summed exactly in cents by the database. Three statements.
pub struct BudgetSource {
    pub loaded: Loaded<budget::Candidate>,
    /// Projects in progress with a planned budget ≤ 0 (skipped, counted).
    pub not_positive: i64,
}

pub fn budget_candidates(db: &mut Db, en_cours: i64, min_percent: u32) -> Result<BudgetSource> {
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
    let filter = format!(
        "p.statut_id = ? AND p.budget_previsionnel > 0 AND COALESCE(b.spent, 0) * 100 >= ? * {budget}"
    );
    let vals = [Val::Int(en_cours), Val::Int(i64::from(min_percent))];
    let sql = format!(
        "SELECT {proj}, p.devise AS devise, {budget} AS budget_cents, {sp} AS spent_cents, {pc} \
         FROM core_projet p LEFT JOIN {spent} b ON b.projet_id = p.id \
         LEFT JOIN core_statutprojet s ON s.id = p.statut_id \
         LEFT JOIN core_utilisateur u ON u.id = p.createur_id \
         WHERE {filter} ORDER BY p.date_creation DESC, p.id",
        proj = project_cols(),
        sp = db.int("COALESCE(b.spent, 0)"),
        pc = person_cols(db, "u"),
    );
    let rows: Vec<BudgetRow> = db
        .load(&sql, &vals)
        .context("cannot read budget candidates")?;
    let teams = teams(
        db,
        &format!("SELECT p.id AS id FROM core_projet p LEFT JOIN {spent} b ON b.projet_id = p.id WHERE {filter}"),
        &vals,
        true,
    )?;
    let candidates = rows
        .into_iter()
        .map(|r| budget::Candidate {
            responsable: first(&teams, &r.proj.projet_id),
            projet: r.proj.info(),
            devise: r.devise,
            budget_cents: r.budget_cents,
            spent_cents: r.spent_cents,
            createur: r.createur.person(),
        })
        .collect();
    Ok(BudgetSource {
        loaded: Loaded { total, candidates },
        not_positive,
    })
}

#[derive(QueryableByName)]
struct ContractRow {
    #[diesel(embed)]
    proj: ProjectCols,
    #[diesel(sql_type = Text)]
    contrat_id: String,
    #[diesel(sql_type = Text)]
    type_garantie: String,
    #[diesel(sql_type = Nullable<Text>)]
    date_debut: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
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

/// Contract candidates and every superuser. Four statements.
pub struct ContractSource {
    pub loaded: Loaded<contracts::Candidate>,
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
    let sql = format!(
        "SELECT {proj}, c.id AS contrat_id, c.type_garantie AS type_garantie, {dd} AS date_debut, \
         {df} AS date_fin, {renewed} AS renewed, (CASE WHEN c.date_fin < ? THEN 1 ELSE 0 END) AS expired \
         FROM core_contratgarantie c JOIN core_projet p ON p.id = c.projet_id \
         LEFT JOIN core_statutprojet s ON s.id = p.statut_id \
         WHERE {filter} ORDER BY expired, c.date_debut DESC, c.id",
        proj = project_cols(),
        dd = db.text("c.date_debut"),
        df = db.text("c.date_fin"),
    );
    let mut all = vec![t];
    all.extend(vals.iter().cloned());
    let rows: Vec<ContractRow> = db
        .load(&sql, &all)
        .context("cannot read contract candidates")?;
    let teams = teams(
        db,
        &format!("SELECT DISTINCT c.projet_id AS id FROM core_contratgarantie c WHERE {filter}"),
        &vals,
        true,
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
    let candidates = rows
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
        .collect();
    Ok(ContractSource {
        loaded: Loaded {
            total: active + expired,
            candidates,
        },
        active,
        expired,
        superusers: supers
            .into_iter()
            .filter_map(|p| p.person.person())
            .collect(),
    })
}

#[derive(QueryableByName)]
struct ExistingRow {
    #[diesel(sql_type = Text)]
    destinataire_id: String,
    #[diesel(sql_type = Text)]
    entity_id: String,
    #[diesel(sql_type = Text)]
    typ: String,
    #[diesel(sql_type = Nullable<Text>)]
    date_creation: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    donnees_contexte: Option<String>,
}

#[derive(QueryableByName)]
struct KeyRow {
    #[diesel(sql_type = Text)]
    alert_key: String,
}

/// What was already recorded for a check: alert rows of its types since `spec.since` (any
/// writer: Django, the web application or sigov), and the check's ledger keys since then.
/// Two statements.
pub fn seen(db: &mut Db, clock: &Clock, spec: &SeenSpec) -> Result<Seen> {
    let mut seen = Seen::default();
    if !spec.types.is_empty() {
        let marks = vec!["?"; spec.types.len()].join(", ");
        let (typ, entity) = match spec.target {
            Target::Alerte => ("type_alerte", "projet_id"),
            Target::NotificationEtape => ("type_notification", "etape_id"),
        };
        let mut sql = format!(
            "SELECT destinataire_id, {entity} AS entity_id, {typ} AS typ, {dc} AS date_creation, \
             donnees_contexte FROM {table} WHERE {typ} IN ({marks})",
            dc = db.text("date_creation"),
            table = spec.target.table(),
        );
        let mut vals: Vec<Val> = spec.types.iter().map(|t| Val::Text(t.clone())).collect();
        if let Some(since) = spec.since {
            sql.push_str(" AND date_creation >= ?");
            vals.push(Val::Text(crate::clock::format_datetime(
                clock.local_day_start_utc(since),
            )));
        }
        let rows: Vec<ExistingRow> = db
            .load(&sql, &vals)
            .with_context(|| format!("cannot read existing rows of {}", spec.target.table()))?;
        for r in rows {
            let ctx = r
                .donnees_contexte
                .as_deref()
                .and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok())
                .unwrap_or(serde_json::Value::Null);
            let Some(ent) = (spec.entity)(&r.entity_id, &ctx) else {
                continue;
            };
            for d in (spec.discriminators)(&r.typ, &ctx) {
                seen.once
                    .insert((r.destinataire_id.clone(), ent.clone(), r.typ.clone(), d));
            }
            if let Some(created) = r
                .date_creation
                .as_deref()
                .and_then(crate::clock::parse_stored_datetime)
            {
                seen.daily
                    .insert((r.destinataire_id, ent, r.typ, clock.local_date(created)));
            }
        }
    }
    let keys: Vec<KeyRow> = match spec.since {
        Some(since) => db.load(
            "SELECT alert_key FROM sigov_alert_ledger WHERE check_name = ? AND business_date >= ?",
            &[spec.check.into(), Val::Text(since.to_string())],
        ),
        None => db.load(
            "SELECT alert_key FROM sigov_alert_ledger WHERE check_name = ?",
            &[spec.check.into()],
        ),
    }
    .context("cannot read the alert ledger")?;
    seen.keys = keys.into_iter().map(|k| k.alert_key).collect();
    Ok(seen)
}

//! Read-only, set-based queries on the web application's tables, returning plain structs.
//! Dates are read as text so that zero or corrupt values become counted skips, not errors.

use crate::clock::Clock;
use crate::db::{Db, Val};
use crate::rules::{deadlines, statut_label, Person, ProjectInfo, Seen};
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

#[derive(QueryableByName)]
struct ProjectRow {
    #[diesel(sql_type = Text)]
    projet_id: String,
    #[diesel(sql_type = Text)]
    nom: String,
    #[diesel(sql_type = Text)]
    client: String,
    #[diesel(sql_type = Nullable<Text>)]
    date_fin: Option<String>,
    #[diesel(sql_type = Text)]
    createur_id: String,
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

#[derive(QueryableByName)]
struct MemberRow {
    #[diesel(sql_type = Text)]
    projet_id: String,
    #[diesel(sql_type = BigInt)]
    resp: i64,
    #[diesel(sql_type = Text)]
    p_id: String,
    #[diesel(sql_type = Text)]
    p_username: String,
    #[diesel(sql_type = Text)]
    p_first: String,
    #[diesel(sql_type = Text)]
    p_last: String,
    #[diesel(sql_type = Text)]
    p_email: String,
    #[diesel(sql_type = BigInt)]
    p_super: i64,
    #[diesel(sql_type = BigInt)]
    p_active: i64,
    #[diesel(sql_type = BigInt)]
    p_statut: i64,
}

impl MemberRow {
    fn person(self) -> (String, bool, Person) {
        (
            self.projet_id,
            self.resp != 0,
            Person {
                id: self.p_id,
                username: self.p_username,
                first_name: self.p_first,
                last_name: self.p_last,
                email: self.p_email,
                is_superuser: self.p_super != 0,
                is_active: self.p_active != 0,
                statut_actif: self.p_statut != 0,
            },
        )
    }
}

/// Deadline candidates: projects in progress with a `date_fin` up to `horizon` (overdue ones
/// included), with their createur and active team. Three statements whatever the data size.
pub struct DeadlineSource {
    pub total_candidates: i64,
    pub candidates: Vec<deadlines::Candidate>,
}

pub fn deadline_candidates(
    db: &mut Db,
    en_cours: i64,
    horizon: NaiveDate,
) -> Result<DeadlineSource> {
    let total_candidates = db
        .count(
            "SELECT COUNT(*) AS n FROM core_projet WHERE statut_id = ? AND date_fin IS NOT NULL",
            &[Val::Int(en_cours)],
        )
        .context("cannot count projects in progress")?;
    let h = Val::Text(horizon.to_string());
    let sql = format!(
        "SELECT p.id AS projet_id, p.nom AS nom, p.client AS client, {df} AS date_fin, p.createur_id AS createur_id, {pc} \
         FROM core_projet p LEFT JOIN core_utilisateur u ON u.id = p.createur_id \
         WHERE p.statut_id = ? AND p.date_fin IS NOT NULL AND p.date_fin <= ? \
         ORDER BY p.date_creation DESC, p.id",
        df = db.text("p.date_fin"),
        pc = person_cols(db, "u"),
    );
    let projects: Vec<ProjectRow> = db
        .load(&sql, &[Val::Int(en_cours), h.clone()])
        .context("cannot read deadline candidates")?;
    let sql = format!(
        "SELECT a.projet_id AS projet_id, {resp} AS resp, {pc} \
         FROM core_affectation a JOIN core_projet pr ON pr.id = a.projet_id \
         JOIN core_utilisateur u ON u.id = a.utilisateur_id \
         WHERE a.date_fin IS NULL AND pr.statut_id = ? AND pr.date_fin IS NOT NULL AND pr.date_fin <= ? \
         ORDER BY a.projet_id, a.id",
        resp = db.flag("a.est_responsable_principal"),
        pc = person_cols(db, "u"),
    );
    let members: Vec<MemberRow> = db
        .load(&sql, &[Val::Int(en_cours), h])
        .context("cannot read project teams")?;
    let mut teams: HashMap<String, Vec<(bool, Person)>> = HashMap::new();
    for m in members {
        let (pid, resp, p) = m.person();
        teams.entry(pid).or_default().push((resp, p));
    }
    let candidates = projects
        .into_iter()
        .map(|r| {
            let createur = match (r.p_id, r.p_username) {
                (Some(id), Some(username)) => Some(Person {
                    id,
                    username,
                    first_name: r.p_first.unwrap_or_default(),
                    last_name: r.p_last.unwrap_or_default(),
                    email: r.p_email.unwrap_or_default(),
                    is_superuser: r.p_super.unwrap_or(0) != 0,
                    is_active: r.p_active.unwrap_or(0) != 0,
                    statut_actif: r.p_statut.unwrap_or(0) != 0,
                }),
                _ => None,
            };
            deadlines::Candidate {
                team: teams.remove(&r.projet_id).unwrap_or_default(),
                projet: ProjectInfo {
                    id: r.projet_id,
                    nom: r.nom,
                    client: r.client,
                    statut: statut_label("EN_COURS"),
                },
                date_fin: r.date_fin.unwrap_or_default(),
                createur_id: r.createur_id,
                createur,
            }
        })
        .collect();
    Ok(DeadlineSource {
        total_candidates,
        candidates,
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

/// What was already recorded for `check`: alert rows of `types` created since `since` (any
/// writer), and ledger keys of the check since `since`. Two statements.
pub fn seen(
    db: &mut Db,
    clock: &Clock,
    check: &str,
    types: &[String],
    since: NaiveDate,
) -> Result<Seen> {
    let mut seen = Seen::default();
    if !types.is_empty() {
        let marks = vec!["?"; types.len()].join(", ");
        let sql = format!(
            "SELECT destinataire_id, projet_id AS entity_id, type_alerte AS typ, {dc} AS date_creation, \
             donnees_contexte FROM core_alerteprojet WHERE type_alerte IN ({marks}) AND date_creation >= ?",
            dc = db.text("date_creation")
        );
        let mut vals: Vec<Val> = types.iter().map(|t| Val::Text(t.clone())).collect();
        vals.push(Val::Text(crate::clock::format_datetime(
            clock.local_day_start_utc(since),
        )));
        let rows: Vec<ExistingRow> = db
            .load(&sql, &vals)
            .context("cannot read existing alerts")?;
        for r in rows {
            let Some(created) = r
                .date_creation
                .as_deref()
                .and_then(crate::clock::parse_stored_datetime)
            else {
                continue;
            };
            let day = clock.local_date(created);
            if let Some(due) = r
                .donnees_contexte
                .as_deref()
                .and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok())
                .and_then(|v| {
                    v.get("date_fin")
                        .and_then(|d| d.as_str())
                        .and_then(crate::clock::parse_stored_date)
                })
            {
                seen.milestones.insert((
                    r.destinataire_id.clone(),
                    r.entity_id.clone(),
                    r.typ.clone(),
                    due,
                ));
            }
            seen.daily
                .insert((r.destinataire_id, r.entity_id, r.typ, day));
        }
    }
    let keys: Vec<KeyRow> = db
        .load(
            "SELECT alert_key FROM sigov_alert_ledger WHERE check_name = ? AND business_date >= ?",
            &[check.into(), Val::Text(since.to_string())],
        )
        .context("cannot read the alert ledger")?;
    seen.keys = keys.into_iter().map(|k| k.alert_key).collect();
    Ok(seen)
}

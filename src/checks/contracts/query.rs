//! The contract check's SQL: contracts near or past their end, page by page with the project's responsable.

use super::rule::Candidate;
use crate::db::text::{Lossy, LossyOpt};
use crate::db::{Db, Mark, Val};
use crate::rules::Person;
use crate::source::{self, Pager, Probe, ProjectCols, TeamCache};
use anyhow::{Context, Result};
use chrono::NaiveDate;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::QueryableByName;

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
    let d = db.mark(Mark::Date);
    let counts: Vec<ContractCounts> = db
        .load(
            &format!(
                "SELECT {} AS active, {} AS expired FROM core_contratgarantie",
                db.int(&format!("COALESCE(SUM(CASE WHEN date_debut <= {d} AND date_fin >= {d} THEN 1 ELSE 0 END), 0)")),
                db.int(&format!("COALESCE(SUM(CASE WHEN date_fin < {d} THEN 1 ELSE 0 END), 0)")),
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
        "((c.date_debut <= {d} AND c.date_fin >= {d} AND c.date_fin <= {d}) OR (c.date_fin < {d}{}))",
        if since.is_some() {
            format!(" AND c.date_fin >= {d}")
        } else {
            String::new()
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
          AND n.date_debut >= c.date_debut) > 0",
    );
    let cols = format!(
        "{proj}, {cid} AS contrat_id, c.type_garantie AS type_garantie, {dd} AS date_debut, \
         {df} AS date_fin, {renewed} AS renewed",
        proj = source::project_cols(),
        cid = db.text("c.id"),
        dd = db.text("c.date_debut"),
        df = db.text("c.date_fin"),
    );
    let pager = source::materialize(
        db,
        &cols,
        &format!(
            "FROM core_contratgarantie c {j} core_projet p ON p.id = c.projet_id \
             LEFT JOIN core_statutprojet s ON s.id = p.statut_id WHERE {filter}",
            j = db.ordered_join()
        ),
        &format!("(CASE WHEN c.date_fin < {d} THEN 1 ELSE 0 END), c.date_debut DESC, c.id"),
        &vals,
        size,
    )?;
    let superusers = source::superusers(db)?;
    Ok(ContractSource {
        pager,
        active,
        expired,
        superusers,
    })
}

/// One page of contract candidates with the project's responsable (the run's [`TeamCache`]).
pub fn contract_page(
    db: &mut Db,
    page: (i64, i64),
    teams: &mut TeamCache,
) -> Result<Vec<Candidate>> {
    let rows: Vec<ContractRow> = source::page_rows(db, page, "contract candidates")?;
    teams.load(db, rows.iter().map(|r| r.proj.projet_id.as_str()))?;
    Ok(rows
        .into_iter()
        .map(|r| Candidate {
            responsable: teams.responsable(db, &r.proj.projet_id),
            projet: r.proj.info(),
            contrat_id: r.contrat_id,
            type_garantie: r.type_garantie,
            date_debut: r.date_debut.unwrap_or_default(),
            date_fin: r.date_fin.unwrap_or_default(),
            renewed: r.renewed != 0,
        })
        .collect())
}
/// Contracts whose project is missing; end dates that are not dates.
pub fn probes(db: &Db) -> Vec<Probe> {
    let mut p = vec![Probe {
        reason: "contract_without_project",
        what: "core_contratgarantie rows whose projet_id has no core_projet row",
        from: "core_contratgarantie x LEFT JOIN core_projet p ON p.id = x.projet_id".to_owned(),
        cond: "p.id IS NULL".to_owned(),
    }];
    p.extend(source::integrity::not_a_date(
        db,
        "core_contratgarantie",
        "date_fin",
        "core_contratgarantie rows whose date_fin is text that is not a date (YYYY-MM-DD)",
    ));
    p
}

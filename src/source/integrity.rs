//! Rows that would drop out of a check's joins or filters without a trace: each check names its
//! probes (in its query file); they run as one statement, and what they find is counted and
//! logged with the table and the first id instead of vanishing.

use crate::db::text::{Lossy, LossyOpt};
use crate::db::Db;
use anyhow::{Context, Result};
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::QueryableByName;

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

/// One kind of lost row: its skip reason, what it means (names the table), the FROM clause
/// with the probed table as alias `x`, and the condition that finds such rows.
#[derive(Debug, Clone)]
pub struct Probe {
    pub reason: &'static str,
    pub what: &'static str,
    pub from: String,
    pub cond: String,
}

/// Projects whose status row is missing: never in progress.
pub fn project_without_status() -> Probe {
    Probe {
        reason: "project_without_status",
        what: "core_projet rows whose statut_id has no core_statutprojet row (never in progress)",
        from: "core_projet x LEFT JOIN core_statutprojet s ON s.id = x.statut_id".to_owned(),
        cond: "s.id IS NULL".to_owned(),
    }
}

/// Active assignments whose user is missing: not in the team.
pub fn assignment_without_user() -> Probe {
    Probe {
        reason: "assignment_without_user",
        what: "active core_affectation rows whose utilisateur_id has no core_utilisateur row (not in the team)",
        from: "core_affectation x LEFT JOIN core_utilisateur u ON u.id = x.utilisateur_id".to_owned(),
        cond: "x.date_fin IS NULL AND u.id IS NULL".to_owned(),
    }
}

/// Rows of `table` whose date column `col` holds text that is not a date (where the backend
/// can hold such text); `what` names them for the log.
pub fn not_a_date(db: &Db, table: &str, col: &str, what: &'static str) -> Option<Probe> {
    db.not_a_date_sql(&format!("x.{col}")).map(|cond| Probe {
        reason: "date_not_a_date",
        what,
        from: format!("{table} x"),
        cond,
    })
}

/// What `probes` find (see [`Finding`]); only kinds found. One statement, none without probes.
pub fn run(db: &mut Db, probes: &[Probe]) -> Result<Vec<Finding>> {
    if probes.is_empty() {
        return Ok(Vec::new());
    }
    let sql = probes
        .iter()
        .enumerate()
        .map(|(i, p)| {
            format!(
                "SELECT '{i}' AS reason, COUNT(*) AS n, MIN({}) AS first_id FROM {} WHERE {}",
                db.text("x.id"),
                p.from,
                p.cond
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
            let p = probes.get(r.reason.parse::<usize>().ok()?)?;
            Some(Finding {
                reason: p.reason,
                what: p.what,
                n: r.n,
                first_id: r.first_id,
            })
        })
        .collect())
}

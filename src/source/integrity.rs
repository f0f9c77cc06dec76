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

/// What the probes of one run found, by probe (its FROM clause and condition): the checks of
/// `check all` share probes (projects without a status, assignments without a user), which
/// then run once per run instead of once per check.
#[derive(Debug, Default)]
pub struct Memo {
    found: std::collections::HashMap<(String, String), (i64, Option<String>)>,
}

/// What `probes` find (see [`Finding`]); only kinds found. One statement for the probes `memo`
/// does not hold yet; none when it holds them all.
pub fn run(db: &mut Db, probes: &[Probe], memo: &mut Memo) -> Result<Vec<Finding>> {
    let key = |p: &Probe| (p.from.clone(), p.cond.clone());
    let new: Vec<&Probe> = probes
        .iter()
        .filter(|p| !memo.found.contains_key(&key(p)))
        .collect();
    if !new.is_empty() {
        let sql = new
            .iter()
            .enumerate()
            .map(|(i, p)| {
                format!(
                    "SELECT '{i}' AS reason, COUNT(*) AS n, MIN({}) AS first_id FROM {} WHERE {}",
                    db.text(&db.key_text("x.id")),
                    p.from,
                    p.cond
                )
            })
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        let rows: Vec<FindingRow> = db
            .load(&sql, &[])
            .context("cannot check the integrity of the rows the check reads")?;
        for r in rows {
            if let Some(p) = r.reason.parse::<usize>().ok().and_then(|i| new.get(i)) {
                memo.found.insert(key(p), (r.n, r.first_id));
            }
        }
    }
    Ok(probes
        .iter()
        .filter_map(|p| {
            let (n, first_id) = memo.found.get(&key(p))?;
            (*n > 0).then(|| Finding {
                reason: p.reason,
                what: p.what,
                n: *n,
                first_id: first_id.clone(),
            })
        })
        .collect())
}

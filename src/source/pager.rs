//! The candidate table: a check's candidates materialized once in `sigov_cand` (a consistent
//! snapshot, numbered in the check's order), then read page by page, so a run holds one page
//! whatever the data size.

use crate::db::{Db, Val};
use anyhow::{Context, Result};

/// The temporary table that holds a check's candidates, numbered `n` in the check's order.
/// It lives in the connection (MySQL: the server; SQLite: a temporary file), so sigov holds
/// one page at a time whatever the data size.
pub const CAND: &str = "sigov_cand";

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

/// The entities of one page of candidates, whose recorded alerts and keys the check's
/// de-duplication reads back (see [`super::seen`]).
#[derive(Debug, Clone)]
pub enum Scope {
    /// Rows `page` of the candidate table, and which of its columns name the entities.
    Page {
        page: (i64, i64),
        /// The `sigov_cand` column matching the alert table's entity column (`projet_id` for
        /// core_alerteprojet, `etape_id` for core_notificationetape).
        rows_col: &'static str,
        /// The `sigov_cand` column matching `sigov_alert_ledger.entity_id`.
        ledger_col: &'static str,
    },
    /// Candidates held by the run (no candidate table): the entities themselves, as the alert
    /// table's entity column (`rows`) and the ledger's `entity_id` (`ledger`) hold them.
    Ids {
        rows: Vec<String>,
        ledger: Vec<String>,
    },
}

/// Drops the candidate table (a no-op when there is none).
pub fn drop_candidates(db: &mut Db) -> Result<()> {
    let sql = db.drop_temp_table_sql(CAND);
    db.batch(&sql).context("cannot drop the candidate table")?;
    Ok(())
}

/// Materializes `SELECT cols FROM … WHERE …` (`from_where`) in `sigov_cand`, numbered by
/// `order`, indexed by number. Four statements.
pub fn materialize(
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
    let index = db.key_temp_table_sql(CAND, "n");
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

/// The statement that reads one page of candidates, in order.
fn page_sql() -> String {
    format!("SELECT * FROM {CAND} WHERE n > ? AND n <= ? ORDER BY n")
}

/// The rows of one page, in order.
pub fn page_rows<R: crate::db::LoadRow>(
    db: &mut Db,
    page: (i64, i64),
    what: &str,
) -> Result<Vec<R>> {
    db.load(&page_sql(), &[Val::Int(page.0), Val::Int(page.1)])
        .with_context(|| format!("cannot read {what}"))
}

/// [`page_rows`] read by position: `R`'s fields are the candidate table's columns in order,
/// its row number `n` first.
pub fn page_rows_positional<R: crate::db::reused::Positional>(
    db: &mut Db,
    page: (i64, i64),
    what: &str,
) -> Result<Vec<R>> {
    db.load_positional(&page_sql(), &[Val::Int(page.0), Val::Int(page.1)])
        .with_context(|| format!("cannot read {what}"))
}

/// A row of one integer id (`… AS id`).
#[derive(diesel::QueryableByName)]
pub(crate) struct IdRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub(crate) id: i64,
}

//! What was already recorded for the entities of one page: alert rows any writer left in the
//! web application's tables, and sigov's ledger keys (see [`crate::rules::Seen`]).

use super::pager::{Scope, CAND};
use crate::clock::Clock;
use crate::db::text::{Lossy, LossyOpt};
use crate::db::{Db, Mark, Val};
use crate::rules::{Ctx, Seen, SeenSpec, Target};
use anyhow::{Context, Result};
use chrono::NaiveDate;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::QueryableByName;

/// An alert row the de-duplication reads, by position: the columns of [`row_cols`], in order
/// (tens of thousands a run: read by name, their decoding cost more than their use).
#[derive(diesel::Queryable)]
struct ExistingRow {
    id: i64,
    #[diesel(deserialize_as = Lossy)]
    destinataire_id: String,
    #[diesel(deserialize_as = Lossy)]
    entity_id: String,
    #[diesel(deserialize_as = Lossy)]
    typ: String,
    #[diesel(deserialize_as = LossyOpt)]
    date_creation: Option<String>,
    #[diesel(deserialize_as = LossyOpt)]
    donnees_contexte: Option<String>,
}
crate::db::reused::positional!(
    ExistingRow,
    (BigInt, Text, Text, Text, Nullable<Text>, Nullable<Text>)
);

/// A ledger key's hash (16 bytes: the columns' types and checks hold no other length).
#[derive(diesel::Queryable)]
struct HashRow {
    key_hash: Vec<u8>,
}
crate::db::reused::positional!(HashRow, (diesel::sql_types::Binary,));

impl HashRow {
    fn hash(&self) -> Option<u128> {
        crate::db::keyhash::as_u128(&self.key_hash)
    }
}

/// What was already recorded for a check: alert rows of its types since `spec.since` (any
/// writer: Django, the web application or sigov), and the check's ledger keys since then; of
/// the entities of one page of candidates (`Some(scope)`: two statements), or of the whole check
/// (`None`: only with a `since`; read `chunk` rows a statement, see [`whole_check`]). Taken
/// into `seen`.
pub fn seen(
    db: &mut Db,
    clock: &Clock,
    spec: &SeenSpec,
    scope: Option<Scope>,
    chunk: usize,
    seen: &mut Seen,
) -> Result<()> {
    match scope {
        Some(scope) => one_page(db, clock, spec, scope, seen),
        None => whole_check(db, clock, spec, chunk.max(1), seen),
    }
}

/// (type column, entity column) of the check's alert table.
fn columns(target: Target) -> (&'static str, &'static str) {
    match target {
        Target::Alerte => ("type_alerte", "projet_id"),
        Target::NotificationEtape => ("type_notification", "etape_id"),
    }
}

/// The columns of an alert row the de-duplication reads (`a`: the alert table).
fn row_cols(db: &Db, target: Target) -> String {
    let (typ, entity) = columns(target);
    format!(
        "a.id AS id, a.destinataire_id AS destinataire_id, a.{entity} AS entity_id, a.{typ} AS typ, \
         {dc} AS date_creation, a.donnees_contexte AS donnees_contexte",
        dc = db.text("a.date_creation"),
    )
}

/// ` AND a.<type> IN (…) [AND a.date_creation >= ?]` with its values: the check's rows.
/// `unindexed`: the type column kept from choosing an index ([`Db::unindexed`]).
fn rows_filter(db: &Db, clock: &Clock, spec: &SeenSpec, unindexed: bool) -> (String, Vec<Val>) {
    let (typ, _) = columns(spec.target);
    let marks = vec!["?"; spec.types.len()].join(", ");
    let col = format!("a.{typ}");
    let col = if unindexed { db.unindexed(&col) } else { col };
    let mut sql = format!(" AND {col} IN ({marks})");
    let mut vals: Vec<Val> = spec.types.iter().map(|t| Val::Text(t.clone())).collect();
    if let Some(since) = spec.since {
        sql.push_str(&format!(
            " AND a.date_creation >= {}",
            db.mark(Mark::AppStamp)
        ));
        vals.push(Val::Text(crate::clock::format_datetime(
            clock.local_day_start_utc(since),
        )));
    }
    (sql, vals)
}

fn absorb_rows(clock: &Clock, spec: &SeenSpec, rows: Vec<ExistingRow>, seen: &mut Seen) {
    for r in rows {
        let created = r
            .date_creation
            .as_deref()
            .and_then(crate::clock::parse_stored_datetime)
            .map(|c| clock.local_date(c));
        let ctx = r.donnees_contexte.as_deref().and_then(Ctx::parse);
        seen.absorb_row(
            spec,
            r.id,
            &r.destinataire_id,
            &r.entity_id,
            &r.typ,
            created,
            ctx.as_ref(),
        );
    }
}

/// Entities per statement when they are bound one by one ([`Scope::Ids`]).
const IDS_PER_READ: usize = 1_000;

/// What was recorded for the entities of one page: the page's entities first, then the table
/// through its entity index. Read from the candidate table ([`Scope::Page`]), the ordered
/// join fixes that order (`STRAIGHT_JOIN`: MariaDB otherwise walks the type index and reads
/// every recent row of the check for each page; `CROSS JOIN`: SQLite has no statistics);
/// bound one by one ([`Scope::Ids`]), the entity index is the only one left to the server.
/// The unary `+` keeps SQLite from walking the type or date index instead. Two statements
/// (per thousand entities when bound).
fn one_page(
    db: &mut Db,
    clock: &Clock,
    spec: &SeenSpec,
    scope: Scope,
    seen: &mut Seen,
) -> Result<()> {
    let join = db.ordered_join();
    // (FROM clause up to the WHERE, its values) for entity column `col` of `table` `alias`:
    // the page's entities from the candidate table, or one part of the bound ids.
    let parts = |db: &Db,
                 col: Option<&str>,
                 ids: &[String],
                 table: &str,
                 alias: &str,
                 on: &str,
                 mark: Option<Mark>| {
        let mut out: Vec<(String, Vec<Val>)> = Vec::new();
        match (&scope, col) {
            (Scope::Page { page, .. }, Some(col)) => out.push((
                format!(
                    "(SELECT DISTINCT {col} AS id FROM {CAND} WHERE n > ? AND n <= ?) pg {join} \
                     {table} {alias} ON {alias}.{on} = pg.id WHERE 1 = 1"
                ),
                vec![Val::Int(page.0), Val::Int(page.1)],
            )),
            _ => {
                for part in ids.chunks(IDS_PER_READ) {
                    out.push((
                        format!(
                            "{table} {alias} WHERE {alias}.{on} IN ({})",
                            match mark {
                                Some(m) => db.marks(m, part.len()),
                                None => vec!["?"; part.len()].join(", "),
                            }
                        ),
                        part.iter().map(|i| Val::Text(i.clone())).collect(),
                    ));
                }
            }
        }
        out
    };
    let (rows_col, ledger_col, rows_ids, ledger_ids) = match &scope {
        Scope::Page {
            rows_col,
            ledger_col,
            ..
        } => (
            Some(rows_col.to_string()),
            Some(db.key_text(ledger_col)),
            Vec::new(),
            Vec::new(),
        ),
        Scope::Ids { rows, ledger } => (None, None, distinct(rows), distinct(ledger)),
    };
    if !spec.types.is_empty() {
        let (_, entity) = columns(spec.target);
        let (filter, fvals) = rows_filter(db, clock, spec, true);
        let table = spec.target.table();
        for (from, mut vals) in parts(
            db,
            rows_col.as_deref(),
            &rows_ids,
            table,
            "a",
            entity,
            Some(Mark::Uuid),
        ) {
            let sql = format!(
                "SELECT {cols} FROM {from}{filter}",
                cols = row_cols(db, spec.target),
            );
            vals.extend(fvals.iter().cloned());
            let rows: Vec<ExistingRow> = db
                .load_positional(&sql, &vals)
                .with_context(|| format!("cannot read existing rows of {table}"))?;
            absorb_rows(clock, spec, rows, seen);
        }
    }
    let mut tail = " AND k.check_name = ?".to_owned();
    let mut tvals: Vec<Val> = vec![spec.check.into()];
    if let Some(since) = spec.since {
        tail.push_str(&format!(
            " AND ({} >= {}",
            db.unindexed("k.business_date"),
            db.mark(Mark::Date)
        ));
        tvals.push(Val::Text(since.to_string()));
        if !spec.keys_of_any_date.is_empty() {
            let marks = vec!["?"; spec.keys_of_any_date.len()].join(", ");
            tail.push_str(&format!(" OR k.alert_type IN ({marks})"));
            tvals.extend(spec.keys_of_any_date.iter().map(|t| Val::from(*t)));
        }
        tail.push(')');
    }
    let ledger = "sigov_alert_ledger";
    for (from, mut vals) in parts(
        db,
        ledger_col.as_deref(),
        &ledger_ids,
        ledger,
        "k",
        "entity_id",
        None,
    ) {
        vals.extend(tvals.iter().cloned());
        let keys: Vec<HashRow> = db
            .load_positional(&format!("SELECT k.key_hash FROM {from}{tail}"), &vals)
            .context("cannot read the alert ledger")?;
        for h in keys.iter().filter_map(HashRow::hash) {
            seen.add_key_hash(h);
        }
    }
    Ok(())
}

/// `ids` once each, in their first order.
fn distinct(ids: &[String]) -> Vec<String> {
    let mut once = std::collections::HashSet::new();
    ids.iter()
        .filter(|i| once.insert(i.as_str()))
        .cloned()
        .collect()
}

#[derive(QueryableByName)]
struct Day {
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    d: String,
}

#[derive(QueryableByName)]
struct DayRange {
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    lo: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    hi: Option<String>,
}

/// Days whose span is walked day by day; a wider one (keys of a far date) is listed instead.
const DAYS_WALKED: i64 = 400;

/// The business days from `since` on that may hold ledger keys of `check`: every day from
/// the first to the last one present (the index gives both at once), or, when they are
/// further apart than [`DAYS_WALKED`], the days present (a scan of the check's index range:
/// 0.38 s for 182,000 keys at 50,000 projects).
fn ledger_days(db: &mut Db, check: &str, since: NaiveDate) -> Result<Vec<NaiveDate>> {
    let vals = [Val::from(check), Val::Text(since.to_string())];
    let range: Vec<DayRange> = db
        .load(
            &format!(
                "SELECT {lo} AS lo, {hi} AS hi FROM sigov_alert_ledger k \
                 WHERE k.check_name = ? AND k.business_date >= {day}",
                lo = db.text("MIN(k.business_date)"),
                hi = db.text("MAX(k.business_date)"),
                day = db.mark(Mark::Date),
            ),
            &vals,
        )
        .context("cannot read the alert ledger")?;
    let parse = |t: &str| NaiveDate::parse_from_str(t.get(..10).unwrap_or(t), "%Y-%m-%d").ok();
    let (lo, hi) = match range.first() {
        Some(r) => (
            r.lo.as_deref().and_then(parse),
            r.hi.as_deref().and_then(parse),
        ),
        None => (None, None),
    };
    match (lo, hi) {
        (None, None) => return Ok(Vec::new()),
        (Some(lo), Some(hi)) if (hi - lo).num_days() <= DAYS_WALKED => {
            return Ok(lo.iter_days().take_while(|x| *x <= hi).collect());
        }
        _ => {}
    }
    let days: Vec<Day> = db
        .load(
            &format!(
                "SELECT DISTINCT {d} AS d FROM sigov_alert_ledger k \
                 WHERE k.check_name = ? AND k.business_date >= {day}",
                d = db.text("k.business_date"),
                day = db.mark(Mark::Date),
            ),
            &vals,
        )
        .context("cannot read the alert ledger")?;
    // A day that is not a date (SQLite keeps any text) holds no key a candidate could ask
    // for: said and left out, so the check still runs.
    Ok(days
        .iter()
        .filter_map(|x| {
            let day = parse(&x.d);
            if day.is_none() {
                log::warn!(
                    "{check}: sigov_alert_ledger has keys whose business_date is not a date ({:?}): left out",
                    x.d
                );
            }
            day
        })
        .collect())
}

/// What was recorded for the whole check since `spec.since`, in chunks of `chunk` rows (the
/// page size) so that memory holds one chunk (and the fingerprints) whatever the history's
/// size:
/// - alert rows: their ids from the `(type, date_creation)` index (8 bytes each), then the
///   rows by id, a chunk a statement;
/// - ledger keys: the business days present from the `(check_name, business_date,
///   key_hash)` index, then each day's key hashes in order, a chunk a statement from the last
///   one read.
fn whole_check(
    db: &mut Db,
    clock: &Clock,
    spec: &SeenSpec,
    chunk: usize,
    seen: &mut Seen,
) -> Result<()> {
    let Some(since) = spec.since else {
        anyhow::bail!(
            "{}: a whole-check read of what was recorded needs a look-back window",
            spec.check
        );
    };
    let table = spec.target.table();
    if !spec.types.is_empty() {
        let (filter, fvals) = rows_filter(db, clock, spec, false);
        let ids: Vec<super::pager::IdRow> = db
            .load(
                &format!("SELECT a.id AS id FROM {table} a WHERE 1 = 1{filter} ORDER BY a.id"),
                &fvals,
            )
            .with_context(|| format!("cannot read existing rows of {table}"))?;
        let cols = row_cols(db, spec.target);
        for part in ids.chunks(chunk) {
            // Ids are integers read from the database: written into the statement, not bound.
            let list = part
                .iter()
                .map(|r| r.id.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            // By primary key alone (a type filter here could make MariaDB walk the type index
            // again for each chunk); a row whose type changed since is left out here.
            let rows: Vec<ExistingRow> = db
                .load_positional(
                    &format!("SELECT {cols} FROM {table} a WHERE a.id IN ({list})"),
                    &[],
                )
                .with_context(|| format!("cannot read existing rows of {table}"))?;
            let rows = rows
                .into_iter()
                .filter(|r| spec.types.contains(&r.typ))
                .collect();
            absorb_rows(clock, spec, rows, seen);
        }
    }
    let days = ledger_days(db, spec.check, since)?;
    // Through the (check_name, business_date, key_hash) index as a range from the last hash
    // read (see Db::force_index): at 50,000 projects, 92 chunks of a day's 182,000 task keys
    // examined 7.3 million index entries (1.8 s) without it.
    let hint = db.force_index("sigov_ledger_check_date_hash");
    let day_mark = db.mark(Mark::Date);
    let sql = format!(
        "SELECT k.key_hash FROM sigov_alert_ledger k {hint} \
         WHERE k.check_name = ? AND k.business_date = {day_mark} AND k.key_hash > ? \
         ORDER BY k.key_hash LIMIT {chunk}"
    );
    for day in days {
        let day = day.to_string();
        // Below every hash: the empty byte string.
        let mut after = Vec::new();
        loop {
            let keys: Vec<HashRow> = db
                .load_positional(
                    &sql,
                    &[
                        spec.check.into(),
                        Val::Text(day.clone()),
                        Val::Bytes(after.clone()),
                    ],
                )
                .context("cannot read the alert ledger")?;
            let full = keys.len() == chunk;
            for h in keys.iter().filter_map(HashRow::hash) {
                seen.add_key_hash(h);
            }
            match keys.into_iter().last() {
                Some(k) if full => after = k.key_hash,
                _ => break,
            }
        }
    }
    Ok(())
}

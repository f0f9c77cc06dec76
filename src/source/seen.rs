//! What was already recorded for the entities of one page: alert rows any writer left in the
//! web application's tables, and sigov's ledger keys (see [`crate::rules::Seen`]).

use super::pager::{Scope, CAND};
use crate::clock::Clock;
use crate::db::text::{Lossy, LossyOpt};
use crate::db::{Db, Val};
use crate::rules::{Seen, SeenSpec, Target};
use anyhow::{Context, Result};
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::QueryableByName;

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
/// writer: Django, the web application or sigov), and the check's ledger keys since then; of
/// the entities of one page of candidates (`Some(scope)`), or of the whole check (`None`: only
/// with a `since`, read as ranges of the `(type, date_creation)` and `(check_name,
/// business_date)` indexes). Taken into `seen`. Two statements.
pub fn seen(
    db: &mut Db,
    clock: &Clock,
    spec: &SeenSpec,
    scope: Option<Scope>,
    seen: &mut Seen,
) -> Result<()> {
    // A page's entities first, then the table through its entity index: the ordered join
    // fixes that order (`STRAIGHT_JOIN`: MariaDB otherwise walks the type index and reads
    // every recent row of the check for each page; `CROSS JOIN`: SQLite has no statistics),
    // and the unary `+` keeps SQLite from walking the type or date index instead.
    let join = db.ordered_join();
    let page = |col: &str| match scope {
        Some(_) => {
            format!("(SELECT DISTINCT {col} AS id FROM {CAND} WHERE n > ? AND n <= ?) pg {join} ")
        }
        None => String::new(),
    };
    let page_vals = || match scope {
        Some(s) => vec![Val::Int(s.page.0), Val::Int(s.page.1)],
        None => Vec::new(),
    };
    // A page: the unary `+` keeps SQLite off the type and date indexes (see above). The whole
    // check: those indexes are what is read, as ranges.
    let plus = if scope.is_some() { "+" } else { "" };
    if !spec.types.is_empty() {
        let marks = vec!["?"; spec.types.len()].join(", ");
        let (typ, entity) = match spec.target {
            Target::Alerte => ("type_alerte", "projet_id"),
            Target::NotificationEtape => ("type_notification", "etape_id"),
        };
        let on = if scope.is_some() {
            format!(" ON a.{entity} = pg.id")
        } else {
            String::new()
        };
        let mut vals = page_vals();
        let mut sql = format!(
            "SELECT a.id AS id, a.destinataire_id AS destinataire_id, a.{entity} AS entity_id, a.{typ} AS typ, \
             {dc} AS date_creation, a.donnees_contexte AS donnees_contexte \
             FROM {pg}{table} a{on} WHERE {plus}a.{typ} IN ({marks})",
            dc = db.text("a.date_creation"),
            pg = page(scope.map(|s| s.rows_col).unwrap_or_default()),
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
    let mut vals = page_vals();
    let mut sql =
        format!(
        "SELECT k.alert_key AS alert_key FROM {pg}sigov_alert_ledger k{on} WHERE k.check_name = ?",
        pg = page(scope.map(|s| s.ledger_col).unwrap_or_default()),
        on = if scope.is_some() { " ON k.entity_id = pg.id" } else { "" },
    );
    vals.push(spec.check.into());
    if let Some(since) = spec.since {
        sql.push_str(&format!(" AND ({plus}k.business_date >= ?"));
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
    for k in keys {
        seen.add_key(&k.alert_key);
    }
    Ok(())
}

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
/// writer: Django, the web application or sigov), and the check's ledger keys since then, of
/// the entities of one page of candidates. Two statements.
pub fn seen(db: &mut Db, clock: &Clock, spec: &SeenSpec, scope: Scope) -> Result<Seen> {
    // The page's entities first, then the table through its entity index: the ordered join
    // fixes that order (`STRAIGHT_JOIN`: MariaDB otherwise walks the type index and reads
    // every recent row of the check for each page; `CROSS JOIN`: SQLite has no statistics),
    // and the unary `+` keeps SQLite from walking the type or date index instead.
    let join = db.ordered_join();
    let page = |col: &str| {
        format!("(SELECT DISTINCT {col} AS id FROM {CAND} WHERE n > ? AND n <= ?) pg {join}")
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

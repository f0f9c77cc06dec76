//! `sigov purge`: retention of sigov's own history (finished runs, delivered and dead mail),
//! and, only when configured, of old ledger keys and of read alerts in the web application's
//! tables. Deletes in batches, so no statement holds locks for long on a large table.

use crate::clock::{format_datetime, to_micros};
use crate::db::{dsl_execute, dsl_load, Db, Mark, Val};
use crate::states::{MailState, RunStatus};
use anyhow::{Context, Result};
use chrono::{Duration, NaiveDateTime};
use diesel::{BoolExpressionMethods, ExpressionMethods, QueryDsl};

use Settings as PurgeCfg;

/// Retention of `sigov purge`, in days; 0 keeps (`purge.*`; `config` builds it).
#[derive(Debug, Clone)]
pub struct Settings {
    pub runs_days: u32,
    pub sent_mail_days: u32,
    pub dead_mail_days: u32,
    pub ledger_days: u32,
    pub read_alerts_days: u32,
}

/// Rows deleted per statement.
const BATCH: u32 = 5_000;

/// Ledger retention below this could forget a milestone whose due date is still ahead
/// (milestones reach 365 days before a due date).
pub const MIN_LEDGER_DAYS: u32 = 400;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Item {
    pub what: &'static str,
    /// Retention in days; `None`: kept forever (not configured).
    pub days: Option<u32>,
    /// Rows deleted (or, in a dry run, that would be).
    pub rows: u64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Purged {
    pub dry_run: bool,
    pub items: Vec<Item>,
}

/// What one retention deletes.
#[derive(Clone, Copy)]
enum Target {
    /// Finished runs (`sigov_run`), by start.
    Runs,
    /// Outbox rows in this state, by last update.
    Mail(MailState),
    /// Ledger keys of business dates before the cut, but those kept forever.
    LedgerKeys,
    /// Read rows of one of the web application's tables, by creation.
    ReadRows(&'static str),
}

fn targets(cfg: &PurgeCfg) -> Vec<(&'static str, Target, Option<u32>)> {
    let some = |d: u32| (d > 0).then_some(d);
    vec![
        ("runs", Target::Runs, some(cfg.runs_days)),
        (
            "sent_mail",
            Target::Mail(MailState::Sent),
            some(cfg.sent_mail_days),
        ),
        (
            "dead_mail",
            Target::Mail(MailState::Dead),
            some(cfg.dead_mail_days),
        ),
        ("ledger_keys", Target::LedgerKeys, some(cfg.ledger_days)),
        (
            "read_alerts",
            Target::ReadRows("core_alerteprojet"),
            some(cfg.read_alerts_days),
        ),
        (
            "read_stage_notifications",
            Target::ReadRows("core_notificationetape"),
            some(cfg.read_alerts_days),
        ),
    ]
}

/// Applies the retention as of `now` (UTC). A dry run counts instead of deleting.
pub fn run(db: &mut Db, cfg: &PurgeCfg, now: NaiveDateTime, dry_run: bool) -> Result<Purged> {
    let mut items = Vec::new();
    for (what, t, days) in targets(cfg) {
        let Some(d) = days else {
            items.push(Item {
                what,
                days: None,
                rows: 0,
            });
            continue;
        };
        let cut = to_micros(now - Duration::days(i64::from(d)));
        let rows = purge(db, t, cut, dry_run).with_context(|| {
            format!(
                "cannot {} {what} to purge",
                if dry_run { "count" } else { "delete" }
            )
        })?;
        items.push(Item {
            what,
            days: Some(d),
            rows,
        });
    }
    Ok(Purged { dry_run, items })
}

/// Counts (dry run) or deletes, `BATCH` rows a statement, the rows of `$table` that `$filter`
/// selects, by `$key`. The delete repeats the filter: a row that changed between the two
/// statements (dead mail requeued meanwhile) stays.
macro_rules! purge_rows {
    ($db:expr, $dry:expr, $table:expr, $key:expr, $K:ty, $filter:expr) => {{
        let db: &mut Db = $db;
        if $dry {
            let n: Vec<i64> = dsl_load!(db, $table.filter($filter).count())?;
            Ok(n.first().copied().unwrap_or(0).max(0) as u64)
        } else {
            let mut total = 0u64;
            loop {
                let keys: Vec<$K> = dsl_load!(
                    db,
                    $table.select($key).filter($filter).limit(i64::from(BATCH))
                )?;
                if keys.is_empty() {
                    break;
                }
                let n = dsl_execute!(
                    db,
                    diesel::delete($table.filter($key.eq_any(&keys)).filter($filter))
                )?;
                total += n as u64;
                if keys.len() < BATCH as usize {
                    break;
                }
            }
            Ok(total)
        }
    }};
}

fn purge(db: &mut Db, t: Target, cut: NaiveDateTime, dry_run: bool) -> Result<u64> {
    use crate::db::schema::{sigov_alert_ledger as l, sigov_outbox as o, sigov_run as r};
    match t {
        Target::Runs => purge_rows!(
            db,
            dry_run,
            r::table,
            r::id,
            i64,
            r::status
                .ne(RunStatus::Running.as_str())
                .and(r::started_at.lt(cut))
        ),
        Target::Mail(state) if dry_run => purge_rows!(
            db,
            dry_run,
            o::table,
            o::id,
            i64,
            o::state.eq(state.as_str()).and(o::updated_at.lt(cut))
        ),
        Target::Mail(state) => purge_mail(db, state, cut),
        Target::LedgerKeys => {
            // The ledger keys of these checks record "once for the life of the entity"
            // decisions (a budget threshold for a given planned budget), and escalation keys
            // (once per rung and due date, however long the alert lasts): deleting one would
            // alert again.
            let kept: Vec<&'static str> = crate::checks::registry::CheckName::ledger_kept_forever()
                .iter()
                .map(|c| c.as_str())
                .collect();
            purge_rows!(
                db,
                dry_run,
                l::table,
                l::key_hash,
                Vec<u8>,
                l::check_name
                    .ne_all(&kept)
                    .and(l::alert_type.ne(crate::rules::alert::ESCALATION))
                    .and(l::business_date.lt(cut.date()))
            )
        }
        Target::ReadRows(table) => read_rows(db, table, cut, dry_run),
    }
}

/// Deletes the outbox rows in `state` last updated before `cut`, `BATCH` a statement, and the
/// snapshots that no row references any more. A snapshot is referenced only by the rows written
/// with it, in its own transaction: once they are gone, none comes back to it.
fn purge_mail(db: &mut Db, state: MailState, cut: NaiveDateTime) -> Result<u64> {
    use crate::db::schema::{sigov_mail_snapshot as s, sigov_outbox as o};
    let gone = o::state.eq(state.as_str()).and(o::updated_at.lt(cut));
    let (mut total, mut snapshots) = (0u64, 0usize);
    loop {
        let rows: Vec<(i64, Option<i64>)> = dsl_load!(
            db,
            o::table
                .select((o::id, o::snapshot_id))
                .filter(gone)
                .limit(i64::from(BATCH))
        )?;
        if rows.is_empty() {
            break;
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let n = dsl_execute!(
            db,
            diesel::delete(o::table.filter(o::id.eq_any(&ids)).filter(gone))
        )?;
        total += n as u64;
        let mut freed: Vec<i64> = rows.iter().filter_map(|r| r.1).collect();
        freed.sort_unstable();
        freed.dedup();
        if !freed.is_empty() {
            let kept: Vec<Option<i64>> = dsl_load!(
                db,
                o::table
                    .select(o::snapshot_id)
                    .filter(o::snapshot_id.eq_any(&freed))
                    .distinct()
            )?;
            let kept: std::collections::HashSet<i64> = kept.into_iter().flatten().collect();
            freed.retain(|id| !kept.contains(id));
            if !freed.is_empty() {
                snapshots +=
                    dsl_execute!(db, diesel::delete(s::table.filter(s::id.eq_any(&freed))))?;
            }
        }
        if rows.len() < BATCH as usize {
            break;
        }
    }
    if snapshots > 0 {
        log::info!("{snapshots} mail snapshot(s) went with the last mail that showed them");
    }
    Ok(total)
}

/// The web application's tables are not sigov's: hand-written SQL, as for every read of them.
fn read_rows(db: &mut Db, table: &str, cut: NaiveDateTime, dry_run: bool) -> Result<u64> {
    let cut = [Val::Text(format_datetime(cut))];
    let cond = format!(
        "{} AND date_creation < {}",
        db.is_true("lue"),
        db.mark(Mark::AppStamp)
    );
    if dry_run {
        let n = db.count(
            &format!("SELECT COUNT(*) AS n FROM {table} WHERE {cond}"),
            &cut,
        )?;
        return Ok(n.max(0) as u64);
    }
    // The derived table lets MySQL delete from the table it selects from; SQLite takes it too.
    let sql = format!(
        "DELETE FROM {table} WHERE id IN (SELECT id FROM (SELECT id FROM {table} WHERE {cond} LIMIT {BATCH}) x)"
    );
    let mut total = 0u64;
    loop {
        let n = db.execute(&sql, &cut)?;
        total += n as u64;
        if n < BATCH as usize {
            return Ok(total);
        }
    }
}

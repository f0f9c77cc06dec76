//! `sigov purge`: retention of sigov's own history (finished runs, delivered and dead mail),
//! and, only when configured, of old ledger keys and of read alerts in the web application's
//! tables. Deletes in batches, so no statement holds locks for long on a large table.

use crate::clock::format_datetime;
use crate::db::{Db, Val};
use anyhow::{Context, Result};
use chrono::{Duration, NaiveDateTime};

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

struct Target {
    what: &'static str,
    table: &'static str,
    key: &'static str,
    /// SQL condition with one `?`: the cut-off instant or date.
    cond: String,
    date_only: bool,
}

fn targets(cfg: &PurgeCfg) -> Vec<(Target, Option<u32>)> {
    // The ledger keys of these checks record "once for the life of the entity" decisions (a
    // budget threshold for a given planned budget): deleting one would alert again.
    let kept = crate::checks::CheckName::ledger_kept_forever()
        .iter()
        .map(|c| format!("'{c}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let some = |d: u32| (d > 0).then_some(d);
    vec![
        (
            Target {
                what: "runs",
                table: "sigov_run",
                key: "id",
                cond: "status <> 'running' AND started_at < ?".into(),
                date_only: false,
            },
            some(cfg.runs_days),
        ),
        (
            Target {
                what: "sent_mail",
                table: "sigov_outbox",
                key: "id",
                cond: "state = 'sent' AND updated_at < ?".into(),
                date_only: false,
            },
            some(cfg.sent_mail_days),
        ),
        (
            Target {
                what: "dead_mail",
                table: "sigov_outbox",
                key: "id",
                cond: "state = 'dead' AND updated_at < ?".into(),
                date_only: false,
            },
            some(cfg.dead_mail_days),
        ),
        (
            Target {
                what: "ledger_keys",
                table: "sigov_alert_ledger",
                key: "alert_key",
                cond: format!("check_name NOT IN ({kept}) AND business_date < ?"),
                date_only: true,
            },
            some(cfg.ledger_days),
        ),
        (
            Target {
                what: "read_alerts",
                table: "core_alerteprojet",
                key: "id",
                cond: "lue = 1 AND date_creation < ?".into(),
                date_only: false,
            },
            some(cfg.read_alerts_days),
        ),
        (
            Target {
                what: "read_stage_notifications",
                table: "core_notificationetape",
                key: "id",
                cond: "lue = 1 AND date_creation < ?".into(),
                date_only: false,
            },
            some(cfg.read_alerts_days),
        ),
    ]
}

/// Applies the retention as of `now` (UTC). A dry run counts instead of deleting.
pub fn run(db: &mut Db, cfg: &PurgeCfg, now: NaiveDateTime, dry_run: bool) -> Result<Purged> {
    let mut items = Vec::new();
    for (t, days) in targets(cfg) {
        let Some(d) = days else {
            items.push(Item {
                what: t.what,
                days: None,
                rows: 0,
            });
            continue;
        };
        let cut = now - Duration::days(i64::from(d));
        let cut = if t.date_only {
            cut.date().to_string()
        } else {
            format_datetime(cut)
        };
        let rows = if dry_run {
            let n = db
                .count(
                    &format!("SELECT COUNT(*) AS n FROM {} WHERE {}", t.table, t.cond),
                    &[Val::Text(cut)],
                )
                .with_context(|| format!("cannot count {} to purge", t.what))?;
            n.max(0) as u64
        } else {
            delete_batched(db, &t, &cut)?
        };
        items.push(Item {
            what: t.what,
            days: Some(d),
            rows,
        });
    }
    Ok(Purged { dry_run, items })
}

fn delete_batched(db: &mut Db, t: &Target, cut: &str) -> Result<u64> {
    // The derived table lets MySQL delete from the table it selects from; SQLite takes it too.
    let sql = format!(
        "DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM (SELECT {key} FROM {table} WHERE {cond} LIMIT {BATCH}) x)",
        table = t.table,
        key = t.key,
        cond = t.cond
    );
    let mut total = 0u64;
    loop {
        let n = db
            .execute(&sql, &[Val::Text(cut.to_owned())])
            .with_context(|| format!("cannot purge {}", t.what))?;
        total += n as u64;
        if n < BATCH as usize {
            return Ok(total);
        }
    }
}

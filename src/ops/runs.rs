//! Run history: one `sigov_run` row per check run, opened at start and closed with its counters.

use crate::clock::{format_datetime, Clock};
use crate::db::{Backend, Db, Val};
use crate::rules::Counters;
use anyhow::{Context, Result};
use diesel::sql_types::BigInt;
use diesel::QueryableByName;

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Opens a run record (status `running`) and returns its id.
pub fn start(db: &mut Db, clock: &Clock, check: &str, profile: &str) -> Result<i64> {
    // Run records keep real time, even when the rules run at an injected date or instant.
    let now = format_datetime(chrono::Utc::now().naive_utc());
    db.execute(
        "INSERT INTO sigov_run (check_name, status, profile, business_date, host, pid, version, started_at, heartbeat_at) \
         VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?)",
        &[
            check.into(),
            profile.into(),
            Val::Text(clock.today.to_string()),
            Val::Text(hostname()),
            Val::Int(i64::from(std::process::id())),
            Val::from(env!("CARGO_PKG_VERSION")),
            Val::Text(now.clone()),
            Val::Text(now),
        ],
    )
    .context("cannot record the run")?;
    let sql = match db.backend() {
        Backend::Mysql => "SELECT CAST(LAST_INSERT_ID() AS SIGNED) AS id",
        Backend::Sqlite => "SELECT last_insert_rowid() AS id",
    };
    let rows: Vec<IdRow> = db.load(sql, &[]).context("cannot read the run id")?;
    rows.first().map(|r| r.id).context("no run id")
}

/// Closes a run record.
pub fn finish(
    db: &mut Db,
    run_id: i64,
    status: &str,
    exit_code: i32,
    counters: &Counters,
    error: Option<&str>,
) -> Result<()> {
    let now = format_datetime(chrono::Utc::now().naive_utc());
    let counters = serde_json::to_string(counters).context("cannot encode counters")?;
    db.execute(
        "UPDATE sigov_run SET status = ?, exit_code = ?, finished_at = ?, heartbeat_at = ?, counters = ?, error = ? WHERE id = ?",
        &[
            status.into(),
            Val::Int(i64::from(exit_code)),
            Val::Text(now.clone()),
            Val::Text(now),
            Val::Text(counters),
            Val::OptText(error.map(str::to_owned)),
            Val::Int(run_id),
        ],
    )
    .context("cannot close the run record")?;
    Ok(())
}

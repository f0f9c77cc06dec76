//! Run history: one `sigov_run` row per check run, opened at start and closed with its counters.

use crate::clock::Clock;
use crate::db::{Db, Mark, Val};
use crate::rules::Counters;
use anyhow::{Context, Result};
use chrono::NaiveDateTime;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
use diesel::QueryableByName;

/// Opens a run record (status `running`) and returns its id.
pub fn start(db: &mut Db, clock: &Clock, check: &str, profile: &str) -> Result<i64> {
    use crate::db::schema::sigov_run::dsl as r;
    use diesel::ExpressionMethods;
    // Run records keep real time, even when the rules run at an injected date or instant.
    let now = crate::clock::to_micros(chrono::Utc::now().naive_utc());
    crate::db::dsl_execute!(
        db,
        diesel::insert_into(r::sigov_run).values((
            r::check_name.eq(check),
            r::status.eq(RunStatus::Running.as_str()),
            r::profile.eq(profile),
            r::business_date.eq(clock.today),
            r::host.eq(crate::host::hostname()),
            r::pid.eq(i64::from(std::process::id())),
            r::version.eq(env!("CARGO_PKG_VERSION")),
            r::started_at.eq(now),
            r::heartbeat_at.eq(now),
        ))
    )
    .context("cannot record the run")?;
    db.last_insert_id().context("cannot read the run id")
}

/// Closes a run record.
pub fn finish(
    db: &mut Db,
    run_id: i64,
    status: RunStatus,
    exit_code: i32,
    counters: &Counters,
    error: Option<&str>,
) -> Result<()> {
    use crate::db::schema::sigov_run::dsl as r;
    use diesel::{ExpressionMethods, QueryDsl};
    let now = crate::clock::to_micros(chrono::Utc::now().naive_utc());
    let counters = serde_json::to_string(counters).context("cannot encode counters")?;
    crate::db::dsl_execute!(
        db,
        diesel::update(r::sigov_run.filter(r::id.eq(run_id))).set((
            r::status.eq(status.as_str()),
            r::exit_code.eq(Some(exit_code)),
            r::finished_at.eq(Some(now)),
            r::heartbeat_at.eq(now),
            r::counters.eq(Some(&counters)),
            r::error.eq(error),
        ))
    )
    .context("cannot close the run record")?;
    Ok(())
}

/// Closes the other runs of `check` still marked `running` as `interrupted`. Called by the run
/// that holds the check's lock: no other run of the check can be alive then.
pub fn mark_interrupted(db: &mut Db, check: &str, current: i64) -> Result<usize> {
    use crate::db::schema::sigov_run::dsl as r;
    use diesel::{ExpressionMethods, NullableExpressionMethods, QueryDsl};
    crate::db::dsl_execute!(
        db,
        diesel::update(
            r::sigov_run
                .filter(r::check_name.eq(check))
                .filter(r::status.eq(RunStatus::Running.as_str()))
                .filter(r::id.ne(current)),
        )
        .set((
            r::status.eq(RunStatus::Interrupted.as_str()),
            r::finished_at.eq(r::heartbeat_at.nullable()),
            r::error.eq(Some(
                "the process stopped before closing its run (killed, crashed, or its host went down)",
            )),
        ))
    )
    .context("cannot close interrupted runs")
}

/// A `sigov_run` row as `sigov runs` shows it.
#[derive(Debug, Clone, QueryableByName, serde::Serialize)]
pub struct RunRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text, deserialize_as = crate::db::text::Lossy)]
    #[serde(rename = "check")]
    pub check_name: String,
    /// `running` only while the run holds its check's lock; a run whose process died shows
    /// `interrupted` even before the next run closes its record.
    #[diesel(sql_type = Text)]
    pub status: RunStatus,
    #[diesel(sql_type = Text, deserialize_as = crate::db::text::Lossy)]
    pub profile: String,
    #[diesel(sql_type = diesel::sql_types::Date)]
    pub business_date: chrono::NaiveDate,
    #[diesel(sql_type = Text, deserialize_as = crate::db::text::Lossy)]
    pub host: String,
    #[diesel(sql_type = BigInt)]
    pub pid: i64,
    #[diesel(sql_type = Text, deserialize_as = crate::db::text::Lossy)]
    pub version: String,
    /// UTC, as every time of sigov's own tables.
    #[diesel(sql_type = Timestamp)]
    pub started_at: NaiveDateTime,
    #[diesel(sql_type = Timestamp)]
    pub heartbeat_at: NaiveDateTime,
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub finished_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub exit_code: Option<i64>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = crate::db::text::LossyOpt)]
    #[serde(skip)]
    pub counters_json: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = crate::db::text::LossyOpt)]
    pub error: Option<String>,
}

impl RunRow {
    /// Seconds from start to end (or to the last heartbeat of an unfinished run).
    pub fn duration_secs(&self) -> Option<f64> {
        let end = self.finished_at.unwrap_or(self.heartbeat_at);
        Some((end - self.started_at).num_microseconds()? as f64 / 1e6)
    }

    /// The counters as recorded (an empty object for a run that never closed).
    pub fn counters(&self) -> serde_json::Value {
        self.counters_json
            .as_deref()
            .and_then(|c| serde_json::from_str(c).ok())
            .unwrap_or_else(|| serde_json::json!({}))
    }

    /// A counter of the recorded counters, 0 when absent.
    pub fn counter(&self, name: &str) -> u64 {
        self.counters()[name].as_u64().unwrap_or(0)
    }
}

/// What `sigov runs list` selects.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub check: Option<String>,
    pub status: Option<RunStatus>,
    /// UTC, `YYYY-MM-DD HH:MM:SS`: started at or after, before.
    pub since: Option<String>,
    pub until: Option<String>,
    pub id: Option<i64>,
    /// Only runs with a smaller id (a page after the previous one).
    pub before_id: Option<i64>,
    pub limit: u64,
}

/// Run statuses, as stored and as shown.
pub use crate::states::RunStatus;

/// Runs matching `f`, newest first. A `running` row whose check lock is not held by it is shown
/// (and filtered) as `interrupted`.
pub fn list(db: &mut Db, f: &Filter) -> Result<Vec<RunRow>> {
    let mut sql = format!(
        "SELECT id, check_name, status, profile, business_date, host, pid, version, \
         started_at, heartbeat_at, finished_at, \
         {ec} AS exit_code, counters AS counters_json, error FROM sigov_run WHERE 1 = 1",
        ec = db.int("exit_code"),
    );
    let mut vals: Vec<Val> = Vec::new();
    if let Some(c) = &f.check {
        sql.push_str(" AND check_name = ?");
        vals.push(c.clone().into());
    }
    // `interrupted` includes rows still marked running whose process is gone: filter after.
    if let Some(s) = f
        .status
        .filter(|s| !matches!(s, RunStatus::Running | RunStatus::Interrupted))
    {
        sql.push_str(" AND status = ?");
        vals.push(s.into());
    } else if f.status.is_some() {
        sql.push_str(" AND status IN (?, ?)");
        vals.extend([RunStatus::Running.into(), RunStatus::Interrupted.into()]);
    }
    if let Some(s) = &f.since {
        sql.push_str(&format!(" AND started_at >= {}", db.mark(Mark::Stamp)));
        vals.push(s.clone().into());
    }
    if let Some(s) = &f.until {
        sql.push_str(&format!(" AND started_at < {}", db.mark(Mark::Stamp)));
        vals.push(s.clone().into());
    }
    if let Some(id) = f.id {
        sql.push_str(" AND id = ?");
        vals.push(Val::Int(id));
    }
    if let Some(id) = f.before_id {
        sql.push_str(" AND id < ?");
        vals.push(Val::Int(id));
    }
    sql.push_str(" ORDER BY id DESC");
    if f.limit > 0 && f.status.is_none() {
        sql.push_str(&format!(" LIMIT {}", f.limit));
    }
    let mut rows: Vec<RunRow> = db
        .load(&sql, &vals)
        .context("cannot read the run history")?;
    if rows.iter().any(|r| r.status == RunStatus::Running) {
        let live: Vec<i64> = super::lock::held(db)?
            .into_iter()
            .filter_map(|(_, h)| h.run_id)
            .collect();
        for r in rows.iter_mut().filter(|r| r.status == RunStatus::Running) {
            if !live.contains(&r.id) {
                r.status = RunStatus::Interrupted;
            }
        }
    }
    if let Some(s) = &f.status {
        rows.retain(|r| r.status == *s);
        if f.limit > 0 {
            rows.truncate(usize::try_from(f.limit).unwrap_or(usize::MAX));
        }
    }
    Ok(rows)
}

/// The last finished run of a check (runs still marked running are left out) and the end of
/// its last successful run, as health and the metrics read them.
#[derive(Debug, Clone, QueryableByName)]
pub struct LastOfCheck {
    #[diesel(sql_type = Text, deserialize_as = crate::db::text::Lossy)]
    pub check_name: String,
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub status: RunStatus,
    #[diesel(sql_type = Timestamp)]
    pub started_at: NaiveDateTime,
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub finished_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = crate::db::text::LossyOpt)]
    pub counters: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = crate::db::text::LossyOpt)]
    pub error: Option<String>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub last_success: Option<NaiveDateTime>,
    /// When the last successful run started: the schedule's run it was.
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub last_success_started: Option<NaiveDateTime>,
}

/// One [`LastOfCheck`] per check that ever finished a run, by check name. One statement.
pub fn last_per_check(db: &mut Db) -> Result<Vec<LastOfCheck>> {
    let sql = format!(
        "SELECT r.check_name AS check_name, r.id AS id, r.status AS status, r.started_at AS started_at, \
         r.finished_at AS finished_at, r.counters AS counters, r.error AS error, m.last_success AS last_success, \
         m.last_success_started AS last_success_started \
         FROM (SELECT check_name, MAX(id) AS last_id, \
                      MAX(CASE WHEN status = '{success}' THEN finished_at END) AS last_success, \
                      MAX(CASE WHEN status = '{success}' THEN started_at END) AS last_success_started \
               FROM sigov_run WHERE status <> '{running}' GROUP BY check_name) m \
         JOIN sigov_run r ON r.id = m.last_id ORDER BY r.check_name",
        success = RunStatus::Success,
        running = RunStatus::Running,
    );
    db.load(&sql, &[]).context("cannot read the run history")
}

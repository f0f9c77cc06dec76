//! Per-check locks shared by every host on the same database: a lease row in `sigov_lock`.
//!
//! Taking the lock is one conditional `UPDATE … WHERE expires_at < now`, atomic on MySQL/MariaDB
//! (row lock) and SQLite (database write lock), so two runs started at the same instant on two
//! hosts cannot both win. The holder renews the lease as it makes progress; a run killed with
//! SIGKILL stops renewing and its lease ends. A holder on this very host whose process is gone
//! is recognised at once and its lock taken over without waiting for the lease.
//!
//! On MySQL the lease is measured with the database server's clock, so hosts with skewed clocks
//! still agree; on SQLite every process shares the host's clock anyway.

use crate::db::schema::sigov_lock::dsl as l;
use crate::db::Db;
use anyhow::{Context, Result};
use diesel::dsl::sql;
use diesel::sql_types::Timestamp;
use diesel::sql_types::{Nullable, Text};
use diesel::QueryableByName;
use diesel::{ExpressionMethods, QueryDsl};
use std::time::{Duration, Instant};

pub use crate::host::Ident;

/// The current holder of a lock that could not be taken.
#[derive(Debug, Clone, QueryableByName)]
pub struct Holder {
    #[diesel(sql_type = Text, deserialize_as = crate::db::text::Lossy)]
    pub holder: String,
    #[diesel(sql_type = Nullable<diesel::sql_types::BigInt>)]
    pub run_id: Option<i64>,
    /// UTC, as every time of sigov's own tables.
    #[diesel(sql_type = Timestamp)]
    pub acquired_at: chrono::NaiveDateTime,
    #[diesel(sql_type = Timestamp)]
    pub expires_at: chrono::NaiveDateTime,
}

impl Holder {
    /// The holder ran on this host and its process is gone: it will never renew.
    pub fn is_dead(&self) -> bool {
        Ident::parse(&self.holder).is_some_and(|i| i.is_dead_local(&Ident::current()))
    }

    /// One line for operators: where the other run is and until when its lease holds.
    pub fn describe(&self) -> String {
        let who = match Ident::parse(&self.holder) {
            Some(i) => format!("host {} pid {}", i.host, i.pid),
            None => format!("`{}`", self.holder),
        };
        let run = self
            .run_id
            .map(|r| format!(", run {r}"))
            .unwrap_or_default();
        format!(
            "{who}{run}, since {} UTC, lease until {} UTC",
            self.acquired_at.format("%Y-%m-%d %H:%M:%S"),
            self.expires_at.format("%Y-%m-%d %H:%M:%S")
        )
    }
}

/// A lock this process holds. Release it with [`Lease::release`]; if the process dies, the
/// lease runs out by itself.
#[derive(Debug)]
pub struct Lease {
    pub name: String,
    token: String,
    secs: u32,
    renewed: Instant,
    run_id: Option<i64>,
    lost: bool,
}

pub enum Acquired {
    Held(Lease),
    Busy(Holder),
}

/// The instant a free lock expired at: long ago.
fn epoch() -> chrono::NaiveDateTime {
    chrono::DateTime::UNIX_EPOCH.naive_utc()
}

/// Takes lock `name` for `secs` seconds on the database's clock when its lease has ended or,
/// with `from`, when that (dead) holder still has it; the rows changed (1: taken).
fn take(db: &mut Db, name: &str, token: &str, secs: u32, from: Option<&str>) -> Result<usize> {
    let (now, later) = (db.now_sql(), db.later_sql(secs));
    let set = (
        l::holder.eq(token),
        l::run_id.eq(None::<i64>),
        l::acquired_at.eq(sql::<Timestamp>(now)),
        l::expires_at.eq(sql::<Timestamp>(&later)),
    );
    let mine = l::sigov_lock.filter(l::name.eq(name));
    let n = match from {
        None => crate::db::dsl_execute!(
            db,
            diesel::update(mine.filter(l::expires_at.lt(sql::<Timestamp>(now)))).set(set.clone())
        ),
        Some(holder) => crate::db::dsl_execute!(
            db,
            diesel::update(mine.filter(l::holder.eq(holder))).set(set.clone())
        ),
    };
    n.with_context(|| format!("cannot take lock `{name}`"))
}

/// The lock name of a check.
pub fn check_lock(check: &str) -> String {
    format!("check:{check}")
}

/// Tries once to take `name` for `secs` seconds. Never waits for another holder.
pub fn acquire(db: &mut Db, name: &str, secs: u32) -> Result<Acquired> {
    let me = Ident::current();
    let token = me.encode();
    // The row exists once, free; taking it is then always the same conditional UPDATE.
    crate::db::dsl_insert_ignore!(
        db,
        l::sigov_lock,
        (
            l::name.eq(name),
            l::holder.eq(""),
            l::run_id.eq(None::<i64>),
            l::acquired_at.eq(epoch()),
            l::expires_at.eq(epoch()),
        )
    )
    .with_context(|| format!("cannot create lock `{name}`"))?;
    let n = take(db, name, &token, secs, None)?;
    if n == 1 {
        return Ok(Acquired::Held(Lease::new(name, token, secs)));
    }
    let holder = current_holder(db, name)?;
    // A holder on this host whose process is gone cannot renew: take over without waiting.
    if let Some(h) = &holder {
        if Ident::parse(&h.holder).is_some_and(|i| i.is_dead_local(&me)) {
            let n = take(db, name, &token, secs, Some(&h.holder))
                .with_context(|| format!("cannot take over lock `{name}`"))?;
            if n == 1 {
                log::info!(
                    "lock {name}: its holder ({}) is gone; taken over",
                    h.describe()
                );
                return Ok(Acquired::Held(Lease::new(name, token, secs)));
            }
        }
    }
    match holder.or(current_holder(db, name)?) {
        Some(h) => Ok(Acquired::Busy(h)),
        // Released between the two statements: one more try settles it.
        None => acquire_once_more(db, name, secs, token),
    }
}

fn acquire_once_more(db: &mut Db, name: &str, secs: u32, token: String) -> Result<Acquired> {
    let n = take(db, name, &token, secs, None)?;
    if n == 1 {
        return Ok(Acquired::Held(Lease::new(name, token, secs)));
    }
    match current_holder(db, name)? {
        Some(h) => Ok(Acquired::Busy(h)),
        None => anyhow::bail!("lock `{name}` is neither free nor held"),
    }
}

/// The live holder of `name`, if its lease has not ended.
pub fn current_holder(db: &mut Db, name: &str) -> Result<Option<Holder>> {
    let sql = format!(
        "SELECT holder, run_id, acquired_at, expires_at FROM sigov_lock \
         WHERE name = ? AND expires_at >= {now}",
        now = db.now_sql()
    );
    let rows: Vec<Holder> = db
        .load(&sql, &[name.into()])
        .with_context(|| format!("cannot read lock `{name}`"))?;
    Ok(rows.into_iter().next())
}

/// Every lock whose lease has not ended and whose holder may be alive (for `sigov health` and
/// `sigov runs list`).
pub fn held(db: &mut Db) -> Result<Vec<(String, Holder)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text, deserialize_as = crate::db::text::Lossy)]
        name: String,
        #[diesel(embed)]
        holder: Holder,
    }
    let sql = format!(
        "SELECT name, holder, run_id, acquired_at, expires_at FROM sigov_lock \
         WHERE expires_at >= {now} ORDER BY name",
        now = db.now_sql()
    );
    let rows: Vec<Row> = db.load(&sql, &[]).context("cannot read locks")?;
    Ok(rows
        .into_iter()
        .filter(|r| !r.holder.is_dead())
        .map(|r| (r.name, r.holder))
        .collect())
}

impl Lease {
    fn new(name: &str, token: String, secs: u32) -> Lease {
        Lease {
            name: name.to_owned(),
            token,
            secs,
            renewed: Instant::now(),
            run_id: None,
            lost: false,
        }
    }

    /// Ties the lease to a run record (shown to a run that finds the lock taken).
    pub fn attach_run(&mut self, db: &mut Db, run_id: i64) -> Result<()> {
        self.run_id = Some(run_id);
        self.renew(db)
    }

    /// Renews the lease when a third of it has passed; also stamps the run's heartbeat.
    /// Cheap to call often: it sends nothing until then.
    pub fn keep_alive(&mut self, db: &mut Db) -> Result<()> {
        if !self.lost
            && self.renewed.elapsed() >= Duration::from_secs(u64::from(self.secs / 3).max(1))
        {
            self.renew(db)?;
        }
        Ok(())
    }

    /// Extends the lease now. Fails when another process took the lock (this run's lease
    /// ended while it was stalled).
    pub fn renew(&mut self, db: &mut Db) -> Result<()> {
        let later = db.later_sql(self.secs);
        let n = crate::db::dsl_execute!(
            db,
            diesel::update(
                l::sigov_lock
                    .filter(l::name.eq(&self.name))
                    .filter(l::holder.eq(&self.token)),
            )
            .set((
                l::expires_at.eq(sql::<Timestamp>(&later)),
                l::run_id.eq(self.run_id),
            ))
        )
        .with_context(|| format!("cannot renew lock `{}`", self.name))?;
        self.renewed = Instant::now();
        if n != 1 {
            self.lost = true;
            anyhow::bail!(
                "lock `{}` was lost: this run stalled past its lease of {} s and another run took over",
                self.name,
                self.secs
            );
        }
        if let Some(run) = self.run_id {
            use crate::db::schema::sigov_run::dsl as r;
            use diesel::{ExpressionMethods, QueryDsl};
            let now = crate::clock::to_micros(chrono::Utc::now().naive_utc());
            crate::db::dsl_execute!(
                db,
                diesel::update(r::sigov_run.filter(r::id.eq(run))).set(r::heartbeat_at.eq(now))
            )
            .context("cannot stamp the run's heartbeat")?;
        }
        Ok(())
    }

    /// Frees the lock at once (the next run need not wait for the lease).
    pub fn release(self, db: &mut Db) -> Result<()> {
        if self.lost {
            return Ok(());
        }
        crate::db::dsl_execute!(
            db,
            diesel::update(
                l::sigov_lock
                    .filter(l::name.eq(&self.name))
                    .filter(l::holder.eq(&self.token)),
            )
            .set(l::expires_at.eq(epoch()))
        )
        .with_context(|| format!("cannot release lock `{}`", self.name))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ident_round_trips() {
        let i = Ident::current();
        assert_eq!(Ident::parse(&i.encode()), Some(i.clone()));
        assert!(!i.is_dead_local(&i), "this process is alive");
        let gone = Ident {
            pid: u32::MAX - 1,
            ..i.clone()
        };
        assert!(gone.is_dead_local(&i));
        let elsewhere = Ident {
            host: format!("{}-other", i.host),
            ..gone.clone()
        };
        assert!(
            !elsewhere.is_dead_local(&i),
            "another host's pid says nothing"
        );
        let other_ns = Ident {
            pidns: "1".into(),
            ..gone
        };
        assert!(!other_ns.is_dead_local(&i), "another pid namespace");
        assert_eq!(Ident::parse("garbage"), None);
    }
}

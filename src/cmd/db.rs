//! `sigov db migrate|status|maintain`: sigov's own tables.

use super::ctx::Ctx;
use crate::config::Format;
use crate::db::maintain::{self, Maintained};
use crate::db::migrate::{self, MigrationState};
use crate::db::Db;
use crate::output::Out;
use crate::Exit;
use anyhow::Result;
use serde_json::json;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Apply pending sigov migrations (never touches the web application's tables)
    Migrate,
    /// List sigov migrations and whether each is applied
    Status,
    /// Weekly upkeep of sigov's tables and the two alert tables: planner statistics (ANALYZE),
    /// SQLite's integrity check and incremental vacuum; sizes and row counts before and after.
    /// Under its own lock (exit 75 when another maintenance runs)
    #[command(
        after_long_help = "MySQL/MariaDB: ANALYZE TABLE (OPTIMIZE TABLE with --optimize: rebuilds the tables, locks them while it copies on older servers). SQLite: PRAGMA optimize, ANALYZE, PRAGMA integrity_check (exit 1 when it finds damage), PRAGMA incremental_vacuum (frees pages when auto_vacuum is incremental; VACUUM with --optimize). PostgreSQL: ANALYZE each table (VACUUM (ANALYZE) with --optimize); a table the role may not maintain (before PostgreSQL 17 only its owner may) is reported skipped, with the reason.\n\nTables: sigov_run, sigov_alert_ledger, sigov_outbox, sigov_mail_snapshot, sigov_lock, core_alerteprojet, core_notificationetape."
    )]
    Maintain {
        /// Measure and say what would run; change nothing
        #[arg(long, short = 'n')]
        dry_run: bool,
        /// Also rebuild the tables (OPTIMIZE TABLE, VACUUM): reclaims space after a large purge
        #[arg(long)]
        optimize: bool,
    },
}

pub fn run(ctx: &Ctx<'_>, cmd: &Command) -> Result<Exit> {
    let (cfg, out) = (&ctx.cfg, &ctx.out);
    match cmd {
        Command::Maintain { dry_run, optimize } => {
            let mut db = ctx.db()?;
            if *dry_run {
                let m = maintain::run(&mut db, *optimize, true, &mut |_| Ok(()))?;
                out.maintained(&m, &maintain::plan(db.backend(), *optimize));
                return Ok(Exit::Ok);
            }
            let mut lease =
                match crate::ops::lock::acquire(&mut db, "maintain", cfg.lock_lease_secs)? {
                    crate::ops::lock::Acquired::Held(l) => l,
                    crate::ops::lock::Acquired::Busy(h) => {
                        if !ctx.globals.quiet {
                            crate::say!(
                                WARNING,
                                "sigov: db maintain: another run holds the lock: {}",
                                h.describe()
                            );
                        }
                        return Ok(Exit::Locked);
                    }
                };
            let done = maintain::run(&mut db, *optimize, false, &mut |db| lease.renew(db));
            if let Err(e) = lease.release(&mut db) {
                log::warn!("{e:#}");
            }
            let m = done?;
            out.maintained(&m, &[]);
            Ok(if m.healthy { Exit::Ok } else { Exit::Failure })
        }
        Command::Migrate => {
            let mut db = Db::create(cfg.require_database_url()?)?;
            let applied = migrate::run_pending(&mut db)?;
            out.migrated(&db, &applied);
            Ok(Exit::Ok)
        }
        Command::Status => {
            let mut db = Db::connect(cfg.require_database_url()?)?;
            let st = migrate::status(&mut db)?;
            out.migration_status(&db, &st);
            Ok(if st.iter().all(|s| s.applied_at.is_some()) {
                Exit::Ok
            } else {
                Exit::Failure
            })
        }
    }
}

fn size(b: Option<i64>) -> String {
    match b {
        None => "-".into(),
        Some(b) if b >= 10 * 1024 * 1024 => format!("{:.1} MiB", b as f64 / 1048576.0),
        Some(b) if b >= 10 * 1024 => format!("{:.1} KiB", b as f64 / 1024.0),
        Some(b) => format!("{b} B"),
    }
}

impl Out<'_> {
    pub fn maintained(&self, m: &Maintained, plan: &[String]) {
        if self.format == Format::Json {
            self.json(m);
            return;
        }
        if self.quiet || !(self.chatty() || m.dry_run || !m.healthy) {
            return;
        }
        let rows: Vec<Vec<String>> = m
            .before
            .iter()
            .zip(&m.after)
            .map(|(b, a)| {
                vec![
                    b.table.clone(),
                    b.rows.to_string(),
                    size(b.bytes),
                    a.rows.to_string(),
                    size(a.bytes),
                ]
            })
            .collect();
        self.table(
            &[
                "table",
                "rows before",
                "size before",
                "rows after",
                "size after",
            ],
            &rows,
            &[1, 2, 3, 4],
            40,
        );
        if let Some((b, a)) = m.file_bytes {
            crate::outln!(
                self,
                "database file: {} before, {} after",
                size(Some(b)),
                size(Some(a))
            );
        }
        if m.dry_run {
            crate::outln!(self, "dry run: would run, in order:");
            for p in plan {
                crate::outln!(self, "  {p}");
            }
            return;
        }
        for s in &m.steps {
            match s.result.as_slice() {
                [one] => crate::outln!(self, "{}: {one}", s.statement),
                many => {
                    crate::outln!(self, "{}:", s.statement);
                    for r in many {
                        crate::outln!(self, "  {}", crate::strings::one_line(r));
                    }
                }
            }
        }
        if !m.healthy {
            crate::outln!(self, "the database reported a problem: see above");
        }
    }

    pub fn migrated(&self, db: &Db, applied: &[String]) {
        if self.format == Format::Json {
            self.json(&json!({"database": db.url().redacted(), "applied": applied}));
        } else if self.chatty() {
            if applied.is_empty() {
                crate::outln!(
                    self,
                    "{}: migrations already up to date",
                    db.url().redacted()
                );
            }
            for a in applied {
                crate::outln!(self, "applied {a}");
            }
        }
    }

    pub fn migration_status(&self, db: &Db, st: &[MigrationState]) {
        if self.format == Format::Json {
            self.json(&json!({"database": db.url().redacted(), "migrations": st}));
            return;
        }
        if self.quiet {
            return;
        }
        for m in st {
            match &m.applied_at {
                Some(at) => crate::outln!(self, "applied  {}  {}", m.name, at),
                None => crate::outln!(self, "pending  {}", m.name),
            }
        }
    }
}

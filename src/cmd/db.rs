//! `sigov db migrate|status`: sigov's own tables.

use crate::config::{Config, Format};
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
}

pub fn run(cfg: &Config, out: &Out, cmd: &Command) -> Result<Exit> {
    match cmd {
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

impl Out<'_> {
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

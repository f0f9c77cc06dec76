//! Creating a set of tables from a schema written once per backend (the demo's copy of the web
//! application's tables).

use super::conn::Db;
use super::url::Backend;
use anyhow::{Context, Result};

/// A schema, as each backend's dump writes it.
#[derive(Debug, Clone, Copy)]
pub struct Schemas {
    pub mysql: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

/// Creates the tables of `schemas` where missing. MySQL and SQLite: its statements say `IF NOT
/// EXISTS`. PostgreSQL: the whole dump, in one transaction, only when `marker` (one of its
/// tables) does not exist yet; the dump empties `search_path` for its session, which is put back.
pub fn create_missing(db: &mut Db, schemas: &Schemas, marker: &str, what: &str) -> Result<()> {
    let ddl = match db.backend() {
        Backend::Mysql => schemas.mysql,
        Backend::Sqlite => schemas.sqlite,
        Backend::Postgres => schemas.postgres,
    };
    if db.backend() == Backend::Postgres {
        if db.table_exists(marker)? {
            return Ok(());
        }
        return db
            .transaction(|db| {
                db.batch(ddl)?;
                db.batch("RESET search_path")?;
                Ok(())
            })
            .with_context(|| format!("cannot create the {what} tables"));
    }
    db.batch(ddl)
        .with_context(|| format!("cannot create the {what} tables"))
}

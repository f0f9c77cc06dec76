//! A connection and what sigov keeps around it: the backend, the statement counter, the
//! statement watchdog, transactions (retried on lock conflicts) and reconnection.

use super::errors::{conflict_pause, is_lock_conflict, CONFLICT_RETRIES};
use super::url::{Backend, DbUrl};
use super::watchdog;
use crate::strings::one_line;
use anyhow::{Context, Result};
use diesel::connection::SimpleConnection;
use diesel::Connection;

#[cfg(feature = "mysql")]
use diesel::mysql::MysqlConnection;
#[cfg(feature = "postgres")]
use diesel::pg::PgConnection;
#[cfg(feature = "sqlite")]
use diesel::sqlite::SqliteConnection;

pub enum Conn {
    #[cfg(feature = "mysql")]
    Mysql(MysqlConnection),
    #[cfg(feature = "sqlite")]
    Sqlite(SqliteConnection),
    #[cfg(feature = "postgres")]
    Pg(PgConnection),
}

/// Runs `$body` with `$c` bound to the concrete connection and `$DB` to its backend type.
macro_rules! with_conn {
    ($conn:expr, $c:ident, $DB:ident => $body:expr) => {
        match $conn {
            #[cfg(feature = "mysql")]
            $crate::db::conn::Conn::Mysql($c) => {
                #[allow(dead_code)]
                type $DB = diesel::mysql::Mysql;
                $body
            }
            #[cfg(feature = "sqlite")]
            $crate::db::conn::Conn::Sqlite($c) => {
                #[allow(dead_code)]
                type $DB = diesel::sqlite::Sqlite;
                $body
            }
            #[cfg(feature = "postgres")]
            $crate::db::conn::Conn::Pg($c) => {
                #[allow(dead_code)]
                type $DB = diesel::pg::Pg;
                $body
            }
        }
    };
}
pub(crate) use with_conn;

/// An open database connection plus what sigov needs around it.
pub struct Db {
    pub(super) conn: Conn,
    pub(super) url: DbUrl,
    pub(super) statements: u64,
    pub(super) in_tx: bool,
    /// Whether one multi-row INSERT gets consecutive ids (read once; see [`Db::inserted_ids`]).
    pub(super) consecutive_ids: Option<Option<i64>>,
}

impl Db {
    /// Connects to the database named by `url`; the scheme picks the backend.
    pub fn connect(url: &str) -> Result<Db> {
        let url = DbUrl::parse(url)?;
        Self::connect_parsed(url)
    }

    pub fn connect_parsed(url: DbUrl) -> Result<Db> {
        Self::open(url, false)
    }

    /// Like [`Db::connect`], creating a SQLite file that does not exist yet (`db migrate`,
    /// `demo`); every other command refuses a missing file: a typo must not become an empty
    /// database.
    pub fn create(url: &str) -> Result<Db> {
        Self::open(DbUrl::parse(url)?, true)
    }

    /// [`Db::create`] for a parsed URL.
    pub fn create_parsed(url: DbUrl) -> Result<Db> {
        Self::open(url, true)
    }

    fn open(url: DbUrl, create: bool) -> Result<Db> {
        // Only a file can be created: MySQL databases exist or do not.
        #[cfg(not(feature = "sqlite"))]
        let _ = create;
        let shown = url.redacted();
        let conn = match url.backend() {
            #[cfg(feature = "mysql")]
            Backend::Mysql => {
                let limit = watchdog::limits().connect;
                let _watch = watchdog::watch(limit, || {
                    format!(
                        "database `{shown}` timed out after {} while connecting (database.connect_timeout_secs)",
                        watchdog::seconds(limit)
                    )
                });
                let mut c = MysqlConnection::establish(url.connect_string()).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot connect to database `{shown}`: {}",
                        one_line(&e.to_string())
                    )
                })?;
                // diesel keeps prepared only what is safe to reuse: query-builder statements of a
                // fixed shape (no IN list), and the fixed-size batch inserts (`Db::execute_reused`,
                // `insert_reused!`); hand-written `sql_query` text is never kept.
                c.set_prepared_statement_cache_size(diesel::connection::CacheSize::Unbounded);
                // Django's session mode: overlong values are errors, never silent truncations.
                c.batch_execute("SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@sql_mode, ''), 'STRICT_TRANS_TABLES')")
                    .map_err(|e| anyhow::anyhow!("cannot configure session on `{shown}`: {e}"))?;
                Conn::Mysql(c)
            }
            #[cfg(feature = "sqlite")]
            Backend::Sqlite => {
                let path = url.connect_string();
                if path != ":memory:" {
                    let p = std::path::Path::new(path);
                    if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                        if !dir.is_dir() {
                            anyhow::bail!(
                                "cannot connect to database `{shown}`: directory `{}` does not exist",
                                dir.display()
                            );
                        }
                    }
                    if !create && !p.exists() {
                        anyhow::bail!(
                            "database `{shown}` does not exist; `sigov demo` creates a demo database, `sigov db migrate` sigov's tables"
                        );
                    }
                    if create && !p.exists() {
                        // It will hold people's names and addresses: the owner's only (SQLite
                        // gives its -wal and -shm files the same mode).
                        use std::os::unix::fs::OpenOptionsExt;
                        std::fs::OpenOptions::new()
                            .write(true)
                            .create_new(true)
                            .mode(0o600)
                            .open(p)
                            .with_context(|| format!("cannot create database `{shown}`"))?;
                    }
                }
                let mut c = SqliteConnection::establish(path).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot connect to database `{shown}`: {}",
                        one_line(&e.to_string())
                    )
                })?;
                // As for MySQL: only fixed shapes are kept.
                c.set_prepared_statement_cache_size(diesel::connection::CacheSize::Unbounded);
                c.batch_execute(
                    // A 32 MiB page cache (default 2 MiB): a check over a large database reads its
                    // candidates and alert indexes once instead of re-reading pages. Temporary tables
                    // (a check's candidates) go to a file, not to sigov's memory.
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA foreign_keys = ON; PRAGMA cache_size = -32768; PRAGMA temp_store = FILE;",
                )
                .map_err(|e| anyhow::anyhow!("cannot open database `{shown}`: {}", one_line(&e.to_string())))?;
                super::keyhash::register(&mut c).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot open database `{shown}`: {}",
                        one_line(&e.to_string())
                    )
                })?;
                Conn::Sqlite(c)
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres => {
                let limit = watchdog::limits().connect;
                let _watch = watchdog::watch(limit, || {
                    format!(
                        "database `{shown}` timed out after {} while connecting (database.connect_timeout_secs)",
                        watchdog::seconds(limit)
                    )
                });
                let mut c = PgConnection::establish(url.connect_string()).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot connect to database `{shown}`: {}",
                        super::url::scrub(&one_line(&e.to_string()), url.as_str())
                    )
                })?;
                // As for MySQL: only fixed shapes are kept.
                c.set_prepared_statement_cache_size(diesel::connection::CacheSize::Unbounded);
                // sigov binds and reads times in UTC explicitly (`Mark`, `text::Lossy`); UTC
                // for the session too, so that a literal in a demo load means the same.
                c.batch_execute("SET TIME ZONE 'UTC'")
                    .map_err(|e| anyhow::anyhow!("cannot configure session on `{shown}`: {e}"))?;
                Conn::Pg(c)
            }
            #[allow(unreachable_patterns)]
            other => anyhow::bail!("this sigov was built without {} support", other.name()),
        };
        Ok(Db {
            conn,
            url,
            statements: 0,
            in_tx: false,
            consecutive_ids: None,
        })
    }

    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    pub fn url(&self) -> &DbUrl {
        &self.url
    }

    /// Number of statements sent since the connection opened (set-based checks keep it constant).
    pub fn statements(&self) -> u64 {
        self.statements
    }

    /// Watches one statement against `database.statement_timeout_secs` (a server that never
    /// answers ends the command; see `watchdog`). SQLite is a local file: not watched.
    pub(super) fn watch_statement(&self) -> Option<watchdog::Watch> {
        if self.backend() == Backend::Sqlite {
            return None;
        }
        let limit = watchdog::limits().statement;
        Some(watchdog::watch(limit, || {
            format!(
                "database `{}` timed out after {} waiting for an answer (database.statement_timeout_secs)",
                self.url.redacted(),
                watchdog::seconds(limit)
            )
        }))
    }

    /// Runs one statement that `run` sends on the connection (see [`dsl_execute!`]): counted,
    /// watched, and retried outside a transaction on a lock conflict, as [`Db::execute`].
    pub(crate) fn counted<T>(
        &mut self,
        mut run: impl FnMut(&mut Conn) -> Result<T, diesel::result::Error>,
    ) -> Result<T, diesel::result::Error> {
        let mut tries = 0u32;
        loop {
            self.statements += 1;
            let _watch = self.watch_statement();
            match run(&mut self.conn) {
                Err(e)
                    if !self.in_tx
                        && tries < CONFLICT_RETRIES
                        && is_lock_conflict(&e.to_string()) =>
                {
                    tries += 1;
                    log::info!(
                        "statement met a lock conflict, retrying ({tries}): {}",
                        one_line(&e.to_string())
                    );
                    conflict_pause(tries);
                }
                other => return other,
            }
        }
    }

    /// Runs several statements without binds (DDL, pragmas).
    /// After an error: whether the connection still answers; when it does not (the server
    /// closed it: a restart, a failover, an administrator's `pg_terminate_backend`), a new one
    /// to the same URL replaces it, so the run can close its records and the next checks run.
    /// Returns whether it reconnected; an error when the server cannot be reached again.
    pub fn reconnect_if_lost(&mut self) -> Result<bool> {
        if self.batch("SELECT 1").is_ok() {
            return Ok(false);
        }
        let fresh = Db::open(self.url.clone(), false)?;
        let statements = self.statements;
        *self = fresh;
        self.statements = statements;
        log::info!(
            "the connection to database `{}` was lost; reconnected",
            self.url.redacted()
        );
        Ok(true)
    }

    /// Runs `f` in one transaction (SQLite: `BEGIN IMMEDIATE`, so writers queue instead of
    /// failing at commit). Rolls back on error.
    pub fn transaction<T, F>(&mut self, f: F) -> Result<T>
    where
        F: FnOnce(&mut Db) -> Result<T>,
    {
        anyhow::ensure!(!self.in_tx, "nested transaction");
        let begin = match self.backend() {
            Backend::Mysql => "START TRANSACTION",
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        self.batch(begin).context("cannot begin transaction")?;
        self.in_tx = true;
        let out = f(self);
        self.in_tx = false;
        match out {
            Ok(v) => {
                self.batch("COMMIT").context("cannot commit transaction")?;
                Ok(v)
            }
            Err(e) => {
                if let Err(rb) = self.batch("ROLLBACK") {
                    log::warn!("rollback failed: {rb}");
                }
                Err(e)
            }
        }
    }

    /// [`Db::transaction`], run again while it meets a lock conflict: the database rolled the
    /// whole transaction back (a deadlock victim, a lock wait timeout, SQLite busy), so `f`
    /// starts over from the same state. `f` must touch nothing but the database.
    pub fn transaction_retrying<T, F>(&mut self, mut f: F) -> Result<T>
    where
        F: FnMut(&mut Db) -> Result<T>,
    {
        let mut tries = 0u32;
        loop {
            match self.transaction(&mut f) {
                Err(e) if tries < CONFLICT_RETRIES && is_lock_conflict(&format!("{e:#}")) => {
                    tries += 1;
                    log::info!(
                        "transaction met a lock conflict, retrying ({tries}): {}",
                        one_line(&format!("{e:#}"))
                    );
                    conflict_pause(tries);
                }
                other => return other,
            }
        }
    }

    pub(crate) fn conn_mut(&mut self) -> &mut Conn {
        &mut self.conn
    }
}

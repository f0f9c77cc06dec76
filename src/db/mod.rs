//! Database connections: the backend chosen from the URL scheme, one statement API over both
//! backends (text SQL with typed binds), transactions, and a statement counter.

pub mod maintain;
pub mod migrate;
pub mod pgurl;
mod reused;
pub use reused::ByText;
pub mod schema;
pub mod text;
pub mod url;
pub mod watchdog;

use crate::strings::one_line;
use anyhow::{Context, Result};
use diesel::connection::SimpleConnection;
use diesel::sql_types::BigInt;
use diesel::{Connection, QueryableByName, RunQueryDsl};

pub use url::{Backend, DbUrl};

#[cfg(feature = "mysql")]
use diesel::mysql::{Mysql, MysqlConnection};
#[cfg(feature = "postgres")]
use diesel::pg::{Pg, PgConnection};
#[cfg(feature = "sqlite")]
use diesel::sqlite::{Sqlite, SqliteConnection};

/// A value bound to a `?` placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
}

impl From<&str> for Val {
    fn from(s: &str) -> Self {
        Val::Text(s.to_owned())
    }
}
impl From<String> for Val {
    fn from(s: String) -> Self {
        Val::Text(s)
    }
}
impl From<i64> for Val {
    fn from(i: i64) -> Self {
        Val::Int(i)
    }
}
impl From<Option<String>> for Val {
    fn from(s: Option<String>) -> Self {
        Val::OptText(s)
    }
}
impl From<Option<i64>> for Val {
    fn from(i: Option<i64>) -> Self {
        Val::OptInt(i)
    }
}

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
            $crate::db::Conn::Mysql($c) => {
                #[allow(dead_code)]
                type $DB = diesel::mysql::Mysql;
                $body
            }
            #[cfg(feature = "sqlite")]
            $crate::db::Conn::Sqlite($c) => {
                #[allow(dead_code)]
                type $DB = diesel::sqlite::Sqlite;
                $body
            }
            #[cfg(feature = "postgres")]
            $crate::db::Conn::Pg($c) => {
                #[allow(dead_code)]
                type $DB = diesel::pg::Pg;
                $body
            }
        }
    };
}

/// Runs a diesel query-builder statement (`$query`, an expression re-typed for each backend) on
/// `$db`'s connection, counted and watched like [`Db::execute`], and sent again outside a
/// transaction when it met a lock conflict. Returns the affected row count.
macro_rules! dsl_execute {
    ($db:expr, $query:expr) => {{
        let db: &mut $crate::db::Db = $db;
        db.counted(|conn| $crate::db::with_conn!(conn, c, DB => diesel::RunQueryDsl::execute($query, c)))
    }};
}
/// Inserts `$values` into `$table` unless a row with the same key exists (MySQL, SQLite:
/// `INSERT IGNORE` / `INSERT OR IGNORE`; PostgreSQL: `ON CONFLICT DO NOTHING`), counted and
/// watched like [`dsl_execute!`]. Returns the rows inserted.
macro_rules! dsl_insert_ignore {
    ($db:expr, $table:expr, $values:expr) => {{
        let db: &mut $crate::db::Db = $db;
        db.counted(|conn| match conn {
            #[cfg(feature = "mysql")]
            $crate::db::Conn::Mysql(c) => diesel::RunQueryDsl::execute(
                diesel::insert_or_ignore_into($table).values($values),
                c,
            ),
            #[cfg(feature = "sqlite")]
            $crate::db::Conn::Sqlite(c) => diesel::RunQueryDsl::execute(
                diesel::insert_or_ignore_into($table).values($values),
                c,
            ),
            #[cfg(feature = "postgres")]
            $crate::db::Conn::Pg(c) => diesel::RunQueryDsl::execute(
                diesel::insert_into($table)
                    .values($values)
                    .on_conflict_do_nothing(),
                c,
            ),
        })
    }};
}
/// Loads the rows of a query-builder `SELECT` on either connection, counted and watched like
/// [`Db::load`].
macro_rules! dsl_load {
    ($db:expr, $query:expr) => {{
        let db: &mut $crate::db::Db = $db;
        db.counted(|conn| $crate::db::with_conn!(conn, c, DB => diesel::RunQueryDsl::load($query, c)))
    }};
}
/// Rows per INSERT statement of a batch write, and rows per write transaction
/// (`store::BATCH`): a full batch's statements have this many rows, are prepared once per
/// connection and reused ([`Db::execute_reused`], [`insert_reused!`]); a shorter batch (a
/// check's last) or a part of one (its mails) goes in one statement of its own. One statement a
/// table a batch, so the statements of a check do not grow with its rows but by batch.
pub const STATEMENT_ROWS: usize = 500;

/// `rows` split into statements of `N` rows (each a fixed-size array: diesel prepares one such
/// INSERT once per connection and reuses it) and the rest (fewer than `N`, one statement).
pub fn fixed_chunks<T, const N: usize>(rows: Vec<T>) -> (Vec<Box<[T; N]>>, Vec<T>) {
    let mut full = Vec::with_capacity(rows.len() / N);
    let mut it = rows.into_iter();
    loop {
        let chunk: Box<[T]> = it.by_ref().take(N).collect();
        match <Box<[T; N]>>::try_from(chunk) {
            Ok(c) => full.push(c),
            Err(rest) => return (full, rest.into_vec()),
        }
    }
}

/// Inserts `$rows` (a `Vec` of insertable tuples) into `$table`; `$after(db, rows)` runs after
/// each statement (to read its ids). Returns the rows inserted. MySQL: [`STATEMENT_ROWS`] a
/// statement ([`fixed_chunks`]), each prepared once per connection and reused (a prepare is a
/// round trip and a parse of every placeholder); PostgreSQL the same. SQLite compiles statements in process, and
/// diesel writes its batch inserts its own way there: one statement.
macro_rules! insert_reused {
    ($db:expr, $table:expr, $rows:expr, $after:expr) => {{
        let db: &mut $crate::db::Db = $db;
        #[allow(unused_mut)]
        let mut after = $after;
        let rows = $rows;
        let run = || -> Result<usize, diesel::result::Error> {
            if rows.is_empty() {
                return Ok(0);
            }
            let tail = match db.backend() {
                #[cfg(any(feature = "mysql", feature = "postgres"))]
                $crate::db::Backend::Mysql | $crate::db::Backend::Postgres => {
                    let (full, tail) =
                        $crate::db::fixed_chunks::<_, { $crate::db::STATEMENT_ROWS }>(rows);
                    let mut total = 0;
                    for c in &full {
                        let q = diesel::insert_into($table).values(&**c);
                        let n = db.counted(|conn| match conn {
                            #[cfg(feature = "mysql")]
                            $crate::db::Conn::Mysql(c) => {
                                diesel::RunQueryDsl::execute($crate::db::ByText(&q), c)
                            }
                            #[cfg(feature = "postgres")]
                            $crate::db::Conn::Pg(c) => {
                                diesel::RunQueryDsl::execute($crate::db::ByText(&q), c)
                            }
                            #[allow(unreachable_patterns)]
                            _ => Err(diesel::result::Error::QueryBuilderError(
                                "a MySQL statement on another backend".into(),
                            )),
                        })?;
                        after(&mut *db, n)?;
                        total += n;
                    }
                    if tail.is_empty() {
                        return Ok(total);
                    }
                    (total, tail)
                }
                #[allow(unreachable_patterns)]
                _ => (0, rows),
            };
            let n =
                $crate::db::dsl_execute!(&mut *db, diesel::insert_into($table).values(&tail.1))?;
            after(&mut *db, n)?;
            Ok(tail.0 + n)
        };
        run()
    }};
    ($db:expr, $table:expr, $rows:expr) => {
        $crate::db::insert_reused!($db, $table, $rows, |_: &mut $crate::db::Db, _: usize| {
            Ok::<(), diesel::result::Error>(())
        })
    };
}
/// PostgreSQL: inserts `$rows` (a `Vec` of insertable tuples) into `$table` with
/// `RETURNING $id`, and gives `Some(ids)` in row order; full statements of
/// [`STATEMENT_ROWS`] rows are prepared once and reused, as in [`insert_reused!`]. Any other
/// backend: `None`, nothing sent (the caller numbers the rows its own way).
macro_rules! insert_returning {
    ($db:expr, $table:expr, $rows:expr, $id:expr) => {{
        let db: &mut $crate::db::Db = $db;
        let rows = $rows;
        let run = || -> Result<Option<Vec<i64>>, diesel::result::Error> {
            if db.backend() != $crate::db::Backend::Postgres {
                return Ok(None);
            }
            #[cfg(feature = "postgres")]
            {
                let (full, tail) =
                    $crate::db::fixed_chunks::<_, { $crate::db::STATEMENT_ROWS }>(rows);
                let mut ids = Vec::new();
                for c in &full {
                    let got: Vec<i64> = db.counted(|conn| match conn {
                        $crate::db::Conn::Pg(pg) => diesel::RunQueryDsl::get_results(
                            $crate::db::ByText(
                                diesel::insert_into($table).values(&**c).returning($id),
                            ),
                            pg,
                        ),
                        #[allow(unreachable_patterns)]
                        _ => Err(diesel::result::Error::QueryBuilderError(
                            "a PostgreSQL statement on another backend".into(),
                        )),
                    })?;
                    ids.extend(got);
                }
                if !tail.is_empty() {
                    let got: Vec<i64> = db.counted(|conn| match conn {
                        $crate::db::Conn::Pg(pg) => diesel::RunQueryDsl::get_results(
                            diesel::insert_into($table).values(&tail).returning($id),
                            pg,
                        ),
                        #[allow(unreachable_patterns)]
                        _ => Err(diesel::result::Error::QueryBuilderError(
                            "a PostgreSQL statement on another backend".into(),
                        )),
                    })?;
                    ids.extend(got);
                }
                Ok(Some(ids))
            }
            #[cfg(not(feature = "postgres"))]
            {
                let _ = rows;
                Ok(None)
            }
        };
        run()
    }};
}
pub(crate) use {
    dsl_execute, dsl_insert_ignore, dsl_load, insert_returning, insert_reused, with_conn,
};

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// An open database connection plus what sigov needs around it.
pub struct Db {
    conn: Conn,
    url: DbUrl,
    statements: u64,
    in_tx: bool,
    /// Whether one multi-row INSERT gets consecutive ids (read once; see [`Db::inserted_ids`]).
    consecutive_ids: Option<Option<i64>>,
}

#[derive(QueryableByName)]
struct LastIdRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(QueryableByName)]
struct AutoIncRow {
    #[diesel(sql_type = BigInt)]
    mode: i64,
    #[diesel(sql_type = BigInt)]
    step: i64,
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
                        url::scrub(&one_line(&e.to_string()), url.as_str())
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
    fn watch_statement(&self) -> Option<watchdog::Watch> {
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

    /// Executes one statement with binds; returns the affected row count.
    ///
    /// Outside a transaction, a statement met by a lock conflict (an InnoDB deadlock victim or
    /// lock wait timeout, rolled back whole; SQLite busy) is sent again, a few times, after a
    /// short pause. Inside one, the whole transaction is what is retried
    /// ([`Db::transaction_retrying`]).
    pub fn execute(&mut self, sql: &str, vals: &[Val]) -> Result<usize, diesel::result::Error> {
        self.counted(|conn| {
            with_conn!(conn, c, DB => RunQueryDsl::execute(reused::Reused { sql, vals, cache: false }, c))
        })
    }

    /// Runs `sql` like [`Db::execute`], on a statement prepared the first time this connection
    /// sends this text and reused after: only for texts of a fixed shape (see [`reused`]).
    pub fn execute_reused(
        &mut self,
        sql: &str,
        vals: &[Val],
    ) -> Result<usize, diesel::result::Error> {
        self.counted(
            |conn| with_conn!(conn, c, DB => RunQueryDsl::execute(reused::Reused { sql, vals, cache: true }, c)),
        )
    }

    /// Loads rows like [`Db::load`] on a statement prepared once and reused (see
    /// [`Db::execute_reused`]); for sigov's own fixed reads, whose columns are never NULL.
    fn load_reused<R: LoadRow>(
        &mut self,
        sql: &str,
        vals: &[Val],
    ) -> Result<Vec<R>, diesel::result::Error> {
        self.counted(|conn| {
            with_conn!(conn, c, DB => RunQueryDsl::load::<R>(reused::Reused { sql, vals, cache: true }, c))
        })
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

    pub fn batch(&mut self, sql: &str) -> Result<(), diesel::result::Error> {
        self.statements += 1;
        let _watch = self.watch_statement();
        with_conn!(&mut self.conn, c, DB => c.batch_execute(sql))
    }

    /// Loads rows of a `QueryableByName` struct.
    pub fn load<R>(&mut self, sql: &str, vals: &[Val]) -> Result<Vec<R>, diesel::result::Error>
    where
        R: LoadRow,
    {
        self.statements += 1;
        let _watch = self.watch_statement();
        let repaired = text::repaired();
        let nulls = text::nulls();
        let rows = with_conn!(&mut self.conn, c, DB => {
            RunQueryDsl::load::<R>(reused::Reused { sql, vals, cache: false }, c)
        });
        let rows = rows.map_err(|e| match e {
            // diesel does not say which column: name the table the statement reads.
            diesel::result::Error::DeserializationError(d)
                if d.is::<diesel::result::UnexpectedNullError>() =>
            {
                diesel::result::Error::DeserializationError(
                    format!(
                        "a NULL where a value is required, in the rows read from `{}`",
                        main_table(sql)
                    )
                    .into(),
                )
            }
            other => other,
        });
        let n = text::nulls() - nulls;
        if n > 0 {
            log::warn!(
                "{n} NULL value(s) where text is expected, in the rows read from `{}`: read as empty",
                main_table(sql)
            );
        }
        let n = text::repaired() - repaired;
        if n > 0 {
            log::warn!(
                "{n} text value(s) read from `{}` are not valid UTF-8; read with U+FFFD in place of the invalid bytes: {}",
                main_table(sql),
                text::take_samples()
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        rows
    }

    pub fn count(&mut self, sql: &str, vals: &[Val]) -> Result<i64, diesel::result::Error> {
        let rows: Vec<CountRow> = self.load(sql, vals)?;
        Ok(rows.first().map(|r| r.n).unwrap_or(0))
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

    /// Whether a table exists in the connected database.
    pub fn table_exists(&mut self, table: &str) -> Result<bool, diesel::result::Error> {
        let n = match self.backend() {
            Backend::Mysql => self.count(
                "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?",
                &[table.into()],
            )?,
            Backend::Sqlite => self.count(
                "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?",
                &[table.into()],
            )?,
            // pg_tables lists every table, readable or not (information_schema hides those
            // the user has no grant on).
            Backend::Postgres => self.count(
                "SELECT COUNT(*) AS n FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = ?",
                &[table.into()],
            )?,
        };
        Ok(n > 0)
    }

    /// SQL that renders a DATE or DATETIME column (or an id) as text on this backend, read
    /// through [`text::Lossy`]. PostgreSQL: the column as it is, which `Lossy` renders as MySQL
    /// does (a uuid in 32 hex digits, a time in UTC with microseconds), whatever the session.
    pub fn text(&self, col: &str) -> String {
        match self.backend() {
            Backend::Mysql => format!("CAST({col} AS CHAR)"),
            Backend::Sqlite => format!("CAST({col} AS TEXT)"),
            Backend::Postgres => col.to_owned(),
        }
    }

    /// SQL casting a numeric expression to a 64-bit integer.
    pub fn int(&self, expr: &str) -> String {
        match self.backend() {
            Backend::Mysql => format!("CAST({expr} AS SIGNED)"),
            Backend::Sqlite => format!("CAST({expr} AS INTEGER)"),
            Backend::Postgres => format!("CAST({expr} AS BIGINT)"),
        }
    }

    /// The placeholder for a value bound as text into a column of type `mark` (PostgreSQL types
    /// every bind and compares no uuid, date or time with text: the value is cast there).
    pub fn mark(&self, mark: Mark) -> &'static str {
        match (self.backend(), mark) {
            (Backend::Mysql | Backend::Sqlite, _) => "?",
            (Backend::Postgres, Mark::Uuid) => "CAST(? AS uuid)",
            (Backend::Postgres, Mark::Date) => "CAST(? AS date)",
            (Backend::Postgres, Mark::Stamp) => "CAST(? AS timestamp)",
            (Backend::Postgres, Mark::AppStamp) => "(CAST(? AS timestamp) AT TIME ZONE 'UTC')",
            (Backend::Postgres, Mark::Json) => "CAST(? AS jsonb)",
        }
    }

    /// `n` placeholders of type `mark`, comma-separated (an `IN (…)` list).
    pub fn marks(&self, mark: Mark, n: usize) -> String {
        vec![self.mark(mark); n].join(", ")
    }

    /// SQL for a false value of a boolean column (MySQL tinyint(1), SQLite integer, PostgreSQL
    /// boolean).
    pub fn false_sql(&self) -> &'static str {
        match self.backend() {
            Backend::Mysql | Backend::Sqlite => "0",
            Backend::Postgres => "FALSE",
        }
    }

    /// SQL for a true value of a boolean column.
    pub fn true_sql(&self) -> &'static str {
        match self.backend() {
            Backend::Mysql | Backend::Sqlite => "1",
            Backend::Postgres => "TRUE",
        }
    }

    /// After rows were loaded with their ids into `tables`: the statement that moves each
    /// identity column's sequence past them (PostgreSQL: explicit ids do not advance it, and
    /// the next generated one would collide), or `None` where the backend needs none.
    pub fn identities_after_load_sql(&self, tables: &[&str]) -> Option<String> {
        if self.backend() != Backend::Postgres {
            return None;
        }
        let list = tables
            .iter()
            .map(|t| format!("'{}'", t.replace('\'', "")))
            .collect::<Vec<_>>()
            .join(", ");
        Some(format!(
            "DO $$ DECLARE r record; BEGIN \
             FOR r IN SELECT c.table_name FROM information_schema.columns c \
             WHERE c.table_schema = current_schema() AND c.column_name = 'id' \
             AND c.is_identity = 'YES' AND c.table_name IN ({list}) LOOP \
             EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, ''id''), \
             COALESCE((SELECT MAX(id) FROM %I), 0) + 1, false)', r.table_name, r.table_name); \
             END LOOP; END $$"
        ))
    }

    /// A condition true where boolean column `col` is true.
    pub fn is_true(&self, col: &str) -> String {
        match self.backend() {
            Backend::Mysql | Backend::Sqlite => format!("{col} <> 0"),
            Backend::Postgres => col.to_owned(),
        }
    }

    /// `expr` kept from choosing an index (MySQL, SQLite: a unary `+`); PostgreSQL plans from
    /// statistics, and has no unary `+` on text or dates: as it is.
    pub fn unindexed(&self, expr: &str) -> String {
        match self.backend() {
            Backend::Mysql | Backend::Sqlite => format!("+{expr}"),
            Backend::Postgres => expr.to_owned(),
        }
    }

    /// An id column of the web application as the text sigov keys it by (the ledger's
    /// `entity_id`): MySQL char(32) and SQLite text as they are; a PostgreSQL uuid in the same
    /// 32 hex digits (an integer id as its digits).
    pub fn key_text(&self, col: &str) -> String {
        match self.backend() {
            Backend::Mysql | Backend::Sqlite => col.to_owned(),
            Backend::Postgres => format!("replace(CAST({col} AS text), '-', '')"),
        }
    }

    /// SQL reading a decimal(…,2) column as exact integer cents.
    pub fn cents(&self, col: &str) -> String {
        self.int(&format!("ROUND({col} * 100)"))
    }

    /// SQL for a boolean column read as 0/1 (a 64-bit integer).
    pub fn flag(&self, col: &str) -> String {
        match self.backend() {
            Backend::Mysql | Backend::Sqlite => format!("(CASE WHEN {col} <> 0 THEN 1 ELSE 0 END)"),
            Backend::Postgres => format!("CAST(CASE WHEN {col} THEN 1 ELSE 0 END AS BIGINT)"),
        }
    }

    /// The statement that drops connection-local temporary table `name` (none: no-op).
    pub fn drop_temp_table_sql(&self, name: &str) -> String {
        match self.backend() {
            Backend::Mysql => format!("DROP TEMPORARY TABLE IF EXISTS {name}"),
            Backend::Sqlite => format!("DROP TABLE IF EXISTS temp.{name}"),
            Backend::Postgres => format!("DROP TABLE IF EXISTS pg_temp.{name}"),
        }
    }

    /// The statement that makes column `col` of temporary table `name` its unique key.
    pub fn key_temp_table_sql(&self, name: &str, col: &str) -> String {
        match self.backend() {
            Backend::Mysql => format!("ALTER TABLE {name} ADD PRIMARY KEY ({col})"),
            Backend::Sqlite => format!("CREATE UNIQUE INDEX temp.{name}_{col} ON {name} ({col})"),
            // Autovacuum never analyzes a temporary table: without statistics the planner
            // guesses its size when joining it to the application's tables.
            Backend::Postgres => {
                format!("ALTER TABLE {name} ADD PRIMARY KEY ({col}); ANALYZE {name}")
            }
        }
    }

    /// A condition true for a value of date column `col` that every date filter leaves out
    /// without a trace: SQLite holds whatever was stored (text in another format); MySQL's DATE
    /// columns hold dates (zero dates are counted where they are read), so there is none.
    pub fn not_a_date_sql(&self, col: &str) -> Option<String> {
        match self.backend() {
            Backend::Sqlite => Some(format!(
                "{col} IS NOT NULL AND (typeof({col}) <> 'text' OR {col} NOT GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*')"
            )),
            Backend::Mysql | Backend::Postgres => None,
        }
    }

    /// A condition true for a value of numeric column `col` that sums leave out: NULL, and on
    /// SQLite text that is not a number.
    pub fn not_a_number_sql(&self, col: &str) -> String {
        match self.backend() {
            Backend::Sqlite => format!("{col} IS NULL OR typeof({col}) NOT IN ('integer', 'real')"),
            Backend::Mysql | Backend::Postgres => format!("{col} IS NULL"),
        }
    }

    /// SQL for the database's clock, now, in UTC with microseconds.
    pub fn now_sql(&self) -> &'static str {
        match self.backend() {
            Backend::Mysql => "UTC_TIMESTAMP(6)",
            Backend::Sqlite => "strftime('%Y-%m-%d %H:%M:%f', 'now')",
            // The clock now, not the transaction's start (`now()`): time moves during a run.
            Backend::Postgres => "(clock_timestamp() AT TIME ZONE 'UTC')",
        }
    }

    /// An inner join that keeps its left side as the outer loop (`a {join} b ON …`): the
    /// planner may not reorder it. MySQL: `STRAIGHT_JOIN` (MariaDB otherwise starts from the
    /// smaller table and reaches a check's entities through a secondary index, tens of
    /// thousands of random reads); SQLite: `CROSS JOIN`, which its planner never reorders.
    pub fn ordered_join(&self) -> &'static str {
        match self.backend() {
            Backend::Mysql => "STRAIGHT_JOIN",
            Backend::Sqlite => "CROSS JOIN",
            // No such hint: the planner orders joins from its statistics.
            Backend::Postgres => "JOIN",
        }
    }

    /// An id as the database compares it in a join or `IN (…)`, for keying what it returned:
    /// MySQL's `utf8mb4_unicode_ci` ignores case and trailing spaces (a row may spell another's
    /// id so), SQLite compares bytes.
    pub fn id_key(&self, id: &str) -> String {
        match self.backend() {
            Backend::Mysql => id.trim_end_matches(' ').to_lowercase(),
            Backend::Sqlite | Backend::Postgres => id.to_owned(),
        }
    }

    /// A table reference read through `index` only (`FROM {table} {alias} {hint}`): MySQL
    /// `FORCE INDEX`, SQLite `INDEXED BY`. For keyset reads (`= … AND = … AND key > ? ORDER BY
    /// key LIMIT n`): MariaDB otherwise takes a `ref` on the equal parts and walks every entry
    /// before the last key read, so each chunk cost grew with the ones before it.
    pub fn force_index(&self, index: &str) -> String {
        match self.backend() {
            Backend::Mysql => format!("FORCE INDEX ({index})"),
            Backend::Sqlite => format!("INDEXED BY {index}"),
            Backend::Postgres => String::new(),
        }
    }

    /// SQL for the database's clock `secs` seconds from now, in UTC.
    pub fn later_sql(&self, secs: u32) -> String {
        match self.backend() {
            Backend::Mysql => format!("(UTC_TIMESTAMP(6) + INTERVAL {secs} SECOND)"),
            Backend::Sqlite => format!("strftime('%Y-%m-%d %H:%M:%f', 'now', '+{secs} seconds')"),
            Backend::Postgres => {
                format!("((clock_timestamp() AT TIME ZONE 'UTC') + INTERVAL '{secs} seconds')")
            }
        }
    }

    /// The ids the connection's last INSERT (of `rows` rows into a table with an
    /// auto-increment id, no id given) generated, in row order; `None` when this server does
    /// not promise them consecutive, and the caller reads them back.
    ///
    /// MySQL: `LAST_INSERT_ID()` is the first row's; a simple multi-row INSERT takes
    /// consecutive values, `auto_increment_increment` apart, unless
    /// `innodb_autoinc_lock_mode` = 2 (interleaved: Galera, or set so), read once per
    /// connection. SQLite: `last_insert_rowid()` is the last row's, and one statement's rows
    /// take consecutive rowids (the writer holds the database's lock; sigov inserts no ids).
    pub fn inserted_ids(&mut self, rows: usize) -> Result<Option<Vec<i64>>, diesel::result::Error> {
        let Some(step) = self.id_step()? else {
            return Ok(None);
        };
        if rows == 0 {
            return Ok(Some(Vec::new()));
        }
        let r: Vec<CountRow> = self.load_reused(
            match self.backend() {
                Backend::Mysql => "SELECT CAST(LAST_INSERT_ID() AS SIGNED) AS n",
                Backend::Sqlite => "SELECT last_insert_rowid() AS n",
                Backend::Postgres => "SELECT lastval() AS n",
            },
            &[],
        )?;
        let Some(id) = r.first().map(|r| r.n).filter(|n| *n > 0) else {
            return Ok(None);
        };
        let n = rows as i64;
        let first = match self.backend() {
            Backend::Mysql => id,
            Backend::Sqlite | Backend::Postgres => id - (n - 1) * step,
        };
        Ok(Some((0..n).map(|i| first + i * step).collect()))
    }

    /// Whether one multi-row INSERT's rows take consecutive ids here ([`Db::inserted_ids`]).
    pub fn ids_consecutive(&mut self) -> Result<bool, diesel::result::Error> {
        Ok(self.id_step()?.is_some())
    }

    /// The step between the ids of one INSERT's rows; `None` when they may interleave with
    /// another writer's. Read once per connection.
    fn id_step(&mut self) -> Result<Option<i64>, diesel::result::Error> {
        if let Some(step) = self.consecutive_ids {
            return Ok(step);
        }
        let step = match self.backend() {
            Backend::Sqlite => Some(1),
            // Each row takes its own value of the sequence: concurrent inserts interleave.
            // Writers read their ids with `RETURNING` ([`Db::insert_ids`]).
            Backend::Postgres => None,
            Backend::Mysql => {
                let r: Vec<AutoIncRow> = self.load(
                    "SELECT CAST(@@innodb_autoinc_lock_mode AS SIGNED) AS mode, \
                     CAST(@@auto_increment_increment AS SIGNED) AS step",
                    &[],
                )?;
                r.first()
                    .filter(|r| r.mode < 2 && r.step >= 1)
                    .map(|r| r.step)
            }
        };
        self.consecutive_ids = Some(step);
        Ok(step)
    }

    /// The id the connection's last single-row INSERT generated (exact whatever the server's
    /// numbering of multi-row inserts).
    pub fn last_insert_id(&mut self) -> Result<i64, diesel::result::Error> {
        let sql = self.last_insert_id_sql();
        let r: Vec<LastIdRow> = self.load_reused(sql, &[])?;
        r.first()
            .map(|r| r.id)
            .filter(|id| *id > 0)
            .ok_or(diesel::result::Error::NotFound)
    }

    /// Makes [`Db::inserted_ids`] answer `None`, as on a server whose ids may interleave
    /// (`innodb_autoinc_lock_mode` = 2): writers then read their ids back. For tests of that
    /// path, which no test server can be switched to at run time.
    #[doc(hidden)]
    pub fn forget_consecutive_ids(&mut self) {
        self.consecutive_ids = Some(None);
    }

    /// The statement that reads the id the connection's last INSERT generated (as `id`).
    fn last_insert_id_sql(&self) -> &'static str {
        match self.backend() {
            Backend::Mysql => "SELECT CAST(LAST_INSERT_ID() AS SIGNED) AS id",
            Backend::Sqlite => "SELECT last_insert_rowid() AS id",
            // The session's last value of any sequence: the identity of its last INSERT.
            Backend::Postgres => "SELECT lastval() AS id",
        }
    }

    /// Runs the INSERT `sql` of `rows` rows (into a table whose generated key is `id`) and
    /// returns their ids in row order, or `None` when this server does not promise them
    /// consecutive and the caller reads them back. PostgreSQL: `RETURNING id`, in the order of
    /// the VALUES (as Django's `bulk_create` reads them). `reuse`: a fixed shape, prepared once
    /// ([`Db::execute_reused`]).
    pub fn insert_ids(
        &mut self,
        sql: &str,
        vals: &[Val],
        rows: usize,
        reuse: bool,
    ) -> Result<Option<Vec<i64>>, diesel::result::Error> {
        if self.backend() == Backend::Postgres {
            let sql = format!("{sql} RETURNING id");
            let got: Vec<LastIdRow> = if reuse {
                self.load_reused(&sql, vals)?
            } else {
                self.load(&sql, vals)?
            };
            if got.len() != rows {
                return Err(diesel::result::Error::QueryBuilderError(
                    format!("{} id(s) returned for {rows} inserted row(s)", got.len()).into(),
                ));
            }
            return Ok(Some(got.into_iter().map(|r| r.id).collect()));
        }
        if reuse {
            self.execute_reused(sql, vals)?;
        } else {
            self.execute(sql, vals)?;
        }
        self.inserted_ids(rows)
    }

    /// The suffix of a SELECT that locks the rows it picks and skips those another transaction
    /// holds (MySQL); empty where the whole write is serialised anyway (SQLite `BEGIN IMMEDIATE`).
    pub fn skip_locked_sql(&self) -> &'static str {
        match self.backend() {
            Backend::Mysql => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// One of three values by backend, for what differs by backend outside SQL text (files that
    /// hold a schema per backend): a new backend adds an argument, and the compiler finds every
    /// such place.
    pub fn per_backend<T>(&self, mysql: T, sqlite: T, postgres: T) -> T {
        match self.backend() {
            Backend::Mysql => mysql,
            Backend::Sqlite => sqlite,
            Backend::Postgres => postgres,
        }
    }

    /// The statement that turns foreign-key (and, on MySQL, unique) checks off or on for this
    /// connection, for a bulk load whose rows arrive out of parent-first order. PostgreSQL:
    /// none; the web application's foreign keys are `DEFERRABLE INITIALLY DEFERRED`, checked
    /// when the load's transaction commits.
    pub fn constraint_checks_sql(&self, on: bool) -> Option<&'static str> {
        match (self.backend(), on) {
            (Backend::Mysql, false) => Some("SET FOREIGN_KEY_CHECKS = 0, UNIQUE_CHECKS = 0"),
            (Backend::Mysql, true) => Some("SET FOREIGN_KEY_CHECKS = 1, UNIQUE_CHECKS = 1"),
            (Backend::Sqlite, false) => Some("PRAGMA foreign_keys = OFF"),
            (Backend::Sqlite, true) => Some("PRAGMA foreign_keys = ON"),
            (Backend::Postgres, _) => None,
        }
    }

    /// Settings for a bulk load into a database nobody else uses yet (SQLite: no fsync, a large
    /// cache), and back to normal after it; `None`: nothing to change.
    pub fn bulk_load_sql(&self, loading: bool) -> Option<&'static str> {
        match (self.backend(), loading) {
            (Backend::Sqlite, true) => {
                Some("PRAGMA synchronous = OFF; PRAGMA cache_size = -262144")
            }
            (Backend::Sqlite, false) => Some("PRAGMA synchronous = NORMAL"),
            (Backend::Mysql | Backend::Postgres, _) => None,
        }
    }

    /// Whether a backslash in a string literal is an escape (MySQL's default SQL mode).
    pub fn backslash_escapes(&self) -> bool {
        self.per_backend(true, false, false)
    }

    pub(crate) fn conn_mut(&mut self) -> &mut Conn {
        &mut self.conn
    }
}

/// Rows loadable on every compiled backend.
pub trait LoadRow: row::OnMysql + row::OnSqlite + row::OnPg + 'static {}
impl<T: row::OnMysql + row::OnSqlite + row::OnPg + 'static> LoadRow for T {}

/// One bound per backend, empty for a backend not compiled in.
mod row {
    #[cfg(feature = "mysql")]
    pub trait OnMysql: diesel::QueryableByName<super::Mysql> {}
    #[cfg(feature = "mysql")]
    impl<T: diesel::QueryableByName<super::Mysql>> OnMysql for T {}
    #[cfg(not(feature = "mysql"))]
    pub trait OnMysql {}
    #[cfg(not(feature = "mysql"))]
    impl<T> OnMysql for T {}
    #[cfg(feature = "sqlite")]
    pub trait OnSqlite: diesel::QueryableByName<super::Sqlite> {}
    #[cfg(feature = "sqlite")]
    impl<T: diesel::QueryableByName<super::Sqlite>> OnSqlite for T {}
    #[cfg(not(feature = "sqlite"))]
    pub trait OnSqlite {}
    #[cfg(not(feature = "sqlite"))]
    impl<T> OnSqlite for T {}
    #[cfg(feature = "postgres")]
    pub trait OnPg: diesel::QueryableByName<super::Pg> {}
    #[cfg(feature = "postgres")]
    impl<T: diesel::QueryableByName<super::Pg>> OnPg for T {}
    #[cfg(not(feature = "postgres"))]
    pub trait OnPg {}
    #[cfg(not(feature = "postgres"))]
    impl<T> OnPg for T {}
}

/// The SQL type a value bound as text goes into ([`Db::mark`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// A uuid id of the web application (MySQL char(32)).
    Uuid,
    /// A DATE.
    Date,
    /// One of sigov's times: UTC without a zone (MySQL DATETIME(6), PostgreSQL timestamp).
    Stamp,
    /// One of the web application's times (PostgreSQL timestamptz), given in UTC.
    AppStamp,
    /// A JSON document (PostgreSQL jsonb).
    Json,
}

/// Whether an error's text is a lock conflict a retry resolves: a MySQL deadlock or lock wait
/// timeout (the statement, or its transaction, was rolled back whole) or SQLite busy.
pub fn is_lock_conflict(message: &str) -> bool {
    message.contains("Deadlock found")
        || message.contains("Lock wait timeout exceeded")
        || message.contains("database is locked")
        || message.contains("deadlock detected")
        || message.contains("could not serialize access")
        || message.contains("canceling statement due to lock timeout")
}

/// Lock conflicts a statement or a transaction is retried for, with a growing pause.
const CONFLICT_RETRIES: u32 = 8;

fn conflict_pause(tries: u32) {
    std::thread::sleep(std::time::Duration::from_millis(20 * u64::from(tries)));
}

/// The web application's table a statement reads (for log lines): the first named.
fn main_table(sql: &str) -> &str {
    sql.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .find(|w| w.starts_with("core_"))
        .unwrap_or("sigov_cand (the check's candidates, copied from its tables)")
}

/// Is this error a unique-key violation (another writer recorded the same key)?
pub fn is_unique_violation(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<diesel::result::Error>(),
            Some(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    })
}

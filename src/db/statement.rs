//! The statement API over every backend: text SQL with typed binds (`execute`, `load`,
//! `count`), statements prepared once and reused, and the query-builder macros.

use super::conn::{with_conn, Db};
use super::errors::main_table;
use super::reused;
use super::text;
use super::url::Backend;
use super::value::Val;
use diesel::connection::SimpleConnection;
use diesel::sql_types::BigInt;
use diesel::{QueryableByName, RunQueryDsl};

/// Runs a diesel query-builder statement (`$query`, an expression re-typed for each backend) on
/// `$db`'s connection, counted and watched like [`Db::execute`], and sent again outside a
/// transaction when it met a lock conflict. Returns the affected row count.
macro_rules! dsl_execute {
    ($db:expr, $query:expr) => {{
        let db: &mut $crate::db::conn::Db = $db;
        db.counted(|conn| $crate::db::conn::with_conn!(conn, c, DB => diesel::RunQueryDsl::execute($query, c)))
    }};
}
/// Inserts `$values` into `$table` unless a row with the same key exists (MySQL, SQLite:
/// `INSERT IGNORE` / `INSERT OR IGNORE`; PostgreSQL: `ON CONFLICT DO NOTHING`), counted and
/// watched like [`dsl_execute!`]. Returns the rows inserted.
macro_rules! dsl_insert_ignore {
    ($db:expr, $table:expr, $values:expr) => {{
        let db: &mut $crate::db::conn::Db = $db;
        db.counted(|conn| match conn {
            #[cfg(feature = "mysql")]
            $crate::db::conn::Conn::Mysql(c) => diesel::RunQueryDsl::execute(
                diesel::insert_or_ignore_into($table).values($values),
                c,
            ),
            #[cfg(feature = "sqlite")]
            $crate::db::conn::Conn::Sqlite(c) => diesel::RunQueryDsl::execute(
                diesel::insert_or_ignore_into($table).values($values),
                c,
            ),
            #[cfg(feature = "postgres")]
            $crate::db::conn::Conn::Pg(c) => diesel::RunQueryDsl::execute(
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
        let db: &mut $crate::db::conn::Db = $db;
        db.counted(|conn| $crate::db::conn::with_conn!(conn, c, DB => diesel::RunQueryDsl::load($query, c)))
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
        let db: &mut $crate::db::conn::Db = $db;
        #[allow(unused_mut)]
        let mut after = $after;
        let rows = $rows;
        let run = || -> Result<usize, diesel::result::Error> {
            if rows.is_empty() {
                return Ok(0);
            }
            let tail = match db.backend() {
                #[cfg(any(feature = "mysql", feature = "postgres"))]
                $crate::db::url::Backend::Mysql | $crate::db::url::Backend::Postgres => {
                    let (full, tail) = $crate::db::statement::fixed_chunks::<
                        _,
                        { $crate::db::statement::STATEMENT_ROWS },
                    >(rows);
                    let mut total = 0;
                    for c in &full {
                        let q = diesel::insert_into($table).values(&**c);
                        let n = db.counted(|conn| match conn {
                            #[cfg(feature = "mysql")]
                            $crate::db::conn::Conn::Mysql(c) => {
                                diesel::RunQueryDsl::execute($crate::db::reused::ByText(&q), c)
                            }
                            #[cfg(feature = "postgres")]
                            $crate::db::conn::Conn::Pg(c) => {
                                diesel::RunQueryDsl::execute($crate::db::reused::ByText(&q), c)
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
            let n = $crate::db::statement::dsl_execute!(
                &mut *db,
                diesel::insert_into($table).values(&tail.1)
            )?;
            after(&mut *db, n)?;
            Ok(tail.0 + n)
        };
        run()
    }};
    ($db:expr, $table:expr, $rows:expr) => {
        $crate::db::statement::insert_reused!(
            $db,
            $table,
            $rows,
            |_: &mut $crate::db::conn::Db, _: usize| { Ok::<(), diesel::result::Error>(()) }
        )
    };
}
/// PostgreSQL: inserts `$rows` (a `Vec` of insertable tuples) into `$table` with
/// `RETURNING $id`, and gives `Some(ids)` in row order; full statements of
/// [`STATEMENT_ROWS`] rows are prepared once and reused, as in [`insert_reused!`]. Any other
/// backend: `None`, nothing sent (the caller numbers the rows its own way).
macro_rules! insert_returning {
    ($db:expr, $table:expr, $rows:expr, $id:expr) => {{
        let db: &mut $crate::db::conn::Db = $db;
        let rows = $rows;
        let run = || -> Result<Option<Vec<i64>>, diesel::result::Error> {
            if db.backend() != $crate::db::url::Backend::Postgres {
                return Ok(None);
            }
            #[cfg(feature = "postgres")]
            {
                let (full, tail) = $crate::db::statement::fixed_chunks::<
                    _,
                    { $crate::db::statement::STATEMENT_ROWS },
                >(rows);
                let mut ids = Vec::new();
                for c in &full {
                    let got: Vec<i64> = db.counted(|conn| match conn {
                        $crate::db::conn::Conn::Pg(pg) => diesel::RunQueryDsl::get_results(
                            $crate::db::reused::ByText(
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
                        $crate::db::conn::Conn::Pg(pg) => diesel::RunQueryDsl::get_results(
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
pub(crate) use {dsl_execute, dsl_insert_ignore, dsl_load, insert_returning, insert_reused};

#[derive(QueryableByName)]
pub(super) struct CountRow {
    #[diesel(sql_type = BigInt)]
    pub(super) n: i64,
}

/// Rows loadable on every compiled backend.
pub trait LoadRow: row::OnMysql + row::OnSqlite + row::OnPg + 'static {}
impl<T: row::OnMysql + row::OnSqlite + row::OnPg + 'static> LoadRow for T {}

/// One bound per backend, empty for a backend not compiled in.
mod row {
    #[cfg(feature = "mysql")]
    pub trait OnMysql: diesel::QueryableByName<diesel::mysql::Mysql> {}
    #[cfg(feature = "mysql")]
    impl<T: diesel::QueryableByName<diesel::mysql::Mysql>> OnMysql for T {}
    #[cfg(not(feature = "mysql"))]
    pub trait OnMysql {}
    #[cfg(not(feature = "mysql"))]
    impl<T> OnMysql for T {}
    #[cfg(feature = "sqlite")]
    pub trait OnSqlite: diesel::QueryableByName<diesel::sqlite::Sqlite> {}
    #[cfg(feature = "sqlite")]
    impl<T: diesel::QueryableByName<diesel::sqlite::Sqlite>> OnSqlite for T {}
    #[cfg(not(feature = "sqlite"))]
    pub trait OnSqlite {}
    #[cfg(not(feature = "sqlite"))]
    impl<T> OnSqlite for T {}
    #[cfg(feature = "postgres")]
    pub trait OnPg: diesel::QueryableByName<diesel::pg::Pg> {}
    #[cfg(feature = "postgres")]
    impl<T: diesel::QueryableByName<diesel::pg::Pg>> OnPg for T {}
    #[cfg(not(feature = "postgres"))]
    pub trait OnPg {}
    #[cfg(not(feature = "postgres"))]
    impl<T> OnPg for T {}
}

impl Db {
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
    pub(super) fn load_reused<R: LoadRow>(
        &mut self,
        sql: &str,
        vals: &[Val],
    ) -> Result<Vec<R>, diesel::result::Error> {
        self.counted(|conn| {
            with_conn!(conn, c, DB => RunQueryDsl::load::<R>(reused::Reused { sql, vals, cache: true }, c))
        })
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
        loaded(sql, rows, repaired, nulls)
    }

    /// Loads rows read by position ([`reused::Positional`]): for the reads with many rows, where
    /// reading each column by name costs more than the rest of the row's work.
    pub fn load_positional<R>(
        &mut self,
        sql: &str,
        vals: &[Val],
    ) -> Result<Vec<R>, diesel::result::Error>
    where
        R: reused::Positional,
    {
        let mut rows = Vec::new();
        self.each_positional(sql, vals, |r| rows.push(r))?;
        Ok(rows)
    }

    /// Rows read by position, each handed to `f` as it is decoded (none held: for a scan whose
    /// rows are mostly dropped).
    pub fn each_positional<R>(
        &mut self,
        sql: &str,
        vals: &[Val],
        mut f: impl FnMut(R),
    ) -> Result<(), diesel::result::Error>
    where
        R: reused::Positional,
    {
        self.statements += 1;
        let _watch = self.watch_statement();
        let repaired = text::repaired();
        let nulls = text::nulls();
        let q = reused::Typed::<R::Sql>::new(sql, vals);
        let done = match &mut self.conn {
            #[cfg(feature = "mysql")]
            super::conn::Conn::Mysql(c) => R::each_mysql(c, q, &mut f),
            #[cfg(feature = "sqlite")]
            super::conn::Conn::Sqlite(c) => R::each_sqlite(c, q, &mut f),
            #[cfg(feature = "postgres")]
            super::conn::Conn::Pg(c) => R::each_pg(c, q, &mut f),
        };
        loaded(sql, done, repaired, nulls)
    }

    pub fn count(&mut self, sql: &str, vals: &[Val]) -> Result<i64, diesel::result::Error> {
        let rows: Vec<CountRow> = self.load(sql, vals)?;
        Ok(rows.first().map(|r| r.n).unwrap_or(0))
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
}

/// What a load gives, with its NULLs and repaired text said once, and a NULL where a value is
/// required named by the table the statement reads (diesel does not say which column).
fn loaded<T>(
    sql: &str,
    rows: Result<T, diesel::result::Error>,
    repaired: u64,
    nulls: u64,
) -> Result<T, diesel::result::Error> {
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

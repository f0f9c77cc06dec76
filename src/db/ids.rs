//! Recovering the ids of rows a multi-row INSERT wrote (MySQL and SQLite have no RETURNING that
//! diesel uses there): consecutive ids when the server guarantees them, else a read back.

use super::conn::Db;
use super::statement::CountRow;
use super::url::Backend;
use super::value::Val;
use diesel::sql_types::BigInt;
use diesel::QueryableByName;

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
}

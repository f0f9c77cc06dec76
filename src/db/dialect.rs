//! What differs between the backends' SQL, as text a statement is built with: casts, marks,
//! booleans, temporary tables, locking clauses. The only place (with `conn`) that branches on
//! the backend.

use super::conn::Db;
use super::url::Backend;
use super::value::Mark;

impl Db {
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
        self.id_keys().key(id)
    }

    /// [`Db::id_key`] without the connection (to key rows while a statement reads them).
    pub fn id_keys(&self) -> IdKeys {
        IdKeys(self.backend())
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

    /// The suffix of a SELECT that locks the rows it picks and skips those another transaction
    /// holds (MySQL); empty where the whole write is serialised anyway (SQLite `BEGIN IMMEDIATE`).
    pub fn skip_locked_sql(&self) -> &'static str {
        match self.backend() {
            Backend::Mysql => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// The day (UTC) of one of sigov's timestamp columns, as `YYYY-MM-DD` text.
    pub fn date_text(&self, col: &str) -> String {
        match self.backend() {
            Backend::Mysql => format!("CAST(DATE({col}) AS CHAR)"),
            Backend::Sqlite => format!("substr({col}, 1, 10)"),
            Backend::Postgres => format!("to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"),
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
        self.backend() == Backend::Mysql
    }
}

/// `s`'s bytes without trailing spaces, ASCII letters in lowercase.
fn fold_ascii(s: &str) -> impl Iterator<Item = u8> + '_ {
    s.trim_end_matches(' ')
        .bytes()
        .map(|c| c.to_ascii_lowercase())
}

/// Ids as the server compares them ([`Db::id_keys`]).
#[derive(Debug, Clone, Copy)]
pub struct IdKeys(Backend);

impl IdKeys {
    /// `id` as the key that matches as the server's join would (see [`Db::id_key`]).
    pub fn key(&self, id: &str) -> String {
        match self.0 {
            Backend::Mysql => id.trim_end_matches(' ').to_lowercase(),
            Backend::Sqlite | Backend::Postgres => id.to_owned(),
        }
    }

    /// Two values of a text column (an id) in the order the server's `ORDER BY` gives them:
    /// MySQL without case or trailing spaces (the ids' collation, for ASCII), the others byte
    /// by byte; a NULL first (PostgreSQL: last).
    pub fn order_text(&self, a: Option<&str>, b: Option<&str>) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        match (a, b) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) if self.0 == Backend::Postgres => Ordering::Greater,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) if self.0 == Backend::Postgres => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(a), Some(b)) => match self.0 {
                Backend::Mysql => fold_ascii(a).cmp(fold_ascii(b)),
                Backend::Sqlite | Backend::Postgres => a.cmp(b),
            },
        }
    }

    /// [`IdKeys::key`] in 16 bytes: a uuid's 32 hex digits as the number they write (MySQL
    /// compares them without case; the others only in lowercase, as PostgreSQL renders a
    /// uuid), any other id by the first 16 bytes of its key's SHA-256 ([`super::keyhash`]).
    /// Held by the hundred thousand, where a `String` costs four times as much.
    pub fn key128(&self, id: &str) -> u128 {
        let (t, any_case) = match self.0 {
            Backend::Mysql => (id.trim_end_matches(' '), true),
            Backend::Sqlite | Backend::Postgres => (id, false),
        };
        let hex = t.len() == 32
            && t.bytes().all(|b| {
                b.is_ascii_digit()
                    || (b'a'..=b'f').contains(&b)
                    || (any_case && (b'A'..=b'F').contains(&b))
            });
        match u128::from_str_radix(t, 16) {
            Ok(n) if hex => n,
            _ => super::keyhash::of_u128(&self.key(id)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Backend, IdKeys};

    #[test]
    fn sixteen_byte_keys_match_where_the_server_would() {
        let (my, pg, lite) = (
            IdKeys(Backend::Mysql),
            IdKeys(Backend::Postgres),
            IdKeys(Backend::Sqlite),
        );
        let id = "0123456789abcdef0123456789abcdef";
        for k in [my, pg, lite] {
            assert_eq!(k.key128(id), 0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        }
        // MySQL's collation: no case, no trailing spaces.
        assert_eq!(my.key128(&id.to_uppercase()), my.key128(id));
        assert_eq!(my.key128(&format!("{id}  ")), my.key128(id));
        assert_eq!(my.key128("Projet-1 "), my.key128("projet-1"));
        // The others compare the text as it is.
        for k in [pg, lite] {
            assert_ne!(k.key128(&id.to_uppercase()), k.key128(id));
            assert_ne!(k.key128(&format!("{id} ")), k.key128(id));
            assert_ne!(k.key128("Projet-1"), k.key128("projet-1"));
        }
        // Anything but 32 hex digits is its key's hash: a hyphenated uuid is another id, as
        // it is to the server's comparison of text.
        let hyphenated = "01234567-89ab-cdef-0123-456789abcdef";
        assert_eq!(
            lite.key128(hyphenated),
            crate::db::keyhash::of_u128(hyphenated)
        );
        assert_ne!(lite.key128(hyphenated), lite.key128(id));
        assert_eq!(lite.key128("42"), crate::db::keyhash::of_u128("42"));
        assert_ne!(lite.key128("42"), lite.key128("43"));
        // 32 characters that are not all hex digits.
        let almost = "0123456789abcdef0123456789abcdeg";
        assert_eq!(lite.key128(almost), crate::db::keyhash::of_u128(almost));
        // A sign is no hex digit (`from_str_radix` would take it).
        let signed = "+123456789abcdef0123456789abcdef";
        assert_eq!(lite.key128(signed), crate::db::keyhash::of_u128(signed));
    }

    #[test]
    fn text_is_ordered_as_each_server_orders_it() {
        use std::cmp::Ordering::{Greater, Less};
        let (my, pg, lite) = (
            IdKeys(Backend::Mysql),
            IdKeys(Backend::Postgres),
            IdKeys(Backend::Sqlite),
        );
        // MySQL's collation folds ASCII case and trailing spaces: 'B' after 'a'; bytes put
        // 'B' (0x42) before 'a' (0x61).
        assert_eq!(my.order_text(Some("a1"), Some("B1")), Less);
        assert_eq!(
            my.order_text(Some("ab "), Some("AB")),
            std::cmp::Ordering::Equal
        );
        for k in [pg, lite] {
            assert_eq!(k.order_text(Some("a1"), Some("B1")), Greater);
        }
        // NULL: first on MySQL and SQLite, last on PostgreSQL.
        for k in [my, lite] {
            assert_eq!(k.order_text(None, Some("0")), Less);
            assert_eq!(k.order_text(Some("0"), None), Greater);
        }
        assert_eq!(pg.order_text(None, Some("0")), Greater);
        assert_eq!(pg.order_text(Some("0"), None), Less);
        // Fixed-width times order as their text.
        assert_eq!(
            my.order_text(
                Some("2026-11-22 06:00:00.000001"),
                Some("2026-11-22 06:00:00.000010")
            ),
            Less
        );
    }
}

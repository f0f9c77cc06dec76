//! `sigov db maintain`: keeps the query planner's statistics fresh and the files tidy on the
//! tables sigov writes (its own and the two alert tables), and says their sizes before and
//! after. MySQL/MariaDB: `ANALYZE TABLE` (`OPTIMIZE TABLE` with `--optimize`); SQLite:
//! `PRAGMA optimize`, `ANALYZE`, `PRAGMA integrity_check`, `PRAGMA incremental_vacuum` (`VACUUM`
//! with `--optimize`); PostgreSQL: `ANALYZE` (`VACUUM (ANALYZE)` with `--optimize`).

use crate::db::text::{Lossy, LossyOpt};
use crate::db::{Backend, Db, Val};
use anyhow::{Context, Result};
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::QueryableByName;

/// The tables maintained, in this order: those sigov writes rows into as it runs (not
/// `sigov_meta`, a few rows written by `db migrate`, which the least-privilege user may only
/// read: MySQL's `ANALYZE TABLE` needs `INSERT`).
pub const TABLES: &[&str] = &[
    "sigov_run",
    "sigov_alert_ledger",
    "sigov_outbox",
    "sigov_mail_snapshot",
    "sigov_lock",
    "core_alerteprojet",
    "core_notificationetape",
];

/// What a PostgreSQL step says of a table this role may not maintain (`ANALYZE` and `VACUUM`
/// only warn and do nothing there).
pub const PG_NOT_OWNER: &str = "skipped: only the table's owner (or, on PostgreSQL 17+, a role granted MAINTAIN) can analyze or vacuum it; autovacuum keeps it analyzed, or run `sigov db maintain` as the role that ran `sigov db migrate`";

#[derive(QueryableByName)]
struct MaintainableRow {
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    ok: bool,
}

/// PostgreSQL: the tables of [`TABLES`] this role may analyze and vacuum (it owns them, or
/// holds MAINTAIN on PostgreSQL 17+). One statement.
fn pg_maintainable(db: &mut Db) -> Result<std::collections::HashSet<String>> {
    let marks = vec!["?"; TABLES.len()].join(", ");
    let vals: Vec<Val> = TABLES.iter().map(|t| Val::from(*t)).collect();
    let rows: Vec<MaintainableRow> = db
        .load(
            &format!(
                "SELECT CAST(c.relname AS TEXT) AS name, \
                 (pg_has_role(c.relowner, 'USAGE') OR CASE WHEN current_setting('server_version_num')::int >= 170000 \
                  THEN has_table_privilege(c.oid, 'MAINTAIN') ELSE false END) AS ok \
                 FROM pg_class c WHERE c.relnamespace = to_regnamespace(current_schema()) \
                 AND c.relname IN ({marks})"
            ),
            &vals,
        )
        .context("cannot read which tables this role may maintain (pg_class)")?;
    Ok(rows.into_iter().filter(|r| r.ok).map(|r| r.name).collect())
}

/// One table's size.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Size {
    pub table: String,
    pub rows: i64,
    /// Data and indexes, as the server reports them (SQLite without `dbstat`: unknown).
    pub bytes: Option<i64>,
}

/// One step and what the database answered.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Step {
    pub statement: String,
    /// The server's messages (MySQL's Msg_text, SQLite's integrity_check rows), `done` else.
    pub result: Vec<String>,
}

/// What `db maintain` did (or would do).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Maintained {
    pub dry_run: bool,
    pub backend: &'static str,
    pub before: Vec<Size>,
    pub after: Vec<Size>,
    pub steps: Vec<Step>,
    /// SQLite: the whole file's bytes before and after.
    pub file_bytes: Option<(i64, i64)>,
    /// Whether every integrity check said ok (SQLite; always true elsewhere).
    pub healthy: bool,
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct SizeRow {
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    name: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    bytes: Option<i64>,
}

#[derive(QueryableByName)]
struct MysqlMsg {
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt, column_name = "Table")]
    table: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt, column_name = "Msg_type")]
    kind: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt, column_name = "Msg_text")]
    text: Option<String>,
}

#[derive(QueryableByName)]
struct IntegrityRow {
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    integrity_check: String,
}

#[derive(QueryableByName)]
struct PragmaRow {
    #[diesel(sql_type = BigInt)]
    v: i64,
}

fn sizes(db: &mut Db) -> Result<Vec<Size>> {
    let names = TABLES
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let by_server: Vec<SizeRow> = match db.backend() {
        Backend::Mysql => db
            .load(
                &format!(
                    "SELECT CAST(table_name AS CHAR) AS name, \
                     CAST(data_length + index_length AS SIGNED) AS bytes \
                     FROM information_schema.TABLES \
                     WHERE table_schema = DATABASE() AND table_name IN ({names})"
                ),
                &[],
            )
            .context("cannot read table sizes (information_schema.TABLES)")?,
        Backend::Postgres => db
            .load(
                &format!(
                    "SELECT CAST(c.relname AS text) AS name, \
                     CAST(pg_total_relation_size(c.oid) AS BIGINT) AS bytes \
                     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname IN ({names})"
                ),
                &[],
            )
            .context("cannot read table sizes (pg_total_relation_size)")?,
        // dbstat is an optional part of SQLite: without it, sizes are unknown.
        Backend::Sqlite => db
            .load(
                &format!(
                    "SELECT m.tbl_name AS name, CAST(SUM(d.pgsize) AS INTEGER) AS bytes \
                     FROM dbstat d JOIN sqlite_master m ON m.name = d.name \
                     WHERE m.tbl_name IN ({names}) GROUP BY m.tbl_name"
                ),
                &[],
            )
            .unwrap_or_default(),
    };
    let mut out = Vec::with_capacity(TABLES.len());
    for t in TABLES {
        let n: Vec<CountRow> = db
            .load(&format!("SELECT COUNT(*) AS n FROM {t}"), &[])
            .with_context(|| format!("cannot count {t}"))?;
        out.push(Size {
            table: (*t).to_owned(),
            rows: n.first().map(|r| r.n).unwrap_or(0),
            bytes: by_server
                .iter()
                .find(|s| s.name.eq_ignore_ascii_case(t))
                .and_then(|s| s.bytes),
        });
    }
    Ok(out)
}

fn sqlite_pragma(db: &mut Db, name: &str) -> Result<i64> {
    let rows: Vec<PragmaRow> = db
        .load(&format!("SELECT {name} AS v FROM pragma_{name}"), &[])
        .with_context(|| format!("cannot read PRAGMA {name}"))?;
    Ok(rows.first().map(|r| r.v).unwrap_or(0))
}

fn file_bytes(db: &mut Db) -> Result<Option<i64>> {
    if db.backend() != Backend::Sqlite {
        return Ok(None);
    }
    Ok(Some(
        sqlite_pragma(db, "page_count")? * sqlite_pragma(db, "page_size")?,
    ))
}

/// The statements maintenance runs, in order.
pub fn plan(backend: Backend, optimize: bool) -> Vec<String> {
    let list = TABLES.join(", ");
    match backend {
        Backend::Mysql => {
            let mut v = vec![format!("ANALYZE TABLE {list}")];
            if optimize {
                v.push(format!("OPTIMIZE TABLE {list}"));
            }
            v
        }
        Backend::Sqlite => {
            let mut v = vec![
                "PRAGMA optimize".to_owned(),
                "ANALYZE".to_owned(),
                "PRAGMA integrity_check".to_owned(),
                "PRAGMA incremental_vacuum".to_owned(),
            ];
            if optimize {
                v.push("VACUUM".to_owned());
            }
            v
        }
        Backend::Postgres => TABLES
            .iter()
            .map(|t| {
                if optimize {
                    format!("VACUUM (ANALYZE) {t}")
                } else {
                    format!("ANALYZE {t}")
                }
            })
            .collect(),
    }
}

/// Runs maintenance (or, with `dry_run`, only measures). `between` is called between
/// statements (the caller renews its lock there).
pub fn run(
    db: &mut Db,
    optimize: bool,
    dry_run: bool,
    between: &mut dyn FnMut(&mut Db) -> Result<()>,
) -> Result<Maintained> {
    let before = sizes(db)?;
    let file_before = file_bytes(db)?;
    let mut steps = Vec::new();
    let mut healthy = true;
    if !dry_run {
        let maintainable = if db.backend() == Backend::Postgres {
            Some(pg_maintainable(db)?)
        } else {
            None
        };
        for sql in plan(db.backend(), optimize) {
            // PostgreSQL's steps name one table each, last.
            let table = sql.rsplit(' ').next().unwrap_or_default();
            if maintainable.as_ref().is_some_and(|ok| !ok.contains(table)) {
                steps.push(Step {
                    statement: sql,
                    result: vec![PG_NOT_OWNER.to_owned()],
                });
                continue;
            }
            let result = match db.backend() {
                Backend::Mysql => {
                    let rows: Vec<MysqlMsg> = db
                        .load(&sql, &[])
                        .with_context(|| format!("{sql} failed"))?;
                    let msgs: Vec<String> = rows
                        .into_iter()
                        .map(|r| {
                            format!(
                                "{}: {} {}",
                                r.table.unwrap_or_default(),
                                r.kind.unwrap_or_default(),
                                r.text.unwrap_or_default()
                            )
                        })
                        .collect();
                    if msgs.iter().any(|m| m.contains(": error ")) {
                        healthy = false;
                    }
                    msgs
                }
                Backend::Sqlite if sql == "PRAGMA integrity_check" => {
                    let rows: Vec<IntegrityRow> = db
                        .load(&sql, &[])
                        .with_context(|| format!("{sql} failed"))?;
                    let msgs: Vec<String> = rows.into_iter().map(|r| r.integrity_check).collect();
                    if msgs != ["ok"] {
                        healthy = false;
                    }
                    msgs
                }
                _ => {
                    db.execute(&sql, &[] as &[Val])
                        .with_context(|| format!("{sql} failed"))?;
                    vec!["done".to_owned()]
                }
            };
            steps.push(Step {
                statement: sql,
                result,
            });
            between(db)?;
        }
    }
    let after = if dry_run { before.clone() } else { sizes(db)? };
    let file_after = file_bytes(db)?;
    Ok(Maintained {
        dry_run,
        backend: match db.backend() {
            Backend::Mysql => "mysql",
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        },
        before,
        after,
        steps,
        file_bytes: file_before.zip(file_after),
        healthy,
    })
}

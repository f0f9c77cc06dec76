//! `sigov demo`: creates (or refreshes) a database with the SI-Gouvernance tables and
//! deterministic, realistic French project data relative to a date: every situation the five
//! checks react to, hand-placed edge cases first, then sampled projects. Plain batched inserts,
//! so 50,000 projects load in seconds.

mod gen;

use crate::db::{Db, DbUrl};
use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use std::collections::BTreeMap;
use std::time::Instant;

pub use gen::{generate, Lit};

const SCHEMA_SQLITE: &str = include_str!("schema_sqlite.sql");
const SCHEMA_MYSQL: &str = include_str!("schema_mysql.sql");
/// PostgreSQL: the web application's own schema, as its migrations create it (all 63 tables
/// and the rows they seed), from the test fixtures.
const SCHEMA_POSTGRES: &str = include_str!("../../tests/fixtures/si-gouvernance-postgres.sql");

/// Tables the demo fills or empties, children first.
const TABLES: &[&str] = &[
    "core_notificationetape",
    "core_alerteprojet",
    "core_lignebudget",
    "core_contratgarantie",
    "core_tachemodule",
    "core_moduleprojet",
    "core_tacheetape",
    "core_etapeprojet",
    "core_affectation",
    "core_projet",
    "core_utilisateur",
    "core_typeetape",
    "core_statutprojet",
    "core_roleprojet",
    "core_rolesysteme",
];

const SIGOV_TABLES: &[&str] = &[
    "sigov_outbox",
    "sigov_mail_snapshot",
    "sigov_alert_ledger",
    "sigov_run",
    "sigov_lock",
];

#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    pub database: String,
    pub projects: usize,
    pub users: usize,
    pub stages: usize,
    pub tasks: usize,
    pub module_tasks: usize,
    pub contracts: usize,
    pub budget_lines: usize,
    pub seed: u64,
    pub today: NaiveDate,
    pub seconds: f64,
}

/// Creates the domain tables where missing (never altering existing ones). PostgreSQL: the
/// whole schema of the web application, in one transaction, when it has no `core_projet` yet.
pub fn create_domain_schema(db: &mut Db) -> Result<()> {
    let schemas = crate::db::ddl::Schemas {
        mysql: SCHEMA_MYSQL,
        sqlite: SCHEMA_SQLITE,
        postgres: SCHEMA_POSTGRES,
    };
    crate::db::ddl::create_missing(db, &schemas, "core_projet", "SI-Gouvernance")
}

/// Whether `db` is a demo database (`sigov demo` made it).
pub fn is_demo(db: &mut Db) -> Result<bool> {
    if !db.table_exists("sigov_meta")? {
        return Ok(false);
    }
    Ok(db.count(
        "SELECT COUNT(*) AS n FROM sigov_meta WHERE meta_key = 'demo'",
        &[],
    )? > 0)
}

fn has_projects(db: &mut Db) -> Result<bool> {
    Ok(db.table_exists("core_projet")?
        && db.count("SELECT COUNT(*) AS n FROM core_projet", &[])? > 0)
}

/// Creates or refreshes the demo database at `url`. Refuses to touch a database that holds
/// projects it did not create.
pub fn create(url: &DbUrl, scale: u32, seed: u64, today: NaiveDate) -> Result<Summary> {
    let started = Instant::now();
    if let Some(path) = url.sqlite_path() {
        let p = std::path::Path::new(path);
        if p.exists() {
            let mut db = Db::create_parsed(url.clone())?;
            if has_projects(&mut db)? && !is_demo(&mut db)? {
                bail!("`{path}` holds projects that `sigov demo` did not create; refusing to overwrite it");
            }
            drop(db);
            for suffix in ["", "-wal", "-shm"] {
                let f = format!("{path}{suffix}");
                if std::path::Path::new(&f).exists() {
                    std::fs::remove_file(&f).with_context(|| format!("cannot remove `{f}`"))?;
                }
            }
        }
    }
    // A SQLite file was removed above; a server database is emptied in place.
    let mut db = Db::create_parsed(url.clone())?;
    if has_projects(&mut db)? && !is_demo(&mut db)? {
        bail!(
            "`{}` holds projects that `sigov demo` did not create; refusing to overwrite it",
            url.redacted()
        );
    }
    create_domain_schema(&mut db)?;
    crate::db::migrate::run_pending(&mut db)?;
    if url.sqlite_path().is_none() {
        constraint_checks(&mut db, false)?;
        for t in TABLES.iter().chain(SIGOV_TABLES) {
            db.batch(&format!("DELETE FROM {t}"))
                .with_context(|| format!("cannot empty {t}"))?;
        }
        constraint_checks(&mut db, true)?;
    }
    if let Some(sql) = db.bulk_load_sql(true) {
        db.batch(sql)?;
    }
    let counts = load(&mut db, scale, seed, today)?;
    if let Some(sql) = db.identities_after_load_sql(TABLES) {
        db.batch(&sql)
            .context("cannot move the id sequences past the loaded rows")?;
    }
    let now = crate::clock::to_micros(chrono::Utc::now().naive_utc());
    let meta =
        serde_json::json!({"scale": scale, "seed": seed, "today": today.to_string()}).to_string();
    {
        use crate::db::schema::sigov_meta::dsl as m;
        use diesel::{ExpressionMethods, QueryDsl};
        crate::db::dsl_execute!(
            &mut db,
            diesel::delete(m::sigov_meta.filter(m::meta_key.eq("demo")))
        )?;
        crate::db::dsl_execute!(
            &mut db,
            diesel::insert_into(m::sigov_meta).values((
                m::meta_key.eq("demo"),
                m::meta_value.eq(&meta),
                m::updated_at.eq(now),
            ))
        )?;
    }
    if let Some(sql) = db.bulk_load_sql(false) {
        db.batch(sql)?;
    }
    Ok(Summary {
        database: url.redacted(),
        projects: counts.get("core_projet"),
        users: counts.get("core_utilisateur"),
        stages: counts.get("core_etapeprojet"),
        tasks: counts.get("core_tacheetape"),
        module_tasks: counts.get("core_tachemodule"),
        contracts: counts.get("core_contratgarantie"),
        budget_lines: counts.get("core_lignebudget"),
        seed,
        today,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Generates and inserts the data set in one transaction, 500 rows a statement. Foreign keys
/// are not enforced during the load: the generator emits consistent rows, but per-table
/// buffers flush out of parent-first order.
pub fn load(db: &mut Db, scale: u32, seed: u64, today: NaiveDate) -> Result<gen::Counts> {
    let style = gen::Style {
        backslash: db.backslash_escapes(),
        bools: [db.false_sql(), db.true_sql()],
    };
    // Off rather than deferred: deferred checks would make every parent insert look for
    // waiting children (PostgreSQL: deferred, the schema's own; checked at commit).
    constraint_checks(db, false)?;
    let out = db.transaction(|db| {
        let mut buffers: BTreeMap<&'static str, Vec<Vec<Lit>>> = BTreeMap::new();
        let counts = gen::generate(scale, seed, today, &mut |t, row| {
            let buf = buffers.entry(t).or_default();
            buf.push(row);
            if buf.len() >= 500 {
                let rows = std::mem::take(buf);
                flush(db, t, &rows, style)?;
            }
            Ok(())
        })?;
        for t in gen::ORDER {
            if let Some(rows) = buffers.remove(t) {
                if !rows.is_empty() {
                    flush(db, t, &rows, style)?;
                }
            }
        }
        Ok(counts)
    });
    constraint_checks(db, true)?;
    out
}

/// Turns the connection's constraint checks off or back on, where the backend can.
fn constraint_checks(db: &mut Db, on: bool) -> Result<()> {
    if let Some(sql) = db.constraint_checks_sql(on) {
        db.batch(sql)?;
    }
    Ok(())
}

fn flush(db: &mut Db, table: &'static str, rows: &[Vec<Lit>], style: gen::Style) -> Result<()> {
    let mut sql = String::with_capacity(rows.len() * 256);
    sql.push_str("INSERT INTO ");
    sql.push_str(table);
    sql.push_str(" (");
    sql.push_str(&gen::columns(table).join(", "));
    sql.push_str(") VALUES ");
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for (j, v) in row.iter().enumerate() {
            if j > 0 {
                sql.push_str(", ");
            }
            gen::write_literal(&mut sql, v, style);
        }
        sql.push(')');
    }
    db.batch(&sql)
        .with_context(|| format!("cannot load {table}"))?;
    Ok(())
}

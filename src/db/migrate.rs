//! sigov's embedded migrations (one folder per backend, same names), applied and tracked in
//! `sigov_schema_migrations` so that every table sigov owns carries the `sigov_` prefix.

use super::{Backend, Conn, Db, Val};
use anyhow::{anyhow, Context, Result};
use diesel::migration::MigrationSource;
use diesel::QueryableByName;
use diesel_migrations::{embed_migrations, EmbeddedMigrations};

#[cfg(feature = "mysql")]
const MYSQL: EmbeddedMigrations = embed_migrations!("migrations/mysql");
#[cfg(feature = "sqlite")]
const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
#[cfg(feature = "postgres")]
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

const TRACKING_TABLE: &str = "sigov_schema_migrations";

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MigrationState {
    pub version: String,
    pub name: String,
    pub applied_at: Option<String>,
}

#[derive(QueryableByName)]
struct AppliedRow {
    #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = crate::db::text::Lossy)]
    version: String,
    #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = crate::db::text::Lossy)]
    applied_at: String,
}

/// (version, full name) of every embedded migration for this backend, in order.
fn embedded(db: &Db) -> Result<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = match db.backend() {
        #[cfg(feature = "mysql")]
        Backend::Mysql => MigrationSource::<diesel::mysql::Mysql>::migrations(&MYSQL)
            .map_err(|e| anyhow!("embedded migrations: {e}"))?
            .iter()
            .map(|m| (m.name().version().to_string(), m.name().to_string()))
            .collect(),
        #[cfg(feature = "sqlite")]
        Backend::Sqlite => MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE)
            .map_err(|e| anyhow!("embedded migrations: {e}"))?
            .iter()
            .map(|m| (m.name().version().to_string(), m.name().to_string()))
            .collect(),
        #[cfg(feature = "postgres")]
        Backend::Postgres => MigrationSource::<diesel::pg::Pg>::migrations(&POSTGRES)
            .map_err(|e| anyhow!("embedded migrations: {e}"))?
            .iter()
            .map(|m| (m.name().version().to_string(), m.name().to_string()))
            .collect(),
        #[allow(unreachable_patterns)]
        other => anyhow::bail!("backend {} not compiled in", other.name()),
    };
    out.sort();
    Ok(out)
}

fn applied(db: &mut Db) -> Result<Vec<(String, String)>> {
    if !db.table_exists(TRACKING_TABLE)? {
        return Ok(Vec::new());
    }
    let at = db.text("applied_at");
    let rows: Vec<AppliedRow> = db.load(
        &format!("SELECT version, {at} AS applied_at FROM {TRACKING_TABLE} ORDER BY version"),
        &[],
    )?;
    Ok(rows
        .into_iter()
        .map(|r| (r.version, r.applied_at))
        .collect())
}

/// Every embedded migration with the time it was applied, if it was.
pub fn status(db: &mut Db) -> Result<Vec<MigrationState>> {
    let done = applied(db)?;
    Ok(embedded(db)?
        .into_iter()
        .map(|(version, name)| {
            let applied_at = done
                .iter()
                .find(|(v, _)| *v == version)
                .map(|(_, a)| a.clone());
            MigrationState {
                version,
                name,
                applied_at,
            }
        })
        .collect())
}

/// Names of migrations not applied yet.
pub fn pending(db: &mut Db) -> Result<Vec<String>> {
    Ok(status(db)?
        .into_iter()
        .filter(|m| m.applied_at.is_none())
        .map(|m| m.name)
        .collect())
}

/// Refuses to go on while migrations are pending (every command but `db migrate` and `demo`).
pub fn ensure_current(db: &mut Db) -> Result<()> {
    let p = pending(db)?;
    if !p.is_empty() {
        anyhow::bail!(
            "database `{}` has {} pending sigov migration(s) ({}); run `sigov db migrate` first",
            db.url().redacted(),
            p.len(),
            p.join(", ")
        );
    }
    Ok(())
}

/// Applies every pending migration; returns the names applied.
pub fn run_pending(db: &mut Db) -> Result<Vec<String>> {
    let create = match db.backend() {
        Backend::Mysql => format!(
            "CREATE TABLE IF NOT EXISTS {TRACKING_TABLE} (version VARCHAR(50) NOT NULL PRIMARY KEY, \
             name VARCHAR(191) NOT NULL, applied_at DATETIME(6) NOT NULL) \
             ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
        ),
        Backend::Sqlite => format!(
            "CREATE TABLE IF NOT EXISTS {TRACKING_TABLE} (version VARCHAR(50) NOT NULL PRIMARY KEY, \
             name VARCHAR(191) NOT NULL, applied_at DATETIME NOT NULL)"
        ),
        Backend::Postgres => format!(
            "CREATE TABLE IF NOT EXISTS {TRACKING_TABLE} (version VARCHAR(50) NOT NULL PRIMARY KEY, \
             name VARCHAR(191) NOT NULL, applied_at TIMESTAMP(6) NOT NULL)"
        ),
    };
    db.batch(&create)
        .context("cannot create the migration tracking table")?;
    let done: Vec<String> = applied(db)?.into_iter().map(|(v, _)| v).collect();
    let mut ran = Vec::new();
    for (version, name) in embedded(db)? {
        if done.contains(&version) {
            continue;
        }
        let now = crate::clock::format_datetime(chrono::Utc::now().naive_utc());
        // MySQL commits DDL implicitly; SQLite and PostgreSQL apply the migration and its
        // record atomically.
        let apply = |db: &mut Db| -> Result<()> {
            run_one(db, &version).with_context(|| format!("migration {name} failed"))?;
            db.execute(
                &format!(
                    "INSERT INTO {TRACKING_TABLE} (version, name, applied_at) VALUES (?, ?, {})",
                    db.mark(super::Mark::Stamp)
                ),
                &[
                    Val::from(version.as_str()),
                    Val::from(name.as_str()),
                    Val::Text(now.clone()),
                ],
            )?;
            Ok(())
        };
        match db.backend() {
            Backend::Sqlite | Backend::Postgres => db.transaction(apply)?,
            Backend::Mysql => apply(db)?,
        }
        log::info!("applied migration {name}");
        ran.push(name);
    }
    ensure_site_secret(db)?;
    Ok(ran)
}

/// The `sigov_meta` key of the site secret reply tokens are made with.
pub const SITE_SECRET: &str = "reply_secret";

/// Makes the site secret (32 bytes from the system's random source, as hex) when there is
/// none: here, with the account that migrates, so that the checks' account only reads
/// `sigov_meta`. A concurrent migration's secret, written first, is kept.
fn ensure_site_secret(db: &mut Db) -> Result<()> {
    let n = db
        .count(
            "SELECT COUNT(*) AS n FROM sigov_meta WHERE meta_key = ?",
            &[Val::from(SITE_SECRET)],
        )
        .context("cannot read sigov_meta")?;
    if n > 0 {
        return Ok(());
    }
    let secret = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    use super::schema::sigov_meta::dsl as m;
    use diesel::ExpressionMethods;
    let now = crate::clock::to_micros(chrono::Utc::now().naive_utc());
    let row = [(
        m::meta_key.eq(SITE_SECRET),
        m::meta_value.eq(secret.as_str()),
        m::updated_at.eq(now),
    )];
    // A concurrent migration's secret, written first, stays (the key is the primary key).
    super::dsl_insert_ignore!(db, m::sigov_meta, &row[..])
        .context("cannot record the site secret in sigov_meta")?;
    Ok(())
}

fn run_one(db: &mut Db, version: &str) -> Result<()> {
    match db.conn_mut() {
        #[cfg(feature = "mysql")]
        Conn::Mysql(c) => run_embedded::<diesel::mysql::Mysql>(&MYSQL, c, version),
        #[cfg(feature = "sqlite")]
        Conn::Sqlite(c) => run_embedded::<diesel::sqlite::Sqlite>(&SQLITE, c, version),
        #[cfg(feature = "postgres")]
        Conn::Pg(c) => run_embedded::<diesel::pg::Pg>(&POSTGRES, c, version),
    }
}

/// Runs the embedded migration `version` of `source` (one backend's set) on `conn`.
fn run_embedded<DB: diesel::backend::Backend>(
    source: &diesel_migrations::EmbeddedMigrations,
    conn: &mut dyn diesel::connection::BoxableConnection<DB>,
    version: &str,
) -> Result<()> {
    let all = MigrationSource::<DB>::migrations(source)
        .map_err(|e| anyhow!("embedded migrations: {e}"))?;
    let m = all
        .iter()
        .find(|m| m.name().version().to_string() == version)
        .ok_or_else(|| anyhow!("migration {version} not embedded"))?;
    m.run(conn)
        .map_err(|e| anyhow!("{}", crate::strings::one_line(&e.to_string())))
}

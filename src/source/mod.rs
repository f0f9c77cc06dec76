//! Read-only, set-based queries on the web application's tables, returning plain structs.
//! Dates are read as text so that zero or corrupt values become counted skips, not errors.

mod columns;
pub mod directory;
pub mod integrity;
pub mod pager;
pub mod seen;
pub mod teams;

pub use directory::Directory;
pub use integrity::{Finding, Probe};
pub use pager::{
    drop_candidates, materialize, page_rows, page_rows_positional, Pager, Scope, CAND,
};
pub use seen::seen;
pub use teams::{Team, TeamCache};

use crate::db::text::Lossy;
use crate::db::{Db, Mark, Val};
use crate::rules::Person;
use anyhow::{anyhow, Context, Result};
use diesel::sql_types::Text;
use diesel::QueryableByName;

/// The domain tables every check needs; a clear error names the first one missing, and tells a
/// table that cannot be read (a missing SELECT grant: MySQL hides such tables from
/// `information_schema`) from one that does not exist.
pub fn ensure_domain_tables(db: &mut Db, tables: &[&str]) -> Result<()> {
    for t in tables {
        if let Err(e) = db.count(&format!("SELECT COUNT(*) AS n FROM {t} WHERE 1 = 0"), &[]) {
            let msg = crate::strings::one_line(&e.to_string());
            // MySQL, SQLite, PostgreSQL.
            let missing = msg.contains("doesn't exist")
                || msg.contains("no such table")
                || (msg.contains("relation") && msg.contains("does not exist"));
            if missing {
                anyhow::bail!(
                    "table `{t}` is missing in `{}`: is this the SI-Gouvernance database? (`sigov demo` creates a demo one)",
                    db.url().redacted()
                );
            }
            // The grant hint only where the server says so: a lost connection or a timeout is
            // no missing grant.
            let hint = if msg.contains("denied") {
                format!(" (GRANT SELECT ON {t}; see the README's least-privilege grants)")
            } else {
                String::new()
            };
            anyhow::bail!(
                "cannot read table `{t}` in `{}`: {msg}{hint}",
                db.url().redacted()
            );
        }
    }
    Ok(())
}

pub use columns::{person_cols, project_cols, OptPerson, PersonSql, ProjectCols, ProjectSql};
pub(crate) use pager::IdRow;

/// The id of a project status by code (`EN_COURS`), if the row exists.
pub fn statut_id(db: &mut Db, code: &str) -> Result<Option<i64>> {
    let rows: Vec<IdRow> = db
        .load(
            "SELECT id FROM core_statutprojet WHERE nom = ?",
            &[code.into()],
        )
        .context("cannot read core_statutprojet")?;
    match rows.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.id)),
        many => anyhow::bail!(
            "core_statutprojet has {} rows named `{code}` (ids {}): the web application keeps this name unique; remove the duplicate before checking (sigov will not guess which one the projects use)",
            many.len(),
            many.iter().map(|r| r.id.to_string()).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// The id of the `EN_COURS` project status: without it no project can be checked.
pub fn en_cours(db: &mut Db) -> Result<i64> {
    statut_id(db, "EN_COURS")?.ok_or_else(|| {
        anyhow!("status `EN_COURS` not found in core_statutprojet: no project can be checked (the reference printed `❌ Statut EN_COURS non trouvé`)")
    })
}

#[derive(QueryableByName)]
struct PersonRow {
    #[diesel(embed)]
    person: OptPerson,
}

/// Every superuser, by id.
pub fn superusers(db: &mut Db) -> Result<Vec<Person>> {
    let rows: Vec<PersonRow> = db
        .load(
            &format!(
                "SELECT {} FROM core_utilisateur u WHERE {} ORDER BY u.id",
                person_cols(db, "u"),
                db.is_true("u.is_superuser")
            ),
            &[],
        )
        .context("cannot read superusers")?;
    Ok(rows.into_iter().filter_map(|p| p.person.person()).collect())
}

/// The active superusers when an escalation rung of `check` reaches them (one statement), else
/// none (no statement).
pub fn superusers_for(
    db: &mut Db,
    rules: &crate::rules::Rules,
    check: &str,
) -> Result<Vec<Person>> {
    if !rules.escalates_to_superusers(check) {
        return Ok(Vec::new());
    }
    let mut all = superusers(db)?;
    all.retain(Person::active);
    Ok(all)
}

/// The users `who` names: by username, else by id (a UUID, hyphenated or not).
pub fn people_named(db: &mut Db, who: &str) -> Result<Vec<Person>> {
    let by = |db: &mut Db, cond: String, v: String| -> Result<Vec<Person>> {
        let rows: Vec<PersonRow> = db
            .load(
                &format!(
                    "SELECT {} FROM core_utilisateur u WHERE {cond}",
                    person_cols(db, "u")
                ),
                &[Val::Text(v)],
            )
            .context("cannot read users")?;
        Ok(rows.into_iter().filter_map(|p| p.person.person()).collect())
    };
    let found = by(db, "u.username = ?".to_owned(), who.to_owned())?;
    let id = crate::rules::unhyphenate(who.trim());
    if !found.is_empty() || id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(found);
    }
    let cond = format!("u.id = {}", db.mark(Mark::Uuid));
    by(db, cond, id)
}

#[derive(QueryableByName)]
struct NameRow {
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    nom: String,
}

/// The name of project `id` (a UUID, hyphenated or not); `None` when there is no such project.
pub fn project_name(db: &mut Db, id: &str) -> Result<Option<String>> {
    let id = crate::rules::unhyphenate(id.trim());
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let rows: Vec<NameRow> = db
        .load(
            &format!(
                "SELECT p.nom AS nom FROM core_projet p WHERE p.id = {}",
                db.mark(Mark::Uuid)
            ),
            &[Val::Text(id)],
        )
        .context("cannot read projects")?;
    Ok(rows.into_iter().next().map(|r| r.nom))
}

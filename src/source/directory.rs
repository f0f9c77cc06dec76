//! The run's directory of the web application's small tables, read once, narrow, and held for
//! the checks of one run: projects with their status, stages, modules and users by id. A check
//! whose candidates come from a large table (the tasks) scans that table once, narrow, and
//! joins each candidate here instead of having the server look each one up by primary key
//! (four lookups a task: 0.15 s of the 0.35 s the task candidates took at 5,000 projects).
//! Held only when the database is small enough ([`super::TeamCache`]'s bound, the
//! `check.memory_projects` setting); a larger one is joined by the server, page by page.

use super::columns::{person_cols, project_cols, OptPerson, PersonSql, ProjectCols, ProjectSql};
use crate::db::text::Lossy;
use crate::db::{Db, IdKeys};
use crate::rules::{Person, ProjectInfo};
use anyhow::{Context, Result};
use diesel::sql_types::Text;
use std::collections::HashMap;
use std::rc::Rc;

/// A project as candidates carry it: its facts and its status code (`''` without a status).
#[derive(Debug)]
pub struct Project {
    pub info: ProjectInfo,
    pub statut: String,
}

/// A module: its project and its name.
pub type Module = (Rc<Project>, Rc<str>);

#[derive(diesel::Queryable)]
struct ProjectRow {
    proj: ProjectCols,
}
crate::db::reused::positional!(ProjectRow, (ProjectSql,));

/// A child row (stage, module): its id, its project's, and its name when asked.
#[derive(diesel::Queryable)]
struct ChildRow {
    #[diesel(deserialize_as = Lossy)]
    id: String,
    #[diesel(deserialize_as = Lossy)]
    projet_id: String,
    #[diesel(deserialize_as = Lossy)]
    nom: String,
}
crate::db::reused::positional!(ChildRow, (Text, Text, Text));

#[derive(diesel::Queryable)]
struct UserRow {
    person: OptPerson,
}
crate::db::reused::positional!(UserRow, (PersonSql,));

/// Projects, stages, modules and users by id (keys: [`IdKeys::key128`], so that a lookup matches
/// as the server's join would: MySQL compares ids without case or trailing spaces). Each table
/// is read the first time a check asks for it, in one statement.
#[derive(Debug, Default)]
pub struct Directory {
    projects: Option<HashMap<u128, Rc<Project>>>,
    /// Stage id → project.
    stages: Option<HashMap<u128, Rc<Project>>>,
    /// Module id → (project, module name).
    modules: Option<HashMap<u128, Module>>,
    users: Option<HashMap<u128, Rc<Person>>>,
}

impl Directory {
    /// Every project with its status (`LEFT JOIN`: a project without one has status `''`).
    pub fn projects(&mut self, db: &mut Db) -> Result<&HashMap<u128, Rc<Project>>> {
        if self.projects.is_none() {
            let rows: Vec<ProjectRow> = db
                .load_positional(
                    &format!(
                        "SELECT {} FROM core_projet p LEFT JOIN core_statutprojet s ON s.id = p.statut_id",
                        project_cols()
                    ),
                    &[],
                )
                .context("cannot read projects")?;
            let map = rows
                .into_iter()
                .map(|r| {
                    let key = db.id_keys().key128(&r.proj.projet_id);
                    let info = r.proj.info();
                    (
                        key,
                        Rc::new(Project {
                            info,
                            statut: r.proj.projet_statut,
                        }),
                    )
                })
                .collect();
            self.projects = Some(map);
        }
        Ok(self.projects.get_or_insert_with(HashMap::new))
    }

    /// Every stage's project (stage id → project), of the stages whose project exists.
    pub fn stages(&mut self, db: &mut Db) -> Result<&HashMap<u128, Rc<Project>>> {
        if self.stages.is_none() {
            let mut map = HashMap::new();
            self.children(db, "core_etapeprojet", "''", |k, p, _| {
                map.insert(k, p);
            })?;
            self.stages = Some(map);
        }
        Ok(self.stages.get_or_insert_with(HashMap::new))
    }

    /// Every module's project and name (module id → (project, name)), of the modules whose
    /// project exists.
    pub fn modules(&mut self, db: &mut Db) -> Result<&HashMap<u128, Module>> {
        if self.modules.is_none() {
            let mut map = HashMap::new();
            self.children(db, "core_moduleprojet", "x.nom", |k, p, nom| {
                map.insert(k, (p, Rc::from(nom)));
            })?;
            self.modules = Some(map);
        }
        Ok(self.modules.get_or_insert_with(HashMap::new))
    }

    /// The rows of `table` (its id, its project's, `nom`), each handed to `f` with its key and
    /// its project, read as they come.
    fn children(
        &mut self,
        db: &mut Db,
        table: &str,
        nom: &str,
        mut f: impl FnMut(u128, Rc<Project>, String),
    ) -> Result<()> {
        self.projects(db)?;
        let projects = self.projects.as_ref();
        let keys = db.id_keys();
        let sql = format!(
            "SELECT {id} AS id, {pid} AS projet_id, {nom} AS nom FROM {table} x \
             WHERE x.projet_id IS NOT NULL",
            id = db.text("x.id"),
            pid = db.text("x.projet_id"),
        );
        db.each_positional(&sql, &[], |r: ChildRow| {
            if let Some(p) = projects.and_then(|m| m.get(&keys.key128(&r.projet_id))) {
                f(keys.key128(&r.id), p.clone(), r.nom);
            }
        })
        .with_context(|| format!("cannot read {table}"))?;
        Ok(())
    }

    /// Every user that can be a recipient (an id and a username), by id.
    pub fn users(&mut self, db: &mut Db) -> Result<&HashMap<u128, Rc<Person>>> {
        if self.users.is_none() {
            let rows: Vec<UserRow> = db
                .load_positional(
                    &format!("SELECT {} FROM core_utilisateur u", person_cols(db, "u")),
                    &[],
                )
                .context("cannot read users")?;
            let map = rows
                .into_iter()
                .filter_map(|r| r.person.person())
                .map(|p| (db.id_keys().key128(&p.id), Rc::new(p)))
                .collect();
            self.users = Some(map);
        }
        Ok(self.users.get_or_insert_with(HashMap::new))
    }

    /// The project of stage `id` (`module`: of module `id`, with the module's name), when
    /// both were read and exist: as the server's inner joins, a task whose stage or project
    /// does not exist has none.
    pub fn parent(
        &self,
        keys: IdKeys,
        module: bool,
        id: &str,
    ) -> Option<(Rc<Project>, Option<Rc<str>>)> {
        let key = keys.key128(id);
        if module {
            let (p, n) = self.modules.as_ref()?.get(&key)?;
            Some((p.clone(), Some(n.clone())))
        } else {
            Some((self.stages.as_ref()?.get(&key)?.clone(), None))
        }
    }

    /// User `id`, when users were read and it exists.
    pub fn user(&self, keys: IdKeys, id: &str) -> Option<Rc<Person>> {
        self.users.as_ref()?.get(&keys.key128(id)).cloned()
    }
}

//! Project teams, read once per run: a cache of active teams by project that the checks of one
//! run share (`check all` reads each team once for its five checks), bounded in size (see
//! [`CACHE_PROJECTS`]).

use super::columns::{person_cols, OptPerson};
use crate::db::text::Lossy;
use crate::db::{Db, Mark, Val};
use crate::rules::{Member, Person};
use anyhow::{Context, Result};
use diesel::sql_types::{BigInt, Text};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// A project's active team: (responsable principal?, member), in affectation-id order.
pub type Team = Rc<Vec<Member>>;

/// Projects whose teams the cache holds at most: with no more projects than that in the
/// database, every team is read once for the run (about 3.5 active members a project and some
/// 280 bytes a member: 5 MB at 5,000 projects). With more, it holds the teams of the page at
/// hand only, read a page at a time: at 50,000 projects a page's projects are mostly new to
/// the cache anyway (a task page spans some 1,800 of them), so holding more would cost
/// memory for few hits.
pub const CACHE_PROJECTS: usize = 10_000;

/// Projects per team read (bound values per statement).
const READ_PROJECTS: usize = 1_000;

/// A member of an active team, read by position (the columns of [`TeamCache::read`], in order):
/// by name, the person's columns, last, were each looked up past all the others, row after row.
#[derive(diesel::Queryable)]
struct MemberRow {
    #[diesel(deserialize_as = Lossy)]
    projet_id: String,
    resp: i64,
    person: OptPerson,
}
crate::db::reused::positional!(MemberRow, (Text, BigInt, super::columns::PersonSql));

/// An active affectation, read by position (the columns of [`TeamCache::read_all`]).
#[derive(diesel::Queryable)]
struct Affectation {
    #[diesel(deserialize_as = Lossy)]
    projet_id: String,
    resp: i64,
    #[diesel(deserialize_as = crate::db::text::LossyOpt)]
    utilisateur_id: Option<String>,
}
crate::db::reused::positional!(
    Affectation,
    (Text, BigInt, diesel::sql_types::Nullable<Text>)
);

/// Active teams (`date_fin IS NULL`) by project, read on demand and kept for the run.
#[derive(Debug)]
pub struct TeamCache {
    teams: HashMap<String, Team>,
    cap: usize,
    empty: Team,
    /// Every project's team is held: the database had no more projects than the cache holds,
    /// so the first load read all active teams in one statement (`None`: not decided yet).
    complete: Option<bool>,
    /// Statements sent to read teams (for tests and the debug log).
    pub reads: u64,
    /// Projects, stages, modules and users, held when every team is (see [`TeamCache::held`]).
    pub dir: super::directory::Directory,
}

impl Default for TeamCache {
    fn default() -> Self {
        TeamCache::with_capacity(CACHE_PROJECTS)
    }
}

impl TeamCache {
    /// A cache of at most `cap` projects' teams.
    pub fn with_capacity(cap: usize) -> TeamCache {
        TeamCache {
            teams: HashMap::new(),
            cap,
            empty: Rc::new(Vec::new()),
            complete: None,
            reads: 0,
            dir: super::directory::Directory::default(),
        }
    }

    /// Projects held (with at least one active member, once every team is held).
    pub fn len(&self) -> usize {
        self.teams.len()
    }

    pub fn is_empty(&self) -> bool {
        self.teams.is_empty()
    }

    /// Makes sure the teams of `projects` (a page's) are held. The first time, when the
    /// database has no more projects than the cache holds, every active team is read in one
    /// statement (a scan of the affectations costs less than thousands of lookups by project)
    /// and nothing is read again. Otherwise the cache keeps the teams of `projects` it holds,
    /// drops the others, and reads the rest, one statement per [`READ_PROJECTS`] projects
    /// (none when it holds them all).
    pub fn load<'p>(
        &mut self,
        db: &mut Db,
        projects: impl IntoIterator<Item = &'p str>,
    ) -> Result<()> {
        if self.held(db)? {
            return Ok(());
        }
        // Only the page's teams: those of earlier pages that it needs too are kept.
        let mut page: Vec<&str> = Vec::new();
        let mut asked = HashSet::new();
        for p in projects {
            if asked.insert(db.id_key(p)) {
                page.push(p);
            }
        }
        self.teams.retain(|k, _| asked.contains(k));
        let missing: Vec<&str> = page
            .into_iter()
            .filter(|p| !self.teams.contains_key(&db.id_key(p)))
            .collect();
        for part in missing.chunks(READ_PROJECTS) {
            // Projects without an active member are held too (as empty teams).
            for p in part {
                self.teams.insert(db.id_key(p), self.empty.clone());
            }
            let marks = db.marks(Mark::Uuid, part.len());
            let vals: Vec<Val> = part.iter().map(|p| Val::Text((*p).to_owned())).collect();
            self.read(db, &format!("AND a.projet_id IN ({marks})"), &vals)?;
        }
        Ok(())
    }

    /// Whether the database is small enough for the run to hold every team, and the
    /// [`super::directory::Directory`] its checks join candidates in (no more projects than the cache's
    /// bound). Decided once, by counting the projects; when it is, every active team is read
    /// then: the affectations in one narrow statement, their users from the directory.
    pub fn held(&mut self, db: &mut Db) -> Result<bool> {
        if let Some(c) = self.complete {
            return Ok(c);
        }
        let n = db
            .count("SELECT COUNT(*) AS n FROM core_projet", &[])
            .context("cannot count projects")?;
        let complete = self.cap > 0 && usize::try_from(n).is_ok_and(|n| n <= self.cap);
        if complete {
            self.read_all(db)?;
        }
        self.complete = Some(complete);
        Ok(complete)
    }

    /// Every active team, joined here: the affectations read narrow, in id order, each
    /// member found among the directory's users (the server's inner join: an affectation
    /// whose user does not exist names nobody).
    fn read_all(&mut self, db: &mut Db) -> Result<()> {
        let sql = format!(
            "SELECT {pid} AS projet_id, {resp} AS resp, {uid} AS utilisateur_id \
             FROM core_affectation a WHERE a.date_fin IS NULL ORDER BY a.id",
            pid = db.text("a.projet_id"),
            resp = db.flag("a.est_responsable_principal"),
            uid = db.text("a.utilisateur_id"),
        );
        let rows: Vec<Affectation> = db
            .load_positional(&sql, &[])
            .context("cannot read project teams")?;
        self.reads += 1;
        let users = self.dir.users(db)?;
        let mut read: HashMap<String, Vec<Member>> = HashMap::new();
        for a in rows {
            let Some(uid) = a.utilisateur_id else {
                continue;
            };
            if let Some(p) = users.get(&db.id_keys().key128(&uid)) {
                read.entry(db.id_key(&a.projet_id))
                    .or_default()
                    .push((a.resp != 0, p.clone()));
            }
        }
        self.teams
            .extend(read.into_iter().map(|(k, team)| (k, Rc::new(team))));
        Ok(())
    }

    /// Reads the active teams that `filter` (on the affectations `a`) keeps, and holds them.
    /// In affectation-id order only: the rows are grouped by project here, each team keeping
    /// that order. Sorting by project too made MariaDB sort every row on its utf8mb4 key: 0.21 s
    /// against 0.10 s in id order, the primary key's own, at 5,000 projects.
    fn read(&mut self, db: &mut Db, filter: &str, vals: &[Val]) -> Result<()> {
        let sql = format!(
            "SELECT a.projet_id AS projet_id, {resp} AS resp, {pc} \
             FROM core_affectation a {j} core_utilisateur u ON u.id = a.utilisateur_id \
             WHERE a.date_fin IS NULL {filter} ORDER BY a.id",
            resp = db.flag("a.est_responsable_principal"),
            pc = person_cols(db, "u"),
            j = db.ordered_join(),
        );
        let rows: Vec<MemberRow> = db
            .load_positional(&sql, vals)
            .context("cannot read project teams")?;
        self.reads += 1;
        let mut read: HashMap<String, Vec<Member>> = HashMap::new();
        // One copy of each user, however many teams they are in (3.5 teams a user in the
        // reference's data).
        let mut users: HashMap<String, Rc<Person>> = HashMap::new();
        for m in rows {
            if let Some(p) = m.person.person() {
                let p = users
                    .entry(p.id.clone())
                    .or_insert_with(|| Rc::new(p))
                    .clone();
                read.entry(db.id_key(&m.projet_id))
                    .or_default()
                    .push((m.resp != 0, p));
            }
        }
        self.teams
            .extend(read.into_iter().map(|(k, team)| (k, Rc::new(team))));
        Ok(())
    }

    /// The team of `project` (empty when it has none or was not loaded).
    pub fn team(&self, db: &Db, project: &str) -> Team {
        self.team_of(db.id_keys(), project)
    }

    /// [`TeamCache::team`] without the connection.
    pub fn team_of(&self, keys: crate::db::IdKeys, project: &str) -> Team {
        self.teams
            .get(&keys.key(project))
            .cloned()
            .unwrap_or_else(|| self.empty.clone())
    }

    /// The responsable principal of `project` (the first in affectation-id order).
    pub fn responsable(&self, db: &Db, project: &str) -> Option<Person> {
        crate::rules::responsable(&self.team(db, project)).cloned()
    }
}

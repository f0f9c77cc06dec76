//! Throwaway databases per backend and a small builder around the real binary.

use sigov::db::{Backend, Db, Val};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub const FIXTURE_SCHEMA: &str = "../shared/fixtures/si-gouvernance-mysql.sql";

/// Runs the body once per backend: `mod name { fn sqlite(); fn mysql(); }`.
#[macro_export]
macro_rules! backend_test {
    ($name:ident, |$t:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            fn sqlite() {
                let $t = $crate::common::TestDb::new(sigov::db::Backend::Sqlite);
                $body
            }
            #[test]
            fn mysql() {
                let $t = $crate::common::TestDb::new(sigov::db::Backend::Mysql);
                $body
            }
        }
    };
}

/// The MySQL server under test. The test command always provides one; a missing one fails.
pub fn mysql_server() -> String {
    match std::env::var("SIGOV_TEST_MYSQL_URL") {
        Ok(u) if !u.is_empty() => u.trim_end_matches('/').to_owned(),
        _ => panic!(
            "SIGOV_TEST_MYSQL_URL is not set: run the suite with `bash scripts/test-it.sh`, which starts a throwaway MariaDB"
        ),
    }
}

pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    pub name: String,
    dir: Option<PathBuf>,
}

impl TestDb {
    /// An empty database (no tables).
    pub fn empty(backend: Backend) -> TestDb {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("sigov_t_{}_{n}", std::process::id());
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(&name);
                std::fs::create_dir_all(&dir).expect("temp dir");
                let url = format!("sqlite://{}", dir.join("test.db").display());
                TestDb {
                    backend,
                    url,
                    name,
                    dir: Some(dir),
                }
            }
            Backend::Mysql => {
                let server = mysql_server();
                let mut db = Db::connect(&format!("{server}/mysql"))
                    .expect("connect to the MySQL server under test");
                db.batch(&format!(
                    "DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                ))
                .expect("create test database");
                TestDb {
                    backend,
                    url: format!("{server}/{name}"),
                    name,
                    dir: None,
                }
            }
        }
    }

    /// A database with the SI-Gouvernance schema (MySQL: the real fixture) and sigov migrated.
    pub fn new(backend: Backend) -> TestDb {
        let t = TestDb::empty(backend);
        let mut db = t.db();
        match backend {
            Backend::Mysql => {
                let sql = std::fs::read_to_string(FIXTURE_SCHEMA).expect("fixture schema");
                db.batch(&sql).expect("load fixture schema");
            }
            Backend::Sqlite => sigov::demo::create_domain_schema(&mut db).expect("domain schema"),
        }
        sigov::db::migrate::run_pending(&mut db).expect("migrate");
        t
    }

    pub fn db(&self) -> Db {
        Db::connect(&self.url).expect("connect to test database")
    }

    pub fn sigov(&self) -> Sigov {
        Sigov::new().env("SIGOV_DATABASE_URL", &self.url)
    }

    /// `sigov check deadlines` as of 2026-11-22 10:00 UTC; the JSON report (exit 0 required).
    pub fn check(&self, profile: &str, extra: &[&str]) -> serde_json::Value {
        self.sigov()
            .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
            .args([
                "check",
                "deadlines",
                "--profile",
                profile,
                "--date",
                "2026-11-22",
                "--format",
                "json",
            ])
            .args(extra)
            .run()
            .ok()
            .json()
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.db().count(sql, &[]).expect(sql)
    }

    pub fn exec(&self, sql: &str) {
        self.db().batch(sql).expect(sql);
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self.backend {
            Backend::Sqlite => {
                if let Some(d) = &self.dir {
                    let _ = std::fs::remove_dir_all(d);
                }
            }
            Backend::Mysql => {
                if let Ok(mut db) = Db::connect(&format!("{}/mysql", mysql_server())) {
                    let _ = db.batch(&format!("DROP DATABASE IF EXISTS {}", self.name));
                }
            }
        }
    }
}

/// The real binary, with a clean environment of sigov variables.
pub struct Sigov {
    cmd: Command,
}

impl Sigov {
    pub fn new() -> Sigov {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sigov"));
        for (k, _) in std::env::vars() {
            if k.starts_with("SIGOV_") || k == "RUST_LOG" {
                cmd.env_remove(k);
            }
        }
        cmd.env("SIGOV_CONFIG", "/dev/null").env("NO_COLOR", "1");
        Sigov { cmd }
    }
    pub fn env(mut self, k: &str, v: &str) -> Sigov {
        self.cmd.env(k, v);
        self
    }
    pub fn args<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(mut self, a: I) -> Sigov {
        self.cmd.args(a);
        self
    }
    pub fn run(mut self) -> Run {
        let out: Output = self.cmd.output().expect("run sigov");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "sigov failed: {self:#?}");
        self
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {self:#?}"))
    }
    /// The one error line on stderr.
    pub fn error_line(&self) -> &str {
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.starts_with("sigov: "))
            .collect();
        assert_eq!(lines.len(), 1, "expected exactly one error line: {self:#?}");
        lines[0]
    }
}

/// Minimal hand-built data: statuses, three superusers/users, helpers to add projects.
pub struct Data {
    db: Db,
}

pub const ADMIN: &str = "a0000000000000000000000000000001";
pub const RESP: &str = "b0000000000000000000000000000002";
pub const MEMBER: &str = "c0000000000000000000000000000003";
pub const NOMAIL: &str = "d0000000000000000000000000000004";
pub const INACTIVE: &str = "e0000000000000000000000000000005";

impl Data {
    pub fn new(t: &TestDb) -> Data {
        let mut d = Data { db: t.db() };
        for (i, code) in ["IDEE", "PLANIFIE", "EN_COURS", "TERMINE"]
            .iter()
            .enumerate()
        {
            d.exec(
                "INSERT INTO core_statutprojet (id, nom, description, couleur_affichage, ordre_affichage) VALUES (?, ?, '', '#000000', ?)",
                vec![Val::Int(i as i64 + 10), (*code).into(), Val::Int(i as i64)],
            );
        }
        d.user(
            ADMIN,
            "admin",
            "Alice",
            "Admin",
            "admin@sigov.test",
            true,
            true,
        );
        d.user(RESP, "resp", "Rémi", "Resp", "resp@sigov.test", false, true);
        d.user(
            MEMBER,
            "membre",
            "Zoé",
            "L'Hôte & <Fils>",
            "membre@sigov.test",
            false,
            true,
        );
        d.user(NOMAIL, "sansmail", "Sans", "Mail", "", false, true);
        d.user(
            INACTIVE,
            "inactif",
            "In",
            "Actif",
            "inactif@sigov.test",
            false,
            false,
        );
        d
    }

    pub fn exec(&mut self, sql: &str, vals: Vec<Val>) {
        self.db
            .execute(sql, &vals)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    #[allow(clippy::too_many_arguments)]
    pub fn user(
        &mut self,
        id: &str,
        username: &str,
        first: &str,
        last: &str,
        email: &str,
        sup: bool,
        active: bool,
    ) {
        self.exec(
            "INSERT INTO core_utilisateur (id, password, is_superuser, username, first_name, last_name, email, is_staff, \
             is_active, date_joined, telephone, taux_horaire, statut_actif, date_creation, tentatives_connexion_echouees) \
             VALUES (?, '!', ?, ?, ?, ?, ?, 0, ?, '2025-01-01 00:00:00', '', 0, 1, '2025-01-01 00:00:00', 0)",
            vec![id.into(), Val::Int(sup as i64), username.into(), first.into(), last.into(), email.into(), Val::Int(active as i64)],
        );
    }

    /// A project in EN_COURS (status id 12) created by ADMIN; `date_fin` as SQL text or None.
    pub fn project(&mut self, id: &str, nom: &str, date_fin: Option<&str>) {
        self.project_with(id, nom, date_fin, 12, ADMIN);
    }

    pub fn project_with(
        &mut self,
        id: &str,
        nom: &str,
        date_fin: Option<&str>,
        statut: i64,
        createur: &str,
    ) {
        self.exec(
            "INSERT INTO core_projet (id, nom, description, client, budget_previsionnel, devise, priorite, date_creation, \
             date_modification, commentaires, createur_id, statut_id, notifications_admin_activees, date_fin) \
             VALUES (?, ?, '', 'Client « X »', 1000, 'EUR', 'HAUTE', '2025-06-01 08:00:00', '2025-06-01 08:00:00', '', ?, ?, 0, ?)",
            vec![id.into(), nom.into(), createur.into(), Val::Int(statut), Val::OptText(date_fin.map(str::to_owned))],
        );
    }

    /// An active affectation (`resp`: responsable principal).
    pub fn member(&mut self, aff_id: &str, projet: &str, user: &str, resp: bool) {
        self.exec(
            "INSERT INTO core_affectation (id, est_responsable_principal, pourcentage_temps, date_debut, date_fin, projet_id, \
             utilisateur_id, notes) VALUES (?, ?, 100, '2025-06-01 08:00:00', NULL, ?, ?, '')",
            vec![aff_id.into(), Val::Int(resp as i64), projet.into(), user.into()],
        );
    }
}

/// Alert rows as (type, recipient username, titre, message) sorted.
pub fn alerts(t: &TestDb) -> Vec<(String, String, String, String)> {
    #[derive(diesel::QueryableByName)]
    struct R {
        #[diesel(sql_type = diesel::sql_types::Text)]
        t: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        u: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        ti: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        m: String,
    }
    let mut rows: Vec<R> = t
        .db()
        .load(
            "SELECT a.type_alerte AS t, u.username AS u, a.titre AS ti, a.message AS m FROM core_alerteprojet a \
             JOIN core_utilisateur u ON u.id = a.destinataire_id",
            &[],
        )
        .expect("alerts");
    rows.sort_by(|a, b| (&a.t, &a.u, &a.ti).cmp(&(&b.t, &b.u, &b.ti)));
    rows.into_iter().map(|r| (r.t, r.u, r.ti, r.m)).collect()
}

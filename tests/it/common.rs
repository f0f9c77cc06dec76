//! Throwaway databases per backend and a small builder around the real binary.

use sigov::db::{Backend, Db, Val};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A number no other caller in this test binary gets.
pub fn unique() -> u32 {
    COUNTER.fetch_add(1, Ordering::SeqCst)
}

/// A fresh directory under the system's temporary directory (`sigov-LABEL-…`), removed when
/// the value is dropped.
pub fn tempdir(label: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("sigov-{label}-"))
        .tempdir()
        .expect("a temporary directory")
}

pub const FIXTURE_SCHEMA: &str = "tests/fixtures/si-gouvernance-mysql.sql";
pub const FIXTURE_SCHEMA_PG: &str = "tests/fixtures/si-gouvernance-postgres.sql";

/// One test body on every backend, each a test of its own (`mod name { fn sqlite(); fn
/// mysql(); fn postgres(); }`), the one way the suite runs a behaviour per backend:
/// - `backend_test!(name, |t| { … })`: `t` a throwaway database with the fixture schema;
/// - `backend_test!(name, fn path)`: `path(backend)`, for bodies that make their own database;
/// - `backend_test!(name, fn path, [mysql: Mysql, postgres: Postgres])`: on the backends named.
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
            #[test]
            fn postgres() {
                let $t = $crate::common::TestDb::new(sigov::db::Backend::Postgres);
                $body
            }
        }
    };
    ($name:ident, fn $body:path) => {
        $crate::backend_test!($name, fn $body, [sqlite: Sqlite, mysql: Mysql, postgres: Postgres]);
    };
    ($name:ident, fn $body:path, [$($test:ident: $backend:ident),+ $(,)?]) => {
        mod $name {
            $(
                #[test]
                fn $test() {
                    $body(sigov::db::Backend::$backend);
                }
            )+
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

/// The PostgreSQL server under test (`postgres://user:pass@host:port/`, no database). The test
/// command always starts one; a missing one fails.
pub fn pg_server() -> String {
    match std::env::var("SIGOV_TEST_PG_URL") {
        Ok(u) if !u.is_empty() => u.trim_end_matches('/').to_owned(),
        _ => panic!(
            "SIGOV_TEST_PG_URL is not set: run the suite with `bash scripts/test-it.sh`, which starts a throwaway PostgreSQL"
        ),
    }
}

pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    pub name: String,
    /// The SQLite file's directory, removed with the value.
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// An empty database (no tables).
    pub fn empty(backend: Backend) -> TestDb {
        let n = unique();
        let name = format!("sigov_t_{}_{n}", std::process::id());
        match backend {
            Backend::Sqlite => {
                let dir = tempdir("sqlite");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                // An empty database is an existing file (sigov refuses a missing one).
                Db::create(&url).expect("create the SQLite file");
                TestDb {
                    backend,
                    url,
                    name,
                    _dir: Some(dir),
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
                    _dir: None,
                }
            }
            Backend::Postgres => {
                let server = pg_server();
                let mut db = Db::connect(&format!("{server}/postgres"))
                    .expect("connect to the PostgreSQL server under test");
                // The cluster is C.UTF-8, as the reference's: exact comparisons.
                // One statement a call: neither runs inside a transaction block.
                db.batch(&format!("DROP DATABASE IF EXISTS {name}"))
                    .expect("drop test database");
                db.batch(&format!(
                    "CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0"
                ))
                .expect("create test database");
                TestDb {
                    backend,
                    url: format!("{server}/{name}"),
                    name,
                    _dir: None,
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
            Backend::Postgres => {
                let sql = std::fs::read_to_string(FIXTURE_SCHEMA_PG).expect("fixture schema");
                db.batch(&sql).expect("load fixture schema");
                // The dump empties search_path for its connection: a fresh one.
                db = t.db();
            }
        }
        sigov::db::migrate::run_pending(&mut db).expect("migrate");
        t
    }

    /// An empty database filled by `sigov demo --scale SCALE --date 2026-11-22 --no-check`.
    pub fn demo(backend: Backend, scale: u32) -> TestDb {
        let demo = TestDb::empty(backend);
        Sigov::new()
            .args(["demo", "--db", &demo.url, "--scale", &scale.to_string()])
            .args(["--date", "2026-11-22", "--no-check"])
            .run()
            .ok();
        demo
    }

    pub fn db(&self) -> Db {
        Db::create(&self.url).expect("connect to test database")
    }

    pub fn sigov(&self) -> Sigov {
        Sigov::new().env("SIGOV_DATABASE_URL", &self.url)
    }

    /// `sigov check deadlines` as of 2026-11-22 10:00 UTC; the JSON report (exit 0 required).
    pub fn check(&self, profile: &str, extra: &[&str]) -> serde_json::Value {
        let (code, v) = self.run_check("deadlines", profile, extra);
        assert_eq!(code, 0, "{v:#}");
        v
    }

    /// `sigov check all --profile reference --format json` at `now` (RFC 3339, UTC); the run.
    pub fn check_all(&self, now: &str) -> Run {
        self.sigov()
            .env("SIGOV_NOW", now)
            .args(["--format", "json", "check", "all", "--profile", "reference"])
            .run()
    }

    /// `sigov check WHICH` as of 2026-11-22 10:00 UTC with `profile`; the JSON output and exit
    /// code.
    pub fn run_check(
        &self,
        which: &str,
        profile: &str,
        extra: &[&str],
    ) -> (i32, serde_json::Value) {
        let r = self
            .sigov()
            .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
            .args([
                "check",
                which,
                "--profile",
                profile,
                "--date",
                "2026-11-22",
                "--format",
                "json",
            ])
            .args(extra)
            .run();
        let v = r.json();
        (r.code, v)
    }

    /// Like `run_check`, requiring success.
    pub fn check_ok(&self, which: &str, profile: &str) -> serde_json::Value {
        let (code, v) = self.run_check(which, profile, &[]);
        assert_eq!(code, 0, "{v:#}");
        v
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
            // Its directory goes with the value.
            Backend::Sqlite => {}
            Backend::Mysql => {
                if let Ok(mut db) = Db::connect(&format!("{}/mysql", mysql_server())) {
                    let _ = db.batch(&format!("DROP DATABASE IF EXISTS {}", self.name));
                }
            }
            Backend::Postgres => {
                if let Ok(mut db) = Db::connect(&format!("{}/postgres", pg_server())) {
                    let _ = db.batch(&format!(
                        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                        self.name
                    ));
                }
            }
        }
    }
}

/// The real binary, with a clean environment of sigov variables.
pub struct Sigov {
    pub cmd: Command,
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
    pub fn arg_path(mut self, p: &std::path::Path) -> Sigov {
        self.cmd.arg(p);
        self
    }
    pub fn args<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(mut self, a: I) -> Sigov {
        self.cmd.args(a);
        self
    }
    /// Starts the binary without waiting (stdout and stderr captured); see [`Running::wait`].
    pub fn spawn(mut self) -> Running {
        use std::process::Stdio;
        let child = self
            .cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sigov");
        Running { child }
    }
    /// Runs the binary under a Python parent that reads its peak resident set from the kernel
    /// (`getrusage(RUSAGE_CHILDREN)`: this one child only); stdout is discarded. The exit code
    /// and the peak in MB.
    pub fn peak_rss_mb(self) -> (i32, f64) {
        let script = "import resource, subprocess, sys\n\
                      p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n\
                      print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n";
        let mut py = Command::new(crate::relay::python());
        py.arg("-c").arg(script).arg(self.cmd.get_program());
        py.args(self.cmd.get_args());
        for (k, v) in self.cmd.get_envs() {
            match v {
                Some(v) => py.env(k, v),
                None => py.env_remove(k),
            };
        }
        let out = py.output().expect("run sigov under python3");
        let text = String::from_utf8_lossy(&out.stdout);
        let mut it = text.split_whitespace();
        let code: i32 = it.next().and_then(|c| c.parse().ok()).unwrap_or_else(|| {
            panic!(
                "no exit code: {text} {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let kb: f64 = it.next().and_then(|c| c.parse().ok()).expect("ru_maxrss");
        (code, kb / 1024.0)
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

/// A `sigov` process started by [`Sigov::spawn`].
pub struct Running {
    pub child: std::process::Child,
}

impl Running {
    pub fn wait(self) -> Run {
        let out = self.child.wait_with_output().expect("wait for sigov");
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
        for (i, code) in [
            "PLANIFICATION",
            "CONCEPTION",
            "DEVELOPPEMENT",
            "TESTS",
            "DEPLOIEMENT",
            "MAINTENANCE",
        ]
        .iter()
        .enumerate()
        {
            d.exec(
                "INSERT INTO core_typeetape (id, nom, description, ordre_standard, couleur, icone_emoji, date_creation) \
                 VALUES (?, ?, '', ?, '#000000', '', '2025-01-01 00:00:00')",
                vec![Val::Int(i as i64 + 1), (*code).into(), Val::Int(i as i64 + 1)],
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

    /// Runs `sql` with `vals`. PostgreSQL types every bound value and casts none of them into
    /// a uuid, boolean or timestamptz column: there the values are written into the statement
    /// as quoted literals, which it reads as the column's type (test data only).
    pub fn exec(&mut self, sql: &str, vals: Vec<Val>) {
        if self.db.backend() == Backend::Postgres {
            let sql = inline(sql, &vals);
            self.db.batch(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
            return;
        }
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
             VALUES (?, '!', ?, ?, ?, ?, ?, '0', ?, '2025-01-01 00:00:00', '', 0, '1', '2025-01-01 00:00:00', 0)",
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
             VALUES (?, ?, '', 'Client « X »', 1000, 'EUR', 'HAUTE', '2025-06-01 08:00:00', '2025-06-01 08:00:00', '', ?, ?, '0', ?)",
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

/// `sql` with each `?` replaced by its value of `vals` as a quoted literal (NULL for none).
pub fn inline(sql: &str, vals: &[Val]) -> String {
    let lit = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let mut vals = vals.iter();
    let mut out = String::with_capacity(sql.len());
    for (i, part) in sql.split('?').enumerate() {
        if i > 0 {
            out.push_str(&match vals.next().expect("a value for each placeholder") {
                Val::Text(s) => lit(s),
                Val::OptText(Some(s)) => lit(s),
                Val::Int(n) => lit(&n.to_string()),
                Val::OptInt(Some(n)) => lit(&n.to_string()),
                Val::OptText(None) | Val::OptInt(None) => "NULL".to_owned(),
                Val::Bytes(b) => format!(
                    "'\\x{}'::bytea",
                    b.iter().map(|x| format!("{x:02x}")).collect::<String>()
                ),
            });
        }
        out.push_str(part);
    }
    out
}

/// Stage type ids as `Data::new` creates them.
pub const DEVELOPPEMENT: i64 = 3;
pub const TERMINE: i64 = 13;

impl Data {
    /// A stage of `projet` (`statut` A_VENIR / EN_COURS / TERMINEE) planned to end on `fin`.
    pub fn stage(&mut self, id: &str, projet: &str, type_id: i64, statut: &str, fin: Option<&str>) {
        self.exec(
            "INSERT INTO core_etapeprojet (id, ordre, statut, date_debut_prevue, date_fin_prevue, date_debut_reelle, \
             date_fin_reelle, date_creation, date_modification, commentaires, createur_id, projet_id, type_etape_id) \
             VALUES (?, ?, ?, NULL, ?, NULL, NULL, '2025-06-01 08:00:00', '2025-06-01 08:00:00', '', ?, ?, ?)",
            vec![id.into(), Val::Int(type_id), statut.into(), Val::OptText(fin.map(str::to_owned)), ADMIN.into(), projet.into(), Val::Int(type_id)],
        );
    }

    /// A stage task.
    pub fn task(
        &mut self,
        id: &str,
        etape: &str,
        nom: &str,
        statut: &str,
        fin: &str,
        assignee: Option<&str>,
    ) {
        self.exec(
            "INSERT INTO core_tacheetape (id, nom, description, duree_estimee, date_debut, date_fin, statut, priorite, \
             date_creation, date_modification, commentaires, raison_blocage, createur_id, etape_id, responsable_id, \
             date_debut_reelle, date_fin_reelle, etiquettes, pourcentage_completion, temps_passe, statut_personnalise_id, \
             ajoutee_apres_cloture, justification_ajout_tardif, cas_test_id) \
             VALUES (?, ?, '', NULL, NULL, ?, ?, 'HAUTE', '2025-06-01 08:00:00', '2025-06-01 08:00:00', '', '', ?, ?, ?, \
             NULL, NULL, '', 0, NULL, NULL, '0', '', NULL)",
            vec![id.into(), nom.into(), fin.into(), statut.into(), ADMIN.into(), etape.into(), Val::OptText(assignee.map(str::to_owned))],
        );
    }

    /// A module of `projet` created at stage `etape`, with one task.
    #[allow(clippy::too_many_arguments)]
    pub fn module_task(
        &mut self,
        module_id: i64,
        projet: &str,
        etape: &str,
        module: &str,
        task_id: i64,
        nom: &str,
        statut: &str,
        fin: &str,
        assignee: Option<&str>,
    ) {
        self.exec(
            "INSERT INTO core_moduleprojet (id, nom, description, date_creation, date_modification, couleur, icone_emoji, \
             justification_creation_tardive, createur_id, etape_creation_id, projet_id, est_cloture, date_cloture, cloture_par_id) \
             VALUES (?, ?, '', '2025-06-01 08:00:00', '2025-06-01 08:00:00', '#000000', '', '', ?, ?, ?, '0', NULL, NULL)",
            vec![Val::Int(module_id), module.into(), ADMIN.into(), etape.into(), projet.into()],
        );
        self.exec(
            "INSERT INTO core_tachemodule (id, nom, description, duree_estimee, date_debut, date_fin, statut, date_creation, \
             date_modification, commentaires, raison_blocage, createur_id, etape_execution_id, module_id, responsable_id, \
             est_privee, pourcentage_completion) \
             VALUES (?, ?, '', NULL, NULL, ?, ?, '2025-06-01 08:00:00', '2025-06-01 08:00:00', '', '', ?, NULL, ?, ?, '0', 0)",
            vec![Val::Int(task_id), nom.into(), fin.into(), statut.into(), ADMIN.into(), Val::Int(module_id), Val::OptText(assignee.map(str::to_owned))],
        );
    }

    /// Sets the planned budget (decimal text) of a project.
    pub fn budget(&mut self, projet: &str, amount: &str) {
        self.exec(
            "UPDATE core_projet SET budget_previsionnel = ? WHERE id = ?",
            vec![amount.into(), projet.into()],
        );
    }

    /// A budget line (decimal text).
    pub fn line(&mut self, id: &str, projet: &str, montant: &str) {
        self.exec(
            "INSERT INTO core_lignebudget (id, type_ligne, montant, description, date_ajout, ajoute_par_id, projet_id) \
             VALUES (?, 'SERVICE', ?, '', '2026-01-01 08:00:00', ?, ?)",
            vec![id.into(), montant.into(), ADMIN.into(), projet.into()],
        );
    }

    /// A maintenance contract.
    pub fn contract(&mut self, id: &str, projet: &str, typ: &str, debut: &str, fin: &str) {
        self.exec(
            "INSERT INTO core_contratgarantie (id, type_garantie, date_debut, date_fin, sla_heures, description_couverture, \
             exclusions, date_creation, cree_par_id, projet_id) VALUES (?, ?, ?, ?, 24, '', '', '2025-01-01 00:00:00', NULL, ?)",
            vec![id.into(), typ.into(), debut.into(), fin.into(), projet.into()],
        );
    }
}

/// Rows of `core_notificationetape` as (type, recipient username, titre, message) sorted.
pub fn notifications(t: &TestDb) -> Vec<(String, String, String, String)> {
    rows_of(t, "SELECT a.type_notification AS t, u.username AS u, a.titre AS ti, a.message AS m FROM core_notificationetape a \
         JOIN core_utilisateur u ON u.id = a.destinataire_id")
}

/// Alert rows as (type, recipient username, titre, message) sorted.
pub fn alerts(t: &TestDb) -> Vec<(String, String, String, String)> {
    rows_of(t, "SELECT a.type_alerte AS t, u.username AS u, a.titre AS ti, a.message AS m FROM core_alerteprojet a \
         JOIN core_utilisateur u ON u.id = a.destinataire_id")
}

/// [`alerts`] in the order they were written (by id).
pub fn alerts_in_order(t: &TestDb) -> Vec<(String, String, String, String)> {
    rows_of(t, "SELECT a.type_alerte AS t, u.username AS u, a.titre AS ti, a.message AS m FROM core_alerteprojet a \
         JOIN core_utilisateur u ON u.id = a.destinataire_id ORDER BY a.id")
}

fn rows_of(t: &TestDb, sql: &str) -> Vec<(String, String, String, String)> {
    #[derive(diesel::QueryableByName)]
    struct R {
        #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = sigov::db::text::Lossy)]
        t: String,
        #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = sigov::db::text::Lossy)]
        u: String,
        #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = sigov::db::text::Lossy)]
        ti: String,
        #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = sigov::db::text::Lossy)]
        m: String,
    }
    let mut rows: Vec<R> = t.db().load(sql, &[]).expect(sql);
    rows.sort_by(|a, b| (&a.t, &a.u, &a.ti).cmp(&(&b.t, &b.u, &b.ti)));
    rows.into_iter().map(|r| (r.t, r.u, r.ti, r.m)).collect()
}

/// Headless Chromium (the test command installs it; SIGOV_TEST_CHROMIUM names another).
pub fn chromium(args: &[String], page: &std::path::Path) -> std::process::Output {
    Command::new(std::env::var("SIGOV_TEST_CHROMIUM").unwrap_or_else(|_| "chromium".to_owned()))
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--virtual-time-budget=3000",
        ])
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium (the test command installs it)")
}

/// What a test page's probe script reported: the JSON in its `<pre id="probe">`, laid out by
/// Chromium in a window of `window` (`--window-size=W,H`).
pub fn chromium_probe(page: &std::path::Path, window: &str) -> serde_json::Value {
    let out = chromium(&[window.to_owned(), "--dump-dom".to_owned()], page);
    let dom = String::from_utf8_lossy(&out.stdout);
    let json = dom
        .split("<pre id=\"probe\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .unwrap_or_else(|| {
            panic!(
                "no probe in {}: {}",
                page.display(),
                String::from_utf8_lossy(&out.stderr)
            )
        })
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&json).expect("probe JSON")
}

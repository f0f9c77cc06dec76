//! Bad input named by the spec: clear one-line errors, or counted skips that lose nothing.

use crate::backend_test;
use crate::common::*;
use sigov::db::Backend;

#[test]
fn unknown_url_scheme_is_refused_with_the_accepted_ones() {
    let r = Sigov::new()
        .env("SIGOV_DATABASE_URL", "oracle://scott:tiger@db/orcl")
        .args(["db", "status"])
        .run();
    assert_eq!(r.code, 1);
    let line = r.error_line();
    assert!(
        line.contains("unknown database URL scheme `oracle`"),
        "{line}"
    );
    assert!(
        line.contains("mysql://") && line.contains("sqlite://"),
        "{line}"
    );
    assert!(!line.contains("tiger"), "password leaked: {line}");
}

#[test]
fn missing_url_names_the_variable() {
    let r = Sigov::new().args(["check", "deadlines"]).run();
    assert_eq!(r.code, 1);
    assert!(r.error_line().contains("SIGOV_DATABASE_URL"), "{r:#?}");
}

#[test]
fn unreachable_server_names_the_database_without_password() {
    let r = Sigov::new()
        .env("SIGOV_DATABASE_URL", "mysql://sigov:s3cret@127.0.0.1:1/pm")
        .args(["db", "status"])
        .run();
    assert_eq!(r.code, 1);
    let line = r.error_line();
    assert!(
        line.contains("cannot connect to database `mysql://sigov:***@127.0.0.1:1/pm`"),
        "{line}"
    );
    assert!(!line.contains("s3cret"), "{line}");
}

#[test]
fn wrong_password_is_one_clear_line() {
    let server = mysql_server();
    let host = server.rsplit('@').next().unwrap();
    let r = Sigov::new()
        .env(
            "SIGOV_DATABASE_URL",
            &format!("mysql://sigov:wrong-password@{host}/mysql"),
        )
        .args(["db", "status"])
        .run();
    assert_eq!(r.code, 1);
    let line = r.error_line();
    assert!(
        line.contains("cannot connect to database") && line.contains("Access denied"),
        "{line}"
    );
    assert!(!line.contains("wrong-password"), "{line}");
}

#[test]
fn sqlite_in_a_missing_directory_is_one_clear_line() {
    let r = Sigov::new()
        .env("SIGOV_DATABASE_URL", "sqlite:///nonexistent-dir/sub/x.db")
        .args(["db", "migrate"])
        .run();
    assert_eq!(r.code, 1);
    assert!(
        r.error_line()
            .contains("directory `/nonexistent-dir/sub` does not exist"),
        "{r:#?}"
    );
}

backend_test!(pending_migrations_block_checks, |t| {
    let e = TestDb::empty(t.backend);
    let r = e.sigov().args(["check", "deadlines"]).run();
    assert_eq!(r.code, 1);
    assert!(
        r.error_line().contains("pending sigov migration(s)")
            && r.stderr.contains("sigov db migrate"),
        "{r:#?}"
    );
    let st = e.sigov().args(["db", "status"]).run();
    assert_eq!(st.code, 1);
    assert!(
        st.stdout.contains("pending  2026-11-22-000001_sigov_base"),
        "{st:#?}"
    );
    e.sigov().args(["db", "migrate"]).run().ok();
    let st = e
        .sigov()
        .args(["db", "status", "--format", "json"])
        .run()
        .ok()
        .json();
    assert!(st["migrations"][0]["applied_at"].is_string(), "{st:#}");
    // Migrations never create the web application's tables.
    assert!(!e.db().table_exists("core_alerteprojet").unwrap());
    // A migrated database without the SI-Gouvernance tables: the missing table is named.
    let r = e.sigov().args(["check", "deadlines"]).run();
    assert_eq!(r.code, 1);
    assert!(
        r.error_line()
            .contains("table `core_statutprojet` is missing"),
        "{r:#?}"
    );
});

backend_test!(missing_en_cours_status_fails_loudly, |t| {
    let mut d = Data::new(&t);
    d.project_with(
        "20000000000000000000000000000001",
        "Projet",
        Some("2026-11-21"),
        11,
        ADMIN,
    );
    t.exec("DELETE FROM core_statutprojet WHERE nom = 'EN_COURS'");
    let r = t
        .sigov()
        .args(["check", "deadlines", "--date", "2026-11-22"])
        .run();
    assert_eq!(r.code, 1);
    assert!(
        r.error_line().contains("status `EN_COURS` not found"),
        "{r:#?}"
    );
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sigov_run WHERE status = 'failed'"),
        1
    );
});

backend_test!(null_zero_and_ancient_dates_are_counted_skips, |t| {
    let mut d = Data::new(&t);
    d.project("30000000000000000000000000000001", "Sans date", None);
    d.project(
        "30000000000000000000000000000002",
        "Très ancien",
        Some("1969-12-31"),
    );
    d.project(
        "30000000000000000000000000000003",
        "En retard",
        Some("2026-11-20"),
    );
    match t.backend {
        Backend::Mysql => t.exec(
            "SET SESSION sql_mode = ''; INSERT INTO core_projet (id, nom, description, client, budget_previsionnel, devise, priorite, \
             date_creation, date_modification, commentaires, createur_id, statut_id, notifications_admin_activees, date_fin) \
             SELECT '30000000000000000000000000000004', 'Date zéro', '', '', 1, 'EUR', '', date_creation, date_modification, '', \
             createur_id, statut_id, 0, '0000-00-00' FROM core_projet WHERE id = '30000000000000000000000000000003'",
        ),
        Backend::Sqlite => d.project("30000000000000000000000000000004", "Date zéro", Some("0000-00-00")),
        // No zero date there; its own date that is not a day: -infinity.
        Backend::Postgres => d.project("30000000000000000000000000000004", "Date zéro", Some("-infinity")),
    }
    let r = t.check("reference", &[]);
    let c = &r["counters"];
    assert_eq!(c["skipped"]["invalid_date"], 1, "{r:#}");
    assert_eq!(c["skipped"]["implausible_date"], 1, "{r:#}");
    assert_eq!(
        c["created"], 1,
        "the overdue project still alerts its createur: {r:#}"
    );
    assert_eq!(
        c["candidates"], 3,
        "NULL date_fin is not a candidate: {r:#}"
    );
});

backend_test!(
    no_responsable_no_email_invalid_email_names_with_specials,
    |t| {
        let mut d = Data::new(&t);
        d.user(
            "f0000000000000000000000000000006",
            "malforme",
            "Mal",
            "Formé",
            "pas-une-adresse",
            false,
            true,
        );
        let weird = "Nom 'cité' <script>alert(1)</script> &\nligne 🚀";
        d.project(
            "40000000000000000000000000000001",
            weird,
            Some("2026-11-29"),
        );
        d.member(
            "a4000000000000000000000000000001",
            "40000000000000000000000000000001",
            NOMAIL,
            false,
        );
        d.member(
            "a4000000000000000000000000000002",
            "40000000000000000000000000000001",
            "f0000000000000000000000000000006",
            false,
        );
        let r = t.check("reference", &[]);
        let c = &r["counters"];
        assert_eq!(
            c["created"], 3,
            "createur and two members, no responsable: {r:#}"
        );
        assert_eq!(c["mails_queued"], 1);
        assert_eq!(c["mails_skipped"]["no_email"], 1);
        assert_eq!(c["mails_skipped"]["invalid_email"], 1);
        let rows = alerts(&t);
        assert!(
            rows.iter()
                .all(|r| r.2 == format!("⚠️ Projet {weird} - Fin dans 7 jours")),
            "{rows:?}"
        );
        assert_eq!(t.count("SELECT COUNT(*) AS n FROM sigov_outbox"), 1);
    }
);

backend_test!(overlong_project_names_fit_the_title_column, |t| {
    let mut d = Data::new(&t);
    let name = format!("{}é", "N".repeat(199));
    d.project(
        "50000000000000000000000000000001",
        &name,
        Some("2026-11-29"),
    );
    let r = t.check("reference", &[]);
    assert_eq!(r["counters"]["created"], 1, "{r:#}");
    assert_eq!(r["counters"]["title_truncated"], 1);
    let rows = alerts(&t);
    assert_eq!(rows[0].2.chars().count(), 200);
    assert!(
        rows[0].3.contains(&name),
        "the message keeps the whole name"
    );
});

#[test]
fn mysql_socket_urls_work() {
    let Ok(sock) = std::env::var("SIGOV_TEST_MYSQL_SOCKET") else {
        // An external server (SIGOV_TEST_MYSQL_URL given by hand) may have no local socket.
        assert!(
            std::env::var("CI").is_err(),
            "CI runs the throwaway server, which has a socket"
        );
        return;
    };
    let t = TestDb::new(Backend::Mysql);
    let url = format!(
        "mysql://sigov:sigov-test@localhost/{}?unix_socket={sock}",
        t.name
    );
    Sigov::new()
        .env("SIGOV_DATABASE_URL", &url)
        .args(["db", "status"])
        .run()
        .ok();
    let r = Sigov::new()
        .env("SIGOV_DATABASE_URL", &url)
        .env("SIGOV_MAIL_TRANSPORT", "sendmail:///bin/true")
        .env("SIGOV_BASE_URL", "https://si-gouvernance.test")
        .args(["config", "check", "--format", "json"])
        .run()
        .ok()
        .json();
    assert_eq!(r["ok"], true, "{r:#}");
    assert_eq!(r["backend"], "mysql");
}

#[test]
fn migration_folders_match_across_backends() {
    let names = |b: &str| {
        let mut v: Vec<String> = std::fs::read_dir(format!("migrations/{b}"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names("mysql"), names("sqlite"));
    assert_eq!(names("mysql"), names("postgres"));
    for n in names("mysql") {
        for b in ["mysql", "sqlite", "postgres"] {
            let up: String = std::fs::read_to_string(format!("migrations/{b}/{n}/up.sql"))
                .unwrap()
                .lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n");
            for stmt in up.split(';').filter(|s| {
                s.contains("CREATE TABLE")
                    || s.contains("ALTER TABLE")
                    || s.contains("DROP TABLE")
                    || s.contains("INDEX")
            }) {
                assert!(
                    stmt.contains("sigov_"),
                    "migration {b}/{n} touches a table that is not sigov's: {stmt}"
                );
                assert!(
                    !stmt.contains("core_"),
                    "migration {b}/{n} touches the web application's tables: {stmt}"
                );
            }
        }
    }
}

// Zero dates, dangling references and hostile names in the stage, task, budget and contract
// checks: counted skips or verbatim texts, never a crash and never a lost row.
backend_test!(bad_rows_in_the_other_checks_are_counted_skips, |t| {
    let mut d = Data::new(&t);
    // PostgreSQL stores no zero date; its date that is not a day is -infinity.
    let zero = if t.backend == Backend::Postgres {
        "-infinity"
    } else {
        "0000-00-00"
    };
    let p = "80000000000000000000000000000001";
    d.project(p, "Projet \"cité\" <b>&amp;", None);
    d.member("a8000000000000000000000000000001", p, RESP, true);
    d.member("a8000000000000000000000000000002", p, MEMBER, false);
    d.budget(p, "-5.00");
    let e = "e8000000000000000000000000000001";
    d.stage(e, p, DEVELOPPEMENT, "EN_COURS", Some("2026-11-21"));
    let hostile = "Tâche 'citée' <script>alert(1)</script> &\nligne 2 🚀";
    d.task(
        "f8000000000000000000000000000001",
        e,
        hostile,
        "EN_COURS",
        "2026-11-20",
        Some(MEMBER),
    );
    match t.backend {
        Backend::Mysql => {
            d.exec("SET SESSION sql_mode = ''", vec![]);
            d.exec("SET FOREIGN_KEY_CHECKS = 0", vec![]);
        }
        Backend::Sqlite => d.exec("PRAGMA foreign_keys = OFF", vec![]),
        // Foreign keys are triggers there: off for this session (the test role is a superuser).
        Backend::Postgres => d.exec("SET session_replication_role = replica", vec![]),
    }
    d.stage(
        "e8000000000000000000000000000002",
        p,
        4,
        "EN_COURS",
        Some(zero),
    );
    d.stage(
        "e8000000000000000000000000000003",
        p,
        99,
        "EN_COURS",
        Some("2026-11-01"),
    );
    d.task(
        "f8000000000000000000000000000002",
        e,
        "Date zéro",
        "A_FAIRE",
        zero,
        None,
    );
    d.task(
        "f8000000000000000000000000000003",
        e,
        "Fantôme",
        "A_FAIRE",
        "2026-11-21",
        Some("99999999999999999999999999999999"),
    );
    d.contract(
        "c8000000000000000000000000000001",
        p,
        "CORRECTIVE",
        "2020-01-01",
        zero,
    );
    d.contract(
        "c8000000000000000000000000000002",
        p,
        "INCONNU",
        "2020-01-01",
        "2026-11-21",
    );
    let r = t.check_all("2026-11-22T10:00:00Z");
    assert_eq!(r.code, 0, "{r:#?}");
    let v = r.json();
    let c = |i: usize| v["checks"][i]["counters"].clone();
    assert_eq!(c(1)["skipped"]["invalid_date"], 1, "{v:#}");
    assert_eq!(c(1)["skipped"]["missing_stage_type"], 1, "{v:#}");
    assert_eq!(c(1)["created"], 2, "the sound stage still alerts: {v:#}");
    assert_eq!(c(2)["skipped"]["invalid_date"], 1, "{v:#}");
    assert_eq!(c(2)["skipped"]["missing_assignee"], 1, "{v:#}");
    assert_eq!(c(3)["skipped"]["budget_not_positive"], 1, "{v:#}");
    assert_eq!(c(4)["skipped"]["invalid_date"], 1, "{v:#}");
    let rows = alerts(&t);
    let find = |needle: &str| {
        rows.iter()
            .find(|r| r.3.contains(needle))
            .map(|r| r.3.clone())
    };
    assert_eq!(
        find("Fantôme").as_deref(),
        Some("La tâche 'Fantôme' du projet 'Projet \"cité\" <b>&amp;' (assignée à Non assignée) est en retard de 1 jour (date limite : 21/11/2026).")
    );
    let hostile_row = rows
        .iter()
        .find(|r| r.1 == "membre")
        .expect("the assignee's row");
    assert_eq!(hostile_row.2, format!("🔴 Tâche en retard - {hostile}"));
    assert!(hostile_row
        .3
        .starts_with(&format!("La tâche '{hostile}' du projet")));
    assert!(
        find("Le contrat de maintenance INCONNU du projet").is_some(),
        "an unknown contract type is shown as stored: {rows:#?}"
    );
});

/// A server (or proxy) that accepts connections and never says a word.
fn silent_server() -> (String, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let handle = std::thread::spawn(move || {
        let mut held = Vec::new();
        listener.set_nonblocking(true).expect("nonblocking");
        let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::time::Instant::now() < until && held.len() < 8 {
            match listener.accept() {
                Ok((c, _)) => held.push(c),
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
            }
        }
    });
    (format!("mysql://sigov:s3cret@127.0.0.1:{port}/pm"), handle)
}

#[test]
fn a_server_that_never_answers_times_out() {
    let (url, _server) = silent_server();
    for (args, code, stream) in [
        (vec!["runs", "list"], 1, "stderr"),
        (vec!["check", "deadlines"], 1, "stderr"),
        (vec!["health"], 1, "stderr"),
        (vec!["health", "--nagios"], 2, "stdout"),
    ] {
        let started = std::time::Instant::now();
        let r = Sigov::new()
            .env("SIGOV_DATABASE_URL", &url)
            .env("SIGOV_DB_CONNECT_TIMEOUT", "1")
            .args(&args)
            .run();
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{args:?} did not end in time"
        );
        assert_eq!(r.code, code, "{args:?}: {r:#?}");
        let out = if stream == "stdout" {
            &r.stdout
        } else {
            &r.stderr
        };
        assert!(
            out.contains("database `mysql://sigov:***@127.0.0.1:")
                && out.contains("timed out after 1 s while connecting"),
            "{args:?}: {r:#?}"
        );
        assert_eq!(out.lines().count(), 1, "{args:?}: one line: {r:#?}");
        assert!(!format!("{r:?}").contains("s3cret"), "{r:#?}");
    }
}

#[test]
fn a_statement_the_server_never_answers_times_out() {
    // A table locked by another session: sigov's read waits for it, and gives up in time.
    let t = TestDb::new(Backend::Mysql);
    let mut holder = t.db();
    holder
        .batch("LOCK TABLES sigov_run WRITE")
        .expect("lock sigov_run");
    let started = std::time::Instant::now();
    let r = t
        .sigov()
        .env("SIGOV_DB_STATEMENT_TIMEOUT", "2")
        .args(["runs", "list"])
        .run();
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(
        r.error_line().contains(
            "timed out after 2 s waiting for an answer (database.statement_timeout_secs)"
        ),
        "{r:#?}"
    );
    holder.batch("UNLOCK TABLES").expect("unlock");
}

const BP: &str = "f1000000000000000000000000000001";

/// `sigov check WHICH --no-mail` as of 2026-11-22 10:00 UTC, JSON report (stderr kept).
fn check_no_mail(t: &TestDb, which: &str) -> Run {
    t.sigov()
        .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
        .args([
            "check",
            which,
            "--format",
            "json",
            "--date",
            "2026-11-22",
            "--no-mail",
        ])
        .run()
}
const BE: &str = "f2000000000000000000000000000001";

/// One project overdue since 2026-11-10 with a stage, an overdue task and a responsable.
fn overdue_project(t: &TestDb) -> Data {
    let mut d = Data::new(t);
    d.project(BP, "Projet témoin", Some("2026-11-10"));
    d.member("f3000000000000000000000000000001", BP, RESP, true);
    d.stage(BE, BP, DEVELOPPEMENT, "EN_COURS", Some("2026-11-15"));
    d.task(
        "f4000000000000000000000000000001",
        BE,
        "Tâche en retard",
        "EN_COURS",
        "2026-11-12",
        Some(MEMBER),
    );
    d
}

#[test]
fn text_that_is_not_utf8_is_read_lossily_and_counted() {
    // SQLite stores any bytes in TEXT: one bad name must not stop the check for every project.
    let t = TestDb::new(Backend::Sqlite);
    let mut d = overdue_project(&t);
    d.project(
        "f1000000000000000000000000000002",
        "Projet sain",
        Some("2026-11-11"),
    );
    d.member(
        "f3000000000000000000000000000002",
        "f1000000000000000000000000000002",
        RESP,
        true,
    );
    t.exec(&format!(
        "UPDATE core_projet SET nom = CAST(X'50726f6a6574ff20c3a9' AS TEXT) WHERE id = '{BP}'"
    ));
    for which in ["deadlines", "stages", "tasks", "budget", "contracts"] {
        let (code, v) = t.run_check(which, "recommended", &["-v"]);
        assert_eq!(code, 0, "{which}: {v:#}");
    }
    let (_, v) = t.run_check("deadlines", "recommended", &["--dry-run"]);
    let _ = v;
    let rows = alerts(&t);
    assert!(
        rows.iter().any(|r| r.2.contains("Projet\u{FFFD} é")),
        "the bad bytes are shown as U+FFFD: {rows:#?}"
    );
    assert!(rows.iter().any(|r| r.2.contains("Projet sain")));
    let runs = t
        .sigov()
        .args(["runs", "list", "--format", "json"])
        .run()
        .ok()
        .json();
    assert!(
        runs.to_string().contains("\"invalid_utf8\""),
        "counted in the run: {runs:#}"
    );
}

backend_test!(an_unreadable_context_never_causes_a_duplicate, |t| {
    let _d = overdue_project(&t);
    // Rows of today (10:00 UTC) with a context that is JSON but not an object: the same alert
    // for the same recipient and project is not created again.
    t.exec(&format!(
        "INSERT INTO core_alerteprojet (type_alerte, niveau, titre, message, lue, date_creation, date_lecture, \
         donnees_contexte, destinataire_id, projet_id) VALUES \
         ('TACHES_EN_RETARD', 'WARNING', 't', 'm', '0', '2026-11-22 08:00:00', NULL, '[1, 2]', '{MEMBER}', '{BP}'), \
         ('ECHEANCE_DEPASSEE', 'DANGER', 't', 'm', '0', '2026-11-22 08:00:00', NULL, '\"texte\"', '{RESP}', '{BP}')"
    ));
    for (check, recipient) in [("tasks", "membre"), ("deadlines", "resp")] {
        let v = t.check_ok(check, "reference");
        let to: Vec<&str> = v["alerts"]
            .as_array()
            .expect("alerts")
            .iter()
            .filter_map(|a| a["recipient"].as_str())
            .collect();
        assert!(!to.contains(&recipient), "{check}: no second alert: {v:#}");
        assert_eq!(v["counters"]["repaired"]["unreadable_context"], 1, "{v:#}");
    }
});

backend_test!(a_recorded_time_beyond_the_calendar_is_no_panic, |t| {
    let _d = overdue_project(&t);
    // PostgreSQL keeps times up to the year 294276, past chrono's 262143: such a row, read
    // with what was recorded, made sigov panic (exit 101). Elsewhere, the latest time each
    // backend keeps.
    let far = match t.backend {
        Backend::Postgres => "290000-01-01 00:00:00+00",
        Backend::Mysql | Backend::Sqlite => "9999-12-31 23:59:59",
    };
    t.exec(&format!(
        "INSERT INTO core_alerteprojet (type_alerte, niveau, titre, message, lue, date_creation, date_lecture, \
         donnees_contexte, destinataire_id, projet_id) VALUES \
         ('TACHES_EN_RETARD', 'WARNING', 't', 'm', '0', '{far}', NULL, '{{}}', '{MEMBER}', '{BP}'), \
         ('ECHEANCE_DEPASSEE', 'DANGER', 't', 'm', '0', '{far}', NULL, '{{}}', '{RESP}', '{BP}')"
    ));
    for check in ["tasks", "deadlines"] {
        let v = t.check_ok(check, "reference");
        assert_eq!(v["status"], "success", "{check}: {v:#}");
    }
});

backend_test!(rows_that_would_drop_out_are_counted_and_logged, |t| {
    let mut d = overdue_project(&t);
    let off = match t.backend {
        Backend::Sqlite => "PRAGMA foreign_keys = OFF",
        Backend::Mysql => "SET FOREIGN_KEY_CHECKS = 0",
        Backend::Postgres => "SET session_replication_role = replica",
    };
    let on = match t.backend {
        Backend::Sqlite => "PRAGMA foreign_keys = ON",
        Backend::Mysql => "SET FOREIGN_KEY_CHECKS = 1",
        Backend::Postgres => "SET session_replication_role = DEFAULT",
    };
    let mut db = t.db();
    db.batch(off).expect("fk off");
    for sql in [
        "INSERT INTO core_affectation (id, est_responsable_principal, pourcentage_temps, date_debut, date_fin, projet_id, \
         utilisateur_id, notes) VALUES ('f5000000000000000000000000000001', '0', 100, '2025-06-01 08:00:00', NULL, \
         'f1000000000000000000000000000001', '99999999999999999999999999999999', '')".to_owned(),
        "INSERT INTO core_contratgarantie (id, type_garantie, date_debut, date_fin, sla_heures, description_couverture, \
         exclusions, date_creation, cree_par_id, projet_id) VALUES ('f6000000000000000000000000000001', 'MAINTENANCE', \
         '2025-01-01', '2026-12-01', 24, '', '', '2025-01-01 00:00:00', NULL, '99999999999999999999999999999998')".to_owned(),
        "INSERT INTO core_projet (id, nom, description, client, budget_previsionnel, devise, priorite, date_creation, \
         date_modification, commentaires, createur_id, statut_id, notifications_admin_activees, date_fin) VALUES \
         ('f1000000000000000000000000000009', 'Statut perdu', '', '', 1000, 'EUR', 'HAUTE', '2025-06-01 08:00:00', \
         '2025-06-01 08:00:00', '', 'a0000000000000000000000000000001', 999, '0', '2026-11-23')".to_owned(),
    ] {
        db.batch(&sql).expect("orphan row");
    }
    db.batch(on).expect("fk on");
    d.task(
        "f4000000000000000000000000000002",
        BE,
        "Orpheline",
        "EN_COURS",
        "2026-11-12",
        Some(MEMBER),
    );
    let mut db = t.db();
    db.batch(off).expect("fk off");
    db.batch("UPDATE core_tacheetape SET etape_id = '99999999999999999999999999999997' WHERE id = 'f4000000000000000000000000000002'")
        .expect("orphan task");
    if t.backend == Backend::Sqlite {
        d.line("f7000000000000000000000000000001", BP, "10.00");
        db.batch(
            "UPDATE core_lignebudget SET montant = 'douze euros' WHERE id = 'f7000000000000000000000000000001'; \
             UPDATE core_projet SET date_fin = '30/11/2026' WHERE id = 'f1000000000000000000000000000001'",
        )
        .expect("bad values");
    }
    db.batch(on).expect("fk on");
    let want: &[(&str, &[&str])] = &[
        (
            "deadlines",
            &["project_without_status", "assignment_without_user"],
        ),
        ("tasks", &["task_without_stage"]),
        ("contracts", &["contract_without_project"]),
    ];
    for (which, reasons) in want {
        let r = check_no_mail(&t, which);
        assert_eq!(r.code, 0, "{r:#?}");
        let v = r.json();
        for reason in *reasons {
            assert_eq!(
                v["counters"]["skipped"][reason], 1,
                "{which} {reason}: {v:#}"
            );
            assert!(r.stderr.contains("left out"), "{which}: logged: {r:#?}");
        }
    }
    // `check all` runs a probe its checks share once (the first check's finding serves the
    // others): every check that reads projects and teams still counts what it left out.
    let r = check_no_mail(&t, "all");
    assert_eq!(r.code, 0, "{r:#?}");
    let v = r.json();
    let of = |name: &str| {
        v["checks"]
            .as_array()
            .and_then(|a| a.iter().find(|c| c["check"] == name))
            .map(|c| c["counters"]["skipped"].clone())
            .unwrap_or_else(|| panic!("{name} in {v:#}"))
    };
    for name in ["deadlines", "tasks"] {
        assert_eq!(of(name)["project_without_status"], 1, "{name}: {v:#}");
        assert_eq!(of(name)["assignment_without_user"], 1, "{name}: {v:#}");
    }
    assert_eq!(of("tasks")["task_without_stage"], 1, "{v:#}");
    assert_eq!(of("contracts")["contract_without_project"], 1, "{v:#}");
    if t.backend == Backend::Sqlite {
        let v = t.check_ok("budget", "recommended");
        assert_eq!(
            v["counters"]["skipped"]["budget_line_bad_amount"], 1,
            "{v:#}"
        );
        let v = t.check_ok("deadlines", "recommended");
        assert_eq!(v["counters"]["skipped"]["date_not_a_date"], 1, "{v:#}");
    }
});

#[test]
fn a_null_where_text_is_expected_is_read_as_empty_and_counted() {
    let t = TestDb::new(Backend::Mysql);
    let _d = overdue_project(&t);
    t.exec("ALTER TABLE core_projet MODIFY client varchar(200) NULL");
    t.exec(&format!(
        "UPDATE core_projet SET client = NULL WHERE id = '{BP}'"
    ));
    let r = check_no_mail(&t, "deadlines");
    assert_eq!(r.code, 0, "{r:#?}");
    assert_eq!(r.json()["counters"]["repaired"]["null_text"], 1, "{r:#?}");
    assert!(
        r.stderr
            .contains("1 NULL value(s) where text is expected, in the rows read from `"),
        "{r:#?}"
    );
}

#[test]
fn two_en_cours_rows_are_refused() {
    // A site that dropped the unique index: sigov will not pick one silently.
    let t = TestDb::new(Backend::Mysql);
    let _d = overdue_project(&t);
    t.exec("ALTER TABLE core_statutprojet DROP INDEX nom");
    t.exec("INSERT INTO core_statutprojet (id, nom, description, couleur_affichage, ordre_affichage) VALUES (99, 'EN_COURS', '', '#000000', 9)");
    let r = t.sigov().args(["check", "deadlines"]).run();
    assert_eq!(r.code, 1);
    assert!(
        r.error_line()
            .contains("core_statutprojet has 2 rows named `EN_COURS` (ids 12, 99)"),
        "{r:#?}"
    );
}

#[test]
fn a_sqlite_file_that_does_not_exist_is_refused() {
    let dir_tmp = crate::common::tempdir("typo");
    let dir = dir_tmp.path().to_path_buf();
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("sqlite://{}", dir.join("typo.db").display());
    for args in [
        vec!["check", "deadlines"],
        vec!["runs", "list"],
        vec!["db", "status"],
        vec!["health"],
    ] {
        let r = Sigov::new()
            .env("SIGOV_DATABASE_URL", &url)
            .args(&args)
            .run();
        assert_eq!(r.code, 1, "{args:?}: {r:#?}");
        let want = "does not exist; `sigov demo` creates a demo database, `sigov db migrate` sigov's tables";
        if args[0] == "health" {
            assert!(r.stdout.contains(want), "{r:#?}");
        } else {
            assert!(r.error_line().contains(want), "{args:?}: {r:#?}");
        }
        assert!(!dir.join("typo.db").exists(), "{args:?} created the file");
    }
    // `db migrate` creates it.
    Sigov::new()
        .env("SIGOV_DATABASE_URL", &url)
        .args(["db", "migrate"])
        .run()
        .ok();
    assert!(dir.join("typo.db").exists());
}

#[test]
fn a_templates_dir_that_does_not_exist_is_an_error() {
    let r = Sigov::new()
        .env("SIGOV_MAIL_TEMPLATES", "/nonexistent/sigov-templates")
        .args(["mail", "preview"])
        .run();
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(
        r.error_line()
            .contains("mail.templates_dir `/nonexistent/sigov-templates` is not a directory"),
        "{r:#?}"
    );
}

#[test]
fn a_sigov_variable_that_is_not_utf8_is_an_error_naming_it() {
    use std::os::unix::ffi::OsStrExt;
    let mut s = Sigov::new().args(["config", "show"]);
    s.cmd.env(
        "SIGOV_MAIL_FROM",
        std::ffi::OsStr::from_bytes(b"Alerte \xff <a@b.c>"),
    );
    let r = s.run();
    assert_eq!(r.code, 1, "{r:#?}");
    assert_eq!(
        r.error_line(),
        "sigov: environment variable SIGOV_MAIL_FROM is not valid UTF-8"
    );
}

/// A ledger key whose business date is not a date (SQLite keeps any text in a DATE column; a
/// hand edit or another tool may leave one) is said and left out: the checks still run, and
/// every other key still holds its alert back. MySQL refuses such a value in a DATE column.
#[test]
fn a_ledger_date_that_is_not_a_date_is_said_and_left_out() {
    let demo = TestDb::demo(Backend::Sqlite, 20);
    let run = || {
        demo.sigov()
            .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
            .args(["--format", "json", "check", "all", "--no-mail"])
            .run()
    };
    let first = run();
    assert_eq!(first.code, 0, "{}", first.stderr);
    demo.exec(
        "UPDATE sigov_alert_ledger SET business_date = 'zzz' WHERE alert_key = \
         (SELECT MAX(alert_key) FROM sigov_alert_ledger WHERE check_name = 'tasks')",
    );
    let again = run();
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again
            .stderr
            .contains("tasks: sigov_alert_ledger has keys whose business_date is not a date (\"zzz\"): left out"),
        "{}",
        again.stderr
    );
    for c in again.json()["checks"].as_array().expect("checks") {
        assert_eq!(c["counters"]["created"], 0, "{c:#}");
    }
}

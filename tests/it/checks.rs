//! The stages, tasks, budget and contracts checks and `check all`, on hand-built data, in both
//! profiles, on every backend: reference rows, each recommended-profile change, re-runs.

use crate::backend_test;
use crate::common::*;

const P1: &str = "70000000000000000000000000000001";
const P2: &str = "70000000000000000000000000000002";
const P3: &str = "70000000000000000000000000000003";
const SA_INACTIF: &str = "f0000000000000000000000000000007";

/// P1 in progress with RESP as responsable and MEMBER in the team; P2 closed (TERMINE) with
/// RESP as responsable.
fn two_projects(t: &TestDb) -> Data {
    let mut d = Data::new(t);
    d.project(P1, "Refonte « Portail » & Co", Some("2027-06-30"));
    d.member("a7000000000000000000000000000001", P1, RESP, true);
    d.member("a7000000000000000000000000000002", P1, MEMBER, false);
    d.project_with(P2, "Ancien Système", Some("2026-06-30"), TERMINE, ADMIN);
    d.member("a7000000000000000000000000000003", P2, RESP, true);
    d
}

fn created(v: &serde_json::Value) -> i64 {
    v["counters"]["created"].as_i64().unwrap_or(-1)
}

fn titles(v: &serde_json::Value) -> Vec<String> {
    let mut t: Vec<String> = v["alerts"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| {
                    format!(
                        "{} {}",
                        x["recipient"].as_str().unwrap_or(""),
                        x["titre"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    t.sort();
    t
}

/// The message of the first reported alert matching `pred` (empty when none does).
fn message_where(v: &serde_json::Value, pred: impl Fn(&serde_json::Value) -> bool) -> String {
    v["alerts"]
        .as_array()
        .and_then(|a| a.iter().find(|x| pred(x)))
        .and_then(|x| x["message"].as_str())
        .unwrap_or_default()
        .to_owned()
}

backend_test!(stage_delays_in_both_profiles, |t| {
    let mut d = two_projects(&t);
    d.stage(
        "e7000000000000000000000000000001",
        P1,
        DEVELOPPEMENT,
        "EN_COURS",
        Some("2026-11-06"),
    );
    d.stage(
        "e7000000000000000000000000000002",
        P1,
        4,
        "A_VENIR",
        Some("2026-11-01"),
    );
    d.stage(
        "e7000000000000000000000000000003",
        P2,
        5,
        "EN_COURS",
        Some("2026-11-21"),
    );
    d.stage("e7000000000000000000000000000004", P2, 6, "EN_COURS", None);
    let rec = t.run_check("stages", "recommended", &["--dry-run"]).1;
    assert_eq!(
        titles(&rec),
        [
            "admin 🔴 Étape Déploiement - EN RETARD",
            "admin 🔴 Étape Développement - EN RETARD",
            "resp 🔴 Étape Déploiement - EN RETARD",
            "resp 🔴 Étape Développement - EN RETARD",
        ],
        "labels, and a closed project's stage still alerts"
    );
    let r = t.check_ok("stages", "reference");
    assert_eq!(created(&r), 4, "{r:#}");
    assert_eq!(
        r["counters"]["candidates"], 2,
        "EN_COURS stages with a planned end"
    );
    let rows = notifications(&t);
    assert_eq!(rows.len(), 4);
    assert!(
        alerts(&t).is_empty(),
        "stage delays are notifications, not alerts"
    );
    let admin = rows
        .iter()
        .find(|r| r.1 == "admin" && r.2.contains("DEVELOPPEMENT"))
        .expect("admin row");
    assert_eq!(admin.3, "L'étape 'DEVELOPPEMENT' du projet 'Refonte « Portail » & Co' est en retard de 16 jours (date de fin prévue : 06/11/2026). En tant qu'administrateur, veuillez prendre les mesures nécessaires pour résoudre cette situation.");
    let resp = rows
        .iter()
        .find(|r| r.1 == "resp" && r.2.contains("DEPLOIEMENT"))
        .expect("resp row");
    assert!(resp.3.contains("en retard de 1 jour (date"), "{resp:?}");
    assert!(resp
        .3
        .ends_with("une action urgente est requise pour rattraper le retard."));
    let again = t.check_ok("stages", "reference");
    assert_eq!(created(&again), 0);
    assert_eq!(again["counters"]["ignored_entities"], 2);
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sigov_outbox WHERE kind = 'stage'"),
        4
    );
});

backend_test!(overdue_tasks_access_closed_projects_and_module_tasks, |t| {
    let mut d = two_projects(&t);
    let e1 = "e7000000000000000000000000000011";
    let e2 = "e7000000000000000000000000000012";
    d.stage(e1, P1, DEVELOPPEMENT, "EN_COURS", None);
    d.stage(e2, P2, DEVELOPPEMENT, "TERMINEE", None);
    d.task(
        "f7000000000000000000000000000001",
        e1,
        "Valider l'écran <Synthèse>",
        "EN_COURS",
        "2026-11-19",
        Some(MEMBER),
    );
    d.task(
        "f7000000000000000000000000000002",
        e1,
        "Sans accès",
        "BLOQUEE",
        "2026-11-21",
        Some(INACTIVE),
    );
    d.task(
        "f7000000000000000000000000000003",
        e1,
        "Pas encore due",
        "A_FAIRE",
        "2026-11-30",
        Some(MEMBER),
    );
    d.task(
        "f7000000000000000000000000000004",
        e1,
        "Déjà terminée",
        "TERMINEE",
        "2026-11-01",
        Some(MEMBER),
    );
    d.task(
        "f7000000000000000000000000000005",
        e2,
        "Projet clos",
        "A_FAIRE",
        "2026-09-28",
        None,
    );
    d.module_task(
        1,
        P1,
        e1,
        "Paiement",
        1,
        "Brancher le PSP",
        "EN_PAUSE",
        "2026-11-20",
        Some(MEMBER),
    );

    let rec = t.run_check("tasks", "recommended", &["--dry-run"]).1;
    assert_eq!(
        titles(&rec),
        [
            "membre 🔴 Tâche en retard - Brancher le PSP",
            "membre 🔴 Tâche en retard - Valider l'écran <Synthèse>",
            "resp 🔴 Tâche en retard - Brancher le PSP",
            "resp 🔴 Tâche en retard - Sans accès",
            "resp 🔴 Tâche en retard - Valider l'écran <Synthèse>",
        ],
        "{rec:#}"
    );
    assert_eq!(rec["counters"]["skipped"]["closed_project"], 1, "{rec:#}");
    let module_msg = message_where(&rec, |x| {
        x["recipient"] == "resp" && x["titre"].as_str().is_some_and(|s| s.contains("PSP"))
    });
    assert_eq!(module_msg, "La tâche 'Brancher le PSP' du module 'Paiement' du projet 'Refonte « Portail » & Co' (assignée à Zoé L'Hôte & <Fils>) est en retard de 2 jours (date limite : 20/11/2026).");

    let r = t.check_ok("tasks", "reference");
    assert_eq!(created(&r), 4, "{r:#}");
    assert_eq!(
        r["counters"]["candidates"], 4,
        "open stage tasks with a due date"
    );
    assert_eq!(r["counters"]["skipped"]["assignee_without_access"], 1);
    let rows = alerts(&t);
    let msg = |who: &str, title: &str| {
        rows.iter()
            .find(|r| r.1 == who && r.2.contains(title))
            .map(|r| r.3.clone())
            .unwrap_or_default()
    };
    assert_eq!(msg("membre", "Valider"), "La tâche 'Valider l'écran <Synthèse>' du projet 'Refonte « Portail » & Co' est en retard de 3 jours (date limite : 19/11/2026). Une action urgente est requise.");
    assert_eq!(msg("resp", "Sans accès"), "La tâche 'Sans accès' du projet 'Refonte « Portail » & Co' (assignée à In Actif) est en retard de 1 jour (date limite : 21/11/2026).");
    assert_eq!(msg("resp", "Projet clos"), "La tâche 'Projet clos' du projet 'Ancien Système' (assignée à Non assignée) est en retard de 55 jours (date limite : 28/09/2026).");
    let again = t.check_ok("tasks", "reference");
    assert_eq!(created(&again), 0, "{again:#}");
    // The recommended profile, later the same day: the same tasks are already alerted; only
    // the module task is new.
    let rec = t.check_ok("tasks", "recommended");
    assert_eq!(created(&rec), 2, "{rec:#}");
    assert_eq!(created(&t.check_ok("tasks", "recommended")), 0);
});

backend_test!(budget_exceeded_thresholds_and_web_app_rows, |t| {
    let mut d = two_projects(&t);
    d.budget(P1, "2000.00");
    d.line("b7000000000000000000000000000001", P1, "1500.00");
    d.line("b7000000000000000000000000000002", P1, "509.00");
    d.project(P3, "Presque au plafond", None);
    d.budget(P3, "1000.00");
    d.line("b7000000000000000000000000000003", P3, "950.00");
    let p4 = "70000000000000000000000000000004";
    d.project(p4, "Budget nul", None);
    d.budget(p4, "0.00");
    d.line("b7000000000000000000000000000004", p4, "10.00");
    // The web application's own producer alerted the createur this morning (niveau URGENT).
    d.exec(
        "INSERT INTO core_alerteprojet (type_alerte, niveau, titre, message, lue, date_creation, date_lecture, \
         donnees_contexte, destinataire_id, projet_id) VALUES ('BUDGET_DEPASSE', 'URGENT', 'Budget dépassé', \
         'Dépassement de 9 $', '1', '2026-11-22 07:00:00', NULL, NULL, ?, ?)",
        vec![ADMIN.into(), P1.into()],
    );
    let r = t.check_ok("budget", "reference");
    assert_eq!(created(&r), 1, "{r:#}");
    assert_eq!(r["counters"]["candidates"], 3, "projects in progress");
    assert_eq!(r["counters"]["skipped"]["budget_not_positive"], 1);
    assert_eq!(
        r["counters"]["duplicates"], 1,
        "the web app's row suppresses the createur's"
    );
    let rows = alerts(&t);
    let resp = rows
        .iter()
        .find(|r| r.1 == "resp")
        .expect("responsable row");
    assert_eq!(resp.2, "🔴 Budget dépassé - Refonte « Portail » & Co");
    assert_eq!(resp.3, "Le budget du projet 'Refonte « Portail » & Co' a été dépassé. Budget prévu : 2000.00 EUR, Budget consommé : 2009.00 EUR, Dépassement : 9.00 EUR (+0.4%). En tant que responsable, veuillez prendre des mesures pour contrôler les dépenses.");
    // jsonb (PostgreSQL) is matched as its text, which keeps the number's digits.
    let ctx = if t.backend == sigov::db::Backend::Postgres {
        "CAST(donnees_contexte AS TEXT)"
    } else {
        "donnees_contexte"
    };
    let json = t.count(&format!(
        "SELECT COUNT(*) AS n FROM core_alerteprojet WHERE niveau = 'DANGER' AND {ctx} LIKE '%\"pourcentage_depassement\": 0.45%'",
    ));
    assert_eq!(json, 1, "the stored percentage is the exact 0.45");
    let rec = t.check_ok("budget", "recommended");
    assert_eq!(created(&rec), 1, "{rec:#}");
    assert_eq!(rec["alerts"][0]["type"], "BUDGET_CRITIQUE");
    assert_eq!(
        rec["alerts"][0]["titre"],
        "🟠 Budget consommé à 90% - Presque au plafond"
    );
    assert_eq!(rec["counters"]["superseded"], 1, "75 % passed over");
    assert_eq!(created(&t.check_ok("budget", "recommended")), 0);
    d.budget(P3, "1200.00");
    let rearmed = t.check_ok("budget", "recommended");
    assert_eq!(
        created(&rearmed),
        1,
        "a new planned budget re-arms: {rearmed:#}"
    );
    assert_eq!(rearmed["alerts"][0]["type"], "BUDGET_ATTENTION");
});

backend_test!(contracts_in_both_profiles, |t| {
    let mut d = two_projects(&t);
    d.user(
        SA_INACTIF,
        "sa.inactif",
        "Super",
        "Inactif",
        "sa.inactif@sigov.test",
        true,
        false,
    );
    d.contract(
        "c7000000000000000000000000000001",
        P1,
        "EVOLUTIVE",
        "2025-01-01",
        "2026-12-22",
    );
    d.contract(
        "c7000000000000000000000000000002",
        P1,
        "CORRECTIVE",
        "2024-01-01",
        "2025-12-21",
    );
    d.contract(
        "c7000000000000000000000000000003",
        P1,
        "CORRECTIVE",
        "2026-01-01",
        "2026-11-20",
    );
    d.contract(
        "c7000000000000000000000000000004",
        P1,
        "CORRECTIVE",
        "2026-11-21",
        "2027-11-20",
    );
    d.contract(
        "c7000000000000000000000000000005",
        P2,
        "EVOLUTIVE",
        "2025-02-01",
        "2026-12-20",
    );
    d.contract(
        "c7000000000000000000000000000006",
        P2,
        "CORRECTIVE",
        "2027-01-01",
        "2027-12-31",
    );

    let rec = t.run_check("contracts", "recommended", &["--dry-run"]).1;
    assert_eq!(
        titles(&rec),
        [
            "admin ⚠️ Contrat de maintenance proche de l'expiration",
            "admin ⚠️ Contrat de maintenance proche de l'expiration",
            "resp ⚠️ Contrat de maintenance proche de l'expiration",
            "resp ⚠️ Contrat de maintenance proche de l'expiration",
        ],
        "J-30 and a caught-up J-28; no old expiry, no renewed one, no inactive superuser: {rec:#}"
    );
    assert_eq!(rec["counters"]["skipped"]["renewed"], 1, "{rec:#}");
    let caught_up = message_where(&rec, |x| {
        x["message"]
            .as_str()
            .is_some_and(|m| m.contains("28 jours"))
    });
    assert_eq!(caught_up, "Le contrat de maintenance Maintenance Évolutive du projet 'Ancien Système' expire dans 28 jours (date d'expiration : 20/12/2026). Veuillez prévoir le renouvellement ou la clôture du contrat.");

    let r = t.check_ok("contracts", "reference");
    assert_eq!(
        created(&r),
        9,
        "J-30, an old expiry and a renewed expiry, 3 recipients each: {r:#}"
    );
    assert_eq!(
        r["counters"]["candidates"], 5,
        "3 active + 2 expired; the future one is neither"
    );
    let rows = alerts(&t);
    assert!(
        rows.iter().any(|r| r.1 == "sa.inactif"),
        "the reference ignores is_active"
    );
    assert!(rows.iter().any(|r| r.3 == "Le contrat de maintenance Maintenance Corrective du projet 'Refonte « Portail » & Co' a expiré depuis 336 jours (date d'expiration : 21/12/2025). Action urgente requise : renouvellement ou clôture du contrat."));
    let again = t.check_ok("contracts", "reference");
    assert_eq!(created(&again), 0, "once ever");
    assert_eq!(again["counters"]["ignored_entities"], 3);
    // The recommended profile recognises the reference's J-30 rows (JSON contrat_id and
    // date_fin) and does not repeat them; the caught-up J-28 is new.
    let rec = t.check_ok("contracts", "recommended");
    assert_eq!(created(&rec), 2, "{rec:#}");
});

backend_test!(check_all_runs_every_check_and_reports_a_failing_one, |t| {
    let mut d = two_projects(&t);
    d.project(P3, "En retard", Some("2026-11-20"));
    d.stage(
        "e7000000000000000000000000000021",
        P3,
        DEVELOPPEMENT,
        "EN_COURS",
        Some("2026-11-20"),
    );
    let r = t.check_all("2026-11-22T10:00:00Z");
    assert_eq!(r.code, 0, "{r:#?}");
    let v = r.json();
    assert_eq!(v["exit_code"], 0);
    assert_eq!(v["checks"].as_array().map(|a| a.len()), Some(5));
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sigov_run WHERE status = 'success'"),
        5,
        "one run record per check"
    );
    t.exec("DROP TABLE core_lignebudget");
    let r = t.check_all("2026-11-23T10:00:00Z");
    assert_eq!(r.code, 3, "partial: {r:#?}");
    let v = r.json();
    let status: Vec<&str> = v["checks"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["status"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        status,
        ["success", "success", "success", "failed", "success"]
    );
    assert!(v["checks"][3]["error"]
        .as_str()
        .is_some_and(|e| e.contains("core_lignebudget")));
    assert!(r.stderr.contains("1 of 5 checks failed: budget"), "{r:#?}");
    assert_eq!(
        t.count(
            "SELECT COUNT(*) AS n FROM sigov_run WHERE status = 'failed' AND check_name = 'budget'"
        ),
        1,
        "the failed check has its run record"
    );
    assert!(
        created(&v["checks"][0]) > 0,
        "the next day's overdue alert was still written"
    );
});

backend_test!(missing_en_cours_fails_the_project_checks_only, |t| {
    let mut d = two_projects(&t);
    d.stage(
        "e7000000000000000000000000000031",
        P2,
        DEVELOPPEMENT,
        "EN_COURS",
        Some("2026-11-20"),
    );
    t.exec("DELETE FROM core_affectation WHERE projet_id = '70000000000000000000000000000001'");
    t.exec("DELETE FROM core_projet WHERE id = '70000000000000000000000000000001'");
    t.exec("DELETE FROM core_statutprojet WHERE nom = 'EN_COURS'");
    let r = t.sigov().args(["check", "budget"]).run();
    assert_eq!(r.code, 1);
    assert!(
        r.error_line().contains("status `EN_COURS` not found"),
        "{r:#?}"
    );
    let r = t.check_all("2026-11-22T10:00:00Z");
    assert_eq!(r.code, 3, "{r:#?}");
    let v = r.json();
    let status: Vec<&str> = v["checks"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["status"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        status,
        ["failed", "success", "success", "failed", "success"]
    );
    assert_eq!(
        created(&v["checks"][1]),
        2,
        "the stage check does not need EN_COURS"
    );
});

backend_test!(pages_of_any_size_decide_the_same, |t| {
    let _ = &t;
    // Three copies of the same demo data (recommended profile: catch-up, repeats, thresholds),
    // one checked in pages of 2,000, one four candidates at a time, one in pages of 2,000
    // decided and written in slices of a few candidates (each slice sized to give about three
    // alerts: what a slice wrote must hold back the next slice's duplicates).
    let dir_tmp = crate::common::tempdir("pages");
    let dir = dir_tmp.path().to_path_buf();
    std::fs::create_dir_all(&dir).expect("dir");
    let small = dir.join("small.toml");
    std::fs::write(&small, "[check]\npage_size = 4\n").expect("config");
    let sliced = dir.join("sliced.toml");
    std::fs::write(&sliced, "[check]\nslice_alerts = 3\n").expect("config");
    // The task candidates joined by the server (a candidate table) rather than in memory, in
    // pages of 2,000 and of four.
    let server = dir.join("server.toml");
    std::fs::write(&server, "[check]\nmemory_projects = 0\n").expect("config");
    let server_small = dir.join("server-small.toml");
    std::fs::write(
        &server_small,
        "[check]\nmemory_projects = 0\npage_size = 4\n",
    )
    .expect("config");
    let mut results = Vec::new();
    for config in [
        None,
        Some(&small),
        Some(&sliced),
        Some(&server),
        Some(&server_small),
    ] {
        let demo = TestDb::demo(t.backend, 40);
        let mut s = demo.sigov().env("SIGOV_NOW", "2026-11-22T10:00:00Z");
        if let Some(c) = config {
            s = s.env("SIGOV_CONFIG", c.to_str().expect("utf-8"));
        }
        let r = s
            .args(["-vv", "--format", "json", "check", "all", "--no-mail"])
            .run()
            .ok();
        let in_memory = config.is_none_or(|c| c != &server && c != &server_small);
        assert_eq!(
            r.stderr.contains("open tasks, joined in memory"),
            in_memory,
            "{config:?}: {}",
            r.stderr
        );
        let counters: Vec<serde_json::Value> = r.json()["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .map(|c| {
                let k = &c["counters"];
                serde_json::json!([
                    k["candidates"],
                    k["created"],
                    k["duplicates"],
                    k["superseded"],
                    k["ignored_entities"],
                    k["skipped"],
                    k["by_type"],
                    k["mails_queued"]
                ])
            })
            .collect();
        let mut rows = alerts(&demo);
        rows.extend(notifications(&demo));
        rows.sort();
        assert!(rows.len() > 50, "{}", rows.len());
        results.push((counters, rows));
    }
    assert_eq!(results[0].0, results[1].0);
    assert_eq!(results[0].1, results[1].1);
    for other in &results[2..] {
        assert_eq!(results[0].0, other.0);
        assert_eq!(results[0].1, other.1);
    }
});

backend_test!(task_reruns_count_the_same_whichever_side_joins, |t| {
    let _ = &t;
    // With an escalation ladder on overdue tasks, the task check reads what each page's tasks
    // recorded (its keys outlive the look-back window): by the page's ids when the run joins
    // the candidates in memory, from the candidate table when the server does. Run on one day;
    // again the same day with only the alert rows left (as Django wrote them: no ledger key,
    // which would refuse a duplicate anyway), so that only that read holds the overdue alerts
    // back; and the next day. The four ways count the same.
    let dir_tmp = crate::common::tempdir("task-joins");
    let dir = dir_tmp.path().to_path_buf();
    std::fs::create_dir_all(&dir).expect("dir");
    let ladder = "[escalation]\ntasks = [{ after = 2, to = \"superusers\" }]\n";
    let mut results = Vec::new();
    for (i, check) in [
        "",
        "page_size = 4\n",
        "memory_projects = 0\n",
        "memory_projects = 0\npage_size = 4\n",
    ]
    .iter()
    .enumerate()
    {
        let config = dir.join(format!("c{i}.toml"));
        std::fs::write(&config, format!("{ladder}[check]\n{check}")).expect("config");
        let demo = TestDb::demo(t.backend, 40);
        let mut runs = Vec::new();
        for now in [
            "2026-11-22T10:00:00Z",
            "2026-11-22T11:00:00Z",
            "2026-11-23T10:00:00Z",
        ] {
            if now.ends_with("11:00:00Z") {
                demo.exec("DELETE FROM sigov_outbox");
                demo.exec("DELETE FROM sigov_alert_ledger");
            }
            let r = demo
                .sigov()
                .env("SIGOV_NOW", now)
                .env("SIGOV_CONFIG", config.to_str().expect("utf-8"))
                .args(["--format", "json", "check", "tasks", "--no-mail"])
                .run()
                .ok();
            let k = r.json()["counters"].clone();
            runs.push(serde_json::json!([
                k["candidates"],
                k["created"],
                k["duplicates"],
                k["by_type"]
            ]));
        }
        assert!(runs[0][1].as_i64().unwrap_or(0) > 5, "{runs:?}");
        // The escalations are held back by their ledger keys only; the overdue alerts by
        // their rows too.
        assert!(
            runs[1][2].as_i64().unwrap_or(0) > 5,
            "held back by rows: {runs:?}"
        );
        // In the order written: the candidates' order (newest task first) whichever side sorts.
        results.push((runs, alerts_in_order(&demo)));
    }
    for other in &results[1..] {
        assert_eq!(results[0].0, other.0);
        assert_eq!(results[0].1, other.1);
    }
});

backend_test!(
    rows_alone_or_ledger_alone_keep_a_rerun_quiet_in_small_chunks,
    |t| {
        let _ = &t;
        // What was recorded is read for the whole check in chunks of the page size (alert rows by
        // id, ledger keys by key within a day). Either half alone must hold every alert back:
        // alert rows without ledger keys (Django wrote them before sigov), ledger keys without
        // rows (the web application deleted them). Pages of 3 make many chunks of each.
        // (Without the ledger the outbox goes too: its mails belong to ledger keys.)
        let dir_tmp = crate::common::tempdir("chunks");
        let dir = dir_tmp.path().to_path_buf();
        std::fs::create_dir_all(&dir).expect("dir");
        let small = dir.join("small.toml");
        std::fs::write(&small, "[check]\npage_size = 3\n").expect("config");
        for keep in ["rows", "keys"] {
            let demo = TestDb::demo(t.backend, 40);
            let run_logged = || {
                demo.sigov()
                    .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
                    .env("SIGOV_CONFIG", small.to_str().expect("utf-8"))
                    .args(["-vv", "--format", "json", "check", "all", "--no-mail"])
                    .run()
                    .ok()
            };
            let run = || run_logged().json();
            let first = run();
            let made: i64 = first["checks"]
                .as_array()
                .expect("checks")
                .iter()
                .map(|c| c["counters"]["created"].as_i64().unwrap_or(0))
                .sum();
            assert!(made > 20, "{made} alerts: too few to span chunks");
            if keep == "rows" {
                demo.exec("DELETE FROM sigov_outbox");
                demo.exec("DELETE FROM sigov_alert_ledger");
            } else {
                demo.exec("DELETE FROM core_alerteprojet");
                demo.exec("DELETE FROM core_notificationetape");
                // Keys of several days: the day before (in the look-back window), and one far
                // ahead (a run with a later --date), each read with the day's others.
                demo.exec(
                    "UPDATE sigov_alert_ledger SET business_date = '2026-11-21' \
                     WHERE alert_key IN (SELECT alert_key FROM (SELECT alert_key FROM sigov_alert_ledger \
                     WHERE check_name = 'tasks' ORDER BY alert_key LIMIT 40) x)",
                );
                demo.exec(
                    "UPDATE sigov_alert_ledger SET business_date = '2029-01-01' \
                     WHERE alert_key IN (SELECT alert_key FROM (SELECT MAX(alert_key) AS alert_key \
                     FROM sigov_alert_ledger WHERE check_name = 'deadlines') x)",
                );
            }
            let again = run_logged();
            if keep == "keys" {
                // With no rows left, what a check holds is its ledger keys, every one of them.
                let mut held = 0;
                for line in again.stderr.lines() {
                    let Some((check, rest)) = line
                        .strip_prefix("sigov: debug: ")
                        .and_then(|l| l.split_once(": "))
                    else {
                        continue;
                    };
                    let Some(n) = rest.strip_suffix(" recorded entries held for the check") else {
                        continue;
                    };
                    let keys = demo.count(&format!(
                        "SELECT COUNT(*) AS n FROM sigov_alert_ledger WHERE check_name = '{check}'"
                    ));
                    assert_eq!(n.parse::<i64>().ok(), Some(keys), "{line}");
                    held += 1;
                }
                assert!(held >= 4, "{}", again.stderr);
            }
            for c in again.json()["checks"].as_array().expect("checks") {
                // Budget thresholds are once per planned budget, which only their ledger key
                // carries (budget::rule::seen_spec): rows alone cannot hold them back.
                if keep == "rows" && c["check"] == "budget" {
                    continue;
                }
                assert_eq!(c["counters"]["created"], 0, "kept only {keep}: {c:#}");
            }
        }
    }
);

backend_test!(
    the_task_total_counts_open_tasks_whether_or_not_any_is_overdue,
    |t| {
        let _ = &t;
        // The candidates counter of the task checks is the reference's count of open tasks (due
        // or not), read from the candidate scan; with no overdue task it is counted apart.
        let demo = TestDb::demo(t.backend, 40);
        let open = |table: &str, statuses: &str| {
            demo.count(&format!(
            "SELECT COUNT(*) AS n FROM {table} WHERE statut IN ({statuses}) AND date_fin IS NOT NULL"
        ))
        };
        let stage_open = "'A_FAIRE', 'EN_COURS', 'BLOQUEE'";
        let stage = open("core_tacheetape", stage_open);
        let overdue = demo.count(&format!(
        "SELECT COUNT(*) AS n FROM core_tacheetape WHERE statut IN ({stage_open}) AND date_fin < '2026-11-22'"
    ));
        assert!(overdue > 0 && overdue < stage, "{overdue} of {stage}");
        let r = demo.check_ok("tasks", "reference");
        assert_eq!(r["counters"]["candidates"], stage, "{r:#}");
        let module = demo.count(
        "SELECT COUNT(*) AS n FROM core_tachemodule WHERE statut IN ('A_FAIRE', 'EN_COURS', 'EN_PAUSE') AND date_fin IS NOT NULL",
    );
        assert!(module > 0);
        let r = demo.check_ok("tasks", "recommended");
        assert_eq!(r["counters"]["candidates"], stage + module, "{r:#}");
        // Nothing overdue any more: the same total.
        demo.exec("UPDATE core_tacheetape SET date_fin = '2027-06-30', date_debut = '2027-01-01' WHERE date_fin IS NOT NULL");
        demo.exec("UPDATE core_tachemodule SET date_fin = '2027-06-30', date_debut = '2027-01-01' WHERE date_fin IS NOT NULL");
        let r = demo.check_ok("tasks", "recommended");
        assert_eq!(r["counters"]["created"], 0, "{r:#}");
        assert_eq!(r["counters"]["candidates"], stage + module, "{r:#}");
    }
);

backend_test!(
    the_run_team_cache_reads_each_team_once_and_stays_bounded,
    |t| {
        use sigov::source::TeamCache;
        // The checks of one run share a cache of project teams: a project's team is read once,
        // whatever the pages and checks that need it; a full cache starts again from the page at
        // hand and still answers every project of it as the database would.
        let demo = TestDb::demo(t.backend, 40);
        let mut db = demo.db();
        #[derive(diesel::QueryableByName)]
        struct Id {
            #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = sigov::db::text::Lossy)]
            id: String,
        }
        let ids: Vec<String> = db
            .load::<Id>("SELECT id FROM core_projet ORDER BY id", &[])
            .expect("projects")
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert!(ids.len() >= 40);
        let mut all = TeamCache::default();
        all.load(&mut db, ids.iter().map(String::as_str))
            .expect("teams");
        assert_eq!(all.reads, 1);
        all.load(&mut db, ids.iter().rev().map(String::as_str))
            .expect("teams again");
        assert_eq!(all.reads, 1, "held teams are not read again");
        let mut members = 0;
        for id in &ids {
            let team = all.team(&db, id);
            let active = demo.count(&format!(
            "SELECT COUNT(*) AS n FROM core_affectation a JOIN core_utilisateur u ON u.id = a.utilisateur_id \
             WHERE a.date_fin IS NULL AND a.projet_id = '{id}'"
        ));
            assert_eq!(team.len() as i64, active, "project {id}");
            let responsables = team.iter().filter(|(r, _)| *r).count();
            assert_eq!(
                all.responsable(&db, id).is_some(),
                responsables > 0,
                "project {id}"
            );
            members += team.len();
        }
        assert!(members > 40, "{members} members");
        // More projects than it can hold: a page's teams only, those it already holds kept.
        let mut small = TeamCache::with_capacity(5);
        let pages: Vec<Vec<&str>> = ids
            .chunks(4)
            .map(|c| c.iter().map(String::as_str).collect())
            .collect();
        for page in &pages {
            small
                .load(&mut db, page.iter().copied())
                .expect("page teams");
            assert!(small.len() <= 4, "{} projects held", small.len());
            for id in page {
                assert_eq!(small.team(&db, id), all.team(&db, id), "project {id}");
            }
        }
        assert_eq!(small.reads as usize, pages.len());
        let reads = small.reads;
        let last = pages.last().expect("a page");
        small
            .load(&mut db, last.iter().copied())
            .expect("same page");
        assert_eq!(small.reads, reads, "a page's own teams are not read again");
    }
);

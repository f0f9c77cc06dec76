//! The two checks added the new way (issue 29): `start-dates` and `stale-work`, on every
//! backend: first run, rerun, a moved date, a closed project, an inactive user, no e-mail, the
//! calendar options, the reference profile.

use crate::backend_test;
use crate::common::{alerts, Data, TestDb, INACTIVE, MEMBER, NOMAIL, RESP, TERMINE};

const P1: &str = "81000000000000000000000000000001";
const CLOSED: &str = "82000000000000000000000000000002";

fn run(t: &TestDb, check: &str, day: &str, cfg: Option<&std::path::Path>) -> serde_json::Value {
    let mut s = t
        .sigov()
        .env("SIGOV_NOW", &format!("{day}T09:00:00Z"))
        .args(["--format", "json", "check", check, "--no-mail"])
        .args(["--profile", "recommended", "--date", day]);
    if let Some(c) = cfg {
        s = s.env("SIGOV_CONFIG", c.to_str().expect("utf-8"));
    }
    let r = s.run();
    assert_eq!(r.code, 0, "{r:#?}");
    r.json()
}

fn of_type(t: &TestDb, types: &[&str]) -> Vec<(String, String, String)> {
    alerts(t)
        .into_iter()
        .filter(|a| types.contains(&a.0.as_str()))
        .map(|a| (a.0, a.1, a.2))
        .collect()
}

/// A project in progress (RESP its responsable; MEMBER, NOMAIL and INACTIVE in its team) and a
/// closed one, each with a stage to come and a stage in progress.
fn projects(t: &TestDb) -> Data {
    let mut d = Data::new(t);
    d.project(P1, "Portail RH", Some("2027-06-30"));
    d.project_with(CLOSED, "Ancien projet", Some("2027-06-30"), TERMINE, RESP);
    for (i, (p, u, resp)) in [
        (P1, RESP, true),
        (P1, MEMBER, false),
        (P1, NOMAIL, false),
        (P1, INACTIVE, false),
        (CLOSED, RESP, true),
        (CLOSED, MEMBER, false),
    ]
    .iter()
    .enumerate()
    {
        d.member(&format!("b{i:031}"), p, u, *resp);
    }
    d
}

fn start_dates_data(t: &TestDb) {
    let mut d = projects(t);
    // One stage of each type a project (Développement is type 3).
    let stage = |d: &mut Data, id: &str, p: &str, typ: i64, statut: &str| {
        d.stage(id, p, typ, statut, Some("2027-01-31"));
    };
    stage(&mut d, "e8000000000000000000000000000001", P1, 3, "A_VENIR");
    stage(
        &mut d,
        "e8000000000000000000000000000002",
        P1,
        2,
        "EN_COURS",
    );
    stage(&mut d, "e8000000000000000000000000000003", P1, 4, "A_VENIR");
    stage(&mut d, "e8000000000000000000000000000004", P1, 5, "A_VENIR");
    stage(
        &mut d,
        "e8000000000000000000000000000005",
        CLOSED,
        3,
        "A_VENIR",
    );
    // Planned starts: Friday 20 November for the stages to come; the third has started
    // nonetheless; the fourth starts on Monday 23rd.
    t.exec("UPDATE core_etapeprojet SET date_debut_prevue = '2026-11-20'");
    t.exec("UPDATE core_etapeprojet SET date_debut_reelle = '2026-11-20 09:00:00' WHERE id = 'e8000000000000000000000000000003'");
    t.exec("UPDATE core_etapeprojet SET date_debut_prevue = '2026-11-23' WHERE id = 'e8000000000000000000000000000004'");
    let task = |d: &mut Data, n: u32, nom: &str, statut: &str, who: Option<&str>| {
        d.task(
            &format!("7b{n:030}"),
            "e8000000000000000000000000000002",
            nom,
            statut,
            "2026-12-31",
            who,
        );
    };
    task(&mut d, 1, "Maquette", "A_FAIRE", Some(MEMBER));
    task(&mut d, 2, "Sans adresse", "A_FAIRE", Some(NOMAIL));
    task(&mut d, 3, "Inactif", "A_FAIRE", Some(INACTIVE));
    task(&mut d, 4, "Commencée", "EN_COURS", Some(MEMBER));
    task(&mut d, 5, "Personne", "A_FAIRE", None);
    d.task(
        "7c000000000000000000000000000006",
        "e8000000000000000000000000000005",
        "Projet clos",
        "A_FAIRE",
        "2026-12-31",
        Some(MEMBER),
    );
    t.exec("UPDATE core_tacheetape SET date_debut = '2026-11-21'");
}

backend_test!(start_dates_once_at_the_planned_start_then_once_more, |t| {
    start_dates_data(&t);
    let v = run(&t, "start-dates", "2026-11-22", None);
    let c = &v["counters"];
    assert_eq!(
        of_type(&t, &["ETAPE_NON_DEMARREE", "TACHE_NON_DEMARREE"]),
        [
            (
                "ETAPE_NON_DEMARREE".into(),
                "resp".into(),
                "⏳ Étape Développement - non démarrée".into()
            ),
            (
                "TACHE_NON_DEMARREE".into(),
                "membre".into(),
                "⏳ Tâche non démarrée - Maquette".into()
            ),
            (
                "TACHE_NON_DEMARREE".into(),
                "sansmail".into(),
                "⏳ Tâche non démarrée - Sans adresse".into()
            ),
        ],
        "{v:#}"
    );
    assert_eq!(c["created"], 3, "{v:#}");
    assert_eq!(c["candidates"], 5, "a stage and four tasks: {v:#}");
    assert_eq!(c["skipped"]["inactive_recipient"], 1, "{v:#}");
    assert_eq!(c["skipped"]["unassigned_task"], 1, "{v:#}");
    assert_eq!(c["mails_queued"], 2, "{v:#}");
    assert_eq!(c["mails_skipped"]["no_email"], 1, "{v:#}");
    // Rerun: nothing new.
    let v = run(&t, "start-dates", "2026-11-22", None);
    assert_eq!(v["counters"]["created"], 0, "{v:#}");
    // Monday 23rd: the stage starting that day; the stage of Friday is three days late: its
    // second alert (WARNING).
    let v = run(&t, "start-dates", "2026-11-23", None);
    assert_eq!(v["counters"]["created"], 2, "{v:#}");
    let warnings = t.count(
        "SELECT COUNT(*) AS n FROM core_alerteprojet WHERE type_alerte = 'ETAPE_NON_DEMARREE' AND niveau = 'WARNING'",
    );
    assert_eq!(warnings, 1);
    let v = run(&t, "start-dates", "2026-11-23", None);
    assert_eq!(v["counters"]["created"], 0, "{v:#}");
    // A planned start that moves arms it again.
    t.exec("UPDATE core_tacheetape SET date_debut = '2026-11-23' WHERE nom = 'Maquette'");
    let v = run(&t, "start-dates", "2026-11-23", None);
    assert_eq!(v["counters"]["created"], 1, "{v:#}");
    // The reference profile never runs it.
    let r = t
        .sigov()
        .args(["check", "start-dates", "--profile", "reference"])
        .run();
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(
        r.error_line()
            .contains("start-dates is not one of the reference's checks"),
        "{r:#?}"
    );
});

backend_test!(start_dates_count_open_days_when_the_calendar_says_so, |t| {
    start_dates_data(&t);
    let dir_tmp = crate::common::tempdir("start");
    let dir = dir_tmp.path().to_path_buf();
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("sigov.toml");
    std::fs::write(
        &cfg,
        "[calendar]\nbusiness_days = [\"start-dates\"]\n[start_dates]\nremind_after_days = 2\n",
    )
    .unwrap();
    run(&t, "start-dates", "2026-11-22", Some(&cfg));
    // Friday 20th to Monday 23rd is one open day: no second alert yet; Tuesday is two.
    let v = run(&t, "start-dates", "2026-11-23", Some(&cfg));
    let second = "SELECT COUNT(*) AS n FROM core_alerteprojet WHERE type_alerte = 'ETAPE_NON_DEMARREE' AND niveau = 'WARNING'";
    assert_eq!(t.count(second), 0, "{v:#}");
    run(&t, "start-dates", "2026-11-24", Some(&cfg));
    assert_eq!(t.count(second), 1);
});

fn stale_data(t: &TestDb) {
    let mut d = projects(t);
    d.stage(
        "e9000000000000000000000000000001",
        P1,
        3,
        "EN_COURS",
        Some("2027-01-31"),
    );
    d.stage(
        "e9000000000000000000000000000002",
        CLOSED,
        3,
        "EN_COURS",
        Some("2027-01-31"),
    );
    let task = |d: &mut Data, n: u32, etape: &str, nom: &str, statut: &str, who: Option<&str>| {
        d.task(&format!("7d{n:030}"), etape, nom, statut, "2026-12-31", who);
    };
    let e1 = "e9000000000000000000000000000001";
    task(&mut d, 1, e1, "Recette", "EN_COURS", Some(MEMBER));
    task(&mut d, 2, e1, "Bloquée", "BLOQUEE", Some(MEMBER));
    task(&mut d, 3, e1, "Récente", "EN_COURS", Some(MEMBER));
    task(&mut d, 4, e1, "Sans adresse", "EN_COURS", Some(NOMAIL));
    task(&mut d, 5, e1, "Inactif", "EN_COURS", Some(INACTIVE));
    task(&mut d, 6, e1, "À faire", "A_FAIRE", Some(MEMBER));
    task(
        &mut d,
        7,
        "e9000000000000000000000000000002",
        "Projet clos",
        "EN_COURS",
        Some(MEMBER),
    );
    // Last modified (UTC): 1 November for most; the blocked task on 14 November (9 days
    // before Monday 23rd); the recent one on the 20th.
    t.exec("UPDATE core_tacheetape SET date_modification = '2026-11-01 10:00:00'");
    t.exec("UPDATE core_tacheetape SET date_modification = '2026-11-14 10:00:00', raison_blocage = 'Attente du client' WHERE nom = 'Bloquée'");
    t.exec("UPDATE core_tacheetape SET date_modification = '2026-11-20 10:00:00' WHERE nom = 'Récente'");
}

backend_test!(
    stale_work_tells_the_assignee_once_and_the_responsable_weekly,
    |t| {
        stale_data(&t);
        let v = run(&t, "stale-work", "2026-11-23", None);
        let c = &v["counters"];
        let got = of_type(&t, &["TACHE_INACTIVE", "TACHES_INACTIVES"]);
        assert_eq!(
            got,
            [
                (
                    "TACHES_INACTIVES".into(),
                    "resp".into(),
                    "💤 Tâches sans mise à jour - Portail RH".into()
                ),
                (
                    "TACHE_INACTIVE".into(),
                    "membre".into(),
                    "💤 Tâche sans mise à jour - Recette".into()
                ),
                (
                    "TACHE_INACTIVE".into(),
                    "membre".into(),
                    "🧱 Tâche bloquée sans mise à jour - Bloquée".into()
                ),
                (
                    "TACHE_INACTIVE".into(),
                    "sansmail".into(),
                    "💤 Tâche sans mise à jour - Sans adresse".into()
                ),
            ]
            .into_iter()
            .collect::<std::collections::BTreeSet<(String, String, String)>>()
            .into_iter()
            .collect::<Vec<_>>(),
            "{v:#}"
        );
        assert_eq!(c["candidates"], 4, "{v:#}");
        assert_eq!(c["skipped"]["inactive_recipient"], 1, "{v:#}");
        assert_eq!(c["mails_skipped"]["no_email"], 1, "{v:#}");
        let summary = alerts(&t)
            .into_iter()
            .find(|a| a.0 == "TACHES_INACTIVES")
            .expect("the summary");
        assert!(
        summary.3.starts_with("4 tâches du projet 'Portail RH' n'ont pas été mises à jour depuis plus de 14 jours, dont 1 bloquée"),
        "{}",
        summary.3
    );
        // Rerun, and the next day: nothing new (once per staleness, once a week).
        assert_eq!(
            run(&t, "stale-work", "2026-11-23", None)["counters"]["created"],
            0
        );
        assert_eq!(
            run(&t, "stale-work", "2026-11-24", None)["counters"]["created"],
            0
        );
        // A modified task is armed again: stale anew two weeks after its modification.
        t.exec("UPDATE core_tacheetape SET date_modification = '2026-11-24 10:00:00' WHERE nom = 'Recette'");
        let v = run(&t, "stale-work", "2026-11-30", None);
        assert_eq!(
            v["counters"]["created"], 1,
            "the next week's summary: {v:#}"
        );
        let v = run(&t, "stale-work", "2026-12-08", None);
        assert_eq!(
            v["counters"]["created"], 3,
            "a summary, Recette stale again, Récente stale now: {v:#}"
        );
        assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM core_alerteprojet WHERE type_alerte = 'TACHES_INACTIVES'"),
        3,
        "one summary a week"
    );
    }
);

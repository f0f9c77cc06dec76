//! `sigov check task-reminders`, the sixth check: open tasks due soon, reminded to their assignee
//! once per (task, due date, milestone), on every backend.

use crate::backend_test;
use crate::common::{alerts, Data, Sigov, TestDb, ADMIN, INACTIVE, MEMBER, NOMAIL, RESP};

const P1: &str = "71000000000000000000000000000001";
const CLOSED: &str = "72000000000000000000000000000002";
const OUTSIDER: &str = "f7000000000000000000000000000007";

/// Tasks around 2026-11-22: due tomorrow, today, in three days, late, closed, in a closed
/// project, unassigned, and assigned to people who get nothing (inactive, no access) or no mail.
fn tasks(t: &TestDb) {
    let mut d = Data::new(t);
    d.user(
        OUTSIDER,
        "dehors",
        "Hors",
        "Projet",
        "dehors@sigov.test",
        false,
        true,
    );
    d.project(P1, "Portail RH", Some("2027-06-30"));
    d.project_with(CLOSED, "Ancien projet", Some("2027-06-30"), 13, ADMIN);
    for (i, (p, u, resp)) in [
        (P1, RESP, true),
        (P1, MEMBER, false),
        (P1, NOMAIL, false),
        (P1, INACTIVE, false),
        (CLOSED, MEMBER, false),
    ]
    .iter()
    .enumerate()
    {
        d.member(&format!("a{i:031}"), p, u, *resp);
    }
    let e1 = "e1000000000000000000000000000001";
    let e2 = "e2000000000000000000000000000002";
    d.stage(e1, P1, 3, "EN_COURS", Some("2027-01-31"));
    d.stage(e2, CLOSED, 3, "EN_COURS", Some("2027-01-31"));
    let task = |d: &mut Data, n: u32, etape: &str, nom: &str, statut: &str, fin: &str, who| {
        d.task(&format!("7a{n:030}"), etape, nom, statut, fin, who);
    };
    task(
        &mut d,
        1,
        e1,
        "Demain",
        "A_FAIRE",
        "2026-11-23",
        Some(MEMBER),
    );
    task(
        &mut d,
        2,
        e1,
        "Aujourd'hui",
        "EN_COURS",
        "2026-11-22",
        Some(MEMBER),
    );
    task(
        &mut d,
        3,
        e1,
        "Sans adresse",
        "BLOQUEE",
        "2026-11-23",
        Some(NOMAIL),
    );
    task(
        &mut d,
        4,
        e1,
        "Inactif",
        "A_FAIRE",
        "2026-11-23",
        Some(INACTIVE),
    );
    task(
        &mut d,
        5,
        e1,
        "Hors équipe",
        "A_FAIRE",
        "2026-11-23",
        Some(OUTSIDER),
    );
    task(
        &mut d,
        6,
        e2,
        "Projet clos",
        "A_FAIRE",
        "2026-11-23",
        Some(MEMBER),
    );
    task(
        &mut d,
        7,
        e1,
        "Plus tard",
        "A_FAIRE",
        "2026-11-25",
        Some(MEMBER),
    );
    task(
        &mut d,
        8,
        e1,
        "Déjà faite",
        "TERMINEE",
        "2026-11-23",
        Some(MEMBER),
    );
    task(
        &mut d,
        9,
        e1,
        "En retard",
        "A_FAIRE",
        "2026-11-21",
        Some(MEMBER),
    );
    task(&mut d, 10, e1, "Personne", "A_FAIRE", "2026-11-23", None);
    d.module_task(
        5,
        P1,
        e1,
        "Paiement",
        51,
        "Brancher la banque",
        "EN_PAUSE",
        "2026-11-23",
        Some(MEMBER),
    );
}

fn remind(t: &TestDb, day: &str, extra: &[&str]) -> (i32, serde_json::Value) {
    let r = t
        .sigov()
        .env("SIGOV_NOW", &format!("{day}T10:00:00Z"))
        .args(["--format", "json", "check", "task-reminders", "--no-mail"])
        .args(["--profile", "recommended", "--date", day])
        .args(extra)
        .run();
    let v = r.json();
    (r.code, v)
}

fn reminders(t: &TestDb) -> Vec<(String, String)> {
    alerts(t)
        .into_iter()
        .filter(|a| a.0 == "TACHE_ECHEANCE")
        .map(|a| (a.1, a.2))
        .collect()
}

backend_test!(reminds_the_assignee_once_per_milestone_with_catch_up, |t| {
    tasks(&t);
    let (code, v) = remind(&t, "2026-11-22", &[]);
    assert_eq!(code, 0, "{v:#}");
    let c = &v["counters"];
    assert_eq!(
        reminders(&t),
        [
            (
                "membre".into(),
                "⏰ Tâche à rendre aujourd'hui - Aujourd'hui".into()
            ),
            (
                "membre".into(),
                "🔔 Tâche à rendre demain - Brancher la banque".into()
            ),
            ("membre".into(), "🔔 Tâche à rendre demain - Demain".into()),
            (
                "sansmail".into(),
                "🔔 Tâche à rendre demain - Sans adresse".into()
            ),
        ],
        "{v:#}"
    );
    assert_eq!(c["created"], 4, "{v:#}");
    // The day-before reminder of the task due today was missed: recorded, not sent.
    assert_eq!(c["superseded"], 1, "{v:#}");
    assert_eq!(c["skipped"]["inactive_recipient"], 1, "{v:#}");
    assert_eq!(c["skipped"]["assignee_without_access"], 1, "{v:#}");
    assert_eq!(c["skipped"]["closed_project"], 1, "{v:#}");
    assert_eq!(c["skipped"]["unassigned_task"], 1, "{v:#}");
    assert_eq!(c["mails_queued"], 3, "{v:#}");
    assert_eq!(c["mails_skipped"]["no_email"], 1, "{v:#}");
    let niveau = t.count(
        "SELECT COUNT(*) AS n FROM core_alerteprojet WHERE type_alerte = 'TACHE_ECHEANCE' AND niveau = 'WARNING'",
    );
    assert_eq!(niveau, 1, "WARNING on the due day, INFO before");
    // Idempotent: the same day again creates nothing and queues nothing.
    let (code, v) = remind(&t, "2026-11-22", &[]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["counters"]["created"], 0, "{v:#}");
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sigov_outbox"),
        3,
        "no mail twice"
    );
    // The next day: the due-today reminders of the three tasks due on the 23rd.
    let (code, v) = remind(&t, "2026-11-23", &[]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["counters"]["created"], 3, "{v:#}");
    let today: Vec<(String, String)> = reminders(&t)
        .into_iter()
        .filter(|(_, titre)| titre.starts_with('⏰'))
        .collect();
    assert_eq!(today.len(), 4, "{today:?}");
    let (_, v) = remind(&t, "2026-11-23", &[]);
    assert_eq!(v["counters"]["created"], 0, "{v:#}");
    // A moved due date arms the reminders again.
    t.exec("UPDATE core_tacheetape SET date_fin = '2026-11-24' WHERE nom = 'Demain'");
    let (_, v) = remind(&t, "2026-11-23", &[]);
    assert_eq!(v["counters"]["created"], 1, "{v:#}");
});

backend_test!(
    reminders_are_off_by_default_and_never_in_the_reference,
    |t| {
        tasks(&t);
        // check all runs checks.enabled: the reference's five unless configured.
        let all = |profile: &str, checks: Option<&str>| {
            let mut s = t
                .sigov()
                .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
                .args(["--format", "json", "check", "all", "--no-mail"])
                .args(["--profile", profile, "--date", "2026-11-22"]);
            if let Some(c) = checks {
                s = s.env("SIGOV_CHECKS", c);
            }
            let r = s.run();
            assert_eq!(r.code, 0, "{r:#?}");
            let v = r.json();
            v["checks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["check"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            all("recommended", None),
            ["deadlines", "stages", "tasks", "budget", "contracts"]
        );
        assert!(reminders(&t).is_empty());
        assert_eq!(
            all("reference", Some("task-reminders,deadlines")),
            ["deadlines"]
        );
        assert!(reminders(&t).is_empty(), "the reference never reminds");
        assert_eq!(
            all("recommended", Some("task-reminders, tasks")),
            ["tasks", "task-reminders"]
        );
        assert_eq!(reminders(&t).len(), 4);
        let r = Sigov::new()
            .env("SIGOV_DATABASE_URL", &t.url)
            .args(["check", "task-reminders", "--profile", "reference"])
            .run();
        assert_eq!(r.code, 1);
        assert!(
            r.error_line()
                .contains("task-reminders is not one of the reference's checks"),
            "{r:#?}"
        );
        let r = Sigov::new()
            .env("SIGOV_DATABASE_URL", &t.url)
            .env("SIGOV_CHECKS", "deadlines,reminders")
            .args(["check", "all"])
            .run();
        assert_eq!(r.code, 1);
        assert!(
            r.error_line().contains("unknown check `reminders`"),
            "{r:#?}"
        );
    }
);

backend_test!(a_reminder_mail_says_what_and_when, |t| {
    tasks(&t);
    let dir_tmp = crate::common::tempdir("remind");
    let dir = dir_tmp.path().to_path_buf();
    let r = t
        .sigov()
        .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
        .env("SIGOV_MAIL_TRANSPORT", &format!("file://{}", dir.display()))
        .args(["check", "task-reminders", "--profile", "recommended"])
        .args(["--date", "2026-11-22"])
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
    let mut mails: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    mails.sort();
    assert_eq!(mails.len(), 3);
    let demain = mails
        .iter()
        .find(|m| m.contains("Demain") && !m.contains("Brancher"))
        .expect("the mail of the task due tomorrow");
    assert!(demain.contains("To: "), "{demain}");
    assert!(demain.contains("membre@sigov.test"), "{demain}");
    // Its label and advice come from the check (quoted-printable may wrap lines).
    let flat = demain.replace("=\r\n", "").replace("=\n", "");
    assert!(
        flat.contains("T=C3=A2che =C3=A0 =C3=A9ch=C3=A9ance") || flat.contains("Tâche à échéance"),
        "{flat}"
    );
    assert!(flat.contains("Terminez la t"), "{flat}");
});

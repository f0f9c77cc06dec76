//! A week around Christmas 2026 (Friday 25 a holiday, then a weekend), simulated with
//! `--date` and `SIGOV_NOW` through the real binary on every backend and the real SMTP relay:
//! the checks run every night at 22:00 (Paris) and mail is flushed every morning at 08:00, with
//! quiet hours (`mail.send_window = "mon-fri 08:00-19:00"`), a milestone moved off a closed day,
//! an escalation ladder on overdue tasks, a muted user and a daily-digest user.
//!
//! `SIGOV_WEEK_TABLE=1` prints the week as a table (the issue's closing note shows it).

use crate::common::{Data, Sigov, TestDb, MEMBER, RESP};
use crate::relay::Relay;
use sigov::db::Backend;

const PROJECT: &str = "73000000000000000000000000000003";
const STAGE: &str = "e3000000000000000000000000000003";
const TASK: &str = "7b000000000000000000000000000001";

const CONFIG: &str = r#"
[mail]
send_window = "mon-fri 08:00-19:00"
preferences_contact = "https://intranet.example.org/alertes"

[calendar]
milestones_on_working_days = ["deadlines"]
working_days_only = ["tasks"]

[escalation]
tasks = [{ after = 3, to = "responsable" }, { after = 7, to = "superusers" }]
"#;

/// A project ending Tuesday 29 December 2026, and a task of it due Tuesday 15 December, open,
/// assigned to the member; the responsable leads the project, the admin (a superuser) created
/// it.
fn data(t: &TestDb) {
    let mut d = Data::new(t);
    d.project(PROJECT, "Refonte intranet", Some("2026-12-29"));
    d.member("a3000000000000000000000000000001", PROJECT, RESP, true);
    d.member("a3000000000000000000000000000002", PROJECT, MEMBER, false);
    d.stage(STAGE, PROJECT, 3, "EN_COURS", Some("2027-03-31"));
    d.task(
        TASK,
        STAGE,
        "Recette",
        "A_FAIRE",
        "2026-12-15",
        Some(MEMBER),
    );
}

struct Day {
    date: &'static str,
    flush: &'static str,
    weekday: &'static str,
    created: Vec<String>,
    held: i64,
    sent: Vec<String>,
}

/// `check tasks` on Tuesday 22 December at `now`, without delivery.
fn tasks_on_22(t: &TestDb, now: &str) -> crate::common::Run {
    t.sigov()
        .env("SIGOV_NOW", now)
        .args([
            "--format",
            "json",
            "check",
            "tasks",
            "--no-mail",
            "--date",
            "2026-12-22",
        ])
        .run()
}

fn sigov(t: &TestDb, cfg: &std::path::Path, relay: &Relay, now: &str) -> Sigov {
    t.sigov()
        .env("SIGOV_CONFIG", cfg.to_str().expect("utf-8"))
        .env("SIGOV_MAIL_TRANSPORT", &relay.plain_url())
        .env("SIGOV_NOW", now)
        .args(["--profile", "recommended"])
}

fn who(email: &str) -> &'static str {
    match email {
        "admin@sigov.test" => "admin",
        "resp@sigov.test" => "resp",
        "membre@sigov.test" => "membre",
        _ => "?",
    }
}

fn week(backend: Backend) {
    let t = TestDb::new(backend);
    data(&t);
    let relay = Relay::start();
    let dir_tmp = crate::common::tempdir("week");
    let dir = dir_tmp.path().to_path_buf();
    std::fs::create_dir_all(&dir).expect("dir");
    let cfg = dir.join("sigov.toml");
    std::fs::write(&cfg, CONFIG).expect("config");
    // People's choices, through the command operators use.
    let r = sigov(&t, &cfg, &relay, "2026-12-21T09:00:00Z")
        .args(["prefs", "set", "membre", "--mute", "check:tasks"])
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
    assert!(r.stdout.contains("muted: check:tasks (for good)"), "{r:#?}");
    let r = sigov(&t, &cfg, &relay, "2026-12-21T09:00:00Z")
        .args(["prefs", "set", "resp", "--digest", "08:00"])
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
    assert!(r.stdout.contains("daily digest at 08:00"), "{r:#?}");

    let days: [(&str, &str, &str); 8] = [
        ("2026-12-22", "mar.", "2026-12-23"),
        ("2026-12-23", "mer.", "2026-12-24"),
        ("2026-12-24", "jeu.", "2026-12-25"),
        ("2026-12-25", "ven. (Noël)", "2026-12-26"),
        ("2026-12-26", "sam.", "2026-12-27"),
        ("2026-12-27", "dim.", "2026-12-28"),
        ("2026-12-28", "lun.", "2026-12-29"),
        ("2026-12-29", "mar.", "2026-12-30"),
    ];
    let mut table: Vec<Day> = Vec::new();
    for (date, weekday, next) in days {
        // 22:00 in Paris: the checks record; their mail waits for the window.
        let r = sigov(&t, &cfg, &relay, &format!("{date}T21:00:00Z"))
            .args(["--format", "json", "check", "all", "--date", date])
            .run();
        assert_eq!(r.code, 0, "{date}: {r:#?}");
        let v = r.json();
        let mut created = Vec::new();
        for c in v["checks"].as_array().expect("checks") {
            if let Some(by) = c["counters"]["by_type"].as_object() {
                for (typ, n) in by {
                    created.push(format!("{typ}×{n}"));
                }
            }
        }
        let before = relay.received().len();
        assert_eq!(
            before,
            table.iter().map(|d| d.sent.len()).sum::<usize>(),
            "{date}: no mail at night"
        );
        // 08:00 in Paris the next morning: the delivery cron.
        let r = sigov(&t, &cfg, &relay, &format!("{next}T07:00:00Z"))
            .args(["--format", "json", "mail", "flush"])
            .run();
        assert_eq!(r.code, 0, "{next}: {r:#?}");
        let held = r.json()["held"].as_i64().unwrap_or(0);
        let got = relay.received();
        let sent: Vec<String> = got[before..]
            .iter()
            .map(|m| format!("{} « {} »", who(&m.rcpt_tos[0]), m.subject))
            .collect();
        for m in &got[before..] {
            // Sent at 08:00 in Paris (07:00 UTC), by the message's own Date.
            let date_h = m.header("Date").expect("Date header");
            assert!(
                date_h.contains(" 07:00:0") && date_h.ends_with("+0000"),
                "{date_h}"
            );
        }
        table.push(Day {
            date,
            flush: next,
            weekday,
            created,
            held,
            sent,
        });
    }
    if std::env::var_os("SIGOV_WEEK_TABLE").is_some() {
        eprintln!("| checks at 22:00 | rows recorded | flush at 08:00 | held | sent |");
        eprintln!("|---|---|---|---|---|");
        for d in &table {
            eprintln!(
                "| {} {} | {} | {} | {} | {} |",
                d.weekday,
                d.date,
                d.created.join(", "),
                d.flush,
                d.held,
                d.sent.join("; ")
            );
        }
    }
    let day = |date: &str| table.iter().find(|d| d.date == date).expect("day");
    // The holiday and the weekend: nothing sent on their mornings (Friday 25, Saturday 26,
    // Sunday 27), everything on Monday 28 at 08:00.
    for d in ["2026-12-24", "2026-12-25", "2026-12-26"] {
        assert!(day(d).sent.is_empty(), "{d}: {:?}", day(d).sent);
        assert!(day(d).held > 0 || d != "2026-12-24", "{d}");
    }
    let monday = &day("2026-12-27").sent;
    assert!(!monday.is_empty());
    // Thursday's alerts went Monday: the J-3 moved off Saturday 26 to Thursday 24 (and said
    // "mardi"), and the escalation of the overdue task to the administrator on working day 7.
    assert!(
        monday
            .iter()
            .any(|m| m.starts_with("admin") && m.contains("Fin mardi")),
        "{monday:?}"
    );
    assert!(
        monday
            .iter()
            .any(|m| m.starts_with("admin") && m.contains("Escalade")),
        "{monday:?}"
    );
    let j3 = t.count(
        "SELECT COUNT(*) AS n FROM core_alerteprojet WHERE type_alerte = 'ECHEANCE_J3' AND message LIKE '%se termine mardi (29/12/2026)%'",
    );
    assert_eq!(j3, 2, "createur and responsable");
    let escalations =
        t.count("SELECT COUNT(*) AS n FROM core_alerteprojet WHERE titre LIKE '⏫ Escalade%'");
    assert_eq!(escalations, 1, "once, to the active superuser");
    let id = t.count("SELECT MIN(id) AS n FROM core_alerteprojet WHERE titre LIKE '⏫ Escalade%'");
    let r = sigov(&t, &cfg, &relay, "2026-12-30T09:00:00Z")
        .args(["alerts", "show", &id.to_string()])
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
    assert!(
        r.stdout.contains("escalated: from 7 open day(s)") && r.stdout.contains("2026-12-15"),
        "{}",
        r.stdout
    );
    assert!(day("2026-12-24")
        .created
        .iter()
        .any(|c| c.starts_with("ECHEANCE_J3")));
    // Nothing recorded on the closed days: no milestone falls there, overdue tasks wait.
    for d in ["2026-12-25", "2026-12-26", "2026-12-27"] {
        assert!(day(d).created.is_empty(), "{d}: {:?}", day(d).created);
    }
    // The muted member: an overdue-task row each open day, never a mail about it.
    let member_rows = t.count(&format!(
        "SELECT COUNT(*) AS n FROM core_alerteprojet WHERE type_alerte = 'TACHES_EN_RETARD' AND destinataire_id = '{MEMBER}'"
    ));
    assert_eq!(member_rows, 5, "Tue 22, Wed 23, Thu 24, Mon 28, Tue 29");
    let all: Vec<String> = table.iter().flat_map(|d| d.sent.clone()).collect();
    assert!(
        !all.iter()
            .any(|m| m.starts_with("membre") && m.contains("Tâche en retard")),
        "{all:?}"
    );
    // The J-7 reached the member (only tasks are muted).
    assert!(
        all.iter()
            .any(|m| m.starts_with("membre") && m.contains("7 jours")),
        "{all:?}"
    );
    // The digest user: exactly one mail on each morning with something to say.
    for d in &table {
        let n = d.sent.iter().filter(|m| m.starts_with("resp")).count();
        assert!(n <= 1, "{}: {:?}", d.date, d.sent);
        if !d.sent.is_empty() {
            assert_eq!(n, 1, "{}: {:?}", d.date, d.sent);
        }
    }
    let pending = t.count("SELECT COUNT(*) AS n FROM sigov_outbox WHERE state <> 'sent'");
    assert_eq!(pending, 0, "everything was delivered");
    // Every mail says why the person receives it and where to change it.
    for m in relay.received() {
        let text = m.part("text/plain");
        assert!(text.contains("Vous recevez ce"), "{text}");
        assert!(
            text.contains("https://intranet.example.org/alertes"),
            "{text}"
        );
    }
}

crate::backend_test!(a_week_across_christmas, fn super::week);

/// `sigov prefs` refuses what it cannot record in one line naming the thing, and a person who
/// turned all mail off gets alert rows and no mail.
fn prefs_inputs(backend: Backend) {
    let t = TestDb::new(backend);
    data(&t);
    let run = |args: &[&str]| t.sigov().args(["prefs"]).args(args).run();
    for (args, why) in [
        (&["set", "nobody", "--mail", "off"][..], "no user `nobody`"),
        (
            &["set", "resp", "--mute", "check:nope"][..],
            "no such check",
        ),
        (
            &["set", "resp", "--mute", "colour:red"][..],
            "expected check:NAME",
        ),
        (&["set", "resp"][..], "nothing to set"),
        (
            &[
                "set",
                "resp",
                "--mute",
                "project:73000000000000000000000000000999",
            ][..],
            "no such project",
        ),
        (
            &["set", "resp", "--mute", "project:intranet"][..],
            "no such project",
        ),
        (&["clear", "resp"][..], "--all"),
        (
            &["set", "resp", "--mute", "type:taches_en_retard"][..],
            "upper case",
        ),
        (
            &["set", "resp", "--mute", "check:"][..],
            "expected check:NAME",
        ),
        (
            &[
                "set",
                "resp",
                "--mute",
                "check:tasks",
                "--until",
                "2020-01-31",
            ][..],
            "that day is past",
        ),
    ] {
        // Usage errors: exit 2, one line.
        let r = run(args);
        assert_eq!(r.code, 2, "{args:?}: {r:#?}");
        assert!(r.error_line().contains(why), "{args:?}: {}", r.error_line());
        assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {r:#?}");
    }
    // A past last day is recorded when asked for.
    let r = run(&[
        "set",
        "resp",
        "--mute",
        "check:tasks",
        "--until",
        "2020-01-31",
        "--force",
    ]);
    assert_eq!(r.code, 0, "{r:#?}");
    run(&["clear", "resp", "--all"]).ok();
    let r = run(&["set", "resp", "--digest", "8h"]);
    assert_eq!(r.code, 2, "{r:#?}");
    // By id too, and mail off: the overdue task's row is written for the responsable, its mail
    // is not queued.
    let r = run(&[
        "set",
        RESP,
        "--mail",
        "off",
        "--mute",
        "project:73000000-0000-0000-0000-000000000003",
        "--until",
        "2026-12-31",
    ]);
    assert_eq!(r.code, 0, "{r:#?}");
    assert!(r.stdout.contains("mail: off"), "{r:#?}");
    let v = tasks_on_22(&t, "2026-12-22T21:00:00Z").json();
    assert_eq!(v["counters"]["created"], 2, "{v:#}");
    assert_eq!(v["counters"]["mails_skipped"]["mail_off"], 1, "{v:#}");
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) AS n FROM sigov_outbox WHERE recipient_id = '{RESP}'"
        )),
        0
    );
    let r = run(&[
        "clear",
        "resp",
        "--mute",
        "project:73000000-0000-0000-0000-000000000003",
    ]);
    assert_eq!(r.code, 0, "{r:#?}");
    assert!(r.stdout.contains("muted: nothing"), "{r:#?}");
    let r = run(&["clear", "resp", "--all"]);
    assert_eq!(r.code, 0, "{r:#?}");
    assert!(
        r.stdout.contains("mail: on") && r.stdout.contains("muted: nothing"),
        "{r:#?}"
    );
}

crate::backend_test!(prefs_are_checked_and_followed, fn super::prefs_inputs);

/// The calendar, escalation and footer settings refuse what they cannot use in one line naming
/// the key.
#[test]
fn bad_calendar_and_escalation_settings_are_refused() {
    let dir_tmp = crate::common::tempdir("badcal");
    let dir = dir_tmp.path().to_path_buf();
    std::fs::create_dir_all(&dir).expect("dir");
    for (n, (toml, why)) in [
        (
            "[escalation]\ntasks = [{ after = 3, to = \"createur\" }]\n",
            "escalation.tasks: the tasks check cannot reach `createur`",
        ),
        (
            "[escalation]\ntasks = [{ after = 3, to = \"boss\" }]\n",
            "escalation",
        ),
        (
            "[escalation]\nbudget = [{ after = 400, to = \"superusers\" }]\n",
            "more than a year",
        ),
        ("[escalation]\nstages = [{ after = 3 }]\n", "escalation"),
        ("[calendar]\nbusiness_days = [\"weekly\"]\n", "calendar"),
        (
            "[calendar]\nbusiness_days = [\"budget\"]\n",
            "calendar.business_days: the budget check has no dates to count from",
        ),
        (
            "[calendar]\nmilestones_on_working_days = [\"stages\"]\n",
            "calendar.milestones_on_working_days: the stages check has no milestones",
        ),
        (
            "[calendar]\nworking_days_only = [\"contracts\"]\n",
            "calendar.working_days_only: the contracts check has no repeating alerts",
        ),
        (
            "[calendar]\nmilestones_on_working_days = \"deadlines\"\n",
            "calendar",
        ),
    ]
    .iter()
    .enumerate()
    {
        let cfg = dir.join(format!("{n}.toml"));
        std::fs::write(&cfg, toml).expect("config");
        let r = Sigov::new()
            .env("SIGOV_CONFIG", cfg.to_str().expect("utf-8"))
            .args(["config", "show"])
            .run();
        assert_eq!(r.code, 1, "{toml}: {r:#?}");
        let line = r.error_line();
        assert!(line.contains(why), "{toml}: {line}");
        assert_eq!(r.stderr.trim().lines().count(), 1, "{toml}: {}", r.stderr);
    }
}

/// A daily digest waiting for its hour is not late: `health` counts a mail's wait from when it
/// is due.
fn digest_wait_is_no_delay(backend: Backend) {
    let t = TestDb::new(backend);
    data(&t);
    for who in ["membre", "resp"] {
        let r = t
            .sigov()
            .args(["prefs", "set", who, "--digest", "08:00"])
            .run();
        assert_eq!(r.code, 0, "{r:#?}");
    }
    // Tuesday 11:00 in Paris: the two overdue-task mails wait for Wednesday 08:00.
    let r = tasks_on_22(&t, "2026-12-22T10:00:00Z");
    assert_eq!(r.code, 0, "{r:#?}");
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sigov_outbox WHERE state = 'pending' AND batch_key IS NOT NULL"),
        2
    );
    let health = |now: &str| {
        let r = t
            .sigov()
            .env("SIGOV_NOW", now)
            .args(["--format", "json", "health"])
            .run();
        r.json()
    };
    // Tuesday 16:00: five hours after queueing, not yet due: no delay.
    let h = health("2026-12-22T15:00:00Z");
    assert!(
        h["outbox"]["oldest_pending_age_secs"].as_i64().unwrap_or(0) <= 0,
        "{h:#}"
    );
    assert!(!h.to_string().contains("pending, the oldest"), "{h:#}");
    // Wednesday 09:00 in Paris: due an hour ago, and late by that.
    let h = health("2026-12-23T08:00:00Z");
    assert_eq!(h["outbox"]["oldest_pending_age_secs"], 3600, "{h:#}");
}

crate::backend_test!(a_digest_waiting_for_its_hour_is_not_late, fn super::digest_wait_is_no_delay);

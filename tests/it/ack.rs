//! Acknowledge and snooze, on every backend: an overdue task acknowledged on Monday repeats for
//! nobody on Tuesday, its escalation becomes one "acquittée" line to the person it would have
//! reached, a moved due date re-arms it, a snooze holds it until its day; the commands refuse
//! what they cannot use in one line.

use crate::common::*;
use sigov::db::Val;
use std::path::{Path, PathBuf};

const PROJET: &str = "a1000000000000000000000000000001";
const ETAPE: &str = "a2000000000000000000000000000002";
pub(crate) const TACHE: &str = "a3000000000000000000000000000003";

/// A project with RESP responsable, MEMBER assigned a stage task due Friday 2026-11-20; ADMIN
/// is the superuser the escalation reaches after 2 open days.
pub(crate) fn seed(t: &TestDb) {
    let mut d = Data::new(t);
    d.project(PROJET, "Refonte « Achats »", Some("2027-06-30"));
    d.member("a4000000000000000000000000000004", PROJET, RESP, true);
    d.member("a5000000000000000000000000000005", PROJET, MEMBER, false);
    d.stage(ETAPE, PROJET, 3, "EN_COURS", Some("2027-01-31"));
    d.task(
        TACHE,
        ETAPE,
        "Valider le cahier des charges",
        "EN_COURS",
        "2026-11-20",
        Some(MEMBER),
    );
}

fn config(dir: &Path) -> PathBuf {
    let f = dir.join("sigov.toml");
    std::fs::write(
        &f,
        format!(
            "[rules]\nprofile = \"recommended\"\n\
             [escalation]\ntasks = [{{ after = 2, to = \"superusers\" }}]\n\
             [mail]\ntransport = \"file://{}\"\n",
            dir.display()
        ),
    )
    .expect("config");
    f
}

pub(crate) fn on(t: &TestDb, cfg: &Path, day: &str) -> Sigov {
    t.sigov()
        .env("SIGOV_CONFIG", cfg.to_str().expect("utf-8"))
        .env("SIGOV_NOW", &format!("{day}T08:00:00Z"))
}

pub(crate) fn tasks_on(t: &TestDb, cfg: &Path, day: &str) -> serde_json::Value {
    on(t, cfg, day)
        .args(["--format", "json", "check", "tasks", "--date", day])
        .run()
        .ok()
        .json()
}

/// The task check's rows recorded on business day `day`, as (recipient, title).
fn rows_of(t: &TestDb, day: &str) -> Vec<(String, String)> {
    #[derive(diesel::QueryableByName)]
    struct R {
        #[diesel(sql_type = diesel::sql_types::Text)]
        recipient_id: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        titre: String,
    }
    let rows: Vec<R> = t
        .db()
        .load(
            &format!(
                "SELECT l.recipient_id AS recipient_id, a.titre AS titre FROM sigov_alert_ledger l \
                 JOIN core_alerteprojet a ON a.id = l.alert_id \
                 WHERE l.check_name = 'tasks' AND l.business_date = {} ORDER BY l.recipient_id",
                match t.backend {
                    sigov::db::Backend::Postgres => "CAST(? AS DATE)",
                    _ => "?",
                }
            ),
            &[Val::from(day)],
        )
        .expect("rows");
    rows.into_iter()
        .map(|r| (r.recipient_id, r.titre))
        .collect()
}

fn first_alert(t: &TestDb) -> i64 {
    t.count(
        "SELECT MIN(alert_id) AS n FROM sigov_alert_ledger WHERE check_name = 'tasks' AND alert_type = 'TACHES_EN_RETARD'",
    )
}

fn acks_and_snoozes(backend: sigov::db::Backend) {
    let t = TestDb::new(backend);
    seed(&t);
    let dir = tempdir("ack");
    let cfg = config(dir.path());
    // Monday: the assignee and the responsable (1 open day late: no escalation yet).
    let v = tasks_on(&t, &cfg, "2026-11-23");
    assert_eq!(v["counters"]["created"], 2, "{v:#}");
    let id = first_alert(&t).to_string();
    // The assignee acknowledges it.
    let r = on(&t, &cfg, "2026-11-23")
        .args(["ack", &id, "--by", "membre", "--note", "livré mercredi"])
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
    assert!(
        r.stdout.contains("acknowledged by Zoé L'Hôte & <Fils>")
            && r.stdout.contains("while it stays due=2026-11-20"),
        "{}",
        r.stdout
    );
    // Tuesday: no repeat for anybody; the superuser the escalation reaches now is told once
    // that it was acknowledged, by whom and when.
    let v = tasks_on(&t, &cfg, "2026-11-24");
    assert_eq!(v["counters"]["skipped"]["acknowledged"], 2, "{v:#}");
    let tue = rows_of(&t, "2026-11-24");
    assert_eq!(tue.len(), 1, "{tue:?}");
    assert_eq!(tue[0].0, ADMIN);
    assert!(tue[0].1.starts_with("✅ Acquittée - "), "{tue:?}");
    let msg: String = t
        .db()
        .load::<Msg>(
            "SELECT message FROM core_alerteprojet WHERE titre LIKE '%Acquitt%'",
            &[],
        )
        .expect("message")
        .remove(0)
        .message;
    assert!(
        msg.contains("Alerte acquittée par Zoé L'Hôte & <Fils> le 23/11/2026")
            && msg.contains("Note : livré mercredi"),
        "{msg}"
    );
    // Wednesday: nothing at all (the line is told once).
    let v = tasks_on(&t, &cfg, "2026-11-25");
    assert_eq!(v["counters"]["created"], 0, "{v:#}");
    // The list, and what `alerts show` says of it.
    let list = on(&t, &cfg, "2026-11-25")
        .args(["ack", "--list"])
        .run()
        .ok();
    assert!(
        list.stdout.contains("TACHES_EN_RETARD") && list.stdout.contains("in force"),
        "{}",
        list.stdout
    );
    let show = on(&t, &cfg, "2026-11-25")
        .args(["alerts", "show", &id])
        .run()
        .ok();
    assert!(
        show.stdout
            .contains("acknowledged by Zoé L'Hôte & <Fils> (cli)"),
        "{}",
        show.stdout
    );
    // Thursday, with the due date moved back a day: the alert is raised again for both, the
    // escalation reaches the superuser (5 open days late), the acknowledgement is over.
    t.exec(&format!(
        "UPDATE core_tacheetape SET date_fin = '2026-11-19' WHERE id = '{TACHE}'"
    ));
    let v = tasks_on(&t, &cfg, "2026-11-26");
    assert_eq!(v["counters"]["created"], 3, "{v:#}");
    let thu = rows_of(&t, "2026-11-26");
    assert!(
        thu.iter()
            .any(|(r, titre)| r == ADMIN && titre.starts_with("⏫ Escalade")),
        "{thu:?}"
    );
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sigov_ack WHERE end_reason = 'rearmed'"),
        1
    );
    // A snooze until Saturday: Friday holds the repeats, and the superuser the escalation
    // reached is told once that it was put off; Saturday repeats.
    let id = t
        .count(
            "SELECT MAX(alert_id) AS n FROM sigov_alert_ledger WHERE check_name = 'tasks' AND alert_type = 'TACHES_EN_RETARD'",
        )
        .to_string();
    let r = on(&t, &cfg, "2026-11-26")
        .args(["snooze", &id, "--until", "2026-11-28"])
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
    assert!(
        r.stdout.contains("snoozed until 2026-11-28"),
        "{}",
        r.stdout
    );
    let v = tasks_on(&t, &cfg, "2026-11-27");
    assert_eq!(v["counters"]["skipped"]["snoozed"], 2, "{v:#}");
    let fri = rows_of(&t, "2026-11-27");
    assert_eq!(fri.len(), 1, "{fri:?}");
    assert!(
        fri[0].0 == ADMIN && fri[0].1.starts_with("⏸ Reportée - "),
        "{fri:?}"
    );
    let v = tasks_on(&t, &cfg, "2026-11-28");
    assert_eq!(v["counters"]["created"], 2, "{v:#}");
    // Ended by hand: repeats resume (nothing held any more).
    let n = t.count("SELECT MAX(id) AS n FROM sigov_ack");
    let r = on(&t, &cfg, "2026-11-28")
        .args(["ack", "--end", &n.to_string()])
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
    let list = on(&t, &cfg, "2026-11-28")
        .args(["ack", "--list"])
        .run()
        .ok();
    assert!(
        list.stdout.contains("no acknowledgement"),
        "{}",
        list.stdout
    );
    // stats counts what was given.
    let v: serde_json::Value = serde_json::from_str(
        &on(&t, &cfg, "2026-11-28")
            .args(["--format", "json", "stats", "--since", "2026-11-01"])
            .run()
            .ok()
            .stdout,
    )
    .expect("stats");
    assert_eq!(v["holds"]["ack cli"], 1, "{v:#}");
    assert_eq!(v["holds"]["snooze cli"], 1, "{v:#}");
}

#[derive(diesel::QueryableByName)]
struct Msg {
    #[diesel(sql_type = diesel::sql_types::Text)]
    message: String,
}

crate::backend_test!(acknowledge_and_snooze, fn super::acks_and_snoozes);

fn bad_inputs(backend: sigov::db::Backend) {
    let t = TestDb::new(backend);
    seed(&t);
    let dir = tempdir("ack-bad");
    let cfg = config(dir.path());
    tasks_on(&t, &cfg, "2026-11-23");
    let id = first_alert(&t).to_string();
    // A row the web application wrote: not sigov's to hold.
    t.exec(&format!(
        "INSERT INTO core_alerteprojet (type_alerte, niveau, titre, message, date_creation, lue, date_lecture, \
         donnees_contexte, destinataire_id, projet_id) VALUES ('BUDGET', 'INFO', 'x', 'y', \
         '2026-11-23 08:00:00', '0', NULL, '{{}}', '{RESP}', '{PROJET}')"
    ));
    let foreign = t
        .count("SELECT MAX(id) AS n FROM core_alerteprojet WHERE type_alerte = 'BUDGET'")
        .to_string();
    let long = "x".repeat(401);
    for (args, why) in [
        (vec!["ack", "999999"], "no alert with id 999999"),
        (vec!["ack", &foreign], "was not written by sigov"),
        (vec!["ack", &id, "--by", "personne"], "no user `personne`"),
        (vec!["ack", &id, "--note", &long], "at most 400"),
        (
            vec!["ack", "--end", "4242"],
            "no acknowledgement or snooze #4242",
        ),
        (
            vec!["snooze", &id, "--until", "2026-11-23"],
            "not after today",
        ),
        (vec!["snooze", &id, "--for", "0d"], "from 1 to 366"),
        (vec!["snooze", &id], "--until"),
        (vec!["ack"], "required"),
        (vec!["ack", "x12"], "is not an alert id"),
    ] {
        let r = on(&t, &cfg, "2026-11-23").args(&args).run();
        assert_eq!(r.code, 2, "{args:?}: {r:#?}");
        assert!(
            r.stderr.contains(why),
            "{args:?}: {why} not in {}",
            r.stderr
        );
    }
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM sigov_ack"), 0);
    // --for counts calendar days for a check that counts them so: Monday + 3 = Thursday.
    let r = on(&t, &cfg, "2026-11-23")
        .args(["snooze", &id, "--for", "3d"])
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
    assert!(
        r.stdout.contains("snoozed until 2026-11-26"),
        "{}",
        r.stdout
    );
}

crate::backend_test!(ack_and_snooze_refuse_bad_input, fn super::bad_inputs);

/// `respond.read_is_ack`: off by default (a row read in the application changes nothing); on,
/// the assignee's reading of Monday's alert holds Tuesday's repeat for everybody.
fn read_is_ack(backend: sigov::db::Backend) {
    for on_ in [false, true] {
        let t = TestDb::new(backend);
        seed(&t);
        let dir = tempdir("read-ack");
        let cfg = config(dir.path());
        if on_ {
            let mut text = std::fs::read_to_string(&cfg).expect("config");
            text.push_str("[respond]\nread_is_ack = true\n");
            std::fs::write(&cfg, text).expect("config");
        }
        let v = tasks_on(&t, &cfg, "2026-11-23");
        assert_eq!(v["counters"]["created"], 2, "{v:#}");
        t.exec(&format!(
            "UPDATE core_alerteprojet SET lue = TRUE, date_lecture = '2026-11-23 09:00:00' WHERE destinataire_id = '{MEMBER}'"
        ));
        let v = tasks_on(&t, &cfg, "2026-11-24");
        if on_ {
            assert_eq!(v["counters"]["skipped"]["acknowledged"], 2, "{v:#}");
            assert_eq!(
                v["counters"]["created"], 1,
                "only the superuser's line: {v:#}"
            );
            let tue = rows_of(&t, "2026-11-24");
            assert!(tue[0].1.starts_with("✅ Acquittée"), "{tue:?}");
        } else {
            assert!(
                v["counters"]["skipped"].get("acknowledged").is_none(),
                "{v:#}"
            );
            assert_eq!(
                v["counters"]["created"], 3,
                "repeats and the escalation: {v:#}"
            );
        }
    }
}

crate::backend_test!(read_counts_as_acknowledged_only_when_asked, fn super::read_is_ack);

/// `recommended.max_repeats = 2`: Monday and Tuesday (the last says so), then nothing; a moved
/// due date re-arms it.
fn max_repeats(backend: sigov::db::Backend) {
    let t = TestDb::new(backend);
    seed(&t);
    let dir = tempdir("max-repeats");
    let cfg = dir.path().join("sigov.toml");
    std::fs::write(
        &cfg,
        format!(
            "[rules]\nprofile = \"recommended\"\n[recommended]\nmax_repeats = 2\n\
             [mail]\ntransport = \"file://{}\"\n",
            dir.path().display()
        ),
    )
    .expect("config");
    let v = tasks_on(&t, &cfg, "2026-11-23");
    assert_eq!(v["counters"]["created"], 2, "{v:#}");
    assert!(rows_of(&t, "2026-11-23").len() == 2);
    let v = tasks_on(&t, &cfg, "2026-11-24");
    assert_eq!(v["counters"]["created"], 2, "{v:#}");
    assert_eq!(
        t.count(
            "SELECT COUNT(*) AS n FROM core_alerteprojet WHERE message LIKE '%Dernier rappel%'"
        ),
        2,
        "the second is the last, and says so"
    );
    let v = tasks_on(&t, &cfg, "2026-11-25");
    assert_eq!(v["counters"]["created"], 0, "{v:#}");
    assert_eq!(v["counters"]["skipped"]["max_repeats"], 2, "{v:#}");
    t.exec(&format!(
        "UPDATE core_tacheetape SET date_fin = '2026-11-19' WHERE id = '{TACHE}'"
    ));
    let v = tasks_on(&t, &cfg, "2026-11-26");
    assert_eq!(
        v["counters"]["created"], 2,
        "a moved date re-arms it: {v:#}"
    );
}

crate::backend_test!(repeats_end_after_max_repeats, fn super::max_repeats);

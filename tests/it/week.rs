//! A week of daily runs, as cron runs sigov: `check all` with the default (recommended) profile
//! and every check enabled (the task reminders too) once a day on the same demo database, mail
//! delivered to a directory. Every day must succeed,
//! no run may be recorded failed, no once-only alert may be created twice, and no mail may be
//! left waiting.

use crate::backend_test;
use crate::common::*;
use std::collections::HashMap;

/// Alert types that happen once per (entity, due date or budget, milestone, recipient).
const ONCE: &[&str] = &[
    "ECHEANCE_J7",
    "ECHEANCE_J3",
    "ECHEANCE_J1",
    "ECHEANCE_J0",
    "BUDGET_ATTENTION",
    "BUDGET_CRITIQUE",
    "CONTRAT_EXPIRATION",
    "CONTRAT_EXPIRE",
    "TACHE_ECHEANCE",
];

#[derive(diesel::QueryableByName)]
struct Row {
    #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = sigov::db::text::Lossy)]
    t: String,
    #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = sigov::db::text::Lossy)]
    p: String,
    #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = sigov::db::text::Lossy)]
    d: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>, deserialize_as = sigov::db::text::LossyOpt)]
    j: Option<String>,
}

/// (type, project, recipient, what makes it once: due date, contract, jalon) -> rows.
fn once_alerts(t: &TestDb) -> HashMap<String, usize> {
    let rows: Vec<Row> = t
        .db()
        .load(
            "SELECT type_alerte AS t, projet_id AS p, destinataire_id AS d, donnees_contexte AS j \
             FROM core_alerteprojet",
            &[],
        )
        .expect("read alerts");
    let mut seen = HashMap::new();
    for r in rows.into_iter().filter(|r| ONCE.contains(&r.t.as_str())) {
        let ctx: serde_json::Value =
            serde_json::from_str(r.j.as_deref().unwrap_or("{}")).expect("context JSON");
        let part = |k: &str| ctx.get(k).map(|v| v.to_string()).unwrap_or_default();
        let key = format!(
            "{} {} {} {} {} {} {}{}",
            r.t,
            r.p,
            r.d,
            part("date_fin"),
            part("contrat_id"),
            part("jalon"),
            part("tache_id"),
            part("tache_module_id")
        );
        *seen.entry(key).or_insert(0) += 1;
    }
    seen
}

backend_test!(a_week_of_daily_runs_never_fails, |t| {
    let _ = &t;
    let demo = TestDb::demo(t.backend, 50);
    let mail_tmp = crate::common::tempdir("week");
    let mail = mail_tmp.path().to_path_buf();
    std::fs::create_dir_all(&mail).expect("mail dir");
    let transport = format!("file://{}", mail.display());
    let mut created_by_day = Vec::new();
    // Sunday 22 to Saturday 28 November 2026, 10:00 UTC, then the Sunday after.
    for day in 22..=29 {
        let now = format!("2026-11-{day}T10:00:00Z");
        let r = demo
            .sigov()
            .env("SIGOV_NOW", &now)
            .env("SIGOV_MAIL_TRANSPORT", &transport)
            .env(
                "SIGOV_CHECKS",
                "deadlines,stages,tasks,budget,contracts,task-reminders",
            )
            .args(["--format", "json", "check", "all"])
            .run();
        assert_eq!(r.code, 0, "day {day}: {r:#?}");
        let v = r.json();
        let created: i64 = v["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .map(|c| c["counters"]["created"].as_i64().unwrap_or(0))
            .sum();
        created_by_day.push(created);
        let twice: Vec<(String, usize)> = once_alerts(&demo)
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .collect();
        assert!(
            twice.is_empty(),
            "day {day}: once-only alerts twice: {twice:?}"
        );
        assert_eq!(
            demo.count("SELECT COUNT(*) AS n FROM sigov_outbox WHERE state <> 'sent'"),
            0,
            "day {day}: every queued mail was delivered"
        );
    }
    assert_eq!(
        demo.count("SELECT COUNT(*) AS n FROM sigov_run WHERE status <> 'success'"),
        0,
        "no failed run"
    );
    assert_eq!(
        demo.count("SELECT COUNT(*) AS n FROM sigov_run"),
        8 * 6,
        "six checks a day"
    );
    assert!(
        demo.count(
            "SELECT COUNT(*) AS n FROM core_alerteprojet WHERE type_alerte = 'TACHE_ECHEANCE'"
        ) > 10,
        "the week reminds tasks due soon"
    );
    assert!(created_by_day[0] > 100, "{created_by_day:?}");
    assert!(
        created_by_day[1..].iter().all(|n| *n < created_by_day[0]),
        "later days only add what the day brings: {created_by_day:?}"
    );
    // The budget check's threshold keys stay valid: proposing them again must not fail.
    assert!(
        demo.count(
            "SELECT COUNT(*) AS n FROM sigov_alert_ledger WHERE alert_type = 'BUDGET_ATTENTION' AND state = 'superseded'"
        ) > 0,
        "the data has a superseded threshold"
    );
});

backend_test!(
    a_batch_whose_keys_were_all_recorded_meanwhile_sends_nothing,
    |t| {
        // Another run recorded every key of this batch: the retry drops them all and must not send
        // an INSERT with no rows (MariaDB "syntax error near ''", SQLite "incomplete input").
        let superseded = |n: usize| sigov::rules::Superseded {
            key: format!("budget:BUDGET_ATTENTION:p{n}:u{n}:seuil=75"),
            check: "budget",
            alert_type: "BUDGET_ATTENTION".into(),
            entity_id: format!("p{n}"),
            recipient_id: format!("u{n}"),
        };
        let clock = sigov::clock::Clock::new(None, None, chrono_tz::Europe::Paris, false);
        let mut db = t.db();
        let mut counters = sigov::rules::Counters::default();
        let first: Vec<_> = (0..3).map(superseded).collect();
        sigov::store::write(
            &mut db,
            &clock,
            None,
            &sigov::channels::Routing::NONE,
            Vec::new(),
            first,
            &mut counters,
        )
        .expect("first");
        let again: Vec<_> = (0..3).map(superseded).collect();
        sigov::store::write(
            &mut db,
            &clock,
            None,
            &sigov::channels::Routing::NONE,
            Vec::new(),
            again,
            &mut counters,
        )
        .expect("the same keys again: nothing to write, no error");
        // Nothing at all: no statement either.
        let before = db.statements();
        sigov::store::write(
            &mut db,
            &clock,
            None,
            &sigov::channels::Routing::NONE,
            Vec::new(),
            Vec::new(),
            &mut counters,
        )
        .expect("empty");
        assert_eq!(db.statements(), before);
        assert_eq!(
            t.count("SELECT COUNT(*) AS n FROM sigov_alert_ledger WHERE state = 'superseded'"),
            3
        );
    }
);

backend_test!(
    a_run_delivers_every_mail_it_queued_whatever_its_batch,
    |t| {
        let _ = &t;
        // Enough alerts that one check writes several batches of 500: each batch's mail is due for
        // the run's own delivery, not only the first batch's.
        let demo = TestDb::demo(t.backend, 400);
        let mail_tmp = crate::common::tempdir("batches");
        let mail = mail_tmp.path().to_path_buf();
        std::fs::create_dir_all(&mail).expect("mail dir");
        let r = demo
            .sigov()
            .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
            .env(
                "SIGOV_MAIL_TRANSPORT",
                &format!("file://{}", mail.display()),
            )
            .args(["--format", "json", "check", "all"])
            .run();
        assert_eq!(r.code, 0, "{r:#?}");
        let most = r.json()["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .map(|c| c["counters"]["mails_queued"].as_i64().unwrap_or(0))
            .max()
            .unwrap_or(0);
        assert!(most > 500, "one check queues more than a batch: {most}");
        assert_eq!(
            demo.count("SELECT COUNT(*) AS n FROM sigov_outbox WHERE state <> 'sent'"),
            0,
            "every mail the run queued was delivered by the run"
        );
    }
);

backend_test!(
    alert_ids_are_those_of_the_rows_written_whether_inferred_or_read_back,
    |t| {
        // The ledger and the outbox name each alert by the id of its row. The ids are inferred
        // from the INSERT (consecutive on these servers) or, where a server does not promise
        // that, read back: both must give every alert its own row's id, after rows that another
        // writer added (ids do not start at 1) and in batches larger than one statement.
        use crate::common::ADMIN;
        let mut d = batch_projects(&t);
        d.exec(
            "INSERT INTO core_alerteprojet (type_alerte, niveau, titre, message, lue, date_creation, date_lecture, \
             donnees_contexte, destinataire_id, projet_id) VALUES ('ECHEANCE_J7', 'INFO', 'other writer', '', '0', \
             '2026-11-01 00:00:00', NULL, '{}', ?, ?)",
            vec![ADMIN.into(), "f0000000000000000000000000000001".into()],
        );
        let clock = sigov::clock::Clock::new(None, None, chrono_tz::Europe::Paris, false);
        for (tag, read_back) in [("inferred", false), ("read-back", true)] {
            let mut db = t.db();
            if read_back {
                db.forget_consecutive_ids();
            }
            let mut counters = sigov::rules::Counters::default();
            let alerts: Vec<_> = (0..sigov::store::BATCH + 7)
                .map(|n| batch_alert(n, tag))
                .collect();
            let written = sigov::store::write(
                &mut db,
                &clock,
                None,
                &sigov::channels::Routing::NONE,
                alerts,
                Vec::new(),
                &mut counters,
            )
            .expect("write");
            assert_eq!(written.alerts.len(), sigov::store::BATCH + 7);
            for (id, a, _) in &written.alerts {
                let titre = t.count(&format!(
                    "SELECT COUNT(*) AS n FROM core_alerteprojet WHERE id = {id} AND titre = '{}'",
                    a.titre
                ));
                assert_eq!(
                    titre, 1,
                    "{tag}: alert `{}` got id {id}, not its row's",
                    a.titre
                );
                let ledger = t.count(&format!(
                    "SELECT COUNT(*) AS n FROM sigov_alert_ledger WHERE alert_id = {id} AND alert_key = '{}'",
                    a.key
                ));
                assert_eq!(ledger, 1, "{tag}: ledger key `{}` names another row", a.key);
                let mail = t.count(&format!(
                    "SELECT COUNT(*) AS n FROM sigov_outbox o JOIN sigov_mail_snapshot s ON s.id = o.snapshot_id \
                     WHERE o.alert_key = '{}' AND o.payload LIKE '{{\"alert_id\":{id},%' AND s.body LIKE '%\"titre\":\"{}\"%'",
                    a.key, a.titre
                ));
                assert_eq!(
                    mail, 1,
                    "{tag}: the mail of `{}` shows another alert",
                    a.key
                );
            }
        }
    }
);

/// The two projects of [`batch_alert`].
fn batch_projects(t: &TestDb) -> Data {
    let mut d = Data::new(t);
    for (n, name) in [(1, "Projet A"), (2, "Projet B")] {
        d.project(
            &format!("f000000000000000000000000000000{n}"),
            name,
            Some("2026-12-01"),
        );
    }
    d
}

/// Alert `n` of a batch written straight through `sigov::store` (J-7 for the admin, on one of
/// the two projects `f0…01`/`f0…02`), each with its own title: its own row, key and mail.
fn batch_alert(n: usize, tag: &str) -> sigov::rules::NewAlert {
    use crate::common::ADMIN;
    let person = sigov::rules::Person {
        id: ADMIN.into(),
        username: "admin".into(),
        first_name: "Alice".into(),
        last_name: "Admin".into(),
        email: "admin@sigov.test".into(),
        is_superuser: true,
        is_active: true,
        statut_actif: true,
    };
    sigov::rules::NewAlert {
        key: format!("deadlines:ECHEANCE_J7:{tag}{n}:{ADMIN}"),
        check: "deadlines",
        target: sigov::rules::Target::Alerte,
        alert_type: "ECHEANCE_J7".into(),
        niveau: Some(sigov::states::Niveau::Info),
        recipient: person,
        recipient_id: ADMIN.into(),
        recipient_name: "Alice Admin".into(),
        recipient_username: "admin".into(),
        projet: sigov::rules::ProjectInfo {
            id: format!("f000000000000000000000000000000{}", 1 + n % 2),
            nom: "Projet".into(),
            client: String::new(),
            statut: "EN_COURS".into(),
        }
        .into(),
        entity_id: format!("{tag}{n}"),
        etape_id: None,
        etape_ordre: None,
        titre: format!("{tag} {n}"),
        message: String::new(),
        context: serde_json::json!({}).into(),
        title_truncated: false,
        reason: String::new(),
        rule: String::new(),
        mail: Default::default(),
        arm: None,
        ledger_type: None,
    }
}

#[derive(diesel::QueryableByName)]
struct Status {
    #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = sigov::db::text::Lossy)]
    #[diesel(column_name = Value)]
    value: String,
}

/// Statements the server prepared on this connection so far (this read's own included).
fn prepared(db: &mut sigov::db::Db) -> i64 {
    let r: Vec<Status> = db
        .load("SHOW SESSION STATUS LIKE 'Com_stmt_prepare'", &[])
        .expect("session status");
    r[0].value.parse().expect("a count")
}

/// A full batch's statements (alert rows, their ids, ledger keys, snapshots, outbox rows) are
/// prepared once per connection: writing a second full batch prepares nothing. Before, every
/// batch prepared each of them again (a round trip and a parse of 500 rows of placeholders).
/// MySQL alone counts what its server prepares.
#[test]
fn a_full_batch_reuses_the_statements_prepared_for_the_first() {
    let t = TestDb::new(sigov::db::Backend::Mysql);
    batch_projects(&t);
    let clock = sigov::clock::Clock::new(None, None, chrono_tz::Europe::Paris, false);
    let mut db = t.db();
    let write = |db: &mut sigov::db::Db, tag: &str| {
        let alerts: Vec<_> = (0..sigov::store::BATCH)
            .map(|n| batch_alert(n, tag))
            .collect();
        let mut counters = sigov::rules::Counters::default();
        let w = sigov::store::write(
            db,
            &clock,
            None,
            &sigov::channels::Routing::NONE,
            alerts,
            Vec::new(),
            &mut counters,
        )
        .expect("write");
        assert_eq!(w.alerts.len(), sigov::store::BATCH);
    };
    let before = prepared(&mut db);
    write(&mut db, "first");
    let first = prepared(&mut db) - before - 1;
    assert!(
        first >= 5,
        "the first batch prepares its statements: {first}"
    );
    let before = prepared(&mut db);
    write(&mut db, "second");
    let second = prepared(&mut db) - before - 1;
    assert_eq!(
        second, 0,
        "the second full batch reuses them (the first prepared {first})"
    );
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sigov_outbox"),
        2 * sigov::store::BATCH as i64
    );
}

//! The operator's read side through the real binary, on every backend: `alerts list/show/resend`,
//! `export`, `stats` (text, JSON, HTML) and `db maintain`, on demo data checked and mailed.

use crate::common::TestDb;
use sigov::db::Backend;

fn checked(backend: Backend) -> (TestDb, std::path::PathBuf) {
    let t = TestDb::demo(backend, 12);
    let dir = std::env::temp_dir().join(format!("sigov-read-{}", crate::common::unique()));
    std::fs::create_dir_all(&dir).expect("mail dir");
    let r = t
        .sigov()
        .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
        .env("SIGOV_MAIL_TRANSPORT", &format!("file://{}", dir.display()))
        .args(["check", "all", "--date", "2026-11-22", "-q"])
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
    (t, dir)
}

fn json(t: &TestDb, args: &[&str]) -> serde_json::Value {
    t.sigov()
        .args(["--format", "json"])
        .args(args)
        .run()
        .ok()
        .json()
}

fn read_side(backend: Backend) {
    let (t, dir) = checked(backend);
    let total = t.count("SELECT COUNT(*) AS n FROM core_alerteprojet")
        + t.count("SELECT COUNT(*) AS n FROM core_notificationetape");
    assert!(total > 20, "demo data alerted: {total}");
    // A row sigov did not write (Django's), newest of all.
    t.exec(
        "INSERT INTO core_alerteprojet (type_alerte, niveau, titre, message, lue, date_creation, \
         date_lecture, donnees_contexte, destinataire_id, projet_id) \
         SELECT 'ECHEANCE_J7', 'INFO', 'Django <b>', 'm', '0', '2026-11-23 09:00:00', NULL, NULL, \
         a.destinataire_id, a.projet_id FROM core_alerteprojet a WHERE a.id = (SELECT MIN(id) FROM core_alerteprojet)",
    );
    let all = json(&t, &["alerts", "list", "--limit", "0"]);
    let all = all.as_array().expect("array");
    assert_eq!(all.len() as i64, total + 1);
    assert_eq!(all[0]["titre"], "Django <b>", "newest first");
    assert_eq!(all[0]["mail"]["state"], "not_from_sigov");
    assert_eq!(all[0]["from_sigov"], false);
    let states: std::collections::BTreeSet<String> = all[1..]
        .iter()
        .map(|a| a["mail"]["state"].as_str().expect("state").to_owned())
        .collect();
    assert!(states.contains("sent"), "{states:?}");
    assert!(
        all.iter().any(|a| a["mail"]["why"] == "no address"),
        "the demo's user without an address shows why"
    );
    // Filters: recipient, type, unread, table, limit; every row matches.
    let who = all[1]["recipient_username"]
        .as_str()
        .expect("username")
        .to_owned();
    let mine = json(
        &t,
        &[
            "alerts",
            "list",
            "--recipient",
            &who,
            "--since",
            "2026-11-01",
            "--limit",
            "0",
        ],
    );
    let mine = mine.as_array().expect("array");
    assert!(!mine.is_empty());
    assert!(mine.iter().all(|a| a["recipient_username"] == who.as_str()));
    let stage = json(
        &t,
        &["alerts", "list", "--table", "notification", "--limit", "3"],
    );
    assert!(stage
        .as_array()
        .expect("array")
        .iter()
        .all(|a| a["table"] == "notification"));
    let two = json(
        &t,
        &["alerts", "list", "--limit", "2", "--type", "retard_etape"],
    );
    assert!(two.as_array().expect("array").len() <= 2);
    assert!(two
        .as_array()
        .expect("array")
        .iter()
        .all(|a| a["type"] == "RETARD_ETAPE"));
    let project = all[1]["projet_nom"].as_str().expect("project").to_owned();
    let part: String = project.chars().skip(3).take(8).collect();
    let by_name = json(
        &t,
        &[
            "alerts",
            "list",
            "--project",
            &part.to_uppercase(),
            "--limit",
            "0",
        ],
    );
    assert!(by_name
        .as_array()
        .expect("array")
        .iter()
        .all(|a| a["projet_nom"]
            .as_str()
            .unwrap_or("")
            .to_lowercase()
            .contains(&part.to_lowercase())));
    // show: the row, its key, its run, its mail with Message-ID, and why.
    let sent = all
        .iter()
        .find(|a| a["mail"]["state"] == "sent" && a["table"] == "alert")
        .expect("a sent alert");
    let id = sent["id"].as_i64().expect("id").to_string();
    let shown = json(&t, &["alerts", "show", &id]);
    assert_eq!(shown["ledger_key"], sent["ledger_key"]);
    assert!(shown["run"]["id"].as_i64().is_some(), "{shown:#}");
    assert!(!shown["why"]["rule"].as_str().expect("rule").is_empty());
    assert!(shown["why"]["facts"]
        .as_array()
        .expect("facts")
        .iter()
        .any(|f| f["fact"] == "business date" && f["value"] == "2026-11-22"));
    let mails = shown["mails"].as_array().expect("mails");
    assert_eq!(mails.len(), 1);
    let first_id = mails[0]["message_id"]
        .as_str()
        .expect("message id")
        .to_owned();
    let text = t.sigov().args(["alerts", "show", &id]).run().ok().stdout;
    assert!(
        text.contains("why ") && text.contains("Message-ID"),
        "{text}"
    );
    // resend: a new outbox row and Message-ID, no new alert row.
    let outbox = t.count("SELECT COUNT(*) AS n FROM sigov_outbox");
    let dry = t
        .sigov()
        .args(["alerts", "resend", &id, "--dry-run"])
        .run()
        .ok();
    assert!(dry.stdout.contains("would queue"), "{dry:#?}");
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM sigov_outbox"), outbox);
    t.sigov().args(["alerts", "resend", &id]).run().ok();
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sigov_outbox"),
        outbox + 1
    );
    let flushed = t
        .sigov()
        .env("SIGOV_MAIL_TRANSPORT", &format!("file://{}", dir.display()))
        .args(["mail", "flush"])
        .run();
    assert_eq!(flushed.code, 0, "{flushed:#?}");
    let shown = json(&t, &["alerts", "show", &id]);
    let mails = shown["mails"].as_array().expect("mails");
    assert_eq!(mails.len(), 2, "{shown:#}");
    assert_eq!(mails[1]["state"], "sent");
    assert_ne!(mails[1]["message_id"].as_str().expect("id"), first_id);
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM core_alerteprojet")
            + t.count("SELECT COUNT(*) AS n FROM core_notificationetape"),
        total + 1
    );
    // Refusals: no address (exit 1, nothing queued), unknown ids (exit 2).
    let no_address = all
        .iter()
        .find(|a| a["mail"]["why"] == "no address" && a["table"] == "alert")
        .expect("an alert without address")["id"]
        .to_string();
    let r = t.sigov().args(["alerts", "resend", &id, &no_address]).run();
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(r.stderr.contains("no address"), "{r:#?}");
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sigov_outbox"),
        outbox + 1
    );
    for args in [
        vec!["alerts", "show", "987654321"],
        vec!["alerts", "resend", "987654321"],
        vec!["alerts", "list", "--since", "yesterday"],
        vec!["alerts", "list", "--niveau", "urgent"],
        vec!["alerts", "list", "--type", "a b"],
        vec!["export", "runs", "--project", "x"],
        vec!["runs", "list", "--format", "csv"],
    ] {
        let r = t.sigov().args(&args).run();
        assert_eq!(r.code, 2, "{args:?}: {r:#?}");
        assert_eq!(r.stderr.trim().lines().count().min(1), 1, "{args:?}");
    }
    // export: CSV with a header and a row per alert, JSON lines, the outbox and the runs.
    let csv_out = t.sigov().args(["export", "alerts"]).run().ok().stdout;
    let mut reader = csv::Reader::from_reader(csv_out.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, sigov::ops::export::ALERT_COLUMNS);
    assert_eq!(reader.records().count() as i64, total + 1);
    let lines = t
        .sigov()
        .args(["--format", "jsonl", "export", "mail"])
        .run()
        .ok()
        .stdout;
    assert_eq!(lines.lines().count() as i64, outbox + 1);
    let file = dir.join("runs.json");
    let file_s = file.to_str().expect("utf-8").to_owned();
    t.sigov()
        .args([
            "--format",
            "json",
            "export",
            "runs",
            "--check",
            "deadlines",
            "-o",
            &file_s,
        ])
        .run()
        .ok();
    let runs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("export file")).expect("json");
    assert!(runs
        .as_array()
        .expect("array")
        .iter()
        .all(|r| r["check"] == "deadlines"));
    assert!(!runs.as_array().expect("array").is_empty());
    // stats: the same total, the mail, the runs; the HTML page is whole and fetches nothing.
    let html = dir.join("stats.html");
    let st = json(
        &t,
        &[
            "stats",
            "--since",
            "2026-11-01",
            "--html",
            html.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(st["alerts"].as_i64(), Some(total + 1));
    assert!(st["mail"]["sent"].as_i64().expect("sent") > 0);
    assert_eq!(st["mail"]["not_from_sigov"], 1);
    assert_eq!(st["runs"].as_array().expect("runs").len(), 5);
    let page = std::fs::read_to_string(&html).expect("html");
    assert!(page.starts_with("<!DOCTYPE html>") && page.trim_end().ends_with("</html>"));
    assert!(
        page.contains("<svg")
            && !page.contains("<script")
            && !page.contains("http://")
            && !page.contains("https://")
    );
    let by_recipient = t
        .sigov()
        .args(["stats", "--since", "2026-11-01", "--by", "recipient"])
        .run()
        .ok()
        .stdout;
    assert!(
        by_recipient.contains(&who) && by_recipient.contains('█'),
        "{by_recipient}"
    );
    // db maintain: every table measured, healthy, under its lock.
    let m = json(&t, &["db", "maintain"]);
    assert_eq!(m["healthy"], true, "{m:#}");
    assert_eq!(m["before"].as_array().expect("before").len(), 8);
    assert!(!m["steps"].as_array().expect("steps").is_empty());
    let dry = json(&t, &["db", "maintain", "--dry-run", "--optimize"]);
    assert!(dry["steps"].as_array().expect("steps").is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sqlite() {
    read_side(Backend::Sqlite);
}

#[test]
fn mysql() {
    read_side(Backend::Mysql);
}

#[test]
fn postgres() {
    read_side(Backend::Postgres);
}

//! One task's week under the shipped schedule (issue 31's closing table): `crontab.example` as
//! shipped with `sigov mail receive` enabled, played under `faketime` from a Monday 00:00 to the
//! next (Paris time), every run the real binary, replies read from a real Dovecot. The task was
//! due the Friday before; its assignee answers Monday's mail "OK"; the next mail reaches nobody
//! until the due date moves, and the escalation to the superuser becomes one "acquittée" line.
//!
//! Dates follow the real clock (next week): the throwaway Dovecot's certificate is
//! valid from the moment it is made, and the faked clock is the one TLS checks it against.

use crate::common::*;
use crate::crontab::{at, runs_between, shipped};
use crate::replies::{dovecot, imap_session, mail_to, put, reply};
use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeZone};
use std::collections::{BTreeMap, HashSet};

const PROJET: &str = "f1000000000000000000000000000001";
const ETAPE: &str = "f2000000000000000000000000000002";
const TACHE: &str = "f3000000000000000000000000000003";

/// A mail sigov wrote: (recipient address, subject, an answer to a reply?), read by
/// mail-parser (folded and encoded headers as a client shows them).
fn read_mail(path: &std::path::Path) -> (String, String, bool) {
    let raw = std::fs::read(path).expect("eml");
    let m = mail_parser::MessageParser::default()
        .parse(&raw)
        .expect("a mail sigov wrote parses");
    let to = m
        .to()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap_or_default()
        .to_owned();
    let answer = m
        .header_raw("Auto-Submitted")
        .is_some_and(|v| v.trim() == "auto-replied");
    (to, m.subject().unwrap_or_default().to_owned(), answer)
}

fn one_task_week(backend: sigov::db::Backend) {
    let paris: chrono_tz::Tz = "Europe/Paris".parse().expect("tz");
    // Next week's Monday (Paris), as a UTC instant at its 00:00.
    let today = chrono::Utc::now().with_timezone(&paris).date_naive();
    let monday = today + chrono::Days::new(7 - u64::from(today.weekday().num_days_from_monday()));
    let utc_of = |d: NaiveDate, h: u32, m: u32| -> NaiveDateTime {
        paris
            .from_local_datetime(&d.and_hms_opt(h, m, 0).expect("time"))
            .single()
            .expect("an unambiguous Paris time")
            .naive_utc()
    };
    let day = |n: u64| monday + chrono::Days::new(n);
    let friday_before = monday - chrono::Days::new(3);
    let ymd = |d: NaiveDate| d.format("%Y-%m-%d").to_string();

    let t = TestDb::new(backend);
    let mut d = Data::new(&t);
    d.project(PROJET, "Refonte « Achats »", Some(&ymd(day(200))));
    d.member("f4000000000000000000000000000004", PROJET, RESP, true);
    d.member("f5000000000000000000000000000005", PROJET, MEMBER, false);
    d.stage(ETAPE, PROJET, 3, "EN_COURS", Some(&ymd(day(60))));
    d.task(
        TACHE,
        ETAPE,
        "Valider le cahier des charges",
        "EN_COURS",
        &ymd(friday_before),
        Some(MEMBER),
    );
    drop(d);

    let dir = tempdir("answer-week");
    let mail = dir.path().join("mail");
    std::fs::create_dir_all(&mail).expect("mail dir");
    let (_, imaps, ca) = dovecot();
    let folder = format!("w{}", unique());
    let mut imap = imap_session();
    imap.create(&folder).expect("folder");
    let cfg = dir.path().join("sigov.toml");
    // An operator's configuration: the recommended profile, repeats on open days only (no
    // public holiday, so that the week is the same whatever week it is), the task escalation
    // reaching the superusers after 2 open days, replies read over IMAPS.
    std::fs::write(
        &cfg,
        format!(
            "[rules]\nprofile = \"recommended\"\n\
             [calendar]\nholidays = \"none\"\nworking_days_only = [\"deadlines\", \"stages\", \"tasks\", \"budget\"]\n\
             [escalation]\ntasks = [{{ after = 2, to = \"superusers\" }}]\n\
             [mail]\ntransport = \"file://{}\"\nreply_address = \"alertes@example.org\"\ntls_ca_file = \"{ca}\"\n\
             [mail.receive]\nurl = \"imaps://alertes:imap-s3cret@localhost:{imaps}/{folder}\"\n",
            mail.display()
        ),
    )
    .expect("config");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }

    let lines = shipped(&["mail receive"]);
    let events = runs_between(&lines, utc_of(day(0), 0, 0), utc_of(day(7), 0, 0), None);
    // What people do, at Paris times: the assignee answers Monday's mail at 09:00; on
    // Wednesday at 10:00 the due date moves to that Wednesday.
    let (answer_at, move_at) = (utc_of(day(0), 9, 0), utc_of(day(2), 10, 0));
    let (mut answered, mut moved) = (false, false);
    let mut seen: HashSet<std::ffi::OsString> = HashSet::new();
    // (Paris day, recipient) -> subjects.
    let mut week: BTreeMap<(NaiveDate, String), Vec<String>> = BTreeMap::new();
    let mut failures = Vec::new();
    let started = std::time::Instant::now();
    for (when, args) in &events {
        if !answered && *when > answer_at {
            let (reply_to, _, mid, subject) = mail_to(&mail, "membre@sigov.test");
            put(
                &mut imap,
                &folder,
                &reply(
                    "Zoé <membre@sigov.test>",
                    &reply_to,
                    "<ok-week@client.test>",
                    &mid,
                    &subject,
                    "",
                    "OK, je m'en occupe",
                ),
            );
            answered = true;
        }
        if !moved && *when > move_at {
            t.exec(&format!(
                "UPDATE core_tacheetape SET date_fin = '{}' WHERE id = '{TACHE}'",
                ymd(day(2))
            ));
            moved = true;
        }
        let r = at(&t, &cfg, *when, args);
        if r.code != 0 || !r.stderr.trim().is_empty() {
            failures.push(format!("{when} {args:?}: {r:#?}"));
        }
        let local = paris.from_utc_datetime(when).date_naive();
        for f in std::fs::read_dir(&mail).expect("mail dir") {
            let f = f.expect("entry");
            if seen.insert(f.file_name()) {
                let (to, subject, answer) = read_mail(&f.path());
                let subject = if answer {
                    format!("(answer) {subject}")
                } else {
                    subject
                };
                week.entry((local, to)).or_default().push(subject);
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");

    // The closing table: one row a day, what each person received.
    let people = [
        ("membre@sigov.test", "assignee"),
        ("resp@sigov.test", "responsable"),
        ("admin@sigov.test", "superuser"),
    ];
    let mut table =
        String::from("| day | assignee | responsable | superuser |\n|---|---|---|---|\n");
    let mut got: Vec<Vec<Vec<String>>> = Vec::new();
    for n in 0..7 {
        let date = day(n);
        let mut row = Vec::new();
        let mut cells = Vec::new();
        for (address, _) in people {
            let subjects = week
                .get(&(date, address.to_owned()))
                .cloned()
                .unwrap_or_default();
            cells.push(if subjects.is_empty() {
                "—".to_owned()
            } else {
                subjects.join("; ")
            });
            row.push(subjects);
        }
        table.push_str(&format!(
            "| {} | {} |\n",
            date.format("%a %d/%m"),
            cells.join(" | ")
        ));
        got.push(row);
    }
    let others: Vec<_> = week
        .keys()
        .filter(|(_, to)| !people.iter().any(|(a, _)| a == to))
        .collect();
    eprintln!(
        "{backend:?}: {} runs in {:.0?} ({} mail receive)\n{table}",
        events.len(),
        started.elapsed(),
        events
            .iter()
            .filter(|(_, a)| a.join(" ") == "mail receive")
            .count()
    );
    assert!(
        others.is_empty(),
        "mail to somebody else: {others:?}\n{table}"
    );
    let overdue =
        |s: &String| s.contains("retard") && !s.contains("Acquitt") && !s.starts_with("(answer)");
    let count = |v: &Vec<String>, f: &dyn Fn(&String) -> bool| v.iter().filter(|s| f(s)).count();
    // Monday: the assignee and the responsable are mailed once (the check runs six times);
    // the assignee's "OK" is confirmed once.
    assert_eq!(count(&got[0][0], &overdue), 1, "{table}");
    assert_eq!(
        count(&got[0][0], &|s| s.starts_with("(answer)")),
        1,
        "{table}"
    );
    assert_eq!(count(&got[0][1], &overdue), 1, "{table}");
    assert!(got[0][2].is_empty(), "{table}");
    // Tuesday: no repeat for anybody; the superuser the escalation reaches (2 open days late)
    // gets one line saying it was acknowledged, instead of the escalation.
    assert!(got[1][0].is_empty() && got[1][1].is_empty(), "{table}");
    assert_eq!(got[1][2].len(), 1, "{table}");
    assert!(got[1][2][0].contains("Acquitt"), "{table}");
    // Wednesday (the due date moves at 10:00, to that day): nothing.
    assert!(got[2].iter().all(Vec::is_empty), "{table}");
    // Thursday: late again on the new date: the acknowledgement is over, both are mailed.
    assert_eq!(count(&got[3][0], &overdue), 1, "{table}");
    assert_eq!(count(&got[3][1], &overdue), 1, "{table}");
    assert!(got[3][2].is_empty(), "{table}");
    // Friday: the repeat, and the escalation (2 open days after the new date).
    assert_eq!(count(&got[4][0], &overdue), 1, "{table}");
    assert_eq!(count(&got[4][1], &overdue), 1, "{table}");
    assert_eq!(count(&got[4][2], &overdue), 1, "{table}");
    // The weekend: closed days.
    assert!(got[5].iter().chain(&got[6]).all(Vec::is_empty), "{table}");

    // The acknowledgement as recorded: by the reply, ended by the moved date.
    let r = at(
        &t,
        &cfg,
        utc_of(day(7), 0, 0),
        &["ack".into(), "--list".into(), "--all".into()],
    );
    assert_eq!(r.code, 0, "{r:#?}");
    assert!(r.stdout.contains("reply"), "{}", r.stdout);
    eprintln!("{}", r.stdout);
}

crate::backend_test!(one_task_through_a_week_of_the_shipped_crontab, fn super::one_task_week);

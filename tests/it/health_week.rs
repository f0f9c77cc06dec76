//! `sigov health` against the schedule sigov ships: a week of `crontab.example` (its lines as
//! shipped, the task reminders' line uncommented as the README says to enable them) played
//! under `faketime` (run records keep real time, so the real clock is what moves), with a
//! `health --nagios` probe every hour. Healthy all week; then one check stops running: WARNING
//! once its due run is later than the grace, CRITICAL once the next one is too.

use crate::common::*;
use crate::crontab::{at, runs_between, shipped};

#[test]
fn a_week_of_the_shipped_crontab_is_healthy_and_a_stopped_check_is_caught() {
    let lines = shipped(&["check task-reminders"]);
    assert!(lines.len() >= 9, "the crontab's sigov lines");
    assert!(
        lines
            .iter()
            .any(|l| l.args.join(" ") == "check task-reminders"),
        "the task reminders' line"
    );
    let t = TestDb::demo(sigov::db::Backend::Sqlite, 4);
    let dir_tmp = crate::common::tempdir("health-week");
    let dir = dir_tmp.path().to_path_buf();
    std::fs::create_dir_all(&dir).expect("dir");
    let config = dir.join("sigov.toml");
    // As the README says to enable the task reminders: in checks.enabled and health.checks.
    std::fs::write(
        &config,
        format!(
            "[checks]\nenabled = [\"deadlines\", \"stages\", \"tasks\", \"budget\", \"contracts\", \"task-reminders\"]\n\
             [health]\nchecks = [\"deadlines\", \"stages\", \"tasks\", \"budget\", \"contracts\", \"task-reminders\"]\n\
             [mail]\ntransport = \"file://{}\"\n",
            dir.join("mail").display()
        ),
    )
    .expect("config");
    let utc =
        |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("a UTC time");
    // From Friday 11 December (the task reminders' last run before the week), to Monday 21
    // 00:00 Paris; probes every hour of Monday 14 to Sunday 20, Paris time, at minute 50.
    let (from, week, end) = (
        utc("2026-12-11 06:00"),
        utc("2026-12-13 23:00"),
        utc("2026-12-20 23:00"),
    );
    let mut probes: Vec<chrono::NaiveDateTime> = (0..168)
        .map(|h| week + chrono::Duration::minutes(60 * h + 50))
        .collect();
    let events = runs_between(&lines, from, end, None);
    let mut failed_runs = Vec::new();
    let mut not_ok = Vec::new();
    let mut longest_first_line = 0;
    let probe =
        |when: chrono::NaiveDateTime| at(&t, &config, when, &["health".into(), "--nagios".into()]);
    let mut record = |when: chrono::NaiveDateTime, r: Run| {
        let first = r.stdout.lines().next().unwrap_or_default().chars().count();
        longest_first_line = longest_first_line.max(first);
        if r.code != 0 {
            not_ok.push(format!("{when}: {}", r.stdout.trim_end()));
        }
    };
    for (when, args) in &events {
        while probes.first().is_some_and(|p| p < when) {
            let p = probes.remove(0);
            record(p, probe(p));
        }
        let r = at(&t, &config, *when, args);
        if r.code != 0 {
            failed_runs.push(format!("{when} {args:?}: {r:#?}"));
        }
    }
    for p in probes {
        record(p, probe(p));
    }
    assert!(failed_runs.is_empty(), "{failed_runs:#?}");
    eprintln!(
        "health week: 168 probes, {} not OK; longest first line {longest_first_line} characters; {} runs",
        not_ok.len(),
        events.len()
    );
    assert!(not_ok.is_empty(), "{not_ok:#?}");
    assert!(longest_first_line < 100, "{longest_first_line}");
    // Then `stages` stops running (its last success started Sunday 20 at 20:05 Paris): the run
    // due Monday 00:00 Paris is late after the grace (one hour), WARNING; the one due at 04:00
    // too, CRITICAL. The other checks go on.
    let monday = utc("2026-12-20 23:00");
    let mut last = monday;
    for (p, want) in [
        ("2026-12-20 23:50", 0),
        ("2026-12-21 00:10", 1),
        ("2026-12-21 03:50", 1),
        ("2026-12-21 04:10", 2),
    ] {
        let p = utc(p);
        for (when, args) in runs_between(&lines, last, p, Some("check stages")) {
            let r = at(&t, &config, when, &args);
            assert_eq!(r.code, 0, "{when} {args:?}: {r:#?}");
        }
        last = p;
        let r = probe(p);
        let (code, text) = (r.code, r.stdout);
        assert_eq!(code, want, "{p}: {text}");
        if want > 0 {
            assert!(text.contains("stages: run"), "{text}");
            assert!(!text.contains("deadlines: run"), "{text}");
        }
    }
}

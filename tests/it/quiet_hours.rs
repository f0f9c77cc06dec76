//! Quiet hours (`mail.send_window`) through the real binary on every backend: outside the
//! window mail stays queued (no attempt, no failure, exit 0), `health` does not count the wait
//! as delay, the first delivery inside the window sends everything, `mail flush --now`
//! overrides, and a bad window is refused in one line.

use crate::common::{Sigov, TestDb};
use sigov::db::Backend;

const WINDOW: &str = "mon-fri 08:00-19:00";

fn eml_count(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                .count()
        })
        .unwrap_or(0)
}

fn quiet(t: &TestDb, dir: &std::path::Path, now: &str) -> Sigov {
    t.sigov()
        .env("SIGOV_NOW", now)
        .env("SIGOV_MAIL_SEND_WINDOW", WINDOW)
        .env("SIGOV_MAIL_TRANSPORT", &format!("file://{}", dir.display()))
}

fn health(t: &TestDb, dir: &std::path::Path, now: &str) -> serde_json::Value {
    quiet(t, dir, now)
        .args(["health", "--format", "json"])
        .run()
        .json()
}

fn quiet_hours(backend: Backend) {
    let t = TestDb::demo(backend, 12);
    let dir_tmp = crate::common::tempdir("quiet");
    let dir = dir_tmp.path().to_path_buf();
    std::fs::create_dir_all(&dir).expect("mail dir");
    // Saturday 28 November 2026, 11:00 in Paris: the checks run, their mail waits.
    let r = quiet(&t, &dir, "2026-11-28T10:00:00Z")
        .args(["--format", "json", "check", "all", "--date", "2026-11-28"])
        .run();
    assert_eq!(r.code, 0, "held mail is no failure: {r:#?}");
    let v = r.json();
    let held: u64 = v["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| c["counters"]["mails_held"].as_u64().unwrap_or(0))
        .max()
        .unwrap_or(0);
    let pending = t.count("SELECT COUNT(*) AS n FROM sigov_outbox WHERE state = 'pending'");
    assert!(pending > 10, "{pending}");
    assert_eq!(held as i64, pending, "{v:#}");
    assert_eq!(eml_count(&dir), 0);
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sigov_outbox WHERE attempts > 0 OR state <> 'pending'"),
        0,
        "no attempt is counted"
    );
    // Sunday night: still closed; a day and a half of waiting is no delay.
    let h = health(&t, &dir, "2026-11-29T22:00:00Z");
    assert_eq!(
        h["outbox"]["oldest_pending_age_secs"],
        serde_json::Value::Null,
        "{h:#}"
    );
    assert_eq!(h["outbox"]["held_until"], "2026-11-30T07:00:00Z", "{h:#}");
    assert!(!h.to_string().contains("pending, the oldest"), "{h:#}");
    // Monday 08:30 in Paris: open for half an hour; the mail is late from the opening only.
    let h = health(&t, &dir, "2026-11-30T07:30:00Z");
    assert_eq!(h["outbox"]["oldest_pending_age_secs"], 1800, "{h:#}");
    let h = health(&t, &dir, "2026-11-30T09:30:00Z");
    assert_eq!(h["outbox"]["oldest_pending_age_secs"], 9000, "{h:#}");
    assert!(h.to_string().contains("pending, the oldest"), "{h:#}");
    // A flush Sunday says what it holds and until when, and sends nothing.
    let r = quiet(&t, &dir, "2026-11-29T10:00:00Z")
        .args(["--format", "json", "mail", "flush"])
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
    assert_eq!(r.json()["held"].as_i64(), Some(pending));
    assert_eq!(r.json()["held_until"], "2026-11-30T07:00:00Z");
    assert_eq!(eml_count(&dir), 0);
    // `--now` overrides: one mail goes Sunday.
    let r = quiet(&t, &dir, "2026-11-29T10:00:00Z")
        .args(["--format", "json", "mail", "flush", "--now", "--limit", "1"])
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
    assert_eq!(r.json()["sent"], 1);
    assert_eq!(eml_count(&dir), 1);
    // Monday 08:00 in Paris, the first run inside the window sends the rest.
    let r = quiet(&t, &dir, "2026-11-30T07:00:00Z")
        .args(["mail", "flush"])
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
    assert_eq!(eml_count(&dir) as i64, pending);
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sigov_outbox WHERE state = 'sent' AND attempts = 1"),
        pending
    );
}

crate::backend_test!(mail_waits_for_the_send_window, fn super::quiet_hours);

/// A window that cannot be read, or that never opens, is refused in one line naming the key.
#[test]
fn bad_send_windows_are_refused() {
    for (w, why) in [
        ("mon-fri 19:00-08:00", "ends before it starts"),
        ("weekdays 08:00-19:00", "`weekdays`"),
        ("mon-fri 8h-19h", "HH:MM"),
        ("sat-sun 08:00-19:00", "opens on no working day"),
    ] {
        let r = Sigov::new()
            .env("SIGOV_MAIL_SEND_WINDOW", w)
            .args(["config", "check"])
            .run();
        assert_eq!(r.code, 1, "{w}: {r:#?}");
        let line = r.error_line();
        assert!(
            line.contains("mail.send_window") && line.contains(why),
            "{w}: {line}"
        );
    }
    let r = Sigov::new()
        .env("SIGOV_CONFIG", "/dev/null")
        .args(["config", "show"])
        .env("SIGOV_MAIL_SEND_WINDOW", "mon-fri 08:00-19:00")
        .run();
    assert!(r.stdout.contains("mon-fri 08:00-19:00"), "{r:#?}");
}

/// `calendar.working_days_only`: on a weekend the repeating alerts of the listed checks wait
/// (counted as skipped `closed_day`) while milestones fire; Monday's run records them.
fn repeating_alerts_wait_for_an_open_day(backend: Backend) {
    let t = TestDb::demo(backend, 12);
    let dir_tmp = crate::common::tempdir("calendar");
    let dir = dir_tmp.path().to_path_buf();
    std::fs::create_dir_all(&dir).expect("dir");
    let cfg = dir.join("sigov.toml");
    std::fs::write(
        &cfg,
        "[calendar]\nworking_days_only = [\"deadlines\", \"stages\", \"tasks\", \"budget\"]\n",
    )
    .expect("config");
    let run = |date: &str| {
        let r = t
            .sigov()
            .env("SIGOV_CONFIG", cfg.to_str().expect("utf-8"))
            .env("SIGOV_NOW", &format!("{date}T10:00:00Z"))
            .args([
                "--format",
                "json",
                "check",
                "all",
                "--no-mail",
                "--date",
                date,
            ])
            .run();
        assert_eq!(r.code, 0, "{r:#?}");
        r.json()
    };
    let repeating = "SELECT COUNT(*) AS n FROM core_alerteprojet WHERE type_alerte IN \
                     ('ECHEANCE_DEPASSEE', 'TACHES_EN_RETARD', 'BUDGET_DEPASSE')";
    let stage_delays = "SELECT COUNT(*) AS n FROM core_notificationetape";
    // Saturday 28 November 2026.
    let v = run("2026-11-28");
    let waited: u64 = v["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| c["counters"]["skipped"]["closed_day"].as_u64().unwrap_or(0))
        .sum();
    assert!(waited > 0, "{v:#}");
    assert_eq!(t.count(repeating), 0);
    assert_eq!(t.count(stage_delays), 0);
    assert!(
        t.count("SELECT COUNT(*) AS n FROM core_alerteprojet") > 0,
        "milestones and contracts do not wait"
    );
    // Monday 30 November: recorded.
    run("2026-11-30");
    assert!(t.count(repeating) > 0);
    assert!(t.count(stage_delays) > 0);
}

crate::backend_test!(repeating_alerts_wait_for_an_open_day, fn super::repeating_alerts_wait_for_an_open_day);

/// `mail.critical_bypass`: in quiet hours the critical alerts' mail goes at once and only it;
/// off (the default), it waits with the rest.
fn critical_bypass(backend: Backend) {
    let t = TestDb::demo(backend, 12);
    let dir_tmp = crate::common::tempdir("quiet-critical");
    let dir = dir_tmp.path().join("mail");
    std::fs::create_dir_all(&dir).expect("mail dir");
    let cfg = dir_tmp.path().join("sigov.toml");
    std::fs::write(&cfg, "[mail]\ncritical_bypass = true\n").expect("config");
    // Saturday 28 November 2026, 11:00 in Paris: closed.
    let r = quiet(&t, &dir, "2026-11-28T10:00:00Z")
        .env("SIGOV_CONFIG", cfg.to_str().expect("utf-8"))
        .args(["--format", "json", "check", "all", "--date", "2026-11-28"])
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
    let urgent = t.count("SELECT COUNT(*) AS n FROM sigov_outbox WHERE urgent = 1");
    let sent = t.count("SELECT COUNT(*) AS n FROM sigov_outbox WHERE state = 'sent'");
    let pending = t.count("SELECT COUNT(*) AS n FROM sigov_outbox WHERE state = 'pending'");
    assert!(
        urgent > 0 && pending > 0,
        "{urgent} urgent, {pending} pending"
    );
    assert_eq!(sent, urgent, "every critical mail went, nothing else");
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sigov_outbox WHERE urgent = 1 AND state <> 'sent'"),
        0
    );
    assert_eq!(eml_count(&dir) as i64, urgent);
    // Every urgent mail is a DANGER alert's.
    assert_eq!(
        t.count(
            "SELECT COUNT(*) AS n FROM sigov_outbox o JOIN sigov_alert_ledger l ON l.alert_key = o.alert_key \
             JOIN core_alerteprojet a ON a.id = l.alert_id WHERE o.urgent = 1 AND a.niveau <> 'DANGER'"
        ),
        0
    );
    // A flush later that night sends nothing more.
    let r = quiet(&t, &dir, "2026-11-28T22:00:00Z")
        .env("SIGOV_CONFIG", cfg.to_str().expect("utf-8"))
        .args(["mail", "flush"])
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
    assert_eq!(eml_count(&dir) as i64, urgent);
}

crate::backend_test!(critical_mail_goes_in_quiet_hours_when_asked, fn super::critical_bypass);

//! Operations on every backend: the per-check lock (two runs at once, a killed run, a lock
//! held from another host), run history, health, metrics and pings.

use crate::backend_test;
use crate::common::*;
use crate::relay::Relay;

const P7: &str = "30000000000000000000000000000007";
const LATE: &str = "3000000000000000000000000000000f";

/// A J-7 project with a team and an overdue one: 6 alerts, 5 mails in the reference profile.
fn seed(t: &TestDb) {
    let mut d = Data::new(t);
    d.project(P7, "Portail RH", Some("2026-11-29"));
    d.project(LATE, "Migration ERP", Some("2026-11-20"));
    d.member("f1000000000000000000000000000001", P7, RESP, true);
    d.member("f1000000000000000000000000000002", P7, MEMBER, false);
    d.member("f1000000000000000000000000000003", P7, NOMAIL, false);
    d.member("f1000000000000000000000000000004", LATE, RESP, true);
}

/// `sigov check WHICH --profile reference` as of 2026-11-22 10:00 UTC, JSON, mail to `relay`.
fn check(t: &TestDb, which: &str, relay: &Relay) -> Sigov {
    t.sigov()
        .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
        .env("SIGOV_MAIL_TRANSPORT", &relay.plain_url())
        .args([
            "check",
            which,
            "--profile",
            "reference",
            "--date",
            "2026-11-22",
            "--format",
            "json",
        ])
}

/// Waits until some run holds `lock` (its lease row is live).
fn wait_for_lock(t: &TestDb, lock: &str) {
    let live = t.db().now_sql();
    let sql = format!(
        "SELECT COUNT(*) AS n FROM sigov_lock WHERE name = '{lock}' AND expires_at > {live}"
    );
    let start = std::time::Instant::now();
    while t.count(&sql) == 0 {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "nobody took {lock}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

backend_test!(two_runs_at_once_one_works_the_other_exits_75, |t| {
    seed(&t);
    // A slow relay keeps the first run inside its lock while the second starts.
    let relay = Relay::start_with(&["--slow-data", "0.6"]);
    let a = check(&t, "deadlines", &relay).spawn();
    let b = check(&t, "deadlines", &relay).spawn();
    let (a, b) = (a.wait(), b.wait());
    let mut codes = [a.code, b.code];
    codes.sort();
    assert_eq!(codes, [0, 75], "{a:#?}\n{b:#?}");
    let (winner, loser) = if a.code == 0 { (a, b) } else { (b, a) };
    assert_eq!(winner.json()["counters"]["created"], 6, "{winner:#?}");
    assert_eq!(loser.json()["status"], "locked", "{loser:#?}");
    assert!(loser.json()["run_id"].is_null());
    let line = loser.error_line();
    assert!(
        line.contains("check deadlines: another run holds the lock: host ")
            && line.contains("lease until"),
        "{line}"
    );
    // Each alert once; one run record; each mail once.
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM core_alerteprojet"), 6);
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM sigov_alert_ledger"), 6);
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM sigov_run"), 1);
    assert_eq!(relay.received().len(), 5);
    // The lock is free again: the next run goes, and finds everything recorded.
    let r = check(&t, "deadlines", &relay).run();
    assert_eq!(r.code, 0, "{r:#?}");
    assert_eq!(r.json()["counters"]["created"], 0);
});

backend_test!(different_checks_run_side_by_side, |t| {
    seed(&t);
    let relay = Relay::start_with(&["--slow-data", "0.6"]);
    let a = check(&t, "deadlines", &relay).spawn();
    wait_for_lock(&t, "check:deadlines");
    let b = check(&t, "budget", &relay).run();
    assert_eq!(b.code, 0, "{b:#?}");
    let a = a.wait();
    assert_eq!(a.code, 0, "{a:#?}");
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sigov_run WHERE status = 'success'"),
        2
    );
});

backend_test!(
    a_killed_run_does_not_block_the_next_and_shows_interrupted,
    |t| {
        seed(&t);
        let relay = Relay::start_with(&["--slow-data", "2"]);
        let mut a = check(&t, "deadlines", &relay).spawn();
        wait_for_lock(&t, "check:deadlines");
        // Killed while it delivers: its alerts are recorded, its lease still runs.
        while t.count("SELECT COUNT(*) AS n FROM sigov_alert_ledger") < 6 {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        a.child.kill().expect("SIGKILL");
        let _ = a.child.wait();
        // Still marked running in the table, but nobody holds its lease: shown interrupted.
        let before = t
            .sigov()
            .args([
                "runs",
                "list",
                "--status",
                "interrupted",
                "--format",
                "json",
            ])
            .run()
            .ok()
            .json();
        assert_eq!(before.as_array().map(Vec::len), Some(1), "{before:#}");
        assert_eq!(
            t.count("SELECT COUNT(*) AS n FROM sigov_run WHERE status = 'running'"),
            1
        );
        // Same host, process gone: the lock is taken over at once, not after the lease.
        let r = check(&t, "deadlines", &relay).run();
        assert_eq!(r.code, 0, "{r:#?}");
        assert_eq!(r.json()["counters"]["created"], 0);
        assert_eq!(t.count("SELECT COUNT(*) AS n FROM core_alerteprojet"), 6);
        let list = t
            .sigov()
            .args(["runs", "list", "--format", "json"])
            .run()
            .ok();
        let runs = list.json();
        let statuses: Vec<&str> = runs
            .as_array()
            .expect("array")
            .iter()
            .map(|r| r["status"].as_str().expect("status"))
            .collect();
        assert_eq!(statuses, ["success", "interrupted"], "{runs:#}");
    }
);

backend_test!(
    a_lock_held_on_another_host_blocks_until_its_lease_ends,
    |t| {
        seed(&t);
        let relay = Relay::start();
        t.exec(
        "INSERT INTO sigov_lock (name, holder, run_id, acquired_at, expires_at) VALUES \
         ('check:deadlines', 'elsewhere:4242:abcdef:123:1', 77, '2026-01-01 00:00:00', '2999-01-01 00:00:00')",
    );
        let r = check(&t, "deadlines", &relay).run();
        assert_eq!(r.code, 75, "{r:#?}");
        assert!(
            r.error_line()
                .contains("host elsewhere pid 4242, run 77, since 2026-01-01 00:00:00 UTC"),
            "{r:#?}"
        );
        assert_eq!(t.count("SELECT COUNT(*) AS n FROM sigov_run"), 0);
        assert_eq!(t.count("SELECT COUNT(*) AS n FROM core_alerteprojet"), 0);
        // `check all`: the locked check is skipped, the others run; not a failure.
        let all = t
            .sigov()
            .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
            .env("SIGOV_MAIL_TRANSPORT", &relay.plain_url())
            .args(["check", "all", "--profile", "reference", "--format", "json"])
            .run();
        assert_eq!(all.code, 0, "{all:#?}");
        let checks = all.json()["checks"].clone();
        assert_eq!(checks[0]["status"], "locked");
        assert_eq!(checks[1]["status"], "success");
        // A dry run takes no lock.
        let dry = check(&t, "deadlines", &relay).args(["--dry-run"]).run();
        assert_eq!(dry.code, 0, "{dry:#?}");
        // The lease ends: the next run goes.
        t.exec("UPDATE sigov_lock SET expires_at = '2000-01-01 00:00:00'");
        let r = check(&t, "deadlines", &relay).run();
        assert_eq!(r.code, 0, "{r:#?}");
        assert_eq!(r.json()["counters"]["created"], 6);
    }
);

/// `sigov health --nagios`: exit code and the whole output (a first line under 100
/// characters, the problems one a line, the performance data after `|`).
fn nagios(t: &TestDb, config: Option<&std::path::Path>) -> (i32, String) {
    let mut s = t.sigov();
    if let Some(c) = config {
        s = s.env("SIGOV_CONFIG", c.to_str().expect("utf-8"));
    }
    let r = s.args(["health", "--nagios"]).run();
    let first = r.stdout.lines().next().unwrap_or_default();
    assert!(first.chars().count() < 100, "{r:#?}");
    assert!(first.contains(" | problems="), "{r:#?}");
    (r.code, r.stdout.trim_end().to_owned())
}

backend_test!(health_follows_runs_ages_and_dead_mail, |t| {
    seed(&t);
    // Nothing ran yet: every check is WARNING.
    let (code, line) = nagios(&t, None);
    assert_eq!(code, 1, "{line}");
    assert!(
        line.starts_with("SIGOV WARNING - 5 of 5 check(s) late, 5 problem(s) | problems=5;1;;0"),
        "{line}"
    );
    assert!(
        line.contains("\ndeadlines: never succeeded\nstages: never succeeded\n"),
        "{line}"
    );
    assert!(line.contains("| deadlines_late=U;;;0"), "{line}");
    let relay = Relay::start();
    let all = t
        .sigov()
        .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
        .env("SIGOV_MAIL_TRANSPORT", &relay.plain_url())
        .args(["check", "all", "--profile", "reference"])
        .run();
    assert_eq!(all.code, 0, "{all:#?}");
    let (code, line) = nagios(&t, None);
    assert_eq!(code, 0, "{line}");
    assert!(
        line.starts_with("SIGOV OK - 5 check(s) on schedule, mail flowing"),
        "{line}"
    );
    assert!(line.contains("outbox_dead=0;1;;0"), "{line}");
    // The last success of `stages` ages past the maximum: WARNING, then CRITICAL.
    let three_hours_ago = (chrono::Utc::now() - chrono::Duration::hours(3))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    t.exec(&format!(
        "UPDATE sigov_run SET finished_at = '{three_hours_ago}' WHERE check_name = 'stages'"
    ));
    let dir_tmp = crate::common::tempdir("health");
    let dir = dir_tmp.path().to_path_buf();
    std::fs::create_dir_all(&dir).expect("dir");
    let cfg = dir.join("sigov.toml");
    // Without a schedule, the age of the last success.
    std::fs::write(
        &cfg,
        "[health]\nmax_age_minutes = 60\n[health.schedule]\nstages = \"\"\n",
    )
    .expect("config");
    let (code, line) = nagios(&t, Some(&cfg));
    assert_eq!(code, 1, "{line}");
    assert!(line.contains("\nstages: last success "), "{line}");
    assert!(line.contains("(max 1h 00m)"), "{line}");
    // With the default schedule: the run just started it, nothing is due yet.
    let (code, line) = nagios(&t, None);
    assert_eq!(code, 0, "{line}");
    t.exec("UPDATE sigov_run SET started_at = '2000-01-01 00:00:00', finished_at = '2000-01-01 00:00:00' WHERE check_name = 'stages'");
    let (code, line) = nagios(&t, None);
    assert_eq!(code, 2, "{line}");
    assert!(
        line.starts_with("SIGOV CRITICAL - 1 of 5 check(s) late"),
        "{line}"
    );
    assert!(line.contains("\nstages: runs due 2000-01-01 "), "{line}");
    // Only the watched checks count.
    std::fs::write(&cfg, "[health]\nchecks = [\"deadlines\", \"budget\"]\n").expect("config");
    let (code, line) = nagios(&t, Some(&cfg));
    assert_eq!(code, 0, "{line}");
    // A dead mail and a failed last run: WARNING, both named; JSON tells the same.
    t.exec("UPDATE sigov_outbox SET state = 'dead' WHERE id = (SELECT MIN(id) FROM (SELECT id FROM sigov_outbox) x)");
    t.exec("UPDATE sigov_run SET status = 'failed', error = 'boom' WHERE check_name = 'budget'");
    let (code, line) = nagios(&t, Some(&cfg));
    assert_eq!(code, 1, "{line}");
    assert!(line.contains("budget: last run #4 failed: boom"), "{line}");
    assert!(line.contains("1 dead mail(s)"), "{line}");
    let j = t
        .sigov()
        .env("SIGOV_CONFIG", cfg.to_str().expect("utf-8"))
        .args(["health", "--format", "json"])
        .run();
    assert_eq!(j.code, 1, "{j:#?}");
    let v = j.json();
    assert_eq!(v["status"], "warning");
    assert_eq!(v["outbox"]["dead"], 1);
    assert_eq!(v["outbox"]["sent"], 4);
    assert_eq!(v["checks"][1]["check"], "budget");
    assert_eq!(v["checks"][1]["last_run"]["status"], "failed");
    assert_eq!(v["database"]["reachable"], true);
});

backend_test!(health_is_critical_with_pending_migrations, |t| {
    let t2 = TestDb::empty(t.backend);
    let (code, line) = nagios(&t2, None);
    assert_eq!(code, 2, "{line}");
    assert!(line.starts_with("SIGOV CRITICAL - "), "{line}");
    assert!(line.contains("pending migration(s)"), "{line}");
});

#[test]
fn health_unreachable_is_critical_and_unusable_configuration_unknown() {
    let r = Sigov::new()
        .env("SIGOV_DATABASE_URL", "mysql://nobody@127.0.0.1:1/x")
        .args(["health", "--nagios"])
        .run();
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(
        r.stdout
            .starts_with("SIGOV CRITICAL - cannot connect to database"),
        "{r:#?}"
    );
    let r = Sigov::new().args(["health", "--nagios"]).run();
    assert_eq!(r.code, 3, "{r:#?}");
    assert!(
        r.stdout.starts_with("SIGOV UNKNOWN - no database URL"),
        "{r:#?}"
    );
    // Without --nagios: one error line, exit 1.
    let r = Sigov::new().args(["health"]).run();
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(r.error_line().contains("no database URL"), "{r:#?}");
}

/// A loopback HTTP server that answers 200 to every request and records request lines.
struct PingServer {
    port: u16,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl PingServer {
    fn start() -> PingServer {
        use std::io::{BufRead, BufReader, Write};
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let s2 = seen.clone();
        std::thread::spawn(move || {
            for stream in l.incoming().take(50) {
                let Ok(mut stream) = stream else { continue };
                let mut r = BufReader::new(stream.try_clone().expect("clone"));
                let mut line = String::new();
                let _ = r.read_line(&mut line);
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).map_or(true, |n| n == 0) || h == "\r\n" {
                        break;
                    }
                }
                s2.lock().expect("lock").push(line.trim_end().to_owned());
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK",
                );
            }
        });
        PingServer { port, seen }
    }
    fn seen(&self) -> Vec<String> {
        self.seen.lock().expect("lock").clone()
    }
}

backend_test!(metrics_file_and_pings_follow_each_run, |t| {
    seed(&t);
    let relay = Relay::start();
    let pings = PingServer::start();
    let dir_tmp = crate::common::tempdir("metrics");
    let dir = dir_tmp.path().to_path_buf();
    std::fs::create_dir_all(&dir).expect("dir");
    let prom = dir.join("sigov.prom");
    let url = format!("http://127.0.0.1:{}/ping/KEY/sigov-{{check}}", pings.port);
    let r = check(&t, "deadlines", &relay)
        .env("SIGOV_PING_URL", &url)
        .args(["--metrics-file", prom.to_str().expect("utf-8")])
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
    let text = std::fs::read_to_string(&prom).expect("metrics written");
    for want in [
        "# TYPE sigov_last_run_timestamp_seconds gauge",
        "sigov_last_run_success{check=\"deadlines\"} 1",
        "sigov_last_run_alerts_created{check=\"deadlines\",type=\"ECHEANCE_J7\"} 4",
        "sigov_last_run_alerts_created{check=\"deadlines\",type=\"ECHEANCE_DEPASSEE\"} 2",
        "sigov_last_run_mails{check=\"deadlines\",outcome=\"queued\"} 5",
        "sigov_last_run_mails{check=\"deadlines\",outcome=\"sent\"} 5",
        "sigov_outbox_mails{state=\"sent\"} 5",
        "sigov_outbox_mails{state=\"dead\"} 0",
        "sigov_outbox_oldest_pending_age_seconds 0",
    ] {
        assert!(text.contains(want), "missing `{want}` in:\n{text}");
    }
    assert!(text.contains("sigov_last_run_duration_seconds{check=\"deadlines\"} "));
    // Another check rewrites the whole file: both checks are in it; no temporary file is left.
    let r = check(&t, "budget", &relay)
        .env("SIGOV_PING_URL", &url)
        .env("SIGOV_METRICS_FILE", prom.to_str().expect("utf-8"))
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
    let text = std::fs::read_to_string(&prom).expect("metrics written");
    assert!(
        text.contains("sigov_last_run_success{check=\"deadlines\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("sigov_last_run_success{check=\"budget\"} 1"),
        "{text}"
    );
    let left: Vec<_> = std::fs::read_dir(&dir).expect("dir").collect();
    assert_eq!(left.len(), 1, "a temporary file was left: {left:?}");
    // A failed run: success 0, the failure pinged with exit 1.
    t.exec("UPDATE core_statutprojet SET nom = 'XEN_COURS' WHERE nom = 'EN_COURS'");
    let r = check(&t, "deadlines", &relay)
        .env("SIGOV_PING_URL", &url)
        .env("SIGOV_METRICS_FILE", prom.to_str().expect("utf-8"))
        .run();
    assert_eq!(r.code, 1, "{r:#?}");
    let text = std::fs::read_to_string(&prom).expect("metrics written");
    assert!(
        text.contains("sigov_last_run_success{check=\"deadlines\"} 0"),
        "{text}"
    );
    assert!(
        text.contains("sigov_last_success_timestamp_seconds{check=\"deadlines\"} "),
        "{text}"
    );
    // A dry run pings nothing.
    let r = check(&t, "stages", &relay)
        .env("SIGOV_PING_URL", &url)
        .args(["--dry-run"])
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
    // Each run's two pings carry one run id (healthchecks' rid=), another run's another.
    let seen = pings.seen();
    let (paths, rids): (Vec<String>, Vec<String>) = seen
        .iter()
        .map(|line| {
            let (path, rest) = line
                .split_once("?rid=")
                .unwrap_or_else(|| panic!("no rid in {line}"));
            let rid = rest.trim_end_matches(" HTTP/1.1").to_owned();
            (format!("{path} HTTP/1.1"), rid)
        })
        .unzip();
    assert_eq!(
        paths,
        [
            "GET /ping/KEY/sigov-deadlines/start HTTP/1.1",
            "GET /ping/KEY/sigov-deadlines/0 HTTP/1.1",
            "GET /ping/KEY/sigov-budget/start HTTP/1.1",
            "GET /ping/KEY/sigov-budget/0 HTTP/1.1",
            "GET /ping/KEY/sigov-deadlines/start HTTP/1.1",
            "GET /ping/KEY/sigov-deadlines/1 HTTP/1.1",
        ]
    );
    for pair in rids.chunks(2) {
        assert_eq!(pair[0], pair[1], "one run, one rid: {rids:?}");
        assert_eq!(pair[0].len(), 36, "a UUID: {rids:?}");
    }
    assert!(
        rids[0] != rids[2] && rids[2] != rids[4] && rids[0] != rids[4],
        "{rids:?}"
    );
});

#[test]
fn a_ping_that_cannot_go_never_fails_the_run() {
    let t = TestDb::new(sigov::db::Backend::Sqlite);
    seed(&t);
    // A port nobody listens on, and an unwritable metrics file: the run still succeeds.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let r = t
        .sigov()
        .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
        .env(
            "SIGOV_PING_URL",
            &format!("http://127.0.0.1:{port}/secret-uuid"),
        )
        .args(["-v", "check", "budget", "--no-mail"])
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
    assert!(r.stderr.contains("ping http://127.0.0.1:"), "{r:#?}");
    assert!(
        !r.stderr.contains("secret-uuid"),
        "the ping URL's path leaked: {r:#?}"
    );
    let r = t
        .sigov()
        .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
        .args([
            "check",
            "budget",
            "--no-mail",
            "--metrics-file",
            "/nonexistent/dir/sigov.prom",
        ])
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
    assert!(
        r.error_line()
            .contains("cannot write metrics file `/nonexistent/dir/sigov.prom`"),
        "{r:#?}"
    );
}

backend_test!(
    purge_applies_retention_and_touches_alerts_only_when_asked,
    |t| {
        seed(&t);
        let relay = Relay::start();
        assert_eq!(check(&t, "deadlines", &relay).run().code, 0);
        assert_eq!(check(&t, "budget", &relay).run().code, 0);
        // Age some history: one run, two delivered mails, every ledger key, one read alert.
        t.exec("UPDATE sigov_run SET started_at = '2020-01-01 00:00:00' WHERE check_name = 'deadlines'");
        t.exec("UPDATE sigov_outbox SET updated_at = '2020-01-01 00:00:00' WHERE id IN (SELECT id FROM (SELECT id FROM sigov_outbox ORDER BY id LIMIT 2) x)");
        t.exec("UPDATE sigov_alert_ledger SET business_date = '2020-01-01'");
        t.db()
            .execute(
                "INSERT INTO sigov_alert_ledger (key_hash, alert_key, check_name, alert_type, state, entity_id, recipient_id, business_date, created_at) \
                 VALUES (?, 'budget|test', 'budget', 'BUDGET_CRITIQUE', 'created', 'p', 'r', '2020-01-01', '2020-01-01 00:00:00')",
                &[sigov::db::Val::Bytes(sigov::db::keyhash::of("budget|test").to_vec())],
            )
            .unwrap();
        t.exec("UPDATE core_alerteprojet SET lue = '1', date_creation = '2020-01-01 00:00:00' WHERE id = (SELECT id FROM (SELECT MIN(id) AS id FROM core_alerteprojet) x)");
        // A run still running is never purged.
        t.exec(
        "INSERT INTO sigov_run (check_name, status, profile, business_date, host, pid, version, started_at, heartbeat_at) \
         VALUES ('tasks', 'running', 'reference', '2020-01-01', 'h', 1, '0', '2020-01-01 00:00:00', '2020-01-01 00:00:00')",
    );
        let counts = |t: &TestDb| {
            [
                "SELECT COUNT(*) AS n FROM sigov_run",
                "SELECT COUNT(*) AS n FROM sigov_outbox",
                "SELECT COUNT(*) AS n FROM sigov_alert_ledger",
                "SELECT COUNT(*) AS n FROM core_alerteprojet",
            ]
            .map(|q| t.count(q))
        };
        let before = counts(&t);
        assert_eq!(before, [3, 5, 7, 6]);
        let dry = t
            .sigov()
            .args(["purge", "--dry-run", "--format", "json"])
            .run()
            .ok();
        let rows = |v: &serde_json::Value, what: &str| {
            v["items"]
                .as_array()
                .expect("items")
                .iter()
                .find(|i| i["what"] == what)
                .expect(what)["rows"]
                .as_u64()
                .expect("rows")
        };
        let v = dry.json();
        assert_eq!(v["dry_run"], true);
        assert_eq!(rows(&v, "runs"), 1);
        assert_eq!(rows(&v, "sent_mail"), 2);
        assert_eq!(rows(&v, "ledger_keys"), 0, "kept unless configured");
        assert_eq!(counts(&t), before, "a dry run deletes nothing");
        // Defaults: runs and sent mail go; ledger and the web application's alerts stay.
        let snapshots = |t: &TestDb| {
            [
                "SELECT COUNT(*) AS n FROM sigov_mail_snapshot",
                // Snapshots no mail shows any more, and mails whose snapshot is gone.
                "SELECT COUNT(*) AS n FROM sigov_mail_snapshot s WHERE NOT EXISTS \
                 (SELECT 1 FROM sigov_outbox o WHERE o.snapshot_id = s.id)",
                "SELECT COUNT(*) AS n FROM sigov_outbox o WHERE NOT EXISTS \
                 (SELECT 1 FROM sigov_mail_snapshot s WHERE s.id = o.snapshot_id)",
            ]
            .map(|q| t.count(q))
        };
        assert_eq!(
            snapshots(&t),
            [2, 0, 0],
            "the mails of each project share one"
        );
        let r = t.sigov().args(["purge"]).run().ok();
        assert_eq!(r.stdout, "", "silent when not on a terminal");
        assert_eq!(counts(&t), [2, 3, 7, 6]);
        assert_eq!(
            snapshots(&t),
            [2, 0, 0],
            "a snapshot stays while a mail shows it"
        );
        // Configured: old ledger keys (never budget's) and read alerts go too.
        let dir_tmp = crate::common::tempdir("purge");
        let dir = dir_tmp.path().to_path_buf();
        std::fs::create_dir_all(&dir).expect("dir");
        let cfg = dir.join("sigov.toml");
        std::fs::write(&cfg, "[purge]\nledger_days = 400\nread_alerts_days = 30\n").expect("cfg");
        let r = t
            .sigov()
            .env("SIGOV_CONFIG", cfg.to_str().expect("utf-8"))
            .args(["purge", "--format", "json"])
            .run()
            .ok();
        let v = r.json();
        assert_eq!(rows(&v, "ledger_keys"), 6);
        assert_eq!(rows(&v, "read_alerts"), 1);
        assert_eq!(counts(&t), [2, 3, 1, 5]);
        assert_eq!(
            t.count("SELECT COUNT(*) AS n FROM sigov_alert_ledger WHERE check_name = 'budget'"),
            1
        );
        // A snapshot goes with the last mail that shows it.
        t.exec("UPDATE sigov_outbox SET updated_at = '2020-01-01 00:00:00'");
        t.sigov().args(["purge"]).run().ok();
        assert_eq!(t.count("SELECT COUNT(*) AS n FROM sigov_outbox"), 0);
        assert_eq!(snapshots(&t), [0, 0, 0]);
        // A retention that could forget a pending milestone is refused.
        std::fs::write(&cfg, "[purge]\nledger_days = 100\n").expect("cfg");
        let r = t
            .sigov()
            .env("SIGOV_CONFIG", cfg.to_str().expect("utf-8"))
            .args(["purge"])
            .run();
        assert_eq!(r.code, 1, "{r:#?}");
        assert!(
            r.error_line()
                .contains("purge.ledger_days = 100: at least 400"),
            "{r:#?}"
        );
    }
);

#[test]
fn progress_bars_only_on_a_terminal() {
    let t = TestDb::new(sigov::db::Backend::Sqlite);
    seed(&t);
    let dir_tmp = crate::common::tempdir("tty");
    let dir = dir_tmp.path().to_path_buf();
    std::fs::create_dir_all(&dir).expect("dir");
    // Piped (as under cron): no bar.
    let piped = t
        .sigov()
        .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
        .env("SIGOV_MAIL_TRANSPORT", &format!("file://{}", dir.display()))
        .args(["check", "deadlines", "--dry-run"])
        .run()
        .ok();
    assert!(!piped.stderr.contains("candidates"), "{piped:#?}");
    // On a terminal (util-linux `script` gives the run a pty): the bar is drawn on stderr.
    let typescript = dir.join("typescript");
    let cmd = format!(
        "{} check deadlines --no-mail >/dev/null",
        env!("CARGO_BIN_EXE_sigov")
    );
    let st = std::process::Command::new("script")
        .args(["-qec", &cmd])
        .arg(&typescript)
        .env("SIGOV_CONFIG", "/dev/null")
        .env("SIGOV_DATABASE_URL", &t.url)
        .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
        .env_remove("NO_COLOR")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run script(1) from util-linux");
    assert!(st.success());
    let drawn =
        String::from_utf8_lossy(&std::fs::read(&typescript).expect("typescript")).into_owned();
    assert!(
        drawn.contains("deadlines [") && drawn.contains("candidates"),
        "{drawn}"
    );
}

backend_test!(runs_list_filters_and_show_prints_every_counter, |t| {
    seed(&t);
    let relay = Relay::start();
    assert_eq!(check(&t, "deadlines", &relay).run().code, 0);
    assert_eq!(check(&t, "budget", &relay).run().code, 0);
    t.exec("UPDATE core_statutprojet SET nom = 'XEN_COURS' WHERE nom = 'EN_COURS'");
    assert_eq!(check(&t, "deadlines", &relay).run().code, 1);
    t.exec("UPDATE sigov_run SET started_at = '2020-01-01 00:00:00' WHERE id = 2");
    let list = |args: &[&str]| -> Vec<(i64, String, String)> {
        let r = t
            .sigov()
            .args(["runs", "list", "--format", "json"])
            .args(args)
            .run()
            .ok();
        r.json()
            .as_array()
            .expect("array")
            .iter()
            .map(|x| {
                (
                    x["id"].as_i64().expect("id"),
                    x["check"].as_str().expect("check").to_owned(),
                    x["status"].as_str().expect("status").to_owned(),
                )
            })
            .collect()
    };
    let all = list(&[]);
    assert_eq!(
        all,
        [
            (3, "deadlines".into(), "failed".into()),
            (2, "budget".into(), "success".into()),
            (1, "deadlines".into(), "success".into()),
        ]
    );
    assert_eq!(list(&["--check", "deadlines"]).len(), 2);
    assert_eq!(
        list(&["--status", "failed"]),
        [(3, "deadlines".into(), "failed".into())]
    );
    assert_eq!(list(&["--since", "7d"]).len(), 2, "run 2 started in 2020");
    assert_eq!(list(&["--since", "2019-12-31"]).len(), 3);
    assert_eq!(list(&["--limit", "1"]).len(), 1);
    let show = t.sigov().args(["runs", "show", "1"]).run().ok();
    for want in [
        "run #1: deadlines — success",
        "business date    2026-11-22",
        "profile          reference",
        "candidates           ",
        "created              6",
        "by_type              ECHEANCE_DEPASSEE 2, ECHEANCE_J7 4",
        "mails_queued         5",
        "mails_sent           5",
        "mails_skipped        no_email 1",
    ] {
        assert!(
            show.stdout.contains(want),
            "missing `{want}`:\n{}",
            show.stdout
        );
    }
    let failed = t
        .sigov()
        .args(["runs", "show", "3", "--format", "json"])
        .run()
        .ok();
    let v = failed.json();
    assert_eq!(v["status"], "failed");
    assert_eq!(v["exit_code"], 1);
    assert!(
        v["error"].as_str().expect("error").contains("EN_COURS"),
        "{v:#}"
    );
    let r = t.sigov().args(["runs", "show", "99"]).run();
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(r.error_line().contains("no run with id 99"), "{r:#?}");
    // Bad filter values are usage errors: clap's message, exit 2.
    for (args, msg) in [
        (
            vec!["runs", "list", "--status", "done"],
            "invalid value 'done' for '--status",
        ),
        (
            vec!["runs", "list", "--check", "nope"],
            "invalid value 'nope' for '--check",
        ),
        (
            vec!["runs", "list", "--since", "soon"],
            "invalid value 'soon' for '--since",
        ),
        (vec!["runs", "list", "--until", "3"], "`3` has no unit"),
        (
            vec!["runs", "list", "--since", "106751991168d"],
            "an age of at most 36500 days",
        ),
        (vec!["runs", "list", "--since=-3d"], "invalid value '-3d'"),
    ] {
        let r = t.sigov().args(&args).run();
        assert_eq!(r.code, 2, "{r:#?}");
        assert!(r.stderr.contains(msg), "{r:#?}");
        assert!(!r.stderr.contains("panicked"), "{r:#?}");
    }
    // The forms people type: relative ages, yesterday, a local time; --until closes the window.
    let all = t
        .sigov()
        .args(["--format", "json", "runs", "list"])
        .run()
        .json()
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    assert!(all >= 2, "{all}");
    let recent = t
        .sigov()
        .args(["--format", "json", "runs", "list", "--since", "90m"])
        .run()
        .json()
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    assert!(recent >= 2, "{recent}");
    for (args, runs) in [
        (vec!["--since", "1h30m"], recent),
        (vec!["--since", "5400s"], recent),
        (vec!["--since", "yesterday", "--until", "2w"], 0),
        (vec!["--until", "2000-01-01 08:00"], 0),
        (
            vec![
                "--since",
                "2000-01-01",
                "--until",
                "2100-01-01T00:00:00+01:00",
            ],
            all,
        ),
    ] {
        let r = t
            .sigov()
            .args(["--format", "json", "runs", "list"])
            .args(&args)
            .run();
        assert_eq!(r.code, 0, "{args:?}: {r:#?}");
        assert_eq!(
            r.json().as_array().map(Vec::len),
            Some(runs),
            "{args:?}: {r:#?}"
        );
    }
});

/// Every command a site runs as the checks' user, in an order that gives each something to
/// work on (the first run's alerts, mail and runs; a person's choice set then cleared).
fn every_command() -> Vec<Vec<&'static str>> {
    vec![
        vec!["config", "check"],
        vec!["db", "status"],
        vec!["check", "all"],
        vec!["check", "all"],
        vec!["check", "deadlines", "--dry-run"],
        vec!["mail", "queue"],
        vec!["mail", "preview", "--id", "1"],
        vec!["mail", "flush"],
        vec!["mail", "retry"],
        vec!["mail", "retry", "--unconfirmed"],
        vec!["alerts", "list"],
        vec!["alerts", "show", "1"],
        vec!["ack", "1", "--note", "vu"],
        vec!["snooze", "1", "--for", "2d"],
        vec!["ack", "--list"],
        vec!["ack", "--end", "2"],
        vec!["alerts", "show", "1"],
        vec!["alerts", "resend", "1"],
        vec!["mail", "flush"],
        vec!["runs", "list"],
        vec!["runs", "show", "1"],
        vec!["stats"],
        vec!["export", "alerts"],
        vec!["export", "runs"],
        vec!["export", "mail"],
        vec!["prefs", "set", RESP, "--digest", "08:00"],
        vec!["prefs", "show", RESP],
        vec!["prefs", "clear", RESP, "--all"],
        vec!["health"],
        vec!["purge"],
        vec!["db", "maintain"],
        vec!["db", "maintain", "--optimize"],
    ]
}

/// The README's least-privilege grants, for database `db` and user `user`@'%'.
fn readme_grants(db: &str, user: &str) -> Vec<String> {
    let readme = std::fs::read_to_string("README.md").expect("README.md");
    let section = readme
        .split("### Least-privilege MySQL grants")
        .nth(1)
        .expect("the README documents the grants");
    let block = section
        .split("```sql")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("an sql block");
    block
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("GRANT"))
        .map(|l| {
            l.trim_end_matches(';')
                .replace(" pm.", &format!(" {db}."))
                .replace("'sigov'@'%'", &format!("'{user}'@'%'"))
        })
        .collect()
}

#[test]
fn every_command_runs_under_the_readme_least_privilege_grants() {
    let t = TestDb::new(sigov::db::Backend::Mysql);
    let mut d = Data::new(&t);
    d.project(
        "f8000000000000000000000000000001",
        "Droits minimaux",
        Some("2026-11-10"),
    );
    d.member(
        "f8100000000000000000000000000001",
        "f8000000000000000000000000000001",
        RESP,
        true,
    );
    let user = format!("sigov_lp_{}_{}", std::process::id(), unique());
    let mut root = t.db();
    root.batch(&format!(
        "DROP USER IF EXISTS '{user}'@'%'; CREATE USER '{user}'@'%' IDENTIFIED BY 'lp-secret'"
    ))
    .expect("create user");
    let grants = readme_grants(&t.name, &user);
    assert!(grants.len() > 15, "{grants:?}");
    for g in &grants {
        root.batch(g).unwrap_or_else(|e| panic!("{g}: {e}"));
    }
    let host = mysql_server();
    let host = host.rsplit('@').next().expect("host");
    let url = format!("mysql://{user}:lp-secret@{host}/{}", t.name);
    let mail_tmp = crate::common::tempdir("lp");
    let mail = mail_tmp.path().to_path_buf();
    std::fs::create_dir_all(&mail).expect("mail dir");
    let run = |args: &[&str]| {
        Sigov::new()
            .env("SIGOV_DATABASE_URL", &url)
            .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
            .env(
                "SIGOV_MAIL_TRANSPORT",
                &format!("file://{}", mail.display()),
            )
            .env("SIGOV_BASE_URL", "https://si-gouvernance.test")
            .args(args)
            .run()
    };
    for args in every_command() {
        let r = run(&args);
        assert_eq!(r.code, 0, "{args:?} under the README's grants: {r:#?}");
        assert!(!r.stderr.contains("denied"), "{args:?}: {r:#?}");
    }
    assert!(t.count("SELECT COUNT(*) AS n FROM core_alerteprojet") > 0);
    // Every table analyzed, none refused.
    let m = run(&["--format", "json", "db", "maintain"]).json();
    assert_eq!(m["healthy"], true, "{m:#}");
    let said = m["steps"].to_string();
    assert!(
        said.contains("status OK") && !said.contains("denied"),
        "{m:#}"
    );
    // One grant less: the error says it cannot read, not that the table is missing.
    root.batch(&format!(
        "REVOKE SELECT ON {}.core_projet FROM '{user}'@'%'",
        t.name
    ))
    .expect("revoke");
    let r = run(&["check", "deadlines"]);
    assert_eq!(r.code, 1, "{r:#?}");
    let line = r.error_line();
    assert!(line.contains("cannot read table `core_projet`"), "{line}");
    assert!(!line.contains("is missing"), "{line}");
    assert!(!line.contains("lp-secret"), "{line}");
    let _ = root.batch(&format!("DROP USER '{user}'@'%'"));
}

/// The README's least-privilege PostgreSQL grants, for database `db` and role `role`.
fn readme_pg_grants(db: &str, role: &str) -> Vec<String> {
    let readme = std::fs::read_to_string("README.md").expect("README.md");
    let section = readme
        .split("### Least-privilege PostgreSQL grants")
        .nth(1)
        .expect("the README documents the PostgreSQL grants");
    let block = section
        .split("```sql")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("an sql block");
    block
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("GRANT"))
        .map(|l| {
            l.trim_end_matches(';')
                .replace(" DATABASE pm ", &format!(" DATABASE {db} "))
                .replace(" TO sigov", &format!(" TO {role}"))
        })
        .collect()
}

#[test]
fn every_command_runs_under_the_readme_postgres_grants() {
    let t = TestDb::new(sigov::db::Backend::Postgres);
    let mut d = Data::new(&t);
    d.project(
        "f8000000000000000000000000000001",
        "Droits minimaux",
        Some("2026-11-10"),
    );
    d.member(
        "f8100000000000000000000000000001",
        "f8000000000000000000000000000001",
        RESP,
        true,
    );
    let role = format!("sigov_lp_{}_{}", std::process::id(), unique());
    let mut root = t.db();
    root.batch(&format!(
        "CREATE ROLE {role} LOGIN PASSWORD 'lp-secret'; REVOKE ALL ON DATABASE {} FROM PUBLIC; \
         REVOKE ALL ON SCHEMA public FROM PUBLIC",
        t.name
    ))
    .expect("create role");
    let grants = readme_pg_grants(&t.name, &role);
    assert!(grants.len() >= 8, "{grants:?}");
    for g in &grants {
        root.batch(g).unwrap_or_else(|e| panic!("{g}: {e}"));
    }
    let host = pg_server();
    let host = host.rsplit('@').next().expect("host");
    let url = format!("postgres://{role}:lp-secret@{host}/{}", t.name);
    let mail_tmp = crate::common::tempdir("lp");
    let mail = mail_tmp.path().to_path_buf();
    std::fs::create_dir_all(&mail).expect("mail dir");
    let run = |args: &[&str]| {
        Sigov::new()
            .env("SIGOV_DATABASE_URL", &url)
            .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
            .env(
                "SIGOV_MAIL_TRANSPORT",
                &format!("file://{}", mail.display()),
            )
            .env("SIGOV_BASE_URL", "https://si-gouvernance.test")
            .args(args)
            .run()
    };
    for args in every_command() {
        let r = run(&args);
        assert_eq!(r.code, 0, "{args:?} under the README's grants: {r:#?}");
        assert!(!r.stderr.contains("denied"), "{args:?}: {r:#?}");
    }
    assert!(t.count("SELECT COUNT(*) AS n FROM core_alerteprojet") > 0);
    // PostgreSQL before 17 lets only a table's owner analyze it: each step says it was skipped
    // and why, instead of "done" for work that did not happen.
    let m = run(&["--format", "json", "db", "maintain"]).json();
    let steps = m["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 7, "{m:#}");
    for s in steps {
        let said = s["result"][0].as_str().unwrap_or_default();
        assert!(
            said.starts_with("skipped: only the table's owner") || said == "done",
            "{m:#}"
        );
    }
    // One grant less: the error says it cannot read, not that the table is missing.
    root.batch(&format!("REVOKE SELECT ON core_projet FROM {role}"))
        .expect("revoke");
    let r = run(&["check", "deadlines"]);
    assert_eq!(r.code, 1, "{r:#?}");
    let line = r.error_line();
    assert!(line.contains("cannot read table `core_projet`"), "{line}");
    assert!(line.contains("permission denied"), "{line}");
    assert!(!line.contains("lp-secret"), "{line}");
    drop(root);
}

/// The connection lost in the middle of `check all` (the server ends it: a restart, a failover,
/// `pg_terminate_backend`, `KILL`): that check fails with one line, the next ones reconnect and
/// run, its run record is closed `failed`, exit 3. The loss is made certain, not timed: the
/// test locks the contracts' table, waits until sigov waits on it, and ends sigov's session.
fn lost_connection(backend: sigov::db::Backend) {
    use sigov::db::Backend;
    let t = TestDb::demo(backend, 20);
    let mut holder = t.db();
    match backend {
        Backend::Postgres => holder
            .batch("BEGIN; LOCK TABLE core_contratgarantie IN ACCESS EXCLUSIVE MODE")
            .expect("lock"),
        _ => holder
            .batch("LOCK TABLES core_contratgarantie WRITE")
            .expect("lock"),
    }
    let running = t
        .sigov()
        .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
        .env(
            "SIGOV_CHECKS",
            "deadlines,stages,tasks,budget,contracts,task-reminders",
        )
        .args(["check", "all", "--no-mail"])
        .spawn();
    let mut killer = t.db();
    let (waiting, kill) = match backend {
        Backend::Postgres => (
            "SELECT COUNT(*) AS n FROM pg_locks WHERE NOT granted AND relation = 'core_contratgarantie'::regclass",
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE NOT granted AND relation = 'core_contratgarantie'::regclass".to_owned(),
        ),
        _ => (
            "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND STATE LIKE 'Waiting for table%' AND INFO LIKE '%core_contratgarantie%'",
            String::new(),
        ),
    };
    let start = std::time::Instant::now();
    while killer.count(waiting, &[]).expect("waiting") == 0 {
        assert!(
            start.elapsed().as_secs() < 60,
            "sigov never waited on the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    if backend == Backend::Postgres {
        killer.batch(&kill).expect("terminate");
    } else {
        let id = killer
            .count(
                "SELECT MIN(ID) AS n FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND STATE LIKE 'Waiting for table%' AND INFO LIKE '%core_contratgarantie%'",
                &[],
            )
            .expect("id");
        killer.batch(&format!("KILL {id}")).expect("kill");
    }
    match backend {
        Backend::Postgres => holder.batch("COMMIT").expect("unlock"),
        _ => holder.batch("UNLOCK TABLES").expect("unlock"),
    }
    let r = running.wait();
    assert_eq!(r.code, 3, "one check failed, the others ran: {r:#?}");
    // The check's one line, then the run's summary (as for any failed check).
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{r:#?}");
    assert!(lines[0].contains("check contracts failed"), "{r:#?}");
    assert!(
        !lines[0].contains("GRANT"),
        "a lost connection is no missing grant: {r:#?}"
    );
    assert!(
        lines[1].contains("1 of 6 checks failed: contracts"),
        "{r:#?}"
    );
    let runs = t
        .sigov()
        .args(["--format", "json", "runs", "list", "--limit", "20"])
        .run()
        .json();
    let runs = runs.as_array().expect("runs");
    let status = |check: &str| {
        runs.iter()
            .find(|x| x["check"] == check)
            .map(|x| x["status"].as_str().unwrap_or_default().to_owned())
    };
    assert_eq!(status("contracts").as_deref(), Some("failed"), "{runs:?}");
    for check in ["deadlines", "stages", "tasks", "budget", "task-reminders"] {
        assert_eq!(
            status(check).as_deref(),
            Some("success"),
            "{check}: {runs:?}"
        );
    }
    // The lock was given back: the next run of contracts runs at once.
    let r = t
        .sigov()
        .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
        .args(["check", "contracts", "--no-mail"])
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
}

#[test]
fn a_lost_connection_ends_one_check_and_the_others_reconnect_postgres() {
    lost_connection(sigov::db::Backend::Postgres);
}

#[test]
fn a_lost_connection_ends_one_check_and_the_others_reconnect_mysql() {
    lost_connection(sigov::db::Backend::Mysql);
}

/// The ledger's keys as (hash, readable key), in hash order.
fn ledger_hashes(t: &TestDb) -> Vec<(Vec<u8>, String)> {
    #[derive(diesel::QueryableByName)]
    struct R {
        #[diesel(sql_type = diesel::sql_types::Binary)]
        key_hash: Vec<u8>,
        #[diesel(sql_type = diesel::sql_types::Text)]
        alert_key: String,
    }
    let rows: Vec<R> = t
        .db()
        .load(
            "SELECT key_hash, alert_key FROM sigov_alert_ledger ORDER BY key_hash",
            &[],
        )
        .unwrap();
    rows.into_iter()
        .map(|r| (r.key_hash, r.alert_key))
        .collect()
}

// The migration that keys the ledger by a 16-byte hash: the server's SQL hash of each key
// (MySQL SHA2, PostgreSQL sha256, SQLite the function sigov registers) is sigov's, so keys
// recorded before it still hold a run back; its down.sql gives the readable key back as the
// primary key, and going up again hashes the same.
backend_test!(
    the_ledger_hash_migration_keeps_every_key_both_ways,
    fn super::ledger_hash_both_ways
);
fn ledger_hash_both_ways(backend: sigov::db::Backend) {
    const VERSION: &str = "2026-12-10-000001";
    let t = TestDb::demo(backend, 3);
    let r = t.check_all("2026-11-22T10:00:00Z");
    assert_eq!(r.code, 0, "{r:#?}");
    let before = ledger_hashes(&t);
    assert!(before.len() > 3, "{before:?}");
    for (h, k) in &before {
        assert_eq!(h.as_slice(), sigov::db::keyhash::of(k).as_slice(), "{k}");
    }
    let dir = format!(
        "migrations/{}/{VERSION}_sigov_ledger_hash",
        match t.backend {
            sigov::db::Backend::Mysql => "mysql",
            sigov::db::Backend::Postgres => "postgres",
            sigov::db::Backend::Sqlite => "sqlite",
        }
    );
    let down = std::fs::read_to_string(format!("{dir}/down.sql")).unwrap();
    t.exec(&down);
    t.exec(&format!(
        "DELETE FROM sigov_schema_migrations WHERE version = '{}'",
        VERSION.replace('-', "")
    ));
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sigov_alert_ledger"),
        before.len() as i64
    );
    // Going up again, by `sigov db migrate` (SQLite: through the function it registers).
    t.sigov().args(["db", "migrate"]).run().ok();
    assert_eq!(ledger_hashes(&t), before);
    // The keys hold: the same day's run records nothing again.
    let again = t.check_all("2026-11-22T10:30:00Z");
    assert_eq!(again.code, 0, "{again:#?}");
    assert_eq!(ledger_hashes(&t), before, "{}", again.stdout);
}

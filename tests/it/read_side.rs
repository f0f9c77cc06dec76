//! The operator's read side through the real binary, on every backend: `alerts list/show/resend`,
//! `export`, `stats` (text, JSON, HTML) and `db maintain`, on demo data checked and mailed.

use crate::common::TestDb;
use crate::common::{chromium, chromium_probe};
use sigov::db::Backend;

fn checked(backend: Backend) -> (TestDb, tempfile::TempDir) {
    let t = TestDb::demo(backend, 12);
    let dir_tmp = crate::common::tempdir("read");
    let dir = dir_tmp.path().to_path_buf();
    std::fs::create_dir_all(&dir).expect("mail dir");
    let r = t
        .sigov()
        .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
        .env("SIGOV_MAIL_TRANSPORT", &format!("file://{}", dir.display()))
        .args(["check", "all", "--date", "2026-11-22", "-q"])
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
    (t, dir_tmp)
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
    let (t, dir_tmp) = checked(backend);
    let dir = dir_tmp.path();
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
        vec!["alerts", "list", "--since", "someday"],
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
    assert_eq!(m["before"].as_array().expect("before").len(), 7);
    assert!(!m["steps"].as_array().expect("steps").is_empty());
    let dry = json(&t, &["db", "maintain", "--dry-run", "--optimize"]);
    assert!(dry["steps"].as_array().expect("steps").is_empty());
}

/// `export alerts` streams: a million alert rows export with the memory of a hundred thousand,
/// under a fixed bound. The rows
/// are copies of one alert (the web application's rows for sigov: no ledger key), made by a
/// cross join of six tables of ten digits. The peaks are read by the kernel (ru_maxrss).
fn export_a_million(backend: Backend) {
    let (t, dir_tmp) = checked(backend);
    let dir = dir_tmp.path();
    let mut db = t.db();
    db.batch("CREATE TABLE t_digits (d INTEGER)")
        .expect("digits");
    db.batch("INSERT INTO t_digits (d) VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)")
        .expect("digits");
    let copies = |from: &str| {
        format!(
            "INSERT INTO core_alerteprojet (type_alerte, niveau, titre, message, lue, date_creation, \
             date_lecture, donnees_contexte, destinataire_id, projet_id) \
             SELECT a.type_alerte, a.niveau, a.titre, a.message, a.lue, a.date_creation, \
             a.date_lecture, a.donnees_contexte, a.destinataire_id, a.projet_id \
             FROM t_alert a {from}"
        )
    };
    // One template row, held apart (MySQL reads no table it inserts into).
    db.batch(
        "CREATE TABLE t_alert AS SELECT * FROM core_alerteprojet WHERE id = \
         (SELECT MIN(id) FROM core_alerteprojet)",
    )
    .expect("template row");
    let before = t.count("SELECT COUNT(*) AS n FROM core_alerteprojet")
        + t.count("SELECT COUNT(*) AS n FROM core_notificationetape");
    let out = dir.join("alerts.csv");
    let out_s = out.to_str().expect("utf-8").to_owned();
    let measure = |rows: i64| {
        let (code, mb) = t
            .sigov()
            .args(["export", "alerts", "-o", &out_s])
            .peak_rss_mb();
        assert_eq!(code, 0);
        let text = std::fs::read_to_string(&out).expect("export file");
        // Header + a record a row; a message may hold a line break inside its quotes: count
        // records through the reader.
        let n = csv::Reader::from_reader(text.as_bytes()).records().count() as i64;
        assert_eq!(n, rows);
        mb
    };
    // 100,000 copies, then 900,000 more: both exports read far more than SQLite's page cache
    // (32 MB) holds, so what differs between them is what the export itself keeps.
    db.batch(&copies(
        ", t_digits d1, t_digits d2, t_digits d3, t_digits d4, t_digits d5",
    ))
    .expect("100,000 copies");
    let tenth = measure(before + 100_000);
    db.batch(&copies(
        ", t_digits d1, t_digits d2, t_digits d3, t_digits d4, t_digits d5, t_digits d6 \
         WHERE d6.d <> 0",
    ))
    .expect("900,000 copies");
    let all = measure(before + 1_000_000);
    eprintln!(
        "export alerts on {backend:?}: peak {tenth:.1} MB for 100,000 rows, {all:.1} MB for 1,000,000"
    );
    assert!(all < 80.0, "a million rows held in memory: {all:.1} MB");
    assert!(
        all < tenth + 6.0,
        "memory grows with the rows: {tenth:.1} MB -> {all:.1} MB"
    );
}

crate::backend_test!(export_a_million, fn super::export_a_million);

crate::backend_test!(read_side, fn super::read_side);

/// `stats --html` as a person sees it: the page laid out by headless Chromium at a desktop and a
/// phone width. The page is shown in a frame of that width (a headless window is never narrower
/// than 500 px) inside a test page whose script, the test's own (the page itself has none),
/// reports the layout: the page never scrolls sideways (wide charts scroll inside their box),
/// every chart is drawn with a size, every table fits its box, and the figures are all there. A screenshot of each width
/// is taken too (kept with SIGOV_TEST_KEEP_SCREENSHOTS=1).
#[test]
fn stats_page_in_chromium() {
    let (t, dir_tmp) = checked(Backend::Sqlite);
    let dir = dir_tmp.path();
    let html = dir.join("stats.html");
    t.sigov()
        .args(["stats", "--since", "2026-11-01", "--html"])
        .args([&html])
        .run()
        .ok();
    let page = std::fs::read_to_string(&html).expect("html");
    let srcdoc = page.replace('&', "&amp;").replace('"', "&quot;");
    let framed = |width: u32, height: u32, probe: bool| {
        let script = if probe {
            r#"<script>
const f = document.getElementById('f');
f.addEventListener('load', () => {
  const w = f.contentWindow.innerWidth, d = f.contentDocument;
  const shown = [...d.querySelectorAll('svg')].filter(s => f.contentWindow.getComputedStyle(s).display !== 'none');
  const svgs = shown.map(s => s.getBoundingClientRect());
  // Both axes of every chart in view: the leftmost and rightmost tick labels inside the page.
  const ticks = shown.map(s => [...s.querySelectorAll('.tick')].map(t => t.getBoundingClientRect()));
  const axes_in_view = ticks.filter(ts => ts.length > 0 && Math.min(...ts.map(r => r.left)) >= 0
    && Math.max(...ts.map(r => r.right)) <= w && Math.min(...ts.map(r => r.height)) >= 8).length;
  const figs = [...d.querySelectorAll('.figures b')];
  const out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify({
    width: w, scroll: d.documentElement.scrollWidth, svgs: svgs.length,
    drawn: svgs.filter(r => r.width > 100 && r.height > 50).length,
    axes_in_view,
    first_section: (d.querySelector('section h2') || {}).textContent,
    now_rows: d.querySelectorAll('section.now tr').length,
    figures_cut: figs.filter(b => b.scrollWidth > b.parentElement.clientWidth).map(b => b.textContent),
    sections: d.querySelectorAll('section').length,
    figures: d.querySelectorAll('.figures div').length,
    tables: d.querySelectorAll('table').length,
    tables_fit: [...d.querySelectorAll('table')]
      .filter(t => t.scrollWidth <= t.parentElement.clientWidth).length });
  document.body.appendChild(out);
});
</script>"#
        } else {
            ""
        };
        format!(
            "<!DOCTYPE html><html><body style=\"margin:0\"><iframe id=\"f\" \
             style=\"border:0;width:{width}px;height:{height}px\" srcdoc=\"{srcdoc}\"></iframe>\
             {script}</body></html>"
        )
    };
    for width in [1280u32, 390] {
        let probed = dir.join(format!("probed-{width}.html"));
        std::fs::write(&probed, framed(width, 900, true)).expect("probe page");
        let v = chromium_probe(&probed, "--window-size=1300,1000");
        assert_eq!(v["width"], width, "{v}");
        assert!(
            v["scroll"].as_i64() <= v["width"].as_i64(),
            "the page scrolls sideways at {width} px: {v}"
        );
        assert!(v["svgs"].as_i64() >= Some(2), "{v}");
        assert_eq!(
            v["drawn"], v["svgs"],
            "a chart without a size at {width} px: {v}"
        );
        assert_eq!(
            v["axes_in_view"], v["svgs"],
            "a chart's axis is cut or unreadable at {width} px: {v}"
        );
        // The page leads with now: each watched check's state, then the outbox and silences.
        assert_eq!(v["first_section"], "Now", "{v}");
        assert!(v["now_rows"].as_i64() >= Some(6), "{v}");
        assert_eq!(
            v["figures_cut"],
            serde_json::json!([]),
            "a figure is cut at {width} px: {v}"
        );
        assert_eq!(v["figures"], 12, "{v}");
        assert!(v["tables"].as_i64() >= Some(2), "{v}");
        assert_eq!(
            v["tables_fit"], v["tables"],
            "a table wider than its box at {width} px: {v}"
        );
        let shown = dir.join(format!("shown-{width}.html"));
        std::fs::write(&shown, framed(width, 1800, false)).expect("page");
        let shot = dir.join(format!("stats-{width}.png"));
        let out = chromium(
            &[
                format!("--window-size={},1800", width.max(500)),
                format!("--screenshot={}", shot.display()),
            ],
            &shown,
        );
        let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
        assert!(
            size > 10_000,
            "no screenshot at {width} px: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    if std::env::var_os("SIGOV_TEST_KEEP_SCREENSHOTS").is_some() {
        eprintln!("stats page screenshots: {}", dir_tmp.keep().display());
    }
}

/// Ids as `alerts list` prints them are accepted back: `n91` for a stage notification, `a91` or
/// `91` for a project alert, mixed in one `resend`; a prefix that contradicts `--table` is a
/// usage error. `-n` is `--dry-run`.
#[test]
fn printed_ids_are_accepted_back() {
    let (t, _dir) = checked(Backend::Sqlite);
    let n = t.count("SELECT MIN(id) AS n FROM core_notificationetape");
    let a = t.count("SELECT MIN(id) AS n FROM core_alerteprojet");
    let list = t
        .sigov()
        .args(["alerts", "list", "--limit", "0"])
        .run()
        .ok();
    assert!(
        list.stdout
            .lines()
            .any(|l| l.trim_start().starts_with(&format!("n{n} "))),
        "alerts list prints n{n}: {}",
        list.stdout
    );
    for (args, table, id) in [
        (
            vec!["alerts".to_owned(), "show".into(), format!("n{n}")],
            "notification",
            n,
        ),
        (
            vec!["alerts".into(), "show".into(), format!("a{a}")],
            "alert",
            a,
        ),
        (
            vec!["alerts".into(), "show".into(), a.to_string()],
            "alert",
            a,
        ),
    ] {
        let v = json(&t, &args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(v["table"], table, "{args:?}: {v:#}");
        assert_eq!(v["id"], id, "{args:?}: {v:#}");
    }
    let r = t
        .sigov()
        .args(["alerts", "show", &format!("n{n}"), "--table", "alert"])
        .run();
    assert_eq!(r.code, 2, "{r:#?}");
    let r = t.sigov().args(["alerts", "show", "x91"]).run();
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(
        r.stderr
            .contains("is not an alert id as `sigov alerts list` prints it"),
        "{r:#?}"
    );
    let r = t
        .sigov()
        .args([
            "--format",
            "json",
            "alerts",
            "resend",
            "-n",
            &format!("n{n}"),
            &a.to_string(),
        ])
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
    assert_eq!(r.json()["dry_run"], true, "{r:#?}");
    assert_eq!(
        r.json()["mails"].as_array().map(Vec::len),
        Some(2),
        "{r:#?}"
    );
}

/// `--since` and `--until` on every listing: alerts, runs, mail queue, stats, export.
#[test]
fn every_listing_takes_since_and_until() {
    let (t, _dir) = checked(Backend::Sqlite);
    let count = |args: &[&str]| -> usize {
        let v = json(&t, args);
        match &v {
            serde_json::Value::Array(a) => a.len(),
            _ => v["rows"]
                .as_array()
                .map(Vec::len)
                .or_else(|| v["alerts"].as_u64().map(|n| n as usize))
                .unwrap_or_else(|| panic!("{args:?}: {v:#}")),
        }
    };
    for base in [
        vec!["alerts", "list", "--limit", "0"],
        vec!["runs", "list", "--limit", "0"],
        vec!["mail", "queue", "--state", "sent", "--limit", "100000"],
        vec!["stats"],
    ] {
        let all = count(&[base.clone(), vec!["--since", "2000-01-01"]].concat());
        assert!(all > 0, "{base:?}");
        assert_eq!(
            count(
                &[
                    base.clone(),
                    vec!["--since", "1999-01-01", "--until", "2000-01-01 08:00"]
                ]
                .concat()
            ),
            0,
            "{base:?}"
        );
        assert_eq!(
            count(
                &[
                    base.clone(),
                    vec!["--since", "2000-01-01", "--until", "2100-01-01"]
                ]
                .concat()
            ),
            all,
            "{base:?}"
        );
    }
    for what in ["alerts", "runs", "mail"] {
        let r = t
            .sigov()
            .args(["export", what, "--format", "jsonl", "--until", "2000-01-01"])
            .run()
            .ok();
        assert!(r.stdout.is_empty(), "{what}: {r:#?}");
        let r = t
            .sigov()
            .args([
                "export",
                what,
                "--format",
                "jsonl",
                "--since",
                "2000-01-01 08:00",
            ])
            .run()
            .ok();
        assert!(!r.stdout.is_empty(), "{what}: {r:#?}");
    }
}

/// JSON times are RFC 3339 with their offset; a run's counters are an object, in `runs` and in
/// `export runs`.
#[test]
fn json_times_carry_their_offset_and_nested_values_are_json() {
    let (t, _dir) = checked(Backend::Sqlite);
    let runs = json(&t, &["runs", "list"]);
    let started = runs[0]["started_at"].as_str().expect("started_at");
    assert!(
        chrono::DateTime::parse_from_rfc3339(started).is_ok() && started.ends_with('Z'),
        "{started}"
    );
    assert!(runs[0]["counters"].is_object(), "{runs:#}");
    let r = t
        .sigov()
        .args(["export", "runs", "--format", "jsonl"])
        .run()
        .ok();
    let first: serde_json::Value =
        serde_json::from_str(r.stdout.lines().next().expect("a run")).expect("json");
    assert!(first["counters"].is_object(), "{first:#}");
    let s = first["started_at"].as_str().expect("started_at");
    assert!(chrono::DateTime::parse_from_rfc3339(s).is_ok(), "{s}");
    // CSV keeps the documented UTC form.
    let csv = t.sigov().args(["export", "runs"]).run().ok().stdout;
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let col = reader
        .headers()
        .expect("header")
        .iter()
        .position(|h| h == "started_at")
        .expect("started_at column");
    let row = reader.records().next().expect("a row").expect("csv");
    assert!(
        chrono::NaiveDateTime::parse_from_str(&row[col], "%Y-%m-%d %H:%M:%S%.f").is_ok(),
        "{}",
        &row[col]
    );
}

/// On an 80-column terminal the listings fit (the free-text columns are cut with "…"); piped,
/// every column is whole. Times are in the business time zone, named; `--utc` switches.
#[test]
fn listings_fit_the_terminal_and_name_their_zone() {
    let (t, _dir) = checked(Backend::Sqlite);
    let on_terminal = |args: &str| -> String {
        // `script` gives the command a terminal (util-linux, in every Debian).
        let out = std::process::Command::new("script")
            .args([
                "-qec",
                &format!("{} {args}", env!("CARGO_BIN_EXE_sigov")),
                "/dev/null",
            ])
            .env("COLUMNS", "80")
            .env("SIGOV_CONFIG", "/dev/null")
            .env("SIGOV_DATABASE_URL", &t.url)
            .env("NO_COLOR", "1")
            .output()
            .expect("script (util-linux)");
        String::from_utf8_lossy(&out.stdout).replace('\r', "")
    };
    for args in ["alerts list", "mail queue --state sent", "runs list"] {
        let shown = on_terminal(args);
        assert!(shown.lines().count() > 2, "{args}: {shown}");
        for line in shown.lines() {
            let w = unicode_width::UnicodeWidthStr::width(line);
            assert!(w <= 80, "{args}: {w} columns: {line}");
        }
        assert!(
            shown.contains("Europe/Paris") || shown.contains("(CET)") || shown.contains("(CEST)"),
            "{args}: {shown}"
        );
        let piped = t.sigov().args(args.split(' ')).run().ok().stdout;
        if args != "runs list" {
            assert!(
                piped
                    .lines()
                    .any(|l| unicode_width::UnicodeWidthStr::width(l) > 80),
                "{args} piped keeps every column whole: {piped}"
            );
        }
    }
    let paris = t.sigov().args(["runs", "list"]).run().ok().stdout;
    assert!(
        paris.contains("started (CET)") || paris.contains("started (CEST)"),
        "{paris}"
    );
    let utc = t.sigov().args(["runs", "list", "--utc"]).run().ok().stdout;
    assert!(utc.contains("started (UTC)"), "{utc}");
    let shown = t.sigov().args(["runs", "show", "1"]).run().ok().stdout;
    assert!(shown.contains(" CET") || shown.contains(" CEST"), "{shown}");
}

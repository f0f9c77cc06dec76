//! Reference parity: the generator's scale-50 data set in MariaDB, and in PostgreSQL (the real
//! PostgreSQL schema, the data through `scripts/mysql_to_pg.py`), `--profile reference` on
//! 2026-11-22 at 10:00 UTC, rows exported in the golden format and compared line by line with
//! what the Django checks produced on each database.

use crate::common::*;
use sigov::db::Backend;
use std::process::Command;

const GOLDEN: &str = "tests/fixtures/golden/scale50-seed42-2026-11-22.alerts.tsv";
const GOLDEN_PG: &str = "tests/fixtures/golden/postgres-scale50-seed42-2026-11-22.alerts.tsv";

/// The golden file of what the reference produced on `backend`'s database.
fn golden_file(backend: Backend, mysql: &'static str, postgres: &'static str) -> &'static str {
    match backend {
        Backend::Postgres => postgres,
        _ => mysql,
    }
}

fn field(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

/// Sorted keys, no spaces, non-ASCII kept: serde_json's default map is sorted.
fn canonical_json(s: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(s).expect("stored JSON is valid");
    fn sort(v: serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                let mut entries: Vec<(String, serde_json::Value)> = m.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sort(v))).collect())
            }
            other => other,
        }
    }
    serde_json::to_string(&sort(v)).expect("json")
}

#[derive(diesel::QueryableByName)]
struct Row {
    #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = sigov::db::text::Lossy)]
    t: String,
    #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = sigov::db::text::Lossy)]
    n: String,
    #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = sigov::db::text::Lossy)]
    u: String,
    #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = sigov::db::text::Lossy)]
    p: String,
    #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = sigov::db::text::Lossy)]
    ti: String,
    #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = sigov::db::text::Lossy)]
    m: String,
    /// jsonb on PostgreSQL: read as its text.
    #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = sigov::db::text::Lossy)]
    j: String,
}

/// Rows created after the given ids, in the golden format, sorted.
fn export(t: &TestDb, since: (i64, i64)) -> Vec<String> {
    let mut rows: Vec<(&str, Row)> = Vec::new();
    let alerts: Vec<Row> = t
        .db()
        .load(
            "SELECT a.type_alerte AS t, a.niveau AS n, u.username AS u, p.nom AS p, a.titre AS ti, a.message AS m, \
             a.donnees_contexte AS j FROM core_alerteprojet a JOIN core_utilisateur u ON u.id = a.destinataire_id \
             JOIN core_projet p ON p.id = a.projet_id WHERE a.id > ?",
            &[sigov::db::Val::Int(since.0)],
        )
        .expect("export alerts");
    rows.extend(alerts.into_iter().map(|r| ("core_alerteprojet", r)));
    let notes: Vec<Row> = t
        .db()
        .load(
            "SELECT a.type_notification AS t, '' AS n, u.username AS u, p.nom AS p, a.titre AS ti, a.message AS m, \
             a.donnees_contexte AS j FROM core_notificationetape a JOIN core_utilisateur u ON u.id = a.destinataire_id \
             JOIN core_etapeprojet e ON e.id = a.etape_id JOIN core_projet p ON p.id = e.projet_id WHERE a.id > ?",
            &[sigov::db::Val::Int(since.1)],
        )
        .expect("export notifications");
    rows.extend(notes.into_iter().map(|r| ("core_notificationetape", r)));
    let mut out: Vec<String> = rows
        .into_iter()
        .map(|(table, r)| {
            [
                table.to_owned(),
                field(&r.t),
                field(&r.n),
                field(&r.u),
                field(&r.p),
                field(&r.ti),
                field(&r.m),
                canonical_json(&r.j),
            ]
            .join("\t")
        })
        .collect();
    out.sort();
    out
}

fn load_generated(t: &TestDb) {
    if t.backend == Backend::Postgres {
        // The generator's MySQL SQL, converted by the reference's own filter.
        let sh = "python3 scripts/gen_pm_data.py --scale 50 --seed 42 --today 2026-11-22 --history --quiet \
                  | python3 scripts/mysql_to_pg.py";
        let gen = Command::new("sh")
            .args(["-c", sh])
            .output()
            .expect("sh runs the generator");
        assert!(
            gen.status.success(),
            "{}",
            String::from_utf8_lossy(&gen.stderr)
        );
        t.exec(std::str::from_utf8(&gen.stdout).expect("utf-8 SQL"));
        return;
    }
    let gen = Command::new("python3")
        .args([
            "scripts/gen_pm_data.py",
            "--scale",
            "50",
            "--seed",
            "42",
            "--today",
            "2026-11-22",
            "--history",
            "--quiet",
        ])
        .output()
        .expect("python3 runs the generator");
    assert!(
        gen.status.success(),
        "{}",
        String::from_utf8_lossy(&gen.stderr)
    );
    t.exec(std::str::from_utf8(&gen.stdout).expect("utf-8 SQL"));
}

fn golden(backend: Backend, filter: impl Fn(&str) -> bool) -> Vec<String> {
    let mut golden: Vec<String> = std::fs::read_to_string(golden_file(backend, GOLDEN, GOLDEN_PG))
        .expect("golden file")
        .lines()
        .skip(1)
        .filter(|l| l.split('\t').nth(1).is_some_and(&filter))
        .map(str::to_owned)
        .collect();
    golden.sort();
    golden
}

fn high_water(t: &TestDb) -> (i64, i64) {
    (
        t.count("SELECT COALESCE(MAX(id), 0) AS n FROM core_alerteprojet"),
        t.count("SELECT COALESCE(MAX(id), 0) AS n FROM core_notificationetape"),
    )
}

fn assert_same(got: &[String], want: &[String]) {
    let missing: Vec<&String> = want.iter().filter(|w| !got.contains(w)).collect();
    let extra: Vec<&String> = got.iter().filter(|g| !want.contains(g)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{} row(s) missing:\n{}\n{} row(s) not in the golden file:\n{}",
        missing.len(),
        missing
            .iter()
            .take(10)
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        extra.len(),
        extra
            .iter()
            .take(10)
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
    );
    assert_eq!(got, want);
}

crate::backend_test!(deadlines_alone_match_their_golden_rows, fn super::deadlines_alone_match_their_golden_rows, [mysql: Mysql, postgres: Postgres]);
fn deadlines_alone_match_their_golden_rows(backend: Backend) {
    let t = TestDb::new(backend);
    load_generated(&t);
    let before = high_water(&t);
    let r = t.check("reference", &[]);
    assert_eq!(r["counters"]["ignored_entities"], 1, "{r:#}");
    assert_eq!(
        r["counters"]["mails_queued"], 45,
        "the reference mailed 45 of these rows"
    );
    assert_same(
        &export(&t, before),
        &golden(backend, |t| t.starts_with("ECHEANCE_")),
    );
}

crate::backend_test!(check_all_matches_the_350_golden_rows_and_rerun_creates_nothing, fn super::check_all_matches_the_350_golden_rows_and_rerun_creates_nothing, [mysql: Mysql, postgres: Postgres]);
/// The whole golden file: `check all --profile reference`, every table, every check; then a
/// second run the same day creates nothing.
fn check_all_matches_the_350_golden_rows_and_rerun_creates_nothing(backend: Backend) {
    let t = TestDb::new(backend);
    load_generated(&t);
    let before = high_water(&t);
    let relay = crate::relay::Relay::start();
    let run = || {
        let r = t
            .sigov()
            .env("SIGOV_MAIL_TRANSPORT", &relay.plain_url())
            .args([
                "--profile",
                "reference",
                "--date",
                "2026-11-22",
                "--format",
                "json",
            ])
            .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
            .args(["check", "all"])
            .run();
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.json()
    };
    let r = run();
    let want = golden(backend, |_| true);
    assert_eq!(want.len(), 350);
    let got = export(&t, before);
    assert_same(&got, &want);
    let checks = r["checks"].as_array().expect("checks");
    let names: Vec<&str> = checks.iter().filter_map(|c| c["check"].as_str()).collect();
    assert_eq!(
        names,
        ["deadlines", "stages", "tasks", "budget", "contracts"]
    );
    let counter = |check: &str, k: &str| {
        checks
            .iter()
            .find(|c| c["check"] == check)
            .map(|c| c["counters"][k].clone())
            .unwrap_or_default()
    };
    // The reference's own console counters on this data set.
    assert_eq!(counter("tasks", "skipped")["assignee_without_access"], 16);
    assert_eq!(counter("tasks", "ignored_entities"), 5);
    // The mails: the reference's, recipient and subject, less its second copy of each budget
    // mail; every one with an HTML part (the reference sent stage mails as text only).
    let mut want_mail = golden_emails(backend);
    let budget_twice = want_mail.len();
    want_mail.dedup_by(|a, b| a == b && a.1.contains("Budget"));
    // 21 budget rows, one of them for a recipient without address: 20 mails sent twice.
    assert_eq!(
        budget_twice - want_mail.len(),
        20,
        "the reference's duplicate budget mails"
    );
    assert_eq!(want_mail.len(), 305);
    let mut got_mail: Vec<(String, String)> = relay
        .received()
        .into_iter()
        .map(|m| {
            assert!(m.parts.iter().any(|p| p.content_type == "text/html"));
            (m.rcpt_tos.join(","), m.subject)
        })
        .collect();
    got_mail.sort();
    assert_eq!(got_mail, want_mail);
    let again = run();
    for c in again["checks"].as_array().expect("checks") {
        assert_eq!(c["counters"]["created"], 0, "{c:#}");
    }
    assert_eq!(export(&t, before).len(), 350);
    assert_eq!(relay.received().len(), want_mail.len(), "no mail twice");
}

const GOLDEN_EMAILS: &str = "tests/fixtures/golden/scale50-seed42-2026-11-22.emails.tsv";
const GOLDEN_EMAILS_PG: &str =
    "tests/fixtures/golden/postgres-scale50-seed42-2026-11-22.emails.tsv";

/// (to, subject) of the reference's mails on `backend`'s database, sorted.
fn golden_emails(backend: Backend) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(golden_file(backend, GOLDEN_EMAILS, GOLDEN_EMAILS_PG))
        .expect("golden emails");
    let mut v: Vec<(String, String)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (
                f[0].to_owned(),
                f[1].replace("\\t", "\t").replace("\\n", "\n"),
            )
        })
        .collect();
    v.sort();
    v
}

crate::backend_test!(check_all_in_pages_of_three_matches_the_golden_rows, fn super::check_all_in_pages_of_three_matches_the_golden_rows, [mysql: Mysql, postgres: Postgres]);
/// Paging changes nothing: the same 350 rows when every check evaluates
/// its candidates three at a time (each page with what earlier pages recorded).
fn check_all_in_pages_of_three_matches_the_golden_rows(backend: Backend) {
    let t = TestDb::new(backend);
    load_generated(&t);
    let before = high_water(&t);
    let dir_tmp = crate::common::tempdir("paging");
    let dir = dir_tmp.path().to_path_buf();
    std::fs::create_dir_all(&dir).expect("dir");
    let cfg = dir.join("sigov.toml");
    std::fs::write(&cfg, "[check]\npage_size = 3\n").expect("config");
    let run = || {
        let r = t
            .sigov()
            .env("SIGOV_CONFIG", cfg.to_str().expect("utf-8"))
            .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
            .args([
                "--profile",
                "reference",
                "--date",
                "2026-11-22",
                "--format",
                "json",
            ])
            .args(["check", "all", "--no-mail"])
            .run();
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.json()
    };
    let r = run();
    assert_same(&export(&t, before), &golden(backend, |_| true));
    let tasks = &r["checks"][2]["counters"];
    assert_eq!(tasks["skipped"]["assignee_without_access"], 16);
    assert_eq!(tasks["ignored_entities"], 5);
    for c in run()["checks"].as_array().expect("checks") {
        assert_eq!(c["counters"]["created"], 0, "{c:#}");
    }
}

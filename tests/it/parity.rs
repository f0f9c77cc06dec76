//! Reference parity: the generator's scale-50 data set in MariaDB, `--profile reference` on
//! 2026-11-22 at 10:00 UTC, rows exported in the golden format and compared line by line.

use crate::common::*;
use sigov::db::Backend;
use std::process::Command;

const GOLDEN: &str = "../shared/fixtures/golden/scale50-seed42-2026-11-22.alerts.tsv";

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
    #[diesel(sql_type = diesel::sql_types::Text)]
    t: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    n: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    u: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    p: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    ti: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    m: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    j: String,
}

fn export(t: &TestDb, since_id: i64) -> Vec<String> {
    let rows: Vec<Row> = t
        .db()
        .load(
            "SELECT a.type_alerte AS t, a.niveau AS n, u.username AS u, p.nom AS p, a.titre AS ti, a.message AS m, \
             a.donnees_contexte AS j FROM core_alerteprojet a JOIN core_utilisateur u ON u.id = a.destinataire_id \
             JOIN core_projet p ON p.id = a.projet_id WHERE a.id > ?",
            &[sigov::db::Val::Int(since_id)],
        )
        .expect("export");
    let mut out: Vec<String> = rows
        .into_iter()
        .map(|r| {
            [
                "core_alerteprojet".to_owned(),
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

#[test]
fn deadlines_match_the_golden_rows_and_rerun_creates_nothing() {
    let t = TestDb::new(Backend::Mysql);
    let gen = Command::new("python3")
        .args([
            "../shared/tools/gen_pm_data.py",
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
    let before = t.count("SELECT COALESCE(MAX(id), 0) AS n FROM core_alerteprojet");
    let run = || t.check("reference", &[]);
    let r = run();
    assert_eq!(r["counters"]["ignored_entities"], 1, "{r:#}");
    assert_eq!(
        r["counters"]["mails_queued"], 45,
        "the reference mailed 45 of these rows"
    );
    let golden: Vec<String> = std::fs::read_to_string(GOLDEN)
        .expect("golden file")
        .lines()
        .skip(1)
        .filter(|l| {
            l.split('\t')
                .nth(1)
                .is_some_and(|t| t.starts_with("ECHEANCE_"))
        })
        .map(str::to_owned)
        .collect();
    let mut golden = golden;
    golden.sort();
    let got = export(&t, before);
    assert_eq!(got.len(), golden.len());
    for (g, w) in got.iter().zip(&golden) {
        assert_eq!(g, w);
    }
    let again = run();
    assert_eq!(again["counters"]["created"], 0, "{again:#}");
    assert_eq!(export(&t, before).len(), golden.len());
}

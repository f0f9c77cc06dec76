//! The shape of the code, checked on its text: no import circle between modules, one folder per
//! check, one `match` over check names (the registry's), and every backend difference in `db/`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src/") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module a file belongs to, as a node of the import graph: the top-level module, except
/// `ops`, a folder of independent operations (`ops::lock`, `ops::runs`, …).
fn node_of(rel: &str) -> Option<String> {
    let parts: Vec<&str> = rel.trim_end_matches(".rs").split('/').collect();
    match parts.as_slice() {
        ["lib"] | ["main"] => None,
        ["ops", "mod"] => Some("ops".to_owned()),
        ["ops", f, ..] => Some(format!("ops::{f}")),
        [top, ..] => Some((*top).to_owned()),
        [] => None,
    }
}

/// The code of a file without its unit tests (they may reach anywhere).
fn non_test(text: &str) -> &str {
    match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    }
}

/// `(file, module)` pairs of `crate::module` references (and `super::x` inside `ops/`).
fn references(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let rel = f
            .strip_prefix(src)
            .expect("under src")
            .to_string_lossy()
            .into_owned();
        let Some(from) = node_of(&rel) else { continue };
        let text = std::fs::read_to_string(&f).expect("read a source file");
        let code = non_test(&text);
        let mut add = |to: String| {
            if to != from {
                edges.entry(from.clone()).or_default().insert(to);
            }
        };
        let ident = |s: &str| -> String {
            s.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        };
        for (i, _) in code.match_indices("crate::") {
            let rest = &code[i + "crate::".len()..];
            let top = ident(rest);
            if top == "ops" {
                let sub = ident(rest.trim_start_matches("ops::"));
                add(if sub.is_empty() {
                    "ops".into()
                } else {
                    format!("ops::{sub}")
                });
            } else if !top.is_empty() {
                add(top);
            }
        }
        if code.contains("outln!") {
            add("output".into());
        }
        if from.starts_with("ops::") {
            for (i, _) in code.match_indices("super::") {
                let sub = ident(&code[i + "super::".len()..]);
                if !sub.is_empty() {
                    add(format!("ops::{sub}"));
                }
            }
        }
    }
    edges
}

/// A circle through `start`, if any (depth-first search).
fn circle(edges: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    fn walk(
        edges: &BTreeMap<String, BTreeSet<String>>,
        start: &str,
        at: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in edges.get(at).into_iter().flatten() {
            if next == start {
                path.push(next.clone());
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(edges, start, next, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_owned()];
    walk(edges, start, start, &mut path, &mut BTreeSet::new()).then_some(path)
}

#[test]
fn no_module_imports_itself_through_others() {
    let edges = references(Path::new("src"));
    assert!(edges.contains_key("checks") && edges.contains_key("mail"));
    let circles: Vec<String> = edges
        .keys()
        .filter_map(|m| circle(&edges, m))
        .map(|c| c.join(" → "))
        .collect();
    assert!(
        circles.is_empty(),
        "import circles:\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_layout_test_sees_a_circle() {
    // The same walk on a made-up graph: it must find what it is meant to find.
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    edges.entry("a".into()).or_default().insert("b".into());
    edges.entry("b".into()).or_default().insert("c".into());
    edges.entry("c".into()).or_default().insert("a".into());
    assert_eq!(circle(&edges, "a").unwrap(), ["a", "b", "c", "a"]);
    edges.get_mut("c").unwrap().clear();
    assert!(circle(&edges, "a").is_none());
}

#[test]
fn one_folder_per_check_with_its_query_and_pure_rule() {
    for c in sigov::checks::registry::CheckName::ALL {
        let dir = Path::new("src/checks").join(c.as_str().replace('-', "_"));
        for f in ["mod.rs", "query.rs", "rule.rs", "labels.txt"] {
            assert!(dir.join(f).is_file(), "{} lacks {f}", dir.display());
        }
        // The rule is pure: the engine, its check's name and other checks' rules, no I/O.
        let rule = std::fs::read_to_string(dir.join("rule.rs")).unwrap();
        for forbidden in [
            "crate::db",
            "crate::source",
            "crate::store",
            "crate::mail",
            "crate::ops",
            "std::fs",
            "std::net",
            "diesel",
        ] {
            assert!(
                !non_test(&rule).contains(forbidden),
                "{}/rule.rs uses {forbidden}",
                dir.display()
            );
        }
    }
}

#[test]
fn backend_differences_live_in_db() {
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    for f in files {
        let rel = f.to_string_lossy().into_owned();
        if rel.starts_with("src/db/") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for (n, line) in non_test(&text).lines().enumerate() {
            assert!(
                !line.contains("match db.backend()") && !line.contains("Backend::Mysql =>"),
                "{rel}:{}: a backend branch outside db/: {line}",
                n + 1
            );
        }
    }
}

#[test]
fn sigov_tables_are_written_only_through_the_query_builder() {
    // Issue 13, item 6: sigov's own tables (run records, locks, installation facts, the ledger,
    // the outbox) are written through db::schema; hand-written SQL writes only the web
    // application's tables. Migrations and tests are not looked at.
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    let schema = std::fs::read_to_string("src/db/schema.rs").unwrap();
    for t in [
        "sigov_run",
        "sigov_lock",
        "sigov_meta",
        "sigov_alert_ledger",
        "sigov_outbox",
    ] {
        assert!(
            schema.contains(&format!("    {t} (")),
            "db/schema.rs does not describe {t}"
        );
    }
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let code = non_test(&text).to_uppercase();
        for verb in [
            "INSERT INTO SIGOV_",
            "INSERT IGNORE INTO SIGOV_",
            "UPDATE SIGOV_",
            "DELETE FROM SIGOV_",
            "REPLACE INTO SIGOV_",
        ] {
            assert!(
                !code.contains(verb),
                "{}: `{verb}…` by hand; write sigov's tables through db::schema",
                f.display()
            );
        }
        // A table name spliced into a write (`DELETE FROM {table}`) must not be one of sigov's.
        for (i, line) in non_test(&text).lines().enumerate() {
            if line.contains("table: \"sigov_") {
                panic!(
                    "{}:{}: a sigov table named for hand-written SQL",
                    f.display(),
                    i + 1
                );
            }
        }
    }
}

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
            let dialect = [
                "match db.backend()",
                "per_backend(",
                "Backend::Mysql",
                "Backend::Sqlite",
                "Backend::Postgres",
            ];
            assert!(
                !dialect.iter().any(|d| line.contains(d)),
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

/// The string literals of a line (their contents), roughly: enough for code written by rustfmt.
fn literals(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    let mut escaped = false;
    for ch in line.chars() {
        match &mut cur {
            None if ch == '"' => cur = Some(String::new()),
            None => {}
            Some(s) if escaped => {
                s.push(ch);
                escaped = false;
            }
            Some(_) if ch == '\\' => escaped = true,
            Some(s) if ch == '"' => {
                out.push(std::mem::take(s));
                cur = None;
            }
            Some(s) => s.push(ch),
        }
    }
    out
}

#[test]
fn only_the_checks_name_checks_and_alert_types() {
    // Issue 29: what a check knows lives in its folder; shared code reaches it through the
    // trait or the registry. A literal that is exactly a check's name, one of its alert types
    // (or a type's fixed head, `ECHEANCE_J`) or a `CheckName::Variant` is refused outside
    // src/checks/; a message or help text citing one as an example is not such a literal.
    use sigov::checks::registry::{alert_types, CheckName};
    let mut names: Vec<String> = CheckName::ALL
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    for t in alert_types() {
        names.push(t.split("<n>").next().unwrap_or(t).to_owned());
    }
    let variants: Vec<String> = CheckName::ALL
        .iter()
        .map(|c| format!("CheckName::{c:?}"))
        .collect();
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    let mut found = Vec::new();
    for f in files {
        let rel = f.to_string_lossy().into_owned();
        if rel.starts_with("src/checks/") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for (n, line) in non_test(&text).lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            let hit = literals(line).into_iter().find(|l| names.contains(l));
            let variant = variants.iter().find(|v| line.contains(v.as_str()));
            if let Some(what) = hit.or(variant.cloned()) {
                found.push(format!("{rel}:{}: `{what}`: {}", n + 1, code));
            }
        }
    }
    assert!(
        found.is_empty(),
        "check names or alert types outside src/checks/:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_literal_test_sees_a_check_name() {
    assert_eq!(
        literals(r##"    "deadlines" => "#0969da", // "x\"y""##),
        ["deadlines", "#0969da", "x\"y"]
    );
}

/// The module path of a source file (`src/db/conn.rs` → `db::conn`, `src/db/mod.rs` → `db`).
fn module_of(src: &Path, f: &Path) -> Vec<String> {
    let rel = f.strip_prefix(src).expect("under src").with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The file-level import graph: a file names another when one of its paths (`crate::a::b`,
/// `super::x`, a child module's `child::item`, a `{…}` group) resolves to it, the longest
/// prefix that is a file winning. Code after `#[cfg(test)]` is not counted.
fn file_edges(src: &Path) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(src, f)).collect();
    let resolve = |path: &[String]| -> Option<Vec<String>> {
        (1..=path.len())
            .rev()
            .map(|n| path[..n].to_vec())
            .find(|p| modules.contains(p))
    };
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    // `a::b::c` from the start of `s` (after a `::`), and what follows it.
    let path_at = |s: &str| -> (Vec<String>, usize) {
        let mut out = Vec::new();
        let mut at = 0;
        loop {
            let id = ident(&s[at..]);
            if id.is_empty() {
                break;
            }
            at += id.len();
            out.push(id);
            if s[at..].starts_with("::") {
                at += 2;
            } else {
                break;
            }
        }
        (out, at)
    };
    let mut edges = BTreeMap::new();
    for f in &files {
        let me = module_of(src, f);
        let text = std::fs::read_to_string(f).expect("read a source file");
        let code: String = text
            .split("#[cfg(test)]")
            .next()
            .unwrap_or_default()
            .lines()
            .map(|l| l.split("//").next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n");
        let children: Vec<String> = code
            .lines()
            .filter_map(|l| {
                let l = l.trim_start();
                let l = l.strip_prefix("pub ").unwrap_or(l);
                let l = l.strip_prefix("pub(crate) ").unwrap_or(l);
                let name = l.strip_prefix("mod ")?.strip_suffix(';')?;
                Some(name.trim().to_owned())
            })
            .collect();
        let mut to: BTreeSet<Vec<String>> = BTreeSet::new();
        let add = |path: Vec<String>, to: &mut BTreeSet<Vec<String>>| {
            if let Some(t) = resolve(&path) {
                if t != me {
                    to.insert(t);
                }
            }
        };
        for (i, m) in code
            .match_indices("crate::")
            .chain(code.match_indices("sigov::"))
        {
            let before = code[..i].chars().last();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
            let (p, end) = path_at(&code[i + m.len()..]);
            let rest = &code[i + m.len() + end..];
            if let Some(group) = rest.strip_prefix('{') {
                for item in group.split('}').next().unwrap_or_default().split(',') {
                    let (q, _) = path_at(item.trim());
                    if !q.is_empty() && q[0] != "self" {
                        add([p.clone(), q].concat(), &mut to);
                    }
                }
            }
            add(p, &mut to);
        }
        // Inline modules (`mod row { … }`): a `super::` inside one names the file itself.
        let mut inline: Vec<(usize, usize)> = Vec::new();
        for (i, _) in code.match_indices("mod ") {
            let head = &code[i + 4..];
            let name = ident(head);
            if name.is_empty() || !head[name.len()..].trim_start().starts_with('{') {
                continue;
            }
            let open = i + 4 + name.len() + head[name.len()..].find('{').unwrap_or(0);
            let mut depth = 0usize;
            for (k, ch) in code[open..].char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            inline.push((open, open + k));
                            break;
                        }
                    }
                    _ => {}
                }
            }
        }
        for (i, _) in code.match_indices("super::") {
            if code[..i].ends_with("super::") {
                continue;
            }
            let nested = inline.iter().filter(|(a, b)| *a < i && i < *b).count();
            let mut ups = 0usize;
            let mut at = i;
            while code[at..].starts_with("super::") {
                ups += 1;
                at += "super::".len();
            }
            let (p, _) = path_at(&code[at..]);
            let ups = ups.saturating_sub(nested);
            if ups > 0 && ups <= me.len() {
                add([me[..me.len() - ups].to_vec(), p].concat(), &mut to);
            }
        }
        for child in &children {
            for (i, _) in code.match_indices(&format!("{child}::")) {
                let before = code[..i].chars().last();
                if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
                    continue;
                }
                let (p, _) = path_at(&code[i..]);
                add([me.clone(), p].concat(), &mut to);
            }
        }
        edges.insert(me, to);
    }
    edges
}

#[test]
fn no_file_imports_itself_through_others() {
    // Issue 29: at the granularity of files, not only of top-level modules: a parent module
    // that re-exports its children is not named by them (they name the file that defines
    // what they use).
    let edges = file_edges(Path::new("src"));
    let named: BTreeMap<String, BTreeSet<String>> = edges
        .iter()
        .map(|(k, v)| (k.join("::"), v.iter().map(|t| t.join("::")).collect()))
        .collect();
    assert!(named
        .get("checks::runner")
        .is_some_and(|t| t.contains("checks::registry")));
    assert!(named.get("db").is_some_and(|t| t.contains("db::conn")));
    let circles: Vec<String> = named
        .keys()
        .filter_map(|m| circle(&named, m))
        .map(|c| c.join(" → "))
        .collect();
    assert!(
        circles.is_empty(),
        "file-level import circles:\n{}",
        circles.join("\n")
    );
}

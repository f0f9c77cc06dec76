//! Command-line behavior: configuration layers, the demo, output conventions, usage errors.

use crate::backend_test;
use crate::common::*;

#[test]
fn config_show_reports_sources_and_redacts_secrets() {
    let dir_tmp = tempdir("cli");
    let dir = dir_tmp.path().to_path_buf();
    let f = dir.join("sigov.toml");
    std::fs::write(
        &f,
        "[rules]\nprofile = \"reference\"\n[recommended]\nrepeat_every_days = 2\n",
    )
    .unwrap();
    let r = Sigov::new()
        .env("SIGOV_CONFIG", f.to_str().unwrap())
        .env(
            "SIGOV_DATABASE_URL",
            "mysql://sigov:hunter2@db.example:3306/pm",
        )
        .env("SIGOV_PING_URL", "https://hc.example/ping/uuid-hunter3/x")
        .args(["config", "show", "--format", "json"])
        .run()
        .ok();
    assert!(!r.stdout.contains("hunter2"), "{}", r.stdout);
    assert!(!r.stdout.contains("hunter3"), "{}", r.stdout);
    let v = r.json();
    let key = |k: &str| {
        v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["key"] == k)
            .unwrap()
            .clone()
    };
    assert_eq!(key("database.url")["source"], "env");
    assert_eq!(
        key("database.url")["value"],
        "\"mysql://sigov:***@db.example:3306/pm\""
    );
    assert_eq!(key("ping.url")["value"], "\"https://hc.example/…\"");
    assert_eq!(key("rules.profile")["source"], "file");
    assert_eq!(key("recommended.repeat_every_days")["value"], "2");
    assert_eq!(key("output.format")["source"], "flag");
    assert_eq!(v["rules"]["profile"], "reference");
    // Each check's settings in effect: the reference's fixed values.
    assert_eq!(
        v["checks"]["deadlines"]["milestones"],
        serde_json::json!([7, 3, 1])
    );
    // A flag beats the file and the environment.
    let v = Sigov::new()
        .env("SIGOV_CONFIG", f.to_str().unwrap())
        .env("SIGOV_PROFILE", "reference")
        .args([
            "config",
            "show",
            "--format",
            "json",
            "--profile",
            "recommended",
        ])
        .run()
        .ok()
        .json();
    assert_eq!(v["rules"]["profile"], "recommended");
    assert_eq!(
        v["checks"]["deadlines"]["milestones"],
        serde_json::json!([7, 3, 1, 0])
    );
    assert_eq!(v["checks"]["stale_work"]["days"], 14);
    std::fs::write(&f, "[rules]\nprofile = \"strict\"\n").unwrap();
    let r = Sigov::new()
        .env("SIGOV_CONFIG", f.to_str().unwrap())
        .args(["config", "show"])
        .run();
    assert_eq!(r.code, 1);
    assert!(
        r.error_line().contains(
            "`rules.profile`: unknown variant `strict`, expected `reference` or `recommended`"
        ) && !r.error_line().contains(" in `"),
        "{r:#?}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let r = Sigov::new().args(["check", "everything"]).run();
    assert_eq!(r.code, 2, "{r:#?}");
    // Every bad option value is clap's: its message, exit 2, before anything runs.
    for (args, env, msg) in [
        (
            vec!["--format", "xml", "config", "show"],
            None,
            "invalid value 'xml' for '--format",
        ),
        (
            vec!["--profile", "strict", "config", "show"],
            None,
            "invalid value 'strict' for '--profile",
        ),
        (
            vec!["check", "deadlines", "--date", "2026-02-30"],
            None,
            "invalid date `2026-02-30`",
        ),
        (
            vec!["check", "deadlines", "--date", "22/11/2026"],
            None,
            "invalid date `22/11/2026`",
        ),
        (
            vec!["runs", "list", "--status", "x"],
            None,
            "invalid value 'x' for '--status",
        ),
        (
            vec!["mail", "queue", "--state", "x"],
            None,
            "invalid value 'x' for '--state",
        ),
        (
            vec!["runs", "list", "--since", "106751991168d"],
            None,
            "invalid value '106751991168d'",
        ),
    ] {
        let mut s = Sigov::new()
            .env("SIGOV_DATABASE_URL", "sqlite:///tmp/sigov-none.db")
            .args(&args);
        if let Some((k, v)) = env {
            s = s.env(k, v);
        }
        let r = s.run();
        assert_eq!(r.code, 2, "{args:?}: {r:#?}");
        assert!(r.stderr.contains(msg), "{args:?}: {r:#?}");
        assert!(!r.stderr.contains("panicked"), "{args:?}: {r:#?}");
    }
}

/// A bad value in the environment or the configuration file names its source (the variable,
/// the file) and the key, and says in words what was expected: exit 1, one line.
#[test]
fn configuration_errors_name_their_source_and_the_kind_expected() {
    let dir_tmp = crate::common::tempdir("cfg-words");
    let dir = dir_tmp.path().to_path_buf();
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("sigov.toml");
    std::fs::write(&file, "[mail]\nmax_attempts = \"2\"\n[check]\n").expect("config");
    let file2 = dir.join("sigov2.toml");
    std::fs::write(&file2, "[check]\npage_size = -1\n").expect("config");
    let file3 = dir.join("sigov3.toml");
    std::fs::write(&file3, "[health]\nschedule.stages = \"0 0 30 2 *\"\n").expect("config");
    let file4 = dir.join("sigov4.toml");
    std::fs::write(&file4, "[health]\nschedule.tasks = \"every 4 hours\"\n").expect("config");
    let file5 = dir.join("sigov5.toml");
    std::fs::write(&file5, "[check]\nslice_alerts = 0\n").expect("config");
    let file6 = dir.join("sigov6.toml");
    std::fs::write(&file6, "[check]\nmemory_projects = 20000000\n").expect("config");
    for (env, msg) in [
        (
            vec![("SIGOV_FORMAT", "xml")],
            "environment SIGOV_FORMAT: `output.format`: unknown variant `xml`",
        ),
        (
            vec![("SIGOV_PROFILE", "strict")],
            "environment SIGOV_PROFILE: `rules.profile`: unknown variant `strict`",
        ),
        (
            vec![("SIGOV_DB_CONNECT_TIMEOUT", "ten")],
            "environment SIGOV_DB_CONNECT_TIMEOUT: `ten` is not a value for `database.connect_timeout_secs` (expected a whole number)",
        ),
        (
            vec![("SIGOV_CONFIG", file.to_str().expect("utf-8"))],
            "`mail.max_attempts`: expected a whole number from 0 to 4294967295, found the text \"2\" (numbers and true/false are written without quotes)",
        ),
        (
            vec![("SIGOV_CONFIG", file2.to_str().expect("utf-8"))],
            "`check.page_size`: expected a whole number from 0 to 4294967295, found the number -1",
        ),
        (
            vec![("SIGOV_CONFIG", file5.to_str().expect("utf-8"))],
            "`check.slice_alerts` = 0 (",
        ),
        (
            vec![("SIGOV_CONFIG", file6.to_str().expect("utf-8"))],
            "`check.memory_projects` = 20000000 (",
        ),
        (
            vec![("SIGOV_CONFIG", file3.to_str().expect("utf-8"))],
            "`health.schedule.stages`: `0 0 30 2 *` never fires",
        ),
        (
            vec![("SIGOV_CONFIG", file4.to_str().expect("utf-8"))],
            "`health.schedule.tasks`: `every 4 hours` is not a cron expression",
        ),
    ] {
        let mut s = Sigov::new()
            .env("SIGOV_DATABASE_URL", "sqlite:///tmp/sigov-none.db")
            .args(["config", "show"]);
        for (k, v) in &env {
            s = s.env(k, v);
        }
        let r = s.run();
        assert_eq!(r.code, 1, "{env:?}: {r:#?}");
        assert!(r.error_line().contains(msg), "{env:?}: {}", r.error_line());
        assert!(!r.stderr.contains("--format") && !r.stderr.contains("--profile"));
        assert!(!r.stderr.contains("u32"), "{r:#?}");
        assert_eq!(r.stderr.lines().count(), 1, "{r:#?}");
    }
}

/// Starts `sigov ARGS` with standard output going nowhere: the read end of its pipe is closed
/// before sigov writes (`sigov … | head -1` once head has gone).
fn with_closed_stdout(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    use std::process::Stdio;
    let mut s = Sigov::new().args(args);
    for (k, v) in env {
        s = s.env(k, v);
    }
    let mut child = s
        .cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sigov");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

backend_test!(a_closed_or_full_stdout_never_panics, |t| {
    // Enough history that `runs list` writes something.
    Data::new(&t);
    t.check_ok("deadlines", "reference");
    let url = t.url.clone();
    let env = [("SIGOV_DATABASE_URL", url.as_str())];
    for args in [
        vec!["mail", "preview"],
        vec!["config", "show"],
        vec!["runs", "list"],
        vec!["--format", "json", "runs", "list"],
        vec!["completions", "bash"],
        vec!["mail", "preview", "--html"],
    ] {
        // A reader that went away: quiet, exit 0 (as ripgrep, grep and cat do).
        let (code, stderr) = with_closed_stdout(&args, &env);
        assert_eq!(code, 0, "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
        // A full disk: one error line, exit 1.
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let mut s = Sigov::new().args(&args);
        for (k, v) in env {
            s = s.env(k, v);
        }
        let out = s.cmd.stdout(full).output().expect("run sigov");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(
            stderr.trim(),
            "sigov: cannot write to standard output: No space left on device (os error 28)",
            "{args:?}"
        );
    }
});

backend_test!(demo_creates_data_runs_checks_and_refreshes, |t| {
    let demo = TestDb::empty(t.backend);
    let run = || {
        Sigov::new()
            .args([
                "demo",
                "--db",
                &demo.url,
                "--scale",
                "40",
                "--date",
                "2026-11-22",
                "--format",
                "json",
            ])
            .run()
            .ok()
    };
    let first = run();
    assert!(first.stdout.contains("\"projects\": 40"), "{first:#?}");
    let created = demo.count("SELECT COUNT(*) AS n FROM core_alerteprojet");
    assert!(
        created > 20,
        "the demo's deadline check creates alerts ({created})"
    );
    assert_eq!(demo.count("SELECT COUNT(*) AS n FROM core_projet"), 40);
    // Every situation the checks react to is present.
    for (sql, what) in [
        ("SELECT COUNT(*) AS n FROM core_etapeprojet WHERE statut = 'EN_COURS' AND date_fin_prevue < '2026-11-22' AND date_fin_reelle IS NULL", "late stages"),
        ("SELECT COUNT(*) AS n FROM core_tacheetape WHERE statut IN ('A_FAIRE','EN_COURS','BLOQUEE') AND date_fin < '2026-11-22'", "overdue tasks"),
        ("SELECT COUNT(*) AS n FROM core_contratgarantie WHERE date_fin = '2026-12-22'", "contracts at J-30"),
        ("SELECT COUNT(*) AS n FROM core_contratgarantie WHERE date_fin < '2026-11-22'", "expired contracts"),
        ("SELECT COUNT(*) AS n FROM core_tachemodule WHERE statut <> 'TERMINEE' AND date_fin < '2026-11-22'", "overdue module tasks"),
        ("SELECT COUNT(*) AS n FROM core_utilisateur WHERE email = ''", "users without e-mail"),
        ("SELECT COUNT(*) AS n FROM core_utilisateur WHERE is_active = '0'", "inactive users"),
    ] {
        assert!(demo.count(sql) > 0, "demo data lacks {what}");
    }
    // Every check produced rows.
    for typ in [
        "ECHEANCE_DEPASSEE",
        "TACHES_EN_RETARD",
        "BUDGET_DEPASSE",
        "CONTRAT_EXPIRATION",
        "CONTRAT_EXPIRE",
    ] {
        assert!(
            demo.count(&format!(
                "SELECT COUNT(*) AS n FROM core_alerteprojet WHERE type_alerte = '{typ}'"
            )) > 0,
            "the demo created no {typ}"
        );
    }
    assert!(demo.count("SELECT COUNT(*) AS n FROM core_notificationetape") > 0);
    let over_budget = demo.count(
        "SELECT COUNT(*) AS n FROM core_projet p WHERE p.budget_previsionnel > 0 AND \
         (SELECT SUM(l.montant) FROM core_lignebudget l WHERE l.projet_id = p.id) > p.budget_previsionnel",
    );
    assert!(over_budget > 0, "demo data lacks projects over budget");
    // Refreshing yields the same data and the same alerts.
    run();
    assert_eq!(
        demo.count("SELECT COUNT(*) AS n FROM core_alerteprojet"),
        created
    );
    assert_eq!(
        demo.count("SELECT COUNT(*) AS n FROM sigov_run WHERE status = 'success'"),
        5,
        "one run per check"
    );
});

backend_test!(demo_refuses_a_database_it_did_not_create, |t| {
    let mut d = Data::new(&t);
    d.project("60000000000000000000000000000001", "Vrai projet", None);
    let r = Sigov::new()
        .args(["demo", "--db", &t.url, "--scale", "5"])
        .run();
    assert_eq!(r.code, 1);
    assert!(r.error_line().contains("refusing to overwrite"), "{r:#?}");
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM core_projet"), 1);
});

backend_test!(silent_on_success_when_not_a_terminal, |t| {
    Data::new(&t);
    let r = t.sigov().args(["check", "deadlines"]).run().ok();
    assert_eq!(r.stdout, "", "cron mails any output");
    let r = t.sigov().args(["check", "deadlines", "-v"]).run().ok();
    assert!(
        r.stdout.contains("deadlines — profile recommended"),
        "{r:#?}"
    );
});

#[test]
fn example_configuration_parses_and_documents_every_key() {
    let text = std::fs::read_to_string("sigov.example.toml").unwrap();
    for k in sigov::config::KEYS.iter() {
        // `[mail.receive]` holds `url`; `[health]` holds `schedule.deadlines`.
        let (section, name) = match k.key.rsplit_once('.') {
            Some((s, n)) if s.contains('.') && text.contains(&format!("[{s}]")) => (s, n),
            _ => k.key.split_once('.').unwrap(),
        };
        assert!(
            text.contains(&format!("[{section}]")),
            "section of {} missing",
            k.key
        );
        // A key whose default follows another one is shown commented out.
        assert!(
            text.contains(&format!("\n{name} = {}", k.default))
                || text.contains(&format!("\n# {name} = {}", k.default)),
            "{} missing or its default differs",
            k.key
        );
    }
    let v = Sigov::new()
        .env("SIGOV_CONFIG", "sigov.example.toml")
        .args(["config", "show", "--format", "json"])
        .run()
        .ok()
        .json();
    assert_eq!(v["rules"]["profile"], "recommended");
}

/// `man/` holds one page per command, generated from the clap definitions. After a CLI change:
/// `SIGOV_UPDATE_SNAPSHOTS=1 cargo test man_pages`, then commit `man/`.
///
/// Each page: clap_mangen's sections (name, synopsis, description, options, subcommands, the
/// long help's end), then EXIT STATUS, ENVIRONMENT (every variable of the configuration's
/// catalogue and the few others), FILES and EXAMPLES, then the version.
fn man_pages(out: &std::path::Path) {
    use clap::CommandFactory;
    use sigov::cmd::manual;
    /// Text as roff reads it: backslashes and hyphens escaped, no line starting with a dot.
    fn esc(s: &str) -> String {
        let t = s.replace('\\', "\\e").replace('-', "\\-");
        if t.starts_with('.') || t.starts_with('\'') {
            format!("\\&{t}")
        } else {
            t
        }
    }
    fn section(title: &str, items: &[(String, String)]) -> String {
        let mut s = format!(".SH \"{title}\"\n");
        for (k, v) in items {
            s.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", esc(k), esc(v)));
        }
        s
    }
    fn page(cmd: clap::Command, path: String, out: &std::path::Path) {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned() {
            let p = if path.is_empty() {
                sub.get_name().to_owned()
            } else {
                format!("{path} {}", sub.get_name())
            };
            page(sub, p, out);
        }
        let man = clap_mangen::Man::new(cmd.clone());
        let mut buf: Vec<u8> = Vec::new();
        man.render_title(&mut buf).unwrap();
        man.render_name_section(&mut buf).unwrap();
        man.render_synopsis_section(&mut buf).unwrap();
        man.render_description_section(&mut buf).unwrap();
        if cmd.get_arguments().any(|a| !a.is_hide_set()) {
            man.render_options_section(&mut buf).unwrap();
        }
        if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
            man.render_subcommands_section(&mut buf).unwrap();
        }
        if cmd.get_after_long_help().is_some() {
            man.render_extra_section(&mut buf).unwrap();
        }
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect()
        };
        let exit = if path == "health" {
            manual::HEALTH_EXIT_STATUS
        } else {
            manual::EXIT_STATUS
        };
        let mut env: Vec<(String, String)> = sigov::config::KEYS
            .iter()
            .filter_map(|k| {
                k.env
                    .map(|e| (e.to_owned(), format!("{} ({})", k.help, k.key)))
            })
            .collect();
        env.extend(pairs(&[
            (
                "SIGOV_NOW",
                "fixes the wall clock (RFC 3339), for tests and replays",
            ),
            (
                "RUST_LOG",
                "log filter (error, warn, info, debug), as -v and -q",
            ),
            (
                "JOURNAL_STREAM",
                "set by systemd: every stderr line starts with its syslog priority",
            ),
            ("NO_COLOR", "no colour on a terminal"),
        ]));
        let mut text = String::from_utf8(buf).unwrap();
        text.push_str(&section("EXIT STATUS", &pairs(exit)));
        text.push_str(&section("ENVIRONMENT", &env));
        text.push_str(&section("FILES", &pairs(manual::FILES)));
        text.push_str(&section("EXAMPLES", &pairs(manual::of(&path))));
        let mut buf = text.into_bytes();
        man.render_version_section(&mut buf).unwrap();
        std::fs::write(out.join(man.get_filename()), buf).unwrap();
    }
    let mut cmd = sigov::cli::Cli::command().disable_help_subcommand(true);
    cmd.build();
    page(cmd, String::new(), out);
}

/// Every command has two to four examples, each a command line the real CLI accepts.
#[test]
fn every_command_has_examples_that_parse() {
    use clap::CommandFactory;
    fn paths(cmd: &clap::Command, path: String, out: &mut Vec<String>) {
        out.push(path.clone());
        for s in cmd.get_subcommands() {
            let p = if path.is_empty() {
                s.get_name().to_owned()
            } else {
                format!("{path} {}", s.get_name())
            };
            paths(s, p, out);
        }
    }
    let mut all = Vec::new();
    paths(&sigov::cli::Cli::command(), String::new(), &mut all);
    for path in &all {
        let ex = sigov::cmd::manual::of(path);
        assert!(
            (2..=4).contains(&ex.len()),
            "`sigov {path}` has {} examples",
            ex.len()
        );
        for (line, what) in ex {
            assert!(!what.is_empty());
            let words: Vec<&str> = line
                .split_whitespace()
                .skip_while(|w| w.contains('='))
                .take_while(|w| *w != ">")
                .collect();
            assert_eq!(words.first(), Some(&"sigov"), "{line}");
            let r = sigov::cli::Cli::command().try_get_matches_from(&words);
            assert!(r.is_ok(), "`{line}` does not parse: {r:?}");
            if !path.is_empty() {
                let named: Vec<&str> = path.split(' ').collect();
                let cmd_words: Vec<&str> = words
                    .iter()
                    .copied()
                    .filter(|w| !w.starts_with('-'))
                    .collect();
                assert!(
                    cmd_words
                        .windows(named.len())
                        .any(|w| w == named.as_slice())
                        || path.ends_with("retry"),
                    "`{line}` is not an example of `sigov {path}`"
                );
            }
        }
        // At the end of the long help.
        let help = sigov::cmd::manual::with_examples(sigov::cli::Cli::command());
        let mut c = help;
        for part in path.split(' ').filter(|p| !p.is_empty()) {
            c = c.find_subcommand(part).expect("subcommand").clone();
        }
        let long = c.render_long_help().to_string();
        assert!(
            long.trim_end().ends_with(ex[ex.len() - 1].1),
            "{path}: {long}"
        );
    }
    assert!(all.len() > 30, "{all:?}");
}

/// man/ holds the pages `man_pages` makes from the current CLI.
#[test]
fn man_pages_are_current() {
    let tmp_tmp = crate::common::tempdir("man");
    let tmp = tmp_tmp.path().to_path_buf();
    std::fs::create_dir_all(&tmp).unwrap();
    man_pages(&tmp);
    let man = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let names = |d: &std::path::Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .map(|r| {
                r.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    if std::env::var_os("SIGOV_UPDATE_SNAPSHOTS").is_some() {
        let _ = std::fs::remove_dir_all(&man);
        std::fs::create_dir_all(&man).unwrap();
        for n in names(&tmp) {
            std::fs::copy(tmp.join(&n), man.join(&n)).unwrap();
        }
    }
    assert_eq!(
        names(&man),
        names(&tmp),
        "man/ lists other pages than the CLI has"
    );
    for n in names(&tmp) {
        let (old, new) = (
            std::fs::read_to_string(man.join(&n)).unwrap(),
            std::fs::read_to_string(tmp.join(&n)).unwrap(),
        );
        if old != new {
            let diff = similar::TextDiff::from_lines(&old, &new)
                .unified_diff()
                .header(&format!("man/{n}"), "generated")
                .to_string();
            panic!("man/{n} is stale (SIGOV_UPDATE_SNAPSHOTS=1 cargo test man_pages):\n{diff}");
        }
    }
    assert!(names(&man).contains(&"sigov-mail-flush.1".to_owned()));
    let root = std::fs::read_to_string(man.join("sigov.1")).unwrap();
    assert!(root.contains("Exit codes") && root.contains("SIGOV_MAIL_TRANSPORT"));
    // Every page: exit status, environment, files and examples.
    for n in names(&man) {
        let page = std::fs::read_to_string(man.join(&n)).unwrap();
        for s in [
            ".SH \"EXIT STATUS\"",
            ".SH \"ENVIRONMENT\"",
            ".SH \"FILES\"",
            ".SH \"EXAMPLES\"",
        ] {
            assert!(page.contains(s), "{n} has no {s}");
        }
    }
    // The configuration keys, every one with its meaning, are in `config show`'s page.
    let show = std::fs::read_to_string(man.join("sigov-config-show.1")).unwrap();
    for k in sigov::config::KEYS.iter() {
        // roff writes a hyphen as `\-`.
        assert!(
            show.contains(k.key) || show.contains(&k.key.replace('-', "\\-")),
            "sigov-config-show.1 does not name {}",
            k.key
        );
    }
}

#[test]
fn completions_for_each_shell() {
    for (shell, marker) in [
        ("bash", "_sigov()"),
        ("zsh", "#compdef sigov"),
        ("fish", "complete -c sigov"),
    ] {
        let r = Sigov::new()
            .env("SIGOV_CONFIG", "/nonexistent/sigov.toml")
            .args(["completions", shell])
            .run()
            .ok();
        assert!(
            r.stdout.contains(marker),
            "{shell}: {}",
            &r.stdout[..r.stdout.len().min(200)]
        );
        assert!(
            r.stdout.contains("flush"),
            "{shell} completes the mail subcommands"
        );
    }
    let r = Sigov::new().args(["completions", "tcsh"]).run();
    assert_eq!(r.code, 2);
}

/// `sigov demo` ends with the lines to copy next, and they work as printed; `--database-url`
/// typed on its command line is its database; with `--db` naming another, one line, exit 2;
/// SIGOV_DATABASE_URL (the real database of the other commands) is never written by the demo.
#[test]
fn the_demo_says_what_to_type_next_and_honours_database_url() {
    let dir_tmp = crate::common::tempdir("demo-next");
    let dir = dir_tmp.path().to_path_buf();
    std::fs::create_dir_all(&dir).expect("dir");
    let in_dir = |s: Sigov| {
        let mut s = s;
        s.cmd.current_dir(&dir);
        s
    };
    let prod = dir.join("prod.db");
    let r = in_dir(
        Sigov::new()
            .env(
                "SIGOV_DATABASE_URL",
                &format!("sqlite://{}", prod.display()),
            )
            .args(["demo", "--scale", "4"]),
    )
    .run();
    assert_eq!(r.code, 0, "{r:#?}");
    assert!(!prod.exists(), "SIGOV_DATABASE_URL was written by the demo");
    let export = r
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("export SIGOV_DATABASE_URL="))
        .expect("an export line");
    assert_eq!(export, "'sqlite://./sigov-demo.db'", "{r:#?}");
    for next in ["sigov alerts list", "sigov stats --html stats.html"] {
        assert!(r.stdout.lines().any(|l| l.trim() == next), "{r:#?}");
    }
    // The lines as printed.
    let r = in_dir(
        Sigov::new()
            .env("SIGOV_DATABASE_URL", export.trim_matches('\''))
            .args(["alerts", "list"]),
    )
    .run();
    assert_eq!(r.code, 0, "{r:#?}");
    let r = in_dir(
        Sigov::new()
            .env("SIGOV_DATABASE_URL", export.trim_matches('\''))
            .args(["stats", "--html", "stats.html"]),
    )
    .run();
    assert_eq!(r.code, 0, "{r:#?}");
    assert!(dir.join("stats.html").is_file());
    // --database-url typed: the demo's database.
    let r = in_dir(Sigov::new().args([
        "--database-url",
        "sqlite://./typed.db",
        "demo",
        "--scale",
        "3",
        "--no-check",
    ]))
    .run();
    assert_eq!(r.code, 0, "{r:#?}");
    assert!(dir.join("typed.db").is_file(), "{r:#?}");
    let r = in_dir(Sigov::new().args([
        "demo",
        "--db",
        "sqlite://./a.db",
        "--database-url",
        "sqlite://./b.db",
    ]))
    .run();
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.error_line().contains("name two databases"), "{r:#?}");
    assert!(!dir.join("a.db").exists() && !dir.join("b.db").exists());
}

/// Log and error lines: no module path on the default line (`sigov: warning: …`); under
/// journald (JOURNAL_STREAM set) each starts with its syslog priority, so `journalctl -p
/// warning` finds them.
#[test]
fn log_lines_carry_their_priority_under_journald() {
    let t = TestDb::new(sigov::db::Backend::Sqlite);
    let mut d = Data::new(&t);
    d.project(
        "fd000000000000000000000000000001",
        "Journal",
        Some("2026-11-20"),
    );
    d.member(
        "fd100000000000000000000000000001",
        "fd000000000000000000000000000001",
        RESP,
        true,
    );
    t.sigov()
        .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
        .args(["check", "deadlines", "--no-mail"])
        .run()
        .ok();
    let flush = |journal: bool| {
        let mut s = t
            .sigov()
            .env("SIGOV_MAIL_TRANSPORT", "smtp://127.0.0.1:1?tls=none")
            .args(["mail", "flush"]);
        if journal {
            s = s.env("JOURNAL_STREAM", "8:12345");
        }
        s.run()
    };
    let plain = flush(false);
    assert_eq!(plain.code, 3, "{plain:#?}");
    assert!(
        plain
            .stderr
            .starts_with("sigov: error: mail delivery stopped"),
        "{plain:#?}"
    );
    assert!(
        !plain.stderr.contains("sigov::"),
        "no module path: {plain:#?}"
    );
    let journal = flush(true);
    let lines: Vec<&str> = journal.stderr.lines().collect();
    assert!(
        lines[0].starts_with("<3>error: mail delivery stopped"),
        "{journal:#?}"
    );
    assert!(
        lines[1].starts_with("<4>sigov: mail: 0 sent"),
        "{journal:#?}"
    );
    assert!(lines.iter().all(|l| l.starts_with('<')), "{journal:#?}");
}

/// What people type from habit or by mistake: the Django command names get the sigov command
/// that replaces them; a `check --date` after today is refused unless it is a dry run or
/// `--allow-future`; `prefs --mute type:` takes only a type some check writes.
#[test]
fn typos_and_habits_get_one_clear_line() {
    for (django, ours) in [
        ("check_project_deadlines", "sigov check deadlines"),
        ("check_stage_delays_task", "sigov check stages"),
        ("check_all_alerts", "sigov check all"),
    ] {
        let r = Sigov::new().arg_path(std::path::Path::new(django)).run();
        assert_eq!(r.code, 2, "{r:#?}");
        assert!(
            r.error_line().contains(&format!("did you mean `{ours}`")),
            "{r:#?}"
        );
        assert_eq!(r.stderr.lines().count(), 1, "{r:#?}");
    }
    let t = TestDb::new(sigov::db::Backend::Sqlite);
    let mut d = Data::new(&t);
    d.project(
        "fe000000000000000000000000000001",
        "Futur",
        Some("2026-12-20"),
    );
    d.member(
        "fe100000000000000000000000000001",
        "fe000000000000000000000000000001",
        RESP,
        true,
    );
    let check = |extra: &[&str]| {
        t.sigov()
            .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
            .args(["check", "deadlines", "--no-mail", "--date", "2026-12-13"])
            .args(extra)
            .run()
    };
    let r = check(&[]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(
        r.error_line().contains("is after today (2026-11-22)"),
        "{r:#?}"
    );
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM core_alerteprojet"), 0);
    assert_eq!(check(&["-n"]).code, 0);
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM core_alerteprojet"), 0);
    assert_eq!(check(&["--allow-future"]).code, 0);
    assert!(t.count("SELECT COUNT(*) AS n FROM core_alerteprojet") > 0);
    for (what, code) in [
        ("type:NO_SUCH_TYPE", 2),
        ("type:ECHEANCE_J", 2),
        ("type:ECHEANCE_J14", 0),
        ("type:TACHES_EN_RETARD", 0),
    ] {
        let r = t.sigov().args(["prefs", "set", RESP, "--mute", what]).run();
        assert_eq!(r.code, code, "{what}: {r:#?}");
        if code == 2 {
            assert!(
                r.error_line().contains("no check writes this alert type"),
                "{r:#?}"
            );
        }
    }
}

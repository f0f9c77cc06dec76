//! The shipped scheduling files: crontab.example, systemd/ units, the Kubernetes CronJobs. Each
//! is checked for syntax with the real tool where one exists (systemd-analyze, PyYAML), every
//! command it runs must parse with sigov's own CLI, and the plans must be the reference's.

use clap::Parser;
use sigov::cli::Cli;
use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A sigov command line from a scheduling file must parse.
fn assert_parses(args: &[String], whence: &str) {
    let argv = std::iter::once("sigov".to_owned()).chain(args.iter().cloned());
    if let Err(e) = Cli::try_parse_from(argv) {
        panic!("{whence}: `sigov {}` does not parse: {e}", args.join(" "));
    }
}

/// One crontab time field: `*`, `*/n`, `a`, `a-b`, `a-b/n`, lists of those, within `lo..=hi`.
fn valid_field(f: &str, lo: u32, hi: u32) -> bool {
    f.split(',').all(|part| {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (part, None),
        };
        let step_ok = step.is_none_or(|s| s.parse::<u32>().is_ok_and(|n| n >= 1 && n <= hi));
        let num = |s: &str| s.parse::<u32>().is_ok_and(|n| (lo..=hi).contains(&n));
        let range_ok = range == "*"
            || match range.split_once('-') {
                Some((a, b)) => num(a) && num(b) && a.parse::<u32>().ok() <= b.parse::<u32>().ok(),
                None => num(range),
            };
        step_ok && range_ok
    })
}

#[test]
fn crontab_example_is_valid_and_follows_the_reference_plan() {
    let text = std::fs::read_to_string(Path::new(ROOT).join("crontab.example")).expect("read");
    let mut checks = Vec::new();
    let mut commands = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some((k, _)) = line.split_once('=') {
            if !k.contains(char::is_whitespace) {
                continue; // VAR=value
            }
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        assert!(f.len() >= 7, "line {}: too few fields: {line}", n + 1);
        let limits = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)];
        for (i, (lo, hi)) in limits.iter().enumerate() {
            assert!(
                valid_field(f[i], *lo, *hi),
                "line {}: bad field `{}`",
                n + 1,
                f[i]
            );
        }
        assert_eq!(f[5], "sigov", "line {}: runs as the sigov user", n + 1);
        assert_eq!(f[6], "sigov", "line {}: runs sigov", n + 1);
        let args: Vec<String> = f[7..].iter().map(|s| s.to_string()).collect();
        assert_parses(&args, &format!("crontab.example line {}", n + 1));
        if args[0] == "check" {
            checks.push((f[0].to_owned(), f[1].to_owned(), args[1].clone()));
        }
        commands.push(args.join(" "));
    }
    let plan: Vec<(String, String, String)> = [
        ("0", "deadlines"),
        ("5", "stages"),
        ("10", "tasks"),
        ("15", "budget"),
        ("20", "contracts"),
    ]
    .iter()
    .map(|(m, c)| (m.to_string(), "*/4".to_owned(), c.to_string()))
    .collect();
    assert_eq!(checks, plan);
    assert!(commands.contains(&"mail flush".to_owned()));
    assert!(commands.contains(&"purge".to_owned()));
    assert!(text.contains("Europe/Paris"));
    // The negative control: the field check can fail.
    assert!(!valid_field("61", 0, 59) && !valid_field("*/0", 0, 59) && valid_field("0,30", 0, 59));
}

/// The tool, or the reason it is missing: in CI (CI=true) a missing tool fails the test.
fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("CI").is_err(),
            "{name} is missing: the test command installs it"
        );
        eprintln!("note: {name} is not installed; run the suite through scripts/test-it.sh");
    }
    found
}

/// `systemd-analyze verify` on `units` in `dir`; its whole output (empty when clean).
fn verify(sa: &Path, dir: &Path, units: &[&str]) -> String {
    let out = Command::new(sa)
        .args(["verify", "--man=no"])
        .args(units.iter().map(|u| dir.join(u)))
        .env("SYSTEMD_LOG_COLOR", "0")
        .output()
        .expect("run systemd-analyze");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ) + if out.status.success() {
        ""
    } else {
        "(exit status non-zero)"
    }
}

#[test]
fn systemd_units_verify_and_are_hardened() {
    let src = Path::new(ROOT).join("systemd");
    let dir_tmp = crate::common::tempdir("units");
    let dir = dir_tmp.path().to_path_buf();
    let bin = env!("CARGO_BIN_EXE_sigov");
    let mut services = Vec::new();
    for e in std::fs::read_dir(&src).expect("systemd/") {
        let p = e.expect("entry").path();
        let name = p.file_name().expect("name").to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&p).expect("read unit");
        if name.ends_with(".service") {
            for want in [
                "Type=oneshot",
                "NoNewPrivileges=yes",
                "ProtectSystem=strict",
                "PrivateTmp=yes",
                "ProtectHome=yes",
                "LoadCredential=database-url:",
                "SuccessExitStatus=75",
            ] {
                assert!(text.contains(want), "{name}: missing {want}");
            }
            let exec = text
                .lines()
                .find_map(|l| l.strip_prefix("ExecStart=/usr/local/bin/sigov "))
                .unwrap_or_else(|| panic!("{name}: no ExecStart of sigov"));
            let args: Vec<String> = exec
                .split_whitespace()
                .map(|a| a.replace("%i", "deadlines"))
                .collect();
            assert_parses(&args, &name);
            services.push(name.clone());
        } else {
            for want in [
                "Persistent=true",
                "RandomizedDelaySec=",
                "WantedBy=timers.target",
            ] {
                assert!(text.contains(want), "{name}: missing {want}");
            }
        }
        // The units point at this build's binary so verify finds their ExecStart.
        std::fs::write(dir.join(&name), text.replace("/usr/local/bin/sigov", bin))
            .expect("copy unit");
    }
    assert_eq!(services.len(), 5, "{services:?}");
    let Some(sa) = tool("systemd-analyze") else {
        return;
    };
    for check in ["deadlines", "stages", "tasks", "budget", "contracts", "all"] {
        for kind in ["service", "timer"] {
            std::os::unix::fs::symlink(
                dir.join(format!("sigov@.{kind}")),
                dir.join(format!("sigov@{check}.{kind}")),
            )
            .expect("instance link");
        }
    }
    let units = [
        "sigov@deadlines.service",
        "sigov@deadlines.timer",
        "sigov@all.service",
        "sigov-mail-flush.service",
        "sigov-mail-flush.timer",
        "sigov-mail-receive.service",
        "sigov-mail-receive.timer",
        "sigov-purge.service",
        "sigov-purge.timer",
        "sigov-maintain.service",
        "sigov-maintain.timer",
    ];
    let out = verify(&sa, &dir, &units);
    assert_eq!(out, "", "systemd-analyze verify complained");
    // Every OnCalendar= is a valid calendar expression.
    for u in [
        "sigov@.timer",
        "sigov-mail-flush.timer",
        "sigov-mail-receive.timer",
        "sigov-purge.timer",
        "sigov-maintain.timer",
    ] {
        let text = std::fs::read_to_string(dir.join(u)).expect("timer");
        let cal = text
            .lines()
            .find_map(|l| l.strip_prefix("OnCalendar="))
            .expect("OnCalendar");
        let st = Command::new(&sa)
            .args(["calendar", cal])
            .output()
            .expect("systemd-analyze calendar");
        assert!(st.status.success(), "{u}: bad OnCalendar `{cal}`");
    }
    // The negative control: a broken directive is reported.
    let broken = std::fs::read_to_string(dir.join("sigov-purge.service"))
        .expect("unit")
        .replace("NoNewPrivileges=yes", "NoNewPrivileges=maybe");
    std::fs::write(dir.join("sigov-broken.service"), broken).expect("write");
    assert_ne!(verify(&sa, &dir, &["sigov-broken.service"]), "");
}

#[test]
fn kubernetes_cronjobs_parse_and_are_safe_to_run_many() {
    let path = Path::new(ROOT).join("deploy/kubernetes/sigov-cronjobs.yaml");
    let out = Command::new(crate::relay::python())
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))",
        ])
        .arg(&path)
        .output()
        .expect("run python3 (PyYAML: the test command installs python3-yaml)");
    assert!(
        out.status.success(),
        "the manifests do not parse as YAML: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let docs: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("json");
    let cron: Vec<&serde_json::Value> = docs.iter().filter(|d| d["kind"] == "CronJob").collect();
    assert_eq!(cron.len(), 9);
    assert!(docs.iter().any(|d| d["kind"] == "ConfigMap"));
    let mut plan = Vec::new();
    for c in cron {
        let name = c["metadata"]["name"].as_str().expect("name");
        let s = &c["spec"];
        assert_eq!(s["concurrencyPolicy"], "Forbid", "{name}");
        assert_eq!(s["timeZone"], "Europe/Paris", "{name}");
        assert!(s["successfulJobsHistoryLimit"].is_u64(), "{name}");
        assert!(s["failedJobsHistoryLimit"].is_u64(), "{name}");
        let job = &s["jobTemplate"]["spec"];
        assert_eq!(job["backoffLimit"], 0, "{name}");
        assert_eq!(
            job["podFailurePolicy"]["rules"][0]["onExitCodes"]["values"][0], 75,
            "{name}: exit 75 (locked) is not a failure"
        );
        let pod = &job["template"]["spec"];
        assert_eq!(pod["restartPolicy"], "Never", "{name}");
        let container = &pod["containers"][0];
        assert_eq!(
            container["securityContext"]["readOnlyRootFilesystem"], true,
            "{name}"
        );
        let args: Vec<String> = container["args"]
            .as_array()
            .expect("args")
            .iter()
            .map(|a| a.as_str().expect("arg").to_owned())
            .collect();
        assert_parses(&args, name);
        let schedule = s["schedule"].as_str().expect("schedule");
        let f: Vec<&str> = schedule.split_whitespace().collect();
        assert_eq!(f.len(), 5, "{name}: {schedule}");
        if args[0] == "check" {
            plan.push(format!("{} {} {}", f[0], f[1], args[1]));
        }
    }
    assert_eq!(
        plan,
        [
            "0 */4 deadlines",
            "5 */4 stages",
            "10 */4 tasks",
            "15 */4 budget",
            "20 */4 contracts"
        ]
    );
}

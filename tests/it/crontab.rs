//! The shipped schedule played under a fake clock: `crontab.example`'s sigov lines (some of its
//! commented lines enabled, as the README says to enable them) turned into the runs cron would
//! start between two instants, each started under `faketime` at its instant.

use crate::common::*;
use sigov::ops::health::Schedule;
use std::process::Command;

/// A crontab line: its schedule and the sigov arguments it runs.
pub struct Line {
    pub schedule: Schedule,
    pub args: Vec<String>,
}

/// The sigov lines of the shipped crontab (`/etc/cron.d` format: five fields, the user, the
/// command), with the commented lines running one of `enable` (e.g. `check task-reminders`,
/// `mail receive`) uncommented.
pub fn shipped(enable: &[&str]) -> Vec<Line> {
    let text = std::fs::read_to_string("crontab.example").expect("crontab.example");
    let mut out = Vec::new();
    for raw in text.lines() {
        let line = match raw.strip_prefix('#') {
            Some(rest) if enable.iter().any(|e| rest.contains(&format!("sigov {e}"))) => rest,
            Some(_) => continue,
            None => raw,
        };
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 8 || fields[5] != "sigov" || fields[6] != "sigov" {
            continue;
        }
        out.push(Line {
            schedule: Schedule::parse(&fields[..5].join(" ")).expect("a cron schedule"),
            args: fields[7..].iter().map(|s| (*s).to_owned()).collect(),
        });
    }
    for e in enable {
        assert!(
            out.iter().any(|l| l.args.join(" ") == *e),
            "crontab.example has no line for `sigov {e}`"
        );
    }
    out
}

/// libfaketime's preload library, as Debian's `faketime` package installs it (under the
/// architecture's library directory).
fn libfaketime() -> std::path::PathBuf {
    let mut dirs = vec![std::path::PathBuf::from("/usr/lib")];
    if let Ok(entries) = std::fs::read_dir("/usr/lib") {
        dirs.extend(entries.flatten().map(|e| e.path()));
    }
    dirs.into_iter()
        .map(|d| d.join("faketime/libfaketime.so.1"))
        .find(|p| p.is_file())
        .expect("libfaketime.so.1 under /usr/lib (apt-get install faketime)")
}

/// `sigov ARGS` at the instant `at` (UTC) of a faked real clock, with `config` and the test
/// database; no other SIGOV_ variable of the test's environment. libfaketime is preloaded
/// directly, its clock starting at `at`: the `faketime` wrapper names a semaphore after its
/// own pid and fails ("sem_open: File exists") when a killed wrapper of the same pid left one
/// in /dev/shm.
pub fn at(t: &TestDb, config: &std::path::Path, at: chrono::NaiveDateTime, args: &[String]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sigov"));
    cmd.args(args)
        .env("LD_PRELOAD", libfaketime())
        .env("FAKETIME", at.format("@%Y-%m-%d %H:%M:%S").to_string());
    for (k, _) in std::env::vars() {
        if k.starts_with("SIGOV_") || k == "RUST_LOG" {
            cmd.env_remove(k);
        }
    }
    cmd.env("TZ", "UTC")
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
        .env("SIGOV_CONFIG", config)
        .env("SIGOV_DATABASE_URL", &t.url)
        .env("NO_COLOR", "1");
    let out = cmd.output().expect("run sigov under libfaketime");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Every run the crontab makes in `[from, to)` (UTC; cron in Europe/Paris), in time order;
/// `skip`: a command left out (a check that stopped running).
pub fn runs_between(
    lines: &[Line],
    from: chrono::NaiveDateTime,
    to: chrono::NaiveDateTime,
    skip: Option<&str>,
) -> Vec<(chrono::NaiveDateTime, Vec<String>)> {
    let tz: chrono_tz::Tz = "Europe/Paris".parse().expect("tz");
    let mut v = Vec::new();
    for l in lines {
        if skip.is_some_and(|s| l.args.join(" ") == s) {
            continue;
        }
        let mut t = from - chrono::Duration::seconds(1);
        while let Some(next) = l.schedule.next_after(t, tz) {
            if next >= to {
                break;
            }
            v.push((next, l.args.clone()));
            t = next;
        }
    }
    v.sort();
    v
}

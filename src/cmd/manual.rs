//! What the manual says beyond the options: two to four examples for every command (at the end
//! of its long help, `--help`, and the EXAMPLES section of its man page; a test parses each with
//! the real CLI), and the EXIT STATUS and FILES sections of every man page.

/// Exit codes (code, meaning); `sigov health` has its own, below.
pub const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "success"),
    ("1", "failure: configuration, database, template, missing table or EN_COURS status, pending migrations; one line on standard error says why"),
    ("2", "usage error: an unknown command, option or value, or a value that names nothing"),
    ("3", "partial: some checks of `check all` failed while others ran (a lost database connection among them); alerts recorded but some mail deferred, failed, dead, unconfirmed or held back; `mail flush` could not deliver everything due"),
    ("75", "another run of the same check (or purge, or maintenance) holds its lock, on any host using the database; nothing was written"),
];

/// `sigov health`'s exit codes.
pub const HEALTH_EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "healthy (--nagios: OK)"),
    ("1", "not healthy (--nagios: WARNING)"),
    (
        "2",
        "--nagios: CRITICAL (database unreachable, pending migration, a check two runs late)",
    ),
    ("3", "--nagios: UNKNOWN (the configuration cannot be used)"),
];

/// Files sigov reads or writes by default.
pub const FILES: &[(&str, &str)] = &[
    ("/etc/sigov/sigov.toml", "the configuration file when --config and SIGOV_CONFIG are not given and it exists (keys: sigov config show --help, sigov.example.toml)"),
    ("/etc/cron.d/sigov", "where crontab.example goes (a line per check, mail flush, purge, db maintain)"),
    ("/etc/systemd/system/sigov@.timer, sigov@.service", "the systemd units, one timer per check (sigov@deadlines.timer …)"),
    ("./sigov-demo.db, ./sigov-demo-mail/", "what sigov demo creates by default"),
];

/// (command path, [(example command line, what it does)]).
pub const EXAMPLES: &[(&str, &[(&str, &str)])] = &[
    (
        "",
        &[
            (
                "sigov demo",
                "create the SQLite demo database, run every check, write the mails as .eml files",
            ),
            (
                "sigov check all",
                "run every enabled check, record new alerts once, deliver their mail",
            ),
            (
                "sigov health --nagios",
                "is alerting alive? (a Nagios or Icinga plugin line)",
            ),
        ],
    ),
    (
        "check",
        &[
            (
                "sigov check all",
                "every check of checks.enabled, then deliver the mail",
            ),
            (
                "sigov check deadlines --dry-run",
                "what the deadlines check would record now; nothing written",
            ),
            (
                "sigov check tasks --no-mail",
                "record the overdue tasks' alerts; leave their mail to `mail flush`",
            ),
            (
                "sigov check all --date 2026-12-24 --dry-run",
                "what Christmas Eve would bring",
            ),
        ],
    ),
    (
        "alerts",
        &[
            (
                "sigov alerts list --check tasks --since 7d",
                "the task alerts of the last seven days",
            ),
            (
                "sigov alerts show 91",
                "one alert in full: its row, ledger key, run, mail and why",
            ),
        ],
    ),
    (
        "alerts list",
        &[
            (
                "sigov alerts list",
                "the 50 newest alerts and where their mail stands",
            ),
            (
                "sigov alerts list --project intranet --since 2026-12-01",
                "one project's alerts since a date",
            ),
            (
                "sigov alerts list --recipient resp --unread",
                "what one person has not read yet",
            ),
        ],
    ),
    (
        "alerts show",
        &[
            ("sigov alerts show 91", "alert 91 of core_alerteprojet"),
            (
                "sigov alerts show 12 --table notification",
                "stage notification 12",
            ),
        ],
    ),
    (
        "alerts resend",
        &[
            (
                "sigov alerts resend 91 --dry-run",
                "say what would be queued again",
            ),
            (
                "sigov alerts resend 91 92",
                "queue the two alerts' mail again, to today's addresses",
            ),
        ],
    ),
    (
        "stats",
        &[
            (
                "sigov stats",
                "the last 30 days: alerts by check, mail outcomes, delays, run durations",
            ),
            (
                "sigov stats --since 7d --by recipient",
                "who received what this week",
            ),
            (
                "sigov stats --html stats.html",
                "one self-contained page with charts",
            ),
        ],
    ),
    (
        "export",
        &[
            (
                "sigov export alerts --since 30d --output alerts.csv",
                "a month of alerts as CSV",
            ),
            (
                "sigov export runs --format jsonl",
                "the run history, one JSON object a line",
            ),
            (
                "sigov export mail --format json --output -",
                "the outbox as one JSON array on standard output",
            ),
        ],
    ),
    (
        "runs",
        &[
            ("sigov runs list --status failed", "the runs that failed"),
            ("sigov runs show 42", "one run's times, host and counters"),
        ],
    ),
    (
        "runs list",
        &[
            ("sigov runs list", "the 20 newest runs"),
            (
                "sigov runs list --check budget --since 2d",
                "the budget check's runs of two days",
            ),
        ],
    ),
    (
        "runs show",
        &[
            ("sigov runs show 42", "run 42 in full"),
            ("sigov --format json runs show 42", "the same as JSON"),
        ],
    ),
    (
        "health",
        &[
            (
                "sigov health",
                "each check against its schedule, the outbox, the database",
            ),
            (
                "sigov health --nagios",
                "the plugin line: exit 0 OK, 1 WARNING, 2 CRITICAL",
            ),
            ("sigov health --format json", "the same for another monitor"),
        ],
    ),
    (
        "purge",
        &[
            (
                "sigov purge --dry-run",
                "count what the retention settings would delete",
            ),
            (
                "sigov purge",
                "delete old runs, delivered and dead mail (purge.*)",
            ),
        ],
    ),
    (
        "db",
        &[
            ("sigov db migrate", "create or update sigov's own tables"),
            ("sigov db status", "which migrations are applied"),
        ],
    ),
    (
        "db migrate",
        &[
            ("sigov db migrate", "apply the pending migrations"),
            (
                "SIGOV_DATABASE_URL_FILE=/run/credentials/admin-url sigov db migrate",
                "as the tables' owner, not the checks' user",
            ),
        ],
    ),
    (
        "db status",
        &[
            (
                "sigov db status",
                "each migration and whether it is applied",
            ),
            ("sigov --format json db status", "the same as JSON"),
        ],
    ),
    (
        "db maintain",
        &[
            (
                "sigov db maintain --dry-run",
                "sizes and row counts; change nothing",
            ),
            (
                "sigov db maintain",
                "refresh the planner's statistics (weekly, from cron)",
            ),
            (
                "sigov db maintain --optimize",
                "also rebuild the tables after a large purge",
            ),
        ],
    ),
    (
        "mail",
        &[
            ("sigov mail flush", "deliver the due mail now"),
            (
                "sigov mail queue --state dead",
                "the mail that could not go",
            ),
            (
                "sigov mail test --to you@example.org",
                "send a test message through the transport",
            ),
        ],
    ),
    (
        "channels",
        &[
            (
                "sigov channels list",
                "the channels, what waits for each, their last delivery",
            ),
            (
                "sigov channels test equipe",
                "post a test message to the channel `equipe` now",
            ),
        ],
    ),
    (
        "channels list",
        &[
            (
                "sigov channels list",
                "name, kind, host, routing, waiting, dead, sent",
            ),
            ("sigov --format json channels list", "the same as JSON"),
        ],
    ),
    (
        "channels test",
        &[
            (
                "sigov channels test equipe",
                "post a test message; the service's answer in one line",
            ),
            (
                "sigov --format json channels test salon",
                "the result as JSON (delivered, answer)",
            ),
        ],
    ),
    (
        "mail receive",
        &[
            (
                "sigov mail receive",
                "read the replies (OK, REPORTER 3, STOP, RECAP 08:00, AIDE) and answer them",
            ),
            (
                "sigov --format json mail receive",
                "what was read, carried out, ignored and answered, as JSON",
            ),
        ],
    ),
    (
        "mail flush",
        &[
            (
                "sigov mail flush",
                "deliver the due mail (outside quiet hours)",
            ),
            ("sigov mail flush --now", "deliver now, quiet hours or not"),
            ("sigov mail flush --limit 10", "at most ten messages"),
        ],
    ),
    (
        "mail queue",
        &[
            (
                "sigov mail queue",
                "pending, failed, dead and unconfirmed mail, oldest first",
            ),
            (
                "sigov mail queue --state unconfirmed",
                "mail the relay took without confirming",
            ),
        ],
    ),
    (
        "mail retry",
        &[
            ("sigov mail retry", "put every dead mail back in the queue"),
            ("sigov mail retry 1204 1207", "two dead mails only"),
            (
                "sigov mail requeue --unconfirmed",
                "send the unconfirmed mail once more (a copy may already be there)",
            ),
        ],
    ),
    (
        "mail test",
        &[
            (
                "sigov mail test --to you@example.org",
                "one test message; prints the relay's answer",
            ),
            (
                "SIGOV_MAIL_TRANSPORT=file:///tmp/mail sigov mail test --to you@example.org",
                "write it as a file instead",
            ),
        ],
    ),
    (
        "mail preview",
        &[
            (
                "sigov mail preview",
                "a sample of every mail kind: subject and text",
            ),
            (
                "sigov mail preview --output samples",
                "each sample as .eml and .html files",
            ),
            (
                "sigov mail preview --id 1204 --html",
                "the HTML of a queued mail",
            ),
        ],
    ),
    (
        "demo",
        &[
            (
                "sigov demo",
                "./sigov-demo.db with 60 projects, every check run, mails in ./sigov-demo-mail",
            ),
            (
                "sigov demo --scale 5000 --no-check",
                "a larger database, no check run",
            ),
            (
                "sigov demo --date 2026-11-22 --seed 7",
                "another data set, relative to another day",
            ),
        ],
    ),
    (
        "ack",
        &[
            (
                "sigov ack 91 --by ana --note livraison-mercredi",
                "alert 91 is handled: no repeat, no escalation while its due date stays",
            ),
            ("sigov ack --list", "what is acknowledged or snoozed now"),
            (
                "sigov ack --end 3",
                "undo acknowledgement 3: repeats resume",
            ),
        ],
    ),
    (
        "snooze",
        &[
            (
                "sigov snooze 91 --for 3d",
                "no repeat of alert 91 for 3 days (open days when its check counts them)",
            ),
            (
                "sigov snooze n12 --until 2026-12-01 --by ana",
                "a stage notification, until a day",
            ),
        ],
    ),
    (
        "prefs",
        &[
            ("sigov prefs show resp", "what a person chose to receive"),
            (
                "sigov prefs set resp --digest 08:00",
                "one mail a day at 08:00 instead of one per alert",
            ),
        ],
    ),
    (
        "prefs show",
        &[
            ("sigov prefs show resp", "by username"),
            ("sigov --format json prefs show resp", "the same as JSON"),
        ],
    ),
    (
        "prefs set",
        &[
            (
                "sigov prefs set resp --mute check:tasks --until 2026-12-31",
                "no task mail until the end of the year",
            ),
            (
                "sigov prefs set resp --digest 08:00",
                "a daily digest at 08:00",
            ),
            (
                "sigov prefs set resp --mail off",
                "no mail at all (the alerts are still recorded)",
            ),
        ],
    ),
    (
        "prefs clear",
        &[
            (
                "sigov prefs clear resp --mute check:tasks",
                "remove one mute",
            ),
            (
                "sigov prefs clear resp --all",
                "back to one mail per alert, nothing muted",
            ),
        ],
    ),
    (
        "config",
        &[
            (
                "sigov config check",
                "validate everything, probe the relay, send nothing",
            ),
            (
                "sigov config show",
                "every key's effective value and where it came from",
            ),
        ],
    ),
    (
        "config check",
        &[
            (
                "sigov config check",
                "exit 1 on anything that would fail or hold mail",
            ),
            (
                "sigov --config /etc/sigov/sigov.toml config check",
                "check a given file",
            ),
        ],
    ),
    (
        "config show",
        &[
            ("sigov config show", "effective values, secrets redacted"),
            ("sigov --format json config show", "the same as JSON"),
        ],
    ),
    (
        "completions",
        &[
            (
                "sigov completions bash > /etc/bash_completion.d/sigov",
                "bash completion",
            ),
            ("sigov completions zsh > ~/.zfunc/_sigov", "zsh completion"),
        ],
    ),
];

/// The examples of the command at `path` ("" for sigov itself, "mail flush").
pub fn of(path: &str) -> &'static [(&'static str, &'static str)] {
    EXAMPLES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, e)| *e)
        .unwrap_or(&[])
}

/// The examples as the end of a long help.
pub fn text(path: &str) -> String {
    let mut s = String::from("Examples:");
    for (line, what) in of(path) {
        s.push_str(&format!("\n  {line}\n      {what}"));
    }
    s
}

/// The command line with every command's examples at the end of its long help.
pub fn with_examples(cmd: clap::Command) -> clap::Command {
    fn walk(mut cmd: clap::Command, path: String) -> clap::Command {
        let names: Vec<String> = cmd
            .get_subcommands()
            .map(|s| s.get_name().to_owned())
            .collect();
        for n in names {
            let sub_path = if path.is_empty() {
                n.clone()
            } else {
                format!("{path} {n}")
            };
            cmd = cmd.mut_subcommand(&n, |s| walk(s, sub_path));
        }
        if of(&path).is_empty() {
            return cmd;
        }
        let after = match cmd.get_after_long_help() {
            Some(h) => format!("{h}\n\n{}", text(&path)),
            None => text(&path),
        };
        cmd.after_long_help(after)
    }
    walk(cmd, String::new())
}

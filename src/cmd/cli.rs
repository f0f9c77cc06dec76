//! The command line: global options (each with its environment variable) and the subcommands.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// The exit codes, shown by `sigov --help` and in the man page.
pub const EXIT_CODES: &str = "Exit codes:
  0   success
  1   failure: configuration, database, template, missing table or EN_COURS status, pending migrations
  2   usage error (unknown command, option or value)
  3   partial: alerts recorded but some mail deferred, failed, dead, unconfirmed or held back;
      some checks of `check all` failed while others ran (a lost database connection among
      them); `mail flush` could not deliver everything due
  75  another run of the same check (or purge) holds its lock (on any host using the database); nothing
      was written. `check all` exits 75 only when every check was locked
`sigov health` exits 0 healthy, 1 not; `sigov health --nagios` 0 OK, 1 WARNING, 2 CRITICAL,
3 UNKNOWN.

Environment: SIGOV_DATABASE_URL(_FILE), SIGOV_CONFIG, SIGOV_PROFILE, SIGOV_FORMAT, SIGOV_TIMEZONE,
SIGOV_MAIL_TRANSPORT, SIGOV_MAIL_FROM, SIGOV_SMTP_USER, SIGOV_SMTP_PASSWORD(_FILE),
SIGOV_SMTP_CA_FILE, SIGOV_SMTP_TIMEOUT, SIGOV_CHECKS, SIGOV_MAIL_MODE, SIGOV_BASE_URL, SIGOV_MAIL_TEMPLATES,
SIGOV_METRICS_FILE, SIGOV_PING_URL, SIGOV_DB_CONNECT_TIMEOUT, SIGOV_DB_STATEMENT_TIMEOUT,
SIGOV_NOW (RFC 3339: fixes the clock), RUST_LOG, NO_COLOR.
Output: nothing on success when stdout is not a terminal; progress bars only on a terminal; logs
on stderr as `sigov: warning: …`, under journald (JOURNAL_STREAM) prefixed with their syslog
priority (<4>) and no timestamp. Every key: `sigov config show --help`
(man sigov-config-show) and sigov.example.toml.";

/// The Django management commands (and their Celery task names) operators migrate from, and the
/// sigov command that replaces each.
pub const DJANGO_COMMANDS: &[(&str, &str)] = &[
    ("check_project_deadlines", "sigov check deadlines"),
    ("check_stage_delays", "sigov check stages"),
    ("check_task_deadlines", "sigov check tasks"),
    ("check_budget", "sigov check budget"),
    ("check_contract_expiration", "sigov check contracts"),
    ("check_all_alerts", "sigov check all"),
];

/// "did you mean" for a Django command name among `args` (`_task` suffix, `manage.py` form
/// too); `None` when there is none.
pub fn django_hint<S: AsRef<str>>(args: &[S]) -> Option<String> {
    args.iter().find_map(|a| {
        let a = a.as_ref().trim_end_matches("_task");
        DJANGO_COMMANDS
            .iter()
            .find(|(django, _)| *django == a)
            .map(|(django, ours)| {
                format!("`{django}` is the Django command sigov replaces: did you mean `{ours}`?")
            })
    })
}

impl Cli {
    /// The global options a command may read besides its configuration.
    pub fn globals(&self, tty: bool) -> super::ctx::Globals {
        super::ctx::Globals {
            verbose: self.verbose,
            quiet: self.quiet,
            date: self.date,
            utc: self.utc,
            database_url: self.database_url.clone(),
            tty,
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "sigov",
    version,
    about = "Cron-driven alerting for SI-Gouvernance: deadline, stage, task, budget and contract alerts, recorded once and mailed once",
    long_about = None,
    propagate_version = true,
    after_long_help = EXIT_CODES
)]
pub struct Cli {
    /// Configuration file (TOML). Default: /etc/sigov/sigov.toml when it exists
    #[arg(long, global = true, help_heading = "Global options", env = crate::config::env::CONFIG, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Database URL: mysql://user:pass@host:3306/db, postgres://user:pass@host:5432/db or sqlite:///path/file.db (prefer the environment: the URL holds a password)
    #[arg(
        long,
        global = true, help_heading = "Global options",
        env = crate::config::env::DATABASE_URL,
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// Rule profile: reference (the Django commands, row for row) or recommended (environment:
    /// SIGOV_PROFILE, read with the configuration, so a bad value names the variable)
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "PROFILE",
        value_enum
    )]
    pub profile: Option<crate::config::Profile>,

    /// Evaluate as of this business date (YYYY-MM-DD) instead of today
    #[arg(long, global = true, help_heading = "Global options", value_name = "YYYY-MM-DD", value_parser = super::ctx::parse_date_arg)]
    pub date: Option<chrono::NaiveDate>,

    /// Output of commands that print data: text or json (csv and jsonl: `sigov export` only;
    /// environment: SIGOV_FORMAT, read with the configuration)
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "FORMAT",
        value_enum
    )]
    pub format: Option<crate::config::Format>,

    /// After a check or a mail flush, write Prometheus metrics to this file atomically (for
    /// node_exporter's textfile collector)
    #[arg(long, global = true, help_heading = "Global options", env = crate::config::env::METRICS_FILE, value_name = "PATH")]
    pub metrics_file: Option<String>,

    /// More output (repeat for debug logs)
    #[arg(short, long, global = true, help_heading = "Global options", action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors
    #[arg(
        short,
        long,
        global = true,
        help_heading = "Global options",
        conflicts_with = "verbose"
    )]
    pub quiet: bool,

    /// Show times in UTC instead of the business time zone (rules.timezone)
    #[arg(long, global = true, help_heading = "Global options")]
    pub utc: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a check: evaluate the rules, record new alerts once, queue their mail
    #[command(
        after_long_help = "`check all` runs checks.enabled (SIGOV_CHECKS; default: deadlines, stages, tasks, budget, contracts) in the order listed above. task-reminders is not one of the reference's checks: it runs when named or listed in checks.enabled, under the recommended profile only (its milestones: task_reminders.milestones, default [1, 0])."
    )]
    Check(crate::cmd::check::Args),
    /// Alerts in the application's tables: list them with their mail, show one and why it
    /// exists, queue its mail again
    #[command(subcommand)]
    Alerts(crate::cmd::alerts::Command),
    /// Alerts created, mail sent/failed/dead/pending, delivery delay and run durations over a
    /// window, with bars; --html FILE writes one self-contained page with charts
    Stats(crate::cmd::stats::Args),
    /// Export alerts, runs or mail as CSV, JSON or JSON lines (--format csv|json|jsonl),
    /// streamed, with the filters of `alerts list`
    Export(crate::cmd::export::Args),
    /// Run history: what ran, where, how it ended, and its counters
    #[command(subcommand)]
    Runs(crate::cmd::runs::Command),
    /// Is alerting alive? Last success per check against its maximum age, outbox backlog and
    /// dead mail, database reachable and migrated (exit 0 healthy, 1 not; --nagios: 0/1/2/3)
    Health(crate::cmd::health::Args),
    /// Apply the retention (purge.*): old finished runs, delivered and dead mail; ledger keys
    /// and read alerts only when configured
    Purge(crate::cmd::purge::Args),
    /// sigov's own tables: apply or list migrations; weekly maintenance
    #[command(subcommand)]
    Db(crate::cmd::db::Command),
    /// Mail and channel messages: deliver the outbox, list or requeue it, send a test message,
    /// preview a mail
    #[command(subcommand)]
    Mail(crate::cmd::mail::Command),
    /// Channels (webhook, Slack, Teams, Matrix): list them with what waits for each, post a
    /// test message
    #[command(subcommand)]
    Channels(crate::cmd::channels::Command),
    /// Create (or refresh) a demo database with realistic SI-Gouvernance data, then run the checks
    Demo(crate::cmd::demo::Args),
    /// Acknowledge an alert: its repeats and escalation stop for every recipient until its
    /// due date (or planned budget) changes; --list shows what is held, --end ACK undoes one
    Ack(crate::cmd::ack::AckArgs),
    /// Put an alert off: its repeats and escalation wait until a day (--until DAY, --for 3d)
    Snooze(crate::cmd::ack::SnoozeArgs),
    /// People's choices: mute a check, an alert type or a project (until a date or for good),
    /// a daily digest at an hour, all mail off; only mail follows them
    #[command(subcommand)]
    Prefs(crate::cmd::prefs::Command),
    /// Show or validate the effective configuration
    #[command(subcommand)]
    Config(crate::cmd::config::Command),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions(crate::cmd::completions::Args),
}

//! The command line: global options (each with its environment variable) and the subcommands.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// The exit codes, shown by `sigov --help` and in the man page.
pub const EXIT_CODES: &str = "Exit codes:
  0   success
  1   failure: configuration, database, template, missing table or EN_COURS status, pending migrations
  2   usage error (unknown command, option or value)
  3   partial: alerts recorded but some mail deferred, failed or dead; some checks of `check all`
      failed while others ran; `mail flush` could not deliver everything due
  75  another run of the same check (or purge) holds its lock (on any host using the database); nothing
      was written. `check all` exits 75 only when every check was locked
`sigov health` exits 0 healthy, 1 not; `sigov health --nagios` 0 OK, 1 WARNING, 2 CRITICAL,
3 UNKNOWN.

Environment: SIGOV_DATABASE_URL(_FILE), SIGOV_CONFIG, SIGOV_PROFILE, SIGOV_FORMAT, SIGOV_TIMEZONE,
SIGOV_MAIL_TRANSPORT, SIGOV_MAIL_FROM, SIGOV_SMTP_USER, SIGOV_SMTP_PASSWORD(_FILE),
SIGOV_SMTP_CA_FILE, SIGOV_SMTP_TIMEOUT, SIGOV_MAIL_MODE, SIGOV_BASE_URL, SIGOV_MAIL_TEMPLATES,
SIGOV_METRICS_FILE, SIGOV_PING_URL, SIGOV_DB_CONNECT_TIMEOUT, SIGOV_DB_STATEMENT_TIMEOUT,
SIGOV_NOW (RFC 3339: fixes the clock), RUST_LOG, NO_COLOR.
Output: nothing on success when stdout is not a terminal; progress bars only on a terminal; logs
on stderr, without timestamps under journald (JOURNAL_STREAM). Every key: sigov.example.toml.";

/// `--date`: a real calendar date (2026-02-30 is refused by clap, exit 2).
fn parse_date_arg(s: &str) -> Result<chrono::NaiveDate, String> {
    crate::clock::parse_date(s).map_err(|e| format!("{e:#}"))
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
    #[arg(long, global = true, env = "SIGOV_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Database URL: mysql://user:pass@host:3306/db or sqlite:///path/file.db (prefer the environment: the URL holds a password)
    #[arg(
        long,
        global = true,
        env = "SIGOV_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// Rule profile: reference (the Django commands, row for row) or recommended
    #[arg(
        long,
        global = true,
        env = "SIGOV_PROFILE",
        value_name = "PROFILE",
        value_enum
    )]
    pub profile: Option<crate::config::Profile>,

    /// Evaluate as of this business date (YYYY-MM-DD) instead of today
    #[arg(long, global = true, value_name = "YYYY-MM-DD", value_parser = parse_date_arg)]
    pub date: Option<chrono::NaiveDate>,

    /// Output of commands that print data: text or json
    #[arg(
        long,
        global = true,
        env = "SIGOV_FORMAT",
        value_name = "FORMAT",
        value_enum
    )]
    pub format: Option<crate::config::Format>,

    /// After a check or a mail flush, write Prometheus metrics to this file atomically (for
    /// node_exporter's textfile collector)
    #[arg(long, global = true, env = "SIGOV_METRICS_FILE", value_name = "PATH")]
    pub metrics_file: Option<String>,

    /// More output (repeat for debug logs)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a check: evaluate the rules, record new alerts once, queue their mail
    Check(CheckArgs),
    /// Run history: what ran, where, how it ended, and its counters
    #[command(subcommand)]
    Runs(RunsCommand),
    /// Is alerting alive? Last success per check against its maximum age, outbox backlog and
    /// dead mail, database reachable and migrated (exit 0 healthy, 1 not; --nagios: 0/1/2/3)
    Health(HealthArgs),
    /// Apply the retention (purge.*): old finished runs, delivered and dead mail; ledger keys
    /// and read alerts only when configured
    Purge {
        /// Count what would be deleted; delete nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// sigov's own tables: apply or list migrations
    #[command(subcommand)]
    Db(DbCommand),
    /// Mail: deliver the outbox, list or requeue it, send a test message, preview a mail
    #[command(subcommand)]
    Mail(MailCommand),
    /// Create (or refresh) a demo database with realistic SI-Gouvernance data, then run the checks
    Demo(DemoArgs),
    /// Show or validate the effective configuration
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions {
        /// Shell to complete for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// What `sigov check` runs: one check, or `all` (the enabled checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    One(crate::checks::CheckName),
    All,
}

impl Which {
    /// The check, or `None` for all.
    pub fn one(self) -> Option<crate::checks::CheckName> {
        match self {
            Which::One(c) => Some(c),
            Which::All => None,
        }
    }
}

impl ValueEnum for Which {
    fn value_variants<'a>() -> &'a [Self] {
        static ALL: std::sync::LazyLock<Vec<Which>> = std::sync::LazyLock::new(|| {
            crate::checks::CheckName::ALL
                .iter()
                .map(|c| Which::One(*c))
                .chain([Which::All])
                .collect()
        });
        &ALL
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        match self {
            Which::One(c) => c.to_possible_value(),
            Which::All => Some(clap::builder::PossibleValue::new("all").help(
                "The enabled checks (checks.enabled: the reference's five by default) in order; one failing does not stop the others (exit 3)",
            )),
        }
    }
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Which check to run
    #[arg(value_enum)]
    pub which: Which,
    /// Evaluate and print what would be created; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Record alerts and queue their mail, but deliver nothing now (`sigov mail flush` will)
    #[arg(long)]
    pub no_mail: bool,
}

#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Deliver due mail from the outbox now (exit 3 when some could not go)
    Flush {
        /// Send at most this many messages
        #[arg(long, value_name = "N")]
        limit: Option<u64>,
    },
    /// List queued mail (pending, sending, failed, dead by default), oldest first
    Queue {
        /// Only rows in this state (repeatable)
        #[arg(long, value_name = "STATE", value_enum)]
        state: Vec<crate::states::MailState>,
        /// At most this many rows
        #[arg(long, default_value_t = 50, value_name = "N")]
        limit: u64,
    },
    /// Put dead mail back in the queue: every dead row, or only the given outbox ids
    Retry {
        /// Outbox ids (as `sigov mail queue` shows them)
        #[arg(value_name = "ID")]
        ids: Vec<i64>,
    },
    /// Send a test message through the configured transport and print the relay's answer
    Test {
        /// Recipient address
        #[arg(long, value_name = "ADDR")]
        to: String,
    },
    /// Render a queued mail (--id) or a sample of each kind: subject and text on stdout, or
    /// the HTML part (--html), or files (--output: FILE.eml or FILE.html; a directory for samples)
    Preview {
        /// Outbox id of the mail to render
        #[arg(long, value_name = "ID")]
        id: Option<i64>,
        /// Print the HTML part instead of the text part
        #[arg(long)]
        html: bool,
        /// Write to this file (.eml: the whole message; .html: the HTML part) or, for the
        /// samples, into this directory
        #[arg(long, value_name = "PATH")]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct HealthArgs {
    /// Nagios plugin output: one status line with perfdata; exit 0 OK, 1 WARNING, 2 CRITICAL,
    /// 3 UNKNOWN (configuration unusable)
    #[arg(long)]
    pub nagios: bool,
}

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// Recent runs, newest first
    List {
        /// Only this check
        #[arg(long, value_name = "CHECK", value_enum)]
        check: Option<crate::checks::CheckName>,
        /// Only runs in this status
        #[arg(long, value_name = "STATUS", value_enum)]
        status: Option<crate::states::RunStatus>,
        /// Only runs started since: a date (2026-11-20), an instant (RFC 3339) or an age (36h, 7d)
        #[arg(long, value_name = "WHEN", value_parser = crate::ops::runs::parse_since_arg)]
        since: Option<crate::ops::runs::Since>,
        /// At most this many runs (0: all)
        #[arg(long, default_value_t = 20, value_name = "N")]
        limit: u64,
    },
    /// One run in full: times, host, version, profile, business date, status and every counter
    Show {
        /// Run id (as `sigov runs list` shows it)
        #[arg(value_name = "ID")]
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Apply pending sigov migrations (never touches the web application's tables)
    Migrate,
    /// List sigov migrations and whether each is applied
    Status,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Demo database URL (SQLite file by default; a MySQL database is accepted)
    #[arg(long, value_name = "URL", default_value = "sqlite://./sigov-demo.db")]
    pub db: String,
    /// Number of projects
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub scale: u32,
    /// Seed of the deterministic generator
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Only create the data; run no check
    #[arg(long)]
    pub no_check: bool,
    /// Where the demo writes its mails as .eml files (when mail.transport is not set)
    #[arg(long, value_name = "DIR", default_value = "./sigov-demo-mail")]
    pub mail_dir: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Effective values and where each came from (secrets redacted)
    Show,
    /// Validate the configuration and connect to the database
    Check,
}

//! One file per command: its arguments, what it does, and how it prints (into the [`Out`] it is
//! given). `run` dispatches; nothing below it exits.

pub mod alerts;
pub mod check;
pub mod cli;
pub mod completions;
pub mod config;
pub mod db;
pub mod demo;
pub mod export;
pub mod health;
pub mod mail;
pub mod manual;
pub mod prefs;
pub mod purge;
pub mod runs;
pub mod stats;
pub mod stats_html;

use crate::config::{Config, FlagValues, Format, Layers, Source};
use crate::output::Out;
use crate::Exit;
use anyhow::Result;
use clap::parser::ValueSource;
use clap::ArgMatches;
use cli::{Cli, Command};
use std::io::IsTerminal;

/// Runs a parsed command line, printing into `stdout`.
pub fn run(cli: Cli, m: &ArgMatches, stdout: &mut dyn std::io::Write) -> Result<Exit> {
    let tty = std::io::stdout().is_terminal();
    // Neither needs a configuration that works: completions before /etc/sigov/sigov.toml
    // exists, health to report that it is broken.
    match &cli.command {
        Command::Completions(args) => {
            let out = Out::new(Format::Text, cli.verbose, cli.quiet, tty, stdout);
            let exit = completions::run(&out, args);
            out.finish()?;
            return Ok(exit);
        }
        Command::Health(args) => return health::run(&cli, m, args, stdout, tty),
        _ => {}
    }
    let cfg = load_config(&cli, m)?;
    if cfg.format.export_only() && !matches!(cli.command, Command::Export(_)) {
        return Err(crate::exit::UnknownValue(format!(
            "--format {} (output.format, SIGOV_FORMAT) is for `sigov export` only: use text or json",
            cfg.format.name()
        ))
        .into());
    }
    crate::db::watchdog::configure(cfg.db_limits, crate::db::watchdog::OnTimeout::Fail);
    crate::progress::enable(
        std::io::stderr().is_terminal()
            && !cli.quiet
            && cfg.format == Format::Text
            && std::env::var_os("JOURNAL_STREAM").is_none(),
    );
    let out = Out::new(cfg.format, cli.verbose, cli.quiet, tty, stdout).in_zone(zone(&cli, &cfg));
    let exit = match &cli.command {
        Command::Check(args) => check::run(&cli, &cfg, &out, args),
        Command::Mail(cmd) => mail::run(&cli, &cfg, &out, cmd),
        Command::Runs(cmd) => runs::run(&cfg, &out, cmd),
        Command::Alerts(cmd) => alerts::run(&cli, &cfg, &out, cmd),
        Command::Export(args) => export::run(&cfg, &out, args),
        Command::Stats(args) => stats::run(&cfg, &out, args),
        Command::Purge(args) => purge::run(&cli, &cfg, &out, args),
        Command::Db(cmd) => db::run(&cli, &cfg, &out, cmd),
        Command::Config(cmd) => config::run(&cfg, &out, cmd),
        Command::Prefs(cmd) => prefs::run(&cli, &cfg, &out, cmd),
        Command::Demo(args) => {
            // The demo's database: --db, or a --database-url typed on its command line (never
            // SIGOV_DATABASE_URL, which names the real database of the other commands).
            let typed =
                |id: &str, m: &ArgMatches| m.value_source(id) == Some(ValueSource::CommandLine);
            let demo_m = m.subcommand_matches("demo");
            let chosen = demo::Chosen {
                db: demo_m.is_some_and(|dm| typed("db", dm)),
                database_url: typed("database_url", m)
                    || demo_m.is_some_and(|dm| typed("database_url", dm)),
            };
            demo::run(&cli, cfg, &out, args, chosen)
        }
        Command::Completions(_) | Command::Health(_) => Ok(Exit::Ok),
    };
    // A write that failed (a closed pipe, a full disk) is what `main` reports first.
    out.finish()?;
    exit
}

/// The zone text output shows times in: the business time zone, or UTC with `--utc`.
pub fn zone(cli: &Cli, cfg: &Config) -> chrono_tz::Tz {
    if cli.utc {
        chrono_tz::UTC
    } else {
        cfg.rules.tz
    }
}

fn source_of(m: &ArgMatches, id: &str) -> Source {
    match m.value_source(id) {
        Some(ValueSource::EnvVariable) => Source::Env,
        _ => Source::Flag,
    }
}

/// Global flag values with where each came from (flag or environment).
pub fn flag_values(cli: &Cli, m: &ArgMatches) -> FlagValues {
    FlagValues {
        config: cli.config.clone().map(|p| (p, source_of(m, "config"))),
        database_url: cli
            .database_url
            .clone()
            .map(|v| (v, source_of(m, "database_url"))),
        profile: cli
            .profile
            .map(|v| (v.name().to_owned(), source_of(m, "profile"))),
        format: cli
            .format
            .map(|v| (v.name().to_owned(), source_of(m, "format"))),
        metrics_file: cli
            .metrics_file
            .clone()
            .map(|v| (v, source_of(m, "metrics_file"))),
    }
}

pub fn load_config(cli: &Cli, m: &ArgMatches) -> Result<Config> {
    let flags = flag_values(cli, m);
    let layers = Layers::load(&flags, &|k| std::env::var(k).ok())?;
    Config::from_layers(layers)
}

/// The business date and "now": `--date`, `SIGOV_NOW`, or the real clock.
pub fn make_clock(cli: &Cli, cfg: &Config) -> Result<crate::clock::Clock> {
    clock_at(cli.date, cfg)
}

/// The clock with business date `date` (`None`: today, from `SIGOV_NOW` or the real clock).
pub fn clock_at(date: Option<chrono::NaiveDate>, cfg: &Config) -> Result<crate::clock::Clock> {
    let now = match std::env::var("SIGOV_NOW") {
        Ok(s) if !s.is_empty() => Some(crate::clock::parse_now(&s)?),
        _ => None,
    };
    Ok(crate::clock::Clock::new(
        now,
        date,
        cfg.rules.tz,
        cfg.rules.utc_today,
    ))
}

/// The configured database, refused while sigov migrations are pending.
pub fn connect_migrated(cfg: &Config) -> Result<crate::db::Db> {
    let mut db = crate::db::Db::connect(cfg.require_database_url()?)?;
    crate::db::migrate::ensure_current(&mut db)?;
    Ok(db)
}

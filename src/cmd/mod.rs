//! One file per command: its arguments, what it does, and how it prints (into the [`Out`] it is
//! given). `run` dispatches; nothing below it exits.

pub mod ack;
pub mod alerts;
pub mod channels;
pub mod check;
pub mod cli;
pub mod completions;
pub mod config;
pub mod ctx;
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
    let globals = cli.globals(tty);
    match &cli.command {
        Command::Completions(args) => {
            use clap::CommandFactory;
            let out = Out::new(Format::Text, cli.verbose, cli.quiet, tty, stdout);
            let exit = completions::run(&out, args, Cli::command());
            out.finish()?;
            return Ok(exit);
        }
        Command::Health(args) => {
            return health::run(&globals, load_config(&cli, m), args, stdout);
        }
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
    let out =
        Out::new(cfg.format, cli.verbose, cli.quiet, tty, stdout).in_zone(ctx::zone(cli.utc, &cfg));
    let ctx = ctx::Ctx { cfg, out, globals };
    let exit = match &cli.command {
        Command::Check(args) => check::run(&ctx, args),
        Command::Mail(cmd) => mail::run(&ctx, cmd),
        Command::Channels(cmd) => channels::run(&ctx, cmd),
        Command::Runs(cmd) => runs::run(&ctx, cmd),
        Command::Alerts(cmd) => alerts::run(&ctx, cmd),
        Command::Export(args) => export::run(&ctx, args),
        Command::Stats(args) => stats::run(&ctx, args),
        Command::Purge(args) => purge::run(&ctx, args),
        Command::Db(cmd) => db::run(&ctx, cmd),
        Command::Config(cmd) => config::run(&ctx, cmd),
        Command::Prefs(cmd) => prefs::run(&ctx, cmd),
        Command::Ack(args) => ack::ack(&ctx, args),
        Command::Snooze(args) => ack::snooze(&ctx, args),
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
            demo::run(&ctx, args, chosen)
        }
        Command::Completions(_) | Command::Health(_) => Ok(Exit::Ok),
    };
    // A write that failed (a closed pipe, a full disk) is what `main` reports first.
    ctx.out.finish()?;
    exit
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

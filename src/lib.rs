//! sigov: SI-Gouvernance's alert checks as one cron-started binary. `run` turns parsed
//! arguments into an exit code; everything below it returns errors instead of exiting.

pub mod checks;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod fsutil;
pub mod host;
pub mod mail;
pub mod ops;
pub mod output;
pub mod progress;
pub mod rules;
pub mod source;
pub mod states;
pub mod store;
pub mod strings;

use anyhow::{Context, Result};
use clap::parser::ValueSource;
use clap::ArgMatches;
use cli::{Cli, Command, ConfigCommand, DbCommand, MailCommand, RunsCommand};
use config::{Config, FlagValues, Layers, Source};
use std::io::IsTerminal;

/// Exit codes, as the man page and README list them.
pub mod exit {
    pub const OK: u8 = 0;
    pub const FAILURE: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const PARTIAL: u8 = 3;
    pub const LOCKED: u8 = 75;
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

pub fn make_clock(cli: &Cli, cfg: &Config) -> Result<clock::Clock> {
    let now = match std::env::var("SIGOV_NOW") {
        Ok(s) if !s.is_empty() => Some(clock::parse_now(&s)?),
        _ => None,
    };
    let date = cli.date;
    Ok(clock::Clock::new(
        now,
        date,
        cfg.rules.tz,
        cfg.rules.utc_today,
    ))
}

/// Runs a parsed command line; returns the process exit code.
pub fn run(cli: Cli, m: &ArgMatches) -> Result<u8> {
    // Needs no configuration: works before /etc/sigov/sigov.toml exists, or when it is broken.
    if let Command::Completions { shell } = &cli.command {
        use clap::CommandFactory;
        let mut script = Vec::new();
        clap_complete::generate(*shell, &mut Cli::command(), "sigov", &mut script);
        output::write_bytes(&script);
        return Ok(exit::OK);
    }
    if let Command::Health(args) = &cli.command {
        return Ok(health_command(&cli, m, args.nagios));
    }
    let cfg = load_config(&cli, m)?;
    db::watchdog::configure(cfg.db_limits, db::watchdog::OnTimeout::Fail);
    progress::enable(
        std::io::stderr().is_terminal()
            && !cli.quiet
            && cfg.format == config::Format::Text
            && std::env::var_os("JOURNAL_STREAM").is_none(),
    );
    let out = output::Out::new(
        cfg.format,
        cli.verbose,
        cli.quiet,
        std::io::stdout().is_terminal(),
    );
    match &cli.command {
        Command::Config(ConfigCommand::Show) => {
            out.config_show(&cfg);
            Ok(exit::OK)
        }
        Command::Config(ConfigCommand::Check) => {
            let url = cfg.require_database_url()?;
            let mut db = db::Db::connect(url)?;
            let pending = db::migrate::pending(&mut db)?;
            let mail = mail::check_setup(&cfg.mail);
            out.config_check(&cfg, &db, &pending, mail.as_ref());
            Ok(
                if pending.is_empty() && mail.as_ref().is_none_or(|m| m.is_ok()) {
                    exit::OK
                } else {
                    exit::FAILURE
                },
            )
        }
        Command::Db(DbCommand::Migrate) => {
            let mut db = db::Db::create(cfg.require_database_url()?)?;
            let applied = db::migrate::run_pending(&mut db)?;
            out.migrated(&db, &applied);
            Ok(exit::OK)
        }
        Command::Db(DbCommand::Status) => {
            let mut db = db::Db::connect(cfg.require_database_url()?)?;
            let st = db::migrate::status(&mut db)?;
            out.migration_status(&db, &st);
            Ok(if st.iter().all(|s| s.applied_at.is_some()) {
                exit::OK
            } else {
                exit::FAILURE
            })
        }
        Command::Check(args) => {
            let name = args.which.one();
            // A dry run is not a run: no ping, no metrics.
            let pinger = if args.dry_run {
                None
            } else {
                ops::metrics::Pinger::new(
                    &cfg.ping_url,
                    cfg.ping_timeout,
                    name.map_or("all", checks::CheckName::as_str),
                )?
            };
            if let Some(p) = &pinger {
                p.start();
            }
            let code = check_command(&cli, &cfg, &out, args, name);
            let code = match code {
                Ok(c) => c,
                Err(e) => {
                    if let Some(p) = &pinger {
                        p.finish(exit::FAILURE);
                    }
                    return Err(e);
                }
            };
            if let Some(p) = &pinger {
                p.finish(code);
            }
            Ok(code)
        }
        Command::Mail(cmd) => mail_command(&cli, &cfg, &out, cmd),
        Command::Runs(cmd) => runs_command(&cfg, &out, cmd),
        Command::Purge { dry_run } => {
            let mut db = db::Db::connect(cfg.require_database_url()?)?;
            db::migrate::ensure_current(&mut db)?;
            let now = chrono::Utc::now().naive_utc();
            if *dry_run {
                out.purged(&ops::purge::run(&mut db, &cfg.purge, now, true)?);
                return Ok(exit::OK);
            }
            let lease = match ops::lock::acquire(&mut db, "purge", cfg.lock_lease_secs)? {
                ops::lock::Acquired::Held(l) => l,
                ops::lock::Acquired::Busy(h) => {
                    if !cli.quiet {
                        eprintln!("sigov: purge: another run holds the lock: {}", h.describe());
                    }
                    return Ok(exit::LOCKED);
                }
            };
            let done = ops::purge::run(&mut db, &cfg.purge, now, false);
            if let Err(e) = lease.release(&mut db) {
                log::warn!("{e:#}");
            }
            out.purged(&done?);
            Ok(exit::OK)
        }
        Command::Completions { .. } | Command::Health(_) => Ok(exit::OK),
        Command::Demo(args) => {
            let clock = make_clock(&cli, &cfg)?;
            // The demo writes its mails as .eml files unless a transport is configured.
            let cfg = if cfg.mail.transport.is_empty() {
                cfg.with_value(
                    "mail.transport",
                    &format!("file://{}", args.mail_dir.display()),
                )?
            } else {
                cfg
            };
            let url = db::DbUrl::parse(&args.db)?;
            let summary = demo::create(&url, args.scale, args.seed, clock.today)
                .with_context(|| format!("cannot create the demo database `{}`", url.redacted()))?;
            out.demo_summary(&summary);
            if args.no_check {
                return Ok(exit::OK);
            }
            let mut db = db::Db::connect_parsed(url)?;
            let reports =
                checks::run_all(&mut db, &cfg.checks(), &clock, checks::Options::default());
            out.demo_reports(&reports);
            out.mail_problems(&reports);
            Ok(checks::exit_code(&reports))
        }
    }
}

/// `sigov check …`: runs, prints, writes the metrics file.
fn check_command(
    cli: &Cli,
    cfg: &Config,
    out: &output::Out,
    args: &cli::CheckArgs,
    name: Option<checks::CheckName>,
) -> Result<u8> {
    let clock = make_clock(cli, cfg)?;
    let mut db = db::Db::connect(cfg.require_database_url()?)?;
    db::migrate::ensure_current(&mut db)?;
    let opts = checks::Options {
        dry_run: args.dry_run,
        deliver: !args.no_mail,
        list_alerts: args.dry_run || cli.verbose > 0 || cfg.format == config::Format::Json,
    };
    let reports = match name {
        None => Ok(checks::run_all(&mut db, &cfg.checks(), &clock, opts)),
        Some(which) => checks::run(&mut db, &cfg.checks(), &clock, which, opts).map(|r| vec![r]),
    };
    // After the run record is closed: the metrics say how it ended, even when it failed.
    if let (Some(path), false) = (&cfg.metrics_file, args.dry_run) {
        ops::metrics::export(&mut db, path);
    }
    let reports = reports?;
    let code = checks::exit_code(&reports);
    match name {
        None => out.reports(&reports, code),
        Some(_) => reports.iter().for_each(|r| out.report(r)),
    }
    out.mail_problems(&reports);
    Ok(code)
}

/// `sigov health`. Never an error: what cannot be read is the finding. With `--nagios` a
/// configuration that cannot be used is UNKNOWN (3), as plugins do.
fn health_command(cli: &Cli, m: &ArgMatches, nagios: bool) -> u8 {
    use ops::health::{self, Level};
    let cfg = load_config(cli, m).and_then(|c| {
        c.require_database_url()?;
        Ok(c)
    });
    let cfg = match cfg {
        Ok(c) => {
            let on_timeout = if nagios {
                db::watchdog::OnTimeout::NagiosCritical
            } else {
                db::watchdog::OnTimeout::Fail
            };
            db::watchdog::configure(c.db_limits, on_timeout);
            c
        }
        Err(e) => {
            let msg = strings::one_line(&format!("{e:#}"));
            return if nagios {
                outln!("SIGOV UNKNOWN - {msg}");
                Level::Unknown as u8
            } else {
                eprintln!("sigov: {msg}");
                exit::FAILURE
            };
        }
    };
    let h = health::gather(
        &cfg.database_url,
        &cfg.health,
        chrono::Utc::now().naive_utc(),
    );
    if nagios {
        outln!("{}", h.nagios_line());
        return h.status as u8;
    }
    let out = output::Out::new(
        cfg.format,
        cli.verbose,
        cli.quiet,
        std::io::stdout().is_terminal(),
    );
    out.health(&h);
    if h.status == Level::Ok {
        exit::OK
    } else {
        exit::FAILURE
    }
}

/// `sigov runs …`.
fn runs_command(cfg: &Config, out: &output::Out, cmd: &RunsCommand) -> Result<u8> {
    use ops::runs;
    let mut db = db::Db::connect(cfg.require_database_url()?)?;
    db::migrate::ensure_current(&mut db)?;
    match cmd {
        RunsCommand::List {
            check,
            status,
            since,
            limit,
        } => {
            let since = since
                .as_ref()
                .map(|s| s.resolve(chrono::Utc::now().naive_utc()));
            let filter = runs::Filter {
                check: check.map(|c| c.as_str().to_owned()),
                status: *status,
                since: since.map(clock::format_datetime),
                id: None,
                limit: *limit,
            };
            let rows = runs::list(&mut db, &filter)?;
            out.runs(&rows);
            Ok(exit::OK)
        }
        RunsCommand::Show { id } => {
            let filter = runs::Filter {
                id: Some(*id),
                ..Default::default()
            };
            let row = runs::list(&mut db, &filter)?
                .into_iter()
                .next()
                .ok_or_else(|| anyhow::anyhow!("no run with id {id}"))?;
            out.run_detail(&row);
            Ok(exit::OK)
        }
    }
}

/// `sigov mail …`.
fn mail_command(cli: &Cli, cfg: &Config, out: &output::Out, cmd: &MailCommand) -> Result<u8> {
    let clock = make_clock(cli, cfg)?;
    let open = || -> Result<db::Db> {
        let mut db = db::Db::connect(cfg.require_database_url()?)?;
        db::migrate::ensure_current(&mut db)?;
        Ok(db)
    };
    match cmd {
        MailCommand::Flush { limit } => {
            let mut db = open()?;
            let stats = mail::flush(&mut db, &cfg.mail, &clock, *limit, &mut |_| Ok(()));
            if let Some(path) = &cfg.metrics_file {
                ops::metrics::export(&mut db, path);
            }
            let stats = stats?;
            out.flushed(&stats);
            Ok(if stats.incomplete() {
                exit::PARTIAL
            } else {
                exit::OK
            })
        }
        MailCommand::Queue { state, limit } => {
            use states::MailState;
            let states: Vec<MailState> = if state.is_empty() {
                vec![
                    MailState::Pending,
                    MailState::Sending,
                    MailState::Failed,
                    MailState::Dead,
                ]
            } else {
                state.clone()
            };
            let mut db = open()?;
            let counts = mail::outbox::counts(&mut db)?;
            let rows = mail::outbox::list(&mut db, &states, *limit)?;
            out.mail_queue(&counts, &rows);
            Ok(exit::OK)
        }
        MailCommand::Retry { ids } => {
            let mut db = open()?;
            let n = mail::outbox::requeue_dead(&mut db, ids, clock.current())?;
            out.requeued(n);
            Ok(exit::OK)
        }
        MailCommand::Test { to } => {
            let (transport, answer) = mail::send_test(&cfg.mail, &clock, to)?;
            out.mail_tested(to, &transport, &answer);
            Ok(exit::OK)
        }
        MailCommand::Preview { id, html, output } => {
            let items = match id {
                Some(id) => {
                    let mut db = open()?;
                    let row = mail::outbox::get(&mut db, *id)?
                        .ok_or_else(|| anyhow::anyhow!("no mail with id {id} in the outbox"))?;
                    let p = mail::render::Payload::parse(&row.payload)?;
                    let composer = mail::Composer::new(&cfg.mail)?;
                    let (r, eml) = mail::preview(
                        &composer,
                        &[p],
                        &[row.id],
                        &row.alert_key,
                        clock.now_naive(),
                    )?;
                    vec![(format!("outbox-{id}"), r, eml)]
                }
                None => mail::samples::all(&cfg.mail, clock.now_naive())?,
            };
            out.previews(&items, *html, output.as_deref(), id.is_some())?;
            Ok(exit::OK)
        }
    }
}

//! What every command is given: the configuration, the output, and the global options that
//! are not configuration (verbosity, `--date`, `--utc`), resolved once by the dispatcher.
//! Commands take a [`Ctx`], never the parsed command line.

use crate::clock::Clock;
use crate::config::Config;
use crate::output::Out;
use anyhow::Result;
use chrono::NaiveDate;

/// The global options a command may read besides its configuration.
#[derive(Debug, Clone, Default)]
pub struct Globals {
    pub verbose: u8,
    pub quiet: bool,
    /// `--date`: the business date to run as.
    pub date: Option<NaiveDate>,
    /// `--utc`: times shown in UTC, not the business time zone.
    pub utc: bool,
    /// `--database-url` as typed (the demo reads it apart from the configuration).
    pub database_url: Option<String>,
    /// Standard output is a terminal.
    pub tty: bool,
}

/// One command's context.
pub struct Ctx<'a> {
    pub cfg: Config,
    pub out: Out<'a>,
    pub globals: Globals,
}

impl Ctx<'_> {
    /// The business date and "now": `--date`, `SIGOV_NOW`, or the real clock.
    pub fn clock(&self) -> Result<Clock> {
        clock_at(self.globals.date, &self.cfg)
    }

    /// The configured database, refused while sigov migrations are pending.
    pub fn db(&self) -> Result<crate::db::Db> {
        connect_migrated(&self.cfg)
    }
}

/// The zone text output shows times in: the business time zone, or UTC with `--utc`.
pub fn zone(utc: bool, cfg: &Config) -> chrono_tz::Tz {
    if utc {
        chrono_tz::UTC
    } else {
        cfg.rules.tz
    }
}

/// The clock with business date `date` (`None`: today, from `SIGOV_NOW` or the real clock).
pub fn clock_at(date: Option<NaiveDate>, cfg: &Config) -> Result<Clock> {
    let now = match std::env::var("SIGOV_NOW") {
        Ok(s) if !s.is_empty() => Some(crate::clock::parse_now(&s)?),
        _ => None,
    };
    Ok(Clock::new(now, date, cfg.rules.tz, cfg.rules.utc_today))
}

/// The configured database, refused while sigov migrations are pending.
pub fn connect_migrated(cfg: &Config) -> Result<crate::db::Db> {
    let mut db = crate::db::Db::connect(cfg.require_database_url()?)?;
    crate::db::migrate::ensure_current(&mut db)?;
    Ok(db)
}

/// `--date`: a real calendar date (2026-02-30 is refused by clap, exit 2).
pub fn parse_date_arg(s: &str) -> Result<NaiveDate, String> {
    crate::clock::parse_date(s).map_err(|e| format!("{e:#}"))
}

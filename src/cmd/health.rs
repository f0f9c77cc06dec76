//! `sigov health [--nagios]`: is alerting alive? Never an error: what cannot be read is the finding.

use super::ctx::{clock_at, zone, Globals};
use crate::config::Config;
use crate::config::Format;
use crate::ops::health::{self, human_age, Health, Level};
use crate::output::Out;
use crate::Exit;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Nagios plugin output: one status line with perfdata; exit 0 OK, 1 WARNING, 2 CRITICAL,
    /// 3 UNKNOWN (configuration unusable)
    #[arg(long)]
    pub nagios: bool,
}

/// With `--nagios` a configuration that cannot be used is UNKNOWN (3), as plugins do.
pub fn run(
    g: &Globals,
    loaded: anyhow::Result<Config>,
    args: &Args,
    stdout: &mut dyn std::io::Write,
) -> anyhow::Result<Exit> {
    let nagios = args.nagios;
    let cfg = loaded.and_then(|c| {
        c.require_database_url()?;
        Ok(c)
    });
    let cfg = match cfg {
        Ok(c) => {
            let on_timeout = if nagios {
                crate::db::watchdog::OnTimeout::NagiosCritical
            } else {
                crate::db::watchdog::OnTimeout::Fail
            };
            crate::db::watchdog::configure(c.db_limits, on_timeout);
            c
        }
        Err(e) => {
            let msg = crate::strings::one_line(&format!("{e:#}"));
            return if nagios {
                let out = Out::new(Format::Text, g.verbose, g.quiet, g.tty, stdout);
                crate::outln!(out, "SIGOV UNKNOWN - {msg}");
                out.finish()?;
                Ok(Exit::Nagios(Level::Unknown as u8))
            } else {
                crate::say!(ERROR, "sigov: {msg}");
                Ok(Exit::Failure)
            };
        }
    };
    // The clock every command reads (SIGOV_NOW fixes it, as for the checks and mail).
    let now = match clock_at(g.date, &cfg) {
        Ok(c) => c.current(),
        Err(e) => {
            crate::say!(ERROR, "sigov: {e:#}");
            return Ok(Exit::Failure);
        }
    };
    let h = health::gather(&cfg.database_url, &cfg.health, now);
    let out = Out::new(cfg.format, g.verbose, g.quiet, g.tty, stdout).in_zone(zone(g.utc, &cfg));
    let exit = if nagios {
        crate::outln!(out, "{}", h.nagios_text());
        Exit::Nagios(h.status as u8)
    } else {
        out.health(&h);
        if h.status == Level::Ok {
            Exit::Ok
        } else {
            Exit::Failure
        }
    };
    out.finish()?;
    Ok(exit)
}

impl Out<'_> {
    pub fn health(&self, h: &Health) {
        if self.format == Format::Json {
            self.json(h);
            return;
        }
        if self.quiet && h.status == Level::Ok {
            return;
        }
        crate::outln!(self, "health: {} — {}", h.status.word(), h.summary);
        let d = &h.database;
        match (&d.error, d.reachable) {
            (Some(e), false) => crate::outln!(self, "database: {} UNREACHABLE: {e}", d.url),
            (Some(e), true) => crate::outln!(self, "database: {} reachable, but: {e}", d.url),
            (None, _) if !d.pending_migrations.is_empty() => crate::outln!(
                self,
                "database: {} reachable; pending migrations: {}",
                d.url,
                d.pending_migrations.join(", ")
            ),
            (None, _) => {
                crate::outln!(self, "database: {} reachable, migrations up to date", d.url)
            }
        }
        for c in &h.checks {
            let success = match (&c.last_success, c.age_secs) {
                (Some(t), Some(a)) => {
                    format!("last success {} ({} ago)", self.time(t), human_age(a))
                }
                _ => "never succeeded".to_owned(),
            };
            let last = c
                .last_run
                .as_ref()
                .map(|r| format!(", last run #{} {}", r.id, r.status))
                .unwrap_or_default();
            let running = if c.running { ", running now" } else { "" };
            let next = match (&c.next_due, c.late_secs) {
                (Some(t), Some(0)) => format!(", next due {}", self.time(t)),
                (Some(t), Some(l)) => {
                    format!(", run due {} is {} late", self.time(t), human_age(l))
                }
                _ => String::new(),
            };
            crate::outln!(
                self,
                "  {:<14}  {:<8}  {success}{last}{next}{running}",
                c.check,
                c.status.word()
            );
        }
        if let Some(o) = &h.outbox {
            let oldest = match (&o.oldest_pending, o.oldest_pending_age_secs) {
                (Some(t), Some(a)) => {
                    format!("; oldest pending {} ({} ago)", self.time(t), human_age(a))
                }
                _ => String::new(),
            };
            crate::outln!(
            self,
                "outbox: {} pending, {} sending, {} failed (retried later), {} dead, {} sent{oldest}",
                o.pending, o.sending, o.failed, o.dead, o.sent
            );
            for (name, c) in &o.channels {
                let oldest = match (&c.oldest_pending, c.oldest_pending_age_secs) {
                    (Some(t), Some(a)) => {
                        format!("; oldest pending {} ({} ago)", self.time(t), human_age(a))
                    }
                    _ => String::new(),
                };
                let last = c
                    .last_sent
                    .as_ref()
                    .map(|t| format!("; last delivery {}", self.time(t)))
                    .unwrap_or_default();
                crate::outln!(
                    self,
                    "channel {name}: {} pending, {} sending, {} failed (retried later), {} dead, {} unconfirmed, {} sent{oldest}{last}",
                    c.pending, c.sending, c.failed, c.dead, c.unconfirmed, c.sent
                );
            }
        }
    }
}

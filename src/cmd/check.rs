//! `sigov check WHICH|all`: run, ping, write the metrics, print the reports.

use super::ctx::Ctx;
use crate::checks::registry::CheckName;
use crate::checks::runner::{self, Report, Runner};
use crate::config::Format;
use crate::output::Out;
use crate::Exit;
use anyhow::Result;
use clap::ValueEnum;

/// What `sigov check` runs: one check, or `all` (the enabled checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    One(crate::checks::registry::CheckName),
    All,
}

impl Which {
    /// The check, or `None` for all.
    pub fn one(self) -> Option<crate::checks::registry::CheckName> {
        match self {
            Which::One(c) => Some(c),
            Which::All => None,
        }
    }
}

impl ValueEnum for Which {
    fn value_variants<'a>() -> &'a [Self] {
        static ALL: std::sync::LazyLock<Vec<Which>> = std::sync::LazyLock::new(|| {
            crate::checks::registry::CheckName::ALL
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

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which check to run
    #[arg(value_enum)]
    pub which: Which,
    /// Evaluate and print what would be created; write nothing
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Record alerts and queue their mail, but deliver nothing now (`sigov mail flush` will)
    #[arg(long)]
    pub no_mail: bool,
    /// Accept a --date after today (a backfill, a test of a coming week): without it, real
    /// alerts for a future day are refused (--dry-run shows them)
    #[arg(long)]
    pub allow_future: bool,
}

/// Pings start, runs, pings the outcome (a dry run is not a run: no ping, no metrics).
pub fn run(ctx: &Ctx<'_>, args: &Args) -> Result<Exit> {
    let (cfg, _out) = (&ctx.cfg, &ctx.out);
    if let Some(date) = ctx.globals.date {
        // Today without --date: the real clock, or SIGOV_NOW.
        let today = super::ctx::clock_at(None, cfg)?.today;
        if date > today && !args.dry_run && !args.allow_future {
            crate::usage!(
                "check --date {date} is after today ({today}): it would record real alerts ahead of their day; --dry-run shows them, --allow-future records them (a backfill, a test of a coming week)"
            );
        }
    }
    let name = args.which.one();
    let pinger = if args.dry_run {
        None
    } else {
        crate::ops::metrics::Pinger::new(
            &cfg.ping_url,
            cfg.ping_timeout,
            name.map_or("all", CheckName::as_str),
        )?
    };
    if let Some(p) = &pinger {
        p.start();
    }
    let exit = check(ctx, args, name);
    if let Some(p) = &pinger {
        p.finish(*exit.as_ref().unwrap_or(&Exit::Failure));
    }
    exit
}

/// Runs, prints, writes the metrics file.
fn check(ctx: &Ctx<'_>, args: &Args, name: Option<CheckName>) -> Result<Exit> {
    let (cfg, out) = (&ctx.cfg, &ctx.out);
    let clock = ctx.clock()?;
    let mut db = ctx.db()?;
    let opts = runner::Options {
        dry_run: args.dry_run,
        deliver: !args.no_mail,
        list_alerts: args.dry_run || ctx.globals.verbose > 0 || cfg.format == Format::Json,
    };
    let mut runner = Runner::new(cfg.checks(), &clock, opts);
    let reports = match name {
        None => Ok(runner.run_all(&mut db)),
        Some(which) => runner.run(&mut db, which).map(|r| vec![r]),
    };
    // After the run record is closed: the metrics say how it ended, even when it failed.
    if let (Some(path), false) = (&cfg.metrics_file, args.dry_run) {
        crate::ops::metrics::export(&mut db, path);
    }
    let reports = reports?;
    let exit = runner::exit_code(&reports);
    match name {
        None => out.reports(&reports, exit),
        Some(_) => reports.iter().for_each(|r| out.report(r)),
    }
    out.mail_problems(&reports);
    Ok(exit)
}

impl Out<'_> {
    pub fn report(&self, r: &Report) {
        self.locked(std::slice::from_ref(r));
        if self.format == Format::Json {
            self.json(r);
            return;
        }
        if self.quiet || r.locked() || !(self.chatty() || r.dry_run) {
            return;
        }
        self.print_report(r, self.verbose > 0 || r.dry_run);
    }

    /// Reports of `check all`. Failures always reach stderr (through the log and a last line),
    /// so cron mails them even when stdout stays silent.
    pub fn reports(&self, reports: &[Report], code: crate::Exit) {
        self.locked(reports);
        if self.format == Format::Json {
            #[derive(serde::Serialize)]
            struct All<'a> {
                exit_code: u8,
                checks: &'a [Report],
            }
            self.json(&All {
                exit_code: code.code(),
                checks: reports,
            });
        } else if !self.quiet && (self.chatty() || reports.iter().any(|r| r.dry_run)) {
            for r in reports {
                self.print_report(r, self.verbose > 0 || r.dry_run);
            }
        }
        let failed: Vec<&str> = reports
            .iter()
            .filter(|r| r.status != crate::states::ReportStatus::Success && !r.locked())
            .map(|r| r.check)
            .collect();
        if !failed.is_empty() {
            crate::say!(
                ERROR,
                "sigov: {} of {} checks failed: {}",
                failed.len(),
                reports.len(),
                failed.join(", ")
            );
        }
    }

    /// A check whose lock another run holds: one line on stderr (cron mails it: runs that
    /// overlap mean a schedule too tight or a run stuck), unless `-q`.
    pub fn locked(&self, reports: &[Report]) {
        if self.quiet {
            return;
        }
        for r in reports.iter().filter(|r| r.locked()) {
            if let Some(e) = &r.error {
                crate::say!(WARNING, "sigov: check {}: {e}", r.check);
            }
        }
    }

    /// Mail that could not be delivered after a check reaches stderr, even when stdout stays
    /// silent (cron mails stderr): the run exits 3.
    pub fn mail_problems(&self, reports: &[Report]) {
        for r in reports {
            if let Some(m) = r.mail.as_ref().filter(|m| m.incomplete()) {
                crate::say!(WARNING, "sigov: {}: {}", r.check, super::mail::mail_line(m));
            }
        }
    }

    pub fn print_report(&self, r: &Report, list: bool) {
        if let Some(e) = &r.error {
            if r.locked() {
                crate::outln!(self, "{} — skipped: {e}", r.check);
            } else {
                crate::outln!(self, "{} — FAILED: {e}", r.check);
            }
            return;
        }
        let c = &r.counters;
        let run = r
            .run_id
            .map(|id| format!(", run #{id}"))
            .unwrap_or_default();
        let dry = if r.dry_run {
            " (dry run: nothing written)"
        } else {
            ""
        };
        crate::outln!(
            self,
            "{} — profile {}, business date {}{run}{dry}, {:.2} s",
            r.check,
            r.profile,
            r.business_date,
            r.duration_ms as f64 / 1000.0
        );
        if list {
            for a in &r.alerts {
                let who = if a.recipient_name.is_empty() {
                    a.recipient.clone()
                } else {
                    format!("{} ({})", a.recipient_name, a.recipient)
                };
                crate::outln!(
                    self,
                    "  + {:<18} {:<7} → {who}: {}  [mail: {}]",
                    a.alert_type,
                    a.niveau.map_or("-", |n| n.as_str()),
                    a.titre,
                    a.mail
                );
            }
        }
        let verb = if r.dry_run { "would create" } else { "created" };
        crate::outln!(
            self,
            "  {} candidate(s), {verb} {}, already recorded {}, superseded {}, due with no new row {}",
            c.candidates,
            c.created,
            c.duplicates,
            c.superseded,
            c.ignored_entities
        );
        if !c.by_type.is_empty() {
            let t: Vec<String> = c.by_type.iter().map(|(k, v)| format!("{k} {v}")).collect();
            crate::outln!(self, "  by type: {}", t.join(", "));
        }
        if !c.skipped.is_empty() {
            let t: Vec<String> = c.skipped.iter().map(|(k, v)| format!("{k} {v}")).collect();
            crate::outln!(self, "  skipped: {}", t.join(", "));
        }
        if !c.repaired.is_empty() {
            let t: Vec<String> = c.repaired.iter().map(|(k, v)| format!("{k} {v}")).collect();
            crate::outln!(self, "  read despite a defect: {}", t.join(", "));
        }
        let ms: Vec<String> = c
            .mails_skipped
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let ms = if ms.is_empty() {
            String::new()
        } else {
            format!(" (no mail: {})", ms.join(", "))
        };
        crate::outln!(
            self,
            "  mails queued {}{ms}; {} statement(s)",
            c.mails_queued,
            c.queries
        );
        if let Some(m) = &r.mail {
            crate::outln!(self, "  {}", super::mail::mail_line(m));
        }
    }
}

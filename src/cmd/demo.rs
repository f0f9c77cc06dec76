//! `sigov demo`: a demo database with realistic data, then every check, its mail as .eml files.

use super::ctx::Ctx;
use crate::checks::runner::{Options, Report, Runner};
use crate::config::Format;
use crate::demo::Summary;
use crate::output::Out;
use crate::Exit;
use anyhow::{Context, Result};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Demo database URL (SQLite file by default; a MySQL or PostgreSQL database is accepted: on PostgreSQL the web application's whole schema is created when it has none)
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

/// Which database options were typed on the command line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Chosen {
    pub db: bool,
    pub database_url: bool,
}

pub fn run(ctx: &Ctx<'_>, args: &Args, chosen: Chosen) -> Result<Exit> {
    let (cfg, out) = (&ctx.cfg, &ctx.out);
    let clock = ctx.clock()?;
    let raw = match (chosen.db, chosen.database_url, &ctx.globals.database_url) {
        (true, true, Some(u)) if *u != args.db => crate::usage!(
            "sigov demo: --db and --database-url name two databases; give one (--db is the demo's)"
        ),
        (false, true, Some(u)) => u.clone(),
        _ => args.db.clone(),
    };
    // The demo writes its mails as .eml files unless a transport is configured.
    let cfg = if cfg.mail.transport.is_empty() {
        cfg.with_value(
            "mail.transport",
            &format!("file://{}", args.mail_dir.display()),
        )?
    } else {
        cfg.clone()
    };
    let url = crate::db::DbUrl::parse(&raw)?;
    let summary = crate::demo::create(&url, args.scale, args.seed, clock.today)
        .with_context(|| format!("cannot create the demo database `{}`", url.redacted()))?;
    out.demo_summary(&summary);
    if args.no_check {
        return Ok(Exit::Ok);
    }
    let mut db = crate::db::Db::connect_parsed(url.clone())?;
    let reports = Runner::new(cfg.checks(), &clock, Options::default()).run_all(&mut db);
    out.demo_reports(&reports);
    out.mail_problems(&reports);
    let mail_dir = cfg
        .mail
        .transport
        .strip_prefix("file://")
        .map(PathBuf::from);
    out.demo_next(&url, mail_dir.as_deref());
    Ok(crate::checks::runner::exit_code(&reports))
}

/// The shell-quoted form of `s` (single quotes).
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

impl Out<'_> {
    pub fn demo_summary(&self, s: &Summary) {
        if self.format == Format::Json {
            self.json(&serde_json::to_value(s).unwrap_or_default());
            return;
        }
        if self.quiet {
            return;
        }
        crate::outln!(
            self,
            "demo database {} ready: {} projects, {} users, {} stages, {} tasks, {} contracts, {} budget lines (seed {}, today {}) in {:.2} s",
            s.database, s.projects, s.users, s.stages, s.tasks, s.contracts, s.budget_lines, s.seed, s.today, s.seconds
        );
    }

    /// The lines to copy next: the demo's database for the other commands, then two of them.
    pub fn demo_next(&self, url: &crate::db::DbUrl, mail_dir: Option<&std::path::Path>) {
        if self.format == Format::Json || self.quiet {
            return;
        }
        let shown = url.redacted();
        let hidden = if shown != url.as_str() {
            "   # the password is not shown: put it back"
        } else {
            ""
        };
        crate::outln!(self);
        crate::outln!(self, "Next, copy these lines:");
        crate::outln!(
            self,
            "  export SIGOV_DATABASE_URL={}{hidden}",
            quoted(&shown)
        );
        crate::outln!(self, "  sigov alerts list");
        crate::outln!(self, "  sigov stats --html stats.html");
        if let Some(dir) = mail_dir {
            crate::outln!(
                self,
                "and open the mails in {} with any mail client.",
                dir.display()
            );
        }
    }

    pub fn demo_reports(&self, reports: &[Report]) {
        if self.format == Format::Json {
            self.json(reports);
            return;
        }
        if self.quiet {
            return;
        }
        for r in reports {
            self.print_report(r, true);
        }
    }
}

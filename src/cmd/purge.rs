//! `sigov purge [--dry-run]`: the retention of runs, mail, ledger keys and read alerts.

use super::ctx::Ctx;
use crate::config::Format;
use crate::ops::purge::{self, Purged};
use crate::output::Out;
use crate::Exit;
use anyhow::Result;
use clap::Args as ClapArgs;

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Count what would be deleted; delete nothing
    #[arg(long, short = 'n')]
    pub dry_run: bool,
}

/// Two purges never overlap: the second exits 75.
pub fn run(ctx: &Ctx<'_>, args: &Args) -> Result<Exit> {
    let (cfg, out) = (&ctx.cfg, &ctx.out);
    let mut db = ctx.db()?;
    let now = chrono::Utc::now().naive_utc();
    if args.dry_run {
        out.purged(&purge::run(&mut db, &cfg.purge, now, true)?);
        return Ok(Exit::Ok);
    }
    let lease = match crate::ops::lock::acquire(&mut db, "purge", cfg.lock_lease_secs)? {
        crate::ops::lock::Acquired::Held(l) => l,
        crate::ops::lock::Acquired::Busy(h) => {
            if !ctx.globals.quiet {
                crate::say!(
                    WARNING,
                    "sigov: purge: another run holds the lock: {}",
                    h.describe()
                );
            }
            return Ok(Exit::Locked);
        }
    };
    let done = purge::run(&mut db, &cfg.purge, now, false);
    if let Err(e) = lease.release(&mut db) {
        log::warn!("{e:#}");
    }
    out.purged(&done?);
    Ok(Exit::Ok)
}

impl Out<'_> {
    pub fn purged(&self, p: &Purged) {
        if self.format == Format::Json {
            self.json(p);
            return;
        }
        if self.quiet || !(self.chatty() || p.dry_run) {
            return;
        }
        let verb = if p.dry_run { "would delete" } else { "deleted" };
        for i in &p.items {
            let what = i.what.replace('_', " ");
            match i.days {
                Some(d) => crate::outln!(
                    self,
                    "purge: {what}: {verb} {} (older than {d} days)",
                    i.rows
                ),
                None => crate::outln!(self, "purge: {what}: kept (retention not set)"),
            }
        }
    }
}

//! `sigov export alerts|runs|mail`: every matching row, streamed, as CSV, JSON or JSON lines,
//! to standard output or to a file written whole or not at all.

use super::ctx::Ctx;
use crate::cmd::alerts::FilterArgs;
use crate::config::Format;
use crate::ops::export::{self, LogFilter, Shape, What};
use crate::output::Out;
use crate::Exit;
use anyhow::{Context, Result};
use std::io::Write;

#[derive(Debug, clap::Args)]
#[command(after_long_help = COLUMNS_HELP)]
pub struct Args {
    /// What to export: alerts (both tables, with their mail state), runs or mail (the outbox)
    #[arg(value_name = "WHAT", value_enum)]
    pub what: What,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Write to this file (created whole through a temporary file, mode 0600; a device, FIFO
    /// or directory there is refused, a symbolic link replaced) instead of standard output
    /// (`-`)
    #[arg(long, short = 'o', value_name = "FILE", value_parser = crate::fsutil::Output::parse)]
    pub output: Option<crate::fsutil::Output>,
}

/// The man page's and `--help`'s list of columns.
pub const COLUMNS_HELP: &str = "Formats (--format): csv (the default; RFC 4180, UTF-8, CRLF line ends, a header line), json (one array of objects), jsonl (one object a line). Rows come newest id first (alerts: core_alerteprojet, then core_notificationetape). Times are UTC: YYYY-MM-DD HH:MM:SS.ffffff in CSV, RFC 3339 with its offset (2026-11-22T10:00:00.123456Z) in JSON; a run's counters are an object in JSON, its JSON text in CSV; empty CSV cells are nulls.

Columns, in this order:
  alerts: table, id, type, niveau, titre, lue, date_creation, date_lecture, recipient_id, recipient_username, recipient_email, projet_id, projet_nom, etape_id, check, ledger_key, run_id, business_date, mail_state (queued, failed, sent, dead, none, not_from_sigov), mail_outbox_id, mail_sent_at, mail_note
  runs: id, check, status, profile, business_date, host, pid, version, started_at, finished_at, duration_secs, exit_code, created, mails_sent, error, counters (JSON)
  mail: id, alert_key, origin_key, recipient_id, recipient_email, kind, state, attempts, created_at, next_attempt_at, sent_at, message_id, last_error, last_response, run_id, channel (a channel message's channel; empty for mail; its message_id is the delivery key)

Filters: alerts take them all; runs take --check, --since and --until (run start); mail takes --check, --since and --until (queued at) and --recipient.";

pub fn run(ctx: &Ctx<'_>, args: &Args) -> Result<Exit> {
    let (cfg, out) = (&ctx.cfg, &ctx.out);
    let shape = match cfg.format {
        Format::Text | Format::Csv => Shape::Csv,
        Format::Json => Shape::Json,
        Format::Jsonl => Shape::Jsonl,
    };
    let f = &args.filter;
    let refused: Vec<&str> = match args.what {
        What::Alerts => Vec::new(),
        What::Runs | What::Mail => {
            let mut v = Vec::new();
            if f.alert_type.is_some() {
                v.push("--type");
            }
            if f.niveau.is_some() {
                v.push("--niveau");
            }
            if f.project.is_some() {
                v.push("--project");
            }
            if f.unread {
                v.push("--unread");
            }
            if f.table.is_some() {
                v.push("--table");
            }
            if args.what == What::Runs && f.recipient.is_some() {
                v.push("--recipient");
            }
            v
        }
    };
    if !refused.is_empty() {
        return Err(crate::exit::UnknownValue(format!(
            "export {}: {} apply to alerts only",
            match args.what {
                What::Runs => "runs",
                _ => "mail",
            },
            refused.join(", ")
        ))
        .into());
    }
    let now = chrono::Utc::now().naive_utc();
    let mut db = ctx.db()?;
    let columns = export::columns(args.what);
    let mut body = |w: &mut dyn Write| -> Result<u64> {
        let mut writer = export::Writer::new(shape, columns, w)?;
        match args.what {
            What::Alerts => export::alerts(&mut db, &f.filter(now, cfg.rules.tz), &mut writer)?,
            What::Runs | What::Mail => {
                let lf = LogFilter {
                    check: f.check.map(|c| c.as_str().to_owned()),
                    since: f.since.as_ref().map(|s| s.resolve(now, cfg.rules.tz)),
                    until: f.until.as_ref().map(|s| s.resolve(now, cfg.rules.tz)),
                    recipient: f.recipient.clone(),
                };
                if args.what == What::Runs {
                    export::runs(&mut db, &lf, &mut writer)?
                } else {
                    export::mail(&mut db, &lf, &mut writer)?
                }
            }
        }
        writer.finish()
    };
    match &args.output {
        None | Some(crate::fsutil::Output::Stdout) => {
            let mut stdout = OutWriter(out);
            let mut buffered = std::io::BufWriter::with_capacity(64 * 1024, &mut stdout);
            body(&mut buffered)?;
            buffered
                .flush()
                .context("cannot write to standard output")?;
        }
        Some(crate::fsutil::Output::File(path)) => {
            let n = crate::fsutil::write_streamed(path, 0o600, &mut |w| {
                body(w).map_err(|e| std::io::Error::other(format!("{e:#}")))
            })
            .with_context(|| format!("cannot write {}", path.display()))?;
            if out.chatty() {
                crate::outln!(out, "{n} row(s) written to {}", path.display());
            }
        }
    }
    Ok(Exit::Ok)
}

/// Standard output through [`Out`] (which keeps the first write error for `main`).
struct OutWriter<'a, 'w>(&'a Out<'w>);

impl Write for OutWriter<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.bytes(buf);
        match self.0.failed() {
            Some(kind) => Err(std::io::Error::from(kind)),
            None => Ok(buf.len()),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

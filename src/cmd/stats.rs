//! `sigov stats`: alerts, mail and runs over a window, as text with bars, JSON, or one
//! self-contained HTML page (`--html FILE`: inline SVG charts, nothing fetched).

use super::ctx::Ctx;
use super::stats_html::secs;
use crate::config::Format;
use crate::ops::stats::{self, By, Spread, Stats};
use crate::output::Out;
use crate::Exit;
use anyhow::{Context, Result};
use chrono::TimeZone;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The window's start: a date (2026-11-20), a local time (2026-11-20 08:00), an instant
    /// (RFC 3339), an age (90m, 1h30m, 36h, 7d, 2w), today, yesterday
    #[arg(long, value_name = "WHEN", default_value = "30d", value_parser = crate::when::parse)]
    pub since: crate::when::When,
    /// The window's end (default: now): the same forms as --since
    #[arg(long, value_name = "WHEN", value_parser = crate::when::parse)]
    pub until: Option<crate::when::When>,
    /// Group the alerts by check, type, project, recipient or day
    #[arg(long, value_name = "BY", value_enum, default_value = "check")]
    pub by: By,
    /// Also write one self-contained HTML page with charts to this file (`-`: the page alone
    /// on standard output; a device, FIFO or directory there is refused, a symbolic link
    /// replaced)
    #[arg(long, value_name = "FILE", value_parser = crate::fsutil::Output::parse)]
    pub html: Option<crate::fsutil::Output>,
}

pub fn run(ctx: &Ctx<'_>, args: &Args) -> Result<Exit> {
    let (cfg, out) = (&ctx.cfg, &ctx.out);
    let now = chrono::Utc::now().naive_utc();
    let tz = cfg.rules.tz;
    let since = args.since.resolve(now, tz);
    let until = args.until.map(|u| u.resolve(now, tz)).unwrap_or(now);
    if until <= since {
        crate::usage!(
            "stats: the window ends ({} UTC) before it starts ({} UTC): give --until after --since",
            until.format("%Y-%m-%d %H:%M"),
            since.format("%Y-%m-%d %H:%M")
        );
    }
    let mut db = ctx.db()?;
    let s = stats::compute(&mut db, since, until, args.by)?;
    // The page leads with where alerting stands now: health, silences.
    let mut now_block = || -> Result<super::stats_html::Now> {
        let today = cfg.rules.tz.from_utc_datetime(&now).date_naive();
        let (mutes, mail_off) = crate::prefs::Prefs::load(&mut db)?.silences(today);
        Ok(super::stats_html::Now {
            health: crate::ops::health::gather(&cfg.database_url, &cfg.health, now),
            mutes,
            mail_off,
            tz: cfg.rules.tz,
        })
    };
    match &args.html {
        Some(crate::fsutil::Output::Stdout) => {
            out.bytes(super::stats_html::page(&s, &now_block()?).as_bytes());
            return Ok(Exit::Ok);
        }
        Some(crate::fsutil::Output::File(path)) => {
            let page = super::stats_html::page(&s, &now_block()?);
            crate::fsutil::write_atomic(path, page.as_bytes(), 0o644)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        None => {}
    }
    out.stats(&s, args.html.is_some());
    Ok(Exit::Ok)
}

/// `width` cells of a bar for `n` of `max` (eighths of a cell for the remainder).
pub fn bar(n: u64, max: u64, width: usize) -> String {
    if max == 0 || n == 0 {
        return String::new();
    }
    let eighths = ((n as f64 / max as f64) * (width * 8) as f64)
        .round()
        .max(1.0) as usize;
    let mut s = "█".repeat(eighths / 8);
    const PART: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    s.push_str(PART[eighths % 8]);
    s
}

fn spread(s: &Spread) -> String {
    format!(
        "median {}, 95th {}, max {} ({} measured)",
        secs(s.median),
        secs(s.p95),
        secs(s.max),
        s.count
    )
}

impl Out<'_> {
    pub fn stats(&self, s: &Stats, wrote_html: bool) {
        if self.format == Format::Json {
            self.json(s);
            return;
        }
        if self.quiet || (wrote_html && !self.chatty()) {
            return;
        }
        crate::outln!(
            self,
            "since {} UTC (until {}): {} alert(s)",
            crate::clock::to_seconds(&s.since),
            crate::clock::to_seconds(&s.until),
            s.alerts
        );
        let m = &s.mail;
        crate::outln!(
            self,
            "their mail: sent {}, queued {}, failed {}, dead {}, unconfirmed {}, none {}, not from sigov {}",
            m.sent,
            m.pending,
            m.failed,
            m.dead,
            m.unconfirmed,
            m.none,
            m.not_from_sigov
        );
        crate::outln!(self);
        let max = s.groups.iter().map(|g| g.alerts).max().unwrap_or(0);
        let by = match s.by {
            By::Check => "check",
            By::Type => "type",
            By::Project => "project",
            By::Recipient => "recipient",
            By::Day => "day",
        };
        let rows: Vec<Vec<String>> = s
            .groups
            .iter()
            .map(|g| {
                vec![
                    g.key.clone(),
                    g.alerts.to_string(),
                    bar(g.alerts, max, 24),
                    g.mail.sent.to_string(),
                    (g.mail.pending + g.mail.failed).to_string(),
                    g.mail.dead.to_string(),
                    g.mail.none.to_string(),
                ]
            })
            .collect();
        if rows.is_empty() {
            crate::outln!(self, "no alert in the window");
        } else {
            self.table(
                &[by, "alerts", "", "sent", "queued", "dead", "no mail"],
                &rows,
                &[1, 3, 4, 5, 6],
                48,
            );
        }
        crate::outln!(self);
        let q: Vec<String> = s.outbox.iter().map(|(k, v)| format!("{k} {v}")).collect();
        crate::outln!(
            self,
            "outbox, queued in the window: {}",
            if q.is_empty() {
                "nothing".to_owned()
            } else {
                q.join(", ")
            }
        );
        crate::outln!(
            self,
            "delivery delay (queued to sent): {}",
            spread(&s.delivery)
        );
        if !s.holds.is_empty() {
            let h: Vec<String> = s.holds.iter().map(|(k, v)| format!("{k} {v}")).collect();
            crate::outln!(
                self,
                "acknowledgements given in the window: {}",
                h.join(", ")
            );
        }
        for (name, c) in &s.channels {
            let q: Vec<String> = c.queued.iter().map(|(k, v)| format!("{k} {v}")).collect();
            crate::outln!(
                self,
                "channel {name}, queued in the window: {}; delivery delay: {}",
                q.join(", "),
                spread(&c.delivery)
            );
        }
        crate::outln!(self);
        if s.runs.is_empty() {
            crate::outln!(self, "no run in the window");
            return;
        }
        let rows: Vec<Vec<String>> = s
            .runs
            .iter()
            .map(|r| {
                vec![
                    r.check.clone(),
                    r.runs.to_string(),
                    r.failed.to_string(),
                    r.interrupted.to_string(),
                    secs(r.duration.median),
                    secs(r.duration.p95),
                    secs(r.duration.max),
                ]
            })
            .collect();
        self.table(
            &[
                "check",
                "runs",
                "failed",
                "interrupted",
                "median",
                "95th",
                "max",
            ],
            &rows,
            &[1, 2, 3, 4, 5, 6],
            40,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_in_eighths() {
        assert_eq!(bar(0, 10, 8), "");
        assert_eq!(bar(10, 10, 8), "████████");
        assert_eq!(bar(5, 10, 8), "████");
        assert_eq!(bar(1, 1000, 8), "▏", "a non-zero count shows");
        assert_eq!(bar(9, 16, 2), "█▏");
        assert_eq!(secs(Some(0.0421)), "42 ms");
        assert_eq!(secs(Some(3.5)), "3.50 s");
        assert_eq!(secs(Some(600.0)), "10.0 min");
    }
}

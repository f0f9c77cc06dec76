//! `sigov runs list|show`: the run history.

use super::ctx::Ctx;
use crate::config::Format;
use crate::ops::runs::{self, RunRow};
use crate::output::Out;
use crate::Exit;
use anyhow::Result;
use serde_json::json;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Recent runs, newest first
    List {
        /// Only this check
        #[arg(long, value_name = "CHECK", value_enum)]
        check: Option<crate::checks::registry::CheckName>,
        /// Only runs in this status
        #[arg(long, value_name = "STATUS", value_enum)]
        status: Option<crate::states::RunStatus>,
        /// Only runs started since: a date (2026-11-20), a local time (2026-11-20 08:00), an
        /// instant (RFC 3339), an age (90m, 1h30m, 36h, 7d, 2w), today, yesterday
        #[arg(long, value_name = "WHEN", value_parser = crate::when::parse)]
        since: Option<crate::when::When>,
        /// Only runs started before: the same forms as --since
        #[arg(long, value_name = "WHEN", value_parser = crate::when::parse)]
        until: Option<crate::when::When>,
        /// At most this many runs (0: all)
        #[arg(long, default_value_t = 20, value_name = "N")]
        limit: u64,
    },
    /// One run in full: times, host, version, profile, business date, status and every counter
    Show {
        /// Run id (as `sigov runs list` shows it)
        #[arg(value_name = "ID")]
        id: i64,
    },
}

pub fn run(ctx: &Ctx<'_>, cmd: &Command) -> Result<Exit> {
    let (cfg, out) = (&ctx.cfg, &ctx.out);
    let mut db = ctx.db()?;
    match cmd {
        Command::List {
            check,
            status,
            since,
            until,
            limit,
        } => {
            let now = chrono::Utc::now().naive_utc();
            let at = |w: &Option<crate::when::When>| {
                w.as_ref()
                    .map(|w| crate::clock::format_datetime(w.resolve(now, cfg.rules.tz)))
            };
            let filter = runs::Filter {
                check: check.map(|c| c.as_str().to_owned()),
                status: *status,
                since: at(since),
                until: at(until),
                id: None,
                before_id: None,
                limit: *limit,
            };
            let rows = runs::list(&mut db, &filter)?;
            out.runs(&rows);
            Ok(Exit::Ok)
        }
        Command::Show { id } => {
            let filter = runs::Filter {
                id: Some(*id),
                ..Default::default()
            };
            let row = runs::list(&mut db, &filter)?
                .into_iter()
                .next()
                .ok_or_else(|| anyhow::anyhow!("no run with id {id}"))?;
            out.run_detail(&row);
            Ok(Exit::Ok)
        }
    }
}

fn run_json(r: &RunRow) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("duration_secs".into(), json!(r.duration_secs()));
        o.insert("counters".into(), r.counters());
    }
    v
}

impl Out<'_> {
    pub fn runs(&self, rows: &[RunRow]) {
        if self.format == Format::Json {
            let items: Vec<_> = rows.iter().map(run_json).collect();
            self.json(&items);
            return;
        }
        if self.quiet {
            return;
        }
        if rows.is_empty() {
            crate::outln!(self, "no run recorded");
            return;
        }
        let started = format!("started ({})", self.zone_abbreviation());
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                vec![
                    r.id.to_string(),
                    r.check_name.clone(),
                    r.status.to_string(),
                    self.at_short(r.started_at),
                    r.duration_secs()
                        .map(|d| format!("{d:.2} s"))
                        .unwrap_or_default(),
                    r.host.clone(),
                    r.counter("created").to_string(),
                    r.counter("mails_sent").to_string(),
                    r.exit_code.map(|c| c.to_string()).unwrap_or_default(),
                ]
            })
            .collect();
        self.table_fit(
            &[
                "id", "check", "status", &started, "duration", "host", "created", "mails", "exit",
            ],
            &cells,
            &[0, 4, 6, 7, 8],
            40,
            &[1, 5],
        );
    }

    pub fn run_detail(&self, r: &RunRow) {
        if self.format == Format::Json {
            self.json(&run_json(r));
            return;
        }
        if self.quiet {
            return;
        }
        let opt = |v: Option<chrono::NaiveDateTime>| {
            v.map(|t| self.at(t)).unwrap_or_else(|| "-".to_owned())
        };
        crate::outln!(self, "run #{}: {} — {}", r.id, r.check_name, r.status);
        crate::outln!(self, "  started          {}", self.at(r.started_at));
        crate::outln!(self, "  finished         {}", opt(r.finished_at));
        crate::outln!(self, "  last heartbeat   {}", self.at(r.heartbeat_at));
        if let Some(d) = r.duration_secs() {
            crate::outln!(self, "  duration         {d:.3} s");
        }
        crate::outln!(self, "  host             {} (pid {})", r.host, r.pid);
        crate::outln!(self, "  version          sigov {}", r.version);
        crate::outln!(self, "  profile          {}", r.profile);
        crate::outln!(self, "  business date    {}", r.business_date);
        crate::outln!(
            self,
            "  exit code        {}",
            r.exit_code
                .map(|c| c.to_string())
                .unwrap_or_else(|| "-".into())
        );
        if let Some(e) = &r.error {
            crate::outln!(self, "  error            {}", crate::strings::one_line(e));
        }
        let c = r.counters();
        let Some(obj) = c.as_object().filter(|o| !o.is_empty()) else {
            crate::outln!(
                self,
                "  counters         none recorded (the run never closed)"
            );
            return;
        };
        crate::outln!(self, "  counters");
        for (k, v) in obj {
            match v {
                serde_json::Value::Object(m) if m.is_empty() => {
                    crate::outln!(self, "    {k:<20} -")
                }
                serde_json::Value::Object(m) => {
                    let parts: Vec<String> = m.iter().map(|(a, b)| format!("{a} {b}")).collect();
                    crate::outln!(self, "    {k:<20} {}", parts.join(", "));
                }
                other => crate::outln!(self, "    {k:<20} {other}"),
            }
        }
    }
}

//! `sigov ack ID`, `sigov snooze ID`: a person (or the operator for them) says an alert is
//! known and handled, or to come back later. Its repeats and escalation stop for everybody who
//! receives it, until its entity changes (an acknowledgement) or a day (a snooze); once-only
//! alerts have no repeat to stop. `sigov ack --list` shows them.

use super::alerts::{parse_ref, AlertRef};
use super::ctx::Ctx;
use crate::ack::{self, About, AckRow, NewHold};
use crate::config::Format;
use crate::ops::alerts::{self as alerts, Table};
use crate::output::Out;
use crate::rules::HoldKind;
use crate::Exit;
use anyhow::Result;
use chrono::NaiveDate;
use serde_json::json;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["id", "list", "end"])))]
pub struct AckArgs {
    /// Alert id as `sigov alerts list` prints it: 91 (core_alerteprojet), n91 (a stage
    /// notification)
    #[arg(value_name = "ID", value_parser = parse_ref)]
    pub id: Option<AlertRef>,
    /// The table of a bare id: alert (the default) or notification
    #[arg(long, value_name = "TABLE", value_enum, requires = "id")]
    pub table: Option<Table>,
    /// Who acknowledges: a username of core_utilisateur (default: the account running sigov,
    /// $SUDO_USER or $USER)
    #[arg(long, value_name = "USER", requires = "id")]
    pub by: Option<String>,
    /// A note kept with it and shown to the people the escalation would have reached
    #[arg(long, value_name = "TEXT", requires = "id")]
    pub note: Option<String>,
    /// List the acknowledgements and snoozes in force (with --all: every one, ended too)
    #[arg(long)]
    pub list: bool,
    /// With --list: the ended ones too
    #[arg(long, requires = "list")]
    pub all: bool,
    /// End acknowledgement or snooze ACK (its number in --list): the alert repeats again from
    /// the next run
    #[arg(long, value_name = "ACK")]
    pub end: Option<i64>,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("when").required(true).args(["until", "for_days"])))]
pub struct SnoozeArgs {
    /// Alert id as `sigov alerts list` prints it: 91, or n91 (a stage notification)
    #[arg(value_name = "ID", value_parser = parse_ref)]
    pub id: AlertRef,
    /// The table of a bare id: alert (the default) or notification
    #[arg(long, value_name = "TABLE", value_enum)]
    pub table: Option<Table>,
    /// The day repeats resume (business date, after today)
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::ctx::parse_date_arg)]
    pub until: Option<NaiveDate>,
    /// For this many days (3d, or 3): open days when the alert's check counts open days
    /// (calendar.business_days), else calendar days
    #[arg(long = "for", value_name = "Nd", value_parser = parse_days)]
    pub for_days: Option<u32>,
    /// Who snoozes: a username of core_utilisateur (default: the account running sigov)
    #[arg(long, value_name = "USER")]
    pub by: Option<String>,
    /// A note kept with it
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
}

/// `3d`, `3`: a number of days from 1 to 366.
fn parse_days(s: &str) -> Result<u32, String> {
    let t = s.trim();
    let digits = t.strip_suffix('d').unwrap_or(t);
    digits
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=366).contains(n))
        .ok_or_else(|| format!("`{s}` is not a number of days from 1 to 366 (3d)"))
}

/// A note: one line, bounded (it is shown in mails).
fn note_of(note: &Option<String>) -> Result<Option<String>> {
    let Some(n) = note else { return Ok(None) };
    let n = crate::strings::one_line(n.trim());
    if n.chars().count() > 400 {
        crate::usage!(
            "--note: {} characters; at most 400 (it is shown in mails)",
            n.chars().count()
        );
    }
    Ok((!n.is_empty()).then_some(n))
}

/// Who holds it: the person named by `--by` (their name, else their username), or the account
/// running sigov.
fn who(db: &mut crate::db::Db, by: &Option<String>) -> Result<String> {
    match by {
        Some(u) => {
            let Some(p) = crate::source::people_named(db, u)?.into_iter().next() else {
                crate::usage!("--by {u}: no user `{u}` in core_utilisateur (a username or an id)");
            };
            let name = p.full_name();
            Ok(if name.is_empty() { p.username } else { name })
        }
        None => Ok(["SUDO_USER", "USER", "LOGNAME"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()))
            .unwrap_or_else(|| "operator".to_owned())),
    }
}

/// The alert `r` names, and what a hold of it is about; refused when it is not sigov's.
fn target(
    db: &mut crate::db::Db,
    r: AlertRef,
    table: Option<Table>,
) -> Result<(alerts::AlertRow, About, Option<String>)> {
    let (table, id) = (r.table(table)?, r.id);
    let Some(a) = alerts::get(db, table, id)? else {
        return Err(crate::exit::UnknownValue(format!(
            "no alert with id {id} in {}",
            table.sql_name()
        ))
        .into());
    };
    let Some(key) = a.alert_key.clone() else {
        crate::usage!(
            "alert {id} of {} was not written by sigov (Django or the web application did): sigov does not repeat it, there is nothing to hold",
            table.sql_name()
        );
    };
    let Some((about, arm)) = ack::about(db, &key)? else {
        crate::usage!("alert {id}: its ledger key `{key}` does not say what it is about");
    };
    Ok((a, about, arm))
}

pub fn ack(ctx: &Ctx<'_>, args: &AckArgs) -> Result<Exit> {
    let out = &ctx.out;
    let mut db = ctx.db()?;
    let clock = ctx.clock()?;
    if args.list {
        let rows = ack::list(&mut db, args.all, 1000)?;
        out.acks(&rows, clock.today);
        return Ok(Exit::Ok);
    }
    if let Some(n) = args.end {
        let done = ack::end(&mut db, &[n], clock.current(), "ended")?;
        if done == 0 {
            return Err(crate::exit::UnknownValue(format!(
                "no acknowledgement or snooze #{n} in force (sigov ack --list)"
            ))
            .into());
        }
        out.line(format_args!(
            "acknowledgement #{n} ended: the alert repeats again from the next run"
        ));
        return Ok(Exit::Ok);
    }
    let Some(r) = args.id else {
        crate::usage!("ack: give an alert id, --list or --end ACK");
    };
    let note = note_of(&args.note)?;
    let by = who(&mut db, &args.by)?;
    let (a, about, arm) = target(&mut db, r, args.table)?;
    let hold = NewHold {
        kind: HoldKind::Ack,
        alert_key: a.alert_key.as_deref().unwrap_or_default(),
        about: &about,
        arm: arm.as_deref(),
        until: None,
        by: &by,
        how: "cli",
        note: note.as_deref(),
    };
    let id = ack::record(&mut db, &hold, clock.current())?;
    out.held(id, &a, &about, &hold);
    Ok(Exit::Ok)
}

pub fn snooze(ctx: &Ctx<'_>, args: &SnoozeArgs) -> Result<Exit> {
    let cfg = &ctx.cfg;
    let out = &ctx.out;
    let mut db = ctx.db()?;
    let clock = ctx.clock()?;
    let note = note_of(&args.note)?;
    let by = who(&mut db, &args.by)?;
    let (a, about, arm) = target(&mut db, args.id, args.table)?;
    let until = match (args.until, args.for_days) {
        (Some(d), _) => {
            if d <= clock.today {
                crate::usage!(
                    "snooze --until {d}: that day is not after today ({}); repeats would not wait",
                    clock.today
                );
            }
            d
        }
        (None, Some(n)) => match ack::snooze_until(&cfg.rules, &about.check, clock.today, n) {
            Some(d) => d,
            None => crate::usage!("snooze --for {n}d: no such day in the calendar"),
        },
        (None, None) => crate::usage!("snooze: say until when (--until DAY or --for 3d)"),
    };
    let hold = NewHold {
        kind: HoldKind::Snooze,
        alert_key: a.alert_key.as_deref().unwrap_or_default(),
        about: &about,
        arm: arm.as_deref(),
        until: Some(until),
        by: &by,
        how: "cli",
        note: note.as_deref(),
    };
    let id = ack::record(&mut db, &hold, clock.current())?;
    out.held(id, &a, &about, &hold);
    Ok(Exit::Ok)
}

impl Out<'_> {
    fn held(&self, id: i64, a: &alerts::AlertRow, about: &About, h: &NewHold<'_>) {
        if self.format == Format::Json {
            self.json(&json!({
                "id": id, "kind": h.kind.as_str(), "alert": a.id, "table": a.table().name(),
                "check": about.check, "type": about.alert_type, "entity": about.entity,
                "arm": h.arm, "until": h.until.map(|d| d.to_string()), "by": h.by, "note": h.note,
            }));
            return;
        }
        let what = match h.kind {
            HoldKind::Ack => "acknowledged".to_owned(),
            HoldKind::Snooze => format!(
                "snoozed until {}",
                h.until.map(|d| d.to_string()).unwrap_or_default()
            ),
        };
        self.line(format_args!(
            "#{id}: {} {} ({}) {what} by {}",
            about.alert_type,
            crate::strings::one_line(&a.titre),
            about.entity,
            h.by
        ));
        let line = match (h.kind, h.arm) {
            (HoldKind::Ack, Some(arm)) => format!(
                "its repeats and its escalation stop for every recipient while it stays {arm}"
            ),
            (HoldKind::Snooze, Some(arm)) => format!(
                "its repeats and its escalation wait until then for every recipient (sooner if it is no longer {arm})"
            ),
            // Alerted once (or raised before sigov kept what it was raised on): nothing repeats.
            (_, None) => "an alert raised once: no repeat to stop; an escalation of it, if any, stops (sigov ack --end to undo)".to_owned(),
        };
        self.line(format_args!("  {line}"));
    }

    pub fn acks(&self, rows: &[AckRow], today: NaiveDate) {
        if self.format == Format::Json {
            let v: Vec<_> = rows
                .iter()
                .map(|r| {
                    let mut v = serde_json::to_value(r).unwrap_or_default();
                    if let Some(o) = v.as_object_mut() {
                        o.insert("state".into(), json!(r.state(today)));
                    }
                    v
                })
                .collect();
            self.json(&json!(v));
            return;
        }
        if rows.is_empty() {
            self.line(format_args!(
                "no acknowledgement or snooze in force (sigov ack ID, sigov snooze ID)"
            ));
            return;
        }
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                vec![
                    r.id.to_string(),
                    match r.kind() {
                        HoldKind::Ack => "ack".to_owned(),
                        HoldKind::Snooze => format!(
                            "snooze to {}",
                            r.until_date.map(|d| d.to_string()).unwrap_or_default()
                        ),
                    },
                    format!("{} {}", r.check_name, r.alert_type),
                    r.entity.clone(),
                    format!("{} ({})", r.by_user, r.how),
                    self.at_short(r.created_at),
                    r.state(today),
                    r.note.clone().unwrap_or_default(),
                ]
            })
            .collect();
        self.table(
            &["#", "kind", "alert", "entity", "by", "on", "state", "note"],
            &cells,
            &[0],
            48,
        );
    }
}

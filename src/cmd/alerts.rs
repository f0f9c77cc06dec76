//! `sigov alerts list|show|resend`: the alerts in the web application's tables, what became of
//! their mail, and why they exist.

use super::ctx::Ctx;
use crate::config::Format;
use crate::ops::alert_mail::{self, MailRow};
use crate::ops::alerts::{self, AlertRow, Filter, Table};
use crate::ops::explain::{self, Why};
use crate::ops::resend::{self, Resent};
use crate::ops::runs::{self, RunRow};
use crate::output::Out;
use crate::Exit;
use anyhow::Result;
use serde_json::json;

/// The filters `alerts list` and `export` share.
#[derive(Debug, Clone, clap::Args)]
pub struct FilterArgs {
    /// Only alerts sigov recorded for this check
    #[arg(long, value_name = "CHECK", value_enum)]
    pub check: Option<crate::checks::registry::CheckName>,
    /// Only this alert type (type_alerte or type_notification: ECHEANCE_J7, RETARD_ETAPE, …)
    #[arg(long = "type", value_name = "TYPE", value_parser = parse_type)]
    pub alert_type: Option<String>,
    /// Only this level (project alerts; stage notifications have none)
    #[arg(long, value_name = "NIVEAU", value_enum, ignore_case = true)]
    pub niveau: Option<crate::states::Niveau>,
    /// Only this project: its id, or a part of its name (any case)
    #[arg(long, value_name = "PROJECT", value_parser = parse_nonempty)]
    pub project: Option<String>,
    /// Only this recipient: a username or an e-mail address
    #[arg(long, value_name = "USER", value_parser = parse_nonempty)]
    pub recipient: Option<String>,
    /// Only alerts created since: a date (2026-11-20), a local time (2026-11-20 08:00), an
    /// instant (RFC 3339), an age (90m, 1h30m, 36h, 7d, 2w), today, yesterday
    #[arg(long, value_name = "WHEN", value_parser = crate::when::parse)]
    pub since: Option<crate::when::When>,
    /// Only alerts created before: the same forms as --since
    #[arg(long, value_name = "WHEN", value_parser = crate::when::parse)]
    pub until: Option<crate::when::When>,
    /// Only unread alerts (lue = 0)
    #[arg(long)]
    pub unread: bool,
    /// Only one table: alert (core_alerteprojet) or notification (core_notificationetape)
    #[arg(long, value_name = "TABLE", value_enum)]
    pub table: Option<Table>,
}

/// An alert type as the application stores it: upper case letters, digits, `_` and `-`.
fn parse_type(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.is_empty()
        || s.len() > 30
        || !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err("expected an alert type such as ECHEANCE_J7 or RETARD_ETAPE (letters, digits, _ and -, at most 30)".into());
    }
    Ok(s.to_ascii_uppercase())
}

fn parse_nonempty(s: &str) -> Result<String, String> {
    match s.trim() {
        "" => Err("must not be empty".into()),
        t => Ok(t.to_owned()),
    }
}

impl FilterArgs {
    /// The filter at `now` (UTC), dates read in the business time zone `tz`.
    pub fn filter(&self, now: chrono::NaiveDateTime, tz: chrono_tz::Tz) -> Filter {
        Filter {
            check: self.check.map(|c| c.as_str().to_owned()),
            alert_type: self.alert_type.clone(),
            niveau: self.niveau,
            project: self.project.clone(),
            recipient: self.recipient.clone(),
            since: self.since.as_ref().map(|s| s.resolve(now, tz)),
            until: self.until.as_ref().map(|s| s.resolve(now, tz)),
            unread: self.unread,
            table: self.table,
            id: None,
        }
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Alerts recorded in the application's tables (any writer's), newest first, with where
    /// each one's mail stands
    List {
        #[command(flatten)]
        filter: FilterArgs,
        /// At most this many alerts (0: all)
        #[arg(long, default_value_t = 50, value_name = "N")]
        limit: u64,
    },
    /// One alert in full: the row, its ledger key and run, every mail of it, and why it exists
    Show {
        /// Alert id as `sigov alerts list` prints it: 91 (core_alerteprojet), n91 (a stage
        /// notification, core_notificationetape)
        #[arg(value_name = "ID", value_parser = parse_ref)]
        id: AlertRef,
        /// The table of a bare id: alert (the default) or notification
        #[arg(long, value_name = "TABLE", value_enum)]
        table: Option<Table>,
    },
    /// Queue a new mail for existing alerts (a new outbox row and Message-ID; the alert row is
    /// not duplicated), to the recipient's current address
    Resend {
        /// Alert ids as `sigov alerts list` prints them (91, n91)
        #[arg(value_name = "ID", required = true, value_parser = parse_ref)]
        ids: Vec<AlertRef>,
        /// The table of bare ids: alert (the default) or notification
        #[arg(long, value_name = "TABLE", value_enum)]
        table: Option<Table>,
        /// Say what would be queued; queue nothing
        #[arg(long, short = 'n')]
        dry_run: bool,
    },
}

/// An alert as `alerts list` prints its id: `91` (a project alert, or the table given with
/// `--table`), `n91` (a stage notification), `a91` (a project alert).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertRef {
    pub table: Option<Table>,
    pub id: i64,
}

impl AlertRef {
    /// Its table, with `--table` for a bare id; a prefix that contradicts `--table` is refused.
    pub(crate) fn table(self, flag: Option<Table>) -> Result<Table> {
        match (self.table, flag) {
            (Some(a), Some(b)) if a != b => crate::usage!(
                "alert id `{}{}` names {}, --table {}",
                if a == Table::Notification { "n" } else { "a" },
                self.id,
                a.sql_name(),
                b.sql_name()
            ),
            (Some(t), _) | (None, Some(t)) => Ok(t),
            (None, None) => Ok(Table::Alert),
        }
    }
}

pub(crate) fn parse_ref(s: &str) -> Result<AlertRef, String> {
    let t = s.trim();
    let (table, digits) = match t.chars().next() {
        Some('n' | 'N') => (Some(Table::Notification), &t[1..]),
        Some('a' | 'A') => (Some(Table::Alert), &t[1..]),
        _ => (None, t),
    };
    digits
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(|id| AlertRef { table, id })
        .ok_or_else(|| {
            format!("`{s}` is not an alert id as `sigov alerts list` prints it (91, or n91 for a stage notification)")
        })
}

pub fn run(ctx: &Ctx<'_>, cmd: &Command) -> Result<Exit> {
    let (cfg, out) = (&ctx.cfg, &ctx.out);
    let clock = ctx.clock()?;
    let mut db = ctx.db()?;
    match cmd {
        Command::List { filter, limit } => {
            let f = filter.filter(chrono::Utc::now().naive_utc(), cfg.rules.tz);
            let rows = alerts::list(&mut db, &f, *limit)?;
            let mails = alert_mail::with_mails(&mut db, &rows)?;
            out.alerts(&rows, &mails);
            Ok(Exit::Ok)
        }
        Command::Show { id: r, table } => {
            let (table, id) = (&r.table(*table)?, &r.id);
            let a = alerts::get(&mut db, *table, *id)?.ok_or_else(|| {
                crate::exit::UnknownValue(format!("no alert with id {id} in {}", table.sql_name()))
            })?;
            let mails = alert_mail::with_mails(&mut db, std::slice::from_ref(&a))?
                .pop()
                .unwrap_or_default();
            let run = match a.run_id {
                Some(run_id) => runs::list(
                    &mut db,
                    &runs::Filter {
                        id: Some(run_id),
                        ..Default::default()
                    },
                )?
                .into_iter()
                .next(),
                None => None,
            };
            let roles = alerts::roles(&mut db, &a)?;
            let why = explain::why(&a, &roles);
            let posted = alert_mail::channel_messages(&mut db, std::slice::from_ref(&a))?
                .pop()
                .unwrap_or_default();
            let holds = match a.alert_key.as_deref() {
                Some(key) => match crate::ack::about(&mut db, key)? {
                    Some((about, _)) => crate::ack::of_alert(&mut db, &about)?,
                    None => Vec::new(),
                },
                None => Vec::new(),
            };
            let around = Around {
                posted: &posted,
                holds: &holds,
                today: clock.today,
            };
            out.alert_detail(&a, &mails, &around, run.as_ref(), &why);
            Ok(Exit::Ok)
        }
        Command::Resend {
            ids,
            table,
            dry_run,
        } => {
            // Ids of both tables may be given together: each table's in one go.
            let mut done = Vec::new();
            for t in Table::BOTH {
                let of: Vec<i64> = ids
                    .iter()
                    .map(|r| Ok((r.table(*table)?, r.id)))
                    .collect::<Result<Vec<_>>>()?
                    .into_iter()
                    .filter(|(tt, _)| *tt == t)
                    .map(|(_, id)| id)
                    .collect();
                if !of.is_empty() {
                    done.extend(resend::resend(&mut db, t, &of, clock.current(), *dry_run)?);
                }
            }
            out.resent(&done, *dry_run);
            Ok(Exit::Ok)
        }
    }
}

/// What `alerts show` tells besides the alert's own mail: its channel messages, and the
/// acknowledgements and snoozes of it (their state on business day `today`).
pub struct Around<'a> {
    pub posted: &'a [MailRow],
    pub holds: &'a [crate::ack::AckRow],
    pub today: chrono::NaiveDate,
}

fn alert_json(a: &AlertRow, mails: &[MailRow]) -> serde_json::Value {
    let mut v = serde_json::to_value(a).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("table".into(), json!(a.table().name()));
        o.insert("unread".into(), json!(a.unread()));
        o.insert("from_sigov".into(), json!(a.from_sigov()));
        o.insert("recipient".into(), json!(a.recipient()));
        o.insert("mail".into(), json!(alert_mail::mail_status(a, mails)));
    }
    v
}

impl Out<'_> {
    /// Where an alert's mail stands, its time in the output's zone.
    fn mail_cell(&self, s: &alert_mail::MailStatus) -> String {
        match s {
            alert_mail::MailStatus::Sent { at, .. } => format!("sent {}", self.time_short(at)),
            other => other.cell(),
        }
    }

    pub fn alerts(&self, rows: &[AlertRow], mails: &[Vec<MailRow>]) {
        if self.format == Format::Json {
            let items: Vec<_> = rows
                .iter()
                .zip(mails)
                .map(|(a, m)| alert_json(a, m))
                .collect();
            self.json(&items);
            return;
        }
        if self.quiet {
            return;
        }
        if rows.is_empty() {
            crate::outln!(self, "no alert matches");
            return;
        }
        let cells: Vec<Vec<String>> = rows
            .iter()
            .zip(mails)
            .map(|(a, m)| {
                vec![
                    match a.table() {
                        Table::Alert => a.id.to_string(),
                        Table::Notification => format!("n{}", a.id),
                    },
                    a.date_creation
                        .as_deref()
                        .map(|t| self.time_short(t))
                        .unwrap_or_else(|| "-".to_owned()),
                    a.typ.clone(),
                    a.niveau.clone().unwrap_or_else(|| "-".into()),
                    if a.unread() { "unread" } else { "read" }.to_owned(),
                    a.recipient(),
                    a.projet_nom.clone().unwrap_or_else(|| "-".into()),
                    a.titre.clone(),
                    self.mail_cell(&alert_mail::mail_status(a, m)),
                ]
            })
            .collect();
        self.table_fit(
            &[
                "id",
                &format!("created ({})", self.zone_abbreviation()),
                "type",
                "niveau",
                "read",
                "to",
                "project",
                "title",
                "mail",
            ],
            &cells,
            &[0],
            36,
            &[2, 5, 6, 7, 8],
        );
        if rows.iter().any(|a| a.table() == Table::Notification) {
            crate::outln!(
                self,
                "(nID: a stage notification: `sigov alerts show --table notification ID`)"
            );
        }
    }

    pub fn alert_detail(
        &self,
        a: &AlertRow,
        mails: &[MailRow],
        around: &Around<'_>,
        run: Option<&RunRow>,
        why: &Why,
    ) {
        let (posted, holds, today) = (around.posted, around.holds, around.today);
        if self.format == Format::Json {
            let mut v = alert_json(a, mails);
            if let Some(o) = v.as_object_mut() {
                o.insert("message".into(), json!(a.message));
                o.insert(
                    "donnees_contexte".into(),
                    a.contexte
                        .as_deref()
                        .and_then(|c| serde_json::from_str(c).ok())
                        .unwrap_or(serde_json::Value::Null),
                );
                o.insert("mails".into(), json!(mails));
                o.insert("channel_messages".into(), json!(posted));
                let holds: Vec<_> = holds
                    .iter()
                    .map(|h| {
                        let mut v = json!(h);
                        if let Some(o) = v.as_object_mut() {
                            o.insert("state".into(), json!(h.state(today)));
                        }
                        v
                    })
                    .collect();
                o.insert("holds".into(), json!(holds));
                o.insert(
                    "run".into(),
                    run.map(|r| json!({"id": r.id, "check": r.check_name, "status": r.status, "started_at": r.started_at, "host": r.host}))
                        .unwrap_or(serde_json::Value::Null),
                );
                o.insert(
                    "why".into(),
                    json!({"rule": why.rule, "facts": why.facts.iter().map(|(k, v)| json!({"fact": k, "value": v})).collect::<Vec<_>>()}),
                );
            }
            self.json(&v);
            return;
        }
        if self.quiet {
            return;
        }
        let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        crate::outln!(
            self,
            "{} #{} ({}): {}",
            match a.table() {
                Table::Alert => "alert",
                Table::Notification => "stage notification",
            },
            a.id,
            a.table().sql_name(),
            crate::strings::one_line(&a.titre)
        );
        crate::outln!(self, "  type             {}", a.typ);
        if let Some(n) = &a.niveau {
            crate::outln!(self, "  niveau           {n}");
        }
        crate::outln!(
            self,
            "  created          {}",
            a.date_creation
                .as_deref()
                .map(|t| self.time(t))
                .unwrap_or_else(|| "-".to_owned())
        );
        crate::outln!(
            self,
            "  read             {}",
            if a.unread() {
                "no".to_owned()
            } else {
                format!(
                    "yes, {}",
                    a.date_lecture
                        .as_deref()
                        .map(crate::clock::to_seconds)
                        .unwrap_or("-")
                )
            }
        );
        crate::outln!(
            self,
            "  recipient        {} <{}>",
            a.recipient(),
            opt(&a.recipient_email)
        );
        crate::outln!(
            self,
            "  project          {} ({})",
            opt(&a.projet_nom),
            opt(&a.projet_id)
        );
        if let Some(e) = &a.etape_id {
            crate::outln!(self, "  stage            {e}");
        }
        crate::outln!(
            self,
            "  message          {}",
            crate::strings::one_line(&a.message)
        );
        match &a.alert_key {
            Some(k) => {
                crate::outln!(self, "  ledger key       {k}");
                crate::outln!(self, "  check            {}", opt(&a.check_name));
                match run {
                    Some(r) => crate::outln!(
                        self,
                        "  run              #{} ({}, started {} on {})",
                        r.id,
                        r.status,
                        self.at(r.started_at),
                        r.host
                    ),
                    None => crate::outln!(
                        self,
                        "  run              {}",
                        a.run_id
                            .map(|id| format!("#{id} (purged from the history)"))
                            .unwrap_or_else(|| "-".into())
                    ),
                }
            }
            None => crate::outln!(
                self,
                "  ledger key       none: not from sigov (written by the web application or Django)"
            ),
        }
        crate::outln!(self, "  why              {}", why.rule);
        if holds.is_empty() {
            crate::outln!(self, "  held             no (sigov ack, sigov snooze)");
        }
        for h in holds {
            let what = match (h.kind(), h.until_date) {
                (crate::rules::HoldKind::Snooze, Some(d)) => format!("snoozed until {d}"),
                _ => "acknowledged".to_owned(),
            };
            crate::outln!(
                self,
                "  held             #{} {what} by {} ({}) {}: {}{}",
                h.id,
                h.by_user,
                h.how,
                self.at(h.created_at),
                h.state(today),
                h.note
                    .as_deref()
                    .map(|n| format!("; note: {n}"))
                    .unwrap_or_default()
            );
        }
        for (k, v) in &why.facts {
            crate::outln!(self, "    {k:<30} {v}");
        }
        crate::outln!(
            self,
            "  mail             {}",
            self.mail_cell(&alert_mail::mail_status(a, mails))
        );
        for m in mails {
            crate::outln!(
                self,
                "    outbox #{}{}: {} to {}, {} attempt(s), queued {}, {}",
                m.id,
                if m.resent() { " (resent)" } else { "" },
                m.state,
                m.recipient_email,
                m.attempts,
                self.at(m.created_at),
                self.outbox_fate(m)
            );
            if let Some(id) = &m.message_id {
                crate::outln!(self, "      Message-ID   {id}");
            }
            if let Some(r) = &m.last_response {
                crate::outln!(self, "      relay said   {}", crate::strings::one_line(r));
            }
            if let Some(e) = &m.last_error {
                crate::outln!(self, "      last error   {}", crate::strings::one_line(e));
            }
        }
        crate::outln!(
            self,
            "  channels         {}",
            if posted.is_empty() {
                "none".to_owned()
            } else {
                format!("{} message(s)", posted.len())
            }
        );
        for m in posted {
            crate::outln!(
                self,
                "    outbox #{}: {} to channel {}, {} attempt(s), queued {}, {}",
                m.id,
                m.state,
                m.channel,
                m.attempts,
                self.at(m.created_at),
                self.outbox_fate(m)
            );
            if let Some(id) = &m.message_id {
                crate::outln!(self, "      delivery key {id}");
            }
            if let Some(r) = &m.last_response {
                crate::outln!(self, "      service said {}", crate::strings::one_line(r));
            }
            if let Some(e) = &m.last_error {
                crate::outln!(self, "      last error   {}", crate::strings::one_line(e));
            }
        }
    }

    /// What became of an outbox row, or what comes next.
    fn outbox_fate(&self, m: &MailRow) -> String {
        use crate::states::MailState;
        match (m.sent_at, m.state) {
            (Some(s), _) => format!("sent {}", self.at(s)),
            (None, MailState::Dead) => "given up".to_owned(),
            (None, MailState::Unconfirmed) => {
                "set aside: handed over without an answer, it may have arrived".to_owned()
            }
            (None, _) => format!("next attempt {}", self.at(m.next_attempt_at)),
        }
    }

    pub fn resent(&self, done: &[Resent], dry_run: bool) {
        if self.format == Format::Json {
            self.json(&json!({"dry_run": dry_run, "mails": done}));
            return;
        }
        if !self.chatty() && !dry_run {
            return;
        }
        for r in done {
            match r.outbox_id {
                Some(id) => crate::outln!(
                    self,
                    "{} {}: mail queued to {} (outbox #{id}; `sigov mail flush` sends it now)",
                    r.table.name(),
                    r.alert_id,
                    r.to
                ),
                None => crate::outln!(
                    self,
                    "{} {}: would queue a mail to {} (dry run: nothing queued)",
                    r.table.name(),
                    r.alert_id,
                    r.to
                ),
            }
        }
    }
}

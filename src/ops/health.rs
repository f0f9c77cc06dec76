//! `sigov health`: is the alerting alive? Per check, the last successful run and its age
//! against a maximum; the outbox backlog, its oldest pending mail and dead mail; the database
//! reachable with no pending migration. Reported as text, JSON, or a Nagios plugin line.

use crate::db::Db;
use anyhow::Result;
use chrono::NaiveDateTime;

use Settings as HealthCfg;

/// What `sigov health` expects (`health.*`; `config` builds it).
#[derive(Debug, Clone)]
pub struct Settings {
    pub checks: Vec<crate::checks::registry::CheckName>,
    /// Each check's expected schedule (`health.schedule.NAME`); none: judged by age alone.
    pub schedules: std::collections::BTreeMap<crate::checks::registry::CheckName, Schedule>,
    pub grace_minutes: u32,
    pub max_age_minutes: u32,
    pub critical_age_minutes: u32,
    pub mail_delay_minutes: u32,
    /// Mail waiting for the send window is not late.
    pub mail_window: Option<crate::rules::calendar::MailWindow>,
    /// The business time zone: schedules are read in it.
    pub tz: chrono_tz::Tz,
}

/// When a check is expected to run: a cron expression (croner: the five POSIX fields), in the
/// business time zone, daylight saving time included.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub spec: String,
    cron: croner::Cron,
}

impl Schedule {
    /// Parses `spec`; the error says what is wrong with it.
    pub fn parse(spec: &str) -> Result<Schedule> {
        use std::str::FromStr;
        let cron = croner::Cron::from_str(spec.trim())
            .map_err(|e| anyhow::anyhow!("`{spec}` is not a cron expression (minute hour day-of-month month day-of-week, as in crontab): {e}"))?;
        let s = Schedule {
            spec: spec.trim().to_owned(),
            cron,
        };
        // A schedule that never fires (30 February) would make every run look late.
        let from = chrono::NaiveDate::from_ymd_opt(2000, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .unwrap_or_default();
        if s.next_after(from, chrono_tz::UTC).is_none() {
            anyhow::bail!("`{spec}` never fires");
        }
        Ok(s)
    }

    /// The first run due strictly after `t` (UTC), as UTC.
    pub fn next_after(&self, t: NaiveDateTime, tz: chrono_tz::Tz) -> Option<NaiveDateTime> {
        let local = t.and_utc().with_timezone(&tz);
        self.cron
            .find_next_occurrence(&local, false)
            .ok()
            .map(|d| d.naive_utc())
    }
}

/// Where a scheduled check stands at `now`: the run due after its last success (`started`,
/// UTC), the one after that, and how late the first is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    pub next: NaiveDateTime,
    pub after_next: NaiveDateTime,
    /// Seconds past `next` (0 while it is not yet due).
    pub late_secs: i64,
    pub level: Level,
}

/// WARNING once the run due after the last success is more than `grace` late, CRITICAL once
/// the run after it is too.
pub fn due(
    s: &Schedule,
    tz: chrono_tz::Tz,
    started: NaiveDateTime,
    now: NaiveDateTime,
    grace_secs: i64,
) -> Option<Due> {
    let next = s.next_after(started, tz)?;
    let after_next = s.next_after(next, tz)?;
    let grace = chrono::Duration::seconds(grace_secs);
    let level = if now > after_next + grace {
        Level::Critical
    } else if now > next + grace {
        Level::Warning
    } else {
        Level::Ok
    };
    Some(Due {
        next,
        after_next,
        late_secs: (now - next).num_seconds().max(0),
        level,
    })
}

/// Nagios levels; the discriminant is the plugin exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok = 0,
    Warning = 1,
    Critical = 2,
    Unknown = 3,
}

impl Level {
    pub fn word(self) -> &'static str {
        match self {
            Level::Ok => "OK",
            Level::Warning => "WARNING",
            Level::Critical => "CRITICAL",
            Level::Unknown => "UNKNOWN",
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct LastRun {
    pub id: i64,
    pub status: crate::states::RunStatus,
    pub error: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct CheckHealth {
    pub check: &'static str,
    pub status: Level,
    /// When the last successful run finished (UTC).
    pub last_success: Option<String>,
    pub age_secs: Option<i64>,
    pub warning_secs: i64,
    pub critical_secs: i64,
    /// The expected schedule (a cron expression), when the check has one.
    pub schedule: Option<String>,
    /// The run due after the last success (UTC), and how late it is (0: not yet due).
    pub next_due: Option<String>,
    pub late_secs: Option<i64>,
    pub last_run: Option<LastRun>,
    /// A run of the check holds its lock now.
    pub running: bool,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Outbox {
    pub pending: i64,
    pub sending: i64,
    pub failed: i64,
    pub dead: i64,
    /// Handed over twice without the relay's answer: set aside until an operator requeues it.
    pub unconfirmed: i64,
    pub sent: i64,
    /// Creation time (UTC) of the oldest mail never yet accepted by a relay attempt.
    pub oldest_pending: Option<String>,
    pub oldest_pending_age_secs: Option<i64>,
    /// The send window is closed now: mail waits until then (UTC).
    pub held_until: Option<String>,
    /// The last delivery (UTC).
    pub last_sent: Option<String>,
    /// Each channel's messages (the mail lane only), by channel name.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub channels: std::collections::BTreeMap<String, Outbox>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Database {
    pub url: String,
    pub reachable: bool,
    pub pending_migrations: Vec<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Health {
    pub status: Level,
    /// One line: the problems, or what is fine.
    pub summary: String,
    pub problems: Vec<String>,
    pub database: Database,
    pub checks: Vec<CheckHealth>,
    pub outbox: Option<Outbox>,
}

/// "3h 05m", "12m", "40s".
pub fn human_age(secs: i64) -> String {
    let s = secs.max(0);
    if s >= 86_400 {
        format!("{}d {:02}h", s / 86_400, (s % 86_400) / 3_600)
    } else if s >= 3_600 {
        format!("{}h {:02}m", s / 3_600, (s % 3_600) / 60)
    } else if s >= 60 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// Gathers health from the database at `url`. Never fails: an unreachable database or an
/// unreadable table is itself the finding (CRITICAL).
pub fn gather(url: &str, cfg: &HealthCfg, now: NaiveDateTime) -> Health {
    let shown = crate::db::DbUrl::parse(url)
        .map(|u| u.redacted())
        .unwrap_or_else(|_| "(invalid URL)".to_owned());
    let mut database = Database {
        url: shown,
        reachable: false,
        pending_migrations: Vec::new(),
        error: None,
    };
    let mut db = match Db::connect(url) {
        Ok(db) => db,
        Err(e) => {
            let msg = crate::strings::one_line(&format!("{e:#}"));
            database.error = Some(msg.clone());
            return finish(database, Vec::new(), None, vec![(Level::Critical, msg)]);
        }
    };
    database.reachable = true;
    match crate::db::migrate::pending(&mut db) {
        Ok(p) => database.pending_migrations = p,
        Err(e) => {
            let msg = crate::strings::one_line(&format!("{e:#}"));
            database.error = Some(msg.clone());
            return finish(database, Vec::new(), None, vec![(Level::Critical, msg)]);
        }
    }
    if !database.pending_migrations.is_empty() {
        let msg = format!(
            "{} pending migration(s): checks refuse to run (sigov db migrate)",
            database.pending_migrations.len()
        );
        return finish(database, Vec::new(), None, vec![(Level::Critical, msg)]);
    }
    match read(&mut db, cfg, now) {
        Ok((checks, outbox, problems)) => finish(database, checks, Some(outbox), problems),
        Err(e) => {
            let msg = crate::strings::one_line(&format!("{e:#}"));
            database.error = Some(msg.clone());
            finish(database, Vec::new(), None, vec![(Level::Critical, msg)])
        }
    }
}

type Findings = (Vec<CheckHealth>, Outbox, Vec<(Level, String)>);

fn read(db: &mut Db, cfg: &HealthCfg, now: NaiveDateTime) -> Result<Findings> {
    let rows = super::runs::last_per_check(db)?;
    let running: Vec<String> = super::lock::held(db)?
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let mut problems = Vec::new();
    let mut checks = Vec::new();
    let warn = i64::from(cfg.max_age_minutes) * 60;
    let crit = i64::from(cfg.critical_age_minutes) * 60;
    let grace = i64::from(cfg.grace_minutes) * 60;
    for name in &cfg.checks {
        let row = rows.iter().find(|r| r.check_name == name.as_str());
        let last_success = row.and_then(|r| r.last_success);
        let age = last_success.map(|t| (now - t).num_seconds());
        let last_run = row.map(|r| LastRun {
            id: r.id,
            status: r.status,
            error: r.error.as_deref().map(crate::strings::one_line),
        });
        let is_running = running.contains(&super::lock::check_lock(name.as_str()));
        let mut level = Level::Ok;
        let started = row.and_then(|r| r.last_success_started);
        let schedule = cfg.schedules.get(name);
        let mut next_due = None;
        let mut late_secs = None;
        match (age, schedule) {
            (None, _) => {
                level = Level::Warning;
                problems.push((level, format!("{}: never succeeded", name.as_str())));
            }
            (Some(_), Some(s)) => {
                if let Some(d) = started.and_then(|t| due(s, cfg.tz, t, now, grace)) {
                    next_due = Some(crate::clock::format_datetime(d.next));
                    late_secs = Some(d.late_secs);
                    level = d.level;
                    if d.level != Level::Ok {
                        let missed = if d.level == Level::Critical {
                            "runs"
                        } else {
                            "run"
                        };
                        problems.push((
                            d.level,
                            format!(
                                "{}: {missed} due {} missed ({} late; schedule `{}`)",
                                name.as_str(),
                                crate::clock::to_seconds(&crate::clock::format_datetime(d.next)),
                                human_age(d.late_secs),
                                s.spec
                            ),
                        ));
                    }
                }
            }
            (Some(a), None) if a > crit => {
                level = Level::Critical;
                problems.push((
                    level,
                    format!(
                        "{}: last success {} ago (critical after {})",
                        name.as_str(),
                        human_age(a),
                        human_age(crit)
                    ),
                ));
            }
            (Some(a), None) if a > warn => {
                level = Level::Warning;
                problems.push((
                    level,
                    format!(
                        "{}: last success {} ago (max {})",
                        name.as_str(),
                        human_age(a),
                        human_age(warn)
                    ),
                ));
            }
            (Some(_), None) => {}
        }
        if let Some(r) = last_run
            .as_ref()
            .filter(|r| r.status == crate::states::RunStatus::Failed)
        {
            level = level.max(Level::Warning);
            problems.push((
                Level::Warning,
                format!(
                    "{}: last run #{} failed: {}",
                    name.as_str(),
                    r.id,
                    r.error.as_deref().unwrap_or("no error recorded")
                ),
            ));
        }
        checks.push(CheckHealth {
            check: name.as_str(),
            status: level,
            last_success: last_success.map(crate::clock::format_datetime),
            age_secs: age,
            warning_secs: warn,
            critical_secs: crit,
            schedule: schedule.map(|s| s.spec.clone()),
            next_due,
            late_secs,
            last_run,
            running: is_running,
        });
    }
    let counts = crate::mail::outbox::counts(db)?;
    let mut outbox = lane(counts.iter().filter(|c| c.is_mail()), cfg, now);
    lane_problems(&outbox, None, cfg, &mut problems);
    for c in counts.iter().filter(|c| !c.is_mail()) {
        if outbox.channels.contains_key(&c.channel) {
            continue;
        }
        let o = lane(counts.iter().filter(|x| x.channel == c.channel), cfg, now);
        lane_problems(&o, Some(&c.channel), cfg, &mut problems);
        outbox.channels.insert(c.channel.clone(), o);
    }
    Ok((checks, outbox, problems))
}

/// One lane of the outbox (mail, or a channel's messages) from its counts by state.
fn lane<'a>(
    counts: impl Iterator<Item = &'a crate::mail::outbox::StateCount>,
    cfg: &HealthCfg,
    now: NaiveDateTime,
) -> Outbox {
    let mut o = Outbox::default();
    let mut oldest_pending = None;
    let mut last_sent = None;
    for c in counts {
        match c.state.as_str() {
            "pending" => {
                o.pending = c.n;
                oldest_pending = c.oldest;
                o.oldest_pending = c.oldest.map(crate::clock::format_datetime);
            }
            "sending" => o.sending = c.n,
            "failed" => o.failed = c.n,
            "dead" => o.dead = c.n,
            "unconfirmed" => o.unconfirmed = c.n,
            "sent" => o.sent = c.n,
            _ => {}
        }
        last_sent = last_sent.max(c.last_sent);
    }
    o.last_sent = last_sent.map(crate::clock::format_datetime);
    // Waiting for the send window is no delay: with quiet hours, a message is late from the
    // later of its queueing and the opening of the window open now, and never while it is
    // closed (channels keep the same hours as mail).
    o.oldest_pending_age_secs = oldest_pending
        .and_then(|t| match &cfg.mail_window {
            None => Some(t),
            Some(w) => w.delayed_since(t, now),
        })
        .map(|t| (now - t).num_seconds());
    if let Some(w) = &cfg.mail_window {
        o.held_until = w.held_until_text(now);
    }
    o
}

/// What is wrong with a lane: a pending message older than `mail.max_delay_minutes`, dead or
/// unconfirmed messages. `channel`: the lane's channel, `None` for mail.
fn lane_problems(
    o: &Outbox,
    channel: Option<&str>,
    cfg: &HealthCfg,
    problems: &mut Vec<(Level, String)>,
) {
    let (who, what, peer, look) = match channel {
        None => (String::new(), "mail(s)", "the relay", String::new()),
        Some(c) => (
            format!("channel {c}: "),
            "message(s)",
            "the service",
            "sigov channels list; ".to_owned(),
        ),
    };
    let delay = i64::from(cfg.mail_delay_minutes) * 60;
    if let Some(a) = o.oldest_pending_age_secs.filter(|a| *a > delay) {
        problems.push((
            Level::Warning,
            format!(
                "{who}{} {what} pending, the oldest for {} (max {}): is {peer} reachable? ({look}sigov mail flush)",
                o.pending,
                human_age(a),
                human_age(delay)
            ),
        ));
    }
    if o.dead > 0 {
        problems.push((
            Level::Warning,
            format!(
                "{who}{} dead {what} (sigov mail queue --state dead; sigov mail retry)",
                o.dead
            ),
        ));
    }
    if o.unconfirmed > 0 {
        problems.push((
            Level::Warning,
            format!(
                "{who}{} unconfirmed {what}: {peer} took them twice without answering; they may have arrived (sigov mail queue --state unconfirmed; sigov mail retry --unconfirmed)",
                o.unconfirmed
            ),
        ));
    }
}

fn finish(
    database: Database,
    checks: Vec<CheckHealth>,
    outbox: Option<Outbox>,
    problems: Vec<(Level, String)>,
) -> Health {
    let status = problems.iter().map(|p| p.0).max().unwrap_or(Level::Ok);
    let summary = if problems.is_empty() {
        let backlog = outbox.as_ref().map(|o| o.pending + o.failed).unwrap_or(0);
        let channels = match outbox.as_ref().map(|o| &o.channels) {
            Some(c) if !c.is_empty() => format!(
                "; {} channel(s), backlog {}",
                c.len(),
                c.values().map(|o| o.pending + o.failed).sum::<i64>()
            ),
            _ => String::new(),
        };
        format!(
            "{} check(s) on schedule; outbox backlog {backlog}, no dead or unconfirmed mail{channels}",
            checks.len()
        )
    } else {
        // Worst first.
        let mut p = problems.clone();
        p.sort_by_key(|x| std::cmp::Reverse(x.0));
        p.iter()
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    };
    Health {
        status,
        summary,
        problems: problems.into_iter().map(|(_, m)| m).collect(),
        database,
        checks,
        outbox,
    }
}

impl Health {
    /// The Nagios plugin output: a first line under 100 characters (`SIGOV WARNING - 1 of 6
    /// checks late | problems=1;1;;0`), then each problem on a line of its own (the plugin API's
    /// long text), then the rest of the performance data after a `|`.
    pub fn nagios_text(&self) -> String {
        let mut perf = Vec::new();
        for c in &self.checks {
            let v = c
                .late_secs
                .or(c.age_secs)
                .map(|a| format!("{a}s"))
                .unwrap_or_else(|| "U".to_owned());
            let (w, cr) = if c.schedule.is_some() {
                (String::new(), String::new())
            } else {
                (c.warning_secs.to_string(), c.critical_secs.to_string())
            };
            let what = if c.schedule.is_some() { "late" } else { "age" };
            perf.push(format!("{}_{what}={v};{w};{cr};0", c.check));
        }
        if let Some(o) = &self.outbox {
            perf.push(format!("outbox_backlog={};;;0", o.pending + o.failed));
            perf.push(format!("outbox_dead={};1;;0", o.dead));
            perf.push(format!("outbox_unconfirmed={};1;;0", o.unconfirmed));
            perf.push(format!(
                "oldest_pending_age={}s;;;0",
                o.oldest_pending_age_secs.unwrap_or(0).max(0)
            ));
            for (name, c) in &o.channels {
                // Perfdata labels: the channel's name is letters, digits, `_` and `-`.
                perf.push(format!(
                    "channel_{name}_backlog={};;;0",
                    c.pending + c.failed
                ));
                perf.push(format!("channel_{name}_dead={};1;;0", c.dead));
                perf.push(format!("channel_{name}_unconfirmed={};1;;0", c.unconfirmed));
            }
        }
        let late = self.checks.iter().filter(|c| c.status != Level::Ok).count();
        let short = if self.checks.is_empty() && !self.problems.is_empty() {
            // The database itself (unreachable, pending migrations): its first words.
            let p = &self.problems[0];
            if p.chars().count() > 60 {
                format!("{}…", p.chars().take(59).collect::<String>())
            } else {
                p.clone()
            }
        } else if self.problems.is_empty() {
            format!("{} check(s) on schedule, mail flowing", self.checks.len())
        } else if late > 0 {
            format!(
                "{late} of {} check(s) late, {} problem(s)",
                self.checks.len(),
                self.problems.len()
            )
        } else {
            format!("{} problem(s)", self.problems.len())
        };
        let head = format!(
            "SIGOV {} - {short} | problems={};1;;0",
            self.status.word(),
            self.problems.len()
        );
        let mut lines = vec![head];
        lines.extend(self.problems.iter().cloned());
        if !perf.is_empty() {
            lines.push(format!("| {}", perf.join(" ")));
        }
        lines.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scheduled_check_is_late_after_its_grace_and_critical_after_the_next_run() {
        let tz: chrono_tz::Tz = "Europe/Paris".parse().unwrap();
        let at = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        let hour = 3600;
        // Every 4 hours, Paris (UTC+1 in December): a success at 08:05 Paris (07:05 UTC).
        let every4 = Schedule::parse("0 */4 * * *").unwrap();
        let d = due(
            &every4,
            tz,
            at("2026-12-14 07:05"),
            at("2026-12-14 11:30"),
            hour,
        )
        .unwrap();
        assert_eq!(d.next, at("2026-12-14 11:00"));
        assert_eq!((d.level, d.late_secs), (Level::Ok, 1800));
        let d = due(
            &every4,
            tz,
            at("2026-12-14 07:05"),
            at("2026-12-14 12:01"),
            hour,
        )
        .unwrap();
        assert_eq!(d.level, Level::Warning);
        let d = due(
            &every4,
            tz,
            at("2026-12-14 07:05"),
            at("2026-12-14 16:01"),
            hour,
        )
        .unwrap();
        assert_eq!(d.level, Level::Critical);
        // Working-day mornings: Friday's run covers the weekend; Monday 08:31 Paris is late.
        let mornings = Schedule::parse("30 7 * * 1-5").unwrap();
        let fri = at("2026-12-11 06:30");
        let sun = due(&mornings, tz, fri, at("2026-12-13 20:00"), hour).unwrap();
        assert_eq!((sun.level, sun.next), (Level::Ok, at("2026-12-14 06:30")));
        let mon = due(&mornings, tz, fri, at("2026-12-14 07:31"), hour).unwrap();
        assert_eq!(mon.level, Level::Warning);
        // Daylight saving time: on 29 March 2026 Paris moves to UTC+2; 08:00 Paris is 06:00 UTC.
        let daily = Schedule::parse("0 8 * * *").unwrap();
        let d = due(
            &daily,
            tz,
            at("2026-03-28 07:00"),
            at("2026-03-29 06:30"),
            hour,
        )
        .unwrap();
        assert_eq!(d.next, at("2026-03-29 06:00"));
        assert!(Schedule::parse("every 4 hours").is_err());
    }

    #[test]
    fn ages_read_well() {
        assert_eq!(human_age(40), "40s");
        assert_eq!(human_age(12 * 60 + 5), "12m");
        assert_eq!(human_age(3 * 3600 + 5 * 60), "3h 05m");
        assert_eq!(human_age(2 * 86_400 + 3 * 3600), "2d 03h");
    }
}

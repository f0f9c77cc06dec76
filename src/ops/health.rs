//! `sigov health`: is the alerting alive? Per check, the last successful run and its age
//! against a maximum; the outbox backlog, its oldest pending mail and dead mail; the database
//! reachable with no pending migration. Reported as text, JSON, or a Nagios plugin line.

use crate::clock::parse_stored_datetime;
use crate::db::Db;
use anyhow::Result;
use chrono::NaiveDateTime;

use Settings as HealthCfg;

/// What `sigov health` expects (`health.*`; `config` builds it).
#[derive(Debug, Clone)]
pub struct Settings {
    pub checks: Vec<crate::checks::CheckName>,
    pub max_age_minutes: u32,
    pub critical_age_minutes: u32,
    pub mail_delay_minutes: u32,
    /// Mail waiting for the send window is not late.
    pub mail_window: Option<crate::rules::calendar::MailWindow>,
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
    for name in &cfg.checks {
        let row = rows.iter().find(|r| r.check_name == name.as_str());
        let last_success = row.and_then(|r| r.last_success.clone());
        let age = last_success
            .as_deref()
            .and_then(parse_stored_datetime)
            .map(|t| (now - t).num_seconds());
        let last_run = row.map(|r| LastRun {
            id: r.id,
            status: r.status,
            error: r.error.as_deref().map(crate::strings::one_line),
        });
        let is_running = running.contains(&super::lock::check_lock(name.as_str()));
        let mut level = Level::Ok;
        match age {
            None => {
                level = Level::Warning;
                problems.push((level, format!("{}: never succeeded", name.as_str())));
            }
            Some(a) if a > crit => {
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
            Some(a) if a > warn => {
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
            Some(_) => {}
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
            last_success,
            age_secs: age,
            warning_secs: warn,
            critical_secs: crit,
            last_run,
            running: is_running,
        });
    }
    let mut outbox = Outbox::default();
    for (state, n, oldest) in crate::mail::outbox::counts(db)? {
        match state.as_str() {
            "pending" => {
                outbox.pending = n;
                outbox.oldest_pending = oldest;
            }
            "sending" => outbox.sending = n,
            "failed" => outbox.failed = n,
            "dead" => outbox.dead = n,
            "unconfirmed" => outbox.unconfirmed = n,
            "sent" => outbox.sent = n,
            _ => {}
        }
    }
    // Waiting for the send window is no delay: with quiet hours, a mail is late from the later
    // of its queueing and the opening of the window open now, and never while it is closed.
    outbox.oldest_pending_age_secs = outbox
        .oldest_pending
        .as_deref()
        .and_then(parse_stored_datetime)
        .and_then(|t| match &cfg.mail_window {
            None => Some(t),
            Some(w) => w.delayed_since(t, now),
        })
        .map(|t| (now - t).num_seconds());
    if let Some(w) = &cfg.mail_window {
        outbox.held_until = w.held_until_text(now);
    }
    let delay = i64::from(cfg.mail_delay_minutes) * 60;
    if let Some(a) = outbox.oldest_pending_age_secs.filter(|a| *a > delay) {
        problems.push((
            Level::Warning,
            format!(
                "{} mail(s) pending, the oldest for {} (max {}): is the relay reachable? (sigov mail flush)",
                outbox.pending,
                human_age(a),
                human_age(delay)
            ),
        ));
    }
    if outbox.dead > 0 {
        problems.push((
            Level::Warning,
            format!(
                "{} dead mail(s) (sigov mail queue --state dead; sigov mail retry)",
                outbox.dead
            ),
        ));
    }
    if outbox.unconfirmed > 0 {
        problems.push((
            Level::Warning,
            format!(
                "{} unconfirmed mail(s): the relay took them twice without answering; they may have arrived (sigov mail queue --state unconfirmed; sigov mail retry --unconfirmed)",
                outbox.unconfirmed
            ),
        ));
    }
    Ok((checks, outbox, problems))
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
        format!(
            "{} check(s) succeeded within their maximum age; outbox backlog {backlog}, no dead mail",
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
    /// The Nagios plugin line: `SIGOV WARNING - summary | perfdata`.
    pub fn nagios_line(&self) -> String {
        let mut perf = Vec::new();
        for c in &self.checks {
            let v = c
                .age_secs
                .map(|a| format!("{a}s"))
                .unwrap_or_else(|| "U".to_owned());
            perf.push(format!(
                "{}_age={v};{};{};0",
                c.check, c.warning_secs, c.critical_secs
            ));
        }
        if let Some(o) = &self.outbox {
            perf.push(format!("outbox_backlog={};;;0", o.pending + o.failed));
            perf.push(format!("outbox_dead={};1;;0", o.dead));
            perf.push(format!("outbox_unconfirmed={};1;;0", o.unconfirmed));
            perf.push(format!(
                "oldest_pending_age={}s;;;0",
                o.oldest_pending_age_secs.unwrap_or(0).max(0)
            ));
        }
        let line = format!("SIGOV {} - {}", self.status.word(), self.summary);
        if perf.is_empty() {
            line
        } else {
            format!("{line} | {}", perf.join(" "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_well() {
        assert_eq!(human_age(40), "40s");
        assert_eq!(human_age(12 * 60 + 5), "12m");
        assert_eq!(human_age(3 * 3600 + 5 * 60), "3h 05m");
        assert_eq!(human_age(2 * 86_400 + 3 * 3600), "2d 03h");
    }
}

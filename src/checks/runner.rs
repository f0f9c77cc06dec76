//! One check run, whatever the check: the lock, the run record, the candidate pages (each
//! de-duplicated against what was recorded, evaluated, written), the delivery, the report.
//! A check supplies its SQL and rule through [`super::check::Execute`]; the mechanics are here,
//! in one [`Runner`] value per command.

use super::registry::{CheckName, Sections};
use super::run::Run;
pub use super::run::{AlertLine, Options};
use crate::clock::Clock;
use crate::db::Db;
use crate::ops::lock::{self, Acquired, Lease};
use crate::ops::runs;
use crate::rules::{Counters, Rules};
use crate::source;
use crate::states::ReportStatus;
use anyhow::Result;
use chrono::NaiveDate;

/// What a run needs of the configuration (`Config::checks` lends it).
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    /// The rule settings (the profile applied).
    pub rules: &'a Rules,
    /// Candidates per page (`check.page_size`).
    pub page_size: u32,
    /// Alerts a slice of a page is sized to give (`check.slice_alerts`).
    pub slice_alerts: u32,
    /// Projects up to which the run holds its directory and teams (`check.memory_projects`).
    pub memory_projects: u32,
    /// Lease of a check's lock, in seconds (`lock.lease_secs`).
    pub lock_lease_secs: u32,
    /// The delivery at the end of a run.
    pub mail: &'a crate::mail::Settings,
    /// What `check all` runs (`checks.enabled`).
    pub enabled: &'a [CheckName],
    /// Each check's own settings.
    pub sections: &'a Sections,
    /// Where alerts go besides mail (`[channels.NAME]`).
    pub channels: &'a [crate::channels::Channel],
    /// `respond.read_is_ack`: alert rows read in the application hold their repeats.
    pub read_is_ack: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub check: &'static str,
    pub profile: &'static str,
    pub business_date: NaiveDate,
    pub dry_run: bool,
    pub run_id: Option<i64>,
    pub status: ReportStatus,
    /// Wall time of the check, in milliseconds.
    pub duration_ms: u64,
    pub counters: Counters,
    /// The delivery at the end of the run, when there was one.
    pub mail: Option<crate::mail::FlushStats>,
    pub alerts: Vec<AlertLine>,
    pub error: Option<String>,
}

impl Report {
    /// The report of a run of `check` that has not started yet.
    fn new(check: CheckName, cfg: &Settings<'_>, clock: &Clock, opts: Options) -> Report {
        Report {
            check: check.as_str(),
            profile: cfg.rules.profile.name(),
            business_date: clock.today,
            dry_run: opts.dry_run,
            run_id: None,
            status: ReportStatus::Success,
            duration_ms: 0,
            counters: Counters::default(),
            mail: None,
            alerts: Vec::new(),
            error: None,
        }
    }

    /// Another run of the same check held the lock: this one did nothing.
    pub fn locked(&self) -> bool {
        self.status == ReportStatus::Locked
    }

    /// Alerts were recorded but some mail could not be delivered now.
    pub fn mail_incomplete(&self) -> bool {
        self.mail.as_ref().is_some_and(|m| m.incomplete())
    }
}

/// 0 when every check succeeded and its mail went; 3 (partial) when some failed and others
/// ran, or when alerts were recorded but some mail is deferred; 1 when all failed; 75 when
/// every check was locked by another run. A locked check beside checks that ran is no failure:
/// the other run does its work.
pub fn exit_code(reports: &[Report]) -> crate::Exit {
    if !reports.is_empty() && reports.iter().all(Report::locked) {
        return crate::Exit::Locked;
    }
    let failed = reports
        .iter()
        .filter(|r| r.status != ReportStatus::Success && !r.locked())
        .count();
    if failed == 0 && !reports.iter().any(Report::mail_incomplete) {
        crate::Exit::Ok
    } else if failed < reports.len() {
        crate::Exit::Partial
    } else {
        crate::Exit::Failure
    }
}

/// The checks of one command: the configuration, the clock and the options they run with, and
/// what they read once for all of them (probes, teams, people's choices).
pub struct Runner<'a> {
    cfg: Settings<'a>,
    clock: &'a Clock,
    opts: Options,
    shared: Shared,
}

/// What the checks of one run (`check all`) read once for all of them.
#[derive(Debug, Default)]
struct Shared {
    probes: source::integrity::Memo,
    teams: source::TeamCache,
    /// People's choices (`sigov prefs`), read once for the run's checks.
    prefs: Option<crate::prefs::Prefs>,
    /// Acknowledgements and snoozes in force, read once for the run's checks.
    acks: Option<crate::ack::Acks>,
}

impl<'a> Runner<'a> {
    pub fn new(cfg: Settings<'a>, clock: &'a Clock, opts: Options) -> Runner<'a> {
        Runner {
            cfg,
            clock,
            opts,
            shared: Shared {
                teams: source::TeamCache::with_capacity(cfg.memory_projects as usize),
                ..Shared::default()
            },
        }
    }

    /// Runs the enabled checks (`checks.enabled`), in the registry's order. A failing check is
    /// reported (status `failed`, its error logged) and the next one still runs.
    pub fn run_all(&mut self, db: &mut Db) -> Vec<Report> {
        let enabled = self.cfg.enabled;
        enabled
            .iter()
            .map(|c| match self.run(db, *c) {
                Ok(r) => r,
                Err(e) => {
                    let msg = crate::strings::one_line(&format!("{e:#}"));
                    log::error!("check {} failed: {msg}", c.as_str());
                    // A lost connection ends this check only: the next ones get a new one.
                    if let Err(again) = db.reconnect_if_lost() {
                        log::debug!("cannot reconnect: {again:#}");
                    }
                    Report {
                        status: ReportStatus::Failed,
                        error: Some(msg),
                        ..Report::new(*c, &self.cfg, self.clock, self.opts)
                    }
                }
            })
            .collect()
    }

    /// Runs one check and records it: takes the check's lock (a dry run takes none), opens the
    /// run record, evaluates and writes, delivers mail, closes the record, frees the lock.
    /// Errors after the run record exists close it as `failed`.
    pub fn run(&mut self, db: &mut Db, check: CheckName) -> Result<Report> {
        if !check.check().in_reference() && !self.cfg.rules.beyond_reference {
            anyhow::bail!(
                "check {check} is not one of the reference's checks: the reference profile never runs it (rules.profile = recommended does)"
            );
        }
        let mut report = Report::new(check, &self.cfg, self.clock, self.opts);
        if self.opts.dry_run {
            let started = std::time::Instant::now();
            let (counters, alerts) = self.execute(db, check, None, None)?;
            report.duration_ms = elapsed_ms(started);
            report.counters = counters;
            report.alerts = alerts;
            return Ok(report);
        }
        let lease_secs = self.cfg.lock_lease_secs;
        let mut lease = match lock::acquire(db, &lock::check_lock(check.as_str()), lease_secs)? {
            Acquired::Held(l) => l,
            Acquired::Busy(holder) => {
                report.status = ReportStatus::Locked;
                report.error = Some(format!("another run holds the lock: {}", holder.describe()));
                return Ok(report);
            }
        };
        let out = self.run_locked(db, check, &mut lease, report);
        if let Err(e) = lease.release(db) {
            log::warn!("{e:#}");
        }
        out
    }

    fn run_locked(
        &mut self,
        db: &mut Db,
        check: CheckName,
        lease: &mut Lease,
        mut report: Report,
    ) -> Result<Report> {
        let profile = self.cfg.rules.profile.name();
        let run_id = runs::start(db, self.clock, check.as_str(), profile)?;
        report.run_id = Some(run_id);
        lease.attach_run(db, run_id)?;
        // This run holds the lock: any other run of the check still marked running is dead.
        let stale = runs::mark_interrupted(db, check.as_str(), run_id)?;
        if stale > 0 {
            log::warn!(
                "{}: {stale} earlier run(s) never finished (killed or lost); marked interrupted",
                check.as_str()
            );
        }
        let start_statements = db.statements();
        let started = std::time::Instant::now();
        let outcome = self.execute(db, check, Some(run_id), Some(&mut *lease));
        report.duration_ms = elapsed_ms(started);
        match outcome {
            Ok((mut counters, alerts)) => {
                counters.queries = db.statements() - start_statements;
                if self.opts.deliver {
                    report.mail = self.deliver(db, check, counters.mails_queued, lease);
                    if let Some(m) = &report.mail {
                        add_delivery(&mut counters, m);
                    }
                }
                report.duration_ms = elapsed_ms(started);
                report.counters = counters;
                report.alerts = alerts;
                runs::finish(
                    db,
                    run_id,
                    runs::RunStatus::Success,
                    0,
                    &report.counters,
                    None,
                )?;
                Ok(report)
            }
            Err(e) => {
                let msg = format!("{e:#}");
                // A lost connection: a new one closes the run record (and frees the lock after).
                if let Err(again) = db.reconnect_if_lost() {
                    log::debug!("cannot reconnect: {again:#}");
                }
                if let Err(e2) = runs::finish(
                    db,
                    run_id,
                    runs::RunStatus::Failed,
                    1,
                    &report.counters,
                    Some(&msg),
                ) {
                    log::warn!("cannot close run {run_id}: {e2:#}");
                }
                Err(e)
            }
        }
    }

    /// Delivers due mail after a check. No transport configured: mail waits in the outbox (said
    /// once when this run queued some). A delivery that cannot start (template, configuration)
    /// is reported like a relay that cannot be reached: the alerts are recorded, the mail waits.
    fn deliver(
        &self,
        db: &mut Db,
        check: CheckName,
        queued: u64,
        lease: &mut Lease,
    ) -> Option<crate::mail::FlushStats> {
        if self.cfg.mail.transport.is_empty() && self.cfg.channels.is_empty() {
            if queued > 0 {
                log::warn!(
                    "{}: mail.transport is not set; {queued} new mail(s) wait in the outbox (set SIGOV_MAIL_TRANSPORT, or run with --no-mail)",
                    check.as_str()
                );
            }
            return None;
        }
        Some(
            crate::channels::flush_all(
                db,
                self.cfg.mail,
                self.cfg.channels,
                self.clock,
                None,
                &mut |db| lease.keep_alive(db),
            )
            .unwrap_or_else(|e| {
                let msg = crate::strings::one_line(&format!("{e:#}"));
                log::error!("{}: mail delivery failed: {msg}", check.as_str());
                crate::mail::FlushStats {
                    error: Some(msg),
                    ..Default::default()
                }
            }),
        )
    }

    fn execute(
        &mut self,
        db: &mut Db,
        name: CheckName,
        run_id: Option<i64>,
        lease: Option<&mut Lease>,
    ) -> Result<(Counters, Vec<AlertLine>)> {
        let check = name.check();
        source::ensure_domain_tables(db, check.tables())?;
        let repaired_before = crate::db::text::repaired();
        let nulls_before = crate::db::text::nulls();
        let mut lost = Counters::default();
        for f in source::integrity::run(db, &check.probes(db), &mut self.shared.probes)? {
            log::warn!(
                "{name}: {} {} (first id {}): left out",
                f.n,
                f.what,
                f.first_id.as_deref().unwrap_or("?")
            );
            lost.skip_n(f.reason, f.n.max(0) as u64);
        }
        if self.shared.prefs.is_none() {
            self.shared.prefs = Some(crate::prefs::Prefs::load(db)?);
        }
        if self.shared.acks.is_none() {
            let mut acks = crate::ack::Acks::load(db, self.clock.tz)?;
            if self.cfg.read_is_ack {
                acks.add_read(db, self.clock.today)?;
            }
            self.shared.acks = Some(acks);
        }
        let mut run = Run {
            critical: crate::prefs::Critical {
                bypass: self.cfg.mail.critical_bypass,
                overrides_mute: self.cfg.mail.critical_overrides_mute,
            },
            prefs: self.shared.prefs.as_ref(),
            holds: self
                .shared
                .acks
                .as_ref()
                .map(|a| a.of_check(name.as_str()))
                .unwrap_or_default(),
            check: name.as_str(),
            knows: check,
            rules: self.cfg.rules,
            page_size: self.cfg.page_size,
            slice_alerts: self.cfg.slice_alerts,
            window: self.cfg.mail.window.as_ref(),
            routing: crate::channels::Routing {
                channels: self.cfg.channels,
                base_url: &self.cfg.mail.base_url,
            },
            clock: self.clock,
            opts: self.opts,
            run_id,
            lease,
            counters: Counters::default(),
            lines: Vec::new(),
            unreadable: Default::default(),
            held: None,
            teams: &mut self.shared.teams,
        };
        let total = name.execute(db, &mut run, self.cfg.sections)?;
        log::debug!(
            "{name}: {} project teams held, {} team read(s) this run",
            run.teams.len(),
            run.teams.reads
        );
        source::drop_candidates(db)?;
        run.counters.absorb(lost);
        run.counters.candidates = total.max(0) as u64;
        run.counters.repair_n(
            "invalid_utf8",
            crate::db::text::repaired() - repaired_before,
        );
        run.counters
            .repair_n("null_text", crate::db::text::nulls() - nulls_before);
        Ok((run.counters, run.lines))
    }
}

fn elapsed_ms(started: std::time::Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// The end-of-run delivery's figures, in the run's counters.
fn add_delivery(counters: &mut Counters, m: &crate::mail::FlushStats) {
    counters.mails_sent = m.sent;
    counters.mails_failed = m.failed;
    counters.mails_dead = m.dead;
    counters.mails_unconfirmed = m.unconfirmed;
    counters.mails_held_back = m.held_back;
    counters.mails_deferred = m.deferred;
    counters.mails_held = m.held;
}

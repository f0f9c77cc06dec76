//! One check run, whatever the check: the lock, the run record, the candidate pages (each
//! de-duplicated against what was recorded, evaluated, written), the delivery, the report.
//! A check supplies its SQL and rule through [`super::Check`]; the mechanics are here.

use super::CheckName;
use crate::clock::Clock;
use crate::db::Db;
use crate::ops::lock::{self, Acquired, Lease};
use crate::ops::runs;
use crate::rules::{Counters, Decisions, NewAlert, Rules, Seen, SeenSpec};
use crate::source;
use crate::states::Niveau;
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
    /// Lease of a check's lock, in seconds (`lock.lease_secs`).
    pub lock_lease_secs: u32,
    /// The delivery at the end of a run.
    pub mail: &'a crate::mail::Settings,
    /// What `check all` runs (`checks.enabled`).
    pub enabled: &'a [CheckName],
}

#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub dry_run: bool,
    /// Deliver due mail at the end of the run (`--no-mail` turns it off).
    pub deliver: bool,
    /// Keep a line per created alert for the report (it lists them: JSON, `-v`, dry runs,
    /// the demo). Off under cron, so a run's memory does not grow with what it creates.
    pub list_alerts: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            dry_run: false,
            deliver: true,
            list_alerts: true,
        }
    }
}

/// A created (or, in a dry run, would-be) alert, as reports show it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AlertLine {
    pub id: Option<i64>,
    pub table: &'static str,
    #[serde(rename = "type")]
    pub alert_type: String,
    pub niveau: Option<Niveau>,
    pub recipient: String,
    pub recipient_name: String,
    pub projet: String,
    pub titre: String,
    pub message: String,
    pub mail: &'static str,
}

impl AlertLine {
    fn new(id: Option<i64>, a: &NewAlert) -> AlertLine {
        AlertLine {
            id,
            table: a.target.table(),
            alert_type: a.alert_type.clone(),
            niveau: a.niveau,
            recipient: a.recipient_username.clone(),
            recipient_name: a.recipient_name.clone(),
            projet: a.projet.nom.clone(),
            titre: a.titre.clone(),
            message: a.message.clone(),
            mail: match crate::store::mail_decision(a) {
                Ok(()) => "queued",
                Err(r) => r,
            },
        }
    }
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

/// Runs the enabled checks (`checks.enabled`), in the registry's order. A failing check is reported (status `failed`,
/// its error logged) and the next one still runs.
pub fn run_all(db: &mut Db, cfg: &Settings<'_>, clock: &Clock, opts: Options) -> Vec<Report> {
    let mut shared = Shared::default();
    cfg.enabled
        .iter()
        .map(
            |c| match run_shared(db, cfg, clock, *c, opts, &mut shared) {
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
                        ..Report::new(*c, cfg, clock, opts)
                    }
                }
            },
        )
        .collect()
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

/// Runs one check and records it: takes the check's lock (a dry run takes none), opens the run
/// record, evaluates and writes, delivers mail, closes the record, frees the lock. Errors after
/// the run record exists close it as `failed`.
pub fn run(
    db: &mut Db,
    cfg: &Settings<'_>,
    clock: &Clock,
    check: CheckName,
    opts: Options,
) -> Result<Report> {
    run_shared(db, cfg, clock, check, opts, &mut Shared::default())
}

/// What the checks of one run (`check all`) read once for all of them.
#[derive(Debug, Default)]
pub struct Shared {
    probes: source::integrity::Memo,
    teams: source::TeamCache,
    /// People's choices (`sigov prefs`), read once for the run's checks.
    prefs: Option<crate::prefs::Prefs>,
}

/// [`run`], with what the run's earlier checks read.
fn run_shared(
    db: &mut Db,
    cfg: &Settings<'_>,
    clock: &Clock,
    check: CheckName,
    opts: Options,
    shared: &mut Shared,
) -> Result<Report> {
    if !check.check().in_reference() && !cfg.rules.beyond_reference {
        anyhow::bail!(
            "check {check} is not one of the reference's checks: the reference profile never runs it (rules.profile = recommended does)"
        );
    }
    let mut report = Report::new(check, cfg, clock, opts);
    if opts.dry_run {
        let started = std::time::Instant::now();
        let (counters, alerts) = execute(db, cfg, clock, check, opts, None, None, shared)?;
        report.duration_ms = elapsed_ms(started);
        report.counters = counters;
        report.alerts = alerts;
        return Ok(report);
    }
    let mut lease = match lock::acquire(db, &lock::check_lock(check.as_str()), cfg.lock_lease_secs)?
    {
        Acquired::Held(l) => l,
        Acquired::Busy(holder) => {
            report.status = ReportStatus::Locked;
            report.error = Some(format!("another run holds the lock: {}", holder.describe()));
            return Ok(report);
        }
    };
    let out = run_locked(db, cfg, clock, check, opts, &mut lease, report, shared);
    if let Err(e) = lease.release(db) {
        log::warn!("{e:#}");
    }
    out
}

fn elapsed_ms(started: std::time::Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

#[allow(clippy::too_many_arguments)]
fn run_locked(
    db: &mut Db,
    cfg: &Settings<'_>,
    clock: &Clock,
    check: CheckName,
    opts: Options,
    lease: &mut Lease,
    mut report: Report,
    shared: &mut Shared,
) -> Result<Report> {
    let run_id = runs::start(db, clock, check.as_str(), cfg.rules.profile.name())?;
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
    let outcome = execute(
        db,
        cfg,
        clock,
        check,
        opts,
        Some(run_id),
        Some(&mut *lease),
        shared,
    );
    report.duration_ms = elapsed_ms(started);
    match outcome {
        Ok((mut counters, alerts)) => {
            counters.queries = db.statements() - start_statements;
            if opts.deliver {
                report.mail = deliver(db, cfg, clock, check, counters.mails_queued, lease);
                if let Some(m) = &report.mail {
                    counters.mails_sent = m.sent;
                    counters.mails_failed = m.failed;
                    counters.mails_dead = m.dead;
                    counters.mails_unconfirmed = m.unconfirmed;
                    counters.mails_held_back = m.held_back;
                    counters.mails_deferred = m.deferred;
                    counters.mails_held = m.held;
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
/// once when this run queued some). A delivery that cannot start (template, configuration) is
/// reported like a relay that cannot be reached: the alerts are recorded, the mail waits.
fn deliver(
    db: &mut Db,
    cfg: &Settings<'_>,
    clock: &Clock,
    check: CheckName,
    queued: u64,
    lease: &mut Lease,
) -> Option<crate::mail::FlushStats> {
    if cfg.mail.transport.is_empty() {
        if queued > 0 {
            log::warn!(
                "{}: mail.transport is not set; {queued} new mail(s) wait in the outbox (set SIGOV_MAIL_TRANSPORT, or run with --no-mail)",
                check.as_str()
            );
        }
        return None;
    }
    Some(
        crate::mail::flush(db, cfg.mail, clock, None, &mut |db| lease.keep_alive(db))
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

#[allow(clippy::too_many_arguments)]
fn execute(
    db: &mut Db,
    cfg: &Settings<'_>,
    clock: &Clock,
    name: CheckName,
    opts: Options,
    run_id: Option<i64>,
    lease: Option<&mut Lease>,
    shared: &mut Shared,
) -> Result<(Counters, Vec<AlertLine>)> {
    let check = name.check();
    source::ensure_domain_tables(db, check.tables())?;
    let repaired_before = crate::db::text::repaired();
    let nulls_before = crate::db::text::nulls();
    let mut lost = Counters::default();
    for f in source::integrity::run(db, &check.probes(db), &mut shared.probes)? {
        log::warn!(
            "{name}: {} {} (first id {}): left out",
            f.n,
            f.what,
            f.first_id.as_deref().unwrap_or("?")
        );
        lost.skip_n(f.reason, f.n.max(0) as u64);
    }
    if shared.prefs.is_none() {
        shared.prefs = Some(crate::prefs::Prefs::load(db)?);
    }
    let mut run = Run {
        prefs: shared.prefs.as_ref(),
        check: name.as_str(),
        cfg: *cfg,
        clock,
        opts,
        run_id,
        lease,
        counters: Counters::default(),
        lines: Vec::new(),
        unreadable: Default::default(),
        held: None,
        teams: &mut shared.teams,
    };
    let total = check.execute(db, &mut run)?;
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

/// The `sigov_cand` columns of a project-level check: the alert rows' entity column and the
/// ledger's entity are both the project.
pub const PROJECTS: (&str, &str) = ("projet_id", "projet_id");

/// Reads one page of a check's candidates (`(after, upto)` row numbers), with the run's teams.
pub type PageLoader<C> = fn(&mut Db, (i64, i64), &mut source::TeamCache) -> Result<Vec<C>>;

/// One run of a check as its `execute` sees it: the settings and the day, and the page loop
/// that de-duplicates, evaluates, writes and counts.
pub struct Run<'a> {
    check: &'static str,
    cfg: Settings<'a>,
    clock: &'a Clock,
    opts: Options,
    run_id: Option<i64>,
    lease: Option<&'a mut Lease>,
    counters: Counters,
    lines: Vec<AlertLine>,
    /// Alert rows with an unreadable context already counted (a row can be read by two pages).
    unreadable: std::collections::HashSet<i64>,
    /// What was recorded for the whole check, once read (see [`Run::pages`]).
    held: Option<Seen>,
    /// The run's project teams (shared by the checks of `check all`).
    teams: &'a mut source::TeamCache,
    prefs: Option<&'a crate::prefs::Prefs>,
}

impl<'a> Run<'a> {
    /// The rule settings (the profile applied).
    pub fn rules(&self) -> &'a Rules {
        self.cfg.rules
    }

    /// The business date.
    pub fn today(&self) -> NaiveDate {
        self.clock.today
    }

    /// Candidates per page (`check.page_size`).
    pub fn page_size(&self) -> u32 {
        self.cfg.page_size
    }

    /// Counts `n` entities left out for `reason` (logged by the caller).
    pub fn skip_n(&mut self, reason: &str, n: u64) {
        self.counters.skip_n(reason, n);
    }

    /// Evaluates the candidates page by page: each page is loaded with what was already
    /// recorded for its entities (including by earlier pages), evaluated, and written before
    /// the next page is read, so a run holds one page whatever the data size.
    /// `cols`: the `sigov_cand` columns matching the alert table's entity column and the
    /// ledger's entity (see [`source::Scope`]).
    pub fn pages<C>(
        &mut self,
        db: &mut Db,
        mut pager: source::Pager,
        spec: &SeenSpec,
        (rows_col, ledger_col): (&'static str, &'static str),
        load: PageLoader<C>,
        eval: impl Fn(Vec<C>, &Seen) -> Decisions,
    ) -> Result<()> {
        let bar = crate::progress::bar(pager.rows.max(0) as u64, self.check);
        bar.set_message("candidates");
        // With a look-back window, what was recorded is read once for the whole check (in
        // page-size chunks, see source::seen) and held as fingerprints; the alerts each page
        // writes are added to it, as the next page's read would have found them. Otherwise
        // (whole history, or keys of any date) each page reads what was recorded for its own
        // entities. A check that pages twice (stage tasks, then module tasks) reads it once:
        // the run keeps it, with what the first pages wrote.
        let whole = pager.rows > 0 && spec.since.is_some() && spec.keys_of_any_date.is_empty();
        let mut check_seen = self.held.take().unwrap_or_default();
        if whole && !check_seen.loaded {
            source::seen(
                db,
                self.clock,
                spec,
                None,
                self.cfg.page_size as usize,
                &mut check_seen,
            )?;
            check_seen.loaded = true;
            self.count_unreadable(spec, &check_seen);
            log::debug!(
                "{}: {} recorded entries held for the check",
                self.check,
                check_seen.entries()
            );
        }
        while let Some(page) = pager.next_page() {
            let cands = load(db, page, self.teams)?;
            let mut page_seen = Seen::default();
            if !whole {
                let scope = source::Scope {
                    page,
                    rows_col,
                    ledger_col,
                };
                source::seen(db, self.clock, spec, Some(scope), 0, &mut page_seen)?;
                self.count_unreadable(spec, &page_seen);
            }
            let n = cands.len() as u64;
            let decisions = eval(cands, if whole { &check_seen } else { &page_seen });
            let written = self.absorb(db, decisions)?;
            if whole {
                for (id, a, at) in &written.alerts {
                    let entity = match a.target {
                        crate::rules::Target::Alerte => a.projet.id.as_str(),
                        crate::rules::Target::NotificationEtape => {
                            a.etape_id.as_deref().unwrap_or_default()
                        }
                    };
                    check_seen.absorb_row(
                        spec,
                        *id,
                        &a.recipient_id,
                        entity,
                        &a.alert_type,
                        Some(self.clock.local_date(*at)),
                        Some(&a.context),
                    );
                    check_seen.add_key(&a.key);
                }
                for k in &written.superseded {
                    check_seen.add_key(k);
                }
            }
            bar.inc(n);
        }
        bar.finish_and_clear();
        if check_seen.loaded {
            self.held = Some(check_seen);
        }
        Ok(())
    }

    fn count_unreadable(&mut self, spec: &SeenSpec, seen: &Seen) {
        for id in &seen.unreadable_ids {
            if self.unreadable.insert(*id) {
                log::warn!(
                    "{}: {} row id {id}: donnees_contexte is not a JSON object; de-duplicated by recipient, project and type",
                    self.check,
                    spec.target.table()
                );
                self.counters.repair_n("unreadable_context", 1);
            }
        }
    }

    /// Writes one page's decisions (a dry run lists them); returns what was written.
    fn absorb(&mut self, db: &mut Db, d: Decisions) -> Result<crate::store::Written> {
        if let Some(l) = self.lease.as_deref_mut() {
            l.keep_alive(db)?;
        }
        let Decisions {
            mut alerts,
            superseded,
            mut counters,
        } = d;
        // Each mail follows its recipient's choices (muted, off, or in a daily digest); the
        // alert rows are written whatever they are.
        if let Some(prefs) = self.prefs.filter(|p| !p.is_empty()) {
            let now = self.clock.current();
            for a in &mut alerts {
                let window = self.cfg.mail.window.as_ref();
                a.mail = prefs.plan(a, self.clock.today, now, self.clock.tz, window);
            }
        }
        let mut out = crate::store::Written::default();
        if self.opts.dry_run {
            self.lines
                .extend(alerts.iter().map(|a| AlertLine::new(None, a)));
            for a in &alerts {
                counters.count_created(a, crate::store::mail_decision(a));
            }
        } else {
            let superseded_keys: Vec<String> = superseded.iter().map(|s| s.key.clone()).collect();
            let written = crate::store::write(
                db,
                self.clock,
                self.run_id,
                alerts,
                superseded,
                &mut counters,
            )?;
            if self.opts.list_alerts {
                self.lines.extend(
                    written
                        .alerts
                        .iter()
                        .map(|(id, a, _)| AlertLine::new(Some(*id), a)),
                );
            }
            out = written;
            out.superseded = superseded_keys;
        }
        self.counters.absorb(counters);
        Ok(out)
    }
}

//! One run of a check as the check's `execute` sees it: its settings and day, and the page loop
//! that de-duplicates, evaluates, writes and counts.

use super::check::Check;
use super::settings::Configure;
use crate::clock::Clock;
use crate::db::Db;
use crate::ops::lock::Lease;
use crate::rules::calendar::MailWindow;
use crate::rules::{Counters, Decisions, NewAlert, Rules, Seen, SeenSpec};
use crate::source;
use crate::states::Niveau;
use anyhow::Result;
use chrono::NaiveDate;

/// A page's first slice: a quarter of `target` candidates (`check.slice_alerts`: by default
/// 2,000 alerts, four write batches), within the page.
fn first_slice(target: usize, page: usize) -> usize {
    (target / 4).clamp(1, page.max(1))
}

/// The next slice's length, from the last one's: `n` candidates gave `made` alerts. Twice as
/// long when it gave none; otherwise as long as gives about `target` alerts; no shorter than
/// a 125th of `target` (16 by default: not a transaction a candidate), no longer than the page.
fn next_slice(n: usize, made: usize, page: usize, target: usize) -> usize {
    let want = match made {
        0 => n.saturating_mul(2),
        m => n.saturating_mul(target) / m,
    };
    let least = (target / 125).max(1);
    want.clamp(least, page.max(least))
}

/// How a check runs, given its own settings.
pub trait Execute {
    /// Its settings after the profile is applied.
    type Settings: Configure;

    /// Selects its candidates and evaluates them page by page through `run` (which
    /// de-duplicates against what was recorded, writes and counts); returns the number of
    /// candidates the reference reports (entities of the check's kind in scope, due or not).
    fn execute(&self, db: &mut Db, run: &mut Run<'_>, settings: &Self::Settings) -> Result<i64>;
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
    pub(super) fn new(id: Option<i64>, a: &NewAlert) -> AlertLine {
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

/// The `sigov_cand` columns of a project-level check: the alert rows' entity column and the
/// ledger's entity are both the project.
pub const PROJECTS: (&str, &str) = ("projet_id", "projet_id");

/// Reads one page of a check's candidates (`(after, upto)` row numbers), with the run's teams.
pub type PageLoader<C> = fn(&mut Db, (i64, i64), &mut source::TeamCache) -> Result<Vec<C>>;

/// A check's candidates as [`Run::candidates`] reads them.
pub enum Candidates<C> {
    /// In the candidate table, read a page at a time by `load`; `cols`: the `sigov_cand`
    /// columns matching the alert table's entity column and the ledger's entity (see
    /// [`source::Scope::Page`]).
    Table {
        pager: source::Pager,
        cols: (&'static str, &'static str),
        load: PageLoader<C>,
    },
    /// Held by the run, joined already, in the check's order (`len` of them), each made whole
    /// as its page is read; `ids`: a candidate's entity as the alert table's entity column and
    /// the ledger's `entity_id` hold it.
    Held {
        rows: Box<dyn Iterator<Item = C>>,
        len: usize,
        ids: fn(&C) -> (&str, &str),
    },
}

/// One run of a check as its `execute` sees it: the settings and the day, and the page loop
/// that de-duplicates, evaluates, writes and counts.
pub struct Run<'a> {
    pub(super) check: &'static str,
    /// What the check says of its alerts (their rule labels).
    pub(super) knows: &'static dyn Check,
    pub(super) rules: &'a Rules,
    pub(super) page_size: u32,
    /// Alerts a slice of a page is sized to give (see [`next_slice`]).
    pub(super) slice_alerts: u32,
    /// Quiet hours, for people's daily digests.
    pub(super) window: Option<&'a MailWindow>,
    /// The channels the run's alerts are queued for.
    pub(super) routing: crate::channels::Routing<'a>,
    pub(super) clock: &'a Clock,
    pub(super) opts: Options,
    pub(super) run_id: Option<i64>,
    pub(super) lease: Option<&'a mut Lease>,
    pub(super) counters: Counters,
    pub(super) lines: Vec<AlertLine>,
    /// Alert rows with an unreadable context already counted (a row can be read by two pages).
    pub(super) unreadable: std::collections::HashSet<i64>,
    /// What was recorded for the whole check, once read (see [`Run::pages`]).
    pub(super) held: Option<Seen>,
    /// The run's project teams (shared by the checks of `check all`).
    pub(super) teams: &'a mut source::TeamCache,
    pub(super) prefs: Option<&'a crate::prefs::Prefs>,
    /// The check's acknowledgements and snoozes in force.
    pub(super) holds: crate::rules::Holds,
    /// `mail.critical_bypass`, `mail.critical_overrides_mute`.
    pub(super) critical: crate::prefs::Critical,
}

impl<'a> Run<'a> {
    /// The rule settings (the profile applied).
    pub fn rules(&self) -> &'a Rules {
        self.rules
    }

    /// The business date.
    pub fn today(&self) -> NaiveDate {
        self.clock.today
    }

    /// The UTC instant local day `d` begins at (the business time zone's midnight).
    pub fn day_start_utc(&self, d: NaiveDate) -> chrono::NaiveDateTime {
        self.clock.local_day_start_utc(d)
    }

    /// The run's teams and directory (shared by the checks of `check all`).
    pub fn teams(&mut self) -> &mut source::TeamCache {
        self.teams
    }

    /// Candidates per page (`check.page_size`).
    pub fn page_size(&self) -> u32 {
        self.page_size
    }

    /// Counts `n` entities left out for `reason` (logged by the caller).
    pub fn skip_n(&mut self, reason: &str, n: u64) {
        self.counters.skip_n(reason, n);
    }

    /// Evaluates the candidates of the candidate table page by page (see
    /// [`Run::candidates`]). `cols`: the `sigov_cand` columns matching the alert table's
    /// entity column and the ledger's entity (see [`source::Scope::Page`]).
    pub fn pages<C>(
        &mut self,
        db: &mut Db,
        pager: source::Pager,
        spec: &SeenSpec,
        cols: (&'static str, &'static str),
        load: PageLoader<C>,
        eval: impl Fn(Vec<C>, &Seen) -> Decisions,
    ) -> Result<()> {
        self.candidates(db, Candidates::Table { pager, cols, load }, spec, eval)
    }

    /// Evaluates the candidates page by page: each page is loaded with what was already
    /// recorded for its entities (including by earlier pages), evaluated, and written before
    /// the next page is read, so a run holds one page whatever the data size (of the
    /// candidates it is handed, when they are [`Candidates::Held`]).
    pub fn candidates<C>(
        &mut self,
        db: &mut Db,
        mut pages: Candidates<C>,
        spec: &SeenSpec,
        eval: impl Fn(Vec<C>, &Seen) -> Decisions,
    ) -> Result<()> {
        let total = match &pages {
            Candidates::Table { pager, .. } => pager.rows.max(0),
            Candidates::Held { len, .. } => i64::try_from(*len).unwrap_or(i64::MAX),
        };
        let bar = crate::progress::bar(total as u64, self.check);
        bar.set_message("candidates");
        // With a look-back window, what was recorded is read once for the whole check (in
        // page-size chunks, see source::seen) and held as fingerprints; the alerts each page
        // writes are added to it, as the next page's read would have found them. Otherwise
        // (whole history, or keys of any date) each page reads what was recorded for its own
        // entities. A check that pages twice (stage tasks, then module tasks) reads it once:
        // the run keeps it, with what the first pages wrote.
        let whole = total > 0 && spec.since.is_some() && spec.keys_of_any_date.is_empty();
        let max = self.rules.max_repeats;
        let repeats = if max > 0 {
            std::sync::Arc::new(crate::ack::repeats_near(
                db,
                self.check,
                (i64::from(max) - 1).max(1),
            )?)
        } else {
            Default::default()
        };
        let mut check_seen = self.held.take().unwrap_or_default();
        check_seen.holds = self.holds.clone();
        check_seen.repeats = repeats.clone();
        if whole && !check_seen.loaded {
            source::seen(
                db,
                self.clock,
                spec,
                None,
                self.page_size as usize,
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
        let target = self.slice_alerts.max(1) as usize;
        let mut slice_len = first_slice(target, self.page_size as usize);
        let size = self.page_size.max(1) as usize;
        loop {
            let (cands, scope) = match &mut pages {
                Candidates::Table { pager, cols, load } => {
                    let Some(page) = pager.next_page() else {
                        break;
                    };
                    let scope = source::Scope::Page {
                        page,
                        rows_col: cols.0,
                        ledger_col: cols.1,
                    };
                    (load(db, page, self.teams)?, scope)
                }
                Candidates::Held { rows, ids, .. } => {
                    let page: Vec<C> = rows.by_ref().take(size).collect();
                    if page.is_empty() {
                        break;
                    }
                    let scope = if whole {
                        source::Scope::Ids {
                            rows: Vec::new(),
                            ledger: Vec::new(),
                        }
                    } else {
                        let (r, l) = page
                            .iter()
                            .map(|c| {
                                let (r, l) = ids(c);
                                (r.to_owned(), l.to_owned())
                            })
                            .unzip();
                        source::Scope::Ids { rows: r, ledger: l }
                    };
                    (page, scope)
                }
            };
            let mut page_seen = Seen::default();
            page_seen.holds = self.holds.clone();
            page_seen.repeats = repeats.clone();
            if !whole {
                source::seen(db, self.clock, spec, Some(scope), 0, &mut page_seen)?;
                self.count_unreadable(spec, &page_seen);
            }
            // A page is decided and written a slice of candidates at a time, sized to give
            // about `check.slice_alerts` alerts from what the previous slice gave: the alerts held at
            // once are those of one slice (a page of contracts with their teams made 8,000),
            // whatever the page size, in few enough transactions. What a slice writes is added
            // to what the next one sees.
            let mut cands = cands.into_iter();
            loop {
                let slice: Vec<C> = cands.by_ref().take(slice_len).collect();
                if slice.is_empty() {
                    break;
                }
                let n = slice.len();
                let seen = if whole {
                    &mut check_seen
                } else {
                    &mut page_seen
                };
                // Page-read checks: only a next slice of the same page reads `page_seen`.
                let keep = whole || cands.len() > 0;
                let made = self.decide_and_write(db, spec, seen, keep, slice, &eval)?;
                slice_len = next_slice(n, made, self.page_size as usize, target);
                bar.inc(n as u64);
            }
        }
        bar.finish_and_clear();
        if check_seen.loaded {
            self.held = Some(check_seen);
        }
        Ok(())
    }

    /// One slice of a page: decided against `seen`, written, and (`keep`: something reads
    /// `seen` later) what was written, keys and rows, taken into `seen`. Returns how many
    /// alerts it decided.
    fn decide_and_write<C>(
        &mut self,
        db: &mut Db,
        spec: &SeenSpec,
        seen: &mut Seen,
        keep: bool,
        slice: Vec<C>,
        eval: &impl Fn(Vec<C>, &Seen) -> Decisions,
    ) -> Result<usize> {
        let decisions = eval(slice, seen);
        let made = decisions.alerts.len();
        let clock = self.clock;
        let mut recorded = |id: i64, a: &NewAlert, at: chrono::NaiveDateTime| {
            if !keep {
                return;
            }
            let entity = match a.target {
                crate::rules::Target::Alerte => a.projet.id.as_str(),
                crate::rules::Target::NotificationEtape => {
                    a.etape_id.as_deref().unwrap_or_default()
                }
            };
            seen.absorb_row(
                spec,
                id,
                &a.recipient_id,
                entity,
                &a.alert_type,
                Some(clock.local_date(at)),
                crate::rules::Ctx::of_value(&a.context).as_ref(),
            );
            seen.add_key(&a.key);
        };
        let superseded = self.absorb(db, decisions, &mut recorded)?;
        if keep {
            for k in &superseded {
                seen.add_key(k);
            }
        }
        Ok(made)
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

    /// Writes one page's decisions (a dry run lists them), handing each alert recorded to
    /// `recorded` as its batch is committed; returns the keys of the superseded milestones
    /// recorded.
    fn absorb(
        &mut self,
        db: &mut Db,
        d: Decisions,
        recorded: &mut dyn FnMut(i64, &NewAlert, chrono::NaiveDateTime),
    ) -> Result<Vec<String>> {
        if let Some(l) = self.lease.as_deref_mut() {
            l.keep_alive(db)?;
        }
        let Decisions {
            mut alerts,
            superseded,
            mut counters,
            rearmed,
        } = d;
        for a in &mut alerts {
            a.rule = self.knows.rule_label(&a.alert_type, &a.context);
        }
        // Each mail follows its recipient's choices (muted, off, or in a daily digest); the
        // alert rows are written whatever they are.
        if let Some(prefs) = self.prefs.filter(|p| !p.is_empty()) {
            let now = self.clock.current();
            for a in &mut alerts {
                a.mail = prefs.plan(
                    a,
                    self.clock.today,
                    now,
                    self.clock.tz,
                    self.window,
                    self.critical,
                );
            }
        } else if self.critical.bypass {
            for a in &mut alerts {
                a.mail = self.critical.plan(a);
            }
        }
        let mut out = Vec::new();
        if self.opts.dry_run {
            self.lines
                .extend(alerts.iter().map(|a| AlertLine::new(None, a)));
            for a in &alerts {
                counters.count_created(a, crate::store::mail_decision(a));
            }
        } else {
            let superseded_keys: Vec<String> = superseded.iter().map(|s| s.key.clone()).collect();
            let list = self.opts.list_alerts;
            let lines = &mut self.lines;
            crate::store::write_each(
                db,
                self.clock,
                self.run_id,
                &self.routing,
                alerts,
                superseded,
                &mut counters,
                |id, a, at| {
                    if list {
                        lines.push(AlertLine::new(Some(id), &a));
                    }
                    recorded(id, &a, at);
                },
            )?;
            out = superseded_keys;
        }
        // Holds whose alert's entity changed (a moved date, a new budget) are over: the alert
        // was raised again above, and is held no longer.
        if !rearmed.is_empty() && !self.opts.dry_run {
            let n = crate::ack::end(db, &rearmed, self.clock.current(), "rearmed")?;
            log::info!(
                "{}: {n} acknowledgement(s) re-armed: their alert changed",
                self.check
            );
        }
        self.counters.absorb(counters);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_aim_at_the_target_within_bounds() {
        let t = 2_000;
        assert_eq!(first_slice(t, 2_000), 500);
        assert_eq!(first_slice(t, 40), 40);
        assert_eq!(first_slice(3, 2_000), 1);
        // 500 candidates gave 8,000 alerts (teams of 16): the next slice is a quarter.
        assert_eq!(next_slice(500, 8_000, 2_000, t), 125);
        // Few alerts: longer slices, up to the page.
        assert_eq!(next_slice(500, 100, 2_000, t), 2_000);
        assert_eq!(next_slice(500, 1_000, 2_000, t), 1_000);
        assert_eq!(next_slice(500, 0, 2_000, t), 1_000);
        assert_eq!(next_slice(1_000, 0, 2_000, t), 2_000);
        // Never under 16 candidates by default, never over the page.
        assert_eq!(next_slice(16, 100_000, 2_000, t), 16);
        assert_eq!(next_slice(500, 0, 3, t), 16);
        assert_eq!(next_slice(usize::MAX, 1, 2_000, t), 2_000);
        // A small target: slices of one candidate are allowed.
        assert_eq!(next_slice(4, 12, 2_000, 3), 1);
    }
}

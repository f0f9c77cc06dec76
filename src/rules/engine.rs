//! The shared rule engine: dates, recipients, keys, de-duplication, counting. Each check's rule
//! picks recipients and texts and calls [`Engine::emit`].

use super::alert::{
    AlertTexts, NewAlert, ProjectInfo, Subject, Superseded, Target, Texts, ESCALATION,
};
use super::counters::Counters;
use super::milestones::{milestone_at, Span};
use super::people::Recipients;
use super::people::{Person, Role};
use super::seen::Seen;
use super::settings::Audience;
use super::settings::Rules;
use chrono::{Datelike, NaiveDate};

/// What a rule decided for the run.
#[derive(Debug, Default)]
pub struct Decisions {
    pub alerts: Vec<NewAlert>,
    pub superseded: Vec<Superseded>,
    pub counters: Counters,
    /// Acknowledgements and snoozes whose entity changed since (the run ends them).
    pub rearmed: Vec<i64>,
}

/// How often an alert may be recorded for one (entity, recipient).
#[derive(Debug, Clone, Copy)]
pub enum Dedup<'a> {
    /// Once per window of `repeat_every_days` business days (one day in the reference).
    Daily,
    /// Once per discriminator: `due=YYYY-MM-DD` for milestones, `end=...` for an expiry,
    /// `""` for once ever.
    Once(&'a str),
}

/// The shared rule engine: dates, recipients, keys, de-duplication, counting. Each check is a
/// small file that picks recipients and texts and calls `emit`.
pub struct Engine<'a> {
    pub rules: &'a Rules,
    pub today: NaiveDate,
    seen: &'a Seen,
    pub out: Decisions,
    window_start: NaiveDate,
    /// Why today is closed in the business calendar, when a check waits for open days (read
    /// once: `emit` runs per entity).
    today_closed: Option<&'static str>,
}

impl<'a> Engine<'a> {
    pub fn new(rules: &'a Rules, today: NaiveDate, seen: &'a Seen) -> Engine<'a> {
        let window_start = today
            .checked_sub_days(chrono::Days::new(u64::from(
                rules.repeat_every_days.saturating_sub(1),
            )))
            .unwrap_or(today);
        let today_closed = if rules.daily_on_working_days_only.is_empty() {
            None
        } else {
            rules.calendar.closed_because(today)
        };
        Engine {
            rules,
            today,
            seen,
            out: Decisions::default(),
            window_start,
            today_closed,
        }
    }

    /// Parses a stored date; a zero, corrupt or pre-1970 value is logged and counted, and the
    /// entity skipped.
    pub fn date(&mut self, check: &str, what: &str, raw: &str) -> Option<NaiveDate> {
        let Some(d) = crate::clock::parse_stored_date(raw) else {
            log::warn!("{check}: {what} has an invalid date `{raw}`; skipped");
            self.out.counters.skip("invalid_date");
            return None;
        };
        if d.year_ce().1 < 1970 {
            log::warn!("{check}: {what} has an implausible date {d}; skipped");
            self.out.counters.skip("implausible_date");
            return None;
        }
        Some(d)
    }

    /// Days from today to `d` (negative when `d` is past).
    pub fn days_until(&self, d: NaiveDate) -> i64 {
        (d - self.today).num_days()
    }

    /// Where `d` stands from today, counted as `check` counts (calendar or open days).
    pub fn span(&self, check: &str, d: NaiveDate) -> Span {
        let p = self.rules.placement(check);
        Span::new(self.today, d, p.business.then_some(p.calendar))
    }

    /// The milestone to emit today for a date not yet past, and the larger ones passed over:
    /// on the business calendar when `check` is placed there, else exactly [`milestone_at`].
    pub fn milestone(
        &self,
        check: &str,
        milestones: &[u32],
        span: &mut Span,
        catch_up: bool,
    ) -> Option<(u32, Vec<u32>)> {
        let p = self.rules.placement(check);
        if !p.business && !p.moved {
            return milestone_at(milestones, span.days, catch_up);
        }
        p.milestone(milestones, self.today, span, catch_up)
    }

    /// Drops inactive accounts when the rules say so, counting them.
    pub fn active_only(&mut self, mut r: Recipients) -> Recipients {
        if self.rules.skip_inactive {
            let before = r.list.len();
            r.list.retain(|(p, _)| p.active());
            self.out
                .counters
                .skip_n("inactive_recipient", (before - r.list.len()) as u64);
        }
        r
    }

    /// Whether an unreadable row of this recipient, project (or stage) and type exists: within
    /// `window` (a daily alert), or at all (a once-only one).
    fn unreadable_match(
        &self,
        s: &Subject,
        typ: &str,
        rec: &str,
        window: Option<(NaiveDate, NaiveDate)>,
    ) -> bool {
        if self.seen.unreadable.is_empty() {
            return false;
        }
        let column = match s.target {
            Target::Alerte => s.projet.id.as_str(),
            Target::NotificationEtape => s.etape_id.unwrap_or_default(),
        };
        self.seen.unreadable.iter().any(|(r, e, t, day)| {
            r == rec
                && e == column
                && t == typ
                && match (window, day) {
                    (None, _) => true,
                    (Some((from, to)), Some(d)) => (from..=to).contains(d),
                    // A daily row without a readable date: taken as today's.
                    (Some(_), None) => true,
                }
        })
    }

    fn key(&self, s: &Subject, typ: &str, rec: &str, dedup: Dedup) -> (String, bool) {
        let prefix = format!("{}:{typ}:{}:{rec}", s.check, s.entity);
        match dedup {
            Dedup::Daily => {
                let dup =
                    self.seen.daily_in(
                        &prefix,
                        rec,
                        &s.entity,
                        typ,
                        (self.window_start, self.today),
                    ) || self.unreadable_match(s, typ, rec, Some((self.window_start, self.today)));
                (format!("{prefix}:{}", self.today), dup)
            }
            Dedup::Once(disc) => {
                let key = if disc.is_empty() {
                    prefix
                } else {
                    format!("{prefix}:{disc}")
                };
                let dup = self.seen.has_key(&key)
                    || self.seen.has_once(rec, &s.entity, typ, disc)
                    || self.unreadable_match(s, typ, rec, None);
                (key, dup)
            }
        }
    }

    /// Whether the check's repeating alerts wait for an open day and today is closed.
    fn closed_for_daily(&self, check: &str) -> Option<&'static str> {
        self.today_closed.filter(|_| {
            self.rules
                .daily_on_working_days_only
                .iter()
                .any(|c| c == check)
        })
    }

    /// The acknowledgement or snooze holding the alert `typ` of `s` today, if one does. One
    /// whose entity changed since is over (kept in [`Decisions::rearmed`] for the run to end).
    fn hold(&mut self, s: &Subject, typ: &str) -> Option<&'a super::hold::Hold> {
        use super::hold::Holding;
        let seen: &'a Seen = self.seen;
        let h = seen.holds.get(typ, &s.entity)?;
        match h.holding(&s.arm, self.today) {
            Holding::Held => Some(h),
            Holding::Rearmed => {
                if !self.out.rearmed.contains(&h.id) {
                    self.out.rearmed.push(h.id);
                }
                None
            }
            Holding::Over => None,
        }
    }

    /// Records one alert per recipient that has not had it yet; returns how many.
    pub fn emit<T: AlertTexts + ?Sized>(
        &mut self,
        s: &Subject,
        t: &T,
        recips: &Recipients,
        dedup: Dedup,
    ) -> usize {
        if matches!(dedup, Dedup::Daily) {
            if let Some(why) = self.closed_for_daily(s.check) {
                // calendar.working_days_only: the next open day's run records it (the daily
                // window then holds no row of today, so nothing is lost or doubled).
                log::debug!(
                    "{}: {} for {} waits for an open day ({why})",
                    s.check,
                    t.alert_type(),
                    s.entity
                );
                self.out
                    .counters
                    .skip_n("closed_day", recips.list.len() as u64);
                return 0;
            }
        }
        if matches!(dedup, Dedup::Daily) {
            if let Some(h) = self.hold(s, t.alert_type()) {
                // Acknowledged or snoozed: the repeat waits, for every recipient.
                log::debug!(
                    "{}: {} for {} held by {} #{} ({})",
                    s.check,
                    t.alert_type(),
                    s.entity,
                    h.kind.as_str(),
                    h.id,
                    h.by
                );
                let why = match h.kind {
                    super::hold::HoldKind::Ack => "acknowledged",
                    super::hold::HoldKind::Snooze => "snoozed",
                };
                self.out.counters.skip_n(why, recips.list.len() as u64);
                return 0;
            }
        }
        let mut n = 0;
        let max = self.rules.max_repeats;
        // One copy of the project's facts for all the alert's rows (made with the first).
        let mut projet: Option<std::sync::Arc<ProjectInfo>> = None;
        for (p, role) in &recips.list {
            let (key, dup) = self.key(s, t.alert_type(), &p.id, dedup);
            if dup {
                self.out.counters.duplicates += 1;
                continue;
            }
            // recommended.max_repeats: the last repeat says so; then silence until it re-arms.
            let mut last = false;
            if max > 0 && matches!(dedup, Dedup::Daily) && !s.arm.is_empty() {
                let seen: &'a Seen = self.seen;
                let done = seen
                    .repeats
                    .get(&(
                        t.alert_type().to_owned(),
                        s.entity_id.to_owned(),
                        p.id.clone(),
                        s.arm.clone(),
                    ))
                    .copied()
                    .unwrap_or(0);
                if done >= i64::from(max) {
                    self.out.counters.skip("max_repeats");
                    continue;
                }
                last = done + 1 == i64::from(max);
            }
            // Built here, for the first row written: a run that writes none builds none.
            let t = t.texts();
            let mut message = t.message(*role);
            if last {
                message.push_str(
                    " Dernier rappel : cette alerte ne sera plus répétée tant que son échéance ne change pas.",
                );
            }
            n += 1;
            self.out.alerts.push(NewAlert {
                key,
                check: s.check,
                target: s.target,
                alert_type: t.alert_type.clone(),
                niveau: t.niveau,
                recipient: p.clone(),
                recipient_id: p.id.clone(),
                recipient_name: p.full_name(),
                recipient_username: p.username.clone(),
                projet: std::sync::Arc::clone(
                    projet.get_or_insert_with(|| std::sync::Arc::new(s.projet.clone())),
                ),
                entity_id: s.entity_id.to_owned(),
                etape_id: s.etape_id.map(str::to_owned),
                etape_ordre: s.etape_ordre,
                titre: t.titre.clone(),
                message,
                context: t.context.clone(),
                title_truncated: t.truncated,
                ledger_type: matches!(dedup, Dedup::Once(d) if d.starts_with(ESCALATION_DISC))
                    .then_some(ESCALATION),
                reason: super::wording::why(*role, &s.projet.nom),
                // The check names its rule (the run fills it in: the engine knows no check).
                rule: String::new(),
                mail: super::alert::MailPlan::Now,
                arm: (!s.arm.is_empty()).then(|| s.arm.clone()),
            });
        }
        n
    }

    /// The first day of the ladder's reach on which the alert `typ` of `s` was recorded for one
    /// of `recips` (today when it is new): when an alert without a date of its own (an exceeded
    /// budget) began, as far as escalation needs to know.
    pub fn began(&self, s: &Subject, typ: &str, recips: &Recipients) -> NaiveDate {
        if self.rules.ladder(s.check).is_empty() {
            return self.today;
        }
        let reach = ladder_reach(self.rules, s.check, self.today);
        recips
            .list
            .iter()
            .filter_map(|(p, _)| {
                self.seen
                    .first_daily(&p.id, &s.entity, typ, (reach, self.today))
            })
            .min()
            .unwrap_or(self.today)
    }

    /// Escalation (`escalation.<check>`): the people each reached rung adds (not already among
    /// `base`, the check's own recipients) get the alert once per rung and arm (`s.arm`: the due
    /// date, or the planned budget), worded as an escalation since `since`. While the alert is
    /// acknowledged or snoozed, they get instead, once, who held it and when.
    pub fn escalate(
        &mut self,
        s: &Subject,
        base_t: &(impl AlertTexts + ?Sized),
        base: &Recipients,
        since: NaiveDate,
        who: &Audiences,
    ) -> usize {
        let ladder = self.rules.ladder(s.check);
        if ladder.is_empty() || self.closed_for_daily(s.check).is_some() {
            return 0;
        }
        let held = self.hold(s, base_t.alert_type());
        let open_days = self.rules.calendar.open_days_between(since, self.today);
        let mut told: Vec<String> = base.list.iter().map(|(p, _)| p.id.clone()).collect();
        let mut n = 0;
        for rung in ladder.iter().filter(|r| i64::from(r.after) <= open_days) {
            let mut r = Recipients::default();
            for p in who.of(rung.to) {
                if !told.contains(&p.id) && (rung.to != Audience::Superusers || p.active()) {
                    r.add(p, Role::Admin);
                }
            }
            let r = self.active_only(r);
            told.extend(r.list.iter().map(|(p, _)| p.id.clone()));
            if r.list.is_empty() {
                continue;
            }
            let (t, disc) = match held {
                // Once per hold, whatever the rung: the person would have been told next.
                Some(h) => (
                    held_texts(base_t.texts(), h, rung.to),
                    format!("{ESCALATION_DISC}{}{}", h.kind.as_str(), h.id),
                ),
                None => (
                    escalation_texts(base_t.texts(), rung.after, rung.to, since),
                    format!("{ESCALATION_DISC}J{}:{}", rung.after, s.arm),
                ),
            };
            let before = self.out.alerts.len();
            n += self.emit(s, &t, &r, Dedup::Once(&disc));
            for a in &mut self.out.alerts[before..] {
                a.reason = format!("vous êtes {} (escalade)", rung.to.label());
                a.rule = match held {
                    Some(h) => format!(
                        "{}, escalade {} : {} par {}",
                        a.rule,
                        after_open_days(rung.after),
                        match h.kind {
                            super::hold::HoldKind::Ack => "acquittée",
                            super::hold::HoldKind::Snooze => "reportée",
                        },
                        h.by
                    ),
                    None => format!("{}, escalade {}", a.rule, after_open_days(rung.after)),
                };
            }
        }
        n
    }

    /// Records milestones passed over by catch-up (ledger only: no alert, no mail).
    pub fn supersede(&mut self, s: &Subject, typ: &str, recips: &Recipients, disc: &str) {
        for (p, _) in &recips.list {
            let (key, dup) = self.key(s, typ, &p.id, Dedup::Once(disc));
            if dup {
                continue;
            }
            self.out.superseded.push(Superseded {
                key,
                check: s.check,
                alert_type: typ.to_owned(),
                entity_id: s.entity_id.to_owned(),
                recipient_id: p.id.clone(),
            });
        }
    }

    /// Closes one due entity: one that produced no row counts as "ignorée" (the reference's
    /// counter, which counts entities, not duplicates).
    pub fn entity_done(&mut self, created: usize) {
        if created == 0 {
            self.out.counters.ignored_entities += 1;
        }
    }

    pub fn finish(mut self) -> Decisions {
        self.out.counters.superseded = self.out.superseded.len() as u64;
        self.out
    }
}

/// Discriminators of escalation keys start with this.
const ESCALATION_DISC: &str = "escalade=";

/// The people an escalation rung can add, for one entity.
#[derive(Default)]
pub struct Audiences<'p> {
    pub createur: Option<&'p Person>,
    pub responsable: Option<&'p Person>,
    pub team: &'p [super::people::Member],
    pub superusers: &'p [Person],
}

impl<'p> Audiences<'p> {
    fn of(&self, a: Audience) -> Vec<&'p Person> {
        match a {
            Audience::Createur => self.createur.into_iter().collect(),
            Audience::Responsable => self.responsable.into_iter().collect(),
            Audience::Team => self.team.iter().map(|(_, p)| &**p).collect(),
            Audience::Superusers => self.superusers.iter().collect(),
        }
    }
}

/// The earliest day an alert of `check` may have begun for its ladder to matter: the last
/// rung's open days back from today, and a day more (today without a ladder).
pub fn ladder_reach(rules: &Rules, check: &str, today: NaiveDate) -> NaiveDate {
    let Some(last) = rules.ladder(check).iter().map(|r| r.after).max() else {
        return today;
    };
    rules
        .calendar
        .open_days_before(today, last)
        .and_then(|d| d.pred_opt())
        .unwrap_or(today)
}

/// When a rung begins: `dès le premier jour`, `après 3 jours ouvrés`.
fn after_open_days(n: u32) -> String {
    match n {
        0 => "dès le premier jour".to_owned(),
        1 => "après 1 jour ouvré".to_owned(),
        n => format!("après {n} jours ouvrés"),
    }
}

/// The alert told to a rung: the check's title and message, said to be an escalation.
fn escalation_texts(base: &Texts, after: u32, to: Audience, since: NaiveDate) -> Texts {
    let (titre, truncated) = super::wording::fit_title("⏫ Escalade - ", &base.titre, "");
    let mut context = std::sync::Arc::clone(&base.context);
    if let Some(o) = std::sync::Arc::make_mut(&mut context).as_object_mut() {
        o.insert("escalade".to_owned(), serde_json::json!(after));
        o.insert(
            "escalade_depuis".to_owned(),
            serde_json::json!(since.to_string()),
        );
    }
    let jours = after_open_days(after);
    Texts {
        alert_type: base.alert_type.clone(),
        niveau: Some(crate::states::Niveau::Danger),
        titre,
        truncated: truncated || base.truncated,
        fixed: format!(
            "Escalade : cette alerte est sans suite {jours} (depuis le {}). {}",
            super::wording::fr_date(since),
            if base.fixed.is_empty() {
                // The task check says it all in its per-role sentences.
                base.message(Role::Responsable)
            } else {
                base.fixed.clone()
            }
        ),
        sentences: vec![(
            Role::Admin,
            format!(
                "Vous en êtes informé(e) en tant que {} : le suivi habituel n'a pas suffi.",
                to.label()
            ),
        )],
        context,
    }
}

/// What an escalated person is told instead of the escalation while the alert is held: who
/// acknowledged it (or put it off until when), and when, in one line.
fn held_texts(base: &Texts, h: &super::hold::Hold, to: Audience) -> Texts {
    use super::hold::HoldKind;
    let (prefix, line) = match h.kind {
        HoldKind::Ack => (
            "✅ Acquittée - ",
            format!(
                "Alerte acquittée par {} le {} : ses rappels et son escalade s'arrêtent tant que son échéance ne change pas.",
                h.by,
                super::wording::fr_date(h.on)
            ),
        ),
        HoldKind::Snooze => (
            "⏸ Reportée - ",
            format!(
                "Alerte reportée par {} le {} jusqu'au {} : ses rappels et son escalade reprendront alors si elle est toujours d'actualité.",
                h.by,
                super::wording::fr_date(h.on),
                h.until.map(super::wording::fr_date).unwrap_or_default()
            ),
        ),
    };
    let (titre, truncated) = super::wording::fit_title(prefix, &base.titre, "");
    let mut context = std::sync::Arc::clone(&base.context);
    if let Some(o) = std::sync::Arc::make_mut(&mut context).as_object_mut() {
        o.insert(
            "acquittement".to_owned(),
            serde_json::json!({"type": h.kind.as_str(), "par": h.by, "le": h.on.to_string(),
                "jusqu_au": h.until.map(|d| d.to_string()), "note": h.note}),
        );
    }
    let note = h
        .note
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .map(|n| format!(" Note : {}", n.trim()))
        .unwrap_or_default();
    Texts {
        alert_type: base.alert_type.clone(),
        niveau: Some(crate::states::Niveau::Info),
        titre,
        truncated: truncated || base.truncated,
        fixed: format!("{line}{note}"),
        sentences: vec![(
            Role::Admin,
            format!(
                "Vous en êtes informé(e) en tant que {} : l'escalade est suspendue.",
                to.label()
            ),
        )],
        context,
    }
}

/// The alert types whose ledger keys a check reads whatever their date: `own`, or `with` (own
/// and [`ESCALATION`]) when the check has a ladder; without one, nothing changes how it reads.
pub fn escalation_keys(
    rules: &Rules,
    check: &str,
    own: &'static [&'static str],
    with: &'static [&'static str],
) -> &'static [&'static str] {
    if rules.ladder(check).is_empty() {
        own
    } else {
        with
    }
}

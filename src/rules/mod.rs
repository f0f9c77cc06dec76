//! The pure rule engine: shared pieces (people and roles, day wording, texts, keys, the
//! de-duplication memory, counters) and one file per check. No I/O here.

pub mod budget;
pub mod contracts;
pub mod deadlines;
pub mod stages;
pub mod tasks;

use crate::config::Rules;
use crate::states::Niveau;
use chrono::{Datelike, NaiveDate};
use std::collections::{BTreeMap, HashSet};

/// The longest `titre` the web application's column accepts (varchar(200), strict mode).
pub const TITLE_MAX: usize = 200;

/// A user as the checks see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: String,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub is_superuser: bool,
    pub is_active: bool,
    pub statut_actif: bool,
}

impl Person {
    /// `first_name + " " + last_name`, trimmed; empty when both are (no username fallback).
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
            .trim()
            .to_owned()
    }

    /// Inactive accounts (the recommended profile skips them).
    pub fn active(&self) -> bool {
        self.is_active && self.statut_actif
    }
}

/// Why someone receives an alert; decides the role sentence. When one person holds several
/// roles, the first in this order wins (the reference's `if` chains).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// The task's assignee (task check only).
    Assignee,
    /// The project's responsable principal.
    Responsable,
    /// The project's createur ("administrateur" in four checks).
    Createur,
    /// A superuser ("administrateur" in the contract check).
    Admin,
    /// Any other member of the project team.
    Team,
}

/// Which table an alert goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Target {
    #[serde(rename = "core_alerteprojet")]
    Alerte,
    #[serde(rename = "core_notificationetape")]
    NotificationEtape,
}

impl Target {
    pub fn table(self) -> &'static str {
        match self {
            Target::Alerte => "core_alerteprojet",
            Target::NotificationEtape => "core_notificationetape",
        }
    }
}

/// Project facts that mails show; carried into the outbox snapshot.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProjectInfo {
    pub id: String,
    pub nom: String,
    pub client: String,
    pub statut: String,
}

/// One alert row to create, with its ledger key and the facts its mail needs.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NewAlert {
    pub key: String,
    pub check: &'static str,
    pub target: Target,
    pub alert_type: String,
    pub niveau: Option<Niveau>,
    #[serde(skip)]
    pub recipient: Person,
    pub recipient_id: String,
    pub recipient_name: String,
    pub recipient_username: String,
    pub projet: ProjectInfo,
    /// The entity the alert is about (project, stage, task or contract id).
    pub entity_id: String,
    /// For `core_notificationetape`: the stage, and its order in the project (mails show it).
    pub etape_id: Option<String>,
    pub etape_ordre: Option<i64>,
    pub titre: String,
    pub message: String,
    pub context: serde_json::Value,
    pub title_truncated: bool,
}

/// A milestone passed over by catch-up: recorded in the ledger, never alerted nor mailed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Superseded {
    pub key: String,
    pub check: &'static str,
    pub alert_type: String,
    pub entity_id: String,
    pub recipient_id: String,
}

/// Counters of one check run.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Counters {
    pub candidates: u64,
    pub created: u64,
    pub duplicates: u64,
    pub superseded: u64,
    /// Entities that were due but produced no row (the reference's "ignorées").
    pub ignored_entities: u64,
    pub skipped: BTreeMap<String, u64>,
    /// Values read in spite of a defect, by defect: `invalid_utf8` (text with bytes that are
    /// not UTF-8, read with U+FFFD), `unreadable_context` (an alert row whose context is not a
    /// JSON object, de-duplicated from its columns). Each is logged where it is found.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub repaired: BTreeMap<String, u64>,
    pub by_type: BTreeMap<String, u64>,
    pub mails_queued: u64,
    pub mails_skipped: BTreeMap<String, u64>,
    pub title_truncated: u64,
    /// Statements of the check itself (mail delivery excluded: it is one per message).
    pub queries: u64,
    /// Delivery at the end of the run (all due mail, this run's and earlier): outbox rows sent,
    /// failed (retried later), dead, and left queued because the relay could not be reached.
    pub mails_sent: u64,
    pub mails_failed: u64,
    pub mails_dead: u64,
    pub mails_deferred: u64,
}

impl Counters {
    pub fn skip(&mut self, reason: &str) {
        self.skip_n(reason, 1);
    }
    pub fn skip_n(&mut self, reason: &str, n: u64) {
        if n > 0 {
            *self.skipped.entry(reason.to_owned()).or_default() += n;
        }
    }
    pub fn repair_n(&mut self, defect: &str, n: u64) {
        if n > 0 {
            *self.repaired.entry(defect.to_owned()).or_default() += n;
        }
    }
    pub fn skip_mail(&mut self, reason: &str) {
        *self.mails_skipped.entry(reason.to_owned()).or_default() += 1;
    }

    /// Adds the counters of another step of the same run.
    pub fn absorb(&mut self, o: Counters) {
        self.candidates += o.candidates;
        self.created += o.created;
        self.duplicates += o.duplicates;
        self.superseded += o.superseded;
        self.ignored_entities += o.ignored_entities;
        for (k, v) in o.skipped {
            *self.skipped.entry(k).or_default() += v;
        }
        for (k, v) in o.by_type {
            *self.by_type.entry(k).or_default() += v;
        }
        for (k, v) in o.repaired {
            *self.repaired.entry(k).or_default() += v;
        }
        self.mails_queued += o.mails_queued;
        for (k, v) in o.mails_skipped {
            *self.mails_skipped.entry(k).or_default() += v;
        }
        self.title_truncated += o.title_truncated;
        self.queries += o.queries;
        self.mails_sent += o.mails_sent;
        self.mails_failed += o.mails_failed;
        self.mails_dead += o.mails_dead;
        self.mails_deferred += o.mails_deferred;
    }

    /// Counts one alert recorded (or, in a dry run, that would be), with its mail decision.
    pub fn count_created(&mut self, a: &NewAlert, mail: Result<(), &str>) {
        self.created += 1;
        *self.by_type.entry(a.alert_type.clone()).or_default() += 1;
        if a.title_truncated {
            self.title_truncated += 1;
        }
        match mail {
            Ok(()) => self.mails_queued += 1,
            Err(reason) => self.skip_mail(reason),
        }
    }
}

/// What a rule decided for the run.
#[derive(Debug, Default)]
pub struct Decisions {
    pub alerts: Vec<NewAlert>,
    pub superseded: Vec<Superseded>,
    pub counters: Counters,
}

/// What was already recorded: ledger keys, and alert rows present in the web application's
/// tables (written earlier by Django, the web application or sigov).
#[derive(Debug, Default)]
pub struct Seen {
    pub keys: HashSet<String>,
    /// (recipient, entity, type, business date of `date_creation`)
    pub daily: HashSet<(String, String, String, NaiveDate)>,
    /// (recipient, entity, type, discriminator read from the row's JSON context: a due date
    /// `due=YYYY-MM-DD`, an end date, or `""` for "once ever")
    pub once: HashSet<(String, String, String, String)>,
    /// Rows whose JSON context cannot be read (not JSON, or not an object): what can be read of
    /// them, (recipient, entity column: project or stage, type, business date). A candidate of
    /// the same recipient, project (or stage) and type is taken as already alerted, that day for
    /// a daily alert, ever for a once-only one: a row that cannot be read never causes a
    /// duplicate (it may, at worst, hold back an alert of another task of the same project).
    pub unreadable: HashSet<(String, String, String, Option<NaiveDate>)>,
    /// Ids of those rows (counted once per run as `unreadable_context`).
    pub unreadable_ids: Vec<i64>,
}

/// How a check's existing alert rows are read back for de-duplication (the source layer runs
/// it; the check supplies it).
pub struct SeenSpec {
    pub check: &'static str,
    pub target: Target,
    pub types: Vec<String>,
    /// Rows and ledger keys from this business date on; `None`: the whole history.
    pub since: Option<NaiveDate>,
    /// Alert types whose ledger keys are read whatever their business date: keys that stay
    /// valid longer than `since` reaches back (budget thresholds: once per planned budget).
    pub keys_of_any_date: &'static [&'static str],
    /// The de-duplication entity of a stored row, from its entity column (`projet_id` or
    /// `etape_id`) and its JSON context; `None` when the row cannot be one of ours.
    pub entity: fn(&str, &serde_json::Value) -> Option<String>,
    /// The "once" discriminators of a stored row, from its type and JSON context.
    pub discriminators: fn(&str, &serde_json::Value) -> Vec<String>,
}

/// The entity column as it is (projects, stages).
pub fn entity_column(col: &str, _: &serde_json::Value) -> Option<String> {
    Some(col.to_owned())
}

/// No "once" discriminator (daily checks).
pub fn no_discriminators(_: &str, _: &serde_json::Value) -> Vec<String> {
    Vec::new()
}

/// The JSON string `field` of a context, if present.
pub fn json_str<'a>(v: &'a serde_json::Value, field: &str) -> Option<&'a str> {
    v.get(field).and_then(|x| x.as_str())
}

impl Seen {
    /// Was a daily alert recorded for any business day in `window` (inclusive)?
    pub fn daily_in(
        &self,
        key_prefix: &str,
        rec: &str,
        entity: &str,
        typ: &str,
        window: (NaiveDate, NaiveDate),
    ) -> bool {
        let mut d = window.0;
        while d <= window.1 {
            if self
                .daily
                .contains(&(rec.to_owned(), entity.to_owned(), typ.to_owned(), d))
                || self.keys.contains(&format!("{key_prefix}:{d}"))
            {
                return true;
            }
            match d.succ_opt() {
                Some(n) => d = n,
                None => break,
            }
        }
        false
    }
}

/// `1 jour`, `N jours`.
pub fn jours(n: i64) -> String {
    if n == 1 {
        "1 jour".to_owned()
    } else {
        format!("{n} jours")
    }
}

/// `dd/mm/YYYY`.
pub fn fr_date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// Compact (column) form of a UUID: lower case, no hyphens; other ids as they are.
pub fn unhyphenate(id: &str) -> String {
    if id.len() == 36 && id.chars().filter(|c| *c == '-').count() == 4 {
        id.replace('-', "").to_ascii_lowercase()
    } else {
        id.to_owned()
    }
}

/// Hyphenated form of a char(32) UUID, as the reference writes inside JSON; other ids as they are.
pub fn hyphenate(id: &str) -> String {
    if id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        format!(
            "{}-{}-{}-{}-{}",
            &id[0..8],
            &id[8..12],
            &id[12..16],
            &id[16..20],
            &id[20..32]
        )
    } else {
        id.to_owned()
    }
}

/// Builds `prefix + name + suffix`, shortening `name` with `…` so that the whole fits in
/// `TITLE_MAX` characters. Returns the title and whether it was shortened.
pub fn fit_title(prefix: &str, name: &str, suffix: &str) -> (String, bool) {
    let fixed = prefix.chars().count() + suffix.chars().count();
    if fixed + name.chars().count() <= TITLE_MAX {
        return (format!("{prefix}{name}{suffix}"), false);
    }
    let keep = TITLE_MAX.saturating_sub(fixed + 1);
    let short: String = name.chars().take(keep).collect();
    (format!("{prefix}{short}…{suffix}"), true)
}

/// Label of a project status code, as the web application shows it.
pub fn statut_label(code: &str) -> String {
    match code {
        "IDEE" => "Idée",
        "AFFECTE" => "Affecté",
        "PLANIFIE" => "Planifié",
        "EN_COURS" => "En cours",
        "SUSPENDU" => "Suspendu",
        "TERMINE" => "Terminé",
        "ARCHIVE" => "Archivé",
        other => other,
    }
    .to_owned()
}

/// An address mail can be sent to: lettre parses it, and its domain has a dot.
pub fn plausible_email(e: &str) -> bool {
    // The one validator, at queue time as at send time: what lettre (which builds and sends the
    // message) accepts, and a domain with a dot (a bare host is a typo here, not a mail domain).
    let e = e.trim();
    e.parse::<lettre::Address>()
        .is_ok_and(|a| a.domain().contains('.') && !a.domain().ends_with('.'))
}

/// Recipients of one entity: a set (one row per user), each with the strongest role.
#[derive(Debug, Default)]
pub struct Recipients {
    pub list: Vec<(Person, Role)>,
}

impl Recipients {
    /// The project's createur and responsable principal (when they exist).
    pub fn createur_and_responsable(
        createur: Option<&Person>,
        responsable: Option<&Person>,
    ) -> Recipients {
        let mut r = Recipients::default();
        if let Some(p) = createur {
            r.add(p, Role::Createur);
        }
        if let Some(p) = responsable {
            r.add(p, Role::Responsable);
        }
        r
    }

    pub fn add(&mut self, p: &Person, role: Role) {
        match self.list.iter_mut().find(|(q, _)| q.id == p.id) {
            Some((_, r)) => {
                if role < *r {
                    *r = role;
                }
            }
            None => self.list.push((p.clone(), role)),
        }
    }
}

/// What an alert is about, as its key and its row name it.
pub struct Subject<'a> {
    pub check: &'static str,
    pub target: Target,
    /// The de-duplication entity: a project, a stage, `project/task` or `project/contract`.
    pub entity: String,
    /// The entity's own id, recorded in the ledger (project, stage, task or contract).
    pub entity_id: &'a str,
    pub projet: &'a ProjectInfo,
    pub etape_id: Option<&'a str>,
    pub etape_ordre: Option<i64>,
}

/// The texts of one alert for one entity. The message is `fixed` followed by the sentence of
/// the recipient's role (none when the role has no sentence).
pub struct Texts {
    pub alert_type: String,
    pub niveau: Option<Niveau>,
    pub titre: String,
    pub truncated: bool,
    pub fixed: String,
    pub sentences: Vec<(Role, String)>,
    pub context: serde_json::Value,
}

impl Texts {
    pub fn message(&self, role: Role) -> String {
        let s = self
            .sentences
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, s)| s.as_str())
            .unwrap_or("");
        format!("{}{}", self.fixed, s)
    }
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
}

impl<'a> Engine<'a> {
    pub fn new(rules: &'a Rules, today: NaiveDate, seen: &'a Seen) -> Engine<'a> {
        let window_start = today
            .checked_sub_days(chrono::Days::new(u64::from(
                rules.repeat_every_days.saturating_sub(1),
            )))
            .unwrap_or(today);
        Engine {
            rules,
            today,
            seen,
            out: Decisions::default(),
            window_start,
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
                let dup = self.seen.keys.contains(&key)
                    || self.seen.once.contains(&(
                        rec.to_owned(),
                        s.entity.clone(),
                        typ.to_owned(),
                        disc.to_owned(),
                    ))
                    || self.unreadable_match(s, typ, rec, None);
                (key, dup)
            }
        }
    }

    /// Records one alert per recipient that has not had it yet; returns how many.
    pub fn emit(&mut self, s: &Subject, t: &Texts, recips: &Recipients, dedup: Dedup) -> usize {
        let mut n = 0;
        for (p, role) in &recips.list {
            let (key, dup) = self.key(s, &t.alert_type, &p.id, dedup);
            if dup {
                self.out.counters.duplicates += 1;
                continue;
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
                projet: s.projet.clone(),
                entity_id: s.entity_id.to_owned(),
                etape_id: s.etape_id.map(str::to_owned),
                etape_ordre: s.etape_ordre,
                titre: t.titre.clone(),
                message: t.message(*role),
                context: t.context.clone(),
                title_truncated: t.truncated,
            });
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

/// Milestone catch-up shared by project deadlines and contract expiry: with `d` days left
/// (0 ≤ d), the milestone to emit and the larger ones it passes over. Without catch-up (the
/// reference), only exact-day equality fires and nothing is passed over.
pub fn milestone_at(milestones: &[u32], d: i64, catch_up: bool) -> Option<(u32, Vec<u32>)> {
    let du = u32::try_from(d).ok()?;
    if !catch_up {
        return milestones.contains(&du).then(|| (du, Vec::new()));
    }
    let reached: Vec<u32> = milestones.iter().copied().filter(|m| *m >= du).collect();
    let emit = reached.iter().copied().min()?;
    Some((emit, reached.into_iter().filter(|m| *m != emit).collect()))
}

/// A decimal amount held in cents, printed the reference's way: 2 decimals, `.`, no
/// thousands separator.
pub fn cents(v: i64) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// Shared fixtures of the rule tests.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::{Person, ProjectInfo};
    use crate::config::{Profile, Rules};
    use chrono::NaiveDate;

    pub fn person(id: &str, active: bool) -> Person {
        Person {
            id: id.into(),
            username: id.into(),
            first_name: format!("Prénom-{id}"),
            last_name: "Test".into(),
            email: format!("{id}@sigov.test"),
            is_superuser: false,
            is_active: active,
            statut_actif: true,
        }
    }

    pub fn projet() -> ProjectInfo {
        ProjectInfo {
            id: "p1".into(),
            nom: "R&D <Alpha>".into(),
            client: "C".into(),
            statut: "En cours".into(),
        }
    }

    pub fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    /// The recommended profile with its documented defaults.
    pub fn recommended() -> Rules {
        Rules {
            profile: Profile::Recommended,
            tz: chrono_tz::Europe::Paris,
            utc_today: false,
            catch_up: true,
            milestones: vec![7, 3, 1, 0],
            team_milestones: vec![7],
            repeat_every_days: 1,
            skip_inactive: true,
            stage_labels: true,
            module_tasks: true,
            skip_closed_project_tasks: true,
            budget_thresholds: vec![75, 90],
            contract_milestones: vec![30],
            contract_active_superusers: true,
            expired_lookback_days: Some(30),
            renewal_covers: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_wording() {
        assert_eq!(jours(1), "1 jour");
        assert_eq!(jours(0), "0 jours");
        assert_eq!(jours(16), "16 jours");
    }

    #[test]
    fn uuid_forms() {
        assert_eq!(
            hyphenate("3ee9d7cd426d4cd0bd94d0c09878c2cf"),
            "3ee9d7cd-426d-4cd0-bd94-d0c09878c2cf"
        );
        assert_eq!(hyphenate("42"), "42");
    }

    #[test]
    fn titles_fit_the_column() {
        let long = "é".repeat(200);
        let (t, cut) = fit_title("⚠️ Projet ", &long, " - Fin dans 7 jours");
        assert!(cut);
        assert_eq!(t.chars().count(), TITLE_MAX);
        assert!(t.ends_with("… - Fin dans 7 jours"));
        let (t, cut) = fit_title("a", "b", "c");
        assert_eq!((t.as_str(), cut), ("abc", false));
    }

    #[test]
    fn emails() {
        assert!(plausible_email("a.b@sigov.test"));
        assert!(!plausible_email(""));
        assert!(!plausible_email("pas-une-adresse"));
        assert!(!plausible_email("a@b"));
        assert!(!plausible_email("a b@c.fr"));
        assert!(!plausible_email("a@c.fr\r\nBcc: x@y.z"));
        // What the sender would refuse is refused when the alert is recorded, not at send time.
        assert!(!plausible_email("a..b@sigov.test"));
        assert!(!plausible_email("a@@sigov.test"));
        assert!(!plausible_email("<a@sigov.test>"));
    }

    #[test]
    fn strongest_role_wins() {
        let p = Person {
            id: "u".into(),
            username: "u".into(),
            first_name: "A".into(),
            last_name: "B".into(),
            email: String::new(),
            is_superuser: true,
            is_active: true,
            statut_actif: true,
        };
        let mut r = Recipients::default();
        r.add(&p, Role::Team);
        r.add(&p, Role::Createur);
        r.add(&p, Role::Team);
        assert_eq!(r.list.len(), 1);
        assert_eq!(r.list[0].1, Role::Createur);
    }
}

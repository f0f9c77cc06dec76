//! The pure rule engine: shared pieces (people and roles, day wording, texts, keys, the
//! de-duplication memory, counters) and one file per check. No I/O here.

pub mod deadlines;

use chrono::NaiveDate;
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

/// Why someone receives an alert; decides the role sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Responsable,
    Createur,
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
    pub niveau: Option<&'static str>,
    #[serde(skip)]
    pub recipient: Person,
    pub recipient_id: String,
    pub recipient_name: String,
    pub recipient_username: String,
    pub projet: ProjectInfo,
    /// The entity the alert is about (project, stage, task or contract id).
    pub entity_id: String,
    /// For `core_notificationetape`: the stage.
    pub etape_id: Option<String>,
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
    pub by_type: BTreeMap<String, u64>,
    pub mails_queued: u64,
    pub mails_skipped: BTreeMap<String, u64>,
    pub title_truncated: u64,
    pub queries: u64,
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
    pub fn skip_mail(&mut self, reason: &str) {
        *self.mails_skipped.entry(reason.to_owned()).or_default() += 1;
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
    /// (recipient, project or entity, type, business date of `date_creation`)
    pub daily: HashSet<(String, String, String, NaiveDate)>,
    /// (recipient, project, type, due date from the JSON context)
    pub milestones: HashSet<(String, String, String, NaiveDate)>,
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

/// A syntactically plausible address: one `@`, both sides non-empty, no spaces or controls.
pub fn plausible_email(e: &str) -> bool {
    let e = e.trim();
    match e.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

/// Recipients of one entity: a set (one row per user), each with the strongest role.
#[derive(Debug, Default)]
pub struct Recipients {
    pub list: Vec<(Person, Role)>,
}

impl Recipients {
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

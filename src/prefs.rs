//! People's choices (`sigov prefs`, table `sigov_preference`, sigov's own): per user, mutes (a
//! check, an alert type or a project, until a date or for good), per-alert mail or a daily
//! digest at an hour, and an "all mail off" switch. Only mail follows them: the alert rows are
//! written whatever the choice (the web application shows them).
//!
//! One row a (user, setting): `mail` = `off`; `delivery` = `digest HH:MM`;
//! `mute:check:<check>`, `mute:type:<TYPE>`, `mute:project:<project id>` = `on`, with an
//! optional last day (`until_date`, inclusive).

use crate::db::schema::sigov_preference::dsl as p;
use crate::db::{dsl_execute, dsl_load, Db};
use crate::rules::calendar::MailWindow;
use crate::rules::{MailPlan, NewAlert};
use anyhow::{Context, Result};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;
use diesel::{BoolExpressionMethods, ExpressionMethods, QueryDsl};
use std::collections::HashMap;

/// What a mute is about.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum Muted {
    /// A check by name (`tasks`).
    Check(String),
    /// An alert type (`TACHES_EN_RETARD`).
    Type(String),
    /// A project by id.
    Project(String),
}

impl Muted {
    /// `check:tasks`, `type:TACHES_EN_RETARD`, `project:<id>`: what `--mute` takes; `checks`:
    /// the check names there are; `types`: the alert types they write (`<n>`: a number).
    pub fn parse(s: &str, checks: &[&str], types: &[&str]) -> Result<Muted> {
        let (kind, what) = s.split_once(':').unwrap_or((s, ""));
        let what = what.trim();
        if what.is_empty() || what.len() > 150 {
            crate::usage!("--mute `{s}`: expected check:NAME, type:TYPE or project:ID");
        }
        Ok(match kind.trim() {
            "check" => {
                if !checks.contains(&what) {
                    crate::usage!("--mute check:{what}: no such check ({})", checks.join(", "));
                }
                Muted::Check(what.to_owned())
            }
            "type" => {
                if !what
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                {
                    crate::usage!(
                        "--mute type:{what}: an alert type is upper case (TACHES_EN_RETARD)"
                    );
                }
                let written = types.iter().any(|t| match t.strip_suffix("<n>") {
                    Some(prefix) => what
                        .strip_prefix(prefix)
                        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())),
                    None => what == *t,
                });
                if !written {
                    crate::usage!(
                        "--mute type:{what}: no check writes this alert type ({})",
                        types.join(", ")
                    );
                }
                Muted::Type(what.to_owned())
            }
            "project" => Muted::Project(what.to_owned()),
            _ => crate::usage!("--mute `{s}`: expected check:NAME, type:TYPE or project:ID"),
        })
    }

    fn name(&self) -> String {
        match self {
            Muted::Check(c) => format!("mute:check:{c}"),
            Muted::Type(t) => format!("mute:type:{t}"),
            Muted::Project(id) => format!("mute:project:{id}"),
        }
    }

    fn from_name(name: &str) -> Option<Muted> {
        let rest = name.strip_prefix("mute:")?;
        let (kind, what) = rest.split_once(':')?;
        match kind {
            "check" => Some(Muted::Check(what.to_owned())),
            "type" => Some(Muted::Type(what.to_owned())),
            "project" => Some(Muted::Project(what.to_owned())),
            _ => None,
        }
    }

    fn matches(&self, a: &NewAlert) -> bool {
        match self {
            Muted::Check(c) => a.check == c,
            Muted::Type(t) => &a.alert_type == t,
            Muted::Project(id) => {
                crate::rules::unhyphenate(&a.projet.id) == crate::rules::unhyphenate(id)
            }
        }
    }
}

/// One person's choices.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct UserPrefs {
    pub mail_off: bool,
    /// A daily digest at this local time (`None`: one mail per alert).
    #[serde(serialize_with = "ser_time")]
    pub digest: Option<NaiveTime>,
    pub mutes: Vec<Mute>,
}

/// A mute and its last day (`None`: for good).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Mute {
    #[serde(flatten)]
    pub what: Muted,
    pub until: Option<NaiveDate>,
}

fn ser_time<S: serde::Serializer>(t: &Option<NaiveTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&t.format("%H:%M").to_string()),
        None => s.serialize_none(),
    }
}

/// Everyone's choices, read once a run (the table holds a few rows a person).
#[derive(Debug, Default)]
pub struct Prefs {
    users: HashMap<String, UserPrefs>,
}

#[derive(diesel::Queryable)]
struct Row {
    user_id: String,
    name: String,
    value: String,
    until_date: Option<NaiveDate>,
}

fn absorb(u: &mut UserPrefs, name: &str, value: &str, until: Option<NaiveDate>) {
    match name {
        "mail" => u.mail_off = value == "off",
        "delivery" => {
            u.digest = value
                .strip_prefix("digest ")
                .and_then(|t| NaiveTime::parse_from_str(t.trim(), "%H:%M").ok());
        }
        _ => {
            if let Some(m) = Muted::from_name(name) {
                u.mutes.push(Mute { what: m, until });
            } else {
                log::warn!("sigov_preference: unknown setting `{name}`; ignored");
            }
        }
    }
}

impl Prefs {
    /// Reads every choice (one statement).
    pub fn load(db: &mut Db) -> Result<Prefs> {
        let rows: Vec<Row> = dsl_load!(
            db,
            p::sigov_preference.select((p::user_id, p::name, p::value, p::until_date))
        )
        .context("cannot read people's choices (sigov_preference)")?;
        let mut users: HashMap<String, UserPrefs> = HashMap::new();
        for r in rows {
            absorb(
                users.entry(r.user_id).or_default(),
                &r.name,
                &r.value,
                r.until_date,
            );
        }
        Ok(Prefs { users })
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// What is silenced on business day `today`: mutes in force, and people with all mail off.
    pub fn silences(&self, today: NaiveDate) -> (usize, usize) {
        let mutes = self
            .users
            .values()
            .flat_map(|u| &u.mutes)
            .filter(|m| m.until.is_none_or(|d| d >= today))
            .count();
        let off = self.users.values().filter(|u| u.mail_off).count();
        (mutes, off)
    }

    /// How `a`'s mail goes on business day `today` at `now` (UTC), in time zone `tz`; a daily
    /// digest whose hour falls outside the send `window` goes at its next opening, with the
    /// digests of the days it waited (one mail).
    #[allow(clippy::too_many_arguments)]
    pub fn plan(
        &self,
        a: &NewAlert,
        today: NaiveDate,
        now: NaiveDateTime,
        tz: Tz,
        window: Option<&MailWindow>,
        critical: Critical,
    ) -> MailPlan {
        let urgent = critical.applies(a);
        let Some(u) = self.users.get(&a.recipient_id) else {
            return critical.plan(a);
        };
        if u.mail_off {
            return MailPlan::Off("mail_off");
        }
        if u.mutes
            .iter()
            .any(|m| m.until.is_none_or(|d| today <= d) && m.what.matches(a))
            && !(urgent && critical.overrides_mute)
        {
            return MailPlan::Off("muted");
        }
        if urgent {
            return MailPlan::Urgent;
        }
        match u.digest {
            None => MailPlan::Now,
            Some(at) => {
                let (mut day, mut at) = next_at(today, at, now, tz);
                if let Some(Some(opens)) = window.and_then(|w| w.held_until(at)) {
                    at = opens;
                    day = chrono::TimeZone::from_utc_datetime(&tz, &opens).date_naive();
                }
                MailPlan::Batch {
                    at,
                    key: format!("daily:{day}:{}", a.recipient_id),
                }
            }
        }
    }
}

/// `mail.critical_bypass` and `mail.critical_overrides_mute`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Critical {
    pub bypass: bool,
    pub overrides_mute: bool,
}

impl Critical {
    /// Whether `a` is a critical alert that does not wait (level DANGER, bypass on).
    pub fn applies(self, a: &NewAlert) -> bool {
        self.bypass && a.niveau == Some(crate::states::Niveau::Danger)
    }

    /// The plan of `a`'s mail without any choice of its recipient.
    pub fn plan(self, a: &NewAlert) -> MailPlan {
        if self.applies(a) {
            MailPlan::Urgent
        } else {
            MailPlan::Now
        }
    }
}

/// The first `at` (local) from `now` on: today's when it is still ahead, else tomorrow's;
/// with its local date.
fn next_at(
    today: NaiveDate,
    at: NaiveTime,
    now: NaiveDateTime,
    tz: Tz,
) -> (NaiveDate, NaiveDateTime) {
    let local = |d: NaiveDate| crate::clock::local_to_utc(tz, d.and_time(at));
    let t = local(today);
    if t >= now {
        return (today, t);
    }
    let next = today.succ_opt().unwrap_or(today);
    (next, local(next))
}

/// A user of the web application, found by username or id.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub username: String,
}

/// The user `who` names (username first, then id); an error names it when none matches.
pub fn find_user(db: &mut Db, who: &str) -> Result<User> {
    let people = crate::source::people_named(db, who)?;
    match people.into_iter().next() {
        Some(p) => Ok(User {
            id: p.id,
            username: p.username,
        }),
        None => crate::usage!("no user `{who}` in core_utilisateur (a username or an id)"),
    }
}

/// One user's choices.
pub fn of_user(db: &mut Db, user_id: &str) -> Result<UserPrefs> {
    let rows: Vec<Row> = dsl_load!(
        db,
        p::sigov_preference.filter(p::user_id.eq(user_id)).select((
            p::user_id,
            p::name,
            p::value,
            p::until_date
        ))
    )
    .context("cannot read people's choices (sigov_preference)")?;
    let mut u = UserPrefs::default();
    for r in rows {
        absorb(&mut u, &r.name, &r.value, r.until_date);
    }
    Ok(u)
}

/// A change `sigov prefs set` makes.
#[derive(Debug, Clone)]
pub enum Change {
    MailOff(bool),
    Digest(Option<NaiveTime>),
    Mute(Muted, Option<NaiveDate>),
}

/// Writes `changes` for `user_id` (each replaces the setting it names), in one transaction.
pub fn set(db: &mut Db, user_id: &str, changes: &[Change], now: NaiveDateTime) -> Result<()> {
    let now = crate::clock::to_micros(now);
    db.transaction_retrying(|db| {
        for c in changes {
            let (name, value, until) = match c {
                Change::MailOff(off) => (
                    "mail".to_owned(),
                    if *off { "off" } else { "on" }.to_owned(),
                    None,
                ),
                Change::Digest(Some(t)) => (
                    "delivery".to_owned(),
                    format!("digest {}", t.format("%H:%M")),
                    None,
                ),
                Change::Digest(None) => ("delivery".to_owned(), "per_alert".to_owned(), None),
                Change::Mute(m, until) => (m.name(), "on".to_owned(), *until),
            };
            dsl_execute!(
                db,
                diesel::delete(
                    p::sigov_preference.filter(p::user_id.eq(user_id).and(p::name.eq(&name)))
                )
            )
            .context("cannot change people's choices (sigov_preference)")?;
            dsl_execute!(
                db,
                diesel::insert_into(p::sigov_preference).values((
                    p::user_id.eq(user_id),
                    p::name.eq(&name),
                    p::value.eq(&value),
                    p::until_date.eq(until),
                    p::updated_at.eq(now),
                ))
            )
            .context("cannot change people's choices (sigov_preference)")?;
        }
        Ok(())
    })
}

/// Removes `user_id`'s mutes of `what` (all their choices when `None`); how many went.
pub fn clear(db: &mut Db, user_id: &str, what: Option<&Muted>) -> Result<usize> {
    let n = match what {
        Some(m) => dsl_execute!(
            db,
            diesel::delete(
                p::sigov_preference.filter(p::user_id.eq(user_id).and(p::name.eq(m.name())))
            )
        ),
        None => dsl_execute!(
            db,
            diesel::delete(p::sigov_preference.filter(p::user_id.eq(user_id)))
        ),
    };
    n.context("cannot change people's choices (sigov_preference)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_hour_is_today_s_while_ahead_else_tomorrow_s() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let at = NaiveTime::from_hms_opt(8, 0, 0).unwrap();
        let utc = |h: u32| d.and_hms_opt(h, 0, 0).unwrap();
        // 08:00 in Paris is 07:00 UTC in winter.
        assert_eq!(
            next_at(d, at, utc(6), chrono_tz::Europe::Paris),
            (d, utc(7))
        );
        let (day, t) = next_at(d, at, utc(9), chrono_tz::Europe::Paris);
        assert_eq!(day, d.succ_opt().unwrap());
        assert_eq!(t, day.and_hms_opt(7, 0, 0).unwrap());
    }

    fn alert(check: &'static str, typ: &str, projet: &str) -> NewAlert {
        let p = crate::rules::tests_support::person("u1", true);
        NewAlert {
            key: "k".into(),
            check,
            target: crate::rules::Target::Alerte,
            alert_type: typ.into(),
            niveau: None,
            recipient_id: p.id.clone(),
            recipient_name: p.full_name(),
            recipient_username: p.username.clone(),
            recipient: p,
            projet: crate::rules::ProjectInfo {
                id: projet.into(),
                nom: "P".into(),
                client: String::new(),
                statut: String::new(),
            }
            .into(),
            entity_id: projet.into(),
            etape_id: None,
            etape_ordre: None,
            titre: String::new(),
            message: String::new(),
            context: serde_json::Value::Null.into(),
            title_truncated: false,
            ledger_type: None,
            reason: String::new(),
            rule: String::new(),
            mail: MailPlan::Now,
            arm: None,
        }
    }

    #[test]
    fn choices_decide_each_mail() {
        let day = |s: &str| crate::clock::parse_stored_date(s).unwrap();
        let now = day("2026-12-22").and_hms_opt(10, 0, 0).unwrap();
        let paris = chrono_tz::Europe::Paris;
        let mut prefs = Prefs::default();
        let mut u = UserPrefs::default();
        absorb(&mut u, "mute:check:tasks", "on", Some(day("2026-12-31")));
        absorb(&mut u, "mute:type:BUDGET_DEPASSE", "on", None);
        absorb(
            &mut u,
            "mute:project:0123456789abcdef0123456789abcdef",
            "on",
            None,
        );
        absorb(&mut u, "delivery", "digest 08:00", None);
        prefs.users.insert("u1".into(), u);
        let plan = |a: &NewAlert, today: &str| {
            prefs.plan(a, day(today), now, paris, None, Critical::default())
        };
        let p = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        assert_eq!(
            plan(&alert("tasks", "TACHES_EN_RETARD", p), "2026-12-22"),
            MailPlan::Off("muted")
        );
        // The mute ends with its last day.
        assert!(matches!(
            plan(&alert("tasks", "TACHES_EN_RETARD", p), "2027-01-01"),
            MailPlan::Batch { .. }
        ));
        assert_eq!(
            plan(&alert("budget", "BUDGET_DEPASSE", p), "2027-06-01"),
            MailPlan::Off("muted")
        );
        // A project muted by its id in either form.
        let hyphenated = "01234567-89ab-cdef-0123-456789abcdef";
        assert_eq!(
            plan(&alert("deadlines", "ECHEANCE_J3", hyphenated), "2026-12-22"),
            MailPlan::Off("muted")
        );
        // Otherwise tomorrow's 08:00 digest (11:00 in Paris now).
        assert_eq!(
            plan(&alert("deadlines", "ECHEANCE_J3", p), "2026-12-22"),
            MailPlan::Batch {
                at: day("2026-12-23").and_hms_opt(7, 0, 0).unwrap(),
                key: "daily:2026-12-23:u1".into()
            }
        );
        // All mail off wins; someone without choices gets mail now.
        let mut off = UserPrefs::default();
        absorb(&mut off, "mail", "off", None);
        prefs.users.insert("u1".into(), off);
        let plan = |prefs: &Prefs| {
            prefs.plan(
                &alert("deadlines", "ECHEANCE_J3", p),
                day("2026-12-22"),
                now,
                paris,
                None,
                Critical::default(),
            )
        };
        assert_eq!(plan(&prefs), MailPlan::Off("mail_off"));
        prefs.users.clear();
        assert_eq!(plan(&prefs), MailPlan::Now);
    }

    #[test]
    fn critical_alerts_skip_the_digest_and_mutes_only_when_asked() {
        let day = |s: &str| crate::clock::parse_stored_date(s).unwrap();
        let now = day("2026-12-22").and_hms_opt(10, 0, 0).unwrap();
        let paris = chrono_tz::Europe::Paris;
        let mut danger = alert("deadlines", "ECHEANCE_DEPASSEE", "p1");
        danger.niveau = Some(crate::states::Niveau::Danger);
        let mut u = UserPrefs::default();
        absorb(&mut u, "delivery", "digest 08:00", None);
        let mut prefs = Prefs::default();
        prefs.users.insert(danger.recipient_id.clone(), u);
        let plan = |p: &Prefs, c: Critical| p.plan(&danger, day("2026-12-22"), now, paris, None, c);
        let off = Critical::default();
        let bypass = Critical {
            bypass: true,
            overrides_mute: false,
        };
        let all = Critical {
            bypass: true,
            overrides_mute: true,
        };
        assert!(matches!(plan(&prefs, off), MailPlan::Batch { .. }));
        assert_eq!(plan(&prefs, bypass), MailPlan::Urgent);
        // Muted: respected unless the mute is overridden too.
        let mut u = UserPrefs::default();
        absorb(&mut u, "mute:type:ECHEANCE_DEPASSEE", "on", None);
        prefs.users.insert(danger.recipient_id.clone(), u);
        assert_eq!(plan(&prefs, bypass), MailPlan::Off("muted"));
        assert_eq!(plan(&prefs, all), MailPlan::Urgent);
        // Nobody's choice: urgent with the bypass, now without.
        prefs.users.clear();
        assert_eq!(plan(&prefs, bypass), MailPlan::Urgent);
        assert_eq!(plan(&prefs, off), MailPlan::Now);
    }

    #[test]
    fn mutes_parse_and_refuse_in_one_line() {
        assert_eq!(
            Muted::parse("check:tasks", &["tasks"], &[]).unwrap(),
            Muted::Check("tasks".into())
        );
        assert_eq!(
            Muted::parse(
                "type:TACHES_EN_RETARD",
                &[],
                &["TACHES_EN_RETARD", "ECHEANCE_J<n>"]
            )
            .unwrap(),
            Muted::Type("TACHES_EN_RETARD".into())
        );
        assert!(Muted::parse("check:nope", &["tasks"], &[]).is_err());
        assert!(Muted::parse("type:ECHEANCE_J14", &[], &["ECHEANCE_J<n>"]).is_ok());
        assert!(Muted::parse("type:NO_SUCH_TYPE", &[], &["ECHEANCE_J<n>"]).is_err());
        assert!(Muted::parse("type:ECHEANCE_J", &[], &["ECHEANCE_J<n>"]).is_err());
        assert!(Muted::parse("type:lower", &["tasks"], &[]).is_err());
        assert!(Muted::parse("colour:red", &["tasks"], &[]).is_err());
        assert!(Muted::parse("project:", &["tasks"], &[]).is_err());
    }
}

//! Stale work: an open stage task (`EN_COURS`, or `BLOQUEE`) of a project in progress whose
//! `date_modification` is older than `stale_work.days` (`stale_work.blocked_days` for a blocked
//! one). Its assignee is told once per staleness (the key names the modification it was
//! stale since: modifying the task re-arms it); the project's responsable gets one summary a
//! week of the project's stale tasks.

use super::settings::Settings;
use crate::checks::tasks::rule::assignee_only;
use crate::rules::{
    fit_title, fr_date, hyphenate, Ctx, Decisions, Dedup, Engine, Member, Person, ProjectInfo,
    Recipients, Role, Rules, Seen, SeenSpec, Subject, Target, Texts,
};
use crate::states::Niveau;
use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeZone};
use serde_json::json;
use std::rc::Rc;

/// The check's name.
pub const CHECK: &str = "stale-work";
/// A stale task, to its assignee.
pub const TASK: &str = "TACHE_INACTIVE";
/// The week's summary of a project's stale tasks, to its responsable.
pub const SUMMARY: &str = "TACHES_INACTIVES";
/// The statuses of work in progress (the blocked one has its own delay).
pub const IN_PROGRESS: &str = "EN_COURS";
pub const BLOCKED: &str = "BLOQUEE";

/// An open task of a project in progress, not modified for long, with its project's figures.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// `core_tacheetape.id`.
    pub id: String,
    pub nom: String,
    /// `EN_COURS` or `BLOQUEE`.
    pub statut: String,
    /// `date_modification` as stored (UTC text).
    pub modifie: String,
    pub raison_blocage: String,
    pub assignee_id: Option<String>,
    pub assignee: Option<Person>,
    pub projet: ProjectInfo,
    pub team: Rc<Vec<Member>>,
    /// The project's stale tasks, and how many of them are blocked.
    pub stale_in_project: i64,
    pub blocked_in_project: i64,
    /// The project's stalest task (the one that carries its summary).
    pub first_in_project: bool,
}

/// The ISO week of `d` (`2026-W50`): the summary's period.
pub fn week(d: NaiveDate) -> String {
    let w = d.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// The de-duplication entity of a stored row: the project and the task, or the project for a
/// summary.
fn entity(projet_id: &str, ctx: &Ctx) -> Option<String> {
    match ctx.str("tache_id") {
        Some(t) => Some(format!("{projet_id}/{t}")),
        None => ctx.str("semaine").map(|_| projet_id.to_owned()),
    }
}

fn discriminators(_: &str, ctx: &Ctx) -> Vec<String> {
    if let Some(since) = ctx.str("date_modification") {
        return vec![format!("since={since}")];
    }
    ctx.str("semaine")
        .map(|w| vec![format!("week={w}")])
        .unwrap_or_default()
}

/// What was recorded that matters: every row of this check for the page's projects (a task
/// can stay stale for months: its alert is once per staleness, however old).
pub fn seen_spec() -> SeenSpec {
    SeenSpec {
        check: CHECK,
        keys_of_any_date: &[],
        target: Target::Alerte,
        types: vec![TASK.to_owned(), SUMMARY.to_owned()],
        since: None,
        entity,
        discriminators,
    }
}

/// The last modification's local date, and the time as the key names it (to the second).
fn modified(rules: &Rules, raw: &str) -> Option<(NaiveDate, String)> {
    let t: NaiveDateTime = crate::clock::parse_stored_datetime(raw)?;
    let local = rules.tz.from_utc_datetime(&t).date_naive();
    Some((local, t.format("%Y-%m-%d %H:%M:%S").to_string()))
}

fn task_texts(c: &Candidate, on: NaiveDate, since: &str, idle: i64) -> Texts {
    let blocked = c.statut == BLOCKED;
    let (titre, truncated) = if blocked {
        fit_title("🧱 Tâche bloquée sans mise à jour - ", &c.nom, "")
    } else {
        fit_title("💤 Tâche sans mise à jour - ", &c.nom, "")
    };
    let jours = crate::rules::wording::jours(idle);
    let fixed = if blocked {
        let why = c.raison_blocage.trim();
        let why = if why.is_empty() {
            String::new()
        } else {
            format!(" Raison indiquée : « {why} ».")
        };
        format!(
            "La tâche '{}' du projet '{}' est bloquée et n'a pas été mise à jour depuis {jours} (dernière modification le {}).{why} Dites à votre responsable ce qui la débloquerait, ou mettez-la à jour.",
            c.nom,
            c.projet.nom,
            fr_date(on)
        )
    } else {
        format!(
            "La tâche '{}' du projet '{}' est en cours sans mise à jour depuis {jours} (dernière modification le {}). Mettez à jour son avancement ou son statut, ou signalez un blocage.",
            c.nom,
            c.projet.nom,
            fr_date(on)
        )
    };
    Texts {
        alert_type: TASK.to_owned(),
        niveau: Some(if blocked {
            Niveau::Warning
        } else {
            Niveau::Info
        }),
        titre,
        truncated,
        fixed,
        sentences: Vec::new(),
        context: std::sync::Arc::new(json!({
            "tache_id": hyphenate(&c.id),
            "tache_nom": c.nom,
            "statut": c.statut,
            "date_modification": since,
            "jours_inactivite": idle,
            "type_alerte": TASK,
        })),
    }
}

fn summary_texts(c: &Candidate, set: &Settings, on: NaiveDate, today: NaiveDate) -> Texts {
    let (titre, truncated) = fit_title("💤 Tâches sans mise à jour - ", &c.projet.nom, "");
    let n = c.stale_in_project;
    let b = c.blocked_in_project;
    let tasks = if n == 1 {
        "1 tâche du projet".to_owned()
    } else {
        format!("{n} tâches du projet")
    };
    let blocked = match b {
        0 => String::new(),
        1 => format!(", dont 1 bloquée depuis plus de {} jours", set.blocked_days),
        _ => format!(
            ", dont {b} bloquées depuis plus de {} jours",
            set.blocked_days
        ),
    };
    let verb = if n == 1 {
        "n'a pas été mise à jour"
    } else {
        "n'ont pas été mises à jour"
    };
    Texts {
        alert_type: SUMMARY.to_owned(),
        niveau: Some(if b > 0 { Niveau::Warning } else { Niveau::Info }),
        titre,
        truncated,
        fixed: format!(
            "{tasks} '{}' {verb} depuis plus de {} jours{blocked}. La plus ancienne : '{}' (dernière modification le {}). En tant que responsable du projet, faites le point avec les personnes assignées.",
            c.projet.nom,
            set.days,
            c.nom,
            fr_date(on)
        ),
        sentences: Vec::new(),
        context: std::sync::Arc::new(json!({
            "semaine": week(today),
            "nb_taches": n,
            "nb_bloquees": b,
            "plus_ancienne": c.nom,
            "type_alerte": SUMMARY,
        })),
    }
}

/// Evaluates every candidate; `seen` holds what was already recorded.
pub fn evaluate<I>(
    cands: I,
    rules: &Rules,
    set: &Settings,
    today: NaiveDate,
    seen: &Seen,
) -> Decisions
where
    I: IntoIterator<Item = Candidate>,
{
    let mut e = Engine::new(rules, today, seen);
    for c in cands {
        let what = format!("task `{}` of project `{}`", c.nom, c.projet.nom);
        let Some((on, since)) = modified(rules, &c.modifie) else {
            log::warn!(
                "{CHECK}: {what} has an invalid date_modification `{}`; skipped",
                c.modifie
            );
            e.out.counters.skip("invalid_date");
            continue;
        };
        let idle = (today - on).num_days();
        let threshold = if c.statut == BLOCKED {
            set.blocked_days
        } else {
            set.days
        };
        if idle < i64::from(threshold) {
            continue;
        }
        let mut created = 0;
        if c.first_in_project {
            match crate::rules::responsable(&c.team) {
                Some(p) => {
                    let mut r = Recipients::default();
                    r.add(p, Role::Responsable);
                    let r = e.active_only(r);
                    let subject = Subject {
                        check: CHECK,
                        target: Target::Alerte,
                        entity: c.projet.id.clone(),
                        entity_id: &c.projet.id,
                        projet: &c.projet,
                        etape_id: None,
                        etape_ordre: None,
                        // Alerted once: nothing repeats for an acknowledgement to hold.
                        arm: String::new(),
                    };
                    let t = summary_texts(&c, set, on, today);
                    let disc = format!("week={}", week(today));
                    created += e.emit(&subject, &t, &r, Dedup::Once(&disc));
                }
                None => e.out.counters.skip("no_responsable"),
            }
        }
        let who = (c.assignee_id.as_deref(), c.assignee.as_ref());
        if let Some(r) = assignee_only(&mut e, CHECK, &what, who, &c.team) {
            let subject = Subject {
                check: CHECK,
                target: Target::Alerte,
                entity: format!("{}/{}", c.projet.id, hyphenate(&c.id)),
                entity_id: &c.id,
                projet: &c.projet,
                etape_id: None,
                etape_ordre: None,
                // Alerted once: nothing repeats for an acknowledgement to hold.
                arm: String::new(),
            };
            let t = task_texts(&c, on, &since, idle);
            let disc = format!("since={since}");
            created += e.emit(&subject, &t, &r, Dedup::Once(&disc));
        }
        e.entity_done(created);
    }
    e.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: &str) -> Person {
        Person {
            id: id.into(),
            username: id.into(),
            first_name: id.into(),
            last_name: "Test".into(),
            email: format!("{id}@sigov.test"),
            is_superuser: false,
            is_active: true,
            statut_actif: true,
        }
    }

    fn cand(statut: &str, modifie: &str, first: bool) -> Candidate {
        Candidate {
            id: "t1".into(),
            nom: "Recette".into(),
            statut: statut.into(),
            modifie: modifie.into(),
            raison_blocage: "Attente du client".into(),
            assignee_id: Some("dev".into()),
            assignee: Some(person("dev")),
            projet: ProjectInfo {
                id: "p1".into(),
                nom: "Portail".into(),
                client: "C".into(),
                statut: "En cours".into(),
            },
            team: Rc::new(vec![
                (true, Rc::new(person("resp"))),
                (false, Rc::new(person("dev"))),
            ]),
            stale_in_project: 2,
            blocked_in_project: 1,
            first_in_project: first,
        }
    }

    fn run(c: Candidate, today: &str) -> Decisions {
        let rules = crate::rules::tests_support::recommended();
        let set: Settings = crate::checks::settings::defaults(super::super::settings::KEYS);
        let today = crate::clock::parse_stored_date(today).unwrap();
        evaluate([c], &rules, &set, today, &Seen::default())
    }

    #[test]
    fn in_progress_after_fourteen_days_blocked_after_seven() {
        // Modified 13 days ago (Paris dates): not yet.
        assert!(run(
            cand(IN_PROGRESS, "2026-11-24 10:00:00.000000", false),
            "2026-12-07"
        )
        .alerts
        .is_empty());
        let d = run(
            cand(IN_PROGRESS, "2026-11-23 10:00:00.000000", false),
            "2026-12-07",
        );
        assert_eq!(d.alerts.len(), 1);
        let a = &d.alerts[0];
        assert_eq!(
            (a.alert_type.as_str(), a.recipient_id.as_str()),
            (TASK, "dev")
        );
        assert!(a.key.ends_with(":since=2026-11-23 10:00:00"), "{}", a.key);
        assert!(
            a.message.contains("sans mise à jour depuis 14 jours"),
            "{}",
            a.message
        );
        // Blocked: seven days is enough, and the reason is said.
        let d = run(
            cand(BLOCKED, "2026-11-30 10:00:00.000000", false),
            "2026-12-07",
        );
        assert_eq!(d.alerts.len(), 1);
        assert_eq!(d.alerts[0].niveau, Some(Niveau::Warning));
        assert!(d.alerts[0].message.contains("« Attente du client »"));
    }

    #[test]
    fn the_stalest_task_carries_the_weekly_summary_to_the_responsable() {
        let d = run(
            cand(BLOCKED, "2026-11-20 10:00:00.000000", true),
            "2026-12-07",
        );
        let summary: Vec<_> = d
            .alerts
            .iter()
            .filter(|a| a.alert_type == SUMMARY)
            .collect();
        assert_eq!(summary.len(), 1);
        assert_eq!(summary[0].recipient_id, "resp");
        assert!(
            summary[0].key.ends_with(":week=2026-W50"),
            "{}",
            summary[0].key
        );
        assert!(summary[0].message.starts_with("2 tâches du projet 'Portail' n'ont pas été mises à jour depuis plus de 14 jours, dont 1 bloquée"), "{}", summary[0].message);
        assert_eq!(
            entity("p1", &Ctx::of_value(&summary[0].context).expect("object")).as_deref(),
            Some("p1")
        );
        assert_eq!(
            discriminators(
                SUMMARY,
                &Ctx::of_value(&summary[0].context).expect("object")
            ),
            ["week=2026-W50"]
        );
        let task = d.alerts.iter().find(|a| a.alert_type == TASK).unwrap();
        assert_eq!(
            entity("p1", &Ctx::of_value(&task.context).expect("object")).as_deref(),
            Some("p1/t1")
        );
        assert_eq!(
            discriminators(TASK, &Ctx::of_value(&task.context).expect("object")),
            ["since=2026-11-20 10:00:00"]
        );
    }

    #[test]
    fn a_bad_modification_time_is_counted() {
        let d = run(
            cand(IN_PROGRESS, "0000-00-00 00:00:00", false),
            "2026-12-07",
        );
        assert_eq!(d.counters.skipped.get("invalid_date"), Some(&1));
        assert_eq!(
            week(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()),
            "2026-W53"
        );
    }
}

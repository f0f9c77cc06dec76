//! Overdue tasks: an open task past its due date alerts its assignee (when they have access to
//! the project) and the project's responsable, every day. The recommended profile adds module
//! tasks and skips the tasks of closed projects.

use super::settings::Settings;
use crate::rules::alert::{Later, ESCALATION};
use crate::rules::{
    fit_title, fr_date, hyphenate, Audiences, Decisions, Dedup, Engine, Member, Person,
    ProjectInfo, Recipients, Role, Seen, SeenSpec, Span, Subject, Target, Texts,
};
use crate::rules::{Ctx, Rules};
use crate::states::Niveau;
use chrono::NaiveDate;
use serde_json::json;
use std::rc::Rc;

/// The check's name.
pub const CHECK: &str = "tasks";
pub const TYPE: &str = "TACHES_EN_RETARD";

/// Stage-task statuses the reference checks.
pub const STAGE_TASK_OPEN: &[&str] = &["A_FAIRE", "EN_COURS", "BLOQUEE"];
/// Module-task statuses the recommended profile checks.
pub const MODULE_TASK_OPEN: &[&str] = &["A_FAIRE", "EN_COURS", "EN_PAUSE"];
/// Project statuses whose tasks the recommended profile skips.
pub const CLOSED_PROJECT: &[&str] = &["TERMINE", "ARCHIVE", "SUSPENDU"];

/// An open task past its due date.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// `core_tacheetape.id` (UUID), or `core_tachemodule.id` for a module task.
    pub tache_id: String,
    /// The module's name, for a module task.
    pub module: Option<String>,
    pub nom: String,
    pub date_fin: String,
    pub assignee_id: Option<String>,
    pub assignee: Option<Person>,
    pub projet: ProjectInfo,
    /// The project's status code (`EN_COURS`, `TERMINE`, ...).
    pub projet_statut: String,
    /// Active affectations of the project, by affectation id: (is responsable, user); shared
    /// by the project's tasks.
    pub team: Rc<Vec<Member>>,
}

impl Candidate {
    /// The de-duplication entity: the project and the task.
    pub fn entity(&self) -> String {
        match &self.module {
            Some(_) => format!("{}/module:{}", self.projet.id, self.tache_id),
            None => format!("{}/{}", self.projet.id, hyphenate(&self.tache_id)),
        }
    }
}

/// The de-duplication entity of a stored row: its project and the task named in its JSON.
pub fn entity(projet_id: &str, ctx: &Ctx) -> Option<String> {
    if ctx.has("tache_module_id") {
        let id = ctx
            .i64("tache_module_id")
            .map(|i| i.to_string())
            .or_else(|| ctx.str("tache_module_id").map(str::to_owned))?;
        return Some(format!("{projet_id}/module:{id}"));
    }
    ctx.str("tache_id").map(|t| format!("{projet_id}/{t}"))
}

pub fn seen_spec(rules: &Rules, today: NaiveDate) -> SeenSpec {
    SeenSpec {
        check: CHECK,
        keys_of_any_date: crate::rules::escalation_keys(rules, CHECK, &[], &[ESCALATION]),
        target: Target::Alerte,
        types: vec![TYPE.to_owned()],
        since: today.checked_sub_days(chrono::Days::new(u64::from(rules.repeat_every_days))),
        entity,
        discriminators: crate::rules::no_discriminators,
    }
}

/// "La tâche '…' (du module '…') du projet '…'", as the task's texts begin.
pub fn phrase(c: &Candidate) -> String {
    match &c.module {
        None => format!("La tâche '{}' du projet '{}'", c.nom, c.projet.nom),
        Some(module) => format!(
            "La tâche '{}' du module '{module}' du projet '{}'",
            c.nom, c.projet.nom
        ),
    }
}

/// A module task's id in the JSON context: a number, as the web application's integer key (or
/// the text as it is, should it not be one).
pub fn module_task_id(c: &Candidate) -> serde_json::Value {
    c.tache_id
        .parse::<i64>()
        .map(serde_json::Value::from)
        .unwrap_or_else(|_| serde_json::Value::from(c.tache_id.clone()))
}

/// `a_acces_projet`: a superuser, or a user with an active affectation on the project.
pub fn has_access(p: &Person, team: &[Member]) -> bool {
    p.is_superuser || team.iter().any(|(_, m)| m.id == p.id)
}

/// A task's assignee as its only recipient (an inactive account dropped as the rules say), or
/// `None` when nobody can be told: unassigned, assigned to a user that does not exist, or to
/// one without access to the project; each is logged and counted.
pub fn assignee_only(
    e: &mut Engine<'_>,
    check: &str,
    what: &str,
    (id, person): (Option<&str>, Option<&Person>),
    team: &[Member],
) -> Option<Recipients> {
    let mut r = Recipients::default();
    match (id, person) {
        (None, _) => {
            e.out.counters.skip("unassigned_task");
            return None;
        }
        (Some(id), None) => {
            log::warn!("{check}: {what} is assigned to a user `{id}` that does not exist");
            e.out.counters.skip("missing_assignee");
            return None;
        }
        (Some(_), Some(p)) if !has_access(p, team) => {
            log::info!(
                "{check}: {what}: the assignee {} has no access to the project; not told",
                p.username
            );
            e.out.counters.skip("assignee_without_access");
            return None;
        }
        (Some(_), Some(p)) => r.add(p, Role::Assignee),
    }
    Some(e.active_only(r))
}

fn texts(c: &Candidate, date: NaiveDate, late: &Span, assignee_name: &str) -> Texts {
    let n = -late.count;
    let (titre, truncated) = fit_title("🔴 Tâche en retard - ", &c.nom, "");
    let (jours, date_fr) = (late.amount(), fr_date(date));
    let (what, context) = match &c.module {
        None => (
            phrase(c),
            json!({
                "jours_retard": n,
                "tache_id": hyphenate(&c.tache_id),
                "tache_nom": c.nom,
                "date_fin": date.to_string(),
                "type_alerte": "TACHE_RETARD",
            }),
        ),
        Some(module) => (
            phrase(c),
            json!({
                "jours_retard": n,
                "tache_module_id": module_task_id(c),
                "tache_nom": c.nom,
                "module_nom": module,
                "date_fin": date.to_string(),
                "type_alerte": "TACHE_RETARD",
            }),
        ),
    };
    Texts {
        alert_type: TYPE.to_owned(),
        niveau: Some(Niveau::Danger),
        titre,
        truncated,
        fixed: String::new(),
        sentences: vec![
            (
                Role::Assignee,
                format!("{what} est en retard de {jours} (date limite : {date_fr}). Une action urgente est requise."),
            ),
            (
                Role::Responsable,
                format!("{what} (assignée à {assignee_name}) est en retard de {jours} (date limite : {date_fr})."),
            ),
        ],
        context: std::sync::Arc::new(context),
    }
}

/// Evaluates every candidate; `seen` holds what was already recorded, `superusers` the
/// active superusers an escalation rung may add.
pub fn evaluate<I>(
    cands: I,
    superusers: &[Person],
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
        let Some(date) = e.date(CHECK, &what, &c.date_fin) else {
            continue;
        };
        let span = e.span(CHECK, date);
        if span.days >= 0 {
            continue;
        }
        if set.skip_closed_projects && CLOSED_PROJECT.contains(&c.projet_statut.as_str()) {
            e.out.counters.skip("closed_project");
            continue;
        }
        let mut r = Recipients::default();
        let assignee_name = match (&c.assignee_id, &c.assignee) {
            (None, _) => "Non assignée".to_owned(),
            (Some(id), None) => {
                log::warn!("{CHECK}: {what} is assigned to a user `{id}` that does not exist");
                e.out.counters.skip("missing_assignee");
                "Non assignée".to_owned()
            }
            (Some(_), Some(p)) => {
                if has_access(p, &c.team) {
                    r.add(p, Role::Assignee);
                } else {
                    log::info!(
                        "{CHECK}: {what}: the assignee {} has no access to the project; not alerted",
                        p.username
                    );
                    e.out.counters.skip("assignee_without_access");
                }
                p.full_name()
            }
        };
        if let Some(p) = crate::rules::responsable(&c.team) {
            r.add(p, Role::Responsable);
        }
        let r = e.active_only(r);
        let t = Later::new(TYPE, || texts(&c, date, &span, &assignee_name));
        let subject = Subject {
            check: CHECK,
            target: Target::Alerte,
            entity: c.entity(),
            entity_id: &c.tache_id,
            projet: &c.projet,
            etape_id: None,
            etape_ordre: None,
            arm: format!("due={date}"),
        };
        let mut n = e.emit(&subject, &t, &r, Dedup::Daily);
        let who = Audiences {
            createur: None,
            responsable: crate::rules::responsable(&c.team),
            team: &c.team,
            superusers,
        };
        n += e.escalate(&subject, &t, &r, date, &who);
        e.entity_done(n);
    }
    e.finish()
}

#[cfg(test)]
pub(crate) mod tests {
    /// The check's settings for `rules`' profile: the reference's, or its documented defaults.
    fn set(rules: &crate::rules::Rules) -> super::Settings {
        use crate::checks::settings::Configure;
        match rules.profile {
            crate::rules::Profile::Reference => super::Settings::reference(),
            crate::rules::Profile::Recommended => {
                crate::checks::settings::defaults(super::super::settings::KEYS)
            }
        }
    }

    use super::*;

    /// The check without superusers (no escalation reaches them in these tests).
    fn evaluate<I: IntoIterator<Item = Candidate>>(
        c: I,
        r: &Rules,
        t: NaiveDate,
        s: &Seen,
    ) -> Decisions {
        super::evaluate(c, &[], r, &set(r), t, s)
    }
    use crate::rules::tests_support::{person, projet, recommended, today};

    #[test]
    fn an_overdue_task_escalates_to_the_superusers_on_working_day_7_once() {
        use crate::rules::{Audience, Rung};
        let rules = Rules {
            escalation: vec![(
                CHECK.to_owned(),
                vec![
                    Rung {
                        after: 3,
                        to: Audience::Responsable,
                    },
                    Rung {
                        after: 7,
                        to: Audience::Superusers,
                    },
                ],
            )],
            ..recommended()
        };
        let mut boss = person("boss", true);
        boss.is_superuser = true;
        let mut retired = person("old", false);
        retired.is_superuser = true;
        let supers = [boss, retired];
        let day = |s: &str| crate::clock::parse_stored_date(s).unwrap();
        let run = |today: &str, seen: &Seen| {
            super::evaluate(
                [candidate("2026-11-13", "EN_COURS")],
                &supers,
                &rules,
                &set(&rules),
                day(today),
                seen,
            )
        };
        // Due Friday 13 November; Monday 23 is open day 6: assignee and responsable only (the
        // responsable's rung adds no one: the check tells them already).
        let d = run("2026-11-23", &Seen::default());
        assert!(d.alerts.iter().all(|a| a.recipient_id != "boss"));
        // Tuesday 24 is open day 7: the active superuser gets the escalation, the inactive one
        // nothing.
        let d = run("2026-11-24", &Seen::default());
        let esc: Vec<_> = d
            .alerts
            .iter()
            .filter(|a| a.recipient_id == "boss")
            .collect();
        assert_eq!(esc.len(), 1, "{:?}", d.alerts);
        assert!(
            esc[0].titre.starts_with("⏫ Escalade - "),
            "{}",
            esc[0].titre
        );
        assert!(
            esc[0]
                .message
                .contains("sans suite après 7 jours ouvrés (depuis le 13/11/2026)"),
            "{}",
            esc[0].message
        );
        assert!(esc[0].message.contains("administrateur de l'application"));
        assert_eq!(esc[0].ledger_type, Some(crate::rules::alert::ESCALATION));
        assert!(d.alerts.iter().all(|a| a.recipient_id != "old"));
        // Once per rung: with its key recorded, the next days add nothing for the superuser.
        let mut seen = Seen::default();
        seen.add_key(&esc[0].key);
        let d = run("2026-11-25", &seen);
        assert!(d.alerts.iter().all(|a| a.recipient_id != "boss"));
        assert!(d.alerts.iter().any(|a| a.recipient_id == "dev"));
        // A moved due date is a new escalation.
        let d = super::evaluate(
            [candidate("2026-11-12", "EN_COURS")],
            &supers,
            &rules,
            &set(&rules),
            day("2026-11-25"),
            &seen,
        );
        assert!(d.alerts.iter().any(|a| a.recipient_id == "boss"));
    }

    /// A stage task due on `due`, assigned to `dev` (in the team), in a project of `statut`;
    /// `r1` is the responsable. Shared with the reminders' tests.
    pub(crate) fn candidate(due: &str, statut: &str) -> Candidate {
        Candidate {
            tache_id: "0123456789abcdef0123456789abcdef".into(),
            module: None,
            nom: "Valider le plan".into(),
            date_fin: due.into(),
            assignee_id: Some("dev".into()),
            assignee: Some(person("dev", true)),
            projet: projet(),
            projet_statut: statut.into(),
            team: Rc::new(vec![
                (false, Rc::new(person("dev", true))),
                (true, Rc::new(person("r1", true))),
            ]),
        }
    }

    fn cand(due: &str) -> Candidate {
        candidate(due, "TERMINE")
    }

    #[test]
    fn assignee_and_responsable_get_their_sentence() {
        let rules = Rules::reference(chrono_tz::Europe::Paris);
        let d = evaluate([cand("2026-11-19")], &rules, today(), &Seen::default());
        assert_eq!(d.alerts.len(), 2);
        let by = |id: &str| d.alerts.iter().find(|a| a.recipient_id == id).unwrap();
        assert_eq!(by("dev").message, "La tâche 'Valider le plan' du projet 'R&D <Alpha>' est en retard de 3 jours (date limite : 19/11/2026). Une action urgente est requise.");
        assert_eq!(by("r1").message, "La tâche 'Valider le plan' du projet 'R&D <Alpha>' (assignée à Prénom-dev Test) est en retard de 3 jours (date limite : 19/11/2026).");
        assert_eq!(by("r1").titre, "🔴 Tâche en retard - Valider le plan");
        assert_eq!(
            by("r1").context["tache_id"],
            "01234567-89ab-cdef-0123-456789abcdef"
        );
    }

    #[test]
    fn assignee_without_access_is_named_but_not_alerted() {
        let rules = Rules::reference(chrono_tz::Europe::Paris);
        let mut c = cand("2026-11-21");
        Rc::make_mut(&mut c.team).remove(0);
        let d = evaluate([c.clone()], &rules, today(), &Seen::default());
        assert_eq!(d.alerts.len(), 1);
        assert!(d.alerts[0].message.contains("(assignée à Prénom-dev Test)"));
        assert_eq!(d.counters.skipped.get("assignee_without_access"), Some(&1));
        Rc::make_mut(&mut c.team).clear();
        let d = evaluate([c], &rules, today(), &Seen::default());
        assert!(d.alerts.is_empty());
        assert_eq!(d.counters.ignored_entities, 1);
    }

    #[test]
    fn unassigned_and_nameless() {
        let rules = Rules::reference(chrono_tz::Europe::Paris);
        let mut c = cand("2026-11-21");
        c.assignee_id = None;
        c.assignee = None;
        let d = evaluate([c.clone()], &rules, today(), &Seen::default());
        assert!(d.alerts[0].message.contains("(assignée à Non assignée)"));
        let mut nameless = person("dev", true);
        nameless.first_name.clear();
        nameless.last_name.clear();
        c.assignee_id = Some("dev".into());
        c.assignee = Some(nameless);
        c.team = Rc::new(vec![(true, Rc::new(person("r1", true)))]);
        let d = evaluate([c], &rules, today(), &Seen::default());
        assert!(d.alerts[0].message.contains("(assignée à )"));
    }

    #[test]
    fn recommended_skips_closed_projects_and_words_module_tasks() {
        let d = evaluate(
            [cand("2026-11-21")],
            &recommended(),
            today(),
            &Seen::default(),
        );
        assert!(d.alerts.is_empty());
        assert_eq!(d.counters.skipped.get("closed_project"), Some(&1));
        let mut c = cand("2026-11-21");
        c.projet_statut = "EN_COURS".into();
        c.module = Some("Paiement".into());
        c.tache_id = "42".into();
        let d = evaluate([c], &recommended(), today(), &Seen::default());
        assert_eq!(d.alerts.len(), 2);
        assert!(d.alerts[0].message.starts_with(
            "La tâche 'Valider le plan' du module 'Paiement' du projet 'R&D <Alpha>'"
        ));
        assert_eq!(d.alerts[0].context["tache_module_id"], 42);
        assert_eq!(d.alerts[0].entity_id, "42");
        assert!(d.alerts[0]
            .key
            .starts_with("tasks:TACHES_EN_RETARD:p1/module:42:"));
    }
}

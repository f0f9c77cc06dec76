//! Start dates: a stage (`A_VENIR`) or a stage task (`A_FAIRE`) of a project in progress whose
//! planned start has passed while nothing says it started (no `date_debut_reelle`). The stage's
//! project responsable, or the task's assignee, is told once from the planned start on (a run
//! that missed the day catches up), and once more `start_dates.remind_after_days` days later.
//! A planned start that moves arms both again.

use super::settings::Settings;
use crate::checks::stages::rule::type_label;
use crate::checks::tasks::rule::assignee_only;
use crate::rules::{
    fit_title, fr_date, hyphenate, Ctx, Decisions, Dedup, Engine, Member, Person, ProjectInfo,
    Recipients, Role, Rules, Seen, SeenSpec, Span, Subject, Target, Texts,
};
use crate::states::Niveau;
use chrono::NaiveDate;
use serde_json::json;
use std::rc::Rc;

/// The check's name.
pub const CHECK: &str = "start-dates";
/// A stage that has not started.
pub const STAGE: &str = "ETAPE_NON_DEMARREE";
/// A task that has not started.
pub const TASK: &str = "TACHE_NON_DEMARREE";

/// What has not started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A stage, by its type's code (`DEVELOPPEMENT`).
    Stage { type_code: String },
    /// A stage task, by its name, with its assignee.
    Task {
        nom: String,
        assignee_id: Option<String>,
        assignee: Option<Person>,
    },
}

/// A stage or task of a project in progress whose planned start has passed, not started.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// `core_etapeprojet.id` or `core_tacheetape.id`.
    pub id: String,
    pub item: Item,
    /// The planned start as stored (text); parsed by the rule so bad values are counted.
    pub debut: String,
    pub projet: ProjectInfo,
    /// The project's active team, by affectation id: (is responsable, user).
    pub team: Rc<Vec<Member>>,
}

impl Candidate {
    /// The de-duplication entity: the project and the stage or task.
    fn entity(&self) -> String {
        match self.item {
            Item::Stage { .. } => format!("{}/etape:{}", self.projet.id, hyphenate(&self.id)),
            Item::Task { .. } => format!("{}/{}", self.projet.id, hyphenate(&self.id)),
        }
    }
}

/// The de-duplication entity of a stored row: its project and the stage or task its JSON names.
fn entity(projet_id: &str, ctx: &Ctx) -> Option<String> {
    if let Some(e) = ctx.str("etape_id") {
        return Some(format!("{projet_id}/etape:{e}"));
    }
    ctx.str("tache_id").map(|t| format!("{projet_id}/{t}"))
}

/// The "once" discriminator: the planned start it was for, and for the second alert the days
/// after it.
fn discriminator(start: NaiveDate, after: Option<u32>) -> String {
    match after {
        None => format!("start={start}"),
        Some(n) => format!("start={start}:after={n}"),
    }
}

fn discriminators(_: &str, ctx: &Ctx) -> Vec<String> {
    let start = ctx
        .str("date_debut_prevue")
        .and_then(crate::clock::parse_stored_date);
    let after = ctx.u64("relance_apres").and_then(|n| u32::try_from(n).ok());
    start
        .map(|s| vec![discriminator(s, after)])
        .unwrap_or_default()
}

/// The earliest planned start reported today.
pub fn earliest(set: &Settings, today: NaiveDate) -> NaiveDate {
    today
        .checked_sub_days(chrono::Days::new(u64::from(set.lookback_days)))
        .unwrap_or(today)
}

/// What was recorded that matters: this check's types since the earliest planned start
/// reported (nothing about a start can be recorded before it).
pub fn seen_spec(set: &Settings, today: NaiveDate) -> SeenSpec {
    SeenSpec {
        check: CHECK,
        keys_of_any_date: &[],
        target: Target::Alerte,
        types: vec![STAGE.to_owned(), TASK.to_owned()],
        since: Some(earliest(set, today)),
        entity,
        discriminators,
    }
}

fn texts(c: &Candidate, start: NaiveDate, late: &Span, again: Option<u32>) -> Texts {
    let (what, (titre, truncated), mut context, alert_type, role) = match &c.item {
        Item::Stage { type_code } => {
            let label = type_label(type_code);
            (
                format!("L'étape '{label}' du projet '{}'", c.projet.nom),
                fit_title("⏳ Étape ", label, " - non démarrée"),
                json!({"etape_id": hyphenate(&c.id), "etape_nom": type_code, "etape_label": label}),
                STAGE,
                "En tant que responsable du projet, démarrez-la dans l'application si le travail a commencé, ou replanifiez-la.",
            )
        }
        Item::Task { nom, .. } => {
            (
                format!("La tâche '{nom}' du projet '{}'", c.projet.nom),
                fit_title("⏳ Tâche non démarrée - ", nom, ""),
                json!({"tache_id": hyphenate(&c.id), "tache_nom": nom}),
                TASK,
                "Passez-la « En cours » si vous l'avez commencée, ou convenez d'une nouvelle date de début.",
            )
        }
    };
    let when = if late.count == 0 {
        "aujourd'hui".to_owned()
    } else {
        format!("il y a {}", late.amount())
    };
    let fixed = match again {
        None => format!(
            "{what} devait commencer le {} ({when}) et n'a pas démarré. {role}",
            fr_date(start)
        ),
        Some(_) => format!(
            "{what} n'a toujours pas démarré, {} après sa date de début prévue ({}). {role}",
            late.amount(),
            fr_date(start)
        ),
    };
    context["date_debut_prevue"] = json!(start.to_string());
    context["jours_retard"] = json!(-late.count);
    context["type_alerte"] = json!(alert_type);
    if let Some(n) = again {
        context["relance_apres"] = json!(n);
    }
    Texts {
        alert_type: alert_type.to_owned(),
        niveau: Some(if again.is_some() {
            Niveau::Warning
        } else {
            Niveau::Info
        }),
        titre,
        truncated,
        fixed,
        sentences: Vec::new(),
        context: std::sync::Arc::new(context),
    }
}

/// Who is told: the project's responsable for a stage, the assignee for a task (when they
/// have access to the project); `None` when nobody can be (counted).
fn recipients(e: &mut Engine<'_>, c: &Candidate, what: &str) -> Option<Recipients> {
    let mut r = Recipients::default();
    match &c.item {
        Item::Stage { .. } => match crate::rules::responsable(&c.team) {
            Some(p) => r.add(p, Role::Responsable),
            None => {
                e.out.counters.skip("no_responsable");
                return None;
            }
        },
        Item::Task {
            assignee_id,
            assignee,
            ..
        } => {
            let who = (assignee_id.as_deref(), assignee.as_ref());
            return assignee_only(e, CHECK, what, who, &c.team);
        }
    }
    Some(e.active_only(r))
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
        let what = match &c.item {
            Item::Stage { type_code } => format!("stage {type_code} of project `{}`", c.projet.nom),
            Item::Task { nom, .. } => format!("task `{nom}` of project `{}`", c.projet.nom),
        };
        let Some(start) = e.date(CHECK, &what, &c.debut) else {
            continue;
        };
        let late = e.span(CHECK, start);
        if late.days > 0 || start < earliest(set, today) {
            continue;
        }
        let Some(r) = recipients(&mut e, &c, &what) else {
            continue;
        };
        let subject = Subject {
            check: CHECK,
            target: Target::Alerte,
            entity: c.entity(),
            entity_id: &c.id,
            projet: &c.projet,
            etape_id: None,
            etape_ordre: None,
            // Alerted once: nothing repeats for an acknowledgement to hold.
            arm: String::new(),
        };
        let n = set.remind_after_days;
        let again = (n > 0 && -late.count >= i64::from(n)).then_some(n);
        let t = texts(&c, start, &late, again);
        let created = e.emit(&subject, &t, &r, Dedup::Once(&discriminator(start, again)));
        if again.is_some() {
            // The first alert's day passed without a run: the second says it all.
            e.supersede(&subject, &t.alert_type, &r, &discriminator(start, None));
        }
        e.entity_done(created);
    }
    e.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::settings::Configure;

    fn person(id: &str, active: bool) -> Person {
        Person {
            id: id.into(),
            username: id.into(),
            first_name: id.into(),
            last_name: "Test".into(),
            email: format!("{id}@sigov.test"),
            is_superuser: false,
            is_active: active,
            statut_actif: true,
        }
    }

    fn team() -> Rc<Vec<Member>> {
        Rc::new(vec![
            (true, Rc::new(person("resp", true))),
            (false, Rc::new(person("dev", true))),
        ])
    }

    fn project() -> ProjectInfo {
        ProjectInfo {
            id: "p1".into(),
            nom: "Portail".into(),
            client: "C".into(),
            statut: "En cours".into(),
        }
    }

    fn stage(start: &str) -> Candidate {
        Candidate {
            id: "e1".into(),
            item: Item::Stage {
                type_code: "DEVELOPPEMENT".into(),
            },
            debut: start.into(),
            projet: project(),
            team: team(),
        }
    }

    fn task(start: &str, assignee: Option<Person>) -> Candidate {
        Candidate {
            id: "t1".into(),
            item: Item::Task {
                nom: "Maquette".into(),
                assignee_id: assignee.as_ref().map(|p| p.id.clone()),
                assignee,
            },
            debut: start.into(),
            projet: project(),
            team: team(),
        }
    }

    fn day(s: &str) -> NaiveDate {
        crate::clock::parse_stored_date(s).unwrap()
    }

    fn set() -> Settings {
        crate::checks::settings::defaults(super::super::settings::KEYS)
    }

    fn run(c: Candidate, today: &str) -> Decisions {
        let rules = crate::rules::tests_support::recommended();
        evaluate([c], &rules, &set(), day(today), &Seen::default())
    }

    #[test]
    fn once_from_the_planned_start_then_again_after_the_reminder_days() {
        // Not yet: the planned start is tomorrow.
        assert!(run(stage("2026-12-08"), "2026-12-07").alerts.is_empty());
        // The day itself: the responsable, INFO.
        let d = run(stage("2026-12-07"), "2026-12-07");
        assert_eq!(d.alerts.len(), 1);
        let a = &d.alerts[0];
        assert_eq!(
            (a.alert_type.as_str(), a.recipient_id.as_str()),
            (STAGE, "resp")
        );
        assert!(
            a.message
                .contains("devait commencer le 07/12/2026 (aujourd'hui)"),
            "{}",
            a.message
        );
        assert!(a.key.ends_with(":start=2026-12-07"), "{}", a.key);
        assert_eq!(a.niveau, Some(Niveau::Info));
        // Three days later: the second alert, WARNING; the first is superseded.
        let d = run(stage("2026-12-07"), "2026-12-10");
        assert_eq!(d.alerts.len(), 1);
        assert!(d.alerts[0].key.ends_with(":start=2026-12-07:after=3"));
        assert!(d.alerts[0]
            .message
            .contains("n'a toujours pas démarré, 3 jours après"));
        assert_eq!(d.superseded.len(), 1);
        // Beyond the look-back: nothing.
        assert!(run(stage("2026-11-01"), "2026-12-07").alerts.is_empty());
    }

    #[test]
    fn a_task_tells_its_assignee_when_they_can_see_the_project() {
        let d = run(task("2026-12-04", Some(person("dev", true))), "2026-12-07");
        assert_eq!(d.alerts.len(), 1, "{:?}", d.counters);
        assert_eq!(d.alerts[0].alert_type, TASK);
        assert_eq!(d.alerts[0].recipient_id, "dev");
        let d = run(task("2026-12-04", None), "2026-12-07");
        assert_eq!(d.counters.skipped.get("unassigned_task"), Some(&1));
        let d = run(
            task("2026-12-04", Some(person("stranger", true))),
            "2026-12-07",
        );
        assert_eq!(d.counters.skipped.get("assignee_without_access"), Some(&1));
        let d = run(task("2026-12-04", Some(person("dev", false))), "2026-12-07");
        assert!(d.alerts.is_empty());
    }

    #[test]
    fn stored_rows_give_back_their_entity_and_discriminator() {
        let d = run(task("2026-12-06", Some(person("dev", true))), "2026-12-07");
        let a = &d.alerts[0];
        assert_eq!(
            entity("p1", &Ctx::of_value(&a.context).expect("object")).as_deref(),
            Some(a.key.split(':').nth(2).unwrap())
        );
        assert_eq!(
            discriminators(TASK, &Ctx::of_value(&a.context).expect("object")),
            ["start=2026-12-06"]
        );
        assert!(a.key.ends_with(":start=2026-12-06"));
        let d = run(task("2026-12-04", Some(person("dev", true))), "2026-12-07");
        let a = &d.alerts[0];
        assert_eq!(
            discriminators(TASK, &Ctx::of_value(&a.context).expect("object")),
            ["start=2026-12-04:after=3"]
        );
        assert!(Settings::reference().lookback_days == 0);
    }
}

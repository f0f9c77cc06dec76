//! Task reminders: an open task whose due date is `m` days ahead, for each configured milestone
//! `m` (`task_reminders.milestones`, default 1 and 0), alerts its assignee once per (task, due
//! date, milestone), with catch-up: a reminder missed (no run that day) fires on the next run,
//! and the larger milestones it passes over are recorded, not sent. Moving the due date arms the
//! reminders again. Tasks of closed projects, unassigned tasks and assignees without access to
//! the project get none.

use super::settings::Settings;
use crate::checks::tasks::rule::{
    assignee_only, entity, module_task_id, phrase, Candidate, CLOSED_PROJECT,
};
use crate::rules::{
    fit_title, fr_date, hyphenate, Ahead, Ctx, Decisions, Dedup, Engine, Rules, Seen, SeenSpec,
    Span, Subject, Target, Texts,
};
use crate::states::Niveau;
use chrono::NaiveDate;
use serde_json::json;

/// The check's name.
pub const CHECK: &str = "task-reminders";
pub const TYPE: &str = "TACHE_ECHEANCE";

/// The largest reminder, in days before the due date.
fn largest(set: &Settings) -> u32 {
    set.milestones.iter().copied().max().unwrap_or(0)
}

/// The due dates that can be reminded today: from today to the largest milestone ahead.
pub fn window(rules: &Rules, set: &Settings, today: NaiveDate) -> (NaiveDate, NaiveDate) {
    (today, rules.placement(CHECK).horizon(today, largest(set)))
}

/// The ledger discriminator of a reminder: its milestone and the due date it was for.
fn discriminator(m: u32, due: NaiveDate) -> String {
    format!("J{m}:due={due}")
}

fn discriminators(_: &str, ctx: &Ctx) -> Vec<String> {
    let due = ctx
        .str("date_fin")
        .and_then(crate::clock::parse_stored_date);
    let m = ctx.u64("jalon").and_then(|m| u32::try_from(m).ok());
    match (m, due) {
        (Some(m), Some(due)) => vec![discriminator(m, due)],
        _ => Vec::new(),
    }
}

/// Earlier reminders of the tasks in the window were made at most the largest milestone ago.
pub fn seen_spec(rules: &Rules, set: &Settings, today: NaiveDate) -> SeenSpec {
    SeenSpec {
        check: CHECK,
        keys_of_any_date: &[],
        target: Target::Alerte,
        types: vec![TYPE.to_owned()],
        since: rules
            .placement(CHECK)
            .earliest_firing(today, largest(set))
            .pred_opt(),
        entity,
        discriminators,
    }
}

fn texts(c: &Candidate, due: NaiveDate, m: u32, span: &Span) -> Texts {
    let d = span.count;
    let (emoji, when) = match span.ahead() {
        Ahead::Today => ("⏰", "aujourd'hui".to_owned()),
        Ahead::Tomorrow => ("🔔", "demain".to_owned()),
        Ahead::In(n) => ("🔔", format!("dans {n}")),
        Ahead::On(day) => ("🔔", day.to_owned()),
    };
    let (titre, truncated) = fit_title(&format!("{emoji} Tâche à rendre {when} - "), &c.nom, "");
    let mut context = json!({
        "jours_restants": d,
        "jalon": m,
        "tache_nom": c.nom,
        "date_fin": due.to_string(),
        "type_alerte": TYPE,
    });
    match &c.module {
        None => context["tache_id"] = json!(hyphenate(&c.tache_id)),
        Some(module) => {
            context["tache_module_id"] = module_task_id(c);
            context["module_nom"] = json!(module);
        }
    }
    let what = phrase(c);
    let advice = if d == 0 {
        "Terminez-la ou signalez un blocage avant la fin de la journée."
    } else {
        "Pensez à la terminer à temps ou à signaler un blocage."
    };
    Texts {
        alert_type: TYPE.to_owned(),
        niveau: Some(if d == 0 {
            Niveau::Warning
        } else {
            Niveau::Info
        }),
        titre,
        truncated,
        fixed: format!(
            "{what} est à rendre {when} (date limite : {}). {advice}",
            fr_date(due)
        ),
        sentences: Vec::new(),
        context: std::sync::Arc::new(context),
    }
}

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
        let Some(due) = e.date(CHECK, &what, &c.date_fin) else {
            continue;
        };
        let mut span = e.span(CHECK, due);
        let Some((m, passed)) = e.milestone(CHECK, &set.milestones, &mut span, true) else {
            continue;
        };
        if CLOSED_PROJECT.contains(&c.projet_statut.as_str()) {
            e.out.counters.skip("closed_project");
            continue;
        }
        let who = (c.assignee_id.as_deref(), c.assignee.as_ref());
        let Some(r) = assignee_only(&mut e, CHECK, &what, who, &c.team) else {
            continue;
        };
        let subject = Subject {
            check: CHECK,
            target: Target::Alerte,
            entity: c.entity(),
            entity_id: &c.tache_id,
            projet: &c.projet,
            etape_id: None,
            etape_ordre: None,
            // Alerted once: nothing repeats for an acknowledgement to hold.
            arm: String::new(),
        };
        let disc = discriminator(m, due);
        let n = e.emit(&subject, &texts(&c, due, m, &span), &r, Dedup::Once(&disc));
        for p in passed {
            e.supersede(&subject, TYPE, &r, &discriminator(p, due));
        }
        e.entity_done(n);
    }
    e.finish()
}

#[cfg(test)]
mod tests {
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
    use crate::rules::tests_support::{person, recommended, today};
    use std::rc::Rc;

    fn cand(due: &str) -> Candidate {
        crate::checks::tasks::rule::tests::candidate(due, "EN_COURS")
    }

    fn rules() -> Rules {
        Rules { ..recommended() }
    }

    #[test]
    fn due_tomorrow_then_today_to_the_assignee_only() {
        let d = evaluate(
            [cand("2026-11-23")],
            &rules(),
            &set(&rules()),
            today(),
            &Seen::default(),
        );
        assert_eq!(d.alerts.len(), 1);
        let a = &d.alerts[0];
        assert_eq!(a.recipient_id, "dev");
        assert_eq!(a.alert_type, TYPE);
        assert_eq!(a.niveau, Some(Niveau::Info));
        assert_eq!(a.titre, "🔔 Tâche à rendre demain - Valider le plan");
        assert_eq!(
            a.message,
            "La tâche 'Valider le plan' du projet 'R&D <Alpha>' est à rendre demain (date limite : 23/11/2026). Pensez à la terminer à temps ou à signaler un blocage."
        );
        assert_eq!(
            a.key,
            "task-reminders:TACHE_ECHEANCE:p1/01234567-89ab-cdef-0123-456789abcdef:dev:J1:due=2026-11-23"
        );
        assert_eq!(a.context["jalon"], 1);
        let d = evaluate(
            [cand("2026-11-22")],
            &rules(),
            &set(&rules()),
            today(),
            &Seen::default(),
        );
        assert_eq!(d.alerts[0].niveau, Some(Niveau::Warning));
        assert!(d.alerts[0]
            .titre
            .starts_with("⏰ Tâche à rendre aujourd'hui - "));
        // J-1 was missed: recorded as passed over, not sent.
        assert_eq!(d.superseded.len(), 1);
        assert!(d.superseded[0].key.ends_with(":J1:due=2026-11-22"));
    }

    #[test]
    fn a_reminder_due_on_a_closed_day_comes_the_open_day_before() {
        let moved = Rules {
            milestones_on_working_days: vec![CHECK.to_owned()],
            ..rules()
        };
        let day = |s: &str| crate::clock::parse_stored_date(s).unwrap();
        // Monday 6 April 2026 is Easter Monday: a task due Tuesday 7 has its J-1 on the holiday,
        // so it comes Friday 3.
        let d = evaluate(
            [cand("2026-04-07")],
            &moved,
            &set(&moved),
            day("2026-04-03"),
            &Seen::default(),
        );
        assert_eq!(d.alerts.len(), 1, "{:?}", d.alerts);
        assert_eq!(d.alerts[0].context["jalon"], 1);
        assert_eq!(
            d.alerts[0].titre,
            "🔔 Tâche à rendre mardi - Valider le plan"
        );
        // Without the option, nothing on Friday (four days ahead).
        let d = evaluate(
            [cand("2026-04-07")],
            &rules(),
            &set(&rules()),
            day("2026-04-03"),
            &Seen::default(),
        );
        assert!(d.alerts.is_empty());
    }

    #[test]
    fn outside_the_window_nothing() {
        for due in ["2026-11-21", "2026-11-24"] {
            let d = evaluate(
                [cand(due)],
                &rules(),
                &set(&rules()),
                today(),
                &Seen::default(),
            );
            assert!(d.alerts.is_empty(), "{due}");
        }
    }

    #[test]
    fn once_per_milestone_and_due_date() {
        let first = evaluate(
            [cand("2026-11-23")],
            &rules(),
            &set(&rules()),
            today(),
            &Seen::default(),
        );
        let mut seen = Seen::default();
        seen.add_key(&first.alerts[0].key);
        let again = evaluate(
            [cand("2026-11-23")],
            &rules(),
            &set(&rules()),
            today(),
            &seen,
        );
        assert!(again.alerts.is_empty());
        assert_eq!(again.counters.duplicates, 1);
        // A row written without a ledger key (another host's, restored) is read by its context.
        let mut seen = Seen::default();
        seen.add_once(
            "dev",
            "p1/01234567-89ab-cdef-0123-456789abcdef",
            TYPE,
            "J1:due=2026-11-23",
        );
        assert!(evaluate(
            [cand("2026-11-23")],
            &rules(),
            &set(&rules()),
            today(),
            &seen
        )
        .alerts
        .is_empty());
    }

    #[test]
    fn who_gets_none() {
        let mut closed = cand("2026-11-23");
        closed.projet_statut = "ARCHIVE".into();
        let mut unassigned = cand("2026-11-23");
        unassigned.assignee_id = None;
        unassigned.assignee = None;
        let mut outsider = cand("2026-11-23");
        outsider.team = Rc::new(vec![(true, Rc::new(person("r1", true)))]);
        let mut inactive = cand("2026-11-23");
        inactive.assignee = Some(person("dev", false));
        inactive.team = Rc::new(vec![(false, Rc::new(person("dev", false)))]);
        let d = evaluate(
            [closed, unassigned, outsider, inactive],
            &rules(),
            &set(&rules()),
            today(),
            &Seen::default(),
        );
        assert!(d.alerts.is_empty());
        let skipped = &d.counters.skipped;
        assert_eq!(skipped.get("closed_project"), Some(&1));
        assert_eq!(skipped.get("unassigned_task"), Some(&1));
        assert_eq!(skipped.get("assignee_without_access"), Some(&1));
        assert_eq!(skipped.get("inactive_recipient"), Some(&1));
    }

    #[test]
    fn module_task_wording_and_key() {
        let mut c = cand("2026-11-23");
        c.module = Some("Paiement".into());
        c.tache_id = "42".into();
        let d = evaluate([c], &rules(), &set(&rules()), today(), &Seen::default());
        let a = &d.alerts[0];
        assert!(a
            .message
            .starts_with("La tâche 'Valider le plan' du module 'Paiement' du projet 'R&D <Alpha>' est à rendre demain"));
        assert_eq!(a.context["tache_module_id"], 42);
        assert_eq!(a.context["module_nom"], "Paiement");
        assert!(a
            .key
            .starts_with("task-reminders:TACHE_ECHEANCE:p1/module:42:dev:"));
    }
}

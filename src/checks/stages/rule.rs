//! Stage delays: a stage in progress past its planned end alerts the project's createur and
//! responsable every day, in `core_notificationetape`.

use super::settings::Settings;
use crate::rules::alert::{Later, ESCALATION};
use crate::rules::Rules;
use crate::rules::{
    fit_title, fr_date, hyphenate, Audiences, Decisions, Dedup, Engine, Person, ProjectInfo,
    Recipients, Role, Seen, SeenSpec, Span, Subject, Target, Texts,
};
use chrono::NaiveDate;
use serde_json::json;

/// The check's name.
pub const CHECK: &str = "stages";
pub const TYPE: &str = "RETARD_ETAPE";

/// A stage in progress, not finished, with a planned end before today.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub etape_id: String,
    /// The stage's place in the project (`core_etapeprojet.ordre`).
    pub ordre: i64,
    /// `core_typeetape.nom` (the code, e.g. `DEVELOPPEMENT`).
    pub type_code: String,
    pub date_fin_prevue: String,
    pub projet: ProjectInfo,
    pub createur: Option<Person>,
    pub responsable: Option<Person>,
}

/// Label of a stage type code, as the web application shows it.
pub fn type_label(code: &str) -> &str {
    match code {
        "PLANIFICATION" => "Planification",
        "CONCEPTION" => "Conception",
        "DEVELOPPEMENT" => "Développement",
        "TESTS" => "Tests",
        "DEPLOIEMENT" => "Déploiement",
        "MAINTENANCE" => "Maintenance",
        other => other,
    }
}

/// Existing notifications of this type, by stage, over the repeat window.
pub fn seen_spec(rules: &Rules, today: NaiveDate) -> SeenSpec {
    SeenSpec {
        check: CHECK,
        keys_of_any_date: crate::rules::escalation_keys(rules, CHECK, &[], &[ESCALATION]),
        target: Target::NotificationEtape,
        types: vec![TYPE.to_owned()],
        since: today.checked_sub_days(chrono::Days::new(u64::from(rules.repeat_every_days))),
        entity: crate::rules::entity_column,
        discriminators: crate::rules::no_discriminators,
    }
}

fn texts(c: &Candidate, set: &Settings, date: NaiveDate, late: &Span) -> Texts {
    let n = -late.count;
    let nom = if set.labels {
        type_label(&c.type_code)
    } else {
        c.type_code.as_str()
    };
    let (titre, truncated) = fit_title("🔴 Étape ", nom, " - EN RETARD");
    let mut context = json!({
        "jours_retard": n,
        "date_fin_prevue": date.to_string(),
        "type_alerte": TYPE,
        "projet_id": hyphenate(&c.projet.id),
        "projet_nom": c.projet.nom,
        "etape_nom": c.type_code,
    });
    if set.labels {
        context["etape_label"] = json!(nom);
    }
    Texts {
        alert_type: TYPE.to_owned(),
        niveau: None,
        titre,
        truncated,
        fixed: format!(
            "L'étape '{nom}' du projet '{}' est en retard de {} (date de fin prévue : {}). ",
            c.projet.nom,
            late.amount(),
            fr_date(date)
        ),
        sentences: vec![
            (
                Role::Responsable,
                "En tant que responsable, une action urgente est requise pour rattraper le retard."
                    .to_owned(),
            ),
            (
                Role::Createur,
                "En tant qu'administrateur, veuillez prendre les mesures nécessaires pour résoudre cette situation."
                    .to_owned(),
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
        if c.type_code.is_empty() {
            log::warn!(
                "{CHECK}: stage {} of project `{}` has no stage type (dangling type_etape_id); skipped",
                c.etape_id,
                c.projet.nom
            );
            e.out.counters.skip("missing_stage_type");
            continue;
        }
        let what = format!("stage {} of project `{}`", c.type_code, c.projet.nom);
        let Some(date) = e.date(CHECK, &what, &c.date_fin_prevue) else {
            continue;
        };
        let span = e.span(CHECK, date);
        if span.days >= 0 {
            continue;
        }
        let r = e.active_only(Recipients::createur_and_responsable(
            c.createur.as_ref(),
            c.responsable.as_ref(),
        ));
        let t = Later::new(TYPE, || texts(&c, set, date, &span));
        let subject = Subject {
            check: CHECK,
            target: Target::NotificationEtape,
            entity: c.etape_id.clone(),
            entity_id: &c.etape_id,
            projet: &c.projet,
            etape_id: Some(&c.etape_id),
            etape_ordre: Some(c.ordre),
            arm: format!("due={date}"),
        };
        let mut n = e.emit(&subject, &t, &r, Dedup::Daily);
        let who = Audiences {
            createur: c.createur.as_ref(),
            responsable: c.responsable.as_ref(),
            team: &[],
            superusers,
        };
        n += e.escalate(&subject, &t, &r, date, &who);
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

    fn cand(due: &str) -> Candidate {
        Candidate {
            etape_id: "e1".into(),
            ordre: 3,
            type_code: "DEVELOPPEMENT".into(),
            date_fin_prevue: due.into(),
            projet: projet(),
            createur: Some(person("admin", true)),
            responsable: Some(person("r1", true)),
        }
    }

    #[test]
    fn reference_texts_use_the_code_and_both_roles() {
        let rules = Rules::reference(chrono_tz::Europe::Paris);
        let d = evaluate([cand("2026-11-06")], &rules, today(), &Seen::default());
        assert_eq!(d.alerts.len(), 2);
        let a = d.alerts.iter().find(|a| a.recipient_id == "admin").unwrap();
        assert_eq!(a.titre, "🔴 Étape DEVELOPPEMENT - EN RETARD");
        assert_eq!(a.message, "L'étape 'DEVELOPPEMENT' du projet 'R&D <Alpha>' est en retard de 16 jours (date de fin prévue : 06/11/2026). En tant qu'administrateur, veuillez prendre les mesures nécessaires pour résoudre cette situation.");
        assert_eq!(a.target, Target::NotificationEtape);
        assert_eq!(a.niveau, None);
        assert_eq!(a.etape_id.as_deref(), Some("e1"));
        assert!(
            evaluate([cand("2026-11-22")], &rules, today(), &Seen::default())
                .alerts
                .is_empty()
        );
    }

    #[test]
    fn recommended_uses_the_label() {
        let d = evaluate(
            [cand("2026-11-21")],
            &recommended(),
            today(),
            &Seen::default(),
        );
        assert_eq!(d.alerts[0].titre, "🔴 Étape Développement - EN RETARD");
        assert!(d.alerts[0].message.starts_with(
            "L'étape 'Développement' du projet 'R&D <Alpha>' est en retard de 1 jour "
        ));
        assert_eq!(d.alerts[0].context["etape_nom"], "DEVELOPPEMENT");
    }
}

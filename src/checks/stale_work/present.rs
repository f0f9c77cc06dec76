//! What the stale-work check says of its alerts: the mail footer's rule, the explanation of
//! `alerts show`, the preview's samples.

use super::rule::{SUMMARY, TASK};
use crate::checks::check::{Facts, Sample};
use chrono::NaiveDate;
use serde_json::json;

pub fn rule_label(alert_type: &str) -> String {
    if alert_type == SUMMARY {
        "tâches sans mise à jour, résumé de la semaine".to_owned()
    } else {
        "tâche sans mise à jour".to_owned()
    }
}

pub fn explain(alert_type: &str, facts: &mut Facts<'_>) -> String {
    if alert_type == SUMMARY {
        facts.from("week", "semaine");
        facts.from("stale tasks", "nb_taches");
        facts.from("of which blocked", "nb_bloquees");
        facts.from("stalest task", "plus_ancienne");
        return "stale-work: the responsable of a project in progress gets one summary a week of its tasks not modified for stale_work.days (blocked: stale_work.blocked_days)".into();
    }
    facts.from("task", "tache_nom");
    facts.from("status", "statut");
    facts.from("last modified (UTC)", "date_modification");
    facts.from("days without a change", "jours_inactivite");
    "stale-work: an open task not modified for stale_work.days (blocked: stale_work.blocked_days) tells its assignee once; a modification re-arms it".into()
}

pub fn samples(today: NaiveDate) -> Vec<Sample> {
    let on = today - chrono::Duration::days(9);
    let fr = crate::rules::fr_date(on);
    let week = super::rule::week(today);
    vec![
        Sample {
            name: "tache-inactive",
            table: "core_alerteprojet",
            alert_type: TASK,
            niveau: Some("WARNING"),
            titre: "🧱 Tâche bloquée sans mise à jour - Valider la maquette « Été »".into(),
            message: format!("La tâche 'Valider la maquette « Été »' du projet 'R&D <Alpha> — Portail Été' est bloquée et n'a pas été mise à jour depuis 9 jours (dernière modification le {fr}). Raison indiquée : « Attente des retours du client ». Dites à votre responsable ce qui la débloquerait, ou mettez-la à jour."),
            context: json!({"tache_id": "5b0c7e2a-9f1d-4c3e-8a6b-2d4e6f8a0b1c", "tache_nom": "Valider la maquette « Été »", "statut": "BLOQUEE", "date_modification": format!("{on} 09:12:44"), "jours_inactivite": 9, "type_alerte": TASK}),
        },
        Sample {
            name: "taches-inactives",
            table: "core_alerteprojet",
            alert_type: SUMMARY,
            niveau: Some("WARNING"),
            titre: "💤 Tâches sans mise à jour - R&D <Alpha> — Portail Été".into(),
            message: format!("3 tâches du projet 'R&D <Alpha> — Portail Été' n'ont pas été mises à jour depuis plus de 14 jours, dont 1 bloquée depuis plus de 7 jours. La plus ancienne : 'Valider la maquette « Été »' (dernière modification le {fr}). En tant que responsable du projet, faites le point avec les personnes assignées."),
            context: json!({"semaine": week, "nb_taches": 3, "nb_bloquees": 1, "plus_ancienne": "Valider la maquette « Été »", "type_alerte": SUMMARY}),
        },
    ]
}

//! What the start-dates check says of its alerts: the mail footer's rule, the explanation of
//! `alerts show`, the preview's samples.

use super::rule::{STAGE, TASK};
use crate::checks::check::{Facts, Sample};
use chrono::NaiveDate;
use serde_json::{json, Value};

pub fn rule_label(alert_type: &str, context: &Value) -> String {
    let what = if alert_type == STAGE {
        "étape"
    } else {
        "tâche"
    };
    match context.get("relance_apres").and_then(Value::as_u64) {
        Some(n) => format!("{what} non démarrée, relance à J+{n}"),
        None => format!("{what} non démarrée"),
    }
}

pub fn explain(alert_type: &str, facts: &mut Facts<'_>) -> String {
    if alert_type == STAGE {
        let stage = facts.get("etape_label").or_else(|| facts.get("etape_nom"));
        facts.add("stage", stage);
    } else {
        facts.from("task", "tache_nom");
    }
    facts.from("planned start", "date_debut_prevue");
    facts.from("days since the planned start", "jours_retard");
    facts.from("second alert after (days)", "relance_apres");
    "start-dates: a stage or task of a project in progress still not started at its planned start is said once, and once more start_dates.remind_after_days later".into()
}

pub fn samples(today: NaiveDate) -> Vec<Sample> {
    let start = today - chrono::Duration::days(3);
    let fr = crate::rules::fr_date(start);
    vec![
        Sample {
            name: "etape-non-demarree",
            table: "core_alerteprojet",
            alert_type: STAGE,
            niveau: Some("INFO"),
            titre: "⏳ Étape Développement - non démarrée".into(),
            message: format!("L'étape 'Développement' du projet 'R&D <Alpha> — Portail Été' devait commencer le {fr} (il y a 3 jours) et n'a pas démarré. En tant que responsable du projet, démarrez-la dans l'application si le travail a commencé, ou replanifiez-la."),
            context: json!({"etape_id": "0b9c2f1e-6a4d-4e8b-9c3a-7d5e1f2a4b6c", "etape_nom": "DEVELOPPEMENT", "etape_label": "Développement", "date_debut_prevue": start.to_string(), "jours_retard": 3, "type_alerte": STAGE}),
        },
        Sample {
            name: "tache-non-demarree",
            table: "core_alerteprojet",
            alert_type: TASK,
            niveau: Some("WARNING"),
            titre: "⏳ Tâche non démarrée - Valider la maquette « Été »".into(),
            message: format!("La tâche 'Valider la maquette « Été »' du projet 'R&D <Alpha> — Portail Été' n'a toujours pas démarré, 3 jours après sa date de début prévue ({fr}). Passez-la « En cours » si vous l'avez commencée, ou convenez d'une nouvelle date de début."),
            context: json!({"tache_id": "5b0c7e2a-9f1d-4c3e-8a6b-2d4e6f8a0b1c", "tache_nom": "Valider la maquette « Été »", "date_debut_prevue": start.to_string(), "jours_retard": 3, "relance_apres": 3, "type_alerte": TASK}),
        },
    ]
}

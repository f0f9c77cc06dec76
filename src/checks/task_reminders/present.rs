//! What the task reminders say of themselves: the mail footer's rule, the explanation of
//! `alerts show`, the preview's sample.

use super::rule::TYPE;
use crate::checks::check::{Facts, Sample};
use chrono::NaiveDate;
use serde_json::{json, Value};

pub fn rule_label(context: &Value) -> String {
    match context.get("jalon").and_then(Value::as_i64) {
        Some(m) => format!("rappel de tâche J-{m}"),
        None => "rappel de tâche".to_owned(),
    }
}

pub fn explain(facts: &mut Facts<'_>) -> String {
    facts.from("task", "tache_nom");
    facts.from("task due date", "date_fin");
    facts.from("days left", "jours_restants");
    "task-reminders: an open task near its due date reminds its assignee once per milestone".into()
}

pub fn samples(today: NaiveDate) -> Vec<Sample> {
    let due = today + chrono::Duration::days(1);
    vec![Sample {
        name: "tache-echeance",
        table: "core_alerteprojet",
        alert_type: TYPE,
        niveau: Some("INFO"),
        titre: "🔔 Tâche à rendre demain - Valider la maquette « Été »".into(),
        message: format!("La tâche 'Valider la maquette « Été »' du projet 'R&D <Alpha> — Portail Été' est à rendre demain (date limite : {}). Pensez à la terminer à temps ou à signaler un blocage.", crate::rules::fr_date(due)),
        context: json!({"jours_restants": 1, "jalon": 1, "tache_nom": "Valider la maquette « Été »", "date_fin": due.to_string(), "type_alerte": TYPE, "tache_id": "5b0c7e2a-9f1d-4c3e-8a6b-2d4e6f8a0b1c"}),
    }]
}

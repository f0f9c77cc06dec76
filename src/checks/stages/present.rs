//! What the stages check says of its notifications: the mail footer's rule, the explanation of
//! `alerts show`, the preview's sample.

use crate::checks::check::{Facts, Sample};
use chrono::NaiveDate;
use serde_json::json;

pub fn explain(facts: &mut Facts<'_>) -> String {
    let stage = facts.get("etape_label").or_else(|| facts.get("etape_nom"));
    facts.add("stage", stage);
    facts.from("planned end of the stage", "date_fin_prevue");
    facts.from("days late", "jours_retard");
    "stages: a stage in progress past its planned end gets one notification a day".into()
}

pub fn samples(today: NaiveDate) -> Vec<Sample> {
    let late = (today - chrono::Duration::days(16)).to_string();
    vec![Sample {
        name: "retard-etape",
        table: "core_notificationetape",
        alert_type: "RETARD_ETAPE",
        niveau: None,
        titre: "🔴 Étape Développement - EN RETARD".into(),
        message: "L'étape 'Développement' du projet 'R&D <Alpha> — Portail Été' est en retard de 16 jours. En tant que responsable, une action urgente est requise pour rattraper le retard.".into(),
        context: json!({"jours_retard": 16, "date_fin_prevue": late, "etape_nom": "DEVELOPPEMENT", "etape_label": "Développement", "type_alerte": "RETARD_ETAPE"}),
    }]
}

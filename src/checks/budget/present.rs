//! What the budget check says of its alerts: the mail footer's rule, the explanation of
//! `alerts show`, the preview's sample.

use crate::checks::check::{Facts, Sample};
use serde_json::json;

/// The type of an exceeded budget.
pub const EXCEEDED: &str = "BUDGET_DEPASSE";

pub fn rule_label(alert_type: &str) -> String {
    if alert_type == EXCEEDED {
        "budget dépassé".to_owned()
    } else {
        "seuil de consommation du budget".to_owned()
    }
}

pub fn explain(alert_type: &str, facts: &mut Facts<'_>) -> String {
    facts.from("threshold (%)", "seuil");
    facts.from("budget", "budget_previsionnel");
    facts.from("spent", "budget_consomme");
    facts.from("used (%)", "pourcentage_consommation");
    facts.from("overrun", "depassement");
    facts.from("overrun (%)", "pourcentage_depassement");
    facts.from("currency", "devise");
    if alert_type == EXCEEDED {
        "budget: spending above the planned budget is alerted once a day".into()
    } else {
        "budget: spending crossing a threshold of the planned budget is alerted once per budget and threshold".into()
    }
}

pub fn samples() -> Vec<Sample> {
    vec![Sample {
        name: "budget-depasse",
        table: "core_alerteprojet",
        alert_type: EXCEEDED,
        niveau: Some("WARNING"),
        titre: "💰 Budget dépassé - R&D <Alpha> — Portail Été".into(),
        message:
            "Le budget du projet 'R&D <Alpha> — Portail Été' est dépassé de 1 250,00 EUR (+6.3%)."
                .into(),
        context: json!({"budget_previsionnel": 20000.0, "budget_consomme": 21250.0, "depassement": 1250.0, "pourcentage_depassement": 6.25, "devise": "EUR", "type_alerte": EXCEEDED}),
    }]
}

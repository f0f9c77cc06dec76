//! What the deadlines check says of its alerts: the mail footer's rule, the explanation of
//! `alerts show`, the preview's samples.

use super::rule::OVERDUE;
use crate::checks::check::{Facts, Sample};
use chrono::NaiveDate;
use serde_json::json;

/// The milestone of a `ECHEANCE_J<n>` type (`ECHEANCE_J7` → 7).
fn milestone(alert_type: &str) -> Option<i64> {
    alert_type
        .strip_prefix("ECHEANCE_J")
        .and_then(|n| n.parse().ok())
}

pub fn rule_label(alert_type: &str) -> String {
    match milestone(alert_type) {
        Some(m) => format!("échéance J-{m}"),
        None if alert_type == OVERDUE => "échéance dépassée".to_owned(),
        None => alert_type.to_lowercase().replace('_', " "),
    }
}

pub fn explain(alert_type: &str, facts: &mut Facts<'_>) -> String {
    facts.from("project end date", "date_fin");
    match milestone(alert_type) {
        Some(m) => {
            facts.from("days left on the business date", "jours_restants");
            let caught_up = match facts.int("jours_restants") {
                Some(d) if d < m => format!(
                    "J-{m}, caught up {d} day(s) before the end (its own day passed without a run)"
                ),
                _ => format!("J-{m} reached"),
            };
            facts.add("milestone", Some(caught_up));
            format!("deadlines: a project in progress whose end date is {m} day(s) away or less gets its J-{m} alert once")
        }
        None => {
            facts.from("days late", "jours_retard");
            "deadlines: a project in progress past its end date gets one alert a day".into()
        }
    }
}

pub fn samples(today: NaiveDate) -> Vec<Sample> {
    let d = |days: i64| (today + chrono::Duration::days(days)).to_string();
    vec![
        Sample {
            name: "echeance-j3",
            table: "core_alerteprojet",
            alert_type: "ECHEANCE_J3",
            niveau: Some("WARNING"),
            titre: "⏰ Projet R&D <Alpha> — Portail Été - Échéance dans 3 jours".into(),
            message: "Le projet 'R&D <Alpha> — Portail Été' se termine dans 3 jours. En tant que responsable du projet, assurez-vous que toutes les tâches seront terminées à temps.".into(),
            context: json!({"jours_restants": 3, "date_fin": d(3), "type_alerte": "J-3"}),
        },
        Sample {
            name: "echeance-depassee",
            table: "core_alerteprojet",
            alert_type: OVERDUE,
            niveau: Some("DANGER"),
            titre: "🔴 Projet R&D <Alpha> — Portail Été - EN RETARD".into(),
            message: "Le projet 'R&D <Alpha> — Portail Été' a dépassé sa date de fin de 4 jours. En tant que responsable du projet, une action immédiate est requise.".into(),
            context: json!({"jours_retard": 4, "date_fin": d(-4), "type_alerte": "RETARD"}),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milestones_and_overdue_are_worded() {
        assert_eq!(milestone("ECHEANCE_J7"), Some(7));
        assert_eq!(milestone("ECHEANCE_DEPASSEE"), None);
        assert_eq!(rule_label("ECHEANCE_J0"), "échéance J-0");
        assert_eq!(rule_label(OVERDUE), "échéance dépassée");
        let ctx = json!({"jours_restants": 2, "date_fin": "2026-12-09"});
        let mut f = Facts::new(&ctx);
        let rule = explain("ECHEANCE_J3", &mut f);
        assert!(rule.contains("J-3 alert once"), "{rule}");
        let facts = f.into_list();
        assert!(facts
            .iter()
            .any(|(k, v)| k == "milestone" && v.contains("caught up 2")));
    }
}

//! Why an alert exists, as `sigov alerts show` says it: the rule of its type, the facts it
//! decided on (from the row's `donnees_contexte` and its ledger key), the business date, and
//! the recipient's role on the project.

use super::alerts::AlertRow;
use serde_json::Value;

/// The explanation of one alert.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Why {
    /// The rule, in one sentence.
    pub rule: String,
    /// The facts it decided on, in the order they matter: (name, value).
    pub facts: Vec<(String, String)>,
}

/// The milestone of a `…_J<n>` type (`ECHEANCE_J7` → 7).
fn milestone(typ: &str) -> Option<i64> {
    typ.rsplit_once("_J").and_then(|(_, n)| n.parse().ok())
}

/// The `due=` (or `end=`) date a ledger key names.
fn key_date<'k>(key: &'k str, name: &str) -> Option<&'k str> {
    key.split(':')
        .find_map(|part| part.strip_prefix(name).and_then(|p| p.strip_prefix('=')))
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// The explanation of `a`, whose recipient holds `roles` on its project.
pub fn why(a: &AlertRow, roles: &[&str]) -> Why {
    let ctx: Value = a
        .contexte
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or(Value::Null);
    let get = |k: &str| ctx.get(k).map(text);
    let typ = a.typ.as_str();
    let mut facts: Vec<(String, String)> = Vec::new();
    let mut fact = |name: &str, v: Option<String>| {
        if let Some(v) = v {
            facts.push((name.to_owned(), v));
        }
    };
    let rule = if let (true, Some(m)) = (typ.starts_with("ECHEANCE_J"), milestone(typ)) {
        fact("project end date", get("date_fin"));
        fact("days left on the business date", get("jours_restants"));
        let left: Option<i64> = ctx.get("jours_restants").and_then(Value::as_i64);
        fact(
            "milestone",
            Some(match left {
                Some(d) if d < m => format!(
                    "J-{m}, caught up {d} day(s) before the end (its own day passed without a run)"
                ),
                _ => format!("J-{m} reached"),
            }),
        );
        format!("deadlines: a project in progress whose end date is {m} day(s) away or less gets its J-{m} alert once")
    } else if typ == "ECHEANCE_DEPASSEE" {
        fact("project end date", get("date_fin"));
        fact("days late", get("jours_retard"));
        "deadlines: a project in progress past its end date gets one alert a day".into()
    } else if typ == "RETARD_ETAPE" {
        fact("stage", get("etape_label").or_else(|| get("etape_nom")));
        fact("planned end of the stage", get("date_fin_prevue"));
        fact("days late", get("jours_retard"));
        "stages: a stage in progress past its planned end gets one notification a day".into()
    } else if typ.starts_with("TACHE") {
        fact("task", get("tache_nom"));
        fact("task due date", get("date_fin"));
        fact("days late", get("jours_retard"));
        fact("days left", get("jours_restants"));
        "tasks: an open task past (or near) its due date is reported to its people".into()
    } else if typ.starts_with("BUDGET") {
        fact("threshold (%)", get("seuil"));
        fact("budget", get("budget_previsionnel"));
        fact("spent", get("budget_consomme"));
        fact("used (%)", get("pourcentage_consommation"));
        fact("overrun", get("depassement"));
        fact("overrun (%)", get("pourcentage_depassement"));
        fact("currency", get("devise"));
        match typ {
            "BUDGET_DEPASSE" => "budget: spending above the planned budget is alerted once a day".into(),
            _ => "budget: spending crossing a threshold of the planned budget is alerted once per budget and threshold".into(),
        }
    } else if typ.starts_with("CONTRAT") {
        fact("contract", get("contrat_id"));
        fact("guarantee", get("type_garantie"));
        fact("contract end date", get("date_fin"));
        fact("days left", get("jours_restants"));
        fact("days since expiry", get("jours_retard"));
        match typ {
            "CONTRAT_EXPIRE" => "contracts: an expired maintenance contract is alerted once".into(),
            _ => "contracts: a maintenance contract nearing its end is alerted once per milestone"
                .into(),
        }
    } else {
        if let Some(o) = ctx.as_object() {
            for (k, v) in o {
                fact(k, Some(text(v)));
            }
        }
        format!(
            "type {typ}: no rule of sigov's names it (written by the web application or Django)"
        )
    };
    // An escalation (`escalation.<check>`): the rung and since when.
    let rule = match ctx.get("escalade").and_then(Value::as_i64) {
        Some(n) => {
            fact("escalation rung (open days)", Some(n.to_string()));
            fact("alert began", get("escalade_depuis"));
            format!("{rule}; escalated: from {n} open day(s) after it began, the escalation ladder tells more people, each once per rung")
        }
        None => rule,
    };
    if let Some(key) = &a.alert_key {
        fact(
            "due date (ledger key)",
            key_date(key, "due").map(str::to_owned),
        );
        fact(
            "contract end (key)",
            key_date(key, "end").map(str::to_owned),
        );
    }
    fact("business date", a.business_date.clone());
    fact(
        "recipient's role",
        Some(if roles.is_empty() {
            "none on the project now".to_owned()
        } else {
            roles.join(", ")
        }),
    );
    Why { rule, facts }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milestones_and_key_dates() {
        assert_eq!(milestone("ECHEANCE_J7"), Some(7));
        assert_eq!(milestone("ECHEANCE_J0"), Some(0));
        assert_eq!(milestone("ECHEANCE_DEPASSEE"), None);
        let k = "deadlines:ECHEANCE_J7:p:u:due=2026-12-07";
        assert_eq!(key_date(k, "due"), Some("2026-12-07"));
        assert_eq!(key_date(k, "end"), None);
    }
}

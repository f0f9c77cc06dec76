//! Why an alert exists, as `sigov alerts show` says it: the rule of its type, the facts it
//! decided on (from the row's `donnees_contexte` and its ledger key), the business date, and
//! the recipient's role on the project.

use super::alerts::AlertRow;
use crate::checks::check::Facts;
use serde_json::Value;

/// The explanation of one alert.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Why {
    /// The rule, in one sentence.
    pub rule: String,
    /// The facts it decided on, in the order they matter: (name, value).
    pub facts: Vec<(String, String)>,
}

/// The `due=` (or `end=`) date a ledger key names.
fn key_date<'k>(key: &'k str, name: &str) -> Option<&'k str> {
    key.split(':')
        .find_map(|part| part.strip_prefix(name).and_then(|p| p.strip_prefix('=')))
}

/// The explanation of `a`, whose recipient holds `roles` on its project.
pub fn why(a: &AlertRow, roles: &[&str]) -> Why {
    let ctx: Value = a
        .contexte
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or(Value::Null);
    let typ = a.typ.as_str();
    let mut facts = Facts::new(&ctx);
    // The check that writes the type explains it; the web application's own types are shown
    // with their context.
    let rule = match crate::checks::registry::owner(typ) {
        Some(check) => check.check().explain(typ, &mut facts),
        None => {
            facts.all();
            format!(
                "type {typ}: no rule of sigov's names it (written by the web application or Django)"
            )
        }
    };
    // An escalation (`escalation.<check>`): the rung and since when.
    let rule = match facts.int("escalade") {
        Some(n) => {
            facts.add("escalation rung (open days)", Some(n.to_string()));
            facts.from("alert began", "escalade_depuis");
            format!("{rule}; escalated: from {n} open day(s) after it began, the escalation ladder tells more people, each once per rung")
        }
        None => rule,
    };
    if let Some(key) = &a.alert_key {
        facts.add(
            "due date (ledger key)",
            key_date(key, "due").map(str::to_owned),
        );
        facts.add(
            "contract end (key)",
            key_date(key, "end").map(str::to_owned),
        );
    }
    facts.add("business date", a.business_date.map(|d| d.to_string()));
    facts.add(
        "recipient's role",
        Some(if roles.is_empty() {
            "none on the project now".to_owned()
        } else {
            roles.join(", ")
        }),
    );
    Why {
        rule,
        facts: facts.into_list(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_dates() {
        let k = "deadlines:ECHEANCE_J7:p:u:due=2026-12-07";
        assert_eq!(key_date(k, "due"), Some("2026-12-07"));
        assert_eq!(key_date(k, "end"), None);
    }
}

//! What the contracts check says of its alerts: the mail footer's rule and the explanation of
//! `alerts show`.

use crate::checks::check::Facts;

/// The type of an expired contract.
pub const EXPIRED: &str = "CONTRAT_EXPIRE";

pub fn rule_label(alert_type: &str) -> String {
    if alert_type == EXPIRED {
        "contrat expiré".to_owned()
    } else {
        "contrat proche de son expiration".to_owned()
    }
}

pub fn explain(alert_type: &str, facts: &mut Facts<'_>) -> String {
    facts.from("contract", "contrat_id");
    facts.from("guarantee", "type_garantie");
    facts.from("contract end date", "date_fin");
    facts.from("days left", "jours_restants");
    facts.from("days since expiry", "jours_retard");
    if alert_type == EXPIRED {
        "contracts: an expired maintenance contract is alerted once".into()
    } else {
        "contracts: a maintenance contract nearing its end is alerted once per milestone".into()
    }
}

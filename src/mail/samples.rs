//! Sample alerts for `sigov mail preview` without an id: each check's samples (one mail of each
//! kind it writes) and a digest of them, no database needed.

use super::render::{Payload, PayloadProjet, PayloadRecipient};
use super::settings::{Labels, Sample};
use chrono::NaiveDateTime;

fn payload(labels: &dyn Labels, s: Sample) -> Payload {
    Payload {
        alert_id: 0,
        table: s.table.to_owned(),
        alert_type: s.alert_type.to_owned(),
        niveau: s.niveau.map(str::to_owned),
        titre: s.titre,
        message: s.message,
        recipient: PayloadRecipient {
            id: "sample".to_owned(),
            name: "Zoé L'Hôte".to_owned(),
            email: "zoe.lhote@example.org".to_owned(),
        },
        projet: PayloadProjet {
            id: "3ee9d7cd426d4cd0bd94d0c09878c2cf".to_owned(),
            nom: "R&D <Alpha> — Portail Été".to_owned(),
            client: "L'Été indien & Cie".to_owned(),
            statut: "En cours".to_owned(),
        },
        etape_ordre: (s.table == "core_notificationetape").then_some(3),
        created_at: String::new(),
        reason: crate::rules::wording::why(
            crate::rules::Role::Responsable,
            "R&D <Alpha> — Portail Été",
        ),
        rule: labels.rule_label(s.alert_type, &serde_json::Value::Null),
        context: s.context,
    }
}

/// The sample payloads, named: each check's, in the registry's order (`labels` has them).
pub fn payloads(labels: &dyn Labels, now: NaiveDateTime) -> Vec<(&'static str, Payload)> {
    let mut v: Vec<(&'static str, Payload)> = labels
        .samples(now.date())
        .into_iter()
        .map(|s| (s.name, payload(labels, s)))
        .collect();
    for (n, (_, p)) in v.iter_mut().enumerate() {
        p.alert_id = n as i64 + 1;
        p.created_at = crate::clock::format_datetime(now);
    }
    v
}

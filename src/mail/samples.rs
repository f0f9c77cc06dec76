//! Sample alerts for `sigov mail preview` without an id: each check's samples (one mail of each
//! kind it writes) and a digest of them, no database needed.

use super::render::{Payload, PayloadProjet, PayloadRecipient, Rendered};
use super::MailCfg;
use anyhow::Result;
use chrono::NaiveDateTime;

/// One sample alert, for `sigov mail preview`.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Its name (`echeance-j3`): the preview's file name.
    pub name: &'static str,
    /// `core_alerteprojet` or `core_notificationetape`.
    pub table: &'static str,
    pub alert_type: &'static str,
    pub niveau: Option<&'static str>,
    pub titre: String,
    pub message: String,
    pub context: serde_json::Value,
}

fn payload(labels: &dyn super::Labels, s: Sample) -> Payload {
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
pub fn payloads(labels: &dyn super::Labels, now: NaiveDateTime) -> Vec<(&'static str, Payload)> {
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

/// Every sample rendered, and the digest of all of them: (name, parts, whole message).
pub fn all(cfg: &MailCfg, now: NaiveDateTime) -> Result<Vec<(String, Rendered, Vec<u8>)>> {
    let composer = super::Composer::new(cfg)?;
    let samples = payloads(cfg.labels, now);
    let mut out = Vec::new();
    for (name, p) in &samples {
        let (r, eml) = super::preview(
            &composer,
            std::slice::from_ref(p),
            &[p.alert_id],
            name,
            now,
            false,
        )?;
        out.push((format!("sample-{name}"), r, eml));
    }
    let ps: Vec<Payload> = samples.into_iter().map(|(_, p)| p).collect();
    let ids: Vec<i64> = ps.iter().map(|p| p.alert_id).collect();
    let (r, eml) = super::preview(&composer, &ps, &ids, "digest", now, false)?;
    out.push(("sample-digest".to_owned(), r, eml));
    let (r, eml) = super::preview(&composer, &ps, &ids, "daily", now, true)?;
    out.push(("sample-daily".to_owned(), r, eml));
    // The message of `sigov mail test`.
    let to = "exploitation@example.org";
    let r = composer.renderer.test(to, now)?;
    let mid = super::message_id(&composer.from, &[0], "sample-test");
    let (_, eml) = super::build_message(&composer.from, "", to, &r, &mid, now)
        .map_err(|e| anyhow::anyhow!(e))?;
    out.push(("sample-test".to_owned(), r, eml));
    Ok(out)
}

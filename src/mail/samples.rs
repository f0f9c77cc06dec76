//! Sample alerts for `sigov mail preview` without an id: one mail of each kind (a warning, an
//! overdue project, a stage delay, a budget overrun, a task reminder) and a digest of them, no
//! database needed.

use super::render::{Payload, PayloadProjet, PayloadRecipient, Rendered};
use super::MailCfg;
use anyhow::Result;
use chrono::NaiveDateTime;
use serde_json::json;

fn sample(
    table: &str,
    typ: &str,
    niveau: Option<&str>,
    titre: &str,
    message: &str,
    context: serde_json::Value,
) -> Payload {
    Payload {
        alert_id: 0,
        table: table.to_owned(),
        alert_type: typ.to_owned(),
        niveau: niveau.map(str::to_owned),
        titre: titre.to_owned(),
        message: message.to_owned(),
        context,
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
        etape_ordre: (table == "core_notificationetape").then_some(3),
        created_at: String::new(),
        reason: crate::rules::wording::why(
            crate::rules::Role::Responsable,
            "R&D <Alpha> — Portail Été",
        ),
        rule: crate::rules::wording::rule_label(typ, &serde_json::Value::Null),
    }
}

/// The sample payloads, named.
pub fn payloads(now: NaiveDateTime) -> Vec<(&'static str, Payload)> {
    let d = |days: i64| (now.date() + chrono::Duration::days(days)).to_string();
    let mut v = vec![
        ("echeance-j3", sample("core_alerteprojet", "ECHEANCE_J3", Some("WARNING"),
            "⏰ Projet R&D <Alpha> — Portail Été - Échéance dans 3 jours",
            "Le projet 'R&D <Alpha> — Portail Été' se termine dans 3 jours. En tant que responsable du projet, assurez-vous que toutes les tâches seront terminées à temps.",
            json!({"jours_restants": 3, "date_fin": d(3), "type_alerte": "J-3"}))),
        ("echeance-depassee", sample("core_alerteprojet", "ECHEANCE_DEPASSEE", Some("DANGER"),
            "🔴 Projet R&D <Alpha> — Portail Été - EN RETARD",
            "Le projet 'R&D <Alpha> — Portail Été' a dépassé sa date de fin de 4 jours. En tant que responsable du projet, une action immédiate est requise.",
            json!({"jours_retard": 4, "date_fin": d(-4), "type_alerte": "RETARD"}))),
        ("retard-etape", sample("core_notificationetape", "RETARD_ETAPE", None,
            "🔴 Étape Développement - EN RETARD",
            "L'étape 'Développement' du projet 'R&D <Alpha> — Portail Été' est en retard de 16 jours. En tant que responsable, une action urgente est requise pour rattraper le retard.",
            json!({"jours_retard": 16, "date_fin_prevue": d(-16), "etape_nom": "DEVELOPPEMENT", "etape_label": "Développement", "type_alerte": "RETARD_ETAPE"}))),
        ("budget-depasse", sample("core_alerteprojet", "BUDGET_DEPASSE", Some("WARNING"),
            "💰 Budget dépassé - R&D <Alpha> — Portail Été",
            "Le budget du projet 'R&D <Alpha> — Portail Été' est dépassé de 1 250,00 EUR (+6.3%).",
            json!({"budget_previsionnel": 20000.0, "budget_consomme": 21250.0, "depassement": 1250.0, "pourcentage_depassement": 6.25, "devise": "EUR", "type_alerte": "BUDGET_DEPASSE"}))),
        ("tache-echeance", sample("core_alerteprojet", "TACHE_ECHEANCE", Some("INFO"),
            "🔔 Tâche à rendre demain - Valider la maquette « Été »",
            &format!("La tâche 'Valider la maquette « Été »' du projet 'R&D <Alpha> — Portail Été' est à rendre demain (date limite : {}). Pensez à la terminer à temps ou à signaler un blocage.",
                crate::rules::fr_date(now.date() + chrono::Duration::days(1))),
            json!({"jours_restants": 1, "jalon": 1, "tache_nom": "Valider la maquette « Été »", "date_fin": d(1), "type_alerte": "TACHE_ECHEANCE", "tache_id": "5b0c7e2a-9f1d-4c3e-8a6b-2d4e6f8a0b1c"}))),
    ];
    for (n, (_, p)) in v.iter_mut().enumerate() {
        p.alert_id = n as i64 + 1;
        p.created_at = crate::clock::format_datetime(now);
    }
    v
}

/// Every sample rendered, and the digest of all of them: (name, parts, whole message).
pub fn all(cfg: &MailCfg, now: NaiveDateTime) -> Result<Vec<(String, Rendered, Vec<u8>)>> {
    let composer = super::Composer::new(cfg)?;
    let samples = payloads(now);
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

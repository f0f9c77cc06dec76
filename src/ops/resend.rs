//! `sigov alerts resend`: a new mail for alerts already recorded.

use super::alerts::{get, AlertRow, Table};
use crate::db::Db;
use crate::states::MailState;
use anyhow::{Context, Result};

/// A mail `alerts resend` queued (or would queue, on a dry run).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Resent {
    pub table: Table,
    pub alert_id: i64,
    pub to: String,
    /// The new outbox row (`None` on a dry run).
    pub outbox_id: Option<i64>,
}

/// Queues one new mail for each alert of `ids` in `table` (a new outbox row with its own
/// Message-ID; the alert row is not touched), to the recipient's current address. Nothing is
/// queued when an id is unknown or a recipient has no usable address: the error names them.
pub fn resend(
    db: &mut Db,
    table: Table,
    ids: &[i64],
    now: chrono::NaiveDateTime,
    dry_run: bool,
) -> Result<Vec<Resent>> {
    let mut found = Vec::with_capacity(ids.len());
    let mut problems = Vec::new();
    let mut unknown = Vec::new();
    for id in ids {
        match get(db, table, *id)? {
            None => unknown.push(id.to_string()),
            Some(a) => match a.no_mail_reason() {
                Some(why) => {
                    problems.push(format!("alert {id}: cannot mail {}: {why}", a.recipient()))
                }
                None => found.push(a),
            },
        }
    }
    if !unknown.is_empty() {
        return Err(crate::exit::UnknownValue(format!(
            "nothing queued: no alert with id {} in {}",
            unknown.join(", "),
            table.sql_name()
        ))
        .into());
    }
    if !problems.is_empty() {
        anyhow::bail!("nothing queued: {}", problems.join("; "));
    }
    let mut out = Vec::with_capacity(found.len());
    let stamp = crate::clock::to_micros(now);
    db.transaction(|db| {
        for (n, a) in found.iter().enumerate() {
            let to = a
                .recipient_email
                .clone()
                .unwrap_or_default()
                .trim()
                .to_owned();
            let outbox_id = if dry_run {
                None
            } else {
                Some(queue_again(db, a, &to, stamp, n)?)
            };
            out.push(Resent {
                table,
                alert_id: a.id,
                to,
                outbox_id,
            });
        }
        Ok(())
    })?;
    Ok(out)
}

fn queue_again(
    db: &mut Db,
    a: &AlertRow,
    to: &str,
    now: chrono::NaiveDateTime,
    n: usize,
) -> Result<i64> {
    use crate::db::schema::sigov_outbox::dsl as o;
    use crate::mail::render::{Payload, PayloadProjet, PayloadRecipient};
    use diesel::ExpressionMethods;
    let context = a
        .contexte
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or(serde_json::Value::Null);
    let payload = Payload {
        alert_id: a.id,
        table: a.tbl.clone(),
        alert_type: a.typ.clone(),
        niveau: a.niveau.clone(),
        titre: a.titre.clone(),
        message: a.message.clone(),
        context,
        recipient: PayloadRecipient {
            id: a.recipient_id.clone(),
            name: a.person_name(),
            email: to.to_owned(),
        },
        projet: PayloadProjet {
            id: a.projet_id.clone().unwrap_or_default(),
            nom: a.projet_nom.clone().unwrap_or_default(),
            client: a.projet_client.clone().unwrap_or_default(),
            statut: a.projet_statut.clone().unwrap_or_default(),
        },
        etape_ordre: a.etape_ordre,
        created_at: a.date_creation.clone().unwrap_or_default(),
        reason: "un exploitant vous l'a renvoyée (sigov alerts resend)".to_owned(),
        rule: crate::checks::registry::rule_label(&a.typ, &serde_json::Value::Null),
    };
    let payload = serde_json::to_string(&payload).context("cannot write the mail's payload")?;
    let kind = match a.table() {
        Table::Alert => crate::states::MailKind::Alert,
        Table::Notification => crate::states::MailKind::Stage,
    };
    // A key of its own (the outbox keeps one row per key), unique across hosts and processes.
    let key = format!(
        "resend:{}:{}:{}:{}:{}:{n}",
        a.tbl,
        a.id,
        now.and_utc().timestamp_micros(),
        crate::host::hostname(),
        std::process::id()
    );
    let key: String = key.chars().take(191).collect();
    crate::db::dsl_execute!(
        db,
        diesel::insert_into(o::sigov_outbox).values((
            o::alert_key.eq(key.as_str()),
            o::origin_key.eq(Some(a.mail_key())),
            o::recipient_id.eq(a.recipient_id.as_str()),
            o::recipient_email.eq(to),
            o::kind.eq(kind.as_str()),
            o::payload.eq(payload.as_str()),
            o::state.eq(MailState::Pending.as_str()),
            o::attempts.eq(0),
            o::next_attempt_at.eq(now),
            o::created_at.eq(now),
            o::updated_at.eq(now),
        ))
    )
    .context("cannot queue the mail")?;
    db.last_insert_id().context("cannot read the new outbox id")
}

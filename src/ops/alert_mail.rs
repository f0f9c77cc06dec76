//! The mail of an alert, as the read side shows it: its outbox rows, and what became of it.

use super::alerts::AlertRow;
use crate::db::text::{Lossy, LossyOpt};
use crate::db::{Db, Val};
use crate::states::MailState;
use anyhow::{Context, Result};
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::QueryableByName;
use std::collections::HashMap;

/// One outbox row of an alert.
#[derive(Debug, Clone, QueryableByName, serde::Serialize)]
pub struct MailRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    #[serde(skip)]
    pub alert_key: String,
    /// Set on a mail `alerts resend` queued: the ledger key of its alert.
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    #[serde(skip)]
    pub origin_key: Option<String>,
    #[diesel(sql_type = Text)]
    pub state: MailState,
    #[diesel(sql_type = BigInt)]
    pub attempts: i64,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    pub recipient_email: String,
    /// UTC, as every time of sigov's own tables.
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    pub created_at: chrono::NaiveDateTime,
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    pub next_attempt_at: chrono::NaiveDateTime,
    #[diesel(sql_type = Nullable<diesel::sql_types::Timestamp>)]
    pub sent_at: Option<chrono::NaiveDateTime>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    pub message_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    pub last_error: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    pub last_response: Option<String>,
    /// The channel of a channel message; empty for mail.
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    #[serde(skip_serializing_if = "String::is_empty")]
    pub channel: String,
}

impl MailRow {
    /// Whether `alerts resend` queued it.
    pub fn resent(&self) -> bool {
        self.origin_key.is_some()
    }

    /// The ledger key of the alert this mail is of.
    pub fn of_key(&self) -> &str {
        self.origin_key.as_deref().unwrap_or(&self.alert_key)
    }
}

/// Where an alert's mail stands, for `alerts list`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum MailStatus {
    /// Waiting in the outbox (pending, being sent, or failed and due again).
    Queued {
        outbox_id: i64,
        attempts: i64,
        retrying: bool,
    },
    Sent {
        outbox_id: i64,
        at: String,
    },
    Dead {
        outbox_id: i64,
        attempts: i64,
    },
    /// Handed over twice without a final answer: it may have arrived; set aside.
    Unconfirmed {
        outbox_id: i64,
        attempts: i64,
    },
    /// No mail: why (no address, invalid address, inactive, recipient deleted, or the outbox
    /// row was purged after delivery).
    None {
        why: String,
    },
    /// The row is not sigov's: its mail (if any) was Django's or the application's business.
    NotFromSigov,
}

impl MailStatus {
    /// A short text for a table cell.
    pub fn cell(&self) -> String {
        match self {
            MailStatus::Queued {
                attempts, retrying, ..
            } if *retrying => format!("failed, retrying ({attempts} attempts)"),
            MailStatus::Queued { .. } => "queued".into(),
            MailStatus::Sent { at, .. } => format!("sent {}", crate::clock::to_seconds(at)),
            MailStatus::Dead { attempts, .. } => format!("dead ({attempts} attempts)"),
            MailStatus::Unconfirmed { attempts, .. } => {
                format!("unconfirmed ({attempts} attempts; the relay may have it)")
            }
            MailStatus::None { why } => format!("none: {why}"),
            MailStatus::NotFromSigov => "not from sigov".into(),
        }
    }
}

/// The status of an alert's mail from its newest outbox row.
pub fn mail_status(a: &AlertRow, mails: &[MailRow]) -> MailStatus {
    if !a.from_sigov() && mails.is_empty() {
        return MailStatus::NotFromSigov;
    }
    match mails.iter().max_by_key(|m| m.id) {
        Some(m) => match m.state {
            MailState::Sent => MailStatus::Sent {
                outbox_id: m.id,
                at: m
                    .sent_at
                    .map(crate::clock::format_datetime)
                    .unwrap_or_default(),
            },
            MailState::Dead => MailStatus::Dead {
                outbox_id: m.id,
                attempts: m.attempts,
            },
            MailState::Unconfirmed => MailStatus::Unconfirmed {
                outbox_id: m.id,
                attempts: m.attempts,
            },
            MailState::Pending | MailState::Sending | MailState::Failed => MailStatus::Queued {
                outbox_id: m.id,
                attempts: m.attempts,
                retrying: m.state == MailState::Failed,
            },
        },
        None => MailStatus::None {
            why: a
                .no_mail_reason()
                .unwrap_or("no outbox row (purged after delivery, or never queued)")
                .to_owned(),
        },
    }
}

/// Every outbox row of the alerts with these ledger keys (their own mail and any resent), by
/// key, oldest first. One statement per [`crate::db::STATEMENT_ROWS`] keys.
pub fn mails_of(db: &mut Db, keys: &[&str]) -> Result<HashMap<String, Vec<MailRow>>> {
    let mut by_key: HashMap<String, Vec<MailRow>> = HashMap::new();
    for chunk in keys.chunks(crate::db::STATEMENT_ROWS.max(1)) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let sql = format!(
            "SELECT id, alert_key, origin_key, state, {att} AS attempts, recipient_email, \
             created_at, next_attempt_at, sent_at, message_id, \
             last_error, last_response, channel FROM sigov_outbox \
             WHERE alert_key IN ({marks}) OR origin_key IN ({marks}) ORDER BY id",
            att = db.int("attempts"),
        );
        let mut vals: Vec<Val> = chunk.iter().map(|k| Val::from(*k)).collect();
        vals.extend(chunk.iter().map(|k| Val::from(*k)));
        let rows: Vec<MailRow> = db.load(&sql, &vals).context("cannot read the outbox")?;
        for m in rows {
            by_key.entry(m.of_key().to_owned()).or_default().push(m);
        }
    }
    Ok(by_key)
}

/// The mails of each row of `rows` (empty for rows sigov did not write).
pub fn with_mails(db: &mut Db, rows: &[AlertRow]) -> Result<Vec<Vec<MailRow>>> {
    let keys: Vec<String> = rows.iter().map(AlertRow::mail_key).collect();
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let mut by_key = mails_of(db, &refs)?;
    Ok(keys
        .iter()
        .map(|k| by_key.remove(k).unwrap_or_default())
        .collect())
}

/// The channel messages of each row of `rows` (one outbox row per alert and channel, whoever
/// the alert went to), found by their keys ([`crate::channels::item::item_key`]) for every
/// channel the outbox holds rows of, configured or not. Empty for rows sigov did not write and
/// for escalations (a channel has an alert when it is raised). One statement per
/// [`crate::db::STATEMENT_ROWS`] keys, after one for the channels' names.
pub fn channel_messages(db: &mut Db, rows: &[AlertRow]) -> Result<Vec<Vec<MailRow>>> {
    let mut out = vec![Vec::new(); rows.len()];
    if rows.iter().all(|a| a.alert_key.is_none()) {
        return Ok(out);
    }
    let names = crate::mail::outbox::channel_names(db)?;
    // (channel key, row index) of every alert and channel.
    let mut wanted: Vec<(String, usize)> = Vec::new();
    for (i, a) in rows.iter().enumerate() {
        if let Some(k) = &a.alert_key {
            for n in &names {
                wanted.push((crate::channels::item::item_key(n, k, &a.recipient_id), i));
            }
        }
    }
    for chunk in wanted.chunks(crate::db::STATEMENT_ROWS.max(1)) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let sql = format!(
            "SELECT id, alert_key, origin_key, state, {att} AS attempts, recipient_email, \
             created_at, next_attempt_at, sent_at, message_id, \
             last_error, last_response, channel FROM sigov_outbox \
             WHERE alert_key IN ({marks}) ORDER BY id",
            att = db.int("attempts"),
        );
        let vals: Vec<Val> = chunk.iter().map(|(k, _)| Val::from(k.as_str())).collect();
        let found: Vec<MailRow> = db.load(&sql, &vals).context("cannot read the outbox")?;
        for m in found {
            for (k, i) in chunk {
                if *k == m.alert_key {
                    out[*i].push(m.clone());
                }
            }
        }
    }
    Ok(out)
}

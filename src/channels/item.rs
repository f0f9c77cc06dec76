//! What a channel is sent: routing, the item an outbox row of a channel holds (one per alert
//! and channel, whatever the number of its recipients), and its queueing in the transaction that
//! records the alert.

use crate::db::schema::sigov_outbox::dsl as o;
use crate::db::Db;
use crate::rules::NewAlert;
use crate::states::{MailKind, MailState, Niveau};
use anyhow::{Context, Result};
use diesel::ExpressionMethods;
use std::collections::BTreeMap;

use super::settings::{Channel, Group};

/// What the write of a check's alerts needs to queue their channel messages.
#[derive(Debug, Clone, Copy)]
pub struct Routing<'a> {
    pub channels: &'a [Channel],
    /// `mail.base_url`: the links to projects.
    pub base_url: &'a str,
}

impl Routing<'_> {
    /// No channel: nothing to queue.
    pub const NONE: Routing<'static> = Routing {
        channels: &[],
        base_url: "",
    };
}

impl Channel {
    /// Whether this channel receives an alert of `check`, `level`, about project `project`.
    pub fn takes(&self, check: &str, level: Option<Niveau>, project: &str) -> bool {
        (self.checks.is_empty() || self.checks.iter().any(|c| c.as_str() == check))
            && (self.levels.is_empty() || level.is_some_and(|l| self.levels.contains(&l)))
            && (self.projects.is_empty() || {
                let p = crate::rules::wording::unhyphenate(project);
                self.projects
                    .iter()
                    .any(|x| crate::rules::wording::unhyphenate(x) == p)
            })
    }
}

/// The project an item is about.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub client: String,
    pub status: String,
}

/// The stage a stage notification is about.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Stage {
    pub id: String,
    pub order: Option<i64>,
}

/// A person the alert was recorded for.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Recipient {
    pub id: String,
    pub name: String,
}

/// One alert as a channel shows it: the payload of its outbox row, and an element of the
/// webhook document's `alerts` (version 1).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Item {
    pub check: String,
    #[serde(rename = "type")]
    pub alert_type: String,
    /// INFO, WARNING or DANGER; none for a stage notification.
    pub level: Option<String>,
    pub title: String,
    pub message: String,
    pub project: Project,
    pub stage: Option<Stage>,
    pub recipients: Vec<Recipient>,
    /// The business day of the run that raised it.
    pub business_date: String,
    /// The project's page in the web application.
    pub link: String,
    /// The rows the web application shows (`core_alerteprojet` or `core_notificationetape`).
    pub table: String,
    pub alert_ids: Vec<i64>,
}

/// The key of an alert for a channel: its ledger key without the recipient (`check:type:
/// entity:recipient[:day or milestone]`), so the alert of a team is one item, whoever it went
/// to; bounded to the outbox's key column. The read side (`alerts show`) finds an alert's
/// channel messages by it.
pub fn item_key(channel: &str, ledger_key: &str, recipient_id: &str) -> String {
    let mut parts: Vec<&str> = ledger_key.split(':').collect();
    let recipient = crate::rules::wording::unhyphenate(recipient_id);
    if parts.len() >= 4 && crate::rules::wording::unhyphenate(parts[3]) == recipient {
        parts.remove(3);
    }
    let key = format!("#{channel}:{}", parts.join(":"));
    if key.len() <= 191 {
        return key;
    }
    use sha2::Digest;
    let h = sha2::Sha256::digest(key.as_bytes());
    let hex: String = h.iter().map(|b| format!("{b:02x}")).collect();
    format!("#{channel}:h:{hex}")
}

/// Queues, for each channel that takes them, the alerts of a written batch (`ids` their rows),
/// in the caller's transaction: one outbox row per alert and channel (the recipients of one
/// alert are one item; an item queued before, by another batch or run, is left as it is).
/// Escalations are not posted again: the channel had the alert when it was raised. Returns the
/// rows queued.
#[allow(clippy::too_many_arguments)]
pub fn queue(
    db: &mut Db,
    routing: &Routing<'_>,
    business_date: chrono::NaiveDate,
    run_id: Option<i64>,
    stamped: chrono::NaiveDateTime,
    due_from: chrono::NaiveDateTime,
    batch: &[NewAlert],
    ids: &[i64],
) -> Result<u64> {
    if routing.channels.is_empty() {
        return Ok(0);
    }
    // Per channel, the items in batch order, merged by key.
    let mut items: BTreeMap<String, (usize, &Channel, Item)> = BTreeMap::new();
    let mut order = 0usize;
    for (a, id) in batch.iter().zip(ids) {
        if a.ledger_type == Some(crate::rules::alert::ESCALATION) {
            continue;
        }
        for ch in routing.channels {
            if !ch.takes(a.check, a.niveau, &a.projet.id) {
                continue;
            }
            let key = item_key(&ch.name, &a.key, &a.recipient_id);
            // A person without a first or last name is shown by their username.
            let who = Recipient {
                id: a.recipient_id.clone(),
                name: if a.recipient_name.trim().is_empty() {
                    a.recipient_username.clone()
                } else {
                    a.recipient_name.clone()
                },
            };
            match items.get_mut(&key) {
                Some((_, _, item)) => {
                    if !item.recipients.contains(&who) {
                        item.recipients.push(who);
                    }
                    item.alert_ids.push(*id);
                    // The message without a person's role, when another recipient's has none.
                    if a.message.len() < item.message.len() {
                        item.message = a.message.clone();
                    }
                }
                None => {
                    order += 1;
                    items.insert(
                        key,
                        (
                            order,
                            ch,
                            Item {
                                check: a.check.to_owned(),
                                alert_type: a.alert_type.clone(),
                                level: a.niveau.map(|n| n.as_str().to_owned()),
                                title: a.titre.clone(),
                                message: a.message.clone(),
                                project: Project {
                                    id: crate::rules::wording::hyphenate(&a.projet.id),
                                    name: a.projet.nom.clone(),
                                    client: a.projet.client.clone(),
                                    status: a.projet.statut.clone(),
                                },
                                stage: a.etape_id.as_ref().map(|s| Stage {
                                    id: crate::rules::wording::hyphenate(s),
                                    order: a.etape_ordre,
                                }),
                                recipients: vec![who],
                                business_date: business_date.to_string(),
                                link: format!(
                                    "{}/projets/{}/",
                                    routing.base_url,
                                    crate::rules::wording::hyphenate(&a.projet.id)
                                ),
                                table: a.target.table().to_owned(),
                                alert_ids: vec![*id],
                            },
                        ),
                    );
                }
            }
        }
    }
    if items.is_empty() {
        return Ok(0);
    }
    let mut rows: Vec<(usize, String, &Channel, String)> = Vec::with_capacity(items.len());
    for (key, (n, ch, item)) in items {
        let payload = serde_json::to_string(&item).context("cannot write a channel item")?;
        rows.push((n, key, ch, payload));
    }
    rows.sort_unstable_by_key(|r| r.0);
    let batches: Vec<Option<String>> = rows
        .iter()
        .map(|(_, _, ch, _)| match ch.group {
            Group::Alert => None,
            Group::Run => Some(match run_id {
                Some(r) => format!("#{}:run:{r}", ch.name),
                None => format!("#{}:at:{}", ch.name, stamped.and_utc().timestamp_micros()),
            }),
        })
        .collect();
    let shown: Vec<String> = rows
        .iter()
        .map(|(_, _, ch, _)| format!("#{}", ch.name))
        .collect();
    let values: Vec<_> = rows
        .iter()
        .zip(&batches)
        .zip(&shown)
        .map(|(((_, key, ch, payload), batch), shown)| {
            (
                o::alert_key.eq(key.as_str()),
                o::recipient_id.eq(""),
                o::recipient_email.eq(shown.as_str()),
                o::kind.eq(MailKind::Channel.as_str()),
                o::payload.eq(payload.as_str()),
                o::state.eq(MailState::Pending.as_str()),
                o::attempts.eq(0),
                o::next_attempt_at.eq(due_from),
                o::created_at.eq(stamped),
                o::updated_at.eq(stamped),
                o::run_id.eq(run_id),
                o::batch_key.eq(batch.as_deref()),
                o::channel.eq(ch.name.as_str()),
            )
        })
        .collect();
    let mut queued = 0u64;
    for chunk in values.chunks(crate::db::STATEMENT_ROWS) {
        let n = crate::db::dsl_insert_ignore!(db, o::sigov_outbox, chunk)
            .context("cannot queue channel messages")?;
        queued += n as u64;
    }
    Ok(queued)
}

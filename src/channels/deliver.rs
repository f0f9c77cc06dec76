//! A channel's delivery: claim its due rows (its lane of the outbox), make messages of them
//! (a run's rows one message, or one a row, each under the service's size limit), post each
//! and record its outcome right after, so a crash repeats at most the one message in flight,
//! which the receiver can recognise by its key.

use super::http::{Failure, Poster};
use super::item::Item;
use super::payload::{self, Context};
use super::settings::Channel;
use crate::clock::Clock;
use crate::db::Db;
use crate::delivery::{SendError, Tried};
use crate::mail::outbox::{self, Row};
use crate::mail::FlushStats;
use crate::states::MailState;
use anyhow::Result;
use std::time::Duration;

/// Rows claimed at a time.
const CLAIM: u64 = 200;
/// A `Retry-After` up to this long is waited out within the delivery; a longer one ends the
/// channel's delivery (its rows are due again when the service said).
const WAIT_AT_MOST: Duration = Duration::from_secs(30);

/// One message: its rows and what they show.
struct Unit {
    ids: Vec<i64>,
    items: Vec<Item>,
    first_key: String,
    tried: Tried,
}

/// The key of one delivery (the same rows, the same key, on every try): HMAC-free SHA-256 of
/// the channel, the first row's alert key (so two databases never share one) and the ids.
pub fn delivery_key(channel: &str, first_key: &str, ids: &[i64]) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(channel.as_bytes());
    h.update(b"\0");
    h.update(first_key.as_bytes());
    for id in ids {
        h.update(b"\0");
        h.update(id.to_string().as_bytes());
    }
    let d = h.finalize();
    let hex: String = d.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("sigov-{hex}")
}

/// Rows of one batch (or one row without a batch), with their items.
type Batch = (Option<String>, Vec<(Row, Item)>);

/// The messages claimed rows make, in id order: consecutive rows of one batch (a run's) go
/// together, split under the service's limits; rows without a batch go one by one. A row whose
/// payload cannot be read is returned apart.
fn units(ch: &Channel, rows: Vec<Row>, ctx: &Context<'_>) -> (Vec<Unit>, Vec<(i64, String)>) {
    let mut groups: Vec<Batch> = Vec::new();
    let mut bad = Vec::new();
    let mut rows = rows;
    rows.sort_unstable_by_key(|r| r.id);
    for r in rows {
        let item: Item = match serde_json::from_str(&r.payload) {
            Ok(i) => i,
            Err(e) => {
                bad.push((r.id, format!("unreadable channel item: {e}")));
                continue;
            }
        };
        match groups
            .iter_mut()
            .find(|(b, _)| b.is_some() && *b == r.batch_key)
        {
            Some((_, l)) => l.push((r, item)),
            None => groups.push((r.batch_key.clone(), vec![(r, item)])),
        }
    }
    let mut out = Vec::new();
    for (_, list) in groups {
        let refs: Vec<&Item> = list.iter().map(|(_, i)| i).collect();
        let parts = payload::split(ch.kind, &refs, ctx);
        let mut at = 0;
        for part in parts {
            let rows = &list[at..at + part.len()];
            at += part.len();
            out.push(Unit {
                ids: rows.iter().map(|(r, _)| r.id).collect(),
                items: rows.iter().map(|(_, i)| i.clone()).collect(),
                first_key: rows[0].0.alert_key.clone(),
                tried: Tried {
                    attempts: rows.iter().map(|(r, _)| r.attempts).max().unwrap_or(0),
                    unconfirmed: rows.iter().map(|(r, _)| r.unconfirmed).max().unwrap_or(0),
                },
            });
        }
    }
    (out, bad)
}

/// Delivers `ch`'s due messages until none is left, `limit` messages were posted, or the
/// service cannot be reached (or asked to wait long).
pub fn flush(
    db: &mut Db,
    ch: &Channel,
    mail: &crate::mail::Settings,
    clock: &Clock,
    limit: Option<u64>,
    keep_alive: &mut dyn FnMut(&mut Db) -> Result<()>,
) -> Result<FlushStats> {
    let mut stats = FlushStats {
        transport: format!("{} {} ({})", ch.kind.as_str(), ch.name, ch.shown_url()),
        ..FlushStats::default()
    };
    let mut poster = Poster::new(ch)?;
    let token = crate::host::Ident::current().encode();
    let mut marks = outbox::SentMarks::new(mail.sent_group);
    let mut result = deliver(
        db,
        ch,
        mail,
        clock,
        limit,
        keep_alive,
        &mut poster,
        &token,
        &mut stats,
        &mut marks,
    );
    stats.connections = poster.connections;
    // What was posted is recorded before anything is given back.
    if let Err(e) = marks.write(db, &token) {
        log::error!("{e:#}");
        result = result.and(Err(e));
    }
    let now = clock.current();
    match outbox::release(db, &token, now, None) {
        Ok(n) if n > 0 && result.is_ok() => log::debug!("{n} claimed message(s) given back"),
        Ok(_) => {}
        Err(e) => log::warn!("cannot give claimed channel messages back to the outbox: {e:#}"),
    }
    result?;
    if stats.error.is_some() {
        let lease = now - chrono::Duration::seconds(i64::from(mail.sending_lease_secs));
        stats.deferred = outbox::count_due(db, ch.lane(), now, lease)?;
    }
    Ok(stats)
}

#[allow(clippy::too_many_arguments)]
fn deliver(
    db: &mut Db,
    ch: &Channel,
    mail: &crate::mail::Settings,
    clock: &Clock,
    limit: Option<u64>,
    keep_alive: &mut dyn FnMut(&mut Db) -> Result<()>,
    poster: &mut Poster,
    token: &str,
    stats: &mut FlushStats,
    marks: &mut outbox::SentMarks,
) -> Result<()> {
    let renew_every = Duration::from_secs(u64::from(mail.sending_lease_secs) / 3);
    let mut renewed = std::time::Instant::now();
    let mut unanswered_in_a_row = 0u32;
    loop {
        let now = clock.current();
        let lease = now - chrono::Duration::seconds(i64::from(mail.sending_lease_secs));
        let rows = outbox::claim(db, ch.lane(), token, now, lease, CLAIM, false, false)?;
        if rows.is_empty() {
            return Ok(());
        }
        let (units, bad) = {
            let ctx = Context {
                site: &mail.site_name,
                channel: &ch.name,
                delivery: "",
            };
            units(ch, rows, &ctx)
        };
        for (id, why) in bad {
            let tried = outbox::Tried {
                at: clock.current(),
                retry_at: clock.current(),
                message_id: None,
                error: &why,
            };
            let next = crate::delivery::Next {
                state: MailState::Dead,
                unconfirmed: false,
            };
            outbox::mark_failed(db, token, &[id], &tried, next)?;
            log::warn!("channel {}: row {id}: {why}", ch.name);
            stats.dead += 1;
        }
        for unit in units {
            if limit.is_some_and(|l| stats.messages >= l) {
                return Ok(());
            }
            if renewed.elapsed() >= renew_every {
                outbox::renew(db, token, clock.current())?;
                renewed = std::time::Instant::now();
            }
            if let Err(e) = keep_alive(db) {
                log::warn!("{e:#}");
            }
            let key = delivery_key(&ch.name, &unit.first_key, &unit.ids);
            let ctx = Context {
                site: &mail.site_name,
                channel: &ch.name,
                delivery: &key,
            };
            let refs: Vec<&Item> = unit.items.iter().collect();
            let body = payload::body(ch.kind, &refs, &ctx);
            let outcome = poster.post(&body, &key);
            let n = unit.ids.len() as u64;
            stats.messages += 1;
            let done = clock.current();
            let Failure { error, retry_after } = match outcome {
                Ok(resp) => {
                    unanswered_in_a_row = 0;
                    marks.add(db, token, &unit.ids, done, &key, &resp)?;
                    stats.sent += n;
                    continue;
                }
                Err(f) => f,
            };
            if let SendError::Connection(e) = &error {
                stats.messages -= 1;
                let msg = format!("channel {}: cannot reach {}: {e}", ch.name, ch.shown_url());
                log::error!("{msg}");
                marks.write(db, token)?;
                outbox::release(db, token, done, Some(&msg))?;
                stats.error = Some(msg);
                return Ok(());
            }
            let next = crate::delivery::after_failure(&error, unit.tried, mail.max_attempts);
            let e = error.to_string();
            // Due again when the service said, or after the backoff.
            let retry = match retry_after {
                Some(d) => done + chrono::Duration::milliseconds(d.as_millis() as i64),
                None => {
                    done + chrono::Duration::seconds(crate::mail::backoff_secs(
                        mail.retry_base_secs,
                        unit.tried.attempts + 1,
                    ))
                }
            };
            let tried = outbox::Tried {
                at: done,
                retry_at: retry,
                message_id: Some(&key),
                error: &e,
            };
            outbox::mark_failed(db, token, &unit.ids, &tried, next)?;
            match next.state {
                MailState::Dead => stats.dead += n,
                MailState::Unconfirmed => stats.unconfirmed += n,
                _ => stats.failed += n,
            }
            match &error {
                SendError::Ambiguous(_) => {
                    log::warn!("channel {}: message {key} unconfirmed: {e}", ch.name);
                    unanswered_in_a_row += 1;
                    if unanswered_in_a_row >= crate::delivery::UNCONFIRMED_RECIPIENTS_IN_A_ROW {
                        let msg = format!(
                            "channel {}: delivery stopped: the last {unanswered_in_a_row} messages got no answer ({e})",
                            ch.name
                        );
                        log::error!("{msg}");
                        stats.error = Some(msg);
                        return Ok(());
                    }
                }
                SendError::Permanent(_) => {
                    unanswered_in_a_row = 0;
                    log::warn!("channel {}: message {key} refused for good: {e}", ch.name);
                }
                _ => {
                    unanswered_in_a_row = 0;
                    log::warn!("channel {}: message {key} deferred: {e}", ch.name);
                    if let Some(d) = retry_after {
                        if d > WAIT_AT_MOST {
                            let msg = format!(
                                "channel {}: the service asks to wait {} s; its messages wait for a later delivery",
                                ch.name,
                                d.as_secs()
                            );
                            log::warn!("{msg}");
                            stats.error = Some(msg);
                            return Ok(());
                        }
                        // A short wait: honoured here (what was posted recorded first), and
                        // the claim loop takes the row again.
                        marks.write(db, token)?;
                        std::thread::sleep(d);
                    }
                }
            }
        }
    }
}

/// Posts a test message to `ch` now (`sigov channels test`): the service's answer, or why not.
pub fn test(ch: &Channel, mail: &crate::mail::Settings, clock: &Clock) -> Result<String, String> {
    let site = mail.site_name.as_str();
    let mut poster = Poster::new(ch).map_err(|e| format!("{e:#}"))?;
    let now = clock.current();
    let key = delivery_key(&ch.name, "test", &[now.and_utc().timestamp_micros()]);
    let item = Item {
        check: "test".to_owned(),
        alert_type: "TEST".to_owned(),
        level: Some("INFO".to_owned()),
        title: format!("Message de test du canal {}", ch.name),
        message: format!("Ce canal recevra les alertes de {site} ({}).", ch.routing()),
        project: super::item::Project {
            id: String::new(),
            name: "sigov".to_owned(),
            client: String::new(),
            status: String::new(),
        },
        stage: None,
        recipients: Vec::new(),
        business_date: clock.today.to_string(),
        link: format!("{}/", mail.base_url),
        table: String::new(),
        alert_ids: Vec::new(),
    };
    let ctx = Context {
        site,
        channel: &ch.name,
        delivery: &key,
    };
    let body = payload::body(ch.kind, &[&item], &ctx);
    poster.post(&body, &key).map_err(|f| match f.error {
        SendError::Connection(m) => format!("cannot reach {}: {m}", ch.shown_url()),
        other => other.to_string(),
    })
}

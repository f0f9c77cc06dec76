//! Channels: alerts posted where teams read them (a signed webhook, Slack, Microsoft Teams,
//! Matrix), through the same outbox as mail, so the same promise holds: an alert is queued for
//! a channel in the transaction that records it, and delivered once (at most twice when an
//! answer is lost; once to a receiver that honours `Idempotency-Key` or a Matrix transaction id).
//!
//! - `settings`: `[channels.NAME]` read and checked;
//! - `item`: routing, and the item an outbox row of a channel holds (one per alert and channel,
//!   whatever the number of its recipients), queued with the alert;
//! - here: the delivery of everything due, channels then mail;
//! - `payload`: the body each kind of service takes, split under its size limit;
//! - `http`: one kept-alive agent per channel, outcomes sorted for the delivery policy;
//! - `deliver`: claims a channel's due rows and posts them.

pub mod deliver;
pub mod http;
pub mod item;
pub mod payload;
pub mod settings;

pub use item::{queue, Item, Project, Recipient, Routing, Stage};
pub use settings::{Channel, Group, Kind};

use crate::db::Db;
use anyhow::Result;

/// Delivers everything due: each channel's messages, then mail (`sigov mail flush`, and a
/// check's own delivery). Without channels this is the mail's delivery alone. Quiet hours
/// (`mail.send_window`) hold channel messages as they hold mail. A channel that cannot be
/// reached is reported in its own entry (`channels`) and never stops the others or mail.
pub fn flush_all(
    db: &mut Db,
    mail: &crate::mail::Settings,
    channels: &[Channel],
    clock: &crate::clock::Clock,
    limit: Option<u64>,
    keep_alive: &mut dyn FnMut(&mut Db) -> Result<()>,
) -> Result<crate::mail::FlushStats> {
    use crate::mail::{outbox, FlushStats};
    if channels.is_empty() {
        return crate::mail::flush(db, mail, clock, limit, keep_alive);
    }
    let now = clock.current();
    let lease = now - chrono::Duration::seconds(i64::from(mail.sending_lease_secs));
    let freed = outbox::release_dead_senders(db, now)?;
    if freed > 0 {
        log::warn!("{freed} message(s) claimed by a killed sender on this host are due again");
    }
    let held_until = mail
        .window
        .as_ref()
        .and_then(|w| w.held_until_text(now).map(|u| (u, w.window.spec.clone())));
    let mut per_channel = Vec::with_capacity(channels.len());
    for ch in channels {
        let described = format!("{} {} ({})", ch.kind.as_str(), ch.name, ch.shown_url());
        if let Some((until, spec)) = &held_until {
            let held = outbox::count_due(db, ch.lane(), now, lease)?;
            if held > 0 {
                log::info!(
                    "channel {}: {held} due message(s) wait for the send window `{spec}` (opens {until} UTC)",
                    ch.name
                );
            }
            per_channel.push(FlushStats {
                transport: described,
                held,
                held_until: Some(until.clone()),
                ..FlushStats::default()
            });
            continue;
        }
        let stats = deliver::flush(db, ch, mail, clock, limit, keep_alive).unwrap_or_else(|e| {
            let msg = crate::strings::one_line(&format!("{e:#}"));
            log::error!("channel {}: delivery failed: {msg}", ch.name);
            if let Err(again) = db.reconnect_if_lost() {
                log::debug!("cannot reconnect: {again:#}");
            }
            FlushStats {
                transport: described,
                error: Some(msg),
                ..FlushStats::default()
            }
        });
        per_channel.push(stats);
    }
    let mut stats = if mail.transport.is_empty() {
        let due = outbox::count_due(db, outbox::MAIL_LANE, now, lease)?;
        if due > 0 {
            log::warn!(
                "mail.transport is not set (SIGOV_MAIL_TRANSPORT): {due} due mail(s) wait in the outbox"
            );
        }
        FlushStats {
            transport: "none".to_owned(),
            ..FlushStats::default()
        }
    } else {
        crate::mail::flush(db, mail, clock, limit, keep_alive)?
    };
    stats.channels = per_channel;
    Ok(stats)
}

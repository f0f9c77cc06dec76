//! Mail delivery from the outbox: claim due rows, render them (one mail per alert, or one digest
//! per recipient), hand them to the transport over one connection, and record each outcome
//! right after it happens, so a crash resends at most the one message in flight.

pub mod mailbox;
pub mod outbox;
mod qp;
pub mod render;
pub mod samples;
pub mod settings;
pub mod token;
pub mod transport;

use crate::clock::Clock;
use crate::db::Db;
use anyhow::{anyhow, bail, Context, Result};
use chrono::NaiveDateTime;
use lettre::address::Envelope;
use lettre::message::header::ContentType;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message};
use render::{Payload, Rendered, Renderer};
use transport::{SendError, Sender};

pub use settings::{Labels, Settings};
/// The mail settings, as the rest of this module names them.
use Settings as MailCfg;

/// Rows (or, in digest mode, recipients) claimed at a time.
const CLAIM: u64 = 100;
/// Longest wait between two attempts.
const MAX_BACKOFF_SECS: i64 = 6 * 3600;

/// What one delivery did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct FlushStats {
    pub transport: String,
    /// Messages handed to the transport (a digest is one).
    pub messages: u64,
    /// Outbox rows sent, failed (retried later), dead, and given back untried because the relay
    /// could not be reached.
    pub sent: u64,
    pub failed: u64,
    pub dead: u64,
    /// Rows set aside this time because the transport took their message twice without
    /// confirming it (`unconfirmed`; requeued only by `sigov mail retry --unconfirmed`).
    pub unconfirmed: u64,
    /// Rows of recipients whose message went unconfirmed in this delivery, left untried for
    /// the next one (the per-recipient breaker of [`crate::delivery::Breaker`]).
    pub held_back: u64,
    pub deferred: u64,
    /// Due mail left queued because the send window is closed (quiet hours), and when it opens
    /// (UTC): not a failure, no attempt counted.
    pub held: u64,
    pub held_until: Option<String>,
    pub connections: u32,
    /// Why the delivery stopped early (relay unreachable, TLS, authentication).
    pub error: Option<String>,
    /// Each channel's delivery (`[channels.NAME]`), by the same measures.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<FlushStats>,
}

impl FlushStats {
    /// Some mail (or channel message) was not delivered this time.
    pub fn incomplete(&self) -> bool {
        self.failed + self.dead + self.unconfirmed + self.held_back + self.deferred > 0
            || self.error.is_some()
            || self.channels.iter().any(FlushStats::incomplete)
    }
}

/// Delay before attempt `attempts + 1` after `attempts` failures: base, doubling, capped.
pub fn backoff_secs(base: u32, attempts: i64) -> i64 {
    let exp = attempts.clamp(1, 20) - 1;
    (i64::from(base).saturating_mul(1_i64 << exp)).min(MAX_BACKOFF_SECS)
}

/// The sender's mailbox and the domain of Message-IDs.
pub fn sender_mailbox(cfg: &MailCfg) -> Result<Mailbox> {
    cfg.from
        .parse::<Mailbox>()
        .map_err(|e| anyhow!("mail.from `{}` is not a valid address: {e}", cfg.from))
}

/// A stable, RFC 5322 Message-ID for one outbox row (or a digest of rows).
pub fn message_id(from: &Mailbox, ids: &[i64], key: &str) -> String {
    // FNV-1a: a short, stable tag of the alert key, so the id differs across databases too.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let first = ids.first().copied().unwrap_or(0);
    let part = if ids.len() > 1 {
        format!("digest.{first}-{}", ids.len())
    } else {
        first.to_string()
    };
    format!("<sigov.{part}.{h:016x}@{}>", from.email.domain())
}

/// Display names come from user data: no control character reaches a header.
fn clean_name(s: &str) -> String {
    render::one_line_subject(s)
}

/// The `List-Id` of sigov's mail: `<alerts.DOMAIN>`, DOMAIN the sender's.
pub fn list_id(from: &Mailbox) -> String {
    format!("<alerts.{}>", from.email.domain().to_ascii_lowercase())
}

/// Builds the MIME message: multipart/alternative (text, then HTML), stable Message-ID, Date,
/// and the headers that keep auto-responders quiet.
pub fn build_message(
    from: &Mailbox,
    to_name: &str,
    to_email: &str,
    r: &Rendered,
    message_id: &str,
    date: NaiveDateTime,
    extra: &[(&'static str, String)],
) -> Result<(Envelope, Vec<u8>), String> {
    let addr: Address = to_email
        .trim()
        .parse()
        .map_err(|e| format!("invalid recipient address `{to_email}`: {e}"))?;
    let name = clean_name(to_name);
    let to = Mailbox::new((!name.is_empty()).then_some(name), addr);
    let mut builder = Message::builder();
    for (name, value) in extra {
        // Values are sigov's own (addresses it built, a configured contact): one line each.
        builder = builder.raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str(name),
            render::one_line_subject(value),
        ));
    }
    let msg = builder
        .from(from.clone())
        .to(to)
        .subject(render::one_line_subject(&r.subject))
        .message_id(Some(message_id.to_owned()))
        .date(std::time::SystemTime::from(date.and_utc()))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".to_owned(),
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Auto-Response-Suppress"),
            "All".to_owned(),
        ))
        // What people filter on (RFC 2919): the sender's domain, which lettre validated.
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Id"),
            list_id(from),
        ))
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(qp::body(&r.text)),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(qp::body(&r.html)),
                ),
        )
        .map_err(|e| format!("cannot build the message: {e}"))?;
    Ok((msg.envelope().clone(), msg.formatted()))
}

/// The answer to a reply (`sigov mail receive`): plain text, `Auto-Submitted: auto-replied`
/// (RFC 3834), threaded under the reply it answers. Returns the envelope, the bytes and its
/// Message-ID.
pub fn build_answer(
    from: &Mailbox,
    to_email: &str,
    subject: &str,
    text: &str,
    in_reply_to: &str,
    date: NaiveDateTime,
) -> Result<(Envelope, Vec<u8>, String), String> {
    let addr: Address = to_email
        .trim()
        .parse()
        .map_err(|e| format!("invalid address `{to_email}`: {e}"))?;
    let mid = message_id(from, &[0], in_reply_to).replace("<sigov.0.", "<sigov.answer.");
    let mut b = Message::builder()
        .from(from.clone())
        .to(Mailbox::new(None, addr))
        .subject(render::one_line_subject(subject))
        .message_id(Some(mid.clone()))
        .date(std::time::SystemTime::from(date.and_utc()))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-replied".to_owned(),
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Auto-Response-Suppress"),
            "All".to_owned(),
        ));
    if in_reply_to.starts_with('<') && in_reply_to.ends_with('>') {
        b = b
            .in_reply_to(render::one_line_subject(in_reply_to))
            .references(render::one_line_subject(in_reply_to));
    }
    let msg = b
        .singlepart(lettre::message::SinglePart::plain(text.to_owned()))
        .map_err(|e| format!("cannot build the answer: {e}"))?;
    Ok((msg.envelope().clone(), msg.formatted(), mid))
}

/// One message to send: the outbox rows it covers and their payloads.
struct Unit {
    ids: Vec<i64>,
    key: String,
    email: String,
    payloads: Vec<Result<Payload>>,
    /// What its rows went through before (the most of any of them).
    tried: crate::delivery::Tried,
    /// A daily digest's batch (`sigov prefs … --digest`): one message, its own layout.
    batch: Option<String>,
}

/// The messages claimed rows make (rows come by recipient, then id): a batch's rows one
/// message; in digest mode a recipient's other rows one message; else one a row.
fn units(rows: Vec<outbox::Row>, digest: bool) -> Vec<Unit> {
    let mut out: Vec<Unit> = Vec::new();
    // Where each open batch's unit is, among the current recipient's.
    let mut first_of_recipient = 0;
    for r in rows {
        let p = Payload::parse(&r.payload, r.snapshot.as_deref());
        if out
            .last()
            .is_some_and(|u: &Unit| u.email != r.recipient_email)
        {
            first_of_recipient = out.len();
        }
        let joins = out[first_of_recipient..].iter_mut().rev().find(|u| {
            u.email == r.recipient_email
                && match (&r.batch_key, &u.batch) {
                    (Some(b), Some(ub)) => b == ub,
                    (None, None) => digest,
                    _ => false,
                }
        });
        match joins {
            Some(u) => {
                u.ids.push(r.id);
                u.payloads.push(p);
                u.tried.attempts = u.tried.attempts.max(r.attempts);
                u.tried.unconfirmed = u.tried.unconfirmed.max(r.unconfirmed);
            }
            None => out.push(Unit {
                ids: vec![r.id],
                key: r.alert_key,
                email: r.recipient_email,
                payloads: vec![p],
                tried: crate::delivery::Tried {
                    attempts: r.attempts,
                    unconfirmed: r.unconfirmed,
                },
                batch: r.batch_key,
            }),
        }
    }
    out
}

/// Delivers due mail until none is left, `limit` messages were sent, or the relay cannot be
/// reached. Errors are for what no retry fixes (templates, configuration, database).
/// `keep_alive` runs between messages (a check's delivery renews its lock with it, so a long
/// delivery keeps it); what it reports is logged, never fatal: the claims protect every row.
pub fn flush(
    db: &mut Db,
    cfg: &MailCfg,
    clock: &Clock,
    limit: Option<u64>,
    keep_alive: &mut dyn FnMut(&mut Db) -> Result<()>,
) -> Result<FlushStats> {
    if cfg.transport.is_empty() {
        bail!("mail.transport is not set (SIGOV_MAIL_TRANSPORT): nowhere to deliver mail");
    }
    if let Some(w) = &cfg.window {
        let now = clock.current();
        if let Some(until) = w.held_until_text(now) {
            let lease = now - chrono::Duration::seconds(i64::from(cfg.sending_lease_secs));
            // Critical alerts' mail (mail.critical_bypass) goes even now, and only it.
            if cfg.critical_bypass && outbox::count_urgent_due(db, now)? > 0 {
                let sender = Sender::open(cfg)?;
                let mut stats = flush_with(db, cfg, clock, limit, keep_alive, sender, true)?;
                stats.held = outbox::count_due(db, outbox::MAIL_LANE, clock.current(), lease)?;
                stats.held_until = Some(until.clone());
                log::info!(
                    "mail: critical mail sent in quiet hours; {} due mail(s) wait for the send window `{}` (opens {until} UTC)",
                    stats.held,
                    w.window.spec
                );
                return Ok(stats);
            }
            // Quiet hours: nothing is claimed, tried or counted; the relay is not contacted.
            let held = outbox::count_due(db, outbox::MAIL_LANE, now, lease)?;
            log::info!(
                "mail: {held} due mail(s) wait for the send window `{}` (opens {until} UTC)",
                w.window.spec
            );
            return Ok(FlushStats {
                transport: transport::Spec::parse(&cfg.transport)?.describe(),
                held,
                held_until: Some(until),
                ..FlushStats::default()
            });
        }
    }
    let sender = Sender::open(cfg)?;
    flush_with(db, cfg, clock, limit, keep_alive, sender, false)
}

/// [`flush`] through an open transport.
fn flush_with(
    db: &mut Db,
    cfg: &MailCfg,
    clock: &Clock,
    limit: Option<u64>,
    keep_alive: &mut dyn FnMut(&mut Db) -> Result<()>,
    mut sender: Sender,
    urgent_only: bool,
) -> Result<FlushStats> {
    let mut composer = Composer::new(cfg)?;
    if !cfg.reply_address.is_empty() {
        let secret = crate::mail::token::secret(db)?;
        composer = composer.with_reply(&cfg.reply_address, secret);
    }
    let mut stats = FlushStats {
        transport: sender.spec.describe(),
        ..FlushStats::default()
    };
    // Who claims: this host, boot, pid namespace and pid (a killed sender's rows are given
    // back at once by the next delivery on this host), plus a nonce.
    let token = crate::host::Ident::current().encode();
    let freed = outbox::release_dead_senders(db, clock.current())?;
    if freed > 0 {
        log::warn!("{freed} mail(s) claimed by a killed sender on this host are due again");
    }
    let bar = crate::progress::counter("mail");
    bar.set_message("sent");
    let mut marks = outbox::SentMarks::new(cfg.sent_group);
    let mut result = deliver(
        db,
        cfg,
        clock,
        limit,
        keep_alive,
        &composer,
        &mut sender,
        &token,
        &mut stats,
        &bar,
        urgent_only,
        &mut marks,
    );
    bar.finish_and_clear();
    sender.close();
    stats.connections = sender.connections;
    // What was sent is recorded before anything is given back: whatever stopped the delivery.
    if let Err(e) = marks.write(db, &token) {
        log::error!("{e:#}");
        result = result.and(Err(e));
    }
    log::debug!("mail: sent marks recorded in {} commit(s)", marks.commits);
    // Never leave a claim behind: whatever stopped the delivery, rows still claimed under this
    // token go back to the queue at once (the database error, if any, is the one to report).
    let now = clock.current();
    match outbox::release(db, &token, now, None) {
        Ok(n) if n > 0 && result.is_ok() => log::debug!("{n} claimed mail(s) given back"),
        Ok(_) => {}
        Err(e) => log::warn!("cannot give claimed mail back to the outbox: {e:#}"),
    }
    result?;
    if stats.error.is_some() {
        // Everything due waits: the rows this delivery gave back and those it never claimed.
        let lease = now - chrono::Duration::seconds(i64::from(cfg.sending_lease_secs));
        stats.deferred = outbox::count_due(db, outbox::MAIL_LANE, now, lease)?;
    }
    Ok(stats)
}

/// The claim-and-send loop of [`flush`]; its caller releases what stays claimed.
#[allow(clippy::too_many_arguments)]
fn deliver(
    db: &mut Db,
    cfg: &MailCfg,
    clock: &Clock,
    limit: Option<u64>,
    keep_alive: &mut dyn FnMut(&mut Db) -> Result<()>,
    composer: &Composer,
    sender: &mut Sender,
    token: &str,
    stats: &mut FlushStats,
    bar: &indicatif::ProgressBar,
    urgent_only: bool,
    marks: &mut outbox::SentMarks,
) -> Result<()> {
    let mut breaker = crate::delivery::Breaker::default();
    // Claims are renewed at a third of their lease, so a long delivery keeps what it claimed
    // (the rows held back for the end too).
    let renew_every = std::time::Duration::from_secs(u64::from(cfg.sending_lease_secs) / 3);
    let mut renewed = std::time::Instant::now();
    loop {
        let now = clock.current();
        let lease = now - chrono::Duration::seconds(i64::from(cfg.sending_lease_secs));
        let rows = outbox::claim(
            db,
            outbox::MAIL_LANE,
            token,
            now,
            lease,
            CLAIM,
            cfg.digest,
            urgent_only,
        )?;
        if rows.is_empty() {
            return Ok(());
        }
        for unit in units(rows, cfg.digest) {
            if limit.is_some_and(|l| stats.messages >= l) {
                return Ok(());
            }
            if renewed.elapsed() >= renew_every {
                outbox::renew(db, token, clock.current())?;
                renewed = std::time::Instant::now();
            }
            let n = unit.ids.len() as u64;
            if breaker.is_open(&unit.email) {
                // Left claimed: the caller gives it back, untried, when the delivery ends.
                stats.held_back += n;
                continue;
            }
            // The claims protect every row; a lost check lock only needs saying.
            if let Err(e) = keep_alive(db) {
                log::warn!("{e:#}");
            }
            let now = clock.current();
            let (mid, outcome) = match prepare(composer, &unit, now) {
                Ok(c) => {
                    let sent = sender.send(&c.envelope, &c.bytes, &file_stem(&c.message_id));
                    (Some(c.message_id), sent)
                }
                Err(e) => (None, Err(SendError::Permanent(e))),
            };
            stats.messages += 1;
            bar.inc(1);
            let done = clock.current();
            let err = match outcome {
                Ok(resp) => {
                    breaker.answered();
                    let mid = mid.as_deref().unwrap_or_default();
                    marks.add(db, token, &unit.ids, done, mid, &resp)?;
                    stats.sent += n;
                    continue;
                }
                Err(SendError::Connection(e)) => {
                    stats.messages -= 1;
                    log::error!("mail delivery stopped: {e}");
                    marks.write(db, token)?;
                    outbox::release(db, token, done, Some(&e))?;
                    stats.error = Some(e);
                    return Ok(());
                }
                Err(err) => err,
            };
            let next = crate::delivery::after_failure(&err, unit.tried, cfg.max_attempts);
            let e = err.to_string();
            // Due again after the backoff (to the back of the queue), unless given up.
            let retry = done
                + chrono::Duration::seconds(backoff_secs(
                    cfg.retry_base_secs,
                    unit.tried.attempts + 1,
                ));
            let tried = outbox::Tried {
                at: done,
                retry_at: retry,
                message_id: mid.as_deref(),
                error: &e,
            };
            outbox::mark_failed(db, token, &unit.ids, &tried, next)?;
            match next.state {
                crate::states::MailState::Dead => stats.dead += n,
                crate::states::MailState::Unconfirmed => stats.unconfirmed += n,
                _ => stats.failed += n,
            }
            match err {
                SendError::Ambiguous(_) => {
                    if next.given_up() {
                        log::warn!(
                            "mail to {} set aside as unconfirmed (handed over {} times without a final answer; sigov mail retry --unconfirmed sends it again): {e}",
                            unit.email,
                            unit.tried.unconfirmed + 1
                        );
                    } else {
                        log::warn!(
                            "mail to {} unconfirmed, tried once more later; the rest of their mail waits for the next delivery: {e}",
                            unit.email
                        );
                    }
                    if breaker.unconfirmed(&unit.email) {
                        let msg = format!(
                            "mail delivery stopped: the relay confirmed no message for the last {} recipients tried ({e})",
                            crate::delivery::UNCONFIRMED_RECIPIENTS_IN_A_ROW
                        );
                        log::error!("{msg}");
                        stats.error = Some(msg);
                        return Ok(());
                    }
                }
                SendError::Permanent(_) => {
                    breaker.answered();
                    log::warn!("mail to {} refused for good: {e}", unit.email);
                }
                _ => {
                    breaker.answered();
                    log::warn!("mail to {} deferred: {e}", unit.email);
                }
            }
        }
    }
}

/// Turns payloads into a message: the compiled templates and the sender.
pub struct Composer {
    renderer: Renderer,
    pub from: Mailbox,
    /// `mail.reply_address` and the site secret its tokens are made with (set by a delivery,
    /// which reads the secret from the database).
    reply: Option<(String, Vec<u8>)>,
    /// `List-Unsubscribe` without a reply address: `mail.preferences_contact` when it is an
    /// address or an https page.
    unsubscribe_contact: Option<String>,
}

/// One message ready for a transport.
pub struct Composed {
    pub rendered: Rendered,
    pub envelope: Envelope,
    pub bytes: Vec<u8>,
    pub message_id: String,
}

impl Composer {
    /// Parses the sender and compiles every template: errors show once, before any mail is
    /// claimed.
    pub fn new(cfg: &MailCfg) -> Result<Composer> {
        let c = cfg.preferences_contact.trim();
        let unsubscribe_contact = if let Some(url) = c.strip_prefix("https://") {
            Some(format!("<https://{url}>"))
        } else {
            let addr = c.strip_prefix("mailto:").unwrap_or(c);
            addr.parse::<Address>()
                .is_ok()
                .then(|| format!("<mailto:{addr}>"))
        };
        Ok(Composer {
            from: sender_mailbox(cfg)?,
            renderer: Renderer::new(cfg)?,
            reply: None,
            unsubscribe_contact,
        })
    }

    /// Mail made by this composer carries `Reply-To` and `List-Unsubscribe` addresses with
    /// tokens made with `secret` (when `mail.reply_address` is set).
    pub fn with_reply(mut self, reply_address: &str, secret: Vec<u8>) -> Composer {
        if !reply_address.is_empty() {
            self.reply = Some((reply_address.to_owned(), secret));
        }
        self
    }

    /// The headers that let a person answer the message of outbox rows `ids`.
    fn answer_headers(&self, ids: &[i64]) -> Vec<(&'static str, String)> {
        use crate::mail::token::{address, token, Purpose};
        let first = ids.first().copied().unwrap_or(0);
        match &self.reply {
            Some((addr, secret)) if first > 0 => vec![
                (
                    "Reply-To",
                    address(addr, &token(secret, Purpose::Reply, first)),
                ),
                (
                    "List-Unsubscribe",
                    format!(
                        "<mailto:{}?subject=STOP>",
                        address(addr, &token(secret, Purpose::Unsubscribe, first))
                    ),
                ),
            ],
            _ => self
                .unsubscribe_contact
                .iter()
                .map(|c| ("List-Unsubscribe", c.clone()))
                .collect(),
        }
    }

    /// One alert's mail, or a digest when there are several (`daily`: a daily digest, even
    /// of one alert), for outbox rows `ids`.
    pub fn compose(
        &self,
        payloads: &[Payload],
        ids: &[i64],
        key: &str,
        to_email: &str,
        now: NaiveDateTime,
        daily: bool,
    ) -> Result<Composed, String> {
        let first = payloads.first().ok_or_else(|| "no payload".to_owned())?;
        let rendered = if daily {
            self.renderer.daily(payloads, now)
        } else if payloads.len() == 1 {
            self.renderer.alert(first, now)
        } else {
            self.renderer.digest(payloads, now)
        }
        .map_err(|e| format!("{e:#}"))?;
        let message_id = message_id(&self.from, ids, key);
        let (envelope, bytes) = build_message(
            &self.from,
            &first.recipient.name,
            to_email,
            &rendered,
            &message_id,
            now,
            &self.answer_headers(ids),
        )?;
        Ok(Composed {
            rendered,
            envelope,
            bytes,
            message_id,
        })
    }
}

/// The file name (without `.eml`) of a message in the file transport.
fn file_stem(message_id: &str) -> String {
    message_id.trim_matches(['<', '>']).replace('@', "_at_")
}

fn prepare(composer: &Composer, unit: &Unit, now: NaiveDateTime) -> Result<Composed, String> {
    let payloads: Vec<Payload> = unit
        .payloads
        .iter()
        .map(|p| p.as_ref().cloned().map_err(|e| format!("{e:#}")))
        .collect::<Result<_, _>>()?;
    let daily = unit.batch.is_some();
    composer.compose(&payloads, &unit.ids, &unit.key, &unit.email, now, daily)
}

/// For `sigov config check`: the sender address parses, the templates compile, the transport
/// answers (nothing is sent). `None` when no transport is set.
pub fn check_setup(cfg: &MailCfg) -> Option<Result<String>> {
    if cfg.transport.is_empty() {
        return None;
    }
    Some((|| {
        Composer::new(cfg)?;
        let mut sender = Sender::open(cfg)?;
        sender.probe().map_err(|e| anyhow!("{e}"))
    })())
}

/// Sends the test message to `to`; returns the transport's answer.
pub fn send_test(cfg: &MailCfg, clock: &Clock, to: &str) -> Result<(String, String)> {
    let composer = Composer::new(cfg)?;
    let mut sender = Sender::open(cfg)?;
    let now = clock.now_naive();
    let r = composer.renderer.test(to, now)?;
    let stamp = now.and_utc().timestamp_micros();
    let mid = message_id(&composer.from, &[stamp], to).replace("<sigov.", "<sigov.test.");
    let (env, bytes) =
        build_message(&composer.from, "", to, &r, &mid, now, &[]).map_err(|e| anyhow!(e))?;
    let answer = sender
        .send(&env, &bytes, &file_stem(&mid))
        .map_err(|e| anyhow!("{e}"))
        .with_context(|| {
            format!(
                "test mail to {to} through {} failed",
                sender.spec.describe()
            )
        })?;
    sender.close();
    Ok((sender.spec.describe(), answer))
}

/// The full message of outbox rows (or built-in samples), as it would be sent now (`daily`: as
/// a daily digest).
pub fn preview(
    composer: &Composer,
    payloads: &[Payload],
    ids: &[i64],
    key: &str,
    now: NaiveDateTime,
    daily: bool,
) -> Result<(Rendered, Vec<u8>)> {
    let to = payloads
        .first()
        .map(|p| p.recipient.email.clone())
        .ok_or_else(|| anyhow!("nothing to preview"))?;
    let c = composer
        .compose(payloads, ids, key, &to, now, daily)
        .map_err(|e| anyhow!(e))?;
    Ok((c.rendered, c.bytes))
}

/// Every sample rendered, and the digest of all of them: (name, parts, whole message).
pub fn preview_samples(
    cfg: &MailCfg,
    now: NaiveDateTime,
) -> Result<Vec<(String, Rendered, Vec<u8>)>> {
    let composer = Composer::new(cfg)?;
    let samples = samples::payloads(cfg.labels, now);
    let mut out = Vec::new();
    for (name, p) in &samples {
        let (r, eml) = preview(
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
    let (r, eml) = preview(&composer, &ps, &ids, "digest", now, false)?;
    out.push(("sample-digest".to_owned(), r, eml));
    let (r, eml) = preview(&composer, &ps, &ids, "daily", now, true)?;
    out.push(("sample-daily".to_owned(), r, eml));
    // The message of `sigov mail test`.
    let to = "exploitation@example.org";
    let r = composer.renderer.test(to, now)?;
    let mid = message_id(&composer.from, &[0], "sample-test");
    let (_, eml) = build_message(&composer.from, "", to, &r, &mid, now, &[])
        .map_err(|e| anyhow::anyhow!(e))?;
    out.push(("sample-test".to_owned(), r, eml));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Delivery, backoff and dead mail through the in-memory transport, on a real SQLite
    /// outbox filled by the checks: a relay that is down defers everything; a 4xx backs off and
    /// dies after `max_attempts`; a 5xx dies at once; each accepted mail is handed over once.
    #[test]
    fn delivery_backoff_and_dead_mail_through_the_memory_transport() {
        use crate::states::MailState;
        use transport::memory::{Answer, Mailbox};
        use transport::Spec;
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        crate::demo::create(&crate::db::DbUrl::parse(&url).unwrap(), 8, 42, today).unwrap();
        let mut db = Db::connect(&url).unwrap();
        let mut cfg = crate::config::Config::from_layers(
            crate::config::Layers::load(&Default::default(), &|_| None).unwrap(),
        )
        .unwrap();
        let start = today.and_hms_opt(10, 0, 0).unwrap().and_utc();
        let clock_at = |secs: i64| {
            Clock::new(
                Some(start + chrono::Duration::seconds(secs)),
                Some(today),
                cfg.rules.tz,
                cfg.rules.utc_today,
            )
        };
        let opts = crate::checks::runner::Options {
            dry_run: false,
            deliver: false,
            list_alerts: false,
        };
        let clock = clock_at(0);
        crate::checks::runner::Runner::new(cfg.checks(), &clock, opts).run_all(&mut db);
        let rows = outbox::list(&mut db, &[MailState::Pending], 10_000).unwrap();
        let first = rows[0].recipient_email.clone();
        let other = rows
            .iter()
            .map(|r| r.recipient_email.clone())
            .find(|e| *e != first)
            .unwrap();
        let of = |e: &str| rows.iter().filter(|r| r.recipient_email == e).count() as u64;
        let (queued, n_first, n_other) = (rows.len() as u64, of(&first), of(&other));
        assert!(queued > n_first + n_other, "{queued} mails");
        cfg.mail.max_attempts = 2;
        cfg.mail.retry_base_secs = 300;
        let mailbox = Mailbox::default();
        let flush_at = |db: &mut Db, secs: i64| {
            let sender = Sender::open_spec(&cfg.mail, Spec::Memory(mailbox.clone())).unwrap();
            flush_with(
                db,
                &cfg.mail,
                &clock_at(secs),
                None,
                &mut |_| Ok(()),
                sender,
                false,
            )
            .unwrap()
        };
        // The relay is down: nothing sent, nothing counted as an attempt, everything deferred.
        mailbox.state().default = Some(Answer::Down);
        let s = flush_at(&mut db, 0);
        assert!(s.error.is_some());
        assert_eq!((s.sent, s.failed, s.dead, s.deferred), (0, 0, 0, queued));
        assert!(mailbox.state().accepted.is_empty());
        assert!(
            outbox::list(&mut db, &[MailState::Failed, MailState::Dead], 10)
                .unwrap()
                .is_empty()
        );
        mailbox.state().default = None;
        // Now it defers the first recipient's mail and refuses the other's.
        mailbox.answer(&first, Answer::Defer);
        mailbox.answer(&other, Answer::Refuse);
        let s = flush_at(&mut db, 1);
        assert_eq!(s.error, None);
        assert_eq!(s.sent, queued - n_first - n_other);
        assert_eq!((s.failed, s.dead), (n_first, n_other));
        assert_eq!(mailbox.state().accepted.len() as u64, s.sent);
        let failed = outbox::list(&mut db, &[MailState::Failed], 10_000).unwrap();
        assert_eq!(failed.len() as u64, n_first);
        for r in &failed {
            assert_eq!(r.attempts, 1);
            let next = r.next_attempt_at;
            let wait = (next - (start + chrono::Duration::seconds(1)).naive_utc()).num_seconds();
            assert!(
                (300..305).contains(&wait),
                "backs off retry_base_secs: {wait} s"
            );
        }
        // Before the backoff ends nothing is due; after it, the second refusal kills the mail.
        let s = flush_at(&mut db, 200);
        assert_eq!(s.messages, 0);
        let s = flush_at(&mut db, 400);
        assert_eq!((s.sent, s.failed, s.dead), (0, 0, n_first));
        let dead = outbox::list(&mut db, &[MailState::Dead], 10_000).unwrap();
        assert_eq!(dead.len() as u64, n_first + n_other);
        assert!(
            outbox::list(&mut db, &[MailState::Pending, MailState::Failed], 10)
                .unwrap()
                .is_empty()
        );
        // Every accepted mail was handed over once: its Message-ID appears once.
        let st = mailbox.state();
        let ids: std::collections::HashSet<String> = st
            .accepted
            .iter()
            .filter_map(|(_, b)| {
                String::from_utf8_lossy(b)
                    .lines()
                    .find(|l| l.starts_with("Message-ID:"))
                    .map(str::to_owned)
            })
            .collect();
        assert_eq!(ids.len(), st.accepted.len());
        assert_eq!(
            st.tried.len() as u64,
            1 + (queued - n_first) + 2 * n_first,
            "one try while down, then each mail once, the deferred ones twice"
        );
    }

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff_secs(300, 1), 300);
        assert_eq!(backoff_secs(300, 2), 600);
        assert_eq!(backoff_secs(300, 4), 2400);
        assert_eq!(backoff_secs(300, 12), 6 * 3600);
        assert_eq!(backoff_secs(300, 0), 300);
    }

    #[test]
    fn message_ids_are_stable_and_scoped() {
        let from: Mailbox = "SI-Gouvernance <noreply@si-gouvernance.com>"
            .parse()
            .unwrap();
        let a = message_id(&from, &[42], "deadlines:ECHEANCE_J7:p:u:due=2026-11-29");
        assert_eq!(
            a,
            message_id(&from, &[42], "deadlines:ECHEANCE_J7:p:u:due=2026-11-29")
        );
        assert!(
            a.starts_with("<sigov.42.") && a.ends_with("@si-gouvernance.com>"),
            "{a}"
        );
        assert_ne!(
            a,
            message_id(&from, &[43], "deadlines:ECHEANCE_J7:p:u:due=2026-11-29")
        );
        let d = message_id(&from, &[42, 43, 44], "k");
        assert!(d.starts_with("<sigov.digest.42-3."), "{d}");
    }

    #[test]
    fn every_mail_says_where_to_answer_and_to_unsubscribe() {
        use crate::mail::token::{parse, Purpose};
        let mut cfg = crate::config::Config::from_layers(
            crate::config::Layers::load(&Default::default(), &|_| None).unwrap(),
        )
        .unwrap()
        .mail;
        let secret = b"0123456789abcdef0123456789abcdef".to_vec();
        let c = Composer::new(&cfg)
            .unwrap()
            .with_reply("alertes@example.org", secret.clone());
        let h = c.answer_headers(&[41, 42]);
        let reply = &h.iter().find(|(n, _)| *n == "Reply-To").unwrap().1;
        assert_eq!(
            parse(&secret, "alertes@example.org", reply),
            Some((Purpose::Reply, 41))
        );
        let unsub = &h.iter().find(|(n, _)| *n == "List-Unsubscribe").unwrap().1;
        let addr = unsub
            .trim_start_matches("<mailto:")
            .trim_end_matches("?subject=STOP>");
        assert_eq!(
            parse(&secret, "alertes@example.org", addr),
            Some((Purpose::Unsubscribe, 41))
        );
        // Without a reply address: the preferences contact, when it is an address or a page.
        cfg.preferences_contact = "mailto:support@example.org".into();
        let c = Composer::new(&cfg).unwrap();
        assert_eq!(
            c.answer_headers(&[1]),
            vec![(
                "List-Unsubscribe",
                "<mailto:support@example.org>".to_owned()
            )]
        );
        cfg.preferences_contact = "https://aide.example.org/alertes".into();
        assert_eq!(
            Composer::new(&cfg).unwrap().answer_headers(&[1]),
            vec![(
                "List-Unsubscribe",
                "<https://aide.example.org/alertes>".to_owned()
            )]
        );
        cfg.preferences_contact = "le service informatique".into();
        assert!(Composer::new(&cfg).unwrap().answer_headers(&[1]).is_empty());
    }

    #[test]
    fn headers_cannot_be_injected_through_names() {
        let from: Mailbox = "SI-Gouvernance <noreply@si-gouvernance.com>"
            .parse()
            .unwrap();
        let r = Rendered {
            subject: "[S] a\r\nBcc: evil@x.test".into(),
            text: "t".into(),
            html: "<p>h</p>".into(),
        };
        let now = crate::clock::parse_stored_datetime("2026-11-22 10:00:00.000000").unwrap();
        let (env, bytes) = build_message(
            &from,
            "Eve\r\nBcc: evil@x.test",
            "eve@sigov.test",
            &r,
            "<sigov.1.0@si-gouvernance.com>",
            now,
            &[],
        )
        .unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let head = text.split("\r\n\r\n").next().unwrap();
        assert!(!head.lines().any(|l| l.starts_with("Bcc:")), "{head}");
        assert_eq!(env.to().len(), 1);
        assert!(head.contains("Auto-Submitted: auto-generated"));
        assert!(head.contains("X-Auto-Response-Suppress: All"));
        assert!(head.contains("Message-ID: <sigov.1.0@si-gouvernance.com>"));
        assert!(
            head.contains("Date: Sun, 22 Nov 2026 10:00:00 +0000"),
            "{head}"
        );
        assert!(head.contains("multipart/alternative"));
        let e = build_message(&from, "x", "not an address", &r, "<a@b>", now, &[]).unwrap_err();
        assert!(e.contains("invalid recipient address"), "{e}");
    }
}

//! `sigov mail receive`: reads the replies people sent to `mail.reply_address` from the mailbox
//! (`mail.receive.url`), from cron. A message is sigov's when it is addressed to the reply
//! address plus a token, or answers one of sigov's Message-IDs; anything else in the mailbox is
//! never fetched, flagged nor answered. Each of sigov's messages is handled once (its
//! Message-ID is kept in `sigov_reply`), then flagged `\Seen` (left in its folder).
//!
//! What a reply does is its body's first line (quoted text and blank lines skipped, any case,
//! accents ignored): `OK` or `VU` acknowledges the alerts of the mail it answers, `REPORTER N` /
//! `SNOOZE N` puts them off N days (open days when their check counts them), `STOP` mutes that
//! alert type for the person, `RECAP HH:MM` asks for a daily digest, `AIDE` the list. A reply to
//! the `List-Unsubscribe` address is a `STOP`. The sender must be the address the mail went to.
//! Auto-replies, bounces, delivery reports and list mail are recorded and never acted on nor
//! answered; every other reply gets a short answer (`Auto-Submitted: auto-replied`).

use crate::ack::{self, NewHold};
use crate::clock::Clock;
use crate::db::schema::sigov_reply::dsl as r;
use crate::db::{dsl_execute, dsl_load, Db, Val};
use crate::mail::mailbox::Mailbox;
use crate::mail::token::{self, Purpose};
use crate::mail::Settings as MailCfg;
use crate::rules::{HoldKind, Rules};
use anyhow::{anyhow, bail, Context, Result};
use chrono::NaiveTime;
use diesel::{ExpressionMethods, QueryDsl};
use mail_parser::{MessageParser, MimeHeaders};

/// What one run did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Report {
    /// The mailbox, as it may be shown.
    pub mailbox: String,
    /// sigov's messages read this run.
    pub read: u64,
    /// Replies whose command was carried out.
    pub applied: u64,
    /// Read before (by an earlier or concurrent run): only flagged.
    pub already: u64,
    /// Auto-replies, bounces, reports, list mail, wrong senders, unknown tokens: recorded only.
    pub ignored: u64,
    /// Answers sent (this run's and earlier ones' still owed).
    pub answered: u64,
    /// Answers that could not be sent (tried again next run).
    pub answers_failed: u64,
    /// One line per message: `<message-id>: outcome`.
    pub lines: Vec<String>,
}

/// A reply's command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Ack,
    Snooze(u32),
    Stop,
    Recap(NaiveTime),
    Help,
    /// Nothing understood: the help is the answer.
    Unknown,
}

impl Command {
    pub fn name(&self) -> String {
        match self {
            Command::Ack => "OK".to_owned(),
            Command::Snooze(n) => format!("REPORTER {n}"),
            Command::Stop => "STOP".to_owned(),
            Command::Recap(t) => format!("RECAP {}", t.format("%H:%M")),
            Command::Help => "AIDE".to_owned(),
            Command::Unknown => "?".to_owned(),
        }
    }
}

fn fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' | 'À' | 'Â' | 'Ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'e',
            'î' | 'ï' | 'Î' | 'Ï' => 'i',
            'ô' | 'ö' | 'Ô' | 'Ö' => 'o',
            'ù' | 'û' | 'ü' | 'Ù' | 'Û' | 'Ü' => 'u',
            'ç' | 'Ç' => 'c',
            c => c,
        })
        .collect::<String>()
        .to_ascii_uppercase()
}

/// The command of a reply's text: its first line that is not blank nor quoted.
pub fn command_of(body: &str) -> Command {
    let Some(line) = body
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('>'))
    else {
        return Command::Unknown;
    };
    let line = fold(line);
    let mut words = line
        .split(|c: char| c.is_whitespace() || c == ',' || c == '.' || c == '!')
        .filter(|w| !w.is_empty());
    let first = words.next().unwrap_or_default();
    let second = words.next();
    match first {
        "OK" | "VU" => Command::Ack,
        "REPORTER" | "SNOOZE" => match second
            .map(|w| w.trim_end_matches(['J', 'D']))
            .and_then(|w| w.parse::<u32>().ok())
        {
            Some(n) if (1..=60).contains(&n) => Command::Snooze(n),
            _ => Command::Unknown,
        },
        "STOP" => Command::Stop,
        "RECAP" => match second.and_then(|w| {
            NaiveTime::parse_from_str(&w.replace('H', ":"), "%H:%M")
                .ok()
                .or_else(|| NaiveTime::parse_from_str(&format!("{w}:00"), "%H:%M").ok())
        }) {
            Some(t) => Command::Recap(t),
            None => Command::Unknown,
        },
        "AIDE" | "HELP" | "?" => Command::Help,
        _ => Command::Unknown,
    }
}

/// Why a message is one nobody should act on nor answer: an auto-reply, a bounce, a delivery
/// report, list mail.
pub fn automatic(m: &mail_parser::Message<'_>) -> Option<&'static str> {
    let raw = |h: &str| m.header_raw(h).map(|v| v.trim().to_ascii_lowercase());
    if raw("Auto-Submitted").is_some_and(|v| !v.starts_with("no")) {
        return Some("auto-submitted");
    }
    if raw("Precedence")
        .is_some_and(|v| ["bulk", "list", "junk", "auto_reply"].contains(&v.as_str()))
    {
        return Some("bulk or list (Precedence)");
    }
    if ["X-Autoreply", "X-Autorespond", "X-Auto-Reply"]
        .iter()
        .any(|h| m.header_raw(*h).is_some())
    {
        return Some("auto-reply");
    }
    if raw("Return-Path").is_some_and(|v| v == "<>" || v.is_empty()) {
        return Some("bounce (empty Return-Path)");
    }
    if let Some(ct) = m.content_type() {
        if ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
        {
            return Some("delivery report");
        }
    }
    if m.header_raw("List-Id").is_some() || m.header_raw("List-Unsubscribe").is_some() {
        return Some("list mail");
    }
    let from = m
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if from.starts_with("mailer-daemon@") || from.starts_with("postmaster@") {
        return Some("bounce (MAILER-DAEMON)");
    }
    None
}

#[derive(diesel::QueryableByName, Debug, Clone)]
struct Row {
    #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = crate::db::text::Lossy)]
    alert_key: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>, deserialize_as = crate::db::text::LossyOpt)]
    origin_key: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = crate::db::text::Lossy)]
    recipient_id: String,
    #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = crate::db::text::Lossy)]
    recipient_email: String,
}

/// The outbox rows of the message whose first row is `id` (a digest's rows share its
/// Message-ID).
fn delivery(db: &mut Db, id: i64) -> Result<Vec<Row>> {
    db.load(
        "SELECT alert_key, origin_key, recipient_id, recipient_email FROM sigov_outbox \
         WHERE channel = '' AND (id = ? OR message_id = (SELECT message_id FROM sigov_outbox WHERE id = ?)) \
         ORDER BY id",
        &[Val::Int(id), Val::Int(id)],
    )
    .context("cannot read the outbox")
}

/// The first outbox row of the mail with this Message-ID, if sigov sent it.
fn by_message_id(db: &mut Db, mid: &str) -> Result<Option<i64>> {
    let n = db
        .count(
            "SELECT COALESCE(MIN(id), 0) AS n FROM sigov_outbox WHERE channel = '' AND message_id = ?",
            &[Val::from(mid)],
        )
        .context("cannot read the outbox")?;
    Ok((n > 0).then_some(n))
}

/// Every address a message was sent to (To, Cc, and the delivery headers servers add).
fn recipients(m: &mail_parser::Message<'_>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for a in [m.to(), m.cc()].into_iter().flatten() {
        out.extend(a.iter().filter_map(|x| x.address()).map(str::to_owned));
    }
    for h in ["Delivered-To", "X-Original-To", "Envelope-To"] {
        if let Some(v) = m.header_raw(h) {
            out.push(v.trim().trim_matches(['<', '>']).to_owned());
        }
    }
    out
}

/// The Message-IDs a message answers.
fn answered_ids(m: &mail_parser::Message<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for v in [m.in_reply_to(), m.references()] {
        if let Some(t) = v.as_text() {
            out.push(t.to_owned());
        }
        if let Some(l) = v.as_text_list() {
            out.extend(l.iter().map(|s| s.to_string()));
        }
    }
    out.into_iter()
        .map(|s| format!("<{}>", s.trim().trim_matches(['<', '>'])))
        .collect()
}

/// The key a message is kept by: its Message-ID, or a digest of it when it has none or a long one.
fn kept_id(m: &mail_parser::Message<'_>, raw: &[u8]) -> String {
    use sha2::Digest;
    match m.message_id() {
        Some(id) if !id.is_empty() && id.len() <= 180 => format!("<{id}>"),
        Some(id) if !id.is_empty() => {
            let h = sha2::Sha256::digest(id.as_bytes());
            format!(
                "sha256:{}",
                h.iter().map(|b| format!("{b:02x}")).collect::<String>()
            )
        }
        _ => {
            let h = sha2::Sha256::digest(raw);
            format!(
                "sha256:{}",
                h.iter().map(|b| format!("{b:02x}")).collect::<String>()
            )
        }
    }
}

/// What to do with one of sigov's messages.
struct Decision {
    kept: String,
    /// Handled before (its Message-ID is in `sigov_reply`): only to be flagged.
    already: bool,
    outbox_id: Option<i64>,
    sender: String,
    command: String,
    outcome: String,
    answer: Option<(String, String, String)>,
}

/// The help, the answer to AIDE and to what was not understood.
fn help(site: &str) -> String {
    format!(
        "Vous pouvez répondre à une alerte de {site} par l'une de ces commandes, seule sur la première ligne de votre message :\n\n\
         OK (ou VU) : l'alerte est prise en charge ; plus de rappel ni d'escalade tant que son échéance ne change pas.\n\
         REPORTER 3 : plus de rappel pendant 3 jours (jours ouvrés si l'alerte les compte).\n\
         STOP : ne plus recevoir ce type d'alerte.\n\
         RECAP 08:00 : recevoir vos alertes en un récapitulatif quotidien, à cette heure.\n\
         AIDE : cette aide.\n"
    )
}

/// Carries out `cmd` for the rows of one delivery; the answer's text.
#[allow(clippy::too_many_arguments)]
fn apply(
    db: &mut Db,
    cfg: &MailCfg,
    rules: &Rules,
    clock: &Clock,
    rows: &[Row],
    cmd: &Command,
    who: &str,
) -> Result<String> {
    let site = &cfg.site_name;
    let user = rows
        .first()
        .map(|r| r.recipient_id.clone())
        .unwrap_or_default();
    let mut about = Vec::new();
    for row in rows {
        let key = row.origin_key.as_deref().unwrap_or(&row.alert_key);
        if let Some(a) = ack::about(db, key)? {
            about.push((key.to_owned(), a));
        }
    }
    let types = || {
        let mut t: Vec<String> = about
            .iter()
            .map(|(_, (a, _))| a.alert_type.clone())
            .collect();
        t.sort();
        t.dedup();
        t
    };
    Ok(match cmd {
        Command::Ack | Command::Snooze(_) => {
            let mut until_shown = String::new();
            for (key, (a, arm)) in &about {
                let until = match cmd {
                    Command::Snooze(n) => {
                        let d = ack::snooze_until(rules, &a.check, clock.today, *n)
                            .ok_or_else(|| anyhow!("no day {n} days after {}", clock.today))?;
                        until_shown = crate::rules::fr_date(d);
                        Some(d)
                    }
                    _ => None,
                };
                let hold = NewHold {
                    kind: if until.is_some() {
                        HoldKind::Snooze
                    } else {
                        HoldKind::Ack
                    },
                    alert_key: key,
                    about: a,
                    arm: arm.as_deref(),
                    until,
                    by: who,
                    how: "reply",
                    note: None,
                };
                ack::record(db, &hold, clock.current())?;
            }
            match cmd {
                Command::Snooze(n) => format!(
                    "Bien reçu : {} alerte(s) reportée(s) de {n} jour(s), jusqu'au {until_shown}. Les rappels et l'escalade reprendront alors si elles sont toujours d'actualité.\n",
                    about.len()
                ),
                _ => format!(
                    "Bien reçu : {} alerte(s) acquittée(s) par {who}. Plus de rappel ni d'escalade tant que leur échéance ne change pas.\n",
                    about.len()
                ),
            }
        }
        Command::Stop => {
            let changes: Vec<crate::prefs::Change> = types()
                .into_iter()
                .map(|t| crate::prefs::Change::Mute(crate::prefs::Muted::Type(t), None))
                .collect();
            crate::prefs::set(db, &user, &changes, clock.current())?;
            format!(
                "Bien reçu : vous ne recevrez plus d'alerte de type {} de {site}. Pour revenir sur ce choix, adressez-vous à l'administrateur de {site}.\n",
                types().join(", ")
            )
        }
        Command::Recap(t) => {
            crate::prefs::set(
                db,
                &user,
                &[crate::prefs::Change::Digest(Some(*t))],
                clock.current(),
            )?;
            format!(
                "Bien reçu : vos alertes de {site} vous parviendront désormais en un récapitulatif quotidien, à {}.\n",
                t.format("%H:%M")
            )
        }
        Command::Help | Command::Unknown => help(site),
    })
}

fn decide(
    db: &mut Db,
    cfg: &MailCfg,
    rules: &Rules,
    clock: &Clock,
    secret: &[u8],
    raw: &[u8],
) -> Result<Option<Decision>> {
    let Some(m) = MessageParser::default().parse(raw) else {
        return Ok(None);
    };
    let kept = kept_id(&m, raw);
    let sender = m
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap_or_default()
        .trim()
        .to_owned();
    // Whose is it: a token among its recipients, else the Message-ID it answers.
    let mut found = None;
    let mut foreign = false;
    for a in recipients(&m) {
        if let Some(t) = token::parse(secret, &cfg.reply_address, &a) {
            found = Some(t);
            break;
        }
        let plus = cfg
            .reply_address
            .split_once('@')
            .map(|(l, _)| format!("{}+", l.to_ascii_lowercase()));
        if plus.is_some_and(|p| a.to_ascii_lowercase().starts_with(&p)) {
            foreign = true;
        }
    }
    if found.is_none() {
        for mid in answered_ids(&m) {
            if let Some(id) = by_message_id(db, &mid)? {
                found = Some((Purpose::Reply, id));
                break;
            }
        }
    }
    let already = known(db, &kept)?;
    let mut d = Decision {
        already,
        kept,
        outbox_id: found.map(|(_, id)| id),
        sender: sender.clone(),
        command: String::new(),
        outcome: String::new(),
        answer: None,
    };
    if d.already {
        return Ok(Some(d));
    }
    let Some((purpose, id)) = found else {
        if foreign {
            // Addressed to the reply address with a token that is not ours (another site's,
            // a forged one): recorded, never acted on nor answered.
            d.outcome = "ignored: unknown token".to_owned();
            return Ok(Some(d));
        }
        return Ok(None);
    };
    if let Some(why) = automatic(&m) {
        d.outcome = format!("ignored: {why}");
        return Ok(Some(d));
    }
    let rows = delivery(db, id)?;
    let Some(first) = rows.first() else {
        d.outcome = "ignored: its mail is no longer in the outbox".to_owned();
        return Ok(Some(d));
    };
    if !first.recipient_email.trim().eq_ignore_ascii_case(&sender) {
        d.outcome = format!(
            "ignored: sent by {sender}, not by {} to whom the mail went",
            first.recipient_email.trim()
        );
        return Ok(Some(d));
    }
    let cmd = match purpose {
        Purpose::Unsubscribe => Command::Stop,
        Purpose::Reply => command_of(&m.body_text(0).unwrap_or_default()),
    };
    let who = crate::source::people_named(db, &first.recipient_id)?
        .into_iter()
        .next()
        .map(|p| {
            let n = p.full_name();
            if n.is_empty() {
                p.username
            } else {
                n
            }
        })
        .unwrap_or_else(|| sender.clone());
    let text = apply(db, cfg, rules, clock, &rows, &cmd, &who)?;
    d.command = cmd.name();
    d.outcome = match cmd {
        Command::Unknown => "not understood: help sent".to_owned(),
        Command::Help => "help sent".to_owned(),
        _ => format!("applied to {} alert row(s)", rows.len()),
    };
    let subject = m.subject().unwrap_or_default().trim().to_owned();
    let subject = if fold(&subject).starts_with("RE:") {
        subject
    } else {
        format!("Re: {subject}")
    };
    d.answer = Some((sender, subject, text));
    Ok(Some(d))
}

/// Whether a message was handled before.
fn known(db: &mut Db, kept: &str) -> Result<bool> {
    let n: Vec<String> = dsl_load!(
        db,
        r::sigov_reply
            .select(r::message_id)
            .filter(r::message_id.eq(kept))
    )
    .context("cannot read sigov_reply")?;
    Ok(!n.is_empty())
}

fn record(db: &mut Db, d: &Decision, clock: &Clock) -> Result<bool> {
    let now = crate::clock::to_micros(clock.current());
    let (to, subject, text) = match &d.answer {
        Some((a, b, c)) => (Some(a.as_str()), Some(b.as_str()), Some(c.as_str())),
        None => (None, None, None),
    };
    let row = (
        r::message_id.eq(d.kept.as_str()),
        r::received_at.eq(now),
        r::outbox_id.eq(d.outbox_id),
        r::sender.eq(crate::strings::one_line(&d.sender)),
        r::command.eq(d.command.as_str()),
        r::outcome.eq(d.outcome.as_str()),
        r::answer_to.eq(to),
        r::answer_subject.eq(subject),
        r::answer.eq(text),
        r::answer_attempts.eq(0),
    );
    let rows = [row];
    let n = crate::db::dsl_insert_ignore!(db, r::sigov_reply, &rows[..])
        .context("cannot record the reply (sigov_reply)")?;
    Ok(n > 0)
}

/// Reads the mailbox and handles sigov's messages; then sends the answers owed.
pub fn receive(db: &mut Db, cfg: &MailCfg, rules: &Rules, clock: &Clock) -> Result<Report> {
    if cfg.receive_url.is_empty() {
        bail!(
            "mail.receive.url is not set (SIGOV_MAIL_RECEIVE_URL): no mailbox to read replies from"
        );
    }
    if cfg.reply_address.is_empty() {
        bail!("mail.reply_address is not set (SIGOV_MAIL_REPLY_ADDRESS): no reply can be matched to its mail");
    }
    let mailbox = Mailbox::parse(&cfg.receive_url)?;
    let secret = token::secret(db)?;
    let mut report = Report {
        mailbox: mailbox.shown.clone(),
        ..Report::default()
    };
    let mut session = mailbox.open(cfg.tls_ca_file.as_deref(), cfg.timeout)?;
    let local = cfg
        .reply_address
        .split_once('@')
        .map(|(l, _)| l)
        .unwrap_or_default();
    // Only what can be sigov's: to the reply address plus a token, or answering a sigov
    // Message-ID. The rest of a shared mailbox is never fetched.
    let query = format!(
        "UNSEEN OR OR TO \"{local}+\" CC \"{local}+\" OR HEADER In-Reply-To \"<sigov.\" HEADER References \"<sigov.\""
    );
    let mut uids: Vec<u32> = session
        .uid_search(&query)
        .with_context(|| format!("mailbox {}: search failed", mailbox.shown))?
        .into_iter()
        .collect();
    uids.sort_unstable();
    uids.truncate(cfg.receive_limit as usize);
    for uid in uids {
        let fetched = session
            .uid_fetch(uid.to_string(), "BODY.PEEK[]")
            .with_context(|| format!("mailbox {}: cannot fetch message {uid}", mailbox.shown))?;
        let Some(raw) = fetched
            .iter()
            .next()
            .and_then(|f| f.body())
            .map(<[u8]>::to_vec)
        else {
            continue;
        };
        drop(fetched);
        let Some(d) = decide(db, cfg, rules, clock, &secret, &raw)? else {
            continue;
        };
        report.read += 1;
        if d.already {
            report.already += 1;
            report.lines.push(format!("{}: read before", d.kept));
        } else if record(db, &d, clock)? {
            if d.outcome.starts_with("ignored") {
                report.ignored += 1;
            } else {
                report.applied += 1;
            }
            report
                .lines
                .push(format!("{}: {} {}", d.kept, d.command, d.outcome));
        } else {
            report.already += 1;
        }
        session
            .uid_store(uid.to_string(), "+FLAGS (\\Seen)")
            .with_context(|| format!("mailbox {}: cannot flag message {uid}", mailbox.shown))?;
    }
    let _ = session.logout();
    send_answers(db, cfg, clock, &mut report)?;
    Ok(report)
}

#[derive(diesel::Queryable)]
struct Owed {
    message_id: String,
    answer_to: Option<String>,
    answer_subject: Option<String>,
    answer: Option<String>,
}

/// Sends the answers not yet sent (each tried at most 5 times, over runs).
fn send_answers(db: &mut Db, cfg: &MailCfg, clock: &Clock, report: &mut Report) -> Result<()> {
    let owed: Vec<Owed> = dsl_load!(
        db,
        r::sigov_reply
            .select((r::message_id, r::answer_to, r::answer_subject, r::answer))
            .filter(r::answered_at.is_null())
            .filter(r::answer.is_not_null())
            .filter(r::answer_attempts.lt(5))
            .order(r::received_at)
            .limit(1000)
    )
    .context("cannot read sigov_reply")?;
    if owed.is_empty() {
        return Ok(());
    }
    if cfg.transport.is_empty() {
        log::warn!("mail.transport is not set: {} answer(s) wait", owed.len());
        return Ok(());
    }
    let mut sender = crate::mail::transport::Sender::open(cfg)?;
    let from = crate::mail::sender_mailbox(cfg)?;
    for o in owed {
        let (Some(to), Some(subject), Some(text)) = (o.answer_to, o.answer_subject, o.answer)
        else {
            continue;
        };
        let outcome = crate::mail::build_answer(
            &from,
            &to,
            &subject,
            &text,
            &o.message_id,
            clock.now_naive(),
        )
        .map_err(|e| anyhow!(e))
        .and_then(|(env, bytes, mid)| {
            sender
                .send(
                    &env,
                    &bytes,
                    &mid.trim_matches(['<', '>']).replace('@', "_at_"),
                )
                .map_err(|e| anyhow!("{e}"))
        });
        let now = crate::clock::to_micros(clock.current());
        match outcome {
            Ok(_) => {
                report.answered += 1;
                dsl_execute!(
                    db,
                    diesel::update(r::sigov_reply.filter(r::message_id.eq(&o.message_id))).set((
                        r::answered_at.eq(Some(now)),
                        r::answer_attempts.eq(r::answer_attempts + 1)
                    ))
                )
                .context("cannot record the answer (sigov_reply)")?;
            }
            Err(e) => {
                report.answers_failed += 1;
                log::warn!("answer to {}: {e:#}", o.message_id);
                dsl_execute!(
                    db,
                    diesel::update(r::sigov_reply.filter(r::message_id.eq(&o.message_id)))
                        .set(r::answer_attempts.eq(r::answer_attempts + 1))
                )
                .context("cannot record the answer (sigov_reply)")?;
            }
        }
    }
    sender.close();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_line_is_the_command() {
        assert_eq!(
            command_of("ok\n\n> Le 23/11, sigov a écrit :"),
            Command::Ack
        );
        assert_eq!(command_of("\n  Vu, merci !"), Command::Ack);
        assert_eq!(command_of("> quoted\nREPORTER 3"), Command::Snooze(3));
        assert_eq!(command_of("snooze 5j"), Command::Snooze(5));
        assert_eq!(command_of("Reporter"), Command::Unknown);
        assert_eq!(command_of("REPORTER 900"), Command::Unknown);
        assert_eq!(command_of("Stop"), Command::Stop);
        assert_eq!(
            command_of("récap 8h30"),
            Command::Recap(NaiveTime::from_hms_opt(8, 30, 0).unwrap())
        );
        assert_eq!(
            command_of("RECAP 08:00"),
            Command::Recap(NaiveTime::from_hms_opt(8, 0, 0).unwrap())
        );
        assert_eq!(command_of("aide"), Command::Help);
        assert_eq!(command_of("Bonjour, je suis en congé"), Command::Unknown);
        assert_eq!(command_of(""), Command::Unknown);
    }

    #[test]
    fn machines_are_never_answered() {
        let m = |extra: &str| {
            format!("From: a@b.org\r\nTo: x@y.org\r\nSubject: s\r\n{extra}\r\nOK\r\n")
        };
        for (extra, why) in [
            ("Auto-Submitted: auto-replied\r\n", "auto-submitted"),
            ("Precedence: bulk\r\n", "Precedence"),
            ("X-Autoreply: yes\r\n", "auto-reply"),
            ("Return-Path: <>\r\n", "bounce"),
            ("List-Id: <x.y.org>\r\n", "list"),
            (
                "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n",
                "report",
            ),
        ] {
            let raw = m(extra);
            let p = MessageParser::default().parse(raw.as_bytes()).unwrap();
            assert!(automatic(&p).is_some_and(|w| w.contains(why)), "{extra}");
        }
        let raw = m("Auto-Submitted: no\r\n");
        let p = MessageParser::default().parse(raw.as_bytes()).unwrap();
        assert_eq!(automatic(&p), None);
    }
}

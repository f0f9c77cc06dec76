//! `sigov mail flush|queue|retry|test|preview`: the outbox from the command line.

use super::ctx::Ctx;
use crate::config::Format;
use crate::mail::render::Rendered;
use crate::mail::{self, outbox, FlushStats};
use crate::output::Out;
use crate::Exit;
use anyhow::Result;
use serde_json::json;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Deliver due mail from the outbox now (exit 3 when some could not go)
    Flush {
        /// Send at most this many messages
        #[arg(long, value_name = "N")]
        limit: Option<u64>,
        /// Send now, outside mail.send_window too (quiet hours)
        #[arg(long)]
        now: bool,
    },
    /// List queued mail (pending, sending, failed, dead, unconfirmed by default), oldest first
    Queue {
        /// Only rows in this state (repeatable)
        #[arg(long, value_name = "STATE", value_enum)]
        state: Vec<crate::states::MailState>,
        /// At most this many rows
        #[arg(long, default_value_t = 50, value_name = "N")]
        limit: u64,
        /// Only mail queued since: a date (2026-11-20), a local time (2026-11-20 08:00), an
        /// instant (RFC 3339), an age (90m, 1h30m, 36h, 7d, 2w), today, yesterday
        #[arg(long, value_name = "WHEN", value_parser = crate::when::parse)]
        since: Option<crate::when::When>,
        /// Only mail queued before: the same forms as --since
        #[arg(long, value_name = "WHEN", value_parser = crate::when::parse)]
        until: Option<crate::when::When>,
    },
    /// Put dead mail back in the queue: every dead row, or only the given outbox ids;
    /// --unconfirmed: mail the relay took twice without confirming (a third copy may follow)
    #[command(visible_alias = "requeue")]
    Retry {
        /// Outbox ids (as `sigov mail queue` shows them), dead or unconfirmed
        #[arg(value_name = "ID")]
        ids: Vec<i64>,
        /// Requeue unconfirmed mail (all of it, or the given ids) instead of dead mail: each
        /// row gets one more try, and is set aside again if that one is unconfirmed too
        #[arg(long)]
        unconfirmed: bool,
    },
    /// Read the replies to sigov's mail from the mailbox (mail.receive.url) and carry out what
    /// they ask (OK, REPORTER N, STOP, RECAP HH:MM, AIDE); answer each; run it from cron
    Receive,
    /// Send a test message through the configured transport and print the relay's answer
    Test {
        /// Recipient address
        #[arg(long, value_name = "ADDR")]
        to: String,
    },
    /// Render a queued mail (--id) or a sample of each kind: subject and text on stdout, or
    /// the HTML part (--html), or files (--output: FILE.eml or FILE.html; a directory for samples)
    Preview {
        /// Outbox id of the mail to render
        #[arg(long, value_name = "ID")]
        id: Option<i64>,
        /// Print the HTML part instead of the text part
        #[arg(long)]
        html: bool,
        /// Write to this file (.eml: the whole message; .html: the HTML part; `-`: the whole
        /// message on standard output) or, for the samples, into this directory (a symbolic
        /// link there is refused; a link at a file's name is replaced, never followed)
        #[arg(long, value_name = "PATH", value_parser = crate::fsutil::Output::parse)]
        output: Option<crate::fsutil::Output>,
    },
}

pub fn run(ctx: &Ctx<'_>, cmd: &Command) -> Result<Exit> {
    let (cfg, out) = (&ctx.cfg, &ctx.out);
    let clock = ctx.clock()?;
    match cmd {
        Command::Flush { limit, now } => {
            let mut db = ctx.db()?;
            let mut settings = cfg.mail.clone();
            if *now {
                settings.window = None;
            }
            let stats = crate::channels::flush_all(
                &mut db,
                &settings,
                &cfg.channels,
                &clock,
                *limit,
                &mut |_| Ok(()),
            );
            if let Some(path) = &cfg.metrics_file {
                crate::ops::metrics::export(&mut db, path);
            }
            let stats = stats?;
            out.flushed(&stats);
            Ok(if stats.incomplete() {
                Exit::Partial
            } else {
                Exit::Ok
            })
        }
        Command::Queue {
            state,
            limit,
            since,
            until,
        } => {
            use crate::states::MailState;
            let states: Vec<MailState> = if state.is_empty() {
                vec![
                    MailState::Pending,
                    MailState::Sending,
                    MailState::Failed,
                    MailState::Dead,
                    MailState::Unconfirmed,
                ]
            } else {
                state.clone()
            };
            let mut db = ctx.db()?;
            let counts = outbox::counts(&mut db)?;
            let now = chrono::Utc::now().naive_utc();
            let at = |w: &Option<crate::when::When>| w.map(|w| w.resolve(now, cfg.rules.tz));
            let rows = outbox::list_between(&mut db, &states, at(since), at(until), *limit)?;
            out.mail_queue(&counts, &rows);
            Ok(Exit::Ok)
        }
        Command::Retry { ids, unconfirmed } => {
            use crate::states::MailState;
            let mut db = ctx.db()?;
            let states = if *unconfirmed {
                [MailState::Unconfirmed]
            } else {
                [MailState::Dead]
            };
            let n = outbox::requeue(&mut db, &states, ids, clock.current())?;
            out.requeued(n, states[0]);
            Ok(Exit::Ok)
        }
        Command::Receive => {
            let mut db = ctx.db()?;
            let r = crate::reply::receive::receive(&mut db, &cfg.mail, &cfg.rules, &clock)?;
            out.received(&r);
            Ok(Exit::Ok)
        }
        Command::Test { to } => {
            let (transport, answer) = mail::send_test(&cfg.mail, &clock, to)?;
            out.mail_tested(to, &transport, &answer);
            Ok(Exit::Ok)
        }
        Command::Preview { id, html, output } => {
            let items = match id {
                Some(id) => {
                    let mut db = ctx.db()?;
                    let row = outbox::get(&mut db, *id)?
                        .ok_or_else(|| anyhow::anyhow!("no mail with id {id} in the outbox"))?;
                    let p = mail::render::Payload::parse(&row.payload, row.snapshot.as_deref())?;
                    let composer = mail::Composer::new(&cfg.mail)?;
                    let (r, eml) = mail::preview(
                        &composer,
                        &[p],
                        &[row.id],
                        &row.alert_key,
                        clock.now_naive(),
                        row.batch_key.is_some(),
                    )?;
                    vec![(format!("outbox-{id}"), r, eml)]
                }
                None => mail::preview_samples(&cfg.mail, clock.now_naive())?,
            };
            out.previews(&items, *html, output.as_ref(), id.is_some())?;
            Ok(Exit::Ok)
        }
    }
}

/// One line about a delivery: mail, then each channel's.
pub fn mail_line(m: &FlushStats) -> String {
    let mut s = if m.transport == "none" && !m.channels.is_empty() {
        "mail: not delivered (mail.transport is not set)".to_owned()
    } else {
        delivery_line("mail", m)
    };
    for c in &m.channels {
        s.push_str("; ");
        s.push_str(&delivery_line("channel", c));
    }
    s
}

/// One delivery in words, `what` its kind (mail, channel).
fn delivery_line(what: &str, m: &FlushStats) -> String {
    let mut s = format!("{what}: {} sent in {} message(s)", m.sent, m.messages);
    if !m.transport.is_empty() {
        s.push_str(&format!(" via {}", m.transport));
    }
    if m.failed > 0 {
        s.push_str(&format!(", {} failed (retried later)", m.failed));
    }
    if m.dead > 0 {
        s.push_str(&format!(
            ", {} dead (see `sigov mail queue --state dead`)",
            m.dead
        ));
    }
    if m.unconfirmed > 0 {
        s.push_str(&format!(
            ", {} unconfirmed: handed over twice without an answer, set aside (see `sigov mail queue --state unconfirmed`)",
            m.unconfirmed
        ));
    }
    if m.held_back > 0 {
        s.push_str(&format!(
            ", {} held back for the next delivery (their recipient's mail went unconfirmed)",
            m.held_back
        ));
    }
    if m.deferred > 0 {
        s.push_str(&format!(", {} deferred", m.deferred));
    }
    if let Some(until) = &m.held_until {
        s.push_str(&format!(
            ", {} held for the send window until {until} UTC",
            m.held
        ));
    }
    if let Some(e) = &m.error {
        s.push_str(&format!(": {e}"));
    }
    s
}

impl Out<'_> {
    pub fn flushed(&self, s: &FlushStats) {
        if self.format == Format::Json {
            self.json(s);
        } else if s.incomplete() {
            // Printed whatever the terminal: cron mails it.
            crate::say!(WARNING, "sigov: {}", mail_line(s));
        } else if self.chatty() {
            crate::outln!(self, "{}", mail_line(s));
        }
    }

    pub fn received(&self, r: &crate::reply::receive::Report) {
        if self.format == Format::Json {
            self.json(&json!(r));
            return;
        }
        if self.quiet {
            return;
        }
        crate::outln!(
            self,
            "{}: {} repl(ies) read, {} carried out, {} ignored, {} read before; {} answer(s) sent{}",
            r.mailbox,
            r.read,
            r.applied,
            r.ignored,
            r.already,
            r.answered,
            if r.answers_failed > 0 {
                format!(", {} to try again", r.answers_failed)
            } else {
                String::new()
            }
        );
        for l in &r.lines {
            crate::outln!(self, "  {}", crate::strings::one_line(l));
        }
    }

    pub fn mail_queue(&self, counts: &[outbox::StateCount], rows: &[outbox::Row]) {
        if self.format == Format::Json {
            let counts: Vec<_> = counts
                .iter()
                .map(|c| {
                    let oldest = c.oldest.map(crate::clock::format_datetime);
                    let channel = (!c.is_mail()).then_some(c.channel.as_str());
                    json!({"channel": channel, "state": c.state, "count": c.n, "oldest": oldest})
                })
                .collect();
            self.json(&json!({"counts": counts, "rows": rows}));
            return;
        }
        if self.quiet {
            return;
        }
        let summary = |lane: &str| -> String {
            let s: Vec<String> = counts
                .iter()
                .filter(|c| c.channel == lane)
                .map(|c| format!("{} {}", c.state, c.n))
                .collect();
            if s.is_empty() {
                "empty".to_owned()
            } else {
                s.join(", ")
            }
        };
        crate::outln!(self, "outbox: {}", summary(outbox::MAIL_LANE));
        let mut channels: Vec<&str> = counts
            .iter()
            .filter(|c| !c.is_mail())
            .map(|c| c.channel.as_str())
            .collect();
        channels.dedup();
        for ch in channels {
            crate::outln!(self, "channel {ch}: {}", summary(ch));
        }
        if rows.is_empty() {
            return;
        }
        let created = format!("created ({})", self.zone_abbreviation());
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                vec![
                    r.id.to_string(),
                    r.state.to_string(),
                    r.attempts.to_string(),
                    self.at_short(r.created_at),
                    self.at_short(r.next_attempt_at),
                    r.recipient_email.clone(),
                    r.last_error.clone().unwrap_or_default(),
                ]
            })
            .collect();
        self.table_fit(
            &[
                "id",
                "state",
                "try",
                &created,
                "next attempt",
                "to",
                "last error",
            ],
            &cells,
            &[0, 2],
            200,
            &[5, 6],
        );
    }

    pub fn requeued(&self, n: usize, from: crate::states::MailState) {
        if self.format == Format::Json {
            self.json(&json!({"requeued": n, "state": from}));
        } else if !self.quiet {
            crate::outln!(
                self,
                "requeued {n} {from} mail(s); `sigov mail flush` delivers them"
            );
        }
    }

    pub fn mail_tested(&self, to: &str, transport: &str, answer: &str) {
        if self.format == Format::Json {
            self.json(&json!({"to": to, "transport": transport, "answer": answer}));
        } else if !self.quiet {
            crate::outln!(self, "test mail to {to} through {transport}: {answer}");
        }
    }

    /// Rendered mails: text (or HTML) on stdout, or files.
    pub fn previews(
        &self,
        items: &[(String, Rendered, Vec<u8>)],
        html: bool,
        output: Option<&crate::fsutil::Output>,
        single: bool,
    ) -> anyhow::Result<()> {
        use crate::fsutil::{output_dir, write_atomic, Output};
        use anyhow::Context;
        // Mails hold people's names and addresses: the owner's only.
        const MODE: u32 = 0o600;
        match output {
            Some(Output::Stdout) if single => {
                let (_, r, eml) = &items[0];
                self.bytes(if html { r.html.as_bytes() } else { eml });
                return Ok(());
            }
            Some(Output::Stdout) => {
                return Err(crate::exit::UnknownValue(
                    "mail preview --output -: standard output takes one mail (--id ID); the samples are written into a directory".to_owned(),
                )
                .into());
            }
            _ => {}
        }
        if let Some(Output::File(path)) = output {
            let mut written = Vec::new();
            if single {
                let (_, r, eml) = &items[0];
                let html_file = path.extension().is_some_and(|e| e == "html" || e == "htm");
                let bytes = if html_file {
                    r.html.as_bytes()
                } else {
                    eml.as_slice()
                };
                write_atomic(path, bytes, MODE)
                    .with_context(|| format!("cannot write `{}`", path.display()))?;
                written.push(path.to_path_buf());
            } else {
                output_dir(path)
                    .with_context(|| format!("cannot write into `{}`", path.display()))?;
                for (name, r, eml) in items {
                    for (ext, bytes) in [("eml", eml.as_slice()), ("html", r.html.as_bytes())] {
                        let f = path.join(format!("{name}.{ext}"));
                        write_atomic(&f, bytes, MODE)
                            .with_context(|| format!("cannot write `{}`", f.display()))?;
                        written.push(f);
                    }
                }
            }
            if self.format == Format::Json {
                self.json(&json!({"written": written}));
            } else if !self.quiet {
                for f in written {
                    crate::outln!(self, "wrote {}", f.display());
                }
            }
            return Ok(());
        }
        if self.format == Format::Json {
            let v: Vec<_> = items
                .iter()
                .map(|(n, r, _)| json!({"name": n, "subject": r.subject, "text": r.text, "html": r.html}))
                .collect();
            self.json(&json!(v));
            return Ok(());
        }
        for (i, (name, r, _)) in items.iter().enumerate() {
            if items.len() > 1 {
                if i > 0 {
                    crate::outln!(self);
                }
                crate::outln!(self, "===== {name}");
            }
            if html {
                crate::outln!(self, "{}", r.html);
            } else {
                crate::outln!(self, "Subject: {}\n\n{}", r.subject, r.text);
            }
        }
        Ok(())
    }
}

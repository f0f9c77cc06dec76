//! Where mail goes, chosen by one setting (`mail.transport`): an SMTP relay (STARTTLS, implicit
//! TLS, or plain to a loopback relay; AUTH; one connection reused for a whole delivery), the
//! local `sendmail`, or a directory of `.eml` files. Failures are sorted into what stops a
//! delivery (the relay cannot be reached or refuses us) and what concerns one message.

use super::settings::Settings as MailCfg;
use anyhow::{anyhow, bail, Context, Result};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, SmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::ClientId;
use lettre::Address;
use lettre::Transport;
use std::net::IpAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    /// Plain connection upgraded with STARTTLS (required).
    StartTls,
    /// TLS from the first byte (SMTPS).
    Implicit,
    /// No TLS: only to a relay on this machine.
    None,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    Smtp {
        host: String,
        port: u16,
        tls: Tls,
    },
    Sendmail {
        command: PathBuf,
    },
    File {
        dir: PathBuf,
    },
    /// Unit tests only (never reachable from `mail.transport`): messages kept in memory, each
    /// recipient answered as the test scripted it.
    #[cfg(test)]
    Memory(memory::Mailbox),
}

/// The in-memory transport of the unit tests: what was handed over, and a scripted answer per
/// recipient (accept by default), so delivery, backoff and dead mail are tested without a relay.
#[cfg(test)]
pub mod memory {
    use super::SendError;
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, MutexGuard};

    /// How the memory relay answers a recipient.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Answer {
        Accept,
        /// 4xx: retried later.
        Defer,
        /// 5xx: dead at once.
        Refuse,
        /// The relay is down: the delivery stops.
        Down,
    }

    #[derive(Debug, Default)]
    pub struct State {
        /// (recipients, message bytes) in the order they were accepted.
        pub accepted: Vec<(Vec<String>, Vec<u8>)>,
        pub answers: HashMap<String, Answer>,
        /// The answer to recipients without one of their own (accept when unset).
        pub default: Option<Answer>,
        /// Every attempt, accepted or not, by recipient.
        pub tried: Vec<String>,
    }

    /// A shared handle: the test keeps one, the sender another.
    #[derive(Debug, Clone, Default)]
    pub struct Mailbox(Arc<Mutex<State>>);

    impl PartialEq for Mailbox {
        fn eq(&self, o: &Self) -> bool {
            Arc::ptr_eq(&self.0, &o.0)
        }
    }
    impl Eq for Mailbox {}

    impl Mailbox {
        pub fn state(&self) -> MutexGuard<'_, State> {
            self.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        }

        pub fn answer(&self, recipient: &str, a: Answer) {
            self.state().answers.insert(recipient.to_owned(), a);
        }

        pub(super) fn take(&self, to: Vec<String>, bytes: &[u8]) -> Result<String, SendError> {
            let mut st = self.state();
            let first = to.first().cloned().unwrap_or_default();
            st.tried.push(first.clone());
            let answer = st.answers.get(&first).copied();
            match answer.or(st.default).unwrap_or(Answer::Accept) {
                Answer::Accept => {
                    st.accepted.push((to, bytes.to_vec()));
                    Ok(format!("250 kept in memory ({})", st.accepted.len()))
                }
                Answer::Defer => Err(SendError::Transient(format!("451 {first}: try later"))),
                Answer::Refuse => Err(SendError::Permanent(format!("550 {first}: no such user"))),
                Answer::Down => Err(SendError::Connection("the memory relay is down".into())),
            }
        }
    }
}

pub const ACCEPTED: &str = "smtp://host:587, smtps://host:465, smtp://127.0.0.1:25?tls=none, sendmail, sendmail:///path/to/sendmail, file:///path/to/dir";

pub(crate) fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

impl Spec {
    /// Parses `mail.transport`.
    pub fn parse(raw: &str) -> Result<Spec> {
        let raw = raw.trim();
        if raw == "sendmail" {
            return Ok(Spec::Sendmail {
                command: PathBuf::from("/usr/sbin/sendmail"),
            });
        }
        let Some((scheme, rest)) = raw.split_once("://") else {
            bail!("mail.transport `{raw}` is not a transport URL (accepted: {ACCEPTED})");
        };
        match scheme {
            "sendmail" => Ok(Spec::Sendmail {
                command: PathBuf::from(if rest.is_empty() {
                    "/usr/sbin/sendmail"
                } else {
                    rest
                }),
            }),
            "file" => {
                if rest.is_empty() {
                    bail!("mail.transport `{raw}`: no directory");
                }
                Ok(Spec::File {
                    dir: PathBuf::from(rest),
                })
            }
            "smtp" | "smtps" => {
                let (authority, query) = match rest.split_once('?') {
                    Some((a, q)) => (a, Some(q)),
                    None => (rest, None),
                };
                let authority = authority.trim_end_matches('/');
                if authority.contains('@') {
                    bail!("mail.transport: no credentials in the URL; set SIGOV_SMTP_USER and SIGOV_SMTP_PASSWORD (or SIGOV_SMTP_PASSWORD_FILE)");
                }
                let (host, port) = split_host_port(authority)
                    .map_err(|e| anyhow!("mail.transport `{raw}`: {e}"))?;
                if host.is_empty() {
                    bail!("mail.transport `{raw}`: no host");
                }
                let mut tls = if scheme == "smtps" {
                    Tls::Implicit
                } else {
                    Tls::StartTls
                };
                for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
                    match pair {
                        "tls=none" if scheme == "smtp" => tls = Tls::None,
                        "tls=starttls" if scheme == "smtp" => tls = Tls::StartTls,
                        other => bail!(
                            "mail.transport `{raw}`: unknown option `{other}` (smtp:// accepts tls=starttls or tls=none)"
                        ),
                    }
                }
                if tls == Tls::None && !is_loopback(&host) {
                    bail!("mail.transport `{raw}`: tls=none is only allowed to a relay on this machine (127.0.0.1, ::1, localhost); use STARTTLS or smtps://");
                }
                let port = port.unwrap_or(if tls == Tls::Implicit { 465 } else { 587 });
                Ok(Spec::Smtp { host, port, tls })
            }
            other => bail!("mail.transport: unknown scheme `{other}://` (accepted: {ACCEPTED})"),
        }
    }

    /// A short description for logs and reports.
    pub fn describe(&self) -> String {
        match self {
            Spec::Smtp { host, port, tls } => format!(
                "smtp {host}:{port} ({})",
                match tls {
                    Tls::StartTls => "STARTTLS",
                    Tls::Implicit => "TLS",
                    Tls::None => "no TLS, loopback",
                }
            ),
            Spec::Sendmail { command } => format!("sendmail {}", command.display()),
            Spec::File { dir } => format!("files in {}", dir.display()),
            #[cfg(test)]
            Spec::Memory(_) => "memory".to_owned(),
        }
    }
}

pub(crate) fn split_host_port(a: &str) -> Result<(String, Option<u16>)> {
    let (host, port) = if let Some(rest) = a.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| anyhow!("unclosed `[` in the host"))?;
        (h.to_owned(), after.strip_prefix(':'))
    } else {
        match a.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (a.to_owned(), None),
        }
    };
    let port = port
        .map(|p| {
            p.parse::<u16>()
                .map_err(|_| anyhow!("port `{p}` is not a number from 1 to 65535"))
        })
        .transpose()?;
    Ok((host, port))
}

pub use crate::delivery::SendError;

/// An open transport. SMTP connects on first use and keeps the connection for the next
/// message; a message refused by the relay leaves lettre's connection closed, so the next one
/// reconnects.
pub struct Sender {
    pub spec: Spec,
    timeout: std::time::Duration,
    credentials: Option<Credentials>,
    tls: Option<TlsParameters>,
    conn: Option<SmtpConnection>,
    /// The relay offers PIPELINING (RFC 2920): MAIL, RCPT and DATA go in one write.
    pipelining: bool,
    /// Connections opened (one for a whole delivery unless the relay dropped us).
    pub connections: u32,
}

/// One line for a lettre error and its causes; a read or write that timed out says so (the OS
/// calls it "Resource temporarily unavailable").
fn lettre_error(
    what: &str,
    e: &lettre::transport::smtp::Error,
    timeout: std::time::Duration,
) -> String {
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) {
                return crate::strings::one_line(&format!(
                    "{what}: no answer, timed out after {} s (mail.timeout_secs)",
                    timeout.as_secs()
                ));
            }
        }
        src = s.source();
    }
    let mut msg = format!("{what}: {e}");
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        let t = s.to_string();
        if !msg.contains(&t) {
            msg.push_str(": ");
            msg.push_str(&t);
        }
        src = s.source();
    }
    crate::strings::one_line(&msg)
}

impl Sender {
    pub fn open(cfg: &MailCfg) -> Result<Sender> {
        Sender::open_spec(cfg, Spec::parse(&cfg.transport)?)
    }

    /// A sender for `spec` with the rest of `cfg` (timeouts, TLS, credentials).
    pub fn open_spec(cfg: &MailCfg, spec: Spec) -> Result<Sender> {
        let mut tls = None;
        let mut credentials = None;
        match &spec {
            Spec::Smtp {
                host, tls: mode, ..
            } => {
                if *mode != Tls::None {
                    let mut b = TlsParameters::builder(host.trim_matches(['[', ']']).to_owned());
                    if let Some(ca) = &cfg.tls_ca_file {
                        // Certificates, not a secret: a bundle of them may be large.
                        let pem = crate::fsutil::read_bounded(ca, "mail.tls_ca_file", 4 << 20)?;
                        let cert = Certificate::from_pem(&pem)
                            .map_err(|e| anyhow!("mail.tls_ca_file `{}`: {e}", ca.display()))?;
                        b = b.add_root_certificate(cert);
                    }
                    tls = Some(b.build().map_err(|e| anyhow!("TLS setup: {e}"))?);
                }
                if !cfg.smtp_user.is_empty() {
                    credentials = Some(Credentials::new(
                        cfg.smtp_user.clone(),
                        cfg.smtp_password.clone(),
                    ));
                }
            }
            Spec::Sendmail { command } => {
                if !command.is_file() {
                    bail!(
                        "mail.transport: sendmail command `{}` not found",
                        command.display()
                    );
                }
            }
            #[cfg(test)]
            Spec::Memory(_) => {}
            Spec::File { dir } => {
                // Mail holds people's names and addresses: the owner's only.
                crate::fsutil::private_dir(dir).with_context(|| {
                    format!("cannot create the mail directory `{}`", dir.display())
                })?;
            }
        }
        Ok(Sender {
            spec,
            timeout: cfg.timeout,
            credentials,
            tls,
            conn: None,
            pipelining: false,
            connections: 0,
        })
    }

    fn connect(&mut self) -> Result<&mut SmtpConnection, SendError> {
        let timeout = self.timeout;
        let Spec::Smtp { host, port, tls } = &self.spec else {
            return Err(SendError::Connection("not an SMTP transport".into()));
        };
        if let Some(c) = &self.conn {
            if c.has_broken() {
                self.conn = None;
            }
        }
        if self.conn.is_none() {
            let relay = format!("{host}:{port}");
            let hello = ClientId::Domain(crate::host::hostname());
            let bare = host.trim_matches(['[', ']']);
            let implicit = if *tls == Tls::Implicit {
                self.tls.as_ref()
            } else {
                None
            };
            let mut c =
                SmtpConnection::connect((bare, *port), Some(self.timeout), &hello, implicit, None)
                    .map_err(|e| {
                        SendError::Connection(lettre_error(
                            &format!("cannot connect to the relay {relay}"),
                            &e,
                            timeout,
                        ))
                    })?;
            if *tls == Tls::StartTls {
                if !c.can_starttls() {
                    c.abort();
                    return Err(SendError::Connection(format!(
                        "the relay {relay} does not offer STARTTLS (use smtps:// or, on this machine only, ?tls=none)"
                    )));
                }
                let params = self
                    .tls
                    .as_ref()
                    .ok_or_else(|| SendError::Connection("no TLS parameters".into()))?;
                c.starttls(params, &hello).map_err(|e| {
                    SendError::Connection(lettre_error(
                        &format!("STARTTLS with {relay} failed"),
                        &e,
                        timeout,
                    ))
                })?;
            }
            // What the relay offers, as it says it now (after STARTTLS): lettre keeps only the
            // extensions it uses itself, so PIPELINING is read from a second EHLO (RFC 5321
            // allows one at any time; it only resets a transaction, and none is open).
            self.pipelining = c
                .command(Ehlo::new(hello.clone()))
                .map(|r| offers_pipelining(&r))
                .map_err(|e| {
                    SendError::Connection(lettre_error(
                        &format!("the relay {relay} did not answer EHLO"),
                        &e,
                        timeout,
                    ))
                })?;
            if let Some(cr) = &self.credentials {
                c.auth(&[Mechanism::Plain, Mechanism::Login], cr)
                    .map_err(|e| {
                        SendError::Connection(lettre_error(
                            &format!("the relay {relay} refused authentication"),
                            &e,
                            timeout,
                        ))
                    })?;
            }
            self.connections += 1;
            self.conn = Some(c);
        }
        self.conn
            .as_mut()
            .ok_or_else(|| SendError::Connection("no connection".into()))
    }

    /// Hands one message over; returns the relay's answer (or where the file went).
    pub fn send(
        &mut self,
        envelope: &Envelope,
        bytes: &[u8],
        file_stem: &str,
    ) -> Result<String, SendError> {
        match self.spec.clone() {
            Spec::Smtp { .. } => {
                let timeout = self.timeout;
                // Connected first: what the relay offers is known once connected.
                self.connect()?;
                let pipelining = self.pipelining;
                let conn = self.connect()?;
                match transaction(conn, envelope, bytes, pipelining) {
                    Ok(r) => Ok(response_text(&r)),
                    // A refused message leaves the session usable once reset; if the reset
                    // fails, the next message reconnects.
                    Err((e, _)) if e.is_permanent() || e.is_transient() => {
                        if conn.command(Rset).is_err() {
                            conn.abort();
                        }
                        Err(if e.is_permanent() {
                            SendError::Permanent(lettre_error(
                                "the relay refused the message",
                                &e,
                                timeout,
                            ))
                        } else {
                            SendError::Transient(lettre_error(
                                "the relay deferred the message",
                                &e,
                                timeout,
                            ))
                        })
                    }
                    Err((e, _)) if e.is_client() => Err(SendError::Permanent(lettre_error(
                        "cannot send the message",
                        &e,
                        timeout,
                    ))),
                    Err((e, body_sent)) => {
                        conn.abort();
                        self.conn = None;
                        if body_sent {
                            Err(SendError::Ambiguous(lettre_error(
                                "the relay did not confirm the message after its body was sent",
                                &e,
                                timeout,
                            )))
                        } else {
                            Err(SendError::Connection(lettre_error(
                                "the relay connection failed",
                                &e,
                                timeout,
                            )))
                        }
                    }
                }
            }
            Spec::Sendmail { command } => {
                let t = lettre::SendmailTransport::new_with_command(command.as_os_str());
                t.send_raw(envelope, bytes)
                    .map(|()| format!("accepted by {}", command.display()))
                    .map_err(|e| {
                        SendError::Transient(crate::strings::one_line(&format!(
                            "{} failed: {e}",
                            command.display()
                        )))
                    })
            }
            #[cfg(test)]
            Spec::Memory(m) => m.take(envelope.to().iter().map(|a| a.to_string()).collect(), bytes),
            Spec::File { dir } => {
                let path = dir.join(format!("{file_stem}.eml"));
                crate::fsutil::write_atomic(&path, bytes, 0o600)
                    .map(|()| format!("written to {}", path.display()))
                    .map_err(|e| {
                        SendError::Connection(format!("cannot write `{}`: {e}", path.display()))
                    })
            }
        }
    }

    /// Checks that the transport would take mail, sending none: the relay connects, TLS and AUTH
    /// pass, QUIT; the directory takes a file; the sendmail command exists (checked by `open`).
    pub fn probe(&mut self) -> Result<String, SendError> {
        let what = self.spec.describe();
        match self.spec.clone() {
            Spec::Smtp { .. } => {
                let authenticated = self.credentials.is_some();
                self.connect()?;
                self.close();
                Ok(format!(
                    "{what} answers{}",
                    if authenticated { ", authenticated" } else { "" }
                ))
            }
            Spec::File { dir } => {
                // A file of a random name, created with O_EXCL (a planted link is never
                // followed) and removed when dropped.
                tempfile::Builder::new()
                    .prefix(".sigov-probe-")
                    .tempfile_in(&dir)
                    .map(|_| format!("{what}: writable"))
                    .map_err(|e| {
                        SendError::Connection(format!("cannot write in `{}`: {e}", dir.display()))
                    })
            }
            Spec::Sendmail { .. } => Ok(format!("{what}: found")),
            #[cfg(test)]
            Spec::Memory(_) => Ok(format!("{what}: ready")),
        }
    }

    /// Says goodbye to the relay (QUIT); nothing to do for the other transports.
    pub fn close(&mut self) {
        if let Some(mut c) = self.conn.take() {
            if !c.has_broken() {
                let _ = c.quit();
            }
        }
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.close();
    }
}

/// Text written to the relay as one piece: the body of a DATA command (the message
/// dot-stuffed, RFC 5321 §4.5.2: a line starting with `.` gets one more, and its terminator), or
/// pipelined commands.
struct OneWrite(String);

impl std::fmt::Display for OneWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub fn dot_stuffed(message: &str) -> String {
    let mut out = String::with_capacity(message.len() + 16);
    if message.starts_with('.') {
        out.push('.');
    }
    // One copy: each line starting with a dot gets one more.
    let mut from = 0;
    for (at, _) in message.match_indices("\r\n.") {
        out.push_str(&message[from..at + 3]);
        out.push('.');
        from = at + 3;
    }
    out.push_str(&message[from..]);
    if !out.ends_with("\r\n") {
        out.push_str("\r\n");
    }
    out.push_str(".\r\n");
    out
}

/// One mail transaction. lettre's own `send` writes the body and its terminator separately and
/// never sets TCP_NODELAY, so every message waits out a delayed ACK (about 40 ms: 20 mails a
/// second on loopback). Here each command, the body included, is one write followed by one
/// read. Messages sigov builds are ASCII (headers RFC 2047, parts quoted-printable or base64);
/// anything else, or a non-ASCII address, goes through lettre's `send`, which negotiates
/// SMTPUTF8 and 8BITMIME.
/// One SMTP transaction. The error carries whether the whole message had been handed over
/// (`true` once the body was being written): a failure then, without an answer from the relay,
/// is ambiguous — the relay may have the message.
/// With `pipelining` (the relay offers it), MAIL, RCPT and DATA are written at once and their
/// answers read in order: two round trips a message instead of four.
fn transaction(
    conn: &mut SmtpConnection,
    envelope: &Envelope,
    bytes: &[u8],
    pipelining: bool,
) -> Result<lettre::transport::smtp::response::Response, (lettre::transport::smtp::Error, bool)> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t)
            if t.is_ascii()
                && envelope
                    .from()
                    .is_none_or(|a: &Address| a.to_string().is_ascii())
                && envelope
                    .to()
                    .iter()
                    .all(|a: &Address| a.to_string().is_ascii()) =>
        {
            t
        }
        // lettre's own transaction (SMTPUTF8): which step failed is not told, so a failure
        // without an answer counts as after the body (an attempt), never as "not sent".
        _ => return conn.send(envelope, bytes).map_err(|e| (e, true)),
    };
    let before = |e| (e, false);
    if pipelining {
        pipelined_envelope(conn, envelope).map_err(before)?;
        return conn
            .command(OneWrite(dot_stuffed(text)))
            .map_err(|e| (e, true));
    }
    conn.command(Mail::new(envelope.from().cloned(), vec![]))
        .map_err(before)?;
    for to in envelope.to() {
        conn.command(Rcpt::new(to.clone(), vec![]))
            .map_err(before)?;
    }
    conn.command(Data).map_err(before)?;
    conn.command(OneWrite(dot_stuffed(text)))
        .map_err(|e| (e, true))
}

/// MAIL, each RCPT and DATA in one write (RFC 2920), then each answer read in order, whatever
/// the ones before said, so that the session stays in step. Ok when DATA was accepted (354)
/// after every command before it was; else the first refusal (or the broken connection).
fn pipelined_envelope(
    conn: &mut SmtpConnection,
    envelope: &Envelope,
) -> Result<(), lettre::transport::smtp::Error> {
    use std::fmt::Write;
    let mut batch = Mail::new(envelope.from().cloned(), vec![]).to_string();
    for to in envelope.to() {
        let _ = write!(batch, "{}", Rcpt::new(to.clone(), vec![]));
    }
    let _ = write!(batch, "{Data}");
    // An SMTP refusal (a code) leaves the session usable; anything else ends it.
    let refused = |e: &lettre::transport::smtp::Error| e.is_permanent() || e.is_transient();
    let mut first: Option<lettre::transport::smtp::Error> = None;
    let mut note = |r: Result<_, lettre::transport::smtp::Error>| -> Result<bool, _> {
        match r {
            Ok(_) => Ok(true),
            Err(e) if refused(&e) => {
                first.get_or_insert(e);
                Ok(false)
            }
            Err(e) => Err(e),
        }
    };
    note(conn.command(OneWrite(batch)))?;
    for _ in envelope.to() {
        note(conn.read_response())?;
    }
    let data = note(conn.read_response())?;
    match first {
        None => Ok(()),
        Some(e) => {
            if data {
                // DATA accepted although a command before it was refused (RFC 2920 says a
                // server refuses it then): no message is written into that session.
                conn.abort();
            }
            Err(e)
        }
    }
}

/// The relay's EHLO answer names PIPELINING.
fn offers_pipelining(r: &lettre::transport::smtp::response::Response) -> bool {
    r.message().any(|line| {
        line.split_whitespace()
            .next()
            .is_some_and(|k| k.eq_ignore_ascii_case("PIPELINING"))
    })
}

fn response_text(r: &lettre::transport::smtp::response::Response) -> String {
    let lines: Vec<&str> = r.message().collect();
    crate::strings::one_line(&format!("{} {}", r.code(), lines.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_dot_stuffed_and_terminated() {
        assert_eq!(
            dot_stuffed("a\r\n.b\r\n..c\r\n"),
            "a\r\n..b\r\n...c\r\n.\r\n"
        );
        assert_eq!(dot_stuffed(".x"), "..x\r\n.\r\n");
        assert_eq!(dot_stuffed("x.y\r\n"), "x.y\r\n.\r\n");
    }

    #[test]
    fn transport_urls() {
        assert_eq!(
            Spec::parse("smtp://mail.example.org").unwrap(),
            Spec::Smtp {
                host: "mail.example.org".into(),
                port: 587,
                tls: Tls::StartTls
            }
        );
        assert_eq!(
            Spec::parse("smtps://mail.example.org").unwrap(),
            Spec::Smtp {
                host: "mail.example.org".into(),
                port: 465,
                tls: Tls::Implicit
            }
        );
        assert_eq!(
            Spec::parse("smtp://127.0.0.1:2525?tls=none").unwrap(),
            Spec::Smtp {
                host: "127.0.0.1".into(),
                port: 2525,
                tls: Tls::None
            }
        );
        assert_eq!(
            Spec::parse("smtp://[::1]:25?tls=none").unwrap(),
            Spec::Smtp {
                host: "::1".into(),
                port: 25,
                tls: Tls::None
            }
        );
        assert_eq!(
            Spec::parse("sendmail").unwrap(),
            Spec::Sendmail {
                command: "/usr/sbin/sendmail".into()
            }
        );
        assert_eq!(
            Spec::parse("file:///var/spool/sigov").unwrap(),
            Spec::File {
                dir: "/var/spool/sigov".into()
            }
        );
        assert_eq!(
            Spec::parse("file://./mail").unwrap(),
            Spec::File {
                dir: "./mail".into()
            }
        );
        for (bad, why) in [
            (
                "smtp://mail.example.org?tls=none",
                "only allowed to a relay on this machine",
            ),
            ("smtp://u:p@mail.example.org", "no credentials in the URL"),
            ("smtp://mail.example.org:99999", "not a number"),
            ("imap://mail.example.org", "unknown scheme"),
            ("mail.example.org", "not a transport URL"),
            ("smtps://h?tls=none", "unknown option"),
        ] {
            let e = Spec::parse(bad).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}

//! The mailbox replies are read from (`mail.receive.url`): `imaps://USER:PASSWORD@HOST:993/INBOX`
//! (TLS from the start), `imap://…` (STARTTLS, required), `imap://…?tls=none` (plain, loopback
//! only). Certificates are checked against the system's roots and `mail.tls_ca_file`. The URL is
//! a secret: only its scheme and host are ever shown.

use anyhow::{anyhow, bail, Context, Result};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    Implicit,
    StartTls,
    None,
}

/// A parsed `mail.receive.url`.
#[derive(Clone)]
pub struct Mailbox {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub user: String,
    password: String,
    pub folder: String,
    /// What may be shown of it: `imaps://host/…`.
    pub shown: String,
}

impl std::fmt::Debug for Mailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

impl Mailbox {
    pub fn parse(raw: &str) -> Result<Mailbox> {
        let raw = raw.trim();
        let shown = crate::db::url::host_only(raw);
        let Some((scheme, rest)) = raw.split_once("://") else {
            bail!(
                "mail.receive.url `{shown}` is not imaps://USER:PASSWORD@HOST/FOLDER or imap://…"
            );
        };
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (authority, path) = match rest.split_once('/') {
            Some((a, p)) => (a, p),
            None => (rest, ""),
        };
        let Some((userinfo, hostport)) = authority.rsplit_once('@') else {
            bail!("mail.receive.url `{shown}`: no USER:PASSWORD@ before the host");
        };
        let Some((user, password)) = userinfo.split_once(':') else {
            bail!("mail.receive.url `{shown}`: no password (USER:PASSWORD@HOST)");
        };
        let (host, port) = super::transport::split_host_port(hostport)
            .map_err(|e| anyhow!("mail.receive.url `{shown}`: {e}"))?;
        if host.is_empty() || user.is_empty() {
            bail!("mail.receive.url `{shown}`: no host or no user");
        }
        let mut tls = match scheme {
            "imaps" => Tls::Implicit,
            "imap" => Tls::StartTls,
            other => bail!("mail.receive.url: unknown scheme `{other}://` (imaps:// or imap://)"),
        };
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            match pair {
                "tls=none" if scheme == "imap" => tls = Tls::None,
                "tls=starttls" if scheme == "imap" => tls = Tls::StartTls,
                other => bail!(
                    "mail.receive.url `{shown}`: unknown option `{other}` (imap:// accepts tls=starttls or tls=none)"
                ),
            }
        }
        if tls == Tls::None && !super::transport::is_loopback(&host) {
            bail!("mail.receive.url `{shown}`: tls=none is only allowed to a server on this machine; use STARTTLS or imaps://");
        }
        let folder = decode(path.trim_end_matches('/'));
        Ok(Mailbox {
            port: port.unwrap_or(if tls == Tls::Implicit { 993 } else { 143 }),
            host,
            tls,
            user: decode(user),
            password: decode(password),
            folder: if folder.is_empty() {
                "INBOX".to_owned()
            } else {
                folder
            },
            shown,
        })
    }

    /// Connects and logs in, with `timeout` on every read and write.
    pub fn open(&self, ca_file: Option<&Path>, timeout: Duration) -> Result<Session> {
        let what = || format!("cannot reach the mailbox {}", self.shown);
        let tcp = TcpStream::connect((self.host.as_str(), self.port)).with_context(what)?;
        tcp.set_read_timeout(Some(timeout)).with_context(what)?;
        tcp.set_write_timeout(Some(timeout)).with_context(what)?;
        let connector = || -> Result<native_tls::TlsConnector> {
            let mut b = native_tls::TlsConnector::builder();
            if let Some(ca) = ca_file {
                let pem = crate::fsutil::read_bounded(ca, "mail.tls_ca_file", 4 << 20)?;
                let cert = native_tls::Certificate::from_pem(&pem)
                    .map_err(|e| anyhow!("mail.tls_ca_file `{}`: {e}", ca.display()))?;
                b.add_root_certificate(cert);
            }
            b.build().context("cannot set up TLS")
        };
        let stream: Box<dyn Stream> = match self.tls {
            Tls::None => Box::new(tcp),
            Tls::Implicit => Box::new(
                connector()?
                    .connect(&self.host, tcp)
                    .map_err(|e| anyhow!("{}: TLS: {e}", what()))?,
            ),
            Tls::StartTls => {
                let tcp = starttls(tcp).map_err(|e| anyhow!("{}: {e}", what()))?;
                let tls = connector()?
                    .connect(&self.host, tcp)
                    .map_err(|e| anyhow!("{}: TLS: {e}", what()))?;
                let mut c = imap::Client::new(Box::new(tls) as Box<dyn Stream>);
                c.greeting_read = true;
                return self.login(c);
            }
        };
        let mut c = imap::Client::new(stream);
        c.read_greeting().with_context(what)?;
        self.login(c)
    }

    fn login(&self, c: imap::Client<Box<dyn Stream>>) -> Result<Session> {
        let mut s = c.login(&self.user, &self.password).map_err(|(e, _)| {
            // The server's words, never the password.
            anyhow!(
                "mailbox {}: login as {} refused: {e}",
                self.shown,
                self.user
            )
        })?;
        s.select(&self.folder).with_context(|| {
            format!("mailbox {}: cannot open folder {}", self.shown, self.folder)
        })?;
        Ok(s)
    }
}

/// The plain part of a STARTTLS connection: the greeting, then `STARTTLS` and its `OK`
/// (RFC 3501 6.2.1); nothing is read past it, the server says nothing more before TLS.
fn starttls(mut tcp: TcpStream) -> Result<TcpStream> {
    fn line(tcp: &mut TcpStream) -> Result<String> {
        let mut out = Vec::new();
        let mut b = [0u8; 1];
        while !out.ends_with(b"\r\n") {
            if tcp.read(&mut b)? == 0 {
                bail!("the server closed the connection");
            }
            out.push(b[0]);
            if out.len() > 8192 {
                bail!("the server's line is too long");
            }
        }
        Ok(String::from_utf8_lossy(&out).trim_end().to_owned())
    }
    let greeting = line(&mut tcp)?;
    if !greeting.starts_with("* OK") {
        bail!(
            "unexpected greeting `{}`",
            crate::strings::one_line(&greeting)
        );
    }
    tcp.write_all(b"s0 STARTTLS\r\n")?;
    loop {
        let l = line(&mut tcp)?;
        if l.starts_with("s0 OK") {
            return Ok(tcp);
        }
        if l.starts_with("s0 ") {
            bail!("STARTTLS refused: {}", crate::strings::one_line(&l));
        }
    }
}

/// What a connection is: a TCP stream, plain or inside TLS.
pub trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

pub type Session = imap::Session<Box<dyn Stream>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mailbox_url_is_read_and_never_shown() {
        let m = Mailbox::parse("imaps://alertes%40example.org:p%40ss@imap.example.org/INBOX")
            .expect("url");
        assert_eq!(
            (
                m.host.as_str(),
                m.port,
                m.tls,
                m.user.as_str(),
                m.folder.as_str()
            ),
            (
                "imap.example.org",
                993,
                Tls::Implicit,
                "alertes@example.org",
                "INBOX"
            )
        );
        assert_eq!(m.password, "p@ss");
        assert_eq!(format!("{m:?}"), "imaps://imap.example.org/…");
        let m = Mailbox::parse("imap://u:p@localhost:1143?tls=none").expect("url");
        assert_eq!(
            (m.port, m.tls, m.folder.as_str()),
            (1143, Tls::None, "INBOX")
        );
        for bad in [
            "imap://u:p@imap.example.org?tls=none",
            "pop3://u:p@h/INBOX",
            "imaps://h/INBOX",
            "imaps://u@h/INBOX",
            "imap://u:p@h?tls=maybe",
        ] {
            let e = Mailbox::parse(bad).expect_err(bad).to_string();
            assert!(!e.contains(":p@"), "{e}");
        }
    }
}

//! One channel's HTTP side: a kept-alive agent (ureq, over the native TLS sigov already links,
//! system roots plus the channel's `tls_ca_file`), the request each kind makes, and its outcome
//! sorted for the delivery policy ([`crate::delivery`]):
//!
//! - 2xx: delivered; the first line of the answer is kept;
//! - 429 and 503 (and 408, 5xx): refused for now, retried after `Retry-After` when it says;
//! - other 4xx, a redirect: refused for good, the body's first line kept for the operator;
//! - no connection (refused, DNS, TLS): nothing was sent; the channel's delivery stops;
//! - the request went and no answer came (timeout, connection closed): unconfirmed.
//!
//! A URL never appears in a message: a Slack or Teams URL carries its key.

use super::settings::{Channel, Kind};
use crate::delivery::SendError;
use anyhow::{anyhow, Context, Result};
use hmac::Mac;
use std::time::Duration;

/// The longest `Retry-After` honoured as said; a longer one waits this long (the next delivery
/// tries again anyway).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(6 * 3600);

/// Why a post did not deliver, and when the service asked to be tried again.
#[derive(Debug)]
pub struct Failure {
    pub error: SendError,
    pub retry_after: Option<Duration>,
}

/// Posts one channel's messages over one kept-alive connection.
pub struct Poster {
    kind: Kind,
    /// The URL posted to (webhook, Slack, Teams) or the homeserver (Matrix). Secret.
    url: String,
    secret: String,
    room: String,
    token: String,
    agent: ureq::Agent,
    /// Requests whose connection failed before anything was sent.
    pub connections: u32,
}

impl Poster {
    pub fn new(ch: &Channel) -> Result<Poster> {
        let mut tls = native_tls::TlsConnector::builder();
        if let Some(ca) = &ch.tls_ca_file {
            let key = format!("channels.{}.tls_ca_file", ch.name);
            let pem = crate::fsutil::read_bounded(ca, &key, 4 << 20)?;
            let cert = native_tls::Certificate::from_pem(&pem)
                .map_err(|e| anyhow!("{key} `{}`: {e}", ca.display()))?;
            tls.add_root_certificate(cert);
        }
        let tls = tls
            .build()
            .with_context(|| format!("channel {}: cannot set up TLS", ch.name))?;
        let agent = ureq::AgentBuilder::new()
            // One deadline for the whole request: ureq's per-read timeout is not applied to a
            // connection taken from its pool (a receiver that never answered hung a delivery).
            .timeout_connect(ch.timeout)
            .timeout(ch.timeout)
            .tls_connector(std::sync::Arc::new(tls))
            .try_proxy_from_env(true)
            .redirects(0)
            .max_idle_connections_per_host(2)
            .user_agent(concat!("sigov/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Poster {
            kind: ch.kind,
            url: ch.url.clone(),
            secret: ch.secret.clone(),
            room: ch.room.clone(),
            token: ch.token.clone(),
            agent,
            connections: 0,
        })
    }

    /// Sends one message's `body`; `key` is the delivery's (the same on every try of it).
    pub fn post(&mut self, body: &[u8], key: &str) -> Result<String, Failure> {
        let req = match self.kind {
            Kind::Matrix => {
                let room = percent_encoding::utf8_percent_encode(
                    &self.room,
                    percent_encoding::NON_ALPHANUMERIC,
                );
                self.agent
                    .put(&format!(
                        "{}/_matrix/client/v3/rooms/{room}/send/m.room.message/{key}",
                        self.url
                    ))
                    .set("Authorization", &format!("Bearer {}", self.token))
            }
            Kind::Webhook => self
                .agent
                .post(&self.url)
                .set("X-Sigov-Signature", &signature(&self.secret, body))
                .set("Idempotency-Key", key),
            Kind::Slack | Kind::Teams => self.agent.post(&self.url),
        };
        let req = req.set("Content-Type", "application/json; charset=utf-8");
        match req.send_bytes(body) {
            Ok(resp) => {
                let status = resp.status();
                let text = first_line(resp);
                if (200..300).contains(&status) {
                    Ok(format!("HTTP {status}{text}"))
                } else {
                    // No redirect is followed: a moved webhook is the operator's to update.
                    Err(Failure {
                        error: SendError::Permanent(format!(
                            "HTTP {status}: the service redirects (sigov follows no redirect; update the channel's URL){text}"
                        )),
                        retry_after: None,
                    })
                }
            }
            Err(ureq::Error::Status(status, resp)) => {
                let retry_after = retry_after(&resp);
                let text = first_line(resp);
                let retry_after = retry_after.or_else(|| matrix_retry_after(&text));
                let msg = format!("HTTP {status}{text}");
                let error = match status {
                    408 | 429 | 500..=599 => SendError::Transient(msg),
                    _ => SendError::Permanent(msg),
                };
                Err(Failure { error, retry_after })
            }
            Err(ureq::Error::Transport(t)) => {
                let cause = std::error::Error::source(&t)
                    .map(|c| format!(": {}", crate::strings::one_line(&c.to_string())))
                    .unwrap_or_default();
                let msg = format!("{}{cause}", t.kind());
                use ureq::ErrorKind as K;
                let error = match t.kind() {
                    K::Dns
                    | K::ConnectionFailed
                    | K::InvalidUrl
                    | K::UnknownScheme
                    | K::InsecureRequestHttpsOnly
                    | K::InvalidProxyUrl
                    | K::ProxyConnect
                    | K::ProxyUnauthorized => {
                        self.connections += 1;
                        SendError::Connection(msg)
                    }
                    // The request was on its way or sent: it may have been taken.
                    _ => SendError::Ambiguous(format!("no answer: {msg}")),
                };
                Err(Failure {
                    error,
                    retry_after: None,
                })
            }
        }
    }
}

/// `sha256=HEX`: the HMAC-SHA256 of the exact body with the channel's key.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let mut mac = match hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    let out = mac.finalize().into_bytes();
    let hex: String = out.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// `Retry-After` in seconds (or an HTTP date), bounded.
fn retry_after(resp: &ureq::Response) -> Option<Duration> {
    let v = resp.header("Retry-After")?.trim();
    let d = match v.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
            let secs = (at.timestamp() - chrono::Utc::now().timestamp()).max(0);
            Duration::from_secs(secs as u64)
        }
    };
    Some(d.min(MAX_RETRY_AFTER))
}

/// Matrix's `M_LIMIT_EXCEEDED` says when in its body (`retry_after_ms`).
fn matrix_retry_after(text: &str) -> Option<Duration> {
    let i = text.find("\"retry_after_ms\"")?;
    let rest = text[i + 16..].trim_start().strip_prefix(':')?.trim_start();
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let ms: u64 = digits.parse().ok()?;
    Some(Duration::from_millis(ms).min(MAX_RETRY_AFTER))
}

/// `: ` and the first line of an answer's body (at most 200 characters), or nothing. The
/// body is read to its end (up to 64 KiB) so the connection can carry the next request.
fn first_line(resp: ureq::Response) -> String {
    use std::io::Read;
    let mut buf = Vec::new();
    let _ = resp.into_reader().take(64 * 1024).read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    if line.is_empty() {
        return String::new();
    }
    let cut: String = line.chars().take(200).collect();
    format!(": {}", crate::strings::one_line(&cut))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_rfc4231() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn matrix_says_when() {
        assert_eq!(
            matrix_retry_after(": {\"errcode\":\"M_LIMIT_EXCEEDED\",\"retry_after_ms\": 1500}"),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(matrix_retry_after(": nothing"), None);
    }
}

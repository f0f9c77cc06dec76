//! The address a person replies to: `mail.reply_address` with a token bound to one delivery
//! (`alertes+r1234-9f3ab2c41d77e0aa@example.org`), an HMAC of the outbox row with a secret kept
//! in sigov's own table (`sigov_meta`, never in the configuration), so that nobody can forge a
//! reply to an alert they did not receive. `r`: a reply (a command); `u`: an unsubscription
//! (`List-Unsubscribe`).

use crate::db::schema::sigov_meta::dsl as m;
use crate::db::{dsl_load, Db};
use anyhow::{Context, Result};
use diesel::{ExpressionMethods, QueryDsl};
use hmac::{Hmac, Mac};

/// Hex digits of the MAC in a token: 64 bits.
const MAC_HEX: usize = 16;

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A reply carrying a command (`OK`, `REPORTER 3`, …).
    Reply,
    /// `List-Unsubscribe`: mute that alert type for that person.
    Unsubscribe,
}

impl Purpose {
    fn letter(self) -> char {
        match self {
            Purpose::Reply => 'r',
            Purpose::Unsubscribe => 'u',
        }
    }
}

/// The site secret, from `sigov_meta` (`sigov db migrate` makes it: the checks' account only
/// reads that table).
pub fn secret(db: &mut Db) -> Result<Vec<u8>> {
    let v: Vec<String> = dsl_load!(
        db,
        m::sigov_meta
            .select(m::meta_value)
            .filter(m::meta_key.eq(crate::db::migrate::SITE_SECRET))
    )
    .context("cannot read the site secret (sigov_meta)")?;
    match v.into_iter().next() {
        Some(hex) => decode(&hex),
        None => anyhow::bail!(
            "sigov_meta holds no site secret for reply tokens: run `sigov db migrate` (it makes one)"
        ),
    }
}

pub fn decode(hex: &str) -> Result<Vec<u8>> {
    let hex = hex.trim();
    anyhow::ensure!(
        hex.len() >= 32 && hex.len() % 2 == 0 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        "the reply secret in sigov_meta is not hexadecimal text of 16 bytes or more"
    );
    Ok((0..hex.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect())
}

fn mac(secret: &[u8], purpose: Purpose, id: i64) -> String {
    // HMAC accepts keys of any length: new_from_slice cannot fail for it.
    let Ok(mut m) = Hmac::<sha2::Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    m.update(b"sigov-reply\0");
    m.update(&[purpose.letter() as u8]);
    m.update(id.to_string().as_bytes());
    let d = m.finalize().into_bytes();
    d.iter()
        .take(MAC_HEX / 2)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The token of outbox row `id` for `purpose`: `r1234-9f3ab2c41d77e0aa`.
pub fn token(secret: &[u8], purpose: Purpose, id: i64) -> String {
    format!("{}{id}-{}", purpose.letter(), mac(secret, purpose, id))
}

/// The address carrying `token` on `reply_address` (`alertes@example.org`): its local part,
/// `+`, the token.
pub fn address(reply_address: &str, token: &str) -> String {
    match reply_address.split_once('@') {
        Some((local, domain)) => format!("{local}+{token}@{domain}"),
        None => reply_address.to_owned(),
    }
}

/// The purpose and outbox row of a token found in `addr` (any case) when `addr` is
/// `reply_address` plus a token whose MAC is right; `None` otherwise (another address, no
/// token, a forged or foreign token).
pub fn parse(secret: &[u8], reply_address: &str, addr: &str) -> Option<(Purpose, i64)> {
    let (want_local, want_domain) = reply_address.split_once('@')?;
    let (local, domain) = addr.trim().rsplit_once('@')?;
    if !domain.eq_ignore_ascii_case(want_domain) {
        return None;
    }
    let (base, tok) = local.split_once('+')?;
    if !base.eq_ignore_ascii_case(want_local) {
        return None;
    }
    let tok = tok.to_ascii_lowercase();
    let purpose = match tok.chars().next()? {
        'r' => Purpose::Reply,
        'u' => Purpose::Unsubscribe,
        _ => return None,
    };
    let (id, given) = tok[1..].split_once('-')?;
    let id: i64 = id.parse().ok().filter(|i| *i > 0)?;
    let want = mac(secret, purpose, id);
    // Constant-time comparison of the MACs.
    let same = given.len() == want.len()
        && given
            .bytes()
            .zip(want.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    same.then_some((purpose, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn a_token_comes_back_only_as_it_was_made() {
        let t = token(S, Purpose::Reply, 1234);
        assert!(t.starts_with("r1234-") && t.len() == 6 + MAC_HEX, "{t}");
        let a = address("alertes@example.org", &t);
        assert_eq!(a, format!("alertes+{t}@example.org"));
        assert_eq!(
            parse(S, "alertes@example.org", &a),
            Some((Purpose::Reply, 1234))
        );
        // Mail systems may change the case.
        assert_eq!(
            parse(S, "alertes@example.org", &a.to_uppercase()),
            Some((Purpose::Reply, 1234))
        );
        // Another row, purpose, secret, mailbox or domain: nothing.
        let forged = a.replace("r1234-", "r1235-");
        assert_eq!(parse(S, "alertes@example.org", &forged), None);
        assert_eq!(
            parse(S, "alertes@example.org", &a.replace("+r", "+u")),
            None
        );
        assert_eq!(
            parse(
                b"another secret of 32 bytes......",
                "alertes@example.org",
                &a
            ),
            None
        );
        assert_eq!(parse(S, "autre@example.org", &a), None);
        assert_eq!(parse(S, "alertes@example.net", &a), None);
        assert_eq!(parse(S, "alertes@example.org", "alertes@example.org"), None);
        let u = address("alertes@example.org", &token(S, Purpose::Unsubscribe, 7));
        assert_eq!(
            parse(S, "alertes@example.org", &u),
            Some((Purpose::Unsubscribe, 7))
        );
    }

    #[test]
    fn a_secret_is_hex_of_16_bytes_or_more() {
        assert_eq!(decode("00ff").ok(), None);
        assert_eq!(decode(&"ab".repeat(16)).map(|v| v.len()).ok(), Some(16));
        assert!(decode(&"zz".repeat(16)).is_err());
    }
}

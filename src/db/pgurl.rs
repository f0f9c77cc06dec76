//! PostgreSQL connection URIs read as libpq reads them (`conninfo_uri_parse_options`), so that
//! sigov knows every place a password can hide before libpq sees the URL: the user
//! information (which ends at the first `@` or `/`), and the `password`, `passfile` and
//! `sslpassword` parameters in any spelling libpq accepts (keys and values are
//! percent-decoded: `pass%77ord` is `password`). A URL libpq would split differently from what
//! its writer meant (a raw `@` or `/` in a password) is refused here, saying what to encode,
//! without showing any of it.

use percent_encoding::percent_decode_str;

/// Parameters whose value is shown as written; every other parameter's value is hidden (a
/// misspelt `pasword=` holds a secret too).
const SHOWN: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslcrl",
    "sslnegotiation",
    "gssencmode",
    "channel_binding",
    "connect_timeout",
    "application_name",
    "target_session_attrs",
    "load_balance_hosts",
    "client_encoding",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
    "require_auth",
    "ssl",
];

/// A parsed `postgres://` or `postgresql://` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgUrl {
    scheme: String,
    /// As written (percent-encoded), for display.
    user: Option<String>,
    /// The user information holds a password.
    password: bool,
    /// `host[:port]` items as written, comma-separated in the URL.
    hosts: Vec<String>,
    dbname: Option<String>,
    /// (decoded key, value as written).
    params: Vec<(String, String)>,
    /// Every secret the URL holds, decoded and as written: what no message may show.
    secrets: Vec<String>,
}

/// Why a URL cannot be read, in words that show none of it.
const ENCODE: &str = "percent-encode the user name and password (`@` as %40, `/` as %2F, `:` as %3A, `?` as %3F, `#` as %23, `%` as %25, `,` as %2C, a space as %20)";

fn decode(s: &str, what: &str) -> Result<String, String> {
    // libpq refuses a `%` not followed by two hexadecimal digits, and %00.
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let ok = i + 2 < b.len()
                && b[i + 1].is_ascii_hexdigit()
                && b[i + 2].is_ascii_hexdigit()
                && !(b[i + 1] == b'0' && b[i + 2] == b'0');
            if !ok {
                return Err(format!(
                    "the {what} holds a `%` that does not start a percent-encoded byte; {ENCODE}"
                ));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| format!("the {what} is not UTF-8 once decoded"))
}

fn is_secret_key(key: &str) -> bool {
    matches!(
        key.to_ascii_lowercase().as_str(),
        "password" | "passfile" | "sslpassword"
    )
}

impl PgUrl {
    /// Reads `raw` (starting `postgres://` or `postgresql://`, any case).
    pub fn parse(raw: &str) -> Result<PgUrl, String> {
        let (scheme, rest) = raw
            .split_once("://")
            .ok_or_else(|| "no `://` after the scheme".to_owned())?;
        let mut secrets = Vec::new();
        // The user information ends at the first `@` or `/` (libpq's look-ahead).
        let (userinfo, rest) = match rest.find(['@', '/']) {
            Some(i) if rest.as_bytes()[i] == b'@' => (Some(&rest[..i]), &rest[i + 1..]),
            _ => (None, rest),
        };
        let mut user = None;
        let mut password = false;
        if let Some(ui) = userinfo {
            let (u, pw) = match ui.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (ui, None),
            };
            if let Some(pw) = pw {
                password = true;
                if !pw.is_empty() {
                    secrets.push(pw.to_owned());
                    secrets.push(decode(pw, "password")?);
                }
            }
            decode(u, "user name")?;
            if !u.is_empty() {
                user = Some(u.to_owned());
            }
        }
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (hostspec, rest) = rest.split_at(end);
        let mut hosts = Vec::new();
        for h in hostspec.split(',').filter(|h| !h.is_empty()) {
            let (host, port) = if let Some(v6) = h.strip_prefix('[') {
                let (addr, after) = v6
                    .split_once(']')
                    .ok_or_else(|| "an IPv6 host has no closing `]`".to_owned())?;
                if addr.is_empty()
                    || !addr
                        .chars()
                        .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.' || c == '%')
                {
                    return Err(format!("the host is not a host name or address; {ENCODE}"));
                }
                (addr, after.strip_prefix(':'))
            } else {
                match h.split_once(':') {
                    Some((host, port)) => (host, Some(port)),
                    None => (h, None),
                }
            };
            let host = decode(host, "host")?;
            if !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '/'))
            {
                // A raw `@` in a password moves the rest of it into the host.
                return Err(format!(
                    "the host is not a host name or address (a password holding `@`, `/` or `:` unencoded ends early); {ENCODE}"
                ));
            }
            if let Some(p) = port {
                if !p.is_empty() && p.parse::<u16>().is_err() {
                    return Err(format!("the port is not a number from 1 to 65535 (a password holding `@` or `:` unencoded ends early); {ENCODE}"));
                }
            }
            hosts.push(h.to_owned());
        }
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let dbname = path.strip_prefix('/').filter(|d| !d.is_empty());
        if let Some(d) = dbname {
            decode(d, "database name")?;
        }
        let mut params = Vec::new();
        for kv in query.unwrap_or("").split('&').filter(|kv| !kv.is_empty()) {
            let Some((k, v)) = kv.split_once('=') else {
                return Err(
                    "a URL parameter has no `=` (a password holding `&` unencoded splits it: %26)"
                        .to_owned(),
                );
            };
            let key = decode(k, "name of a URL parameter")?;
            if (is_secret_key(&key) || !SHOWN.contains(&key.as_str())) && !v.is_empty() {
                secrets.push(v.to_owned());
                if let Ok(d) = decode(v, "value of a URL parameter") {
                    secrets.push(d);
                }
            }
            if is_secret_key(&key) {
                decode(v, &format!("`{key}` parameter"))?;
            }
            params.push((key, v.to_owned()));
        }
        // Longest first, so that a secret containing another is hidden whole.
        secrets.retain(|s| !s.is_empty());
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Ok(PgUrl {
            scheme: scheme.to_owned(),
            user,
            password,
            hosts,
            dbname: dbname.map(str::to_owned),
            params,
            secrets,
        })
    }

    /// A host to connect to: in the authority, or a `host=` parameter (a socket directory).
    pub fn has_host(&self) -> bool {
        !self.hosts.is_empty()
            || self
                .params
                .iter()
                .any(|(k, _)| k == "host" || k == "hostaddr")
    }

    /// Scheme, user, host, port, database and parameters, every secret as `***`.
    pub fn redacted(&self) -> String {
        let mut s = format!("{}://", self.scheme);
        if let Some(u) = &self.user {
            s.push_str(u);
        }
        if self.password {
            s.push_str(":***");
        }
        if self.user.is_some() || self.password {
            s.push('@');
        }
        s.push_str(&self.hosts.join(","));
        if let Some(d) = &self.dbname {
            s.push('/');
            s.push_str(d);
        }
        if !self.params.is_empty() {
            let shown: Vec<String> = self
                .params
                .iter()
                .map(|(k, v)| {
                    if SHOWN.contains(&k.as_str()) && !is_secret_key(k) {
                        format!("{k}={v}")
                    } else {
                        format!("{k}=***")
                    }
                })
                .collect();
            s.push('?');
            s.push_str(&shown.join("&"));
        }
        s
    }

    /// `message` (libpq's, about this URL) with every secret the URL holds replaced by `***`.
    pub fn scrub(&self, message: &str) -> String {
        let mut m = message.to_owned();
        for s in &self.secrets {
            m = m.replace(s.as_str(), "***");
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(raw: &str) -> String {
        PgUrl::parse(raw)
            .map(|u| u.redacted())
            .unwrap_or_else(|e| e)
    }

    #[test]
    fn every_password_spelling_is_hidden_and_the_rest_shown() {
        for (raw, want) in [
            (
                "postgres://sigov:Pw-1@db.example.org:5433/pm?sslmode=require",
                "postgres://sigov:***@db.example.org:5433/pm?sslmode=require",
            ),
            (
                "postgres://sigov@host/pm?password=QpW-7@zZ9k",
                "postgres://sigov@host/pm?password=***",
            ),
            (
                "postgres://sigov@host/pm?pass%77ord=SECRET",
                "postgres://sigov@host/pm?password=***",
            ),
            (
                "postgresql:///pm?host=/run/postgresql&user=pm&password=s3cret",
                "postgresql:///pm?host=/run/postgresql&user=pm&password=***",
            ),
            (
                "postgres://u@h/pm?passfile=/etc/pgpass&sslpassword=k3y",
                "postgres://u@h/pm?passfile=***&sslpassword=***",
            ),
            (
                "postgres://u@h/pm?pasword=typo-secret",
                "postgres://u@h/pm?pasword=***",
            ),
            (
                "postgres://u:p%40ss@h1:5432,h2:5433/pm",
                "postgres://u:***@h1:5432,h2:5433/pm",
            ),
        ] {
            assert_eq!(shown(raw), want, "{raw}");
        }
    }

    #[test]
    fn a_url_libpq_would_split_elsewhere_is_refused_without_showing_it() {
        for raw in [
            "postgres://u:p@ss@h/pm",
            "postgres://u:pa/ss@h/pm",
            "postgres://u:100%@h/pm",
            "postgres://u@h/pm?password=a%zzb",
        ] {
            let e = PgUrl::parse(raw).unwrap_err();
            assert!(
                e.contains("percent-encode") || e.contains("%"),
                "{raw}: {e}"
            );
            for part in ["ss", "100", "a%zzb"] {
                assert!(!e.contains(&format!("`{part}")), "{raw}: {e}");
            }
        }
    }

    #[test]
    fn libpq_messages_lose_every_secret() {
        let u = PgUrl::parse("postgres://sigov@127.0.0.1:5432/pm?pass%77ord=Qp%40W7").unwrap();
        assert_eq!(
            u.scrub("password authentication failed for user \"sigov\" (Qp@W7, Qp%40W7)"),
            "password authentication failed for user \"sigov\" (***, ***)"
        );
    }
}

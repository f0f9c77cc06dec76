//! Database URLs: the scheme names the backend (never guessed), passwords are redacted for display.

use anyhow::{bail, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum Backend {
    Mysql,
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// A validated database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbUrl {
    raw: String,
    backend: Backend,
    /// What the driver receives: the URL for MySQL, the file path for SQLite.
    target: String,
}

pub const ACCEPTED: &str = "mysql://user:pass@host:3306/db (socket: ?unix_socket=/path), postgres://user:pass@host:5432/db (socket: ?host=/run/postgresql; sslmode=… passed through), sqlite:///abs/path.db or sqlite://relative/path.db";

impl DbUrl {
    pub fn parse(raw: &str) -> Result<DbUrl> {
        let raw = raw.trim();
        if raw.is_empty() {
            bail!("no database URL: set SIGOV_DATABASE_URL, --database-url or database.url (accepted: {ACCEPTED})");
        }
        let (scheme, rest) = match raw.split_once("://") {
            Some((s, r)) => (s.to_ascii_lowercase(), r),
            None => bail!(
                "database URL `{}` has no scheme; accepted: {ACCEPTED}",
                redact(raw)
            ),
        };
        match scheme.as_str() {
            "mysql" | "mariadb" => {
                if !cfg!(feature = "mysql") {
                    bail!("this sigov was built without MySQL support (cargo feature `mysql`)");
                }
                let target = format!("mysql://{rest}");
                let host_part = rest.split(['/', '?']).next().unwrap_or("");
                let host = host_part.rsplit('@').next().unwrap_or("");
                if host.is_empty() {
                    bail!(
                        "database URL `{}` names no host; accepted: {ACCEPTED}",
                        redact(raw)
                    );
                }
                Ok(DbUrl {
                    raw: raw.to_owned(),
                    backend: Backend::Mysql,
                    target,
                })
            }
            "sqlite" => {
                if !cfg!(feature = "sqlite") {
                    bail!("this sigov was built without SQLite support (cargo feature `sqlite`)");
                }
                let path = rest.split('?').next().unwrap_or("");
                if path.is_empty() {
                    bail!("database URL `{raw}` names no file; accepted: {ACCEPTED}");
                }
                let path = percent_encoding::percent_decode_str(path)
                    .decode_utf8_lossy()
                    .into_owned();
                Ok(DbUrl {
                    raw: raw.to_owned(),
                    backend: Backend::Sqlite,
                    target: path,
                })
            }
            "postgres" | "postgresql" => {
                if !cfg!(feature = "postgres") {
                    bail!("this sigov was built without PostgreSQL support (cargo feature `postgres`)");
                }
                // Read as libpq will read it (host or `?host=/socket/dir`, port, database,
                // parameters such as `sslmode`), so every password in it is known and a URL
                // libpq would split elsewhere is refused before it sees it.
                let url = super::pgurl::PgUrl::parse(raw).map_err(|why| {
                    anyhow::anyhow!("database URL `{}://…` cannot be read: {why}", scheme)
                })?;
                if !url.has_host() {
                    bail!(
                        "database URL `{}` names no host (a socket: `?host=/run/postgresql`); accepted: {ACCEPTED}",
                        url.redacted()
                    );
                }
                Ok(DbUrl {
                    raw: raw.to_owned(),
                    backend: Backend::Postgres,
                    target: format!("postgresql://{rest}"),
                })
            }
            other => bail!(
                "unknown database URL scheme `{other}` in `{}`; accepted: {ACCEPTED}",
                redact(raw)
            ),
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn connect_string(&self) -> &str {
        &self.target
    }

    /// For SQLite: the database file path.
    pub fn sqlite_path(&self) -> Option<&str> {
        (self.backend == Backend::Sqlite).then_some(self.target.as_str())
    }

    pub fn redacted(&self) -> String {
        redact(&self.raw)
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

/// Replaces the password of `scheme://user:password@host` with `***`. The user information
/// ends at the last `@` (a password may hold a raw `/`, `?` or `@`); a value that is not a URL
/// at all is shown as `***` (it may be a bare secret, or a URL whose scheme was forgotten).
/// PostgreSQL URLs are read as libpq reads them ([`super::pgurl`]); one that cannot be read
/// shows its scheme alone.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "***".to_owned();
    };
    if matches!(
        scheme.to_ascii_lowercase().as_str(),
        "postgres" | "postgresql"
    ) {
        return super::pgurl::PgUrl::parse(url)
            .map(|u| u.redacted())
            .unwrap_or_else(|_| format!("{scheme}://…"));
    }
    match rest.rfind('@') {
        Some(at) => {
            let userinfo = &rest[..at];
            // libpq also takes the password as a parameter: `?password=…`.
            let host = &redact_password_param(&rest[at + 1..]);
            let rest = &format!("{userinfo}@{host}");
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
                None => format!("{scheme}://{rest}"),
            }
        }
        None => format!("{scheme}://{}", redact_password_param(rest)),
    }
}

/// `message` (a driver's error about URL `raw`) without any secret `raw` holds: for
/// PostgreSQL every password libpq could read from it (user information, `password=`,
/// `passfile=`, `sslpassword=`, in any encoding), so host, port, user and database stay.
pub fn scrub(message: &str, raw: &str) -> String {
    match super::pgurl::PgUrl::parse(raw) {
        Ok(u) => u.scrub(message),
        // Never reached for a URL that got past `DbUrl::parse`; hide everything then.
        Err(_) => "(the driver's message is hidden: the URL cannot be read)".to_owned(),
    }
}

/// `rest` with the value of every `password=` parameter of its query replaced by `***`.
fn redact_password_param(rest: &str) -> String {
    let Some((head, query)) = rest.split_once('?') else {
        return rest.to_owned();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
            _ => kv.to_owned(),
        })
        .collect();
    format!("{head}?{}", query.join("&"))
}

/// `scheme://host[:port]/…`: all a secret-bearing URL (a ping URL, whose path is its token)
/// may show; no user information, path or query. Not a URL: `***`.
pub fn host_only(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "***".to_owned();
    };
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host = match authority.rsplit_once('@') {
        Some((_, host)) => host,
        // An `@` further on: a password holding a raw `/`, or an `@` in the path; either way
        // what stands before it may be secret.
        None if rest.contains('@') => "***",
        None => authority,
    };
    format!("{scheme}://{host}/…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_survive_redaction() {
        assert_eq!(redact("mysql://u:p@h:3306/db"), "mysql://u:***@h:3306/db");
        assert_eq!(
            redact("mysql://u:pa/ss?w@h:3306/db"),
            "mysql://u:***@h:3306/db"
        );
        assert_eq!(redact("mysql://u:p@ss@h/db"), "mysql://u:***@h/db");
        assert_eq!(redact("u:secret@h/db"), "***");
        assert_eq!(redact("hunter2"), "***");
        assert_eq!(redact("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
        assert_eq!(
            host_only("https://hc.example/ping/abc-token"),
            "https://hc.example/…"
        );
        assert_eq!(
            host_only("https://u:pw@hc.example:8443/t?x=1"),
            "https://hc.example:8443/…"
        );
        assert_eq!(host_only("https://u:p/w@hc.example/t"), "https://***/…");
        assert_eq!(host_only("https://hc.example/t@ken"), "https://***/…");
        assert_eq!(host_only("hc.example/token"), "***");
    }

    #[test]
    fn schemes_pick_backends() {
        assert_eq!(
            DbUrl::parse("mysql://u:p@h:3306/db").unwrap().backend(),
            Backend::Mysql
        );
        assert_eq!(
            DbUrl::parse("mariadb://u@h/db").unwrap().backend(),
            Backend::Mysql
        );
        let s = DbUrl::parse("sqlite:///tmp/x.db").unwrap();
        assert_eq!(s.sqlite_path(), Some("/tmp/x.db"));
        let s = DbUrl::parse("sqlite://./demo.db").unwrap();
        assert_eq!(s.sqlite_path(), Some("./demo.db"));
        let p = DbUrl::parse("postgres://u:p@h:5432/pm?sslmode=require").unwrap();
        assert_eq!(p.backend(), Backend::Postgres);
        assert_eq!(
            p.connect_string(),
            "postgresql://u:p@h:5432/pm?sslmode=require"
        );
        let p = DbUrl::parse("postgresql:///pm?host=/run/postgresql").unwrap();
        assert_eq!(p.connect_string(), "postgresql:///pm?host=/run/postgresql");
    }

    #[test]
    fn unknown_schemes_are_refused_naming_the_accepted_ones() {
        let e = DbUrl::parse("oracle://x@y/z").unwrap_err().to_string();
        assert!(e.contains("unknown database URL scheme `oracle`"), "{e}");
        assert!(e.contains("mysql://") && e.contains("sqlite://"), "{e}");
        let e = DbUrl::parse("/var/lib/x.db").unwrap_err().to_string();
        assert!(e.contains("no scheme"), "{e}");
        let e = DbUrl::parse("postgres:///db").unwrap_err().to_string();
        assert!(e.contains("names no host"), "{e}");
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("mysql://root:hunter2@db:3306/pm"),
            "mysql://root:***@db:3306/pm"
        );
        assert_eq!(redact("mysql://root@db/pm"), "mysql://root@db/pm");
        assert_eq!(
            redact("mysql://a:b:c@db/pm?unix_socket=/x"),
            "mysql://a:***@db/pm?unix_socket=/x"
        );
        assert_eq!(redact("sqlite:///tmp/a.db"), "sqlite:///tmp/a.db");
        assert_eq!(
            redact("postgres://pm:s3cret@db/pm?sslmode=require"),
            "postgres://pm:***@db/pm?sslmode=require"
        );
        assert_eq!(
            redact("postgresql:///pm?host=/run/postgresql&user=pm&password=s3cret&sslmode=disable"),
            "postgresql:///pm?host=/run/postgresql&user=pm&password=***&sslmode=disable"
        );
        assert_eq!(
            redact("postgresql://u:pa?ss@h/pm?password=s3cret"),
            "postgresql://u:***@h/pm?password=***"
        );
        assert_eq!(
            scrub(
                r#"connection to server at "h" (10.0.0.1), port 5432 failed: FATAL:  password authentication failed for user "u" (x)"#,
                "postgresql://u:pa%3Fss@h/pm?password=x"
            ),
            r#"connection to server at "h" (10.0.0.1), port 5432 failed: FATAL:  password authentication failed for user "u" (***)"#
        );
    }
}

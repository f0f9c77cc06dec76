//! `[channels.NAME]`: where alerts go besides mail, read from the configuration file (a
//! channel's name is the operator's, so its keys are `channels.NAME.FIELD`, checked against
//! [`FIELDS`]). Secrets (the URLs of webhook, Slack and Teams channels, the webhook's HMAC key,
//! the Matrix token) are never shown: `config show` prints a URL's host and `***` for the rest.

use crate::keyspec::KeySpec;
use crate::states::Niveau;
use anyhow::{anyhow, bail, Context, Result};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What carries a channel's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A signed JSON document POSTed to a URL.
    Webhook,
    /// Slack incoming webhooks (Mattermost and Rocket.Chat take the same).
    Slack,
    /// Microsoft Teams through a Power Automate Workflows webhook (an Adaptive Card).
    Teams,
    /// A Matrix room (Tchap, Element), through the client-server API.
    Matrix,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Webhook => "webhook",
            Kind::Slack => "slack",
            Kind::Teams => "teams",
            Kind::Matrix => "matrix",
        }
    }
}

/// How a channel's alerts are grouped into messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    /// One message per run of a check (split under the service's size limit).
    Run,
    /// One message per alert.
    Alert,
}

/// One configured channel.
#[derive(Clone)]
pub struct Channel {
    pub name: String,
    pub kind: Kind,
    /// Where messages are posted: the webhook's URL (a secret for Slack and Teams, whose URLs
    /// carry their key), or the Matrix homeserver's base URL.
    pub url: String,
    /// The webhook's HMAC-SHA256 key.
    pub secret: String,
    /// The Matrix room id (`!…:server`) and access token.
    pub room: String,
    pub token: String,
    /// Routing: empty lists take every check, level, project.
    pub checks: Vec<String>,
    pub levels: Vec<Niveau>,
    pub projects: Vec<String>,
    pub group: Group,
    pub tls_ca_file: Option<PathBuf>,
    pub timeout: std::time::Duration,
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("url", &self.shown_url())
            .field("checks", &self.checks)
            .field("levels", &self.levels)
            .field("projects", &self.projects)
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}

impl Channel {
    /// The channel's address as it may be shown: the host alone (a webhook URL's path is its
    /// key; a homeserver is no secret but is shown the same way).
    pub fn shown_url(&self) -> String {
        crate::db::url::host_only(&self.url)
    }

    /// The outbox lane of its rows (`sigov_outbox.channel`).
    pub fn lane(&self) -> &str {
        &self.name
    }

    /// Routing in words, for `channels list`.
    pub fn routing(&self) -> String {
        let list = |v: Vec<String>| {
            if v.is_empty() {
                "all".to_owned()
            } else {
                v.join(",")
            }
        };
        format!(
            "checks={} levels={} projects={} group={}",
            list(self.checks.clone()),
            list(self.levels.iter().map(|l| l.as_str().to_owned()).collect()),
            list(self.projects.clone()),
            match self.group {
                Group::Run => "run",
                Group::Alert => "alert",
            }
        )
    }
}

/// One key of every channel: `channels.NAME.<field>`.
pub struct Field {
    pub name: &'static str,
    pub default: &'static str,
    pub secret: bool,
    pub help: &'static str,
}

/// The keys a `[channels.NAME]` table may hold.
pub const FIELDS: &[Field] = &[
    Field { name: "kind", default: "\"webhook\"", secret: false,
        help: "what carries the messages: webhook (a signed JSON document), slack (Slack incoming webhook; Mattermost and Rocket.Chat take the same), teams (a Power Automate Workflows webhook: an Adaptive Card), matrix (a room, through the client-server API)" },
    Field { name: "url", default: "\"\"", secret: true,
        help: "webhook, slack, teams: the URL messages are POSTed to (https://; http:// only to a loopback address); a secret: Slack and Teams URLs carry their key" },
    Field { name: "url_file", default: "\"\"", secret: false,
        help: "file holding the URL (systemd LoadCredential=); used when url is empty" },
    Field { name: "secret", default: "\"\"", secret: true,
        help: "webhook: the HMAC-SHA256 key of the X-Sigov-Signature header (required)" },
    Field { name: "secret_file", default: "\"\"", secret: false,
        help: "file holding the webhook's key; used when secret is empty" },
    Field { name: "homeserver", default: "\"\"", secret: false,
        help: "matrix: the homeserver's base URL (https://matrix.example.org)" },
    Field { name: "room", default: "\"\"", secret: false,
        help: "matrix: the room id (!abc:example.org, or !abc alone in rooms of version 12 and later; Element: room settings, Advanced), which the token's user has joined" },
    Field { name: "token", default: "\"\"", secret: true,
        help: "matrix: the bot user's access token" },
    Field { name: "token_file", default: "\"\"", secret: false,
        help: "file holding the Matrix access token; used when token is empty" },
    Field { name: "checks", default: "[]", secret: false,
        help: "routing: the checks whose alerts this channel receives; [] every check" },
    Field { name: "levels", default: "[]", secret: false,
        help: "routing: the levels (INFO, WARNING, DANGER) it receives; [] every level (stage notifications have none: a list of levels leaves them out)" },
    Field { name: "projects", default: "[]", secret: false,
        help: "routing: the project ids it receives; [] every project" },
    Field { name: "group", default: "\"run\"", secret: false,
        help: "run: one message per check run (split under the service's size limit); alert: one message per alert" },
    Field { name: "tls_ca_file", default: "\"\"", secret: false,
        help: "PEM file of a CA trusted for the service's certificate, in addition to the system's" },
    Field { name: "timeout_secs", default: "10", secret: false,
        help: "seconds to wait to connect and for each answer; a message sent without an answer in time counts as handed over (tried at most once more)" },
];

/// The catalogue entries of the channel keys, for the man page, `config show` and the example
/// file: `channels.NAME.FIELD`.
pub static KEYS: std::sync::LazyLock<Vec<KeySpec>> = std::sync::LazyLock::new(|| {
    FIELDS
        .iter()
        .map(|f| KeySpec {
            key: Box::leak(format!("channels.NAME.{}", f.name).into_boxed_str()),
            env: None,
            default: f.default,
            secret: f.secret,
            help: f.help,
        })
        .collect()
});

/// The catalogue entry of a key `channels.NAME.FIELD`, whatever NAME.
pub fn spec(key: &str) -> Option<&'static KeySpec> {
    let rest = key.strip_prefix("channels.")?;
    let (_, field) = rest.split_once('.')?;
    KEYS.iter()
        .find(|k| k.key.strip_prefix("channels.NAME.") == Some(field))
}

/// A channel's name: what the outbox's `channel` column and the command line hold.
fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 64
        && n.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    kind: Kind,
    url: String,
    url_file: String,
    secret: String,
    secret_file: String,
    homeserver: String,
    room: String,
    token: String,
    token_file: String,
    checks: Vec<String>,
    levels: Vec<String>,
    projects: Vec<String>,
    group: Group,
    tls_ca_file: String,
    timeout_secs: u32,
}

/// A secret given inline or in a file (the file's first line, bounded read).
fn secret(inline: &str, file: &str, key: &str) -> Result<String> {
    if !inline.is_empty() || file.is_empty() {
        return Ok(inline.trim().to_owned());
    }
    let text = crate::fsutil::read_secret(std::path::Path::new(file), key)?;
    Ok(text.lines().next().unwrap_or_default().trim().to_owned())
}

/// An http(s) URL; plain http only to a loopback host (a secret travels in it or beside it).
fn check_url(url: &str, key: &str) -> Result<()> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") {
        return Ok(());
    }
    if let Some(rest) = lower.strip_prefix("http://") {
        let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = if host.starts_with('[') {
            host.split(']').next().unwrap_or("").trim_start_matches('[')
        } else {
            host.split(':').next().unwrap_or("")
        };
        if host == "localhost" || host == "::1" || host.starts_with("127.") {
            return Ok(());
        }
        bail!("{key}: plain http:// is allowed only to a loopback address; use https://");
    }
    bail!("{key}: expected an https:// URL")
}

/// The channels of the configuration: every `channels.NAME.FIELD` entry of `entries` (keys
/// already checked against [`FIELDS`]), with `origin` naming where a key's value came from;
/// `checks` the names a channel's `checks` may list.
pub fn from_entries<'a>(
    entries: impl Iterator<Item = (&'a str, &'a toml::Value)>,
    origin: &dyn Fn(&str) -> String,
    checks: &[&str],
) -> Result<Vec<Channel>> {
    let mut tables: BTreeMap<String, toml::Table> = BTreeMap::new();
    for (key, value) in entries {
        let Some(rest) = key.strip_prefix("channels.") else {
            continue;
        };
        let Some((name, field)) = rest.split_once('.') else {
            continue;
        };
        tables
            .entry(name.to_owned())
            .or_default()
            .insert(field.to_owned(), value.clone());
    }
    let mut out = Vec::new();
    for (name, given) in tables {
        if !valid_name(&name) {
            bail!(
                "{}: channel name `{name}`: use 1 to 64 lower-case letters, digits, - or _",
                origin(&format!("channels.{name}.kind"))
            );
        }
        if !given.contains_key("kind") {
            bail!(
                "{}: [channels.{name}] has no kind (webhook, slack, teams or matrix)",
                origin(&format!(
                    "channels.{name}.{}",
                    given.keys().next().map_or("", |k| k)
                ))
            );
        }
        let mut table = toml::Table::new();
        for f in FIELDS {
            let v = given.get(f.name).cloned().unwrap_or_else(|| {
                format!("v = {}", f.default)
                    .parse::<toml::Table>()
                    .ok()
                    .and_then(|mut t| t.remove("v"))
                    .unwrap_or(toml::Value::String(String::new()))
            });
            table.insert(f.name.to_owned(), v);
        }
        let doc: Doc =
            serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
                let path = e.path().to_string();
                let key = format!("channels.{name}.{path}");
                let secret = spec(&key).is_some_and(|k| k.secret);
                let msg = if secret {
                    "invalid value (not shown: a secret)".to_owned()
                } else {
                    crate::strings::one_line(&e.into_inner().to_string())
                };
                anyhow!("{}: `{key}`: {msg}", origin(&key))
            })?;
        out.push(
            channel(&name, doc, checks)
                .with_context(|| origin(&format!("channels.{name}.kind")))?,
        );
    }
    Ok(out)
}

fn channel(name: &str, d: Doc, known: &[&str]) -> Result<Channel> {
    let key = |f: &str| format!("channels.{name}.{f}");
    let mut url = secret(&d.url, &d.url_file, &key("url_file"))?;
    let secret_key = secret(&d.secret, &d.secret_file, &key("secret_file"))?;
    let token = secret(&d.token, &d.token_file, &key("token_file"))?;
    match d.kind {
        Kind::Webhook | Kind::Slack | Kind::Teams => {
            if url.is_empty() {
                bail!(
                    "{}: a {} channel needs url (or url_file)",
                    key("url"),
                    d.kind.as_str()
                );
            }
            check_url(&url, &key("url"))?;
            if d.kind == Kind::Webhook && secret_key.is_empty() {
                bail!(
                    "{}: a webhook channel needs secret (or secret_file): its receiver checks X-Sigov-Signature with it",
                    key("secret")
                );
            }
        }
        Kind::Matrix => {
            url = d.homeserver.trim().trim_end_matches('/').to_owned();
            if url.is_empty() {
                bail!("{}: a matrix channel needs homeserver", key("homeserver"));
            }
            check_url(&url, &key("homeserver"))?;
            let room = d.room.trim();
            // `!opaque:server`, or `!opaque` alone since room version 12.
            if !(room.starts_with('!') && room.len() > 1 && !room.contains(char::is_whitespace)) {
                bail!(
                    "{}: `{room}` is not a room id (!abc:example.org; an alias #… is not accepted: Element shows the id in the room's settings, Advanced)",
                    key("room")
                );
            }
            if token.is_empty() {
                bail!(
                    "{}: a matrix channel needs token (or token_file)",
                    key("token")
                );
            }
        }
    }
    for c in &d.checks {
        if !known.contains(&c.as_str()) {
            bail!(
                "{}: unknown check `{c}` (expected {})",
                key("checks"),
                known.join(", ")
            );
        }
    }
    let checks = d.checks.clone();
    let levels = d
        .levels
        .iter()
        .map(|l| {
            l.to_ascii_uppercase()
                .parse::<Niveau>()
                .map_err(|e| anyhow!("{}: {e}", key("levels")))
        })
        .collect::<Result<Vec<_>>>()?;
    if !(1..=300).contains(&d.timeout_secs) {
        bail!(
            "{}: {} is out of range 1..=300",
            key("timeout_secs"),
            d.timeout_secs
        );
    }
    let tls_ca_file = (!d.tls_ca_file.is_empty()).then(|| PathBuf::from(&d.tls_ca_file));
    Ok(Channel {
        name: name.to_owned(),
        kind: d.kind,
        url,
        secret: secret_key,
        room: d.room.trim().to_owned(),
        token,
        checks,
        levels,
        projects: d.projects.iter().map(|p| p.trim().to_owned()).collect(),
        group: d.group,
        tls_ca_file,
        timeout: std::time::Duration::from_secs(u64::from(d.timeout_secs)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> Result<Vec<Channel>> {
        let t: toml::Table = toml_text.parse().expect("toml");
        let mut flat = Vec::new();
        for (name, v) in t["channels"].as_table().expect("channels") {
            for (f, v) in v.as_table().expect("table") {
                flat.push((format!("channels.{name}.{f}"), v.clone()));
            }
        }
        from_entries(
            flat.iter().map(|(k, v)| (k.as_str(), v)),
            &|_| "file".to_owned(),
            &["budget", "deadlines"],
        )
    }

    #[test]
    fn channels_parse_and_refuse() {
        let c = parse(
            "[channels.equipe]\nkind = \"teams\"\nurl = \"https://x.example/workflows/abc?sig=KEY\"\nlevels = [\"danger\"]\nchecks = [\"budget\"]\n",
        )
        .expect("parse");
        assert_eq!(c[0].kind, Kind::Teams);
        assert_eq!(c[0].levels, vec![Niveau::Danger]);
        assert_eq!(c[0].group, Group::Run);
        assert!(!format!("{:?}", c[0]).contains("KEY"));
        let e = |t: &str| format!("{:#}", parse(t).expect_err("refused"));
        assert!(
            e("[channels.w]\nkind = \"webhook\"\nurl = \"https://h/x\"\n").contains("needs secret")
        );
        assert!(
            e("[channels.w]\nkind = \"slack\"\nurl = \"http://example.org/x\"\n")
                .contains("loopback")
        );
        assert!(e("[channels.m]\nkind = \"matrix\"\nhomeserver = \"https://m\"\nroom = \"#a:m\"\ntoken = \"t\"\n").contains("not a room id"));
        assert!(
            e("[channels.W]\nkind = \"slack\"\nurl = \"https://h/x\"\n").contains("channel name")
        );
        assert!(e("[channels.w]\nkind = \"fax\"\n").contains("unknown variant"));
        assert!(
            e("[channels.w]\nkind = \"slack\"\nurl = \"https://h/x\"\nchecks = [\"nope\"]\n")
                .contains("nope")
        );
        assert!(e("[channels.w]\nurl = \"https://h/x\"\n").contains("has no kind"));
        assert!(parse("[channels.w]\nkind = \"slack\"\nurl = \"http://127.0.0.1:9/x\"\n").is_ok());
    }
}

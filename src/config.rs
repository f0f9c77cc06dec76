//! One typed configuration: defaults < TOML file < `SIGOV_*` environment < flags. Every value
//! remembers where it came from; secrets are redacted whenever a value is shown.

use anyhow::{anyhow, bail, Context, Result};
use chrono_tz::Tz;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::checks::CheckName;
pub use crate::mail::Settings as Mail;
pub use crate::ops::health::Settings as Health;
pub use crate::ops::purge::Settings as Purge;
pub use crate::rules::{Profile, Rules};

/// The first `SIGOV_*` (or `RUST_LOG`) variable whose value is not UTF-8, by name.
pub fn non_utf8_variable(
    vars: impl Iterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
) -> Option<String> {
    vars.filter(|(_, v)| v.to_str().is_none())
        .map(|(k, _)| k.to_string_lossy().into_owned())
        .find(|k| k.starts_with("SIGOV_") || k == "RUST_LOG")
}

/// The environment variables that are also global flags (clap reads them for `--help` and the
/// flag's value; the layering reads them as the `SIGOV_*` layer): declared once, here.
pub mod env {
    pub const CONFIG: &str = "SIGOV_CONFIG";
    pub const DATABASE_URL: &str = "SIGOV_DATABASE_URL";
    pub const PROFILE: &str = "SIGOV_PROFILE";
    pub const FORMAT: &str = "SIGOV_FORMAT";
    pub const METRICS_FILE: &str = "SIGOV_METRICS_FILE";
}

/// Where the file is looked for when neither `--config` nor `SIGOV_CONFIG` names one.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/sigov/sigov.toml";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Default,
    File,
    Env,
    Flag,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Default => "default",
            Source::File => "file",
            Source::Env => "env",
            Source::Flag => "flag",
        })
    }
}

/// One known configuration key.
pub struct KeySpec {
    pub key: &'static str,
    pub env: Option<&'static str>,
    pub default: &'static str,
    pub secret: bool,
    pub help: &'static str,
}

/// The reference's checks as a TOML list: the default of `checks.enabled` and `health.checks`.
static REFERENCE_CHECKS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let names: Vec<String> = CheckName::reference()
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect();
    format!("[{}]", names.join(", "))
});

/// Every key sigov reads. `default` is TOML syntax.
pub static KEYS: std::sync::LazyLock<Vec<KeySpec>> = std::sync::LazyLock::new(|| {
    vec![
    KeySpec { key: "database.url", env: Some(env::DATABASE_URL), default: "\"\"", secret: true,
        help: "database URL: mysql://user:pass@host:3306/db (socket: ?unix_socket=/path) or sqlite:///path/file.db" },
    KeySpec { key: "database.url_file", env: Some("SIGOV_DATABASE_URL_FILE"), default: "\"\"", secret: false,
        help: "file holding the database URL (systemd LoadCredential=); used when database.url is empty" },
    KeySpec { key: "database.connect_timeout_secs", env: Some("SIGOV_DB_CONNECT_TIMEOUT"), default: "10", secret: false,
        help: "MySQL: a connection not established within this many seconds ends the command (exit 1, `health --nagios` CRITICAL)" },
    KeySpec { key: "database.statement_timeout_secs", env: Some("SIGOV_DB_STATEMENT_TIMEOUT"), default: "300", secret: false,
        help: "MySQL: a statement the server has not answered within this many seconds ends the command (a server or proxy that accepts and never answers); the heaviest statement at 50,000 projects takes a few seconds" },
    KeySpec { key: "rules.profile", env: Some(env::PROFILE), default: "\"recommended\"", secret: false,
        help: "rule profile: reference (the Django commands, row for row) or recommended" },
    KeySpec { key: "rules.timezone", env: Some("SIGOV_TIMEZONE"), default: "\"Europe/Paris\"", secret: false,
        help: "business time zone: the recommended profile's today, and the day of stored timestamps for the daily de-duplication" },
    KeySpec { key: "recommended.business_date", env: None, default: "true", secret: false,
        help: "(recommended §3.2.1) today is the date in rules.timezone; false: the UTC date, as the reference" },
    KeySpec { key: "recommended.milestone_catch_up", env: None, default: "true", secret: false,
        help: "(recommended §3.2.2) a missed milestone fires on the next run, once per (entity, due date, milestone, recipient); a moved due date re-arms" },
    KeySpec { key: "recommended.deadline_day_alert", env: None, default: "true", secret: false,
        help: "(recommended §3.2.2) add the J-0 milestone (ECHEANCE_J0, DANGER) on the deadline day" },
    KeySpec { key: "recommended.repeat_every_days", env: None, default: "1", secret: false,
        help: "(recommended §3.2.3) overdue alerts repeat at most once per this many business days per (entity, recipient)" },
    KeySpec { key: "recommended.skip_inactive_recipients", env: None, default: "true", secret: false,
        help: "(recommended §3.2.4) accounts with is_active = 0 or statut_actif = 0 receive nothing" },
    KeySpec { key: "recommended.module_tasks", env: None, default: "true", secret: false,
        help: "(recommended §3.2.5) overdue module tasks (core_tachemodule: A_FAIRE, EN_COURS, EN_PAUSE) alert like stage tasks" },
    KeySpec { key: "recommended.skip_closed_project_tasks", env: None, default: "true", secret: false,
        help: "(recommended §3.2.5) tasks of TERMINE, ARCHIVE or SUSPENDU projects do not alert" },
    KeySpec { key: "recommended.budget_thresholds", env: None, default: "true", secret: false,
        help: "(recommended §3.2.6) alert once per (project, threshold, planned budget) when consumption reaches budget.thresholds" },
    KeySpec { key: "recommended.contract_active_superusers", env: None, default: "true", secret: false,
        help: "(recommended §3.2.7) the contract check's \"administrateur\" recipients are active superusers only" },
    KeySpec { key: "recommended.contract_expired_lookback", env: None, default: "true", secret: false,
        help: "(recommended §3.2.7) an expired contract alerts once per (contract, end date), only within contracts.expired_lookback_days" },
    KeySpec { key: "recommended.contract_renewal_covers", env: None, default: "true", secret: false,
        help: "(recommended §3.2.7) a contract followed by a newer contract of the same project and type is neither expiring nor expired" },
    KeySpec { key: "recommended.stage_labels", env: None, default: "true", secret: false,
        help: "(recommended §3.2.8) stage-delay titles and messages name the stage type's label (Développement), not its code" },
    KeySpec { key: "deadlines.milestones", env: None, default: "[7, 3, 1]", secret: false,
        help: "(recommended) days before the project deadline that alert; 7, 3 and 1 keep the reference texts and types" },
    KeySpec { key: "deadlines.team_milestones", env: None, default: "[7]", secret: false,
        help: "(recommended) milestones whose alert also goes to the whole project team" },
    KeySpec { key: "budget.thresholds", env: None, default: "[75, 90]", secret: false,
        help: "(recommended) consumption percentages that alert once: the highest is BUDGET_CRITIQUE, the others BUDGET_ATTENTION (WARNING)" },
    KeySpec { key: "contracts.milestones", env: None, default: "[30]", secret: false,
        help: "(recommended) days before a contract's end that alert (CONTRAT_EXPIRATION), with catch-up" },
    KeySpec { key: "contracts.expired_lookback_days", env: None, default: "30", secret: false,
        help: "(recommended) an expired contract alerts only this many days after its end at most" },
    KeySpec { key: "mail.transport", env: Some("SIGOV_MAIL_TRANSPORT"), default: "\"\"", secret: false,
        help: "where mail goes: smtp://host:587 (STARTTLS), smtps://host:465 (implicit TLS), smtp://127.0.0.1:25?tls=none (loopback only), sendmail, sendmail:///path, file:///dir (.eml files); empty: mail waits in the outbox" },
    KeySpec { key: "mail.from", env: Some("SIGOV_MAIL_FROM"), default: "\"SI-Gouvernance <noreply@si-gouvernance.com>\"", secret: false,
        help: "sender (From and envelope) of every mail" },
    KeySpec { key: "mail.smtp_user", env: Some("SIGOV_SMTP_USER"), default: "\"\"", secret: false,
        help: "SMTP AUTH user; empty: no AUTH" },
    KeySpec { key: "mail.smtp_password", env: Some("SIGOV_SMTP_PASSWORD"), default: "\"\"", secret: true,
        help: "SMTP AUTH password (prefer the environment or mail.smtp_password_file)" },
    KeySpec { key: "mail.smtp_password_file", env: Some("SIGOV_SMTP_PASSWORD_FILE"), default: "\"\"", secret: false,
        help: "file holding the SMTP password (systemd LoadCredential=); used when mail.smtp_password is empty" },
    KeySpec { key: "mail.tls_ca_file", env: Some("SIGOV_SMTP_CA_FILE"), default: "\"\"", secret: false,
        help: "PEM file of a CA trusted for the relay's certificate, in addition to the system's" },
    KeySpec { key: "mail.timeout_secs", env: Some("SIGOV_SMTP_TIMEOUT"), default: "30", secret: false,
        help: "seconds to wait for the relay to connect or answer a command" },
    KeySpec { key: "mail.max_attempts", env: None, default: "8", secret: false,
        help: "a mail the relay refuses for now (4xx) is retried with exponential backoff; after this many attempts it is dead" },
    KeySpec { key: "mail.retry_base_secs", env: None, default: "300", secret: false,
        help: "first retry delay; it doubles at each attempt, up to 6 hours" },
    KeySpec { key: "mail.sending_lease_secs", env: None, default: "900", secret: false,
        help: "a mail claimed by a sender on another host that died is due again after this many seconds (a killed sender on this host: at once); a live delivery renews its claims at a third of it" },
    KeySpec { key: "mail.mode", env: Some("SIGOV_MAIL_MODE"), default: "\"per_alert\"", secret: false,
        help: "per_alert: one mail per alert (the reference); digest: one mail per recipient per delivery" },
    KeySpec { key: "mail.site_name", env: None, default: "\"SI-Gouvernance\"", secret: false,
        help: "site name in subjects and mail bodies" },
    KeySpec { key: "mail.base_url", env: Some("SIGOV_BASE_URL"), default: "\"http://localhost:8000\"", secret: false,
        help: "web application address, for the links and the logo in mails" },
    KeySpec { key: "mail.templates_dir", env: Some("SIGOV_MAIL_TEMPLATES"), default: "\"\"", secret: false,
        help: "directory whose files override the embedded mail templates, file by file (same names)" },
    KeySpec { key: "checks.enabled", env: Some("SIGOV_CHECKS"), default: &REFERENCE_CHECKS, secret: false,
        help: "the checks `sigov check all` runs, in the registry's order (the scheduling files start each check by name: add an entry for one enabled here); task-reminders is off by default, and the reference profile runs only the reference's five" },
    KeySpec { key: "task_reminders.milestones", env: None, default: "[1, 0]", secret: false,
        help: "(recommended) days before an open task's due date that remind its assignee (1: due tomorrow, 0: due today), once per (task, due date, milestone), with catch-up; check task-reminders" },
    KeySpec { key: "check.page_size", env: None, default: "2000", secret: false,
        help: "candidates evaluated per page: a check holds one page (with what was recorded for its entities) in memory at a time, whatever the data size" },
    KeySpec { key: "lock.lease_secs", env: None, default: "600", secret: false,
        help: "a check holds its lock (shared by every host on the database) for this long, renewed as it progresses; a killed run blocks the next one at most this long (on the same host: not at all)" },
    KeySpec { key: "health.checks", env: None, default: &REFERENCE_CHECKS, secret: false,
        help: "the checks `sigov health` expects to succeed regularly; not set: checks.enabled" },
    KeySpec { key: "health.max_age_minutes", env: None, default: "540", secret: false,
        help: "a check whose last success is older is WARNING (default 9 h: two 4-hourly runs missed)" },
    KeySpec { key: "health.critical_age_minutes", env: None, default: "1500", secret: false,
        help: "a check whose last success is older is CRITICAL (default 25 h)" },
    KeySpec { key: "health.mail_delay_minutes", env: None, default: "60", secret: false,
        help: "pending mail older than this is WARNING (the relay is unreachable or nothing delivers)" },
    KeySpec { key: "metrics.file", env: Some(env::METRICS_FILE), default: "\"\"", secret: false,
        help: "after each check and mail flush, write Prometheus metrics here atomically (node_exporter textfile collector: a .prom file in its directory); empty: none" },
    KeySpec { key: "ping.url", env: Some("SIGOV_PING_URL"), default: "\"\"", secret: true,
        help: "healthchecks-style URL pinged at URL/start when a check command begins and URL/EXIT_CODE when it ends ({check} is replaced by the check's name, `all` for check all); empty: no pings" },
    KeySpec { key: "ping.timeout_secs", env: None, default: "5", secret: false,
        help: "a ping waits at most this long; a failed ping is logged and never fails the run" },
    KeySpec { key: "purge.runs_days", env: None, default: "180", secret: false,
        help: "`sigov purge` deletes finished runs started more than this many days ago; 0 keeps them" },
    KeySpec { key: "purge.sent_mail_days", env: None, default: "90", secret: false,
        help: "`sigov purge` deletes delivered mail (outbox rows `sent`) older than this; 0 keeps it" },
    KeySpec { key: "purge.dead_mail_days", env: None, default: "365", secret: false,
        help: "`sigov purge` deletes dead mail older than this; 0 keeps it" },
    KeySpec { key: "purge.ledger_days", env: None, default: "0", secret: false,
        help: "`sigov purge` deletes ledger keys of business dates older than this (at least 400; budget keys are always kept); 0 keeps them" },
    KeySpec { key: "purge.read_alerts_days", env: None, default: "0", secret: false,
        help: "`sigov purge` deletes READ alerts and stage notifications older than this from the web application's tables; 0 (default) never touches them" },
    KeySpec { key: "output.format", env: Some(env::FORMAT), default: "\"text\"", secret: false,
        help: "output of commands that print data: text or json" },
]
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Text,
    Json,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
        }
    }

    pub fn parse(s: &str) -> Result<Format> {
        match s.trim() {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            other => bail!("unknown format `{other}` (expected text or json)"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub value: toml::Value,
    pub source: Source,
}

/// Raw layered values, before typing.
#[derive(Debug, Clone, Default)]
pub struct Layers {
    pub entries: BTreeMap<&'static str, Entry>,
    pub file: Option<PathBuf>,
}

/// Values given on the command line (global flags).
#[derive(Debug, Clone, Default)]
pub struct FlagValues {
    pub config: Option<(PathBuf, Source)>,
    pub database_url: Option<(String, Source)>,
    pub profile: Option<(String, Source)>,
    pub format: Option<(String, Source)>,
    pub metrics_file: Option<(String, Source)>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub layers: Layers,
    /// What `check all` runs (`checks.enabled`, less what the profile does not run), in the
    /// registry's order.
    pub checks_enabled: Vec<CheckName>,
    pub database_url: String,
    pub rules: Rules,
    pub format: Format,
    pub mail: Mail,
    /// Lease of a check's lock, in seconds.
    pub lock_lease_secs: u32,
    /// Candidates per page.
    pub page_size: u32,
    pub health: Health,
    pub purge: Purge,
    /// `metrics.file` (or `--metrics-file`); `None`: no metrics.
    pub metrics_file: Option<PathBuf>,
    pub ping_url: String,
    pub ping_timeout: std::time::Duration,
    /// Time limits on the database (MySQL).
    pub db_limits: crate::db::watchdog::Limits,
}

fn spec(key: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|k| k.key == key)
}

fn parse_default(k: &KeySpec) -> toml::Value {
    // The table is compiled in and covered by a unit test; a bad literal falls back to a string.
    let doc = format!("v = {}", k.default);
    doc.parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(k.default.to_owned()))
}

/// Reads a string from the environment as the default's TOML type.
fn env_value(k: &KeySpec, raw: &str) -> Result<toml::Value> {
    Ok(match parse_default(k) {
        toml::Value::String(_) => toml::Value::String(raw.to_owned()),
        // A list of names may be given comma-separated: SIGOV_CHECKS=deadlines,task-reminders.
        toml::Value::Array(_) if !raw.trim_start().starts_with('[') => toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| toml::Value::String(v.to_owned()))
                .collect(),
        ),
        _ => {
            let doc = format!("v = {raw}");
            doc.parse::<toml::Table>()
                .ok()
                .and_then(|mut t| t.remove("v"))
                .ok_or_else(|| {
                    anyhow!(
                        "{}: invalid value `{raw}` for {}",
                        k.env.unwrap_or(""),
                        k.key
                    )
                })?
        }
    })
}

fn flatten(prefix: &str, t: &toml::Table, out: &mut Vec<(String, toml::Value)>) {
    for (k, v) in t {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(sub) => flatten(&key, sub, out),
            other => out.push((key, other.clone())),
        }
    }
}

impl Layers {
    /// Builds the layers from the defaults, the file, the environment and the flags.
    pub fn load(flags: &FlagValues, env: &dyn Fn(&str) -> Option<String>) -> Result<Layers> {
        let mut layers = Layers::default();
        for k in KEYS.iter() {
            layers.entries.insert(
                k.key,
                Entry {
                    value: parse_default(k),
                    source: Source::Default,
                },
            );
        }
        let (path, explicit) = match &flags.config {
            Some((p, _)) => (Some(p.clone()), true),
            None => (Some(PathBuf::from(DEFAULT_CONFIG_PATH)), false),
        };
        if let Some(path) = path {
            if explicit || path.exists() {
                layers.read_file(&path)?;
            }
        }
        for k in KEYS.iter() {
            if let Some(var) = k.env {
                if let Some(raw) = env(var).filter(|v| !v.is_empty()) {
                    let value = env_value(k, &raw)?;
                    layers.entries.insert(
                        k.key,
                        Entry {
                            value,
                            source: Source::Env,
                        },
                    );
                }
            }
        }
        let mut set_flag = |key: &'static str, v: &Option<(String, Source)>| {
            if let Some((val, src)) = v {
                layers.entries.insert(
                    key,
                    Entry {
                        value: toml::Value::String(val.clone()),
                        source: *src,
                    },
                );
            }
        };
        set_flag("database.url", &flags.database_url);
        set_flag("rules.profile", &flags.profile);
        set_flag("output.format", &flags.format);
        set_flag("metrics.file", &flags.metrics_file);
        Ok(layers)
    }

    fn read_file(&mut self, path: &Path) -> Result<()> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read configuration file `{}`", path.display()))?;
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            // The message and the line only: toml's own text quotes the line, which may hold a
            // secret.
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                .unwrap_or(0);
            anyhow!(
                "configuration file `{}`, line {line}: {}",
                path.display(),
                crate::strings::one_line(e.message())
            )
        })?;
        let mut flat = Vec::new();
        flatten("", &table, &mut flat);
        let holds_secret = flat.iter().any(|(key, v)| {
            spec(key).is_some_and(|k| k.secret) && v.as_str().is_some_and(|s| !s.is_empty())
        });
        if holds_secret {
            use std::os::unix::fs::PermissionsExt;
            if std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o004 != 0) {
                log::warn!(
                    "configuration file `{}` holds a secret and every user can read it: chmod 640 it (or keep secrets in the environment or a *_file)",
                    path.display()
                );
            }
        }
        for (key, value) in flat {
            let Some(k) = spec(&key) else {
                bail!(
                    "configuration file `{}`: unknown key `{key}`",
                    path.display()
                );
            };
            let expected = parse_default(k);
            if std::mem::discriminant(&expected) != std::mem::discriminant(&value) {
                bail!(
                    "configuration file `{}`: `{key}` must be {}, not {}",
                    path.display(),
                    expected.type_str(),
                    value.type_str()
                );
            }
            self.entries.insert(
                k.key,
                Entry {
                    value,
                    source: Source::File,
                },
            );
        }
        self.file = Some(path.to_path_buf());
        Ok(())
    }

    fn get(&self, key: &str) -> Result<&Entry> {
        self.entries
            .get(key)
            .ok_or_else(|| anyhow!("configuration key `{key}` missing"))
    }

    fn string(&self, key: &str) -> Result<String> {
        match &self.get(key)?.value {
            toml::Value::String(s) => Ok(s.clone()),
            other => bail!("`{key}` must be a string, not {}", other.type_str()),
        }
    }

    fn boolean(&self, key: &str) -> Result<bool> {
        match &self.get(key)?.value {
            toml::Value::Boolean(b) => Ok(*b),
            other => bail!("`{key}` must be true or false, not {}", other.type_str()),
        }
    }

    fn uint(&self, key: &str, min: i64, max: i64) -> Result<u32> {
        let e = self.get(key)?;
        match &e.value {
            toml::Value::Integer(i) if (min..=max).contains(i) => Ok(*i as u32),
            toml::Value::Integer(i) => {
                bail!("`{key}` = {i} ({}) is out of range {min}..={max}", e.source)
            }
            other => bail!("`{key}` must be an integer, not {}", other.type_str()),
        }
    }

    fn str_list(&self, key: &str) -> Result<Vec<String>> {
        let toml::Value::Array(items) = &self.get(key)?.value else {
            bail!("`{key}` must be a list of strings");
        };
        items
            .iter()
            .map(|it| match it {
                toml::Value::String(s) => Ok(s.clone()),
                other => bail!("`{key}`: `{other}` is not a string"),
            })
            .collect()
    }

    fn uint_list(&self, key: &str, max: i64) -> Result<Vec<u32>> {
        let e = self.get(key)?;
        let toml::Value::Array(items) = &e.value else {
            bail!("`{key}` must be a list of integers");
        };
        let mut out = Vec::new();
        for it in items {
            match it {
                toml::Value::Integer(i) if (0..=max).contains(i) => out.push(*i as u32),
                other => bail!("`{key}`: `{other}` is not an integer in 0..={max}"),
            }
        }
        out.sort_unstable_by(|a, b| b.cmp(a));
        out.dedup();
        Ok(out)
    }

    /// Every key with its effective value, secrets redacted.
    pub fn shown(&self) -> Vec<(&'static str, String, Source)> {
        KEYS.iter()
            .filter_map(|k| {
                let e = self.entries.get(k.key)?;
                let v = match &e.value {
                    // A ping URL's path is its key: only the scheme and host are shown.
                    toml::Value::String(s) if k.key == "ping.url" && !s.is_empty() => {
                        toml::Value::String(crate::db::url::host_only(s)).to_string()
                    }
                    toml::Value::String(s) if k.secret && !s.is_empty() => {
                        toml::Value::String(crate::db::url::redact(s)).to_string()
                    }
                    other => other.to_string(),
                };
                Some((k.key, v, e.source))
            })
            .collect()
    }
}

impl Config {
    pub fn from_layers(layers: Layers) -> Result<Config> {
        let mut database_url = layers.string("database.url")?;
        if database_url.is_empty() {
            let file = layers.string("database.url_file")?;
            if !file.is_empty() {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read database.url_file `{file}`"))?;
                let lines: Vec<&str> = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect();
                anyhow::ensure!(
                    lines.len() == 1,
                    "database.url_file `{file}` must hold the URL alone on one line ({} non-empty lines)",
                    lines.len()
                );
                database_url = lines[0].to_owned();
            }
        }
        let profile = Profile::parse(&layers.string("rules.profile")?)?;
        let tz_name = layers.string("rules.timezone")?;
        let tz: Tz = tz_name
            .parse()
            .map_err(|_| anyhow!("rules.timezone: unknown time zone `{tz_name}`"))?;
        let format = Format::parse(&layers.string("output.format")?)?;
        let recommended = Rules {
            profile: Profile::Recommended,
            tz,
            utc_today: !layers.boolean("recommended.business_date")?,
            catch_up: layers.boolean("recommended.milestone_catch_up")?,
            keyed_by_due_date: true,
            milestones: {
                let mut m = layers.uint_list("deadlines.milestones", 365)?;
                m.retain(|d| *d > 0);
                if layers.boolean("recommended.deadline_day_alert")? {
                    m.push(0);
                }
                if m.is_empty() {
                    bail!("deadlines.milestones: at least one milestone is needed");
                }
                m
            },
            team_milestones: layers.uint_list("deadlines.team_milestones", 365)?,
            repeat_every_days: layers.uint("recommended.repeat_every_days", 1, 366)?,
            skip_inactive: layers.boolean("recommended.skip_inactive_recipients")?,
            stage_labels: layers.boolean("recommended.stage_labels")?,
            module_tasks: layers.boolean("recommended.module_tasks")?,
            skip_closed_project_tasks: layers.boolean("recommended.skip_closed_project_tasks")?,
            budget_thresholds: if layers.boolean("recommended.budget_thresholds")? {
                let mut t = layers.uint_list("budget.thresholds", 99)?;
                if t.contains(&0) {
                    bail!("budget.thresholds: percentages must be between 1 and 99 (above 100 % is BUDGET_DEPASSE)");
                }
                t.sort_unstable();
                t.dedup();
                t
            } else {
                Vec::new()
            },
            contract_milestones: {
                let mut m = layers.uint_list("contracts.milestones", 365)?;
                m.sort_unstable_by(|a, b| b.cmp(a));
                m.dedup();
                m
            },
            contract_active_superusers: layers.boolean("recommended.contract_active_superusers")?,
            expired_lookback_days: if layers.boolean("recommended.contract_expired_lookback")? {
                Some(layers.uint("contracts.expired_lookback_days", 1, 3660)?)
            } else {
                None
            },
            renewal_covers: layers.boolean("recommended.contract_renewal_covers")?,
            task_reminder_milestones: {
                let mut m = layers.uint_list("task_reminders.milestones", 30)?;
                m.sort_unstable_by(|a, b| b.cmp(a));
                m.dedup();
                if m.is_empty() {
                    bail!("task_reminders.milestones: at least one milestone is needed (0: the due day)");
                }
                m
            },
            beyond_reference: true,
        };
        let rules = match profile {
            Profile::Recommended => recommended,
            Profile::Reference => Rules::reference(tz),
        };
        let mail = Mail::from_layers(&layers, tz)?;
        let lock_lease_secs = layers.uint("lock.lease_secs", 30, 86_400)?;
        let page_size = layers.uint("check.page_size", 1, 100_000)?;
        let checks_enabled = enabled_checks(&layers, &rules)?;
        let health_checks = match layers.get("health.checks")?.source {
            Source::Default => checks_enabled.clone(),
            _ => parse_checks(&layers.str_list("health.checks")?).context("health.checks")?,
        };
        let health = Health {
            checks: health_checks,
            max_age_minutes: layers.uint("health.max_age_minutes", 1, 527_040)?,
            critical_age_minutes: layers.uint("health.critical_age_minutes", 1, 527_040)?,
            mail_delay_minutes: layers.uint("health.mail_delay_minutes", 1, 527_040)?,
        };
        if health.critical_age_minutes < health.max_age_minutes {
            bail!("health.critical_age_minutes must not be below health.max_age_minutes");
        }
        let days = |k: &str| layers.uint(k, 0, 36_600);
        let purge = Purge {
            runs_days: days("purge.runs_days")?,
            sent_mail_days: days("purge.sent_mail_days")?,
            dead_mail_days: days("purge.dead_mail_days")?,
            ledger_days: days("purge.ledger_days")?,
            read_alerts_days: days("purge.read_alerts_days")?,
        };
        let min_ledger = crate::ops::purge::MIN_LEDGER_DAYS;
        if purge.ledger_days > 0 && purge.ledger_days < min_ledger {
            bail!(
                "purge.ledger_days = {}: at least {min_ledger} (a milestone can be 365 days before its due date; a forgotten key would alert again), or 0 to keep",
                purge.ledger_days
            );
        }
        let metrics_file = Some(layers.string("metrics.file")?)
            .filter(|f| !f.is_empty())
            .map(PathBuf::from);
        let ping_url = layers.string("ping.url")?;
        let ping_timeout =
            std::time::Duration::from_secs(u64::from(layers.uint("ping.timeout_secs", 1, 300)?));
        let secs = |k: &str| -> Result<std::time::Duration> {
            Ok(std::time::Duration::from_secs(u64::from(
                layers.uint(k, 1, 86_400)?,
            )))
        };
        let db_limits = crate::db::watchdog::Limits {
            connect: secs("database.connect_timeout_secs")?,
            statement: secs("database.statement_timeout_secs")?,
        };
        Ok(Config {
            checks_enabled,
            db_limits,
            layers,
            database_url,
            rules,
            format,
            mail,
            lock_lease_secs,
            page_size,
            health,
            purge,
            metrics_file,
            ping_url,
            ping_timeout,
        })
    }

    /// Overrides one key (for example `sigov demo` pointing mail at its directory) as if given
    /// by a flag, keeping every derived value consistent.
    pub fn with_value(&self, key: &'static str, value: &str) -> Result<Config> {
        let mut layers = self.layers.clone();
        layers.entries.insert(
            key,
            Entry {
                value: toml::Value::String(value.to_owned()),
                source: Source::Flag,
            },
        );
        Config::from_layers(layers)
    }

    /// What a check run needs of this configuration.
    pub fn checks(&self) -> crate::checks::Settings<'_> {
        crate::checks::Settings {
            rules: &self.rules,
            page_size: self.page_size,
            lock_lease_secs: self.lock_lease_secs,
            mail: &self.mail,
            enabled: &self.checks_enabled,
        }
    }

    pub fn require_database_url(&self) -> Result<&str> {
        if self.database_url.is_empty() {
            bail!(
                "no database URL: set SIGOV_DATABASE_URL, --database-url or database.url (accepted: {})",
                crate::db::url::ACCEPTED
            );
        }
        Ok(&self.database_url)
    }
}

/// Check names from configuration; an unknown one is an error naming the known ones.
fn parse_checks(names: &[String]) -> Result<Vec<CheckName>> {
    names
        .iter()
        .map(|n| n.trim().parse::<CheckName>())
        .collect()
}

/// `checks.enabled` in the registry's order, without duplicates; the checks the reference did
/// not have are left out (and said so) when the profile runs only the reference's.
fn enabled_checks(layers: &Layers, rules: &Rules) -> Result<Vec<CheckName>> {
    let listed = parse_checks(&layers.str_list("checks.enabled")?).context("checks.enabled")?;
    if listed.is_empty() {
        bail!("checks.enabled: at least one check is needed");
    }
    let mut out = Vec::new();
    for c in CheckName::ALL {
        if !listed.contains(c) {
            continue;
        }
        if !rules.beyond_reference && !c.check().in_reference() {
            log::info!("checks.enabled: {c} is not one of the reference's checks; the reference profile does not run it");
            continue;
        }
        out.push(*c);
    }
    Ok(out)
}

impl Mail {
    fn from_layers(layers: &Layers, tz: Tz) -> Result<Mail> {
        let opt_path = |key: &str| -> Result<Option<PathBuf>> {
            let v = layers.string(key)?;
            Ok((!v.is_empty()).then(|| PathBuf::from(v)))
        };
        let mut smtp_password = layers.string("mail.smtp_password")?;
        if smtp_password.is_empty() {
            if let Some(f) = opt_path("mail.smtp_password_file")? {
                smtp_password = std::fs::read_to_string(&f)
                    .with_context(|| {
                        format!("cannot read mail.smtp_password_file `{}`", f.display())
                    })?
                    .trim_end_matches(['\r', '\n'])
                    .to_owned();
            }
        }
        let digest = match layers.string("mail.mode")?.trim() {
            "per_alert" => false,
            "digest" => true,
            other => bail!("mail.mode: unknown mode `{other}` (expected per_alert or digest)"),
        };
        let base_url = layers
            .string("mail.base_url")?
            .trim_end_matches('/')
            .to_owned();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            bail!("mail.base_url: `{base_url}` must start with http:// or https://");
        }
        Ok(Mail {
            transport: layers.string("mail.transport")?.trim().to_owned(),
            from: layers.string("mail.from")?,
            smtp_user: layers.string("mail.smtp_user")?,
            smtp_password,
            tls_ca_file: opt_path("mail.tls_ca_file")?,
            timeout: std::time::Duration::from_secs(u64::from(layers.uint(
                "mail.timeout_secs",
                1,
                3600,
            )?)),
            max_attempts: layers.uint("mail.max_attempts", 1, 100)?,
            retry_base_secs: layers.uint("mail.retry_base_secs", 1, 86_400)?,
            sending_lease_secs: layers.uint("mail.sending_lease_secs", 3, 86_400)?,
            digest,
            site_name: layers.string("mail.site_name")?,
            base_url,
            templates_dir: opt_path("mail.templates_dir")?,
            tz,
            labels: &crate::checks::Registry,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn defaults_parse() {
        for k in KEYS.iter() {
            let doc = format!("v = {}", k.default);
            assert!(doc.parse::<toml::Table>().is_ok(), "{}", k.key);
        }
        let flags = FlagValues {
            config: None,
            ..Default::default()
        };
        let l = Layers::load(&flags, &no_env).unwrap();
        let c = Config::from_layers(l).unwrap();
        assert_eq!(c.rules.profile, Profile::Recommended);
        assert_eq!(c.rules.milestones, vec![7, 3, 1, 0]);
    }

    #[test]
    fn precedence_file_env_flag() {
        let dir = std::env::temp_dir().join(format!("sigov-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("c.toml");
        std::fs::write(&f, "[rules]\nprofile = \"reference\"\ntimezone = \"UTC\"\n[database]\nurl = \"sqlite:///f.db\"\n").unwrap();
        let env = |k: &str| (k == "SIGOV_DATABASE_URL").then(|| "mysql://u:pw@h/db".to_owned());
        let flags = FlagValues {
            config: Some((f.clone(), Source::Flag)),
            format: Some(("json".into(), Source::Flag)),
            ..Default::default()
        };
        let l = Layers::load(&flags, &env).unwrap();
        let shown = l.shown();
        let url = shown.iter().find(|s| s.0 == "database.url").unwrap();
        assert_eq!(url.1, "\"mysql://u:***@h/db\"");
        assert_eq!(url.2, Source::Env);
        let c = Config::from_layers(l).unwrap();
        assert_eq!(c.rules.profile, Profile::Reference);
        assert_eq!(c.rules.tz, chrono_tz::UTC);
        assert_eq!(c.format, Format::Json);
        std::fs::write(&f, "[rules]\nprofil = \"reference\"\n").unwrap();
        let e = Layers::load(&flags, &no_env).unwrap_err().to_string();
        assert!(e.contains("unknown key `rules.profil`"), "{e}");
        std::fs::write(&f, "[recommended]\nrepeat_every_days = \"2\"\n").unwrap();
        let e = Layers::load(&flags, &no_env).unwrap_err().to_string();
        assert!(e.contains("must be integer"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

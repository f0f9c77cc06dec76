//! One typed configuration: defaults < TOML file < `SIGOV_*` environment < flags. Every value
//! remembers where it came from; secrets are redacted whenever a value is shown.
//!
//! - `keys`: the catalogue (environment names, defaults, secrets, help), declared once;
//! - `layers`: the values of every layer with their source, merged;
//! - `document`: the serde structs the merged values must deserialize into (the schema);
//! - here: ranges and rules between keys, and the settings each module is given.
//!
//! sigov layers by hand rather than through figment: the layering is ~150 lines over `toml`,
//! the environment layer has to parse a variable as its key's type (`SIGOV_CHECKS=a,b` as a
//! list) and the source of each value has to be shown per key and named in errors, which
//! figment's providers and metadata would need as much code to get.

mod document;
pub mod format;
mod keys;
mod layers;

use anyhow::{anyhow, bail, Result};
use chrono_tz::Tz;
use std::path::PathBuf;

use crate::checks::registry::{CheckName, Sections};
use crate::checks::settings::Input;
pub use crate::mail::Settings as Mail;
pub use crate::ops::health::Settings as Health;
pub use crate::ops::purge::Settings as Purge;
use crate::rules::calendar::{Calendar, MailWindow, SendWindow};
use crate::rules::Rung;
pub use crate::rules::{Profile, Rules};
pub use document::{Document, MailMode};
pub use format::Format;
pub use keys::{env, KeySpec, DEFAULT_CONFIG_PATH, KEYS};
pub use layers::{Entry, FlagValues, Layers, Source};

/// The first `SIGOV_*` (or `RUST_LOG`) variable whose value is not UTF-8, by name.
pub fn non_utf8_variable(
    vars: impl Iterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
) -> Option<String> {
    vars.filter(|(_, v)| v.to_str().is_none())
        .map(|(k, _)| k.to_string_lossy().into_owned())
        .find(|k| k.starts_with("SIGOV_") || k == "RUST_LOG")
}

#[derive(Debug, Clone)]
pub struct Config {
    pub layers: Layers,
    /// What `check all` runs (`checks.enabled`, less what the profile does not run), in the
    /// registry's order.
    pub checks_enabled: Vec<CheckName>,
    pub database_url: String,
    pub rules: Rules,
    /// Each check's own settings (the profile applied).
    pub sections: Sections,
    pub format: Format,
    pub mail: Mail,
    /// Lease of a check's lock, in seconds.
    pub lock_lease_secs: u32,
    /// Candidates per page.
    pub page_size: u32,
    /// Alerts a slice of a page is sized to give.
    pub slice_alerts: u32,
    /// Projects up to which a run holds the directory and every team (`check.memory_projects`).
    pub memory_projects: u32,
    pub health: Health,
    pub purge: Purge,
    /// `metrics.file` (or `--metrics-file`); `None`: no metrics.
    pub metrics_file: Option<PathBuf>,
    pub ping_url: String,
    pub ping_timeout: std::time::Duration,
    /// Time limits on the database (MySQL).
    pub db_limits: crate::db::watchdog::Limits,
    /// Where alerts go besides mail (`[channels.NAME]`), by name.
    pub channels: Vec<crate::channels::Channel>,
    /// `respond.read_is_ack`: an alert row read in the application counts as acknowledged.
    pub read_is_ack: bool,
}

/// Range checks that name the key and where its value came from.
struct Checker<'a> {
    layers: &'a Layers,
}

impl Checker<'_> {
    fn range(&self, key: &str, v: u32, min: u32, max: u32) -> Result<u32> {
        if (min..=max).contains(&v) {
            Ok(v)
        } else {
            bail!(
                "`{key}` = {v} ({}) is out of range {min}..={max}",
                self.layers.origin(key)
            )
        }
    }

    fn secs(&self, key: &str, v: u32, min: u32, max: u32) -> Result<std::time::Duration> {
        Ok(std::time::Duration::from_secs(u64::from(
            self.range(key, v, min, max)?,
        )))
    }
}

impl Config {
    pub fn from_layers(layers: Layers) -> Result<Config> {
        let doc = layers.document()?;
        let c = Checker { layers: &layers };
        let mut database_url = doc.database.url.clone();
        if database_url.is_empty() && !doc.database.url_file.is_empty() {
            let file = &doc.database.url_file;
            let text = crate::fsutil::read_secret(std::path::Path::new(file), "database.url_file")?;
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
        let tz_name = doc.rules.timezone.trim();
        let tz: Tz = tz_name.parse().map_err(|_| {
            anyhow!(
                "rules.timezone: unknown time zone `{tz_name}` ({})",
                layers.origin("rules.timezone")
            )
        })?;
        let rec = &doc.recommended;
        let calendar = calendar(&doc.calendar, &layers)?;
        let recommended = Rules {
            profile: Profile::Recommended,
            tz,
            utc_today: !rec.business_date,
            catch_up: rec.milestone_catch_up,
            keyed_by_due_date: true,
            repeat_every_days: c.range(
                "recommended.repeat_every_days",
                rec.repeat_every_days,
                1,
                366,
            )?,
            max_repeats: c.range("recommended.max_repeats", rec.max_repeats, 0, 10_000)?,
            skip_inactive: rec.skip_inactive_recipients,
            beyond_reference: true,
            calendar: calendar.clone(),
            daily_on_working_days_only: listed(
                "calendar.working_days_only",
                &doc.calendar.working_days_only,
                |u| u.repeating,
                "repeating alerts",
            )?,
            milestones_on_working_days: listed(
                "calendar.milestones_on_working_days",
                &doc.calendar.milestones_on_working_days,
                |u| u.milestones,
                "milestones",
            )?,
            business_days: listed(
                "calendar.business_days",
                &doc.calendar.business_days,
                |u| u.business_days,
                "dates to count from",
            )?,
            escalation: escalation(&layers)?,
        };
        // Each check's keys are checked whatever the profile (a mistake shows before the profile
        // changes); the reference profile then runs with the reference's values.
        let configured = Sections::configure(&Input::new(&layers))?;
        let (rules, sections) = match doc.rules.profile {
            Profile::Recommended => (recommended, configured),
            Profile::Reference => (Rules::reference(tz), Sections::reference()),
        };
        let mut mail = Mail::from_document(&doc, &c, tz)?;
        let window = doc.mail.send_window.trim();
        if !window.is_empty() {
            let w = SendWindow::parse(window).map_err(|e| {
                anyhow!(
                    "mail.send_window: {e} ({})",
                    layers.origin("mail.send_window")
                )
            })?;
            if !(0..7).any(|i| w.days[i] && calendar.working[i]) {
                bail!("mail.send_window `{window}` opens on no working day of calendar.working_days: mail would never go");
            }
            mail.window = Some(MailWindow {
                window: w,
                calendar: calendar.clone(),
                tz,
            });
        }
        let lock_lease_secs = c.range("lock.lease_secs", doc.lock.lease_secs, 30, 86_400)?;
        let page_size = c.range("check.page_size", doc.check.page_size, 1, 100_000)?;
        let slice_alerts = c.range("check.slice_alerts", doc.check.slice_alerts, 1, 1_000_000)?;
        let memory_projects = c.range(
            "check.memory_projects",
            doc.check.memory_projects,
            0,
            10_000_000,
        )?;
        let checks_enabled = enabled_checks(&doc.checks.enabled, &rules)?;
        let health_checks = match layers.source("health.checks") {
            Source::Default => checks_enabled.clone(),
            _ => doc.health.checks.clone(),
        };
        let minutes = |k: &str, v: u32| c.range(k, v, 1, 527_040);
        let grace_minutes = c.range("health.grace_minutes", doc.health.grace_minutes, 0, 10_080)?;
        let mut schedules = std::collections::BTreeMap::new();
        for check in CheckName::ALL {
            let key = format!("health.schedule.{check}");
            let spec = match layers.entries.get(&key).map(|e| &e.value) {
                Some(toml::Value::String(s)) => s.clone(),
                Some(other) => bail!(
                    "{}: `{key}`: expected a cron expression (text), found {}",
                    layers.origin(&key),
                    other.type_str()
                ),
                None => String::new(),
            };
            if spec.trim().is_empty() {
                continue;
            }
            let s = crate::ops::health::Schedule::parse(&spec)
                .map_err(|e| anyhow!("{}: `{key}`: {e:#}", layers.origin(&key)))?;
            schedules.insert(*check, s);
        }
        let health = Health {
            checks: health_checks,
            schedules,
            grace_minutes,
            tz,
            max_age_minutes: minutes("health.max_age_minutes", doc.health.max_age_minutes)?,
            critical_age_minutes: minutes(
                "health.critical_age_minutes",
                doc.health.critical_age_minutes,
            )?,
            mail_delay_minutes: minutes(
                "health.mail_delay_minutes",
                doc.health.mail_delay_minutes,
            )?,
            mail_window: mail.window.clone(),
        };
        if health.critical_age_minutes < health.max_age_minutes {
            bail!("health.critical_age_minutes must not be below health.max_age_minutes");
        }
        let days = |k: &str, v: u32| c.range(k, v, 0, 36_600);
        let p = &doc.purge;
        let purge = Purge {
            runs_days: days("purge.runs_days", p.runs_days)?,
            sent_mail_days: days("purge.sent_mail_days", p.sent_mail_days)?,
            dead_mail_days: days("purge.dead_mail_days", p.dead_mail_days)?,
            ledger_days: days("purge.ledger_days", p.ledger_days)?,
            read_alerts_days: days("purge.read_alerts_days", p.read_alerts_days)?,
        };
        let min_ledger = crate::ops::purge::MIN_LEDGER_DAYS;
        if purge.ledger_days > 0 && purge.ledger_days < min_ledger {
            bail!(
                "purge.ledger_days = {}: at least {min_ledger} (a milestone can be 365 days before its due date; a forgotten key would alert again), or 0 to keep",
                purge.ledger_days
            );
        }
        let metrics_file = Some(doc.metrics.file.clone())
            .filter(|f| !f.is_empty())
            .map(PathBuf::from);
        let db_limits = crate::db::watchdog::Limits {
            connect: c.secs(
                "database.connect_timeout_secs",
                doc.database.connect_timeout_secs,
                1,
                86_400,
            )?,
            statement: c.secs(
                "database.statement_timeout_secs",
                doc.database.statement_timeout_secs,
                1,
                86_400,
            )?,
        };
        let check_names: Vec<&str> = CheckName::ALL.iter().map(|c| c.as_str()).collect();
        let channels = crate::channels::settings::from_entries(
            layers
                .entries
                .iter()
                .filter(|(k, _)| k.starts_with("channels."))
                .map(|(k, e)| (k.as_str(), &e.value)),
            &|k| layers.origin(k),
            &check_names,
        )?;
        Ok(Config {
            read_is_ack: doc.respond.read_is_ack,
            channels,
            checks_enabled,
            sections,
            db_limits,
            database_url,
            rules,
            format: doc.output.format,
            mail,
            lock_lease_secs,
            page_size,
            slice_alerts,
            memory_projects,
            health,
            purge,
            metrics_file,
            ping_url: doc.ping.url.clone(),
            ping_timeout: c.secs("ping.timeout_secs", doc.ping.timeout_secs, 1, 300)?,
            layers,
        })
    }

    /// Overrides one key (for example `sigov demo` pointing mail at its directory) as if given
    /// by a flag, keeping every derived value consistent.
    pub fn with_value(&self, key: &'static str, value: &str) -> Result<Config> {
        let mut layers = self.layers.clone();
        layers.entries.insert(
            key.to_owned(),
            Entry {
                value: toml::Value::String(value.to_owned()),
                source: Source::Flag,
            },
        );
        Config::from_layers(layers)
    }

    /// What a check run needs of this configuration.
    pub fn checks(&self) -> crate::checks::runner::Settings<'_> {
        crate::checks::runner::Settings {
            rules: &self.rules,
            page_size: self.page_size,
            slice_alerts: self.slice_alerts,
            memory_projects: self.memory_projects,
            lock_lease_secs: self.lock_lease_secs,
            mail: &self.mail,
            enabled: &self.checks_enabled,
            sections: &self.sections,
            channels: &self.channels,
            read_is_ack: self.read_is_ack,
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

/// The business calendar of `calendar.*`.
fn calendar(c: &document::CalendarSection, layers: &Layers) -> Result<Calendar> {
    let mut working = [false; 7];
    for d in &c.working_days {
        let day = crate::rules::calendar::parse_weekday(d).ok_or_else(|| {
            anyhow!(
                "calendar.working_days: `{d}` is not a day (mon … sun) ({})",
                layers.origin("calendar.working_days")
            )
        })?;
        working[day.num_days_from_monday() as usize] = true;
    }
    if !working.iter().any(|w| *w) {
        bail!("calendar.working_days: at least one working day is needed");
    }
    let closed = c
        .closed
        .iter()
        .map(|s| {
            crate::rules::calendar::parse_closed(s).map_err(|e| {
                anyhow!(
                    "calendar.closed: {e} ({})",
                    layers.origin("calendar.closed")
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Calendar {
        working,
        french_holidays: c.holidays == document::Holidays::France,
        whit_monday: c.whit_monday,
        closed,
    })
}

/// The escalation ladders (`escalation.NAME`), each sorted by rung; an audience the check
/// cannot reach is refused.
fn escalation(layers: &Layers) -> Result<Vec<(String, Vec<Rung>)>> {
    let mut out = Vec::new();
    for check in CheckName::ALL {
        let Some(accepts) = check.check().escalation() else {
            continue;
        };
        let key = format!("escalation.{check}");
        let Some(value) = layers.entries.get(&key).map(|e| e.value.clone()) else {
            continue;
        };
        let mut l: Vec<Rung> = value.try_into().map_err(|e: toml::de::Error| {
            anyhow!(
                "{}: `{key}`: {}",
                layers.origin(&key),
                crate::strings::one_line(&e.to_string())
            )
        })?;
        if l.is_empty() {
            continue;
        }
        for r in &l {
            if r.after > 366 {
                bail!(
                    "escalation.{check}: after = {} is more than a year of open days",
                    r.after
                );
            }
            if !accepts.audiences.contains(&r.to) {
                let names: Vec<&str> = accepts.audiences.iter().map(|a| a.name()).collect();
                bail!(
                    "escalation.{check}: the {check} check cannot reach `{}` (it knows {})",
                    r.to.name(),
                    names.join(", ")
                );
            }
        }
        l.sort_by_key(|r| r.after);
        out.push((check.as_str().to_owned(), l));
    }
    Ok(out)
}

/// The names of `checks`, each one that `accepts` the option (a check the option cannot change
/// is refused: listing it would do nothing, silently).
fn listed(
    key: &str,
    checks: &[CheckName],
    accepts: fn(crate::checks::check::CalendarUse) -> bool,
    what: &str,
) -> Result<Vec<String>> {
    checks
        .iter()
        .map(|c| {
            if accepts(c.check().calendar()) {
                Ok(c.as_str().to_owned())
            } else {
                let allowed: Vec<&str> = CheckName::ALL
                    .iter()
                    .filter(|o| accepts(o.check().calendar()))
                    .map(|o| o.as_str())
                    .collect();
                bail!(
                    "{key}: the {c} check has no {what} (it applies to {})",
                    allowed.join(", ")
                )
            }
        })
        .collect()
}

/// `checks.enabled` in the registry's order, without duplicates; the checks the reference did
/// not have are left out (and said so) when the profile runs only the reference's.
fn enabled_checks(listed: &[CheckName], rules: &Rules) -> Result<Vec<CheckName>> {
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
    fn from_document(doc: &Document, c: &Checker<'_>, tz: Tz) -> Result<Mail> {
        let m = &doc.mail;
        let opt_path = |v: &str| (!v.is_empty()).then(|| PathBuf::from(v));
        let mut smtp_password = m.smtp_password.clone();
        if smtp_password.is_empty() {
            if let Some(f) = opt_path(&m.smtp_password_file) {
                smtp_password = crate::fsutil::read_secret(&f, "mail.smtp_password_file")?
                    .trim_end_matches(['\r', '\n'])
                    .to_owned();
            }
        }
        let mut receive_url = m.receive.url.trim().to_owned();
        if receive_url.is_empty() {
            if let Some(f) = opt_path(&m.receive.url_file) {
                receive_url = crate::fsutil::read_secret(&f, "mail.receive.url_file")?
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_owned();
            }
        }
        if !receive_url.is_empty() {
            crate::mail::mailbox::Mailbox::parse(&receive_url)?;
        }
        let reply_address = m.reply_address.trim().to_owned();
        if !reply_address.is_empty() {
            let ok = reply_address.parse::<lettre::Address>().is_ok()
                && reply_address
                    .split_once('@')
                    .is_some_and(|(local, _)| !local.contains('+'));
            if !ok {
                bail!("mail.reply_address: `{reply_address}` is not a plain address without `+` (alertes@example.org: sigov adds +TOKEN)");
            }
        }
        let base_url = m.base_url.trim_end_matches('/').to_owned();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            bail!("mail.base_url: `{base_url}` must start with http:// or https://");
        }
        Ok(Mail {
            transport: m.transport.trim().to_owned(),
            from: m.from.clone(),
            smtp_user: m.smtp_user.clone(),
            smtp_password,
            tls_ca_file: opt_path(&m.tls_ca_file),
            timeout: c.secs("mail.timeout_secs", m.timeout_secs, 1, 3600)?,
            max_attempts: c.range("mail.max_attempts", m.max_attempts, 1, 100)?,
            retry_base_secs: c.range("mail.retry_base_secs", m.retry_base_secs, 1, 86_400)?,
            sending_lease_secs: c.range(
                "mail.sending_lease_secs",
                m.sending_lease_secs,
                3,
                86_400,
            )?,
            sent_group: c.range("mail.sent_group", m.sent_group, 1, 1000)?,
            digest: m.mode == MailMode::Digest,
            site_name: m.site_name.clone(),
            base_url,
            templates_dir: opt_path(&m.templates_dir),
            window: None,
            tz,
            preferences_contact: m.preferences_contact.trim().to_owned(),
            reply_address,
            critical_bypass: m.critical_bypass,
            critical_overrides_mute: m.critical_overrides_mute,
            receive_url,
            receive_limit: c.range("mail.receive.limit", m.receive.limit, 1, 10_000)?,
            labels: &crate::checks::registry::Registry,
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
    fn the_catalogue_and_the_document_name_the_same_keys() {
        // Every catalogued key deserializes (the defaults load), and a key the document lacks
        // is refused: removing any one key from the defaults fails the document.
        // A check's key (its settings, escalation ladder, schedule) is read by the check: removing
        // it fails the configuration.
        let full = Layers::load(&FlagValues::default(), &no_env).unwrap();
        assert!(full.document().is_ok());
        for k in KEYS.iter() {
            let mut l = full.clone();
            l.entries.remove(k.key);
            if keys::GENERAL.contains(&k.key) {
                assert!(
                    l.document().is_err(),
                    "{} is catalogued but not in the document",
                    k.key
                );
            } else if !k.key.starts_with("escalation.") && !k.key.starts_with("health.schedule.") {
                assert!(
                    Config::from_layers(l).is_err(),
                    "{} is catalogued but no check reads it",
                    k.key
                );
            }
        }
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
        assert_eq!(c.sections.deadlines.milestones, vec![7, 3, 1, 0]);
    }

    #[test]
    fn precedence_file_env_flag() {
        let dir_tmp = tempfile::tempdir().unwrap();
        let dir = dir_tmp.path().to_path_buf();
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
        let refused = |text: &str| {
            std::fs::write(&f, text).unwrap();
            let l = Layers::load(&flags, &no_env).unwrap();
            Config::from_layers(l).unwrap_err().to_string()
        };
        // A check's own keys: refused with the key, where it came from, and what is expected.
        let e = refused("[start_dates]\nlookback_days = 0\n");
        assert!(
            e.contains("`start_dates.lookback_days` = 0")
                && e.contains("c.toml")
                && e.contains("1..=366"),
            "{e}"
        );
        let e = refused("[start_dates]\nremind_after_days = 20\nlookback_days = 14\n");
        assert!(e.contains("must be below start_dates.lookback_days"), "{e}");
        let e = refused("[stale_work]\ndays = \"two weeks\"\n");
        assert!(
            e.contains("`stale_work.days`") && e.contains("expected an integer"),
            "{e}"
        );
        let e = refused("[rules]\nprofile = \"reference\"\n[budget]\nthresholds = [120]\n");
        assert!(
            e.contains("`budget.thresholds`: 120"),
            "checked in the reference profile too: {e}"
        );
        let e = refused("[stale_work]\nblocked = 7\n");
        assert!(
            e.contains("unknown key `stale_work.blocked`") && e.contains("days, blocked_days"),
            "{e}"
        );
        let e = refused("[escalation]\nstale-work = [{ after = 3, to = \"team\" }]\n");
        assert!(e.contains("unknown key `escalation.stale-work`"), "{e}");
        let e = refused("[rules]\nprofil = \"reference\"\n");
        assert!(
            e.contains("unknown key `rules.profil`") && e.contains("c.toml"),
            "{e}"
        );
        assert!(e.contains("[rules] knows profile, timezone"), "{e}");
        let e = refused("[recommended]\nrepeat_every_days = \"2\"\n");
        assert!(
            e.contains("`recommended.repeat_every_days`") && e.contains("c.toml"),
            "{e}"
        );
        assert!(
            e.contains("expected a whole number from 0 to 4294967295"),
            "{e}"
        );
        let e = refused("[rules]\nprofile = \"strict\"\n");
        assert!(
            e.contains("`rules.profile`") && e.contains("unknown variant `strict`"),
            "{e}"
        );
        let e = refused("[database]\nurl = 7\n");
        assert!(
            e.contains("`database.url`") && e.contains("not shown"),
            "{e}"
        );
        let e = refused("[checks]\nenabled = [\"deadline\"]\n");
        assert!(
            e.contains("`checks.enabled[0]`") && e.contains("unknown check `deadline`"),
            "{e}"
        );
        let e = refused("rules = 1\n");
        assert!(e.contains("`rules`"), "{e}");
        let e = refused("[lock]\nlease_secs = 5\n");
        assert!(
            e.contains("`lock.lease_secs` = 5") && e.contains("out of range 30..=86400"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

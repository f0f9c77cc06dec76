//! The configuration document as serde structs: the one schema of sigov's configuration. The
//! layers (defaults < file < environment < flags) are merged into one TOML table that must
//! deserialize into [`Document`]: an unknown key, a value of the wrong type or an unknown name
//! (profile, format, mail mode, check) is refused with the key's path. Ranges and the rules
//! between keys are checked afterwards, in `config`, where the value's source is known.
//!
//! The checks' keys (their sections, their switches of the recommended profile, their
//! escalation ladders and schedules) are not here: each check reads its own (`checks::check`).
//!
//! Every section is complete after merging (the defaults layer gives every key), so no field
//! has a serde default: a key the catalogue (`keys::KEYS`) forgot fails the unit test that
//! loads the defaults, instead of silently taking a second default here.

use serde::Deserialize;

use crate::checks::registry::CheckName;
use crate::config::format::Format;
use crate::rules::Profile;

/// How mail is grouped (`mail.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailMode {
    /// One mail per alert (the reference).
    PerAlert,
    /// One mail per recipient per delivery.
    Digest,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    pub database: Database,
    pub rules: RulesSection,
    pub recommended: Recommended,
    pub mail: MailSection,
    pub calendar: CalendarSection,
    pub checks: Checks,
    pub check: CheckSection,
    pub lock: Lock,
    pub health: HealthSection,
    pub metrics: Metrics,
    pub ping: Ping,
    pub purge: PurgeSection,
    pub output: Output,
    pub respond: RespondSection,
}

/// `[respond]`: how people's answers count.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RespondSection {
    pub read_is_ack: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    pub url: String,
    pub url_file: String,
    pub connect_timeout_secs: u32,
    pub statement_timeout_secs: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesSection {
    pub profile: Profile,
    pub timezone: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recommended {
    pub business_date: bool,
    pub milestone_catch_up: bool,
    pub repeat_every_days: u32,
    pub max_repeats: u32,
    pub skip_inactive_recipients: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSection {
    pub transport: String,
    pub from: String,
    pub smtp_user: String,
    pub smtp_password: String,
    pub smtp_password_file: String,
    pub tls_ca_file: String,
    pub timeout_secs: u32,
    pub max_attempts: u32,
    pub retry_base_secs: u32,
    pub sending_lease_secs: u32,
    pub sent_group: u32,
    pub mode: MailMode,
    pub site_name: String,
    pub preferences_contact: String,
    pub reply_address: String,
    pub critical_bypass: bool,
    pub critical_overrides_mute: bool,
    pub receive: ReceiveSection,
    pub base_url: String,
    pub templates_dir: String,
    pub send_window: String,
}

/// `[mail.receive]`: the mailbox replies are read from.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiveSection {
    pub url: String,
    pub url_file: String,
    pub limit: u32,
}

/// Which public holidays are closed days (`calendar.holidays`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Holidays {
    France,
    None,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSection {
    pub working_days: Vec<String>,
    pub holidays: Holidays,
    pub whit_monday: bool,
    pub closed: Vec<String>,
    pub working_days_only: Vec<CheckName>,
    pub milestones_on_working_days: Vec<CheckName>,
    pub business_days: Vec<CheckName>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checks {
    pub enabled: Vec<CheckName>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSection {
    pub page_size: u32,
    pub slice_alerts: u32,
    pub memory_projects: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    pub lease_secs: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthSection {
    pub checks: Vec<CheckName>,
    pub max_age_minutes: u32,
    pub critical_age_minutes: u32,
    pub mail_delay_minutes: u32,
    pub grace_minutes: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    pub file: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ping {
    pub url: String,
    pub timeout_secs: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurgeSection {
    pub runs_days: u32,
    pub sent_mail_days: u32,
    pub dead_mail_days: u32,
    pub ledger_days: u32,
    pub read_alerts_days: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Output {
    pub format: Format,
}

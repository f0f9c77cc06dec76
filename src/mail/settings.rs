//! The mail settings (`mail.*`, built by `config`) and what the checks tell mail about their
//! alerts.

use std::path::PathBuf;

/// How mail is rendered and delivered (`mail.*`; `config` builds it).
#[derive(Debug, Clone)]
pub struct Settings {
    /// `mail.transport` as given; empty: mail waits in the outbox.
    pub transport: String,
    pub from: String,
    pub smtp_user: String,
    /// Read from `mail.smtp_password` or `mail.smtp_password_file`; never shown.
    pub smtp_password: String,
    pub tls_ca_file: Option<PathBuf>,
    pub timeout: std::time::Duration,
    pub max_attempts: u32,
    pub retry_base_secs: u32,
    pub sending_lease_secs: u32,
    /// `mail.sent_group`: sent messages recorded in one commit (see `outbox::SentMarks`).
    pub sent_group: u32,
    pub digest: bool,
    pub site_name: String,
    pub base_url: String,
    pub templates_dir: Option<PathBuf>,
    /// Quiet hours (`mail.send_window`): outside the window, delivery leaves mail queued.
    pub window: Option<crate::rules::calendar::MailWindow>,
    /// Business time zone: times in mails are shown in it.
    pub tz: chrono_tz::Tz,
    /// Who (an address or a URL) people ask to change what they receive: every mail's footer
    /// (`mail.preferences_contact`).
    pub preferences_contact: String,
    /// The mailbox people answer to (`mail.reply_address`); empty: none.
    pub reply_address: String,
    /// `mail.critical_bypass`: DANGER alerts' mail is never held for a digest nor by quiet
    /// hours.
    pub critical_bypass: bool,
    /// `mail.critical_overrides_mute`: nor by a person's mutes.
    pub critical_overrides_mute: bool,
    /// `mail.receive.url`: the mailbox replies are read from; a secret, never shown.
    pub receive_url: String,
    /// Messages `sigov mail receive` reads a run.
    pub receive_limit: u32,
    /// How each check presents its alert types (labels, advice).
    pub labels: &'static dyn Labels,
}

/// What the checks tell mail about their alerts: one template each that gives a type's label
/// and advice (name, embedded text; overridable like every template), and the label of a stage
/// type. The renderer knows no check; the registry implements this.
pub trait Labels: std::fmt::Debug + Sync {
    fn label_templates(&self) -> Vec<(String, &'static str)>;
    fn stage_type_label(&self, code: &str) -> Option<String>;
    /// The rule behind an alert type, for the footer (`échéance J-3`).
    fn rule_label(&self, alert_type: &str, context: &serde_json::Value) -> String;
    /// Sample alerts of every kind, for `sigov mail preview`.
    fn samples(&self, today: chrono::NaiveDate) -> Vec<Sample>;
}

/// One sample alert, for `sigov mail preview`.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Its name (`echeance-j3`): the preview's file name.
    pub name: &'static str,
    /// `core_alerteprojet` or `core_notificationetape`.
    pub table: &'static str,
    pub alert_type: &'static str,
    pub niveau: Option<&'static str>,
    pub titre: String,
    pub message: String,
    pub context: serde_json::Value,
}

//! The catalogue of configuration keys: for each, its environment variable (declared here
//! once), its default (TOML syntax), whether it is a secret, and its help text — what
//! `config show`, the man page and the example configuration print. The keys' types are the
//! serde structs of `document`; a unit test keeps the two the same set.

use crate::checks::registry::CheckName;
pub use crate::keyspec::KeySpec;

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

/// The reference's checks as a TOML list: the default of `checks.enabled` and `health.checks`.
static REFERENCE_CHECKS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let names: Vec<String> = CheckName::reference()
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect();
    format!("[{}]", names.join(", "))
});

/// Every key sigov reads: the general ones, then each check's (its settings, its escalation
/// ladder when it has one, its expected schedule), in the registry's order.
pub static KEYS: std::sync::LazyLock<Vec<KeySpec>> = std::sync::LazyLock::new(|| {
    let mut keys = general();
    for c in CheckName::ALL {
        keys.extend(c.check().keys().iter().copied());
    }
    for c in CheckName::ALL {
        if let Some(e) = c.check().escalation() {
            let names: Vec<&str> = e.audiences.iter().map(|a| a.name()).collect();
            keys.push(KeySpec::check(
                leak(format!("escalation.{c}")),
                "[]",
                leak(format!(
                    "(recommended) escalation of the {c} check's repeating alert: rungs {{ after = N, to = \"{}\" }}, N open days after {}; each person a rung adds gets one escalation per rung",
                    names.join("\" | \""),
                    e.from
                )),
            ));
        }
    }
    for c in CheckName::ALL {
        keys.push(KeySpec::check(
            leak(format!("health.schedule.{c}")),
            leak(format!("\"{}\"", c.check().schedule())),
            leak(format!(
                "when the {c} check is expected to run: a cron expression (minute hour day-of-month month day-of-week) in rules.timezone, as crontab.example and the systemd timers start it; health is WARNING once a due run is later than health.grace_minutes, CRITICAL once the next one is too; \"\": judge it by the age of its last success (health.max_age_minutes)"
            )),
        ));
    }
    keys
});

/// The keys of the general sections: what [`super::Document`] deserializes.
pub static GENERAL: std::sync::LazyLock<Vec<&'static str>> =
    std::sync::LazyLock::new(|| general().iter().map(|k| k.key).collect());

/// A key or help text made from a check's name, once per process (the catalogue is static).
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn general() -> Vec<KeySpec> {
    vec![
    KeySpec { key: "database.url", env: Some(env::DATABASE_URL), default: "\"\"", secret: true,
        help: "database URL: mysql://user:pass@host:3306/db (socket: ?unix_socket=/path), postgres://user:pass@host:5432/db (socket: ?host=/run/postgresql) or sqlite:///path/file.db" },
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
    KeySpec { key: "recommended.repeat_every_days", env: None, default: "1", secret: false,
        help: "(recommended §3.2.3) overdue alerts repeat at most once per this many business days per (entity, recipient)" },
    KeySpec { key: "recommended.max_repeats", env: None, default: "0", secret: false,
        help: "a repeating alert (overdue task, stage or project, exceeded budget) is sent at most this many times per recipient while its due date (or planned budget) stays the same; the last one says so; a change re-arms it; 0: no limit" },
    KeySpec { key: "recommended.skip_inactive_recipients", env: None, default: "true", secret: false,
        help: "(recommended §3.2.4) accounts with is_active = 0 or statut_actif = 0 receive nothing" },
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
        help: "a mail the relay refuses for now (4xx) is retried with exponential backoff; after this many attempts it is dead (a mail the relay took without confirming is sent twice at most, then unconfirmed)" },
    KeySpec { key: "mail.retry_base_secs", env: None, default: "300", secret: false,
        help: "first retry delay; it doubles at each attempt, up to 6 hours" },
    KeySpec { key: "mail.sending_lease_secs", env: None, default: "900", secret: false,
        help: "a mail claimed by a sender on another host that died is due again after this many seconds (a killed sender on this host: at once); a live delivery renews its claims at a third of it" },
    KeySpec { key: "mail.sent_group", env: None, default: "20", secret: false,
        help: "sent messages (mail and channel messages) recorded in one commit: a group closes at this many messages or 50 ms after its first, whichever comes first. A killed sender's unrecorded group is sent again, once; 1 records each message before the next goes (only the one in flight can be sent twice), at one commit per message" },
    KeySpec { key: "mail.mode", env: Some("SIGOV_MAIL_MODE"), default: "\"per_alert\"", secret: false,
        help: "per_alert: one mail per alert (the reference); digest: one mail per recipient per delivery" },
    KeySpec { key: "mail.site_name", env: None, default: "\"SI-Gouvernance\"", secret: false,
        help: "site name in subjects and mail bodies" },
    KeySpec { key: "mail.base_url", env: Some("SIGOV_BASE_URL"), default: "\"http://localhost:8000\"", secret: false,
        help: "web application address, for the links and the logo in mails" },
    KeySpec { key: "mail.preferences_contact", env: None, default: "\"\"", secret: false,
        help: "who people ask to change what they receive (an address or a page: mailto:support@example.org, https://…/aide): every mail's footer says it, after why the person receives the mail; empty: \"the administrator of mail.site_name\"" },
    KeySpec { key: "mail.reply_address", env: Some("SIGOV_MAIL_REPLY_ADDRESS"), default: "\"\"", secret: false,
        help: "the mailbox people answer to (alertes@example.org; it must accept plus addressing): every mail carries Reply-To: alertes+TOKEN@… and List-Unsubscribe: <mailto:alertes+unsub…>, TOKEN bound to that delivery; `sigov mail receive` reads the replies (mail.receive.url); empty: no reply address, List-Unsubscribe names mail.preferences_contact when it is an address" },
    KeySpec { key: "mail.receive.url", env: Some("SIGOV_MAIL_RECEIVE_URL"), default: "\"\"", secret: true,
        help: "the mailbox `sigov mail receive` reads replies from: imaps://USER:PASSWORD@HOST:993/INBOX, or imap://… with STARTTLS (?tls=none: plain, loopback only); a secret (or mail.receive.url_file); the server's certificate is checked against the system's roots and mail.tls_ca_file" },
    KeySpec { key: "mail.receive.url_file", env: Some("SIGOV_MAIL_RECEIVE_URL_FILE"), default: "\"\"", secret: false,
        help: "a file holding mail.receive.url (its first line; systemd credentials)" },
    KeySpec { key: "mail.receive.limit", env: None, default: "200", secret: false,
        help: "messages read a run, oldest first (the rest wait for the next run)" },
    KeySpec { key: "mail.critical_bypass", env: None, default: "false", secret: false,
        help: "critical alerts (level DANGER: budget exceeded, contract expired, deadline today or past) are mailed at once: never held for a person's daily digest, and sent in quiet hours too (mail.send_window). Off by default: quiet hours are often agreed with staff representatives, and a 'critical' overdue date is rarely an emergency at night; turn it on where someone must act at once" },
    KeySpec { key: "mail.critical_overrides_mute", env: None, default: "false", secret: false,
        help: "with mail.critical_bypass: a person's mutes (sigov prefs, STOP) do not hold critical alerts either; off: a mute is respected, critical or not" },
    KeySpec { key: "mail.send_window", env: Some("SIGOV_MAIL_SEND_WINDOW"), default: "\"\"", secret: false,
        help: "quiet hours: mail goes only within DAYS HH:MM-HH:MM in rules.timezone (mon-fri 08:00-19:00), never on a closed day of the calendar; outside it mail stays queued (no attempt counted) and the first delivery inside sends it; `mail flush --now` overrides; empty: any time" },
    KeySpec { key: "calendar.working_days", env: None, default: "[\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]", secret: false,
        help: "business calendar: the open days of the week (mon … sun); used by mail.send_window and the calendar.* options of the checks" },
    KeySpec { key: "calendar.holidays", env: None, default: "\"france\"", secret: false,
        help: "public holidays that are closed days: france (1 January, Easter Monday, 1 and 8 May, Ascension, Whit Monday, 14 July, 15 August, 1 and 11 November, 25 December, computed for any year) or none" },
    KeySpec { key: "calendar.whit_monday", env: None, default: "true", secret: false,
        help: "Whit Monday (lundi de Pentecôte, often the solidarity day worked) is a closed day" },
    KeySpec { key: "calendar.closed", env: None, default: "[]", secret: false,
        help: "more closed dates and ranges, both ends included: [\"2026-12-24\", \"2026-12-26..2026-12-31\"]" },
    KeySpec { key: "calendar.working_days_only", env: None, default: "[]", secret: false,
        help: "(recommended) checks whose repeating alerts (project overdue, stage delay, task overdue, budget exceeded) are recorded on open days of the calendar only: [\"deadlines\", \"stages\", \"tasks\", \"budget\"]; the first open day's run records them" },
    KeySpec { key: "calendar.milestones_on_working_days", env: None, default: "[]", secret: false,
        help: "(recommended) checks whose milestones (deadlines, contracts, task-reminders) fire on the last open day before a milestone that falls on a closed day: a J-1 on Saturday fires Friday, worded \"se termine lundi\"" },
    KeySpec { key: "calendar.business_days", env: None, default: "[]", secret: false,
        help: "(recommended) checks that count in open days of the calendar (count = business_days): milestones (J-3 is three open days before the date) and days late (deadlines, stages, tasks, contracts, task-reminders), worded \"jours ouvrés\"" },
    KeySpec { key: "mail.templates_dir", env: Some("SIGOV_MAIL_TEMPLATES"), default: "\"\"", secret: false,
        help: "directory whose files override the embedded mail templates, file by file (same names)" },
    KeySpec { key: "checks.enabled", env: Some("SIGOV_CHECKS"), default: &REFERENCE_CHECKS, secret: false,
        help: "the checks `sigov check all` runs, in the registry's order (the scheduling files start each check by name: add an entry for one enabled here); task-reminders is off by default, and the reference profile runs only the reference's five" },
    KeySpec { key: "check.page_size", env: None, default: "2000", secret: false,
        help: "candidates evaluated per page: a check holds one page (with what was recorded for its entities) in memory at a time, whatever the data size" },
    KeySpec { key: "check.slice_alerts", env: None, default: "2000", secret: false,
        help: "alerts a page's slice of candidates is sized to give: a page is decided and written a slice at a time (the first a quarter of this many candidates, then sized from what the last gave), so a run holds about this many new alerts at once; lower holds less, in more transactions" },
    KeySpec { key: "check.memory_projects", env: None, default: "10000", secret: false,
        help: "the largest database (in projects) whose projects, stages, users and teams a run holds in memory, read once, narrow, to join the task checks' candidates there; past it (or at 0) the server joins them in a candidate table, page by page, and memory stays flat" },
    KeySpec { key: "lock.lease_secs", env: None, default: "600", secret: false,
        help: "a check holds its lock (shared by every host on the database) for this long, renewed as it progresses; a killed run blocks the next one at most this long (on the same host: not at all)" },
    KeySpec { key: "health.checks", env: None, default: &REFERENCE_CHECKS, secret: false,
        help: "the checks `sigov health` expects to succeed regularly; not set: checks.enabled" },
    KeySpec { key: "health.grace_minutes", env: None, default: "60", secret: false,
        help: "how late a scheduled run may succeed before health says so (covers crontab.example's stagger of up to 20 minutes and a slow run)" },
    KeySpec { key: "health.max_age_minutes", env: None, default: "540", secret: false,
        help: "for a check whose health.schedule is \"\": a last success older than this is WARNING (default 9 h)" },
    KeySpec { key: "health.critical_age_minutes", env: None, default: "1500", secret: false,
        help: "for a check whose health.schedule is \"\": a last success older than this is CRITICAL (default 25 h)" },
    KeySpec { key: "health.mail_delay_minutes", env: None, default: "60", secret: false,
        help: "pending mail older than this is WARNING (the relay is unreachable or nothing delivers)" },
    KeySpec { key: "metrics.file", env: Some(env::METRICS_FILE), default: "\"\"", secret: false,
        help: "after each check and mail flush, write Prometheus metrics here atomically (node_exporter textfile collector: a .prom file in its directory); empty: none" },
    KeySpec { key: "ping.url", env: Some("SIGOV_PING_URL"), default: "\"\"", secret: true,
        help: "healthchecks-style URL pinged at URL/start when a check command begins and URL/EXIT_CODE when it ends ({check} is replaced by the check's name, `all` for check all); empty: no pings" },
    KeySpec { key: "ping.timeout_secs", env: None, default: "5", secret: false,
        help: "a ping waits at most this long; a failed ping is logged and never fails the run" },
    KeySpec { key: "respond.read_is_ack", env: None, default: "false", secret: false,
        help: "treat an alert the web application shows as read (lue) as acknowledged: its repeats and escalation stop as with `sigov ack`. Off by default: the application marks an alert read on a GET of its page, which the link scanners of mail gateways also fetch, so \"read\" may mean nobody saw it" },
    KeySpec { key: "purge.runs_days", env: None, default: "180", secret: false,
        help: "`sigov purge` deletes finished runs started more than this many days ago; 0 keeps them" },
    KeySpec { key: "purge.sent_mail_days", env: None, default: "90", secret: false,
        help: "`sigov purge` deletes delivered mail (outbox rows `sent`) older than this; 0 keeps it" },
    KeySpec { key: "purge.dead_mail_days", env: None, default: "365", secret: false,
        help: "`sigov purge` deletes dead mail older than this; 0 keeps it" },
    KeySpec { key: "purge.ledger_days", env: None, default: "0", secret: false,
        help: "`sigov purge` deletes ledger keys of business dates older than this (at least 400; budget and escalation keys are always kept); 0 keeps them" },
    KeySpec { key: "purge.read_alerts_days", env: None, default: "0", secret: false,
        help: "`sigov purge` deletes READ alerts and stage notifications older than this from the web application's tables; 0 (default) never touches them" },
    KeySpec { key: "output.format", env: Some(env::FORMAT), default: "\"text\"", secret: false,
        help: "output of commands that print data: text or json" },
]
}

/// The catalogue entry of `key`; a channel's key (`channels.NAME.FIELD`) is its field's.
pub(super) fn spec(key: &str) -> Option<&'static KeySpec> {
    KEYS.iter()
        .find(|k| k.key == key)
        .or_else(|| crate::channels::settings::spec(key))
}

pub(super) fn parse_default(k: &KeySpec) -> toml::Value {
    // The table is compiled in and covered by a unit test; a bad literal falls back to a string.
    let doc = format!("v = {}", k.default);
    doc.parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(k.default.to_owned()))
}

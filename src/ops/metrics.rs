//! Monitoring hooks around a run: Prometheus text-format metrics for node_exporter's textfile
//! collector, and healthchecks-style ping URLs.
//!
//! The metrics are read back from the database after the run (last run of every check, outbox
//! by state), so each run rewrites a complete file: checks scheduled apart, on one host or
//! several, never erase each other's figures.

use crate::db::Db;
use anyhow::{Context, Result};
use chrono::NaiveDateTime;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

fn epoch(t: NaiveDateTime) -> f64 {
    t.and_utc().timestamp_micros() as f64 / 1e6
}

/// A label value escaped for the text format.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

struct Family<'a> {
    out: &'a mut String,
}

impl Family<'_> {
    fn head(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }
    fn sample(&mut self, name: &str, labels: &[(&str, &str)], v: f64) {
        let l: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", label(v)))
            .collect();
        if l.is_empty() {
            let _ = writeln!(self.out, "{name} {v}");
        } else {
            let _ = writeln!(self.out, "{name}{{{}}} {v}", l.join(","));
        }
    }
}

/// The metrics text, read from the database (two statements).
pub fn render(db: &mut Db, now: NaiveDateTime) -> Result<String> {
    let rows = super::runs::last_per_check(db)?;
    let outbox = crate::mail::outbox::counts(db)?;
    let mut text = String::new();
    let mut f = Family { out: &mut text };
    let counters: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            r.counters
                .as_deref()
                .and_then(|c| serde_json::from_str(c).ok())
                .unwrap_or_else(|| serde_json::json!({}))
        })
        .collect();
    f.head(
        "sigov_last_run_timestamp_seconds",
        "gauge",
        "End of the last finished run of the check (Unix time).",
    );
    for r in &rows {
        let end = r.finished_at.unwrap_or(r.started_at);
        {
            let t = epoch(end);
            f.sample(
                "sigov_last_run_timestamp_seconds",
                &[("check", &r.check_name)],
                t,
            );
        }
    }
    f.head(
        "sigov_last_run_duration_seconds",
        "gauge",
        "Wall time of the last finished run of the check, mail delivery included.",
    );
    for r in &rows {
        let d = r
            .finished_at
            .map(|e| (epoch(e) - epoch(r.started_at)).max(0.0));
        if let Some(d) = d {
            f.sample(
                "sigov_last_run_duration_seconds",
                &[("check", &r.check_name)],
                d,
            );
        }
    }
    f.head(
        "sigov_last_run_success",
        "gauge",
        "1 when the last finished run of the check succeeded, else 0.",
    );
    for r in &rows {
        let ok = if r.status == crate::states::RunStatus::Success {
            1.0
        } else {
            0.0
        };
        f.sample("sigov_last_run_success", &[("check", &r.check_name)], ok);
    }
    f.head(
        "sigov_last_success_timestamp_seconds",
        "gauge",
        "End of the last successful run of the check (Unix time).",
    );
    for r in &rows {
        if let Some(t) = r.last_success.map(epoch) {
            f.sample(
                "sigov_last_success_timestamp_seconds",
                &[("check", &r.check_name)],
                t,
            );
        }
    }
    f.head(
        "sigov_last_run_alerts_created",
        "gauge",
        "Alerts created by the last finished run of the check, by alert type.",
    );
    for (r, c) in rows.iter().zip(&counters) {
        if let Some(by_type) = c["by_type"].as_object() {
            for (ty, n) in by_type {
                f.sample(
                    "sigov_last_run_alerts_created",
                    &[("check", &r.check_name), ("type", ty)],
                    n.as_f64().unwrap_or(0.0),
                );
            }
        }
    }
    f.head(
        "sigov_last_run_mails",
        "gauge",
        "Mail of the last finished run of the check: queued, and delivered at its end (sent, failed for a later retry, dead, unconfirmed and set aside, held back for the next delivery, deferred because the relay could not be used).",
    );
    for (r, c) in rows.iter().zip(&counters) {
        for outcome in [
            "queued",
            "sent",
            "failed",
            "dead",
            "unconfirmed",
            "held_back",
            "deferred",
        ] {
            f.sample(
                "sigov_last_run_mails",
                &[("check", &r.check_name), ("outcome", outcome)],
                c[format!("mails_{outcome}")].as_f64().unwrap_or(0.0),
            );
        }
    }
    f.head(
        "sigov_outbox_mails",
        "gauge",
        "Outbox rows by state (pending, sending, failed, dead, unconfirmed, sent).",
    );
    let mut oldest_pending = None;
    for state in crate::states::MailState::ALL {
        let found = outbox
            .iter()
            .find(|c| c.is_mail() && c.state == state.as_str());
        let n = found.map(|c| c.n).unwrap_or(0);
        if *state == crate::states::MailState::Pending {
            oldest_pending = found.and_then(|c| c.oldest);
        }
        f.sample("sigov_outbox_mails", &[("state", state.as_str())], n as f64);
    }
    f.head(
        "sigov_outbox_oldest_pending_age_seconds",
        "gauge",
        "Age of the oldest pending mail (0 when none).",
    );
    let age = |t: Option<NaiveDateTime>| t.map(|t| (now - t).num_seconds().max(0) as f64);
    f.sample(
        "sigov_outbox_oldest_pending_age_seconds",
        &[],
        age(oldest_pending).unwrap_or(0.0),
    );
    let mut channels: Vec<&str> = outbox
        .iter()
        .filter(|c| !c.is_mail())
        .map(|c| c.channel.as_str())
        .collect();
    channels.dedup();
    if !channels.is_empty() {
        f.head(
            "sigov_channel_messages",
            "gauge",
            "Channel outbox rows by channel and state (pending, sending, failed, dead, unconfirmed, sent).",
        );
        for ch in &channels {
            for state in crate::states::MailState::ALL {
                let n = outbox
                    .iter()
                    .find(|c| c.channel == *ch && c.state == state.as_str())
                    .map(|c| c.n)
                    .unwrap_or(0);
                f.sample(
                    "sigov_channel_messages",
                    &[("channel", ch), ("state", state.as_str())],
                    n as f64,
                );
            }
        }
        f.head(
            "sigov_channel_oldest_pending_age_seconds",
            "gauge",
            "Age of the channel's oldest pending message (0 when none).",
        );
        for ch in &channels {
            let oldest = outbox
                .iter()
                .find(|c| c.channel == *ch && c.state == crate::states::MailState::Pending.as_str())
                .and_then(|c| c.oldest);
            f.sample(
                "sigov_channel_oldest_pending_age_seconds",
                &[("channel", ch)],
                age(oldest).unwrap_or(0.0),
            );
        }
    }
    Ok(text)
}

/// Writes `text` to `path` atomically: a temporary file beside it, flushed to disk, then
/// renamed over the old file, so the collector never reads half a file.
pub fn write_atomic(path: &Path, text: &str) -> Result<()> {
    anyhow::ensure!(
        path.file_name().is_some(),
        "metrics file `{}` has no file name",
        path.display()
    );
    // Readable by node_exporter (another user); written without following any planted link.
    crate::fsutil::write_atomic(path, text.as_bytes(), 0o644)
        .with_context(|| format!("cannot write metrics file `{}`", path.display()))
}

/// Renders and writes the metrics file; a failure is reported, never fatal to the run.
pub fn export(db: &mut Db, path: &Path) {
    let done = render(db, chrono::Utc::now().naive_utc()).and_then(|t| write_atomic(path, &t));
    if let Err(e) = done {
        crate::say!(
            WARNING,
            "sigov: {}",
            crate::strings::one_line(&format!("{e:#}"))
        );
    }
}

/// healthchecks-style pings: `URL/start` when a run begins, `URL/EXIT_CODE` when it ends.
/// `{check}` in the URL is replaced by the check's name (`all` for `check all`). A ping that
/// fails or times out is logged and never changes the run's outcome. Both pings of a run carry
/// the same `rid=` (a UUID), so overlapping runs of one check are told apart.
pub struct Pinger {
    base: String,
    rid: String,
    /// Scheme and host only: the path of a ping URL is its secret.
    shown: String,
    agent: ureq::Agent,
}

impl Pinger {
    pub fn new(url: &str, timeout: Duration, check: &str) -> Result<Option<Pinger>> {
        if url.is_empty() {
            return Ok(None);
        }
        let base = url
            .replace("{check}", check)
            .trim_end_matches('/')
            .to_owned();
        let shown = crate::db::url::host_only(&base);
        anyhow::ensure!(
            base.starts_with("http://") || base.starts_with("https://"),
            "ping.url `{shown}`: expected an http:// or https:// URL"
        );
        let tls = native_tls::TlsConnector::new().context("cannot set up TLS for pings")?;
        let agent = ureq::AgentBuilder::new()
            .timeout(timeout)
            .tls_connector(std::sync::Arc::new(tls))
            .try_proxy_from_env(true)
            .user_agent(concat!("sigov/", env!("CARGO_PKG_VERSION")))
            .build();
        let rid = uuid::Uuid::new_v4().to_string();
        Ok(Some(Pinger {
            base,
            rid,
            shown,
            agent,
        }))
    }

    fn ping(&self, suffix: &str) {
        let url = format!("{}/{suffix}?rid={}", self.base, self.rid);
        let shown = format!("{}/{suffix}?rid={}", self.shown, self.rid);
        match self.agent.get(&url).call() {
            Ok(_) => log::debug!("ping {shown}: ok"),
            Err(ureq::Error::Status(code, _)) => log::warn!("ping {shown}: HTTP {code}"),
            // ureq's own text names the URL (normalised: a textual replace would miss it):
            // only the kind of failure and its cause are shown.
            Err(ureq::Error::Transport(t)) => {
                let cause = std::error::Error::source(&t)
                    .map(|c| format!(": {}", crate::strings::one_line(&c.to_string())))
                    .unwrap_or_default();
                log::warn!("ping {shown}: {}{cause}", t.kind())
            }
        }
    }

    /// The run id both pings carry.
    pub fn rid(&self) -> &str {
        &self.rid
    }

    pub fn start(&self) {
        self.ping("start");
    }

    /// Reports the exit code. Exit 75 (another run holds the lock) sends nothing: the run
    /// that holds it reports for the check.
    pub fn finish(&self, exit: crate::Exit) {
        let exit_code = exit.code();
        if exit != crate::Exit::Locked {
            self.ping(&exit_code.to_string());
        }
    }
}

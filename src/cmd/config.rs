//! `sigov config show|check`: the effective configuration, and whether it works.

use super::ctx::Ctx;
use crate::config::{Config, Format, KEYS};
use crate::db::Db;
use crate::output::Out;
use crate::Exit;
use anyhow::Result;
use serde_json::json;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Effective values and where each came from (secrets redacted)
    #[command(after_long_help = keys_help())]
    Show,
    /// Validate the configuration and connect to the database
    Check,
}

/// Every key with its default, environment variable and meaning: the long help of
/// `config show` and its man page.
pub fn keys_help() -> String {
    let mut s = String::from("Keys (default; environment variable):\n");
    // Then a channel's keys, `channels.NAME.FIELD` (file only).
    for k in KEYS.iter().chain(crate::channels::settings::KEYS.iter()) {
        let env = k.env.map(|e| format!("; {e}")).unwrap_or_default();
        s.push_str(&format!(
            "  {} = {}{env}\n      {}\n",
            k.key, k.default, k.help
        ));
    }
    s
}

pub fn run(ctx: &Ctx<'_>, cmd: &Command) -> Result<Exit> {
    let (cfg, out) = (&ctx.cfg, &ctx.out);
    match cmd {
        Command::Show => {
            out.config_show(cfg);
            Ok(Exit::Ok)
        }
        Command::Check => {
            let url = cfg.require_database_url()?;
            let mut db = Db::connect(url)?;
            let pending = crate::db::migrate::pending(&mut db)?;
            let mail = crate::mail::check_setup(&cfg.mail);
            let demo = crate::demo::is_demo(&mut db)?;
            let risks = risks(cfg, demo);
            out.config_check(cfg, &db, &pending, mail.as_ref(), &risks);
            Ok(
                if pending.is_empty() && mail.as_ref().is_none_or(|m| m.is_ok()) && risks.is_empty()
                {
                    Exit::Ok
                } else {
                    Exit::Failure
                },
            )
        }
    }
}

/// What this configuration would silently lose or hold, one line each naming its key: mail
/// with nowhere to go, links to this machine outside a demo database, JSON printed under cron.
pub fn risks(cfg: &Config, demo: bool) -> Vec<String> {
    let mut v = Vec::new();
    if cfg.mail.transport.is_empty() {
        v.push(
            "mail.transport (SIGOV_MAIL_TRANSPORT) is not set: every alert's mail would wait in the outbox, never sent (smtp://relay:587, smtps://relay:465, sendmail, or file:///dir)"
                .to_owned(),
        );
    }
    let host = cfg
        .mail
        .base_url
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or_default())
        .unwrap_or_default();
    let host = host.rsplit('@').next().unwrap_or_default();
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default(),
    };
    let local = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified());
    if local && !demo {
        v.push(format!(
            "mail.base_url (SIGOV_BASE_URL) is `{}`: every mail's links and logo would point at the reader's own machine; set the web application's address (https://si-gouvernance.example.org)",
            cfg.mail.base_url
        ));
    }
    for c in &cfg.health.checks {
        if !cfg.checks_enabled.contains(c) {
            v.push(format!(
                "health.checks names `{c}`, which checks.enabled (SIGOV_CHECKS) does not run: health would call it late forever (if a cron line of its own runs it, list it in checks.enabled too)",
                c = c.as_str()
            ));
        }
    }
    if cfg.format != Format::Text
        && cfg.layers.source("output.format") == crate::config::Source::File
    {
        v.push(format!(
            "output.format = \"{}\" in the configuration file: every command would print it, so cron would mail every run; give --format {} (or SIGOV_FORMAT) to the one job that reads it",
            cfg.format.name(),
            cfg.format.name()
        ));
    }
    v
}

impl Out<'_> {
    pub fn config_show(&self, cfg: &Config) {
        let shown = cfg.layers.shown();
        if self.format == Format::Json {
            let items: Vec<_> = shown
                .iter()
                .map(|(k, v, s)| json!({"key": k, "value": v, "source": s}))
                .collect();
            self.json(&json!({
                "file": cfg.layers.file,
                "keys": items,
                "rules": cfg.rules,
                "checks": cfg.sections,
            }));
            return;
        }
        match &cfg.layers.file {
            Some(f) => crate::outln!(self, "# configuration file: {}", f.display()),
            None => crate::outln!(self, "# configuration file: none"),
        }
        for (k, v, s) in shown {
            let env = KEYS.iter().find(|x| x.key == k).and_then(|x| x.env);
            let env = env.map(|e| format!(", {e}")).unwrap_or_default();
            crate::outln!(self, "{k} = {v}    # {s}{env}");
        }
        crate::outln!(
            self,
            "# profile {} in effect: {}",
            cfg.rules.profile.name(),
            serde_json::to_string(&cfg.rules).unwrap_or_default()
        );
        // Each check's own settings, as the profile makes them (the reference's fixed values).
        crate::outln!(
            self,
            "# checks' settings in effect: {}",
            serde_json::to_string(&cfg.sections).unwrap_or_default()
        );
    }

    pub fn config_check(
        &self,
        cfg: &Config,
        db: &Db,
        pending: &[String],
        mail: Option<&anyhow::Result<String>>,
        risks: &[String],
    ) {
        let mail_text = match mail {
            None => {
                "not configured: mail waits in the outbox (set SIGOV_MAIL_TRANSPORT)".to_owned()
            }
            Some(Ok(s)) => s.clone(),
            Some(Err(e)) => format!("FAILED: {}", crate::strings::one_line(&format!("{e:#}"))),
        };
        let mail_ok = mail.is_none_or(|m| m.is_ok());
        if self.format == Format::Json {
            self.json(&json!({
                "ok": pending.is_empty() && mail_ok && risks.is_empty(),
                "problems": risks,
                "database": db.url().redacted(),
                "backend": db.backend().name(),
                "pending_migrations": pending,
                "profile": cfg.rules.profile,
                "mail": {"ok": mail_ok, "configured": mail.is_some(), "detail": mail_text},
            }));
            return;
        }
        if !mail_ok {
            crate::say!(ERROR, "sigov: mail: {mail_text}");
        }
        for r in risks {
            crate::say!(ERROR, "sigov: {r}");
        }
        if self.quiet {
            return;
        }
        crate::outln!(
            self,
            "configuration: {} (profile {})",
            if risks.is_empty() {
                "ok".to_owned()
            } else {
                format!("{} problem(s), said above", risks.len())
            },
            cfg.rules.profile.name()
        );
        crate::outln!(
            self,
            "database: {} reachable ({})",
            db.url().redacted(),
            db.backend().name()
        );
        if pending.is_empty() {
            crate::outln!(self, "migrations: up to date");
        } else {
            crate::outln!(
                self,
                "migrations: {} pending ({}); run `sigov db migrate`",
                pending.len(),
                pending.join(", ")
            );
        }
        crate::outln!(self, "mail: {mail_text}");
    }
}

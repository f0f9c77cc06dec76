//! `sigov config show|check`: the effective configuration, and whether it works.

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
    for k in KEYS.iter() {
        let env = k.env.map(|e| format!("; {e}")).unwrap_or_default();
        s.push_str(&format!(
            "  {} = {}{env}\n      {}\n",
            k.key, k.default, k.help
        ));
    }
    s
}

pub fn run(cfg: &Config, out: &Out, cmd: &Command) -> Result<Exit> {
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
            out.config_check(cfg, &db, &pending, mail.as_ref());
            Ok(
                if pending.is_empty() && mail.as_ref().is_none_or(|m| m.is_ok()) {
                    Exit::Ok
                } else {
                    Exit::Failure
                },
            )
        }
    }
}

impl Out<'_> {
    pub fn config_show(&self, cfg: &Config) {
        let shown = cfg.layers.shown();
        if self.format == Format::Json {
            let items: Vec<_> = shown
                .iter()
                .map(|(k, v, s)| json!({"key": k, "value": v, "source": s}))
                .collect();
            self.json(&json!({"file": cfg.layers.file, "keys": items, "rules": cfg.rules}));
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
    }

    pub fn config_check(
        &self,
        cfg: &Config,
        db: &Db,
        pending: &[String],
        mail: Option<&anyhow::Result<String>>,
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
                "ok": pending.is_empty() && mail_ok,
                "database": db.url().redacted(),
                "backend": db.backend().name(),
                "pending_migrations": pending,
                "profile": cfg.rules.profile,
                "mail": {"ok": mail_ok, "configured": mail.is_some(), "detail": mail_text},
            }));
            return;
        }
        if !mail_ok {
            eprintln!("sigov: mail: {mail_text}");
        }
        if self.quiet {
            return;
        }
        crate::outln!(
            self,
            "configuration: ok (profile {})",
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

//! `sigov channels list|test`: the channels of the configuration, what waits for each, and a
//! test message now.

use super::ctx::Ctx;
use crate::config::Format;
use crate::mail::outbox;
use crate::output::Out;
use crate::Exit;
use anyhow::Result;
use serde_json::json;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// The configured channels: name, kind, routing, messages waiting, last delivery (and
    /// channels no longer configured that still hold messages)
    List,
    /// Post a test message to a channel now; its result in one line (exit 0 delivered, 1 not)
    Test {
        /// The channel's name ([channels.NAME])
        #[arg(value_name = "NAME")]
        name: String,
    },
}

/// One channel as `channels list` shows it.
#[derive(Debug, serde::Serialize)]
pub struct Listed {
    pub name: String,
    /// `webhook`, `slack`, `teams`, `matrix`; none for a channel no longer configured.
    pub kind: Option<&'static str>,
    /// Scheme and host only.
    pub url: Option<String>,
    pub routing: Option<String>,
    /// Messages not delivered yet (pending, sending, failed).
    pub waiting: i64,
    pub dead: i64,
    pub unconfirmed: i64,
    pub sent: i64,
    pub last_sent: Option<chrono::NaiveDateTime>,
}

pub fn run(ctx: &Ctx<'_>, cmd: &Command) -> Result<Exit> {
    let (cfg, out) = (&ctx.cfg, &ctx.out);
    match cmd {
        Command::List => {
            let mut db = ctx.db()?;
            let mut lanes = outbox::lane_counts(&mut db)?;
            let mut list = Vec::new();
            let count = |states: &[(String, i64)], which: &[&str]| -> i64 {
                states
                    .iter()
                    .filter(|(s, _)| which.contains(&s.as_str()))
                    .map(|(_, n)| n)
                    .sum()
            };
            let listed = |name: &str, lane: Option<outbox::Lane>| {
                let (states, last_sent) = lane.unwrap_or_default();
                Listed {
                    name: name.to_owned(),
                    kind: None,
                    url: None,
                    routing: None,
                    waiting: count(&states, &["pending", "sending", "failed"]),
                    dead: count(&states, &["dead"]),
                    unconfirmed: count(&states, &["unconfirmed"]),
                    sent: count(&states, &["sent"]),
                    last_sent,
                }
            };
            for ch in &cfg.channels {
                let mut l = listed(&ch.name, lanes.remove(&ch.name));
                l.kind = Some(ch.kind.as_str());
                l.url = Some(ch.shown_url());
                l.routing = Some(ch.routing());
                list.push(l);
            }
            for (name, lane) in lanes {
                list.push(listed(&name, Some(lane)));
            }
            out.channels_listed(&list);
            Ok(Exit::Ok)
        }
        Command::Test { name } => {
            let Some(ch) = cfg.channels.iter().find(|c| &c.name == name) else {
                let names: Vec<&str> = cfg.channels.iter().map(|c| c.name.as_str()).collect();
                return Err(crate::exit::UnknownValue(format!(
                    "no channel `{name}` in the configuration ({})",
                    if names.is_empty() {
                        "none is configured: add a [channels.NAME] table".to_owned()
                    } else {
                        format!("configured: {}", names.join(", "))
                    }
                ))
                .into());
            };
            let clock = ctx.clock()?;
            let result = crate::channels::deliver::test(ch, &cfg.mail, &clock);
            out.channel_tested(ch, &result);
            Ok(if result.is_ok() {
                Exit::Ok
            } else {
                Exit::Failure
            })
        }
    }
}

impl Out<'_> {
    pub fn channels_listed(&self, list: &[Listed]) {
        if self.format == Format::Json {
            self.json(&json!({ "channels": list }));
            return;
        }
        if self.quiet {
            return;
        }
        if list.is_empty() {
            crate::outln!(
                self,
                "no channel configured (see [channels.NAME] in the README)"
            );
            return;
        }
        let cells: Vec<Vec<String>> = list
            .iter()
            .map(|l| {
                vec![
                    l.name.clone(),
                    l.kind.unwrap_or("(not configured)").to_owned(),
                    l.url.clone().unwrap_or_default(),
                    l.routing.clone().unwrap_or_default(),
                    l.waiting.to_string(),
                    l.dead.to_string(),
                    l.unconfirmed.to_string(),
                    l.sent.to_string(),
                    l.last_sent
                        .map(|t| self.at_short(t))
                        .unwrap_or_else(|| "never".to_owned()),
                ]
            })
            .collect();
        self.table_fit(
            &[
                "name",
                "kind",
                "url",
                "routing",
                "waiting",
                "dead",
                "unconfirmed",
                "sent",
                "last sent",
            ],
            &cells,
            &[4, 5, 6, 7],
            200,
            &[3],
        );
    }

    pub fn channel_tested(&self, ch: &crate::channels::Channel, result: &Result<String, String>) {
        let (ok, answer) = match result {
            Ok(a) => (true, a.as_str()),
            Err(e) => (false, e.as_str()),
        };
        if self.format == Format::Json {
            self.json(&json!({"channel": ch.name, "kind": ch.kind.as_str(), "delivered": ok, "answer": answer}));
        } else if ok {
            if !self.quiet {
                crate::outln!(
                    self,
                    "test message to channel {} ({}): {answer}",
                    ch.name,
                    ch.kind.as_str()
                );
            }
        } else {
            crate::say!(
                ERROR,
                "sigov: test message to channel {} ({}) failed: {answer}",
                ch.name,
                ch.kind.as_str()
            );
        }
    }
}

//! `sigov prefs show|set|clear USER`: what a person chose to receive (the web application has
//! no page for it; operators record what people ask).

use super::ctx::Ctx;
use crate::config::Format;
use crate::output::Out;
use crate::prefs::{self, Change, Muted, UserPrefs};
use crate::Exit;
use anyhow::Result;
use serde_json::json;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// A person's choices: mutes (with their last day), per-alert mail or daily digest, mail off
    Show {
        /// Username or user id (core_utilisateur)
        #[arg(value_name = "USER")]
        user: String,
    },
    /// Record choices; each replaces the setting it names. The alert rows are written whatever
    /// they are: only mail follows them
    Set(SetArgs),
    /// Remove a mute (--mute WHAT), or every choice of the person (--all)
    Clear {
        /// Username or user id (core_utilisateur)
        #[arg(value_name = "USER")]
        user: String,
        /// The mute to remove: check:NAME, type:TYPE or project:ID
        #[arg(long, value_name = "WHAT", conflicts_with = "all")]
        mute: Option<String>,
        /// Every choice of the person (back to one mail per alert, nothing muted)
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct SetArgs {
    /// Username or user id (core_utilisateur)
    #[arg(value_name = "USER")]
    pub user: String,
    /// No mail for: check:NAME (tasks), type:TYPE (TACHES_EN_RETARD) or project:ID; repeatable
    #[arg(long, value_name = "WHAT")]
    pub mute: Vec<String>,
    /// Last day of the mutes given (inclusive, business date); without it they hold for good
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::ctx::parse_date_arg, requires = "mute")]
    pub until: Option<chrono::NaiveDate>,
    /// Accept an --until before today (a mute that is already over: recorded, mutes nothing)
    #[arg(long, requires = "until")]
    pub force: bool,
    /// One mail a day at this local time (rules.timezone) listing the day's alerts
    #[arg(long, value_name = "HH:MM", value_parser = parse_hour, conflicts_with = "per_alert")]
    pub digest: Option<chrono::NaiveTime>,
    /// One mail per alert (the default)
    #[arg(long)]
    pub per_alert: bool,
    /// All mail off (`off`) or back on (`on`)
    #[arg(long, value_name = "on|off", value_parser = ["on", "off"])]
    pub mail: Option<String>,
}

fn check_names() -> Vec<&'static str> {
    crate::checks::registry::CheckName::ALL
        .iter()
        .map(|c| c.as_str())
        .collect()
}

fn parse_hour(s: &str) -> Result<chrono::NaiveTime, String> {
    chrono::NaiveTime::parse_from_str(s.trim(), "%H:%M")
        .map_err(|_| format!("`{s}` is not a time of day (HH:MM, 08:00)"))
}

pub fn run(ctx: &Ctx<'_>, cmd: &Command) -> Result<Exit> {
    let (_cfg, out) = (&ctx.cfg, &ctx.out);
    let mut db = ctx.db()?;
    match cmd {
        Command::Show { user } => {
            let u = prefs::find_user(&mut db, user)?;
            let p = prefs::of_user(&mut db, &u.id)?;
            out.prefs(&u, &p);
        }
        Command::Set(a) => {
            let clock = ctx.clock()?;
            if let Some(until) = a.until.filter(|u| *u < clock.today && !a.force) {
                crate::usage!(
                    "prefs set --until {until}: that day is past (today is {}), the mute would silence nothing; give a later day, or --force",
                    clock.today
                );
            }
            let mut changes = Vec::new();
            for m in &a.mute {
                let mut muted =
                    Muted::parse(m, &check_names(), &crate::checks::registry::alert_types())?;
                if let Muted::Project(id) = &muted {
                    // A project that does not exist would mute nothing, silently.
                    if crate::source::project_name(&mut db, id)?.is_none() {
                        crate::usage!(
                            "--mute project:{id}: no such project in core_projet (its id)"
                        );
                    }
                    muted = Muted::Project(crate::rules::unhyphenate(id));
                }
                changes.push(Change::Mute(muted, a.until));
            }
            if let Some(t) = a.digest {
                changes.push(Change::Digest(Some(t)));
            }
            if a.per_alert {
                changes.push(Change::Digest(None));
            }
            if let Some(m) = &a.mail {
                changes.push(Change::MailOff(m == "off"));
            }
            if changes.is_empty() {
                crate::usage!(
                    "prefs set: nothing to set (--mute, --digest, --per-alert or --mail)"
                );
            }
            let u = prefs::find_user(&mut db, &a.user)?;
            prefs::set(&mut db, &u.id, &changes, clock.current())?;
            let p = prefs::of_user(&mut db, &u.id)?;
            out.prefs(&u, &p);
        }
        Command::Clear { user, mute, all } => {
            let what = match (mute, all) {
                (Some(m), _) => Some(
                    match Muted::parse(m, &check_names(), &crate::checks::registry::alert_types())?
                    {
                        // Recorded in the compact form, whichever was given.
                        Muted::Project(id) => Muted::Project(crate::rules::unhyphenate(&id)),
                        other => other,
                    },
                ),
                (None, true) => None,
                (None, false) => crate::usage!("prefs clear: say what (--mute WHAT, or --all)"),
            };
            let u = prefs::find_user(&mut db, user)?;
            let n = prefs::clear(&mut db, &u.id, what.as_ref())?;
            log::info!("{n} choice(s) of {} removed", u.username);
            let p = prefs::of_user(&mut db, &u.id)?;
            out.prefs(&u, &p);
        }
    }
    Ok(Exit::Ok)
}

impl Out<'_> {
    pub fn prefs(&self, u: &prefs::User, p: &UserPrefs) {
        if self.format == Format::Json {
            self.json(&json!({"user": {"id": u.id, "username": u.username}, "prefs": p}));
            return;
        }
        self.line(format_args!("{} ({})", u.username, u.id));
        self.line(format_args!(
            "  mail: {}",
            if p.mail_off { "off" } else { "on" }
        ));
        self.line(format_args!(
            "  delivery: {}",
            match p.digest {
                Some(t) => format!("daily digest at {}", t.format("%H:%M")),
                None => "one mail per alert".to_owned(),
            }
        ));
        if p.mutes.is_empty() {
            self.line(format_args!("  muted: nothing"));
        }
        for m in &p.mutes {
            let what = match &m.what {
                Muted::Check(c) => format!("check:{c}"),
                Muted::Type(t) => format!("type:{t}"),
                Muted::Project(id) => format!("project:{id}"),
            };
            let until = m
                .until
                .map(|d| format!("until {d}"))
                .unwrap_or_else(|| "for good".to_owned());
            self.line(format_args!("  muted: {what} ({until})"));
        }
    }
}

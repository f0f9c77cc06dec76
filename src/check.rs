//! One check run: source → rules → store, wrapped in a run record. A check is a value (its
//! name and what it loads); the run mechanics are shared.

use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::ops::runs;
use crate::rules::{deadlines, Counters, Decisions, NewAlert};
use crate::source;
use anyhow::{anyhow, Result};
use chrono::NaiveDate;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckName {
    Deadlines,
}

impl CheckName {
    /// Every check, in the reference's order.
    pub const ALL: &'static [CheckName] = &[CheckName::Deadlines];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckName::Deadlines => deadlines::CHECK,
        }
    }
}

impl FromStr for CheckName {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "deadlines" => Ok(CheckName::Deadlines),
            other => Err(anyhow!("unknown check `{other}`")),
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub dry_run: bool,
}

/// A created (or, in a dry run, would-be) alert, as reports show it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AlertLine {
    pub id: Option<i64>,
    pub table: &'static str,
    #[serde(rename = "type")]
    pub alert_type: String,
    pub niveau: Option<&'static str>,
    pub recipient: String,
    pub recipient_name: String,
    pub projet: String,
    pub titre: String,
    pub message: String,
    pub mail: &'static str,
}

impl AlertLine {
    fn new(id: Option<i64>, a: &NewAlert) -> AlertLine {
        AlertLine {
            id,
            table: a.target.table(),
            alert_type: a.alert_type.clone(),
            niveau: a.niveau,
            recipient: a.recipient_username.clone(),
            recipient_name: a.recipient_name.clone(),
            projet: a.projet.nom.clone(),
            titre: a.titre.clone(),
            message: a.message.clone(),
            mail: match crate::store::mail_decision(a) {
                Ok(()) => "queued",
                Err(r) => r,
            },
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub check: &'static str,
    pub profile: &'static str,
    pub business_date: NaiveDate,
    pub dry_run: bool,
    pub run_id: Option<i64>,
    pub status: &'static str,
    pub counters: Counters,
    pub alerts: Vec<AlertLine>,
    pub error: Option<String>,
}

/// Runs one check and records it. Errors after the run record exists close it as `failed`.
pub fn run(
    db: &mut Db,
    cfg: &Config,
    clock: &Clock,
    check: CheckName,
    opts: Options,
) -> Result<Report> {
    source::ensure_domain_tables(
        db,
        &[
            "core_statutprojet",
            "core_projet",
            "core_affectation",
            "core_utilisateur",
            "core_alerteprojet",
        ],
    )?;
    let run_id = if opts.dry_run {
        None
    } else {
        Some(runs::start(
            db,
            clock,
            check.as_str(),
            cfg.rules.profile.name(),
        )?)
    };
    let start_statements = db.statements();
    let outcome = execute(db, cfg, clock, check, opts, run_id);
    let mut report = Report {
        check: check.as_str(),
        profile: cfg.rules.profile.name(),
        business_date: clock.today,
        dry_run: opts.dry_run,
        run_id,
        status: "success",
        counters: Counters::default(),
        alerts: Vec::new(),
        error: None,
    };
    match outcome {
        Ok((mut counters, alerts)) => {
            counters.queries = db.statements() - start_statements;
            report.counters = counters;
            report.alerts = alerts;
            if let Some(id) = run_id {
                runs::finish(db, id, "success", 0, &report.counters, None)?;
            }
            Ok(report)
        }
        Err(e) => {
            if let Some(id) = run_id {
                let msg = format!("{e:#}");
                if let Err(e2) = runs::finish(db, id, "failed", 1, &report.counters, Some(&msg)) {
                    log::warn!("cannot close run {id}: {e2:#}");
                }
            }
            Err(e)
        }
    }
}

fn execute(
    db: &mut Db,
    cfg: &Config,
    clock: &Clock,
    check: CheckName,
    opts: Options,
    run_id: Option<i64>,
) -> Result<(Counters, Vec<AlertLine>)> {
    let rules = &cfg.rules;
    let decisions: Decisions = match check {
        CheckName::Deadlines => {
            let en_cours = source::statut_id(db, "EN_COURS")?.ok_or_else(|| {
                anyhow!("status `EN_COURS` not found in core_statutprojet: no project can be checked (the reference printed `❌ Statut EN_COURS non trouvé`)")
            })?;
            let src =
                source::deadline_candidates(db, en_cours, deadlines::horizon(rules, clock.today))?;
            let since = clock
                .today
                .checked_sub_days(chrono::Days::new(deadlines::lookback_days(rules) as u64))
                .unwrap_or(clock.today);
            let seen = source::seen(
                db,
                clock,
                deadlines::CHECK,
                &deadlines::all_types(rules),
                since,
            )?;
            let mut d = deadlines::evaluate(src.candidates, rules, clock.today, &seen);
            d.counters.candidates = src.total_candidates.max(0) as u64;
            d
        }
    };
    let Decisions {
        alerts,
        superseded,
        mut counters,
    } = decisions;
    if opts.dry_run {
        let lines = alerts.iter().map(|a| AlertLine::new(None, a)).collect();
        for a in &alerts {
            counters.count_created(a, crate::store::mail_decision(a));
        }
        counters.superseded = superseded.len() as u64;
        return Ok((counters, lines));
    }
    let written = crate::store::write(db, clock, run_id, alerts, superseded, &mut counters)?;
    let lines = written
        .alerts
        .iter()
        .map(|(id, a)| AlertLine::new(Some(*id), a))
        .collect();
    Ok((counters, lines))
}

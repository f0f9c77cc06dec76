//! `sigov stats`: what was alerted and mailed over a window, how fast mail went out, and how
//! long the checks ran. Aggregated in the database (alerts), or read a page at a time (delays,
//! runs): a constant number of statements a page, whatever the window.

use crate::db::text::Lossy;
use crate::db::{Db, Mark, Val};
use anyhow::{Context, Result};
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::QueryableByName;
use std::collections::BTreeMap;

/// How the alerts are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum By {
    Check,
    Type,
    Project,
    Recipient,
    Day,
}

/// Mail outcomes of a group of alerts (their first mail; `none`: no outbox row, `other`: not
/// sigov's rows).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Outcomes {
    pub sent: u64,
    pub pending: u64,
    pub failed: u64,
    pub dead: u64,
    /// Handed over twice without the relay's answer (it may have arrived).
    pub unconfirmed: u64,
    pub none: u64,
    pub not_from_sigov: u64,
}

impl Outcomes {
    fn add(&mut self, state: &str, from_sigov: bool, n: u64) {
        match state {
            "sent" => self.sent += n,
            "pending" | "sending" => self.pending += n,
            "failed" => self.failed += n,
            "dead" => self.dead += n,
            "unconfirmed" => self.unconfirmed += n,
            _ if from_sigov => self.none += n,
            _ => self.not_from_sigov += n,
        }
    }

    pub fn total(&self) -> u64 {
        self.sent
            + self.pending
            + self.failed
            + self.dead
            + self.unconfirmed
            + self.none
            + self.not_from_sigov
    }
}

/// One group's alerts and their mail.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Group {
    pub key: String,
    pub alerts: u64,
    pub mail: Outcomes,
}

/// Median, 95th percentile and maximum of some durations, in seconds.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Spread {
    pub count: u64,
    pub median: Option<f64>,
    pub p95: Option<f64>,
    pub max: Option<f64>,
}

impl Spread {
    pub fn of(mut v: Vec<f64>) -> Spread {
        v.retain(|x| x.is_finite());
        v.sort_by(f64::total_cmp);
        let pick = |q: f64| -> Option<f64> {
            if v.is_empty() {
                return None;
            }
            // Nearest rank.
            let rank = (q * v.len() as f64).ceil().max(1.0) as usize;
            v.get(rank.min(v.len()) - 1).copied()
        };
        Spread {
            count: v.len() as u64,
            median: pick(0.5),
            p95: pick(0.95),
            max: v.last().copied(),
        }
    }
}

/// A check's runs over the window.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RunStats {
    pub check: String,
    pub runs: u64,
    pub failed: u64,
    pub interrupted: u64,
    pub duration: Spread,
    /// (start, seconds) of each finished run, oldest first: the chart's points.
    #[serde(skip)]
    pub points: Vec<(chrono::NaiveDateTime, f64)>,
}

/// Everything `sigov stats` shows.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Stats {
    /// UTC.
    pub since: String,
    pub until: String,
    pub by: By,
    pub alerts: u64,
    pub mail: Outcomes,
    pub groups: Vec<Group>,
    /// Alerts per day (UTC) and check (`""`: not from sigov), for the charts.
    pub per_day: BTreeMap<String, BTreeMap<String, u64>>,
    /// Queue to sent, of the mails sent in the window.
    pub delivery: Spread,
    /// Outbox rows queued in the window, by state (resent mails included).
    pub outbox: BTreeMap<String, u64>,
    /// Each channel's messages queued in the window, and how fast they went.
    pub channels: BTreeMap<String, ChannelStats>,
    /// Acknowledgements and snoozes given in the window, by `kind how` (`ack cli`,
    /// `snooze reply`).
    pub holds: BTreeMap<String, u64>,
    pub runs: Vec<RunStats>,
}

/// A channel's messages over the window.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ChannelStats {
    /// Rows queued in the window, by state (one row an alert and channel).
    pub queued: BTreeMap<String, u64>,
    /// Queue to sent, of the rows delivered in the window.
    pub delivery: Spread,
}

#[derive(QueryableByName)]
struct GroupRow {
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    day: String,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    chk: String,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    grp: String,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    mail: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn alert_groups(
    db: &mut Db,
    table: super::alerts::Table,
    by: By,
    since: &str,
    until: &str,
) -> Result<Vec<GroupRow>> {
    use super::alerts::Table;
    let (typ, project_join) = match table {
        Table::Alert => (
            "a.type_alerte",
            "LEFT JOIN core_projet p ON p.id = a.projet_id",
        ),
        Table::Notification => (
            "a.type_notification",
            "LEFT JOIN core_etapeprojet e ON e.id = a.etape_id LEFT JOIN core_projet p ON p.id = e.projet_id",
        ),
    };
    let day = db.date_text("a.date_creation");
    let (grp, join) = match by {
        By::Check => ("COALESCE(l.check_name, '')".to_owned(), ""),
        By::Type => (typ.to_owned(), ""),
        By::Project => ("COALESCE(p.nom, '')".to_owned(), project_join),
        By::Recipient => (
            "COALESCE(u.username, '')".to_owned(),
            "LEFT JOIN core_utilisateur u ON u.id = a.destinataire_id",
        ),
        By::Day => (day.clone(), ""),
    };
    let sql = format!(
        "SELECT {day} AS day, COALESCE(l.check_name, '') AS chk, {grp} AS grp, \
         COALESCE(o.state, '') AS mail, COUNT(*) AS n \
         FROM {tbl} a \
         LEFT JOIN sigov_alert_ledger l ON l.target_table = '{tbl}' AND l.alert_id = a.id \
         LEFT JOIN sigov_outbox o ON o.alert_key = l.alert_key \
         {join} \
         WHERE a.date_creation >= {at} AND a.date_creation < {at} \
         GROUP BY {day}, COALESCE(l.check_name, ''), {grp}, COALESCE(o.state, '')",
        tbl = table.sql_name(),
        at = db.mark(Mark::AppStamp),
    );
    db.load(&sql, &[Val::from(since), Val::from(until)])
        .with_context(|| format!("cannot count {}", table.sql_name()))
}

#[derive(QueryableByName)]
struct DelayRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    created_at: chrono::NaiveDateTime,
    #[diesel(sql_type = Nullable<diesel::sql_types::Timestamp>)]
    sent_at: Option<chrono::NaiveDateTime>,
}

#[derive(QueryableByName)]
struct StateRow {
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    channel: String,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    state: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Rows a statement reads.
const PAGE: usize = 5000;

/// Queue-to-sent delays of one lane's rows (mail: [`crate::mail::outbox::MAIL_LANE`]) sent in
/// the window.
fn delivery(db: &mut Db, lane: &str, since: &str, until: &str) -> Result<Spread> {
    let mut delays = Vec::new();
    let mut after = 0i64;
    loop {
        let sql = format!(
            "SELECT id, created_at, sent_at FROM sigov_outbox \
             WHERE channel = ? AND state = 'sent' AND sent_at >= {at} AND sent_at < {at} AND id > ? ORDER BY id LIMIT {PAGE}",
            at = db.mark(Mark::Stamp),
        );
        let vals = [
            Val::from(lane),
            Val::from(since),
            Val::from(until),
            Val::Int(after),
        ];
        let rows: Vec<DelayRow> = db.load(&sql, &vals).context("cannot read the outbox")?;
        for r in &rows {
            if let (c, Some(s)) = (r.created_at, r.sent_at) {
                if let Some(us) = (s - c).num_microseconds() {
                    delays.push(us.max(0) as f64 / 1e6);
                }
            }
        }
        match rows.last() {
            Some(last) if rows.len() == PAGE => after = last.id,
            _ => break,
        }
    }
    Ok(Spread::of(delays))
}

fn runs(db: &mut Db, since: &str, until: &str) -> Result<Vec<RunStats>> {
    let mut by: BTreeMap<String, (RunStats, Vec<f64>)> = BTreeMap::new();
    let mut before = None;
    loop {
        let rows = super::runs::list(
            db,
            &super::runs::Filter {
                since: Some(since.to_owned()),
                until: Some(until.to_owned()),
                before_id: before,
                limit: PAGE as u64,
                ..Default::default()
            },
        )?;
        for r in &rows {
            let e = by.entry(r.check_name.clone()).or_insert_with(|| {
                (
                    RunStats {
                        check: r.check_name.clone(),
                        ..Default::default()
                    },
                    Vec::new(),
                )
            });
            e.0.runs += 1;
            match r.status {
                crate::states::RunStatus::Failed => e.0.failed += 1,
                crate::states::RunStatus::Interrupted => e.0.interrupted += 1,
                _ => {}
            }
            if r.finished_at.is_some() && r.status != crate::states::RunStatus::Interrupted {
                if let (Some(d), start) = (r.duration_secs(), r.started_at) {
                    e.1.push(d);
                    e.0.points.push((start, d));
                }
            }
        }
        match rows.last() {
            Some(last) if rows.len() == PAGE => before = Some(last.id),
            _ => break,
        }
    }
    Ok(by
        .into_values()
        .map(|(mut s, d)| {
            s.duration = Spread::of(d);
            s.points.sort_by_key(|p| p.0);
            s
        })
        .collect())
}

/// The statistics of the window from `since` to `now` (UTC), alerts grouped `by`.
pub fn compute(
    db: &mut Db,
    since: chrono::NaiveDateTime,
    now: chrono::NaiveDateTime,
    by: By,
) -> Result<Stats> {
    let since_s = crate::clock::format_datetime(since);
    let until_s = crate::clock::format_datetime(now);
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    let mut per_day: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut total = Outcomes::default();
    let mut alerts = 0u64;
    for t in super::alerts::Table::BOTH {
        for r in alert_groups(db, t, by, &since_s, &until_s)? {
            let n = u64::try_from(r.n).unwrap_or(0);
            let from_sigov = !r.chk.is_empty();
            let key = match (by, r.grp.as_str()) {
                (By::Check, "") => "(not from sigov)".to_owned(),
                (_, "") => "(none)".to_owned(),
                (_, g) => g.to_owned(),
            };
            let g = groups.entry(key.clone()).or_insert_with(|| Group {
                key,
                ..Default::default()
            });
            g.alerts += n;
            g.mail.add(&r.mail, from_sigov, n);
            total.add(&r.mail, from_sigov, n);
            alerts += n;
            *per_day
                .entry(r.day.clone())
                .or_default()
                .entry(r.chk.clone())
                .or_default() += n;
        }
    }
    let mut groups: Vec<Group> = groups.into_values().collect();
    if by != By::Day {
        groups.sort_by(|a, b| b.alerts.cmp(&a.alerts).then(a.key.cmp(&b.key)));
    }
    let outbox_rows: Vec<StateRow> = db
        .load(
            &format!(
                "SELECT channel, state, COUNT(*) AS n FROM sigov_outbox WHERE created_at >= {m} AND created_at < {m} GROUP BY channel, state",
                m = db.mark(Mark::Stamp)
            ),
            &[Val::from(since_s.as_str()), Val::from(until_s.as_str())],
        )
        .context("cannot count the outbox")?;
    let mut outbox = BTreeMap::new();
    let mut channels: BTreeMap<String, ChannelStats> = BTreeMap::new();
    for r in outbox_rows {
        let n = u64::try_from(r.n).unwrap_or(0);
        if r.channel == crate::mail::outbox::MAIL_LANE {
            outbox.insert(r.state, n);
        } else {
            channels
                .entry(r.channel)
                .or_default()
                .queued
                .insert(r.state, n);
        }
    }
    for (name, c) in channels.iter_mut() {
        c.delivery = delivery(db, name, &since_s, &until_s)?;
    }
    let holds = crate::ack::given_between(db, since, now)?
        .into_iter()
        .map(|(kind, how, n)| (format!("{kind} {how}"), u64::try_from(n).unwrap_or(0)))
        .collect();
    Ok(Stats {
        since: since_s.clone(),
        until: until_s.clone(),
        by,
        alerts,
        mail: total,
        groups,
        per_day,
        delivery: delivery(db, crate::mail::outbox::MAIL_LANE, &since_s, &until_s)?,
        outbox,
        channels,
        holds,
        runs: runs(db, &since_s, &until_s)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_by_nearest_rank() {
        let s = Spread::of((1..=100).map(f64::from).collect());
        assert_eq!(s.count, 100);
        assert_eq!(s.median, Some(50.0));
        assert_eq!(s.p95, Some(95.0));
        assert_eq!(s.max, Some(100.0));
        let one = Spread::of(vec![2.5]);
        assert_eq!(
            (one.median, one.p95, one.max),
            (Some(2.5), Some(2.5), Some(2.5))
        );
        assert_eq!(Spread::of(Vec::new()).median, None);
        let nan = Spread::of(vec![f64::NAN, 1.0]);
        assert_eq!(nan.count, 1);
    }
}

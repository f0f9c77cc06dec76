//! Acknowledgements and snoozes, table `sigov_ack` (sigov's own): `sigov ack`, `sigov snooze`
//! and replies by e-mail record them; each check's run reads those in force once
//! ([`Acks::load`]) and the rules hold the alert's repeats and escalation
//! ([`crate::rules::hold`]). A hold is about an alert for everybody who receives it: its check,
//! alert type and entity, taken from the ledger key of the row it was given on.

use crate::db::schema::sigov_ack::dsl as k;
use crate::db::{dsl_execute, dsl_load, Db};
use crate::rules::{Hold, HoldKind, Holds};
use anyhow::{Context, Result};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};
use std::collections::HashMap;

/// One row of `sigov_ack`.
#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, serde::Serialize)]
#[diesel(table_name = crate::db::schema::sigov_ack)]
pub struct AckRow {
    pub id: i64,
    pub kind: String,
    pub check_name: String,
    pub alert_type: String,
    pub entity: String,
    pub arm: Option<String>,
    pub until_date: Option<NaiveDate>,
    pub alert_key: String,
    pub by_user: String,
    /// `cli`, or `reply` (a reply by e-mail).
    pub how: String,
    pub note: Option<String>,
    /// UTC.
    pub created_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
    /// `rearmed` (its entity changed), `replaced` (a newer hold of the same alert), `ended`
    /// (`sigov ack --end`).
    pub end_reason: Option<String>,
}

impl AckRow {
    pub fn kind(&self) -> HoldKind {
        HoldKind::parse(&self.kind).unwrap_or(HoldKind::Ack)
    }

    /// Whether it holds on business day `today` (not ended; a snooze before its day).
    pub fn in_force(&self, today: NaiveDate) -> bool {
        self.ended_at.is_none()
            && !(self.kind() == HoldKind::Snooze && self.until_date.is_some_and(|u| today >= u))
    }

    /// Its state in words: `in force`, `over (snooze ended 26/11/2026)`, `ended: rearmed`.
    pub fn state(&self, today: NaiveDate) -> String {
        match (&self.ended_at, &self.end_reason) {
            (Some(_), Some(r)) => format!("ended: {r}"),
            (Some(_), None) => "ended".to_owned(),
            (None, _) if self.in_force(today) => "in force".to_owned(),
            (None, _) => "over (its day has come)".to_owned(),
        }
    }
}

/// The holds in force, by check, as the runs read them.
#[derive(Debug, Default)]
pub struct Acks {
    by_check: HashMap<String, Holds>,
}

impl Acks {
    /// Reads the holds not ended (one statement), with the day each was given in `tz`.
    pub fn load(db: &mut Db, tz: chrono_tz::Tz) -> Result<Acks> {
        let rows: Vec<AckRow> = dsl_load!(
            db,
            k::sigov_ack
                .select(AckRow::as_select())
                .filter(k::ended_at.is_null())
                .order(k::id)
        )
        .context("cannot read acknowledgements (sigov_ack)")?;
        let mut by_check: HashMap<String, Holds> = HashMap::new();
        for r in rows {
            let on = chrono::TimeZone::from_utc_datetime(&tz, &r.created_at).date_naive();
            let hold = Hold {
                id: r.id,
                kind: r.kind(),
                arm: r.arm.clone(),
                until: r.until_date,
                by: r.by_user.clone(),
                on,
                note: r.note.clone(),
            };
            by_check.entry(r.check_name.clone()).or_default().insert(
                &r.alert_type,
                &r.entity,
                hold,
            );
        }
        Ok(Acks { by_check })
    }

    /// `respond.read_is_ack`: each repeating alert a recipient read in the application (`lue`)
    /// over the last 31 business days holds like an acknowledgement by them, while its entity
    /// says the same (two statements, one per alert table).
    pub fn add_read(&mut self, db: &mut Db, today: NaiveDate) -> Result<()> {
        #[derive(diesel::QueryableByName)]
        struct Read {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            alert_id: i64,
            #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = crate::db::text::Lossy)]
            alert_key: String,
            #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = crate::db::text::Lossy)]
            recipient_id: String,
            #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = crate::db::text::Lossy)]
            check_name: String,
            #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = crate::db::text::Lossy)]
            arm: String,
            #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = crate::db::text::Lossy)]
            username: String,
        }
        let since = today - chrono::Days::new(31);
        for table in ["core_alerteprojet", "core_notificationetape"] {
            let sql = format!(
                "SELECT l.alert_id AS alert_id, l.alert_key AS alert_key, l.recipient_id AS recipient_id, \
                 l.check_name AS check_name, l.arm AS arm, COALESCE(u.username, '') AS username \
                 FROM sigov_alert_ledger l JOIN {table} a ON a.id = l.alert_id \
                 LEFT JOIN core_utilisateur u ON u.id = a.destinataire_id \
                 WHERE l.target_table = '{table}' AND l.arm IS NOT NULL AND l.business_date >= {} \
                 AND {} = 1",
                db.mark(crate::db::Mark::Date),
                db.flag("a.lue")
            );
            let rows: Vec<Read> = db
                .load(&sql, &[crate::db::Val::from(since.to_string().as_str())])
                .with_context(|| format!("cannot read the alerts read in {table}"))?;
            for r in rows {
                let Some(about) = About::of_key(&r.alert_key, &r.recipient_id) else {
                    continue;
                };
                let hold = Hold {
                    // Not a row of sigov_ack: negative, never ended by a run.
                    id: -r.alert_id,
                    kind: HoldKind::Ack,
                    arm: Some(r.arm),
                    until: None,
                    by: format!("{} (lue dans l'application)", r.username),
                    on: today,
                    note: None,
                };
                self.by_check.entry(r.check_name).or_default().insert(
                    &about.alert_type,
                    &about.entity,
                    hold,
                );
            }
        }
        Ok(())
    }

    /// The holds of `check` (empty when none).
    pub fn of_check(&self, check: &str) -> Holds {
        self.by_check.get(check).cloned().unwrap_or_default()
    }
}

/// What a hold is about, from the ledger key of an alert (`check:TYPE:entity:recipient[:…]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct About {
    pub check: String,
    pub alert_type: String,
    pub entity: String,
    pub recipient: String,
}

impl About {
    /// From a ledger key and its row's recipient: the entity is what lies between the type and
    /// `:recipient` (an entity may hold `:`, a module task's `p/module:12`).
    pub fn of_key(key: &str, recipient: &str) -> Option<About> {
        let (check, rest) = key.split_once(':')?;
        let (alert_type, rest) = rest.split_once(':')?;
        let marker = format!(":{recipient}");
        let end = if recipient.is_empty() {
            None
        } else {
            rest.match_indices(&marker)
                .map(|(at, _)| at)
                .find(|at| matches!(rest.as_bytes().get(at + marker.len()), None | Some(b':')))
        }?;
        let entity = &rest[..end];
        if [check, alert_type, entity].iter().any(|p| p.is_empty()) {
            return None;
        }
        Some(About {
            check: check.to_owned(),
            alert_type: alert_type.to_owned(),
            entity: entity.to_owned(),
            recipient: recipient.to_owned(),
        })
    }
}

/// A hold to record.
pub struct NewHold<'a> {
    pub kind: HoldKind,
    /// The ledger key of the alert row it was given on.
    pub alert_key: &'a str,
    pub about: &'a About,
    /// What the alert was raised on (the ledger's `arm`).
    pub arm: Option<&'a str>,
    pub until: Option<NaiveDate>,
    pub by: &'a str,
    pub how: &'a str,
    pub note: Option<&'a str>,
}

/// Records `h` at `now` (UTC), ending the holds of the same alert still in force (`replaced`):
/// the newest word counts. Returns its id.
pub fn record(db: &mut Db, h: &NewHold<'_>, now: NaiveDateTime) -> Result<i64> {
    let now = crate::clock::to_micros(now);
    db.transaction(|db| {
        dsl_execute!(
            db,
            diesel::update(
                k::sigov_ack
                    .filter(k::check_name.eq(&h.about.check))
                    .filter(k::alert_type.eq(&h.about.alert_type))
                    .filter(k::entity.eq(&h.about.entity))
                    .filter(k::ended_at.is_null())
            )
            .set((
                k::ended_at.eq(Some(now)),
                k::end_reason.eq(Some("replaced")),
            ))
        )
        .context("cannot end the earlier acknowledgements")?;
        dsl_execute!(
            db,
            diesel::insert_into(k::sigov_ack).values((
                k::kind.eq(h.kind.as_str()),
                k::check_name.eq(&h.about.check),
                k::alert_type.eq(&h.about.alert_type),
                k::entity.eq(&h.about.entity),
                k::arm.eq(h.arm),
                k::until_date.eq(h.until),
                k::alert_key.eq(h.alert_key),
                k::by_user.eq(h.by),
                k::how.eq(h.how),
                k::note.eq(h.note),
                k::created_at.eq(now),
            ))
        )
        .context("cannot record the acknowledgement")?;
        db.last_insert_id()
            .context("cannot read the acknowledgement's id")
    })
}

/// What the alert with ledger key `key` is about, and what it was raised on (`None`: alerted
/// once, or raised before sigov kept it); `None` when the ledger has no such key or the key
/// does not say.
pub fn about(db: &mut Db, key: &str) -> Result<Option<(About, Option<String>)>> {
    use crate::db::schema::sigov_alert_ledger::dsl as l;
    let rows: Vec<(String, Option<String>)> = dsl_load!(
        db,
        l::sigov_alert_ledger
            .select((l::recipient_id, l::arm))
            .filter(l::key_hash.eq(&crate::db::keyhash::of(key)[..]))
    )
    .context("cannot read the alert ledger")?;
    Ok(rows
        .into_iter()
        .next()
        .and_then(|(rec, arm)| About::of_key(key, &rec).map(|a| (a, arm))))
}

/// With `recommended.max_repeats`: the repeating alerts of `check` recorded `at_least` times or
/// more for one recipient and arm, with their count, by (type, entity id, recipient, arm): one
/// statement, the counting done by the database.
pub fn repeats_near(
    db: &mut Db,
    check: &str,
    at_least: i64,
) -> Result<HashMap<(String, String, String, String), i64>> {
    #[derive(diesel::QueryableByName)]
    struct R {
        #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = crate::db::text::Lossy)]
        alert_type: String,
        #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = crate::db::text::Lossy)]
        entity_id: String,
        #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = crate::db::text::Lossy)]
        recipient_id: String,
        #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = crate::db::text::Lossy)]
        arm: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let rows: Vec<R> = db
        .load(
            "SELECT alert_type, entity_id, recipient_id, arm, COUNT(*) AS n FROM sigov_alert_ledger \
             WHERE check_name = ? AND arm IS NOT NULL AND state = 'created' \
             GROUP BY alert_type, entity_id, recipient_id, arm HAVING COUNT(*) >= ?",
            &[crate::db::Val::from(check), crate::db::Val::Int(at_least)],
        )
        .context("cannot count the repeats in the alert ledger")?;
    Ok(rows
        .into_iter()
        .map(|r| ((r.alert_type, r.entity_id, r.recipient_id, r.arm), r.n))
        .collect())
}

/// The day a snooze of `n` days given on `today` ends for an alert of `check`: `n` open days
/// later when the check counts open days (`calendar.business_days`), else `n` days later.
pub fn snooze_until(
    rules: &crate::rules::Rules,
    check: &str,
    today: NaiveDate,
    n: u32,
) -> Option<NaiveDate> {
    if rules.placement(check).business {
        rules.calendar.open_days_after(today, n)
    } else {
        today.checked_add_days(chrono::Days::new(u64::from(n)))
    }
}

/// Ends the holds `ids` still in force at `now`, for `reason`. Returns how many.
pub fn end(db: &mut Db, ids: &[i64], now: NaiveDateTime, reason: &str) -> Result<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    let now = crate::clock::to_micros(now);
    dsl_execute!(
        db,
        diesel::update(
            k::sigov_ack
                .filter(k::id.eq_any(ids))
                .filter(k::ended_at.is_null())
        )
        .set((k::ended_at.eq(Some(now)), k::end_reason.eq(Some(reason))))
    )
    .context("cannot end acknowledgements")
}

/// The holds, newest first, at most `limit`: those not ended (`all` false), or every one.
pub fn list(db: &mut Db, all: bool, limit: u64) -> Result<Vec<AckRow>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = if all {
        dsl_load!(
            db,
            k::sigov_ack
                .select(AckRow::as_select())
                .order(k::id.desc())
                .limit(limit)
        )
    } else {
        dsl_load!(
            db,
            k::sigov_ack
                .select(AckRow::as_select())
                .filter(k::ended_at.is_null())
                .order(k::id.desc())
                .limit(limit)
        )
    };
    rows.context("cannot read acknowledgements (sigov_ack)")
}

/// Every hold of the alert `about` is about (whoever received it), oldest first.
pub fn of_alert(db: &mut Db, about: &About) -> Result<Vec<AckRow>> {
    dsl_load!(
        db,
        k::sigov_ack
            .select(AckRow::as_select())
            .filter(k::check_name.eq(&about.check))
            .filter(k::alert_type.eq(&about.alert_type))
            .filter(k::entity.eq(&about.entity))
            .order(k::id)
    )
    .context("cannot read acknowledgements (sigov_ack)")
}

/// Holds given over a window (UTC `[since, until)`), by kind and how: for `stats`.
pub fn given_between(
    db: &mut Db,
    since: NaiveDateTime,
    until: NaiveDateTime,
) -> Result<Vec<(String, String, i64)>> {
    dsl_load!(
        db,
        k::sigov_ack
            .filter(k::created_at.ge(crate::clock::to_micros(since)))
            .filter(k::created_at.lt(crate::clock::to_micros(until)))
            .group_by((k::kind, k::how))
            .select((k::kind, k::how, diesel::dsl::count_star()))
    )
    .context("cannot count acknowledgements (sigov_ack)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_says_what_an_alert_is_about() {
        let a = About::of_key("tasks:TACHE_EN_RETARD:p1/t9:u7:2026-11-23", "u7").expect("key");
        assert_eq!(
            (a.check.as_str(), a.alert_type.as_str(), a.entity.as_str()),
            ("tasks", "TACHE_EN_RETARD", "p1/t9")
        );
        // A module task's entity holds a colon.
        let m = About::of_key("tasks:TACHE_EN_RETARD:p1/module:12:u7", "u7").expect("key");
        assert_eq!(m.entity, "p1/module:12");
        // The recipient must be a whole part, not the start of one.
        let p = About::of_key("tasks:T:p1/module:u7x:u7:2026-11-23", "u7").expect("key");
        assert_eq!(p.entity, "p1/module:u7x");
        assert!(About::of_key("budget:X:p1", "u7").is_none());
        assert!(About::of_key("core_alerteprojet#12", "u7").is_none());
        assert!(About::of_key("budget:X:p1:u7", "").is_none());
    }
}

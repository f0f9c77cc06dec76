//! The outbox table's life cycle: pending → sending (claimed with a token and a lease) → sent;
//! or failed (retried at `next_attempt_at`) → … → dead. A claim is one UPDATE guarded by the
//! row's state, so two senders on two hosts never take the same row, and a sender that died
//! leaves rows that become due again when its lease ends.

use crate::clock::{format_datetime, to_micros};
use crate::db::schema::sigov_outbox::dsl as o;
use crate::db::{dsl_execute, Db, Mark, Val};
use anyhow::{Context, Result};
use chrono::NaiveDateTime;
use diesel::dsl::case_when;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::QueryableByName;
use diesel::{BoolExpressionMethods, ExpressionMethods, QueryDsl};

pub use crate::states::MailState;

#[derive(Debug, Clone, QueryableByName, serde::Serialize)]
pub struct Row {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text, deserialize_as = crate::db::text::Lossy)]
    pub alert_key: String,
    #[diesel(sql_type = Text, deserialize_as = crate::db::text::Lossy)]
    pub recipient_email: String,
    #[diesel(sql_type = Text)]
    pub kind: crate::states::MailKind,
    #[diesel(sql_type = Text, deserialize_as = crate::db::text::Lossy)]
    #[serde(skip)]
    pub payload: String,
    /// What the mail shows of its alert, stored once for the mails that show the same
    /// (`sigov_mail_snapshot`); `None` for rows queued before snapshots.
    #[diesel(sql_type = Nullable<Text>, deserialize_as = crate::db::text::LossyOpt)]
    #[serde(skip)]
    pub snapshot: Option<String>,
    #[diesel(sql_type = Text)]
    pub state: MailState,
    #[diesel(sql_type = BigInt)]
    pub attempts: i64,
    /// Hand-overs that got no final answer (see [`crate::delivery`]).
    #[diesel(sql_type = BigInt)]
    pub unconfirmed: i64,
    /// UTC, as every time of sigov's own tables.
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    pub created_at: chrono::NaiveDateTime,
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    pub next_attempt_at: chrono::NaiveDateTime,
    #[diesel(sql_type = Nullable<diesel::sql_types::Timestamp>)]
    pub sent_at: Option<chrono::NaiveDateTime>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = crate::db::text::LossyOpt)]
    pub message_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = crate::db::text::LossyOpt)]
    pub last_error: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = crate::db::text::LossyOpt)]
    pub last_response: Option<String>,
    /// The mails of one batch (a daily digest) go as one message.
    #[diesel(sql_type = Nullable<Text>, deserialize_as = crate::db::text::LossyOpt)]
    pub batch_key: Option<String>,
}

fn columns(db: &Db) -> String {
    format!(
        "id, alert_key, recipient_email, kind, payload, \
         (SELECT body FROM sigov_mail_snapshot WHERE sigov_mail_snapshot.id = sigov_outbox.snapshot_id) AS snapshot, \
         state, {} AS attempts, {} AS unconfirmed, created_at, \
         next_attempt_at, sent_at, message_id, last_error, last_response, batch_key",
        db.int("attempts"),
        db.int("unconfirmed"),
    )
}

/// Rows a sender of one lane (mail, or a channel: see [`MAIL_LANE`]) may take at `now`: due
/// pending or failed rows, and rows whose sender's lease ended before `lease_cutoff`. Three
/// binds: the lane, now, lease_cutoff.
fn due(db: &Db) -> String {
    format!(
        "channel = ? AND ((state IN ('{}', '{}') AND next_attempt_at <= {at}) OR (state = '{}' AND claimed_at < {at}))",
        MailState::Pending,
        MailState::Failed,
        MailState::Sending,
        at = db.mark(Mark::Stamp)
    )
}

fn due_vals(lane: &str, now: &str, cutoff: &str) -> [Val; 3] {
    [Val::from(lane), Val::from(now), Val::from(cutoff)]
}

/// The lane of mail in `sigov_outbox.channel`; a channel's rows carry its name.
pub const MAIL_LANE: &str = "";

#[derive(QueryableByName)]
struct PickRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text, deserialize_as = crate::db::text::Lossy)]
    recipient_email: String,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = crate::db::text::LossyOpt)]
    batch_key: Option<String>,
}

/// The pick of a claim in one state: the lane's first `take` due rows of `state`, in the order
/// of the `(channel, state, next_attempt_at, id)` index, so that the server reads `take` index
/// entries whatever the queue holds (PostgreSQL, whose index entries are not ordered by id,
/// sorted every due row before the index named it: 0.13–0.3 s a claim behind 300,000 rows).
/// Three binds: the lane, the state, and now (pending, failed) or the lease cutoff (sending).
/// `urgent_only`: only critical alerts' mail (a delivery in quiet hours with
/// `mail.critical_bypass`).
pub fn pick_sql(db: &Db, state: MailState, take: u64, urgent_only: bool) -> String {
    let m = db.mark(Mark::Stamp);
    let urgent = if urgent_only { "urgent = 1 AND " } else { "" };
    let cond = match state {
        MailState::Sending => format!("claimed_at < {m} ORDER BY next_attempt_at, id"),
        _ => format!("next_attempt_at <= {m} ORDER BY next_attempt_at, id"),
    };
    format!(
        "SELECT id, recipient_email, batch_key FROM sigov_outbox WHERE channel = ? AND state = ? AND {urgent}{cond} \
         LIMIT {take}{}",
        db.skip_locked_sql()
    )
}

/// The claim of the picked rows `ids` under `token` at `now`. By id alone: the rows were
/// picked due in this transaction and are still (MySQL: locked by `FOR UPDATE`; SQLite: the
/// transaction is the only writer). Repeating the due condition here made SQLite, which has no
/// statistics, walk every due row of the `(state, next_attempt_at)` index for each claim instead
/// of fetching the ids (a claim's cost grew with the queue; see [`claim_plan`]).
macro_rules! claim_update {
    ($ids:expr, $token:expr, $now:expr) => {
        diesel::update(o::sigov_outbox.filter(o::id.eq_any($ids))).set((
            o::state.eq(MailState::Sending.as_str()),
            o::claim_token.eq(Some($token)),
            o::claimed_at.eq(Some($now)),
            o::updated_at.eq($now),
        ))
    };
}

#[cfg(feature = "sqlite")]
#[derive(QueryableByName)]
struct PlanRow {
    #[diesel(sql_type = Text, deserialize_as = crate::db::text::Lossy)]
    detail: String,
}

/// SQLite's plan for a claim of `n` rows, one line a step (for tests: the claim must fetch its
/// rows by id whatever the queue's size).
#[cfg(feature = "sqlite")]
#[doc(hidden)]
pub fn claim_plan(db: &mut Db, n: usize) -> Result<Vec<String>> {
    let ids: Vec<i64> = (1..=i64::try_from(n)?).collect();
    let now = to_micros(chrono::NaiveDateTime::default());
    let query = claim_update!(&ids, "plan", now);
    let sql = diesel::debug_query::<diesel::sqlite::Sqlite, _>(&query).to_string();
    let sql = sql.split(" -- binds:").next().unwrap_or_default();
    // Its values, as the claim binds them: four texts (state, token, two times), then the ids.
    let marks = sql.matches('?').count();
    let vals: Vec<Val> = (0..marks)
        .map(|i| match i {
            0..4 => Val::from("plan"),
            _ => Val::Int(i as i64),
        })
        .collect();
    let rows: Vec<PlanRow> = db
        .load(&format!("EXPLAIN QUERY PLAN {sql}"), &vals)
        .context("cannot explain the claim")?;
    Ok(rows.into_iter().map(|r| r.detail).collect())
}

/// Claims up to `limit` due rows of `lane` (digest: every due row of up to `limit` recipients)
/// under `token`, and returns them ordered by recipient then id: only the rows this call claimed (a
/// delivery may still hold, under the same token, rows it set aside for its end).
///
/// MySQL: the due rows are picked with `SELECT … FOR UPDATE SKIP LOCKED` in a transaction and
/// updated by id, so concurrent senders take disjoint rows without the shared locks (and
/// deadlocks) an `UPDATE … WHERE id IN (SELECT …)` takes; a lock conflict retries the claim. SQLite
/// serializes writers (`BEGIN IMMEDIATE`): one guarded UPDATE is exclusive there.
#[allow(clippy::too_many_arguments)]
pub fn claim(
    db: &mut Db,
    lane: &str,
    token: &str,
    now: NaiveDateTime,
    lease_cutoff: NaiveDateTime,
    limit: u64,
    digest: bool,
    urgent_only: bool,
) -> Result<Vec<Row>> {
    let now_s = format_datetime(now);
    let urgent = if urgent_only { " AND urgent = 1" } else { "" };
    let cut = format_datetime(lease_cutoff);
    db.transaction_retrying(|db| {
        // Digest: enough rows for `limit` recipients (a recipient's rows a concurrent
        // sender holds are skipped; they go in its digest).
        let take = if digest { limit * 50 } else { limit };
        let lock = db.skip_locked_sql();
        let picked: Vec<PickRow> = if digest {
            db.load(
                &format!(
                    "SELECT id, recipient_email, batch_key FROM sigov_outbox WHERE {}{urgent} \
                         ORDER BY recipient_email, id LIMIT {take}{lock}",
                    due(db)
                ),
                &due_vals(lane, &now_s, &cut),
            )
            .context("cannot pick mail from the outbox")?
        } else {
            // One pick per state, each a range of the (state, next_attempt_at) index read
            // in order, merged by id: one statement with the three conditions OR-ed walks
            // the primary key past every sent row instead (0.65 s a batch behind 200,000
            // sent rows, where these take milliseconds), so delivery would slow down as
            // the outbox grows.
            let mut picked = Vec::new();
            for (state, at) in [
                (MailState::Pending, &now_s),
                (MailState::Failed, &now_s),
                (MailState::Sending, &cut),
            ] {
                let rows: Vec<PickRow> = db
                    .load(
                        &pick_sql(db, state, take, urgent_only),
                        &[Val::from(lane), Val::from(state), Val::from(at.as_str())],
                    )
                    .context("cannot pick mail from the outbox")?;
                picked.extend(rows);
            }
            picked.sort_unstable_by_key(|p| p.id);
            picked.truncate(take as usize);
            picked
        };
        let mut ids: Vec<i64> = Vec::with_capacity(picked.len());
        let mut recipients = 0u64;
        let mut last: Option<&str> = None;
        for p in &picked {
            if digest && last != Some(p.recipient_email.as_str()) {
                recipients += 1;
                if recipients > limit {
                    break;
                }
                last = Some(p.recipient_email.as_str());
            }
            ids.push(p.id);
        }
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // A daily digest is one message: the due mails of a batch picked in part (the
        // limit cut through it) are claimed whole.
        let mut taken: std::collections::HashSet<i64> = ids.iter().copied().collect();
        let mut batches: Vec<&str> = picked
            .iter()
            .filter(|p| taken.contains(&p.id))
            .filter_map(|p| p.batch_key.as_deref())
            .collect();
        batches.sort_unstable();
        batches.dedup();
        if !batches.is_empty() {
            let marks = vec!["?"; batches.len()].join(", ");
            let mut vals: Vec<Val> = batches.iter().map(|b| Val::from(*b)).collect();
            vals.extend(due_vals(lane, &now_s, &cut));
            let rest: Vec<PickRow> = db
                .load(
                    &format!(
                        "SELECT id, recipient_email, batch_key FROM sigov_outbox \
                             WHERE batch_key IN ({marks}) AND {}{lock}",
                        due(db)
                    ),
                    &vals,
                )
                .context("cannot pick mail from the outbox")?;
            for r in rest {
                if taken.insert(r.id) {
                    ids.push(r.id);
                }
            }
        }
        dsl_execute!(db, claim_update!(&ids, token, to_micros(now)))
            .context("cannot claim mail from the outbox")?;
        let marks = vec!["?"; ids.len()].join(", ");
        let mut vals: Vec<Val> = vec![Val::from(token)];
        vals.extend(ids.iter().map(|id| Val::Int(*id)));
        let rows: Vec<Row> = db
            .load(
                &format!(
                    "SELECT {} FROM sigov_outbox WHERE claim_token = ? AND state = '{}' \
                         AND id IN ({marks}) ORDER BY recipient_email, id",
                    columns(db),
                    MailState::Sending
                ),
                &vals,
            )
            .context("cannot read claimed mail")?;
        Ok(rows)
    })
}

/// Renews the claims held under `token` (a delivery longer than `mail.sending_lease_secs`
/// keeps its rows: no other sender takes them as abandoned). Returns how many rows it holds.
pub fn renew(db: &mut Db, token: &str, now: NaiveDateTime) -> Result<usize> {
    dsl_execute!(
        db,
        diesel::update(held(token)).set(o::claimed_at.eq(Some(to_micros(now))))
    )
    .context("cannot renew the claims on the outbox")
}

/// Due rows of `lane` waiting now (pending or failed and due, or claimed by a sender whose
/// lease ended).
pub fn count_due(
    db: &mut Db,
    lane: &str,
    now: NaiveDateTime,
    lease_cutoff: NaiveDateTime,
) -> Result<u64> {
    let n = db
        .count(
            &format!("SELECT COUNT(*) AS n FROM sigov_outbox WHERE {}", due(db)),
            &due_vals(lane, &format_datetime(now), &format_datetime(lease_cutoff)),
        )
        .context("cannot count due mail")?;
    Ok(n.max(0) as u64)
}

#[derive(QueryableByName)]
struct TokenRow {
    #[diesel(sql_type = Text, deserialize_as = crate::db::text::Lossy)]
    claim_token: String,
}

/// Gives back at once the rows claimed by senders that ran on this host and whose process is
/// gone (killed): they need not wait out `mail.sending_lease_secs`. Returns how many.
pub fn release_dead_senders(db: &mut Db, now: NaiveDateTime) -> Result<usize> {
    let tokens: Vec<TokenRow> = db
        .load(
            &format!(
                "SELECT DISTINCT claim_token FROM sigov_outbox WHERE state = '{}' AND claim_token IS NOT NULL",
                MailState::Sending
            ),
            &[],
        )
        .context("cannot read the outbox's claims")?;
    let mut n = 0;
    for t in tokens {
        if crate::host::Ident::parse(&t.claim_token).is_some_and(|i| i.is_dead()) {
            n += release(db, &t.claim_token, now, Some("its sender was killed"))?;
        }
    }
    Ok(n)
}

/// The condition of the rows still claimed under a token.
type HeldBy<'a> = diesel::dsl::And<
    diesel::dsl::Eq<o::claim_token, &'a str>,
    diesel::dsl::Eq<o::state, &'static str>,
>;

/// The rows still claimed under `token`.
fn held(token: &str) -> diesel::dsl::Filter<o::sigov_outbox, HeldBy<'_>> {
    o::sigov_outbox.filter(
        o::claim_token
            .eq(token)
            .and(o::state.eq(MailState::Sending.as_str())),
    )
}

/// The relay took the message: these rows are sent.
fn mark_sent(
    db: &mut Db,
    token: &str,
    ids: &[i64],
    now: NaiveDateTime,
    message_id: &str,
    response: &str,
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let now = to_micros(now);
    let set = (
        o::state.eq(MailState::Sent.as_str()),
        o::attempts.eq(o::attempts + 1),
        o::sent_at.eq(Some(now)),
        o::updated_at.eq(now),
        o::message_id.eq(Some(message_id)),
        o::last_response.eq(Some(response)),
        o::last_error.eq(None::<&str>),
        o::claim_token.eq(None::<&str>),
    );
    // One row (a mail per alert): a statement the connection prepares once and reuses.
    match ids {
        [id] => dsl_execute!(
            db,
            diesel::update(
                o::sigov_outbox
                    .filter(o::id.eq(*id))
                    .filter(o::claim_token.eq(token))
            )
            .set(set)
        ),
        _ => dsl_execute!(
            db,
            diesel::update(
                o::sigov_outbox
                    .filter(o::id.eq_any(ids))
                    .filter(o::claim_token.eq(token))
            )
            .set(set)
        ),
    }
    .context("cannot record sent mail")?;
    Ok(())
}

/// Sent marks recorded together (`mail.sent_group`): the rows a delivery sent are marked
/// `sent` in one transaction per group of `group` messages, or sooner when the group's first
/// message went 50 ms ago, so that a delivery pays one commit per group instead of one per
/// message. Whatever ends a delivery (its end, a relay that cannot be reached, an error, a
/// limit) writes what is held first: only a killed sender leaves a group unrecorded, and the
/// next delivery sends that group again, once. `group = 1` records each message before the
/// next goes (only the one in flight can be sent twice).
pub struct SentMarks {
    group: usize,
    started: Option<std::time::Instant>,
    held: Vec<SentMark>,
    /// Commits made (one per group written).
    pub commits: u64,
}

struct SentMark {
    ids: Vec<i64>,
    at: NaiveDateTime,
    message_id: String,
    response: String,
}

/// How long a group's first sent message may wait for its mark.
const GROUP_WINDOW: std::time::Duration = std::time::Duration::from_millis(50);

impl SentMarks {
    pub fn new(group: u32) -> SentMarks {
        SentMarks {
            group: group.max(1) as usize,
            started: None,
            held: Vec::new(),
            commits: 0,
        }
    }

    /// The relay (or service) took a message: its rows are recorded sent with the group.
    pub fn add(
        &mut self,
        db: &mut Db,
        token: &str,
        ids: &[i64],
        at: NaiveDateTime,
        message_id: &str,
        response: &str,
    ) -> Result<()> {
        self.held.push(SentMark {
            ids: ids.to_vec(),
            at,
            message_id: message_id.to_owned(),
            response: response.to_owned(),
        });
        let started = *self.started.get_or_insert_with(std::time::Instant::now);
        if self.held.len() >= self.group || started.elapsed() >= GROUP_WINDOW {
            self.write(db, token)?;
        }
        Ok(())
    }

    /// Records what is held, in one transaction.
    pub fn write(&mut self, db: &mut Db, token: &str) -> Result<()> {
        if self.held.is_empty() {
            return Ok(());
        }
        let held = std::mem::take(&mut self.held);
        self.started = None;
        if let [m] = held.as_slice() {
            mark_sent(db, token, &m.ids, m.at, &m.message_id, &m.response)?;
        } else {
            db.transaction_retrying(|db| {
                for m in &held {
                    mark_sent(db, token, &m.ids, m.at, &m.message_id, &m.response)?;
                }
                Ok(())
            })
            .with_context(|| format!("cannot record {} sent message(s)", held.len()))?;
        }
        self.commits += 1;
        Ok(())
    }
}

/// A failed try of a message.
pub struct Tried<'a> {
    pub at: NaiveDateTime,
    /// When it is due again if it stays `failed`.
    pub retry_at: NaiveDateTime,
    /// The message's Message-ID, when it was built: an unconfirmed one can be looked for in
    /// the relay's logs.
    pub message_id: Option<&'a str>,
    pub error: &'a str,
}

/// A try failed: one more attempt, the state the delivery policy chose
/// ([`crate::delivery::after_failure`]: `failed` and due again at `retry_at`, `dead` or
/// `unconfirmed`), one more unconfirmed hand-over when it was one.
pub fn mark_failed(
    db: &mut Db,
    token: &str,
    ids: &[i64],
    tried: &Tried<'_>,
    next: crate::delivery::Next,
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let now = to_micros(tried.at);
    let (retry_at, error) = (tried.retry_at, tried.error);
    dsl_execute!(
        db,
        diesel::update(
            o::sigov_outbox
                .filter(o::id.eq_any(ids))
                .filter(o::claim_token.eq(token))
        )
        .set((
            o::state.eq(next.state.as_str()),
            o::attempts.eq(o::attempts + 1),
            o::unconfirmed.eq(o::unconfirmed + i32::from(next.unconfirmed)),
            o::next_attempt_at.eq(to_micros(retry_at)),
            o::updated_at.eq(now),
            o::last_error.eq(Some(error)),
            o::message_id.eq(tried.message_id),
            o::claim_token.eq(None::<&str>),
        ))
    )
    .context("cannot record failed mail")?;
    Ok(())
}

/// Gives back every row still claimed under `token`, untouched but for the reason (the relay
/// could not be reached; `None`: the delivery's limit was reached, the last reason stays): they
/// are due again at once, no attempt counted.
pub fn release(db: &mut Db, token: &str, now: NaiveDateTime, error: Option<&str>) -> Result<usize> {
    let now = to_micros(now);
    let back = (
        o::state.eq(case_when::<_, _, diesel::sql_types::Text>(
            o::attempts.gt(0),
            MailState::Failed.as_str(),
        )
        .otherwise(MailState::Pending.as_str())),
        o::claim_token.eq(None::<&str>),
        o::claimed_at.eq(None::<NaiveDateTime>),
        o::updated_at.eq(now),
    );
    match error {
        Some(e) => dsl_execute!(
            db,
            diesel::update(held(token)).set((back, o::last_error.eq(Some(e))))
        ),
        None => dsl_execute!(db, diesel::update(held(token)).set(back)),
    }
    .context("cannot give mail back to the outbox")
}

/// Rows in `states`, oldest first, at most `limit`.
pub fn list(db: &mut Db, states: &[MailState], limit: u64) -> Result<Vec<Row>> {
    list_between(db, states, None, None, limit)
}

/// Rows in `states` queued at or after `since` and before `until` (UTC), oldest first.
pub fn list_between(
    db: &mut Db,
    states: &[MailState],
    since: Option<NaiveDateTime>,
    until: Option<NaiveDateTime>,
    limit: u64,
) -> Result<Vec<Row>> {
    let marks = vec!["?"; states.len()].join(", ");
    let mut vals: Vec<Val> = states.iter().map(|s| Val::from(*s)).collect();
    let mut sql = format!(
        "SELECT {} FROM sigov_outbox WHERE state IN ({marks})",
        columns(db)
    );
    for (t, op) in [(since, ">="), (until, "<")] {
        if let Some(t) = t {
            sql.push_str(&format!(" AND created_at {op} {}", db.mark(Mark::Stamp)));
            vals.push(Val::from(format_datetime(t).as_str()));
        }
    }
    sql.push_str(&format!(" ORDER BY id LIMIT {limit}"));
    db.load(&sql, &vals).context("cannot read the outbox")
}

/// One row by id.
pub fn get(db: &mut Db, id: i64) -> Result<Option<Row>> {
    let rows: Vec<Row> = db
        .load(
            &format!("SELECT {} FROM sigov_outbox WHERE id = ?", columns(db)),
            &[Val::Int(id)],
        )
        .context("cannot read the outbox")?;
    Ok(rows.into_iter().next())
}

/// The rows of one lane (mail, or a channel) in one state.
#[derive(Debug, Clone, QueryableByName, serde::Serialize)]
pub struct StateCount {
    /// [`MAIL_LANE`] for mail, else the channel's name.
    #[diesel(sql_type = Text, deserialize_as = crate::db::text::Lossy)]
    pub channel: String,
    #[diesel(sql_type = Text, deserialize_as = crate::db::text::Lossy)]
    pub state: String,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
    /// When the oldest of them was due (UTC): its creation, or a daily digest's hour.
    #[diesel(sql_type = Nullable<diesel::sql_types::Timestamp>)]
    pub oldest: Option<NaiveDateTime>,
    /// The last delivery among them (UTC).
    #[diesel(sql_type = Nullable<diesel::sql_types::Timestamp>)]
    pub last_sent: Option<NaiveDateTime>,
}

impl StateCount {
    pub fn is_mail(&self) -> bool {
        self.channel == MAIL_LANE
    }
}

/// Critical alerts' mail due now (`mail.critical_bypass`: sent even in quiet hours).
pub fn count_urgent_due(db: &mut Db, now: NaiveDateTime) -> Result<i64> {
    db.count(
        &format!(
            "SELECT COUNT(*) AS n FROM sigov_outbox WHERE channel = '{MAIL_LANE}' AND urgent = 1 \
             AND state IN ('{}', '{}') AND next_attempt_at <= {}",
            MailState::Pending,
            MailState::Failed,
            db.mark(Mark::Stamp)
        ),
        &[Val::from(format_datetime(now).as_str())],
    )
    .context("cannot count the outbox")
}

/// Number of rows per lane and state (mail first, then each channel by name), with the time
/// the oldest of each was due and the last delivery.
pub fn counts(db: &mut Db) -> Result<Vec<StateCount>> {
    db.load(
        // A mail is waiting from when it is due: a daily digest's from its hour.
        "SELECT channel, state, COUNT(*) AS n, \
         MIN(CASE WHEN next_attempt_at > created_at THEN next_attempt_at ELSE created_at END) AS oldest, \
         MAX(sent_at) AS last_sent \
         FROM sigov_outbox GROUP BY channel, state ORDER BY channel, state",
        &[],
    )
    .context("cannot count the outbox")
}

/// Puts rows given up in `states` (dead, unconfirmed: all of them, or those of `ids`) back in
/// the queue, due now, with a fresh count of attempts. An unconfirmed row keeps its count of
/// unconfirmed hand-overs: requeued, it gets one more try, and is set aside again if that one
/// is unconfirmed too. Returns how many were requeued.
pub fn requeue(
    db: &mut Db,
    states: &[MailState],
    ids: &[i64],
    now: NaiveDateTime,
) -> Result<usize> {
    let now = to_micros(now);
    let set = (
        o::state.eq(MailState::Pending.as_str()),
        o::attempts.eq(0),
        o::next_attempt_at.eq(now),
        o::updated_at.eq(now),
        o::claim_token.eq(None::<&str>),
    );
    let names: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
    if ids.is_empty() {
        dsl_execute!(
            db,
            diesel::update(o::sigov_outbox.filter(o::state.eq_any(&names))).set(set)
        )
    } else {
        dsl_execute!(
            db,
            diesel::update(
                o::sigov_outbox
                    .filter(o::state.eq_any(&names))
                    .filter(o::id.eq_any(ids))
            )
            .set(set)
        )
    }
    .context("cannot requeue mail")
}

/// What each channel's lane holds: per channel, (state, rows) and its last delivery (UTC).
/// Channels no longer configured show up too, by the rows they left.
pub type LaneSummary = std::collections::BTreeMap<String, Lane>;

/// One lane's rows by state, and its last delivery.
pub type Lane = (Vec<(String, i64)>, Option<NaiveDateTime>);

/// The channels the outbox holds rows of.
pub fn channel_names(db: &mut Db) -> Result<Vec<String>> {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = Text, deserialize_as = crate::db::text::Lossy)]
        channel: String,
    }
    let rows: Vec<Name> = db
        .load(
            "SELECT DISTINCT channel FROM sigov_outbox WHERE channel <> ''",
            &[],
        )
        .context("cannot read the outbox's channels")?;
    Ok(rows.into_iter().map(|r| r.channel).collect())
}

/// [`LaneSummary`] of every channel lane.
pub fn lane_counts(db: &mut Db) -> Result<LaneSummary> {
    let mut out = LaneSummary::new();
    for r in counts(db)?.into_iter().filter(|r| !r.is_mail()) {
        let e = out.entry(r.channel).or_default();
        e.0.push((r.state, r.n));
        e.1 = e.1.max(r.last_sent);
    }
    Ok(out)
}

//! Writes decisions: alert rows into the web application's tables, their ledger keys and their
//! outbox rows, batched, each batch in one transaction. The ledger's primary key settles races:
//! a batch that meets a key another writer recorded is rolled back, filtered and retried.

use crate::clock::{format_datetime, Clock};
use crate::db::{is_unique_violation, Db, Mark, Val};
use crate::rules::{plausible_email, Counters, NewAlert, Superseded, Target};
use anyhow::{Context, Result};
use diesel::sql_types::{BigInt, Text};
use diesel::QueryableByName;
use std::collections::{HashMap, HashSet, VecDeque};

use crate::db::schema::sigov_alert_ledger::dsl as l;
use crate::db::schema::sigov_outbox::dsl as o;
use crate::states::{LedgerState, MailKind, MailState};
use diesel::ExpressionMethods;
pub use pyjson::{python_float, python_json};

mod pyjson;

/// Rows per INSERT statement and per transaction.
pub const BATCH: usize = crate::db::STATEMENT_ROWS;

/// Where an alert's mail stands at creation time.
pub fn mail_decision(a: &NewAlert) -> Result<(), &'static str> {
    let e = a.recipient.email.trim();
    if e.is_empty() {
        Err("no_email")
    } else if !plausible_email(e) {
        Err("invalid_email")
    } else if let crate::rules::MailPlan::Off(why) = a.mail {
        // The recipient's choice (`sigov prefs`): the alert row is written, no mail.
        Err(why)
    } else {
        Ok(())
    }
}

#[derive(QueryableByName)]
struct CreatedRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text, deserialize_as = crate::db::text::Lossy)]
    destinataire_id: String,
    #[diesel(sql_type = Text, deserialize_as = crate::db::text::Lossy)]
    typ: String,
    #[diesel(sql_type = Text, deserialize_as = crate::db::text::Lossy)]
    titre: String,
}

#[derive(QueryableByName)]
struct HashRow {
    #[diesel(sql_type = diesel::sql_types::Binary)]
    key_hash: Vec<u8>,
}

/// What a write produced.
#[derive(Debug, Default)]
pub struct Written {
    /// Alerts recorded, with the id of their row and its `date_creation` (UTC).
    pub alerts: Vec<(i64, NewAlert, chrono::NaiveDateTime)>,
}

/// Records `alerts` and `superseded` for run `run_id`, with their mail and the messages of
/// the channels that take them; updates `counters`. Returns the alerts recorded.
pub fn write(
    db: &mut Db,
    clock: &Clock,
    run_id: Option<i64>,
    routing: &crate::channels::Routing<'_>,
    alerts: Vec<NewAlert>,
    superseded: Vec<Superseded>,
    counters: &mut Counters,
) -> Result<Written> {
    let mut written = Written::default();
    write_each(
        db,
        clock,
        run_id,
        routing,
        alerts,
        superseded,
        counters,
        |id, a, at| written.alerts.push((id, a, at)),
    )?;
    Ok(written)
}

/// [`write`], handing each alert recorded to `each` (with its row's id and `date_creation`)
/// as soon as its batch is committed: a caller that does not keep them frees each batch's
/// alerts then, instead of holding a whole page's twice (its decisions and what was written).
#[allow(clippy::too_many_arguments)]
pub fn write_each(
    db: &mut Db,
    clock: &Clock,
    run_id: Option<i64>,
    routing: &crate::channels::Routing<'_>,
    alerts: Vec<NewAlert>,
    superseded: Vec<Superseded>,
    counters: &mut Counters,
    mut each: impl FnMut(i64, NewAlert, chrono::NaiveDateTime),
) -> Result<()> {
    let mut last: Option<chrono::NaiveDateTime> = None;
    for batch in batches(alerts) {
        // Each batch is stamped with the time it is written (never the process start: its
        // mail is due at once, and a delivery later in the run takes it), distinct from the
        // previous batch's so its rows can be found again exactly.
        let mut at = clock.current();
        if let Some(prev) = last.filter(|p| *p >= at) {
            at = prev + chrono::Duration::microseconds(1);
        }
        last = Some(at);
        let (batch, (ids, queued)) = with_key_retry(
            db,
            batch,
            |a| &a.key,
            counters,
            |db, b| write_batch(db, clock, at, run_id, routing, b),
        )?;
        counters.channel_queued += queued;
        for (id, a) in ids.into_iter().zip(batch) {
            counters.count_created(&a, mail_decision(&a));
            each(id, a, at);
        }
    }
    let mut ignored = Counters::default();
    for batch in batches(superseded) {
        with_key_retry(
            db,
            batch,
            |s| &s.key,
            &mut ignored,
            |db, b| insert_superseded(db, clock, run_id, b),
        )?;
    }
    Ok(())
}

/// Splits `items` into batches of at most `BATCH` (each batch owns only its own rows).
fn batches<T>(items: Vec<T>) -> impl Iterator<Item = Vec<T>> {
    let mut it = items.into_iter();
    std::iter::from_fn(move || {
        let b: Vec<T> = it.by_ref().take(BATCH).collect();
        (!b.is_empty()).then_some(b)
    })
}

/// Runs `write` on `batch` in one transaction. When another run recorded some of the batch's
/// ledger keys meanwhile, the transaction is rolled back, those rows are dropped (counted as
/// duplicates) and the rest is retried. A race can only take keys away, so this ends. A lock
/// conflict retries the same batch ([`Db::transaction_retrying`]).
fn with_key_retry<T, R: Default>(
    db: &mut Db,
    mut batch: Vec<T>,
    key: impl Fn(&T) -> &String,
    counters: &mut Counters,
    write: impl Fn(&mut Db, &[T]) -> Result<R>,
) -> Result<(Vec<T>, R)> {
    loop {
        if batch.is_empty() {
            // Everything was recorded meanwhile (or there was nothing): no statement to send.
            return Ok((batch, R::default()));
        }
        // A deadlock victim (concurrent checks and deliveries write the same indexes) was
        // rolled back whole: the same batch is written again.
        match db.transaction_retrying(|db| write(db, &batch)) {
            Ok(r) => return Ok((batch, r)),
            Err(e) if is_unique_violation(&e) => {
                let taken = existing_keys(db, batch.iter().map(|x| key(x).as_str()))?;
                let before = batch.len();
                batch.retain(|x| !taken.contains(key(x)));
                let lost = (before - batch.len()) as u64;
                if lost == 0 {
                    return Err(e);
                }
                log::info!("{lost} key(s) were recorded meanwhile by another run");
                counters.duplicates += lost;
            }
            Err(e) => return Err(e),
        }
    }
}

fn existing_keys<'a>(db: &mut Db, keys: impl Iterator<Item = &'a str>) -> Result<HashSet<String>> {
    let keys: Vec<(crate::db::keyhash::Hash, &str)> =
        keys.map(|k| (crate::db::keyhash::of(k), k)).collect();
    if keys.is_empty() {
        return Ok(HashSet::new());
    }
    let hashes: Vec<Val> = keys.iter().map(|(h, _)| Val::Bytes(h.to_vec())).collect();
    let marks = vec!["?"; hashes.len()].join(", ");
    let rows: Vec<HashRow> = db
        .load(
            &format!("SELECT key_hash FROM sigov_alert_ledger WHERE key_hash IN ({marks})"),
            &hashes,
        )
        .context("cannot read the alert ledger")?;
    let taken: HashSet<Vec<u8>> = rows.into_iter().map(|r| r.key_hash).collect();
    Ok(keys
        .into_iter()
        .filter(|(h, _)| taken.contains(h.as_slice()))
        .map(|(_, k)| k.to_owned())
        .collect())
}

/// What a mail shows of its alert, but the message (which names the recipient's role): written
/// once into `sigov_mail_snapshot` for the mails of a batch that show the same, and by
/// reference (no copy of the alert's strings and JSON context into a `serde_json::Value`).
#[derive(serde::Serialize)]
struct Shown<'a> {
    table: &'static str,
    check: &'static str,
    #[serde(rename = "type")]
    alert_type: &'a str,
    niveau: Option<crate::states::Niveau>,
    titre: &'a str,
    context: &'a serde_json::Value,
    projet: &'a crate::rules::ProjectInfo,
    etape_id: Option<&'a str>,
    etape_ordre: Option<i64>,
    created_at: &'a str,
}

/// What is a mail's own, in its outbox row's `payload`; with its snapshot, the whole of what
/// the mail shows (`mail::render::Payload`).
#[derive(serde::Serialize)]
struct Own<'a> {
    alert_id: i64,
    message: &'a str,
    recipient: PayloadRecipient<'a>,
    reason: &'a str,
    rule: &'a str,
}

#[derive(serde::Serialize)]
struct PayloadRecipient<'a> {
    id: &'a str,
    name: &'a str,
    email: &'a str,
}

/// Stores the distinct snapshots `bodies` stamped `stamped`; their ids, in order.
fn insert_snapshots(
    db: &mut Db,
    bodies: &[String],
    stamped: chrono::NaiveDateTime,
) -> Result<Vec<i64>> {
    use crate::db::schema::sigov_mail_snapshot::dsl as s;
    let row = |b: &str| (s::body.eq(b.to_owned()), s::created_at.eq(stamped));
    let rows: Vec<_> = bodies
        .iter()
        .map(|b| (s::body.eq(b.as_str()), s::created_at.eq(stamped)))
        .collect();
    if let Some(ids) = crate::db::insert_returning!(db, s::sigov_mail_snapshot, rows, s::id)
        .context("cannot store mail snapshots")?
    {
        return Ok(ids);
    }
    if db
        .ids_consecutive()
        .context("cannot read how the server numbers rows")?
    {
        let rows: Vec<_> = bodies
            .iter()
            .map(|b| (s::body.eq(b.as_str()), s::created_at.eq(stamped)))
            .collect();
        let mut ids = Vec::with_capacity(bodies.len());
        crate::db::insert_reused!(db, s::sigov_mail_snapshot, rows, |db: &mut Db, n| {
            let got = db.inserted_ids(n)?.ok_or(diesel::result::Error::NotFound)?;
            ids.extend(got);
            Ok::<(), diesel::result::Error>(())
        })
        .context("cannot store mail snapshots")?;
        return Ok(ids);
    }
    // Ids that may interleave with another writer's: one row a statement, whose id is exact.
    let mut ids = Vec::with_capacity(bodies.len());
    for b in bodies {
        crate::db::dsl_execute!(
            db,
            diesel::insert_into(s::sigov_mail_snapshot).values(row(b))
        )
        .context("cannot store a mail snapshot")?;
        ids.push(
            db.last_insert_id()
                .context("cannot read a mail snapshot's id")?,
        );
    }
    Ok(ids)
}

/// One batch in its transaction: the alert rows, their ledger keys, their mail and channel
/// messages. Returns the rows' ids and how many channel messages were queued.
fn write_batch(
    db: &mut Db,
    clock: &Clock,
    at: chrono::NaiveDateTime,
    run_id: Option<i64>,
    routing: &crate::channels::Routing<'_>,
    batch: &[NewAlert],
) -> Result<(Vec<i64>, u64)> {
    if batch.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let now = format_datetime(at);
    let stamped = crate::clock::to_micros(at);
    let ids = insert_alert_rows(db, &now, batch)?;
    insert_ledger_keys(db, clock, run_id, stamped, batch, &ids)?;
    queue_mails(db, clock, run_id, (&now, stamped), batch, &ids)?;
    let due_from = crate::clock::to_micros(clock.now_naive());
    let queued = crate::channels::queue(
        db,
        routing,
        clock.today,
        run_id,
        stamped,
        due_from,
        batch,
        &ids,
    )?;
    Ok((ids, queued))
}

/// The alert (notification) rows of `batch`, created at `now`; their ids, in batch order.
fn insert_alert_rows(db: &mut Db, now: &str, batch: &[NewAlert]) -> Result<Vec<i64>> {
    let mut ids = vec![0i64; batch.len()];
    for target in [Target::Alerte, Target::NotificationEtape] {
        let idx: Vec<usize> = (0..batch.len())
            .filter(|i| batch[*i].target == target)
            .collect();
        if idx.is_empty() {
            continue;
        }
        let (no, at, json, id) = (
            db.false_sql(),
            db.mark(Mark::AppStamp),
            db.mark(Mark::Json),
            db.mark(Mark::Uuid),
        );
        let (sql_head, row) = match target {
            Target::Alerte => (
                "INSERT INTO core_alerteprojet (type_alerte, niveau, titre, message, lue, date_creation, \
                 date_lecture, donnees_contexte, destinataire_id, projet_id) VALUES ",
                format!("(?, ?, ?, ?, {no}, {at}, NULL, {json}, {id}, {id})"),
            ),
            Target::NotificationEtape => (
                "INSERT INTO core_notificationetape (type_notification, titre, message, lue, date_creation, \
                 date_lecture, donnees_contexte, destinataire_id, emetteur_id, etape_id, cas_test_id) VALUES ",
                format!("(?, ?, ?, {no}, {at}, NULL, {json}, {id}, NULL, {id}, NULL)"),
            ),
        };
        let mut read_back = false;
        // A full batch of one target: one text, prepared once per connection and reused.
        for chunk in idx.chunks(crate::db::STATEMENT_ROWS) {
            let mut vals = Vec::with_capacity(chunk.len() * 8);
            for i in chunk {
                let a = &batch[*i];
                vals.push(Val::Text(a.alert_type.clone()));
                if target == Target::Alerte {
                    vals.push(Val::from(
                        a.niveau.unwrap_or(crate::states::Niveau::Warning),
                    ));
                }
                vals.push(Val::Text(a.titre.clone()));
                vals.push(Val::Text(a.message.clone()));
                vals.push(Val::Text(now.to_owned()));
                vals.push(Val::Text(python_json(&a.context)));
                vals.push(Val::Text(a.recipient_id.clone()));
                vals.push(Val::Text(match target {
                    Target::Alerte => a.projet.id.clone(),
                    Target::NotificationEtape => a.etape_id.clone().unwrap_or_default(),
                }));
            }
            let sql = format!("{sql_head}{}", vec![row.as_str(); chunk.len()].join(", "));
            let reuse = chunk.len() == crate::db::STATEMENT_ROWS;
            match db
                .insert_ids(&sql, &vals, chunk.len(), reuse)
                .with_context(|| format!("cannot insert into {}", target.table()))?
            {
                Some(got) => {
                    for (i, id) in chunk.iter().zip(got) {
                        ids[*i] = id;
                    }
                }
                None => read_back = true,
            }
        }
        if read_back {
            read_back_ids(db, target, now, batch, &idx, &mut ids)?;
        }
    }
    Ok(ids)
}

/// The ledger keys of `batch` (alert `ids`): the unique key that makes each alert happen once.
fn insert_ledger_keys(
    db: &mut Db,
    clock: &Clock,
    run_id: Option<i64>,
    stamped: chrono::NaiveDateTime,
    batch: &[NewAlert],
    ids: &[i64],
) -> Result<()> {
    // In primary key order (the key's hash): InnoDB inserts into its clustered index in order
    // faster than at random places.
    let mut order: Vec<(crate::db::keyhash::Hash, usize)> = batch
        .iter()
        .enumerate()
        .map(|(i, a)| (crate::db::keyhash::of(&a.key), i))
        .collect();
    order.sort_unstable();
    let keys: Vec<_> = order
        .iter()
        .map(|(h, i)| (h, &batch[*i], &ids[*i]))
        .map(|(h, a, id)| {
            (
                l::key_hash.eq(&h[..]),
                l::alert_key.eq(a.key.as_str()),
                l::check_name.eq(a.check),
                l::alert_type.eq(a.ledger_type.unwrap_or(a.alert_type.as_str())),
                l::state.eq(LedgerState::Created.as_str()),
                l::target_table.eq(Some(a.target.table())),
                l::alert_id.eq(Some(*id)),
                l::entity_id.eq(a.entity_id.as_str()),
                l::recipient_id.eq(a.recipient_id.as_str()),
                l::business_date.eq(clock.today),
                l::run_id.eq(run_id),
                l::created_at.eq(stamped),
                l::arm.eq(a.arm.as_deref()),
            )
        })
        .collect();
    crate::db::insert_reused!(db, l::sigov_alert_ledger, keys)
        .context("cannot record alert keys")?;
    Ok(())
}

/// The outbox rows of `batch` (alert `ids`), for recipients with a usable address, each with
/// its shared snapshot; `(now, stamped)`: the creation time as text and in microseconds.
fn queue_mails(
    db: &mut Db,
    clock: &Clock,
    run_id: Option<i64>,
    (now, stamped): (&str, chrono::NaiveDateTime),
    batch: &[NewAlert],
    ids: &[i64],
) -> Result<()> {
    // Outbox rows, for recipients with a usable address. Due since the run started (that is
    // the point: any delivery from then on takes them, the run's own included, whatever the
    // batch); created and updated now.
    let due_from = crate::clock::to_micros(clock.now_naive());
    // Snapshots: the mails of a project's alert to its team show the same but the message.
    let mut slot: HashMap<String, usize> = HashMap::new();
    let mut own = Vec::new();
    for (a, id) in batch.iter().zip(ids) {
        if mail_decision(a).is_err() {
            continue;
        }
        let body = serde_json::to_string(&Shown {
            table: a.target.table(),
            check: a.check,
            alert_type: &a.alert_type,
            niveau: a.niveau,
            titre: &a.titre,
            context: &a.context,
            projet: &a.projet,
            etape_id: a.etape_id.as_deref(),
            etape_ordre: a.etape_ordre,
            created_at: now,
        })
        .context("cannot write a mail's snapshot")?;
        let next = slot.len();
        let n = *slot.entry(body).or_insert(next);
        let payload = serde_json::to_string(&Own {
            alert_id: *id,
            message: &a.message,
            recipient: PayloadRecipient {
                id: &a.recipient_id,
                name: &a.recipient_name,
                email: a.recipient.email.trim(),
            },
            reason: &a.reason,
            rule: &a.rule,
        })
        .context("cannot write a mail's payload")?;
        own.push((a, payload, n));
    }
    let mut bodies = vec![String::new(); slot.len()];
    for (b, n) in slot {
        bodies[n] = b;
    }
    let snapshot_ids = if bodies.is_empty() {
        Vec::new()
    } else {
        insert_snapshots(db, &bodies, stamped)?
    };
    let mut mails = Vec::with_capacity(own.len());
    for (a, payload, n) in &own {
        let snapshot = *snapshot_ids
            .get(*n)
            .context("a mail snapshot was stored without an id")?;
        let kind = match a.target {
            Target::Alerte => MailKind::Alert,
            Target::NotificationEtape => MailKind::Stage,
        };
        // A daily digest's mail waits for its hour and goes with the others of its batch.
        let (due, batch) = match &a.mail {
            crate::rules::MailPlan::Batch { at, key } => (
                crate::clock::to_micros(*at).max(due_from),
                Some(key.as_str()),
            ),
            _ => (due_from, None),
        };
        mails.push((
            o::alert_key.eq(a.key.as_str()),
            o::recipient_id.eq(a.recipient_id.as_str()),
            o::recipient_email.eq(a.recipient.email.trim()),
            o::kind.eq(kind.as_str()),
            o::payload.eq(payload.as_str()),
            o::snapshot_id.eq(Some(snapshot)),
            o::state.eq(MailState::Pending.as_str()),
            o::attempts.eq(0),
            o::next_attempt_at.eq(due),
            o::created_at.eq(stamped),
            o::updated_at.eq(stamped),
            o::run_id.eq(run_id),
            o::batch_key.eq(batch),
            o::urgent.eq(i16::from(matches!(a.mail, crate::rules::MailPlan::Urgent))),
        ));
    }
    if !mails.is_empty() {
        crate::db::insert_reused!(db, o::sigov_outbox, mails).context("cannot queue mails")?;
    }
    Ok(())
}

fn insert_superseded(
    db: &mut Db,
    clock: &Clock,
    run_id: Option<i64>,
    batch: &[Superseded],
) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let now = crate::clock::to_micros(clock.current());
    let mut sorted: Vec<(crate::db::keyhash::Hash, &Superseded)> = batch
        .iter()
        .map(|s| (crate::db::keyhash::of(&s.key), s))
        .collect();
    sorted.sort_unstable_by_key(|x| x.0);
    let keys: Vec<_> = sorted
        .iter()
        .map(|(h, s)| {
            (
                l::key_hash.eq(&h[..]),
                l::alert_key.eq(s.key.as_str()),
                l::check_name.eq(s.check),
                l::alert_type.eq(s.alert_type.as_str()),
                l::state.eq(LedgerState::Superseded.as_str()),
                l::target_table.eq(None::<&str>),
                l::alert_id.eq(None::<i64>),
                l::entity_id.eq(s.entity_id.as_str()),
                l::recipient_id.eq(s.recipient_id.as_str()),
                l::business_date.eq(clock.today),
                l::run_id.eq(run_id),
                l::created_at.eq(now),
            )
        })
        .collect();
    crate::db::insert_reused!(db, l::sigov_alert_ledger, keys)
        .context("cannot record superseded milestones")?;
    Ok(())
}

/// The ids of the rows just inserted for `idx` of `batch`, read back: rows of this batch carry
/// its exact timestamp; they are matched by content, in id order. For servers that do not
/// promise consecutive ids ([`Db::inserted_ids`]).
fn read_back_ids(
    db: &mut Db,
    target: Target,
    now: &str,
    batch: &[NewAlert],
    idx: &[usize],
    ids: &mut [i64],
) -> Result<()> {
    let (typ, entity) = match target {
        Target::Alerte => ("type_alerte", "projet_id"),
        Target::NotificationEtape => ("type_notification", "etape_id"),
    };
    let entities: Vec<String> = idx
        .iter()
        .map(|i| match target {
            Target::Alerte => batch[*i].projet.id.clone(),
            Target::NotificationEtape => batch[*i].etape_id.clone().unwrap_or_default(),
        })
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let marks = db.marks(Mark::Uuid, entities.len());
    let at = db.mark(Mark::AppStamp);
    let mut q = vec![Val::from(now)];
    q.extend(entities.into_iter().map(Val::Text));
    let rows: Vec<CreatedRow> = db
        .load(
            &format!(
                "SELECT id, destinataire_id, {typ} AS typ, titre FROM {} \
                 WHERE date_creation = {at} AND {entity} IN ({marks}) ORDER BY id",
                target.table()
            ),
            &q,
        )
        .with_context(|| format!("cannot read back {}", target.table()))?;
    let mut by: HashMap<(String, String, String), VecDeque<i64>> = HashMap::new();
    for r in rows {
        by.entry((r.destinataire_id, r.typ, r.titre))
            .or_default()
            .push_back(r.id);
    }
    for i in idx {
        let a = &batch[*i];
        let id = by
            .get_mut(&(
                a.recipient_id.clone(),
                a.alert_type.clone(),
                a.titre.clone(),
            ))
            .and_then(|q| q.pop_front())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "inserted {} row for `{}` not found again",
                    target.table(),
                    a.key
                )
            })?;
        ids[*i] = id;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_text_matches_django() {
        let v = json!({"jours_retard": 16, "projet_nom": "Déjà-vu & Cie", "x": 25.0, "y": 33.333333333333336, "s": "a\"b\n🔴"});
        assert_eq!(
            python_json(&v),
            r#"{"jours_retard": 16, "projet_nom": "D\u00e9j\u00e0-vu & Cie", "x": 25.0, "y": 33.333333333333336, "s": "a\"b\n\ud83d\udd34"}"#
        );
    }
}

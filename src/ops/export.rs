//! `sigov export`: alerts, runs or mail as CSV (RFC 4180, through the `csv` crate), a JSON
//! array or JSON lines, streamed a page of rows at a time in id order: memory stays flat
//! whatever the number of rows. The columns and their order are fixed (the man page lists them).

use super::alert_mail;
use super::alerts::{self, AlertRow, Filter};
use crate::db::text::{Lossy, LossyOpt};
use crate::db::{Db, Mark, Val};
use anyhow::{Context, Result};
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::QueryableByName;
use serde_json::{json, Value};
use std::io::Write;

/// Rows a statement reads.
pub const PAGE: usize = 1000;

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum What {
    /// Alert rows of both tables, with their mail state.
    Alerts,
    /// The run history (sigov_run).
    Runs,
    /// The outbox (sigov_outbox).
    Mail,
}

/// How records are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Csv,
    Json,
    Jsonl,
}

pub const ALERT_COLUMNS: &[&str] = &[
    "table",
    "id",
    "type",
    "niveau",
    "titre",
    "lue",
    "date_creation",
    "date_lecture",
    "recipient_id",
    "recipient_username",
    "recipient_email",
    "projet_id",
    "projet_nom",
    "etape_id",
    "check",
    "ledger_key",
    "run_id",
    "business_date",
    "mail_state",
    "mail_outbox_id",
    "mail_sent_at",
    "mail_note",
];

pub const RUN_COLUMNS: &[&str] = &[
    "id",
    "check",
    "status",
    "profile",
    "business_date",
    "host",
    "pid",
    "version",
    "started_at",
    "finished_at",
    "duration_secs",
    "exit_code",
    "created",
    "mails_sent",
    "error",
    "counters",
];

pub const MAIL_COLUMNS: &[&str] = &[
    "id",
    "alert_key",
    "origin_key",
    "recipient_id",
    "recipient_email",
    "kind",
    "state",
    "attempts",
    "created_at",
    "next_attempt_at",
    "sent_at",
    "message_id",
    "last_error",
    "last_response",
    "run_id",
    "channel",
];

/// The columns of an export, in order.
pub fn columns(what: What) -> &'static [&'static str] {
    match what {
        What::Alerts => ALERT_COLUMNS,
        What::Runs => RUN_COLUMNS,
        What::Mail => MAIL_COLUMNS,
    }
}

/// Writes records, one at a time, in one of the shapes.
pub struct Writer<'w> {
    shape: Shape,
    columns: &'static [&'static str],
    csv: Option<csv::Writer<&'w mut dyn Write>>,
    raw: Option<&'w mut dyn Write>,
    count: u64,
}

impl<'w> Writer<'w> {
    pub fn new(
        shape: Shape,
        columns: &'static [&'static str],
        w: &'w mut dyn Write,
    ) -> Result<Writer<'w>> {
        let mut me = Writer {
            shape,
            columns,
            csv: None,
            raw: None,
            count: 0,
        };
        match shape {
            Shape::Csv => {
                let mut c = csv::WriterBuilder::new()
                    .terminator(csv::Terminator::CRLF)
                    .from_writer(w);
                c.write_record(columns).context("cannot write the export")?;
                me.csv = Some(c);
            }
            Shape::Json => {
                w.write_all(b"[").context("cannot write the export")?;
                me.raw = Some(w);
            }
            Shape::Jsonl => me.raw = Some(w),
        }
        Ok(me)
    }

    /// One record: values in column order.
    pub fn record(&mut self, values: Vec<Value>) -> Result<()> {
        debug_assert_eq!(values.len(), self.columns.len());
        match (&mut self.csv, &mut self.raw) {
            (Some(c), _) => {
                let cells: Vec<String> = values.iter().map(cell).collect();
                c.write_record(&cells).context("cannot write the export")?;
            }
            (None, Some(w)) => {
                let obj: serde_json::Map<String, Value> = self
                    .columns
                    .iter()
                    .map(|c| (*c).to_owned())
                    .zip(values)
                    .collect();
                // Times as RFC 3339, a run's counters as an object (CSV keeps the text).
                let obj = crate::output::json_times(Value::Object(obj));
                let sep: &[u8] = match (self.shape, self.count) {
                    (Shape::Json, 0) => b"\n",
                    (Shape::Json, _) => b",\n",
                    _ => b"",
                };
                w.write_all(sep).context("cannot write the export")?;
                serde_json::to_writer(&mut **w, &obj).context("cannot write the export")?;
                if self.shape == Shape::Jsonl {
                    w.write_all(b"\n").context("cannot write the export")?;
                }
            }
            (None, None) => anyhow::bail!("export writer without output"),
        }
        self.count += 1;
        Ok(())
    }

    /// Ends the output; the number of records written.
    pub fn finish(mut self) -> Result<u64> {
        if let Some(c) = &mut self.csv {
            c.flush().context("cannot write the export")?;
        }
        if let Some(w) = &mut self.raw {
            if self.shape == Shape::Json {
                let end: &[u8] = if self.count == 0 { b"]\n" } else { b"\n]\n" };
                w.write_all(end).context("cannot write the export")?;
            }
            w.flush().context("cannot write the export")?;
        }
        Ok(self.count)
    }
}

/// A CSV cell: text as is, numbers and booleans written out, null empty, JSON compact.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "1" } else { "0" }.to_owned(),
        other => other.to_string(),
    }
}

fn opt(v: &Option<String>) -> Value {
    v.as_ref().map(|s| json!(s)).unwrap_or(Value::Null)
}

fn alert_record(a: &AlertRow, mails: &[alert_mail::MailRow]) -> Vec<Value> {
    let status = alert_mail::mail_status(a, mails);
    let (state, outbox, sent, note) = match &status {
        alert_mail::MailStatus::Queued {
            outbox_id,
            retrying,
            ..
        } => (
            if *retrying { "failed" } else { "queued" },
            Some(*outbox_id),
            None,
            None,
        ),
        alert_mail::MailStatus::Sent { outbox_id, at } => {
            ("sent", Some(*outbox_id), Some(at.clone()), None)
        }
        alert_mail::MailStatus::Dead { outbox_id, .. } => ("dead", Some(*outbox_id), None, None),
        alert_mail::MailStatus::Unconfirmed { outbox_id, .. } => {
            ("unconfirmed", Some(*outbox_id), None, None)
        }
        alert_mail::MailStatus::None { why } => ("none", None, None, Some(why.clone())),
        alert_mail::MailStatus::NotFromSigov => ("not_from_sigov", None, None, None),
    };
    vec![
        json!(a.table().name()),
        json!(a.id),
        json!(a.typ),
        opt(&a.niveau),
        json!(a.titre),
        json!(!a.unread()),
        opt(&a.date_creation),
        opt(&a.date_lecture),
        json!(a.recipient_id),
        opt(&a.recipient_username),
        opt(&a.recipient_email),
        opt(&a.projet_id),
        opt(&a.projet_nom),
        opt(&a.etape_id),
        opt(&a.check_name),
        opt(&a.alert_key),
        a.run_id.map(|r| json!(r)).unwrap_or(Value::Null),
        opt(&a.business_date.map(|d| d.to_string())),
        json!(state),
        outbox.map(|o| json!(o)).unwrap_or(Value::Null),
        opt(&sent),
        opt(&note),
    ]
}

/// Streams the alerts matching `f` into `w`, table by table, newest id first.
pub fn alerts(db: &mut Db, f: &Filter, w: &mut Writer) -> Result<()> {
    for t in alerts::tables_of(f) {
        let mut before: Option<i64> = None;
        loop {
            let rows = alerts::page(db, t, f, before, PAGE)?;
            let Some(last) = rows.last() else { break };
            before = Some(last.id);
            let mails = alert_mail::with_mails(db, &rows)?;
            for (a, m) in rows.iter().zip(&mails) {
                w.record(alert_record(a, m))?;
            }
            if rows.len() < PAGE {
                break;
            }
        }
    }
    Ok(())
}

/// The filters runs and mail exports take.
#[derive(Debug, Default, Clone)]
pub struct LogFilter {
    pub check: Option<String>,
    /// UTC: at or after, before.
    pub since: Option<chrono::NaiveDateTime>,
    pub until: Option<chrono::NaiveDateTime>,
    /// Mail only: a username or an address.
    pub recipient: Option<String>,
}

/// Streams the run history matching `f` into `w`, newest first.
pub fn runs(db: &mut Db, f: &LogFilter, w: &mut Writer) -> Result<()> {
    let mut before: Option<i64> = None;
    loop {
        let filter = super::runs::Filter {
            check: f.check.clone(),
            since: f.since.map(crate::clock::format_datetime),
            until: f.until.map(crate::clock::format_datetime),
            before_id: before,
            limit: PAGE as u64,
            ..Default::default()
        };
        let rows = super::runs::list(db, &filter)?;
        let Some(last) = rows.last() else { break };
        before = Some(last.id);
        for r in &rows {
            let c = r.counters();
            w.record(vec![
                json!(r.id),
                json!(r.check_name),
                json!(r.status.as_str()),
                json!(r.profile),
                json!(r.business_date),
                json!(r.host),
                json!(r.pid),
                json!(r.version),
                json!(crate::clock::format_datetime(r.started_at)),
                opt(&r.finished_at.map(crate::clock::format_datetime)),
                r.duration_secs().map(|d| json!(d)).unwrap_or(Value::Null),
                r.exit_code.map(|e| json!(e)).unwrap_or(Value::Null),
                c.get("created").cloned().unwrap_or(Value::Null),
                c.get("mails_sent").cloned().unwrap_or(Value::Null),
                opt(&r.error),
                json!(c.to_string()),
            ])?;
        }
        if rows.len() < PAGE {
            break;
        }
    }
    Ok(())
}

#[derive(QueryableByName)]
struct OutboxRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    alert_key: String,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    origin_key: Option<String>,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    recipient_id: String,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    recipient_email: String,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    kind: String,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    state: String,
    #[diesel(sql_type = BigInt)]
    attempts: i64,
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    created_at: chrono::NaiveDateTime,
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    next_attempt_at: chrono::NaiveDateTime,
    #[diesel(sql_type = Nullable<diesel::sql_types::Timestamp>)]
    sent_at: Option<chrono::NaiveDateTime>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    message_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    last_error: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    last_response: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    run_id: Option<i64>,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    channel: String,
}

/// Streams the outbox rows matching `f` into `w`, newest first.
pub fn mail(db: &mut Db, f: &LogFilter, w: &mut Writer) -> Result<()> {
    let mut where_sql = String::from(" WHERE 1 = 1");
    let mut vals: Vec<Val> = Vec::new();
    if let Some(c) = &f.check {
        // An outbox key starts with its check's name (a resent mail's origin key does); a
        // channel message's with `#CHANNEL:` and then its check's name.
        where_sql.push_str(" AND (alert_key LIKE ? OR origin_key LIKE ?");
        vals.push(format!("{c}:%").into());
        vals.push(format!("{c}:%").into());
        for n in crate::mail::outbox::channel_names(db)? {
            where_sql.push_str(" OR alert_key LIKE ?");
            vals.push(format!("#{n}:{c}:%").into());
        }
        where_sql.push(')');
    }
    if let Some(s) = f.since {
        where_sql.push_str(&format!(" AND created_at >= {}", db.mark(Mark::Stamp)));
        vals.push(crate::clock::format_datetime(s).into());
    }
    if let Some(u) = f.until {
        where_sql.push_str(&format!(" AND created_at < {}", db.mark(Mark::Stamp)));
        vals.push(crate::clock::format_datetime(u).into());
    }
    if let Some(r) = &f.recipient {
        where_sql.push_str(&format!(
            " AND (LOWER(recipient_email) = ? OR recipient_id IN \
             (SELECT {} FROM core_utilisateur WHERE username = ?))",
            db.key_text("id")
        ));
        vals.push(r.trim().to_lowercase().into());
        vals.push(r.as_str().into());
    }
    let mut before: Option<i64> = None;
    loop {
        let mut sql = format!(
            "SELECT id, alert_key, origin_key, recipient_id, recipient_email, kind, state, \
             {att} AS attempts, created_at, next_attempt_at, sent_at, \
             message_id, last_error, last_response, run_id, channel FROM sigov_outbox{where_sql}",
            att = db.int("attempts"),
        );
        let mut v = vals.clone();
        if let Some(b) = before {
            sql.push_str(" AND id < ?");
            v.push(Val::Int(b));
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT {PAGE}"));
        let rows: Vec<OutboxRow> = db.load(&sql, &v).context("cannot read the outbox")?;
        let Some(last) = rows.last() else { break };
        before = Some(last.id);
        for r in &rows {
            w.record(vec![
                json!(r.id),
                json!(r.alert_key),
                opt(&r.origin_key),
                json!(r.recipient_id),
                json!(r.recipient_email),
                json!(r.kind),
                json!(r.state),
                json!(r.attempts),
                json!(crate::clock::format_datetime(r.created_at)),
                json!(crate::clock::format_datetime(r.next_attempt_at)),
                opt(&r.sent_at.map(crate::clock::format_datetime)),
                opt(&r.message_id),
                opt(&r.last_error),
                opt(&r.last_response),
                r.run_id.map(|x| json!(x)).unwrap_or(Value::Null),
                if r.channel.is_empty() {
                    Value::Null
                } else {
                    json!(r.channel)
                },
            ])?;
        }
        if rows.len() < PAGE {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let cols: &'static [&'static str] = &["a", "b"];
        for (shape, want) in [
            (Shape::Csv, "a,b\r\n\"x, \"\"y\"\"\nz\",\r\n1,é\r\n"),
            (
                Shape::Json,
                "[\n{\"a\":\"x, \\\"y\\\"\\nz\",\"b\":null},\n{\"a\":1,\"b\":\"é\"}\n]\n",
            ),
            (
                Shape::Jsonl,
                "{\"a\":\"x, \\\"y\\\"\\nz\",\"b\":null}\n{\"a\":1,\"b\":\"é\"}\n",
            ),
        ] {
            let mut buf = Vec::new();
            let mut w = Writer::new(shape, cols, &mut buf).unwrap();
            w.record(vec![json!("x, \"y\"\nz"), Value::Null]).unwrap();
            w.record(vec![json!(1), json!("é")]).unwrap();
            assert_eq!(w.finish().unwrap(), 2);
            assert_eq!(String::from_utf8(buf).unwrap(), want, "{shape:?}");
        }
        let mut buf = Vec::new();
        let w = Writer::new(Shape::Json, cols, &mut buf).unwrap();
        assert_eq!(w.finish().unwrap(), 0);
        assert_eq!(String::from_utf8(buf).unwrap(), "[]\n");
    }
}

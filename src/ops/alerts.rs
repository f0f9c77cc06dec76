//! The alerts recorded in the web application's two tables, as `sigov alerts` and `sigov export
//! alerts` read them: any writer's rows (Django's, the web application's, sigov's), each with
//! its ledger key when sigov made it, and where its mail stands.

use crate::db::text::{Lossy, LossyOpt};
use crate::db::{Db, Mark, Val};
use crate::rules::plausible_email;
use crate::states::{MailState, Niveau};
use anyhow::{Context, Result};
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::QueryableByName;
use std::collections::HashMap;

/// The web application's two alert tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Table {
    /// `core_alerteprojet`: project alerts (every check but stages).
    #[value(name = "alert")]
    Alert,
    /// `core_notificationetape`: stage notifications (the stages check).
    #[value(name = "notification")]
    Notification,
}

impl Table {
    pub const BOTH: [Table; 2] = [Table::Alert, Table::Notification];

    pub fn sql_name(self) -> &'static str {
        match self {
            Table::Alert => "core_alerteprojet",
            Table::Notification => "core_notificationetape",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Table::Alert => "alert",
            Table::Notification => "notification",
        }
    }
}

/// What `alerts list` and `export alerts` select.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// Only alerts sigov's ledger records for this check.
    pub check: Option<String>,
    pub alert_type: Option<String>,
    /// Only `core_alerteprojet` rows of this level (stage notifications have none).
    pub niveau: Option<Niveau>,
    /// A project id (with or without dashes) or a part of its name (any case).
    pub project: Option<String>,
    /// A username, or an e-mail address (any case).
    pub recipient: Option<String>,
    /// Created at or after this instant, and before that one (UTC).
    pub since: Option<chrono::NaiveDateTime>,
    pub until: Option<chrono::NaiveDateTime>,
    pub unread: bool,
    /// Only this table (both by default).
    pub table: Option<Table>,
    /// Only this row (with `table`).
    pub id: Option<i64>,
}

impl Filter {
    fn tables(&self) -> Vec<Table> {
        match self.table {
            Some(t) => vec![t],
            // Stage notifications have no level.
            None if self.niveau.is_some() => vec![Table::Alert],
            None => Table::BOTH.to_vec(),
        }
    }
}

/// One alert row with its recipient, project, ledger key and run.
#[derive(Debug, Clone, QueryableByName, serde::Serialize)]
pub struct AlertRow {
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    #[serde(skip)]
    pub tbl: String,
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    #[serde(rename = "type")]
    pub typ: String,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    pub niveau: Option<String>,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    pub titre: String,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    #[serde(skip)]
    pub message: String,
    #[diesel(sql_type = BigInt)]
    #[serde(skip)]
    pub lue: i64,
    /// UTC, `YYYY-MM-DD HH:MM:SS.ffffff` (as the application stores it).
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    pub date_creation: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    pub date_lecture: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    #[serde(skip)]
    pub contexte: Option<String>,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    pub recipient_id: String,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    pub recipient_username: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    #[serde(skip)]
    pub first_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    #[serde(skip)]
    pub last_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    pub recipient_email: Option<String>,
    #[diesel(sql_type = BigInt)]
    #[serde(skip)]
    pub active: i64,
    #[diesel(sql_type = BigInt)]
    #[serde(skip)]
    pub superuser: i64,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    pub projet_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    pub projet_nom: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    #[serde(skip)]
    pub projet_client: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    #[serde(skip)]
    pub projet_createur: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    #[serde(skip)]
    pub projet_statut: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    pub etape_id: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    #[serde(skip)]
    pub etape_ordre: Option<i64>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    #[serde(rename = "ledger_key")]
    pub alert_key: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    #[serde(rename = "check")]
    pub check_name: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub run_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    pub business_date: Option<String>,
}

impl AlertRow {
    pub fn table(&self) -> Table {
        if self.tbl == Table::Notification.sql_name() {
            Table::Notification
        } else {
            Table::Alert
        }
    }

    pub fn unread(&self) -> bool {
        self.lue == 0
    }

    /// The recipient as people know them: "First Last (username)", or their id when the
    /// account is gone.
    pub fn recipient(&self) -> String {
        let name = self.person_name();
        match &self.recipient_username {
            Some(u) if name == *u => name,
            Some(u) => format!("{name} ({u})"),
            None => format!("deleted user {}", self.recipient_id),
        }
    }

    /// "First Last", or the username when both are empty.
    pub fn person_name(&self) -> String {
        let name = format!(
            "{} {}",
            self.first_name.as_deref().unwrap_or(""),
            self.last_name.as_deref().unwrap_or("")
        );
        match name.trim() {
            "" => self.recipient_username.clone().unwrap_or_default(),
            n => n.to_owned(),
        }
    }

    /// The key its mails are filed under: its ledger key, or for a row sigov did not write (a
    /// mail `alerts resend` queued for it), its table and id.
    pub fn mail_key(&self) -> String {
        match &self.alert_key {
            Some(k) => k.clone(),
            None => format!("{}#{}", self.tbl, self.id),
        }
    }

    /// Whether sigov's ledger records this row (sigov wrote it).
    pub fn from_sigov(&self) -> bool {
        self.alert_key.is_some()
    }

    /// Why no mail can go to this row's recipient, if none can.
    pub fn no_mail_reason(&self) -> Option<&'static str> {
        let email = self.recipient_email.as_deref().map(str::trim);
        match email {
            None => Some("recipient deleted"),
            Some("") => Some("no address"),
            Some(e) if !plausible_email(e) => Some("invalid address"),
            Some(_) if self.active == 0 => Some("inactive"),
            Some(_) => None,
        }
    }
}

/// One outbox row of an alert.
#[derive(Debug, Clone, QueryableByName, serde::Serialize)]
pub struct MailRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    #[serde(skip)]
    pub alert_key: String,
    /// Set on a mail `alerts resend` queued: the ledger key of its alert.
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    #[serde(skip)]
    pub origin_key: Option<String>,
    #[diesel(sql_type = Text)]
    pub state: MailState,
    #[diesel(sql_type = BigInt)]
    pub attempts: i64,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    pub recipient_email: String,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    pub created_at: String,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    pub next_attempt_at: String,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    pub sent_at: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    pub message_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    pub last_error: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    pub last_response: Option<String>,
}

impl MailRow {
    /// Whether `alerts resend` queued it.
    pub fn resent(&self) -> bool {
        self.origin_key.is_some()
    }

    /// The ledger key of the alert this mail is of.
    pub fn of_key(&self) -> &str {
        self.origin_key.as_deref().unwrap_or(&self.alert_key)
    }
}

/// Where an alert's mail stands, for `alerts list`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum MailStatus {
    /// Waiting in the outbox (pending, being sent, or failed and due again).
    Queued {
        outbox_id: i64,
        attempts: i64,
        retrying: bool,
    },
    Sent {
        outbox_id: i64,
        at: String,
    },
    Dead {
        outbox_id: i64,
        attempts: i64,
    },
    /// Handed over twice without a final answer: it may have arrived; set aside.
    Unconfirmed {
        outbox_id: i64,
        attempts: i64,
    },
    /// No mail: why (no address, invalid address, inactive, recipient deleted, or the outbox
    /// row was purged after delivery).
    None {
        why: String,
    },
    /// The row is not sigov's: its mail (if any) was Django's or the application's business.
    NotFromSigov,
}

impl MailStatus {
    /// A short text for a table cell.
    pub fn cell(&self) -> String {
        match self {
            MailStatus::Queued {
                attempts, retrying, ..
            } if *retrying => format!("failed, retrying ({attempts} attempts)"),
            MailStatus::Queued { .. } => "queued".into(),
            MailStatus::Sent { at, .. } => format!("sent {}", crate::clock::to_seconds(at)),
            MailStatus::Dead { attempts, .. } => format!("dead ({attempts} attempts)"),
            MailStatus::Unconfirmed { attempts, .. } => {
                format!("unconfirmed ({attempts} attempts; the relay may have it)")
            }
            MailStatus::None { why } => format!("none: {why}"),
            MailStatus::NotFromSigov => "not from sigov".into(),
        }
    }
}

/// The status of an alert's mail from its newest outbox row.
pub fn mail_status(a: &AlertRow, mails: &[MailRow]) -> MailStatus {
    if !a.from_sigov() && mails.is_empty() {
        return MailStatus::NotFromSigov;
    }
    match mails.iter().max_by_key(|m| m.id) {
        Some(m) => match m.state {
            MailState::Sent => MailStatus::Sent {
                outbox_id: m.id,
                at: m.sent_at.clone().unwrap_or_default(),
            },
            MailState::Dead => MailStatus::Dead {
                outbox_id: m.id,
                attempts: m.attempts,
            },
            MailState::Unconfirmed => MailStatus::Unconfirmed {
                outbox_id: m.id,
                attempts: m.attempts,
            },
            MailState::Pending | MailState::Sending | MailState::Failed => MailStatus::Queued {
                outbox_id: m.id,
                attempts: m.attempts,
                retrying: m.state == MailState::Failed,
            },
        },
        None => MailStatus::None {
            why: a
                .no_mail_reason()
                .unwrap_or("no outbox row (purged after delivery, or never queued)")
                .to_owned(),
        },
    }
}

/// `s` normalized as a project key when it can be one (32 hexadecimal digits, dashes aside).
fn as_key(s: &str) -> Option<String> {
    let k: String = s.chars().filter(|c| *c != '-').collect();
    (k.len() == 32 && k.chars().all(|c| c.is_ascii_hexdigit())).then(|| k.to_ascii_lowercase())
}

/// `s` as a LIKE pattern matching it anywhere, `!` escaping the wildcards.
fn contains_pattern(s: &str) -> String {
    let mut p = String::from("%");
    for c in s.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '!') {
            p.push('!');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The SELECT of one table's rows matching `f` (before ORDER BY), with its values.
fn select(db: &Db, table: Table, f: &Filter) -> (String, Vec<Val>) {
    let (typ, niveau, join_project, etape, ordre) = match table {
        Table::Alert => (
            "a.type_alerte",
            "a.niveau".to_owned(),
            "LEFT JOIN core_projet p ON p.id = a.projet_id",
            "NULL".to_owned(),
            "NULL".to_owned(),
        ),
        Table::Notification => (
            "a.type_notification",
            "NULL".to_owned(),
            "LEFT JOIN core_etapeprojet e ON e.id = a.etape_id LEFT JOIN core_projet p ON p.id = e.projet_id",
            db.key_text("a.etape_id"),
            db.int("e.ordre"),
        ),
    };
    let active = format!(
        "({} * {})",
        db.flag(&format!("COALESCE(u.is_active, {})", db.false_sql())),
        db.flag(&format!("COALESCE(u.statut_actif, {})", db.false_sql()))
    );
    let mut sql = format!(
        "SELECT '{tbl}' AS tbl, a.id AS id, {typ} AS typ, {niveau} AS niveau, a.titre AS titre, \
         a.message AS message, {lue} AS lue, {dc} AS date_creation, {dl} AS date_lecture, \
         {ctx} AS contexte, {dest} AS recipient_id, u.username AS recipient_username, \
         u.first_name AS first_name, u.last_name AS last_name, u.email AS recipient_email, \
         {active} AS active, {sup} AS superuser, {pid} AS projet_id, p.nom AS projet_nom, \
         p.client AS projet_client, {createur} AS projet_createur, s.nom AS projet_statut, \
         {etape} AS etape_id, {ordre} AS etape_ordre, l.alert_key AS alert_key, \
         l.check_name AS check_name, l.run_id AS run_id, {bd} AS business_date \
         FROM {tbl} a \
         LEFT JOIN core_utilisateur u ON u.id = a.destinataire_id \
         {join_project} \
         LEFT JOIN core_statutprojet s ON s.id = p.statut_id \
         LEFT JOIN sigov_alert_ledger l ON l.target_table = '{tbl}' AND l.alert_id = a.id \
         WHERE 1 = 1",
        tbl = table.sql_name(),
        lue = db.flag("a.lue"),
        dc = db.text("a.date_creation"),
        dl = db.text("a.date_lecture"),
        ctx = db.text("a.donnees_contexte"),
        dest = db.key_text("a.destinataire_id"),
        sup = db.flag(&format!("COALESCE(u.is_superuser, {})", db.false_sql())),
        pid = db.key_text("p.id"),
        createur = db.key_text("p.createur_id"),
        bd = db.text("l.business_date"),
    );
    let mut vals: Vec<Val> = Vec::new();
    if let Some(id) = f.id {
        sql.push_str(" AND a.id = ?");
        vals.push(Val::Int(id));
    }
    if let Some(c) = &f.check {
        sql.push_str(" AND l.check_name = ?");
        vals.push(c.as_str().into());
    }
    if let Some(t) = &f.alert_type {
        sql.push_str(&format!(" AND {typ} = ?"));
        vals.push(t.as_str().into());
    }
    if let Some(n) = f.niveau {
        sql.push_str(" AND a.niveau = ?");
        vals.push(n.into());
    }
    if let Some(p) = &f.project {
        let like = " LOWER(p.nom) LIKE ? ESCAPE '!'";
        match as_key(p) {
            Some(k) => {
                sql.push_str(&format!(" AND (p.id = {} OR{like})", db.mark(Mark::Uuid)));
                vals.push(k.into());
            }
            None => sql.push_str(&format!(" AND{like}")),
        }
        vals.push(contains_pattern(p).into());
    }
    if let Some(r) = &f.recipient {
        sql.push_str(" AND (u.username = ? OR LOWER(u.email) = ?)");
        vals.push(r.as_str().into());
        vals.push(r.trim().to_lowercase().into());
    }
    if let Some(since) = f.since {
        sql.push_str(&format!(
            " AND a.date_creation >= {}",
            db.mark(Mark::AppStamp)
        ));
        vals.push(crate::clock::format_datetime(since).into());
    }
    if let Some(until) = f.until {
        sql.push_str(&format!(
            " AND a.date_creation < {}",
            db.mark(Mark::AppStamp)
        ));
        vals.push(crate::clock::format_datetime(until).into());
    }
    if f.unread {
        sql.push_str(&format!(" AND a.lue = {}", db.false_sql()));
    }
    (sql, vals)
}

/// Alerts matching `f`, newest first (by creation time, then id), at most `limit` (0: all).
/// One statement a table.
pub fn list(db: &mut Db, f: &Filter, limit: u64) -> Result<Vec<AlertRow>> {
    let mut rows: Vec<AlertRow> = Vec::new();
    for t in f.tables() {
        let (mut sql, vals) = select(db, t, f);
        sql.push_str(" ORDER BY a.date_creation DESC, a.id DESC");
        if limit > 0 {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        let mut got: Vec<AlertRow> = db
            .load(&sql, &vals)
            .with_context(|| format!("cannot read {}", t.sql_name()))?;
        rows.append(&mut got);
    }
    rows.sort_by(|x, y| {
        (&y.date_creation, y.id, y.table() as u8).cmp(&(&x.date_creation, x.id, x.table() as u8))
    });
    if limit > 0 {
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    Ok(rows)
}

/// One page of a table's rows matching `f` with ids below `before`, newest id first: what an
/// export streams, a page at a time.
pub fn page(
    db: &mut Db,
    table: Table,
    f: &Filter,
    before: Option<i64>,
    size: usize,
) -> Result<Vec<AlertRow>> {
    let (mut sql, mut vals) = select(db, table, f);
    if let Some(b) = before {
        sql.push_str(" AND a.id < ?");
        vals.push(Val::Int(b));
    }
    sql.push_str(&format!(" ORDER BY a.id DESC LIMIT {size}"));
    db.load(&sql, &vals)
        .with_context(|| format!("cannot read {}", table.sql_name()))
}

/// The tables a filter reads.
pub fn tables_of(f: &Filter) -> Vec<Table> {
    f.tables()
}

/// Every outbox row of the alerts with these ledger keys (their own mail and any resent), by
/// key, oldest first. One statement per [`crate::db::STATEMENT_ROWS`] keys.
pub fn mails_of(db: &mut Db, keys: &[&str]) -> Result<HashMap<String, Vec<MailRow>>> {
    let mut by_key: HashMap<String, Vec<MailRow>> = HashMap::new();
    for chunk in keys.chunks(crate::db::STATEMENT_ROWS.max(1)) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let sql = format!(
            "SELECT id, alert_key, origin_key, state, {att} AS attempts, recipient_email, \
             {ca} AS created_at, {na} AS next_attempt_at, {sa} AS sent_at, message_id, \
             last_error, last_response FROM sigov_outbox \
             WHERE alert_key IN ({marks}) OR origin_key IN ({marks}) ORDER BY id",
            att = db.int("attempts"),
            ca = db.text("created_at"),
            na = db.text("next_attempt_at"),
            sa = db.text("sent_at"),
        );
        let mut vals: Vec<Val> = chunk.iter().map(|k| Val::from(*k)).collect();
        vals.extend(chunk.iter().map(|k| Val::from(*k)));
        let rows: Vec<MailRow> = db.load(&sql, &vals).context("cannot read the outbox")?;
        for m in rows {
            by_key.entry(m.of_key().to_owned()).or_default().push(m);
        }
    }
    Ok(by_key)
}

/// The mails of each row of `rows` (empty for rows sigov did not write).
pub fn with_mails(db: &mut Db, rows: &[AlertRow]) -> Result<Vec<Vec<MailRow>>> {
    let keys: Vec<String> = rows.iter().map(AlertRow::mail_key).collect();
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let mut by_key = mails_of(db, &refs)?;
    Ok(keys
        .iter()
        .map(|k| by_key.remove(k).unwrap_or_default())
        .collect())
}

/// One alert by table and id.
pub fn get(db: &mut Db, table: Table, id: i64) -> Result<Option<AlertRow>> {
    let f = Filter {
        table: Some(table),
        id: Some(id),
        ..Default::default()
    };
    Ok(list(db, &f, 1)?.into_iter().next())
}

#[derive(QueryableByName)]
struct AffectationRow {
    #[diesel(sql_type = BigInt)]
    resp: i64,
}

/// The recipient's roles on the alert's project, strongest first: responsable principal,
/// createur, team member, superuser. One statement.
pub fn roles(db: &mut Db, a: &AlertRow) -> Result<Vec<&'static str>> {
    let mut roles = Vec::new();
    let Some(projet) = a.projet_id.as_deref() else {
        return Ok(roles);
    };
    let sql = format!(
        "SELECT {} AS resp FROM core_affectation af WHERE af.projet_id = {} \
         AND af.utilisateur_id = {} AND af.date_fin IS NULL",
        db.flag("af.est_responsable_principal"),
        db.mark(Mark::Uuid),
        db.mark(Mark::Uuid),
    );
    let rows: Vec<AffectationRow> = db
        .load(
            &sql,
            &[Val::from(projet), Val::from(a.recipient_id.as_str())],
        )
        .context("cannot read core_affectation")?;
    if rows.iter().any(|r| r.resp != 0) {
        roles.push("responsable principal");
    }
    if a.projet_createur.as_deref() == Some(a.recipient_id.as_str()) {
        roles.push("createur");
    }
    if rows.iter().any(|r| r.resp == 0) {
        roles.push("team member");
    }
    if a.superuser != 0 {
        roles.push("superuser");
    }
    Ok(roles)
}

/// A mail `alerts resend` queued (or would queue, on a dry run).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Resent {
    pub table: Table,
    pub alert_id: i64,
    pub to: String,
    /// The new outbox row (`None` on a dry run).
    pub outbox_id: Option<i64>,
}

/// Queues one new mail for each alert of `ids` in `table` (a new outbox row with its own
/// Message-ID; the alert row is not touched), to the recipient's current address. Nothing is
/// queued when an id is unknown or a recipient has no usable address: the error names them.
pub fn resend(
    db: &mut Db,
    table: Table,
    ids: &[i64],
    now: chrono::NaiveDateTime,
    dry_run: bool,
) -> Result<Vec<Resent>> {
    let mut found = Vec::with_capacity(ids.len());
    let mut problems = Vec::new();
    let mut unknown = Vec::new();
    for id in ids {
        match get(db, table, *id)? {
            None => unknown.push(id.to_string()),
            Some(a) => match a.no_mail_reason() {
                Some(why) => {
                    problems.push(format!("alert {id}: cannot mail {}: {why}", a.recipient()))
                }
                None => found.push(a),
            },
        }
    }
    if !unknown.is_empty() {
        return Err(crate::exit::UnknownValue(format!(
            "nothing queued: no alert with id {} in {}",
            unknown.join(", "),
            table.sql_name()
        ))
        .into());
    }
    if !problems.is_empty() {
        anyhow::bail!("nothing queued: {}", problems.join("; "));
    }
    let mut out = Vec::with_capacity(found.len());
    let stamp = crate::clock::to_micros(now);
    db.transaction(|db| {
        for (n, a) in found.iter().enumerate() {
            let to = a
                .recipient_email
                .clone()
                .unwrap_or_default()
                .trim()
                .to_owned();
            let outbox_id = if dry_run {
                None
            } else {
                Some(queue_again(db, a, &to, stamp, n)?)
            };
            out.push(Resent {
                table,
                alert_id: a.id,
                to,
                outbox_id,
            });
        }
        Ok(())
    })?;
    Ok(out)
}

fn queue_again(
    db: &mut Db,
    a: &AlertRow,
    to: &str,
    now: chrono::NaiveDateTime,
    n: usize,
) -> Result<i64> {
    use crate::db::schema::sigov_outbox::dsl as o;
    use crate::mail::render::{Payload, PayloadProjet, PayloadRecipient};
    use diesel::ExpressionMethods;
    let context = a
        .contexte
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or(serde_json::Value::Null);
    let payload = Payload {
        alert_id: a.id,
        table: a.tbl.clone(),
        alert_type: a.typ.clone(),
        niveau: a.niveau.clone(),
        titre: a.titre.clone(),
        message: a.message.clone(),
        context,
        recipient: PayloadRecipient {
            id: a.recipient_id.clone(),
            name: a.person_name(),
            email: to.to_owned(),
        },
        projet: PayloadProjet {
            id: a.projet_id.clone().unwrap_or_default(),
            nom: a.projet_nom.clone().unwrap_or_default(),
            client: a.projet_client.clone().unwrap_or_default(),
            statut: a.projet_statut.clone().unwrap_or_default(),
        },
        etape_ordre: a.etape_ordre,
        created_at: a.date_creation.clone().unwrap_or_default(),
        reason: "un exploitant vous l'a renvoyée (sigov alerts resend)".to_owned(),
        rule: crate::checks::registry::rule_label(&a.typ, &serde_json::Value::Null),
    };
    let payload = serde_json::to_string(&payload).context("cannot write the mail's payload")?;
    let kind = match a.table() {
        Table::Alert => crate::states::MailKind::Alert,
        Table::Notification => crate::states::MailKind::Stage,
    };
    // A key of its own (the outbox keeps one row per key), unique across hosts and processes.
    let key = format!(
        "resend:{}:{}:{}:{}:{}:{n}",
        a.tbl,
        a.id,
        now.and_utc().timestamp_micros(),
        crate::host::hostname(),
        std::process::id()
    );
    let key: String = key.chars().take(191).collect();
    crate::db::dsl_execute!(
        db,
        diesel::insert_into(o::sigov_outbox).values((
            o::alert_key.eq(key.as_str()),
            o::origin_key.eq(Some(a.mail_key())),
            o::recipient_id.eq(a.recipient_id.as_str()),
            o::recipient_email.eq(to),
            o::kind.eq(kind.as_str()),
            o::payload.eq(payload.as_str()),
            o::state.eq(MailState::Pending.as_str()),
            o::attempts.eq(0),
            o::next_attempt_at.eq(now),
            o::created_at.eq(now),
            o::updated_at.eq(now),
        ))
    )
    .context("cannot queue the mail")?;
    db.last_insert_id().context("cannot read the new outbox id")
}

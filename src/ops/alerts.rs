//! The alerts recorded in the web application's two tables, as `sigov alerts` and `sigov export
//! alerts` read them: any writer's rows (Django's, the web application's, sigov's), each with
//! its ledger key when sigov made it, and where its mail stands.

use crate::db::text::{Lossy, LossyOpt};
use crate::db::{Db, Mark, Val};
use crate::rules::plausible_email;
use crate::states::Niveau;
use anyhow::{Context, Result};
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::QueryableByName;

/// The web application's two alert tables.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize, strum::IntoStaticStr,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
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
        self.into()
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
    #[diesel(sql_type = Nullable<diesel::sql_types::Date>)]
    pub business_date: Option<chrono::NaiveDate>,
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
         l.check_name AS check_name, l.run_id AS run_id, l.business_date AS business_date \
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

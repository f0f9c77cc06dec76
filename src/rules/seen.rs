//! The de-duplication memory: what was already recorded (ledger keys, and the alert rows any
//! writer left in the web application's tables), and how a check asks for it.

use super::alert::Target;
use chrono::NaiveDate;
use std::collections::HashSet;

/// What was already recorded: ledger keys, and alert rows present in the web application's
/// tables (written earlier by Django, the web application or sigov).
#[derive(Debug, Default)]
pub struct Seen {
    pub keys: HashSet<String>,
    /// (recipient, entity, type, business date of `date_creation`)
    pub daily: HashSet<(String, String, String, NaiveDate)>,
    /// (recipient, entity, type, discriminator read from the row's JSON context: a due date
    /// `due=YYYY-MM-DD`, an end date, or `""` for "once ever")
    pub once: HashSet<(String, String, String, String)>,
    /// Rows whose JSON context cannot be read (not JSON, or not an object): what can be read of
    /// them, (recipient, entity column: project or stage, type, business date). A candidate of
    /// the same recipient, project (or stage) and type is taken as already alerted, that day for
    /// a daily alert, ever for a once-only one: a row that cannot be read never causes a
    /// duplicate (it may, at worst, hold back an alert of another task of the same project).
    pub unreadable: HashSet<(String, String, String, Option<NaiveDate>)>,
    /// Ids of those rows (counted once per run as `unreadable_context`).
    pub unreadable_ids: Vec<i64>,
}

/// How a check's existing alert rows are read back for de-duplication (the source layer runs
/// it; the check supplies it).
pub struct SeenSpec {
    pub check: &'static str,
    pub target: Target,
    pub types: Vec<String>,
    /// Rows and ledger keys from this business date on; `None`: the whole history.
    pub since: Option<NaiveDate>,
    /// Alert types whose ledger keys are read whatever their business date: keys that stay
    /// valid longer than `since` reaches back (budget thresholds: once per planned budget).
    pub keys_of_any_date: &'static [&'static str],
    /// The de-duplication entity of a stored row, from its entity column (`projet_id` or
    /// `etape_id`) and its JSON context; `None` when the row cannot be one of ours.
    pub entity: fn(&str, &serde_json::Value) -> Option<String>,
    /// The "once" discriminators of a stored row, from its type and JSON context.
    pub discriminators: fn(&str, &serde_json::Value) -> Vec<String>,
}

/// The entity column as it is (projects, stages).
pub fn entity_column(col: &str, _: &serde_json::Value) -> Option<String> {
    Some(col.to_owned())
}

/// No "once" discriminator (daily checks).
pub fn no_discriminators(_: &str, _: &serde_json::Value) -> Vec<String> {
    Vec::new()
}

/// The JSON string `field` of a context, if present.
pub fn json_str<'a>(v: &'a serde_json::Value, field: &str) -> Option<&'a str> {
    v.get(field).and_then(|x| x.as_str())
}

impl Seen {
    /// Was a daily alert recorded for any business day in `window` (inclusive)?
    pub fn daily_in(
        &self,
        key_prefix: &str,
        rec: &str,
        entity: &str,
        typ: &str,
        window: (NaiveDate, NaiveDate),
    ) -> bool {
        let mut d = window.0;
        while d <= window.1 {
            if self
                .daily
                .contains(&(rec.to_owned(), entity.to_owned(), typ.to_owned(), d))
                || self.keys.contains(&format!("{key_prefix}:{d}"))
            {
                return true;
            }
            match d.succ_opt() {
                Some(n) => d = n,
                None => break,
            }
        }
        false
    }
}

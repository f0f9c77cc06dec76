//! What a check is, as the rest of sigov sees it: the [`Check`] trait (its tables, alert types,
//! mail labels, explanations, samples, colour, settings keys, the calendar options and
//! escalation audiences it accepts). How it runs is `run::Execute`, its settings
//! `settings::Configure`. Shared code knows a check only through these and the registry.

use crate::db::Db;
use crate::keyspec::KeySpec;
pub use crate::mail::settings::Sample;
use crate::rules::Audience;
use crate::source::Probe;

use serde_json::Value;

/// What a check is: the tables it reads, the rows it would lose without a trace, and everything
/// shared code says or accepts about it.
pub trait Check: Sync {
    /// The web application's tables it reads (a clear error names the first one missing).
    fn tables(&self) -> &'static [&'static str];

    /// Rows its joins or filters would drop silently: counted and logged instead.
    fn probes(&self, db: &Db) -> Vec<Probe>;

    /// How mail presents its alerts: a template rendered with `code` (an alert type) that says
    /// the type's label and what to do about it (`label: …`, `advice: …` lines), nothing for a
    /// type that is not its own. Sites override it as `labels/NAME.txt` in mail.templates_dir.
    fn mail_labels(&self) -> &'static str;

    /// The alert types it writes (`type_alerte`, `type_notification`); `<n>` stands for a
    /// number (ECHEANCE_J<n>: one per milestone configured).
    fn alert_types(&self) -> &'static [&'static str];

    /// The rule behind one of its alert types, for the mail's footer (`échéance J-3`).
    fn rule_label(&self, alert_type: &str, context: &Value) -> String;

    /// Why one of its alerts exists, as `sigov alerts show` says it: the rule in one sentence,
    /// the facts it decided on added to `facts`.
    fn explain(&self, alert_type: &str, facts: &mut Facts<'_>) -> String;

    /// One sample alert of each kind it writes, for `sigov mail preview` (`today` is the
    /// business date they are dated from).
    fn samples(&self, today: chrono::NaiveDate) -> Vec<Sample> {
        let _ = today;
        Vec::new()
    }

    /// Its colour on the statistics page's charts (neutral hues: red means failure there).
    fn colour(&self) -> &'static str;

    /// The keys of its settings (its own section, its switches of the recommended profile).
    fn keys(&self) -> &'static [KeySpec] {
        &[]
    }

    /// Which `calendar.*` options may name it.
    fn calendar(&self) -> CalendarUse {
        CalendarUse::default()
    }

    /// Who an escalation ladder (`escalation.NAME`) of its repeating alerts may reach, and
    /// from when the ladder counts; `None`: it has no repeating alert to escalate.
    fn escalation(&self) -> Option<Escalation> {
        None
    }

    /// When the shipped schedule (crontab.example, the systemd timers) starts it: a cron
    /// expression, the default of `health.schedule.NAME`.
    fn schedule(&self) -> &'static str {
        "0 */4 * * *"
    }

    /// The label of a stage type code, for checks that alert about stages.
    fn stage_type_label(&self, _code: &str) -> Option<String> {
        None
    }

    /// Whether its ledger keys record decisions for the life of an entity (a budget threshold
    /// per planned budget): `sigov purge` never deletes them.
    fn ledger_kept_forever(&self) -> bool {
        false
    }

    /// Whether the reference (the Django commands) had it: the reference profile runs only those.
    fn in_reference(&self) -> bool {
        true
    }
}

/// Which `calendar.*` options a check accepts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CalendarUse {
    /// `calendar.working_days_only`: it has repeating (daily) alerts.
    pub repeating: bool,
    /// `calendar.milestones_on_working_days`: it has milestones.
    pub milestones: bool,
    /// `calendar.business_days`: it counts days (milestones, days late).
    pub business_days: bool,
}

/// What an escalation ladder of a check may do.
#[derive(Debug, Clone, Copy)]
pub struct Escalation {
    /// The audiences a rung may add.
    pub audiences: &'static [Audience],
    /// What the ladder's open days count from, for the key's help (`its due date`).
    pub from: &'static str,
}

/// The facts an explanation reads from an alert's `donnees_contexte`, in the order added.
pub struct Facts<'a> {
    context: &'a Value,
    list: Vec<(String, String)>,
}

impl<'a> Facts<'a> {
    pub fn new(context: &'a Value) -> Facts<'a> {
        Facts {
            context,
            list: Vec::new(),
        }
    }

    /// The context's `key`, as text.
    pub fn get(&self, key: &str) -> Option<String> {
        self.context.get(key).map(text)
    }

    /// The context's `key`, as an integer.
    pub fn int(&self, key: &str) -> Option<i64> {
        self.context.get(key).and_then(Value::as_i64)
    }

    /// Adds the context's `key` as the fact `name`, when it has one.
    pub fn from(&mut self, name: &str, key: &str) {
        let v = self.get(key);
        self.add(name, v);
    }

    /// Adds the fact `name`, when it has a value.
    pub fn add(&mut self, name: &str, value: Option<String>) {
        if let Some(v) = value {
            self.list.push((name.to_owned(), v));
        }
    }

    /// Every field of the context, as facts (an alert no rule of sigov names).
    pub fn all(&mut self) {
        if let Some(o) = self.context.as_object() {
            for (k, v) in o {
                self.list.push((k.clone(), text(v)));
            }
        }
    }

    /// The facts added.
    pub fn into_list(self) -> Vec<(String, String)> {
        self.list
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

//! What a check is, as the rest of sigov sees it: the [`Check`] trait (its tables, alert types,
//! mail labels, explanations, samples, colour, settings keys, the calendar options and
//! escalation audiences it accepts) and [`Execute`] (how it runs, with its own typed settings).
//! Shared code knows a check only through these and the registry.

use super::run::Run;
use crate::db::Db;
use crate::keyspec::KeySpec;
pub use crate::mail::samples::Sample;
use crate::rules::Audience;
use crate::source::Probe;
use anyhow::{bail, Result};
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

/// How a check runs, given its own settings.
pub trait Execute {
    /// Its settings after the profile is applied.
    type Settings: Configure;

    /// Selects its candidates and evaluates them page by page through `run` (which
    /// de-duplicates against what was recorded, writes and counts); returns the number of
    /// candidates the reference reports (entities of the check's kind in scope, due or not).
    fn execute(&self, db: &mut Db, run: &mut Run<'_>, settings: &Self::Settings) -> Result<i64>;
}

/// A check's settings: the reference's fixed values, or read from the configuration.
pub trait Configure: Sized + Clone + std::fmt::Debug + PartialEq + serde::Serialize {
    /// What the reference (the Django commands) does.
    fn reference() -> Self;
    /// The recommended profile's values, from the layered configuration.
    fn configure(input: &Input<'_>) -> Result<Self>;
}

/// Settings of a check that has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct NoSettings;

impl Configure for NoSettings {
    fn reference() -> Self {
        NoSettings
    }
    fn configure(_: &Input<'_>) -> Result<Self> {
        Ok(NoSettings)
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

/// The configuration as a check's settings read it: each key's effective value and where it
/// came from.
pub trait Values {
    /// The effective value of `key` (one the check declares), its default when not set.
    fn value(&self, key: &str) -> Option<toml::Value>;
    /// Where `key`'s value came from, for an error about it.
    fn origin(&self, key: &str) -> String;
}

/// Typed reads of a check's keys; every error names the key and where its value came from.
pub struct Input<'a> {
    values: &'a dyn Values,
}

impl<'a> Input<'a> {
    pub fn new(values: &'a dyn Values) -> Input<'a> {
        Input { values }
    }

    fn get(&self, key: &str) -> Result<toml::Value> {
        match self.values.value(key) {
            Some(v) => Ok(v),
            None => bail!("`{key}`: no value (the key is not declared)"),
        }
    }

    /// A true/false switch.
    pub fn flag(&self, key: &str) -> Result<bool> {
        match self.get(key)? {
            toml::Value::Boolean(b) => Ok(b),
            other => bail!(
                "{}: `{key}`: expected true or false, found {}",
                self.values.origin(key),
                other.type_str()
            ),
        }
    }

    /// An integer in `min..=max`.
    pub fn range(&self, key: &str, min: u32, max: u32) -> Result<u32> {
        let v = self.get(key)?;
        match v.as_integer() {
            Some(n) if (i64::from(min)..=i64::from(max)).contains(&n) => Ok(n as u32),
            Some(n) => bail!(
                "`{key}` = {n} ({}) is out of range {min}..={max}",
                self.values.origin(key)
            ),
            None => bail!(
                "{}: `{key}`: expected an integer, found {}",
                self.values.origin(key),
                v.type_str()
            ),
        }
    }

    /// Days in `0..=max`, largest first, without duplicates.
    pub fn days(&self, key: &str, max: u32) -> Result<Vec<u32>> {
        let v = self.get(key)?;
        let Some(items) = v.as_array() else {
            bail!(
                "{}: `{key}`: expected a list of integers, found {}",
                self.values.origin(key),
                v.type_str()
            );
        };
        let mut out = Vec::with_capacity(items.len());
        for d in items {
            match d.as_integer() {
                Some(n) if (0..=i64::from(max)).contains(&n) => out.push(n as u32),
                _ => bail!(
                    "`{key}`: {d} ({}) is not an integer in 0..={max}",
                    self.values.origin(key)
                ),
            }
        }
        out.sort_unstable_by(|a, b| b.cmp(a));
        out.dedup();
        Ok(out)
    }
}

/// A check's settings as its keys' documented defaults make them (for unit tests).
#[cfg(test)]
pub fn defaults<T: Configure>(keys: &[KeySpec]) -> T {
    struct Defaults<'k>(&'k [KeySpec]);
    impl Values for Defaults<'_> {
        fn value(&self, key: &str) -> Option<toml::Value> {
            let k = self.0.iter().find(|k| k.key == key)?;
            let doc: toml::Table = format!("v = {}", k.default).parse().ok()?;
            doc.get("v").cloned()
        }
        fn origin(&self, _: &str) -> String {
            "default".to_owned()
        }
    }
    match T::configure(&Input::new(&Defaults(keys))) {
        Ok(s) => s,
        Err(e) => panic!("the documented defaults do not configure: {e:#}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Map(Vec<(&'static str, toml::Value)>);
    impl Values for Map {
        fn value(&self, key: &str) -> Option<toml::Value> {
            self.0
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
        }
        fn origin(&self, _: &str) -> String {
            "configuration file `x.toml`".to_owned()
        }
    }

    #[test]
    fn typed_reads_name_the_key_and_where_it_came_from() {
        let m = Map(vec![
            (
                "a.days",
                toml::Value::Array(vec![1.into(), 7.into(), 1.into()]),
            ),
            ("a.bad", toml::Value::Array(vec![400.into()])),
            ("a.flag", toml::Value::Boolean(true)),
            ("a.n", toml::Value::Integer(5)),
            ("a.s", toml::Value::String("x".into())),
        ]);
        let i = Input::new(&m);
        assert_eq!(i.days("a.days", 365).unwrap(), vec![7, 1]);
        let e = i.days("a.bad", 365).unwrap_err().to_string();
        assert_eq!(
            e,
            "`a.bad`: 400 (configuration file `x.toml`) is not an integer in 0..=365"
        );
        assert!(i.flag("a.flag").unwrap());
        assert!(i
            .flag("a.n")
            .unwrap_err()
            .to_string()
            .contains("`a.n`: expected true or false"));
        assert_eq!(i.range("a.n", 1, 9).unwrap(), 5);
        assert!(i
            .range("a.n", 6, 9)
            .unwrap_err()
            .to_string()
            .contains("out of range 6..=9"));
        assert!(i
            .days("a.s", 9)
            .unwrap_err()
            .to_string()
            .contains("expected a list"));
        assert!(i.flag("a.missing").is_err());
    }
}

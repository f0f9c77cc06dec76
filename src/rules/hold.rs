//! What people said of their alerts, as the rules see it: an acknowledgement (`sigov ack`, a
//! reply "OK") holds an alert's repeats and escalation while its entity says the same; a snooze
//! (`sigov snooze`, a reply "REPORTER 3") holds them until a day. Keyed by what an alert is for
//! everybody who receives it: its check, type and entity (the recipient is not part of it).

use chrono::NaiveDate;
use std::collections::HashMap;

/// An acknowledgement or a snooze.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HoldKind {
    Ack,
    Snooze,
}

impl HoldKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HoldKind::Ack => "ack",
            HoldKind::Snooze => "snooze",
        }
    }

    pub fn parse(s: &str) -> Option<HoldKind> {
        match s {
            "ack" => Some(HoldKind::Ack),
            "snooze" => Some(HoldKind::Snooze),
            _ => None,
        }
    }
}

/// One hold, as a check's run reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Hold {
    pub id: i64,
    pub kind: HoldKind,
    /// What the alert was raised on when it was held (`due=2026-11-17`); `None`: not known
    /// (an alert raised before sigov kept it), taken as the same.
    pub arm: Option<String>,
    /// A snooze's end: repeats resume on that day.
    pub until: Option<NaiveDate>,
    /// Who held it, and when (the business day).
    pub by: String,
    pub on: NaiveDate,
    pub note: Option<String>,
}

/// The holds in force for one check, by (alert type, entity).
#[derive(Debug, Clone, Default)]
pub struct Holds(HashMap<(String, String), Hold>);

impl Holds {
    /// Adds `h` for (`alert_type`, `entity`); of two for the same alert, the newer wins.
    pub fn insert(&mut self, alert_type: &str, entity: &str, h: Hold) {
        let key = (alert_type.to_owned(), entity.to_owned());
        match self.0.get(&key) {
            Some(old) if old.id > h.id => {}
            _ => {
                self.0.insert(key, h);
            }
        }
    }

    pub fn get(&self, alert_type: &str, entity: &str) -> Option<&Hold> {
        if self.0.is_empty() {
            return None;
        }
        self.0.get(&(alert_type.to_owned(), entity.to_owned()))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What a hold does to an alert today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holding {
    /// Repeats and escalation wait.
    Held,
    /// The entity changed since (a moved date, a new budget): the hold is over.
    Rearmed,
    /// A snooze whose day has come.
    Over,
}

impl Hold {
    /// What this hold does today to an alert raised on `arm`.
    pub fn holding(&self, arm: &str, today: NaiveDate) -> Holding {
        if self.arm.as_deref().is_some_and(|a| a != arm) {
            return Holding::Rearmed;
        }
        match (self.kind, self.until) {
            (HoldKind::Snooze, Some(until)) if today >= until => Holding::Over,
            _ => Holding::Held,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        crate::clock::parse_stored_date(s).expect("date")
    }

    fn hold(kind: HoldKind, arm: Option<&str>, until: Option<&str>) -> Hold {
        Hold {
            id: 1,
            kind,
            arm: arm.map(str::to_owned),
            until: until.map(day),
            by: "ana".into(),
            on: day("2026-11-23"),
            note: None,
        }
    }

    #[test]
    fn an_ack_holds_while_the_entity_says_the_same() {
        let h = hold(HoldKind::Ack, Some("due=2026-11-17"), None);
        assert_eq!(
            h.holding("due=2026-11-17", day("2027-01-01")),
            Holding::Held
        );
        assert_eq!(
            h.holding("due=2026-11-30", day("2026-11-24")),
            Holding::Rearmed
        );
        let unknown = hold(HoldKind::Ack, None, None);
        assert_eq!(
            unknown.holding("due=2026-11-30", day("2026-11-24")),
            Holding::Held
        );
    }

    #[test]
    fn a_snooze_ends_on_its_day_or_when_the_entity_changes() {
        let h = hold(HoldKind::Snooze, Some("due=2026-11-17"), Some("2026-11-26"));
        assert_eq!(
            h.holding("due=2026-11-17", day("2026-11-25")),
            Holding::Held
        );
        assert_eq!(
            h.holding("due=2026-11-17", day("2026-11-26")),
            Holding::Over
        );
        assert_eq!(
            h.holding("due=2026-11-18", day("2026-11-25")),
            Holding::Rearmed
        );
    }

    #[test]
    fn the_newer_hold_of_an_alert_wins() {
        let mut hs = Holds::default();
        let mut a = hold(HoldKind::Ack, None, None);
        a.id = 5;
        let mut b = hold(HoldKind::Snooze, None, Some("2026-12-01"));
        b.id = 3;
        hs.insert("T", "e", a);
        hs.insert("T", "e", b);
        assert_eq!(hs.get("T", "e").map(|h| h.id), Some(5));
        assert!(hs.get("T", "other").is_none());
    }
}

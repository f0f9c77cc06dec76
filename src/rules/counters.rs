//! The counters of one check run: what was read, created, skipped (and why), repaired, mailed.

use super::alert::NewAlert;
use std::collections::BTreeMap;

/// Counters of one check run.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Counters {
    pub candidates: u64,
    pub created: u64,
    pub duplicates: u64,
    pub superseded: u64,
    /// Entities that were due but produced no row (the reference's "ignorées").
    pub ignored_entities: u64,
    pub skipped: BTreeMap<String, u64>,
    /// Values read in spite of a defect, by defect: `invalid_utf8` (text with bytes that are
    /// not UTF-8, read with U+FFFD), `unreadable_context` (an alert row whose context is not a
    /// JSON object, de-duplicated from its columns). Each is logged where it is found.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub repaired: BTreeMap<String, u64>,
    pub by_type: BTreeMap<String, u64>,
    pub mails_queued: u64,
    pub mails_skipped: BTreeMap<String, u64>,
    pub title_truncated: u64,
    /// Statements of the check itself (mail delivery excluded: it is one per message).
    pub queries: u64,
    /// Delivery at the end of the run (all due mail, this run's and earlier): outbox rows sent,
    /// failed (retried later), dead, and left queued because the relay could not be reached.
    pub mails_sent: u64,
    pub mails_failed: u64,
    pub mails_dead: u64,
    /// Set aside: handed over twice without the relay's answer.
    pub mails_unconfirmed: u64,
    /// Left for the next delivery: their recipient's mail went unconfirmed in this one.
    pub mails_held_back: u64,
    pub mails_deferred: u64,
    /// Left queued because the send window (quiet hours) is closed: no attempt, not a failure.
    pub mails_held: u64,
}

impl Counters {
    pub fn skip(&mut self, reason: &str) {
        self.skip_n(reason, 1);
    }
    pub fn skip_n(&mut self, reason: &str, n: u64) {
        if n > 0 {
            *self.skipped.entry(reason.to_owned()).or_default() += n;
        }
    }
    pub fn repair_n(&mut self, defect: &str, n: u64) {
        if n > 0 {
            *self.repaired.entry(defect.to_owned()).or_default() += n;
        }
    }
    pub fn skip_mail(&mut self, reason: &str) {
        *self.mails_skipped.entry(reason.to_owned()).or_default() += 1;
    }

    /// Adds the counters of another step of the same run.
    pub fn absorb(&mut self, o: Counters) {
        self.candidates += o.candidates;
        self.created += o.created;
        self.duplicates += o.duplicates;
        self.superseded += o.superseded;
        self.ignored_entities += o.ignored_entities;
        for (k, v) in o.skipped {
            *self.skipped.entry(k).or_default() += v;
        }
        for (k, v) in o.by_type {
            *self.by_type.entry(k).or_default() += v;
        }
        for (k, v) in o.repaired {
            *self.repaired.entry(k).or_default() += v;
        }
        self.mails_queued += o.mails_queued;
        for (k, v) in o.mails_skipped {
            *self.mails_skipped.entry(k).or_default() += v;
        }
        self.title_truncated += o.title_truncated;
        self.queries += o.queries;
        self.mails_sent += o.mails_sent;
        self.mails_failed += o.mails_failed;
        self.mails_dead += o.mails_dead;
        self.mails_unconfirmed += o.mails_unconfirmed;
        self.mails_held_back += o.mails_held_back;
        self.mails_deferred += o.mails_deferred;
        self.mails_held += o.mails_held;
    }

    /// Counts one alert recorded (or, in a dry run, that would be), with its mail decision.
    pub fn count_created(&mut self, a: &NewAlert, mail: Result<(), &str>) {
        self.created += 1;
        *self.by_type.entry(a.alert_type.clone()).or_default() += 1;
        if a.title_truncated {
            self.title_truncated += 1;
        }
        match mail {
            Ok(()) => self.mails_queued += 1,
            Err(reason) => self.skip_mail(reason),
        }
    }
}

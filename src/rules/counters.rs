//! The counters of one check run: what was read, created, skipped (and why), repaired, mailed.

use super::alert::NewAlert;
use std::collections::BTreeMap;

/// serde's test for counters left out of a report when nothing happened.
fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// How a counter adds another step's: numbers add, maps add key by key.
trait Merge {
    fn merge(&mut self, other: Self);
}

impl Merge for u64 {
    fn merge(&mut self, other: u64) {
        *self += other;
    }
}

impl Merge for BTreeMap<String, u64> {
    fn merge(&mut self, other: BTreeMap<String, u64>) {
        for (k, v) in other {
            *self.entry(k).or_default() += v;
        }
    }
}

/// Declares [`Counters`] and the merge of two of them ([`Counters::absorb`]) from one list of
/// fields: a field added here is merged; none can be forgotten.
macro_rules! counters {
    ($($(#[$meta:meta])* $field:ident: $ty:ty,)+) => {
        /// Counters of one check run.
        #[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
        pub struct Counters {
            $($(#[$meta])* pub $field: $ty,)+
        }

        impl Counters {
            /// Adds the counters of another step of the same run.
            pub fn absorb(&mut self, o: Counters) {
                $(Merge::merge(&mut self.$field, o.$field);)+
            }
        }
    };
}

counters! {
    candidates: u64,
    created: u64,
    duplicates: u64,
    superseded: u64,
    /// Entities that were due but produced no row (the reference's "ignorées").
    ignored_entities: u64,
    skipped: BTreeMap<String, u64>,
    /// Values read in spite of a defect, by defect: `invalid_utf8` (text with bytes that are
    /// not UTF-8, read with U+FFFD), `unreadable_context` (an alert row whose context is not a
    /// JSON object, de-duplicated from its columns). Each is logged where it is found.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    repaired: BTreeMap<String, u64>,
    by_type: BTreeMap<String, u64>,
    mails_queued: u64,
    mails_skipped: BTreeMap<String, u64>,
    /// Messages queued for channels (`[channels.NAME]`): one per alert and channel.
    #[serde(skip_serializing_if = "is_zero", default)]
    channel_queued: u64,
    title_truncated: u64,
    /// Statements of the check itself (mail delivery excluded: it is one per message).
    queries: u64,
    /// Delivery at the end of the run (all due mail, this run's and earlier): outbox rows sent,
    /// failed (retried later), dead, and left queued because the relay could not be reached.
    mails_sent: u64,
    mails_failed: u64,
    mails_dead: u64,
    /// Set aside: handed over twice without the relay's answer.
    mails_unconfirmed: u64,
    /// Left for the next delivery: their recipient's mail went unconfirmed in this one.
    mails_held_back: u64,
    mails_deferred: u64,
    /// Left queued because the send window (quiet hours) is closed: no attempt, not a failure.
    mails_held: u64,
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

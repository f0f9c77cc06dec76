//! Where generated rows go: the generator's state (PRNG, dates) and the counted row sink.

use super::lit::Lit;
use super::rng::Rng;
use anyhow::Result;
use chrono::{Days, NaiveDate, NaiveDateTime};
use std::collections::BTreeMap;

/// Rows per table, counted as they are emitted.
#[derive(Debug, Default)]
pub struct Counts(pub BTreeMap<&'static str, usize>);

impl Counts {
    pub fn get(&self, t: &str) -> usize {
        self.0.get(t).copied().unwrap_or(0)
    }
}

/// The generator's state: the seeded PRNG, the day everything is dated from, the row sink and
/// its counts.
pub(crate) struct Gen<'e> {
    pub(crate) rng: Rng,
    today: NaiveDate,
    /// When the reference rows were created.
    pub(crate) epoch: NaiveDateTime,
    emit: &'e mut dyn FnMut(&'static str, Vec<Lit>) -> Result<()>,
    counts: Counts,
}

impl<'e> Gen<'e> {
    pub(crate) fn new(
        rng: Rng,
        today: NaiveDate,
        emit: &'e mut dyn FnMut(&'static str, Vec<Lit>) -> Result<()>,
    ) -> Gen<'e> {
        let mut g = Gen {
            rng,
            today,
            epoch: NaiveDateTime::default(),
            emit,
            counts: Counts::default(),
        };
        g.epoch = g.at(-800, 8);
        g
    }

    /// What was emitted, by table.
    pub(crate) fn counts(self) -> Counts {
        self.counts
    }

    /// Hands one row of `table` on, counted.
    pub(crate) fn out(&mut self, table: &'static str, row: Vec<Lit>) -> Result<()> {
        *self.counts.0.entry(table).or_default() += 1;
        (self.emit)(table, row)
    }

    /// The day `off` days from today.
    pub(crate) fn day(&self, off: i64) -> NaiveDate {
        if off >= 0 {
            self.today
                .checked_add_days(Days::new(off as u64))
                .unwrap_or(self.today)
        } else {
            self.today
                .checked_sub_days(Days::new((-off) as u64))
                .unwrap_or(self.today)
        }
    }

    /// `hour` o'clock on the day `off` days from today.
    pub(crate) fn at(&self, off: i64, hour: u32) -> NaiveDateTime {
        self.day(off).and_hms_opt(hour, 0, 0).unwrap_or_default()
    }
}

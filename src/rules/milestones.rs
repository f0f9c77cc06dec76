//! Milestones before a due date, with or without catch-up.

/// Milestone catch-up shared by project deadlines and contract expiry: with `d` days left
/// (0 ≤ d), the milestone to emit and the larger ones it passes over. Without catch-up (the
/// reference), only exact-day equality fires and nothing is passed over.
pub fn milestone_at(milestones: &[u32], d: i64, catch_up: bool) -> Option<(u32, Vec<u32>)> {
    let du = u32::try_from(d).ok()?;
    if !catch_up {
        return milestones.contains(&du).then(|| (du, Vec::new()));
    }
    let reached: Vec<u32> = milestones.iter().copied().filter(|m| *m >= du).collect();
    let emit = reached.iter().copied().min()?;
    Some((emit, reached.into_iter().filter(|m| *m != emit).collect()))
}

use super::calendar::Calendar;
use chrono::{Datelike, Days, NaiveDate};

/// How far a date is from today, as a check counts it (`calendar.business_days`), and whether
/// today's milestone was moved off a closed day: what the wording needs to stay true.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub date: NaiveDate,
    /// Calendar days from today (negative when past).
    pub days: i64,
    /// In the check's unit: calendar days, or open days of the calendar (at least one, either
    /// sign, once the date is not today).
    pub count: i64,
    pub business: bool,
    /// Today's milestone is not on its own day (it fell on a closed day).
    pub moved: bool,
}

/// How a date ahead is said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ahead {
    Today,
    Tomorrow,
    /// `3 jours`, `2 jours ouvrés`.
    In(String),
    /// A weekday within the week (`lundi`): a moved milestone, or open days that say less
    /// than the calendar.
    On(&'static str),
}

impl Span {
    pub fn new(today: NaiveDate, date: NaiveDate, business: Option<&Calendar>) -> Span {
        let days = (date - today).num_days();
        let count = match business {
            None => days,
            Some(cal) => {
                let n = cal.open_days_between(today, date);
                match days {
                    0 => 0,
                    d if d < 0 => n.min(-1),
                    _ => n,
                }
            }
        };
        Span {
            date,
            days,
            count,
            business: business.is_some(),
            moved: false,
        }
    }

    /// The count without its sign, with its unit: `1 jour`, `3 jours`, `2 jours ouvrés`.
    pub fn amount(&self) -> String {
        let n = self.count.abs();
        match (self.business, n) {
            (false, _) => super::wording::jours(n),
            (true, 1) => "1 jour ouvré".to_owned(),
            (true, _) => format!("{n} jours ouvrés"),
        }
    }

    pub fn ahead(&self) -> Ahead {
        match self.days {
            0 => Ahead::Today,
            1 => Ahead::Tomorrow,
            d if d < 7 && (self.moved || (self.business && self.count < 2)) => {
                Ahead::On(weekday_fr(self.date))
            }
            _ => Ahead::In(self.amount()),
        }
    }
}

/// The French name of `d`'s weekday, lower case.
pub fn weekday_fr(d: NaiveDate) -> &'static str {
    [
        "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    ][d.weekday().num_days_from_monday() as usize]
}

/// How a check places its milestones on the calendar.
#[derive(Debug, Clone, Copy)]
pub struct Placement<'a> {
    pub calendar: &'a Calendar,
    /// J-n is n open days before the date (`calendar.business_days`).
    pub business: bool,
    /// A milestone on a closed day fires on the open day before
    /// (`calendar.milestones_on_working_days`).
    pub moved: bool,
}

impl Placement<'_> {
    /// The day milestone `m` of `due` falls on, before any move.
    fn nominal(&self, due: NaiveDate, m: u32) -> Option<NaiveDate> {
        if self.business && m > 0 {
            self.calendar.open_days_before(due, m)
        } else {
            due.checked_sub_days(Days::new(u64::from(m)))
        }
    }

    /// The day milestone `m` of `due` fires on.
    pub fn fires_on(&self, due: NaiveDate, m: u32) -> Option<NaiveDate> {
        let d = self.nominal(due, m)?;
        if self.moved {
            self.calendar.open_on_or_before(d)
        } else {
            Some(d)
        }
    }

    /// Like [`milestone_at`], on the calendar: the milestone to emit today for `span` (not
    /// past) and the larger ones it passes over; marks `span` moved when the milestone fires
    /// before its own day.
    pub fn milestone(
        &self,
        milestones: &[u32],
        today: NaiveDate,
        span: &mut Span,
        catch_up: bool,
    ) -> Option<(u32, Vec<u32>)> {
        if span.days < 0 {
            return None;
        }
        let reached: Vec<u32> = milestones
            .iter()
            .copied()
            .filter(|m| {
                self.fires_on(span.date, *m).is_some_and(|f| {
                    if catch_up {
                        f <= today
                    } else {
                        f == today
                    }
                })
            })
            .collect();
        let emit = reached.iter().copied().min()?;
        span.moved = self.nominal(span.date, emit) != Some(today)
            && self.fires_on(span.date, emit) == Some(today);
        Some((emit, reached.into_iter().filter(|m| *m != emit).collect()))
    }

    /// The latest due date whose milestone `max` can fire by `today`.
    pub fn horizon(&self, today: NaiveDate, max: u32) -> NaiveDate {
        let plain = today.checked_add_days(Days::new(u64::from(max)));
        let mut h = plain.unwrap_or(today);
        // A moved milestone fires early by at most the closed days after today.
        let last_closed = today
            .succ_opt()
            .and_then(|d| self.calendar.open_on_or_after(d))
            .and_then(|d| d.pred_opt())
            .unwrap_or(today);
        if self.business {
            // J-max is max open days back: past the (max + 1)-th open day after the last
            // closed day, it cannot have come.
            let mut x = last_closed;
            let mut n = 0;
            for _ in 0..3660 {
                let Some(next) = x.succ_opt() else { break };
                x = next;
                if self.calendar.is_open(x) {
                    n += 1;
                    if n > max {
                        break;
                    }
                }
            }
            h = h.max(x);
        } else if self.moved {
            if let Some(d) = last_closed.checked_add_days(Days::new(u64::from(max))) {
                h = h.max(d);
            }
        }
        h
    }

    /// The earliest day a milestone up to `max` of a due date not yet past can have fired.
    pub fn earliest_firing(&self, today: NaiveDate, max: u32) -> NaiveDate {
        let plain = today
            .checked_sub_days(Days::new(u64::from(max)))
            .unwrap_or(today);
        let mut e = plain;
        if self.business {
            if let Some(d) = self.calendar.open_days_before(today, max) {
                e = e.min(d);
            }
        }
        if self.moved {
            if let Some(d) = self.calendar.open_on_or_before(e) {
                e = e.min(d);
            }
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_horizon_and_look_back_hold_every_milestone_that_can_fire() {
        let cal = Calendar {
            closed: vec![(
                NaiveDate::from_ymd_opt(2026, 12, 24).unwrap(),
                NaiveDate::from_ymd_opt(2027, 1, 3).unwrap(),
            )],
            ..Calendar::default()
        };
        let start = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        for (business, moved) in [(true, false), (false, true), (true, true), (false, false)] {
            let p = Placement {
                calendar: &cal,
                business,
                moved,
            };
            for i in 0..50u64 {
                let today = start + Days::new(i);
                for max in [0u32, 1, 3, 7, 30] {
                    let h = p.horizon(today, max);
                    let early = p.earliest_firing(today, max);
                    for j in 0..90u64 {
                        let due = today + Days::new(j);
                        for m in (0..=max).filter(|m| [0, 1, 3, 7, 30].contains(m)) {
                            let Some(f) = p.fires_on(due, m) else {
                                continue;
                            };
                            if f <= today {
                                assert!(due <= h, "{business} {moved} {today} J-{m} of {due}");
                                assert!(f >= early, "{business} {moved} {today} J-{m} of {due}");
                            }
                        }
                    }
                }
            }
        }
    }
}

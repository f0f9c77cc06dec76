//! The business calendar (`calendar.*`): working days of the week, the public holidays of France
//! computed for any year, and closed dates and ranges from the configuration; and the mail send
//! window (`mail.send_window`, e.g. `mon-fri 08:00-19:00`) that keeps mail queued outside office
//! hours. Pure date arithmetic: no clock, no I/O.

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, Weekday};

/// Which days are open for business.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Calendar {
    /// Monday first.
    pub working: [bool; 7],
    /// The French public holidays are closed days.
    pub french_holidays: bool,
    /// Whit Monday (lundi de Pentecôte) is one of them.
    pub whit_monday: bool,
    /// Closed ranges, both ends included.
    pub closed: Vec<(NaiveDate, NaiveDate)>,
}

impl Default for Calendar {
    /// Monday to Friday, French public holidays with Whit Monday, nothing else closed.
    fn default() -> Calendar {
        Calendar {
            working: [true, true, true, true, true, false, false],
            french_holidays: true,
            whit_monday: true,
            closed: Vec::new(),
        }
    }
}

/// Easter Sunday of `year` (Gregorian; the anonymous algorithm, Meeus/Jones/Butcher).
pub fn easter(year: i32) -> Option<NaiveDate> {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32)
}

/// The public holidays of France in `year` with their names, in date order: 1 January, Easter
/// Monday, 1 May, 8 May, Ascension, Whit Monday (when `whit_monday`), 14 July, 15 August,
/// 1 November, 11 November, 25 December.
pub fn french_holidays(year: i32, whit_monday: bool) -> Vec<(NaiveDate, &'static str)> {
    let fixed = |m: u32, d: u32| NaiveDate::from_ymd_opt(year, m, d);
    let mut v: Vec<(Option<NaiveDate>, &'static str)> = vec![
        (fixed(1, 1), "Jour de l'an"),
        (fixed(5, 1), "Fête du Travail"),
        (fixed(5, 8), "Victoire 1945"),
        (fixed(7, 14), "Fête nationale"),
        (fixed(8, 15), "Assomption"),
        (fixed(11, 1), "Toussaint"),
        (fixed(11, 11), "Armistice 1918"),
        (fixed(12, 25), "Noël"),
    ];
    if let Some(e) = easter(year) {
        v.push((e.checked_add_days(Days::new(1)), "Lundi de Pâques"));
        v.push((e.checked_add_days(Days::new(39)), "Ascension"));
        if whit_monday {
            v.push((e.checked_add_days(Days::new(50)), "Lundi de Pentecôte"));
        }
    }
    let mut out: Vec<(NaiveDate, &'static str)> = v
        .into_iter()
        .filter_map(|(d, n)| d.map(|d| (d, n)))
        .collect();
    out.sort();
    out
}

/// Parses a day of the week: `mon` … `sun` (English, or French `lun` … `dim`), any case.
pub fn parse_weekday(s: &str) -> Option<Weekday> {
    Some(match s.trim().to_ascii_lowercase().as_str() {
        "mon" | "monday" | "lun" | "lundi" => Weekday::Mon,
        "tue" | "tuesday" | "mar" | "mardi" => Weekday::Tue,
        "wed" | "wednesday" | "mer" | "mercredi" => Weekday::Wed,
        "thu" | "thursday" | "jeu" | "jeudi" => Weekday::Thu,
        "fri" | "friday" | "ven" | "vendredi" => Weekday::Fri,
        "sat" | "saturday" | "sam" | "samedi" => Weekday::Sat,
        "sun" | "sunday" | "dim" | "dimanche" => Weekday::Sun,
        _ => return None,
    })
}

/// Parses `mon-fri`, `mon,wed,fri`, `mon-wed,fri` or `*` into the set of days (Monday first).
pub fn parse_days(s: &str) -> Result<[bool; 7], String> {
    let mut days = [false; 7];
    if s.trim() == "*" {
        return Ok([true; 7]);
    }
    for part in s.split(',') {
        let part = part.trim();
        let bad = || format!("`{part}` is not a day or a range of days (mon-fri, sat, *)");
        match part.split_once('-') {
            Some((a, b)) => {
                let a = parse_weekday(a).ok_or_else(bad)?.num_days_from_monday();
                let b = parse_weekday(b).ok_or_else(bad)?.num_days_from_monday();
                // A range may wrap around the week end: fri-mon.
                let mut d = a;
                loop {
                    days[d as usize] = true;
                    if d == b {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => {
                days[parse_weekday(part).ok_or_else(bad)?.num_days_from_monday() as usize] = true
            }
        }
    }
    Ok(days)
}

/// Parses a closed date `YYYY-MM-DD` or range `YYYY-MM-DD..YYYY-MM-DD` (both ends included).
pub fn parse_closed(s: &str) -> Result<(NaiveDate, NaiveDate), String> {
    let date = |d: &str| {
        NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
            .map_err(|_| format!("`{}` is not a date (YYYY-MM-DD)", d.trim()))
    };
    match s.split_once("..") {
        Some((a, b)) => {
            let (a, b) = (date(a)?, date(b)?);
            if b < a {
                return Err(format!("`{s}` ends before it starts"));
            }
            Ok((a, b))
        }
        None => {
            let d = date(s)?;
            Ok((d, d))
        }
    }
}

impl Calendar {
    /// Why `d` is closed (a holiday's name, "weekend" or "closed"), or `None` when it is open.
    pub fn closed_because(&self, d: NaiveDate) -> Option<&'static str> {
        if !self.working[d.weekday().num_days_from_monday() as usize] {
            return Some("weekend");
        }
        if self.closed.iter().any(|(a, b)| (*a..=*b).contains(&d)) {
            return Some("closed");
        }
        if self.french_holidays {
            if let Some((_, name)) = french_holidays(d.year(), self.whit_monday)
                .into_iter()
                .find(|(h, _)| *h == d)
            {
                return Some(name);
            }
        }
        None
    }

    pub fn is_open(&self, d: NaiveDate) -> bool {
        self.closed_because(d).is_none()
    }

    /// Whether any day of the week is open (a calendar without one is refused by the
    /// configuration; the searches below stop after a year either way).
    pub fn has_working_days(&self) -> bool {
        self.working.iter().any(|w| *w)
    }

    /// The first open day from `d` on, stepping with `step`; `None` past a year of closed days.
    fn open_from(
        &self,
        d: NaiveDate,
        step: fn(&NaiveDate) -> Option<NaiveDate>,
    ) -> Option<NaiveDate> {
        let mut x = d;
        for _ in 0..=366 {
            if self.is_open(x) {
                return Some(x);
            }
            x = step(&x)?;
        }
        None
    }

    /// The last open day on or before `d` (`d` itself when open).
    pub fn open_on_or_before(&self, d: NaiveDate) -> Option<NaiveDate> {
        self.open_from(d, NaiveDate::pred_opt)
    }

    /// The first open day on or after `d`.
    pub fn open_on_or_after(&self, d: NaiveDate) -> Option<NaiveDate> {
        self.open_from(d, NaiveDate::succ_opt)
    }

    /// Open days in `(from, to]` when `from < to`, negated for `(to, from]` when `to < from`:
    /// "in 3 working days" from Friday to the next Wednesday, "2 working days late" from
    /// Monday back to the Thursday before. 0 when equal.
    pub fn open_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let (a, b, sign) = if from <= to {
            (from, to, 1)
        } else {
            (to, from, -1)
        };
        // Whole weeks by arithmetic, the rest day by day, then the closed days of (a, b] that
        // fall on working weekdays: constant work per entity, whatever the span.
        let span = (b - a).num_days();
        let per_week = self.working.iter().filter(|w| **w).count() as i64;
        let mut n = span / 7 * per_week;
        let mut x = a;
        for _ in 0..span % 7 {
            let Some(next) = x.succ_opt() else { break };
            x = next;
            if self.working_weekday(x) {
                n += 1;
            }
        }
        n -= self.closed_weekdays_in(a, b) as i64;
        sign * n
    }

    fn working_weekday(&self, d: NaiveDate) -> bool {
        self.working[d.weekday().num_days_from_monday() as usize]
    }

    /// Distinct days of `(a, b]` on a working weekday that a holiday or a closed range closes.
    fn closed_weekdays_in(&self, a: NaiveDate, b: NaiveDate) -> usize {
        let mut days = std::collections::BTreeSet::new();
        let inside = |d: &NaiveDate| *d > a && *d <= b && self.working_weekday(*d);
        if self.french_holidays {
            for y in a.year()..=b.year() {
                days.extend(
                    french_holidays(y, self.whit_monday)
                        .into_iter()
                        .map(|(d, _)| d)
                        .filter(inside),
                );
            }
        }
        for (from, to) in &self.closed {
            let mut d = (*from).max(a);
            let last = (*to).min(b);
            while d <= last {
                if inside(&d) {
                    days.insert(d);
                }
                let Some(next) = d.succ_opt() else { break };
                d = next;
            }
        }
        days.len()
    }

    /// The open day `n` open days after `d` (`n` = 0: `d` if open, else the open day after).
    pub fn open_days_after(&self, d: NaiveDate, n: u32) -> Option<NaiveDate> {
        let mut x = self.open_on_or_after(d)?;
        for _ in 0..n {
            x = self.open_on_or_after(x.succ_opt()?)?;
        }
        Some(x)
    }

    /// The open day `n` open days before `d` (`n = 0`: `d` if open, else the open day before).
    pub fn open_days_before(&self, d: NaiveDate, n: u32) -> Option<NaiveDate> {
        let mut x = self.open_on_or_before(d)?;
        for _ in 0..n {
            x = self.open_on_or_before(x.pred_opt()?)?;
        }
        Some(x)
    }
}

/// When mail may be sent: days of the week and a time range, in the business time zone; closed
/// days of the calendar excluded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SendWindow {
    pub days: [bool; 7],
    pub start: NaiveTime,
    pub end: NaiveTime,
    /// The spec as written (shown by `config show` and in logs).
    pub spec: String,
}

impl SendWindow {
    /// Parses `DAYS HH:MM-HH:MM` (`mon-fri 08:00-19:00`, `* 07:30-21:00`); the end is later than
    /// the start on the same day.
    pub fn parse(s: &str) -> Result<SendWindow, String> {
        let s = s.trim();
        let (days, hours) = s
            .rsplit_once(' ')
            .ok_or_else(|| format!("`{s}` is not DAYS HH:MM-HH:MM (mon-fri 08:00-19:00)"))?;
        let days = parse_days(days)?;
        let (a, b) = hours
            .split_once('-')
            .ok_or_else(|| format!("`{hours}` is not HH:MM-HH:MM"))?;
        let time = |t: &str| {
            NaiveTime::parse_from_str(t.trim(), "%H:%M")
                .map_err(|_| format!("`{}` is not a time (HH:MM)", t.trim()))
        };
        let (start, end) = (time(a)?, time(b)?);
        if end <= start {
            return Err(format!(
                "`{hours}` ends before it starts (a window lies within one day)"
            ));
        }
        Ok(SendWindow {
            days,
            start,
            end,
            spec: s.to_owned(),
        })
    }

    fn day_open(&self, cal: &Calendar, d: NaiveDate) -> bool {
        self.days[d.weekday().num_days_from_monday() as usize] && cal.is_open(d)
    }

    /// The start of the window that is open at `local` (business time), or `None` when mail
    /// waits at that instant.
    pub fn opened_at(&self, cal: &Calendar, local: NaiveDateTime) -> Option<NaiveDateTime> {
        let (d, t) = (local.date(), local.time());
        (self.day_open(cal, d) && self.start <= t && t < self.end).then(|| d.and_time(self.start))
    }

    /// The next instant (business time) the window opens after `local`; `None` when it never
    /// opens within a year.
    pub fn next_opening(&self, cal: &Calendar, local: NaiveDateTime) -> Option<NaiveDateTime> {
        let mut d = local.date();
        for _ in 0..=366 {
            let open = d.and_time(self.start);
            if open > local && self.day_open(cal, d) {
                return Some(open);
            }
            d = d.succ_opt()?;
        }
        None
    }
}

/// The send window in the business time zone, with the calendar whose closed days it skips:
/// what mail delivery and `health` consult.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MailWindow {
    pub window: SendWindow,
    pub calendar: Calendar,
    #[serde(serialize_with = "ser_tz")]
    pub tz: chrono_tz::Tz,
}

fn ser_tz<S: serde::Serializer>(tz: &chrono_tz::Tz, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(tz.name())
}

impl MailWindow {
    fn local(&self, utc: NaiveDateTime) -> NaiveDateTime {
        use chrono::TimeZone;
        self.tz.from_utc_datetime(&utc).naive_local()
    }

    fn utc(&self, local: NaiveDateTime) -> NaiveDateTime {
        crate::clock::local_to_utc(self.tz, local)
    }

    /// `None` when mail may go at `now` (UTC); otherwise the UTC instant the window next opens
    /// (`None` inside: it never opens within a year, which the configuration refuses).
    pub fn held_until(&self, now: NaiveDateTime) -> Option<Option<NaiveDateTime>> {
        let local = self.local(now);
        if self.window.opened_at(&self.calendar, local).is_some() {
            return None;
        }
        Some(
            self.window
                .next_opening(&self.calendar, local)
                .map(|t| self.utc(t)),
        )
    }

    /// [`MailWindow::held_until`] as text: `None` when mail may go, else the UTC instant the
    /// window opens (`never` when it does not within a year).
    pub fn held_until_text(&self, now: NaiveDateTime) -> Option<String> {
        self.held_until(now)
            .map(|u| u.map_or_else(|| "never".to_owned(), crate::clock::format_datetime))
    }

    /// Since when (UTC) mail queued at `queued` has been waiting while it could have gone, as
    /// of `now`: from the later of its queueing and the opening of the window that is open now;
    /// `None` while the window is closed (waiting for it is no delay).
    pub fn delayed_since(
        &self,
        queued: NaiveDateTime,
        now: NaiveDateTime,
    ) -> Option<NaiveDateTime> {
        let opened = self.window.opened_at(&self.calendar, self.local(now))?;
        Some(queued.max(self.utc(opened)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn easter_of_known_years() {
        for (y, e) in [
            (2024, "2024-03-31"),
            (2025, "2025-04-20"),
            (2026, "2026-04-05"),
            (2027, "2027-03-28"),
            (2038, "2038-04-25"),
            (2285, "2285-03-22"),
            (1961, "1961-04-02"),
        ] {
            assert_eq!(easter(y).unwrap(), d(e), "{y}");
        }
    }

    #[test]
    fn french_holidays_of_2026() {
        let h: Vec<String> = french_holidays(2026, true)
            .iter()
            .map(|(d, _)| d.to_string())
            .collect();
        assert_eq!(
            h,
            [
                "2026-01-01",
                "2026-04-06",
                "2026-05-01",
                "2026-05-08",
                "2026-05-14",
                "2026-05-25",
                "2026-07-14",
                "2026-08-15",
                "2026-11-01",
                "2026-11-11",
                "2026-12-25"
            ]
        );
        assert_eq!(french_holidays(2026, false).len(), 10);
    }

    #[test]
    fn open_days_across_easter_new_year_and_a_weekend_14_july() {
        let cal = Calendar::default();
        // Easter Monday 2026-04-06 closed: from Thursday 2 April, the next open days are
        // Friday 3 and Tuesday 7.
        assert_eq!(cal.closed_because(d("2026-04-06")), Some("Lundi de Pâques"));
        assert_eq!(cal.open_days_between(d("2026-04-02"), d("2026-04-07")), 2);
        assert_eq!(cal.open_days_between(d("2026-04-07"), d("2026-04-02")), -2);
        assert_eq!(
            cal.open_on_or_before(d("2026-04-06")),
            Some(d("2026-04-03"))
        );
        // 14 July 2029 is a Saturday: closed either way, Friday 13 is open.
        assert_eq!(cal.closed_because(d("2029-07-14")), Some("weekend"));
        assert!(cal.is_open(d("2029-07-13")));
        // New Year: Thursday 1 January 2026 closed; from Wednesday 31 December 2025, one open
        // day to Friday 2 January.
        assert_eq!(cal.open_days_between(d("2025-12-31"), d("2026-01-02")), 1);
        assert_eq!(cal.open_on_or_after(d("2026-01-01")), Some(d("2026-01-02")));
        // Three open days before Monday 2026-11-30: Wednesday 25 (Thursday 26, Friday 27, Monday).
        assert_eq!(
            cal.open_days_before(d("2026-11-30"), 3),
            Some(d("2026-11-25"))
        );
        // A J-1 of a Monday deadline falls on Sunday: the Friday before.
        assert_eq!(
            cal.open_on_or_before(d("2026-11-29")),
            Some(d("2026-11-27"))
        );
        // Closed ranges and Whit Monday off.
        let c = Calendar {
            whit_monday: false,
            closed: vec![(d("2026-12-24"), d("2026-12-31"))],
            ..Calendar::default()
        };
        assert!(c.is_open(d("2026-05-25")));
        assert_eq!(c.closed_because(d("2026-12-28")), Some("closed"));
        assert_eq!(c.open_on_or_after(d("2026-12-24")), Some(d("2027-01-04")));
    }

    #[test]
    fn days_and_closed_dates_parse_or_say_why() {
        assert_eq!(
            parse_days("mon-fri").unwrap(),
            [true, true, true, true, true, false, false]
        );
        assert_eq!(
            parse_days("fri-mon").unwrap(),
            [true, false, false, false, true, true, true]
        );
        assert_eq!(
            parse_days("lun,MER, ven").unwrap(),
            [true, false, true, false, true, false, false]
        );
        assert_eq!(parse_days("*").unwrap(), [true; 7]);
        assert!(parse_days("mon-funday").unwrap_err().contains("mon-funday"));
        assert_eq!(
            parse_closed("2026-12-24").unwrap(),
            (d("2026-12-24"), d("2026-12-24"))
        );
        assert_eq!(
            parse_closed("2026-12-24..2026-12-31").unwrap(),
            (d("2026-12-24"), d("2026-12-31"))
        );
        assert!(parse_closed("2026-12-31..2026-12-24")
            .unwrap_err()
            .contains("ends before"));
        assert!(parse_closed("24/12/2026").is_err());
    }

    #[test]
    fn the_send_window_opens_on_working_days_only() {
        let cal = Calendar::default();
        let w = SendWindow::parse("mon-fri 08:00-19:00").unwrap();
        let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        // Friday 27 November 2026, 18:59 open; 19:00 closed; the next opening is Monday 08:00.
        assert_eq!(
            w.opened_at(&cal, at("2026-11-27 18:59")),
            Some(at("2026-11-27 08:00"))
        );
        assert_eq!(w.opened_at(&cal, at("2026-11-27 19:00")), None);
        assert_eq!(
            w.next_opening(&cal, at("2026-11-27 19:00")),
            Some(at("2026-11-30 08:00"))
        );
        assert_eq!(w.opened_at(&cal, at("2026-11-28 10:00")), None);
        assert_eq!(w.opened_at(&cal, at("2026-11-30 07:59")), None);
        // Wednesday 11 November is a holiday: closed all day, open again Thursday.
        assert_eq!(w.opened_at(&cal, at("2026-11-11 10:00")), None);
        assert_eq!(
            w.next_opening(&cal, at("2026-11-10 20:00")),
            Some(at("2026-11-12 08:00"))
        );
        // In Paris time, from UTC: Friday 18:30 UTC is 19:30 in Paris (closed until Monday
        // 08:00, 07:00 UTC); a mail queued Friday at 20:00 UTC is delayed only from Monday
        // 07:00 UTC on.
        let mw = MailWindow {
            window: w.clone(),
            calendar: cal.clone(),
            tz: chrono_tz::Europe::Paris,
        };
        assert_eq!(mw.held_until(at("2026-11-27 17:30")), None);
        assert_eq!(
            mw.held_until(at("2026-11-27 18:30")),
            Some(Some(at("2026-11-30 07:00")))
        );
        assert_eq!(
            mw.delayed_since(at("2026-11-27 20:00"), at("2026-11-28 09:00")),
            None
        );
        assert_eq!(
            mw.delayed_since(at("2026-11-27 20:00"), at("2026-11-30 09:00")),
            Some(at("2026-11-30 07:00"))
        );
        assert_eq!(
            mw.delayed_since(at("2026-11-30 08:30"), at("2026-11-30 09:00")),
            Some(at("2026-11-30 08:30"))
        );
        assert!(SendWindow::parse("mon-fri 19:00-08:00").is_err());
        assert!(SendWindow::parse("08:00-19:00").is_err());
        assert!(SendWindow::parse("mon-fri 8h-19h").is_err());
    }

    #[test]
    fn counting_open_days_by_arithmetic_matches_a_day_by_day_walk() {
        let cal = Calendar {
            working: [true, true, false, true, true, true, false],
            closed: vec![
                (d("2026-12-24"), d("2027-01-03")),
                (d("2027-01-01"), d("2027-01-01")),
            ],
            ..Calendar::default()
        };
        let walk = |a: NaiveDate, b: NaiveDate| {
            let mut n = 0;
            let mut x = a;
            while x < b {
                x = x.succ_opt().unwrap();
                n += i64::from(cal.is_open(x));
            }
            n
        };
        let start = d("2026-12-01");
        for i in 0..60u64 {
            for span in [0u64, 1, 3, 6, 7, 8, 13, 15, 40, 400] {
                let a = start + Days::new(i);
                let b = a + Days::new(span);
                assert_eq!(cal.open_days_between(a, b), walk(a, b), "{a}..{b}");
                assert_eq!(cal.open_days_between(b, a), -walk(a, b), "{b}..{a}");
            }
        }
    }
}

//! `--since` and `--until` as people type them: a date (`2026-11-20`: its first instant in the
//! business time zone), a local date and time (`2026-11-20 08:00`, business time zone), an
//! instant with its offset (RFC 3339), an age (`90m`, `1h30m`, `36h`, `7d`, `2w`: the
//! `humantime` crate), `today` or `yesterday` (their first instant). Parsed before the
//! configuration is read; resolved against the clock and the business time zone.

use chrono::{NaiveDate, NaiveDateTime, TimeZone};

/// Ages longer than this are refused (and so never overflow the calendar).
const MAX_AGE_DAYS: i64 = 36_500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// This long before now.
    Age(chrono::Duration),
    /// An instant (UTC).
    Instant(NaiveDateTime),
    /// A wall-clock time in the business time zone.
    Local(NaiveDateTime),
    /// The first instant of a day in the business time zone.
    Day(NaiveDate),
    /// The first instant of today (0) or of a day before it (1: yesterday).
    DaysAgo(u8),
}

const EXPECTED: &str = "expected a date (2026-11-20), a local date and time (2026-11-20 08:00), an instant (2026-11-20T08:00:00+01:00), an age (90m, 1h30m, 36h, 7d, 2w) or today, yesterday";

/// clap's value parser of `--since` and `--until`.
pub fn parse(s: &str) -> Result<When, String> {
    let s = s.trim();
    match s.to_ascii_lowercase().as_str() {
        "today" => return Ok(When::DaysAgo(0)),
        "yesterday" => return Ok(When::DaysAgo(1)),
        _ => {}
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(When::Day(d));
    }
    for f in [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Ok(When::Local(t));
        }
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(When::Instant(t.naive_utc()));
    }
    // A bare number is no age: say which unit.
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{s}` has no unit; {EXPECTED}"));
    }
    let d = humantime::parse_duration(s).map_err(|_| EXPECTED.to_owned())?;
    if d.as_secs() > (MAX_AGE_DAYS as u64) * 86_400 {
        return Err(format!("an age of at most {MAX_AGE_DAYS} days; {EXPECTED}"));
    }
    chrono::Duration::from_std(d)
        .map(When::Age)
        .map_err(|_| EXPECTED.to_owned())
}

impl When {
    /// The instant (UTC) this stands for at `now` (UTC) in time zone `tz`.
    pub fn resolve(&self, now: NaiveDateTime, tz: chrono_tz::Tz) -> NaiveDateTime {
        let local_start = |d: NaiveDate| {
            crate::clock::local_to_utc(tz, d.and_hms_opt(0, 0, 0).unwrap_or_default())
        };
        match self {
            When::Instant(t) => *t,
            When::Age(d) => now.checked_sub_signed(*d).unwrap_or(NaiveDateTime::MIN),
            When::Local(t) => crate::clock::local_to_utc(tz, *t),
            When::Day(d) => local_start(*d),
            When::DaysAgo(n) => {
                let today = tz.from_utc_datetime(&now).date_naive();
                local_start(today - chrono::Duration::days(i64::from(*n)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_people_type() {
        let tz: chrono_tz::Tz = "Europe/Paris".parse().unwrap();
        let now = NaiveDate::from_ymd_opt(2026, 12, 7)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap();
        let at = |s: &str| parse(s).unwrap().resolve(now, tz).to_string();
        assert_eq!(at("90m"), "2026-12-07 08:30:00");
        assert_eq!(at("1h30m"), "2026-12-07 08:30:00");
        assert_eq!(at("2w"), "2026-11-23 10:00:00");
        assert_eq!(at("7d"), "2026-11-30 10:00:00");
        // Paris midnight is 23:00 UTC in winter.
        assert_eq!(at("today"), "2026-12-06 23:00:00");
        assert_eq!(at("yesterday"), "2026-12-05 23:00:00");
        assert_eq!(at("2026-11-20"), "2026-11-19 23:00:00");
        assert_eq!(at("2026-11-20 08:00"), "2026-11-20 07:00:00");
        assert_eq!(at("2026-07-14 08:00"), "2026-07-14 06:00:00");
        assert_eq!(at("2026-11-20T08:00:00Z"), "2026-11-20 08:00:00");
        for bad in ["", "3", "soon", "-3d", "106751991168d", "2026-02-30"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}

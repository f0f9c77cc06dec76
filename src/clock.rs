//! The business date and "now", injectable: `--date` fixes the business date, `SIGOV_NOW`
//! (RFC 3339, for tests and replays) fixes the wall clock.

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// Real (or injected) instant the process started at.
    pub now: DateTime<Utc>,
    /// When `now` was read: [`Clock::current`] moves on from `now` as the run goes.
    started: std::time::Instant,
    /// The date the rules evaluate against ("today").
    pub today: NaiveDate,
    /// Time zone used to tell which business day a stored UTC timestamp belongs to.
    pub tz: Tz,
}

impl Clock {
    /// `utc_today`: the reference's "today" is the UTC date; otherwise the date in `tz`.
    pub fn new(
        now: Option<DateTime<Utc>>,
        date: Option<NaiveDate>,
        tz: Tz,
        utc_today: bool,
    ) -> Clock {
        let now = now.unwrap_or_else(Utc::now);
        let today = date.unwrap_or_else(|| {
            if utc_today {
                now.date_naive()
            } else {
                now.with_timezone(&tz).date_naive()
            }
        });
        Clock {
            now,
            started: std::time::Instant::now(),
            today,
            tz,
        }
    }

    /// The instant the run started (or `SIGOV_NOW`): for what is about the run as a whole.
    pub fn now_naive(&self) -> NaiveDateTime {
        self.now.naive_utc()
    }

    /// The current instant: `now` plus the time elapsed since the clock was made (so an
    /// injected `SIGOV_NOW` moves on too). Every row a run writes is stamped with this: the
    /// time it is written, never the time the process started.
    pub fn current(&self) -> NaiveDateTime {
        let elapsed = chrono::Duration::from_std(self.started.elapsed()).unwrap_or_default();
        (self.now + elapsed).naive_utc()
    }

    /// The business date (in `tz`) of a naive UTC timestamp as stored by Django.
    pub fn local_date(&self, utc: NaiveDateTime) -> NaiveDate {
        self.tz.from_utc_datetime(&utc).date_naive()
    }

    /// UTC instant at which local day `d` starts in `tz` (handles DST gaps).
    pub fn local_day_start_utc(&self, d: NaiveDate) -> NaiveDateTime {
        local_to_utc(self.tz, d.and_hms_opt(0, 0, 0).unwrap_or_default())
    }
}

/// The UTC instant of a local time in `tz`: the earlier of an ambiguous one (DST ends), the
/// hour after one that does not exist (DST begins).
pub fn local_to_utc(tz: Tz, local: NaiveDateTime) -> NaiveDateTime {
    match tz.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => t.naive_utc(),
        chrono::LocalResult::None => tz
            .from_local_datetime(&(local + chrono::Duration::hours(1)))
            .earliest()
            .map(|t| t.naive_utc())
            .unwrap_or(local),
    }
}

pub fn parse_date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .with_context(|| format!("invalid date `{s}` (expected YYYY-MM-DD)"))
}

pub fn parse_now(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|d| d.with_timezone(&Utc))
        .with_context(|| {
            format!("invalid SIGOV_NOW `{s}` (expected RFC 3339, e.g. 2026-11-22T10:00:00Z)")
        })
}

/// Django's storage form of a naive UTC datetime.
/// `t` to the microsecond, the precision sigov stores instants at on every backend.
pub fn to_micros(t: NaiveDateTime) -> NaiveDateTime {
    use chrono::Timelike;
    let micros = t.nanosecond() / 1_000 * 1_000;
    t.with_nanosecond(micros).unwrap_or(t)
}

pub fn format_datetime(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

/// A stored DATETIME read as text, shown to the second: `2026-11-23 02:10:01.123456` →
/// `2026-11-23 02:10:01`.
pub fn to_seconds(t: &str) -> &str {
    t.split('.').next().unwrap_or(t)
}

/// Parses a stored DATETIME read as text; `None` for zero or garbage values.
pub fn parse_stored_datetime(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    if let Some(t) = canonical_datetime(s.as_bytes()) {
        return Some(t);
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f"))
        .ok()
}

/// Parses a stored DATE read as text; `None` for `0000-00-00` and other invalid values.
pub fn parse_stored_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let d = s.get(..10).unwrap_or(s);
    canonical_date(d.as_bytes()).or_else(|| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

/// The value of `n` ASCII digits, `None` if one is not a digit.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

/// `YYYY-MM-DD` exactly, as every server writes a date: read without chrono's general parser
/// (tens of thousands of stored dates a run). Anything else (and an invalid day) is left to it.
fn canonical_date(b: &[u8]) -> Option<NaiveDate> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = i32::try_from(digits(&b[..4])?).ok()?;
    NaiveDate::from_ymd_opt(y, digits(&b[5..7])?, digits(&b[8..10])?)
}

/// `YYYY-MM-DD HH:MM:SS` (or with `T`), with up to nine digits of fraction: the stored
/// timestamps' own shape, read without chrono's general parser. Anything else (a leap second,
/// more digits, another layout) is left to it.
fn canonical_datetime(b: &[u8]) -> Option<NaiveDateTime> {
    if b.len() < 19 || !(b[10] == b' ' || b[10] == b'T') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let day = canonical_date(&b[..10])?;
    let nano = match &b[19..] {
        [] => 0,
        [b'.', f @ ..] if (1..=9).contains(&f.len()) => digits(f)? * 10u32.pow(9 - f.len() as u32),
        _ => return None,
    };
    let time = chrono::NaiveTime::from_hms_nano_opt(
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
        nano,
    )?;
    Some(day.and_time(time))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_dates_read_as_chrono_reads_them() {
        for s in [
            "2026-11-22",
            "2026-02-29",
            "2024-02-29",
            "0000-00-00",
            "2026-13-01",
            "2026-1-01",
            "+2026-11-22",
            "２０２６-11-22",
            "2026-11-22x",
            "9999-12-31",
            "0001-01-01",
        ] {
            let chrono = NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d").ok();
            assert_eq!(parse_stored_date(s), chrono, "{s}");
        }
        for s in [
            "2026-11-22 10:11:12",
            "2026-11-22T10:11:12",
            "2026-11-22 10:11:12.5",
            "2026-11-22 10:11:12.123456",
            "2026-11-22 10:11:12.123456789",
            "2026-11-22 10:11:12.1234567891",
            "2026-11-22 23:59:60",
            "2026-11-22 24:00:00",
            "2026-11-22 10:11:12.",
            "2026-11-22 10:11",
            "2026-11-22 1:11:12",
            "2026-11-22 10:11:12Z",
            "0000-00-00 00:00:00",
            "2026-02-30 10:00:00",
        ] {
            let chrono = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
                .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f"))
                .ok();
            assert_eq!(parse_stored_datetime(s), chrono, "{s}");
        }
    }

    #[test]
    fn paris_day_bounds_follow_dst() {
        let c = Clock::new(None, None, chrono_tz::Europe::Paris, false);
        let winter = c.local_day_start_utc(NaiveDate::from_ymd_opt(2026, 11, 22).unwrap());
        assert_eq!(format_datetime(winter), "2026-11-21 23:00:00.000000");
        let summer = c.local_day_start_utc(NaiveDate::from_ymd_opt(2026, 7, 1).unwrap());
        assert_eq!(format_datetime(summer), "2026-06-30 22:00:00.000000");
    }

    #[test]
    fn business_date_vs_utc_date() {
        let now = parse_now("2026-11-22T23:30:00Z").unwrap();
        let utc = Clock::new(Some(now), None, chrono_tz::Europe::Paris, true);
        assert_eq!(utc.today.to_string(), "2026-11-22");
        let paris = Clock::new(Some(now), None, chrono_tz::Europe::Paris, false);
        assert_eq!(paris.today.to_string(), "2026-11-23");
    }

    #[test]
    fn stored_values_parse_or_are_rejected() {
        assert!(parse_stored_date("0000-00-00").is_none());
        assert!(parse_stored_date("2026-02-30").is_none());
        assert_eq!(
            parse_stored_date("2026-11-29").unwrap().to_string(),
            "2026-11-29"
        );
        assert!(parse_stored_datetime("2026-11-21 23:30:00.000000").is_some());
        assert!(parse_stored_datetime("2026-11-21 23:30:00").is_some());
        assert!(parse_stored_datetime("0000-00-00 00:00:00").is_none());
    }
}

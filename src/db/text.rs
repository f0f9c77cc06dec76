//! Text read from the web application's tables, whatever bytes they hold.
//!
//! SQLite stores any bytes in a TEXT column; one row with bytes that are not UTF-8 used to fail
//! the whole statement ("invalid utf-8 sequence"), and with it a check for every project.
//! Columns read through [`Lossy`] and [`LossyOpt`] (`#[diesel(deserialize_as = …)]`) decode
//! such bytes with U+FFFD in place of what is not UTF-8; each repair is counted, and `Db::load`
//! logs it with the table it read. MySQL validates utf8mb4 on write, so there it never happens;
//! PostgreSQL neither, and there they also render the columns sigov reads as text (see `pg`).

use diesel::deserialize;
#[cfg(any(feature = "mysql", feature = "sqlite"))]
use diesel::{
    deserialize::FromSql,
    sql_types::{Nullable, Text},
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

static REPAIRED: AtomicU64 = AtomicU64::new(0);
static NULLS: AtomicU64 = AtomicU64::new(0);
/// A few repaired values, as read, for the log line (so the operator can find the row).
static SAMPLES: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => {
            let s = String::from_utf8_lossy(bytes).into_owned();
            REPAIRED.fetch_add(1, Ordering::Relaxed);
            let mut samples = SAMPLES
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if samples.len() < 3 {
                samples.push(s.chars().take(60).collect());
            }
            s
        }
    }
}

/// NULL where a text is expected: read as the empty string, counted (`Db::load` logs it with
/// the table; the check counts it as `null_text`).
fn null_text() -> deserialize::Result<Lossy> {
    NULLS.fetch_add(1, Ordering::Relaxed);
    Ok(Lossy(String::new()))
}

/// How many NULLs were read as empty text since the process started.
pub fn nulls() -> u64 {
    NULLS.load(Ordering::Relaxed)
}

/// How many values were repaired since the process started.
pub fn repaired() -> u64 {
    REPAIRED.load(Ordering::Relaxed)
}

/// The repaired values kept since the last call.
pub fn take_samples() -> Vec<String> {
    std::mem::take(
        &mut *SAMPLES
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    )
}

/// A text column, decoded lossily. `FromSqlRow`: also a field of rows read by position.
#[derive(diesel::deserialize::FromSqlRow)]
pub struct Lossy(pub String);

/// A nullable text column, decoded lossily.
#[derive(diesel::deserialize::FromSqlRow)]
pub struct LossyOpt(pub Option<String>);

impl From<Lossy> for String {
    fn from(v: Lossy) -> String {
        v.0
    }
}

impl From<LossyOpt> for Option<String> {
    fn from(v: LossyOpt) -> Option<String> {
        v.0
    }
}

#[cfg(feature = "sqlite")]
impl FromSql<Text, diesel::sqlite::Sqlite> for Lossy {
    fn from_sql(mut v: diesel::sqlite::SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        Ok(Lossy(decode(v.read_blob())))
    }
    fn from_nullable_sql(
        v: Option<diesel::sqlite::SqliteValue<'_, '_, '_>>,
    ) -> deserialize::Result<Self> {
        match v {
            Some(mut v) => Ok(Lossy(decode(v.read_blob()))),
            None => null_text(),
        }
    }
}

#[cfg(feature = "sqlite")]
impl FromSql<Nullable<Text>, diesel::sqlite::Sqlite> for LossyOpt {
    fn from_sql(mut v: diesel::sqlite::SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        Ok(LossyOpt(Some(decode(v.read_blob()))))
    }
    fn from_nullable_sql(
        v: Option<diesel::sqlite::SqliteValue<'_, '_, '_>>,
    ) -> deserialize::Result<Self> {
        Ok(LossyOpt(v.map(|mut v| decode(v.read_blob()))))
    }
}

#[cfg(feature = "mysql")]
impl FromSql<Text, diesel::mysql::Mysql> for Lossy {
    fn from_sql(v: diesel::mysql::MysqlValue<'_>) -> deserialize::Result<Self> {
        Ok(Lossy(decode(v.as_bytes())))
    }
    fn from_nullable_sql(v: Option<diesel::mysql::MysqlValue<'_>>) -> deserialize::Result<Self> {
        match v {
            Some(v) => Ok(Lossy(decode(v.as_bytes()))),
            None => null_text(),
        }
    }
}

#[cfg(feature = "mysql")]
impl FromSql<Nullable<Text>, diesel::mysql::Mysql> for LossyOpt {
    fn from_sql(v: diesel::mysql::MysqlValue<'_>) -> deserialize::Result<Self> {
        Ok(LossyOpt(Some(decode(v.as_bytes()))))
    }
    fn from_nullable_sql(v: Option<diesel::mysql::MysqlValue<'_>>) -> deserialize::Result<Self> {
        Ok(LossyOpt(v.map(|v| decode(v.as_bytes()))))
    }
}

/// PostgreSQL sends every column in its binary form: text as it is, and the types sigov reads
/// as text (ids, dates, times, JSON) rendered as MySQL renders them, so that every backend
/// gives the checks the same strings: a uuid in 32 lowercase hex digits (MySQL's char(32)), a
/// date `YYYY-MM-DD`, a time in UTC `YYYY-MM-DD HH:MM:SS.ffffff` (timestamptz is UTC on the
/// wire, whatever the session's TimeZone), jsonb as its text.
#[cfg(feature = "postgres")]
mod pg {
    use super::{decode, Lossy, LossyOpt};
    use diesel::deserialize::{self, FromSql};
    use diesel::pg::{Pg, PgValue};
    use diesel::sql_types::{Nullable, Text};

    const BOOL: u32 = 16;
    const INT8: u32 = 20;
    const INT2: u32 = 21;
    const INT4: u32 = 23;
    const JSONB: u32 = 3802;
    const DATE: u32 = 1082;
    const TIMESTAMP: u32 = 1114;
    const TIMESTAMPTZ: u32 = 1184;
    const UUID: u32 = 2950;

    pub(super) fn epoch() -> chrono::NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2000, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .unwrap_or_default()
    }

    fn fixed<const N: usize>(bytes: &[u8], what: &str) -> deserialize::Result<[u8; N]> {
        <[u8; N]>::try_from(bytes)
            .map_err(|_| format!("a {what} of {} bytes (expected {N})", bytes.len()).into())
    }

    /// `n` in `width` digits, zero-padded (`n` has no more).
    fn push_digits(out: &mut String, n: u32, width: u32) {
        for i in (0..width).rev() {
            let d = (n / 10u32.pow(i)) % 10;
            out.push(char::from(b'0' + d as u8));
        }
    }

    /// `YYYY-MM-DD`, written by hand for the years of four digits (chrono's `format` parses
    /// its pattern for each value).
    fn push_date(out: &mut String, d: chrono::NaiveDate) -> bool {
        use chrono::Datelike;
        let Ok(year) = u32::try_from(d.year()) else {
            return false;
        };
        if year > 9999 {
            return false;
        }
        push_digits(out, year, 4);
        out.push('-');
        push_digits(out, d.month(), 2);
        out.push('-');
        push_digits(out, d.day(), 2);
        true
    }

    /// A PostgreSQL date (days from 2000-01-01) as MySQL writes it; beyond chrono's years (a
    /// PostgreSQL date reaches 5874897 AD), a text that is no date, so that the checks count
    /// it as one (`date_not_a_date`) instead of failing.
    pub(super) fn date_text(days: i32) -> String {
        match days {
            i32::MAX => "infinity".to_owned(),
            i32::MIN => "-infinity".to_owned(),
            d => match epoch()
                .date()
                .checked_add_signed(chrono::Duration::days(i64::from(d)))
            {
                Some(date) => {
                    let mut out = String::with_capacity(10);
                    if push_date(&mut out, date) {
                        out
                    } else {
                        date.format("%Y-%m-%d").to_string()
                    }
                }
                None => format!("{d} days from 2000-01-01"),
            },
        }
    }

    /// A PostgreSQL timestamp (microseconds from 2000-01-01 00:00, UTC for timestamptz) as
    /// MySQL writes a DATETIME(6); beyond chrono's years, a text that is no time.
    pub(super) fn stamp_text(micros: i64) -> String {
        use chrono::Timelike;
        match micros {
            i64::MAX => "infinity".to_owned(),
            i64::MIN => "-infinity".to_owned(),
            m => match epoch().checked_add_signed(chrono::Duration::microseconds(m)) {
                Some(t) => {
                    let mut out = String::with_capacity(26);
                    if !push_date(&mut out, t.date()) {
                        return t.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
                    }
                    out.push(' ');
                    push_digits(&mut out, t.hour(), 2);
                    out.push(':');
                    push_digits(&mut out, t.minute(), 2);
                    out.push(':');
                    push_digits(&mut out, t.second(), 2);
                    out.push('.');
                    push_digits(&mut out, t.nanosecond() / 1000, 6);
                    out
                }
                None => format!("{m} microseconds from 2000-01-01"),
            },
        }
    }

    /// `bytes` in lowercase hex digits (a uuid's 32: one allocation, where a `format!` per
    /// byte made seventeen, 60 % of a steady-state run's instructions on PostgreSQL).
    pub(super) fn hex(bytes: &[u8]) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(bytes.len() * 2);
        for b in bytes {
            out.push(char::from(DIGITS[usize::from(b >> 4)]));
            out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
        }
        out
    }

    pub(super) fn render(v: &PgValue<'_>) -> deserialize::Result<String> {
        let bytes = v.as_bytes();
        Ok(match v.get_oid().get() {
            UUID => hex(&fixed::<16>(bytes, "uuid")?),
            DATE => date_text(i32::from_be_bytes(fixed(bytes, "date")?)),
            TIMESTAMP | TIMESTAMPTZ => stamp_text(i64::from_be_bytes(fixed(bytes, "timestamp")?)),
            JSONB => match bytes.split_first() {
                Some((1, json)) => decode(json),
                _ => return Err("a jsonb value in an unknown format".into()),
            },
            INT8 => i64::from_be_bytes(fixed(bytes, "bigint")?).to_string(),
            INT4 => i32::from_be_bytes(fixed(bytes, "integer")?).to_string(),
            INT2 => i16::from_be_bytes(fixed(bytes, "smallint")?).to_string(),
            BOOL => (if bytes.first().copied().unwrap_or(0) != 0 {
                "1"
            } else {
                "0"
            })
            .to_owned(),
            // text, varchar, char, name, json: UTF-8 text as it is.
            _ => decode(bytes),
        })
    }

    impl FromSql<Text, Pg> for Lossy {
        fn from_sql(v: PgValue<'_>) -> deserialize::Result<Self> {
            Ok(Lossy(render(&v)?))
        }
        fn from_nullable_sql(v: Option<PgValue<'_>>) -> deserialize::Result<Self> {
            match v {
                Some(v) => Ok(Lossy(render(&v)?)),
                None => crate::db::text::null_text(),
            }
        }
    }

    impl FromSql<Nullable<Text>, Pg> for LossyOpt {
        fn from_sql(v: PgValue<'_>) -> deserialize::Result<Self> {
            Ok(LossyOpt(Some(render(&v)?)))
        }
        fn from_nullable_sql(v: Option<PgValue<'_>>) -> deserialize::Result<Self> {
            Ok(LossyOpt(v.map(|v| render(&v)).transpose()?))
        }
    }
}

/// PostgreSQL's rendering, against chrono's own output.
#[cfg(all(test, feature = "postgres"))]
mod pg_render_tests {
    use super::pg::{date_text, epoch, hex, stamp_text};

    #[test]
    fn uuids_are_32_lowercase_hex_digits() {
        let b: Vec<u8> = (0u8..16)
            .map(|i| i.wrapping_mul(17).wrapping_add(0x0a))
            .collect();
        let want: String = b.iter().map(|x| format!("{x:02x}")).collect();
        assert_eq!(hex(&b), want);
        assert_eq!(hex(&[0x00, 0xff, 0x9a]), "00ff9a");
    }

    #[test]
    fn dates_and_times_are_written_as_mysql_writes_them() {
        let by_chrono_date = |d: i32| {
            (epoch().date() + chrono::Duration::days(i64::from(d)))
                .format("%Y-%m-%d")
                .to_string()
        };
        for d in [0, 1, -1, 365, 9_000, -730_120, 2_900_000, -700_000] {
            assert_eq!(date_text(d), by_chrono_date(d), "{d}");
        }
        let by_chrono_stamp = |m: i64| {
            (epoch() + chrono::Duration::microseconds(m))
                .format("%Y-%m-%d %H:%M:%S%.6f")
                .to_string()
        };
        for m in [
            0,
            1,
            -1,
            999_999,
            851_234_567_890_123,
            -63_000_000_000_000_000,
        ] {
            assert_eq!(stamp_text(m), by_chrono_stamp(m), "{m}");
        }
        assert_eq!(stamp_text(0), "2000-01-01 00:00:00.000000");
        assert_eq!(date_text(i32::MAX), "infinity");
        assert_eq!(stamp_text(i64::MIN), "-infinity");
        // Beyond chrono's years (PostgreSQL accepts them): no panic, and no date.
        for d in [i32::MAX - 1, 2_000_000_000, -2_000_000_000] {
            let t = date_text(d);
            assert!(crate::clock::parse_date(&t).is_err(), "{t}");
        }
        for m in [i64::MAX - 1, 9_000_000_000_000_000_000] {
            let t = stamp_text(m);
            assert!(crate::clock::parse_stored_datetime(&t).is_none(), "{t}");
        }
    }
}

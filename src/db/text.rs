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

    fn epoch() -> chrono::NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2000, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .unwrap_or_default()
    }

    fn fixed<const N: usize>(bytes: &[u8], what: &str) -> deserialize::Result<[u8; N]> {
        <[u8; N]>::try_from(bytes)
            .map_err(|_| format!("a {what} of {} bytes (expected {N})", bytes.len()).into())
    }

    pub(super) fn render(v: &PgValue<'_>) -> deserialize::Result<String> {
        let bytes = v.as_bytes();
        Ok(match v.get_oid().get() {
            UUID => {
                let b: [u8; 16] = fixed(bytes, "uuid")?;
                b.iter().map(|x| format!("{x:02x}")).collect()
            }
            DATE => {
                let days = i32::from_be_bytes(fixed(bytes, "date")?);
                match days {
                    i32::MAX => "infinity".to_owned(),
                    i32::MIN => "-infinity".to_owned(),
                    d => (epoch().date() + chrono::Duration::days(i64::from(d)))
                        .format("%Y-%m-%d")
                        .to_string(),
                }
            }
            TIMESTAMP | TIMESTAMPTZ => {
                let micros = i64::from_be_bytes(fixed(bytes, "timestamp")?);
                match micros {
                    i64::MAX => "infinity".to_owned(),
                    i64::MIN => "-infinity".to_owned(),
                    m => (epoch() + chrono::Duration::microseconds(m))
                        .format("%Y-%m-%d %H:%M:%S%.6f")
                        .to_string(),
                }
            }
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

//! Text read from the web application's tables, whatever bytes they hold.
//!
//! SQLite stores any bytes in a TEXT column; one row with bytes that are not UTF-8 used to fail
//! the whole statement ("invalid utf-8 sequence"), and with it a check for every project.
//! Columns read through [`Lossy`] and [`LossyOpt`] (`#[diesel(deserialize_as = …)]`) decode
//! such bytes with U+FFFD in place of what is not UTF-8; each repair is counted, and `Db::load`
//! logs it with the table it read. MySQL validates utf8mb4 on write, so there it never happens.

use diesel::deserialize::{self, FromSql};
use diesel::sql_types::{Nullable, Text};
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

/// A text column, decoded lossily.
pub struct Lossy(pub String);

/// A nullable text column, decoded lossily.
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

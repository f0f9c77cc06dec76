//! The values sigov binds to placeholders, and the SQL types a text value may be bound as.

/// A value bound to a `?` placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
    /// Bytes (a ledger key hash, [`super::keyhash`]).
    Bytes(Vec<u8>),
}

impl From<&str> for Val {
    fn from(s: &str) -> Self {
        Val::Text(s.to_owned())
    }
}
impl From<String> for Val {
    fn from(s: String) -> Self {
        Val::Text(s)
    }
}
impl From<i64> for Val {
    fn from(i: i64) -> Self {
        Val::Int(i)
    }
}
impl From<Option<String>> for Val {
    fn from(s: Option<String>) -> Self {
        Val::OptText(s)
    }
}
impl From<Option<i64>> for Val {
    fn from(i: Option<i64>) -> Self {
        Val::OptInt(i)
    }
}

/// The SQL type a value bound as text goes into ([`Db::mark`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// A uuid id of the web application (MySQL char(32)).
    Uuid,
    /// A DATE.
    Date,
    /// One of sigov's times: UTC without a zone (MySQL DATETIME(6), PostgreSQL timestamp).
    Stamp,
    /// One of the web application's times (PostgreSQL timestamptz), given in UTC.
    AppStamp,
    /// A JSON document (PostgreSQL jsonb).
    Json,
}

//! Literal values of generated rows, and how each backend spells them.

use chrono::{NaiveDate, NaiveDateTime};

/// A literal value of a generated row.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Null,
    Int(i64),
    Bool(bool),
    Str(String),
}

impl From<&str> for Lit {
    fn from(s: &str) -> Lit {
        Lit::Str(s.to_owned())
    }
}
impl From<String> for Lit {
    fn from(s: String) -> Lit {
        Lit::Str(s)
    }
}
impl From<i64> for Lit {
    fn from(i: i64) -> Lit {
        Lit::Int(i)
    }
}
impl From<bool> for Lit {
    fn from(b: bool) -> Lit {
        Lit::Bool(b)
    }
}
impl From<Option<NaiveDate>> for Lit {
    fn from(d: Option<NaiveDate>) -> Lit {
        d.map(|d| Lit::Str(d.to_string())).unwrap_or(Lit::Null)
    }
}
impl From<NaiveDate> for Lit {
    fn from(d: NaiveDate) -> Lit {
        Lit::Str(d.to_string())
    }
}
impl From<NaiveDateTime> for Lit {
    fn from(t: NaiveDateTime) -> Lit {
        Lit::Str(crate::clock::format_datetime(t))
    }
}

/// How a backend spells literals.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// A backslash in a string is an escape (MySQL's default mode).
    pub backslash: bool,
    /// The literals of a boolean column (`0`/`1`; PostgreSQL `FALSE`/`TRUE`).
    pub bools: [&'static str; 2],
}

/// Appends `v` as an SQL literal. Strings double their quotes; with `style.backslash`
/// backslashes are escaped too. NUL never occurs in generated text.
pub fn write_literal(out: &mut String, v: &Lit, style: Style) {
    match v {
        Lit::Null => out.push_str("NULL"),
        Lit::Int(i) => out.push_str(&i.to_string()),
        Lit::Bool(b) => out.push_str(style.bools[usize::from(*b)]),
        Lit::Str(s) => {
            out.push('\'');
            for c in s.chars() {
                match c {
                    '\'' => out.push_str("''"),
                    '\\' if style.backslash => out.push_str("\\\\"),
                    '\0' => {}
                    c => out.push(c),
                }
            }
            out.push('\'');
        }
    }
}

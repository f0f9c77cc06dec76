//! How commands print: one human summary on a terminal, nothing on success when stdout is not a
//! terminal (cron mails any output), JSON with `--format json`. Each command prints through the
//! [`Out`] it is given (its printing lives beside it in `cmd/`); `Out` writes to the `Write` it
//! was made with and keeps the first write error instead of panicking, as `println!` would.

use crate::config::Format;
use std::cell::RefCell;
use std::io::Write;

/// Where a command's output goes, and how much of it.
pub struct Out<'w> {
    pub format: Format,
    pub verbose: u8,
    pub quiet: bool,
    /// Standard output is a terminal (a person reads it).
    pub tty: bool,
    /// Times are shown in this zone, named (`--utc`: UTC).
    pub zone: chrono_tz::Tz,
    /// Columns a table may take: the terminal's (or `COLUMNS`); none when piped.
    pub columns: Option<usize>,
    sink: RefCell<Sink<'w>>,
}

struct Sink<'w> {
    w: &'w mut dyn Write,
    /// The first write error (a closed pipe, a full disk); once set, nothing more is written.
    error: Option<std::io::Error>,
}

impl Sink<'_> {
    fn with(&mut self, f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) {
        if self.error.is_none() {
            if let Err(e) = f(&mut *self.w) {
                self.error = Some(e);
            }
        }
    }
}

/// Standard output could not be written (`main` ends quietly on a closed pipe, with one error
/// line otherwise).
#[derive(Debug)]
pub struct WriteFailed(pub std::io::Error);

impl std::fmt::Display for WriteFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write to standard output: {}", self.0)
    }
}

impl std::error::Error for WriteFailed {}

/// `writeln!` to an [`Out`] that never panics: a failed write is kept for [`Out::finish`].
#[macro_export]
macro_rules! outln {
    ($out:expr) => {
        $out.line(format_args!(""))
    };
    ($out:expr, $($arg:tt)*) => {
        $out.line(format_args!($($arg)*))
    };
}

impl<'w> Out<'w> {
    pub fn new(
        format: Format,
        verbose: u8,
        quiet: bool,
        tty: bool,
        w: &'w mut dyn Write,
    ) -> Out<'w> {
        let columns = if tty {
            std::env::var("COLUMNS")
                .ok()
                .and_then(|c| c.trim().parse::<usize>().ok())
                .or_else(|| terminal_size::terminal_size().map(|(w, _)| usize::from(w.0)))
                .filter(|c| *c >= 20)
        } else {
            None
        };
        Out {
            format,
            verbose,
            quiet,
            tty,
            zone: chrono_tz::UTC,
            columns,
            sink: RefCell::new(Sink { w, error: None }),
        }
    }

    /// Times shown in `tz` (the business time zone; UTC with `--utc`).
    pub fn in_zone(mut self, tz: chrono_tz::Tz) -> Self {
        self.zone = tz;
        self
    }

    /// A stored UTC time (`2026-11-29 19:20:00.553674`) in the output's zone, to the second,
    /// the zone named (`2026-11-29 20:20:00 CET`); anything else as it is.
    pub fn time(&self, stored: &str) -> String {
        self.time_as(stored, "%Y-%m-%d %H:%M:%S %Z")
    }

    /// A UTC time of sigov's tables in the output's zone, named (`2026-11-22 11:00:00 CET`).
    pub fn at(&self, t: chrono::NaiveDateTime) -> String {
        self.at_as(t, "%Y-%m-%d %H:%M:%S %Z")
    }

    /// [`Out::at`], short for a table cell (`22/11 11:00`).
    pub fn at_short(&self, t: chrono::NaiveDateTime) -> String {
        self.at_as(t, "%d/%m %H:%M")
    }

    fn at_as(&self, t: chrono::NaiveDateTime, format: &str) -> String {
        t.and_utc()
            .with_timezone(&self.zone)
            .format(format)
            .to_string()
    }

    /// A stored UTC time in the output's zone, as `format` says; anything else as it is.
    fn time_as(&self, stored: &str, format: &str) -> String {
        match crate::clock::parse_stored_datetime(stored) {
            Some(t) => self.at_as(t, format),
            None => stored.to_owned(),
        }
    }

    /// A stored UTC time in the output's zone, short (`22/11 11:00`) for narrow tables whose
    /// header names the zone ([`Out::zone_abbreviation`]).
    pub fn time_short(&self, stored: &str) -> String {
        self.time_as(stored, "%d/%m %H:%M")
    }

    /// The zone's abbreviation now (`CET`, `CEST`, `UTC`), for a short column header.
    pub fn zone_abbreviation(&self) -> String {
        chrono::Utc::now()
            .with_timezone(&self.zone)
            .format("%Z")
            .to_string()
    }

    /// Whether a human summary is printed: on a terminal or with `-v`, never with `-q`.
    pub fn chatty(&self) -> bool {
        !self.quiet && (self.tty || self.verbose > 0)
    }

    /// One line (see [`outln!`]).
    pub fn line(&self, args: std::fmt::Arguments<'_>) {
        self.sink.borrow_mut().with(|w| {
            w.write_fmt(args)?;
            w.write_all(b"\n")
        });
    }

    /// Raw bytes (completion scripts, rendered mail).
    pub fn bytes(&self, bytes: &[u8]) {
        self.sink.borrow_mut().with(|w| w.write_all(bytes));
    }

    /// The kind of the first write error, once one happened.
    pub fn failed(&self) -> Option<std::io::ErrorKind> {
        self.sink.borrow().error.as_ref().map(|e| e.kind())
    }

    /// A value as pretty JSON, serialized straight to the writer (a report with many alerts is
    /// never held twice in memory).
    pub fn json<T: serde::Serialize + ?Sized>(&self, v: &T) {
        let v = serde_json::to_value(v).map(json_times);
        self.sink.borrow_mut().with(|w| {
            let mut w = std::io::BufWriter::new(w);
            let v = v.map_err(std::io::Error::other)?;
            serde_json::to_writer_pretty(&mut w, &v)?;
            writeln!(w)?;
            w.flush()
        });
    }

    /// A text table: a header line, then the rows, each column as wide as its widest cell by
    /// display width (accents and emoji align); cells longer than `max` columns are cut with
    /// an ellipsis. `right`: columns aligned right (numbers). On a terminal the table fits its
    /// width: the widest of the free-text columns (the last one by default; `flexible` names
    /// them) is narrowed, its cells cut with "…", until it does; piped, every column is whole.
    pub fn table(&self, headers: &[&str], rows: &[Vec<String>], right: &[usize], max: usize) {
        let last = [headers.len().saturating_sub(1)];
        self.table_fit(headers, rows, right, max, &last);
    }

    /// [`Out::table`] with the columns that may be narrowed on a terminal.
    pub fn table_fit(
        &self,
        headers: &[&str],
        rows: &[Vec<String>],
        right: &[usize],
        max: usize,
        flexible: &[usize],
    ) {
        let one: Vec<Vec<String>> = rows
            .iter()
            .map(|r| r.iter().map(|c| crate::strings::one_line(c)).collect())
            .collect();
        let natural = |cells: &[Vec<String>]| -> Vec<usize> {
            let mut widths: Vec<usize> = headers.iter().map(|h| display_width(h)).collect();
            for r in cells {
                for (i, c) in r.iter().enumerate() {
                    if let Some(w) = widths.get_mut(i) {
                        *w = (*w).max(display_width(c));
                    }
                }
            }
            widths
        };
        let mut limits: Vec<usize> = natural(&one).into_iter().map(|w| w.min(max)).collect();
        if let Some(cols) = self.columns {
            let total = |l: &[usize]| l.iter().sum::<usize>() + 2 * l.len().saturating_sub(1);
            let floor = |i: usize| display_width(headers.get(i).copied().unwrap_or("")).max(6);
            while total(&limits) > cols {
                let Some((i, w)) = limits
                    .iter()
                    .copied()
                    .enumerate()
                    .filter(|(i, w)| flexible.contains(i) && *w > floor(*i))
                    .max_by_key(|(_, w)| *w)
                else {
                    break;
                };
                let over = total(&limits) - cols;
                limits[i] = w.saturating_sub(over).max(floor(i));
            }
        }
        let cut: Vec<Vec<String>> = one
            .iter()
            .map(|r| {
                r.iter()
                    .enumerate()
                    .map(|(i, c)| fit(c, limits.get(i).copied().unwrap_or(max)))
                    .collect()
            })
            .collect();
        let widths = natural(&cut);
        let line = |cells: Vec<&str>| {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate() {
                let w = widths.get(i).copied().unwrap_or(0);
                let pad = " ".repeat(w.saturating_sub(display_width(c)));
                if i > 0 {
                    s.push_str("  ");
                }
                if right.contains(&i) {
                    s.push_str(&pad);
                    s.push_str(c);
                } else {
                    s.push_str(c);
                    if i + 1 < cells.len() {
                        s.push_str(&pad);
                    }
                }
            }
            s
        };
        crate::outln!(self, "{}", line(headers.to_vec()));
        for r in &cut {
            crate::outln!(self, "{}", line(r.iter().map(String::as_str).collect()));
        }
    }

    /// Flushes; the first write error, if any, as a [`WriteFailed`] error.
    pub fn finish(&self) -> anyhow::Result<()> {
        let mut sink = self.sink.borrow_mut();
        sink.with(|w| w.flush());
        match sink.error.take() {
            Some(e) => Err(WriteFailed(e).into()),
            None => Ok(()),
        }
    }
}

/// Columns `s` takes on a terminal (wide characters count two, combining marks none).
pub fn display_width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// `s` on one line, cut to `max` display columns with an ellipsis.
pub fn fit(s: &str, max: usize) -> String {
    let s = crate::strings::one_line(s);
    if display_width(&s) <= max {
        return s;
    }
    // The prefix is measured as a string, as the table measures cells: an emoji with its
    // variation selector (⚠️) is two columns, its characters one by one only one.
    let mut end = 0;
    for (i, c) in s.char_indices() {
        let next = i + c.len_utf8();
        if display_width(&s[..next]) + 1 > max {
            break;
        }
        end = next;
    }
    let mut out = s[..end].to_owned();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn json_times_are_rfc3339_and_counters_json() {
        let v = serde_json::json!({
            "started_at": "2026-11-29 19:20:00.553674",
            "finished_at": "2026-11-29T19:21:00.5",
            "held_until": "2026-11-30 07:00:00",
            "business_date": "2026-11-22",
            "titre": "Projet 2026-11-29 19:20 (texte)",
            "counters": "{\"created\": 3}",
            "rows": [{"sent_at": "2026-11-29 19:20:01.000000"}],
        });
        let t = super::json_times(v);
        assert_eq!(t["started_at"], "2026-11-29T19:20:00.553674Z");
        // A typed time serialized by serde (with a `T`, no offset) is UTC too.
        assert_eq!(t["finished_at"], "2026-11-29T19:21:00.500Z");
        assert_eq!(t["held_until"], "2026-11-30T07:00:00Z");
        assert_eq!(t["business_date"], "2026-11-22");
        assert_eq!(t["titre"], "Projet 2026-11-29 19:20 (texte)");
        assert_eq!(t["counters"]["created"], 3);
        assert_eq!(t["rows"][0]["sent_at"], "2026-11-29T19:20:01Z");
    }

    use super::*;

    /// Takes `room` bytes, then fails like a full disk.
    struct Full {
        room: usize,
        got: Vec<u8>,
        calls: usize,
    }

    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.calls += 1;
            if self.got.len() + buf.len() > self.room {
                return Err(std::io::Error::from_raw_os_error(28));
            }
            self.got.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn tables_align_by_display_width() {
        let mut buf = Vec::new();
        let out = Out::new(Format::Text, 0, false, false, &mut buf);
        let rows = vec![
            vec!["🔴 Échéance".to_owned(), "1".to_owned(), "x".to_owned()],
            vec!["abc".to_owned(), "22".to_owned(), "y".to_owned()],
        ];
        out.table(&["titre", "n", "z"], &rows, &[1], 40);
        drop(out);
        let text = String::from_utf8(buf).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "titre         n  z");
        assert_eq!(lines[1], "🔴 Échéance   1  x");
        assert_eq!(lines[2], "abc          22  y");
        for l in &lines {
            assert_eq!(display_width(l), display_width(lines[0]), "{l}");
        }
        assert_eq!(fit("Intégration\nportail", 8), "Intégra…");
        assert_eq!(display_width(&fit("🔴🔴🔴🔴", 5)), 5);
    }

    #[test]
    fn writes_to_what_it_is_given_and_keeps_the_first_error() {
        let mut buf = Vec::new();
        let out = Out::new(Format::Text, 0, false, false, &mut buf);
        crate::outln!(out, "a {}", 1);
        out.json(&serde_json::json!({"k": "é"}));
        assert!(out.finish().is_ok());
        drop(out);
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "a 1\n{\n  \"k\": \"é\"\n}\n"
        );
        let mut full = Full {
            room: 4,
            got: Vec::new(),
            calls: 0,
        };
        let out = Out::new(Format::Text, 0, false, false, &mut full);
        crate::outln!(out, "abc");
        crate::outln!(out, "no room");
        crate::outln!(out, "never tried");
        let e = out.finish().unwrap_err();
        let w = e.downcast_ref::<WriteFailed>().unwrap();
        assert_eq!(w.0.raw_os_error(), Some(28));
        drop(out);
        assert_eq!(full.got, b"abc\n");
        assert_eq!(full.calls, 3, "nothing written after the first error");
    }
}

/// Syslog priorities of the lines sigov writes on standard error.
pub mod priority {
    pub const ERROR: u8 = 3;
    pub const WARNING: u8 = 4;
}

/// One line on standard error; under journald (`JOURNAL_STREAM` set) it starts with its syslog
/// priority (`<3>`, `<4>`), as the log lines do, so `journalctl -p warning` finds it.
pub fn stderr_line(priority: u8, line: std::fmt::Arguments<'_>) {
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        eprintln!("<{priority}>{line}");
    } else {
        eprintln!("{line}");
    }
}

/// `eprintln!` with a syslog priority: `say!(WARNING, "sigov: …", …)`.
#[macro_export]
macro_rules! say {
    ($priority:ident, $($arg:tt)*) => {
        $crate::output::stderr_line($crate::output::priority::$priority, format_args!($($arg)*))
    };
}

/// A stored UTC time (`2026-11-29 19:20:00.553674`) as RFC 3339 with its offset
/// (`2026-11-29T19:20:00.553674Z`); anything else `None`.
pub fn rfc3339(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let shaped = (19..=26).contains(&b.len())
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b' ' || b[10] == b'T')
        && b[13] == b':'
        && b[16] == b':'
        && (b.len() == 19 || b[19] == b'.');
    if !shaped {
        return None;
    }
    crate::clock::parse_stored_datetime(s).map(|t| {
        t.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    })
}

/// What JSON output holds: every stored time as RFC 3339 with its offset, and nested values
/// stored as JSON text (a run's `counters`) as JSON, not strings.
pub fn json_times(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::String(s) => match rfc3339(&s) {
            Some(t) => Value::String(t),
            None => Value::String(s),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(json_times).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, v)| {
                    let v = match (k.as_str(), v) {
                        ("counters", Value::String(s)) if s.starts_with('{') => {
                            serde_json::from_str(&s).unwrap_or(Value::String(s))
                        }
                        (_, v) => v,
                    };
                    (k, json_times(v))
                })
                .collect(),
        ),
        other => other,
    }
}

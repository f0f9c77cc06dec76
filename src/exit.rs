//! How a command ends. Every command returns an [`Exit`]; `main` alone turns it into the
//! process's exit code (the README's and the man page's table), and nothing else exits.

/// The outcome of a command, by exit code (2, wrong usage, is clap's own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: done; `health`: healthy.
    Ok,
    /// 1: failed (one line on stderr says why); `health`: not healthy.
    Failure,
    /// 3: some checks failed while others ran, or alerts were recorded and some mail waits.
    Partial,
    /// 75 (EX_TEMPFAIL): another run holds the lock; nothing was done.
    Locked,
    /// `health --nagios`: the plugin status, 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
    Nagios(u8),
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Failure => 1,
            Exit::Partial => 3,
            Exit::Locked => 75,
            Exit::Nagios(n) => n,
        }
    }
}

/// A value on the command line that names nothing (an alert id no table holds): exit 2, as
/// for clap's usage errors, with this one line.
#[derive(Debug)]
pub struct UnknownValue(pub String);

impl std::fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UnknownValue {}

/// Returns from the function with an [`UnknownValue`] (exit 2, one line) made by `format!`.
#[macro_export]
macro_rules! usage {
    ($($arg:tt)*) => {
        return Err($crate::exit::UnknownValue(format!($($arg)*)).into())
    };
}

/// The usage exit code (clap's).
pub const USAGE: u8 = 2;

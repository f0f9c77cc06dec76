//! Time limits on the database: a server (or a proxy in front of it) that accepts a connection
//! and never answers must not hang a cron job forever.
//!
//! The MySQL client library diesel drives has no connect, read or write timeout that diesel
//! lets us set (its URL knows only sockets and TLS), and sigov forbids `unsafe`. So one watchdog
//! thread per process watches the one database operation in flight (a connection being made, a
//! statement sent and its answer read): when it outlives its limit, the command ends at once
//! with one line naming the database and "timed out", exit 1 (`health --nagios`: CRITICAL, 2).
//! Ending the process is the only way out of a blocked libmariadb call; it is safe because
//! everything sigov writes is transactional (the server rolls back what the connection had
//! open), its check lock and mail claims are taken over at once by the next run on this host
//! (the process is gone) and by any host when their lease ends.

use std::sync::{Condvar, Mutex, Once, PoisonError};
use std::time::{Duration, Instant};

/// The limits in force (set once from the configuration by the command that runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub connect: Duration,
    pub statement: Duration,
}

/// 10 s to connect; 300 s for one statement (the heaviest, the task check's candidate
/// selection at 50,000 projects, takes a few seconds: see BENCHMARKS.md).
const DEFAULT_LIMITS: Limits = Limits {
    connect: Duration::from_secs(10),
    statement: Duration::from_secs(300),
};

impl Default for Limits {
    fn default() -> Self {
        DEFAULT_LIMITS
    }
}

/// How the process ends when a limit is passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnTimeout {
    /// `sigov: …` on stderr, exit 1.
    Fail,
    /// `SIGOV CRITICAL - …` on stdout, exit 2 (Nagios plugin convention).
    NagiosCritical,
}

struct State {
    limits: Limits,
    on_timeout: OnTimeout,
    /// The operation in flight: when it must be over, and what to say if it is not.
    watched: Option<(Instant, String)>,
}

static STATE: Mutex<State> = Mutex::new(State {
    limits: DEFAULT_LIMITS,
    on_timeout: OnTimeout::Fail,
    watched: None,
});
static WAKE: Condvar = Condvar::new();
static STARTED: Once = Once::new();

fn state() -> std::sync::MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Sets the limits and what a timeout does (the command line, once, before connecting).
pub fn configure(limits: Limits, on_timeout: OnTimeout) {
    let mut s = state();
    s.limits = limits;
    s.on_timeout = on_timeout;
}

/// The limits in force.
pub fn limits() -> Limits {
    state().limits
}

/// An operation being watched; dropping it ends the watch.
#[must_use]
pub struct Watch(());

impl Drop for Watch {
    fn drop(&mut self) {
        state().watched = None;
    }
}

/// Watches an operation that may take at most `limit`; `what` names it and the database
/// (never with a secret) for the line printed if it does not end in time.
pub fn watch(limit: Duration, what: impl FnOnce() -> String) -> Watch {
    STARTED.call_once(|| {
        // If the thread cannot start, operations simply go unwatched, as before.
        let _ = std::thread::Builder::new()
            .name("sigov-db-watchdog".into())
            .spawn(run);
    });
    let deadline = Instant::now() + limit;
    state().watched = Some((deadline, what()));
    WAKE.notify_one();
    Watch(())
}

fn run() {
    let mut s = state();
    loop {
        match &s.watched {
            None => s = WAKE.wait(s).unwrap_or_else(PoisonError::into_inner),
            Some((deadline, what)) => {
                let now = Instant::now();
                if now >= *deadline {
                    expire(s.on_timeout, what);
                }
                let left = *deadline - now;
                s = WAKE
                    .wait_timeout(s, left)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
        }
    }
}

fn expire(on_timeout: OnTimeout, what: &str) -> ! {
    use std::io::Write;
    match on_timeout {
        OnTimeout::Fail => {
            let _ = writeln!(std::io::stderr(), "sigov: {what}");
            std::process::exit(1)
        }
        OnTimeout::NagiosCritical => {
            let _ = writeln!(std::io::stdout(), "SIGOV CRITICAL - {what}");
            let _ = std::io::stdout().flush();
            std::process::exit(2)
        }
    }
}

/// "10 s": the limits are whole seconds (configuration keys in seconds).
pub fn seconds(d: Duration) -> String {
    format!("{} s", d.as_secs())
}

//! What a delivery does with each outcome, whatever carries the message (an SMTP relay,
//! sendmail, a directory of files, the HTTP channels to come): the one place that decides a
//! queued row's next state, and the breaker that keeps one recipient's trouble from holding
//! back everybody else's mail.
//!
//! The promise it keeps: a message is handed over at most twice. A hand-over that got no final
//! answer (a timeout after the body, a connection closed before the reply) may have been
//! delivered, so it is *unconfirmed*: the row is tried once more after a backoff; if that is
//! unconfirmed too, or the row's attempts are spent, it is set aside as `unconfirmed` — never
//! sent again unless an operator requeues it (`sigov mail retry --unconfirmed`), whatever
//! `mail.max_attempts` says.

use crate::states::MailState;
use std::collections::HashSet;

/// Why a message was not handed over (or not confirmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// The far end cannot be reached, TLS or authentication failed, or it stopped answering
    /// before the message: no message can go now. The delivery stops; its mail stays due.
    Connection(String),
    /// Refused for now (SMTP 4xx, HTTP 429/5xx before the body was taken): retried later.
    Transient(String),
    /// Refused for good (SMTP 5xx), or the message cannot be sent as it is.
    Permanent(String),
    /// The whole message was handed over and no final answer came (a timeout, the connection
    /// closed after the body): it may have been delivered.
    Ambiguous(String),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Connection(m)
            | SendError::Transient(m)
            | SendError::Permanent(m)
            | SendError::Ambiguous(m) => f.write_str(m),
        }
    }
}

/// Copies of one message the far end may hold at most: the unconfirmed hand-over and one more.
pub const MAX_COPIES: i64 = 2;

/// Distinct recipients in a row whose message went unconfirmed after which a delivery stops:
/// then the relay itself is not answering, and each further try would cost a timeout.
pub const UNCONFIRMED_RECIPIENTS_IN_A_ROW: u32 = 3;

/// A row's (or a message's rows') history before this try.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tried {
    /// Attempts counted so far.
    pub attempts: i64,
    /// Hand-overs so far that got no final answer.
    pub unconfirmed: i64,
}

/// What becomes of the rows after a failed try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Next {
    /// `failed` (due again after the backoff), `dead` or `unconfirmed`.
    pub state: MailState,
    /// The try was an unconfirmed hand-over: the row's count of them grows by one.
    pub unconfirmed: bool,
}

impl Next {
    /// The rows are given up for now and counted so (not `failed`).
    pub fn given_up(self) -> bool {
        self.state != MailState::Failed
    }
}

/// The next state of rows whose try failed with `e` (not [`SendError::Connection`], which
/// gives the rows back untouched). `max_attempts` bounds refusals for now; unconfirmed
/// hand-overs are bounded by [`MAX_COPIES`] whatever it says. A row given up after any
/// unconfirmed hand-over is `unconfirmed`, not `dead`: a copy may have reached its reader.
pub fn after_failure(e: &SendError, before: Tried, max_attempts: u32) -> Next {
    let ambiguous = matches!(e, SendError::Ambiguous(_));
    let attempts = before.attempts + 1;
    let unconfirmed = before.unconfirmed + i64::from(ambiguous);
    let spent = match e {
        SendError::Permanent(_) => true,
        SendError::Ambiguous(_) => unconfirmed >= MAX_COPIES || attempts >= i64::from(max_attempts),
        SendError::Transient(_) | SendError::Connection(_) => attempts >= i64::from(max_attempts),
    };
    let state = match (spent, unconfirmed > 0) {
        (false, _) => MailState::Failed,
        (true, true) => MailState::Unconfirmed,
        (true, false) => MailState::Dead,
    };
    Next {
        state,
        unconfirmed: ambiguous,
    }
}

/// Per-recipient breaker of one delivery. A recipient whose message went unconfirmed gets no
/// more tries in this delivery: whatever held that message (a scanning proxy, a mailbox that
/// hangs) would most likely hold the next one too, and each try would cost a timeout and
/// perhaps a copy; their mail stays queued, untried, for the next delivery. The rule that stops
/// a whole delivery counts *distinct* recipients in a row (the breaker makes every unconfirmed
/// try a new recipient's), so one recipient never stops the mail of others.
#[derive(Debug, Default)]
pub struct Breaker {
    open: HashSet<String>,
    in_a_row: u32,
}

impl Breaker {
    /// The recipient's mail waits for the next delivery.
    pub fn is_open(&self, recipient: &str) -> bool {
        self.open.contains(&recipient.to_ascii_lowercase())
    }

    /// A confirmed answer (sent, or refused by the far end) came: the far end answers.
    pub fn answered(&mut self) {
        self.in_a_row = 0;
    }

    /// `recipient`'s message went unconfirmed; true when the delivery should stop (the last
    /// [`UNCONFIRMED_RECIPIENTS_IN_A_ROW`] recipients tried were all unconfirmed).
    pub fn unconfirmed(&mut self, recipient: &str) -> bool {
        self.open.insert(recipient.to_ascii_lowercase());
        self.in_a_row += 1;
        self.in_a_row >= UNCONFIRMED_RECIPIENTS_IN_A_ROW
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(attempts: i64, unconfirmed: i64) -> Tried {
        Tried {
            attempts,
            unconfirmed,
        }
    }

    #[test]
    fn an_unconfirmed_message_is_sent_at_most_twice_whatever_max_attempts() {
        let amb = SendError::Ambiguous("timeout".into());
        for max in [2, 8, 100] {
            let first = after_failure(&amb, t(0, 0), max);
            assert_eq!(first.state, MailState::Failed, "max {max}");
            assert!(first.unconfirmed);
            let second = after_failure(&amb, t(1, 1), max);
            assert_eq!(second.state, MailState::Unconfirmed, "max {max}");
        }
        // One attempt allowed: set aside at once, still not dead.
        assert_eq!(
            after_failure(&amb, t(0, 0), 1).state,
            MailState::Unconfirmed
        );
        // Deferrals before do not make a second copy: 4xx twice, then unconfirmed once.
        assert_eq!(after_failure(&amb, t(2, 0), 8).state, MailState::Failed);
    }

    #[test]
    fn refusals_die_and_a_refusal_after_an_unconfirmed_copy_stays_unconfirmed() {
        let later = SendError::Transient("451".into());
        let never = SendError::Permanent("550".into());
        assert_eq!(after_failure(&later, t(0, 0), 8).state, MailState::Failed);
        assert_eq!(after_failure(&later, t(7, 0), 8).state, MailState::Dead);
        assert_eq!(after_failure(&never, t(0, 0), 8).state, MailState::Dead);
        assert!(!after_failure(&never, t(0, 0), 8).unconfirmed);
        // A copy may already be there: giving up says so.
        assert_eq!(
            after_failure(&never, t(1, 1), 8).state,
            MailState::Unconfirmed
        );
        assert_eq!(
            after_failure(&later, t(7, 1), 8).state,
            MailState::Unconfirmed
        );
    }

    #[test]
    fn the_breaker_holds_one_recipient_and_stops_on_distinct_ones() {
        let mut b = Breaker::default();
        assert!(!b.unconfirmed("a@x.test"));
        assert!(b.is_open("A@x.test"));
        assert!(!b.is_open("b@x.test"));
        b.answered();
        assert!(!b.unconfirmed("b@x.test"));
        assert!(!b.unconfirmed("c@x.test"));
        assert!(
            b.unconfirmed("d@x.test"),
            "three distinct recipients in a row"
        );
        // Every recipient that went unconfirmed stays held back for this delivery.
        for r in ["a@x.test", "b@x.test", "c@x.test", "d@x.test"] {
            assert!(b.is_open(r), "{r}");
        }
    }
}

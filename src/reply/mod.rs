//! People answer their alerts by e-mail. Every mail carries a `Reply-To` and a
//! `List-Unsubscribe` address with a token bound to its delivery (`mail::token`); `receive`
//! reads the replies from the mailbox (`mail::mailbox`) and carries out what they ask.

pub mod receive;

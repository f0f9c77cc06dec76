//! People answer their alerts by e-mail: every mail carries a `Reply-To` and a
//! `List-Unsubscribe` address with a token bound to its delivery (`token`).

pub mod token;

//! Integration tests: the real `sigov` binary against real MariaDB and SQLite databases, each
//! test in its own throwaway database. `backend_test!` runs one test body on every backend.

mod common;
mod crontab;

pub mod ack;
mod answer_week;
mod bad_input;
mod calendar_week;
mod channels;
mod checks;
mod cli;
mod deadlines;
mod faults;
mod files;
mod health_week;
mod layout;
mod mail;
mod mail_look;
mod new_checks;
mod ops;
mod parity;
mod quiet_hours;
mod read_side;
mod relay;
mod reminders;
pub mod replies;
mod scheduling;
mod secrets;
mod week;

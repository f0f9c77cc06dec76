//! sigov: SI-Gouvernance's alert checks as one cron-started binary. `run` turns parsed
//! arguments into an exit code; everything below it returns errors instead of exiting.

pub mod ack;
pub mod checks;

pub mod channels;
pub mod clock;
pub mod cmd;
pub mod config;
pub mod db;
pub mod delivery;
pub mod demo;
pub mod exit;
pub mod fsutil;
pub mod host;
pub mod keyspec;
pub mod mail;
pub mod ops;
pub mod output;
pub mod prefs;
pub mod progress;
pub mod reply;
pub mod rules;
pub mod source;
pub mod states;
pub mod store;
pub mod strings;
pub mod when;

pub use cmd::cli;
pub use exit::Exit;

/// Runs a parsed command line, printing into `stdout`; `main` turns the result into the exit
/// code and one error line.
pub fn run(
    cli: cli::Cli,
    m: &clap::ArgMatches,
    stdout: &mut dyn std::io::Write,
) -> anyhow::Result<Exit> {
    cmd::run(cli, m, stdout)
}

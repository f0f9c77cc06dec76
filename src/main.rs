//! The `sigov` binary: parse, run, turn the result into an exit code and one error line.

use clap::{CommandFactory, FromArgMatches};
use std::process::ExitCode;

fn main() -> ExitCode {
    // A SIGOV_* variable that is not UTF-8 is a configuration error naming it, never "unset".
    if let Some(name) = sigov::config::non_utf8_variable(std::env::vars_os()) {
        eprintln!("sigov: environment variable {name} is not valid UTF-8");
        return ExitCode::from(sigov::exit::FAILURE);
    }
    let matches = sigov::cli::Cli::command().get_matches();
    let cli = match sigov::cli::Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    init_logs(cli.verbose, cli.quiet);
    let result = sigov::run(cli, &matches);
    // Standard output that could not be written: a reader that went away (`| head`) ends the
    // command quietly, as for any Unix filter; anything else (a full disk) is one error line.
    match sigov::output::finish() {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            return ExitCode::from(sigov::exit::OK);
        }
        Err(e) => {
            eprintln!("sigov: cannot write to standard output: {e}");
            return ExitCode::from(sigov::exit::FAILURE);
        }
        Ok(()) => {}
    }
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("sigov: {}", sigov::strings::one_line(&format!("{e:#}")));
            ExitCode::from(sigov::exit::FAILURE)
        }
    }
}

fn init_logs(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        _ => "debug",
    };
    let mut b =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default));
    // Dependencies' debug logs print what sigov keeps secret (ureq: the ping URL with its
    // token): whatever RUST_LOG says, they log warnings at most.
    for module in ["ureq", "rustls", "native_tls", "lettre"] {
        b.filter_module(module, log::LevelFilter::Warn);
    }
    // journald stamps lines itself.
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        b.format_timestamp(None);
    }
    b.init();
}

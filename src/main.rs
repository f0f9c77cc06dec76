//! The `sigov` binary: parse, run, turn the result into an exit code and one error line.

use clap::{CommandFactory, FromArgMatches};
use std::process::ExitCode;

fn main() -> ExitCode {
    // A SIGOV_* variable that is not UTF-8 is a configuration error naming it, never "unset".
    if let Some(name) = sigov::config::non_utf8_variable(std::env::vars_os()) {
        sigov::say!(
            ERROR,
            "sigov: environment variable {name} is not valid UTF-8"
        );
        return ExitCode::from(sigov::Exit::Failure.code());
    }
    let matches =
        match sigov::cmd::manual::with_examples(sigov::cli::Cli::command()).try_get_matches() {
            Ok(m) => m,
            Err(e) => {
                // The Django names operators type from habit get the command that replaces them.
                let args: Vec<String> = std::env::args().skip(1).collect();
                if e.use_stderr() {
                    if let Some(hint) = sigov::cli::django_hint(&args) {
                        sigov::say!(ERROR, "sigov: {hint}");
                        return ExitCode::from(sigov::exit::USAGE);
                    }
                }
                e.exit()
            }
        };
    let cli = match sigov::cli::Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    init_logs(cli.verbose, cli.quiet);
    let mut stdout = std::io::stdout();
    match sigov::run(cli, &matches, &mut stdout) {
        Ok(exit) => ExitCode::from(exit.code()),
        // Standard output that could not be written: a reader that went away (`| head`) ends
        // the command quietly, as for any Unix filter; anything else (a full disk) is one line.
        Err(e) => match e.downcast_ref::<sigov::output::WriteFailed>() {
            Some(w) if w.0.kind() == std::io::ErrorKind::BrokenPipe => {
                ExitCode::from(sigov::Exit::Ok.code())
            }
            Some(w) => {
                sigov::say!(ERROR, "sigov: {w}");
                ExitCode::from(sigov::Exit::Failure.code())
            }
            None => {
                sigov::say!(
                    ERROR,
                    "sigov: {}",
                    sigov::strings::one_line(&format!("{e:#}"))
                );
                if e.downcast_ref::<sigov::exit::UnknownValue>().is_some() {
                    return ExitCode::from(sigov::exit::USAGE);
                }
                ExitCode::from(sigov::Exit::Failure.code())
            }
        },
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
    // One line a message, without the module path: `sigov: warning: …` on a terminal or under
    // cron; under journald (JOURNAL_STREAM set) the syslog priority first (`<4>warning: …`), so
    // `journalctl -p warning` finds it; journald stamps and names the line itself.
    let journald = std::env::var_os("JOURNAL_STREAM").is_some();
    b.format(move |f, record| {
        use std::io::Write;
        let (priority, word) = match record.level() {
            log::Level::Error => (3, "error"),
            log::Level::Warn => (4, "warning"),
            log::Level::Info => (6, "info"),
            log::Level::Debug => (7, "debug"),
            log::Level::Trace => (7, "trace"),
        };
        if journald {
            writeln!(f, "<{priority}>{word}: {}", record.args())
        } else {
            writeln!(f, "sigov: {word}: {}", record.args())
        }
    });
    b.init();
}

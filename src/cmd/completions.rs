//! `sigov completions SHELL`: a completion script from the same clap definitions. Needs no configuration.

use crate::output::Out;
use crate::Exit;
use clap::Args as ClapArgs;

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Writes the completion script of `command` (the whole command line's definition).
pub fn run(out: &Out, args: &Args, mut command: clap::Command) -> Exit {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "sigov", &mut script);
    out.bytes(&script);
    Exit::Ok
}

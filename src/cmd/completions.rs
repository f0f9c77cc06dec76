//! `sigov completions SHELL`: a completion script from the same clap definitions. Needs no configuration.

use crate::cmd::cli::Cli;
use crate::output::Out;
use crate::Exit;
use clap::Args as ClapArgs;

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

pub fn run(out: &Out, args: &Args) -> Exit {
    use clap::CommandFactory;
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "sigov", &mut script);
    out.bytes(&script);
    Exit::Ok
}

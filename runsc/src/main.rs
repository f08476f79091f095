//! `runsc`: an OCI runtime that runs containers on the sentry, a kernel in
//! user space, so that applications never talk to the host kernel directly.

mod boot;
mod cli;
mod cmd_do;
mod cmd_run;
mod gofer_cmd;
mod logging;
mod sandbox;
mod seccomp;
mod spec;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    let code = match run(cli) {
        Ok(code) => code,
        Err(e) => {
            log::error!("{e:#}");
            eprintln!("runsc: {e:#}");
            1
        }
    };
    std::process::exit(code);
}

fn run(cli: cli::Cli) -> anyhow::Result<i32> {
    let name = match &cli.command {
        cli::Command::Do(_) => "do",
        cli::Command::Run(_) => "run",
        cli::Command::Boot(_) => "boot",
        cli::Command::Gofer(_) => "gofer",
    };
    logging::init(&cli.global, name)?;
    match cli.command {
        cli::Command::Do(args) => cmd_do::run(&cli.global, args),
        cli::Command::Run(args) => cmd_run::run(&cli.global, args),
        cli::Command::Boot(args) => boot::run(&cli.global, args),
        cli::Command::Gofer(args) => gofer_cmd::run(args),
    }
}

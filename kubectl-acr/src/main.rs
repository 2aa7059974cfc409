//! `kubectl-acr`: the kubectl plugin. Parses flags, runs the shared commands, prints.

mod cli;
mod cmd;
mod complete;

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli: cli::Cli = acr_cli::flags::parse();
    acr_cli::run_main(acr_cli::process::json_requested(std::env::args()), || {
        cli.run()
    })
}

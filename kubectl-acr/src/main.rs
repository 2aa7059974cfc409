//! `kubectl-acr`: the kubectl plugin. Parses flags, runs the shared commands, prints.

mod cli;
mod cmd;
mod complete;

use clap::Parser as _;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    acr_cli::run_main(|| cli.run())
}

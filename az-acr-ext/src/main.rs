//! `az-acr-ext`: the engine behind the `az acr-ext` Azure CLI extension. Prints JSON by default
//! so that az can format it (`-o table|tsv|yaml`, `--query`).

mod cli;
mod cmd;

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli: cli::Cli = acr_cli::flags::parse();
    acr_cli::run_main(acr_cli::process::json_requested(std::env::args()), || {
        cli.run()
    })
}

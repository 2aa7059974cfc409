//! Command-line pieces shared by `kubectl-acr` and `az-acr-ext`: argument groups, output
//! formats, the commands both binaries offer, and the mapping from outcomes to exit codes.

pub mod commands;
pub mod flags;
pub mod output;
pub mod password;
pub mod process;

pub use output::{OutputFormat, render};
pub use process::{Outcome, Status, run_main};

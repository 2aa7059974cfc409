//! `version`: the binary's name and version, for people and for the az extension's version check.

use crate::{Outcome, OutputFormat, render};
use serde::Serialize;

/// Arguments of `version`.
#[derive(Debug, Clone, clap::Args)]
pub struct VersionArgs {
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<OutputFormat>,
}

#[derive(Debug, Serialize)]
struct VersionInfo {
    name: &'static str,
    version: &'static str,
}

impl VersionArgs {
    /// `name` and `version` come from the calling binary's own package.
    pub fn run(
        &self,
        name: &'static str,
        version: &'static str,
        default_format: OutputFormat,
    ) -> anyhow::Result<Outcome> {
        let info = VersionInfo { name, version };
        let stdout = render(&info, self.output.unwrap_or(default_format), |info| {
            format!("{} {}\n", info.name, info.version)
        })?;
        Ok(Outcome::success(stdout))
    }
}

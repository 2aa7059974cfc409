//! `status`: what `deploy` made in a namespace, the rollout, the serving certificate and trust
//! distribution per node, as text or JSON/YAML.

use super::flags::ClusterArgs;
use acr_cli::{Outcome, OutputFormat, render};
use acr_core::cluster::ClusterStatus;
use acr_core::plan;
use std::path::PathBuf;
use time::OffsetDateTime;

/// Arguments of `status`.
#[derive(Debug, Clone, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Namespace of the connected registry.
    #[arg(short = 'n', long, default_value = plan::DEFAULT_NAMESPACE)]
    pub namespace: String,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    pub output: OutputFormat,
    /// Show every cluster of this fleet file (see deploy --fleet), one line each; several
    /// --context do the same.
    #[arg(long, value_name = "FILE")]
    pub fleet: Option<PathBuf>,
}

impl StatusArgs {
    pub fn run(&self) -> anyhow::Result<Outcome> {
        if let Some(fleet) = super::flags::fleet_of(self.fleet.as_deref(), &self.cluster.context)? {
            return self.run_fleet(&fleet);
        }
        let cluster = self.cluster.connect()?;
        let status = cluster.status(&self.namespace, OffsetDateTime::now_utc())?;
        Ok(Outcome::success(render(
            &status,
            self.output,
            ClusterStatus::to_text,
        )?))
    }
}

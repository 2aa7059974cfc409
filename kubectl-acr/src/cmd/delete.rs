//! `delete`: removes what `deploy` made, keeping the data volume claim and the namespace unless
//! `--delete-data`.

use super::deploy::{ClusterArgs, progress_printer};
use acr_cli::Outcome;
use acr_core::cluster::DeleteOptions;
use acr_core::plan;

/// Arguments of `delete`.
#[derive(Debug, Clone, clap::Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Namespace of the connected registry.
    #[arg(short = 'n', long, default_value = plan::DEFAULT_NAMESPACE)]
    pub namespace: String,
    /// Also delete the data volume claim (the registry's data is lost) and the namespace.
    #[arg(long)]
    pub delete_data: bool,
}

impl DeleteArgs {
    pub fn run(&self) -> anyhow::Result<Outcome> {
        let cluster = self.cluster.connect()?;
        let mut show = progress_printer(true);
        let report = cluster.delete(
            &DeleteOptions {
                namespace: self.namespace.clone(),
                delete_data: self.delete_data,
            },
            &mut show,
        )?;
        let summary = if report.deleted.is_empty() && report.kept.is_empty() {
            format!(
                "nothing made by kubectl acr deploy was found in namespace {}",
                self.namespace
            )
        } else {
            format!(
                "deleted {} objects, kept {}",
                report.deleted.len(),
                report.kept.len()
            )
        };
        Ok(Outcome {
            stdout: String::new(),
            stderr: Some(summary),
            status: acr_cli::Status::Success,
        })
    }
}

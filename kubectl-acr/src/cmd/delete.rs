//! `delete`: removes what `deploy` made, keeping the data volume claim and the namespace unless
//! `--delete-data`; `--dry-run` shows what would go, `-o` prints the outcome for machines.

use super::flags::{ClusterArgs, DryRun};
use super::print::progress_printer;
use acr_cli::{Outcome, OutputFormat, render};
use acr_core::cluster::{DeleteDryRun, DeleteOptions, DeleteReport};
use acr_core::operations::{DeleteRequest, delete};
use acr_core::plan;

/// Output formats of `delete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DeleteOutput {
    /// `kind.group/name` of each object deleted, as `kubectl delete -o name` prints.
    Name,
    Json,
    Yaml,
}

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
    /// none: delete; client: only list what would be deleted; server: the API server checks
    /// every delete and deletes nothing.
    #[arg(long, value_enum, value_name = "MODE", default_value = "none")]
    pub dry_run: DryRun,
    /// Print the outcome (what was deleted, already gone and kept) instead of one line per
    /// object.
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<DeleteOutput>,
}

impl DeleteArgs {
    pub fn run(&self) -> anyhow::Result<Outcome> {
        let request = DeleteRequest {
            cluster: self.cluster.selection()?,
            options: DeleteOptions {
                namespace: self.namespace.clone(),
                delete_data: self.delete_data,
                dry_run: match self.dry_run {
                    DryRun::None => DeleteDryRun::None,
                    DryRun::Client => DeleteDryRun::Client,
                    DryRun::Server => DeleteDryRun::Server,
                },
            },
        };
        let mut show = progress_printer(self.output.is_none());
        let report = delete(&request, &mut show)?;
        let stdout = match self.output {
            None => String::new(),
            Some(DeleteOutput::Name) => report
                .deleted
                .iter()
                .map(|object| format!("{}\n", object.kubectl_name()))
                .collect(),
            Some(DeleteOutput::Json) => render(&report, OutputFormat::Json, |_| String::new())?,
            Some(DeleteOutput::Yaml) => render(&report, OutputFormat::Yaml, |_| String::new())?,
        };
        Ok(Outcome {
            stdout,
            stderr: Some(self.summary(&report)),
            status: acr_cli::Status::Success,
        })
    }

    fn summary(&self, report: &DeleteReport) -> String {
        if report.deleted.is_empty() && report.kept.is_empty() {
            return format!(
                "nothing made by kubectl acr deploy was found in namespace {}",
                self.namespace
            );
        }
        let verb = match report.dry_run {
            DeleteDryRun::None => "deleted",
            DeleteDryRun::Client => "would delete (dry run)",
            DeleteDryRun::Server => "would delete (server dry run)",
        };
        format!(
            "{verb} {} objects, kept {}",
            report.deleted.len(),
            report.kept.len()
        )
    }
}

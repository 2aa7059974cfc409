//! `deploy`: preflight reads, the policy pre-check with what they found, then server-side apply
//! of the plan (cert-manager first when it is installed), and optionally the rollout.

use super::flags::{ClusterArgs, DryRun, ManifestFormat, PlanArgs, machine_format};
use super::print::{manifests, progress_printer};
use super::render::{RenderArgs, SecretsArg, StoreKindArg};
use acr_cli::commands::parse_duration;
use acr_cli::commands::policy::refused;
use acr_cli::{Outcome, OutputFormat, Status};
use acr_core::cluster::ClusterError;
use acr_core::operations::{ApplyOptions, DeployRequest, Gated, check_deploy};
use acr_core::plan::SecretDisplay;
use acr_core::policy::ReportFormats as _;
use acr_core::untrusted::escape_output;
use anyhow::Context as _;
use std::path::PathBuf;
use std::time::Duration;
use time::OffsetDateTime;

/// Arguments of `deploy`.
#[derive(Debug, Clone, clap::Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// none: apply; client: no request, print the manifests; server: the API server checks
    /// every object and stores nothing.
    #[arg(long, value_enum, value_name = "MODE", default_value = "none")]
    pub dry_run: DryRun,
    /// Print the applied objects as the API server returned them (Secret values redacted
    /// unless --show-secrets) instead of one line per object.
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<ManifestFormat>,
    /// Print Secret values instead of redacting them.
    #[arg(long)]
    pub show_secrets: bool,
    /// Wait for the registry Deployment and the trust DaemonSet to roll out.
    #[arg(long)]
    pub wait: bool,
    /// How long to wait for cert-manager and, with --wait, the rollout (e.g. 90s, 5m, 1h);
    /// exit 124 when it runs out.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Deploy to every cluster of this fleet file (YAML: `clusters:` each with name,
    /// kubeconfig, context, config and configProtectedFile). Every cluster is checked
    /// (preflight and policies) before any is changed.
    #[arg(long, value_name = "FILE")]
    pub fleet: Option<PathBuf>,
    /// With several clusters: how many are changed at once (waves, in fleet order).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_parallel: u16,
    /// With several clusters: go on with the next waves after a cluster fails.
    #[arg(long)]
    pub continue_on_error: bool,
    /// Take over fields another field manager owns (kubectl apply's --force-conflicts);
    /// without it such a conflict stops the deploy, naming the fields and their managers.
    #[arg(long)]
    pub force_conflicts: bool,
}

impl DeployArgs {
    pub fn run(&self) -> anyhow::Result<Outcome> {
        if self.fleet.is_some() || self.cluster.context.len() > 1 {
            return self.run_fleet();
        }
        if self.dry_run == DryRun::Client {
            return RenderArgs {
                plan: self.plan.clone(),
                output: self.output,
                show_secrets: self.show_secrets,
                out_dir: None,
                fleet: None,
                secrets: SecretsArg::File,
                secret_store: None,
                secret_store_kind: StoreKindArg::ClusterSecretStore,
                force: false,
            }
            .run();
        }
        let settings = self.plan.settings.resolve()?;
        let checker = self.plan.policy.checker()?;
        let request = DeployRequest {
            cert_manager: self.plan.cert_manager_for(&settings, &mut None)?,
            settings,
            plan: self.plan.options(),
            cluster: self.cluster.selection()?,
            now: OffsetDateTime::now_utc(),
        };
        let check = check_deploy(&request, &checker)?;
        for warning in &check.warnings {
            eprintln!("warning: {}", escape_output(warning));
        }
        let checked = match check.gated {
            Gated::Approved(checked) => checked,
            Gated::Refused(refusal) => return refused(&refusal, self.machine_output()),
        };
        eprint!("{}", escape_output(&checked.report().to_text()));
        let mut show = progress_printer(self.output.is_none());
        let deployed = match checked.apply(&self.apply_options(), &mut show) {
            Ok(deployed) => deployed,
            Err(error @ ClusterError::TimedOut { .. }) => {
                return Ok(Outcome {
                    stdout: String::new(),
                    stderr: Some(format!("error: {error}")),
                    status: Status::TimedOut,
                });
            }
            Err(error) => {
                return Err(error)
                    .with_context(|| format!("cannot deploy to {}", checked.server()));
            }
        };
        let display = if self.show_secrets {
            SecretDisplay::Shown
        } else {
            SecretDisplay::Redacted
        };
        let stdout = match self.output {
            None => String::new(),
            Some(format) => manifests(&deployed.applied, format, display)?,
        };
        let summary = format!(
            "{} {} objects in namespace {} on {}{}",
            if deployed.dry_run {
                "server dry run accepted"
            } else {
                "applied"
            },
            deployed.applied.objects.len(),
            request.plan.namespace,
            checked.server(),
            if deployed.not_checked.is_empty() {
                String::new()
            } else {
                format!("; {} not checked", deployed.not_checked.len())
            }
        );
        Ok(Outcome {
            stdout,
            stderr: Some(summary),
            status: Status::Success,
        })
    }
}

impl DeployArgs {
    /// How an approved deploy is carried out, as the flags say.
    pub(super) fn apply_options(&self) -> ApplyOptions {
        ApplyOptions {
            dry_run: self.dry_run == DryRun::Server,
            wait: self.wait,
            timeout: self.timeout,
            force_conflicts: self.force_conflicts,
        }
    }

    /// `-o json` or `-o yaml`: a refusal's report goes to stdout too.
    pub(super) fn machine_output(&self) -> Option<OutputFormat> {
        machine_format(self.output)
    }
}

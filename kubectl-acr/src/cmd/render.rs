//! `render`: the policy pre-check, then the manifests a deploy would apply, for GitOps.

use acr_cli::commands::config::SettingsArgs;
use acr_cli::commands::policy::{PolicyArgs, ToolIdentity, policy_gate};
use acr_cli::{Outcome, Status};
use acr_core::plan::{self, PlanOptions, SecretDisplay};
use acr_core::policy::{Operation, connected_registry_review};
use time::OffsetDateTime;

/// Manifest output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ManifestFormat {
    /// Multi-document YAML, for kubectl apply -f, Flux or Argo CD.
    Yaml,
    /// A v1 List.
    Json,
}

/// What shapes the rendered objects besides the Arc extension settings.
#[derive(Debug, Clone, clap::Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub settings: SettingsArgs,
    /// Namespace of the connected registry.
    #[arg(short = 'n', long, default_value = plan::DEFAULT_NAMESPACE)]
    pub namespace: String,
    /// Image of the trust-distribution DaemonSet.
    #[arg(long, value_name = "IMAGE", default_value = plan::DEFAULT_TRUST_IMAGE)]
    pub trust_image: String,
    /// containerd's registry configuration directory on the nodes (k3s:
    /// /var/lib/rancher/k3s/agent/etc/containerd/certs.d).
    #[arg(long, value_name = "DIR", default_value = plan::DEFAULT_CONTAINERD_CERTS_DIR)]
    pub containerd_certs_dir: String,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

impl PlanArgs {
    pub(crate) fn options(&self) -> PlanOptions {
        PlanOptions {
            namespace: self.namespace.clone(),
            trust_distribution_image: self.trust_image.clone(),
            containerd_certs_dir: self.containerd_certs_dir.clone(),
        }
    }
}

/// Arguments of `render`.
#[derive(Debug, Clone, clap::Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Output format of the manifests.
    #[arg(short = 'o', long = "output", value_enum, default_value = "yaml")]
    pub output: ManifestFormat,
    /// Print Secret values instead of redacting them (needed to apply the output as is).
    #[arg(long)]
    pub show_secrets: bool,
}

impl RenderArgs {
    /// Policy verdicts go to stderr, manifests to stdout; a denial prints no manifests.
    pub fn run(&self, tool: ToolIdentity) -> anyhow::Result<Outcome> {
        let settings = self.plan.settings.resolve()?;
        let review = connected_registry_review(
            &settings,
            &self.plan.namespace,
            Operation::Deploy,
            OffsetDateTime::now_utc(),
        )?;
        let verdicts = match policy_gate(&self.plan.policy.checker()?.check(&review), tool)? {
            Ok(verdicts) => verdicts,
            Err(refused) => return Ok(refused),
        };
        let rendered = plan::render(&settings, &self.plan.options())?;
        let display = if self.show_secrets {
            SecretDisplay::Shown
        } else {
            SecretDisplay::Redacted
        };
        let stdout = match self.output {
            ManifestFormat::Yaml => rendered.to_yaml(display),
            ManifestFormat::Json => {
                let mut json = serde_json::to_string_pretty(&rendered.to_json(display))?;
                json.push('\n');
                json
            }
        };
        Ok(Outcome {
            stdout,
            stderr: Some(verdicts.trim_end().to_owned()),
            status: Status::Success,
        })
    }
}

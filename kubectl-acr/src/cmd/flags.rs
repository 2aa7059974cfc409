//! The flag groups kubectl-acr's verbs share: which cluster (or fleet), the dry-run modes, what
//! shapes a plan, and the manifest output formats.

use acr_cli::OutputFormat;
use acr_cli::commands::config::SettingsArgs;
use acr_cli::commands::policy::PolicyArgs;
use acr_core::cluster::{
    CERT_MANAGER_RELEASE_URL, CertManagerManifests, Cluster, KubeconfigSelection,
};
use acr_core::fleet::Fleet;
use acr_core::plan::{self, PlanOptions};
use acr_core::settings::{ConnectedRegistrySettings, TlsSource};
use acr_io::InputKind;
use anyhow::Context as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// `--dry-run` modes, as kubectl has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DryRun {
    /// Apply for real.
    None,
    /// Send no request at all: check the policies and print the manifests, as `render` does.
    Client,
    /// The API server checks every object (admission included) and stores nothing.
    Server,
}

/// Which cluster to talk to.
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterArgs {
    /// The kubeconfig file (default: the files listed in KUBECONFIG, else ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: the current context). deploy takes it more than once
    /// to deploy to each of those clusters (a fleet).
    #[arg(long, value_name = "NAME")]
    pub context: Vec<String>,
}

impl ClusterArgs {
    /// The one cluster the flags name.
    pub fn selection(&self) -> anyhow::Result<KubeconfigSelection> {
        anyhow::ensure!(
            self.context.len() <= 1,
            "this command acts on one cluster: give --context once (deploy takes several)"
        );
        Ok(KubeconfigSelection {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.first().cloned(),
        })
    }

    /// Connects as the flags say (no request is sent yet).
    pub fn connect(&self) -> anyhow::Result<Cluster> {
        Ok(Cluster::connect(&self.selection()?)?)
    }
}

/// Manifest output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ManifestFormat {
    /// Multi-document YAML, for kubectl apply -f, Flux or Argo CD.
    Yaml,
    /// A v1 List.
    Json,
    /// `kind.group/name` of each object, as `kubectl ... -o name` prints.
    Name,
}

/// The machine-readable output format a manifest format stands for, if any.
pub(crate) fn machine_format(format: Option<ManifestFormat>) -> Option<OutputFormat> {
    match format? {
        ManifestFormat::Json => Some(OutputFormat::Json),
        ManifestFormat::Yaml => Some(OutputFormat::Yaml),
        ManifestFormat::Name => None,
    }
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
    /// cert-manager's release manifests (cert-manager.yaml) for cert-manager.install=true on
    /// air-gapped clusters; without it the pinned release is downloaded and its SHA-256 checked.
    #[arg(long, value_name = "FILE")]
    pub cert_manager_manifests: Option<PathBuf>,
}

impl PlanArgs {
    pub(crate) fn options(&self) -> PlanOptions {
        PlanOptions {
            namespace: self.namespace.clone(),
            trust_distribution_image: self.trust_image.clone(),
            containerd_certs_dir: self.containerd_certs_dir.clone(),
        }
    }

    /// cert-manager's release manifests when `settings` install cert-manager: read once per
    /// command into `cache`, however many clusters ask.
    pub(crate) fn cert_manager_for(
        &self,
        settings: &ConnectedRegistrySettings,
        cache: &mut Option<Arc<CertManagerManifests>>,
    ) -> anyhow::Result<Option<Arc<CertManagerManifests>>> {
        if !matches!(settings.tls_source, TlsSource::CertManagerInstall) {
            return Ok(None);
        }
        if cache.is_none() {
            *cache = Some(Arc::new(self.cert_manager_manifests()?));
        }
        Ok(cache.clone())
    }

    /// cert-manager's release manifests: the file given, else the pinned release downloaded.
    pub(crate) fn cert_manager_manifests(&self) -> anyhow::Result<CertManagerManifests> {
        match &self.cert_manager_manifests {
            Some(path) => {
                let bytes = acr_io::read(path, acr_io::InputKind::Manifests)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                acr_io::check_nesting(&bytes)
                    .with_context(|| format!("{} is not valid YAML", path.display()))?;
                Ok(CertManagerManifests::parse(
                    &path.display().to_string(),
                    &bytes,
                )?)
            }
            None => CertManagerManifests::pinned_release(
                self.policy.store_dir().as_deref(),
                self.policy.bundle.is_some(),
            )
            .with_context(|| {
                format!(
                    "cert-manager.install=true needs cert-manager's manifests; on a cluster \
                     without internet access download {CERT_MANAGER_RELEASE_URL} elsewhere and \
                     pass it with --cert-manager-manifests FILE"
                )
            }),
        }
    }
}

/// The fleet a command names: the `--fleet` file, or several `--context`; `None` for one cluster.
pub(crate) fn fleet_of(file: Option<&Path>, contexts: &[String]) -> anyhow::Result<Option<Fleet>> {
    match file {
        Some(path) => {
            anyhow::ensure!(
                contexts.is_empty(),
                "give the clusters either in --fleet or with --context, not both"
            );
            let bytes = acr_io::read(path, InputKind::Settings)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Ok(Some(Fleet::parse(path, &bytes)?))
        }
        None if contexts.len() > 1 => Ok(Some(Fleet::of_contexts(contexts)?)),
        None => Ok(None),
    }
}

//! `render`: the policy pre-check, then the manifests a deploy would apply, for GitOps: printed,
//! or written as a kustomize-ready folder (`--out-dir`).

use super::flags::{ManifestFormat, PlanArgs, machine_format};
use super::print::manifests;
use acr_cli::commands::policy::refused;
use acr_cli::{Outcome, Status};
use acr_core::cluster::{CERT_MANAGER_VERSION, CertManagerManifests};
use acr_core::fsio::Overwrite;
use acr_core::operations::{ApprovedFolder, Gated, RenderRequest, Rendered, render};
use acr_core::plan::{SecretDisplay, SecretForm, StoreKind};
use acr_core::policy::ReportFormats as _;
use acr_core::settings::{ConnectedRegistrySettings, TlsSource};
use anyhow::Context as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use time::OffsetDateTime;

/// Arguments of `render`.
#[derive(Debug, Clone, clap::Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Output format of the manifests: yaml when not given, json or name. Given as json or
    /// yaml, a policy refusal also prints its report on stdout in that format.
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<ManifestFormat>,
    /// Print Secret values instead of redacting them (needed to apply the output as is).
    #[arg(long, conflicts_with = "out_dir")]
    pub show_secrets: bool,
    /// Write a kustomize-ready folder instead of printing: one file per object, a
    /// kustomization.yaml, cert-manager's release as its own layer when the method installs it,
    /// and Secrets as --secrets says.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// How --out-dir writes Secrets: file (with their values, mode 0600, listed in the
    /// .gitignore written beside them) or external-secret (an ExternalSecret reading the values
    /// from --secret-store; no value on disk).
    #[arg(
        long,
        value_enum,
        value_name = "FORM",
        default_value = "file",
        requires = "out_dir"
    )]
    pub secrets: SecretsArg,
    /// The External Secrets Operator store the ExternalSecrets read from.
    #[arg(
        long,
        value_name = "NAME",
        required_if_eq("secrets", "external-secret")
    )]
    pub secret_store: Option<String>,
    /// Whether --secret-store names a ClusterSecretStore or a namespaced SecretStore.
    #[arg(
        long,
        value_enum,
        value_name = "KIND",
        default_value = "cluster-secret-store"
    )]
    pub secret_store_kind: StoreKindArg,
    /// Render every cluster of this fleet file (see deploy --fleet) with its own settings into
    /// --out-dir/<cluster>; every cluster's policies pass before any folder is written.
    #[arg(long, value_name = "FILE", requires = "out_dir")]
    pub fleet: Option<PathBuf>,
    /// Replace files of an earlier render in --out-dir.
    #[arg(long, requires = "out_dir")]
    pub force: bool,
}

/// How `render --out-dir` writes Secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SecretsArg {
    File,
    ExternalSecret,
}

/// The kind of External Secrets Operator store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StoreKindArg {
    ClusterSecretStore,
    SecretStore,
}

impl RenderArgs {
    /// Policy verdicts go to stderr, manifests to stdout; a denial prints no manifests.
    pub fn run(&self) -> anyhow::Result<Outcome> {
        if let (Some(fleet), Some(dir)) = (
            super::flags::fleet_of(self.fleet.as_deref(), &[])?,
            &self.out_dir,
        ) {
            return self.run_fleet(&fleet, dir);
        }
        let request = RenderRequest {
            settings: self.plan.settings.resolve()?,
            plan: self.plan.options(),
            now: OffsetDateTime::now_utc(),
        };
        let rendered = match render(&request, &self.plan.policy.checker()?)? {
            Gated::Approved(rendered) => rendered,
            Gated::Refused(refusal) => return refused(&refusal, machine_format(self.output)),
        };
        let verdicts = rendered.report().to_text();
        let settings = &request.settings;
        if let Some(dir) = &self.out_dir {
            return self.write_folder(dir, settings, rendered, verdicts);
        }
        let mut stderr = verdicts.trim_end().to_owned();
        if matches!(settings.tls_source, TlsSource::CertManagerInstall) {
            stderr.push_str(&format!(
                "\nnote: with cert-manager.install=true deploy also installs cert-manager \
                 {CERT_MANAGER_VERSION}, which this output leaves out; render --out-dir adds it \
                 as its own layer"
            ));
        }
        let display = if self.show_secrets {
            SecretDisplay::Shown
        } else {
            SecretDisplay::Redacted
        };
        let stdout = manifests(
            rendered.plan(),
            self.output.unwrap_or(ManifestFormat::Yaml),
            display,
        )?;
        Ok(Outcome {
            stdout,
            stderr: Some(stderr.trim_start().to_owned()),
            status: Status::Success,
        })
    }

    /// The GitOps folder of a plan, cert-manager's release as its layer when the method
    /// installs it.
    pub(super) fn folder(
        &self,
        settings: &ConnectedRegistrySettings,
        rendered: Rendered,
        cert_manager_cache: &mut Option<Arc<CertManagerManifests>>,
    ) -> anyhow::Result<ApprovedFolder> {
        let cert_manager = self.plan.cert_manager_for(settings, cert_manager_cache)?;
        Ok(rendered.into_folder(
            cert_manager
                .as_ref()
                .map(|manifests| manifests.objects.as_slice()),
            &self.secret_form(),
        ))
    }

    fn secret_form(&self) -> SecretForm {
        match (self.secrets, &self.secret_store) {
            (SecretsArg::ExternalSecret, Some(store)) => SecretForm::ExternalSecret {
                store: store.clone(),
                store_kind: match self.secret_store_kind {
                    StoreKindArg::ClusterSecretStore => StoreKind::ClusterSecretStore,
                    StoreKindArg::SecretStore => StoreKind::SecretStore,
                },
            },
            _ => SecretForm::File,
        }
    }

    pub(super) fn overwrite(&self) -> Overwrite {
        if self.force {
            Overwrite::Replace
        } else {
            Overwrite::Refuse
        }
    }

    /// `--out-dir`: the folder written all or nothing; its files listed on stdout, what to do
    /// about Secrets on stderr.
    fn write_folder(
        &self,
        dir: &Path,
        settings: &ConnectedRegistrySettings,
        rendered: Rendered,
        verdicts: String,
    ) -> anyhow::Result<Outcome> {
        let approved = self.folder(settings, rendered, &mut None)?;
        let secrets = self.secret_form();
        approved
            .write(dir, self.overwrite())
            .with_context(|| format!("cannot write the folder {}", dir.display()))?;
        let folder = approved.folder();
        let stdout: String = folder
            .files
            .iter()
            .map(|file| format!("{}\n", dir.join(&file.path).display()))
            .collect();
        let mut stderr = verdicts.trim_end().to_owned();
        let secret_files: Vec<String> = folder
            .secret_files()
            .map(|path| path.display().to_string())
            .collect();
        if !secret_files.is_empty() {
            stderr.push_str(&format!(
                "\nSecret values are in {} (mode 0600, listed in {}): keep them out of git",
                secret_files.join(", "),
                dir.join(".gitignore").display()
            ));
        }
        if let SecretForm::ExternalSecret { store, .. } = &secrets {
            for key in &folder.remote_keys {
                stderr.push_str(&format!(
                    "\ncreate {} in the secret store {store}: the {} of Secret {}",
                    key.remote_key, key.key, key.secret
                ));
            }
        }
        Ok(Outcome {
            stdout,
            stderr: Some(stderr.trim_start().to_owned()),
            status: Status::Success,
        })
    }
}

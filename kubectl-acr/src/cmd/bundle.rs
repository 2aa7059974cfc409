//! `bundle save` and `bundle verify`: the air-gap bundle of `acr_core::bundle`.

use acr_cli::{Outcome, OutputFormat, render};
use acr_core::bundle::{self, BundleManifest, RegistryMirrors, SaveRequest};
use acr_core::cluster::CertManagerRelease;
use acr_core::plan;
use acr_core::policy::sources::SourceOptions;
use acr_core::settings::DEFAULT_REGISTRY_IMAGE;
use anyhow::Context as _;
use std::path::PathBuf;

/// Air-gap bundles.
#[derive(Debug, clap::Subcommand)]
pub enum BundleCommand {
    /// Save what a disconnected site needs into a folder: the remote policy modules a policy set
    /// names, cert-manager's pinned manifests, the list of images to copy pinned by digest, with
    /// checksums. Artefacts already in the user's store are taken from there.
    Save(SaveArgs),
    /// Check every file of a bundle against its checksum, and images.txt's form.
    Verify(VerifyArgs),
}

/// Arguments of `bundle save`.
#[derive(Debug, clap::Args)]
pub struct SaveArgs {
    /// The bundle folder (created 0700 if missing; saving again adds to it).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// A policy set whose https and OCI modules are saved.
    #[arg(long, value_name = "FILE")]
    pub policy_set: Option<PathBuf>,
    /// Leave out cert-manager's manifests (for cert-manager.install=false).
    #[arg(long)]
    pub no_cert_manager: bool,
    /// PEM CA certificates to trust, besides the system trust store, for the downloads.
    #[arg(long, value_name = "FILE", env = "ACR_POLICY_CA_FILE")]
    pub ca_file: Option<PathBuf>,
    /// Talk to registries (OCI policy modules, image digests) in plain HTTP, without TLS (only
    /// on a network you trust).
    #[arg(long)]
    pub insecure_http: bool,
    /// Resolve the digests of REGISTRY's images at a mirror that keeps them (a pull-through
    /// cache, or a copy made with `skopeo copy --all`); images.txt still names REGISTRY.
    /// Repeatable. Every image must resolve, or images.txt and bundle.json are not written.
    #[arg(long = "registry-mirror", value_name = "REGISTRY=HOST[:PORT]")]
    pub registry_mirrors: Vec<String>,
    /// The connected registry's image, when deploy and render are given `--config
    /// container.image=IMAGE`.
    #[arg(long, value_name = "IMAGE", default_value = DEFAULT_REGISTRY_IMAGE)]
    pub registry_image: String,
    /// The trust-distribution DaemonSet's image, when deploy and render are given
    /// `--trust-image IMAGE`.
    #[arg(long, value_name = "IMAGE", default_value = plan::DEFAULT_TRUST_IMAGE)]
    pub trust_image: String,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<OutputFormat>,
}

/// Arguments of `bundle verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The bundle folder.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<OutputFormat>,
}

impl BundleCommand {
    pub fn run(&self) -> anyhow::Result<Outcome> {
        match self {
            Self::Save(args) => {
                let registry_mirrors =
                    RegistryMirrors::parse(args.registry_mirrors.iter().map(String::as_str))?;
                acr_core::fsio::create_private_dir(&args.out)
                    .with_context(|| format!("cannot create {}", args.out.display()))?;
                let manifest = bundle::save(&SaveRequest {
                    out: args.out.clone(),
                    policy_set: args.policy_set.clone(),
                    cert_manager: (!args.no_cert_manager).then(CertManagerRelease::pinned),
                    sources: SourceOptions {
                        seed_store_dir: acr_core::policy::default_store_dir(),
                        ca_file: args.ca_file.clone(),
                        insecure_http: args.insecure_http,
                        ..SourceOptions::default()
                    },
                    registry_mirrors,
                    registry_image: args.registry_image.clone(),
                    trust_image: args.trust_image.clone(),
                })
                .with_context(|| format!("cannot save the bundle {}", args.out.display()))?;
                print(&manifest, args.output)
            }
            Self::Verify(args) => {
                let manifest = bundle::verify(&args.dir)
                    .with_context(|| format!("{} is not a good bundle", args.dir.display()))?;
                print(&manifest, args.output)
            }
        }
    }
}

fn print(manifest: &BundleManifest, format: Option<OutputFormat>) -> anyhow::Result<Outcome> {
    let stdout = render(manifest, format.unwrap_or(OutputFormat::Text), |manifest| {
        let mut text = String::new();
        for file in &manifest.files {
            text.push_str(&format!("{}  {}\n", file.sha256, file.path));
        }
        for image in &manifest.images {
            text.push_str(&format!("{}  {}\n", image.digest, image.image));
        }
        text
    })?;
    Ok(Outcome::success(stdout))
}

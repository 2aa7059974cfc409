//! `custom-domain prepare`: check the certificate for an ACR custom domain, run the policies,
//! write one PEM per domain and print the plan of the remaining steps.

use acr_cli::commands::policy::{PolicyArgs, approval_warnings, refused};
use acr_cli::commands::{InputKind, parse_time, read_input, time_or_now};
use acr_cli::{Outcome, OutputFormat, Status, render};
use acr_core::custom_domain::{
    CertificateSource, CustomDomains, IdentityOptions, InputFile, KeyVaultSecretId, Plan,
};
use acr_core::fsio::Overwrite;
use acr_core::operations::{CustomDomainRequest, Gated, prepare_custom_domain};
use acr_core::policy::DecisionKind;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// Custom domain commands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum CustomDomainCommand {
    /// Check the certificate for the registry and data domains, run the policies, write one PEM
    /// per domain (key, certificate, chain; 0600) and print the DNS, Key Vault, identity and
    /// support request steps. Exit 3 when a policy denies; nothing is written then.
    Prepare(Box<PrepareArgs>),
}

impl CustomDomainCommand {
    pub fn run(&self, default_format: OutputFormat) -> anyhow::Result<Outcome> {
        match self {
            CustomDomainCommand::Prepare(args) => args.run(default_format),
        }
    }
}

/// Arguments of `custom-domain prepare`.
#[derive(Debug, Clone, clap::Args)]
#[command(group = clap::ArgGroup::new("certificate").required(true).args(["cert", "self_signed"]))]
pub struct PrepareArgs {
    /// The registry name (contoso for contoso.azurecr.io).
    #[arg(long, value_name = "NAME")]
    pub registry: String,
    /// The custom domain of the registry (its login server), e.g. registry.contoso.com.
    #[arg(long, value_name = "FQDN")]
    pub registry_domain: String,
    /// The custom domain of a region's data endpoint as REGION=FQDN (repeatable),
    /// e.g. eastus=eastus.data.contoso.com.
    #[arg(long = "data-domain", value_name = "REGION=FQDN")]
    pub data_domains: Vec<String>,
    /// The private key (PEM) of the certificate; leave it out when --cert is a bundle holding
    /// the key first.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// The serving certificate (PEM), optionally followed by its chain; or a bundle: the key,
    /// then the certificate, then its chain. One certificate covers every domain.
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// Intermediate CA certificates (PEM), each followed by its issuer.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub chain: Option<PathBuf>,
    /// A private root CA (PEM) the chain must lead to; it is not written. Without it the chain
    /// must end at a self-signed root or below a publicly trusted root.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub ca: Option<PathBuf>,
    /// Generate a CA and a certificate for every domain instead: for testing only.
    #[arg(long)]
    pub self_signed: bool,
    /// Directory to write <fqdn>.pem into, one per domain.
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// The Key Vault secret that will hold the certificate: unversioned
    /// (https://V.vault.azure.net/secrets/N) rotates automatically, versioned (.../N/VERSION) does not.
    #[arg(long, value_name = "URI", value_parser = parse_secret_id)]
    pub key_vault_secret_id: Option<KeyVaultSecretId>,
    /// Resource group of the managed identity, for the commands in the plan.
    #[arg(long, value_name = "NAME")]
    pub resource_group: Option<String>,
    /// Name of the user-assigned managed identity the registry reads the secret with
    /// (default: <registry>-custom-domain).
    #[arg(long, value_name = "NAME")]
    pub identity: Option<String>,
    /// Replace existing PEM files.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Check certificate validity at this time instead of now (RFC 3339 or YYYY-MM-DD).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: Option<OffsetDateTime>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<OutputFormat>,
}

fn parse_secret_id(value: &str) -> Result<KeyVaultSecretId, String> {
    value
        .parse()
        .map_err(|error: acr_core::custom_domain::CustomDomainError| error.to_string())
}

/// The plan and the policies' decision.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Prepared {
    #[serde(flatten)]
    plan: Plan,
    policy_decision: DecisionKind,
}

fn input_file(path: &Path, kind: InputKind) -> anyhow::Result<InputFile> {
    Ok(InputFile {
        name: path.display().to_string(),
        bytes: read_input(path, kind)?,
    })
}

impl PrepareArgs {
    fn domains(&self) -> anyhow::Result<CustomDomains> {
        let data_domains = self
            .data_domains
            .iter()
            .map(|argument| match argument.split_once('=') {
                Some((region, fqdn)) => Ok((region.to_owned(), fqdn.to_owned())),
                None => anyhow::bail!("--data-domain expects REGION=FQDN, got `{argument}`"),
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(CustomDomains::new(
            &self.registry,
            &self.registry_domain,
            &data_domains,
        )?)
    }

    fn source(&self) -> anyhow::Result<CertificateSource> {
        let Some(cert) = &self.cert else {
            return Ok(CertificateSource::SelfSigned);
        };
        let optional = |path: &Option<PathBuf>, kind| {
            path.as_deref()
                .map(|path| input_file(path, kind))
                .transpose()
        };
        Ok(CertificateSource::Files {
            key: optional(&self.key, InputKind::PrivateKey)?,
            cert: input_file(cert, InputKind::Certificate)?,
            chain: optional(&self.chain, InputKind::Certificate)?,
            ca: optional(&self.ca, InputKind::Certificate)?,
        })
    }

    fn run(&self, default_format: OutputFormat) -> anyhow::Result<Outcome> {
        let format = self.output.unwrap_or(default_format);
        let request = CustomDomainRequest {
            domains: self.domains()?,
            certificate: self.source()?,
            out_dir: self.out_dir.clone(),
            overwrite: if self.force {
                Overwrite::Replace
            } else {
                Overwrite::Refuse
            },
            key_vault_secret_id: self.key_vault_secret_id.clone(),
            identity: IdentityOptions {
                resource_group: self.resource_group.clone(),
                identity: self.identity.clone(),
            },
            now: time_or_now(self.at),
        };
        let prepared = match prepare_custom_domain(&request, &self.policy.checker()?)? {
            Gated::Approved(prepared) => prepared,
            Gated::Refused(refusal) => return refused(&refusal, Some(format)),
        };
        let mut warnings: Vec<String> = prepared
            .plan
            .warnings
            .iter()
            .map(|warning| format!("warning: {warning}"))
            .collect();
        warnings.extend(approval_warnings(prepared.report()));
        let shown = Prepared {
            policy_decision: prepared.report().decision,
            plan: prepared.plan,
        };
        let stdout = render(&shown, format, |shown| plan_text(&shown.plan))?;
        Ok(Outcome {
            stdout,
            stderr: (!warnings.is_empty()).then(|| warnings.join("\n")),
            status: Status::Success,
        })
    }
}

fn plan_text(plan: &Plan) -> String {
    let mut text = String::new();
    if plan.testing_only {
        text.push_str("FOR TESTING ONLY: a self-signed certificate no client trusts.\n");
    }
    let _ = writeln!(
        text,
        "Certificate: {} (issued by {}, valid until {})",
        plan.certificate.subject, plan.certificate.issuer, plan.certificate.not_after
    );
    for domain in &plan.domains {
        let _ = writeln!(
            text,
            "{}: wrote {}; CNAME {} -> {}",
            domain.domain,
            domain.pem_file.display(),
            domain.cname.name,
            domain.cname.target
        );
    }
    let _ = writeln!(
        text,
        "Key Vault secret: {} ({})",
        plan.key_vault.secret_id, plan.key_vault.rotation_consequence
    );
    text.push_str("Next steps:\n");
    for (number, step) in plan.steps.iter().enumerate() {
        let _ = writeln!(text, "{}. {}", number + 1, step.title);
        if let Some(command) = &step.command {
            let _ = writeln!(text, "   {command}");
        }
    }
    text
}

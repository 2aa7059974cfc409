//! `cert generate`, `cert inspect` and `cert verify`.

use super::{InputKind, parse_time, read_input, time_or_now};
use crate::{Outcome, OutputFormat, Status, render};
use acr_core::fsio::Overwrite;
use acr_core::tls::{self, CertificateAuthority, CertificateInfo, GenerateOptions, KeyType};
use anyhow::Context as _;
use serde::Serialize;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Certificate commands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum CertCommand {
    /// Generate a CA and a serving certificate, or a serving certificate signed by your CA.
    Generate(GenerateArgs),
    /// Show what a certificate, bundle, base64 value or Kubernetes Secret holds (never private keys).
    Inspect(InspectArgs),
    /// Check a serving certificate: key match, chain, CA flags, validity, SANs. Exit 1 on any failure.
    Verify(VerifyArgs),
}

impl CertCommand {
    pub fn run(&self, default_format: OutputFormat) -> anyhow::Result<Outcome> {
        match self {
            CertCommand::Generate(args) => args.run(default_format),
            CertCommand::Inspect(args) => args.run(default_format),
            CertCommand::Verify(args) => args.run(default_format),
        }
    }
}

/// Key types for `--key-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyTypeArg {
    P256,
    P384,
    Rsa2048,
    Rsa3072,
    Rsa4096,
}

impl From<KeyTypeArg> for KeyType {
    fn from(arg: KeyTypeArg) -> Self {
        match arg {
            KeyTypeArg::P256 => KeyType::EcdsaP256,
            KeyTypeArg::P384 => KeyType::EcdsaP384,
            KeyTypeArg::Rsa2048 => KeyType::Rsa2048,
            KeyTypeArg::Rsa3072 => KeyType::Rsa3072,
            KeyTypeArg::Rsa4096 => KeyType::Rsa4096,
        }
    }
}

/// Arguments of `cert generate`.
#[derive(Debug, Clone, clap::Args)]
#[command(group = clap::ArgGroup::new("names").required(true).multiple(true).args(["ip", "dns"]))]
pub struct GenerateArgs {
    /// An IP address the certificate is for (repeatable), e.g. the registry's service.clusterIP.
    #[arg(long, value_name = "IP")]
    pub ip: Vec<IpAddr>,
    /// A DNS name the certificate is for (repeatable); `*.example.com` covers one label.
    #[arg(long, value_name = "NAME")]
    pub dns: Vec<String>,
    /// Key type of the new keys.
    #[arg(long, value_enum, default_value = "p256")]
    pub key_type: KeyTypeArg,
    /// Validity of the serving certificate, in days.
    #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub days: u32,
    /// Validity of a newly generated CA, in days.
    #[arg(long, default_value_t = 3650, value_parser = clap::value_parser!(u32).range(1..=36500))]
    pub ca_days: u32,
    /// Sign with this CA certificate (PEM) instead of generating a CA; needs --ca-key.
    #[arg(long, value_name = "FILE", requires = "ca_key")]
    pub ca_cert: Option<PathBuf>,
    /// The private key (PEM) of --ca-cert.
    #[arg(long, value_name = "FILE", requires = "ca_cert")]
    pub ca_key: Option<PathBuf>,
    /// Organization (O) in the certificate subjects.
    #[arg(long, value_name = "NAME")]
    pub org: Option<String>,
    /// Common name (CN) of the serving certificate; defaults to the first DNS name or IP.
    #[arg(long, value_name = "NAME")]
    pub cn: Option<String>,
    /// Directory for ca.crt, ca.key (new CA only), tls.crt and tls.key.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out_dir: PathBuf,
    /// Replace existing files instead of refusing.
    #[arg(long)]
    pub force: bool,
    /// Output format of the summary.
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<OutputFormat>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct GenerateSummary {
    files: Vec<PathBuf>,
    key_type: String,
    validity_days: u32,
    certificate: CertificateInfo,
    ca: CertificateInfo,
    ca_generated: bool,
}

impl GenerateArgs {
    fn run(&self, default_format: OutputFormat) -> anyhow::Result<Outcome> {
        let now = OffsetDateTime::now_utc();
        let mut options = GenerateOptions::new(now);
        options.ips = self.ip.clone();
        options.dns_names = self.dns.clone();
        options.key_type = self.key_type.into();
        options.leaf_validity_days = self.days;
        options.ca_validity_days = self.ca_days;
        if let Some(org) = &self.org {
            options.organization = org.clone();
        }
        options.common_name = self.cn.clone();

        let ca = match (&self.ca_cert, &self.ca_key) {
            (Some(cert_path), Some(key_path)) => Some(load_ca(cert_path, key_path)?),
            _ => None,
        };
        let bundle = tls::generate(&options, ca.as_ref())?;
        let overwrite = if self.force {
            Overwrite::Replace
        } else {
            Overwrite::Refuse
        };
        let files = tls::write_bundle(&bundle, &self.out_dir, overwrite)?;

        let leaf_der = pem_certificate_der(&bundle.leaf.cert_pem)?;
        let ca_der = pem_certificate_der(&bundle.ca_cert_pem)?;
        let summary = GenerateSummary {
            files,
            key_type: options.key_type.to_string(),
            validity_days: self.days,
            certificate: tls::describe(&leaf_der, now)?,
            ca: tls::describe(&ca_der, now)?,
            ca_generated: bundle.ca.is_some(),
        };
        let stdout = render(
            &summary,
            self.output.unwrap_or(default_format),
            generate_text,
        )?;
        Ok(Outcome::success(stdout))
    }
}

fn load_ca(cert_path: &Path, key_path: &Path) -> anyhow::Result<CertificateAuthority> {
    let cert = read_input(cert_path, InputKind::Certificate)?;
    let key = read_input(key_path, InputKind::PrivateKey)?;
    let cert = String::from_utf8(cert)
        .with_context(|| format!("{} is not PEM text", cert_path.display()))?;
    let key = String::from_utf8(key)
        .with_context(|| format!("{} is not PEM text", key_path.display()))?;
    CertificateAuthority::from_pem(&cert, &key).with_context(|| {
        format!(
            "cannot use {} and {} as the signing CA",
            cert_path.display(),
            key_path.display()
        )
    })
}

fn pem_certificate_der(pem_text: &str) -> anyhow::Result<Vec<u8>> {
    let loaded = tls::load_certificates(pem_text.as_bytes())?;
    loaded
        .certificates
        .into_iter()
        .next()
        .map(|certificate| certificate.der)
        .context("generated PEM holds no certificate")
}

fn format_time(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

fn generate_text(summary: &GenerateSummary) -> String {
    let leaf = &summary.certificate;
    let mut text = String::new();
    let sans: Vec<String> = leaf
        .subject_alt_names
        .ip
        .iter()
        .map(|ip| format!("IP:{ip}"))
        .chain(
            leaf.subject_alt_names
                .dns
                .iter()
                .map(|dns| format!("DNS:{dns}")),
        )
        .collect();
    let _ = writeln!(text, "Serving certificate: {}", leaf.subject);
    let _ = writeln!(text, "  names:      {}", sans.join(", "));
    let _ = writeln!(text, "  key:        {}", leaf.public_key.description);
    let _ = writeln!(
        text,
        "  valid:      {} until {} ({} days)",
        format_time(leaf.not_before),
        format_time(leaf.not_after),
        summary.validity_days
    );
    let _ = writeln!(
        text,
        "Signed by:   {}{}",
        summary.ca.subject,
        if summary.ca_generated {
            format!(
                " (new CA, valid until {})",
                format_time(summary.ca.not_after)
            )
        } else {
            String::new()
        }
    );
    text.push_str("Wrote:\n");
    for file in &summary.files {
        let _ = writeln!(text, "  {}", file.display());
    }
    text
}

/// Arguments of `cert inspect`.
#[derive(Debug, Clone, clap::Args)]
pub struct InspectArgs {
    /// A PEM or DER certificate or bundle, a base64 value from protected settings, a protected
    /// settings JSON file, or a Kubernetes Secret manifest (YAML or JSON); `-` reads stdin.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Compute days left and expiry at this time instead of now (RFC 3339 or YYYY-MM-DD).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: Option<OffsetDateTime>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<OutputFormat>,
}

impl InspectArgs {
    fn run(&self, default_format: OutputFormat) -> anyhow::Result<Outcome> {
        let input = read_input(&self.file, InputKind::Certificate)?;
        let report = tls::inspect(&input, time_or_now(self.at))
            .with_context(|| format!("cannot inspect {}", self.file.display()))?;
        let stdout = render(
            &report,
            self.output.unwrap_or(default_format),
            tls::InspectReport::to_text,
        )?;
        Ok(Outcome::success(stdout))
    }
}

/// Arguments of `cert verify`.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    /// The serving certificate, optionally followed by its intermediates (leaf first).
    #[arg(long, value_name = "FILE")]
    pub cert: PathBuf,
    /// The private key that must match the certificate (PEM).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// The CA certificate(s) the chain must lead to.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// An IP address the certificate must cover (repeatable).
    #[arg(long, value_name = "IP")]
    pub ip: Vec<IpAddr>,
    /// A DNS name the certificate must cover (repeatable).
    #[arg(long, value_name = "NAME")]
    pub dns: Vec<String>,
    /// Check validity at this time instead of now (RFC 3339 or YYYY-MM-DD).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: Option<OffsetDateTime>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<OutputFormat>,
}

impl VerifyArgs {
    fn run(&self, default_format: OutputFormat) -> anyhow::Result<Outcome> {
        let chain = tls::load_certificates(&read_input(&self.cert, InputKind::Certificate)?)
            .with_context(|| format!("cannot read certificates from {}", self.cert.display()))?
            .certificates;
        let private_key = match &self.key {
            Some(path) => Some(
                tls::load_private_key(&read_input(path, InputKind::PrivateKey)?).with_context(
                    || format!("cannot read the private key in {}", path.display()),
                )?,
            ),
            None => None,
        };
        let trust_anchors = match &self.ca {
            Some(path) => {
                tls::load_certificates(&read_input(path, InputKind::Certificate)?)
                    .with_context(|| {
                        format!("cannot read CA certificates from {}", path.display())
                    })?
                    .certificates
            }
            None => Vec::new(),
        };
        let request = tls::VerifyRequest {
            chain,
            private_key,
            trust_anchors,
            ips: self.ip.clone(),
            dns_names: self.dns.clone(),
            now: time_or_now(self.at),
        };
        let report = tls::verify(&request);
        let stdout = render(
            &report,
            self.output.unwrap_or(default_format),
            tls::VerifyReport::to_text,
        )?;
        if report.passed() {
            return Ok(Outcome::success(stdout));
        }
        let failed = report.failures().count();
        Ok(Outcome {
            stdout,
            stderr: Some(format!(
                "error: {} failed verification: {failed} check{} failed",
                self.cert.display(),
                if failed == 1 { "" } else { "s" }
            )),
            status: Status::CheckFailed,
        })
    }
}

//! `connected-registry protected-settings`: write the Arc extension's protected settings file
//! from a connection string and your certificate or an existing Secret's name, once the
//! policies allowed what it holds.

use acr_cli::commands::policy::{PolicyArgs, approval_warnings, refused};
use acr_cli::commands::{InputKind, parse_time, read_input, time_or_now};
use acr_cli::{Outcome, OutputFormat, Status, render};
use acr_core::fsio::Overwrite;
use acr_core::operations::{Gated, ProtectedSettingsRequest, write_protected_settings};
use acr_core::secret::SecretString;
use acr_core::settings::protected_write::{ProtectedSettingsSummary, ProtectedTlsInput};
use anyhow::Context as _;
use std::path::PathBuf;
use time::OffsetDateTime;

/// Arguments of `connected-registry protected-settings`.
#[derive(Debug, Clone, clap::Args)]
#[command(group = clap::ArgGroup::new("tls").required(true).args(["cert", "secret"]))]
pub struct ProtectedSettingsArgs {
    /// A file holding the connection string, as `az acr connected-registry get-settings`
    /// prints it (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    pub connection_string_file: PathBuf,
    /// Your serving certificate (PEM, optionally followed by its chain): written as tls.crt.
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// The certificate's private key (PEM): written as tls.key; it must match --cert.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// The CA certificate clients trust (PEM): written as tls.cacrt.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub ca: Option<PathBuf>,
    /// The name of an existing kubernetes.io/tls Secret instead: written as tls.secret.
    #[arg(long, value_name = "NAME")]
    pub secret: Option<String>,
    /// The protected settings file to write (0600), for `--config-protected-file`.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Check certificate validity at this time instead of now (RFC 3339 or YYYY-MM-DD).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: Option<OffsetDateTime>,
    /// Output format of the summary.
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<OutputFormat>,
}

impl ProtectedSettingsArgs {
    pub fn run(&self, default_format: OutputFormat) -> anyhow::Result<Outcome> {
        let connection_string =
            String::from_utf8(read_input(&self.connection_string_file, InputKind::Secret)?)
                .with_context(|| {
                    format!(
                        "{} is not UTF-8 text",
                        self.connection_string_file.display()
                    )
                })?;
        let tls_input = match (&self.cert, &self.key, &self.secret) {
            (Some(cert), Some(key), None) => {
                let key = String::from_utf8(read_input(key, InputKind::PrivateKey)?)
                    .with_context(|| format!("{} is not PEM text", key.display()))?;
                ProtectedTlsInput::OwnCertificate {
                    cert: read_input(cert, InputKind::Certificate)?,
                    key: SecretString::new(key),
                    ca: self
                        .ca
                        .as_deref()
                        .map(|ca| read_input(ca, InputKind::Certificate))
                        .transpose()?,
                }
            }
            (None, None, Some(name)) => ProtectedTlsInput::Secret { name: name.clone() },
            _ => anyhow::bail!("give --cert and --key, or --secret"),
        };
        let format = self.output.unwrap_or(default_format);
        let request = ProtectedSettingsRequest {
            connection_string: SecretString::new(connection_string),
            tls: tls_input,
            out: self.out.clone(),
            overwrite: if self.force {
                Overwrite::Replace
            } else {
                Overwrite::Refuse
            },
            now: time_or_now(self.at),
        };
        let written = match write_protected_settings(&request, &self.policy.checker()?)? {
            Gated::Approved(written) => written,
            Gated::Refused(refusal) => return refused(&refusal, Some(format)),
        };
        let stdout = render(&written.summary, format, summary_text)?;
        Ok(Outcome {
            stdout,
            stderr: approval_warnings(written.report()),
            status: Status::Success,
        })
    }
}

fn summary_text(summary: &ProtectedSettingsSummary) -> String {
    format!(
        "wrote {} ({}) for connected registry {}; pass it with --config-protected-file\n",
        summary.file.display(),
        summary.keys.join(", "),
        summary.connection_string.connected_registry_name
    )
}

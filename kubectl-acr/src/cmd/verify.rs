//! `verify`: check a registry endpoint as an image pull meets it (resolve, TLS and chain, names,
//! `/v2/`, authentication), by default the deployed connected registry, and with
//! `--private-endpoint` the private-endpoint DNS of an Azure registry.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use acr_cli::commands::{InputKind, parse_duration, read_input};
use acr_cli::commands::{dns_server_or_system, parse_dns_server, parse_registry};
use acr_cli::password::PasswordArgs;
use acr_cli::{Outcome, OutputFormat, Status, render};
use acr_core::azure::{PrivateEndpointReport, PrivateEndpointRequest, private_endpoint_check};
use acr_core::plan;
use acr_core::registry_check::{self, Credentials, RegistryCheckRequest, RegistryReport};
use anyhow::{Context as _, bail};
use serde::Serialize;
use time::OffsetDateTime;

use super::flags::ClusterArgs;

/// Arguments of `verify`.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Namespace of the connected registry, read when --server is not given.
    #[arg(short = 'n', long, default_value = plan::DEFAULT_NAMESPACE)]
    pub namespace: String,
    /// The registry to check, HOST[:PORT] (port 443 by default). Without it: the connected
    /// registry's Service in the namespace (its cluster IP answers on the cluster's nodes and
    /// pods; elsewhere use a port-forward and --server).
    #[arg(long, value_name = "HOST[:PORT]")]
    pub server: Option<String>,
    /// The CA certificate(s) to trust (PEM or DER). Without it: `ca.crt` of the connected
    /// registry's TLS Secret, or with --server the system trust store (or SSL_CERT_FILE).
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// The user name to authenticate with (an ACR token name, a service principal ID); the
    /// password comes from --password-stdin or --password-file.
    #[arg(short = 'u', long, value_name = "NAME", requires = "password_source")]
    pub username: Option<String>,
    #[command(flatten)]
    pub password: PasswordArgs,
    /// Check the private-endpoint DNS of an Azure registry: `<registry>.azurecr.io` and each
    /// region's data endpoint must resolve through their privatelink names to private addresses.
    #[arg(long, requires = "registry")]
    pub private_endpoint: bool,
    /// The Azure registry's name (contoso for contoso.azurecr.io), for --private-endpoint.
    #[arg(long, value_name = "NAME", requires = "private_endpoint", value_parser = parse_registry)]
    pub registry: Option<String>,
    /// A region whose data endpoint (`<registry>.<region>.data.azurecr.io`) to check; repeat
    /// for each replica region.
    #[arg(long, value_name = "REGION", requires = "private_endpoint")]
    pub region: Vec<String>,
    /// The DNS server the clients use, IP[:PORT] (default: the first nameserver of
    /// /etc/resolv.conf).
    #[arg(long, value_name = "IP[:PORT]", requires = "private_endpoint", value_parser = parse_dns_server)]
    pub dns_server: Option<SocketAddr>,
    /// How long each network step may take (e.g. 10s, 1m).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    pub output: OutputFormat,
}

/// What `verify` found.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct VerifyReport {
    passed: bool,
    /// Where the endpoint and CA came from, when read from the cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    registry: Option<RegistryReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    private_endpoint: Option<PrivateEndpointReport>,
}

impl VerifyReport {
    fn to_text(&self) -> String {
        let mut text = String::new();
        if let Some(source) = &self.source {
            text.push_str(&format!("{source}\n"));
        }
        if let Some(registry) = &self.registry {
            text.push_str(&registry.to_text());
        }
        if let Some(private_endpoint) = &self.private_endpoint {
            if self.registry.is_some() {
                text.push('\n');
            }
            text.push_str(&private_endpoint.to_text());
        }
        text
    }
}

impl VerifyArgs {
    pub fn run(&self) -> anyhow::Result<Outcome> {
        let now = OffsetDateTime::now_utc();
        let mut report = VerifyReport {
            passed: true,
            source: None,
            registry: None,
            private_endpoint: None,
        };
        if self.server.is_some() || !self.private_endpoint {
            let request = self.registry_request(now, &mut report.source)?;
            let checked = registry_check::check(&request)?;
            report.passed &= checked.passed;
            report.registry = Some(checked);
        }
        if let Some(registry) = &self.registry {
            let dns_server = dns_server_or_system(self.dns_server)?;
            let checked = private_endpoint_check(&PrivateEndpointRequest {
                registry: registry.clone(),
                regions: self.region.clone(),
                dns_server,
                timeout: self.timeout,
            })?;
            report.passed &= checked.passed;
            report.private_endpoint = Some(checked);
        }
        let stdout = render(&report, self.output, VerifyReport::to_text)?;
        Ok(if report.passed {
            Outcome::success(stdout)
        } else {
            Outcome {
                stdout,
                stderr: Some("verify: a check failed".to_owned()),
                status: Status::CheckFailed,
            }
        })
    }

    /// The endpoint, CA and credentials to check, from the flags or the cluster.
    fn registry_request(
        &self,
        now: OffsetDateTime,
        source: &mut Option<String>,
    ) -> anyhow::Result<RegistryCheckRequest> {
        let ca_file = self
            .ca
            .as_deref()
            .map(|ca| read_input(ca, InputKind::Certificate))
            .transpose()?;
        let (server, ca) = match &self.server {
            Some(server) => (server.clone(), ca_file),
            None => {
                let cluster = self.cluster.connect()?;
                let endpoint = cluster.registry_endpoint(&self.namespace)?;
                let (ca, ca_origin) = match (ca_file, endpoint.ca_pem) {
                    (Some(ca), _) => (ca, "--ca".to_owned()),
                    (None, Some(ca)) => (ca, format!("{} (ca.crt)", endpoint.ca_secret)),
                    (None, None) => bail!(
                        "{} has no ca.crt to trust the registry with: give --ca FILE",
                        endpoint.ca_secret
                    ),
                };
                *source = Some(format!(
                    "Connected registry: {} at {}, CA from {ca_origin}",
                    endpoint.service, endpoint.server
                ));
                (endpoint.server, Some(ca))
            }
        };
        let mut request = RegistryCheckRequest::new(server, now);
        request.ca = ca;
        request.timeout = self.timeout;
        request.credentials = self.credentials()?;
        Ok(request)
    }

    fn credentials(&self) -> anyhow::Result<Option<Credentials>> {
        let Some(username) = &self.username else {
            return Ok(None);
        };
        let password = self
            .password
            .read()?
            .context("give the password with --password-stdin or --password-file FILE")?;
        Ok(Some(Credentials {
            username: username.clone(),
            password,
        }))
    }
}

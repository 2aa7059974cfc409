//! `private-endpoint check`: whether an Azure registry's login server and data endpoints
//! resolve through `privatelink.azurecr.io` to private addresses, for the DNS server given.

use acr_cli::commands::{dns_server_or_system, parse_dns_server, parse_duration, parse_registry};
use acr_cli::{Outcome, OutputFormat, Status, render};
use acr_core::azure::{PrivateEndpointRequest, private_endpoint_check};
use std::net::SocketAddr;
use std::time::Duration;

/// Arguments of `private-endpoint check`.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    /// The registry's name (contoso for contoso.azurecr.io).
    #[arg(long, value_name = "NAME", value_parser = parse_registry)]
    pub registry: String,
    /// A region whose data endpoint (`<registry>.<region>.data.azurecr.io`) to check; repeat
    /// for each region the registry is replicated to.
    #[arg(long, value_name = "REGION")]
    pub region: Vec<String>,
    /// The DNS server the registry's clients use, IP[:PORT] (default: the first nameserver of
    /// /etc/resolv.conf).
    #[arg(long, value_name = "IP[:PORT]", value_parser = parse_dns_server)]
    pub dns_server: Option<SocketAddr>,
    /// How long each DNS question may take (e.g. 5s, 1m).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<OutputFormat>,
}

impl CheckArgs {
    /// Checks every endpoint; exit 1 when any has a problem, naming each with its fix.
    pub fn run(&self, default_format: OutputFormat) -> anyhow::Result<Outcome> {
        let report = private_endpoint_check(&PrivateEndpointRequest {
            registry: self.registry.clone(),
            regions: self.region.clone(),
            dns_server: dns_server_or_system(self.dns_server)?,
            timeout: self.timeout,
        })?;
        let stdout = render(&report, self.output.unwrap_or(default_format), |report| {
            report.to_text()
        })?;
        Ok(if report.passed {
            Outcome::success(stdout)
        } else {
            let problems: usize = report
                .endpoints
                .iter()
                .map(|endpoint| endpoint.problems.len())
                .sum();
            Outcome {
                stdout,
                stderr: Some(format!(
                    "private-endpoint check: {problems} problem(s) in the DNS of {}",
                    report.registry
                )),
                status: Status::CheckFailed,
            }
        })
    }
}

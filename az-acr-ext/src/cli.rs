//! The `az-acr-ext` command line, mirrored by the Python extension's `az acr-ext` commands.

use crate::cmd::custom_domain::CustomDomainCommand;
use crate::cmd::private_endpoint::CheckArgs as PrivateEndpointCheckArgs;
use crate::cmd::protected_settings::ProtectedSettingsArgs;
use acr_cli::commands::cert::CertCommand;
use acr_cli::commands::config::ConfigViewArgs;
use acr_cli::commands::policy::{CheckArgs, PolicyCommand, ToolIdentity};
use acr_cli::commands::version::VersionArgs;
use acr_cli::{Outcome, OutputFormat};

/// Azure Container Registry helpers for az: certificates, connected registry settings, custom
/// domains and private-endpoint DNS.
///
/// Output is JSON unless -o says otherwise. Exit codes: 0 ok, 1 error or failed check,
/// 2 usage, 3 denied by policy.
#[derive(Debug, clap::Parser)]
#[command(name = "az-acr-ext", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Generate, inspect and verify certificates.
    #[command(subcommand)]
    Cert(CertCommand),
    /// Connected registry settings.
    #[command(subcommand)]
    ConnectedRegistry(ConnectedRegistryCommand),
    /// Prepare custom domains for a registry.
    #[command(subcommand)]
    CustomDomain(CustomDomainCommand),
    /// Check settings or a review against the organisation's WebAssembly policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Check the private-endpoint DNS of a registry.
    #[command(subcommand)]
    PrivateEndpoint(PrivateEndpointCommand),
    /// Print the engine's version (the extension checks it).
    Version(VersionArgs),
}

#[derive(Debug, clap::Subcommand)]
enum ConnectedRegistryCommand {
    /// Print the effective Arc extension settings: defaults, TLS source, secrets redacted.
    ConfigView(ConfigViewArgs),
    /// Run the policies on connected registry settings, as kubectl acr deploy would.
    /// Exit 3 when denied.
    Check(CheckArgs),
    /// Write the protected settings file (--config-protected-file): the connection string and
    /// your certificate (tls.crt, tls.key, tls.cacrt) or an existing Secret (tls.secret).
    ProtectedSettings(ProtectedSettingsArgs),
}

#[derive(Debug, clap::Subcommand)]
enum PrivateEndpointCommand {
    /// Whether `<registry>.azurecr.io` and each region's data endpoint resolve through
    /// `privatelink.azurecr.io` to private addresses; exit 1 naming each problem and its fix.
    Check(PrivateEndpointCheckArgs),
}

const TOOL: ToolIdentity = ToolIdentity {
    name: env!("CARGO_PKG_NAME"),
    version: env!("CARGO_PKG_VERSION"),
};

impl Cli {
    pub fn run(&self) -> anyhow::Result<Outcome> {
        match &self.command {
            Command::Cert(command) => command.run(OutputFormat::Json),
            Command::ConnectedRegistry(ConnectedRegistryCommand::ConfigView(args)) => {
                args.run(OutputFormat::Json)
            }
            Command::ConnectedRegistry(ConnectedRegistryCommand::Check(args)) => {
                PolicyCommand::Check(args.clone()).run(OutputFormat::Json, TOOL)
            }
            Command::ConnectedRegistry(ConnectedRegistryCommand::ProtectedSettings(args)) => {
                args.run(OutputFormat::Json)
            }
            Command::CustomDomain(command) => command.run(OutputFormat::Json),
            Command::Policy(command) => command.run(OutputFormat::Json, TOOL),
            Command::PrivateEndpoint(PrivateEndpointCommand::Check(args)) => {
                args.run(OutputFormat::Json)
            }
            Command::Version(args) => args.run(
                env!("CARGO_PKG_NAME"),
                env!("CARGO_PKG_VERSION"),
                OutputFormat::Json,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_definition_is_consistent() {
        use clap::CommandFactory as _;
        acr_cli::flags::kubectl_booleans(Cli::command()).debug_assert();
    }
}

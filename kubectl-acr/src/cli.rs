//! The `kubectl acr` command line.

use acr_cli::commands::cert::CertCommand;
use acr_cli::commands::config::ConfigViewArgs;
use acr_cli::commands::policy::{PolicyCommand, ToolIdentity};
use acr_cli::commands::version::VersionArgs;
use acr_cli::{Outcome, OutputFormat};
use clap::CommandFactory as _;

/// Deploy and check an Azure Container Registry connected registry in Kubernetes.
///
/// Exit codes: 0 ok, 1 error or failed check, 2 usage, 3 denied by policy, 124 timed out.
#[derive(Debug, clap::Parser)]
#[command(name = "kubectl acr", bin_name = "kubectl acr", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Show the effective connected registry settings.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Generate, inspect and verify certificates.
    #[command(subcommand)]
    Cert(CertCommand),
    /// Check the policies, then print the manifests a deploy would apply (for Flux, Argo CD).
    Render(crate::cmd::render::RenderArgs),
    /// Deploy the connected registry: preflight checks, policies, then server-side apply.
    Deploy(Box<crate::cmd::deploy::DeployArgs>),
    /// Show what deploy made: objects, rollout, serving certificate, trust per node.
    Status(crate::cmd::status::StatusArgs),
    /// Check a registry as an image pull meets it: DNS, TLS chain, names, /v2/, credentials;
    /// with --private-endpoint, an Azure registry's private-endpoint DNS.
    Verify(Box<crate::cmd::verify::VerifyArgs>),
    /// Remove what deploy made; the data volume claim stays unless --delete-data.
    Delete(crate::cmd::delete::DeleteArgs),
    /// Let pods pull from a private registry: image pull secrets, checked by policy.
    #[command(subcommand)]
    PullSecret(crate::cmd::pull_secret::PullSecretCommand),
    /// Check settings against the organisation's WebAssembly policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Air-gap bundles: save what a disconnected site needs, verify it; use it with --bundle.
    #[command(subcommand)]
    Bundle(crate::cmd::bundle::BundleCommand),
    /// Print the plugin's version.
    Version(VersionArgs),
    /// Print a shell completion script for `kubectl-acr` (for shells where kubectl's plugin
    /// completion is not set up), e.g. `source <(kubectl-acr completion bash)`.
    Completion {
        #[arg(value_enum)]
        shell: CompletionShell,
    },
    /// Shell completion for kubectl (called by `kubectl_complete-acr`).
    #[command(name = "__complete", hide = true)]
    Complete {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        words: Vec<String>,
    },
}

/// The shells `completion` writes scripts for.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

const TOOL: ToolIdentity = ToolIdentity {
    name: env!("CARGO_PKG_NAME"),
    version: env!("CARGO_PKG_VERSION"),
};

#[derive(Debug, clap::Subcommand)]
enum ConfigCommand {
    /// Print the effective settings: defaults filled in, TLS source named, secrets redacted.
    View(ConfigViewArgs),
}

impl Cli {
    pub fn run(&self) -> anyhow::Result<Outcome> {
        match &self.command {
            Command::Config(ConfigCommand::View(args)) => args.run(OutputFormat::Text),
            Command::Cert(command) => command.run(OutputFormat::Text),
            Command::PullSecret(command) => command.run(),
            Command::Policy(command) => command.run(OutputFormat::Text, TOOL),
            Command::Render(args) => args.run(),
            Command::Deploy(args) => args.run(),
            Command::Status(args) => args.run(),
            Command::Verify(args) => args.run(),
            Command::Delete(args) => args.run(),
            Command::Bundle(command) => command.run(),
            Command::Version(args) => args.run(
                env!("CARGO_PKG_NAME"),
                env!("CARGO_PKG_VERSION"),
                OutputFormat::Text,
            ),
            Command::Completion { shell } => {
                let shell = match shell {
                    CompletionShell::Bash => clap_complete::Shell::Bash,
                    CompletionShell::Zsh => clap_complete::Shell::Zsh,
                    CompletionShell::Fish => clap_complete::Shell::Fish,
                };
                let mut script = Vec::new();
                clap_complete::generate(
                    shell,
                    &mut acr_cli::flags::kubectl_booleans(Cli::command()).name("kubectl-acr"),
                    "kubectl-acr",
                    &mut script,
                );
                Ok(Outcome::success(String::from_utf8(script)?))
            }
            Command::Complete { words } => Ok(Outcome::success(crate::complete::complete(
                acr_cli::flags::kubectl_booleans(Cli::command()),
                words,
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_definition_is_consistent() {
        acr_cli::flags::kubectl_booleans(Cli::command()).debug_assert();
    }
}

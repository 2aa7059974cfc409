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

    use clap::CommandFactory as _;

    #[test]
    fn command_line_definition_is_consistent() {
        acr_cli::flags::kubectl_booleans(Cli::command()).debug_assert();
    }

    /// The az commands as the Python table declares them (python/azext_acr_ext/_table.py), read
    /// by Python itself: each command's engine words and each parameter's kind and engine flag.
    fn python_table() -> serde_json::Value {
        const DUMP: &str = r#"
import json, sys, types
package = types.ModuleType("azext_acr_ext")
package.__path__ = [sys.argv[1]]
sys.modules["azext_acr_ext"] = package
from azext_acr_ext import _table
print(json.dumps([{"name": c.name, "engine": list(c.engine), "params": [
    {"dest": p.dest, "kind": p.kind, "flag": p.engine_flag, "required": p.required}
    for p in c.params]} for c in _table.COMMANDS]))
"#;
        let package = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("python/azext_acr_ext");
        let output = std::process::Command::new("python3")
            .arg("-c")
            .arg(DUMP)
            .arg(&package)
            .output()
            .expect("python3 runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("the table as JSON")
    }

    /// What a clap argument takes: a bare switch, one value, or a list.
    fn arity(arg: &clap::Arg) -> &'static str {
        let values = arg.get_num_args().unwrap_or_default();
        match arg.get_action() {
            clap::ArgAction::SetTrue | clap::ArgAction::SetFalse => "switch",
            // kubectl booleans: `--flag` or `--flag=false`.
            clap::ArgAction::Set if values.min_values() == 0 => "switch",
            clap::ArgAction::Append => "list",
            _ if arg.is_positional() => "positional",
            _ => "value",
        }
    }

    #[test]
    fn every_az_parameter_is_an_engine_flag_of_the_same_name_and_arity() {
        let engine = acr_cli::flags::kubectl_booleans(Cli::command());
        let table = python_table();
        let commands = table.as_array().expect("a list of commands");
        assert!(commands.len() >= 10, "{table}");
        let mut problems = Vec::new();
        for command in commands {
            let name = command["name"].as_str().expect("name");
            let mut clap_command = &engine;
            for word in command["engine"].as_array().expect("engine words") {
                let word = word.as_str().expect("a word");
                clap_command = clap_command
                    .find_subcommand(word)
                    .unwrap_or_else(|| panic!("{name}: the engine has no subcommand {word}"));
            }
            let mut declared = std::collections::BTreeSet::new();
            for param in command["params"].as_array().expect("params") {
                let kind = param["kind"].as_str().expect("kind");
                let found = match param["flag"].as_str() {
                    None => clap_command.get_positionals().next(),
                    Some(flag) => {
                        let long = flag.trim_start_matches("--");
                        clap_command
                            .get_arguments()
                            .find(|arg| arg.get_long() == Some(long))
                    }
                };
                let Some(arg) = found else {
                    problems.push(format!("{name}: {param} is not an engine flag"));
                    continue;
                };
                declared.insert(arg.get_id().to_string());
                if arity(arg) != kind {
                    problems.push(format!(
                        "{name}: {} is a {kind} in Python and a {} in the engine",
                        param["dest"],
                        arity(arg)
                    ));
                }
                // argparse (az) requires every positional argument.
                if arg.is_required_set() && param["required"] != true && kind != "positional" {
                    problems.push(format!(
                        "{name}: {} is required by the engine, not by az",
                        param["dest"]
                    ));
                }
            }
            for arg in clap_command.get_arguments() {
                let id = arg.get_id().as_str();
                // az formats the output itself (the engine always prints JSON), and hidden flags
                // exist only to refuse a value with a message.
                if arg.is_hide_set() || ["output", "help"].contains(&id) {
                    continue;
                }
                if !declared.contains(id) {
                    problems.push(format!("{name}: the engine's --{id} is not offered by az"));
                }
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}

//! `config view` and the settings flags (`--config`, `--config-protected`, `--config-protected-file`)
//! shared by every command that takes connected registry settings.

use super::{InputKind, read_input};
use crate::{Outcome, OutputFormat, render};
use acr_core::settings::{
    ConnectedRegistrySettings, EffectiveSettings, SettingsInput, split_key_value,
};
use std::path::PathBuf;

/// The Arc extension's settings flags, named as `az k8s-extension create` names them.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SettingsArgs {
    /// A setting as KEY=VALUE (repeatable), e.g. service.clusterIP=192.100.100.1,
    /// cert-manager.install=false, trustDistribution.useNodeSelector=true,
    /// registryLoginServer=NAME, httpEnabled=true, service.type=LoadBalancer, or a container
    /// profile key (container.image, container.httpsPort, container.runAsUser, ...; see
    /// docs/connected-registry.md). connectionString is accepted here too and kept secret.
    #[arg(long = "config", value_name = "KEY=VALUE")]
    pub config: Vec<String>,
    /// A protected setting as KEY=VALUE (repeatable): connectionString, tls.crt, tls.key,
    /// tls.cacrt (base64 PEM), tls.secret. Overrides the protected file.
    #[arg(long = "config-protected", value_name = "KEY=VALUE")]
    pub config_protected: Vec<String>,
    /// A JSON file of protected settings, as the Arc extension takes it (`-` for stdin).
    #[arg(long = "config-protected-file", value_name = "FILE")]
    pub config_protected_file: Option<PathBuf>,
}

impl SettingsArgs {
    /// Reads the flags into the core's settings input.
    pub fn to_input(&self) -> anyhow::Result<SettingsInput> {
        let config = self
            .config
            .iter()
            .map(|argument| split_key_value("--config", argument))
            .collect::<Result<_, _>>()?;
        let protected = self
            .config_protected
            .iter()
            .map(|argument| split_key_value("--config-protected", argument))
            .collect::<Result<_, _>>()?;
        let protected_file = match &self.config_protected_file {
            Some(path) => Some((
                path.display().to_string(),
                read_input(path, InputKind::Settings)?,
            )),
            None => None,
        };
        Ok(SettingsInput {
            config,
            protected_file,
            protected,
        })
    }

    /// Reads and resolves the settings.
    pub fn resolve(&self) -> anyhow::Result<ConnectedRegistrySettings> {
        Ok(ConnectedRegistrySettings::resolve(&self.to_input()?)?)
    }
}

/// `config view`: the effective settings with defaults, the TLS source, and secrets redacted.
#[derive(Debug, Clone, clap::Args)]
pub struct ConfigViewArgs {
    #[command(flatten)]
    pub settings: SettingsArgs,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<OutputFormat>,
}

impl ConfigViewArgs {
    pub fn run(&self, default_format: OutputFormat) -> anyhow::Result<Outcome> {
        let settings = self.settings.resolve()?;
        let view = EffectiveSettings::new(&settings);
        let stdout = render(
            &view,
            self.output.unwrap_or(default_format),
            EffectiveSettings::to_text,
        )?;
        Ok(Outcome::success(stdout))
    }
}

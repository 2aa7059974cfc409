//! `pull-secret create`: a `kubernetes.io/dockerconfigjson` Secret for a private registry, added
//! to service accounts' `imagePullSecrets`, after the policies allowed it.

use super::flags::{ClusterArgs, DryRun, ManifestFormat, machine_format};
use super::print::manifests;
use acr_cli::commands::policy::{PolicyArgs, refused};
use acr_cli::password::PasswordArgs;
use acr_cli::{Outcome, Status};
use acr_core::operations::{Gated, check_pull_secret, check_pull_secret_offline};
use acr_core::plan::SecretDisplay;
use acr_core::policy::ReportFormats as _;
use acr_core::pull_secret::{DEFAULT_SERVICE_ACCOUNT, PullSecretInput, PullSecretSpec};
use acr_core::secret::SecretString;
use acr_core::untrusted::escape_output;
use anyhow::Context as _;

/// The namespace kubectl uses when neither `-n` nor the context names one.
const KUBECTL_DEFAULT_NAMESPACE: &str = "default";

/// Pull secret commands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum PullSecretCommand {
    /// Create (or update) a kubernetes.io/dockerconfigjson Secret for a private registry and add
    /// it to service accounts' imagePullSecrets, after the policies allowed it. The password is
    /// read from stdin or a file, never from the command line. Re-running with the same input
    /// changes nothing; a Secret of that name not made by this command is never overwritten.
    ///
    /// Example: az acr token create -r contoso -n edge-pull --scope-map _repositories_pull
    /// --query 'credentials.passwords[0].value' -o tsv | kubectl acr pull-secret create acr-pull
    /// --server contoso.azurecr.io --username edge-pull --password-stdin -n apps
    Create(Box<CreateArgs>),
}

impl PullSecretCommand {
    pub fn run(&self) -> anyhow::Result<Outcome> {
        match self {
            PullSecretCommand::Create(args) => args.run(),
        }
    }
}

/// Arguments of `pull-secret create`.
#[derive(Debug, Clone, clap::Args)]
pub struct CreateArgs {
    /// Name of the Secret.
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The registry, as `docker login` names it: HOST or HOST:PORT (e.g. contoso.azurecr.io),
    /// without https:// or a path.
    #[arg(long, value_name = "HOST")]
    pub server: String,
    /// The registry user: for Azure Container Registry the token name (a token whose scope map
    /// only allows pull, e.g. _repositories_pull).
    #[arg(long, value_name = "NAME", requires = "password_source")]
    pub username: String,
    #[command(flatten)]
    pub password: PasswordArgs,
    /// Namespace of the Secret and the service accounts (default: the kubeconfig context's
    /// namespace, else `default`).
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// A service account to add the Secret to (repeatable); each must exist.
    #[arg(
        long = "service-account",
        value_name = "NAME",
        default_value = DEFAULT_SERVICE_ACCOUNT,
        conflicts_with = "no_service_account"
    )]
    pub service_accounts: Vec<String>,
    /// Add the Secret to no service account (pods then name it in spec.imagePullSecrets).
    #[arg(long)]
    pub no_service_account: bool,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// none: create; client: no request at all, print the Secret; server: the API server checks
    /// every write and stores nothing.
    #[arg(long, value_enum, value_name = "MODE", default_value = "none")]
    pub dry_run: DryRun,
    /// Print the Secret and the service accounts (the Secret's data redacted unless
    /// --show-secrets) instead of one line per object; a client dry run prints YAML by default.
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<ManifestFormat>,
    /// Print the Secret's data instead of redacting it.
    #[arg(long)]
    pub show_secrets: bool,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

impl CreateArgs {
    pub fn run(&self) -> anyhow::Result<Outcome> {
        let client_only = self.dry_run == DryRun::Client;
        let spec = PullSecretSpec::new(PullSecretInput {
            password: self.password()?,
            namespace: self.namespace(client_only)?,
            name: self.name.clone(),
            server: self.server.clone(),
            username: self.username.clone(),
            service_accounts: if self.no_service_account {
                Vec::new()
            } else {
                self.service_accounts.clone()
            },
        })?;
        let checker = self.policy.checker()?;
        let display = if self.show_secrets {
            SecretDisplay::Shown
        } else {
            SecretDisplay::Redacted
        };
        let machine = machine_format(self.output);
        if client_only {
            let approved = match check_pull_secret_offline(&spec, &checker) {
                Gated::Approved(approved) => approved,
                Gated::Refused(refusal) => return refused(&refusal, machine),
            };
            let links: String = spec
                .service_accounts
                .iter()
                .map(|account| {
                    format!(
                        "\nServiceAccount {}/{account}: {} would be added to imagePullSecrets \
                         (client dry run: not read)",
                        spec.namespace, spec.name
                    )
                })
                .collect();
            return Ok(Outcome {
                stdout: manifests(
                    &approved.secret,
                    self.output.unwrap_or(ManifestFormat::Yaml),
                    display,
                )?,
                stderr: Some(format!("{}{links}", approved.report().to_text().trim_end())),
                status: Status::Success,
            });
        }
        let no_service_account = spec.service_accounts.is_empty();
        let secret_name = spec.name.clone();
        let checked = match check_pull_secret(spec, &self.cluster.selection()?, &checker)? {
            Gated::Approved(checked) => checked,
            Gated::Refused(refusal) => return refused(&refusal, machine),
        };
        eprint!("{}", escape_output(&checked.report().to_text()));
        let created = checked
            .create(self.dry_run == DryRun::Server)
            .with_context(|| format!("cannot create the pull secret on {}", checked.server()))?;
        let stdout = match self.output {
            Some(format) => manifests(&created.objects, format, display)?,
            None => created
                .changes
                .iter()
                .map(|change| format!("{change}\n"))
                .collect(),
        };
        Ok(Outcome {
            stdout,
            stderr: no_service_account.then(|| {
                format!(
                    "no service account was given the Secret: name {secret_name} in a pod's \
                     spec.imagePullSecrets"
                )
            }),
            status: Status::Success,
        })
    }

    fn password(&self) -> anyhow::Result<SecretString> {
        self.password
            .read()?
            .context("give the password with --password-stdin or --password-file FILE")
    }

    /// `-n`, else the context's namespace, else `default`; a client dry run without a readable
    /// kubeconfig uses `default`, as kubectl does.
    fn namespace(&self, client_only: bool) -> anyhow::Result<String> {
        if let Some(namespace) = &self.namespace {
            return Ok(namespace.clone());
        }
        let selection = self.cluster.selection()?;
        let namespace = match selection.context_namespace() {
            Ok(namespace) => namespace,
            Err(_) if client_only => None,
            Err(error) => return Err(error.into()),
        };
        Ok(namespace.unwrap_or_else(|| KUBECTL_DEFAULT_NAMESPACE.to_owned()))
    }
}

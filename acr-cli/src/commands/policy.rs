//! `policy check` and `policy list`, and the policy flags every changing command takes.

use super::config::SettingsArgs;
use super::{InputKind, parse_time, read_input, time_or_now};
use crate::password::PasswordArgs;
use crate::{Outcome, OutputFormat, Status, render};
use acr_core::bundle;
use acr_core::fsio::{self, FileMode, Overwrite};
use acr_core::policy::scaffold::{self, SdkSource};
use acr_core::policy::sources::{self, OciReference, RegistryCredentials, SourceOptions};
use acr_core::policy::{
    CheckReport, DecisionKind, FixtureReport, ModuleReport, Operation, PolicyChecker, PolicyConfig,
    PolicyListing, Refusal, ReportFormats, ResultLocations, Review, connected_registry_review,
    default_cache_dir, default_store_dir, inspect_module, run_fixtures,
};
use acr_core::settings::ConnectedRegistrySettings;
use acr_core::untrusted::Untrusted;
use anyhow::Context as _;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::PathBuf;
use time::OffsetDateTime;

/// Which policies run: the built-in set, or a policy set file, plus extra modules.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PolicyArgs {
    /// A policy set file (YAML or JSON) naming modules, their settings and enforcement;
    /// without it every built-in policy runs, denying and failing closed.
    #[arg(long, value_name = "FILE")]
    pub policy_set: Option<PathBuf>,
    /// An extra policy module (.wasm) or a folder of them (repeatable); denies and fails closed.
    #[arg(long = "policy", value_name = "FILE|DIR")]
    pub policies: Vec<PathBuf>,
    /// Do not read or write the compiled-policy cache (~/.cache/kubectl-acr/policies).
    #[arg(long)]
    pub no_policy_cache: bool,
    /// PEM CA certificates to trust, besides the system trust store, for policy modules named
    /// by https URLs or OCI references (a private registry's CA).
    #[arg(long, value_name = "FILE", env = "ACR_POLICY_CA_FILE")]
    pub ca_file: Option<PathBuf>,
    /// Pull OCI policy modules in plain HTTP, without TLS (only on a network you trust).
    #[arg(long)]
    pub insecure_http: bool,
    /// Use an air-gap bundle (`bundle save`) for remote policy modules and cert-manager's
    /// manifests, and fetch nothing (so --ca-file and --insecure-http have nothing to do).
    #[arg(long, value_name = "DIR")]
    pub bundle: Option<PathBuf>,
}

impl PolicyArgs {
    /// The store fetched artefacts come from: the bundle's, else the user's.
    pub fn store_dir(&self) -> Option<PathBuf> {
        match &self.bundle {
            Some(bundle) => Some(bundle::store_dir(bundle)),
            None => default_store_dir(),
        }
    }

    /// Starts the engine with the chosen policies.
    pub fn checker(&self) -> anyhow::Result<PolicyChecker> {
        let config = PolicyConfig {
            policy_set: self.policy_set.clone(),
            extra_modules: self.policies.clone(),
            cache_dir: if self.no_policy_cache {
                None
            } else {
                default_cache_dir()
            },
            sources: match &self.bundle {
                Some(bundle) => bundle::offline_sources(bundle),
                None => SourceOptions {
                    store_dir: default_store_dir(),
                    ca_file: self.ca_file.clone(),
                    insecure_http: self.insecure_http,
                    ..SourceOptions::default()
                },
            },
            ..PolicyConfig::default()
        };
        PolicyChecker::new(&config).context("cannot prepare the policies")
    }
}

/// How `policy check` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Yaml,
    /// SARIF 2.1.0, for code-scanning uploads.
    Sarif,
    /// JUnit XML, for CI test reports.
    Junit,
    /// GitHub Actions workflow commands (annotations on the file and line of each setting).
    Github,
    /// Azure Pipelines logging commands (issues on the file and line of each setting).
    AzurePipelines,
}

/// Policy commands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum PolicyCommand {
    /// Run the policies on connected registry settings (as for deploy) or on a review file.
    /// Exit 3 when denied, 1 when a policy fails and fails closed.
    Check(CheckArgs),
    /// List the policies that would run, with their metadata.
    List(ListArgs),
    /// Show a module's metadata, imports and exports, and whether it would load.
    Inspect(InspectArgs),
    /// Push a policy module to an OCI registry; prints the digest-pinned reference to use.
    Push(PushArgs),
    /// Pull a digest-pinned policy module from an OCI registry into a file.
    Pull(PullArgs),
    /// Write a ready-to-build policy crate that uses the wasm-guest SDK.
    New(NewArgs),
    /// Run a policy crate's fixtures (review and expected verdict) through the engine.
    Test(TestArgs),
}

impl PolicyCommand {
    pub fn run(&self, default_format: OutputFormat, tool: ToolIdentity) -> anyhow::Result<Outcome> {
        match self {
            PolicyCommand::Check(args) => args.run(default_format, tool),
            PolicyCommand::List(args) => args.run(default_format),
            PolicyCommand::Inspect(args) => args.run(default_format),
            PolicyCommand::Push(args) => args.run(default_format),
            PolicyCommand::Pull(args) => args.run(default_format),
            PolicyCommand::New(args) => args.run(default_format),
            PolicyCommand::Test(args) => args.run(default_format),
        }
    }
}

/// The calling binary, named in SARIF output.
#[derive(Debug, Clone, Copy)]
pub struct ToolIdentity {
    pub name: &'static str,
    pub version: &'static str,
}

/// Arguments of `policy check`.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub settings: SettingsArgs,
    /// Check this admission review (JSON, as docs/policy-abi.md describes) instead of settings.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["config", "config_protected", "config_protected_file"])]
    pub input: Option<PathBuf>,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Namespace the connected registry would be deployed into; names the DNS names of the
    /// certificate cert-manager would issue.
    #[arg(short = 'n', long, value_name = "NAMESPACE", default_value = acr_core::plan::DEFAULT_NAMESPACE, conflicts_with = "input")]
    pub namespace: String,
    /// Evaluate certificate validity at this time instead of now (RFC 3339 or YYYY-MM-DD).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: Option<OffsetDateTime>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<ReportFormat>,
}

impl CheckArgs {
    /// The review to check, and where each setting in it was given.
    fn review(&self, tool: ToolIdentity) -> anyhow::Result<(Review, ResultLocations)> {
        let command = format!("{} policy check", tool.name);
        if let Some(path) = &self.input {
            let bytes = read_input(path, InputKind::Document)?;
            let review = acr_io::json::from_slice(&bytes)
                .with_context(|| format!("{} is not a policy review (JSON)", path.display()))?;
            let locations =
                ResultLocations::of_review(&command, &path.display().to_string(), &bytes);
            return Ok((review, locations));
        }
        let input = self.settings.to_input()?;
        let settings = ConnectedRegistrySettings::resolve(&input)?;
        let review = connected_registry_review(
            &settings,
            &self.namespace,
            Operation::Deploy,
            time_or_now(self.at),
        )?;
        Ok((review, ResultLocations::of_settings(&command, &input)))
    }

    fn run(&self, default_format: OutputFormat, tool: ToolIdentity) -> anyhow::Result<Outcome> {
        let (review, locations) = self.review(tool)?;
        let report = self.policy.checker()?.check(&review);
        let format = self.output.unwrap_or(report_format(default_format));
        let stdout = render_report(&report, format, tool, &locations)?;
        Ok(outcome_of(&report, stdout))
    }
}

/// The report format matching a command's output format.
pub fn report_format(format: OutputFormat) -> ReportFormat {
    match format {
        OutputFormat::Text => ReportFormat::Text,
        OutputFormat::Json => ReportFormat::Json,
        OutputFormat::Yaml => ReportFormat::Yaml,
    }
}

/// Prints a check report in `format`.
pub fn render_report(
    report: &CheckReport,
    format: ReportFormat,
    tool: ToolIdentity,
    locations: &ResultLocations,
) -> anyhow::Result<String> {
    Ok(match format {
        ReportFormat::Text => report.to_text(),
        ReportFormat::Json => render(report, OutputFormat::Json, CheckReport::to_text)?,
        ReportFormat::Yaml => render(report, OutputFormat::Yaml, CheckReport::to_text)?,
        ReportFormat::Sarif => {
            let sarif = report.to_sarif(tool.name, tool.version, locations);
            render(&sarif, OutputFormat::Json, |_| String::new())?
        }
        ReportFormat::Junit => report.to_junit(&format!("{} policy check", tool.name)),
        ReportFormat::Github => report.to_github(locations),
        ReportFormat::AzurePipelines => report.to_azure_pipelines(locations),
    })
}

/// The exit status a check report gives: 3 when denied, 1 when blocked by a policy error.
pub fn outcome_of(report: &CheckReport, stdout: String) -> Outcome {
    let status = match report.decision {
        DecisionKind::Allowed | DecisionKind::AllowedWithWarnings => Status::Success,
        DecisionKind::Denied => Status::Denied,
        DecisionKind::BlockedByError => Status::CheckFailed,
    };
    Outcome {
        stdout,
        stderr: report.refusal(),
        status,
    }
}

/// The verdicts of an approved change when they carry warnings (a warn-only violation, a policy
/// that failed open), for stderr; `None` when every policy simply allowed it.
pub fn approval_warnings(report: &CheckReport) -> Option<String> {
    (report.decision == DecisionKind::AllowedWithWarnings).then(|| report.to_text())
}

/// A change the policies refused, told the same way by every changing command: every verdict,
/// then the refusal, on stderr; exit 3 when denied, 1 when a policy failed closed. With
/// `machine` (the command's `-o json` or `-o yaml`) the report is on stdout as well. Nothing was
/// changed.
pub fn refused(refusal: &Refusal, machine: Option<OutputFormat>) -> anyhow::Result<Outcome> {
    let report = &refusal.report;
    let stdout = match machine {
        Some(format @ (OutputFormat::Json | OutputFormat::Yaml)) => {
            render(report, format, CheckReport::to_text)?
        }
        _ => String::new(),
    };
    let refused = outcome_of(report, stdout);
    Ok(Outcome {
        stderr: Some(format!(
            "{}{}",
            report.to_text(),
            refused.stderr.clone().unwrap_or_default()
        )),
        ..refused
    })
}

/// Arguments of `policy list`.
#[derive(Debug, Clone, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<OutputFormat>,
}

impl ListArgs {
    fn run(&self, default_format: OutputFormat) -> anyhow::Result<Outcome> {
        let listing = self.policy.checker()?.list();
        let stdout = render(&listing, self.output.unwrap_or(default_format), |listing| {
            listing_text(listing)
        })?;
        Ok(Outcome::success(stdout))
    }
}

fn listing_text(listing: &[PolicyListing]) -> String {
    let mut text = String::new();
    for policy in listing {
        match &policy.metadata {
            Some(metadata) => {
                let subjects: Vec<String> = metadata
                    .subjects
                    .iter()
                    .filter_map(|subject| serde_json::to_value(subject).ok())
                    .filter_map(|value| value.as_str().map(str::to_owned))
                    .collect();
                let _ = writeln!(
                    text,
                    "{} {} ({}; enforcement {}, on-error {})\n    {}\n    applies to: {}",
                    Untrusted(&metadata.name),
                    Untrusted(&metadata.version),
                    Untrusted(&policy.source),
                    policy.enforcement,
                    policy.on_error,
                    Untrusted(&metadata.description),
                    Untrusted(&subjects.join(", "))
                );
            }
            None => {
                let _ = writeln!(
                    text,
                    "{} (does not load: {})",
                    Untrusted(&policy.source),
                    Untrusted(policy.error.as_deref().unwrap_or("unknown error"))
                );
            }
        }
    }
    text
}

/// Arguments of `policy inspect`.
#[derive(Debug, Clone, clap::Args)]
pub struct InspectArgs {
    /// The policy module (.wasm).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<OutputFormat>,
}

impl InspectArgs {
    fn run(&self, default_format: OutputFormat) -> anyhow::Result<Outcome> {
        let bytes = read_input(&self.file, InputKind::PolicyModule)?;
        let report = inspect_module(&self.file.display().to_string(), &bytes)?;
        let stdout = render(&report, self.output.unwrap_or(default_format), module_text)?;
        Ok(if report.loads {
            Outcome::success(stdout)
        } else {
            Outcome {
                stdout,
                stderr: Some(format!("error: {} would not load", self.file.display())),
                status: Status::CheckFailed,
            }
        })
    }
}

fn module_text(report: &ModuleReport) -> String {
    let mut text = format!(
        "Module:   {} ({} bytes, sha256 {})\n",
        report.source, report.size_bytes, report.sha256
    );
    if let Some(metadata) = &report.metadata {
        let _ = writeln!(
            text,
            "Policy:   {} {}\n          {}",
            Untrusted(&metadata.name),
            Untrusted(&metadata.version),
            Untrusted(&metadata.description)
        );
    }
    let _ = writeln!(
        text,
        "Imports:  {}",
        list_or_none(&report.interface.imports)
    );
    let _ = writeln!(
        text,
        "Exports:  {}",
        list_or_none(&report.interface.exports)
    );
    match &report.error {
        None => text.push_str("Loads:    yes\n"),
        Some(error) => {
            let _ = writeln!(text, "Loads:    no: {}", Untrusted(error));
        }
    }
    text
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".to_owned()
    } else {
        items.join(", ")
    }
}

/// How to reach an OCI registry.
#[derive(Debug, Clone, clap::Args)]
pub struct RegistryArgs {
    /// PEM CA certificates to trust besides the system trust store (a private registry's CA).
    #[arg(long, value_name = "FILE", env = "ACR_POLICY_CA_FILE")]
    pub ca_file: Option<PathBuf>,
    /// Talk to the registry in plain HTTP, without TLS (only on a network you trust).
    #[arg(long)]
    pub insecure_http: bool,
    /// User name for the registry (a token name for ACR); without it, the Docker credentials
    /// (`~/.docker/config.json`, `DOCKER_CONFIG`, credential helpers) are used when there are any.
    #[arg(
        long = "registry-username",
        alias = "username",
        value_name = "NAME",
        requires = "password_source"
    )]
    pub username: Option<String>,
    #[command(flatten)]
    pub password: PasswordArgs,
}

impl RegistryArgs {
    fn options(&self, reference: &OciReference) -> anyhow::Result<SourceOptions> {
        let mut options = SourceOptions {
            ca_file: self.ca_file.clone(),
            insecure_http: self.insecure_http,
            ..SourceOptions::default()
        };
        if let Some(username) = &self.username {
            let password = self.password.read()?.context(
                "give the registry password with --password-stdin or --password-file FILE",
            )?;
            options.registry_credentials.insert(
                reference.registry.clone(),
                RegistryCredentials {
                    username: username.clone(),
                    password: password.expose().to_owned(),
                },
            );
        }
        Ok(options)
    }
}

/// Arguments of `policy push`.
#[derive(Debug, Clone, clap::Args)]
pub struct PushArgs {
    /// The policy module (.wasm); it must load.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Where to push: oci://REGISTRY[:PORT]/REPOSITORY:TAG.
    #[arg(value_name = "REFERENCE")]
    pub reference: OciReference,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<OutputFormat>,
}

#[derive(Debug, Serialize)]
struct Pushed {
    digest: String,
    reference: String,
}

impl PushArgs {
    fn run(&self, default_format: OutputFormat) -> anyhow::Result<Outcome> {
        let bytes = read_input(&self.file, InputKind::PolicyModule)?;
        let report = inspect_module(&self.file.display().to_string(), &bytes)?;
        let (Some(metadata), None) = (&report.metadata, &report.error) else {
            anyhow::bail!(
                "{} would not load, so it is not pushed: {}",
                self.file.display(),
                report.error.as_deref().unwrap_or("no metadata")
            );
        };
        let options = self.registry.options(&self.reference)?;
        let digest = sources::push(&self.reference, &bytes, metadata, &options)?;
        let pushed = Pushed {
            digest: digest.to_string(),
            reference: self.reference.pinned(digest).to_string(),
        };
        let stdout = render(&pushed, self.output.unwrap_or(default_format), |pushed| {
            format!("{}\n", pushed.reference)
        })?;
        Ok(Outcome::success(stdout))
    }
}

/// Arguments of `policy pull`.
#[derive(Debug, Clone, clap::Args)]
pub struct PullArgs {
    /// What to pull: oci://REGISTRY[:PORT]/REPOSITORY@sha256:DIGEST (pinned).
    #[arg(value_name = "REFERENCE")]
    pub reference: OciReference,
    /// Where to write the module.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<OutputFormat>,
}

impl PullArgs {
    fn run(&self, default_format: OutputFormat) -> anyhow::Result<Outcome> {
        let options = self.registry.options(&self.reference)?;
        let bytes = sources::pull(&self.reference, &options)?;
        let overwrite = if self.force {
            Overwrite::Replace
        } else {
            Overwrite::Refuse
        };
        fsio::write_atomic(&self.out, &bytes, FileMode::Public, overwrite)?;
        let report = inspect_module(&self.reference.to_string(), &bytes)?;
        let stdout = render(&report, self.output.unwrap_or(default_format), module_text)?;
        Ok(Outcome::success(stdout))
    }
}

/// Arguments of `policy new`.
#[derive(Debug, Clone, clap::Args)]
#[command(group = clap::ArgGroup::new("sdk").required(true).args(["sdk_path", "sdk_version"]))]
pub struct NewArgs {
    /// The policy's name, kebab-case (also its package and metadata name).
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Directory to create the crate in (default: ./NAME).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The wasm-guest SDK directory (this repository's wasm-guest/) to depend on by path.
    #[arg(long, value_name = "DIR")]
    pub sdk_path: Option<PathBuf>,
    /// A version requirement for the SDK from a registry instead.
    #[arg(long, value_name = "VERSION")]
    pub sdk_version: Option<String>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<OutputFormat>,
}

impl NewArgs {
    fn run(&self, default_format: OutputFormat) -> anyhow::Result<Outcome> {
        let sdk = match (&self.sdk_path, &self.sdk_version) {
            (Some(path), _) => SdkSource::Path(
                std::fs::canonicalize(path)
                    .with_context(|| format!("cannot find the SDK at {}", path.display()))?,
            ),
            (None, Some(version)) => SdkSource::Version(version.clone()),
            (None, None) => anyhow::bail!("give --sdk-path or --sdk-version"),
        };
        let dir = self
            .dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(&self.name));
        let files = scaffold::new_policy_crate(&self.name, &dir, sdk)?;
        let stdout = render(&files, self.output.unwrap_or(default_format), |files| {
            files
                .iter()
                .map(|file| format!("{}\n", file.display()))
                .collect()
        })?;
        Ok(Outcome::success(stdout))
    }
}

/// Arguments of `policy test`.
#[derive(Debug, Clone, clap::Args)]
pub struct TestArgs {
    /// The policy crate: its fixtures are DIR/fixtures/*.json.
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// The module to test (default: DIR/target/wasm32-unknown-unknown/release/<name>.wasm,
    /// <name> from DIR/metadata.json with `_` for `-`).
    #[arg(long, value_name = "FILE")]
    pub module: Option<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<OutputFormat>,
}

impl TestArgs {
    fn module_path(&self) -> anyhow::Result<PathBuf> {
        if let Some(module) = &self.module {
            return Ok(module.clone());
        }
        let metadata_path = self.dir.join("metadata.json");
        let metadata: serde_json::Value =
            acr_io::json::from_slice(&read_input(&metadata_path, InputKind::Document)?)
                .with_context(|| format!("{} is not JSON", metadata_path.display()))?;
        let name = metadata["name"]
            .as_str()
            .with_context(|| format!("{} has no name", metadata_path.display()))?;
        Ok(self
            .dir
            .join("target/wasm32-unknown-unknown/release")
            .join(format!("{}.wasm", name.replace('-', "_"))))
    }

    fn run(&self, default_format: OutputFormat) -> anyhow::Result<Outcome> {
        let module = self.module_path()?;
        let bytes = read_input(&module, InputKind::PolicyModule).context(
            "build it first: cargo build --release --target wasm32-unknown-unknown (or pass --module)",
        )?;
        let report = run_fixtures(
            &module.display().to_string(),
            &bytes,
            &self.dir.join("fixtures"),
        )
        .with_context(|| format!("cannot test {}", module.display()))?;
        let stdout = render(
            &report,
            self.output.unwrap_or(default_format),
            FixtureReport::to_text,
        )?;
        Ok(if report.passed() {
            Outcome::success(stdout)
        } else {
            Outcome {
                stdout,
                stderr: Some(format!("error: {} fixtures failed", report.policy)),
                status: Status::CheckFailed,
            }
        })
    }
}

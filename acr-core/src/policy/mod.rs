//! The organisation's policies applied to this tool's requests: builds reviews from typed
//! settings, runs the policy set in the sandboxed engine (`acr-policy`), and reports verdicts
//! as text, JSON, SARIF or JUnit.

pub mod approval;
mod fixtures;
mod locations;
mod report;
mod review;

pub use acr_policy::scaffold;
pub use acr_policy::{
    BUILTIN_POLICIES, Decision as DecisionKind, Effect, Enforcement, Limits, ModuleInterface,
    OnError, PolicyOutcome, PolicyReport, PolicySet, ResultKind, Review, SetReport as CheckReport,
    sources,
};
pub use approval::{
    Approval, ConnectedRegistry, CustomDomain, ProtectedSettings, PullSecret, Refusal, Subject,
};
pub use fixtures::{FixtureError, FixtureReport, FixtureResult, run_fixtures};
pub use locations::{Artifact, Location, ResultLocations};
pub use report::ReportFormats;
pub use review::{ReviewError, connected_registry_review, facts_of, protected_settings_review};
pub use wasm_guest::{Metadata, Operation, SubjectKind};

use acr_policy::{
    HostConfig, ModuleSource, PolicyHost, PolicySetEntry, PolicySetError, PreparedSet,
};
use serde::Serialize;
use sources::SourceOptions;
use std::path::PathBuf;

/// Which policies to run and where compiled modules are cached.
#[derive(Debug, Clone, Default)]
pub struct PolicyConfig {
    /// A policy set file; without one, every built-in policy denies and fails closed.
    pub policy_set: Option<PathBuf>,
    /// Extra `.wasm` modules (or folders of them) added to the set, denying and failing closed.
    pub extra_modules: Vec<PathBuf>,
    /// Where compiled modules are cached; `None` compiles on every run.
    pub cache_dir: Option<PathBuf>,
    /// Limits for every evaluation.
    pub limits: Limits,
    /// How remote modules are fetched (store, trust, plain http, credentials).
    pub sources: SourceOptions,
}

/// Why the policies could not be prepared at all (a single policy failing is not this: it is
/// reported, and enforced, per policy).
#[derive(Debug, thiserror::Error)]
pub enum PolicySetupError {
    #[error(transparent)]
    PolicySet(#[from] PolicySetError),
    #[error("cannot start the policy engine")]
    Host(#[from] acr_policy::HostError),
}

/// The default cache of compiled policies: `$XDG_CACHE_HOME/kubectl-acr/policies`, else
/// `~/.cache/kubectl-acr/policies`.
pub fn default_cache_dir() -> Option<PathBuf> {
    Some(user_cache_dir()?.join("policies"))
}

/// The default store of fetched artefacts (policy modules, OCI manifests, cert-manager's
/// manifests, by SHA-256): `$XDG_CACHE_HOME/kubectl-acr/store`, else
/// `~/.cache/kubectl-acr/store`.
pub fn default_store_dir() -> Option<PathBuf> {
    Some(user_cache_dir()?.join("store"))
}

fn user_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("kubectl-acr"))
}

/// What `policy inspect` reports about one module: its metadata, interface, and whether it loads.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModuleReport {
    pub source: String,
    pub size_bytes: usize,
    pub sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    #[serde(flatten)]
    pub interface: ModuleInterface,
    /// Whether the engine accepts it (metadata, imports, exports, ABI version, a trial instance).
    pub loads: bool,
    /// Why it does not load.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Inspects a module without evaluating it: metadata, imports and exports, and a trial load.
pub fn inspect_module(source: &str, bytes: &[u8]) -> Result<ModuleReport, PolicySetupError> {
    let interface = acr_policy::module_interface(bytes).unwrap_or_default();
    let host = PolicyHost::new(HostConfig::default())?;
    let (metadata, error) = match host.load(source, bytes) {
        Ok(policy) => (Some(policy.metadata().clone()), None),
        Err(error) => (
            acr_policy::read_metadata_and_check_imports(bytes).ok(),
            Some(error.to_string()),
        ),
    };
    Ok(ModuleReport {
        source: source.to_owned(),
        size_bytes: bytes.len(),
        sha256: sources::Sha256Digest::of(bytes).hex(),
        metadata,
        interface,
        loads: error.is_none(),
        error,
    })
}

/// A policy set loaded into the engine, ready to check reviews.
#[derive(Debug)]
pub struct PolicyChecker {
    prepared: PreparedSet,
}

/// One policy as `policy list` shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyListing {
    pub source: String,
    pub enforcement: Enforcement,
    pub on_error: OnError,
    /// The module's metadata, when it loaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module_sha256: Option<String>,
    /// Why it did not load.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl PolicyChecker {
    /// Starts the engine and loads the configured policies.
    pub fn new(config: &PolicyConfig) -> Result<Self, PolicySetupError> {
        let mut set = match &config.policy_set {
            Some(path) => PolicySet::from_file(path)?,
            None => PolicySet::all_builtins(BUILTIN_POLICIES),
        };
        for path in &config.extra_modules {
            set.policies.push(PolicySetEntry {
                module: ModuleSource::Path(path.clone()),
                settings: serde_json::Value::Null,
                enforcement: Default::default(),
                on_error: Default::default(),
            });
        }
        let host = PolicyHost::new(HostConfig {
            cache_dir: config.cache_dir.clone(),
            limits: config.limits.clone(),
            fuel_metering: config.limits.fuel.is_some(),
            ..HostConfig::default()
        })?;
        Ok(Self {
            prepared: set.prepare_with_sources(&host, BUILTIN_POLICIES, &config.sources),
        })
    }

    /// Evaluates every applicable policy on `review`.
    pub fn check(&self, review: &Review) -> CheckReport {
        self.prepared.evaluate(review)
    }

    /// The gate: evaluates `review`, a review about `S`, and approves the change only when the
    /// policies allow it. The one maker of an [`Approval`].
    pub fn approve<S: Subject>(&self, review: &Review) -> Result<Approval<S>, Refusal> {
        assert_eq!(
            review.subject,
            S::KIND,
            "a review about one subject cannot approve a change to another"
        );
        let report = self.check(review);
        if report.allowed() {
            Ok(Approval::granted(report))
        } else {
            Err(Refusal { report })
        }
    }

    /// Every policy of the set with its metadata, or why it did not load.
    pub fn list(&self) -> Vec<PolicyListing> {
        self.prepared
            .policies()
            .map(|(entry, loaded)| PolicyListing {
                source: entry.module.to_string(),
                enforcement: entry.enforcement,
                on_error: entry.on_error,
                metadata: loaded.ok().map(|policy| policy.metadata().clone()),
                module_sha256: loaded.ok().map(|policy| policy.module_sha256()),
                error: loaded.err().map(ToString::to_string),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;

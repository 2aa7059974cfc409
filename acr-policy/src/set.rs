//! Policy sets: a file naming modules, their settings and how each is enforced, evaluated as a
//! whole into one decision. One policy failing never stops the others from being evaluated.

use crate::builtin::Builtin;
pub use crate::enforcement::{Enforcement, OnError};
use crate::error::{PolicyError, PolicyErrorKind};
use crate::host::PolicyHost;
use crate::limits::Limits;
use crate::policy::{LoadedPolicy, PolicyOutcome};
use crate::report::{PolicyReport, SetReport, decide, effect};
pub use crate::sources::ModuleSource;
use crate::sources::SourceOptions;
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use wasm_guest::Review;

/// The policy set file: `policies:` followed by entries. YAML, or JSON (which is YAML).
///
/// ```yaml
/// policies:
///   - module: builtin:trust-distribution-requires-ca
///   - module: ./org/min-key-size.wasm      # relative to this file
///     settings: { minimumRsaBits: 3072 }
///     enforcement: warn                   # deny (default) | warn
///     on-error: allow                     # deny (default) | allow
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySet {
    pub policies: Vec<PolicySetEntry>,
    /// Where relative module paths start from: the set file's directory.
    #[serde(skip)]
    pub base_dir: PathBuf,
}

/// One policy of a set.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PolicySetEntry {
    pub module: ModuleSource,
    /// Handed to the policy as the review's `settings`; `null` when not given.
    #[serde(default)]
    pub settings: Value,
    #[serde(default)]
    pub enforcement: Enforcement,
    #[serde(default)]
    pub on_error: OnError,
}

/// Why a policy set file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PolicySetError {
    #[error("cannot read the policy set {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the policy set {} is not a valid policy set file: {problem}", path.display())]
    TooDeep {
        path: PathBuf,
        problem: acr_io::TooDeep,
    },
    #[error("the policy set {} is not a valid policy set file", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_yaml_ng::Error,
    },
}

impl PolicySet {
    /// Reads a policy set file; relative module paths start at its directory.
    pub fn from_file(path: &Path) -> Result<Self, PolicySetError> {
        let text =
            acr_io::read_to_string(path, acr_io::InputKind::PolicySet).map_err(|source| {
                PolicySetError::Read {
                    path: path.to_owned(),
                    source,
                }
            })?;
        acr_io::check_nesting(text.as_bytes()).map_err(|problem| PolicySetError::TooDeep {
            path: path.to_owned(),
            problem,
        })?;
        let base_dir = path.parent().unwrap_or(Path::new("")).to_owned();
        Self::from_text(&text, base_dir).map_err(|source| PolicySetError::Parse {
            path: path.to_owned(),
            source,
        })
    }

    /// Parses policy set YAML or JSON; relative module paths start at `base_dir`.
    pub fn from_text(text: &str, base_dir: PathBuf) -> Result<Self, serde_yaml_ng::Error> {
        let mut set: Self = serde_yaml_ng::from_str(text)?;
        set.base_dir = base_dir;
        Ok(set)
    }

    /// Every built-in policy with no settings, denying and failing closed.
    pub fn all_builtins(builtins: &[Builtin]) -> Self {
        Self {
            policies: builtins
                .iter()
                .map(|builtin| PolicySetEntry {
                    module: ModuleSource::Builtin(builtin.name.to_owned()),
                    settings: Value::Null,
                    enforcement: Enforcement::default(),
                    on_error: OnError::default(),
                })
                .collect(),
            base_dir: PathBuf::new(),
        }
    }

    /// Loads every module and validates its settings, fetching remote modules with
    /// [`SourceOptions::from_env`]. Failures are kept per entry, to be reported (and enforced
    /// per `on-error`) when the set is evaluated.
    pub fn prepare(&self, host: &PolicyHost, builtins: &[Builtin]) -> PreparedSet {
        self.prepare_with_sources(host, builtins, &SourceOptions::from_env())
    }

    /// [`Self::prepare`] with the given source options. A folder entry becomes one policy per
    /// module in it, each reported under its file's path. Modules that are not built-in are
    /// loaded (compiled, for the first run) on worker threads, in parallel with each other and
    /// with the built-ins, which load from their precompiled code on this thread.
    pub fn prepare_with_sources(
        &self,
        host: &PolicyHost,
        builtins: &[Builtin],
        sources: &SourceOptions,
    ) -> PreparedSet {
        let mut fetched = Vec::new();
        for entry in &self.policies {
            match entry.module.fetch(&self.base_dir, builtins, sources) {
                Ok(modules) => fetched.extend(modules.into_iter().map(|module| {
                    let entry = PolicySetEntry {
                        module: module.source,
                        ..entry.clone()
                    };
                    (entry, Ok(module.bytes))
                })),
                Err(error) => fetched.push((
                    entry.clone(),
                    Err(PolicyError::new(
                        &entry.module.to_string(),
                        PolicyErrorKind::Source(error),
                    )),
                )),
            }
        }
        PreparedSet {
            entries: load_all(host, fetched),
        }
    }
}

/// A set entry with its module's bytes, or why they could not be fetched.
type FetchedEntry = (PolicySetEntry, Result<Cow<'static, [u8]>, PolicyError>);

/// Loads every fetched entry: those that are not built-in on up to one worker thread per core,
/// the built-ins on this thread meanwhile; the entries keep their order.
fn load_all(host: &PolicyHost, fetched: Vec<FetchedEntry>) -> Vec<PreparedEntry> {
    let is_builtin = |(entry, _): &FetchedEntry| matches!(entry.module, ModuleSource::Builtin(_));
    let others: Vec<usize> = (0..fetched.len())
        .filter(|&index| !is_builtin(&fetched[index]))
        .collect();
    let loaded: Vec<OnceLock<Result<LoadedPolicy, PolicyError>>> =
        fetched.iter().map(|_| OnceLock::new()).collect();
    let load = |index: usize| {
        let (entry, bytes) = &fetched[index];
        let result = bytes
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|bytes| load_entry(entry, bytes, host));
        // Each index is taken by exactly one thread, so the cell is always empty here.
        let _ = loaded[index].set(result);
    };
    let workers = if others.is_empty() {
        0
    } else {
        std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(others.len())
    };
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while let Some(&index) = others.get(next.fetch_add(1, Ordering::Relaxed)) {
                    load(index);
                }
            });
        }
        (0..fetched.len())
            .filter(|&index| is_builtin(&fetched[index]))
            .for_each(&load);
    });
    fetched
        .into_iter()
        .zip(loaded)
        .map(|((entry, _), loaded)| PreparedEntry {
            entry,
            loaded: loaded
                .into_inner()
                .expect("every entry was loaded by the scope above"),
        })
        .collect()
}

fn load_entry(
    entry: &PolicySetEntry,
    bytes: &[u8],
    host: &PolicyHost,
) -> Result<LoadedPolicy, PolicyError> {
    let loaded = host.load(&entry.module.to_string(), bytes)?;
    loaded.validate_settings(&entry.settings, host.limits())?;
    Ok(loaded)
}

/// A policy set with its modules loaded.
#[derive(Debug)]
pub struct PreparedSet {
    entries: Vec<PreparedEntry>,
}

#[derive(Debug)]
struct PreparedEntry {
    entry: PolicySetEntry,
    loaded: Result<LoadedPolicy, PolicyError>,
}

impl PreparedSet {
    /// Evaluates every applicable policy under the host's limits.
    pub fn evaluate(&self, review: &Review) -> SetReport {
        self.report(review, None)
    }

    /// Evaluates every applicable policy under `limits`.
    pub fn evaluate_with_limits(&self, review: &Review, limits: &Limits) -> SetReport {
        self.report(review, Some(limits))
    }

    /// Each entry of the set with its loaded policy, or why it could not be loaded.
    pub fn policies(
        &self,
    ) -> impl Iterator<Item = (&PolicySetEntry, Result<&LoadedPolicy, &PolicyError>)> {
        self.entries
            .iter()
            .map(|prepared| (&prepared.entry, prepared.loaded.as_ref()))
    }

    fn report(&self, review: &Review, limits: Option<&Limits>) -> SetReport {
        let review_json = ReviewJson::new(review);
        let policies: Vec<PolicyReport> = self
            .entries
            .iter()
            .map(|prepared| prepared.evaluate(review, &review_json, limits))
            .collect();
        SetReport {
            operation: review.operation,
            subject: review.subject,
            decision: decide(&policies),
            policies,
        }
    }
}

impl PreparedEntry {
    fn evaluate(
        &self,
        review: &Review,
        review_json: &ReviewJson,
        limits: Option<&Limits>,
    ) -> PolicyReport {
        let (name, outcome, logs, cache_warning) = match &self.loaded {
            Err(error) => (
                None,
                Some(PolicyOutcome::Error(error.clone())),
                Vec::new(),
                None,
            ),
            Ok(policy) => {
                let cache_warning = policy.cache_problem().map(ToString::to_string);
                if policy.metadata().applies_to(review.subject) {
                    let evaluation = policy.evaluate_json(
                        &review_json.with_settings(&self.entry.settings),
                        limits.unwrap_or(policy.default_limits()),
                    );
                    (
                        Some(policy.name().to_owned()),
                        Some(evaluation.outcome),
                        evaluation.logs,
                        cache_warning,
                    )
                } else {
                    (
                        Some(policy.name().to_owned()),
                        None,
                        Vec::new(),
                        cache_warning,
                    )
                }
            }
        };
        PolicyReport {
            source: self.entry.module.to_string(),
            name,
            enforcement: self.entry.enforcement,
            on_error: self.entry.on_error,
            effect: effect(
                outcome.as_ref(),
                self.entry.enforcement,
                self.entry.on_error,
            ),
            outcome,
            logs,
            cache_warning,
        }
    }
}

/// A review serialised once for the whole set, without its `settings`: each policy gets its
/// own settings, and serialising the rest of the review again for every policy would cost more
/// than some policies take to evaluate.
struct ReviewJson {
    /// The review's JSON up to and including `"settings":`; `settings` is a review's last
    /// member, so a policy's settings and the closing brace complete it.
    up_to_settings: Vec<u8>,
}

impl ReviewJson {
    fn new(review: &Review) -> Self {
        let mut json = serde_json::to_vec(review).expect("a review always serialises to JSON");
        let settings =
            serde_json::to_vec(&review.settings).expect("a JSON value always serialises");
        let cut = json.len() - settings.len() - 1;
        assert!(
            json[..cut].ends_with(br#""settings":"#) && json[cut..].starts_with(&settings),
            "settings is the last member of a serialised review"
        );
        json.truncate(cut);
        Self {
            up_to_settings: json,
        }
    }

    fn with_settings(&self, settings: &Value) -> Vec<u8> {
        let mut json = Vec::with_capacity(self.up_to_settings.len() + 64);
        json.extend_from_slice(&self.up_to_settings);
        serde_json::to_writer(&mut json, settings).expect("a JSON value always serialises");
        json.push(b'}');
        json
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn review(settings: Value) -> Review {
        serde_json::from_value(json!({
            "apiVersion": "acr.policy/v1",
            "operation": "deploy",
            "subject": "connected-registry",
            "object": { "service.clusterIP": "10.0.0.1", "settings": "not the member" },
            "facts": { "certificates": [], "cluster": { "nodes": [{ "name": "n1" }] } },
            "settings": settings
        }))
        .expect("a valid review")
    }

    #[test]
    fn review_json_with_settings_is_the_review_serialised_with_those_settings() {
        let shared = ReviewJson::new(&review(json!({ "set": "by the caller" })));
        for settings in [
            Value::Null,
            json!({ "minimumDays": 30, "nested": { "list": [1, 2] } }),
            json!("text with \"quotes\" and }"),
        ] {
            let expected = serde_json::to_vec(&review(settings.clone())).expect("serialises");
            assert_eq!(
                String::from_utf8(shared.with_settings(&settings)).expect("UTF-8"),
                String::from_utf8(expected).expect("UTF-8")
            );
        }
    }
}

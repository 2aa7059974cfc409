//! A loaded policy and what evaluating it gives: allowed, denied, or an error, kept apart.

use crate::cache::{CacheProblem, ModuleHash};
use crate::error::{AbiCall, PolicyError, PolicyErrorKind};
use crate::inspect::AbiExports;
use crate::limits::Limits;
use crate::runtime::Runtime;
use crate::sandbox::{JsonEntry, SandboxSpec, SandboxState};
use serde_json::Value;
use std::fmt;
use std::sync::Arc;
use wasm_guest::{Metadata, Review, SettingsValidation, Verdict, Violation, Warning};
use wasmtime::InstancePre;

/// Where a loaded policy's compiled code came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleOrigin {
    /// Compiled by this load.
    Compiled,
    /// A built-in policy's code, precompiled when the binary was built.
    Precompiled,
    /// An identical module was already compiled by this host.
    ThisProcess,
    /// Read from the on-disk cache after its integrity check.
    DiskCache,
}

/// A policy module that passed every load check, ready to evaluate any number of times;
/// each evaluation gets a fresh store and instance.
pub struct LoadedPolicy {
    pub(crate) runtime: Arc<Runtime>,
    pub(crate) source: String,
    pub(crate) metadata: Metadata,
    pub(crate) module_hash: ModuleHash,
    pub(crate) instance_pre: InstancePre<SandboxState>,
    pub(crate) exports: AbiExports,
    pub(crate) origin: ModuleOrigin,
    pub(crate) cache_problem: Option<Arc<CacheProblem>>,
}

impl fmt::Debug for LoadedPolicy {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("LoadedPolicy")
            .field("source", &self.source)
            .field("metadata", &self.metadata)
            .field("module_hash", &self.module_hash)
            .field("exports", &self.exports)
            .field("origin", &self.origin)
            .field("cache_problem", &self.cache_problem)
            .finish_non_exhaustive()
    }
}

/// What one policy said about one review.
#[derive(Debug)]
pub enum PolicyOutcome {
    Allowed {
        warnings: Vec<Warning>,
    },
    Denied {
        violations: Vec<Violation>,
        warnings: Vec<Warning>,
    },
    /// The policy failed (trap, limit, nonsense answer); this is not a deny.
    Error(PolicyError),
}

impl PolicyOutcome {
    /// The verdict the policy answered, or its error.
    pub fn into_verdict(self) -> Result<Verdict, PolicyError> {
        match self {
            PolicyOutcome::Allowed { warnings } => Ok(Verdict {
                allowed: true,
                violations: Vec::new(),
                warnings,
            }),
            PolicyOutcome::Denied {
                violations,
                warnings,
            } => Ok(Verdict {
                allowed: false,
                violations,
                warnings,
            }),
            PolicyOutcome::Error(error) => Err(error),
        }
    }
}

/// An outcome together with what the policy logged while producing it.
#[derive(Debug)]
pub struct Evaluation {
    pub outcome: PolicyOutcome,
    pub logs: Vec<String>,
}

impl LoadedPolicy {
    /// The policy's metadata name.
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// Where the module came from, as given to [`crate::PolicyHost::load`].
    pub fn source(&self) -> &str {
        &self.source
    }

    /// SHA-256 of the module bytes, hexadecimal.
    pub fn module_sha256(&self) -> String {
        self.module_hash.to_hex()
    }

    pub fn origin(&self) -> ModuleOrigin {
        self.origin
    }

    /// A problem the on-disk cache had while loading this policy (a warning: the module was
    /// compiled instead): an unusable or foreign cache folder, or an entry not trusted.
    pub fn cache_problem(&self) -> Option<&CacheProblem> {
        self.cache_problem.as_deref()
    }

    /// Whether the module exports the optional `acr_validate_settings`.
    pub fn validates_settings(&self) -> bool {
        self.exports.validate_settings.is_some()
    }

    /// Evaluates `review` under the host's limits.
    pub fn evaluate(&self, review: &Review) -> Evaluation {
        self.evaluate_with_limits(review, &self.runtime.limits)
    }

    /// Evaluates `review` under `limits`.
    pub fn evaluate_with_limits(&self, review: &Review, limits: &Limits) -> Evaluation {
        let json = serde_json::to_vec(review).expect("a review always serialises to JSON");
        self.evaluate_json(&json, limits)
    }

    /// The limits [`evaluate`](Self::evaluate) applies: the host's.
    pub fn default_limits(&self) -> &Limits {
        &self.runtime.limits
    }

    /// Evaluates review JSON as given (for `--input review.json` and benchmarks); the module
    /// itself decides whether it is a valid review.
    pub fn evaluate_json(&self, review_json: &[u8], limits: &Limits) -> Evaluation {
        let run = self
            .sandbox()
            .call_json(limits, JsonEntry::Evaluate, review_json);
        let outcome = match run.result.and_then(|answer| self.parse_verdict(&answer)) {
            Ok(verdict) if verdict.allowed => PolicyOutcome::Allowed {
                warnings: verdict.warnings,
            },
            Ok(verdict) => PolicyOutcome::Denied {
                violations: verdict.violations,
                warnings: verdict.warnings,
            },
            Err(error) => PolicyOutcome::Error(error),
        };
        Evaluation {
            outcome,
            logs: run.logs,
        }
    }

    /// Asks the module whether it accepts `settings`; a module that does not export
    /// `acr_validate_settings` accepts any.
    pub fn validate_settings(&self, settings: &Value, limits: &Limits) -> Result<(), PolicyError> {
        if self.exports.validate_settings.is_none() {
            return Ok(());
        }
        let json = serde_json::to_vec(settings).expect("a JSON value always serialises");
        let answer = self
            .sandbox()
            .call_json(limits, JsonEntry::ValidateSettings, &json)
            .result?;
        let validation: SettingsValidation =
            self.parse_answer(&answer, AbiCall::ValidateSettings, "settings validation")?;
        if validation.valid {
            Ok(())
        } else {
            Err(PolicyError::during(
                self.name(),
                AbiCall::ValidateSettings,
                PolicyErrorKind::SettingsRefused {
                    message: validation
                        .message
                        .unwrap_or_else(|| "no reason given".to_owned()),
                },
            ))
        }
    }

    fn sandbox(&self) -> SandboxSpec<'_> {
        SandboxSpec {
            engine: &self.runtime.engine,
            ticker: &self.runtime.ticker,
            slots: &self.runtime.slots,
            instance_pre: &self.instance_pre,
            exports: &self.exports,
            fuel_metering: self.runtime.fuel_metering,
            policy: &self.metadata.name,
        }
    }

    fn parse_verdict(&self, answer: &[u8]) -> Result<Verdict, PolicyError> {
        let verdict: Verdict = self.parse_answer(answer, AbiCall::Evaluate, "verdict")?;
        if !verdict.is_consistent() {
            return Err(PolicyError::during(
                self.name(),
                AbiCall::Evaluate,
                PolicyErrorKind::InconsistentVerdict {
                    allowed: verdict.allowed,
                    violations: verdict.violations.len(),
                },
            ));
        }
        Ok(verdict)
    }

    fn parse_answer<T: serde::de::DeserializeOwned>(
        &self,
        answer: &[u8],
        call: AbiCall,
        expected: &'static str,
    ) -> Result<T, PolicyError> {
        let text = std::str::from_utf8(answer).map_err(|error| {
            PolicyError::during(self.name(), call, PolicyErrorKind::OutputNotUtf8 { error })
        })?;
        serde_json::from_str(text).map_err(|error| {
            PolicyError::during(
                self.name(),
                call,
                PolicyErrorKind::OutputNotJson {
                    expected,
                    error: Arc::new(error),
                },
            )
        })
    }
}

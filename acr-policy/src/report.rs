//! What a policy set answered about a review: the decision and each policy's part in it, in
//! the JSON (and YAML) shape `policy check -o json` prints.

use crate::enforcement::{Enforcement, OnError};
use crate::error::PolicyError;
use crate::policy::PolicyOutcome;
use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};
use wasm_guest::{Operation, SubjectKind, Violation, Warning};

/// The set's answer, and each policy's part in it.
///
/// Serialised as `decision`, `allowed`, `operation`, `subject`, `policies` and, when there are
/// any, `cacheWarnings` (each cache problem once).
#[derive(Debug)]
pub struct SetReport {
    /// The operation of the review evaluated.
    pub operation: Operation,
    /// The subject of the review evaluated.
    pub subject: SubjectKind,
    pub decision: Decision,
    pub policies: Vec<PolicyReport>,
}

/// The overall decision, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    /// At least one enforced policy denied the review.
    Denied,
    /// No enforced denial, but a policy failed and fails closed.
    BlockedByError,
    /// Allowed, with warnings (warn-only violations, fail-open errors, policy warnings).
    AllowedWithWarnings,
    Allowed,
}

/// What one policy of the set did.
///
/// Serialised as `policy` (its name, or its source when it did not load), `source`,
/// `enforcement`, `onError`, `result` (`allowed`, `denied`, `error` or `not-applicable`),
/// `effect`, `violations`, `warnings`, and when present `error`, `limit` and `logs`.
#[derive(Debug)]
pub struct PolicyReport {
    /// The module as the set names it.
    pub source: String,
    /// The policy's metadata name, once loaded.
    pub name: Option<String>,
    pub enforcement: Enforcement,
    pub on_error: OnError,
    /// `None` when the policy does not apply to the review's subject.
    pub outcome: Option<PolicyOutcome>,
    /// What the outcome does to the decision under `enforcement` and `on-error`.
    pub effect: Effect,
    pub logs: Vec<String>,
    /// A problem with the compilation cache while loading (the module was compiled instead).
    pub cache_warning: Option<String>,
}

/// What one policy's outcome does to the set's decision; serialised as its [`name`](Self::name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Denies,
    BlocksByError,
    Warns,
    Nothing,
}

impl Effect {
    /// The effect as reports name it: `denies`, `blocks-by-error`, `warns` or `nothing`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Denies => "denies",
            Self::BlocksByError => "blocks-by-error",
            Self::Warns => "warns",
            Self::Nothing => "nothing",
        }
    }
}

impl Serialize for Effect {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl SetReport {
    /// Whether the request may go ahead: allowed, with or without warnings.
    pub fn allowed(&self) -> bool {
        matches!(
            self.decision,
            Decision::Allowed | Decision::AllowedWithWarnings
        )
    }

    /// The policies' cache problems (a folder not private to the user, an entry that failed
    /// its integrity check), each once, in policy order.
    pub fn cache_warnings(&self) -> Vec<&str> {
        let mut warnings: Vec<&str> = Vec::new();
        for warning in self
            .policies
            .iter()
            .filter_map(|policy| policy.cache_warning.as_deref())
        {
            if !warnings.contains(&warning) {
                warnings.push(warning);
            }
        }
        warnings
    }

    /// How many policies had `effect`.
    pub fn count(&self, effect: Effect) -> usize {
        self.policies
            .iter()
            .filter(|policy| policy.effect == effect)
            .count()
    }
}

impl Serialize for SetReport {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let cache_warnings = self.cache_warnings();
        let mut report = serializer.serialize_struct("SetReport", 6)?;
        report.serialize_field("decision", &self.decision)?;
        report.serialize_field("allowed", &self.allowed())?;
        report.serialize_field("operation", &self.operation)?;
        report.serialize_field("subject", &self.subject)?;
        report.serialize_field("policies", &self.policies)?;
        if cache_warnings.is_empty() {
            report.skip_field("cacheWarnings")?;
        } else {
            report.serialize_field("cacheWarnings", &cache_warnings)?;
        }
        report.end()
    }
}

/// What one policy answered, as reports name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResultKind {
    Allowed,
    Denied,
    Error,
    /// The policy does not apply to the review's subject.
    NotApplicable,
}

impl PolicyReport {
    /// The policy's name, or its source when it did not load.
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.source)
    }

    /// What the policy answered.
    pub fn result(&self) -> ResultKind {
        match &self.outcome {
            None => ResultKind::NotApplicable,
            Some(PolicyOutcome::Allowed { .. }) => ResultKind::Allowed,
            Some(PolicyOutcome::Denied { .. }) => ResultKind::Denied,
            Some(PolicyOutcome::Error(_)) => ResultKind::Error,
        }
    }

    /// The violations, when the policy denied.
    pub fn violations(&self) -> &[Violation] {
        match &self.outcome {
            Some(PolicyOutcome::Denied { violations, .. }) => violations,
            _ => &[],
        }
    }

    /// The warnings, when the policy answered.
    pub fn warnings(&self) -> &[Warning] {
        match &self.outcome {
            Some(PolicyOutcome::Allowed { warnings } | PolicyOutcome::Denied { warnings, .. }) => {
                warnings
            }
            _ => &[],
        }
    }

    /// The error, when the policy failed.
    pub fn error(&self) -> Option<&PolicyError> {
        match &self.outcome {
            Some(PolicyOutcome::Error(error)) => Some(error),
            _ => None,
        }
    }
}

impl Serialize for PolicyReport {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let error = self.error();
        let limit = error.and_then(PolicyError::limit);
        let mut report = serializer.serialize_struct("PolicyReport", 11)?;
        report.serialize_field("policy", self.label())?;
        report.serialize_field("source", &self.source)?;
        report.serialize_field("enforcement", &self.enforcement)?;
        report.serialize_field("onError", &self.on_error)?;
        report.serialize_field("result", &self.result())?;
        report.serialize_field("effect", &self.effect)?;
        report.serialize_field("violations", self.violations())?;
        report.serialize_field("warnings", self.warnings())?;
        match error {
            Some(error) => report.serialize_field("error", &error.to_string())?,
            None => report.skip_field("error")?,
        }
        match limit {
            Some(limit) => report.serialize_field("limit", &limit.to_string())?,
            None => report.skip_field("limit")?,
        }
        if self.logs.is_empty() {
            report.skip_field("logs")?;
        } else {
            report.serialize_field("logs", &self.logs)?;
        }
        report.end()
    }
}

/// What `outcome` does to the set's decision under `enforcement` and `on_error`.
pub(crate) fn effect(
    outcome: Option<&PolicyOutcome>,
    enforcement: Enforcement,
    on_error: OnError,
) -> Effect {
    match (outcome, enforcement, on_error) {
        (None, _, _) => Effect::Nothing,
        (Some(PolicyOutcome::Allowed { warnings }), _, _) if warnings.is_empty() => Effect::Nothing,
        (Some(PolicyOutcome::Allowed { .. }), _, _) => Effect::Warns,
        (Some(PolicyOutcome::Denied { .. }), Enforcement::Deny, _) => Effect::Denies,
        (Some(PolicyOutcome::Denied { .. }), Enforcement::Warn, _) => Effect::Warns,
        (Some(PolicyOutcome::Error(_)), Enforcement::Deny, OnError::Deny) => Effect::BlocksByError,
        (Some(PolicyOutcome::Error(_)), _, _) => Effect::Warns,
    }
}

/// The set's decision: the most severe of its policies' effects.
pub(crate) fn decide(policies: &[PolicyReport]) -> Decision {
    let any = |wanted: Effect| policies.iter().any(|policy| policy.effect == wanted);
    if any(Effect::Denies) {
        Decision::Denied
    } else if any(Effect::BlocksByError) {
        Decision::BlockedByError
    } else if any(Effect::Warns) {
        Decision::AllowedWithWarnings
    } else {
        Decision::Allowed
    }
}

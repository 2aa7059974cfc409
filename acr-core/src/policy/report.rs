//! A policy check's result for people and machines: text, JSON/YAML, SARIF 2.1.0 and JUnit XML.

use crate::untrusted::Untrusted;
use acr_policy::{Decision, Effect, Enforcement, OnError, PolicyOutcome, SetReport};
use serde::Serialize;
use serde_json::{Value, json};
use std::fmt::Write as _;
use wasm_guest::{Operation, Review, SubjectKind, Violation, Warning};

/// The overall answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DecisionKind {
    Allowed,
    AllowedWithWarnings,
    /// An enforced policy denied the request.
    Denied,
    /// A policy failed (trap, limit, bad answer) and fails closed.
    BlockedByError,
}

/// What one policy answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResultKind {
    Allowed,
    Denied,
    Error,
    /// The policy does not apply to this subject.
    NotApplicable,
}

/// One policy's part in the check.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyResult {
    /// The policy's name (its source when it did not load).
    pub policy: String,
    pub source: String,
    pub enforcement: &'static str,
    pub on_error: &'static str,
    pub result: ResultKind,
    /// What the result does to the decision: denies, blocks-by-error, warns or nothing.
    pub effect: &'static str,
    pub violations: Vec<Violation>,
    pub warnings: Vec<Warning>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The sandbox limit hit, when the error is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub logs: Vec<String>,
}

/// The whole check.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckReport {
    pub decision: DecisionKind,
    pub allowed: bool,
    pub operation: Operation,
    pub subject: SubjectKind,
    pub policies: Vec<PolicyResult>,
    /// Problems with the compiled-policy cache (a folder not private to the user, an entry
    /// that failed its integrity check), each once; the modules were compiled instead.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cache_warnings: Vec<String>,
}

pub(super) fn enforcement_name(enforcement: Enforcement) -> &'static str {
    match enforcement {
        Enforcement::Deny => "deny",
        Enforcement::Warn => "warn",
    }
}

pub(super) fn on_error_name(on_error: OnError) -> &'static str {
    match on_error {
        OnError::Deny => "deny",
        OnError::Allow => "allow",
    }
}

impl CheckReport {
    pub(super) fn new(review: &Review, set: &SetReport) -> Self {
        let decision = match set.decision {
            Decision::Allowed => DecisionKind::Allowed,
            Decision::AllowedWithWarnings => DecisionKind::AllowedWithWarnings,
            Decision::Denied => DecisionKind::Denied,
            Decision::BlockedByError => DecisionKind::BlockedByError,
        };
        let policies = set
            .policies
            .iter()
            .map(|report| {
                let (result, violations, warnings, error, limit) = match &report.outcome {
                    None => (ResultKind::NotApplicable, vec![], vec![], None, None),
                    Some(PolicyOutcome::Allowed { warnings }) => {
                        (ResultKind::Allowed, vec![], warnings.clone(), None, None)
                    }
                    Some(PolicyOutcome::Denied {
                        violations,
                        warnings,
                    }) => (
                        ResultKind::Denied,
                        violations.clone(),
                        warnings.clone(),
                        None,
                        None,
                    ),
                    Some(PolicyOutcome::Error(error)) => (
                        ResultKind::Error,
                        vec![],
                        vec![],
                        Some(error.to_string()),
                        error.limit().map(|limit| limit.to_string()),
                    ),
                };
                PolicyResult {
                    policy: report.name.clone().unwrap_or_else(|| report.source.clone()),
                    source: report.source.clone(),
                    enforcement: enforcement_name(report.enforcement),
                    on_error: on_error_name(report.on_error),
                    result,
                    effect: match report.effect {
                        Effect::Denies => "denies",
                        Effect::BlocksByError => "blocks-by-error",
                        Effect::Warns => "warns",
                        Effect::Nothing => "nothing",
                    },
                    violations,
                    warnings,
                    error,
                    limit,
                    logs: report.logs.clone(),
                }
            })
            .collect();
        let mut cache_warnings: Vec<String> = Vec::new();
        for warning in set
            .policies
            .iter()
            .filter_map(|policy| policy.cache_warning.as_ref())
        {
            if !cache_warnings.contains(warning) {
                cache_warnings.push(warning.clone());
            }
        }
        Self {
            cache_warnings,
            allowed: matches!(
                decision,
                DecisionKind::Allowed | DecisionKind::AllowedWithWarnings
            ),
            decision,
            operation: review.operation,
            subject: review.subject,
            policies,
        }
    }

    /// One line per policy and one per violation, warning or error, then the decision.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        for policy in &self.policies {
            let status = match (policy.result, policy.effect) {
                (ResultKind::NotApplicable, _) => "SKIP ",
                (ResultKind::Allowed, _) if policy.warnings.is_empty() => "PASS ",
                (ResultKind::Allowed, _) | (_, "warns") => "WARN ",
                (ResultKind::Denied, _) => "DENY ",
                (ResultKind::Error, _) => "ERROR",
            };
            let _ = writeln!(text, "{status} {}", Untrusted(&policy.policy));
            for violation in &policy.violations {
                let _ = writeln!(
                    text,
                    "        {}{}: {}",
                    Untrusted(&violation.code),
                    field_suffix(violation.field.as_deref()),
                    Untrusted(&violation.message)
                );
            }
            for warning in &policy.warnings {
                let _ = writeln!(
                    text,
                    "        warning {}{}: {}",
                    Untrusted(&warning.code),
                    field_suffix(warning.field.as_deref()),
                    Untrusted(&warning.message)
                );
            }
            if let Some(error) = &policy.error {
                let _ = writeln!(text, "        {}", Untrusted(error));
            }
        }
        for warning in &self.cache_warnings {
            let _ = writeln!(text, "WARN  policy cache: {warning}");
        }
        let _ = writeln!(text, "Decision: {}", self.decision_text());
        text
    }

    fn decision_text(&self) -> String {
        let count = |wanted: &str| self.policies.iter().filter(|p| p.effect == wanted).count();
        match self.decision {
            DecisionKind::Allowed => "allowed".to_owned(),
            DecisionKind::AllowedWithWarnings => {
                format!("allowed with warnings from {}", policies(count("warns")))
            }
            DecisionKind::Denied => format!("denied by {}", policies(count("denies"))),
            DecisionKind::BlockedByError => format!(
                "blocked: {} failed and fail closed (on-error: deny)",
                policies(count("blocks-by-error"))
            ),
        }
    }

    /// The one-line summary for stderr when the request may not go ahead.
    pub fn refusal(&self) -> Option<String> {
        (!self.allowed).then(|| format!("error: {}", self.decision_text()))
    }

    /// SARIF 2.1.0, one result per violation, warning and error, for code-scanning UIs.
    pub fn to_sarif(&self, tool_name: &str, tool_version: &str) -> Value {
        let mut rules: Vec<Value> = Vec::new();
        let mut results = Vec::new();
        let mut add = |rule_id: String,
                       level: &str,
                       message: &str,
                       policy: &str,
                       field: Option<&str>| {
            if !rules.iter().any(|rule| rule["id"] == rule_id.as_str()) {
                rules.push(json!({ "id": rule_id, "properties": { "policy": policy } }));
            }
            let mut result = json!({
                "ruleId": rule_id,
                "level": level,
                "message": { "text": message },
                "properties": { "policy": policy },
            });
            if let Some(field) = field {
                result["locations"] = json!([{ "logicalLocations": [{ "fullyQualifiedName": field, "kind": "member" }] }]);
            }
            results.push(result);
        };
        for policy in &self.policies {
            let violation_level = if policy.effect == "denies" {
                "error"
            } else {
                "warning"
            };
            for violation in &policy.violations {
                add(
                    violation.code.clone(),
                    violation_level,
                    &violation.message,
                    &policy.policy,
                    violation.field.as_deref(),
                );
            }
            for warning in &policy.warnings {
                add(
                    warning.code.clone(),
                    "warning",
                    &warning.message,
                    &policy.policy,
                    warning.field.as_deref(),
                );
            }
            if let Some(error) = &policy.error {
                let level = if policy.effect == "blocks-by-error" {
                    "error"
                } else {
                    "warning"
                };
                add(
                    "POLICY_ERROR".to_owned(),
                    level,
                    error,
                    &policy.policy,
                    None,
                );
            }
        }
        json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": { "driver": { "name": tool_name, "version": tool_version, "rules": rules } },
                "results": results,
            }],
        })
    }

    /// JUnit XML: one test case per policy; a deny is a failure, an error is an error, a policy
    /// that does not apply is skipped.
    pub fn to_junit(&self, suite_name: &str) -> String {
        let failures = self
            .policies
            .iter()
            .filter(|p| p.result == ResultKind::Denied)
            .count();
        let errors = self
            .policies
            .iter()
            .filter(|p| p.result == ResultKind::Error)
            .count();
        let skipped = self
            .policies
            .iter()
            .filter(|p| p.result == ResultKind::NotApplicable)
            .count();
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            xml,
            "<testsuites><testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">",
            xml_escape(suite_name),
            self.policies.len()
        );
        for policy in &self.policies {
            let _ = write!(
                xml,
                "  <testcase classname=\"policy\" name=\"{}\">",
                xml_escape(&policy.policy)
            );
            match policy.result {
                ResultKind::Denied => {
                    let body: Vec<String> = policy
                        .violations
                        .iter()
                        .map(|v| {
                            format!(
                                "{}{}: {}",
                                v.code,
                                field_suffix(v.field.as_deref()),
                                v.message
                            )
                        })
                        .collect();
                    let first = policy
                        .violations
                        .first()
                        .map(|v| v.code.as_str())
                        .unwrap_or("DENIED");
                    let _ = write!(
                        xml,
                        "<failure message=\"{}\" type=\"{}\">{}</failure>",
                        xml_escape(first),
                        policy.effect,
                        xml_escape(&body.join("\n"))
                    );
                }
                ResultKind::Error => {
                    let message = policy.error.as_deref().unwrap_or("policy error");
                    let _ = write!(
                        xml,
                        "<error message=\"{}\" type=\"{}\"/>",
                        xml_escape(message),
                        policy.effect
                    );
                }
                ResultKind::NotApplicable => xml.push_str("<skipped message=\"does not apply\"/>"),
                ResultKind::Allowed => {}
            }
            xml.push_str("</testcase>\n");
        }
        xml.push_str("</testsuite></testsuites>\n");
        xml
    }
}

fn policies(count: usize) -> String {
    match count {
        1 => "1 policy".to_owned(),
        n => format!("{n} policies"),
    }
}

fn field_suffix(field: Option<&str>) -> String {
    field
        .map(|field| format!(" [{}]", Untrusted(field)))
        .unwrap_or_default()
}

fn xml_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => escaped.push(c),
        }
    }
    escaped
}

//! A policy check's result for people and machines: text, JSON/YAML, SARIF 2.1.0, JUnit XML,
//! and GitHub Actions and Azure Pipelines annotations.

use super::locations::ResultLocations;
use crate::untrusted::Untrusted;
use acr_policy::{Decision, Effect, Enforcement, OnError, PolicyOutcome, SetReport};
use serde::Serialize;
use serde_json::{Value, json};
use std::fmt::Write as _;
use wasm_guest::{Operation, Review, SubjectKind, Violation, Warning};

/// How serious a finding is, in SARIF's and the CI systems' words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Error,
    Warning,
}

impl Level {
    fn sarif(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
        }
    }
}

/// One violation, warning or policy error, as every machine format reports it.
#[derive(Debug, Clone, Copy)]
struct Finding<'a> {
    code: &'a str,
    level: Level,
    message: &'a str,
    policy: &'a str,
    field: Option<&'a str>,
}

/// A GitHub workflow command's message: `%`, CR and LF escaped.
fn github_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A GitHub workflow command's property: as a message, and `:` and `,` too.
fn github_property(text: &str) -> String {
    github_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// An Azure Pipelines logging command's message: `%`, CR and LF escaped.
fn azure_data(text: &str) -> String {
    text.replace('%', "%AZP25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// An Azure Pipelines logging command's property: as a message, and `;` and `]` too.
fn azure_property(text: &str) -> String {
    azure_data(text).replace(';', "%3B").replace(']', "%5D")
}

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

    /// Every violation, warning and error, with its level, in policy order.
    fn findings(&self) -> Vec<Finding<'_>> {
        let mut findings = Vec::new();
        for policy in &self.policies {
            let violation_level = if policy.effect == "denies" {
                Level::Error
            } else {
                Level::Warning
            };
            for violation in &policy.violations {
                findings.push(Finding {
                    code: &violation.code,
                    level: violation_level,
                    message: &violation.message,
                    policy: &policy.policy,
                    field: violation.field.as_deref(),
                });
            }
            for warning in &policy.warnings {
                findings.push(Finding {
                    code: &warning.code,
                    level: Level::Warning,
                    message: &warning.message,
                    policy: &policy.policy,
                    field: warning.field.as_deref(),
                });
            }
            if let Some(error) = &policy.error {
                findings.push(Finding {
                    code: "POLICY_ERROR",
                    level: if policy.effect == "blocks-by-error" {
                        Level::Error
                    } else {
                        Level::Warning
                    },
                    message: error,
                    policy: &policy.policy,
                    field: None,
                });
            }
        }
        findings
    }

    /// SARIF 2.1.0, one result per violation, warning and error, each with the place the setting
    /// it names was given (a file and line, or the command line as an artifact).
    pub fn to_sarif(
        &self,
        tool_name: &str,
        tool_version: &str,
        locations: &ResultLocations,
    ) -> Value {
        let mut rules: Vec<Value> = Vec::new();
        let mut results = Vec::new();
        for finding in self.findings() {
            if !rules.iter().any(|rule| rule["id"] == finding.code) {
                rules.push(
                    json!({ "id": finding.code, "properties": { "policy": finding.policy } }),
                );
            }
            let place = locations.locate(finding.field);
            let mut region = json!({ "startLine": place.line.unwrap_or(1) });
            if let Some((start, end)) = place.columns {
                region["startColumn"] = json!(start);
                region["endColumn"] = json!(end);
            }
            let mut location = json!({
                "physicalLocation": {
                    "artifactLocation": {
                        "uri": locations.artifacts[place.artifact].uri,
                        "index": place.artifact,
                    },
                    "region": region,
                },
            });
            if let Some(field) = finding.field {
                location["logicalLocations"] =
                    json!([{ "fullyQualifiedName": field, "kind": "member" }]);
            }
            results.push(json!({
                "ruleId": finding.code,
                "level": finding.level.sarif(),
                "message": { "text": finding.message },
                "locations": [location],
                "properties": { "policy": finding.policy },
            }));
        }
        let artifacts: Vec<Value> = locations
            .artifacts
            .iter()
            .map(|artifact| {
                let mut entry = json!({ "location": { "uri": artifact.uri } });
                if let Some(text) = &artifact.contents {
                    entry["contents"] = json!({ "text": text });
                    entry["description"] =
                        json!({ "text": "the command line (protected values redacted)" });
                }
                entry
            })
            .collect();
        let command_line = locations.artifacts[0].contents.clone().unwrap_or_default();
        json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": { "driver": { "name": tool_name, "version": tool_version, "rules": rules } },
                "invocations": [{ "commandLine": command_line, "executionSuccessful": true }],
                "artifacts": artifacts,
                "results": results,
            }],
        })
    }

    /// GitHub Actions workflow commands: one `::error` or `::warning` per finding, with the file
    /// and line where the setting was given, then the decision as a plain line.
    pub fn to_github(&self, locations: &ResultLocations) -> String {
        let mut out = String::new();
        for finding in self.findings() {
            let place = locations.locate(finding.field);
            let mut properties = Vec::new();
            if let Some(path) = &locations.artifacts[place.artifact].path {
                properties.push(format!("file={}", github_property(path)));
                if let Some(line) = place.line {
                    properties.push(format!("line={line}"));
                }
            }
            properties.push(format!(
                "title={}",
                github_property(&format!("{} ({})", finding.code, finding.policy))
            ));
            let _ = writeln!(
                out,
                "::{} {}::{}",
                finding.level.sarif(),
                properties.join(","),
                github_data(finding.message)
            );
        }
        let _ = writeln!(out, "Decision: {}", self.decision_text());
        out
    }

    /// Azure Pipelines logging commands: one `task.logissue` per finding, with the file and line
    /// where the setting was given, then the decision as a plain line.
    pub fn to_azure_pipelines(&self, locations: &ResultLocations) -> String {
        let mut out = String::new();
        for finding in self.findings() {
            let place = locations.locate(finding.field);
            let mut properties = format!("type={};", finding.level.sarif());
            if let Some(path) = &locations.artifacts[place.artifact].path {
                let _ = write!(properties, "sourcepath={};", azure_property(path));
                if let Some(line) = place.line {
                    let _ = write!(properties, "linenumber={line};");
                }
            }
            let _ = write!(properties, "code={};", azure_property(finding.code));
            let _ = writeln!(
                out,
                "##vso[task.logissue {properties}]{}",
                azure_data(&format!("{}: {}", finding.policy, finding.message))
            );
        }
        let _ = writeln!(out, "Decision: {}", self.decision_text());
        out
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

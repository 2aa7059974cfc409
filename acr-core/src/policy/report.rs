//! A policy check's result for people and machines: text, SARIF 2.1.0, JUnit XML, and GitHub
//! Actions and Azure Pipelines annotations (JSON and YAML are the engine report's own `Serialize`).

use super::locations::ResultLocations;
use crate::untrusted::Untrusted;
use acr_policy::{Decision, Effect, ResultKind, SetReport};
use serde_json::{Value, json};
use std::borrow::Cow;
use std::fmt::Write as _;

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
#[derive(Debug, Clone)]
struct Finding<'a> {
    code: &'a str,
    level: Level,
    message: Cow<'a, str>,
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

/// The report formats of a check, for the engine's [`SetReport`] (whose `Serialize` gives the
/// JSON and YAML): text for people, SARIF, JUnit XML and CI annotations for machines.
pub trait ReportFormats {
    /// One line per policy and one per violation, warning or error, then the decision.
    fn to_text(&self) -> String;
    /// The one-line summary for stderr when the request may not go ahead.
    fn refusal(&self) -> Option<String>;
    /// SARIF 2.1.0, one result per violation, warning and error, each with the place the
    /// setting it names was given (a file and line, or the command line as an artifact).
    fn to_sarif(&self, tool_name: &str, tool_version: &str, locations: &ResultLocations) -> Value;
    /// GitHub Actions workflow commands: one `::error` or `::warning` per finding, with the
    /// file and line where the setting was given, then the decision as a plain line.
    fn to_github(&self, locations: &ResultLocations) -> String;
    /// Azure Pipelines logging commands: one `task.logissue` per finding, with the file and
    /// line where the setting was given, then the decision as a plain line.
    fn to_azure_pipelines(&self, locations: &ResultLocations) -> String;
    /// JUnit XML: one test case per policy; a deny is a failure, an error is an error, a
    /// policy that does not apply is skipped.
    fn to_junit(&self, suite_name: &str) -> String;
}

impl ReportFormats for SetReport {
    fn to_text(&self) -> String {
        let mut text = String::new();
        for policy in &self.policies {
            let status = match (policy.result(), policy.effect) {
                (ResultKind::NotApplicable, _) => "SKIP ",
                (ResultKind::Allowed, _) if policy.warnings().is_empty() => "PASS ",
                (ResultKind::Allowed, _) | (_, Effect::Warns) => "WARN ",
                (ResultKind::Denied, _) => "DENY ",
                (ResultKind::Error, _) => "ERROR",
            };
            let _ = writeln!(text, "{status} {}", Untrusted(policy.label()));
            for violation in policy.violations() {
                let _ = writeln!(
                    text,
                    "        {}{}: {}",
                    Untrusted(&violation.code),
                    field_suffix(violation.field.as_deref()),
                    Untrusted(&violation.message)
                );
            }
            for warning in policy.warnings() {
                let _ = writeln!(
                    text,
                    "        warning {}{}: {}",
                    Untrusted(&warning.code),
                    field_suffix(warning.field.as_deref()),
                    Untrusted(&warning.message)
                );
            }
            if let Some(error) = policy.error() {
                let _ = writeln!(text, "        {}", Untrusted(&error.to_string()));
            }
        }
        for warning in self.cache_warnings() {
            let _ = writeln!(text, "WARN  policy cache: {warning}");
        }
        let _ = writeln!(text, "Decision: {}", decision_text(self));
        text
    }

    fn refusal(&self) -> Option<String> {
        (!self.allowed()).then(|| format!("error: {}", decision_text(self)))
    }

    fn to_sarif(&self, tool_name: &str, tool_version: &str, locations: &ResultLocations) -> Value {
        let mut rules: Vec<Value> = Vec::new();
        let mut results = Vec::new();
        for finding in findings(self) {
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

    fn to_github(&self, locations: &ResultLocations) -> String {
        let mut out = String::new();
        for finding in findings(self) {
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
                github_data(&finding.message)
            );
        }
        let _ = writeln!(out, "Decision: {}", decision_text(self));
        out
    }

    fn to_azure_pipelines(&self, locations: &ResultLocations) -> String {
        let mut out = String::new();
        for finding in findings(self) {
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
        let _ = writeln!(out, "Decision: {}", decision_text(self));
        out
    }

    fn to_junit(&self, suite_name: &str) -> String {
        let count = |wanted: ResultKind| {
            self.policies
                .iter()
                .filter(|policy| policy.result() == wanted)
                .count()
        };
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            xml,
            "<testsuites><testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
            xml_escape(suite_name),
            self.policies.len(),
            count(ResultKind::Denied),
            count(ResultKind::Error),
            count(ResultKind::NotApplicable),
        );
        for policy in &self.policies {
            let _ = write!(
                xml,
                "  <testcase classname=\"policy\" name=\"{}\">",
                xml_escape(policy.label())
            );
            let effect = policy.effect.name();
            match policy.result() {
                ResultKind::Denied => {
                    let body: Vec<String> = policy
                        .violations()
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
                        .violations()
                        .first()
                        .map(|v| v.code.as_str())
                        .unwrap_or("DENIED");
                    let _ = write!(
                        xml,
                        "<failure message=\"{}\" type=\"{effect}\">{}</failure>",
                        xml_escape(first),
                        xml_escape(&body.join("\n"))
                    );
                }
                ResultKind::Error => {
                    let message = policy
                        .error()
                        .map_or_else(|| "policy error".to_owned(), ToString::to_string);
                    let _ = write!(
                        xml,
                        "<error message=\"{}\" type=\"{effect}\"/>",
                        xml_escape(&message)
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

/// The decision in words: `allowed`, `denied by 2 policies`, ...
fn decision_text(report: &SetReport) -> String {
    match report.decision {
        Decision::Allowed => "allowed".to_owned(),
        Decision::AllowedWithWarnings => format!(
            "allowed with warnings from {}",
            policies(report.count(Effect::Warns))
        ),
        Decision::Denied => format!("denied by {}", policies(report.count(Effect::Denies))),
        Decision::BlockedByError => format!(
            "blocked: {} failed and fail closed (on-error: deny)",
            policies(report.count(Effect::BlocksByError))
        ),
    }
}

/// Every violation, warning and error, with its level, in policy order.
fn findings(report: &SetReport) -> Vec<Finding<'_>> {
    let mut findings = Vec::new();
    for policy in &report.policies {
        let violation_level = if policy.effect == Effect::Denies {
            Level::Error
        } else {
            Level::Warning
        };
        for violation in policy.violations() {
            findings.push(Finding {
                code: &violation.code,
                level: violation_level,
                message: Cow::Borrowed(&violation.message),
                policy: policy.label(),
                field: violation.field.as_deref(),
            });
        }
        for warning in policy.warnings() {
            findings.push(Finding {
                code: &warning.code,
                level: Level::Warning,
                message: Cow::Borrowed(&warning.message),
                policy: policy.label(),
                field: warning.field.as_deref(),
            });
        }
        if let Some(error) = policy.error() {
            findings.push(Finding {
                code: "POLICY_ERROR",
                level: if policy.effect == Effect::BlocksByError {
                    Level::Error
                } else {
                    Level::Warning
                },
                message: Cow::Owned(error.to_string()),
                policy: policy.label(),
                field: None,
            });
        }
    }
    findings
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

//! What `cert verify` reports: one check per line with its outcome, and the whole report.

use std::fmt::Write as _;

use serde::Serialize;

/// The result of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Warn,
    Fail,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Warn => "WARN",
            Outcome::Fail => "FAIL",
        }
    }
}

/// One check: what was checked, about what, and how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// A stable kebab-case identifier: "parse", "key-matches", "chain-order", "signature",
    /// "trust-anchor", "chain-unused", "ca-flags", "validity", "san-covers", "not-cn-only",
    /// "server-auth", "key-usage".
    pub name: String,
    /// What it was about: a certificate subject, "chain", or a name such as "IP 10.0.0.1".
    pub subject: String,
    pub outcome: Outcome,
    pub detail: String,
}

/// Every check made, in the order made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub checks: Vec<Check>,
}

impl VerifyReport {
    /// True when no check failed (warnings allowed).
    pub fn passed(&self) -> bool {
        self.failures().next().is_none()
    }

    /// The failed checks.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.with_outcome(Outcome::Fail)
    }

    /// The checks with a warning.
    pub fn warnings(&self) -> impl Iterator<Item = &Check> {
        self.with_outcome(Outcome::Warn)
    }

    fn with_outcome(&self, outcome: Outcome) -> impl Iterator<Item = &Check> {
        self.checks
            .iter()
            .filter(move |check| check.outcome == outcome)
    }

    /// One aligned line per check, then a summary line.
    pub fn to_text(&self) -> String {
        let name_width = self
            .checks
            .iter()
            .map(|check| check.name.len())
            .max()
            .unwrap_or(0);
        let mut text = String::new();
        for check in &self.checks {
            let _ = writeln!(
                text,
                "{}  {:<name_width$}  {}: {}",
                check.outcome.label(),
                check.name,
                check.subject,
                check.detail,
            );
        }
        let count = |outcome| self.with_outcome(outcome).count();
        let _ = writeln!(
            text,
            "{}: {} failed, {} warnings, {} passed",
            if self.passed() { "PASSED" } else { "FAILED" },
            count(Outcome::Fail),
            count(Outcome::Warn),
            count(Outcome::Pass),
        );
        text
    }
}

impl Serialize for VerifyReport {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Report<'a> {
            passed: bool,
            checks: &'a [Check],
        }
        Report {
            passed: self.passed(),
            checks: &self.checks,
        }
        .serialize(serializer)
    }
}

/// Collects the checks in the order they are made.
pub(super) struct Reporter {
    pub(super) checks: Vec<Check>,
}

impl Reporter {
    pub(super) fn add(&mut self, name: &str, subject: &str, outcome: Outcome, detail: String) {
        self.checks.push(Check {
            name: name.to_owned(),
            subject: subject.to_owned(),
            outcome,
            detail,
        });
    }
}

//! `policy test`: a policy's fixtures (a review and the verdict it must get) run through the real
//! engine under its sandbox limits.

use acr_policy::{HostConfig, PolicyHost, PolicyOutcome, Review};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use wasm_guest::Verdict;

/// One fixture file: `{ "review": ..., "verdict": ... }`.
#[derive(Debug, Deserialize)]
struct Fixture {
    review: Review,
    verdict: Verdict,
}

/// Why the fixtures could not be run at all.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} holds no fixtures (*.json)", dir.display())]
    NoFixtures { dir: PathBuf },
    #[error("cannot start the policy engine")]
    Host(#[from] acr_policy::HostError),
    #[error("the module does not load")]
    Load(#[from] acr_policy::PolicyError),
}

/// What one fixture got.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FixtureResult {
    pub fixture: String,
    pub passed: bool,
    /// What came instead of the expected verdict, when it differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// Every fixture's result.
#[derive(Debug, Clone, Serialize)]
pub struct FixtureReport {
    pub policy: String,
    pub results: Vec<FixtureResult>,
}

impl FixtureReport {
    pub fn passed(&self) -> bool {
        self.results.iter().all(|result| result.passed)
    }

    /// `PASS  name` / `FAIL  name` lines, problems indented, then `N passed, M failed`.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        for result in &self.results {
            let status = if result.passed { "PASS" } else { "FAIL" };
            let _ = writeln!(text, "{status}  {}", result.fixture);
            if let Some(problem) = &result.problem {
                for line in problem.lines() {
                    let _ = writeln!(text, "      {line}");
                }
            }
        }
        let passed = self.results.iter().filter(|result| result.passed).count();
        let _ = writeln!(
            text,
            "{passed} passed, {} failed",
            self.results.len() - passed
        );
        text
    }
}

/// Loads `module` and evaluates every `fixtures_dir/*.json`, comparing whole verdicts.
pub fn run_fixtures(
    module_label: &str,
    module: &[u8],
    fixtures_dir: &Path,
) -> Result<FixtureReport, FixtureError> {
    let read_error = |path: &Path, source| FixtureError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(fixtures_dir)
        .map_err(|source| read_error(fixtures_dir, source))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(FixtureError::NoFixtures {
            dir: fixtures_dir.to_path_buf(),
        });
    }
    let host = PolicyHost::new(HostConfig::default())?;
    let policy = host.load(module_label, module)?;
    let mut results = Vec::new();
    for path in paths {
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = acr_io::read(&path, acr_io::InputKind::Document)
            .map_err(|source| read_error(&path, source))?;
        let problem = match acr_io::json::from_slice::<Fixture>(&text) {
            Err(error) => Some(format!("not a fixture ({{review, verdict}}): {error}")),
            Ok(fixture) => compare(&fixture.verdict, policy.evaluate(&fixture.review).outcome),
        };
        results.push(FixtureResult {
            fixture: name,
            passed: problem.is_none(),
            problem,
        });
    }
    Ok(FixtureReport {
        policy: policy.name().to_owned(),
        results,
    })
}

fn compare(expected: &Verdict, outcome: PolicyOutcome) -> Option<String> {
    let actual = match outcome.into_verdict() {
        Ok(verdict) => verdict,
        Err(error) => return Some(format!("error instead of a verdict: {error}")),
    };
    (actual != *expected).then(|| {
        let show = |verdict: &Verdict| serde_json::to_string(verdict).unwrap_or_default();
        format!("expected {}\ngot      {}", show(expected), show(&actual))
    })
}

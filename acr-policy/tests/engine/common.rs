//! Helpers shared by the integration tests: a host with small limits, fixtures, a review.

use acr_policy::{HostConfig, Limits, LoadedPolicy, PolicyError, PolicyHost, PolicyOutcome};
use std::path::{Path, PathBuf};
use std::time::Duration;
use wasm_guest::Review;

/// Small limits so hostile modules are stopped quickly.
pub fn test_limits() -> Limits {
    Limits {
        deadline: Duration::from_millis(100),
        memory_bytes: 4 << 20,
        max_output_bytes: 64 << 10,
        ..Limits::default()
    }
}

pub fn host() -> PolicyHost {
    PolicyHost::new(HostConfig {
        limits: test_limits(),
        ..HostConfig::default()
    })
    .expect("policy host starts")
}

pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The binary module of a WAT fixture, for example `hostile/log-flood.wat`.
pub fn fixture_wasm(name: &str) -> Vec<u8> {
    wat::parse_file(fixture_path(name)).expect("fixture WAT parses")
}

pub fn load_fixture(host: &PolicyHost, name: &str) -> Result<LoadedPolicy, PolicyError> {
    host.load(name, &fixture_wasm(name))
}

pub fn review() -> Review {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "acr.policy/v1",
        "operation": "deploy",
        "subject": "connected-registry",
        "object": { "service.clusterIP": "192.100.100.1", "trustDistribution.enabled": true }
    }))
    .expect("test review parses")
}

/// The error a policy's evaluation ended with; fails the test on any other outcome.
pub fn evaluation_error(policy: &LoadedPolicy, limits: &Limits) -> PolicyError {
    match policy.evaluate_with_limits(&review(), limits).outcome {
        PolicyOutcome::Error(error) => error,
        other => panic!("expected an error outcome, got {other:?}"),
    }
}

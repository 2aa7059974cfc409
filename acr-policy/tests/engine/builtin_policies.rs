//! The built-in policies, as embedded by build.rs, through the real engine: each loads under
//! its own name and answers every fixture in `policies/<name>/fixtures/` as recorded there.

use crate::common::{host, review};
use acr_policy::{BUILTIN_POLICIES, LoadedPolicy, PolicyHost, PolicyOutcome, PolicySet};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use wasm_guest::{Review, Verdict};

/// One host for these tests, so each built-in policy is compiled once (slow in debug builds).
fn shared_host() -> &'static PolicyHost {
    static HOST: OnceLock<PolicyHost> = OnceLock::new();
    HOST.get_or_init(host)
}

/// `policies/<name>/fixtures/<case>.json`: a review and the verdict it must get.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    review: Review,
    verdict: Verdict,
}

fn fixtures_of(name: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../policies")
        .join(name)
        .join("fixtures");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.expect("fixture entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths
}

/// The built-in policy `name`, loaded into the shared host.
fn load_builtin(name: &str) -> LoadedPolicy {
    let builtin = BUILTIN_POLICIES
        .iter()
        .find(|builtin| builtin.name == name)
        .expect("built in");
    shared_host()
        .load(&format!("builtin:{name}"), builtin.wasm)
        .expect("loads")
}

fn verdict_of(outcome: PolicyOutcome) -> Verdict {
    outcome
        .into_verdict()
        .unwrap_or_else(|error| panic!("{error}"))
}

#[test]
fn trust_distribution_policy_is_built_in() {
    let names: Vec<&str> = BUILTIN_POLICIES
        .iter()
        .map(|builtin| builtin.name)
        .collect();
    assert!(
        names.contains(&"trust-distribution-requires-ca"),
        "{names:?}"
    );
}

#[test]
fn every_builtin_answers_its_fixtures() {
    let host = shared_host();
    for builtin in BUILTIN_POLICIES {
        let policy = host
            .load(&format!("builtin:{}", builtin.name), builtin.wasm)
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(
            policy.name(),
            builtin.name,
            "metadata name is the crate name"
        );
        let fixtures = fixtures_of(builtin.name);
        assert!(!fixtures.is_empty(), "{} has no fixtures", builtin.name);
        let mut seen = (false, false);
        for path in fixtures {
            let text = std::fs::read_to_string(&path).expect("fixture reads");
            let fixture: Fixture = serde_json::from_str(&text)
                .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
            let verdict = verdict_of(policy.evaluate(&fixture.review).outcome);
            assert_eq!(verdict, fixture.verdict, "{}", path.display());
            if verdict.allowed {
                seen.0 = true;
            } else {
                seen.1 = true;
            }
        }
        assert_eq!(
            seen,
            (true, true),
            "{} needs allow and deny fixtures",
            builtin.name
        );
    }
}

#[test]
fn builtin_refuses_a_review_of_another_api_version_by_trapping() {
    let policy = load_builtin("trust-distribution-requires-ca");
    let mut review = review();
    review.api_version = "acr.policy/v2".to_owned();
    let evaluation = policy.evaluate(&review);
    let PolicyOutcome::Error(error) = evaluation.outcome else {
        panic!("expected an error, got {:?}", evaluation.outcome);
    };
    let expected_log =
        "review apiVersion is `acr.policy/v2`, this policy understands `acr.policy/v1`";
    assert_eq!(evaluation.logs, vec![expected_log]);
    assert_eq!(
        error.to_string(),
        format!(
            "policy `trust-distribution-requires-ca` trapped: wasm trap: wasm `unreachable` \
             instruction executed (its last log line: {expected_log}) during acr_evaluate"
        )
    );
}

/// The SDK's heap starts in an arena inside the module's initial memory and moves to grown
/// memory once that is used up; a review whose decoding needs several times the arena proves
/// the move keeps earlier allocations intact.
#[test]
fn builtin_takes_a_review_larger_than_its_initial_heap() {
    let policy = load_builtin("trust-distribution-requires-ca");
    let mut review = review();
    let labels: Vec<String> = (0..150_000).map(|index| format!("label-{index}")).collect();
    review.object["extra.labels"] = serde_json::json!(labels);
    review.object["trustDistribution.enabled"] = serde_json::json!(false);
    let limits = acr_policy::Limits {
        max_input_bytes: 8 << 20,
        memory_bytes: 64 << 20,
        ..crate::common::test_limits()
    };
    let verdict = verdict_of(policy.evaluate_with_limits(&review, &limits).outcome);
    assert!(!verdict.allowed, "{verdict:?}");
    assert_eq!(
        verdict
            .violations
            .iter()
            .map(|violation| violation.code.as_str())
            .collect::<Vec<_>>(),
        ["TRUST_DISTRIBUTION_WITHOUT_CA"]
    );
}

#[test]
fn builtin_settings_are_validated_by_the_module() {
    let set = PolicySet::from_text(
        "policies:\n  - module: builtin:trust-distribution-requires-ca\n    settings: { strict: true }\n",
        PathBuf::new(),
    )
    .expect("parses");
    let report = set
        .prepare(shared_host(), BUILTIN_POLICIES)
        .evaluate(&review());
    match &report.policies[0].outcome {
        Some(PolicyOutcome::Error(error)) => assert_eq!(
            error.to_string(),
            "policy `trust-distribution-requires-ca` refused its settings: this policy takes no \
             settings during acr_validate_settings"
        ),
        other => panic!("expected an error, got {other:?}"),
    }

    let defaults = PolicySet::all_builtins(BUILTIN_POLICIES)
        .prepare(shared_host(), BUILTIN_POLICIES)
        .evaluate(&review());
    let errors: Vec<_> = defaults
        .policies
        .iter()
        .filter(|policy| matches!(policy.outcome, Some(PolicyOutcome::Error(_))))
        .map(|policy| &policy.source)
        .collect();
    assert!(
        errors.is_empty(),
        "every built-in accepts its default settings: {errors:?}"
    );
    assert_ne!(defaults.decision, acr_policy::Decision::BlockedByError);
}

/// `{"level": [{"level": [...]}]}`, `depth` arrays and objects deep.
fn nested(depth: usize) -> serde_json::Value {
    (1..depth).fold(serde_json::json!({}), |inner, level| {
        if level % 2 == 1 {
            serde_json::json!([inner])
        } else {
            serde_json::json!({ "level": inner })
        }
    })
}

/// Review JSON nests at most 127 arrays and objects deep, the review itself being the first
/// and `object` the second: the deepest review must be decoded on a built-in's stack (the
/// modules get a smaller one than Rust's default), one level more must be refused cleanly.
#[test]
fn builtins_decode_the_deepest_review_json_and_refuse_deeper_by_name() {
    const DEEPEST: usize = 127;
    let deep_review = |depth: usize| {
        let mut review = review();
        review.object["extra.nested"] = nested(depth - 2);
        let mut cluster = serde_json::json!({ "nodes": nested(depth - 3) });
        cluster["serviceCIDR"] = serde_json::json!("10.0.0.0/16");
        review.facts.cluster = Some(cluster.into());
        review
    };
    let limits = acr_policy::Limits {
        max_input_bytes: 1 << 20,
        ..crate::common::test_limits()
    };
    for builtin in BUILTIN_POLICIES {
        let policy = load_builtin(builtin.name);
        let deepest = policy.evaluate_with_limits(&deep_review(DEEPEST), &limits);
        assert!(
            !matches!(deepest.outcome, PolicyOutcome::Error(_)),
            "{}: {:?}",
            builtin.name,
            deepest.outcome
        );
        let too_deep = policy.evaluate_with_limits(&deep_review(DEEPEST + 1), &limits);
        assert!(
            matches!(too_deep.outcome, PolicyOutcome::Error(_)),
            "{}: {:?}",
            builtin.name,
            too_deep.outcome
        );
        assert_eq!(too_deep.logs.len(), 1, "{}", builtin.name);
        assert!(
            too_deep.logs[0].starts_with(
                "review is not ABI v1 review JSON: recursion limit exceeded at line 1"
            ),
            "{}: {:?}",
            builtin.name,
            too_deep.logs
        );
    }
}

//! The minimal WAT policy of docs/policy-abi.md loads and evaluates, and is the text the
//! document shows.

use crate::common::{fixture_path, host, load_fixture, review};
use acr_policy::PolicyOutcome;

#[test]
fn documented_minimal_policy_is_the_tested_fixture() {
    let wat = std::fs::read_to_string(fixture_path("abi-doc-minimal.wat")).expect("fixture");
    let doc_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/policy-abi.md");
    let doc = std::fs::read_to_string(&doc_path).expect("docs/policy-abi.md");
    assert!(
        doc.contains(&format!("```wat\n{wat}```")),
        "docs/policy-abi.md must show tests/fixtures/abi-doc-minimal.wat verbatim in a ```wat block"
    );
}

#[test]
fn documented_minimal_policy_loads_and_allows_with_a_warning() {
    let host = host();
    let policy = load_fixture(&host, "abi-doc-minimal.wat").expect("loads");
    assert_eq!(policy.name(), "minimal");
    assert_eq!(policy.metadata().version, "1.0.0");
    assert!(!policy.validates_settings());

    let evaluation = policy.evaluate(&review());
    assert_eq!(evaluation.logs, vec!["minimal policy evaluated"]);
    let PolicyOutcome::Allowed { warnings } = evaluation.outcome else {
        panic!("expected allowed, got {:?}", evaluation.outcome);
    };
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].code, "MINIMAL");
    assert_eq!(warnings[0].message, "this policy allows everything");
}

#[test]
fn documented_minimal_policy_takes_reviews_larger_than_its_memory() {
    let host = host();
    let policy = load_fixture(&host, "abi-doc-minimal.wat").expect("loads");
    let mut review = review();
    review.object["padding"] = serde_json::Value::String("x".repeat(200_000));
    assert!(matches!(
        policy.evaluate(&review).outcome,
        PolicyOutcome::Allowed { .. }
    ));
}

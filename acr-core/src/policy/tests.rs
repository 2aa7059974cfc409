//! Unit tests of the policy glue: reviews built from settings, and reports through the real engine
//! with the built-in policies.

use super::*;
use crate::plan::DEFAULT_NAMESPACE;
use crate::settings::{ConnectedRegistrySettings, SettingsInput};
use base64::Engine as _;
use time::macros::datetime;

const NOW: time::OffsetDateTime = datetime!(2026-12-01 00:00 UTC);
const CONNECTION: &str = "ConnectedRegistryName=edge;SyncTokenName=edge-sync;SyncTokenPassword=s3cret;ParentGatewayEndpoint=contoso.eastus.data.azurecr.io;ParentEndpointProtocol=https";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/tls");

fn settings(config: &[(&str, &str)], protected: &[(&str, String)]) -> ConnectedRegistrySettings {
    ConnectedRegistrySettings::resolve(&SettingsInput {
        config: config
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        protected_file: None,
        protected: protected
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    })
    .expect("valid settings")
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).expect("fixture")
}

fn fixture_b64(name: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(fixture(name))
}

fn byoc(trust: &str, with_ca: bool) -> ConnectedRegistrySettings {
    let mut protected = vec![
        ("connectionString", CONNECTION.to_owned()),
        ("tls.crt", fixture_b64("server.crt")),
        ("tls.key", fixture_b64("server.key")),
    ];
    if with_ca {
        let chain = [fixture("server.crt"), fixture("intermediate-ca.crt")].concat();
        protected[1] = (
            "tls.crt",
            base64::engine::general_purpose::STANDARD.encode(chain),
        );
        protected.push(("tls.cacrt", fixture_b64("root-ca.crt")));
    }
    settings(
        &[
            ("service.clusterIP", "10.0.0.1"),
            ("cert-manager.enabled", "false"),
            ("cert-manager.install", "false"),
            ("trustDistribution.enabled", trust),
        ],
        &protected,
    )
}

fn checker() -> PolicyChecker {
    PolicyChecker::new(&PolicyConfig {
        cache_dir: Some(std::env::temp_dir().join("acr-core-unit-test-policy-cache")),
        ..PolicyConfig::default()
    })
    .expect("engine starts")
}

/// The review of deploying `settings` into the default namespace at [`NOW`].
fn deploy_review(settings: &ConnectedRegistrySettings) -> Review {
    connected_registry_review(settings, DEFAULT_NAMESPACE, Operation::Deploy, NOW).expect("review")
}

#[test]
fn review_carries_redacted_object_and_certificate_facts() {
    let review = deploy_review(&byoc("true", true));
    assert_eq!(review.subject, SubjectKind::ConnectedRegistry);
    assert_eq!(review.object["service.clusterIP"], "10.0.0.1");
    assert_eq!(review.object["trustDistribution.enabled"], true);
    assert_eq!(review.object["protected"]["tls.key"], "<redacted>");
    assert_eq!(
        review.object["tlsSource"]["kind"],
        "bring-your-own-certificate"
    );
    let json = serde_json::to_string(&review).expect("json");
    assert!(!json.contains("PRIVATE KEY"), "{json}");
    assert!(!json.contains("s3cret"), "{json}");

    let roles: Vec<_> = review.facts.certificates.iter().map(|c| c.role).collect();
    assert_eq!(
        roles,
        vec![
            wasm_guest::CertificateRole::Serving,
            wasm_guest::CertificateRole::Intermediate,
            wasm_guest::CertificateRole::Ca
        ]
    );
    let serving = &review.facts.certificates[0];
    assert_eq!(serving.key_matches, Some(true));
    assert!(
        serving
            .subject_alt_names
            .ip
            .contains(&"10.0.0.1".to_owned())
    );
    assert!(serving.days_left > 0);
}

#[test]
fn cert_manager_reviews_describe_the_planned_certificate() {
    let review = connected_registry_review(
        &settings(
            &[("service.clusterIP", "192.100.100.1")],
            &[("connectionString", CONNECTION.to_owned())],
        ),
        "edge-registry",
        Operation::Deploy,
        NOW,
    )
    .expect("review");
    let planned = &review.facts.certificates[0];
    assert_eq!(planned.role, wasm_guest::CertificateRole::PlannedServing);
    assert_eq!(
        planned.subject_alt_names.ip,
        vec!["192.100.100.1".to_owned()]
    );
    assert_eq!(
        planned.subject_alt_names.dns,
        vec![
            "connected-registry.edge-registry.svc".to_owned(),
            "connected-registry.edge-registry.svc.cluster.local".to_owned()
        ],
        "the planned names follow the namespace deployed into"
    );
    assert_eq!(planned.public_key.description, "ECDSA P-256");
}

#[test]
fn built_in_policies_allow_a_sound_deployment_and_deny_trust_without_ca() {
    let checker = checker();
    let allowed = checker.check(&deploy_review(&byoc("true", true)));
    assert!(allowed.allowed(), "{}", allowed.to_text());

    let denied = checker.check(&deploy_review(&byoc("false", false)));
    assert_eq!(
        denied.decision,
        DecisionKind::Denied,
        "{}",
        denied.to_text()
    );
    let codes: Vec<&str> = denied
        .policies
        .iter()
        .flat_map(|p| p.violations().iter().map(|v| v.code.as_str()))
        .collect();
    assert!(
        codes.contains(&"TRUST_DISTRIBUTION_WITHOUT_CA"),
        "{codes:?}"
    );
    let text = denied.to_text();
    assert!(
        text.contains("DENY  trust-distribution-requires-ca"),
        "{text}"
    );
    assert!(
        text.contains("TRUST_DISTRIBUTION_WITHOUT_CA [tls.cacrt]"),
        "{text}"
    );
    assert_eq!(
        denied.refusal().as_deref(),
        Some("error: denied by 1 policy")
    );
}

#[test]
fn warn_enforcement_turns_a_deny_into_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let set = dir.path().join("set.yaml");
    std::fs::write(
        &set,
        "policies:\n  - module: builtin:trust-distribution-requires-ca\n    enforcement: warn\n",
    )
    .expect("write set");
    let checker = PolicyChecker::new(&PolicyConfig {
        policy_set: Some(set),
        ..PolicyConfig::default()
    })
    .expect("engine");
    let report = checker.check(&deploy_review(&byoc("false", false)));
    assert_eq!(report.decision, DecisionKind::AllowedWithWarnings);
    assert!(report.allowed());
    assert!(
        report
            .to_text()
            .starts_with("WARN  trust-distribution-requires-ca")
    );
    assert_eq!(report.refusal(), None);
}

#[test]
fn sarif_and_junit_describe_each_finding() {
    let report = checker().check(&deploy_review(&byoc("false", false)));
    let input = crate::settings::SettingsInput {
        config: vec![("trustDistribution.enabled".to_owned(), "false".to_owned())],
        protected_file: Some((
            "site/protected.json".to_owned(),
            b"{\n  \"connectionString\": \"x\",\n  \"tls.cacrt\": \"y\"\n}\n".to_vec(),
        )),
        protected: Vec::new(),
    };
    let locations = ResultLocations::of_settings("kubectl acr policy check", &input);
    let sarif = report.to_sarif("kubectl-acr", "0.1.0", &locations);
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let denial = results
        .iter()
        .find(|r| r["ruleId"] == "TRUST_DISTRIBUTION_WITHOUT_CA")
        .expect("denial result");
    assert_eq!(denial["level"], "error");
    assert_eq!(
        denial["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "tls.cacrt"
    );
    assert_eq!(
        denial["locations"][0]["physicalLocation"],
        serde_json::json!({
            "artifactLocation": { "uri": "site/protected.json", "index": 1 },
            "region": { "startLine": 3 },
        })
    );
    let artifacts = &sarif["runs"][0]["artifacts"];
    assert_eq!(artifacts[0]["location"]["uri"], "command-line");
    assert_eq!(
        artifacts[0]["contents"]["text"],
        "kubectl acr policy check --config trustDistribution.enabled=false \
         --config-protected-file site/protected.json"
    );
    assert_eq!(
        report.to_github(&locations),
        "::error file=site/protected.json,line=3,title=TRUST_DISTRIBUTION_WITHOUT_CA \
         (trust-distribution-requires-ca)::"
            .to_owned()
            + denial["message"]["text"].as_str().expect("message")
            + "\nDecision: denied by 1 policy\n"
    );
    let azure = report.to_azure_pipelines(&locations);
    assert!(
        azure.starts_with(
            "##vso[task.logissue type=error;sourcepath=site/protected.json;linenumber=3;\
             code=TRUST_DISTRIBUTION_WITHOUT_CA;]trust-distribution-requires-ca: "
        ),
        "{azure}"
    );

    let junit = report.to_junit("policy check");
    assert!(junit.starts_with(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites><testsuite name=\"policy check\""
    ));
    assert!(junit.contains("failures=\"1\""), "{junit}");
    assert!(
        junit.contains("<testcase classname=\"policy\" name=\"trust-distribution-requires-ca\"><failure message=\"TRUST_DISTRIBUTION_WITHOUT_CA\""),
        "{junit}"
    );
}

#[test]
fn list_names_every_policy_with_metadata() {
    let listing = checker().list();
    assert_eq!(listing.len(), BUILTIN_POLICIES.len());
    let first = listing
        .iter()
        .find(|p| p.source == "builtin:trust-distribution-requires-ca")
        .expect("listed");
    let metadata = first.metadata.as_ref().expect("loaded");
    assert_eq!(metadata.name, "trust-distribution-requires-ca");
    assert_eq!(first.enforcement, Enforcement::Deny);
    assert_eq!(first.module_sha256.as_ref().map(String::len), Some(64));
}

#[test]
fn missing_extra_module_is_reported_per_policy() {
    let checker = PolicyChecker::new(&PolicyConfig {
        extra_modules: vec![std::path::PathBuf::from("/nonexistent/org.wasm")],
        cache_dir: Some(std::env::temp_dir().join("acr-core-unit-test-policy-cache")),
        ..PolicyConfig::default()
    })
    .expect("engine");
    let report = checker.check(&deploy_review(&byoc("true", true)));
    assert_eq!(report.decision, DecisionKind::BlockedByError);
    let broken = report
        .policies
        .iter()
        .find(|p| p.source == "/nonexistent/org.wasm")
        .expect("reported");
    assert_eq!(broken.result(), ResultKind::Error);
    assert!(
        broken
            .error()
            .is_some_and(|e| e.to_string().contains("/nonexistent/org.wasm")),
        "{broken:?}"
    );
}

#[test]
fn verdict_text_cannot_forge_lines_or_escape_sequences() {
    let mut report = checker().check(&deploy_review(&byoc("false", false)));
    let denied = report
        .policies
        .iter_mut()
        .find(|p| !p.violations().is_empty())
        .expect("a denial");
    let Some(PolicyOutcome::Denied { violations, .. }) = &mut denied.outcome else {
        unreachable!("a policy with violations denied");
    };
    violations[0].message = "bad\nPASS  everything\x1b[32m".to_owned();
    denied.name = Some("evil\rPASS ".to_owned());
    let text = report.to_text();
    assert!(
        !text
            .lines()
            .any(|line| line.starts_with("PASS  everything")),
        "{text}"
    );
    assert!(text.contains("bad\\nPASS  everything\\x1b[32m"), "{text}");
    assert!(text.contains("DENY  evil\\rPASS "), "{text}");
}

#[test]
fn a_ca_that_did_not_issue_the_certificate_is_refused() {
    let mut protected = vec![
        ("connectionString", CONNECTION.to_owned()),
        ("tls.crt", fixture_b64("server.crt")),
        ("tls.key", fixture_b64("server.key")),
        ("tls.cacrt", fixture_b64("ca-as-leaf.crt")),
    ];
    let config = [
        ("service.clusterIP", "10.0.0.1"),
        ("cert-manager.enabled", "false"),
        ("cert-manager.install", "false"),
    ];
    let review = |protected: &[(&str, String)]| {
        connected_registry_review(
            &settings(&config, protected),
            DEFAULT_NAMESPACE,
            Operation::Deploy,
            NOW,
        )
    };
    let error = review(&protected).expect_err("refused");
    assert!(
        error
            .to_string()
            .starts_with("tls.cacrt did not issue tls.crt: its chain ends at "),
        "{error}"
    );
    protected[3] = ("tls.cacrt", fixture_b64("root-ca.crt"));
    assert!(
        review(&protected)
            .expect_err("the intermediate is missing")
            .to_string()
            .contains("add the missing intermediate certificates to tls.crt")
    );
    protected[3] = ("tls.cacrt", fixture_b64("intermediate-ca.crt"));
    review(&protected).expect("the intermediate issued it");
}

/// A cache entry that fails its integrity check is reported with the check's result (text and
/// JSON), once, and replaced: the next check has nothing to report.
#[test]
fn damaged_cache_entries_are_reported_in_the_check() {
    let temp = tempfile::tempdir().expect("temp dir");
    let module = temp.path().join("minimal.wasm");
    let wasm = wat::parse_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../acr-policy/tests/fixtures/abi-doc-minimal.wat"
    ))
    .expect("WAT parses");
    std::fs::write(&module, wasm).expect("write module");
    let cache = temp.path().join("cache");
    let config = PolicyConfig {
        extra_modules: vec![module],
        cache_dir: Some(cache.clone()),
        ..PolicyConfig::default()
    };
    let review = deploy_review(&byoc("true", true));
    let check = || {
        PolicyChecker::new(&config)
            .expect("engine starts")
            .check(&review)
    };

    assert!(check().cache_warnings().is_empty());
    let entry = std::fs::read_dir(&cache)
        .expect("cache folder")
        .map(|entry| entry.expect("entry").path())
        .find(|path| {
            path.extension()
                .is_some_and(|extension| extension == "cwasm")
        })
        .expect("the module was cached");
    let mut bytes = std::fs::read(&entry).expect("read entry");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&entry, bytes).expect("damage entry");

    let damaged = check();
    let warnings = damaged.cache_warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let warning = warnings[0];
    assert!(
        warning.contains(&format!(
            "the policy cache entry {} failed its integrity check",
            entry.display()
        )),
        "{warning}"
    );
    assert!(
        damaged
            .to_text()
            .contains(&format!("WARN  policy cache: {warning}\nDecision: ")),
        "{}",
        damaged.to_text()
    );
    let json = serde_json::to_value(&damaged).expect("serialises");
    assert_eq!(json["cacheWarnings"][0], warning);
    assert!(check().cache_warnings().is_empty());
}

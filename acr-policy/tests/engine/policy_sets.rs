//! Policy sets: parsing, per-policy enforcement and on-error choices, and one decision from
//! every policy, with a failing policy never stopping the others.

use crate::common::{fixture_wasm, host, review};
use acr_policy::{
    Builtin, Decision, Effect, Enforcement, Limit, ModuleSource, OnError, PolicyOutcome, PolicySet,
    SetReport,
};
use std::path::{Path, PathBuf};

/// Writes each WAT fixture as `<stem>.wasm` into `dir`.
fn write_modules(dir: &Path, fixtures: &[&str]) {
    for fixture in fixtures {
        let stem = Path::new(fixture)
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        std::fs::write(dir.join(format!("{stem}.wasm")), fixture_wasm(fixture)).expect("write");
    }
}

fn evaluate_set(yaml: &str, fixtures: &[&str]) -> SetReport {
    let temp = tempfile::tempdir().expect("temp dir");
    write_modules(temp.path(), fixtures);
    let set_path = temp.path().join("policies.yaml");
    std::fs::write(&set_path, yaml).expect("write set");
    let set = PolicySet::from_file(&set_path).expect("set parses");
    set.prepare(&host(), &[]).evaluate(&review())
}

fn report_for<'a>(report: &'a SetReport, source: &str) -> &'a acr_policy::PolicyReport {
    report
        .policies
        .iter()
        .find(|policy| policy.source == source)
        .unwrap_or_else(|| panic!("no report for {source}"))
}

fn error_text(report: &SetReport, source: &str) -> String {
    match &report_for(report, source).outcome {
        Some(PolicyOutcome::Error(error)) => error.to_string(),
        other => panic!("{source}: expected an error, got {other:?}"),
    }
}

const HOSTILE: [(&str, &str); 18] = [
    (
        "loop-in-evaluate",
        "exceeded the wall-time deadline of 100 ms (limit `deadline`)",
    ),
    (
        "loop-in-start",
        "exceeded the wall-time deadline of 100 ms (limit `deadline`)",
    ),
    ("memory-growth", "(limit `memory`)"),
    ("initial-memory", "(limit `memory`)"),
    ("deep-recursion", "(limit `stack`)"),
    (
        "verdict-out-of-bounds",
        "outside its 65536-byte linear memory",
    ),
    ("verdict-oversized", "(limit `output size`)"),
    ("verdict-not-utf8", "answered bytes that are not UTF-8"),
    (
        "verdict-not-json",
        "answered text that is not ABI v1 verdict JSON",
    ),
    (
        "verdict-inconsistent",
        "a verdict is denied exactly when it has violations",
    ),
    ("missing-export", "does not export `acr_evaluate`"),
    (
        "missing-metadata",
        "has no `acr.policy.metadata` custom section",
    ),
    ("wasi-import", "imports `wasi_snapshot_preview1.fd_write`"),
    ("unknown-import", "imports `env.system`"),
    ("log-flood", "(limit `log messages`)"),
    ("wrong-abi-version", "implements policy ABI version 2"),
    ("alloc-out-of-bounds", "during acr_alloc"),
    (
        "duplicate-metadata",
        "has more than one `acr.policy.metadata` custom section",
    ),
];

#[test]
fn every_hostile_module_fails_alone_and_the_others_are_still_evaluated() {
    let mut fixtures: Vec<String> = HOSTILE
        .iter()
        .map(|(name, _)| format!("hostile/{name}.wat"))
        .collect();
    fixtures.push("abi-doc-minimal.wat".to_owned());
    fixtures.push("deny-always.wat".to_owned());
    let fixture_refs: Vec<&str> = fixtures.iter().map(String::as_str).collect();

    // The good policies come last, so they run after every hostile one.
    let mut yaml = "policies:\n".to_owned();
    for (name, _) in HOSTILE {
        yaml.push_str(&format!("  - module: {name}.wasm\n"));
    }
    yaml.push_str("  - module: abi-doc-minimal.wasm\n  - module: deny-always.wasm\n");
    let report = evaluate_set(&yaml, &fixture_refs);

    assert_eq!(report.policies.len(), HOSTILE.len() + 2);
    for (name, expected) in HOSTILE {
        let source = format!("{name}.wasm");
        let text = error_text(&report, &source);
        let named = text.starts_with(&format!("policy `{name}` "))
            || text.starts_with(&format!("policy `{source}` "));
        assert!(named && text.contains(expected), "{source}: {text}");
        assert_eq!(report_for(&report, &source).effect, Effect::BlocksByError);
    }

    let minimal = report_for(&report, "abi-doc-minimal.wasm");
    assert_eq!(minimal.name.as_deref(), Some("minimal"));
    assert_eq!(minimal.logs, vec!["minimal policy evaluated"]);
    match &minimal.outcome {
        Some(PolicyOutcome::Allowed { warnings }) => assert_eq!(warnings[0].code, "MINIMAL"),
        other => panic!("minimal: expected allowed, got {other:?}"),
    }
    match &report_for(&report, "deny-always.wasm").outcome {
        Some(PolicyOutcome::Denied { violations, .. }) => {
            assert_eq!(violations[0].code, "ALWAYS_DENIED");
            assert_eq!(violations[0].field.as_deref(), Some("service.clusterIP"));
        }
        other => panic!("deny-always: expected denied, got {other:?}"),
    }
    assert_eq!(report.decision, Decision::Denied, "a deny outranks errors");
}

#[test]
fn errors_fail_closed_by_default() {
    let report = evaluate_set(
        "policies:\n  - module: loop-in-evaluate.wasm\n  - module: abi-doc-minimal.wasm\n",
        &["hostile/loop-in-evaluate.wat", "abi-doc-minimal.wat"],
    );
    assert_eq!(report.decision, Decision::BlockedByError);
    let looping = report_for(&report, "loop-in-evaluate.wasm");
    assert_eq!(
        (looping.enforcement, looping.on_error),
        (Enforcement::Deny, OnError::Deny)
    );
    assert_eq!(looping.effect, Effect::BlocksByError);
    match &looping.outcome {
        Some(PolicyOutcome::Error(error)) => assert_eq!(error.limit(), Some(Limit::Deadline)),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn on_error_allow_and_warn_enforcement_only_warn() {
    let report = evaluate_set(
        "policies:
  - module: loop-in-evaluate.wasm
    on-error: allow
  - module: wrong-abi-version.wasm
    enforcement: warn
  - module: deny-always.wasm
    enforcement: warn
",
        &[
            "hostile/loop-in-evaluate.wat",
            "hostile/wrong-abi-version.wat",
            "deny-always.wat",
        ],
    );
    assert_eq!(report.decision, Decision::AllowedWithWarnings);
    assert!(
        report
            .policies
            .iter()
            .all(|policy| policy.effect == Effect::Warns)
    );
    assert!(matches!(
        report_for(&report, "deny-always.wasm").outcome,
        Some(PolicyOutcome::Denied { .. })
    ));
}

#[test]
fn allowed_without_warnings_is_allowed() {
    let report = evaluate_set(
        "{\"policies\": [{\"module\": \"settings-checked.wasm\", \"settings\": {}}]}",
        &["settings-checked.wat"],
    );
    assert_eq!(report.decision, Decision::Allowed);
    assert_eq!(report.policies[0].effect, Effect::Nothing);
}

#[test]
fn refused_settings_are_a_policy_error() {
    let report = evaluate_set(
        "policies:\n  - module: settings-checked.wasm\n    settings: { minimumDays: 30 }\n",
        &["settings-checked.wat"],
    );
    assert_eq!(report.decision, Decision::BlockedByError);
    assert_eq!(
        error_text(&report, "settings-checked.wasm"),
        "policy `settings-checked` refused its settings: settings must be an empty object during \
         acr_validate_settings"
    );
}

#[test]
fn policies_for_other_subjects_are_skipped() {
    let temp = tempfile::tempdir().expect("temp dir");
    write_modules(temp.path(), &["deny-always.wat"]);
    let set = PolicySet::from_text(
        "policies:\n  - module: deny-always.wasm\n",
        temp.path().to_owned(),
    )
    .expect("parses");
    let mut custom_domain = review();
    custom_domain.subject = wasm_guest::SubjectKind::CustomDomain;
    let report = set.prepare(&host(), &[]).evaluate(&custom_domain);
    assert_eq!(report.decision, Decision::Allowed);
    assert!(report.policies[0].outcome.is_none());
    assert_eq!(report.policies[0].name.as_deref(), Some("deny-always"));
}

#[test]
fn missing_module_file_is_an_error_of_that_policy_only() {
    let report = evaluate_set(
        "policies:\n  - module: nowhere.wasm\n  - module: abi-doc-minimal.wasm\n",
        &["abi-doc-minimal.wat"],
    );
    assert_eq!(report.decision, Decision::BlockedByError);
    let text = error_text(&report, "nowhere.wasm");
    assert!(
        text.starts_with("policy `nowhere.wasm` cannot be read from ")
            && text.contains("nowhere.wasm: "),
        "{text}"
    );
    assert!(matches!(
        report_for(&report, "abi-doc-minimal.wasm").outcome,
        Some(PolicyOutcome::Allowed { .. })
    ));
}

#[test]
fn builtins_are_found_by_name_and_unknown_ones_listed() {
    let minimal: &'static [u8] = Box::leak(fixture_wasm("abi-doc-minimal.wat").into_boxed_slice());
    let builtins = [Builtin {
        name: "minimal",
        wasm: minimal,
    }];
    let set = PolicySet::from_text(
        "policies:\n  - module: builtin:minimal\n  - module: builtin:nonexistent\n",
        PathBuf::new(),
    )
    .expect("parses");
    assert_eq!(
        set.policies[0].module,
        ModuleSource::Builtin("minimal".to_owned())
    );
    let report = set.prepare(&host(), &builtins).evaluate(&review());
    assert!(matches!(
        report_for(&report, "builtin:minimal").outcome,
        Some(PolicyOutcome::Allowed { .. })
    ));
    assert_eq!(
        error_text(&report, "builtin:nonexistent"),
        "policy `builtin:nonexistent` is not a built-in policy (built-in policies: minimal)"
    );

    let all = PolicySet::all_builtins(&builtins);
    assert_eq!(all.policies.len(), 1);
    assert_eq!(all.policies[0].enforcement, Enforcement::Deny);
}

#[test]
fn set_files_are_checked_strictly() {
    let unknown_field = PolicySet::from_text(
        "policies:\n  - module: a.wasm\n    enforce: warn\n",
        PathBuf::new(),
    )
    .expect_err("unknown field");
    assert!(
        unknown_field
            .to_string()
            .contains("unknown field `enforce`"),
        "{unknown_field}"
    );

    let scheme = PolicySet::from_text(
        "policies:\n  - module: ftp://example.com/p.wasm\n",
        PathBuf::new(),
    )
    .expect_err("unsupported scheme");
    assert!(
        scheme.to_string().contains(
            "module source `ftp://example.com/p.wasm` has the unsupported scheme `ftp:`; use a \
             file or folder path, `builtin:NAME`, `https://HOST/PATH#sha256=HEX` or \
             `oci://REGISTRY/REPOSITORY@sha256:HEX`"
        ),
        "{scheme}"
    );

    assert_eq!(
        ModuleSource::try_from(r"C:\policies\org.wasm".to_owned()),
        Ok(ModuleSource::Path(PathBuf::from(r"C:\policies\org.wasm")))
    );
    assert_eq!(
        ModuleSource::try_from("oci://registry.example/policy:1.0".to_owned())
            .map_err(|error| error.to_string()),
        Err(
            "module source `oci://registry.example/policy:1.0` is not pinned by digest: use \
             `oci://REGISTRY/REPOSITORY@sha256:HEX` with the manifest digest (`policy push` \
             prints it)"
                .to_owned()
        )
    );

    let bad_enforcement = PolicySet::from_text(
        "policies:\n  - module: a.wasm\n    enforcement: maybe\n",
        PathBuf::new(),
    )
    .expect_err("bad enforcement");
    assert!(
        bad_enforcement
            .to_string()
            .contains("unknown variant `maybe`"),
        "{bad_enforcement}"
    );

    let missing =
        PolicySet::from_file(Path::new("/nonexistent/policies.yaml")).expect_err("no file");
    assert_eq!(
        missing.to_string(),
        "cannot read the policy set /nonexistent/policies.yaml"
    );
}

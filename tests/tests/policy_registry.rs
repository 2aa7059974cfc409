//! `kubectl acr policy inspect|push|pull` and an OCI-pinned policy in a policy set, against
//! Debian's docker-registry on 127.0.0.1 serving a certificate from `kubectl acr cert generate`.

use acr_tests::peers::DockerRegistry;
use acr_tests::{Run, bin_path};
use std::path::Path;
use std::process::{Command, Stdio};

const MINIMAL_WAT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../acr-policy/tests/fixtures/abi-doc-minimal.wat"
);

/// Runs `kubectl-acr` trusting `ca_file` for registries and caching policies under target/.
fn kubectl_acr(args: &[&str], ca_file: &Path) -> Run {
    Command::new(bin_path("kubectl-acr"))
        .args(args)
        .env("XDG_CACHE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .env("ACR_POLICY_CA_FILE", ca_file)
        .stdin(Stdio::null())
        .output()
        .expect("run kubectl-acr")
        .into()
}

fn path_arg(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

#[test]
fn policies_round_trip_through_an_oci_registry_pinned_by_digest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = dir.path().join("certs");
    let no_ca = dir.path().join("unused-ca.pem");
    kubectl_acr(
        &[
            "cert",
            "generate",
            "--ip",
            "127.0.0.1",
            "--out-dir",
            path_arg(&certs),
        ],
        &no_ca,
    )
    .success();
    let ca = certs.join("ca.crt");
    let registry = DockerRegistry::start(
        dir.path(),
        &certs.join("tls.crt"),
        &certs.join("tls.key"),
        "",
    );

    let module = dir.path().join("minimal.wasm");
    std::fs::write(&module, wat::parse_file(MINIMAL_WAT).expect("WAT compiles")).expect("write");
    let inspected = kubectl_acr(&["policy", "inspect", path_arg(&module)], &ca).success();
    assert!(inspected.contains("Policy:   minimal 1.0.0"), "{inspected}");
    assert!(
        inspected.contains("Imports:  acr.log (function)"),
        "{inspected}"
    );
    assert!(inspected.ends_with("Loads:    yes\n"), "{inspected}");

    let tagged = format!("oci://{}/policies/minimal:1.0.0", registry.host());
    let pinned = kubectl_acr(&["policy", "push", path_arg(&module), &tagged], &ca).success();
    let pinned = pinned.trim_end();
    let prefix = format!("oci://{}/policies/minimal@sha256:", registry.host());
    assert!(pinned.starts_with(&prefix), "{pinned}");
    assert_eq!(pinned.len(), prefix.len() + 64, "{pinned}");

    let pulled = dir.path().join("pulled.wasm");
    kubectl_acr(&["policy", "pull", pinned, "--out", path_arg(&pulled)], &ca).success();
    assert_eq!(
        std::fs::read(&pulled).expect("pulled"),
        std::fs::read(&module).expect("module")
    );

    let set = dir.path().join("set.yaml");
    std::fs::write(&set, format!("policies:\n  - module: {pinned}\n")).expect("write set");
    let report = kubectl_acr(
        &[
            "policy",
            "check",
            "--policy-set",
            path_arg(&set),
            "--config",
            "service.clusterIP=10.0.0.1",
            "-o",
            "json",
        ],
        &ca,
    )
    .success();
    let report: serde_json::Value = serde_json::from_str(&report).expect("JSON");
    assert_eq!(report["decision"], "allowed-with-warnings");
    assert_eq!(report["policies"][0]["policy"], "minimal");
    assert_eq!(report["policies"][0]["warnings"][0]["code"], "MINIMAL");

    let unpinned = kubectl_acr(
        &[
            "policy",
            "pull",
            &tagged,
            "--out",
            path_arg(&dir.path().join("x.wasm")),
        ],
        &ca,
    );
    assert_eq!(unpinned.code, Some(1), "{unpinned:?}");
    assert!(
        unpinned.stderr.contains("not pinned"),
        "{}",
        unpinned.stderr
    );
}

#[test]
fn inspect_reports_a_module_that_would_not_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    let module = dir.path().join("wasi.wasm");
    std::fs::write(
        &module,
        wat::parse_str(
            r#"(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32))) (memory (export "memory") 1))"#,
        )
        .expect("WAT"),
    )
    .expect("write");
    let result = kubectl_acr(
        &["policy", "inspect", path_arg(&module), "-o", "json"],
        &dir.path().join("unused.pem"),
    );
    assert_eq!(result.code, Some(1), "{result:?}");
    let report: serde_json::Value = serde_json::from_str(&result.stdout).expect("JSON");
    assert_eq!(report["loads"], false);
    assert_eq!(
        report["imports"],
        serde_json::json!(["wasi_snapshot_preview1.fd_write (function)"])
    );
    assert!(
        report["error"]
            .as_str()
            .is_some_and(|error| error.contains("wasi_snapshot_preview1")),
        "{report}"
    );
}

#[test]
fn policy_new_writes_a_crate_and_policy_test_compares_whole_verdicts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let no_ca = dir.path().join("unused.pem");
    let sdk = concat!(env!("CARGO_MANIFEST_DIR"), "/../wasm-guest");
    let crate_dir = dir.path().join("org-rule");
    let written = kubectl_acr(
        &[
            "policy",
            "new",
            "org-rule",
            "--dir",
            path_arg(&crate_dir),
            "--sdk-path",
            sdk,
        ],
        &no_ca,
    )
    .success();
    assert!(written.contains("org-rule/Cargo.toml\n"), "{written}");
    assert!(crate_dir.join("fixtures/deny.json").is_file());
    let again = kubectl_acr(
        &[
            "policy",
            "new",
            "org-rule",
            "--dir",
            path_arg(&crate_dir),
            "--sdk-path",
            sdk,
        ],
        &no_ca,
    );
    assert_eq!(again.code, Some(1), "never overwrites: {again:?}");

    let fixtures = dir.path().join("minimal/fixtures");
    std::fs::create_dir_all(&fixtures).expect("fixtures dir");
    let module = dir.path().join("minimal/minimal.wasm");
    std::fs::write(&module, wat::parse_file(MINIMAL_WAT).expect("WAT")).expect("write");
    let review = r#"{"apiVersion":"acr.policy/v1","operation":"deploy","subject":"connected-registry","object":{}}"#;
    std::fs::write(
        fixtures.join("allow.json"),
        format!(
            r#"{{"review":{review},"verdict":{{"allowed":true,"violations":[],"warnings":[{{"code":"MINIMAL","message":"this policy allows everything"}}]}}}}"#
        ),
    )
    .expect("write fixture");
    let module_dir = dir.path().join("minimal");
    let passed = kubectl_acr(
        &[
            "policy",
            "test",
            path_arg(&module_dir),
            "--module",
            path_arg(&module),
        ],
        &no_ca,
    )
    .success();
    assert_eq!(passed, "PASS  allow.json\n1 passed, 0 failed\n");

    std::fs::write(
        fixtures.join("wrong.json"),
        format!(r#"{{"review":{review},"verdict":{{"allowed":false,"violations":[{{"code":"X","message":"m"}}],"warnings":[]}}}}"#),
    )
    .expect("write fixture");
    let failed = kubectl_acr(
        &[
            "policy",
            "test",
            path_arg(&module_dir),
            "--module",
            path_arg(&module),
        ],
        &no_ca,
    );
    assert_eq!(failed.code, Some(1), "{failed:?}");
    assert!(
        failed
            .stdout
            .contains("FAIL  wrong.json\n      expected {\"allowed\":false"),
        "{}",
        failed.stdout
    );
    assert!(
        failed.stdout.ends_with("1 passed, 1 failed\n"),
        "{}",
        failed.stdout
    );
}

//! The built binaries, run as users run them: golden outputs, exit codes, files written, and the
//! real `kubectl` and `openssl` reading what they produce.

use acr_tests::{Run, bin_path, fixture, require_tool, run};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Compares `actual` with a golden file; `UPDATE_GOLDEN=1` rewrites it (review the diff).
fn assert_golden(name: &str, actual: &str) {
    let path = fixture(&format!("golden/{name}"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        fs::write(&path, actual).expect("write golden file");
    }
    let expected = fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    assert_eq!(
        actual,
        expected,
        "output differs from {} (UPDATE_GOLDEN=1 rewrites it)",
        path.display()
    );
}

/// Runs `kubectl-acr` with the compiled-policy cache under the target directory, not in $HOME.
fn kubectl_acr(args: &[&str]) -> Run {
    std::process::Command::new(bin_path("kubectl-acr"))
        .args(args)
        .env("XDG_CACHE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .output()
        .expect("run kubectl-acr")
        .into()
}

fn path_arg(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

#[test]
fn cert_inspect_json_is_golden() {
    let crt = fixture("golden/registry.crt");
    let stdout = kubectl_acr(&[
        "cert",
        "inspect",
        path_arg(&crt),
        "--at",
        "2026-12-01T00:00:00Z",
        "-o",
        "json",
    ])
    .success();
    assert_golden("cert-inspect.json", &stdout);
}

#[test]
fn az_engine_inspects_as_json_by_default() {
    let crt = fixture("golden/registry.crt");
    let args = ["cert", "inspect", path_arg(&crt), "--at", "2026-12-01"];
    let stdout = run(bin_path("az-acr-ext"), args).success();
    let parsed: serde_json::Value = serde_json::from_str(&stdout).expect("JSON by default");
    assert_eq!(
        parsed["certificates"][0]["subjectAltNames"]["ip"],
        serde_json::json!(["192.100.100.1", "fd00::10"])
    );
}

#[test]
fn config_view_json_is_golden_and_redacted() {
    let protected = fixture("golden/protected-byoc.json");
    let stdout = kubectl_acr(&[
        "config",
        "view",
        "--config",
        "service.clusterIP=192.100.100.1",
        "--config",
        "cert-manager.enabled=false",
        "--config",
        "cert-manager.install=false",
        "--config",
        "pvc.storageClassName=managed-csi",
        "--config-protected-file",
        path_arg(&protected),
        "-o",
        "json",
    ])
    .success();
    assert!(!stdout.contains("Zm9vYmFy"), "password leaked: {stdout}");
    assert!(!stdout.contains("LS0tLS1"), "PEM leaked: {stdout}");
    assert_golden("config-view.json", &stdout);
}

#[test]
fn config_view_refuses_the_tutorial_sample_with_line_and_column() {
    let broken = fixture("golden/protected-tutorial-broken.json");
    let result = kubectl_acr(&[
        "config",
        "view",
        "--config",
        "service.clusterIP=192.100.100.1",
        "--config-protected-file",
        path_arg(&broken),
    ]);
    assert_eq!(result.code, Some(1), "{result:?}");
    assert!(
        result
            .stderr
            .contains("invalid JSON at line 3, column 12: expected value"),
        "{}",
        result.stderr
    );
    assert!(
        result
            .stderr
            .contains("a `$` on that line looks like a shell variable")
    );
    assert_eq!(
        result.stderr.matches("error:").count(),
        1,
        "chain printed once"
    );
}

#[test]
fn bad_flags_exit_with_usage_code() {
    let result = kubectl_acr(&["cert", "generate", "--key-type", "dsa", "--ip", "10.0.0.1"]);
    assert_eq!(result.code, Some(2), "{result:?}");
    assert!(
        result
            .stderr
            .contains("possible values: p256, p384, rsa2048, rsa3072, rsa4096")
    );
    let result = kubectl_acr(&["cert", "generate"]);
    assert_eq!(result.code, Some(2), "names are required: {result:?}");
}

#[test]
fn generated_certificates_pass_openssl_and_keys_stay_private() {
    let openssl = require_tool("openssl");
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("certs");
    let generate = [
        "cert",
        "generate",
        "--ip",
        "192.100.100.1",
        "--dns",
        "registry.contoso.local",
        "--key-type",
        "rsa3072",
        "--out-dir",
        path_arg(&out),
    ];
    let summary = kubectl_acr(&generate).success();
    assert!(summary.contains("IP:192.100.100.1"), "{summary}");
    assert!(summary.contains("RSA 3072"), "{summary}");
    assert!(
        summary.contains("(365 days)"),
        "validity is printed: {summary}"
    );

    for key in ["ca.key", "tls.key"] {
        let mode = fs::metadata(out.join(key))
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{key}");
    }
    let ca = out.join("ca.crt");
    let leaf = out.join("tls.crt");
    let verified = run(
        &openssl,
        ["verify", "-CAfile", path_arg(&ca), path_arg(&leaf)],
    )
    .success();
    assert!(verified.contains(": OK"), "{verified}");
    let text = run(
        &openssl,
        ["x509", "-noout", "-text", "-in", path_arg(&leaf)],
    )
    .success();
    assert!(
        text.contains("IP Address:192.100.100.1, DNS:registry.contoso.local")
            || text.contains("DNS:registry.contoso.local, IP Address:192.100.100.1"),
        "{text}"
    );
    assert!(text.contains("TLS Web Server Authentication"), "{text}");
    assert!(text.contains("Public-Key: (3072 bit)"), "{text}");

    let again = kubectl_acr(&generate);
    assert_eq!(again.code, Some(1), "{again:?}");
    assert!(
        again.stderr.contains("already exists; pass --force"),
        "{}",
        again.stderr
    );
    let mut forced = generate.to_vec();
    forced.push("--force");
    kubectl_acr(&forced).success();
}

#[test]
fn verify_lists_every_failure_and_exits_nonzero() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = path_arg(dir.path());
    kubectl_acr(&["cert", "generate", "--ip", "10.9.9.9", "--out-dir", out]).success();
    let cert = dir.path().join("tls.crt");
    let ca = dir.path().join("ca.crt");
    let key = dir.path().join("tls.key");

    let good = kubectl_acr(&[
        "cert",
        "verify",
        "--cert",
        path_arg(&cert),
        "--key",
        path_arg(&key),
        "--ca",
        path_arg(&ca),
        "--ip",
        "10.9.9.9",
    ]);
    assert_eq!(good.code, Some(0), "{good:?}");

    let wrong_key = fixture("golden/registry.key");
    let bad = kubectl_acr(&[
        "cert",
        "verify",
        "--cert",
        path_arg(&cert),
        "--key",
        path_arg(&wrong_key),
        "--ca",
        path_arg(&ca),
        "--ip",
        "127.0.0.1",
        "--at",
        "2040-01-01",
        "-o",
        "json",
    ]);
    assert_eq!(bad.code, Some(1), "{bad:?}");
    let report: serde_json::Value = serde_json::from_str(&bad.stdout).expect("JSON report");
    assert_eq!(report["passed"], false);
    let failed: Vec<&str> = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|check| check["outcome"] == "fail")
        .map(|check| check["name"].as_str().expect("name"))
        .collect();
    for expected in ["key-matches", "validity", "san-covers"] {
        assert!(
            failed.contains(&expected),
            "{expected} missing in {failed:?}"
        );
    }
    assert!(bad.stderr.contains("failed verification"), "{}", bad.stderr);
}

/// PATH with the built binaries and the shipped `kubectl_complete-acr` script in front.
fn plugin_path() -> std::ffi::OsString {
    let bin_dir = bin_path("kubectl-acr")
        .parent()
        .expect("bin dir")
        .to_path_buf();
    let completion_dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .join("kubectl-acr");
    std::env::join_paths(
        [bin_dir, completion_dir]
            .into_iter()
            .chain(std::env::split_paths(
                &std::env::var_os("PATH").expect("PATH"),
            )),
    )
    .expect("PATH")
}

fn kubectl_with_plugin(args: &[&str]) -> Run {
    let kubectl = require_tool("kubectl");
    std::process::Command::new(&kubectl)
        .args(args)
        .env("PATH", plugin_path())
        .output()
        .expect("run kubectl")
        .into()
}

#[test]
fn kubectl_finds_and_runs_the_plugin() {
    let version = kubectl_with_plugin(&["acr", "version"]).success();
    assert_eq!(
        version,
        format!("kubectl-acr {}\n", env!("CARGO_PKG_VERSION"))
    );
    let listed = kubectl_with_plugin(&["plugin", "list"]).stdout;
    assert!(listed.contains("kubectl-acr"), "{listed}");
}

#[test]
fn kubectl_completes_plugin_commands() {
    let completions = kubectl_with_plugin(&["__complete", "acr", "cert", ""]).success();
    assert!(
        completions.starts_with("generate\ninspect\nverify\nhelp\n:4\n"),
        "{completions}"
    );
}

const CONNECTION: &str = "connectionString=ConnectedRegistryName=edge;SyncTokenName=edge-sync;SyncTokenPassword=s3cret;ParentGatewayEndpoint=contoso.eastus.data.azurecr.io;ParentEndpointProtocol=https";

#[test]
fn policy_check_denies_with_exit_3_and_every_reason() {
    let result = kubectl_acr(&[
        "policy",
        "check",
        "--config",
        "service.clusterIP=10.0.0.1",
        "--config",
        "trustDistribution.enabled=false",
        "--no-policy-cache",
    ]);
    assert_eq!(result.code, Some(3), "{result:?}");
    assert!(
        result
            .stdout
            .contains("DENY  trust-distribution-requires-ca"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("CONNECTION_STRING_MISSING"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.ends_with("Decision: denied by 2 policies\n"),
        "{}",
        result.stdout
    );
    assert_eq!(result.stderr, "error: denied by 2 policies\n");
}

#[test]
fn policy_check_allows_a_sound_configuration_and_speaks_sarif() {
    let allowed = kubectl_acr(&[
        "policy",
        "check",
        "--config",
        "service.clusterIP=10.0.0.1",
        "--config-protected",
        CONNECTION,
        "-o",
        "json",
    ]);
    assert_eq!(allowed.code, Some(0), "{allowed:?}");
    let report: serde_json::Value = serde_json::from_str(&allowed.stdout).expect("JSON");
    assert_eq!(report["decision"], "allowed");
    assert!(!allowed.stdout.contains("s3cret"));

    let sarif = kubectl_acr(&[
        "policy",
        "check",
        "--config",
        "service.clusterIP=10.0.0.1",
        "--config",
        "trustDistribution.enabled=false",
        "--config-protected",
        CONNECTION,
        "-o",
        "sarif",
    ]);
    assert_eq!(sarif.code, Some(3), "{sarif:?}");
    let sarif: serde_json::Value = serde_json::from_str(&sarif.stdout).expect("SARIF JSON");
    assert_eq!(sarif["version"], "2.1.0");
    let rule_ids: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|result| result["ruleId"].as_str().expect("ruleId"))
        .collect();
    assert_eq!(rule_ids, vec!["TRUST_DISTRIBUTION_WITHOUT_CA"]);
}

#[test]
fn a_review_giving_a_key_twice_at_any_depth_is_refused_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let review = dir.path().join("review.json");
    fs::write(
        &review,
        r#"{"apiVersion":"acr.policy/v1","operation":"deploy","subject":"connected-registry",
            "object":{"service.clusterIP":"10.0.0.1","cert-manager.enabled":false,
                      "protected":{},"service.clusterIP":"10.0.0.99"}}"#,
    )
    .expect("write review");
    let result = kubectl_acr(&["policy", "check", "--input", path_arg(&review)]);
    assert_eq!(result.code, Some(1), "{result:?}");
    assert!(
        result.stderr.contains(
            "the key \"service.clusterIP\" is given twice in the object at \"/object\" at line 3"
        ),
        "{}",
        result.stderr
    );
    assert!(result.stdout.is_empty(), "{}", result.stdout);
}

#[test]
fn policy_check_reads_a_review_file_and_az_engine_exits_3_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let review = dir.path().join("review.json");
    fs::write(
        &review,
        r#"{"apiVersion":"acr.policy/v1","operation":"deploy","subject":"connected-registry",
            "object":{"service.clusterIP":"10.0.0.1","cert-manager.enabled":false,"cert-manager.install":true,
                      "protected":{}}}"#,
    )
    .expect("write review");
    let result = kubectl_acr(&[
        "policy",
        "check",
        "--input",
        path_arg(&review),
        "-o",
        "junit",
    ]);
    assert_eq!(result.code, Some(3), "{result:?}");
    assert!(
        result
            .stdout
            .contains("<testcase classname=\"policy\" name=\"tls-source-consistency\"><failure"),
        "{}",
        result.stdout
    );

    let az: Run = std::process::Command::new(bin_path("az-acr-ext"))
        .env("XDG_CACHE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .args([
            "connected-registry",
            "check",
            "--config",
            "service.clusterIP=10.0.0.1",
            "--config",
            "trustDistribution.enabled=false",
            "--config-protected",
            CONNECTION,
        ])
        .output()
        .expect("run az-acr-ext")
        .into();
    assert_eq!(az.code, Some(3), "{az:?}");
    let report: serde_json::Value = serde_json::from_str(&az.stdout).expect("JSON by default");
    assert_eq!(report["decision"], "denied");
}

#[test]
fn render_prints_verdicts_on_stderr_and_manifests_on_stdout() {
    let result = kubectl_acr(&[
        "render",
        "--config",
        "service.clusterIP=192.100.100.1",
        "--config-protected",
        CONNECTION,
    ]);
    assert_eq!(result.code, Some(0), "{result:?}");
    assert!(
        result
            .stdout
            .starts_with("apiVersion: v1\nkind: Namespace\n"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("kind: Certificate\n"),
        "{}",
        result.stdout
    );
    assert!(
        !result.stdout.contains("s3cret"),
        "secret leaked: {}",
        result.stdout
    );
    assert!(
        result
            .stderr
            .contains("PASS  trust-distribution-requires-ca"),
        "{}",
        result.stderr
    );
    assert!(
        result.stderr.contains("Decision: allowed\nnote: with cert-manager.install=true deploy also installs cert-manager v"),
        "{}",
        result.stderr
    );
    assert!(
        result
            .stderr
            .trim_end()
            .ends_with("render --out-dir adds it as its own layer"),
        "{}",
        result.stderr
    );

    let shown = kubectl_acr(&[
        "render",
        "--config",
        "service.clusterIP=192.100.100.1",
        "--config-protected",
        CONNECTION,
        "--show-secrets",
        "-o",
        "json",
    ]);
    let list: serde_json::Value = serde_json::from_str(&shown.success()).expect("v1 List");
    assert_eq!(list["kind"], "List");
    let secret = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|item| item["kind"] == "Secret")
        .expect("connection secret");
    let encoded = secret["data"]["ACR_REGISTRY_CONNECTION_STRING"]
        .as_str()
        .expect("base64 value");
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("base64");
    assert!(String::from_utf8_lossy(&decoded).contains("SyncTokenPassword=s3cret"));
}

/// A policy that fails (here: settings its module refuses) blocks render as it blocks deploy and
/// policy check: exit 1, not the exit 3 of a denial, and no manifests.
#[test]
fn render_blocked_by_a_policy_error_exits_1_and_prints_no_manifests() {
    let dir = tempfile::tempdir().expect("temp dir");
    let set = dir.path().join("broken.yaml");
    std::fs::write(
        &set,
        "policies:\n  - module: builtin:certificate-hygiene\n    settings: { minDaysLeft: \"soon\" }\n",
    )
    .expect("write policy set");
    let result = kubectl_acr(&[
        "render",
        "--config",
        "service.clusterIP=192.100.100.1",
        "--config-protected",
        CONNECTION,
        "--policy-set",
        set.to_str().expect("UTF-8 path"),
    ]);
    assert_eq!(result.code, Some(1), "{result:?}");
    assert_eq!(result.stdout, "");
    assert!(
        result
            .stderr
            .contains("blocked: 1 policy failed and fail closed"),
        "{}",
        result.stderr
    );
}

#[test]
fn render_denied_by_policy_prints_no_manifests() {
    let result = kubectl_acr(&[
        "render",
        "--config",
        "service.clusterIP=192.100.100.1",
        "--config",
        "trustDistribution.enabled=false",
        "--config-protected",
        CONNECTION,
    ]);
    assert_eq!(result.code, Some(3), "{result:?}");
    assert_eq!(result.stdout, "");
    assert!(
        result.stderr.contains("TRUST_DISTRIBUTION_WITHOUT_CA"),
        "{}",
        result.stderr
    );
    assert!(
        result.stderr.ends_with("error: denied by 1 policy\n"),
        "{}",
        result.stderr
    );
}

#[test]
fn completion_scripts_complete_the_subcommands_in_a_real_bash() {
    let bash = require_tool("bash");
    let script = kubectl_acr(&["completion", "bash"]).success();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kubectl-acr.bash");
    fs::write(&path, &script).expect("write script");
    let completed = run(
        bash,
        [
            "-c",
            &format!(
                "source {}; COMP_WORDS=(kubectl-acr de); COMP_CWORD=1; \
                 _kubectl__acr kubectl-acr de kubectl-acr; echo \"${{COMPREPLY[@]}}\"",
                path_arg(&path)
            ),
        ],
    )
    .success();
    assert_eq!(completed.trim(), "deploy delete");
    for shell in ["zsh", "fish"] {
        let script = kubectl_acr(&["completion", shell]).success();
        assert!(
            script.contains("kubectl-acr") && script.contains("render"),
            "{shell}: {script}"
        );
    }
    let unknown = kubectl_acr(&["completion", "powershell"]);
    assert_eq!(unknown.code, Some(2), "{unknown:?}");
}

/// A review file that the built-in policies deny, its `object` keys on lines 2 to 4.
fn denied_review(dir: &Path) -> std::path::PathBuf {
    let review = dir.join("review.json");
    fs::write(
        &review,
        "{\"apiVersion\":\"acr.policy/v1\",\"operation\":\"deploy\",\"subject\":\"connected-registry\",\n\"object\":{\"service.clusterIP\":\"10.0.0.1\",\n\"cert-manager.enabled\":false,\n\"cert-manager.install\":true,\"protected\":{}}}",
    )
    .expect("write review");
    review
}

/// Runs scripts/validate-sarif.sh on `sarif` (the SARIF 2.1.0 schema, with jsonschema).
fn assert_valid_sarif(sarif: &str, name: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    fs::write(&path, sarif).expect("write SARIF");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/validate-sarif.sh");
    let validated = run(&script, [path_arg(&path)]);
    assert_eq!(validated.code, Some(0), "{name}: {validated:?}");
}

#[test]
fn sarif_results_point_at_the_file_and_line_or_the_command_line_and_pass_the_schema() {
    let dir = tempfile::tempdir().expect("tempdir");
    let protected = dir.path().join("protected.json");
    fs::write(
        &protected,
        format!(
            "{{\n  \"connectionString\": \"{}\",\n  \"tls.secret\": \"site-tls\"\n}}\n",
            &CONNECTION["connectionString=".len()..]
        ),
    )
    .expect("write settings");
    let denied = kubectl_acr(&[
        "policy",
        "check",
        "--config",
        "service.clusterIP=10.0.0.1",
        "--config",
        "cert-manager.enabled=false",
        "--config",
        "cert-manager.install=false",
        "--config",
        "trustDistribution.enabled=false",
        "--config-protected-file",
        path_arg(&protected),
        "-o",
        "sarif",
    ]);
    assert_eq!(denied.code, Some(3), "{denied:?}");
    assert_valid_sarif(&denied.stdout, "denied.sarif");
    let sarif: serde_json::Value = serde_json::from_str(&denied.stdout).expect("JSON");
    let run = &sarif["runs"][0];
    for result in run["results"].as_array().expect("results") {
        let physical = &result["locations"][0]["physicalLocation"];
        assert!(physical["region"]["startLine"].is_u64(), "{result}");
        let index = physical["artifactLocation"]["index"]
            .as_u64()
            .expect("index");
        assert_eq!(
            run["artifacts"][index as usize]["location"]["uri"],
            physical["artifactLocation"]["uri"]
        );
    }
    let command = run["artifacts"][0]["contents"]["text"]
        .as_str()
        .expect("command");
    assert!(!command.contains("s3cret"), "{command}");
    assert!(
        denied
            .stdout
            .contains(&format!("file://{}", path_arg(&protected))),
        "{}",
        denied.stdout
    );

    let review = denied_review(dir.path());
    let from_review = kubectl_acr(&[
        "policy",
        "check",
        "--input",
        path_arg(&review),
        "-o",
        "sarif",
    ]);
    assert_eq!(from_review.code, Some(3), "{from_review:?}");
    assert_valid_sarif(&from_review.stdout, "review.sarif");
    let sarif: serde_json::Value = serde_json::from_str(&from_review.stdout).expect("JSON");
    let lines: Vec<u64> = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|result| {
            result["locations"][0]["physicalLocation"]["artifactLocation"]["index"] == 1
        })
        .filter_map(|result| {
            result["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64()
        })
        .collect();
    assert!(
        lines.iter().all(|line| (2..=4).contains(line)) && !lines.is_empty(),
        "{lines:?}"
    );

    let allowed = kubectl_acr(&[
        "policy",
        "check",
        "--config",
        "service.clusterIP=10.0.0.1",
        "--config-protected",
        CONNECTION,
        "-o",
        "sarif",
    ]);
    assert_eq!(allowed.code, Some(0), "{allowed:?}");
    assert_valid_sarif(&allowed.stdout, "allowed.sarif");
}

#[test]
fn ci_annotations_name_the_file_and_line_in_github_and_azure_pipelines_syntax() {
    let dir = tempfile::tempdir().expect("tempdir");
    let review = denied_review(dir.path());
    let github = kubectl_acr(&[
        "policy",
        "check",
        "--input",
        path_arg(&review),
        "-o",
        "github",
    ]);
    assert_eq!(github.code, Some(3), "{github:?}");
    let path = path_arg(&review);
    let annotation = github
        .stdout
        .lines()
        .find(|line| line.starts_with("::error file="))
        .unwrap_or_else(|| panic!("no annotation with a file: {}", github.stdout));
    assert!(
        annotation.starts_with(&format!("::error file={path},line=")),
        "{annotation}"
    );
    assert!(
        github.stdout.ends_with("Decision: denied by 3 policies\n"),
        "{}",
        github.stdout
    );
    let azure = kubectl_acr(&[
        "policy",
        "check",
        "--input",
        path_arg(&review),
        "-o",
        "azure-pipelines",
    ]);
    assert_eq!(azure.code, Some(3), "{azure:?}");
    assert!(
        azure.stdout.lines().any(|line| line.starts_with(&format!(
            "##vso[task.logissue type=error;sourcepath={path};linenumber="
        ))),
        "{}",
        azure.stdout
    );
}

#[test]
fn the_ci_examples_in_the_docs_run_as_written() {
    let doc = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/ci.md"))
        .expect("docs/ci.md");
    let site = tempfile::tempdir().expect("tempdir");
    fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/protected-settings.json"),
        site.path().join("protected-settings.json"),
    )
    .expect("copy settings");
    let commands: Vec<&str> = doc
        .lines()
        .filter_map(|line| {
            line.split_once("run: ")
                .or_else(|| line.split_once("script: "))
        })
        .map(|(_, command)| command.trim())
        .filter(|command| command.starts_with("kubectl acr policy check"))
        .collect();
    assert_eq!(commands.len(), 3, "{commands:?}");
    for command in commands {
        let command = command.split(" > ").next().expect("command");
        let words: Vec<&str> = command.split_whitespace().skip(2).collect();
        let output: Run = std::process::Command::new(bin_path("kubectl-acr"))
            .args(&words)
            .current_dir(site.path())
            .env("XDG_CACHE_HOME", env!("CARGO_TARGET_TMPDIR"))
            .output()
            .expect("run kubectl-acr")
            .into();
        assert_eq!(output.code, Some(0), "{command}: {output:?}");
        if command.ends_with("-o sarif") {
            assert_valid_sarif(&output.stdout, "docs.sarif");
        }
    }
}

#[test]
fn under_o_json_a_failure_is_one_json_object_with_a_stable_code() {
    let unknown = kubectl_acr(&["config", "view", "--config", "nope=1", "-o", "json"]);
    assert_eq!(unknown.code, Some(1), "{unknown:?}");
    assert!(unknown.stderr.is_empty(), "{}", unknown.stderr);
    let error: serde_json::Value = serde_json::from_str(&unknown.stdout).expect("one JSON object");
    assert_eq!(error["error"]["code"], "settings.unknown-key");
    assert!(
        error["error"]["message"]
            .as_str()
            .is_some_and(|message| message.starts_with("unknown setting `nope`")),
        "{error}"
    );

    let protected = kubectl_acr(&[
        "config",
        "view",
        "--config-protected",
        "connectionString=SyncTokenPassword=s3cret;Bogus",
        "--output=json",
    ]);
    assert_eq!(protected.code, Some(1), "{protected:?}");
    assert!(!protected.stdout.contains("s3cret"), "{}", protected.stdout);
    let error: serde_json::Value =
        serde_json::from_str(&protected.stdout).expect("one JSON object");
    assert!(
        error["error"]["code"]
            .as_str()
            .is_some_and(|code| code.starts_with("settings.")),
        "{error}"
    );

    let usage = kubectl_acr(&["config", "view", "--bogus", "-ojson"]);
    assert_eq!(usage.code, Some(2), "{usage:?}");
    let error: serde_json::Value = serde_json::from_str(&usage.stdout).expect("one JSON object");
    assert_eq!(error["error"]["code"], "usage");
    assert_eq!(
        error["error"]["causes"][0],
        "unexpected argument '--bogus' found"
    );

    let text = kubectl_acr(&["config", "view", "--config", "nope=1"]);
    assert!(
        text.stdout.is_empty() && text.stderr.starts_with("error: unknown setting"),
        "{text:?}"
    );
}

//! The policy gate inside every changing command: render (printed and as a folder), deploy,
//! pull-secret create, custom-domain prepare and protected-settings each refuse the same way
//! (every verdict and the refusal on stderr, exit 3, the report on stdout only with `-o json`
//! or `-o yaml`) and change nothing; and protected-settings shows the policies what the file
//! would hold, its secrets redacted.

use acr_tests::policies::needle_policy;
use acr_tests::{Run, bin_path, path_text, run_with_stdin};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const CONNECTION: &str = "ConnectedRegistryName=edge;SyncTokenName=edge-sync;SyncTokenPassword=s3cretPassw0rd;ParentGatewayEndpoint=contoso.eastus.data.azurecr.io;ParentEndpointProtocol=https";

const SUBJECTS: [&str; 4] = [
    "connected-registry",
    "custom-domain",
    "pull-secret",
    "protected-settings",
];

fn example_protected_settings() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/protected-settings.json")
}

fn engine(name: &str, cache: &Path, args: &[&str], stdin: &[u8]) -> Run {
    let mut command = Command::new(bin_path(name));
    command
        .env("XDG_CACHE_HOME", cache)
        .env("KUBECONFIG", cache.join("no-kubeconfig"))
        .args(args);
    run_with_stdin(&mut command, stdin)
}

/// A refusal as every changing command tells it: the needle policy's denial and the refusal
/// line on stderr, exit 3.
fn assert_refused_the_same_way(what: &str, run: &Run) {
    assert_eq!(run.code, Some(3), "{what}: {run:?}");
    assert!(
        run.stderr.contains("DENY  gate-test\n        GATE_TEST"),
        "{what}: {}",
        run.stderr
    );
    assert!(
        run.stderr.ends_with("error: denied by 1 policy\n"),
        "{what}: {}",
        run.stderr
    );
}

#[test]
fn every_changing_command_refuses_the_same_way_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path().join("cache");
    let policy = needle_policy(dir.path(), &SUBJECTS, "\"operation\"", "GATE_TEST");
    let protected = example_protected_settings();
    let settings = [
        "--config",
        "service.clusterIP=192.100.100.1",
        "--config-protected-file",
        path_text(&protected),
        "--policy",
        path_text(&policy),
    ];
    let folder = dir.path().join("gitops");
    let domains = dir.path().join("domains");
    let protected_out = dir.path().join("protected.json");
    let connection = dir.path().join("connection.txt");
    std::fs::write(&connection, CONNECTION).expect("write the connection string");

    let kubectl = |extra: &[&str], stdin: &[u8]| {
        let args: Vec<&str> = extra.iter().chain(settings.iter()).copied().collect();
        engine("kubectl-acr", &cache, &args, stdin)
    };
    let pull_secret = |extra: &[&str]| {
        let mut args = vec![
            "pull-secret",
            "create",
            "acr-pull",
            "--server",
            "contoso.azurecr.io",
            "--username",
            "edge-pull",
            "--password-stdin",
            "--dry-run=client",
            "--policy",
            path_text(&policy),
        ];
        args.extend_from_slice(extra);
        engine("kubectl-acr", &cache, &args, b"pull-password")
    };
    let custom_domain = |extra: &[&str]| {
        let mut args = vec![
            "custom-domain",
            "prepare",
            "--registry",
            "contoso",
            "--registry-domain",
            "registry.contoso.com",
            "--self-signed",
            "--out-dir",
            path_text(&domains),
            "--policy",
            path_text(&policy),
        ];
        args.extend_from_slice(extra);
        engine("az-acr-ext", &cache, &args, b"")
    };
    let protected_settings = |extra: &[&str]| {
        let mut args = vec![
            "connected-registry",
            "protected-settings",
            "--connection-string-file",
            path_text(&connection),
            "--secret",
            "registry-tls",
            "--out",
            path_text(&protected_out),
            "--policy",
            path_text(&policy),
        ];
        args.extend_from_slice(extra);
        engine("az-acr-ext", &cache, &args, b"")
    };

    let text_refusals = [
        ("render", kubectl(&["render"], b"")),
        (
            "render --out-dir",
            kubectl(&["render", "--out-dir", path_text(&folder)], b""),
        ),
        (
            "deploy --dry-run=client",
            kubectl(&["deploy", "--dry-run=client"], b""),
        ),
        ("pull-secret create", pull_secret(&[])),
        ("custom-domain prepare", custom_domain(&["-o", "text"])),
        ("protected-settings", protected_settings(&["-o", "text"])),
    ];
    for (what, run) in &text_refusals {
        assert_refused_the_same_way(what, run);
        assert_eq!(
            run.stdout, "",
            "{what}: no report on stdout for text output"
        );
    }

    let machine_refusals = [
        ("render -o json", kubectl(&["render", "-o", "json"], b"")),
        (
            "deploy --dry-run=client -o yaml",
            kubectl(&["deploy", "--dry-run=client", "-o", "yaml"], b""),
        ),
        ("pull-secret create -o json", pull_secret(&["-o", "json"])),
        ("custom-domain prepare (az: JSON)", custom_domain(&[])),
        ("protected-settings (az: JSON)", protected_settings(&[])),
    ];
    for (what, run) in &machine_refusals {
        assert_refused_the_same_way(what, run);
        let report: Value = if run.stdout.trim_start().starts_with('{') {
            serde_json::from_str(&run.stdout).expect("a JSON report")
        } else {
            serde_yaml_ng::from_str(&run.stdout).expect("a YAML report")
        };
        assert_eq!(report["decision"], "denied", "{what}: {}", run.stdout);
        assert_eq!(report["allowed"], false, "{what}");
    }

    for written in [&folder, &domains, &protected_out] {
        assert!(!written.exists(), "{} was written", written.display());
    }
}

#[test]
fn protected_settings_show_the_policies_the_file_without_its_secrets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path().join("cache");
    let connection = dir.path().join("connection.txt");
    std::fs::write(&connection, CONNECTION).expect("write the connection string");
    let out = dir.path().join("protected.json");
    let write = |policy: &Path| {
        engine(
            "az-acr-ext",
            &cache,
            &[
                "connected-registry",
                "protected-settings",
                "--connection-string-file",
                path_text(&connection),
                "--secret",
                "registry-tls",
                "--out",
                path_text(&out),
                "--policy",
                path_text(policy),
            ],
            b"",
        )
    };

    let sees_the_secret_name = needle_policy(
        dir.path(),
        &["protected-settings"],
        r#""tls.secret":"registry-tls""#,
        "GATE_TEST",
    );
    let refused = write(&sees_the_secret_name);
    assert_refused_the_same_way("a policy reading tls.secret", &refused);
    assert!(!out.exists(), "a refusal wrote the file");

    let sees_the_password = needle_policy(
        dir.path(),
        &["protected-settings"],
        "s3cretPassw0rd",
        "PASSWORD_REACHED_POLICY",
    );
    let written = write(&sees_the_password);
    assert_eq!(written.code, Some(0), "{written:?}");
    let summary: Value = serde_json::from_str(&written.stdout).expect("the summary");
    assert_eq!(
        summary["keys"],
        serde_json::json!(["connectionString", "tls.secret"])
    );
    let file = std::fs::read_to_string(&out).expect("the file is written once allowed");
    assert!(
        file.contains("s3cretPassw0rd"),
        "the file holds the secret itself"
    );
}

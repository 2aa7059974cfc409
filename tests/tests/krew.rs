//! The krew package: scripts/krew-package.sh turns the built plugin into an archive and a
//! manifest whose sha256 and file list match it, and the real kubectl runs the plugin and its
//! completion straight from the unpacked archive.

use acr_tests::{Run, bin_path, require_tool, run};
use serde_yaml_ng::Value;
use std::path::Path;

const BASE_URL: &str = "https://downloads.example.org/kubectl-acr/v1";

fn package(out: &Path, platform: &str) -> Run {
    run(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/krew-package.sh"),
        [
            "--homepage",
            "https://example.org/kubectl-acr",
            "--base-url",
            BASE_URL,
            "--out",
            out.to_str().expect("UTF-8 path"),
            platform,
        ],
    )
}

fn sha256_hex(path: &Path) -> String {
    let bytes = std::fs::read(path).expect("archive readable");
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &bytes)
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[test]
fn package_and_manifest_match_and_kubectl_runs_the_unpacked_plugin() {
    let out = tempfile::tempdir().expect("temp dir");
    let binary = bin_path("kubectl-acr");
    let platform = format!("linux/amd64={}", binary.display());
    let manifest_path = package(out.path(), &platform).success();
    assert_eq!(
        manifest_path.trim(),
        out.path().join("acr.yaml").display().to_string()
    );

    let version = format!("v{}", env!("CARGO_PKG_VERSION"));
    let archive_name = format!("kubectl-acr_{version}_linux_amd64.tar.gz");
    let archive = out.path().join(&archive_name);
    let manifest: Value = serde_yaml_ng::from_str(
        &std::fs::read_to_string(out.path().join("acr.yaml")).expect("manifest written"),
    )
    .expect("the manifest is YAML");
    assert_eq!(
        manifest["apiVersion"],
        "krew.googlecontainertools.github.com/v1alpha2"
    );
    assert_eq!(manifest["kind"], "Plugin");
    assert_eq!(manifest["metadata"]["name"], "acr");
    let spec = &manifest["spec"];
    assert_eq!(spec["version"], version.as_str());
    assert_eq!(spec["homepage"], "https://example.org/kubectl-acr");
    assert!(
        spec["shortDescription"]
            .as_str()
            .is_some_and(|text| !text.is_empty())
    );
    let platforms = spec["platforms"].as_sequence().expect("platforms");
    assert_eq!(platforms.len(), 1);
    let entry = &platforms[0];
    assert_eq!(entry["selector"]["matchLabels"]["os"], "linux");
    assert_eq!(entry["selector"]["matchLabels"]["arch"], "amd64");
    assert_eq!(entry["uri"], format!("{BASE_URL}/{archive_name}").as_str());
    assert_eq!(entry["sha256"], sha256_hex(&archive).as_str());
    assert_eq!(entry["bin"], "kubectl-acr");
    let files: Vec<&str> = entry["files"]
        .as_sequence()
        .expect("files")
        .iter()
        .map(|file| {
            assert_eq!(file["to"], ".");
            file["from"].as_str().expect("from")
        })
        .collect();
    assert_eq!(files, ["kubectl-acr", "kubectl_complete-acr", "LICENSE"]);

    let unpacked = out.path().join("unpacked");
    std::fs::create_dir(&unpacked).expect("dir");
    run(
        require_tool("tar"),
        [
            "-xzf",
            archive.to_str().expect("UTF-8"),
            "-C",
            unpacked.to_str().expect("UTF-8"),
        ],
    )
    .success();
    for file in &files {
        assert!(unpacked.join(file).is_file(), "{file} is in the archive");
    }
    let kubectl = |args: &[&str]| -> Run {
        std::process::Command::new(require_tool("kubectl"))
            .args(args)
            .env("PATH", &unpacked)
            .output()
            .expect("run kubectl")
            .into()
    };
    assert_eq!(
        kubectl(&["acr", "version"]).success(),
        format!("kubectl-acr {}\n", env!("CARGO_PKG_VERSION"))
    );
    let completions = kubectl(&["__complete", "acr", "cert", ""]).success();
    assert!(completions.starts_with("generate\n"), "{completions}");
}

#[test]
fn package_refuses_missing_and_unknown_arguments() {
    let out = tempfile::tempdir().expect("temp dir");
    let no_binary = package(out.path(), "linux/amd64=/nonexistent/kubectl-acr");
    assert_eq!(no_binary.code, Some(2), "{no_binary:?}");
    assert!(
        no_binary
            .stderr
            .contains("/nonexistent/kubectl-acr is not an executable"),
        "{}",
        no_binary.stderr
    );
    let bad_os = package(out.path(), "plan9/amd64=/bin/true");
    assert_eq!(bad_os.code, Some(2), "{bad_os:?}");
    assert!(
        bad_os.stderr.contains("unknown OS `plan9`"),
        "{}",
        bad_os.stderr
    );
    assert!(
        !out.path().join("acr.yaml").exists(),
        "no manifest without a valid platform"
    );
}

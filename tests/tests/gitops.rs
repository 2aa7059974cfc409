//! `render --out-dir` against kubectl's built-in kustomize: the folder renders exactly the objects
//! `deploy` applies, Secrets stay out of git, and the Flux and Argo CD examples of docs/gitops.md
//! point at a folder the documented command writes.

use acr_tests::{Run, fixture, kubectl_acr_command, path_text, require_tool, run};
use serde::Deserialize as _;
use serde_json::Value;
use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

const PROTECTED: &str = "examples/protected-settings.json";
const PASSWORD: &str = "example-password-not-real";

fn workspace_file(relative: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

fn kubectl_acr(args: &[&str], cwd: &Path) -> Run {
    kubectl_acr_command(Path::new(env!("CARGO_TARGET_TMPDIR")))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run kubectl-acr")
        .into()
}

/// The objects of multi-document YAML, each as canonical JSON text, sorted.
fn objects_of_yaml(text: &str) -> Vec<String> {
    let mut objects: Vec<String> = serde_yaml_ng::Deserializer::from_str(text)
        .map(|document| Value::deserialize(document).expect("YAML document"))
        .filter(|value| !value.is_null())
        .map(|value| value.to_string())
        .collect();
    objects.sort();
    objects
}

fn kustomize(dir: &Path) -> Vec<String> {
    let kubectl = require_tool("kubectl");
    objects_of_yaml(&run(kubectl, ["kustomize", path_text(dir)]).success())
}

/// What `deploy` applies: its client dry run with Secret values shown, plus cert-manager's
/// release when given.
fn deployed_objects(settings: &[&str], cert_manager: Option<&Path>) -> Vec<String> {
    let mut args = vec!["deploy", "--dry-run=client", "-o", "json", "--show-secrets"];
    args.extend(settings);
    let list: Value =
        serde_json::from_str(&kubectl_acr(&args, &workspace_file(".")).success()).expect("JSON");
    let mut objects: Vec<String> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(Value::to_string)
        .collect();
    if let Some(path) = cert_manager {
        objects.extend(objects_of_yaml(
            &fs::read_to_string(path).expect("cert-manager manifests"),
        ));
    }
    objects.sort();
    objects
}

/// The example connection string as a Secret's `data` carries it.
fn connection_string_base64() -> String {
    use base64::Engine as _;
    let settings: Value = serde_json::from_str(
        &fs::read_to_string(workspace_file(PROTECTED)).expect("example settings"),
    )
    .expect("JSON");
    let connection = settings["connectionString"]
        .as_str()
        .expect("connectionString");
    assert!(connection.contains(PASSWORD));
    base64::engine::general_purpose::STANDARD.encode(connection)
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).expect("exists").permissions().mode() & 0o777
}

#[test]
fn kustomize_renders_exactly_what_deploy_applies_for_each_method() {
    let manifests = fixture("cluster/cert-manager-mini.yaml");
    let cert_manager_install = [
        "--config",
        "service.clusterIP=10.0.0.20",
        "--config-protected-file",
        PROTECTED,
        "--cert-manager-manifests",
        path_text(&manifests),
    ];
    let existing_secret = [
        "--config",
        "service.clusterIP=10.0.0.20",
        "--config",
        "cert-manager.enabled=false",
        "--config",
        "cert-manager.install=false",
        "--config-protected-file",
        PROTECTED,
        "--config-protected",
        "tls.secret=site-tls",
    ];
    for (settings, cert_manager) in [
        (&cert_manager_install[..], Some(manifests.as_path())),
        (&existing_secret[..], None),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("site");
        let mut args = vec!["render", "--out-dir", path_text(&out)];
        args.extend(settings);
        let rendered = kubectl_acr(&args, &workspace_file("."));
        let listed = rendered.success();
        assert_eq!(
            kustomize(&out),
            deployed_objects(settings, cert_manager),
            "{settings:?}"
        );
        assert!(
            listed
                .lines()
                .any(|line| line.ends_with("kustomization.yaml")),
            "{listed}"
        );
        let secret = out.join("secret-connected-registry-connection.yaml");
        assert_eq!(mode(&secret), 0o600);
        assert!(
            fs::read_to_string(&secret)
                .expect("secret")
                .contains(&connection_string_base64())
        );
        let gitignore = fs::read_to_string(out.join(".gitignore")).expect(".gitignore");
        assert!(
            gitignore
                .lines()
                .any(|line| line == "/secret-connected-registry-connection.yaml"),
            "{gitignore}"
        );
        assert_eq!(
            out.join("cert-manager").is_dir(),
            cert_manager.is_some(),
            "{settings:?}"
        );
    }
}

#[test]
fn a_second_render_into_the_same_folder_needs_force_and_a_denial_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("site");
    let args = [
        "render",
        "--config",
        "service.clusterIP=10.0.0.20",
        "--config",
        "cert-manager.enabled=false",
        "--config",
        "cert-manager.install=false",
        "--config-protected-file",
        PROTECTED,
        "--config-protected",
        "tls.secret=site-tls",
        "--out-dir",
        path_text(&out),
    ];
    kubectl_acr(&args, &workspace_file(".")).success();
    let again = kubectl_acr(&args, &workspace_file("."));
    assert_eq!(again.code, Some(1), "{again:?}");
    assert!(again.stderr.contains("pass --force"), "{}", again.stderr);
    let mut forced = args.to_vec();
    forced.push("--force");
    kubectl_acr(&forced, &workspace_file(".")).success();

    let denied_dir = dir.path().join("denied");
    let denied = kubectl_acr(
        &[
            "render",
            "--config",
            "service.clusterIP=10.0.0.20",
            "--config",
            "trustDistribution.enabled=false",
            "--config-protected-file",
            PROTECTED,
            "--out-dir",
            path_text(&denied_dir),
        ],
        &workspace_file("."),
    );
    assert_eq!(denied.code, Some(3), "{denied:?}");
    assert!(
        !denied_dir.exists(),
        "a refused render wrote {denied_dir:?}"
    );
}

/// The fenced blocks of `language` in a Markdown file.
fn fenced_blocks(markdown: &str, language: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(info)) if info.trim() == language => current = Some(String::new()),
            (Some(block), Some("")) => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), None) => {
                block.push_str(line);
                block.push('\n');
            }
            _ => {}
        }
    }
    blocks
}

#[test]
fn the_flux_and_argo_cd_examples_point_at_what_the_documented_command_writes() {
    let doc = fs::read_to_string(workspace_file("docs/gitops.md")).expect("docs/gitops.md");
    let command = fenced_blocks(&doc, "bash")
        .into_iter()
        .find(|block| block.starts_with("kubectl acr render"))
        .expect("a render command in docs/gitops.md");
    let words: Vec<&str> = command
        .split_whitespace()
        .filter(|word| *word != "\\")
        .collect();
    assert_eq!(words[..2], ["kubectl", "acr"]);
    let site = tempfile::tempdir().expect("tempdir");
    fs::copy(
        workspace_file(PROTECTED),
        site.path().join("protected-settings.json"),
    )
    .expect("copy settings");
    fs::copy(
        fixture("cluster/cert-manager-mini.yaml"),
        site.path().join("cert-manager.yaml"),
    )
    .expect("copy manifests");
    let rendered = kubectl_acr(&words[2..], site.path());
    let stderr = rendered.stderr.clone();
    rendered.success();
    assert!(
        stderr.contains("create connected-registry-connection-acr-registry-connection-string"),
        "{stderr}"
    );

    let examples: Vec<Value> = fenced_blocks(&doc, "yaml")
        .iter()
        .map(|block| serde_yaml_ng::from_str(block).expect("YAML example"))
        .collect();
    let flux = examples
        .iter()
        .find(|example| example["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1")
        .expect("a Flux Kustomization");
    let argo = examples
        .iter()
        .find(|example| example["apiVersion"] == "argoproj.io/v1alpha1")
        .expect("an Argo CD Application");
    for path in [&flux["spec"]["path"], &argo["spec"]["source"]["path"]] {
        let folder = site.path().join(path.as_str().expect("a path"));
        let objects = kustomize(&folder);
        assert!(
            objects
                .iter()
                .any(|object| object.contains("\"kind\":\"ExternalSecret\"")),
            "{path}"
        );
        assert!(
            objects
                .iter()
                .all(|object| !object.contains("\"kind\":\"Secret\"")),
            "{path}"
        );
        for entry in walk(&folder) {
            let text = fs::read_to_string(&entry).expect("read");
            for secret in [PASSWORD.to_owned(), connection_string_base64()] {
                assert!(
                    !text.contains(&secret),
                    "{} holds a secret",
                    entry.display()
                );
            }
        }
    }
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).expect("read folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

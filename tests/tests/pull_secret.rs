//! `kubectl acr pull-secret create` run as users run it: against the fake API server (which
//! checks every request) for the Secret, the service account patches, convergence, refusals,
//! dry runs and policy denials; against the real `kubectl create secret docker-registry` for
//! the content; and against real peers (skopeo pushing to and reading from Debian's
//! docker-registry with htpasswd auth) with the Secret's `.dockerconfigjson` as the auth file.

use acr_core::policy::sources::Sha256Digest;
use acr_tests::fake_api_server::{FakeApiServer, MERGE_PATCH, RecordedRequest};
use acr_tests::peers::DockerRegistry;
use acr_tests::policies::needle_policy;
use acr_tests::{Run, fixture, kubectl_acr_command, path_text, require_tool, run_with_stdin};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

const NS: &str = "apps";
const NAME: &str = "acr-pull";
const SERVER: &str = "contoso.azurecr.io";
const USER: &str = "edge-pull";
/// Characters JSON and base64 treat specially, and a colon, which `auth` splits at the first of.
const PASSWORD: &str = "s3cr\"et:pa<ss>&w/rd+=";

/// Runs `kubectl-acr` with `stdin`, its policy cache under the target directory and no
/// KUBECONFIG from the environment.
fn kubectl_acr(args: &[&str], stdin: &[u8]) -> Run {
    run_with_stdin(
        kubectl_acr_command(Path::new(env!("CARGO_TARGET_TMPDIR"))).args(args),
        stdin,
    )
}

/// The docker config `kubectl create secret docker-registry` would write for these inputs.
fn expected_config(server: &str, password: &str) -> Value {
    json!({ "auths": { server: {
        "username": USER,
        "password": password,
        "auth": STANDARD.encode(format!("{USER}:{password}")),
    } } })
}

/// The `.dockerconfigjson` of a Secret manifest, decoded.
fn docker_config_of(secret: &Value) -> Value {
    let data = secret["data"][".dockerconfigjson"]
        .as_str()
        .unwrap_or_else(|| panic!("no .dockerconfigjson in {secret}"));
    serde_json::from_slice(&STANDARD.decode(data).expect("base64")).expect("JSON")
}

/// `pull-secret create NAME --server SERVER --username USERNAME`, then `extra`.
fn create_args<'a>(server: &'a str, username: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "pull-secret",
        "create",
        NAME,
        "--server",
        server,
        "--username",
        username,
    ];
    args.extend(extra);
    args
}

/// The Secret a client dry run prints with `--show-secrets` (`extra` adds flags).
fn client_dry_run_secret(server: &str, username: &str, extra: &[&str], stdin: &[u8]) -> Value {
    let mut args = create_args(
        server,
        username,
        &["--dry-run=client", "--show-secrets", "-o", "json"],
    );
    args.extend(extra);
    let out: Value = serde_json::from_str(&kubectl_acr(&args, stdin).success()).expect("JSON");
    out["items"][0].clone()
}

/// A fake API server holding namespace `apps` and its `default` service account (already
/// pulling with `other`), a kubeconfig for it, and a scratch directory.
struct Cluster {
    server: FakeApiServer,
    dir: tempfile::TempDir,
    kubeconfig: String,
}

impl Cluster {
    fn new() -> Self {
        let server = FakeApiServer::start();
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = path_text(&server.write_kubeconfig(dir.path())).to_owned();
        server
            .insert(json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": NS } }));
        server.insert(json!({
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": { "name": "default", "namespace": NS },
            "imagePullSecrets": [{ "name": "other" }],
        }));
        Self {
            server,
            dir,
            kubeconfig,
        }
    }

    /// Runs `kubectl-acr pull-secret create NAME --server ... --username ... --password-stdin
    /// -n apps --kubeconfig FILE ARGS...` with the password (and a newline) on stdin.
    fn create(&self, args: &[&str]) -> Run {
        let mut all = create_args(
            SERVER,
            USER,
            &[
                "--password-stdin",
                "-n",
                NS,
                "--kubeconfig",
                &self.kubeconfig,
            ],
        );
        all.extend(args);
        kubectl_acr(&all, format!("{PASSWORD}\n").as_bytes())
    }

    fn stored(&self, kind: &str, name: &str) -> Option<Value> {
        self.server.object("v1", kind, Some(NS), name)
    }

    fn pull_secret_names(&self, account: &str) -> Vec<Value> {
        self.stored("ServiceAccount", account)
            .expect("service account")["imagePullSecrets"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    fn insert_service_account(&self, name: &str) {
        self.server.insert(json!({
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": { "name": name, "namespace": NS },
        }));
    }
}

fn lines(requests: &[RecordedRequest]) -> Vec<String> {
    requests.iter().map(RecordedRequest::line).collect()
}

fn secret_path() -> String {
    format!("/api/v1/namespaces/{NS}/secrets/{NAME}")
}

fn service_account_path(name: &str) -> String {
    format!("/api/v1/namespaces/{NS}/serviceaccounts/{name}")
}

fn assert_success(run: &Run) {
    assert_eq!(run.code, Some(0), "{run:?}");
}

/// Asserts the run changed nothing: only reads reached the server, the store is as before.
fn assert_nothing_written(cluster: &Cluster, before: &[Value]) {
    let requests = cluster.server.requests();
    assert!(
        requests.iter().all(|request| request.method == "GET"),
        "{:?}",
        lines(&requests)
    );
    assert_eq!(cluster.server.objects(), before);
}

#[test]
fn creates_the_secret_and_adds_it_to_each_service_account() {
    let cluster = Cluster::new();
    cluster.insert_service_account("builder");
    let run = cluster.create(&[
        "--service-account",
        "default",
        "--service-account",
        "builder",
    ]);
    assert_success(&run);
    assert_eq!(
        run.stdout,
        "secret/acr-pull created\nserviceaccount/default patched\nserviceaccount/builder patched\n"
    );
    let requests = cluster.server.requests();
    assert_eq!(
        lines(&requests),
        [
            format!("GET {}", secret_path()),
            format!("GET {}", service_account_path("default")),
            format!("GET {}", service_account_path("builder")),
            format!("PATCH {}", secret_path()),
            format!("PATCH {}", service_account_path("default")),
            format!("PATCH {}", service_account_path("builder")),
        ],
        "every read before any write"
    );
    assert_eq!(
        requests[3].content_type.as_deref(),
        Some("application/apply-patch+yaml")
    );
    for patch in &requests[4..] {
        assert_eq!(patch.content_type.as_deref(), Some(MERGE_PATCH));
        assert_eq!(patch.query_value("fieldManager"), Some("kubectl-acr"));
    }

    let secret = cluster
        .stored("Secret", NAME)
        .expect("the Secret is stored");
    assert_eq!(secret["type"], "kubernetes.io/dockerconfigjson");
    assert_eq!(
        secret["metadata"]["labels"],
        json!({
            "app.kubernetes.io/managed-by": "kubectl-acr",
            "app.kubernetes.io/component": "pull-secret",
        })
    );
    assert_eq!(
        secret["metadata"]["managedFields"][0]["manager"],
        "kubectl-acr"
    );
    assert_eq!(
        secret["data"].as_object().map(|data| data.len()),
        Some(1),
        "{secret}"
    );
    assert_eq!(docker_config_of(&secret), expected_config(SERVER, PASSWORD));
    assert_eq!(
        cluster.pull_secret_names("default"),
        [json!({ "name": "other" }), json!({ "name": NAME })],
        "the entry that was there is kept"
    );
    assert_eq!(
        cluster.pull_secret_names("builder"),
        [json!({ "name": NAME })]
    );
}

#[test]
fn re_running_with_the_same_input_changes_nothing() {
    let cluster = Cluster::new();
    assert_success(&cluster.create(&[]));
    let first = cluster.server.objects();
    cluster.server.take_requests();

    let again = cluster.create(&[]);
    assert_success(&again);
    assert_eq!(
        again.stdout,
        "secret/acr-pull unchanged\nserviceaccount/default unchanged\n"
    );
    assert_eq!(
        lines(&cluster.server.take_requests()),
        [
            format!("GET {}", secret_path()),
            format!("GET {}", service_account_path("default")),
            format!("PATCH {}", secret_path()),
        ],
        "the service account already has the entry: it is not patched"
    );
    assert_eq!(
        cluster.server.objects(),
        first,
        "the same objects, resourceVersions unchanged"
    );
    assert_eq!(cluster.pull_secret_names("default").len(), 2, "no repeat");
}

#[test]
fn a_secret_not_made_by_pull_secret_create_is_never_overwritten() {
    for labels in [
        json!({}),
        json!({ "app.kubernetes.io/managed-by": "kubectl-acr", "app.kubernetes.io/component": "credentials" }),
    ] {
        let cluster = Cluster::new();
        cluster.server.insert(json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": { "name": NAME, "namespace": NS, "labels": labels },
            "data": { "token": STANDARD.encode("theirs") },
        }));
        let before = cluster.server.objects();
        let run = cluster.create(&["--service-account", "missing"]);
        assert_eq!(run.code, Some(1), "{run:?}");
        assert!(
            run.stderr.starts_with(
                "error: the pull secret cannot be created, nothing was changed:\n  - Secret \
                 apps/acr-pull exists and was not made by kubectl acr pull-secret create"
            ),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains("\n  - ServiceAccount apps/missing does not exist"),
            "every problem is reported at once: {}",
            run.stderr
        );
        assert_nothing_written(&cluster, &before);
    }
}

#[test]
fn a_missing_service_account_is_named_and_nothing_is_written() {
    let cluster = Cluster::new();
    let before = cluster.server.objects();
    let run = cluster.create(&[
        "--service-account",
        "default",
        "--service-account",
        "builder",
    ]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(
        run.stderr.trim_end(),
        "error: the pull secret cannot be created, nothing was changed:\n  - ServiceAccount \
         apps/builder does not exist: create it (kubectl create serviceaccount builder -n apps), \
         name another with --service-account, or link none with --no-service-account"
    );
    assert_nothing_written(&cluster, &before);

    let none = cluster.create(&["--no-service-account"]);
    assert_success(&none);
    assert_eq!(none.stdout, "secret/acr-pull created\n");
    assert!(
        none.stderr
            .contains("name acr-pull in a pod's spec.imagePullSecrets"),
        "{}",
        none.stderr
    );
    assert_eq!(
        cluster.pull_secret_names("default"),
        [json!({ "name": "other" })]
    );
}

#[test]
fn a_server_dry_run_sends_every_write_with_dry_run_all_and_stores_nothing() {
    let cluster = Cluster::new();
    let before = cluster.server.objects();
    let run = cluster.create(&["--dry-run=server"]);
    assert_success(&run);
    assert_eq!(
        run.stdout,
        "secret/acr-pull created (server dry run)\nserviceaccount/default patched (server dry run)\n"
    );
    let requests = cluster.server.requests();
    let writes: Vec<&RecordedRequest> = requests.iter().filter(|r| r.is_write()).collect();
    assert_eq!(writes.len(), 2, "{:?}", lines(&requests));
    for write in writes {
        assert_eq!(write.query_value("dryRun"), Some("All"), "{}", write.line());
    }
    assert_eq!(cluster.server.objects(), before);
}

#[test]
fn a_client_dry_run_sends_no_request_and_prints_the_secret_redacted() {
    let cluster = Cluster::new();
    let run = cluster.create(&["--dry-run=client"]);
    assert_success(&run);
    assert_eq!(cluster.server.requests(), []);
    assert_eq!(
        run.stdout,
        "apiVersion: v1\nkind: Secret\nmetadata:\n  labels:\n    app.kubernetes.io/component: \
         pull-secret\n    app.kubernetes.io/managed-by: kubectl-acr\n  name: acr-pull\n  \
         namespace: apps\ndata:\n  .dockerconfigjson: PHJlZGFjdGVkPg==\ntype: \
         kubernetes.io/dockerconfigjson\n"
    );
    assert!(
        run.stderr
            .contains("ServiceAccount apps/default: acr-pull would be added to imagePullSecrets"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_namespace_defaults_to_the_contexts_then_to_default() {
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        json!({
            "apiVersion": "v1", "kind": "Config",
            "clusters": [{ "name": "c", "cluster": { "server": "http://127.0.0.1:9" } }],
            "users": [{ "name": "u", "user": {} }],
            "contexts": [
                { "name": "team", "context": { "cluster": "c", "user": "u", "namespace": "team-ns" } },
                { "name": "plain", "context": { "cluster": "c", "user": "u" } },
            ],
            "current-context": "team",
        })
        .to_string(),
    )
    .expect("kubeconfig");
    let namespace_of = |extra: &[&str]| {
        let mut args = vec!["--password-stdin"];
        args.extend(extra);
        client_dry_run_secret(SERVER, USER, &args, b"pw")["metadata"]["namespace"].clone()
    };
    let config = path_text(&kubeconfig);
    assert_eq!(namespace_of(&["--kubeconfig", config]), "team-ns");
    assert_eq!(
        namespace_of(&["--kubeconfig", config, "--context", "plain"]),
        "default"
    );
    assert_eq!(
        namespace_of(&["--kubeconfig", config, "-n", "mine"]),
        "mine"
    );
    let missing = dir.path().join("missing");
    assert_eq!(
        namespace_of(&["--kubeconfig", path_text(&missing)]),
        "default",
        "a client dry run needs no kubeconfig, as with kubectl"
    );
}

#[test]
fn output_never_shows_the_password_unless_asked() {
    let cluster = Cluster::new();
    let config_base64 =
        STANDARD.encode(serde_json::to_string(&expected_config(SERVER, PASSWORD)).expect("JSON"));
    let auth = STANDARD.encode(format!("{USER}:{PASSWORD}"));
    for args in [
        &["-o", "yaml"][..],
        &["-o", "json"],
        &[],
        &["--dry-run=client"],
        &["--dry-run=server", "-o", "yaml"],
    ] {
        let run = cluster.create(args);
        assert_success(&run);
        for shown in [&run.stdout, &run.stderr] {
            for secret in [PASSWORD, &auth, &config_base64, "s3cr"] {
                assert!(!shown.contains(secret), "{args:?} shows {secret}: {shown}");
            }
        }
    }
    let yaml = cluster.create(&["-o", "yaml"]);
    assert!(
        yaml.stdout
            .contains("  .dockerconfigjson: PHJlZGFjdGVkPg==\n")
            && yaml
                .stdout
                .contains("\n---\napiVersion: v1\nkind: ServiceAccount\n"),
        "{}",
        yaml.stdout
    );
    let shown = cluster.create(&["-o", "json", "--show-secrets"]);
    let listed: Value = serde_json::from_str(&shown.stdout).expect("JSON");
    assert_eq!(
        docker_config_of(&listed["items"][0]),
        expected_config(SERVER, PASSWORD)
    );
    assert_eq!(
        listed["items"][1]["imagePullSecrets"],
        json!([{ "name": "other" }, { "name": NAME }])
    );
}

#[test]
fn a_password_on_the_command_line_is_a_usage_error() {
    let cluster = Cluster::new();
    for flag in [
        &["--password", "hunter2"][..],
        &["--password=hunter2"],
        &["--docker-password", "hunter2"],
        &["--password"],
    ] {
        let mut args = create_args(SERVER, USER, &["--kubeconfig", &cluster.kubeconfig]);
        args.extend(flag);
        let run = kubectl_acr(&args, b"");
        assert_eq!(run.code, Some(2), "{flag:?}: {run:?}");
        assert!(
            run.stderr.starts_with(
                "error: a password is never taken on the command line, where shell history and \
                 `ps` would show it: pipe it in with --password-stdin, or name a file with \
                 --password-file FILE"
            ),
            "{flag:?}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
    }
    assert_eq!(cluster.server.requests(), []);
}

#[test]
fn the_password_comes_from_stdin_or_a_file_less_one_line_break() {
    let cluster = Cluster::new();
    let file = cluster.dir.path().join("password");
    std::fs::write(&file, format!("{PASSWORD}\r\n")).expect("password file");
    let config_of = |extra: &[&str], stdin: &[u8]| {
        let mut args = vec!["-n", NS];
        args.extend(extra);
        docker_config_of(&client_dry_run_secret(SERVER, USER, &args, stdin))
    };
    assert_eq!(
        config_of(&["--password-file", path_text(&file)], b""),
        expected_config(SERVER, PASSWORD)
    );
    assert_eq!(
        config_of(&["--password-stdin"], format!("{PASSWORD}\n").as_bytes()),
        expected_config(SERVER, PASSWORD)
    );
    for stdin in [&b"\n"[..], b""] {
        let run = kubectl_acr(
            &create_args(SERVER, USER, &["--password-stdin", "--dry-run=client"]),
            stdin,
        );
        assert_eq!(run.code, Some(1), "{run:?}");
        assert_eq!(run.stderr, "error: the password from stdin is empty\n");
    }
}

#[test]
fn policies_see_the_review_and_a_denial_writes_nothing() {
    let cluster = Cluster::new();
    let dir = cluster.dir.path();
    let password_seen = needle_policy(dir, &["pull-secret"], "s3cr", "PASSWORD_REACHED_POLICY");
    let user_seen = needle_policy(
        dir,
        &["pull-secret"],
        r#""username":"edge-pull""#,
        "TOKEN_NOT_ALLOWED",
    );
    let facts_seen = needle_policy(
        dir,
        &["pull-secret"],
        r#""imagePullSecrets":["other"]"#,
        "ALREADY_PULLS_WITH_OTHER",
    );
    let before = cluster.server.objects();
    let run = cluster.create(&[
        "--policy",
        path_text(&password_seen),
        "--policy",
        path_text(&user_seen),
        "--policy",
        path_text(&facts_seen),
    ]);
    assert_eq!(run.code, Some(3), "{run:?}");
    assert_eq!(run.stdout, "");
    for expected in [
        "PASS  password-reached-policy\n",
        "DENY  token-not-allowed\n        TOKEN_NOT_ALLOWED [username]: the review contains the needle\n",
        "DENY  already-pulls-with-other\n",
    ] {
        assert!(
            run.stderr.contains(expected),
            "{expected:?} in {}",
            run.stderr
        );
    }
    assert!(
        run.stderr.ends_with("error: denied by 2 policies\n"),
        "{}",
        run.stderr
    );
    assert_nothing_written(&cluster, &before);

    let client = cluster.create(&["--dry-run=client", "--policy", path_text(&user_seen)]);
    assert_eq!(client.code, Some(3), "{client:?}");
    assert_eq!(
        client.stdout, "",
        "a denied client dry run prints no Secret"
    );

    let other_user = kubectl_acr(
        &create_args(
            SERVER,
            "someone-else",
            &[
                "--password-stdin",
                "-n",
                NS,
                "--kubeconfig",
                &cluster.kubeconfig,
                "--policy",
                path_text(&user_seen),
            ],
        ),
        b"pw",
    );
    assert_success(&other_user);
    assert!(
        other_user.stderr.contains("PASS  token-not-allowed\n"),
        "{}",
        other_user.stderr
    );
}

#[test]
fn the_secret_is_what_kubectl_create_secret_docker_registry_writes() {
    let kubectl = require_tool("kubectl");
    let dir = tempfile::tempdir().expect("temp dir");
    for server in [SERVER, "127.0.0.1:5000"] {
        let theirs = Command::new(&kubectl)
            .args([
                "create",
                "secret",
                "docker-registry",
                NAME,
                &format!("--docker-server={server}"),
                &format!("--docker-username={USER}"),
                &format!("--docker-password={PASSWORD}"),
                "--dry-run=client",
                "-o",
                "json",
            ])
            .env("KUBECONFIG", dir.path().join("none"))
            .output()
            .expect("run kubectl");
        let theirs: Value = serde_json::from_str(&Run::from(theirs).success()).expect("JSON");
        let ours = &client_dry_run_secret(
            server,
            USER,
            &["--password-stdin", "-n", NS],
            PASSWORD.as_bytes(),
        );
        assert_eq!(ours["type"], theirs["type"]);
        assert_eq!(
            ours["data"]
                .as_object()
                .map(|data| data.keys().collect::<Vec<_>>()),
            theirs["data"]
                .as_object()
                .map(|data| data.keys().collect::<Vec<_>>())
        );
        assert_eq!(docker_config_of(ours), docker_config_of(&theirs));
        assert_eq!(docker_config_of(ours), expected_config(server, PASSWORD));
    }
}

/// The registry's htpasswd user and password (`tests/fixtures/registry/README.md`).
const REGISTRY_USER: &str = "pull-token";
const REGISTRY_PASSWORD: &str = "Pull+Token/Passw0rd=";

/// Writes a one-layer OCI image layout to `dir` (tag `v1`) and returns its config's digest
/// (the manifest itself changes on push: skopeo compresses the layer).
fn write_oci_layout(dir: &Path) -> String {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("blobs dir");
    let write_blob = |bytes: &[u8]| {
        let digest = Sha256Digest::of(bytes);
        std::fs::write(blobs.join(digest.hex()), bytes).expect("blob");
        (digest.to_string(), bytes.len())
    };
    let layer = vec![0_u8; 1024];
    let (layer_digest, layer_size) = write_blob(&layer);
    let config = json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": { "type": "layers", "diff_ids": [layer_digest] },
    })
    .to_string();
    let (config_digest, config_size) = write_blob(config.as_bytes());
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size },
        "layers": [{ "mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": layer_size }],
    })
    .to_string();
    let (manifest_digest, manifest_size) = write_blob(manifest.as_bytes());
    let config_blob = config_digest.clone();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).expect("layout");
    std::fs::write(
        dir.join("index.json"),
        json!({
            "schemaVersion": 2,
            "manifests": [{
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": manifest_digest, "size": manifest_size,
                "annotations": { "org.opencontainers.image.ref.name": "v1" },
            }],
        })
        .to_string(),
    )
    .expect("index");
    config_blob
}

/// The `.dockerconfigjson` `pull-secret create` makes for the registry, written as an auth file.
fn auth_file(dir: &Path, host: &str, password: &str) -> PathBuf {
    let secret = client_dry_run_secret(
        host,
        REGISTRY_USER,
        &["--password-stdin", "-n", NS],
        format!(
            "{password}
"
        )
        .as_bytes(),
    );
    let path = dir.join(format!("auth-{}.json", password.len()));
    std::fs::write(&path, docker_config_of(&secret).to_string()).expect("auth file");
    path
}

#[test]
fn skopeo_pushes_and_reads_with_the_secret_as_its_auth_file() {
    let skopeo = require_tool("skopeo");
    let dir = tempfile::tempdir().expect("temp dir");
    let certs = dir.path().join("certs");
    kubectl_acr(
        &[
            "cert",
            "generate",
            "--ip",
            "127.0.0.1",
            "--out-dir",
            path_text(&certs),
        ],
        b"",
    )
    .success();
    let trust = dir.path().join("trust");
    std::fs::create_dir_all(&trust).expect("trust dir");
    std::fs::copy(certs.join("ca.crt"), trust.join("ca.crt")).expect("CA");
    let registry = DockerRegistry::start(
        dir.path(),
        &certs.join("tls.crt"),
        &certs.join("tls.key"),
        &format!(
            "auth:\n  htpasswd:\n    realm: test\n    path: {}\n",
            fixture("registry/htpasswd").display()
        ),
    );
    let layout = dir.path().join("layout");
    let config_digest = write_oci_layout(&layout);
    let image = format!("docker://{}/edge/hello:v1", registry.host());
    let good = auth_file(dir.path(), &registry.host(), REGISTRY_PASSWORD);
    let wrong = auth_file(dir.path(), &registry.host(), "not-the-password");
    let skopeo_run = |args: &[&str]| {
        let mut command = Command::new(&skopeo);
        command
            .args(args)
            .env("TMPDIR", dir.path())
            .env("HOME", dir.path());
        Run::from(command.output().expect("run skopeo"))
    };

    let refused = skopeo_run(&[
        "copy",
        "--insecure-policy",
        "--dest-cert-dir",
        path_text(&trust),
        "--dest-authfile",
        path_text(&wrong),
        &format!("oci:{}:v1", path_text(&layout)),
        &image,
    ]);
    assert_ne!(refused.code, Some(0), "{refused:?}");
    assert!(
        refused.stderr.contains("authentication required")
            || refused.stderr.contains("unauthorized"),
        "{}\n{}",
        refused.stderr,
        registry.peer.log_text()
    );

    skopeo_run(&[
        "copy",
        "--insecure-policy",
        "--dest-cert-dir",
        path_text(&trust),
        "--dest-authfile",
        path_text(&good),
        &format!("oci:{}:v1", path_text(&layout)),
        &image,
    ])
    .success();
    let inspected = skopeo_run(&[
        "inspect",
        "--raw",
        "--cert-dir",
        path_text(&trust),
        "--authfile",
        path_text(&good),
        &image,
    ])
    .success();
    let manifest: Value = serde_json::from_str(&inspected).expect("manifest JSON");
    assert_eq!(
        manifest["config"]["digest"], config_digest,
        "the image pushed is read back"
    );
    let denied = skopeo_run(&[
        "inspect",
        "--raw",
        "--cert-dir",
        path_text(&trust),
        "--authfile",
        path_text(&wrong),
        &image,
    ]);
    assert_ne!(denied.code, Some(0), "{denied:?}");
}

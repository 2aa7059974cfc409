//! `kubectl acr deploy`, `status` and `delete` run as users run them, against the fake API
//! server (`acr_tests::fake_api_server`), which checks every request: the exact requests of each
//! of the five deployment methods (preflight reads, then server-side applies in order under the
//! field manager), dry runs, no writes on a policy denial or a failed preflight, convergence on
//! re-run, delete keeping the data, the timeout exit code, status, and kubeconfig selection.

use acr_tests::fake_api_server::{FakeApiServer, RecordedRequest, TOKEN, Workloads};
use acr_tests::{Run, bin_path, fixture, path_text};
use base64::Engine as _;
use serde_json::{Value, json};
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;

const NS: &str = "connected-registry";
const SERVICE_IP: &str = "10.0.0.1";
const INSTANCE: &str = "edge";
const CONNECTION: &str = "connectionString=ConnectedRegistryName=edge;SyncTokenName=edge-sync-token;SyncTokenPassword=c3luYy10b2tlbi1zZWNyZXQ=;ParentGatewayEndpoint=contoso.eastus.data.azurecr.io;ParentEndpointProtocol=https";
const SYNC_TOKEN_PASSWORD: &str = "c3luYy10b2tlbi1zZWNyZXQ=";

/// Runs `kubectl-acr` with its policy cache under the target directory and no KUBECONFIG from
/// the environment, plus `env`.
fn kubectl_acr_with_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(bin_path("kubectl-acr"));
    command
        .args(args)
        .env("XDG_CACHE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .env_remove("KUBECONFIG");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run kubectl-acr").into()
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// A serving certificate for the service IP and its CA, from `kubectl acr cert generate`.
struct Certificates {
    cert: String,
    key: String,
    ca: String,
}

fn generate_certificates(dir: &Path) -> Certificates {
    let out = dir.join("certs");
    kubectl_acr_with_env(
        &[
            "cert",
            "generate",
            "--ip",
            SERVICE_IP,
            "--out-dir",
            path_text(&out),
        ],
        &[],
    )
    .success();
    let read = |name: &str| std::fs::read_to_string(out.join(name)).expect("generated file");
    Certificates {
        cert: read("tls.crt"),
        key: read("tls.key"),
        ca: read("ca.crt"),
    }
}

/// A fake API server, a kubeconfig for it, and a scratch directory.
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
        Self {
            server,
            dir,
            kubeconfig,
        }
    }

    /// Runs `kubectl-acr VERB --kubeconfig FILE ARGS...`.
    fn run(&self, verb: &str, args: &[String]) -> Run {
        let mut all = vec![verb, "--kubeconfig", &self.kubeconfig];
        all.extend(args.iter().map(String::as_str));
        kubectl_acr_with_env(&all, &[])
    }

    fn deploy(&self, method: &Method, extra: &[&str]) -> Run {
        let mut args = method.args.clone();
        args.extend(extra.iter().map(|arg| (*arg).to_owned()));
        self.run("deploy", &args)
    }

    fn insert_cert_manager_crds(&self) {
        for (plural, kind) in [("certificates", "Certificate"), ("issuers", "Issuer")] {
            self.server.insert(json!({
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": { "name": format!("{plural}.cert-manager.io") },
                "spec": { "group": "cert-manager.io", "names": { "kind": kind, "plural": plural } },
            }));
        }
    }

    fn insert_namespace(&self) {
        self.server.insert(json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": { "name": NS, "labels": { "pod-security.kubernetes.io/enforce": "privileged" } },
        }));
    }

    fn stored(&self, api_version: &str, kind: &str, name: &str) -> Option<Value> {
        let namespace = (kind != "Namespace").then_some(NS);
        self.server.object(api_version, kind, namespace, name)
    }
}

/// One deployment method: its flags and the objects it applies, as paths in apply order.
struct Method {
    args: Vec<String>,
    applies: Vec<String>,
}

fn core(plural: &str, name: &str) -> String {
    format!("/api/v1/namespaces/{NS}/{plural}/{name}")
}

fn apps(plural: &str, name: &str) -> String {
    format!("/apis/apps/v1/namespaces/{NS}/{plural}/{name}")
}

fn cert_manager(plural: &str, name: &str) -> String {
    format!("/apis/cert-manager.io/v1/namespaces/{NS}/{plural}/{name}")
}

fn crd(name: &str) -> String {
    format!("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
}

/// The plan's paths in apply order: the common head, the TLS objects, the common tail.
fn plan_paths(tls: Vec<String>, trust: bool) -> Vec<String> {
    let mut paths = vec![
        format!("/api/v1/namespaces/{NS}"),
        core("serviceaccounts", "connected-registry"),
        core("secrets", "connected-registry-connection"),
    ];
    paths.extend(tls);
    paths.extend([
        core("persistentvolumeclaims", "connected-registry-pvc"),
        core("services", "connected-registry"),
        apps("deployments", "connected-registry"),
    ]);
    if trust {
        paths.push(apps("daemonsets", "connected-registry-containerd-config"));
    }
    paths
}

fn issuer_chain_paths() -> Vec<String> {
    vec![
        cert_manager("issuers", "connected-registry-selfsigned"),
        cert_manager("certificates", "connected-registry-ca"),
        cert_manager("issuers", "connected-registry-ca-issuer"),
        cert_manager("certificates", "connected-registry-tls"),
    ]
}

fn settings_args(config: &[&str], protected: &[String]) -> Vec<String> {
    let mut args = vec![
        "--config".to_owned(),
        format!("service.clusterIP={SERVICE_IP}"),
    ];
    for setting in config {
        args.extend(["--config".to_owned(), (*setting).to_owned()]);
    }
    args.extend(["--config-protected".to_owned(), CONNECTION.to_owned()]);
    for setting in protected {
        args.extend(["--config-protected".to_owned(), setting.clone()]);
    }
    args
}

fn cert_manager_install() -> Method {
    let mut args = settings_args(&[], &[]);
    args.extend([
        "--cert-manager-manifests".to_owned(),
        path_text(&fixture("cluster/cert-manager-mini.yaml")).to_owned(),
    ]);
    Method {
        args,
        applies: plan_paths(issuer_chain_paths(), true),
    }
}

fn cert_manager_existing() -> Method {
    Method {
        args: settings_args(&["cert-manager.install=false"], &[]),
        applies: plan_paths(issuer_chain_paths(), true),
    }
}

const OWN_CERTIFICATE: [&str; 2] = ["cert-manager.enabled=false", "cert-manager.install=false"];

fn byoc(certificates: &Certificates) -> Method {
    Method {
        args: settings_args(
            &OWN_CERTIFICATE,
            &[
                format!("tls.crt={}", b64(&certificates.cert)),
                format!("tls.key={}", b64(&certificates.key)),
                format!("tls.cacrt={}", b64(&certificates.ca)),
            ],
        ),
        applies: plan_paths(vec![core("secrets", "connected-registry-tls")], true),
    }
}

fn existing_secret() -> Method {
    Method {
        args: settings_args(&OWN_CERTIFICATE, &["tls.secret=registry-tls".to_owned()]),
        applies: plan_paths(Vec::new(), true),
    }
}

fn own_trust(certificates: &Certificates) -> Method {
    let mut config = OWN_CERTIFICATE.to_vec();
    config.push("trustDistribution.enabled=false");
    Method {
        args: settings_args(
            &config,
            &[
                format!("tls.crt={}", b64(&certificates.cert)),
                format!("tls.key={}", b64(&certificates.key)),
                format!("tls.cacrt={}", b64(&certificates.ca)),
            ],
        ),
        applies: plan_paths(vec![core("secrets", "connected-registry-tls")], false),
    }
}

/// The dry-run Service preflight applies to learn whether the service IP is in the range.
const SERVICE_IP_PROBE: &str = "/api/v1/namespaces/default/services/kubectl-acr-service-ip-probe";

/// What preflight reads about cert-manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CertManagerReads {
    /// Nothing (the certificate comes from the user).
    Nothing,
    /// The CRDs the cluster's own cert-manager must have (`cert-manager.install=false`).
    Crds,
    /// Another cert-manager that installing one would collide with (`cert-manager.install=true`).
    OtherInstalls,
}

/// The preflight reads: the namespace, each Secret the plan applies, the `tls.secret`, the
/// cert-manager CRDs or other installs, the nodes, every Service, the StorageClasses, then the
/// service IP probe (a dry run).
fn preflight_paths(
    planned_secrets: &[&str],
    tls_secret: Option<&str>,
    cert_manager: CertManagerReads,
) -> Vec<String> {
    let mut paths = vec![format!("GET /api/v1/namespaces/{NS}")];
    for secret in planned_secrets.iter().chain(tls_secret.iter()) {
        paths.push(format!("GET {}", core("secrets", secret)));
    }
    match cert_manager {
        CertManagerReads::Nothing => {}
        CertManagerReads::Crds => {
            paths.push(format!("GET {}", crd("certificates.cert-manager.io")));
            paths.push(format!("GET {}", crd("issuers.cert-manager.io")));
        }
        CertManagerReads::OtherInstalls => {
            paths.push("GET /apis/apps/v1/deployments".to_owned());
            paths.push(format!("GET {}", crd("certificates.cert-manager.io")));
        }
    }
    paths.push("GET /api/v1/nodes".to_owned());
    paths.push("GET /api/v1/services".to_owned());
    paths.push("GET /apis/storage.k8s.io/v1/storageclasses".to_owned());
    paths.push(format!("PATCH {SERVICE_IP_PROBE}"));
    paths
}

/// The paths of the DELETE requests since the requests were last taken.
fn take_deleted_paths(server: &FakeApiServer) -> Vec<String> {
    server
        .take_requests()
        .into_iter()
        .filter(|request| request.method == "DELETE")
        .map(|request| request.path)
        .collect()
}

fn lines(requests: &[RecordedRequest]) -> Vec<String> {
    requests.iter().map(RecordedRequest::line).collect()
}

fn patches(paths: &[String]) -> Vec<String> {
    paths.iter().map(|path| format!("PATCH {path}")).collect()
}

/// Asserts every PATCH is a server-side apply under kubectl-acr that takes over no other
/// manager's fields (no `force`; the fake server checks this too) and carries `dryRun=All`
/// exactly when `dry_run`.
fn assert_applies(requests: &[RecordedRequest], dry_run: bool) {
    for request in requests
        .iter()
        .filter(|request| request.method == "PATCH" && request.path != SERVICE_IP_PROBE)
    {
        assert_eq!(
            request.content_type.as_deref(),
            Some("application/apply-patch+yaml"),
            "{request:?}"
        );
        assert_eq!(
            request.query_value("fieldManager"),
            Some("kubectl-acr"),
            "{request:?}"
        );
        assert_eq!(request.query_value("force"), None, "{request:?}");
        assert_eq!(
            request.query_value("dryRun"),
            dry_run.then_some("All"),
            "{request:?}"
        );
    }
}

fn assert_deployed(run: &Run) {
    assert_eq!(run.code, Some(0), "{run:?}");
}

#[test]
fn cert_manager_install_applies_the_release_then_waits_for_its_webhook() {
    let cluster = Cluster::new();
    let method = cert_manager_install();
    let run = cluster.deploy(&method, &[]);
    assert_deployed(&run);
    assert!(
        run.stderr.contains("cert-manager: 9 objects from ")
            && run.stderr.contains("not the pinned release"),
        "{}",
        run.stderr
    );
    let requests = cluster.server.requests();
    let release = [
        "/api/v1/namespaces/cert-manager".to_owned(),
        crd("certificates.cert-manager.io"),
        crd("issuers.cert-manager.io"),
        "/api/v1/namespaces/cert-manager/serviceaccounts/cert-manager-webhook".to_owned(),
        "/apis/rbac.authorization.k8s.io/v1/clusterroles/cert-manager-webhook:subjectaccessreviews"
            .to_owned(),
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/cert-manager-webhook:subjectaccessreviews"
            .to_owned(),
        "/api/v1/namespaces/cert-manager/services/cert-manager-webhook".to_owned(),
        "/apis/apps/v1/namespaces/cert-manager/deployments/cert-manager-webhook".to_owned(),
        "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/cert-manager-webhook"
            .to_owned(),
    ];
    let mut expected = preflight_paths(
        &["connected-registry-connection"],
        None,
        CertManagerReads::OtherInstalls,
    );
    expected.extend(patches(&release));
    expected.push(
        "GET /apis/apps/v1/namespaces/cert-manager/deployments/cert-manager-webhook".to_owned(),
    );
    expected.extend(patches(&method.applies));
    assert_eq!(lines(&requests), expected);
    assert_eq!(requests.len(), 29);
    assert_applies(&requests, false);
    let issuer = cluster
        .stored(
            "cert-manager.io/v1",
            "Certificate",
            "connected-registry-tls",
        )
        .expect("serving Certificate stored");
    assert_eq!(issuer["spec"]["ipAddresses"], json!([SERVICE_IP]));
}

#[test]
fn cert_manager_existing_needs_the_clusters_crds() {
    let cluster = Cluster::new();
    let method = cert_manager_existing();
    let refused = cluster.deploy(&method, &[]);
    assert_eq!(refused.code, Some(1), "{refused:?}");
    assert!(
        refused.stderr.contains(
            "cert-manager.install=false, but the cluster has no CustomResourceDefinition certificates.cert-manager.io"
        ),
        "{}",
        refused.stderr
    );
    assert!(
        !cluster
            .server
            .take_requests()
            .iter()
            .any(RecordedRequest::is_stored_write),
        "a refused preflight writes nothing"
    );

    cluster.insert_cert_manager_crds();
    let run = cluster.deploy(&method, &[]);
    assert_deployed(&run);
    let requests = cluster.server.requests();
    let mut expected = preflight_paths(
        &["connected-registry-connection"],
        None,
        CertManagerReads::Crds,
    );
    expected.extend(patches(&method.applies));
    assert_eq!(lines(&requests), expected);
    assert_eq!(requests.len(), 19);
    assert_applies(&requests, false);
    assert!(
        run.stdout
            .contains("Issuer connected-registry/connected-registry-ca-issuer applied\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn byoc_applies_the_tls_secret_and_prints_redacted_objects() {
    let cluster = Cluster::new();
    let method = byoc(&generate_certificates(cluster.dir.path()));
    let run = cluster.deploy(&method, &["-o", "json"]);
    assert_deployed(&run);
    let requests = cluster.server.requests();
    let mut expected = preflight_paths(
        &["connected-registry-connection", "connected-registry-tls"],
        None,
        CertManagerReads::Nothing,
    );
    expected.extend(patches(&method.applies));
    assert_eq!(lines(&requests), expected);
    assert_eq!(requests.len(), 15);
    assert_applies(&requests, false);

    let list: Value = serde_json::from_str(&run.stdout).expect("v1 List on stdout");
    let kinds: Vec<&str> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(
        kinds,
        [
            "Namespace",
            "ServiceAccount",
            "Secret",
            "Secret",
            "PersistentVolumeClaim",
            "Service",
            "Deployment",
            "DaemonSet"
        ]
    );
    assert_eq!(
        list["items"][2]["data"]["ACR_REGISTRY_CONNECTION_STRING"],
        "PHJlZGFjdGVkPg=="
    );
    assert!(!run.stdout.contains("managedFields"), "{}", run.stdout);
    let tls = &list["items"][3];
    assert_eq!(tls["data"]["tls.key"], "PHJlZGFjdGVkPg==");
    assert_eq!(
        tls["metadata"]["uid"], "uid-4",
        "the server's answer is printed"
    );
    let stored = cluster
        .stored("v1", "Secret", "connected-registry-tls")
        .expect("TLS Secret stored");
    assert_eq!(stored["type"], "kubernetes.io/tls");
    assert_eq!(
        stored["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "kubectl-acr"
    );
}

#[test]
fn existing_secret_is_read_and_its_certificate_checked_by_policy() {
    let cluster = Cluster::new();
    let certificates = generate_certificates(cluster.dir.path());
    cluster.insert_namespace();
    let secret = |cert: &str| {
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/tls",
            "metadata": { "name": "registry-tls", "namespace": NS },
            "data": {
                "tls.crt": b64(cert),
                "tls.key": b64(&certificates.key),
                "ca.crt": b64(&certificates.ca),
            },
        })
    };
    cluster.server.insert(secret(&certificates.cert));
    let method = existing_secret();
    let run = cluster.deploy(&method, &[]);
    assert_deployed(&run);
    assert!(
        run.stderr
            .contains("PASS  serving-certificate-covers-service-ip"),
        "the policy checked the Secret's certificate: {}",
        run.stderr
    );
    let requests = cluster.server.requests();
    let mut expected = preflight_paths(
        &["connected-registry-connection"],
        Some("registry-tls"),
        CertManagerReads::Nothing,
    );
    expected.extend(patches(&method.applies));
    assert_eq!(lines(&requests), expected);
    assert_eq!(requests.len(), 14);
    assert_applies(&requests, false);
    let deployment = cluster
        .stored("apps/v1", "Deployment", "connected-registry")
        .expect("Deployment stored");
    assert_eq!(
        deployment["spec"]["template"]["spec"]["volumes"][1]["secret"]["secretName"],
        "registry-tls"
    );
    assert!(
        cluster
            .stored("v1", "Secret", "registry-tls")
            .expect("user's Secret")
            .pointer("/metadata/labels")
            .is_none(),
        "the user's Secret is read, never applied"
    );

    let other = Cluster::new();
    let elsewhere = generate_certificates(&other.dir.path().join("elsewhere"));
    other.insert_namespace();
    let wrong_ip = kubectl_acr_with_env(
        &[
            "cert",
            "generate",
            "--ip",
            "10.9.9.9",
            "--ca-cert",
            path_text(&other.dir.path().join("elsewhere/certs/ca.crt")),
            "--ca-key",
            path_text(&other.dir.path().join("elsewhere/certs/ca.key")),
            "--out-dir",
            path_text(&other.dir.path().join("wrong")),
        ],
        &[],
    );
    wrong_ip.success();
    let wrong_cert =
        std::fs::read_to_string(other.dir.path().join("wrong/tls.crt")).expect("wrong cert");
    let wrong_key =
        std::fs::read_to_string(other.dir.path().join("wrong/tls.key")).expect("wrong key");
    other.server.insert(json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": { "name": "registry-tls", "namespace": NS },
        "data": { "tls.crt": b64(&wrong_cert), "tls.key": b64(&wrong_key), "ca.crt": b64(&elsewhere.ca) },
    }));
    let denied = other.deploy(&method, &[]);
    assert_eq!(denied.code, Some(3), "{denied:?}");
    assert!(
        denied.stderr.contains("SAN_MISSING_SERVICE_IP"),
        "{}",
        denied.stderr
    );
    assert!(
        !other
            .server
            .requests()
            .iter()
            .any(RecordedRequest::is_stored_write)
    );
}

#[test]
fn own_trust_applies_no_daemon_set() {
    let cluster = Cluster::new();
    let method = own_trust(&generate_certificates(cluster.dir.path()));
    let run = cluster.deploy(&method, &[]);
    assert_deployed(&run);
    let requests = cluster.server.requests();
    let mut expected = preflight_paths(
        &["connected-registry-connection", "connected-registry-tls"],
        None,
        CertManagerReads::Nothing,
    );
    expected.extend(patches(&method.applies));
    assert_eq!(lines(&requests), expected);
    assert_eq!(requests.len(), 14);
    assert_applies(&requests, false);
    let namespace = cluster
        .stored("v1", "Namespace", NS)
        .expect("namespace stored");
    assert_eq!(
        namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "restricted"
    );
}

#[test]
fn server_dry_run_sends_dry_run_all_and_stores_nothing() {
    let cluster = Cluster::new();
    let method = byoc(&generate_certificates(cluster.dir.path()));
    cluster.insert_namespace();
    let before = cluster.server.objects();
    let run = cluster.deploy(&method, &["--dry-run=server"]);
    assert_deployed(&run);
    let requests = cluster.server.take_requests();
    let mut expected = preflight_paths(
        &["connected-registry-connection", "connected-registry-tls"],
        None,
        CertManagerReads::Nothing,
    );
    expected.extend(patches(&method.applies));
    assert_eq!(
        lines(&requests),
        expected,
        "the same requests as a real deploy"
    );
    assert_applies(&requests, true);
    assert!(!requests.iter().any(RecordedRequest::is_stored_write));
    assert_eq!(cluster.server.objects(), before, "nothing is stored");
    assert!(
        run.stdout.contains(
            "Deployment connected-registry/connected-registry applied (server dry run)\n"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains(&format!(
            "server dry run accepted 8 objects in namespace connected-registry on {}",
            cluster.server.url()
        )),
        "{}",
        run.stderr
    );

    let fresh = Cluster::new();
    let run = fresh.deploy(&method, &["--dry-run=server"]);
    assert_deployed(&run);
    assert!(
        run.stdout.contains(
            "Secret connected-registry/connected-registry-connection not checked: the API server cannot dry-run it before what it needs is created by this deploy (namespaces \"connected-registry\" not found)"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("; 7 not checked"), "{}", run.stderr);
    assert!(fresh.server.objects().is_empty());
}

#[test]
fn client_dry_run_sends_no_request() {
    let cluster = Cluster::new();
    let run = cluster.deploy(&cert_manager_install(), &["--dry-run=client"]);
    assert_deployed(&run);
    assert!(
        run.stdout.starts_with("apiVersion: v1\nkind: Namespace\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("kind: Issuer\n"), "{}", run.stdout);
    assert!(!run.stdout.contains(SYNC_TOKEN_PASSWORD));
    assert_eq!(cluster.server.requests(), []);
}

#[test]
fn policy_denial_writes_nothing() {
    let cluster = Cluster::new();
    let certificates = generate_certificates(cluster.dir.path());
    let mut config = OWN_CERTIFICATE.to_vec();
    config.push("trustDistribution.enabled=false");
    let args = settings_args(
        &config,
        &[
            format!("tls.crt={}", b64(&certificates.cert)),
            format!("tls.key={}", b64(&certificates.key)),
        ],
    );
    let run = cluster.run("deploy", &args);
    assert_eq!(run.code, Some(3), "{run:?}");
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("TRUST_DISTRIBUTION_WITHOUT_CA"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .lines()
            .last()
            .is_some_and(|line| line.starts_with("error: denied by 1 polic")),
        "{}",
        run.stderr
    );
    let requests = cluster.server.requests();
    assert!(!requests.is_empty(), "the preflight reads ran");
    assert!(!requests.iter().any(RecordedRequest::is_stored_write));
    assert!(cluster.server.objects().is_empty());
}

#[test]
fn re_running_deploy_converges() {
    let cluster = Cluster::new();
    let method = byoc(&generate_certificates(cluster.dir.path()));
    assert_deployed(&cluster.deploy(&method, &[]));
    let first = cluster.server.objects();
    let first_requests = cluster.server.take_requests();
    assert_deployed(&cluster.deploy(&method, &[]));
    let second_requests = cluster.server.take_requests();
    assert_eq!(
        lines(&second_requests),
        lines(&first_requests),
        "the same requests"
    );
    assert_eq!(
        cluster.server.objects(),
        first,
        "the same objects, resourceVersions unchanged"
    );
    assert_eq!(first.len(), 8);
}

#[test]
fn delete_keeps_the_data_unless_asked_and_can_run_again() {
    let cluster = Cluster::new();
    let certificates = generate_certificates(cluster.dir.path());
    assert_deployed(&cluster.deploy(&byoc(&certificates), &[]));
    cluster.server.insert(json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": { "name": "someone-elses", "namespace": NS },
        "data": { "token": b64("theirs") },
    }));
    cluster.server.take_requests();
    let namespace_args = ["-n".to_owned(), NS.to_owned()];

    let run = cluster.run("delete", &namespace_args);
    assert_eq!(run.code, Some(0), "{run:?}");
    let deleted = take_deleted_paths(&cluster.server);
    assert_eq!(
        deleted,
        [
            apps("daemonsets", "connected-registry-containerd-config"),
            apps("deployments", "connected-registry"),
            core("services", "connected-registry"),
            core("secrets", "connected-registry-connection"),
            core("secrets", "connected-registry-tls"),
            core("serviceaccounts", "connected-registry"),
        ]
    );
    assert!(
        run.stdout.contains(
            "PersistentVolumeClaim connected-registry/connected-registry-pvc kept: it holds the registry's data"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Namespace connected-registry kept"),
        "{}",
        run.stdout
    );
    let remaining: Vec<String> = cluster
        .server
        .objects()
        .iter()
        .map(|object| {
            format!(
                "{} {}",
                object["kind"].as_str().unwrap_or(""),
                object["metadata"]["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        remaining,
        [
            "Namespace connected-registry",
            "PersistentVolumeClaim connected-registry-pvc",
            "Secret someone-elses",
        ]
    );

    let again = cluster.run("delete", &namespace_args);
    assert_eq!(again.code, Some(0), "{again:?}");
    assert!(
        !cluster
            .server
            .take_requests()
            .iter()
            .any(|request| request.method == "DELETE"),
        "nothing left to delete"
    );

    let mut with_data = namespace_args.to_vec();
    with_data.push("--delete-data".to_owned());
    let run = cluster.run("delete", &with_data);
    assert_eq!(run.code, Some(0), "{run:?}");
    let deleted = take_deleted_paths(&cluster.server);
    assert_eq!(
        deleted,
        [
            core("persistentvolumeclaims", "connected-registry-pvc"),
            format!("/api/v1/namespaces/{NS}"),
        ]
    );
    assert!(cluster.server.objects().is_empty());

    let after = cluster.run("delete", &with_data);
    assert_eq!(after.code, Some(0), "{after:?}");
    assert!(
        after
            .stderr
            .contains("nothing made by kubectl acr deploy was found"),
        "{}",
        after.stderr
    );
}

#[test]
fn a_secret_deploy_did_not_make_is_never_overwritten() {
    let cluster = Cluster::new();
    cluster.insert_namespace();
    let foreign = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": { "name": "connected-registry-connection", "namespace": NS },
        "data": { "ACR_REGISTRY_CONNECTION_STRING": b64("someone else's") },
    });
    cluster.server.insert(foreign);
    let before = cluster.server.objects();
    let run = cluster.deploy(&cert_manager_install(), &[]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains(
            "Secret connected-registry/connected-registry-connection exists and was not made by kubectl acr"
        ),
        "{}",
        run.stderr
    );
    assert!(
        !cluster
            .server
            .requests()
            .iter()
            .any(RecordedRequest::is_stored_write)
    );
    assert_eq!(cluster.server.objects(), before);
}

#[test]
fn a_service_already_on_the_ip_is_refused() {
    let cluster = Cluster::new();
    cluster.server.insert(json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": { "name": "other", "namespace": "default" },
        "spec": { "clusterIP": SERVICE_IP },
    }));
    let run = cluster.deploy(&cert_manager_install(), &[]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr
            .contains("service.clusterIP 10.0.0.1 is already held by Service default/other"),
        "{}",
        run.stderr
    );
    assert!(
        !cluster
            .server
            .requests()
            .iter()
            .any(RecordedRequest::is_stored_write)
    );
}

#[test]
fn wait_reads_the_rollouts() {
    let cluster = Cluster::new();
    let method = byoc(&generate_certificates(cluster.dir.path()));
    let run = cluster.deploy(&method, &["--wait", "--timeout", "30s"]);
    assert_deployed(&run);
    let requests = cluster.server.requests();
    assert_eq!(
        lines(&requests)[requests.len() - 2..],
        [
            format!("GET {}", apps("deployments", "connected-registry")),
            format!(
                "GET {}",
                apps("daemonsets", "connected-registry-containerd-config")
            ),
        ]
    );
}

#[test]
fn wait_timeout_exits_124_naming_what_is_pending() {
    let cluster = Cluster::new();
    cluster.server.set_workloads(Workloads::NeverReady);
    let method = byoc(&generate_certificates(cluster.dir.path()));
    let run = cluster.deploy(&method, &["--wait", "--timeout", "1s"]);
    assert_eq!(run.code, Some(124), "{run:?}");
    assert!(
        run.stderr.contains(
            "error: timed out after 1s waiting for: Deployment connected-registry/connected-registry (0 of 1 replicas available)"
        ),
        "{}",
        run.stderr
    );
    assert!(
        cluster
            .stored("apps/v1", "Deployment", "connected-registry")
            .is_some(),
        "the objects were applied before the wait"
    );
}

/// Pod Security: an existing namespace enforcing `restricted`, set by someone else, is not
/// lowered to the `privileged` the trust DaemonSet needs: nothing is applied.
#[test]
fn a_stricter_pod_security_level_is_refused_before_anything_is_written() {
    let cluster = Cluster::new();
    cluster.server.insert(json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": NS,
            "labels": { "pod-security.kubernetes.io/enforce": "restricted" },
            "managedFields": [{ "manager": "kubectl-label", "operation": "Update",
                "fieldsV1": { "f:metadata": { "f:labels": { "f:pod-security.kubernetes.io/enforce": {} } } } }],
        },
    }));
    let method = byoc(&generate_certificates(cluster.dir.path()));
    let run = cluster.deploy(&method, &[]);
    assert_eq!(run.code, Some(1), "{run:?}");
    for expected in [
        "namespace connected-registry enforces Pod Security `restricted`",
        "set by `kubectl-label`",
        "needs `privileged`",
        "trustDistribution.enabled=false",
    ] {
        assert!(run.stderr.contains(expected), "{expected}: {}", run.stderr);
    }
    let requests = cluster.server.requests();
    assert!(
        requests
            .iter()
            .all(|request| request.method != "PATCH" || request.path == SERVICE_IP_PROBE),
        "{:?}",
        lines(&requests)
    );
}

/// A cert-manager that deploy did not install (a Helm release in another namespace) stops
/// `cert-manager.install=true` before anything is written.
#[test]
fn a_second_cert_manager_is_refused_before_anything_is_written() {
    let cluster = Cluster::new();
    cluster.server.insert(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "cert-manager",
            "namespace": "security",
            "labels": { "app.kubernetes.io/name": "cert-manager" },
            "managedFields": [{ "manager": "helm", "operation": "Update" }],
        },
        "spec": {
            "selector": { "matchLabels": { "app": "cert-manager" } },
            "template": { "spec": { "containers": [
                { "name": "cert-manager-controller", "image": "quay.io/jetstack/cert-manager-controller:v1.14.5" }
            ] } },
        },
    }));
    let run = cluster.deploy(&cert_manager_install(), &[]);
    assert_eq!(run.code, Some(1), "{run:?}");
    for expected in [
        "would install a second cert-manager",
        "Deployment security/cert-manager",
        "set cert-manager.install=false",
    ] {
        assert!(run.stderr.contains(expected), "{expected}: {}", run.stderr);
    }
    let requests = cluster.server.requests();
    assert!(
        requests
            .iter()
            .all(|request| request.method != "PATCH" || request.path == SERVICE_IP_PROBE),
        "{:?}",
        lines(&requests)
    );
}

/// Nodes whose runtime is not containerd do not read what trust distribution writes: deploy
/// warns, naming them, and goes on.
#[test]
fn nodes_without_containerd_are_warned_about() {
    let cluster = Cluster::new();
    for (name, runtime) in [("edge-a", "cri-o://1.30.2"), ("edge-b", "docker://24.0.7")] {
        cluster.server.insert(json!({
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": { "name": name, "labels": { "kubernetes.io/os": "linux" } },
            "status": { "nodeInfo": { "operatingSystem": "linux", "osImage": "RHEL CoreOS",
                "containerRuntimeVersion": runtime, "architecture": "amd64",
                "bootID": "", "kernelVersion": "", "kubeProxyVersion": "", "kubeletVersion": "",
                "machineID": "", "systemUUID": "" } },
        }));
    }
    let method = byoc(&generate_certificates(cluster.dir.path()));
    let run = cluster.deploy(&method, &[]);
    assert_deployed(&run);
    for expected in [
        "warning: none of the nodes trust distribution selects run containerd",
        "edge-a (cri-o://1.30.2)",
        "edge-b (docker://24.0.7)",
    ] {
        assert!(run.stderr.contains(expected), "{expected}: {}", run.stderr);
    }
}

#[test]
fn status_shows_objects_rollout_certificate_and_trust_per_node() {
    let cluster = Cluster::new();
    for (name, labelled) in [("node-a", true), ("node-b", false)] {
        let mut labels = json!({ "kubernetes.io/os": "linux" });
        if labelled {
            labels["containerd-configured-by"] = json!("connected-registry");
        }
        cluster.server.insert(json!({
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": { "name": name, "labels": labels },
        }));
    }
    let method = byoc(&generate_certificates(cluster.dir.path()));
    assert_deployed(&cluster.deploy(
        &method,
        &["--config", "trustDistribution.useNodeSelector=true"],
    ));
    cluster.server.insert(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "connected-registry-containerd-config-x7k2p",
            "namespace": NS,
            "labels": {
                "app.kubernetes.io/name": "connected-registry-containerd-config",
                "app.kubernetes.io/instance": INSTANCE,
            },
        },
        "spec": { "nodeName": "node-a", "containers": [] },
        "status": { "conditions": [{ "type": "Ready", "status": "True" }] },
    }));
    cluster.server.take_requests();

    let namespace_args = ["-n".to_owned(), NS.to_owned()];
    let text = cluster.run("status", &namespace_args).success();
    for expected in [
        "Connected registry: edge\n",
        "  Deployment             connected-registry",
        "  PersistentVolumeClaim  connected-registry-pvc",
        "Rollout: Deployment connected-registry/connected-registry complete: 1 of 1 replicas available\n",
        "Serving certificate (Secret connected-registry/connected-registry-tls):\n",
        "  SANs:     IP:10.0.0.1\n",
        "Trust distribution: DaemonSet connected-registry/connected-registry-containerd-config on nodes containerd-configured-by=connected-registry,kubernetes.io/os=linux: 1 of 1 nodes ready\n",
        "  node-a                         ready      connected-registry-containerd-config-x7k2p\n",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    assert!(!text.contains("node-b"), "node-b is not labelled:\n{text}");
    assert!(
        cluster
            .server
            .take_requests()
            .iter()
            .all(|request| !request.is_stored_write())
    );

    let mut json_args = namespace_args.to_vec();
    json_args.extend(["-o".to_owned(), "json".to_owned()]);
    let status: Value =
        serde_json::from_str(&cluster.run("status", &json_args).success()).expect("JSON status");
    assert_eq!(status["instance"], INSTANCE);
    assert_eq!(status["objects"].as_array().map(Vec::len), Some(7));
    assert_eq!(
        status["certificate"]["subjectAltNames"]["ip"],
        json!([SERVICE_IP])
    );
    assert_eq!(status["certificate"]["expired"], false);
    assert_eq!(
        status["trustDistribution"]["nodes"],
        json!([{ "node": "node-a", "pod": "connected-registry-containerd-config-x7k2p", "ready": true,
                 "containerRuntime": null }])
    );
    assert_eq!(status["rollout"]["complete"], true);
}

#[test]
fn a_kubeconfig_list_uses_the_first_files_current_context() {
    let first = FakeApiServer::start();
    let second = FakeApiServer::start();
    second.expect_token("second-token");
    let dir = tempfile::tempdir().expect("temp dir");
    let first_file = dir.path().join("first.yaml");
    let second_file = dir.path().join("second.yaml");
    std::fs::write(
        &first_file,
        first.kubeconfig("first", &json!({ "token": TOKEN })),
    )
    .expect("write first");
    std::fs::write(
        &second_file,
        second.kubeconfig("second", &json!({ "token": "second-token" })),
    )
    .expect("write second");
    let list = std::env::join_paths([&first_file, &second_file]).expect("path list");
    let list = list.to_str().expect("UTF-8 list");

    kubectl_acr_with_env(&["status", "-n", NS], &[("KUBECONFIG", list)]).success();
    assert_eq!(
        lines(&first.take_requests()),
        [format!("GET /api/v1/namespaces/{NS}")]
    );
    assert_eq!(second.requests(), []);

    kubectl_acr_with_env(
        &["status", "-n", NS, "--context", "second"],
        &[("KUBECONFIG", list)],
    )
    .success();
    assert_eq!(first.requests(), []);
    let requests = second.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].authorization.as_deref(),
        Some("Bearer second-token")
    );
}

#[test]
fn an_exec_credential_plugin_supplies_the_token() {
    let server = FakeApiServer::start();
    server.expect_token("exec-token");
    let dir = tempfile::tempdir().expect("temp dir");
    let plugin = dir.path().join("credential-plugin");
    std::fs::write(
        &plugin,
        "#!/bin/sh\necho '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"exec-token\"}}'\n",
    )
    .expect("write plugin");
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        server.kubeconfig(
            "exec",
            &json!({ "exec": {
                "apiVersion": "client.authentication.k8s.io/v1",
                "command": path_text(&plugin),
                "interactiveMode": "Never",
            } }),
        ),
    )
    .expect("write kubeconfig");
    let status = kubectl_acr_with_env(
        &["status", "--kubeconfig", path_text(&kubeconfig), "-n", NS],
        &[],
    )
    .success();
    assert_eq!(
        status,
        "Namespace connected-registry does not exist: nothing is deployed there.\n"
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].authorization.as_deref(),
        Some("Bearer exec-token")
    );
}

/// Sends one raw HTTP request and returns the status line of the answer.
fn raw_request(server: &FakeApiServer, request: &str) -> String {
    let address = server.url().trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(address).expect("connect");
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read answer");
    answer.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn the_fake_server_flags_requests_kubectl_acr_must_not_send() {
    let server = FakeApiServer::start();
    server.insert(json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": NS } }));
    let body = r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"other"}}"#;
    let patch = format!(
        "PATCH /api/v1/namespaces/{NS}/secrets/s?fieldManager=kubectl&force=false&dryRun=None HTTP/1.1\r\n\
         Authorization: Bearer {TOKEN}\r\nContent-Type: application/merge-patch+json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    assert_eq!(raw_request(&server, &patch), "HTTP/1.1 201 Created");
    let post = format!(
        "POST /api/v1/namespaces/{NS}/secrets HTTP/1.1\r\nAuthorization: Bearer {TOKEN}\r\n\
         Connection: close\r\n\r\n"
    );
    assert_eq!(
        raw_request(&server, &post),
        "HTTP/1.1 405 Method Not Allowed"
    );
    let unknown = format!(
        "GET /apis/example.com/v1/widgets HTTP/1.1\r\nAuthorization: Bearer {TOKEN}\r\n\
         Connection: close\r\n\r\n"
    );
    assert_eq!(raw_request(&server, &unknown), "HTTP/1.1 404 Not Found");
    let anonymous = format!("GET /api/v1/namespaces/{NS} HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert_eq!(
        raw_request(&server, &anonymous),
        "HTTP/1.1 401 Unauthorized"
    );
    let selector = format!(
        "GET /api/v1/namespaces/{NS}/secrets?labelSelector=app%20in%20%28a%29 HTTP/1.1\r\n\
         Authorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
    );
    assert_eq!(raw_request(&server, &selector), "HTTP/1.1 200 OK");

    let violations = server.take_violations();
    let problems: Vec<&str> = violations
        .iter()
        .map(|violation| {
            violation
                .split_once("): ")
                .map_or("", |(_, problem)| problem)
        })
        .collect();
    assert_eq!(
        problems,
        [
            "content type Some(\"application/merge-patch+json\"), not application/apply-patch+yaml (server-side apply)",
            "field manager is not kubectl-acr",
            "force is given but not true",
            "dryRun=None, not All",
            "body /metadata/name is Some(\"other\"), the URL says Some(\"s\")",
            "POST is not a request kubectl acr sends",
            "not a path of a known resource",
            "Authorization is None, not the kubeconfig's bearer token",
            "label selector `app in (a)` is not equality-only",
        ]
    );
    assert_eq!(
        server.object("v1", "Secret", Some(NS), "s"),
        None,
        "a dry run (even a malformed one) stores nothing"
    );
}

//! Every cluster flow on a REAL control plane (`acr_tests::control_plane`): kube-apiserver,
//! kube-controller-manager and kube-scheduler from `KUBEBUILDER_ASSETS`, two fake nodes, the
//! fake kubelet and storage provisioner of `acr_tests::fake_nodes`. The real `kubectl` is the
//! independent observer of what `kubectl acr` did.
//!
//! One control plane serves the whole suite, so this binary brings its own main instead of
//! libtest: scenarios run two at a time, each in namespaces of its own, in three phases,
//! because cert-manager's CRDs are cluster-wide: without them, while `cert-manager.install=true`
//! installs them, and with cert-manager's real CRDs applied. To nextest it is one test,
//! `real_cluster_suite`; it prints a line per scenario and closes with `N passed, M failed`.
//!
//! Under `CI=true` a missing control plane fails the run; elsewhere the suite says plainly that
//! it did not run.

use acr_tests::control_plane::{Assets, ControlPlane, LIMITED_USER, Options};
use acr_tests::fake_nodes::{NamespaceBehaviour, Pods};
use acr_tests::{Run, bin_path, fixture};
use base64::Engine as _;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The name nextest knows the suite by.
const SUITE: &str = "real_cluster_suite";
const SERVICE_IP_BASE: &str = "10.96.100.";
const CONNECTION: &str = "ConnectedRegistryName=edge;SyncTokenName=edge-sync-token;SyncTokenPassword=c3luYy10b2tlbi1zZWNyZXQ=;ParentGatewayEndpoint=contoso.eastus.data.azurecr.io;ParentEndpointProtocol=https";
const SYNC_TOKEN_PASSWORD: &str = "c3luYy10b2tlbi1zZWNyZXQ=";
const LABELS: &str = "app.kubernetes.io/managed-by=kubectl-acr";

/// When a scenario runs, relative to cert-manager's CRDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    WithoutCertManager,
    InstallingCertManager,
    WithCertManagerCrds,
}

type Scenario = (&'static str, Phase, fn(&Suite));

const SCENARIOS: &[Scenario] = &[
    (
        "byoc_lifecycle_without_crds",
        Phase::WithoutCertManager,
        byoc_lifecycle,
    ),
    (
        "existing_secret_lifecycle_without_crds",
        Phase::WithoutCertManager,
        existing_secret_lifecycle,
    ),
    (
        "own_trust_lifecycle_without_crds",
        Phase::WithoutCertManager,
        own_trust_lifecycle,
    ),
    (
        "server_dry_run_stores_nothing",
        Phase::WithoutCertManager,
        server_dry_run_stores_nothing,
    ),
    (
        "policy_deny_writes_nothing",
        Phase::WithoutCertManager,
        policy_deny_writes_nothing,
    ),
    (
        "fleet_of_two_clusters_checks_all_before_changing_any",
        Phase::WithoutCertManager,
        fleet_of_two_clusters_checks_all_before_changing_any,
    ),
    (
        "gitops_folder_applies_what_deploy_would",
        Phase::WithoutCertManager,
        gitops_folder_applies_what_deploy_would,
    ),
    (
        "service_ip_outside_the_range_writes_nothing",
        Phase::WithoutCertManager,
        service_ip_outside_the_range_writes_nothing,
    ),
    (
        "restricted_namespace_is_not_weakened",
        Phase::WithoutCertManager,
        restricted_namespace_is_not_weakened,
    ),
    (
        "pod_security_refusal_is_diagnosed",
        Phase::WithoutCertManager,
        pod_security_refusal_is_diagnosed,
    ),
    (
        "field_manager_conflict_is_named",
        Phase::WithoutCertManager,
        field_manager_conflict_is_named,
    ),
    (
        "namespace_scoped_rbac_is_named",
        Phase::WithoutCertManager,
        namespace_scoped_rbac_is_named,
    ),
    (
        "trust_distribution_per_node",
        Phase::WithoutCertManager,
        trust_distribution_per_node,
    ),
    (
        "pull_secret_against_real_service_accounts",
        Phase::WithoutCertManager,
        pull_secret_against_real_service_accounts,
    ),
    (
        "wait_explains_pending_claim",
        Phase::WithoutCertManager,
        wait_explains_pending_claim,
    ),
    (
        "missing_storage_class_writes_nothing",
        Phase::WithoutCertManager,
        missing_storage_class_writes_nothing,
    ),
    (
        "wait_explains_image_pull_and_crash_loop",
        Phase::WithoutCertManager,
        wait_explains_image_pull_and_crash_loop,
    ),
    (
        "cert_manager_install_lifecycle",
        Phase::InstallingCertManager,
        cert_manager_install_lifecycle,
    ),
    (
        "cert_manager_existing_lifecycle",
        Phase::WithCertManagerCrds,
        cert_manager_existing_lifecycle,
    ),
    (
        "cert_manager_wait_times_out_saying_why",
        Phase::WithCertManagerCrds,
        cert_manager_wait_times_out_saying_why,
    ),
    (
        "byoc_lifecycle_with_crds",
        Phase::WithCertManagerCrds,
        byoc_lifecycle,
    ),
    (
        "second_cert_manager_is_refused",
        Phase::WithCertManagerCrds,
        second_cert_manager_is_refused,
    ),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|arg| arg == "--list") {
        // nextest lists tests with `--list --format terse` (and again with `--ignored`).
        if !args.iter().any(|arg| arg == "--ignored") {
            println!("{SUITE}: test");
        }
        return ExitCode::SUCCESS;
    }
    let filter = args
        .iter()
        .find(|arg| !arg.starts_with("--") && arg.as_str() != SUITE)
        .cloned();
    let assets = match Assets::from_env() {
        Assets::Found(dir) => dir,
        Assets::Missing(why) if std::env::var("CI").as_deref() == Ok("true") => {
            eprintln!("{SUITE}: FAILED: CI=true and the control plane is missing: {why}");
            return ExitCode::FAILURE;
        }
        Assets::Missing(why) => {
            println!("{SUITE}: not run: {why}");
            return ExitCode::SUCCESS;
        }
    };
    let selected: Vec<&Scenario> = SCENARIOS
        .iter()
        .filter(|(name, _, _)| {
            filter
                .as_ref()
                .is_none_or(|filter| name.contains(filter.as_str()))
        })
        .collect();
    let plane = match ControlPlane::start(&assets, Options { nodes: 2 }) {
        Ok(plane) => plane,
        Err(why) => {
            eprintln!("{SUITE}: FAILED: the control plane did not start: {why}");
            return ExitCode::FAILURE;
        }
    };
    let suite = Suite {
        assets: assets.clone(),
        plane,
        work: tempfile::tempdir().expect("scratch folder"),
        next_ip: AtomicUsize::new(10),
    };
    let mut failed = Vec::new();
    let mut passed = 0;
    for phase in [
        Phase::WithoutCertManager,
        Phase::InstallingCertManager,
        Phase::WithCertManagerCrds,
    ] {
        if phase == Phase::WithCertManagerCrds {
            suite.apply_cert_manager_crds();
        }
        let batch: Vec<&Scenario> = selected
            .iter()
            .copied()
            .filter(|(_, scenario_phase, _)| *scenario_phase == phase)
            .collect();
        let (ok, failures) = run_parallel(&suite, &batch, 2);
        passed += ok;
        failed.extend(failures);
    }
    drop(suite);
    for name in &failed {
        println!("failed: {name}");
    }
    println!("{passed} passed, {} failed", failed.len());
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs the scenarios on `threads` workers; the number passed and the names that failed.
fn run_parallel(suite: &Suite, scenarios: &[&Scenario], threads: usize) -> (usize, Vec<String>) {
    let queue = Mutex::new(scenarios.iter().copied().collect::<Vec<_>>());
    let results = Mutex::new((0, Vec::new()));
    std::thread::scope(|scope| {
        for worker in 0..threads {
            let (queue, results) = (&queue, &results);
            std::thread::Builder::new()
                .name(format!("worker-{worker}"))
                .spawn_scoped(scope, move || {
                    loop {
                        let Some(&(name, _, scenario)) = queue.lock().expect("queue").pop() else {
                            return;
                        };
                        let started = std::time::Instant::now();
                        let outcome =
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                scenario(suite)
                            }));
                        let seconds = started.elapsed().as_secs_f32();
                        let mut results = results.lock().expect("results");
                        match outcome {
                            Ok(()) => {
                                println!("scenario {name} ... ok ({seconds:.1}s)");
                                results.0 += 1;
                            }
                            Err(_) => {
                                println!("scenario {name} ... FAILED ({seconds:.1}s)");
                                results.1.push(name.to_owned());
                            }
                        }
                    }
                })
                .expect("spawn a worker");
        }
    });
    results.into_inner().expect("results")
}

/// The control plane and what scenarios share.
struct Suite {
    /// Where the control plane's binaries are, for scenarios that start a second one.
    assets: PathBuf,
    plane: ControlPlane,
    work: tempfile::TempDir,
    next_ip: AtomicUsize,
}

/// One scenario's namespace and service IP, with the settings of a deployment method.
struct Site {
    namespace: String,
    service_ip: String,
    dir: PathBuf,
}

impl Suite {
    /// A fresh namespace name and a service IP of its own.
    fn site(&self, name: &str) -> Site {
        let octet = self.next_ip.fetch_add(1, Ordering::Relaxed);
        let namespace = format!("{}-{octet}", name.replace('_', "-"));
        let dir = self.work.path().join(&namespace);
        std::fs::create_dir_all(&dir).expect("scenario folder");
        Site {
            namespace,
            service_ip: format!("{SERVICE_IP_BASE}{octet}"),
            dir,
        }
    }

    /// `kubectl-acr VERB --kubeconfig K ARGS...` as the admin.
    fn acr(&self, verb: &str, args: &[&str]) -> Run {
        self.acr_as(verb, args, None, b"")
    }

    fn acr_as(&self, verb: &str, args: &[&str], context: Option<&str>, stdin: &[u8]) -> Run {
        let mut command = Command::new(bin_path("kubectl-acr"));
        command
            .args(verb.split(' '))
            .arg("--kubeconfig")
            .arg(self.plane.kubeconfig())
            .args(args)
            .env("XDG_CACHE_HOME", env!("CARGO_TARGET_TMPDIR"))
            .env_remove("KUBECONFIG");
        if let Some(context) = context {
            command.args(["--context", context]);
        }
        acr_tests::run_with_stdin(&mut command, stdin)
    }

    fn kubectl(&self, args: &[&str]) -> String {
        self.plane
            .kubectl(args)
            .unwrap_or_else(|error| panic!("kubectl {args:?} failed: {error}"))
    }

    fn kubectl_json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        serde_json::from_str(&self.kubectl(&all)).expect("kubectl JSON")
    }

    fn apply(&self, manifest: &Value) {
        self.plane
            .kubectl_stdin(
                [
                    "apply",
                    "--server-side",
                    "--field-manager=acr-test",
                    "-f",
                    "-",
                ],
                &manifest.to_string(),
            )
            .unwrap_or_else(|error| panic!("kubectl apply failed: {error}"));
    }

    /// `name -> resourceVersion` of everything `deploy` made in the namespace (the namespace
    /// itself included), read by kubectl.
    fn versions(&self, namespace: &str) -> BTreeMap<String, String> {
        let mut versions = BTreeMap::new();
        let list = self.kubectl_json(&[
            "get",
            "serviceaccounts,secrets,services,persistentvolumeclaims,deployments,daemonsets,configmaps",
            "-n",
            namespace,
            "-l",
            LABELS,
        ]);
        let mut items = list["items"].as_array().cloned().unwrap_or_default();
        items.push(self.kubectl_json(&["get", "namespace", namespace]));
        for item in items {
            versions.insert(
                format!(
                    "{}/{}",
                    item["kind"].as_str().unwrap_or_default(),
                    item["metadata"]["name"].as_str().unwrap_or_default()
                ),
                item["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
        versions
    }

    /// Names of the objects of `kinds` in the namespace, as `kind/name` (kubectl's form).
    fn names(&self, kinds: &str, namespace: &str) -> Vec<String> {
        let text = self.kubectl(&["get", kinds, "-n", namespace, "-o", "name"]);
        let mut names: Vec<String> = text.lines().map(str::to_owned).collect();
        names.sort();
        names
    }

    fn namespace_exists(&self, namespace: &str) -> bool {
        self.plane.kubectl(["get", "namespace", namespace]).is_ok()
    }

    fn apply_cert_manager_crds(&self) {
        let crds = std::env::var_os("ACR_TEST_CERT_MANAGER_CRDS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../../shared/k8s/crds/cert-manager.crds.yaml")
            });
        self.plane
            .kubectl([
                "apply".as_ref(),
                "--server-side".as_ref(),
                "--force-conflicts".as_ref(),
                "-f".as_ref(),
                crds.as_os_str(),
            ])
            .unwrap_or_else(|error| panic!("cannot apply {}: {error}", crds.display()));
        for crd in ["certificates.cert-manager.io", "issuers.cert-manager.io"] {
            self.kubectl(&[
                "wait",
                "--for=condition=Established",
                "--timeout=60s",
                &format!("crd/{crd}"),
            ]);
        }
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A CA and a serving certificate for `ip` from `kubectl acr cert generate`, read back.
struct Certificates {
    cert: Vec<u8>,
    key: Vec<u8>,
    ca: Vec<u8>,
}

fn certificates(site: &Site, ip: &str) -> Certificates {
    let out = site.dir.join(format!("certs-{ip}"));
    let run: Run = Command::new(bin_path("kubectl-acr"))
        .args(["cert", "generate", "--ip", ip, "--out-dir"])
        .arg(&out)
        .output()
        .expect("run cert generate")
        .into();
    run.success();
    let read = |name: &str| std::fs::read(out.join(name)).expect("generated file");
    Certificates {
        cert: read("tls.crt"),
        key: read("tls.key"),
        ca: read("ca.crt"),
    }
}

/// Settings of a method, with `-n`.
fn settings(site: &Site, config: &[&str], protected: &[(&str, String)]) -> Vec<String> {
    let mut args = vec![
        "-n".to_owned(),
        site.namespace.clone(),
        "--config".to_owned(),
        format!("service.clusterIP={}", site.service_ip),
    ];
    for setting in config {
        args.extend(["--config".to_owned(), (*setting).to_owned()]);
    }
    args.extend([
        "--config-protected".to_owned(),
        format!("connectionString={CONNECTION}"),
    ]);
    for (key, value) in protected {
        args.extend(["--config-protected".to_owned(), format!("{key}={value}")]);
    }
    args
}

fn byoc_settings(site: &Site, extra_config: &[&str]) -> Vec<String> {
    let certs = certificates(site, &site.service_ip);
    let mut config = vec!["cert-manager.enabled=false", "cert-manager.install=false"];
    config.extend_from_slice(extra_config);
    settings(
        site,
        &config,
        &[
            ("tls.crt", b64(&certs.cert)),
            ("tls.key", b64(&certs.key)),
            ("tls.cacrt", b64(&certs.ca)),
        ],
    )
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

fn with(args: &[String], extra: &[&str]) -> Vec<String> {
    let mut all = args.to_vec();
    all.extend(extra.iter().map(|arg| (*arg).to_owned()));
    all
}

fn assert_exit(run: &Run, code: i32, what: &str) {
    assert_eq!(
        run.code,
        Some(code),
        "{what}: expected exit {code}\nstdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
}

/// deploy, re-deploy (nothing changes), status (text and JSON), delete (only the claim and
/// the namespace stay, and `keep` too), delete again, delete --delete-data.
fn lifecycle(suite: &Suite, site: &Site, args: &[String], keep: &[&str]) {
    let ns = site.namespace.as_str();
    let deployed = suite.acr("deploy", &strs(&with(args, &["--wait", "--timeout", "3m"])));
    assert_exit(&deployed, 0, "deploy");
    assert!(
        deployed
            .stdout
            .contains(&format!("Deployment {ns}/connected-registry applied")),
        "{}",
        deployed.stdout
    );
    let before = suite.versions(ns);
    assert!(before.len() >= 6, "{before:?}");
    let again = suite.acr("deploy", &strs(args));
    assert_exit(&again, 0, "re-deploy");
    assert_eq!(
        suite.versions(ns),
        before,
        "re-running deploy must change no object"
    );

    let text = suite.acr("status", &["-n", ns]);
    assert_exit(&text, 0, "status");
    assert!(
        text.stdout.contains(&format!(
            "Rollout: Deployment {ns}/connected-registry complete"
        )),
        "{}",
        text.stdout
    );
    let status: Value =
        serde_json::from_str(&suite.acr("status", &["-n", ns, "-o", "json"]).success())
            .expect("status JSON");
    assert_eq!(status["namespaceFound"], true, "{status:#}");
    assert_eq!(status["rollout"]["complete"], true, "{status:#}");
    assert_eq!(
        status["certificate"]["subjectAltNames"]["ip"][0],
        site.service_ip.as_str(),
        "{status:#}"
    );

    let deleted = suite.acr("delete", &["-n", ns]);
    assert_exit(&deleted, 0, "delete");
    let mut expected = vec!["persistentvolumeclaim/connected-registry-pvc".to_owned()];
    expected.extend(keep.iter().map(|name| (*name).to_owned()));
    expected.sort();
    let left: Vec<String> = suite
        .names(
            "serviceaccounts,secrets,services,persistentvolumeclaims,deployments,daemonsets,configmaps",
            ns,
        )
        .into_iter()
        .filter(|name| {
            // What the cluster itself puts in every namespace.
            name != "serviceaccount/default" && name != "configmap/kube-root-ca.crt"
        })
        .collect();
    assert_eq!(left, expected, "delete must leave only the claim and yours");
    assert!(suite.namespace_exists(ns));
    let second = suite.acr("delete", &["-n", ns]);
    assert_exit(&second, 0, "second delete");
    let data = suite.acr("delete", &["-n", ns, "--delete-data"]);
    assert_exit(&data, 0, "delete --delete-data");
    assert!(
        data.stdout.contains(&format!(
            "PersistentVolumeClaim {ns}/connected-registry-pvc deleted"
        )),
        "{}",
        data.stdout
    );
}

fn byoc_lifecycle(suite: &Suite) {
    let site = suite.site("byoc");
    let args = byoc_settings(&site, &[]);
    lifecycle(suite, &site, &args, &[]);
}

fn own_trust_lifecycle(suite: &Suite) {
    let site = suite.site("own-trust");
    let args = byoc_settings(&site, &["trustDistribution.enabled=false"]);
    lifecycle(suite, &site, &args, &[]);
}

fn existing_secret_lifecycle(suite: &Suite) {
    let site = suite.site("existing-secret");
    let certs = certificates(&site, &site.service_ip);
    suite.kubectl(&["create", "namespace", &site.namespace]);
    suite.apply(&json!({
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
        "metadata": {"name": "my-registry-tls", "namespace": site.namespace},
        "data": {"tls.crt": b64(&certs.cert), "tls.key": b64(&certs.key), "ca.crt": b64(&certs.ca)},
    }));
    let args = settings(
        &site,
        &["cert-manager.enabled=false", "cert-manager.install=false"],
        &[("tls.secret", "my-registry-tls".to_owned())],
    );
    lifecycle(suite, &site, &args, &["secret/my-registry-tls"]);
}

/// The GitOps round trip: render --out-dir, apply the folder with kubectl's kustomize as a
/// GitOps controller would (its own field manager), then deploy with the same settings: deploy
/// finds every object as it would have made it and changes nothing. Namespace completion lists
/// the new namespace.
fn gitops_folder_applies_what_deploy_would(suite: &Suite) {
    let site = suite.site("gitops");
    let args = byoc_settings(&site, &[]);
    let folder = site.dir.join("gitops");
    let rendered: Run = Command::new(bin_path("kubectl-acr"))
        .arg("render")
        .args(&args)
        .arg("--out-dir")
        .arg(&folder)
        .env("XDG_CACHE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .output()
        .expect("run render")
        .into();
    rendered.success();
    suite.kubectl(&[
        "apply",
        "--server-side",
        "--field-manager=gitops-controller",
        "-k",
        folder.to_str().expect("UTF-8 path"),
    ]);
    let before = gitops_contents(suite, &site.namespace);
    assert!(before.len() >= 6, "{before:?}");
    let status: Value = serde_json::from_str(
        &suite
            .acr("status", &["-n", &site.namespace, "-o", "json"])
            .success(),
    )
    .expect("status JSON");
    assert_eq!(status["namespaceFound"], true, "{status:#}");
    assert_eq!(
        status["certificate"]["subjectAltNames"]["ip"][0],
        site.service_ip.as_str(),
        "{status:#}"
    );
    let deployed = suite.acr("deploy", &strs(&args));
    assert_exit(&deployed, 0, "deploy after the GitOps apply");
    // Deploy adds itself as a second field manager (a new resourceVersion); nothing else moves.
    let after = gitops_contents(suite, &site.namespace);
    let changed: Vec<&String> = before
        .iter()
        .filter(|(key, object)| after.get(*key) != Some(object))
        .map(|(key, _)| key)
        .collect();
    assert!(
        changed.is_empty() && after.len() == before.len(),
        "deploy changed what the GitOps apply made: {changed:?}"
    );

    // delete's dry runs name what would go, as kubectl does, and delete nothing.
    let kept = gitops_contents(suite, &site.namespace);
    let server = suite.acr(
        "delete",
        &["-n", &site.namespace, "--dry-run=server", "-o", "name"],
    );
    let names: Vec<&str> = server.stdout.lines().collect();
    assert_exit(&server, 0, "delete --dry-run=server");
    assert!(
        names.contains(&"deployment.apps/connected-registry")
            && names.contains(&"secret/connected-registry-tls")
            && !names
                .iter()
                .any(|name| name.starts_with("persistentvolumeclaim/")),
        "{}",
        server.stdout
    );
    assert!(
        server.stderr.contains("would delete (server dry run)"),
        "{}",
        server.stderr
    );
    let client: Value = serde_json::from_str(
        &suite
            .acr(
                "delete",
                &["-n", &site.namespace, "--dry-run=client", "-o", "json"],
            )
            .success(),
    )
    .expect("delete JSON");
    assert_eq!(client["dryRun"], "client");
    assert_eq!(
        client["deleted"].as_array().map(Vec::len),
        Some(names.len()),
        "{client:#}"
    );
    assert_eq!(
        client["kept"][0]["object"]["kind"], "PersistentVolumeClaim",
        "{client:#}"
    );
    assert!(
        gitops_contents(suite, &site.namespace) == kept,
        "a dry run changed objects"
    );

    let completed = suite.acr("__complete", &["status", "-n", ""]);
    let namespaces: Vec<&str> = completed.stdout.lines().collect();
    assert!(
        namespaces.contains(&site.namespace.as_str()) && namespaces.contains(&"default"),
        "{}",
        completed.stdout
    );
}

/// A fleet of this suite's control plane and a second one (its own etcd, API server and
/// state): a policy denial on one cluster changes neither; then both are deployed, two at once,
/// with one summary line each.
fn fleet_of_two_clusters_checks_all_before_changing_any(suite: &Suite) {
    let second = ControlPlane::start(&suite.assets, Options { nodes: 1 })
        .unwrap_or_else(|why| panic!("a second control plane: {why}"));
    let site = suite.site("fleet");
    let args = byoc_settings(&site, &[]);
    let fleet_file = |edge_b_config: &str| {
        let path = site.dir.join("fleet.yaml");
        std::fs::write(
            &path,
            format!(
                "clusters:\n- name: edge-a\n  kubeconfig: {}\n  context: admin\n- name: edge-b\n  \
                 kubeconfig: {}\n  context: admin\n{edge_b_config}",
                suite.plane.kubeconfig().display(),
                second.kubeconfig().display()
            ),
        )
        .expect("write fleet file");
        path
    };
    let exists_on_second =
        |namespace: &str| second.kubectl(["get", "namespace", namespace]).is_ok();
    let deploy_fleet = |fleet: &Path, extra: &[&str]| -> Run {
        Command::new(bin_path("kubectl-acr"))
            .arg("deploy")
            .args(&args)
            .arg("--fleet")
            .arg(fleet)
            .args(extra)
            .env("XDG_CACHE_HOME", env!("CARGO_TARGET_TMPDIR"))
            .env_remove("KUBECONFIG")
            .output()
            .expect("run deploy --fleet")
            .into()
    };

    // edge-b's service IP is not the one the certificate names: its policies deny, so neither
    // cluster is changed.
    let denied = deploy_fleet(
        &fleet_file("  config:\n    service.clusterIP: 10.96.100.250\n"),
        &[],
    );
    assert_exit(&denied, 3, "fleet with one denied cluster");
    assert!(
        denied.stdout.contains("edge-a")
            && denied.stdout.contains("edge-b")
            && denied.stdout.contains("failed"),
        "{}",
        denied.stdout
    );
    assert!(!suite.namespace_exists(&site.namespace));
    assert!(!exists_on_second(&site.namespace));

    let deployed = deploy_fleet(&fleet_file(""), &["--max-parallel", "2", "-o", "json"]);
    assert_exit(&deployed, 0, "fleet deploy");
    let outcomes: Value = serde_json::from_str(&deployed.stdout).expect("outcomes JSON");
    let clusters: Vec<(&str, &str)> = outcomes
        .as_array()
        .expect("a list")
        .iter()
        .map(|outcome| {
            (
                outcome["cluster"].as_str().unwrap_or_default(),
                outcome["result"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(clusters, [("edge-a", "done"), ("edge-b", "done")]);
    assert!(suite.namespace_exists(&site.namespace));
    let on_second = second
        .kubectl([
            "get",
            "deployment",
            "connected-registry",
            "-n",
            &site.namespace,
            "-o",
            "name",
        ])
        .expect("the registry Deployment on the second cluster");
    assert_eq!(on_second.trim(), "deployment.apps/connected-registry");

    // status over the fleet: one line per cluster, or every status as JSON.
    let fleet = fleet_file("");
    let status = Command::new(bin_path("kubectl-acr"))
        .args(["status", "-n", &site.namespace, "--fleet"])
        .arg(&fleet)
        .output()
        .expect("run status --fleet");
    let status: Run = status.into();
    let lines: Vec<&str> = status.stdout.lines().collect();
    assert_exit(&status, 0, "status --fleet");
    assert!(
        lines[0].starts_with("CLUSTER")
            && lines[1].starts_with("edge-a")
            && lines[2].starts_with("edge-b")
            && !status.stdout.contains("unknown"),
        "{}",
        status.stdout
    );
    let statuses: Value = serde_json::from_slice(
        &Command::new(bin_path("kubectl-acr"))
            .args(["status", "-n", &site.namespace, "-o", "json", "--fleet"])
            .arg(&fleet)
            .output()
            .expect("run status --fleet -o json")
            .stdout,
    )
    .expect("statuses JSON");
    assert_eq!(statuses[1]["cluster"], "edge-b");
    assert_eq!(
        statuses[1]["status"]["namespaceFound"], true,
        "{statuses:#}"
    );

    // render over the fleet: one GitOps folder per cluster, each with its own settings.
    let folders = site.dir.join("gitops-fleet");
    let rendered: Run = Command::new(bin_path("kubectl-acr"))
        .arg("render")
        .args(&args)
        .arg("--fleet")
        .arg(fleet_file(
            "  config:\n    pvc.storageClassName: fast-local\n",
        ))
        .arg("--out-dir")
        .arg(&folders)
        .env("XDG_CACHE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .output()
        .expect("run render --fleet")
        .into();
    assert_exit(&rendered, 0, "render --fleet");
    let claim = |cluster: &str| {
        std::fs::read_to_string(
            folders
                .join(cluster)
                .join("persistentvolumeclaim-connected-registry-pvc.yaml"),
        )
        .expect("the claim's file")
    };
    assert!(claim("edge-b").contains("storageClassName: fast-local"));
    assert!(!claim("edge-a").contains("fast-local"));
    let denied_folders = site.dir.join("gitops-denied");
    let denied: Run = Command::new(bin_path("kubectl-acr"))
        .arg("render")
        .args(&args)
        .arg("--fleet")
        .arg(fleet_file(
            "  config:\n    service.clusterIP: 10.96.100.250\n",
        ))
        .arg("--out-dir")
        .arg(&denied_folders)
        .env("XDG_CACHE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .output()
        .expect("run render --fleet")
        .into();
    assert_exit(&denied, 3, "render --fleet with a denied cluster");
    assert!(
        !denied_folders.exists(),
        "a refused fleet render wrote folders"
    );
    // A cluster whose settings are wrong is a failed check (exit 1), not a policy denial (3);
    // -o json gives the outcomes as JSON.
    let broken: Run = Command::new(bin_path("kubectl-acr"))
        .arg("render")
        .args(&args)
        .args(["-o", "json", "--fleet"])
        .arg(fleet_file(
            "  config:\n    service.clusterIPP: 10.96.100.250\n",
        ))
        .arg("--out-dir")
        .arg(&denied_folders)
        .env("XDG_CACHE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .output()
        .expect("run render --fleet")
        .into();
    assert_exit(
        &broken,
        1,
        "render --fleet with a cluster's unknown setting",
    );
    let outcomes: Value = serde_json::from_str(&broken.stdout).expect("outcomes as JSON");
    let edge_b = outcomes
        .as_array()
        .and_then(|all| all.iter().find(|outcome| outcome["cluster"] == "edge-b"))
        .expect("edge-b's outcome");
    assert_eq!(edge_b["result"], "failed", "{outcomes:#}");
    assert!(
        !denied_folders.exists(),
        "a failed fleet render wrote folders"
    );
}

/// Every object deploy made in the namespace as the API server holds it, without what field
/// managers, versions and controllers change (status, annotations, a claim's bound volume):
/// `kind/name -> object`.
fn gitops_contents(suite: &Suite, namespace: &str) -> BTreeMap<String, Value> {
    let list = suite.kubectl_json(&[
        "get",
        "serviceaccounts,secrets,services,persistentvolumeclaims,deployments,daemonsets",
        "-n",
        namespace,
        "-l",
        LABELS,
    ]);
    list["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|mut item| {
            let metadata = item["metadata"].as_object_mut().expect("metadata");
            for controlled in ["managedFields", "resourceVersion", "annotations"] {
                metadata.remove(controlled);
            }
            if let Some(object) = item.as_object_mut() {
                object.remove("status");
            }
            if let Some(spec) = item["spec"].as_object_mut() {
                spec.remove("volumeName");
            }
            let key = format!(
                "{}/{}",
                item["kind"].as_str().unwrap_or_default(),
                item["metadata"]["name"].as_str().unwrap_or_default()
            );
            (key, item)
        })
        .collect()
}

fn server_dry_run_stores_nothing(suite: &Suite) {
    let site = suite.site("dry-run");
    let args = byoc_settings(&site, &[]);
    let run = suite.acr("deploy", &strs(&with(&args, &["--dry-run=server"])));
    assert_exit(&run, 0, "server dry run");
    assert!(
        run.stdout.contains(&format!(
            "Namespace {} applied (server dry run)",
            site.namespace
        )),
        "{}",
        run.stdout
    );
    assert!(!suite.namespace_exists(&site.namespace));
    let status = suite.acr("status", &["-n", &site.namespace]);
    assert_eq!(
        status.success(),
        format!(
            "Namespace {} does not exist: nothing is deployed there.\n",
            site.namespace
        )
    );
}

fn policy_deny_writes_nothing(suite: &Suite) {
    let site = suite.site("deny");
    // A certificate for another address: the built-in policy denies it.
    let certs = certificates(&site, "10.96.200.200");
    let args = settings(
        &site,
        &["cert-manager.enabled=false", "cert-manager.install=false"],
        &[
            ("tls.crt", b64(&certs.cert)),
            ("tls.key", b64(&certs.key)),
            ("tls.cacrt", b64(&certs.ca)),
        ],
    );
    let run = suite.acr("deploy", &strs(&args));
    assert_exit(&run, 3, "a denied deploy");
    assert!(
        run.stderr.contains("serving-certificate-covers-service-ip"),
        "{}",
        run.stderr
    );
    assert!(
        !suite.namespace_exists(&site.namespace),
        "a denial must not even create the namespace"
    );
}

fn service_ip_outside_the_range_writes_nothing(suite: &Suite) {
    let mut site = suite.site("outside-range");
    site.service_ip = "10.0.0.1".to_owned();
    let args = byoc_settings(&site, &[]);
    let run = suite.acr("deploy", &strs(&args));
    assert_exit(&run, 1, "a service IP outside the service range");
    assert!(
        run.stderr.contains(
            "service.clusterIP 10.0.0.1 is outside the cluster's service range 10.96.0.0/12"
        ),
        "{}",
        run.stderr
    );
    assert!(
        !suite.namespace_exists(&site.namespace),
        "nothing is written"
    );
    assert!(
        suite
            .plane
            .kubectl([
                "get",
                "service",
                "-n",
                "default",
                "kubectl-acr-service-ip-probe"
            ])
            .is_err(),
        "the probe is only ever a dry run"
    );
}

/// A namespace an admin set to Pod Security `restricted` is not lowered to the `privileged` the
/// trust DaemonSet needs: preflight stops before anything is written, naming the level, the
/// admin's field manager (read from the real API server's managed fields) and the ways out.
fn restricted_namespace_is_not_weakened(suite: &Suite) {
    let site = suite.site("restricted");
    let ns = site.namespace.as_str();
    suite.kubectl(&["create", "namespace", ns]);
    suite.kubectl(&[
        "label",
        "namespace",
        ns,
        "pod-security.kubernetes.io/enforce=restricted",
    ]);
    let args = byoc_settings(&site, &[]);
    let run = suite.acr("deploy", &strs(&args));
    assert_exit(&run, 1, "deploy into a restricted namespace");
    for expected in [
        "nothing was changed",
        "enforces Pod Security `restricted`",
        "set by `kubectl-label`",
        "needs `privileged`",
        "trustDistribution.enabled=false",
    ] {
        assert!(run.stderr.contains(expected), "{expected}: {}", run.stderr);
    }
    let namespace = suite.kubectl_json(&["get", "namespace", ns]);
    assert_eq!(
        namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "restricted"
    );
    assert_eq!(
        suite.names("secrets,services,deployments,daemonsets", ns),
        Vec::<String>::new(),
        "nothing else is written"
    );

    // A registry run as root needs `baseline`: refused too, saying why.
    let root = with(
        &args,
        &[
            "--config",
            "trustDistribution.enabled=false",
            "--config",
            "container.runAsUser=0",
        ],
    );
    let run = suite.acr("deploy", &strs(&root));
    assert_exit(&run, 1, "a root registry into a restricted namespace");
    for expected in [
        "needs `baseline`",
        "runs as root",
        "leave container.runAsUser out",
    ] {
        assert!(run.stderr.contains(expected), "{expected}: {}", run.stderr);
    }

    // Without trust distribution the registry meets `restricted`: the real API server's Pod
    // Security admission lets its pod in, and the admin's label stays.
    let own_trust = with(&args, &["--config", "trustDistribution.enabled=false"]);
    let run = suite.acr(
        "deploy",
        &strs(&with(&own_trust, &["--wait", "--timeout", "2m"])),
    );
    assert_exit(
        &run,
        0,
        "deploy into a restricted namespace without trust distribution",
    );
    let namespace = suite.kubectl_json(&["get", "namespace", ns]);
    assert_eq!(
        namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "restricted"
    );
}

/// An admin tightens Pod Security after a root registry was deployed: the real deployment
/// controller's ReplicaFailure (the API server's Pod Security admission refusing the new pod)
/// is what `status` names.
fn pod_security_refusal_is_diagnosed(suite: &Suite) {
    let site = suite.site("psa-refused");
    let ns = site.namespace.as_str();
    let args = byoc_settings(
        &site,
        &["trustDistribution.enabled=false", "container.runAsUser=0"],
    );
    let run = suite.acr(
        "deploy",
        &strs(&with(&args, &["--wait", "--timeout", "2m"])),
    );
    assert_exit(&run, 0, "deploy a root registry");
    let namespace = suite.kubectl_json(&["get", "namespace", ns]);
    assert_eq!(
        namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "baseline"
    );
    suite.kubectl(&[
        "label",
        "namespace",
        ns,
        "pod-security.kubernetes.io/enforce=restricted",
        "--overwrite",
    ]);
    suite.kubectl(&[
        "rollout",
        "restart",
        "deployment/connected-registry",
        "-n",
        ns,
    ]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let status = suite.acr("status", &["-n", ns]).success();
        if status.contains("cannot create its pods") {
            for expected in ["violates PodSecurity", "pod-security.kubernetes.io/enforce"] {
                assert!(status.contains(expected), "{expected}: {status}");
            }
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "status never named the refused pods:\n{status}"
        );
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}

/// `cert-manager.install=true` on a cluster that has a cert-manager another tool installed (a
/// Helm-style Deployment in its own namespace) is refused before anything is written.
fn second_cert_manager_is_refused(suite: &Suite) {
    let site = suite.site("second-cm");
    let foreign = format!("{}-foreign", site.namespace);
    suite.kubectl(&["create", "namespace", &foreign]);
    suite.apply(&json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "cert-manager", "namespace": foreign,
                     "labels": {"app.kubernetes.io/name": "cert-manager"}},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": "foreign-cert-manager"}},
            "template": {
                "metadata": {"labels": {"app": "foreign-cert-manager"}},
                "spec": {"containers": [{"name": "cert-manager-controller",
                    "image": "quay.io/jetstack/cert-manager-controller:v1.14.5"}]},
            },
        },
    }));
    let manifests = fixture("cluster/cert-manager-mini.yaml");
    let args = with(
        &settings(&site, &[], &[]),
        &[
            "--cert-manager-manifests",
            manifests.to_str().expect("UTF-8 path"),
        ],
    );
    let run = suite.acr("deploy", &strs(&args));
    suite.kubectl(&["delete", "namespace", &foreign, "--wait=false"]);
    assert_exit(&run, 1, "deploy with a second cert-manager");
    for expected in [
        "would install a second cert-manager",
        &format!("Deployment {foreign}/cert-manager"),
        "set cert-manager.install=false",
    ] {
        assert!(run.stderr.contains(expected), "{expected}: {}", run.stderr);
    }
    assert!(
        !suite.namespace_exists(&site.namespace),
        "nothing is written"
    );
}

fn field_manager_conflict_is_named(suite: &Suite) {
    let site = suite.site("conflict");
    let args = byoc_settings(&site, &[]);
    assert_exit(&suite.acr("deploy", &strs(&args)), 0, "deploy");
    // Another manager takes a field deploy sets.
    suite
        .plane
        .kubectl_stdin(
            [
                "apply",
                "--server-side",
                "--force-conflicts",
                "--field-manager=platform-team",
                "-f",
                "-",
            ],
            &json!({
                "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": "connected-registry-pvc", "namespace": site.namespace,
                             "labels": {"app.kubernetes.io/managed-by": "platform"}},
            })
            .to_string(),
        )
        .expect("second manager applies");
    let run = suite.acr("deploy", &strs(&args));
    assert_exit(&run, 1, "deploy against another field manager");
    for expected in [
        "PersistentVolumeClaim",
        "platform-team",
        "app.kubernetes.io/managed-by",
        "--force-conflicts",
    ] {
        assert!(run.stderr.contains(expected), "{expected}: {}", run.stderr);
    }
    let forced = suite.acr("deploy", &strs(&with(&args, &["--force-conflicts"])));
    assert_exit(&forced, 0, "deploy --force-conflicts");
    let claim = suite.kubectl_json(&[
        "get",
        "pvc",
        "connected-registry-pvc",
        "-n",
        &site.namespace,
    ]);
    assert_eq!(
        claim["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "kubectl-acr"
    );
}

fn namespace_scoped_rbac_is_named(suite: &Suite) {
    let site = suite.site("rbac");
    let ns = site.namespace.as_str();
    suite.kubectl(&["create", "namespace", ns]);
    suite.kubectl(&[
        "create",
        "role",
        "deployer",
        "-n",
        ns,
        "--verb=*",
        "--resource=*.*",
    ]);
    suite.kubectl(&[
        "create",
        "rolebinding",
        "deployer",
        "-n",
        ns,
        "--role=deployer",
        &format!("--user={LIMITED_USER}"),
    ]);
    let args = byoc_settings(&site, &[]);
    let run = suite.acr_as("deploy", &strs(&args), Some("limited"), b"");
    assert_exit(&run, 1, "deploy with namespace-scoped rights");
    // The first thing it may not do: look for a Service already on the address, cluster-wide.
    for expected in [
        LIMITED_USER,
        "cannot list resource \"services\"",
        "at the cluster scope",
        "HTTP 403",
        "kubectl auth can-i",
    ] {
        assert!(run.stderr.contains(expected), "{expected}: {}", run.stderr);
    }
    assert_eq!(
        suite.names("secrets,services,deployments", ns),
        Vec::<String>::new(),
        "nothing is written"
    );
    // Reading needs no more than the namespace's own rights (RBAC lets a RoleBinding in a
    // namespace grant `get` on that namespace).
    let status = suite.acr_as("status", &["-n", ns], Some("limited"), b"");
    assert_exit(&status, 0, "status with namespace-scoped rights");
    assert!(
        status.stdout.contains("none made by kubectl acr deploy"),
        "{}",
        status.stdout
    );
}

fn trust_distribution_per_node(suite: &Suite) {
    let nodes = suite.plane.node_names();
    assert_eq!(nodes.len(), 2, "{nodes:?}");
    // Every node by default (the current glossary), without the node selector.
    let site = suite.site("trust-all");
    let args = byoc_settings(&site, &[]);
    assert_exit(
        &suite.acr(
            "deploy",
            &strs(&with(&args, &["--wait", "--timeout", "2m"])),
        ),
        0,
        "deploy",
    );
    let status: Value = serde_json::from_str(
        &suite
            .acr("status", &["-n", &site.namespace, "-o", "json"])
            .success(),
    )
    .expect("status JSON");
    let trusted: Vec<&str> = status["trustDistribution"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter(|node| node["ready"] == true)
        .filter_map(|node| node["node"].as_str())
        .collect();
    assert_eq!(trusted, nodes, "{status:#}");

    // Only labelled nodes with useNodeSelector.
    let site = suite.site("trust-labelled");
    let args = byoc_settings(&site, &["trustDistribution.useNodeSelector=true"]);
    let run = suite.acr("deploy", &strs(&args));
    assert_exit(&run, 0, "deploy");
    // Preflight read the real nodes: none is labelled, so trust reaches none; it warns.
    assert!(
        run.stderr
            .contains("warning: trust distribution reaches no node"),
        "{}",
        run.stderr
    );
    let status: Value = serde_json::from_str(
        &suite
            .acr("status", &["-n", &site.namespace, "-o", "json"])
            .success(),
    )
    .expect("status JSON");
    let selector = status["trustDistribution"]["nodeSelector"]
        .as_str()
        .expect("node selector")
        .to_owned();
    assert!(!selector.is_empty(), "{status:#}");
    let text = suite.acr("status", &["-n", &site.namespace]).success();
    assert!(text.contains("no node matches"), "{text}");
    let mut label = vec!["label", "node", nodes[0].as_str(), "--overwrite"];
    label.extend(selector.split(','));
    suite.kubectl(&label);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let status: Value = serde_json::from_str(
            &suite
                .acr("status", &["-n", &site.namespace, "-o", "json"])
                .success(),
        )
        .expect("status JSON");
        let listed: Vec<(String, bool)> = status["trustDistribution"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|node| {
                (
                    node["node"].as_str().unwrap_or_default().to_owned(),
                    node["ready"] == true,
                )
            })
            .collect();
        if listed == vec![(nodes[0].clone(), true)] {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only the labelled node must be listed, ready: {status:#}"
        );
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    let text = suite.acr("status", &["-n", &site.namespace]).success();
    assert!(text.contains(&nodes[0]), "{text}");
    assert!(!text.contains(&nodes[1]), "{text}");
    let key = "containerd-configured-by";
    assert!(selector.contains(key), "{selector}");
    suite.kubectl(&["label", "node", &nodes[0], &format!("{key}-")]);
}

fn pull_secret_against_real_service_accounts(suite: &Suite) {
    let site = suite.site("pull-secret");
    let ns = site.namespace.as_str();
    suite.kubectl(&["create", "namespace", ns]);
    suite.apply(&json!({
        "apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "builder", "namespace": ns},
        "imagePullSecrets": [{"name": "existing-pull"}],
    }));
    let create = |extra: &[&str]| {
        let mut args = vec![
            "acr-pull",
            "--server",
            "contoso.azurecr.io",
            "--username",
            "edge-pull",
            "--password-stdin",
            "-n",
            ns,
            "--service-account",
            "builder",
        ];
        args.extend_from_slice(extra);
        suite.acr_as("pull-secret create", &args, None, b"s3cret-token\n")
    };
    let first = create(&[]);
    assert_exit(&first, 0, "pull-secret create");
    assert!(!first.stdout.contains("s3cret-token"), "{}", first.stdout);
    let account = suite.kubectl_json(&["get", "serviceaccount", "builder", "-n", ns]);
    assert_eq!(
        account["imagePullSecrets"],
        json!([{"name": "existing-pull"}, {"name": "acr-pull"}]),
        "existing entries are kept, ours added once"
    );
    let secret = suite.kubectl_json(&["get", "secret", "acr-pull", "-n", ns]);
    assert_eq!(secret["type"], "kubernetes.io/dockerconfigjson");
    let config = base64::engine::general_purpose::STANDARD
        .decode(secret["data"][".dockerconfigjson"].as_str().expect("data"))
        .expect("base64");
    let config: Value = serde_json::from_slice(&config).expect("docker config");
    assert_eq!(
        config["auths"]["contoso.azurecr.io"]["password"],
        "s3cret-token"
    );
    let versions = |suite: &Suite| {
        (
            suite.kubectl_json(&["get", "serviceaccount", "builder", "-n", ns])["metadata"]
                ["resourceVersion"]
                .clone(),
            suite.kubectl_json(&["get", "secret", "acr-pull", "-n", ns])["metadata"]
                ["resourceVersion"]
                .clone(),
        )
    };
    let before = versions(suite);
    assert_exit(&create(&[]), 0, "second pull-secret create");
    assert_eq!(versions(suite), before, "a second run changes nothing");
}

/// Deploys your own certificate with `extra_config` into a fresh namespace where the fake
/// kubelet and provisioner behave as `behaviour` says, waiting at most `timeout`, and expects
/// exit 124; the site and the run.
fn deploy_until_timeout(
    suite: &Suite,
    name: &str,
    behaviour: NamespaceBehaviour,
    extra_config: &[&str],
    timeout: &str,
) -> (Site, Run) {
    let site = suite.site(name);
    suite.plane.set_behaviour(&site.namespace, behaviour);
    let args = byoc_settings(&site, extra_config);
    let run = suite.acr(
        "deploy",
        &strs(&with(&args, &["--wait", "--timeout", timeout])),
    );
    assert_exit(&run, 124, &format!("deploy --wait in {}", site.namespace));
    (site, run)
}

fn wait_explains_pending_claim(suite: &Suite) {
    let (site, run) = deploy_until_timeout(
        suite,
        "pending-claim",
        NamespaceBehaviour {
            pods: Pods::Run,
            bind_volumes: false,
        },
        &[],
        "8s",
    );
    for expected in [
        "PersistentVolumeClaim",
        "connected-registry-pvc",
        "Pending",
        "no default StorageClass",
    ] {
        assert!(run.stderr.contains(expected), "{expected}: {}", run.stderr);
    }
    // Progress reaches a log that is not a terminal: one timestamped line per change.
    let timestamped = |line: &&str| {
        line.len() > 21
            && line.as_bytes()[4] == b'-'
            && line.as_bytes()[10] == b'T'
            && line[..21].ends_with("Z ")
    };
    let progress: Vec<&str> = run.stderr.lines().filter(timestamped).collect();
    assert!(
        progress
            .iter()
            .any(|line| line.contains("waiting for Deployment")),
        "{}",
        run.stderr
    );
    assert_eq!(
        progress
            .iter()
            .filter(|line| line.contains("not ready yet: PersistentVolumeClaim"))
            .count(),
        1,
        "each reason once: {}",
        run.stderr
    );
    let status = suite.acr("status", &["-n", &site.namespace]).success();
    assert!(status.contains("no default StorageClass"), "{status}");
    assert!(
        status.contains("unbound immediate PersistentVolumeClaims"),
        "the scheduler's reason: {status}"
    );
}

fn missing_storage_class_writes_nothing(suite: &Suite) {
    let site = suite.site("missing-class");
    let args = byoc_settings(&site, &["pvc.storageClassName=fast-ssd"]);
    let run = suite.acr("deploy", &strs(&args));
    assert_exit(
        &run,
        1,
        "deploy with a StorageClass the cluster does not have",
    );
    assert!(
        run.stderr.contains(
            "pvc.storageClassName names StorageClass fast-ssd, which the cluster does not have"
        ),
        "{}",
        run.stderr
    );
    assert!(
        !suite.namespace_exists(&site.namespace),
        "nothing is written"
    );
}

fn wait_explains_image_pull_and_crash_loop(suite: &Suite) {
    for (pods, expected) in [
        (Pods::ImagePullBackOff, "ImagePullBackOff"),
        (Pods::CrashLoop, "CrashLoopBackOff"),
    ] {
        let (site, run) = deploy_until_timeout(
            suite,
            "bad-pods",
            NamespaceBehaviour {
                pods,
                bind_volumes: true,
            },
            &[],
            "15s",
        );
        assert!(run.stderr.contains(expected), "{expected}: {}", run.stderr);
        let status = suite.acr("status", &["-n", &site.namespace]).success();
        assert!(status.contains(expected), "{expected}: {status}");
        if pods == Pods::CrashLoop {
            assert!(status.contains("exit code 1"), "{status}");
        }
    }
}

/// Plays cert-manager: issues the Secret of every Certificate in the namespace (the CA's with
/// the CA, the others with a serving certificate it signed) and marks each Ready.
fn play_cert_manager(suite: &Suite, site: &Site) {
    let ns = site.namespace.as_str();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let certificates_found = loop {
        let list = suite.kubectl_json(&["get", "certificates.cert-manager.io", "-n", ns]);
        let items = list["items"].as_array().cloned().unwrap_or_default();
        if !items.is_empty() {
            break items;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no Certificate in {ns}"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    let certs = certificates(site, &site.service_ip);
    let ca_key = std::fs::read(site.dir.join(format!("certs-{}/ca.key", site.service_ip)))
        .expect("the generated CA key");
    for certificate in certificates_found {
        let name = certificate["metadata"]["name"].as_str().expect("name");
        let secret_name = certificate["spec"]["secretName"]
            .as_str()
            .expect("secretName");
        let (crt, key) = if certificate["spec"]["isCA"] == true {
            (&certs.ca, &ca_key)
        } else {
            (&certs.cert, &certs.key)
        };
        suite.apply(&json!({
            "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": secret_name, "namespace": ns,
                         "labels": certificate["spec"]["secretTemplate"]["labels"],
                         "annotations": {"cert-manager.io/certificate-name": name}},
            "data": {"tls.crt": b64(crt), "tls.key": b64(key), "ca.crt": b64(&certs.ca)},
        }));
        let ready = json!({"status": {"conditions": [{"type": "Ready", "status": "True",
            "reason": "Ready", "message": "Certificate is up to date and has not expired"}]}})
        .to_string();
        let patch = |subresource: &[&str]| {
            let mut args = vec!["patch", "certificates.cert-manager.io", name, "-n", ns];
            args.extend_from_slice(subresource);
            args.extend(["--type=merge", "-p", &ready]);
            suite.plane.kubectl(&args)
        };
        // cert-manager's real CRDs have a status subresource; the cut-down ones do not.
        patch(&["--subresource=status"])
            .or_else(|_| patch(&[]))
            .unwrap_or_else(|error| panic!("cannot mark {name} Ready: {error}"));
    }
}

fn cert_manager_lifecycle(suite: &Suite, site: &Site, args: &[String]) {
    let ns = site.namespace.as_str();
    let deployed = suite.acr("deploy", &strs(args));
    assert_exit(&deployed, 0, "deploy");
    play_cert_manager(suite, site);
    lifecycle(suite, site, args, &[]);
    // The issued Secret is cert-manager's, not deploy's: delete leaves it to cert-manager's
    // owner references, and the Certificate that made it is gone.
    assert!(
        suite
            .names("certificates.cert-manager.io,issuers.cert-manager.io", ns)
            .is_empty()
    );
}

fn cert_manager_install_lifecycle(suite: &Suite) {
    let site = suite.site("cm-install");
    let manifests = fixture("cluster/cert-manager-mini.yaml");
    let args = with(
        &settings(&site, &[], &[]),
        &[
            "--cert-manager-manifests",
            manifests.to_str().expect("UTF-8 path"),
        ],
    );
    cert_manager_lifecycle(suite, &site, &args);
}

fn cert_manager_existing_lifecycle(suite: &Suite) {
    let site = suite.site("cm-existing");
    let args = settings(&site, &["cert-manager.install=false"], &[]);
    cert_manager_lifecycle(suite, &site, &args);
}

fn cert_manager_wait_times_out_saying_why(suite: &Suite) {
    let site = suite.site("cm-timeout");
    // No cert-manager controller issues the Secret, so a kubelet could not start the pod.
    suite.plane.set_behaviour(
        &site.namespace,
        NamespaceBehaviour {
            pods: Pods::Hold,
            bind_volumes: true,
        },
    );
    let args = settings(&site, &["cert-manager.install=false"], &[]);
    let run = suite.acr(
        "deploy",
        &strs(&with(&args, &["--wait", "--timeout", "8s"])),
    );
    assert_exit(&run, 124, "deploy --wait without cert-manager's controller");
    for expected in ["Certificate", "not Ready", "timed out after 8s"] {
        assert!(run.stderr.contains(expected), "{expected}: {}", run.stderr);
    }
    assert!(!run.stderr.contains(SYNC_TOKEN_PASSWORD), "{}", run.stderr);
}

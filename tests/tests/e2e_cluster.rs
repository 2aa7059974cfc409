//! End to end against a real cluster: `kubectl acr deploy` (your own certificate, made by
//! `kubectl acr cert generate`), `--wait`, `status` and `delete --delete-data`, when
//! `ACR_E2E_KUBECONFIG` names a kubeconfig. Without it each test prints one line saying it did
//! not run and passes; this is the suite's only skip.
//!
//! The cluster must be one you can throw away. Settings, from the environment:
//! - `ACR_E2E_KUBECONFIG` (required to run): the kubeconfig, used with its current context
//!   unless `ACR_E2E_CONTEXT` names another;
//! - `ACR_E2E_CONNECTION_STRING` (required to run): a connected registry's connection string
//!   (`az acr connected-registry get-settings`); the registry must reach its parent to become
//!   ready, which `--wait` waits for;
//! - `ACR_E2E_SERVICE_IP`: a free address in the cluster's service range (default
//!   10.96.100.100, inside kind's and kubeadm's default 10.96.0.0/12);
//! - `ACR_E2E_NAMESPACE`: the namespace (default `connected-registry-e2e`);
//! - `ACR_E2E_TIMEOUT`: how long `--wait` may take (default 10m).

use acr_tests::{Run, bin_path};
use base64::Engine as _;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// The real cluster's settings, or `None` (after saying why) when the suite is not to run.
struct RealCluster {
    kubeconfig: String,
    context: Option<String>,
    connection_string: String,
    service_ip: String,
    namespace: String,
    timeout: String,
}

impl RealCluster {
    fn from_env(test: &str) -> Option<Self> {
        let variable = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let Some(kubeconfig) = variable("ACR_E2E_KUBECONFIG") else {
            println!(
                "{test}: not run: ACR_E2E_KUBECONFIG is not set (set it to a throw-away cluster's kubeconfig to run the end-to-end suite)"
            );
            return None;
        };
        let connection_string = variable("ACR_E2E_CONNECTION_STRING").unwrap_or_else(|| {
            panic!(
                "ACR_E2E_KUBECONFIG is set but ACR_E2E_CONNECTION_STRING is not: give the connection string of a connected registry (az acr connected-registry get-settings), which must reach its parent to become ready"
            )
        });
        Some(Self {
            kubeconfig,
            context: variable("ACR_E2E_CONTEXT"),
            connection_string,
            service_ip: variable("ACR_E2E_SERVICE_IP")
                .unwrap_or_else(|| "10.96.100.100".to_owned()),
            namespace: variable("ACR_E2E_NAMESPACE")
                .unwrap_or_else(|| "connected-registry-e2e".to_owned()),
            timeout: variable("ACR_E2E_TIMEOUT").unwrap_or_else(|| "10m".to_owned()),
        })
    }

    /// Runs `kubectl-acr VERB` against the cluster in `namespace`.
    fn run(&self, verb: &str, namespace: &str, args: &[&str]) -> Run {
        let mut command = Command::new(bin_path("kubectl-acr"));
        command
            .arg(verb)
            .args(["--kubeconfig", &self.kubeconfig, "-n", namespace])
            .args(args)
            .env("XDG_CACHE_HOME", env!("CARGO_TARGET_TMPDIR"));
        if let Some(context) = &self.context {
            command.args(["--context", context]);
        }
        command.output().expect("run kubectl-acr").into()
    }

    /// Settings for your own certificate, made for the service IP by `cert generate`.
    fn byoc_settings(&self, dir: &Path) -> Vec<String> {
        let out = dir.join("certs");
        let generated: Run = Command::new(bin_path("kubectl-acr"))
            .args(["cert", "generate", "--ip", &self.service_ip, "--out-dir"])
            .arg(&out)
            .output()
            .expect("run cert generate")
            .into();
        generated.success();
        let encoded = |name: &str| {
            let pem = std::fs::read(out.join(name)).expect("generated file");
            base64::engine::general_purpose::STANDARD.encode(pem)
        };
        [
            ("--config", format!("service.clusterIP={}", self.service_ip)),
            ("--config", "cert-manager.enabled=false".to_owned()),
            ("--config", "cert-manager.install=false".to_owned()),
            (
                "--config-protected",
                format!("connectionString={}", self.connection_string),
            ),
            (
                "--config-protected",
                format!("tls.crt={}", encoded("tls.crt")),
            ),
            (
                "--config-protected",
                format!("tls.key={}", encoded("tls.key")),
            ),
            (
                "--config-protected",
                format!("tls.cacrt={}", encoded("ca.crt")),
            ),
        ]
        .into_iter()
        .flat_map(|(flag, value)| [flag.to_owned(), value])
        .collect()
    }
}

fn as_strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

#[test]
fn e2e_byoc_deploy_wait_status_and_delete() {
    let Some(cluster) = RealCluster::from_env("e2e_byoc_deploy_wait_status_and_delete") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let namespace = cluster.namespace.clone();
    let mut args = cluster.byoc_settings(dir.path());
    args.extend([
        "--wait".to_owned(),
        "--timeout".to_owned(),
        cluster.timeout.clone(),
    ]);
    let deployed = cluster.run("deploy", &namespace, &as_strs(&args));
    assert_eq!(deployed.code, Some(0), "deploy failed: {deployed:?}");
    assert!(
        deployed.stdout.contains(&format!(
            "Deployment {namespace}/connected-registry applied"
        )),
        "{}",
        deployed.stdout
    );

    let again = cluster.run("deploy", &namespace, &as_strs(&args));
    assert_eq!(
        again.code,
        Some(0),
        "re-running deploy must converge: {again:?}"
    );

    let status: Value =
        serde_json::from_str(&cluster.run("status", &namespace, &["-o", "json"]).success())
            .expect("status JSON");
    assert_eq!(status["namespaceFound"], true);
    assert_eq!(status["rollout"]["complete"], true, "{status:#}");
    assert_eq!(
        status["certificate"]["subjectAltNames"]["ip"][0],
        cluster.service_ip.as_str(),
        "{status:#}"
    );
    let kinds: Vec<&str> = status["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .filter_map(|object| object["kind"].as_str())
        .collect();
    for kind in [
        "ServiceAccount",
        "Secret",
        "PersistentVolumeClaim",
        "Service",
        "Deployment",
        "DaemonSet",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }

    let kept = cluster.run("delete", &namespace, &[]);
    assert_eq!(kept.code, Some(0), "{kept:?}");
    assert!(
        kept.stdout.contains("connected-registry-pvc kept"),
        "{}",
        kept.stdout
    );
    let removed = cluster.run("delete", &namespace, &["--delete-data"]);
    assert_eq!(removed.code, Some(0), "{removed:?}");
    assert!(
        removed.stdout.contains(&format!(
            "PersistentVolumeClaim {namespace}/connected-registry-pvc deleted"
        )),
        "{}",
        removed.stdout
    );
    let rerun = cluster.run("delete", &namespace, &["--delete-data"]);
    assert_eq!(
        rerun.code,
        Some(0),
        "delete must be safe to re-run: {rerun:?}"
    );
}

#[test]
fn e2e_server_dry_run_stores_nothing() {
    let Some(cluster) = RealCluster::from_env("e2e_server_dry_run_stores_nothing") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let namespace = format!("{}-dry-run", cluster.namespace);
    let mut args = cluster.byoc_settings(dir.path());
    args.push("--dry-run=server".to_owned());
    let run = cluster.run("deploy", &namespace, &as_strs(&args));
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout
            .contains(&format!("Namespace {namespace} applied (server dry run)")),
        "{}",
        run.stdout
    );
    let status = cluster.run("status", &namespace, &[]).success();
    assert_eq!(
        status,
        format!("Namespace {namespace} does not exist: nothing is deployed there.\n")
    );
}

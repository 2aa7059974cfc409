//! Benchmark, not a test: whole-process `kubectl-acr deploy` against the fake API server for
//! each of the five deployment methods: the API requests of a first deploy and of a re-run
//! (reads and writes), and the median and p95 time of a re-run; plus whole-process `render`.
//! Then, on a real control plane (`KUBEBUILDER_ASSETS`), a re-run of `deploy` beside
//! `kubectl apply --server-side` of the same rendered manifests, as a ratio, with
//! `kubectl-acr version` as the process floor, all measured in turns in the same run.
//! Run with scripts/bench/deploy.sh, which builds the release binary first.

use acr_tests::control_plane::{Assets, ControlPlane, Options};
use acr_tests::fake_api_server::FakeApiServer;
use acr_tests::{Run, bin_path, fixture};
use base64::Engine as _;
use serde_json::json;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const SAMPLES: usize = 20;
const SERVICE_IP: &str = "10.0.0.1";
/// A service IP inside the real control plane's service range (10.96.0.0/12).
const REAL_SERVICE_IP: &str = "10.96.100.100";
const NS: &str = "connected-registry";
const CONNECTION: &str = "connectionString=ConnectedRegistryName=edge;SyncTokenName=edge-sync-token;SyncTokenPassword=c3luYy10b2tlbi1zZWNyZXQ=;ParentGatewayEndpoint=contoso.eastus.data.azurecr.io;ParentEndpointProtocol=https";

fn kubectl_acr(args: &[String], cache: &Path) -> Run {
    Command::new(bin_path("kubectl-acr"))
        .args(args)
        .env("XDG_CACHE_HOME", cache)
        .env_remove("KUBECONFIG")
        .output()
        .expect("run kubectl-acr")
        .into()
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn settings(config: &[&str], protected: &[String]) -> Vec<String> {
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

fn median_p95(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort_unstable();
    let p95 = ((samples.len() - 1) as f64 * 0.95).round() as usize;
    (samples[samples.len() / 2], samples[p95])
}

fn millis(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

/// `reads/writes` of the requests the server saw since the last call.
fn request_counts(server: &FakeApiServer) -> String {
    let requests = server.take_requests();
    let writes = requests.iter().filter(|request| request.is_write()).count();
    format!("{}/{}", requests.len() - writes, writes)
}

fn main() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let cache = scratch.path().join("cache");
    let certs = scratch.path().join("certs");
    let generated = kubectl_acr(
        &[
            "cert".into(),
            "generate".into(),
            "--ip".into(),
            SERVICE_IP.into(),
            "--out-dir".into(),
            certs.display().to_string(),
        ],
        &cache,
    );
    generated.success();
    let read = |name: &str| std::fs::read_to_string(certs.join(name)).expect("generated file");
    let (cert, key, ca) = (read("tls.crt"), read("tls.key"), read("ca.crt"));
    let own = ["cert-manager.enabled=false", "cert-manager.install=false"];
    let byoc_protected = [
        format!("tls.crt={}", b64(&cert)),
        format!("tls.key={}", b64(&key)),
        format!("tls.cacrt={}", b64(&ca)),
    ];
    let mut install = settings(&[], &[]);
    install.extend([
        "--cert-manager-manifests".to_owned(),
        fixture("cluster/cert-manager-mini.yaml")
            .display()
            .to_string(),
    ]);
    let tls_secret = json!({
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
        "metadata": { "name": "registry-tls", "namespace": NS },
        "data": { "tls.crt": b64(&cert), "tls.key": b64(&key), "ca.crt": b64(&ca) },
    });
    let crds = [("certificates", "Certificate"), ("issuers", "Issuer")].map(|(plural, kind)| {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": { "name": format!("{plural}.cert-manager.io") },
            "spec": { "group": "cert-manager.io", "names": { "kind": kind, "plural": plural } },
        })
    });
    let methods: Vec<(&str, Vec<String>, Vec<serde_json::Value>)> = vec![
        ("cert-manager installed (manifests file)", install, vec![]),
        (
            "the cluster's cert-manager",
            settings(&["cert-manager.install=false"], &[]),
            crds.to_vec(),
        ),
        (
            "own certificate (BYOC)",
            settings(&own, &byoc_protected),
            vec![],
        ),
        (
            "existing TLS secret",
            settings(&own, &["tls.secret=registry-tls".to_owned()]),
            vec![
                json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": NS } }),
                tls_secret,
            ],
        ),
        (
            "own trust distribution",
            settings(
                &[own[0], own[1], "trustDistribution.enabled=false"],
                &byoc_protected,
            ),
            vec![],
        ),
    ];

    println!(
        "kubectl-acr deploy against the fake API server (requests as reads/writes; time of a \
         re-run, median / p95 of {SAMPLES})"
    );
    println!(
        "   {:<40} {:>14} {:>14} {:>24}",
        "method", "first deploy", "re-run", "whole-process re-run"
    );
    for (name, args, objects) in methods {
        let server = FakeApiServer::start();
        for object in objects {
            server.insert(object);
        }
        let kubeconfig = server.write_kubeconfig(scratch.path());
        let mut deploy = vec![
            "deploy".to_owned(),
            "--kubeconfig".to_owned(),
            kubeconfig.display().to_string(),
        ];
        deploy.extend(args);
        kubectl_acr(&deploy, &cache).success();
        let first = request_counts(&server);
        kubectl_acr(&deploy, &cache).success();
        let rerun = request_counts(&server);
        let samples = (0..SAMPLES)
            .map(|_| {
                let start = Instant::now();
                kubectl_acr(&deploy, &cache).success();
                start.elapsed()
            })
            .collect();
        let (median, p95) = median_p95(samples);
        println!(
            "   {:<40} {:>14} {:>14} {:>24}",
            name,
            first,
            rerun,
            format!("{} / {}", millis(median), millis(p95))
        );
    }

    let mut render = vec!["render".to_owned()];
    render.extend(settings(&own, &byoc_protected));
    let samples = (0..SAMPLES)
        .map(|_| {
            let start = Instant::now();
            kubectl_acr(&render, &cache).success();
            start.elapsed()
        })
        .collect();
    let (median, p95) = median_p95(samples);
    println!(
        "   {:<40} {:>14} {:>14} {:>24}",
        "render (BYOC, no cluster)",
        "-",
        "-",
        format!("{} / {}", millis(median), millis(p95))
    );

    real_control_plane(&cache, scratch.path());
}

/// `deploy` re-run against `kubectl apply --server-side` of the same manifests on a real
/// control plane, samples taken in turns so that noise hits both alike. BYOC, with a service
/// IP in the control plane's service range.
fn real_control_plane(cache: &Path, scratch: &Path) {
    let assets = match Assets::from_env() {
        Assets::Found(dir) => dir,
        Assets::Missing(why) => {
            println!("\nreal control plane: not measured: {why}");
            return;
        }
    };
    let certs = scratch.join("real-certs");
    kubectl_acr(
        &[
            "cert".into(),
            "generate".into(),
            "--ip".into(),
            REAL_SERVICE_IP.into(),
            "--out-dir".into(),
            certs.display().to_string(),
        ],
        cache,
    )
    .success();
    let encoded = |name: &str| b64(&std::fs::read_to_string(certs.join(name)).expect("cert"));
    let settings = [
        "--config".to_owned(),
        format!("service.clusterIP={REAL_SERVICE_IP}"),
        "--config".to_owned(),
        "cert-manager.enabled=false".to_owned(),
        "--config".to_owned(),
        "cert-manager.install=false".to_owned(),
        "--config-protected".to_owned(),
        CONNECTION.to_owned(),
        "--config-protected".to_owned(),
        format!("tls.crt={}", encoded("tls.crt")),
        "--config-protected".to_owned(),
        format!("tls.key={}", encoded("tls.key")),
        "--config-protected".to_owned(),
        format!("tls.cacrt={}", encoded("ca.crt")),
    ];
    let plane = ControlPlane::start(&assets, Options { nodes: 0 }).expect("control plane");
    let kubeconfig = plane.kubeconfig().display().to_string();
    let mut deploy = vec!["deploy".to_owned(), "--kubeconfig".to_owned(), kubeconfig];
    deploy.extend(settings.iter().cloned());
    kubectl_acr(&deploy, cache).success();
    let mut render = vec!["render".to_owned(), "--show-secrets".to_owned()];
    render.extend(settings.iter().cloned());
    let manifests = scratch.join("manifests.yaml");
    std::fs::write(&manifests, kubectl_acr(&render, cache).success()).expect("manifests");
    let apply = |plane: &ControlPlane| {
        plane
            .kubectl([
                "apply".as_ref(),
                "--server-side".as_ref(),
                "--field-manager=kubectl-acr".as_ref(),
                "-f".as_ref(),
                manifests.as_os_str(),
            ])
            .expect("kubectl apply");
    };
    apply(&plane);
    let version = vec!["version".to_owned()];
    let (mut ours, mut theirs, mut floor) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..SAMPLES {
        let start = Instant::now();
        kubectl_acr(&deploy, cache).success();
        ours.push(start.elapsed());
        let start = Instant::now();
        apply(&plane);
        theirs.push(start.elapsed());
        let start = Instant::now();
        kubectl_acr(&version, cache).success();
        floor.push(start.elapsed());
    }
    let (ours, ours_p95) = median_p95(ours);
    let (theirs, theirs_p95) = median_p95(theirs);
    let (floor, _) = median_p95(floor);
    println!(
        "\nOn a real control plane ({}), BYOC, re-run, median / p95 of {SAMPLES} in turns:",
        plane.server()
    );
    println!(
        "   {:<44} {:>20}",
        "kubectl-acr deploy",
        format!("{} / {}", millis(ours), millis(ours_p95))
    );
    println!(
        "   {:<44} {:>20}",
        "kubectl apply --server-side (same manifests)",
        format!("{} / {}", millis(theirs), millis(theirs_p95))
    );
    println!(
        "   {:<44} {:>20}",
        "kubectl-acr version (floor)",
        millis(floor)
    );
    println!(
        "   deploy / kubectl apply = {:.2}x; deploy / floor = {:.1}x",
        ours.as_secs_f64() / theirs.as_secs_f64(),
        ours.as_secs_f64() / floor.as_secs_f64()
    );
}

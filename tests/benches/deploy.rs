//! Benchmark, not a test: whole-process `kubectl-acr deploy` against the fake API server for
//! each of the five deployment methods: the API requests of a first deploy and of a re-run
//! (reads and writes), and the median and p95 time of a re-run; plus whole-process `render`.
//! Run with scripts/bench/deploy.sh, which builds the release binary first.

use acr_tests::fake_api_server::FakeApiServer;
use acr_tests::{Run, bin_path, fixture};
use base64::Engine as _;
use serde_json::json;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const SAMPLES: usize = 20;
const SERVICE_IP: &str = "10.0.0.1";
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
}

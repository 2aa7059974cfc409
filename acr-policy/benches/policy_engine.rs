//! Benchmarks of the policy engine, run with `cargo bench -p acr-policy` (plain timing loops,
//! medians and 99th percentiles, no assertions on time). Evaluations are timed in rounds that
//! take turns across a section's measurements, and each figure is given as the median of all
//! samples, the median of its quietest round in brackets, and the 99th percentile:
//!
//! 1. load time per built-in policy from its precompiled code, and, for the same module as a
//!    user policy, compile time with no cache and load time from the disk cache;
//! 2. warm evaluation per built-in policy of an ~8 KB review, from a typed review (serialised
//!    for the one policy) and from review JSON (as `--input review.json` does), and of a minimal
//!    review, which shows the fixed cost of an evaluation (a fresh instance, copying, verdict);
//!    then the whole built-in set, as `policy check` and `deploy` evaluate it (the review
//!    serialised once for the set), in total and per policy, and the same policies evaluated
//!    in turn from review JSON, which shows what moving from one module to the next costs;
//! 3. one rule, the serving certificate covering the service IP, three ways side by side:
//!    native Rust (the built-in's own code, review JSON in and verdict JSON out), its
//!    WebAssembly build in the engine, and the same rule in Rego on the `regorus` interpreter.
//!
//! Name sections to run only those, for example for a profiler:
//! `cargo bench -p acr-policy -- evaluation` (sections: `loading`, `evaluation`, `three-ways`).

use acr_policy::{
    BUILTIN_POLICIES, HostConfig, Limits, LoadedPolicy, PolicyHost, PolicyOutcome, PolicySet,
};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use wasm_guest::Review;

/// The built-in policy's own source, compiled natively here: the same rule, not a rewrite.
#[path = "../../policies/serving-certificate-covers-service-ip/src/rule.rs"]
mod serving_certificate_covers_service_ip;

/// Samples per compile and cache-load measurement (each compiles a whole module).
const LOAD_SAMPLES: usize = 10;
/// Untimed evaluations before measuring, to settle caches and allocators.
const WARM_UP: usize = 500;
/// Timed evaluations per measurement.
const EVALUATIONS: usize = 5_000;
/// Rounds every evaluation measurement is split into. A section's measurements take turns
/// round by round, so a noisy stretch of the machine (seconds long, on shared machines) falls
/// on all of them alike rather than on whichever ran then; the quietest round shows what the
/// code costs when nothing else interferes.
const ROUNDS: usize = 5;

/// The smallest review a policy accepts: what an evaluation costs besides reading the review.
const MINIMAL_REVIEW: &[u8] =
    br#"{"apiVersion":"acr.policy/v1","operation":"create","subject":"pull-secret"}"#;

/// The rule of `serving-certificate-covers-service-ip` for connected registries, in Rego.
/// IP addresses compare as text, which is enough for the canonical text the host writes.
const SERVING_IP_REGO: &str = r#"
package acr.serving_ip

import rego.v1

cert_manager_enabled := object.get(input.object, "cert-manager.enabled", true)

service_ip := input.object["service.clusterIP"]

serving_role := "planned-serving" if cert_manager_enabled

serving_role := "serving" if not cert_manager_enabled

serving contains cert if {
	some cert in input.facts.certificates
	cert.role == serving_role
}

san_count(cert) := count(cert.subjectAltNames.dns) + count(cert.subjectAltNames.ip) + count(cert.subjectAltNames.uri) + count(cert.subjectAltNames.email)

violations contains "NO_SERVING_CERTIFICATE" if count(serving) == 0

violations contains "CN_ONLY_CERTIFICATE" if {
	some cert in serving
	san_count(cert) == 0
}

violations contains "SAN_MISSING_SERVICE_IP" if {
	some cert in serving
	san_count(cert) > 0
	not service_ip in cert.subjectAltNames.ip
}

allowed := count(violations) == 0
"#;

fn main() {
    let review_json = serde_json::to_vec(&review_8k()).expect("review serialises");
    let review: Review = serde_json::from_slice(&review_json).expect("review parses");
    println!(
        "policy engine benchmarks: {} built-in policies, review of {} bytes, {} cores",
        BUILTIN_POLICIES.len(),
        review_json.len(),
        std::thread::available_parallelism().map_or(1, usize::from)
    );

    let chosen: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .collect();
    let runs = |section: &str| chosen.is_empty() || chosen.iter().any(|name| name == section);
    if runs("loading") {
        bench_loading();
    }
    let host = PolicyHost::new(HostConfig::default()).expect("policy host starts");
    let policies: Vec<LoadedPolicy> = BUILTIN_POLICIES
        .iter()
        .map(|builtin| {
            host.load(&format!("builtin:{}", builtin.name), builtin.wasm)
                .unwrap_or_else(|error| panic!("{error}"))
        })
        .collect();
    if runs("evaluation") {
        bench_warm_evaluation(&host, &policies, &review, &review_json);
    }
    if runs("three-ways") {
        bench_native_wasm_rego(&policies, &review_json);
    }
}

/// Median and 99th percentile of `samples`.
fn percentiles(samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort_unstable();
    let at = |fraction: f64| {
        let index = ((samples.len() - 1) as f64 * fraction).round() as usize;
        samples[index]
    };
    (at(0.5), at(0.99))
}

fn millis(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1e3)
}

/// What timing one measurement found.
struct Timing {
    median: Duration,
    p99: Duration,
    quietest_round_median: Duration,
}

impl Timing {
    /// `median (quietest round's median) / p99`, in microseconds, each divided by `share`.
    fn cell(&self, share: u32) -> String {
        let micros = |duration: Duration| duration.as_secs_f64() * 1e6 / f64::from(share);
        format!(
            "{:.1} ({:.1}) / {:.1} µs",
            micros(self.median),
            micros(self.quietest_round_median),
            micros(self.p99)
        )
    }
}

/// Times each of `runs` `EVALUATIONS` times, after `WARM_UP` untimed runs, in `ROUNDS` rounds
/// that take turns: round 1 of every run, then round 2 of every run, and so on.
fn time_interleaved(runs: &mut [Box<dyn FnMut() + '_>]) -> Vec<Timing> {
    for run in runs.iter_mut() {
        for _ in 0..WARM_UP {
            run();
        }
    }
    let mut samples = vec![Vec::with_capacity(EVALUATIONS); runs.len()];
    let mut round_medians = vec![Vec::with_capacity(ROUNDS); runs.len()];
    for _ in 0..ROUNDS {
        for (index, run) in runs.iter_mut().enumerate() {
            let mut round: Vec<Duration> = (0..EVALUATIONS / ROUNDS)
                .map(|_| {
                    let start = Instant::now();
                    run();
                    start.elapsed()
                })
                .collect();
            round_medians[index].push(percentiles(&mut round).0);
            samples[index].extend(round);
        }
    }
    samples
        .into_iter()
        .zip(round_medians)
        .map(|(mut samples, medians)| {
            let (median, p99) = percentiles(&mut samples);
            Timing {
                median,
                p99,
                quietest_round_median: medians.into_iter().min().expect("at least one round"),
            }
        })
        .collect()
}

fn bench_loading() {
    println!("\n1. loading (median / p99 of {LOAD_SAMPLES} loads, a fresh host for each)");
    println!(
        "   {:<40} {:>18} {:>22} {:>22} {:>8}",
        "policy", "precompiled", "compile (no cache)", "disk cache hit", "wasm KB"
    );
    let cache = tempfile::tempdir().expect("temporary cache directory");
    let cached_host = || {
        PolicyHost::new(HostConfig {
            cache_dir: Some(cache.path().to_owned()),
            ..HostConfig::default()
        })
        .expect("policy host starts")
    };
    for builtin in BUILTIN_POLICIES {
        let source = format!("builtin:{}", builtin.name);
        // The same code as a user policy: an empty custom section changes the module's hash,
        // so it is compiled and cached instead of taken from the binary.
        let as_user_policy = [builtin.wasm, b"\0\x0c\x0buser-policy"].concat();
        let time_load = |host: PolicyHost, wasm: &[u8]| {
            let start = Instant::now();
            let policy = host.load(&source, wasm);
            let elapsed = start.elapsed();
            policy.unwrap_or_else(|error| panic!("{error}"));
            elapsed
        };
        let fresh_host = || PolicyHost::new(HostConfig::default()).expect("host starts");
        let mut precompiled: Vec<Duration> = (0..LOAD_SAMPLES)
            .map(|_| time_load(fresh_host(), builtin.wasm))
            .collect();
        let mut cold: Vec<Duration> = (0..LOAD_SAMPLES)
            .map(|_| time_load(fresh_host(), &as_user_policy))
            .collect();
        time_load(cached_host(), &as_user_policy);
        let mut cached: Vec<Duration> = (0..LOAD_SAMPLES)
            .map(|_| time_load(cached_host(), &as_user_policy))
            .collect();
        let [precompiled, cold, cached] =
            [&mut precompiled, &mut cold, &mut cached].map(|samples| {
                let (median, p99) = percentiles(samples);
                format!("{} / {}", millis(median), millis(p99))
            });
        println!(
            "   {:<40} {precompiled:>18} {cold:>22} {cached:>22} {:>8}",
            builtin.name,
            builtin.wasm.len() / 1024
        );
    }
}

fn bench_warm_evaluation(
    host: &PolicyHost,
    policies: &[LoadedPolicy],
    review: &Review,
    review_json: &[u8],
) {
    println!(
        "\n2. warm evaluation of the {} byte review: median (quietest round's median) / p99 of \
         {EVALUATIONS} in {ROUNDS} interleaved rounds; target: median at most 25 µs",
        review_json.len()
    );
    let verdicts: Vec<String> = policies
        .iter()
        .map(|policy| match policy.evaluate(review).outcome {
            PolicyOutcome::Allowed { .. } => "allowed".to_owned(),
            PolicyOutcome::Denied { violations, .. } => format!("denied {}", violations[0].code),
            PolicyOutcome::Error(error) => panic!("{error}"),
        })
        .collect();
    let set = PolicySet::all_builtins(BUILTIN_POLICIES).prepare(host, BUILTIN_POLICIES);
    let report = set.evaluate(review);
    assert!(
        report
            .policies
            .iter()
            .all(|policy| matches!(policy.outcome, Some(PolicyOutcome::Allowed { .. }))),
        "every built-in allows the benchmark review"
    );
    let set_size = u32::try_from(report.policies.len()).expect("a few policies");

    let limits = Limits::default();
    let mut runs: Vec<Box<dyn FnMut() + '_>> = Vec::new();
    for policy in policies {
        runs.push(Box::new(move || {
            std::hint::black_box(policy.evaluate(review));
        }));
        runs.push(Box::new(|| {
            std::hint::black_box(policy.evaluate_json(review_json, &limits));
        }));
        runs.push(Box::new(|| {
            std::hint::black_box(policy.evaluate_json(MINIMAL_REVIEW, &limits));
        }));
    }
    runs.push(Box::new(|| {
        std::hint::black_box(set.evaluate(review));
    }));
    runs.push(Box::new(|| {
        for policy in policies {
            std::hint::black_box(policy.evaluate_json(review_json, &limits));
        }
    }));
    assert_eq!(
        policies.len(),
        report.policies.len(),
        "the set is the built-ins"
    );
    let timings = time_interleaved(&mut runs);

    println!(
        "   {:<40} {:>28} {:>28} {:>28} {:>8}",
        "policy", "typed review", "review JSON", "minimal review JSON", "verdict"
    );
    for ((policy, verdict), timing) in policies.iter().zip(&verdicts).zip(timings.chunks(3)) {
        println!(
            "   {:<40} {:>28} {:>28} {:>28} {:>8}",
            policy.name(),
            timing[0].cell(1),
            timing[1].cell(1),
            timing[2].cell(1),
            verdict
        );
    }
    println!(
        "   {:<40} {:>28} {:>28}",
        "the built-in set, as policy check runs it", "whole set", "per policy"
    );
    let whole_sets = [
        format!("{set_size} policies, review serialised once"),
        format!("{set_size} policies in turn, review JSON, no set"),
    ];
    for (label, timing) in whole_sets.iter().zip(&timings[policies.len() * 3..]) {
        println!(
            "   {:<40} {:>28} {:>28}",
            label,
            timing.cell(1),
            timing.cell(set_size)
        );
    }
}

fn bench_native_wasm_rego(policies: &[LoadedPolicy], review_json: &[u8]) {
    let rule = "serving-certificate-covers-service-ip";
    println!(
        "\n3. one rule three ways ({rule}), review JSON in, verdict out: median (quietest \
         round's median) / p99 of {EVALUATIONS} in {ROUNDS} interleaved rounds"
    );
    let policy = policies
        .iter()
        .find(|policy| policy.name() == rule)
        .expect("the rule is built in");
    let limits = Limits::default();
    let review_text = std::str::from_utf8(review_json).expect("review JSON is UTF-8");

    let mut engine = regorus::Engine::new();
    engine
        .add_policy("serving_ip.rego".to_owned(), SERVING_IP_REGO.to_owned())
        .expect("Rego policy parses");
    let mut rego_allowed = || -> bool {
        engine
            .set_input_json(review_text)
            .expect("review is Rego input");
        let allowed = engine
            .eval_rule("data.acr.serving_ip.allowed".to_owned())
            .expect("rule evaluates");
        allowed == regorus::Value::from(true)
    };
    let native_allowed = || -> bool {
        let verdict = wasm_guest::abi::evaluate_json(
            review_json,
            serving_certificate_covers_service_ip::evaluate,
        );
        serde_json::from_slice::<Value>(&verdict).expect("verdict JSON")["allowed"] == true
    };
    let wasm_allowed = || match policy.evaluate_json(review_json, &limits).outcome {
        PolicyOutcome::Allowed { .. } => true,
        PolicyOutcome::Denied { .. } => false,
        PolicyOutcome::Error(error) => panic!("{error}"),
    };
    let answers = (native_allowed(), wasm_allowed(), rego_allowed());
    assert_eq!(answers, (true, true, true), "the three agree");

    let mut runs: Vec<Box<dyn FnMut() + '_>> = vec![
        Box::new(|| {
            std::hint::black_box(native_allowed());
        }),
        Box::new(|| {
            std::hint::black_box(wasm_allowed());
        }),
        Box::new(|| {
            std::hint::black_box(rego_allowed());
        }),
    ];
    let timings = time_interleaved(&mut runs);
    let ratio = |timing: &Timing| timing.median.as_secs_f64() / timings[0].median.as_secs_f64();
    println!(
        "   {:<40} {:>28} {:>12}",
        "implementation", "median (quietest) / p99", "× native"
    );
    for (name, timing) in [
        "native Rust (same crate, natively)",
        "WebAssembly in the engine (sandboxed)",
        "Rego on regorus",
    ]
    .into_iter()
    .zip(&timings)
    {
        println!(
            "   {:<40} {:>28} {:>12}",
            name,
            timing.cell(1),
            format!("{:.2}", ratio(timing))
        );
    }
    println!(
        "   WebAssembly / Rego: {:.2} (below 1: the sandboxed module is faster)",
        timings[1].median.as_secs_f64() / timings[2].median.as_secs_f64()
    );
}

/// A full certificate fact as the host writes it.
fn certificate(role: &str, subject: &str, issuer: &str, ips: &[&str], dns: &[&str]) -> Value {
    let is_ca = role != "serving";
    json!({
        "role": role,
        "keyMatches": if is_ca { Value::Null } else { Value::Bool(true) },
        "subject": subject,
        "issuer": issuer,
        "serial": "4f:2a:11:93:0c:55:e1:7b:2d:9a:01:44:be:61:0f:3c",
        "subjectAltNames": { "dns": dns, "ip": ips, "uri": [], "email": [] },
        "commonName": subject.trim_start_matches("CN="),
        "notBefore": "2026-01-01T00:00:00Z",
        "notAfter": "2027-01-01T00:00:00Z",
        "daysLeft": 180,
        "expired": false,
        "notYetValid": false,
        "publicKey": { "algorithm": "RSA", "bits": 4096, "curve": null, "description": "RSA 4096" },
        "signatureAlgorithm": "sha256WithRSAEncryption",
        "sha256Fingerprint": "9F:86:D0:81:88:4C:7D:65:9A:2F:EA:A0:C5:5A:D0:15:A3:BF:4F:1B:2B:0B:82:2C:D1:5D:6C:15:B0:F0:0A:08",
        "isCa": is_ca,
        "pathLen": if role == "intermediate" { json!(0) } else { Value::Null },
        "keyUsage": if is_ca { json!(["keyCertSign", "cRLSign"]) } else { json!(["digitalSignature", "keyEncipherment"]) },
        "extendedKeyUsage": if is_ca { json!([]) } else { json!(["serverAuth"]) },
        "subjectKeyId": "A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90:A1:B2:C3:D4",
        "authorityKeyId": "C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90:A1:B2:C3:D4:E5:F6",
        "selfSigned": role == "ca"
    })
}

/// A connected registry deployment with its own certificate chain, a connection string and
/// cluster facts: about 8 KB of JSON that every built-in policy allows.
fn review_8k() -> Value {
    let nodes: Vec<Value> = (1..=17)
        .map(|index| {
            json!({
                "name": format!("edge-node-{index}"),
                "internalIP": format!("10.20.0.{index}"),
                "containerRuntime": "containerd://1.7.24",
                "kubeletVersion": "v1.33.1",
                "labels": {
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    "containerd-configured": "true"
                }
            })
        })
        .collect();
    json!({
        "apiVersion": "acr.policy/v1",
        "operation": "deploy",
        "subject": "connected-registry",
        "object": {
            "service.clusterIP": "192.100.100.1",
            "pvc.storageClassName": "local-path",
            "pvc.storageRequest": "500Gi",
            "cert-manager.enabled": false,
            "cert-manager.install": false,
            "trustDistribution.enabled": true,
            "trustDistribution.skipNodeSelector": false,
            "protected": {
                "connectionString": {
                    "connectedRegistryName": "myconnectedregistry",
                    "auth": { "kind": "sync-token", "tokenName": "myconnectedregistry-sync-token", "password": "<redacted>" },
                    "parentGatewayEndpoint": "myregistry.eastus.data.azurecr.io",
                    "parentEndpointProtocol": "https"
                },
                "tls.crt": "3 certificates (PEM)",
                "tls.key": "<redacted>",
                "tls.cacrt": "1 certificate (PEM)"
            }
        },
        "facts": {
            "certificates": [
                certificate("serving", "CN=connected-registry", "CN=Example Issuing CA 2", &["192.100.100.1"], &["connected-registry.connected-registry.svc", "connected-registry.connected-registry.svc.cluster.local"]),
                certificate("intermediate", "CN=Example Issuing CA 2", "CN=Example Policy CA", &[], &[]),
                certificate("intermediate", "CN=Example Policy CA", "CN=Example Root CA", &[], &[]),
                certificate("ca", "CN=Example Root CA", "CN=Example Root CA", &[], &[])
            ],
            "cluster": {
                "serverVersion": "v1.33.1",
                "serviceCIDR": "192.100.0.0/16",
                "certManagerInstalled": false,
                "nodes": nodes
            }
        },
        "settings": null
    })
}

//! The name-matching table of acr-names (`acr-names/tests/cases.json`) run through both sides that
//! match names: `kubectl acr cert verify` on a certificate generated with the case's one
//! subjectAltName, and `kubectl acr policy check` on a review whose serving certificate has that
//! subjectAltName (the built-in `serving-certificate-covers-service-ip` checks it). rustls, the
//! TLS client of these tools, is asked too, so the table states what clients do.

use std::net::IpAddr;
use std::path::Path;

use acr_tests::{Run, kubectl_acr_command, path_text, run_with_stdin};
use rcgen::{CertificateParams, KeyPair, SanType};
use rustls::pki_types::{CertificateDer, ServerName};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
struct Case {
    san: String,
    host: String,
    covered: bool,
    why: String,
}

#[derive(Debug, Deserialize)]
struct Table {
    cases: Vec<Case>,
}

fn table() -> Vec<Case> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../acr-names/tests/cases.json");
    let text = std::fs::read_to_string(&path).expect("read the name-matching table");
    let table: Table = serde_json::from_str(&text).expect("the table parses");
    table.cases
}

/// The subjectAltName of a case, as rcgen writes it.
fn san(case: &Case) -> SanType {
    match case.san.split_once(':') {
        Some(("DNS", name)) => SanType::DnsName(name.try_into().expect("an IA5 name")),
        Some(("IP", ip)) => SanType::IpAddress(ip.parse().expect("an IP SAN")),
        _ => panic!("SAN {:?} is neither DNS: nor IP:", case.san),
    }
}

/// A self-signed serving certificate (DER) with the case's one subjectAltName.
fn certificate(case: &Case) -> (Vec<u8>, String) {
    let mut params = CertificateParams::default();
    params.subject_alt_names = vec![san(case)];
    let key = KeyPair::generate().expect("key");
    let certificate = params.self_signed(&key).expect("certificate");
    (certificate.der().to_vec(), certificate.pem())
}

/// A host that parses as an IP address is an address; anything else is a host name.
fn host_ip(case: &Case) -> Option<IpAddr> {
    case.host.parse().ok()
}

fn kubectl_acr(args: &[&str]) -> Run {
    run_with_stdin(
        kubectl_acr_command(Path::new(env!("CARGO_TARGET_TMPDIR"))).args(args),
        b"",
    )
}

/// `cert verify`'s `san-covers` outcome for the case.
fn cert_verify_covers(case: &Case, cert: &Path) -> bool {
    let flag = if host_ip(case).is_some() {
        "--ip"
    } else {
        "--dns"
    };
    let name = format!("{flag}={}", case.host);
    let run = kubectl_acr(&[
        "cert",
        "verify",
        "--cert",
        path_text(cert),
        &name,
        "-o",
        "json",
    ]);
    let report: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|error| panic!("cert verify printed no JSON ({error}): {run:?}"));
    let outcomes: Vec<&str> = report["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("no checks: {run:?}"))
        .iter()
        .filter(|check| check["name"] == "san-covers")
        .map(|check| check["outcome"].as_str().expect("outcome"))
        .collect();
    assert_eq!(outcomes.len(), 1, "one san-covers check: {run:?}");
    outcomes[0] == "pass"
}

/// A fixture review of the built-in policy, with the case's host and subjectAltName.
fn review(case: &Case) -> Value {
    let (fixture_name, names) = match host_ip(case) {
        Some(_) => ("own-certificate-covers-service-ip.json", "ip"),
        None => ("custom-domain-covered.json", "dns"),
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../policies/serving-certificate-covers-service-ip/fixtures")
        .join(fixture_name);
    let text = std::fs::read_to_string(&path).expect("read the policy fixture");
    let mut review: Value = serde_json::from_str(&text).expect("fixture parses");
    let mut review = review["review"].take();
    let (kind, value) = case.san.split_once(':').expect("DNS: or IP:");
    let mut sans = json!({ "dns": [], "ip": [], "uri": [], "email": [] });
    sans[kind.to_ascii_lowercase()] = json!([value]);
    let certificates = review["facts"]["certificates"]
        .as_array_mut()
        .expect("certificates");
    certificates.truncate(1);
    certificates[0]["subjectAltNames"] = sans;
    match names {
        "ip" => review["object"]["service.clusterIP"] = json!(case.host),
        _ => {
            review["object"]["registryDomain"] = json!(case.host);
            review["object"]["dataDomains"] = json!({});
        }
    }
    review
}

/// Whether `policy check` finds the case's host covered (no SAN_MISSING_* violation).
fn policy_check_covers(case: &Case, dir: &Path, index: usize) -> bool {
    let path = dir.join(format!("review-{index}.json"));
    std::fs::write(&path, review(case).to_string()).expect("write review");
    let run = kubectl_acr(&["policy", "check", "--input", path_text(&path), "-o", "json"]);
    assert!(
        matches!(run.code, Some(0 | 3)) && run.stdout.contains("serving-certificate-covers"),
        "policy check ran the built-in policies: {run:?}"
    );
    !run.stdout.contains("SAN_MISSING_SERVICE_IP") && !run.stdout.contains("SAN_MISSING_DOMAIN")
}

/// What rustls (rustls-webpki) decides for the case.
fn rustls_covers(case: &Case, der: &[u8]) -> bool {
    let der = CertificateDer::from(der);
    let parsed = rustls::server::ParsedCertificate::try_from(&der).expect("rustls parses it");
    match ServerName::try_from(case.host.as_str()) {
        Ok(name) => rustls::client::verify_server_name(&parsed, &name).is_ok(),
        Err(_) => false,
    }
}

#[test]
fn cert_verify_policy_check_and_rustls_agree_with_the_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut wrong = Vec::new();
    for (index, case) in table().iter().enumerate() {
        let (der, pem) = certificate(case);
        let cert = dir.path().join(format!("case-{index}.crt"));
        std::fs::write(&cert, pem).expect("write certificate");
        let verdicts = [
            ("rustls", rustls_covers(case, &der)),
            ("cert verify", cert_verify_covers(case, &cert)),
            ("policy check", policy_check_covers(case, dir.path(), index)),
        ];
        for (side, covered) in verdicts {
            if covered != case.covered {
                wrong.push(format!(
                    "{side}: {} for {}: covered {covered}, the table says {} ({})",
                    case.san, case.host, case.covered, case.why
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

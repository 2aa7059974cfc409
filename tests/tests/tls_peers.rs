//! Certificates from `acr_core::tls` checked by independent readers: `openssl` verifies and
//! prints them, Debian's `docker-registry` serves them and `curl` connects to it on 127.0.0.1.

use std::fs;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use acr_core::fsio::Overwrite;
use acr_core::tls::{
    CertificateAuthority, GenerateOptions, GeneratedBundle, KeyType, Outcome, VerifyRequest,
    describe, generate, load_certificates, load_private_key, verify, write_bundle,
};
use acr_tests::peers::DockerRegistry;
use acr_tests::{fixture, require_tool, run};
use time::OffsetDateTime;

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn bundle_for(ips: &[IpAddr], key_type: KeyType) -> GeneratedBundle {
    let mut options = GenerateOptions::new(OffsetDateTime::now_utc());
    options.ips = ips.to_vec();
    options.dns_names = vec!["registry.local".to_owned()];
    options.key_type = key_type;
    generate(&options, None).expect("generate")
}

fn write_to(bundle: &GeneratedBundle, dir: &Path) {
    write_bundle(bundle, dir, Overwrite::Refuse).expect("write bundle");
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

fn openssl(args: &[&str]) -> String {
    run(require_tool("openssl"), args).success()
}

#[test]
fn openssl_verifies_and_reads_every_key_type() {
    for key_type in KeyType::ALL {
        let dir = tempfile::tempdir().expect("tempdir");
        let bundle = bundle_for(&["10.0.0.1".parse().expect("ip")], key_type);
        write_to(&bundle, dir.path());
        let ca = dir.path().join("ca.crt");
        let leaf = dir.path().join("tls.crt");
        let key = dir.path().join("tls.key");

        let verified = openssl(&[
            "verify",
            "-x509_strict",
            "-purpose",
            "sslserver",
            "-CAfile",
            path_str(&ca),
            path_str(&leaf),
        ]);
        assert_eq!(
            verified.trim(),
            format!("{}: OK", leaf.display()),
            "{key_type}"
        );

        let text = openssl(&["x509", "-in", path_str(&leaf), "-noout", "-text"]);
        for expected in [
            "IP Address:10.0.0.1",
            "DNS:registry.local",
            "CA:FALSE",
            "TLS Web Server Authentication",
            "Subject: CN = registry.local, O = Azure Container Registry connected registry",
        ] {
            assert!(
                text.contains(expected),
                "{key_type}: no {expected:?} in\n{text}"
            );
        }
        let key_line = match key_type {
            KeyType::EcdsaP256 => "NIST CURVE: P-256",
            KeyType::EcdsaP384 => "NIST CURVE: P-384",
            KeyType::Rsa2048 => "Public-Key: (2048 bit)",
            KeyType::Rsa3072 => "Public-Key: (3072 bit)",
            KeyType::Rsa4096 => "Public-Key: (4096 bit)",
        };
        assert!(
            text.contains(key_line),
            "{key_type}: no {key_line:?} in\n{text}"
        );

        let ca_text = openssl(&["x509", "-in", path_str(&ca), "-noout", "-text"]);
        assert!(
            ca_text.contains("CA:TRUE, pathlen:0"),
            "{key_type}:\n{ca_text}"
        );
        assert!(
            ca_text.contains("Certificate Sign, CRL Sign"),
            "{key_type}:\n{ca_text}"
        );

        // openssl's view of the key pair and of the certificate's key agree.
        let from_key = openssl(&["pkey", "-in", path_str(&key), "-pubout"]);
        let from_certificate = openssl(&["x509", "-in", path_str(&leaf), "-noout", "-pubkey"]);
        assert_eq!(from_key, from_certificate, "{key_type}");

        // Our description matches openssl's fingerprint and serial.
        let der = load_certificates(bundle.leaf.cert_pem.as_bytes())
            .expect("load")
            .certificates
            .remove(0)
            .der;
        let info = describe(&der, OffsetDateTime::now_utc()).expect("describe");
        let fingerprint = openssl(&[
            "x509",
            "-in",
            path_str(&leaf),
            "-noout",
            "-fingerprint",
            "-sha256",
        ]);
        assert_eq!(
            fingerprint.trim(),
            format!("sha256 Fingerprint={}", info.sha256_fingerprint),
            "{key_type}"
        );
        let serial = openssl(&["x509", "-in", path_str(&leaf), "-noout", "-serial"]);
        assert_eq!(
            serial.trim(),
            format!("serial={}", info.serial.replace(':', "").to_uppercase()),
            "{key_type}"
        );
    }
}

#[test]
fn openssl_verifies_a_leaf_signed_by_an_openssl_made_ca() {
    let root_crt = fs::read_to_string(fixture("tls/root-ca.crt")).expect("fixture");
    let root_key = fs::read_to_string(fixture("tls/root-ca.key")).expect("fixture");
    let ca = CertificateAuthority::from_pem(&root_crt, &root_key).expect("fixture CA");
    let mut options = GenerateOptions::new(OffsetDateTime::now_utc());
    options.ips = vec!["10.0.0.1".parse().expect("ip")];
    let bundle = generate(&options, Some(&ca)).expect("generate");
    let dir = tempfile::tempdir().expect("tempdir");
    write_to(&bundle, dir.path());
    assert!(
        !dir.path().join("ca.key").exists(),
        "the given CA's key is not copied"
    );
    let leaf = dir.path().join("tls.crt");
    let verified = openssl(&[
        "verify",
        "-x509_strict",
        "-purpose",
        "sslserver",
        "-CAfile",
        path_str(&fixture("tls/root-ca.crt")),
        path_str(&leaf),
    ]);
    assert_eq!(verified.trim(), format!("{}: OK", leaf.display()));
}

/// Debian's docker-registry serving `dir/tls.crt` and `dir/tls.key`.
fn start_registry(dir: &Path) -> DockerRegistry {
    DockerRegistry::start(dir, &dir.join("tls.crt"), &dir.join("tls.key"), "")
}

fn registry_url(registry: &DockerRegistry) -> String {
    format!("https://{}/v2/", registry.host())
}

/// Runs curl against `url` trusting only `ca`; returns (exit code, HTTP status, stderr).
fn curl(ca: &Path, url: &str) -> (Option<i32>, String, String) {
    let result = run(
        require_tool("curl"),
        [
            "--silent",
            "--show-error",
            "--max-time",
            "10",
            "--cacert",
            path_str(ca),
            "--output",
            "/dev/null",
            "--write-out",
            "%{http_code}",
            url,
        ],
    );
    (result.code, result.stdout, result.stderr)
}

fn verify_for_loopback(bundle: &GeneratedBundle) -> acr_core::tls::VerifyReport {
    let mut request = VerifyRequest::new(
        load_certificates(bundle.leaf.cert_pem.as_bytes())
            .expect("load leaf")
            .certificates,
        OffsetDateTime::now_utc(),
    );
    request.private_key = Some(load_private_key(bundle.leaf.key_pem.as_bytes()).expect("key"));
    request.trust_anchors = load_certificates(bundle.ca_cert_pem.as_bytes())
        .expect("load CA")
        .certificates;
    request.ips = vec![LOOPBACK];
    verify(&request)
}

#[test]
fn docker_registry_serves_the_generated_certificate_to_curl() {
    for key_type in [KeyType::EcdsaP256, KeyType::Rsa2048] {
        let dir = tempfile::tempdir().expect("tempdir");
        let bundle = bundle_for(&[LOOPBACK], key_type);
        write_to(&bundle, dir.path());
        let registry = start_registry(dir.path());

        let (code, status, stderr) = curl(&dir.path().join("ca.crt"), &registry_url(&registry));
        assert_eq!(
            (code, status.as_str()),
            (Some(0), "200"),
            "{key_type}: curl failed: {stderr}\nregistry log:\n{}",
            registry.peer.log_text()
        );
        let report = verify_for_loopback(&bundle);
        assert!(report.passed(), "{key_type}:\n{}", report.to_text());
    }
}

#[test]
fn a_certificate_without_the_loopback_ip_is_rejected_by_curl_and_by_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = bundle_for(&["10.9.9.9".parse().expect("ip")], KeyType::EcdsaP256);
    write_to(&bundle, dir.path());
    let registry = start_registry(dir.path());

    let (code, status, stderr) = curl(&dir.path().join("ca.crt"), &registry_url(&registry));
    assert_eq!(
        code,
        Some(60),
        "curl must refuse the certificate (exit 60), got {code:?} status {status}: {stderr}"
    );
    assert!(
        stderr.contains("127.0.0.1"),
        "curl should name the address it could not match: {stderr}"
    );

    let report = verify_for_loopback(&bundle);
    let failures: Vec<_> = report.failures().collect();
    assert_eq!(failures.len(), 1, "{}", report.to_text());
    assert_eq!(failures[0].name, "san-covers");
    assert_eq!(failures[0].subject, "IP 127.0.0.1");
    assert_eq!(failures[0].outcome, Outcome::Fail);
    assert!(
        failures[0].detail.contains("IP:10.9.9.9"),
        "{}",
        failures[0].detail
    );
}

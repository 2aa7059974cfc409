//! The checks of `cert verify` on openssl fixtures and on chains made here.

use rcgen::{ExtendedKeyUsagePurpose, SanType};
use time::Duration;

use super::*;
use crate::tls::test_support::{
    TestCa, bundle_for, certificates, fixture, now, params, private_key,
};

fn chain_of(pems: &[&str]) -> Vec<LoadedCertificate> {
    pems.iter()
        .flat_map(|pem_text| certificates(pem_text))
        .collect()
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("ip")
}

/// The server fixture with its intermediate, the root as CA, its key and its names.
fn fixture_request(chain: &[&str]) -> VerifyRequest {
    let mut request = VerifyRequest::new(chain_of(chain), now());
    request.trust_anchors = certificates(fixture!("root-ca.crt"));
    request.private_key = Some(private_key(fixture!("server.key")));
    request.ips = vec![ip("10.0.0.1")];
    request.dns_names = vec!["registry.example.com".to_owned()];
    request
}

fn only<'r>(report: &'r VerifyReport, name: &str, outcome: Outcome) -> Vec<&'r Check> {
    report
        .checks
        .iter()
        .filter(|check| check.name == name && check.outcome == outcome)
        .collect()
}

fn failure_names(report: &VerifyReport) -> Vec<&str> {
    report.failures().map(|check| check.name.as_str()).collect()
}

#[test]
fn a_good_openssl_chain_passes_every_check() {
    let request = fixture_request(&[fixture!("server.crt"), fixture!("intermediate-ca.crt")]);
    let report = verify(&request);
    assert!(report.passed(), "{}", report.to_text());
    assert_eq!(report.warnings().count(), 0, "{}", report.to_text());
    let names: Vec<&str> = report
        .checks
        .iter()
        .map(|check| check.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "key-matches",
            "chain-order",
            "signature",
            "ca-flags",
            "signature",
            "ca-flags",
            "trust-anchor",
            "ca-flags",
            "validity",
            "validity",
            "validity",
            "not-cn-only",
            "san-covers",
            "san-covers",
            "server-auth",
            "key-usage",
        ],
        "{}",
        report.to_text()
    );
    let san = only(&report, "san-covers", Outcome::Pass);
    assert_eq!(san[0].subject, "IP 10.0.0.1");
    assert_eq!(san[1].subject, "DNS registry.example.com");
    assert_eq!(san[1].detail, "covered by DNS:registry.example.com");
    let anchor = only(&report, "trust-anchor", Outcome::Pass);
    assert_eq!(anchor[0].subject, "CN=Fixture Root CA, O=acr tests");
}

#[test]
fn a_chain_that_includes_the_given_root_uses_it_once() {
    let request = fixture_request(&[
        fixture!("server.crt"),
        fixture!("intermediate-ca.crt"),
        fixture!("root-ca.crt"),
    ]);
    let report = verify(&request);
    assert!(report.passed(), "{}", report.to_text());
    assert_eq!(report.warnings().count(), 0, "{}", report.to_text());
    assert_eq!(only(&report, "validity", Outcome::Pass).len(), 3);
    assert_eq!(
        only(&report, "chain-order", Outcome::Pass)[0].detail,
        "3 certificates, each issued by the next"
    );
}

#[test]
fn json_has_passed_and_lowercase_outcomes() {
    let bundle = bundle_for(&["10.0.0.1"], &[]);
    let mut request = VerifyRequest::new(certificates(&bundle.leaf.cert_pem), now());
    request.ips = vec![ip("10.9.9.9")];
    let report = verify(&request);
    let json = serde_json::to_value(&report).expect("serialize");
    assert_eq!(json["passed"], false);
    let checks = json["checks"].as_array().expect("checks");
    assert_eq!(checks.len(), report.checks.len());
    let failed = checks
        .iter()
        .find(|check| check["outcome"] == "fail")
        .expect("a failure");
    assert_eq!(failed["name"], "san-covers");
    assert_eq!(failed["subject"], "IP 10.9.9.9");
    assert!(checks.iter().any(|check| check["outcome"] == "warn"));
    assert!(checks.iter().any(|check| check["outcome"] == "pass"));
}

#[test]
fn a_key_of_another_certificate_fails_key_matches() {
    let bundle = bundle_for(&["10.0.0.1"], &[]);
    let other = bundle_for(&["10.0.0.1"], &[]);
    let mut request = VerifyRequest::new(certificates(&bundle.leaf.cert_pem), now());
    request.private_key = Some(private_key(&other.leaf.key_pem));
    let report = verify(&request);
    assert_eq!(
        failure_names(&report),
        ["key-matches"],
        "{}",
        report.to_text()
    );
    assert!(
        report.checks[0]
            .detail
            .starts_with("the private key (ECDSA P-256) does not belong to this certificate (its key is ECDSA P-256)"),
        "{}",
        report.checks[0].detail
    );

    request.private_key = Some(private_key(fixture!("root-ca.key")));
    let report = verify(&request);
    assert!(
        report.checks[0].detail.starts_with(
            "the private key (RSA 2048) does not belong to this certificate (its key is ECDSA P-256)"
        ),
        "{}",
        report.checks[0].detail
    );
}

#[test]
fn an_out_of_order_chain_says_which_position_and_the_right_order() {
    let request = fixture_request(&[fixture!("intermediate-ca.crt"), fixture!("server.crt")]);
    let report = verify(&request);
    let order = only(&report, "chain-order", Outcome::Fail);
    assert_eq!(order.len(), 1, "{}", report.to_text());
    assert_eq!(
        order[0].detail,
        "position 1 (CN=Fixture Intermediate CA, O=acr tests) was issued by CN=Fixture Root \
         CA, O=acr tests, but position 2 is CN=registry.example.com, O=acr tests; the right \
         order is: CN=registry.example.com, O=acr tests (2), CN=Fixture Intermediate CA, \
         O=acr tests (1) (current positions in brackets)"
    );
    // The first certificate is what a server would present: it is a CA without the names.
    let failures = failure_names(&report);
    assert!(failures.contains(&"key-matches"), "{failures:?}");
    assert!(failures.contains(&"san-covers"), "{failures:?}");
    assert_eq!(only(&report, "chain-unused", Outcome::Warn).len(), 1);
}

#[test]
fn a_missing_intermediate_names_the_issuer_looked_for() {
    let request = fixture_request(&[fixture!("server.crt")]);
    let report = verify(&request);
    assert_eq!(
        failure_names(&report),
        ["trust-anchor"],
        "{}",
        report.to_text()
    );
    let failure = report.failures().next().expect("failure");
    assert_eq!(failure.subject, "CN=registry.example.com, O=acr tests");
    assert_eq!(
        failure.detail,
        "the chain does not reach the given CA (CN=Fixture Root CA, O=acr tests): this \
         certificate was issued by CN=Fixture Intermediate CA, O=acr tests, which is neither \
         in the chain nor the given CA (missing intermediate?)"
    );
}

#[test]
fn without_a_ca_an_unrooted_chain_is_only_a_warning() {
    let mut request = fixture_request(&[fixture!("server.crt"), fixture!("intermediate-ca.crt")]);
    request.trust_anchors.clear();
    let report = verify(&request);
    assert!(report.passed(), "{}", report.to_text());
    let warnings: Vec<_> = report.warnings().collect();
    assert_eq!(warnings.len(), 1, "{}", report.to_text());
    assert_eq!(warnings[0].name, "trust-anchor");
    assert!(
        warnings[0].detail.starts_with("issued by CN=Fixture Root CA, O=acr tests, which is not in the chain; give that CA with --ca"),
        "{}",
        warnings[0].detail
    );
}

#[test]
fn a_different_ca_with_the_same_name_is_a_signature_failure() {
    let bundle = bundle_for(&["10.0.0.1"], &[]);
    let impostor = bundle_for(&["10.0.0.1"], &[]);
    let mut request = VerifyRequest::new(certificates(&bundle.leaf.cert_pem), now());
    request.trust_anchors = certificates(&impostor.ca_cert_pem);
    let report = verify(&request);
    assert_eq!(
        failure_names(&report),
        ["signature"],
        "{}",
        report.to_text()
    );
    assert!(
        report
            .failures()
            .next()
            .expect("failure")
            .detail
            .ends_with("(the given CA): a different key with the same name signed it (wrong CA?)"),
        "{}",
        report.to_text()
    );
}

#[test]
fn an_unrelated_ca_is_not_reached() {
    let bundle = bundle_for(&["10.0.0.1"], &[]);
    let mut request = VerifyRequest::new(certificates(&bundle.leaf.cert_pem), now());
    request.trust_anchors = certificates(fixture!("root-ca.crt"));
    let report = verify(&request);
    assert_eq!(
        failure_names(&report),
        ["trust-anchor"],
        "{}",
        report.to_text()
    );
    assert!(
        report
            .failures()
            .next()
            .expect("failure")
            .detail
            .starts_with("the chain does not reach the given CA (CN=Fixture Root CA, O=acr tests)"),
        "{}",
        report.to_text()
    );

    let self_signed_root = chain_of(&[&bundle.leaf.cert_pem, &bundle.ca_cert_pem]);
    request.chain = self_signed_root;
    let report = verify(&request);
    let failure = report.failures().next().expect("failure");
    assert_eq!(failure.name, "trust-anchor");
    assert_eq!(
        failure.detail,
        "the chain ends at this self-signed certificate, which is not the given CA \
         (CN=Fixture Root CA, O=acr tests)"
    );
}

#[test]
fn expired_and_not_yet_valid_certificates_fail_validity_with_dates() {
    let bundle = bundle_for(&["10.0.0.1"], &[]);
    let mut request = VerifyRequest::new(certificates(&bundle.leaf.cert_pem), now());
    request.trust_anchors = certificates(&bundle.ca_cert_pem);
    request.now = now() + Duration::days(400);
    let report = verify(&request);
    let expired = only(&report, "validity", Outcome::Fail);
    assert_eq!(expired.len(), 1, "{}", report.to_text());
    assert_eq!(
        expired[0].detail,
        "expired on 2027-03-01T12:00:00Z (35 days ago)"
    );
    assert_eq!(
        only(&report, "validity", Outcome::Pass).len(),
        1,
        "the CA is fine"
    );

    request.now = now() - Duration::days(1);
    let report = verify(&request);
    let early = only(&report, "validity", Outcome::Fail);
    assert_eq!(early.len(), 2, "{}", report.to_text());
    assert!(
        early[0]
            .detail
            .starts_with("not valid before 2026-03-01T11:55:00Z"),
        "{}",
        early[0].detail
    );

    request.now = now() + Duration::days(350);
    let report = verify(&request);
    assert!(report.passed());
    let soon = only(&report, "validity", Outcome::Warn);
    assert_eq!(soon.len(), 1, "{}", report.to_text());
    assert!(
        soon[0].detail.ends_with("(15 days left)"),
        "{}",
        soon[0].detail
    );
}

#[test]
fn a_missing_ip_is_reported_with_the_names_the_certificate_has() {
    let bundle = bundle_for(&["10.0.0.1"], &["registry.local"]);
    let mut request = VerifyRequest::new(certificates(&bundle.leaf.cert_pem), now());
    request.ips = vec![ip("10.0.0.1"), ip("10.9.9.9")];
    request.dns_names = vec!["registry.local".to_owned(), "other.local".to_owned()];
    let report = verify(&request);
    let missing: Vec<(&str, &str)> = report
        .failures()
        .map(|check| (check.subject.as_str(), check.detail.as_str()))
        .collect();
    assert_eq!(
        missing,
        [
            (
                "IP 10.9.9.9",
                "not in the certificate's subjectAltName (DNS:registry.local, IP:10.0.0.1)"
            ),
            (
                "DNS other.local",
                "not in the certificate's subjectAltName (DNS:registry.local, IP:10.0.0.1)"
            ),
        ]
    );
}

#[test]
fn a_dns_entry_spelling_the_ip_does_not_cover_it() {
    let ca = TestCa::new("Odd CA", None);
    let mut leaf = params("10.0.0.1");
    leaf.subject_alt_names = vec![SanType::DnsName("10.0.0.1".try_into().expect("ia5"))];
    let mut request = VerifyRequest::new(certificates(&ca.issue(&leaf)), now());
    request.ips = vec![ip("10.0.0.1")];
    let report = verify(&request);
    let failure = only(&report, "san-covers", Outcome::Fail);
    assert_eq!(
        failure[0].detail,
        "not in the certificate's subjectAltName (DNS:10.0.0.1); a DNS entry spells \
         10.0.0.1, but clients match IP addresses only against IP entries; the CN is \
         10.0.0.1, but clients ignore the CN"
    );
}

#[test]
fn a_cn_only_certificate_is_reported() {
    let mut request = fixture_request(&[fixture!("cn-only.crt")]);
    request.dns_names = vec!["registry.example.com".to_owned()];
    let report = verify(&request);
    assert_eq!(
        failure_names(&report),
        ["not-cn-only", "san-covers", "san-covers"],
        "{}",
        report.to_text()
    );
    let cn_only = only(&report, "not-cn-only", Outcome::Fail);
    assert_eq!(
        cn_only[0].detail,
        "CN=registry.example.com only; Go, containerd and browsers ignore the CN, add a \
         subjectAltName"
    );
    let dns = only(&report, "san-covers", Outcome::Fail);
    assert_eq!(
        dns[1].detail,
        "not in the certificate's subjectAltName (none); the CN is registry.example.com, \
         but clients ignore the CN"
    );
}

#[test]
fn a_serving_certificate_that_is_a_ca_is_a_warning() {
    let mut request = VerifyRequest::new(certificates(fixture!("ca-as-leaf.crt")), now());
    request.private_key = Some(private_key(fixture!("server.key")));
    request.ips = vec![ip("10.0.0.1")];
    let report = verify(&request);
    assert!(report.passed(), "{}", report.to_text());
    let warnings: Vec<_> = report.warnings().collect();
    assert_eq!(warnings.len(), 1, "{}", report.to_text());
    assert_eq!(warnings[0].name, "ca-flags");
    assert!(
        warnings[0]
            .detail
            .starts_with("the serving certificate is a CA")
    );
    let anchor = only(&report, "trust-anchor", Outcome::Pass);
    assert!(
        anchor[0]
            .detail
            .starts_with("the chain ends at this self-signed certificate")
    );

    // Trusting the self-signed certificate itself reaches it without CA checks on it.
    request.trust_anchors = certificates(fixture!("ca-as-leaf.crt"));
    let report = verify(&request);
    assert!(report.passed(), "{}", report.to_text());
}

#[test]
fn an_extended_key_usage_without_server_auth_fails() {
    let mut request = fixture_request(&[fixture!("client-auth-only.crt")]);
    request.dns_names.clear();
    let report = verify(&request);
    assert_eq!(
        failure_names(&report),
        ["server-auth"],
        "{}",
        report.to_text()
    );
    assert_eq!(
        report.failures().next().expect("failure").detail,
        "extendedKeyUsage (clientAuth) lacks serverAuth; TLS clients refuse it for a server"
    );
}

#[test]
fn issuers_must_be_cas_within_their_path_length() {
    let root = TestCa::new("Strict Root", Some(0));
    let sub = root.issue_ca("Sub CA");
    let mut leaf = params("leaf");
    leaf.subject_alt_names = vec![SanType::IpAddress(ip("10.0.0.1"))];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let mut request = VerifyRequest::new(chain_of(&[&sub.issue(&leaf), &sub.cert_pem]), now());
    request.trust_anchors = certificates(&root.cert_pem);
    let report = verify(&request);
    assert_eq!(failure_names(&report), ["ca-flags"], "{}", report.to_text());
    let failure = report.failures().next().expect("failure");
    assert_eq!(failure.subject, "CN=Strict Root");
    assert_eq!(
        failure.detail,
        "its pathlen 0 allows 0 intermediate CA(s) below it, but 1 follow"
    );

    // A leaf signed by a certificate that is not a CA.
    let not_a_ca_key = rcgen::KeyPair::generate().expect("key");
    let mut not_a_ca = params("Not A CA");
    not_a_ca.is_ca = rcgen::IsCa::ExplicitNoCa;
    let not_a_ca_pem = not_a_ca
        .self_signed(&not_a_ca_key)
        .expect("self-sign")
        .pem();
    let issuer = rcgen::Issuer::new(not_a_ca, not_a_ca_key);
    let leaf_key = rcgen::KeyPair::generate().expect("key");
    let leaf_pem = leaf.signed_by(&leaf_key, &issuer).expect("sign").pem();
    let mut request = VerifyRequest::new(certificates(&leaf_pem), now());
    request.trust_anchors = certificates(&not_a_ca_pem);
    let report = verify(&request);
    assert_eq!(failure_names(&report), ["ca-flags"], "{}", report.to_text());
    assert_eq!(
        report.failures().next().expect("failure").detail,
        "it is not a CA (basicConstraints CA:true is missing), yet it issued CN=leaf"
    );
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let bundle = bundle_for(&["10.0.0.1"], &[]);
    let other = bundle_for(&["10.0.0.1"], &[]);
    let mut request = VerifyRequest::new(certificates(&bundle.leaf.cert_pem), now());
    request.now = now() + Duration::days(400);
    request.private_key = Some(private_key(&other.leaf.key_pem));
    request.ips = vec![ip("10.9.9.9")];
    request.trust_anchors = certificates(fixture!("root-ca.crt"));
    let report = verify(&request);
    assert_eq!(
        failure_names(&report),
        ["key-matches", "trust-anchor", "validity", "san-covers"],
        "{}",
        report.to_text()
    );
    let text = report.to_text();
    assert!(
        text.ends_with("FAILED: 4 failed, 0 warnings, 4 passed\n"),
        "{text}"
    );
    assert!(
        text.contains("FAIL  san-covers    IP 10.9.9.9: not in the certificate's"),
        "{text}"
    );
}

#[test]
fn an_empty_chain_fails() {
    let report = verify(&VerifyRequest::new(Vec::new(), now()));
    assert!(!report.passed());
    assert_eq!(report.checks[0].detail, "no certificate to verify");
}

#[test]
fn an_unparsable_certificate_in_the_middle_does_not_stop_the_rest() {
    let mut chain = chain_of(&[fixture!("server.crt")]);
    chain.push(LoadedCertificate {
        origin: "PEM block 2".to_owned(),
        der: vec![0x30, 0x00],
    });
    chain.extend(chain_of(&[fixture!("intermediate-ca.crt")]));
    let mut request = fixture_request(&[]);
    request.chain = chain;
    let report = verify(&request);
    assert_eq!(failure_names(&report), ["parse"], "{}", report.to_text());
    assert_eq!(
        report.checks[0].detail,
        "not a valid certificate: Parsing requires 1 bytes/chars"
    );
    assert_eq!(only(&report, "trust-anchor", Outcome::Pass).len(), 1);
}

#[test]
fn an_unparsable_certificate_is_a_parse_failure() {
    let chain = vec![LoadedCertificate {
        origin: "tls.crt #1".to_owned(),
        der: vec![0x30, 0x03, 0x02, 0x01, 0x01],
    }];
    let report = verify(&VerifyRequest::new(chain, now()));
    assert_eq!(failure_names(&report), ["parse"]);
    assert_eq!(report.checks[0].subject, "tls.crt #1");
}

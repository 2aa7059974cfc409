//! Helpers shared by the toolkit's unit tests: a fixed clock, the openssl-made fixtures, and
//! quick ways to make ordinary and odd certificates.

use std::net::IpAddr;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use time::OffsetDateTime;
use time::macros::datetime;

use super::{
    GenerateOptions, GeneratedBundle, LoadedCertificate, PrivateKey, generate, load_certificates,
    load_private_key,
};

/// Reads a file of `tests/fixtures/tls/` at compile time.
macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/tls/",
            $name
        ))
    };
}
pub(crate) use fixture;

/// The time all tests run at: inside every fixture's validity.
pub(crate) fn now() -> OffsetDateTime {
    datetime!(2026-03-01 12:00:00 UTC)
}

/// The certificates of a PEM text.
pub(crate) fn certificates(pem: &str) -> Vec<LoadedCertificate> {
    load_certificates(pem.as_bytes())
        .expect("test PEM loads")
        .certificates
}

/// The private key of a PEM text.
pub(crate) fn private_key(pem: &str) -> PrivateKey {
    load_private_key(pem.as_bytes()).expect("test key loads")
}

/// A P-256 bundle with a generated CA for the given names.
pub(crate) fn bundle_for(ips: &[&str], dns_names: &[&str]) -> GeneratedBundle {
    let mut options = GenerateOptions::new(now());
    options.ips = ips
        .iter()
        .map(|ip| ip.parse::<IpAddr>().expect("test IP"))
        .collect();
    options.dns_names = dns_names.iter().map(|name| (*name).to_owned()).collect();
    generate(&options, None).expect("generate")
}

/// A CA made directly with rcgen, for certificates our generator refuses to make.
pub(crate) struct TestCa {
    pub cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl TestCa {
    /// A P-256 CA named `common_name`, with `path_len` if given, valid 2025-2125.
    pub fn new(common_name: &str, path_len: Option<u8>) -> Self {
        let key = KeyPair::generate().expect("CA key");
        let mut params = params(common_name);
        params.is_ca = IsCa::Ca(match path_len {
            Some(limit) => BasicConstraints::Constrained(limit),
            None => BasicConstraints::Unconstrained,
        });
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert_pem = params.self_signed(&key).expect("self-sign CA").pem();
        TestCa {
            cert_pem,
            issuer: Issuer::new(params, key),
        }
    }

    /// Signs `params` for a fresh P-256 key; returns the certificate PEM.
    pub fn issue(&self, params: &CertificateParams) -> String {
        self.issue_with_key(params).0
    }

    /// Signs `params` for a fresh P-256 key; returns the certificate PEM and the key PEM.
    pub fn issue_with_key(&self, params: &CertificateParams) -> (String, String) {
        let key = KeyPair::generate().expect("key");
        let cert_pem = params.signed_by(&key, &self.issuer).expect("sign").pem();
        (cert_pem, key.serialize_pem())
    }

    /// Signs a CA named `common_name` below this one.
    pub fn issue_ca(&self, common_name: &str) -> TestCa {
        let key = KeyPair::generate().expect("CA key");
        let mut params = params(common_name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        let cert_pem = params.signed_by(&key, &self.issuer).expect("sign CA").pem();
        TestCa {
            cert_pem,
            issuer: Issuer::new(params, key),
        }
    }
}

/// Certificate parameters with just a CN, valid 2025-2125.
pub(crate) fn params(common_name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    params.distinguished_name = name;
    params.not_before = datetime!(2025-01-01 00:00:00 UTC);
    params.not_after = datetime!(2125-01-01 00:00:00 UTC);
    params
}

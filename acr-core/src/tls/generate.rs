//! Making serving certificates for the connected registry: a CA (generated or given) and a leaf
//! with the service IP and DNS names, written as ca.crt, ca.key, tls.crt and tls.key.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use time::{Duration, OffsetDateTime, UtcOffset};

use super::error::TlsError;
use super::load::{load_certificates, load_private_key};
use super::pem;
use super::x509::{name_text, parse_certificate, rfc3339, why_not_a_ca};
use crate::fsio::{self, FileMode, OutputFile, Overwrite};

/// How far notBefore lies before "now", so that clients with a slow clock accept a fresh
/// certificate.
const CLOCK_SKEW_ALLOWANCE: Duration = Duration::minutes(5);

/// The algorithm and size of a generated key. The CA key and the leaf key use the same type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum KeyType {
    #[default]
    EcdsaP256,
    EcdsaP384,
    Rsa2048,
    Rsa3072,
    Rsa4096,
}

impl KeyType {
    /// Every key type, in the order they are listed to people.
    pub const ALL: [KeyType; 5] = [
        KeyType::EcdsaP256,
        KeyType::EcdsaP384,
        KeyType::Rsa2048,
        KeyType::Rsa3072,
        KeyType::Rsa4096,
    ];

    /// The name used on the command line: "p256", "p384", "rsa2048", "rsa3072", "rsa4096".
    pub fn name(self) -> &'static str {
        match self {
            KeyType::EcdsaP256 => "p256",
            KeyType::EcdsaP384 => "p384",
            KeyType::Rsa2048 => "rsa2048",
            KeyType::Rsa3072 => "rsa3072",
            KeyType::Rsa4096 => "rsa4096",
        }
    }

    fn is_rsa(self) -> bool {
        matches!(self, KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096)
    }

    fn generate_key_pair(self) -> Result<KeyPair, rcgen::Error> {
        let rsa = |size| KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, size);
        match self {
            KeyType::EcdsaP256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
            KeyType::EcdsaP384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384),
            KeyType::Rsa2048 => rsa(rcgen::RsaKeySize::_2048),
            KeyType::Rsa3072 => rsa(rcgen::RsaKeySize::_3072),
            KeyType::Rsa4096 => rsa(rcgen::RsaKeySize::_4096),
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for KeyType {
    type Err = TlsError;

    fn from_str(given: &str) -> Result<Self, Self::Err> {
        KeyType::ALL
            .into_iter()
            .find(|key_type| key_type.name().eq_ignore_ascii_case(given.trim()))
            .ok_or_else(|| TlsError::UnknownKeyType {
                given: given.to_owned(),
                valid: KeyType::ALL.map(KeyType::name).join(", "),
            })
    }
}

/// What to put in a generated serving certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateOptions {
    pub ips: Vec<IpAddr>,
    pub dns_names: Vec<String>,
    pub key_type: KeyType,
    /// Validity of the serving certificate; 365 by default.
    pub leaf_validity_days: u32,
    /// Validity of a generated CA; 3650 by default.
    pub ca_validity_days: u32,
    /// The subject's O; also names the generated CA ("<organization> CA").
    pub organization: String,
    /// The subject's CN; by default the first DNS name, else the first IP.
    pub common_name: Option<String>,
    /// The time the certificate is made at; notBefore is five minutes earlier.
    pub now: OffsetDateTime,
}

impl GenerateOptions {
    /// Defaults: ECDSA P-256, 365 days for the leaf, 3650 for the CA, no names yet.
    pub fn new(now: OffsetDateTime) -> Self {
        GenerateOptions {
            ips: Vec::new(),
            dns_names: Vec::new(),
            key_type: KeyType::default(),
            leaf_validity_days: 365,
            ca_validity_days: 3650,
            organization: "Azure Container Registry connected registry".to_owned(),
            common_name: None,
            now,
        }
    }
}

/// A CA certificate and its key, both PEM, to sign serving certificates with.
#[derive(Clone, PartialEq, Eq)]
pub struct CertificateAuthority {
    pub cert_pem: String,
    pub key_pem: String,
}

impl fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"[not shown]")
            .finish()
    }
}

/// A CA read and checked, ready to sign.
struct LoadedAuthority {
    key_pair: KeyPair,
    der: Vec<u8>,
}

impl CertificateAuthority {
    /// Reads a CA from PEM (the first certificate of `cert_pem` is the CA; other blocks are
    /// ignored) and checks that it may sign certificates and that the key belongs to it.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self, TlsError> {
        let loaded = load_certificates(cert_pem.as_bytes())?;
        let Some(first) = loaded.certificates.first() else {
            return Err(TlsError::NoCertificate);
        };
        let authority = CertificateAuthority {
            cert_pem: pem::encode("CERTIFICATE", &first.der),
            key_pem: key_pem.to_owned(),
        };
        authority.load()?;
        Ok(authority)
    }

    fn load(&self) -> Result<LoadedAuthority, TlsError> {
        let loaded = load_certificates(self.cert_pem.as_bytes())?;
        let Some(first) = loaded.certificates.into_iter().next() else {
            return Err(TlsError::NoCertificate);
        };
        let certificate = parse_certificate(&first.der, "the CA certificate")?;
        let subject = name_text(certificate.subject());
        if let Some(reason) = why_not_a_ca(&certificate) {
            return Err(TlsError::NotACertificateAuthority { subject, reason });
        }
        let private_key = load_private_key(self.key_pem.as_bytes())?;
        if !private_key.matches_certificate(&certificate) {
            return Err(TlsError::CaKeyMismatch { subject });
        }
        Ok(LoadedAuthority {
            key_pair: private_key.key_pair,
            der: first.der,
        })
    }
}

/// A generated certificate and its private key, both PEM.
#[derive(Clone, PartialEq, Eq)]
pub struct GeneratedCertificate {
    pub cert_pem: String,
    pub key_pem: String,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

impl fmt::Debug for GeneratedCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedCertificate")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"[not shown]")
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish()
    }
}

/// A serving certificate, the CA that signed it, and the CA's key when the CA was generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedBundle {
    /// The generated CA; `None` when a CA was given.
    pub ca: Option<GeneratedCertificate>,
    pub leaf: GeneratedCertificate,
    /// The signing CA's certificate, generated or given.
    pub ca_cert_pem: String,
}

/// Generates a serving certificate for `options.ips` and `options.dns_names`, signed by `ca`
/// when given, else by a freshly generated CA (returned in `bundle.ca`).
pub fn generate(
    options: &GenerateOptions,
    ca: Option<&CertificateAuthority>,
) -> Result<GeneratedBundle, TlsError> {
    validate(options)?;
    let now = options
        .now
        .to_offset(UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(options.now);
    let not_before = now - CLOCK_SKEW_ALLOWANCE;
    let leaf_not_after = now + Duration::days(i64::from(options.leaf_validity_days));

    let (issuer, generated_ca, ca_cert_pem) = match ca {
        Some(given) => {
            let authority = given.load()?;
            check_given_ca_outlives_leaf(&authority.der, now, leaf_not_after)?;
            let issuer =
                Issuer::from_ca_cert_der(&authority.der.as_slice().into(), authority.key_pair)
                    .map_err(|source| TlsError::Generation {
                        what: "issuer from the given CA",
                        source,
                    })?;
            (issuer, None, pem::encode("CERTIFICATE", &authority.der))
        }
        None => {
            let ca_not_after = now + Duration::days(i64::from(options.ca_validity_days));
            let (issuer, generated) = generate_ca(options, not_before, ca_not_after)?;
            let cert_pem = generated.cert_pem.clone();
            (issuer, Some(generated), cert_pem)
        }
    };

    let leaf_key = options
        .key_type
        .generate_key_pair()
        .map_err(|source| TlsError::Generation {
            what: "serving certificate key",
            source,
        })?;
    let leaf_params = leaf_params(options, not_before, leaf_not_after)?;
    let leaf = leaf_params
        .signed_by(&leaf_key, &issuer)
        .map_err(|source| TlsError::Generation {
            what: "serving certificate",
            source,
        })?;
    Ok(GeneratedBundle {
        ca: generated_ca,
        leaf: GeneratedCertificate {
            cert_pem: leaf.pem(),
            key_pem: leaf_key.serialize_pem(),
            not_before,
            not_after: leaf_not_after,
        },
        ca_cert_pem,
    })
}

fn validate(options: &GenerateOptions) -> Result<(), TlsError> {
    if options.ips.is_empty() && options.dns_names.is_empty() {
        return Err(TlsError::NoSubjectAltNames);
    }
    for name in &options.dns_names {
        acr_names::check_presented_dns_name(san_dns_name(name)).map_err(|reason| {
            TlsError::InvalidDnsName {
                name: name.clone(),
                reason,
            }
        })?;
    }
    if options.leaf_validity_days == 0 {
        return Err(TlsError::ZeroValidity {
            what: "the serving certificate's",
        });
    }
    if options.ca_validity_days == 0 {
        return Err(TlsError::ZeroValidity { what: "the CA's" });
    }
    Ok(())
}

/// The name as a DNS SAN holds it: without the trailing dot of an absolute name, which no
/// client would match in a certificate.
fn san_dns_name(name: &str) -> &str {
    name.strip_suffix('.').unwrap_or(name)
}

fn check_given_ca_outlives_leaf(
    ca_der: &[u8],
    now: OffsetDateTime,
    leaf_not_after: OffsetDateTime,
) -> Result<(), TlsError> {
    let certificate = parse_certificate(ca_der, "the CA certificate")?;
    let subject = name_text(certificate.subject());
    let ca_not_before = certificate.validity().not_before.to_datetime();
    let ca_not_after = certificate.validity().not_after.to_datetime();
    if now < ca_not_before {
        return Err(TlsError::CaNotValid {
            subject,
            at: rfc3339(now),
            reason: format!("it is not valid before {}", rfc3339(ca_not_before)),
        });
    }
    if now > ca_not_after {
        return Err(TlsError::CaNotValid {
            subject,
            at: rfc3339(now),
            reason: format!("it expired on {}", rfc3339(ca_not_after)),
        });
    }
    if leaf_not_after > ca_not_after {
        return Err(TlsError::LeafOutlivesGivenCa {
            ca_subject: subject,
            leaf_not_after: rfc3339(leaf_not_after),
            ca_not_after: rfc3339(ca_not_after),
        });
    }
    Ok(())
}

fn random_serial() -> Result<SerialNumber, TlsError> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| TlsError::Randomness)?;
    // Positive (high bit clear) and exactly 16 bytes long (first byte non-zero).
    bytes[0] = (bytes[0] & 0x3f) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

fn generate_ca(
    options: &GenerateOptions,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<(Issuer<'static, KeyPair>, GeneratedCertificate), TlsError> {
    if options.leaf_validity_days > options.ca_validity_days {
        return Err(TlsError::LeafOutlivesCa {
            leaf_days: options.leaf_validity_days,
            ca_days: options.ca_validity_days,
        });
    }
    let generation_error = |source| TlsError::Generation { what: "CA", source };
    let key_pair = options
        .key_type
        .generate_key_pair()
        .map_err(generation_error)?;
    let key_pem = key_pair.serialize_pem();
    let mut params = CertificateParams::default();
    params.distinguished_name = distinguished_name(
        &format!("{} CA", options.organization),
        &options.organization,
    );
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.serial_number = Some(random_serial()?);
    params.not_before = not_before;
    params.not_after = not_after;
    let certificate = params.self_signed(&key_pair).map_err(generation_error)?;
    let generated = GeneratedCertificate {
        cert_pem: certificate.pem(),
        key_pem,
        not_before,
        not_after,
    };
    Ok((Issuer::new(params, key_pair), generated))
}

fn leaf_params(
    options: &GenerateOptions,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<CertificateParams, TlsError> {
    let mut params = CertificateParams::default();
    let common_name = options
        .common_name
        .clone()
        .or_else(|| options.dns_names.first().cloned())
        .or_else(|| options.ips.first().map(IpAddr::to_string))
        .unwrap_or_default();
    params.distinguished_name = distinguished_name(&common_name, &options.organization);
    let mut sans = options
        .ips
        .iter()
        .map(|ip| SanType::IpAddress(*ip))
        .collect::<Vec<_>>();
    for name in &options.dns_names {
        let ia5 = san_dns_name(name)
            .try_into()
            .map_err(|_| TlsError::InvalidDnsName {
                name: name.clone(),
                reason: acr_names::NameError::Character,
            })?;
        sans.push(SanType::DnsName(ia5));
    }
    params.subject_alt_names = sans;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = if options.key_type.is_rsa() {
        vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ]
    } else {
        vec![KeyUsagePurpose::DigitalSignature]
    };
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    params.serial_number = Some(random_serial()?);
    params.not_before = not_before;
    params.not_after = not_after;
    Ok(params)
}

fn distinguished_name(common_name: &str, organization: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    if !common_name.is_empty() {
        name.push(DnType::CommonName, common_name);
    }
    if !organization.is_empty() {
        name.push(DnType::OrganizationName, organization);
    }
    name
}

/// Writes `ca.crt` (0644), `ca.key` (0600, only when the CA was generated), `tls.crt` (0644,
/// the leaf only) and `tls.key` (0600) into `dir`, creating it if missing. All destinations are
/// checked first, so that nothing is written when any exists and `overwrite` is
/// [`Overwrite::Refuse`]. Returns the paths written.
pub fn write_bundle(
    bundle: &GeneratedBundle,
    dir: &Path,
    overwrite: Overwrite,
) -> Result<Vec<PathBuf>, TlsError> {
    let mut files: Vec<(PathBuf, &str, FileMode)> =
        vec![(dir.join("ca.crt"), &bundle.ca_cert_pem, FileMode::Public)];
    if let Some(ca) = &bundle.ca {
        files.push((dir.join("ca.key"), &ca.key_pem, FileMode::Secret));
    }
    files.push((dir.join("tls.crt"), &bundle.leaf.cert_pem, FileMode::Public));
    files.push((dir.join("tls.key"), &bundle.leaf.key_pem, FileMode::Secret));

    fsio::create_private_dir(dir).map_err(|source| TlsError::CreateDirectory {
        path: dir.to_path_buf(),
        source,
    })?;
    let outputs: Vec<OutputFile<'_>> = files
        .iter()
        .map(|(path, contents, mode)| OutputFile {
            path,
            contents: contents.as_bytes(),
            mode: *mode,
        })
        .collect();
    fsio::write_set(&outputs, overwrite)?;
    Ok(files.into_iter().map(|(path, _, _)| path).collect())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use time::macros::datetime;

    use super::*;
    use crate::tls::test_support::{bundle_for, certificates, fixture, now, private_key};
    use crate::tls::{Outcome, VerifyRequest, describe, verify};

    fn options(ips: &[&str], dns_names: &[&str]) -> GenerateOptions {
        let mut options = GenerateOptions::new(now());
        options.ips = ips.iter().map(|ip| ip.parse().expect("ip")).collect();
        options.dns_names = dns_names.iter().map(|name| (*name).to_owned()).collect();
        options
    }

    fn leaf_der(bundle: &GeneratedBundle) -> Vec<u8> {
        certificates(&bundle.leaf.cert_pem)
            .pop()
            .expect("leaf certificate")
            .der
    }

    #[test]
    fn key_types_parse_case_insensitively_and_display_their_names() {
        for key_type in KeyType::ALL {
            assert_eq!(
                key_type.to_string().parse::<KeyType>().expect("parse"),
                key_type
            );
        }
        assert_eq!(
            "P384".parse::<KeyType>().expect("parse"),
            KeyType::EcdsaP384
        );
        assert_eq!(
            " RSA4096 ".parse::<KeyType>().expect("parse"),
            KeyType::Rsa4096
        );
        assert_eq!(KeyType::default(), KeyType::EcdsaP256);
        let err = "ed25519".parse::<KeyType>().expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "unknown key type \"ed25519\"; valid key types: p256, p384, rsa2048, rsa3072, rsa4096"
        );
    }

    /// One test for all key types, RSA 4096 included, so each key is generated only once.
    #[test]
    fn every_key_type_makes_a_ca_and_leaf_that_verify() {
        let expected = [
            (KeyType::EcdsaP256, "ECDSA P-256", 256, "ecdsa-with-SHA256"),
            (KeyType::EcdsaP384, "ECDSA P-384", 384, "ecdsa-with-SHA384"),
            (
                KeyType::Rsa2048,
                "RSA 2048",
                2048,
                "sha256WithRSAEncryption",
            ),
            (
                KeyType::Rsa3072,
                "RSA 3072",
                3072,
                "sha256WithRSAEncryption",
            ),
            (
                KeyType::Rsa4096,
                "RSA 4096",
                4096,
                "sha256WithRSAEncryption",
            ),
        ];
        for (key_type, description, bits, signature) in expected {
            let mut options = options(&["10.0.0.1"], &["registry.local"]);
            options.key_type = key_type;
            let bundle = generate(&options, None).expect("generate");
            let ca = bundle.ca.as_ref().expect("a CA is generated");
            assert_eq!(bundle.ca_cert_pem, ca.cert_pem);

            let ca_info = describe(&certificates(&ca.cert_pem)[0].der, now()).expect("describe CA");
            let leaf_info = describe(&leaf_der(&bundle), now()).expect("describe leaf");
            for info in [&ca_info, &leaf_info] {
                assert_eq!(info.public_key.description, description, "{key_type}");
                assert_eq!(info.public_key.bits, bits, "{key_type}");
                assert_eq!(info.signature_algorithm, signature, "{key_type}");
            }
            assert!(leaf_info.key_usage.contains(&"digitalSignature".to_owned()));
            assert_eq!(
                leaf_info.key_usage.contains(&"keyEncipherment".to_owned()),
                key_type.is_rsa(),
                "{key_type}: keyEncipherment only for RSA"
            );
            assert_eq!(
                private_key(&bundle.leaf.key_pem).description(),
                description,
                "{key_type}: leaf key"
            );
            assert_eq!(private_key(&ca.key_pem).description(), description);

            let mut request = VerifyRequest::new(certificates(&bundle.leaf.cert_pem), now());
            request.private_key = Some(private_key(&bundle.leaf.key_pem));
            request.trust_anchors = certificates(&bundle.ca_cert_pem);
            request.ips = options.ips.clone();
            request.dns_names = options.dns_names.clone();
            let report = verify(&request);
            assert!(report.passed(), "{key_type}:\n{}", report.to_text());
            assert_eq!(report.warnings().count(), 0, "{}", report.to_text());
        }
    }

    #[test]
    fn the_generated_ca_and_leaf_carry_the_right_extensions() {
        let bundle = bundle_for(
            &["10.0.0.1", "fd00::10"],
            &["registry.local", "*.registry.local"],
        );
        let ca = describe(&certificates(&bundle.ca_cert_pem)[0].der, now()).expect("describe CA");
        assert_eq!(
            ca.subject,
            "CN=Azure Container Registry connected registry CA, O=Azure Container Registry connected registry"
        );
        assert!(ca.is_ca);
        assert_eq!(ca.path_len, Some(0));
        assert_eq!(ca.key_usage, ["digitalSignature", "keyCertSign", "cRLSign"]);
        assert!(ca.self_signed);
        assert!(ca.subject_key_id.is_some());
        assert_eq!(ca.not_after, now() + Duration::days(3650));

        let leaf = describe(&leaf_der(&bundle), now()).expect("describe leaf");
        assert_eq!(
            leaf.subject,
            "CN=registry.local, O=Azure Container Registry connected registry"
        );
        assert_eq!(leaf.issuer, ca.subject);
        assert_eq!(leaf.common_name.as_deref(), Some("registry.local"));
        assert_eq!(
            leaf.subject_alt_names.dns,
            ["registry.local", "*.registry.local"]
        );
        assert_eq!(
            leaf.subject_alt_names.ip,
            [
                "10.0.0.1".parse::<IpAddr>().expect("ip"),
                "fd00::10".parse::<IpAddr>().expect("ip")
            ]
        );
        assert!(!leaf.is_ca);
        assert!(!leaf.self_signed);
        assert_eq!(leaf.extended_key_usage, ["serverAuth"]);
        assert!(leaf.subject_key_id.is_some());
        assert_eq!(leaf.authority_key_id, ca.subject_key_id);
        assert_eq!(leaf.not_before, now() - Duration::minutes(5));
        assert_eq!(leaf.not_after, now() + Duration::days(365));
        assert_eq!(bundle.leaf.not_before, leaf.not_before);
        assert_eq!(bundle.leaf.not_after, leaf.not_after);

        // 16 random bytes, positive, no leading zero: 16 hex pairs.
        assert_eq!(leaf.serial.len(), 16 * 3 - 1, "{}", leaf.serial);
        assert_ne!(leaf.serial, ca.serial);
        assert!(
            bundle
                .leaf
                .key_pem
                .starts_with("-----BEGIN PRIVATE KEY-----\n")
        );
    }

    #[test]
    fn the_common_name_defaults_to_the_first_dns_name_then_the_first_ip() {
        let cn_of = |options: &GenerateOptions| {
            let bundle = generate(options, None).expect("generate");
            describe(&leaf_der(&bundle), now())
                .expect("describe")
                .common_name
        };
        assert_eq!(
            cn_of(&options(&["10.0.0.1"], &[])).as_deref(),
            Some("10.0.0.1")
        );
        assert_eq!(
            cn_of(&options(&["10.0.0.1"], &["a.example.com", "b.example.com"])).as_deref(),
            Some("a.example.com")
        );
        let mut custom = options(&["10.0.0.1"], &[]);
        custom.common_name = Some("connected-registry".to_owned());
        custom.organization = "Contoso".to_owned();
        let bundle = generate(&custom, None).expect("generate");
        let leaf = describe(&leaf_der(&bundle), now()).expect("describe");
        assert_eq!(leaf.subject, "CN=connected-registry, O=Contoso");
        assert_eq!(leaf.issuer, "CN=Contoso CA, O=Contoso");
    }

    #[test]
    fn clock_fractions_are_dropped_so_reported_dates_match_the_certificate() {
        let mut options = options(&["10.0.0.1"], &[]);
        options.now = datetime!(2026-03-01 12:00:00.987654321 +02:00);
        let bundle = generate(&options, None).expect("generate");
        let leaf = describe(&leaf_der(&bundle), now()).expect("describe");
        assert_eq!(bundle.leaf.not_before, datetime!(2026-03-01 09:55:00 UTC));
        assert_eq!(leaf.not_before, bundle.leaf.not_before);
    }

    #[test]
    fn bad_options_are_refused_with_reasons() {
        let err = generate(&options(&[], &[]), None).expect_err("no SANs");
        assert_eq!(
            err.to_string(),
            "a certificate needs at least one IP address or DNS name to serve"
        );

        let cases = [
            ("my registry", acr_names::NameError::Character),
            ("10.0.0.1", acr_names::NameError::IpAddress),
            ("-bad.example.com", acr_names::NameError::Hyphen),
            ("a..example.com", acr_names::NameError::EmptyLabel),
            (".", acr_names::NameError::Empty),
            ("a.*.example.com", acr_names::NameError::MisplacedWildcard),
            ("*.com", acr_names::NameError::WildcardTooBroad),
            ("*.0.0.1", acr_names::NameError::NumericLastLabel),
        ];
        for (name, reason) in cases {
            let err = generate(&options(&[], &[name]), None).expect_err(name);
            assert_eq!(
                err.to_string(),
                format!("{name:?} is not a valid DNS name: {reason}")
            );
        }
        let bundle = generate(
            &options(&[], &["*.registry.example.com", "registry.example.com."]),
            None,
        )
        .expect("wildcard and trailing dot are fine");
        let leaf = describe(&leaf_der(&bundle), OffsetDateTime::now_utc()).expect("leaf");
        assert_eq!(
            leaf.subject_alt_names.dns,
            ["*.registry.example.com", "registry.example.com"],
            "the trailing dot is left out of the SAN, where no client would match it"
        );

        let mut zero = options(&["10.0.0.1"], &[]);
        zero.leaf_validity_days = 0;
        let err = generate(&zero, None).expect_err("zero days");
        assert_eq!(
            err.to_string(),
            "the serving certificate's validity must be at least 1 day"
        );

        let mut too_long = options(&["10.0.0.1"], &[]);
        too_long.leaf_validity_days = 4000;
        let err = generate(&too_long, None).expect_err("leaf outlives CA");
        assert_eq!(
            err.to_string(),
            "the serving certificate would be valid for 4000 days, longer than the CA it is \
             signed with (3650 days)"
        );
    }

    #[test]
    fn a_given_openssl_ca_with_a_pkcs1_key_signs_the_leaf() {
        let ca = CertificateAuthority::from_pem(fixture!("root-ca.crt"), fixture!("root-ca.key"))
            .expect("fixture CA");
        let options = options(&["10.0.0.1"], &[]);
        let bundle = generate(&options, Some(&ca)).expect("generate");
        assert!(bundle.ca.is_none(), "no CA is generated when one is given");
        assert_eq!(
            certificates(&bundle.ca_cert_pem),
            certificates(fixture!("root-ca.crt"))
        );
        let leaf = describe(&leaf_der(&bundle), now()).expect("describe");
        assert_eq!(leaf.issuer, "CN=Fixture Root CA, O=acr tests");
        assert_eq!(leaf.signature_algorithm, "sha256WithRSAEncryption");
        assert_eq!(leaf.public_key.description, "ECDSA P-256");
        let root = describe(&certificates(fixture!("root-ca.crt"))[0].der, now()).expect("root");
        assert_eq!(leaf.authority_key_id, root.subject_key_id);

        let mut request = VerifyRequest::new(certificates(&bundle.leaf.cert_pem), now());
        request.trust_anchors = certificates(fixture!("root-ca.crt"));
        request.ips = options.ips;
        let report = verify(&request);
        assert!(report.passed(), "{}", report.to_text());
    }

    #[test]
    fn a_given_ca_must_be_a_ca_with_its_own_key_and_outlive_the_leaf() {
        let err = CertificateAuthority::from_pem(fixture!("server.crt"), fixture!("server.key"))
            .expect_err("not a CA");
        assert_eq!(
            err.to_string(),
            "the CA certificate CN=registry.example.com, O=acr tests cannot sign certificates: \
             it is not a CA (basicConstraints CA:true is missing)"
        );

        let err = CertificateAuthority::from_pem(fixture!("root-ca.crt"), fixture!("server.key"))
            .expect_err("wrong key");
        assert_eq!(
            err.to_string(),
            "the CA private key does not belong to the CA certificate CN=Fixture Root CA, O=acr tests"
        );

        let ca = CertificateAuthority::from_pem(fixture!("root-ca.crt"), fixture!("root-ca.key"))
            .expect("fixture CA");
        let mut options = options(&["10.0.0.1"], &[]);
        options.leaf_validity_days = 40_000;
        let err = generate(&options, Some(&ca)).expect_err("outlives the CA");
        assert!(
            err.to_string().starts_with(
                "the serving certificate would be valid until 2135-09-06T12:00:00Z, after the CA \
                 CN=Fixture Root CA, O=acr tests expires (2125-01-01T00:00:00Z)"
            ),
            "{err}"
        );

        options.leaf_validity_days = 30;
        options.now = datetime!(2024-06-01 00:00:00 UTC);
        let err = generate(&options, Some(&ca)).expect_err("CA not yet valid");
        assert_eq!(
            err.to_string(),
            "the CA certificate CN=Fixture Root CA, O=acr tests is not valid at \
             2024-06-01T00:00:00Z: it is not valid before 2025-01-01T00:00:00Z"
        );
    }

    #[test]
    fn debug_output_never_shows_private_keys() {
        let bundle = bundle_for(&["10.0.0.1"], &[]);
        let ca = CertificateAuthority::from_pem(fixture!("root-ca.crt"), fixture!("root-ca.key"))
            .expect("fixture CA");
        let shown = format!(
            "{bundle:?} {ca:?} {:?}",
            private_key(fixture!("server.key"))
        );
        assert!(!shown.contains("PRIVATE KEY-----"), "{shown}");
        let key_body_line = bundle.leaf.key_pem.lines().nth(1).expect("key body");
        assert!(!shown.contains(key_body_line), "{shown}");
        assert!(shown.contains("[not shown]"));
    }

    fn mode_of(path: &Path) -> u32 {
        std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
    }

    #[test]
    fn write_bundle_writes_keys_owner_only_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("certs");
        let bundle = bundle_for(&["10.0.0.1"], &[]);
        let written = write_bundle(&bundle, &out, Overwrite::Refuse).expect("write");
        let names: Vec<_> = written
            .iter()
            .map(|path| {
                path.file_name()
                    .expect("name")
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, ["ca.crt", "ca.key", "tls.crt", "tls.key"]);
        assert_eq!(mode_of(&out.join("ca.crt")), 0o644);
        assert_eq!(mode_of(&out.join("ca.key")), 0o600);
        assert_eq!(mode_of(&out.join("tls.crt")), 0o644);
        assert_eq!(mode_of(&out.join("tls.key")), 0o600);
        let tls_crt = std::fs::read_to_string(out.join("tls.crt")).expect("read");
        assert_eq!(tls_crt, bundle.leaf.cert_pem);
        assert_eq!(
            certificates(&tls_crt).len(),
            1,
            "tls.crt holds the leaf only"
        );

        let again = bundle_for(&["10.0.0.2"], &[]);
        let err = write_bundle(&again, &out, Overwrite::Refuse).expect_err("exists");
        assert!(
            err.to_string().contains("already exists; pass --force"),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(out.join("tls.crt")).expect("read"),
            bundle.leaf.cert_pem
        );

        write_bundle(&again, &out, Overwrite::Replace).expect("replace");
        assert_eq!(
            std::fs::read_to_string(out.join("tls.key")).expect("read"),
            again.leaf.key_pem
        );
    }

    #[test]
    fn write_bundle_writes_nothing_when_one_destination_exists() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("tls.key"), "old").expect("seed");
        let bundle = bundle_for(&["10.0.0.1"], &[]);
        let err = write_bundle(&bundle, dir.path(), Overwrite::Refuse).expect_err("exists");
        assert!(err.to_string().contains("tls.key"), "{err}");
        for name in ["ca.crt", "ca.key", "tls.crt"] {
            assert!(
                !dir.path().join(name).exists(),
                "{name} must not be written"
            );
        }
    }

    #[test]
    fn write_bundle_with_a_given_ca_writes_no_ca_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = CertificateAuthority::from_pem(fixture!("root-ca.crt"), fixture!("root-ca.key"))
            .expect("fixture CA");
        let bundle = generate(&options(&["10.0.0.1"], &[]), Some(&ca)).expect("generate");
        let written = write_bundle(&bundle, dir.path(), Overwrite::Refuse).expect("write");
        assert_eq!(written.len(), 3);
        assert!(!dir.path().join("ca.key").exists());
    }

    #[test]
    fn generated_leaf_fails_verification_for_another_ip() {
        let bundle = bundle_for(&["10.0.0.1"], &[]);
        let mut request = VerifyRequest::new(certificates(&bundle.leaf.cert_pem), now());
        request.trust_anchors = certificates(&bundle.ca_cert_pem);
        request.ips = vec!["10.0.0.2".parse().expect("ip")];
        let report = verify(&request);
        let failures: Vec<_> = report.failures().collect();
        assert_eq!(failures.len(), 1, "{}", report.to_text());
        assert_eq!(failures[0].name, "san-covers");
        assert_eq!(failures[0].outcome, Outcome::Fail);
    }
}

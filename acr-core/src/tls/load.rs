//! Reading certificates and private keys from whatever a person has at hand: PEM, DER, base64 as
//! it sits in protected settings, a Kubernetes Secret manifest, or protected-settings JSON.

use std::fmt;

use base64::Engine;
use serde::Serialize;
use serde_json::{Map, Value};
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;
use x509_parser::x509::SubjectPublicKeyInfo;

use super::error::TlsError;
use super::pem::{self, LENIENT_BASE64, LENIENT_BASE64_URL_SAFE};
use super::public_key::PublicKeyInfo;
use super::x509::{certificate_prefix, parse_certificate};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Secret keys that hold certificates, in the order they are read.
const SECRET_CERTIFICATE_KEYS: [&str; 2] = ["tls.crt", "ca.crt"];
/// Protected-settings keys that hold certificates, in the order they are read.
const PROTECTED_CERTIFICATE_KEYS: [&str; 2] = ["tls.crt", "tls.cacrt"];
/// The key both a Secret and protected settings use for the private key.
const PRIVATE_KEY_KEY: &str = "tls.key";

/// The shape the input turned out to have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputFormat {
    Pem,
    Der,
    Base64,
    KubernetesSecret,
    ProtectedSettings,
}

impl fmt::Display for InputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InputFormat::Pem => "PEM",
            InputFormat::Der => "DER",
            InputFormat::Base64 => "base64",
            InputFormat::KubernetesSecret => "Kubernetes Secret",
            InputFormat::ProtectedSettings => "protected settings",
        })
    }
}

/// One certificate found in the input, with where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedCertificate {
    /// Where in the input it was, e.g. "PEM block 1", "tls.crt #1", "ca.crt #1".
    pub origin: String,
    pub der: Vec<u8>,
}

/// Every certificate found in an input, in input order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedCertificates {
    pub certificates: Vec<LoadedCertificate>,
    /// Private keys seen next to the certificates; they are counted, never returned.
    pub private_keys_skipped: usize,
    pub format: InputFormat,
}

/// Reads certificates from PEM, DER, base64 (of PEM or DER), a Kubernetes Secret manifest
/// (YAML or JSON; `data` or `stringData`; keys `tls.crt`, `ca.crt`) or Arc protected-settings
/// JSON (keys `tls.crt`, `tls.cacrt`). A UTF-8 byte order mark and CRLF line ends are tolerated.
pub fn load_certificates(input: &[u8]) -> Result<LoadedCertificates, TlsError> {
    let input = input.strip_prefix(UTF8_BOM).unwrap_or(input);
    if input.iter().all(u8::is_ascii_whitespace) {
        return Err(TlsError::EmptyInput);
    }
    let Ok(text) = std::str::from_utf8(input) else {
        return load_binary(input);
    };
    // Manifests first: a Secret's stringData holds PEM too.
    if text.trim_start().starts_with('{') {
        let document: Map<String, Value> =
            acr_io::json::from_str(text).map_err(|err| TlsError::InvalidDocument {
                format: "JSON",
                reason: err.to_string(),
            })?;
        return load_document(&document);
    }
    if looks_like_manifest(text) {
        return match parse_yaml_mappings(text)? {
            Some(document) => load_document(&document),
            None => Err(TlsError::NoCertificate),
        };
    }
    if pem::looks_like_pem(text) {
        let mut found = Found::default();
        found.read_pem(text, None)?;
        return Ok(found.finish(InputFormat::Pem));
    }
    if let Some(decoded) = decode_base64_text(text)
        && payload_kind(&decoded) != PayloadKind::Other
    {
        let mut found = Found::default();
        found.read_payload(&decoded, None)?;
        return Ok(found.finish(InputFormat::Base64));
    }
    match parse_yaml_mappings(text)? {
        Some(document) => load_document(&document),
        None => Err(TlsError::NoCertificate),
    }
}

fn load_binary(input: &[u8]) -> Result<LoadedCertificates, TlsError> {
    if input.first() != Some(&0x30) {
        return Err(TlsError::NoCertificate);
    }
    let mut found = Found::default();
    found.read_der(input, None)?;
    Ok(found.finish(InputFormat::Der))
}

/// What decoded bytes hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PayloadKind {
    Pem,
    Der,
    /// Base64 text again: the value was encoded twice.
    Base64Again,
    Other,
}

fn payload_kind(bytes: &[u8]) -> PayloadKind {
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) if pem::looks_like_pem(text) => PayloadKind::Pem,
        Ok(text)
            if decode_base64_text(text).is_some_and(|inner| {
                matches!(payload_kind(&inner), PayloadKind::Pem | PayloadKind::Der)
            }) =>
        {
            PayloadKind::Base64Again
        }
        _ if bytes.first() == Some(&0x30) => PayloadKind::Der,
        _ => PayloadKind::Other,
    }
}

/// Decodes text that consists only of base64 characters and whitespace; `None` for anything else.
fn decode_base64_text(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let is_base64_alphabet = |c: char| c.is_ascii_alphanumeric() || "+/=-_".contains(c);
    if compact.len() < 16 || !compact.chars().all(is_base64_alphabet) {
        return None;
    }
    LENIENT_BASE64
        .decode(compact.as_bytes())
        .or_else(|_| LENIENT_BASE64_URL_SAFE.decode(compact.as_bytes()))
        .ok()
}

/// Reads YAML (possibly several `---` documents) and returns the first mapping that looks like a
/// Kubernetes Secret, else the first mapping. `None` when the text is not a YAML mapping at all;
/// an error only when it plainly meant to be a manifest.
fn parse_yaml_mappings(text: &str) -> Result<Option<Map<String, Value>>, TlsError> {
    acr_io::check_nesting(text.as_bytes()).map_err(|problem| TlsError::InvalidDocument {
        format: "YAML",
        reason: problem.to_string(),
    })?;
    let mut mappings = Vec::new();
    for document in serde_yaml_ng::Deserializer::from_str(text) {
        match <Value as serde::Deserialize>::deserialize(document) {
            Ok(Value::Object(mapping)) => mappings.push(mapping),
            Ok(_) => {}
            Err(err) if looks_like_manifest(text) => {
                return Err(TlsError::InvalidDocument {
                    format: "YAML",
                    reason: err.to_string(),
                });
            }
            Err(_) => return Ok(None),
        }
    }
    let is_kind_secret = |mapping: &Map<String, Value>| {
        mapping.get("kind").and_then(Value::as_str) == Some("Secret")
    };
    let secret = mappings
        .iter()
        .position(is_kind_secret)
        .or_else(|| mappings.iter().position(is_secret));
    Ok(match secret {
        Some(position) => Some(mappings.swap_remove(position)),
        None => mappings.into_iter().next(),
    })
}

fn looks_like_manifest(text: &str) -> bool {
    text.lines().any(|line| {
        ["apiVersion:", "kind:", "data:", "stringData:"]
            .iter()
            .any(|key| line.starts_with(key))
    })
}

fn is_secret(object: &Map<String, Value>) -> bool {
    object.get("kind").and_then(Value::as_str) == Some("Secret")
        || object.contains_key("data")
        || object.contains_key("stringData")
}

fn load_document(object: &Map<String, Value>) -> Result<LoadedCertificates, TlsError> {
    if is_secret(object) {
        return load_secret(object);
    }
    if PROTECTED_CERTIFICATE_KEYS
        .iter()
        .any(|key| object.contains_key(*key))
    {
        return load_protected_settings(object);
    }
    if let Some(secret) = object.get("tls.secret").and_then(Value::as_str) {
        return Err(TlsError::ProtectedSettingsNameSecret {
            secret: secret.to_owned(),
        });
    }
    Err(TlsError::UnrecognisedDocument {
        keys: key_list(object.keys()),
    })
}

fn load_secret(secret: &Map<String, Value>) -> Result<LoadedCertificates, TlsError> {
    let empty = Map::new();
    let data = secret
        .get("data")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let string_data = secret
        .get("stringData")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut found = Found::default();
    let mut any_certificate_key = false;
    for key in SECRET_CERTIFICATE_KEYS {
        // Kubernetes merges stringData over data, so stringData wins.
        if let Some(value) = string_data.get(key) {
            any_certificate_key = true;
            let text = value
                .as_str()
                .ok_or_else(|| TlsError::SecretValueNotString {
                    origin: format!("stringData.{key}"),
                })?;
            found.read_payload(text.as_bytes(), Some(key))?;
        } else if let Some(value) = data.get(key) {
            any_certificate_key = true;
            let encoded = value
                .as_str()
                .ok_or_else(|| TlsError::SecretValueNotString {
                    origin: format!("data.{key}"),
                })?;
            let decoded = decode_base64_value(encoded, &format!("data.{key}"))?;
            found.read_payload(&decoded, Some(key))?;
        }
    }
    if data.contains_key(PRIVATE_KEY_KEY) || string_data.contains_key(PRIVATE_KEY_KEY) {
        found.private_keys_skipped += 1;
    }
    if !any_certificate_key {
        return Err(TlsError::SecretWithoutCertificates {
            keys: key_list(data.keys().chain(string_data.keys())),
        });
    }
    Ok(found.finish(InputFormat::KubernetesSecret))
}

fn load_protected_settings(settings: &Map<String, Value>) -> Result<LoadedCertificates, TlsError> {
    let mut found = Found::default();
    for key in PROTECTED_CERTIFICATE_KEYS {
        let Some(value) = settings.get(key) else {
            continue;
        };
        let text = value
            .as_str()
            .ok_or_else(|| TlsError::SecretValueNotString {
                origin: key.to_owned(),
            })?;
        if pem::looks_like_pem(text) {
            found.read_pem(text, Some(key))?;
        } else {
            let decoded = decode_base64_value(text, key)?;
            found.read_payload(&decoded, Some(key))?;
        }
    }
    if settings.contains_key(PRIVATE_KEY_KEY) {
        found.private_keys_skipped += 1;
    }
    Ok(found.finish(InputFormat::ProtectedSettings))
}

fn decode_base64_value(encoded: &str, origin: &str) -> Result<Vec<u8>, TlsError> {
    let compact: String = encoded
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    LENIENT_BASE64
        .decode(compact.as_bytes())
        .map_err(|err| TlsError::InvalidBase64 {
            origin: origin.to_owned(),
            reason: err.to_string(),
        })
}

fn key_list<'a>(keys: impl Iterator<Item = &'a String>) -> String {
    let keys: Vec<&str> = keys.map(String::as_str).collect();
    if keys.is_empty() {
        "none".to_owned()
    } else {
        keys.join(", ")
    }
}

/// Certificates collected so far, numbered per source key.
#[derive(Default)]
struct Found {
    certificates: Vec<LoadedCertificate>,
    private_keys_skipped: usize,
}

impl Found {
    /// Reads decoded bytes that are either PEM text or DER.
    fn read_payload(&mut self, bytes: &[u8], key: Option<&str>) -> Result<(), TlsError> {
        let origin = || key.unwrap_or("the base64 input").to_owned();
        match payload_kind(bytes) {
            PayloadKind::Pem => {
                let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
                let text = String::from_utf8_lossy(bytes);
                self.read_pem(&text, key)
            }
            PayloadKind::Der => self.read_der(bytes, key),
            PayloadKind::Base64Again => Err(TlsError::EncodedTwice { origin: origin() }),
            PayloadKind::Other => Err(TlsError::UndecodablePayload { origin: origin() }),
        }
    }

    fn read_pem(&mut self, text: &str, key: Option<&str>) -> Result<(), TlsError> {
        let blocks = pem::parse_blocks(text)?;
        let mut certificates_here = 0;
        for block in &blocks {
            if block.is_private_key() {
                self.private_keys_skipped += 1;
            } else if block.is_certificate() {
                certificates_here += 1;
                let origin = match key {
                    Some(key) => format!("{key} #{certificates_here}"),
                    None => format!("PEM block {}", block.index),
                };
                let der = block.der.clone();
                certificate_prefix(&der, &origin, block.label == "TRUSTED CERTIFICATE")?;
                self.certificates.push(LoadedCertificate { origin, der });
            }
        }
        if certificates_here == 0 {
            let found: Vec<&str> = blocks.iter().map(|block| block.label.as_str()).collect();
            return Err(TlsError::NoCertificateInPem {
                origin: key.unwrap_or("PEM input").to_owned(),
                found: found.join(", "),
            });
        }
        Ok(())
    }

    /// Reads one or more concatenated DER certificates.
    fn read_der(&mut self, mut bytes: &[u8], key: Option<&str>) -> Result<(), TlsError> {
        let mut number = 0;
        while !bytes.is_empty() {
            number += 1;
            let origin = match key {
                Some(key) => format!("{key} #{number}"),
                None => format!("DER certificate {number}"),
            };
            let length = certificate_prefix(bytes, &origin, true)?;
            self.certificates.push(LoadedCertificate {
                origin,
                der: bytes[..length].to_vec(),
            });
            bytes = &bytes[length..];
        }
        Ok(())
    }

    fn finish(self, format: InputFormat) -> LoadedCertificates {
        LoadedCertificates {
            certificates: self.certificates,
            private_keys_skipped: self.private_keys_skipped,
            format,
        }
    }
}

/// A private key read from PEM. It can sign and tell its public key; it never shows itself.
pub struct PrivateKey {
    pub(crate) key_pair: rcgen::KeyPair,
    label: String,
}

impl PrivateKey {
    /// The DER SubjectPublicKeyInfo of the matching public key.
    pub fn subject_public_key_info(&self) -> Vec<u8> {
        rcgen::PublicKeyData::subject_public_key_info(&self.key_pair)
    }

    /// Whether this is the private half of the certificate's public key: same algorithm, same
    /// key bits.
    pub(crate) fn matches_certificate(&self, certificate: &X509Certificate<'_>) -> bool {
        let spki = self.subject_public_key_info();
        let Ok((_, ours)) = SubjectPublicKeyInfo::from_der(&spki) else {
            return false;
        };
        let theirs = certificate.public_key();
        ours.algorithm.algorithm == theirs.algorithm.algorithm
            && ours.subject_public_key.data == theirs.subject_public_key.data
    }

    /// Whether this is the private half of the public key of the DER certificate `cert_der`.
    pub fn matches_certificate_der(&self, cert_der: &[u8]) -> Result<bool, TlsError> {
        let certificate = parse_certificate(cert_der, "the certificate")?;
        Ok(self.matches_certificate(&certificate))
    }

    /// What kind of key it is, e.g. "ECDSA P-256" or "RSA 4096".
    pub fn description(&self) -> String {
        let spki = self.subject_public_key_info();
        match SubjectPublicKeyInfo::from_der(&spki) {
            Ok((_, parsed)) => PublicKeyInfo::from_spki(&parsed).description,
            Err(_) => self.label.clone(),
        }
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("label", &self.label)
            .field("key", &"[not shown]")
            .finish()
    }
}

/// Loads a private key from PEM: PKCS#8 (`PRIVATE KEY`), PKCS#1 (`RSA PRIVATE KEY`) or SEC1
/// (`EC PRIVATE KEY`). Certificates next to the key are ignored; more than one key is an error.
pub fn load_private_key(pem_input: &[u8]) -> Result<PrivateKey, TlsError> {
    let input = pem_input.strip_prefix(UTF8_BOM).unwrap_or(pem_input);
    let text = std::str::from_utf8(input).map_err(|_| TlsError::NoPrivateKey {
        found: "binary data, not PEM".to_owned(),
    })?;
    let blocks = pem::parse_blocks(text)?;
    let mut keys = blocks.iter().filter(|block| block.is_private_key());
    let Some(block) = keys.next() else {
        let found: Vec<&str> = blocks.iter().map(|block| block.label.as_str()).collect();
        return Err(TlsError::NoPrivateKey {
            found: if found.is_empty() {
                "no PEM block".to_owned()
            } else {
                found.join(", ")
            },
        });
    };
    let others = keys.count();
    if others > 0 {
        return Err(TlsError::SeveralPrivateKeys { count: others + 1 });
    }
    if block.encrypted || block.label == "ENCRYPTED PRIVATE KEY" {
        return Err(TlsError::EncryptedPrivateKey {
            label: block.label.clone(),
        });
    }
    let unsupported = |reason: String| TlsError::UnsupportedPrivateKey {
        label: block.label.clone(),
        reason,
    };
    if !matches!(
        block.label.as_str(),
        "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY"
    ) {
        return Err(unsupported(
            "only PKCS#8, PKCS#1 (RSA) and SEC1 (EC) keys are read".to_owned(),
        ));
    }
    let key_pair = rcgen::KeyPair::try_from(block.der.as_slice()).map_err(|err| {
        match rsa_modulus_bits(&block.der) {
            Some(bits) if bits < 2048 => unsupported(format!(
                "it is an RSA key of {bits} bits; RSA keys need at least 2048 bits"
            )),
            _ => unsupported(format!(
                "{err}; supported keys are RSA, ECDSA P-256/P-384/P-521 and Ed25519"
            )),
        }
    })?;
    Ok(PrivateKey {
        key_pair,
        label: block.label.clone(),
    })
}

/// The modulus size of an RSA private key in PKCS#1 or PKCS#8 DER, read without a crypto backend
/// (which refuses small keys without saying why).
fn rsa_modulus_bits(der: &[u8]) -> Option<usize> {
    const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    let (tag, key, _) = der_element(der)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, _, rest) = der_element(key)?;
    if tag != 0x02 {
        return None;
    }
    let (tag, second, rest) = der_element(rest)?;
    match tag {
        // PKCS#1: version, then the modulus.
        0x02 => {
            let significant: Vec<u8> = second.iter().copied().skip_while(|b| *b == 0).collect();
            let first = *significant.first()?;
            Some(significant.len() * 8 - first.leading_zeros() as usize)
        }
        // PKCS#8: version, the rsaEncryption algorithm, then the PKCS#1 key in an octet string.
        0x30 => {
            let (oid_tag, oid, _) = der_element(second)?;
            if oid_tag != 0x06 || oid != RSA_ENCRYPTION {
                return None;
            }
            let (tag, inner, _) = der_element(rest)?;
            (tag == 0x04).then(|| rsa_modulus_bits(inner)).flatten()
        }
        _ => None,
    }
}

/// One DER element: its tag, its content and what follows it.
fn der_element(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, rest) = rest.split_at(count);
        (
            bytes
                .iter()
                .fold(0usize, |length, b| (length << 8) | usize::from(*b)),
            rest,
        )
    };
    (rest.len() >= length).then(|| (tag, &rest[..length], &rest[length..]))
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD;

    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Fuzzing: any bytes, and certificates and keys with a byte changed, are loaded or
        /// refused without a panic, as PEM, DER, base64, YAML or JSON.
        #[test]
        fn fuzz_certificate_and_key_loading_never_panics(
            bytes in proptest::collection::vec(any::<u8>(), 0..1024),
            position in any::<usize>(),
            byte in any::<u8>(),
        ) {
            let now = time::OffsetDateTime::UNIX_EPOCH;
            let _ = load_certificates(&bytes);
            let _ = load_private_key(&bytes);
            let _ = crate::tls::inspect(&bytes, now);
            for fixture in [fixture!("server.crt"), fixture!("server.key"), fixture!("root-ca.key")] {
                let mut mutated = fixture.as_bytes().to_vec();
                let at = position % mutated.len();
                mutated[at] = byte;
                let _ = load_certificates(&mutated);
                let _ = load_private_key(&mutated);
                let _ = crate::tls::inspect(&mutated, now);
                let der = certificates(fixture!("server.crt")).remove(0).der;
                let mut der = der;
                let at = position % der.len();
                der[at] = byte;
                let _ = crate::tls::inspect(&der, now);
            }
        }
    }
    use crate::tls::test_support::{bundle_for, certificates, fixture};

    fn der_of(pem_text: &str) -> Vec<u8> {
        certificates(pem_text).remove(0).der
    }

    fn origins(loaded: &LoadedCertificates) -> Vec<&str> {
        loaded
            .certificates
            .iter()
            .map(|certificate| certificate.origin.as_str())
            .collect()
    }

    /// Base64 wrapped at 76 columns, as `base64` and many editors write it.
    fn wrapped_base64(bytes: &[u8]) -> String {
        let encoded = STANDARD.encode(bytes);
        encoded
            .as_bytes()
            .chunks(76)
            .map(|line| String::from_utf8_lossy(line).into_owned())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn a_small_rsa_key_is_named_as_such() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pkcs8 = dir.path().join("pkcs8.pem");
        let pkcs1 = dir.path().join("pkcs1.pem");
        let openssl = |args: &[&std::ffi::OsStr]| {
            let made = std::process::Command::new("openssl")
                .args(args)
                .status()
                .expect("openssl runs");
            assert!(made.success(), "{args:?}");
        };
        openssl(&[
            "genrsa".as_ref(),
            "-out".as_ref(),
            pkcs8.as_os_str(),
            "1024".as_ref(),
        ]);
        openssl(&[
            "rsa".as_ref(),
            "-in".as_ref(),
            pkcs8.as_os_str(),
            "-traditional".as_ref(),
            "-out".as_ref(),
            pkcs1.as_os_str(),
        ]);
        for path in [pkcs8, pkcs1] {
            let pem = std::fs::read(&path).expect("read");
            let error = load_private_key(&pem).expect_err("refused");
            assert!(
                error
                    .to_string()
                    .ends_with("is not supported: it is an RSA key of 1024 bits; RSA keys need at least 2048 bits"),
                "{error}"
            );
        }
    }

    #[test]
    fn pem_blocks_are_numbered_and_keys_skipped() {
        let input = format!(
            "{}{}{}",
            fixture!("server.crt"),
            fixture!("server.key"),
            fixture!("intermediate-ca.crt")
        );
        let loaded = load_certificates(input.as_bytes()).expect("load");
        assert_eq!(loaded.format, InputFormat::Pem);
        assert_eq!(loaded.private_keys_skipped, 1);
        assert_eq!(origins(&loaded), ["PEM block 1", "PEM block 3"]);
        assert_eq!(loaded.certificates[0].der, der_of(fixture!("server.crt")));
    }

    #[test]
    fn bom_and_crlf_are_tolerated() {
        let crlf = fixture!("server.crt").replace('\n', "\r\n");
        let input = [UTF8_BOM, crlf.as_bytes()].concat();
        let loaded = load_certificates(&input).expect("load");
        assert_eq!(loaded.format, InputFormat::Pem);
        assert_eq!(loaded.certificates[0].der, der_of(fixture!("server.crt")));

        let base64_crlf = wrapped_base64(fixture!("server.crt").as_bytes()).replace('\n', "\r\n");
        let input = [UTF8_BOM, base64_crlf.as_bytes(), b"\r\n"].concat();
        let loaded = load_certificates(&input).expect("load base64");
        assert_eq!(loaded.format, InputFormat::Base64);
        assert_eq!(loaded.certificates[0].der, der_of(fixture!("server.crt")));
    }

    #[test]
    fn der_single_and_concatenated() {
        let server = der_of(fixture!("server.crt"));
        let intermediate = der_of(fixture!("intermediate-ca.crt"));
        let loaded = load_certificates(&server).expect("load");
        assert_eq!(loaded.format, InputFormat::Der);
        assert_eq!(origins(&loaded), ["DER certificate 1"]);

        let both = [server.clone(), intermediate.clone()].concat();
        let loaded = load_certificates(&both).expect("load both");
        assert_eq!(origins(&loaded), ["DER certificate 1", "DER certificate 2"]);
        assert_eq!(loaded.certificates[1].der, intermediate);

        let truncated = &server[..server.len() - 10];
        let err = load_certificates(truncated).expect_err("truncated");
        assert!(
            err.to_string()
                .starts_with("DER certificate 1 is not a valid certificate: "),
            "{err}"
        );
    }

    #[test]
    fn base64_of_pem_or_der_with_embedded_newlines() {
        let chain = format!(
            "{}{}",
            fixture!("server.crt"),
            fixture!("intermediate-ca.crt")
        );
        let loaded = load_certificates(wrapped_base64(chain.as_bytes()).as_bytes()).expect("pem");
        assert_eq!(loaded.format, InputFormat::Base64);
        assert_eq!(origins(&loaded), ["PEM block 1", "PEM block 2"]);

        let der = der_of(fixture!("server.crt"));
        let spaced = format!("  {}  \n", wrapped_base64(&der).replace('\n', " \n\t"));
        let loaded = load_certificates(spaced.as_bytes()).expect("der");
        assert_eq!(loaded.format, InputFormat::Base64);
        assert_eq!(loaded.certificates[0].der, der);

        let unpadded = STANDARD
            .encode(fixture!("server.crt"))
            .trim_end_matches('=')
            .to_owned();
        load_certificates(unpadded.as_bytes()).expect("padding is optional");

        let twice = STANDARD.encode(STANDARD.encode(fixture!("server.crt")));
        let err = load_certificates(twice.as_bytes()).expect_err("encoded twice");
        assert_eq!(
            err.to_string(),
            "the base64 input is base64-encoded twice; encode the PEM once"
        );

        let err = load_certificates(b"hello this is not a certificate")
            .expect_err("words are not base64");
        assert!(err.to_string().starts_with("no certificate found"), "{err}");

        let json = serde_json::json!({"tls.crt": STANDARD.encode("just some words here")});
        let err = load_certificates(json.to_string().as_bytes()).expect_err("not a certificate");
        assert_eq!(err.to_string(), "tls.crt decodes to neither PEM nor DER");
    }

    fn secret_yaml(bundle_pem: &str, ca_pem: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: connected-registry-tls\n  namespace: connected-registry\ntype: kubernetes.io/tls\ndata:\n  tls.crt: {}\n  tls.key: {}\n  ca.crt: {}\n",
            STANDARD.encode(bundle_pem),
            STANDARD.encode("-----BEGIN PRIVATE KEY-----\nAQID\n-----END PRIVATE KEY-----\n"),
            STANDARD.encode(ca_pem),
        )
    }

    #[test]
    fn kubernetes_secret_yaml_with_base64_data() {
        let chain = format!(
            "{}{}",
            fixture!("server.crt"),
            fixture!("intermediate-ca.crt")
        );
        let yaml = secret_yaml(&chain, fixture!("root-ca.crt"));
        let loaded = load_certificates(yaml.as_bytes()).expect("load");
        assert_eq!(loaded.format, InputFormat::KubernetesSecret);
        assert_eq!(origins(&loaded), ["tls.crt #1", "tls.crt #2", "ca.crt #1"]);
        assert_eq!(loaded.private_keys_skipped, 1);
        assert_eq!(loaded.certificates[2].der, der_of(fixture!("root-ca.crt")));
    }

    #[test]
    fn kubernetes_secret_among_several_yaml_documents() {
        let yaml = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\ndata:\n  a: b\n---\n{}",
            secret_yaml(fixture!("server.crt"), fixture!("root-ca.crt"))
        );
        let loaded = load_certificates(yaml.as_bytes()).expect("load");
        assert_eq!(origins(&loaded), ["tls.crt #1", "ca.crt #1"]);
    }

    #[test]
    fn kubernetes_secret_json_with_string_data() {
        let json = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "tls"},
            "stringData": {"tls.crt": fixture!("server.crt"), "ca.crt": fixture!("root-ca.crt")},
        });
        let loaded = load_certificates(json.to_string().as_bytes()).expect("load");
        assert_eq!(loaded.format, InputFormat::KubernetesSecret);
        assert_eq!(origins(&loaded), ["tls.crt #1", "ca.crt #1"]);
        assert_eq!(loaded.private_keys_skipped, 0);

        let indent = |pem_text: &str| pem_text.replace('\n', "\n    ");
        let yaml = format!(
            "apiVersion: v1\nkind: Secret\nstringData:\n  tls.crt: |\n    {}\n  tls.key: |\n    {}\n",
            indent(fixture!("server.crt")).trim_end(),
            indent(fixture!("server.key")).trim_end(),
        );
        let loaded = load_certificates(yaml.as_bytes()).expect("load YAML");
        assert_eq!(loaded.format, InputFormat::KubernetesSecret);
        assert_eq!(origins(&loaded), ["tls.crt #1"]);
        assert_eq!(loaded.private_keys_skipped, 1);
    }

    #[test]
    fn kubernetes_secret_problems_are_named() {
        let json =
            serde_json::json!({"kind": "Secret", "data": {"username": "YQ==", "password": "Yg=="}});
        let err = load_certificates(json.to_string().as_bytes()).expect_err("no certs");
        assert_eq!(
            err.to_string(),
            "the Kubernetes Secret has no tls.crt or ca.crt in data or stringData (keys: password, username)"
        );

        let json = serde_json::json!({"kind": "Secret", "data": {"tls.crt": "not base64 at all!"}});
        let err = load_certificates(json.to_string().as_bytes()).expect_err("bad base64");
        assert!(
            err.to_string()
                .starts_with("data.tls.crt is not valid base64: "),
            "{err}"
        );

        let yaml = "apiVersion: v1\nkind: Secret\ndata:\n  tls.crt: [unclosed\n";
        let err = load_certificates(yaml.as_bytes()).expect_err("bad yaml");
        assert!(
            err.to_string()
                .starts_with("input looks like YAML but does not parse: "),
            "{err}"
        );
    }

    #[test]
    fn protected_settings_json() {
        let bundle = bundle_for(&["10.0.0.1"], &[]);
        let settings = serde_json::json!({
            "connectionString": "ConnectedRegistryName=x;SyncTokenName=y;SyncTokenPassword=z",
            "tls.crt": STANDARD.encode(&bundle.leaf.cert_pem),
            "tls.key": STANDARD.encode(&bundle.leaf.key_pem),
            "tls.cacrt": wrapped_base64(bundle.ca_cert_pem.as_bytes()),
        });
        let loaded = load_certificates(settings.to_string().as_bytes()).expect("load");
        assert_eq!(loaded.format, InputFormat::ProtectedSettings);
        assert_eq!(origins(&loaded), ["tls.crt #1", "tls.cacrt #1"]);
        assert_eq!(loaded.private_keys_skipped, 1);
        assert_eq!(loaded.certificates[1].der, der_of(&bundle.ca_cert_pem));

        let by_secret = serde_json::json!({"connectionString": "x", "tls.secret": "my-tls"});
        let err = load_certificates(by_secret.to_string().as_bytes()).expect_err("secret name");
        assert_eq!(
            err.to_string(),
            "the protected settings name the Secret \"my-tls\" (tls.secret) instead of holding \
             certificates; inspect that Secret"
        );

        let err = load_certificates(br#"{"tls.crt": "abc", }"#).expect_err("invalid JSON");
        assert!(
            err.to_string()
                .starts_with("input looks like JSON but does not parse: "),
            "{err}"
        );
        let err = load_certificates(br#"{"service.clusterIP": "10.0.0.1"}"#).expect_err("other");
        assert_eq!(
            err.to_string(),
            "the document is neither a Kubernetes Secret nor protected settings with tls.crt or \
             tls.cacrt (keys: service.clusterIP)"
        );
    }

    #[test]
    fn garbage_is_refused_with_what_was_looked_for() {
        let expected = "no certificate found in input (looked for PEM, DER, base64, Kubernetes \
                        Secret, protected settings)";
        for garbage in [
            &b"hello, this is not a certificate"[..],
            &[0xff, 0xfe, 0x00, 0x01, 0x02][..],
            &b"short"[..],
        ] {
            let err = load_certificates(garbage).expect_err("garbage");
            assert_eq!(err.to_string(), expected);
        }
        let err = load_certificates(b"  \n\t").expect_err("empty");
        assert_eq!(err.to_string(), "input is empty");

        let err = load_certificates(fixture!("server.key").as_bytes()).expect_err("key only");
        assert_eq!(
            err.to_string(),
            "PEM input has no CERTIFICATE block (found: EC PRIVATE KEY)"
        );

        let corrupt = format!(
            "{}-----BEGIN CERTIFICATE-----\nAQIDBA==\n-----END CERTIFICATE-----\n",
            fixture!("server.crt")
        );
        let err = load_certificates(corrupt.as_bytes()).expect_err("corrupt");
        assert!(
            err.to_string()
                .starts_with("PEM block 2 is not a valid certificate: "),
            "{err}"
        );
    }

    #[test]
    fn private_keys_in_every_pem_encoding() {
        let pkcs8 = bundle_for(&["10.0.0.1"], &[]).leaf.key_pem;
        let cases = [
            (pkcs8.as_str(), "ECDSA P-256"),
            (fixture!("root-ca.key"), "RSA 2048"),
            (fixture!("server.key"), "ECDSA P-256"),
        ];
        for (pem_text, description) in cases {
            let key = load_private_key(pem_text.as_bytes()).expect("load key");
            assert_eq!(key.description(), description);
            assert!(!key.subject_public_key_info().is_empty());
        }
        let with_bom_and_certificate = [
            UTF8_BOM,
            fixture!("server.crt").as_bytes(),
            fixture!("server.key").replace('\n', "\r\n").as_bytes(),
        ]
        .concat();
        load_private_key(&with_bom_and_certificate).expect("certificate next to key is ignored");
    }

    #[test]
    fn private_key_problems_are_named() {
        let err = load_private_key(fixture!("server.crt").as_bytes()).expect_err("no key");
        assert_eq!(err.to_string(), "no private key found (found: CERTIFICATE)");

        let err = load_private_key(b"nothing").expect_err("no PEM");
        assert_eq!(
            err.to_string(),
            "no private key found (found: no PEM block)"
        );

        let two = format!("{}{}", fixture!("server.key"), fixture!("root-ca.key"));
        let err = load_private_key(two.as_bytes()).expect_err("two keys");
        assert_eq!(
            err.to_string(),
            "the input holds 2 private keys; give exactly one"
        );

        let encrypted =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAQID\n-----END ENCRYPTED PRIVATE KEY-----\n";
        let err = load_private_key(encrypted.as_bytes()).expect_err("encrypted");
        assert!(
            err.to_string().starts_with(
                "the private key (ENCRYPTED PRIVATE KEY) is encrypted; decrypt it first"
            ),
            "{err}"
        );

        let legacy_encrypted = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAQID\n-----END RSA PRIVATE KEY-----\n";
        let err = load_private_key(legacy_encrypted.as_bytes()).expect_err("encrypted");
        assert!(err.to_string().contains("is encrypted"), "{err}");

        let garbage = "-----BEGIN PRIVATE KEY-----\nAQIDBA==\n-----END PRIVATE KEY-----\n";
        let err = load_private_key(garbage.as_bytes()).expect_err("garbage key");
        assert!(
            err.to_string()
                .starts_with("the private key (PRIVATE KEY) is not supported: "),
            "{err}"
        );
        assert!(
            err.to_string()
                .ends_with("supported keys are RSA, ECDSA P-256/P-384/P-521 and Ed25519"),
            "{err}"
        );
    }

    #[test]
    fn input_formats_serialize_as_kebab_case() {
        let json = serde_json::to_string(&[
            InputFormat::Pem,
            InputFormat::Der,
            InputFormat::Base64,
            InputFormat::KubernetesSecret,
            InputFormat::ProtectedSettings,
        ])
        .expect("serialize");
        assert_eq!(
            json,
            r#"["pem","der","base64","kubernetes-secret","protected-settings"]"#
        );
    }
}

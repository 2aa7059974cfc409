//! Reading the private key and certificates from the files given (separate files or one bundle),
//! noting a bundle whose private key does not come first.

use super::CustomDomainError;
use super::problem::Problem;
use crate::tls::pem::{self, PemBlock};
use crate::tls::{LoadedCertificate, PrivateKey, TlsError, load_private_key};
use std::fmt;

/// A file given on the command line: its name (for messages) and its bytes.
#[derive(Clone)]
pub struct InputFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl fmt::Debug for InputFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InputFile")
            .field("name", &self.name)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// The private key found, as PEM (its own label kept) and loaded.
pub(super) struct FoundKey {
    pub pem: String,
    pub key: PrivateKey,
}

/// What the files hold: at most one private key and the certificates in the order given.
pub(super) struct Material {
    pub key: Option<FoundKey>,
    pub certificates: Vec<LoadedCertificate>,
}

/// Reads `files` in order (key, certificate, chain). Problems with what they hold are added to
/// `problems`; only unreadable PEM is an error.
pub(super) fn read(
    files: &[&InputFile],
    problems: &mut Vec<Problem>,
) -> Result<Material, CustomDomainError> {
    let mut keys: Vec<(String, PemBlock)> = Vec::new();
    let mut certificates = Vec::new();
    for file in files {
        let text = String::from_utf8_lossy(&file.bytes);
        let blocks = pem::parse_blocks(&text).map_err(|source| CustomDomainError::Read {
            file: file.name.clone(),
            source,
        })?;
        if blocks.is_empty() {
            problems.push(Problem::new(
                "pem",
                &file.name,
                "holds no PEM block; give PEM files (-----BEGIN ...-----)".to_owned(),
            ));
        }
        check_bundle_order(file, &blocks, problems);
        for block in blocks {
            if block.is_certificate() {
                certificates.push(LoadedCertificate {
                    origin: format!("{} block {}", file.name, block.index),
                    der: block.der,
                });
            } else if block.is_private_key() {
                keys.push((format!("{} block {}", file.name, block.index), block));
            }
        }
    }
    keys.dedup_by(|later, earlier| later.1.der == earlier.1.der);
    if certificates.is_empty() {
        problems.push(Problem::new(
            "certificate",
            &names(files),
            "no certificate found; give the serving certificate with --cert".to_owned(),
        ));
    }
    let key = match keys.as_slice() {
        [] => {
            problems.push(Problem::new(
                "private-key",
                &names(files),
                "no private key found; give it with --key (or first in a --cert bundle)".to_owned(),
            ));
            None
        }
        [(origin, block)] => load_key(origin, block, problems),
        several => {
            let origins: Vec<&str> = several.iter().map(|(origin, _)| origin.as_str()).collect();
            problems.push(Problem::new(
                "private-key",
                &names(files),
                format!(
                    "{} different private keys ({}); give exactly one, the key of the serving certificate",
                    several.len(),
                    origins.join(", ")
                ),
            ));
            None
        }
    };
    Ok(Material { key, certificates })
}

fn names(files: &[&InputFile]) -> String {
    files
        .iter()
        .map(|file| file.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A file holding both a key and certificates must hold the key first (key, leaf, chain), the
/// order the PEM files written here and Key Vault's PEM import use.
fn check_bundle_order(file: &InputFile, blocks: &[PemBlock], problems: &mut Vec<Problem>) {
    let first_certificate = blocks.iter().find(|block| block.is_certificate());
    let late_key = blocks.iter().find(|block| {
        block.is_private_key() && first_certificate.is_some_and(|cert| block.index > cert.index)
    });
    if let (Some(certificate), Some(key)) = (first_certificate, late_key) {
        problems.push(Problem::new(
            "bundle-order",
            &file.name,
            format!(
                "the private key is PEM block {}, after the certificate in PEM block {}; a bundle \
                 must hold the private key first, then the serving certificate, then its chain",
                key.index, certificate.index
            ),
        ));
    }
}

fn load_key(origin: &str, block: &PemBlock, problems: &mut Vec<Problem>) -> Option<FoundKey> {
    let refused = |error: TlsError| Problem::new("private-key", origin, error.to_string());
    if block.encrypted || block.label == "ENCRYPTED PRIVATE KEY" {
        problems.push(refused(TlsError::EncryptedPrivateKey {
            label: block.label.clone(),
        }));
        return None;
    }
    let key_pem = pem::encode(&block.label, &block.der);
    match load_private_key(key_pem.as_bytes()) {
        Ok(key) => Some(FoundKey { pem: key_pem, key }),
        Err(error) => {
            problems.push(refused(error));
            None
        }
    }
}

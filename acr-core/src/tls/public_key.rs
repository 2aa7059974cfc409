//! A certificate's or a key's public key, described: algorithm, size, curve.

use serde::Serialize;
use x509_parser::oid_registry::{
    OID_EC_P256, OID_KEY_TYPE_DSA, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_NIST_EC_P521,
    OID_PKCS1_RSAENCRYPTION, OID_SIG_ED448, OID_SIG_ED25519,
};
use x509_parser::public_key::PublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;

use super::x509::oid_name;

/// The subject public key: algorithm, size and curve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKeyInfo {
    /// "ECDSA", "RSA", "Ed25519", "Ed448", "DSA", or the algorithm's name or OID.
    pub algorithm: String,
    pub bits: u32,
    /// "P-256", "P-384", "P-521" (or the curve OID) for ECDSA keys.
    pub curve: Option<String>,
    /// "ECDSA P-256", "RSA 4096", "Ed25519".
    pub description: String,
}

impl PublicKeyInfo {
    pub(crate) fn from_spki(spki: &SubjectPublicKeyInfo<'_>) -> Self {
        let algorithm_oid = &spki.algorithm.algorithm;
        let parsed = spki.parsed().ok();
        let (algorithm, bits, curve) = if *algorithm_oid == OID_PKCS1_RSAENCRYPTION {
            let bits = match &parsed {
                Some(PublicKey::RSA(rsa)) => unsigned_bit_length(rsa.modulus),
                _ => 0,
            };
            ("RSA".to_owned(), bits, None)
        } else if *algorithm_oid == OID_KEY_TYPE_EC_PUBLIC_KEY {
            let curve_oid = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|parameters| parameters.as_oid().ok());
            let (curve, bits) = match curve_oid {
                Some(oid) if oid == OID_EC_P256 => ("P-256".to_owned(), 256),
                Some(oid) if oid == OID_NIST_EC_P384 => ("P-384".to_owned(), 384),
                Some(oid) if oid == OID_NIST_EC_P521 => ("P-521".to_owned(), 521),
                other => (
                    other.map_or_else(|| "unknown curve".to_owned(), |oid| oid.to_id_string()),
                    parsed.as_ref().map_or(0, |key| bit_count(key.key_size())),
                ),
            };
            ("ECDSA".to_owned(), bits, Some(curve))
        } else if *algorithm_oid == OID_SIG_ED25519 {
            ("Ed25519".to_owned(), 256, None)
        } else if *algorithm_oid == OID_SIG_ED448 {
            ("Ed448".to_owned(), 456, None)
        } else if *algorithm_oid == OID_KEY_TYPE_DSA {
            let bits = parsed.as_ref().map_or(0, |key| bit_count(key.key_size()));
            ("DSA".to_owned(), bits, None)
        } else {
            (oid_name(algorithm_oid), 0, None)
        };
        let description = match (&curve, bits) {
            (Some(curve), _) => format!("{algorithm} {curve}"),
            (None, 0) => algorithm.clone(),
            (None, _) if algorithm.starts_with("Ed") => algorithm.clone(),
            (None, bits) => format!("{algorithm} {bits}"),
        };
        PublicKeyInfo {
            algorithm,
            bits,
            curve,
            description,
        }
    }
}

/// The number of significant bits of a big-endian unsigned integer (leading zeros ignored).
fn unsigned_bit_length(bytes: &[u8]) -> u32 {
    let significant: &[u8] = match bytes.iter().position(|byte| *byte != 0) {
        Some(first) => &bytes[first..],
        None => return 0,
    };
    let whole_bytes = u32::try_from(significant.len() - 1).unwrap_or(u32::MAX / 8);
    whole_bytes * 8 + (8 - significant[0].leading_zeros())
}

fn bit_count(size: usize) -> u32 {
    u32::try_from(size).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_bit_length_ignores_the_sign_byte() {
        assert_eq!(unsigned_bit_length(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(unsigned_bit_length(&[0x01, 0xff]), 9);
        assert_eq!(unsigned_bit_length(&[0x00]), 0);
    }
}

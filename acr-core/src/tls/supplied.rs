//! A serving chain as settings supply it (`tls.crt` with `tls.key`, and `tls.cacrt`): each
//! certificate parsed once, then described, the serving certificate matched against the key,
//! and the chain followed up to the CA. What the policies' review and the protected-settings
//! writer both need.

use super::chain::{ChainGap, chain_issued_by};
use super::describe::CertificateInfo;
use super::error::TlsError;
use super::load::{LoadedCertificate, PrivateKey};
use super::x509::parse_certificate;
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;

/// Every certificate of `certificates`, parsed.
fn parse_all(certificates: &[LoadedCertificate]) -> Result<Vec<X509Certificate<'_>>, TlsError> {
    certificates
        .iter()
        .map(|certificate| parse_certificate(&certificate.der, &certificate.origin))
        .collect()
}

/// What a supplied chain is, as of a time.
#[derive(Debug, Clone)]
pub struct SuppliedChain {
    /// `tls.crt`: the serving certificate first, then its intermediates.
    pub chain: Vec<CertificateInfo>,
    /// Whether the key is the serving certificate's own.
    pub key_matches: bool,
    /// `tls.cacrt`, when given.
    pub cas: Vec<CertificateInfo>,
    /// Where the path from the serving certificate breaks before reaching a CA of `cas`;
    /// `None` when it reaches one, or when no CA was given.
    pub ca_gap: Option<ChainGap>,
}

impl SuppliedChain {
    /// Reads `chain` (not empty: its first certificate serves) and `cas`, each certificate
    /// parsed once.
    pub fn read(
        chain: &[LoadedCertificate],
        key: &PrivateKey,
        cas: &[LoadedCertificate],
        now: OffsetDateTime,
    ) -> Result<Self, TlsError> {
        let parsed_chain = parse_all(chain)?;
        let parsed_cas = parse_all(cas)?;
        let describe = |certificates: &[X509Certificate<'_>]| {
            certificates
                .iter()
                .map(|certificate| CertificateInfo::from_certificate(certificate, now))
                .collect()
        };
        Ok(Self {
            chain: describe(&parsed_chain),
            key_matches: parsed_chain
                .first()
                .is_some_and(|serving| key.matches_certificate(serving)),
            cas: describe(&parsed_cas),
            ca_gap: if parsed_cas.is_empty() {
                None
            } else {
                chain_issued_by(&parsed_chain, &parsed_cas).err()
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::test_support::bundle_for;
    use crate::tls::{load_certificates, load_private_key};

    fn certificates(pem: &str) -> Vec<LoadedCertificate> {
        load_certificates(pem.as_bytes())
            .expect("certificates")
            .certificates
    }

    #[test]
    fn a_chain_is_described_matched_against_its_key_and_followed_to_its_ca() {
        let bundle = bundle_for(&["10.0.0.1"], &[]);
        let other = bundle_for(&["10.0.0.1"], &[]);
        let chain = certificates(&bundle.leaf.cert_pem);
        let key = load_private_key(bundle.leaf.key_pem.as_bytes()).expect("key");
        let now = OffsetDateTime::now_utc();

        let own = SuppliedChain::read(&chain, &key, &certificates(&bundle.ca_cert_pem), now)
            .expect("reads");
        assert!(own.key_matches);
        assert!(own.ca_gap.is_none(), "{:?}", own.ca_gap);
        assert_eq!(own.chain.len(), 1);
        assert_eq!(own.cas.len(), 1);
        assert!(own.cas[0].is_ca);

        let other_key = load_private_key(other.leaf.key_pem.as_bytes()).expect("key");
        let wrong = SuppliedChain::read(&chain, &other_key, &certificates(&other.ca_cert_pem), now)
            .expect("reads");
        assert!(!wrong.key_matches);
        let gap = wrong.ca_gap.expect("another CA did not issue it");
        assert_eq!(gap.subject, own.chain[0].subject);

        let without_ca = SuppliedChain::read(&chain, &key, &[], now).expect("reads");
        assert!(without_ca.ca_gap.is_none() && without_ca.cas.is_empty());
    }
}

//! The certificates of a verify request, each parsed once, with where it came from.

use x509_parser::certificate::X509Certificate;

use super::report::{Outcome, Reporter};
use crate::tls::chain::names_issuer;
use crate::tls::error::TlsError;
use crate::tls::load::LoadedCertificate;
use crate::tls::x509::{name_text, parse_certificate};

/// A parsed certificate of the request, with where it came from.
pub(super) struct Node<'a> {
    /// Index in the chain or the trust anchors.
    pub(super) index: usize,
    pub(super) der: &'a [u8],
    pub(super) certificate: X509Certificate<'a>,
    pub(super) subject: String,
    pub(super) is_anchor: bool,
}

impl Node<'_> {
    pub(super) fn issuer_name(&self) -> String {
        name_text(self.certificate.issuer())
    }

    pub(super) fn is_issued_by(&self, issuer: &Node<'_>) -> bool {
        names_issuer(&self.certificate, &issuer.certificate)
    }

    pub(super) fn place(&self) -> String {
        if self.is_anchor {
            "the given CA".to_owned()
        } else {
            format!("chain position {}", self.index + 1)
        }
    }
}

/// Parses each certificate once; one that does not parse is a `parse` failure.
pub(super) fn parse_nodes<'a>(
    certificates: &'a [LoadedCertificate],
    is_anchor: bool,
    reporter: &mut Reporter,
) -> Vec<Node<'a>> {
    let mut nodes = Vec::with_capacity(certificates.len());
    for (index, loaded) in certificates.iter().enumerate() {
        match parse_certificate(&loaded.der, &loaded.origin) {
            Ok(certificate) => nodes.push(Node {
                index,
                der: &loaded.der,
                subject: name_text(certificate.subject()),
                certificate,
                is_anchor,
            }),
            Err(err) => {
                let detail = match err {
                    TlsError::InvalidCertificate { reason, .. } => {
                        format!("not a valid certificate: {reason}")
                    }
                    other => other.to_string(),
                };
                reporter.add("parse", &loaded.origin, Outcome::Fail, detail);
            }
        }
    }
    nodes
}

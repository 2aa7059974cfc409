//! The certificates in serving order (the serving certificate, then each one's issuer) and
//! whether that chain reaches a root: one in the files, the CA given, or a publicly trusted root.

use super::problem::Problem;
use crate::tls::{self, CertificateInfo, Link, LoadedCertificate, PrivateKey};
use x509_parser::certificate::X509Certificate;

/// One certificate given, parsed and described.
pub(super) struct Node<'a> {
    pub loaded: &'a LoadedCertificate,
    pub info: CertificateInfo,
    certificate: X509Certificate<'a>,
}

impl<'a> Node<'a> {
    /// Parses `loaded` once and describes it at `now`; a certificate that does not parse is a
    /// problem.
    pub fn parse(
        loaded: &'a LoadedCertificate,
        now: time::OffsetDateTime,
        problems: &mut Vec<Problem>,
    ) -> Option<Self> {
        match tls::parse_certificate(&loaded.der, &loaded.origin) {
            Ok(certificate) => Some(Node {
                loaded,
                info: CertificateInfo::from_certificate(&certificate, now),
                certificate,
            }),
            Err(error) => {
                let reason = match error {
                    tls::TlsError::InvalidCertificate { reason, .. } => reason,
                    other => other.to_string(),
                };
                problems.push(Problem::new(
                    "parse",
                    &loaded.origin,
                    format!("not a valid certificate: {reason}"),
                ));
                None
            }
        }
    }

    fn self_issued(&self) -> bool {
        tls::names_issuer(&self.certificate, &self.certificate)
    }

    fn label(&self) -> String {
        format!("{} ({})", self.info.subject, self.loaded.origin)
    }
}

/// The serving order: indices into the nodes, leaf first; and the certificates off that path.
pub(super) struct Ordered {
    pub path: Vec<usize>,
    pub unused: Vec<usize>,
}

/// Finds the serving certificate (the one the key belongs to, else the first) and follows the
/// issuers from it. A given order that differs is a problem naming both orders.
pub(super) fn order(
    nodes: &[Node<'_>],
    key: Option<&PrivateKey>,
    problems: &mut Vec<Problem>,
) -> Ordered {
    let leaf = key
        .and_then(|key| {
            nodes
                .iter()
                .position(|node| key.matches_certificate(&node.certificate))
        })
        .unwrap_or(0);
    let certificates: Vec<&X509Certificate<'_>> =
        nodes.iter().map(|node| &node.certificate).collect();
    let path = tls::path(&certificates, leaf, Link::Name);
    let unused: Vec<usize> = (0..nodes.len())
        .filter(|index| !path.contains(index))
        .collect();
    if path
        .iter()
        .enumerate()
        .any(|(position, index)| position != *index)
    {
        let listed = |indices: &mut dyn Iterator<Item = usize>| {
            indices
                .map(|index| nodes[index].label())
                .collect::<Vec<_>>()
                .join(", then ")
        };
        problems.push(Problem::new(
            "chain-order",
            "certificates",
            format!(
                "out of order: they are given as {}; the serving certificate must come first, then \
                 each certificate's issuer: {}",
                listed(&mut (0..nodes.len())),
                listed(&mut path.iter().copied())
            ),
        ));
    }
    Ordered { path, unused }
}

/// Whether the chain ends at a root: its last certificate is self-signed, or its issuer is a
/// publicly trusted root. Otherwise the missing issuer is named. (With a CA given, the
/// certificate check itself follows the chain to that CA.)
pub(super) fn check_complete(nodes: &[Node<'_>], ordered: &Ordered, problems: &mut Vec<Problem>) {
    let Some(last) = ordered.path.last().map(|index| &nodes[*index]) else {
        return;
    };
    if last.self_issued() || is_public_root(last.certificate.issuer().as_raw()) {
        return;
    }
    problems.push(Problem::new(
        "missing-intermediate",
        &last.info.subject,
        format!(
            "issued by {}, which is neither among the certificates given nor a publicly trusted \
             root: the chain is incomplete; add the intermediate CA certificate {} to --chain \
             (for a private root CA, give the root with --ca)",
            last.info.issuer, last.info.issuer
        ),
    ));
}

/// Whether `issuer` (a DER Name, header included) is the subject of a Mozilla-trusted root.
fn is_public_root(issuer: &[u8]) -> bool {
    let Some(contents) = der_contents(issuer) else {
        return false;
    };
    webpki_roots::TLS_SERVER_ROOTS
        .iter()
        .any(|root| root.subject.as_ref() == contents)
}

/// The contents of a DER element, without its tag and length.
fn der_contents(element: &[u8]) -> Option<&[u8]> {
    let first_length_byte = *element.get(1)?;
    let header = if first_length_byte < 0x80 {
        2
    } else {
        2 + usize::from(first_length_byte & 0x7f)
    };
    element.get(header..)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_contents_skip_short_and_long_length_headers() {
        assert_eq!(der_contents(&[0x30, 0x02, 1, 2]), Some(&[1u8, 2][..]));
        let long = [vec![0x30, 0x81, 0x80], vec![7; 0x80]].concat();
        assert_eq!(der_contents(&long).map(<[u8]>::len), Some(0x80));
        assert_eq!(der_contents(&[0x30]), None);
    }

    #[test]
    fn a_public_roots_name_is_recognised() {
        let root = &webpki_roots::TLS_SERVER_ROOTS[0];
        let contents = root.subject.as_ref();
        let length = u8::try_from(contents.len()).expect("short name");
        let name = if length < 0x80 {
            [vec![0x30, length], contents.to_vec()].concat()
        } else {
            [vec![0x30, 0x81, length], contents.to_vec()].concat()
        };
        assert!(is_public_root(&name));
        assert!(!is_public_root(&[0x30, 0x02, 0x31, 0x00]));
    }
}

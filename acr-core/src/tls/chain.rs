//! Chain building, once for every caller: which certificate issued which (by name, then by
//! signature), and the path from a serving certificate up through the certificates at hand.

use x509_parser::certificate::X509Certificate;
use x509_parser::error::X509Error;

use super::x509::name_text;

/// Whether `issuer`'s subject is, byte for byte, the issuer name `issued` carries.
pub(crate) fn names_issuer(issued: &X509Certificate<'_>, issuer: &X509Certificate<'_>) -> bool {
    issued.issuer().as_raw() == issuer.subject().as_raw()
}

/// What the search for a certificate's issuer among candidates found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum IssuerSearch<T> {
    /// A candidate with the issuer's name whose key verifies the signature (`verified`), or,
    /// failing that, one whose signature algorithm cannot be checked here (`!verified`).
    Found { issuer: T, verified: bool },
    /// Candidates with the issuer's name, none of whose keys made the signature.
    WrongKey(Vec<T>),
    /// No candidate carries the issuer's name.
    NotFound,
}

/// Looks for the issuer of `issued` among `candidates` (a caller's handle and the certificate).
pub(crate) fn find_issuer<'x, T: Copy>(
    issued: &X509Certificate<'_>,
    candidates: impl IntoIterator<Item = (T, &'x X509Certificate<'x>)>,
) -> IssuerSearch<T> {
    let mut named = Vec::new();
    let mut uncheckable = None;
    for (handle, candidate) in candidates {
        if !names_issuer(issued, candidate) {
            continue;
        }
        match issued.verify_signature(Some(candidate.public_key())) {
            Ok(()) => {
                return IssuerSearch::Found {
                    issuer: handle,
                    verified: true,
                };
            }
            Err(X509Error::SignatureUnsupportedAlgorithm) => {
                uncheckable.get_or_insert(handle);
            }
            Err(_) => {}
        }
        named.push(handle);
    }
    match (uncheckable, named.is_empty()) {
        (Some(issuer), _) => IssuerSearch::Found {
            issuer,
            verified: false,
        },
        (None, true) => IssuerSearch::NotFound,
        (None, false) => IssuerSearch::WrongKey(named),
    }
}

/// What links one certificate of a path to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Link {
    /// The issuer's name, the signature preferred but not required: for putting certificates
    /// in order, whose signatures are checked afterwards.
    Name,
    /// The issuer's name and a signature its key made (or one that cannot be checked here).
    Signature,
}

/// The path up from `certificates[start]`: indices, `start` first, then each one's issuer among
/// `certificates` (each used once), until a self-issued certificate or one whose issuer is not
/// there.
pub(crate) fn path(certificates: &[&X509Certificate<'_>], start: usize, link: Link) -> Vec<usize> {
    let mut path = vec![start];
    while let Some(&current) = path.last() {
        let issued = certificates[current];
        if names_issuer(issued, issued) {
            break;
        }
        let candidates = certificates
            .iter()
            .copied()
            .enumerate()
            .filter(|(index, _)| !path.contains(index));
        let next = match (find_issuer(issued, candidates), link) {
            (IssuerSearch::Found { issuer, .. }, _) => issuer,
            (IssuerSearch::WrongKey(named), Link::Name) => named[0],
            (IssuerSearch::WrongKey(_) | IssuerSearch::NotFound, _) => break,
        };
        path.push(next);
    }
    path
}

/// Where a serving chain stops short of the CA clients are told to trust: the last certificate
/// reached and the issuer it names, which is neither in the chain nor among the CAs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainGap {
    pub subject: String,
    pub issuer: String,
}

/// Whether one of `cas` issued the serving `chain` (leaf first, then intermediates), following
/// signatures up the chain. `Err` names where the path breaks.
pub(crate) fn chain_issued_by(
    chain: &[X509Certificate<'_>],
    cas: &[X509Certificate<'_>],
) -> Result<(), ChainGap> {
    let certificates: Vec<&X509Certificate<'_>> = chain.iter().collect();
    let Some(&leaf) = certificates.first() else {
        return Ok(());
    };
    let path = path(&certificates, 0, Link::Signature);
    let reached = path.iter().any(|index| {
        let certificate = certificates[*index];
        cas.iter().any(|ca| ca.as_raw() == certificate.as_raw())
            || matches!(
                find_issuer(certificate, cas.iter().map(|ca| ((), ca))),
                IssuerSearch::Found { .. }
            )
    });
    if reached {
        return Ok(());
    }
    let last = path.last().map_or(leaf, |index| certificates[*index]);
    Err(ChainGap {
        subject: name_text(last.subject()),
        issuer: name_text(last.issuer()),
    })
}

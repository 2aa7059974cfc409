//! The certificate for the custom domains: given as files (checked: key match, names, order,
//! completeness, validity, every problem reported) or generated self-signed for testing.

use super::chain::{self, Node};
use super::material::{self, InputFile};
use super::problem::Problem;
use super::{CustomDomainError, CustomDomains, Domain};
use crate::secret::SecretString;
use crate::tls::{
    self, GenerateOptions, LoadedCertificate, Outcome, SubjectAltNames, VerifyRequest,
};
use time::OffsetDateTime;

/// Where the certificate comes from.
#[derive(Debug, Clone)]
pub enum CertificateSource {
    /// The user's files: the key (or a bundle in `cert` holding it first), the serving
    /// certificate optionally followed by its chain, more chain, and a private root CA.
    Files {
        key: Option<InputFile>,
        cert: InputFile,
        chain: Option<InputFile>,
        ca: Option<InputFile>,
    },
    /// A generated CA and a serving certificate for every domain, for testing only.
    SelfSigned,
}

/// A certificate fit for every domain: its key, the chain in serving order, and what to know.
#[derive(Debug)]
pub struct PreparedCertificate {
    key_pem: SecretString,
    /// The serving certificate first, then each one's issuer.
    pub chain: Vec<LoadedCertificate>,
    /// The private root CA given with `--ca` (not written).
    pub ca: Vec<LoadedCertificate>,
    /// Generated for testing (`--self-signed`).
    pub self_signed: bool,
    pub warnings: Vec<String>,
}

impl PreparedCertificate {
    /// The PEM a domain's Key Vault secret holds: the private key, the serving certificate,
    /// then its chain.
    pub fn pem(&self) -> SecretString {
        let mut text = self.key_pem.expose().to_owned();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        for certificate in &self.chain {
            text.push_str(&tls::pem::encode("CERTIFICATE", &certificate.der));
        }
        SecretString::new(text)
    }

    /// The private key PEM, for the facts policies receive (key match only; never shown).
    pub(super) fn key_pem(&self) -> &SecretString {
        &self.key_pem
    }
}

/// Checks the given certificate for every domain at `now`, or generates a test one.
pub fn prepare_certificate(
    domains: &CustomDomains,
    source: &CertificateSource,
    now: OffsetDateTime,
) -> Result<PreparedCertificate, CustomDomainError> {
    match source {
        CertificateSource::SelfSigned => self_signed(domains, now),
        CertificateSource::Files {
            key,
            cert,
            chain,
            ca,
        } => {
            let files: Vec<&InputFile> = key.iter().chain([cert]).chain(chain).collect();
            let ca = match ca {
                Some(file) => {
                    tls::load_certificates(&file.bytes)
                        .map_err(|source| CustomDomainError::Read {
                            file: file.name.clone(),
                            source,
                        })?
                        .certificates
                }
                None => Vec::new(),
            };
            check_files(domains, &files, ca, now)
        }
    }
}

fn check_files(
    domains: &CustomDomains,
    files: &[&InputFile],
    ca: Vec<LoadedCertificate>,
    now: OffsetDateTime,
) -> Result<PreparedCertificate, CustomDomainError> {
    let mut problems = Vec::new();
    let material = material::read(files, &mut problems)?;
    let nodes: Vec<Node<'_>> = material
        .certificates
        .iter()
        .filter_map(|loaded| Node::parse(loaded, now, &mut problems))
        .collect();
    if nodes.is_empty() || nodes.len() < material.certificates.len() {
        return Err(CustomDomainError::Refused { problems });
    }
    let ordered = chain::order(
        &nodes,
        material.key.as_ref().map(|found| &found.key),
        &mut problems,
    );
    if ca.is_empty() {
        chain::check_complete(&nodes, &ordered, &mut problems);
    }
    let path: Vec<LoadedCertificate> = ordered
        .path
        .iter()
        .map(|index| nodes[*index].loaded.clone())
        .collect();
    let mut warnings: Vec<String> = ordered
        .unused
        .iter()
        .map(|index| {
            format!(
                "{} ({}) is not on the path from the serving certificate to its root; it is left \
                 out of the PEM files",
                nodes[*index].info.subject, nodes[*index].loaded.origin
            )
        })
        .collect();

    let leaf = &nodes[ordered.path[0]];
    for domain in domains.all() {
        check_covered(
            &domain,
            &leaf.info.subject,
            &leaf.info.subject_alt_names,
            &mut problems,
        );
    }
    let (key_pem, private_key) = match material.key {
        Some(found) => (Some(found.pem), Some(found.key)),
        None => (None, None),
    };
    let mut request = VerifyRequest::new(path.clone(), now);
    request.private_key = private_key;
    request.trust_anchors = ca.clone();
    let ca_given = !ca.is_empty();
    for check in tls::verify(&request).checks {
        match check.outcome {
            Outcome::Fail => problems.push(Problem::new(&check.name, &check.subject, check.detail)),
            // Without a CA, completeness is judged above (public roots count).
            Outcome::Warn if check.name == "trust-anchor" && !ca_given => {}
            Outcome::Warn => warnings.push(format!("{}: {}", check.subject, check.detail)),
            Outcome::Pass => {}
        }
    }
    match key_pem {
        Some(key_pem) if problems.is_empty() => Ok(PreparedCertificate {
            key_pem: SecretString::new(key_pem),
            chain: path,
            ca,
            self_signed: false,
            warnings,
        }),
        _ => Err(CustomDomainError::Refused { problems }),
    }
}

/// Whether the serving certificate's DNS names cover `domain` (RFC 6125), explaining a
/// wildcard that stands for one label only.
fn check_covered(
    domain: &Domain,
    leaf_subject: &str,
    sans: &SubjectAltNames,
    problems: &mut Vec<Problem>,
) {
    if sans.covers_dns(&domain.fqdn) {
        return;
    }
    let mut detail = format!(
        "not covered by the serving certificate {leaf_subject}, whose subjectAltName is {}",
        sans.summary()
    );
    let too_shallow = sans.dns.iter().find(|pattern| {
        pattern.strip_prefix("*.").is_some_and(|suffix| {
            domain
                .fqdn
                .strip_suffix(suffix)
                .and_then(|prefix| prefix.strip_suffix('.'))
                .is_some_and(|labels| labels.contains('.'))
        })
    });
    if let Some(pattern) = too_shallow {
        let parent = domain
            .fqdn
            .split_once('.')
            .map_or(domain.fqdn.as_str(), |(_, parent)| parent);
        detail.push_str(&format!(
            "; the wildcard {pattern} covers exactly one label (RFC 6125), so not {}: add \
             DNS:{} or DNS:*.{parent} to the certificate",
            domain.fqdn, domain.fqdn
        ));
    }
    problems.push(Problem::new("san-covers", &domain.to_string(), detail));
}

fn self_signed(
    domains: &CustomDomains,
    now: OffsetDateTime,
) -> Result<PreparedCertificate, CustomDomainError> {
    let mut options = GenerateOptions::new(now);
    options.dns_names = domains
        .all()
        .into_iter()
        .map(|domain| domain.fqdn)
        .collect();
    options.organization = "ACR custom domain test".to_owned();
    options.common_name = Some(domains.registry_domain.clone());
    let bundle = tls::generate(&options, None).map_err(CustomDomainError::Generate)?;
    let pem_text = format!("{}{}", bundle.leaf.cert_pem, bundle.ca_cert_pem);
    let chain = tls::load_certificates(pem_text.as_bytes())
        .map_err(CustomDomainError::Generate)?
        .certificates;
    Ok(PreparedCertificate {
        key_pem: SecretString::new(bundle.leaf.key_pem),
        chain,
        ca: Vec::new(),
        self_signed: true,
        warnings: vec![
            "for testing only: the certificate is signed by a CA generated just now, which no \
             client trusts; use a certificate from your CA for real traffic"
                .to_owned(),
        ],
    })
}

#[cfg(test)]
mod tests;

//! The admission review of preparing a custom domain: the registry and its domains, with the
//! certificate facts policies read (as the built-in serving-certificate policy expects).

use super::certificate::PreparedCertificate;
use super::{CustomDomainError, CustomDomains};
use crate::policy::{Operation, Review, SubjectKind, facts_of};
use crate::tls;
use serde_json::{Value, json};
use time::OffsetDateTime;
use wasm_guest::{CertificateRole, Facts, REVIEW_API_VERSION};

/// The review of `custom-domain prepare` for `domains` and `certificate`, as of `now`: object
/// `{registryName, registryDomain, dataDomains: {region: fqdn}}`, the serving certificate with
/// its key match, the chain as intermediates (a self-signed root as CA) and a given CA as CA.
pub fn custom_domain_review(
    domains: &CustomDomains,
    certificate: &PreparedCertificate,
    now: OffsetDateTime,
) -> Result<Review, CustomDomainError> {
    let key = tls::load_private_key(certificate.key_pem().expose().as_bytes())
        .map_err(CustomDomainError::Describe)?;
    let mut facts = Vec::new();
    for (index, loaded) in certificate.chain.iter().enumerate() {
        let info = tls::describe(&loaded.der, now).map_err(CustomDomainError::Describe)?;
        let (role, key_matches) = match index {
            0 => (
                CertificateRole::Serving,
                Some(key.matches_certificate_der(&loaded.der).unwrap_or(false)),
            ),
            _ if info.self_signed => (CertificateRole::Ca, None),
            _ => (CertificateRole::Intermediate, None),
        };
        facts.push(facts_of(&info, role, key_matches)?);
    }
    for loaded in &certificate.ca {
        let info = tls::describe(&loaded.der, now).map_err(CustomDomainError::Describe)?;
        facts.push(facts_of(&info, CertificateRole::Ca, None)?);
    }
    Ok(Review {
        api_version: REVIEW_API_VERSION.to_owned(),
        operation: Operation::Prepare,
        subject: SubjectKind::CustomDomain,
        object: json!({
            "registryName": domains.registry,
            "registryDomain": domains.registry_domain,
            "dataDomains": domains.data_domains,
        }),
        facts: Facts {
            certificates: facts,
            cluster: None,
        },
        settings: Value::Null,
    })
}

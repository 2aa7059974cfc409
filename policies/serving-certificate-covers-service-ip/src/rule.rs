//! The rule of `serving-certificate-covers-service-ip`, apart from its exports and tests so
//! acr-policy's benchmark can compile the same code natively.

use std::net::IpAddr;
use wasm_guest::serde_json::Value;
use wasm_guest::{
    CertificateFacts, CertificateRole, Review, SubjectKind, Verdict, accept, reject,
    san_covers_dns, san_covers_ip,
};

/// `service.clusterIP` is absent or not an IP address.
pub const SERVICE_IP_MISSING: &str = "SERVICE_IP_MISSING";
/// The review describes no certificate to check although the certificate is in the settings
/// (`tls.crt`, custom domains).
pub const NO_SERVING_CERTIFICATE: &str = "NO_SERVING_CERTIFICATE";
/// Warning: the certificate lives where the host may not have read it (a `tls.secret` in the
/// cluster, cert-manager's plan), and the review describes none, so nothing was checked.
pub const SERVING_CERTIFICATE_NOT_CHECKED: &str = "SERVING_CERTIFICATE_NOT_CHECKED";
/// A serving certificate has no subject alternative names at all.
pub const CN_ONLY_CERTIFICATE: &str = "CN_ONLY_CERTIFICATE";
/// A serving certificate's IP SANs do not include the service IP.
pub const SAN_MISSING_SERVICE_IP: &str = "SAN_MISSING_SERVICE_IP";
/// A custom-domain review names no registry domain, or a data domain that is not text.
pub const DOMAIN_MISSING: &str = "DOMAIN_MISSING";
/// No serving certificate's DNS SANs cover a custom domain.
pub const SAN_MISSING_DOMAIN: &str = "SAN_MISSING_DOMAIN";

/// The rule: the verdict on one review.
pub fn evaluate(review: &Review) -> Verdict {
    match review.subject {
        SubjectKind::CustomDomain => custom_domain(review),
        _ => connected_registry(review),
    }
}

fn connected_registry(review: &Review) -> Verdict {
    let service_ip = review
        .setting("service.clusterIP")
        .and_then(Value::as_str)
        .and_then(|text| text.parse::<IpAddr>().ok());
    let Some(service_ip) = service_ip else {
        return reject(
            SERVICE_IP_MISSING,
            "service.clusterIP is missing or not an IP address, so the serving certificate \
             cannot be checked against it: give --config service.clusterIP=<IP>",
            Some("service.clusterIP"),
        );
    };
    let (role, field, source) = if review.setting_bool("cert-manager.enabled", true) {
        (
            CertificateRole::PlannedServing,
            "service.clusterIP",
            "planned serving certificate (cert-manager is enabled)",
        )
    } else if review.protected_setting("tls.secret").is_some() {
        (
            CertificateRole::Serving,
            "tls.secret",
            "serving certificate from tls.secret",
        )
    } else {
        (
            CertificateRole::Serving,
            "tls.crt",
            "serving certificate from tls.crt",
        )
    };
    let mut certificates = review.facts.certificates_with_role(role).peekable();
    if certificates.peek().is_none() {
        let message = format!(
            "the review describes no {source}, so it cannot be checked against the service IP \
             {service_ip}"
        );
        return if field == "tls.crt" {
            reject(NO_SERVING_CERTIFICATE, &message, Some(field))
        } else {
            accept().warn(SERVING_CERTIFICATE_NOT_CHECKED, &message, Some(field))
        };
    }
    certificates.fold(accept(), |verdict, certificate| {
        if certificate.subject_alt_names.is_empty() {
            verdict.reject(
                CN_ONLY_CERTIFICATE,
                &format!(
                    "{} has no subject alternative names, only a common name, which clients \
                     ignore: reissue it with subjectAltName IP:{service_ip}",
                    certificate.describe()
                ),
                Some(field),
            )
        } else if san_covers_ip(certificate, service_ip) {
            verdict
        } else {
            verdict.reject(
                SAN_MISSING_SERVICE_IP,
                &missing_ip_message(certificate, service_ip),
                Some(field),
            )
        }
    })
}

fn missing_ip_message(certificate: &CertificateFacts, service_ip: IpAddr) -> String {
    let names = &certificate.subject_alt_names;
    let listed = if names.ip.is_empty() {
        "none".to_owned()
    } else {
        names.ip.join(", ")
    };
    let as_dns = if names.dns.iter().any(|dns| *dns == service_ip.to_string()) {
        format!(
            "; {service_ip} appears only as a DNS name, which clients never match to an address"
        )
    } else {
        String::new()
    };
    format!(
        "{} does not list the service IP {service_ip} among its IP subject alternative names \
         (it lists {listed}{as_dns}): reissue it with subjectAltName IP:{service_ip}, or set \
         service.clusterIP to an address it covers",
        certificate.describe()
    )
}

fn custom_domain(review: &Review) -> Verdict {
    let mut verdict = accept();
    let mut domains: Vec<(String, &str)> = Vec::new();
    match review.setting("registryDomain").and_then(Value::as_str) {
        Some(domain) if !domain.is_empty() => domains.push(("registryDomain".to_owned(), domain)),
        _ => {
            verdict = verdict.reject(
                DOMAIN_MISSING,
                "registryDomain is missing, so there is no domain to check the certificate \
                 against: give the registry's custom domain name",
                Some("registryDomain"),
            );
        }
    }
    if let Some(data_domains) = review.setting("dataDomains").and_then(Value::as_object) {
        for (region, domain) in data_domains {
            let field = format!("dataDomains.{region}");
            match domain.as_str() {
                Some(domain) if !domain.is_empty() => domains.push((field, domain)),
                _ => {
                    verdict = verdict.reject(
                        DOMAIN_MISSING,
                        &format!("the data domain of region {region} is not a domain name"),
                        Some(&field),
                    );
                }
            }
        }
    }
    let certificates: Vec<&CertificateFacts> = review
        .facts
        .certificates
        .iter()
        .filter(|certificate| {
            matches!(
                certificate.role,
                CertificateRole::Serving | CertificateRole::PlannedServing
            )
        })
        .collect();
    if certificates.is_empty() {
        return verdict.reject(
            NO_SERVING_CERTIFICATE,
            "the review describes no serving certificate, so the custom domains cannot be \
             checked against it",
            Some("registryDomain"),
        );
    }
    for certificate in certificates
        .iter()
        .filter(|certificate| certificate.subject_alt_names.is_empty())
    {
        verdict = verdict.reject(
            CN_ONLY_CERTIFICATE,
            &format!(
                "{} has no subject alternative names, only a common name, which clients ignore: \
                 reissue it with the domain as subjectAltName DNS:<domain>",
                certificate.describe()
            ),
            None,
        );
    }
    for (field, domain) in domains {
        let covered = certificates
            .iter()
            .any(|certificate| san_covers_dns(certificate, domain));
        if !covered {
            verdict = verdict.reject(
                SAN_MISSING_DOMAIN,
                &format!(
                    "no serving certificate covers {domain}: add DNS:{domain} (or a wildcard for \
                     its parent domain) to the subject alternative names of its certificate"
                ),
                Some(&field),
            );
        }
    }
    verdict
}

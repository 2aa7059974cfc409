//! The one parse of a certificate, and the fields of a parsed certificate that every report
//! names: distinguished names, times, OIDs, usages, self-signature, CA capability.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use x509_parser::certificate::X509Certificate;
use x509_parser::objects::{oid_registry, oid2sn};
use x509_parser::prelude::FromDer;
use x509_parser::x509::X509Name;

use super::error::TlsError;

/// Checks that `der` starts with a certificate and returns its length. Trailing bytes are an
/// error unless `allow_trailing` (concatenated DER, openssl's TRUSTED CERTIFICATE).
pub(crate) fn certificate_prefix(
    der: &[u8],
    origin: &str,
    allow_trailing: bool,
) -> Result<usize, TlsError> {
    match X509Certificate::from_der(der) {
        Ok((rest, _)) if rest.is_empty() || allow_trailing => Ok(der.len() - rest.len()),
        Ok((rest, _)) => Err(TlsError::InvalidCertificate {
            origin: origin.to_owned(),
            reason: format!("{} unexpected bytes after the certificate", rest.len()),
        }),
        Err(err) => Err(TlsError::InvalidCertificate {
            origin: origin.to_owned(),
            reason: err.to_string(),
        }),
    }
}

/// Parses one DER certificate, naming `origin` in the error.
pub(crate) fn parse_certificate<'a>(
    der: &'a [u8],
    origin: &str,
) -> Result<X509Certificate<'a>, TlsError> {
    certificate_prefix(der, origin, false)?;
    X509Certificate::from_der(der)
        .map(|(_, certificate)| certificate)
        .map_err(|err| TlsError::InvalidCertificate {
            origin: origin.to_owned(),
            reason: err.to_string(),
        })
}

/// RFC 3339 text of a time, as used everywhere in reports.
pub(crate) fn rfc3339(time: OffsetDateTime) -> String {
    time.format(&Rfc3339).unwrap_or_else(|_| time.to_string())
}

/// A distinguished name as "CN=..., O=...", or "(empty)" when there is none.
pub(crate) fn name_text(name: &X509Name<'_>) -> String {
    let text = name.to_string();
    if text.is_empty() {
        "(empty)".to_owned()
    } else {
        text
    }
}

pub(crate) fn common_name(name: &X509Name<'_>) -> Option<String> {
    name.iter_common_name()
        .next()
        .and_then(|attribute| attribute.as_str().ok())
        .map(str::to_owned)
}

pub(crate) fn oid_name(oid: &x509_parser::der_parser::oid::Oid<'_>) -> String {
    oid2sn(oid, oid_registry()).map_or_else(|_| oid.to_id_string(), str::to_owned)
}

/// Self-signed: issuer equals subject and the certificate's own key verifies its signature.
pub(crate) fn is_self_signed(certificate: &X509Certificate<'_>) -> bool {
    certificate.subject().as_raw() == certificate.issuer().as_raw()
        && certificate.verify_signature(None).is_ok()
}

pub(crate) fn key_usage_names(certificate: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(extension)) = certificate.key_usage() else {
        return Vec::new();
    };
    let usage = extension.value;
    [
        (usage.digital_signature(), "digitalSignature"),
        (usage.non_repudiation(), "nonRepudiation"),
        (usage.key_encipherment(), "keyEncipherment"),
        (usage.data_encipherment(), "dataEncipherment"),
        (usage.key_agreement(), "keyAgreement"),
        (usage.key_cert_sign(), "keyCertSign"),
        (usage.crl_sign(), "cRLSign"),
        (usage.encipher_only(), "encipherOnly"),
        (usage.decipher_only(), "decipherOnly"),
    ]
    .into_iter()
    .filter(|(set, _)| *set)
    .map(|(_, name)| name.to_owned())
    .collect()
}

pub(crate) fn extended_key_usage_names(certificate: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(extension)) = certificate.extended_key_usage() else {
        return Vec::new();
    };
    let usage = extension.value;
    let mut names: Vec<String> = [
        (usage.server_auth, "serverAuth"),
        (usage.client_auth, "clientAuth"),
        (usage.code_signing, "codeSigning"),
        (usage.email_protection, "emailProtection"),
        (usage.time_stamping, "timeStamping"),
        (usage.ocsp_signing, "OCSPSigning"),
        (usage.any, "anyExtendedKeyUsage"),
    ]
    .into_iter()
    .filter(|(set, _)| *set)
    .map(|(_, name)| name.to_owned())
    .collect();
    names.extend(usage.other.iter().map(|oid| oid.to_id_string()));
    names
}

/// Why `certificate` may not sign other certificates, if it may not.
pub(crate) fn why_not_a_ca(certificate: &X509Certificate<'_>) -> Option<String> {
    match certificate.basic_constraints() {
        Ok(Some(extension)) if extension.value.ca => {}
        Ok(_) => return Some("it is not a CA (basicConstraints CA:true is missing)".to_owned()),
        Err(err) => return Some(format!("its basicConstraints do not parse: {err}")),
    }
    match certificate.key_usage() {
        Ok(Some(extension)) if !extension.value.key_cert_sign() => {
            Some("its keyUsage lacks keyCertSign".to_owned())
        }
        Ok(_) => None,
        Err(err) => Some(format!("its keyUsage does not parse: {err}")),
    }
}

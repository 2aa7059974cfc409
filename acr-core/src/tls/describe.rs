//! What a certificate says, as data for policies and JSON output and as aligned text for people:
//! names, validity at a given time, key, usages, fingerprints.

use std::fmt::Write as _;
use std::net::IpAddr;

use serde::Serialize;
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};

use super::error::TlsError;
use super::public_key::PublicKeyInfo;
use super::x509::{
    common_name, extended_key_usage_names, is_self_signed, key_usage_names, name_text, oid_name,
    parse_certificate, rfc3339,
};
use crate::untrusted::Untrusted;

/// The names a certificate is valid for, from its subjectAltName extension.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SubjectAltNames {
    pub dns: Vec<String>,
    pub ip: Vec<IpAddr>,
    pub uri: Vec<String>,
    pub email: Vec<String>,
}

impl SubjectAltNames {
    /// Whether the certificate names nothing at all in subjectAltName.
    pub fn is_empty(&self) -> bool {
        self.dns.is_empty() && self.ip.is_empty() && self.uri.is_empty() && self.email.is_empty()
    }

    /// Reads the subjectAltName extension; `None` when the certificate has none.
    pub(crate) fn from_certificate(certificate: &X509Certificate<'_>) -> Option<Self> {
        let extension = certificate.extensions().iter().find_map(|extension| {
            match extension.parsed_extension() {
                ParsedExtension::SubjectAlternativeName(names) => Some(names),
                _ => None,
            }
        })?;
        let mut names = SubjectAltNames::default();
        for name in &extension.general_names {
            match name {
                GeneralName::DNSName(dns) => names.dns.push((*dns).to_owned()),
                GeneralName::IPAddress(bytes) => {
                    if let Some(ip) = ip_from_bytes(bytes) {
                        names.ip.push(ip);
                    }
                }
                GeneralName::URI(uri) => names.uri.push((*uri).to_owned()),
                GeneralName::RFC822Name(email) => names.email.push((*email).to_owned()),
                _ => {}
            }
        }
        Some(names)
    }

    /// Whether an IP entry is `ip` ([`acr_names::ip_matches`]).
    pub fn covers_ip(&self, ip: IpAddr) -> bool {
        acr_names::covers_ip(self.ip.iter().copied(), ip)
    }

    /// Whether a DNS entry covers the host name `name` ([`acr_names::dns_name_matches`]).
    pub fn covers_dns(&self, name: &str) -> bool {
        self.matching_dns(name).is_some()
    }

    /// The first DNS entry that covers the host name `name`.
    pub fn matching_dns(&self, name: &str) -> Option<&str> {
        acr_names::matching_dns_name(self.dns.iter().map(String::as_str), name)
    }

    /// "DNS:a, IP:10.0.0.1" in the order openssl prints them, or "none".
    pub fn summary(&self) -> String {
        let entries: Vec<String> = self
            .dns
            .iter()
            .map(|dns| format!("DNS:{dns}"))
            .chain(self.ip.iter().map(|ip| format!("IP:{ip}")))
            .chain(self.uri.iter().map(|uri| format!("URI:{uri}")))
            .chain(self.email.iter().map(|email| format!("email:{email}")))
            .collect();
        if entries.is_empty() {
            "none".to_owned()
        } else {
            entries.join(", ")
        }
    }
}

fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

/// Everything a person, and a policy, wants to know about one certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateInfo {
    pub subject: String,
    pub issuer: String,
    /// Lowercase hex with colons, leading zero bytes dropped.
    pub serial: String,
    pub subject_alt_names: SubjectAltNames,
    pub common_name: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Whole days from `now` to notAfter; negative once expired.
    pub days_left: i64,
    pub expired: bool,
    pub not_yet_valid: bool,
    pub public_key: PublicKeyInfo,
    /// "ecdsa-with-SHA256", "sha256WithRSAEncryption", ...
    pub signature_algorithm: String,
    /// Uppercase hex with colons, as `openssl x509 -fingerprint -sha256` prints it.
    pub sha256_fingerprint: String,
    pub is_ca: bool,
    pub path_len: Option<u32>,
    /// RFC 5280 names: "digitalSignature", "keyEncipherment", "keyCertSign", ...
    pub key_usage: Vec<String>,
    /// "serverAuth", "clientAuth", ..., or the OID of anything else.
    pub extended_key_usage: Vec<String>,
    pub subject_key_id: Option<String>,
    pub authority_key_id: Option<String>,
    pub self_signed: bool,
}

/// Describes one DER certificate as seen at `now`.
pub fn describe(cert_der: &[u8], now: OffsetDateTime) -> Result<CertificateInfo, TlsError> {
    let certificate = parse_certificate(cert_der, "the input")?;
    Ok(CertificateInfo::from_certificate(&certificate, now))
}

impl CertificateInfo {
    pub(crate) fn from_certificate(certificate: &X509Certificate<'_>, now: OffsetDateTime) -> Self {
        let not_before = certificate.validity().not_before.to_datetime();
        let not_after = certificate.validity().not_after.to_datetime();
        let basic_constraints = certificate
            .basic_constraints()
            .ok()
            .flatten()
            .map(|extension| (extension.value.ca, extension.value.path_len_constraint));
        let mut info = CertificateInfo {
            subject: name_text(certificate.subject()),
            issuer: name_text(certificate.issuer()),
            serial: serial_text(certificate.raw_serial()),
            subject_alt_names: SubjectAltNames::from_certificate(certificate).unwrap_or_default(),
            common_name: common_name(certificate.subject()),
            not_before,
            not_after,
            days_left: (not_after - now).whole_days(),
            expired: now > not_after,
            not_yet_valid: now < not_before,
            public_key: PublicKeyInfo::from_spki(certificate.public_key()),
            signature_algorithm: oid_name(&certificate.signature_algorithm.algorithm),
            sha256_fingerprint: sha256_fingerprint(certificate.as_raw()),
            is_ca: basic_constraints.is_some_and(|(ca, _)| ca),
            path_len: basic_constraints.and_then(|(_, path_len)| path_len),
            key_usage: key_usage_names(certificate),
            extended_key_usage: extended_key_usage_names(certificate),
            subject_key_id: None,
            authority_key_id: None,
            self_signed: is_self_signed(certificate),
        };
        for extension in certificate.extensions() {
            match extension.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(id) => {
                    info.subject_key_id = Some(hex_upper(id.0));
                }
                ParsedExtension::AuthorityKeyIdentifier(aki) => {
                    info.authority_key_id = aki.key_identifier.as_ref().map(|id| hex_upper(id.0));
                }
                _ => {}
            }
        }
        info
    }

    /// Human-readable, aligned, one field per line.
    pub fn to_text(&self) -> String {
        let yes_no = |flag: bool| if flag { "yes" } else { "no" };
        let list_or_none = |items: &[String]| {
            if items.is_empty() {
                "none".to_owned()
            } else {
                items.join(", ")
            }
        };
        let sans = if self.subject_alt_names.is_empty() {
            "none (clients that ignore the CN will reject this certificate)".to_owned()
        } else {
            self.subject_alt_names.summary()
        };
        let validity_note = if self.expired {
            format!("EXPIRED {} days ago", -self.days_left)
        } else if self.not_yet_valid {
            "NOT YET VALID".to_owned()
        } else {
            format!("{} days left", self.days_left)
        };
        let ca = match (self.is_ca, self.path_len) {
            (true, Some(path_len)) => format!("yes (path length {path_len})"),
            (true, None) => "yes".to_owned(),
            (false, _) => "no".to_owned(),
        };
        let fields: [(&str, String); 16] = [
            ("Subject", self.subject.clone()),
            ("Issuer", self.issuer.clone()),
            ("Serial", self.serial.clone()),
            ("Subject alt names", sans),
            (
                "Common name",
                self.common_name
                    .clone()
                    .unwrap_or_else(|| "none".to_owned()),
            ),
            ("Not before", rfc3339(self.not_before)),
            (
                "Not after",
                format!("{} ({validity_note})", rfc3339(self.not_after)),
            ),
            ("Public key", self.public_key.description.clone()),
            ("Signature algorithm", self.signature_algorithm.clone()),
            ("SHA-256 fingerprint", self.sha256_fingerprint.clone()),
            ("CA", ca),
            ("Key usage", list_or_none(&self.key_usage)),
            ("Extended key usage", list_or_none(&self.extended_key_usage)),
            (
                "Subject key ID",
                self.subject_key_id
                    .clone()
                    .unwrap_or_else(|| "none".to_owned()),
            ),
            (
                "Authority key ID",
                self.authority_key_id
                    .clone()
                    .unwrap_or_else(|| "none".to_owned()),
            ),
            ("Self-signed", yes_no(self.self_signed).to_owned()),
        ];
        aligned(&fields)
    }
}

fn aligned(fields: &[(&str, String)]) -> String {
    let width = fields
        .iter()
        .map(|(label, _)| label.len())
        .max()
        .unwrap_or(0)
        + 1;
    let mut text = String::new();
    for (label, value) in fields {
        let label = format!("{label}:");
        let _ = writeln!(text, "{label:<width$} {}", Untrusted(value));
    }
    text
}

fn serial_text(raw: &[u8]) -> String {
    let first_significant = raw
        .iter()
        .position(|byte| *byte != 0)
        .unwrap_or(raw.len().saturating_sub(1));
    raw[first_significant..]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|byte| format!("{byte:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn sha256_fingerprint(der: &[u8]) -> String {
    hex_upper(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der).as_ref())
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn certificate_fields_are_printed_escaped() {
        let text = aligned(&[("Subject", "CN=a\nIssuer: forged\x1b[1m".to_owned())]);
        assert_eq!(text, "Subject: CN=a\\nIssuer: forged\\x1b[1m\n");
    }
    use crate::tls::test_support::{bundle_for, certificates, fixture, now};

    fn describe_pem(pem_text: &str) -> CertificateInfo {
        describe(&certificates(pem_text)[0].der, now()).expect("describe")
    }

    #[test]
    fn an_openssl_server_certificate_is_described_fully() {
        let info = describe_pem(fixture!("server.crt"));
        assert_eq!(info.subject, "CN=registry.example.com, O=acr tests");
        assert_eq!(info.issuer, "CN=Fixture Intermediate CA, O=acr tests");
        assert_eq!(info.common_name.as_deref(), Some("registry.example.com"));
        assert_eq!(info.subject_alt_names.dns, ["registry.example.com"]);
        assert_eq!(
            info.subject_alt_names.ip,
            ["10.0.0.1".parse::<IpAddr>().expect("ip")]
        );
        assert_eq!(info.not_before, datetime!(2025-01-01 00:00:00 UTC));
        assert_eq!(info.not_after, datetime!(2125-01-01 00:00:00 UTC));
        assert_eq!(
            info.days_left,
            (datetime!(2125-01-01 00:00:00 UTC) - now()).whole_days()
        );
        assert!(!info.expired && !info.not_yet_valid);
        assert_eq!(
            info.public_key,
            PublicKeyInfo {
                algorithm: "ECDSA".to_owned(),
                bits: 256,
                curve: Some("P-256".to_owned()),
                description: "ECDSA P-256".to_owned(),
            }
        );
        assert_eq!(info.signature_algorithm, "ecdsa-with-SHA256");
        assert!(!info.is_ca);
        assert_eq!(info.path_len, None);
        assert_eq!(info.key_usage, ["digitalSignature"]);
        assert_eq!(info.extended_key_usage, ["serverAuth"]);
        assert!(!info.self_signed);
        let intermediate = describe_pem(fixture!("intermediate-ca.crt"));
        assert_eq!(info.authority_key_id, intermediate.subject_key_id);
        let fingerprint = &info.sha256_fingerprint;
        assert_eq!(fingerprint.len(), 32 * 3 - 1);
        assert!(
            fingerprint
                .chars()
                .all(|c| c == ':' || c.is_ascii_digit() || c.is_ascii_uppercase()),
            "{fingerprint}"
        );
    }

    #[test]
    fn openssl_cas_are_described_with_their_constraints() {
        let root = describe_pem(fixture!("root-ca.crt"));
        assert_eq!(root.public_key.description, "RSA 2048");
        assert_eq!(root.public_key.bits, 2048);
        assert_eq!(root.public_key.curve, None);
        assert_eq!(root.signature_algorithm, "sha256WithRSAEncryption");
        assert!(root.is_ca && root.self_signed);
        assert_eq!(root.path_len, None);
        assert_eq!(root.key_usage, ["keyCertSign", "cRLSign"]);
        assert_eq!(root.subject, root.issuer);
        assert!(root.subject_alt_names.is_empty());

        let intermediate = describe_pem(fixture!("intermediate-ca.crt"));
        assert!(intermediate.is_ca && !intermediate.self_signed);
        assert_eq!(intermediate.path_len, Some(0));
        assert_eq!(intermediate.authority_key_id, root.subject_key_id);

        let cn_only = describe_pem(fixture!("cn-only.crt"));
        assert!(cn_only.subject_alt_names.is_empty());
        assert_eq!(cn_only.common_name.as_deref(), Some("registry.example.com"));
        assert_eq!(
            describe_pem(fixture!("client-auth-only.crt")).extended_key_usage,
            ["clientAuth"]
        );
    }

    #[test]
    fn validity_flags_follow_now() {
        let der = certificates(fixture!("server.crt")).remove(0).der;
        let early = describe(&der, datetime!(2024-12-31 00:00:00 UTC)).expect("describe");
        assert!(early.not_yet_valid && !early.expired);
        let late = describe(&der, datetime!(2125-01-11 00:00:00 UTC)).expect("describe");
        assert!(late.expired && !late.not_yet_valid);
        assert_eq!(late.days_left, -10);
        assert!(
            late.to_text().contains("(EXPIRED 10 days ago)"),
            "{}",
            late.to_text()
        );
    }

    #[test]
    fn json_is_camel_case_with_rfc3339_times_and_plain_ip_addresses() {
        let bundle = bundle_for(&["10.0.0.1", "fd00::10"], &["registry.local"]);
        let info = describe_pem(&bundle.leaf.cert_pem);
        let json = serde_json::to_value(&info).expect("serialize");
        assert_eq!(
            json["subjectAltNames"]["ip"],
            serde_json::json!(["10.0.0.1", "fd00::10"])
        );
        assert_eq!(
            json["subjectAltNames"]["dns"],
            serde_json::json!(["registry.local"])
        );
        assert_eq!(json["notBefore"], "2026-03-01T11:55:00Z");
        assert_eq!(json["notAfter"], "2027-03-01T12:00:00Z");
        assert_eq!(json["daysLeft"], 365);
        assert_eq!(json["publicKey"]["description"], "ECDSA P-256");
        assert_eq!(json["extendedKeyUsage"], serde_json::json!(["serverAuth"]));
        for key in [
            "sha256Fingerprint",
            "isCa",
            "pathLen",
            "keyUsage",
            "subjectKeyId",
            "authorityKeyId",
            "selfSigned",
            "notYetValid",
            "signatureAlgorithm",
            "commonName",
        ] {
            assert!(json.get(key).is_some(), "missing {key} in {json}");
        }
    }

    #[test]
    fn text_is_aligned_one_field_per_line() {
        let info = describe_pem(fixture!("server.crt"));
        let text = info.to_text();
        let value_columns: Vec<usize> = text
            .lines()
            .map(|line| {
                let colon = line.find(':').expect("label");
                colon + 1 + line[colon + 1..].chars().take_while(|c| *c == ' ').count()
            })
            .collect();
        assert_eq!(value_columns.len(), 16, "{text}");
        assert!(
            value_columns
                .iter()
                .all(|column| *column == value_columns[0]),
            "{text}"
        );
        assert!(
            text.contains("Subject alt names:   DNS:registry.example.com, IP:10.0.0.1\n"),
            "{text}"
        );
        assert!(
            text.contains("Public key:          ECDSA P-256\n"),
            "{text}"
        );
        assert!(text.contains("Extended key usage:  serverAuth\n"), "{text}");

        let cn_only = describe_pem(fixture!("cn-only.crt")).to_text();
        assert!(
            cn_only.contains("none (clients that ignore the CN will reject this certificate)"),
            "{cn_only}"
        );
    }

    #[test]
    fn describe_refuses_what_is_not_one_certificate() {
        let err = describe(b"\x30\x03\x02\x01\x01", now()).expect_err("garbage");
        assert!(
            err.to_string()
                .starts_with("the input is not a valid certificate: "),
            "{err}"
        );
        let der = certificates(fixture!("server.crt")).remove(0).der;
        let err = describe(&[der.as_slice(), b"xx"].concat(), now()).expect_err("trailing");
        assert_eq!(
            err.to_string(),
            "the input is not a valid certificate: 2 unexpected bytes after the certificate"
        );
    }

    #[test]
    fn serials_drop_leading_zero_bytes() {
        assert_eq!(serial_text(&[0x00, 0x8f, 0x01]), "8f:01");
        assert_eq!(serial_text(&[0x00]), "00");
    }
}

//! Every certificate of an input, whatever form it came in, described: `cert inspect`.

use std::fmt::Write as _;

use serde::Serialize;
use time::OffsetDateTime;

use super::describe::CertificateInfo;
use super::error::TlsError;
use super::load::{InputFormat, load_certificates};
use super::x509::parse_certificate;

/// One certificate of an inspected input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InspectedCertificate {
    /// Where in the input it was, e.g. "PEM block 1" or "tls.crt #1".
    pub origin: String,
    #[serde(flatten)]
    pub info: CertificateInfo,
}

/// Every certificate of an input, described.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InspectReport {
    pub format: InputFormat,
    pub private_keys_skipped: usize,
    pub certificates: Vec<InspectedCertificate>,
}

/// Loads certificates from any supported input (see [`load_certificates`]) and describes each.
pub fn inspect(input: &[u8], now: OffsetDateTime) -> Result<InspectReport, TlsError> {
    let loaded = load_certificates(input)?;
    let certificates = loaded
        .certificates
        .iter()
        .map(|certificate| {
            let parsed = parse_certificate(&certificate.der, &certificate.origin)?;
            Ok(InspectedCertificate {
                origin: certificate.origin.clone(),
                info: CertificateInfo::from_certificate(&parsed, now),
            })
        })
        .collect::<Result<_, TlsError>>()?;
    Ok(InspectReport {
        format: loaded.format,
        private_keys_skipped: loaded.private_keys_skipped,
        certificates,
    })
}

impl InspectReport {
    /// Human-readable: the input format, a note on private keys, then each certificate.
    pub fn to_text(&self) -> String {
        let count = self.certificates.len();
        let plural = if count == 1 { "" } else { "s" };
        let mut text = format!("Format: {} ({count} certificate{plural})\n", self.format);
        if self.private_keys_skipped > 0 {
            let keys = if self.private_keys_skipped == 1 {
                "private key present (not shown)".to_owned()
            } else {
                format!(
                    "{} private keys present (not shown)",
                    self.private_keys_skipped
                )
            };
            let _ = writeln!(text, "Note: {keys}");
        }
        for (position, certificate) in self.certificates.iter().enumerate() {
            let _ = writeln!(
                text,
                "\nCertificate {} ({}):",
                position + 1,
                certificate.origin
            );
            for line in certificate.info.to_text().lines() {
                let _ = writeln!(text, "  {line}");
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::test_support::{fixture, now};

    #[test]
    fn inspect_reports_format_origins_and_hidden_keys() {
        let input = format!("{}{}", fixture!("server.crt"), fixture!("server.key"));
        let report = inspect(input.as_bytes(), now()).expect("inspect");
        assert_eq!(report.format, InputFormat::Pem);
        assert_eq!(report.private_keys_skipped, 1);
        let text = report.to_text();
        assert!(
            text.starts_with(
                "Format: PEM (1 certificate)\nNote: private key present (not shown)\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("\nCertificate 1 (PEM block 1):\n  Subject:"),
            "{text}"
        );
        assert!(!text.contains("PRIVATE KEY"), "{text}");

        let json = serde_json::to_value(&report).expect("serialize");
        assert_eq!(json["format"], "pem");
        assert_eq!(json["privateKeysSkipped"], 1);
        assert_eq!(json["certificates"][0]["origin"], "PEM block 1");
        assert_eq!(
            json["certificates"][0]["subject"],
            "CN=registry.example.com, O=acr tests"
        );
        assert!(!json.to_string().contains("PRIVATE KEY"));

        let bare = inspect(fixture!("root-ca.crt").as_bytes(), now()).expect("inspect");
        assert!(!bare.to_text().contains("private key"));
    }
}

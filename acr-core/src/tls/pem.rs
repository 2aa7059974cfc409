//! A forgiving PEM reader (CRLF, text around blocks, blocks pasted onto one line) and writer,
//! so that every block can be reported by its position in the input.

use std::fmt::Write as _;

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::error::TlsError;

/// Standard base64 that does not insist on padding: pasted values often lose it.
pub(crate) const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// URL-safe base64 that does not insist on padding.
pub(crate) const LENIENT_BASE64_URL_SAFE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

const BEGIN_MARKER: &str = "-----BEGIN ";
const DASHES: &str = "-----";

/// One `-----BEGIN LABEL-----` ... `-----END LABEL-----` block, decoded.
#[derive(Debug)]
pub(crate) struct PemBlock {
    /// Position in the input, counting from 1.
    pub index: usize,
    pub label: String,
    /// Whether an RFC 1421 header (`Proc-Type: 4,ENCRYPTED`) marks the body as encrypted.
    pub encrypted: bool,
    pub der: Vec<u8>,
}

impl PemBlock {
    /// Whether the block holds a private key of any kind (PKCS#8, PKCS#1, SEC1, encrypted, OpenSSH).
    pub fn is_private_key(&self) -> bool {
        self.label.ends_with("PRIVATE KEY")
    }

    /// Whether the block holds an X.509 certificate.
    pub fn is_certificate(&self) -> bool {
        matches!(
            self.label.as_str(),
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE"
        )
    }
}

/// Whether `text` contains at least the start of a PEM block.
pub(crate) fn looks_like_pem(text: &str) -> bool {
    text.contains(BEGIN_MARKER)
}

/// The longest label a BEGIN line may carry; a longer one is the body of a block whose BEGIN
/// line lost its dashes, and must not be echoed.
const MAX_LABEL: usize = 64;

/// Finds and decodes every PEM block in `text`, in order. Text outside blocks is ignored.
pub(crate) fn parse_blocks(text: &str) -> Result<Vec<PemBlock>, TlsError> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(begin) = rest.find(BEGIN_MARKER) {
        let index = blocks.len() + 1;
        let after_begin = &rest[begin + BEGIN_MARKER.len()..];
        let label_end = after_begin
            .find(DASHES)
            .filter(|end| !after_begin[..*end].contains('\n') && *end <= MAX_LABEL);
        let Some(label_end) = label_end else {
            return Err(malformed(
                index,
                "?",
                "the BEGIN line does not end with -----",
            ));
        };
        let label = after_begin[..label_end].trim().to_owned();
        let body_and_rest = &after_begin[label_end + DASHES.len()..];
        let end_marker = format!("-----END {label}-----");
        let Some(body_end) = body_and_rest.find(&end_marker) else {
            return Err(malformed(index, &label, &format!("no {end_marker} line")));
        };
        let (encrypted, der) = decode_body(&body_and_rest[..body_end])
            .map_err(|reason| malformed(index, &label, &reason))?;
        blocks.push(PemBlock {
            index,
            label,
            encrypted,
            der,
        });
        rest = &body_and_rest[body_end + end_marker.len()..];
    }
    Ok(blocks)
}

/// Decodes a block body, skipping RFC 1421 headers (`Name: value` lines).
fn decode_body(body: &str) -> Result<(bool, Vec<u8>), String> {
    let mut encrypted = false;
    let mut base64_text = String::with_capacity(body.len());
    for line in body.lines() {
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("Proc-Type") && value.contains("ENCRYPTED") {
                encrypted = true;
            }
            continue;
        }
        base64_text.extend(line.chars().filter(|c| !c.is_ascii_whitespace()));
    }
    if base64_text.is_empty() {
        return Err("the block is empty".to_owned());
    }
    LENIENT_BASE64
        .decode(base64_text.as_bytes())
        .map(|der| (encrypted, der))
        .map_err(|err| format!("invalid base64: {err}"))
}

fn malformed(index: usize, label: &str, reason: &str) -> TlsError {
    TlsError::MalformedPemBlock {
        index,
        label: label.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Encodes DER as a PEM block with 64-character lines and a trailing newline, as openssl does.
pub(crate) fn encode(label: &str, der: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in encoded.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    let _ = writeln!(pem, "-----END {label}-----");
    pem
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_found_with_crlf_headers_and_surrounding_text() {
        let text = "Bag Attributes\r\n-----BEGIN CERTIFICATE-----\r\nAQID\r\nBA==\r\n-----END CERTIFICATE-----\r\n\
                    junk\n-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nBQY=\n-----END RSA PRIVATE KEY-----\n";
        let blocks = parse_blocks(text).expect("parse");
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].index, 1);
        assert_eq!(blocks[0].label, "CERTIFICATE");
        assert_eq!(blocks[0].der, vec![1, 2, 3, 4]);
        assert!(blocks[0].is_certificate());
        assert!(!blocks[0].encrypted);
        assert_eq!(blocks[1].label, "RSA PRIVATE KEY");
        assert!(blocks[1].encrypted);
        assert!(blocks[1].is_private_key());
        assert_eq!(blocks[1].der, vec![5, 6]);
    }

    #[test]
    fn a_block_pasted_onto_one_line_is_read() {
        let blocks = parse_blocks("-----BEGIN CERTIFICATE----- AQID BA -----END CERTIFICATE-----")
            .expect("parse");
        assert_eq!(blocks[0].der, vec![1, 2, 3, 4]);
    }

    #[test]
    fn malformed_blocks_are_named_by_position() {
        let missing_end = "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nAQID\n";
        let err = parse_blocks(missing_end).expect_err("no END");
        assert_eq!(
            err.to_string(),
            "PEM block 2 (CERTIFICATE) is malformed: no -----END CERTIFICATE----- line"
        );

        let bad_base64 = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        let err = parse_blocks(bad_base64).expect_err("bad base64");
        assert!(
            err.to_string()
                .starts_with("PEM block 1 (CERTIFICATE) is malformed: invalid base64"),
            "{err}"
        );

        let empty = "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n";
        let err = parse_blocks(empty).expect_err("empty");
        assert!(err.to_string().ends_with("the block is empty"), "{err}");
    }

    #[test]
    fn encode_wraps_at_64_columns_and_round_trips() {
        let der: Vec<u8> = (0..=255).collect();
        let pem = encode("CERTIFICATE", &der);
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(pem.ends_with("-----END CERTIFICATE-----\n"));
        assert!(pem.lines().all(|line| line.len() <= 64));
        let blocks = parse_blocks(&pem).expect("parse");
        assert_eq!(blocks[0].der, der);
    }
}

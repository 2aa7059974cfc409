//! Protected settings input: the `--config-protected-file` JSON and base64-encoded PEM values.

use super::SettingsError;
use crate::tls::pem::{LENIENT_BASE64, PemBlock, parse_blocks};
use base64::Engine as _;

/// Reads a protected settings file into `(key, value)` pairs in file order.
///
/// Accepts what Windows editors and shells produce (a UTF-8 byte order mark, CRLF line ends) and
/// explains the usual mistakes: unexpanded shell variables, curly quotes, UTF-16 files.
pub fn parse_protected_json(
    origin: &str,
    bytes: &[u8],
) -> Result<Vec<(String, String)>, SettingsError> {
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return Err(SettingsError::ProtectedFileEncoding {
            origin: origin.to_owned(),
            detail: "it is UTF-16 text (as Windows PowerShell writes with `>`); save it as UTF-8"
                .to_owned(),
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|err| SettingsError::ProtectedFileEncoding {
        origin: origin.to_owned(),
        detail: format!(
            "it is not UTF-8 text (invalid byte at offset {})",
            err.valid_up_to()
        ),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|err| invalid_json(origin, text, &err))?;
    let serde_json::Value::Object(map) = value else {
        return Err(SettingsError::ProtectedFileShape {
            origin: origin.to_owned(),
            detail: format!(
                "the top level must be a JSON object of settings, found {}",
                json_type(&value)
            ),
        });
    };
    map.into_iter()
        .map(|(key, value)| match value {
            serde_json::Value::String(text) => Ok((key, text)),
            other => Err(SettingsError::ProtectedFileShape {
                origin: origin.to_owned(),
                detail: format!("{key} must be a JSON string, found {}", json_type(&other)),
            }),
        })
        .collect()
}

fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

fn invalid_json(origin: &str, text: &str, err: &serde_json::Error) -> SettingsError {
    let line_text = text
        .lines()
        .nth(err.line().saturating_sub(1))
        .unwrap_or_default();
    let hint = if line_text.contains(['\u{201c}', '\u{201d}', '\u{2018}', '\u{2019}']) {
        Some("curly quotes (“ ” ‘ ’) are not JSON quotes; use straight double quotes \"".to_owned())
    } else if let Some(start) = line_text.find('$') {
        let variable: String = line_text[start..]
            .chars()
            .take_while(|c| *c == '$' || *c == '{' || *c == '}' || c.is_alphanumeric() || *c == '_')
            .collect();
        Some(format!(
            "`{variable}` looks like a shell variable that was not expanded; each value must be a JSON string in double quotes"
        ))
    } else {
        None
    };
    SettingsError::InvalidJson {
        origin: origin.to_owned(),
        line: err.line(),
        column: err.column(),
        message: json_message(err),
        hint,
    }
}

/// serde_json's message without its own " at line L column C" suffix, which the error repeats.
fn json_message(err: &serde_json::Error) -> String {
    let full = err.to_string();
    match full.rfind(" at line ") {
        Some(index) => full[..index].to_owned(),
        None => full,
    }
}

/// What a base64 PEM value must contain.
#[derive(Debug, Clone, Copy)]
pub enum PemKind {
    Certificates,
    PrivateKey,
}

impl PemKind {
    fn accepts(self, block: &PemBlock) -> bool {
        match self {
            PemKind::Certificates => block.is_certificate(),
            PemKind::PrivateKey => block.is_private_key(),
        }
    }

    fn expected(self) -> &'static str {
        match self {
            PemKind::Certificates => "-----BEGIN CERTIFICATE-----",
            PemKind::PrivateKey => "-----BEGIN PRIVATE KEY----- (or RSA/EC PRIVATE KEY)",
        }
    }
}

/// Decodes a protected setting holding base64 PEM (`base64 -w0 tls.crt`), tolerating line breaks
/// and spaces inside the base64. Errors name the setting and never echo its content.
pub fn decode_base64_pem(key: &str, value: &str, kind: PemKind) -> Result<String, SettingsError> {
    let compact: String = value.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let invalid = |detail: String| SettingsError::InvalidValue {
        key: key.to_owned(),
        detail,
    };
    if compact.is_empty() {
        return Err(invalid("is empty".to_owned()));
    }
    if compact.starts_with("-----BEGIN") {
        return Err(invalid(format!(
            "is raw PEM; the Arc extension expects it base64-encoded, as `base64 -w0 {key}` prints"
        )));
    }
    let decoded = LENIENT_BASE64
        .decode(compact.as_bytes())
        .map_err(|err| invalid(format!("is not valid base64 ({err})")))?;
    let text = String::from_utf8(decoded).map_err(|_| {
        invalid(format!(
            "decodes to binary data, not PEM text (expected {})",
            kind.expected()
        ))
    })?;
    let blocks = parse_blocks(&text)
        .map_err(|err| invalid(format!("decodes to text that is not valid PEM ({err})")))?;
    if !blocks.iter().any(|block| kind.accepts(block)) {
        return Err(invalid(format!(
            "decodes to text without a {} block",
            kind.expected()
        )));
    }
    Ok(text.replace("\r\n", "\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(result: Result<impl std::fmt::Debug, SettingsError>) -> String {
        result.expect_err("must be refused").to_string()
    }

    #[test]
    fn tutorial_sample_with_unquoted_variables_is_refused_with_position_and_hint() {
        let sample = "{\n\"connectionString\": \"$CONNECTION_STRING\",\n\"tls.crt\": $TLS_CRT,\n\"tls.key\": $TLS_KEY,\n\"tls.cacrt\": $TLS_CACRT\n}\n";
        assert_eq!(
            error_of(parse_protected_json("protected.json", sample.as_bytes())),
            "protected.json: invalid JSON at line 3, column 12: expected value\n  hint: `$TLS_CRT` looks like a shell variable that was not expanded; each value must be a JSON string in double quotes"
        );
    }

    #[test]
    fn curly_quotes_are_explained() {
        let sample = "{\n  \"tls.secret\": “k8secret”\n}";
        let message = error_of(parse_protected_json("p.json", sample.as_bytes()));
        assert!(
            message.starts_with("p.json: invalid JSON at line 2, column 17: expected value"),
            "{message}"
        );
        assert!(message.contains("curly quotes"), "{message}");
    }

    #[test]
    fn bom_and_crlf_are_accepted() {
        let sample = "\u{feff}{\r\n  \"tls.secret\": \"registry-tls\"\r\n}\r\n";
        let pairs = parse_protected_json("p.json", sample.as_bytes()).expect("valid");
        assert_eq!(
            pairs,
            vec![("tls.secret".to_owned(), "registry-tls".to_owned())]
        );
    }

    #[test]
    fn utf16_and_wrong_shapes_are_refused() {
        assert_eq!(
            error_of(parse_protected_json("p.json", &[0xff, 0xfe, b'{', 0])),
            "p.json: cannot read protected settings: it is UTF-16 text (as Windows PowerShell writes with `>`); save it as UTF-8"
        );
        assert_eq!(
            error_of(parse_protected_json("p.json", b"[1]")),
            "p.json: the top level must be a JSON object of settings, found an array"
        );
        assert_eq!(
            error_of(parse_protected_json("p.json", b"{\"tls.secret\": 5}")),
            "p.json: tls.secret must be a JSON string, found a number"
        );
    }

    const CERT_PEM: &str = "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n";

    #[test]
    fn base64_with_embedded_newlines_decodes() {
        let encoded = LENIENT_BASE64.encode(CERT_PEM);
        let wrapped = format!("{}\n{}\r\n", &encoded[..20], &encoded[20..]);
        let decoded =
            decode_base64_pem("tls.crt", &wrapped, PemKind::Certificates).expect("decodes");
        assert_eq!(decoded, CERT_PEM);
    }

    #[test]
    fn bad_base64_values_name_the_setting() {
        assert_eq!(
            error_of(decode_base64_pem(
                "tls.crt",
                CERT_PEM,
                PemKind::Certificates
            )),
            "tls.crt is raw PEM; the Arc extension expects it base64-encoded, as `base64 -w0 tls.crt` prints"
        );
        assert_eq!(
            error_of(decode_base64_pem(
                "tls.crt",
                "not*base64",
                PemKind::Certificates
            )),
            "tls.crt is not valid base64 (Invalid symbol 42, offset 3.)"
        );
        let key_in_cert_slot =
            LENIENT_BASE64.encode(CERT_PEM.replace("CERTIFICATE", "PRIVATE KEY"));
        assert_eq!(
            error_of(decode_base64_pem(
                "tls.crt",
                &key_in_cert_slot,
                PemKind::Certificates
            )),
            "tls.crt decodes to text without a -----BEGIN CERTIFICATE----- block"
        );
        assert_eq!(
            error_of(decode_base64_pem(
                "tls.key",
                &LENIENT_BASE64.encode([0xff, 0x00, 0x12]),
                PemKind::PrivateKey
            )),
            "tls.key decodes to binary data, not PEM text (expected -----BEGIN PRIVATE KEY----- (or RSA/EC PRIVATE KEY))"
        );
    }
}

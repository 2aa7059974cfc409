//! Protected settings input: the `--config-protected-file` JSON and base64-encoded PEM values.

use super::SettingsError;
use crate::secret::{SecretString, ValueShape};
use crate::tls::pem::{LENIENT_BASE64, PemBlock, parse_blocks};
use base64::Engine as _;
use std::fmt;

/// Reads a protected settings file into `(key, value)` pairs, a key given twice refused.
///
/// Accepts what Windows editors and shells produce (a UTF-8 byte order mark, CRLF line ends) and
/// explains the usual mistakes: unexpanded shell variables, curly quotes, UTF-16 files.
pub fn parse_protected_json(
    origin: &str,
    bytes: &[u8],
) -> Result<Vec<(String, SecretString)>, SettingsError> {
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
    if !value.is_object() {
        return Err(SettingsError::ProtectedFileShape {
            origin: origin.to_owned(),
            detail: format!(
                "the top level must be a JSON object of settings, found {}",
                json_type(&value)
            ),
        });
    }
    let members: serde_json::Map<String, serde_json::Value> = acr_io::json::from_str(text)
        .map_err(|err| SettingsError::ProtectedFileShape {
            origin: origin.to_owned(),
            detail: json_message(&err),
        })?;
    members
        .into_iter()
        .map(|(key, value)| match value {
            serde_json::Value::String(text) => Ok((key, SecretString::new(text))),
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
    } else if line_text.contains('$') {
        // Not echoed: a `$` may as well be part of a value whose quotes broke.
        Some(
            "a `$` on that line looks like a shell variable that was not expanded; each value must be a JSON string in double quotes"
                .to_owned(),
        )
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
/// and spaces inside the base64. Errors never echo its content.
pub fn decode_base64_pem(value: &str, kind: PemKind) -> Result<String, ProtectedValueError> {
    let compact: String = value.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        return Err(ProtectedValueError::Empty);
    }
    if compact.starts_with("-----BEGIN") {
        return Err(ProtectedValueError::RawPem);
    }
    let decoded = LENIENT_BASE64.decode(compact.as_bytes()).map_err(|err| {
        ProtectedValueError::NotBase64 {
            offset: match err {
                base64::DecodeError::InvalidByte(offset, _)
                | base64::DecodeError::InvalidLastSymbol { offset, .. } => Some(offset),
                _ => None,
            },
        }
    })?;
    let text = String::from_utf8(decoded).map_err(|_| ProtectedValueError::Binary {
        expected: kind.expected(),
    })?;
    let blocks = parse_blocks(&text).map_err(|_| ProtectedValueError::NotPem)?;
    if !blocks.iter().any(|block| kind.accepts(block)) {
        return Err(ProtectedValueError::NoBlock {
            expected: kind.expected(),
        });
    }
    Ok(text.replace("\r\n", "\n"))
}

/// Why a protected value was refused. It holds positions, fixed words and [`ValueShape`]s only,
/// never text of the value: every variant of this type is safe to print.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtectedValueError {
    #[error("is empty")]
    Empty,
    #[error(
        "is raw PEM; the Arc extension expects it base64-encoded, as `base64 -w0 <file>` prints"
    )]
    RawPem,
    #[error("is not valid base64{}", at_offset(.offset))]
    NotBase64 { offset: Option<usize> },
    #[error("decodes to binary data, not PEM text (expected {expected})")]
    Binary { expected: &'static str },
    #[error("decodes to text that is not valid PEM")]
    NotPem,
    #[error("decodes to text without a {expected} block")]
    NoBlock { expected: &'static str },
    #[error(
        "({shape}) is not a valid Secret name: {problem} (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253)"
    )]
    NotSecretName {
        shape: ValueShape,
        problem: NameProblem,
    },
}

/// What keeps a name from being an RFC 1123 subdomain, by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameProblem {
    Empty,
    TooLong,
    Character { position: usize },
    Edge,
}

impl fmt::Display for NameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameProblem::Empty => f.write_str("it is empty"),
            NameProblem::TooLong => f.write_str("it is too long"),
            NameProblem::Character { position } => {
                write!(f, "character {position} is not allowed")
            }
            NameProblem::Edge => f.write_str("it starts or ends with '-' or '.'"),
        }
    }
}

fn at_offset(offset: &Option<usize>) -> String {
    offset
        .map(|offset| format!(" (at character {})", offset + 1))
        .unwrap_or_default()
}

/// A Kubernetes object name (RFC 1123 subdomain), checked without echoing it.
pub fn parse_secret_name(value: &str) -> Result<String, ProtectedValueError> {
    let name = value.trim();
    match subdomain_problem(name) {
        None => Ok(name.to_owned()),
        Some(problem) => Err(ProtectedValueError::NotSecretName {
            shape: ValueShape::of(value),
            problem,
        }),
    }
}

/// What keeps `name` from being an RFC 1123 subdomain (a Secret's or a StorageClass's name).
pub(super) fn subdomain_problem(name: &str) -> Option<NameProblem> {
    if name.is_empty() {
        Some(NameProblem::Empty)
    } else if name.len() > 253 {
        Some(NameProblem::TooLong)
    } else if let Some(index) = name
        .chars()
        .position(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'))
    {
        Some(NameProblem::Character {
            position: index + 1,
        })
    } else if !name.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !name.ends_with(|c: char| c.is_ascii_alphanumeric())
    {
        Some(NameProblem::Edge)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Fuzzing: any bytes are read or refused without a panic.
        #[test]
        fn fuzz_any_bytes_are_read_or_refused(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_protected_json("p.json", &bytes);
        }

        /// Fuzzing: a protected settings file broken anywhere (a byte dropped or a character
        /// added) never shows a value in its error.
        #[test]
        fn fuzz_no_error_shows_a_value(
            letters in "[A-Za-z0-9]{8,16}",
            tail in "[$+/=A-Z]{0,8}",
            position in 0usize..200,
            insert in proptest::option::of("[\"{}:,$\\ \n]"),
        ) {
            let secret = format!("{letters}{tail}");
            let text = format!("{{\n  \"tls.key\": \"{secret}\",\n  \"tls.secret\": \"{secret}\"\n}}\n");
            let at = position % text.len();
            let mutated = match &insert {
                Some(added) => format!("{}{added}{}", &text[..at], &text[at..]),
                None => format!("{}{}", &text[..at], &text[at + 1..]),
            };
            if let Err(error) = parse_protected_json("p.json", mutated.as_bytes()) {
                let shown = format!("{error} {error:?}");
                prop_assert!(!shown.contains(&letters), "{}", shown);
            }
        }
    }

    fn error_of(result: Result<impl std::fmt::Debug, SettingsError>) -> String {
        result.expect_err("must be refused").to_string()
    }

    #[test]
    fn tutorial_sample_with_unquoted_variables_is_refused_with_position_and_hint() {
        let sample = "{\n\"connectionString\": \"$CONNECTION_STRING\",\n\"tls.crt\": $TLS_CRT,\n\"tls.key\": $TLS_KEY,\n\"tls.cacrt\": $TLS_CACRT\n}\n";
        assert_eq!(
            error_of(parse_protected_json("protected.json", sample.as_bytes())),
            "protected.json: invalid JSON at line 3, column 12: expected value\n  hint: a `$` on that line looks like a shell variable that was not expanded; each value must be a JSON string in double quotes"
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
        assert_eq!(pairs.len(), 1);
        assert_eq!(pairs[0].0, "tls.secret");
        assert_eq!(pairs[0].1.expose(), "registry-tls");
    }

    #[test]
    fn a_key_given_twice_is_refused_by_name() {
        let sample = "{\"tls.secret\": \"a\", \"connectionString\": \"x\", \"tls.secret\": \"b\"}";
        assert_eq!(
            error_of(parse_protected_json("p.json", sample.as_bytes())),
            "p.json: the key \"tls.secret\" is given twice in the top-level object"
        );
    }

    #[test]
    fn a_dollar_inside_a_secret_is_not_echoed() {
        let sample = "{\n\"connectionString\": \"a\",\n\"tls.key\": x$hunter2\n}";
        let message = error_of(parse_protected_json("p.json", sample.as_bytes()));
        assert!(!message.contains("hunter2"), "{message}");
        assert!(
            message.contains("a `$` on that line looks like a shell variable"),
            "{message}"
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
        let decoded = decode_base64_pem(&wrapped, PemKind::Certificates).expect("decodes");
        assert_eq!(decoded, CERT_PEM);
    }

    #[test]
    fn bad_base64_values_say_what_is_wrong_without_the_value() {
        let error = |value: &str, kind| {
            decode_base64_pem(value, kind)
                .expect_err("must be refused")
                .to_string()
        };
        assert_eq!(
            error(CERT_PEM, PemKind::Certificates),
            "is raw PEM; the Arc extension expects it base64-encoded, as `base64 -w0 <file>` prints"
        );
        assert_eq!(
            error("not*base64", PemKind::Certificates),
            "is not valid base64 (at character 4)"
        );
        let key_in_cert_slot =
            LENIENT_BASE64.encode(CERT_PEM.replace("CERTIFICATE", "PRIVATE KEY"));
        assert_eq!(
            error(&key_in_cert_slot, PemKind::Certificates),
            "decodes to text without a -----BEGIN CERTIFICATE----- block"
        );
        assert_eq!(
            error(
                &LENIENT_BASE64.encode([0xff, 0x00, 0x12]),
                PemKind::PrivateKey
            ),
            "decodes to binary data, not PEM text (expected -----BEGIN PRIVATE KEY----- (or RSA/EC PRIVATE KEY))"
        );
        let broken_key = LENIENT_BASE64
            .encode("-----BEGIN PRIVATE KEY\nhunter2hunter2\n-----END PRIVATE KEY-----\n");
        assert_eq!(
            error(&broken_key, PemKind::PrivateKey),
            "decodes to text that is not valid PEM"
        );
    }

    #[test]
    fn secret_names_are_checked_without_being_echoed() {
        assert_eq!(
            parse_secret_name(" registry-tls ").as_deref(),
            Ok("registry-tls")
        );
        let pem = "-----BEGIN PRIVATE KEY-----\nMIIEhunter2\n-----END PRIVATE KEY-----";
        assert_eq!(
            parse_secret_name(pem).expect_err("refused").to_string(),
            "(<redacted>, 65 characters, looks like a PEM private key) is not a valid Secret name: character 6 is not allowed (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253)"
        );
        assert!(matches!(
            parse_secret_name("-a"),
            Err(ProtectedValueError::NotSecretName {
                problem: NameProblem::Edge,
                ..
            })
        ));
    }
}

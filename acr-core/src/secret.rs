//! The redaction rule: a secret is carried as [`SecretString`], never shown by `Debug`, `Display`
//! or serialisation; an error about a value that may be secret holds only its [`ValueShape`].

use serde::{Serialize, Serializer};
use std::fmt;

/// The text shown wherever a secret would otherwise appear.
pub const REDACTED: &str = "<redacted>";

/// A secret value (token password, private key PEM). Read it with [`SecretString::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the few places that must use it (writing a key file, a Secret object).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Why a password read from standard input or a file is not usable. Never holds the bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("the password from {origin} is empty")]
    Empty { origin: String },
    #[error("the password from {origin} is not UTF-8 text")]
    NotText { origin: String },
    #[error(
        "the password from {origin} holds a line break or another control character; give the \
         password alone, on one line"
    )]
    ControlCharacter { origin: String },
}

/// The one reading of a password given on standard input or in a file (`--password-stdin`,
/// `--password-file`): the bytes up to one trailing line break (`\n` or `\r\n`, as `echo` or a
/// text editor leave it), which must be one line of text (no control character) and not empty.
/// `origin` names the source in errors; the bytes never appear in one.
pub fn password_from_input(bytes: Vec<u8>, origin: &str) -> Result<SecretString, PasswordError> {
    let mut text = String::from_utf8(bytes).map_err(|_| PasswordError::NotText {
        origin: origin.to_owned(),
    })?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    if text.is_empty() {
        return Err(PasswordError::Empty {
            origin: origin.to_owned(),
        });
    }
    if text.chars().any(char::is_control) {
        return Err(PasswordError::ControlCharacter {
            origin: origin.to_owned(),
        });
    }
    Ok(SecretString::new(text))
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Serialize for SecretString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

/// A parser's message about input that may hold secrets, with every double-quoted value
/// (serde quotes the values it could not use, `invalid type: string "..."`) replaced by
/// [`REDACTED`]; keys, which serde quotes with backticks, stay.
pub fn redact_quoted_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut parts = message.split('"');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    let mut quoted = true;
    for part in parts {
        if quoted {
            out.push('"');
            out.push_str(REDACTED);
            out.push('"');
        } else {
            out.push_str(part);
        }
        quoted = !quoted;
    }
    out
}

/// A value as an error may quote it: itself when it looks like no secret (no key, connection
/// string or credentials in a URL), else only its [`ValueShape`]. For flags whose values are
/// names (images, hosts) but where a user may paste a URL carrying a password.
pub fn quotable(value: &str) -> String {
    let shape = ValueShape::of(value);
    match shape.looks_like {
        Some(_) => shape.to_string(),
        None => value.to_owned(),
    }
}

/// What an error may say about a value that may be secret: how long it is and what it looks
/// like, never its text. Error types of protected values hold this instead of the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueShape {
    chars: usize,
    looks_like: Option<&'static str>,
}

impl ValueShape {
    pub fn of(value: &str) -> Self {
        let trimmed = value.trim();
        let looks_like = if trimmed.contains("PRIVATE KEY-----") {
            Some("a PEM private key")
        } else if trimmed.contains("-----BEGIN") {
            Some("PEM")
        } else if trimmed.contains('=') && trimmed.contains(';') {
            Some("a connection string")
        } else if trimmed.split('@').nth(1).is_some()
            && trimmed
                .split('@')
                .next()
                .is_some_and(|userinfo| userinfo.contains(':'))
        {
            Some("a URL with credentials")
        } else {
            None
        };
        Self {
            chars: trimmed.chars().count(),
            looks_like,
        }
    }
}

impl fmt::Display for ValueShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{REDACTED}, {} characters", self.chars)?;
        match self.looks_like {
            Some(kind) => write!(f, ", looks like {kind}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_that_may_hold_a_secret_are_quoted_by_their_shape_only() {
        assert_eq!(
            quotable("mcr.microsoft.com=mirror:5000"),
            "mcr.microsoft.com=mirror:5000"
        );
        assert_eq!(
            quotable("mcr.microsoft.com=https://user:hunter2@mirror:5000"),
            "<redacted>, 50 characters, looks like a URL with credentials"
        );
        assert_eq!(
            quotable("acr/connected-registry@sha256:00"),
            "acr/connected-registry@sha256:00"
        );
        assert!(quotable("-----BEGIN PRIVATE KEY-----").starts_with("<redacted>"));
        assert!(quotable("SyncTokenPassword=x;ParentGatewayEndpoint=y").starts_with("<redacted>"));
    }

    #[test]
    fn passwords_lose_one_trailing_line_break_and_must_not_be_empty() {
        let read = |bytes: &[u8]| {
            password_from_input(bytes.to_vec(), "stdin").map(|secret| secret.expose().to_owned())
        };
        assert_eq!(read(b"secret\n"), Ok("secret".to_owned()));
        assert_eq!(read(b"secret\r\n"), Ok("secret".to_owned()));
        assert_eq!(read(b"secret"), Ok("secret".to_owned()));
        for multi_line in [
            &b"secret\n\n"[..],
            b"secret\n# comment\n",
            b"sec\tret",
            b"\x1b[2Jsecret",
        ] {
            assert_eq!(
                read(multi_line),
                Err(PasswordError::ControlCharacter {
                    origin: "stdin".to_owned()
                }),
                "{multi_line:?}"
            );
        }
        assert_eq!(read(b" secret \n"), Ok(" secret ".to_owned()));
        for empty in [&b""[..], b"\n", b"\r\n"] {
            assert_eq!(
                read(empty),
                Err(PasswordError::Empty {
                    origin: "stdin".to_owned()
                })
            );
        }
        assert_eq!(
            read(&[0xff, 0xfe]),
            Err(PasswordError::NotText {
                origin: "stdin".to_owned()
            })
        );
    }

    #[test]
    fn quoted_values_in_parser_messages_are_redacted_and_keys_kept() {
        assert_eq!(
            redact_quoted_values(
                "clusters: invalid type: string \"SyncTokenPassword=hunter2;\", expected a sequence at line 1"
            ),
            "clusters: invalid type: string \"<redacted>\", expected a sequence at line 1"
        );
        assert_eq!(
            redact_quoted_values("unknown field `contxt`, expected one of `name`"),
            "unknown field `contxt`, expected one of `name`"
        );
    }

    #[test]
    fn value_shape_tells_length_and_kind_not_text() {
        let shape =
            ValueShape::of("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n");
        assert_eq!(
            shape.to_string(),
            "<redacted>, 58 characters, looks like a PEM private key"
        );
        assert_eq!(
            ValueShape::of("hunter2").to_string(),
            "<redacted>, 7 characters"
        );
    }

    #[test]
    fn secret_is_redacted_everywhere_but_expose() {
        let secret = SecretString::new("hunter2");
        assert_eq!(format!("{secret:?} {secret}"), "<redacted> <redacted>");
        assert_eq!(
            serde_json::to_string(&secret).expect("serialise"),
            "\"<redacted>\""
        );
        assert_eq!(secret.expose(), "hunter2");
    }
}

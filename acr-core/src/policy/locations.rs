//! Where each setting a policy result names was given, so that SARIF and CI annotations point
//! at it: an argument of the command line (rebuilt from the input, protected values redacted),
//! or a line of the JSON file the settings or the review came from. A result that names no
//! setting, or a setting left at its default, points at the command line.

use crate::secret::REDACTED;
use crate::settings::{SettingsInput, keys};

/// A file or text results point into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// The file as a URI reference, or `command-line`.
    pub uri: String,
    /// The file's path as given (what CI annotations name), `None` for the command line.
    pub path: Option<String>,
    /// The text itself where it is not a file (the command line).
    pub contents: Option<String>,
}

/// A place in an artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// Index into [`ResultLocations::artifacts`].
    pub artifact: usize,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based first column and the column after the last, on the command line.
    pub columns: Option<(usize, usize)>,
}

/// The artifacts of one check and where each setting was found in them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultLocations {
    pub artifacts: Vec<Artifact>,
    /// Setting key and its columns on the command line (later entries win, as the flags do).
    arguments: Vec<(String, (usize, usize))>,
    /// The JSON file searched for keys: its artifact index and text.
    file: Option<(usize, String)>,
}

/// The artifact index of the command line.
const COMMAND_LINE: usize = 0;

impl ResultLocations {
    /// For settings given as flags and a protected settings file; `command` is how the command
    /// was called (e.g. `kubectl acr policy check`).
    pub fn of_settings(command: &str, input: &SettingsInput) -> Self {
        let mut line = command.to_owned();
        let mut arguments = Vec::new();
        let mut push = |flag: &str, key: &str, value: &str| {
            line.push(' ');
            line.push_str(flag);
            line.push(' ');
            let start = line.chars().count() + 1;
            line.push_str(&shell_word(&format!("{key}={value}")));
            arguments.push((key.to_owned(), (start, line.chars().count() + 1)));
        };
        for (key, value) in &input.config {
            let shown = if keys::PROTECTED.contains(&key.as_str()) {
                REDACTED
            } else {
                value.as_str()
            };
            push("--config", key, shown);
        }
        for (key, _) in &input.protected {
            push("--config-protected", key, REDACTED);
        }
        let mut artifacts = vec![];
        let mut file = None;
        if let Some((origin, bytes)) = &input.protected_file {
            line.push_str(" --config-protected-file ");
            line.push_str(&shell_word(origin));
            if origin != "-" {
                file = Some((1, String::from_utf8_lossy(bytes).into_owned()));
                artifacts.push(Artifact {
                    uri: file_uri(origin),
                    path: Some(origin.clone()),
                    contents: None,
                });
            }
        }
        artifacts.insert(
            COMMAND_LINE,
            Artifact {
                uri: "command-line".to_owned(),
                path: None,
                contents: Some(line),
            },
        );
        Self {
            artifacts,
            arguments,
            file,
        }
    }

    /// For a check whose inputs are all on the command line, as `command` says.
    pub fn of_command(command: &str) -> Self {
        Self {
            artifacts: vec![Artifact {
                uri: "command-line".to_owned(),
                path: None,
                contents: Some(command.to_owned()),
            }],
            arguments: Vec::new(),
            file: None,
        }
    }

    /// For a review read from `path`: fields are found by their key in its text.
    pub fn of_review(command: &str, path: &str, text: &[u8]) -> Self {
        Self {
            artifacts: vec![
                Artifact {
                    uri: "command-line".to_owned(),
                    path: None,
                    contents: Some(format!("{command} --input {}", shell_word(path))),
                },
                Artifact {
                    uri: file_uri(path),
                    path: Some(path.to_owned()),
                    contents: None,
                },
            ],
            arguments: Vec::new(),
            file: Some((1, String::from_utf8_lossy(text).into_owned())),
        }
    }

    /// Where `field` (a setting key, or a key and a part of it such as
    /// `connectionString.auth.password`) was given; the command line when nowhere.
    pub fn locate(&self, field: Option<&str>) -> Location {
        let whole_command = Location {
            artifact: COMMAND_LINE,
            line: Some(1),
            columns: None,
        };
        let Some(field) = field else {
            return whole_command;
        };
        for key in prefixes(field) {
            if let Some((_, columns)) = self.arguments.iter().rev().find(|(name, _)| name == key) {
                return Location {
                    artifact: COMMAND_LINE,
                    line: Some(1),
                    columns: Some(*columns),
                };
            }
            if let Some((artifact, text)) = &self.file
                && let Some(line) = line_of_key(text, key)
            {
                return Location {
                    artifact: *artifact,
                    line: Some(line),
                    columns: None,
                };
            }
        }
        whole_command
    }
}

/// A path as a URI reference: relative paths stay relative (SARIF consumers resolve them against
/// the checkout), absolute ones become `file://` URIs; bytes outside RFC 3986's unreserved set
/// and `/` are percent-encoded.
fn file_uri(path: &str) -> String {
    let mut uri = String::new();
    if path.starts_with('/') {
        uri.push_str("file://");
    }
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

/// `a.b.c`, then `a.b`, then `a`.
fn prefixes(field: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(field), |key| {
        key.rsplit_once('.').map(|(head, _)| head)
    })
}

/// The line of the first `"key":` in JSON text.
fn line_of_key(text: &str, key: &str) -> Option<usize> {
    let quoted = format!("\"{key}\"");
    let mut from = 0;
    while let Some(found) = text[from..].find(&quoted) {
        let at = from + found;
        let after = &text[at + quoted.len()..];
        if after.trim_start().starts_with(':') {
            return Some(text[..at].matches('\n').count() + 1);
        }
        from = at + quoted.len();
    }
    None
}

/// `word` as a shell would need it: single-quoted when it holds anything but safe characters.
fn shell_word(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./=:@,+%".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> SettingsInput {
        SettingsInput {
            config: vec![
                ("service.clusterIP".to_owned(), "10.0.0.1".to_owned()),
                ("trustDistribution.enabled".to_owned(), "false".to_owned()),
            ],
            protected_file: Some((
                "site/protected.json".to_owned(),
                b"{\n  \"tls.secret\": \"x\",\n  \"connectionString\": \"secret\"\n}\n".to_vec(),
            )),
            protected: vec![("tls.cacrt".to_owned(), "base64-secret".to_owned())],
        }
    }

    #[test]
    fn settings_are_found_on_the_command_line_or_in_the_file() {
        let locations = ResultLocations::of_settings("kubectl acr policy check", &input());
        let command = locations.artifacts[0].contents.clone().expect("text");
        assert_eq!(
            command,
            "kubectl acr policy check --config service.clusterIP=10.0.0.1 --config \
             trustDistribution.enabled=false --config-protected 'tls.cacrt=<redacted>' \
             --config-protected-file site/protected.json"
        );
        assert!(!command.contains("base64-secret"));
        let at = locations.locate(Some("trustDistribution.enabled"));
        let (start, end) = at.columns.expect("columns");
        assert_eq!(
            &command[start - 1..end - 1],
            "trustDistribution.enabled=false"
        );
        assert_eq!(
            locations.locate(Some("connectionString.auth.password")),
            Location {
                artifact: 1,
                line: Some(3),
                columns: None
            }
        );
        assert_eq!(locations.artifacts[1].uri, "site/protected.json");
        assert_eq!(locations.locate(Some("tls.cacrt")).artifact, 0);
        assert_eq!(
            locations.locate(Some("cert-manager.install")),
            Location {
                artifact: 0,
                line: Some(1),
                columns: None
            },
            "a default points at the command line"
        );
    }

    #[test]
    fn a_connection_string_given_with_config_is_redacted_on_the_command_line() {
        let input = SettingsInput {
            config: vec![(
                "connectionString".to_owned(),
                "SyncTokenPassword=cfg-secret".to_owned(),
            )],
            ..SettingsInput::default()
        };
        let locations = ResultLocations::of_settings("kubectl acr policy check", &input);
        let command = locations.artifacts[0].contents.clone().expect("text");
        assert_eq!(
            command,
            "kubectl acr policy check --config 'connectionString=<redacted>'"
        );
        assert!(
            locations
                .locate(Some("connectionString.auth.password"))
                .columns
                .is_some()
        );
    }

    #[test]
    fn files_are_uri_references() {
        assert_eq!(file_uri("site/protected.json"), "site/protected.json");
        assert_eq!(
            file_uri("/srv/my site/p#1.json"),
            "file:///srv/my%20site/p%231.json"
        );
    }

    #[test]
    fn review_fields_are_found_by_key_not_by_value() {
        let text = b"{\"object\": {\n \"note\": \"service.clusterIP\",\n \"service.clusterIP\" : \"10.0.0.1\"}}";
        let locations = ResultLocations::of_review("kubectl acr policy check", "r.json", text);
        assert_eq!(locations.locate(Some("service.clusterIP")).line, Some(3));
        assert_eq!(locations.locate(None).artifact, 0);
    }
}

//! The connected registry connection string, as `az acr connected-registry get-settings` prints it.

use crate::secret::{REDACTED, SecretString, ValueShape};
use serde::Serialize;
use std::fmt;

/// How the connected registry authenticates to its parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ParentAuth {
    /// A sync token and its password.
    #[serde(rename_all = "camelCase")]
    SyncToken {
        token_name: String,
        password: SecretString,
    },
    /// A managed identity, by client ID (no token pair).
    #[serde(rename_all = "camelCase")]
    ManagedIdentity { client_id: String },
}

/// The protocol used to reach the parent registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParentProtocol {
    Https,
    Http,
}

impl fmt::Display for ParentProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParentProtocol::Https => "https",
            ParentProtocol::Http => "http",
        })
    }
}

/// A parsed connection string. `Debug`, `Display` and serialisation redact the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionString {
    pub connected_registry_name: String,
    pub auth: ParentAuth,
    pub parent_gateway_endpoint: String,
    pub parent_endpoint_protocol: ParentProtocol,
}

/// Why a connection string was refused. It holds names of known parts, positions and
/// [`ValueShape`]s only, never text from the input: a connection string carries a password, and a
/// misplaced `;`, `=` or a wrong file (a private key) puts it anywhere.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionStringError {
    #[error("connection string is empty")]
    Empty,
    #[error(
        "connection string part {position} ({shape}) is not Key=Value; values with `;` are not allowed"
    )]
    NotKeyValue { position: usize, shape: ValueShape },
    #[error(
        "connection string part {position} has an unknown key ({shape}){}",
        did_you_mean(.suggestion)
    )]
    UnknownKey {
        position: usize,
        shape: ValueShape,
        suggestion: Option<&'static str>,
    },
    #[error("connection string gives {key} twice")]
    Duplicate { key: &'static str },
    #[error("connection string part {key} is empty")]
    EmptyValue { key: &'static str },
    #[error("connection string is missing {}", .missing.join(", "))]
    Missing { missing: Vec<&'static str> },
    #[error(
        "connection string has both ManagedIdentityClientId and {token_key}: use either a managed identity or a sync token, not both"
    )]
    IdentityAndToken { token_key: &'static str },
    #[error("connection string ParentEndpointProtocol ({shape}) is neither https nor http")]
    Protocol { shape: ValueShape },
    #[error(
        "connection string ParentGatewayEndpoint ({shape}) must be a host name without a scheme, path or spaces; the protocol goes in ParentEndpointProtocol"
    )]
    Endpoint { shape: ValueShape },
}

fn did_you_mean(suggestion: &Option<&'static str>) -> String {
    suggestion
        .map(|key| format!("; did you mean {key}?"))
        .unwrap_or_default()
}

const NAME: &str = "ConnectedRegistryName";
const TOKEN_NAME: &str = "SyncTokenName";
const TOKEN_PASSWORD: &str = "SyncTokenPassword";
const ENDPOINT: &str = "ParentGatewayEndpoint";
const PROTOCOL: &str = "ParentEndpointProtocol";
const IDENTITY: &str = "ManagedIdentityClientId";
const KEYS: [&str; 6] = [
    NAME,
    TOKEN_NAME,
    TOKEN_PASSWORD,
    ENDPOINT,
    PROTOCOL,
    IDENTITY,
];

#[derive(Default)]
struct Parts {
    values: [Option<String>; KEYS.len()],
}

impl Parts {
    fn take(&mut self, key: &str) -> Option<String> {
        KEYS.iter()
            .position(|known| *known == key)
            .and_then(|index| self.values[index].take())
    }
}

impl ConnectionString {
    /// Parses `Key=Value;Key=Value`. Keys are matched case-insensitively; surrounding white space
    /// and Windows line ends are ignored; a value may itself contain `=` (base64 passwords do).
    pub fn parse(input: &str) -> Result<Self, ConnectionStringError> {
        let input = input.trim_start_matches('\u{feff}').trim();
        if input.is_empty() {
            return Err(ConnectionStringError::Empty);
        }
        let mut parts = Parts::default();
        let segments = input.split(';').map(str::trim).filter(|s| !s.is_empty());
        for (index, segment) in segments.enumerate() {
            let Some((raw_key, value)) = segment.split_once('=') else {
                return Err(ConnectionStringError::NotKeyValue {
                    position: index + 1,
                    shape: ValueShape::of(segment),
                });
            };
            let raw_key = raw_key.trim();
            let slot = KEYS
                .iter()
                .position(|known| known.eq_ignore_ascii_case(raw_key))
                .ok_or_else(|| ConnectionStringError::UnknownKey {
                    position: index + 1,
                    shape: ValueShape::of(raw_key),
                    suggestion: crate::settings::keys::closest(raw_key, &KEYS),
                })?;
            let key = KEYS[slot];
            let value = value.trim();
            if value.is_empty() {
                return Err(ConnectionStringError::EmptyValue { key });
            }
            if parts.values[slot].replace(value.to_owned()).is_some() {
                return Err(ConnectionStringError::Duplicate { key });
            }
        }
        Self::from_parts(parts)
    }

    fn from_parts(mut parts: Parts) -> Result<Self, ConnectionStringError> {
        let name = parts.take(NAME);
        let token_name = parts.take(TOKEN_NAME);
        let token_password = parts.take(TOKEN_PASSWORD);
        let endpoint = parts.take(ENDPOINT);
        let protocol = parts.take(PROTOCOL);
        let identity = parts.take(IDENTITY);

        if identity.is_some() {
            let token_key = match (&token_name, &token_password) {
                (Some(_), _) => Some(TOKEN_NAME),
                (None, Some(_)) => Some(TOKEN_PASSWORD),
                (None, None) => None,
            };
            if let Some(token_key) = token_key {
                return Err(ConnectionStringError::IdentityAndToken { token_key });
            }
        }

        let mut missing = Vec::new();
        if name.is_none() {
            missing.push(NAME);
        }
        if identity.is_none() {
            if token_name.is_none() {
                missing.push(TOKEN_NAME);
            }
            if token_password.is_none() {
                missing.push(TOKEN_PASSWORD);
            }
        }
        if endpoint.is_none() {
            missing.push(ENDPOINT);
        }
        if protocol.is_none() {
            missing.push(PROTOCOL);
        }
        let (Some(name), Some(endpoint), Some(protocol)) = (name, endpoint, protocol) else {
            return Err(ConnectionStringError::Missing { missing });
        };
        let auth = match (identity, token_name, token_password) {
            (Some(client_id), _, _) => ParentAuth::ManagedIdentity { client_id },
            (None, Some(token_name), Some(password)) => ParentAuth::SyncToken {
                token_name,
                password: SecretString::new(password),
            },
            _ => return Err(ConnectionStringError::Missing { missing }),
        };
        let parent_endpoint_protocol = match protocol.to_ascii_lowercase().as_str() {
            "https" => ParentProtocol::Https,
            "http" => ParentProtocol::Http,
            _ => {
                return Err(ConnectionStringError::Protocol {
                    shape: ValueShape::of(&protocol),
                });
            }
        };
        if endpoint.contains("://") || endpoint.contains('/') || endpoint.contains(' ') {
            return Err(ConnectionStringError::Endpoint {
                shape: ValueShape::of(&endpoint),
            });
        }
        Ok(Self {
            connected_registry_name: name,
            auth,
            parent_gateway_endpoint: endpoint,
            parent_endpoint_protocol,
        })
    }

    /// The connection string in its canonical form, password included, for the cluster Secret.
    pub fn expose(&self) -> String {
        self.render(|password| password.expose().to_owned())
    }

    fn render(&self, show_password: impl Fn(&SecretString) -> String) -> String {
        let auth = match &self.auth {
            ParentAuth::SyncToken {
                token_name,
                password,
            } => format!(
                "{TOKEN_NAME}={token_name};{TOKEN_PASSWORD}={}",
                show_password(password)
            ),
            ParentAuth::ManagedIdentity { client_id } => format!("{IDENTITY}={client_id}"),
        };
        format!(
            "{NAME}={};{auth};{ENDPOINT}={};{PROTOCOL}={}",
            self.connected_registry_name,
            self.parent_gateway_endpoint,
            self.parent_endpoint_protocol
        )
    }
}

impl fmt::Display for ConnectionString {
    /// The canonical form with the password redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(|_| REDACTED.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Fuzzing: any text parses or is refused without a panic.
        #[test]
        fn fuzz_any_text_is_parsed_or_refused(input in "\\PC{0,300}") {
            let _ = ConnectionString::parse(&input);
        }

        /// Fuzzing: a connection string with a stray `;`, `:`, `=`, space or line break put
        /// anywhere never shows its password in an error.
        #[test]
        fn fuzz_no_error_shows_the_password(
            password in "[A-Z0-9+/]{10,24}",
            position in 0usize..400,
            junk in "[;:= \r\n]{1,3}",
        ) {
            let text = format!(
                "ConnectedRegistryName=a;SyncTokenName=t;SyncTokenPassword={password};ParentGatewayEndpoint=h;ParentEndpointProtocol=https"
            );
            let at = position % (text.len() + 1);
            let mutated = format!("{}{junk}{}", &text[..at], &text[at..]);
            if let Err(error) = ConnectionString::parse(&mutated) {
                let shown = format!("{error} {error:?}");
                prop_assert!(!shown.contains(&password), "{}", shown);
            }
        }
    }

    const TOKEN: &str = "ConnectedRegistryName=myconnectedregistry;SyncTokenName=myconnectedregistry-sync-token;SyncTokenPassword=xK9/ab+cd==;ParentGatewayEndpoint=myregistry.eastus.data.azurecr.io;ParentEndpointProtocol=https";

    #[test]
    fn parses_a_sync_token_connection_string() {
        let parsed = ConnectionString::parse(TOKEN).expect("valid");
        assert_eq!(parsed.connected_registry_name, "myconnectedregistry");
        assert_eq!(
            parsed.parent_gateway_endpoint,
            "myregistry.eastus.data.azurecr.io"
        );
        assert_eq!(parsed.parent_endpoint_protocol, ParentProtocol::Https);
        match &parsed.auth {
            ParentAuth::SyncToken {
                token_name,
                password,
            } => {
                assert_eq!(token_name, "myconnectedregistry-sync-token");
                assert_eq!(password.expose(), "xK9/ab+cd==");
            }
            other => panic!("expected a sync token, got {other:?}"),
        }
        assert_eq!(parsed.expose(), TOKEN);
        assert!(!parsed.to_string().contains("xK9"));
        assert!(!format!("{parsed:?}").contains("xK9"));
        assert!(
            !serde_json::to_string(&parsed)
                .expect("json")
                .contains("xK9")
        );
    }

    #[test]
    fn tolerates_trailing_carriage_return_bom_and_semicolon() {
        let input = format!("\u{feff}{TOKEN};\r\n");
        let parsed = ConnectionString::parse(&input).expect("valid");
        assert_eq!(parsed.parent_endpoint_protocol, ParentProtocol::Https);
        assert_eq!(parsed.expose(), TOKEN);
    }

    #[test]
    fn parses_the_managed_identity_variant() {
        let parsed = ConnectionString::parse(
            "ConnectedRegistryName=edge;ManagedIdentityClientId=0000-1111;ParentGatewayEndpoint=parent.example.com;ParentEndpointProtocol=HTTP",
        )
        .expect("valid");
        assert_eq!(
            parsed.auth,
            ParentAuth::ManagedIdentity {
                client_id: "0000-1111".into()
            }
        );
        assert_eq!(parsed.parent_endpoint_protocol, ParentProtocol::Http);
    }

    fn error_of(input: &str) -> String {
        ConnectionString::parse(input)
            .expect_err("must be refused")
            .to_string()
    }

    #[test]
    fn refuses_identity_with_token() {
        assert_eq!(
            error_of(
                "ConnectedRegistryName=a;ManagedIdentityClientId=x;SyncTokenPassword=p;ParentGatewayEndpoint=h;ParentEndpointProtocol=https"
            ),
            "connection string has both ManagedIdentityClientId and SyncTokenPassword: use either a managed identity or a sync token, not both"
        );
    }

    #[test]
    fn names_every_missing_part() {
        assert_eq!(
            error_of("ConnectedRegistryName=a;SyncTokenName=t"),
            "connection string is missing SyncTokenPassword, ParentGatewayEndpoint, ParentEndpointProtocol"
        );
    }

    #[test]
    fn suggests_the_closest_key() {
        assert_eq!(
            error_of("ConnectedRegistryName=a;SyncTokenNam=t"),
            "connection string part 2 has an unknown key (<redacted>, 12 characters); did you mean SyncTokenName?"
        );
    }

    #[test]
    fn refuses_malformed_parts() {
        assert_eq!(error_of(" \r\n"), "connection string is empty");
        assert_eq!(
            error_of("ConnectedRegistryName=a;oops"),
            "connection string part 2 (<redacted>, 4 characters) is not Key=Value; values with `;` are not allowed"
        );
        assert_eq!(
            error_of("ConnectedRegistryName=a;ConnectedRegistryName=b"),
            "connection string gives ConnectedRegistryName twice"
        );
        assert_eq!(
            error_of("ConnectedRegistryName=;SyncTokenName=t"),
            "connection string part ConnectedRegistryName is empty"
        );
        assert_eq!(
            error_of(&TOKEN.replace("=https", "=ftp")),
            "connection string ParentEndpointProtocol (<redacted>, 3 characters) is neither https nor http"
        );
        assert!(
            error_of(&TOKEN.replace("=myregistry", "=https://myregistry"))
                .contains("must be a host name without a scheme")
        );
    }

    /// Each way a password or a private key lands outside SyncTokenPassword: a stray `;` or `:`,
    /// a password with `;`, the key file given as the connection string.
    #[test]
    fn no_error_shows_any_part_of_the_input() {
        let secret = "hunter2Secret";
        let key_pem = format!(
            "-----BEGIN PRIVATE KEY-----\nMIIEvQ{secret}IBADANBgkqhkiG9w0BAQEFAASC+/=\n-----END PRIVATE KEY-----\n"
        );
        let cases = [
            format!(
                "ConnectedRegistryName=a;SyncTokenName=t;SyncTokenPassword=abc;{secret};ParentGatewayEndpoint=h;ParentEndpointProtocol=https"
            ),
            format!(
                "ConnectedRegistryName=a;SyncTokenName=t;SyncTokenPassword:{secret};ParentGatewayEndpoint=h;ParentEndpointProtocol=https"
            ),
            format!(
                "ConnectedRegistryName=a;SyncTokenName=t;{secret}=x;ParentGatewayEndpoint=h;ParentEndpointProtocol=https"
            ),
            format!(
                "ConnectedRegistryName=a;SyncTokenName=t;SyncTokenPassword=p;ParentGatewayEndpoint=h {secret};ParentEndpointProtocol=https"
            ),
            format!(
                "ConnectedRegistryName=a;SyncTokenName=t;SyncTokenPassword=p;ParentGatewayEndpoint=h;ParentEndpointProtocol={secret}"
            ),
            key_pem,
        ];
        for case in cases {
            let error = ConnectionString::parse(&case).expect_err("must be refused");
            let shown = format!("{error} {error:?}");
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains(REDACTED), "{shown}");
        }
    }
}

//! Built-in policy: the connection string a connected registry syncs with is complete and
//! reaches the parent over https. The host puts it in the review parsed, password redacted:
//! `object.protected.connectionString = {connectedRegistryName, auth: {kind: "sync-token",
//! tokenName, password} | {kind: "managed-identity", clientId}, parentGatewayEndpoint,
//! parentEndpointProtocol}`. Plain http is allowed, with a warning, only when the setting
//! `allowHttp` is true.

use serde::Deserialize;
use wasm_guest::serde_json::Value;
use wasm_guest::{Review, Verdict, accept, fail, parse_settings, reject};

/// No `connectionString` in the protected settings.
pub const CONNECTION_STRING_MISSING: &str = "CONNECTION_STRING_MISSING";
/// `connectionString` is not in the parsed form (an object).
pub const CONNECTION_STRING_UNREADABLE: &str = "CONNECTION_STRING_UNREADABLE";
/// A part of the connection string is absent or empty.
pub const CONNECTION_STRING_PART_MISSING: &str = "CONNECTION_STRING_PART_MISSING";
/// The parent is reached over something other than https (and http is not allowed).
pub const PARENT_PROTOCOL_NOT_HTTPS: &str = "PARENT_PROTOCOL_NOT_HTTPS";
/// Warning: the parent is reached over http, as `allowHttp` permits.
pub const PARENT_PROTOCOL_HTTP: &str = "PARENT_PROTOCOL_HTTP";

/// The settings a policy set may give; absent keys take the defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct ConnectionStringSettings {
    allow_http: bool,
}

/// A part of the parsed connection string: its path of keys there, the review field that names
/// it, and its key in the text form.
struct Part {
    path: &'static [&'static str],
    field: &'static str,
    key: &'static str,
}

impl Part {
    /// The part's value in `connection`, if present.
    fn in_connection<'a>(&self, connection: &'a Value) -> Option<&'a Value> {
        self.path
            .iter()
            .try_fold(connection, |value, key| value.get(key))
    }
}

const NAME: Part = Part {
    path: &["connectedRegistryName"],
    field: "connectionString.connectedRegistryName",
    key: "ConnectedRegistryName",
};
const ENDPOINT: Part = Part {
    path: &["parentGatewayEndpoint"],
    field: "connectionString.parentGatewayEndpoint",
    key: "ParentGatewayEndpoint",
};
const PROTOCOL: Part = Part {
    path: &["parentEndpointProtocol"],
    field: "connectionString.parentEndpointProtocol",
    key: "ParentEndpointProtocol",
};
const TOKEN_NAME: Part = Part {
    path: &["auth", "tokenName"],
    field: "connectionString.auth.tokenName",
    key: "SyncTokenName",
};
const TOKEN_PASSWORD: Part = Part {
    path: &["auth", "password"],
    field: "connectionString.auth.password",
    key: "SyncTokenPassword",
};
const CLIENT_ID: Part = Part {
    path: &["auth", "clientId"],
    field: "connectionString.auth.clientId",
    key: "ManagedIdentityClientId",
};

fn evaluate(review: &Review) -> Verdict {
    let settings: ConnectionStringSettings =
        parse_settings(&review.settings).unwrap_or_else(|reason| fail(&reason));
    let Some(connection) = review.protected_setting("connectionString") else {
        return reject(
            CONNECTION_STRING_MISSING,
            "no connectionString is given in the protected settings: add the one \
             `az acr connected-registry get-settings` prints",
            Some("connectionString"),
        );
    };
    if !connection.is_object() {
        return reject(
            CONNECTION_STRING_UNREADABLE,
            "connectionString is not in the parsed form the host sends ({connectedRegistryName, \
             auth, parentGatewayEndpoint, parentEndpointProtocol}), so its parts cannot be checked",
            Some("connectionString"),
        );
    }
    let text = |part: &Part| {
        part.in_connection(connection)
            .and_then(Value::as_str)
            .filter(|text| !text.trim().is_empty())
    };
    let mut verdict = accept();
    let missing = |verdict: Verdict, field: &str, what: &str| {
        verdict.reject(
            CONNECTION_STRING_PART_MISSING,
            &format!(
                "the connection string has no {what}: use the complete connection string \
                 `az acr connected-registry get-settings` prints"
            ),
            Some(field),
        )
    };
    if text(&NAME).is_none() {
        verdict = missing(verdict, NAME.field, NAME.key);
    }
    let auth_kind = connection.get("auth").and_then(|auth| auth.get("kind"));
    let auth_parts: &[Part] = match auth_kind.and_then(Value::as_str) {
        Some("sync-token") => &[TOKEN_NAME, TOKEN_PASSWORD],
        Some("managed-identity") => &[CLIENT_ID],
        _ => {
            verdict = missing(
                verdict,
                "connectionString.auth",
                "credentials (SyncTokenName and SyncTokenPassword, or ManagedIdentityClientId)",
            );
            &[]
        }
    };
    for part in auth_parts.iter().chain([&ENDPOINT, &PROTOCOL]) {
        if text(part).is_none() {
            verdict = missing(verdict, part.field, part.key);
        }
    }
    match text(&PROTOCOL) {
        Some(protocol) if protocol.eq_ignore_ascii_case("https") => verdict,
        Some(protocol) if protocol.eq_ignore_ascii_case("http") && settings.allow_http => verdict
            .warn(
                PARENT_PROTOCOL_HTTP,
                "the connected registry reaches its parent over http, as allowHttp permits: \
                 tokens and images travel unencrypted",
                Some("connectionString.parentEndpointProtocol"),
            ),
        Some(protocol) if protocol.eq_ignore_ascii_case("http") => verdict.reject(
            PARENT_PROTOCOL_NOT_HTTPS,
            "the connection string's ParentEndpointProtocol is http, so the connected registry \
             would sync with its parent unencrypted: use https, or set allowHttp: true in this \
             policy's settings",
            Some("connectionString.parentEndpointProtocol"),
        ),
        Some(protocol) => verdict.reject(
            PARENT_PROTOCOL_NOT_HTTPS,
            &format!("the connection string's ParentEndpointProtocol is `{protocol}`: use https"),
            Some("connectionString.parentEndpointProtocol"),
        ),
        None => verdict,
    }
}

fn validate_settings(settings: &Value) -> Result<(), String> {
    parse_settings::<ConnectionStringSettings>(settings).map(drop)
}

wasm_guest::export_policy! {
    metadata: include_str!("../metadata.json"),
    evaluate: evaluate,
    validate_settings: validate_settings,
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_guest::serde_json::{self, json};

    fn sync_token() -> Value {
        json!({
            "connectedRegistryName": "myconnectedregistry",
            "auth": { "kind": "sync-token", "tokenName": "myconnectedregistry-sync-token", "password": "<redacted>" },
            "parentGatewayEndpoint": "myregistry.eastus.data.azurecr.io",
            "parentEndpointProtocol": "https"
        })
    }

    fn review(connection_string: Value, settings: Value) -> Review {
        serde_json::from_value(json!({
            "apiVersion": "acr.policy/v1",
            "operation": "deploy",
            "subject": "connected-registry",
            "object": { "protected": { "connectionString": connection_string } },
            "settings": settings
        }))
        .expect("test review parses")
    }

    fn changed(changes: &[(&str, Value)]) -> Value {
        let mut connection = sync_token();
        for (pointer, value) in changes {
            *connection
                .pointer_mut(pointer)
                .expect("the test changes an existing part") = value.clone();
        }
        connection
    }

    fn violations(verdict: &Verdict) -> Vec<(&str, Option<&str>)> {
        assert_eq!(verdict.allowed, verdict.violations.is_empty());
        verdict
            .violations
            .iter()
            .map(|violation| (violation.code.as_str(), violation.field.as_deref()))
            .collect()
    }

    #[test]
    fn complete_https_connection_strings_are_allowed() {
        assert_eq!(evaluate(&review(sync_token(), Value::Null)), accept());
        let identity = changed(&[(
            "/auth",
            json!({ "kind": "managed-identity", "clientId": "0000-1111" }),
        )]);
        assert_eq!(evaluate(&review(identity, Value::Null)), accept());
        let upper = changed(&[("/parentEndpointProtocol", json!("HTTPS"))]);
        assert_eq!(evaluate(&review(upper, Value::Null)), accept());
    }

    #[test]
    fn a_missing_or_unparsed_connection_string_is_denied() {
        assert_eq!(
            violations(&evaluate(&review(Value::Null, Value::Null))),
            vec![(CONNECTION_STRING_MISSING, Some("connectionString"))]
        );
        assert_eq!(
            violations(&evaluate(&review(json!("<redacted>"), Value::Null))),
            vec![(CONNECTION_STRING_UNREADABLE, Some("connectionString"))]
        );
    }

    #[test]
    fn every_missing_part_is_named() {
        let gaps = changed(&[
            ("/connectedRegistryName", json!("")),
            ("/auth/password", Value::Null),
            ("/parentGatewayEndpoint", json!(" ")),
        ]);
        assert_eq!(
            violations(&evaluate(&review(gaps, Value::Null))),
            vec![
                (
                    CONNECTION_STRING_PART_MISSING,
                    Some("connectionString.connectedRegistryName")
                ),
                (
                    CONNECTION_STRING_PART_MISSING,
                    Some("connectionString.auth.password")
                ),
                (
                    CONNECTION_STRING_PART_MISSING,
                    Some("connectionString.parentGatewayEndpoint")
                ),
            ]
        );
        let identity_without_id = changed(&[("/auth", json!({ "kind": "managed-identity" }))]);
        assert_eq!(
            violations(&evaluate(&review(identity_without_id, Value::Null))),
            vec![(
                CONNECTION_STRING_PART_MISSING,
                Some("connectionString.auth.clientId")
            )]
        );
        let no_auth = changed(&[("/auth", json!({ "kind": "certificate" }))]);
        assert_eq!(
            violations(&evaluate(&review(no_auth, Value::Null))),
            vec![(
                CONNECTION_STRING_PART_MISSING,
                Some("connectionString.auth")
            )]
        );
        let no_protocol = changed(&[("/parentEndpointProtocol", Value::Null)]);
        assert_eq!(
            violations(&evaluate(&review(no_protocol, Value::Null))),
            vec![(
                CONNECTION_STRING_PART_MISSING,
                Some("connectionString.parentEndpointProtocol")
            )]
        );
    }

    #[test]
    fn http_needs_allow_http_and_then_warns() {
        let http = changed(&[("/parentEndpointProtocol", json!("http"))]);
        assert_eq!(
            violations(&evaluate(&review(http.clone(), Value::Null))),
            vec![(
                PARENT_PROTOCOL_NOT_HTTPS,
                Some("connectionString.parentEndpointProtocol")
            )]
        );
        let allowed = evaluate(&review(http, json!({ "allowHttp": true })));
        assert!(allowed.allowed);
        assert_eq!(allowed.warnings.len(), 1);
        assert_eq!(allowed.warnings[0].code, PARENT_PROTOCOL_HTTP);
    }

    #[test]
    fn other_protocols_are_denied_even_with_allow_http() {
        let ftp = changed(&[("/parentEndpointProtocol", json!("ftp"))]);
        let verdict = evaluate(&review(ftp, json!({ "allowHttp": true })));
        assert_eq!(
            violations(&verdict),
            vec![(
                PARENT_PROTOCOL_NOT_HTTPS,
                Some("connectionString.parentEndpointProtocol")
            )]
        );
        assert!(verdict.violations[0].message.contains("`ftp`"));
    }

    #[test]
    fn settings_are_validated() {
        assert_eq!(validate_settings(&Value::Null), Ok(()));
        assert_eq!(validate_settings(&json!({ "allowHttp": true })), Ok(()));
        assert_eq!(
            validate_settings(&json!({ "allowHttp": "yes" })),
            Err("invalid settings: invalid type: string \"yes\", expected a boolean".to_owned())
        );
        assert_eq!(
            validate_settings(&json!({ "allowHTTP": true })),
            Err("invalid settings: unknown field `allowHTTP`, expected `allowHttp`".to_owned())
        );
    }
}
